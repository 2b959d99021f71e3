//! A template that reads only files of its own (`data.frames`), with no
//! survey: it renders, its regression equals statsmodels on the same CSV
//! (tests/fixtures/frames/make_frames.py, expected.json), and its outputs
//! name the files it read, as the front matter does, with their hashes.

use crate::common;

use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

const FRAMES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/frames");

#[test]
fn a_frames_only_template_matches_statsmodels_and_names_its_files() {
    let out = tempfile::tempdir().unwrap();
    let template = Path::new(FRAMES).join("election-note.md");
    let (ok, stderr) = common::render(&template, out.path(), &["--to", "html,json"]);
    assert!(ok, "{stderr}");
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("election-note.json")).unwrap(),
    )
    .unwrap();
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(FRAMES).join("expected.json")).unwrap(),
    )
    .unwrap();
    let ols = &want["ols"];
    let rows = json["results"]["interest"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let close = |got: &Value, want: &Value, what: &str| {
        let (g, w) = (got.as_f64().unwrap(), want.as_f64().unwrap());
        assert!(
            (g - w).abs() <= 1e-9 * w.abs().max(1e-300),
            "{what}: coweave {g:e}, statsmodels {w:e}"
        );
    };
    for row in rows {
        let term = row["term"].as_str().unwrap();
        close(
            &row["estimate"],
            &ols["params"][term],
            &format!("{term} estimate"),
        );
        close(&row["se"], &ols["bse"][term], &format!("{term} HC1 se"));
        close(&row["t"], &ols["tvalues"][term], &format!("{term} t"));
        close(&row["r2"], &ols["rsquared"], "R²");
        close(&row["adj_r2"], &ols["rsquared_adj"], "adjusted R²");
        // statsmodels' robust Wald F, F(df_model, df_resid)
        close(&row["f"], &ols["fvalue"], "robust F");
        close(&row["f_p"], &ols["f_pvalue"], "F p");
        close(&row["df_model"], &ols["df_model"], "df_model");
        close(&row["df_resid"], &ols["df_resid"], "df_resid");
        assert_eq!(row["n"], ols["nobs"]);
        assert_eq!(row["robust"], "hc1");
    }
    // the SQL over the wards file: the densest ward, computed by pandas
    let density = &json["results"]["density"][0];
    assert_eq!(density["ward"], want["wards"]["densest"]);
    close(
        &density["per_km2"],
        &want["wards"]["densest_per_km2"],
        "density",
    );
    // provenance: no survey; each frame as the front matter names it, hashed
    let prov = &json["provenance"];
    assert_eq!(prov["data"], "none");
    let frames = prov["frames"].as_array().unwrap();
    let mut names: Vec<(&str, &str)> = frames
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["file"].as_str().unwrap()))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [("election", "election.csv"), ("wards", "wards.csv")]
    );
    for f in frames {
        let bytes = std::fs::read(Path::new(FRAMES).join(f["file"].as_str().unwrap())).unwrap();
        let hash: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(f["sha256"].as_str().unwrap(), hash);
    }
    let html = std::fs::read_to_string(out.path().join("election-note.html")).unwrap();
    assert!(html.contains("election.csv") && html.contains("wards.csv"));
    assert!(!html.contains("survey.csv"), "no survey is named");
    assert!(
        !html.contains(&format!("{FRAMES}/election.csv")),
        "frames are named as the front matter wrote them, not by machine path"
    );
}
