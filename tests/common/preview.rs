//! What the preview tests share: a `coweave preview` child process on a
//! free port, raw HTTP requests (so that paths reach the server exactly as
//! written, unnormalised) and a reader of its event stream.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a test waits for anything (a render in a debug build, the
/// server's answer) before it fails.
pub const PATIENCE: Duration = Duration::from_secs(180);

/// A template that renders against the bundled survey: a parameter with a
/// list of values, prose, a chart and a table.
pub fn template(prose: &str) -> String {
    format!(
        r#"---
title: "Preview test: {{{{ params.area }}}}"
params:
  area:
    type: area
    default: Bristol
    label: Area
---

{prose}

```{{stats}}
#| name: levels
levels:
  measures: [individual, collective]
  by: [area]
```

```{{sql}}
#| name: here
SELECT variable, estimate, ci_low, ci_high, n FROM levels WHERE area = {{{{ params.area }}}}
ORDER BY variable
```

```{{chart}}
#| label: fig-here
#| caption: "Co-production in {{{{ params.area }}}}"
kind: bar
data: here
x: variable
y: estimate
ci: [ci_low, ci_high]
percent: true
ylabel: Residents (%)
```

```{{table}}
#| label: tbl-here
#| caption: "Co-production in {{{{ params.area }}}}"
data: here
```
"#
    )
}

/// A running `coweave preview`; killed when dropped.
pub struct Preview {
    pub child: Child,
    pub port: u16,
    /// Everything it printed on standard error so far.
    pub stderr: Arc<Mutex<String>>,
    drained: Option<std::thread::JoinHandle<()>>,
}

impl Preview {
    /// `coweave preview TEMPLATE --port 0 --out DIR/out EXTRA…`, run in
    /// `dir`; returns once it printed its address.
    pub fn start(dir: &Path, template: &str, extra: &[&str]) -> Preview {
        let mut child = Command::new(env!("CARGO_BIN_EXE_coweave"))
            .current_dir(dir)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args(["preview", template, "--port", "0", "--out", "out"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("coweave preview starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let drained = Some(drain(child.stderr.take().unwrap(), stderr.clone()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!("no address in {line:?}; stderr: {}", stderr.lock().unwrap())
            });
        Preview {
            child,
            port,
            stderr,
            drained,
        }
    }

    /// A raw request: `METHOD TARGET` with `headers` (each ending in
    /// CRLF; the preview's own Host unless they give one); the status and
    /// the body.
    pub fn request(&self, method: &str, target: &str, headers: &str) -> (u16, String) {
        let host = if headers.to_ascii_lowercase().contains("host:") {
            String::new()
        } else {
            format!("Host: 127.0.0.1:{}\r\n", self.port)
        };
        raw(
            self.port,
            &format!("{method} {target} HTTP/1.1\r\n{host}Connection: close\r\n{headers}\r\n"),
        )
    }

    /// `GET TARGET`.
    pub fn get(&self, target: &str) -> (u16, String) {
        self.request("GET", target, "")
    }

    /// The event stream, as a page hears it.
    pub fn events(&self) -> Events {
        Events::open(self.port)
    }

    /// What it printed on standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for it to exit: its status and all it printed on standard error.
    pub fn wait(&mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().unwrap();
        if let Some(d) = self.drained.take() {
            d.join().unwrap();
        }
        (status, self.stderr())
    }
}

impl Drop for Preview {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn drain(mut from: ChildStderr, into: Arc<Mutex<String>>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
}

/// Sends `request` as it is and reads the whole answer.
pub fn raw(port: u16, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (status, body)
}

/// The server-sent events of `/__coweave/events`.
pub struct Events {
    reader: BufReader<TcpStream>,
}

impl Events {
    fn open(port: u16) -> Events {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        write!(
            s,
            "GET /__coweave/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(s);
        // the status line and headers
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        Events { reader }
    }

    /// The next event, `(name, data)`; `None` when the stream ends.
    pub fn next(&mut self) -> Option<(String, String)> {
        let mut name = None;
        let mut data: Vec<String> = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let l = line.trim_end_matches(['\r', '\n']);
            if let Some(n) = l.strip_prefix("event: ") {
                name = Some(n.to_string());
            } else if let Some(d) = l.strip_prefix("data: ") {
                data.push(d.to_string());
            } else if l == "data:" {
                data.push(String::new());
            } else if l.is_empty()
                && let Some(n) = name.take()
            {
                return Some((n, data.join("\n")));
            }
            // anything else: chunk sizes, keep-alive comments
        }
    }

    /// Reads events until one named `name` whose data passes `ok`; returns
    /// its data.
    pub fn until(&mut self, name: &str, ok: impl Fn(&str) -> bool) -> String {
        loop {
            match self.next() {
                Some((n, d)) if n == name && ok(&d) => return d,
                Some(_) => {}
                None => panic!("the event stream ended before `{name}`"),
            }
        }
    }
}
