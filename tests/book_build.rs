//! Builds both editions with the book tool (`crates/book`, its own workspace, run through cargo)
//! and checks what a reader gets: the right `<html lang>`, outputs expanded from their files, a
//! link to the other edition on every page, mermaid's scripts, links into the repository that
//! work, and a search index in which Korean words find their pages.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The built book, once for all tests in this file.
fn built() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("book");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "run",
                "--quiet",
                "--manifest-path",
                "crates/book/Cargo.toml",
                "--",
                "build",
                "--out",
            ])
            .arg(&out)
            .current_dir(root())
            // Its own target directory: never wait on the lock of the build running this test.
            .env("CARGO_TARGET_DIR", root().join("crates/book/target"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "the book tool failed to build the book");
        out
    })
}

fn read(rel: &str) -> String {
    let path = built().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The chapters both summaries list.
fn chapters() -> Vec<PathBuf> {
    let summary = std::fs::read_to_string(root().join("src/en/SUMMARY.md")).unwrap();
    book_pages::page::summary(&summary)
        .into_iter()
        .map(|e| e.chapter)
        .collect()
}

fn html(edition: &str, chapter: &Path) -> String {
    read(&format!(
        "{edition}/{}",
        chapter.with_extension("html").display()
    ))
}

#[test]
fn each_edition_declares_its_language_and_links_to_its_twin() {
    for chapter in chapters() {
        for (edition, twin) in [("ko", "en"), ("en", "ko")] {
            let page = html(edition, &chapter);
            assert!(
                page.contains(&format!("<html lang=\"{edition}\"")),
                "{edition}/{}",
                chapter.display()
            );
            let link = format!(
                "href=\"../{twin}/{}\"",
                chapter.with_extension("html").display()
            );
            assert!(
                page.contains(&link),
                "{edition}/{} has no {link}",
                chapter.display()
            );
        }
    }
    assert!(read("index.html").contains("href=\"ko/index.html\""));
}

#[test]
fn outputs_are_expanded_and_no_directive_survives() {
    for chapter in chapters() {
        for edition in ["ko", "en"] {
            let page = html(edition, &chapter);
            for directive in ["{{#snapshot", "{{#capture", "{{#include"] {
                assert!(
                    !page.contains(directive),
                    "{edition}/{} keeps {directive}",
                    chapter.display()
                );
            }
        }
    }
    // The capture table of gc.get_threshold(), recorded from real interpreters.
    let page = read("en/how-to-use.html");
    assert!(page.contains("(700, 10, 10)") && page.contains("(2000, 10, 10)"));
}

#[test]
fn mermaid_comes_from_the_pinned_package() {
    let page = read("en/introduction.html");
    assert!(
        page.contains("<pre class=\"mermaid\">"),
        "no diagram on the introduction"
    );
    assert!(page.contains("target/book-assets/mermaid.min.js"));
    let script = built().join("en/target/book-assets/mermaid.min.js");
    assert!(
        std::fs::metadata(script).unwrap().len() > 1_000_000,
        "mermaid.min.js is not the real one"
    );
}

/// The documents of one edition's search index whose `field` holds a token starting with `word`
/// (elasticlunr stores tokens in a character trie; mdBook searches with prefix expansion).
fn search(edition: &str, field: &str, word: &str) -> Vec<String> {
    let path = format!("{edition}/searchindex.js");
    let json = book_pages::searchindex::json(Path::new(&path), &read(&path)).unwrap();
    let json: Value = serde_json::from_str(&json).unwrap();
    let mut node = &json["index"]["index"][field]["root"];
    for c in word.chars() {
        node = &node[c.to_string()];
    }
    let mut docs = Vec::new();
    collect(node, &mut docs);
    let urls = json["doc_urls"].as_array().unwrap();
    docs.iter()
        .map(|d| {
            urls[d.parse::<usize>().unwrap()]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn collect(node: &Value, docs: &mut Vec<String>) {
    let Some(map) = node.as_object() else { return };
    for (key, value) in map {
        match key.as_str() {
            "docs" => docs.extend(value.as_object().unwrap().keys().cloned()),
            "df" => {}
            _ => collect(value, docs),
        }
    }
}

#[test]
fn korean_words_find_their_pages() {
    // Words of the Korean introduction: its title, and words of its text.
    assert!(
        search("ko", "title", "들어가며")
            .iter()
            .any(|u| u.starts_with("introduction.html"))
    );
    for word in ["수수께끼", "참조"] {
        let hits = search("ko", "body", word);
        assert!(
            hits.iter().any(|u| u.starts_with("introduction.html")),
            "{word}: {hits:?}"
        );
    }
    let pipeline = &read("ko/searchindex.js");
    assert!(
        pipeline.contains("trimmer-ko"),
        "the Korean index must use the Korean-aware trimmer"
    );
    // The browser side: the index script registers the trimmer it names before loading.
    assert!(
        pipeline.starts_with("// Korean search"),
        "trimmer-ko is not registered first"
    );
    // English search is untouched (tokens are stemmed there, so look up one the stemmer keeps).
    assert!(
        search("en", "body", "pymalloc")
            .iter()
            .any(|u| u.starts_with("introduction.html"))
    );
}

#[test]
fn links_into_the_repository_work_in_the_rendered_book() {
    let page = read("en/how-to-use.html");
    assert!(
        page.contains("href=\"repo/crates/book-pages/README.html\""),
        "crate link not rewritten"
    );
    assert!(read("en/repo/crates/book-pages/README.html").contains("<table>"));
}

/// Runs the built book's own elasticlunr.min.js and searchindex.js under Node, as the browser
/// would, and returns the pages a query finds. `None` when Node is not installed.
fn search_in_elasticlunr(edition: &str, query: &str) -> Option<Vec<String>> {
    const PROGRAM: &str = r#"
        const fs = require('fs');
        const vm = require('vm');
        const [dir, query] = process.argv.slice(1);
        const context = vm.createContext({ window: { search: {} }, console });
        for (const file of ['elasticlunr.min.js', 'searchindex.js']) {
            vm.runInContext(fs.readFileSync(dir + '/' + file, 'utf8'), context);
        }
        const found = vm.runInContext(
            `const search = window.search;
             const index = elasticlunr.Index.load(search.index);
             index.search(${JSON.stringify(query)}, search.search_options)
                  .map(hit => search.doc_urls[hit.ref])`,
            context);
        console.log(JSON.stringify(found));
    "#;
    let dir = built().join(edition);
    let output = Command::new("node")
        .arg("-e")
        .arg(PROGRAM)
        .arg(&dir)
        .arg(query)
        .output();
    let Ok(output) = output else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "book_build: skipped the Node search test: no node"
        );
        return None;
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

#[test]
fn the_browser_search_finds_a_korean_word_by_its_prefix() {
    // `수수께` is the start of `수수께끼` (riddle, puzzle), a word of the Korean introduction.
    let Some(hits) = search_in_elasticlunr("ko", "수수께") else {
        return;
    };
    assert!(
        hits.iter().any(|u| u.starts_with("introduction.html")),
        "{hits:?}"
    );
}

#[test]
fn the_korean_interface_is_korean_and_the_english_stays_english() {
    // The browser tests (tests/browser.rs) check these where a reader sees them; this checks the
    // files, without a browser.
    let ko = read("ko/how-to-use.html");
    let en = read("en/how-to-use.html");
    for (korean, english) in [
        (
            "placeholder=\"이 책에서 검색…\"",
            "placeholder=\"Search this book ...\"",
        ),
        (
            "title=\"목차 열기·닫기\"",
            "title=\"Toggle Table of Contents\"",
        ),
        ("title=\"이전 장\"", "title=\"Previous chapter\""),
        ("title=\"다음 장\"", "title=\"Next chapter\""),
        ("title=\"이 책 인쇄하기\"", "title=\"Print this book\""),
    ] {
        assert!(ko.contains(korean) && !ko.contains(english), "ko: {korean}");
        assert!(
            en.contains(english) && !en.contains(korean),
            "en: {english}"
        );
    }
    assert!(read("ko/searcher.js").contains("검색 결과 없음"));
    assert!(read("en/searcher.js").contains("No search results for"));
}

#[test]
fn the_landing_page_names_the_book_in_both_languages() {
    let page = read("index.html");
    for text in [
        "러스트로 다시 짓는 CPython 메모리 관리",
        "CPython's memory, rebuilt in Rust",
        "href=\"en/index.html\"",
        "en/css/variables.css",
    ] {
        assert!(page.contains(text), "{text}");
    }
    // The theme files it links exist.
    assert!(built().join("en/css/variables.css").is_file());
    assert!(built().join("en/fonts/fonts.css").is_file());
}
