//! The committed synthetic survey reproduces the paper's published tables:
//! Table 2 levels within 2 points, significant Table 3-4 correlations with
//! their sign and roughly their size, Table 5 arm effects within 2.5 points.

use std::path::Path;

use coweave::survey::Survey;
use coweave::survey::published::Published;
use polars::prelude::*;

fn survey() -> Survey {
    Survey::load(
        Path::new("data/survey.csv"),
        Path::new("data/codebook.toml"),
    )
    .expect("bundled survey loads")
}

fn published() -> Published {
    Published::load(Path::new("data/published_tables.toml")).expect("published tables load")
}

/// Values of `col` (and `other`) for one area and theme, optionally one arm.
fn cells(
    long: &DataFrame,
    area: &str,
    theme: &str,
    arm: Option<&str>,
    col: &str,
) -> Vec<Option<f64>> {
    let mut mask = long.column("area").unwrap().str().unwrap().equal(area)
        & long.column("theme").unwrap().str().unwrap().equal(theme);
    if let Some(arm) = arm {
        mask = mask & long.column("arm").unwrap().str().unwrap().equal(arm);
    }
    let part = long.filter(&mask).unwrap();
    part.column(col).unwrap().f64().unwrap().iter().collect()
}

fn mean(v: &[Option<f64>]) -> f64 {
    let xs: Vec<f64> = v.iter().flatten().copied().collect();
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn pearson(x: &[Option<f64>], y: &[Option<f64>]) -> f64 {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter_map(|(a, b)| Some(((*a)?, (*b)?)))
        .collect();
    let n = pairs.len() as f64;
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let syy: f64 = pairs.iter().map(|p| (p.1 - my).powi(2)).sum();
    sxy / (sxx * syy).sqrt()
}

#[test]
fn table2_levels_within_two_points() {
    let s = survey();
    let p = published();
    let mut failures = Vec::new();
    for l in &p.levels {
        let mut check = |what: &str, col: &str, target: f64| {
            let got = 100.0 * mean(&cells(&s.long, &l.area, &l.theme, None, col));
            if (got - target).abs() > 2.0 {
                failures.push(format!(
                    "{} {} {what}: published {target}, synthetic {got:.1}",
                    l.area, l.theme
                ));
            }
        };
        check("individual", "individual", l.individual_pct);
        check("collective", "collective", l.collective_pct);
        if let Some(t) = l.time_pct {
            check("time", "time", t);
        }
    }
    for t in &p.barnet_time {
        for (col, target) in [
            ("time_current", t.currently_few_hours_month_pct),
            ("time_more", t.willing_more_few_hours_month_pct),
        ] {
            let got = 100.0 * mean(&cells(&s.long, "Barnet", &t.theme, None, col));
            if (got - target).abs() > 2.0 {
                failures.push(format!(
                    "Barnet {} {col}: published {target}, synthetic {got:.1}",
                    t.theme
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn significant_correlations_keep_sign_and_rough_size() {
    let s = survey();
    let p = published();
    let names: Vec<String> = s
        .long
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in &p.correlates {
        let outcome = if row.table == 3 {
            "individual"
        } else {
            "collective"
        };
        for c in &row.cells {
            // cells the transcription flags as manuscript errors are not targets
            if c.stars == 0 || c.note.is_some() {
                continue;
            }
            let with_sub = c.sub.as_ref().map(|sub| format!("{}__{sub}", row.variable));
            let col = match with_sub {
                Some(n) if names.contains(&n) => n,
                _ => row.variable.clone(),
            };
            let r = pearson(
                &cells(&s.long, &c.area, &c.theme, None, &col),
                &cells(&s.long, &c.area, &c.theme, None, outcome),
            );
            checked += 1;
            let tolerance = 0.1 + 0.25 * c.r.abs();
            if r.signum() != c.r.signum() || (r - c.r).abs() > tolerance {
                failures.push(format!(
                    "table {} {} {} {} {col}: published {:.3}, synthetic {r:.3}",
                    row.table, c.area, c.theme, outcome, c.r
                ));
            }
        }
    }
    assert!(checked > 40, "only {checked} significant cells checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn table5_nudge_effects_within_two_and_a_half_points() {
    let s = survey();
    let p = published();
    let names: Vec<String> = s
        .long
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let mut failures = Vec::new();
    for b in &p.nudges {
        for row in &b.rows {
            for (outcome, target) in [
                ("individual", row.individual),
                ("collective", row.collective),
            ] {
                let col = match &b.sub {
                    Some(sub) if names.contains(&format!("{outcome}__{sub}")) => {
                        format!("{outcome}__{sub}")
                    }
                    _ => outcome.to_string(),
                };
                let arm = mean(&cells(&s.long, &b.area, &b.theme, Some(&row.arm), &col));
                let control = mean(&cells(&s.long, &b.area, &b.theme, Some("none"), &col));
                let got = 100.0 * (arm - control);
                if (got - target).abs() > 2.5 {
                    failures.push(format!(
                        "{} {} {:?} arm {} {col}: published {target}, synthetic {got:.1}",
                        b.area, b.theme, b.sub, row.arm
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
