//! The integration tests: one test binary, one module per file in `tests/`.
//!
//! One binary links polars, typst and evcxr once instead of once per file
//! (33 links of about 500 MB each took most of a from-scratch CI build and,
//! on one run, the linker's memory). `Cargo.toml` sets `autotests = false`,
//! so a new `tests/*.rs` runs only once it is declared here; the test at the
//! end fails naming any file that is not. One file's tests:
//! `cargo test --test suite charts::`.

mod common;

mod accessibility;
mod bad_notebooks;
mod batch;
mod briefing;
mod cache;
mod calibration;
mod charts;
mod check_corpus;
mod disclosure;
mod document;
mod docx;
mod downloads;
mod exports;
mod frames;
mod fuzz_regressions;
mod injection;
mod notebook;
mod nothing_lost;
mod pdf;
mod preview;
mod preview_browser;
mod recommend_rules;
mod regress_reference;
mod render;
mod reports;
mod robustness;
mod rust_cells;
mod stats_engine_reference;
mod stats_nist;
mod stats_properties;
mod stats_reference;
mod survey;
mod template_errors;

/// Every `tests/*.rs` file is a module of this binary: with `autotests =
/// false`, a file left out here would compile into nothing and its tests
/// would never run.
#[test]
fn every_test_file_is_a_module_of_the_suite() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let suite = std::fs::read_to_string(dir.join("suite.rs")).unwrap();
    let declared: std::collections::BTreeSet<&str> = suite
        .lines()
        .filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs")
            && stem != "suite"
            && !declared.contains(stem)
        {
            missing.push(format!("tests/{stem}.rs"));
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "declare these in tests/suite.rs (`mod NAME;`) or they never run: {missing:?}"
    );
}
