//! A small Python on the model of CPython's objects and allocators: the same program runs on
//! real CPython and here, and the book prints both outputs side by side.
//!
//! ```text
//!   pythonrun   run a script as `python3 script.py`: parse into an arena, compile, run, free
//!      |
//!   compile     AST (rustpython-parser) -> ast_opt's folding -> a CFG of basic blocks ->
//!               each version's assembler and flowgraph passes -> its instructions, co_consts,
//!               co_names
//!   symtable    free variables, cells, the localsplus layout
//!   ceval       the evaluation loop: frames (objects on 3.10), the value stack, jumps, calls,
//!               closures
//!   classes     __build_class__, calling a class, attributes and methods of instances and
//!               classes, bound methods, __del__, type() and isinstance
//!   abstract_   truth, comparisons, `in`, the number and sequence operators, items, slices
//!   format      f-strings' FORMAT_VALUE (the format-spec mini-language)
//!   printf      `str % args`, and 3.11's `'%s' % (x,)` made an f-string
//!   iterobject  range, slice and iterator objects (kept by the interpreter)
//!   builtins    print, id, len, repr, range, chr, ord, isinstance; str.join/replace,
//!               list.append/pop; sys.getrefcount, getsizeof, intern
//!   methods     enumerate; list.extend/insert/index/count/remove/reverse/clear;
//!               dict.get/setdefault/pop/keys/values/items; str.startswith/endswith/upper/
//!               lower/strip/split
//!   interp      the interpreter state: builtins, sys, sys.modules, code objects
//!   modules     the extension modules imported on demand: ctypes (cast, py_object), gc
//!   gcmodule    what the collector (crates/gc) leaves to the interpreter: gc.callbacks and
//!               the __del__s a collection finds
//!   pyarena     the parser's arena: one reference to every literal and identifier
//!   refs        who holds each reference: roots, frames, objects; an inspector hook
//!   trace       --trace: each source line run, then the events it caused beneath
//!   traceback   a frame's source line and 3.11+'s carets under the instruction that raised
//!   peephole    3.9's PyCode_Optimize on the assembled bytecode and its line table
//!   opcode      each version's opcode numbers and inline caches; dis: the `dis` listing
//!      |
//!   objects (crates/objects) -> pymalloc (crates/pymalloc)
//! ```
//!
//! The runtime runs 3.9's, 3.10's, 3.11's, 3.12's and 3.13's bytecode (3.10's `CALL_FUNCTION`s,
//! operators by name and absolute jumps, each call in a frame object; 3.9's the same without
//! flow-graph passes, through `peephole`'s `PyCode_Optimize`; 3.12's list
//! comprehensions inlined, with an exception table; 3.13's `TO_BOOL`, superinstructions, `CALL`
//! with the callable beneath `self` or NULL, `SET_FUNCTION_ATTRIBUTE` and `FORMAT_SIMPLE`, and
//! its `dis` with labels) for module code; functions with positional parameters, keyword
//! arguments, docstrings, closures and `global`; assignments (with unpacking and to items),
//! augmented assignments and `del`; `if`/`elif`/`else`, `while`, `for`, `break`, `continue`;
//! `try`/`except`/`else`/`finally` and `raise` on 3.11 and 3.12, compiled (the exception table
//! included, its depths and `lasti`) and run on the paths where nothing is raised;
//! comparisons, `is`, `in`, `and`/`or`/`not`, conditional expressions; int, float and str
//! arithmetic; list, tuple and dict displays, subscripts and slices; list comprehensions;
//! f-strings and `%` formatting; calls of the built-ins above; attribute access on modules and
//! functions; `class` statements without bases or decorators on 3.11, 3.12 and 3.13 (their
//! instances, attributes, methods called through `LOAD_METHOD` or as bound methods,
//! `__init__`, and `__del__` run once when an instance's count reaches zero, in the order its
//! container releases it); imports of `sys`, `gc` (its counts, thresholds, collections with
//! their finalizers and callbacks, debugging flags) and `ctypes` (`cast` to `py_object` and `.value`, taking a reference to
//! whatever lies at an address, as C does). Anything else is refused with
//! [`RunError::NotModelled`], naming the construct and its line: a built-in or a `sys`
//! attribute CPython has and the model lacks is not modelled, never a `NameError`. An exception
//! is still a Rust value ([`RunError::Exception`]), not an object in the model's memory: a
//! `raise`, and an exception that a `try` statement's handler would catch (its `except` or its
//! `finally`, found through the exception table), are not modelled.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod abstract_;
mod builtins;
mod ceval;
mod classes;
pub mod compile;
pub mod dis;
pub mod error;
mod format;
mod gcmodule;
mod interp;
mod iterobject;
mod methods;
mod modules;
pub mod opcode;
mod opcode_tables;
mod peephole;
mod printf;
pub mod pyarena;
pub mod pythonrun;
pub mod refs;
mod suggestions;
mod symtable;
mod textio;
mod trace;
mod traceback;

pub use error::RunError;
pub use interp::Interp;
pub use pythonrun::{
    RunOutput, Trace, dis_source, positions_source, run_source, run_source_traced,
};
