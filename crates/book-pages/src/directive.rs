//! Directives: the `{{#name argument}}` forms a page uses to pull in files.
//!
//! | directive | argument is relative to | becomes |
//! |---|---|---|
//! | `{{#include path}}`, `{{#include path:ANCHOR}}` | the page (mdBook's own) | the file, or the lines between `ANCHOR: name` and `ANCHOR_END: name` |
//! | `{{#snapshot tests/snapshots/NAME.snap}}` | the book root | the body of an insta snapshot, without its header |
//! | `{{#snapshot tests/snapshots/NAME.snap:N}}` | the book root | only the section of that body under the line `== N. … ==` |
//! | `{{#capture tests/captures/NAME/3.12.txt}}` | the book root | the body of one recorded run of a real interpreter |
//! | `{{#capture-table tests/captures/NAME}}` | the book root | a table with one row per recorded CPython version |
//!
//! A directive written with a backslash in front (`\{{#snapshot …}}`) is escaped: it is shown as
//! text, as mdBook does for its own directives.

use crate::Finding;
use std::ops::Range;
use std::path::Path;

/// What a directive asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// mdBook's `{{#include}}`: code from a file that compiles, relative to the page.
    Include {
        path: String,
        anchor: Option<String>,
    },
    /// The body of an insta snapshot, relative to the book root; with a section number, only the
    /// lines under its `== N. title ==` line.
    Snapshot { path: String, section: Option<u32> },
    /// One recorded run of a real interpreter, relative to the book root.
    Capture { path: String },
    /// Every recorded version of one experiment, as a table.
    CaptureTable { dir: String },
}

/// A directive found in a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub kind: Kind,
    /// 1-based line of the opening `{{`.
    pub line: usize,
    /// Byte range of the whole directive, braces included.
    pub span: Range<usize>,
}

impl Directive {
    /// The directive as a page writes it, for messages and structure comparisons.
    pub fn source_form(&self) -> String {
        match &self.kind {
            Kind::Include { path, anchor: None } => format!("{{{{#include {path}}}}}"),
            Kind::Include {
                path,
                anchor: Some(a),
            } => format!("{{{{#include {path}:{a}}}}}"),
            Kind::Snapshot {
                path,
                section: None,
            } => format!("{{{{#snapshot {path}}}}}"),
            Kind::Snapshot {
                path,
                section: Some(n),
            } => format!("{{{{#snapshot {path}:{n}}}}}"),
            Kind::Capture { path } => format!("{{{{#capture {path}}}}}"),
            Kind::CaptureTable { dir } => format!("{{{{#capture-table {dir}}}}}"),
        }
    }

    /// True for the directives that bring in program output rather than code.
    pub fn is_output(&self) -> bool {
        !matches!(self.kind, Kind::Include { .. })
    }
}

/// Finds every unescaped directive in `text`, in order.
///
/// `file` only names the page in errors. An unterminated `{{#`, an unknown directive name or a
/// missing argument is an error: a malformed page must not build.
pub fn parse(file: &Path, text: &str) -> Result<Vec<Directive>, Finding> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find("{{#") {
        let start = from + offset;
        let line = line_of(text, start);
        let Some(close) = text[start..].find("}}") else {
            return Err(Finding::new(
                file,
                line,
                "directive `{{#` is never closed by `}}`",
            ));
        };
        let end = start + close + 2;
        from = end;
        if start > 0 && text.as_bytes()[start - 1] == b'\\' {
            continue; // escaped: shown as text
        }
        let body = &text[start + 3..start + close];
        let kind = kind_of(body).map_err(|why| Finding::new(file, line, why))?;
        found.push(Directive {
            kind,
            line,
            span: start..end,
        });
    }
    Ok(found)
}

fn kind_of(body: &str) -> Result<Kind, String> {
    let mut words = body.split_whitespace();
    let name = words.next().unwrap_or_default();
    let arg = words.next().map(str::to_owned);
    if words.next().is_some() {
        return Err(format!("directive `{{{{#{body}}}}}` takes one argument"));
    }
    let Some(arg) = arg else {
        return Err(format!("directive `{{{{#{name}}}}}` needs an argument"));
    };
    match name {
        "include" => Ok(include(arg)),
        "snapshot" => snapshot(arg),
        "capture" => Ok(Kind::Capture { path: arg }),
        "capture-table" => Ok(Kind::CaptureTable { dir: arg }),
        other => Err(format!(
            "unknown directive `{{{{#{other}}}}}` (known: include, snapshot, capture, capture-table)"
        )),
    }
}

/// `path` or `path:N`, N a section number.
fn snapshot(arg: String) -> Result<Kind, String> {
    match arg.split_once(':') {
        None => Ok(Kind::Snapshot {
            path: arg,
            section: None,
        }),
        Some((path, n)) => match n.parse() {
            Ok(n) => Ok(Kind::Snapshot {
                path: path.to_owned(),
                section: Some(n),
            }),
            Err(_) => Err(format!("`{n}` in `{arg}` is not a section number")),
        },
    }
}

/// `path`, `path:ANCHOR`; mdBook's line-range forms (`path:10:20`) are not used in this book.
fn include(arg: String) -> Kind {
    match arg.split_once(':') {
        Some((path, anchor)) => Kind::Include {
            path: path.to_owned(),
            anchor: Some(anchor.to_owned()),
        },
        None => Kind::Include {
            path: arg,
            anchor: None,
        },
    }
}

/// 1-based line number of byte offset `at`.
pub fn line_of(text: &str, at: usize) -> usize {
    text[..at].bytes().filter(|&b| b == b'\n').count() + 1
}

/// The lines of `source` between `ANCHOR: name` and `ANCHOR_END: name`, as mdBook selects them
/// (lines holding other anchors are dropped). `None` when the anchor is not there.
pub fn anchored(source: &str, name: &str) -> Option<String> {
    let start_marker = format!("ANCHOR: {name}");
    let end_marker = format!("ANCHOR_END: {name}");
    let mut lines = source
        .lines()
        .skip_while(|l| !ends_with_marker(l, &start_marker));
    lines.next()?;
    let mut body = Vec::new();
    for line in lines {
        if ends_with_marker(line, &end_marker) {
            return Some(body.join("\n"));
        }
        if !line.contains("ANCHOR:") && !line.contains("ANCHOR_END:") {
            body.push(line);
        }
    }
    None
}

fn ends_with_marker(line: &str, marker: &str) -> bool {
    line.trim_end().ends_with(marker)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Kind> {
        parse(Path::new("p.md"), text)
            .unwrap()
            .into_iter()
            .map(|d| d.kind)
            .collect()
    }

    #[test]
    fn finds_each_kind_with_its_line() {
        let text =
            "a\n{{#snapshot tests/snapshots/x.snap}}\n{{#include ../../examples/x.rs:tour}}\n";
        let found = parse(Path::new("p.md"), text).unwrap();
        assert_eq!(found[0].line, 2);
        assert_eq!(
            found[1].kind,
            Kind::Include {
                path: "../../examples/x.rs".into(),
                anchor: Some("tour".into())
            }
        );
        assert_eq!(
            &text[found[0].span.clone()],
            "{{#snapshot tests/snapshots/x.snap}}"
        );
    }

    #[test]
    fn escaped_directives_are_text() {
        assert!(kinds(r"see \{{#snapshot tests/snapshots/x.snap}}").is_empty());
    }

    #[test]
    fn malformed_directives_are_errors_with_a_line() {
        let err = parse(Path::new("p.md"), "x\n\n{{#snapshot a.snap").unwrap_err();
        assert_eq!(err.line, 3);
        let err = parse(Path::new("p.md"), "{{#frobnicate a}}").unwrap_err();
        assert!(err.message.contains("unknown directive"), "{err}");
        let err = parse(Path::new("p.md"), "{{#capture}}").unwrap_err();
        assert!(err.message.contains("needs an argument"), "{err}");
    }

    #[test]
    fn anchors_select_lines_like_mdbook() {
        let src = "x\n// ANCHOR: a\none\n// ANCHOR: b\ntwo\n// ANCHOR_END: b\n// ANCHOR_END: a\n";
        assert_eq!(anchored(src, "a").unwrap(), "one\ntwo");
        assert_eq!(anchored(src, "b").unwrap(), "two");
        assert_eq!(anchored(src, "c"), None);
    }
}
