//! What the tests share: running `coweave render` with a fixed date, and
//! the helpers below (a browser, a PDF reader, a preview server, …).

pub mod browser;
pub mod by_hand;
pub mod install;
pub mod pdf;
pub mod preview;
pub mod uri;

use std::path::Path;

use assert_cmd::Command;

/// `coweave render TEMPLATE --out OUT EXTRA…` with SOURCE_DATE_EPOCH set;
/// whether it succeeded, and its standard error.
pub fn render(template: &Path, out: &Path, extra: &[&str]) -> (bool, String) {
    let o = Command::cargo_bin("coweave")
        .unwrap()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args([
            "render",
            &template.display().to_string(),
            "--out",
            &out.display().to_string(),
        ])
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}
