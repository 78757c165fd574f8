//! `Objects/tupleobject.c`: tuples, the `()` singleton, and the free lists by size.
//!
//! ```text
//!  block: | PyGC_Head (16) | ob_refcnt | ob_type | ob_size | item 0 | item 1 | ... |
//! ```
//!
//! A deallocated tuple of size 1 to 19 (3.8–3.10) or 1 to 20 (3.11+) goes on the free list of
//! its size, up to 2000 each, linked through `ob_item[0]`; `PyTuple_New` takes the most
//! recently freed one back.

use crate::error::ObjError;
use crate::heavy::{Body, Heavy};
use crate::layout::{TUPLE_MAXFREELIST, VAR_HEAD_SIZE};
use crate::slots::Kind;
use crate::space::Objects;
use crate::trace::ObjEvent;
use crate::types::TypeId;

impl Objects {
    /// `PyTuple_Pack`: a tuple holding new references to `items`.
    pub fn tuple_pack(&mut self, items: &[u64]) -> Result<u64, ObjError> {
        for &item in items {
            self.live_view(item)?;
        }
        let op = self.tuple_new(items.len() as u64)?;
        for &item in items {
            self.incref(item)?;
        }
        if let Some(Body::Tuple(v)) = self.heavy_mut(op).map(|h| &mut h.body) {
            v.copy_from_slice(items);
        }
        Ok(op)
    }

    /// `PyTuple_New(size)`: `()` for 0; otherwise from the free list of that size, else a new
    /// GC object; the items start NULL.
    pub fn tuple_new(&mut self, size: u64) -> Result<u64, ObjError> {
        if size == 0 {
            let op = self.caches.empty_tuple;
            self.incref(op)?;
            return Ok(op);
        }
        let op = self.tuple_alloc(size)?;
        self.gc_track(op);
        Ok(op)
    }

    /// `PyTuple_SET_ITEM(op, index, item)`: the slot takes `item`'s reference (stolen) and
    /// the word it held is returned, not released (a new tuple's slot is NULL; an iterator
    /// reusing its result tuple releases the old item itself).
    pub fn tuple_set_item(&mut self, op: u64, index: usize, item: u64) -> Result<u64, ObjError> {
        let err = ObjError::IndexOutOfRange {
            addr: op,
            index: index as i64,
        };
        match self.heavy_mut(op).map(|h| &mut h.body) {
            Some(Body::Tuple(v)) => match v.get_mut(index) {
                Some(slot) => Ok(std::mem::replace(slot, item)),
                None => Err(err),
            },
            _ => Err(self.wrong_type(op, "tuple")),
        }
    }

    /// `tuple_alloc`: `maybe_freelist_pop`, else `PyObject_GC_NewVar`.
    pub(crate) fn tuple_alloc(&mut self, size: u64) -> Result<u64, ObjError> {
        let index = size as usize;
        if size > 0
            && let Some(op) = self.free.tuple.get_mut(index).and_then(Vec::pop)
        {
            self.new_reference(op);
            if let Some(Body::Tuple(v)) = self.heavy_mut(op).map(|h| &mut h.body) {
                v.iter_mut().for_each(|x| *x = 0);
            }
            self.trace.record(ObjEvent::New {
                op,
                ty: TypeId::Tuple,
                from_free_list: true,
            });
            return Ok(op);
        }
        let nbytes = VAR_HEAD_SIZE + 8 * size;
        let op = self.malloc_object(nbytes, true)?;
        let word = self.heavy.insert(Heavy {
            ty: TypeId::Tuple,
            body: Body::Tuple(vec![0; index]),
        });
        self.install_new(op, nbytes, Kind::Heavy, 0, word, TypeId::Tuple);
        if size == 0 {
            // 3.8–3.10: free_list[0] keeps () with an extra reference, "so that this is never
            // freed".
            self.incref(op)?;
        }
        Ok(op)
    }

    /// The items of the tuple at `op` (borrowed).
    pub fn tuple_items(&self, op: u64) -> Result<Vec<u64>, ObjError> {
        match self.live_view(op)?.body {
            Some(Body::Tuple(v)) => Ok(v.clone()),
            _ => Err(self.wrong_type(op, "tuple")),
        }
    }

    /// `PyStructSequence_New` of a struct sequence type filled with `items` (stolen), as
    /// `make_version_info` fills `sys.version_info`: a GC object of a tuple's layout, never
    /// from the tuple free lists.
    pub fn structseq_new(&mut self, ty: TypeId, items: &[u64]) -> Result<u64, ObjError> {
        if ty != TypeId::VersionInfo {
            return Err(ObjError::WrongType {
                addr: 0,
                expected: "a struct sequence type",
                found: ty.name().into(),
            });
        }
        let nbytes = VAR_HEAD_SIZE + 8 * items.len() as u64;
        let op = self.malloc_object(nbytes, true)?;
        let word = self.heavy.insert(Heavy {
            ty,
            body: Body::Tuple(items.to_vec()),
        });
        self.install_new(op, nbytes, Kind::Heavy, 0, word, ty);
        self.gc_track(op);
        Ok(op)
    }

    /// `structseq_dealloc`: untrack, release every item, `PyObject_GC_Del`.
    pub(crate) fn structseq_dealloc(&mut self, op: u64) -> Result<(), ObjError> {
        let items = match self.heavy_of(op).map(|h| &h.body) {
            Some(Body::Tuple(v)) => v.clone(),
            _ => return Err(self.wrong_type(op, "struct sequence")),
        };
        self.gc_untrack(op)?;
        for item in items {
            self.c_xdecref(item)?;
        }
        self.free_object(op)
    }

    /// `tupledealloc`: untrack, release the items from the last, then the free list of the
    /// tuple's size (`maybe_freelist_push`) or `PyObject_GC_Del`.
    pub(crate) fn tupledealloc(&mut self, op: u64) -> Result<(), ObjError> {
        let items = match self.heavy_of(op).map(|h| &h.body) {
            Some(Body::Tuple(v)) => v.clone(),
            _ => return Err(self.wrong_type(op, "tuple")),
        };
        if items.is_empty() {
            // The empty tuple is a singleton: CPython aborts ("deallocating the empty tuple
            // singleton"); here it is misuse.
            return Err(ObjError::DecrefBelowZero { addr: op });
        }
        self.gc_untrack(op)?;
        if !self.trashcan_begin(op) {
            return Ok(());
        }
        for r in self.referents(op)?.into_iter().rev() {
            self.c_xdecref(r.target)?;
        }
        let size = items.len();
        let listed = self
            .free
            .tuple
            .get(size)
            .is_some_and(|l| l.len() < TUPLE_MAXFREELIST);
        if listed {
            self.free.tuple[size].push(op);
            self.mark_listed(op);
            self.trace.record(ObjEvent::ToFreeList {
                op,
                ty: TypeId::Tuple,
                numfree: self.free.tuple[size].len(),
            });
        } else {
            self.free_object(op)?;
        }
        self.trashcan_end()
    }
}
