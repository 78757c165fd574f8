//! `Python/compile.c`, `Python/symtable.c` and `Python/ast_opt.c`: from the AST to each
//! version's instructions.
//!
//! ```text
//!  source --rustpython-parser--> AST --parser objects (pegen)--> constants and identifiers,
//!                                                                each held by the arena
//!         --ast_opt--> constant folding (-1, 2 * 3, constant tuples), held by the arena too
//!         --symbols--> which names are local, global, imported
//!         --codegen--> per code unit a control-flow graph of basic blocks, as compile.c
//!                      builds it (compiler_if, compiler_for, compiler_while, compiler_jump_if)
//!         --assemble--> optimize_cfg, duplicate_exits_without_lineno, trim_unused_consts,
//!                      propagate_line_numbers, normalize_jumps, jump offsets: one CodeUnit
//!                      per module and function with co_consts (equal constants merged across
//!                      the module, as `merge_consts_recursive` does), co_names, co_varnames
//! ```
//!
//! The instructions are the ones CPython 3.10, 3.11, 3.12 and 3.13 emit for the subset the
//! model runs (the blog's and the book's programs), one compiler branching where the versions
//! differ (3.10: its calls, operators, stack rotations, absolute jumps, `optimize_basic_block`
//! and `normalize_jumps`; 3.13: `Python/compile.c`'s codegen, `Python/flowgraph.c`'s passes in
//! 3.13.0's order); other versions are named as not modelled yet by [`compile`]. Anything
//! outside the subset is a [`RunError::NotModelled`] naming the construct and its line.

use std::collections::HashMap;

use objects::Objects;
use rustpython_parser::ast::{self, Constant, Expr, Ranged, Stmt};

use crate::error::RunError;
use crate::pyarena::Arena;
use crate::symtable::{self, Layout};

/// One instruction of an assembled code unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instr {
    /// The opcode's name in the version's `opcode.opmap`.
    pub name: &'static str,
    /// The same, as the evaluation loop dispatches on it.
    pub op: crate::opcode::Op,
    /// Its argument (0 for instructions without one); for a jump, the relative offset in code
    /// units that CPython 3.11 stores.
    pub arg: u32,
    /// The `EXTENDED_ARG`s written before it: as many as the argument needs, except where
    /// 3.9's peephole optimizer shortened a jump's argument in place (`EXTENDED_ARG 0`).
    pub extended_args: u32,
    /// The source line it belongs to (`None` for an artificial instruction no line reached).
    pub line: Option<u32>,
    /// The rest of its location (`co_positions`): where the node it was compiled for ends,
    /// and its columns.
    pub span: Span,
    /// For a jump: the index of the instruction it jumps to.
    pub target: Option<usize>,
    /// The exception table's entry for this instruction (3.11's and 3.12's
    /// `assemble_exception_table`): who handles an exception raised here.
    pub handler: Option<Handler>,
}

/// The part of an instruction's `location` after its line: `end_lineno`, `col_offset` and
/// `end_col_offset` of the node being compiled when it was emitted (columns in UTF-8 bytes
/// from the line's start, as the parser gives them); -1 where there is none, as for an
/// artificial instruction (`NO_LOCATION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// `end_lineno`.
    pub end_line: i32,
    /// `col_offset`.
    pub col: i32,
    /// `end_col_offset`.
    pub end_col: i32,
}

impl Span {
    /// No span (`NO_LOCATION`'s columns).
    pub const NONE: Span = Span {
        end_line: -1,
        col: -1,
        end_col: -1,
    };
}

/// A node's whole location (`LOC(x)`: `lineno`, `end_lineno`, `col_offset`,
/// `end_col_offset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Loc {
    line: i32,
    span: Span,
}

impl Instr {
    /// What `co_positions` gives for it: (`lineno`, `end_lineno`, `col_offset`,
    /// `end_col_offset`), as the location table keeps them (`write_location_info_entry`):
    /// nothing without a line, the line alone (`NO_COLUMNS`, ending where it starts) without
    /// columns.
    pub fn positions(&self) -> [Option<u32>; 4] {
        let Some(line) = self.line else {
            return [None; 4];
        };
        let known = |v: i32| u32::try_from(v).ok();
        let Span {
            end_line,
            col,
            end_col,
        } = self.span;
        if (col < 0 || end_col < 0) && (end_line == line as i32 || end_line < 0) {
            return [Some(line), Some(line), None, None];
        }
        [Some(line), known(end_line), known(col), known(end_col)]
    }
}

/// An exception handler, as the exception table records it for an instruction: where to
/// go, the stack depth to pop down to, and whether the offset of the instruction that
/// raised is pushed too (`lasti`: the handlers `SETUP_CLEANUP` and `SETUP_WITH` set up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handler {
    /// The index of the handler's first instruction.
    pub target: usize,
    /// The stack depth the exception leaves below what the handler pushes.
    pub depth: u32,
    /// Whether `lasti` is pushed before the exception (`b_preserve_lasti`).
    pub lasti: bool,
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
    /// `CO_VARARGS`: the local after the parameters takes the other positional arguments.
    pub varargs: bool,
    /// `CO_VARKEYWORDS`: the local after those takes the other keyword arguments.
    pub varkeywords: bool,
    /// `co_consts`.
    pub consts: Vec<Const>,
    /// `co_names`: interned strs.
    pub names: Vec<u64>,
    /// `co_localsplusnames` (the locals, parameters first, then the cells that are not
    /// parameters, then the free variables): interned strs.
    pub varnames: Vec<u64>,
    /// `co_nfreevars`: the last names of `varnames`, filled from the closure.
    pub nfreevars: u32,
    /// `co_nlocals`: on 3.10 the `varnames` before the cells and free variables (3.11+: all
    /// of them).
    pub nlocals: u32,
    /// `co_stacksize` (computed for 3.10, whose frames are objects sized by it; 0 otherwise).
    pub stacksize: u32,
    /// The instructions.
    pub instrs: Vec<Instr>,
    /// The source range of the node compiled (module, `def`, comprehension): it stands for
    /// the columns `co_linetable` holds, which `code_richcompare` compares too.
    pub range: (u32, u32),
    /// `merge_consts_recursive` found an equal code object compiled before this one (a
    /// `while` test is compiled twice): CPython makes this one and frees it at once, and
    /// the constant is the other one.
    pub merged: bool,
}

impl CodeUnit {
    /// A code unit before the compiler fills it: no constants, names, locals or
    /// instructions yet, no positional parameters, not a function's.
    fn new(name: String, qualname: String, firstlineno: u32, range: (u32, u32)) -> CodeUnit {
        CodeUnit {
            name,
            qualname,
            firstlineno,
            argcount: 0,
            function: false,
            varargs: false,
            varkeywords: false,
            consts: Vec::new(),
            names: Vec::new(),
            varnames: Vec::new(),
            nfreevars: 0,
            nlocals: 0,
            stacksize: 0,
            instrs: Vec::new(),
            range,
            merged: false,
        }
    }
}

/// A module, compiled: its units (0 is the module's own code).
#[derive(Debug)]
pub struct Compiled {
    /// The file name.
    pub filename: String,
    /// The code units.
    pub units: Vec<CodeUnit>,
    /// The constants the compiler made (tuples `fold_tuple_on_constants` built): a reference
    /// `c_const_cache` holds until `compiler_free`, after the code objects are made.
    pub cache_only: Vec<u64>,
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

    /// The location of the bytes `range` (`lineno`, `end_lineno`, `col_offset`,
    /// `end_col_offset`: the parser's byte columns).
    fn loc(&self, range: rustpython_parser::text_size::TextRange) -> Loc {
        let (start, end) = (range.start().to_usize(), range.end().to_usize());
        let (line, end_line) = (self.line(start), self.line(end));
        let col = |line: u32, offset: usize| (offset - self.starts[line as usize - 1]) as i32;
        Loc {
            line: line as i32,
            span: Span {
                end_line: end_line as i32,
                col: col(line, start),
                end_col: col(end_line, end),
            },
        }
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
    if !(9..=13).contains(&minor) {
        return Err(RunError::NotModelled {
            construct: format!(
                "the bytecode of CPython 3.{minor} (3.9's to 3.13's are modelled so far)"
            ),
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
        cache_only: Vec::new(),
        do_not_emit: 0,
        static_attributes: Vec::new(),
    };
    c.parser_objects(&body)?;
    c.imported = imported_names(&body);
    c.module(&body)?;
    Ok(Compiled {
        filename: filename.into(),
        units: c.units,
        cache_only: c.cache_only,
    })
}

/// `code_richcompare` (`Objects/codeobject.c`): name, arguments, flags, first line, the
/// instructions with their lines, constants (already merged, so the same objects), names,
/// locals and free variables; the columns of `co_linetable` by the node's source range.
/// 3.10's compares `co_code` and no line table: code on other lines or columns is equal.
fn code_richcompare(a: &CodeUnit, b: &CodeUnit, minor: u8) -> bool {
    let same_code = if minor <= 10 {
        let code = |u: &CodeUnit| -> Vec<(&str, u32)> {
            u.instrs.iter().map(|i| (i.name, i.arg)).collect()
        };
        code(a) == code(b)
    } else {
        a.instrs == b.instrs && a.range == b.range
    };
    same_code
        && a.name == b.name
        && a.argcount == b.argcount
        && a.function == b.function
        && a.varargs == b.varargs
        && a.varkeywords == b.varkeywords
        && a.firstlineno == b.firstlineno
        && a.consts == b.consts
        && a.names == b.names
        && a.varnames == b.varnames
        && a.nfreevars == b.nfreevars
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
        if let Stmt::ImportFrom(i) = s {
            for a in &i.names {
                names.insert(a.asname.as_ref().unwrap_or(&a.name).to_string());
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
    /// A cell or free variable: `LOAD_DEREF`, `STORE_DEREF`.
    Deref(u32),
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
    /// The objects only `c_const_cache` holds ([`Compiled::cache_only`]).
    cache_only: Vec<u64>,
    /// 3.9's `c_do_not_emit_bytecode`, for the code objects it would make and drop.
    do_not_emit: u32,
    /// 3.13's `u_static_attributes` of each class body being compiled, the innermost last:
    /// the names stored as `self.NAME` in the code it encloses.
    static_attributes: Vec<std::collections::BTreeSet<String>>,
}

/// `_PyCode_ConstantKey`: constants are merged when type and value are equal.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ConstKey {
    None,
    Bool(bool),
    Int(i128),
    /// A float by its bits (0.0 and -0.0 are different constants).
    Float(u64),
    Str(String),
    Tuple(Vec<ConstKey>),
}

/// A constant value known at compile time: a literal, or what `ast_opt.c` folds.
#[derive(Clone, Debug, PartialEq)]
enum CVal {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Tuple(Vec<(CVal, Option<(u32, u32)>)>),
}

impl CVal {
    fn key(&self) -> ConstKey {
        match self {
            CVal::None => ConstKey::None,
            CVal::Bool(b) => ConstKey::Bool(*b),
            CVal::Int(i) => ConstKey::Int(*i),
            CVal::Float(f) => ConstKey::Float(f.to_bits()),
            CVal::Str(s) => ConstKey::Str(s.clone()),
            CVal::Tuple(items) => ConstKey::Tuple(items.iter().map(|(v, _)| v.key()).collect()),
        }
    }

    /// `PyObject_IsTrue` of the constant.
    fn truth(&self) -> bool {
        match self {
            CVal::None => false,
            CVal::Bool(b) => *b,
            CVal::Int(i) => *i != 0,
            CVal::Float(f) => *f != 0.0,
            CVal::Str(s) => !s.is_empty(),
            CVal::Tuple(t) => !t.is_empty(),
        }
    }
}

/// An instruction of the control-flow graph (`struct instr`): a jump names its target block;
/// a line of -1 is an artificial instruction (`UNSET_LOC`), given one by the assembler.
#[derive(Clone, Copy, Debug)]
struct CInstr {
    name: &'static str,
    arg: u32,
    target: Option<usize>,
    line: i32,
    /// The rest of `i_loc`: copied with the line wherever a pass gives one instruction
    /// another's location.
    span: Span,
    /// The block that handles an exception here (`i_except`), set as the instruction is
    /// emitted inside a `SETUP_FINALLY` (or `SETUP_CLEANUP`) ... `POP_BLOCK`, as
    /// `label_exception_targets` finds it along the flow; copies keep it.
    handler: Option<usize>,
}

/// `basicblock`.
#[derive(Clone, Debug, Default)]
struct Block {
    instrs: Vec<CInstr>,
    /// `b_next`: the block laid out after this one.
    next: Option<usize>,
    predecessors: u32,
    exit: bool,
    nofallthrough: bool,
    visited: bool,
}

/// `fblockinfo`: the loops and handlers `return`, `break` and `continue` leave.
#[derive(Clone, Debug)]
enum FBlock {
    /// `WHILE_LOOP`: `continue` goes to the test, `break` to the exit.
    While { top: usize, exit: usize },
    /// `FOR_LOOP`: the iterator is on the stack.
    For { top: usize, exit: usize },
    /// `TRY_EXCEPT`: the body of a `try` with handlers.
    TryExcept,
    /// `FINALLY_TRY`: the body of a `try` with a `finally` (index into `finally_bodies`),
    /// which leaving it runs.
    FinallyTry { body: usize },
    /// `FINALLY_END`: the `finally` body run for an exception, which is on the stack.
    FinallyEnd,
    /// `EXCEPTION_HANDLER`: the `except` clauses (the runtime pushed the exception).
    ExceptionHandler,
    /// `HANDLER_CLEANUP`: the body of one `except` clause, and the name it binds.
    HandlerCleanup { name: Option<String> },
    /// `POP_VALUE`: the value being returned, kept on the stack while a `finally` runs.
    PopValue,
}

/// The unit being generated and its locals.
struct Unit {
    code: CodeUnit,
    globals: Vec<String>,
    /// The basic blocks, in order of creation (`u_blocks` lists them newest first).
    blocks: Vec<Block>,
    /// `u_curblock`.
    cur: usize,
    fblocks: Vec<FBlock>,
    /// The truth of each `co_consts` entry that is an object (for `optimize_basic_block`).
    const_values: HashMap<u32, bool>,
    /// The index of `None` in `co_consts`, once there.
    none_index: Option<u32>,
    /// `localsplus`: locals, cells and free variables.
    layout: Layout,
    /// The minor version whose bytecode this unit becomes (3.11, 3.12 or 3.13).
    minor: u8,
    /// The exception handlers around the code being emitted (`label_exception_targets`'
    /// `ExceptStack`: each `SETUP_*` pushes its handler, each `POP_BLOCK` pops one).
    handlers: Vec<usize>,
    /// 3.12: names an inlined comprehension at module level binds, fast locals there
    /// (`u_fasthidden`).
    fast_hidden: Vec<String>,
    /// 3.12: a function's names that only its inlined comprehensions bind. They have fast
    /// slots, used while such a comprehension runs (`u_fasthidden` and `temp_symbols` of
    /// `push_inlined_comprehension_state`); anywhere else in the function they keep the scope
    /// the function's own code gives them (`inline_comprehension` leaves an existing symbol as
    /// it is): a global.
    comp_only: Vec<String>,
    /// Each handler block's stack depth at its `SETUP_*` (`stackdepth`), and whether it
    /// preserves `lasti`.
    handler_depth: HashMap<usize, (u32, bool)>,
    /// The `finally` bodies the `FinallyTry` blocks unwind through, compiled again at each
    /// `return`, `break` or `continue` that leaves them (`fb_datum`).
    finally_bodies: Vec<Vec<Stmt>>,
    /// `COMPILER_SCOPE_CLASS`: a class body, whose names are `LOAD_NAME`'s and whose
    /// definitions are qualified `Class.name`.
    class: bool,
    /// 3.9's `u_lineno` and `u_lineno_set`: only the first instruction emitted after a
    /// statement starts or an expression changes the line records it (`compiler_set_lineno`);
    /// the others carry no line, and `assemble_lnotab` writes an entry only at a change.
    lineno: i32,
    lineno_set: bool,
    /// 3.9's `c_do_not_emit_bytecode`: code under a constant test is compiled (its names
    /// still enter `co_names` through `compiler_nameop`) but emits nothing.
    do_not_emit: u32,
    /// 3.11's `u_lineno` after the statement last compiled: each statement sets it
    /// (`SET_LOC`), a few leave it unset (`UNSET_LOC`), and what 3.11 emits next without a
    /// location of its own takes it (the `RERAISE` after an exceptional `finally` body).
    last_loc: i32,
    /// The location of the node being compiled (3.11's `u_lineno`, `u_end_lineno`,
    /// `u_col_offset` and `u_end_col_offset`, which `SET_LOC` sets; 3.12's `LOC(e)` handed
    /// down): what an instruction emitted on its line takes as its columns.
    loc: Loc,
}

/// `STACK_USE_GUIDELINE`: displays longer than this are built item by item.
const STACK_USE_GUIDELINE: usize = 30;

/// `MAX_COPY_SIZE`: exit blocks this small are copied rather than jumped to.
const MAX_COPY_SIZE: usize = 4;

fn is_jump(name: &str) -> bool {
    matches!(
        name,
        "JUMP"
            | "JUMP_NO_INTERRUPT"
            | "JUMP_ABSOLUTE"
            | "JUMP_FORWARD"
            | "JUMP_BACKWARD"
            | "POP_JUMP_IF_FALSE"
            | "POP_JUMP_IF_TRUE"
            | "POP_JUMP_IF_NONE"
            | "POP_JUMP_IF_NOT_NONE"
            | "JUMP_IF_FALSE_OR_POP"
            | "JUMP_IF_TRUE_OR_POP"
            | "FOR_ITER"
    )
}

/// An unconditional jump: 3.11's virtual `JUMP` (and `JUMP_NO_INTERRUPT`), 3.10's
/// `JUMP_ABSOLUTE` and `JUMP_FORWARD`.
fn is_unconditional_jump(name: &str) -> bool {
    matches!(
        name,
        "JUMP" | "JUMP_NO_INTERRUPT" | "JUMP_ABSOLUTE" | "JUMP_FORWARD"
    )
}

/// `is_block_push`: the pseudo-instructions that set up an exception handler.
fn is_block_push(name: &str) -> bool {
    matches!(name, "SETUP_FINALLY" | "SETUP_CLEANUP" | "SETUP_WITH")
}

fn is_exit(name: &str) -> bool {
    matches!(
        name,
        "RETURN_VALUE" | "RETURN_CONST" | "RAISE_VARARGS" | "RERAISE"
    )
}

impl Unit {
    fn new(code: CodeUnit, globals: Vec<String>, minor: u8) -> Unit {
        Unit {
            minor,
            handlers: Vec::new(),
            fast_hidden: Vec::new(),
            comp_only: Vec::new(),
            handler_depth: HashMap::new(),
            finally_bodies: Vec::new(),
            last_loc: -1,
            lineno: -1,
            lineno_set: false,
            do_not_emit: 0,
            // compiler_enter_scope: the unit starts at its first line, columns 0.
            loc: Loc {
                line: code.firstlineno as i32,
                span: Span {
                    end_line: code.firstlineno as i32,
                    col: 0,
                    end_col: 0,
                },
            },
            code,
            globals,
            blocks: vec![Block::default()],
            cur: 0,
            fblocks: Vec::new(),
            const_values: HashMap::new(),
            none_index: None,
            layout: Layout::default(),
            class: false,
        }
    }

    /// `compiler_new_block`.
    fn new_block(&mut self) -> usize {
        self.blocks.push(Block::default());
        self.blocks.len() - 1
    }

    /// `compiler_use_next_block`: `block` is laid out after the current one and becomes it.
    fn use_next_block(&mut self, block: usize) {
        self.blocks[self.cur].next = Some(block);
        self.cur = block;
    }

    /// `ADDOP`: an instruction in the current block. After a jump or a return the compiler
    /// always starts a new block (`NEXT_BLOCK`), which this does when the next instruction
    /// comes.
    fn emit(&mut self, name: &'static str, arg: u32, line: i32) {
        self.push(name, arg, None, line);
    }

    /// A `NOP` that gives a statement without other code of its line (a constant, `pass`,
    /// `break`, `continue`, `return`'s line) an instruction for its line event (PEP 626,
    /// 3.10); 3.9 emits nothing there.
    fn line_nop(&mut self, line: i32) {
        if self.minor != 9 {
            self.emit("NOP", 0, line);
        }
    }

    /// 3.12: `FOR_ITER` jumps to an `END_FOR` (no location), which an exhausted iterator
    /// skips; 3.13's `END_FOR` pops one value and a `POP_TOP` follows it, both skipped.
    fn end_for(&mut self) {
        if self.minor >= 12 {
            self.emit("END_FOR", 0, -1);
        }
        if self.minor >= 13 {
            self.emit("POP_TOP", 0, -1);
        }
    }

    /// 3.13: a conversion (`!s` 1, `!r` 2, `!a` 3) is `CONVERT_VALUE`, before the spec.
    fn convert_value(&mut self, conversion: u32, line: i32) {
        if self.minor >= 13 && conversion != 0 {
            self.emit("CONVERT_VALUE", conversion, line);
        }
    }

    /// `FORMAT_VALUE` with the conversion and 4 when there is a spec; 3.13's
    /// `FORMAT_WITH_SPEC` or `FORMAT_SIMPLE` (the conversion done already).
    fn format_value(&mut self, oparg: u32, line: i32) {
        if self.minor < 13 {
            self.emit("FORMAT_VALUE", oparg, line);
        } else if oparg & 4 != 0 {
            self.emit("FORMAT_WITH_SPEC", 0, line);
        } else {
            self.emit("FORMAT_SIMPLE", 0, line);
        }
    }

    /// The jump over an `else` (of `if`, a conditional expression, a chained comparison,
    /// an inlined comprehension's handler): 3.13's `JUMP_NO_INTERRUPT`, which a conditional
    /// jump is not threaded through; `JUMP` before.
    fn jump_no_interrupt(&self) -> &'static str {
        if self.minor >= 13 {
            "JUMP_NO_INTERRUPT"
        } else {
            "JUMP"
        }
    }

    /// 3.13: `TO_BOOL` before a conditional jump or `UNARY_NOT`, which take only exact
    /// bools (the optimiser removes it after an instruction that makes one).
    fn emit_to_bool(&mut self, line: i32) {
        if self.minor >= 13 {
            self.emit("TO_BOOL", 0, line);
        }
    }

    /// `ADDOP(POP_BLOCK)`: the innermost handler set up ends here (for what follows in the
    /// order the compiler emits; `label_exception_targets` finds the same along the flow).
    fn pop_block(&mut self, line: i32) {
        self.emit("POP_BLOCK", 0, line);
        self.handlers.pop();
    }

    /// `ADDOP_JUMP(SETUP_FINALLY|SETUP_CLEANUP, handler)`: the code from here on, up to the
    /// matching `POP_BLOCK`, is covered by `handler`; `body` starts after it.
    fn setup(&mut self, name: &'static str, handler: usize, body: usize, line: i32) {
        self.push(name, 0, Some(handler), line);
        self.use_next_block(body);
        self.handlers.push(handler);
    }

    /// `ADDOP_JUMP`.
    fn emit_jump(&mut self, name: &'static str, target: usize, line: i32) {
        self.push(name, 0, Some(target), line);
    }

    /// 3.9's `compiler_visit_stmt`: a statement starts a line (`u_lineno_set = 0`), even
    /// one the previous statement was on.
    fn start_statement(&mut self, line: i32) {
        self.lineno = line;
        self.lineno_set = false;
    }

    /// 3.9's line of an instruction emitted at `line` (-1: where the compiler does not move
    /// `u_lineno`): `compiler_visit_expr` moves `u_lineno` to an expression on another line,
    /// and back after it, each time unsetting `u_lineno_set`; `compiler_set_lineno` gives the
    /// line to the next instruction only (-1 for the others, which add nothing to `co_lnotab`).
    fn lineno_3_9(&mut self, line: i32) -> i32 {
        if line >= 0 && line != self.lineno {
            self.lineno = line;
            self.lineno_set = false;
        }
        if self.lineno_set {
            return -1;
        }
        self.lineno_set = true;
        self.lineno
    }

    fn push(&mut self, name: &'static str, arg: u32, target: Option<usize>, line: i32) {
        if self.do_not_emit > 0 {
            return;
        }
        let ended = self.blocks[self.cur]
            .instrs
            .last()
            .is_some_and(|i| is_jump(i.name) || is_exit(i.name));
        if ended {
            let b = self.new_block();
            self.use_next_block(b);
        }
        let line = if self.minor == 9 {
            self.lineno_3_9(line)
        } else {
            line
        };
        // label_exception_targets leaves the pseudo-instructions themselves unlabelled.
        let handler = if is_block_push(name) || name == "POP_BLOCK" {
            None
        } else {
            self.handlers.last().copied()
        };
        // The node being compiled gives its columns to what is emitted on its line.
        let span = if line >= 0 && line == self.loc.line {
            self.loc.span
        } else {
            Span::NONE
        };
        self.blocks[self.cur].instrs.push(CInstr {
            name,
            arg,
            target,
            line,
            span,
            handler,
        });
    }

    /// Whether this is the bytecode of 3.10 or before: `CALL_FUNCTION`, `BINARY_ADD` and
    /// the other operators by name, `DUP_TOP` and `ROT_*` for 3.11's `COPY` and `SWAP`,
    /// `JUMP_ABSOLUTE` and `JUMP_FORWARD` for the virtual `JUMP`, no `RESUME`.
    fn legacy(&self) -> bool {
        self.minor <= 10
    }

    /// An unconditional jump: 3.11's virtual `JUMP`, which `normalize_jumps` makes forward
    /// or backward (over an `else`, 3.13's `JUMP_NO_INTERRUPT`); before, the one 3.10's
    /// compile.c writes at that place (`JUMP_FORWARD` where the target always follows, as in
    /// `compiler_if`, else `JUMP_ABSOLUTE`).
    fn jump(&mut self, target: usize, forward: bool, line: i32) {
        let name = match (self.legacy(), forward) {
            (false, true) => self.jump_no_interrupt(),
            (false, false) => "JUMP",
            (true, true) => "JUMP_FORWARD",
            (true, false) => "JUMP_ABSOLUTE",
        };
        self.emit_jump(name, target, line);
    }

    /// 3.10's `NEXT_BLOCK` after a jump: a new block at once, so that blocks the code after
    /// it creates come later in `u_blocks` (whose order `extend_block` follows, newest
    /// first). 3.11+ start the block when the next instruction comes ([`Unit::push`]).
    fn next_block_3_10(&mut self) {
        if self.legacy() {
            let b = self.new_block();
            self.use_next_block(b);
        }
    }

    /// `COPY n` (3.11+); `DUP_TOP` before, for `n == 1`.
    fn copy(&mut self, n: u32, line: i32) {
        if self.legacy() {
            debug_assert_eq!(n, 1, "3.10 duplicates only the top (or two, DUP_TOP_TWO)");
            self.emit("DUP_TOP", 0, line);
        } else {
            self.emit("COPY", n, line);
        }
    }

    /// `SWAP 2` (3.11+); `ROT_TWO` before.
    fn swap_top_two(&mut self, line: i32) {
        if self.legacy() {
            self.emit("ROT_TWO", 0, line);
        } else {
            self.emit("SWAP", 2, line);
        }
    }

    /// `SWAP 2, COPY 2` of a comparison chain (3.11+): the middle operand kept below the
    /// pair compared; `DUP_TOP, ROT_THREE` before.
    fn keep_middle_operand(&mut self, line: i32) {
        if self.legacy() {
            self.emit("DUP_TOP", 0, line);
            self.emit("ROT_THREE", 0, line);
        } else {
            self.emit("SWAP", 2, line);
            self.emit("COPY", 2, line);
        }
    }

    /// A binary operator: `BINARY_OP` with `_nb_ops`' index (3.11+), in place 13 more; the
    /// operator's own instruction before (`binop`, `inplace_binop` of 3.10's compile.c).
    fn binary_op(&mut self, op: ast::Operator, inplace: bool, line: i32) {
        if self.legacy() {
            self.emit(legacy_binop(op, inplace), 0, line);
        } else {
            self.emit("BINARY_OP", nb_op(op) + if inplace { 13 } else { 0 }, line);
        }
    }
}

/// `_nb_ops`' index of a 3.10 operator's instruction (in place: 13 more), for the number
/// protocol's slot `binary_op` calls.
pub(crate) fn legacy_nb_op(name: &str) -> Option<u32> {
    use ast::Operator::*;
    [
        Add, Sub, Mult, MatMult, Div, Mod, Pow, LShift, RShift, BitOr, BitXor, BitAnd, FloorDiv,
    ]
    .into_iter()
    .find_map(|op| {
        if legacy_binop(op, false) == name {
            Some(nb_op(op))
        } else if legacy_binop(op, true) == name {
            Some(nb_op(op) + 13)
        } else {
            None
        }
    })
}

/// `binop` and `inplace_binop` (3.10's compile.c): each operator's instruction.
fn legacy_binop(op: ast::Operator, inplace: bool) -> &'static str {
    use ast::Operator::*;
    let (binary, in_place) = match op {
        Add => ("BINARY_ADD", "INPLACE_ADD"),
        Sub => ("BINARY_SUBTRACT", "INPLACE_SUBTRACT"),
        Mult => ("BINARY_MULTIPLY", "INPLACE_MULTIPLY"),
        MatMult => ("BINARY_MATRIX_MULTIPLY", "INPLACE_MATRIX_MULTIPLY"),
        Div => ("BINARY_TRUE_DIVIDE", "INPLACE_TRUE_DIVIDE"),
        Mod => ("BINARY_MODULO", "INPLACE_MODULO"),
        Pow => ("BINARY_POWER", "INPLACE_POWER"),
        LShift => ("BINARY_LSHIFT", "INPLACE_LSHIFT"),
        RShift => ("BINARY_RSHIFT", "INPLACE_RSHIFT"),
        BitOr => ("BINARY_OR", "INPLACE_OR"),
        BitXor => ("BINARY_XOR", "INPLACE_XOR"),
        BitAnd => ("BINARY_AND", "INPLACE_AND"),
        FloorDiv => ("BINARY_FLOOR_DIVIDE", "INPLACE_FLOOR_DIVIDE"),
    };
    if inplace { in_place } else { binary }
}

/// `_nb_ops`: `BINARY_OP`'s argument for each operator (the in-place ones are 13 more).
fn nb_op(op: ast::Operator) -> u32 {
    use ast::Operator::*;
    match op {
        Add => 0,
        BitAnd => 1,
        FloorDiv => 2,
        LShift => 3,
        MatMult => 4,
        Mult => 5,
        Mod => 6,
        BitOr => 7,
        Pow => 8,
        RShift => 9,
        Sub => 10,
        Div => 11,
        BitXor => 12,
    }
}

impl Compiler<'_> {
    /// The minor version being compiled for.
    fn minor(&self) -> u8 {
        self.o.layout().minor
    }

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

    /// The line a node ends on (`end_lineno`).
    fn end_line(&self, node: &impl Ranged) -> i32 {
        self.lines.line(node.range().end().to_usize() - 1) as i32
    }

    fn loc(&self, node: &impl Ranged) -> i32 {
        self.line(node) as i32
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

    fn parser_stmts(&mut self, body: &[Stmt]) -> Result<(), RunError> {
        for s in body {
            self.parser_stmt(s)?;
        }
        Ok(())
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
            Stmt::ImportFrom(i) => {
                if let Some(m) = &i.module {
                    self.identifier(m.as_str())?;
                }
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
                    if let Some(d) = &a.default {
                        self.parser_expr(d)?;
                    }
                }
                for v in [&f.args.vararg, &f.args.kwarg].into_iter().flatten() {
                    self.identifier(v.arg.as_str())?;
                }
                if let Some(r) = &f.returns {
                    self.parser_expr(r)?;
                }
                self.parser_stmts(&f.body)?;
            }
            Stmt::ClassDef(cd) => {
                self.identifier(cd.name.as_str())?;
                self.parser_exprs(&cd.bases)?;
                self.parser_stmts(&cd.body)?;
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
            Stmt::AugAssign(a) => {
                self.parser_expr(&a.target)?;
                self.parser_expr(&a.value)?;
            }
            Stmt::Delete(d) => self.parser_exprs(&d.targets)?,
            Stmt::Global(g) => {
                for n in &g.names {
                    self.identifier(n.as_str())?;
                }
            }
            Stmt::Expr(e) => self.parser_expr(&e.value)?,
            Stmt::If(i) => {
                self.parser_expr(&i.test)?;
                self.parser_stmts(&i.body)?;
                self.parser_stmts(&i.orelse)?;
            }
            Stmt::While(w) => {
                self.parser_expr(&w.test)?;
                self.parser_stmts(&w.body)?;
                self.parser_stmts(&w.orelse)?;
            }
            Stmt::For(f) => {
                self.parser_expr(&f.target)?;
                self.parser_expr(&f.iter)?;
                self.parser_stmts(&f.body)?;
                self.parser_stmts(&f.orelse)?;
            }
            Stmt::Try(t) => {
                self.parser_stmts(&t.body)?;
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(ty) = &h.type_ {
                        self.parser_expr(ty)?;
                    }
                    if let Some(name) = &h.name {
                        self.identifier(name.as_str())?;
                    }
                    self.parser_stmts(&h.body)?;
                }
                self.parser_stmts(&t.orelse)?;
                self.parser_stmts(&t.finalbody)?;
            }
            Stmt::Raise(r) => {
                for e in [&r.exc, &r.cause].into_iter().flatten() {
                    self.parser_expr(e)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn parser_exprs(&mut self, es: &[Expr]) -> Result<(), RunError> {
        for e in es {
            self.parser_expr(e)?;
        }
        Ok(())
    }

    fn parser_expr(&mut self, e: &Expr) -> Result<(), RunError> {
        match e {
            Expr::Lambda(l) => {
                for a in &l.args.args {
                    self.identifier(a.def.arg.as_str())?;
                    if let Some(d) = &a.default {
                        self.parser_expr(d)?;
                    }
                }
                for v in [&l.args.vararg, &l.args.kwarg].into_iter().flatten() {
                    self.identifier(v.arg.as_str())?;
                }
                self.parser_expr(&l.body)?;
            }
            Expr::Name(n) => {
                self.identifier(n.id.as_str())?;
            }
            Expr::Attribute(a) => {
                self.parser_expr(&a.value)?;
                self.identifier(a.attr.as_str())?;
            }
            Expr::Call(c) => {
                self.parser_expr(&c.func)?;
                self.parser_exprs(&c.args)?;
                for k in &c.keywords {
                    if let Some(a) = &k.arg {
                        self.identifier(a.as_str())?;
                    }
                    self.parser_expr(&k.value)?;
                }
            }
            Expr::BinOp(b) => {
                self.parser_expr(&b.left)?;
                self.parser_expr(&b.right)?;
            }
            Expr::UnaryOp(u) => self.parser_expr(&u.operand)?,
            Expr::IfExp(x) => {
                self.parser_expr(&x.body)?;
                self.parser_expr(&x.test)?;
                self.parser_expr(&x.orelse)?;
            }
            Expr::BoolOp(b) => self.parser_exprs(&b.values)?,
            Expr::Compare(c) => {
                self.parser_expr(&c.left)?;
                self.parser_exprs(&c.comparators)?;
            }
            Expr::List(l) => self.parser_exprs(&l.elts)?,
            Expr::ListComp(lc) => {
                self.parser_expr(&lc.elt)?;
                for g in &lc.generators {
                    self.parser_expr(&g.target)?;
                    self.parser_expr(&g.iter)?;
                    self.parser_exprs(&g.ifs)?;
                }
            }
            Expr::JoinedStr(j) => {
                // The literal parts are made when compiled (fstring_part); the expressions'
                // names and constants here.
                for v in &j.values {
                    if !matches!(v, Expr::Constant(_)) {
                        self.parser_expr(v)?;
                    }
                }
            }
            Expr::FormattedValue(fv) => {
                self.parser_expr(&fv.value)?;
                if let Some(spec) = &fv.format_spec {
                    self.parser_expr(spec)?;
                }
            }
            Expr::Dict(d) => {
                for (k, v) in d.keys.iter().zip(&d.values) {
                    if let Some(k) = k {
                        self.parser_expr(k)?;
                    }
                    self.parser_expr(v)?;
                }
            }
            Expr::Tuple(t) => self.parser_exprs(&t.elts)?,
            Expr::Subscript(s) => {
                self.parser_expr(&s.value)?;
                self.parser_expr(&s.slice)?;
            }
            Expr::Slice(s) => {
                for x in [&s.lower, &s.upper, &s.step].into_iter().flatten() {
                    self.parser_expr(x)?;
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
                    Constant::Float(f) => Some(self.o.float_from_f64(*f)?),
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
        // 3.9's compiler_addop_load_const adds nothing under BEGIN_DO_NOT_EMIT_BYTECODE.
        if unit.do_not_emit > 0 {
            return 0;
        }
        let is_none = key == ConstKey::None;
        let truth = match &key {
            ConstKey::None => false,
            ConstKey::Bool(b) => *b,
            ConstKey::Int(i) => *i != 0,
            ConstKey::Float(f) => f64::from_bits(*f) != 0.0,
            ConstKey::Str(s) => !s.is_empty(),
            ConstKey::Tuple(t) => !t.is_empty(),
        };
        let canonical = self.canonical(key, op);
        let c = Const::Object(canonical);
        let k = match unit.code.consts.iter().position(|&x| x == c) {
            Some(i) => i as u32,
            None => {
                unit.code.consts.push(c);
                (unit.code.consts.len() - 1) as u32
            }
        };
        unit.const_values.insert(k, truth);
        if is_none {
            unit.none_index = Some(k);
        }
        k
    }

    /// The object `c_const_cache` keeps for `key` (the first one seen).
    fn canonical(&mut self, key: ConstKey, op: u64) -> u64 {
        match self.const_cache.iter().find(|(k, _)| *k == key) {
            Some(&(_, c)) => c,
            None => {
                self.const_cache.push((key, op));
                op
            }
        }
    }

    fn none_const(&mut self, unit: &mut Unit) -> u32 {
        let none = self.o.none();
        self.add_const(unit, ConstKey::None, none)
    }

    /// The parser's object for the literal at `range`.
    fn parsed_at(&self, range: (u32, u32)) -> Option<u64> {
        self.parsed.get(&range).copied()
    }

    fn range_of(e: &Expr) -> (u32, u32) {
        let r = e.range();
        (r.start().to_u32(), r.end().to_u32())
    }

    /// The constant an expression is after `ast_opt.c` has folded it: literals, unary and
    /// binary operators on constants (within `safe_multiply`'s and friends' limits), and
    /// tuples of constants.
    fn fold(&self, e: &Expr) -> Option<CVal> {
        match e {
            Expr::Constant(c) => match &c.value {
                Constant::None => Some(CVal::None),
                Constant::Bool(b) => Some(CVal::Bool(*b)),
                Constant::Int(i) => i128::try_from(i).ok().map(CVal::Int),
                Constant::Float(f) => Some(CVal::Float(*f)),
                Constant::Str(s) => Some(CVal::Str(s.clone())),
                _ => None,
            },
            Expr::UnaryOp(u) => {
                let v = self.fold(&u.operand)?;
                let as_int = |v: &CVal| match v {
                    CVal::Int(i) => Some(*i),
                    CVal::Bool(b) => Some(i128::from(*b)),
                    _ => None,
                };
                if let CVal::Float(f) = v {
                    return match u.op {
                        ast::UnaryOp::USub => Some(CVal::Float(-f)),
                        ast::UnaryOp::UAdd => Some(CVal::Float(f)),
                        ast::UnaryOp::Not => Some(CVal::Bool(f == 0.0)),
                        ast::UnaryOp::Invert => None,
                    };
                }
                match u.op {
                    ast::UnaryOp::USub => as_int(&v)?.checked_neg().map(CVal::Int),
                    ast::UnaryOp::UAdd => as_int(&v).map(CVal::Int),
                    ast::UnaryOp::Invert => as_int(&v).map(|i| CVal::Int(!i)),
                    ast::UnaryOp::Not => Some(CVal::Bool(!v.truth())),
                }
            }
            Expr::BinOp(b) => {
                let l = self.fold(&b.left)?;
                let r = self.fold(&b.right)?;
                fold_binop(b.op, &l, &r)
            }
            Expr::Tuple(t) => {
                let mut items = Vec::new();
                for x in &t.elts {
                    items.push((self.fold(x)?, Some(Self::range_of(x))));
                }
                Some(CVal::Tuple(items))
            }
            Expr::Subscript(sub) => {
                // fold_subscr: a constant indexed by a constant (when that does not raise).
                let CVal::Int(i) = self.fold(&sub.slice)? else {
                    return None;
                };
                let index = |len: usize| {
                    let k = if i < 0 { i + len as i128 } else { i };
                    (0..len as i128).contains(&k).then_some(k as usize)
                };
                match self.fold(&sub.value)? {
                    CVal::Str(s) => {
                        let chars: Vec<char> = s.chars().collect();
                        Some(CVal::Str(chars[index(chars.len())?].to_string()))
                    }
                    CVal::Tuple(items) => Some(items[index(items.len())?].0.clone()),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The object of a folded constant: the parser's own for a plain literal; otherwise a new
    /// one, which `make_const` puts in the arena.
    fn const_object(&mut self, v: &CVal, range: Option<(u32, u32)>) -> Result<u64, RunError> {
        if let Some(op) = range.and_then(|r| self.parsed_at(r)) {
            return Ok(op);
        }
        let op = match v {
            CVal::None => return Ok(self.o.none()),
            CVal::Bool(b) => return Ok(self.o.bool_object(*b)),
            CVal::Int(i) => self.o.long_from_i128(*i)?,
            CVal::Float(f) => self.o.float_from_f64(*f)?,
            CVal::Str(s) => self.o.unicode_from_str(s)?,
            CVal::Tuple(items) => {
                // merge_consts_recursive: the tuple's items are the canonical objects.
                let mut objs = Vec::new();
                let mut interned = Vec::new();
                for (item, r) in items {
                    let op = self.const_object(item, *r)?;
                    let mut op = self.canonical(item.key(), op);
                    // intern_string_constants reaches into constant tuples.
                    if let CVal::Str(text) = item
                        && crate::interp::all_name_chars(text)
                    {
                        op = self.o.unicode_intern(op)?;
                        interned.push(op);
                    }
                    objs.push(op);
                }
                let t = self.o.tuple_pack(&objs)?;
                for i in interned {
                    self.o.decref(i)?;
                }
                t
            }
        };
        self.arena.add(op);
        Ok(op)
    }

    /// `ADDOP_LOAD_CONST` of a folded constant: its index in `co_consts`.
    fn load_const(
        &mut self,
        unit: &mut Unit,
        v: &CVal,
        range: Option<(u32, u32)>,
    ) -> Result<u32, RunError> {
        let op = self.const_object(v, range)?;
        Ok(self.add_const(unit, v.key(), op))
    }

    /// A str constant the compiler itself adds (an annotation's name): `&_Py_ID(name)`.
    fn id_const(&mut self, unit: &mut Unit, name: &'static str) -> Result<u32, RunError> {
        let op = self.o.py_id(name)?;
        Ok(self.add_const(unit, ConstKey::Str(name.into()), op))
    }

    // ---- names ------------------------------------------------------------------------------

    /// `compiler_addop_name`'s index in `co_names` (an attribute, a method, a module): none
    /// is added under 3.9's `BEGIN_DO_NOT_EMIT_BYTECODE`.
    fn name_index(&mut self, unit: &mut Unit, name: &str) -> Result<u32, RunError> {
        if unit.do_not_emit > 0 {
            return Ok(0);
        }
        self.nameop_index(unit, name)
    }

    /// `compiler_nameop`'s index in `co_names`: `compiler_add_o` before the instruction,
    /// so added even where 3.9 emits no bytecode.
    fn nameop_index(&mut self, unit: &mut Unit, name: &str) -> Result<u32, RunError> {
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
        if unit.fast_hidden.iter().any(|g| g == name)
            && let Some(i) = unit.layout.index(name)
        {
            return Scope::Fast(i);
        }
        if unit.comp_only.iter().any(|g| g == name) {
            return Scope::Global;
        }
        if unit.globals.iter().any(|g| g == name) {
            return Scope::Global;
        }
        if !unit.code.function {
            return Scope::Module;
        }
        match unit.layout.index(name) {
            Some(_) if unit.legacy() && unit.layout.is_deref(name) => {
                Scope::Deref(unit.layout.deref_index(name).expect("a cell or free"))
            }
            Some(i) if unit.layout.is_deref(name) => Scope::Deref(i),
            Some(i) => Scope::Fast(i),
            None => Scope::Global,
        }
    }

    /// The names a scope nested in `unit` can take from it in a closure.
    fn closure_names(unit: &Unit) -> Vec<String> {
        if !unit.code.function {
            return Vec::new();
        }
        let l = &unit.layout;
        l.cellvars.iter().chain(&l.freevars).cloned().collect()
    }

    /// A function's or comprehension's `localsplus` names, interned, as its `co_varnames`
    /// (the model keeps `co_localsplusnames` there).
    /// On 3.10 the frame's `localsplus` is `co_varnames` (the locals, cell parameters among
    /// them), then `co_cellvars`, then `co_freevars`: `nlocals` tells where the first end.
    fn set_layout(&mut self, unit: &mut Unit, layout: Layout) -> Result<(), RunError> {
        let names = if unit.legacy() {
            layout.names_3_10()
        } else {
            layout.names.clone()
        };
        for l in &names {
            let op = self.interned(l)?;
            unit.code.varnames.push(op);
        }
        unit.code.nlocals = if unit.legacy() {
            names.len() - layout.cellvars.len() - layout.freevars.len()
        } else {
            names.len()
        } as u32;
        unit.code.nfreevars = layout.freevars.len() as u32;
        unit.layout = layout;
        Ok(())
    }

    /// `compiler_make_closure`: the cells a nested scope takes (`LOAD_CLOSURE`, `BUILD_TUPLE`),
    /// its code, `MAKE_FUNCTION` with `flags` (8 added for the closure).
    /// `merge_consts_recursive` of a code object: `_PyCode_ConstantKey` keys a code object by
    /// itself, so `c_const_cache` (the whole module's) gives back the first code object
    /// `code_richcompare` finds equal to it; a later equal one is marked merged.
    fn merge_code(&mut self, index: usize) -> usize {
        let earlier = (1..index).find(|&c| {
            !self.units[c].merged
                && code_richcompare(&self.units[c], &self.units[index], self.minor())
        });
        match earlier {
            Some(c) => {
                self.units[index].merged = true;
                c
            }
            None => index,
        }
    }

    fn make_closure(
        &mut self,
        unit: &mut Unit,
        index: usize,
        freevars: &[String],
        mut flags: u32,
        line: i32,
    ) -> Result<(), RunError> {
        if !freevars.is_empty() {
            for name in freevars {
                // 3.10 numbers the cells and free variables from 0 (`compiler_lookup_arg` in
                // u_cellvars, u_freevars after them).
                let i = if unit.legacy() {
                    unit.layout.deref_index(name)
                } else {
                    unit.layout.index(name)
                }
                .expect("a free variable of a nested scope is a cell or free here");
                unit.emit("LOAD_CLOSURE", i, line);
            }
            unit.emit("BUILD_TUPLE", freevars.len() as u32, line);
            flags |= 8;
        }
        // compiler_add_const: the constant is the code object merge_consts_recursive keeps,
        // found in co_consts (compiler_add_o) if it is there already.
        let c = Const::Code(self.merge_code(index));
        let k = match unit.code.consts.iter().position(|&x| x == c) {
            Some(i) => i as u32,
            None => {
                unit.code.consts.push(c);
                (unit.code.consts.len() - 1) as u32
            }
        };
        unit.emit("LOAD_CONST", k, line);
        if unit.legacy() {
            // 3.10's MAKE_FUNCTION takes the qualified name from the stack.
            let qualname = self.units[index].qualname.clone();
            let q = self.qualname_const(unit, &qualname)?;
            unit.emit("LOAD_CONST", q, line);
        }
        if unit.minor >= 13 {
            // 3.13: MAKE_FUNCTION takes only the code; each attribute beneath it is set by
            // SET_FUNCTION_ATTRIBUTE, the closure (on top) first.
            unit.emit("MAKE_FUNCTION", 0, line);
            for flag in [8, 4, 2, 1] {
                if flags & flag != 0 {
                    unit.emit("SET_FUNCTION_ATTRIBUTE", flag, line);
                }
            }
        } else {
            unit.emit("MAKE_FUNCTION", flags, line);
        }
        Ok(())
    }

    /// 3.10: the `u_qualname` `compiler_make_closure` loads as a constant: at module level the
    /// name itself (the parser's identifier, or `<listcomp>`'s and `<lambda>`'s static ones),
    /// else a new str `compiler_set_qualname` formatted, which the constants then hold.
    fn qualname_const(&mut self, unit: &mut Unit, qualname: &str) -> Result<u32, RunError> {
        let key = ConstKey::Str(qualname.into());
        if let Some(&(_, op)) = self.const_cache.iter().find(|(k, _)| *k == key) {
            return Ok(self.add_const(unit, key, op));
        }
        let op = match qualname {
            "<listcomp>" => self.o.py_id("<listcomp>")?,
            "<lambda>" => self.o.py_id("<lambda>")?,
            q if q.contains('.') => {
                let op = self.o.unicode_from_str(q)?;
                self.cache_only.push(op);
                op
            }
            q => self.interned(q)?,
        };
        Ok(self.add_const(unit, key, op))
    }

    fn load_name(
        &mut self,
        unit: &mut Unit,
        name: &str,
        line: i32,
        null: bool,
    ) -> Result<(), RunError> {
        // 3.10 has no NULL with the callable: CALL_FUNCTION takes the callable alone. Up to
        // 3.12 the NULL goes beneath the callable, from 3.13 above it.
        let null = null && !unit.legacy();
        let null_before = null && unit.minor < 13;
        let null_after = null && unit.minor >= 13;
        match self.scope(unit, name) {
            Scope::Module => {
                if null_before {
                    unit.emit("PUSH_NULL", 0, line);
                }
                let i = self.nameop_index(unit, name)?;
                unit.emit("LOAD_NAME", i, line);
            }
            Scope::Fast(i) => {
                if null_before {
                    unit.emit("PUSH_NULL", 0, line);
                }
                unit.emit("LOAD_FAST", i, line);
            }
            Scope::Deref(i) => {
                if null_before {
                    unit.emit("PUSH_NULL", 0, line);
                }
                unit.emit("LOAD_DEREF", i, line);
            }
            Scope::Global if unit.minor >= 13 => {
                // The PUSH_NULL after it is folded into its low bit by optimize_basic_block
                // (after the small blocks are copied, counting it).
                let i = self.nameop_index(unit, name)?;
                unit.emit("LOAD_GLOBAL", i << 1, line);
            }
            Scope::Global => {
                // A PUSH_NULL before LOAD_GLOBAL is folded into its low bit
                // (optimize_basic_block).
                let i = self.nameop_index(unit, name)?;
                let arg = if unit.legacy() {
                    i
                } else {
                    (i << 1) | u32::from(null)
                };
                unit.emit("LOAD_GLOBAL", arg, line);
                return Ok(());
            }
        }
        if null_after {
            unit.emit("PUSH_NULL", 0, line);
        }
        Ok(())
    }

    fn store_name(&mut self, unit: &mut Unit, name: &str, line: i32) -> Result<(), RunError> {
        let ops = ["STORE_NAME", "STORE_FAST", "STORE_DEREF", "STORE_GLOBAL"];
        self.compiler_nameop(unit, name, ops, line)
    }

    /// `compiler_nameop` for `Del`.
    fn delete_name(&mut self, unit: &mut Unit, name: &str, line: i32) -> Result<(), RunError> {
        let ops = [
            "DELETE_NAME",
            "DELETE_FAST",
            "DELETE_DEREF",
            "DELETE_GLOBAL",
        ];
        self.compiler_nameop(unit, name, ops, line)
    }

    /// `compiler_nameop` for `Store` or `Del`: the instruction of the name's scope, from
    /// `ops` (its `_NAME`, `_FAST`, `_DEREF` and `_GLOBAL` forms); `_NAME` and `_GLOBAL` take
    /// the name's index in `co_names`.
    fn compiler_nameop(
        &mut self,
        unit: &mut Unit,
        name: &str,
        ops: [&'static str; 4],
        line: i32,
    ) -> Result<(), RunError> {
        let [by_name, fast, deref, global] = ops;
        match self.scope(unit, name) {
            Scope::Module => {
                let i = self.nameop_index(unit, name)?;
                unit.emit(by_name, i, line);
            }
            Scope::Fast(i) => unit.emit(fast, i, line),
            Scope::Deref(i) => unit.emit(deref, i, line),
            Scope::Global => {
                let i = self.nameop_index(unit, name)?;
                unit.emit(global, i, line);
            }
        }
        Ok(())
    }

    // ---- units ------------------------------------------------------------------------------

    fn module(&mut self, body: &[Stmt]) -> Result<(), RunError> {
        let mut unit = Unit::new(
            CodeUnit::new("<module>".into(), "<module>".into(), 1, (0, 0)),
            // The module's symbols: a name some function declares global is GLOBAL_EXPLICIT
            // in the module too (symtable adds DEF_GLOBAL to st_global).
            declared_global(body),
            self.minor(),
        );
        self.units.push(unit.code.clone()); // index 0, filled in at the end
        if !unit.legacy() {
            // A module's RESUME is on line 0 (compiler_enter_scope).
            unit.loc.line = 0;
            unit.emit("RESUME", 0, 0);
        }
        self.compiler_body(&mut unit, body)?;
        self.assemble(&mut unit, true)?;
        self.units[0] = unit.code;
        Ok(())
    }

    /// `compiler_body` of a module or a class: the docstring stored in `__doc__`, then the
    /// statements.
    fn compiler_body(&mut self, unit: &mut Unit, body: &[Stmt]) -> Result<(), RunError> {
        let mut rest = body;
        if let Some((Stmt::Expr(e), tail)) = body.split_first()
            && matches!(&*e.value, Expr::Constant(c) if matches!(c.value, Constant::Str(_)))
        {
            self.expr(unit, &e.value)?;
            self.o.py_id("__doc__")?;
            let line = self.loc(e);
            self.store_name(unit, "__doc__", line)?;
            rest = tail;
        }
        self.stmts(unit, rest)
    }

    /// `compiler_function`'s body: the function's code unit; its index and free variables.
    fn function(
        &mut self,
        f: &ast::StmtFunctionDef,
        qualname: String,
        available: &[String],
    ) -> Result<(usize, Vec<String>), RunError> {
        self.refuse_unemitted_code(f)?;
        let a = &f.args;
        if !a.posonlyargs.is_empty() || !a.kwonlyargs.is_empty() {
            return Err(self.not_modelled("positional-only or keyword-only parameters", f));
        }
        if [&a.vararg, &a.kwarg]
            .into_iter()
            .flatten()
            .any(|v| v.annotation.is_some())
        {
            return Err(self.not_modelled("an annotation of *args or **kwargs", f));
        }
        if !f.decorator_list.is_empty() {
            return Err(self.not_modelled("a decorator", f));
        }
        let firstlineno = self.line(f);
        let inline = self.minor() >= 12;
        let (locals, globals) = symtable::function_bindings(f, inline);
        let mut uses = symtable::Uses {
            inline,
            ..symtable::Uses::default()
        };
        uses.stmts(&f.body);
        let free: Vec<String> = symtable::function_free(f, inline)
            .into_iter()
            .filter(|n| available.contains(n))
            .collect();
        let nparams =
            a.args.len() + usize::from(a.vararg.is_some()) + usize::from(a.kwarg.is_some());
        let layout = Layout::new(&locals, nparams, &uses.nested_free, free.clone());
        let mut unit = Unit::new(
            CodeUnit {
                argcount: a.args.len() as u32,
                function: true,
                varargs: a.vararg.is_some(),
                varkeywords: a.kwarg.is_some(),
                ..CodeUnit::new(
                    f.name.to_string(),
                    qualname,
                    firstlineno,
                    (f.range().start().to_u32(), f.range().end().to_u32()),
                )
            },
            globals,
            self.minor(),
        );
        self.set_layout(&mut unit, layout)?;
        if inline {
            let (own, _) = symtable::function_bindings(f, false);
            unit.comp_only = locals
                .iter()
                .filter(|n| !own.contains(n))
                .cloned()
                .collect();
        }
        // compiler_function: the docstring, or None, is always co_consts[0]; the body goes
        // on after it.
        let mut body = f.body.as_slice();
        match body.split_first() {
            Some((Stmt::Expr(e), tail)) if matches!(&*e.value, Expr::Constant(c) if matches!(c.value, Constant::Str(_))) =>
            {
                let v = self.fold(&e.value).expect("a str constant");
                self.load_const(&mut unit, &v, Some(Self::range_of(&e.value)))?;
                body = tail;
            }
            _ => {
                self.none_const(&mut unit);
            }
        }
        if !unit.legacy() {
            unit.emit("RESUME", 0, firstlineno as i32);
        }
        for s in body {
            self.stmt(&mut unit, s)?;
        }
        self.assemble(&mut unit, true)?;
        self.units.push(unit.code);
        Ok((self.units.len() - 1, free))
    }

    // ---- statements -------------------------------------------------------------------------

    fn stmts(&mut self, unit: &mut Unit, body: &[Stmt]) -> Result<(), RunError> {
        for s in body {
            self.stmt(unit, s)?;
        }
        Ok(())
    }

    fn stmt(&mut self, unit: &mut Unit, s: &Stmt) -> Result<(), RunError> {
        let line = self.loc(s);
        unit.last_loc = line;
        unit.start_statement(line);
        // compiler_visit_stmt's SET_LOC.
        unit.loc = self.lines.loc(s.range());
        match s {
            Stmt::Expr(e) => {
                // compiler_visit_stmt_expr: a constant statement is a NOP; the POP_TOP is
                // artificial (UNSET_LOC).
                if self.fold(&e.value).is_some() {
                    unit.line_nop(line);
                } else {
                    self.expr(unit, &e.value)?;
                    unit.emit("POP_TOP", 0, -1);
                    unit.last_loc = -1;
                }
            }
            Stmt::Assign(a) => {
                self.expr(unit, &a.value)?;
                let n = a.targets.len();
                for (i, t) in a.targets.iter().enumerate() {
                    if i < n - 1 {
                        unit.copy(1, line);
                    }
                    self.store_target(unit, t)?;
                }
            }
            Stmt::AugAssign(a) => self.augassign(unit, a, line)?,
            Stmt::Return(r) => self.compiler_return(unit, r, line)?,
            Stmt::Import(i) => {
                for a in &i.names {
                    if a.name.contains('.') {
                        return Err(self.not_modelled("a dotted import", s));
                    }
                    // compiler_import: the level, _PyLong_GetZero() (borrowed, static).
                    let zero = self.o.long_from_i64(0)?;
                    let level = self.add_const(unit, ConstKey::Int(0), zero);
                    self.o.decref(zero)?;
                    unit.emit("LOAD_CONST", level, line);
                    let none = self.none_const(unit);
                    unit.emit("LOAD_CONST", none, line);
                    let n = self.name_index(unit, a.name.as_str())?;
                    unit.emit("IMPORT_NAME", n, line);
                    let bound = a.asname.as_ref().unwrap_or(&a.name).to_string();
                    self.store_name(unit, &bound, line)?;
                }
            }
            Stmt::ImportFrom(i) => self.compiler_from_import(unit, i, s, line)?,
            Stmt::FunctionDef(f) => {
                let mut flags = self.compiler_default_arguments(unit, &f.args, line)?;
                let annotations = self.annotations(unit, f, line)?;
                if annotations > 0 && unit.minor == 9 {
                    flags |= 4;
                } else if annotations > 0 {
                    unit.emit("BUILD_TUPLE", 2 * annotations, line);
                    flags |= 4;
                }
                let qualname = qualname_in(unit, f.name.as_str());
                let available = Self::closure_names(unit);
                let (index, free) = self.function(f, qualname, &available)?;
                self.make_closure(unit, index, &free, flags, line)?;
                self.store_name(unit, f.name.as_str(), line)?;
            }
            Stmt::ClassDef(cd) => self.compiler_class(unit, cd, line)?,
            Stmt::Pass(_) => unit.line_nop(line),
            // Declarations only: the symbol table used them.
            Stmt::Global(_) => {}
            Stmt::Delete(d) => {
                for t in &d.targets {
                    self.delete_target(unit, t)?;
                }
            }
            Stmt::If(i) => self.compiler_if(unit, i)?,
            Stmt::While(w) => self.compiler_while(unit, w, line)?,
            Stmt::For(f) => self.compiler_for(unit, f)?,
            Stmt::Break(_) => self.compiler_break(unit, s, line)?,
            Stmt::Continue(_) => self.compiler_continue(unit, s, line)?,
            Stmt::Try(t) if matches!(self.minor(), 11 | 12) => {
                if t.finalbody.is_empty() {
                    self.compiler_try_except(unit, t, line)?;
                } else {
                    self.compiler_try_finally(unit, t, line)?;
                }
            }
            Stmt::Raise(r) if matches!(self.minor(), 11 | 12) => {
                // compiler_visit_stmt's Raise_kind: the exception, then the cause.
                let mut n = 0;
                if let Some(exc) = &r.exc {
                    self.expr(unit, exc)?;
                    n += 1;
                    if let Some(cause) = &r.cause {
                        self.expr(unit, cause)?;
                        n += 1;
                    }
                }
                unit.emit("RAISE_VARARGS", n, line);
            }
            // Only 3.11's and 3.12's compiler_try_except and compiler_try_finally are mirrored
            // (3.13's codegen labels and locates its handlers otherwise): never compiled as
            // theirs on another version.
            Stmt::Try(_) | Stmt::Raise(_) => {
                let construct = format!("{} on 3.{}", stmt_name(s), self.minor());
                return Err(self.not_modelled(&construct, s));
            }
            other => return Err(self.not_modelled(stmt_name(other), s)),
        }
        Ok(())
    }

    /// `compiler_class`: the class body compiled as a code object of its own, then
    /// `__build_class__(<function of the body>, 'NAME')` called and its result stored.
    fn compiler_class(
        &mut self,
        unit: &mut Unit,
        cd: &ast::StmtClassDef,
        line: i32,
    ) -> Result<(), RunError> {
        if !(11..=13).contains(&unit.minor) {
            return Err(self.not_modelled(&format!("a class statement on 3.{}", unit.minor), cd));
        }
        if !cd.decorator_list.is_empty() {
            return Err(self.not_modelled("a class decorator", cd));
        }
        if !cd.keywords.is_empty() || !cd.type_params.is_empty() {
            return Err(self.not_modelled("a class's keywords or type parameters", cd));
        }
        if !cd.bases.is_empty() {
            return Err(self.not_modelled("a base class", cd));
        }
        if symtable::class_needs_class_cell(cd) {
            return Err(self.not_modelled("super() or __class__ (the __classcell__)", cd));
        }
        let qualname = qualname_in(unit, cd.name.as_str());
        // A class body never sees the function around it through a closure here: that would be
        // LOAD_CLASSDEREF and the class body's own COPY_FREE_VARS.
        let available = Self::closure_names(unit);
        if symtable::class_free(cd, unit.minor >= 12)
            .iter()
            .any(|n| available.contains(n))
        {
            return Err(self.not_modelled("a class using a variable of the enclosing function", cd));
        }
        let index = self.class_body(cd, qualname)?;
        // 2. load the 'build_class' function (3.13: the NULL above it, as for any callable);
        // 3. the function made from the body's code; 4. the class name; 5. the call.
        if unit.minor >= 13 {
            unit.emit("LOAD_BUILD_CLASS", 0, line);
            unit.emit("PUSH_NULL", 0, line);
        } else {
            unit.emit("PUSH_NULL", 0, line);
            unit.emit("LOAD_BUILD_CLASS", 0, line);
        }
        self.make_closure(unit, index, &[], 0, line)?;
        let name = self.interned(cd.name.as_str())?;
        let k = self.add_const(unit, ConstKey::Str(cd.name.to_string()), name);
        unit.emit("LOAD_CONST", k, line);
        if unit.minor == 11 {
            unit.emit("PRECALL", 2, line);
        }
        unit.emit("CALL", 2, line);
        // 7. store into <name>
        self.store_name(unit, cd.name.as_str(), line)
    }

    /// The class body's code unit (`compiler_class_body`, `COMPILER_SCOPE_CLASS`):
    /// `__module__` from the globals' `__name__`, `__qualname__`, 3.13's `__firstlineno__`,
    /// the docstring as `__doc__`, the body, 3.13's `__static_attributes__`, and `return None`.
    fn class_body(&mut self, cd: &ast::StmtClassDef, qualname: String) -> Result<usize, RunError> {
        self.refuse_unemitted_code(cd)?;
        let firstlineno = self.line(cd);
        let mut unit = Unit::new(
            CodeUnit::new(
                cd.name.to_string(),
                qualname.clone(),
                firstlineno,
                (cd.range().start().to_u32(), cd.range().end().to_u32()),
            ),
            Vec::new(),
            self.minor(),
        );
        unit.class = true;
        let line = firstlineno as i32;
        unit.emit("RESUME", 0, line);
        self.o.py_id("__module__")?;
        self.o.py_id("__qualname__")?;
        self.load_name(&mut unit, "__name__", line, false)?;
        self.store_name(&mut unit, "__module__", line)?;
        // The qualname: the class's identifier at module level, else a str of its own, merged
        // as constants are.
        let q = if qualname == cd.name.as_str() {
            self.interned(&qualname)?
        } else {
            self.const_object(&CVal::Str(qualname.clone()), None)?
        };
        let k = self.add_const(&mut unit, ConstKey::Str(qualname), q);
        unit.emit("LOAD_CONST", k, line);
        self.store_name(&mut unit, "__qualname__", line)?;
        if unit.minor >= 13 {
            // ADDOP_LOAD_CONST_NEW(PyLong_FromLong(u_firstlineno)).
            let k = self.load_const(&mut unit, &CVal::Int(i128::from(firstlineno)), None)?;
            unit.emit("LOAD_CONST", k, line);
            self.o.py_id("__firstlineno__")?;
            self.store_name(&mut unit, "__firstlineno__", line)?;
            self.static_attributes.push(Default::default());
        }
        self.compiler_body(&mut unit, &cd.body)?;
        if unit.minor >= 13 {
            let names = self.static_attributes.pop().unwrap_or_default();
            // _PyCompile_StaticAttributesAsTuple: the set sorted, as a tuple; loaded and
            // stored at NO_LOCATION (the line of the instruction before).
            let names: Vec<String> = names.into_iter().collect();
            let k = self.names_tuple(&mut unit, &names)?;
            unit.emit("LOAD_CONST", k, -1);
            self.o.py_id("__static_attributes__")?;
            self.store_name(&mut unit, "__static_attributes__", -1)?;
        }
        // The implicit `return None` (no __classcell__): artificial, as assemble adds it.
        self.assemble(&mut unit, true)?;
        self.units.push(unit.code);
        Ok(self.units.len() - 1)
    }

    /// 3.13's `compiler_maybe_add_static_attribute_to_class`: a store to `self.NAME` adds
    /// `NAME` to the innermost class body enclosing the unit being compiled (a class body's
    /// own `self.NAME` counts for the class around it, if any).
    fn maybe_add_static_attribute(&mut self, unit: &Unit, a: &ast::ExprAttribute) {
        if unit.minor < 13 || !matches!(&*a.value, Expr::Name(n) if n.id.as_str() == "self") {
            return;
        }
        let skip = usize::from(unit.class);
        let n = self.static_attributes.len();
        if n > skip {
            self.static_attributes[n - 1 - skip].insert(a.attr.to_string());
        }
    }

    /// `compiler_return`: a constant is loaded after the blocks are unwound (a `NOP` keeps the
    /// line); anything else is computed first and kept on top while a `for` loop's iterator
    /// is popped beneath it. After a `finally` body the return has no line of its own.
    fn compiler_return(
        &mut self,
        unit: &mut Unit,
        r: &ast::StmtReturn,
        line: i32,
    ) -> Result<(), RunError> {
        if !unit.code.function {
            return Err(self.not_modelled("'return' outside a function", r));
        }
        let folded = r.value.as_deref().and_then(|v| self.fold(v));
        let preserve_tos = r.value.is_some() && folded.is_none();
        if let Some(v) = &r.value {
            if preserve_tos {
                self.expr(unit, v)?;
            } else {
                unit.line_nop(self.loc(&**v));
            }
        }
        if r.value.as_ref().is_none_or(|v| self.loc(&**v) != line) {
            unit.line_nop(line);
        }
        let handlers = unit.handlers.clone();
        let mut loc = line;
        self.unwind_fblock_stack(unit, preserve_tos, &mut loc, false)?;
        match (&r.value, folded) {
            (None, _) => {
                let none = self.none_const(unit);
                unit.emit("LOAD_CONST", none, loc);
            }
            (Some(v), Some(c)) => {
                let k = self.load_const(unit, &c, Some(Self::range_of(v)))?;
                unit.emit("LOAD_CONST", k, loc);
            }
            _ => {}
        }
        unit.emit("RETURN_VALUE", 0, loc);
        unit.handlers = handlers;
        unit.last_loc = loc;
        Ok(())
    }

    /// `compiler_unwind_fblock_stack`: each block from the innermost out is unwound (up to
    /// the innermost loop when `stop_at_loop`, for `break` and `continue`), then put back.
    /// `loc` is the location the unwinding statement's own instructions take: none after a
    /// `finally` body. Returns the loop it stopped at.
    fn unwind_fblock_stack(
        &mut self,
        unit: &mut Unit,
        preserve_tos: bool,
        loc: &mut i32,
        stop_at_loop: bool,
    ) -> Result<Option<FBlock>, RunError> {
        let Some(top) = unit.fblocks.last().cloned() else {
            return Ok(None);
        };
        if stop_at_loop && matches!(top, FBlock::While { .. } | FBlock::For { .. }) {
            return Ok(Some(top));
        }
        unit.fblocks.pop();
        let res = self
            .unwind_fblock(unit, &top, preserve_tos, loc)
            .and_then(|()| self.unwind_fblock_stack(unit, preserve_tos, loc, stop_at_loop));
        unit.fblocks.push(top);
        res
    }

    /// `compiler_unwind_fblock`: what leaving one block takes: a `for` loop's iterator
    /// popped, a handler popped (`POP_BLOCK`, which also leaves its exception-table range),
    /// the exception being handled restored (`POP_EXCEPT`), a `finally` body run.
    fn unwind_fblock(
        &mut self,
        unit: &mut Unit,
        fb: &FBlock,
        preserve_tos: bool,
        loc: &mut i32,
    ) -> Result<(), RunError> {
        let line = *loc;
        match fb {
            FBlock::While { .. } | FBlock::ExceptionHandler => {}
            FBlock::For { .. } => {
                if preserve_tos {
                    unit.swap_top_two(line);
                }
                unit.emit("POP_TOP", 0, line);
            }
            FBlock::TryExcept => unit.pop_block(line),
            FBlock::FinallyTry { body } => {
                // This POP_BLOCK gets the line of the unwinding statement.
                unit.pop_block(line);
                if preserve_tos {
                    unit.fblocks.push(FBlock::PopValue);
                }
                let body = unit.finally_bodies[*body].clone();
                self.stmts(unit, &body)?;
                if preserve_tos {
                    unit.fblocks.pop();
                }
                // The finally body seems to run after the statement that unwinds, so what
                // comes next is artificial.
                *loc = -1;
            }
            FBlock::FinallyEnd => {
                if preserve_tos {
                    unit.swap_top_two(line);
                }
                unit.emit("POP_TOP", 0, line); // exc_value
                if preserve_tos {
                    unit.swap_top_two(line);
                }
                unit.pop_block(line);
                unit.emit("POP_EXCEPT", 0, line);
            }
            FBlock::HandlerCleanup { name } => {
                if name.is_some() {
                    unit.pop_block(line);
                }
                if preserve_tos {
                    unit.swap_top_two(line);
                }
                unit.pop_block(line);
                unit.emit("POP_EXCEPT", 0, line);
                if let Some(name) = name {
                    self.clear_handler_name(unit, name, line)?;
                }
            }
            FBlock::PopValue => {
                if preserve_tos {
                    unit.swap_top_two(line);
                }
                unit.emit("POP_TOP", 0, line);
            }
        }
        Ok(())
    }

    /// `name = None; del name`: an `except ... as name` clause unbinds its name, so the
    /// exception (and its traceback, which holds the frame) does not stay alive in a cycle.
    fn clear_handler_name(
        &mut self,
        unit: &mut Unit,
        name: &str,
        line: i32,
    ) -> Result<(), RunError> {
        let none = self.none_const(unit);
        unit.emit("LOAD_CONST", none, line);
        self.store_name(unit, name, line)?;
        self.delete_name(unit, name, line)
    }

    /// `compiler_try_except` (3.11, 3.12): the body under a handler (`SETUP_FINALLY`), then
    /// `else`; the handler pushes the exception (`PUSH_EXC_INFO`, under a cleanup handler
    /// that restores the previous one and re-raises), and each `except` clause tests it
    /// (`CHECK_EXC_MATCH`); a clause with a name runs its body under one more handler that
    /// unbinds the name; none matching re-raises (`RERAISE 0`).
    fn compiler_try_except(
        &mut self,
        unit: &mut Unit,
        s: &ast::StmtTry,
        line: i32,
    ) -> Result<(), RunError> {
        let body = unit.new_block();
        let mut except = unit.new_block();
        let end = unit.new_block();
        let cleanup = unit.new_block();
        unit.setup("SETUP_FINALLY", except, body, line);
        unit.fblocks.push(FBlock::TryExcept);
        self.stmts(unit, &s.body)?;
        unit.fblocks.pop();
        unit.pop_block(-1);
        self.stmts(unit, &s.orelse)?;
        unit.emit_jump("JUMP", end, -1);
        let outer = unit.handlers.clone();
        unit.use_next_block(except);
        unit.push("SETUP_CLEANUP", 0, Some(cleanup), -1);
        unit.handlers.push(cleanup);
        unit.emit("PUSH_EXC_INFO", 0, -1);
        // The runtime pushed the exception: an fblock accounts for it.
        unit.fblocks.push(FBlock::ExceptionHandler);
        let in_handler = unit.handlers.clone();
        let n = s.handlers.len();
        for (i, h) in s.handlers.iter().enumerate() {
            let ast::ExceptHandler::ExceptHandler(h) = h;
            let hline = self.loc(h);
            if h.type_.is_none() && i < n - 1 {
                return Err(RunError::Syntax {
                    message: "default 'except:' must be last".into(),
                    filename: self.filename.clone(),
                    line: self.line(h),
                });
            }
            except = unit.new_block();
            if let Some(t) = &h.type_ {
                self.expr(unit, t)?;
                unit.emit("CHECK_EXC_MATCH", 0, hline);
                unit.emit_jump("POP_JUMP_IF_FALSE", except, hline);
            }
            if let Some(name) = &h.name {
                self.handler_with_name(unit, name.as_str(), &h.body, end, hline)?;
            } else {
                let cleanup_body = unit.new_block();
                unit.emit("POP_TOP", 0, hline); // exc_value
                unit.use_next_block(cleanup_body);
                unit.fblocks.push(FBlock::HandlerCleanup { name: None });
                self.stmts(unit, &h.body)?;
                unit.fblocks.pop();
                unit.pop_block(-1);
                unit.emit("POP_EXCEPT", 0, -1);
                unit.emit_jump("JUMP", end, -1);
            }
            unit.use_next_block(except);
            unit.handlers.clone_from(&in_handler);
        }
        unit.fblocks.pop();
        unit.emit("RERAISE", 0, -1);
        unit.use_next_block(cleanup);
        unit.handlers = outer;
        pop_except_and_reraise(unit, -1);
        unit.use_next_block(end);
        unit.last_loc = -1;
        Ok(())
    }

    /// The body of `except T as name:`, as `try: body finally: name = None; del name`.
    fn handler_with_name(
        &mut self,
        unit: &mut Unit,
        name: &str,
        body: &[Stmt],
        end: usize,
        hline: i32,
    ) -> Result<(), RunError> {
        let cleanup_end = unit.new_block();
        let cleanup_body = unit.new_block();
        self.store_name(unit, name, hline)?;
        unit.setup("SETUP_CLEANUP", cleanup_end, cleanup_body, hline);
        unit.fblocks.push(FBlock::HandlerCleanup {
            name: Some(name.to_string()),
        });
        self.stmts(unit, body)?;
        unit.fblocks.pop();
        let in_clause = unit.handlers.clone();
        unit.pop_block(-1);
        unit.pop_block(-1);
        unit.emit("POP_EXCEPT", 0, -1);
        self.clear_handler_name(unit, name, -1)?;
        unit.emit_jump("JUMP", end, -1);
        // except: the clause's body raised.
        unit.use_next_block(cleanup_end);
        unit.handlers = in_clause;
        unit.handlers.pop();
        self.clear_handler_name(unit, name, -1)?;
        unit.emit("RERAISE", 1, -1);
        Ok(())
    }

    /// `compiler_try_finally` (3.11, 3.12): the body (with its handlers) under a handler;
    /// the `finally` body compiled twice, once where the body ends and once in the handler,
    /// which pushes the exception, runs it and re-raises.
    fn compiler_try_finally(
        &mut self,
        unit: &mut Unit,
        s: &ast::StmtTry,
        line: i32,
    ) -> Result<(), RunError> {
        let body = unit.new_block();
        let end = unit.new_block();
        let exit = unit.new_block();
        let cleanup = unit.new_block();
        unit.setup("SETUP_FINALLY", end, body, line);
        unit.finally_bodies.push(s.finalbody.clone());
        let index = unit.finally_bodies.len() - 1;
        unit.fblocks.push(FBlock::FinallyTry { body: index });
        if s.handlers.is_empty() {
            self.stmts(unit, &s.body)?;
        } else {
            self.compiler_try_except(unit, s, line)?;
        }
        unit.pop_block(-1);
        unit.fblocks.pop();
        self.stmts(unit, &s.finalbody)?;
        unit.emit_jump("JUMP", exit, -1);
        // finally: an exception is on the stack.
        let outer = unit.handlers.clone();
        unit.use_next_block(end);
        unit.push("SETUP_CLEANUP", 0, Some(cleanup), -1);
        unit.handlers.push(cleanup);
        unit.emit("PUSH_EXC_INFO", 0, -1);
        unit.fblocks.push(FBlock::FinallyEnd);
        self.stmts(unit, &s.finalbody)?;
        unit.fblocks.pop();
        // 3.11 leaves the last statement's location set; 3.12 gives none.
        let loc = if unit.minor < 12 { unit.last_loc } else { -1 };
        unit.emit("RERAISE", 0, loc);
        unit.use_next_block(cleanup);
        unit.handlers = outer;
        pop_except_and_reraise(unit, loc);
        unit.use_next_block(exit);
        Ok(())
    }

    /// `compiler_if`.
    fn compiler_if(&mut self, unit: &mut Unit, s: &ast::StmtIf) -> Result<(), RunError> {
        if unit.minor == 9
            && let Some(truth) = self.expr_constant_3_9(&s.test)
        {
            // 3.9: `if 1:` is its body, `if 0:` its `else`, the other compiled unemitted.
            if truth {
                self.stmts(unit, &s.body)?;
                self.stmts_not_emitted(unit, &s.orelse)?;
            } else {
                self.stmts_not_emitted(unit, &s.body)?;
                self.stmts(unit, &s.orelse)?;
            }
            let end = unit.new_block();
            unit.use_next_block(end);
            return Ok(());
        }
        let end = unit.new_block();
        let next = if s.orelse.is_empty() {
            end
        } else {
            unit.new_block()
        };
        let line = self.loc(s);
        self.jump_if(unit, &s.test, next, false, line)?;
        self.stmts(unit, &s.body)?;
        if !s.orelse.is_empty() {
            unit.jump(end, true, -1);
            unit.use_next_block(next);
            self.stmts(unit, &s.orelse)?;
        }
        unit.use_next_block(end);
        Ok(())
    }

    /// 3.9's `expr_constant` of an `if` or `while` test: the truth of a constant (after
    /// `ast_opt`'s folding), `None` for any other test.
    fn expr_constant_3_9(&self, test: &Expr) -> Option<bool> {
        self.fold(test).map(|v| v.truth())
    }

    /// 3.9's `BEGIN_DO_NOT_EMIT_BYTECODE` ... `END_DO_NOT_EMIT_BYTECODE` around statements:
    /// compiled for their errors and their names, emitting nothing. A function, class or
    /// comprehension there would still be compiled into a code object and dropped: refused.
    fn stmts_not_emitted(&mut self, unit: &mut Unit, body: &[Stmt]) -> Result<(), RunError> {
        unit.do_not_emit += 1;
        self.do_not_emit += 1;
        let compiled = self.stmts(unit, body);
        unit.do_not_emit -= 1;
        self.do_not_emit -= 1;
        compiled
    }

    /// The refusal of code that 3.9 would compile into a code object and drop.
    fn refuse_unemitted_code(&self, node: &impl Ranged) -> Result<(), RunError> {
        if self.do_not_emit > 0 {
            return Err(self.not_modelled(
                "a function, class or comprehension under a constant test 3.9 compiles \
                 without emitting it",
                node,
            ));
        }
        Ok(())
    }

    /// 3.9's `compiler_while`: the test at the top only (none when it is a true constant),
    /// a `JUMP_ABSOLUTE` back to it after the body, the `else` after the loop.
    fn compiler_while_3_9(&mut self, unit: &mut Unit, s: &ast::StmtWhile) -> Result<(), RunError> {
        let constant = self.expr_constant_3_9(&s.test);
        if constant == Some(false) {
            // The body under a loop of no blocks, so that `break` and `continue` compile.
            let (top, exit) = (unit.new_block(), unit.new_block());
            unit.fblocks.push(FBlock::While { top, exit });
            self.stmts_not_emitted(unit, &s.body)?;
            unit.fblocks.pop();
            return self.stmts(unit, &s.orelse);
        }
        let constant = constant == Some(true);
        let top = unit.new_block();
        let end = unit.new_block();
        let anchor = unit.new_block();
        unit.use_next_block(top);
        unit.fblocks.push(FBlock::While { top, exit: end });
        if !constant {
            let line = self.loc(s);
            self.jump_if(unit, &s.test, anchor, false, line)?;
        }
        self.stmts(unit, &s.body)?;
        unit.emit_jump("JUMP_ABSOLUTE", top, -1);
        if !constant {
            unit.use_next_block(anchor);
        }
        unit.fblocks.pop();
        self.stmts(unit, &s.orelse)?;
        unit.use_next_block(end);
        Ok(())
    }

    /// `compiler_while`: the test at the top, and again at the bottom jumping back.
    fn compiler_while(
        &mut self,
        unit: &mut Unit,
        s: &ast::StmtWhile,
        line: i32,
    ) -> Result<(), RunError> {
        if unit.minor == 9 {
            return self.compiler_while_3_9(unit, s);
        }
        let top = unit.new_block();
        let body = unit.new_block();
        let anchor = unit.new_block();
        let end = unit.new_block();
        unit.use_next_block(top);
        unit.fblocks.push(FBlock::While { top, exit: end });
        self.jump_if(unit, &s.test, anchor, false, line)?;
        unit.use_next_block(body);
        self.stmts(unit, &s.body)?;
        unit.last_loc = line;
        self.jump_if(unit, &s.test, body, true, line)?;
        unit.fblocks.pop();
        unit.use_next_block(anchor);
        self.stmts(unit, &s.orelse)?;
        unit.use_next_block(end);
        Ok(())
    }

    /// `compiler_for`: `GET_ITER`, then `FOR_ITER` at the top of the loop and an artificial
    /// `JUMP` back at the bottom.
    fn compiler_for(&mut self, unit: &mut Unit, s: &ast::StmtFor) -> Result<(), RunError> {
        let start = unit.new_block();
        let body = unit.new_block();
        let cleanup = unit.new_block();
        let end = unit.new_block();
        unit.fblocks.push(FBlock::For {
            top: start,
            exit: end,
        });
        self.iterable(unit, &s.iter)?;
        // 3.13 gets the iterator and steps it at the iterable's location, 3.11 and 3.12 at
        // the statement's.
        let stmt_loc = unit.loc;
        if unit.minor >= 13 {
            unit.loc = self.lines.loc(s.iter.range());
        }
        unit.emit("GET_ITER", 0, unit.loc.line);
        unit.use_next_block(start);
        unit.emit_jump("FOR_ITER", cleanup, unit.loc.line);
        unit.loc = stmt_loc;
        unit.use_next_block(body);
        self.store_target(unit, &s.target)?;
        self.stmts(unit, &s.body)?;
        unit.jump(start, false, -1);
        unit.last_loc = -1;
        unit.use_next_block(cleanup);
        unit.end_for();
        unit.fblocks.pop();
        self.stmts(unit, &s.orelse)?;
        unit.use_next_block(end);
        Ok(())
    }

    /// `fold_iter` (ast_opt.c): a list display iterated over is a tuple, a constant one if
    /// its items are constants.
    fn iterable(&mut self, unit: &mut Unit, e: &Expr) -> Result<(), RunError> {
        if let Expr::List(l) = e {
            return self.visited(unit, e, |c, unit| c.tuple_display(unit, &l.elts, e));
        }
        self.expr(unit, e)
    }

    /// `update_start_location_to_match_attr`: an attribute over several lines starts, for
    /// what is emitted for it, at its name on its last line.
    fn attr_loc(&self, loc: Loc, a: &ast::ExprAttribute) -> Loc {
        let end = self.lines.loc(a.range()).span;
        if loc.line == end.end_line {
            return loc;
        }
        let len = a.attr.as_str().chars().count() as i32;
        let mut moved = Loc {
            line: end.end_line,
            span: Span {
                col: end.end_col - len,
                ..loc.span
            },
        };
        if len > end.end_col {
            moved.span.col = -1;
            moved.span.end_col = -1;
        }
        moved.span.end_line = moved.span.end_line.max(moved.line);
        if moved.line == moved.span.end_line {
            moved.span.end_col = moved.span.end_col.max(moved.span.col);
        }
        moved
    }

    /// `compile` run as `compiler_visit_expr` runs a node: with the node's location the
    /// unit's while it emits, the enclosing one's again after.
    fn visited<T>(
        &mut self,
        unit: &mut Unit,
        node: &impl Ranged,
        compile: impl FnOnce(&mut Self, &mut Unit) -> Result<T, RunError>,
    ) -> Result<T, RunError> {
        let outer = unit.loc;
        unit.loc = self.lines.loc(node.range());
        let result = compile(self, unit);
        unit.loc = outer;
        result
    }

    /// `compiler_break`: a `NOP` for the line, the blocks inside the loop unwound, the loop's
    /// iterator popped, a jump out.
    fn compiler_break(&mut self, unit: &mut Unit, s: &Stmt, line: i32) -> Result<(), RunError> {
        unit.line_nop(line);
        let handlers = unit.handlers.clone();
        let mut loc = line;
        let Some(fb) = self.unwind_fblock_stack(unit, false, &mut loc, true)? else {
            return Err(RunError::Syntax {
                message: "'break' outside loop".into(),
                filename: self.filename.clone(),
                line: self.line(s),
            });
        };
        self.unwind_fblock(unit, &fb, false, &mut loc)?;
        let (FBlock::For { exit, .. } | FBlock::While { exit, .. }) = fb else {
            unreachable!("unwind_fblock_stack stops at a loop")
        };
        unit.jump(exit, false, loc);
        unit.handlers = handlers;
        unit.last_loc = loc;
        Ok(())
    }

    /// `compiler_continue`: the blocks inside the loop unwound, a jump to the loop's top.
    fn compiler_continue(&mut self, unit: &mut Unit, s: &Stmt, line: i32) -> Result<(), RunError> {
        unit.line_nop(line);
        let handlers = unit.handlers.clone();
        let mut loc = line;
        let Some(fb) = self.unwind_fblock_stack(unit, false, &mut loc, true)? else {
            return Err(RunError::Syntax {
                message: "'continue' not properly in loop".into(),
                filename: self.filename.clone(),
                line: self.line(s),
            });
        };
        let (FBlock::For { top, .. } | FBlock::While { top, .. }) = fb else {
            unreachable!("unwind_fblock_stack stops at a loop")
        };
        unit.jump(top, false, loc);
        unit.handlers = handlers;
        unit.last_loc = loc;
        Ok(())
    }

    /// `compiler_augassign` for a name: load, the value, `BINARY_OP` in place, store.
    fn augassign(
        &mut self,
        unit: &mut Unit,
        a: &ast::StmtAugAssign,
        line: i32,
    ) -> Result<(), RunError> {
        let tline = self.loc(&*a.target);
        // The target's loads and stores at its location, the operator at the statement's.
        let stmt_loc = unit.loc;
        let target_loc = self.lines.loc(a.target.range());
        unit.loc = target_loc;
        let result = self.augassign_at(unit, a, line, tline, stmt_loc);
        unit.loc = stmt_loc;
        result
    }

    fn augassign_at(
        &mut self,
        unit: &mut Unit,
        a: &ast::StmtAugAssign,
        line: i32,
        tline: i32,
        stmt_loc: Loc,
    ) -> Result<(), RunError> {
        let target_loc = unit.loc;
        if let Expr::Subscript(sub) = &*a.target {
            if unit.minor >= 12 && matches!(&*sub.slice, Expr::Slice(sl) if sl.step.is_none()) {
                return Err(self.not_modelled("an augmented assignment to a slice on 3.12", a));
            }
            // The container and the key kept (COPY 2, COPY 2) for the store after.
            self.expr(unit, &sub.value)?;
            self.expr(unit, &sub.slice)?;
            if unit.legacy() {
                unit.emit("DUP_TOP_TWO", 0, tline);
            } else {
                unit.emit("COPY", 2, tline);
                unit.emit("COPY", 2, tline);
            }
            unit.emit("BINARY_SUBSCR", 0, tline);
            self.expr(unit, &a.value)?;
            unit.loc = stmt_loc;
            unit.binary_op(a.op, true, line);
            unit.loc = target_loc;
            if unit.legacy() {
                unit.emit("ROT_THREE", 0, tline);
            } else {
                unit.emit("SWAP", 3, tline);
                unit.emit("SWAP", 2, tline);
            }
            unit.emit("STORE_SUBSCR", 0, tline);
            return Ok(());
        }
        if let Expr::Attribute(at) = &*a.target {
            // The object kept (COPY 1) for the STORE_ATTR after.
            self.expr(unit, &at.value)?;
            unit.copy(1, tline);
            let i = self.name_index(unit, at.attr.as_str())?;
            unit.emit("LOAD_ATTR", i, tline);
            self.expr(unit, &a.value)?;
            unit.loc = stmt_loc;
            unit.binary_op(a.op, true, line);
            unit.loc = target_loc;
            unit.swap_top_two(tline);
            unit.emit("STORE_ATTR", i, tline);
            return Ok(());
        }
        let Expr::Name(n) = &*a.target else {
            return Err(self.not_modelled("this augmented assignment target", a));
        };
        self.load_name(unit, n.id.as_str(), tline, false)?;
        self.expr(unit, &a.value)?;
        unit.loc = stmt_loc;
        unit.binary_op(a.op, true, line);
        unit.loc = target_loc;
        self.store_name(unit, n.id.as_str(), tline)
    }

    /// 3.12's `is_two_element_slice` and `compiler_slice`: a slice without a step is not
    /// built; its lower and upper bounds (`None` when left out) go on the stack for
    /// `BINARY_SLICE` or `STORE_SLICE`. False (nothing emitted) otherwise and on 3.11.
    fn two_element_slice(&mut self, unit: &mut Unit, e: &Expr) -> Result<bool, RunError> {
        let Expr::Slice(sl) = e else {
            return Ok(false);
        };
        if unit.minor < 12 || sl.step.is_some() {
            return Ok(false);
        }
        let line = self.loc(e);
        for part in [&sl.lower, &sl.upper] {
            match part {
                Some(x) => self.expr(unit, x)?,
                None => {
                    let k = self.none_const(unit);
                    unit.emit("LOAD_CONST", k, line);
                }
            }
        }
        Ok(true)
    }

    /// An assignment's target (`compiler_visit_expr` in a store context).
    /// A target is visited as an expression in a store context: its location while its
    /// instructions are emitted.
    fn store_target(&mut self, unit: &mut Unit, t: &Expr) -> Result<(), RunError> {
        self.visited(unit, t, |c, unit| c.store_target_at(unit, t))
    }

    fn store_target_at(&mut self, unit: &mut Unit, t: &Expr) -> Result<(), RunError> {
        let line = self.loc(t);
        match t {
            Expr::Name(n) => self.store_name(unit, n.id.as_str(), line),
            Expr::Attribute(a) => {
                self.maybe_add_static_attribute(unit, a);
                self.expr(unit, &a.value)?;
                let i = self.name_index(unit, a.attr.as_str())?;
                unit.emit("STORE_ATTR", i, line);
                Ok(())
            }
            Expr::Subscript(sub) => {
                self.expr(unit, &sub.value)?;
                if self.two_element_slice(unit, &sub.slice)? {
                    unit.emit("STORE_SLICE", 0, line);
                } else {
                    self.expr(unit, &sub.slice)?;
                    unit.emit("STORE_SUBSCR", 0, line);
                }
                Ok(())
            }
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                // unpack_helper: UNPACK_SEQUENCE, then each target from the first.
                if elts.iter().any(|x| matches!(x, Expr::Starred(_))) {
                    return Err(self.not_modelled("a starred assignment target", t));
                }
                unit.emit("UNPACK_SEQUENCE", elts.len() as u32, line);
                for x in elts {
                    self.store_target(unit, x)?;
                }
                Ok(())
            }
            _ => Err(self.not_modelled(
                "an assignment to anything but a name, an attribute or an item",
                t,
            )),
        }
    }

    /// `del target` (`compiler_visit_expr` in a delete context).
    fn delete_target(&mut self, unit: &mut Unit, t: &Expr) -> Result<(), RunError> {
        self.visited(unit, t, |c, unit| c.delete_target_at(unit, t))
    }

    fn delete_target_at(&mut self, unit: &mut Unit, t: &Expr) -> Result<(), RunError> {
        let line = self.loc(t);
        match t {
            Expr::Name(n) => self.delete_name(unit, n.id.as_str(), line)?,
            Expr::Subscript(sub) => {
                self.expr(unit, &sub.value)?;
                self.expr(unit, &sub.slice)?;
                unit.emit("DELETE_SUBSCR", 0, line);
            }
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                for x in elts {
                    self.delete_target(unit, x)?;
                }
            }
            _ => return Err(self.not_modelled("this kind of del target", t)),
        }
        Ok(())
    }

    /// `compiler_visit_annotations`: each annotated parameter's name and annotation, then
    /// `'return'` and the return annotation, as pairs for `BUILD_TUPLE`.
    fn annotations(
        &mut self,
        unit: &mut Unit,
        f: &ast::StmtFunctionDef,
        line: i32,
    ) -> Result<u32, RunError> {
        if unit.minor == 9 {
            return self.annotations_3_9(unit, f, line);
        }
        let mut n = 0;
        for a in &f.args.args {
            if let Some(ann) = &a.def.annotation {
                let s = self.o.unicode_from_str(a.def.arg.as_str())?;
                let name = self.o.unicode_intern(s)?;
                self.o.decref(s)?;
                let k = self.add_const(unit, ConstKey::Str(a.def.arg.to_string()), name);
                self.o.decref(name)?;
                unit.emit("LOAD_CONST", k, line);
                self.expr(unit, ann)?;
                n += 1;
            }
        }
        if let Some(r) = &f.returns {
            let k = self.id_const(unit, "return")?;
            unit.emit("LOAD_CONST", k, line);
            self.expr(unit, r)?;
            n += 1;
        }
        Ok(n)
    }

    /// 3.9's `compiler_visit_annotations`: each annotation's value, then the names' tuple
    /// (`ADDOP_LOAD_CONST_NEW`, merged as any constant) and `BUILD_CONST_KEY_MAP`.
    fn annotations_3_9(
        &mut self,
        unit: &mut Unit,
        f: &ast::StmtFunctionDef,
        line: i32,
    ) -> Result<u32, RunError> {
        let mut names = Vec::new();
        for a in &f.args.args {
            if let Some(ann) = &a.def.annotation {
                self.expr(unit, ann)?;
                names.push(a.def.arg.to_string());
            }
        }
        if let Some(r) = &f.returns {
            self.expr(unit, r)?;
            names.push("return".to_string());
        }
        if names.is_empty() {
            return Ok(0);
        }
        let mut items = Vec::with_capacity(names.len());
        for name in &names {
            // The parser's identifiers; `return_str`, kept by the compiler once made.
            items.push(if name == "return" {
                self.o.py_id("return")?
            } else {
                self.interned(name)?
            });
        }
        let key = ConstKey::Tuple(names.iter().map(|n| ConstKey::Str(n.clone())).collect());
        let t = match self.const_cache.iter().find(|(k, _)| *k == key) {
            Some(&(_, t)) => t,
            None => {
                let t = self.o.tuple_pack(&items)?;
                self.cache_only.push(t);
                t
            }
        };
        let k = self.add_const(unit, key, t);
        unit.emit("LOAD_CONST", k, line);
        unit.emit("BUILD_CONST_KEY_MAP", names.len() as u32, line);
        Ok(names.len() as u32)
    }

    // ---- expressions ------------------------------------------------------------------------

    /// `compiler_visit_expr`: the expression's location is the unit's while it is compiled,
    /// the enclosing node's again after.
    fn expr(&mut self, unit: &mut Unit, e: &Expr) -> Result<(), RunError> {
        self.visited(unit, e, |c, unit| c.compiler_visit_expr1(unit, e))
    }

    fn compiler_visit_expr1(&mut self, unit: &mut Unit, e: &Expr) -> Result<(), RunError> {
        if let Some(folded) = fold_not_compare(e) {
            return self.expr(unit, &folded);
        }
        let line = self.loc(e);
        if let Some(v) = self.fold(e) {
            let k = self.load_const(unit, &v, Some(Self::range_of(e)))?;
            unit.emit("LOAD_CONST", k, line);
            return Ok(());
        }
        match e {
            Expr::Constant(_) => return Err(self.not_modelled("this kind of constant", e)),
            Expr::Name(n) => self.load_name(unit, n.id.as_str(), line, false)?,
            Expr::Attribute(a) => {
                self.expr(unit, &a.value)?;
                let i = self.name_index(unit, a.attr.as_str())?;
                // The attribute's last line (its end_lineno: 3.10 sets it, 3.11+
                // update_start_location_to_match_attr); 3.9's u_lineno stays the
                // expression's first.
                let attr_line = if unit.minor == 9 {
                    line
                } else {
                    self.end_line(e)
                };
                unit.loc = self.attr_loc(unit.loc, a);
                unit.emit("LOAD_ATTR", i, attr_line);
            }
            Expr::Call(c) => self.call(unit, c, line)?,
            Expr::Compare(c) => self.compiler_compare(unit, c, line)?,
            Expr::BoolOp(b) => self.compiler_boolop(unit, b)?,
            Expr::UnaryOp(u) => {
                self.expr(unit, &u.operand)?;
                let op = match u.op {
                    ast::UnaryOp::Not => "UNARY_NOT",
                    ast::UnaryOp::USub => "UNARY_NEGATIVE",
                    ast::UnaryOp::UAdd => "UNARY_POSITIVE",
                    ast::UnaryOp::Invert => "UNARY_INVERT",
                };
                if op == "UNARY_POSITIVE" && unit.minor >= 12 {
                    // 3.12: INTRINSIC_UNARY_POSITIVE.
                    unit.emit("CALL_INTRINSIC_1", 5, line);
                } else {
                    if op == "UNARY_NOT" {
                        unit.emit_to_bool(line);
                    }
                    unit.emit(op, 0, line);
                }
            }
            Expr::BinOp(b) => {
                // ast_opt's optimize_format is 3.11's.
                if let Some(pieces) = self.format_as_fstring(b).filter(|_| !unit.legacy()) {
                    return self.optimized_format(unit, b, &pieces, line);
                }
                self.expr(unit, &b.left)?;
                self.expr(unit, &b.right)?;
                unit.binary_op(b.op, false, line);
            }
            Expr::Tuple(t) => self.tuple_display(unit, &t.elts, e)?,
            Expr::List(l) => self.list_display(unit, &l.elts, e)?,
            Expr::Dict(d) => self.compiler_dict(unit, d, e)?,
            Expr::ListComp(lc) if unit.minor >= 12 => self.inlined_listcomp(unit, lc, e)?,
            Expr::ListComp(lc) => self.compiler_listcomp(unit, lc, e)?,
            Expr::JoinedStr(j) => self.compiler_joined_str(unit, j, e)?,
            Expr::FormattedValue(fv) => self.compiler_formatted_value(unit, fv, e)?,
            Expr::IfExp(x) => {
                // compiler_ifexp.
                let end = unit.new_block();
                let next = unit.new_block();
                self.jump_if(unit, &x.test, next, false, line)?;
                self.expr(unit, &x.body)?;
                unit.jump(end, true, -1);
                unit.use_next_block(next);
                self.expr(unit, &x.orelse)?;
                unit.use_next_block(end);
            }
            Expr::Subscript(sub) => {
                self.expr(unit, &sub.value)?;
                if self.two_element_slice(unit, &sub.slice)? {
                    unit.emit("BINARY_SLICE", 0, line);
                } else {
                    self.expr(unit, &sub.slice)?;
                    unit.emit("BINARY_SUBSCR", 0, line);
                }
            }
            Expr::Slice(sl) => {
                // compiler_slice: lower and upper (None when left out), the step if given.
                let mut n = 2;
                for part in [&sl.lower, &sl.upper] {
                    match part {
                        Some(x) => self.expr(unit, x)?,
                        None => {
                            let k = self.none_const(unit);
                            unit.emit("LOAD_CONST", k, line);
                        }
                    }
                }
                if let Some(step) = &sl.step {
                    self.expr(unit, step)?;
                    n += 1;
                }
                unit.emit("BUILD_SLICE", n, line);
            }
            Expr::Lambda(l) => self.compiler_lambda(unit, l, e)?,
            other => return Err(self.not_modelled(expr_name(other), e)),
        }
        Ok(())
    }

    /// `compiler_default_arguments`: the defaults evaluated into a tuple (the optimiser folds
    /// one of constants into a constant tuple); `MAKE_FUNCTION`'s flag 0x01 if there are any.
    fn compiler_default_arguments(
        &mut self,
        unit: &mut Unit,
        args: &ast::Arguments,
        line: i32,
    ) -> Result<u32, RunError> {
        let defaults: Vec<&Expr> = args
            .args
            .iter()
            .filter_map(|p| p.default.as_deref())
            .collect();
        if defaults.is_empty() {
            return Ok(0);
        }
        for d in &defaults {
            self.expr(unit, d)?;
        }
        unit.emit("BUILD_TUPLE", defaults.len() as u32, line);
        Ok(1)
    }

    /// `compiler_lambda`: the defaults as `compiler_default_arguments` makes them, then a
    /// `<lambda>` code object whose body returns the expression (None its first constant, as
    /// a function without a docstring has it), made by `MAKE_FUNCTION`.
    fn compiler_lambda(
        &mut self,
        unit: &mut Unit,
        l: &ast::ExprLambda,
        e: &Expr,
    ) -> Result<(), RunError> {
        let line = self.loc(e);
        let f = lambda_function(l);
        let flags = self.compiler_default_arguments(unit, &l.args, line)?;
        let qualname = qualname_in(unit, "<lambda>");
        let available = Self::closure_names(unit);
        let (index, free) = self.function(&f, qualname, &available)?;
        self.make_closure(unit, index, &free, flags, line)
    }

    /// A tuple display that is not a constant (`starunpack_helper` with `BUILD_TUPLE`).
    fn tuple_display(&mut self, unit: &mut Unit, elts: &[Expr], e: &Expr) -> Result<(), RunError> {
        let line = self.loc(e);
        let items: Option<Vec<_>> = elts
            .iter()
            .map(|x| self.fold(x).map(|v| (v, Some(Self::range_of(x)))))
            .collect();
        if let Some(items) = items {
            let k = self.load_const(unit, &CVal::Tuple(items), None)?;
            unit.emit("LOAD_CONST", k, line);
            return Ok(());
        }
        if elts.iter().any(|x| matches!(x, Expr::Starred(_))) {
            return Err(self.not_modelled("a starred expression", e));
        }
        for x in elts {
            self.expr(unit, x)?;
        }
        unit.emit("BUILD_TUPLE", elts.len() as u32, line);
        Ok(())
    }

    /// `starunpack_helper` for a list: more than two constants are a constant tuple extended
    /// into an empty list (`BUILD_LIST 0`, `LIST_EXTEND 1`); more than `STACK_USE_GUIDELINE`
    /// items are appended one by one; otherwise `BUILD_LIST n`.
    fn list_display(&mut self, unit: &mut Unit, elts: &[Expr], e: &Expr) -> Result<(), RunError> {
        let line = self.loc(e);
        if elts.iter().any(|x| matches!(x, Expr::Starred(_))) {
            return Err(self.not_modelled("a starred expression", e));
        }
        let n = elts.len();
        if n > 2
            && let Some(items) = elts
                .iter()
                .map(|x| self.fold(x).map(|v| (v, Some(Self::range_of(x)))))
                .collect::<Option<Vec<_>>>()
        {
            unit.emit("BUILD_LIST", 0, line);
            let k = self.load_const(unit, &CVal::Tuple(items), None)?;
            unit.emit("LOAD_CONST", k, line);
            unit.emit("LIST_EXTEND", 1, line);
            return Ok(());
        }
        // 3.10's: 3.9 builds any list display on the stack.
        if n > STACK_USE_GUIDELINE && unit.minor >= 10 {
            unit.emit("BUILD_LIST", 0, line);
            for x in elts {
                self.expr(unit, x)?;
                unit.emit("LIST_APPEND", 1, line);
            }
            return Ok(());
        }
        for x in elts {
            self.expr(unit, x)?;
        }
        unit.emit("BUILD_LIST", n as u32, line);
        Ok(())
    }

    /// `compiler_dict` and `compiler_subdict`: constant keys (more than one) go in a tuple
    /// for `BUILD_CONST_KEY_MAP`; otherwise key, value, ... and `BUILD_MAP n`.
    fn compiler_dict(
        &mut self,
        unit: &mut Unit,
        d: &ast::ExprDict,
        e: &Expr,
    ) -> Result<(), RunError> {
        let line = self.loc(e);
        let n = d.values.len();
        if d.keys.iter().any(Option::is_none) {
            return Err(self.not_modelled("a ** unpacking in a dict display", e));
        }
        if n * 2 > STACK_USE_GUIDELINE {
            return Err(self.not_modelled("a dict display of more than 15 items", e));
        }
        let keys: Vec<&Expr> = d.keys.iter().flatten().collect();
        let folded: Option<Vec<_>> = keys
            .iter()
            .map(|k| self.fold(k).map(|v| (v, Some(Self::range_of(k)))))
            .collect();
        if n > 1
            && let Some(folded) = folded
        {
            for v in &d.values {
                self.expr(unit, v)?;
            }
            let k = self.load_const(unit, &CVal::Tuple(folded), None)?;
            unit.emit("LOAD_CONST", k, line);
            unit.emit("BUILD_CONST_KEY_MAP", n as u32, line);
            return Ok(());
        }
        for (k, v) in keys.iter().zip(&d.values) {
            self.expr(unit, k)?;
            self.expr(unit, v)?;
        }
        unit.emit("BUILD_MAP", n as u32, line);
        Ok(())
    }

    /// `compiler_comprehension` for a list comprehension: a nested `<listcomp>` code object
    /// whose one argument, `.0`, is the outermost iterable's iterator; the caller makes the
    /// function (`MAKE_FUNCTION 0`), evaluates and iterates the outermost iterable in its own
    /// scope, and calls the function with it (`CALL 0`: the function in the method slot, the
    /// iterator as self).
    fn compiler_listcomp(
        &mut self,
        unit: &mut Unit,
        lc: &ast::ExprListComp,
        e: &Expr,
    ) -> Result<(), RunError> {
        let line = self.loc(e);
        self.refuse_unemitted_code(e)?;
        if lc.generators.iter().any(|g| g.is_async) {
            return Err(self.not_modelled("an async comprehension", e));
        }
        let locals = symtable::listcomp_bindings(lc);
        let available = Self::closure_names(unit);
        let free: Vec<String> = symtable::listcomp_free(lc)
            .into_iter()
            .filter(|n| available.contains(n))
            .collect();
        let uses = symtable::listcomp_uses(lc);
        let layout = Layout::new(&locals, 1, &uses.nested_free, free.clone());
        let qualname = qualname_in(unit, "<listcomp>");
        let mut inner = Unit::new(
            CodeUnit {
                argcount: 1,
                function: true,
                ..CodeUnit::new(
                    "<listcomp>".into(),
                    qualname,
                    line as u32,
                    Self::range_of(e),
                )
            },
            Vec::new(),
            self.minor(),
        );
        // The symtable's implicit argument `.0`; the parser made the targets' names.
        self.identifier(".0")?;
        self.set_layout(&mut inner, layout)?;
        if !inner.legacy() {
            inner.emit("RESUME", 0, line);
        }
        inner.emit("BUILD_LIST", 0, line);
        self.comprehension_generator(&mut inner, &lc.generators, 0, 0, &lc.elt, line)?;
        inner.emit("RETURN_VALUE", 0, line);
        self.assemble(&mut inner, false)?;
        self.units.push(inner.code);
        let index = self.units.len() - 1;
        self.make_closure(unit, index, &free, 0, line)?;
        self.iterable(unit, &lc.generators[0].iter)?;
        unit.emit("GET_ITER", 0, line);
        match unit.minor {
            ..=10 => unit.emit("CALL_FUNCTION", 1, line),
            _ => {
                unit.emit("PRECALL", 0, line);
                unit.emit("CALL", 0, line);
            }
        }
        Ok(())
    }

    /// 3.12's `compiler_comprehension` of a list comprehension, inlined (PEP 709): the
    /// outermost iterator, the names it binds saved on the stack (`LOAD_FAST_AND_CLEAR`) under
    /// an exception handler that puts them back, the list built in place, then the names
    /// restored.
    fn inlined_listcomp(
        &mut self,
        unit: &mut Unit,
        lc: &ast::ExprListComp,
        e: &Expr,
    ) -> Result<(), RunError> {
        let line = self.loc(e);
        if lc.generators.iter().any(|g| g.is_async) {
            return Err(self.not_modelled("an async comprehension", e));
        }
        let inner: Vec<&Expr> = std::iter::once(&*lc.elt)
            .chain(lc.generators.iter().flat_map(|g| g.ifs.iter()))
            .chain(lc.generators.iter().skip(1).map(|g| &g.iter))
            .collect();
        if inner.iter().any(|x| contains_scope(x)) {
            return Err(self.not_modelled(
                "a lambda, generator expression or set or dict comprehension inside a list comprehension on 3.12",
                e,
            ));
        }
        let pushed = comprehension_pushed(lc);
        for n in &pushed {
            if unit.layout.is_deref(n) || unit.globals.contains(n) {
                return Err(
                    self.not_modelled("a comprehension binding a cell or global name on 3.12", e)
                );
            }
        }
        self.iterable(unit, &lc.generators[0].iter)?;
        unit.emit("GET_ITER", 0, line);
        let hidden_before = unit.fast_hidden.len();
        if !unit.code.function {
            for n in &pushed {
                if unit.layout.index(n).is_none() {
                    unit.layout.names.push(n.clone());
                    let op = self.interned(n)?;
                    unit.code.varnames.push(op);
                }
                unit.fast_hidden.push(n.clone());
            }
        } else {
            // A name only comprehensions bind is the comprehension's local while it runs.
            let only: Vec<String> = pushed
                .iter()
                .filter(|n| unit.comp_only.contains(n))
                .cloned()
                .collect();
            unit.fast_hidden.extend(only);
        }
        let mut slots = Vec::new();
        for n in &pushed {
            let Some(i) = unit.layout.index(n) else {
                return Err(self.not_modelled("this comprehension on 3.12", e));
            };
            slots.push(i);
            unit.emit("LOAD_FAST_AND_CLEAR", i, line);
        }
        let npushed = pushed.len() as u32;
        let cleanup = unit.new_block();
        let end = unit.new_block();
        if npushed > 0 {
            unit.emit("SWAP", npushed + 1, line);
            unit.push("SETUP_FINALLY", 0, Some(cleanup), line);
            unit.handlers.push(cleanup);
        }
        unit.emit("BUILD_LIST", 0, line);
        unit.emit("SWAP", 2, line);
        self.comprehension_generator(unit, &lc.generators, 0, 0, &lc.elt, line)?;
        if npushed > 0 {
            unit.handlers.pop();
            unit.emit("POP_BLOCK", 0, -1);
            unit.emit_jump(unit.jump_no_interrupt(), end, -1);
            unit.use_next_block(cleanup);
            unit.emit("SWAP", 2, -1);
            unit.emit("POP_TOP", 0, -1);
            unit.emit("SWAP", npushed + 1, line);
            for &i in slots.iter().rev() {
                unit.emit("STORE_FAST_MAYBE_NULL", i, line);
            }
            unit.emit("RERAISE", 0, -1);
            unit.use_next_block(end);
            unit.emit("SWAP", npushed + 1, line);
            for &i in slots.iter().rev() {
                unit.emit("STORE_FAST_MAYBE_NULL", i, line);
            }
        }
        unit.fast_hidden.truncate(hidden_before);
        Ok(())
    }

    /// `compiler_sync_comprehension_generator`: one `for` of the comprehension, its `if`s,
    /// and either the next `for` or the element appended (`LIST_APPEND depth + 1`).
    fn comprehension_generator(
        &mut self,
        unit: &mut Unit,
        gens: &[ast::Comprehension],
        gen_index: usize,
        mut depth: u32,
        elt: &Expr,
        line: i32,
    ) -> Result<(), RunError> {
        let start = unit.new_block();
        let if_cleanup = unit.new_block();
        let anchor = unit.new_block();
        let g = &gens[gen_index];
        let mut start = Some(start);
        if gen_index == 0 {
            // The outermost iterator is the implicit argument (3.12: already on the stack).
            if unit.minor < 12 {
                unit.emit("LOAD_FAST", 0, line);
            }
        } else {
            // The fast path for `for y in [f(x)]`: the one item, no loop.
            let elts = match &g.iter {
                Expr::List(l) => Some(&l.elts),
                Expr::Tuple(t) => Some(&t.elts),
                _ => None,
            };
            if let Some([one]) = elts.map(Vec::as_slice)
                && !matches!(one, Expr::Starred(_))
            {
                self.expr(unit, one)?;
                start = None;
            } else {
                self.iterable(unit, &g.iter)?;
                unit.emit("GET_ITER", 0, line);
            }
        }
        if let Some(st) = start {
            depth += 1;
            unit.use_next_block(st);
            unit.emit_jump("FOR_ITER", anchor, line);
        }
        self.store_target(unit, &g.target)?;
        for cond in &g.ifs {
            self.jump_if(unit, cond, if_cleanup, false, line)?;
        }
        if gen_index + 1 < gens.len() {
            self.comprehension_generator(unit, gens, gen_index + 1, depth, elt, line)?;
        } else {
            self.expr(unit, elt)?;
            unit.emit("LIST_APPEND", depth + 1, line);
        }
        unit.use_next_block(if_cleanup);
        if let Some(st) = start {
            unit.jump(st, false, line);
            unit.use_next_block(anchor);
            unit.end_for();
        }
        Ok(())
    }

    /// `compiler_joined_str`: the parts, then `BUILD_STRING n` (a single part is left as it
    /// is).
    fn compiler_joined_str(
        &mut self,
        unit: &mut Unit,
        j: &ast::ExprJoinedStr,
        e: &Expr,
    ) -> Result<(), RunError> {
        let line = self.loc(e);
        if j.values.len() > STACK_USE_GUIDELINE {
            return Err(self.not_modelled("an f-string of more than 30 parts", e));
        }
        for v in &j.values {
            self.fstring_part(unit, v)?;
        }
        if j.values.is_empty() && unit.minor >= 13 {
            // 3.13: an empty f-string is the constant '' (a new reference to the singleton,
            // which c_const_cache keeps).
            let op = self.o.unicode_from_str("")?;
            self.cache_only.push(op);
            let k = self.add_const(unit, ConstKey::Str(String::new()), op);
            unit.emit("LOAD_CONST", k, line);
        } else if j.values.len() != 1 {
            unit.emit("BUILD_STRING", j.values.len() as u32, line);
        }
        Ok(())
    }

    /// A part of an f-string: a literal (a str the f-string parser made and put in the
    /// arena), or a formatted value.
    fn fstring_part(&mut self, unit: &mut Unit, v: &Expr) -> Result<(), RunError> {
        match v {
            Expr::Constant(c) => {
                let Constant::Str(text) = &c.value else {
                    return Err(self.not_modelled("this kind of f-string part", v));
                };
                let op = self.o.unicode_from_str(text)?;
                self.arena.add(op);
                let k = self.add_const(unit, ConstKey::Str(text.clone()), op);
                unit.emit("LOAD_CONST", k, self.loc(v));
                Ok(())
            }
            _ => self.expr(unit, v),
        }
    }

    /// `compiler_formatted_value`: the value, the format spec if any, `FORMAT_VALUE` with
    /// the conversion (`!s` 1, `!r` 2, `!a` 3) and 4 when there is a spec.
    fn compiler_formatted_value(
        &mut self,
        unit: &mut Unit,
        fv: &ast::ExprFormattedValue,
        e: &Expr,
    ) -> Result<(), RunError> {
        let line = self.loc(e);
        self.expr(unit, &fv.value)?;
        let mut oparg = match fv.conversion {
            ast::ConversionFlag::None => 0,
            ast::ConversionFlag::Str => 1,
            ast::ConversionFlag::Repr => 2,
            ast::ConversionFlag::Ascii => 3,
        };
        unit.convert_value(oparg, line);
        if let Some(spec) = &fv.format_spec {
            match &**spec {
                // 3.12.1's parser ends a format spec that ends in a replacement field with an
                // empty str constant (f"{x:{w}}": {w} and ''); 3.13.0's does not.
                Expr::JoinedStr(j)
                    if unit.minor == 12
                        && j.values
                            .last()
                            .is_some_and(|v| !matches!(v, Expr::Constant(_))) =>
                {
                    if j.values.len() + 1 > STACK_USE_GUIDELINE {
                        return Err(self.not_modelled("an f-string of more than 30 parts", e));
                    }
                    for v in &j.values {
                        self.fstring_part(unit, v)?;
                    }
                    let op = self.o.unicode_from_str("")?;
                    self.arena.add(op);
                    let k = self.add_const(unit, ConstKey::Str(String::new()), op);
                    let sline = self.loc(&**spec);
                    unit.emit("LOAD_CONST", k, sline);
                    unit.emit("BUILD_STRING", j.values.len() as u32 + 1, sline);
                }
                Expr::JoinedStr(j) => self.compiler_joined_str(unit, j, spec)?,
                other => self.fstring_part(unit, other)?,
            }
            oparg |= 4;
        }
        unit.format_value(oparg, line);
        Ok(())
    }

    /// `fold_binop`'s `optimize_format`: `'...' % (a, b)` with a constant format and a tuple
    /// display that is not constant, of only `%s`/`%r`/`%a` units.
    fn format_as_fstring(&self, b: &ast::ExprBinOp) -> Option<Vec<crate::printf::Piece>> {
        if b.op != ast::Operator::Mod {
            return None;
        }
        let Some(CVal::Str(fmt)) = self.fold(&b.left) else {
            return None;
        };
        let Expr::Tuple(t) = &*b.right else {
            return None;
        };
        if self.fold(&b.right).is_some() || t.elts.iter().any(|e| matches!(e, Expr::Starred(_))) {
            return None;
        }
        crate::printf::optimize_format(&fmt, t.elts.len())
    }

    /// The f-string `optimize_format` made: literals (new strs in the arena), each argument
    /// with `FORMAT_VALUE` and its spec, `BUILD_STRING`.
    fn optimized_format(
        &mut self,
        unit: &mut Unit,
        b: &ast::ExprBinOp,
        pieces: &[crate::printf::Piece],
        line: i32,
    ) -> Result<(), RunError> {
        use crate::printf::Piece;
        let Expr::Tuple(t) = &*b.right else {
            unreachable!("format_as_fstring checked")
        };
        let mut args = t.elts.iter();
        for p in pieces {
            match p {
                Piece::Literal(text) => {
                    let op = self.o.unicode_from_str(text)?;
                    self.arena.add(op);
                    // ast_opt makes these constants with no location (-1).
                    let k = self.add_const(unit, ConstKey::Str(text.clone()), op);
                    unit.emit("LOAD_CONST", k, -1);
                }
                Piece::Value(conv, spec) => {
                    let arg = args.next().expect("as many units as items");
                    self.expr(unit, arg)?;
                    let mut oparg = match conv {
                        's' => 1,
                        'r' => 2,
                        _ => 3,
                    };
                    let aline = self.loc(arg);
                    unit.convert_value(oparg, aline);
                    if let Some(spec) = spec {
                        let op = self.o.unicode_from_str(spec)?;
                        self.arena.add(op);
                        let k = self.add_const(unit, ConstKey::Str(spec.clone()), op);
                        unit.emit("LOAD_CONST", k, -1);
                        oparg |= 4;
                    }
                    unit.format_value(oparg, aline);
                }
            }
        }
        if pieces.len() != 1 {
            unit.emit("BUILD_STRING", pieces.len() as u32, line);
        }
        Ok(())
    }

    /// `ADDOP_COMPARE`: `IS_OP`, `CONTAINS_OP` or `COMPARE_OP` with `cmp_op`'s index.
    fn compare_op(unit: &mut Unit, op: ast::CmpOp, line: i32) {
        use ast::CmpOp::*;
        let (name, arg) = match op {
            Is => ("IS_OP", 0),
            IsNot => ("IS_OP", 1),
            In => ("CONTAINS_OP", 0),
            NotIn => ("CONTAINS_OP", 1),
            Lt => ("COMPARE_OP", 0),
            LtE => ("COMPARE_OP", 1),
            Eq => ("COMPARE_OP", 2),
            NotEq => ("COMPARE_OP", 3),
            Gt => ("COMPARE_OP", 4),
            GtE => ("COMPARE_OP", 5),
        };
        // 3.12: the comparison shifted left 4, below it the mask of outcomes that are true
        // (compare_masks: less 2, greater 4, equal 8, unordered 1).
        // 3.13: shifted left 5, bit 4 left for the optimiser's coercion to bool.
        let shift = if unit.minor >= 13 { 5 } else { 4 };
        let arg = if unit.minor >= 12 && name == "COMPARE_OP" {
            arg << shift | [2, 10, 8, 7, 4, 12][arg as usize]
        } else {
            arg
        };
        unit.emit(name, arg, line);
    }

    /// A comparison's right-hand operand: `fold_compare` makes a list display after `in` a
    /// tuple.
    fn comparator(&mut self, unit: &mut Unit, op: ast::CmpOp, e: &Expr) -> Result<(), RunError> {
        match (op, e) {
            (ast::CmpOp::In | ast::CmpOp::NotIn, Expr::List(l)) => {
                self.tuple_display(unit, &l.elts, e)
            }
            _ => self.expr(unit, e),
        }
    }

    /// `compiler_compare`: one comparison, or a chain that keeps the middle operand with
    /// `SWAP`/`COPY` and leaves at the first false one.
    fn compiler_compare(
        &mut self,
        unit: &mut Unit,
        c: &ast::ExprCompare,
        line: i32,
    ) -> Result<(), RunError> {
        self.expr(unit, &c.left)?;
        let n = c.ops.len() - 1;
        if n == 0 {
            self.comparator(unit, c.ops[0], &c.comparators[0])?;
            Self::compare_op(unit, c.ops[0], line);
            return Ok(());
        }
        let cleanup = unit.new_block();
        for i in 0..n {
            self.comparator(unit, c.ops[i], &c.comparators[i])?;
            unit.keep_middle_operand(line);
            Self::compare_op(unit, c.ops[i], line);
            Self::jump_if_or_pop(unit, "JUMP_IF_FALSE_OR_POP", cleanup, line);
        }
        self.comparator(unit, c.ops[n], &c.comparators[n])?;
        Self::compare_op(unit, c.ops[n], line);
        let end = unit.new_block();
        unit.jump(end, true, -1);
        unit.use_next_block(cleanup);
        unit.swap_top_two(line);
        unit.emit("POP_TOP", 0, line);
        unit.use_next_block(end);
        Ok(())
    }

    /// `compiler_boolop`: `JUMP_IF_FALSE_OR_POP` (and) or `JUMP_IF_TRUE_OR_POP` (or) after
    /// each value but the last.
    /// 3.11's `JUMP_IF_FALSE_OR_POP`/`JUMP_IF_TRUE_OR_POP`; on 3.12 (which has neither)
    /// `COPY 1`, `POP_JUMP_IF_FALSE`/`POP_JUMP_IF_TRUE`, `POP_TOP`.
    fn jump_if_or_pop(unit: &mut Unit, jump: &'static str, target: usize, line: i32) {
        if unit.minor >= 12 {
            unit.emit("COPY", 1, line);
            unit.emit_to_bool(line);
            let pop_jump = if jump == "JUMP_IF_FALSE_OR_POP" {
                "POP_JUMP_IF_FALSE"
            } else {
                "POP_JUMP_IF_TRUE"
            };
            unit.emit_jump(pop_jump, target, line);
            unit.emit("POP_TOP", 0, line);
        } else {
            unit.emit_jump(jump, target, line);
            unit.next_block_3_10();
        }
    }

    fn compiler_boolop(&mut self, unit: &mut Unit, b: &ast::ExprBoolOp) -> Result<(), RunError> {
        let jump = match b.op {
            ast::BoolOp::And => "JUMP_IF_FALSE_OR_POP",
            ast::BoolOp::Or => "JUMP_IF_TRUE_OR_POP",
        };
        let end = unit.new_block();
        let n = b.values.len() - 1;
        for v in &b.values[..n] {
            self.expr(unit, v)?;
            // The jump takes the location the expression's visit restored: the BoolOp's.
            let line = self.loc(b);
            Self::jump_if_or_pop(unit, jump, end, line);
        }
        self.expr(unit, &b.values[n])?;
        unit.use_next_block(end);
        Ok(())
    }

    /// `compiler_jump_if`: jump to `next` if `e` is `cond`, with `not`, `and`/`or` and
    /// comparisons compiled into the jumps rather than computed as values. `line` is the
    /// location of the statement being compiled (the jumps take it).
    fn jump_if(
        &mut self,
        unit: &mut Unit,
        e: &Expr,
        next: usize,
        cond: bool,
        line: i32,
    ) -> Result<(), RunError> {
        if let Some(folded) = fold_not_compare(e) {
            return self.jump_if(unit, &folded, next, cond, line);
        }
        match e {
            // `not` of a constant is the constant ast_opt folded it to (fold_unaryop): loaded
            // and tested like any value.
            Expr::UnaryOp(u) if u.op == ast::UnaryOp::Not && self.fold(e).is_none() => {
                return self.jump_if(unit, &u.operand, next, !cond, line);
            }
            Expr::BoolOp(b) => {
                let cond2 = b.op == ast::BoolOp::Or;
                let next2 = if cond2 != cond {
                    unit.new_block()
                } else {
                    next
                };
                let n = b.values.len() - 1;
                for v in &b.values[..n] {
                    self.jump_if(unit, v, next2, cond2, line)?;
                }
                self.jump_if(unit, &b.values[n], next, cond, line)?;
                if next2 != next {
                    unit.use_next_block(next2);
                }
                return Ok(());
            }
            Expr::IfExp(x) => {
                let end = unit.new_block();
                let next2 = unit.new_block();
                self.jump_if(unit, &x.test, next2, false, line)?;
                self.jump_if(unit, &x.body, next, cond, line)?;
                unit.jump(end, true, -1);
                unit.use_next_block(next2);
                self.jump_if(unit, &x.orelse, next, cond, line)?;
                unit.use_next_block(end);
                return Ok(());
            }
            Expr::Compare(c) if c.ops.len() > 1 => {
                let cleanup = unit.new_block();
                self.expr(unit, &c.left)?;
                let n = c.ops.len() - 1;
                let eline = self.loc(e);
                for i in 0..n {
                    self.comparator(unit, c.ops[i], &c.comparators[i])?;
                    unit.keep_middle_operand(eline);
                    Self::compare_op(unit, c.ops[i], eline);
                    unit.emit_to_bool(eline);
                    unit.emit_jump("POP_JUMP_IF_FALSE", cleanup, eline);
                    unit.next_block_3_10();
                }
                self.comparator(unit, c.ops[n], &c.comparators[n])?;
                Self::compare_op(unit, c.ops[n], eline);
                unit.emit_to_bool(eline);
                let j = if cond {
                    "POP_JUMP_IF_TRUE"
                } else {
                    "POP_JUMP_IF_FALSE"
                };
                unit.emit_jump(j, next, eline);
                unit.next_block_3_10();
                let end = unit.new_block();
                unit.jump(end, true, -1);
                unit.use_next_block(cleanup);
                unit.emit("POP_TOP", 0, eline);
                if !cond {
                    unit.jump(next, true, -1);
                }
                unit.use_next_block(end);
                return Ok(());
            }
            _ => {}
        }
        self.expr(unit, e)?;
        unit.emit_to_bool(line);
        let j = if cond {
            "POP_JUMP_IF_TRUE"
        } else {
            "POP_JUMP_IF_FALSE"
        };
        unit.emit_jump(j, next, line);
        unit.next_block_3_10();
        Ok(())
    }

    /// `compiler_call`: a method call (`LOAD_METHOD`) unless the object is a module the code
    /// imported (`is_import_originated`, 3.11), else `PUSH_NULL` and the callable; the
    /// arguments; `PRECALL n`, `CALL n`.
    fn call(&mut self, unit: &mut Unit, c: &ast::ExprCall, line: i32) -> Result<(), RunError> {
        if c.keywords.iter().any(|k| k.arg.is_none()) {
            return Err(self.not_modelled("a ** argument", c));
        }
        if c.args.iter().any(|a| matches!(a, Expr::Starred(_))) {
            return Err(self.not_modelled("a starred argument", c));
        }
        if unit.legacy() {
            return self.call_3_10(unit, c, line);
        }
        let call_loc = unit.loc;
        let func_loc = self.lines.loc(c.func.range());
        match &*c.func {
            Expr::Attribute(a) if !self.import_originated(&a.value) => {
                self.expr(unit, &a.value)?;
                let i = self.name_index(unit, a.attr.as_str())?;
                // maybe_optimize_method_call: the method loaded at the attribute's location.
                unit.loc = func_loc;
                unit.emit("LOAD_METHOD", i, line);
            }
            Expr::Attribute(a) => {
                let Expr::Name(base) = &*a.value else {
                    unreachable!("import_originated only accepts names")
                };
                // compiler_call: PUSH_NULL at the callable's location (a LOAD_GLOBAL takes
                // it into its low bit and keeps its own), then the callable visited.
                let null = unit.minor < 13;
                let global = matches!(self.scope(unit, base.id.as_str()), Scope::Global);
                unit.loc = func_loc;
                if null && !global {
                    unit.emit("PUSH_NULL", 0, line);
                }
                unit.loc = self.lines.loc(base.range());
                self.load_name(unit, base.id.as_str(), line, null && global)?;
                unit.loc = func_loc;
                let i = self.name_index(unit, a.attr.as_str())?;
                unit.emit("LOAD_ATTR", i, line);
                if unit.minor >= 13 {
                    unit.emit("PUSH_NULL", 0, line);
                }
            }
            Expr::Name(n) => {
                unit.loc = func_loc;
                self.load_name(unit, n.id.as_str(), line, true)?;
            }
            other => {
                unit.loc = func_loc;
                if unit.minor < 13 {
                    unit.emit("PUSH_NULL", 0, line);
                }
                self.expr(unit, other)?;
                if unit.minor >= 13 {
                    unit.emit("PUSH_NULL", 0, line);
                }
            }
        }
        unit.loc = call_loc;
        for a in &c.args {
            self.expr(unit, a)?;
        }
        for k in &c.keywords {
            self.expr(unit, &k.value)?;
        }
        if !c.keywords.is_empty() {
            // compiler_call_simple_kw_helper: the names, a constant tuple, for KW_NAMES.
            let names: Vec<String> = c
                .keywords
                .iter()
                .map(|k| k.arg.as_ref().expect("checked").to_string())
                .collect();
            let k = self.names_tuple(unit, &names)?;
            if unit.minor >= 13 {
                // 3.13: the names are the last argument of CALL_KW.
                unit.emit("LOAD_CONST", k, line);
                unit.emit("CALL_KW", (c.args.len() + c.keywords.len()) as u32, line);
                return Ok(());
            }
            unit.emit("KW_NAMES", k, line);
        }
        let n = (c.args.len() + c.keywords.len()) as u32;
        if unit.minor == 11 {
            unit.emit("PRECALL", n, line);
        }
        unit.emit("CALL", n, line);
        Ok(())
    }

    /// 3.10's `compiler_call`: `maybe_optimize_method_call` (an attribute called with
    /// positional arguments only: `LOAD_METHOD`, the arguments, `CALL_METHOD n`, the method's
    /// name on the attribute's last line), else the callable, the arguments and
    /// `CALL_FUNCTION n`, or with keywords their names' tuple and `CALL_FUNCTION_KW n`
    /// (`compiler_call_helper`).
    fn call_3_10(&mut self, unit: &mut Unit, c: &ast::ExprCall, line: i32) -> Result<(), RunError> {
        if let Expr::Attribute(a) = &*c.func
            && c.keywords.is_empty()
            && (c.args.len() < STACK_USE_GUIDELINE || unit.minor == 9)
        {
            self.expr(unit, &a.value)?;
            let i = self.name_index(unit, a.attr.as_str())?;
            // 3.9's u_lineno is the call's own line again after the object's.
            let end_line = if unit.minor == 9 {
                line
            } else {
                self.end_line(&*c.func)
            };
            unit.emit("LOAD_METHOD", i, end_line);
            for arg in &c.args {
                self.expr(unit, arg)?;
            }
            unit.emit("CALL_METHOD", c.args.len() as u32, end_line);
            return Ok(());
        }
        self.expr(unit, &c.func)?;
        for a in &c.args {
            self.expr(unit, a)?;
        }
        for k in &c.keywords {
            self.expr(unit, &k.value)?;
        }
        let n = (c.args.len() + c.keywords.len()) as u32;
        if c.keywords.is_empty() {
            unit.emit("CALL_FUNCTION", n, line);
        } else {
            let names: Vec<String> = c
                .keywords
                .iter()
                .map(|k| k.arg.as_ref().expect("checked").to_string())
                .collect();
            let k = self.names_tuple(unit, &names)?;
            unit.emit("LOAD_CONST", k, line);
            unit.emit("CALL_FUNCTION_KW", n, line);
        }
        Ok(())
    }

    /// `compiler_from_import`: the level, the tuple of the names imported, `IMPORT_NAME`, then
    /// for each name `IMPORT_FROM` and a store, and the module popped.
    fn compiler_from_import(
        &mut self,
        unit: &mut Unit,
        i: &ast::StmtImportFrom,
        s: &Stmt,
        line: i32,
    ) -> Result<(), RunError> {
        let level = i.level.map_or(0, |l| l.to_u32());
        let Some(module) = i.module.as_ref().filter(|m| level == 0 && !m.contains('.')) else {
            return Err(self.not_modelled("a relative or dotted from-import", s));
        };
        if i.names.iter().any(|a| a.name.as_str() == "*") {
            return Err(self.not_modelled("from ... import *", s));
        }
        let zero = self.o.long_from_i64(0)?;
        let k = self.add_const(unit, ConstKey::Int(0), zero);
        self.o.decref(zero)?;
        unit.emit("LOAD_CONST", k, line);
        let names: Vec<String> = i.names.iter().map(|a| a.name.to_string()).collect();
        let t = self.names_tuple(unit, &names)?;
        unit.emit("LOAD_CONST", t, line);
        let n = self.name_index(unit, module.as_str())?;
        unit.emit("IMPORT_NAME", n, line);
        for a in &i.names {
            let n = self.name_index(unit, a.name.as_str())?;
            unit.emit("IMPORT_FROM", n, line);
            let bound = a.asname.as_ref().unwrap_or(&a.name).to_string();
            self.store_name(unit, &bound, line)?;
        }
        unit.emit("POP_TOP", 0, line);
        Ok(())
    }

    /// A constant tuple of identifiers (the keyword names of a call), merged as constants are;
    /// a new one is made only when no equal tuple is there already, and the arena keeps it.
    fn names_tuple(&mut self, unit: &mut Unit, names: &[String]) -> Result<u32, RunError> {
        let key = ConstKey::Tuple(names.iter().map(|n| ConstKey::Str(n.clone())).collect());
        if let Some(&(_, op)) = self.const_cache.iter().find(|(k, _)| *k == key) {
            return Ok(self.add_const(unit, key, op));
        }
        let mut items = Vec::new();
        for n in names {
            let op = self.interned(n)?;
            items.push(self.canonical(ConstKey::Str(n.clone()), op));
        }
        let t = self.o.tuple_pack(&items)?;
        self.arena.add(t);
        Ok(self.add_const(unit, key, t))
    }

    /// `optimize_basic_block`'s `BUILD_TUPLE` case, `fold_tuple_on_constants`, done for
    /// every block (in order) before the rest of `optimize_cfg`: a `BUILD_TUPLE n` after `n`
    /// `LOAD_CONST`s loads the tuple of those constants instead (merged as constants are, a
    /// new one held by `c_const_cache` only), appended to `co_consts`; the
    /// loads become `NOP`s.
    fn fold_tuples_on_constants(&mut self, unit: &mut Unit) -> Result<(), RunError> {
        for b in layout(&unit.blocks) {
            for i in 0..unit.blocks[b].instrs.len() {
                let inst = &unit.blocks[b].instrs[i];
                let n = inst.arg as usize;
                if inst.name != "BUILD_TUPLE" || i < n {
                    continue;
                }
                let loads = &unit.blocks[b].instrs[i - n..i];
                if !loads.iter().all(|l| l.name == "LOAD_CONST") {
                    continue;
                }
                let mut items = Vec::new();
                let mut keys = Vec::new();
                for l in loads {
                    let Const::Object(op) = unit.code.consts[l.arg as usize] else {
                        return Err(RunError::NotModelled {
                            construct: "a tuple of code objects".into(),
                            filename: self.filename.clone(),
                            line: unit.code.firstlineno,
                        });
                    };
                    let key = self
                        .const_cache
                        .iter()
                        .find(|(_, c)| *c == op)
                        .map(|(k, _)| k.clone())
                        .expect("every constant is in c_const_cache");
                    items.push(op);
                    keys.push(key);
                }
                let key = ConstKey::Tuple(keys);
                let t = match self.const_cache.iter().find(|(k, _)| *k == key) {
                    Some(&(_, t)) => t,
                    None => {
                        let t = self.o.tuple_pack(&items)?;
                        self.cache_only.push(t);
                        t
                    }
                };
                let k = self.add_const(unit, key, t);
                let blk = &mut unit.blocks[b];
                for l in &mut blk.instrs[i - n..i] {
                    l.name = "NOP";
                }
                blk.instrs[i].name = "LOAD_CONST";
                blk.instrs[i].arg = k;
            }
        }
        Ok(())
    }

    /// 3.13's `basicblock_optimize_load_const`, its `TO_BOOL` case (the others are in
    /// [`optimize_basic_block`]): a constant (or a `COPY 1` of one) made a bool is the
    /// constant `True` or `False`, added to `co_consts` (`add_const`) and loaded instead;
    /// the conditional jump after it is then decided by `optimize_basic_block`.
    fn constant_truths(&mut self, unit: &mut Unit) {
        for b in layout(&unit.blocks) {
            let mut last_const: Option<u32> = None;
            for i in 0..unit.blocks[b].instrs.len() {
                let inst = unit.blocks[b].instrs[i];
                let copy_of_const = inst.name == "COPY" && inst.arg == 1;
                last_const = match (copy_of_const, last_const, inst.name) {
                    (true, Some(k), _) => Some(k),
                    (_, _, "LOAD_CONST") => Some(inst.arg),
                    _ => None,
                };
                let Some(k) = last_const else {
                    continue;
                };
                let next = unit.blocks[b].instrs.get(i + 1).map(|x| x.name);
                let Some(&truth) = unit.const_values.get(&k) else {
                    continue;
                };
                if next == Some("TO_BOOL") {
                    let op = self.o.bool_object(truth);
                    let index = self.add_const(unit, ConstKey::Bool(truth), op);
                    let blk = &mut unit.blocks[b];
                    blk.instrs[i].name = "NOP";
                    blk.instrs[i + 1].name = "LOAD_CONST";
                    blk.instrs[i + 1].arg = index;
                }
            }
        }
    }

    /// `is_import_originated`: the base is a name the module binds by `import`.
    fn import_originated(&self, e: &Expr) -> bool {
        matches!(e, Expr::Name(n) if self.imported.contains(n.id.as_str()))
    }

    // ---- assemble ---------------------------------------------------------------------------

    /// `assemble`: the implicit `return None`, the CFG optimisations of 3.11, line numbers,
    /// jump directions and offsets. Fills `unit.code.instrs`.
    fn assemble(&mut self, unit: &mut Unit, implicit_return: bool) -> Result<(), RunError> {
        if unit.minor == 9 {
            return self.assemble_3_9(unit, implicit_return);
        }
        // Make sure every block that falls off the end returns None (UNSET_LOC). A
        // comprehension ends in its own RETURN_VALUE, with no NEXT_BLOCK after it.
        if implicit_return {
            let none = self.none_const(unit);
            unit.emit("LOAD_CONST", none, -1);
            unit.emit("RETURN_VALUE", 0, -1);
        }
        // 3.13's flowgraph passes here know jumps only: the handlers' depths are taken and the
        // pseudo-instructions dropped first (its try statement is not compiled).
        if unit.minor >= 13 {
            stackdepth(unit);
            convert_exception_handlers_to_nops(&mut unit.blocks);
        }
        let minor = unit.minor;
        let b = &mut unit.blocks;
        if minor >= 13 {
            blocks_from_sequence(b);
        }
        for i in 0..b.len() {
            normalize_basic_block(b, i);
        }
        if minor < 12 {
            for i in (0..b.len()).rev() {
                extend_block(b, i, minor);
            }
        } else if minor == 12 {
            for i in layout(b) {
                extend_block(b, i, minor);
            }
        }
        // insert_prefix_instructions: MAKE_CELL for each cell (by offset), COPY_FREE_VARS
        // first, none with a line.
        let mut prefix = Vec::new();
        let l = &unit.layout;
        // 3.10 makes the cells and copies the closure when it makes the frame.
        if !l.freevars.is_empty() && !unit.legacy() {
            prefix.push(("COPY_FREE_VARS", l.freevars.len() as u32));
        }
        let mut cells: Vec<u32> = l.cellvars.iter().filter_map(|c| l.index(c)).collect();
        cells.sort_unstable();
        if !unit.legacy() {
            prefix.extend(cells.into_iter().map(|i| ("MAKE_CELL", i)));
        }
        for (k, (name, arg)) in prefix.into_iter().enumerate() {
            unit.blocks[0].instrs.insert(
                k,
                CInstr {
                    name,
                    arg,
                    target: None,
                    line: -1,
                    span: Span::NONE,
                    handler: None,
                },
            );
        }
        self.fold_tuples_on_constants(unit)?;
        if unit.minor >= 13 {
            self.constant_truths(unit);
        }
        if unit.minor >= 13 {
            optimize_cfg_3_13(unit);
        } else {
            optimize_cfg(unit);
        }
        if unit.minor >= 12 {
            // _PyCfg_OptimizeCodeUnit, then resolve_line_numbers.
            trim_unused_consts(unit);
            if !add_checks_for_loads_of_uninitialized_variables(unit) {
                return Err(RunError::NotModelled {
                    construct: "a function of more than 64 locals on 3.12".into(),
                    filename: self.filename.clone(),
                    line: unit.code.firstlineno,
                });
            }
            if unit.minor >= 13 {
                insert_superinstructions(&mut unit.blocks);
                push_cold_blocks_to_end(&mut unit.blocks);
                resolve_line_numbers(&mut unit.blocks);
            } else {
                push_cold_blocks_to_end(&mut unit.blocks);
                duplicate_exits_without_lineno(&mut unit.blocks);
                propagate_line_numbers(&mut unit.blocks);
            }
        } else {
            duplicate_exits_without_lineno(&mut unit.blocks);
            trim_unused_consts(unit);
            propagate_line_numbers(&mut unit.blocks);
        }
        // 3.13 leaves an exit no line reaches without one (dis shows `--`). 3.11's assemble
        // then runs stackdepth, label_exception_targets and convert_exception_handlers_to_nops
        // (the SETUP_* and POP_BLOCK have carried their lines through the passes so far).
        // (3.10 compiles no try statement: its stack depth is stackdepth_3_10's, below.)
        if unit.minor < 13 {
            guarantee_lineno_for_exits(&mut unit.blocks, unit.code.firstlineno as i32);
        }
        if matches!(unit.minor, 11 | 12) {
            stackdepth(unit);
            convert_exception_handlers_to_nops(&mut unit.blocks);
        }
        // 3.11+: convert_exception_handlers_to_nops, then clean_basic_block once more: NOPs
        // whose line the propagation gave to their neighbours go. 3.10's jumps are already
        // the real ones.
        if !unit.legacy() {
            for b in layout(&unit.blocks) {
                clean_basic_block(&mut unit.blocks, b, -1);
            }
        }
        match unit.minor {
            ..=10 => normalize_jumps_3_10(&mut unit.blocks),
            11 => normalize_jumps(&mut unit.blocks),
            _ => normalize_jumps_3_12(&mut unit.blocks, unit.minor),
        }
        if unit.minor >= 12 {
            // _PyCfg_ConvertPseudoOps: the pseudo-instruction LOAD_METHOD is LOAD_ATTR with the
            // low bit set (LOAD_ATTR's name index is shifted left one), STORE_FAST_MAYBE_NULL
            // is STORE_FAST. Before the jumps are measured: LOAD_ATTR has caches.
            for b in unit.blocks.iter_mut() {
                for i in b.instrs.iter_mut() {
                    match i.name {
                        "LOAD_METHOD" => (i.name, i.arg) = ("LOAD_ATTR", i.arg << 1 | 1),
                        "LOAD_ATTR" => i.arg <<= 1,
                        "STORE_FAST_MAYBE_NULL" => i.name = "STORE_FAST",
                        // 3.13: a cell is loaded for a closure as any local is.
                        "LOAD_CLOSURE" if unit.minor >= 13 => i.name = "LOAD_FAST",
                        _ => {}
                    }
                }
            }
        }
        if unit.legacy() {
            unit.code.stacksize = stackdepth_3_10(&unit.blocks);
        }
        unit.code.instrs = assemble_jump_offsets(&unit.blocks, unit.minor, &unit.handler_depth);
        Ok(())
    }
}

impl Compiler<'_> {
    /// 3.9's `assemble` and `makecode`: no control-flow graph passes. A `return None` only
    /// where the current block has no `RETURN_VALUE` (`b_return`); the blocks emitted in
    /// the order `compiler_use_next_block` chained them (`dfs`'s reverse postorder, dead
    /// blocks included); `stackdepth`; the jumps' arguments in bytes
    /// (`assemble_jump_offsets`); then `PyCode_Optimize` on the bytecode and `co_lnotab`.
    fn assemble_3_9(&mut self, unit: &mut Unit, implicit_return: bool) -> Result<(), RunError> {
        let returns = unit.blocks[unit.cur]
            .instrs
            .iter()
            .any(|i| i.name == "RETURN_VALUE");
        if implicit_return && !returns {
            let none = self.none_const(unit);
            unit.emit("LOAD_CONST", none, -1);
            unit.emit("RETURN_VALUE", 0, -1);
        }
        unit.code.stacksize = stackdepth_3_10(&unit.blocks);
        let assembled = assemble_jump_offsets(&unit.blocks, 9, &unit.handler_depth);
        let firstlineno = unit.code.firstlineno;
        let mut consts = ConstList3_9 { c: self, unit };
        let instrs = crate::peephole::optimize(&assembled, firstlineno, &mut consts).map_err(
            |e| match e {
                RunError::NotModelled {
                    construct, line, ..
                } => RunError::NotModelled {
                    construct,
                    filename: consts.c.filename.clone(),
                    line,
                },
                other => other,
            },
        )?;
        unit.code.instrs = instrs;
        Ok(())
    }
}

/// 3.9's `co_consts` while `PyCode_Optimize` runs: a list it appends folded tuples to.
struct ConstList3_9<'c, 'o> {
    c: &'c mut Compiler<'o>,
    unit: &'c mut Unit,
}

impl crate::peephole::ConstList for ConstList3_9<'_, '_> {
    fn is_true(&self, k: u32) -> bool {
        // A code object is true.
        self.unit.const_values.get(&k).copied().unwrap_or(true)
    }

    fn append_tuple(&mut self, items: &[u32]) -> Result<u32, RunError> {
        let mut objects = Vec::with_capacity(items.len());
        for &k in items {
            let Const::Object(op) = self.unit.code.consts[k as usize] else {
                return Err(RunError::NotModelled {
                    construct: "a tuple of code objects".into(),
                    filename: self.c.filename.clone(),
                    line: self.unit.code.firstlineno,
                });
            };
            objects.push(op);
        }
        // The list's reference, which the code object's tuple takes over.
        let t = self.c.o.tuple_pack(&objects)?;
        self.c.cache_only.push(t);
        self.unit.code.consts.push(Const::Object(t));
        let k = (self.unit.code.consts.len() - 1) as u32;
        self.unit.const_values.insert(k, !items.is_empty());
        Ok(k)
    }
}

/// `POP_EXCEPT_AND_RERAISE`: the exception that was being handled before is restored
/// (`COPY 3` brings it up from under `lasti` and the new one), then the new one re-raised
/// with its `lasti`.
fn pop_except_and_reraise(unit: &mut Unit, line: i32) {
    unit.emit("COPY", 3, line);
    unit.emit("POP_EXCEPT", 0, line);
    unit.emit("RERAISE", 1, line);
}

/// The blocks in layout order (`b_next` from the entry).
fn layout(blocks: &[Block]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut b = Some(0);
    while let Some(i) = b {
        out.push(i);
        b = blocks[i].next;
    }
    out
}

/// 3.13's `_PyCfg_FromInstructionSequence`: codegen makes a flat sequence of instructions and
/// labels, and the control-flow graph starts a block only at an instruction some jump (or
/// exception handler) targets and after a jump or an exit; the labels nothing jumps to (a
/// loop's end without `break`) leave no block boundary.
fn blocks_from_sequence(blocks: &mut [Block]) {
    let mut targeted = vec![false; blocks.len()];
    for b in layout(blocks) {
        for k in 0..blocks[b].instrs.len() {
            let i = blocks[b].instrs[k];
            if let Some(t) = i.target {
                let t = skip_empty(blocks, t);
                blocks[b].instrs[k].target = Some(t);
                targeted[t] = true;
            }
            if let Some(h) = i.handler {
                targeted[skip_empty(blocks, h)] = true;
            }
        }
    }
    // Labels at the same instruction are one block: the empty blocks go.
    for b in layout(blocks) {
        while let Some(n) = blocks[b].next
            && blocks[n].instrs.is_empty()
        {
            blocks[b].next = blocks[n].next;
        }
    }
    let mut merged = vec![false; blocks.len()];
    for b in layout(blocks) {
        if merged[b] {
            continue;
        }
        while let Some(n) = blocks[b].next {
            let ends = blocks[b]
                .instrs
                .last()
                .is_some_and(|l| is_jump(l.name) || is_exit(l.name));
            if ends || targeted[n] {
                break;
            }
            let moved = std::mem::take(&mut blocks[n].instrs);
            blocks[b].instrs.extend(moved);
            blocks[b].next = blocks[n].next;
            merged[n] = true;
        }
    }
}

/// The first non-empty block from `b` on (`while (target->b_iused == 0) target = b_next`).
fn skip_empty(blocks: &[Block], mut b: usize) -> usize {
    while blocks[b].instrs.is_empty() {
        match blocks[b].next {
            Some(n) => b = n,
            None => break,
        }
    }
    b
}

/// `normalize_basic_block`: mark exits and blocks that do not fall through.
fn normalize_basic_block(blocks: &mut [Block], b: usize) {
    for k in 0..blocks[b].instrs.len() {
        let i = blocks[b].instrs[k];
        if let Some(t) = i.target {
            blocks[b].instrs[k].target = Some(skip_empty(blocks, t));
        }
        if is_exit(i.name) {
            blocks[b].exit = true;
            blocks[b].nofallthrough = true;
        }
        if is_unconditional_jump(i.name) {
            blocks[b].nofallthrough = true;
        }
    }
}

/// `extend_block`: a block ending in an unconditional jump to a small exit block without line
/// numbers (an implicit `return None`) gets a copy of that block instead of the jump.
/// 3.10's and 3.12's (`inline_small_exit_blocks`) copy exit blocks with line numbers too.
fn extend_block(blocks: &mut [Block], b: usize, minor: u8) {
    let Some(last) = blocks[b].instrs.last().copied() else {
        return;
    };
    if !matches!(
        last.name,
        "JUMP" | "JUMP_FORWARD" | "JUMP_BACKWARD" | "JUMP_ABSOLUTE"
    ) {
        return;
    }
    let mut t = last.target.expect("a jump has a target");
    if minor >= 12 {
        // After eliminate_empty_basic_blocks: the jump goes to the next block with
        // instructions.
        t = skip_empty(blocks, t);
        let n = blocks[b].instrs.len();
        blocks[b].instrs[n - 1].target = Some(t);
    }
    // 3.11 copies only exit blocks without line numbers.
    if blocks[t].exit
        && blocks[t].instrs.len() <= MAX_COPY_SIZE
        && (minor != 11 || blocks[t].instrs.iter().all(|i| i.line < 0))
    {
        let copy = blocks[t].instrs.clone();
        let n = blocks[b].instrs.len();
        blocks[b].instrs[n - 1].name = "NOP";
        blocks[b].instrs[n - 1].target = None;
        blocks[b].instrs.extend(copy);
        blocks[b].exit = true;
    }
}

/// `jump_thread`: a jump to a jump goes straight to the second one's target, if both have
/// the same line.
fn jump_thread(inst: &mut CInstr, target: &CInstr, name: &'static str, minor: u8) -> bool {
    // 3.12 also threads through a jump without a line (an artificial one).
    let same_line = inst.line == target.line || (minor >= 12 && target.line < 0);
    if same_line && inst.target != target.target {
        inst.target = target.target;
        inst.name = name;
        return true;
    }
    false
}

/// 3.13's `jump_thread`: the jump becomes a `NOP` (kept for its line if needed) and a jump to
/// the second one's target, with the second one's location, is appended (the lines are
/// resolved already, so no line is lost).
fn jump_thread_3_13(
    instrs: &mut Vec<CInstr>,
    i: usize,
    target: &CInstr,
    name: &'static str,
) -> bool {
    if instrs[i].target == target.target {
        return false;
    }
    let jump = CInstr {
        name,
        arg: 0,
        target: target.target,
        line: target.line,
        span: target.span,
        // basicblock_add_jump: a new instruction, outside any handler (label_exception_targets
        // ran before).
        handler: None,
    };
    instrs[i].name = "NOP";
    instrs[i].target = None;
    instrs.insert(i + 1, jump);
    true
}

/// `optimize_basic_block`: constant conditions, `is None` tests, and jumps to jumps.
fn optimize_basic_block(unit: &mut Unit, b: usize) {
    let minor = unit.minor;
    let mut i = 0;
    // 3.12's is_copy_of_load_const: a `COPY 1` after a `LOAD_CONST` is optimised as that
    // constant (`0 or 1` as a value: `LOAD_CONST`, `COPY 1`, `POP_JUMP_IF_TRUE`).
    let mut last_const: Option<u32> = None;
    while i < unit.blocks[b].instrs.len() {
        let inst = unit.blocks[b].instrs[i];
        let copy_of_const = minor >= 12 && inst.name == "COPY" && inst.arg == 1;
        let karg = match (copy_of_const, last_const) {
            (true, Some(k)) => Some(k),
            _ => None,
        };
        last_const = match (karg, inst.name) {
            (Some(k), _) => Some(k),
            (None, "LOAD_CONST") => Some(inst.arg),
            _ => None,
        };
        let effective = if karg.is_some() {
            "LOAD_CONST"
        } else {
            inst.name
        };
        let karg = karg.unwrap_or(inst.arg);
        let nextop = unit.blocks[b].instrs.get(i + 1).map(|x| x.name);
        let target = match inst.target {
            Some(t) => {
                let t = skip_empty(&unit.blocks, t);
                unit.blocks[b].instrs[i].target = Some(t);
                unit.blocks[t].instrs.first().copied()
            }
            None => None,
        };
        let tname = target.map_or("NOP", |t| t.name);
        let mut again = false;
        match effective {
            "LOAD_CONST" => {
                let truth = unit.const_values.get(&karg).copied();
                let is_none = unit.none_index == Some(karg);
                match nextop {
                    Some(j @ ("POP_JUMP_IF_FALSE" | "POP_JUMP_IF_TRUE")) => {
                        if let Some(is_true) = truth {
                            let blk = &mut unit.blocks[b];
                            blk.instrs[i].name = "NOP";
                            if is_true == (j == "POP_JUMP_IF_TRUE") {
                                blk.instrs[i + 1].name = "JUMP";
                                blk.nofallthrough = true;
                            } else {
                                blk.instrs[i + 1].name = "NOP";
                                blk.instrs[i + 1].target = None;
                            }
                        }
                    }
                    Some(j @ ("JUMP_IF_FALSE_OR_POP" | "JUMP_IF_TRUE_OR_POP")) => {
                        if let Some(is_true) = truth {
                            let blk = &mut unit.blocks[b];
                            if is_true == (j == "JUMP_IF_TRUE_OR_POP") {
                                blk.instrs[i + 1].name = "JUMP";
                                blk.nofallthrough = true;
                            } else {
                                blk.instrs[i].name = "NOP";
                                blk.instrs[i + 1].name = "NOP";
                                blk.instrs[i + 1].target = None;
                            }
                        }
                    }
                    Some("IS_OP") => {
                        let mut j = i + 2;
                        // 3.13: a TO_BOOL between goes, whatever follows.
                        if is_none
                            && unit.blocks[b].instrs.get(j).map(|x| x.name) == Some("TO_BOOL")
                        {
                            unit.blocks[b].instrs[j].name = "NOP";
                            j += 1;
                        }
                        let jump_op = unit.blocks[b].instrs.get(j).map(|x| x.name);
                        if is_none
                            && matches!(jump_op, Some("POP_JUMP_IF_FALSE" | "POP_JUMP_IF_TRUE"))
                        {
                            let blk = &mut unit.blocks[b];
                            let nextarg = blk.instrs[i + 1].arg;
                            blk.instrs[i].name = "NOP";
                            blk.instrs[i + 1].name = "NOP";
                            let not_none = (nextarg != 0) ^ (jump_op == Some("POP_JUMP_IF_FALSE"));
                            blk.instrs[j].name = if not_none {
                                "POP_JUMP_IF_NOT_NONE"
                            } else {
                                "POP_JUMP_IF_NONE"
                            };
                        }
                    }
                    Some("RETURN_VALUE") if unit.minor >= 12 => {
                        let blk = &mut unit.blocks[b];
                        blk.instrs[i].name = "NOP";
                        blk.instrs[i + 1].name = "RETURN_CONST";
                        blk.instrs[i + 1].arg = karg;
                    }
                    _ => {}
                }
            }
            // 3.13: a comparison made a bool is one already (COMPARE_OP's bit 16 asks for
            // the bool); `is`, `in` and their negations make exact bools, and `not` does.
            "COMPARE_OP" if minor >= 13 && nextop == Some("TO_BOOL") => {
                let blk = &mut unit.blocks[b];
                blk.instrs[i].name = "NOP";
                blk.instrs[i + 1].name = "COMPARE_OP";
                blk.instrs[i + 1].arg = inst.arg | 16;
            }
            "CONTAINS_OP" | "IS_OP"
                if minor >= 13 && matches!(nextop, Some("TO_BOOL" | "UNARY_NOT")) =>
            {
                let blk = &mut unit.blocks[b];
                blk.instrs[i].name = "NOP";
                blk.instrs[i + 1].name = inst.name;
                blk.instrs[i + 1].arg = if nextop == Some("UNARY_NOT") {
                    inst.arg ^ 1
                } else {
                    inst.arg
                };
            }
            "TO_BOOL" if nextop == Some("TO_BOOL") => unit.blocks[b].instrs[i].name = "NOP",
            "LOAD_GLOBAL" if minor >= 13 && nextop == Some("PUSH_NULL") && inst.arg & 1 == 0 => {
                let blk = &mut unit.blocks[b];
                blk.instrs[i].arg |= 1;
                blk.instrs[i + 1].name = "NOP";
            }
            "UNARY_NOT" if minor >= 13 && matches!(nextop, Some("TO_BOOL" | "UNARY_NOT")) => {
                let blk = &mut unit.blocks[b];
                blk.instrs[i].name = "NOP";
                blk.instrs[i + 1].name = if nextop == Some("TO_BOOL") {
                    "UNARY_NOT"
                } else {
                    "NOP"
                };
            }
            "BUILD_TUPLE"
                if nextop == Some("UNPACK_SEQUENCE")
                    && unit.blocks[b].instrs[i + 1].arg == inst.arg
                    && (1..=3).contains(&inst.arg) =>
            {
                let blk = &mut unit.blocks[b];
                blk.instrs[i].name = "NOP";
                blk.instrs[i + 1].name = if inst.arg == 1 { "NOP" } else { "SWAP" };
            }
            "SWAP" => {
                if inst.arg == 1 {
                    unit.blocks[b].instrs[i].name = "NOP";
                } else {
                    apply_static_swaps(&mut unit.blocks[b].instrs, i, minor);
                }
            }
            "JUMP_IF_FALSE_OR_POP" | "JUMP_IF_TRUE_OR_POP" => {
                let t = target.expect("a jump's target has instructions");
                let same = inst.name;
                let (pop_same, other, pop_other) = if same == "JUMP_IF_FALSE_OR_POP" {
                    (
                        "POP_JUMP_IF_FALSE",
                        "JUMP_IF_TRUE_OR_POP",
                        "POP_JUMP_IF_TRUE",
                    )
                } else {
                    (
                        "POP_JUMP_IF_TRUE",
                        "JUMP_IF_FALSE_OR_POP",
                        "POP_JUMP_IF_FALSE",
                    )
                };
                let tb = inst.target.expect("a jump");
                let after_target = unit.blocks[tb].next;
                let inst = &mut unit.blocks[b].instrs[i];
                if tname == pop_same {
                    again = jump_thread(inst, &t, pop_same, minor);
                } else if tname == "JUMP" || tname == same {
                    again = jump_thread(inst, &t, same, minor);
                } else if (tname == other || tname == pop_other) && inst.line == t.line {
                    inst.name = pop_same;
                    inst.target = after_target;
                    again = true;
                }
            }
            // 3.13: an unconditional jump is threaded through a `JUMP_NO_INTERRUPT` too,
            // keeping its own kind.
            "JUMP" | "JUMP_NO_INTERRUPT" if minor >= 13 && tname == "JUMP_NO_INTERRUPT" => {
                let t = target.expect("a jump's target has instructions");
                again = jump_thread_3_13(&mut unit.blocks[b].instrs, i, &t, inst.name);
            }
            "POP_JUMP_IF_NOT_NONE"
            | "POP_JUMP_IF_NONE"
            | "POP_JUMP_IF_FALSE"
            | "POP_JUMP_IF_TRUE"
            | "JUMP"
            | "JUMP_NO_INTERRUPT"
                if tname == "JUMP" =>
            {
                let t = target.expect("a jump's target has instructions");
                let name = if inst.name == "JUMP_NO_INTERRUPT" {
                    "JUMP"
                } else {
                    inst.name
                };
                again = if minor >= 13 {
                    jump_thread_3_13(&mut unit.blocks[b].instrs, i, &t, name)
                } else {
                    jump_thread(&mut unit.blocks[b].instrs[i], &t, name, minor)
                };
            }
            _ => {}
        }
        if !again {
            i += 1;
        }
    }
}

/// 3.10's `optimize_basic_block`: constant conditions become `JUMP_ABSOLUTE` or go, a
/// `BUILD_TUPLE n` unpacked at once becomes `ROT_TWO` or `ROT_THREE, ROT_TWO`, conditional
/// jumps to jumps of the same line are threaded, and an unconditional jump to a jump is
/// threaded too when both have the same line.
fn optimize_basic_block_3_10(unit: &mut Unit, b: usize) {
    let mut i = 0;
    while i < unit.blocks[b].instrs.len() {
        let inst = unit.blocks[b].instrs[i];
        let nextop = unit.blocks[b].instrs.get(i + 1).map(|x| x.name);
        let target = inst.target.map(|t| {
            let t = skip_empty(&unit.blocks, t);
            unit.blocks[b].instrs[i].target = Some(t);
            unit.blocks[t].instrs[0]
        });
        let tname = target.map_or("NOP", |t| t.name);
        let mut again = false;
        match inst.name {
            "LOAD_CONST" => {
                let truth = unit.const_values.get(&inst.arg).copied();
                let blk = &mut unit.blocks[b];
                match (nextop, truth) {
                    (Some(j @ ("POP_JUMP_IF_FALSE" | "POP_JUMP_IF_TRUE")), Some(is_true)) => {
                        blk.instrs[i].name = "NOP";
                        if is_true == (j == "POP_JUMP_IF_TRUE") {
                            blk.instrs[i + 1].name = "JUMP_ABSOLUTE";
                            blk.nofallthrough = true;
                        } else {
                            blk.instrs[i + 1].name = "NOP";
                            blk.instrs[i + 1].target = None;
                        }
                    }
                    (Some(j @ ("JUMP_IF_FALSE_OR_POP" | "JUMP_IF_TRUE_OR_POP")), Some(is_true)) => {
                        if is_true == (j == "JUMP_IF_TRUE_OR_POP") {
                            blk.instrs[i + 1].name = "JUMP_ABSOLUTE";
                            blk.nofallthrough = true;
                        } else {
                            blk.instrs[i].name = "NOP";
                            blk.instrs[i + 1].name = "NOP";
                            blk.instrs[i + 1].target = None;
                        }
                    }
                    _ => {}
                }
            }
            "BUILD_TUPLE"
                if nextop == Some("UNPACK_SEQUENCE")
                    && unit.blocks[b].instrs[i + 1].arg == inst.arg
                    && (1..=3).contains(&inst.arg) =>
            {
                let (first, second) = match inst.arg {
                    1 => ("NOP", "NOP"),
                    2 => ("ROT_TWO", "NOP"),
                    _ => ("ROT_THREE", "ROT_TWO"),
                };
                let blk = &mut unit.blocks[b];
                blk.instrs[i].name = first;
                blk.instrs[i + 1].name = second;
                blk.instrs[i].arg = 0;
                blk.instrs[i + 1].arg = 0;
            }
            "JUMP_IF_FALSE_OR_POP" | "JUMP_IF_TRUE_OR_POP" => {
                let t = target.expect("a jump's target has instructions");
                let same = inst.name;
                let (pop_same, other) = if same == "JUMP_IF_FALSE_OR_POP" {
                    ("POP_JUMP_IF_FALSE", "JUMP_IF_TRUE_OR_POP")
                } else {
                    ("POP_JUMP_IF_TRUE", "JUMP_IF_FALSE_OR_POP")
                };
                let after_target = unit.blocks[inst.target.expect("a jump")].next;
                let inst = &mut unit.blocks[b].instrs[i];
                if tname == pop_same {
                    // *inst = *target: the conditional jump itself, its line too.
                    if inst.line == t.line {
                        *inst = t;
                        again = true;
                    }
                } else if matches!(tname, "JUMP_ABSOLUTE" | "JUMP_FORWARD") || tname == same {
                    again = jump_thread(inst, &t, same, 10);
                } else if tname == other && inst.line == t.line {
                    inst.name = pop_same;
                    inst.target = after_target;
                    again = true;
                }
            }
            "POP_JUMP_IF_FALSE" | "POP_JUMP_IF_TRUE"
                if matches!(tname, "JUMP_ABSOLUTE" | "JUMP_FORWARD") =>
            {
                let t = target.expect("a jump's target has instructions");
                again = jump_thread(&mut unit.blocks[b].instrs[i], &t, inst.name, 10);
            }
            "JUMP_ABSOLUTE" | "JUMP_FORWARD"
                if matches!(tname, "JUMP_ABSOLUTE" | "JUMP_FORWARD") =>
            {
                // A jump to a jump of another line stays (a `break` to the artificial jump
                // back of an outer loop), as 3.10.13 compiles it.
                let t = target.expect("a jump's target has instructions");
                let name = if tname == "JUMP_FORWARD" {
                    inst.name
                } else {
                    "JUMP_ABSOLUTE"
                };
                again = jump_thread(&mut unit.blocks[b].instrs[i], &t, name, 10);
            }
            _ => {}
        }
        if !again {
            i += 1;
        }
    }
}

/// `SWAPPABLE`: instructions whose order a `SWAP` before them can exchange instead.
fn swappable(name: &str) -> bool {
    matches!(name, "STORE_FAST" | "STORE_FAST_MAYBE_NULL" | "POP_TOP")
}

/// `STORES_TO` (3.12): the local a swappable instruction stores to.
fn stores_to(i: &CInstr) -> Option<u32> {
    matches!(i.name, "STORE_FAST" | "STORE_FAST_MAYBE_NULL").then_some(i.arg)
}

/// `next_swappable_instruction`.
fn next_swappable_instruction(instrs: &[CInstr], mut i: usize, lineno: i32) -> Option<usize> {
    loop {
        i += 1;
        let inst = instrs.get(i)?;
        if lineno >= 0 && inst.line != lineno {
            return None;
        }
        if inst.name == "NOP" {
            continue;
        }
        return swappable(inst.name).then_some(i);
    }
}

/// `apply_static_swaps`: `SWAP n` before stores to locals becomes a `NOP` and the stores
/// exchange places.
fn apply_static_swaps(instrs: &mut [CInstr], i: usize, minor: u8) {
    for i in (0..=i).rev() {
        let swap = instrs[i];
        if swap.name != "SWAP" {
            if swap.name == "NOP" || swappable(swap.name) {
                continue;
            }
            return;
        }
        let Some(j) = next_swappable_instruction(instrs, i, -1) else {
            return;
        };
        let lineno = instrs[j].line;
        let mut k = j;
        for _ in 1..swap.arg {
            match next_swappable_instruction(instrs, k, lineno) {
                Some(x) => k = x,
                None => return,
            }
        }
        // 3.12: not if the two store to the same local, or one between them stores to either.
        let (sj, sk) = (stores_to(&instrs[j]), stores_to(&instrs[k]));
        if minor >= 12 && (sj.is_some() || sk.is_some()) {
            if sj == sk {
                return;
            }
            if instrs[j + 1..k]
                .iter()
                .any(|x| stores_to(x).is_some() && (stores_to(x) == sj || stores_to(x) == sk))
            {
                return;
            }
        }
        instrs[i].name = "NOP";
        instrs.swap(j, k);
    }
}

/// `clean_basic_block`: NOPs go unless they carry a line no neighbour has. 3.10 passes the
/// line the block's fall-through predecessor ended on (`prev_lineno`), -1 otherwise.
fn clean_basic_block(blocks: &mut [Block], b: usize, prev_lineno: i32) {
    let mut out: Vec<CInstr> = Vec::new();
    let mut prev_lineno = prev_lineno;
    let n = blocks[b].instrs.len();
    for src in 0..n {
        let inst = blocks[b].instrs[src];
        let lineno = inst.line;
        if inst.name == "NOP" {
            if lineno < 0 || prev_lineno == lineno {
                continue;
            }
            if src < n - 1 {
                let next_lineno = blocks[b].instrs[src + 1].line;
                if next_lineno < 0 || next_lineno == lineno {
                    // The next instruction keeps its own columns on the same line.
                    if next_lineno < 0 {
                        blocks[b].instrs[src + 1].span = inst.span;
                    }
                    blocks[b].instrs[src + 1].line = lineno;
                    continue;
                }
            } else {
                let mut next = blocks[b].next;
                while let Some(nb) = next {
                    if !blocks[nb].instrs.is_empty() {
                        break;
                    }
                    next = blocks[nb].next;
                }
                if let Some(nb) = next
                    && blocks[nb].instrs[0].line == lineno
                {
                    continue;
                }
            }
        }
        out.push(blocks[b].instrs[src]);
        prev_lineno = lineno;
    }
    blocks[b].instrs = out;
}

/// `mark_reachable`: count each block's predecessors from the entry (a handler's: its
/// `SETUP_*`).
fn mark_reachable(blocks: &mut [Block]) {
    for b in blocks.iter_mut() {
        b.predecessors = 0;
    }
    blocks[0].predecessors = 1;
    let mut stack = vec![0];
    while let Some(b) = stack.pop() {
        if let Some(n) = blocks[b].next
            && !blocks[b].nofallthrough
        {
            if blocks[n].predecessors == 0 {
                stack.push(n);
            }
            blocks[n].predecessors += 1;
        }
        for k in 0..blocks[b].instrs.len() {
            if let Some(t) = blocks[b].instrs[k].target {
                if blocks[t].predecessors == 0 {
                    stack.push(t);
                }
                blocks[t].predecessors += 1;
            }
            // A handler whose SETUP_FINALLY is a NOP already (3.13 here, which drops the
            // pseudo-instructions before its passes) is reached by what it covers, once.
            if let Some(h) = blocks[b].instrs[k].handler
                && blocks[h].predecessors == 0
            {
                stack.push(h);
                blocks[h].predecessors = 1;
            }
        }
    }
}

/// `eliminate_empty_basic_blocks`.
fn eliminate_empty_basic_blocks(blocks: &mut [Block]) {
    for b in layout(blocks) {
        if let Some(mut next) = blocks[b].next {
            while blocks[next].instrs.is_empty() {
                match blocks[next].next {
                    Some(n) => next = n,
                    None => break,
                }
            }
            blocks[b].next = Some(next);
        }
    }
    for b in layout(blocks) {
        if let Some(last) = blocks[b].instrs.last().copied()
            && let Some(t) = last.target
        {
            let t = skip_empty(blocks, t);
            blocks[b].instrs.last_mut().expect("non-empty").target = Some(t);
        }
    }
}

/// `optimize_cfg`.
fn optimize_cfg(unit: &mut Unit) {
    for b in layout(&unit.blocks) {
        if unit.legacy() {
            optimize_basic_block_3_10(unit, b);
        } else {
            optimize_basic_block(unit, b);
        }
        clean_basic_block(&mut unit.blocks, b, -1);
    }
    if unit.minor >= 12 {
        remove_redundant_nops_and_pairs(&mut unit.blocks);
    }
    if unit.minor < 12 {
        for b in (0..unit.blocks.len()).rev() {
            extend_block(&mut unit.blocks, b, unit.minor);
        }
    } else {
        // 3.12's inline_small_exit_blocks goes through the blocks in order.
        for b in layout(&unit.blocks) {
            extend_block(&mut unit.blocks, b, unit.minor);
        }
    }
    let minor = unit.minor;
    let blocks = &mut unit.blocks;
    mark_reachable(blocks);
    for b in layout(blocks) {
        if blocks[b].predecessors == 0 {
            blocks[b].instrs.clear();
            blocks[b].nofallthrough = false;
        }
    }
    eliminate_empty_basic_blocks(blocks);
    let mut pred: Option<usize> = None;
    for b in layout(blocks) {
        // 3.10: a NOP with the line the fall-through predecessor ended on goes too.
        let prev_lineno = match pred {
            Some(p) if minor <= 10 => blocks[p].instrs.last().map_or(-1, |i| i.line),
            _ => -1,
        };
        clean_basic_block(blocks, b, prev_lineno);
        pred = (!blocks[b].nofallthrough).then_some(b);
    }
    remove_redundant_jumps(blocks, minor);
}

/// 3.13's `optimize_cfg`: small exit blocks and blocks without a line that do not fall
/// through are copied into the blocks that jump to them, the unreachable ones emptied, the
/// line numbers resolved (`resolve_line_numbers`) before the peephole optimisations (a `NOP`
/// left by a copied jump keeps the line of the code before it), then the `LOAD_CONST`/`POP_TOP`
/// pairs, the unreachable blocks, and the redundant `NOP`s and jumps removed. (Measured on
/// 3.13.0 with `_testinternalcapi.optimize_cfg`: a conditional jump to a `JUMP_NO_INTERRUPT`
/// of no line stays, a `NOP` left where an `if` jumped over its inlined `return` keeps the
/// condition's line.)
fn optimize_cfg_3_13(unit: &mut Unit) {
    while inline_small_or_no_lineno_blocks(&mut unit.blocks) {}
    remove_unreachable(&mut unit.blocks);
    resolve_line_numbers(&mut unit.blocks);
    for b in layout(&unit.blocks) {
        optimize_basic_block(unit, b);
    }
    remove_redundant_nops_and_pairs(&mut unit.blocks);
    remove_unreachable(&mut unit.blocks);
    remove_redundant_nops_and_jumps(&mut unit.blocks);
}

/// Whether control falls off the end of the block into the next (`BB_HAS_FALLTHROUGH`): an
/// empty block does.
fn has_fallthrough(b: &Block) -> bool {
    !b.instrs.last().is_some_and(|l| {
        is_exit(l.name)
            || matches!(
                l.name,
                "JUMP" | "JUMP_NO_INTERRUPT" | "JUMP_FORWARD" | "JUMP_BACKWARD"
            )
    })
}

/// 3.13's `resolve_line_numbers`: `duplicate_exits_without_lineno`, then
/// `propagate_line_numbers`. The emptied blocks stay in the chain: a block falling into an
/// empty one gives its line to nothing, as in CPython, whose passes read `b_next` as it is.
fn resolve_line_numbers(blocks: &mut Vec<Block>) {
    // An exit block without a line that several jumps reach is copied for each jump
    // (next_nonempty_block of the target), the copy after it taking the jump's line.
    for b in layout(blocks) {
        let Some(last) = blocks[b].instrs.last().copied() else {
            continue;
        };
        let Some(t) = last.target else {
            continue;
        };
        let t = skip_empty(blocks, t);
        if is_exit_without_lineno(&blocks[t]) && blocks[t].predecessors > 1 {
            copy_exit_for_jump(blocks, b, t, last);
        }
    }
    for b in layout(blocks) {
        if let Some(last) = blocks[b].instrs.last().copied()
            && has_fallthrough(&blocks[b])
            && let Some(n) = blocks[b].next
            && is_exit_without_lineno(&blocks[n])
        {
            blocks[n].instrs[0].line = last.line;
            blocks[n].instrs[0].span = last.span;
        }
    }
    // propagate_line_numbers: within a block from the instruction before; into the next
    // block and a jump's target when this block is their only predecessor.
    for b in layout(blocks) {
        let Some(last) = blocks[b].instrs.last().copied() else {
            continue;
        };
        let mut prev = (-1, Span::NONE);
        for i in blocks[b].instrs.iter_mut() {
            if i.line < 0 {
                (i.line, i.span) = prev;
            } else {
                prev = (i.line, i.span);
            }
        }
        let mut heirs = Vec::new();
        if has_fallthrough(&blocks[b])
            && let Some(n) = blocks[b].next
        {
            heirs.push(n);
        }
        heirs.extend(last.target);
        for h in heirs {
            if blocks[h].predecessors == 1
                && let Some(first) = blocks[h].instrs.first_mut()
                && first.line < 0
            {
                (first.line, first.span) = prev;
            }
        }
    }
}

/// 3.13's `inline_small_or_no_lineno_blocks`, one pass: a block ending in an unconditional
/// jump takes a copy of its target instead if the target is a small exit block or has no
/// line and does not fall through. Whether anything changed.
fn inline_small_or_no_lineno_blocks(blocks: &mut [Block]) -> bool {
    let mut changed = false;
    for b in layout(blocks) {
        let Some(last) = blocks[b].instrs.last().copied() else {
            continue;
        };
        if !matches!(last.name, "JUMP" | "JUMP_NO_INTERRUPT") {
            continue;
        }
        let t = skip_empty(blocks, last.target.expect("a jump has a target"));
        let target = &blocks[t];
        let small_exit = target.exit && target.instrs.len() <= MAX_COPY_SIZE;
        let no_lineno_no_fallthrough =
            target.nofallthrough && target.instrs.iter().all(|i| i.line < 0);
        if small_exit || no_lineno_no_fallthrough {
            let copy = target.instrs.clone();
            let exit = target.exit;
            let n = blocks[b].instrs.len();
            blocks[b].instrs[n - 1].name = "NOP";
            blocks[b].instrs[n - 1].target = None;
            blocks[b].instrs.extend(copy);
            blocks[b].exit = exit;
            // The removed JUMP's check of the eval breaker is kept.
            if no_lineno_no_fallthrough && last.name == "JUMP" {
                let copied = blocks[b].instrs.last_mut().expect("non-empty");
                if copied.name == "JUMP_NO_INTERRUPT" {
                    copied.name = "JUMP";
                }
            }
            changed = true;
        }
    }
    changed
}

/// 3.13's `remove_unreachable`: each block's predecessors counted from the entry, and the
/// blocks none reaches emptied.
fn remove_unreachable(blocks: &mut [Block]) {
    mark_reachable(blocks);
    for b in layout(blocks) {
        if blocks[b].predecessors == 0 {
            blocks[b].instrs.clear();
            blocks[b].nofallthrough = false;
            blocks[b].exit = false;
        }
    }
}

/// 3.13's `remove_redundant_nops_and_jumps`: `NOP`s no line needs go, and an unconditional
/// jump to the next non-empty block becomes a `NOP`, until neither changes anything.
fn remove_redundant_nops_and_jumps(blocks: &mut [Block]) {
    loop {
        let before: usize = blocks.iter().map(|b| b.instrs.len()).sum();
        for b in layout(blocks) {
            clean_basic_block(blocks, b, -1);
        }
        let removed = before - blocks.iter().map(|b| b.instrs.len()).sum::<usize>();
        let mut jumps = 0;
        for b in layout(blocks) {
            let Some(last) = blocks[b].instrs.last().copied() else {
                continue;
            };
            if !matches!(last.name, "JUMP" | "JUMP_NO_INTERRUPT") {
                continue;
            }
            let target = skip_empty(blocks, last.target.expect("a jump has a target"));
            let next = blocks[b].next.map(|n| skip_empty(blocks, n));
            if next == Some(target) && !blocks[target].instrs.is_empty() {
                let n = blocks[b].instrs.len();
                blocks[b].instrs[n - 1].name = "NOP";
                blocks[b].instrs[n - 1].target = None;
                blocks[b].nofallthrough = false;
                jumps += 1;
            }
        }
        if removed + jumps == 0 {
            return;
        }
    }
}

/// `remove_redundant_nops_and_pairs` (3.12): a `LOAD_CONST` or `COPY 1` right before a
/// `POP_TOP` (within a run of blocks no jump enters) goes with it, until none is left.
fn remove_redundant_nops_and_pairs(blocks: &mut [Block]) {
    let mut labelled = vec![false; blocks.len()];
    for b in blocks.iter() {
        for i in &b.instrs {
            if let Some(t) = i.target.or(i.handler) {
                labelled[t] = true;
            }
        }
    }
    loop {
        let mut done = true;
        let mut prev: Option<(usize, usize)> = None;
        for b in layout(blocks) {
            clean_basic_block(blocks, b, -1);
            if labelled[b] {
                prev = None;
            }
            for k in 0..blocks[b].instrs.len() {
                let inst = blocks[b].instrs[k];
                if inst.name == "POP_TOP"
                    && let Some((pb, pk)) = prev
                {
                    let p = blocks[pb].instrs[pk];
                    if p.name == "LOAD_CONST" || (p.name == "COPY" && p.arg == 1) {
                        blocks[pb].instrs[pk].name = "NOP";
                        blocks[b].instrs[k].name = "NOP";
                        done = false;
                    }
                }
                prev = Some((b, k));
            }
            // An empty block falls through: the instruction before it stays the previous one.
            if let Some(l) = blocks[b].instrs.last().copied()
                && (l.target.is_some() || is_exit(l.name) || blocks[b].nofallthrough)
            {
                prev = None;
            }
        }
        if done {
            return;
        }
    }
}

/// `remove_redundant_jumps`: jumps to the block that follows anyway are redundant.
/// Both versions leave the `NOP` (without a line) for the line numbers to reach: 3.11's
/// last `clean_basic_block` decides, 3.12's last `remove_redundant_nops`. (A `NOP` that
/// begins a block takes its one predecessor's line, and stays if the next line differs: a
/// `for` loop ending an `if 1:` whose `else` went as unreachable.)
fn remove_redundant_jumps(blocks: &mut [Block], minor: u8) {
    let mut maybe_empty = false;
    for b in layout(blocks) {
        if let Some(last) = blocks[b].instrs.last().copied()
            && is_unconditional_jump(last.name)
            && last.target == blocks[b].next
        {
            blocks[b].nofallthrough = false;
            let n = blocks[b].instrs.len();
            blocks[b].instrs[n - 1].name = "NOP";
            blocks[b].instrs[n - 1].target = None;
            if minor <= 10 {
                // 3.10 cleans the block at once: the NOP stays only for a line of its own.
                clean_basic_block(blocks, b, -1);
            }
            if minor < 12 {
                maybe_empty = true;
            }
        }
    }
    if maybe_empty {
        eliminate_empty_basic_blocks(blocks);
    }
}

/// `is_jump`'s target: a jump's, not a `SETUP_*`'s (its handler is reached by an exception,
/// not by the flow).
fn jump_target(i: CInstr) -> Option<usize> {
    i.target.filter(|_| !is_block_push(i.name))
}

/// `duplicate_exits_without_lineno`'s copy: exit block `t`, which several jumps reach, copied
/// for the jump that ends block `b` (the copy placed after `t`, taking the jump's line and
/// columns), the jump retargeted to it.
fn copy_exit_for_jump(blocks: &mut Vec<Block>, b: usize, t: usize, last: CInstr) {
    let mut copy = blocks[t].clone();
    copy.instrs[0].line = last.line;
    copy.instrs[0].span = last.span;
    copy.predecessors = 1;
    copy.next = blocks[t].next;
    blocks.push(copy);
    let new = blocks.len() - 1;
    blocks[t].predecessors -= 1;
    blocks[t].next = Some(new);
    blocks[b].instrs.last_mut().expect("non-empty").target = Some(new);
}

/// Whether the block leaves the code and none of its instructions has a line.
fn is_exit_without_lineno(b: &Block) -> bool {
    b.instrs.last().is_some_and(|i| is_exit(i.name)) && b.instrs.iter().all(|i| i.line < 0)
}

/// `duplicate_exits_without_lineno`: an exit block without a line that several jumps reach
/// is copied for each jump, which gives each copy the jump's line.
fn duplicate_exits_without_lineno(blocks: &mut Vec<Block>) {
    let n = blocks.len();
    for b in (0..n).rev() {
        let Some(last) = blocks[b].instrs.last().copied() else {
            continue;
        };
        let Some(t) = jump_target(last) else {
            continue;
        };
        if is_exit_without_lineno(&blocks[t]) && blocks[t].predecessors > 1 {
            copy_exit_for_jump(blocks, b, t, last);
        }
    }
    // Empty blocks are skipped.
    for b in 0..blocks.len() {
        while let Some(n) = blocks[b].next
            && blocks[n].instrs.is_empty()
        {
            blocks[b].next = blocks[n].next;
        }
    }
    for b in 0..blocks.len() {
        if !blocks[b].nofallthrough
            && let Some(n) = blocks[b].next
            && let Some(last) = blocks[b].instrs.last().copied()
            && is_exit_without_lineno(&blocks[n])
        {
            blocks[n].instrs[0].line = last.line;
            blocks[n].instrs[0].span = last.span;
        }
    }
}

/// `trim_unused_consts`: constants after the last one loaded are dropped (the first, the
/// docstring's place, always stays).
fn trim_unused_consts(unit: &mut Unit) {
    if unit.minor >= 12 {
        remove_unused_consts(unit);
        return;
    }
    let mut max = 0;
    for b in layout(&unit.blocks) {
        for i in &unit.blocks[b].instrs {
            if matches!(i.name, "LOAD_CONST" | "KW_NAMES") && i.arg > max {
                max = i.arg;
            }
        }
    }
    unit.code.consts.truncate(max as usize + 1);
}

/// Whether the instruction's argument is an index into `co_consts`.
fn uses_const(name: &str) -> bool {
    matches!(name, "LOAD_CONST" | "RETURN_CONST" | "KW_NAMES")
}

/// `remove_unused_consts` (3.12): every constant no instruction loads is dropped, the first
/// (the docstring's place) always kept, and the indices renumbered in order.
fn remove_unused_consts(unit: &mut Unit) {
    let n = unit.code.consts.len();
    if n == 0 {
        return;
    }
    let mut used = vec![false; n];
    used[0] = true;
    for b in layout(&unit.blocks) {
        for i in &unit.blocks[b].instrs {
            if uses_const(i.name) {
                used[i.arg as usize] = true;
            }
        }
    }
    let mut new_index = vec![0u32; n];
    let mut kept = 0;
    for k in 0..n {
        if used[k] {
            new_index[k] = kept;
            kept += 1;
        }
    }
    let mut k = 0;
    unit.code.consts.retain(|_| {
        k += 1;
        used[k - 1]
    });
    for b in unit.blocks.iter_mut() {
        for i in b.instrs.iter_mut() {
            if uses_const(i.name) {
                i.arg = new_index[i.arg as usize];
            }
        }
    }
}

/// `add_checks_for_loads_of_uninitialized_variables` (3.12): a `LOAD_FAST` of a local that
/// some path reaches unbound becomes `LOAD_FAST_CHECK`.
fn add_checks_for_loads_of_uninitialized_variables(unit: &mut Unit) -> bool {
    let nlocals = unit.code.varnames.len();
    if nlocals > 64 {
        return false;
    }
    // ste_varnames: the parameters, *args and **kwargs included.
    let c = &unit.code;
    let nparams = c.argcount as usize + usize::from(c.varargs) + usize::from(c.varkeywords);
    let all = if nlocals == 64 {
        u64::MAX
    } else {
        (1u64 << nlocals) - 1
    };
    let params = (1u64 << nparams) - 1;
    let mut mask = vec![0u64; unit.blocks.len()];
    let mut on_stack = vec![false; unit.blocks.len()];
    mask[0] = all & !params;
    let mut stack = vec![0usize];
    on_stack[0] = true;
    let push =
        |t: usize, m: u64, mask: &mut Vec<u64>, stack: &mut Vec<usize>, on: &mut Vec<bool>| {
            if mask[t] | m != mask[t] {
                mask[t] |= m;
                if !on[t] {
                    on[t] = true;
                    stack.push(t);
                }
            }
        };
    // scan_block_for_locals: every block once (a DELETE_FAST, LOAD_FAST_AND_CLEAR or
    // STORE_FAST_MAYBE_NULL is an origin too), then the blocks whose mask grew, until none.
    let order = layout(&unit.blocks);
    let mut k = 0;
    loop {
        let b = if k < order.len() {
            k += 1;
            order[k - 1]
        } else if let Some(b) = stack.pop() {
            on_stack[b] = false;
            b
        } else {
            break;
        };
        let mut unsafe_mask = mask[b];
        for i in unit.blocks[b].instrs.iter_mut() {
            if let Some(h) = i.handler {
                push(h, unsafe_mask, &mut mask, &mut stack, &mut on_stack);
            }
            if i.arg >= 64 {
                continue;
            }
            let bit = 1u64 << i.arg;
            match i.name {
                "DELETE_FAST" | "LOAD_FAST_AND_CLEAR" | "STORE_FAST_MAYBE_NULL" => {
                    unsafe_mask |= bit
                }
                "STORE_FAST" | "LOAD_FAST_CHECK" => unsafe_mask &= !bit,
                "LOAD_FAST" => {
                    if unsafe_mask & bit != 0 {
                        i.name = "LOAD_FAST_CHECK";
                    }
                    unsafe_mask &= !bit;
                }
                _ => {}
            }
        }
        let blk = &unit.blocks[b];
        let last = blk.instrs.last().copied();
        let falls = !blk.nofallthrough && !last.is_some_and(|l| is_exit(l.name));
        if falls && let Some(n) = blk.next {
            push(n, unsafe_mask, &mut mask, &mut stack, &mut on_stack);
        }
        if let Some(t) = last.and_then(jump_target) {
            push(t, unsafe_mask, &mut mask, &mut stack, &mut on_stack);
        }
    }
    true
}

/// `propagate_line_numbers`: an instruction without a line takes its predecessor's.
fn propagate_line_numbers(blocks: &mut [Block]) {
    for b in layout(blocks) {
        if blocks[b].instrs.is_empty() {
            continue;
        }
        let mut prev = (-1, Span::NONE);
        for i in blocks[b].instrs.iter_mut() {
            if i.line < 0 {
                (i.line, i.span) = prev;
            } else {
                prev = (i.line, i.span);
            }
        }
        if !blocks[b].nofallthrough
            && let Some(n) = blocks[b].next
            && blocks[n].predecessors == 1
            && blocks[n].instrs[0].line < 0
        {
            (blocks[n].instrs[0].line, blocks[n].instrs[0].span) = prev;
        }
        let last = *blocks[b].instrs.last().expect("non-empty");
        if let Some(t) = jump_target(last)
            && blocks[t].predecessors == 1
            && blocks[t].instrs[0].line < 0
        {
            blocks[t].instrs[0].line = last.line;
            blocks[t].instrs[0].span = last.span;
        }
    }
}

/// `guarantee_lineno_for_exits`.
fn guarantee_lineno_for_exits(blocks: &mut [Block], firstlineno: i32) {
    let mut lineno = firstlineno;
    for b in layout(blocks) {
        let Some(last) = blocks[b].instrs.last().copied() else {
            continue;
        };
        if last.line < 0 {
            if matches!(last.name, "RETURN_VALUE" | "RETURN_CONST") {
                for i in blocks[b].instrs.iter_mut() {
                    i.line = lineno;
                }
            }
        } else {
            lineno = last.line;
        }
    }
}

/// `stackdepth`, as far as the exception table needs it: the depth at each `SETUP_*`, from
/// which `label_exception_targets` takes its handler's (`b_startdepth - 1`, one less again
/// when `lasti` is pushed too).
fn stackdepth(unit: &mut Unit) {
    let n = unit.blocks.len();
    let minor = unit.minor;
    let mut start: Vec<Option<i32>> = vec![None; n];
    start[0] = Some(0);
    let mut todo = vec![0usize];
    while let Some(b) = todo.pop() {
        let mut depth = start[b].expect("queued with a depth");
        let mut falls = true;
        let mut reach = |t: usize, d: i32, todo: &mut Vec<usize>| {
            if start[t].is_none() {
                start[t] = Some(d);
                todo.push(t);
            }
        };
        for i in &unit.blocks[b].instrs {
            if is_block_push(i.name) {
                let t = i.target.expect("a handler");
                // SETUP_CLEANUP's handler gets lasti and the exception, the others the
                // exception (SETUP_WITH's also keeps the context manager's __exit__).
                let pushed = if i.name == "SETUP_CLEANUP" { 2 } else { 1 };
                let lasti = i.name != "SETUP_FINALLY";
                let handler_depth = depth + pushed - 1 - i32::from(lasti);
                unit.handler_depth.insert(t, (handler_depth as u32, lasti));
                reach(t, depth + pushed, &mut todo);
                continue;
            }
            if let Some(t) = i.target {
                reach(
                    t,
                    depth + stack_effect(i.name, i.arg, true, minor),
                    &mut todo,
                );
            }
            depth += stack_effect(i.name, i.arg, false, minor);
            if matches!(i.name, "JUMP" | "JUMP_NO_INTERRUPT") || is_exit(i.name) {
                falls = false;
                break;
            }
        }
        if falls && let Some(next) = unit.blocks[b].next {
            reach(next, depth, &mut todo);
        }
    }
}

/// `convert_exception_handlers_to_nops` (3.11; 3.12's `_PyCfg_ConvertPseudoOps`): once
/// `label_exception_targets` has labelled every instruction, `SETUP_*` and `POP_BLOCK` are
/// `NOP`s, kept only for a line no other instruction carries.
fn convert_exception_handlers_to_nops(blocks: &mut [Block]) {
    for b in blocks.iter_mut() {
        for i in b.instrs.iter_mut() {
            if is_block_push(i.name) || i.name == "POP_BLOCK" {
                i.name = "NOP";
                i.target = None;
            }
        }
    }
}

/// `stack_effect` of 3.11, 3.12 and 3.13 for the instructions the compiler emits (`jump`:
/// the effect when the jump is taken).
fn stack_effect(name: &str, arg: u32, jump: bool, minor: u8) -> i32 {
    let n = arg as i32;
    match name {
        "NOP" | "RESUME" | "MAKE_CELL" | "COPY_FREE_VARS" | "KW_NAMES" | "SWAP" | "GET_ITER"
        | "UNARY_NEGATIVE" | "UNARY_NOT" | "UNARY_INVERT" | "UNARY_POSITIVE"
        | "CALL_INTRINSIC_1" | "LOAD_ATTR" | "DELETE_FAST" | "DELETE_NAME" | "DELETE_GLOBAL"
        | "DELETE_DEREF" | "JUMP" | "JUMP_NO_INTERRUPT" | "RETURN_CONST" | "LIST_TO_TUPLE"
        | "POP_BLOCK" | "CHECK_EXC_MATCH" | "TO_BOOL" | "CONVERT_VALUE" | "FORMAT_SIMPLE" => 0,
        "LOAD_CONST"
        | "LOAD_FAST"
        | "LOAD_FAST_CHECK"
        | "LOAD_FAST_AND_CLEAR"
        | "LOAD_NAME"
        | "LOAD_DEREF"
        | "LOAD_CLOSURE"
        | "PUSH_NULL"
        | "COPY"
        | "LOAD_METHOD"
        | "LOAD_BUILD_CLASS"
        | "PUSH_EXC_INFO" => 1,
        // 3.11's FOR_ITER pops the exhausted iterator as it jumps; 3.12's jumps to an
        // END_FOR that pops it.
        "FOR_ITER" if jump && minor < 12 => -1,
        "FOR_ITER" => 1,
        "JUMP_IF_FALSE_OR_POP" | "JUMP_IF_TRUE_OR_POP" if jump => 0,
        "LOAD_GLOBAL" => 1 + (n & 1),
        "STORE_FAST"
        | "STORE_FAST_MAYBE_NULL"
        | "STORE_NAME"
        | "STORE_GLOBAL"
        | "STORE_DEREF"
        | "POP_TOP"
        | "RETURN_VALUE"
        | "BINARY_OP"
        | "BINARY_SUBSCR"
        | "COMPARE_OP"
        | "IS_OP"
        | "CONTAINS_OP"
        | "LIST_APPEND"
        | "LIST_EXTEND"
        | "IMPORT_NAME"
        | "POP_JUMP_IF_FALSE"
        | "POP_JUMP_IF_TRUE"
        | "POP_JUMP_IF_NONE"
        | "POP_JUMP_IF_NOT_NONE"
        | "JUMP_IF_FALSE_OR_POP"
        | "JUMP_IF_TRUE_OR_POP"
        | "RERAISE"
        | "POP_EXCEPT"
        | "DELETE_ATTR"
        | "SET_FUNCTION_ATTRIBUTE"
        | "FORMAT_WITH_SPEC" => -1,
        // 3.13's END_FOR pops the last value only; a POP_TOP after it pops the iterator.
        "END_FOR" if minor >= 13 => -1,
        "BINARY_SLICE" | "END_FOR" | "DELETE_SUBSCR" | "STORE_ATTR" => -2,
        "STORE_SUBSCR" => -3,
        "STORE_SLICE" => -4,
        "BUILD_LIST" | "BUILD_TUPLE" | "BUILD_STRING" => 1 - n,
        "BUILD_SLICE" if n == 3 => -2,
        "BUILD_SLICE" => -1,
        "BUILD_MAP" => 1 - 2 * n,
        "BUILD_CONST_KEY_MAP" | "RAISE_VARARGS" => -n,
        // 3.11 splits a call: PRECALL pops the arguments, CALL the callable and NULL
        // for the result.
        "PRECALL" => -n,
        "CALL" if minor < 12 => -1,
        "CALL" => -(n + 1),
        "CALL_KW" => -(n + 2),
        "MAKE_FUNCTION" => -(arg.count_ones() as i32),
        "UNPACK_SEQUENCE" => n - 1,
        "FORMAT_VALUE" if arg & 4 != 0 => -1,
        _ => 0,
    }
}

/// 3.10's `stackdepth`: the deepest the value stack gets, following every path from the
/// entry (a jump's target starts with the depth the jump leaves).
fn stackdepth_3_10(blocks: &[Block]) -> u32 {
    let mut start: Vec<Option<i32>> = vec![None; blocks.len()];
    start[0] = Some(0);
    let mut todo = vec![0usize];
    let mut maxdepth = 0;
    while let Some(b) = todo.pop() {
        let mut depth = start[b].expect("queued with a depth");
        let mut next = blocks[b].next;
        for i in &blocks[b].instrs {
            let new_depth = depth + stack_effect_3_10(i.name, i.arg, false);
            maxdepth = maxdepth.max(new_depth);
            if let Some(t) = i.target {
                let target_depth = depth + stack_effect_3_10(i.name, i.arg, true);
                maxdepth = maxdepth.max(target_depth);
                if start[t].is_none() {
                    start[t] = Some(target_depth);
                    todo.push(t);
                }
            }
            depth = new_depth;
            if is_unconditional_jump(i.name) || is_exit(i.name) {
                next = None;
                break;
            }
        }
        if let Some(n) = next
            && start[n].is_none()
        {
            start[n] = Some(depth);
            todo.push(n);
        }
    }
    maxdepth as u32
}

/// 3.10's `stack_effect` for the instructions its compiler emits here (`jump`: the effect
/// when the jump is taken).
fn stack_effect_3_10(name: &str, arg: u32, jump: bool) -> i32 {
    let n = arg as i32;
    if legacy_nb_op(name).is_some() {
        return -1;
    }
    match name {
        "DUP_TOP" | "LOAD_CONST" | "LOAD_NAME" | "LOAD_GLOBAL" | "LOAD_FAST" | "LOAD_CLOSURE"
        | "LOAD_DEREF" | "LOAD_METHOD" => 1,
        "DUP_TOP_TWO" => 2,
        "POP_TOP" | "RETURN_VALUE" | "STORE_NAME" | "STORE_GLOBAL" | "STORE_FAST"
        | "STORE_DEREF" | "DELETE_ATTR" | "BINARY_SUBSCR" | "COMPARE_OP" | "IS_OP"
        | "CONTAINS_OP" | "IMPORT_NAME" | "LIST_APPEND" | "LIST_EXTEND" | "POP_JUMP_IF_FALSE"
        | "POP_JUMP_IF_TRUE" => -1,
        "STORE_ATTR" | "DELETE_SUBSCR" => -2,
        "STORE_SUBSCR" => -3,
        "UNPACK_SEQUENCE" => n - 1,
        "BUILD_TUPLE" | "BUILD_LIST" | "BUILD_SET" | "BUILD_STRING" => 1 - n,
        "BUILD_MAP" => 1 - 2 * n,
        "BUILD_CONST_KEY_MAP" => -n,
        "BUILD_SLICE" => {
            if n == 3 {
                -2
            } else {
                -1
            }
        }
        "CALL_FUNCTION" => -n,
        "CALL_METHOD" | "CALL_FUNCTION_KW" => -n - 1,
        // The code and the qualified name go, the function comes, and each flag's value goes.
        "MAKE_FUNCTION" => -1 - (arg & 0x0f).count_ones() as i32,
        "FORMAT_VALUE" => -i32::from(arg & 4 != 0),
        "JUMP_IF_TRUE_OR_POP" | "JUMP_IF_FALSE_OR_POP" => {
            if jump {
                0
            } else {
                -1
            }
        }
        "FOR_ITER" => {
            if jump {
                -1
            } else {
                1
            }
        }
        // NOP, the rotations, unary operators, GET_ITER, LOAD_ATTR, the deletes of names,
        // LIST_TO_TUPLE and the unconditional jumps leave the depth as it is.
        _ => 0,
    }
}

/// `push_cold_blocks_to_end` (3.12): blocks reached only through exception handlers go after
/// all the others, in order; a jump that then goes to the next block anyway is removed.
fn push_cold_blocks_to_end(blocks: &mut [Block]) {
    let order = layout(blocks);
    let mut warm = vec![false; blocks.len()];
    let mut stack = vec![0usize];
    warm[0] = true;
    while let Some(b) = stack.pop() {
        let last = blocks[b].instrs.last().copied();
        let falls = !blocks[b].nofallthrough && !last.is_some_and(|l| is_exit(l.name));
        let mut succ = Vec::new();
        if falls && let Some(n) = blocks[b].next {
            succ.push(n);
        }
        succ.extend(blocks[b].instrs.iter().copied().filter_map(jump_target));
        for t in succ {
            if !warm[t] {
                warm[t] = true;
                stack.push(t);
            }
        }
    }
    if order.iter().all(|&b| warm[b]) {
        return;
    }
    let new_order: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&b| warm[b])
        .chain(order.iter().copied().filter(|&b| !warm[b]))
        .collect();
    for w in new_order.windows(2) {
        blocks[w[0]].next = Some(w[1]);
    }
    blocks[*new_order.last().expect("the entry")].next = None;
    remove_redundant_jumps(blocks, 12);
}

/// `normalize_jumps`: each virtual jump becomes its forward or backward form.
fn normalize_jumps(blocks: &mut [Block]) {
    normalize_jumps_by(blocks, |name, forward| match (name, forward) {
        ("JUMP", true) | ("JUMP_NO_INTERRUPT", true) => "JUMP_FORWARD",
        ("JUMP", false) => "JUMP_BACKWARD",
        ("JUMP_NO_INTERRUPT", false) => "JUMP_BACKWARD_NO_INTERRUPT",
        ("POP_JUMP_IF_NOT_NONE", true) => "POP_JUMP_FORWARD_IF_NOT_NONE",
        ("POP_JUMP_IF_NOT_NONE", false) => "POP_JUMP_BACKWARD_IF_NOT_NONE",
        ("POP_JUMP_IF_NONE", true) => "POP_JUMP_FORWARD_IF_NONE",
        ("POP_JUMP_IF_NONE", false) => "POP_JUMP_BACKWARD_IF_NONE",
        ("POP_JUMP_IF_FALSE", true) => "POP_JUMP_FORWARD_IF_FALSE",
        ("POP_JUMP_IF_FALSE", false) => "POP_JUMP_BACKWARD_IF_FALSE",
        ("POP_JUMP_IF_TRUE", true) => "POP_JUMP_FORWARD_IF_TRUE",
        ("POP_JUMP_IF_TRUE", false) => "POP_JUMP_BACKWARD_IF_TRUE",
        (other, _) => other,
    });
}

/// `normalize_jumps` of 3.10: an unconditional jump to a block laid out after it is
/// `JUMP_FORWARD` (relative), one to a block before it `JUMP_ABSOLUTE`.
fn normalize_jumps_3_10(blocks: &mut [Block]) {
    normalize_jumps_by(blocks, |name, forward| match (name, forward) {
        ("JUMP_ABSOLUTE", true) => "JUMP_FORWARD",
        ("JUMP_FORWARD", false) => "JUMP_ABSOLUTE",
        (other, _) => other,
    });
}

/// Renames each block's last jump by `form(name, forward)`, walking the blocks in layout
/// order: a jump is forward when its target is not laid out yet.
fn normalize_jumps_by(blocks: &mut [Block], form: impl Fn(&'static str, bool) -> &'static str) {
    for b in blocks.iter_mut() {
        b.visited = false;
    }
    for b in layout(blocks) {
        blocks[b].visited = true;
        let Some(last) = blocks[b].instrs.last().copied() else {
            continue;
        };
        let Some(t) = last.target else {
            continue;
        };
        let forward = !blocks[t].visited;
        blocks[b].instrs.last_mut().expect("non-empty").name = form(last.name, forward);
    }
}

/// `normalize_jumps` of 3.12: `JUMP` becomes `JUMP_FORWARD` or `JUMP_BACKWARD`; a conditional
/// jump backwards becomes the opposite jump over a new block that jumps back (no location).
fn normalize_jumps_3_12(blocks: &mut Vec<Block>, minor: u8) {
    for b in blocks.iter_mut() {
        b.visited = false;
    }
    for b in layout(blocks) {
        blocks[b].visited = true;
        let Some(last) = blocks[b].instrs.last().copied() else {
            continue;
        };
        let Some(t) = last.target else {
            continue;
        };
        let forward = !blocks[t].visited;
        let reversed = match last.name {
            "JUMP" | "JUMP_NO_INTERRUPT" => {
                let name = match (last.name, forward) {
                    ("JUMP", true) | ("JUMP_NO_INTERRUPT", true) => "JUMP_FORWARD",
                    ("JUMP", false) => "JUMP_BACKWARD",
                    _ => "JUMP_BACKWARD_NO_INTERRUPT",
                };
                blocks[b].instrs.last_mut().expect("non-empty").name = name;
                continue;
            }
            _ if forward => continue,
            "POP_JUMP_IF_NOT_NONE" => "POP_JUMP_IF_NONE",
            "POP_JUMP_IF_NONE" => "POP_JUMP_IF_NOT_NONE",
            "POP_JUMP_IF_FALSE" => "POP_JUMP_IF_TRUE",
            "POP_JUMP_IF_TRUE" => "POP_JUMP_IF_FALSE",
            _ => continue,
        };
        let next = blocks[b].next.expect("a conditional jump falls through");
        blocks.push(Block {
            instrs: vec![CInstr {
                name: "JUMP_BACKWARD",
                arg: 0,
                target: Some(t),
                // 3.13 gives it the conditional jump's location, 3.12 none.
                line: if minor >= 13 { last.line } else { -1 },
                span: if minor >= 13 { last.span } else { Span::NONE },
                handler: None,
            }],
            next: Some(next),
            predecessors: 1,
            exit: false,
            nofallthrough: true,
            visited: true,
        });
        let new = blocks.len() - 1;
        let l = blocks[b].instrs.last_mut().expect("non-empty");
        l.name = reversed;
        l.target = Some(next);
        blocks[b].next = Some(new);
    }
}

/// `hasjabs` (up to 3.10): jumps whose argument is the target's offset, not a distance.
pub(crate) fn is_absolute_jump(name: &str) -> bool {
    matches!(
        name,
        "JUMP_ABSOLUTE"
            | "POP_JUMP_IF_FALSE"
            | "POP_JUMP_IF_TRUE"
            | "JUMP_IF_FALSE_OR_POP"
            | "JUMP_IF_TRUE_OR_POP"
    )
}

/// 3.13's `insert_superinstructions`: `LOAD_FAST` then `LOAD_FAST` is `LOAD_FAST_LOAD_FAST`,
/// `STORE_FAST` then `LOAD_FAST` or `STORE_FAST` is `STORE_FAST_LOAD_FAST` or
/// `STORE_FAST_STORE_FAST`, both locals in the argument (the first's index above 4 bits);
/// not when the lines differ or an index is 16 or more (`make_super_instruction`). The second
/// instruction becomes a `NOP`.
fn insert_superinstructions(blocks: &mut [Block]) {
    for b in layout(blocks) {
        let instrs = &mut blocks[b].instrs;
        for i in 0..instrs.len().saturating_sub(1) {
            let (first, second) = (instrs[i], instrs[i + 1]);
            let name = match (first.name, second.name) {
                ("LOAD_FAST", "LOAD_FAST") => "LOAD_FAST_LOAD_FAST",
                ("STORE_FAST", "LOAD_FAST") => "STORE_FAST_LOAD_FAST",
                ("STORE_FAST", "STORE_FAST") => "STORE_FAST_STORE_FAST",
                _ => continue,
            };
            let lines_differ = first.line >= 0 && second.line >= 0 && first.line != second.line;
            if lines_differ || first.arg >= 16 || second.arg >= 16 {
                continue;
            }
            instrs[i].name = name;
            instrs[i].arg = first.arg << 4 | second.arg;
            instrs[i + 1].name = "NOP";
        }
    }
}

/// Whether a 3.11 jump counts backwards.
fn is_backward(name: &str) -> bool {
    name.contains("BACKWARD")
}

/// `assemble_jump_offsets`: the flat instruction list, each jump's argument the distance in
/// code units from the instruction after it (and its caches) to its target; repeated until
/// the sizes (`EXTENDED_ARG`s) no longer change.
fn assemble_jump_offsets(
    blocks: &[Block],
    minor: u8,
    handler_depth: &HashMap<usize, (u32, bool)>,
) -> Vec<Instr> {
    let table = crate::opcode::OpcodeTable::of(minor);
    let order = layout(blocks);
    let mut first = vec![0usize; blocks.len()];
    let mut out = Vec::new();
    for &b in &order {
        first[b] = out.len();
        for i in &blocks[b].instrs {
            out.push(Instr {
                name: i.name,
                op: crate::opcode::Op::of(i.name),
                arg: i.arg,
                extended_args: crate::opcode::extended_args(i.arg),
                line: u32::try_from(i.line).ok(),
                span: i.span,
                target: i.target,
                handler: i.handler.map(|h| {
                    let (depth, lasti) = handler_depth.get(&h).copied().unwrap_or((0, false));
                    Handler {
                        target: h,
                        depth,
                        lasti,
                    }
                }),
            });
        }
    }
    for i in out.iter_mut() {
        if let Some(h) = &mut i.handler {
            h.target = first[h.target];
        }
        if let Some(t) = i.target {
            i.target = Some(first[t]);
        }
    }
    if minor >= 12 {
        // resolve_jump_offsets: a jump's argument starts as its target's index in the
        // instruction sequence, and the passes go on while a size changes, so a jump that
        // fits in a byte only without another's EXTENDED_ARG keeps its own.
        for i in out.iter_mut() {
            if let Some(t) = i.target {
                i.arg = t as u32;
                i.extended_args = crate::opcode::extended_args(i.arg);
            }
        }
    }
    loop {
        let (offsets, _) = crate::dis::offsets(table, &out);
        let mut changed = false;
        for k in 0..out.len() {
            let Some(t) = out[k].target else {
                continue;
            };
            let size = table.size(out[k].name, out[k].arg);
            let after = (offsets[k] + size) / 2;
            let to = offsets[t] / 2;
            let arg = if minor <= 10 && is_absolute_jump(out[k].name) {
                // 3.10: the target's offset in code units.
                to
            } else if is_backward(out[k].name) {
                after - to
            } else {
                to - after
            };
            // 3.9: in bytes (`sizeof(_Py_CODEUNIT)` each).
            let arg = if minor <= 9 { 2 * arg } else { arg };
            let resized = table.size(out[k].name, arg) != size;
            if arg != out[k].arg && (minor < 12 || resized) {
                changed = true;
            }
            out[k].arg = arg;
            out[k].extended_args = crate::opcode::extended_args(arg);
        }
        if !changed {
            return out;
        }
    }
}

/// `fold_unaryop` (ast_opt.c): `not` of a single `is`, `is not`, `in` or `not in` comparison
/// is the opposite comparison (folded from the inside out); the others cannot be inverted.
fn fold_not_compare(e: &Expr) -> Option<Expr> {
    let Expr::UnaryOp(u) = e else {
        return None;
    };
    if u.op != ast::UnaryOp::Not {
        return None;
    }
    let inner = fold_not_compare(&u.operand);
    let operand = inner.as_ref().unwrap_or(&u.operand);
    let Expr::Compare(c) = operand else {
        return None;
    };
    let [op] = c.ops.as_slice() else {
        return None;
    };
    use ast::CmpOp::*;
    let inverted = match op {
        Is => IsNot,
        IsNot => Is,
        In => NotIn,
        NotIn => In,
        _ => return None,
    };
    let mut c = c.clone();
    c.ops = vec![inverted];
    Some(Expr::Compare(c))
}

/// `ast_opt.c`'s folding of a binary operator on constants, within its limits
/// (`safe_multiply`, `safe_power`, `safe_lshift`: results of at most 128 bits here, and
/// strings of at most 4096 characters).
/// `MAX_INT_SIZE` of `Python/ast_opt.c`: the bits an int folded from a multiplication, a
/// power or a left shift may reach.
const MAX_INT_SIZE: i128 = 128;

fn fold_binop(op: ast::Operator, l: &CVal, r: &CVal) -> Option<CVal> {
    use ast::Operator::*;
    let int = |v: &CVal| match v {
        CVal::Int(i) => Some(*i),
        CVal::Bool(b) => Some(i128::from(*b)),
        _ => None,
    };
    if let (CVal::Str(a), CVal::Str(b)) = (l, r) {
        return match op {
            Add if a.chars().count() + b.chars().count() <= 4096 => {
                Some(CVal::Str(format!("{a}{b}")))
            }
            _ => None,
        };
    }
    if let (CVal::Tuple(a), CVal::Tuple(b)) = (l, r) {
        return match op {
            Add => Some(CVal::Tuple(a.iter().chain(b).cloned().collect())),
            _ => None,
        };
    }
    let tuple_repeat = match (l, r) {
        (CVal::Tuple(t), x) | (x, CVal::Tuple(t)) => Some((t, int(x)?)),
        _ => None,
    };
    if let Some((t, n)) = tuple_repeat {
        // safe_multiply: at most MAX_COLLECTION_SIZE (256) items, and no negative count
        // unless the tuple is empty.
        if !t.is_empty() && n < 0 {
            return None;
        }
        let n = n.max(0);
        return match op {
            Mult if (t.len() as i128).saturating_mul(n) <= 256 => Some(CVal::Tuple(
                (0..n).flat_map(|_| t.iter().cloned()).collect(),
            )),
            _ => None,
        };
    }
    let repeat = match (l, r) {
        (CVal::Str(s), x) | (x, CVal::Str(s)) => Some((s, int(x)?)),
        _ => None,
    };
    if let Some((s, n)) = repeat {
        // safe_multiply: at most MAX_STR_SIZE (4096) characters, and no negative count unless
        // the str is empty.
        if !s.is_empty() && n < 0 {
            return None;
        }
        let n = n.max(0);
        return match op {
            Mult if (s.chars().count() as i128).saturating_mul(n) <= 4096 => {
                Some(CVal::Str(s.repeat(n as usize)))
            }
            _ => None,
        };
    }
    if matches!(l, CVal::Float(_)) || matches!(r, CVal::Float(_)) || op == Div {
        let float = |v: &CVal| match v {
            CVal::Float(f) => Some(*f),
            other => int(other).map(|i| i as f64),
        };
        let (a, b) = (float(l)?, float(r)?);
        return match op {
            Add => Some(CVal::Float(a + b)),
            Sub => Some(CVal::Float(a - b)),
            Mult => Some(CVal::Float(a * b)),
            Div if b != 0.0 => Some(CVal::Float(a / b)),
            Pow => float_pow(a, b).map(CVal::Float),
            _ => None,
        };
    }
    if let (CVal::Bool(a), CVal::Bool(b)) = (l, r)
        && matches!(op, BitAnd | BitOr | BitXor)
    {
        // bool_and, bool_or, bool_xor: bools stay bools.
        return Some(CVal::Bool(match op {
            BitAnd => a & b,
            BitOr => a | b,
            _ => a ^ b,
        }));
    }
    let (a, b) = (int(l)?, int(r)?);
    // safe_multiply, safe_power, safe_lshift: results that may pass MAX_INT_SIZE (128) bits
    // are left to run time, by the operands' sizes (`_PyLong_NumBits`), not by the result.
    let bits = |x: i128| 128 - x.unsigned_abs().leading_zeros() as i128;
    let too_big = match op {
        Mult => a != 0 && b != 0 && bits(a) + bits(b) > MAX_INT_SIZE,
        Pow => a != 0 && b > 0 && bits(a) > MAX_INT_SIZE / b,
        LShift => {
            a != 0 && (bits(a) > MAX_INT_SIZE || b > MAX_INT_SIZE || bits(a) > MAX_INT_SIZE - b)
        }
        _ => false,
    };
    if too_big {
        return None;
    }
    let v = match op {
        Add => a.checked_add(b)?,
        Sub => a.checked_sub(b)?,
        Mult => a.checked_mul(b)?,
        FloorDiv => {
            if b == 0 {
                return None;
            }
            a.div_euclid(b) - i128::from(b < 0 && a.rem_euclid(b) != 0)
        }
        Mod => {
            if b == 0 {
                return None;
            }
            py_mod(a, b)
        }
        Pow => {
            if b < 0 {
                // long_pow: a negative exponent makes it float_pow of the two as doubles.
                return float_pow(a as f64, b as f64).map(CVal::Float);
            }
            a.checked_pow(u32::try_from(b).ok()?)?
        }
        LShift => {
            if !(0..128).contains(&b) {
                return None;
            }
            let v = a.checked_shl(b as u32)?;
            if v >> b != a {
                return None;
            }
            v
        }
        RShift => {
            if b < 0 {
                return None;
            }
            a >> b.min(127)
        }
        BitAnd => a & b,
        BitOr => a | b,
        BitXor => a ^ b,
        Div | MatMult => return None,
    };
    Some(CVal::Int(v))
}

/// `float_pow` for finite operands with a real, finite result; `None` where it raises
/// (`0.0` to a negative power, an overflow) or makes a complex number, which are not folded
/// here (CPython folds the complex result; the model has no complex constants).
fn float_pow(iv: f64, iw: f64) -> Option<f64> {
    if !iv.is_finite() || !iw.is_finite() {
        return None;
    }
    if iw == 0.0 || iv == 1.0 {
        return Some(1.0);
    }
    if iv == 0.0 {
        return (iw > 0.0).then_some(if iw.rem_euclid(2.0) == 1.0 { iv } else { 0.0 });
    }
    // A negative base: an integral exponent only, on the absolute value, the result negated
    // for an odd exponent (C's pow() is not trusted with the sign).
    let (base, negate) = if iv < 0.0 {
        if iw != iw.floor() {
            return None;
        }
        (-iv, iw.rem_euclid(2.0) == 1.0)
    } else {
        (iv, false)
    };
    let ix = base.powf(iw);
    ix.is_finite().then_some(if negate { -ix } else { ix })
}

/// Python's `%` on ints: the result has the divisor's sign.
pub(crate) fn py_mod(a: i128, b: i128) -> i128 {
    let r = a % b;
    if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    }
}

/// The names a function body binds (its locals), in order of first binding, and the names it
/// declares global (`symtable`'s `DEF_LOCAL` and `DEF_GLOBAL`).
fn bind(name: &str, locals: &mut Vec<String>) {
    if !locals.iter().any(|l| l == name) {
        locals.push(name.to_string());
    }
}

/// The names an assignment target binds, in order.
fn bind_target(t: &Expr, locals: &mut Vec<String>) {
    match t {
        Expr::Name(n) => bind(n.id.as_str(), locals),
        Expr::Tuple(tu) => tu.elts.iter().for_each(|e| bind_target(e, locals)),
        Expr::List(l) => l.elts.iter().for_each(|e| bind_target(e, locals)),
        _ => {}
    }
}

pub(crate) fn collect_locals(
    body: &[Stmt],
    locals: &mut Vec<String>,
    globals: &mut Vec<String>,
    inline: bool,
) {
    let target = bind_target;
    // 3.12: the targets of the list comprehensions an expression holds, in the order their
    // LOAD_FAST_AND_CLEARs come.
    let comps = |e: &Expr, locals: &mut Vec<String>| {
        if inline {
            comprehension_locals(e, locals);
        }
    };
    for s in body {
        match s {
            Stmt::Assign(a) => {
                comps(&a.value, locals);
                for t in &a.targets {
                    target(t, locals);
                }
            }
            Stmt::AugAssign(a) => {
                target(&a.target, locals);
                comps(&a.value, locals);
            }
            Stmt::Expr(e) => comps(&e.value, locals),
            Stmt::Return(r) => {
                if let Some(v) = &r.value {
                    comps(v, locals);
                }
            }
            Stmt::Delete(d) => {
                for t in &d.targets {
                    target(t, locals);
                }
            }
            Stmt::For(f) => {
                comps(&f.iter, locals);
                target(&f.target, locals);
                collect_locals(&f.body, locals, globals, inline);
                collect_locals(&f.orelse, locals, globals, inline);
            }
            Stmt::While(w) => {
                comps(&w.test, locals);
                collect_locals(&w.body, locals, globals, inline);
                collect_locals(&w.orelse, locals, globals, inline);
            }
            Stmt::If(i) => {
                comps(&i.test, locals);
                collect_locals(&i.body, locals, globals, inline);
                collect_locals(&i.orelse, locals, globals, inline);
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    bind(a.asname.as_ref().unwrap_or(&a.name).as_str(), locals);
                }
            }
            Stmt::ImportFrom(i) => {
                for a in &i.names {
                    bind(a.asname.as_ref().unwrap_or(&a.name).as_str(), locals);
                }
            }
            Stmt::FunctionDef(f) => bind(f.name.as_str(), locals),
            Stmt::ClassDef(cd) => bind(cd.name.as_str(), locals),
            Stmt::Global(g) => globals.extend(g.names.iter().map(|n| n.to_string())),
            Stmt::Try(t) => {
                collect_locals(&t.body, locals, globals, inline);
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(ty) = &h.type_ {
                        comps(ty, locals);
                    }
                    if let Some(name) = &h.name {
                        bind(name.as_str(), locals);
                    }
                    collect_locals(&h.body, locals, globals, inline);
                }
                collect_locals(&t.orelse, locals, globals, inline);
                collect_locals(&t.finalbody, locals, globals, inline);
            }
            Stmt::Raise(r) => {
                for e in [&r.exc, &r.cause].into_iter().flatten() {
                    comps(e, locals);
                }
            }
            _ => {}
        }
    }
    locals.retain(|l| !globals.contains(l));
}

/// The names the list comprehensions in `e` bind (3.12), in the order the compiler first
/// emits them: each comprehension's outermost iterable first, then its own names in the
/// order its symbol table saw them.
fn comprehension_locals(e: &Expr, locals: &mut Vec<String>) {
    walk_comprehensions(e, locals);
}

fn walk_comprehensions(e: &Expr, locals: &mut Vec<String>) {
    if let Expr::ListComp(lc) = e {
        walk_comprehensions(&lc.generators[0].iter, locals);
        for n in comprehension_pushed(lc) {
            bind(&n, locals);
        }
        // Those inlined into it that it does not save itself save their own names.
        let mut nested = Vec::new();
        for g in &lc.generators {
            nested_listcomps(&g.target, &mut nested);
            for c in &g.ifs {
                nested_listcomps(c, &mut nested);
            }
        }
        for g in lc.generators.iter().skip(1) {
            nested_listcomps(&g.iter, &mut nested);
        }
        nested_listcomps(&lc.elt, &mut nested);
        for inner in nested {
            walk_comprehensions(&Expr::ListComp(inner.clone()), locals);
        }
        return;
    }
    for child in expr_children(e) {
        walk_comprehensions(child, locals);
    }
}

/// A lambda as the function `def <lambda>(ARGS): return BODY` (its symbols and its code are
/// a function's; the return has the body's place).
pub(crate) fn lambda_function(l: &ast::ExprLambda) -> ast::StmtFunctionDef {
    ast::StmtFunctionDef {
        range: l.range,
        name: ast::Identifier::new("<lambda>"),
        args: l.args.clone(),
        body: vec![Stmt::Return(ast::StmtReturn {
            range: l.body.range(),
            value: Some(l.body.clone()),
        })],
        decorator_list: Vec::new(),
        returns: None,
        type_comment: None,
        type_params: Vec::new(),
    }
}

/// Whether `e` is or holds a scope of its own (a comprehension or a lambda).
fn contains_scope(e: &Expr) -> bool {
    matches!(
        e,
        Expr::SetComp(_) | Expr::DictComp(_) | Expr::GeneratorExp(_) | Expr::Lambda(_)
    ) || expr_children(e).into_iter().any(contains_scope)
}

/// An expression's subexpressions in evaluation order (those the small Python compiles).
fn expr_children(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Attribute(a) => vec![&a.value],
        Expr::Call(c) => std::iter::once(&*c.func)
            .chain(c.args.iter())
            .chain(c.keywords.iter().map(|k| &k.value))
            .collect(),
        Expr::BinOp(b) => vec![&b.left, &b.right],
        Expr::UnaryOp(u) => vec![&u.operand],
        Expr::BoolOp(b) => b.values.iter().collect(),
        Expr::Compare(c) => std::iter::once(&*c.left)
            .chain(c.comparators.iter())
            .collect(),
        Expr::IfExp(x) => vec![&x.test, &x.body, &x.orelse],
        Expr::List(l) => l.elts.iter().collect(),
        Expr::Tuple(t) => t.elts.iter().collect(),
        Expr::Set(t) => t.elts.iter().collect(),
        Expr::Dict(d) => d.keys.iter().flatten().chain(d.values.iter()).collect(),
        Expr::Subscript(s) => vec![&s.value, &s.slice],
        Expr::Slice(s) => [&s.lower, &s.upper, &s.step]
            .into_iter()
            .flatten()
            .map(|b| &**b)
            .collect(),
        Expr::Starred(s) => vec![&s.value],
        Expr::JoinedStr(j) => j.values.iter().collect(),
        Expr::FormattedValue(f) => std::iter::once(&*f.value)
            .chain(f.format_spec.iter().map(|b| &**b))
            .collect(),
        _ => Vec::new(),
    }
}

/// `push_inlined_comprehension_state`: the names a list comprehension binds, in the order of
/// its symbol table.
fn comprehension_pushed(lc: &ast::ExprListComp) -> Vec<String> {
    let (names, bound) = comprehension_symbols(lc);
    names.into_iter().filter(|n| bound.contains(n)).collect()
}

/// A list comprehension's symbols in the order its symbol table met them (the first target,
/// the first `if`s, then each further generator's target, iterable and `if`s, then the
/// element; then, by `inline_comprehension`, those of the comprehensions inlined into it that
/// it does not have already), and those of them it binds.
fn comprehension_symbols(lc: &ast::ExprListComp) -> (Vec<String>, Vec<String>) {
    let mut bound = Vec::new();
    for g in &lc.generators {
        crate::symtable::target_names(&g.target, &mut bound);
    }
    let mut seen: Vec<String> = Vec::new();
    let see = |e: &Expr, seen: &mut Vec<String>| {
        let mut names = Vec::new();
        names_in_order(e, &mut names);
        for n in names {
            if !seen.contains(&n) {
                seen.push(n);
            }
        }
    };
    let mut parts: Vec<&Expr> = Vec::new();
    for (k, g) in lc.generators.iter().enumerate() {
        parts.push(&g.target);
        if k > 0 {
            parts.push(&g.iter);
        }
        parts.extend(g.ifs.iter());
    }
    parts.push(&lc.elt);
    for e in &parts {
        see(e, &mut seen);
    }
    let mut nested = Vec::new();
    for e in &parts {
        nested_listcomps(e, &mut nested);
    }
    for inner in nested {
        let (names, inner_bound) = comprehension_symbols(inner);
        for n in names {
            if !seen.contains(&n) {
                if inner_bound.contains(&n) {
                    bound.push(n.clone());
                }
                seen.push(n);
            }
        }
    }
    (seen, bound)
}

/// The list comprehensions directly in `e` (not those inside them).
fn nested_listcomps<'e>(e: &'e Expr, out: &mut Vec<&'e ast::ExprListComp>) {
    if let Expr::ListComp(lc) = e {
        out.push(lc);
        return;
    }
    for child in expr_children(e) {
        nested_listcomps(child, out);
    }
}

/// The names an expression mentions, in the order the symbol table visits them (of a
/// comprehension in it, only its outermost iterable, which is evaluated here).
fn names_in_order(e: &Expr, out: &mut Vec<String>) {
    if let Expr::Name(n) = e {
        out.push(n.id.to_string());
        return;
    }
    if let Expr::ListComp(lc) = e {
        names_in_order(&lc.generators[0].iter, out);
        return;
    }
    for child in expr_children(e) {
        names_in_order(child, out);
    }
}

/// The names declared `global` in any function of the module, at any depth.
fn declared_global(body: &[Stmt]) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(body: &[Stmt], out: &mut Vec<String>) {
        for s in body {
            match s {
                Stmt::Global(g) => out.extend(g.names.iter().map(|n| n.to_string())),
                Stmt::FunctionDef(f) => walk(&f.body, out),
                Stmt::ClassDef(cd) => walk(&cd.body, out),
                Stmt::If(i) => {
                    walk(&i.body, out);
                    walk(&i.orelse, out);
                }
                Stmt::For(f) => {
                    walk(&f.body, out);
                    walk(&f.orelse, out);
                }
                Stmt::While(w) => {
                    walk(&w.body, out);
                    walk(&w.orelse, out);
                }
                Stmt::Try(t) => {
                    walk(&t.body, out);
                    for h in &t.handlers {
                        let ast::ExceptHandler::ExceptHandler(h) = h;
                        walk(&h.body, out);
                    }
                    walk(&t.orelse, out);
                    walk(&t.finalbody, out);
                }
                _ => {}
            }
        }
    }
    for s in body {
        match s {
            Stmt::Global(_) => {}
            other => walk(std::slice::from_ref(other), &mut out),
        }
    }
    out
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
        Stmt::Global(_) => "a global statement",
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
        Expr::SetComp(_) => "a set comprehension",
        Expr::DictComp(_) => "a dict comprehension",
        Expr::GeneratorExp(_) => "a generator expression",
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

/// `compiler_set_qualname`: a name defined in a function is `OUTER.<locals>.NAME`, in a class
/// `CLASS.NAME`; at module level, the name itself.
fn qualname_in(unit: &Unit, name: &str) -> String {
    // compiler_set_qualname: in a class CLASS.NAME; a comprehension's scope (3.10's
    // <listcomp>) adds no `<locals>`.
    if unit.class || unit.code.name == "<listcomp>" {
        format!("{}.{}", unit.code.qualname, name)
    } else if unit.code.function {
        format!("{}.<locals>.{}", unit.code.qualname, name)
    } else {
        name.to_string()
    }
}
