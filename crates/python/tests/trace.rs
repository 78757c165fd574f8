//! `--trace` and the blog's stale reads: what the model does at a dead object's address comes
//! from its memory, and the trace says what happened there.

use pymalloc::Profile;
use python::{RunError, Trace, run_source, run_source_traced};

const STALE: &str = include_str!("../../../examples/python/blog/stale_list.py");

#[test]
fn the_trace_shows_the_list_freed_then_read_through_its_old_id() {
    let out =
        run_source_traced(Profile::CPYTHON_3_11, STALE, "stale_list.py", Trace::Lines).unwrap();
    let t = &out.trace;
    // Line 14 returns: the list goes to the list free list, its item buffer to pymalloc.
    let ret = t.find("stale_list.py:14").expect("line 14 traced");
    let after = &t[ret..];
    let freed = after.find("free buf").expect("the item buffer freed");
    let listed = after
        .find("free list list at")
        .expect("the list on its free list");
    assert!(freed < listed, "{after}");
    // What the program printed is in the trace where it was printed.
    assert!(t.contains("    > ['hsafdasdsadasdfsdfsdasdasi']\n"), "{t}");
    // The model's heap gives the stale read a free block with a NULL type word.
    assert!(matches!(
        out.error,
        Some(RunError::Memory(objects::ObjError::Mem(
            pymalloc::MemError::Segfault { addr: 0x58 }
        )))
    ));
}

/// The blog's program without the print inside `test` (fixtures/stale_repr.py): no list has
/// been shown before, so `Py_ReprEnter` makes the `Py_Repr` list with `PyList_New(0)`, which
/// takes the stale list off the list free list. The stale list is then the list of objects
/// being shown, holding itself: `[[...]]`, as CPython 3.8 to 3.13 print
/// (fixtures/stale_repr.out.3.X.txt).
const NO_EARLIER_REPR: &str = include_str!("fixtures/stale_repr.py");

#[test]
fn a_history_with_no_earlier_repr_shows_the_list_holding_itself() {
    for profile in [
        Profile::CPYTHON_3_11,
        Profile::CPYTHON_3_12,
        Profile::CPYTHON_3_13,
    ] {
        let out = run_source_traced(profile, NO_EARLIER_REPR, "stale.py", Trace::Lines).unwrap();
        assert_eq!(out.stdout, "[[...]]\n", "{}", out.trace);
        // The list freed at the return is the one the free list hands out again.
        let t = &out.trace;
        let listed = t
            .find("free list list at ")
            .expect("freed to the list free list");
        let addr = &t[listed + 18..listed + 18 + 14];
        assert!(
            t.contains(&format!("new       list at {addr} (from the free list)")),
            "{t}"
        );
    }
}

#[test]
fn a_wild_address_is_the_models_segmentation_fault() {
    let source = include_str!("../../../examples/python/blog/wild_address.py");
    let out = run_source(Profile::CPYTHON_3_11, source, "wild_address.py").unwrap();
    let e = out.error.expect("it faults");
    assert_eq!(e.exit_status(), 139);
    assert!(e.to_string().contains("Segmentation fault"), "{e}");
}

#[test]
fn a_null_pointer_raises_as_o_get_does() {
    let source = "import ctypes\nprint(ctypes.cast(0, ctypes.py_object).value)\n";
    let out = run_source(Profile::CPYTHON_3_11, source, "null.py").unwrap();
    let e = out.error.expect("it raises");
    assert_eq!(e.exit_status(), 1);
    assert!(
        e.to_string().ends_with("ValueError: PyObject is NULL"),
        "{e}"
    );
}

/// A list deallocated twice (`.value`'s reference released) sits on the list free list twice.
/// At exit the full collection's last step frees every free-listed object (`clear_freelists`),
/// this one twice: the first `PyObject_GC_Del` gives its block to pymalloc, which writes its
/// free-list link into the block's first word, the `PyGC_Head`'s `_gc_next`; the second reads
/// that link as "tracked" and `gc_list_remove` writes through `_gc_prev`, which is NULL. gdb
/// shows CPython 3.8 to 3.11 dying there, at the same instruction, on this program
/// (crates/python/measurements/stale_exit.*).
#[test]
fn a_list_deallocated_twice_faults_at_exit_as_in_c() {
    let source = "import ctypes


def test():
    li = []
    return id(li)


x = ctypes.cast(test(), ctypes.py_object).value
del x
print(\"end of the script\")
";
    let out = run_source_traced(Profile::CPYTHON_3_11, source, "twice.py", Trace::Lines).unwrap();
    assert_eq!(out.stdout, "end of the script\n");
    let t = &out.trace;
    let first = t.find("free list list at ").expect("listed once");
    let addr = &t[first + 18..first + 18 + 14];
    let second = t[first + 1..]
        .find(&format!("free list list at {addr} (2 on the list)"))
        .expect("the same list listed twice");
    let exit = t.find("(exit) Py_FinalizeEx").expect("finalization traced");
    assert!(exit > first + second, "{t}");
    // Freed once, then PyObject_GC_Del finds pymalloc's link where _gc_next was.
    let freed = t[exit..]
        .find(&format!("free      {addr}\n"))
        .expect("freed");
    let again = t[exit..]
        .find(&format!("gc_del    list at {addr} again"))
        .expect("the list named");
    assert!(freed < again, "{t}");
    assert_eq!(
        out.error,
        Some(RunError::Memory(objects::ObjError::Mem(
            pymalloc::MemError::Segfault { addr: 0 }
        )))
    );
}

/// The same list twice on the free list: the next two lists are one object, as on CPython 3.8
/// to 3.13 (examples/python/puzzle1_same_object.py and its captures).
#[test]
fn two_new_lists_are_the_same_object_after_a_double_free() {
    let source = include_str!("../../../examples/python/puzzle1_same_object.py");
    for profile in [
        Profile::CPYTHON_3_11,
        Profile::CPYTHON_3_12,
        Profile::CPYTHON_3_13,
    ] {
        let out = run_source_traced(profile, source, "same.py", Trace::Lines).unwrap();
        assert_eq!(
            (out.stdout.as_str(), &out.error),
            ("True\n", &None),
            "{profile}"
        );
        let t = &out.trace;
        let listed = t.find("(2 on the list)").expect("listed twice");
        let addr = &t[listed - 15..listed - 1];
        let from = format!("new       list at {addr} (from the free list)");
        let first = t[listed..].find(&from).expect("handed out");
        assert!(t[listed + first + 1..].contains(&from), "{t}");
    }
}

/// The stale read's outcomes, each from a history that differs only before the call
/// (examples/python/puzzle1_*.py, identical to CPython 3.8 to 3.13 on the line they print): the
/// stale list's freed item buffer, and the buffer `Py_ReprEnter`'s append gets for the
/// `Py_Repr` list during the read.
#[test]
fn the_stale_reads_outcome_follows_the_heap_before_the_call() {
    let cases = [
        (
            include_str!("../../../examples/python/puzzle1_buffer_reuse.py"),
            "[[...]]\n",
            true,
        ),
        (
            include_str!("../../../examples/python/puzzle1_null.py"),
            "[<NULL>]\n",
            false,
        ),
        (
            include_str!("../../../examples/python/puzzle1_link.py"),
            "[1502000]\n",
            false,
        ),
    ];
    for (source, printed, reused) in cases {
        for profile in [
            Profile::CPYTHON_3_11,
            Profile::CPYTHON_3_12,
            Profile::CPYTHON_3_13,
        ] {
            let out = run_source_traced(profile, source, "p.py", Trace::Lines).unwrap();
            assert_eq!(out.stdout, printed, "{profile}");
            let t = &out.trace;
            let ret = t.find("return id(li)").expect("test returns");
            let freed = &t[ret..][t[ret..].find("free buf  ").expect("freed") + 10..];
            let stale = freed.split_whitespace().next().unwrap();
            let read = t.rfind("  print(ctypes.cast").expect("the stale read");
            let repr = &t[read..][t[read..].find("buffer    ").expect("Py_Repr's") + 10..];
            let repr_buffer = repr.split_whitespace().next().unwrap();
            assert_eq!(repr_buffer == stale, reused, "{profile}: {t}");
        }
    }
}

/// `gc.collect()` under `--trace`: the collector's steps for a garbage 2-cycle, in the trace's
/// words, then its deallocations and the collection's end.
#[test]
fn the_trace_shows_the_collectors_steps() {
    let source = "import gc\na = []\nb = [a]\na.append(b)\ndel a, b\nprint(gc.collect())\n";
    let out = run_source_traced(Profile::CPYTHON_3_11, source, "cycle.py", Trace::Lines).unwrap();
    assert_eq!(out.stdout, "2\n");
    let t = &out.trace;
    let at = t.find("cycle.py:6").expect("line 6 traced");
    let line6 = &t[at..];
    let order = [
        "gc        collecting generation 2",
        "(update_refs: its reference count)",
        "(subtract_refs: references from outside)",
        "moved     list at ",
        "tp_clear  list at ",
        "dealloc   list at ",
        "gc        generation 2 done: 2 unreachable collected, 0 uncollectable",
    ];
    let mut from = 0;
    for words in order {
        let found = line6[from..]
            .find(words)
            .unwrap_or_else(|| panic!("{words}: {line6}"));
        from += found + words.len();
    }
}
