//! Rendering end to end: byte-identical outputs, atomic writes, escaping,
//! the cache, and golden results of the first report.

use crate::common::{self, by_hand};

use std::path::{Path, PathBuf};

use common::render;

fn first_look() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/first-look.md")
}

/// Every file under `dir` (not the cache), by relative path.
fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            out.insert(name, std::fs::read(&p).unwrap());
        }
    }
    out
}

/// Every report in reports/, every area, as HTML, JSON and PDF, under one
/// and two polars threads, with and without the cache: the same bytes.
#[test]
fn same_inputs_give_the_same_bytes_whatever_the_threads_and_cache() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |threads: &str, out: &Path, cache: bool| {
        let mut cmd = assert_cmd::Command::cargo_bin("coweave").unwrap();
        cmd.current_dir(root)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .env("POLARS_MAX_THREADS", threads)
            .args(["render", "--each", "area", "--to", "html,json,pdf", "--out"])
            .arg(out);
        if !cache {
            cmd.arg("--no-cache");
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        files(out)
    };
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let one = run("1", dirs[0].path(), false);
    let two = run("2", dirs[1].path(), false);
    // the cache filled under two threads, then read under one
    let filled = run("2", dirs[2].path(), true);
    let from_cache = run("1", dirs[2].path(), true);
    assert!(one.len() >= 20, "{:?}", one.keys());
    for (name, other) in [
        ("two threads", &two),
        ("cache filled", &filled),
        ("from the cache", &from_cache),
    ] {
        assert_eq!(
            one.keys().collect::<Vec<_>>(),
            other.keys().collect::<Vec<_>>()
        );
        for (f, bytes) in &one {
            assert!(bytes == &other[f], "{f} differs ({name})");
        }
    }
    let html = String::from_utf8(one["first-look--bristol.html"].clone()).unwrap();
    assert!(
        html.contains("2023-11-14"),
        "SOURCE_DATE_EPOCH not honoured"
    );
}

/// What backs the golden results: the collective levels are recomputed
/// from the raw export and the codebook alone (tests/common/by_hand.rs):
/// share answering a `positive` code among those giving a
/// substantive answer, and that base. The other values come from the
/// statistics functions that tests/stats_reference.rs checks against
/// statsmodels/scipy; tests/downloads.rs checks the table's CSV against its
/// frame.
#[test]
fn results_are_golden() {
    let out = tempfile::tempdir().unwrap();
    assert!(
        render(
            &first_look(),
            out.path(),
            &["--no-cache", "--param", "area=Wolverhampton"]
        )
        .0
    );
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.path().join("first-look--wolverhampton.json")).unwrap(),
    )
    .unwrap();
    for (theme, share, n) in by_hand::collective_by_hand("Wolverhampton", false) {
        let row = json["results"]["area_levels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["theme"] == theme.as_str() && r["variable"] == "collective")
            .unwrap();
        assert_eq!(row["n"], n, "{theme}");
        let got = row["estimate"].as_f64().unwrap();
        assert!(
            (got - share).abs() < 1e-15,
            "{theme}: {got} vs {share} by hand"
        );
    }
    insta::assert_snapshot!(
        "first_look_wolverhampton_results",
        serde_json::to_string_pretty(&json["results"]).unwrap()
    );
    let html = std::fs::read_to_string(out.path().join("first-look--wolverhampton.html")).unwrap();
    let start = html
        .find("<figure class=\"table\" id=\"tbl-correlates\"")
        .unwrap();
    let end = start + html[start..].find("</figure>").unwrap() + "</figure>".len();
    insta::assert_snapshot!("first_look_correlates_table_html", &html[start..end]);
}

#[test]
fn html_is_self_contained_and_accessible() {
    let out = tempfile::tempdir().unwrap();
    assert!(render(&first_look(), out.path(), &["--no-cache"]).0);
    let html = std::fs::read_to_string(out.path().join("first-look.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en-GB\">"));
    for needle in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(needle), "external reference {needle}");
    }
    assert!(html.contains("<th scope=\"col\">"));
    assert!(html.contains("role=\"img\" aria-label=\"Bar chart"));
    assert!(html.contains("href=\"data:text/csv;charset=utf-8,"));
    assert!(html.contains("<a href=\"#tbl-levels\">Table\u{a0}1</a>"));
    assert!(html.contains("@media print"));
}

#[test]
fn strings_from_data_and_templates_are_escaped() {
    let out = tempfile::tempdir().unwrap();
    let template =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates/xss/report.md");
    let (ok, err) = render(&template, out.path(), &["--no-cache"]);
    assert!(ok, "{err}");
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(
        !html.contains("<script"),
        "unescaped script tag in the page"
    );
    assert!(!html.contains("<img"), "unescaped tag from a caption");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "area name from data not shown escaped"
    );
    assert!(
        html.contains("&lt;script&gt;alert(2)&lt;/script&gt;"),
        "raw HTML in the template not shown as text"
    );
}

#[test]
fn a_failed_render_keeps_the_previous_output() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("report.md");
    std::fs::copy(first_look(), &template).unwrap();
    let out = dir.path().join("out");
    assert!(render(&template, &out, &[]).0);
    let good = std::fs::read(out.join("report.html")).unwrap();
    let broken = std::fs::read_to_string(&template)
        .unwrap()
        .replace("FROM levels", "FROM nowhere");
    std::fs::write(&template, broken).unwrap();
    let (ok, err) = render(&template, &out, &[]);
    assert!(!ok);
    assert!(err.contains("relation 'nowhere' was not found"), "{err}");
    assert_eq!(std::fs::read(out.join("report.html")).unwrap(), good);
}

#[test]
fn cache_reruns_exactly_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates/xss");
    std::fs::copy(
        fixtures.join("codebook.toml"),
        dir.path().join("codebook.toml"),
    )
    .unwrap();
    std::fs::copy(fixtures.join("data.csv"), dir.path().join("data.csv")).unwrap();
    let template = dir.path().join("report.md");
    std::fs::write(
        &template,
        "---\ntitle: Cache\ndata: { survey: data.csv, codebook: codebook.toml }\n---\n\n\
```{stats}\n#| name: levels\nlevels:\n  measures: [individual]\n  by: [area]\n```\n\n\
```{sql}\n#| name: published\nSELECT area, theme FROM published_levels\n```\n\nDone.\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let (ok, first) = render(&template, &out, &["-v"]);
    assert!(ok, "{first}");
    assert!(
        first.contains("`levels`): ran (not in the cache)"),
        "{first}"
    );
    let (_, second) = render(&template, &out, &["-v"]);
    assert!(second.contains("`levels`): cached"), "{second}");
    assert!(second.contains("`published`): cached"), "{second}");
    // change one answer in the data: what reads the survey re-runs, nothing else
    let data = std::fs::read_to_string(dir.path().join("data.csv"))
        .unwrap()
        .replacen("101,1,1.0,0,1,2", "101,1,1.0,0,4,2", 1);
    std::fs::write(dir.path().join("data.csv"), data).unwrap();
    let (_, third) = render(&template, &out, &["-v"]);
    assert!(
        third.contains("`levels`): ran (input changed: long)"),
        "{third}"
    );
    assert!(third.contains("`published`): cached"), "{third}");
    let (_, fourth) = render(&template, &out, &["-v", "--no-cache"]);
    assert!(fourth.contains("`levels`): ran (cache off)"), "{fourth}");
}

#[test]
fn small_bases_are_suppressed_unless_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("small.md");
    let body = "```{stats}\n#| name: levels\nlevels:\n  measures: [collective]\n  by: [area, theme]\n```\n\n\
```{table}\n#| label: tbl-levels\ndata: levels\ncolumns: [area, theme, { name: estimate, format: pct }, n]\nbase: n\n```\n";
    // Barnet has 430 respondents, every other area more: a threshold of 500 hides Barnet's cells only
    std::fs::write(
        &template,
        format!("---\ntitle: Small\ndisclosure: {{ min_base: 500 }}\n---\n\n{body}"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let (ok, err) = render(&template, &out, &["--no-cache", "--to", "html"]);
    assert!(ok, "{err}");
    let html = std::fs::read_to_string(out.join("small.html")).unwrap();
    // Barnet heads its two theme rows once (rowspan 2): those two rows
    let lines: Vec<&str> = html.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.contains("scope=\"rowgroup\">Barnet</th>"))
        .expect("a Barnet row group");
    assert!(
        lines[first].contains("<th rowspan=\"2\""),
        "{}",
        lines[first]
    );
    let barnet_rows = &lines[first..first + 2];
    for row in barnet_rows {
        assert!(
            row.contains("class=\"num suppressed\">\u{2013}</td>"),
            "{row}"
        );
    }
    let bristol = html
        .lines()
        .find(|l| l.contains("scope=\"rowgroup\">Bristol</th>"))
        .unwrap();
    assert!(!bristol.contains("suppressed"), "{bristol}");
    assert!(html.contains("Suppressed: fewer than 500 respondents."));
    // the footer says what was withheld, counted from the table's own cells
    let withheld = html.matches(" suppressed\">").count();
    assert!(withheld >= 2, "{withheld}");
    assert!(
        html.contains(&format!(
            "<dt>Disclosure</dt><dd>values resting on fewer than 500 respondents are withheld: {withheld} values in Table 1</dd>"
        )),
        "{}",
        &html[html.find("<footer").unwrap()..]
    );
    // min_base 0 turns suppression off
    std::fs::write(
        &template,
        format!("---\ntitle: Small\ndisclosure: {{ min_base: 0 }}\n---\n\n{body}"),
    )
    .unwrap();
    assert!(render(&template, &out, &["--no-cache", "--to", "html"]).0);
    let html = std::fs::read_to_string(out.join("small.html")).unwrap();
    assert!(!html.contains("class=\"num suppressed\""));
    // turning it off is the template's explicit choice, and the footer says so
    assert!(html.contains(
        "<dt>Disclosure</dt><dd>off: no value is withheld (the template sets disclosure.min_base: 0)</dd>"
    ));
}

#[test]
fn each_renders_one_output_per_allowed_value() {
    let out = tempfile::tempdir().unwrap();
    let (ok, err) = render(
        &first_look(),
        out.path(),
        &["--no-cache", "--to", "json", "--each", "area"],
    );
    assert!(ok, "{err}");
    let mut files: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    files.sort();
    // one per area of the bundled codebook
    assert_eq!(
        files,
        [
            "first-look--barnet.json",
            "first-look--bristol.json",
            "first-look--derbyshire-dales.json",
            "first-look--swansea.json",
            "first-look--wolverhampton.json"
        ]
    );
    let (ok, err) = render(&first_look(), out.path(), &["--each", "colour"]);
    assert!(!ok);
    assert!(
        err.contains("the template has no parameter `colour`"),
        "{err}"
    );
}

#[test]
fn house_style_sets_chart_accent_and_font() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("styled.md");
    let body = "```{stats}\n#| name: levels\nlevels:\n  measures: [collective]\n  by: [area]\n```\n\n\
```{chart}\n#| label: fig-x\nkind: bar\ndata: levels\nx: area\ny: estimate\npercent: true\n```\n";
    std::fs::write(&template, format!("---\ntitle: Styled\nformat:\n  chart: {{ accent: \"#AA3377\", font: Georgia }}\n---\n\n{body}")).unwrap();
    let out = dir.path().join("out");
    let (ok, err) = render(&template, &out, &["--no-cache", "--to", "html"]);
    assert!(ok, "{err}");
    let html = std::fs::read_to_string(out.join("styled.html")).unwrap();
    assert!(html.contains("fill=\"#AA3377\""), "accent not applied");
    assert!(!html.contains("fill=\"#0072B2\""), "default accent left");
    assert!(html.contains("font-family=\"Georgia, sans-serif\""));
    std::fs::write(
        &template,
        format!("---\ntitle: Styled\nformat:\n  chart: {{ accent: teal }}\n---\n\n{body}"),
    )
    .unwrap();
    let (ok, err) = render(&template, &out, &["--no-cache", "--to", "html"]);
    assert!(!ok);
    assert!(
        err.contains("format.chart.accent `teal` is not a colour"),
        "{err}"
    );
}

/// Template values enter SQL as literals: a quote in a parameter is data,
/// not SQL; the old quoted form is an error at the quote.
#[test]
fn parameters_enter_sql_as_literals_never_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("who.md");
    let write = |query: &str| {
        std::fs::write(
            &template,
            format!("---\ntitle: Who\nparams:\n  who: {{ type: string, default: Bristol }}\n---\n\n```{{sql}}\n#| name: rows\n{query}\n```\n"),
        )
        .unwrap()
    };
    let rows = |extra: &[&str]| -> Vec<serde_json::Value> {
        let out = dir.path().join("out");
        let (ok, err) = render(
            &template,
            &out,
            &[&["--no-cache", "--to", "json"], extra].concat(),
        );
        assert!(ok, "{err}");
        let file = std::fs::read_dir(&out)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        std::fs::remove_file(file).unwrap();
        json["results"]["rows"].as_array().unwrap().clone()
    };
    write(
        "SELECT area, respondents FROM published_areas WHERE area = {{ params.who }} ORDER BY area",
    );
    assert_eq!(rows(&[]).len(), 1, "the default finds its area");
    assert_eq!(
        rows(&["--param", "who=x' OR '1'='1"]).len(),
        0,
        "injection returns no rows"
    );
    assert_eq!(rows(&["--param", "who=Bristol' --"]).len(), 0);
    // a trusted identifier is spliced with `ident`
    write("SELECT {{ 'area' | ident }} FROM published_areas WHERE area = {{ params.who }}");
    assert_eq!(rows(&[]), vec![serde_json::json!({ "area": "Bristol" })]);
    // the quoted form of earlier templates is pointed at
    write("SELECT area FROM published_areas WHERE area = '{{ params.who }}'");
    let (ok, err) = render(&template, &dir.path().join("out"), &["--no-cache"]);
    assert!(!ok);
    assert!(
        err.contains("written without quotes") && err.contains("who.md:9:47"),
        "{err}"
    );
}

/// A warning (here: a column of the export the codebook does not know)
/// reaches the reader three ways: the CLI, the JSON and the HTML footer.
#[test]
fn warnings_reach_the_cli_the_json_and_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates/xss");
    std::fs::copy(
        fixtures.join("codebook.toml"),
        dir.path().join("codebook.toml"),
    )
    .unwrap();
    let data: String = std::fs::read_to_string(fixtures.join("data.csv"))
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l},stray\n")
            } else {
                format!("{l},1\n")
            }
        })
        .collect();
    std::fs::write(dir.path().join("data.csv"), data).unwrap();
    let template = dir.path().join("w.md");
    std::fs::write(
        &template,
        "---\ntitle: W\ndata: { survey: data.csv, codebook: codebook.toml }\n---\n\nText.\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let (ok, err) = render(&template, &out, &["--no-cache", "--to", "html,json"]);
    assert!(ok, "{err}");
    assert!(err.contains("warning:") && err.contains("stray"), "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("w.json")).unwrap()).unwrap();
    let warnings = json["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0]["message"].as_str().unwrap().contains("stray"));
    assert!(
        warnings[0]["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("data.csv")
    );
    let html = std::fs::read_to_string(out.join("w.html")).unwrap();
    assert!(
        html.contains("<dt>Warnings</dt><dd>1 (also in the JSON output)"),
        "footer"
    );
}

/// A chart that leaves out rows with a missing value says so as a warning
/// of its block, on every render: a result with warnings is not cached, so
/// the second (cached) render reports it too. The expected count comes
/// from the frame behind the chart in the JSON results.
#[test]
fn rows_a_chart_leaves_out_are_a_warning_cached_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("s.md");
    std::fs::write(
        &template,
        "---\ntitle: S\ndisclosure: { rows: respondent-level }\n---\n\n```{sql}\n#| name: pairs\nSELECT id, individual, collective FROM long WHERE area = 'Wolverhampton' AND theme = 'community_safety' ORDER BY id LIMIT 60\n```\n\n```{chart}\n#| label: fig-s\nkind: scatter\ndata: pairs\nx: individual\ny: collective\n```\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (ok, err) = render(&template, &out, &["--to", "json"]);
        assert!(ok, "{err}");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("s.json")).unwrap()).unwrap();
        let rows = json["results"]["pairs"].as_array().expect("pairs rows");
        let missing = rows
            .iter()
            .filter(|r| r["individual"].is_null() || r["collective"].is_null())
            .count();
        assert!(
            missing > 0 && missing < rows.len(),
            "{missing} of {}",
            rows.len()
        );
        let warnings = json["warnings"].as_array().unwrap();
        let want = format!(
            "{missing} row{} without both values not drawn",
            if missing == 1 { "" } else { "s" }
        );
        assert!(
            warnings
                .iter()
                .any(|w| w["message"].as_str().unwrap().ends_with(&want)),
            "{warnings:?}"
        );
        assert!(err.contains(&want), "{err}");
        seen.push(warnings.len());
    }
    assert_eq!(seen[0], seen[1], "cached render reports the same warnings");
}

/// A result with a row per respondent is refused at its block unless the
/// front matter allows it; allowed, the rows reach the JSON.
#[test]
fn respondent_rows_need_the_template_to_allow_them() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("rows.md");
    let body = "```{sql}\n#| name: ids\nSELECT id, area FROM respondents WHERE area = 'Bristol' ORDER BY id LIMIT 20\n```\n";
    std::fs::write(&template, format!("---\ntitle: Rows\n---\n\n{body}")).unwrap();
    let out = dir.path().join("out");
    let (ok, err) = render(&template, &out, &["--no-cache", "--to", "json"]);
    assert!(!ok);
    assert!(err.contains("rows.md:5:1"), "{err}");
    assert!(
        err.contains("row per respondent (it carries the respondent id)"),
        "{err}"
    );
    assert!(!out.join("rows.json").exists());
    std::fs::write(
        &template,
        format!("---\ntitle: Rows\ndisclosure: {{ rows: respondent-level }}\n---\n\n{body}"),
    )
    .unwrap();
    let (ok, err) = render(&template, &out, &["--no-cache", "--to", "json"]);
    assert!(ok, "{err}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("rows.json")).unwrap()).unwrap();
    assert_eq!(json["results"]["ids"].as_array().unwrap().len(), 20);
}
