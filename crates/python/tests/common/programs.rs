//! Random small programs in the subset the model runs, written from a sequence of choices (the
//! sequence is what proptest generates and shrinks: a choice of 0 is always the simplest
//! option, so a shrunk sequence gives a short program).
//!
//! Values are kept in variables of known kinds so that a program runs without an exception:
//! ints stay small (stored modulo a prime; big ints appear only as literals), strs and lists
//! are cut to a few items when stored, loops run at most three times.

/// The kinds of value a variable holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Str,
    List,
    Tuple,
    Dict,
    /// Anything (a loop variable).
    Any,
}

const KINDS: [Kind; 5] = [Kind::Int, Kind::Str, Kind::List, Kind::Tuple, Kind::Dict];

/// A function the program defined: its name, its call shape, what it returns.
#[derive(Clone, Debug)]
struct Def {
    name: String,
    shape: Shape,
    returns: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// `f(a, b=[...])`: an int and a list.
    IntList,
    /// `f(*args, **kw)`.
    Varargs,
    /// A closure `inner(b)` made by a maker, or a lambda of one parameter.
    One,
}

/// The names a scope can read, and those it may assign, by kind.
#[derive(Clone, Debug, Default)]
struct Scope {
    vars: Vec<(String, Kind)>,
    /// Read-only names (loop counters, loop variables).
    fixed: Vec<(String, Kind)>,
    defs: Vec<Def>,
}

impl Scope {
    fn module() -> Scope {
        let vars = [
            ("i0", Kind::Int),
            ("i1", Kind::Int),
            ("s0", Kind::Str),
            ("s1", Kind::Str),
            ("l0", Kind::List),
            ("l1", Kind::List),
            ("t0", Kind::Tuple),
            ("d0", Kind::Dict),
        ];
        Scope {
            vars: vars.iter().map(|&(n, k)| (n.to_string(), k)).collect(),
            ..Scope::default()
        }
    }

    fn readable(&self, kind: Kind) -> Vec<String> {
        self.vars
            .iter()
            .chain(&self.fixed)
            .filter(|(_, k)| *k == kind || kind == Kind::Any)
            .map(|(n, _)| n.clone())
            .collect()
    }

    fn assignable(&self, kind: Kind) -> Vec<String> {
        self.vars
            .iter()
            .filter(|(_, k)| *k == kind)
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// Writes a program from `choices`.
pub struct Gen<'a> {
    choices: &'a [u32],
    at: usize,
    out: String,
    indent: usize,
    fresh: u32,
    /// Statements written so far.
    statements: usize,
    /// Which statement raises instead, if one does.
    fail_at: Option<usize>,
    /// How many `try` statements the statement being written is inside: none raises there
    /// (an exception a `try` catches is not modelled yet).
    in_try: u32,
    /// Whether `try` statements are written (the model compiles them for 3.11 and 3.12 only).
    tries: bool,
}

impl<'a> Gen<'a> {
    /// The program the choices describe; with `fail_at`, statement `fail_at` (counted from 1
    /// in the order they are written) is one that raises an exception if it runs: a subscript
    /// out of range, a missing key, a bad operand, a call with too many arguments, an item of a
    /// comprehension. `tries`: whether `try` statements are written.
    pub fn program(choices: &'a [u32], fail_at: Option<usize>, tries: bool) -> String {
        let mut g = Gen {
            choices,
            at: 0,
            out: String::new(),
            indent: 0,
            fresh: 0,
            statements: 0,
            fail_at,
            in_try: 0,
            tries,
        };
        g.module();
        g.out
    }

    /// A statement that raises, using what the scope has.
    fn raising(&mut self, scope: &Scope) {
        let l = self.expr(scope, Kind::List, 1);
        let e = self.expr(scope, Kind::Any, 1);
        let line = match self.pick(8) {
            0 => format!("print(len({l}), ({l})[100])"),
            1 => format!("print([{e}, ({l})[100]])"),
            2 => format!("x = {{'k': {e}}}['missing']"),
            3 => format!("print({e}, 'a' + 1)"),
            4 => format!("print([[x, {e}] for x in ({l}) + [0]][100])"),
            5 => format!("print([x[100] for x in [{l}]])"),
            6 => format!("a, b = ({l}) + [1, 2, 3]"),
            _ => match scope.defs.first() {
                Some(f) => format!("print({e}, {}(1, 2, 3, 4, 5, 6))", f.name.clone()),
                None => format!("print({e}, 1 // 0)"),
            },
        };
        self.line(&line);
    }

    fn pick(&mut self, n: usize) -> usize {
        let c = self.choices.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        c as usize % n
    }

    fn exhausted(&self) -> bool {
        self.at >= self.choices.len()
    }

    fn line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn fresh(&mut self, stem: &str) -> String {
        self.fresh += 1;
        format!("{stem}{}", self.fresh)
    }

    fn module(&mut self) {
        let mut scope = Scope::module();
        self.line("import sys");
        for (name, kind) in scope.vars.clone() {
            let e = self.literal(kind);
            self.line(&format!("{name} = {e}"));
        }
        let ndefs = self.pick(4);
        for _ in 0..ndefs {
            self.definition(&mut scope);
        }
        while !self.exhausted() {
            self.statement(&mut scope, 2);
        }
        self.line("print(i0, i1, s0, s1, l0, l1, t0, d0)");
    }

    /// A function, a closure maker or a lambda, at module level.
    fn definition(&mut self, scope: &mut Scope) {
        match self.pick(5) {
            4 => {
                // A function that rebinds a module global.
                let name = self.fresh("gl");
                self.line(&format!("def {name}(q):"));
                self.indent += 1;
                self.line("global l1");
                self.line("l1 = [q, l1][:6]");
                self.line("return l1");
                self.indent -= 1;
                scope.defs.push(Def {
                    name,
                    shape: Shape::One,
                    returns: Kind::List,
                });
            }
            0 => self.function(scope),
            1 => self.closure_maker(scope),
            2 => {
                let name = self.fresh("lam");
                let body = self.expr(scope, Kind::Any, 1);
                self.line(&format!("{name} = lambda q: [q, {body}]"));
                scope.defs.push(Def {
                    name,
                    shape: Shape::One,
                    returns: Kind::List,
                });
            }
            _ => {
                let name = self.fresh("va");
                self.line(&format!("def {name}(*args, **kw):"));
                self.indent += 1;
                self.line("return [args, kw, len(args)]");
                self.indent -= 1;
                scope.defs.push(Def {
                    name,
                    shape: Shape::Varargs,
                    returns: Kind::List,
                });
            }
        }
    }

    /// `def f(a, b=[...]):` with locals of every kind, a few statements, a return.
    fn function(&mut self, scope: &mut Scope) {
        let name = self.fresh("f");
        let default = self.literal(Kind::List);
        self.line(&format!("def {name}(a, b={default}):"));
        self.indent += 1;
        let mut inner = Scope {
            vars: vec![("a".into(), Kind::Int), ("b".into(), Kind::List)],
            fixed: Vec::new(),
            defs: Vec::new(),
        };
        for (local, kind) in [("x", Kind::Str), ("y", Kind::Tuple), ("z", Kind::Dict)] {
            let e = self.expr(&inner, kind, 1);
            self.line(&format!("{local} = {e}"));
            inner.vars.push((local.into(), kind));
        }
        let n = 1 + self.pick(4);
        for _ in 0..n {
            self.statement(&mut inner, 1);
        }
        let returns = KINDS[self.pick(KINDS.len())];
        let r = self.expr(&inner, returns, 1);
        self.line(&format!("return {r}"));
        self.indent -= 1;
        scope.defs.push(Def {
            name,
            shape: Shape::IntList,
            returns,
        });
    }

    /// `def mk(a): v = ...; def inner(b): return [a, v, b]; return inner`, and one closure
    /// made by it.
    fn closure_maker(&mut self, scope: &mut Scope) {
        let maker = self.fresh("mk");
        self.line(&format!("def {maker}(a):"));
        self.indent += 1;
        let inner_scope = Scope {
            vars: vec![("a".into(), Kind::Int)],
            ..Scope::default()
        };
        let v = self.expr(&inner_scope, Kind::Any, 1);
        self.line(&format!("v = {v}"));
        self.line("def inner(b):");
        self.indent += 1;
        self.line("return [a, v, b]");
        self.indent -= 1;
        if self.pick(2) == 1 {
            self.line("v = [v]");
        }
        self.line("return inner");
        self.indent -= 1;
        let closure = self.fresh("g");
        let arg = self.expr(scope, Kind::Int, 1);
        self.line(&format!("{closure} = {maker}({arg})"));
        scope.defs.push(Def {
            name: closure,
            shape: Shape::One,
            returns: Kind::List,
        });
    }

    fn literal(&mut self, kind: Kind) -> String {
        let kind = if kind == Kind::Any {
            KINDS[self.pick(KINDS.len())]
        } else {
            kind
        };
        let options: &[&str] = match kind {
            // Big ints only inside containers: sum() of them is not modelled.
            Kind::Int => &["0", "1000", "-7", "256", "257", "123456789012345"],
            Kind::Str => &[
                "'a'",
                "'spam'",
                "''",
                "'a longer string of text'",
                "'\u{e9}t\u{e9}'",
            ],
            Kind::List => &["[]", "[1000, 'spam']", "[[1, 2], (3,)]", "[2 ** 70]"],
            Kind::Tuple => &[
                "()",
                "(1000,)",
                "(1, 'a', [2])",
                "('x', 'y')",
                "(2 ** 70, -1)",
            ],
            Kind::Dict => &["{}", "{'k': 1000}", "{'a': [1], 'b': 'c'}"],
            Kind::Any => unreachable!("chosen above"),
        };
        options[self.pick(options.len())].to_string()
    }

    fn var(&mut self, scope: &Scope, kind: Kind) -> Option<String> {
        let names = scope.readable(kind);
        (!names.is_empty()).then(|| names[self.pick(names.len())].clone())
    }

    /// An expression of `kind`, at most `depth` operators deep.
    fn expr(&mut self, scope: &Scope, kind: Kind, depth: u32) -> String {
        if kind == Kind::Any {
            if let Some(v) = self
                .pick(3)
                .eq(&0)
                .then(|| self.var(scope, Kind::Any))
                .flatten()
            {
                return v;
            }
            let k = KINDS[self.pick(KINDS.len())];
            return self.expr(scope, k, depth);
        }
        match self.pick(3) {
            0 => return self.literal(kind),
            1 => {
                if let Some(v) = self.var(scope, kind) {
                    return v;
                }
                return self.literal(kind);
            }
            _ if depth == 0 => return self.literal(kind),
            _ => {}
        }
        let d = depth - 1;
        let e = match kind {
            Kind::Int => self.int_expr(scope, d),
            Kind::Str => self.str_expr(scope, d),
            Kind::List => self.list_expr(scope, d),
            Kind::Tuple => self.tuple_expr(scope, d),
            Kind::Dict => self.dict_expr(scope, d),
            Kind::Any => unreachable!("chosen above"),
        };
        format!("({e})")
    }

    fn int_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.pick(15) {
            0 => format!("len({})", self.expr(scope, Kind::List, d)),
            1 => format!(
                "{} + {}",
                self.expr(scope, Kind::Int, d),
                self.expr(scope, Kind::Int, d)
            ),
            2 => format!(
                "({} - {})",
                self.expr(scope, Kind::Int, d),
                self.expr(scope, Kind::Int, d)
            ),
            3 => format!("sys.getrefcount({})", self.expr(scope, Kind::Any, d)),
            4 => format!("abs({}) // 3", self.expr(scope, Kind::Int, d)),
            5 => format!(
                "min({}, {})",
                self.expr(scope, Kind::Int, d),
                self.expr(scope, Kind::Int, d)
            ),
            6 => format!("len({})", self.expr(scope, Kind::Str, d)),
            7 => self.call(scope, Kind::Int, d),
            8 => format!("sys.getsizeof({})", self.expr(scope, Kind::Any, d)),
            9 => format!(
                "(1 if {} == {} else 0)",
                self.expr(scope, Kind::Any, d),
                self.expr(scope, Kind::Any, d)
            ),
            10 => format!(
                "({} if {} in {} else 0)",
                self.expr(scope, Kind::Int, d),
                self.expr(scope, Kind::Any, d),
                self.expr(scope, Kind::List, d)
            ),
            11 => format!(
                "({} or {})",
                self.expr(scope, Kind::Int, d),
                self.expr(scope, Kind::Int, d)
            ),
            12 => format!("ord(chr(65 + {} % 26))", self.expr(scope, Kind::Int, d)),
            13 => format!(
                "max({}, sum(({}, {})))",
                self.expr(scope, Kind::Int, d),
                self.expr(scope, Kind::Int, d),
                self.expr(scope, Kind::Int, d)
            ),
            _ => format!("int(str({}))", self.expr(scope, Kind::Int, d)),
        }
    }

    fn str_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.pick(12) {
            0 => format!(
                "{} + {}",
                self.expr(scope, Kind::Str, d),
                self.expr(scope, Kind::Str, d)
            ),
            1 => format!("{}[1:]", self.expr(scope, Kind::Str, d)),
            2 => format!("str({})", self.expr(scope, Kind::Int, d)),
            // Only names and literals inside: an f-string within one of the same quotes is 3.12's.
            3 => format!(
                "f\"{{({})}}-{{({})!r}}\"",
                self.expr(scope, Kind::Int, 0),
                self.expr(scope, Kind::Any, 0)
            ),
            4 => format!("repr({})", self.expr(scope, Kind::Any, d)),
            5 => format!(
                "'-'.join([{}, {}])",
                self.expr(scope, Kind::Str, d),
                self.expr(scope, Kind::Str, d)
            ),
            6 => format!("{}.replace('a', 'b')", self.expr(scope, Kind::Str, d)),
            7 => format!("{}[::-1]", self.expr(scope, Kind::Str, d)),
            8 => format!("sys.intern({})", self.expr(scope, Kind::Str, d)),
            9 => format!("chr(97 + {} % 26)", self.expr(scope, Kind::Int, d)),
            10 => format!(
                "({} if {} else {})",
                self.expr(scope, Kind::Str, d),
                self.expr(scope, Kind::Any, d),
                self.expr(scope, Kind::Str, d)
            ),
            _ => format!(
                "'%s:%d' % ({}, {})",
                self.expr(scope, Kind::Str, d),
                self.expr(scope, Kind::Int, d)
            ),
        }
    }

    fn list_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.pick(13) {
            0 => format!(
                "[{}, {}]",
                self.expr(scope, Kind::Any, d),
                self.expr(scope, Kind::Any, d)
            ),
            1 => format!(
                "{} + {}",
                self.expr(scope, Kind::List, d),
                self.expr(scope, Kind::List, d)
            ),
            2 => format!("{}[1:]", self.expr(scope, Kind::List, d)),
            3 => format!("[x for x in {}]", self.expr(scope, Kind::List, d)),
            4 => format!(
                "[[x, {}] for x in {}]",
                self.expr(scope, Kind::Any, d),
                self.expr(scope, Kind::List, d)
            ),
            5 => format!("[x for x in {} if x]", self.expr(scope, Kind::Tuple, d)),
            6 => format!("list({})", self.expr(scope, Kind::Tuple, d)),
            7 => format!("{}[::-1]", self.expr(scope, Kind::List, d)),
            8 => format!("[{}] * 2", self.expr(scope, Kind::Any, d)),
            9 => format!(
                "sorted(({}, {}, 3))",
                self.expr(scope, Kind::Int, d),
                self.expr(scope, Kind::Int, d)
            ),
            10 => format!("[c for c in {}]", self.expr(scope, Kind::Str, d)),
            11 => format!("[i for i in range({} % 4)]", self.expr(scope, Kind::Int, d)),
            _ => self.call(scope, Kind::List, d),
        }
    }

    fn tuple_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.pick(5) {
            0 => format!("({},)", self.expr(scope, Kind::Any, d)),
            1 => format!(
                "({}, {})",
                self.expr(scope, Kind::Any, d),
                self.expr(scope, Kind::Any, d)
            ),
            2 => format!(
                "{} + {}",
                self.expr(scope, Kind::Tuple, d),
                self.expr(scope, Kind::Tuple, d)
            ),
            3 => format!("tuple({})", self.expr(scope, Kind::List, d)),
            _ => format!("{}[:2]", self.expr(scope, Kind::Tuple, d)),
        }
    }

    fn dict_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.pick(2) {
            0 => format!(
                "{{{}: {}}}",
                self.expr(scope, Kind::Str, d),
                self.expr(scope, Kind::Any, d)
            ),
            _ => format!(
                "{{'k': {}, {}: {}}}",
                self.expr(scope, Kind::Any, d),
                self.expr(scope, Kind::Str, d),
                self.expr(scope, Kind::Any, d)
            ),
        }
    }

    /// A call of a function the program defined that returns `kind`, else a literal.
    fn call(&mut self, scope: &Scope, kind: Kind, d: u32) -> String {
        let defs: Vec<Def> = scope
            .defs
            .iter()
            .filter(|f| f.returns == kind)
            .cloned()
            .collect();
        if defs.is_empty() {
            return self.literal(kind);
        }
        let f = defs[self.pick(defs.len())].clone();
        match f.shape {
            Shape::IntList => match self.pick(3) {
                0 => format!("{}({})", f.name, self.expr(scope, Kind::Int, d)),
                1 => format!(
                    "{}({}, {})",
                    f.name,
                    self.expr(scope, Kind::Int, d),
                    self.expr(scope, Kind::List, d)
                ),
                _ => format!(
                    "{}(b={}, a={})",
                    f.name,
                    self.expr(scope, Kind::List, d),
                    self.expr(scope, Kind::Int, d)
                ),
            },
            Shape::Varargs => format!(
                "{}({}, {}, key={})",
                f.name,
                self.expr(scope, Kind::Any, d),
                self.expr(scope, Kind::Any, d),
                self.expr(scope, Kind::Any, d)
            ),
            Shape::One => format!("{}({})", f.name, self.expr(scope, Kind::Any, d)),
        }
    }

    /// A statement, with blocks at most `depth` deep.
    fn statement(&mut self, scope: &mut Scope, depth: u32) {
        self.statements += 1;
        if self.fail_at == Some(self.statements) && self.in_try == 0 {
            return self.raising(scope);
        }
        let choice = self.pick(16);
        match choice {
            0 => self.assignment(scope),
            1 => {
                let e = self.expr(scope, Kind::Any, 2);
                self.line(&format!("print({e})"));
            }
            2 => {
                let e = self.expr(scope, Kind::Any, 2);
                self.line(&format!("print(sys.getrefcount({e}))"));
            }
            3 => self.list_mutation(scope),
            4 => self.dict_mutation(scope),
            5 => self.augmented(scope),
            6 => {
                let tmp = self.fresh("tmp");
                let e = self.expr(scope, Kind::Any, 2);
                self.line(&format!("{tmp} = {e}"));
                self.line(&format!("del {tmp}"));
            }
            7 => {
                let (Some(a), Some(b)) = (
                    self.assign_target(scope, Kind::Int),
                    self.assign_target(scope, Kind::List),
                ) else {
                    return;
                };
                let e1 = self.expr(scope, Kind::Int, 1);
                let e2 = self.expr(scope, Kind::List, 1);
                self.line(&format!("{a}, {b} = {e1} % 1009, ({e2})[:4]"));
            }
            8 if depth > 0 => self.for_loop(scope, depth),
            9 if depth > 0 => self.while_loop(scope, depth),
            10 if depth > 0 => {
                let c = self.expr(scope, Kind::Any, 1);
                self.line(&format!("if {c}:"));
                self.block(scope, depth);
                self.line("else:");
                self.block(scope, depth);
            }
            11 if !scope.defs.is_empty() => {
                let kind = scope.defs[self.pick(scope.defs.len())].returns;
                let e = self.call(scope, kind, 2);
                self.line(&format!("print({e})"));
            }
            12 => {
                let e = self.expr(scope, Kind::Any, 2);
                let f = self.expr(scope, Kind::Any, 1);
                self.line(&format!("print({e}, {f}, sep='|')"));
            }
            13 => {
                // A function made and dropped where it stands (in a loop, made again).
                let name = self.fresh("h");
                // A name or a literal: on 3.12 a comprehension in the default of a def inside
                // a function is not modelled.
                let e = self.expr(scope, Kind::Any, 0);
                self.line(&format!("def {name}(q, r={e}):"));
                self.indent += 1;
                self.line("return [q, r]");
                self.indent -= 1;
                let a = self.expr(scope, Kind::Any, 1);
                self.line(&format!("print({name}({a}))"));
                self.line(&format!("del {name}"));
            }
            14 if depth > 0 && self.tries => self.try_statement(scope, depth),
            _ => self.assignment(scope),
        }
    }

    /// `try` with `finally`, or with `except` clauses (a tuple, a name) and `else`: the body
    /// raises nothing, so the handlers are compiled and never run.
    fn try_statement(&mut self, scope: &mut Scope, depth: u32) {
        self.in_try += 1;
        self.line("try:");
        self.block(scope, depth);
        if self.pick(2) == 0 {
            self.line("finally:");
            self.block(scope, depth);
        } else {
            let e = self.fresh("e");
            self.line(&format!("except (KeyError, IndexError) as {e}:"));
            self.block(scope, depth);
            self.line("except ValueError:");
            self.block(scope, depth);
            self.line("else:");
            self.block(scope, depth);
        }
        self.in_try -= 1;
    }

    fn block(&mut self, scope: &mut Scope, depth: u32) {
        self.indent += 1;
        let before = self.out.len();
        let n = 1 + self.pick(2);
        for _ in 0..n {
            self.statement(scope, depth - 1);
        }
        if self.out.len() == before {
            self.line("pass");
        }
        self.indent -= 1;
    }

    fn assign_target(&mut self, scope: &Scope, kind: Kind) -> Option<String> {
        let names = scope.assignable(kind);
        (!names.is_empty()).then(|| names[self.pick(names.len())].clone())
    }

    /// `v = e`, bounded: ints modulo a prime, strs and lists cut short.
    fn assignment(&mut self, scope: &mut Scope) {
        let kind = KINDS[self.pick(KINDS.len())];
        let Some(v) = self.assign_target(scope, kind) else {
            return;
        };
        let e = self.expr(scope, kind, 3);
        let bounded = match kind {
            Kind::Int => format!("({e}) % 100003"),
            Kind::Str => format!("({e})[:24]"),
            Kind::List | Kind::Tuple => format!("({e})[:6]"),
            _ => e,
        };
        self.line(&format!("{v} = {bounded}"));
    }

    fn list_mutation(&mut self, scope: &mut Scope) {
        let Some(l) = self.assign_target(scope, Kind::List) else {
            return;
        };
        let e = self.expr(scope, Kind::Any, 1);
        match self.pick(5) {
            0 => self.line(&format!("{l}.append({e})")),
            1 => self.line(&format!("if {l}: {l}.pop()")),
            2 => self.line(&format!("if {l}: {l}[0] = {e}")),
            3 => self.line(&format!("if {l}: del {l}[-1]")),
            _ => self.line(&format!("if len({l}) > 1: print({l}[1])")),
        }
    }

    fn dict_mutation(&mut self, scope: &mut Scope) {
        let Some(d) = self.assign_target(scope, Kind::Dict) else {
            return;
        };
        let k = self.expr(scope, Kind::Str, 1);
        let e = self.expr(scope, Kind::Any, 1);
        match self.pick(3) {
            0 => self.line(&format!("{d}[{k}] = {e}")),
            1 => self.line(&format!("if {k} in {d}: del {d}[{k}]")),
            _ => self.line(&format!("if 'k' in {d}: print({d}['k'])")),
        }
    }

    fn augmented(&mut self, scope: &mut Scope) {
        let kind = [Kind::Int, Kind::Str, Kind::List][self.pick(3)];
        let Some(v) = self.assign_target(scope, kind) else {
            return;
        };
        let line = match kind {
            Kind::Int => format!("{v} += {}", ["1", "-3", "1000"][self.pick(3)]),
            Kind::Str => format!("{v} += {}", self.expr(scope, Kind::Str, 0)),
            _ => format!("{v} += [{}]", self.expr(scope, Kind::Any, 1)),
        };
        self.line(&line);
    }

    fn for_loop(&mut self, scope: &mut Scope, depth: u32) {
        let x = self.fresh("x");
        let (seq, kind) = match self.pick(3) {
            0 => (
                format!("({})[:3]", self.expr(scope, Kind::List, 1)),
                Kind::Any,
            ),
            1 => (
                format!("({})[:3]", self.expr(scope, Kind::Str, 1)),
                Kind::Str,
            ),
            _ => (
                format!("range({} % 4)", self.expr(scope, Kind::Int, 1)),
                Kind::Int,
            ),
        };
        self.line(&format!("for {x} in {seq}:"));
        scope.fixed.push((x, kind));
        self.block(scope, depth);
        scope.fixed.pop();
    }

    fn while_loop(&mut self, scope: &mut Scope, depth: u32) {
        let n = self.fresh("n");
        self.line(&format!("{n} = 0"));
        self.line(&format!("while {n} < 3:"));
        self.indent += 1;
        self.line(&format!("{n} += 1"));
        self.indent -= 1;
        scope.fixed.push((n, Kind::Int));
        self.block(scope, depth);
        scope.fixed.pop();
    }
}
