//! The arena map (3.10+, `WITH_PYMALLOC_RADIX_TREE`): a radix tree answering "is this address in
//! one of pymalloc's arenas?" without reading the address's memory.
//!
//! It is keyed by "ideal" arena addresses, multiples of `ARENA_SIZE`. A real arena (mmapped,
//! only page-aligned) straddles two ideal arenas, so it is recorded in two leaves: in the leaf of
//! the ideal arena it starts in, `tail_hi` = its offset there (addresses at or above it are
//! ours); in the next leaf, `tail_lo` = the same offset (addresses below it are ours).
//!
//! ```text
//!        ideal k                         ideal k+1                       ideal k+2
//!  ------|-------------------------------|-------------------------------|------
//!              [========== arena (ARENA_SIZE) ==========]
//!              ^ base: tail = base & ARENA_SIZE_MASK
//!  leaf k:     tail_hi = tail             leaf k+1: tail_lo = tail
//!  is_used(p) = (p's offset < tail_lo) || (p's offset >= tail_hi && tail_hi != 0)
//! ```
//!
//! The root is a static array (not counted in the model's memory); mid and bottom nodes are
//! allocated on demand with `PyMem_RawCalloc`, so they take memory from the model's glibc and
//! make pages resident where written. CPython never frees them.

use crate::error::MemError;
use crate::profile::ArenaMapBits;

use super::Allocator;

/// `arena_coverage_t`.
#[derive(Clone, Copy, Debug, Default)]
struct Coverage {
    tail_hi: i32,
    tail_lo: i32,
}

/// `arena_map_bot_t`, with the address the model's calloc gave it.
#[derive(Debug)]
struct BotNode {
    address: u64,
    arenas: Vec<Coverage>,
}

/// `arena_map_mid_t`.
#[derive(Debug)]
struct MidNode {
    address: u64,
    ptrs: Vec<Option<Box<BotNode>>>,
}

/// `arena_map_root`, and the node counts the statistics print.
#[derive(Debug)]
pub(crate) struct ArenaMap {
    bits: ArenaMapBits,
    root: Vec<Option<Box<MidNode>>>,
    /// `arena_map_mid_count`.
    pub(crate) mid_count: usize,
    /// `arena_map_bot_count`.
    pub(crate) bot_count: usize,
}

impl ArenaMap {
    pub(crate) fn new(bits: ArenaMapBits) -> ArenaMap {
        let mut root = Vec::new();
        root.resize_with(1 << bits.interior_bits(), || None);
        ArenaMap {
            bits,
            root,
            mid_count: 0,
            bot_count: 0,
        }
    }

    pub(crate) fn bits(&self) -> ArenaMapBits {
        self.bits
    }

    /// `MAP_TOP_INDEX`, `MAP_MID_INDEX`, `MAP_BOT_INDEX`.
    fn indices(&self, p: u64) -> (usize, usize, usize) {
        let b = self.bits;
        let mask = |bits: u32| (1u64 << bits) - 1;
        (
            ((p >> b.top_shift()) & mask(b.interior_bits())) as usize,
            ((p >> b.mid_shift()) & mask(b.interior_bits())) as usize,
            ((p >> b.arena_bits) & mask(b.bot_bits())) as usize,
        )
    }

    fn tail(&self, p: u64) -> i32 {
        (p & ((1 << self.bits.arena_bits) - 1)) as i32
    }

    fn bot(&self, p: u64) -> Option<&BotNode> {
        let (i1, i2, _) = self.indices(p);
        self.root[i1].as_ref()?.ptrs[i2].as_deref()
    }

    fn bot_mut(&mut self, p: u64) -> Option<&mut BotNode> {
        let (i1, i2, _) = self.indices(p);
        self.root[i1].as_mut()?.ptrs[i2].as_deref_mut()
    }

    /// `arena_map_is_used`: true if `p` is inside an arena.
    pub(crate) fn is_used(&self, p: u64) -> bool {
        let Some(n) = self.bot(p) else {
            return false;
        };
        let c = n.arenas[self.indices(p).2];
        let tail = self.tail(p);
        tail < c.tail_lo || (tail >= c.tail_hi && c.tail_hi != 0)
    }

    /// Sets a leaf field; returns the address written (for the page it makes resident).
    fn set(&mut self, p: u64, hi: bool, value: i32) -> Option<u64> {
        let i3 = self.indices(p).2;
        let n = self.bot_mut(p)?;
        let c = &mut n.arenas[i3];
        if hi {
            c.tail_hi = value;
        } else {
            c.tail_lo = value;
        }
        Some(n.address + 8 * i3 as u64 + if hi { 0 } else { 4 })
    }
}

impl Allocator {
    /// `arena_map_get(p, create)`: makes sure the bottom node for `p` exists, allocating mid and
    /// bottom nodes with `PyMem_RawCalloc` when `create`. `false` when the node is missing (and
    /// not to be created) or calloc failed.
    fn arena_map_get(&mut self, p: u64, create: bool) -> Result<bool, MemError> {
        let Some(map) = &self.arena_map else {
            return Ok(false);
        };
        let bits = map.bits;
        let (i1, i2, _) = map.indices(p);
        if map.root[i1].is_none() {
            let Some(address) = self.calloc_node(create, bits.mid_node_bytes())? else {
                return Ok(false);
            };
            let mut ptrs = Vec::new();
            ptrs.resize_with(1 << bits.interior_bits(), || None);
            if let Some(map) = &mut self.arena_map {
                map.root[i1] = Some(Box::new(MidNode { address, ptrs }));
                map.mid_count += 1;
            }
        }
        let Some(mid) = self.arena_map.as_ref().and_then(|m| m.root[i1].as_ref()) else {
            return Ok(false);
        };
        if mid.ptrs[i2].is_some() {
            return Ok(true);
        }
        let slot = mid.address + 8 * i2 as u64;
        let Some(address) = self.calloc_node(create, bits.bot_node_bytes())? else {
            return Ok(false);
        };
        let arenas = vec![Coverage::default(); 1 << bits.bot_bits()];
        if let Some(mid) = self.arena_map.as_mut().and_then(|m| m.root[i1].as_mut()) {
            mid.ptrs[i2] = Some(Box::new(BotNode { address, arenas }));
        }
        if let Some(map) = &mut self.arena_map {
            map.bot_count += 1;
        }
        self.vm.touch(slot, 8)?;
        Ok(true)
    }

    /// `PyMem_RawCalloc(1, size)` for a node, if nodes may be created.
    fn calloc_node(&mut self, create: bool, size: u64) -> Result<Option<u64>, MemError> {
        if !create {
            return Ok(None);
        }
        match self.libc.calloc(&mut self.vm, size) {
            Ok(address) => Ok(Some(address)),
            Err(MemError::OutOfMemory { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `arena_map_mark_used`: records (or erases) the arena at `arena_base`. `false` if a node
    /// could not be allocated. Without an arena map (before 3.10) there is nothing to do.
    pub(super) fn arena_map_mark_used(
        &mut self,
        arena_base: u64,
        is_used: bool,
    ) -> Result<bool, MemError> {
        let Some(map) = &self.arena_map else {
            return Ok(true);
        };
        let arena_size = 1u64 << map.bits.arena_bits;
        let tail = map.tail(arena_base);
        if !self.arena_map_get(arena_base, is_used)? {
            return Ok(false); // failed to allocate space for node
        }
        if tail == 0 {
            // Is ideal arena address.
            self.set_coverage(arena_base, true, if is_used { -1 } else { 0 })?;
            return Ok(true);
        }
        // arena_base is not ideal, so the arena covers two bottom slots, perhaps in different
        // nodes: tail_hi here, tail_lo in the next ideal arena's slot.
        self.set_coverage(arena_base, true, if is_used { tail } else { 0 })?;
        let arena_base_next = arena_base + arena_size;
        if !self.arena_map_get(arena_base_next, is_used)? {
            self.set_coverage(arena_base, true, 0)?;
            return Ok(false);
        }
        self.set_coverage(arena_base_next, false, if is_used { tail } else { 0 })?;
        Ok(true)
    }

    fn set_coverage(&mut self, p: u64, hi: bool, value: i32) -> Result<(), MemError> {
        if let Some(written) = self.arena_map.as_mut().and_then(|m| m.set(p, hi, value)) {
            self.vm.touch(written, 4)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::Allocator;
    use crate::profile::Profile;

    #[test]
    fn an_arena_is_in_range_exactly_over_its_bytes() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        a.object_malloc(8).unwrap();
        let base = a.arenas[0].address;
        let map = a.arena_map.as_ref().unwrap();
        assert!(map.is_used(base));
        assert!(map.is_used(base + (1 << 20) - 1));
        assert!(!map.is_used(base - 1));
        assert!(!map.is_used(base + (1 << 20)));
        assert_eq!((map.mid_count, map.bot_count), (1, 1));
    }

    #[test]
    fn nodes_come_from_the_system_allocator() {
        // 3.11: the mid node (256 KiB) is above the mmap threshold, so glibc mmaps it; the
        // bottom node (128 KiB + 16) would be too, but glibc first serves a request from the
        // top chunk when it has room, and the heap grown for the arenas vector (132 KiB) has.
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        a.object_malloc(8).unwrap();
        assert_eq!(a.libc.params().n_mmaps, 1);
        let map = a.arena_map.as_ref().unwrap();
        let bot = map.root[0]
            .as_ref()
            .unwrap()
            .ptrs
            .iter()
            .flatten()
            .next()
            .unwrap();
        assert!(a.libc.heap_chunk(&a.vm, bot.address).is_some());
        // 3.10: 8 KiB and 2 KiB nodes come from the brk heap.
        let mut b = Allocator::new(Profile::CPYTHON_3_10);
        b.object_malloc(8).unwrap();
        assert_eq!(b.libc.params().n_mmaps, 0);
    }

    #[test]
    fn unmarking_clears_both_slots() {
        let mut a = Allocator::new(Profile::CPYTHON_3_10);
        let base = a.vm.mmap(1 << 20, crate::vm::RegionKind::Chunk).unwrap().0;
        assert!(a.arena_map_mark_used(base, true).unwrap());
        assert!(a.arena_map.as_ref().unwrap().is_used(base + 12345));
        assert!(a.arena_map_mark_used(base, false).unwrap());
        assert!(!a.arena_map.as_ref().unwrap().is_used(base + 12345));
        assert!(!a.arena_map.as_ref().unwrap().is_used(base + (1 << 20) - 8));
    }
}
