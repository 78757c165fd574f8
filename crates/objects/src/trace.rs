//! The object layer at work: an optional log of object events, joined with the allocator's.
//!
//! Off by default; when off, recording is one test of an `Option`.

use std::fmt;

use crate::types::TypeId;

/// Something the object layer, or the allocator beneath it, did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ObjEvent {
    /// A new object of `ty` at `op`, `from_free_list` or from the allocator.
    New {
        /// The object.
        op: u64,
        /// Its type.
        ty: TypeId,
        /// Whether a free list served it.
        from_free_list: bool,
    },
    /// A count dropped to zero.
    Zero {
        /// The object.
        op: u64,
    },
    /// `tp_dealloc` ran.
    Dealloc {
        /// The object.
        op: u64,
        /// Its type.
        ty: TypeId,
    },
    /// The object was pushed on its type's free list instead of being freed.
    ToFreeList {
        /// The object.
        op: u64,
        /// Its type.
        ty: TypeId,
        /// Objects on that list now.
        numfree: usize,
    },
    /// `PyObject_GC_Del` of an object whose block was freed before: its `_gc_next` reads
    /// `next`, pymalloc's free-list link, so the object looks tracked.
    FreedAgain {
        /// The object.
        op: u64,
        /// Its type, as its remains say.
        ty: TypeId,
        /// Its first word.
        next: u64,
    },
    /// The object's block went back to the allocator.
    Free {
        /// The object.
        op: u64,
    },
    /// `PyMem_Malloc`/`PyMem_Calloc` of a buffer that is no object (an item buffer, a keys
    /// object).
    BufferAlloc {
        /// Where it starts.
        addr: u64,
        /// Bytes asked for.
        nbytes: u64,
    },
    /// `PyMem_Realloc` of a buffer: `new` equals `old` when it stayed in place.
    BufferRealloc {
        /// Where it was.
        old: u64,
        /// Where it is.
        new: u64,
        /// Bytes asked for.
        nbytes: u64,
    },
    /// `PyMem_Free` of a buffer.
    BufferFree {
        /// Where it was.
        addr: u64,
    },
    /// The allocator's own event.
    Mem(pymalloc::Event),
}

impl fmt::Display for ObjEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ObjEvent::New {
                op,
                ty,
                from_free_list,
            } => {
                let from = if from_free_list {
                    "free list"
                } else {
                    "allocator"
                };
                write!(f, "new       {ty} at {op:#x} (from the {from})")
            }
            ObjEvent::Zero { op } => write!(f, "refcnt 0  {op:#x}"),
            ObjEvent::Dealloc { op, ty } => write!(f, "dealloc   {ty} at {op:#x}"),
            ObjEvent::ToFreeList { op, ty, numfree } => {
                write!(f, "free list {ty} at {op:#x} ({numfree} on the list)")
            }
            ObjEvent::Free { op } => write!(f, "free      {op:#x}"),
            ObjEvent::FreedAgain { op, ty, next } => write!(
                f,
                "gc_del    {ty} at {op:#x} again: freed before, its _gc_next reads {next:#x} \
                 (pymalloc's link), so it looks tracked: gc_list_remove"
            ),
            ObjEvent::BufferAlloc { addr, nbytes } => {
                write!(f, "buffer    {addr:#x} ({nbytes} bytes)")
            }
            ObjEvent::BufferRealloc { old, new, nbytes } if old == new => {
                write!(f, "realloc   {old:#x} in place ({nbytes} bytes)")
            }
            ObjEvent::BufferRealloc { old, new, nbytes } => {
                write!(f, "realloc   {old:#x} -> {new:#x} ({nbytes} bytes)")
            }
            ObjEvent::BufferFree { addr } => write!(f, "free buf  {addr:#x}"),
            ObjEvent::Mem(e) => write!(f, "  {e}"),
        }
    }
}

/// The object layer's log (see [`pymalloc::trace::Log`]).
pub(crate) type Trace = pymalloc::trace::Log<ObjEvent>;
