//! Parameter matrices through the binary: `--each` (repeated), `--params
//! FILE.csv`, `--shard I/N`, `--jobs`; a failing output fails alone.
//! What backs the checks: each output's own JSON says which parameters it
//! was rendered with (its provenance), and the file sets are compared with
//! the product of the codebook's areas and themes, read from the codebook.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use assert_cmd::Command;

const TEMPLATE: &str = r#"---
title: "Batch {{ params.area }} / {{ params.theme }}"
params:
  area: { type: area, default: Bristol }
  theme: { type: theme, default: environment }
  measure: { type: string, default: individual, choices: [individual, collective, nonsense] }
---

```{stats}
#| name: levels
levels:
  measures: [individual, collective]
  by: [area]
```

```{stats}
#| name: chosen
levels:
  measures: [{{ params.measure }}]
  by: [area]
```

```{sql}
#| name: here
SELECT area, variable, estimate, n FROM chosen WHERE area = {{ params.area }}
```

```{table}
#| label: tbl-here
#| caption: "The chosen measure in {{ params.area }}"
data: here
columns: [area, variable, { name: estimate, format: pct }, n]
```

This page is about {{ params.area }} and the theme {{ params.theme }}.
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.md"), TEMPLATE).unwrap();
    dir
}

/// `coweave render t.md --to json --out OUT EXTRA…` in `dir`: success and stderr.
fn render(dir: &Path, out: &str, extra: &[&str]) -> (bool, String) {
    let o = Command::cargo_bin("coweave")
        .unwrap()
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["render", "t.md", "--to", "json", "--out", out])
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// Every output file in `dir` with its bytes.
fn outputs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// The parameters an output's JSON says it was rendered with.
fn params_of(json: &[u8]) -> BTreeMap<String, String> {
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    let params = v
        .pointer("/provenance/params")
        .unwrap_or_else(|| panic!("no provenance.params in {v}"));
    params
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect()
}

/// The codebook's area names and theme ids, read from the TOML itself.
fn areas_and_themes() -> (Vec<String>, Vec<String>) {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/codebook.toml"))
            .unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    let names = |key: &str, field: &str| -> Vec<String> {
        let mut seen = Vec::new();
        for t in v[key].as_array().unwrap() {
            let s = t[field].as_str().unwrap().to_string();
            if !seen.contains(&s) {
                seen.push(s);
            }
        }
        seen
    };
    (names("areas", "name"), names("themes", "id"))
}

#[test]
fn each_twice_renders_the_product_with_distinct_named_outputs() {
    let dir = project();
    let (ok, err) = render(
        dir.path(),
        "out",
        &["--each", "area", "--each", "theme", "--jobs", "2"],
    );
    assert!(ok, "{err}");
    let files = outputs(&dir.path().join("out"));
    let (areas, themes) = areas_and_themes();
    assert_eq!(
        files.len(),
        areas.len() * themes.len(),
        "{:?}",
        files.keys()
    );
    // each file is the combination its name says, and each combination is there once
    let mut seen = BTreeSet::new();
    for (name, bytes) in &files {
        let p = params_of(bytes);
        let slug = |s: &str| s.to_lowercase().replace([' ', '_'], "-");
        assert_eq!(
            name,
            &format!("t--{}-{}.json", slug(&p["area"]), slug(&p["theme"])),
        );
        let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        assert_eq!(v["title"], format!("Batch {} / {}", p["area"], p["theme"]));
        assert!(seen.insert((p["area"].clone(), p["theme"].clone())));
    }
    let expected: BTreeSet<(String, String)> = areas
        .iter()
        .flat_map(|a| themes.iter().map(move |t| (a.clone(), t.clone())))
        .collect();
    assert_eq!(seen, expected);
    // distinct content: no two outputs are the same bytes
    let distinct: BTreeSet<&Vec<u8>> = files.values().collect();
    assert_eq!(distinct.len(), files.len());
    // the block no parameter touches ran once, not once per output
    let (ok, err) = render(
        dir.path(),
        "again",
        &["--each", "area", "--no-cache", "-v", "--jobs", "1"],
    );
    assert!(ok, "{err}");
    let ran = err
        .lines()
        .filter(|l| l.contains("`levels`") && l.contains(": ran"))
        .count();
    let shared = err
        .lines()
        .filter(|l| l.contains("`levels`") && l.contains(": shared"))
        .count();
    assert_eq!((ran, shared), (1, areas.len() - 1), "{err}");
}

#[test]
fn parallel_and_serial_runs_write_the_same_bytes() {
    let dir = project();
    let (ok, err) = render(
        dir.path(),
        "one",
        &["--each", "area", "--jobs", "1", "--no-cache"],
    );
    assert!(ok, "{err}");
    let (ok, err) = render(dir.path(), "two", &["--each", "area", "--jobs", "2"]);
    assert!(ok, "{err}");
    let (one, two) = (
        outputs(&dir.path().join("one")),
        outputs(&dir.path().join("two")),
    );
    assert_eq!(one.len(), areas_and_themes().0.len());
    assert_eq!(one, two);
}

#[test]
fn shards_partition_the_matrix_exactly() {
    let dir = project();
    let (ok, err) = render(dir.path(), "all", &["--each", "area", "--each", "theme"]);
    assert!(ok, "{err}");
    let all = outputs(&dir.path().join("all"));
    let mut union = BTreeMap::new();
    let mut sizes = Vec::new();
    for i in 1..=3 {
        let out = format!("shard{i}");
        let (ok, err) = render(
            dir.path(),
            &out,
            &[
                "--each",
                "area",
                "--each",
                "theme",
                "--shard",
                &format!("{i}/3"),
            ],
        );
        assert!(ok, "{err}");
        assert!(err.contains(&format!("shard {i}/3:")), "{err}");
        let part = outputs(&dir.path().join(&out));
        sizes.push(part.len());
        for (name, bytes) in part {
            assert!(
                union.insert(name.clone(), bytes).is_none(),
                "{name} in two shards"
            );
        }
    }
    // equal slices (sizes differ by at most one), together exactly the whole
    assert!(
        sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
        "{sizes:?}"
    );
    assert_eq!(union, all);
    // a shard outside 1..=N is refused before anything renders
    let (ok, err) = render(dir.path(), "bad", &["--each", "area", "--shard", "4/3"]);
    assert!(!ok);
    assert!(err.contains("--shard"), "{err}");
    assert!(!dir.path().join("bad").exists());
}

#[test]
fn one_failing_output_fails_alone_and_sets_the_exit_code() {
    let dir = project();
    let (ok, err) = render(dir.path(), "out", &["--each", "measure"]);
    assert!(!ok, "the run must say that one output failed");
    // the failure names its parameters; the others were written
    assert!(err.contains("failed: t.md (measure=nonsense)"), "{err}");
    assert!(err.contains("nonsense"), "{err}");
    assert!(err.contains("2 of 3 outputs rendered"), "{err}");
    let files = outputs(&dir.path().join("out"));
    let names: Vec<&String> = files.keys().collect();
    assert_eq!(names, ["t--collective.json", "t--individual.json"]);
    assert_eq!(
        params_of(&files["t--collective.json"])["measure"],
        "collective"
    );
}

#[test]
fn a_params_file_renders_one_output_per_row() {
    let dir = project();
    std::fs::write(
        dir.path().join("rows.csv"),
        "area,measure\nBarnet,collective\nSwansea,\n",
    )
    .unwrap();
    let (ok, err) = render(dir.path(), "out", &["--params", "rows.csv"]);
    assert!(ok, "{err}");
    let files = outputs(&dir.path().join("out"));
    assert_eq!(files.len(), 2, "{:?}", files.keys());
    let barnet = params_of(&files["t--barnet-collective.json"]);
    assert_eq!(barnet["area"], "Barnet");
    assert_eq!(barnet["measure"], "collective");
    // an empty cell leaves the parameter at its default
    let swansea = params_of(&files["t--swansea.json"]);
    assert_eq!(swansea["measure"], "individual");

    // rows that name the same output twice are refused before any render
    std::fs::write(dir.path().join("twice.csv"), "area\nBarnet\nbarnet\n").unwrap();
    let (ok, err) = render(dir.path(), "twice", &["--params", "twice.csv"]);
    assert!(!ok);
    assert!(
        err.contains("two outputs would both be written to"),
        "{err}"
    );
    assert!(!dir.path().join("twice").exists());

    // a malformed file names its line
    std::fs::write(dir.path().join("bad.csv"), "area,measure\nBarnet\n").unwrap();
    let (ok, err) = render(dir.path(), "bad", &["--params", "bad.csv"]);
    assert!(!ok);
    assert!(err.contains("bad.csv:2"), "{err}");
}

#[test]
fn misspelt_or_repeated_parameters_are_refused() {
    let dir = project();
    let (ok, err) = render(dir.path(), "out", &["--each", "area", "--each", "area"]);
    assert!(!ok);
    assert!(err.contains("--each area is given twice"), "{err}");
    // a CSV column also given to --each: --each's value is the one rendered and named
    std::fs::write(dir.path().join("rows.csv"), "area\nBarnet\n").unwrap();
    let (ok, err) = render(
        dir.path(),
        "out",
        &["--params", "rows.csv", "--each", "area", "--shard", "1/5"],
    );
    assert!(ok, "{err}");
    let files = outputs(&dir.path().join("out"));
    let (name, bytes) = files.iter().next().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(
        name,
        &format!("t--{}.json", params_of(bytes)["area"].to_lowercase())
    );
    // with no template named (every one in reports/), a parameter no template has
    std::fs::create_dir(dir.path().join("reports")).unwrap();
    std::fs::write(dir.path().join("reports/t.md"), TEMPLATE).unwrap();
    let o = Command::cargo_bin("coweave")
        .unwrap()
        .current_dir(dir.path())
        .args(["render", "--each", "aera", "--out", "typo"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("no template in reports/ has a parameter `aera`"),
        "{err}"
    );
    assert!(err.contains("did you mean `area`?"), "{err}");
    assert!(!dir.path().join("typo").exists());
}

/// Every report in `reports/`, every area, in every format (the README's
/// command), with one job and without the cache, then with four jobs and
/// the cache; then the templates that take an area listed by hand in
/// reverse order: the same files, byte for byte.
#[test]
fn every_format_is_byte_identical_whatever_the_jobs_and_the_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let run = |name: &str, templates: &[String], extra: &[&str]| {
        let o = Command::cargo_bin("coweave")
            .unwrap()
            .current_dir(root)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .arg("render")
            .args(templates)
            .args([
                "--each",
                "area",
                "--to",
                "html,pdf,json,ipynb,docx",
                "--out",
            ])
            .arg(out.path().join(name))
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        outputs(&out.path().join(name))
    };
    let one = run("one", &[], &["--jobs", "1", "--no-cache"]);
    let four = run("four", &[], &["--jobs", "4"]);
    for ext in ["html", "pdf", "json", "ipynb", "docx"] {
        assert!(
            one.keys().any(|k| k.ends_with(&format!(".{ext}"))),
            "no .{ext} among {:?}",
            one.keys()
        );
    }
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        four.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &one {
        assert!(four[name] == *bytes, "{name} differs between -j 1 and -j 4");
    }
    // the templates with an `area` parameter, named in reverse order
    let mut by_area: Vec<String> = std::fs::read_dir(root.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .split("\n---")
                .next()
                .is_some_and(|front| front.contains("\n  area:"))
        })
        // named as the README's command names them, relative to the root
        .map(|p| format!("reports/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    by_area.sort();
    by_area.reverse();
    assert!(by_area.len() >= 2, "{by_area:?}");
    let reversed = run("reversed", &by_area, &["--jobs", "4", "--no-cache"]);
    assert!(reversed.len() >= 10, "{:?}", reversed.keys());
    for (name, bytes) in &reversed {
        assert!(one[name] == *bytes, "{name} differs when listed in reverse");
    }
}
