//! `Objects/listobject.c`: lists, their item buffers, `list_resize`, and the free list of 80.
//!
//! ```text
//!  block: | PyGC_Head (16) | ob_refcnt | ob_type | ob_size | ob_item | allocated |   56 bytes
//!                                                             |
//!                             item buffer (PyMem_*):          v
//!                             | item 0 | item 1 | ... | item allocated-1 |   8 bytes each
//! ```
//!
//! The list object and its buffer are separate allocations: the object is always a 64-byte
//! block; the buffer is a pymalloc block up to 64 items, a glibc chunk beyond, and an mmapped
//! chunk of its own once past glibc's mmap threshold. The items are words in the simulated
//! memory: a freed buffer keeps them, except where the allocator writes its links.

use crate::error::ObjError;
use crate::heavy::{Body, Heavy, ListData};
use crate::layout::{LIST_MAXFREELIST, LIST_SIZE};
use crate::slots::{Kind, Slot};
use crate::space::{Objects, Place};
use crate::trace::ObjEvent;
use crate::types::TypeId;

impl Objects {
    /// `PyList_New(size)`: the object from the free list if it has one (the most recently freed
    /// list), else a new GC object; `size` NULL items in a zeroed buffer (`PyMem_Calloc`).
    pub fn list_new(&mut self, size: u64) -> Result<u64, ObjError> {
        let op = match self.free.list.pop() {
            Some(op) => {
                self.new_reference(op);
                self.trace.record(ObjEvent::New {
                    op,
                    ty: TypeId::List,
                    from_free_list: true,
                });
                op
            }
            None => self.list_alloc()?,
        };
        let item = if size == 0 {
            0
        } else {
            self.mem_calloc(size, 8)?
        };
        *self.list_data_mut(op)? = ListData {
            size,
            item,
            allocated: size,
        };
        self.gc_track(op);
        Ok(op)
    }

    /// `PyType_GenericAlloc(&PyList_Type, 0)`, as `list()` does it (3.9+ `list_vectorcall`):
    /// a new GC object, never from the free list, with no buffer.
    pub fn list_new_generic(&mut self) -> Result<u64, ObjError> {
        let op = self.list_alloc()?;
        self.gc_track(op);
        Ok(op)
    }

    fn list_alloc(&mut self) -> Result<u64, ObjError> {
        let op = self.malloc_object(LIST_SIZE, true)?;
        let word = self.heavy.insert(Heavy {
            ty: TypeId::List,
            body: Body::List(ListData {
                size: 0,
                item: 0,
                allocated: 0,
            }),
        });
        self.install_new(op, LIST_SIZE, Kind::Heavy, 0, word, TypeId::List);
        Ok(op)
    }

    /// The heavy record of the list at `op` (live, listed or freed), found once: list
    /// operations are the model's hottest path.
    fn list_record(&self, op: u64) -> Result<(u64, Slot), ObjError> {
        if let Some(Place::Slot { key, .. }) = self.place(op) {
            let slot = self.slots.get(key).expect("placed");
            if slot.kind == Kind::Heavy && matches!(self.heavy.get(slot.word).body, Body::List(_)) {
                return Ok((slot.word, *slot));
            }
        }
        Err(self.wrong_type(op, "list"))
    }

    /// The record of a live list.
    fn live_list_record(&self, op: u64) -> Result<u64, ObjError> {
        match self.list_record(op)? {
            (index, slot) if slot.usable() => Ok(index),
            _ => Err(ObjError::Dead { addr: op }),
        }
    }

    fn list_at(&self, index: u64) -> ListData {
        match self.heavy.get(index).body {
            Body::List(d) => d,
            _ => unreachable!("list_record checked the body"),
        }
    }

    fn list_at_mut(&mut self, index: u64) -> &mut ListData {
        match &mut self.heavy.get_mut(index).body {
            Body::List(d) => d,
            _ => unreachable!("list_record checked the body"),
        }
    }

    /// The fields of a list (live, listed or freed).
    pub(crate) fn list_data(&self, op: u64) -> Result<ListData, ObjError> {
        Ok(self.list_at(self.list_record(op)?.0))
    }

    fn list_data_mut(&mut self, op: u64) -> Result<&mut ListData, ObjError> {
        let (index, _) = self.list_record(op)?;
        Ok(self.list_at_mut(index))
    }

    fn live_list(&self, op: u64) -> Result<ListData, ObjError> {
        Ok(self.list_at(self.live_list_record(op)?))
    }

    /// The list free list (`free_list[0..numfree]`), the next list to be handed out last.
    pub fn list_free_list(&self) -> &[u64] {
        &self.free.list
    }

    /// `len(list)`.
    pub fn list_len(&self, op: u64) -> Result<u64, ObjError> {
        Ok(self.live_list(op)?.size)
    }

    /// `PyList_GET_ITEM`: a borrowed reference (0 for a NULL item).
    pub fn list_get(&self, op: u64, index: u64) -> Result<u64, ObjError> {
        let d = self.live_list(op)?;
        if index >= d.size {
            return Err(ObjError::IndexOutOfRange {
                addr: op,
                index: index as i64,
            });
        }
        Ok(self.mem.read_word(d.item + 8 * index)?)
    }

    /// `PyList_SetItem(op, index, item)`: steals the reference to `item`, releases the old one.
    pub fn list_set(&mut self, op: u64, index: u64, item: u64) -> Result<(), ObjError> {
        let old = match self.list_get(op, index) {
            Ok(old) => old,
            Err(e) => {
                // PyList_SetItem steals the reference even when it fails.
                self.xdecref(item)?;
                return Err(e);
            }
        };
        let d = self.list_data(op)?;
        self.mem.write_word(d.item + 8 * index, item)?;
        self.xdecref(old)
    }

    /// `list_resize(self, newsize)`: keeps the buffer while `allocated/2 <= newsize <=
    /// allocated`, else reallocates it with the version's over-allocation.
    pub(crate) fn list_resize(&mut self, op: u64, newsize: u64) -> Result<(), ObjError> {
        let (index, _) = self.list_record(op)?;
        self.list_resize_at(index, newsize)
    }

    fn list_resize_at(&mut self, index: u64, newsize: u64) -> Result<(), ObjError> {
        let d = self.list_at(index);
        if d.allocated >= newsize && newsize >= d.allocated >> 1 {
            self.list_at_mut(index).size = newsize;
            return Ok(());
        }
        let new_allocated = self.layout.list_new_allocated(newsize, d.size);
        // For newsize 0 this is PyMem_Realloc(items, 0), which still returns a block.
        let items = self.mem_realloc(d.item, new_allocated * 8)?;
        *self.list_at_mut(index) = ListData {
            size: newsize,
            item: items,
            allocated: new_allocated,
        };
        Ok(())
    }

    /// `PyList_Append(op, item)` (`app1`): the list takes a new reference to `item`.
    pub fn list_append(&mut self, op: u64, item: u64) -> Result<(), ObjError> {
        let index = self.live_list_record(op)?;
        let n = self.list_at(index).size;
        self.incref(item)?;
        self.list_resize_at(index, n + 1)?;
        let d = self.list_at(index);
        self.mem.write_word(d.item + 8 * n, item)?;
        Ok(())
    }

    /// `ins1(self, where, v)`: `where` already clamped to `0..=len`; `list_resize` to one
    /// more, the items from `where` moved up one, `v` (a new reference) put there.
    pub fn list_insert(&mut self, op: u64, at: u64, item: u64) -> Result<(), ObjError> {
        let index = self.live_list_record(op)?;
        let n = self.list_at(index).size;
        if at > n {
            return Err(ObjError::IndexOutOfRange {
                addr: op,
                index: at as i64,
            });
        }
        self.incref(item)?;
        self.list_resize_at(index, n + 1)?;
        let d = self.list_at(index);
        for k in (at..n).rev() {
            let w = self.mem.read_word(d.item + 8 * k)?;
            self.mem.write_word(d.item + 8 * (k + 1), w)?;
        }
        self.mem.write_word(d.item + 8 * at, item)?;
        Ok(())
    }

    /// `list_reverse_impl` (`reverse_slice`): the item pointers swapped end for end.
    pub fn list_reverse(&mut self, op: u64) -> Result<(), ObjError> {
        let d = self.live_list(op)?;
        if d.size < 2 {
            return Ok(());
        }
        let (mut lo, mut hi) = (0, d.size - 1);
        while lo < hi {
            let a = self.mem.read_word(d.item + 8 * lo)?;
            let b = self.mem.read_word(d.item + 8 * hi)?;
            self.mem.write_word(d.item + 8 * lo, b)?;
            self.mem.write_word(d.item + 8 * hi, a)?;
            lo += 1;
            hi -= 1;
        }
        Ok(())
    }

    /// `Py_SET_SIZE(op, n)` on a list filled in place (`split` sets its size to the pieces it
    /// made): the buffer stays as it is.
    pub fn list_set_size(&mut self, op: u64, n: u64) -> Result<(), ObjError> {
        let d = self.live_list(op)?;
        if n > d.allocated {
            return Err(ObjError::IndexOutOfRange {
                addr: op,
                index: n as i64,
            });
        }
        self.list_data_mut(op)?.size = n;
        Ok(())
    }

    /// `list.extend(seq)` for a list or a tuple (`list_extend`'s fast path): an empty list with
    /// no buffer gets exactly the room needed, rounded up to even, from 3.10
    /// (`list_preallocate_exact`); otherwise `list_resize` grows it as appends would. The list
    /// takes a new reference to each item. This is how `[1, 2, 3]` is built from 3.9 on
    /// (`BUILD_LIST 0`, `LIST_EXTEND` of the constant tuple): 120 bytes on 3.9, 88 from 3.10.
    pub fn list_extend(&mut self, op: u64, seq: u64) -> Result<(), ObjError> {
        let index = self.live_list_record(op)?;
        let items = match self.type_of(seq)? {
            TypeId::Tuple => self.tuple_items(seq)?,
            TypeId::List => {
                let d = self.live_list(seq)?;
                (0..d.size)
                    .map(|i| self.mem.read_word(d.item + 8 * i))
                    .collect::<Result<_, _>>()?
            }
            _ => return Err(self.wrong_type(seq, "list or tuple")),
        };
        let n = items.len() as u64;
        if n == 0 {
            return Ok(());
        }
        let d = self.list_at(index);
        if d.item == 0 && self.layout.minor >= 10 {
            let allocated = (n + 1) & !1;
            let item = self.mem_malloc(allocated * 8)?;
            *self.list_at_mut(index) = ListData {
                size: n,
                item,
                allocated,
            };
        } else {
            self.list_resize_at(index, d.size + n)?;
        }
        let dest = self.list_at(index).item + 8 * d.size;
        for (i, &item) in items.iter().enumerate() {
            self.incref(item)?;
            self.mem.write_word(dest + 8 * i as u64, item)?;
        }
        Ok(())
    }

    /// `list.pop()` of the last item (`list_pop_impl`): the item's reference passes to the
    /// caller; the slot keeps its old pointer, as `list_resize` leaves it.
    pub fn list_pop(&mut self, op: u64) -> Result<u64, ObjError> {
        let d = self.live_list(op)?;
        if d.size == 0 {
            return Err(ObjError::IndexOutOfRange {
                addr: op,
                index: -1,
            });
        }
        let v = self.mem.read_word(d.item + 8 * (d.size - 1))?;
        self.list_resize(op, d.size - 1)?;
        Ok(v)
    }

    /// `_list_clear`: releases the items (from the last) and the buffer.
    pub fn list_clear(&mut self, op: u64) -> Result<(), ObjError> {
        let d = self.live_list(op)?;
        *self.list_data_mut(op)? = ListData {
            size: 0,
            item: 0,
            allocated: 0,
        };
        if d.item != 0 {
            for i in (0..d.size).rev() {
                let v = self.mem.read_word(d.item + 8 * i)?;
                self.xdecref(v)?;
            }
            self.mem_free(d.item)?;
        }
        Ok(())
    }

    /// `list_ass_slice(a, ilow, ihigh, NULL)`: the items `ilow..ihigh` deleted. All of them is
    /// `_list_clear`; otherwise they are set aside (`recycle`, on the C stack up to 8, else a
    /// `PyMem_Malloc`ed array), the tail moves down, `list_resize` shrinks the list, and the
    /// items are released last first.
    pub fn list_delete_slice(&mut self, op: u64, ilow: u64, ihigh: u64) -> Result<(), ObjError> {
        let d = self.live_list(op)?;
        let norig = ihigh - ilow;
        if d.size == norig {
            return self.list_clear(op);
        }
        let mut recycle = Vec::with_capacity(norig as usize);
        for k in ilow..ihigh {
            recycle.push(self.mem.read_word(d.item + 8 * k)?);
        }
        let heap = if norig > 8 {
            self.mem_malloc(norig * 8)?
        } else {
            0
        };
        for k in ihigh..d.size {
            let v = self.mem.read_word(d.item + 8 * k)?;
            self.mem.write_word(d.item + 8 * (k - norig), v)?;
        }
        self.list_resize(op, d.size - norig)?;
        for &v in recycle.iter().rev() {
            self.xdecref(v)?;
        }
        if heap != 0 {
            self.mem_free(heap)?;
        }
        Ok(())
    }

    /// `list_dealloc`: untrack; release the items from the last to the first; free the buffer;
    /// then onto the free list while it holds fewer than 80, else `PyObject_GC_Del`.
    pub(crate) fn list_dealloc(&mut self, op: u64) -> Result<(), ObjError> {
        self.gc_untrack(op)?;
        if !self.trashcan_begin(op) {
            return Ok(());
        }
        let d = self.list_data(op)?;
        if d.item != 0 {
            // "Do it backwards, for Christian Tismer."
            for r in self.referents(op)?.into_iter().rev() {
                self.c_xdecref(r.target)?;
            }
            self.mem_free(d.item)?;
        }
        if self.free.list.len() < LIST_MAXFREELIST {
            self.free.list.push(op);
            self.mark_listed(op);
            self.trace.record(ObjEvent::ToFreeList {
                op,
                ty: TypeId::List,
                numfree: self.free.list.len(),
            });
        } else {
            self.free_object(op)?;
        }
        self.trashcan_end()
    }
}

#[cfg(test)]
mod tests {
    use crate::Objects;
    use pymalloc::Profile;

    /// `sys.getsizeof([1, 2, 3])`, captured in `objects_sizes`: 3.9 compiles `BUILD_LIST 0` and
    /// `LIST_EXTEND` (`list_resize` to 8 slots: 120); 3.10+ the same with
    /// `list_preallocate_exact` (4 slots: 88).
    #[test]
    fn extending_an_empty_list_by_a_tuple() {
        for (p, size) in [(Profile::CPYTHON_3_9, 120), (Profile::CPYTHON_3_11, 88)] {
            let mut o = Objects::new(p).unwrap();
            let items: Vec<u64> = (1..=3).map(|v| o.long_from_i64(v).unwrap()).collect();
            let t = o.tuple_pack(&items).unwrap();
            let l = o.list_new(0).unwrap();
            o.list_extend(l, t).unwrap();
            assert_eq!(o.getsizeof(l).unwrap(), size, "{p}");
            assert_eq!(o.repr(l).unwrap(), "[1, 2, 3]");
            o.list_extend(l, l).unwrap();
            assert_eq!(o.repr(l).unwrap(), "[1, 2, 3, 1, 2, 3]");
            assert!(o.list_extend(l, items[0]).is_err());
        }
    }
}
