//! `coweave preview` in a real browser: headless Chromium, driven over the
//! Chrome DevTools protocol, opens the page, checks its title and that
//! every figure drew, then the template is edited on disk (the page
//! changes), broken (the overlay shows) and fixed (it goes), and a
//! parameter is switched from the page's select.
//!
//! Needs Chromium. On a Debian or Ubuntu machine where the tests run as
//! root it is installed with apt-get when missing; elsewhere the test fails
//! saying what to install (or set COWEAVE_CHROMIUM to the browser).

#[path = "common/preview.rs"]
mod preview;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use preview::{Preview, template};
use serde_json::{Value, json};

/// The browser: COWEAVE_CHROMIUM, else a Chromium or Chrome on the PATH,
/// else Debian's `chromium`, installed now when this machine allows it.
fn chromium() -> PathBuf {
    if let Ok(p) = std::env::var("COWEAVE_CHROMIUM") {
        return PathBuf::from(p);
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    let find = || {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
                .find(|p| p.is_file())
        })
    };
    if let Some(p) = find() {
        return p;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let apt = Path::new("/usr/bin/apt-get").exists();
    if root && apt {
        eprintln!("the preview's browser test needs Chromium: installing it with apt-get");
        let quiet = |args: &[&str]| {
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdin(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !quiet(&["install", "-y", "-q", "chromium"]) {
            quiet(&["update", "-q"]);
            quiet(&["install", "-y", "-q", "chromium"]);
        }
        if let Some(p) = find() {
            return p;
        }
    }
    panic!(
        "the preview's browser test needs Chromium and found none: install it \
         (Debian/Ubuntu: `apt-get install chromium`) or set COWEAVE_CHROMIUM \
         to a Chromium or Chrome binary"
    );
}

/// Headless Chromium with a DevTools connection to one page.
struct Browser {
    child: Child,
    ws: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
    session: String,
    next: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn launch() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--window-size=1200,900",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let url = loop {
            line.clear();
            if stderr.read_line(&mut line).unwrap() == 0 {
                panic!("chromium exited without a DevTools address");
            }
            if let Some(at) = line.find("ws://") {
                break line[at..].trim().to_string();
            }
        };
        // keep reading chromium's chatter so it never blocks on a full pipe
        std::thread::spawn(move || {
            let mut sink = String::new();
            while stderr.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        let (ws, _) = tungstenite::connect(url.as_str()).expect("DevTools connects");
        let mut b = Browser {
            child,
            ws,
            session: String::new(),
            next: 0,
            _profile: profile,
        };
        let target = b.call("Target.createTarget", json!({"url": "about:blank"}));
        let target = target["targetId"].as_str().unwrap().to_string();
        let attached = b.call(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        b.session = attached["sessionId"].as_str().unwrap().to_string();
        b
    }

    /// One DevTools command (to the page once attached); its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let v = self.send(method, params);
        assert!(v.get("error").is_none(), "{method}: {v}");
        v["result"].clone()
    }

    /// One DevTools command; the whole answer (result or error).
    fn send(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.ws
            .send(tungstenite::Message::text(msg.to_string()))
            .unwrap();
        loop {
            let m = self.ws.read().expect("DevTools answers");
            let Ok(text) = m.to_text() else { continue };
            let v: Value = serde_json::from_str(text).unwrap();
            if v["id"] == json!(id) {
                return v;
            }
        }
    }

    /// Evaluates `expr` in the page; its value (null while the page is
    /// between documents).
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.send(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true}),
        );
        r["result"]["result"]["value"].clone()
    }

    /// Waits until `expr` is true in the page; how long that took.
    fn until(&mut self, expr: &str, what: &str) -> Duration {
        let started = Instant::now();
        while self.eval(expr) != json!(true) {
            assert!(
                started.elapsed() < preview::PATIENCE,
                "the page never showed {what}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        started.elapsed()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const FIGURES_DRAWN: &str = "(() => { const f = [...document.querySelectorAll('figure.chart')]; \
    return f.length > 0 && f.every(x => { const s = x.querySelector('svg'); \
    if (!s) return false; const r = s.getBoundingClientRect(); \
    return r.width > 100 && r.height > 100 && s.querySelectorAll('rect').length > 2; }); })()";

fn has_text(text: &str) -> String {
    format!(
        "document.body !== null && document.body.innerText.includes({})",
        json!(text)
    )
}

const OVERLAY_SHOWN: &str = "(() => { const o = document.getElementById('coweave-overlay'); \
    return o !== null && !o.hidden && o.getBoundingClientRect().height > 50; })()";
const OVERLAY_GONE: &str = "(() => { const o = document.getElementById('coweave-overlay'); \
    return o !== null && o.hidden && o.getBoundingClientRect().height === 0; })()";

#[test]
fn the_page_follows_the_template_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.md");
    std::fs::write(&t, template("Edit number 0.")).unwrap();
    let p = Preview::start(dir.path(), "t.md", &[]);
    // the first render, before the browser looks
    p.events().until("reload", |v| v != "0");

    let mut b = Browser::launch();
    b.call("Page.enable", json!({}));
    b.call(
        "Page.navigate",
        json!({"url": format!("http://127.0.0.1:{}/", p.port)}),
    );
    b.until("document.title === 'Preview test: Bristol'", "its title");
    b.until(FIGURES_DRAWN, "every figure drawn");
    b.until(&has_text("Edit number 0."), "the first text");
    b.until(
        "document.getElementById('coweave-status').textContent === 'up to date'",
        "the live status",
    );

    // edits on disk: the page follows, each within the patience bound
    const EDITS: usize = 10;
    let mut took = Vec::new();
    for n in 1..=EDITS {
        let text = format!("Edit number {n}.");
        std::fs::write(&t, template(&text)).unwrap();
        took.push(b.until(&has_text(&text), &text));
        b.until(FIGURES_DRAWN, "every figure drawn after an edit");
    }
    took.sort();
    eprintln!(
        "save to page updated: {:?} (median {:?})",
        took,
        took[took.len() / 2]
    );

    // broken: the overlay over the last good page, with the place
    std::fs::write(&t, template("Broken.").replace("kind: bar", "kind: bra")).unwrap();
    b.until(OVERLAY_SHOWN, "the overlay");
    let overlay = b.eval("document.getElementById('coweave-overlay').innerText");
    let overlay = overlay.as_str().unwrap();
    assert!(overlay.contains("--> t.md:"), "{overlay}");
    assert!(overlay.contains("bra"), "{overlay}");
    // the last good page stays under it
    assert_eq!(
        b.eval(&has_text(&format!("Edit number {EDITS}."))),
        json!(true)
    );
    assert_eq!(b.eval(FIGURES_DRAWN), json!(true));

    // fixed: the overlay goes
    std::fs::write(&t, template("Fixed.")).unwrap();
    b.until(&has_text("Fixed."), "the fixed text");
    b.until(OVERLAY_GONE, "no overlay");

    // a parameter from the page's select
    b.eval(
        "(() => { const s = document.querySelector('#coweave-bar select[name=area]'); \
         s.value = 'Wolverhampton'; s.dispatchEvent(new Event('change')); return true; })()",
    );
    b.until(
        "document.title === 'Preview test: Wolverhampton'",
        "the Wolverhampton page",
    );
    b.until(FIGURES_DRAWN, "every figure drawn for Wolverhampton");
    assert_eq!(
        b.eval("document.querySelector('#coweave-bar select[name=area]').value"),
        json!("Wolverhampton")
    );
}
