//! Headless Chromium driven over the Chrome DevTools protocol, for the
//! tests that look at pages in a real browser (the live preview, the
//! accessibility audit).
//!
//! Needs Chromium. On a Debian or Ubuntu machine where the tests run as
//! root it is installed with apt-get when missing; elsewhere the tests fail
//! saying what to install (or set COWEAVE_CHROMIUM to the browser).

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long a page may take to show what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(180);

/// The browser: COWEAVE_CHROMIUM, else a Chromium or Chrome on the PATH,
/// else Debian's `chromium`, installed now when this machine allows it.
pub fn chromium() -> PathBuf {
    super::install::program(
        "COWEAVE_CHROMIUM",
        &[
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ],
        "chromium",
        "the browser tests (preview, accessibility) need Chromium",
        "a Chromium or Chrome binary",
    )
}

/// Headless Chromium with a DevTools connection to one page.
pub struct Browser {
    child: Child,
    ws: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
    session: String,
    next: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub fn launch() -> Browser {
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
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let v = self.send(method, params);
        assert!(v.get("error").is_none(), "{method}: {v}");
        v["result"].clone()
    }

    /// One DevTools command; the whole answer (result or error).
    pub fn send(&mut self, method: &str, params: Value) -> Value {
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
    pub fn eval(&mut self, expr: &str) -> Value {
        let r = self.send(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true}),
        );
        r["result"]["result"]["value"].clone()
    }

    /// Evaluates `expr` in the page and waits for the promise it gives;
    /// its value.
    pub fn eval_async(&mut self, expr: &str) -> Value {
        let r = self.send(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r["result"].get("exceptionDetails") {
            panic!("the page threw: {e}");
        }
        r["result"]["result"]["value"].clone()
    }

    /// Waits until `expr` is true in the page; how long that took.
    pub fn until(&mut self, expr: &str, what: &str) -> Duration {
        let started = Instant::now();
        while self.eval(expr) != json!(true) {
            assert!(started.elapsed() < PATIENCE, "the page never showed {what}");
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
