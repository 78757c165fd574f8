//! `Python/compile.c` and `Python/symtable.c`: from the AST to each version's instructions.
//!
//! ```text
//!  source --rustpython-parser--> AST --parser objects (pegen)--> constants and identifiers,
//!                                                                each held by the arena
//!         --symbols--> which names are local, global, imported
//!         --codegen--> one CodeUnit per module and function: instructions with lines,
//!                      co_consts (equal constants merged across the module, as
//!                      `merge_consts_recursive` does), co_names, co_varnames
//! ```
//!
//! The instructions are the ones CPython 3.11 emits for the subset the model runs (the blog's
//! and the book's programs); other versions are named as not modelled yet by
//! [`compile`]. Anything outside the subset is a [`RunError::NotModelled`] naming the construct
//! and its line.

use std::collections::HashMap;

use objects::Objects;
use rustpython_parser::ast::{self, Constant, Expr, Ranged, Stmt};

use crate::error::RunError;
use crate::pyarena::Arena;

/// One instruction, before offsets are assigned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instr {
    /// The opcode's name in the version's `opcode.opmap`.
    pub name: &'static str,
    /// Its argument (0 for instructions without one).
    pub arg: u32,
    /// The source line it belongs to.
    pub line: u32,
}

/// A constant of a code object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Const {
    /// An object (int, str, None, a tuple...).
    Object(u64),
    /// A nested code object: index into [`Compiled::units`].
    Code(usize),
}

/// A code object before it exists in memory.
#[derive(Clone, Debug)]
pub struct CodeUnit {
    /// `co_name`.
    pub name: String,
    /// `co_qualname`.
    pub qualname: String,
    /// `co_firstlineno`.
    pub firstlineno: u32,
    /// `co_argcount`.
    pub argcount: u32,
    /// Whether it is a function's code (`CO_OPTIMIZED | CO_NEWLOCALS`), not a module's.
    pub function: bool,
    /// `co_consts`.
    pub consts: Vec<Const>,
    /// `co_names`: interned strs.
    pub names: Vec<u64>,
    /// `co_varnames` (the locals, parameters first): interned strs.
    pub varnames: Vec<u64>,
    /// The instructions.
    pub instrs: Vec<Instr>,
}

/// A module, compiled: its units (0 is the module's own code).
#[derive(Debug)]
pub struct Compiled {
    /// The file name.
    pub filename: String,
    /// The code units.
    pub units: Vec<CodeUnit>,
}

/// Byte offset to line number, for messages and line tables.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(source: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    fn line(&self, offset: usize) -> u32 {
        self.starts.partition_point(|&s| s <= offset) as u32
    }
}

/// Parses and compiles `source`: the parser's objects go into `arena`.
pub fn compile(
    o: &mut Objects,
    arena: &mut Arena,
    source: &str,
    filename: &str,
) -> Result<Compiled, RunError> {
    let minor = o.layout().minor;
    let lines = Lines::new(source);
    let body = <ast::Suite as rustpython_parser::Parse>::parse(source, filename).map_err(|e| {
        RunError::Syntax {
            message: e.error.to_string(),
            filename: filename.into(),
            line: lines.line(e.offset.to_usize()),
        }
    })?;
    if minor != 11 {
        return Err(RunError::NotModelled {
            construct: format!("the bytecode of CPython 3.{minor} (3.11's is modelled so far)"),
            filename: filename.into(),
            line: 1,
        });
    }
    let mut c = Compiler {
        o,
        arena,
        lines,
        filename: filename.into(),
        parsed: HashMap::new(),
        const_cache: Vec::new(),
        units: Vec::new(),
        imported: Default::default(),
    };
    c.parser_objects(&body)?;
    c.imported = imported_names(&body);
    c.module(&body)?;
    Ok(Compiled {
        filename: filename.into(),
        units: c.units,
    })
}

/// The names a module binds by `import` (`DEF_IMPORT` in its symbol table).
fn imported_names(body: &[Stmt]) -> std::collections::HashSet<String> {
    let mut names = std::collections::HashSet::new();
    for s in body {
        if let Stmt::Import(i) = s {
            for a in &i.names {
                let bound = a.asname.as_ref().unwrap_or(&a.name).as_str();
                names.insert(bound.split('.').next().unwrap_or(bound).to_string());
            }
        }
    }
    names
}

/// Where a name lives in the scope being compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// The module: `LOAD_NAME`, `STORE_NAME`.
    Module,
    /// A function's local: `LOAD_FAST`, `STORE_FAST`.
    Fast(u32),
    /// A function's global: `LOAD_GLOBAL`, `STORE_GLOBAL`.
    Global,
}

struct Compiler<'a> {
    o: &'a mut Objects,
    arena: &'a mut Arena,
    lines: Lines,
    filename: String,
    /// The object the parser made for each literal, by its source range.
    parsed: HashMap<(u32, u32), u64>,
    /// `c_const_cache`: the first object seen for each constant value.
    const_cache: Vec<(ConstKey, u64)>,
    units: Vec<CodeUnit>,
    imported: std::collections::HashSet<String>,
}

/// `_PyCode_ConstantKey`: constants are merged when type and value are equal.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ConstKey {
    None,
    Bool(bool),
    Int(i128),
    Str(String),
}

/// The unit being generated and its locals.
struct Unit {
    code: CodeUnit,
    locals: Vec<String>,
    globals: Vec<String>,
}

impl Compiler<'_> {
    fn not_modelled(&self, construct: &str, node: &impl Ranged) -> RunError {
        RunError::NotModelled {
            construct: construct.into(),
            filename: self.filename.clone(),
            line: self.line(node),
        }
    }

    fn line(&self, node: &impl Ranged) -> u32 {
        self.lines.line(node.start().to_usize())
    }

    // ---- the parser's objects ---------------------------------------------------------------

    /// What pegen makes while parsing, in source order: an object for each number and string
    /// literal, and an interned str for each identifier, all held by the arena.
    fn parser_objects(&mut self, body: &[Stmt]) -> Result<(), RunError> {
        for s in body {
            self.parser_stmt(s)?;
        }
        Ok(())
    }

    fn identifier(&mut self, name: &str) -> Result<u64, RunError> {
        // _PyPegen_new_identifier: PyUnicode_DecodeUTF8, PyUnicode_InternInPlace, arena.
        let s = self.o.unicode_from_str(name)?;
        let id = self.o.unicode_intern(s)?;
        self.o.decref(s)?;
        self.arena.add(id);
        Ok(id)
    }

    fn parser_stmt(&mut self, s: &Stmt) -> Result<(), RunError> {
        match s {
            Stmt::Import(i) => {
                for a in &i.names {
                    self.identifier(a.name.as_str())?;
                    if let Some(asname) = &a.asname {
                        self.identifier(asname.as_str())?;
                    }
                }
            }
            Stmt::FunctionDef(f) => {
                self.identifier(f.name.as_str())?;
                for a in &f.args.args {
                    self.identifier(a.def.arg.as_str())?;
                    if let Some(ann) = &a.def.annotation {
                        self.parser_expr(ann)?;
                    }
                }
                if let Some(r) = &f.returns {
                    self.parser_expr(r)?;
                }
                self.parser_objects(&f.body)?;
            }
            Stmt::Return(r) => {
                if let Some(v) = &r.value {
                    self.parser_expr(v)?;
                }
            }
            Stmt::Assign(a) => {
                for t in &a.targets {
                    self.parser_expr(t)?;
                }
                self.parser_expr(&a.value)?;
            }
            Stmt::Expr(e) => self.parser_expr(&e.value)?,
            _ => {}
        }
        Ok(())
    }

    fn parser_expr(&mut self, e: &Expr) -> Result<(), RunError> {
        match e {
            Expr::Name(n) => {
                self.identifier(n.id.as_str())?;
            }
            Expr::Attribute(a) => {
                self.parser_expr(&a.value)?;
                self.identifier(a.attr.as_str())?;
            }
            Expr::Call(c) => {
                self.parser_expr(&c.func)?;
                for a in &c.args {
                    self.parser_expr(a)?;
                }
            }
            Expr::Constant(c) => {
                let op = match &c.value {
                    Constant::Int(i) => {
                        let v: i128 = i
                            .try_into()
                            .map_err(|_| self.not_modelled("an int literal beyond 128 bits", e))?;
                        Some(self.o.long_from_i128(v)?)
                    }
                    Constant::Str(s) => Some(self.o.unicode_from_str(s)?),
                    _ => None,
                };
                if let Some(op) = op {
                    self.arena.add(op);
                    let r = e.range();
                    self.parsed
                        .insert((r.start().to_u32(), r.end().to_u32()), op);
                }
            }
            _ => {}
        }
        Ok(())
    }

    // ---- constants ------------------------------------------------------------------------

    /// `compiler_add_o(c->u->u_consts, ...)` after `merge_consts_recursive`: the index of the
    /// constant in the unit's `co_consts`, the module-wide canonical object put there.
    fn add_const(&mut self, unit: &mut Unit, key: ConstKey, op: u64) -> u32 {
        let canonical = match self.const_cache.iter().find(|(k, _)| *k == key) {
            Some(&(_, c)) => c,
            None => {
                self.const_cache.push((key, op));
                op
            }
        };
        let c = Const::Object(canonical);
        match unit.code.consts.iter().position(|&x| x == c) {
            Some(i) => i as u32,
            None => {
                unit.code.consts.push(c);
                (unit.code.consts.len() - 1) as u32
            }
        }
    }

    fn none_const(&mut self, unit: &mut Unit) -> u32 {
        let none = self.o.none();
        self.add_const(unit, ConstKey::None, none)
    }

    fn literal(&mut self, unit: &mut Unit, e: &Expr, value: &Constant) -> Result<u32, RunError> {
        let r = e.range();
        let parsed = self
            .parsed
            .get(&(r.start().to_u32(), r.end().to_u32()))
            .copied();
        Ok(match (value, parsed) {
            (Constant::None, _) => self.none_const(unit),
            (Constant::Bool(b), _) => {
                let op = self.o.bool_object(*b);
                self.add_const(unit, ConstKey::Bool(*b), op)
            }
            (Constant::Int(i), Some(op)) => {
                let v: i128 = i
                    .try_into()
                    .map_err(|_| self.not_modelled("a big int", e))?;
                self.add_const(unit, ConstKey::Int(v), op)
            }
            (Constant::Str(s), Some(op)) => self.add_const(unit, ConstKey::Str(s.clone()), op),
            _ => return Err(self.not_modelled("this kind of constant", e)),
        })
    }

    /// A str constant the compiler itself adds (an annotation's name): `&_Py_ID(name)`.
    fn id_const(&mut self, unit: &mut Unit, name: &'static str) -> Result<u32, RunError> {
        let op = self.o.py_id(name)?;
        Ok(self.add_const(unit, ConstKey::Str(name.into()), op))
    }

    // ---- names ------------------------------------------------------------------------------

    fn name_index(&mut self, unit: &mut Unit, name: &str) -> Result<u32, RunError> {
        let op = self.interned(name)?;
        Ok(match unit.code.names.iter().position(|&n| n == op) {
            Some(i) => i as u32,
            None => {
                unit.code.names.push(op);
                (unit.code.names.len() - 1) as u32
            }
        })
    }

    /// The interned str of an identifier the parser already made.
    fn interned(&mut self, name: &str) -> Result<u64, RunError> {
        let s = self.o.unicode_from_str(name)?;
        let id = self.o.unicode_intern(s)?;
        self.o.decref(s)?;
        // The unit's tuple will hold its own reference; this one was only for the lookup.
        self.o.decref(id)?;
        Ok(id)
    }

    fn scope(&self, unit: &Unit, name: &str) -> Scope {
        if !unit.code.function {
            return Scope::Module;
        }
        if unit.globals.iter().any(|g| g == name) {
            return Scope::Global;
        }
        match unit.locals.iter().position(|l| l == name) {
            Some(i) => Scope::Fast(i as u32),
            None => Scope::Global,
        }
    }

    fn emit(unit: &mut Unit, name: &'static str, arg: u32, line: u32) {
        unit.code.instrs.push(Instr { name, arg, line });
    }

    fn load_name(
        &mut self,
        unit: &mut Unit,
        name: &str,
        line: u32,
        null: bool,
    ) -> Result<(), RunError> {
        match self.scope(unit, name) {
            Scope::Module => {
                if null {
                    Self::emit(unit, "PUSH_NULL", 0, line);
                }
                let i = self.name_index(unit, name)?;
                Self::emit(unit, "LOAD_NAME", i, line);
            }
            Scope::Fast(i) => {
                if null {
                    Self::emit(unit, "PUSH_NULL", 0, line);
                }
                Self::emit(unit, "LOAD_FAST", i, line);
            }
            Scope::Global => {
                // PUSH_NULL before LOAD_GLOBAL is folded into its low bit (optimize_basic_block).
                let i = self.name_index(unit, name)?;
                Self::emit(unit, "LOAD_GLOBAL", (i << 1) | u32::from(null), line);
            }
        }
        Ok(())
    }

    fn store_name(&mut self, unit: &mut Unit, name: &str, line: u32) -> Result<(), RunError> {
        match self.scope(unit, name) {
            Scope::Module => {
                let i = self.name_index(unit, name)?;
                Self::emit(unit, "STORE_NAME", i, line);
            }
            Scope::Fast(i) => Self::emit(unit, "STORE_FAST", i, line),
            Scope::Global => {
                let i = self.name_index(unit, name)?;
                Self::emit(unit, "STORE_GLOBAL", i, line);
            }
        }
        Ok(())
    }

    // ---- units ------------------------------------------------------------------------------

    fn module(&mut self, body: &[Stmt]) -> Result<(), RunError> {
        let mut unit = Unit {
            code: CodeUnit {
                name: "<module>".into(),
                qualname: "<module>".into(),
                firstlineno: 1,
                argcount: 0,
                function: false,
                consts: Vec::new(),
                names: Vec::new(),
                varnames: Vec::new(),
                instrs: Vec::new(),
            },
            locals: Vec::new(),
            globals: Vec::new(),
        };
        self.units.push(unit.code.clone()); // index 0, filled in at the end
        Self::emit(&mut unit, "RESUME", 0, 0);
        for s in body {
            self.stmt(&mut unit, s)?;
        }
        let line = unit.code.instrs.last().map_or(1, |i| i.line);
        let none = self.none_const(&mut unit);
        Self::emit(&mut unit, "LOAD_CONST", none, line);
        Self::emit(&mut unit, "RETURN_VALUE", 0, line);
        self.units[0] = unit.code;
        Ok(())
    }

    fn function(&mut self, f: &ast::StmtFunctionDef, qualname: String) -> Result<usize, RunError> {
        let a = &f.args;
        if !a.posonlyargs.is_empty()
            || a.vararg.is_some()
            || !a.kwonlyargs.is_empty()
            || a.kwarg.is_some()
        {
            return Err(self.not_modelled("parameters other than plain positional ones", f));
        }
        if !f.decorator_list.is_empty() {
            return Err(self.not_modelled("a decorator", f));
        }
        let firstlineno = self.line(f);
        let mut locals: Vec<String> = a.args.iter().map(|p| p.def.arg.to_string()).collect();
        let mut globals = Vec::new();
        collect_locals(&f.body, &mut locals, &mut globals);
        let mut unit = Unit {
            code: CodeUnit {
                name: f.name.to_string(),
                qualname,
                firstlineno,
                argcount: a.args.len() as u32,
                function: true,
                consts: Vec::new(),
                names: Vec::new(),
                varnames: Vec::new(),
                instrs: Vec::new(),
            },
            locals: locals.clone(),
            globals,
        };
        for l in &locals {
            let op = self.interned(l)?;
            unit.code.varnames.push(op);
        }
        // compiler_function: the docstring, or None, is always co_consts[0].
        let docstring = match f.body.first() {
            Some(Stmt::Expr(e)) => {
                matches!(&*e.value, Expr::Constant(c) if matches!(c.value, Constant::Str(_)))
            }
            _ => false,
        };
        if docstring {
            return Err(self.not_modelled("a docstring", f));
        }
        self.none_const(&mut unit);
        Self::emit(&mut unit, "RESUME", 0, firstlineno);
        for s in &f.body {
            self.stmt(&mut unit, s)?;
        }
        if !matches!(f.body.last(), Some(Stmt::Return(_))) {
            let line = unit.code.instrs.last().map_or(firstlineno, |i| i.line);
            let none = self.none_const(&mut unit);
            Self::emit(&mut unit, "LOAD_CONST", none, line);
            Self::emit(&mut unit, "RETURN_VALUE", 0, line);
        }
        self.units.push(unit.code);
        Ok(self.units.len() - 1)
    }

    // ---- statements -------------------------------------------------------------------------

    fn stmt(&mut self, unit: &mut Unit, s: &Stmt) -> Result<(), RunError> {
        let line = self.line(s);
        match s {
            Stmt::Expr(e) => {
                self.expr(unit, &e.value)?;
                Self::emit(unit, "POP_TOP", 0, line);
            }
            Stmt::Assign(a) => {
                self.expr(unit, &a.value)?;
                match a.targets.as_slice() {
                    [Expr::Name(n)] => self.store_name(unit, n.id.as_str(), line)?,
                    _ => return Err(self.not_modelled("an assignment to anything but one name", s)),
                }
            }
            Stmt::Return(r) => {
                if !unit.code.function {
                    return Err(self.not_modelled("'return' outside a function", s));
                }
                match &r.value {
                    Some(v) => self.expr(unit, v)?,
                    None => {
                        let none = self.none_const(unit);
                        Self::emit(unit, "LOAD_CONST", none, line);
                    }
                }
                Self::emit(unit, "RETURN_VALUE", 0, line);
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    if a.name.contains('.') {
                        return Err(self.not_modelled("a dotted import", s));
                    }
                    let zero = self.o.long_from_i64(0)?;
                    let level = self.add_const(unit, ConstKey::Int(0), zero);
                    self.o.decref(zero)?;
                    Self::emit(unit, "LOAD_CONST", level, line);
                    let none = self.none_const(unit);
                    Self::emit(unit, "LOAD_CONST", none, line);
                    let n = self.name_index(unit, a.name.as_str())?;
                    Self::emit(unit, "IMPORT_NAME", n, line);
                    let bound = a.asname.as_ref().unwrap_or(&a.name).to_string();
                    self.store_name(unit, &bound, line)?;
                }
            }
            Stmt::FunctionDef(f) => {
                let mut flags = 0;
                let annotations = self.annotations(unit, f, line)?;
                if annotations > 0 {
                    Self::emit(unit, "BUILD_TUPLE", 2 * annotations, line);
                    flags |= 4;
                }
                let qualname = if unit.code.function {
                    format!("{}.<locals>.{}", unit.code.qualname, f.name)
                } else {
                    f.name.to_string()
                };
                let index = self.function(f, qualname)?;
                let c = Const::Code(index);
                unit.code.consts.push(c);
                let k = (unit.code.consts.len() - 1) as u32;
                Self::emit(unit, "LOAD_CONST", k, line);
                Self::emit(unit, "MAKE_FUNCTION", flags, line);
                self.store_name(unit, f.name.as_str(), line)?;
            }
            Stmt::Pass(_) => Self::emit(unit, "NOP", 0, line),
            other => return Err(self.not_modelled(stmt_name(other), s)),
        }
        Ok(())
    }

    /// `compiler_visit_annotations`: each annotated parameter's name and annotation, then
    /// `'return'` and the return annotation, as pairs for `BUILD_TUPLE`.
    fn annotations(
        &mut self,
        unit: &mut Unit,
        f: &ast::StmtFunctionDef,
        line: u32,
    ) -> Result<u32, RunError> {
        let mut n = 0;
        for a in &f.args.args {
            if let Some(ann) = &a.def.annotation {
                let s = self.o.unicode_from_str(a.def.arg.as_str())?;
                let name = self.o.unicode_intern(s)?;
                self.o.decref(s)?;
                let k = self.add_const(unit, ConstKey::Str(a.def.arg.to_string()), name);
                self.o.decref(name)?;
                Self::emit(unit, "LOAD_CONST", k, line);
                self.expr(unit, ann)?;
                n += 1;
            }
        }
        if let Some(r) = &f.returns {
            let k = self.id_const(unit, "return")?;
            Self::emit(unit, "LOAD_CONST", k, line);
            self.expr(unit, r)?;
            n += 1;
        }
        Ok(n)
    }

    // ---- expressions ------------------------------------------------------------------------

    fn expr(&mut self, unit: &mut Unit, e: &Expr) -> Result<(), RunError> {
        let line = self.line(e);
        match e {
            Expr::Constant(c) => {
                let k = self.literal(unit, e, &c.value)?;
                Self::emit(unit, "LOAD_CONST", k, line);
            }
            Expr::Name(n) => self.load_name(unit, n.id.as_str(), line, false)?,
            Expr::Attribute(a) => {
                self.expr(unit, &a.value)?;
                let i = self.name_index(unit, a.attr.as_str())?;
                Self::emit(unit, "LOAD_ATTR", i, line);
            }
            Expr::Call(c) => self.call(unit, c, line)?,
            other => return Err(self.not_modelled(expr_name(other), e)),
        }
        Ok(())
    }

    /// `compiler_call`: a method call (`LOAD_METHOD`) unless the object is a module the code
    /// imported (`is_import_originated`, 3.11), else `PUSH_NULL` and the callable; the
    /// arguments; `PRECALL n`, `CALL n`.
    fn call(&mut self, unit: &mut Unit, c: &ast::ExprCall, line: u32) -> Result<(), RunError> {
        if !c.keywords.is_empty() {
            return Err(self.not_modelled("a keyword argument", c));
        }
        if c.args.iter().any(|a| matches!(a, Expr::Starred(_))) {
            return Err(self.not_modelled("a starred argument", c));
        }
        match &*c.func {
            Expr::Attribute(a) if !self.import_originated(&a.value) => {
                self.expr(unit, &a.value)?;
                let i = self.name_index(unit, a.attr.as_str())?;
                Self::emit(unit, "LOAD_METHOD", i, line);
            }
            Expr::Attribute(a) => {
                let Expr::Name(base) = &*a.value else {
                    unreachable!("import_originated only accepts names")
                };
                self.load_name(unit, base.id.as_str(), line, true)?;
                let i = self.name_index(unit, a.attr.as_str())?;
                Self::emit(unit, "LOAD_ATTR", i, line);
            }
            Expr::Name(n) => self.load_name(unit, n.id.as_str(), line, true)?,
            other => {
                Self::emit(unit, "PUSH_NULL", 0, line);
                self.expr(unit, other)?;
            }
        }
        for a in &c.args {
            self.expr(unit, a)?;
        }
        let n = c.args.len() as u32;
        Self::emit(unit, "PRECALL", n, line);
        Self::emit(unit, "CALL", n, line);
        Ok(())
    }

    /// `is_import_originated`: the base is a name the module binds by `import`.
    fn import_originated(&self, e: &Expr) -> bool {
        matches!(e, Expr::Name(n) if self.imported.contains(n.id.as_str()))
    }
}

/// The names a function body binds (its locals), in order of first binding, and the names it
/// declares global (`symtable`'s `DEF_LOCAL` and `DEF_GLOBAL`).
fn collect_locals(body: &[Stmt], locals: &mut Vec<String>, globals: &mut Vec<String>) {
    let bind = |name: &str, locals: &mut Vec<String>| {
        if !locals.iter().any(|l| l == name) {
            locals.push(name.to_string());
        }
    };
    for s in body {
        match s {
            Stmt::Assign(a) => {
                for t in &a.targets {
                    if let Expr::Name(n) = t {
                        bind(n.id.as_str(), locals);
                    }
                }
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    bind(a.asname.as_ref().unwrap_or(&a.name).as_str(), locals);
                }
            }
            Stmt::FunctionDef(f) => bind(f.name.as_str(), locals),
            Stmt::Global(g) => globals.extend(g.names.iter().map(|n| n.to_string())),
            _ => {}
        }
    }
    locals.retain(|l| !globals.contains(l));
}

/// A statement's name for "not modelled" messages.
fn stmt_name(s: &Stmt) -> &'static str {
    match s {
        Stmt::AsyncFunctionDef(_) => "async def",
        Stmt::ClassDef(_) => "a class statement",
        Stmt::Delete(_) => "del",
        Stmt::AugAssign(_) => "an augmented assignment",
        Stmt::AnnAssign(_) => "an annotated assignment",
        Stmt::For(_) => "a for loop",
        Stmt::AsyncFor(_) => "async for",
        Stmt::While(_) => "a while loop",
        Stmt::If(_) => "an if statement",
        Stmt::With(_) | Stmt::AsyncWith(_) => "a with statement",
        Stmt::Match(_) => "a match statement",
        Stmt::Raise(_) => "raise",
        Stmt::Try(_) | Stmt::TryStar(_) => "a try statement",
        Stmt::Assert(_) => "assert",
        Stmt::ImportFrom(_) => "from ... import",
        Stmt::Global(_) => "a global statement at module level",
        Stmt::Nonlocal(_) => "nonlocal",
        Stmt::Break(_) => "break",
        Stmt::Continue(_) => "continue",
        _ => "this statement",
    }
}

/// An expression's name for "not modelled" messages.
fn expr_name(e: &Expr) -> &'static str {
    match e {
        Expr::BoolOp(_) => "'and'/'or'",
        Expr::NamedExpr(_) => "an assignment expression",
        Expr::BinOp(_) => "a binary operator",
        Expr::UnaryOp(_) => "a unary operator",
        Expr::Lambda(_) => "lambda",
        Expr::IfExp(_) => "a conditional expression",
        Expr::Dict(_) => "a dict display",
        Expr::Set(_) => "a set display",
        Expr::ListComp(_) => "a list comprehension",
        Expr::SetComp(_) | Expr::DictComp(_) | Expr::GeneratorExp(_) => "a comprehension",
        Expr::Await(_) | Expr::Yield(_) | Expr::YieldFrom(_) => "await or yield",
        Expr::Compare(_) => "a comparison",
        Expr::JoinedStr(_) | Expr::FormattedValue(_) => "an f-string",
        Expr::Subscript(_) => "a subscript",
        Expr::Starred(_) => "a starred expression",
        Expr::List(_) => "a list display",
        Expr::Tuple(_) => "a tuple display",
        Expr::Slice(_) => "a slice",
        _ => "this expression",
    }
}
