//! Insta snapshots: a YAML-ish header between two `---` lines, then the body.
//!
//! ```text
//! ---
//! source: tests/examples.rs
//! expression: out
//! ---
//! the output, exactly as the program printed it
//! ```

use crate::Finding;
use std::path::Path;

/// Splits a file of the form `---\nheader\n---\nbody` into header and body.
///
/// Both insta snapshots and our captures of real interpreters use this shape.
pub fn split_header<'a>(file: &Path, text: &'a str) -> Result<(&'a str, &'a str), Finding> {
    let rest = text
        .strip_prefix("---\n")
        .ok_or_else(|| Finding::new(file, 1, "expected a header opening with `---`"))?;
    let end = rest
        .find("\n---\n")
        .ok_or_else(|| Finding::new(file, 1, "the header is never closed by `---`"))?;
    Ok((&rest[..end], &rest[end + 5..]))
}

/// The body of the snapshot at `path`, without its header and without the final newline.
pub fn body(path: &Path) -> Result<String, Finding> {
    let text = crate::read(path)?;
    let (_, body) = split_header(path, &text)?;
    Ok(body.trim_end_matches('\n').to_owned())
}

/// The lines under `== N. title ==` in a snapshot body, up to the next `== ` line, without the
/// blank lines around them. Long example outputs are divided this way so a page can quote the
/// part it discusses.
pub fn section(file: &Path, body: &str, n: u32) -> Result<String, Finding> {
    let heading = format!("== {n}. ");
    let mut lines = body.lines().skip_while(|l| !l.starts_with(&heading));
    lines
        .next()
        .ok_or_else(|| Finding::new(file, 0, format!("no section `{heading}…` in the snapshot")))?;
    let part: Vec<&str> = lines.take_while(|l| !l.starts_with("== ")).collect();
    Ok(part.join("\n").trim_matches('\n').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_the_header() {
        let text = "---\nsource: a.rs\nexpression: out\n---\nline 1\nline 2\n";
        let (header, body) = split_header(Path::new("x.snap"), text).unwrap();
        assert_eq!(header, "source: a.rs\nexpression: out");
        assert_eq!(body, "line 1\nline 2\n");
    }

    #[test]
    fn a_section_is_the_lines_under_its_heading() {
        let body = "== 1. One ==\n\na\nb\n\n== 2. Two ==\n\nc\n";
        assert_eq!(section(Path::new("x"), body, 1).unwrap(), "a\nb");
        assert_eq!(section(Path::new("x"), body, 2).unwrap(), "c");
        let err = section(Path::new("x"), body, 3).unwrap_err();
        assert!(err.message.contains("no section `== 3. …`"), "{err}");
    }

    #[test]
    fn a_file_without_a_header_is_an_error() {
        let err = split_header(Path::new("x.snap"), "just text\n").unwrap_err();
        assert!(err.message.contains("`---`"));
        let err = split_header(Path::new("x.snap"), "---\nsource: a\nbody\n").unwrap_err();
        assert!(err.message.contains("never closed"));
    }
}
