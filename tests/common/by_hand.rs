//! Collective co-production recomputed from the raw export and the codebook
//! alone (csv and toml, none of coweave's code): what backs the golden
//! results of tests/render.rs and tests/reports.rs.

use std::path::Path;

/// Per theme of `area` (community safety, environment): the share answering
/// a `positive` code of the collective item among those giving a
/// substantive answer (not a `dont_know` code, not blank), weighted by the
/// export's `weight` column when `weighted` (Σw·y / Σw), and the unweighted
/// base.
pub fn collective_by_hand(area: &str, weighted: bool) -> Vec<(String, f64, i64)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cb: toml::Value =
        toml::from_str(&std::fs::read_to_string(root.join("data/codebook.toml")).unwrap()).unwrap();
    let code = cb["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"].as_str() == Some(area))
        .unwrap()["code"]
        .as_integer()
        .unwrap();
    let set = &cb["value_sets"]["frequency"];
    let codes = |k: &str| -> Vec<i64> {
        set[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_integer().unwrap())
            .collect()
    };
    let (positive, dont_know) = (codes("positive"), codes("dont_know"));
    let mut rdr = csv::Reader::from_path(root.join("data/survey.csv")).unwrap();
    let header = rdr.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let mut out = Vec::new();
    for (theme, var) in [("community_safety", "cs_col"), ("environment", "env_col")] {
        let (mut yes, mut total, mut n) = (0.0, 0.0, 0i64);
        for r in rows
            .iter()
            .filter(|r| r[col("area")].parse::<i64>().unwrap() == code)
        {
            let Ok(answer) = r[col(var)].parse::<i64>() else {
                continue;
            };
            if dont_know.contains(&answer) {
                continue;
            }
            let w: f64 = if weighted {
                r[col("weight")].parse().unwrap()
            } else {
                1.0
            };
            n += 1;
            total += w;
            if positive.contains(&answer) {
                yes += w;
            }
        }
        out.push((theme.to_string(), yes / total, n));
    }
    out
}
