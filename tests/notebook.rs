//! Templates and notebooks without running Rust: `coweave convert` both
//! ways (every report comes back byte for byte) and `--to ipynb` (cells
//! where the template has them, outputs that are the report's own numbers).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn coweave() -> Command {
    let mut c = Command::cargo_bin("coweave").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1764806400");
    c
}

fn text(v: &Value) -> String {
    match v {
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

#[test]
fn every_report_converts_to_a_notebook_and_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(root().join("reports")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let nb = dir.path().join(format!("{stem}.ipynb"));
        let back = dir.path().join(format!("{stem}.md"));
        coweave()
            .arg("convert")
            .arg(&path)
            .arg(&nb)
            .assert()
            .success();
        coweave()
            .arg("convert")
            .arg(&nb)
            .arg(&back)
            .assert()
            .success();
        let original = std::fs::read(&path).unwrap();
        assert!(
            std::fs::read(&back).unwrap() == original,
            "{stem}: the round trip changed the template"
        );
        // the notebook is nbformat 4 with one code cell per block
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&nb).unwrap()).unwrap();
        assert_eq!(v["nbformat"], 4);
        let blocks = String::from_utf8_lossy(&original)
            .lines()
            .filter(|l| l.starts_with("```{"))
            .count();
        let code = v["cells"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["cell_type"] == "code")
            .count();
        assert_eq!(code, blocks, "{stem}");
        seen += 1;
    }
    assert!(seen >= 4);
}

#[test]
fn convert_refuses_to_overwrite_and_names_bad_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.ipynb");
    std::fs::write(&out, "keep").unwrap();
    let t = root().join("reports/first-look.md");
    let run = coweave().arg("convert").arg(&t).arg(&out).output().unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("add --force"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep");
    let run = coweave()
        .arg("convert")
        .arg(&t)
        .arg(dir.path().join("x.html"))
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("cannot convert .md to .html"));
}

fn rendered(dir: &Path) -> (Value, Value) {
    coweave()
        .args([
            "render",
            "--to",
            "ipynb,json",
            "--param",
            "area=Bristol",
            "--out",
        ])
        .arg(dir)
        .arg(root().join("reports/first-look.md"))
        .assert()
        .success();
    let read = |ext: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("first-look--bristol.{ext}"))).unwrap(),
        )
        .unwrap()
    };
    (read("ipynb"), read("json"))
}

#[test]
fn a_report_renders_to_an_executed_notebook() {
    let dir = tempfile::tempdir().unwrap();
    let (nb, json) = rendered(dir.path());
    let cells = nb["cells"].as_array().unwrap();
    assert_eq!(cells[0]["cell_type"], "raw", "the front matter first");
    assert!(text(&cells[0]["source"]).starts_with("---\n"));
    let title = text(&cells[1]["source"]);
    assert!(title.contains("Synthetic data"), "the data notice: {title}");
    assert_eq!(cells[1]["metadata"]["coweave"]["generated"], true);
    // prose is rendered: no template syntax left
    for c in cells.iter().filter(|c| c["cell_type"] == "markdown") {
        let t = text(&c["source"]);
        assert!(
            !t.contains("{{") && !t.contains("@tbl-") && !t.contains("@fig-"),
            "{t}"
        );
    }
    // every named frame's cell shows the frame; its CSV is the JSON's rows
    let mut checked = 0;
    for c in cells.iter().filter(|c| c["cell_type"] == "code") {
        let src = text(&c["source"]);
        let Some(name) = src
            .lines()
            .find_map(|l| l.strip_prefix("#| name: ").map(str::trim))
        else {
            continue;
        };
        let Some(rows) = json["results"][name].as_array() else {
            continue;
        };
        let out = c["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["output_type"] == "execute_result")
            .unwrap_or_else(|| panic!("{name} has no frame output"));
        let csv = text(&out["data"]["text/plain"]);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), rows.len(), "{name}");
        for (rec, row) in records.iter().zip(rows) {
            for (h, cell) in header.iter().zip(rec.iter()) {
                match &row[h] {
                    Value::Number(n) => {
                        let x: f64 = cell.parse().unwrap();
                        assert!(
                            (x - n.as_f64().unwrap()).abs() <= 1e-12 * x.abs().max(1.0),
                            "{name}.{h}"
                        );
                    }
                    Value::String(s) => assert_eq!(cell, s, "{name}.{h}"),
                    Value::Null => assert_eq!(cell, "", "{name}.{h}"),
                    Value::Bool(b) => assert_eq!(cell, b.to_string(), "{name}.{h}"),
                    other => panic!("{other}"),
                }
            }
        }
        checked += 1;
    }
    assert!(checked > 0);
    // charts are SVG with their alt text as the plain form
    let figures: Vec<&Value> = cells
        .iter()
        .flat_map(|c| c["outputs"].as_array().into_iter().flatten())
        .filter(|o| o["data"]["image/svg+xml"].is_array())
        .collect();
    assert!(!figures.is_empty());
    for f in figures {
        assert!(text(&f["data"]["image/svg+xml"]).contains("<svg"));
        assert!(!text(&f["data"]["text/plain"]).is_empty());
    }
    // same inputs, same bytes
    let again = tempfile::tempdir().unwrap();
    let (nb2, _) = rendered(again.path());
    assert_eq!(nb, nb2);
}
