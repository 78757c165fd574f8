//! What is at an address: the model's answer to "what would I find if I looked here?"

use std::fmt;

use crate::Allocator;
use crate::error::MemError;
use crate::glibc::{CHUNK_HDR_SZ, ChunkState, ChunkView, SIZE_SZ};
use crate::obmalloc::pool::PoolField;
use crate::profile::{POOL_OVERHEAD, index2size};
use crate::vm::RegionKind;

/// Where a pymalloc block is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    /// Index of its arena in `arenas`.
    pub arena: usize,
    /// Its pool's address.
    pub pool: u64,
    /// Its size class.
    pub class: u32,
    /// Its size in bytes.
    pub size: u32,
    /// Its index in the pool (block 0 follows the header).
    pub index: u32,
    /// Its first byte.
    pub start: u64,
}

/// Which field of a chunk header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkField {
    /// `prev_size`: the size of the free chunk before (its footer).
    PrevSize,
    /// `size`, with the flag bits.
    Size,
}

/// Which of glibc's lists for reuse at one size holds a freed chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheBin {
    /// A tcache bin (first stop for a freed chunk of up to 1,040 bytes).
    Tcache,
    /// A fastbin (a chunk of up to 128 bytes whose tcache bin was full).
    Fastbin,
}

/// What an address holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// Inside a pymalloc block that is handed out.
    Block(BlockInfo),
    /// Inside a free pymalloc block; `link` is the free list link in its first word.
    FreeBlock {
        /// The block.
        block: BlockInfo,
        /// The next free block, or 0.
        link: u64,
    },
    /// Inside a used pool, in blocks never carved yet.
    Uncarved {
        /// The arena.
        arena: usize,
        /// The pool.
        pool: u64,
        /// The pool's size class.
        class: u32,
    },
    /// The end of a pool too small for one more block (lost to quantization).
    PoolTail {
        /// The arena.
        arena: usize,
        /// The pool.
        pool: u64,
        /// The pool's size class.
        class: u32,
    },
    /// A field of a pool header.
    PoolHeader {
        /// The arena.
        arena: usize,
        /// The pool.
        pool: u64,
        /// The field.
        field: PoolField,
    },
    /// A pool with no block handed out: on its arena's `freepools` list (`carved`), or beyond
    /// the arena's `pool_address`, never used.
    FreePool {
        /// The arena.
        arena: usize,
        /// The pool.
        pool: u64,
        /// Whether it was ever carved off the arena.
        carved: bool,
    },
    /// The part of an arena outside its pools: lost to arena alignment.
    ArenaAlignment {
        /// The arena.
        arena: usize,
    },
    /// Inside a chunk of glibc's brk heap (the user part, or the free chunk itself).
    Chunk {
        /// The chunk's address (its header).
        chunk: u64,
        /// Its size.
        size: u64,
        /// Whether it is allocated.
        in_use: bool,
    },
    /// A freed brk chunk that glibc keeps, uncoalesced and still marked in use, for the next
    /// request of its size: its first word is the mangled link to the next chunk of its list.
    CachedChunk {
        /// The chunk's address (its header).
        chunk: u64,
        /// Its size.
        size: u64,
        /// Which list.
        bin: CacheBin,
    },
    /// A brk chunk's header word.
    ChunkHeader {
        /// The chunk.
        chunk: u64,
        /// Which word.
        field: ChunkField,
    },
    /// glibc's top chunk: the heap's unallocated end.
    TopChunk {
        /// Its address.
        chunk: u64,
        /// Its size.
        size: u64,
    },
    /// A chunk glibc mmapped for one large request (`header`: in its 16-byte header).
    MmappedChunk {
        /// Its address (the mapping's start).
        chunk: u64,
        /// Its size.
        size: u64,
        /// Whether the address is in the header.
        header: bool,
    },
}

impl Allocator {
    /// What is at `addr`; [`MemError::Segfault`] if nothing is mapped there.
    pub fn what_is_at(&self, addr: u64) -> Result<Location, MemError> {
        let id = self.vm.find(addr).ok_or(MemError::Segfault { addr })?;
        let mapping = self.vm.mapping(id);
        match mapping.kind {
            RegionKind::Arena(arena) => Ok(self.arena_location(arena, addr)),
            RegionKind::Chunk => {
                let chunk = mapping.start;
                let size = self
                    .libc
                    .mmapped_chunk(chunk)
                    .map_or(mapping.len, |v| v.size);
                let header = addr < chunk + CHUNK_HDR_SZ;
                Ok(Location::MmappedChunk {
                    chunk,
                    size,
                    header,
                })
            }
            RegionKind::Heap => self
                .libc
                .heap_chunk(&self.vm, addr)
                .map(|v| self.heap_location(v, addr))
                .ok_or(MemError::Segfault { addr }),
        }
    }

    fn arena_location(&self, arena: usize, addr: u64) -> Location {
        let ao = &self.arenas[arena];
        let first = self.first_pool(arena);
        let pools_end = first + u64::from(ao.ntotalpools) * self.profile.pool_size();
        if addr < first || addr >= pools_end {
            return Location::ArenaAlignment { arena };
        }
        let pool = self.pool_addr(addr);
        let Some(ph) = self.pools.get(&pool) else {
            return Location::FreePool {
                arena,
                pool,
                carved: false,
            };
        };
        let offset = addr - pool;
        if offset < u64::from(POOL_OVERHEAD) {
            let field = PoolField::at(offset);
            return Location::PoolHeader { arena, pool, field };
        }
        if ph.count == 0 {
            let carved = true;
            return Location::FreePool {
                arena,
                pool,
                carved,
            };
        }
        let class = ph.szidx;
        let size = index2size(class);
        let index = crate::profile::block_index(offset - u64::from(POOL_OVERHEAD), size) as u32;
        if index >= self.profile.numblocks(class) {
            return Location::PoolTail { arena, pool, class };
        }
        let start = pool + u64::from(POOL_OVERHEAD) + u64::from(index * size);
        if start - pool >= u64::from(ph.nextoffset) {
            return Location::Uncarved { arena, pool, class };
        }
        let block = BlockInfo {
            arena,
            pool,
            class,
            size,
            index,
            start,
        };
        if ph.allocated.get(index) {
            Location::Block(block)
        } else {
            let ph = &self.pools[&pool];
            let link = crate::obmalloc::pool::link_word(&self.raw_links, ph, pool, start);
            Location::FreeBlock { block, link }
        }
    }

    fn heap_location(&self, v: ChunkView, addr: u64) -> Location {
        if v.state == ChunkState::Top {
            return Location::TopChunk {
                chunk: v.chunk,
                size: v.size,
            };
        }
        if addr >= v.chunk + SIZE_SZ && addr < v.chunk + CHUNK_HDR_SZ {
            let field = ChunkField::Size;
            return Location::ChunkHeader {
                chunk: v.chunk,
                field,
            };
        }
        if addr < v.chunk + SIZE_SZ {
            // prev_size: the previous chunk's last word while it is in use, else its footer.
            let before = v
                .chunk
                .checked_sub(1)
                .and_then(|a| self.libc.heap_chunk(&self.vm, a));
            if let Some(prev) = before.filter(|p| p.state.in_use()) {
                return chunk_location(prev);
            }
            if before.is_some() {
                let field = ChunkField::PrevSize;
                return Location::ChunkHeader {
                    chunk: v.chunk,
                    field,
                };
            }
        }
        chunk_location(v)
    }
}

/// A heap chunk below the top, by its state.
fn chunk_location(v: ChunkView) -> Location {
    let (chunk, size) = (v.chunk, v.size);
    let bin = match v.state {
        ChunkState::Tcache => CacheBin::Tcache,
        ChunkState::Fastbin => CacheBin::Fastbin,
        state => {
            let in_use = state == ChunkState::InUse;
            return Location::Chunk {
                chunk,
                size,
                in_use,
            };
        }
    };
    Location::CachedChunk { chunk, size, bin }
}

impl fmt::Display for BlockInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "block {} of pool {:#x} (class {}, {} bytes) in arena {}, starting at {:#x}",
            self.index, self.pool, self.class, self.size, self.arena, self.start
        )
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Block(b) => write!(f, "allocated {b}"),
            Location::FreeBlock { block, link } => write!(f, "free {block}, link {link:#x}"),
            Location::Uncarved { arena, pool, class } => {
                write!(
                    f,
                    "never-carved space of pool {pool:#x} (class {class}) in arena {arena}"
                )
            }
            Location::PoolTail { arena, pool, class } => write!(
                f,
                "the unusable tail of pool {pool:#x} (class {class}) in arena {arena}"
            ),
            Location::PoolHeader { arena, pool, field } => {
                write!(f, "{field:?} of pool {pool:#x}'s header in arena {arena}")
            }
            Location::FreePool {
                arena,
                pool,
                carved,
            } => {
                let state = if *carved { "free" } else { "never used" };
                write!(f, "{state} pool {pool:#x} in arena {arena}")
            }
            Location::ArenaAlignment { arena } => {
                write!(f, "space of arena {arena} lost to alignment")
            }
            Location::Chunk {
                chunk,
                size,
                in_use,
            } => {
                let state = if *in_use { "allocated" } else { "free" };
                write!(f, "{state} heap chunk {chunk:#x} of {size} bytes")
            }
            Location::CachedChunk { chunk, size, bin } => {
                let list = match bin {
                    CacheBin::Tcache => "the tcache",
                    CacheBin::Fastbin => "a fastbin",
                };
                write!(f, "freed heap chunk {chunk:#x} of {size} bytes in {list}")
            }
            Location::ChunkHeader { chunk, field } => {
                write!(f, "{field:?} field of heap chunk {chunk:#x}")
            }
            Location::TopChunk { chunk, size } => {
                write!(f, "the top chunk {chunk:#x} ({size} bytes)")
            }
            Location::MmappedChunk {
                chunk,
                size,
                header,
            } => {
                let part = if *header { "header of " } else { "" };
                write!(f, "{part}mmapped chunk {chunk:#x} of {size} bytes")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    #[test]
    fn names_every_part_of_an_arena() {
        let mut a = Allocator::new(Profile::CPYTHON_3_11);
        let p = a.object_malloc(64).unwrap();
        let q = a.object_malloc(64).unwrap();
        a.object_free(q).unwrap();
        let pool = a.pool_addr(p);
        let arena = a.arenas[0].address;
        let Location::Block(b) = a.what_is_at(p + 10).unwrap() else {
            panic!("not a block");
        };
        assert_eq!((b.class, b.index, b.start, b.pool), (3, 0, p, pool));
        assert_eq!(
            a.what_is_at(q).unwrap(),
            Location::FreeBlock {
                block: BlockInfo {
                    index: 1,
                    start: q,
                    ..b
                },
                link: q + 64
            }
        );
        assert!(matches!(
            a.what_is_at(q + 64),
            Ok(Location::FreeBlock { link: 0, .. })
        ));
        assert!(matches!(
            a.what_is_at(q + 128),
            Ok(Location::Uncarved { class: 3, .. })
        ));
        assert!(matches!(
            a.what_is_at(pool + 16),
            Ok(Location::PoolHeader {
                field: PoolField::NextPool,
                ..
            })
        ));
        assert!(matches!(
            a.what_is_at(pool + 16380),
            Ok(Location::PoolTail { .. })
        ));
        assert!(matches!(
            a.what_is_at(pool + 16384),
            Ok(Location::FreePool { carved: false, .. })
        ));
        assert_eq!(
            a.what_is_at(arena),
            Ok(Location::ArenaAlignment { arena: 0 })
        );
        assert_eq!(
            a.what_is_at(arena + (1 << 20)),
            Err(MemError::Segfault {
                addr: arena + (1 << 20)
            })
        );
    }

    #[test]
    fn names_glibc_chunks() {
        let mut a = Allocator::new(Profile::CPYTHON_3_8);
        // More than the tcache's 1,032 bytes: a freed chunk goes straight to the bins.
        let x = a.raw_malloc(1100).unwrap();
        let y = a.raw_malloc(1100).unwrap();
        let big = a.raw_malloc(1 << 20).unwrap();
        assert!(matches!(
            a.what_is_at(x),
            Ok(Location::Chunk { in_use: true, .. })
        ));
        assert!(matches!(
            a.what_is_at(x - 8),
            Ok(Location::ChunkHeader {
                field: ChunkField::Size,
                ..
            })
        ));
        // y's prev_size is x's last word while x is in use...
        assert!(
            matches!(a.what_is_at(y - 16), Ok(Location::Chunk { in_use: true, chunk, .. }) if chunk == x - 16)
        );
        a.raw_free(x).unwrap();
        // ...and x's footer once x is free.
        assert!(matches!(
            a.what_is_at(y - 16),
            Ok(Location::ChunkHeader {
                field: ChunkField::PrevSize,
                ..
            })
        ));
        assert!(matches!(
            a.what_is_at(x),
            Ok(Location::Chunk { in_use: false, .. })
        ));
        assert!(matches!(
            a.what_is_at(y + 2200),
            Ok(Location::TopChunk { .. })
        ));
        assert!(matches!(
            a.what_is_at(big),
            Ok(Location::MmappedChunk { header: false, .. })
        ));
        let text = a.what_is_at(big - 16).unwrap().to_string();
        assert!(text.starts_with("header of mmapped chunk"), "{text}");
        let small = a.raw_malloc(100).unwrap();
        let _guard = a.raw_malloc(100).unwrap();
        a.raw_free(small).unwrap();
        let cached = a.what_is_at(small).unwrap();
        assert_eq!(
            cached,
            Location::CachedChunk {
                chunk: small - 16,
                size: 112,
                bin: CacheBin::Tcache
            }
        );
        assert_eq!(
            cached.to_string(),
            format!(
                "freed heap chunk {:#x} of 112 bytes in the tcache",
                small - 16
            )
        );
    }
}
