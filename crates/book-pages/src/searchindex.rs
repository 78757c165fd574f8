//! The form of mdBook 0.5's `searchindex.js`: a JSON document inside a JavaScript string.
//!
//! ```text
//! [optional preamble]window.search = Object.assign(window.search, JSON.parse('…'));
//! ```
//!
//! mdBook escapes the JSON for a single-quoted string by doubling backslashes and escaping `'`.
//! The book tool reads it to rebuild the Korean index and writes it back with a preamble (the
//! registration of the Korean trimmer); the tests read it to search the index.

use crate::Finding;
use std::path::Path;

const PREFIX: &str = "window.search = Object.assign(window.search, JSON.parse('";
const SUFFIX: &str = "'));";

/// The JSON in `script` (the file at `file`, for errors), ignoring any preamble before it.
pub fn json(file: &Path, script: &str) -> Result<String, Finding> {
    let inner = script
        .trim_end()
        .split_once(PREFIX)
        .and_then(|(_, rest)| rest.strip_suffix(SUFFIX))
        .ok_or_else(|| Finding::new(file, 0, "not in the form mdBook 0.5 writes searchindex.js"))?;
    let mut json = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        json.push(if c == '\\' {
            chars.next().unwrap_or('\\')
        } else {
            c
        });
    }
    Ok(json)
}

/// The script for `json`, after `preamble`.
pub fn script(preamble: &str, json: &str) -> String {
    let escaped = json.replace('\\', "\\\\").replace('\'', "\\'");
    format!("{preamble}{PREFIX}{escaped}{SUFFIX}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_quotes_and_backslashes() {
        let json = r#"{"a":"it's \\ \"x\" \\'"}"#;
        let js = script("// pre\n", json);
        assert!(js.starts_with("// pre\nwindow.search"));
        assert_eq!(super::json(Path::new("s.js"), &js).unwrap(), json);
    }

    #[test]
    fn another_form_is_an_error() {
        assert!(super::json(Path::new("s.js"), "var x = 1;").is_err());
    }
}
