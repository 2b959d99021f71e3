//! What the CLI tests share: running `coweave render` with a fixed date.

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
