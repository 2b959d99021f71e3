//! Accessibility, as a council must publish it (WCAG 2.1 AA): every report
//! in `reports/`, every area, rendered to HTML and audited in headless
//! Chromium at 1280 and 400 px wide by axe-core (vendored in
//! `tests/fixtures/axe/`), plus the checks axe cannot make: scrolling
//! regions focusable and named, header cells with text, headings nesting
//! without gaps, every chart with alt text in words and its data table
//! within reach, and chart text at 4.5:1 against what is behind it. The
//! live preview's page is audited the same way. PDFs are exported as
//! PDF/UA-1: one test reads that the document is tagged and declares it.
//!
//! Needs Chromium: see `tests/common/browser.rs`.

use crate::common::{self, browser, preview};

use std::path::{Path, PathBuf};

use browser::Browser;
use serde_json::json;

const AXE: &str = include_str!("fixtures/axe/axe.min.js");

/// The widths a council's readers use: a laptop and a phone.
const WIDTHS: [u32; 2] = [1280, 400];

/// axe-core over the page: every violation of a WCAG 2.0/2.1 A or AA rule,
/// and every best-practice violation of serious or critical impact.
const RUN_AXE: &str = r#"(async () => {
  const r = await axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    resultTypes: ['violations'],
  });
  const wcag = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
  return r.violations
    .filter(v => v.tags.some(t => wcag.includes(t)) || ['serious', 'critical'].includes(v.impact))
    .map(v => `${v.id} (${v.impact}): ${v.help}; at ${v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(' | ')}`);
})()"#;

/// What axe does not check, in the same page.
const OWN_CHECKS: &str = r#"(() => {
  const problems = [];
  const where = e => e.id ? `#${e.id}` : (e.closest('[id]') ? `in #${e.closest('[id]').id}` : e.tagName.toLowerCase());
  const name = e => (e.getAttribute('aria-label') || '').trim()
    || (e.getAttribute('aria-labelledby') || '').split(/\s+/).map(id => document.getElementById(id)?.textContent || '').join(' ').trim();
  // every region that scrolls is reachable by keyboard and named
  for (const e of document.querySelectorAll('body *')) {
    const s = getComputedStyle(e);
    const scrolls = (['auto', 'scroll'].includes(s.overflowX) && e.scrollWidth > e.clientWidth + 1)
      || (['auto', 'scroll'].includes(s.overflowY) && e.scrollHeight > e.clientHeight + 1);
    if (!scrolls) continue;
    if (e.tabIndex < 0) problems.push(`a scrolling region a keyboard cannot reach: ${where(e)}`);
    if (!name(e)) problems.push(`a scrolling region with no name: ${where(e)}`);
  }
  // header cells name something
  for (const th of document.querySelectorAll('th')) {
    if (!th.textContent.trim()) problems.push(`a header cell with no text: ${where(th)}`);
  }
  // headings nest without gaps, from one h1
  let last = 0;
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const level = +h.tagName[1];
    if (last === 0 && level !== 1) problems.push(`the first heading is not h1: "${h.textContent}"`);
    if (last > 0 && level > last + 1) problems.push(`h${level} after h${last}: "${h.textContent}"`);
    last = level;
  }
  if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
  // every chart: alt text in words, its data behind it within reach
  for (const f of document.querySelectorAll('figure.chart')) {
    const img = f.querySelector('[role=img]');
    const alt = img ? name(img) : '';
    if (alt.split(/\s+/).length < 6) problems.push(`a chart without alt text in words: ${where(f)} "${alt}"`);
    const raw = alt.match(/\b[a-z0-9]+_[a-z0-9_]+\b/);
    if (raw) problems.push(`a chart whose alt text says a raw variable name (${raw[0]}): ${where(f)}`);
    if (!f.querySelector('details.chart-data summary') || !f.querySelector('details.chart-data table th'))
      problems.push(`a chart without its data table: ${where(f)}`);
  }
  return problems;
})()"#;

/// Text in charts against what lies under it, at 4.5:1.
const CHART_CONTRAST: &str = r#"(() => {
  const rgb = c => { const m = (c || '').match(/[\d.]+/g); return m && m.length >= 3 ? m.slice(0, 3).map(Number) : null; };
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const problems = [];
  for (const t of document.querySelectorAll('figure.chart svg text')) {
    if (!t.textContent.trim()) continue;
    const s = getComputedStyle(t);
    if (s.visibility === 'hidden' || s.display === 'none') continue;
    const ink = rgb(s.fill);
    if (!ink) continue;
    t.scrollIntoView({ block: 'center', inline: 'center' });
    const box = t.getBoundingClientRect();
    if (box.width === 0) continue;
    const under = document.elementsFromPoint(box.x + box.width / 2, box.y + box.height / 2)
      .filter(e => e !== t && e instanceof SVGGraphicsElement && !(e instanceof SVGTextElement) && !(e instanceof SVGSVGElement))
      .map(e => getComputedStyle(e))
      .find(st => st.fill && st.fill !== 'none' && rgb(st.fill) && (+st.fillOpacity || 0) > 0.5);
    const paper = under ? rgb(under.fill) : [255, 255, 255];
    const r = ratio(ink, paper);
    if (r < 4.5) {
      const fig = t.closest('figure');
      problems.push(`chart text "${t.textContent.trim()}" at ${r.toFixed(2)}:1 (${s.fill} on rgb(${paper})) in #${fig ? fig.id : '?'}`);
    }
  }
  return problems;
})()"#;

/// Loads `url`, then audits it at each width; every problem, named by page
/// and width.
fn audit(b: &mut Browser, url: &str, page: &str) -> Vec<String> {
    b.call("Page.navigate", json!({ "url": url }));
    b.until(
        "document.readyState === 'complete' && document.querySelector('main') !== null",
        "the page loaded",
    );
    if b.eval("typeof axe") != json!("object") {
        b.eval(AXE);
    }
    assert_eq!(b.eval("typeof axe"), json!("object"), "axe-core loads");
    let mut problems = Vec::new();
    for width in WIDTHS {
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": false }),
        );
        for check in [RUN_AXE, OWN_CHECKS, CHART_CONTRAST] {
            let found = b.eval_async(check);
            let found = found
                .as_array()
                .unwrap_or_else(|| panic!("{page} at {width} px: the check returned {found}"));
            problems.extend(
                found
                    .iter()
                    .map(|p| format!("{page} at {width} px: {}", p.as_str().unwrap_or("?"))),
            );
        }
    }
    problems
}

/// A changed copy of a page, written beside it as NAME.html and audited.
fn audit_variant(b: &mut Browser, dir: &Path, name: &str, html: &str) -> Vec<String> {
    let page = dir.join(format!("{name}.html"));
    std::fs::write(&page, html).unwrap();
    audit(b, &format!("file://{}", page.display()), name)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every report in `reports/`, each area, as the README's first command
/// renders them (HTML only here).
fn render_every_report(out: &Path) -> Vec<PathBuf> {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_coweave"))
        .current_dir(root())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args([
            "render",
            "--each",
            "area",
            "--to",
            "html",
            "--no-cache",
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut pages: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    pages.sort();
    pages
}

#[test]
fn every_report_meets_wcag_2_1_aa_at_both_widths() {
    let out = tempfile::tempdir().unwrap();
    let pages = render_every_report(out.path());
    // every template in reports/ is there, and the briefing for each area
    let templates = std::fs::read_dir(root().join("reports"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "md")
        })
        .count();
    assert!(pages.len() > templates, "{pages:?}");
    let mut b = Browser::launch();
    b.call("Page.enable", json!({}));
    let mut problems = Vec::new();
    for page in &pages {
        let url = format!("file://{}", page.display());
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        problems.extend(audit(&mut b, &url, &name));
    }
    assert!(
        problems.is_empty(),
        "{} accessibility problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_live_preview_page_meets_wcag_2_1_aa() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.md"), preview::template("Some words.")).unwrap();
    let p = preview::Preview::start(dir.path(), "t.md", &[]);
    p.events().until("reload", |v| v != "0");
    let mut b = Browser::launch();
    b.call("Page.enable", json!({}));
    let url = format!("http://127.0.0.1:{}/", p.port);
    let problems = audit(&mut b, &url, "the preview");
    assert!(
        problems.is_empty(),
        "{} accessibility problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // the preview's own bar is there and was audited with the page
    assert_eq!(
        b.eval("document.getElementById('coweave-bar') !== null"),
        json!(true)
    );
}

/// The audit fails when it should: a chart without alt text and a table
/// header cell without text are found, in a page that is otherwise clean.
#[test]
fn the_audit_finds_a_chart_without_alt_text_and_an_empty_header_cell() {
    let out = render_test_template();
    let html = std::fs::read_to_string(out.path().join("t.html")).unwrap();
    let mut b = Browser::launch();
    b.call("Page.enable", json!({}));
    let clean = audit(
        &mut b,
        &format!("file://{}", out.path().join("t.html").display()),
        "t.html",
    );
    assert!(clean.is_empty(), "{clean:#?}");

    // the chart's alt text gone
    let at = html
        .find("<div role=\"img\" aria-label=\"")
        .expect("a chart");
    let end = at + html[at..].find("\">").unwrap();
    let no_alt = format!(
        "{}<div role=\"img\" aria-label=\"{}",
        &html[..at],
        &html[end..]
    );
    let found = audit_variant(&mut b, out.path(), "no-alt", &no_alt);
    assert!(
        found.iter().any(|p| p.contains("role-img-alt")),
        "axe: {found:#?}"
    );
    assert!(
        found.iter().any(|p| p.contains("a chart without alt text")),
        "{found:#?}"
    );

    // a header cell emptied
    let at = html.find("<th scope=\"col\"").expect("a header cell");
    let open = at + html[at..].find('>').unwrap() + 1;
    let close = open + html[open..].find("</th>").unwrap();
    let no_header = format!("{}{}", &html[..open], &html[close..]);
    let found = audit_variant(&mut b, out.path(), "no-header", &no_header);
    assert!(
        found
            .iter()
            .any(|p| p.contains("a header cell with no text")),
        "{found:#?}"
    );

    // a scrolling table a keyboard cannot reach
    let unreachable = html.replacen(
        "<div class=\"scroll\" tabindex=\"0\"",
        "<div class=\"scroll\" style=\"max-width:120px\"",
        1,
    );
    let found = audit_variant(&mut b, out.path(), "no-tab", &unreachable);
    assert!(
        found
            .iter()
            .any(|p| p.contains("scrollable-region-focusable")),
        "axe: {found:#?}"
    );
}

/// The preview tests' template (a chart and a table) rendered to HTML and
/// PDF in a folder of its own.
fn render_test_template() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let t = out.path().join("t.md");
    std::fs::write(&t, preview::template("Words.")).unwrap();
    let (ok, err) = common::render(&t, out.path(), &["--to", "html,pdf", "--no-cache"]);
    assert!(ok, "{err}");
    out
}

/// The PDF is tagged and says it conforms to PDF/UA-1, in its XMP metadata
/// (`pdfuaid:part` 1) as the standard asks; its structure tree holds the
/// figures with their alt text and the tables with header cells.
#[test]
fn the_pdf_is_tagged_and_declares_pdf_ua_1() {
    let out = render_test_template();
    let bytes = std::fs::read(out.path().join("t.pdf")).unwrap();
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    let catalog = doc.catalog().unwrap();
    // tagged: a mark-info dictionary saying so, and a structure tree
    let marked = catalog
        .get(b"MarkInfo")
        .and_then(|m| doc.dereference(m).map(|(_, o)| o))
        .and_then(|m| m.as_dict())
        .and_then(|m| m.get(b"Marked"))
        .and_then(|m| m.as_bool())
        .unwrap_or(false);
    assert!(marked, "the PDF is not marked as tagged");
    assert!(catalog.get(b"StructTreeRoot").is_ok(), "no structure tree");
    assert!(catalog.get(b"Lang").is_ok(), "no document language");
    // the PDF/UA identification schema in the XMP metadata
    let meta = catalog
        .get(b"Metadata")
        .and_then(|m| m.as_reference())
        .and_then(|r| doc.get_object(r))
        .and_then(|o| o.as_stream())
        .expect("XMP metadata");
    let xmp = String::from_utf8_lossy(&meta.content).into_owned();
    assert!(
        xmp.contains("pdfuaid:part>1<") || xmp.contains("pdfuaid:part=\"1\""),
        "{xmp}"
    );
    // structure elements: figures carry alt text, tables have header cells
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    let mut figures_without_alt = 0;
    for (_, obj) in doc.objects.iter() {
        let Ok(d) = obj.as_dict() else { continue };
        if d.get(b"Type").and_then(|t| t.as_name()).ok() != Some(b"StructElem".as_slice()) {
            continue;
        }
        let Ok(s) = d.get(b"S").and_then(|s| s.as_name()) else {
            continue;
        };
        let s = String::from_utf8_lossy(s).into_owned();
        if s == "Figure" && d.get(b"Alt").is_err() {
            figures_without_alt += 1;
        }
        *kinds.entry(s).or_default() += 1;
    }
    assert!(kinds.get("Figure").is_some_and(|n| *n >= 1), "{kinds:?}");
    assert_eq!(figures_without_alt, 0, "{kinds:?}");
    assert!(kinds.get("Table").is_some_and(|n| *n >= 1), "{kinds:?}");
    assert!(kinds.get("TH").is_some_and(|n| *n >= 1), "{kinds:?}");
    // its title, shown as the window title
    assert!(xmp.contains("<dc:title>"), "{xmp}");
    assert!(xmp.contains("Preview test: Bristol"), "{xmp}");
}
