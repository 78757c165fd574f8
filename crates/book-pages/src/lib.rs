//! The book's pages as data.
//!
//! The book has two editions, `src/ko/` and `src/en/`, with the same file names at the same depth.
//! Pages pull their code and their outputs from files through directives (see [`directive`]), so no
//! output is ever typed by hand. This crate knows how to read those files ([`snapshot`],
//! [`capture`]), how to expand the directives ([`expand`]), and how to check a whole book
//! ([`check`]). Both the book tool and the test suite use it, so the rules they apply are the same.
#![forbid(unsafe_code)]

pub mod capture;
pub mod check;
pub mod directive;
pub mod expand;
pub mod page;
pub mod searchindex;
pub mod snapshot;

use std::fmt;
use std::path::{Path, PathBuf};

/// Something wrong at a place in a file: the unit of every error and finding in this crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file, as given (relative to the book root where possible).
    pub file: PathBuf,
    /// 1-based line; 0 when the problem is the file as a whole.
    pub line: usize,
    /// What is wrong, in one sentence.
    pub message: String,
}

impl Finding {
    pub fn new(file: impl AsRef<Path>, line: usize, message: impl Into<String>) -> Self {
        Finding {
            file: file.as_ref().to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

impl std::error::Error for Finding {}

/// Reads a file to a string, turning an I/O error into a [`Finding`] about that file.
pub fn read(path: &Path) -> Result<String, Finding> {
    std::fs::read_to_string(path).map_err(|e| Finding::new(path, 0, format!("cannot read: {e}")))
}
