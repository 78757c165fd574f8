//! `Python/symtable.c`'s analysis of free variables: which names of a function (or a
//! comprehension) its nested scopes use, so that they live in cells, and which names a nested
//! scope takes from the scopes around it (its free variables, passed in a closure).
//!
//! A name a scope uses but does not bind is free in it; a nested scope's free names that the
//! scope does not bind are free in it too (they pass through it). At module level every free
//! name is a global; in a function, a free name a nested scope uses and the function binds is a
//! cell variable of the function and a free variable of the nested scope. Cell and free
//! variables are listed in sorted order, as `dictbytype` sorts them.

use std::collections::BTreeSet;

use rustpython_parser::ast::{self, Expr, Stmt};

/// The names bound by an assignment target.
pub(crate) fn target_names(t: &Expr, out: &mut Vec<String>) {
    match t {
        Expr::Name(n) if !out.iter().any(|x| x == n.id.as_str()) => {
            out.push(n.id.to_string());
        }
        Expr::Tuple(tu) => tu.elts.iter().for_each(|e| target_names(e, out)),
        Expr::List(l) => l.elts.iter().for_each(|e| target_names(e, out)),
        Expr::Starred(s) => target_names(&s.value, out),
        _ => {}
    }
}

/// What a scope's own code uses: the names it mentions, and the free names of the scopes
/// nested in it.
#[derive(Default, Debug)]
pub(crate) struct Uses {
    pub(crate) names: BTreeSet<String>,
    pub(crate) nested_free: BTreeSet<String>,
    /// 3.12 (PEP 709): a list comprehension is inlined, its names the scope's own.
    pub(crate) inline: bool,
}

impl Uses {
    pub(crate) fn stmts(&mut self, body: &[Stmt]) {
        for s in body {
            self.stmt(s);
        }
    }

    fn exprs(&mut self, es: &[Expr]) {
        for e in es {
            self.expr(e);
        }
    }

    pub(crate) fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::FunctionDef(f) => {
                // Decorators, defaults and annotations are evaluated here; the body is a
                // scope of its own.
                self.exprs(&f.decorator_list);
                for a in &f.args.args {
                    if let Some(d) = &a.default {
                        self.expr(d);
                    }
                    if let Some(ann) = &a.def.annotation {
                        self.expr(ann);
                    }
                }
                if let Some(r) = &f.returns {
                    self.expr(r);
                }
                self.nested_free.extend(function_free(f, self.inline));
            }
            Stmt::ClassDef(cd) => {
                // The bases are evaluated here; the body is a scope of its own.
                self.exprs(&cd.decorator_list);
                self.exprs(&cd.bases);
                self.nested_free.extend(class_free(cd, self.inline));
            }
            Stmt::Return(r) => {
                if let Some(v) = &r.value {
                    self.expr(v);
                }
            }
            Stmt::Assign(a) => {
                self.exprs(&a.targets);
                self.expr(&a.value);
            }
            Stmt::AugAssign(a) => {
                self.expr(&a.target);
                self.expr(&a.value);
            }
            Stmt::Expr(e) => self.expr(&e.value),
            Stmt::If(i) => {
                self.expr(&i.test);
                self.stmts(&i.body);
                self.stmts(&i.orelse);
            }
            Stmt::While(w) => {
                self.expr(&w.test);
                self.stmts(&w.body);
                self.stmts(&w.orelse);
            }
            Stmt::For(f) => {
                self.expr(&f.target);
                self.expr(&f.iter);
                self.stmts(&f.body);
                self.stmts(&f.orelse);
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    let bound = a.asname.as_ref().unwrap_or(&a.name);
                    self.names.insert(bound.to_string());
                }
            }
            Stmt::ImportFrom(i) => {
                for a in &i.names {
                    let bound = a.asname.as_ref().unwrap_or(&a.name);
                    self.names.insert(bound.to_string());
                }
            }
            Stmt::Try(t) => {
                self.stmts(&t.body);
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(ty) = &h.type_ {
                        self.expr(ty);
                    }
                    if let Some(name) = &h.name {
                        self.names.insert(name.to_string());
                    }
                    self.stmts(&h.body);
                }
                self.stmts(&t.orelse);
                self.stmts(&t.finalbody);
            }
            Stmt::Raise(r) => {
                for e in [&r.exc, &r.cause].into_iter().flatten() {
                    self.expr(e);
                }
            }
            _ => {}
        }
    }

    pub(crate) fn expr(&mut self, e: &Expr) {
        match e {
            Expr::Name(n) => {
                self.names.insert(n.id.to_string());
            }
            Expr::ListComp(lc) if self.inline => {
                for g in &lc.generators {
                    self.expr(&g.iter);
                    self.expr(&g.target);
                    self.exprs(&g.ifs);
                }
                self.expr(&lc.elt);
            }
            Expr::ListComp(lc) => {
                // The outermost iterable is evaluated in the enclosing scope.
                self.expr(&lc.generators[0].iter);
                self.nested_free.extend(listcomp_free(lc));
            }
            Expr::Lambda(l) => {
                // The defaults are evaluated here; the body is a scope of its own.
                for a in &l.args.args {
                    if let Some(d) = &a.default {
                        self.expr(d);
                    }
                }
                let f = crate::compile::lambda_function(l);
                self.nested_free.extend(function_free(&f, self.inline));
            }
            Expr::Attribute(a) => self.expr(&a.value),
            Expr::Call(c) => {
                self.expr(&c.func);
                self.exprs(&c.args);
                for k in &c.keywords {
                    self.expr(&k.value);
                }
            }
            Expr::BinOp(b) => {
                self.expr(&b.left);
                self.expr(&b.right);
            }
            Expr::UnaryOp(u) => self.expr(&u.operand),
            Expr::BoolOp(b) => self.exprs(&b.values),
            Expr::Compare(c) => {
                self.expr(&c.left);
                self.exprs(&c.comparators);
            }
            Expr::IfExp(x) => {
                self.expr(&x.test);
                self.expr(&x.body);
                self.expr(&x.orelse);
            }
            Expr::List(l) => self.exprs(&l.elts),
            Expr::Tuple(t) => self.exprs(&t.elts),
            Expr::Set(s) => self.exprs(&s.elts),
            Expr::Dict(d) => {
                for k in d.keys.iter().flatten() {
                    self.expr(k);
                }
                self.exprs(&d.values);
            }
            Expr::Subscript(s) => {
                self.expr(&s.value);
                self.expr(&s.slice);
            }
            Expr::Slice(s) => {
                for x in [&s.lower, &s.upper, &s.step].into_iter().flatten() {
                    self.expr(x);
                }
            }
            Expr::Starred(s) => self.expr(&s.value),
            Expr::JoinedStr(j) => self.exprs(&j.values),
            Expr::FormattedValue(f) => {
                self.expr(&f.value);
                if let Some(spec) = &f.format_spec {
                    self.expr(spec);
                }
            }
            _ => {}
        }
    }
}

/// The free names of a function: what it and its nested scopes use that it does not bind or
/// declare global.
pub(crate) fn function_free(f: &ast::StmtFunctionDef, inline: bool) -> BTreeSet<String> {
    let (bound, globals) = function_bindings(f, inline);
    let mut u = Uses {
        inline,
        ..Uses::default()
    };
    u.stmts(&f.body);
    u.names
        .into_iter()
        .chain(u.nested_free)
        .filter(|n| !bound.contains(n) && !globals.contains(n))
        .collect()
}

/// The free names of a class body: what it uses and does not bind, and every free name of
/// the functions in it. A class scope's names are not visible to the functions nested in it
/// (`analyze_block` passes them the enclosing function's bindings, not the class's), so a
/// method's free name passes through the class even when the class binds it.
pub(crate) fn class_free(cd: &ast::StmtClassDef, inline: bool) -> BTreeSet<String> {
    let mut bound = Vec::new();
    let mut globals = Vec::new();
    crate::compile::collect_locals(&cd.body, &mut bound, &mut globals, inline);
    let mut u = Uses {
        inline,
        ..Uses::default()
    };
    u.stmts(&cd.body);
    u.names
        .into_iter()
        .filter(|n| !bound.contains(n) && !globals.contains(n))
        .chain(u.nested_free)
        .collect()
}

/// `ste_needs_class_closure`: a method of the class uses `__class__` (or `super`, which
/// `symtable_visit_expr` makes use `__class__` implicitly).
pub(crate) fn class_needs_class_cell(cd: &ast::StmtClassDef) -> bool {
    let mut u = Uses::default();
    u.stmts(&cd.body);
    ["__class__", "super"]
        .iter()
        .any(|n| u.nested_free.contains(*n))
}

/// A function's parameters and the names its body binds, and the names it declares global.
/// On 3.12 (`inline`) the targets of its list comprehensions are its locals too, in the order
/// the compiler first emits them.
pub(crate) fn function_bindings(
    f: &ast::StmtFunctionDef,
    inline: bool,
) -> (Vec<String>, Vec<String>) {
    let mut bound: Vec<String> = f.args.args.iter().map(|a| a.def.arg.to_string()).collect();
    // symtable_visit_arguments: *args, then **kwargs, after the others.
    for v in [&f.args.vararg, &f.args.kwarg].into_iter().flatten() {
        bound.push(v.arg.to_string());
    }
    let mut globals = Vec::new();
    crate::compile::collect_locals(&f.body, &mut bound, &mut globals, inline);
    (bound, globals)
}

/// The names a list comprehension binds: `.0` and its targets.
pub(crate) fn listcomp_bindings(lc: &ast::ExprListComp) -> Vec<String> {
    let mut bound = vec![".0".to_string()];
    for g in &lc.generators {
        target_names(&g.target, &mut bound);
    }
    bound
}

/// What a list comprehension's own code uses (all but the outermost iterable).
pub(crate) fn listcomp_uses(lc: &ast::ExprListComp) -> Uses {
    let mut u = Uses::default();
    u.expr(&lc.elt);
    for (k, g) in lc.generators.iter().enumerate() {
        u.expr(&g.target);
        if k > 0 {
            u.expr(&g.iter);
        }
        u.exprs(&g.ifs);
    }
    u
}

/// The free names of a list comprehension.
pub(crate) fn listcomp_free(lc: &ast::ExprListComp) -> BTreeSet<String> {
    let bound = listcomp_bindings(lc);
    let u = listcomp_uses(lc);
    u.names
        .into_iter()
        .chain(u.nested_free)
        .filter(|n| !bound.contains(n))
        .collect()
}

/// The layout of a function's `localsplus`: `co_varnames` (parameters, then the other locals
/// that are not cells), the cells that are not parameters, then the free variables.
#[derive(Clone, Debug, Default)]
pub(crate) struct Layout {
    /// Every name, in `co_localsplusnames` order.
    pub(crate) names: Vec<String>,
    /// `co_cellvars`, sorted.
    pub(crate) cellvars: Vec<String>,
    /// `co_freevars`, sorted.
    pub(crate) freevars: Vec<String>,
    /// The parameters: the first names (`co_argcount` and the `*args`, `**kwargs` ones).
    pub(crate) nparams: usize,
}

impl Layout {
    /// `compute_localsplus_info` for a scope binding `bound` (its first `nargs` are the
    /// parameters), whose nested scopes use `nested_free`, and which takes `free` from the
    /// scopes around it.
    pub(crate) fn new(
        bound: &[String],
        nargs: usize,
        nested_free: &BTreeSet<String>,
        free: Vec<String>,
    ) -> Layout {
        let cellvars: Vec<String> = {
            let mut c: Vec<String> = bound
                .iter()
                .filter(|n| nested_free.contains(*n))
                .cloned()
                .collect();
            c.sort();
            c
        };
        let mut names: Vec<String> = bound
            .iter()
            .enumerate()
            .filter(|(k, n)| *k < nargs || !cellvars.contains(n))
            .map(|(_, n)| n.clone())
            .collect();
        for c in &cellvars {
            if !names.contains(c) {
                names.push(c.clone());
            }
        }
        let mut free = free;
        free.sort();
        names.extend(free.iter().cloned());
        Layout {
            names,
            cellvars,
            freevars: free,
            nparams: nargs,
        }
    }

    /// The `localsplus` index of `name`.
    pub(crate) fn index(&self, name: &str) -> Option<u32> {
        self.names.iter().position(|n| n == name).map(|i| i as u32)
    }

    /// 3.10's `localsplus` names: `co_varnames` (every local but the cells that are not
    /// parameters), then `co_cellvars`, then `co_freevars`; a parameter that is a cell is
    /// named twice.
    pub(crate) fn names_3_10(&self) -> Vec<String> {
        let nfast = self.names.len() - self.freevars.len();
        let varnames = self.names[..nfast]
            .iter()
            .enumerate()
            .filter(|(k, n)| *k < self.nparams || !self.cellvars.contains(n))
            .map(|(_, n)| n);
        varnames
            .chain(&self.cellvars)
            .chain(&self.freevars)
            .cloned()
            .collect()
    }

    /// 3.10's `LOAD_DEREF` argument: the index of `name` in `co_cellvars` then
    /// `co_freevars`.
    pub(crate) fn deref_index(&self, name: &str) -> Option<u32> {
        self.cellvars
            .iter()
            .chain(&self.freevars)
            .position(|n| n == name)
            .map(|i| i as u32)
    }

    /// Whether `name` is a cell or a free variable (`LOAD_DEREF`).
    pub(crate) fn is_deref(&self, name: &str) -> bool {
        self.cellvars.iter().any(|c| c == name) || self.freevars.iter().any(|c| c == name)
    }
}
