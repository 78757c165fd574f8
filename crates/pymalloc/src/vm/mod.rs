//! A simulated 64-bit Linux address space: `mmap`, `munmap`, `mremap` and `brk`, with 4 KiB
//! pages, deterministic addresses, and contents.
//!
//! ```text
//!  0x7f3c8a5fd000  MMAP_BASE (page-aligned, not 16 KiB-aligned)
//!        |  first mmap ends here; later ones go below it, top-down
//!        v
//!  [ mmap #3 ][ hole ][ mmap #1 ][ mmap #0 ]
//!  ^ mmap_low                                        (everything between brk and mmap_low is free)
//!
//!  [ brk heap ----------> ]
//!  ^ 0x555556000000 HEAP_START                       ^ brk, grows up
//! ```
//!
//! Like Linux's top-down allocator, `mmap` takes the highest gap below the mmap base that fits,
//! placing the mapping at the top of that gap, so an unmapped arena's hole is the first place a
//! new arena of the same size goes. The mmap base is page-aligned but not 16 KiB-aligned, as
//! real ones are three times in four, so a 3.10+ arena does not start on a pool boundary and
//! loses a pool to alignment (a real 3.12 report: "# bytes lost to arena alignment = 32,768" for
//! 2 arenas).
//!
//! * VMS is the bytes mapped: every mmapped mapping plus the brk heap.
//! * RSS is the pages written. A page counts from the first write into it (a pool header, a free
//!   list link, a block handed out, a client's [`touch`](AddressSpace::touch)) until it is
//!   unmapped or trimmed off the heap.
//! * Contents are 8-byte words, zero until written (see [`words`]). Reading or writing an address
//!   no mapping covers is [`MemError::Segfault`].
//!
//! Lookup of an arbitrary address is a `BTreeMap` search over mappings, O(log m); the allocator's
//! hot paths never need it, because an arena knows its mapping.

mod pages;
mod words;

use std::cell::Cell;
use std::collections::BTreeMap;

use crate::error::MemError;
use crate::hash::AddrMap;
use crate::trace::{Event, Trace};
use pages::PageSet;
use words::WordStore;

/// The page size: 4 KiB, as on x86-64 Linux.
pub const PAGE_SIZE: u64 = 4096;
/// The top of the mmap area: the first mapping ends here.
pub const MMAP_BASE: u64 = 0x7f3c_8a5f_d000;
/// Where the brk heap starts.
pub const HEAP_START: u64 = 0x5555_5600_0000;

/// Entries of `find`'s cache.
const FIND_CACHE_LINES: usize = 64;

/// Index of a mapping in the address space's table.
pub(crate) type MappingId = usize;

/// What a mapping is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionKind {
    /// The brk heap, managed by glibc.
    Heap,
    /// A pymalloc arena, for `arenas[i]`.
    Arena(usize),
    /// A chunk glibc mmapped for one large request.
    Chunk,
}

/// A mapping, as [`Allocator::regions`](crate::Allocator::regions) shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// Its first address.
    pub start: u64,
    /// Its length in bytes.
    pub len: u64,
    /// What it is for.
    pub kind: RegionKind,
    /// Bytes of it in written pages.
    pub resident: u64,
}

/// One mapping: a range of pages with contents.
#[derive(Debug)]
pub(crate) struct Mapping {
    pub(crate) start: u64,
    pub(crate) len: u64,
    pub(crate) kind: RegionKind,
    pages: PageSet,
    words: WordStore,
}

impl Mapping {
    pub(crate) fn end(&self) -> u64 {
        self.start + self.len
    }

    fn contains(&self, addr: u64) -> bool {
        (self.start..self.end()).contains(&addr)
    }

    fn word_index(&self, addr: u64) -> u64 {
        (addr - self.start) / 8
    }
}

/// The simulated address space.
#[derive(Debug)]
pub(crate) struct AddressSpace {
    slots: Vec<Option<Mapping>>,
    free_slots: Vec<MappingId>,
    by_start: BTreeMap<u64, MappingId>,
    /// Unmapped gaps above `mmap_low`: start -> end. Kept merged.
    holes: BTreeMap<u64, u64>,
    /// The lowest address any mmap has reached; below it (down to the break) all is free.
    mmap_low: u64,
    heap: Option<MappingId>,
    /// The most bytes that may be mapped at once (`RLIMIT_AS`).
    limit: u64,
    vms: u64,
    rss_pages: u64,
    /// The mapping `find` found last in each 64 KiB window of addresses (`u32::MAX`: none).
    found_cache: [Cell<u32>; FIND_CACHE_LINES],
    pub(crate) trace: Trace,
}

const fn align_up(n: u64, to: u64) -> u64 {
    n.div_ceil(to) * to
}

impl AddressSpace {
    pub(crate) fn new(limit: u64) -> Self {
        AddressSpace {
            slots: Vec::new(),
            free_slots: Vec::new(),
            by_start: BTreeMap::new(),
            holes: BTreeMap::new(),
            mmap_low: MMAP_BASE,
            heap: None,
            limit,
            vms: 0,
            rss_pages: 0,
            found_cache: std::array::from_fn(|_| Cell::new(u32::MAX)),
            trace: Trace::default(),
        }
    }

    /// Bytes mapped.
    pub(crate) fn vms(&self) -> u64 {
        self.vms
    }

    /// Bytes in pages written.
    pub(crate) fn rss(&self) -> u64 {
        self.rss_pages * PAGE_SIZE
    }

    /// The program break.
    pub(crate) fn brk(&self) -> u64 {
        self.heap.map_or(HEAP_START, |id| self.mapping(id).end())
    }

    pub(crate) fn mapping(&self, id: MappingId) -> &Mapping {
        self.slots[id]
            .as_ref()
            .expect("mapping ids held by the allocator are live")
    }

    fn mapping_mut(&mut self, id: MappingId) -> &mut Mapping {
        self.slots[id]
            .as_mut()
            .expect("mapping ids held by the allocator are live")
    }

    /// The mapping that covers `addr`, if any.
    pub(crate) fn find(&self, addr: u64) -> Option<MappingId> {
        // Accesses come in runs inside a few mappings (buffers filled word by word, an arena's
        // pools): a small cache, one entry per 64 KiB window of addresses, remembers the mapping
        // last found there. A cached id is checked afresh, so a mapping since unmapped, moved or
        // reused for another one is never trusted.
        let line = &self.found_cache[((addr >> 16) as usize) % FIND_CACHE_LINES];
        let cached = line.get() as usize;
        if self
            .slots
            .get(cached)
            .and_then(Option::as_ref)
            .is_some_and(|m| m.contains(addr))
        {
            return Some(cached);
        }
        let (_, &id) = self.by_start.range(..=addr).next_back()?;
        let found = self.mapping(id).contains(addr).then_some(id);
        if let Some(id) = found {
            line.set(id as u32);
        }
        found
    }

    fn insert(&mut self, mapping: Mapping) -> MappingId {
        let id = match self.free_slots.pop() {
            Some(id) => {
                self.slots[id] = Some(mapping);
                id
            }
            None => {
                self.slots.push(Some(mapping));
                self.slots.len() - 1
            }
        };
        let start = self.mapping(id).start;
        self.by_start.insert(start, id);
        id
    }

    /// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`.
    pub(crate) fn mmap(
        &mut self,
        len: u64,
        kind: RegionKind,
    ) -> Result<(u64, MappingId), MemError> {
        let len = align_up(len, PAGE_SIZE);
        let oom = MemError::OutOfMemory { requested: len };
        if len == 0 || self.vms.saturating_add(len) > self.limit {
            return Err(oom);
        }
        let start = self.unmapped_area(len).ok_or(oom)?;
        self.claim(start, len);
        let id = self.insert(Mapping {
            start,
            len,
            kind,
            pages: PageSet::default(),
            words: match kind {
                RegionKind::Arena(_) => WordStore::Sparse(AddrMap::default()),
                RegionKind::Heap | RegionKind::Chunk => WordStore::Dense(Vec::new()),
            },
        });
        self.vms += len;
        self.trace.record(Event::Mmap {
            address: start,
            len,
        });
        Ok((start, id))
    }

    /// `munmap` of a whole mapping: its pages and contents are forgotten.
    pub(crate) fn munmap(&mut self, id: MappingId) {
        let Some(m) = self.slots[id].take() else {
            return;
        };
        self.free_slots.push(id);
        self.by_start.remove(&m.start);
        self.release(m.start, m.len);
        self.vms -= m.len;
        self.rss_pages -= m.pages.count();
        self.trace.record(Event::Munmap {
            address: m.start,
            len: m.len,
        });
    }

    /// `mremap(old, old_len, new_len, MREMAP_MAYMOVE)`: shrinks in place; grows in place if the
    /// gap above is free, else moves to a new area found top-down. Touched pages and contents
    /// move with the mapping. Returns the (possibly new) start.
    pub(crate) fn mremap(&mut self, id: MappingId, new_len: u64) -> Result<u64, MemError> {
        let new_len = align_up(new_len, PAGE_SIZE);
        let (start, len) = (self.mapping(id).start, self.mapping(id).len);
        let new_start = if new_len <= len {
            self.shrink(id, new_len);
            start
        } else {
            self.grow(id, new_len)?
        };
        if new_len != len || new_start != start {
            self.trace.record(Event::Mremap {
                old: start,
                new: new_start,
                old_len: len,
                new_len,
            });
        }
        Ok(new_start)
    }

    fn shrink(&mut self, id: MappingId, new_len: u64) {
        let m = self.mapping_mut(id);
        let (start, len) = (m.start, m.len);
        m.len = new_len;
        let forgotten = m.pages.truncate(new_len / PAGE_SIZE);
        m.words.truncate(new_len / 8);
        self.rss_pages -= forgotten;
        self.vms -= len - new_len;
        self.release(start + new_len, len - new_len);
    }

    fn grow(&mut self, id: MappingId, new_len: u64) -> Result<u64, MemError> {
        let (start, len) = (self.mapping(id).start, self.mapping(id).len);
        let extra = new_len - len;
        let oom = MemError::OutOfMemory { requested: extra };
        if self.vms.saturating_add(extra) > self.limit {
            return Err(oom);
        }
        let end = start + len;
        let in_place = self.holes.get(&end).is_some_and(|&he| he - end >= extra);
        let new_start = if in_place {
            self.claim(end, extra);
            start
        } else {
            let new_start = self.unmapped_area(new_len).ok_or(oom)?;
            self.claim(new_start, new_len);
            self.by_start.remove(&start);
            self.by_start.insert(new_start, id);
            self.release(start, len);
            new_start
        };
        let m = self.mapping_mut(id);
        m.start = new_start;
        m.len = new_len;
        self.vms += extra;
        Ok(new_start)
    }

    /// `sbrk(increment)`: returns the old break. The heap may not grow into the mmap area.
    pub(crate) fn sbrk(&mut self, increment: i64) -> Result<u64, MemError> {
        let old = self.brk();
        let delta = increment.unsigned_abs();
        if increment > 0 {
            if old + delta > self.mmap_low || self.vms.saturating_add(delta) > self.limit {
                return Err(MemError::OutOfMemory { requested: delta });
            }
            let id = self.heap_mapping();
            self.mapping_mut(id).len += delta;
            self.vms += delta;
            self.trace.record(Event::Brk {
                old,
                new: old + delta,
            });
        } else if let (true, Some(id)) = (increment < 0, self.heap) {
            let new_len = self.mapping(id).len.saturating_sub(delta);
            self.trim_heap(id, new_len);
            self.trace.record(Event::Trim {
                old,
                new: self.brk(),
            });
        }
        Ok(old)
    }

    fn heap_mapping(&mut self) -> MappingId {
        if let Some(id) = self.heap {
            return id;
        }
        let id = self.insert(Mapping {
            start: HEAP_START,
            len: 0,
            kind: RegionKind::Heap,
            pages: PageSet::default(),
            words: WordStore::Dense(Vec::new()),
        });
        self.heap = Some(id);
        id
    }

    fn trim_heap(&mut self, id: MappingId, new_len: u64) {
        let m = self.mapping_mut(id);
        let released = m.len - new_len;
        m.len = new_len;
        let forgotten = m.pages.truncate(new_len.div_ceil(PAGE_SIZE));
        m.words.truncate(new_len.div_ceil(8));
        self.rss_pages -= forgotten;
        self.vms -= released;
    }

    /// The highest gap that fits `len` bytes, placing the mapping at its top.
    fn unmapped_area(&self, len: u64) -> Option<u64> {
        for (&start, &end) in self.holes.iter().rev() {
            if end - start >= len {
                return Some(end - len);
            }
        }
        let start = self.mmap_low.checked_sub(len)?;
        (start >= self.brk()).then_some(start)
    }

    /// Takes `start..start+len` out of the free space (a hole, or the area below `mmap_low`).
    fn claim(&mut self, start: u64, len: u64) {
        if start < self.mmap_low {
            self.mmap_low = start;
            return;
        }
        let Some((&hs, &he)) = self.holes.range(..=start).next_back() else {
            return;
        };
        self.holes.remove(&hs);
        if hs < start {
            self.holes.insert(hs, start);
        }
        if start + len < he {
            self.holes.insert(start + len, he);
        }
    }

    /// Gives `start..start+len` back to the free space, merging with neighbouring holes.
    fn release(&mut self, start: u64, len: u64) {
        let (mut s, mut e) = (start, start + len);
        if let Some((&hs, &he)) = self.holes.range(..s).next_back()
            && he == s
        {
            self.holes.remove(&hs);
            s = hs;
        }
        if let Some(he) = self.holes.remove(&e) {
            e = he;
        }
        if s == self.mmap_low {
            self.mmap_low = e;
        } else {
            self.holes.insert(s, e);
        }
    }

    /// The word at `addr`.
    pub(crate) fn read_word(&self, addr: u64) -> Result<u64, MemError> {
        let id = self.find_word(addr)?;
        Ok(self.read_word_in(id, addr))
    }

    /// The word at `addr`, which mapping `id` covers.
    pub(crate) fn read_word_in(&self, id: MappingId, addr: u64) -> u64 {
        let m = self.mapping(id);
        m.words.get(m.word_index(addr))
    }

    /// Writes the word at `addr` (the allocator decides first which mapping it is in).
    #[cfg(test)]
    pub(crate) fn write_word(&mut self, addr: u64, value: u64) -> Result<(), MemError> {
        let id = self.find_word(addr)?;
        self.write_word_in(id, addr, value);
        Ok(())
    }

    /// Writes the word at `addr`, which mapping `id` covers; its page becomes resident.
    pub(crate) fn write_word_in(&mut self, id: MappingId, addr: u64, value: u64) {
        let m = self.mapping_mut(id);
        let index = m.word_index(addr);
        m.words.set(index, value);
        self.touch_in(id, addr, 8);
    }

    fn find_word(&self, addr: u64) -> Result<MappingId, MemError> {
        if !addr.is_multiple_of(8) {
            return Err(MemError::Misaligned { addr });
        }
        self.find(addr).ok_or(MemError::Segfault { addr })
    }

    /// A write of `len` bytes at `addr` (contents not modelled): the pages become resident.
    pub(crate) fn touch(&mut self, addr: u64, len: u64) -> Result<(), MemError> {
        let end = addr.checked_add(len).ok_or(MemError::Segfault { addr })?;
        let mut at = addr;
        while at < end {
            let id = self.find(at).ok_or(MemError::Segfault { addr: at })?;
            let stop = end.min(self.mapping(id).end());
            self.touch_in(id, at, stop - at);
            at = stop;
        }
        Ok(())
    }

    /// [`touch`](Self::touch) within mapping `id`.
    pub(crate) fn touch_in(&mut self, id: MappingId, addr: u64, len: u64) {
        if len == 0 {
            return;
        }
        let m = self.mapping_mut(id);
        let first = (addr - m.start) / PAGE_SIZE;
        let last = (addr + len - 1 - m.start) / PAGE_SIZE;
        let newly = m.pages.touch(first, last);
        self.rss_pages += newly;
    }

    /// Whether the page holding `addr` is resident.
    pub(crate) fn is_resident(&self, addr: u64) -> bool {
        self.find(addr).is_some_and(|id| {
            let m = self.mapping(id);
            m.pages.contains((addr - m.start) / PAGE_SIZE)
        })
    }

    /// `memcpy(dst, src, len)` for word-aligned ranges, each inside one mapping. A partial last
    /// word is copied whole: contents are modelled in words, and every caller's blocks extend to
    /// a multiple of 8 bytes.
    pub(crate) fn copy(&mut self, src: u64, dst: u64, len: u64) -> Result<(), MemError> {
        if len == 0 {
            return Ok(());
        }
        let s = self.find_range(src, len)?;
        let d = self.find_range(dst, len)?;
        let words = len.div_ceil(8);
        let from = self.mapping(s).word_index(src);
        let contents = self.mapping(s).words.read_range(from, from + words);
        let m = self.mapping_mut(d);
        let to = m.word_index(dst);
        m.words.write_range(to, &contents);
        self.touch_in(d, dst, len);
        Ok(())
    }

    /// `memset(addr, 0, len)` within one mapping: the words are zeroed and the pages resident.
    pub(crate) fn zero(&mut self, addr: u64, len: u64) -> Result<(), MemError> {
        if len == 0 {
            return Ok(());
        }
        let id = self.find_range(addr, len)?;
        let m = self.mapping_mut(id);
        let from = m.word_index(addr);
        m.words.clear(from, from + len.div_ceil(8));
        self.touch_in(id, addr, len);
        Ok(())
    }

    fn find_range(&self, addr: u64, len: u64) -> Result<MappingId, MemError> {
        let id = self.find_word(addr)?;
        let end = self.mapping(id).end();
        if addr + len > end {
            return Err(MemError::Segfault { addr: end });
        }
        Ok(id)
    }

    /// Every live mapping, lowest address first.
    pub(crate) fn mappings(&self) -> impl Iterator<Item = &Mapping> {
        self.by_start.values().map(|&id| self.mapping(id))
    }

    /// The mappings as `/proc/self/maps` would list them, with their resident bytes.
    pub(crate) fn regions(&self) -> Vec<Region> {
        self.mappings()
            .filter(|m| m.len > 0)
            .map(|m| Region {
                start: m.start,
                len: m.len,
                kind: m.kind,
                resident: m.pages.count() * PAGE_SIZE,
            })
            .collect()
    }

    /// VMS and RSS counted afresh from the mappings, to check the running counters.
    #[cfg(test)]
    pub(crate) fn recount(&self) -> (u64, u64) {
        self.mappings().fold((0, 0), |(v, r), m| {
            (v + m.len, r + m.pages.count() * PAGE_SIZE)
        })
    }

    /// How many non-zero words the model stores, over all mappings (its own memory cost).
    #[cfg(test)]
    pub(crate) fn stored_words(&self) -> usize {
        self.mappings().map(|m| m.words.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> AddressSpace {
        AddressSpace::new(u64::MAX)
    }

    #[test]
    fn mmap_goes_top_down_and_reuses_the_highest_hole() {
        let mut vm = space();
        let (a, ida) = vm.mmap(1 << 20, RegionKind::Chunk).unwrap();
        let (b, _) = vm.mmap(1 << 20, RegionKind::Chunk).unwrap();
        let (c, _) = vm.mmap(8192, RegionKind::Chunk).unwrap();
        assert_eq!(a, MMAP_BASE - (1 << 20));
        assert_eq!(b, a - (1 << 20));
        assert_eq!(c, b - 8192);
        vm.munmap(ida);
        // A small mapping goes at the top of the hole a left.
        let (d, _) = vm.mmap(4096, RegionKind::Chunk).unwrap();
        assert_eq!(d, MMAP_BASE - 4096);
        assert_eq!(vm.vms(), (1 << 20) + 8192 + 4096);
    }

    #[test]
    fn holes_merge_and_give_back_the_bottom() {
        let mut vm = space();
        let ids: Vec<_> = (0..3)
            .map(|_| vm.mmap(4096, RegionKind::Chunk).unwrap().1)
            .collect();
        vm.munmap(ids[1]);
        vm.munmap(ids[2]);
        assert_eq!(vm.mmap_low, MMAP_BASE - 4096);
        assert!(vm.holes.is_empty());
        vm.munmap(ids[0]);
        assert_eq!(vm.mmap_low, MMAP_BASE);
        assert_eq!(vm.vms(), 0);
    }

    #[test]
    fn contents_read_zero_until_written_and_unmapped_is_a_segfault() {
        let mut vm = space();
        let (a, id) = vm.mmap(8192, RegionKind::Chunk).unwrap();
        assert_eq!(vm.read_word(a + 4096), Ok(0));
        assert_eq!(vm.rss(), 0);
        vm.write_word(a + 4096, 42).unwrap();
        assert_eq!(vm.read_word(a + 4096), Ok(42));
        assert_eq!(vm.rss(), 4096);
        assert_eq!(
            vm.read_word(a + 3),
            Err(MemError::Misaligned { addr: a + 3 })
        );
        vm.munmap(id);
        assert_eq!(vm.read_word(a), Err(MemError::Segfault { addr: a }));
        assert_eq!(vm.rss(), 0);
    }

    #[test]
    fn mremap_moves_contents_and_resident_pages() {
        let mut vm = space();
        let (a, ida) = vm.mmap(8192, RegionKind::Chunk).unwrap();
        vm.mmap(4096, RegionKind::Chunk).unwrap(); // below a: a cannot grow in place
        vm.write_word(a + 8, 7).unwrap();
        let moved = vm.mremap(ida, 3 * 4096).unwrap();
        assert_ne!(moved, a);
        assert_eq!(vm.read_word(moved + 8), Ok(7));
        assert!(vm.is_resident(moved) && !vm.is_resident(moved + 4096));
        assert_eq!(vm.read_word(a + 8), Err(MemError::Segfault { addr: a + 8 }));
        let shrunk = vm.mremap(ida, 4096).unwrap();
        assert_eq!(shrunk, moved);
        assert_eq!(vm.recount(), (vm.vms(), vm.rss()));
    }

    #[test]
    fn mremap_grows_in_place_into_a_hole_above() {
        let mut vm = space();
        let (_, top) = vm.mmap(4096, RegionKind::Chunk).unwrap();
        let (b, idb) = vm.mmap(4096, RegionKind::Chunk).unwrap();
        vm.munmap(top);
        assert_eq!(vm.mremap(idb, 8192), Ok(b));
        assert_eq!(vm.vms(), 8192);
    }

    #[test]
    fn brk_grows_and_trims_forgetting_contents() {
        let mut vm = space();
        assert_eq!(vm.sbrk(3 * 4096), Ok(HEAP_START));
        vm.write_word(HEAP_START + 2 * 4096, 5).unwrap();
        vm.touch(HEAP_START, 3 * 4096).unwrap();
        assert_eq!(vm.rss(), 3 * 4096);
        vm.sbrk(-4096).unwrap();
        assert_eq!(vm.brk(), HEAP_START + 2 * 4096);
        assert_eq!(vm.rss(), 2 * 4096);
        vm.sbrk(4096).unwrap();
        assert_eq!(vm.read_word(HEAP_START + 2 * 4096), Ok(0));
        assert_eq!(vm.recount(), (vm.vms(), vm.rss()));
    }

    #[test]
    fn a_limit_makes_mappings_fail_with_out_of_memory() {
        let mut vm = AddressSpace::new(8192);
        vm.mmap(8192, RegionKind::Chunk).unwrap();
        assert_eq!(
            vm.mmap(4096, RegionKind::Chunk),
            Err(MemError::OutOfMemory { requested: 4096 })
        );
        assert!(vm.sbrk(4096).is_err());
    }

    #[test]
    fn copy_moves_words_and_clears_the_rest() {
        let mut vm = space();
        let (a, _) = vm.mmap(8192, RegionKind::Chunk).unwrap();
        vm.write_word(a, 1).unwrap();
        vm.write_word(a + 16, 3).unwrap();
        vm.write_word(a + 4096 + 8, 9).unwrap();
        vm.copy(a, a + 4096, 24).unwrap();
        assert_eq!(vm.read_word(a + 4096), Ok(1));
        assert_eq!(vm.read_word(a + 4096 + 8), Ok(0));
        assert_eq!(vm.read_word(a + 4096 + 16), Ok(3));
        assert_eq!(vm.stored_words(), 4);
        assert!(vm.copy(a, a + 8000, 400).is_err());
    }
}
