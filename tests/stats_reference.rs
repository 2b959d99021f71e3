//! The statistics core against reference values computed independently by
//! statsmodels / scipy / pandas (tests/fixtures/stats/make_fixtures.py,
//! output committed as reference.json). Agreement: relative 1e-8, or 1e-6
//! for p-values below 1e-10.

use std::sync::OnceLock;

use coweave::stats::{
    self, CorrelationMethod, CovType, ExperimentSpec, GroupedOptions, MeanDiffMethod,
    NotComputable, OlsOptions, OutcomeKind, PAdjustMethod, ProportionMethod, StatsError, Term,
};
use polars::prelude::*;
use serde_json::Value;

fn reference() -> &'static Value {
    static REF: OnceLock<Value> = OnceLock::new();
    REF.get_or_init(|| {
        let path = format!(
            "{}/tests/fixtures/stats/reference.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).expect("reference.json"))
            .expect("valid JSON")
    })
}

fn data(set: &str) -> &'static Value {
    &reference()["datasets"][set]
}

fn exp(path: &[&str]) -> &'static Value {
    let mut v = &reference()["expected"];
    for p in path {
        v = &v[*p];
    }
    assert!(!v.is_null(), "missing reference {path:?}");
    v
}

fn col(v: &Value) -> Vec<Option<f64>> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64())
        .collect()
}

fn colf(v: &Value) -> Vec<f64> {
    col(v).into_iter().map(|x| x.expect("no nulls")).collect()
}

fn cols(v: &Value) -> Vec<Option<String>> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().map(|s| s.to_string()))
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("number expected, got {v}"))
}

#[track_caller]
fn close(got: f64, want: f64, what: &str) {
    let tol = 1e-8 * want.abs() + 1e-13;
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:e}, want {want:e} (rel err {:e})",
        ((got - want) / want).abs()
    );
}

#[track_caller]
fn close_p(got: f64, want: f64, what: &str) {
    let rel = if want < 1e-10 { 1e-6 } else { 1e-8 };
    assert!(
        (got - want).abs() <= rel * want.abs() + 1e-300,
        "{what}: got {got:e}, want {want:e}"
    );
}

#[track_caller]
fn close_vec(got: &[f64], want: &Value, what: &str) {
    let want = colf(want);
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        close(*g, *w, &format!("{what}[{i}]"));
    }
}

#[track_caller]
fn close_p_vec(got: &[f64], want: &Value, what: &str) {
    let want = colf(want);
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        close_p(*g, *w, &format!("{what}[{i}]"));
    }
}

// ------------------------------------------------------------ descriptives

#[test]
fn means_match_descrstatsw() {
    let cases: [(&str, &str, &str, Option<&str>, f64); 5] = [
        ("plain_y", "plain", "y", None, 0.95),
        ("plain_y_90", "plain", "y", None, 0.90),
        ("weighted_y", "weighted", "y", Some("w"), 0.95),
        ("weighted_y_99", "weighted", "y", Some("w"), 0.99),
        ("dontknow_q3", "dontknow", "q3", None, 0.95),
    ];
    for (name, set, y, w, level) in cases {
        let e = exp(&["mean", name]);
        let yv = col(&data(set)[y]);
        let m = match w {
            Some(w) => stats::weighted_mean(&yv, &col(&data(set)[w]), level).unwrap(),
            None => stats::mean(&yv, level).unwrap(),
        };
        close(m.mean, f(&e["mean"]), &format!("{name} mean"));
        close(m.se, f(&e["se"]), &format!("{name} se"));
        close(m.df, f(&e["df"]), &format!("{name} df"));
        close(m.ci_low, f(&e["ci_low"]), &format!("{name} ci_low"));
        close(m.ci_high, f(&e["ci_high"]), &format!("{name} ci_high"));
        close(m.n_eff, f(&e["n_eff"]), &format!("{name} n_eff"));
        assert_eq!(m.n as u64, e["n"].as_u64().unwrap(), "{name} base n");
    }
}

#[test]
fn proportions_match_proportion_confint() {
    let zeros = vec![Some(0.0); 20];
    let ones = vec![Some(1.0); 20];
    let mut one_of_7 = vec![Some(0.0); 7];
    one_of_7[0] = Some(1.0);
    let plain_b = col(&data("plain")["b"]);
    let weighted_b = col(&data("weighted")["b"]);
    let w = col(&data("weighted")["w"]);
    let qb = col(&data("dontknow")["qb"]);
    type Case<'a> = (&'a str, &'a Vec<Option<f64>>, Option<&'a Vec<Option<f64>>>);
    let cases: Vec<Case> = vec![
        ("plain_b", &plain_b, None),
        ("weighted_b", &weighted_b, Some(&w)),
        ("dontknow_qb", &qb, None),
        ("zero_of_20", &zeros, None),
        ("all_of_20", &ones, None),
        ("one_of_7", &one_of_7, None),
    ];
    for (name, x, w) in cases {
        let e = exp(&["proportion", name]);
        for (method, key) in [
            (ProportionMethod::Wilson, "wilson"),
            (ProportionMethod::ClopperPearson, "clopper_pearson"),
        ] {
            let p = match w {
                Some(w) => stats::weighted_proportion(x, w, method, 0.95).unwrap(),
                None => stats::proportion(x, method, 0.95).unwrap(),
            };
            close(p.p, f(&e["p"]), &format!("{name} p"));
            close(p.n_eff, f(&e["n_eff"]), &format!("{name} n_eff"));
            close(p.ci_low, f(&e[key][0]), &format!("{name} {key} low"));
            close(p.ci_high, f(&e[key][1]), &format!("{name} {key} high"));
            assert_eq!(p.n as u64, e["n"].as_u64().unwrap());
        }
    }
}

#[test]
fn proportion_rejects_non_binary_and_empty() {
    let x = [Some(0.0), Some(2.0)];
    assert!(matches!(
        stats::proportion(&x, ProportionMethod::Wilson, 0.95),
        Err(StatsError::InvalidInput(_))
    ));
    let empty: [Option<f64>; 2] = [None, None];
    assert!(matches!(
        stats::proportion(&empty, ProportionMethod::Wilson, 0.95),
        Err(StatsError::NotComputable(
            NotComputable::TooFewObservations { n: 0, .. }
        ))
    ));
}

// ------------------------------------------------------------ correlations

#[test]
fn correlations_match_scipy() {
    let cases = [
        (
            "plain_x1_y_pearson",
            "plain",
            "x1",
            "y",
            CorrelationMethod::Pearson,
        ),
        (
            "plain_x2_y_pearson",
            "plain",
            "x2",
            "y",
            CorrelationMethod::Pearson,
        ),
        (
            "plain_x1_y_spearman",
            "plain",
            "x1",
            "y",
            CorrelationMethod::Spearman,
        ),
        (
            "dontknow_q1_q2_pearson",
            "dontknow",
            "q1",
            "q2",
            CorrelationMethod::Pearson,
        ),
        (
            "dontknow_q1_q2_spearman",
            "dontknow",
            "q1",
            "q2",
            CorrelationMethod::Spearman,
        ),
        (
            "dontknow_q1_q3_pearson",
            "dontknow",
            "q1",
            "q3",
            CorrelationMethod::Pearson,
        ),
        (
            "dontknow_q2_q3_spearman",
            "dontknow",
            "q2",
            "q3",
            CorrelationMethod::Spearman,
        ),
    ];
    for (name, set, x, y, method) in cases {
        let e = exp(&["correlation", name]);
        let c = stats::correlation(&col(&data(set)[x]), &col(&data(set)[y]), method, 0.95).unwrap();
        close(c.r, f(&e["r"]), &format!("{name} r"));
        close_p(c.p, f(&e["p"]), &format!("{name} p"));
        close(c.ci_low, f(&e["ci_low"]), &format!("{name} ci_low"));
        close(c.ci_high, f(&e["ci_high"]), &format!("{name} ci_high"));
        assert_eq!(c.n as u64, e["n"].as_u64().unwrap(), "{name} n");
        assert_eq!(c.stars(), stats::stars(f(&e["p"])));
    }
}

#[test]
fn correlation_matrices_match_pandas_pairwise() {
    let plain: Vec<Vec<f64>> = ["x1", "x2", "x3", "y"]
        .iter()
        .map(|k| colf(&data("plain")[*k]))
        .collect();
    let dk: Vec<Vec<f64>> = ["q1", "q2", "q3"]
        .iter()
        .map(|k| {
            col(&data("dontknow")[*k])
                .into_iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    let cases = [
        ("plain_pearson", &plain, CorrelationMethod::Pearson),
        ("dontknow_pearson", &dk, CorrelationMethod::Pearson),
        ("dontknow_spearman", &dk, CorrelationMethod::Spearman),
    ];
    for (name, columns, method) in cases {
        let refs: Vec<&[f64]> = columns.iter().map(|c| c.as_slice()).collect();
        let names: Vec<String> = (0..refs.len()).map(|i| format!("c{i}")).collect();
        let nrefs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let m = stats::correlation_matrix(&refs, &nrefs, method, 0.95).unwrap();
        let want = exp(&["correlation_matrix", name]).as_array().unwrap();
        for (i, row) in m.r().iter().enumerate() {
            for (j, r) in row.iter().enumerate() {
                close(r.unwrap(), f(&want[i][j]), &format!("{name}[{i}][{j}]"));
            }
        }
        // the pairwise path agrees with the one-pair function
        let c01 = stats::correlation(&columns[0], &columns[1], method, 0.95).unwrap();
        close(m.cells[0][1].as_ref().unwrap().r, c01.r, "matrix vs pair");
    }
}

#[test]
fn correlation_not_computable_cases() {
    let x = col(&data("constant")["x"]);
    let c = col(&data("constant")["c"]);
    let err = stats::pearson(&x, &c, 0.95).unwrap_err();
    assert_eq!(
        err.not_computable(),
        Some(&NotComputable::Constant {
            variable: "y".into()
        })
    );
    let short = [Some(1.0), Some(2.0), None, Some(5.0)];
    let other = [Some(2.0), Some(1.0), Some(3.0), None];
    let err = stats::spearman(&short, &other, 0.95).unwrap_err();
    assert!(matches!(
        err.not_computable(),
        Some(NotComputable::TooFewObservations { n: 2, needed: 3 })
    ));
    // NaN counts as missing, like None
    let xs = [1.0, f64::NAN, 3.0, 4.0, 5.0];
    let ys = [2.0, 1.0, f64::NAN, 4.0, 4.5];
    assert_eq!(stats::pearson(&xs, &ys, 0.95).unwrap().n, 3);
}

// ------------------------------------------------------------ regression

fn check_fit(fit: &stats::OlsFit, e: &Value, what: &str) {
    close_vec(&fit.coef, &e["coef"], &format!("{what} coef"));
    close_vec(&fit.se, &e["se"], &format!("{what} se"));
    close_vec(&fit.t, &e["t"], &format!("{what} t"));
    close_p_vec(&fit.p, &e["p"], &format!("{what} p"));
    close_vec(&fit.ci_low, &e["ci_low"], &format!("{what} ci_low"));
    close_vec(&fit.ci_high, &e["ci_high"], &format!("{what} ci_high"));
    close(fit.r2, f(&e["r2"]), &format!("{what} r2"));
    close(fit.adj_r2, f(&e["adj_r2"]), &format!("{what} adj_r2"));
    close(fit.rss, f(&e["rss"]), &format!("{what} rss"));
    close(fit.df_resid, f(&e["df_resid"]), &format!("{what} df_resid"));
    close(fit.f_stat.unwrap(), f(&e["f"]), &format!("{what} F"));
    close_p(fit.f_p.unwrap(), f(&e["f_p"]), &format!("{what} F p"));
    assert_eq!(fit.n as u64, e["n"].as_u64().unwrap(), "{what} n");
}

const COVS: [(CovType, &str); 5] = [
    (CovType::Classical, "nonrobust"),
    (CovType::HC0, "HC0"),
    (CovType::HC1, "HC1"),
    (CovType::HC2, "HC2"),
    (CovType::HC3, "HC3"),
];

#[test]
fn ols_with_dummies_matches_statsmodels_all_covariances() {
    let d = data("plain");
    let y = col(&d["y"]);
    let (x1, x2, x3) = (col(&d["x1"]), col(&d["x2"]), col(&d["x3"]));
    let g = cols(&d["g"]);
    let g: Vec<Option<&str>> = g.iter().map(|s| s.as_deref()).collect();
    let terms = [
        Term::Categorical {
            name: "g",
            values: &g,
            reference: Some("east"),
        },
        Term::Numeric {
            name: "x1",
            values: &x1,
        },
        Term::Numeric {
            name: "x2",
            values: &x2,
        },
        Term::Numeric {
            name: "x3",
            values: &x3,
        },
    ];
    for (cov, key) in COVS {
        let fit = stats::ols_terms(&y, &terms, None, &OlsOptions::with_cov(cov)).unwrap();
        assert_eq!(
            fit.names,
            ["Intercept", "g[T.north]", "g[T.south]", "x1", "x2", "x3"]
        );
        check_fit(&fit, exp(&["ols", "plain", key]), &format!("plain {key}"));
    }
}

#[test]
fn ols_without_intercept_matches_statsmodels() {
    let d = data("plain");
    let (x1, x2, y) = (colf(&d["x1"]), colf(&d["x2"]), colf(&d["y"]));
    for (cov, key) in COVS {
        let opts = OlsOptions {
            intercept: false,
            ..OlsOptions::with_cov(cov)
        };
        let fit = stats::ols(&[&x1, &x2], &["x1", "x2"], &y, None, &opts).unwrap();
        assert!(!fit.has_constant);
        check_fit(
            &fit,
            exp(&["ols", "plain_noint", key]),
            &format!("noint {key}"),
        );
    }
}

#[test]
fn wls_matches_statsmodels() {
    let d = data("weighted");
    let (x1, x2, y, w) = (colf(&d["x1"]), colf(&d["x2"]), colf(&d["y"]), colf(&d["w"]));
    for (cov, key) in COVS {
        let fit = stats::ols(
            &[&x1, &x2],
            &["x1", "x2"],
            &y,
            Some(&w),
            &OlsOptions::with_cov(cov),
        )
        .unwrap();
        check_fit(&fit, exp(&["ols", "weighted", key]), &format!("wls {key}"));
    }
}

#[test]
fn ols_listwise_deletion_matches_statsmodels() {
    let d = data("dontknow");
    let (q1, q2, q3) = (col(&d["q1"]), col(&d["q2"]), col(&d["q3"]));
    let terms = [
        Term::Numeric {
            name: "q1",
            values: &q1,
        },
        Term::Numeric {
            name: "q2",
            values: &q2,
        },
    ];
    for (cov, key) in COVS {
        let fit = stats::ols_terms(&q3, &terms, None, &OlsOptions::with_cov(cov)).unwrap();
        check_fit(
            &fit,
            exp(&["ols", "dontknow", key]),
            &format!("dontknow {key}"),
        );
    }
}

#[test]
fn rank_deficient_designs_name_the_aliased_column() {
    let d = data("rank_deficient");
    let (x1, x2, x3, y) = (
        colf(&d["x1"]),
        colf(&d["x2"]),
        colf(&d["x3"]),
        colf(&d["y"]),
    );
    let err = stats::ols(
        &[&x1, &x2, &x3],
        &["x1", "x2", "x3"],
        &y,
        None,
        &OlsOptions::default(),
    )
    .unwrap_err();
    let want: Vec<String> = exp(&["ols", "rank_deficient", "aliased"])
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        err.not_computable(),
        Some(&NotComputable::RankDeficient { aliased: want })
    );
    assert!(err.to_string().contains("x3"), "{err}");

    let d = data("constant");
    let (x, c, y) = (colf(&d["x"]), colf(&d["c"]), colf(&d["y"]));
    let err = stats::ols(&[&x, &c], &["x", "c"], &y, None, &OlsOptions::default()).unwrap_err();
    assert_eq!(
        err.not_computable(),
        Some(&NotComputable::RankDeficient {
            aliased: vec!["c".into()]
        })
    );
    // a dummy for every level plus an intercept: the dummy trap
    let lv: Vec<Option<&str>> = (0..30).map(|i| Some(["a", "b"][i % 2])).collect();
    let da: Vec<Option<f64>> = (0..30).map(|i| Some((i % 2 == 0) as i32 as f64)).collect();
    let db: Vec<Option<f64>> = (0..30).map(|i| Some((i % 2 == 1) as i32 as f64)).collect();
    let yy: Vec<Option<f64>> = (0..30).map(|i| Some((i * 7 % 11) as f64)).collect();
    let err = stats::ols_terms(
        &yy,
        &[
            Term::Numeric {
                name: "is_a",
                values: &da,
            },
            Term::Numeric {
                name: "is_b",
                values: &db,
            },
        ],
        None,
        &OlsOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.not_computable(),
        Some(&NotComputable::RankDeficient {
            aliased: vec!["is_b".into()]
        })
    );
    // while the categorical term itself is fine
    stats::ols_terms(
        &yy,
        &[Term::Categorical {
            name: "lv",
            values: &lv,
            reference: None,
        }],
        None,
        &OlsOptions::default(),
    )
    .unwrap();
}

// ------------------------------------------------------------ experiment

fn arm_values(set: &Value, outcome: &str, arm: &str) -> Vec<Option<f64>> {
    let arms = cols(&set["arm"]);
    col(&set[outcome])
        .into_iter()
        .zip(arms)
        .filter(|(_, a)| a.as_deref() == Some(arm))
        .map(|(v, _)| v)
        .collect()
}

#[test]
fn arm_differences_match_statsmodels_and_scipy() {
    let d = data("experiment");
    for arm in ["A", "B", "AB"] {
        let e = exp(&["experiment", "arms", arm]);
        let t = arm_values(d, "y_bin", arm);
        let c = arm_values(d, "y_bin", "none");
        let sum = |v: &[Option<f64>]| v.iter().map(|x| x.unwrap()).sum::<f64>();
        let dp = stats::diff_proportions(sum(&t), t.len() as f64, sum(&c), c.len() as f64, 0.95)
            .unwrap();
        close(dp.diff, f(&e["bin"]["diff"]), "diff p");
        close(dp.ci_low, f(&e["bin"]["ci_low"]), "newcombe low");
        close(dp.ci_high, f(&e["bin"]["ci_high"]), "newcombe high");
        close(dp.z, f(&e["bin"]["z"]), "z");
        close_p(dp.p, f(&e["bin"]["p"]), "z p");
        let t = arm_values(d, "y_cont", arm);
        let c = arm_values(d, "y_cont", "none");
        for (method, key) in [
            (MeanDiffMethod::Welch, "welch"),
            (MeanDiffMethod::Pooled, "pooled"),
        ] {
            let dm = stats::diff_means(&t, &c, method, 0.95).unwrap();
            let e = &e[key];
            close(dm.diff, f(&e["diff"]), &format!("{key} diff"));
            close(dm.t, f(&e["t"]), &format!("{key} t"));
            close(dm.df, f(&e["df"]), &format!("{key} df"));
            close_p(dm.p, f(&e["p"]), &format!("{key} p"));
            close(dm.ci_low, f(&e["ci_low"]), &format!("{key} ci_low"));
            close(dm.ci_high, f(&e["ci_high"]), &format!("{key} ci_high"));
        }
    }
}

#[test]
fn itt_hc2_and_interaction_match_statsmodels() {
    let d = data("experiment");
    let arms = cols(&d["arm"]);
    let arm_refs: Vec<Option<&str>> = arms.iter().map(|s| s.as_deref()).collect();
    for (outcome, kind) in [
        ("y_bin", OutcomeKind::Binary),
        ("y_cont", OutcomeKind::Continuous),
    ] {
        let res = stats::analyse_experiment(
            &col(&d[outcome]),
            &arm_refs,
            OutcomeKind::Auto,
            &ExperimentSpec::default(),
        )
        .unwrap();
        assert_eq!(res.kind, kind);
        let fit = res.itt.as_ref().unwrap();
        // statsmodels orders treatment dummies A, AB, B (sorted), as we do
        assert_eq!(
            fit.names,
            ["Intercept", "arm[T.A]", "arm[T.AB]", "arm[T.B]"]
        );
        assert_eq!(fit.cov_type, CovType::HC2);
        check_fit(fit, exp(&["experiment", "itt", outcome, "fit"]), outcome);
        let ie = exp(&["experiment", "itt", outcome, "interaction"]);
        let inter = res.interaction.as_ref().unwrap().as_ref().unwrap();
        close(inter.estimate, f(&ie["estimate"]), "interaction");
        close(inter.se, f(&ie["se"]), "interaction se");
        close_p(inter.p, f(&ie["p"]), "interaction p");
        close(inter.ci_low, f(&ie["ci_low"]), "interaction low");
        close(inter.ci_high, f(&ie["ci_high"]), "interaction high");
        let sizes: Vec<(String, usize)> = res.arms.iter().map(|a| (a.0.clone(), a.1)).collect();
        assert_eq!(
            sizes,
            [
                ("A".to_string(), 58),
                ("AB".to_string(), 55),
                ("B".to_string(), 63),
                ("none".to_string(), 61)
            ]
        );
        for eff in &res.effects {
            let e = exp(&["experiment", "arms", eff.arm.as_str()]);
            let (est, lo, hi, _) = eff.difference.as_ref().unwrap().summary();
            let key = if kind == OutcomeKind::Binary {
                "bin"
            } else {
                "welch"
            };
            close(est, f(&e[key]["diff"]), "effect");
            close(lo, f(&e[key]["ci_low"]), "effect low");
            close(hi, f(&e[key]["ci_high"]), "effect high");
            let itt = eff.itt.as_ref().unwrap();
            close(
                itt.estimate,
                est,
                "ITT coefficient equals the difference in means",
            );
            assert!(*eff.mde.as_ref().unwrap() > 0.0);
        }
    }
}

#[test]
fn power_and_sample_size_match_statsmodels() {
    for c in exp(&["experiment", "power_means"]).as_array().unwrap() {
        let p = stats::power_two_means(f(&c["d"]), f(&c["n1"]), f(&c["n2"]), 0.05).unwrap();
        close(p, f(&c["power"]), "power means");
    }
    for c in exp(&["experiment", "required_n_means"]).as_array().unwrap() {
        let n = stats::required_n_two_means(f(&c["d"]), 0.05, 0.8, f(&c["ratio"])).unwrap();
        close(n, f(&c["n1"]), "required n means");
    }
    for c in exp(&["experiment", "mde_means"]).as_array().unwrap() {
        let d = stats::mde_means(f(&c["n1"]), f(&c["n2"]), 0.05, 0.8).unwrap();
        close(d, f(&c["d"]), "mde means");
    }
    for c in exp(&["experiment", "power_proportions"])
        .as_array()
        .unwrap()
    {
        let p =
            stats::power_two_proportions(f(&c["p1"]), f(&c["p2"]), f(&c["n1"]), f(&c["n2"]), 0.05)
                .unwrap();
        close(p, f(&c["power"]), "power proportions");
    }
    for c in exp(&["experiment", "required_n_proportions"])
        .as_array()
        .unwrap()
    {
        let n =
            stats::required_n_two_proportions(f(&c["p1"]), f(&c["p2"]), 0.05, 0.8, f(&c["ratio"]))
                .unwrap();
        close(n, f(&c["n1"]), "required n proportions");
    }
    for c in exp(&["experiment", "mde_proportions"]).as_array().unwrap() {
        let d = stats::mde_proportions(f(&c["p0"]), f(&c["n1"]), f(&c["n0"]), 0.05, 0.8).unwrap();
        close(d, f(&c["mde"]), "mde proportions");
    }
}

// ------------------------------------------------------------ multiple testing

#[test]
fn p_adjust_matches_multipletests() {
    let e = exp(&["p_adjust"]);
    let p = colf(&e["p"]);
    for (m, key) in [
        (PAdjustMethod::BenjaminiHochberg, "BH"),
        (PAdjustMethod::Holm, "holm"),
        (PAdjustMethod::Bonferroni, "bonferroni"),
    ] {
        close_vec(&stats::p_adjust(&p, m).unwrap(), &e[key], key);
    }
}

// ------------------------------------------------------------ crosstabs

#[test]
fn chi_square_matches_scipy() {
    let tab = |k: &str| -> Vec<Vec<f64>> {
        data("crosstab")[k]
            .as_array()
            .unwrap()
            .iter()
            .map(colf)
            .collect()
    };
    for (k, yates, key) in [
        ("table", false, "chi2"),
        ("table_small", false, "chi2"),
        ("table2x2", false, "chi2"),
        ("table2x2", true, "chi2_yates"),
    ] {
        let e = exp(&["crosstab", k, key]);
        let t = stats::chi_square_independence(&tab(k), yates).unwrap();
        close(t.statistic, f(&e["statistic"]), &format!("{k} X2"));
        close_p(t.p, f(&e["p"]), &format!("{k} p"));
        close(t.df, f(&e["df"]), &format!("{k} df"));
        for (row, want) in t.expected.iter().zip(e["expected"].as_array().unwrap()) {
            close_vec(row, want, &format!("{k} expected"));
        }
        if k == "table_small" {
            assert!(t.cells_expected_below_5 > 0);
            assert!(
                t.warning
                    .as_deref()
                    .unwrap()
                    .contains("expected count less than 5")
            );
        }
    }
}

#[test]
fn column_proportion_letters_match_reference() {
    for k in ["table", "table2x2"] {
        let table: Vec<Vec<f64>> = data("crosstab")[k]
            .as_array()
            .unwrap()
            .iter()
            .map(colf)
            .collect();
        let e = exp(&["crosstab", k, "colprop"]);
        let t = stats::column_proportion_tests(&table, 0.05).unwrap();
        for (r, row) in e["letters"].as_array().unwrap().iter().enumerate() {
            for (c, l) in row.as_array().unwrap().iter().enumerate() {
                assert_eq!(
                    t.letters[r][c],
                    l.as_str().unwrap(),
                    "{k} letters[{r}][{c}]"
                );
            }
        }
        for (r, row) in e["p_adjusted"].as_array().unwrap().iter().enumerate() {
            for (pair, want) in row.as_object().unwrap() {
                let (i, j) = pair.split_once(',').unwrap();
                let got = t.p_adjusted[r][&(i.parse().unwrap(), j.parse().unwrap())];
                match want.as_f64() {
                    Some(w) => close_p(got.unwrap(), w, &format!("{k} p_adj {r} {pair}")),
                    None => assert!(got.is_none()),
                }
            }
        }
    }
}

// ------------------------------------------------------------ grouped forms

fn long_frame() -> DataFrame {
    let d = data("long");
    let s = |k: &str| Column::new(k.into(), cols(&d[k]));
    let n = |k: &str| Column::new(k.into(), col(&d[k]));
    let height = d["id"].as_array().unwrap().len();
    DataFrame::new(
        height,
        vec![
            s("area"),
            s("theme"),
            s("id"),
            s("arm"),
            n("weight"),
            n("individual"),
            n("collective"),
            n("efficacy"),
        ],
    )
    .unwrap()
}

fn frame_rows(df: &DataFrame, filter: &dyn Fn(&DataFrame, usize) -> bool) -> Vec<usize> {
    (0..df.height()).filter(|&i| filter(df, i)).collect()
}

fn get_str(df: &DataFrame, c: &str, i: usize) -> Option<String> {
    df.column(c)
        .unwrap()
        .str()
        .unwrap()
        .get(i)
        .map(|s| s.to_string())
}

fn get_f(df: &DataFrame, c: &str, i: usize) -> Option<f64> {
    df.column(c).unwrap().f64().unwrap().get(i)
}

fn get_n(df: &DataFrame, c: &str, i: usize) -> u32 {
    df.column(c).unwrap().u32().unwrap().get(i).unwrap()
}

#[test]
fn grouped_forms_match_per_group_reference() {
    let df = long_frame();
    let by = ["area", "theme"];
    let opts = GroupedOptions {
        weight: Some("weight".into()),
        ..Default::default()
    };
    let m = stats::mean_by(&df, "individual", &by, &opts).unwrap();
    let want = exp(&["grouped", "mean_individual_weighted"])
        .as_array()
        .unwrap();
    assert_eq!(m.height(), want.len());
    for (i, w) in want.iter().enumerate() {
        assert_eq!(get_str(&m, "area", i).as_deref(), w["area"].as_str());
        assert_eq!(get_str(&m, "theme", i).as_deref(), w["theme"].as_str());
        assert_eq!(get_str(&m, "statistic", i).as_deref(), Some("mean"));
        close(
            get_f(&m, "estimate", i).unwrap(),
            f(&w["mean"]),
            "grouped mean",
        );
        close(
            get_f(&m, "ci_low", i).unwrap(),
            f(&w["ci_low"]),
            "grouped low",
        );
        close(
            get_f(&m, "ci_high", i).unwrap(),
            f(&w["ci_high"]),
            "grouped high",
        );
        assert_eq!(get_n(&m, "n", i) as u64, w["n"].as_u64().unwrap());
    }

    // collective was not asked in south/health: that group is skipped
    let p = stats::proportion_by(&df, "collective", &by, &GroupedOptions::default()).unwrap();
    let want = exp(&["grouped", "proportion_collective"])
        .as_array()
        .unwrap();
    assert_eq!(p.height(), want.len());
    assert!(!(0..p.height()).any(|i| {
        get_str(&p, "area", i).as_deref() == Some("south")
            && get_str(&p, "theme", i).as_deref() == Some("health")
    }));
    for (i, w) in want.iter().enumerate() {
        close(get_f(&p, "estimate", i).unwrap(), f(&w["p"]), "grouped p");
        close(
            get_f(&p, "ci_low", i).unwrap(),
            f(&w["wilson"][0]),
            "grouped wilson low",
        );
        close(
            get_f(&p, "ci_high", i).unwrap(),
            f(&w["wilson"][1]),
            "grouped wilson high",
        );
    }

    let c = stats::correlate_by(
        &df,
        "individual",
        "efficacy",
        &by,
        CorrelationMethod::Pearson,
        &GroupedOptions::default(),
    )
    .unwrap();
    let want = exp(&["grouped", "corr_individual_efficacy"])
        .as_array()
        .unwrap();
    assert_eq!(c.height(), want.len());
    for (i, w) in want.iter().enumerate() {
        close(get_f(&c, "estimate", i).unwrap(), f(&w["r"]), "grouped r");
        close_p(get_f(&c, "p", i).unwrap(), f(&w["p"]), "grouped r p");
        assert_eq!(get_n(&c, "n", i) as u64, w["n"].as_u64().unwrap());
        assert_eq!(
            get_str(&c, "stars", i).unwrap(),
            stats::stars(f(&w["p"])),
            "stars"
        );
        assert_eq!(get_str(&c, "note", i), None);
    }

    let spec = ExperimentSpec::default();
    let e = stats::experiment_by(&df, "collective", "arm", &by, OutcomeKind::Auto, &spec).unwrap();
    let want = exp(&["grouped", "experiment_collective_difference"])
        .as_array()
        .unwrap();
    for w in want {
        let rows = frame_rows(&e, &|df, i| {
            get_str(df, "area", i).as_deref() == w["area"].as_str()
                && get_str(df, "theme", i).as_deref() == w["theme"].as_str()
                && get_str(df, "arm", i).as_deref() == w["arm"].as_str()
                && get_str(df, "statistic", i).as_deref() == Some("difference")
        });
        assert_eq!(rows.len(), 1, "{w}");
        let i = rows[0];
        close(get_f(&e, "estimate", i).unwrap(), f(&w["estimate"]), "diff");
        close(get_f(&e, "ci_low", i).unwrap(), f(&w["ci_low"]), "diff low");
        close(
            get_f(&e, "ci_high", i).unwrap(),
            f(&w["ci_high"]),
            "diff high",
        );
        close_p(get_f(&e, "p", i).unwrap(), f(&w["p"]), "diff p");
        assert_eq!(get_n(&e, "n", i) as u64, w["n"].as_u64().unwrap());
    }
    let e = stats::experiment_by(&df, "individual", "arm", &by, OutcomeKind::Auto, &spec).unwrap();
    let want = exp(&["grouped", "experiment_individual_itt"])
        .as_array()
        .unwrap();
    for w in want {
        let rows = frame_rows(&e, &|df, i| {
            get_str(df, "area", i).as_deref() == w["area"].as_str()
                && get_str(df, "theme", i).as_deref() == w["theme"].as_str()
                && get_str(df, "arm", i).as_deref() == w["arm"].as_str()
                && get_str(df, "statistic", i).as_deref() == Some("itt")
        });
        assert_eq!(rows.len(), 1, "{w}");
        let i = rows[0];
        close(get_f(&e, "estimate", i).unwrap(), f(&w["estimate"]), "itt");
        close(get_f(&e, "ci_low", i).unwrap(), f(&w["ci_low"]), "itt low");
        close(
            get_f(&e, "ci_high", i).unwrap(),
            f(&w["ci_high"]),
            "itt high",
        );
        close_p(get_f(&e, "p", i).unwrap(), f(&w["p"]), "itt p");
        assert_eq!(get_n(&e, "n", i) as u64, w["n"].as_u64().unwrap());
    }
    // every group has an interaction row and four arm sizes
    for stat in ["interaction", "arm_size", "mde"] {
        let k = frame_rows(&e, &|df, i| {
            get_str(df, "statistic", i).as_deref() == Some(stat)
        })
        .len();
        let per_group = match stat {
            "interaction" => 1,
            "arm_size" => 4,
            _ => 3,
        };
        assert_eq!(k, 4 * per_group, "{stat}");
    }
}

#[test]
fn grouped_not_computable_cells_carry_a_note() {
    let df = df!(
        "area" => ["a", "a", "a", "b", "b", "b", "b"],
        "trust" => [Some(1.0), Some(2.0), Some(3.0), Some(1.0), Some(2.0), Some(3.0), Some(4.0)],
        "efficacy" => [Some(5.0), Some(5.0), Some(5.0), Some(1.0), None, Some(2.0), Some(4.0)],
    )
    .unwrap();
    let c = stats::correlate_by(
        &df,
        "trust",
        "efficacy",
        &["area"],
        CorrelationMethod::Pearson,
        &GroupedOptions::default(),
    )
    .unwrap();
    assert_eq!(c.height(), 2);
    assert_eq!(get_f(&c, "estimate", 0), None);
    assert_eq!(
        get_str(&c, "note", 0).unwrap(),
        "not computable: efficacy is constant"
    );
    assert_eq!(get_n(&c, "n", 0), 3);
    assert!(get_f(&c, "estimate", 1).is_some());
    assert_eq!(get_n(&c, "n", 1), 3);

    let adj = stats::p_adjust_frame(&c, "p", PAdjustMethod::Holm, "p_holm").unwrap();
    assert_eq!(get_f(&adj, "p_holm", 0), None);
    assert_eq!(get_f(&adj, "p_holm", 1), get_f(&c, "p", 1));
}

#[test]
fn sub_items_are_found_by_role() {
    let df = df!(
        "efficacy" => [1.0],
        "efficacy__crime" => [2.0],
        "efficacy__health" => [3.0],
        "sat_response" => [1.0],
    )
    .unwrap();
    assert_eq!(
        stats::sub_items(&df, "efficacy"),
        ["efficacy__crime", "efficacy__health"]
    );
}

// ------------------------------------------------------------ distributions

#[test]
fn distributions_match_scipy_including_far_tails() {
    use coweave::stats::dist;
    let e = exp(&["dist"]);
    let rows = |k: &str| e[k].as_array().unwrap().clone();
    for c in rows("t_isf") {
        close(
            dist::t_isf(f(&c["q"]), f(&c["df"])),
            f(&c["value"]),
            "t_isf",
        );
    }
    for c in rows("t_two_sided_p") {
        close_p(
            dist::t_two_sided_p(f(&c["t"]), f(&c["df"])),
            f(&c["value"]),
            "t p",
        );
    }
    for c in rows("chi2_sf") {
        close_p(
            dist::chi2_sf(f(&c["x"]), f(&c["df"])),
            f(&c["value"]),
            "chi2 sf",
        );
    }
    for c in rows("f_sf") {
        close_p(
            dist::f_sf(f(&c["f"]), f(&c["d1"]), f(&c["d2"])),
            f(&c["value"]),
            "F sf",
        );
    }
    for c in rows("norm_isf") {
        close(dist::norm_isf(f(&c["q"])), f(&c["value"]), "norm isf");
    }
    for c in rows("beta_ppf") {
        close(
            dist::beta_quantile(f(&c["p"]), f(&c["a"]), f(&c["b"])),
            f(&c["value"]),
            "beta ppf",
        );
    }
    // The noncentral t serves power and MDE only. Lower-tail values come
    // from the complement of the AS 243 series and keep an absolute, not a
    // relative, accuracy of about 1e-13; 1e-12 absolute is far below any
    // power that is reported.
    for c in rows("nct_cdf") {
        let (got, want) = (
            dist::nct_cdf(f(&c["t"]), f(&c["df"]), f(&c["nc"])),
            f(&c["value"]),
        );
        assert!(
            (got - want).abs() <= 1e-8 * want.abs() + 1e-12,
            "nct cdf: got {got:e}, want {want:e}"
        );
    }
}
