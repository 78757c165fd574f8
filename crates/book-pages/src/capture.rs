//! Captures: what a real CPython printed for one of our experiments, recorded per minor version.
//!
//! An experiment `examples/python/NAME.py` has one file per CPython minor version, at
//! `tests/captures/NAME/3.12.txt`:
//!
//! ```text
//! ---
//! source: examples/python/thresholds.py
//! python: 3.12.1
//! ---
//! (700, 10, 10)
//! ```
//!
//! The body is the experiment's standard output after [`normalise`], which rewrites only what
//! legitimately differs between runs and machines. Everything else must match exactly.

use crate::Finding;
use crate::snapshot::split_header;
use regex::Regex;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// A CPython version as `major.minor.micro`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub micro: u32,
}

impl Version {
    /// Parses `3.12.1` (or `3.12`, micro 0).
    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.trim().split('.').map(|p| p.parse::<u32>().ok());
        let major = parts.next()??;
        let minor = parts.next()??;
        let micro = parts.next().unwrap_or(Some(0))?;
        Some(Version {
            major,
            minor,
            micro,
        })
    }

    /// `3.12`: the name of a capture file, since captures are kept per minor version.
    pub fn minor_name(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// One recorded run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The experiment, relative to the book root.
    pub source: String,
    /// The interpreter that produced it.
    pub python: Version,
    /// The normalised output.
    pub body: String,
}

impl Capture {
    /// Reads and validates a capture file.
    pub fn load(path: &Path) -> Result<Capture, Finding> {
        Capture::parse(path, &crate::read(path)?)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Capture, Finding> {
        let (header, body) = split_header(path, text)?;
        let field = |name: &str| {
            header
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
                .ok_or_else(|| Finding::new(path, 1, format!("the header has no `{name}:` line")))
        };
        let source = field("source")?.to_owned();
        let python = Version::parse(field("python")?)
            .ok_or_else(|| Finding::new(path, 1, "`python:` is not a version like 3.12.1"))?;
        Ok(Capture {
            source,
            python,
            body: body.to_owned(),
        })
    }

    /// The file's text, as [`Capture::parse`] reads it back.
    pub fn render(&self) -> String {
        format!(
            "---\nsource: {}\npython: {}\n---\n{}",
            self.source, self.python, self.body
        )
    }
}

/// The programs that have captures, under the book's root: our experiments
/// (`examples/python/*.py`) and the blog's programs (`examples/python/blog/*.py`), sorted.
pub fn experiments(root: &Path) -> Vec<PathBuf> {
    let python_files = |dir: PathBuf| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "py"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut found = python_files(root.join("examples/python"));
    found.extend(python_files(root.join("examples/python/blog")));
    found.retain(|p| !TOO_BIG_TO_RUN.contains(&name_of(p).as_str()));
    found.sort();
    found
}

/// Blog programs kept verbatim but not run by the tests: the blog's third puzzle at its own size
/// (ten lists of 10**7 strs, 6.7 GiB on CPython 3.11.7). Its scaled copies are experiments.
pub const TOO_BIG_TO_RUN: &[&str] = &["blog/memory_strs"];

/// The capture name of an experiment: its file stem, or `blog/STEM` for a blog program.
pub fn name_of(experiment: &Path) -> String {
    let stem = experiment
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match experiment.parent().and_then(|p| p.file_name()) {
        Some(dir) if dir == "blog" => format!("blog/{stem}"),
        _ => stem,
    }
}

/// Where the capture of `experiment` (a file stem) for `version` lives under `captures_dir`.
pub fn path_for(captures_dir: &Path, experiment: &str, version: Version) -> PathBuf {
    captures_dir
        .join(experiment)
        .join(format!("{}.txt", version.minor_name()))
}

/// Every capture in `dir`, oldest version first.
pub fn load_dir(dir: &Path) -> Result<Vec<Capture>, Finding> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Finding::new(dir, 0, format!("cannot list captures: {e}")))?;
    let mut captures = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Finding::new(dir, 0, format!("cannot list captures: {e}")))?
            .path();
        if path.extension().is_some_and(|e| e == "txt") {
            captures.push(Capture::load(&path)?);
        }
    }
    if captures.is_empty() {
        return Err(Finding::new(dir, 0, "no captures recorded here"));
    }
    captures.sort_by_key(|c| c.python);
    Ok(captures)
}

static HEX_ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b0x[0-9a-fA-F]{6,16}\b").expect("valid regex"));
/// 3.11 starts statically allocated objects (small ints, one-character strings…) at 999999999 and
/// still counts their references, so the value moves with whatever else the process did.
static STATIC_REFCOUNT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(999999999|1000\d{6})\b").expect("valid regex"));
/// The blog's memory programs print a process's RSS (`Mem Size: 34353152`) and a list's `id` in
/// decimal (`Variable Id: 140263762695360`): both move from run to run.
static BLOG_MEMORY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(Mem Size|Variable Id): \d+\b").expect("valid regex"));
static TIMING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b\d+(\.\d+)?(e-?\d+)? ?(ns|us|µs|ms|s|sec|seconds)\b").expect("valid regex")
});

/// Rewrites what legitimately varies between runs and machines, and nothing else:
///
/// - addresses, printed in hex (`0x7f3a…`) → `0x<addr>` (our experiments print ids with `hex()`);
/// - the refcounts of statically allocated objects on 3.11 (999999999 plus whatever the process
///   did, e.g. `1000000366`) → `999999999+k`; 3.12's pinned 4294967295 is stable and kept;
/// - timings (`0.25 s`, `12 ms`) → `<time>`;
/// - the blog's memory lines: `Mem Size: 34353152` → `Mem Size: <bytes>`, `Variable Id: 1402…`
///   → `Variable Id: <id>` (`puzzle3_rounds.py` records the figures where they repeat).
pub fn normalise(output: &str) -> String {
    let text = BLOG_MEMORY.replace_all(output, |c: &regex::Captures| match &c[1] {
        "Mem Size" => "Mem Size: <bytes>".to_string(),
        _ => "Variable Id: <id>".to_string(),
    });
    let text = HEX_ADDRESS.replace_all(&text, "0x<addr>");
    let text = STATIC_REFCOUNT.replace_all(&text, "999999999+k");
    TIMING.replace_all(&text, "<time>").into_owned()
}

#[cfg(test)]
mod tests {

    #[test]
    fn blog_programs_are_named_by_their_folder() {
        assert_eq!(
            name_of(Path::new("/b/examples/python/blog/stale_list.py")),
            "blog/stale_list"
        );
        assert_eq!(
            name_of(Path::new("/b/examples/python/thresholds.py")),
            "thresholds"
        );
    }

    use super::*;

    #[test]
    fn versions_order_numerically() {
        let mut v: Vec<_> = ["3.10.13", "3.9.18", "3.13.0"]
            .iter()
            .map(|s| Version::parse(s).unwrap())
            .collect();
        v.sort();
        assert_eq!(v[0].to_string(), "3.9.18");
        assert_eq!(v[2].minor_name(), "3.13");
        assert_eq!(Version::parse("three"), None);
    }

    #[test]
    fn a_capture_round_trips() {
        let c = Capture {
            source: "examples/python/thresholds.py".into(),
            python: Version::parse("3.12.1").unwrap(),
            body: "(700, 10, 10)\n".into(),
        };
        assert_eq!(Capture::parse(Path::new("x"), &c.render()).unwrap(), c);
    }

    #[test]
    fn a_header_without_python_is_an_error() {
        let err = Capture::parse(Path::new("x.txt"), "---\nsource: a.py\n---\nbody\n").unwrap_err();
        assert!(err.message.contains("python"), "{err}");
    }

    #[test]
    fn normalises_only_what_varies() {
        let out = "list at 0x7f3a2c1b4e80, refcount 1000000366, took 0.25 s\n257 3 (700, 10, 10) 4294967295\n";
        assert_eq!(
            normalise(out),
            "list at 0x<addr>, refcount 999999999+k, took <time>\n257 3 (700, 10, 10) 4294967295\n"
        );
    }

    #[test]
    fn the_blogs_memory_figures_are_normalised() {
        let out = "0 - 1 Depth Variable Id: 140263762695360\n0 - 2 Depth Mem Size: 1000095232\n";
        assert_eq!(
            normalise(out),
            "0 - 1 Depth Variable Id: <id>\n0 - 2 Depth Mem Size: <bytes>\n"
        );
    }

    #[test]
    fn the_blogs_full_size_memory_program_is_not_an_experiment() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let names: Vec<String> = experiments(&root).iter().map(|p| name_of(p)).collect();
        assert!(names.contains(&"puzzle3_strs_6".to_string()), "{names:?}");
        assert!(
            !names.contains(&"blog/memory_strs".to_string()),
            "{names:?}"
        );
    }

    #[test]
    fn ordinary_numbers_and_words_survive() {
        let out = "class 3 size 64 num pools 13 sizes 1,048,576 bytes\n";
        assert_eq!(normalise(out), out);
    }
}
