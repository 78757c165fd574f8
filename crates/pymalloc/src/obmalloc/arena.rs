//! Arenas: `new_arena`, `insert_to_freepool` (with the release of a wholly free arena), and
//! `address_in_range`.
//!
//! An arena is `ARENA_SIZE` bytes from one `mmap`. Pools must be `POOL_SIZE`-aligned, and mmap
//! only promises 4 KiB alignment, so on 3.10+ (16 KiB pools) an arena usually loses one pool,
//! split between its two ends:
//!
//! ```text
//!  address (4 KiB-aligned)                                         address + ARENA_SIZE
//!  +------+---------+---------+---------+-- ... --+---------+-------+
//!  | lost | pool 0  | pool 1  | pool 2  |         | pool 62 | lost  |   ntotalpools = 63
//!  +------+---------+---------+---------+-- ... --+---------+-------+
//!         ^ first POOL_SIZE-aligned address
//!                             ^ pool_address: the next pool to carve ("highwater mark");
//!                               pools from here on were never touched
//! ```
//!
//! `arenas` is a vector of `arena_object`s (allocated with `PyMem_RawRealloc`: 16 at first, then
//! doubling). An object whose `address` is 0 has no arena and sits on `unused_arena_objects`. An
//! arena with free pools sits on `usable_arenas`, a doubly linked list kept sorted by
//! `nfreepools`, fullest first, so allocations fill nearly full arenas and nearly empty ones get
//! a chance to become empty and be released. `nfp2lasta[n]` is the last arena on that list with
//! `n` free pools, so keeping the order costs O(1) (bpo-37029, 3.8).

use crate::error::MemError;
use crate::profile::POOL_OVERHEAD;
use crate::trace::Event;
use crate::vm::{MappingId, RegionKind};

use super::Allocator;

/// `INITIAL_ARENA_OBJECTS`.
pub(crate) const INITIAL_ARENA_OBJECTS: usize = 16;
/// `offsetof(struct pool_header, arenaindex)`: after `ref`, `freeblock`, `nextpool`, `prevpool`.
const ARENAINDEX_OFFSET: u64 = 32;
/// `sizeof(struct arena_object)` on 64-bit: the size of the `arenas` vector's entries.
pub(crate) const SIZEOF_ARENA_OBJECT: u64 = 48;

/// `struct arena_object`. Pointers into `arenas` are indices.
#[derive(Clone, Debug)]
pub(crate) struct ArenaObject {
    /// The arena's base address, or 0 when no arena is associated.
    pub(crate) address: u64,
    /// Pool-aligned address of the next pool to be carved off.
    pub(crate) pool_address: u64,
    /// Free pools plus never-carved pools.
    pub(crate) nfreepools: u32,
    /// All pools, whether or not available.
    pub(crate) ntotalpools: u32,
    /// Head of the singly linked list of free pools (through `nextpool`), or 0.
    pub(crate) freepools: u64,
    pub(crate) nextarena: Option<usize>,
    pub(crate) prevarena: Option<usize>,
    /// Model: the mapping holding the arena's memory.
    pub(crate) mapping: MappingId,
}

impl ArenaObject {
    fn unassociated(nextarena: Option<usize>) -> ArenaObject {
        ArenaObject {
            address: 0,
            pool_address: 0,
            nfreepools: 0,
            ntotalpools: 0,
            freepools: 0,
            nextarena,
            prevarena: None,
            mapping: 0,
        }
    }
}

impl Allocator {
    /// `new_arena`: an arena_object with a freshly mapped arena, or `None` if memory ran out.
    /// The caller links it into `usable_arenas`.
    pub(super) fn new_arena(&mut self) -> Result<Option<usize>, MemError> {
        if self.unused_arena_objects.is_none() && !self.grow_arena_objects()? {
            return Ok(None);
        }
        // Take the next available arena object off the head of the list.
        let Some(a) = self.unused_arena_objects else {
            return Ok(None);
        };
        self.unused_arena_objects = self.arenas[a].nextarena;
        let arena_size = self.profile.arena_size();
        let address = match self.vm.mmap(arena_size, RegionKind::Arena(a)) {
            Ok((address, mapping)) if self.arena_map_mark_used(address, true)? => {
                self.arenas[a].mapping = mapping;
                address
            }
            mapped => {
                // The allocation failed (or marking the arena map did): put the object back.
                if let Ok((_, mapping)) = mapped {
                    self.vm.munmap(mapping);
                }
                self.arenas[a].nextarena = self.unused_arena_objects;
                self.unused_arena_objects = Some(a);
                return Ok(None);
            }
        };
        self.narenas_currently_allocated += 1;
        self.ntimes_arena_allocated += 1;
        self.narenas_highwater = self.narenas_highwater.max(self.narenas_currently_allocated);
        // pool_address <- first pool-aligned address in the arena
        // nfreepools <- number of whole pools that fit after alignment
        let pool_size = self.profile.pool_size();
        let ao = &mut self.arenas[a];
        ao.address = address;
        ao.freepools = 0;
        ao.pool_address = address;
        ao.nfreepools = self.profile.max_pools_in_arena();
        let excess = address & (pool_size - 1);
        if excess != 0 {
            ao.nfreepools -= 1;
            ao.pool_address += pool_size - excess;
        }
        ao.ntotalpools = ao.nfreepools;
        self.vm.trace.record(Event::ArenaNew { index: a, address });
        Ok(Some(a))
    }

    /// Doubles the `arenas` vector (16 entries at first) with `PyMem_RawRealloc`, putting the
    /// new entries on `unused_arena_objects`. `false` if the realloc failed.
    fn grow_arena_objects(&mut self) -> Result<bool, MemError> {
        let maxarenas = self.arenas.len();
        let numarenas = if maxarenas > 0 {
            maxarenas << 1
        } else {
            INITIAL_ARENA_OBJECTS
        };
        if numarenas > u32::MAX as usize {
            return Ok(false); // overflow of the uint maxarenas
        }
        let nbytes = numarenas as u64 * SIZEOF_ARENA_OBJECT;
        let address = match self.libc.realloc(&mut self.vm, self.arenas_address, nbytes) {
            Ok(address) => address,
            Err(MemError::OutOfMemory { .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        self.arenas_address = address;
        // Put the new arenas on the unused_arena_objects list (writing every new entry).
        for i in maxarenas..numarenas {
            let next = (i < numarenas - 1).then_some(i + 1);
            self.arenas.push(ArenaObject::unassociated(next));
        }
        let first_new = address + maxarenas as u64 * SIZEOF_ARENA_OBJECT;
        self.vm
            .touch(first_new, nbytes - maxarenas as u64 * SIZEOF_ARENA_OBJECT)?;
        self.unused_arena_objects = Some(maxarenas);
        self.vm.trace.record(Event::ArenaObjectsGrown {
            from: maxarenas,
            to: numarenas,
            address,
        });
        Ok(true)
    }

    /// `insert_to_freepool`: the pool's last block was freed. Move the pool from `usedpools` to
    /// its arena's `freepools`, then manage the arena: release it if wholly free (3.9+: unless
    /// it is the last of `usable_arenas`), put it back on `usable_arenas` if this is its only
    /// free pool, or slide it right to keep the list sorted.
    pub(super) fn insert_to_freepool(&mut self, pool: u64) {
        let (next, prev) = (self.nextpool(pool), self.prevpool(pool));
        self.set_prevpool(next, prev);
        self.set_nextpool(prev, next);
        // Link the pool to freepools. This is a singly-linked list, and pool->prevpool isn't
        // used there.
        let ao = self.pools[&pool].arenaindex as usize;
        let freepools = self.arenas[ao].freepools;
        self.set_nextpool(pool, freepools);
        self.arenas[ao].freepools = pool;
        let class = self.pools[&pool].szidx;
        self.vm.trace.record(Event::PoolEmpty {
            address: pool,
            class,
        });
        let nf = self.arenas[ao].nfreepools as usize;
        // If this is the rightmost arena with this number of free pools, nfp2lasta[nf] needs
        // to change. Caution: if nf is 0, there are no arenas in usable_arenas with that value.
        let lastnf = self.nfp2lasta[nf];
        if lastnf == Some(ao) {
            let p = self.arenas[ao].prevarena;
            self.nfp2lasta[nf] = p.filter(|&p| self.arenas[p].nfreepools as usize == nf);
        }
        let nf = nf + 1;
        self.arenas[ao].nfreepools = nf as u32;
        let wholly_free = nf == self.arenas[ao].ntotalpools as usize;
        if wholly_free && (!self.profile.keeps_empty_arena() || self.arenas[ao].nextarena.is_some())
        {
            // Case 1. Return the arena to the system.
            self.release_arena(ao);
            return;
        }
        if wholly_free {
            // Keeping one wholly free arena at the end of the list avoids pathological cases
            // where a simple loop would otherwise map and unmap an arena on every iteration.
            let address = self.arenas[ao].address;
            self.vm
                .trace
                .record(Event::ArenaKept { index: ao, address });
        }
        if nf == 1 {
            // Case 2. Put ao at the head of usable_arenas: ao->nfreepools was 0 before, so ao
            // isn't currently on the list.
            self.arenas[ao].nextarena = self.usable_arenas;
            self.arenas[ao].prevarena = None;
            if let Some(head) = self.usable_arenas {
                self.arenas[head].prevarena = Some(ao);
            }
            self.usable_arenas = Some(ao);
            if self.nfp2lasta[1].is_none() {
                self.nfp2lasta[1] = Some(ao);
            }
            return;
        }
        // If this is the only arena with nf, record that.
        if self.nfp2lasta[nf].is_none() {
            self.nfp2lasta[nf] = Some(ao);
        }
        // Case 4: if this was the rightmost of the old size, it remains in place.
        let Some(lastnf) = lastnf.filter(|&l| l != ao) else {
            return;
        };
        self.slide_after(ao, lastnf);
    }

    /// Case 3: ao has more free pools than the arena to its right. Unlink it and insert it
    /// after `lastnf`, the last arena with its old count.
    fn slide_after(&mut self, ao: usize, lastnf: usize) {
        self.unlink_usable(ao);
        // And insert after lastnf.
        self.arenas[ao].prevarena = Some(lastnf);
        self.arenas[ao].nextarena = self.arenas[lastnf].nextarena;
        if let Some(n) = self.arenas[ao].nextarena {
            self.arenas[n].prevarena = Some(ao);
        }
        self.arenas[lastnf].nextarena = Some(ao);
    }

    /// Takes `ao` out of `usable_arenas`: fixes the pointer in the prevarena (or `usable_arenas`
    /// itself when ao is the head) and in the nextarena. ao's own links are left for the caller.
    fn unlink_usable(&mut self, ao: usize) {
        let (prev, next) = (self.arenas[ao].prevarena, self.arenas[ao].nextarena);
        match prev {
            Some(p) => self.arenas[p].nextarena = next,
            None => self.usable_arenas = next,
        }
        if let Some(n) = next {
            self.arenas[n].prevarena = prev;
        }
    }

    /// Case 1 of `insert_to_freepool`: unlink `ao` from `usable_arenas`, put the object on
    /// `unused_arena_objects`, unmark the arena map and unmap the arena.
    fn release_arena(&mut self, ao: usize) {
        self.unlink_usable(ao);
        // Record that this arena_object slot is available to be reused.
        self.arenas[ao].nextarena = self.unused_arena_objects;
        self.unused_arena_objects = Some(ao);
        let address = self.arenas[ao].address;
        // Unmarking only clears slots of nodes that exist, so it cannot fail.
        let _unmarked = self.arena_map_mark_used(address, false);
        self.forget_pools(ao);
        self.vm.munmap(self.arenas[ao].mapping);
        self.arenas[ao].address = 0; // mark unassociated
        self.narenas_currently_allocated -= 1;
        self.vm
            .trace
            .record(Event::ArenaFreed { index: ao, address });
    }

    /// The headers of an unmapped arena's pools went with its memory.
    fn forget_pools(&mut self, ao: usize) {
        if !self.raw_links.is_empty() {
            let (start, len) = (self.arenas[ao].address, self.profile.arena_size());
            self.raw_links
                .retain(|&a, _| !(start..start + len).contains(&a));
        }
        let mut pool = self.first_pool(ao);
        while pool < self.arenas[ao].pool_address {
            self.pools.remove(&pool);
            pool += self.profile.pool_size();
        }
    }

    /// The first pool-aligned address of arena `ao`.
    pub(crate) fn first_pool(&self, ao: usize) -> u64 {
        let pool_size = self.profile.pool_size();
        self.arenas[ao].address.div_ceil(pool_size) * pool_size
    }

    /// Whether `p` lies in a block of a pool that pymalloc has carved, in an arena still mapped.
    /// The model's exact answer, with no memory read: CPython's `address_in_range` reads
    /// whatever lies at the would-be pool header before 3.10.
    pub fn is_pymalloc_address(&self, p: u64) -> bool {
        let pool = self.pool_addr(p);
        self.pools.get(&pool).is_some_and(|ph| {
            let arena = &self.arenas[ph.arenaindex as usize];
            arena.address != 0
                && p.wrapping_sub(arena.address) < self.profile.arena_size()
                && p - pool >= u64::from(POOL_OVERHEAD)
        })
    }

    /// `address_in_range`: did pymalloc allocate `p`? From 3.10 the arena map answers. Before,
    /// CPython reads `arenaindex` from the would-be pool header, whatever lies there (trash, if
    /// `p` is not pymalloc's), and checks that arena's bounds: reading it can fault.
    pub(super) fn address_in_range(&self, p: u64, pool: u64) -> Result<bool, MemError> {
        if let Some(map) = &self.arena_map {
            return Ok(map.is_used(p));
        }
        let arenaindex = match self.pools.get(&pool) {
            Some(ph) => ph.arenaindex,
            None => self.vm.read_word(pool + ARENAINDEX_OFFSET)? as u32,
        } as usize;
        Ok(arenaindex < self.arenas.len()
            && p.wrapping_sub(self.arenas[arenaindex].address) < self.profile.arena_size()
            && self.arenas[arenaindex].address != 0)
    }
}

#[cfg(test)]
mod tests {
    use crate::Allocator;
    use crate::error::MemError;
    use crate::profile::Profile;
    use crate::trace::Event;
    use crate::vm::MMAP_BASE;

    #[test]
    fn the_first_arena_loses_a_pool_to_alignment_on_3_10_and_later() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        a.object_malloc(8).unwrap();
        let ao = &a.arenas[0];
        assert_eq!(ao.address, MMAP_BASE - (1 << 20));
        assert_eq!(ao.ntotalpools, 63);
        assert_eq!(ao.pool_address, 0x7f3c_8a50_0000 + 16384);
        let mut old = Allocator::new(Profile::CPYTHON_3_8);
        old.object_malloc(8).unwrap();
        assert_eq!(old.arenas[0].ntotalpools, 64);
    }

    #[test]
    fn arena_objects_start_at_16_and_double() {
        let mut a = Allocator::new(Profile::CPYTHON_3_9);
        a.set_trace(true);
        // 3.9: 64 pools of 4 KiB; 253 blocks of 16 bytes per pool.
        for _ in 0..(17 * 64 * 253) {
            a.object_malloc(16).unwrap();
        }
        let grown: Vec<(usize, usize)> = a
            .take_trace()
            .into_iter()
            .filter_map(|e| match e {
                Event::ArenaObjectsGrown { from, to, .. } => Some((from, to)),
                _ => None,
            })
            .collect();
        assert_eq!(grown, vec![(0, 16), (16, 32)]);
        assert_eq!(a.arenas.len(), 32);
        assert_eq!(a.narenas_currently_allocated, 17);
    }

    /// The experiment that measured the rule on real interpreters, in its simplest form: with
    /// every arena full, build and drop a batch of objects that needs a fresh arena, 20 times.
    fn arenas_mapped_by_a_churning_loop(profile: Profile) -> usize {
        let mut a = Allocator::new(profile);
        a.object_malloc(16).unwrap();
        let first_arena = a.arenas[0].ntotalpools * profile.numblocks(0);
        for _ in 1..first_arena {
            a.object_malloc(16).unwrap();
        }
        let before = a.ntimes_arena_allocated;
        for _ in 0..20 {
            let batch: Vec<u64> = (0..100).map(|_| a.object_malloc(16).unwrap()).collect();
            for p in batch {
                a.object_free(p).unwrap();
            }
        }
        a.ntimes_arena_allocated - before
    }

    #[test]
    fn only_3_8_maps_an_arena_per_round_of_churn() {
        assert_eq!(arenas_mapped_by_a_churning_loop(Profile::CPYTHON_3_8), 20);
        for p in &Profile::ALL[1..] {
            assert_eq!(arenas_mapped_by_a_churning_loop(*p), 1, "{p}");
        }
    }

    #[test]
    fn usable_arenas_stay_sorted_by_free_pools() {
        let mut a = Allocator::new(Profile::CPYTHON_3_12);
        let mut blocks = Vec::new();
        while a.narenas_currently_allocated < 3 {
            blocks.push(a.object_malloc(64).unwrap());
        }
        // Arena 0 (63 pools: its start is not 16 KiB-aligned) gets every other pool back,
        // arena 1 (64 pools: the bot node came from the heap, so arena 1 is aligned) its first
        // 7; arena 2 holds one block.
        for &b in &blocks {
            let pool = a.pool_addr(b);
            let arena = a.pools[&pool].arenaindex as usize;
            let index = (pool - a.first_pool(arena)) / a.profile.pool_size();
            if (arena == 0 && index.is_multiple_of(2)) || (arena == 1 && index < 7) {
                a.object_free(b).unwrap();
            }
        }
        let mut order = Vec::new();
        let mut cur = a.usable_arenas;
        while let Some(i) = cur {
            order.push((i, a.arenas[i].nfreepools));
            cur = a.arenas[i].nextarena;
        }
        assert_eq!(order, vec![(1, 7), (0, 32), (2, 63)]);
        for (nf, last) in a.nfp2lasta.iter().enumerate() {
            let expected = order.iter().rev().find(|&&(_, n)| n as usize == nf);
            assert_eq!(*last, expected.map(|&(i, _)| i), "nfp2lasta[{nf}]");
        }
    }

    #[test]
    fn before_3_10_address_in_range_reads_the_pool_header_and_can_fault() {
        let mut a = Allocator::new(Profile::CPYTHON_3_8);
        let raw = a.raw_malloc(1000).unwrap();
        // pymalloc reads arenaindex at POOL_ADDR(raw) + 32 (trash), then hands raw to free().
        a.object_free(raw).unwrap();
        let unmapped = 0x1000_0000;
        assert_eq!(
            a.object_free(unmapped),
            Err(MemError::Segfault {
                addr: unmapped + 32
            })
        );
        let mut new = Allocator::new(Profile::CPYTHON_3_12);
        // With the arena map nothing is read: glibc's free faults on the size field instead.
        assert_eq!(
            new.object_free(unmapped),
            Err(MemError::Segfault { addr: unmapped - 8 })
        );
    }
}
