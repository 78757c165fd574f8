//! The two editions: same file names at the same depth, so a page's twin is found by path alone.

/// One edition of the book.
#[derive(Debug, Clone, Copy)]
pub struct Edition {
    /// `book.language`, the `src/` subdirectory and the output subdirectory.
    pub code: &'static str,
    pub title: &'static str,
    /// The name of this edition in its own language, for the link that leads to it.
    pub name: &'static str,
}

pub const EDITIONS: [Edition; 2] = [
    Edition {
        code: "ko",
        title: "러스트로 다시 짓는 CPython 메모리 관리",
        name: "한국어",
    },
    Edition {
        code: "en",
        title: "CPython's Memory, Rebuilt in Rust",
        name: "English",
    },
];

impl Edition {
    /// The other edition.
    pub fn twin(&self) -> Edition {
        *EDITIONS
            .iter()
            .find(|e| e.code != self.code)
            .expect("two editions")
    }
}
