//! The council briefing: renders for every area of the codebook, every
//! recommendation carries its evidence, and rules that misbehave fail
//! with their place.

mod common;

use std::path::Path;

fn render(template: &Path, out: &Path, extra: &[&str]) -> (bool, String) {
    common::render(template, out, &[&["--no-cache"], extra].concat())
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
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let eu = root.join("data/eu2008");
    let out = tempfile::tempdir().unwrap();
    let (ok, err) = render(
        &briefing(),
        out.path(),
        &[
            "--each",
            "area",
            "--to",
            "json",
            "--data",
            &eu.join("survey.csv").display().to_string(),
            "--codebook",
            &eu.join("codebook.toml").display().to_string(),
            "--published",
            &eu.join("targets.toml").display().to_string(),
        ],
    );
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
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/eu2008");
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
