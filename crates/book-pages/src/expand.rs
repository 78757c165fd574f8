//! Expanding the output directives of a page: what the book tool's preprocessor does.
//!
//! mdBook expands `{{#include}}` itself; this module expands `{{#snapshot}}`, `{{#capture}}` and
//! `{{#capture-table}}`, reading the files relative to the book root.

use crate::capture::{self, Capture};
use crate::directive::{self, Directive, Kind};
use crate::{Finding, snapshot};
use std::path::Path;

/// The words a generated table needs, per edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Korean,
}

impl Language {
    /// From a `book.language` code; anything but `ko` reads as English.
    pub fn from_code(code: &str) -> Language {
        if code == "ko" {
            Language::Korean
        } else {
            Language::English
        }
    }

    fn output_heading(self) -> &'static str {
        match self {
            Language::English => "Output",
            Language::Korean => "출력",
        }
    }
}

/// Replaces every output directive in `text` (the page at `page`, for errors) with what it names.
pub fn expand(root: &Path, page: &Path, text: &str, lang: Language) -> Result<String, Finding> {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for d in directive::parse(page, text)? {
        let Some(replacement) = replacement(root, &d, lang).map_err(|f| at(page, &d, f))? else {
            continue; // an include: mdBook's own
        };
        out.push_str(&text[copied..d.span.start]);
        out.push_str(&replacement);
        copied = d.span.end;
    }
    out.push_str(&text[copied..]);
    Ok(out)
}

/// Reports a problem with a directive's file at the directive's place in the page.
fn at(page: &Path, d: &Directive, cause: Finding) -> Finding {
    Finding::new(page, d.line, format!("{}: {}", d.source_form(), cause))
}

/// What an output directive stands for, read from its file under `root`; `None` for an include,
/// which mdBook expands itself. The book checks call this too, so a directive that passes them
/// is one the build can expand.
pub fn replacement(root: &Path, d: &Directive, lang: Language) -> Result<Option<String>, Finding> {
    Ok(Some(match &d.kind {
        Kind::Include { .. } => return Ok(None),
        Kind::Snapshot { path, section } => {
            let file = root.join(path);
            let body = snapshot::body(&file)?;
            match section {
                None => body,
                Some(n) => snapshot::section(&file, &body, *n)?,
            }
        }
        Kind::Capture { path } => {
            let capture = Capture::load(&root.join(path))?;
            capture.body.trim_end_matches('\n').to_owned()
        }
        Kind::CaptureTable { dir } => table(&capture::load_dir(&root.join(dir))?, lang),
    }))
}

/// A Markdown table: one row per interpreter, its output in code spans, one line per output line.
/// A blank output line stays a blank line in the cell (nothing between two `<br>`), keeping the
/// gap the experiment printed between its parts; a code span around nothing would show as "``".
pub fn table(captures: &[Capture], lang: Language) -> String {
    let mut out = format!("| CPython | {} |\n|---|---|\n", lang.output_heading());
    for c in captures {
        let lines: Vec<String> = c
            .body
            .lines()
            .map(|line| {
                if line.trim().is_empty() {
                    String::new()
                } else {
                    code_span(line)
                }
            })
            .collect();
        out.push_str(&format!("| {} | {} |\n", c.python, lines.join("<br>")));
    }
    out.trim_end().to_owned()
}

/// A code span that survives inside a table cell.
fn code_span(line: &str) -> String {
    let escaped = line.replace('|', "\\|");
    if escaped.contains('`') {
        format!("`` {escaped} ``")
    } else {
        format!("`{escaped}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Version;

    fn capture(version: &str, body: &str) -> Capture {
        Capture {
            source: "examples/python/x.py".into(),
            python: Version::parse(version).unwrap(),
            body: body.into(),
        }
    }

    #[test]
    fn a_table_has_a_row_per_version_in_each_language() {
        let rows = [
            capture("3.8.18", "(700, 10, 10)\n"),
            capture("3.13.0", "a|b\nc\n"),
        ];
        assert_eq!(
            table(&rows, Language::Korean),
            "| CPython | 출력 |\n|---|---|\n| 3.8.18 | `(700, 10, 10)` |\n| 3.13.0 | `a\\|b`<br>`c` |"
        );
        assert!(table(&rows, Language::English).starts_with("| CPython | Output |"));
    }

    #[test]
    fn a_blank_output_line_is_a_blank_line_in_the_cell_not_an_empty_code_span() {
        let rows = [capture("3.12.1", "''\t41\n\nlist growth\n0 -> 56\n")];
        let markdown = table(&rows, Language::English);
        assert_eq!(
            markdown,
            "| CPython | Output |\n|---|---|\n| 3.12.1 | `''\t41`<br><br>`list growth`<br>`0 -> 56` |"
        );
        let mut options = comrak::Options::default();
        options.extension.table = true;
        options.render.r#unsafe = true;
        let html = comrak::markdown_to_html(&markdown, &options);
        assert!(!html.contains('`'), "a literal backtick in {html}");
        assert!(
            html.contains("<code>''\t41</code><br><br><code>list growth</code>"),
            "{html}"
        );
    }

    #[test]
    fn a_missing_snapshot_is_reported_at_the_directive() {
        let text = "# T\n\n```text\n{{#snapshot tests/snapshots/none.snap}}\n```\n";
        let err = expand(
            Path::new("/nonexistent"),
            Path::new("p.md"),
            text,
            Language::English,
        )
        .unwrap_err();
        assert_eq!((err.file.to_str().unwrap(), err.line), ("p.md", 4));
        assert!(err.message.contains("cannot read"), "{err}");
    }
}
