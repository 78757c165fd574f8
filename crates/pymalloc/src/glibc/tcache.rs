//! glibc 2.36's per-thread cache (tcache) and fastbins: where a freed small chunk waits, still
//! "in use" as far as its neighbours can tell, for the next request of exactly its size.
//!
//! ```text
//!  tcache_perthread_struct (a 0x290 chunk, the heap's first)      a freed 64-byte request
//!  +-------------------------------+                        mem -> +------------------------+
//!  | uint16_t counts[64]   (128 B) |                               | next: PROTECT_PTR(     |
//!  +-------------------------------+                               |   mem, old head)       |
//!  | tcache_entry *entries[64]     |  entries[3] ----------------> +------------------------+
//!  |                       (512 B) |                               | key: tcache_key        |
//!  +-------------------------------+                               +------------------------+
//! ```
//!
//! * **tcache**: 64 bins, one per chunk size from 32 to 1,040 bytes (requests up to
//!   [`MAX_TCACHE_SIZE`], 1,032), each a LIFO list of at most [`TCACHE_FILL_COUNT`] (7) chunks,
//!   linked through the user memory: `next` at offset 0, mangled by safe-linking
//!   ([`protect_ptr`]), and `key` at offset 8. `__libc_malloc` looks here first; `calloc` and
//!   `realloc` never do (they call `_int_malloc`).
//! * **fastbins**: when a chunk's tcache bin is full, a chunk of at most `get_max_fast()`
//!   ([`DEFAULT_MXFAST`], 128 bytes) goes to its fastbin: LIFO, `fd` (mangled) at offset 0, not
//!   coalesced. `malloc_consolidate` empties the fastbins into the bins, coalescing.
//! * Both keep the next chunk's `PREV_INUSE` set: to coalescing they are in use.
//!
//! glibc 2.34+ draws `tcache_key` from `getrandom` at start-up; the model uses the fixed
//! [`TCACHE_KEY`], so that addresses and memory contents are deterministic.
//!
//! The lists are kept in Rust (the authority) and mirrored into the simulated memory where glibc
//! keeps them: the links in the freed chunks, and `counts` and `entries` in the tcache's struct.
//! A link that a use after free overwrote is caught when the list is next followed
//! ([`MemError::CorruptBin`]); glibc would hand out the wild address instead.

use crate::error::MemError;
use crate::vm::AddressSpace;

use super::{CHUNK_HDR_SZ, Glibc, Held, MALLOC_ALIGNMENT, MINSIZE, SIZE_SZ, poke};

/// `TCACHE_MAX_BINS`: one bin per chunk size from `MINSIZE` in steps of 16.
pub const TCACHE_MAX_BINS: usize = 64;
/// `TCACHE_FILL_COUNT` (`mp_.tcache_count`): chunks a tcache bin holds at most.
pub const TCACHE_FILL_COUNT: usize = 7;
/// `MAX_TCACHE_SIZE`, `tidx2usize(TCACHE_MAX_BINS - 1)`: the largest request the tcache serves.
pub const MAX_TCACHE_SIZE: u64 =
    (TCACHE_MAX_BINS as u64 - 1) * MALLOC_ALIGNMENT + MINSIZE - SIZE_SZ;
/// `sizeof (tcache_perthread_struct)`: `uint16_t counts[64]` and `tcache_entry *entries[64]`.
const TCACHE_PERTHREAD_SIZE: u64 = 2 * TCACHE_MAX_BINS as u64 + 8 * TCACHE_MAX_BINS as u64;
/// Where `entries` starts in the struct.
const ENTRIES_OFFSET: u64 = 2 * TCACHE_MAX_BINS as u64;
/// `tcache_key`, written into a chunk's second word while it is in the tcache. Random per
/// process in glibc (since 2.34); a fixed value here, for deterministic memory contents.
pub const TCACHE_KEY: u64 = 0x9e37_79b9_7f4a_7c15;
/// `DEFAULT_MXFAST`, `64 * SIZE_SZ / 4`: `get_max_fast()`, the largest fastbin chunk.
pub const DEFAULT_MXFAST: u64 = 64 * SIZE_SZ / 4;
/// `MAX_FAST_SIZE`, `80 * SIZE_SZ / 4`: what `M_MXFAST` may be raised to, which sizes the array.
const MAX_FAST_SIZE: u64 = 80 * SIZE_SZ / 4;
/// `NFASTBINS`, `fastbin_index (request2size (MAX_FAST_SIZE)) + 1`.
pub const NFASTBINS: usize = fastbin_index(super::request2size(MAX_FAST_SIZE)) + 1;
/// `MIN_LARGE_SIZE`: chunks from here on belong to large bins.
const MIN_LARGE_SIZE: u64 = 64 * MALLOC_ALIGNMENT;

/// `csize2tidx`: the tcache bin of a chunk size.
pub const fn csize2tidx(x: u64) -> usize {
    // glibc: ((x) - MINSIZE + MALLOC_ALIGNMENT - 1) / MALLOC_ALIGNMENT
    (x - MINSIZE).div_ceil(MALLOC_ALIGNMENT) as usize
}

/// `fastbin_index` on 64-bit: `(sz >> 4) - 2`.
pub const fn fastbin_index(sz: u64) -> usize {
    ((sz >> 4) - 2) as usize
}

/// `PROTECT_PTR(pos, ptr)`, safe-linking: a link `ptr` stored at address `pos` is kept as
/// `(pos >> 12) ^ ptr`. `REVEAL_PTR` is the same function (it is its own inverse).
pub const fn protect_ptr(pos: u64, ptr: u64) -> u64 {
    (pos >> 12) ^ ptr
}

/// `get_max_fast()` with the default `M_MXFAST`: `set_max_fast (DEFAULT_MXFAST)` rounds
/// `(128 + SIZE_SZ) & ~MALLOC_ALIGN_MASK` back to 128.
pub(super) const fn get_max_fast() -> u64 {
    (DEFAULT_MXFAST + SIZE_SZ) & !(MALLOC_ALIGNMENT - 1)
}

/// `in_smallbin_range`.
pub(super) const fn in_smallbin_range(sz: u64) -> bool {
    sz < MIN_LARGE_SIZE
}

/// `tcache_perthread_struct`, by its address (the memory `tcache_init`'s malloc returned).
#[derive(Debug)]
pub(crate) struct Tcache {
    address: u64,
    /// Per bin, the user addresses (`tcache_entry *`) of its chunks, the head last;
    /// `counts[i]` is the length.
    entries: [Vec<u64>; TCACHE_MAX_BINS],
}

impl Glibc {
    /// `MAYBE_INIT_TCACHE` / `tcache_init`: the first malloc, calloc or free allocates the
    /// struct with `_int_malloc` and clears it. When memory is short the tcache stays off and
    /// the next call tries again, as in glibc.
    pub(super) fn maybe_init_tcache(&mut self, vm: &mut AddressSpace) -> Result<(), MemError> {
        if self.tcache.is_some() {
            return Ok(());
        }
        let nb = super::request2size(TCACHE_PERTHREAD_SIZE);
        let victim = match self.int_malloc(vm, nb) {
            Ok(chunk) => chunk + CHUNK_HDR_SZ,
            Err(MemError::OutOfMemory { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        vm.zero(victim, TCACHE_PERTHREAD_SIZE)?; // memset (tcache, 0, sizeof ...)
        self.tcache = Some(Tcache {
            address: victim,
            entries: std::array::from_fn(|_| Vec::new()),
        });
        Ok(())
    }

    /// Whether the chunk at `chunk` holds the tcache's struct (the program never got it).
    pub(super) fn is_tcache_struct(&self, chunk: u64) -> bool {
        self.tcache
            .as_ref()
            .is_some_and(|t| t.address == chunk + CHUNK_HDR_SZ)
    }

    /// Whether `addr` lies in the tcache's struct.
    pub(super) fn in_tcache_struct(&self, addr: u64) -> bool {
        self.tcache
            .as_ref()
            .is_some_and(|t| (t.address..t.address + TCACHE_PERTHREAD_SIZE).contains(&addr))
    }

    /// The tcache step of `__libc_malloc`: `tcache_get (tc_idx)` if that bin has a chunk.
    pub(super) fn tcache_get(
        &mut self,
        vm: &mut AddressSpace,
        tc_idx: usize,
    ) -> Result<Option<u64>, MemError> {
        let Some(bin) = self.tcache.as_ref().and_then(|t| t.entries.get(tc_idx)) else {
            return Ok(None);
        };
        let Some(&e) = bin.last() else {
            return Ok(None);
        };
        let next = bin.len().checked_sub(2).map_or(0, |i| bin[i]);
        check_link(vm, e, next)?;
        // tcache->entries[tc_idx] = REVEAL_PTR (e->next); --counts; e->key = 0.
        self.tcache_bin(tc_idx).pop();
        self.tcache_sync(vm, tc_idx);
        poke(vm, e + SIZE_SZ, 0);
        self.set_held(e - CHUNK_HDR_SZ, Held::Client);
        Ok(Some(e))
    }

    /// The tcache step of `_int_free`: `tcache_put` if the chunk's bin exists and has room.
    pub(super) fn tcache_free(&mut self, vm: &mut AddressSpace, chunk: u64, size: u64) -> bool {
        let tc_idx = csize2tidx(size);
        let room = self.tcache.as_ref().is_some_and(|t| {
            t.entries
                .get(tc_idx)
                .is_some_and(|b| b.len() < TCACHE_FILL_COUNT)
        });
        if room {
            self.tcache_put(vm, chunk, tc_idx);
        }
        room
    }

    /// `tcache_put`: `e->key = tcache_key; e->next = PROTECT_PTR (&e->next, entries[tc_idx]);
    /// entries[tc_idx] = e; ++counts[tc_idx]`.
    fn tcache_put(&mut self, vm: &mut AddressSpace, chunk: u64, tc_idx: usize) {
        let e = chunk + CHUNK_HDR_SZ;
        poke(vm, e + SIZE_SZ, TCACHE_KEY);
        let head = self.tcache_bin(tc_idx).last().copied().unwrap_or(0);
        poke(vm, e, protect_ptr(e, head));
        self.tcache_bin(tc_idx).push(e);
        self.tcache_sync(vm, tc_idx);
        self.set_held(chunk, Held::Tcache);
    }

    fn tcache_bin(&mut self, tc_idx: usize) -> &mut Vec<u64> {
        &mut self.tcache.as_mut().expect("tcache initialised").entries[tc_idx]
    }

    /// Writes bin `tc_idx`'s `counts` (four to a word) and `entries` words into the struct.
    fn tcache_sync(&self, vm: &mut AddressSpace, tc_idx: usize) {
        let Some(t) = &self.tcache else {
            return;
        };
        let first = tc_idx & !3;
        let counts = (0..4).fold(0u64, |w, k| {
            w | (t.entries[first + k].len() as u64) << (16 * k)
        });
        poke(vm, t.address + 2 * first as u64, counts);
        let head = t.entries[tc_idx].last().copied().unwrap_or(0);
        poke(vm, t.address + ENTRIES_OFFSET + 8 * tc_idx as u64, head);
    }

    fn set_held(&mut self, chunk: u64, held: Held) {
        if let Some(c) = self.chunks.get_mut(&chunk) {
            c.held = held;
        }
    }

    /// The fastbin step of `_int_free`: `p->fd = PROTECT_PTR (&p->fd, old); *fb = p`.
    pub(super) fn fastbin_free(&mut self, vm: &mut AddressSpace, chunk: u64, size: u64) {
        self.have_fastchunks = true;
        let fb = &mut self.fastbins[fastbin_index(size)];
        let old = fb.last().copied().unwrap_or(0);
        fb.push(chunk);
        let fd = chunk + CHUNK_HDR_SZ;
        poke(vm, fd, protect_ptr(fd, old));
        self.set_held(chunk, Held::Fastbin);
    }

    /// The fastbin step of `_int_malloc`: the head of the bin of exactly `nb`, if any; "while
    /// we're here", the bin's other chunks move to the tcache until its bin is full.
    pub(super) fn fastbin_malloc(
        &mut self,
        vm: &mut AddressSpace,
        nb: u64,
    ) -> Result<Option<u64>, MemError> {
        let idx = fastbin_index(nb);
        let Some(victim) = self.fastbin_pop(vm, idx)? else {
            return Ok(None);
        };
        self.set_held(victim, Held::Client);
        let tc_idx = csize2tidx(nb);
        while self.tcache_has_room(tc_idx) {
            let Some(tc_victim) = self.fastbin_pop(vm, idx)? else {
                break;
            };
            self.tcache_put(vm, tc_victim, tc_idx);
        }
        Ok(Some(victim))
    }

    fn tcache_has_room(&self, tc_idx: usize) -> bool {
        self.tcache
            .as_ref()
            .is_some_and(|t| t.entries[tc_idx].len() < TCACHE_FILL_COUNT)
    }

    /// `*fb = REVEAL_PTR (victim->fd)`: unlinks the head of fastbin `idx`, its link checked.
    fn fastbin_pop(&mut self, vm: &AddressSpace, idx: usize) -> Result<Option<u64>, MemError> {
        let fb = &self.fastbins[idx];
        let Some(&victim) = fb.last() else {
            return Ok(None);
        };
        let next = fb.len().checked_sub(2).map_or(0, |i| fb[i]);
        check_link(vm, victim + CHUNK_HDR_SZ, next)?;
        self.fastbins[idx].pop();
        Ok(Some(victim))
    }

    /// `malloc_consolidate`: every fastbin chunk, bin 0 first and each bin from its head, is
    /// coalesced with its free neighbours into the bins or the top. No trimming. Every link is
    /// checked before anything changes.
    pub(super) fn malloc_consolidate(&mut self, vm: &mut AddressSpace) -> Result<(), MemError> {
        for fb in &self.fastbins {
            for (k, &p) in fb.iter().enumerate() {
                let next = k.checked_sub(1).map_or(0, |i| fb[i]);
                check_link(vm, p + CHUNK_HDR_SZ, next)?;
            }
        }
        self.have_fastchunks = false;
        for idx in 0..NFASTBINS {
            let fb = std::mem::take(&mut self.fastbins[idx]);
            for &p in fb.iter().rev() {
                self.coalesce(vm, p);
            }
        }
        Ok(())
    }
}

/// `REVEAL_PTR` of the link stored at `pos` must be `expected`; else a use after free rewrote it.
fn check_link(vm: &AddressSpace, pos: u64, expected: u64) -> Result<(), MemError> {
    let link = protect_ptr(pos, vm.read_word(pos)?);
    if link == expected {
        Ok(())
    } else {
        Err(MemError::CorruptBin { block: pos, link })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glibc::FASTBIN_CONSOLIDATION_THRESHOLD;
    use crate::vm::HEAP_START;

    fn setup() -> (Glibc, AddressSpace) {
        (Glibc::new(), AddressSpace::new(u64::MAX))
    }

    fn held(g: &Glibc, mem: u64) -> Option<Held> {
        g.chunks.get(&(mem - CHUNK_HDR_SZ)).map(|c| c.held)
    }

    #[test]
    fn constants_match_glibc() {
        assert_eq!(MAX_TCACHE_SIZE, 1032);
        assert_eq!(csize2tidx(32), 0);
        assert_eq!(csize2tidx(super::super::request2size(MAX_TCACHE_SIZE)), 63);
        assert_eq!(super::super::request2size(TCACHE_PERTHREAD_SIZE), 0x290);
        assert_eq!((get_max_fast(), NFASTBINS), (128, 10));
        assert_eq!(fastbin_index(32), 0);
        assert_eq!(fastbin_index(128), 6);
    }

    #[test]
    fn a_freed_chunk_holds_its_mangled_link_and_the_key() {
        let (mut g, mut vm) = setup();
        let a = g.malloc(&mut vm, 64).unwrap();
        let b = g.malloc(&mut vm, 64).unwrap();
        let _guard = g.malloc(&mut vm, 64).unwrap();
        g.free(&mut vm, a).unwrap();
        // The bin was empty: the link is PROTECT_PTR (&e->next, NULL).
        assert_eq!(vm.read_word(a), Ok(a >> 12));
        assert_eq!(vm.read_word(a + 8), Ok(TCACHE_KEY));
        g.free(&mut vm, b).unwrap();
        assert_eq!(vm.read_word(b), Ok((b >> 12) ^ a));
        assert_eq!(vm.read_word(b + 8), Ok(TCACHE_KEY));
        // The struct: counts[3] (80-byte chunks, the word's fourth u16) is 2, entries[3] is b.
        let t = HEAP_START + CHUNK_HDR_SZ;
        assert_eq!(csize2tidx(80), 3);
        assert_eq!(vm.read_word(t), Ok(2 << 48));
        assert_eq!(vm.read_word(t + ENTRIES_OFFSET + 3 * 8), Ok(b));
        // Still in use to its neighbours: no footer, PREV_INUSE of the next chunk set.
        assert_eq!(vm.read_word(b + 80 - 8).map(|w| w & 1), Ok(1));
        // Another size does not get it; the same size does, LIFO, and the key is cleared.
        let other = g.malloc(&mut vm, 100).unwrap();
        assert!(other != a && other != b);
        assert_eq!(
            g.malloc(&mut vm, 72).unwrap(),
            b,
            "72 bytes: also an 80-byte chunk"
        );
        assert_eq!(vm.read_word(b + 8), Ok(0));
        assert_eq!(vm.read_word(b), Ok((b >> 12) ^ a), "next is left behind");
        assert_eq!(g.malloc(&mut vm, 64).unwrap(), a);
        assert_eq!(vm.read_word(t), Ok(0));
    }

    #[test]
    fn the_eighth_free_goes_to_a_fastbin_or_the_bins() {
        let (mut g, mut vm) = setup();
        let small: Vec<u64> = (0..9).map(|_| g.malloc(&mut vm, 100).unwrap()).collect();
        let big: Vec<u64> = (0..9).map(|_| g.malloc(&mut vm, 200).unwrap()).collect();
        let _guard = g.malloc(&mut vm, 10).unwrap();
        for &p in &small[..8] {
            g.free(&mut vm, p).unwrap();
        }
        assert_eq!(held(&g, small[6]), Some(Held::Tcache));
        assert_eq!(held(&g, small[7]), Some(Held::Fastbin), "a 112-byte chunk");
        assert_eq!(
            vm.read_word(small[7]),
            Ok(small[7] >> 12),
            "fd: PROTECT_PTR (NULL)"
        );
        g.free(&mut vm, small[8]).unwrap();
        let fd = small[7] - CHUNK_HDR_SZ;
        assert_eq!(
            vm.read_word(small[8]),
            Ok((small[8] >> 12) ^ fd),
            "fd: a chunk"
        );
        assert!(g.have_fastchunks);
        // Not coalesced: two adjacent fastbin chunks stay two.
        assert_eq!(held(&g, small[7]), Some(Held::Fastbin));
        for &p in &big[..8] {
            g.free(&mut vm, p).unwrap();
        }
        assert_eq!(
            held(&g, big[7]),
            Some(Held::Bins),
            "208 bytes: past get_max_fast"
        );
        // Seven from the tcache, then the fastbin's head; the rest of the fastbin moves
        // to the tcache ("while we're here").
        for k in (0..7).rev() {
            assert_eq!(g.malloc(&mut vm, 100).unwrap(), small[k]);
        }
        assert_eq!(g.malloc(&mut vm, 100).unwrap(), small[8]);
        assert_eq!(held(&g, small[7]), Some(Held::Tcache));
        assert_eq!(vm.read_word(small[7] + 8), Ok(TCACHE_KEY));
        assert_eq!(g.malloc(&mut vm, 100).unwrap(), small[7]);
    }

    #[test]
    fn fastbins_are_consolidated_by_a_large_request() {
        let (mut g, mut vm) = setup();
        let p: Vec<u64> = (0..20).map(|_| g.malloc(&mut vm, 100).unwrap()).collect();
        let _guard = g.malloc(&mut vm, 10).unwrap();
        for &q in &p {
            g.free(&mut vm, q).unwrap();
        }
        // Seven in the tcache, thirteen adjacent ones (p[7..]) in a fastbin.
        assert_eq!(g.heap_usage().0, 0);
        // 1,008 bytes is still the small-bin range: the top serves it, nothing consolidates.
        let small = g.malloc(&mut vm, 1000).unwrap();
        assert!(g.have_fastchunks && small > p[19]);
        let big = g.malloc(&mut vm, 1100).unwrap();
        assert!(!g.have_fastchunks);
        assert_eq!(
            big, p[7],
            "1,120 bytes out of the 13 merged 112-byte chunks"
        );
        assert_eq!(
            g.heap_usage(),
            (1, 13 * 112 - 1120, g.heap_usage().2),
            "and their rest"
        );
        assert_eq!(
            held(&g, p[6]),
            Some(Held::Tcache),
            "the tcache is not consolidated"
        );
    }

    #[test]
    fn a_large_coalesced_free_consolidates_the_fastbins() {
        let (mut g, mut vm) = setup();
        let p: Vec<u64> = (0..8).map(|_| g.malloc(&mut vm, 40).unwrap()).collect();
        let huge = g.malloc(&mut vm, FASTBIN_CONSOLIDATION_THRESHOLD).unwrap();
        let _guard = g.malloc(&mut vm, 10).unwrap();
        for &q in &p {
            g.free(&mut vm, q).unwrap();
        }
        assert_eq!(held(&g, p[7]), Some(Held::Fastbin));
        g.free(&mut vm, huge).unwrap();
        assert!(!g.have_fastchunks);
        // p[7] merged forward with the huge chunk.
        assert_eq!(held(&g, p[7]), Some(Held::Bins));
        assert_eq!(g.heap_usage().0, 1);
    }

    #[test]
    fn double_frees_and_overwritten_links_are_caught() {
        let (mut g, mut vm) = setup();
        let p: Vec<u64> = (0..9).map(|_| g.malloc(&mut vm, 24).unwrap()).collect();
        for &q in &p {
            g.free(&mut vm, q).unwrap();
        }
        // "free(): double free detected in tcache 2", and a fastbin's.
        assert_eq!(
            g.free(&mut vm, p[0]),
            Err(MemError::DoubleFree { addr: p[0] })
        );
        assert_eq!(
            g.free(&mut vm, p[8]),
            Err(MemError::DoubleFree { addr: p[8] })
        );
        assert_eq!(
            g.realloc(&mut vm, p[0], 10),
            Err(MemError::DoubleFree { addr: p[0] })
        );
        // The tcache struct was never the program's.
        let t = HEAP_START + CHUNK_HDR_SZ;
        assert_eq!(g.free(&mut vm, t), Err(MemError::InvalidFree { addr: t }));
        // A use after free rewrites the head's link: the next malloc of the size stops.
        vm.write_word(p[6], 0x4141_4141).unwrap();
        let err = g.malloc(&mut vm, 24).unwrap_err();
        assert_eq!(
            err,
            MemError::CorruptBin {
                block: p[6],
                link: (p[6] >> 12) ^ 0x4141_4141
            }
        );
        vm.write_word(p[8], 0).unwrap();
        assert!(matches!(
            g.malloc(&mut vm, 2000),
            Err(MemError::CorruptBin { .. })
        ));
    }

    #[test]
    fn a_tcache_that_cannot_be_had_is_retried() {
        let mut vm = AddressSpace::new(64 << 10);
        let mut g = Glibc::new();
        assert!(matches!(
            g.malloc(&mut vm, 10),
            Err(MemError::OutOfMemory { .. })
        ));
        assert!(g.tcache.is_none());
        assert_eq!(vm.vms(), 0);
    }
}
