//! A page read with comrak: its headings, fenced code, links and directives, each with its line.
//!
//! The same reading serves the book checks, which compare what the Korean and English pages
//! *contain* (heading levels, code languages, directives) rather than what they say.

use crate::directive::{self, Directive};
use crate::{Finding, read};
use comrak::nodes::{AstNode, NodeValue};
use comrak::{Arena, Options, parse_document};
use std::path::{Path, PathBuf};

/// The two editions, in the order the checks name them.
pub const EDITIONS: [&str; 2] = ["ko", "en"];

/// A fenced or indented code block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBlock {
    pub line: usize,
    /// The first word of the info string (`rust`, `text`, `mermaid`…), empty when none.
    pub lang: String,
    pub literal: String,
}

/// A link or image target as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub line: usize,
    pub url: String,
}

/// One element of a page's structure, the part both editions must share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Heading(u8),
    Code(String),
    Directive(String),
}

/// A parsed page.
#[derive(Debug, Clone)]
pub struct Page {
    /// Path relative to the book root (`src/ko/intro.md`), used in every message.
    pub file: PathBuf,
    /// Path relative to its edition's source directory (`intro.md`): the same in both editions.
    pub chapter: PathBuf,
    pub text: String,
    pub headings: Vec<(usize, u8)>,
    pub code: Vec<CodeBlock>,
    pub links: Vec<Link>,
    pub directives: Vec<Directive>,
}

fn options() -> Options<'static> {
    let mut options = Options::default();
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.footnotes = true;
    options
}

impl Page {
    /// Reads `root/src/<edition>/<chapter>`.
    pub fn load(root: &Path, edition: &str, chapter: &Path) -> Result<Page, Finding> {
        let file = Path::new("src").join(edition).join(chapter);
        let text = read(&root.join(&file)).map_err(|f| Finding {
            file: file.clone(),
            ..f
        })?;
        Page::parse(file, chapter.to_path_buf(), text)
    }

    /// Parses page text; `file` names it in messages.
    pub fn parse(file: PathBuf, chapter: PathBuf, text: String) -> Result<Page, Finding> {
        let directives = directive::parse(&file, &text)?;
        let arena = Arena::new();
        let root = parse_document(&arena, &text, &options());
        let mut page = Page {
            file,
            chapter,
            headings: Vec::new(),
            code: Vec::new(),
            links: Vec::new(),
            directives,
            text: String::new(),
        };
        for node in root.descendants() {
            page.record(node);
        }
        page.text = text;
        Ok(page)
    }

    fn record<'a>(&mut self, node: &'a AstNode<'a>) {
        let ast = node.data.borrow();
        let line = ast.sourcepos.start.line;
        match &ast.value {
            NodeValue::Heading(h) => self.headings.push((line, h.level)),
            NodeValue::CodeBlock(c) => self.code.push(CodeBlock {
                line,
                lang: c.info.split_whitespace().next().unwrap_or("").to_owned(),
                literal: c.literal.clone(),
            }),
            NodeValue::Link(l) | NodeValue::Image(l) => self.links.push(Link {
                line,
                url: l.url.clone(),
            }),
            _ => {}
        }
    }

    /// Headings, code languages and directives in page order: what the editions must share.
    pub fn structure(&self) -> Vec<(usize, Item)> {
        let mut items: Vec<(usize, usize, Item)> = Vec::new();
        items.extend(
            self.headings
                .iter()
                .map(|&(l, lv)| (l, 0, Item::Heading(lv))),
        );
        items.extend(
            self.code
                .iter()
                .map(|c| (c.line, 0, Item::Code(c.lang.clone()))),
        );
        // A directive sits inside its code block: order it after the block's opening line.
        items.extend(
            self.directives
                .iter()
                .map(|d| (d.line, 1, Item::Directive(d.source_form()))),
        );
        items.sort_by_key(|&(line, rank, _)| (line, rank));
        items.into_iter().map(|(l, _, i)| (l, i)).collect()
    }

    /// The directory the page's relative links start from.
    pub fn dir(&self) -> &Path {
        self.file.parent().unwrap_or(Path::new(""))
    }
}

/// A chapter listed in `SUMMARY.md`: its nesting depth and its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: usize,
    pub depth: usize,
    pub chapter: PathBuf,
}

/// The chapters `SUMMARY.md` lists, in order.
pub fn summary(text: &str) -> Vec<Entry> {
    let arena = Arena::new();
    let root = parse_document(&arena, text, &options());
    let mut entries = Vec::new();
    for node in root.descendants() {
        let ast = node.data.borrow();
        if let NodeValue::Link(l) = &ast.value
            && !l.url.is_empty()
        {
            let depth = node
                .ancestors()
                .filter(|a| matches!(a.data.borrow().value, NodeValue::List(_)))
                .count();
            entries.push(Entry {
                line: ast.sourcepos.start.line,
                depth,
                chapter: PathBuf::from(&l.url),
            });
        }
    }
    entries
}

/// Both editions: their summaries and pages.
#[derive(Debug, Clone)]
pub struct Book {
    pub root: PathBuf,
    /// Per edition, in [`EDITIONS`] order: the summary entries and the pages they list.
    pub editions: Vec<Edition>,
}

#[derive(Debug, Clone)]
pub struct Edition {
    pub code: &'static str,
    pub summary_file: PathBuf,
    pub entries: Vec<Entry>,
    pub pages: Vec<Page>,
}

impl Book {
    /// Reads both editions. A listed chapter that is missing or malformed is an error.
    pub fn load(root: &Path) -> Result<Book, Finding> {
        let mut editions = Vec::new();
        for code in EDITIONS {
            let summary_file = Path::new("src").join(code).join("SUMMARY.md");
            let text = read(&root.join(&summary_file)).map_err(|f| Finding {
                file: summary_file.clone(),
                ..f
            })?;
            let entries = summary(&text);
            let pages = entries
                .iter()
                .map(|e| Page::load(root, code, &e.chapter))
                .collect::<Result<Vec<_>, _>>()?;
            editions.push(Edition {
                code,
                summary_file,
                entries,
                pages,
            });
        }
        Ok(Book {
            root: root.to_path_buf(),
            editions,
        })
    }

    /// Every page of both editions.
    pub fn pages(&self) -> impl Iterator<Item = &Page> {
        self.editions.iter().flat_map(|e| e.pages.iter())
    }
}
