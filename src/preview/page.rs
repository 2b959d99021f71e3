//! What the preview adds to the rendered page, and only in the preview: a
//! bar with a select for each enumerated parameter, the error overlay and
//! the script that listens for re-renders. Rendered files never carry it.

use crate::diag::{Diagnostics, Severity};
use crate::render::html::escape;

/// A parameter that can be switched from the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Its name in the template.
    pub name: String,
    /// What it means (the front matter's `label`), or its name.
    pub label: String,
    /// The values it allows.
    pub values: Vec<String>,
    /// The value of the page shown.
    pub current: String,
}

/// Marks where the preview's additions start, so that tests (and people
/// reading the source) can tell them from the report.
pub const MARKER: &str =
    "<!-- coweave preview: from here to </body> is the preview's, not the report's -->";

const STYLE: &str = r#"<style>
#coweave-bar{position:fixed;right:12px;bottom:12px;z-index:2147483000;background:#1d2733;color:#fff;font:13px/1.4 system-ui,sans-serif;padding:6px 10px;border-radius:6px;box-shadow:0 2px 8px rgba(0,0,0,.3);display:flex;gap:10px;align-items:center}
#coweave-bar label{display:flex;gap:4px;align-items:center}
#coweave-bar select{font:inherit}
#coweave-bar .coweave-status{opacity:.8}
#coweave-overlay{position:fixed;left:0;right:0;top:0;z-index:2147483001;max-height:70vh;overflow:auto;background:rgba(255,247,247,.97);border-bottom:4px solid #b3261e;box-shadow:0 4px 16px rgba(0,0,0,.35);padding:14px 20px;font:14px/1.45 system-ui,sans-serif;color:#1d1d1d}
#coweave-overlay[hidden]{display:none}
#coweave-overlay h2{margin:0 0 6px;font-size:16px;color:#b3261e}
#coweave-overlay p{margin:0 0 10px}
#coweave-overlay pre{margin:0 0 10px;padding:8px 10px;background:#fff;border:1px solid #e3c4c4;border-radius:4px;overflow:auto;font:13px/1.4 ui-monospace,monospace;white-space:pre}
#coweave-overlay pre.warning{border-color:#e6d39a}
</style>"#;

/// The listener: reloads on a newer page (keeping the scroll position),
/// shows the overlay when a render fails and hides it when one succeeds;
/// the parameter selects ask for a render with the new value.
const SCRIPT: &str = r#"<script>
(function () {
  var version = __VERSION__;
  var overlay = document.getElementById('coweave-overlay');
  var status = document.getElementById('coweave-status');
  var key = 'coweave-scroll:' + location.pathname;
  var y = sessionStorage.getItem(key);
  if (y !== null) { sessionStorage.removeItem(key); window.scrollTo(0, +y); }
  function say(text) { if (status) status.textContent = text; }
  var events = new EventSource('/__coweave/events');
  events.addEventListener('reload', function (e) {
    if (+e.data !== version) {
      sessionStorage.setItem(key, String(window.scrollY));
      location.reload();
    } else { overlay.hidden = true; say('up to date'); }
  });
  events.addEventListener('failed', function (e) {
    overlay.innerHTML = e.data;
    overlay.hidden = false;
    say('render failed');
  });
  events.addEventListener('rendering', function () { say('rendering\u2026'); });
  events.onerror = function () { say('disconnected, retrying\u2026'); };
  events.onopen = function () { say('live'); };
  document.querySelectorAll('#coweave-bar select').forEach(function (s) {
    s.addEventListener('change', function () {
      say('rendering\u2026');
      fetch('/__coweave/params?' + encodeURIComponent(s.name) + '=' + encodeURIComponent(s.value), { method: 'POST' })
        .then(function (r) { if (!r.ok) { r.text().then(say); } });
    });
  });
})();
</script>"#;

/// The bar: a select per enumerated parameter and the status.
fn bar(choices: &[Choice]) -> String {
    let mut out = String::from("<div id=\"coweave-bar\" role=\"region\" aria-label=\"Preview\">");
    out.push_str("<strong>coweave preview</strong>");
    for c in choices {
        out.push_str(&format!(
            "<label>{}<select name=\"{}\">",
            escape(&c.label),
            escape(&c.name)
        ));
        for v in &c.values {
            let selected = if *v == c.current { " selected" } else { "" };
            out.push_str(&format!(
                "<option value=\"{0}\"{selected}>{0}</option>",
                escape(v)
            ));
        }
        out.push_str("</select></label>");
    }
    out.push_str("<span id=\"coweave-status\" class=\"coweave-status\" aria-live=\"polite\">connecting\u{2026}</span></div>");
    out
}

/// The preview's additions, for a page of `version`, with the overlay
/// showing `failure` (overlay HTML) if the latest render failed.
fn additions(version: u64, choices: &[Choice], failure: Option<&str>) -> String {
    let overlay = match failure {
        Some(html) => format!("<div id=\"coweave-overlay\" role=\"alert\">{html}</div>"),
        None => "<div id=\"coweave-overlay\" role=\"alert\" hidden></div>".to_string(),
    };
    format!(
        "{MARKER}\n{STYLE}\n{}\n{overlay}\n{}\n",
        bar(choices),
        SCRIPT.replace("__VERSION__", &version.to_string())
    )
}

/// A rendered page with the preview's additions before `</body>`.
pub fn inject(html: &str, version: u64, choices: &[Choice], failure: Option<&str>) -> String {
    let add = additions(version, choices, failure);
    // the report forbids every script; the preview's own listener (inline,
    // talking to this server only) is allowed in the page it serves
    let served = crate::render::html::CSP.replacen(
        "default-src 'none';",
        "default-src 'none'; script-src 'unsafe-inline'; connect-src 'self';",
        1,
    );
    let html = html.replacen(crate::render::html::CSP, &served, 1);
    let html = html.as_str();
    match html.rfind("</body>") {
        Some(at) => format!("{}{add}{}", &html[..at], &html[at..]),
        None => format!("{html}{add}"),
    }
}

/// The page shown before the first render succeeded: the overlay (if that
/// render failed) and the listener, which loads the report once it exists.
pub fn waiting(choices: &[Choice], failure: Option<&str>) -> String {
    let body = if failure.is_some() {
        "<p>The template has not rendered yet: fix the problems above and save.</p>"
    } else {
        "<p>Rendering\u{2026} the page loads when the report is ready.</p>"
    };
    inject(
        &format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>coweave preview</title>\n</head>\n<body style=\"font:16px system-ui,sans-serif;margin:2rem\">\n{body}\n</body>\n</html>\n"
        ),
        0,
        choices,
        failure,
    )
}

/// The overlay for a failed render: the same diagnostics the command line
/// prints (message, file:line:column, the line with a caret, hints), each
/// escaped, errors first.
pub fn overlay(diags: &Diagnostics) -> String {
    let errors = diags.error_count();
    let mut out = format!(
        "<h2>The last render failed: {errors} error{}</h2><p>The page below is the last one that rendered. Fix the template and save: this goes away.</p>",
        if errors == 1 { "" } else { "s" }
    );
    let mut ds: Vec<_> = diags.0.iter().collect();
    ds.sort_by_key(|d| std::cmp::Reverse(d.severity));
    for d in ds {
        let class = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "<pre class=\"{class}\">{}</pre>",
            escape(d.to_string().trim_end())
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostic;

    #[test]
    fn the_additions_go_before_the_end_of_the_body_and_escape_what_they_show() {
        let choices = [Choice {
            name: "area".into(),
            label: "Area <b>".into(),
            values: vec!["Bristol".into(), "A&B".into()],
            current: "A&B".into(),
        }];
        let page = inject("<html><body><p>x</p></body></html>", 7, &choices, None);
        let at = page.find(MARKER).unwrap();
        assert!(page[..at].ends_with("<p>x</p>"));
        assert!(page.ends_with("</body></html>"));
        assert!(page.contains("var version = 7;"));
        assert!(page.contains("Area &lt;b&gt;<select name=\"area\">"));
        assert!(page.contains("<option value=\"A&amp;B\" selected>A&amp;B</option>"));
        assert!(page.contains("<div id=\"coweave-overlay\" role=\"alert\" hidden></div>"));
    }

    #[test]
    fn the_overlay_shows_what_the_command_line_prints_escaped() {
        let source = "---\ntitle: x\n---\n{{ <oops> }}\n";
        let d = Diagnostic::error("unexpected `<`")
            .at_offset(std::path::Path::new("t.md"), source, 20)
            .hint("close the tag");
        let cli = d.to_string();
        let html = overlay(&Diagnostics(vec![d]));
        assert!(html.contains("1 error</h2>"));
        assert!(cli.contains("--> t.md:4:4"), "{cli}");
        assert!(html.contains(&escape(cli.trim_end())));
        assert!(html.contains("{{ &lt;oops&gt; }}"));
        assert!(!html.contains("<oops>"));
    }
}
