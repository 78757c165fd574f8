//! Our Python experiments (`examples/python/*.py`) and the blog's programs
//! (`examples/python/blog/*.py`), run on every CPython 3.8+ this machine has, compared with the
//! captures recorded under `tests/captures/NAME/3.X.txt` (`tests/captures/blog/NAME/3.X.txt`).
//!
//! A program that ends with a non-zero status (the blog's stale-id programs crash at exit) has
//! the status as the capture's last line, `[exit status 139]` for a segmentation fault, as a shell
//! reports it. A program that needs a module this interpreter lacks (`psutil` is not part of
//! CPython) is skipped on it, and the test says so.
//!
//! Interpreters are found under pyenv (`$PYENV_ROOT/versions/*/bin/python3`) and as `python3` on
//! the PATH; one per minor version. Each experiment runs as `python3 -I examples/python/NAME.py`
//! from the repository root. Its output is normalised (addresses, 3.11's drifting refcounts of
//! statically allocated objects, timings: see `book_pages::capture::normalise`) and must then equal
//! the recorded capture exactly.
//!
//! `CAPTURE_UPDATE=1 cargo test --test captures` records new captures and rewrites changed ones.
//! A minor version with no recorded capture is reported, not failed: record it with that command.
//! A missing interpreter is never a failure; the test says which it used and which it skipped.

use book_pages::capture::{self, Capture, Version};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const OLDEST: Version = Version {
    major: 3,
    minor: 8,
    micro: 0,
};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Always shown, even when the test passes (libtest captures only the print macros).
fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "captures: {line}");
}

/// Candidate interpreters: pyenv's installs, then whatever `python3` the PATH gives.
fn candidates() -> Vec<PathBuf> {
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")));
    let mut found = Vec::new();
    if let Some(Ok(versions)) = pyenv_root.map(|r| std::fs::read_dir(r.join("versions"))) {
        let mut dirs: Vec<PathBuf> = versions.flatten().map(|e| e.path()).collect();
        dirs.sort();
        found.extend(dirs.into_iter().map(|d| d.join("bin/python3")));
    }
    found.push(PathBuf::from("python3"));
    found
}

fn version_of(python: &Path) -> Option<Version> {
    let out = Command::new(python)
        .args([
            "-I",
            "-c",
            "import sys; print('%d.%d.%d' % sys.version_info[:3])",
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| Version::parse(&String::from_utf8_lossy(&out.stdout)))?
}

/// One interpreter per minor version, 3.8 and newer; the rest are reported as skipped.
fn interpreters() -> BTreeMap<(u32, u32), (Version, PathBuf)> {
    let mut chosen = BTreeMap::new();
    for python in candidates() {
        match version_of(&python) {
            None => report(&format!("skipped {}: does not run", python.display())),
            Some(v) if v < OLDEST => report(&format!(
                "skipped {v} ({}): older than 3.8",
                python.display()
            )),
            Some(v) => {
                if let Some((kept, _)) = chosen.get(&(v.major, v.minor)) {
                    report(&format!(
                        "skipped {v} ({}): already using {kept}",
                        python.display()
                    ));
                } else {
                    chosen.insert((v.major, v.minor), (v, python));
                }
            }
        }
    }
    chosen
}

/// What a run gave: its normalised output, or why it is skipped on this interpreter.
enum Run {
    Output(String),
    Skipped(String),
}

/// Runs one experiment; its normalised standard output (and exit status, if not 0), or why it
/// could not run.
fn run(python: &Path, experiment: &Path) -> Result<Run, String> {
    use std::os::unix::process::ExitStatusExt;
    let out = interpreter_command(python)
        .arg("-I")
        .arg(experiment)
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot start: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if let Some(line) = stderr
        .lines()
        .find(|l| l.starts_with("ModuleNotFoundError"))
    {
        return Ok(Run::Skipped(line.to_string()));
    }
    let stdout = String::from_utf8(out.stdout).map_err(|e| format!("output is not UTF-8: {e}"))?;
    let mut body = capture::normalise(&stdout);
    // As a shell reports it: the exit code, or 128 + the signal that ended the process.
    let status = out
        .status
        .code()
        .or_else(|| out.status.signal().map(|s| 128 + s))
        .unwrap_or(-1);
    if status != 0 {
        if status == 1 {
            return Err(format!("exited with 1: {stderr}"));
        }
        body.push_str(&format!("[exit status {status}]\n"));
    }
    Ok(Run::Output(body))
}

/// A command that starts `python` as a shell's foreground job would: with SIGINT and SIGQUIT at
/// their default. A job a shell runs in the background starts with both ignored, and then
/// CPython's `signal` module holds its `IgnoreHandler` for each, the int 1: on 3.8-3.10
/// `sys.getrefcount(1)` reads two more (115 against 117 for `blog/refcount_one` on 3.9.18).
/// GNU env (coreutils 8.31+) puts them back; without it the interpreter starts as it is.
fn interpreter_command(python: &Path) -> Command {
    static DEFAULT_SIGNAL: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| {
        Command::new("env")
            .args(["--default-signal=INT,QUIT", "true"])
            .status()
            .is_ok_and(|s| s.success())
    });
    if *DEFAULT_SIGNAL {
        let mut c = Command::new("env");
        c.arg("--default-signal=INT,QUIT").arg(python);
        c
    } else {
        Command::new(python)
    }
}

/// How a fresh run compares with what was recorded.
#[derive(Debug)]
enum Verdict {
    Same,
    Missing,
    Unreadable(String),
    Differs(String),
}

fn verdict(
    recorded: Option<Result<Capture, book_pages::Finding>>,
    fresh: &Capture,
    path: &Path,
) -> Verdict {
    match recorded {
        None => Verdict::Missing,
        Some(Err(e)) => Verdict::Unreadable(e.to_string()),
        Some(Ok(old)) if old.body == fresh.body => Verdict::Same,
        Some(Ok(old))
            if PAGE_JITTER
                .iter()
                .any(|e| fresh.source.ends_with(&format!("/{e}.py")))
                && within_jitter(&old.body, &fresh.body) =>
        {
            Verdict::Same
        }
        Some(Ok(old)) => Verdict::Differs(format!(
            "{} on {} differs from {}:\n--- recorded ({})\n{}--- now\n{}",
            fresh.source,
            fresh.python,
            path.display(),
            old.python,
            old.body,
            fresh.body
        )),
    }
}

/// Experiments that print a real process's resident memory: from one run to the next, on a busy
/// machine, the kernel maps a page more or less here and there (a figure moves by 4096 bytes),
/// whatever the program does; and once (3.8.18, in CI, with other tests running beside it) a
/// 256 KiB mapping came a round later than in every run here, VMS 262,144 bytes lower after one
/// round and higher after the next. Their captures are compared word by word, a count of bytes
/// in whole pages allowed to differ by up to [`JITTER`]; every other word (an arena count, a
/// chunk size) must be the same.
const PAGE_JITTER: &[&str] = &["puzzle3_rounds"];

/// How far a count of bytes in whole pages may move between runs: one 3.8 arena, 64 pages (a
/// round adds about 7.3 MB at 10^5 strs, 73 MB at 10^6).
const JITTER: i64 = 256 * 1024;

/// The same words, byte counts in whole pages equal to within [`JITTER`].
fn within_jitter(recorded: &str, now: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (
        recorded.split_whitespace().collect(),
        now.split_whitespace().collect(),
    );
    a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| {
            x == y
                || matches!(
                    (x.parse::<i64>(), y.parse::<i64>()),
                    (Ok(p), Ok(q)) if p % 4096 == 0 && q % 4096 == 0 && (p - q).abs() <= JITTER
                )
        })
}

#[test]
fn jitter_is_allowed_only_where_real_memory_is_printed() {
    let capture = |source: &str, body: &str| Capture {
        source: source.into(),
        python: Version::parse("3.11.7").unwrap(),
        body: body.into(),
    };
    let path = Path::new("tests/captures/x/3.11.txt");
    let rounds = "examples/python/puzzle3_rounds.py";
    let old = "round-3  252  217067520\n";
    for (source, body, same) in [
        (rounds, "round-3  252  217063424\n", true),
        (rounds, "round-3  252  217329664\n", true),
        (rounds, "round-3  252  217333760\n", false),
        (rounds, "round-3  252  217063425\n", false),
        (rounds, "round-3  253  217067520\n", false),
        (rounds, "round-4  252  217067520\n", false),
        ("examples/python/x.py", "round-3  252  217063424\n", false),
    ] {
        let verdict = verdict(Some(Ok(capture(source, old))), &capture(source, body), path);
        assert_eq!(matches!(verdict, Verdict::Same), same, "{source}: {body}");
    }
}

#[test]
fn any_difference_but_the_normalised_ones_is_a_failure() {
    let recorded = |body: &str| Capture {
        source: "examples/python/x.py".into(),
        python: Version::parse("3.12.1").unwrap(),
        body: body.into(),
    };
    let path = Path::new("tests/captures/x/3.12.txt");
    // Another address or another 3.11 static refcount is the same run, once normalised...
    let fresh = recorded(&capture::normalise("at 0x7f00aa001234, count 1000000366\n"));
    let old = recorded(&capture::normalise("at 0x7f00bb009876, count 1000000012\n"));
    assert!(matches!(
        verdict(Some(Ok(old)), &fresh, path),
        Verdict::Same
    ));
    // ...but one changed number is not.
    let fresh = recorded("(700, 10, 10)\n");
    let old = recorded("(2000, 10, 10)\n");
    let Verdict::Differs(why) = verdict(Some(Ok(old)), &fresh, path) else {
        panic!("a changed threshold must be reported");
    };
    assert!(
        why.contains("--- recorded (3.12.1)\n(2000, 10, 10)"),
        "{why}"
    );
    assert!(matches!(verdict(None, &fresh, path), Verdict::Missing));
}

#[test]
fn experiments_match_their_captures_on_every_installed_cpython() {
    let update = std::env::var_os("CAPTURE_UPDATE").is_some_and(|v| v == "1");
    let pythons = interpreters();
    assert!(
        !pythons.is_empty(),
        "no CPython 3.8+ found (python3 is always expected)"
    );
    let used: Vec<String> = pythons
        .values()
        .map(|(v, p)| format!("{v} ({})", p.display()))
        .collect();
    report(&format!("using {}", used.join(", ")));

    let mut failures = Vec::new();
    for experiment in capture::experiments(root()) {
        let stem = capture::name_of(&experiment);
        let source = experiment
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for (version, python) in pythons.values() {
            let path = capture::path_for(&root().join("tests/captures"), &stem, *version);
            let body = match run(python, &experiment) {
                Ok(Run::Output(body)) => body,
                Ok(Run::Skipped(why)) => {
                    report(&format!("skipped {source} on {version}: {why}"));
                    continue;
                }
                Err(why) => {
                    failures.push(format!("{source} on {version}: {why}"));
                    continue;
                }
            };
            let fresh = Capture {
                source: source.clone(),
                python: *version,
                body,
            };
            let recorded = path.exists().then(|| Capture::load(&path));
            match verdict(recorded, &fresh, &path) {
                Verdict::Same => {}
                Verdict::Differs(why) | Verdict::Unreadable(why) if !update => failures.push(why),
                Verdict::Missing if !update => report(&format!(
                    "{source} on {version}: no capture recorded (CAPTURE_UPDATE=1 records it)"
                )),
                _ => {
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(&path, fresh.render()).unwrap();
                    report(&format!("recorded {}", path.display()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
