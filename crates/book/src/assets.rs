//! The JavaScript and CSS the book adds to mdBook's theme.
//!
//! mdBook copies `output.html.additional-js` files from paths relative to the book root, so the
//! tool writes them under `target/book-assets/` (ignored by git) before each build. Mermaid comes
//! from the pinned mdbook-mermaid package (see `build.rs`); the style sheets and `mermaid-fit.js`
//! are this crate's own.

use anyhow::{Context, Result};
use std::path::Path;

/// Root-relative directory the assets are written to.
pub const DIR: &str = "target/book-assets";

const MERMAID: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/mermaid.min.js"));
const MERMAID_INIT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/mermaid-init.js"));
const EDITION_SWITCH: &[u8] = include_bytes!("../assets/edition-switch.css");
const KOREAN: &[u8] = include_bytes!("../assets/korean.css");
const MERMAID_FIT: &[u8] = include_bytes!("../assets/mermaid-fit.js");

/// Writes the assets and returns the `additional-js` and `additional-css` lists.
pub fn write(root: &Path) -> Result<(Vec<String>, Vec<String>)> {
    let dir = root.join(DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let files: [(&str, &[u8]); 5] = [
        ("mermaid.min.js", MERMAID),
        ("mermaid-init.js", MERMAID_INIT),
        ("mermaid-fit.js", MERMAID_FIT),
        ("edition-switch.css", EDITION_SWITCH),
        ("korean.css", KOREAN),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).with_context(|| format!("writing {name}"))?;
    }
    let path = |name: &str| format!("{DIR}/{name}");
    let js = vec![
        path("mermaid.min.js"),
        path("mermaid-init.js"),
        path("mermaid-fit.js"),
    ];
    let css = vec![path("edition-switch.css"), path("korean.css")];
    Ok((js, css))
}
