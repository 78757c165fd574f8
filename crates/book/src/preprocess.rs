//! The book's own preprocessors, run in-process beside mdBook's `links` and `index`.
//!
//! Order (set in `render.rs`): [`Outputs`] first, so that an escaped `\{{#snapshot …}}` is still
//! escaped when it reaches it; then mdBook's `links` and `index`; then [`EditionSwitch`],
//! [`RepositoryLinks`] and mermaid.

use crate::editions::Edition;
use anyhow::{Result, anyhow};
use book_pages::check::resolve;
use book_pages::expand::{Language, expand};
use mdbook_preprocessor::book::{Book, Chapter};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};
use regex::Regex;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

/// Applies `f` to every chapter that has a file, stopping at the first error.
fn each_chapter(
    book: &mut Book,
    mut f: impl FnMut(&mut Chapter, &Path) -> Result<()>,
) -> Result<()> {
    let mut first_error = None;
    book.for_each_chapter_mut(|chapter| {
        if first_error.is_some() {
            return;
        }
        if let Some(path) = chapter.path.clone()
            && let Err(e) = f(chapter, &path)
        {
            first_error = Some(e);
        }
    });
    first_error.map_or(Ok(()), Err)
}

/// `../` once per directory between the chapter and its edition's root.
fn up_to_root(chapter: &Path) -> String {
    "../".repeat(chapter.components().count().saturating_sub(1))
}

/// Expands `{{#snapshot}}`, `{{#capture}}` and `{{#capture-table}}` from files under the root.
pub struct Outputs {
    pub edition: Edition,
}

impl Preprocessor for Outputs {
    fn name(&self) -> &str {
        "outputs"
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> Result<Book> {
        let lang = Language::from_code(self.edition.code);
        each_chapter(&mut book, |chapter, path| {
            let page = Path::new("src").join(self.edition.code).join(path);
            chapter.content =
                expand(&ctx.root, &page, &chapter.content, lang).map_err(|f| anyhow!("{f}"))?;
            Ok(())
        })?;
        Ok(book)
    }
}

/// Puts a link to the same page in the other edition at the top of every page.
pub struct EditionSwitch {
    pub edition: Edition,
}

impl Preprocessor for EditionSwitch {
    fn name(&self) -> &str {
        "edition-switch"
    }

    fn run(&self, _ctx: &PreprocessorContext, mut book: Book) -> Result<Book> {
        let twin = self.edition.twin();
        each_chapter(&mut book, |chapter, path| {
            let href = format!(
                "{}../{}/{}",
                up_to_root(path),
                twin.code,
                path.with_extension("html").display()
            );
            chapter.content = format!(
                "<p class=\"edition-switch\"><a href=\"{href}\" hreflang=\"{code}\" lang=\"{code}\">{name}</a></p>\n\n{}",
                chapter.content,
                code = twin.code,
                name = twin.name,
            );
            Ok(())
        })?;
        Ok(book)
    }
}

static INLINE_LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\]\((\.\./[^)\s]*)\)").expect("valid regex"));

/// Points links that leave the book's sources (to a crate, an example) at copies inside the
/// rendered book, under `repo/`, so they work in a browser; a directory link leads to its README.
///
/// The files to copy are collected in [`RepositoryLinks::targets`]; `render.rs` copies them after
/// mdBook has written the edition (mdBook empties the output directory first).
pub struct RepositoryLinks {
    pub edition: Edition,
    pub targets: Arc<Mutex<BTreeSet<PathBuf>>>,
}

impl Preprocessor for RepositoryLinks {
    fn name(&self) -> &str {
        "repository-links"
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> Result<Book> {
        each_chapter(&mut book, |chapter, path| {
            let dir = Path::new("src").join(self.edition.code).join(path);
            let dir = dir.parent().unwrap_or(Path::new(""));
            let rewritten =
                INLINE_LINK.replace_all(&chapter.content, |caps: &regex::Captures<'_>| {
                    let url = &caps[1];
                    match self.repository_file(&ctx.root, dir, url) {
                        Some(target) => {
                            let href = format!("{}repo/{}", up_to_root(path), target.display());
                            self.targets.lock().expect("not poisoned").insert(target);
                            format!("]({href})")
                        }
                        None => caps[0].to_owned(),
                    }
                });
            chapter.content = rewritten.into_owned();
            Ok(())
        })?;
        Ok(book)
    }
}

impl RepositoryLinks {
    /// The root-relative file a link leaving `src/` shows, if it names one in the repository.
    fn repository_file(&self, root: &Path, dir: &Path, url: &str) -> Option<PathBuf> {
        let target = resolve(dir, url)?;
        if target.starts_with("src") || target.starts_with("..") {
            return None;
        }
        let on_disk = root.join(&target);
        if on_disk.is_dir() {
            let readme = target.join("README.md");
            return root.join(&readme).is_file().then_some(readme);
        }
        on_disk.is_file().then_some(target)
    }
}
