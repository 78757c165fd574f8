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

/// `ast_opt.c`'s limits on folding (`safe_power`: the base's bits times the exponent at most
/// `MAX_INT_SIZE`, 128; `safe_multiply`: no negative repeat count of a non-empty str or
/// tuple) and `long_pow`'s float for a negative exponent: the first constant each module
/// loads, as `dis` shows it on CPython 3.11.7 and 3.12.1 (the model folded `2 ** 70` and
/// `'ab' * -1`, and left `2 ** -1` and `2.0 ** -1` to run).
#[test]
fn constant_folding_keeps_to_ast_opt_s_limits() {
    let cases = [
        ("x = 2 ** -1", "0.5"),
        ("x = 2 ** 70", "2"),
        ("x = 7 ** 45", "7"),
        ("x = 11 ** 32", "2111377674535255285545615254209921"),
        ("x = 'ab' * -1", "'ab'"),
        ("x = (1,) * -1", "(1,)"),
        ("x = -1 * 'ab'", "-1"),
        ("x = (-3) ** -3", "-0.037037037037037035"),
        ("x = 2.0 ** -1", "0.5"),
        ("x = 0 ** -1", "0"),
    ];
    for p in VERSIONS {
        for (source, first) in cases {
            let listing = python::dis_source(p, &format!("{source}\n"), "prog.py").unwrap();
            let load = listing.lines().find(|l| l.contains("LOAD_CONST")).unwrap();
            assert!(
                load.ends_with(&format!("LOAD_CONST               0 ({first})")),
                "{p} {source}: {load}"
            );
        }
    }
}

/// `tupleconcat`: an empty operand gives the other tuple itself back (the model made a new
/// tuple: `getrefcount` read 1 less, `is` said False).
#[test]
fn an_empty_tuple_concatenated_gives_the_other_back() {
    let source = "import sys
l1 = []
t0 = tuple(l1)
x = (1000,)
print(sys.getrefcount(t0 + x), sys.getrefcount(x + t0), sys.getrefcount(x), (t0 + x) is x, (x + t0) is x, x + x)
";
    for p in VERSIONS {
        let out = run_source(p, source, "prog.py").unwrap();
        assert_eq!(out.error, None);
        assert_eq!(out.stdout, "4 4 4 True True (1000, 1000)\n");
    }
}
