//! Disclosure control reaches everything a reader can reach. A survey with
//! one small area (Smallville, 7 respondents, 3 of them taking part) is
//! rendered twice: with the threshold off, the area's figures appear in the
//! outputs (so the search below can find them); with the default threshold
//! of 10, none of them appears anywhere: not in the HTML (table, prose,
//! chart, its data table, the CSV downloads), the JSON, or the PDF's text.

use crate::common::{self, pdf, uri};

use serde_json::Value;

const CODEBOOK: &str = r#"
[survey]
title = "Small-cell test"

[[areas]]
code = 1
name = "Northtown"
themes = ["environment"]

[[areas]]
code = 2
name = "Smallville"
themes = ["environment"]

[[themes]]
id = "environment"
label = "Local environment"

[value_sets.frequency]
labels = { 1 = "Often", 2 = "Sometimes", 3 = "Rarely", 4 = "Never", 9 = "Don't know" }
positive = [1, 2]
dont_know = [9]

[[variables]]
name = "id"
role = "id"

[[variables]]
name = "area"
role = "area"

[[variables]]
name = "env_1"
role = "individual"
theme = "environment"
values = "frequency"

[[variables]]
name = "env_col"
role = "collective"
theme = "environment"
values = "frequency"
"#;

fn template(min_base: u32) -> String {
    format!(
        r#"---
title: Small cells
disclosure: {{ min_base: {min_base} }}
data:
  survey: data.csv
  codebook: codebook.toml
---

```{{stats}}
#| name: levels
levels:
  measures: [collective]
  by: [area]
```

```{{sql}}
#| name: by_area
SELECT area, estimate, ci_low, ci_high, n FROM levels ORDER BY area
```

In Smallville {{{{ levels.smallville.collective | pct(1) }}}} take part
({{{{ levels.smallville.collective | ci(1) }}}}, raw {{{{ levels.smallville.collective.estimate }}}});
in Northtown {{{{ levels.northtown.collective | pct(1) }}}}.

```{{table}}
#| label: tbl-levels
#| caption: Collective co-production by area
data: by_area
columns: [area, {{ name: estimate, format: pct, digits: 1 }}, {{ label: "95% CI", ci: [ci_low, ci_high], format: pct, digits: 1 }}, {{ name: n, label: Base }}]
base: n
```

```{{chart}}
#| label: fig-levels
#| caption: Collective co-production by area
kind: bar
data: levels
x: area
y: estimate
ci: [ci_low, ci_high]
percent: true
```
"#
    )
}

/// 120 Northtown respondents (30 taking part), 7 in Smallville (3).
fn data() -> String {
    let mut s = String::from("id,area,env_1,env_col\n");
    for i in 0..120 {
        let col = if i < 30 { 1 } else { 4 };
        s.push_str(&format!("{},1,{},{col}\n", 1000 + i, 1 + i % 4));
    }
    for i in 0..7 {
        let col = if i < 3 { 2 } else { 4 };
        s.push_str(&format!("{},2,{},{col}\n", 2000 + i, 1 + i % 4));
    }
    s
}

/// Every text a reader can reach: the page, each CSV behind it, the JSON
/// and the PDF's text.
fn outputs(min_base: u32) -> (Vec<(String, String)>, Value) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("codebook.toml"), CODEBOOK).unwrap();
    std::fs::write(dir.path().join("data.csv"), data()).unwrap();
    let t = dir.path().join("small.md");
    std::fs::write(&t, template(min_base)).unwrap();
    let out = dir.path().join("out");
    let (ok, err) = common::render(&t, &out, &["--no-cache", "--to", "html,json,pdf"]);
    assert!(ok, "{err}");
    let html = std::fs::read_to_string(out.join("small.html")).unwrap();
    let json = std::fs::read_to_string(out.join("small.json")).unwrap();
    let pdf_text = pdf::read(&std::fs::read(out.join("small.pdf")).unwrap()).text;
    let mut texts = vec![
        ("HTML".to_string(), html.clone()),
        ("JSON".to_string(), json.clone()),
        ("PDF".to_string(), pdf_text),
    ];
    for (k, csv) in uri::downloads(&html).into_iter().enumerate() {
        texts.push((format!("CSV {}", k + 1), csv));
    }
    assert!(texts.len() >= 5, "two CSV links expected");
    (texts, serde_json::from_str(&json).unwrap())
}

fn smallville(json: &Value) -> &Value {
    json["results"]["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["area"] == "Smallville")
        .unwrap()
}

/// The ways a figure is printed: in full, to 3 decimals, as a percentage to
/// one decimal, and (for the estimate) as a whole percentage.
fn needles(row: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (k, key) in ["estimate", "ci_low", "ci_high"].iter().enumerate() {
        let x = row[key].as_f64().unwrap();
        out.push(row[key].to_string());
        out.push(format!("{x:.3}"));
        out.push(format!("{:.1}%", x * 100.0));
        if k == 0 {
            out.push(format!("{:.0}%", x * 100.0));
        }
    }
    out
}

#[test]
fn a_suppressed_figure_appears_in_no_output() {
    // threshold off: the figures are there, and the search finds them
    let (open, json) = outputs(0);
    let row = smallville(&json);
    assert_eq!(row["n"], 7);
    assert_eq!(row["estimate"].as_f64(), Some(3.0 / 7.0));
    let needles = needles(row);
    // the estimate in full (JSON, CSV) and as printed (table, prose, PDF)
    for n in [&needles[0], &needles[2]] {
        assert!(
            open.iter().any(|(_, t)| t.contains(n.as_str())),
            "{n:?} not found even without suppression"
        );
    }
    for what in ["HTML", "JSON", "PDF", "CSV 1", "CSV 2"] {
        let text = &open.iter().find(|(w, _)| w == what).unwrap().1;
        assert!(
            text.contains(&needles[0]) || text.contains(&needles[2]),
            "{what} does not show the small area's estimate without suppression"
        );
    }

    // default threshold: nowhere
    let (closed, json) = outputs(10);
    for (what, text) in &closed {
        for n in &needles {
            assert!(
                !text.contains(n.as_str()),
                "{what} reveals the suppressed figure {n:?}"
            );
        }
    }
    let row = smallville(&json);
    assert_eq!(row["suppressed"], true);
    assert!(row["estimate"].is_null() && row["ci_low"].is_null() && row["p"].is_null());
    assert_eq!(row["n"], 7, "the base stays, to say why");
    let html = &closed[0].1;
    assert!(
        html.contains("In Smallville fewer than 10 respondents take part"),
        "prose prints the phrase"
    );
    assert!(html.contains("Suppressed: fewer than 10 respondents"));
    // the large area is untouched
    let north = json["results"]["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["area"] == "Northtown")
        .unwrap();
    assert_eq!(north["estimate"].as_f64(), Some(0.25));
    assert!(html.contains("25.0%"));
}

#[test]
fn crosstab_complements_a_lone_small_cell() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("codebook.toml"), CODEBOOK).unwrap();
    std::fs::write(dir.path().join("data.csv"), data()).unwrap();
    let t = dir.path().join("xt.md");
    std::fs::write(
        &t,
        "---\ntitle: Crosstab\ndata: { survey: data.csv, codebook: codebook.toml }\n---\n\n```{sql}\n#| name: answers\n#| include: false\nSELECT area, CASE WHEN collective > 0 THEN 'yes' ELSE 'no' END AS takes_part FROM long WHERE collective IS NOT NULL\n```\n\n```{stats}\n#| name: xt\ncrosstab: { data: answers, row: takes_part, col: area, by: [] }\n```\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let (ok, err) = common::render(&t, &out, &["--no-cache", "--to", "json"]);
    assert!(ok, "{err}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("xt.json")).unwrap()).unwrap();
    let cells = json["results"]["xt"].as_array().unwrap();
    let hidden = |area: &str, part: &str| {
        cells
            .iter()
            .find(|c| c["area"] == area && c["takes_part"] == part)
            .unwrap_or_else(|| panic!("{area} {part}: {cells:?}"))["suppressed"]
            == true
    };
    // Smallville: 3 yes and 4 no, both small; Northtown: 30 and 90
    assert!(hidden("Smallville", "yes") && hidden("Smallville", "no"));
    // the row "yes" then holds one suppressed cell: its total (33) would
    // give Smallville's 3 back, so Northtown's yes is suppressed too, and
    // then Northtown's column needs its no as well
    assert!(hidden("Northtown", "yes") && hidden("Northtown", "no"));
    for c in cells {
        if c["suppressed"] == true {
            assert!(c["count"].is_null() && c["column_pct"].is_null(), "{c}");
        }
    }
}
