//! Programs the property tests and fuzzers found the model wrong on, each now right: the
//! outputs were recorded from CPython 3.11.7, 3.12.1 and 3.13.0 (`python3 -I prog.py`), which
//! agree.

use pymalloc::Profile;
use python::{RunError, run_source};

const VERSIONS: [Profile; 3] = [
    Profile::CPYTHON_3_11,
    Profile::CPYTHON_3_12,
    Profile::CPYTHON_3_13,
];

/// `dict_richcompare`: dicts compare by their items, not by identity (the model printed
/// `False` for `{'k': 1000} == {'k': 1000}`).
#[test]
fn dicts_are_equal_by_their_items() {
    let source = "a = {'a': [1], 'b': 'c'}
b = {'b': 'c', 'a': [1]}
print(a == b, a != b, a == {'a': [1]}, {} == {}, [a] == [b], a in [b], a == 1, {'k': 1000} == {'k': 1000})
print({'a': 1} == {'a': 2}, {'a': 1} == {'b': 1})
";
    for p in VERSIONS {
        let out = run_source(p, source, "prog.py").unwrap();
        assert_eq!(out.error, None);
        assert_eq!(
            out.stdout,
            "True False False True True True False True\nFalse False\n"
        );
    }
}

/// Iterating over a dict (`dict_iter`, over its keys) that grows inside the loop: the first
/// key, then `dictiter_iternextkey`'s RuntimeError.
#[test]
fn a_dict_that_changes_size_while_iterated_raises() {
    for p in VERSIONS {
        let source = "d = {'a': 1}\nfor k in d:\n    print(k)\n    d['b'] = 2\n";
        let out = run_source(p, source, "prog.py").unwrap();
        assert_eq!(out.stdout, "a\n");
        assert!(
            matches!(&out.error, Some(RunError::Exception { kind, message, .. })
                if kind == "RuntimeError" && message == "dictionary changed size during iteration"),
            "{:?}",
            out.error
        );
    }
}

/// `list_pop_impl` behind Argument Clinic's `Py_ssize_t` converter: the argument must be an
/// int that fits (the model read a str's value as an int: a fault of its own memory).
#[test]
fn list_pop_checks_its_argument() {
    let cases = [
        (
            "li.pop('a')",
            "TypeError",
            "'str' object cannot be interpreted as an integer",
        ),
        (
            "li.pop(1.5)",
            "TypeError",
            "'float' object cannot be interpreted as an integer",
        ),
        ("li.pop(5)", "IndexError", "pop index out of range"),
        (
            "li.pop(2 ** 70)",
            "OverflowError",
            "Python int too large to convert to C ssize_t",
        ),
        (
            "li.pop(1, 2)",
            "TypeError",
            "pop expected at most 1 argument, got 2",
        ),
        ("[].pop(0)", "IndexError", "pop from empty list"),
    ];
    for p in VERSIONS {
        for (call, kind, message) in cases {
            let out = run_source(p, &format!("li = [1]\n{call}\n"), "prog.py").unwrap();
            assert!(
                matches!(&out.error, Some(RunError::Exception { kind: k, message: m, .. })
                    if k == kind && m == message),
                "{call}: {:?}",
                out.error
            );
        }
        let out = run_source(
            p,
            "li = [1, 2]\nprint(li.pop(-1), li.pop(True - 1), li)\n",
            "prog.py",
        );
        assert_eq!(out.unwrap().stdout, "2 1 []\n");
    }
}

/// A unary operator on one of the interpreter's own objects (a range, fuzzed as
/// `for _ in+range(2)`): `PyNumber_Positive` and the others find no number slot and raise,
/// where the model stopped reading the range as an object (measured on 3.11.7, 3.12.1 and
/// 3.13.0).
#[test]
fn a_unary_operator_on_a_range_raises() {
    for p in VERSIONS {
        for (op, word) in [("+", "unary +"), ("-", "unary -"), ("~", "unary ~")] {
            let out = run_source(p, &format!("x = {op}range(2)\n"), "prog.py").unwrap();
            assert!(
                matches!(&out.error, Some(RunError::Exception { kind, message, .. })
                    if kind == "TypeError"
                        && *message == format!("bad operand type for {word}: 'range'")),
                "{p} {op}: {:?}",
                out.error
            );
        }
    }
}

/// Floats as dict keys (`float_hash`, `_Py_HashDouble`): the model refused them ("is a float,
/// not a hashable object").
#[test]
fn floats_are_dict_keys() {
    let source =
        "d = {1.5: 1000, 2.0: 'two', -0.25: 3}\nprint(d, d[1.5], d.get(-0.25), 2.0 in d)\n";
    for p in VERSIONS {
        let out = run_source(p, source, "prog.py").unwrap();
        assert_eq!(out.error, None);
        assert_eq!(
            out.stdout,
            "{1.5: 1000, 2.0: 'two', -0.25: 3} 1000 3 True\n"
        );
    }
}
