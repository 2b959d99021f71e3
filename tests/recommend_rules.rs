//! Each recommendation rule against data that should and should not trigger
//! it (tests/fixtures/recommend/cases.toml), and the bundled briefings
//! against contradicting recommendations.

use std::collections::BTreeMap;
use std::path::Path;

use coweave::engine::recommend::fire;
use coweave::engine::{Context, Named};
use coweave::survey::{Codebook, Survey};
use polars::prelude::*;

/// The columns of the frames rules read, with their types (f: float, i:
/// integer, s: text), as the briefing's blocks produce them.
const SCHEMAS: [(&str, &str); 5] = [
    (
        "groups",
        "area:s theme:s grouping:s variable:s category:s estimate:f n:i p:f",
    ),
    (
        "correlates",
        "area:s theme:s x:s role:s sub:s y:s estimate:f p:f n:i",
    ),
    (
        "levels",
        "area:s theme:s variable:s estimate:f ci_low:f ci_high:f n:i",
    ),
    (
        "age_levels",
        "area:s theme:s age_group:s variable:s estimate:f ci_low:f ci_high:f n:i",
    ),
    (
        "nudges",
        "area:s theme:s variable:s statistic:s arm:s estimate:f ci_low:f ci_high:f p:f p_adjusted:f n:i",
    ),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A frame of the schema from CSV text (empty cells are missing values).
fn frame(schema: &str, csv_text: &str) -> DataFrame {
    let mut reader = csv::Reader::from_reader(csv_text.trim().as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let columns: Vec<Column> = schema
        .split_whitespace()
        .map(|spec| {
            let (name, kind) = spec.split_once(':').unwrap();
            let i = header.iter().position(|h| h == name);
            fn get(r: &csv::StringRecord, i: Option<usize>) -> Option<&str> {
                i.and_then(|i| r.get(i)).filter(|s| !s.is_empty())
            }
            let cell = |r| get(r, i);
            let s = match kind {
                "f" => Series::new(
                    name.into(),
                    rows.iter()
                        .map(|r| cell(r).map(|c| c.parse::<f64>().unwrap()))
                        .collect::<Vec<_>>(),
                ),
                "i" => Series::new(
                    name.into(),
                    rows.iter()
                        .map(|r| cell(r).map(|c| c.parse::<i64>().unwrap()))
                        .collect::<Vec<_>>(),
                ),
                _ => Series::new(
                    name.into(),
                    rows.iter()
                        .map(|r| cell(r).unwrap_or("").to_string())
                        .collect::<Vec<_>>(),
                ),
            };
            s.into_column()
        })
        .collect();
    DataFrame::new(rows.len(), columns).unwrap()
}

fn survey() -> Survey {
    let cb = Codebook::parse(Path::new("codebook.toml"), coweave::bundled::CODEBOOK).unwrap();
    Survey::from_csv_bytes(Path::new("survey.csv"), coweave::bundled::SURVEY_CSV, cb).unwrap()
}

fn fired_for(survey: &Survey, case: &toml::Table) -> Vec<String> {
    let frames: BTreeMap<String, Named> = SCHEMAS
        .iter()
        .map(|(name, schema)| {
            let csv_text = case.get(*name).and_then(|v| v.as_str()).unwrap_or("");
            let csv_text = if csv_text.trim().is_empty() {
                schema
                    .split_whitespace()
                    .map(|c| c.split(':').next().unwrap())
                    .collect::<Vec<_>>()
                    .join(",")
            } else {
                csv_text.to_string()
            };
            let named = Named {
                frame: frame(schema, &csv_text),
                keys: vec![],
                key: String::new(),
                scalar: false,
            };
            (name.to_string(), named)
        })
        .collect();
    let ctx = Context {
        survey,
        frames,
        params: [("area".to_string(), serde_json::json!("Here"))].into(),
        min_base: 10,
        base_dir: root().join("reports"),
        chart_style: Default::default(),
        exec: false,
        rust: Default::default(),
        prose_frames: Default::default(),
    };
    let path = root().join("reports/recommendations.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    fire(&path, &text, &ctx)
        .unwrap_or_else(|e| panic!("{}: {e}", case["why"]))
        .into_iter()
        .map(|f| f.id)
        .collect()
}

#[test]
fn each_rule_fires_exactly_on_the_data_its_text_describes() {
    let cases: toml::Table = toml::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/recommend/cases.toml")).unwrap(),
    )
    .unwrap();
    let cases = cases["case"].as_array().unwrap();
    let survey = survey();
    let mut wrong = Vec::new();
    let mut covered: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for case in cases {
        let case = case.as_table().unwrap();
        let rule = case["rule"].as_str().unwrap();
        let fires = case["fires"].as_bool().unwrap();
        let fired = fired_for(&survey, case);
        let entry = covered.entry(rule.to_string()).or_default();
        if fires {
            entry.0 += 1
        } else {
            entry.1 += 1
        }
        if fired.iter().any(|f| f == rule) != fires {
            wrong.push(format!(
                "{rule} should {}fire: {} (fired: {fired:?})",
                if fires { "" } else { "not " },
                case["why"]
            ));
        }
        for other in case
            .get("also_fires")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let other = other.as_str().unwrap();
            if !fired.iter().any(|f| f == other) {
                wrong.push(format!("{other} should fire too: {}", case["why"]));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // every rule of the bundled file is tested both ways
    let rules: toml::Table = toml::from_str(
        &std::fs::read_to_string(root().join("reports/recommendations.toml")).unwrap(),
    )
    .unwrap();
    for rule in rules["rule"].as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        let (yes, no) = covered.get(id).copied().unwrap_or_default();
        assert!(
            yes > 0 && no > 0,
            "rule {id}: {yes} firing and {no} quiet cases; each needs both"
        );
    }
}

#[test]
fn a_rule_that_fires_silences_the_rules_that_name_it_in_unless() {
    // the same data with and without the younger residents' gap: the
    // no-stereotypes rule appears only without it
    let cases: toml::Table = toml::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/recommend/cases.toml")).unwrap(),
    )
    .unwrap();
    let case = cases["case"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_table().unwrap())
        .find(|c| c.contains_key("also_fires"))
        .unwrap()
        .clone();
    let survey = survey();
    let with_gap = fired_for(&survey, &case);
    assert!(with_gap.contains(&"target-younger-people".to_string()));
    assert!(!with_gap.contains(&"no-stereotypes".to_string()));
    let mut without = case.clone();
    without.remove("age_levels");
    let fired = fired_for(&survey, &without);
    assert!(fired.contains(&"no-stereotypes".to_string()), "{fired:?}");
}
