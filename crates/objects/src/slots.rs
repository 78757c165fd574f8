//! Where the model keeps each object's state: beside the simulated memory, one slot per block.
//!
//! CPython keeps an object's fields in its block. Writing every field of every object into the
//! simulated memory would cost the model several times what CPython spends (a sparse word store
//! pays for keys), so the object layer keeps each object in a compact [`Slot`] instead, and
//! [`crate::memory`] computes the words a read finds there from the slot. The two never disagree:
//! memory is only ever *read* through the slots, and a slot is dropped (its words written out into
//! the simulated memory) before anything else may write into its block.
//!
//! ```text
//!  pool (16 KiB on 3.10+)                            PoolSlots for that pool
//!  +--------+---------+---------+---------+          +------+------+------+
//!  | header | block 0 | block 1 | block 2 | ...  ->  | slot | slot | slot | ...   (16 bytes each)
//!  +--------+---------+---------+---------+          +------+------+------+
//!                                                    index = (addr - pool - 48) / block size
//! ```
//!
//! A slot is 16 bytes: a str of up to eight ASCII characters, any int that fits in 62 bits and a
//! float live in the slot itself; everything else is a [`Heavy`](crate::heavy::Heavy) record that
//! the slot points to. Objects larger than 512 bytes live in glibc chunks and are kept in an
//! ordered map by address instead.

use std::collections::BTreeMap;

/// What a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    /// No object: a block the object layer uses as raw memory (an item buffer), or never used.
    Empty,
    /// An int whose value is in `word` (as `i64`).
    Int,
    /// A float whose bits are in `word`.
    Float,
    /// A compact ASCII str of `small` characters, stored in `word` (little-endian).
    AsciiInline,
    /// Anything else: `word` is an index into the heavy records.
    Heavy,
}

/// Where an object is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum State {
    /// Referenced: its count is `refcnt`.
    Live,
    /// Deallocated into one of the type's free lists: its memory is untouched (count 0), except
    /// where the free list links through it.
    Listed,
    /// Deallocated and its block given back to the allocator. Its fields still lie in memory,
    /// except the first word, where pymalloc wrote its free-list link.
    Freed,
}

/// One block's object. 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    /// `ob_refcnt` of a live object (static objects keep theirs elsewhere).
    pub(crate) refcnt: u32,
    pub(crate) kind: Kind,
    pub(crate) state: State,
    /// Per kind: the length of an inline str; flags.
    pub(crate) small: u16,
    /// Per kind: the value, or the heavy record's index.
    pub(crate) word: u64,
}

/// Flag in `Slot::small` of an inline str: its hash has been computed and cached.
pub(crate) const HASHED: u16 = 0x100;
/// Flag in `Slot::small` of an inline str: interned (`SSTATE_INTERNED_MORTAL`).
pub(crate) const INTERNED: u16 = 0x200;
/// Flag in `Slot::small`: the object is immortal (3.12: a string interned at run time).
pub(crate) const IMMORTAL: u16 = 0x400;
/// Flag in `Slot::small`: the object's type has `Py_TPFLAGS_HAVE_GC`, so its block starts with
/// a `PyGC_Head` (kept here so that finding an object never touches its heavy record).
pub(crate) const GC: u16 = 0x800;
/// Flag in `Slot::small`: two more words precede the `PyGC_Head` (a 3.11+ instance's managed
/// dict and values, or weakref).
pub(crate) const PREHEADER: u16 = 0x1000;

impl Slot {
    /// Whether C code may use the object: it is live, or it sits on a free list and something
    /// took a reference to it anyway (ctypes' `.value` on a dead object's address). Such a
    /// revived object is on the free list and in use at once, as it is in CPython; at zero it
    /// is deallocated again.
    pub(crate) fn usable(&self) -> bool {
        self.state == State::Live || (self.state == State::Listed && self.refcnt > 0)
    }

    /// What a static object's view carries in place of a slot: live, state in its record.
    pub(crate) const STATIC: Slot = Slot {
        refcnt: 0,
        kind: Kind::Heavy,
        state: State::Live,
        small: 0,
        word: 0,
    };

    pub(crate) const EMPTY: Slot = Slot {
        refcnt: 0,
        kind: Kind::Empty,
        state: State::Freed,
        small: 0,
        word: 0,
    };
}

/// The slots of one pool's blocks.
#[derive(Debug)]
pub(crate) struct PoolSlots {
    /// The block size of the pool's size class when the slots were made.
    pub(crate) block_size: u32,
    pub(crate) slots: Vec<Slot>,
}

/// The pools' slots, by pool number counted down from the top of the mmap area, where every
/// arena lies: an array index instead of a hash lookup on the hottest path of the model.
#[derive(Debug)]
pub(crate) struct PoolTable {
    /// `MMAP_BASE` rounded up to a pool boundary.
    top: u64,
    shift: u32,
    table: Vec<Option<PoolSlots>>,
}

impl PoolTable {
    fn new(pool_size: u64) -> PoolTable {
        PoolTable {
            top: pymalloc::MMAP_BASE.next_multiple_of(pool_size),
            shift: pool_size.trailing_zeros(),
            table: Vec::new(),
        }
    }

    fn index(&self, pool: u64) -> Option<usize> {
        let below = self.top.checked_sub(pool)?;
        Some((below >> self.shift) as usize)
    }

    pub(crate) fn get(&self, pool: u64) -> Option<&PoolSlots> {
        self.table.get(self.index(pool)?)?.as_ref()
    }

    pub(crate) fn get_mut(&mut self, pool: u64) -> Option<&mut PoolSlots> {
        let i = self.index(pool)?;
        self.table.get_mut(i)?.as_mut()
    }

    /// The pool's slots, made with `make` if it has none.
    fn get_or_insert_with(
        &mut self,
        pool: u64,
        make: impl FnOnce() -> PoolSlots,
    ) -> &mut PoolSlots {
        let i = self.index(pool).expect("arenas lie below the mmap base");
        if self.table.len() <= i {
            self.table.resize_with(i + 1, || None);
        }
        self.table[i].get_or_insert_with(make)
    }

    /// Every pool with slots, and its address.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &PoolSlots)> {
        let (top, shift) = (self.top, self.shift);
        self.table
            .iter()
            .enumerate()
            .filter_map(move |(i, ps)| Some((top - ((i as u64) << shift), ps.as_ref()?)))
    }

    pub(crate) fn remove(&mut self, pool: u64) -> Option<PoolSlots> {
        let i = self.index(pool)?;
        self.table.get_mut(i)?.take()
    }
}

/// Every object's slot: by pool for pymalloc blocks, by address for larger objects.
#[derive(Debug)]
pub(crate) struct Slots {
    pub(crate) pools: PoolTable,
    /// Objects in glibc chunks, by block address.
    pub(crate) big: BTreeMap<u64, Slot>,
}

/// Where a block's slot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SlotKey {
    /// Block `index` of the pool at `pool`.
    Pool { pool: u64, index: u32 },
    /// The glibc chunk whose memory starts at this address.
    Big(u64),
}

/// `offset / size` within a pool, as pymalloc computes it (a reciprocal, not a division).
pub(crate) use pymalloc::profile::block_index;

impl Slots {
    pub(crate) fn new(pool_size: u64) -> Slots {
        Slots {
            pools: PoolTable::new(pool_size),
            big: BTreeMap::new(),
        }
    }

    /// The key of a block at `block` of `block_size` bytes, or `None` for glibc.
    pub(crate) fn pool_key(pool_size: u64, block: u64, block_size: u32) -> SlotKey {
        let pool = block & !(pool_size - 1);
        let offset = block - pool - u64::from(pymalloc::profile::POOL_OVERHEAD);
        let index = block_index(offset, block_size) as u32;
        SlotKey::Pool { pool, index }
    }

    pub(crate) fn get(&self, key: SlotKey) -> Option<&Slot> {
        match key {
            SlotKey::Pool { pool, index } => self.pools.get(pool)?.slots.get(index as usize),
            SlotKey::Big(block) => self.big.get(&block),
        }
    }

    pub(crate) fn get_mut(&mut self, key: SlotKey) -> Option<&mut Slot> {
        match key {
            SlotKey::Pool { pool, index } => {
                self.pools.get_mut(pool)?.slots.get_mut(index as usize)
            }
            SlotKey::Big(block) => self.big.get_mut(&block),
        }
    }

    /// Puts `slot` at `key`, making room in the pool's slots (for a pool of `blocks` blocks of
    /// `block_size`) as needed.
    pub(crate) fn put(&mut self, key: SlotKey, block_size: u32, blocks: u32, slot: Slot) {
        match key {
            SlotKey::Pool { pool, index } => {
                let ps = self.pools.get_or_insert_with(pool, || PoolSlots {
                    block_size,
                    slots: Vec::with_capacity(blocks as usize),
                });
                let i = index as usize;
                if ps.slots.len() <= i {
                    ps.slots.resize(i + 1, Slot::EMPTY);
                }
                ps.slots[i] = slot;
            }
            SlotKey::Big(block) => {
                self.big.insert(block, slot);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 16);
    }

    #[test]
    fn pool_keys_count_blocks_after_the_header() {
        let pool = 0x7f3c_8a50_4000;
        assert_eq!(
            Slots::pool_key(1 << 14, pool + 48 + 2 * 64, 64),
            SlotKey::Pool { pool, index: 2 }
        );
        let mut s = Slots::new(1 << 14);
        let key = Slots::pool_key(1 << 14, pool + 48, 64);
        assert!(s.get(key).is_none());
        let slot = Slot {
            refcnt: 1,
            kind: Kind::Int,
            state: State::Live,
            small: 0,
            word: 7,
        };
        s.put(key, 64, 255, slot);
        assert_eq!(s.get(key), Some(&slot));
    }
}
