//! Injection: hostile strings in every place a reader's page is made from
//! (area names, theme and answer labels from the codebook, a string
//! parameter, captions and raw HTML in the template) try to break out of
//! HTML, SVG and typst (`tests/fixtures/templates/inject/`). The page is
//! opened in headless Chromium: no script runs, none is in the DOM, and the
//! hostile strings are there as text; the PDF shows them literally; the
//! JSON holds them unchanged. The page forbids scripts and remote loads
//! with its Content-Security-Policy.
//!
//! Needs Chromium: see `tests/common/browser.rs`.

use crate::common::{self, browser, pdf};

use std::path::PathBuf;

use browser::Browser;
use serde_json::json;

const AREA_HTML: &str =
    "<script>window.__pwned = 1</script></svg><img src=x onerror=\"window.__pwned = 2\">";
const AREA_TYPST: &str = "North #set text(red) $x^2$ ] [ */ // \\ town";
const WHO: &str = "]#strong[x] <b>bold</b> $y$ {{ 7 * 7 }}";

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates/inject/report.md")
}

/// The fixture rendered to HTML, PDF and JSON in `out`.
fn render(out: &std::path::Path) {
    let (ok, err) = common::render(&fixture(), out, &["--to", "html,pdf,json", "--no-cache"]);
    assert!(ok, "{err}");
}

#[test]
fn hostile_labels_and_parameters_stay_text_in_html_pdf_and_json() {
    let out = tempfile::tempdir().unwrap();
    render(out.path());
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(
        html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"),
        "no CSP"
    );

    // in a real browser: nothing ran, nothing executable is in the DOM,
    // and what the labels say is on the page as text
    let mut b = Browser::launch();
    b.call("Page.enable", json!({}));
    b.call(
        "Page.navigate",
        json!({ "url": format!("file://{}", out.path().join("report.html").display()) }),
    );
    b.until(
        "document.readyState === 'complete' && document.querySelector('main') !== null",
        "the page loaded",
    );
    assert_eq!(b.eval("typeof window.__pwned"), json!("undefined"));
    assert_eq!(
        b.eval("document.querySelectorAll('script, [onerror], [onload], foreignObject').length"),
        json!(0)
    );
    assert_eq!(
        b.eval("document.querySelectorAll('figure.chart svg rect').length > 2"),
        json!(true),
        "the chart was drawn, not withheld"
    );
    let text = b.eval("document.body.innerText");
    let text = text.as_str().unwrap();
    for literal in [
        AREA_HTML,
        AREA_TYPST,
        WHO,
        "<script>window.__pwned = 4</script>",
        "Often</text><script>window.__pwned = 3</script>",
    ] {
        assert!(text.contains(literal), "not shown as text: {literal}");
    }
    assert_eq!(b.eval("document.title"), json!(format!("Injection {WHO}")));
    // the parameter's `{{ 7 * 7 }}` is text, never evaluated again
    assert!(
        !text.contains("$y$ 49"),
        "a parameter was evaluated as a template"
    );
    // a script the policy forbids does not run even when put in the page
    b.eval(
        "(() => { const s = document.createElement('script'); \
         s.textContent = 'window.__pwned = 9'; document.body.appendChild(s); return true; })()",
    );
    assert_eq!(b.eval("typeof window.__pwned"), json!("undefined"));

    // the PDF shows the strings literally (control characters left out)
    let pdf = pdf::read(&std::fs::read(out.path().join("report.pdf")).unwrap());
    for literal in [
        "#set text(red) $x^2$ ] [ */ //",
        "]#strong[x] <b>bold</b> $y$ {{ 7 * 7 }}",
        "onerror",
    ] {
        assert!(
            pdf.text.contains(literal),
            "PDF lacks {literal}: {}",
            pdf.text
        );
    }
    assert!(pdf.text.contains("Health bell [31m"), "{}", pdf.text);

    // the JSON holds the names unchanged
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let areas: Vec<&str> = j["results"]["levels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["area"].as_str())
        .collect();
    assert!(areas.contains(&AREA_HTML), "{areas:?}");
    assert!(areas.contains(&AREA_TYPST), "{areas:?}");
}
