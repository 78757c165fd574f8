//! `book-browser`: opens pages of the built book in headless Chromium, as a reader would, and
//! prints what it found as one JSON document on standard output. The assertions are in the
//! repository's `tests/browser.rs`, which builds the book and runs this program.
//!
//! ```text
//! book-browser BOOK_DIR SCREENSHOT_DIR PAGE...
//! ```
//!
//! Each PAGE is a path under BOOK_DIR: `index.html` (the landing page) or `ko/NAME.html` and
//! `en/NAME.html` (chapters). The program serves BOOK_DIR on 127.0.0.1 at a port the system picks,
//! starts Debian's `chromedriver` on another loopback port, and drives Chromium through WebDriver
//! (fantoccini). Where WebDriver has no command it uses chromedriver's own endpoints: the
//! browser's console log (`se/log`) and the DevTools protocol (`goog/cdp/execute`) for the phone's
//! screen and full-page screenshots. Everything it starts ends with it.

mod server;

use anyhow::{Context, Result, bail};
use base64::Engine;
use fantoccini::wd::{TimeoutConfiguration, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The two screen widths every page is looked at with: a desktop and a phone.
const DESKTOP: Screen = Screen {
    width: 1280,
    height: 800,
    mobile: false,
};
const PHONE: Screen = Screen {
    width: 390,
    height: 844,
    mobile: true,
};

/// A word no page contains, for the search's "no results" header.
const NOWHERE: &str = "zqxjvw";

#[derive(Clone, Copy)]
struct Screen {
    width: u32,
    height: u32,
    mobile: bool,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [book, shots, pages @ ..] = args.as_slice() else {
        bail!("usage: book-browser BOOK_DIR SCREENSHOT_DIR PAGE...");
    };
    let started = Instant::now();
    let book = Path::new(book)
        .canonicalize()
        .context("the book directory")?;
    let shots = PathBuf::from(shots);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut report = runtime.block_on(run(&book, &shots, pages))?;
    report["seconds"] = json!(started.elapsed().as_secs_f64());
    println!("{report}");
    Ok(())
}

async fn run(book: &Path, shots: &Path, pages: &[String]) -> Result<Value> {
    let server = server::start(book.to_path_buf())?;
    let driver = Driver::start()?;
    let client = driver.connect().await?;
    let browser = Browser {
        client,
        base: format!("http://127.0.0.1:{}/", server.port),
        server,
        book: book.to_path_buf(),
        shots: shots.to_path_buf(),
    };
    let result = browser.visit_all(pages).await;
    // Close the session even when a page failed, so that Chromium does not outlive us.
    let _ = browser.client.close().await;
    drop(driver);
    result
}

/// The longest a whole run may take; past it the program kills chromedriver and exits, so that
/// a hung browser never hangs the tests.
const LIMIT: Duration = Duration::from_secs(300);

/// `chromedriver` on a loopback port, killed when dropped or when the run exceeds [`LIMIT`].
struct Driver {
    child: Arc<Mutex<Child>>,
    port: u16,
}

impl Driver {
    fn start() -> Result<Driver> {
        let port = server::free_port()?;
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver (apt-get install chromium chromium-driver)")?;
        let child = Arc::new(Mutex::new(child));
        let watched = Arc::clone(&child);
        std::thread::spawn(move || {
            std::thread::sleep(LIMIT);
            eprintln!("book-browser: still running after {LIMIT:?}; stopping");
            if let Ok(mut child) = watched.lock() {
                let _ = child.kill();
            }
            std::process::exit(2);
        });
        let driver = Driver { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("chromedriver did not listen on 127.0.0.1:{port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    async fn connect(&self) -> Result<Client> {
        let chrome = serde_json::Map::from_iter([
            (
                "args".to_owned(),
                json!([
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    "--force-device-scale-factor=1",
                    "--window-size=1280,800",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-extensions",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-features=Translate,OptimizationHints,MediaRouter",
                ]),
            ),
            ("binary".to_owned(), json!(chromium()?)),
        ]);
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), Value::Object(chrome));
        capabilities.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}/", self.port))
            .await
            .context("starting Chromium through chromedriver")?;
        let second = |n| Some(Duration::from_secs(n));
        client
            .update_timeouts(TimeoutConfiguration::new(second(30), second(30), second(0)))
            .await?;
        Ok(client)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(mut child) = self.child.lock() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The Chromium binary on the PATH.
fn chromium() -> Result<String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate.display().to_string());
            }
        }
    }
    bail!("no Chromium on the PATH (apt-get install chromium)")
}

/// A chromedriver command fantoccini has no method for: POST `session/ID/PATH` with a JSON body.
#[derive(Debug)]
struct Raw {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for Raw {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

struct Browser {
    client: Client,
    base: String,
    server: server::Server,
    book: PathBuf,
    shots: PathBuf,
}

impl Browser {
    async fn visit_all(&self, pages: &[String]) -> Result<Value> {
        let mut reports = Vec::new();
        self.screen(DESKTOP).await?;
        for page in pages {
            let report = self
                .desktop(page)
                .await
                .with_context(|| format!("{page} at {} px", DESKTOP.width))?;
            reports.push(report);
        }
        self.screen(PHONE).await?;
        for (page, report) in pages.iter().zip(&mut reports) {
            report["phone"] = self
                .phone(page)
                .await
                .with_context(|| format!("{page} at {} px", PHONE.width))?;
        }
        Ok(json!({ "pages": reports }))
    }

    fn url(&self, page: &str) -> String {
        format!("{}{page}", self.base)
    }

    /// Emulates a screen: its width and height in CSS pixels, and whether it is a phone's (which
    /// makes Chromium honour the page's viewport meta tag, as a phone does).
    async fn screen(&self, screen: Screen) -> Result<()> {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": screen.width,
                "height": screen.height,
                "deviceScaleFactor": 1,
                "mobile": screen.mobile,
            }),
        )
        .await?;
        Ok(())
    }

    async fn cdp(&self, cmd: &str, params: Value) -> Result<Value> {
        self.client
            .issue_cmd(Raw {
                path: "goog/cdp/execute",
                body: json!({ "cmd": cmd, "params": params }),
            })
            .await
            .with_context(|| format!("DevTools {cmd}"))
    }

    /// The console messages since the last call (chromedriver empties its buffer on each read).
    async fn console(&self) -> Result<Value> {
        let entries = self
            .client
            .issue_cmd(Raw {
                path: "se/log",
                body: json!({ "type": "browser" }),
            })
            .await
            .context("reading the console log")?;
        Ok(entries)
    }

    async fn js(&self, script: &str) -> Result<Value> {
        Ok(self.client.execute(script, vec![]).await?)
    }

    /// Loads a page and waits until every mermaid block has been processed (or ten seconds).
    async fn load(&self, page: &str) -> Result<()> {
        self.client.goto(&self.url(page)).await?;
        self.wait_for(WAIT_FOR_MERMAID, Duration::from_secs(10))
            .await?;
        Ok(())
    }

    /// Polls a script until it returns `true`; returns whether it did in time.
    async fn wait_for(&self, script: &str, limit: Duration) -> Result<bool> {
        let deadline = Instant::now() + limit;
        loop {
            if self.js(script).await? == json!(true) {
                return Ok(true);
            }
            if Instant::now() > deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Everything looked at on the desktop screen.
    async fn desktop(&self, page: &str) -> Result<Value> {
        self.server.take_misses();
        self.console().await?; // drop what the previous page left
        self.load(page).await?;
        let mut report = json!({ "page": page });
        report["console"] = self.console().await?;
        report["missing"] = json!(self.server.take_misses());
        let source = std::fs::read_to_string(self.book.join(page))?;
        report["mermaid_blocks"] = json!(source.matches("<pre class=\"mermaid\">").count());
        report["rendered"] = self.js(RENDERED).await?;
        report["links"] = self.client.execute_async(CHECK_LINKS, vec![]).await?;
        report["screenshot"] = json!(self.screenshot(page, "1280", Some(DESKTOP)).await?);
        if page.contains('/') {
            report["interface"] = self.client.execute_async(INTERFACE, vec![]).await?;
            report["search"] = self.search(page).await?;
            report["switch"] = self.edition_switch().await?;
        } else {
            report["dark_screenshot"] = json!(self.dark(page).await?);
            report["entrances"] = self.entrances(page).await?;
        }
        // The link checks, the search and the clicks load more: nothing of it may fail either.
        report["console_after"] = self.console().await?;
        report["missing_after"] = json!(self.server.take_misses());
        Ok(report)
    }

    /// A screenshot of the page with the system's dark theme (`NAME-dark-1280.png`).
    async fn dark(&self, page: &str) -> Result<String> {
        let scheme = |value: &str| json!({ "features": [{ "name": "prefers-color-scheme", "value": value }] });
        self.cdp("Emulation.setEmulatedMedia", scheme("dark"))
            .await?;
        self.load(page).await?;
        let shot = self.screenshot(page, "dark-1280", Some(DESKTOP)).await;
        self.cdp("Emulation.setEmulatedMedia", scheme("light"))
            .await?;
        shot
    }

    /// The phone: a fresh load at 390 px, what overflows the screen, and a screenshot.
    async fn phone(&self, page: &str) -> Result<Value> {
        self.load(page).await?;
        let mut report = json!({});
        report["console"] = self.console().await?;
        report["overflow"] = self.js(OVERFLOW).await?;
        report["screenshot"] = json!(self.screenshot(page, "390", Some(PHONE)).await?);
        Ok(report)
    }

    /// Writes a screenshot to SCREENSHOT_DIR/EDITION/NAME-SUFFIX.png and returns its path: of the
    /// whole page on `screen` (up to 60,000 px high, so that a long chapter is whole), or of what
    /// the screen shows now.
    async fn screenshot(&self, page: &str, suffix: &str, screen: Option<Screen>) -> Result<String> {
        let mut params = json!({ "format": "png" });
        if let Some(screen) = screen {
            let height = self
                .js("return document.documentElement.scrollHeight")
                .await?
                .as_f64()
                .unwrap_or(screen.height.into())
                .clamp(screen.height.into(), 60_000.0);
            params["captureBeyondViewport"] = json!(true);
            params["clip"] =
                json!({ "x": 0, "y": 0, "width": screen.width, "height": height, "scale": 1 });
        }
        let shot = self.cdp("Page.captureScreenshot", params).await?;
        let data = shot["data"].as_str().context("no screenshot data")?;
        let png = base64::engine::general_purpose::STANDARD.decode(data)?;
        let name = Path::new(page).with_extension("");
        let path = self.shots.join(format!("{}-{suffix}.png", name.display()));
        std::fs::create_dir_all(path.parent().expect("a file has a parent"))?;
        std::fs::write(&path, png)?;
        Ok(path.display().to_string())
    }

    /// Searches, through the search bar, for a word of the page's first heading, then for a word
    /// no page has; returns the word, the results' headers and the pages found, and takes a
    /// screenshot of the results.
    async fn search(&self, page: &str) -> Result<Value> {
        let heading = self
            .js("return document.querySelector('main h1').textContent.trim()")
            .await?;
        let heading = heading.as_str().unwrap_or_default().to_owned();
        let word = word_of(&heading);
        self.client
            .find(Locator::Id("mdbook-search-toggle"))
            .await?
            .click()
            .await?;
        // The index loads when the bar first opens; type once it has.
        self.wait_for(SEARCH_READY, Duration::from_secs(10)).await?;
        let bar = self.client.find(Locator::Id("mdbook-searchbar")).await?;
        bar.send_keys(&word).await?;
        let found = self.results(&word).await?;
        let shot = self.screenshot(page, "search", None).await?;
        bar.clear().await?;
        bar.send_keys(NOWHERE).await?;
        let nothing = self.results(NOWHERE).await?;
        Ok(json!({
            "heading": heading,
            "word": word,
            "header": found["header"],
            "results": found["results"],
            "no_results_header": nothing["header"],
            "screenshot": shot,
        }))
    }

    /// The results header and the pages listed, once the header names `word`.
    async fn results(&self, word: &str) -> Result<Value> {
        let script = format!(
            "return (document.getElementById('mdbook-searchresults-header').innerText || '').includes({})",
            json!(word)
        );
        self.wait_for(&script, Duration::from_secs(5)).await?;
        self.js("return {
                header: document.getElementById('mdbook-searchresults-header').innerText,
                results: [...document.querySelectorAll('#mdbook-searchresults a')]
                    .map(a => new URL(a.href).pathname),
             }")
            .await
    }

    /// Where the page's edition switch sits, and where clicking it lands.
    async fn edition_switch(&self) -> Result<Value> {
        let mut report = self.js(SWITCH).await?;
        if report.is_null() {
            return Ok(report);
        }
        let before = self.client.current_url().await?;
        self.client
            .find(Locator::Css("p.edition-switch a"))
            .await?
            .click()
            .await?;
        report["landed"] = self.landed(&before).await?;
        Ok(report)
    }

    /// Clicks each way into an edition on the landing page; where each lands.
    async fn entrances(&self, page: &str) -> Result<Value> {
        let count = self
            .js("return document.querySelectorAll('main a').length")
            .await?
            .as_u64()
            .unwrap_or(0);
        let mut found = Vec::new();
        for i in 0..count {
            if i > 0 {
                self.client.goto(&self.url(page)).await?;
            }
            let links = self.client.find_all(Locator::Css("main a")).await?;
            let link = &links[usize::try_from(i)?];
            let text = link.text().await?;
            let href = link.attr("href").await?;
            let before = self.client.current_url().await?;
            link.click().await?;
            let landed = self.landed(&before).await?;
            found.push(json!({ "text": text, "href": href, "landed": landed }));
        }
        Ok(json!(found))
    }

    /// After a click on a link: the new page's path, language and title.
    async fn landed(&self, before: &url::Url) -> Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.client.current_url().await? == *before && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.wait_for(
            "return document.readyState === 'complete'",
            Duration::from_secs(10),
        )
        .await?;
        self.js(
            "return { path: location.pathname, lang: document.documentElement.lang, title: document.title }",
        )
        .await
    }
}

/// The word of a heading to search for: its longest word (the last of equals), without
/// punctuation. A longer word is more likely to be specific, and a heading's last words are its
/// nouns more often than its first ("How to use this book").
fn word_of(heading: &str) -> String {
    heading
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .fold("", |best, w| {
            if w.chars().count() >= best.chars().count() {
                w
            } else {
                best
            }
        })
        .to_lowercase()
}

/// True once every `pre.mermaid` has been processed by mermaid.
const WAIT_FOR_MERMAID: &str = "
    if (document.readyState !== 'complete') return false;
    const blocks = document.querySelectorAll('pre.mermaid');
    return [...blocks].every(b => b.getAttribute('data-processed') === 'true' || b.querySelector('svg'));
";

/// What mermaid drew: the diagrams' SVGs, error SVGs, and whether "Syntax error" shows anywhere.
const RENDERED: &str = "
    const svgs = document.querySelectorAll('pre.mermaid > svg');
    return {
        svgs: svgs.length,
        errors: [...document.querySelectorAll('svg')]
            .filter(s => s.getAttribute('aria-roledescription') === 'error').length,
        syntax_error: document.body.innerText.includes('Syntax error'),
        images: document.images.length,
        broken_images: [...document.images]
            .filter(i => !(i.complete && i.naturalWidth > 0))
            .map(i => i.getAttribute('src')),
    };
";

/// Fetches every link of the page that stays on this server, once per target page, and looks
/// for each fragment's `id` in the target. Calls back with the links that fail, as written in the
/// page (`href`) and as resolved.
const CHECK_LINKS: &str = "
    const done = arguments[arguments.length - 1];
    const targets = new Map();
    const outside = new Set();
    let count = 0;
    for (const a of document.querySelectorAll('a[href]')) {
        const href = a.getAttribute('href');
        const url = new URL(href, location.href);
        if (url.protocol === 'mailto:') continue;
        if (url.origin !== location.origin) { outside.add(url.href); continue; }
        count++;
        const page = url.origin + url.pathname;
        if (!targets.has(page)) targets.set(page, { hrefs: new Set(), fragments: new Map() });
        const target = targets.get(page);
        target.hrefs.add(href);
        if (url.hash.length > 1) target.fragments.set(decodeURIComponent(url.hash.slice(1)), href);
    }
    const here = location.origin + location.pathname;
    Promise.all([...targets].map(async ([page, target]) => {
        const written = [...target.hrefs].join(', ');
        try {
            const response = await fetch(page);
            const text = await response.text();
            if (!response.ok) return ['href=' + written + ' -> ' + page + ': ' + response.status];
            const failures = [];
            for (const [id, href] of target.fragments) {
                const found = page === here ? document.getElementById(id) !== null
                                            : text.includes('id=\"' + id + '\"');
                if (!found) failures.push('href=' + href + ' -> ' + page + ': no id ' + id);
            }
            return failures;
        } catch (e) {
            return ['href=' + written + ' -> ' + page + ': ' + e];
        }
    })).then(lists => done({
        checked: count,
        pages: targets.size,
        broken: lists.flat(),
        outside: [...outside],
    }));
";

/// The interface's strings: buttons' titles and labels, the search box, the help and the print
/// page's title.
const INTERFACE: &str = "
    const done = arguments[arguments.length - 1];
    const label = e => e ? { title: e.getAttribute('title'), label: e.getAttribute('aria-label') } : null;
    const strings = {
        sidebar: label(document.getElementById('mdbook-sidebar-toggle')),
        theme: label(document.getElementById('mdbook-theme-toggle')),
        search: label(document.getElementById('mdbook-search-toggle')),
        print: label(document.querySelector('a[href$=\"print.html\"]')),
        previous: label(document.querySelector('a[rel=\"prev\"]')),
        next: label(document.querySelector('a[rel~=\"next\"]')),
        placeholder: document.getElementById('mdbook-searchbar').getAttribute('placeholder'),
        help: document.querySelector('.mdbook-help-title').textContent,
        table_of_contents: document.getElementById('mdbook-sidebar').getAttribute('aria-label'),
    };
    fetch(path_to_root + 'print.html')
        .then(r => r.text())
        .then(t => {
            strings.print_page = new DOMParser().parseFromString(t, 'text/html').title;
            done(strings);
        })
        .catch(e => { strings.print_page = String(e); done(strings); });
";

/// True once the search index has loaded and the bar shows.
const SEARCH_READY: &str = "
    const bar = document.getElementById('mdbook-searchbar');
    const outer = document.getElementById('mdbook-searchbar-outer');
    return !!(window.search && window.search.index && window.elasticlunr)
        && bar.offsetParent !== null && !outer.classList.contains('searching');
";

/// The edition switch: its link, and whether it sits at the top right of the page.
const SWITCH: &str = "
    const a = document.querySelector('p.edition-switch a');
    if (!a) return null;
    const r = a.getBoundingClientRect();
    const main = document.querySelector('main').getBoundingClientRect();
    return {
        href: a.getAttribute('href'),
        text: a.textContent,
        top_right: r.left > main.left + main.width / 2 && r.top + window.scrollY < 250,
    };
";

/// Prose that leaves the screen: elements and text of the content and the menu bar whose box
/// reaches past the right edge, unless they sit inside something that scrolls (code blocks,
/// tables) or that cuts them short with an ellipsis on purpose (the book's title in the menu bar).
/// Also whether the document itself is wider than the screen.
const OVERFLOW: &str = "
    const width = document.documentElement.clientWidth;
    // Only containers inside the root count: mdBook's `.content` scrolls too, and prose that
    // makes it scroll sideways is what this looks for.
    const scrolls = (el, root) => {
        for (let p = el.parentElement; p && p !== root; p = p.parentElement) {
            const style = getComputedStyle(p);
            const x = style.overflowX;
            if (x === 'auto' || x === 'scroll') return true;
            if (x !== 'visible' && style.textOverflow === 'ellipsis') return true;
        }
        return false;
    };
    const describe = (what, el, text) =>
        what + ' in <' + el.tagName.toLowerCase() + '>: ' + text.trim().slice(0, 80);
    const found = [];
    const roots = [document.querySelector('main') || document.body,
                   document.getElementById('mdbook-menu-bar')].filter(r => r);
    for (const root of roots) {
        for (const el of [root, ...root.querySelectorAll('*')]) {
            if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
            const r = el.getBoundingClientRect();
            if (r.width === 0 || r.right <= width + 1 || r.right <= 0) continue;
            if (scrolls(el, root)) continue;
            found.push(describe('box ' + Math.round(r.right) + 'px', el, el.textContent));
        }
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (!node.textContent.trim() || scrolls(node, root)) continue;
            const range = document.createRange();
            range.selectNodeContents(node);
            const r = range.getBoundingClientRect();
            if (r.width > 0 && r.right > width + 1) {
                found.push(describe('text ' + Math.round(r.right) + 'px', node.parentElement, node.textContent));
            }
        }
    }
    return {
        width: width,
        document_width: document.documentElement.scrollWidth,
        overflowing: found,
    };
";

#[cfg(test)]
mod tests {
    use super::word_of;

    #[test]
    fn the_search_word_is_the_longest_word_of_the_heading() {
        assert_eq!(word_of("How to use this book"), "book");
        assert_eq!(word_of("Arenas, pools and blocks"), "blocks");
        assert_eq!(word_of("아레나, 풀, 블록"), "아레나");
        assert_eq!(word_of("이 책을 읽는 법"), "읽는");
    }
}
