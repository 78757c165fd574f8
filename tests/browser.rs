//! The book in a real browser: every chapter of both editions and the landing page, opened in
//! headless Chromium at a desktop's width (1280 px) and a phone's (390 px).
//!
//! The browser is driven by `book-browser` (`crates/book/browser`), a member of the book tool's own
//! workspace: it serves the built book on 127.0.0.1, drives Chromium through Debian's
//! chromedriver with fantoccini, writes screenshots and prints what it found as JSON; the tests
//! below judge that report. The client lives there and not among this package's dev-dependencies
//! because of compile cost and sharing: it adds about 30 s (40 s of CPU) to the book tool's build,
//! which CI pays anyway for `tests/book_build.rs`, and nothing to this workspace, whose lock file
//! and `cargo clippy --all-targets` every other test and crate share.
//!
//! Screenshots, for a reviewer to look at every page: `target/browser-screenshots/{ko,en}/` holds
//! `PAGE-1280.png` and `PAGE-390.png` (the whole page at each width) and `PAGE-search.png` (the
//! search results for the word of its heading); `index-{1280,390}.png` and `index-dark-1280.png`
//! are the landing page.
//!
//! Without Chromium and chromedriver the tests say how to install them and pass, except under CI
//! (`CI` set), where `.ci/run` installs them and their absence is a failure.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const INSTALL: &str = "apt-get install chromium chromium-driver fonts-nanum";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn cargo_in_book_workspace() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .current_dir(root())
        // The book tool's own target directory, as in tests/book_build.rs: never wait on the lock
        // of the build running this test.
        .env("CARGO_TARGET_DIR", root().join("crates/book/target"));
    command
}

/// The chapters both summaries list, as `ko/NAME.html` and `en/NAME.html`, after the landing page.
fn pages() -> Vec<String> {
    let summary = std::fs::read_to_string(root().join("src/en/SUMMARY.md")).unwrap();
    let chapters: Vec<PathBuf> = book_pages::page::summary(&summary)
        .into_iter()
        .map(|e| e.chapter.with_extension("html"))
        .collect();
    let mut pages = vec!["index.html".to_owned()];
    for edition in ["ko", "en"] {
        pages.extend(
            chapters
                .iter()
                .map(|c| format!("{edition}/{}", c.display())),
        );
    }
    pages
}

/// The browser's report, once for all tests in this file; `None` when there is no browser.
fn report() -> Option<&'static Value> {
    static REPORT: OnceLock<Option<Value>> = OnceLock::new();
    REPORT
        .get_or_init(|| {
            if !(on_path("chromium") || on_path("chromium-browser")) || !on_path("chromedriver") {
                let missing = "Chromium or chromedriver is not installed";
                assert!(
                    std::env::var_os("CI").is_none(),
                    "{missing}: under CI the browser tests must run (.ci/run runs {INSTALL})"
                );
                let _ = writeln!(
                    std::io::stderr(),
                    "browser tests skipped: {missing} (on Debian and Ubuntu: {INSTALL})"
                );
                return None;
            }
            let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
            let book = tmp.join("browser-book");
            let status = cargo_in_book_workspace()
                .args([
                    "run",
                    "--quiet",
                    "--manifest-path",
                    "crates/book/Cargo.toml",
                ])
                .args(["--", "build", "--out"])
                .arg(&book)
                .status()
                .expect("cargo runs");
            assert!(status.success(), "the book tool failed to build the book");

            let shots = tmp.parent().unwrap().join("browser-screenshots");
            let _ = std::fs::remove_dir_all(&shots);
            let output = cargo_in_book_workspace()
                .args([
                    "run",
                    "--quiet",
                    "--manifest-path",
                    "crates/book/Cargo.toml",
                ])
                .args(["-p", "book-browser", "--"])
                .arg(&book)
                .arg(&shots)
                .args(pages())
                .stderr(Stdio::inherit())
                .output()
                .expect("cargo runs");
            assert!(output.status.success(), "book-browser failed");
            let report: Value = serde_json::from_slice(&output.stdout).unwrap();
            let _ = writeln!(
                std::io::stderr(),
                "browser tests: {} pages at two widths in {:.1} s; screenshots in {}",
                pages().len(),
                report["seconds"].as_f64().unwrap(),
                shots.display()
            );
            Some(report)
        })
        .as_ref()
}

fn each_page() -> impl Iterator<Item = &'static Value> {
    report()
        .into_iter()
        .flat_map(|r| r["pages"].as_array().unwrap())
}

fn chapter_pages() -> impl Iterator<Item = &'static Value> {
    each_page().filter(|p| p["page"].as_str().unwrap().contains('/'))
}

fn name(page: &Value) -> &str {
    page["page"].as_str().unwrap()
}

/// The console entries at the level of an error.
fn errors(entries: &Value) -> Vec<&Value> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .collect()
}

#[test]
fn pages_load_without_javascript_errors() {
    for page in each_page() {
        for entries in [
            &page["console"],
            &page["console_after"],
            &page["phone"]["console"],
        ] {
            let errors = errors(entries);
            assert!(errors.is_empty(), "{}: {errors:?}", name(page));
        }
    }
}

#[test]
fn every_mermaid_block_is_drawn() {
    let mut diagrams = 0;
    for page in each_page() {
        let blocks = page["mermaid_blocks"].as_u64().unwrap();
        let rendered = &page["rendered"];
        assert_eq!(
            rendered["svgs"].as_u64().unwrap(),
            blocks,
            "{}: mermaid blocks in the HTML against SVGs drawn",
            name(page)
        );
        assert_eq!(rendered["errors"], 0, "{}", name(page));
        assert_eq!(rendered["syntax_error"], false, "{}", name(page));
        diagrams += blocks;
    }
    if report().is_some() {
        assert!(diagrams > 0, "no diagram anywhere: the count is wrong");
    }
}

#[test]
fn every_link_and_resource_resolves() {
    for page in each_page() {
        let links = &page["links"];
        assert!(links["checked"].as_u64().unwrap() > 0, "{}", name(page));
        assert_eq!(links["broken"], Value::Array(vec![]), "{}", name(page));
        for missing in ["missing", "missing_after"] {
            assert_eq!(
                page[missing],
                Value::Array(vec![]),
                "{}: requests that found nothing",
                name(page)
            );
        }
    }
}

#[test]
fn every_image_loads() {
    for page in each_page() {
        let rendered = &page["rendered"];
        assert_eq!(
            rendered["broken_images"],
            Value::Array(vec![]),
            "{}",
            name(page)
        );
    }
}

#[test]
fn the_edition_switch_sits_top_right_and_lands_on_the_twin() {
    for page in chapter_pages() {
        let (edition, chapter) = name(page).split_once('/').unwrap();
        let twin = if edition == "ko" { "en" } else { "ko" };
        let switch = &page["switch"];
        assert_eq!(switch["top_right"], true, "{}: {switch}", name(page));
        assert_eq!(
            switch["landed"]["path"],
            format!("/{twin}/{chapter}"),
            "{}",
            name(page)
        );
        assert_eq!(switch["landed"]["lang"], twin, "{}", name(page));
    }
}

#[test]
fn a_word_of_the_first_heading_finds_its_page() {
    for page in chapter_pages() {
        let search = &page["search"];
        let results: Vec<&str> = search["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        let path = format!("/{}", name(page));
        assert!(
            results.contains(&path.as_str()),
            "{}: searching {} (from {}) found {results:?}",
            name(page),
            search["word"],
            search["heading"]
        );
    }
}

/// True if the text has a Hangul syllable.
fn hangul(text: &str) -> bool {
    text.chars().any(|c| ('가'..='힣').contains(&c))
}

#[test]
fn the_korean_interface_is_korean_and_the_english_is_english() {
    for page in chapter_pages() {
        let korean = name(page).starts_with("ko/");
        let search = &page["search"];
        let ui = &page["interface"];
        let mut strings: Vec<(&str, &Value)> = vec![
            ("results header", &search["header"]),
            ("no results header", &search["no_results_header"]),
            ("search placeholder", &ui["placeholder"]),
            ("keyboard help", &ui["help"]),
            ("table of contents", &ui["table_of_contents"]),
        ];
        for button in ["sidebar", "theme", "search", "print", "previous", "next"] {
            if !ui[button].is_null() {
                strings.push((button, &ui[button]["title"]));
                strings.push((button, &ui[button]["label"]));
            }
        }
        for (what, text) in strings {
            let text = text
                .as_str()
                .unwrap_or_else(|| panic!("{}: no {what}", name(page)));
            assert_eq!(hangul(text), korean, "{}: {what} is {text:?}", name(page));
        }
        // The print page's title is the edition's title.
        assert_eq!(hangul(ui["print_page"].as_str().unwrap()), korean);
        let (header, nothing) = (&search["header"], &search["no_results_header"]);
        if korean {
            assert!(header.as_str().unwrap().contains("검색 결과"), "{header}");
            assert!(nothing.as_str().unwrap().contains("결과 없음"), "{nothing}");
        } else {
            assert!(
                header.as_str().unwrap().contains("search result"),
                "{header}"
            );
            assert!(
                nothing.as_str().unwrap().starts_with("No search results"),
                "{nothing}"
            );
            assert_eq!(ui["search"]["label"], "Toggle Searchbar");
        }
    }
}

#[test]
fn screenshots_are_written_and_prose_fits_a_phone() {
    for page in each_page() {
        let shots = [
            &page["screenshot"],
            &page["phone"]["screenshot"],
            &page["search"]["screenshot"],
            &page["dark_screenshot"],
        ];
        for shot in shots.into_iter().filter(|s| !s.is_null()) {
            let path = Path::new(shot.as_str().unwrap());
            let png = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(png.starts_with(b"\x89PNG"), "{}", path.display());
        }
        let overflow = &page["phone"]["overflow"];
        assert_eq!(
            overflow["width"],
            390,
            "{}: not a phone's width",
            name(page)
        );
        assert_eq!(
            overflow["overflowing"],
            Value::Array(vec![]),
            "{}: prose wider than the phone's screen",
            name(page)
        );
        assert_eq!(overflow["document_width"], 390, "{}", name(page));
    }
}

#[test]
fn the_landing_page_leads_into_both_editions() {
    let Some(landing) = each_page().find(|p| p["page"] == "index.html") else {
        return;
    };
    let entrances = landing["entrances"].as_array().unwrap();
    let landed: Vec<(&Value, &Value)> = entrances
        .iter()
        .map(|e| (&e["landed"]["path"], &e["landed"]["lang"]))
        .collect();
    assert_eq!(
        landed,
        [
            (&Value::from("/ko/index.html"), &Value::from("ko")),
            (&Value::from("/en/index.html"), &Value::from("en")),
        ]
    );
    // Each way in is written in its edition's language.
    assert!(hangul(entrances[0]["text"].as_str().unwrap()));
    assert!(!hangul(entrances[1]["text"].as_str().unwrap()));
}
