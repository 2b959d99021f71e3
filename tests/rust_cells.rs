//! `{rust}` cells and Rust notebooks, run for real through evcxr and the
//! `coweave` binary (a cell runs in a child process that is the binary
//! again). The cells are std only, so each session compiles in seconds.
//! What a cell computes is checked against the same number computed here
//! from the frame it read (taken from the render's own JSON).

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn coweave() -> Command {
    let mut c = Command::cargo_bin("coweave").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1764806400");
    c
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const CELLS: &str = r#"---
title: Rust cells
params:
  area:
    type: area
    default: Bristol
---

# Levels

```{sql}
#| name: levels
SELECT area, theme, count(*) AS n, avg(individual) AS individual
FROM long GROUP BY area, theme ORDER BY area, theme
```

```{rust}
#| name: spread
let levels = frame("levels");
let x = levels.f64("individual");
let gap = x.iter().cloned().fold(f64::MIN, f64::max) - x.iter().cloned().fold(f64::MAX, f64::min);
println!("{} rows <b>not bold</b>", levels.height());
put("gap", gap);
let above = levels.filter(|i| x[i] > x.iter().sum::<f64>() / x.len() as f64);
put("above", &above);
show(&above);
```

```{rust}
let here = param("area");
println!("area {here}, twice the gap {:.6}", gap * 2.0);
```

The gap is {{ gap | num(4) }}; {{ above | length }} rows are above the mean.
"#;

/// Every number that follows `key` in `text`, parsed by `str::parse`.
fn numbers_after(text: &str, key: &str) -> Vec<f64> {
    text.match_indices(key)
        .map(|(i, _)| {
            let rest = &text[i + key.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
                .unwrap_or(rest.len());
            rest[..end].parse().unwrap()
        })
        .collect()
}

fn json(out: &Path, stem: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join(format!("{stem}.json"))).unwrap())
        .unwrap()
}

#[test]
fn cells_share_state_read_frames_and_hand_values_to_prose() {
    let dir = tempfile::tempdir().unwrap();
    let t = write(dir.path(), "cells.md", CELLS);
    let out = dir.path().join("out");
    let run = render_verbose(&out, &t);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let j = json(&out, "cells");
    // the gap, recomputed here from the frame the cell read; numbers are
    // read from the JSON text with Rust's correctly rounded parser
    // (serde_json's default float parsing may be one unit in the last
    // place off)
    let raw = std::fs::read_to_string(out.join("cells.json")).unwrap();
    let levels_text = &raw[raw.find("\"levels\": [").unwrap()..];
    let levels_text = &levels_text[..levels_text.find(']').unwrap()];
    let x: Vec<f64> = numbers_after(levels_text, "\"individual\": ");
    assert_eq!(x.len(), j["results"]["levels"].as_array().unwrap().len());
    let max = x.iter().cloned().fold(f64::MIN, f64::max);
    let min = x.iter().cloned().fold(f64::MAX, f64::min);
    let gap = numbers_after(&raw, "\"gap\": ")[0];
    assert_eq!(gap.to_bits(), (max - min).to_bits(), "exact, not rounded");
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let above = x.iter().filter(|v| **v > mean).count();
    assert_eq!(j["results"]["above"].as_array().unwrap().len(), above);
    let html = std::fs::read_to_string(out.join("cells.html")).unwrap();
    assert!(html.contains(&format!("The gap is {max_min:.4}", max_min = max - min)));
    assert!(html.contains(&format!("{above} rows are above the mean")));
    // printed text is escaped and shown under its cell; state carried over
    assert!(
        html.contains("10 rows &lt;b&gt;not bold&lt;/b&gt;"),
        "{html}"
    );
    assert!(html.contains(&format!(
        "area Bristol, twice the gap {:.6}",
        2.0 * (max - min)
    )));
    assert_eq!(
        html.matches("<figure class=\"table\"").count(),
        1,
        "show(&above) is a table"
    );

    // unchanged: nothing compiles again
    let again = render_verbose(&out, &t);
    let log = String::from_utf8_lossy(&again.stderr);
    assert!(log.contains("block 2 ({rust} `spread`): cached"), "{log}");
    assert!(log.contains("block 3 ({rust}): cached"), "{log}");
    assert_eq!(
        std::fs::read_to_string(out.join("cells.html")).unwrap(),
        html,
        "cached render is the same page"
    );

    // only the last cell changed: it runs, after the cached one is replayed
    // to rebuild `gap` in the session
    let edited = CELLS.replace(
        "twice the gap {:.6}\", gap * 2.0",
        "thrice {:.6}\", gap * 3.0",
    );
    write(dir.path(), "cells.md", &edited);
    let third = render_verbose(&out, &t);
    let log = String::from_utf8_lossy(&third.stderr);
    assert!(third.status.success(), "{log}");
    assert!(log.contains("block 2 ({rust} `spread`): cached"), "{log}");
    assert!(
        log.contains("block 3 ({rust}): ran (its code changed)"),
        "{log}"
    );
    let html = std::fs::read_to_string(out.join("cells.html")).unwrap();
    assert!(
        html.contains(&format!("thrice {:.6}", 3.0 * (max - min))),
        "{html}"
    );
}

/// Renders template `t` to HTML and JSON in `out`, saying which blocks ran.
fn render_verbose(out: &Path, t: &Path) -> std::process::Output {
    coweave()
        .args(["render", "--to", "html,json", "-v", "--out"])
        .arg(out)
        .arg(t)
        .output()
        .unwrap()
}

/// Renders `text` as `dir/name` with `extra` arguments; expects a failure
/// and returns what the CLI printed.
fn failing_render(dir: &Path, name: &str, text: &str, extra: &[&str]) -> String {
    let t = write(dir, name, text);
    let run = coweave()
        .arg("render")
        .args(extra)
        .arg("--out")
        .arg(dir.join("out"))
        .arg(&t)
        .output()
        .unwrap();
    assert!(!run.status.success());
    String::from_utf8_lossy(&run.stderr).to_string()
}

#[test]
fn a_compile_error_points_at_the_template_line_with_rustc_s_message() {
    let dir = tempfile::tempdir().unwrap();
    let err = failing_render(
        dir.path(),
        "bad.md",
        "# Bad\n\n```{rust}\n#| name: c\nlet n: i32 = 1;\nlet s: String = n;\n```\n\n```{rust}\nprintln!(\"never\");\n```\n",
        &[],
    );
    // line 6 of the template, column 17: the `n` of `= n;`
    assert!(err.contains("bad.md:6:17"), "{err}");
    assert!(
        err.contains("rustc: error[E0308]: mismatched types"),
        "{err}"
    );
    assert!(
        err.contains("1 error, 0 warnings"),
        "the second cell is not run: {err}"
    );
    assert!(!dir.path().join("out/bad.html").exists());
}

#[test]
fn a_panicking_cell_fails_the_render_with_its_message() {
    let dir = tempfile::tempdir().unwrap();
    let err = failing_render(
        dir.path(),
        "panic.md",
        "```{rust}\nlet v: Vec<i32> = Vec::new();\nif v.is_empty() { panic!(\"no rows for {}\", \"Bristol\"); }\n```\n",
        &[],
    );
    assert!(
        err.contains("the Rust cell panicked: no rows for Bristol"),
        "{err}"
    );
    assert!(err.contains("panic.md:1:5"), "{err}");
}

#[test]
fn no_exec_refuses_rust_cells_before_running_anything() {
    let dir = tempfile::tempdir().unwrap();
    let err = failing_render(dir.path(), "cells.md", CELLS, &["--no-exec"]);
    assert!(
        err.contains("runs rust code, and --no-exec refuses to run code from a template"),
        "{err}"
    );
    assert!(err.contains("cells.md:17:5"), "{err}");
}

fn notebook(cells: &[(&str, &str, &[&str])]) -> String {
    let cells: Vec<Value> = cells
        .iter()
        .map(|(kind, src, tags)| {
            let mut c = serde_json::json!({
                "cell_type": kind, "metadata": {"tags": tags}, "source": src
            });
            if *kind == "code" {
                c["outputs"] = serde_json::json!([]);
                c["execution_count"] = Value::Null;
            }
            c
        })
        .collect();
    serde_json::json!({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
        .to_string()
}

#[test]
fn notebook_run_injects_parameters_and_records_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let nb = write(
        dir.path(),
        "p.ipynb",
        &notebook(&[
            ("markdown", "# Params", &[]),
            (
                "code",
                "let area: &str = \"Bristol\";\nlet n = 3;",
                &["parameters"],
            ),
            (
                "code",
                "let label = format!(\"{area}:{}\", n * 2);\nprintln!(\"{label}\");",
                &[],
            ),
            ("code", "label.len()", &[]),
        ]),
    );
    let out = dir.path().join("done.ipynb");
    let run = coweave()
        .args([
            "notebook",
            "run",
            "--param",
            "area=Tower Hamlets",
            "--param",
            "n=5",
            "--out",
        ])
        .arg(&out)
        .arg(&nb)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let done: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let cells = done["cells"].as_array().unwrap();
    assert_eq!(
        cells.len(),
        5,
        "the injected cell follows the parameters cell"
    );
    assert_eq!(cells[2]["metadata"]["tags"][0], "injected-parameters");
    let text = |v: &Value| -> String {
        match v {
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            Value::String(s) => s.clone(),
            _ => String::new(),
        }
    };
    assert_eq!(
        text(&cells[2]["source"]),
        "// Injected parameters\nlet area: &str = \"Tower Hamlets\";\nlet n = 5;"
    );
    assert_eq!(text(&cells[3]["outputs"][0]["text"]), "Tower Hamlets:10\n");
    assert_eq!(cells[3]["outputs"][0]["output_type"], "stream");
    let result = &cells[4]["outputs"][0];
    assert_eq!(result["output_type"], "execute_result");
    assert_eq!(text(&result["data"]["text/plain"]), "16");
    assert_eq!(cells[4]["execution_count"], 4);
    // the input notebook is only read
    assert!(
        std::fs::read_to_string(&nb)
            .unwrap()
            .contains("\"outputs\":[]")
    );
}

#[test]
fn a_failing_notebook_cell_stops_the_run_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let nb = write(
        dir.path(),
        "f.ipynb",
        &notebook(&[
            ("code", "let a = 1;", &[]),
            ("code", "let b: String = a;", &[]),
            ("code", "println!(\"not reached\");", &[]),
        ]),
    );
    let run = coweave()
        .args(["notebook", "run"])
        .arg(&nb)
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("cell 2 failed"), "{err}");
    assert!(err.contains("mismatched types"), "{err}");
    let done: Value = serde_json::from_str(&std::fs::read_to_string(&nb).unwrap()).unwrap();
    let failed = &done["cells"][1]["outputs"][0];
    assert_eq!(failed["output_type"], "error");
    assert_eq!(failed["ename"], "CompilationError");
    assert!(failed["evalue"].as_str().unwrap().contains("E0308"));
    assert_eq!(done["cells"][2]["execution_count"], Value::Null, "not run");
}

#[test]
fn a_file_that_is_not_a_notebook_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let nb = write(
        dir.path(),
        "x.ipynb",
        "{\n  \"cells\": [\n    oops\n  ]\n}\n",
    );
    let run = coweave()
        .args(["notebook", "run"])
        .arg(&nb)
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("not a notebook: the file is not valid JSON"),
        "{err}"
    );
    assert!(err.contains("x.ipynb:3:5"), "{err}");
}

#[test]
fn a_parallel_batch_gives_each_output_its_own_session() {
    // the sessions of one process build in one folder: parallel renders of
    // code cells must not load each other's code
    let dir = tempfile::tempdir().unwrap();
    let t = write(dir.path(), "cells.md", CELLS);
    let rows = write(dir.path(), "rows.csv", "area\nBarnet\nSwansea\nBristol\n");
    let out = dir.path().join("out");
    let run = coweave()
        .args(["render", "--to", "html", "--jobs", "2", "--params"])
        .arg(&rows)
        .arg("--out")
        .arg(&out)
        .arg(&t)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    for area in ["Barnet", "Swansea", "Bristol"] {
        let html =
            std::fs::read_to_string(out.join(format!("cells--{}.html", area.to_lowercase())))
                .unwrap();
        assert!(
            html.contains(&format!("area {area}, twice the gap")),
            "{area}"
        );
        for other in ["Barnet", "Swansea", "Bristol"]
            .iter()
            .filter(|o| **o != area)
        {
            assert!(
                !html.contains(&format!("area {other},")),
                "{area} shows {other}"
            );
        }
    }
}
