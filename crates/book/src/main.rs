//! `book`: builds the Korean and English editions in-process with mdBook's library crates, and
//! serves them while you write.
//!
//! ```text
//! cargo book build [--out DIR]    # both editions into book/ (or DIR), plus a landing page
//! cargo book serve [--port N]     # build, serve on http://127.0.0.1:N/, rebuild on change
//! ```
//! `cargo book` is an alias (see `.cargo/config.toml`) for running this crate.

mod assets;
mod editions;
mod interface;
mod preprocess;
mod render;
mod search;
mod serve;

use anyhow::{Context, Result, bail};
use std::path::PathBuf;

const USAGE: &str = "usage: book build [--root DIR] [--out DIR]
       book serve [--root DIR] [--out DIR] [--port N]";

/// What the command line asks for.
struct Args {
    command: String,
    root: PathBuf,
    out: Option<PathBuf>,
    port: u16,
}

fn parse_args() -> Result<Args> {
    let mut raw = std::env::args().skip(1);
    let command = raw.next().context(USAGE)?;
    let mut args = Args {
        command,
        // The repository this tool lives in: crates/book/../..
        root: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")),
        out: None,
        port: 3000,
    };
    while let Some(flag) = raw.next() {
        let value = raw
            .next()
            .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--root" => args.root = PathBuf::from(value),
            "--out" => args.out = Some(PathBuf::from(value)),
            "--port" => args.port = value.parse().with_context(|| format!("bad port {value}"))?,
            other => bail!("unknown option {other}\n{USAGE}"),
        }
    }
    args.root = args.root.canonicalize().context("the book root")?;
    Ok(args)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let out = args.out.clone().unwrap_or_else(|| args.root.join("book"));
    match args.command.as_str() {
        "build" => {
            render::build(&args.root, &out)?;
            println!("built both editions into {}", out.display());
            Ok(())
        }
        "serve" => serve::serve(&args.root, &out, args.port),
        other => bail!("unknown command {other}\n{USAGE}"),
    }
}
