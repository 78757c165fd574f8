//! Building both editions with mdBook's library crates, in-process.

use crate::assets;
use crate::editions::{EDITIONS, Edition};
use crate::interface;
use crate::preprocess::{EditionSwitch, Outputs, RepositoryLinks};
use crate::search;
use anyhow::{Context, Result};
use mdbook_driver::MDBook;
use mdbook_driver::builtin_preprocessors::{IndexPreprocessor, LinkPreprocessor};
use mdbook_driver::config::Config;
use mdbook_mermaid::Mermaid;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Builds both editions into `out/ko` and `out/en`, and a landing page at `out/index.html`.
pub fn build(root: &Path, out: &Path) -> Result<()> {
    for edition in EDITIONS {
        build_edition(root, out, edition)
            .with_context(|| format!("building the {} edition", edition.code))?;
    }
    std::fs::write(out.join("index.html"), LANDING_PAGE).context("writing the landing page")?;
    Ok(())
}

/// `book.toml` with this edition's source, language, title and output directory.
fn config(root: &Path, out: &Path, edition: Edition) -> Result<Config> {
    let mut config = Config::from_disk(root.join("book.toml")).context("reading book.toml")?;
    let (js, css) = assets::write(root)?;
    config.set("book.src", format!("src/{}", edition.code))?;
    config.set("book.language", edition.code)?;
    config.set("book.title", edition.title)?;
    config.set("build.build-dir", out.join(edition.code))?;
    // The preprocessors are registered below, in the order they must run.
    config.set("build.use-default-preprocessors", false)?;
    config.set("output.html.additional-js", js)?;
    config.set("output.html.additional-css", css)?;
    Ok(config)
}

fn build_edition(root: &Path, out: &Path, edition: Edition) -> Result<()> {
    let targets = Arc::new(Mutex::new(BTreeSet::new()));
    let mut book = MDBook::load_with_config(root, config(root, out, edition)?)?;
    book.with_preprocessor(Outputs { edition })
        .with_preprocessor(LinkPreprocessor::new())
        .with_preprocessor(IndexPreprocessor::new())
        .with_preprocessor(EditionSwitch { edition })
        .with_preprocessor(RepositoryLinks {
            edition,
            targets: Arc::clone(&targets),
        })
        .with_preprocessor(Mermaid);
    book.build()?;

    let dest = out.join(edition.code);
    for target in targets.lock().expect("not poisoned").iter() {
        copy_linked(root, &dest.join("repo"), target)
            .with_context(|| format!("copying {}", target.display()))?;
    }
    if edition.code == "ko" {
        search::reindex(&dest.join("searchindex.js")).context("indexing Hangul")?;
        interface::translate(&dest).context("putting the interface in Korean")?;
    }
    Ok(())
}

/// Puts a repository file a page links to under `repo/`: sources as they are, and Markdown
/// rendered to HTML at the `.html` path mdBook's link rewriting points to.
fn copy_linked(root: &Path, repo: &Path, target: &Path) -> Result<()> {
    let source = std::fs::read_to_string(root.join(target))?;
    let copy = repo.join(target);
    std::fs::create_dir_all(copy.parent().expect("a file has a parent"))?;
    if target.extension().is_some_and(|e| e == "md") {
        let mut options = comrak::Options::default();
        options.extension.table = true;
        let body = comrak::markdown_to_html(&source, &options);
        let page = format!(
            "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{body}</body>\n</html>\n",
            target.display()
        );
        std::fs::write(copy.with_extension("html"), page)?;
    } else {
        std::fs::write(copy, source)?;
    }
    Ok(())
}

/// The page `cargo book serve` opens first: both titles, a paragraph in each language and the way
/// into each edition, in mdBook's colours and fonts (it links the English edition's theme files,
/// and follows the theme the reader chose in the book).
const LANDING_PAGE: &str = include_str!("../assets/landing.html");
