//! Notebooks coweave cannot read (tests/fixtures/bad/notebooks/*.ipynb):
//! `coweave convert` and `coweave notebook run` fail with exit code 1, a
//! message naming the file and the line (and column, for JSON syntax) or
//! the cell, and write nothing. Messages are snapshots; what backs them:
//! each fixture holds one fault, and the message was checked to name it
//! and its place when accepted.

use std::path::Path;

use assert_cmd::Command;

fn fails(args: &[&str], dir: &Path, out: &Path, name: &str) -> String {
    let o = Command::cargo_bin("coweave")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{name} should fail:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{name} panicked:\n{stderr}");
    assert!(stderr.contains("error: "), "{name}: no error:\n{stderr}");
    assert!(
        stderr.contains(&format!("--> {name}")),
        "{name}: the file is not named:\n{stderr}"
    );
    assert!(!out.exists(), "{name}: a failed conversion wrote {out:?}");
    stderr
}

#[test]
fn bad_notebooks_are_refused_with_their_place() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad/notebooks");
    let out = tempfile::tempdir().unwrap();
    let cases = std::fs::read_dir(&dir).unwrap().flatten().count();
    assert!(cases >= 8, "only {cases} bad notebooks");
    insta::with_settings!({
        snapshot_path => "snapshots/notebooks",
        prepend_module_to_snapshot => false,
    }, {
        insta::glob!("fixtures/bad/notebooks/*.ipynb", |case| {
            let name = case.file_name().unwrap().to_string_lossy().to_string();
            let md = out.path().join(format!("{name}.md"));
            let stderr = fails(
                &["convert", &name, &md.display().to_string()],
                &dir,
                &md,
                &name,
            );
            insta::assert_snapshot!("convert", stderr);
        });
    });
}

/// `notebook run` reads notebooks the same way: the same message.
#[cfg(feature = "rust")]
#[test]
fn notebook_run_refuses_them_the_same_way() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad/notebooks");
    let out = tempfile::tempdir().unwrap();
    for name in ["not_json.ipynb", "unknown_cell_type.ipynb"] {
        let target = out.path().join(name);
        let run = fails(
            &[
                "notebook",
                "run",
                name,
                "--out",
                &target.display().to_string(),
            ],
            &dir,
            &target,
            name,
        );
        let md = out.path().join("x.md");
        let convert = fails(
            &["convert", name, &md.display().to_string()],
            &dir,
            &md,
            name,
        );
        let first = |s: &str| s.lines().next().unwrap_or("").to_string();
        assert_eq!(first(&run), first(&convert), "{name}");
    }
}
