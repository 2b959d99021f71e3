//! Inputs the fuzzers (fuzz/, cargo-fuzz) found crashing, replayed through
//! the same library calls as the fuzz targets, in the ordinary test suite:
//! each must now give a result or located messages, never a panic.
//! `fuzz/regressions/<target>/` holds them; see fuzz/README.md.

use std::path::{Path, PathBuf};

use coweave::survey::Survey;
use coweave::survey::codebook::Codebook;

fn cases(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The CSV + codebook target: the bundled codebook, the bytes as an export.
#[test]
fn csv_exports_that_crashed_the_loader_give_messages() {
    let codebook = Codebook::parse(
        Path::new("codebook.toml"),
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/codebook.toml"))
            .unwrap(),
    )
    .unwrap();
    let files = cases("csv_survey");
    assert!(!files.is_empty(), "no regression cases");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        match Survey::from_csv_bytes(Path::new(&name), &bytes, codebook.clone()) {
            Ok(_) => {}
            Err(d) => {
                let text = d.to_string();
                assert!(text.contains(&name), "{name}: no file named in {text}");
            }
        }
    }
}
