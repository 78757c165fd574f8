//! Every chapter program in `examples/` runs here and its output is compared with its insta
//! snapshot in `tests/snapshots/`: the outputs the book shows are these snapshots.
//!
//! Each example keeps its work in `pub fn run(out: &mut String)` and its `main` only prints what
//! `run` wrote, so the test and `cargo run --example NAME` print the same thing.

macro_rules! example {
    ($name:ident, $file:literal) => {
        // `main` is the example's entry point as a program; here only `run` is called.
        #[allow(dead_code)]
        #[path = $file]
        mod $name;

        #[test]
        fn $name() {
            let mut out = String::new();
            $name::run(&mut out).unwrap_or_else(|e| panic!("{}: {e}", stringify!($name)));
            insta::assert_snapshot!(stringify!($name), out);
        }
    };
}

example!(pymalloc_tour, "../examples/pymalloc_tour.rs");
example!(objects_tour, "../examples/objects_tour.rs");
example!(model_trace, "../examples/model_trace.rs");
example!(puzzle2_owners, "../examples/puzzle2_owners.rs");
example!(puzzle1_stale, "../examples/puzzle1_stale.rs");
example!(puzzle3_rounds, "../examples/puzzle3_rounds.rs");
example!(gc_cycles, "../examples/gc_cycles.rs");
example!(gc_generations, "../examples/gc_generations.rs");
