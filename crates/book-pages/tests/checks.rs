//! Each book check passes on a small sound book and fails, naming file and line, when that book is
//! damaged in the one way the check exists to catch.

use book_pages::Finding;
use book_pages::check::{self, Rules};
use book_pages::page::Book;
use std::fs;
use std::path::{Path, PathBuf};

const RULES: Rules<'static> = Rules {
    overview_chapters: &["intro.md"],
};

const INTRO_EN: &str = "# Introduction\n\nWhy this book.\n\n## Puzzles\n\nThree of them.\n";
const INTRO_KO: &str = "# 들어가며\n\n이 책을 쓴 까닭.\n\n## 수수께끼\n\n세 가지다.\n";
const ARENAS_EN: &str = "# Arenas\n\nSee [the crate](../../crates/alloc/) and [the example](../../examples/tour.rs).\n\n```rust\n{{#include ../../examples/tour.rs:main}}\n```\n\n## Run it\n\n```sh\ncargo run --example tour\n```\n\n```text\n{{#snapshot tests/snapshots/tour.snap}}\n```\n\n{{#capture-table tests/captures/probe}}\n";
const ARENAS_KO: &str = "# 아레나\n\n[크레이트](../../crates/alloc/)와 [예제](../../examples/tour.rs)를 보라.\n\n```rust\n{{#include ../../examples/tour.rs:main}}\n```\n\n## 직접 실행해 보기\n\n```sh\ncargo run --example tour\n```\n\n```text\n{{#snapshot tests/snapshots/tour.snap}}\n```\n\n{{#capture-table tests/captures/probe}}\n";

/// A sound two-edition book in a fresh directory.
struct Fixture {
    root: PathBuf,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let root = std::env::temp_dir().join(format!("book-pages-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let fixture = Fixture { root };
        fixture.write(
            "src/en/SUMMARY.md",
            "# Summary\n\n- [Introduction](intro.md)\n- [Arenas](arenas.md)\n",
        );
        fixture.write(
            "src/ko/SUMMARY.md",
            "# 차례\n\n- [들어가며](intro.md)\n- [아레나](arenas.md)\n",
        );
        fixture.write("src/en/intro.md", INTRO_EN);
        fixture.write("src/ko/intro.md", INTRO_KO);
        fixture.write("src/en/arenas.md", ARENAS_EN);
        fixture.write("src/ko/arenas.md", ARENAS_KO);
        fixture.write("crates/alloc/Cargo.toml", "[package]\n");
        fixture.write(
            "examples/tour.rs",
            "// ANCHOR: main\nfn main() {}\n// ANCHOR_END: main\n",
        );
        fixture.write("examples/python/probe.py", "print(1)\n");
        fixture.write(
            "tests/snapshots/tour.snap",
            "---\nsource: t.rs\n---\nhello\n",
        );
        fixture.write(
            "tests/captures/probe/3.12.txt",
            "---\nsource: examples/python/probe.py\npython: 3.12.1\n---\n1\n",
        );
        fixture
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = fs::read_to_string(self.root.join(rel)).unwrap();
        assert!(text.contains(from), "fixture {rel} has no {from:?}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    fn check(&self) -> Vec<Finding> {
        check::all(&Book::load(&self.root).unwrap(), RULES)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Asserts exactly one finding, at `file:line`, whose message contains `says`.
fn assert_one(findings: &[Finding], file: &str, line: usize, says: &str) {
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!((f.file.as_path(), f.line), (Path::new(file), line), "{f}");
    assert!(f.message.contains(says), "{f}");
}

#[test]
fn a_sound_book_passes_every_check() {
    let findings = Fixture::new("sound").check();
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn check1_a_deleted_korean_heading_is_named_with_file_and_line() {
    let book = Fixture::new("heading");
    book.edit("src/ko/intro.md", "## 수수께끼\n\n", "");
    assert_one(
        &book.check(),
        "src/ko/intro.md",
        5,
        "level-2 heading at src/en/intro.md:5",
    );
}

#[test]
fn check1_a_code_block_in_another_language_is_caught() {
    let book = Fixture::new("codelang");
    book.edit("src/ko/arenas.md", "```sh\n", "```bash\n");
    assert_one(&book.check(), "src/ko/arenas.md", 11, "`bash` code block");
}

#[test]
fn check1_a_chapter_missing_from_one_summary_is_caught() {
    let book = Fixture::new("summary");
    book.edit("src/ko/SUMMARY.md", "- [아레나](arenas.md)\n", "");
    assert_one(
        &book.check(),
        "src/en/SUMMARY.md",
        4,
        "the Korean summary lists nothing",
    );
}

#[test]
fn check2_a_missing_anchor_is_caught() {
    let book = Fixture::new("anchor");
    book.write("examples/tour.rs", "fn main() {}\n");
    let findings = book.check();
    assert_eq!(findings.len(), 2, "{findings:#?}"); // once per edition
    assert_eq!(findings[0].line, 6);
    assert!(
        findings[0].message.contains("no anchor `main`"),
        "{}",
        findings[0]
    );
}

#[test]
fn check2_a_missing_snapshot_is_caught() {
    let book = Fixture::new("snapshot");
    fs::remove_file(book.root.join("tests/snapshots/tour.snap")).unwrap();
    let findings = book.check();
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert_eq!(
        (findings[0].file.as_path(), findings[0].line),
        (Path::new("src/ko/arenas.md"), 16)
    );
}

#[test]
fn check3_a_mechanism_chapter_without_its_crate_is_caught() {
    let book = Fixture::new("crate");
    book.edit(
        "src/en/arenas.md",
        "[the crate](../../crates/alloc/) and ",
        "",
    );
    assert_one(&book.check(), "src/en/arenas.md", 1, "links to no crate");
}

#[test]
fn check3_an_unused_example_is_caught() {
    let book = Fixture::new("example");
    book.write("examples/orphan.rs", "fn main() {}\n");
    assert_one(
        &book.check(),
        "examples/orphan.rs",
        0,
        "no chapter uses this example",
    );
}

#[test]
fn check4_a_broken_link_is_caught() {
    let book = Fixture::new("link");
    book.edit(
        "src/en/intro.md",
        "Why this book.",
        "Why [this](nowhere.md) book.",
    );
    assert_one(
        &book.check(),
        "src/en/intro.md",
        3,
        "link `nowhere.md` leads nowhere",
    );
}

#[test]
fn check5_output_typed_by_hand_is_caught() {
    let book = Fixture::new("typed");
    book.edit(
        "src/ko/arenas.md",
        "{{#snapshot tests/snapshots/tour.snap}}",
        "hello",
    );
    let findings = book.check();
    // The directive is gone from one edition too, so check 1 speaks as well.
    assert!(
        findings
            .iter()
            .any(|f| f.file == Path::new("src/ko/arenas.md")
                && f.line == 15
                && f.message.contains("exactly one directive")),
        "{findings:#?}"
    );
}

#[test]
fn a_malformed_page_is_an_error_not_a_panic() {
    let book = Fixture::new("malformed");
    book.edit(
        "src/en/intro.md",
        "Three of them.",
        "Three {{#snapshot of them.",
    );
    let err = Book::load(&book.root).unwrap_err();
    assert_eq!(
        (err.file.as_path(), err.line),
        (Path::new("src/en/intro.md"), 7)
    );
}
