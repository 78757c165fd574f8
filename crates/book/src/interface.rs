//! The Korean edition's interface in Korean.
//!
//! mdBook 0.5.4 writes its interface in English whatever `book.language` says: the titles and
//! labels of the buttons (table of contents, theme, search, print), the search box and its results
//! header, previous and next chapter, the keyboard help, the 404 page. After mdBook has written the
//! Korean edition, [`translate`] replaces those strings in that edition's own copies of the pages
//! and scripts (each edition has its own `searcher.js` and `book.js`), so the English edition keeps
//! mdBook's English. This keeps mdBook's templates as they are instead of carrying a copy of
//! `index.hbs` that would drift from the pinned version.
//!
//! Each replacement names the exact text mdBook 0.5.4 writes. One that is found nowhere fails the
//! build: a new mdBook that rewords a string must not silently bring English back.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// Strings of mdBook's page template (`index.hbs`), in every page it writes.
const PAGES: &[(&str, &str)] = &[
    (
        "<h2 class=\"mdbook-help-title\">Keyboard shortcuts</h2>",
        "<h2 class=\"mdbook-help-title\">단축키</h2>",
    ),
    (
        "<p>Press <kbd>←</kbd> or <kbd>→</kbd> to navigate between chapters</p>",
        "<p><kbd>←</kbd> <kbd>→</kbd> 이전 장, 다음 장으로 가기</p>",
    ),
    (
        "<p>Press <kbd>S</kbd> or <kbd>/</kbd> to search in the book</p>",
        "<p><kbd>S</kbd> <kbd>/</kbd> 이 책에서 검색하기</p>",
    ),
    (
        "<p>Press <kbd>?</kbd> to show this help</p>",
        "<p><kbd>?</kbd> 이 도움말 보기</p>",
    ),
    (
        "<p>Press <kbd>Esc</kbd> to hide this help</p>",
        "<p><kbd>Esc</kbd> 이 도움말 닫기</p>",
    ),
    ("aria-label=\"Table of contents\"", "aria-label=\"목차\""),
    (
        "title=\"Toggle Table of Contents\" aria-label=\"Toggle Table of Contents\"",
        "title=\"목차 열기·닫기\" aria-label=\"목차 열기·닫기\"",
    ),
    (
        "title=\"Change theme\" aria-label=\"Change theme\"",
        "title=\"테마 바꾸기\" aria-label=\"테마 바꾸기\"",
    ),
    ("aria-label=\"Themes\"", "aria-label=\"테마\""),
    (
        "id=\"mdbook-theme-default_theme\">Auto</button>",
        "id=\"mdbook-theme-default_theme\">자동</button>",
    ),
    (
        "id=\"mdbook-theme-light\">Light</button>",
        "id=\"mdbook-theme-light\">밝게</button>",
    ),
    (
        "title=\"Search (`/`)\" aria-label=\"Toggle Searchbar\"",
        "title=\"검색 (`/`)\" aria-label=\"검색 창 열기·닫기\"",
    ),
    (
        "title=\"Print this book\" aria-label=\"Print this book\"",
        "title=\"이 책 인쇄하기\" aria-label=\"이 책 인쇄하기\"",
    ),
    (
        "placeholder=\"Search this book ...\"",
        "placeholder=\"이 책에서 검색…\"",
    ),
    (
        "title=\"Previous chapter\" aria-label=\"Previous chapter\"",
        "title=\"이전 장\" aria-label=\"이전 장\"",
    ),
    (
        "title=\"Next chapter\" aria-label=\"Next chapter\"",
        "title=\"다음 장\" aria-label=\"다음 장\"",
    ),
    ("aria-label=\"Page navigation\"", "aria-label=\"장 이동\""),
];

/// The results header and the teaser's label, in `searcher.js`.
const SEARCHER: &[(&str, &str)] = &[
    (
        "    function formatSearchMetric(count, searchterm) {
        if (count === 1) {
            return count + ' search result for \\'' + searchterm + '\\':';
        } else if (count === 0) {
            return 'No search results for \\'' + searchterm + '\\'.';
        } else {
            return count + ' search results for \\'' + searchterm + '\\':';
        }
    }",
        "    function formatSearchMetric(count, searchterm) {
        if (count === 0) {
            return '\\'' + searchterm + '\\' 검색 결과 없음';
        }
        return '\\'' + searchterm + '\\' 검색 결과 ' + count + '건';
    }",
    ),
    (
        "aria-label=\"Search Result Teaser\"",
        "aria-label=\"검색 결과 미리 보기\"",
    ),
];

/// Buttons and messages `book.js` adds to code blocks. "Show hidden lines" and "Hide lines" are
/// both shown and compared with `this.title`, so every occurrence changes together.
const BOOK_JS: &[(&str, &str)] = &[
    ("Show hidden lines", "숨긴 줄 보기"),
    ("'Hide lines'", "'줄 숨기기'"),
    ("'Copy to clipboard'", "'클립보드에 복사'"),
    ("'Copied!'", "'복사했다'"),
    ("'Clipboard error!'", "'복사하지 못했다'"),
    ("'Run this code'", "'이 코드 실행'"),
    ("'Undo changes'", "'고친 내용 되돌리기'"),
    ("'No output'", "'출력 없음'"),
];

/// mdBook's default 404 page.
const NOT_FOUND: &[(&str, &str)] = &[
    ("<title>Page not found - ", "<title>페이지 없음 - "),
    (
        ">Document not found (404)</a>",
        ">찾는 페이지가 없다 (404)</a>",
    ),
    (
        "<p>This URL is invalid, sorry. Please use the navigation bar or search to continue.</p>",
        "<p>이 주소에는 페이지가 없다. 왼쪽 목차나 검색으로 찾아가기 바란다.</p>",
    ),
];

/// Puts the Korean edition's interface, written by mdBook into `dir`, in Korean.
pub fn translate(dir: &Path) -> Result<()> {
    let pages = html_pages(dir)?;
    replace_in(&pages, PAGES)?;
    replace_in(&[dir.join("searcher.js")], SEARCHER)?;
    replace_in(&[dir.join("book.js")], BOOK_JS)?;
    replace_in(&[dir.join("404.html")], NOT_FOUND)
}

/// The pages mdBook wrote: every `.html` file except the copies of repository files under `repo/`.
fn html_pages(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut pages = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        for entry in std::fs::read_dir(&path).with_context(|| format!("{}", path.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                if path != dir.join("repo") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "html") {
                pages.push(path);
            }
        }
    }
    Ok(pages)
}

/// Applies every replacement to every file, failing if one is found in none of them.
fn replace_in(files: &[PathBuf], replacements: &[(&str, &str)]) -> Result<()> {
    let mut found = vec![false; replacements.len()];
    for file in files {
        let mut text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let before = text.clone();
        for ((from, to), found) in replacements.iter().zip(&mut found) {
            if text.contains(from) {
                *found = true;
                text = text.replace(from, to);
            }
        }
        if text != before {
            std::fs::write(file, text).with_context(|| format!("writing {}", file.display()))?;
        }
    }
    if let Some(((from, _), _)) = replacements.iter().zip(&found).find(|(_, f)| !**f) {
        bail!("mdBook no longer writes {from:?}: update crates/book/src/interface.rs");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_mdbook_no_longer_writes_fails_the_build() {
        let dir = std::env::temp_dir().join(format!("interface-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.js");
        std::fs::write(&file, "x = 'Copied!';").unwrap();
        replace_in(std::slice::from_ref(&file), &[("'Copied!'", "'복사했다'")]).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x = '복사했다';");
        assert!(replace_in(&[file], &[("'Copied!'", "'복사했다'")]).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
