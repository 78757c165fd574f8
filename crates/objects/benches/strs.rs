//! The third puzzle's work at a tenth of its size: 10^7 strs `str(i)`, each appended to one of
//! ten lists, on the 3.11 profile; then the ten lists released.
//!
//! `cargo bench -p objects --bench strs`. Reports ns per str (the items counter) and, through
//! divan's allocation profiler, the model's own peak heap ("max alloc"): divided by the number
//! of live strs, that is what the model spends per object where CPython spends 64 bytes (a
//! 56-byte block and an 8-byte list slot).

use divan::counter::ItemsCount;
use divan::{AllocProfiler, Bencher};
use objects::Objects;
use pymalloc::Profile;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

/// Ten lists holding `n` strs between them: `lists[i % 10].append(str(i))`.
fn build(o: &mut Objects, n: u64) -> Vec<u64> {
    let lists: Vec<u64> = (0..10).map(|_| o.list_new(0).expect("room")).collect();
    let mut text = String::new();
    for i in 0..n {
        use std::fmt::Write;
        text.clear();
        write!(text, "{i}").expect("a String takes writes");
        let s = o.unicode_new(&text).expect("room");
        o.list_append(lists[(i % 10) as usize], s)
            .expect("a live list");
        o.decref(s).expect("the list keeps it");
    }
    lists
}

#[divan::bench(args = [1_000_000, 10_000_000], sample_count = 1, sample_size = 1)]
fn create_and_append(bencher: Bencher, n: u64) {
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(|| Objects::new(Profile::CPYTHON_3_11).expect("start-up"))
        .bench_local_values(|mut o| {
            let lists = build(&mut o, n);
            (o, lists)
        });
}

#[divan::bench(args = [1_000_000, 10_000_000], sample_count = 1, sample_size = 1)]
fn release(bencher: Bencher, n: u64) {
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(|| {
            let mut o = Objects::new(Profile::CPYTHON_3_11).expect("start-up");
            let lists = build(&mut o, n);
            (o, lists)
        })
        .bench_local_values(|(mut o, lists)| {
            for l in lists {
                o.decref(l).expect("a live list");
            }
            o
        });
}
