//! Regression output a template can reach (`{stats} regress` and
//! `experiment` with `robust:`): coefficients, standard errors under every
//! covariance, adjusted R², the (robust Wald) F test and its p, degrees of
//! freedom, and the trial's ITT contrasts, against statsmodels
//! (tests/fixtures/stats/make_regress_fixture.py, output committed as
//! regress_reference.json; robust fits use `use_t=True` as coweave does).

use coweave::stats::{self, CovType, ExperimentSpec, OlsFit, OlsOptions, OutcomeKind, Term};
use serde_json::Value;

fn reference() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/stats/regress_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn cov_of(key: &str) -> CovType {
    match key {
        "nonrobust" => CovType::Classical,
        "HC0" => CovType::HC0,
        "HC1" => CovType::HC1,
        "HC2" => CovType::HC2,
        "HC3" => CovType::HC3,
        other => panic!("unknown covariance {other}"),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn opt_nums(v: &Value) -> Vec<Option<f64>> {
    v.as_array().unwrap().iter().map(Value::as_f64).collect()
}

fn close(got: f64, want: f64, rel: f64, what: &str) {
    let tol = rel * want.abs().max(1e-300) + 1e-300;
    assert!(
        (got - want).abs() <= tol.max(if want.abs() < 1e-12 { 1e-14 } else { 0.0 }),
        "{what}: coweave {got:e}, statsmodels {want:e}"
    );
}

fn close_all(got: &[f64], want: &[f64], rel: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        close(*g, *w, rel, &format!("{what}[{i}]"));
    }
}

fn check_fit(fit: &OlsFit, want: &Value, what: &str) {
    close_all(
        &fit.coef,
        &nums(&want["params"]),
        1e-9,
        &format!("{what} params"),
    );
    close_all(&fit.se, &nums(&want["bse"]), 1e-8, &format!("{what} bse"));
    close_all(&fit.t, &nums(&want["tvalues"]), 1e-8, &format!("{what} t"));
    close_all(&fit.p, &nums(&want["pvalues"]), 1e-7, &format!("{what} p"));
    let ci: Vec<(f64, f64)> = want["conf_int"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    for (i, (lo, hi)) in ci.iter().enumerate() {
        close(fit.ci_low[i], *lo, 1e-8, &format!("{what} ci_low[{i}]"));
        close(fit.ci_high[i], *hi, 1e-8, &format!("{what} ci_high[{i}]"));
    }
    close(
        fit.r2,
        want["rsquared"].as_f64().unwrap(),
        1e-10,
        &format!("{what} R²"),
    );
    close(
        fit.adj_r2,
        want["rsquared_adj"].as_f64().unwrap(),
        1e-10,
        &format!("{what} adjusted R²"),
    );
    close(
        fit.f_stat.expect("an F test"),
        want["fvalue"].as_f64().unwrap(),
        1e-8,
        &format!("{what} F"),
    );
    close(
        fit.f_p.expect("an F p"),
        want["f_pvalue"].as_f64().unwrap(),
        1e-6,
        &format!("{what} F p"),
    );
    assert_eq!(
        fit.df_model,
        want["df_model"].as_f64().unwrap(),
        "{what} df_model"
    );
    assert_eq!(
        fit.df_resid,
        want["df_resid"].as_f64().unwrap(),
        "{what} df_resid"
    );
    assert_eq!(fit.n as u64, want["nobs"].as_u64().unwrap(), "{what} n");
}

#[test]
fn regressions_match_statsmodels_under_every_covariance() {
    let r = reference();
    let cases = r["regress"].as_object().unwrap();
    assert_eq!(cases.len(), 4);
    for (case, spec) in cases {
        let data = &spec["data"];
        let y = opt_nums(&data["y"]);
        let numeric: Vec<(String, Vec<Option<f64>>)> = data["numeric"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), opt_nums(v))).collect())
            .unwrap_or_default();
        let categorical: Vec<(String, Vec<Option<String>>)> = data["categorical"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let vals = v
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|s| s.as_str().map(str::to_string))
                            .collect();
                        (k.clone(), vals)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let cat_refs: Vec<(String, Vec<Option<&str>>)> = categorical
            .iter()
            .map(|(k, v)| (k.clone(), v.iter().map(|s| s.as_deref()).collect()))
            .collect();
        let mut terms = Vec::new();
        for t in spec["terms"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            match t["kind"].as_str().unwrap() {
                "numeric" => {
                    let (_, values) = numeric.iter().find(|(k, _)| k == name).unwrap();
                    terms.push(Term::Numeric { name, values });
                }
                _ => {
                    let (_, values) = cat_refs.iter().find(|(k, _)| k == name).unwrap();
                    terms.push(Term::Categorical {
                        name,
                        values,
                        reference: t["reference"].as_str(),
                    });
                }
            }
        }
        let weights = (!data["weights"].is_null()).then(|| opt_nums(&data["weights"]));
        let names: Vec<String> = spec["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        let fits = spec["fits"].as_object().unwrap();
        assert_eq!(fits.len(), 5, "{case}: every covariance");
        for (cov, want) in fits {
            let opts = OlsOptions {
                intercept: spec["intercept"].as_bool().unwrap(),
                ..OlsOptions::with_cov(cov_of(cov))
            };
            let fit = stats::ols_terms(&y, &terms, weights.as_deref(), &opts)
                .unwrap_or_else(|e| panic!("{case} {cov}: {e}"));
            assert_eq!(fit.names, names, "{case} names");
            check_fit(&fit, want, &format!("{case} {cov}"));
        }
    }
}

fn check_contrast(got: &stats::Contrast, want: &Value, what: &str) {
    close(
        got.estimate,
        want["estimate"].as_f64().unwrap(),
        1e-9,
        &format!("{what} estimate"),
    );
    close(
        got.se,
        want["se"].as_f64().unwrap(),
        1e-8,
        &format!("{what} se"),
    );
    close(
        got.t,
        want["t"].as_f64().unwrap(),
        1e-8,
        &format!("{what} t"),
    );
    assert_eq!(got.df, want["df"].as_f64().unwrap(), "{what} df");
    close(
        got.p,
        want["p"].as_f64().unwrap(),
        1e-7,
        &format!("{what} p"),
    );
    close(
        got.ci_low,
        want["ci_low"].as_f64().unwrap(),
        1e-8,
        &format!("{what} ci_low"),
    );
    close(
        got.ci_high,
        want["ci_high"].as_f64().unwrap(),
        1e-8,
        &format!("{what} ci_high"),
    );
}

/// `experiment` with `robust: hc0..hc3 | classical`: the ITT fit, each arm's
/// contrast, the 2x2 interaction and main effects follow the covariance.
#[test]
fn experiment_contrasts_match_statsmodels_for_each_robust_choice() {
    let r = reference();
    let e = &r["experiment"];
    let arm: Vec<Option<String>> = e["data"]["arm"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().map(str::to_string))
        .collect();
    let arm: Vec<Option<&str>> = arm.iter().map(|s| s.as_deref()).collect();
    let mut ses = Vec::new();
    for (outcome, spec) in e["outcomes"].as_object().unwrap() {
        let y = opt_nums(&e["data"][outcome]);
        let kind = match spec["kind"].as_str().unwrap() {
            "binary" => OutcomeKind::Binary,
            _ => OutcomeKind::Continuous,
        };
        for (cov, want) in spec["covs"].as_object().unwrap() {
            let what = format!("{outcome} {cov}");
            let es = ExperimentSpec {
                control: e["control"].as_str().unwrap().to_string(),
                cov: cov_of(cov),
                ..ExperimentSpec::default()
            };
            let res = stats::analyse_experiment(&y, &arm, kind, &es).unwrap();
            let itt = res.itt.as_ref().expect("an ITT fit");
            close_all(&itt.coef, &nums(&want["fit"]["params"]), 1e-9, &what);
            close_all(&itt.se, &nums(&want["fit"]["bse"]), 1e-8, &what);
            for effect in &res.effects {
                let c = effect.itt.as_ref().expect("an ITT contrast");
                check_contrast(
                    c,
                    &want["itt"][&effect.arm],
                    &format!("{what} {}", effect.arm),
                );
            }
            let inter = res
                .interaction
                .as_ref()
                .expect("a factorial")
                .as_ref()
                .unwrap();
            check_contrast(inter, &want["interaction"], &format!("{what} interaction"));
            for m in &res.main_effects {
                check_contrast(
                    m.effect.as_ref().unwrap(),
                    &want["main_effects"][&m.factor],
                    &format!("{what} main effect {}", m.factor),
                );
            }
            ses.push(itt.se[1]);
        }
    }
    // the choice matters: five covariances give five different SEs per outcome
    for chunk in ses.chunks(5) {
        let mut sorted = chunk.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        assert_eq!(sorted.len(), 5, "{chunk:?}");
    }
}
