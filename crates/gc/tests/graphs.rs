//! The collector on random object graphs: lists, dicts and tuples referring to each other at
//! random, a random set of them still referred to from outside (the test's own references),
//! every other reference dropped. After `collect(2)`:
//!
//! * exactly the objects that the outside references cannot reach are gone, on every version;
//! * every survivor's reference count equals a recount of the references to it (from surviving
//!   objects, and the test's own);
//! * `collected` is the number of tracked objects that were garbage when the collection began.
//!
//! `PROPTEST_CASES=100000 cargo test -p gc --release --test graphs` runs the long version.

mod common;

use std::collections::{BTreeSet, HashMap};

use common::{Graph, Kind, build, reachable};
use objects::Objects;
use proptest::prelude::*;
use pymalloc::Profile;

fn graphs() -> impl Strategy<Value = Graph> {
    let kind = prop_oneof![
        3 => Just(Kind::List),
        2 => Just(Kind::Dict),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Kind::Tuple(a, b)),
    ];
    let profile = prop_oneof![
        Just(Profile::CPYTHON_3_10),
        Just(Profile::CPYTHON_3_11),
        Just(Profile::CPYTHON_3_12),
        Just(Profile::CPYTHON_3_13),
    ];
    (
        prop::collection::vec(kind, 1..40),
        prop::collection::vec((any::<usize>(), any::<usize>()), 0..80),
        prop::collection::vec(any::<usize>(), 0..6),
        profile,
    )
        .prop_map(|(kinds, edges, roots, profile)| {
            let n = kinds.len();
            Graph {
                edges: edges.into_iter().map(|(a, b)| (a % n, b % n)).collect(),
                roots: roots.into_iter().map(|r| r % n).collect(),
                kinds,
                profile,
            }
        })
}

fn check(g: &Graph) -> Result<(), TestCaseError> {
    let mut o = Objects::new(g.profile).expect("a profile");
    let built = build(&mut o, g).expect("the graph is built");
    // The test keeps one reference to each root, drops its others.
    for &r in &g.roots {
        o.incref(built.ops[r]).expect("live");
    }
    let distinct: BTreeSet<usize> = (0..built.ops.len()).collect();
    for &i in &distinct {
        o.decref(built.ops[i]).expect("the creation's reference");
    }
    let keep = reachable(&built, &g.roots);
    // The empty tuple is a singleton (and immortal from 3.12): never garbage, never recounted.
    let empty = o.tuple_pack(&[]).expect("()");
    o.decref(empty).expect("()");
    let singleton = |i: usize| built.ops[i] == empty;
    let garbage_tracked = (0..built.ops.len())
        .filter(|&i| !keep.contains(&i) && !singleton(i))
        .map(|i| built.ops[i])
        .filter(|&op| o.is_live(op) && o.gc_is_tracked(op))
        .collect::<BTreeSet<u64>>()
        .len();
    let result = gc::collect(&mut o, 2).expect("collect(2)");
    prop_assert_eq!(result.collected, garbage_tracked);
    for (i, &op) in built.ops.iter().enumerate() {
        if keep.contains(&i) || singleton(i) {
            prop_assert!(
                o.is_live(op),
                "object {} ({:?}) reachable but freed",
                i,
                g.kinds[i]
            );
        } else {
            prop_assert!(
                !o.is_live(op),
                "object {} ({:?}) unreachable but alive",
                i,
                g.kinds[i]
            );
        }
    }
    // Recount: references from survivors, and the test's own to the roots.
    let mut counted: HashMap<u64, u64> = HashMap::new();
    for &i in &keep {
        for &j in &built.refers[i] {
            *counted.entry(built.ops[j]).or_default() += 1;
        }
    }
    for &r in &g.roots {
        *counted.entry(built.ops[r]).or_default() += 1;
    }
    for &i in &keep {
        let op = built.ops[i];
        if singleton(i) {
            continue;
        }
        prop_assert_eq!(
            o.refcnt(op).expect("live"),
            counted[&op],
            "refcount of {}",
            i
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn exactly_what_the_roots_cannot_reach_is_freed(g in graphs()) {
        check(&g)?;
    }
}

/// A cycle kept alive from outside survives, and moves to the oldest generation.
#[test]
fn a_reachable_cycle_survives_in_the_next_generation() {
    let mut o = Objects::new(Profile::CPYTHON_3_11).unwrap();
    let a = o.list_new_generic().unwrap();
    let b = o.list_new_generic().unwrap();
    o.list_append(a, b).unwrap();
    o.list_append(b, a).unwrap();
    o.decref(b).unwrap();
    assert_eq!(gc::collect(&mut o, 0).unwrap().collected, 0);
    assert_eq!(o.gc_list(o.gen_head(1)), vec![a, b]);
    assert!(o.gc_list_is_empty(o.gen_head(0)));
    assert_eq!(o.gc_counts().count1, 1);
}
