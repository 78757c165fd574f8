//! The book checks. Each returns findings with file and line; an empty list means the book is sound.
//!
//! 1. [`same_structure`]: the editions list the same chapters, and each pair of pages has the same
//!    heading levels, fenced-code languages and directives, in the same order.
//! 2. [`directives_resolve`]: every directive names an existing file (and anchor).
//! 3. [`mechanisms_linked`] and [`examples_referenced`]: a chapter that explains a mechanism links
//!    to its crate and to an example; every example is used by some chapter.
//! 4. [`links_resolve`]: every relative link reaches a file or directory.
//! 5. [`no_typed_output`]: a `text` or `console` block holds exactly one directive, never output
//!    typed by hand.

use crate::directive::{Directive, Kind, anchored};
use crate::expand::{Language, replacement};
use crate::page::{Book, Item, Page};
use crate::{Finding, read};
use std::path::{Component, Path, PathBuf};

/// What the checks need to know beyond the pages.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Chapters that explain no mechanism (introduction, glossary…), by file name.
    pub overview_chapters: &'a [&'a str],
}

/// Runs every check.
pub fn all(book: &Book, rules: Rules<'_>) -> Vec<Finding> {
    let mut findings = same_structure(book);
    findings.extend(directives_resolve(book));
    findings.extend(mechanisms_linked(book, rules));
    findings.extend(examples_referenced(book));
    findings.extend(links_resolve(book));
    findings.extend(no_typed_output(book));
    findings
}

/// Check 1: the same chapters, and the same skeleton in each pair of pages.
pub fn same_structure(book: &Book) -> Vec<Finding> {
    let [ko, en] = &book.editions[..] else {
        return vec![Finding::new(&book.root, 0, "expected two editions")];
    };
    let mut findings = Vec::new();
    let longest = ko.entries.len().max(en.entries.len());
    for i in 0..longest {
        match (ko.entries.get(i), en.entries.get(i)) {
            (Some(k), Some(e)) if k.chapter == e.chapter && k.depth == e.depth => {
                findings.extend(compare_pages(&ko.pages[i], &en.pages[i]));
            }
            (k, e) => {
                let describe = |x: Option<&crate::page::Entry>| {
                    x.map_or("nothing".to_owned(), |x| {
                        format!("{} at depth {}", x.chapter.display(), x.depth)
                    })
                };
                let (file, line) = match k {
                    Some(k) => (&ko.summary_file, k.line),
                    None => (&en.summary_file, e.map_or(0, |e| e.line)),
                };
                findings.push(Finding::new(
                    file,
                    line,
                    format!(
                        "chapter {} differs: the Korean summary lists {}, the English {}",
                        i + 1,
                        describe(k),
                        describe(e)
                    ),
                ));
                return findings; // later chapters would all be misaligned
            }
        }
    }
    findings
}

fn compare_pages(ko: &Page, en: &Page) -> Option<Finding> {
    let (ks, es) = (ko.structure(), en.structure());
    let at = (0..ks.len().max(es.len()))
        .find(|&i| ks.get(i).map(|x| &x.1) != es.get(i).map(|x| &x.1))?;
    let show = |x: Option<&(usize, Item)>, page: &Page| match x {
        Some((line, item)) => format!("{} at {}:{}", describe(item), page.file.display(), line),
        None => format!("nothing more in {}", page.file.display()),
    };
    // Where the Korean page goes wrong: at its element that differs or, when it simply stops,
    // at its last line.
    let line = ks.get(at).map_or(ko.text.lines().count(), |x| x.0);
    Some(Finding::new(
        &ko.file,
        line,
        format!(
            "the editions diverge at element {}: {} but {}",
            at + 1,
            show(ks.get(at), ko),
            show(es.get(at), en)
        ),
    ))
}

fn describe(item: &Item) -> String {
    match item {
        Item::Heading(level) => format!("a level-{level} heading"),
        Item::Code(lang) if lang.is_empty() => "a code block without a language".to_owned(),
        Item::Code(lang) => format!("a `{lang}` code block"),
        Item::Directive(d) => format!("the directive {d}"),
    }
}

/// Check 2: every directive names an existing file, and an include's anchor exists.
pub fn directives_resolve(book: &Book) -> Vec<Finding> {
    let mut findings = Vec::new();
    for page in book.pages() {
        for d in &page.directives {
            if let Err(why) = resolve_directive(&book.root, page, d) {
                findings.push(Finding::new(
                    &page.file,
                    d.line,
                    format!("{}: {why}", d.source_form()),
                ));
            }
        }
    }
    findings
}

fn resolve_directive(root: &Path, page: &Page, d: &Directive) -> Result<(), String> {
    let message = |f: Finding| f.message;
    match &d.kind {
        Kind::Include { path, anchor } => {
            let file = root.join(page.dir()).join(path);
            let text = read(&file).map_err(message)?;
            match anchor {
                Some(a) if anchored(&text, a).is_none() => {
                    Err(format!("no anchor `{a}` in {}", file.display()))
                }
                _ => Ok(()),
            }
        }
        _ => replacement(root, d, Language::English)
            .map(drop)
            .map_err(message),
    }
}

/// Check 3a: a chapter that explains a mechanism links to its crate and to an existing example.
pub fn mechanisms_linked(book: &Book, rules: Rules<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let examples = examples(&book.root);
    for page in book.pages() {
        let name = page.chapter.to_string_lossy();
        if rules.overview_chapters.contains(&name.as_ref()) {
            continue;
        }
        let targets = targets(page);
        if !targets.iter().any(|t| is_crate_path(t)) {
            findings.push(Finding::new(
                &page.file,
                1,
                "this chapter explains a mechanism but links to no crate under crates/",
            ));
        }
        if !examples.iter().any(|e| references(page, e)) {
            findings.push(Finding::new(
                &page.file,
                1,
                "this chapter explains a mechanism but uses no example from examples/",
            ));
        }
    }
    findings
}

fn is_crate_path(path: &Path) -> bool {
    let mut parts = path.components();
    parts.next() == Some(Component::Normal("crates".as_ref())) && parts.next().is_some()
}

/// Check 3b: every example is used by some chapter.
pub fn examples_referenced(book: &Book) -> Vec<Finding> {
    examples(&book.root)
        .into_iter()
        .filter(|e| !book.pages().any(|p| references(p, e)))
        .map(|e| {
            Finding::new(
                &e,
                0,
                "no chapter uses this example (link it, include it, run it or show its captures)",
            )
        })
        .collect()
}

/// The chapter programs: `examples/*.rs` and the experiments `examples/python/*.py`, root-relative.
pub fn examples(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for (dir, ext) in [("examples", "rs"), ("examples/python", "py")] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|x| x == ext) {
                found.push(Path::new(dir).join(entry.file_name()));
            }
        }
    }
    found.sort();
    found
}

/// Does `page` use `example`: a link or include to it, a `cargo run --example` of it, or its captures?
fn references(page: &Page, example: &Path) -> bool {
    let stem = example.file_stem().unwrap_or_default().to_string_lossy();
    if targets(page).iter().any(|t| t == example) {
        return true;
    }
    if example.extension().is_some_and(|x| x == "rs") {
        return page.code.iter().any(|c| runs_example(&c.literal, &stem));
    }
    let captures = Path::new("tests/captures").join(stem.as_ref());
    page.directives.iter().any(|d| match &d.kind {
        Kind::Capture { path } => Path::new(path).starts_with(&captures),
        Kind::CaptureTable { dir } => Path::new(dir) == captures,
        _ => false,
    })
}

fn runs_example(code: &str, name: &str) -> bool {
    code.lines().any(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words.starts_with(&["cargo", "run"]) && words.windows(2).any(|w| w == ["--example", name])
    })
}

/// Where the page's links and includes point, root-relative, fragments dropped.
fn targets(page: &Page) -> Vec<PathBuf> {
    let links = page
        .links
        .iter()
        .filter_map(|l| resolve(page.dir(), &l.url));
    let includes = page.directives.iter().filter_map(|d| match &d.kind {
        Kind::Include { path, .. } => resolve(page.dir(), path),
        _ => None,
    });
    links.chain(includes).collect()
}

/// A relative link from a page in `dir` (root-relative), as a root-relative path; `None` for URLs,
/// mail and fragments.
pub fn resolve(dir: &Path, url: &str) -> Option<PathBuf> {
    if url.is_empty() || url.starts_with('#') || url.contains("://") || url.starts_with("mailto:") {
        return None;
    }
    let path = url.split(['#', '?']).next()?;
    Some(normalise(&dir.join(path)))
}

/// Removes `.` and `..` lexically (the file need not exist).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Check 4: every relative link reaches a file or directory in the repository.
pub fn links_resolve(book: &Book) -> Vec<Finding> {
    let mut findings = Vec::new();
    for page in book.pages() {
        for link in &page.links {
            let Some(target) = resolve(page.dir(), &link.url) else {
                continue;
            };
            if target.starts_with("..") || !book.root.join(&target).exists() {
                findings.push(Finding::new(
                    &page.file,
                    link.line,
                    format!("link `{}` leads nowhere ({})", link.url, target.display()),
                ));
            }
        }
    }
    findings
}

/// Check 5: an output block (`text`, `console`) consists of one directive and nothing else.
pub fn no_typed_output(book: &Book) -> Vec<Finding> {
    let mut findings = Vec::new();
    for page in book.pages() {
        for block in page
            .code
            .iter()
            .filter(|c| c.lang == "text" || c.lang == "console")
        {
            if !is_single_directive(page, block.line, &block.literal) {
                findings.push(Finding::new(
                    &page.file,
                    block.line,
                    format!(
                        "a `{}` block must hold exactly one directive (a snapshot, a capture or an include), not typed output",
                        block.lang
                    ),
                ));
            }
        }
    }
    findings
}

fn is_single_directive(page: &Page, line: usize, literal: &str) -> bool {
    let body = literal.trim();
    page.directives
        .iter()
        .filter(|d| d.line == line + 1)
        .any(|d| page.text[d.span.clone()] == *body)
}
