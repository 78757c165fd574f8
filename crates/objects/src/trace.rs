//! The object layer at work: an optional log of object events, joined with the allocator's.
//!
//! Off by default; when off, recording is one test of an `Option`. The cycle collector
//! (`crates/gc`) logs its steps here too ([`GcStep`]), so that they come in order with the
//! deallocations they cause.

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
    /// `gc_collect_main` starts on `generation` and every younger one.
    GcStart {
        /// The oldest generation collected.
        generation: usize,
        /// `gc.get_count()` as the collection found it.
        count: [i64; 3],
    },
    /// One step of the collection for one object.
    Gc {
        /// The object.
        op: u64,
        /// Its type.
        ty: TypeId,
        /// What the collector did with it.
        step: GcStep,
    },
    /// The collection's end.
    GcEnd {
        /// The oldest generation collected.
        generation: usize,
        /// Unreachable objects cleared.
        collected: usize,
        /// Unreachable objects kept (legacy finalizers).
        uncollectable: usize,
    },
}

/// What the cycle collector did with one object, in the order of `gc_collect_main`'s steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GcStep {
    /// `update_refs`: `gc_refs` is the reference count.
    UpdateRefs(i64),
    /// `subtract_refs`: `gc_refs` after one was taken off per reference from inside the
    /// generations collected: the references from outside them.
    SubtractRefs(i64),
    /// `move_unreachable` met it with `gc_refs > 0`: reachable, and so is what it refers to.
    Reachable(i64),
    /// `move_unreachable` met it with `gc_refs == 0`: moved to `unreachable`, for now.
    TentativelyUnreachable,
    /// `visit_reachable`: a reachable object refers to it and the walk has not met it yet, so
    /// its `gc_refs` of 0 becomes 1 and the walk will find it reachable.
    MarkedAhead,
    /// `visit_reachable`: a reachable object refers to it after it was moved to `unreachable`:
    /// back to the end of the generation, where the walk meets it again.
    BroughtBack,
    /// `untrack_tuples` or `untrack_dicts`: nothing in it may be tracked, so it leaves the
    /// collector's lists.
    Untracked,
    /// `delete_garbage` calls its `tp_clear`.
    Clear,
    /// Still alive after its `tp_clear`: `delete_garbage` moves it to the older generation.
    StillAlive,
    /// `finalize_garbage` calls its `tp_finalize` (`__del__`), marked finalized first.
    Finalize,
    /// `handle_resurrected_objects`: a finalizer made it reachable again, so it moves to the
    /// older generation instead of being cleared.
    Resurrected,
    /// `delete_garbage` under `DEBUG_SAVEALL`: appended to `gc.garbage`, not cleared.
    Saved,
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
            ObjEvent::GcStart { generation, count } => write!(
                f,
                "gc        collecting generation {generation} (count {}, {}, {})",
                count[0], count[1], count[2]
            ),
            ObjEvent::Gc { op, ty, step } => write!(f, "{:<9} {ty} at {op:#x}{step}", step.verb()),
            ObjEvent::GcEnd {
                generation,
                collected,
                uncollectable,
            } => write!(
                f,
                "gc        generation {generation} done: {collected} unreachable collected, \
                 {uncollectable} uncollectable"
            ),
        }
    }
}

impl GcStep {
    /// The word the trace's column of verbs shows.
    fn verb(self) -> &'static str {
        match self {
            GcStep::UpdateRefs(_) | GcStep::SubtractRefs(_) => "gc_refs",
            GcStep::Reachable(_) => "reachable",
            GcStep::TentativelyUnreachable => "moved",
            GcStep::MarkedAhead => "ahead",
            GcStep::BroughtBack => "back",
            GcStep::Untracked => "untrack",
            GcStep::Clear => "tp_clear",
            GcStep::StillAlive => "alive",
            GcStep::Finalize => "finalize",
            GcStep::Resurrected => "revived",
            GcStep::Saved => "saved",
        }
    }
}

/// What follows the object in the trace's line.
impl fmt::Display for GcStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            GcStep::UpdateRefs(n) => write!(f, ": {n} (update_refs: its reference count)"),
            GcStep::SubtractRefs(n) => {
                write!(f, ": {n} (subtract_refs: references from outside)")
            }
            GcStep::Reachable(n) => {
                write!(
                    f,
                    " (move_unreachable: gc_refs {n}, so what it refers to is too)"
                )
            }
            GcStep::TentativelyUnreachable => {
                f.write_str(" (move_unreachable: gc_refs 0, to unreachable for now)")
            }
            GcStep::MarkedAhead => {
                f.write_str(" (visit_reachable: gc_refs 0 -> 1 before the walk meets it)")
            }
            GcStep::BroughtBack => {
                f.write_str(" (visit_reachable: out of unreachable, to the end of the generation)")
            }
            GcStep::Untracked => f.write_str(" (nothing it holds may be tracked)"),
            GcStep::Clear => f.write_str(" (delete_garbage)"),
            GcStep::StillAlive => f.write_str(" (after tp_clear: to the older generation)"),
            GcStep::Finalize => f.write_str(" (finalize_garbage: its __del__, once)"),
            GcStep::Resurrected => {
                f.write_str(" (reachable again after the finalizers: to the older generation)")
            }
            GcStep::Saved => f.write_str(" (DEBUG_SAVEALL: appended to gc.garbage)"),
        }
    }
}

/// The object layer's log (see [`pymalloc::trace::Log`]).
pub(crate) type Trace = pymalloc::trace::Log<ObjEvent>;
