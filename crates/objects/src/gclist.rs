//! The collector's lists (`Modules/gcmodule.c`'s `gc_list_*` helpers on `PyGC_Head` links), its
//! per-object marks while it runs, and `tp_clear`.
//!
//! ```text
//!   gcstate->generations[0..3].head, permanent_generation.head     (heads in the interpreter state)
//!        head <-> op <-> op <-> ... <-> head       (_gc_next / _gc_prev of each tracked object)
//! ```
//!
//! A tracked object is in exactly one list. The links are kept beside memory (`gc_links`, as for
//! generation 0 until now); the collector's own lists (`unreachable`, `finalizers`, ... on C's
//! stack) have heads of their own, [`collector_head`]. During a collection CPython keeps each
//! object's `gc_refs` and its `PREV_MASK_COLLECTING` flag in `_gc_prev` (and
//! `NEXT_MASK_UNREACHABLE` in `_gc_next`); the model keeps them in the same entry as the links.

use crate::error::ObjError;
use crate::slots::GC;
use crate::space::{Objects, Place};
use crate::types::TypeId;

/// `NUM_GENERATIONS`.
pub const NUM_GENERATIONS: usize = 3;

/// `sizeof(struct gc_generation)`: a `PyGC_Head`, then `threshold` and `count` (ints).
const GENERATION_SIZE: u64 = 24;

/// The head of one of the collector's lists that C keeps on its stack (`unreachable`,
/// `finalizers`, `final_unreachable`, ...), by number: addresses below the generations' heads
/// that no object can have.
pub fn collector_head(i: u64) -> u64 {
    crate::image::GEN0_HEAD - 0x40 - 16 * i
}

/// Where a collection stopped when it had Python code to run and the layer that runs Python
/// code was not the caller: a collection an allocation started, up to 3.11, that has callbacks
/// (`gc.callbacks`) to call before it begins, or finalizers (`finalize_garbage`) in the middle.
/// The collector's lists stay as they are in the meantime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParkedCollection {
    /// The generation being collected.
    pub generation: usize,
    /// Whether `gc_collect_main` has begun (else the callbacks' "start" comes first).
    pub begun: bool,
    /// When it started, if `DEBUG_STATS` asked for its duration.
    pub started: Option<std::time::Instant>,
}

impl Objects {
    /// Leaves a collection for the layer above to finish (see [`ParkedCollection`]);
    /// `collecting` stays set until it does.
    pub fn park_collection(&mut self, parked: ParkedCollection) {
        self.parked_collection = Some(parked);
    }

    /// Whether a collection waits for the layer above.
    #[inline]
    pub fn has_parked_collection(&self) -> bool {
        self.parked_collection.is_some()
    }

    /// The collection left for the layer above, if any, taken.
    pub fn take_parked_collection(&mut self) -> Option<ParkedCollection> {
        self.parked_collection.take()
    }

    /// `GEN_HEAD(gcstate, generation)`: 0 to 2, and 3 for `permanent_generation`, which follows
    /// the three in `struct _gc_runtime_state`.
    pub fn gen_head(&self, generation: usize) -> u64 {
        crate::image::GEN0_HEAD + GENERATION_SIZE * generation as u64
    }

    /// `gc_list_init`: an empty list.
    pub fn gc_list_init(&mut self, head: u64) {
        self.gc_links.insert(head, GcHead::linked(head, head));
    }

    /// `gc_list_is_empty`.
    pub fn gc_list_is_empty(&self, head: u64) -> bool {
        self.gc_links.get(&head).is_none_or(|h| h.next == head)
    }

    /// `GC_NEXT`: what follows `at` (an object or a head) in its list.
    pub fn gc_next(&self, at: u64) -> u64 {
        self.gc_links.get(&at).map_or(at, |h| h.next)
    }

    /// The list's objects, from the head's `_gc_next` on, as far as the links lead back to the
    /// head (a list corrupted by an object tracked twice may not: the walk stops at a NULL link
    /// or after as many steps as there are links).
    pub fn gc_list(&self, head: u64) -> Vec<u64> {
        let mut out = Vec::new();
        let mut at = self.gc_next(head);
        while at != head && at != 0 && out.len() < self.gc_links.len() {
            out.push(at);
            at = self.gc_next(at);
        }
        out
    }

    /// `gc_list_size`: the objects [`Objects::gc_list`] would list, counted.
    pub fn gc_list_size(&self, head: u64) -> usize {
        let mut n = 0;
        let mut at = self.gc_next(head);
        while at != head && at != 0 && n < self.gc_links.len() {
            n += 1;
            at = self.gc_next(at);
        }
        n
    }

    /// `gc_list_append(node, list)`: `op` (in no list) linked last.
    pub fn gc_list_append(&mut self, op: u64, head: u64) {
        self.link_last(op, head, GcHead::linked(0, 0));
    }

    /// Links `entry` (its marks kept) as `op`, last in `head`'s list, writing through whatever
    /// the head's `_gc_prev` names, as C does.
    fn link_last(&mut self, op: u64, head: u64, mut entry: GcHead) {
        let last = self.gc_links.get(&head).map_or(head, |h| h.prev);
        self.gc_links
            .entry(last)
            .or_insert(GcHead::linked(0, 0))
            .next = op;
        entry.next = head;
        entry.prev = last;
        self.gc_links.insert(op, entry);
        self.gc_links
            .entry(head)
            .or_insert(GcHead::linked(0, 0))
            .prev = op;
    }

    /// Unlinks `op`, returning its entry (marks and all); a NULL neighbour is C's write to
    /// address 0.
    pub(crate) fn unlink(&mut self, op: u64) -> Result<Option<GcHead>, ObjError> {
        let Some(&h) = self.gc_links.get(&op) else {
            return Ok(None);
        };
        if h.next == 0 || h.prev == 0 {
            return Err(pymalloc::MemError::Segfault { addr: 0 }.into());
        }
        // gc_list_remove's order: the neighbours first (one of them may be `op` itself in a
        // corrupt list), then `node->_gc_next = 0`.
        self.gc_links
            .entry(h.prev)
            .or_insert(GcHead::linked(0, 0))
            .next = h.next;
        self.gc_links
            .entry(h.next)
            .or_insert(GcHead::linked(0, 0))
            .prev = h.prev;
        self.gc_links.remove(&op);
        Ok(Some(h))
    }

    /// `gc_list_move(node, list)`: from its list to the end of `head`'s, keeping what the
    /// collector marked in its `_gc_prev`.
    pub fn gc_list_move(&mut self, op: u64, head: u64) -> Result<(), ObjError> {
        if let Some(entry) = self.unlink(op)? {
            self.link_last(op, head, entry);
        }
        Ok(())
    }

    /// `gc_list_merge(from, to)`: `from`'s objects appended to `to` in order; `from` empty.
    pub fn gc_list_merge(&mut self, from: u64, to: u64) -> Result<(), ObjError> {
        if self.gc_list_is_empty(from) {
            return Ok(());
        }
        let GcHead {
            next: first,
            prev: last,
            ..
        } = self.gc_links[&from];
        if first == 0 || last == 0 {
            return Err(pymalloc::MemError::Segfault { addr: 0 }.into());
        }
        let to_last = self.gc_links.get(&to).map_or(to, |h| h.prev);
        self.gc_links
            .entry(to_last)
            .or_insert(GcHead::linked(0, 0))
            .next = first;
        self.gc_links
            .entry(first)
            .or_insert(GcHead::linked(0, 0))
            .prev = to_last;
        self.gc_links
            .entry(last)
            .or_insert(GcHead::linked(0, 0))
            .next = to;
        self.gc_links.entry(to).or_insert(GcHead::linked(0, 0)).prev = last;
        self.gc_list_init(from);
        Ok(())
    }

    /// `gc_get_refs` of an object being collected (0 for any other).
    pub fn gc_refs(&self, op: u64) -> i64 {
        self.gc_links.get(&op).map_or(0, |h| h.refs)
    }

    /// `gc_reset_refs(gc, refs)`: also marks it `PREV_MASK_COLLECTING`.
    pub fn gc_reset_refs(&mut self, op: u64, refs: i64) {
        if let Some(h) = self.gc_links.get_mut(&op) {
            h.refs = refs;
            h.flags = COLLECTING;
        }
    }

    /// `gc_set_refs`.
    pub fn gc_set_refs(&mut self, op: u64, refs: i64) {
        if let Some(h) = self.gc_links.get_mut(&op) {
            h.refs = refs;
        }
    }

    /// `gc_decref`: one reference fewer from outside, for an object being collected.
    pub fn gc_decref(&mut self, op: u64) {
        if let Some(h) = self.gc_links.get_mut(&op)
            && h.flags & COLLECTING != 0
        {
            h.refs -= 1;
        }
    }

    /// `NEXT_MASK_UNREACHABLE`: set while `move_unreachable` has put the object in its
    /// `unreachable` list, tentatively.
    pub fn gc_set_unreachable(&mut self, op: u64, on: bool) {
        if let Some(h) = self.gc_links.get_mut(&op) {
            h.flags = if on {
                h.flags | UNREACHABLE
            } else {
                h.flags & !UNREACHABLE
            };
        }
    }

    /// Whether `NEXT_MASK_UNREACHABLE` is set.
    pub fn gc_is_unreachable(&self, op: u64) -> bool {
        self.gc_links
            .get(&op)
            .is_some_and(|h| h.flags & UNREACHABLE != 0)
    }

    /// `gc_is_collecting`: in the generation being collected and not yet known reachable.
    pub fn gc_is_collecting(&self, op: u64) -> bool {
        self.gc_links
            .get(&op)
            .is_some_and(|h| h.flags & COLLECTING != 0)
    }

    /// `gc_clear_collecting`: the refs and flags go (C's `_gc_prev` becomes a link again).
    pub fn gc_clear_collecting(&mut self, op: u64) {
        if let Some(h) = self.gc_links.get_mut(&op) {
            h.refs = 0;
            h.flags = 0;
        }
    }

    /// `_PyObject_IS_GC(op)`: an object of a type with `Py_TPFLAGS_HAVE_GC`, in the allocators'
    /// memory (the image's static objects are never tracked).
    pub fn is_gc(&self, op: u64) -> bool {
        match self.place(op) {
            Some(Place::Slot { key, .. }) => self.slots.get(key).is_some_and(|s| s.small & GC != 0),
            _ => false,
        }
    }

    /// `Py_TYPE(op)->tp_clear(op)`, for the types whose cycles the model collects: a list
    /// (`_list_clear`), a dict (`dict_tp_clear`: `PyDict_Clear`), an instance of a plain class
    /// (`subtype_clear`). False for a type without `tp_clear` (a tuple: its items go when its
    /// count does).
    pub fn tp_clear(&mut self, op: u64) -> Result<bool, ObjError> {
        match self.type_of(op)? {
            TypeId::List => self.list_clear(op).map(|()| true),
            TypeId::Dict => self.dict_clear(op).map(|()| true),
            TypeId::Instance => self.instance_clear(op).map(|()| true),
            TypeId::Tuple => Ok(false),
            _ => Err(ObjError::NotModelled {
                what: "tp_clear of this type (the collector clears lists, dicts and instances)",
            }),
        }
    }
}

/// `PREV_MASK_COLLECTING`.
const COLLECTING: u8 = 1;
/// `NEXT_MASK_UNREACHABLE`.
const UNREACHABLE: u8 = 2;

/// A `PyGC_Head`: the links, and what the collector keeps in them while it runs (`gc_refs`
/// and the two flags, in `_gc_prev` and `_gc_next` in C).
#[derive(Clone, Copy, Debug)]
pub(crate) struct GcHead {
    pub(crate) next: u64,
    pub(crate) prev: u64,
    refs: i64,
    flags: u8,
}

impl GcHead {
    fn linked(next: u64, prev: u64) -> GcHead {
        GcHead {
            next,
            prev,
            refs: 0,
            flags: 0,
        }
    }
}
