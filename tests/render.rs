//! Rendering end to end: byte-identical outputs, atomic writes, escaping,
//! the cache, and golden results of the first report.

mod common;

use std::path::{Path, PathBuf};

use common::render;

fn first_look() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/first-look.md")
}

#[test]
fn same_inputs_give_the_same_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert!(render(&first_look(), a.path(), &["--no-cache"]).0);
    assert!(render(&first_look(), b.path(), &["--no-cache"]).0);
    for f in ["first-look.html", "first-look.json"] {
        let x = std::fs::read(a.path().join(f)).unwrap();
        let y = std::fs::read(b.path().join(f)).unwrap();
        assert!(x == y, "{f} differs between two renders");
    }
    let html = std::fs::read_to_string(a.path().join("first-look.html")).unwrap();
    assert!(
        html.contains("2023-11-14"),
        "SOURCE_DATE_EPOCH not honoured"
    );
}

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
    let barnet_rows: Vec<&str> = html
        .lines()
        .filter(|l| l.contains("<th scope=\"row\">Barnet</th>"))
        .collect();
    assert_eq!(barnet_rows.len(), 2);
    for row in &barnet_rows {
        assert!(
            row.contains("class=\"num suppressed\">\u{2013}</td>"),
            "{row}"
        );
    }
    let bristol = html
        .lines()
        .find(|l| l.contains("<th scope=\"row\">Bristol</th>"))
        .unwrap();
    assert!(!bristol.contains("suppressed"), "{bristol}");
    assert!(html.contains("Suppressed: fewer than 500 respondents."));
    // min_base 0 turns suppression off
    std::fs::write(
        &template,
        format!("---\ntitle: Small\ndisclosure: {{ min_base: 0 }}\n---\n\n{body}"),
    )
    .unwrap();
    assert!(render(&template, &out, &["--no-cache", "--to", "html"]).0);
    let html = std::fs::read_to_string(out.join("small.html")).unwrap();
    assert!(!html.contains("class=\"num suppressed\""));
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
