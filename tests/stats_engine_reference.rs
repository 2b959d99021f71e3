//! The statistics the report engines use beyond the core (statcheck's p of
//! r and smallest significant n, crosstab column percentages, item shares)
//! against values computed independently by scipy and pandas
//! (tests/fixtures/stats/make_engine_fixtures.py, output committed as
//! engine_reference.json; the script cross-checks scipy's t form of p
//! against its beta form and each n against n - 1). Plus the one grouping
//! rule for missing group keys.

use coweave::stats;
use polars::prelude::*;
use serde_json::Value;

/// A fixture of tests/fixtures/stats/ as JSON.
fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/stats")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect(name)).expect("valid JSON")
}

fn reference() -> Value {
    fixture("engine_reference.json")
}

fn num(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("number expected, got {v}"))
}

fn opt_num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn opt_str(v: &Value) -> Option<&str> {
    v.as_str()
}

#[test]
fn p_of_r_matches_scipy() {
    let cases = reference()["p_of_r"].as_array().unwrap().clone();
    assert!(cases.len() >= 50);
    for c in &cases {
        let (r, n, want) = (num(&c["r"]), num(&c["n"]), num(&c["p"]));
        let got = stats::p_of_r(r, n);
        // p below the smallest normal double comes out as 0 in scipy
        let tol = if want < 1e-10 { 1e-6 } else { 1e-9 } * want + 1e-300;
        assert!(
            (got - want).abs() <= tol,
            "p_of_r({r}, {n}) = {got:e}, scipy {want:e}"
        );
    }
}

#[test]
fn smallest_significant_n_matches_scipy_search() {
    let cases = reference()["n_for"].as_array().unwrap().clone();
    assert!(
        cases.iter().any(|c| c["n"].is_null()),
        "a never-significant case"
    );
    for c in &cases {
        let (r, alpha) = (num(&c["r"]), num(&c["alpha"]));
        let got = stats::n_for_significance(r, alpha);
        let want = opt_num(&c["n"]);
        if r == 0.95 && alpha == 0.05 {
            // at n = 4 the exact p is 1 - |r| = 0.05: on the boundary, where
            // the last bit of floating point decides between 4 and 5
            assert!(matches!(got, Some(4.0) | Some(5.0)), "r = 0.95: {got:?}");
            continue;
        }
        assert_eq!(got, want, "n_for_significance({r}, {alpha})");
    }
}

fn statcheck_reference() -> Value {
    fixture("statcheck_reference.json")
}

/// The sample sizes that give a printed r its mark, against scipy
/// (tests/fixtures/stats/make_statcheck_fixture.py, which checks each
/// boundary at n and n + 1 and each p against scipy's beta form).
#[test]
fn sample_sizes_that_fit_a_printed_r_match_scipy() {
    let cases = statcheck_reference()["correlations"]
        .as_array()
        .unwrap()
        .clone();
    assert!(cases.len() >= 15);
    for c in &cases {
        let (r, dec, stars) = (num(&c["r"]), num(&c["decimals"]) as i32, num(&c["stars"]));
        let h = 0.5 * 10f64.powi(-dec);
        let got = stats::n_range_for_r(r, h, stats::correlation_mark(stars as i64).unwrap());
        let none = c["n_min_status"] == "none" || c["n_max_status"] == "none";
        if none {
            assert_eq!(
                got, None,
                "r = {r} ({dec} decimals), {stars} stars: no n fits"
            );
            continue;
        }
        let got = got.unwrap_or_else(|| panic!("r = {r}, {stars} stars: scipy finds n"));
        assert_eq!(
            got.min,
            num(&c["n_min"]),
            "n_min for r = {r}, {stars} stars"
        );
        assert_eq!(
            got.max,
            opt_num(&c["n_max"]),
            "n_max for r = {r}, {stars} stars"
        );
        for at in c["p_at"].as_array().unwrap() {
            let (n, want) = (num(&at["n"]), num(&at["p"]));
            let p = stats::p_of_r(r, n);
            assert!(
                (p - want).abs() <= 1e-8 * want,
                "p({r}, {n}) = {p:e}, scipy {want:e}"
            );
        }
    }
}

/// The sample sizes (equivalently, standard errors) that give a printed
/// coefficient its mark, against scipy's normal quantiles (same script).
#[test]
fn sample_sizes_that_fit_a_printed_coefficient_match_scipy() {
    let cases = statcheck_reference()["coefficients"]
        .as_array()
        .unwrap()
        .clone();
    assert!(cases.len() >= 5);
    for c in &cases {
        let (b, dec, stars) = (num(&c["b"]), num(&c["decimals"]) as i32, num(&c["stars"]));
        let (se, n) = (num(&c["se_design"]), num(&c["n_arm"]));
        let h = 0.5 * 10f64.powi(-dec);
        let mark = stats::coefficient_mark(stars as i64).unwrap();
        let got = stats::n_range_for_coefficient(b, h, mark, se, n)
            .unwrap_or_else(|| panic!("b = {b}, {stars} stars: scipy finds n"));
        // no stars: scipy has no lower bound (null), coweave starts at 0
        let want_min = opt_num(&c["n_min"]).unwrap_or(0.0);
        assert!(
            (got.min - want_min).abs() <= 1e-9 * want_min.max(1.0),
            "n_min for b = {b}, {stars} stars: {} vs {want_min}",
            got.min
        );
        match (got.max, opt_num(&c["n_max"])) {
            (Some(g), Some(w)) => assert!((g - w).abs() <= 1e-9 * w, "n_max {g} vs {w}"),
            (g, w) => assert_eq!(g, w, "n_max for b = {b}, {stars} stars"),
        }
    }
}

/// The tiers, on hand-computed cases (n ranges from the scipy fixture).
#[test]
fn printed_marks_are_sorted_into_tiers() {
    let mark = |r: f64, stars: i64| {
        stats::n_range_for_r(
            r,
            stats::half_unit(r, 2),
            stats::correlation_mark(stars).unwrap(),
        )
    };
    // 0.112* fits n from 305 to 532: a cell of 465 is consistent
    assert_eq!(
        stats::tier(mark(0.112, 1), 465.0, Some(528.0)),
        stats::Tier::Consistent
    );
    // 0.108*** (p < .001) fits n >= 917: consistent for a cell of 953
    assert_eq!(
        stats::tier(mark(0.108, 3), 953.0, Some(953.0)),
        stats::Tier::Consistent
    );
    // 0.178* fits only n from 122 to 209: a cell of 900 is far above it
    assert_eq!(
        stats::tier(mark(0.178, 1), 900.0, Some(953.0)),
        stats::Tier::Implausible
    );
    // -0.016* needs n >= 14,111: more than the whole area
    assert_eq!(
        stats::tier(mark(-0.016, 1), 450.0, Some(953.0)),
        stats::Tier::Impossible
    );
    // no n at all gives 0.99 no mark (p(0.985, 4) = 0.015 < 0.05)
    let never = stats::n_range_for_r(0.99, 0.005, stats::correlation_mark(0).unwrap());
    assert_eq!(never, None);
    assert_eq!(stats::tier(never, 100.0, None), stats::Tier::Impossible);
    // within 10%: a cell of 560 is close enough to 532
    assert_eq!(
        stats::tier(mark(0.112, 1), 560.0, None),
        stats::Tier::Consistent
    );
    assert_eq!(
        stats::tier(mark(0.112, 1), 600.0, None),
        stats::Tier::Implausible
    );
    // the printed digits set the band
    assert_eq!(stats::half_unit(0.112, 2), 0.0005);
    assert_eq!(stats::half_unit(0.16, 2), 0.005);
    assert_eq!(stats::half_unit(0.0, 2), 0.005);
    assert_eq!(stats::half_unit(2.9, 1), 0.05);
    assert_eq!(stats::half_unit(-6.0, 1), 0.05);
}

#[test]
fn column_percentages_match_pandas_crosstab() {
    for (k, c) in reference()["column_pct"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let rows: Vec<Option<&str>> = c["rows"].as_array().unwrap().iter().map(opt_str).collect();
        let cols: Vec<Option<&str>> = c["cols"].as_array().unwrap().iter().map(opt_str).collect();
        let w: Option<Vec<f64>> = c["weights"].as_array().map(|w| w.iter().map(num).collect());
        let table = stats::crosstab(&rows, &cols, w.as_deref()).unwrap();
        let labels = |v: &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(table.row_labels, labels(&c["row_labels"]), "case {k}");
        assert_eq!(table.col_labels, labels(&c["col_labels"]), "case {k}");
        let pct = stats::column_percentages(&table.counts);
        for (i, row) in pct.iter().enumerate() {
            for (j, got) in row.iter().enumerate() {
                let count = num(&c["counts"][i][j]);
                let want = num(&c["pct"][i][j]);
                assert!((table.counts[i][j] - count).abs() <= 1e-9 * count.abs());
                assert!(
                    (got - want).abs() <= 1e-12,
                    "case {k} [{i}][{j}]: {got} vs {want}"
                );
            }
        }
    }
    // a column with no cases has no percentage, not 0
    let pct = stats::column_percentages(&[vec![1.0, 0.0], vec![3.0, 0.0]]);
    assert_eq!(pct[0][0], 0.25);
    assert!(pct[0][1].is_nan() && pct[1][1].is_nan());
}

#[test]
fn item_shares_match_pandas() {
    for (k, c) in reference()["item_shares"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let codes: Vec<Option<f64>> = c["codes"].as_array().unwrap().iter().map(opt_num).collect();
        let scored: Vec<i64> = c["scored"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let positive: Vec<i64> = c["positive"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let first = c["first"].as_i64().unwrap();
        let got = stats::item_shares(&codes, |x| scored.contains(&x), first, &positive);
        let n = c["n"].as_u64().unwrap() as usize;
        if n == 0 {
            assert_eq!(got, None, "case {k}: nothing scored");
            continue;
        }
        let got = got.unwrap_or_else(|| panic!("case {k}: shares"));
        assert_eq!(got.n, n, "case {k}");
        assert!((got.first - num(&c["often"])).abs() <= 1e-12, "case {k}");
        assert!((got.positive - num(&c["any"])).abs() <= 1e-12, "case {k}");
    }
}

#[test]
fn a_missing_group_key_is_its_own_group_sorted_first() {
    let df = df![
        "area" => [Some("Bristol"), None, Some("Barnet"), Some("Bristol"), None],
        "y" => [1.0, 2.0, 3.0, 4.0, 5.0],
    ]
    .unwrap();
    let groups = stats::group_rows(&df, &["area"]).unwrap();
    let got: Vec<(Option<String>, Vec<usize>)> =
        groups.into_iter().map(|(k, v)| (k[0].clone(), v)).collect();
    assert_eq!(
        got,
        vec![
            (None, vec![1, 4]),
            (Some("Barnet".into()), vec![2]),
            (Some("Bristol".into()), vec![0, 3]),
        ]
    );
    // every row is in exactly one group
    let df = df!["a" => ["x", "y"], "b" => [Some("1"), None]].unwrap();
    let groups = stats::group_rows(&df, &["a", "b"]).unwrap();
    assert_eq!(groups.values().map(Vec::len).sum::<usize>(), 2);
}

/// The average main effects of a 2x2 factorial and their minimum detectable
/// effects against statsmodels (OLS with HC2, `t_test` of the contrasts)
/// and scipy (noncentral t), from
/// tests/fixtures/stats/make_factorial_fixture.py; the script checks the
/// contrasts against a sum-coded two-factor fit.
#[test]
fn factorial_main_effects_match_statsmodels() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/stats/factorial_reference.json");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let y: Vec<Option<f64>> = case["y"].as_array().unwrap().iter().map(opt_num).collect();
        let arms: Vec<Option<&str>> = case["arm"]
            .as_array()
            .unwrap()
            .iter()
            .map(opt_str)
            .collect();
        let spec = stats::ExperimentSpec::default();
        let res = stats::analyse_experiment(&y, &arms, stats::OutcomeKind::Auto, &spec).unwrap();
        assert_eq!(res.main_effects.len(), 2, "{}", case["kind"]);
        for main in &res.main_effects {
            let want = &case["main_effects"][main.factor.as_str()];
            let got = main.effect.as_ref().unwrap();
            let close = |a: f64, b: f64, what: &str| {
                assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{} {} {what}: {a} vs statsmodels {b}",
                    case["kind"],
                    main.factor
                )
            };
            close(got.estimate, num(&want["estimate"]), "estimate");
            close(got.se, num(&want["se"]), "se");
            close(got.p, num(&want["p"]), "p");
            close(got.ci_low, num(&want["ci_low"]), "ci_low");
            close(got.ci_high, num(&want["ci_high"]), "ci_high");
            close(got.df, num(&want["df"]), "df");
            close(*main.mde.as_ref().unwrap(), num(&want["mde"]), "mde");
        }
    }
}

/// Cramér's V and the chi-square test behind it against scipy
/// (`chi2_contingency(correction=False)`, `contingency.association`), from
/// tests/fixtures/stats/make_association_fixture.py, which also checks V
/// against its definition.
#[test]
fn cramers_v_matches_scipy() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/stats/association_reference.json");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let tables = fixture["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 5);
    for case in tables {
        let table: Vec<Vec<f64>> = case["table"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row.as_array().unwrap().iter().map(num).collect())
            .collect();
        let test = stats::chi_square_independence(&table, false).unwrap();
        let close = |a: f64, b: f64, what: &str| {
            assert!(
                (a - b).abs() <= 1e-10 * b.abs().max(1.0),
                "{table:?} {what}: {a} vs scipy {b}"
            )
        };
        close(test.statistic, num(&case["chi2"]), "chi2");
        close(test.p, num(&case["p"]), "p");
        close(test.df, num(&case["df"]), "df");
        close(test.cramers_v(), num(&case["cramers_v"]), "Cramér's V");
    }
}

/// Group comparisons (nominal by chi-square or Kruskal-Wallis, ordered by
/// Spearman) against scipy (tests/fixtures/stats/make_groups_fixture.py
/// → groups_reference.json): each group's share or mean and base, the
/// test's statistic, p and effect size.
#[test]
fn group_comparisons_match_scipy() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/stats/groups_reference.json");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    let column = |v: &Value| -> Vec<Option<f64>> {
        v.as_array().unwrap().iter().map(|x| Some(num(x))).collect()
    };
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let scale = match case["scale"].as_str().unwrap() {
            "ordinal" => stats::Scale::Ordinal,
            _ => stats::Scale::Nominal,
        };
        let binary = case["binary"].as_bool().unwrap();
        let got =
            stats::compare_groups(&column(&case["codes"]), &column(&case["y"]), scale, binary)
                .unwrap();
        let close = |a: f64, b: f64, what: &str| {
            assert!(
                (a - b).abs() <= 1e-10 * b.abs().max(1.0),
                "{name} {what}: {a} vs scipy {b}"
            )
        };
        let levels = case["levels"].as_array().unwrap();
        assert_eq!(got.levels.len(), levels.len(), "{name}");
        for (g, want) in got.levels.iter().zip(levels) {
            close(g.code, num(&want["code"]), "code");
            close(g.estimate, num(&want["estimate"]), "group estimate");
            assert_eq!(g.n as u64, want["n"].as_u64().unwrap(), "{name} base");
        }
        let test = got.test.unwrap();
        let kind = match test.kind {
            stats::GroupTestKind::ChiSquare => "chi-square",
            stats::GroupTestKind::KruskalWallis => "kruskal",
            stats::GroupTestKind::Spearman => "spearman",
        };
        let want = &case["test"];
        assert_eq!(kind, want["kind"].as_str().unwrap(), "{name}");
        close(test.statistic, num(&want["statistic"]), "statistic");
        close(test.p, num(&want["p"]), "p");
        close(test.effect, num(&want["effect"]), "effect size");
    }
}
