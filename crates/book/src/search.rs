//! A search index that keeps Korean words.
//!
//! mdBook 0.5.4 indexes with elasticlunr's English pipeline, whose trimmer strips everything
//! outside `[0-9a-z_]` from both ends of a token: every Hangul word is trimmed to nothing and
//! dropped (mdBook issues #1081 and #2393). This module rebuilds the Korean edition's index from the
//! documents mdBook stored in it, with [`KoreanAware`]: the same tokenizer and the same pipeline
//! except that the first step, `trimmer-ko`, trims only what is neither a letter nor a digit in
//! any script. The same step, in JavaScript (`assets/trimmer-ko.js`), is registered at the top of
//! the rewritten `searchindex.js`: searcher.js loads that script only after elasticlunr, so the
//! step is always registered before the index that names it is loaded.

use anyhow::{Context, Result, anyhow};
use book_pages::searchindex;
use elasticlunr::lang::English;
use elasticlunr::lang::Language;
use elasticlunr::pipeline::{FnWrapper, Pipeline};
use elasticlunr::{Index, IndexBuilder};
use serde_json::Value;
use std::path::Path;

/// mdBook's limit: longer tokens are not indexed.
const MAX_WORD_LENGTH_TO_INDEX: usize = 80;

/// The fields mdBook indexes, in its order.
const FIELDS: [&str; 3] = ["title", "body", "breadcrumbs"];

/// elasticlunr's English language with a Unicode-aware trimmer.
struct KoreanAware;

fn trimmer_ko(token: String) -> Option<String> {
    Some(
        token
            .trim_matches(|c: char| !(c.is_alphanumeric() || c == '_'))
            .to_owned(),
    )
}

/// mdBook's tokenizer: split on white space and `-`, lowercase, drop very long tokens.
fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '-')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim().to_lowercase())
        .filter(|s| s.len() <= MAX_WORD_LENGTH_TO_INDEX)
        .collect()
}

impl Language for KoreanAware {
    fn name(&self) -> String {
        "Korean".into()
    }

    fn code(&self) -> String {
        "ko".into()
    }

    fn tokenize(&self, text: &str) -> Vec<String> {
        tokenize(text)
    }

    fn make_pipeline(&self) -> Pipeline {
        let mut pipeline = English::new().make_pipeline();
        pipeline.queue[0] = Box::new(FnWrapper("trimmer-ko".into(), trimmer_ko));
        pipeline
    }
}

/// Rewrites `searchindex.js` with an index that keeps Hangul tokens.
pub fn reindex(searchindex_js: &Path) -> Result<()> {
    let script = std::fs::read_to_string(searchindex_js).context("reading searchindex.js")?;
    let json = searchindex::json(searchindex_js, &script).map_err(|f| anyhow!("{f}"))?;
    let mut json: Value = serde_json::from_str(&json)?;
    let docs = json["index"]["documentStore"]["docs"]
        .as_object()
        .context("the index stores no documents")?;
    let mut refs: Vec<(u64, &Value)> = docs
        .iter()
        .map(|(r, d)| Ok((r.parse::<u64>()?, d)))
        .collect::<Result<_>>()?;
    refs.sort_by_key(|(r, _)| *r);

    let mut builder = IndexBuilder::with_language(Box::new(KoreanAware));
    for field in FIELDS {
        builder = builder.add_field_with_tokenizer(field, Box::new(tokenize));
    }
    let mut index: Index = builder.build();
    for (r, doc) in refs {
        let values = FIELDS.map(|f| doc[f].as_str().unwrap_or_default().to_owned());
        index.add_doc(&r.to_string(), values);
    }
    json["index"] = serde_json::to_value(&index)?;
    let rewritten = searchindex::script(REGISTER_TRIMMER_KO, &serde_json::to_string(&json)?);
    std::fs::write(searchindex_js, rewritten)?;
    Ok(())
}

/// Registers `trimmer-ko` in the browser; prepended to the index script.
const REGISTER_TRIMMER_KO: &str = include_str!("../assets/trimmer-ko.js");
