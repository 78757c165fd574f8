//! The collector's benchmark shape (issue #9): 500,000 live lists and 250,000 garbage 2-cycles
//! of lists (500,000 objects), all tracked, then one full collection, timed. Prints the objects
//! collected and the milliseconds the collection took; `scripts/bench-gc` runs it beside
//! `gc.collect()` on CPython 3.11 with the same shape.
//!
//!     cargo run --release -p gc --example full_collection

use std::time::Instant;

use objects::{ObjError, Objects};
use pymalloc::Profile;

fn main() -> Result<(), ObjError> {
    let mut o = Objects::new(Profile::CPYTHON_3_11)?;
    o.gc_set_enabled(false);
    let live = o.list_new_generic()?;
    for _ in 0..500_000 {
        let l = o.list_new_generic()?;
        o.list_append(live, l)?;
        o.decref(l)?;
    }
    for _ in 0..250_000 {
        let a = o.list_new_generic()?;
        let b = o.list_new_generic()?;
        o.list_append(a, b)?;
        o.list_append(b, a)?;
        o.decref(a)?;
        o.decref(b)?;
    }
    let start = Instant::now();
    let found = gc::collect(&mut o, 2)?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    println!("model: {} collected in {ms:.1} ms", found.collected);
    Ok(())
}
