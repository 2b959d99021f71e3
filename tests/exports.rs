//! Exports as councils get them: text codes, no area or id column, reversed
//! scales, numeric ages banded in the codebook (tests/fixtures/exports), and
//! an SPSS file with user-missing codes. Every expected figure comes from an
//! independent reading of the same files: pandas/scipy
//! (exports/make_exports.py, expected.json) and pyreadstat
//! (exports/panel/make_expected.py, panel/expected.json).

use std::path::{Path, PathBuf};

use coweave::survey::{Codebook, Survey};
use polars::prelude::*;
use serde_json::Value;

const EXPORTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/exports");

fn fixture(rel: &str) -> PathBuf {
    Path::new(EXPORTS).join(rel)
}

fn expected(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(rel)).unwrap()).unwrap()
}

fn load(name: &str) -> Survey {
    Survey::load(
        &fixture(&format!("{name}/export.csv")),
        &fixture(&format!("{name}/codebook.toml")),
    )
    .unwrap_or_else(|d| panic!("{name} loads: {d}"))
}

fn floats(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect()
}

fn strings(df: &DataFrame, name: &str) -> Vec<String> {
    df.column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap_or("").to_string())
        .collect()
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Pearson r over pairwise-complete rows, written out here (not coweave's).
fn pearson(x: &[Option<f64>], y: &[Option<f64>]) -> (f64, usize) {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter_map(|(a, b)| Some(((*a)?, (*b)?)))
        .collect();
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxy: f64 = pairs.iter().map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = pairs.iter().map(|(a, _)| (a - mx).powi(2)).sum();
    let syy: f64 = pairs.iter().map(|(_, b)| (b - my).powi(2)).sum();
    (sxy / (sxx * syy).sqrt(), pairs.len())
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{what}: coweave {got}, pandas {want}"
    );
}

/// Each area x theme cell's measures equal pandas' reading of the raw text.
fn check_cells(name: &str) {
    let survey = load(name);
    let want = expected("expected.json");
    let long = &survey.long;
    let areas = strings(long, "area");
    let themes = strings(long, "theme");
    for cell in want[name]["cells"].as_array().unwrap() {
        let (area, theme) = (
            cell["area"].as_str().unwrap(),
            cell["theme"].as_str().unwrap(),
        );
        let rows: Vec<usize> = (0..long.height())
            .filter(|&i| areas[i] == area && themes[i] == theme)
            .collect();
        assert_eq!(
            rows.len() as u64,
            cell["n"].as_u64().unwrap(),
            "{name} {area} {theme} n"
        );
        for (measure, key) in [
            ("individual", "individual"),
            ("collective", "collective"),
            ("time", "time"),
            ("efficacy", "efficacy"),
            ("sat_response", "sat_response"),
        ] {
            let col = floats(long, measure);
            let vals: Vec<f64> = rows.iter().filter_map(|&i| col[i]).collect();
            let suffix = if matches!(measure, "collective" | "time") {
                "share"
            } else {
                "mean"
            };
            let what = format!("{name} {area} {theme} {key}");
            assert_eq!(
                vals.len() as u64,
                cell[format!("{key}_n")].as_u64().unwrap(),
                "{what} n"
            );
            close(
                mean(&vals),
                cell[format!("{key}_{suffix}")].as_f64().unwrap(),
                &what,
            );
        }
        let c = floats(long, "collective");
        let e = floats(long, "efficacy");
        let pick = |v: &[Option<f64>]| rows.iter().map(|&i| v[i]).collect::<Vec<_>>();
        let (r, n) = pearson(&pick(&c), &pick(&e));
        assert_eq!(n as u64, cell["r_n"].as_u64().unwrap());
        close(
            r,
            cell["r_collective_efficacy"].as_f64().unwrap(),
            &format!("{name} {area} {theme} r"),
        );
    }
}

#[test]
fn a_single_council_text_export_with_reversed_scales_gives_pandas_figures() {
    check_cells("riverside");
}

#[test]
fn a_ward_export_with_text_area_codes_in_any_case_gives_pandas_figures() {
    check_cells("wards");
    let survey = load("wards");
    let want = expected("expected.json");
    for (area, n) in want["wards"]["areas"].as_object().unwrap() {
        let got = survey
            .summary
            .respondents
            .iter()
            .find(|(a, _)| a == area)
            .map(|(_, n)| *n);
        assert_eq!(got, Some(n.as_u64().unwrap() as usize), "{area}");
    }
}

#[test]
fn numeric_age_is_banded_by_the_codebook_and_text_gender_counts_match() {
    let survey = load("riverside");
    let want = &expected("expected.json")["riverside"];
    // one row per respondent: the environment theme
    let long = &survey.long;
    let themes = strings(long, "theme");
    let rows: Vec<usize> = (0..long.height())
        .filter(|&i| themes[i] == "environment")
        .collect();
    assert_eq!(rows.len() as u64, want["rows"].as_u64().unwrap());
    let from = floats(long, "age_from");
    let to = floats(long, "age_to");
    for (band, n) in want["age_bands"].as_object().unwrap() {
        let bounds = match band.as_str() {
            "missing" => None,
            "75 or over" => Some((75.0, 110.0)),
            b => {
                let (lo, hi) = b.split_once('-').unwrap();
                Some((lo.parse().unwrap(), hi.parse().unwrap()))
            }
        };
        let got = rows
            .iter()
            .filter(|&&i| match bounds {
                None => from[i].is_none(),
                Some((lo, hi)) => from[i] == Some(lo) && to[i] == Some(hi),
            })
            .count();
        assert_eq!(got as u64, n.as_u64().unwrap(), "age band {band}");
    }
    let gender = floats(long, "gender");
    let codebook = &survey.codebook;
    let set = codebook
        .values_of(codebook.variable("gender").unwrap())
        .unwrap();
    for (label, n) in want["gender"].as_object().unwrap() {
        let got = rows
            .iter()
            .filter(|&&i| match gender[i] {
                None => label == "missing",
                Some(score) => set.value_label(score) == Some(label.as_str()),
            })
            .count();
        assert_eq!(got as u64, n.as_u64().unwrap(), "gender {label}");
    }
}

/// Without `reverse = true` the efficacy correlation flips sign (pandas'
/// r with the raw text-list positions), and `coweave check` says why.
#[test]
fn a_scale_listed_most_positive_first_warns_and_flips_without_reverse() {
    let text = std::fs::read_to_string(fixture("riverside/codebook.toml")).unwrap();
    let marker = "dont_know = [\"Don't know\"]\nreverse = true\n";
    assert!(
        text.contains(marker),
        "the fixture reverses the difference set"
    );
    let unreversed = text.replacen(marker, "dont_know = [\"Don't know\"]\n", 1);
    let path = fixture("riverside/codebook.toml");
    let codebook = Codebook::parse(&path, &unreversed).unwrap();
    let survey = Survey::load_with(&fixture("riverside/export.csv"), codebook).unwrap();
    let warned = survey.warnings.iter().any(|w| {
        w.message.contains("value set `difference`")
            && w.hints.iter().any(|h| h.contains("add `reverse = true`"))
    });
    assert!(
        warned,
        "a direction warning names the set: {:?}",
        survey.warnings
    );
    let long = &survey.long;
    let (areas, themes) = (strings(long, "area"), strings(long, "theme"));
    let want = &expected("expected.json")["riverside"]["cells"][0];
    let rows: Vec<usize> = (0..long.height())
        .filter(|&i| areas[i] == want["area"] && themes[i] == want["theme"])
        .collect();
    let pick = |v: Vec<Option<f64>>| rows.iter().map(|&i| v[i]).collect::<Vec<_>>();
    let (r, _) = pearson(
        &pick(floats(long, "collective")),
        &pick(floats(long, "efficacy")),
    );
    close(r, want["r_raw_codes"].as_f64().unwrap(), "unreversed r");
    // and reversed, the sign is pandas' scored r
    assert!(want["r_collective_efficacy"].as_f64().unwrap() > 0.0 && r < 0.0);
}

#[test]
fn an_spss_export_keeps_ids_user_missing_codes_and_text_answers() {
    let want = expected("panel/expected.json");
    let survey = Survey::load(&fixture("panel.sav"), &fixture("panel/codebook.toml"))
        .unwrap_or_else(|d| panic!("panel.sav loads: {d}"));
    let r = &survey.respondents;
    assert_eq!(r.height() as u64, want["rows"].as_u64().unwrap());
    // SPSS stores the serial as a double; the id is "4", not "4.0"
    let ids: Vec<String> = strings(r, "id");
    let want_ids: Vec<String> = want["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, want_ids);
    // raw codes, user-missing 9 kept apart from system-missing blanks
    let codes = |col: &str| {
        let mut counts = std::collections::BTreeMap::<String, u64>::new();
        for v in floats(r, col) {
            let k = v.map_or("blank".to_string(), |x| format!("{}", x as i64));
            *counts.entry(k).or_default() += 1;
        }
        counts
    };
    for col in ["q1_recycle", "gender"] {
        let want_counts: std::collections::BTreeMap<String, u64> = want[col]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect();
        assert_eq!(codes(col), want_counts, "{col}");
    }
    // the text ward: codes in list order, labels back to the texts
    let codebook = &survey.codebook;
    let ward_set = codebook
        .values_of(codebook.variable("ward").unwrap())
        .unwrap();
    let wards = floats(r, "ward");
    for (name, n) in want["ward"].as_object().unwrap() {
        let got = wards
            .iter()
            .filter(|v| v.and_then(|x| ward_set.name(x as i64)) == Some(name.as_str()))
            .count();
        assert_eq!(got as u64, n.as_u64().unwrap(), "ward {name}");
    }
    // reversed satisfaction: Very satisfied (code 1) scores 5
    let sat_set = codebook
        .values_of(codebook.variable("sat_council").unwrap())
        .unwrap();
    let scores: Vec<f64> = floats(r, "sat_council")
        .into_iter()
        .flatten()
        .filter_map(|c| sat_set.score_value(c))
        .collect();
    assert_eq!(scores.len() as u64, want["sat_council_n"].as_u64().unwrap());
    close(
        mean(&scores),
        want["sat_council_score_mean"].as_f64().unwrap(),
        "sat_council",
    );
    // numeric age: 999 refused is missing, the rest are years
    let age_set = codebook
        .values_of(codebook.variable("age").unwrap())
        .unwrap();
    let ages: Vec<f64> = floats(r, "age")
        .into_iter()
        .flatten()
        .filter_map(|a| age_set.score_value(a))
        .collect();
    assert_eq!(ages.len() as u64, want["age_n"].as_u64().unwrap());
    close(mean(&ages), want["age_mean"].as_f64().unwrap(), "age");
}

#[test]
fn a_drafted_codebook_passes_check_on_the_export_it_came_from() {
    for export in ["riverside/export.csv", "wards/export.csv"] {
        let path = fixture(export);
        let draft = coweave::survey::init::draft(&path).unwrap();
        let codebook = Codebook::parse(Path::new("draft.toml"), &draft)
            .unwrap_or_else(|d| panic!("{export}: the draft parses: {d}\n{draft}"));
        let survey = Survey::load_with(&path, codebook)
            .unwrap_or_else(|d| panic!("{export}: the draft checks: {d}\n{draft}"));
        let rows = csv::Reader::from_path(&path).unwrap().records().count();
        let total: usize = survey.summary.respondents.iter().map(|(_, n)| n).sum();
        assert_eq!(total, rows, "{export}: every row is a respondent");
    }
    // wards: text area codes in any case become three areas, and the id column is the id
    let draft = coweave::survey::init::draft(&fixture("wards/export.csv")).unwrap();
    let codebook = Codebook::parse(Path::new("draft.toml"), &draft).unwrap();
    let mut names: Vec<&str> = codebook.areas.iter().map(|a| a.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["East", "North", "South"]);
    assert_eq!(
        codebook
            .role_variable(coweave::survey::Role::Id)
            .unwrap()
            .name,
        "resp_id"
    );
}

#[test]
fn a_drafted_spss_codebook_keeps_labels_and_missing_codes_and_names_blank_areas() {
    let want = expected("panel/expected.json");
    let path = fixture("panel.sav");
    let draft = coweave::survey::init::draft(&path).unwrap();
    let codebook = Codebook::parse(Path::new("draft.toml"), &draft)
        .unwrap_or_else(|d| panic!("the draft parses: {d}\n{draft}"));
    // value labels from the file, "Don't know" as don't know, 999 = Refused missing
    let q1 = codebook
        .values_of(codebook.variable("q1_recycle").unwrap())
        .unwrap();
    assert_eq!(q1.name(1), Some("Often"));
    assert_eq!(q1.score(9), None, "don't know is not scored");
    let age = codebook
        .values_of(codebook.variable("age").unwrap())
        .unwrap();
    assert!(age.is_number(), "age in years is a number");
    assert_eq!(age.score_value(999.0), None);
    assert_eq!(age.score_value(47.0), Some(47.0));
    assert_eq!(
        codebook.variable("serial").unwrap().role,
        coweave::survey::Role::Id
    );
    // four respondents have no ward: check names exactly those rows
    let err = Survey::load_with(&path, codebook).unwrap_err().to_string();
    let rows: Vec<String> = want["ward_blank_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("row {r}"))
        .collect();
    assert!(
        err.contains("have no area") && err.contains(&rows.join(", ")),
        "{err}"
    );
}

/// A report on the SPSS export: the crosstab labels its categories from the
/// codebook, in code order, leaves the missing code out and keeps don't
/// know (pandas' crosstab of the pyreadstat reading); SQL groups by the
/// answer text in `<variable>_label`.
#[test]
fn a_report_on_an_spss_export_shows_answers_as_labels_in_code_order() {
    let out = tempfile::tempdir().unwrap();
    let o = assert_cmd::Command::cargo_bin("coweave")
        .unwrap()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["render", "--to", "html,json", "--out"])
        .arg(out.path())
        .arg(fixture("panel/report.md"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    let want = &expected("panel/expected.json")["crosstab_q1_by_gender"];
    let rows = json["results"]["recycling"].as_array().unwrap();
    let order = |key: &str| {
        let mut seen: Vec<String> = Vec::new();
        for r in rows {
            let v = r[key].as_str().unwrap().to_string();
            if !seen.contains(&v) {
                seen.push(v);
            }
        }
        seen
    };
    let strings_of = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(order("q1_recycle"), strings_of(&want["rows"]));
    assert_eq!(order("gender"), strings_of(&want["cols"]));
    for r in rows {
        let (q, g) = (
            r["q1_recycle"].as_str().unwrap(),
            r["gender"].as_str().unwrap(),
        );
        assert_eq!(
            r["count"].as_f64().unwrap(),
            want["counts"][q][g].as_f64().unwrap(),
            "{q} x {g}"
        );
    }
    let wards = json["results"]["wards"].as_array().unwrap();
    let got: Vec<(String, u64)> = wards
        .iter()
        .map(|w| {
            (
                w["ward"].as_str().unwrap().to_string(),
                w["n"].as_u64().unwrap(),
            )
        })
        .collect();
    let want_wards: Vec<(String, u64)> = expected("panel/expected.json")["ward_label_counts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(got, want_wards);
    // the page shows the labels and the variable's label as the heading
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains("Don&#39;t know") || html.contains("Don't know"));
    assert!(html.contains("Column %"));
}

/// In `respondents` a demographic goes by its variable's name: asking for
/// the role name (`gender`) where the export calls it `sex` is an error that
/// names the column, never a silently empty result (it was).
#[test]
fn a_demographic_asked_by_role_in_respondents_names_its_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = std::fs::read_to_string(fixture("riverside/export.csv")).unwrap();
    let (header, rest) = csv.split_once('\n').unwrap();
    let header: Vec<&str> = header
        .split(',')
        .map(|c| if c == "gender" { "sex" } else { c })
        .collect();
    std::fs::write(
        dir.path().join("export.csv"),
        format!("{}\n{rest}", header.join(",")),
    )
    .unwrap();
    let codebook = std::fs::read_to_string(fixture("riverside/codebook.toml")).unwrap();
    assert!(codebook.contains("name = \"gender\""));
    std::fs::write(
        dir.path().join("codebook.toml"),
        codebook.replace("name = \"gender\"", "name = \"sex\""),
    )
    .unwrap();
    let template = |groups: &str| {
        format!(
            "---\ntitle: t\ndata:\n  survey: export.csv\n  codebook: codebook.toml\n---\n\n```{{stats}}\n#| name: g\ncompare: {{ groups: [{groups}], y: [age], data: respondents, by: [] }}\n```\n"
        )
    };
    let run = |groups: &str| {
        std::fs::write(dir.path().join("t.md"), template(groups)).unwrap();
        assert_cmd::Command::cargo_bin("coweave")
            .unwrap()
            .args(["render", "--to", "json", "--out"])
            .arg(dir.path().join("out"))
            .arg(dir.path().join("t.md"))
            .output()
            .unwrap()
    };
    let by_role = run("gender");
    let stderr = String::from_utf8_lossy(&by_role.stderr);
    assert!(!by_role.status.success());
    assert!(stderr.contains("no column `gender`"), "{stderr}");
    assert!(stderr.contains("write `sex`"), "{stderr}");
    assert!(stderr.contains("t.md:10:"), "points at the name: {stderr}");
    let by_name = run("sex");
    assert!(
        by_name.status.success(),
        "{}",
        String::from_utf8_lossy(&by_name.stderr)
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/t.json")).unwrap())
            .unwrap();
    assert!(!json["results"]["g"].as_array().unwrap().is_empty());
}
