//! Pools and blocks: `pymalloc_alloc`, `pymalloc_pool_extend`, `allocate_from_new_pool`,
//! `insert_to_usedpool`, `pymalloc_free`.
//!
//! A pool is `POOL_SIZE` bytes of one arena, holding blocks of one size class after a 48-byte
//! header (here a 16 KiB pool of class 3, 64-byte blocks):
//!
//! ```text
//!  pool (POOL_SIZE-aligned)
//!  +------------------------+ 0
//!  | pool_header            |  ref.count, freeblock, nextpool, prevpool,
//!  |                        |  arenaindex, szidx, nextoffset, maxnextoffset
//!  +------------------------+ 48 = POOL_OVERHEAD
//!  | block 0                |  handed out
//!  +------------------------+ 112
//!  | block 1  [link] -------+--> the next free block, or NULL: the freeblock list is
//!  +------------------------+    threaded through the free blocks' first words
//!  | ...                    |
//!  +------------------------+ nextoffset: the first block never carved
//!  | never carved           |
//!  +------------------------+ 48 + 254 * 64 = 16304: the last block's offset
//!  | last block             |  maxnextoffset = POOL_SIZE - 64 = 16320 falls in here: the
//!  |                        |  largest valid nextoffset, an upper bound on the last block's offset
//!  +------------------------+ 48 + 255 * 64 = 16368
//!  | lost to quantization   |  (POOL_SIZE - 48) % 64 = 16 bytes
//!  +------------------------+ 16384
//! ```
//!
//! Blocks are carved lazily: a new pool hands out block 0 and makes block 1 its free list, with
//! NULL written into block 1's first word; each time the free list runs dry,
//! `pymalloc_pool_extend` carves one more block the same way. A freed block goes to the front of
//! its pool's free list (LIFO): its first word gets the old head, so memory freed last is reused
//! first, while it is likely still in cache.
//!
//! A pool is *used* (in `usedpools[class]`, a circular doubly linked list), *full* (in no list),
//! or *empty* (in its arena's `freepools`, a singly linked list through `nextpool`).

use crate::error::MemError;
use crate::hash::AddrMap;
use crate::profile::{
    NB_SMALL_SIZE_CLASSES, POOL_OVERHEAD, SMALL_REQUEST_THRESHOLD, index2size, size_class,
};
use crate::trace::Event;
use crate::vm::MappingId;

use super::Allocator;

/// `DUMMY_SIZE_IDX`: the size class of a pool just carved from its arena.
pub(crate) const DUMMY_SIZE_IDX: u32 = 0xffff;

/// Where the model puts CPython's static `usedpools` array (the interpreter's data segment, which
/// the model does not map). Its addresses appear as `nextpool`/`prevpool` of the first and last
/// pool of each list.
pub const USEDPOOLS_ADDRESS: u64 = 0x5555_55a0_2d40;

/// `PTA(x)`: the fake pool header whose `nextpool` and `prevpool` are `usedpools[2x]` and
/// `usedpools[2x+1]` (a pool header's first two fields take 16 bytes).
pub(crate) const fn pta(class: u32) -> u64 {
    USEDPOOLS_ADDRESS + 16 * class as u64 - 16
}

/// If `addr` is `PTA(x)` for some class, the index `2x` of its `nextpool` in `usedpools`.
fn usedpools_slot(addr: u64) -> Option<usize> {
    let off = addr.checked_sub(pta(0))?;
    (off % 16 == 0 && off / 16 < NB_SMALL_SIZE_CLASSES as u64).then_some(2 * (off / 16) as usize)
}

/// Model bookkeeping CPython does not have: one bit per block, set while the block is handed
/// out, so a free of a never-allocated address is caught, and a double free, which C takes
/// without a word, is named in the trace. 1,024 bits cover the most blocks a pool holds (1,021 of 16 bytes).
#[derive(Clone, Debug, Default)]
pub(crate) struct BlockBits([u64; 16]);

impl BlockBits {
    pub(crate) fn get(&self, index: u32) -> bool {
        self.0[(index / 64) as usize] & (1 << (index % 64)) != 0
    }

    fn set(&mut self, index: u32, allocated: bool) {
        let word = &mut self.0[(index / 64) as usize];
        if allocated {
            *word |= 1 << (index % 64);
        } else {
            *word &= !(1 << (index % 64));
        }
    }
}

/// `struct pool_header`, kept in Rust rather than in the pool's first 48 bytes (reads of those
/// bytes are answered from it; writes are refused). Pointers are addresses.
#[derive(Clone, Debug)]
pub(crate) struct PoolHeader {
    /// `ref.count`: blocks handed out.
    pub(crate) count: u32,
    /// Head of the free list, or 0.
    pub(crate) freeblock: u64,
    pub(crate) nextpool: u64,
    pub(crate) prevpool: u64,
    pub(crate) arenaindex: u32,
    pub(crate) szidx: u32,
    /// Offset of the first never-carved block.
    pub(crate) nextoffset: u32,
    /// `POOL_SIZE - size`: the largest valid `nextoffset` (obmalloc.c), the highest offset at
    /// which one more whole block still fits. An upper bound on the last block's offset, not that
    /// offset itself (16320 for 64-byte blocks in a 16 KiB pool, whose last block is at 16304).
    pub(crate) maxnextoffset: u32,
    pub(crate) allocated: BlockBits,
    /// The first word of each free block: its free-list link, as [`LinkCode`]s by block index
    /// (missing entries are NULL). CPython writes the link into the block itself; the model
    /// keeps it here, two bytes a block, because a process that frees millions of blocks would
    /// otherwise store millions of words. Reads of a free block's first word are answered from
    /// it, as the header's words are from the fields above.
    pub(crate) links: Vec<LinkCode>,
}

/// A free-list link in two bytes: 0 is NULL, `i + 1` is block `i` of the same pool (every link
/// pymalloc writes is one of these), and [`RAW_LINK`] a value a client wrote over the link
/// after the free, kept in [`Allocator::raw_links`](super::Allocator) by block address.
pub(crate) type LinkCode = u16;

/// The [`LinkCode`] of a word written by a client into a freed block.
pub(crate) const RAW_LINK: LinkCode = LinkCode::MAX;

/// The fields of a pool header, one per 8-byte word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolField {
    /// Offset 0: `ref.count` (a `uint` in a pointer-sized union).
    RefCount,
    /// Offset 8: `freeblock`.
    FreeBlock,
    /// Offset 16: `nextpool`.
    NextPool,
    /// Offset 24: `prevpool`.
    PrevPool,
    /// Offset 32: `arenaindex`, then `szidx` in the high half.
    ArenaIndexAndSzidx,
    /// Offset 40: `nextoffset`, then `maxnextoffset` in the high half.
    NextOffsetAndMax,
}

impl PoolField {
    pub(crate) fn at(offset: u64) -> PoolField {
        match offset / 8 {
            0 => PoolField::RefCount,
            1 => PoolField::FreeBlock,
            2 => PoolField::NextPool,
            3 => PoolField::PrevPool,
            4 => PoolField::ArenaIndexAndSzidx,
            _ => PoolField::NextOffsetAndMax,
        }
    }
}

impl PoolHeader {
    /// The header written when a pool is carved off its arena.
    pub(crate) fn carved(arenaindex: u32) -> PoolHeader {
        PoolHeader {
            count: 0,
            freeblock: 0,
            nextpool: 0,
            prevpool: 0,
            arenaindex,
            szidx: DUMMY_SIZE_IDX,
            nextoffset: 0,
            maxnextoffset: 0,
            allocated: BlockBits::default(),
            links: Vec::new(),
        }
    }

    /// The header's word at `offset` (0..48), as it lies in memory (little-endian).
    pub(crate) fn word(&self, offset: u64) -> u64 {
        let pair = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
        match PoolField::at(offset) {
            PoolField::RefCount => u64::from(self.count),
            PoolField::FreeBlock => self.freeblock,
            PoolField::NextPool => self.nextpool,
            PoolField::PrevPool => self.prevpool,
            PoolField::ArenaIndexAndSzidx => pair(self.arenaindex, self.szidx),
            PoolField::NextOffsetAndMax => pair(self.nextoffset, self.maxnextoffset),
        }
    }

    /// The index of the block starting at `addr`, if it is a block this pool has carved.
    pub(crate) fn block_index(&self, pool: u64, addr: u64) -> Option<u32> {
        let off = addr.checked_sub(pool)?;
        let size = u64::from(index2size(self.szidx));
        let carved = off >= u64::from(POOL_OVERHEAD) && off < u64::from(self.nextoffset);
        if !carved {
            return None;
        }
        let rel = off - u64::from(POOL_OVERHEAD);
        let index = crate::profile::block_index(rel, size as u32);
        (index * size == rel).then_some(index as u32)
    }

    pub(crate) fn is_free_block(&self, pool: u64, addr: u64) -> bool {
        self.block_index(pool, addr)
            .is_some_and(|i| !self.allocated.get(i))
    }

    /// The code of block `index`'s link.
    pub(crate) fn link_code(&self, index: u32) -> LinkCode {
        self.links.get(index as usize).copied().unwrap_or(0)
    }

    /// Sets block `index`'s link code; NULL needs no room.
    pub(crate) fn set_link_code(&mut self, index: u32, code: LinkCode) {
        let i = index as usize;
        if i >= self.links.len() {
            if code == 0 {
                return;
            }
            self.links.resize(i + 1, 0);
        }
        self.links[i] = code;
    }

    /// The code of a link to `target`: NULL or a carved block of this pool; `None` for anything
    /// else (only a client writes such a value).
    pub(crate) fn encode_link(&self, pool: u64, target: u64) -> Option<LinkCode> {
        if target == 0 {
            return Some(0);
        }
        self.block_index(pool, target).map(|i| i as LinkCode + 1)
    }

    /// The address a link code stands for (not for [`RAW_LINK`]).
    pub(crate) fn decode_link(&self, pool: u64, code: LinkCode) -> u64 {
        match code {
            0 => 0,
            c => {
                pool + u64::from(POOL_OVERHEAD)
                    + u64::from(c - 1) * u64::from(index2size(self.szidx))
            }
        }
    }
}

/// The first word of free block `bp` of `ph`: its link, or what a client wrote over it.
pub(crate) fn link_word(raw_links: &AddrMap<u64>, ph: &PoolHeader, pool: u64, bp: u64) -> u64 {
    let Some(index) = ph.block_index(pool, bp) else {
        return 0;
    };
    match ph.link_code(index) {
        RAW_LINK => raw_links.get(&bp).copied().unwrap_or(0),
        code => ph.decode_link(pool, code),
    }
}

/// Reads the free-list link in `bp`, the head of `ph`'s list, as `*(block **)bp` does. CPython
/// trusts the head, whatever the last link it read said; so does the model, up to the head it
/// cannot hand out: one that is no free block of the pool (a client wrote over a link after the
/// free, or a block freed twice is in use again). C reads it and hands it out; the model stops
/// there, with [`MemError::CorruptFreeList`], which the caller turns into the segmentation
/// fault C meets when no mapping covers the head ([`Allocator::fault_if_unmapped`]).
fn checked_link(
    raw_links: &AddrMap<u64>,
    ph: &PoolHeader,
    pool: u64,
    bp: u64,
) -> Result<u64, MemError> {
    if bp == 0 {
        // Only a corrupted list leaves a used pool without a free block: C reads NULL.
        return Err(MemError::Segfault { addr: 0 });
    }
    if !ph.is_free_block(pool, bp) {
        return Err(MemError::CorruptFreeList { pool, link: bp });
    }
    Ok(link_word(raw_links, ph, pool, bp))
}

fn mark_allocated(ph: &mut PoolHeader, pool: u64, bp: u64) {
    if let Some(index) = ph.block_index(pool, bp) {
        ph.allocated.set(index, true);
    }
}

impl Allocator {
    /// Writes the first word of a free (or just carved) block `bp`: a link pymalloc writes, or a
    /// value a client writes after freeing the block.
    pub(crate) fn write_link(&mut self, mapping: MappingId, pool: u64, bp: u64, value: u64) {
        // The word is written: its page becomes resident, as in C.
        self.vm.touch_in(mapping, bp, 8);
        let ph = self
            .pools
            .get_mut(&pool)
            .expect("links are written in carved pools");
        if value == 0 && ph.links.is_empty() {
            // NULL in a pool that holds no link yet: every link already reads NULL. This is the
            // carving of a fresh block, on the allocation path.
            return;
        }
        let Some(index) = ph.block_index(pool, bp) else {
            return;
        };
        let old = ph.link_code(index);
        let code = ph.encode_link(pool, value).unwrap_or(RAW_LINK);
        ph.set_link_code(index, code);
        if code == RAW_LINK {
            self.raw_links.insert(bp, value);
        } else if old == RAW_LINK {
            self.raw_links.remove(&bp);
        }
    }

    /// `POOL_ADDR(P)`: the pool holding address `p`.
    pub(crate) fn pool_addr(&self, p: u64) -> u64 {
        p & !(self.profile.pool_size() - 1)
    }

    fn pool(&self, pool: u64) -> &PoolHeader {
        &self.pools[&pool]
    }

    fn pool_mut(&mut self, pool: u64) -> &mut PoolHeader {
        self.pools
            .get_mut(&pool)
            .expect("pool addresses in the lists have headers")
    }

    /// `p->nextpool`, for a pool or a `usedpools` list head.
    pub(super) fn nextpool(&self, p: u64) -> u64 {
        match usedpools_slot(p) {
            Some(slot) => self.usedpools[slot],
            None => self.pool(p).nextpool,
        }
    }

    pub(super) fn prevpool(&self, p: u64) -> u64 {
        match usedpools_slot(p) {
            Some(slot) => self.usedpools[slot + 1],
            None => self.pool(p).prevpool,
        }
    }

    pub(super) fn set_nextpool(&mut self, p: u64, value: u64) {
        match usedpools_slot(p) {
            Some(slot) => self.usedpools[slot] = value,
            None => self.pool_mut(p).nextpool = value,
        }
    }

    pub(super) fn set_prevpool(&mut self, p: u64, value: u64) {
        match usedpools_slot(p) {
            Some(slot) => self.usedpools[slot + 1] = value,
            None => self.pool_mut(p).prevpool = value,
        }
    }

    /// The mapping of the arena holding `pool`.
    fn pool_mapping(&self, pool: u64) -> MappingId {
        self.arenas[self.pool(pool).arenaindex as usize].mapping
    }

    /// `pymalloc_alloc`: a block, or `None` when pymalloc declines (0 bytes, more than 512, or
    /// no arena to be had) and the caller falls back to the raw allocator.
    pub(super) fn pymalloc_alloc(&mut self, nbytes: usize) -> Result<Option<u64>, MemError> {
        if nbytes == 0 || nbytes > SMALL_REQUEST_THRESHOLD {
            return Ok(None);
        }
        let size = size_class(nbytes);
        // usedpools[size+size] holds the list head's nextpool: the first used pool, or the head
        // itself when the list is empty.
        let pool = self.usedpools[2 * size as usize];
        // `pool != pool->nextpool`. Only the list head, PTA(size), is its own nextpool, and the
        // head lies in `usedpools`, never in an arena: telling it apart needs no header lookup.
        debug_assert_eq!(usedpools_slot(pool).is_none(), pool != self.nextpool(pool));
        if usedpools_slot(pool).is_none() {
            // There is a used pool for this size class. Pick up the head block of its free list.
            return self.allocate_from_used_pool(pool, size).map(Some);
        }
        let Some(bp) = self.allocate_from_new_pool(size)? else {
            return Ok(None);
        };
        self.hand_out(self.pool_addr(bp), bp);
        Ok(Some(bp))
    }

    /// The head block of a used pool's free list, extending the list if that empties it. One
    /// header lookup: this is the path almost every allocation takes.
    fn allocate_from_used_pool(&mut self, pool: u64, size: u32) -> Result<u64, MemError> {
        let ph = self.pools.get_mut(&pool).expect("used pools have headers");
        let mapping = self.arenas[ph.arenaindex as usize].mapping;
        let bp = ph.freeblock;
        let link = match checked_link(&self.raw_links, ph, pool, bp) {
            Ok(link) => link,
            Err(e) => return Err(self.fault_if_unmapped(e)),
        };
        ph.count += 1;
        ph.freeblock = link; // pool->freeblock = *(block **)bp
        mark_allocated(ph, pool, bp);
        // The link stays in the block's first word (see take_link), done here in place: this
        // is the path almost every allocation takes.
        if let Some(index) = ph.block_index(pool, bp) {
            if ph.link_code(index) == RAW_LINK {
                self.raw_links.remove(&bp);
            }
            ph.set_link_code(index, 0);
        }
        self.vm.write_word_in(mapping, bp, link);
        self.vm.touch_in(mapping, bp, u64::from(index2size(size)));
        if link == 0 {
            // Reached the end of the free list, try to extend it.
            self.pymalloc_pool_extend(mapping, pool, size);
        }
        Ok(bp)
    }

    /// `pool->freeblock = *(block **)bp`: unlinks the free list's head block and returns it.
    fn pop_freeblock(&mut self, pool: u64) -> Result<u64, MemError> {
        let ph = self
            .pools
            .get_mut(&pool)
            .expect("pools in lists have headers");
        let bp = ph.freeblock;
        let link = match checked_link(&self.raw_links, ph, pool, bp) {
            Ok(link) => link,
            Err(e) => return Err(self.fault_if_unmapped(e)),
        };
        ph.freeblock = link;
        self.take_link(pool, bp, link);
        Ok(bp)
    }

    /// A free-list head that no mapping covers is read by C all the same: the segmentation
    /// fault, at that address.
    fn fault_if_unmapped(&self, e: MemError) -> MemError {
        match e {
            MemError::CorruptFreeList { link, .. }
                if !link.is_multiple_of(8) || self.vm.find(link).is_none() =>
            {
                MemError::Segfault { addr: link }
            }
            e => e,
        }
    }

    /// A block leaves the free list: its link stays in its first word, as in C, where the new
    /// owner finds it until it writes there.
    fn take_link(&mut self, pool: u64, bp: u64, link: u64) {
        let mapping = self.pool_mapping(pool);
        let ph = self.pool_mut(pool);
        if let Some(index) = ph.block_index(pool, bp) {
            if ph.link_code(index) == RAW_LINK {
                self.raw_links.remove(&bp);
            }
            self.pool_mut(pool).set_link_code(index, 0);
        }
        self.vm.write_word_in(mapping, bp, link);
    }

    /// The free list's head, if it and the link in it are sound.
    fn peek_freeblock(&self, pool: u64) -> Result<u64, MemError> {
        let ph = self.pool(pool);
        checked_link(&self.raw_links, ph, pool, ph.freeblock)
            .map_err(|e| self.fault_if_unmapped(e))?;
        Ok(ph.freeblock)
    }

    /// Model bookkeeping for a block being returned: its bit, and its pages resident (the caller
    /// is about to initialise the object it asked for).
    fn hand_out(&mut self, pool: u64, bp: u64) {
        let mapping = self.pool_mapping(pool);
        let ph = self.pool_mut(pool);
        mark_allocated(ph, pool, bp);
        let size = index2size(ph.szidx);
        self.vm.touch_in(mapping, bp, u64::from(size));
    }

    /// `pymalloc_pool_extend`: called when the free list is exhausted. Carves one more block if
    /// the pool has room (writing NULL into its first word: it ends the list), else the pool is
    /// full and leaves `usedpools`.
    fn pymalloc_pool_extend(&mut self, mapping: MappingId, pool: u64, size: u32) {
        let ph = self.pool_mut(pool);
        if ph.nextoffset <= ph.maxnextoffset {
            // There is room for another block.
            ph.freeblock = pool + u64::from(ph.nextoffset);
            ph.nextoffset += index2size(size);
            let freeblock = ph.freeblock;
            // *(block **)(pool->freeblock) = NULL
            self.write_link(mapping, pool, freeblock, 0);
            return;
        }
        // Pool is full, unlink from used pools.
        let next = self.nextpool(pool);
        let prev = self.prevpool(pool);
        self.set_prevpool(next, prev);
        self.set_nextpool(prev, next);
        self.vm.trace.record(Event::PoolFull {
            address: pool,
            class: size,
        });
    }

    /// `allocate_from_new_pool`: no used pool of this class, so take a free pool from the
    /// first usable arena (mapping a new arena if there is none), link it into `usedpools`, and
    /// return its first free block.
    fn allocate_from_new_pool(&mut self, size: u32) -> Result<Option<u64>, MemError> {
        if self.usable_arenas.is_none() {
            // No arena has a free pool: allocate a new arena.
            let Some(a) = self.new_arena()? else {
                return Ok(None);
            };
            self.usable_arenas = Some(a);
            self.arenas[a].nextarena = None;
            self.arenas[a].prevarena = None;
            let nfp = self.arenas[a].nfreepools as usize;
            self.nfp2lasta[nfp] = Some(a);
        }
        let Some(ua) = self.usable_arenas else {
            return Ok(None);
        };
        let cached = self.arenas[ua].freepools;
        if cached != 0 && self.pool(cached).szidx == size {
            self.peek_freeblock(cached)?; // check before any list is touched
        }
        // This arena already had the smallest nfreepools value, so decreasing nfreepools doesn't
        // change that, and we don't need to rearrange the usable_arenas list. However, if the
        // arena becomes wholly allocated, we need to remove its arena_object from usable_arenas.
        let nfp = self.arenas[ua].nfreepools as usize;
        if self.nfp2lasta[nfp] == Some(ua) {
            // It's the last of this size, so there won't be any.
            self.nfp2lasta[nfp] = None;
        }
        // If any free pools will remain, it will be the new smallest.
        if nfp > 1 {
            self.nfp2lasta[nfp - 1] = Some(ua);
        }
        let pool = if cached != 0 {
            // Unlink from cached pools.
            self.arenas[ua].freepools = self.pool(cached).nextpool;
            cached
        } else {
            self.carve_pool(ua)
        };
        self.arenas[ua].nfreepools -= 1;
        if self.arenas[ua].nfreepools == 0 {
            // Wholly allocated: unlink the arena.
            self.usable_arenas = self.arenas[ua].nextarena;
            if let Some(next) = self.usable_arenas {
                self.arenas[next].prevarena = None;
            }
        }
        self.frontlink(pool, size);
        self.init_pool(pool, size).map(Some)
    }

    /// Carves a new pool off the arena's highwater mark, `pool_address`.
    fn carve_pool(&mut self, ua: usize) -> u64 {
        let pool = self.arenas[ua].pool_address;
        self.pools.insert(pool, PoolHeader::carved(ua as u32));
        let mapping = self.arenas[ua].mapping;
        self.vm.touch_in(mapping, pool, u64::from(POOL_OVERHEAD));
        self.arenas[ua].pool_address += self.profile.pool_size();
        pool
    }

    /// Frontlink to used pools: the list was empty, so `next` is the head itself.
    fn frontlink(&mut self, pool: u64, size: u32) {
        let next = self.usedpools[2 * size as usize]; // == prev
        self.set_nextpool(pool, next);
        self.set_prevpool(pool, next);
        self.set_nextpool(next, pool);
        self.set_prevpool(next, pool);
        self.pool_mut(pool).count = 1;
    }

    /// Returns the pool's first free block, initialising the header unless the pool last held
    /// blocks of this same class (then its header and free list are still valid).
    fn init_pool(&mut self, pool: u64, size: u32) -> Result<u64, MemError> {
        if self.pool(pool).szidx == size {
            self.vm.trace.record(Event::PoolReused {
                address: pool,
                class: size,
            });
            return self.pop_freeblock(pool);
        }
        // Initialize the pool header, set up the free list to contain just the second block,
        // and return the first block.
        let mapping = self.pool_mapping(pool);
        let pool_size = self.profile.pool_size() as u32;
        let block = index2size(size);
        let ph = self.pool_mut(pool);
        ph.szidx = size;
        let bp = pool + u64::from(POOL_OVERHEAD);
        ph.nextoffset = POOL_OVERHEAD + (block << 1);
        ph.maxnextoffset = pool_size - block;
        ph.freeblock = bp + u64::from(block);
        ph.links.clear();
        let freeblock = ph.freeblock;
        if !self.raw_links.is_empty() {
            let pool_size = self.profile.pool_size();
            self.raw_links.retain(|&a, _| a & !(pool_size - 1) != pool);
        }
        self.vm.touch_in(mapping, pool, u64::from(POOL_OVERHEAD));
        // *(block **)(pool->freeblock) = NULL
        self.write_link(mapping, pool, freeblock, 0);
        self.vm.trace.record(Event::PoolInit {
            address: pool,
            class: size,
        });
        Ok(bp)
    }

    /// `insert_to_usedpool`: a full pool got a block back. `usedpools[size+size]` is the list's
    /// first pool (or the head, when empty); the pool goes in before it, at the front, so the
    /// next allocation of this class reuses the block just freed: `prev <-> pool <-> next`.
    fn insert_to_usedpool(&mut self, pool: u64) {
        let size = self.pool(pool).szidx;
        let next = self.usedpools[2 * size as usize];
        let prev = self.prevpool(next);
        self.set_nextpool(pool, next);
        self.set_prevpool(pool, prev);
        self.set_prevpool(next, pool);
        self.set_nextpool(prev, pool);
        self.vm.trace.record(Event::PoolUsed {
            address: pool,
            class: size,
        });
    }

    /// `pymalloc_free`: `Ok(false)` if pymalloc did not allocate `p` (the caller then frees it
    /// with the raw allocator).
    pub(super) fn pymalloc_free(&mut self, p: u64) -> Result<bool, MemError> {
        let pool = self.pool_addr(p);
        if !self.address_in_range(p, pool)? {
            return Ok(false);
        }
        // We allocated this address.
        let Some(ph) = self.pools.get_mut(&pool) else {
            return Err(MemError::InvalidFree { addr: p });
        };
        // C trusts `p`: a block freed twice is linked in again, to its own link when it is
        // still the head (then the next two allocations hand it out twice), and the count
        // goes down again (`ref.count` is a `uint`: it wraps below 0).
        let Some(index) = ph.block_index(pool, p) else {
            return Err(MemError::InvalidFree { addr: p });
        };
        let again = !ph.allocated.get(index);
        // Link p to the start of the pool's freeblock list.
        let lastfree = ph.freeblock;
        ph.freeblock = p;
        ph.count = ph.count.wrapping_sub(1);
        ph.allocated.set(index, false);
        let count = ph.count;
        let mapping = self.arenas[self.pools[&pool].arenaindex as usize].mapping;
        self.write_link(mapping, pool, p, lastfree); // *(block **)p = lastfree
        if again {
            self.vm.trace.record(Event::FreedAgain {
                address: p,
                link: lastfree,
            });
        }
        if lastfree == 0 {
            // Pool was full, so doesn't currently live in any list: link it back in.
            self.insert_to_usedpool(pool);
            return Ok(true);
        }
        if count != 0 {
            // Pool isn't empty: leave it in usedpools.
            return Ok(true);
        }
        // Pool is now empty: unlink from usedpools, and link to the front of freepools.
        self.insert_to_freepool(pool);
        Ok(true)
    }

    /// Model bookkeeping: the index of the allocated block starting at `p`, or why not.
    pub(super) fn allocated_block(&self, pool: u64, p: u64) -> Result<u32, MemError> {
        match self.pools.get(&pool) {
            Some(ph) => allocated_index(ph, pool, p),
            None => Err(MemError::InvalidFree { addr: p }),
        }
    }
}

/// The index of the allocated block of `ph` starting at `p`, or why it is not one.
fn allocated_index(ph: &PoolHeader, pool: u64, p: u64) -> Result<u32, MemError> {
    match ph.block_index(pool, p) {
        None => Err(MemError::InvalidFree { addr: p }),
        Some(i) if !ph.allocated.get(i) => Err(MemError::DoubleFree { addr: p }),
        Some(i) => Ok(i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    #[test]
    fn usedpools_heads_point_at_themselves() {
        let a = Allocator::new(Profile::CPYTHON_3_12);
        for class in 0..32 {
            let head = pta(class);
            assert_eq!(a.nextpool(head), head);
            assert_eq!(a.prevpool(head), head);
            assert_eq!(usedpools_slot(head), Some(2 * class as usize));
        }
        assert_eq!(usedpools_slot(pta(0) + 8), None);
        assert_eq!(usedpools_slot(pta(32)), None);
    }

    #[test]
    fn a_new_pool_hands_out_block_zero_and_carves_block_one() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        let p = a.object_malloc(64).unwrap();
        let pool = a.pool_addr(p);
        assert_eq!(p, pool + 48);
        let ph = a.pool(pool);
        assert_eq!((ph.count, ph.szidx), (1, 3));
        assert_eq!(ph.freeblock, pool + 48 + 64);
        assert_eq!(ph.nextoffset, 48 + 128);
        assert_eq!(ph.maxnextoffset, 16384 - 64);
        assert_eq!(a.usedpools[6], pool, "the pool heads usedpools[3]");
        assert_eq!(ph.nextpool, pta(3));
        assert_eq!(ph.prevpool, pta(3));
    }

    #[test]
    fn a_pool_fills_leaves_usedpools_and_comes_back_at_the_front() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        let blocks: Vec<u64> = (0..255).map(|_| a.object_malloc(64).unwrap()).collect();
        let pool = a.pool_addr(blocks[0]);
        assert!(blocks.iter().all(|&b| a.pool_addr(b) == pool));
        assert_eq!(a.pool(pool).freeblock, 0);
        assert_eq!(a.usedpools[6], pta(3), "a full pool is in no list");
        let second = a.object_malloc(64).unwrap();
        let pool2 = a.pool_addr(second);
        a.object_free(blocks[7]).unwrap();
        // pool goes in before pool2, the first pool: at the front.
        assert_eq!(a.usedpools[6], pool);
        assert_eq!(a.nextpool(pool), pool2);
        assert_eq!(a.nextpool(pool2), pta(3));
        assert_eq!(
            a.usedpools[7], pool2,
            "the head's prevpool is the last pool"
        );
        assert_eq!(a.object_malloc(64), Ok(blocks[7]));
    }

    #[test]
    fn freed_blocks_come_back_last_in_first_out() {
        let mut a = Allocator::new(Profile::CPYTHON_3_10);
        let b: Vec<u64> = (0..4).map(|_| a.object_malloc(32).unwrap()).collect();
        a.object_free(b[1]).unwrap();
        a.object_free(b[2]).unwrap();
        assert_eq!(a.object_malloc(32), Ok(b[2]));
        assert_eq!(a.object_malloc(32), Ok(b[1]));
        assert_eq!(
            a.object_malloc(32),
            Ok(b[3] + 32),
            "then the next virgin block"
        );
    }

    #[test]
    fn a_block_freed_from_a_full_pool_links_to_null() {
        let mut a = Allocator::new(Profile::CPYTHON_3_12);
        let blocks: Vec<u64> = (0..255).map(|_| a.object_malloc(64).unwrap()).collect();
        a.write_word(blocks[10], 0xdead).unwrap();
        a.object_free(blocks[10]).unwrap();
        assert_eq!(
            a.read_word(blocks[10]),
            Ok(0),
            "the pool's freeblock was NULL"
        );
        a.object_free(blocks[20]).unwrap();
        assert_eq!(a.read_word(blocks[20]), Ok(blocks[10]));
    }

    #[test]
    fn a_block_freed_from_a_used_pool_links_to_the_old_head() {
        let mut a = Allocator::new(Profile::CPYTHON_3_12);
        let p = a.object_malloc(100).unwrap();
        let pool = a.pool_addr(p);
        let head = a.pool(pool).freeblock;
        assert_ne!(head, 0);
        a.object_free(p).unwrap();
        assert_eq!(a.read_word(p), Ok(head));
        assert_eq!(a.read_word(pool + 8), Ok(p), "the header's freeblock word");
    }

    #[test]
    fn a_free_of_no_block_is_reported_not_corrupting() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        let p = a.object_malloc(64).unwrap();
        let q = a.object_malloc(64).unwrap();
        a.object_free(p).unwrap();
        assert_eq!(
            a.object_free(q + 16),
            Err(MemError::InvalidFree { addr: q + 16 })
        );
        let pool = a.pool_addr(q);
        assert_eq!(
            a.object_free(pool),
            Err(MemError::InvalidFree { addr: pool })
        );
        let virgin = q + 64 * 5;
        assert_eq!(
            a.object_free(virgin),
            Err(MemError::InvalidFree { addr: virgin })
        );
        assert_eq!(a.object_malloc(64), Ok(p));
    }

    #[test]
    fn a_block_freed_twice_is_linked_in_twice_as_in_c() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        let p = a.object_malloc(64).unwrap();
        let q = a.object_malloc(64).unwrap();
        let pool = a.pool_addr(p);
        a.object_free(p).unwrap();
        a.object_free(q).unwrap();
        a.vm.trace.set(true);
        // p is free, q heads the list: p goes in front of q, and the pool's count wraps.
        assert_eq!(a.object_free(p), Ok(()));
        assert_eq!(a.read_word(p), Ok(q));
        assert_eq!(a.pool(pool).freeblock, p);
        assert_eq!(a.pool(pool).count, u32::MAX, "ref.count-- of a uint at 0");
        assert_eq!(
            a.vm.trace.take()[0],
            Event::FreedAgain {
                address: p,
                link: q
            }
        );
        // The list now reads p, q, p, ...: C hands p out, then q, then p again while it is in
        // use. The model stops there, where one block would have two owners.
        assert_eq!(a.object_malloc(64), Ok(p));
        assert_eq!(a.object_malloc(64), Ok(q));
        assert_eq!(
            a.object_malloc(64),
            Err(MemError::CorruptFreeList { pool, link: p })
        );
    }

    #[test]
    fn a_link_overwritten_after_the_free_is_followed_as_in_c() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        let p = a.object_malloc(64).unwrap();
        let q = a.object_malloc(64).unwrap();
        a.object_free(p).unwrap();
        // A wild link: p comes out, then C reads the word at the link, which no mapping covers.
        a.write_word(p, 0x1234_5678).unwrap();
        assert_eq!(a.object_malloc(64), Ok(p));
        assert_eq!(
            a.object_malloc(64),
            Err(MemError::Segfault { addr: 0x1234_5678 })
        );
        // A link to a block in use: C would hand q out a second time; the model stops there.
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        let p = a.object_malloc(64).unwrap();
        assert_eq!(a.object_malloc(64), Ok(q));
        a.object_free(p).unwrap();
        a.write_word(p, q).unwrap();
        assert_eq!(a.object_malloc(64), Ok(p));
        let pool = a.pool_addr(q);
        assert_eq!(
            a.object_malloc(64),
            Err(MemError::CorruptFreeList { pool, link: q })
        );
    }

    #[test]
    fn a_cut_free_list_makes_the_pool_carve_more() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        let b: Vec<u64> = (0..3).map(|_| a.object_malloc(64).unwrap()).collect();
        a.object_free(b[0]).unwrap();
        a.object_free(b[1]).unwrap();
        // Cut the list after b[1]: b[0], and block 3 that was carved but never handed out, leak
        // as they would in C; the pool carves on from block 4.
        a.write_word(b[1], 0).unwrap();
        assert_eq!(a.object_malloc(64), Ok(b[1]));
        assert_eq!(a.object_malloc(64), Ok(b[2] + 128));
    }

    #[test]
    fn pool_header_words_read_back_and_refuse_writes() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        let p = a.object_malloc(64).unwrap();
        let pool = a.pool_addr(p);
        assert_eq!(a.read_word(pool), Ok(1));
        assert_eq!(a.read_word(pool + 32), Ok(3 << 32));
        assert_eq!(a.read_word(pool + 40), Ok(176 | ((16384 - 64) << 32)));
        assert_eq!(
            a.write_word(pool + 8, 0),
            Err(MemError::Metadata { addr: pool + 8 })
        );
    }
}
