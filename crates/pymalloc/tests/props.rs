//! Random sequences of allocator calls, checked against a plain reference model: a map of the
//! live blocks.
//!
//! Cases default to 2,000; `PROPTEST_CASES=100000 cargo test -p pymalloc --release --test props`
//! runs 10^5.
//!
//! After every call: no two live blocks overlap; every pymalloc block lies in a pool whose
//! `szidx` is its class; a block freed into a pool is the next one that pool hands out (LIFO), and
//! its first word holds the pool's previous free-list head; the statistics equal a recount from
//! the reference; arenas are released as the profile's rule says; misuse returns an error and
//! changes nothing; calloc's memory reads zero; no live glibc chunk is in the tcache or a
//! fastbin (so none is handed out twice), and a freed one there holds `tcache_key`; RSS and VMS
//! equal the sums over the mappings.

use std::collections::{BTreeMap, HashMap, HashSet};

use proptest::prelude::*;
use pymalloc::glibc::TCACHE_KEY;
use pymalloc::{Allocator, CacheBin, Location, MemError, Profile};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    Object,
    Raw,
}

#[derive(Clone, Debug)]
enum Op {
    Malloc(Api, usize),
    /// `nelem` elements of `elsize` bytes, zeroed.
    Calloc(Api, usize, usize),
    /// Many blocks of one size at once: fills pools and arenas.
    Burst(usize, usize),
    Free(usize),
    /// Frees every live block whose position is `r` modulo `k`.
    FreeMany(usize, usize),
    Realloc(usize, usize),
    Write(usize, u64),
    /// Frees an address that is not a live block: a dead one, or inside a live one.
    FreeDead(usize, u64),
    WriteHeader(usize),
}

fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        8 => 1usize..=512,
        1 => Just(0usize),
        2 => 513usize..=4_000,
        1 => 100_000usize..=400_000,
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let api = prop_oneof![3 => Just(Api::Object), 1 => Just(Api::Raw)];
    prop_oneof![
        6 => (api.clone(), size()).prop_map(|(a, n)| Op::Malloc(a, n)),
        2 => (api, 0usize..=8, size()).prop_map(|(a, k, n)| Op::Calloc(a, k, n / k.max(1))),
        2 => (1usize..=512, 1usize..=400).prop_map(|(n, k)| Op::Burst(n, k)),
        4 => any::<usize>().prop_map(Op::Free),
        1 => (1usize..=3, 0usize..3).prop_map(|(k, r)| Op::FreeMany(k, r % k)),
        3 => (any::<usize>(), size()).prop_map(|(i, n)| Op::Realloc(i, n)),
        2 => (any::<usize>(), any::<u64>()).prop_map(|(i, v)| Op::Write(i, v)),
        1 => (any::<usize>(), 1u64..=3).prop_map(|(i, k)| Op::FreeDead(i, k)),
        1 => any::<usize>().prop_map(Op::WriteHeader),
    ]
}

#[derive(Clone, Copy, Debug)]
struct Live {
    len: usize,
    api: Api,
    /// Size class and pool, if pymalloc holds it.
    pool: Option<(u32, u64, usize)>,
    /// The word last written at the block's start, and whether it must survive a copy.
    word: Option<u64>,
}

struct Harness {
    mem: Allocator,
    live: BTreeMap<u64, Live>,
    /// Per pool, blocks freed into it, the last freed on top: what it must hand out next.
    lifo: HashMap<u64, Vec<u64>>,
    /// Live blocks per pool.
    population: HashMap<u64, usize>,
    dead: Vec<u64>,
}

impl Harness {
    fn new(profile: Profile) -> Harness {
        Harness {
            mem: Allocator::new(profile),
            live: BTreeMap::new(),
            lifo: HashMap::new(),
            population: HashMap::new(),
            dead: Vec::new(),
        }
    }

    fn nth(&self, i: usize) -> Option<(u64, Live)> {
        let n = self.live.len();
        (n > 0).then(|| self.live.iter().nth(i % n).map(|(&p, &l)| (p, l)))?
    }

    /// Checks a block just handed out (`small`: by pymalloc) and records it.
    fn got(
        &mut self,
        p: u64,
        len: usize,
        api: Api,
        small: bool,
        word: Option<u64>,
    ) -> Result<(), TestCaseError> {
        prop_assert!(p != 0 && p.is_multiple_of(16), "{p:#x}");
        let end = p + len.max(1) as u64;
        if let Some((&q, l)) = self.live.range(..end).next_back() {
            prop_assert!(
                q + l.len.max(1) as u64 <= p,
                "{p:#x}+{len} overlaps {q:#x}+{}",
                l.len
            );
        }
        let loc = self
            .mem
            .what_is_at(p)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let pool = match loc {
            Location::Block(b) => {
                prop_assert!(small, "a {len}-byte {api:?} block in pymalloc");
                prop_assert_eq!(b.start, p);
                prop_assert_eq!(b.class, ((len - 1) >> 4) as u32);
                let szidx = self.mem.read_word(b.pool + 32).unwrap() >> 32;
                prop_assert_eq!(szidx, u64::from(b.class), "pool header's szidx");
                if let Some(expected) = self.lifo.get_mut(&b.pool).and_then(|s| s.pop()) {
                    prop_assert_eq!(p, expected, "LIFO in pool {:#x}", b.pool);
                }
                *self.population.entry(b.pool).or_default() += 1;
                Some((b.class, b.pool, b.arena))
            }
            Location::Chunk { in_use: true, .. } | Location::MmappedChunk { header: false, .. } => {
                prop_assert!(!small, "a {len}-byte object block outside pymalloc: {loc}");
                None
            }
            other => return Err(TestCaseError::fail(format!("{p:#x} is {other}"))),
        };
        self.live.insert(
            p,
            Live {
                len,
                api,
                pool,
                word,
            },
        );
        Ok(())
    }

    /// Records that `p` was freed; checks the free-list link written into it against the pool's
    /// free-list head before the free, when known.
    fn freed(&mut self, p: u64, l: Live, old_head: Option<u64>) -> Result<(), TestCaseError> {
        self.live.remove(&p);
        self.dead.push(p);
        if let Some((_, pool, _)) = l.pool {
            let population = self.population.entry(pool).or_default();
            *population -= 1;
            if *population == 0 {
                self.lifo.remove(&pool); // empty: its arena may go, or the pool change class
            } else {
                self.lifo.entry(pool).or_default().push(p);
                if let Some(head) = old_head {
                    prop_assert_eq!(self.mem.read_word(p), Ok(head), "link in {:#x}", p);
                }
                prop_assert_eq!(self.mem.read_word(pool + 8).ok(), Some(p), "freeblock");
            }
        }
        Ok(())
    }

    fn head_of(&self, l: &Live) -> Option<u64> {
        l.pool
            .map(|(_, pool, _)| self.mem.read_word(pool + 8).unwrap())
    }

    fn free(&mut self, p: u64, l: Live) -> Result<(), TestCaseError> {
        let head = self.head_of(&l);
        match l.api {
            Api::Object => self.mem.object_free(p),
            Api::Raw => self.mem.raw_free(p),
        }
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        self.freed(p, l, head)
    }

    fn malloc(&mut self, api: Api, n: usize) -> Result<(), TestCaseError> {
        let p = match api {
            Api::Object => self.mem.object_malloc(n),
            Api::Raw => self.mem.raw_malloc(n),
        }
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let small = api == Api::Object && (1..=512).contains(&n);
        self.got(p, n, api, small, None)
    }

    fn calloc(&mut self, api: Api, nelem: usize, elsize: usize) -> Result<(), TestCaseError> {
        let p = match api {
            Api::Object => self.mem.object_calloc(nelem, elsize),
            Api::Raw => self.mem.raw_calloc(nelem, elsize),
        }
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let n = nelem * elsize;
        let small = api == Api::Object && (1..=512).contains(&n);
        self.got(p, n, api, small, None)?;
        for offset in (0..n.max(1) as u64).step_by(8).take(4) {
            prop_assert_eq!(self.mem.read_word(p + offset), Ok(0), "calloc {:#x}", p);
        }
        Ok(())
    }

    fn realloc(&mut self, p: u64, l: Live, n: usize) -> Result<(), TestCaseError> {
        let head = self.head_of(&l);
        let q = match l.api {
            Api::Object => self.mem.object_realloc(p, n),
            Api::Raw => self.mem.raw_realloc(p, n),
        }
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        // The data's first word survives when whole words of it were copied.
        let word = l.word.filter(|_| l.len.min(n) >= 8);
        if q == p {
            self.live.insert(p, Live { len: n, word, ..l });
            return Ok(());
        }
        self.live.remove(&p);
        // pymalloc never takes over a block it did not allocate.
        let small = l.pool.is_some() && (1..=512).contains(&n);
        self.got(q, n, l.api, small, word)?;
        self.live.insert(p, l); // freed() expects to remove it
        // When the new block came from the same pool, the head moved before the free.
        let head = head.filter(|_| l.pool.map(|x| x.1) != self.live[&q].pool.map(|x| x.1));
        self.freed(p, l, head)?;
        if let Some(w) = word {
            prop_assert_eq!(self.mem.read_word(q), Ok(w), "copied");
        }
        Ok(())
    }

    fn free_dead(&mut self, i: usize, k: u64) -> Result<(), TestCaseError> {
        let target = match (k, self.nth(i)) {
            (1, Some((p, l))) if l.len > 16 => p + 16,
            (2, Some((p, _))) => p + 8,
            _ => match self.dead.get(i % self.dead.len().max(1)) {
                Some(&d) if !self.live.contains_key(&d) && !self.reused_inside(d) => d,
                _ => return Ok(()),
            },
        };
        let before = self.mem.stats();
        // A free pymalloc block freed again is C's double free, which pymalloc takes: linked
        // in a second time (pool.rs tests it). glibc's free is asked about it instead.
        let pymalloc_free_block = matches!(
            self.mem.what_is_at(target),
            Ok(Location::FreeBlock { .. } | Location::FreePool { .. })
        );
        let r = if i.is_multiple_of(2) && !pymalloc_free_block {
            self.mem.object_free(target)
        } else {
            self.mem.raw_free(target)
        };
        prop_assert!(
            matches!(
                r,
                Err(MemError::DoubleFree { .. }
                    | MemError::InvalidFree { .. }
                    | MemError::Segfault { .. })
            ),
            "free of {:#x}: {:?}",
            target,
            r
        );
        prop_assert_eq!(self.mem.stats(), before, "misuse changed the state");
        Ok(())
    }

    /// Whether glibc handed `d` out again to pymalloc itself (its arenas vector, an arena map
    /// node): freeing it would succeed, in C as in the model.
    fn reused_inside(&self, d: u64) -> bool {
        match self.mem.what_is_at(d) {
            Ok(Location::Chunk { in_use, chunk, .. }) => in_use && chunk + 16 == d,
            Ok(Location::MmappedChunk { chunk, .. }) => chunk + 16 == d,
            _ => false,
        }
    }

    fn apply(&mut self, op: Op) -> Result<(), TestCaseError> {
        match op {
            Op::Malloc(api, n) => self.malloc(api, n)?,
            Op::Calloc(api, k, n) => self.calloc(api, k, n)?,
            Op::Burst(n, k) => {
                for _ in 0..k {
                    self.malloc(Api::Object, n)?;
                }
            }
            Op::Free(i) => {
                if let Some((p, l)) = self.nth(i) {
                    self.free(p, l)?;
                }
            }
            Op::FreeMany(k, r) => {
                let chosen: Vec<(u64, Live)> = self
                    .live
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| j % k == r)
                    .map(|(_, (&p, &l))| (p, l))
                    .collect();
                for (p, l) in chosen {
                    self.free(p, l)?;
                }
            }
            Op::Realloc(i, n) => {
                if let Some((p, l)) = self.nth(i) {
                    self.realloc(p, l, n)?;
                }
            }
            Op::Write(i, v) => {
                if let Some((p, l)) = self.nth(i) {
                    self.mem
                        .write_word(p, v)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    self.live.insert(p, Live { word: Some(v), ..l });
                }
            }
            Op::FreeDead(i, k) => self.free_dead(i, k)?,
            Op::WriteHeader(i) => {
                if let Some((
                    _,
                    Live {
                        pool: Some((_, pool, _)),
                        ..
                    },
                )) = self.nth(i)
                {
                    let r = self.mem.write_word(pool + 8 * (i as u64 % 6), 1);
                    prop_assert!(matches!(r, Err(MemError::Metadata { .. })), "{r:?}");
                }
            }
        }
        self.check_state()
    }

    /// Everything the allocator reports, against a recount from the reference.
    fn check_state(&self) -> Result<(), TestCaseError> {
        let profile = self.mem.profile();
        let s = self.mem.stats();
        let mut per_class: HashMap<u32, (u64, HashSet<u64>)> = HashMap::new();
        let mut arenas_in_use = HashSet::new();
        for l in self.live.values() {
            if let Some((class, pool, arena)) = l.pool {
                let e = per_class.entry(class).or_default();
                e.0 += 1;
                e.1.insert(pool);
                arenas_in_use.insert(arena);
            }
        }
        for c in &s.classes {
            let (blocks, pools) = per_class.remove(&c.class).unwrap_or_default();
            prop_assert_eq!(c.blocks_in_use, blocks, "class {}", c.class);
            prop_assert_eq!(c.num_pools, pools.len() as u64, "class {}", c.class);
            let capacity = pools.len() as u64 * u64::from(profile.numblocks(c.class));
            prop_assert_eq!(c.avail_blocks, capacity - blocks);
        }
        prop_assert_eq!(s.total(), s.arenas_allocated_current * s.arena_size);
        let object_blocks = self.live.values().filter(|l| l.api == Api::Object).count();
        prop_assert_eq!(s.allocated_blocks, object_blocks as i64);
        let empty = s.arenas_allocated_current - arenas_in_use.len() as u64;
        if profile.keeps_empty_arena() {
            prop_assert!(empty <= 1, "{empty} wholly free arenas kept");
            if arenas_in_use.is_empty() && s.arenas_highwater > 0 {
                prop_assert_eq!(empty, 1, "the last arena is kept");
            }
        } else {
            prop_assert_eq!(empty, 0, "3.8 releases every wholly free arena");
        }
        self.check_glibc_chunks()?;
        let regions = self.mem.regions();
        prop_assert_eq!(regions.iter().map(|r| r.len).sum::<u64>(), s.vms);
        prop_assert_eq!(regions.iter().map(|r| r.resident).sum::<u64>(), s.rss);
        for (&p, l) in &self.live {
            if let Some(w) = l.word {
                prop_assert_eq!(self.mem.read_word(p), Ok(w), "contents of {:#x}", p);
            }
        }
        Ok(())
    }
}

impl Harness {
    /// Live glibc chunks are the program's, not the tcache's or a fastbin's; the last freed
    /// pointers that now head a tcache chunk hold the key there.
    fn check_glibc_chunks(&self) -> Result<(), TestCaseError> {
        for (&p, _) in self.live.iter().filter(|(_, l)| l.pool.is_none()) {
            let loc = self.mem.what_is_at(p);
            prop_assert!(
                matches!(
                    loc,
                    Ok(Location::Chunk { in_use: true, .. } | Location::MmappedChunk { .. })
                ),
                "live {:#x} is {:?}",
                p,
                loc
            );
        }
        for &d in self.dead.iter().rev().take(64) {
            if let Ok(Location::CachedChunk { chunk, bin, .. }) = self.mem.what_is_at(d)
                && chunk + 16 == d
            {
                prop_assert!(!self.live.contains_key(&d), "{:#x} live and cached", d);
                if bin == CacheBin::Tcache {
                    prop_assert_eq!(self.mem.read_word(d + 8), Ok(TCACHE_KEY));
                }
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn random_calls_keep_every_invariant(
        profile in prop::sample::select(Profile::ALL.to_vec()),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let mut h = Harness::new(profile);
        for op in ops {
            h.apply(op)?;
        }
        let all: Vec<(u64, Live)> = h.live.iter().map(|(&p, &l)| (p, l)).collect();
        for (i, (p, l)) in all.into_iter().enumerate() {
            h.free(p, l)?;
            if i % 64 == 0 {
                h.check_state()?;
            }
        }
        h.check_state()?;
    }
}

#[test]
fn reading_outside_any_mapping_is_a_segfault_and_misaligned_words_are_refused() {
    let mut mem = Allocator::new(Profile::CPYTHON_3_13);
    let p = mem.object_malloc(10).unwrap();
    assert_eq!(mem.read_word(0x10), Err(MemError::Segfault { addr: 0x10 }));
    assert_eq!(
        mem.read_word(p + 4),
        Err(MemError::Misaligned { addr: p + 4 })
    );
    assert_eq!(
        mem.write_word(0x10, 1),
        Err(MemError::Segfault { addr: 0x10 })
    );
    assert_eq!(mem.touch(0x10, 1), Err(MemError::Segfault { addr: 0x10 }));
}
