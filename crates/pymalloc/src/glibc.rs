//! glibc malloc, as much of it as CPython's memory shows: what `PyMem_RawMalloc` gets for the
//! requests pymalloc does not take (0 bytes, more than 512, and pymalloc's own bookkeeping).
//!
//! Chunks, as in glibc's `malloc/malloc.c` on 64-bit:
//!
//! ```text
//!  chunk -> +--------------------------+
//!           | prev_size (8)            |  size of the previous chunk, only if that one is free;
//!           +--------------------------+  otherwise the last word of its user data
//!           | size (8)      |A|M|P|    |  P = PREV_INUSE (1), M = IS_MMAPPED (2)
//!    mem -> +--------------------------+  <- what malloc returns: chunk + 16, 16-aligned
//!           | user data ...            |
//!           |                          |  usable: size - 8 (the next chunk's prev_size is ours)
//!  next  -> +--------------------------+
//! ```
//!
//! `request2size(n) = max(MINSIZE, (n + SIZE_SZ + 15) & !15)`, `SIZE_SZ` 8, `MALLOC_ALIGNMENT`
//! 16, `MINSIZE` 32. Constants were checked against glibc's `malloc.c` (`DEFAULT_TOP_PAD`
//! 128 KiB, `DEFAULT_MMAP_THRESHOLD_MIN` 128 KiB, `DEFAULT_MMAP_THRESHOLD_MAX`
//! `4 * 1024 * 1024 * sizeof(long)` = 32 MiB on 64-bit, `FASTBIN_CONSOLIDATION_THRESHOLD`
//! 64 KiB); this machine's glibc is 2.36.
//!
//! What is modelled exactly:
//!
//! * The per-thread cache and the fastbins of glibc 2.36 (see [`tcache`]'s docs): the
//!   `tcache_perthread_struct`, a 0x290 chunk that the first `malloc`, `calloc` or `free`
//!   allocates at the start of the heap (`tcache_init`), so every later heap address is where
//!   glibc puts it; `tcache_put`/`tcache_get` with 7 chunks per size, the `next` link mangled by
//!   `PROTECT_PTR` and `tcache_key` written into the freed chunk's first 16 bytes; fastbins for
//!   chunks of up to 128 bytes whose tcache bin is full, LIFO with a mangled `fd`, never
//!   coalesced; `__libc_malloc` taking the tcache bin of exactly its size first, `_int_malloc`
//!   taking a fastbin of exactly its size and moving the rest of that fastbin into the tcache;
//!   `calloc` and `realloc` going to `_int_malloc` and so never getting a tcache chunk;
//!   `malloc_consolidate` where glibc calls it (a request of the large-bin range, 1,024 bytes and
//!   up, while fastbins hold chunks; a top too small for a request while they do; a free whose
//!   coalesced chunk reaches `FASTBIN_CONSOLIDATION_THRESHOLD`). Chunks in the tcache and the
//!   fastbins keep `PREV_INUSE` set in the next chunk: to coalescing they are in use.
//! * The main arena's brk heap: one top chunk at the end; growth by `sbrk` of
//!   `nb + top_pad + MINSIZE - old_top_size`, rounded up to pages (`sysmalloc`); after a free
//!   whose coalesced chunk reaches 64 KiB, consolidation of the fastbins and then trimming when
//!   the top exceeds `trim_threshold`, keeping `top_pad` (`systrim`).
//! * mmapped chunks for requests of at least `mmap_threshold` that the heap cannot serve from
//!   free space: `ALIGN_UP(nb + SIZE_SZ, page)` bytes, header at the mapping's start. Freeing one
//!   larger than the threshold (and at most 32 MiB) raises `mmap_threshold` to its size and
//!   `trim_threshold` to twice that: the dynamic threshold.
//! * `realloc`: an mmapped chunk is `mremap`ped (it may move; its resident pages go with it); a
//!   heap chunk grows in place into the top or a free next chunk, else malloc-copy-free, and a
//!   shrink gives its tail back (through `_int_free`, so to the tcache if it is small).
//! * Size fields, tcache and fastbin links, and the tcache's `counts` and `entries` are written
//!   into the simulated memory where glibc writes them, so they make pages resident exactly as
//!   glibc's writes do, and a client can read them.
//!
//! What is simplified, and why it does not change RSS or VMS in this book's puzzles:
//!
//! * Below the tcache and the fastbins, real glibc sorts free chunks into an unsorted bin, small
//!   bins and large bins, with a "last remainder" and the unsorted bin's own stashing into the
//!   tcache. The model keeps those chunks in one set, coalescing at once (as `_int_free` does),
//!   and serves requests by best fit (smallest chunk that fits, lowest address first), then from
//!   the top. The small-bin "while we're here" stash into the tcache is not modelled either
//!   (the fastbin one is). That decides *which* free chunk is reused for a request of more than
//!   the tcache's 1,032 bytes, or when a tcache bin is empty; but pages of the heap stay resident
//!   once written whichever chunk reuses them, and the heap only shrinks by trimming its top,
//!   which both do only when free space at the top is large, a state reached the same way for
//!   the large buffers (more than pymalloc's 512 bytes) the puzzles are about.
//! * The model does not write the bins' `fd`/`bk` links into free chunks of the bins (only the
//!   tcache's and fastbins' links), so such a chunk's first words keep their old contents.
//! * `tcache_key` is a fixed constant ([`TCACHE_KEY`]) where glibc draws a random one.
//! * Misuse is caught from the model's own records, more often than glibc catches it: any
//!   double free (glibc notices a tcache one by its key, a fastbin one only at the bin's head),
//!   and a tcache or fastbin link overwritten after free ([`MemError::CorruptBin`]), where glibc
//!   would hand out the wild address.
//!
//! Costs are O(log n) in the number of chunks.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::MemError;
use crate::hash::AddrMap;
use crate::vm::{AddressSpace, HEAP_START, MappingId, PAGE_SIZE, RegionKind};

pub mod tcache;

pub use tcache::{
    DEFAULT_MXFAST, MAX_TCACHE_SIZE, NFASTBINS, TCACHE_FILL_COUNT, TCACHE_KEY, TCACHE_MAX_BINS,
    csize2tidx, fastbin_index, protect_ptr,
};
use tcache::{Tcache, get_max_fast, in_smallbin_range};

/// `SIZE_SZ`: the size of a size field.
pub const SIZE_SZ: u64 = 8;
/// `MALLOC_ALIGNMENT`.
pub const MALLOC_ALIGNMENT: u64 = 16;
const MALLOC_ALIGN_MASK: u64 = MALLOC_ALIGNMENT - 1;
/// `MINSIZE`: the smallest chunk.
pub const MINSIZE: u64 = 32;
/// `CHUNK_HDR_SZ`: from a chunk to the memory handed out.
pub const CHUNK_HDR_SZ: u64 = 2 * SIZE_SZ;
/// `DEFAULT_MMAP_THRESHOLD_MIN`: requests of at least this go to mmap, at first.
pub const DEFAULT_MMAP_THRESHOLD: u64 = 128 * 1024;
/// `DEFAULT_MMAP_THRESHOLD_MAX` on 64-bit: the dynamic threshold never rises above this.
pub const DEFAULT_MMAP_THRESHOLD_MAX: u64 = 32 * 1024 * 1024;
/// `DEFAULT_TOP_PAD` (`M_TOP_PAD`): extra bytes asked of `sbrk`, and kept when trimming.
pub const DEFAULT_TOP_PAD: u64 = 128 * 1024;
/// `DEFAULT_TRIM_THRESHOLD` (`M_TRIM_THRESHOLD`).
pub const DEFAULT_TRIM_THRESHOLD: u64 = 128 * 1024;
/// `FASTBIN_CONSOLIDATION_THRESHOLD`: only a free that makes a chunk this big checks for a trim.
pub const FASTBIN_CONSOLIDATION_THRESHOLD: u64 = 64 * 1024;
const DEFAULT_MMAP_MAX: u64 = 65_536;
/// The `PREV_INUSE` bit of a size field.
pub const PREV_INUSE: u64 = 1;
/// The `IS_MMAPPED` bit of a size field.
pub const IS_MMAPPED: u64 = 2;

/// `request2size`: the chunk size serving a request of `req` bytes.
pub const fn request2size(req: u64) -> u64 {
    if req + SIZE_SZ + MALLOC_ALIGN_MASK < MINSIZE {
        MINSIZE
    } else {
        (req + SIZE_SZ + MALLOC_ALIGN_MASK) & !MALLOC_ALIGN_MASK
    }
}

/// `checked_request2size`: requests above `PTRDIFF_MAX` fail.
fn checked_request2size(req: u64) -> Result<u64, MemError> {
    if req > i64::MAX as u64 - MINSIZE {
        return Err(MemError::OutOfMemory { requested: req });
    }
    Ok(request2size(req))
}

const fn align_up(n: u64, to: u64) -> u64 {
    n.div_ceil(to) * to
}

/// The tunables and counters glibc keeps in `mp_`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MallocParams {
    /// `mmap_threshold`: requests of at least this are mmapped (when the heap has no room).
    pub mmap_threshold: u64,
    /// `trim_threshold`: the top is trimmed when it reaches this.
    pub trim_threshold: u64,
    /// `top_pad`.
    pub top_pad: u64,
    /// `n_mmaps`: mmapped chunks now.
    pub n_mmaps: u64,
    /// `n_mmaps_max`.
    pub n_mmaps_max: u64,
    /// `mmapped_mem`: bytes in mmapped chunks now.
    pub mmapped_mem: u64,
    /// `max_mmapped_mem`.
    pub max_mmapped_mem: u64,
}

/// Who holds a chunk of the brk heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    /// The program: `malloc` returned it (the tcache's own struct included).
    Client,
    /// A tcache bin: freed, but in use as far as coalescing goes (`PREV_INUSE` stays set).
    Tcache,
    /// A fastbin: likewise in use as far as coalescing goes.
    Fastbin,
    /// The bins proper (unsorted, small, large; one best-fit set here): free and coalesced.
    Bins,
}

/// A chunk of the brk heap other than the top.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Chunk {
    size: u64,
    held: Held,
}

impl Chunk {
    const fn client(size: u64) -> Chunk {
        Chunk {
            size,
            held: Held::Client,
        }
    }

    /// In use as its neighbours' `PREV_INUSE` bit and coalescing see it: anything but the bins.
    fn in_use(self) -> bool {
        self.held != Held::Bins
    }
}

#[derive(Clone, Copy, Debug)]
struct MmappedChunk {
    size: u64,
    mapping: MappingId,
}

/// What a chunk is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChunkState {
    InUse,
    /// In a tcache bin.
    Tcache,
    /// In a fastbin.
    Fastbin,
    Free,
    Top,
    Mmapped,
}

impl ChunkState {
    /// In use as coalescing sees it: its last word is its own, not a free chunk's footer.
    pub(crate) fn in_use(self) -> bool {
        matches!(self, Self::InUse | Self::Tcache | Self::Fastbin)
    }
}

/// A chunk found by address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChunkView {
    pub(crate) chunk: u64,
    pub(crate) size: u64,
    pub(crate) state: ChunkState,
}

/// The main arena and the mmapped chunks.
#[derive(Debug)]
pub(crate) struct Glibc {
    mp: MallocParams,
    /// The top chunk; 0 before the first `sbrk`.
    top: u64,
    /// Every heap chunk below the top, by address.
    chunks: BTreeMap<u64, Chunk>,
    /// The free ones, by (size, address): best fit is the first entry at or above a size.
    bins: BTreeSet<(u64, u64)>,
    mmapped: AddrMap<MmappedChunk>,
    /// The highest break ever reached (`sbrk_base + max_system_mem`), for `calloc`.
    max_brk: u64,
    /// `tcache`: the thread's cache, once `tcache_init` has allocated it.
    tcache: Option<Tcache>,
    /// `fastbinsY`: per fastbin index, its chunks, the head (last freed) last.
    fastbins: [Vec<u64>; NFASTBINS],
    /// `have_fastchunks`: whether a fastbin may be non-empty, so worth consolidating.
    have_fastchunks: bool,
}

impl Glibc {
    pub(crate) fn new() -> Self {
        Glibc {
            mp: MallocParams {
                mmap_threshold: DEFAULT_MMAP_THRESHOLD,
                trim_threshold: DEFAULT_TRIM_THRESHOLD,
                top_pad: DEFAULT_TOP_PAD,
                n_mmaps: 0,
                n_mmaps_max: DEFAULT_MMAP_MAX,
                mmapped_mem: 0,
                max_mmapped_mem: 0,
            },
            top: 0,
            chunks: BTreeMap::new(),
            bins: BTreeSet::new(),
            mmapped: AddrMap::default(),
            max_brk: HEAP_START,
            tcache: None,
            fastbins: Default::default(),
            have_fastchunks: false,
        }
    }

    pub(crate) fn params(&self) -> MallocParams {
        self.mp
    }

    fn top_size(&self, vm: &AddressSpace) -> u64 {
        if self.top == 0 {
            0
        } else {
            vm.brk() - self.top
        }
    }

    // ---- allocation -------------------------------------------------------------------------

    /// `malloc(bytes)` (`__libc_malloc`): the tcache bin of exactly this chunk size if it has a
    /// chunk, else `_int_malloc`. The first call allocates the tcache itself.
    pub(crate) fn malloc(&mut self, vm: &mut AddressSpace, bytes: u64) -> Result<u64, MemError> {
        let tbytes = checked_request2size(bytes)?;
        let tc_idx = csize2tidx(tbytes);
        self.maybe_init_tcache(vm)?;
        if let Some(victim) = self.tcache_get(vm, tc_idx)? {
            return Ok(victim);
        }
        Ok(self.int_malloc(vm, tbytes)? + CHUNK_HDR_SZ)
    }

    /// `_int_malloc`: a fastbin chunk of exactly this size (stashing the bin's other chunks in
    /// the tcache), else a chunk of the bins (best fit), else the top; if the top is too small
    /// while fastbins hold chunks, consolidate them and look again; else `sysmalloc`. A request
    /// of the large-bin range consolidates the fastbins first.
    fn int_malloc(&mut self, vm: &mut AddressSpace, nb: u64) -> Result<u64, MemError> {
        if nb <= get_max_fast()
            && let Some(victim) = self.fastbin_malloc(vm, nb)?
        {
            return Ok(victim);
        }
        if !in_smallbin_range(nb) && self.have_fastchunks {
            self.malloc_consolidate(vm)?;
        }
        loop {
            if let Some(&(size, chunk)) = self.bins.range((nb, 0)..).next() {
                self.bins.remove(&(size, chunk));
                self.carve(vm, chunk, size, nb);
                return Ok(chunk);
            }
            if let Some(chunk) = self.split_top(vm, nb) {
                return Ok(chunk);
            }
            if !self.have_fastchunks {
                return self.sysmalloc(vm, nb);
            }
            self.malloc_consolidate(vm)?;
        }
    }

    /// Puts free chunk `chunk` (out of the bins) in use for `nb` bytes; a remainder of at least
    /// `MINSIZE` stays free.
    fn carve(&mut self, vm: &mut AddressSpace, chunk: u64, size: u64, nb: u64) {
        if size - nb >= MINSIZE {
            let rest = self.split(vm, chunk, size, nb, Held::Bins);
            self.bins.insert((size - nb, rest));
        } else {
            self.place(vm, chunk, size);
        }
    }

    /// Records `chunk` as one in-use chunk of `size` bytes, with its size fields in memory.
    fn place(&mut self, vm: &mut AddressSpace, chunk: u64, size: u64) {
        self.chunks.insert(chunk, Chunk::client(size));
        self.set_heads(vm, chunk);
    }

    /// Divides the `size` bytes at `chunk` into an in-use chunk of `nb` bytes and the rest, and
    /// writes both chunks' size fields (after recording both, since each field depends on its
    /// neighbour's state). Returns the rest's address.
    fn split(
        &mut self,
        vm: &mut AddressSpace,
        chunk: u64,
        size: u64,
        nb: u64,
        rest_held: Held,
    ) -> u64 {
        let rest = chunk + nb;
        self.chunks.insert(chunk, Chunk::client(nb));
        self.chunks.insert(
            rest,
            Chunk {
                size: size - nb,
                held: rest_held,
            },
        );
        self.set_heads(vm, chunk);
        self.set_heads(vm, rest);
        rest
    }

    /// Splits `nb` bytes off the top, if the top keeps at least `MINSIZE` after.
    fn split_top(&mut self, vm: &mut AddressSpace, nb: u64) -> Option<u64> {
        if self.top == 0 || self.top_size(vm) < nb + MINSIZE {
            return None;
        }
        let chunk = self.top;
        self.top = chunk + nb;
        self.chunks.insert(chunk, Chunk::client(nb));
        self.set_heads(vm, chunk);
        Some(chunk)
    }

    /// `sysmalloc`: mmap a large request, else grow the heap.
    fn sysmalloc(&mut self, vm: &mut AddressSpace, nb: u64) -> Result<u64, MemError> {
        if nb >= self.mp.mmap_threshold
            && self.mp.n_mmaps < self.mp.n_mmaps_max
            && let Some(chunk) = self.sysmalloc_mmap(vm, nb)
        {
            return Ok(chunk);
        }
        // Request enough space for nb + pad + overhead, less what the top already has: the new
        // space is contiguous with it (nothing else moves this break).
        let size = align_up(
            nb + self.mp.top_pad + MINSIZE - self.top_size(vm),
            PAGE_SIZE,
        );
        // Don't try to call MORECORE if argument is so big as to appear negative.
        let increment = i64::try_from(size).map_err(|_| MemError::OutOfMemory { requested: nb })?;
        let old_brk = vm.sbrk(increment)?;
        if self.top == 0 {
            self.top = old_brk;
        }
        self.max_brk = self.max_brk.max(vm.brk());
        self.split_top(vm, nb)
            .ok_or(MemError::OutOfMemory { requested: nb })
    }

    /// `sysmalloc_mmap`: a chunk alone in its own mapping.
    fn sysmalloc_mmap(&mut self, vm: &mut AddressSpace, nb: u64) -> Option<u64> {
        let size = align_up(nb + SIZE_SZ, PAGE_SIZE);
        let (chunk, mapping) = vm.mmap(size, RegionKind::Chunk).ok()?;
        self.mmapped.insert(chunk, MmappedChunk { size, mapping });
        vm.write_word_in(mapping, chunk, 0); // set_prev_size (p, 0)
        vm.write_word_in(mapping, chunk + SIZE_SZ, size | IS_MMAPPED);
        self.mp.n_mmaps += 1;
        self.mp.mmapped_mem += size;
        self.mp.max_mmapped_mem = self.mp.max_mmapped_mem.max(self.mp.mmapped_mem);
        Some(chunk)
    }

    /// `calloc(1, bytes)`: memory that may hold old data is cleared, which makes it resident;
    /// an mmapped chunk and memory above the highest break ever reached are fresh zeros.
    /// Like glibc 2.36's `__libc_calloc`, it calls `_int_malloc` directly: no tcache chunk.
    pub(crate) fn calloc(&mut self, vm: &mut AddressSpace, bytes: u64) -> Result<u64, MemError> {
        self.maybe_init_tcache(vm)?;
        let oldtop = self.top;
        let mut oldtopsize = self.top_size(vm);
        if oldtop != 0 {
            // Only newly allocated memory is guaranteed to be cleared.
            oldtopsize = oldtopsize.max(self.max_brk - oldtop);
        }
        let chunk = self.int_malloc(vm, checked_request2size(bytes)?)?;
        let mem = chunk + CHUNK_HDR_SZ;
        let Some(c) = self.chunks.get(&chunk) else {
            return Ok(mem); // mmapped: fresh zero pages
        };
        let mut csz = c.size;
        if chunk == oldtop && csz > oldtopsize {
            // Clear only the bytes from non-freshly-sbrked memory.
            csz = oldtopsize;
        }
        vm.zero(mem, csz.saturating_sub(SIZE_SZ))?;
        Ok(mem)
    }

    // ---- free ---------------------------------------------------------------------------------

    /// `free(mem)` (`__libc_free`). A chunk that is not the program's is a double free: glibc
    /// itself notices only some (a tcache chunk by its `key`, a fastbin's head, a chunk whose
    /// next chunk's `PREV_INUSE` is clear); the model notices all, from its own records.
    pub(crate) fn free(&mut self, vm: &mut AddressSpace, mem: u64) -> Result<(), MemError> {
        if mem == 0 {
            return Ok(());
        }
        let chunk = mem.wrapping_sub(CHUNK_HDR_SZ);
        if let Some(&m) = self.mmapped.get(&chunk) {
            self.update_dynamic_threshold(m.size);
            self.munmap_chunk(vm, chunk);
            return Ok(());
        }
        match self.chunks.get(&chunk) {
            Some(c) if c.held == Held::Client && !self.is_tcache_struct(chunk) => {
                self.maybe_init_tcache(vm)?;
                self.int_free(vm, chunk)
            }
            Some(c) if c.held == Held::Client => Err(MemError::InvalidFree { addr: mem }),
            Some(_) => Err(MemError::DoubleFree { addr: mem }),
            None => Err(Self::bad_pointer(vm, mem)),
        }
    }

    /// glibc reads the size field before anything else: unmapped, that is a segfault; mapped but
    /// not a chunk, `free(): invalid pointer`.
    fn bad_pointer(vm: &AddressSpace, mem: u64) -> MemError {
        let size_field = mem.wrapping_sub(SIZE_SZ);
        if vm.find(size_field).is_none() {
            MemError::Segfault { addr: size_field }
        } else {
            MemError::InvalidFree { addr: mem }
        }
    }

    /// In `__libc_free`: a freed mmapped chunk larger than the threshold (compared with its flag
    /// bits, as `chunksize_nomask` does) raises the threshold to its size.
    fn update_dynamic_threshold(&mut self, size: u64) {
        let nomask = size | IS_MMAPPED;
        if nomask > self.mp.mmap_threshold && nomask <= DEFAULT_MMAP_THRESHOLD_MAX {
            self.mp.mmap_threshold = size;
            self.mp.trim_threshold = 2 * size;
        }
    }

    fn munmap_chunk(&mut self, vm: &mut AddressSpace, chunk: u64) {
        if let Some(m) = self.mmapped.remove(&chunk) {
            vm.munmap(m.mapping);
            self.mp.n_mmaps -= 1;
            self.mp.mmapped_mem -= m.size;
        }
    }

    /// `_int_free` for a heap chunk in use: into its tcache bin if that has room, else into its
    /// fastbin if it is that small, else coalesce it into the bins or the top, and after a free
    /// that makes a chunk of `FASTBIN_CONSOLIDATION_THRESHOLD`, consolidate the fastbins and
    /// maybe trim.
    fn int_free(&mut self, vm: &mut AddressSpace, chunk: u64) -> Result<(), MemError> {
        let Some(&c) = self.chunks.get(&chunk) else {
            return Ok(());
        };
        if self.tcache_free(vm, chunk, c.size) {
            return Ok(());
        }
        if c.size <= get_max_fast() {
            self.fastbin_free(vm, chunk, c.size);
            return Ok(());
        }
        let size = self.coalesce(vm, chunk);
        if size >= FASTBIN_CONSOLIDATION_THRESHOLD {
            if self.have_fastchunks {
                self.malloc_consolidate(vm)?;
            }
            if self.top_size(vm) >= self.mp.trim_threshold {
                self.systrim(vm, self.mp.top_pad);
            }
        }
        Ok(())
    }

    /// The consolidating part of `_int_free` (and of `malloc_consolidate`): merges `chunk` with
    /// a free chunk before and after it, or into the top, and returns the merged size.
    fn coalesce(&mut self, vm: &mut AddressSpace, chunk: u64) -> u64 {
        let Some(c) = self.chunks.remove(&chunk) else {
            return 0;
        };
        let (mut p, mut size) = (chunk, c.size);
        let next = chunk + c.size;
        if let Some((&q, &prev)) = self.chunks.range(..p).next_back()
            && !prev.in_use()
        {
            // Consolidate backward.
            self.bins.remove(&(prev.size, q));
            p = q;
            size += prev.size;
        }
        if next == self.top {
            size += self.top_size(vm);
            self.chunks.remove(&p);
            self.top = p;
            self.set_heads(vm, p);
        } else {
            if let Some(n) = self.chunks.get(&next).copied().filter(|n| !n.in_use()) {
                self.chunks.remove(&next);
                self.bins.remove(&(n.size, next));
                size += n.size;
            }
            self.chunks.insert(
                p,
                Chunk {
                    size,
                    held: Held::Bins,
                },
            );
            self.bins.insert((size, p));
            self.set_heads(vm, p);
        }
        size
    }

    /// `systrim(pad)`: give the top back to the system, in whole pages, keeping `pad`.
    fn systrim(&mut self, vm: &mut AddressSpace, pad: u64) {
        let top_area = self.top_size(vm) as i64 - MINSIZE as i64 - 1;
        if top_area <= pad as i64 {
            return;
        }
        let extra = (top_area as u64 - pad) / PAGE_SIZE * PAGE_SIZE;
        if extra == 0 {
            return;
        }
        // Shrinking the break cannot fail.
        let _old_brk = vm.sbrk(-(extra as i64));
        self.set_heads(vm, self.top);
    }

    // ---- realloc ------------------------------------------------------------------------------

    /// `realloc(mem, bytes)`.
    pub(crate) fn realloc(
        &mut self,
        vm: &mut AddressSpace,
        mem: u64,
        bytes: u64,
    ) -> Result<u64, MemError> {
        if mem == 0 {
            return self.malloc(vm, bytes);
        }
        let nb = checked_request2size(bytes)?;
        let chunk = mem.wrapping_sub(CHUNK_HDR_SZ);
        if let Some(&m) = self.mmapped.get(&chunk) {
            return self.realloc_mmapped(vm, chunk, m.size, nb, bytes);
        }
        match self.chunks.get(&chunk) {
            Some(c) if c.held == Held::Client && !self.is_tcache_struct(chunk) => {
                Ok(self.int_realloc(vm, chunk, c.size, nb)? + CHUNK_HDR_SZ)
            }
            Some(c) if c.held == Held::Client => Err(MemError::InvalidFree { addr: mem }),
            Some(_) => Err(MemError::DoubleFree { addr: mem }),
            None => Err(Self::bad_pointer(vm, mem)),
        }
    }

    /// `mremap_chunk`, and glibc's fallbacks when it fails.
    fn realloc_mmapped(
        &mut self,
        vm: &mut AddressSpace,
        chunk: u64,
        size: u64,
        nb: u64,
        bytes: u64,
    ) -> Result<u64, MemError> {
        if let Some(new) = self.mremap_chunk(vm, chunk, nb) {
            return Ok(new + CHUNK_HDR_SZ);
        }
        let mem = chunk + CHUNK_HDR_SZ;
        if size - SIZE_SZ >= nb {
            return Ok(mem); // do nothing
        }
        let new = self.malloc(vm, bytes)?;
        vm.copy(mem, new, size - CHUNK_HDR_SZ)?;
        self.munmap_chunk(vm, chunk);
        Ok(new)
    }

    fn mremap_chunk(&mut self, vm: &mut AddressSpace, chunk: u64, nb: u64) -> Option<u64> {
        let m = *self.mmapped.get(&chunk)?;
        let new_size = align_up(nb + SIZE_SZ, PAGE_SIZE);
        if new_size == m.size {
            return Some(chunk); // no need to remap if the number of pages does not change
        }
        let new = vm.mremap(m.mapping, new_size).ok()?;
        self.mmapped.remove(&chunk);
        self.mmapped.insert(
            new,
            MmappedChunk {
                size: new_size,
                mapping: m.mapping,
            },
        );
        vm.write_word_in(m.mapping, new + SIZE_SZ, new_size | IS_MMAPPED);
        self.mp.mmapped_mem = self.mp.mmapped_mem - m.size + new_size;
        self.mp.max_mmapped_mem = self.mp.max_mmapped_mem.max(self.mp.mmapped_mem);
        Some(new)
    }

    /// `_int_realloc` for a heap chunk in use: returns the chunk now holding the data.
    fn int_realloc(
        &mut self,
        vm: &mut AddressSpace,
        chunk: u64,
        oldsize: u64,
        nb: u64,
    ) -> Result<u64, MemError> {
        let next = chunk + oldsize;
        let newsize = if oldsize >= nb {
            oldsize // already big enough; split below
        } else if next == self.top && oldsize + self.top_size(vm) >= nb + MINSIZE {
            // Expand forward into top.
            self.chunks.insert(chunk, Chunk::client(nb));
            self.top = chunk + nb;
            self.set_heads(vm, chunk);
            return Ok(chunk);
        } else if let Some(n) = self.free_next(next, oldsize, nb) {
            // Expand forward into the free next chunk; split off the remainder below.
            self.chunks.remove(&next);
            self.bins.remove(&(n, next));
            oldsize + n
        } else {
            let new = self.int_malloc(vm, nb)?;
            if new != next {
                vm.copy(chunk + CHUNK_HDR_SZ, new + CHUNK_HDR_SZ, oldsize - SIZE_SZ)?;
                self.int_free(vm, chunk)?;
                return Ok(new);
            }
            // Avoid copy if the new chunk is the next one after ours.
            let n = self.chunks.remove(&next).map_or(0, |c| c.size);
            oldsize + n
        };
        self.shrink_in_use(vm, chunk, newsize, nb)?;
        Ok(chunk)
    }

    /// The size of the free chunk at `next`, if merging it gives at least `nb`.
    fn free_next(&self, next: u64, oldsize: u64, nb: u64) -> Option<u64> {
        let n = self.chunks.get(&next)?;
        (!n.in_use() && oldsize + n.size >= nb).then_some(n.size)
    }

    /// Makes `chunk` an in-use chunk of `nb` bytes out of `newsize`, freeing a remainder of at
    /// least `MINSIZE`.
    fn shrink_in_use(
        &mut self,
        vm: &mut AddressSpace,
        chunk: u64,
        newsize: u64,
        nb: u64,
    ) -> Result<(), MemError> {
        if newsize - nb < MINSIZE {
            self.place(vm, chunk, newsize);
            Ok(())
        } else {
            // As glibc's _int_realloc: mark the remainder in use, then free it normally.
            let rest = self.split(vm, chunk, newsize, nb, Held::Client);
            self.int_free(vm, rest)
        }
    }

    // ---- size fields in memory ----------------------------------------------------------------

    fn prev_in_use(&self, chunk: u64) -> bool {
        self.chunks
            .range(..chunk)
            .next_back()
            .is_none_or(|(_, prev)| prev.in_use())
    }

    /// Writes `chunk`'s size field, its footer if it is free, and the next chunk's `PREV_INUSE`,
    /// as glibc's `set_head`, `set_foot` and `set_inuse_bit_at_offset` do.
    fn set_heads(&self, vm: &mut AddressSpace, chunk: u64) {
        let top_size = self.top_size(vm);
        if chunk == self.top {
            poke(vm, chunk + SIZE_SZ, top_size | PREV_INUSE);
            return;
        }
        let Some(&c) = self.chunks.get(&chunk) else {
            return;
        };
        let prev = if self.prev_in_use(chunk) {
            PREV_INUSE
        } else {
            0
        };
        poke(vm, chunk + SIZE_SZ, c.size | prev);
        let next = chunk + c.size;
        if !c.in_use() {
            poke(vm, next, c.size);
        }
        let next_size = self.chunks.get(&next).map_or(top_size, |n| n.size);
        poke(vm, next + SIZE_SZ, next_size | u64::from(c.in_use()));
    }

    // ---- inspection ---------------------------------------------------------------------------

    /// The heap chunk (or top) covering `addr`.
    pub(crate) fn heap_chunk(&self, vm: &AddressSpace, addr: u64) -> Option<ChunkView> {
        if self.top != 0 && (self.top..vm.brk()).contains(&addr) {
            return Some(ChunkView {
                chunk: self.top,
                size: self.top_size(vm),
                state: ChunkState::Top,
            });
        }
        let (&chunk, c) = self.chunks.range(..=addr).next_back()?;
        (addr < chunk + c.size).then_some(ChunkView {
            chunk,
            size: c.size,
            state: match c.held {
                Held::Client => ChunkState::InUse,
                Held::Tcache => ChunkState::Tcache,
                Held::Fastbin => ChunkState::Fastbin,
                Held::Bins => ChunkState::Free,
            },
        })
    }

    /// The mmapped chunk starting at `chunk` (a mapping's start).
    pub(crate) fn mmapped_chunk(&self, chunk: u64) -> Option<ChunkView> {
        self.mmapped.get(&chunk).map(|m| ChunkView {
            chunk,
            size: m.size,
            state: ChunkState::Mmapped,
        })
    }

    /// Whether the word at `addr` is a size field, a free chunk's footer, or the tcache's own
    /// struct, which a client write would corrupt. (The links in a tcache or fastbin chunk are
    /// the freed chunk's first words: writing them is a use after free, caught when the list is
    /// next followed.)
    pub(crate) fn is_metadata(&self, vm: &AddressSpace, addr: u64) -> bool {
        if self.in_tcache_struct(addr) {
            return true;
        }
        if let Some(m) = vm
            .find(addr)
            .and_then(|id| self.mmapped_chunk(vm.mapping(id).start))
        {
            return addr < m.chunk + CHUNK_HDR_SZ;
        }
        self.heap_chunk(vm, addr).is_some_and(|v| {
            addr == v.chunk + SIZE_SZ || (addr == v.chunk && !self.prev_in_use(v.chunk))
        })
    }

    /// Top excluded, as `mallinfo` counts: chunks in the bins (`ordblks`, less the top), bytes
    /// in the bins and fastbins (`fordblks`, less the top), and bytes in use, tcache chunks
    /// included (`uordblks`: glibc's `mallinfo` does not look into the tcache).
    pub(crate) fn heap_usage(&self) -> (usize, u64, u64) {
        self.chunks
            .values()
            .fold((0, 0, 0), |(n, free, used), c| match c.held {
                Held::Client | Held::Tcache => (n, free, used + c.size),
                Held::Fastbin => (n, free + c.size, used),
                Held::Bins => (n + 1, free + c.size, used),
            })
    }

    /// The top chunk's size.
    pub(crate) fn keepcost(&self, vm: &AddressSpace) -> u64 {
        self.top_size(vm)
    }
}

/// Writes a word glibc writes; the heap below the break is always mapped.
fn poke(vm: &mut AddressSpace, addr: u64, value: u64) {
    if let Some(id) = vm.find(addr) {
        vm.write_word_in(id, addr, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Glibc, AddressSpace) {
        (Glibc::new(), AddressSpace::new(u64::MAX))
    }

    #[test]
    fn request2size_rounds_like_glibc() {
        assert_eq!(request2size(0), 32);
        assert_eq!(request2size(24), 32);
        assert_eq!(request2size(25), 48);
        assert_eq!(request2size(1000), 1008);
        assert_eq!(request2size(131_072), 131_088);
    }

    #[test]
    fn first_malloc_grows_the_heap_by_request_plus_top_pad() {
        let (mut g, mut vm) = setup();
        let mem = g.malloc(&mut vm, 1000).unwrap();
        // The first malloc's tcache_init took the heap's first chunk: 640 bytes, a 0x290 chunk.
        assert_eq!(vm.read_word(HEAP_START + 8), Ok(0x290 | PREV_INUSE));
        assert_eq!(mem, HEAP_START + 0x290 + 16);
        // For it, nb 656 + top_pad 131072 + MINSIZE 32 = 131760, rounded up to pages: 135168.
        assert_eq!(vm.brk() - HEAP_START, 135_168);
        assert_eq!(vm.read_word(mem - 8), Ok(1008 | PREV_INUSE));
        let top = mem - 16 + 1008;
        assert_eq!(
            vm.read_word(top + 8),
            Ok((135_168 - 0x290 - 1008) | PREV_INUSE)
        );
    }

    #[test]
    fn large_requests_are_mmapped_with_a_header() {
        let (mut g, mut vm) = setup();
        let mem = g.malloc(&mut vm, 200_000).unwrap();
        let chunk = mem - 16;
        assert_eq!(chunk % PAGE_SIZE, 0);
        let size = align_up(request2size(200_000) + 8, PAGE_SIZE);
        assert_eq!(vm.read_word(chunk + 8), Ok(size | IS_MMAPPED));
        assert_eq!(g.params().mmapped_mem, size);
        // The tcache's struct on the heap's first page, and the header's page.
        assert_eq!(vm.rss(), 2 * PAGE_SIZE, "only the header's page is written");
    }

    #[test]
    fn freeing_an_mmapped_chunk_raises_the_threshold() {
        let (mut g, mut vm) = setup();
        let mem = g.malloc(&mut vm, 1 << 20).unwrap();
        g.free(&mut vm, mem).unwrap();
        let size = align_up(request2size(1 << 20) + 8, PAGE_SIZE);
        assert_eq!(g.params().mmap_threshold, size);
        assert_eq!(g.params().trim_threshold, 2 * size);
        // Now the same request comes from the heap.
        let again = g.malloc(&mut vm, 1 << 20).unwrap();
        assert!(g.heap_chunk(&vm, again).is_some());
        // Above 32 MiB the threshold stays.
        let huge = g.malloc(&mut vm, 40 << 20).unwrap();
        g.free(&mut vm, huge).unwrap();
        assert_eq!(g.params().mmap_threshold, size);
    }

    #[test]
    fn free_coalesces_and_best_fit_reuses() {
        // Chunks of more than the tcache's 1,040 bytes go straight to the bins.
        let (mut g, mut vm) = setup();
        let a = g.malloc(&mut vm, 1100).unwrap();
        let b = g.malloc(&mut vm, 1100).unwrap();
        let c = g.malloc(&mut vm, 1100).unwrap();
        let _guard = g.malloc(&mut vm, 1100).unwrap();
        g.free(&mut vm, a).unwrap();
        g.free(&mut vm, c).unwrap();
        g.free(&mut vm, b).unwrap();
        let (free_chunks, free_bytes, _) = g.heap_usage();
        assert_eq!((free_chunks, free_bytes), (1, 3 * 1120));
        assert_eq!(g.malloc(&mut vm, 2200).unwrap(), a);
        assert_eq!(g.free(&mut vm, b), Err(MemError::InvalidFree { addr: b }));
    }

    #[test]
    fn requests_too_big_for_any_mapping_fail() {
        let (mut g, mut vm) = setup();
        let a = g.malloc(&mut vm, 100).unwrap();
        let heap = vm.brk();
        for bytes in [i64::MAX as u64 - 100, 1 << 62, 1 << 47] {
            assert!(matches!(
                g.malloc(&mut vm, bytes),
                Err(MemError::OutOfMemory { .. })
            ));
            assert!(matches!(
                g.realloc(&mut vm, a, bytes),
                Err(MemError::OutOfMemory { .. })
            ));
        }
        assert_eq!(vm.brk(), heap);
        assert_eq!(g.free(&mut vm, a), Ok(()));
    }

    #[test]
    fn misuse_is_reported() {
        let (mut g, mut vm) = setup();
        let a = g.malloc(&mut vm, 100).unwrap();
        let _b = g.malloc(&mut vm, 100).unwrap();
        g.free(&mut vm, a).unwrap();
        assert_eq!(g.free(&mut vm, a), Err(MemError::DoubleFree { addr: a }));
        assert_eq!(
            g.free(&mut vm, a + 16),
            Err(MemError::InvalidFree { addr: a + 16 })
        );
        assert_eq!(
            g.free(&mut vm, 0x1000),
            Err(MemError::Segfault { addr: 0x1000 - 8 })
        );
    }

    #[test]
    fn freeing_into_a_large_top_trims_it() {
        let (mut g, mut vm) = setup();
        let a = g.malloc(&mut vm, 100_000).unwrap();
        let b = g.malloc(&mut vm, 100_000).unwrap();
        let c = g.malloc(&mut vm, 100_000).unwrap();
        let grown = vm.brk();
        g.free(&mut vm, c).unwrap();
        // The top is now 135,184 bytes: less than a page above top_pad + MINSIZE, no trim.
        assert_eq!(vm.brk(), grown);
        g.free(&mut vm, b).unwrap();
        assert!(vm.brk() < grown);
        // top_pad is kept: the top is at least 128 KiB and less than a page more.
        let top = g.keepcost(&vm);
        assert!((DEFAULT_TOP_PAD..DEFAULT_TOP_PAD + MINSIZE + PAGE_SIZE + 1).contains(&top));
        g.free(&mut vm, a).unwrap();
        assert_eq!(g.heap_usage(), (0, 0, 0x290), "the tcache's struct stays");
        assert!(g.keepcost(&vm) < DEFAULT_TOP_PAD + MINSIZE + PAGE_SIZE + 1);
    }

    #[test]
    fn realloc_grows_into_top_in_place_and_moves_when_blocked() {
        let (mut g, mut vm) = setup();
        let a = g.malloc(&mut vm, 1000).unwrap();
        vm.write_word(a, 77).unwrap();
        assert_eq!(g.realloc(&mut vm, a, 5000), Ok(a));
        let _b = g.malloc(&mut vm, 10).unwrap();
        let moved = g.realloc(&mut vm, a, 9000).unwrap();
        assert_ne!(moved, a);
        assert_eq!(vm.read_word(moved), Ok(77));
        // Shrinking keeps the address and frees the tail.
        assert_eq!(g.realloc(&mut vm, moved, 100), Ok(moved));
    }

    #[test]
    fn realloc_of_an_mmapped_chunk_uses_mremap() {
        let (mut g, mut vm) = setup();
        let a = g.malloc(&mut vm, 300_000).unwrap();
        vm.write_word(a, 5).unwrap();
        let b = g.realloc(&mut vm, a, 3_000_000).unwrap();
        assert_eq!(vm.read_word(b), Ok(5));
        assert_eq!(g.params().n_mmaps, 1);
        let c = g.realloc(&mut vm, b, 100).unwrap();
        assert_eq!(c, b, "shrinking remaps in place");
        assert_eq!(g.params().mmapped_mem, PAGE_SIZE);
    }

    #[test]
    fn calloc_clears_reused_memory_but_not_fresh_pages() {
        let (mut g, mut vm) = setup();
        let small = g.malloc(&mut vm, 64).unwrap();
        g.free(&mut vm, small).unwrap();
        // __libc_calloc calls _int_malloc: the tcache's 64-byte chunk is not for it.
        assert_ne!(g.calloc(&mut vm, 64).unwrap(), small);
        assert_eq!(g.malloc(&mut vm, 64).unwrap(), small, "malloc's, though");
        let a = g.malloc(&mut vm, 2000).unwrap();
        vm.write_word(a, 9).unwrap();
        let _guard = g.malloc(&mut vm, 10).unwrap();
        g.free(&mut vm, a).unwrap();
        let b = g.calloc(&mut vm, 2000).unwrap();
        assert_eq!(b, a);
        assert_eq!(vm.read_word(b), Ok(0));
        let rss = vm.rss();
        let big = g.calloc(&mut vm, 262_144).unwrap();
        assert_eq!(
            vm.rss(),
            rss + PAGE_SIZE,
            "an mmapped calloc writes only its header"
        );
        assert_eq!(vm.read_word(big + 4096), Ok(0));
    }

    #[test]
    fn size_fields_are_metadata() {
        let (mut g, mut vm) = setup();
        let a = g.malloc(&mut vm, 1100).unwrap();
        let b = g.malloc(&mut vm, 1100).unwrap();
        assert!(g.is_metadata(&vm, a - 8));
        assert!(!g.is_metadata(&vm, a));
        // a's last word overlaps b's prev_size while a is in use...
        assert!(!g.is_metadata(&vm, b - 16));
        g.free(&mut vm, a).unwrap();
        // ...and is a's footer once a is free.
        assert!(g.is_metadata(&vm, b - 16));
        assert_eq!(vm.read_word(b - 16), Ok(1120));
        // The tcache's struct is glibc's, all of it.
        assert!(g.is_metadata(&vm, HEAP_START + 16));
        assert!(g.is_metadata(&vm, HEAP_START + 0x288));
        assert!(!g.is_metadata(&vm, HEAP_START + 0x290 + 16));
    }
}
