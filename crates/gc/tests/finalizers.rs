//! The collector on random graphs of lists and instances, some of whose classes have `__del__`
//! (PEP 442 finalizers), on 3.11 and 3.12. Each finalizer either does nothing or resurrects its
//! object (the test takes a new reference to it, as `saved.append(self)` would). After
//! `collect_with(2)`:
//!
//! * each garbage instance with `__del__` was finalized exactly once;
//! * what the roots or a resurrected object can reach is alive (`handle_resurrected_objects`),
//!   and every other object is gone;
//! * `collected` counts the garbage that was cleared, not what was resurrected;
//! * every survivor's reference count equals a recount.
//!
//! `PROPTEST_CASES=100000 cargo test -p gc --release --test finalizers` runs the long version.

use std::collections::{BTreeSet, HashMap};

use objects::{ObjError, Objects};
use proptest::prelude::*;
use pymalloc::Profile;

/// What one object is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    List,
    /// An instance of a class without `__del__`.
    Plain,
    /// An instance whose `__del__` does nothing.
    Finalized,
    /// An instance whose `__del__` saves it.
    Phoenix,
}

#[derive(Clone, Debug)]
struct Graph {
    kinds: Vec<Kind>,
    edges: Vec<(usize, usize)>,
    roots: Vec<usize>,
    profile: Profile,
}

fn graphs() -> impl Strategy<Value = Graph> {
    let kind = prop_oneof![
        2 => Just(Kind::List),
        1 => Just(Kind::Plain),
        2 => Just(Kind::Finalized),
        1 => Just(Kind::Phoenix),
    ];
    let profile = prop_oneof![Just(Profile::CPYTHON_3_11), Just(Profile::CPYTHON_3_12)];
    (
        prop::collection::vec(kind, 1..30),
        prop::collection::vec((any::<usize>(), any::<usize>()), 0..60),
        prop::collection::vec(any::<usize>(), 0..5),
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

/// `class C: pass` or `class C: def __del__(self): ...` (only the name matters to
/// `fixup_slot_dispatchers`: the value stands for the function).
fn class(o: &mut Objects, name: &str, with_del: bool) -> Result<u64, ObjError> {
    let ns = o.dict_new()?;
    if with_del {
        let key = o.unicode_from_str("__del__")?;
        let none = o.none();
        o.dict_setitem(ns, key, none)?;
        o.decref(key)?;
    }
    let name = o.unicode_from_str(name)?;
    let class = o.type_new_impl(name, ns)?;
    o.decref(name)?;
    o.decref(ns)?;
    Ok(class)
}

struct Built {
    ops: Vec<u64>,
    refers: Vec<Vec<usize>>,
}

fn build(o: &mut Objects, g: &Graph, classes: &[u64; 3]) -> Result<Built, ObjError> {
    let mut ops = Vec::new();
    for kind in &g.kinds {
        ops.push(match kind {
            Kind::List => o.list_new_generic()?,
            Kind::Plain => o.instance_new(classes[0])?,
            Kind::Finalized => o.instance_new(classes[1])?,
            Kind::Phoenix => o.instance_new(classes[2])?,
        });
    }
    let mut refers = vec![Vec::new(); g.kinds.len()];
    for &(from, to) in &g.edges {
        if g.kinds[from] == Kind::List {
            o.list_append(ops[from], ops[to])?;
        } else {
            // Few enough attributes for the class's shared keys (30): no `__dict__` is made.
            if refers[from].len() == 20 {
                continue;
            }
            let name = o.unicode_from_str(&format!("a{}", refers[from].len()))?;
            o.instance_setattr(ops[from], name, ops[to])?;
            o.decref(name)?;
        }
        refers[from].push(to);
    }
    Ok(Built { ops, refers })
}

/// `__del__`s due because a count reached zero (not in a cycle): run as the interpreter runs
/// them, marked finalized and released; none resurrects.
fn call_pending_finalizers(o: &mut Objects) -> Result<(), ObjError> {
    while o.finalizers_due() {
        for op in o.take_pending_finalizers() {
            o.set_finalized(op)?;
            o.decref(op)?;
        }
    }
    Ok(())
}

fn reachable(built: &Built, from: &[usize]) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut todo = from.to_vec();
    while let Some(i) = todo.pop() {
        if seen.insert(i) {
            todo.extend(&built.refers[i]);
        }
    }
    seen
}

fn check(g: &Graph) -> Result<(), TestCaseError> {
    let mut o = Objects::new(g.profile).expect("a profile");
    o.gc_set_enabled(false);
    let classes = [
        class(&mut o, "Plain", false).unwrap(),
        class(&mut o, "Finalized", true).unwrap(),
        class(&mut o, "Phoenix", true).unwrap(),
    ];
    let built = build(&mut o, g, &classes).expect("the graph is built");
    for &r in &g.roots {
        o.incref(built.ops[r]).expect("live");
    }
    for &op in &built.ops {
        o.decref(op).expect("the creation's reference");
    }
    call_pending_finalizers(&mut o).expect("finalizers");
    let by_root = reachable(&built, &g.roots);
    // What is garbage now: still alive, not reachable from the roots (all tracked).
    let garbage: Vec<usize> = (0..built.ops.len())
        .filter(|i| !by_root.contains(i) && o.is_live(built.ops[*i]))
        .collect();
    let index: HashMap<u64, usize> = built
        .ops
        .iter()
        .enumerate()
        .map(|(i, &op)| (op, i))
        .collect();
    let mut finalized = Vec::new();
    let mut saved = Vec::new();
    let result = gc::collect_with(&mut o, 2, |o, op| {
        let i = index[&op];
        finalized.push(i);
        if g.kinds[i] == Kind::Phoenix {
            o.incref(op)?;
            saved.push(i);
        }
        Ok(())
    })
    .expect("collect(2)");
    prop_assert!(!o.finalizers_due(), "no __del__ left to the deallocator");
    // Each garbage instance with __del__ finalized once.
    let mut expected: Vec<usize> = garbage
        .iter()
        .copied()
        .filter(|&i| matches!(g.kinds[i], Kind::Finalized | Kind::Phoenix))
        .collect();
    finalized.sort_unstable();
    expected.sort_unstable();
    prop_assert_eq!(&finalized, &expected);
    let mut roots = g.roots.clone();
    roots.extend(&saved);
    let keep = reachable(&built, &roots);
    let cleared = garbage.iter().filter(|i| !keep.contains(i)).count();
    prop_assert_eq!(result.collected, cleared);
    for i in 0..built.ops.len() {
        prop_assert_eq!(
            o.is_live(built.ops[i]),
            keep.contains(&i),
            "object {} ({:?})",
            i,
            g.kinds[i]
        );
    }
    let mut counted: HashMap<usize, u64> = HashMap::new();
    for &i in &keep {
        for &j in &built.refers[i] {
            *counted.entry(j).or_default() += 1;
        }
    }
    for &r in &roots {
        *counted.entry(r).or_default() += 1;
    }
    for &i in &keep {
        prop_assert_eq!(
            o.refcnt(built.ops[i]).expect("live"),
            counted[&i],
            "refcount of {}",
            i
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn finalizers_run_once_and_what_they_save_survives(g in graphs()) {
        check(&g)?;
    }
}

/// Without a way to run Python code, `gc::collect` refuses a collection that meets a finalizer,
/// says so, and leaves the objects in the next generation, where a collection that can run the
/// finalizer finds them.
#[test]
fn collect_refuses_a_finalizer_it_cannot_run() {
    let mut o = Objects::new(Profile::CPYTHON_3_11).unwrap();
    let c = class(&mut o, "Node", true).unwrap();
    let a = o.instance_new(c).unwrap();
    let name = o.unicode_from_str("me").unwrap();
    o.instance_setattr(a, name, a).unwrap();
    o.decref(a).unwrap();
    let err = gc::collect(&mut o, 2).unwrap_err();
    assert!(err.to_string().contains("__del__"), "{err}");
    assert!(o.gc_list(o.gen_head(2)).contains(&a));
    assert!(!o.gc_is_collecting(a));
    let mut called = Vec::new();
    let found = gc::collect_with(&mut o, 2, |_, op| {
        called.push(op);
        Ok(())
    })
    .unwrap();
    assert_eq!((called, found.collected), (vec![a], 1));
    assert!(!o.is_live(a));
}
