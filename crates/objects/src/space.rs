//! The interpreter's objects: allocation and release of their memory, finding an object's state
//! from its address, and the caches and free lists the types share.
//!
//! Allocation follows `Objects/object.c` and `Modules/gcmodule.c`:
//!
//! ```text
//!  PyObject_New(tp)       -> PyObject_Malloc(tp_basicsize)             -> block = object
//!  PyObject_GC_New(tp)    -> _PyObject_GC_Malloc: PyObject_Malloc(16 + basicsize)
//!                            block = PyGC_Head, object = block + 16;   generations[0].count += 1
//!  PyObject_Free(op)      -> the block goes back to pymalloc (or glibc above 512 bytes)
//!  PyObject_GC_Del(op)    -> generations[0].count -= 1 if above 0;     PyObject_Free(block)
//! ```
//!
//! The allocator's own events (a pool re-initialised for another size class, an arena unmapped)
//! reach the object layer through pymalloc's trace, which the object layer keeps on and drains
//! after each call: a slot must never outlive the memory it describes.

use pymalloc::profile::{index2size, size_class};
use pymalloc::{Allocator, Event, Profile};

use crate::error::ObjError;
use crate::gclist::GcHead;
use crate::hash::AddrMap;
use crate::heavy::{Heavy, HeavyStore};
use crate::image::Image;
use crate::layout::{GC_HEAD_SIZE, Layout};
use crate::slots::{GC, IMMORTAL, Kind, PREHEADER, Slot, SlotKey, Slots, State};
use crate::trace::{GcStep, ObjEvent, Trace};
use crate::types::TypeId;

/// `_PyGC_PREV_MASK`: `_gc_prev` without its two flag bits (`_PyGC_PREV_SHIFT`).
const _PYGC_PREV_MASK: u64 = u64::MAX << 2;

/// `SMALL_REQUEST_THRESHOLD`: larger objects live in glibc chunks.
const SMALL_REQUEST_THRESHOLD: u64 = 512;

/// The free lists of the types that keep them, most recently freed last.
#[derive(Debug, Default)]
pub(crate) struct FreeLists {
    /// `_Py_list_state.free_list`, an array: `free_list[numfree++] = op`.
    pub(crate) list: Vec<u64>,
    /// `_Py_float_state.free_list`, linked through `ob_type`.
    pub(crate) float: Vec<u64>,
    /// `_Py_dict_state.free_list`, an array.
    pub(crate) dict: Vec<u64>,
    /// `_Py_dict_state.keys_free_list`: keys objects of the smallest size.
    pub(crate) dict_keys: Vec<u64>,
    /// 3.8's bound method free list, linked through `im_self`.
    pub(crate) method: Vec<u64>,
    /// 3.8's built-in function free list, linked through `m_self`.
    pub(crate) cfunction: Vec<u64>,
    /// `_Py_tuple_state.free_list[size - 1]` (3.11+) or `free_list[size]`, linked through
    /// `ob_item[0]`; indexed here by size.
    pub(crate) tuple: Vec<Vec<u64>>,
    /// 3.8–3.10's frame free list (`_Py_frame_state.free_list`), linked through `f_back`.
    pub(crate) frame: Vec<u64>,
}

/// What `Modules/gcmodule.c` keeps that allocation and deallocation touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcCounts {
    /// `generations[0].count`: GC allocations not served by a free list, less deallocations
    /// not returned to one, never below 0.
    pub count0: i64,
    /// `generations[0].threshold`: 700, or 2000 on 3.13.
    pub threshold0: i64,
    /// `gc.isenabled()`.
    pub enabled: bool,
    /// Whether an allocation took the count past the threshold while enabled: the collector
    /// (a later layer) runs then.
    pub collection_due: bool,
    /// `generations[1].count` and `generations[2].count`: collections of the next younger
    /// generation since this one was last collected.
    pub count1: i64,
    /// See `count1`.
    pub count2: i64,
    /// `generations[1].threshold` and `generations[2].threshold`: 10 each.
    pub threshold1: i64,
    /// See `threshold1`.
    pub threshold2: i64,
    /// `gcstate->collecting`: a collection is running (no other starts).
    pub collecting: bool,
    /// `long_lived_total`: objects that survived the last full collection.
    pub long_lived_total: i64,
    /// `long_lived_pending`: objects that have survived a collection of generation 1 since.
    pub long_lived_pending: i64,
    /// `gcstate->debug`: `gc.set_debug`'s flags (`DEBUG_STATS`, ...).
    pub debug: i64,
    /// `gcstate->garbage`, the list `gc.garbage` names (0 until the interpreter makes it).
    pub garbage: u64,
    /// `gcstate->callbacks`, the list `gc.callbacks` names (0 until the interpreter makes it).
    pub callbacks: u64,
    /// `gcstate->generation_stats`: what `gc.get_stats()` reports, per generation collected.
    pub stats: [GenerationStats; 3],
}

/// `struct gc_generation_stats`: the collections of one generation, and what they found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GenerationStats {
    /// Collections of this generation (with the younger ones).
    pub collections: i64,
    /// Objects they collected.
    pub collected: i64,
    /// Objects they found uncollectable.
    pub uncollectable: i64,
}

/// A collector: `collect_generations` (`Modules/gcmodule.c`), run when an allocation makes a
/// collection due.
pub type Collector = fn(&mut Objects) -> Result<(), ObjError>;

/// `tstate->trash`: deallocations deferred when nesting got too deep (`Py_TRASHCAN_BEGIN`).
#[derive(Debug, Default)]
pub(crate) struct Trash {
    pub(crate) delete_nesting: u32,
    /// `trash_delete_later`, a stack.
    pub(crate) delete_later: Vec<u64>,
}

/// `_PyTrash_UNWIND_LEVEL`: container deallocations nest at most this deep before the rest is
/// deferred.
pub(crate) const TRASH_UNWIND_LEVEL: u32 = 50;

/// Caches that hold references: small ints (3.9, 3.10), one-character strings, `''`, `()`, and
/// the interned strings.
#[derive(Debug, Default)]
pub(crate) struct Caches {
    /// `interp->small_ints` on 3.9 and 3.10: heap ints made at start-up.
    pub(crate) small_ints: Vec<u64>,
    /// `unicode_latin1` up to 3.10, filled on first use; 0 where not made yet.
    pub(crate) latin1: Vec<u64>,
    /// `''`.
    pub(crate) empty_str: u64,
    /// `()`.
    pub(crate) empty_tuple: u64,
    /// The strings of `_Py_IDENTIFIER`s (up to 3.10) and `_Py_ID`s (3.11+) made so far.
    pub(crate) identifiers: std::collections::HashMap<&'static str, u64>,
    /// The `interned` dict, by text.
    pub(crate) interned: std::collections::HashMap<Box<str>, u64>,
    /// The hashes of inline strs computed lately (model bookkeeping, see `InlineHashes`).
    pub(crate) inline_hashes: crate::unicode::InlineHashes,
}

/// One CPython process's objects, on its allocators.
#[derive(Debug)]
pub struct Objects {
    pub(crate) mem: Allocator,
    pub(crate) layout: Layout,
    pub(crate) slots: Slots,
    pub(crate) heavy: HeavyStore,
    pub(crate) image: Image,
    pub(crate) caches: Caches,
    pub(crate) free: FreeLists,
    pub(crate) gc: GcCounts,
    pub(crate) trash: Trash,
    pub(crate) trace: Trace,
    /// `_PyGC_Head` links of tracked objects: object address -> (`_gc_next`, `_gc_prev`) of
    /// its head, both head addresses. The generation list's own head is in the image.
    pub(crate) gc_links: AddrMap<GcHead>,
    /// What an allocation calls when a collection is due (up to 3.11).
    pub(crate) collector: Option<Collector>,
    /// `tstate->dict`, made on first use by `PyThreadState_GetDict`.
    pub(crate) tstate_dict: u64,
    /// `pydict_global_version`: the last `ma_version_tag` handed out.
    pub(crate) dict_version: u64,
    /// `dk_refcnt` of the static `Py_EMPTY_KEYS` (counted up to 3.11).
    pub(crate) empty_keys_refcnt: u64,
    /// `ml_name` of each `PyMethodDef` the caller registered (`cfunction_new`).
    pub(crate) method_defs: Vec<&'static str>,
    /// Instances whose count reached zero with a `__del__` still to run, oldest first.
    pub(crate) pending_finalizers: Vec<u64>,
    /// A collection an allocation started that waits for its finalizers to be called.
    pub(crate) parked_collection: Option<crate::gclist::ParkedCollection>,
    /// What C code has written to the process's standard error (`PySys_WriteStderr`), not yet
    /// taken by the interpreter.
    pub(crate) stderr: String,
}

/// Where an object's state is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// In the image.
    Static,
    /// In a slot; `block` is where its memory starts (its `PyGC_Head`, if it has one).
    Slot { key: SlotKey, block: u64 },
}

impl Objects {
    /// A process of `profile`'s version after start-up: the image, and the caches CPython fills
    /// before running a script (3.9/3.10 small ints, `''` and `()` where they are heap objects).
    pub fn new(profile: Profile) -> Result<Objects, ObjError> {
        Objects::with_allocator(Allocator::new(profile))
    }

    /// As [`Objects::new`], on an allocator set up by the caller (for example with an address
    /// space limit).
    pub fn with_allocator(mut mem: Allocator) -> Result<Objects, ObjError> {
        mem.set_trace(true);
        let layout = Layout::new(mem.profile());
        let mem_pool_size = mem.profile().pool_size();
        let image = Image::new(layout);
        let mut objects = Objects {
            mem,
            layout,
            slots: Slots::new(mem_pool_size),
            heavy: HeavyStore::default(),
            caches: Caches {
                latin1: vec![0; 256],
                empty_tuple: image.empty_tuple.unwrap_or(0),
                ..Caches::default()
            },
            image,
            free: FreeLists {
                tuple: vec![Vec::new(); layout.tuple_maxsavesize()],
                ..FreeLists::default()
            },
            gc: GcCounts {
                count0: 0,
                threshold0: if layout.minor >= 13 { 2000 } else { 700 },
                enabled: true,
                collection_due: false,
                count1: 0,
                count2: 0,
                threshold1: 10,
                threshold2: 10,
                collecting: false,
                long_lived_total: 0,
                long_lived_pending: 0,
                debug: 0,
                garbage: 0,
                callbacks: 0,
                stats: Default::default(),
            },
            trash: Trash::default(),
            trace: Trace::default(),
            gc_links: AddrMap::default(),
            collector: None,
            tstate_dict: 0,
            dict_version: 0,
            empty_keys_refcnt: 1,
            method_defs: Vec::new(),
            pending_finalizers: Default::default(),
            parked_collection: None,
            stderr: String::new(),
        };
        for generation in 0..=crate::gclist::NUM_GENERATIONS {
            let head = objects.gen_head(generation);
            objects.gc_list_init(head);
        }
        objects.start_up()?;
        objects.gc.count0 = 0;
        Ok(objects)
    }

    /// The caches that CPython's start-up fills with heap objects on older versions.
    fn start_up(&mut self) -> Result<(), ObjError> {
        let minor = self.layout.minor;
        if minor == 9 || minor == 10 {
            // _PyLong_Init: small_ints[i] = _PyLong_New(1), the array holding the reference.
            for v in -crate::layout::NSMALLNEGINTS..crate::layout::NSMALLPOSINTS {
                let op = self.long_alloc_inline(v)?;
                self.caches.small_ints.push(op);
            }
        }
        if minor <= 10 {
            // unicode_empty: the one '' (made at start-up; a cache reference keeps it).
            self.caches.empty_str = self.unicode_alloc("")?;
            // free_list[0]: the () singleton, with an extra reference "so that this is never
            // freed".
            let t = self.tuple_alloc(0)?;
            self.caches.empty_tuple = t;
        } else {
            let strings = self
                .image
                .strings
                .as_ref()
                .expect("3.11+ has static strings");
            self.caches.empty_str = strings[0];
        }
        Ok(())
    }

    /// The CPython version modelled.
    pub fn profile(&self) -> Profile {
        self.mem.profile()
    }

    /// The layout facts of the version.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The allocators beneath the objects, to inspect (RSS, statistics, `what_is_at`).
    pub fn allocator(&self) -> &Allocator {
        &self.mem
    }

    /// The generation-0 bookkeeping.
    pub fn gc_counts(&self) -> GcCounts {
        self.gc
    }

    /// The collector's counts and thresholds, to change (`gc_collect_main`, `gc.set_threshold`).
    pub fn gc_counts_mut(&mut self) -> &mut GcCounts {
        &mut self.gc
    }

    /// `gc.enable()` / `gc.disable()`.
    pub fn gc_set_enabled(&mut self, enabled: bool) {
        self.gc.enabled = enabled;
    }

    /// `PySys_WriteStderr(text)`: C code's message on the process's standard error. The model
    /// keeps the text only: CPython passes it, as a new str, to `sys.stderr`'s `write`.
    pub fn write_stderr(&mut self, text: &str) {
        self.stderr.push_str(text);
    }

    /// What was written to standard error since the last call.
    pub fn take_stderr(&mut self) -> String {
        std::mem::take(&mut self.stderr)
    }

    /// The collector ran: generation 0's count starts again from 0 and nothing is due.
    pub fn gc_reset_count0(&mut self) {
        self.gc.count0 = 0;
        self.gc.collection_due = false;
    }

    /// The static type object of `ty` (`&PyList_Type`, ...), a borrowed reference.
    pub fn type_object(&self, ty: TypeId) -> u64 {
        Image::type_addr(ty)
    }

    /// The built-in type whose static type object is at `op`, if it is one.
    pub fn static_type_at(&self, op: u64) -> Option<TypeId> {
        Image::type_at(op)
    }

    /// `Py_None` (a borrowed reference).
    pub fn none(&self) -> u64 {
        self.image.none
    }

    /// `Py_True` or `Py_False` (a borrowed reference).
    pub fn bool_object(&self, b: bool) -> u64 {
        if b {
            self.image.true_
        } else {
            self.image.false_
        }
    }

    /// The address of generation 0's list head (`gcstate->generations[0].head`), in the image.
    pub fn gen0_head(&self) -> u64 {
        crate::image::GEN0_HEAD
    }

    // ---- finding objects -------------------------------------------------------------------

    /// Where the state of the object at `op` is, if an object (live, listed or freed) starts
    /// there.
    pub(crate) fn place(&self, op: u64) -> Option<Place> {
        if self.image.contains(op) {
            return self
                .image
                .objects
                .contains_key(&op)
                .then_some(Place::Static);
        }
        let (key, block, slot) = self.slot_covering(op)?;
        (slot.kind != Kind::Empty && block + self.gc_offset(slot) == op)
            .then_some(Place::Slot { key, block })
    }

    /// The slot of the block covering `addr`, with the block's address.
    pub(crate) fn slot_covering(&self, addr: u64) -> Option<(SlotKey, u64, &Slot)> {
        let pool_size = self.layout.profile.pool_size();
        let pool = addr & !(pool_size - 1);
        if let Some(ps) = self.slots.pools.get(pool) {
            let header = u64::from(pymalloc::profile::POOL_OVERHEAD);
            let offset = addr.checked_sub(pool + header)?;
            let index = crate::slots::block_index(offset, ps.block_size);
            let slot = ps.slots.get(index as usize)?;
            let block = pool + header + index * u64::from(ps.block_size);
            return Some((
                SlotKey::Pool {
                    pool,
                    index: index as u32,
                },
                block,
                slot,
            ));
        }
        let (&block, slot) = self.slots.big.range(..=addr).next_back()?;
        (addr < block + self.extent(slot)).then_some((SlotKey::Big(block), block, slot))
    }

    /// Bytes from the block's start to the object's (`PyGC_Head`).
    pub(crate) fn gc_offset(&self, slot: &Slot) -> u64 {
        let gc = if slot.small & GC != 0 {
            GC_HEAD_SIZE
        } else {
            0
        };
        let pre = if slot.small & PREHEADER != 0 { 16 } else { 0 };
        gc + pre
    }

    /// The heavy record or static object describing `op`, with its type.
    pub(crate) fn heavy_of(&self, op: u64) -> Option<&Heavy> {
        match self.place(op)? {
            Place::Static => Some(&self.image.objects[&op].heavy),
            Place::Slot { key, .. } => {
                let slot = self.slots.get(key)?;
                (slot.kind == Kind::Heavy).then(|| self.heavy.get(slot.word))
            }
        }
    }

    pub(crate) fn heavy_mut(&mut self, op: u64) -> Option<&mut Heavy> {
        match self.place(op)? {
            Place::Static => Some(&mut self.image.objects.get_mut(&op)?.heavy),
            Place::Slot { key, .. } => {
                let slot = *self.slots.get(key)?;
                (slot.kind == Kind::Heavy).then(|| self.heavy.get_mut(slot.word))
            }
        }
    }

    /// The slot of a live object, or why there is none.
    pub(crate) fn live_slot(&self, op: u64) -> Result<(SlotKey, Slot), ObjError> {
        match self.place(op) {
            Some(Place::Slot { key, .. }) => {
                let slot = *self.slots.get(key).expect("placed");
                if slot.usable() {
                    Ok((key, slot))
                } else {
                    Err(ObjError::Dead { addr: op })
                }
            }
            Some(Place::Static) => Err(ObjError::NotAnObject { addr: op }),
            None => Err(ObjError::NotAnObject { addr: op }),
        }
    }

    /// The type of the object at `op`, live or not.
    pub fn type_of(&self, op: u64) -> Result<TypeId, ObjError> {
        match self.place(op).ok_or(ObjError::NotAnObject { addr: op })? {
            Place::Static => Ok(self.image.objects[&op].heavy.ty),
            Place::Slot { key, .. } => Ok(self.slot_type(self.slots.get(key).expect("placed"))),
        }
    }

    pub(crate) fn slot_type(&self, slot: &Slot) -> TypeId {
        match slot.kind {
            Kind::Int => TypeId::Int,
            Kind::Float => TypeId::Float,
            Kind::AsciiInline => TypeId::Str,
            Kind::Heavy => self.heavy.get(slot.word).ty,
            Kind::Empty => unreachable!("placed objects have a kind"),
        }
    }

    /// Whether `op` is a live object (or a revived one: see [`Objects::c_incref`]).
    pub fn is_live(&self, op: u64) -> bool {
        match self.place(op) {
            Some(Place::Static) => true,
            Some(Place::Slot { key, .. }) => self.slots.get(key).is_some_and(|s| s.usable()),
            None => false,
        }
    }

    // ---- memory for objects ----------------------------------------------------------------

    /// `PyObject_Malloc(nbytes)` for an object (or `_PyObject_GC_Malloc` when `gc`): returns the
    /// object's address. The slot is the caller's to fill with [`Objects::install`].
    pub(crate) fn malloc_object(&mut self, nbytes: u64, gc: bool) -> Result<u64, ObjError> {
        let total = nbytes + if gc { GC_HEAD_SIZE } else { 0 };
        let block = self.mem.object_malloc(total as usize);
        self.sync_allocator();
        let block = block?;
        if gc {
            self.gc_alloc_count();
        }
        self.forget_block(block, total);
        // Up to 3.11 `_PyObject_GC_Alloc` collects at once, inside the allocation, before the
        // new object is initialised or tracked; from 3.12 the collection waits for the eval
        // breaker (the layer above checks `collection_due` there).
        if gc
            && self.gc.collection_due
            && self.layout.minor <= 11
            && let Some(collect_generations) = self.collector
        {
            collect_generations(self)?;
        }
        Ok(block + if gc { GC_HEAD_SIZE } else { 0 })
    }

    /// `_PyObject_GC_Alloc`'s bookkeeping (`_PyObject_GC_Link` from 3.12): count the
    /// allocation, and see whether a collection is due (`count > threshold && enabled &&
    /// threshold && !collecting`).
    fn gc_alloc_count(&mut self) {
        self.gc.count0 += 1;
        if self.gc.count0 > self.gc.threshold0
            && self.gc.enabled
            && self.gc.threshold0 != 0
            && !self.gc.collecting
        {
            self.gc.collection_due = true;
        }
    }

    /// The collector `_PyObject_GC_Alloc` calls when a collection is due (`collect_generations`),
    /// which the layer above the object layer provides (`crates/gc`). Without one, allocations
    /// only count.
    pub fn set_collector(&mut self, collector: Collector) {
        self.collector = Some(collector);
    }

    /// Records the object's state in the slot of its block (`nbytes` requested for it).
    pub(crate) fn install(&mut self, block: u64, nbytes: u64, slot: Slot) {
        let key = self.key_for(block, nbytes);
        let (size, blocks) = self.block_geometry(nbytes);
        self.slots.put(key, size, blocks, slot);
    }

    /// Where the slot of a block handed out for `nbytes` lives. A request of 512 bytes or less
    /// is pymalloc's unless pymalloc could not serve it (no arena to be had), or the block is a
    /// glibc chunk that `PyMem_Realloc` kept in glibc while it shrank: the allocator is asked
    /// whenever the pool has no slots of that size yet.
    fn key_for(&self, block: u64, nbytes: u64) -> SlotKey {
        if nbytes <= SMALL_REQUEST_THRESHOLD && nbytes > 0 {
            let (size, _) = self.block_geometry(nbytes);
            let pool_size = self.layout.profile.pool_size();
            let pool = block & !(pool_size - 1);
            let known = self
                .slots
                .pools
                .get(pool)
                .is_some_and(|p| p.block_size == size);
            if known || self.mem.is_pymalloc_address(block) {
                return Slots::pool_key(pool_size, block, size);
            }
        }
        SlotKey::Big(block)
    }

    fn block_geometry(&self, nbytes: u64) -> (u32, u32) {
        if nbytes == 0 || nbytes > SMALL_REQUEST_THRESHOLD {
            return (0, 0);
        }
        let class = size_class(nbytes as usize);
        (index2size(class), self.layout.profile.numblocks(class))
    }

    /// A block was just handed out for `nbytes`: whatever object last lived there is gone. Its
    /// remains stay readable until its new owner writes over them: an object's slot replaces
    /// them at once; raw memory gets them written out first (see [`Objects::raw_block`]).
    /// (A pool initialised again for another size class lost its slots already: see
    /// [`Objects::sync_allocator`].) The caller installs the new object's slot at once.
    fn forget_block(&mut self, block: u64, nbytes: u64) {
        let key = self.key_for(block, nbytes);
        if let Some(&old) = self.slots.get(key)
            && old.kind == Kind::Heavy
        {
            self.heavy.remove(old.word);
            *self.slots.get_mut(key).expect("present") = Slot::EMPTY;
        }
    }

    /// A block handed out as raw memory (an item buffer): the remains of the object that lived
    /// there are written into the simulated memory, where the buffer's owner finds them.
    pub(crate) fn raw_block(&mut self, block: u64, nbytes: u64) -> Result<(), ObjError> {
        self.raw_block_after(block, nbytes, 0)
    }

    /// [`Objects::raw_block`] for a block whose first `kept` bytes its new owner has written
    /// already (a buffer that `realloc` copied there): only the remains beyond are written out.
    fn raw_block_after(&mut self, block: u64, nbytes: u64, kept: u64) -> Result<(), ObjError> {
        let key = self.key_for(block, nbytes);
        let Some(&old) = self.slots.get(key) else {
            return Ok(());
        };
        if old.kind != Kind::Empty {
            let words = self.extent(&old) / 8;
            // Word 0 of a freed block holds pymalloc's old free-list link, already in memory.
            for w in kept.div_ceil(8).max(1)..words {
                let value = self.synthesize(block, &old, w * 8);
                self.mem.write_word(block + w * 8, value)?;
            }
            if old.kind == Kind::Heavy {
                self.heavy.remove(old.word);
            }
        }
        if let Some(s) = self.slots.get_mut(key) {
            *s = Slot::EMPTY;
        }
        Ok(())
    }

    /// Gives an object's block back (`PyObject_Free`, or `PyObject_GC_Del` for a GC object).
    /// The object's fields stay in memory: its slot is marked freed (an object in a glibc chunk
    /// is written out into the chunk first, since glibc may reuse its tail at once).
    pub(crate) fn free_object(&mut self, op: u64) -> Result<(), ObjError> {
        let Some(Place::Slot { key, block }) = self.place(op) else {
            return Err(ObjError::NotAnObject { addr: op });
        };
        let slot = *self.slots.get(key).expect("placed");
        let gc = self.gc_offset(&slot) != 0;
        if gc {
            self.gc_del_untrack(op, slot.state == State::Freed)?;
        }
        if gc && self.gc.count0 > 0 {
            self.gc.count0 -= 1;
        }
        match key {
            SlotKey::Pool { .. } => {
                self.slots.get_mut(key).expect("placed").state = State::Freed;
            }
            SlotKey::Big(_) => {
                for w in 0..self.extent(&slot) / 8 {
                    let value = self.synthesize(block, &slot, w * 8);
                    self.mem.write_word(block + w * 8, value)?;
                }
                self.slots.big.remove(&block);
                if slot.kind == Kind::Heavy {
                    self.heavy.remove(slot.word);
                }
            }
        }
        self.trace.record(ObjEvent::Free { op });
        let freed = self.mem.object_free(block);
        self.sync_allocator();
        Ok(freed?)
    }

    /// `PyObject_GC_Del`'s first step: `if (_PyObject_GC_IS_TRACKED(op)) gc_list_remove(g)`.
    /// Tracked means that `_gc_next`, the first word of the block, is not 0. An object freed
    /// before (a list on the free list twice) has pymalloc's free-list link there, unless its
    /// pool was full: it reads as tracked, and `gc_list_remove` writes `_gc_next` through the
    /// untracked `_gc_prev`, 0: a write to address 0, C's segmentation fault at exit.
    fn gc_del_untrack(&mut self, op: u64, freed_before: bool) -> Result<(), ObjError> {
        if !freed_before {
            return self.gc_untrack(op);
        }
        let g = op - GC_HEAD_SIZE;
        let next = self.read_word(g)?;
        if next == 0 {
            return Ok(());
        }
        let ty = self.type_of(op)?;
        self.trace.record(ObjEvent::FreedAgain { op, ty, next });
        // gc_list_remove: prev = GC_PREV(node) (the flag bits masked off), next = GC_NEXT(node).
        let prev = self.read_word(g + 8)? & _PYGC_PREV_MASK;
        self.mem.write_word(prev, next)?; // _PyGCHead_SET_NEXT(prev, next)
        let flags = self.read_word(next + 8)? & !_PYGC_PREV_MASK;
        self.mem.write_word(next + 8, prev | flags)?; // _PyGCHead_SET_PREV(next, prev)
        self.mem.write_word(g, 0)?; // node->_gc_next = 0
        Ok(())
    }

    /// `PyMem_Malloc`, `PyMem_Calloc` and friends for memory that is not an object (item
    /// buffers): in a release build they are pymalloc's `PyObject_*` functions.
    pub(crate) fn mem_calloc(&mut self, nelem: u64, elsize: u64) -> Result<u64, ObjError> {
        let p = self.mem.object_calloc(nelem as usize, elsize as usize);
        self.sync_allocator();
        let p = p?;
        self.trace.record(ObjEvent::BufferAlloc {
            addr: p,
            nbytes: nelem * elsize,
        });
        // calloc zeroed the memory: the remains of an object that lived there are gone.
        let key = self.key_for(p, nelem * elsize);
        if let Some(s) = self.slots.get(key).copied() {
            if s.kind == Kind::Heavy {
                self.heavy.remove(s.word);
            }
            *self.slots.get_mut(key).expect("present") = Slot::EMPTY;
        }
        Ok(p)
    }

    /// `PyMem_Realloc(p, nbytes)` for a buffer.
    pub(crate) fn mem_realloc(&mut self, p: u64, nbytes: u64) -> Result<u64, ObjError> {
        // What realloc copies when it moves a pymalloc block: the old block, or as much of it as
        // the new size holds (pymalloc_realloc). A glibc block stays in glibc, where no object's
        // remains wait to be written out.
        let copied = match self.mem.what_is_at(p) {
            Ok(pymalloc::Location::Block(b)) => u64::from(b.size).min(nbytes),
            _ => nbytes,
        };
        let q = self.mem.object_realloc(p, nbytes as usize);
        self.sync_allocator();
        let q = q?;
        self.trace.record(if p == 0 {
            ObjEvent::BufferAlloc { addr: q, nbytes }
        } else {
            ObjEvent::BufferRealloc {
                old: p,
                new: q,
                nbytes,
            }
        });
        if q != p {
            self.raw_block_after(q, nbytes, if p == 0 { 0 } else { copied })?;
        }
        Ok(q)
    }

    /// `PyMem_Malloc(nbytes)` of a buffer the caller fills and frees (a call's argument
    /// array): its address.
    pub fn pymem_malloc(&mut self, nbytes: u64) -> Result<u64, ObjError> {
        self.mem_malloc(nbytes)
    }

    /// `PyMem_Free(p)` of a buffer from [`Objects::pymem_malloc`].
    pub fn pymem_free(&mut self, p: u64) -> Result<(), ObjError> {
        self.mem_free(p)
    }

    /// `PyMem_Free(p)` for a buffer.
    pub(crate) fn mem_free(&mut self, p: u64) -> Result<(), ObjError> {
        if p != 0 {
            self.trace.record(ObjEvent::BufferFree { addr: p });
        }
        let freed = self.mem.object_free(p);
        self.sync_allocator();
        Ok(freed?)
    }

    /// Drains pymalloc's events: a pool initialised again loses the slots of its old blocks,
    /// an unmapped arena loses its pools' slots. Forwards them to the trace when it is on.
    pub(crate) fn sync_allocator(&mut self) {
        let mut events = self.mem.take_trace();
        for event in events.drain(..) {
            match event {
                Event::PoolInit { address, .. } => {
                    self.slots.pools.remove(address);
                }
                Event::ArenaFreed { address, .. } => self.forget_arena(address),
                _ => {}
            }
            self.trace.record(ObjEvent::Mem(event));
        }
        self.mem.recycle_trace(events);
    }

    fn forget_arena(&mut self, address: u64) {
        let pool_size = self.layout.profile.pool_size();
        let first = address.next_multiple_of(pool_size);
        let end = address + self.layout.profile.arena_size();
        let mut pool = first;
        while pool + pool_size <= end {
            if let Some(ps) = self.slots.pools.remove(pool) {
                for s in ps.slots.iter().filter(|s| s.kind == Kind::Heavy) {
                    self.heavy.remove(s.word);
                }
            }
            pool += pool_size;
        }
    }

    // ---- reference counts ------------------------------------------------------------------

    /// `ob_refcnt` of the object at `op` (whatever its state: a freed list reads 0).
    pub fn refcnt(&self, op: u64) -> Result<u64, ObjError> {
        match self.place(op).ok_or(ObjError::NotAnObject { addr: op })? {
            Place::Static => Ok(self.image.objects[&op].refcnt),
            Place::Slot { key, .. } => Ok(slot_refcnt(self.slots.get(key).expect("placed"))),
        }
    }

    /// `Py_INCREF(op)`. On 3.12+, an immortal object's count does not move.
    pub fn incref(&mut self, op: u64) -> Result<(), ObjError> {
        let immortal_version = self.layout.has_immortal_objects();
        match self.place(op).ok_or(ObjError::NotAnObject { addr: op })? {
            Place::Static => {
                let obj = self.image.objects.get_mut(&op).expect("placed");
                if !(immortal_version && obj.refcnt == crate::layout::IMMORTAL_REFCNT) {
                    obj.refcnt += 1;
                }
                Ok(())
            }
            Place::Slot { key, .. } => {
                let s = self.slots.get_mut(key).expect("placed");
                if !s.usable() {
                    return Err(ObjError::Dead { addr: op });
                }
                if s.small & IMMORTAL != 0 {
                    return Ok(());
                }
                s.refcnt = s
                    .refcnt
                    .checked_add(1)
                    .ok_or(ObjError::RefcountOverflow { addr: op })?;
                Ok(())
            }
        }
    }

    /// `Py_DECREF(op)`: at zero, the object is deallocated (`_Py_Dealloc`).
    pub fn decref(&mut self, op: u64) -> Result<(), ObjError> {
        let immortal_version = self.layout.has_immortal_objects();
        match self.place(op).ok_or(ObjError::NotAnObject { addr: op })? {
            Place::Static => {
                let obj = self.image.objects.get_mut(&op).expect("placed");
                if immortal_version && obj.refcnt == crate::layout::IMMORTAL_REFCNT {
                    return Ok(());
                }
                if obj.refcnt <= 1 {
                    // CPython aborts: "deallocating None" and the like.
                    return Err(ObjError::DecrefBelowZero { addr: op });
                }
                obj.refcnt -= 1;
                Ok(())
            }
            Place::Slot { key, .. } => {
                let s = self.slots.get_mut(key).expect("placed");
                if !s.usable() {
                    return Err(ObjError::Dead { addr: op });
                }
                if s.small & IMMORTAL != 0 {
                    return Ok(());
                }
                if s.refcnt == 0 {
                    return Err(ObjError::DecrefBelowZero { addr: op });
                }
                s.refcnt -= 1;
                if s.refcnt == 0 {
                    self.trace.record(ObjEvent::Zero { op });
                    self.dealloc(op)?;
                }
                Ok(())
            }
        }
    }

    /// `Py_XDECREF`: NULL is skipped.
    pub fn xdecref(&mut self, op: u64) -> Result<(), ObjError> {
        if op == 0 { Ok(()) } else { self.decref(op) }
    }

    /// C's `Py_INCREF` applied to whatever lies at `op`, as `ctypes`' `py_object` getter
    /// (`O_get`) applies it to an address: `ob_refcnt` goes up by one whether the object is
    /// alive, sitting on a free list (it stays there, now with a count), or freed (then the word
    /// is whatever the block holds now: pymalloc's free-list link, for a non-GC object). With
    /// nothing mapped at `op`, the model's segmentation fault.
    pub fn c_incref(&mut self, op: u64) -> Result<(), ObjError> {
        self.c_refcnt_add(op, 1)
    }

    /// C's `Py_DECREF` on whatever lies at `op`: at zero, `_Py_Dealloc` runs the deallocator
    /// of the type its memory names, even for an object deallocated before (a list on the free
    /// list is then pushed on it a second time, its stale buffer freed again).
    pub fn c_decref(&mut self, op: u64) -> Result<(), ObjError> {
        self.c_refcnt_add(op, -1)
    }

    /// `Py_XDECREF` as a deallocator does it: C's decrement of whatever its pointer names
    /// (NULL skipped). For the contents of a live structure this is [`Objects::decref`]; for a
    /// structure deallocated twice (a revived list), its stale words are decremented as C would.
    pub(crate) fn c_xdecref(&mut self, op: u64) -> Result<(), ObjError> {
        if op == 0 { Ok(()) } else { self.c_decref(op) }
    }

    fn c_refcnt_add(&mut self, op: u64, delta: i64) -> Result<(), ObjError> {
        let place = self.place(op);
        let live = match place {
            Some(Place::Static) => true,
            Some(Place::Slot { key, .. }) => self.slots.get(key).is_some_and(|s| s.usable()),
            None => false,
        };
        if live {
            return if delta > 0 {
                self.incref(op)
            } else {
                self.decref(op)
            };
        }
        let count = match place {
            Some(Place::Slot { key, block }) => {
                let slot = *self.slots.get(key).expect("placed");
                if slot.state == State::Freed && self.gc_offset(&slot) == 0 {
                    // ob_refcnt is the block's first word: pymalloc's link now.
                    self.raw_word_add(block, delta)?
                } else {
                    let s = self.slots.get_mut(key).expect("placed");
                    s.refcnt = s.refcnt.wrapping_add_signed(delta as i32);
                    u64::from(s.refcnt)
                }
            }
            _ => self.raw_word_add(op, delta)?,
        };
        if delta < 0 && count == 0 {
            self.trace.record(ObjEvent::Zero { op });
            return self.dealloc(op);
        }
        Ok(())
    }

    /// Adds `delta` to the word at `addr` in memory (no object describes it).
    fn raw_word_add(&mut self, addr: u64, delta: i64) -> Result<u64, ObjError> {
        let word = self.read_word(addr)?.wrapping_add_signed(delta);
        self.mem.write_word(addr, word)?;
        Ok(word)
    }

    /// `_Py_NewReference`: an object taken off a free list is live again with one reference.
    pub(crate) fn new_reference(&mut self, op: u64) {
        if let Some(Place::Slot { key, .. }) = self.place(op) {
            let s = self.slots.get_mut(key).expect("placed");
            s.state = State::Live;
            s.refcnt = 1;
        }
    }

    /// Marks a deallocated object as kept on a free list.
    pub(crate) fn mark_listed(&mut self, op: u64) {
        if let Some(Place::Slot { key, .. }) = self.place(op) {
            self.slots.get_mut(key).expect("placed").state = State::Listed;
        }
    }

    /// `_Py_Dealloc(op)`: the type's `tp_dealloc`.
    pub(crate) fn dealloc(&mut self, op: u64) -> Result<(), ObjError> {
        let ty = self.type_of(op)?;
        self.trace.record(ObjEvent::Dealloc { op, ty });
        match ty {
            TypeId::List => self.list_dealloc(op),
            TypeId::Tuple => self.tupledealloc(op),
            TypeId::VersionInfo => self.structseq_dealloc(op),
            TypeId::Float => self.float_dealloc(op),
            TypeId::Str => self.unicode_dealloc(op),
            TypeId::Dict => self.dict_dealloc(op),
            TypeId::Instance => self.instance_dealloc(op),
            TypeId::Type if self.class_data(op).is_ok() => self.class_dealloc(op),
            TypeId::Function
            | TypeId::Method
            | TypeId::Module
            | TypeId::Code
            | TypeId::Cell
            | TypeId::CFunction
            | TypeId::CArg
            | TypeId::CData
            | TypeId::GetSetDescr => self.fields_dealloc(op),
            TypeId::Frame => self.frame_dealloc(op),
            TypeId::Int
            | TypeId::Bool
            | TypeId::Object
            | TypeId::NoneType
            | TypeId::Type
            | TypeId::Bytes => self.free_object(op),
        }
    }

    /// `Py_TRASHCAN_BEGIN`: whether `op`'s deallocation may go on now. Too deep, it is put on
    /// `trash_delete_later` and finished when the outermost deallocation unwinds.
    pub(crate) fn trashcan_begin(&mut self, op: u64) -> bool {
        if self.trash.delete_nesting >= TRASH_UNWIND_LEVEL {
            self.trash.delete_later.push(op);
            return false;
        }
        self.trash.delete_nesting += 1;
        true
    }

    /// `Py_TRASHCAN_END`: `_PyTrash_thread_destroy_chain` once back at the top.
    pub(crate) fn trashcan_end(&mut self) -> Result<(), ObjError> {
        self.trash.delete_nesting -= 1;
        if self.trash.delete_nesting == 0 {
            while let Some(op) = self.trash.delete_later.pop() {
                self.trash.delete_nesting += 1;
                let done = self.dealloc(op);
                self.trash.delete_nesting -= 1;
                done?;
            }
        }
        Ok(())
    }

    // ---- the collector's hooks -------------------------------------------------------------

    /// `clear_freelists` (3.8–3.10) or `_PyGC_ClearAllFreeLists` (3.11+), which a collection
    /// of the oldest generation calls: every object kept on a free list is freed for good, in
    /// CPython's order (3.8's bound methods first, then tuples by size, floats, lists, dicts and
    /// dict keys), each list from its most recent entry.
    pub fn clear_freelists(&mut self) -> Result<(), ObjError> {
        while let Some(op) = self.free.method.pop() {
            self.free_object(op)?;
        }
        // PyFrame_ClearFreeList: 3.8 after the bound methods, 3.9 and 3.10 first.
        while let Some(op) = self.free.frame.pop() {
            self.free_object(op)?;
        }
        while let Some(op) = self.free.cfunction.pop() {
            self.free_object(op)?;
        }
        for size in 0..self.free.tuple.len() {
            while let Some(op) = self.free.tuple[size].pop() {
                self.free_object(op)?;
            }
        }
        while let Some(op) = self.free.float.pop() {
            self.free_object(op)?;
        }
        while let Some(op) = self.free.list.pop() {
            self.free_object(op)?;
        }
        while let Some(op) = self.free.dict.pop() {
            self.free_object(op)?;
        }
        while let Some(keys) = self.free.dict_keys.pop() {
            self.mem_free(keys)?;
        }
        Ok(())
    }

    /// `object()`: a bare object of 16 bytes, not tracked (`object` has no `Py_TPFLAGS_HAVE_GC`).
    pub fn object_new(&mut self) -> Result<u64, ObjError> {
        let op = self.malloc_object(crate::layout::OBJECT_HEAD_SIZE, false)?;
        let word = self.heavy.insert(Heavy {
            ty: TypeId::Object,
            body: crate::heavy::Body::Bare,
        });
        self.install_new(
            op,
            crate::layout::OBJECT_HEAD_SIZE,
            Kind::Heavy,
            0,
            word,
            TypeId::Object,
        );
        Ok(op)
    }

    /// `_PyObject_GC_TRACK(op)`: link at the end of generation 0. C writes through whatever
    /// `_gc_prev` of the list's head names, even an object untracked since: a list the free
    /// list hands out twice is tracked twice, and the list is corrupt from then on, as in C.
    pub(crate) fn gc_track(&mut self, op: u64) {
        let head = self.gen0_head();
        self.gc_list_append(op, head);
    }

    /// `PyObject_GC_UnTrack(op)`: if tracked (`_gc_next` is not 0), `gc_list_remove`, through
    /// whatever the links name. An object whose `_gc_next` was written after it was untracked
    /// (by the second tracking of a list handed out twice) has a NULL `_gc_prev`: C writes to
    /// address 0 there.
    pub fn gc_untrack(&mut self, op: u64) -> Result<(), ObjError> {
        if self.gc_links.get(&op).is_some_and(|h| h.next != 0) {
            // node->_gc_next = 0, and _gc_prev's pointer bits with it.
            self.unlink(op)?;
        }
        Ok(())
    }

    /// `gc.is_tracked(op)`: `_gc_next` is not 0.
    pub fn gc_is_tracked(&self, op: u64) -> bool {
        self.gc_links.get(&op).is_some_and(|h| h.next != 0)
    }

    /// The objects of generation 0, oldest first: as far as the links lead back to the head
    /// (a list corrupted as above may not), each object once.
    pub fn gc_generation0(&self) -> Vec<u64> {
        let head = self.gen0_head();
        let mut out = Vec::new();
        let mut at = self.gc_links[&head].next;
        while at != head && at != 0 && out.len() < self.gc_links.len() {
            out.push(at);
            at = self.gc_links.get(&at).map_or(0, |h| h.next);
        }
        out
    }

    // ---- tracing ---------------------------------------------------------------------------

    /// Turns the event trace on or off (off by default; off drops what was logged).
    pub fn set_trace(&mut self, on: bool) {
        self.trace.set(on);
    }

    /// The events since tracing was turned on or last taken.
    pub fn take_trace(&mut self) -> Vec<ObjEvent> {
        self.trace.take()
    }

    /// Whether the trace is on: a caller that must compute an event (the collector's `gc_refs`
    /// of a whole generation) asks first.
    #[inline]
    pub fn tracing(&self) -> bool {
        self.trace.is_on()
    }

    /// Logs a collector's event that names no object (the start or the end of a collection).
    pub fn trace_gc_event(&mut self, event: ObjEvent) {
        self.trace.record(event);
    }

    /// Logs what the cycle collector did with `op`, when the trace is on (its type is looked
    /// up only then).
    #[inline]
    pub fn trace_gc(&mut self, op: u64, step: GcStep) {
        if !self.tracing() {
            return;
        }
        if let Ok(ty) = self.type_of(op) {
            self.trace.record(ObjEvent::Gc { op, ty, step });
        }
    }
}

/// An object's state, whatever its storage: what a read of its memory is computed from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct View<'a> {
    /// Whether the object is in the image.
    pub(crate) is_static: bool,
    pub(crate) refcnt: u64,
    pub(crate) ty: TypeId,
    pub(crate) slot: Slot,
    pub(crate) body: Option<&'a crate::heavy::Body>,
}

impl Objects {
    /// The state of the object at `op`, live, listed or freed.
    pub(crate) fn view(&self, op: u64) -> Result<View<'_>, ObjError> {
        match self.place(op).ok_or(ObjError::NotAnObject { addr: op })? {
            Place::Static => {
                let obj = &self.image.objects[&op];
                Ok(View {
                    is_static: true,
                    refcnt: obj.refcnt,
                    ty: obj.heavy.ty,
                    slot: Slot::STATIC,
                    body: Some(&obj.heavy.body),
                })
            }
            Place::Slot { key, .. } => {
                let slot = *self.slots.get(key).expect("placed");
                let body = (slot.kind == Kind::Heavy).then(|| &self.heavy.get(slot.word).body);
                Ok(View {
                    is_static: false,
                    refcnt: slot_refcnt(&slot),
                    ty: self.slot_type(&slot),
                    slot,
                    body,
                })
            }
        }
    }

    /// The view of a live object (static objects are always live).
    pub(crate) fn live_view(&self, op: u64) -> Result<View<'_>, ObjError> {
        let v = self.view(op)?;
        if v.slot.usable() {
            Ok(v)
        } else {
            Err(ObjError::Dead { addr: op })
        }
    }

    /// The error for `op` not being an `expected`.
    pub(crate) fn wrong_type(&self, op: u64, expected: &'static str) -> ObjError {
        match self.type_of(op) {
            Ok(ty) => ObjError::WrongType {
                addr: op,
                expected,
                found: ty.name().into(),
            },
            Err(e) => e,
        }
    }
}

/// `ob_refcnt` of a slotted object: `_Py_IMMORTAL_REFCNT` once immortal, else its count.
fn slot_refcnt(slot: &Slot) -> u64 {
    if slot.small & IMMORTAL != 0 {
        crate::layout::IMMORTAL_REFCNT
    } else {
        u64::from(slot.refcnt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_collection_empties_the_free_lists_and_count0_follows() {
        for p in Profile::ALL {
            let mut o = Objects::new(p).unwrap();
            let lists: Vec<u64> = (0..5).map(|_| o.list_new(0).unwrap()).collect();
            let one = o.long_from_i64(1).unwrap();
            let t = o.tuple_pack(&[one]).unwrap();
            let f = o.float_from_f64(0.5).unwrap();
            for op in lists.iter().copied().chain([t, f]) {
                o.decref(op).unwrap();
            }
            let before = o.gc_counts().count0;
            o.set_trace(true);
            o.clear_freelists().unwrap();
            let freed: Vec<u64> = o
                .take_trace()
                .into_iter()
                .filter_map(|e| match e {
                    ObjEvent::Free { op } => Some(op),
                    _ => None,
                })
                .collect();
            // Tuples, then floats, then lists from the most recently freed.
            let mut expected = vec![t, f];
            expected.extend(lists.iter().rev());
            assert_eq!(freed, expected, "{p}");
            // PyObject_GC_Del takes one off count0 for each list and the tuple.
            assert_eq!(before - o.gc_counts().count0, 6.min(before), "{p}");
            assert!(
                lists.iter().all(|&l| o.type_of(l).is_ok()),
                "remains stay readable"
            );
            let again = o.list_new(0).unwrap();
            assert_eq!(
                o.gc_counts().count0,
                before - 6.min(before) + 1,
                "{p}: a new list counts"
            );
            let _ = again;
        }
    }

    #[test]
    fn a_list_listed_twice_is_freed_twice_at_exit_quietly_when_its_pool_was_full() {
        // The first PyObject_GC_Del frees the list's block into a full pool: its link, the
        // _gc_next word, is NULL, so the second call sees an untracked object and frees the
        // block again (pymalloc links it in a second time), with no fault.
        let mut o = Objects::new(Profile::CPYTHON_3_11).unwrap();
        let li = o.list_new_generic().unwrap();
        o.decref(li).unwrap();
        o.c_incref(li).unwrap();
        o.c_decref(li).unwrap();
        assert_eq!(o.list_free_list(), [li, li]);
        let pool = li & !(o.profile().pool_size() - 1);
        let mut kept = Vec::new();
        while kept
            .last()
            .is_none_or(|&x| x & !(o.profile().pool_size() - 1) == pool)
        {
            kept.push(o.list_new_generic().unwrap());
        }
        o.set_trace(true);
        o.clear_freelists().unwrap();
        let block = li - GC_HEAD_SIZE;
        let again = pymalloc::Event::FreedAgain {
            address: block,
            link: block,
        };
        assert!(o.take_trace().contains(&ObjEvent::Mem(again)));
    }

    #[test]
    fn a_list_handed_out_twice_corrupts_the_generation_list_as_in_c() -> Result<(), ObjError> {
        let mut o = Objects::new(Profile::CPYTHON_3_11)?;
        let li = o.list_new_generic()?;
        o.decref(li)?;
        o.c_incref(li)?;
        o.c_decref(li)?;
        // On the free list twice: two new lists are one object, tracked twice, and the second
        // _PyObject_GC_TRACK leaves its _gc_prev naming itself.
        assert_eq!((o.list_new(0)?, o.list_new(0)?), (li, li));
        assert_eq!(o.read_word(li - 8)?, li - GC_HEAD_SIZE);
        // Deallocated: gc_list_remove through those links, no panic; the head's _gc_prev
        // still names it.
        o.decref(li)?;
        assert!(!o.gc_is_tracked(li));
        // The next object tracked is linked after it: its _gc_next is written, so C's
        // _PyObject_GC_IS_TRACKED says yes, with a NULL _gc_prev.
        let next = o.list_new_generic()?;
        assert!(o.gc_is_tracked(li) && o.gc_is_tracked(next));
        assert_eq!(
            o.gc_untrack(li),
            Err(pymalloc::MemError::Segfault { addr: 0 }.into())
        );
        Ok(())
    }

    #[test]
    fn c_level_counts_revive_and_double_free_a_listed_list() {
        // The blog's stale list: freed onto the free list, then ctypes' py_object takes a
        // reference to it (Py_INCREF), and letting that go deallocates it a second time.
        let mut o = Objects::new(Profile::CPYTHON_3_11).unwrap();
        let li = o.list_new_generic().unwrap();
        let s = o.unicode_from_str("hsafdasdsadasdfsdfsdasdasi").unwrap();
        o.list_append(li, s).unwrap();
        o.decref(s).unwrap();
        o.decref(li).unwrap();
        assert_eq!(o.refcnt(li).unwrap(), 0);
        assert!(
            matches!(o.incref(li), Err(ObjError::Dead { .. })),
            "the API refuses"
        );
        o.c_incref(li).unwrap();
        assert_eq!(
            o.read_word(li).unwrap(),
            1,
            "C's increment, on a listed list"
        );
        // Its items went when it died: the second list_dealloc reads the stale buffer, frees
        // it again (pymalloc links it in a second time, as C does) and pushes the list on the
        // free list a second time: the next two lists are the same object.
        let buffer = o.list_data(li).unwrap().item;
        o.set_trace(true);
        o.c_decref(li).unwrap();
        let events = o.take_trace();
        assert!(
            events.contains(&ObjEvent::Mem(pymalloc::Event::FreedAgain {
                address: buffer,
                link: buffer
            })),
            "the buffer, head of its pool's list, now links to itself: {events:?}"
        );
        assert_eq!(o.free.list, [li, li]);
        assert_eq!((o.list_new(0).unwrap(), o.list_new(0).unwrap()), (li, li));
        // A wild address: the model's segmentation fault.
        assert!(matches!(
            o.c_incref(0x1000),
            Err(ObjError::Mem(pymalloc::MemError::Segfault { .. }))
        ));
    }

    #[test]
    fn object_is_sixteen_untracked_bytes() {
        let mut o = Objects::new(Profile::CPYTHON_3_11).unwrap();
        let x = o.object_new().unwrap();
        assert_eq!(o.getsizeof(x).unwrap(), 16);
        assert!(!o.gc_is_tracked(x));
        assert_eq!(o.repr(x).unwrap(), format!("<object object at {x:#x}>"));
        o.decref(x).unwrap();
        assert!(!o.is_live(x));
    }
}
