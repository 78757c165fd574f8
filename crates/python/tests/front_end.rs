//! The front end fuzzed: the fixture programs and random programs (`common/programs.rs`) mutated (lines and tokens deleted, duplicated,
//! swapped, replaced; keywords and stray bytes put in; lines re-indented; the text cut short)
//! and random token soup, compiled and listed (`dis_source`) and run (as `run_source` runs a
//! script) on 3.11, 3.12 and 3.13. Whatever the text, the model answers with a value: a listing or a
//! run, a Python exception, a syntax error or "not modelled" — never a panic, and never a fault
//! of its own memory.
//!
//! A few hundred cases run in `cargo test`; a long run:
//! `PROPTEST_CASES=100000 cargo test --release -p python --test front_end`.
//! A mutated program may loop for ever, so each run is interrupted (`KeyboardInterrupt`, as a
//! Ctrl-C would) after 20,000 checks of the eval breaker.

#[path = "common/programs.rs"]
mod programs;

use std::panic::{AssertUnwindSafe, catch_unwind};

use proptest::prelude::*;
use pymalloc::Profile;
use python::{Interp, RunError, dis_source};

const VERSIONS: [Profile; 3] = [
    Profile::CPYTHON_3_11,
    Profile::CPYTHON_3_12,
    Profile::CPYTHON_3_13,
];

/// The fixture programs, the seeds of the mutations.
fn fixtures() -> Vec<String> {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// Words and symbols put into programs: keywords, operators, the constructs the model does
/// not run, the characters that trouble tokenizers.
const WORDS: &[&str] = &[
    "if",
    "else",
    "elif",
    "while",
    "for",
    "in",
    "def",
    "return",
    "lambda",
    "del",
    "global",
    "nonlocal",
    "class",
    "try",
    "except",
    "finally",
    "yield",
    "await",
    "async",
    "with",
    "import",
    "from",
    "as",
    "not",
    "and",
    "or",
    "is",
    "None",
    "True",
    "False",
    "pass",
    "break",
    "continue",
    "assert",
    "raise",
    "match",
    "case",
    "*",
    "**",
    "...",
    ":=",
    "->",
    "@",
    "f\"{",
    "\\",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    ";",
    "=",
    "+=",
    "-",
    "//",
    "%",
    "<<",
    "~",
    "0x",
    "1e309",
    "0",
    "-1",
    "2 ** 200",
    "'",
    "\"\"\"",
    "#",
    "\t",
    "\n",
    "\u{e9}",
    "\u{0}",
    "\u{feff}",
    "x",
    "sys",
    "print",
    "len",
    "range",
    "sys.getrefcount",
    "__name__",
    "_",
    "[]",
    "()",
    "{}",
    "1.5",
];

/// A program's text split into tokens: names and numbers, strings, runs of spaces, and single
/// characters; joining them gives the text back.
fn tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        i += 1;
        if c.is_alphanumeric() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else if c == ' ' {
            while i < chars.len() && chars[i] == ' ' {
                i += 1;
            }
        } else if c == '\'' || c == '"' {
            while i < chars.len() && chars[i] != c && chars[i] != '\n' {
                i += 1;
            }
            i = (i + 1).min(chars.len());
        }
        out.push(chars[start..i].iter().collect());
    }
    out
}

/// One change to a program; its numbers pick lines, tokens and words (modulo their count).
#[derive(Clone, Debug)]
struct Mutation {
    op: u8,
    a: usize,
    b: usize,
}

fn mutate(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let mut toks = tokens(text);
    let (nl, nt) = (lines.len().max(1), toks.len().max(1));
    let by_lines = |lines: Vec<String>| lines.concat();
    match m.op % 11 {
        0 if !lines.is_empty() => {
            lines.remove(m.a % nl);
            by_lines(lines)
        }
        1 if !lines.is_empty() => {
            let l = lines[m.a % nl].clone();
            lines.insert(m.b % nl, l);
            by_lines(lines)
        }
        2 if !lines.is_empty() => {
            lines.swap(m.a % nl, m.b % nl);
            by_lines(lines)
        }
        3 if !toks.is_empty() => {
            toks.remove(m.a % nt);
            toks.concat()
        }
        4 if !toks.is_empty() => {
            let t = toks[m.a % nt].clone();
            toks.insert(m.b % nt, t);
            toks.concat()
        }
        5 if !toks.is_empty() => {
            toks.swap(m.a % nt, m.b % nt);
            toks.concat()
        }
        6 if !toks.is_empty() => {
            toks[m.a % nt] = toks[m.b % nt].clone();
            toks.concat()
        }
        7 if !toks.is_empty() => {
            toks.insert(m.a % nt, WORDS[m.b % WORDS.len()].to_string());
            toks.concat()
        }
        8 if !toks.is_empty() => {
            toks[m.a % nt] = WORDS[m.b % WORDS.len()].to_string();
            toks.concat()
        }
        9 if !lines.is_empty() => {
            let i = m.a % nl;
            let l = &lines[i];
            lines[i] = match m.b % 3 {
                0 => format!("    {l}"),
                1 => format!("\t{l}"),
                _ => l.trim_start().to_string(),
            };
            by_lines(lines)
        }
        _ => toks[..m.a % (toks.len() + 1)].concat(),
    }
}

/// Whether `result` is one of the answers allowed: a value, an exception, a syntax error, or
/// "not modelled".
fn allowed<T>(result: &Result<T, RunError>) -> bool {
    matches!(
        result,
        Ok(_)
            | Err(RunError::Exception { .. }
                | RunError::Syntax { .. }
                | RunError::NotModelled { .. })
    )
}

/// `run_source`'s run of `source` (on a thread with the interpreter's stack), interrupted
/// after 20,000 checks of the eval breaker; `None` if it panicked.
fn run(profile: Profile, source: &str) -> Option<Result<(), RunError>> {
    let source = source.to_string();
    let thread = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || {
            let mut interp = Interp::new(profile)?;
            interp.interrupt_after(Some(20_000));
            interp.run_main(&source, "fuzz.py")
        })
        .unwrap();
    thread.join().ok()
}

/// Lists and runs `source` on both versions; the first wrong answer, described.
fn check(source: &str) -> Result<(), String> {
    for profile in VERSIONS {
        let listing = catch_unwind(AssertUnwindSafe(|| dis_source(profile, source, "fuzz.py")));
        match listing {
            Err(_) => return Err(format!("dis_source panicked on {profile}")),
            Ok(r) if !allowed(&r) => return Err(format!("dis_source on {profile}: {r:?}")),
            Ok(_) => {}
        }
        match run(profile, source) {
            None => return Err(format!("the run panicked on {profile}")),
            Some(r) if !allowed(&r) => return Err(format!("the run on {profile}: {r:?}")),
            Some(_) => {}
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

fn mutation() -> impl Strategy<Value = Mutation> {
    (any::<u8>(), any::<usize>(), any::<usize>()).prop_map(|(op, a, b)| Mutation { op, a, b })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_fixtures_get_an_answer(
        seed in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..5),
    ) {
        let fixtures = fixtures();
        let mut source = fixtures[seed % fixtures.len()].clone();
        for m in &mutations {
            source = mutate(&source, m);
        }
        if let Err(e) = check(&source) {
            prop_assert!(false, "{e}\n{source}");
        }
    }

    #[test]
    fn mutated_random_programs_get_an_answer(
        choices in proptest::collection::vec(any::<u32>(), 0..160),
        fail_at in proptest::option::of(1..40usize),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let mut source = programs::Gen::program(&choices, fail_at, true);
        for m in &mutations {
            source = mutate(&source, m);
        }
        if let Err(e) = check(&source) {
            prop_assert!(false, "{e}\n{source}");
        }
    }

    #[test]
    fn token_soup_gets_an_answer(
        words in proptest::collection::vec((0..WORDS.len(), 0..4usize), 0..40),
    ) {
        let seps = ["", " ", "\n", "    "];
        let source: String = words.iter().map(|&(w, s)| format!("{}{}", WORDS[w], seps[s])).collect();
        if let Err(e) = check(&source) {
            prop_assert!(false, "{e}\n{source}");
        }
    }
}

/// Programs the fuzzing found a panic on, each now answered with a value.
#[test]
fn found_by_fuzzing() {
    for source in FOUND {
        assert_eq!(check(source), Ok(()), "{source}");
    }
}

const FOUND: &[&str] = &[
    // list.pop read a str argument as an int.
    "li = []\nli.pop(\"a\")\n",
];
