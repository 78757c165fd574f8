//! Statistics with CPython's meaning, and `sys._debugmallocstats()`'s report.
//!
//! The numbers are gathered as `_PyObject_DebugMallocStats` gathers them: by visiting every
//! allocated arena and every pool carved from it (full pools are in no list, so walking the
//! arenas is the only way to see them). The report reproduces the pymalloc part of the real one
//! character for character: the same headings, `%5u %6u %11zu %15zu %13zu` rows, and `printone`'s
//! 35-column labels with 21-column, comma-grouped numbers. The free-list lines that follow in a
//! real report belong to the object layer, so they are left out.

use std::fmt::Write;

use crate::Allocator;
use crate::profile::{NB_SMALL_SIZE_CLASSES, POOL_OVERHEAD, SMALL_REQUEST_THRESHOLD, index2size};
use crate::vm::HEAP_START;

/// One row of the size-class table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassStats {
    /// The size class index.
    pub class: u32,
    /// Its block size.
    pub size: u32,
    /// Pools of this class holding at least one block (used or full).
    pub num_pools: u64,
    /// Blocks handed out.
    pub blocks_in_use: u64,
    /// Blocks free in those pools, carved or not.
    pub avail_blocks: u64,
}

/// The arena map's size (3.10+).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArenaMapStats {
    /// `arena_map_mid_count`.
    pub mid_nodes: u64,
    /// `arena_map_bot_count`.
    pub bot_nodes: u64,
    /// `sizeof(arena_map_root)` (static; not in the model's VMS).
    pub root_bytes: u64,
    /// Bytes in mid nodes.
    pub mid_bytes: u64,
    /// Bytes in bottom nodes.
    pub bot_bytes: u64,
}

/// The system allocator's side, in `mallinfo2` terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemStats {
    /// `arena`: bytes in the brk heap.
    pub heap_bytes: u64,
    /// `uordblks`: bytes in heap chunks in use, counting chunks in the tcache (which glibc's
    /// `mallinfo` does not look into) but not those in fastbins.
    pub heap_in_use_bytes: u64,
    /// `ordblks` less the top: free heap chunks in the bins (fastbin chunks are `smblks`).
    pub heap_free_chunks: u64,
    /// `fordblks` less `keepcost`: bytes in free heap chunks, the bins' and the fastbins'.
    pub heap_free_bytes: u64,
    /// `keepcost`: bytes in the top chunk.
    pub top_bytes: u64,
    /// `hblks`: mmapped chunks.
    pub mmapped_chunks: u64,
    /// `hblkhd`: bytes in mmapped chunks.
    pub mmapped_bytes: u64,
    /// The current (dynamic) mmap threshold.
    pub mmap_threshold: u64,
    /// The current trim threshold.
    pub trim_threshold: u64,
}

/// Everything `sys._debugmallocstats()` reports for pymalloc, plus the process's memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// `ARENA_SIZE`.
    pub arena_size: u64,
    /// `POOL_SIZE`.
    pub pool_size: u64,
    /// One row per size class, all 32, empty ones included.
    pub classes: Vec<ClassStats>,
    /// `ntimes_arena_allocated`: arenas ever mapped.
    pub arenas_allocated_total: u64,
    /// Arenas mapped and since unmapped.
    pub arenas_reclaimed: u64,
    /// `narenas_highwater`.
    pub arenas_highwater: u64,
    /// Arenas mapped now.
    pub arenas_allocated_current: u64,
    /// Bytes in blocks handed out.
    pub bytes_in_allocated_blocks: u64,
    /// Bytes in free blocks of used pools.
    pub bytes_in_available_blocks: u64,
    /// Free pools plus pools never carved.
    pub unused_pools: u64,
    /// 48 bytes per used or full pool.
    pub bytes_lost_to_pool_headers: u64,
    /// The tail of each used or full pool too small for a block.
    pub bytes_lost_to_quantization: u64,
    /// A pool per arena that does not start on a pool boundary.
    pub bytes_lost_to_arena_alignment: u64,
    /// The arena map, from 3.10.
    pub arena_map: Option<ArenaMapStats>,
    /// `sys.getallocatedblocks()`.
    pub allocated_blocks: i64,
    /// Resident bytes.
    pub rss: u64,
    /// Mapped bytes.
    pub vms: u64,
    /// glibc's side.
    pub system: SystemStats,
}

impl Stats {
    /// The arena bytes accounted for: equals `arenas_allocated_current * arena_size`.
    pub fn total(&self) -> u64 {
        self.bytes_in_allocated_blocks
            + self.bytes_in_available_blocks
            + self.unused_pools * self.pool_size
            + self.bytes_lost_to_pool_headers
            + self.bytes_lost_to_quantization
            + self.bytes_lost_to_arena_alignment
    }
}

impl Allocator {
    /// The statistics, gathered as `_PyObject_DebugMallocStats` gathers them.
    pub fn stats(&self) -> Stats {
        let pool_size = self.profile.pool_size();
        let mut classes: Vec<ClassStats> = (0..NB_SMALL_SIZE_CLASSES as u32)
            .map(|class| ClassStats {
                class,
                size: index2size(class),
                num_pools: 0,
                blocks_in_use: 0,
                avail_blocks: 0,
            })
            .collect();
        let (mut narenas, mut numfreepools, mut arena_alignment) = (0, 0, 0);
        for (i, ao) in self.arenas.iter().enumerate() {
            if ao.address == 0 {
                continue; // not allocated
            }
            narenas += 1;
            numfreepools += u64::from(ao.nfreepools);
            if ao.address % pool_size != 0 {
                arena_alignment += pool_size;
            }
            // Visit every pool in the arena.
            let mut base = self.first_pool(i);
            while base < ao.pool_address {
                let p = &self.pools[&base];
                base += pool_size;
                if p.count == 0 {
                    continue; // currently unused
                }
                let row = &mut classes[p.szidx as usize];
                row.num_pools += 1;
                row.blocks_in_use += u64::from(p.count);
                row.avail_blocks += u64::from(self.profile.numblocks(p.szidx) - p.count);
            }
        }
        let per_class = |f: &dyn Fn(&ClassStats) -> u64| classes.iter().map(f).sum::<u64>();
        let usable = pool_size - u64::from(POOL_OVERHEAD);
        Stats {
            arena_size: self.profile.arena_size(),
            pool_size,
            bytes_in_allocated_blocks: per_class(&|c| c.blocks_in_use * u64::from(c.size)),
            bytes_in_available_blocks: per_class(&|c| c.avail_blocks * u64::from(c.size)),
            bytes_lost_to_pool_headers: per_class(&|c| c.num_pools * u64::from(POOL_OVERHEAD)),
            bytes_lost_to_quantization: per_class(&|c| c.num_pools * (usable % u64::from(c.size))),
            classes,
            arenas_allocated_total: self.ntimes_arena_allocated as u64,
            arenas_reclaimed: self.ntimes_arena_allocated as u64 - narenas,
            arenas_highwater: self.narenas_highwater as u64,
            arenas_allocated_current: narenas,
            unused_pools: numfreepools,
            bytes_lost_to_arena_alignment: arena_alignment,
            arena_map: self.arena_map_stats(),
            allocated_blocks: self.allocated_blocks(),
            rss: self.rss(),
            vms: self.vms(),
            system: self.system_stats(),
        }
    }

    fn arena_map_stats(&self) -> Option<ArenaMapStats> {
        let map = self.arena_map.as_ref()?;
        let bits = map.bits();
        let (mid, bot) = (map.mid_count as u64, map.bot_count as u64);
        Some(ArenaMapStats {
            mid_nodes: mid,
            bot_nodes: bot,
            root_bytes: bits.root_bytes(),
            mid_bytes: mid * bits.mid_node_bytes(),
            bot_bytes: bot * bits.bot_node_bytes(),
        })
    }

    fn system_stats(&self) -> SystemStats {
        let mp = self.libc.params();
        let (free_chunks, free_bytes, in_use) = self.libc.heap_usage();
        SystemStats {
            heap_bytes: self.vm.brk() - HEAP_START,
            heap_in_use_bytes: in_use,
            heap_free_chunks: free_chunks as u64,
            heap_free_bytes: free_bytes,
            top_bytes: self.libc.keepcost(&self.vm),
            mmapped_chunks: mp.n_mmaps,
            mmapped_bytes: mp.mmapped_mem,
            mmap_threshold: mp.mmap_threshold,
            trim_threshold: mp.trim_threshold,
        }
    }

    /// The pymalloc part of `sys._debugmallocstats()`, as the profile's CPython prints it.
    pub fn debugmallocstats(&self) -> String {
        let s = self.stats();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Small block threshold = {SMALL_REQUEST_THRESHOLD}, in {NB_SMALL_SIZE_CLASSES} size classes.\n"
        );
        out.push_str("class   size   num pools   blocks in use  avail blocks\n");
        out.push_str("-----   ----   ---------   -------------  ------------\n");
        for c in s.classes.iter().filter(|c| c.num_pools > 0) {
            let _ = writeln!(
                out,
                "{:5} {:6} {:11} {:15} {:13}",
                c.class, c.size, c.num_pools, c.blocks_in_use, c.avail_blocks
            );
        }
        out.push('\n');
        printone(
            &mut out,
            "# arenas allocated total",
            s.arenas_allocated_total,
        );
        printone(&mut out, "# arenas reclaimed", s.arenas_reclaimed);
        printone(&mut out, "# arenas highwater mark", s.arenas_highwater);
        printone(
            &mut out,
            "# arenas allocated current",
            s.arenas_allocated_current,
        );
        let n = s.arenas_allocated_current;
        let label = format!("{n} arenas * {} bytes/arena", s.arena_size);
        printone(&mut out, &label, n * s.arena_size);
        out.push('\n');
        printone(
            &mut out,
            "# bytes in allocated blocks",
            s.bytes_in_allocated_blocks,
        );
        printone(
            &mut out,
            "# bytes in available blocks",
            s.bytes_in_available_blocks,
        );
        let label = format!("{} unused pools * {} bytes", s.unused_pools, s.pool_size);
        printone(&mut out, &label, s.unused_pools * s.pool_size);
        printone(
            &mut out,
            "# bytes lost to pool headers",
            s.bytes_lost_to_pool_headers,
        );
        printone(
            &mut out,
            "# bytes lost to quantization",
            s.bytes_lost_to_quantization,
        );
        printone(
            &mut out,
            "# bytes lost to arena alignment",
            s.bytes_lost_to_arena_alignment,
        );
        printone(&mut out, "Total", s.total());
        if let Some(m) = &s.arena_map {
            out.push_str("\narena map counts\n");
            printone(&mut out, "# arena map mid nodes", m.mid_nodes);
            printone(&mut out, "# arena map bot nodes", m.bot_nodes);
            out.push('\n');
            printone(&mut out, "# bytes lost to arena map root", m.root_bytes);
            printone(&mut out, "# bytes lost to arena map mid", m.mid_bytes);
            printone(&mut out, "# bytes lost to arena map bot", m.bot_bytes);
            printone(&mut out, "Total", m.root_bytes + m.mid_bytes + m.bot_bytes);
        }
        out
    }
}

/// obmalloc.c's `printone`: the label padded to 35 columns, `=`, and the value right-aligned in
/// 21 columns with commas every three digits. `_PyDebugAllocatorStats` prints its lines with it
/// too (the object layer's free lists).
pub fn printone(out: &mut String, msg: &str, value: u64) {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(d);
    }
    let _ = writeln!(out, "{msg:<35}={grouped:>21}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    #[test]
    fn printone_pads_and_groups_like_c() {
        let mut out = String::new();
        printone(&mut out, "# arenas allocated total", 6);
        printone(&mut out, "6 arenas * 262144 bytes/arena", 1_572_864);
        assert_eq!(
            out,
            "# arenas allocated total           =                    6\n\
             6 arenas * 262144 bytes/arena      =            1,572,864\n"
        );
    }

    #[test]
    fn the_report_adds_up_and_has_the_real_shape() {
        let mut a = Allocator::new(Profile::CPYTHON_3_12);
        let blocks: Vec<u64> = (1..=512).map(|n| a.object_malloc(n).unwrap()).collect();
        for &b in blocks.iter().step_by(3) {
            a.object_free(b).unwrap();
        }
        let s = a.stats();
        assert_eq!(s.total(), s.arenas_allocated_current * s.arena_size);
        assert_eq!(s.bytes_lost_to_arena_alignment, 16_384);
        let report = a.debugmallocstats();
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines[0], "Small block threshold = 512, in 32 size classes.");
        assert_eq!(lines[1], "");
        assert_eq!(
            lines[4],
            "    0     16           1              10          1011"
        );
        assert!(report.contains("1 arenas * 1048576 bytes/arena     =            1,048,576\n"));
        assert!(report.contains("\narena map counts\n# arena map mid nodes"));
        assert!(report.ends_with("Total                              =              655,360\n"));
        let old = Allocator::new(Profile::CPYTHON_3_8).debugmallocstats();
        assert!(!old.contains("arena map"));
        assert!(old.contains("0 unused pools * 4096 bytes"));
    }
}
