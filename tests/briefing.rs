//! The council briefing: renders for every area of the codebook, every
//! recommendation carries its evidence, and rules that misbehave fail
//! with their place.

use crate::common;

use std::path::Path;

fn render(template: &Path, out: &Path, extra: &[&str]) -> (bool, String) {
    common::render(template, out, &[&["--no-cache"], extra].concat())
}

fn eu2008() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/eu2008")
}

/// `first` and the arguments that render on the 2008 five-country survey.
fn eu_args(first: &[&str]) -> Vec<String> {
    let eu = eu2008();
    let file = |f: &str| eu.join(f).display().to_string();
    first
        .iter()
        .map(|a| a.to_string())
        .chain([
            "--data".into(),
            file("survey.csv"),
            "--codebook".into(),
            file("codebook.toml"),
            "--published".into(),
            file("targets.toml"),
        ])
        .collect()
}

fn briefing() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/council-briefing.md")
}

#[test]
fn briefing_renders_for_every_area_with_evidenced_recommendations() {
    let out = tempfile::tempdir().unwrap();
    let (ok, err) = render(
        &briefing(),
        out.path(),
        &["--each", "area", "--to", "html,json"],
    );
    assert!(ok, "{err}");
    let codebook =
        coweave::survey::Codebook::parse(Path::new("codebook"), coweave::bundled::CODEBOOK)
            .unwrap();
    for area in &codebook.areas {
        let stem = coweave::engine::frames::slug(&area.name).replace('_', "-");
        let json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.path().join(format!("council-briefing--{stem}.json"))).unwrap(),
        )
        .unwrap();
        let recs = json["results"]["recommendations"].as_array().unwrap();
        assert!(!recs.is_empty(), "{}: no recommendation", area.name);
        for r in recs {
            let evidence = r["evidence"].as_str().unwrap();
            assert!(
                evidence.chars().any(|c| c.is_ascii_digit()),
                "{}: evidence without figures: {evidence}",
                area.name
            );
        }
        let html =
            std::fs::read_to_string(out.path().join(format!("council-briefing--{stem}.html")))
                .unwrap();
        assert_eq!(
            html.matches("<em>Evidence:</em>").count(),
            recs.len(),
            "{}",
            area.name
        );
        // the trial section follows the data: a table where the area ran it, a sentence where not
        assert_eq!(
            html.contains("id=\"tbl-trial\""),
            area.nudge,
            "{}",
            area.name
        );
        assert_eq!(
            html.contains("did not test nudges"),
            !area.nudge,
            "{}",
            area.name
        );
    }
}

#[test]
fn a_rule_with_empty_evidence_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.toml"),
        "[[rule]]\nid = \"silent\"\ntitle = \"T\"\ntype = \"co-design\"\nwhen = \"SELECT area FROM long LIMIT 1\"\ntext = \"Do it.\"\nevidence = \"{% if false %}x{% endif %}\"\n",
    )
    .unwrap();
    let template = dir.path().join("t.md");
    std::fs::write(
        &template,
        "---\ntitle: T\n---\n\n```{recommend}\n#| name: recs\nrules: rules.toml\n```\n",
    )
    .unwrap();
    let (ok, err) = render(&template, &dir.path().join("out"), &[]);
    assert!(!ok);
    assert!(err.contains("rule `silent`"), "{err}");
    assert!(err.contains("fired but its evidence is empty"), "{err}");
    assert!(err.contains("rules.toml:1:1"), "{err}");
}

#[test]
fn a_rule_with_a_bad_type_or_query_names_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("t.md");
    std::fs::write(
        &template,
        "---\ntitle: T\n---\n\n```{recommend}\n#| name: recs\nrules: rules.toml\n```\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rules.toml"),
        "[[rule]]\nid = \"typo\"\ntitle = \"T\"\ntype = \"co-desing\"\nwhen = \"SELECT 1\"\ntext = \"x\"\nevidence = \"y\"\n",
    )
    .unwrap();
    let (ok, err) = render(&template, &dir.path().join("out"), &[]);
    assert!(!ok && err.contains("unknown type `co-desing`"), "{err}");
    std::fs::write(
        dir.path().join("rules.toml"),
        "[[rule]]\nid = \"broken\"\ntitle = \"T\"\ntype = \"co-design\"\nwhen = \"SELECT * FROM nowhere\"\ntext = \"x\"\nevidence = \"y\"\n",
    )
    .unwrap();
    let (ok, err) = render(&template, &dir.path().join("out"), &[]);
    assert!(
        !ok && err.contains("rule `broken`") && err.contains("its condition failed"),
        "{err}"
    );
}

#[test]
fn briefing_renders_for_a_second_survey_structure_without_changes() {
    // the 2008 five-country EU survey: other areas (countries), themes and items
    let eu = eu2008();
    let out = tempfile::tempdir().unwrap();
    let args = eu_args(&["--each", "area", "--to", "json"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, err) = render(&briefing(), out.path(), &args);
    assert!(ok, "{err}");
    let codebook = coweave::survey::Codebook::load(&eu.join("codebook.toml")).unwrap();
    assert_eq!(codebook.areas.len(), 5);
    for area in &codebook.areas {
        let stem = coweave::engine::frames::slug(&area.name).replace('_', "-");
        let json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.path().join(format!("council-briefing--{stem}.json"))).unwrap(),
        )
        .unwrap();
        let activities = json["results"]["activities"].as_array().unwrap();
        assert!(
            activities.len() >= 10,
            "{}: {} activities ranked",
            area.name,
            activities.len()
        );
        let often: Vec<f64> = activities
            .iter()
            .map(|a| a["often"].as_f64().unwrap())
            .collect();
        assert!(
            often.windows(2).all(|w| w[0] >= w[1]),
            "{}: not in rank order",
            area.name
        );
        assert!(json["results"]["trial_here"].as_array().unwrap().is_empty());
    }
}

#[test]
fn committed_eu_survey_is_its_seed() {
    let root = eu2008();
    let codebook = coweave::survey::Codebook::load(&root.join("codebook.toml")).unwrap();
    let targets = coweave::survey::published::Published::load(&root.join("targets.toml")).unwrap();
    let mut out = Vec::new();
    coweave::survey::simulate::simulate(
        &codebook,
        &targets,
        &coweave::survey::simulate::Options {
            seed: 2008,
            scale: 1,
        },
        &mut out,
    )
    .unwrap();
    assert!(
        out == std::fs::read(root.join("survey.csv")).unwrap(),
        "data/eu2008/survey.csv is stale"
    );
}

/// The page's text between `start` and the next `end`, for every occurrence.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    text.match_indices(start)
        .filter_map(|(i, _)| {
            let rest = &text[i + start.len()..];
            rest.find(end).map(|j| &rest[..j])
        })
        .collect()
}

fn bristol(out: &Path, extra: &[&str]) -> (String, serde_json::Value) {
    let (ok, err) = render(
        &briefing(),
        out,
        &[&["-p", "area=Bristol", "--to", "html,json,typ"], extra].concat(),
    );
    assert!(ok, "{err}");
    let html = std::fs::read_to_string(out.join("council-briefing--bristol.html")).unwrap();
    let json =
        serde_json::from_slice(&std::fs::read(out.join("council-briefing--bristol.json")).unwrap())
            .unwrap();
    (html, json)
}

#[test]
fn the_data_banner_appears_exactly_when_the_data_are_not_real() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // the bundled data are synthetic: banner in the page, the PDF source and the JSON
    let out = tempfile::tempdir().unwrap();
    let (html, json) = bristol(out.path(), &[]);
    let typ = std::fs::read_to_string(out.path().join("council-briefing--bristol.typ")).unwrap();
    assert_eq!(html.matches("class=\"data-notice\"").count(), 1);
    assert!(html.contains("<strong>Synthetic data.</strong>"));
    assert!(typ.contains("Synthetic data."), "the PDF carries it too");
    assert!(
        json["notice"]
            .as_str()
            .unwrap()
            .starts_with("Synthetic data.")
    );
    assert!(html.contains("The data are synthetic"), "Methods says so");
    // the same export declared real: no banner, no synthetic wording
    let dir = tempfile::tempdir().unwrap();
    let codebook = std::fs::read_to_string(root.join("data/codebook.toml"))
        .unwrap()
        .replace("data = \"synthetic\"", "data = \"real\"");
    std::fs::write(dir.path().join("codebook.toml"), codebook).unwrap();
    let out = tempfile::tempdir().unwrap();
    let (html, json) = bristol(
        out.path(),
        &[
            "--codebook",
            &dir.path().join("codebook.toml").display().to_string(),
            "--data",
            &root.join("data/survey.csv").display().to_string(),
        ],
    );
    assert!(!html.contains("class=\"data-notice\""));
    assert!(
        !html.to_lowercase().contains("synthetic"),
        "real data are not called synthetic"
    );
    assert!(json["notice"].is_null());
    // illustrative data say they must not be quoted
    let out = tempfile::tempdir().unwrap();
    let args = eu_args(&["-p", "area=Denmark", "--to", "html"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, err) = render(&briefing(), out.path(), &args);
    assert!(ok, "{err}");
    let html = std::fs::read_to_string(out.path().join("council-briefing--denmark.html")).unwrap();
    assert!(html.contains("must not be quoted"));
    assert!(html.contains("Briefing for policy makers, from the 2008 five-country survey"));
    assert!(html.contains("5 countries in the data set"));
    let body = &html[..html.find("<footer").unwrap()];
    assert!(
        !body.to_lowercase().contains("council"),
        "a national survey's briefing says nothing of councils"
    );
}

#[test]
fn trial_sizes_and_detectable_effects_in_prose_are_the_results() {
    let out = tempfile::tempdir().unwrap();
    let (html, json) = bristol(out.path(), &[]);
    let nudges = json["results"]["nudges"].as_array().unwrap();
    let rows = |stat: &str, theme: &str| -> Vec<f64> {
        nudges
            .iter()
            .filter(|r| {
                r["area"] == "Bristol"
                    && r["statistic"] == stat
                    && r["variable"] == "collective"
                    && r["theme"] == theme
            })
            .map(|r| r["estimate"].as_f64().unwrap())
            .collect()
    };
    let sentences: Vec<&str> = between(&html, ", with ", " percentage points to be detected")
        .into_iter()
        .filter(|s| !s.contains('<'))
        .collect();
    assert_eq!(sentences.len(), 2, "one sentence per theme: {sentences:?}");
    for (sentence, theme) in sentences.iter().zip(["community_safety", "environment"]) {
        let sizes = rows("arm_size", theme);
        let mde = rows("mde", theme);
        let lo = sizes.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = sizes.iter().copied().fold(0.0, f64::max);
        assert!(
            sentence.starts_with(&format!("{lo} to {hi} residents in each arm")),
            "{theme}: {sentence} (arms {sizes:?})"
        );
        let mde_lo = mde.iter().copied().fold(f64::INFINITY, f64::min) * 100.0;
        let mde_hi = mde.iter().copied().fold(0.0, f64::max) * 100.0;
        // one figure when the range prints as one
        let (lo_text, hi_text) = (format!("{mde_lo:.1}"), format!("{mde_hi:.1}"));
        let want = if lo_text == hi_text {
            format!("by {lo_text}")
        } else {
            format!("by {lo_text} to {hi_text}")
        };
        assert!(
            sentence.ends_with(&want),
            "{theme}: {sentence} (mde {mde:?})"
        );
    }
    // the recommendation cites the same detectable effects
    let all_mde: Vec<f64> = ["community_safety", "environment"]
        .iter()
        .flat_map(|t| rows("mde", t))
        .collect();
    let lo = all_mde.iter().copied().fold(f64::INFINITY, f64::min) * 100.0;
    let hi = all_mde.iter().copied().fold(0.0, f64::max) * 100.0;
    let recs = json["results"]["recommendations"].as_array().unwrap();
    let nudge = recs
        .iter()
        .find(|r| r["id"] == "nudges-no-detectable-effect")
        .expect("no Bristol nudge effect is significant after adjustment");
    assert!(
        nudge["evidence"]
            .as_str()
            .unwrap()
            .contains(&format!("effects of {lo:.1} to {hi:.1} points")),
        "{}",
        nudge["evidence"]
    );
    assert!(!html.contains("raised collective participation"));
}

#[test]
fn summary_percentages_are_the_table_cells() {
    let out = tempfile::tempdir().unwrap();
    let (html, _) = bristol(out.path(), &[]);
    // Table 1's cells: (theme, measure) -> shown percentage
    let table = between(&html, "id=\"tbl-levels\"", "</tbody>")[0];
    // the theme heads its rows once (rowspan), so each row's theme is the
    // last one seen
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let mut theme = String::new();
    for tr in between(table, "<tr>", "</tr>") {
        if let Some(t) = between(tr, "scope=\"rowgroup\">", "<").first() {
            theme = t.to_string();
        }
        // header rows have no row headers
        if let (Some(measure), Some(pct)) = (
            between(tr, "<th scope=\"row\">", "<").first(),
            between(tr, "<td class=\"num\">", "<").first(),
        ) {
            rows.push((theme.clone(), measure.to_string(), pct.to_string()));
        }
    }
    let cell = |theme: &str, measure: &str| -> String {
        rows.iter()
            .find(|(t, m, _)| t == theme && m == measure)
            .unwrap_or_else(|| panic!("no row {theme} / {measure}"))
            .2
            .clone()
    };
    let summary = between(&html, "<h2 id=\"summary\">Summary</h2>", "<h2")[0];
    let claims = between(summary, "In ", " take part collectively");
    assert_eq!(claims.len(), 2, "{summary}");
    for claim in claims {
        let (theme, rest) = claim
            .split_once(", the individual co-production index is ")
            .unwrap();
        let (individual, collective) = rest.split_once("% while ").unwrap();
        let collective = collective.trim_end_matches('%');
        let label = {
            let mut c = theme.chars();
            c.next().unwrap().to_uppercase().collect::<String>() + c.as_str()
        };
        assert_eq!(
            individual,
            cell(&label, "Individual co-production"),
            "{claim}"
        );
        assert_eq!(
            collective,
            cell(&label, "Collective co-production"),
            "{claim}"
        );
    }
}

/// Demographics are compared as categories, not codes: every group of the
/// Wolverhampton briefing's comparison is labelled from the codebook (the
/// ethnic group by its `score_labels`), its share equals the share the
/// `levels` analysis computes for that group (a separate code path), the
/// chi-square p of an unordered grouping equals the `crosstab` analysis's
/// (both checked against scipy in tests/stats_engine_reference.rs), age
/// bands are tested by a rank statistic, and each sentence of "Who takes
/// part" cites the groups' figures as the JSON has them.
#[test]
fn demographic_groups_are_compared_as_categories() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("g.md");
    std::fs::write(
        &template,
        "---\ntitle: G\n---\n\n```{stats}\n#| name: groups\ncompare: { groups: [age, gender, ethnicity], y: [collective], by: [area, theme] }\n```\n\n```{stats}\n#| name: by_gender\nlevels: { measures: [collective], by: [area, theme, gender] }\n```\n\n```{sql}\n#| name: wolverhampton\n#| include: false\nSELECT * FROM long WHERE area = 'Wolverhampton' AND theme = 'community_safety'\n```\n\n```{stats}\n#| name: table\ncrosstab: { data: wolverhampton, row: gender, col: collective }\n```\n",
    )
    .unwrap();
    let (ok, err) = render(&template, &dir.path().join("out"), &["--to", "json"]);
    assert!(ok, "{err}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/g.json")).unwrap()).unwrap();
    let r = &json["results"];
    let groups = r["groups"].as_array().unwrap();
    let here = |grouping: &str| -> Vec<&serde_json::Value> {
        groups
            .iter()
            .filter(|g| {
                g["area"] == "Wolverhampton"
                    && g["theme"] == "community_safety"
                    && g["grouping"] == grouping
            })
            .collect()
    };
    let categories = |grouping: &str| -> Vec<String> {
        here(grouping)
            .iter()
            .map(|g| g["category"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        categories("ethnicity"),
        ["White British", "Ethnic minority"]
    );
    assert_eq!(categories("gender"), ["Male", "Female"]);
    assert_eq!(
        categories("age"),
        ["16-24", "25-34", "35-44", "45-54", "55-64", "65 or over"]
    );
    assert!(here("age").iter().all(|g| g["test"] == "Spearman"));
    assert!(
        here("gender")
            .iter()
            .all(|g| g["test"] == "chi-square" && g["effect_name"] == "Cramér's V")
    );
    // shares: the levels analysis by gender code (1 male, 2 female)
    for (g, code) in here("gender").iter().zip(["1", "2"]) {
        let level = r["by_gender"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| {
                l["area"] == "Wolverhampton"
                    && l["theme"] == "community_safety"
                    && l["gender"].as_str().and_then(|c| c.parse::<f64>().ok())
                        == code.parse::<f64>().ok()
            })
            .unwrap_or_else(|| panic!("no level for gender {code}"));
        let (a, b) = (
            g["estimate"].as_f64().unwrap(),
            level["estimate"].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-12, "{g} vs {level}");
        assert_eq!(g["n"], level["n"], "{g} vs {level}");
    }
    let chi2_p = r["table"][0]["chi2_p"].as_f64().unwrap();
    let p = here("gender")[0]["p"].as_f64().unwrap();
    assert!(
        (chi2_p - p).abs() < 1e-12,
        "crosstab {chi2_p} vs compare {p}"
    );

    // the briefing's sentences cite the comparison's own figures
    let out = dir.path().join("briefing");
    let (ok, err) = render(
        &briefing(),
        &out,
        &["-p", "area=Wolverhampton", "--to", "html,json"],
    );
    assert!(ok, "{err}");
    let html = std::fs::read_to_string(out.join("council-briefing--wolverhampton.html")).unwrap();
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("council-briefing--wolverhampton.json")).unwrap(),
    )
    .unwrap();
    let section = between(&html, "<h2 id=\"who-takes-part\">", "<h2")[0];
    let items = between(section, "<li>", "</li>");
    let tests = json["results"]["group_tests"].as_array().unwrap();
    let significant: Vec<&serde_json::Value> = tests
        .iter()
        .filter(|t| t["p"].as_f64().unwrap() < 0.05)
        .collect();
    assert!(
        !significant.is_empty(),
        "Wolverhampton has group differences"
    );
    assert_eq!(items.len(), significant.len().min(4), "{section}");
    for (item, t) in items.iter().zip(&significant) {
        let pct = |v: &serde_json::Value| format!("{:.0}%", v.as_f64().unwrap() * 100.0);
        for (label, value) in [
            ("highest", "highest_estimate"),
            ("lowest", "lowest_estimate"),
        ] {
            let cited = format!("{} ({})", pct(&t[value]), t[label].as_str().unwrap());
            assert!(item.contains(&cited), "{item} should cite {cited}");
        }
        let rising = t["effect"].as_f64().unwrap() > 0.0;
        if t["test"] == "Spearman" {
            assert!(
                item.contains(if rising { "rises" } else { "falls" }),
                "{item}"
            );
        }
    }
}
