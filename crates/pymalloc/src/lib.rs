//! A faithful model of CPython's small-object allocator, `Objects/obmalloc.c` ("pymalloc"), and
//! of glibc malloc beneath it, running on a simulated 64-bit address space.
//!
//! ```text
//!   object_malloc / _calloc / _free / _realloc   (PyObject_Malloc, ...; PyMem_Malloc, ... too)
//!        |  1..=512 bytes                 | 0 or > 512 bytes
//!        v                                v
//!   pymalloc: arenas > pools > blocks   raw_malloc / _calloc / _free / _realloc  (PyMem_Raw*)
//!        |  mmap(ARENA_SIZE)              |  glibc: brk heap, or mmap for large chunks
//!        v                                v
//!   simulated address space: mappings, resident pages, memory contents
//! ```
//!
//! Every mechanism follows obmalloc.c: size classes, `usedpools`, lazy carving of blocks, the
//! LIFO free list threaded through freed blocks' first words, arenas kept sorted by free pools,
//! release of empty arenas, the 3.10+ arena map. Versions 3.8 to 3.13 differ by a [`Profile`].
//! Addresses are deterministic, memory has contents (a freed block's first word reads back its
//! free-list link), RSS counts pages written and VMS bytes mapped, and misuse comes back as a
//! [`MemError`], never a panic.
//!
//! ```
//! use pymalloc::{Allocator, Location, Profile};
//!
//! let mut mem = Allocator::new(Profile::parse("3.11")?);
//! let a = mem.object_malloc(56)?;
//! let b = mem.object_malloc(56)?;
//! mem.object_free(a)?;
//! // The freed block's first word links to the pool's previous free-list head.
//! assert!(matches!(mem.what_is_at(a)?, Location::FreeBlock { .. }));
//! assert_eq!(mem.object_malloc(56)?, a); // LIFO: the block freed last comes back first
//! # let _ = b;
//! # Ok::<(), pymalloc::MemError>(())
//! ```
//!
//! | module             | models                                                     |
//! |--------------------|------------------------------------------------------------|
//! | [`profile`]        | the tunables and version differences                        |
//! | [`obmalloc`]       | obmalloc.c: pools, arenas, the arena map, the entry points  |
//! |                    | (`PyMem_Malloc` & co. are the `PyObject_*` functions in a   |
//! |                    | release build since 3.6, so `object_*` models both)         |
//! | [`glibc`]          | glibc malloc: tcache, fastbins, chunks, brk heap, mmap      |
//! |                    | threshold, trimming                                         |
//! | `vm`               | mmap, munmap, mremap, brk; resident pages; memory contents  |
//! | [`stats`]          | `sys._debugmallocstats()` and the numbers behind it         |
//! | [`inspect`]        | what is at an address                                       |
//! | [`trace`]          | the optional event log                                      |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
pub mod glibc;
mod hash;
pub mod inspect;
pub mod obmalloc;
pub mod profile;
pub mod stats;
pub mod trace;
mod vm;

pub use error::MemError;
pub use inspect::{BlockInfo, CacheBin, ChunkField, Location};
pub use obmalloc::Allocator;
pub use obmalloc::pool::{PoolField, USEDPOOLS_ADDRESS};
pub use profile::{ArenaMapBits, Profile};
pub use stats::{ArenaMapStats, ClassStats, Stats, SystemStats};
pub use trace::Event;
pub use vm::{HEAP_START, MMAP_BASE, PAGE_SIZE, Region, RegionKind};
