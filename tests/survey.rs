//! Loading through a codebook, the co-production measures, and the
//! synthetic survey's determinism.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use coweave::survey::published::Published;
use coweave::survey::{Codebook, Survey, simulate};
use polars::prelude::*;

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/broken");

fn fixture_codebook() -> PathBuf {
    Path::new(CASES).join("codebook.toml")
}

fn clean() -> Survey {
    Survey::load(
        &Path::new(CASES).join("clean/data.csv"),
        &fixture_codebook(),
    )
    .expect("clean case loads")
}

fn column(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name).unwrap().f64().unwrap().iter().collect()
}

fn strings(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

#[test]
fn long_frame_has_one_row_per_respondent_and_theme() {
    let s = clean();
    // Northtown (3 respondents) asks environment and health, Southvale (2) environment only
    assert_eq!(s.long.height(), 3 * 2 + 2);
    let themes = strings(&s.long, "theme");
    assert_eq!(
        themes
            .iter()
            .filter(|t| t.as_deref() == Some("health"))
            .count(),
        3
    );
    assert_eq!(s.respondents.height(), 5);
}

#[test]
fn individual_index_uses_answered_items_by_default() {
    let s = clean();
    let ids = strings(&s.long, "id");
    let themes = strings(&s.long, "theme");
    let ind = column(&s.long, "individual");
    let get = |id: &str, theme: &str| {
        let i = (0..ids.len())
            .find(|i| ids[*i].as_deref() == Some(id) && themes[*i].as_deref() == Some(theme))
            .unwrap();
        ind[i]
    };
    // 101: env_1 = 1 (often), env_2 = 2 (sometimes) -> 2 of 2
    assert_eq!(get("101", "environment"), Some(1.0));
    // 102: env_1 = 2, env_2 = 9 (don't know) -> 1 of 1 answered
    assert_eq!(get("102", "environment"), Some(1.0));
    // 201: env_1 = 1, env_2 = 3 (rarely) -> 1 of 2
    assert_eq!(get("201", "environment"), Some(0.5));
    // 202: env_1 = 3, env_2 blank -> 0 of 1
    assert_eq!(get("202", "environment"), Some(0.0));
    // 103: health item blank -> no index
    assert_eq!(get("103", "health"), None);
}

#[test]
fn denominator_all_counts_dont_know_as_no() {
    let text = std::fs::read_to_string(fixture_codebook())
        .unwrap()
        .replacen(
            "[[areas]]",
            "[options]\nindividual_denominator = \"all\"\n\n[[areas]]",
            1,
        );
    let codebook = Codebook::parse(Path::new("all.toml"), &text).expect("codebook parses");
    let s = Survey::load_with(&Path::new(CASES).join("clean/data.csv"), codebook).unwrap();
    let ids = strings(&s.long, "id");
    let ind = column(&s.long, "individual");
    let i102 = ids
        .iter()
        .position(|i| i.as_deref() == Some("102"))
        .unwrap();
    // 102: env_1 = 2, env_2 = 9 -> 1 of 2 items asked
    assert_eq!(ind[i102], Some(0.5));
}

#[test]
fn collective_and_attitudes_treat_dont_know_as_missing() {
    let s = clean();
    let ids = strings(&s.long, "id");
    let themes = strings(&s.long, "theme");
    let env: Vec<usize> = (0..ids.len())
        .filter(|i| themes[*i].as_deref() == Some("environment"))
        .collect();
    let col = column(&s.long, "collective");
    let eff = column(&s.long, "efficacy");
    let by_id: HashMap<String, (Option<f64>, Option<f64>)> = env
        .iter()
        .map(|i| (ids[*i].clone().unwrap(), (col[*i], eff[*i])))
        .collect();
    assert_eq!(by_id["101"], (Some(0.0), Some(4.0))); // collective 3 = rarely
    assert_eq!(by_id["102"], (Some(1.0), Some(3.0)));
    assert_eq!(by_id["201"], (Some(1.0), None)); // efficacy 9 = don't know
}

#[test]
fn arms_are_named_and_only_where_the_trial_ran() {
    let s = clean();
    let arms = strings(&s.long, "arm");
    let areas = strings(&s.long, "area");
    for (arm, area) in arms.iter().zip(&areas) {
        match area.as_deref() {
            Some("Northtown") => assert!(matches!(arm.as_deref(), Some("none") | Some("A"))),
            _ => assert_eq!(arm, &None),
        }
    }
}

fn csv_frame(path: &Path) -> DataFrame {
    CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap()
}

#[test]
fn parquet_export_loads_like_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = Path::new(CASES).join("clean/data.csv");
    let mut df = csv_frame(&csv);
    let pq = dir.path().join("survey.parquet");
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .finish(&mut df)
        .unwrap();
    let from_pq = Survey::load(&pq, &fixture_codebook()).unwrap();
    assert!(from_pq.long.equals_missing(&clean().long));
}

#[test]
fn spss_export_keeps_dont_know_codes() {
    use polars_readstat_rs::spss::{SpssMissingValue, SpssWriter};
    let dir = tempfile::tempdir().unwrap();
    let csv = Path::new(CASES).join("clean/data.csv");
    let df = csv_frame(&csv);
    let df = df
        .lazy()
        .with_columns([
            col("id").cast(DataType::Float64),
            col("hl_1").cast(DataType::Float64),
        ])
        .collect()
        .unwrap();
    let sav = dir.path().join("survey.sav");
    let mut missing = HashMap::new();
    for v in ["env_1", "env_2", "env_col", "env_eff", "hl_1"] {
        missing.insert(v.to_string(), vec![SpssMissingValue::Num(9.0)]);
    }
    SpssWriter::new(&sav)
        .with_missing_values(missing)
        .write_df(&df)
        .unwrap();
    let from_sav = Survey::load(&sav, &fixture_codebook()).unwrap();
    let csv_survey = clean();
    // don't know (a user-missing code in SPSS) is kept as a code, not a blank
    let dk = |s: &Survey, v: &str| {
        s.summary
            .items
            .iter()
            .find(|i| i.variable == v)
            .unwrap()
            .dont_know
    };
    assert!(dk(&from_sav, "env_2") > 0.0);
    assert_eq!(dk(&from_sav, "env_2"), dk(&csv_survey, "env_2"));
    for name in ["individual", "collective", "efficacy"] {
        assert_eq!(
            column(&from_sav.long, name),
            column(&csv_survey.long, name),
            "{name}"
        );
    }
}

fn bundled() -> (Codebook, Published) {
    (
        Codebook::load(Path::new("data/codebook.toml")).unwrap(),
        Published::load(Path::new("data/published_tables.toml")).unwrap(),
    )
}

#[test]
fn simulate_is_byte_identical_for_a_seed() {
    let (codebook, published) = bundled();
    let run = |seed| {
        let mut out = Vec::new();
        simulate::simulate(
            &codebook,
            &published,
            &simulate::Options { seed, scale: 1 },
            &mut out,
        )
        .unwrap();
        out
    };
    let a = run(7);
    assert_eq!(a, run(7));
    assert_ne!(a, run(8));
}

#[test]
fn committed_survey_is_the_default_seed() {
    let (codebook, published) = bundled();
    let mut out = Vec::new();
    simulate::simulate(
        &codebook,
        &published,
        &simulate::Options::default(),
        &mut out,
    )
    .unwrap();
    let committed = std::fs::read("data/survey.csv").unwrap();
    assert!(
        out == committed,
        "data/survey.csv is stale: run `cargo run -- simulate`"
    );
}

#[test]
fn scale_multiplies_respondents_with_unique_ids() {
    let (codebook, published) = bundled();
    let mut out = Vec::new();
    let rows = simulate::simulate(
        &codebook,
        &published,
        &simulate::Options { seed: 1, scale: 3 },
        &mut out,
    )
    .unwrap();
    let expected: usize = published.areas.iter().map(|a| a.respondents).sum();
    assert_eq!(rows as usize, 3 * expected);
    let text = String::from_utf8(out).unwrap();
    let ids: std::collections::HashSet<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids.len(), 3 * expected);
}

#[test]
fn bundled_survey_matches_published_counts() {
    let s = Survey::load(
        Path::new("data/survey.csv"),
        Path::new("data/codebook.toml"),
    )
    .unwrap();
    let (_, published) = bundled();
    for a in &published.areas {
        let n = s
            .summary
            .respondents
            .iter()
            .find(|(name, _)| *name == a.area)
            .unwrap()
            .1;
        assert_eq!(n, a.respondents, "{}", a.area);
    }
    assert!(s.warnings.is_empty());
}

#[test]
fn codebook_doc_example_parses() {
    let doc = std::fs::read_to_string("docs/codebook.md").unwrap();
    let start = doc.find("## A complete example").unwrap();
    let block = &doc[start..];
    let open = block.find("```toml\n").unwrap() + "```toml\n".len();
    let close = open + block[open..].find("```").unwrap();
    let codebook = Codebook::parse(Path::new("docs/codebook.md"), &block[open..close])
        .expect("the documented example is a valid codebook");
    assert_eq!(codebook.areas.len(), 2);
    assert!(codebook.variable("env_groups").is_some());
}

/// A template whose data is a Parquet export renders the same results as
/// from the CSV it was written from; the provenance hash is of the bytes
/// that were parsed (the file is read once), checked against SHA-256 of
/// the file computed here.
#[test]
fn a_parquet_export_renders_like_its_csv() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let csv = root.join("data/survey.csv");
    std::fs::copy(&csv, dir.path().join("s.csv")).unwrap();
    std::fs::copy(root.join("data/codebook.toml"), dir.path().join("c.toml")).unwrap();
    let mut df = csv_frame(&csv);
    let pq = dir.path().join("s.parquet");
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .finish(&mut df)
        .unwrap();
    let body =
        "\n```{stats}\n#| name: levels\nlevels:\n  measures: [individual, collective]\n```\n";
    let mut results = Vec::new();
    for file in ["s.csv", "s.parquet"] {
        let t = dir.path().join(format!("{file}.md"));
        std::fs::write(
            &t,
            format!("---\ntitle: P\ndata: {{ survey: {file}, codebook: c.toml }}\n---\n{body}"),
        )
        .unwrap();
        let out = dir.path().join("out");
        let o = assert_cmd::Command::cargo_bin("coweave")
            .unwrap()
            .args([
                "render",
                &t.display().to_string(),
                "--to",
                "json",
                "--no-cache",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("{file}.json"))).unwrap(),
        )
        .unwrap();
        let want = format!(
            "{:x}",
            Sha256::digest(std::fs::read(dir.path().join(file)).unwrap())
        );
        assert!(
            json.to_string().contains(&want),
            "{file}: provenance hash {want} not found"
        );
        results.push(json["results"]["levels"].clone());
    }
    assert!(results[0].as_array().is_some_and(|a| !a.is_empty()));
    assert_eq!(results[0], results[1]);
}
