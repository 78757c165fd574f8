//! N allocations of 56 bytes (size class 3, 64-byte blocks), then freeing them all, on the 3.11
//! profile: the model's cost per operation, and its own memory.
//!
//! `cargo bench -p pymalloc --bench alloc_free`. Each benchmark reports ns per block (the items
//! counter) and, through divan's allocation profiler, the model's peak heap use ("max alloc").
//! The pointer vectors are allocated before timing starts, so they are not in that peak.

use divan::counter::ItemsCount;
use divan::{AllocProfiler, Bencher};
use pymalloc::{Allocator, Profile};

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

const REQUEST: usize = 56;

fn main() {
    divan::main();
}

fn allocate_all(mem: &mut Allocator, ptrs: &mut Vec<u64>, n: usize) {
    for _ in 0..n {
        ptrs.push(mem.object_malloc(REQUEST).expect("the model has room"));
    }
}

fn filled(n: usize) -> (Allocator, Vec<u64>) {
    let mut mem = Allocator::new(Profile::CPYTHON_3_11);
    let mut ptrs = Vec::with_capacity(n);
    allocate_all(&mut mem, &mut ptrs, n);
    (mem, ptrs)
}

fn bench_malloc(bencher: Bencher, n: usize) {
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(|| (Allocator::new(Profile::CPYTHON_3_11), Vec::with_capacity(n)))
        .bench_local_values(|(mut mem, mut ptrs)| {
            allocate_all(&mut mem, &mut ptrs, n);
            (mem, ptrs)
        });
}

fn bench_free(bencher: Bencher, n: usize) {
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(|| filled(n))
        .bench_local_values(|(mut mem, ptrs)| {
            for &p in &ptrs {
                mem.object_free(p).expect("each block is live");
            }
            (mem, ptrs)
        });
}

/// 10^6 allocations.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn malloc_1e6(bencher: Bencher) {
    bench_malloc(bencher, 1_000_000);
}

/// 10^6 frees.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn free_1e6(bencher: Bencher) {
    bench_free(bencher, 1_000_000);
}

/// 10^8 allocations, one sample.
#[divan::bench(sample_count = 1, sample_size = 1)]
fn malloc_1e8(bencher: Bencher) {
    bench_malloc(bencher, 100_000_000);
}

/// 10^8 frees, one sample.
#[divan::bench(sample_count = 1, sample_size = 1)]
fn free_1e8(bencher: Bencher) {
    bench_free(bencher, 100_000_000);
}
