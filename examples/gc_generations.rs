//! The generations of CPython's collector on the model: the object layer (`crates/objects`)
//! counts, the collector (`crates/gc`) collects. Every run starts from a full collection, as the
//! experiments `examples/python/generations_*.py` do: counts (0, 0, 0), free lists empty. Then
//! it keeps one new list after another, each a GC allocation, and watches the counts and the
//! four lists of tracked objects (generations 0, 1 and 2, and the permanent generation).
//!
//! 1. CPython 3.11, around threshold 0: the allocation that makes count 0 pass 700 collects
//!    generation 0 inside itself (`_PyObject_GC_Alloc`), before the new list is tracked.
//! 2. CPython 3.11, every collection up to the first of generation 1: what moved where.
//! 3. CPython 3.12: the same allocation only makes the collection due (`_Py_ScheduleGC`); it
//!    runs at the next check of the eval breaker (`_Py_RunGC`), the new list with it.
//! 4. CPython 3.13: threshold 0 is 2000.
//! 5. The 25% rule on 3.11 and on 3.13: a population of long-lived lists, then every time
//!    count 2 has passed its threshold, what `generation_to_collect` decides and why.
//! 6. The generations as a mermaid diagram, drawn from the model's state on 3.11 after the
//!    last collection of generation 1 before the full one.
//! 7. to 10. The experiments `generations_pop.py` and `generations_kept.py` on the model.
use std::fmt::Write;

use objects::gclist::NUM_GENERATIONS;
use objects::{GcCounts, ObjError, Objects};
use pymalloc::Profile;

type Res = Result<(), Box<dyn std::error::Error>>;

fn main() -> Res {
    let mut out = String::new();
    run(&mut out)?;
    print!("{out}");
    Ok(())
}

/// The walk through the generations, written into `out`.
pub fn run(out: &mut String) -> Res {
    around_threshold_3_11(out)?;
    up_to_generation_1(out)?;
    deferred(out, Profile::CPYTHON_3_12, 3)?;
    deferred(out, Profile::CPYTHON_3_13, 4)?;
    writeln!(
        out,
        "== 5. The 25% rule: generation 2 passed over, then collected =="
    )?;
    let drawn = the_quarter_rule(out, Profile::CPYTHON_3_11)?;
    the_quarter_rule(out, Profile::CPYTHON_3_13)?;
    writeln!(
        out,
        "== 6. The generations before the full collection on 3.11 =="
    )?;
    out.push_str(&drawn.chart());
    for (section, name, profile) in [
        (7, "generations_pop", Profile::CPYTHON_3_11),
        (8, "generations_pop", Profile::CPYTHON_3_12),
        (9, "generations_kept", Profile::CPYTHON_3_11),
        (10, "generations_kept", Profile::CPYTHON_3_13),
    ] {
        on_the_model(out, section, name, profile)?;
    }
    Ok(())
}

// ANCHOR: on_the_model
/// `examples/python/NAME.py` run on the model with `profile`, as `python3 -I NAME.py` runs it:
/// what it prints (tests/model.rs checks it against the captures on 3.9 to 3.13).
fn on_the_model(out: &mut String, section: u32, name: &str, profile: Profile) -> Res {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = format!("examples/python/{name}.py");
    let source = std::fs::read_to_string(root.join(&path))?;
    let (_, minor) = profile.version();
    writeln!(out, "== {section}. {name}.py on the model, 3.{minor} ==")?;
    out.push_str(&python::run_source(profile, &source, &path)?.stdout);
    Ok(())
}
// ANCHOR_END: on_the_model

/// What the collector keeps, at one moment: the counts and thresholds, the size of each list
/// of tracked objects (`gc_list_size` of generations 0, 1, 2 and the permanent one), and the
/// figures of the 25% rule.
#[derive(Clone, Copy, PartialEq, Eq)]
struct State {
    counts: GcCounts,
    sizes: [usize; NUM_GENERATIONS + 1],
}

impl State {
    fn of(o: &Objects) -> State {
        let mut sizes = [0; NUM_GENERATIONS + 1];
        for (g, size) in sizes.iter_mut().enumerate() {
            *size = o.gc_list_size(o.gen_head(g));
        }
        State {
            counts: o.gc_counts(),
            sizes,
        }
    }

    fn counts(&self) -> String {
        counts_of(&self.counts)
    }

    /// The tracked objects of each list.
    fn sizes(&self) -> String {
        let [g0, g1, g2, permanent] = self.sizes;
        format!("gen0 {g0:>7}  gen1 {g1:>6}  gen2 {g2:>7}  permanent {permanent}")
    }
}

/// `(count 0, count 1, count 2)`, as `gc.get_count()` prints them.
fn counts_of(c: &GcCounts) -> String {
    format!("({}, {}, {})", c.count0, c.count1, c.count2)
}

/// A process of `profile`'s version with its collector, right after `gc.collect()`.
fn after_a_full_collection(profile: Profile) -> Result<Objects, ObjError> {
    let mut o = Objects::new(profile)?;
    // Up to 3.11 an allocation collects when a collection is due (_PyObject_GC_Alloc).
    o.set_collector(gc::collect_generations);
    gc::collect(&mut o, NUM_GENERATIONS - 1)?;
    Ok(o)
}

// ANCHOR: around_threshold
/// One more list kept in `kept`: `kept.append([])`.
fn keep_one(o: &mut Objects, kept: u64) -> Result<(), ObjError> {
    let list = o.list_new_generic()?;
    o.list_append(kept, list)?;
    o.decref(list)
}

/// From 3.12, the check of the eval breaker after the call (`_Py_HandlePending`): the
/// collection an allocation made due runs now. Up to 3.11 nothing is ever due here.
fn eval_breaker(o: &mut Objects) -> Result<(), ObjError> {
    if o.gc_counts().collection_due {
        gc::collect_generations(o)?;
    }
    Ok(())
}

fn around_threshold_3_11(out: &mut String) -> Res {
    writeln!(out, "== 1. CPython 3.11: around threshold 0 ==")?;
    let mut o = after_a_full_collection(Profile::CPYTHON_3_11)?;
    writeln!(out, "after gc.collect()    {}", State::of(&o).counts())?;
    let kept = o.list_new_generic()?;
    writeln!(out, "kept = []             {}", State::of(&o).counts())?;
    for n in 1..=702 {
        keep_one(&mut o, kept)?;
        if n >= 697 {
            let s = State::of(&o);
            writeln!(out, "list {n:>4} kept  {:<14} {}", s.counts(), s.sizes())?;
        }
    }
    Ok(())
}
// ANCHOR_END: around_threshold

/// One collection, seen from outside: the state before and after the allocation (and the
/// check of the eval breaker) that ran it.
fn collection_line(n: usize, before: &GcCounts, after: &State) -> String {
    format!(
        "list {n:>6}: {:<14} -> {:<14} {}",
        counts_of(before),
        after.counts(),
        after.sizes()
    )
}

fn up_to_generation_1(out: &mut String) -> Res {
    writeln!(
        out,
        "== 2. CPython 3.11: every collection up to the first of generation 1 =="
    )?;
    let mut o = after_a_full_collection(Profile::CPYTHON_3_11)?;
    let kept = o.list_new_generic()?;
    let mut n = 0;
    while o.gc_counts().count2 == 0 {
        n += 1;
        let before = o.gc_counts();
        keep_one(&mut o, kept)?;
        if o.gc_counts().count0 < before.count0 {
            writeln!(out, "{}", collection_line(n, &before, &State::of(&o)))?;
        }
    }
    Ok(())
}

fn deferred(out: &mut String, profile: Profile, section: u32) -> Res {
    let (_, minor) = profile.version();
    writeln!(
        out,
        "== {section}. CPython 3.{minor}: the collection waits for the eval breaker =="
    )?;
    let mut o = after_a_full_collection(profile)?;
    let kept = o.list_new_generic()?;
    let threshold0 = o.gc_counts().threshold0 as usize;
    // With `kept`, list `threshold0` is the allocation that takes count 0 past the threshold.
    for n in 1..=threshold0 {
        keep_one(&mut o, kept)?;
        if n + 2 >= threshold0 {
            let s = State::of(&o);
            let due = if s.counts.collection_due { "  due" } else { "" };
            writeln!(
                out,
                "list {n:>4} kept  {:<14} {}{due}",
                s.counts(),
                s.sizes()
            )?;
        }
    }
    eval_breaker(&mut o)?;
    let s = State::of(&o);
    writeln!(out, "eval breaker     {:<14} {}", s.counts(), s.sizes())?;
    Ok(())
}

/// Long-lived lists per unit of threshold 0, as in `generations_full.py`.
const POPULATION_PER_THRESHOLD: usize = 600;

/// `generations_full.py` on the model: start-up's objects frozen, a population of lists made
/// with the collector off and collected (`long_lived_total`), then one list kept after
/// another. Every collection of generation 1 that finds count 2 past its threshold is reported
/// with the rule's figures, then the collection of generation 2. Returns the state after the
/// last collection of generation 1, just before the full one.
fn the_quarter_rule(
    out: &mut String,
    profile: Profile,
) -> Result<State, Box<dyn std::error::Error>> {
    let (_, minor) = profile.version();
    let mut o = Objects::new(profile)?;
    o.set_collector(gc::collect_generations);
    o.gc_set_enabled(false);
    gc::freeze(&mut o)?;
    let threshold0 = o.gc_counts().threshold0 as usize;
    let population = o.list_new_generic()?;
    for _ in 0..POPULATION_PER_THRESHOLD * threshold0 {
        keep_one(&mut o, population)?;
    }
    gc::collect(&mut o, NUM_GENERATIONS - 1)?;
    o.gc_set_enabled(true);
    let start = State::of(&o);
    writeln!(
        out,
        "-- CPython 3.{minor}: {} lists, then gc.collect(): long_lived_total {}, {} --",
        POPULATION_PER_THRESHOLD * threshold0,
        start.counts.long_lived_total,
        start.sizes()
    )?;
    let kept = o.list_new_generic()?;
    let mut young_passing_over = 0;
    let mut before_full = None;
    for n in 1.. {
        let before = o.gc_counts();
        keep_one(&mut o, kept)?;
        // What collect_generations sees when it runs: the counts with this list's allocation
        // counted. Up to 3.11 it runs inside that allocation, so the counts from before, one
        // more; from 3.12 at the eval breaker, so the counts now.
        let seen = if minor <= 11 {
            GcCounts {
                count0: before.count0 + 1,
                ..before
            }
        } else {
            o.gc_counts()
        };
        eval_breaker(&mut o)?;
        if o.gc_counts().count0 >= before.count0 || seen.count2 <= seen.threshold2 {
            continue;
        }
        // A collection that found count 2 past its threshold.
        let picked = gc::generation_to_collect(&seen);
        if picked == Some(0) {
            young_passing_over += 1;
            continue;
        }
        let quarter = seen.long_lived_total / 4;
        let verdict = if picked == Some(2) {
            "generation 2 collected".to_string()
        } else {
            format!(
                "generation 2 passed over, generation 1 collected ({} collections of \
                 generation 0 before it passed generation 2 over too)",
                std::mem::take(&mut young_passing_over)
            )
        };
        writeln!(
            out,
            "list {n:>6}: count 2 is {} > {}, long_lived_pending {} {} long_lived_total / 4 = {}: {verdict}",
            seen.count2,
            seen.threshold2,
            seen.long_lived_pending,
            if seen.long_lived_pending < quarter {
                "<"
            } else {
                ">="
            },
            quarter,
        )?;
        // The lists' sizes only now: gc_list_size walks a list.
        let after = State::of(&o);
        writeln!(out, "{}", collection_line(n, &before, &after))?;
        if picked == Some(2) {
            break;
        }
        before_full = Some(after);
    }
    Ok(before_full.ok_or("generation 2 was collected at once")?)
}

impl State {
    /// A mermaid flowchart of the four lists, labelled with CPython's own names so that both
    /// editions read it: each generation (`gcstate->generations[g]`) with its count, threshold
    /// and size, the survivors' way from one to the next (`gc_list_merge(young, old)`), and
    /// the permanent generation beside.
    fn chart(&self) -> String {
        let c = &self.counts;
        let counts = [c.count0, c.count1, c.count2];
        let thresholds = [c.threshold0, c.threshold1, c.threshold2];
        let mut s = String::from("flowchart LR\n");
        for g in 0..NUM_GENERATIONS {
            let mut label = format!(
                "generations[{g}]<br>count {} / threshold {}<br>gc_list_size {}",
                counts[g], thresholds[g], self.sizes[g]
            );
            if g == NUM_GENERATIONS - 1 {
                label += &format!(
                    "<br>long_lived_pending {}<br>long_lived_total {}",
                    c.long_lived_pending, c.long_lived_total
                );
            }
            let _ = writeln!(s, "    g{g}[\"{label}\"]");
        }
        for g in 0..NUM_GENERATIONS - 1 {
            let _ = writeln!(s, "    g{g} -->|\"gc_list_merge\"| g{}", g + 1);
        }
        let _ = writeln!(
            s,
            "    p[\"permanent_generation<br>gc_list_size {}\"]",
            self.sizes[NUM_GENERATIONS]
        );
        let _ = writeln!(s, "    g0 -.->|\"gc.freeze()\"| p",);
        s
    }
}
