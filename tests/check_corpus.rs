//! `coweave check` on a corpus of broken exports (tests/fixtures/broken/*):
//! every problem is reported with its place, in one run, never a panic.
//! Messages are snapshot-tested; refresh with `cargo insta review`. What
//! backs the snapshots: each case's fault is described in its fixture and
//! the message was checked to name that row and column when accepted; the
//! test itself asserts the exit code.

use std::path::Path;

use assert_cmd::Command;

fn run_check(case: &Path) -> (i32, String) {
    let codebook = if case.join("codebook.toml").exists() {
        "codebook.toml"
    } else {
        "../codebook.toml"
    };
    let out = Command::cargo_bin("coweave")
        .unwrap()
        .current_dir(case)
        .args(["check", "--data", "data.csv", "--codebook", codebook])
        .output()
        .unwrap();
    let code = out.status.code().expect("exited normally, not by a signal");
    let text = format!(
        "exit: {code}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (code, text)
}

#[test]
fn broken_exports_are_reported_with_their_place() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "corpus has only {} cases", cases.len());
    let loads_cleanly = [
        "clean",
        "bom_crlf",
        "extra_column",
        "reversed_scale",
        "codebook_no_id",
    ];
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let (code, text) = run_check(&case);
        assert!(!text.contains("panicked"), "{name} panicked:\n{text}");
        if loads_cleanly.contains(&name.as_str()) {
            assert_eq!(code, 0, "{name} should pass:\n{text}");
        } else {
            assert_eq!(code, 1, "{name} should fail:\n{text}");
            assert!(
                text.contains("error: "),
                "{name} has no error message:\n{text}"
            );
        }
        insta::with_settings!({snapshot_path => "snapshots/check", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(name, text);
        });
    }
}

#[test]
fn strict_turns_warnings_into_errors() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken/extra_column");
    let out = Command::cargo_bin("coweave")
        .unwrap()
        .current_dir(&case)
        .args([
            "check",
            "--strict",
            "--data",
            "data.csv",
            "--codebook",
            "../codebook.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("column `timestamp` is not in the codebook")
    );
}

/// 1 GB on one line (a sparse file: no disk is used): refused after the
/// first MiB with one message at line 1, not read whole into memory.
#[test]
fn a_gigabyte_on_one_line_is_refused_at_line_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = std::fs::File::create(dir.path().join("data.csv")).unwrap();
    data.set_len(1 << 30).unwrap();
    drop(data);
    let codebook =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken/codebook.toml");
    let out = Command::cargo_bin("coweave")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "--data", "data.csv", "--codebook"])
        .arg(&codebook)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    insta::assert_snapshot!("one_gigabyte_line", stderr);
}
