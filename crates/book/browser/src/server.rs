//! The built book on 127.0.0.1, with a record of every request that found nothing.
//!
//! Its threads end with the process: `book-browser` exits when its pages are done.

use anyhow::Result;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct Server {
    pub port: u16,
    misses: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// The paths requested since the last call that answered 404.
    pub fn take_misses(&self) -> Vec<String> {
        std::mem::take(&mut *self.misses.lock().expect("not poisoned"))
    }
}

/// Serves `dir` on a port the system picks.
pub fn start(dir: PathBuf) -> Result<Server> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let port = listener.local_addr()?.port();
    let misses = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&misses);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dir = dir.clone();
            let record = Arc::clone(&record);
            std::thread::spawn(move || respond(stream, &dir, &record));
        }
    });
    Ok(Server { port, misses })
}

/// A loopback port nobody listens on now, for chromedriver.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

fn respond(mut stream: TcpStream, dir: &Path, misses: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Read the headers, so that closing the connection does not reset it under the browser.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let found = file_for(dir, &target).and_then(|p| Some((std::fs::read(&p).ok()?, p)));
    let (status, kind, body) = match found {
        Some((body, path)) => ("200 OK", content_type(&path), body),
        None => {
            misses.lock().expect("not poisoned").push(target);
            (
                "404 Not Found",
                "text/plain; charset=utf-8",
                b"not found\n".to_vec(),
            )
        }
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
    let full = if full.is_dir() {
        full.join("index.html")
    } else {
        full
    };
    full.is_file().then_some(full)
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
        _ => "text/plain; charset=utf-8",
    }
}
