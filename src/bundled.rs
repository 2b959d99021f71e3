//! The bundled synthetic survey, embedded so every template renders out of
//! the box from any directory.

/// data/survey.csv.
pub const SURVEY_CSV: &[u8] = include_bytes!("../data/survey.csv");
/// data/codebook.toml.
pub const CODEBOOK: &str = include_str!("../data/codebook.toml");
/// data/published_tables.toml.
pub const PUBLISHED: &str = include_str!("../data/published_tables.toml");

/// Cargo.lock, for the versions of the crates a render used.
pub const CARGO_LOCK: &str = include_str!("../Cargo.lock");

/// coweave's version and those of its core crates, from Cargo.lock.
pub fn crate_versions() -> Vec<(String, String)> {
    let wanted = [
        "polars",
        "statrs",
        "minijinja",
        "pulldown-cmark",
        "plotters",
        "serde-saphyr",
        "polars-readstat-rs",
        "typst",
        "typst-pdf",
    ];
    let mut out = vec![("coweave".to_string(), env!("CARGO_PKG_VERSION").to_string())];
    let mut name: Option<&str> = None;
    for line in CARGO_LOCK.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"'));
        } else if let (Some(n), Some(v)) = (name, line.strip_prefix("version = ")) {
            if wanted.contains(&n) && !out.iter().any(|(x, _)| x == n) {
                out.push((n.to_string(), v.trim_matches('"').to_string()));
            }
            name = None;
        }
    }
    out.push((
        "rust (minimum)".to_string(),
        env!("CARGO_PKG_RUST_VERSION").to_string(),
    ));
    out
}
