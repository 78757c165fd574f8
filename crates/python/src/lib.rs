//! A small Python on the model of CPython's objects and allocators: the same program runs on
//! real CPython and here, and the book prints both outputs side by side.
//!
//! ```text
//!   pythonrun   run a script as `python3 script.py`: parse into an arena, compile, run, free
//!      |
//!   compile     AST (rustpython-parser) -> a CFG of basic blocks -> 3.11's assembler passes
//!               -> the version's instructions, co_consts, co_names
//!   ceval       the evaluation loop: frames, the value stack, jumps, calls
//!   abstract_   truth, comparisons, `in`, the number and sequence operators
//!   iterobject  range objects and the iterators GET_ITER makes
//!   builtins    print, id, len, repr, range; sys.getrefcount, getsizeof, intern
//!   interp      the interpreter state: builtins, sys, sys.modules, code objects
//!   pyarena     the parser's arena: one reference to every literal and identifier
//!   opcode      each version's opcode numbers and inline caches; dis: the `dis` listing
//!      |
//!   objects (crates/objects) -> pymalloc (crates/pymalloc)
//! ```
//!
//! The runtime runs module code, functions with positional parameters, assignments, calls,
//! attribute access on modules, imports of `sys`, `if`/`elif`/`else`, comparisons, `is`,
//! `in`, `and`/`or`/`not`, arithmetic, augmented assignment, `for`, `while`, `break`,
//! `continue`, and `list()`, `str()`, `int()`, `range()`, on 3.11's bytecode.
//! Anything else is refused with [`RunError::NotModelled`], naming the construct and its line.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod abstract_;
mod builtins;
mod ceval;
pub mod compile;
pub mod dis;
pub mod error;
mod format;
mod interp;
mod iterobject;
pub mod opcode;
mod opcode_tables;
mod printf;
pub mod pyarena;
pub mod pythonrun;
mod symtable;

pub use error::RunError;
pub use interp::Interp;
pub use pythonrun::{RunOutput, dis_source, run_source};
