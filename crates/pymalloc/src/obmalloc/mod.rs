//! `Objects/obmalloc.c`: the allocator's state and its entry points.
//!
//! ```text
//!  object_malloc(n)  --- n in 1..=512 --->  pymalloc_alloc  --> usedpools[class] -> pool -> block
//!        |                                        | no arena to be had
//!        +--- n == 0 or n > 512 ------------------+----------->  raw_malloc  (glibc)
//!  object_calloc(n, m)   as object_malloc(n * m), then memset(0) a pymalloc block; glibc's
//!                        calloc for the rest (it clears only memory that may hold old data)
//!  object_free(p)    --- address_in_range(p)? --> pymalloc_free  (else raw_free)
//!  object_realloc(p, n)  pymalloc block: in place if it still fits well, else malloc+copy+free;
//!                        any other pointer: raw_realloc (pymalloc never takes a system block)
//! ```
//!
//! Modules mirror the parts of obmalloc.c:
//!
//! | module       | obmalloc.c                                                              |
//! |--------------|-------------------------------------------------------------------------|
//! | [`pool`]     | `pool_header`, `usedpools`, `pymalloc_alloc`, `pymalloc_pool_extend`,    |
//! |              | `allocate_from_new_pool`, `insert_to_usedpool`, `pymalloc_free`          |
//! | `arena`      | `arena_object`, `new_arena`, `insert_to_freepool`, `address_in_range`    |
//! | `arena_map`  | the radix tree: `arena_map_get`, `arena_map_mark_used`, `arena_map_is_used` |
//! | this module  | `_PyObject_Malloc`, `_PyObject_Calloc`, `_PyObject_Free`,               |
//! |              | `_PyObject_Realloc`, `pymalloc_realloc`,                                |
//! |              | `_PyMem_RawMalloc`/`Calloc`/`Free`/`Realloc`                            |
//!
//! There are no `mem_*` entry points: in a release build with pymalloc (3.6 and later; 3.5 and
//! earlier sent `PyMem_Malloc` to the C library), `PyMem_Malloc`, `PyMem_Calloc`,
//! `PyMem_Realloc` and `PyMem_Free` are installed as the very same functions as `PyObject_*`
//! (`_PyObject_Malloc`, ... under the `PYMEM_DOMAIN_MEM` and `PYMEM_DOMAIN_OBJ` domains alike), so
//! `object_*` stands for both families.
//!
//! One piece of bookkeeping is the model's own: a bit per block saying whether it is handed out
//! (see [`pool`]). It lets a free of something never allocated come back as a [`MemError`] where
//! CPython would corrupt its free list, and names a double free in the trace; the double free
//! itself goes on as in C, the block linked into its pool's free list a second time.

mod arena;
mod arena_map;
pub mod pool;

use crate::error::MemError;
use crate::glibc::Glibc;
use crate::hash::AddrMap;
use crate::profile::{NB_SMALL_SIZE_CLASSES, POOL_OVERHEAD, Profile, index2size};
use crate::trace::Event;
use crate::vm::{AddressSpace, Region, RegionKind};

pub(crate) use arena::ArenaObject;
use arena_map::ArenaMap;
use pool::{PoolHeader, pta};

/// `PY_SSIZE_T_MAX`: larger requests fail before reaching any allocator.
const PY_SSIZE_T_MAX: usize = isize::MAX as usize;

/// `nelem * elsize`, or out of memory if that exceeds `PY_SSIZE_T_MAX`: the check
/// `PyObject_Calloc` and `PyMem_RawCalloc` make (`elsize != 0 && nelem > PY_SSIZE_T_MAX /
/// elsize`) before calling the allocator.
fn calloc_size(nelem: usize, elsize: usize) -> Result<usize, MemError> {
    if elsize != 0 && nelem > PY_SSIZE_T_MAX / elsize {
        return Err(MemError::OutOfMemory {
            requested: (nelem as u64).saturating_mul(elsize as u64),
        });
    }
    Ok(nelem * elsize)
}

/// A process running one CPython version's allocators: pymalloc over glibc malloc over a
/// simulated address space. Addresses are `u64`; 0 is NULL.
#[derive(Debug)]
pub struct Allocator {
    pub(crate) profile: Profile,
    pub(crate) vm: AddressSpace,
    pub(crate) libc: Glibc,
    /// `usedpools`: per size class, the `nextpool` and `prevpool` of a fake pool header
    /// (`PTA(x)`) heading a circular list of used pools.
    pub(crate) usedpools: [u64; 2 * NB_SMALL_SIZE_CLASSES],
    /// Every carved pool's header, by pool address.
    pub(crate) pools: AddrMap<PoolHeader>,
    /// `arenas`; its length is `maxarenas`.
    pub(crate) arenas: Vec<ArenaObject>,
    /// Where the `arenas` vector lives in the simulated memory.
    pub(crate) arenas_address: u64,
    pub(crate) unused_arena_objects: Option<usize>,
    pub(crate) usable_arenas: Option<usize>,
    /// `nfp2lasta[nfp]`: the last arena in `usable_arenas` with `nfp` free pools.
    pub(crate) nfp2lasta: Vec<Option<usize>>,
    pub(crate) narenas_currently_allocated: usize,
    pub(crate) ntimes_arena_allocated: usize,
    pub(crate) narenas_highwater: usize,
    /// Blocks `object_malloc` got from the raw allocator, less those `object_free` gave back.
    pub(crate) raw_allocated_blocks: i64,
    /// Values clients wrote over the links of freed blocks, by block address (see
    /// [`pool::RAW_LINK`]).
    pub(crate) raw_links: AddrMap<u64>,
    pub(crate) arena_map: Option<ArenaMap>,
}

impl Allocator {
    /// A fresh process: nothing mapped yet.
    pub fn new(profile: Profile) -> Allocator {
        Allocator::with_address_space_limit(profile, u64::MAX)
    }

    /// A fresh process that may map at most `limit` bytes at once (`ulimit -v`); beyond it,
    /// `mmap` and `brk` fail and allocations return [`MemError::OutOfMemory`].
    pub fn with_address_space_limit(profile: Profile, limit: u64) -> Allocator {
        let mut usedpools = [0; 2 * NB_SMALL_SIZE_CLASSES];
        for class in 0..NB_SMALL_SIZE_CLASSES {
            // PT(x): both links of an empty list point at its head.
            usedpools[2 * class] = pta(class as u32);
            usedpools[2 * class + 1] = pta(class as u32);
        }
        Allocator {
            profile,
            vm: AddressSpace::new(limit),
            libc: Glibc::new(),
            usedpools,
            pools: AddrMap::default(),
            arenas: Vec::new(),
            arenas_address: 0,
            unused_arena_objects: None,
            usable_arenas: None,
            nfp2lasta: vec![None; profile.max_pools_in_arena() as usize + 1],
            narenas_currently_allocated: 0,
            ntimes_arena_allocated: 0,
            narenas_highwater: 0,
            raw_allocated_blocks: 0,
            raw_links: AddrMap::default(),
            arena_map: profile.arena_map().map(ArenaMap::new),
        }
    }

    /// The CPython version modelled.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// `PyObject_Malloc(nbytes)` (`_PyObject_Malloc`): pymalloc for 1 to 512 bytes, else (or when
    /// no arena can be had) the raw allocator.
    pub fn object_malloc(&mut self, nbytes: usize) -> Result<u64, MemError> {
        if nbytes > PY_SSIZE_T_MAX {
            return Err(MemError::OutOfMemory {
                requested: nbytes as u64,
            });
        }
        if let Some(p) = self.pymalloc_alloc(nbytes)? {
            return Ok(p);
        }
        let p = self.raw_malloc(nbytes)?;
        self.raw_allocated_blocks += 1;
        Ok(p)
    }

    /// `PyObject_Calloc(nelem, elsize)` (`_PyObject_Calloc`), also `PyMem_Calloc`: `nelem *
    /// elsize` zeroed bytes. A pymalloc block may hold old data (a free-list link at least), so
    /// it is cleared with `memset`, which writes and so makes its pages resident; anything else
    /// goes to `PyMem_RawCalloc`, where glibc leaves fresh pages untouched.
    ///
    /// The overflow check is `PyObject_Calloc`'s, before the allocator is called:
    /// `nelem * elsize` must not exceed `PY_SSIZE_T_MAX`.
    pub fn object_calloc(&mut self, nelem: usize, elsize: usize) -> Result<u64, MemError> {
        let nbytes = calloc_size(nelem, elsize)?;
        if let Some(p) = self.pymalloc_alloc(nbytes)? {
            self.vm.zero(p, nbytes as u64)?; // memset(ptr, 0, nbytes)
            return Ok(p);
        }
        let p = self.raw_calloc(nelem, elsize)?;
        self.raw_allocated_blocks += 1;
        Ok(p)
    }

    /// `PyObject_Free(p)` (`_PyObject_Free`). Freeing 0 does nothing.
    pub fn object_free(&mut self, p: u64) -> Result<(), MemError> {
        if p == 0 {
            return Ok(());
        }
        if !self.pymalloc_free(p)? {
            // pymalloc didn't allocate this address.
            self.raw_free(p)?;
            self.raw_allocated_blocks -= 1;
        }
        Ok(())
    }

    /// `PyObject_Realloc(p, nbytes)` (`_PyObject_Realloc`). Realloc of 0 is malloc.
    pub fn object_realloc(&mut self, p: u64, nbytes: usize) -> Result<u64, MemError> {
        if nbytes > PY_SSIZE_T_MAX {
            return Err(MemError::OutOfMemory {
                requested: nbytes as u64,
            });
        }
        if p == 0 {
            return self.object_malloc(nbytes);
        }
        match self.pymalloc_realloc(p, nbytes)? {
            Some(q) => Ok(q),
            None => self.raw_realloc(p, nbytes),
        }
    }

    /// `pymalloc_realloc`: `None` if pymalloc is not managing `p`. Stays in place when the block
    /// still fits and would not shrink by a quarter or more; else malloc, copy, free.
    fn pymalloc_realloc(&mut self, p: u64, nbytes: usize) -> Result<Option<u64>, MemError> {
        let pool = self.pool_addr(p);
        if !self.address_in_range(p, pool)? {
            // pymalloc is not managing this block: taking it over would need to know how much
            // of it is valid, which only the C allocator knows (bug 1185883). Let C keep it.
            return Ok(None);
        }
        self.allocated_block(pool, p)?;
        // pymalloc is in charge of this block.
        let mut size = u64::from(index2size(self.pools[&pool].szidx));
        let nbytes64 = nbytes as u64;
        if nbytes64 <= size {
            // The block is staying the same or shrinking: copy on shrink only if at least 25%
            // of size can be shaved off.
            if 4 * nbytes64 > 3 * size {
                return Ok(Some(p));
            }
            size = nbytes64;
        }
        let bp = self.object_malloc(nbytes)?;
        self.vm.copy(p, bp, size)?;
        self.object_free(p)?;
        Ok(Some(bp))
    }

    /// `PyMem_RawMalloc(nbytes)` (`_PyMem_RawMalloc`): glibc `malloc`, asking for 1 byte when
    /// given 0 so that a non-NULL pointer comes back.
    pub fn raw_malloc(&mut self, nbytes: usize) -> Result<u64, MemError> {
        let nbytes = nbytes.max(1) as u64;
        self.libc.malloc(&mut self.vm, nbytes)
    }

    /// `PyMem_RawCalloc(nelem, elsize)` (`_PyMem_RawCalloc`): glibc `calloc`, asking for one
    /// element of 1 byte when either is 0. glibc clears only memory that may hold old data
    /// (reused chunks, the top below the highest break ever reached), so a large calloc that
    /// glibc mmaps adds only its header's page to RSS.
    pub fn raw_calloc(&mut self, nelem: usize, elsize: usize) -> Result<u64, MemError> {
        // PyMem_RawCalloc's overflow check.
        calloc_size(nelem, elsize)?;
        let (nelem, elsize) = if nelem == 0 || elsize == 0 {
            (1, 1)
        } else {
            (nelem, elsize)
        };
        // calloc's own check (__builtin_mul_overflow) cannot fail after the one above.
        self.libc.calloc(&mut self.vm, (nelem * elsize) as u64)
    }

    /// `PyMem_RawFree(p)`: glibc `free`.
    pub fn raw_free(&mut self, p: u64) -> Result<(), MemError> {
        self.libc.free(&mut self.vm, p)
    }

    /// `PyMem_RawRealloc(p, nbytes)` (`_PyMem_RawRealloc`): glibc `realloc`, 0 bytes meaning 1.
    pub fn raw_realloc(&mut self, p: u64, nbytes: usize) -> Result<u64, MemError> {
        let nbytes = nbytes.max(1) as u64;
        self.libc.realloc(&mut self.vm, p, nbytes)
    }

    /// The 8-byte word at `addr` (8-aligned). Pool headers and chunk size fields read as what C
    /// keeps there; never-written memory reads 0; an unmapped address is a segfault.
    pub fn read_word(&self, addr: u64) -> Result<u64, MemError> {
        if !addr.is_multiple_of(8) {
            return Err(MemError::Misaligned { addr });
        }
        // In a pool, the header's words and a free block's link are kept in the header (one
        // lookup finds both); any other word is in the address space.
        let pool = self.pool_addr(addr);
        if let Some(ph) = self.pools.get(&pool) {
            let offset = addr - pool;
            if offset < u64::from(POOL_OVERHEAD) {
                return Ok(ph.word(offset));
            }
            if ph.is_free_block(pool, addr) {
                return Ok(pool::link_word(&self.raw_links, ph, pool, addr));
            }
        }
        self.vm.read_word(addr)
    }

    /// Writes the 8-byte word at `addr`, as a client of the memory would. Allowed anywhere
    /// mapped (a freed block included: that is a use after free) except allocator metadata.
    pub fn write_word(&mut self, addr: u64, value: u64) -> Result<(), MemError> {
        if !addr.is_multiple_of(8) {
            return Err(MemError::Misaligned { addr });
        }
        let id = self.vm.find(addr).ok_or(MemError::Segfault { addr })?;
        let mapping = self.vm.mapping(id);
        // Only the kind of mapping the address is in can hold metadata of its own: a pool
        // header in an arena, the header at the start of an mmapped chunk, glibc's fields in the
        // heap. Deciding by kind keeps the common write (a buffer's word) to one lookup.
        let metadata = match mapping.kind {
            RegionKind::Arena(_) if self.free_block_link(addr).is_some() => {
                // A write over a freed block's link: a use after free.
                let pool = self.pool_addr(addr);
                self.write_link(id, pool, addr, value);
                return Ok(());
            }
            RegionKind::Arena(_) => self.pool_header_word(addr).is_some(),
            RegionKind::Chunk => addr < mapping.start + crate::glibc::CHUNK_HDR_SZ,
            RegionKind::Heap => self.libc.is_metadata(&self.vm, addr),
        };
        if metadata {
            return Err(MemError::Metadata { addr });
        }
        self.vm.write_word_in(id, addr, value);
        Ok(())
    }

    /// A client writes `len` bytes at `addr` (contents not modelled): the pages become resident.
    pub fn touch(&mut self, addr: u64, len: usize) -> Result<(), MemError> {
        self.vm.touch(addr, len as u64)
    }

    /// The first word of a free block (its link), if `addr` is one.
    fn free_block_link(&self, addr: u64) -> Option<u64> {
        let pool = self.pool_addr(addr);
        let ph = self.pools.get(&pool)?;
        ph.is_free_block(pool, addr)
            .then(|| pool::link_word(&self.raw_links, ph, pool, addr))
    }

    fn pool_header_word(&self, addr: u64) -> Option<u64> {
        let pool = self.pool_addr(addr);
        let offset = addr - pool;
        let header = self.pools.get(&pool)?;
        (offset < u64::from(POOL_OVERHEAD)).then(|| header.word(offset))
    }

    /// Turns the event trace on or off (off by default; turning it off drops what was logged).
    pub fn set_trace(&mut self, on: bool) {
        self.vm.trace.set(on);
    }

    /// The events logged since tracing was turned on or last taken.
    pub fn take_trace(&mut self) -> Vec<Event> {
        self.vm.trace.take()
    }

    /// Gives back a buffer [`Allocator::take_trace`] returned, for the next events.
    pub fn recycle_trace(&mut self, buffer: Vec<Event>) {
        self.vm.trace.recycle(buffer);
    }

    /// Resident set size: bytes in pages written.
    pub fn rss(&self) -> u64 {
        self.vm.rss()
    }

    /// Virtual memory size: bytes mapped.
    pub fn vms(&self) -> u64 {
        self.vm.vms()
    }

    /// Whether the page holding `addr` has been written (counts in RSS).
    pub fn is_resident(&self, addr: u64) -> bool {
        self.vm.is_resident(addr)
    }

    /// The mappings, lowest address first, as `/proc/self/maps` would list them.
    pub fn regions(&self) -> Vec<Region> {
        self.vm.regions()
    }

    /// `sys.getallocatedblocks()` (`_Py_GetAllocatedBlocks`): blocks handed out by pymalloc,
    /// plus those `object_malloc` passed to the raw allocator and not yet freed.
    pub fn allocated_blocks(&self) -> i64 {
        let in_pools: u64 = self.pools.values().map(|p| u64::from(p.count)).sum();
        self.raw_allocated_blocks + in_pools as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::PAGE_SIZE;

    #[test]
    fn zero_and_large_requests_go_to_glibc() {
        let mut a = Allocator::new(Profile::CPYTHON_3_12);
        let zero = a.object_malloc(0).unwrap();
        let big = a.object_malloc(513).unwrap();
        assert!(a.arenas.is_empty(), "no arena for either");
        assert_eq!(a.allocated_blocks(), 2);
        assert_eq!(
            a.read_word(zero - 8),
            Ok(32 | 1),
            "malloc(1): a MINSIZE chunk"
        );
        a.object_free(zero).unwrap();
        a.object_free(big).unwrap();
        assert_eq!(a.allocated_blocks(), 0);
    }

    #[test]
    fn realloc_stays_in_place_unless_it_shrinks_by_a_quarter() {
        let mut a = Allocator::new(Profile::CPYTHON_3_12);
        let p = a.object_malloc(64).unwrap();
        a.write_word(p, 11).unwrap();
        assert_eq!(a.object_realloc(p, 49), Ok(p), "4*49 > 3*64");
        assert_eq!(a.object_realloc(p, 64), Ok(p));
        let q = a.object_realloc(p, 48).unwrap();
        assert_ne!(q, p, "4*48 == 3*64: copied to class 2");
        assert_eq!(a.read_word(q), Ok(11));
        let r = a.object_realloc(q, 1000).unwrap();
        assert!(
            a.libc.heap_chunk(&a.vm, r).is_some(),
            "grown past 512: glibc"
        );
        assert_eq!(a.read_word(r), Ok(11));
        // A glibc block stays with glibc even when it shrinks below 512.
        let s = a.object_realloc(r, 16).unwrap();
        assert!(a.libc.heap_chunk(&a.vm, s).is_some());
    }

    #[test]
    fn calloc_of_a_reused_block_reads_zeros() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        let p = a.object_malloc(64).unwrap();
        let _keep = a.object_malloc(64).unwrap();
        a.write_word(p + 8, 0xdead).unwrap();
        a.write_word(p + 56, 0xbeef).unwrap();
        a.object_free(p).unwrap();
        assert_ne!(a.read_word(p), Ok(0), "the free-list link");
        let q = a.object_calloc(4, 16).unwrap();
        assert_eq!(q, p, "LIFO reuse");
        for offset in (0..64).step_by(8) {
            assert_eq!(a.read_word(q + offset), Ok(0), "offset {offset}");
        }
        assert_eq!(a.allocated_blocks(), 2);
        // 0 bytes and more than 512 go to PyMem_RawCalloc, and count as blocks.
        let zero = a.object_calloc(0, 8).unwrap();
        assert_eq!(a.read_word(zero - 8), Ok(32 | 1), "calloc(1, 1): MINSIZE");
        assert_eq!(a.allocated_blocks(), 3);
        a.object_free(zero).unwrap();
        assert_eq!(a.allocated_blocks(), 2);
    }

    #[test]
    fn a_big_calloc_makes_only_its_header_resident() {
        for raw in [false, true] {
            let mut a = Allocator::new(Profile::CPYTHON_3_12);
            // glibc's first call allocates its tcache on the heap: make that happen first.
            let first = a.raw_malloc(8).unwrap();
            a.raw_free(first).unwrap();
            let before = a.rss();
            let p = if raw {
                a.raw_calloc(1, 1 << 20).unwrap()
            } else {
                a.object_calloc(1, 1 << 20).unwrap()
            };
            assert_eq!(a.rss(), before + PAGE_SIZE, "raw: {raw}");
            assert_eq!(a.read_word(p + (1 << 19)), Ok(0));
            assert_eq!(a.vm.recount(), (a.vms(), a.rss()));
        }
    }

    #[test]
    fn calloc_overflow_is_out_of_memory() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        let half = PY_SSIZE_T_MAX / 2 + 1;
        for (nelem, elsize) in [(half, 2), (2, half), (usize::MAX, usize::MAX)] {
            assert!(matches!(
                a.object_calloc(nelem, elsize),
                Err(MemError::OutOfMemory { .. })
            ));
            assert!(matches!(
                a.raw_calloc(nelem, elsize),
                Err(MemError::OutOfMemory { .. })
            ));
        }
        assert_eq!((a.vms(), a.allocated_blocks()), (0, 0));
        // Zero elements of any size is fine: one byte.
        assert!(a.raw_calloc(usize::MAX, 0).is_ok());
        assert!(a.object_calloc(0, usize::MAX).is_ok());
    }

    #[test]
    fn realloc_to_zero_moves_a_small_block_to_glibc() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        let p = a.object_malloc(64).unwrap();
        let q = a.object_realloc(p, 0).unwrap();
        assert!(a.libc.heap_chunk(&a.vm, q).is_some());
        assert_eq!(a.allocated_blocks(), 1);
    }

    #[test]
    fn oversized_requests_fail_cleanly() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        assert!(matches!(
            a.object_malloc(usize::MAX),
            Err(MemError::OutOfMemory { .. })
        ));
        assert!(matches!(
            a.raw_malloc(usize::MAX / 2),
            Err(MemError::OutOfMemory { .. })
        ));
    }

    #[test]
    fn an_address_space_limit_is_out_of_memory_not_a_panic() {
        // Too small even for glibc's first sbrk: the arenas vector cannot be had, pymalloc
        // gives up and falls back to glibc, which fails too.
        let mut a = Allocator::with_address_space_limit(Profile::CPYTHON_3_11, 64 << 10);
        assert!(matches!(
            a.object_malloc(16),
            Err(MemError::OutOfMemory { .. })
        ));
        assert_eq!(a.vms(), 0);
        let mut b = Allocator::with_address_space_limit(Profile::CPYTHON_3_11, 4 << 20);
        let mut n = 0;
        while b.object_malloc(512).is_ok() {
            n += 1;
        }
        assert!(
            n > 2000 && b.vms() <= 4 << 20,
            "{n} blocks, {} bytes",
            b.vms()
        );
    }

    #[test]
    fn rss_counts_pages_written() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        let p = a.object_malloc(64).unwrap();
        // The pool's first page: header, block 0, and block 1's NULL link, all in one page.
        let arenas: Vec<_> = a
            .regions()
            .into_iter()
            .filter(|r| matches!(r.kind, crate::vm::RegionKind::Arena(0)))
            .collect();
        assert_eq!(arenas.len(), 1);
        assert_eq!((arenas[0].len, arenas[0].resident), (1 << 20, PAGE_SIZE));
        assert!(a.is_resident(p));
        assert!(!a.is_resident(p + PAGE_SIZE));
        let big = a.raw_malloc(1 << 20).unwrap();
        let before = a.rss();
        a.touch(big, 3 * PAGE_SIZE as usize).unwrap();
        assert!(a.rss() >= before + 2 * PAGE_SIZE);
        assert_eq!(a.vm.recount(), (a.vms(), a.rss()));
    }
}
