//! Broken templates (tests/fixtures/bad/templates/*.md): every failure is
//! reported with the template's file, line and column, a snippet and a hint
//! where one helps; exit code 1; nothing written. Messages are snapshots
//! (`cargo insta review` to refresh). A `NAME.args` file holds extra
//! command-line arguments for `NAME.md`. What backs the snapshots: each
//! fixture holds one fault at a known place, and the message was checked to
//! point there when accepted; the test asserts the exit code and that no
//! output was written.

use std::path::Path;

use assert_cmd::Command;

/// One broken template: it fails with a located error and writes nothing.
fn check(case: &Path) -> String {
    let dir = case.parent().unwrap();
    let name = case.file_stem().unwrap().to_string_lossy().to_string();
    let out = tempfile::tempdir().unwrap();
    let mut args = vec![
        "render".to_string(),
        format!("{name}.md"),
        "--no-cache".into(),
        "--out".into(),
        out.path().display().to_string(),
    ];
    if let Ok(extra) = std::fs::read_to_string(dir.join(format!("{name}.args"))) {
        args.extend(extra.split_whitespace().map(str::to_string));
    }
    let result = Command::cargo_bin("coweave")
        .unwrap()
        .current_dir(dir)
        .args(&args)
        .output()
        .unwrap();
    // folders named in hints (where paths are resolved from) differ per machine
    let stderr =
        String::from_utf8_lossy(&result.stderr).replace(&dir.display().to_string(), "[FIXTURES]");
    assert_eq!(
        result.status.code(),
        Some(1),
        "{name} should fail:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{name} panicked:\n{stderr}");
    assert!(
        stderr.contains("error: "),
        "{name}: no error line:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("--> {name}.md")),
        "{name}: no location in the template:\n{stderr}"
    );
    let written: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .collect();
    assert!(
        written.is_empty(),
        "{name}: a failed render wrote {written:?}"
    );
    stderr
}

/// `insta::glob!` runs every case and reports every failing one, not only
/// the first.
#[test]
fn broken_templates_report_place_and_write_nothing() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad/templates");
    let cases = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .count();
    assert!(cases >= 20, "only {cases} broken templates");
    insta::with_settings!({
        snapshot_path => "snapshots/templates",
        prepend_module_to_snapshot => false,
    }, {
        insta::glob!("fixtures/bad/templates/*.md", |case| {
            insta::assert_snapshot!("error", check(case));
        });
    });
}
