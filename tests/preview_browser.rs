//! `coweave preview` in a real browser: headless Chromium, driven over the
//! Chrome DevTools protocol, opens the page, checks its title and that
//! every figure drew, then the template is edited on disk (the page
//! changes), broken (the overlay shows) and fixed (it goes), and a
//! parameter is switched from the page's select.
//!
//! Needs Chromium. On a Debian or Ubuntu machine where the tests run as
//! root it is installed with apt-get when missing; elsewhere the test fails
//! saying what to install (or set COWEAVE_CHROMIUM to the browser).

use crate::common::{browser, preview};

use browser::Browser;
use preview::{Preview, template};
use serde_json::json;

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
