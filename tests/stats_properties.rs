//! Property tests of the statistics core's invariants.

use coweave::stats::{self, CorrelationMethod, CovType, OlsOptions, PAdjustMethod};
use proptest::prelude::*;

/// A column with some missing values (NaN) and, sometimes, heavy ties.
fn column(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![
            8 => (-1e3f64..1e3).prop_map(|v| v),
            2 => (1u8..6).prop_map(|v| v as f64),
            1 => Just(f64::NAN),
        ],
        n,
    )
}

fn pair() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (3usize..60).prop_flat_map(|n| (column(n), column(n)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn correlation_is_bounded_and_symmetric((x, y) in pair()) {
        for method in [CorrelationMethod::Pearson, CorrelationMethod::Spearman] {
            let a = stats::correlation(&x, &y, method, 0.95);
            let b = stats::correlation(&y, &x, method, 0.95);
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    prop_assert!((-1.0..=1.0).contains(&a.r), "r = {}", a.r);
                    prop_assert!((a.r - b.r).abs() <= 1e-15, "{} vs {}", a.r, b.r);
                    prop_assert_eq!(a.n, b.n);
                    prop_assert!((0.0..=1.0).contains(&a.p));
                    prop_assert!((a.p - b.p).abs() <= 1e-12);
                    prop_assert!(a.ci_low <= a.r + 1e-12 && a.r <= a.ci_high + 1e-12);
                    prop_assert!(a.ci_low >= -1.0 && a.ci_high <= 1.0);
                }
                (Err(a), Err(b)) => {
                    // same kind of reason either way round
                    prop_assert!(a.not_computable().is_some() && b.not_computable().is_some());
                }
                (a, b) => prop_assert!(false, "asymmetric outcome {:?} / {:?}", a, b),
            }
        }
    }

    #[test]
    fn correlation_matrix_agrees_with_pairs((x, y) in pair()) {
        let m = stats::correlation_matrix(&[&x, &y], &["x", "y"], CorrelationMethod::Pearson, 0.95)
            .unwrap();
        let single = stats::pearson(&x, &y, 0.95);
        match (&m.cells[0][1], single) {
            (Ok(c), Ok(s)) => prop_assert!((c.r - s.r).abs() <= 1e-12 * (1.0 + s.r.abs())),
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
        }
        let mt = stats::correlation_matrix(&[&y, &x], &["y", "x"], CorrelationMethod::Pearson, 0.95)
            .unwrap();
        prop_assert_eq!(m.r()[0][1], m.r()[1][0]);
        if let (Some(a), Some(b)) = (m.r()[0][1], mt.r()[0][1]) {
            prop_assert!((a - b).abs() <= 1e-15);
        }
    }

    #[test]
    fn ols_residuals_are_orthogonal_to_regressors(
        (n, k) in (12usize..80, 1usize..6),
        seed in any::<u64>(),
        weighted in any::<bool>(),
        cov_pick in 0usize..5,
    ) {
        // deterministic pseudo-random design from the seed
        let mut state = seed | 1;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let cols: Vec<Vec<f64>> = (0..k)
            .map(|j| (0..n).map(|_| (next() - 0.5) * 10f64.powi(j as i32 - 1)).collect())
            .collect();
        let y: Vec<f64> = (0..n)
            .map(|i| cols.iter().enumerate().map(|(j, c)| (j as f64 + 1.0) * c[i]).sum::<f64>() + 5.0 * (next() - 0.5))
            .collect();
        let w: Vec<f64> = (0..n).map(|_| 0.2 + 2.0 * next()).collect();
        let refs: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
        let names: Vec<String> = (0..k).map(|j| format!("x{j}")).collect();
        let nref: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let cov = [CovType::Classical, CovType::HC0, CovType::HC1, CovType::HC2, CovType::HC3][cov_pick];
        let fit = stats::ols(&refs, &nref, &y, weighted.then_some(w.as_slice()), &OlsOptions::with_cov(cov));
        let fit = match fit {
            Ok(f) => f,
            Err(e) => {
                // only data-driven reasons (e.g. a leverage-one row) may stop a fit
                prop_assert!(e.not_computable().is_some(), "{}", e);
                return Ok(());
            }
        };
        let wt = |i: usize| if weighted { w[i] } else { 1.0 };
        let resid: Vec<f64> = (0..n)
            .map(|i| y[i] - fit.coef[0] - (0..k).map(|j| fit.coef[j + 1] * cols[j][i]).sum::<f64>())
            .collect();
        let enorm = resid.iter().enumerate().map(|(i, e)| wt(i) * e * e).sum::<f64>().sqrt();
        prop_assert!((enorm * enorm - fit.rss).abs() <= 1e-9 * fit.rss.max(1e-300));
        // intercept column and every regressor: sum_i w_i x_ij e_i = 0
        let mut columns: Vec<Vec<f64>> = vec![vec![1.0; n]];
        columns.extend(cols.iter().cloned());
        for (j, c) in columns.iter().enumerate() {
            let dot: f64 = (0..n).map(|i| wt(i) * c[i] * resid[i]).sum();
            let xnorm = (0..n).map(|i| wt(i) * c[i] * c[i]).sum::<f64>().sqrt();
            prop_assert!(dot.abs() <= 1e-10 * xnorm * enorm + 1e-300, "column {}: {}", j, dot);
        }
        prop_assert!(fit.se.iter().all(|s| *s > 0.0 && s.is_finite()));
        prop_assert!(fit.r2 <= 1.0 + 1e-12);
    }

    #[test]
    fn adjusted_p_values_are_monotone_and_not_below_raw(
        p in prop::collection::vec(prop_oneof![4 => 0.0f64..=1.0, 1 => Just(0.05), 1 => 0.0f64..1e-6], 1..60)
    ) {
        for m in [PAdjustMethod::BenjaminiHochberg, PAdjustMethod::Holm, PAdjustMethod::Bonferroni] {
            let adj = stats::p_adjust(&p, m).unwrap();
            let mut order: Vec<usize> = (0..p.len()).collect();
            order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
            for w in order.windows(2) {
                prop_assert!(adj[w[0]] <= adj[w[1]], "{:?}: not monotone", m);
            }
            for (a, r) in adj.iter().zip(&p) {
                prop_assert!(*a >= *r && *a <= 1.0, "{:?}: {} vs raw {}", m, a, r);
            }
        }
    }
}

#[test]
fn holm_is_never_below_bh() {
    let p = [0.01, 0.02, 0.03, 0.04, 0.2, 0.001];
    let bh = stats::p_adjust(&p, PAdjustMethod::BenjaminiHochberg).unwrap();
    let holm = stats::p_adjust(&p, PAdjustMethod::Holm).unwrap();
    assert!(bh.iter().zip(&holm).all(|(b, h)| b <= h));
}
