//! The references the interpreter holds, named: counts decomposed into their owners (the
//! counts recorded from CPython 3.11.7, 3.12.1 and 3.13.0), and every count recounted.

use pymalloc::Profile;
use python::refs::{self, Event, FrameSlot, Holder, Root};
use python::{Interp, pythonrun};

/// What an inspector saw at each `sys.getrefcount(x)`: the owners of `x`, and the owners of
/// each object among them (one level up: whose tuple, whose list).
#[derive(Default)]
struct Getrefcounts {
    seen: Vec<Vec<(Holder, Vec<Holder>)>>,
    /// The owners, as `refs::describe` names them.
    described: Vec<Vec<String>>,
    miscounts: Vec<String>,
}

impl refs::Inspector for Getrefcounts {
    fn inspect(&mut self, interp: &Interp, event: &Event<'_>) {
        for m in refs::miscounts(interp).unwrap() {
            self.miscounts.push(format!("{event:?}: {m}"));
        }
        let Event::BuiltinCall {
            name: "getrefcount",
            args: [x],
            ..
        } = event
        else {
            return;
        };
        let owners = refs::owners(interp, *x).unwrap();
        let described = owners.iter().map(|h| refs::describe(interp, h).unwrap());
        self.described.push(described.collect());
        let with_theirs = owners
            .into_iter()
            .map(|h| {
                let up = match h {
                    Holder::Object { addr, .. } => refs::owners(interp, addr).unwrap(),
                    _ => Vec::new(),
                };
                (h, up)
            })
            .collect();
        self.seen.push(with_theirs);
    }
}

fn run(profile: Profile, source: &str) -> (String, Getrefcounts) {
    let (out, seen) =
        pythonrun::run_source_with(profile, source, "prog.py", Getrefcounts::default()).unwrap();
    assert_eq!(out.error, None);
    assert_eq!(seen.miscounts, Vec::<String>::new(), "{profile}");
    (out.stdout, seen)
}

fn is_frame(h: &Holder, want: &FrameSlot) -> bool {
    matches!(h, Holder::Root(Root::Frame { slot, .. }) if slot == want)
}

fn is_stack(h: &Holder) -> bool {
    matches!(
        h,
        Holder::Root(Root::Frame {
            slot: FrameSlot::Stack(_),
            ..
        })
    )
}

/// `Holder::Object` of type `ty`, itself held only by a `field` of one object.
fn is_item_of(h: &(Holder, Vec<Holder>), ty: &str, up: &dyn Fn(&Holder) -> bool) -> bool {
    matches!(&h.0, Holder::Object { ty: t, .. } if *t == ty) && h.1.len() == 1 && up(&h.1[0])
}

const CONSTANT: &str = "import sys
def f():
    print(sys.getrefcount(1000))
    x = 1000
    print(sys.getrefcount(x))
f()
";

#[test]
fn a_constant_is_held_by_co_consts_the_arena_and_the_argument() {
    for p in [
        Profile::CPYTHON_3_11,
        Profile::CPYTHON_3_12,
        Profile::CPYTHON_3_13,
    ] {
        let (out, seen) = run(p, CONSTANT);
        assert_eq!(
            out, "3\n4\n",
            "{p}: CPython 3.11.7, 3.12.1 and 3.13.0 print these"
        );
        let [direct, local] = &seen.seen[..] else {
            panic!("two calls")
        };
        let co_consts = |h: &(Holder, Vec<Holder>)| {
            is_item_of(h, "tuple", &|up| {
                matches!(up, Holder::Object { ty: "code", edge, .. }
                    if *edge == objects::Edge::Field(objects::Field::CoConsts))
            })
        };
        let arena = |h: &(Holder, Vec<Holder>)| matches!(h.0, Holder::Root(Root::Arena(_)));
        assert_eq!(direct.len(), 3, "{p}: {direct:?}");
        assert!(direct.iter().any(co_consts), "{p}: {direct:?}");
        assert!(direct.iter().any(arena), "{p}: {direct:?}");
        assert!(direct.iter().any(|h| is_stack(&h.0)), "{p}: {direct:?}");
        assert_eq!(local.len(), 4, "{p}: {local:?}");
        let mut described = seen.described[0].clone();
        described.sort();
        let [consts, stack, in_arena] = &described[..] else {
            panic!("{p}: {described:?}")
        };
        assert_eq!(consts, "co_consts[1] of the code object f", "{p}");
        assert!(in_arena.starts_with("the parser's arena of __main__ (object "));
        assert!(
            stack.starts_with("frame 1 (f): value stack["),
            "{p}: {stack}"
        );
        let x = FrameSlot::Local("x".into());
        assert!(local.iter().any(|h| is_frame(&h.0, &x)), "{p}: {local:?}");
        assert!(local.iter().any(co_consts) && local.iter().any(arena));
    }
}

#[test]
fn a_list_in_a_list() {
    let source = "import sys
def g():
    li = [1000]
    outer = [li]
    print(sys.getrefcount(li))
g()
";
    for p in [
        Profile::CPYTHON_3_11,
        Profile::CPYTHON_3_12,
        Profile::CPYTHON_3_13,
    ] {
        let (out, seen) = run(p, source);
        assert_eq!(out, "3\n");
        let owners = &seen.seen[0];
        assert_eq!(owners.len(), 3, "{p}: {owners:?}");
        let li = FrameSlot::Local("li".into());
        let outer = FrameSlot::Local("outer".into());
        assert!(owners.iter().any(|h| is_frame(&h.0, &li)));
        assert!(
            owners
                .iter()
                .any(|h| is_item_of(h, "list", &|up| is_frame(up, &outer))),
            "{p}: {owners:?}"
        );
    }
}

#[test]
fn a_closure_s_cell() {
    let source = "import sys
def h():
    v = [7]
    def inner():
        return v
    print(sys.getrefcount(v))
    return inner
k = h()
";
    for p in [
        Profile::CPYTHON_3_11,
        Profile::CPYTHON_3_12,
        Profile::CPYTHON_3_13,
    ] {
        let (out, seen) = run(p, source);
        assert_eq!(out, "2\n");
        let owners = &seen.seen[0];
        assert_eq!(owners.len(), 2, "{p}: {owners:?}");
        assert!(owners.iter().any(|h| is_stack(&h.0)));
        // The cell: in h's localsplus as 'v', and in inner's closure tuple.
        let cell = owners
            .iter()
            .find(|h| matches!(h.0, Holder::Object { ty: "cell", .. }))
            .expect("a cell holds the list");
        let v = FrameSlot::Local("v".into());
        assert!(cell.1.iter().any(|up| is_frame(up, &v)), "{p}: {cell:?}");
        assert!(
            cell.1
                .iter()
                .any(|up| matches!(up, Holder::Object { ty: "tuple", .. })),
            "{p}: {cell:?}"
        );
    }
}

#[test]
fn static_objects_are_the_ones_not_recounted() {
    let source = "import sys\nprint(sys.getrefcount(None), sys.getrefcount(1))\n";
    for p in [
        Profile::CPYTHON_3_11,
        Profile::CPYTHON_3_12,
        Profile::CPYTHON_3_13,
    ] {
        let (_, seen) = run(p, source);
        assert_eq!(seen.seen.len(), 2);
    }
    let mut interp = Interp::new(Profile::CPYTHON_3_12).unwrap();
    let none = interp.o.none();
    assert_eq!(
        refs::uncounted(&interp, none).unwrap(),
        Some(refs::Uncounted::Static)
    );
    let s = interp.o.unicode_from_str("spam").unwrap();
    assert_eq!(refs::uncounted(&interp, s).unwrap(), None);
    let i = interp.o.unicode_intern(s).unwrap();
    assert_eq!(
        refs::uncounted(&interp, i).unwrap(),
        Some(refs::Uncounted::Immortal),
        "3.12 makes a string interned at run time immortal"
    );
}

#[test]
fn a_reference_the_enumeration_misses_is_a_miscount() {
    let mut interp = Interp::new(Profile::CPYTHON_3_11).unwrap();
    assert_eq!(refs::miscounts(&interp).unwrap(), Vec::new());
    let li = interp.o.list_new(0).unwrap(); // held by this test, which no root names
    let found = refs::miscounts(&interp).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].addr, found[0].refcnt), (li, 1));
    assert!(found[0].owners.is_empty());
}

/// 3.10's frame objects hold counted references the enumeration does not list yet: asked
/// for them, it says so rather than report miscounts that are not there.
#[test]
fn references_on_3_10_are_not_listed_yet() {
    let interp = Interp::new(Profile::CPYTHON_3_10).unwrap();
    let err = refs::miscounts(&interp).unwrap_err();
    assert!(matches!(err, python::RunError::NotModelled { .. }), "{err}");
}

/// Every fixture program, recounted at each built-in call and at its end.
#[test]
fn every_fixture_is_recounted() {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py") && !p.ends_with("dis_fixture.py"))
        // stale_repr revives a dead list through ctypes: as in C, the thread state's dict goes
        // on naming it after it is deallocated again and, at exit, freed, which no recount can
        // account for (tests/trace.rs follows that program instead).
        .filter(|p| !p.ends_with("stale_repr.py"))
        .collect();
    names.sort();
    assert!(names.len() > 20);
    for path in names {
        let source = std::fs::read_to_string(&path).unwrap();
        for p in [
            Profile::CPYTHON_3_11,
            Profile::CPYTHON_3_12,
            Profile::CPYTHON_3_13,
        ] {
            let (_, seen) =
                pythonrun::run_source_with(p, &source, "prog.py", Getrefcounts::default()).unwrap();
            assert_eq!(
                seen.miscounts,
                Vec::<String>::new(),
                "{} on {p}",
                path.display()
            );
        }
    }
}
