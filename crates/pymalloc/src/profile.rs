//! Which CPython: a value, not a fork.
//!
//! pymalloc has been the same algorithm since 2.5; what changed between 3.8 and 3.13 is geometry
//! and two rules. Everything here was checked against a real interpreter of each version
//! (`python3 -I -c 'import sys; sys._debugmallocstats()'` on 3.8.18, 3.9.18, 3.10.13, 3.11.7,
//! 3.12.1, 3.13.0, all 64-bit Linux builds) or against `Objects/obmalloc.c`:
//!
//! | version | ARENA_SIZE | POOL_SIZE | arena map (radix tree) | keeps one empty arena |
//! |---------|-----------:|----------:|------------------------|-----------------------|
//! | 3.8     | 256 KiB    | 4 KiB     | none                   | no                    |
//! | 3.9     | 256 KiB    | 4 KiB     | none                   | yes                   |
//! | 3.10    | 1 MiB      | 16 KiB    | 48 address bits        | yes                   |
//! | 3.11+   | 1 MiB      | 16 KiB    | 64 address bits        | yes                   |
//!
//! * Geometry: the reports print `N arenas * 262144 bytes/arena` and `unused pools * 4096 bytes`
//!   on 3.8 and 3.9, `1048576` and `16384` from 3.10 on (`USE_LARGE_ARENAS`, and
//!   `USE_LARGE_POOLS`, which obmalloc.c allows only with the radix tree).
//! * Arena map: 3.8 and 3.9 print no "arena map counts" section, which obmalloc.c prints whenever
//!   `WITH_PYMALLOC_RADIX_TREE` is on, so they still find a block's arena through the pool
//!   header's `arenaindex`. 3.10 reports a root of 8,192 bytes, mid nodes of 8,192 and bottom
//!   nodes of 2,048: 2^10 pointers, so `INTERIOR_BITS` 10 and 48 address bits (`IGNORE_BITS`
//!   16). 3.11, 3.12 and 3.13 report 262,144, 262,144 and 131,072: `INTERIOR_BITS` 15, 64
//!   address bits (`IGNORE_BITS` 0). So the change is between 3.10 and 3.11, not 3.12.
//! * Keeping one empty arena (bpo-37257, the `ao->nextarena != NULL` test when a pool is freed):
//!   measured, not assumed. A loop that builds and drops a list of 12,000 `object()`s
//!   (192,000 bytes of 16-byte blocks), 200 times, raises "# arenas allocated total" (read from
//!   `sys._debugmallocstats()` before and after the loop) by 200 on 3.7.16 and 3.8.18 (one arena
//!   mapped and unmapped per round), by 1 on 3.9.18 (mapped in the first round, then kept empty
//!   and reused by the other 199), and by 0 on 3.10.13, 3.11.7, 3.12.1 and 3.13.0 (the 1 MiB
//!   arenas already mapped had room). So 3.8 releases every empty arena and 3.9 keeps one. (The
//!   churn needs the list's blocks to have an arena to themselves: with the list built once
//!   before the first reading, and then dropped and rebuilt, every version shows 0.)

use std::fmt;
use std::str::FromStr;

use crate::error::MemError;

/// Alignment of every block, and the spacing of size classes (`ALIGNMENT`, 64-bit builds).
pub const ALIGNMENT: usize = 16;
/// `ALIGNMENT_SHIFT`: log2 of [`ALIGNMENT`].
pub const ALIGNMENT_SHIFT: u32 = 4;
/// Requests above this go to the system allocator (`SMALL_REQUEST_THRESHOLD`).
pub const SMALL_REQUEST_THRESHOLD: usize = 512;
/// `NB_SMALL_SIZE_CLASSES`: 512 / 16.
pub const NB_SMALL_SIZE_CLASSES: usize = SMALL_REQUEST_THRESHOLD / ALIGNMENT;
/// `POOL_OVERHEAD`: `sizeof(struct pool_header)` rounded up to [`ALIGNMENT`] — 48 bytes.
pub const POOL_OVERHEAD: u32 = 48;

/// `INDEX2SIZE(I)`: the block size of size class `I`.
pub const fn index2size(szidx: u32) -> u32 {
    (szidx + 1) << ALIGNMENT_SHIFT
}

/// `ceil(2^32 / size)` for each block size 16, 32, ... 512 (index `size / 16`).
const RECIPROCALS: [u64; 33] = {
    let mut r = [0u64; 33];
    let mut i = 1;
    while i < 33 {
        r[i] = (1u64 << 32) / (16 * i as u64) + 1;
        i += 1;
    }
    r
};

/// `offset / size` for an offset inside a pool (below 2^16) and a block size of pymalloc's, by
/// multiplying with a reciprocal: exact there, since the error, below 2^16 / 2^32, never reaches
/// the gap of 1/512 before the next whole number. Finding a block from an address is on every
/// allocation and free, and a division is the slowest thing it did.
pub const fn block_index(offset: u64, size: u32) -> u64 {
    (offset * RECIPROCALS[(size / 16) as usize]) >> 32
}

/// The size class of a request of `nbytes` (1 to 512): `(nbytes - 1) >> ALIGNMENT_SHIFT`.
pub const fn size_class(nbytes: usize) -> u32 {
    ((nbytes - 1) >> ALIGNMENT_SHIFT) as u32
}

/// The arena map's shape: how many address bits it keys on (`ADDRESS_BITS`), for arenas of
/// `ARENA_BITS`. Three levels, as obmalloc.c lays them out:
///
/// ```text
///  63        ADDRESS_BITS                                    ARENA_BITS        0
///  | ignored |  MAP_TOP_BITS  |  MAP_MID_BITS  |  MAP_BOT_BITS  | offset in arena |
///               root index       mid index        bot index
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArenaMapBits {
    /// `ADDRESS_BITS`: 64 minus `IGNORE_BITS`.
    pub address_bits: u32,
    /// `ARENA_BITS`.
    pub arena_bits: u32,
}

impl ArenaMapBits {
    /// `INTERIOR_BITS = (ADDRESS_BITS - ARENA_BITS + 2) / 3`, a third rounded up: bits for the
    /// root and for a mid node.
    pub const fn interior_bits(self) -> u32 {
        (self.address_bits - self.arena_bits).div_ceil(3)
    }
    /// `MAP_BOT_BITS`: what is left for a bottom node.
    pub const fn bot_bits(self) -> u32 {
        self.address_bits - self.arena_bits - 2 * self.interior_bits()
    }
    /// `MAP_MID_SHIFT`.
    pub const fn mid_shift(self) -> u32 {
        self.bot_bits() + self.arena_bits
    }
    /// `MAP_TOP_SHIFT`.
    pub const fn top_shift(self) -> u32 {
        self.interior_bits() + self.mid_shift()
    }
    /// `sizeof(arena_map_root)`: one pointer per root slot.
    pub const fn root_bytes(self) -> u64 {
        8 << self.interior_bits()
    }
    /// `sizeof(arena_map_mid_t)`: one pointer per slot.
    pub const fn mid_node_bytes(self) -> u64 {
        8 << self.interior_bits()
    }
    /// `sizeof(arena_map_bot_t)`: an `arena_coverage_t` (two `int32_t`) per slot.
    pub const fn bot_node_bytes(self) -> u64 {
        8 << self.bot_bits()
    }
}

/// One CPython version's allocator: its geometry and rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Profile {
    minor: u8,
    arena_bits: u32,
    pool_bits: u32,
    arena_map: Option<ArenaMapBits>,
    keeps_empty_arena: bool,
}

const SMALL_ARENAS: u32 = 18;
const SMALL_POOLS: u32 = 12;
const LARGE_ARENAS: u32 = 20;
const LARGE_POOLS: u32 = 14;

impl Profile {
    /// CPython 3.8: 256 KiB arenas of 4 KiB pools, no arena map, empty arenas always released.
    pub const CPYTHON_3_8: Profile = Profile::legacy(8, false);
    /// CPython 3.9: as 3.8, but one wholly free arena is kept (bpo-37257).
    pub const CPYTHON_3_9: Profile = Profile::legacy(9, true);
    /// CPython 3.10: 1 MiB arenas, 16 KiB pools, an arena map over 48 address bits.
    pub const CPYTHON_3_10: Profile = Profile::radix(10, 48);
    /// CPython 3.11: as 3.10, with an arena map over all 64 address bits.
    pub const CPYTHON_3_11: Profile = Profile::radix(11, 64);
    /// CPython 3.12: as 3.11.
    pub const CPYTHON_3_12: Profile = Profile::radix(12, 64);
    /// CPython 3.13 (default build, GIL on, pymalloc): as 3.11.
    pub const CPYTHON_3_13: Profile = Profile::radix(13, 64);
    /// Every modelled version, oldest first.
    pub const ALL: [Profile; 6] = [
        Profile::CPYTHON_3_8,
        Profile::CPYTHON_3_9,
        Profile::CPYTHON_3_10,
        Profile::CPYTHON_3_11,
        Profile::CPYTHON_3_12,
        Profile::CPYTHON_3_13,
    ];

    const fn legacy(minor: u8, keeps_empty_arena: bool) -> Profile {
        Profile {
            minor,
            arena_bits: SMALL_ARENAS,
            pool_bits: SMALL_POOLS,
            arena_map: None,
            keeps_empty_arena,
        }
    }

    const fn radix(minor: u8, address_bits: u32) -> Profile {
        Profile {
            minor,
            arena_bits: LARGE_ARENAS,
            pool_bits: LARGE_POOLS,
            arena_map: Some(ArenaMapBits {
                address_bits,
                arena_bits: LARGE_ARENAS,
            }),
            keeps_empty_arena: true,
        }
    }

    /// Parses `"3.11"` (a micro version, as in `"3.11.7"`, is accepted and ignored).
    pub fn parse(name: &str) -> Result<Profile, MemError> {
        let unknown = || MemError::UnknownProfile {
            name: name.to_string(),
        };
        let mut parts = name.trim().split('.');
        let (Some("3"), Some(minor)) = (parts.next(), parts.next()) else {
            return Err(unknown());
        };
        Profile::ALL
            .into_iter()
            .find(|p| p.minor.to_string() == minor)
            .ok_or_else(unknown)
    }

    /// `(3, minor)`.
    pub const fn version(self) -> (u8, u8) {
        (3, self.minor)
    }
    /// `ARENA_SIZE` in bytes.
    pub const fn arena_size(self) -> u64 {
        1 << self.arena_bits
    }
    /// `POOL_SIZE` in bytes.
    pub const fn pool_size(self) -> u64 {
        1 << self.pool_bits
    }
    /// `MAX_POOLS_IN_ARENA`: 64 in every version.
    pub const fn max_pools_in_arena(self) -> u32 {
        1 << (self.arena_bits - self.pool_bits)
    }
    /// `NUMBLOCKS(I)`: how many blocks of class `szidx` fit in a pool after its header.
    pub const fn numblocks(self, szidx: u32) -> u32 {
        (self.pool_size() as u32 - POOL_OVERHEAD) / index2size(szidx)
    }
    /// The arena map's shape, or `None` before 3.10 (no `WITH_PYMALLOC_RADIX_TREE`).
    pub const fn arena_map(self) -> Option<ArenaMapBits> {
        self.arena_map
    }
    /// Whether a wholly free arena is kept when it is the last in `usable_arenas` (3.9+).
    pub const fn keeps_empty_arena(self) -> bool {
        self.keeps_empty_arena
    }
}

impl FromStr for Profile {
    type Err = MemError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::parse(s)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "3.{}", self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reciprocals_divide_exactly_within_a_pool() {
        for size in (16..=512).step_by(16) {
            for offset in 0..(1u64 << 16) {
                assert_eq!(block_index(offset, size), offset / u64::from(size));
            }
        }
    }

    #[test]
    fn parses_known_versions_and_rejects_others() {
        assert_eq!(Profile::parse("3.11"), Ok(Profile::CPYTHON_3_11));
        assert_eq!("3.8.18".parse(), Ok(Profile::CPYTHON_3_8));
        for bad in ["3.7", "2.7", "3", "", "3.x", "4.11"] {
            assert!(matches!(
                Profile::parse(bad),
                Err(MemError::UnknownProfile { .. })
            ));
        }
        for p in Profile::ALL {
            assert_eq!(Profile::parse(&p.to_string()), Ok(p));
        }
    }

    #[test]
    fn geometry_matches_the_reports() {
        for p in Profile::ALL {
            assert_eq!(p.max_pools_in_arena(), 64);
        }
        assert_eq!(Profile::CPYTHON_3_9.arena_size(), 262_144);
        assert_eq!(Profile::CPYTHON_3_10.pool_size(), 16_384);
        // A 16 KiB pool holds 255 blocks of 64 bytes and 340 of 48.
        assert_eq!(Profile::CPYTHON_3_12.numblocks(size_class(64)), 255);
        assert_eq!(Profile::CPYTHON_3_12.numblocks(size_class(48)), 340);
    }

    #[test]
    fn arena_map_node_sizes_match_the_reports() {
        let m310 = Profile::CPYTHON_3_10.arena_map().unwrap();
        assert_eq!(
            (
                m310.root_bytes(),
                m310.mid_node_bytes(),
                m310.bot_node_bytes()
            ),
            (8_192, 8_192, 2_048)
        );
        let m312 = Profile::CPYTHON_3_12.arena_map().unwrap();
        assert_eq!(
            (
                m312.root_bytes(),
                m312.mid_node_bytes(),
                m312.bot_node_bytes()
            ),
            (262_144, 262_144, 131_072)
        );
        assert_eq!(Profile::CPYTHON_3_9.arena_map(), None);
    }

    #[test]
    fn size_classes_are_sixteen_bytes_apart() {
        assert_eq!(size_class(1), 0);
        assert_eq!(size_class(16), 0);
        assert_eq!(size_class(17), 1);
        assert_eq!(size_class(512), 31);
        assert_eq!(index2size(31), 512);
    }
}
