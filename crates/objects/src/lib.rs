//! CPython's object layer (`Objects/*.c`, `Include/object.h`) on the model of its allocators:
//! objects laid out in simulated memory at CPython's offsets, reference counts, caches and
//! immortality, free lists, and deallocation in CPython's order.
//!
//! ```text
//!   Objects: long_from_i64, unicode_from_str, list_new, list_append, tuple_pack, incref, decref
//!      |  state of each object in a 16-byte slot beside its block       (slots, heavy)
//!      |  reads of memory computed from that state at CPython's offsets   (memory, repr)
//!      v
//!   pymalloc::Allocator: PyObject_Malloc / PyMem_Calloc / PyMem_Realloc / free   (crates/pymalloc)
//! ```
//!
//! ```
//! use objects::{Objects, TypeId};
//! use pymalloc::Profile;
//!
//! let mut o = Objects::new(Profile::CPYTHON_3_11)?;
//! let li = o.list_new_generic()?;                 // list()
//! let s = o.unicode_from_str("hsafdasdsadasdfsdfsdasdasi")?;
//! o.list_append(li, s)?;                          // li.append(...)
//! o.decref(s)?;
//! assert_eq!(o.repr(li)?, "['hsafdasdsadasdfsdfsdasdasi']");
//! o.decref(li)?;                                  // the function returns: count 0
//! // The list sits on the list free list: its header is intact, its item buffer freed.
//! assert_eq!(o.refcnt(li)?, 0);
//! assert_eq!(o.type_of(li)?, TypeId::List);
//! assert_eq!(o.read_word(li + 16)?, 1);           // ob_size still 1
//! # Ok::<(), objects::ObjError>(())
//! ```
//!
//! | module      | models                                                             |
//! |-------------|--------------------------------------------------------------------|
//! | [`layout`]  | struct sizes, capacities and immortality per version               |
//! | `space`     | the objects' allocation, lookup, reference counts, `_Py_Dealloc`, the trashcan, GC links and counts |
//! | `slots`     | the 16-byte state kept beside each block                           |
//! | `heavy`     | the state of containers, long strs, big ints and static objects    |
//! | `image`     | the statically allocated objects of libpython                      |
//! | `long`      | `Objects/longobject.c`                                             |
//! | `unicode`   | `Objects/unicodeobject.c`                                          |
//! | `float`     | `Objects/floatobject.c`                                            |
//! | `list`      | `Objects/listobject.c`                                             |
//! | `tuple`     | `Objects/tupleobject.c`                                            |
//! | `dict`      | `Objects/dictobject.c`                                             |
//! | `typeobject` | plain classes and their instances (shared keys, values arrays)    |
//! | [`fields`]  | functions, bound methods, modules, code objects, cells, bytes      |
//! | `ctypes`    | `Modules/_ctypes`: a cast's argument objects and `py_object`          |
//! | `memory`    | reads of memory, computed from the objects' state                 |
//! | `sizeof`    | `sys.getsizeof`                                                    |
//! | `stats`     | `sys._debugmallocstats()`'s free lists (`_PyObject_DebugTypeStats`) |
//! | `repr`      | `PyObject_Repr` from memory, `Py_ReprEnter`/`Py_ReprLeave`         |
//! | `hash`      | SipHash as `Python/pyhash.c` uses it                               |
//! | [`trace`]   | the optional event log, joined with pymalloc's                     |
//! | `traverse`  | the references each object owns (`tp_traverse`), the caches' references |
//! | [`gclist`]  | the collector's lists (`gc_list_*`), its marks while it runs, `tp_clear` |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ctypes;
mod dict;
mod error;
pub mod fields;
mod float;
mod frame;
pub mod gclist;
pub mod hash;
mod heavy;
mod image;
pub mod layout;
mod list;
mod long;
mod memory;
mod opcache;
mod repr;
mod sizeof;
mod slots;
mod space;
mod stats;
pub mod trace;
mod traverse;
mod tuple;
mod typeobject;
mod types;
mod unicode;

pub use dict::DictData;
pub use error::ObjError;
pub use fields::Field;
pub use heavy::Digits;
pub use image::IMAGE_BASE;
pub use layout::Layout;
pub use repr::{float_repr, unicode_repr};
pub use space::{Collector, GcCounts, GenerationStats, Objects};
pub use trace::{GcStep, ObjEvent};
pub use traverse::{Cache, Edge, Referent, Uncounted};
pub use typeobject::{ClassData, InstanceData};
pub use types::TypeId;
