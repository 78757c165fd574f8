//! A small static server for the built book, rebuilding when its sources change.
//!
//! It listens on 127.0.0.1 only. Every half second it compares the newest modification time
//! under `src/`, `examples/`, `tests/snapshots/`, `tests/captures/`, the crates' sources and
//! `book.toml` with the last build's, and rebuilds when anything moved.

use crate::render;
use anyhow::{Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

const WATCHED: [&str; 6] = [
    "src",
    "examples",
    "tests/snapshots",
    "tests/captures",
    "crates",
    "book.toml",
];

pub fn serve(root: &Path, out: &Path, port: u16) -> Result<()> {
    render::build(root, out)?;
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    println!("serving the book at http://127.0.0.1:{port}/ (Ctrl-C stops)");
    let served = out.to_path_buf();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dir = served.clone();
            std::thread::spawn(move || respond(stream, &dir));
        }
    });
    watch(root, out)
}

fn watch(root: &Path, out: &Path) -> Result<()> {
    let mut built = newest(root);
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = newest(root);
        if now > built {
            built = now;
            match render::build(root, out) {
                Ok(()) => println!("rebuilt"),
                Err(e) => eprintln!("build failed: {e:#}"),
            }
        }
    }
}

/// The newest modification time among the watched files (skipping build output).
fn newest(root: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut stack: Vec<PathBuf> = WATCHED.iter().map(|w| root.join(w)).collect();
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if let Ok(modified) = meta.modified() {
            newest = newest.max(modified);
        }
    }
    newest
}

fn respond(mut stream: TcpStream, dir: &Path) {
    let mut request_line = String::new();
    if BufReader::new(&stream)
        .read_line(&mut request_line)
        .is_err()
    {
        return;
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (status, kind, body) =
        match file_for(dir, target).and_then(|p| Some((std::fs::read(&p).ok()?, p))) {
            Some((body, path)) => ("200 OK", content_type(&path), body),
            None => (
                "404 Not Found",
                "text/plain; charset=utf-8",
                b"not found\n".to_vec(),
            ),
        };
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(header.as_bytes());
    let _ = stream.write_all(&body);
}

/// The file a request path names under `dir`, refusing anything that climbs out of it.
fn file_for(dir: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?.trim_start_matches('/');
    let path = percent_decode(path)?;
    let relative = Path::new(&path);
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let full = dir.join(relative);
    Some(if full.is_dir() {
        full.join("index.html")
    } else {
        full
    })
}

fn percent_decode(s: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(s.len());
    let mut rest = s.bytes();
    while let Some(b) = rest.next() {
        if b == b'%' {
            let hex = [rest.next()?, rest.next()?];
            bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        _ => "text/plain; charset=utf-8", // sources linked from the book: .rs, .py, .md, .toml
    }
}
