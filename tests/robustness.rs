//! No panic from user input. Random block specs (YAML built from each
//! engine's keys and a pool of hostile values) run through the whole
//! engine: each ends in a result or in errors that name a line of the
//! template. Random value sets go to the simulator: it writes a survey or
//! returns an error. proptest turns any panic into a failure with the
//! smallest input that causes it.

use std::collections::BTreeMap;
use std::path::Path;

use coweave::engine::{self, Inputs, Provenance};
use coweave::survey::published::Published;
use coweave::survey::{Codebook, Survey};
use proptest::prelude::*;

fn survey() -> &'static Survey {
    static S: std::sync::OnceLock<Survey> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let cb = Codebook::parse(Path::new("codebook.toml"), coweave::bundled::CODEBOOK).unwrap();
        Survey::from_csv_bytes(Path::new("survey.csv"), coweave::bundled::SURVEY_CSV, cb).unwrap()
    })
}

fn published() -> &'static Published {
    static P: std::sync::OnceLock<Published> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        Published::parse(Path::new("published.toml"), coweave::bundled::PUBLISHED).unwrap()
    })
}

/// Values a careless or hostile spec might hold.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("levels".to_string()),
        Just("base".to_string()),
        Just("estimate".to_string()),
        Just("area".to_string()),
        Just("theme".to_string()),
        Just("n".to_string()),
        Just("collective".to_string()),
        Just("efficacy".to_string()),
        Just("arm".to_string()),
        Just("nope".to_string()),
        Just("\"\"".to_string()),
        Just("\"it's \\\"quoted\\\"\"".to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("1e308".to_string()),
        Just(".nan".to_string()),
        Just("true".to_string()),
        Just("null".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("[estimate, estimate]".to_string()),
        Just("[ci_low, ci_high]".to_string()),
        Just("[area, theme]".to_string()),
        Just("[1, 2, 3]".to_string()),
        Just("{ area: Bristol }".to_string()),
        Just("\"Ünïcødé ✓\"".to_string()),
    ];
    leaf
}

/// A spec: some of the engine's keys (and sometimes an unknown one), each
/// with a random value.
fn spec(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(keys), value()), 0..6).prop_map(|pairs| {
        let mut seen = std::collections::BTreeSet::new();
        pairs
            .into_iter()
            .filter(|(k, _)| seen.insert(*k))
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect()
    })
}

const SQL_PRELUDE: &str = "```{sql}\n#| name: base\nSELECT l.area, l.theme, 'collective' AS variable, l.collective_pct / 100.0 AS estimate, \
l.individual_pct / 100.0 AS ci_low, l.time_pct / 100.0 AS ci_high, 0.04 AS p, a.respondents AS n \
FROM published_levels l JOIN published_areas a ON l.area = a.area ORDER BY l.area, l.theme\n```\n\n";

/// Runs one block after the prelude; never panics, and every error has a line.
fn run(engine_name: &str, body: &str) -> Result<(), TestCaseError> {
    let source = format!(
        "---\ntitle: P\n---\n\n{SQL_PRELUDE}```{{{engine_name}}}\n#| name: out\n{body}```\n"
    );
    let path = Path::new("prop.md");
    let (doc, problems) = coweave::engine::parse(path, &source);
    for p in &problems {
        prop_assert!(
            p.location.as_ref().is_some_and(|l| l.line.is_some()),
            "parse problem without a line: {p}"
        );
    }
    let provenance = Provenance {
        coweave: "test".into(),
        template: "prop.md".into(),
        date: "2026-12-03".into(),
        ..Provenance::default()
    };
    let result = engine::evaluate(
        &doc,
        Inputs {
            survey: survey(),
            frames: Vec::new(),
            published: Some(published()),
            provenance,
            params: BTreeMap::new(),
            cache: None,
            memo: None,
            exec: false,
        },
    );
    if let Err(diags) = result {
        prop_assert!(!diags.is_empty());
        for d in &diags {
            prop_assert!(
                d.location.as_ref().is_some_and(|l| l.line.is_some()),
                "error without a line: {d}\n{source}"
            );
        }
    }
    Ok(())
}

/// Most specs read the prelude's frame, so that they get past the lookup.
fn with_data(body: &str, own: bool) -> String {
    if own {
        let rest: String = body
            .lines()
            .filter(|l| !l.starts_with("data:"))
            .map(|l| format!("{l}\n"))
            .collect();
        format!("data: base\n{rest}")
    } else {
        body.to_string()
    }
}

/// Values at the edges of what a key can hold.
const EDGES: &[&str] = &[
    "[]",
    "{}",
    "null",
    "\"\"",
    "-1",
    ".nan",
    "[nope]",
    "nope",
    "[estimate, 1]",
];

/// A spec that works, with `key` set to `value` (added or replaced).
fn with_key(base: &str, key: &str, value: &str) -> String {
    let mut out: String = base
        .lines()
        .filter(|l| l.split(':').next().map(str::trim) != Some(key))
        .map(|l| format!("{l}\n"))
        .collect();
    out.push_str(&format!("{key}: {value}\n"));
    out
}

/// Every key of every engine, one at a time, at each edge value, on top of
/// a spec that works: a sweep, so that the cases a random search may miss
/// (an empty list where a column is named) are always tried.
#[test]
fn every_key_at_every_edge_value_fails_cleanly() {
    let charts: &[(&str, &str)] = &[
        (
            "bar",
            "x: area\ny: estimate\ngroup: variable\nci: [ci_low, ci_high]\n",
        ),
        ("line", "x: theme\ny: estimate\ngroup: area\n"),
        (
            "heatmap",
            "rows: area\ncolumns: theme\nvalue: estimate\np: p\n",
        ),
        (
            "forest",
            "label: [area, theme]\nci: [ci_low, ci_high]\np: p\n",
        ),
        ("scatter", "x: ci_low\ny: estimate\nfit: true\n"),
        ("likert", "items: [env_sat_info, env_sat_cons]\n"),
    ];
    let mut cases: Vec<(&str, String)> = Vec::new();
    for (kind, spec) in charts {
        let base = format!("kind: {kind}\ndata: base\n{spec}");
        cases.push(("chart", base.clone()));
        for key in CHART.iter().filter(|k| **k != "kind") {
            for v in EDGES {
                cases.push(("chart", with_key(&base, key, v)));
            }
        }
    }
    let table = "data: base\ncolumns: [area, theme, { name: estimate, format: pct }, n]\nbase: n\n";
    let pivot = "data: base\npivot: { rows: [area], columns: [theme], value: estimate, stars: p, base: n }\nemphasis: { value: estimate, p: p }\n";
    for base in [table, pivot] {
        cases.push(("table", base.to_string()));
        for key in TABLE {
            for v in EDGES {
                cases.push(("table", with_key(base, key, v)));
            }
        }
    }
    let analyses: &[(&str, &str)] = &[
        ("levels", "measures: [collective]\nby: [area]\n"),
        ("correlate", "x: [efficacy]\ny: [collective]\n"),
        ("experiment", "y: [collective]\narm: arm\n"),
        ("regress", "y: collective\nx: [efficacy]\nby: [area]\n"),
        ("crosstab", "data: base\nrow: area\ncol: theme\nby: []\n"),
        ("power", "p0: 0.2\nn: 120\n"),
        // any numeric column serves as the cell's n here
        ("statcheck", "data: published_correlates\nn: table\n"),
        ("items", "role: individual\narea: Bristol\n"),
    ];
    for (analysis, spec) in analyses {
        let keys: Vec<&str> = spec.lines().filter_map(|l| l.split(':').next()).collect();
        let indent = |s: &str| s.lines().map(|l| format!("  {l}\n")).collect::<String>();
        cases.push(("stats", format!("{analysis}:\n{}", indent(spec))));
        for key in keys.iter().chain(["filter", "weight"].iter()) {
            for v in EDGES {
                cases.push((
                    "stats",
                    format!("{analysis}:\n{}", indent(&with_key(spec, key, v))),
                ));
            }
        }
    }
    let mut failures = Vec::new();
    for (engine_name, body) in &cases {
        let outcome = std::panic::catch_unwind(|| run(engine_name, body));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("{{{engine_name}}}\n{body}-> {e}")),
            Err(_) => failures.push(format!("{{{engine_name}}}\n{body}-> PANIC")),
        }
    }
    assert!(cases.len() > 1000, "{}", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

const TABLE: &[&str] = &[
    "data", "columns", "pivot", "emphasis", "base", "labels", "colour",
];
const CHART: &[&str] = &[
    "kind", "data", "x", "y", "group", "ci", "percent", "rows", "columns", "value", "p", "label",
    "items", "area", "fit", "sort", "limits", "marker", "facet", "width", "height", "annotate",
];
const KINDS: &[&str] = &[
    "bar", "line", "heatmap", "forest", "likert", "scatter", "pie",
];
const STATS: &[&str] = &[
    "levels",
    "correlate",
    "experiment",
    "regress",
    "crosstab",
    "power",
    "statcheck",
    "items",
];
const STATS_KEYS: &[&str] = &[
    "measures",
    "by",
    "data",
    "filter",
    "weight",
    "x",
    "y",
    "method",
    "adjust",
    "subs",
    "arm",
    "categorical",
    "robust",
    "row",
    "col",
    "p0",
    "p1",
    "p2",
    "n",
    "value",
    "se",
    "area_n",
    "role",
    "area",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn table_specs_never_panic(body in spec(TABLE), own_data in prop::bool::weighted(0.8)) {
        run("table", &with_data(&body, own_data))?;
    }

    #[test]
    fn chart_specs_never_panic(
        kind in prop::sample::select(KINDS),
        body in spec(CHART),
        own_data in prop::bool::weighted(0.8),
    ) {
        let body = body.lines().filter(|l| !l.starts_with("kind:")).collect::<Vec<_>>().join("\n");
        run("chart", &with_data(&format!("kind: {kind}\n{body}\n"), own_data))?;
    }

    #[test]
    fn stats_specs_never_panic(analysis in prop::sample::select(STATS), body in spec(STATS_KEYS)) {
        let inner: String = body.lines().map(|l| format!("  {l}\n")).collect();
        run("stats", &format!("{analysis}:\n{inner}"))?;
    }

    #[test]
    fn sql_and_recommend_specs_never_panic(body in spec(&["rules", "heading", "SELECT"])) {
        run("recommend", &body)?;
        run("sql", &body)?;
    }

    #[test]
    fn simulator_never_panics_on_value_sets(
        labels in prop::collection::btree_set(0i64..8, 0..6),
        positive in prop::collection::btree_set(0i64..8, 0..4),
        dont_know in prop::collection::btree_set(0i64..10, 0..2),
    ) {
        let list = |s: &std::collections::BTreeSet<i64>| {
            s.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        };
        let label_map: Vec<String> = labels.iter().chain(&dont_know).map(|c| format!("{c} = \"L{c}\"")).collect();
        let codebook = format!(
            "[survey]\ntitle = \"P\"\n\n[[areas]]\ncode = 1\nname = \"Bristol\"\nthemes = [\"environment\"]\n\n\
[[themes]]\nid = \"environment\"\nlabel = \"Environment\"\n\n\
[value_sets.f]\nlabels = {{ {} }}\npositive = [{}]\ndont_know = [{}]\n\n\
[[variables]]\nname = \"id\"\nrole = \"id\"\n\n[[variables]]\nname = \"area\"\nrole = \"area\"\n\n\
[[variables]]\nname = \"e1\"\nrole = \"individual\"\ntheme = \"environment\"\nvalues = \"f\"\n\n\
[[variables]]\nname = \"ec\"\nrole = \"collective\"\ntheme = \"environment\"\nvalues = \"f\"\n\n\
[[variables]]\nname = \"ef\"\nrole = \"efficacy\"\ntheme = \"environment\"\nvalues = \"f\"\n",
            label_map.join(", "), list(&positive), list(&dont_know)
        );
        if let Ok(cb) = Codebook::parse(Path::new("c.toml"), &codebook) {
            let mut out = Vec::new();
            let r = coweave::survey::simulate::simulate(
                &cb,
                published(),
                &coweave::survey::simulate::Options { seed: 1, scale: 1 },
                &mut out,
            );
            if let Err(e) = r {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}
