//! CPython's cycle collector, `Modules/gcmodule.c` of 3.8 to 3.12 and `Python/gc.c` of 3.13 (the
//! same generational algorithm), on the object layer of `crates/objects`.
//!
//! ```text
//!   Collection::start(o, generation)                         gc_collect_main, up to finalizers
//!     counts: generations[g+1].count += 1, counts 0..=g = 0
//!     gc_list_merge: the younger generations into generation g ("young")
//!     deduce_unreachable(young, unreachable)
//!       update_refs      gc_refs = ob_refcnt, for each object in young
//!       subtract_refs    gc_refs -= 1 for each reference from inside young (tp_traverse)
//!       move_unreachable gc_refs == 0 -> unreachable, unless something reachable refers to it
//!     untrack_tuples(young); survivors merged into generation g+1 (or untrack_dicts, full)
//!   Collection::next_finalizer                               finalize_garbage, one at a time:
//!     the caller runs each __del__ (Python code), holding a reference
//!   Collection::finish
//!     handle_resurrected_objects  what a finalizer made reachable goes to old (3.8: all or none)
//!     delete_garbage   tp_clear on each unreachable object; what stays alive goes to old
//!     clear_freelists  on a full collection
//! ```
//!
//! [`collect`] runs the three for callers that cannot run Python code, [`collect_with`] for
//! those that pass the finalizer in; the interpreter steps through a [`Collection`] itself. A
//! collection an allocation starts (up to 3.11) that finds a finalizer due waits in the object
//! layer ([`ParkedCollection`]) until the interpreter finishes it, after the instruction.
//!
//! Each step keeps CPython's names and order, so the list order (and so the order in which
//! objects are freed, and where later objects land) is CPython's. The object layer keeps each
//! object's `PyGC_Head` links and, while a collection runs, its `gc_refs` (`objects::gclist`).
//!
//! ```
//! use objects::Objects;
//! use pymalloc::Profile;
//!
//! let mut o = Objects::new(Profile::CPYTHON_3_11)?;
//! let a = o.list_new_generic()?;
//! let b = o.list_new_generic()?;
//! o.list_append(a, b)?; // a -> b -> a: a cycle
//! o.list_append(b, a)?;
//! o.decref(a)?;
//! o.decref(b)?;
//! assert!(o.is_live(a) && o.is_live(b)); // counts of 1: reference counting cannot free them
//! assert_eq!(gc::collect(&mut o, 2)?.collected, 2);
//! assert!(!o.is_live(a) && !o.is_live(b));
//! # Ok::<(), objects::ObjError>(())
//! ```
//!
//! Not modelled yet (refused with an error, never collected wrongly): weak references, legacy
//! finalizers (`tp_del`, which no class written in Python has), `tp_clear` of types other than
//! lists, dicts and instances.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod trace;

use objects::gclist::{NUM_GENERATIONS, ParkedCollection, collector_head};
use std::time::Instant;

use objects::{GcCounts, GcStep, ObjError, ObjEvent, Objects, TypeId};
use trace::{trace_refs, trace_start};

/// What one collection found (`gc_collect_main`'s `n_collected` and `n_uncollectable`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Collected {
    /// Unreachable objects cleared (`m`): what `gc.collect()` returns, with `uncollectable`.
    pub collected: usize,
    /// Unreachable objects kept because of legacy finalizers (`n`).
    pub uncollectable: usize,
}

/// The heads of the lists `gc_collect_main` keeps on its stack.
const UNREACHABLE: u64 = 0;
const FINALIZERS: u64 = 1;
const FINAL_UNREACHABLE: u64 = 2;
/// `finalize_garbage`'s `seen`.
const SEEN: u64 = 3;

/// `gc.DEBUG_STATS`: each collection's generation sizes, result and duration on stderr.
pub const DEBUG_STATS: i64 = 1;
/// `gc.DEBUG_COLLECTABLE`: each unreachable object found.
pub const DEBUG_COLLECTABLE: i64 = 2;
/// `gc.DEBUG_UNCOLLECTABLE`: each object kept for a legacy finalizer.
pub const DEBUG_UNCOLLECTABLE: i64 = 4;
/// `gc.DEBUG_SAVEALL`: unreachable objects appended to `gc.garbage` instead of cleared.
pub const DEBUG_SAVEALL: i64 = 32;
/// `gc.DEBUG_LEAK`: all but `DEBUG_STATS`.
pub const DEBUG_LEAK: i64 = DEBUG_COLLECTABLE | DEBUG_UNCOLLECTABLE | DEBUG_SAVEALL;

// ANCHOR: collect_generations
/// `collect_generations` (`gc_collect_generations` from 3.11): collects the oldest generation
/// whose count exceeds its threshold, with every younger one ([`generation_to_collect`]).
/// Run by an allocation up to 3.11 (`_PyObject_GC_Alloc`), by the eval breaker from 3.12
/// (`_Py_RunGC`), with `collecting` set.
pub fn collect_generations(o: &mut Objects) -> Result<(), ObjError> {
    o.gc_counts_mut().collection_due = false;
    let Some(generation) = generation_to_collect(&o.gc_counts()) else {
        return Ok(());
    };
    o.gc_counts_mut().collecting = true;
    let result = collect_or_park(o, generation);
    if !o.has_parked_collection() {
        o.gc_counts_mut().collecting = false;
    }
    result
}

/// The generation `collect_generations` picks: the oldest whose count exceeds its threshold.
/// Generation 2 is passed over unless the objects that have survived a collection of
/// generation 1 since the last full collection (`long_lived_pending`) are at least a quarter
/// of those that survived it (`long_lived_total`): full collections would otherwise grow
/// quadratically with the number of objects (bpo-4074).
pub fn generation_to_collect(c: &GcCounts) -> Option<usize> {
    let counts = [c.count0, c.count1, c.count2];
    let thresholds = [c.threshold0, c.threshold1, c.threshold2];
    (0..NUM_GENERATIONS).rev().find(|&i| {
        counts[i] > thresholds[i]
            && !(i == NUM_GENERATIONS - 1 && c.long_lived_pending < c.long_lived_total / 4)
    })
}
// ANCHOR_END: collect_generations

/// `gc_collect_with_callback(generation)` where no Python code can run: done at once, or left
/// for the layer above (`collecting` stays set until it finishes) when a callback or a
/// finalizer is to be called.
fn collect_or_park(o: &mut Objects, generation: usize) -> Result<(), ObjError> {
    let callbacks = o.gc_counts().callbacks;
    if callbacks != 0 && o.list_len(callbacks)? > 0 {
        o.park_collection(ParkedCollection {
            generation,
            begun: false,
            started: None,
        });
        return Ok(());
    }
    let mut c = Collection::start(o, generation)?;
    if c.finalizers_due(o)? {
        o.park_collection(c.park());
        return Ok(());
    }
    c.finish(o).map(|_| ())
}

/// `gc.freeze()` (`gc_freeze_impl`): every tracked object moves to the permanent generation,
/// which no collection looks at, and generation 0's count starts again.
pub fn freeze(o: &mut Objects) -> Result<(), ObjError> {
    let permanent = o.gen_head(NUM_GENERATIONS);
    for i in 0..NUM_GENERATIONS {
        let head = o.gen_head(i);
        o.gc_list_merge(head, permanent)?;
        o.gc_counts_mut().count0 = 0;
    }
    Ok(())
}

/// `gc.unfreeze()`: the permanent generation's objects back into the oldest one.
pub fn unfreeze(o: &mut Objects) -> Result<(), ObjError> {
    let (permanent, oldest) = (o.gen_head(NUM_GENERATIONS), o.gen_head(NUM_GENERATIONS - 1));
    o.gc_list_merge(permanent, oldest)
}

/// `gc.get_freeze_count()`: how many objects the permanent generation holds.
pub fn freeze_count(o: &Objects) -> usize {
    o.gc_list_size(o.gen_head(NUM_GENERATIONS))
}

/// `gc_collect_main(tstate, generation, ...)`: collects `generation` and every younger one.
/// A finalizer found on the way (`__del__`) is refused: collecting what has one needs a caller
/// that can run Python code, which steps through a [`Collection`] or uses [`collect_with`].
pub fn collect(o: &mut Objects, generation: usize) -> Result<Collected, ObjError> {
    let mut c = Collection::start(o, generation)?;
    if c.finalizers_due(o)? {
        c.abandon(o)?;
        return Err(ObjError::NotModelled {
            what: "a collection that finds an object with __del__ (PEP 442 finalizers), \
                   with nothing to run Python code",
        });
    }
    c.finish(o)
}

/// [`collect`], calling `finalize` for each finalizer due (`tp_finalize`), as C calls it: with
/// the object marked finalized and a reference held across the call.
pub fn collect_with<F>(
    o: &mut Objects,
    generation: usize,
    mut finalize: F,
) -> Result<Collected, ObjError>
where
    F: FnMut(&mut Objects, u64) -> Result<(), ObjError>,
{
    let mut c = Collection::start(o, generation)?;
    while let Some(op) = c.next_finalizer(o)? {
        finalize(o, op)?;
        o.decref(op)?;
    }
    c.finish(o)
}

/// A `gc_collect_main` under way. [`Collection::start`] runs it up to `finalize_garbage`; the
/// finalizers due there are Python code (a class's `__del__`), which the caller runs one at a
/// time as [`Collection::next_finalizer`] hands them out; [`Collection::finish`] does the rest.
/// The collection's lists live in the object layer meanwhile, so a collection an allocation
/// started can wait there for the layer that runs Python code ([`ParkedCollection`]).
#[derive(Debug)]
pub struct Collection {
    generation: usize,
    /// Whether a finalizer ran: only then can the unreachable set have changed.
    finalized: bool,
    /// `t1`: when it started, if `DEBUG_STATS` asked for its duration.
    started: Option<Instant>,
    /// Whether every finalizer due has been handed out (or none was).
    finalizers_seen: bool,
}

impl Collection {
    /// `gc_collect_main` up to `finalize_garbage`: the counts, the younger generations merged,
    /// `deduce_unreachable`, the untracking passes, the survivors moved on, and the (legacy)
    /// finalizers and weak references dealt with.
    pub fn start(o: &mut Objects, generation: usize) -> Result<Collection, ObjError> {
        if generation >= NUM_GENERATIONS {
            return Err(ObjError::NotModelled {
                what: "a generation number above 2 (gc.collect raises ValueError)",
            });
        }
        let started = (o.gc_counts().debug & DEBUG_STATS != 0).then(|| {
            o.write_stderr(&format!("gc: collecting generation {generation}...\n"));
            show_stats_each_generations(o);
            Instant::now()
        });
        trace_start(o, generation);
        update_counts(o, generation);
        // Merge younger generations with the one being collected.
        let young = o.gen_head(generation);
        for i in 0..generation {
            let head = o.gen_head(i);
            o.gc_list_merge(head, young)?;
        }
        let old = old_generation(o, generation);
        let unreachable = collector_head(UNREACHABLE);
        deduce_unreachable(o, young, unreachable)?;
        // The untracking passes count what they leave: gc_list_size(young) without another walk.
        let survivors = untrack_tuples(o, young)?;
        // Move reachable objects to the next generation.
        if young != old {
            if generation == NUM_GENERATIONS - 2 {
                o.gc_counts_mut().long_lived_pending += survivors as i64;
            }
            o.gc_list_merge(young, old)?;
        } else {
            // Dicts are untracked only in full collections (bpo-14775: quadratic build-up).
            let total = untrack_dicts(o, young)? as i64;
            let counts = o.gc_counts_mut();
            counts.long_lived_pending = 0;
            counts.long_lived_total = total;
        }
        // move_legacy_finalizers: no modelled type has tp_del, so `finalizers` stays empty.
        o.gc_list_init(collector_head(FINALIZERS));
        if o.gc_counts().debug & DEBUG_COLLECTABLE != 0 {
            for op in o.gc_list(collector_head(UNREACHABLE)) {
                debug_cycle(o, "collectable", op)?;
            }
        }
        // handle_weakrefs: no weak references exist in the model.
        o.gc_list_init(collector_head(SEEN));
        Ok(Collection {
            generation,
            finalized: false,
            started,
            finalizers_seen: false,
        })
    }

    /// Gives up before any finalizer was called: the unreachable objects go to the next
    /// generation with the survivors, unmarked, as if all had been found reachable, so that
    /// nothing is left outside the generations' lists.
    pub fn abandon(self, o: &mut Objects) -> Result<(), ObjError> {
        let unreachable = collector_head(UNREACHABLE);
        for op in o.gc_list(unreachable) {
            o.gc_clear_collecting(op);
        }
        let old = old_generation(o, self.generation);
        o.gc_list_merge(unreachable, old)
    }

    /// The collection an allocation left in the object layer after it began, to go on with.
    pub fn resume(parked: ParkedCollection) -> Collection {
        Collection {
            generation: parked.generation,
            finalized: false,
            started: parked.started,
            finalizers_seen: false,
        }
    }

    /// What the object layer keeps of it while it waits for its finalizers.
    pub fn park(&self) -> ParkedCollection {
        ParkedCollection {
            generation: self.generation,
            begun: true,
            started: self.started,
        }
    }

    /// Whether an unreachable object has a finalizer due: the collection can go on only where
    /// Python code can run. When none is, [`Collection::finish`] may follow at once (as after
    /// [`Collection::next_finalizer`] has returned `None`).
    pub fn finalizers_due(&mut self, o: &Objects) -> Result<bool, ObjError> {
        let unreachable = collector_head(UNREACHABLE);
        let due = first_finalizer_due(o, unreachable)?.is_some();
        self.finalizers_seen |= !due;
        Ok(due)
    }

    // ANCHOR: next_finalizer
    /// `finalize_garbage`'s loop, one finalizer at a time. A finalizer may free any object of
    /// the unreachable set, so C always takes the first one and moves it to a list of its own,
    /// `seen`, before calling anything. The first object with a finalizer due is marked
    /// finalized (`_PyGCHead_SET_FINALIZED`, before the call: it never runs twice) and returned
    /// with a new reference: the caller calls its `tp_finalize`, then releases the reference.
    /// `None` once every object has been seen; they are back in the unreachable list, in order.
    pub fn next_finalizer(&mut self, o: &mut Objects) -> Result<Option<u64>, ObjError> {
        let (collectable, seen) = (collector_head(UNREACHABLE), collector_head(SEEN));
        let Some(op) = first_finalizer_due(o, collectable)? else {
            // C moves the rest to `seen` one by one, then merges `seen` back: the same order
            // as `seen` followed by the rest, which two merges give at once.
            o.gc_list_merge(collectable, seen)?;
            o.gc_list_merge(seen, collectable)?;
            self.finalizers_seen = true;
            return Ok(None);
        };
        while o.gc_next(collectable) != op {
            let first = o.gc_next(collectable);
            o.gc_list_move(first, seen)?;
        }
        o.gc_list_move(op, seen)?;
        o.trace_gc(op, GcStep::Finalize);
        o.set_finalized(op)?;
        o.incref(op)?;
        self.finalized = true;
        Ok(Some(op))
    }
    // ANCHOR_END: next_finalizer

    /// `gc_collect_main` from the finalizers on: what they resurrected goes to the next
    /// generation; the rest is cleared (`delete_garbage`); the free lists are emptied after a
    /// full collection.
    pub fn finish(self, o: &mut Objects) -> Result<Collected, ObjError> {
        if !self.finalizers_seen {
            return Err(ObjError::NotModelled {
                what: "finishing a collection before its finalizers have been called",
            });
        }
        let old = old_generation(o, self.generation);
        let (unreachable, finalizers) = (collector_head(UNREACHABLE), collector_head(FINALIZERS));
        let collected = if o.layout().minor == 8 {
            // 3.8 looks again only to keep or free the whole set (check_garbage).
            if self.finalized && check_garbage(o, unreachable)? {
                // revive_garbage
                o.gc_list_merge(unreachable, old)?;
                0
            } else {
                let m = o.gc_list_size(unreachable);
                delete_garbage(o, unreachable, old)?;
                m
            }
        } else {
            let final_unreachable = collector_head(FINAL_UNREACHABLE);
            handle_resurrected_objects(o, unreachable, final_unreachable, old, self.finalized)?;
            let m = o.gc_list_size(final_unreachable);
            delete_garbage(o, final_unreachable, old)?;
            m
        };
        // Legacy finalizers: none (DEBUG_UNCOLLECTABLE would name each here).
        let uncollectable = o.gc_list_size(finalizers);
        if let Some(t1) = self.started {
            let n = uncollectable;
            o.write_stderr(&format!(
                "gc: done, {} unreachable, {n} uncollectable, {:.4}s elapsed\n",
                n + collected,
                t1.elapsed().as_secs_f64()
            ));
        }
        // handle_legacy_finalizers: gc.garbage gets them (none here); they join `old`.
        o.gc_list_merge(finalizers, old)?;
        if self.generation == NUM_GENERATIONS - 1 {
            o.clear_freelists()?;
        }
        // Update stats (`generation_stats[generation]`, what gc.get_stats() reports).
        let stats = &mut o.gc_counts_mut().stats[self.generation];
        stats.collections += 1;
        stats.collected += collected as i64;
        stats.uncollectable += uncollectable as i64;
        o.trace_gc_event(ObjEvent::GcEnd {
            generation: self.generation,
            collected,
            uncollectable,
        });
        Ok(Collected {
            collected,
            uncollectable,
        })
    }
}

/// `show_stats_each_generations`: the size of each generation's list, then the permanent one's.
fn show_stats_each_generations(o: &mut Objects) {
    let sizes: Vec<String> = (0..NUM_GENERATIONS)
        .map(|i| o.gc_list_size(o.gen_head(i)).to_string())
        .collect();
    let permanent = o.gc_list_size(o.gen_head(NUM_GENERATIONS));
    o.write_stderr(&format!(
        "gc: objects in each generation: {}\ngc: objects in permanent generation: {permanent}\n",
        sizes.join(" ")
    ));
}

/// `debug_cycle(msg, op)`: `gc: <msg> <tp_name address>`, the address as `%p` prints it.
fn debug_cycle(o: &mut Objects, msg: &str, op: u64) -> Result<(), ObjError> {
    let name = o.tp_name(op)?;
    o.write_stderr(&format!("gc: {msg} <{name} {op:#x}>\n"));
    Ok(())
}

/// `old`: the next older generation, or the oldest itself.
fn old_generation(o: &Objects, generation: usize) -> u64 {
    o.gen_head((generation + 1).min(NUM_GENERATIONS - 1))
}

/// The first object of `head`'s list with a finalizer due, walking the links as they are.
fn first_finalizer_due(o: &Objects, head: u64) -> Result<Option<u64>, ObjError> {
    let mut at = o.gc_next(head);
    while at != head {
        if finalizer_due(o, at)? {
            return Ok(Some(at));
        }
        at = o.gc_next(at);
    }
    Ok(None)
}

/// Whether `op` has a `tp_finalize` that has not run (`!_PyGCHead_FINALIZED`): in the model,
/// an instance of a class with `__del__`.
fn finalizer_due(o: &Objects, op: u64) -> Result<bool, ObjError> {
    Ok(o.type_of(op)? == TypeId::Instance && o.has_finalizer_due(op)?)
}

/// 3.8's `check_garbage(collectable)`: whether a finalizer gave any object of the set a
/// reference from outside it (`gc_refs` recounted as in `update_refs` and `subtract_refs`);
/// the marks of the collection are cleared on the way.
fn check_garbage(o: &mut Objects, collectable: u64) -> Result<bool, ObjError> {
    let containers = o.gc_list(collectable);
    for &op in &containers {
        let refs = o.refcnt(op)? as i64;
        o.gc_set_refs(op, refs);
    }
    subtract_refs(o, &containers)?;
    let mut resurrected = false;
    for &op in &containers {
        resurrected |= o.gc_refs(op) != 0;
        o.gc_clear_collecting(op);
    }
    Ok(resurrected)
}

/// The counts `gc_collect_main` updates first: one more collection of the next younger
/// generation for `generation + 1`, and every count up to `generation` back to 0.
fn update_counts(o: &mut Objects, generation: usize) {
    let counts = o.gc_counts_mut();
    match generation {
        0 => counts.count1 += 1,
        1 => counts.count2 += 1,
        _ => {}
    }
    counts.count0 = 0;
    if generation >= 1 {
        counts.count1 = 0;
    }
    if generation >= 2 {
        counts.count2 = 0;
    }
    counts.collection_due = false;
}

/// `deduce_unreachable(base, unreachable)`: `update_refs`, `subtract_refs`, then
/// `move_unreachable`, after which `base` holds what is reachable from outside it and
/// `unreachable` the rest.
fn deduce_unreachable(o: &mut Objects, base: u64, unreachable: u64) -> Result<(), ObjError> {
    // The list does not change until move_unreachable: both passes walk one snapshot of it.
    let containers = o.gc_list(base);
    update_refs(o, &containers)?;
    trace_refs(o, &containers, GcStep::UpdateRefs);
    subtract_refs(o, &containers)?;
    trace_refs(o, &containers, GcStep::SubtractRefs);
    o.gc_list_init(unreachable);
    move_unreachable(o, base, unreachable)
}

// ANCHOR: update_refs
/// `update_refs`: each object's `gc_refs` starts as its reference count, and it is marked as
/// being collected.
fn update_refs(o: &mut Objects, containers: &[u64]) -> Result<(), ObjError> {
    for &op in containers {
        let refs = o.refcnt(op)? as i64;
        o.gc_reset_refs(op, refs);
    }
    Ok(())
}
// ANCHOR_END: update_refs

// ANCHOR: subtract_refs
/// `subtract_refs`: `tp_traverse` of each object with `visit_decref`, which takes one off the
/// `gc_refs` of every object being collected that it refers to (only tracked objects have a
/// `PyGC_Head` to mark). What is left is the number of references from outside the generation.
fn subtract_refs(o: &mut Objects, containers: &[u64]) -> Result<(), ObjError> {
    for &op in containers {
        for target in o.tp_traverse(op)? {
            o.gc_decref(target);
        }
    }
    Ok(())
}
// ANCHOR_END: subtract_refs

// ANCHOR: move_unreachable
/// `move_unreachable(young, unreachable)`: walks `young` in order. An object with references
/// from outside (`gc_refs > 0`) is reachable: everything it refers to is too (`visit_reachable`
/// marks them, and brings back those already moved to `unreachable`). One with none is moved to
/// `unreachable`, for now. The walk reaches the objects brought back, as they are appended to
/// `young`.
fn move_unreachable(o: &mut Objects, young: u64, unreachable: u64) -> Result<(), ObjError> {
    let mut prev = young;
    let mut gc = o.gc_next(young);
    while gc != young {
        let refs = o.gc_refs(gc);
        if refs != 0 {
            o.trace_gc(gc, GcStep::Reachable(refs));
            for target in o.tp_traverse(gc)? {
                visit_reachable(o, target, young)?;
            }
            // No longer being collected: visit_reachable now passes it by.
            o.gc_clear_collecting(gc);
            prev = gc;
        } else {
            // Tentatively unreachable (C also sets NEXT_MASK_UNREACHABLE on it).
            o.gc_list_move(gc, unreachable)?;
            o.gc_set_unreachable(gc, true);
            o.trace_gc(gc, GcStep::TentativelyUnreachable);
        }
        gc = o.gc_next(prev);
    }
    // After move_unreachable, `unreachable` is an ordinary list: NEXT_MASK_UNREACHABLE cleared
    // by move_legacy_finalizers in C; the model clears its marks here.
    for op in o.gc_list(unreachable) {
        o.gc_set_unreachable(op, false);
    }
    Ok(())
}
// ANCHOR_END: move_unreachable

// ANCHOR: visit_reachable
/// `visit_reachable(op, reachable)`: `op` is referred to by a reachable object.
fn visit_reachable(o: &mut Objects, op: u64, young: u64) -> Result<(), ObjError> {
    // Objects of other generations, and those move_unreachable has passed already.
    if !o.gc_is_collecting(op) {
        return Ok(());
    }
    if o.gc_is_unreachable(op) {
        // It had gc_refs == 0 when move_unreachable got to it, but it is reachable after all:
        // back to the end of `young`, where the walk will reach it again.
        o.gc_set_unreachable(op, false);
        o.gc_list_move(op, young)?;
        o.gc_set_refs(op, 1);
        o.trace_gc(op, GcStep::BroughtBack);
    } else if o.gc_refs(op) == 0 {
        // Still ahead of the walk in `young`: it will be treated as reachable there.
        o.gc_set_refs(op, 1);
        o.trace_gc(op, GcStep::MarkedAhead);
    }
    Ok(())
}
// ANCHOR_END: visit_reachable

/// `_PyObject_GC_MAY_BE_TRACKED(obj)`: a GC object, and for a tuple, a tracked one.
fn may_be_tracked(o: &Objects, op: u64) -> Result<bool, ObjError> {
    if op == 0 || !o.is_gc(op) {
        return Ok(false);
    }
    if o.type_of(op)? == TypeId::Tuple {
        return Ok(o.gc_is_tracked(op));
    }
    Ok(true)
}

// ANCHOR: untrack_tuples
/// `untrack_tuples(head)`: `_PyTuple_MaybeUntrack` of each tuple: untracked when none of its
/// items may be tracked (and none is NULL). Returns how many objects the list keeps.
fn untrack_tuples(o: &mut Objects, head: u64) -> Result<usize, ObjError> {
    let mut left = 0;
    for op in o.gc_list(head) {
        let untrack = o.type_of(op)? == TypeId::Tuple && {
            let items = o.tuple_items(op)?;
            !items.contains(&0) && !any_may_be_tracked(o, &items)?
        };
        if untrack {
            o.gc_untrack(op)?;
            o.trace_gc(op, GcStep::Untracked);
        } else {
            left += 1;
        }
    }
    Ok(left)
}
// ANCHOR_END: untrack_tuples

/// `untrack_dicts(head)`: `_PyDict_MaybeUntrack` of each dict: untracked when none of its keys
/// and values may be tracked. Returns how many objects the list keeps.
fn untrack_dicts(o: &mut Objects, head: u64) -> Result<usize, ObjError> {
    let mut left = 0;
    for op in o.gc_list(head) {
        let untrack =
            o.type_of(op)? == TypeId::Dict && !any_may_be_tracked(o, &o.tp_traverse(op)?)?;
        if untrack {
            o.gc_untrack(op)?;
            o.trace_gc(op, GcStep::Untracked);
        } else {
            left += 1;
        }
    }
    Ok(left)
}

/// Whether any of `items` may be tracked, which keeps the container that holds them tracked.
fn any_may_be_tracked(o: &Objects, items: &[u64]) -> Result<bool, ObjError> {
    for &item in items {
        if may_be_tracked(o, item)? {
            return Ok(true);
        }
    }
    Ok(false)
}

// ANCHOR: handle_resurrected_objects
/// `handle_resurrected_objects(unreachable, still_unreachable, old_generation)`: the
/// unreachable set looked at again after the finalizers ran; what they made reachable goes to
/// `old`, the rest to `still_unreachable`. When no finalizer ran, nothing can have been made
/// reachable: `deduce_unreachable` would move every object, in order, to `still_unreachable`
/// (none has a reference from outside the set), which the model does at once. The marks
/// `gc_list_clear_collecting` would clear stay until `delete_garbage`, as on the objects C
/// leaves in `still_unreachable`.
fn handle_resurrected_objects(
    o: &mut Objects,
    unreachable: u64,
    still_unreachable: u64,
    old: u64,
    finalized: bool,
) -> Result<(), ObjError> {
    o.gc_list_init(still_unreachable);
    if !finalized {
        return o.gc_list_merge(unreachable, still_unreachable);
    }
    for op in o.gc_list(unreachable) {
        o.gc_clear_collecting(op);
    }
    deduce_unreachable(o, unreachable, still_unreachable)?;
    if o.tracing() {
        for op in o.gc_list(unreachable) {
            o.trace_gc(op, GcStep::Resurrected);
        }
    }
    o.gc_list_merge(unreachable, old)
}
// ANCHOR_END: handle_resurrected_objects

// ANCHOR: delete_garbage
/// `delete_garbage(collectable, old)`: `tp_clear` of each object in turn, holding a reference
/// across the call; one that is still first in the list afterwards is alive (something it
/// refers to will free it, or it was resurrected) and moves to `old`.
fn delete_garbage(o: &mut Objects, collectable: u64, old: u64) -> Result<(), ObjError> {
    let save_all = o.gc_counts().debug & DEBUG_SAVEALL != 0;
    let garbage = o.gc_counts().garbage;
    while !o.gc_list_is_empty(collectable) {
        let op = o.gc_next(collectable);
        if save_all && garbage != 0 {
            // Kept for the programmer to look at: gc.garbage holds a reference.
            o.trace_gc(op, GcStep::Saved);
            o.list_append(garbage, op)?;
        } else {
            o.trace_gc(op, GcStep::Clear);
            o.incref(op)?;
            o.tp_clear(op)?;
            o.decref(op)?;
        }
        if o.gc_next(collectable) == op {
            // Still alive: it may die later.
            o.gc_clear_collecting(op);
            o.gc_list_move(op, old)?;
            o.trace_gc(op, GcStep::StillAlive);
        }
    }
    Ok(())
}
// ANCHOR_END: delete_garbage
