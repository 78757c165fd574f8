//! The book checks, run on the real book (see `crates/book-pages/src/check.rs` for what each does,
//! and `crates/book-pages/tests/checks.rs` for the proof that each can fail).

use book_pages::check::{self, Rules};
use book_pages::page::Book;
use std::path::Path;

/// Chapters that introduce or summarise and explain no mechanism of their own.
const RULES: Rules<'static> = Rules {
    overview_chapters: &["introduction.md", "how-to-use.md"],
};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_book_check_passes() {
    let book = Book::load(root()).unwrap_or_else(|e| panic!("{e}"));
    let findings = check::all(&book, RULES);
    let report: Vec<String> = findings.iter().map(ToString::to_string).collect();
    assert!(
        report.is_empty(),
        "book checks failed:\n{}",
        report.join("\n")
    );
}

#[test]
fn deleting_a_korean_heading_names_the_file_and_line() {
    // Copy the real book, delete the first second-level heading of the Korean introduction, and
    // expect check 1 to point at that page.
    let copy = std::env::temp_dir().join(format!("book-heading-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    for edition in ["ko", "en"] {
        let from = root().join("src").join(edition);
        let to = copy.join("src").join(edition);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
    let page = copy.join("src/ko/introduction.md");
    let text = std::fs::read_to_string(&page).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("## "))
        .expect("a ## heading")
        + 1;
    // The check reports the Korean page's next element, which moves up by the deleted line.
    let original = book_pages::page::Page::parse("x".into(), "x".into(), text.clone()).unwrap();
    let next = original
        .structure()
        .into_iter()
        .map(|(l, _)| l)
        .find(|&l| l > line)
        .expect("an element after the heading");
    let without: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| i + 1 != line)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&page, without.join("\n")).unwrap();

    let findings = check::same_structure(&Book::load(&copy).unwrap());
    std::fs::remove_dir_all(&copy).unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].file, Path::new("src/ko/introduction.md"));
    assert_eq!(findings[0].line, next - 1, "{}", findings[0]);
    assert!(
        findings[0]
            .message
            .contains("level-2 heading at src/en/introduction.md"),
        "{}",
        findings[0]
    );
}
