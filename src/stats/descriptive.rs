//! Means and proportions with confidence intervals, unweighted and weighted.
//!
//! Weighted point estimates are the weighted mean `Σwx / Σw` (statsmodels
//! `DescrStatsW.mean`, R `survey::svymean`). Weighted intervals use Kish's
//! effective sample size `n_eff = (Σw)² / Σw²` in place of n: for a mean this
//! is exactly statsmodels `DescrStatsW(x, weights=w * n_eff / Σw)
//! .tconfint_mean()`; for a proportion, Wilson / Clopper-Pearson on
//! `(p̂·n_eff, n_eff)`. Every estimate carries its unweighted base `n`.

use super::dist::{beta_quantile, norm_isf, t_crit};
use super::{
    KahanSum, NotComputable, Observation, Result, StatsError, check_level, check_same_len,
};

/// A mean with its t-based confidence interval.
#[derive(Debug, Clone, PartialEq)]
pub struct MeanEstimate {
    /// (Weighted) mean.
    pub mean: f64,
    /// (Weighted) standard deviation with the `n - 1` (or `n_eff - 1`)
    /// divisor.
    pub sd: f64,
    /// Standard error of the mean.
    pub se: f64,
    /// Degrees of freedom of the t interval (`n - 1` or `n_eff - 1`).
    pub df: f64,
    /// Lower confidence limit.
    pub ci_low: f64,
    /// Upper confidence limit.
    pub ci_high: f64,
    /// Unweighted base: observations used.
    pub n: usize,
    /// Sum of weights (`n` when unweighted).
    pub sum_w: f64,
    /// Kish effective sample size (`n` when unweighted).
    pub n_eff: f64,
    /// Confidence level.
    pub level: f64,
}

/// Confidence interval method for a proportion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProportionMethod {
    /// Wilson score interval (no continuity correction).
    Wilson,
    /// Clopper-Pearson "exact" interval from beta quantiles.
    ClopperPearson,
}

impl ProportionMethod {
    /// Short label.
    pub fn label(self) -> &'static str {
        match self {
            ProportionMethod::Wilson => "wilson",
            ProportionMethod::ClopperPearson => "clopper-pearson",
        }
    }
}

/// A proportion with its confidence interval.
#[derive(Debug, Clone, PartialEq)]
pub struct ProportionEstimate {
    /// (Weighted) proportion.
    pub p: f64,
    /// Lower confidence limit.
    pub ci_low: f64,
    /// Upper confidence limit.
    pub ci_high: f64,
    /// Successes used by the interval (`p · n_eff` when weighted).
    pub successes: f64,
    /// Unweighted base: observations used.
    pub n: usize,
    /// Effective sample size used by the interval (`n` when unweighted).
    pub n_eff: f64,
    /// Interval method.
    pub method: ProportionMethod,
    /// Confidence level.
    pub level: f64,
}

/// Mean of the non-missing values with a t interval on `n - 1` df
/// (statsmodels `DescrStatsW(x).tconfint_mean()`, R `t.test(x)$conf.int`).
pub fn mean<T: Observation>(x: &[T], level: f64) -> Result<MeanEstimate> {
    check_level(level)?;
    let v: Vec<f64> = x.iter().filter_map(|o| o.value()).collect();
    let n = v.len();
    if n < 2 {
        return Err(NotComputable::TooFewObservations { n, needed: 2 }.into());
    }
    let nf = n as f64;
    let mut s = KahanSum::default();
    v.iter().for_each(|&x| s.add(x));
    let m0 = s.total() / nf;
    // second pass with a correction term for accuracy
    let mut c = KahanSum::default();
    v.iter().for_each(|&x| c.add(x - m0));
    let m = m0 + c.total() / nf;
    let mut ss = KahanSum::default();
    v.iter().for_each(|&x| ss.add((x - m) * (x - m)));
    let var = ss.total() / (nf - 1.0);
    let sd = var.sqrt();
    let se = sd / nf.sqrt();
    let df = nf - 1.0;
    let crit = t_crit(1.0 - level, df);
    Ok(MeanEstimate {
        mean: m,
        sd,
        se,
        df,
        ci_low: m - crit * se,
        ci_high: m + crit * se,
        n,
        sum_w: nf,
        n_eff: nf,
        level,
    })
}

fn weighted_pairs<T: Observation>(x: &[T], w: &[T]) -> Result<Vec<(f64, f64)>> {
    check_same_len(x.len(), w.len(), "values and weights")?;
    let mut out = Vec::with_capacity(x.len());
    for (xi, wi) in x.iter().zip(w) {
        if let (Some(xv), Some(wv)) = (xi.value(), wi.value()) {
            if !(wv >= 0.0) || !wv.is_finite() {
                return Err(StatsError::InvalidInput(format!(
                    "weights must be finite and >= 0, got {wv}"
                )));
            }
            if wv > 0.0 {
                out.push((xv, wv));
            }
        }
    }
    Ok(out)
}

/// Kish effective sample size `(Σw)² / Σw²`.
pub fn kish_n_eff(weights: &[f64]) -> f64 {
    let mut s = KahanSum::default();
    let mut s2 = KahanSum::default();
    for &w in weights {
        s.add(w);
        s2.add(w * w);
    }
    let s = s.total();
    s * s / s2.total()
}

/// Weighted mean with a t interval on Kish's effective n: with
/// `v = Σw(x - m)² / Σw`, `se = sqrt(v / (n_eff - 1))`, df = `n_eff - 1`.
/// Pairs with a missing value or weight, or zero weight, are dropped.
pub fn weighted_mean<T: Observation>(x: &[T], w: &[T], level: f64) -> Result<MeanEstimate> {
    check_level(level)?;
    let pairs = weighted_pairs(x, w)?;
    let n = pairs.len();
    if n < 2 {
        return Err(NotComputable::TooFewObservations { n, needed: 2 }.into());
    }
    let mut sw = KahanSum::default();
    let mut sw2 = KahanSum::default();
    let mut swx = KahanSum::default();
    for &(x, w) in &pairs {
        sw.add(w);
        sw2.add(w * w);
        swx.add(w * x);
    }
    let sum_w = sw.total();
    let m0 = swx.total() / sum_w;
    let mut c = KahanSum::default();
    pairs.iter().for_each(|&(x, w)| c.add(w * (x - m0)));
    let m = m0 + c.total() / sum_w;
    let mut ss = KahanSum::default();
    pairs
        .iter()
        .for_each(|&(x, w)| ss.add(w * (x - m) * (x - m)));
    let v = ss.total() / sum_w;
    let n_eff = sum_w * sum_w / sw2.total();
    if !(n_eff > 1.0) {
        return Err(NotComputable::Degenerate(format!(
            "effective sample size {n_eff} is not above 1"
        ))
        .into());
    }
    let df = n_eff - 1.0;
    let se = (v / df).sqrt();
    let sd = (v * n_eff / df).sqrt();
    let crit = t_crit(1.0 - level, df);
    Ok(MeanEstimate {
        mean: m,
        sd,
        se,
        df,
        ci_low: m - crit * se,
        ci_high: m + crit * se,
        n,
        sum_w,
        n_eff,
        level,
    })
}

/// Interval for `successes` out of `n` (both may be fractional, as with an
/// effective n). Wilson: statsmodels `proportion_confint(method="wilson")`,
/// R `prop.test(correct=FALSE)`; Clopper-Pearson: `method="beta"`, R
/// `binom.test`.
pub fn proportion_from_counts(
    successes: f64,
    n: f64,
    method: ProportionMethod,
    level: f64,
) -> Result<(f64, f64)> {
    check_level(level)?;
    if !(n > 0.0) || !(successes >= 0.0) || successes > n {
        return Err(StatsError::InvalidInput(format!(
            "need 0 <= successes <= n and n > 0, got {successes} of {n}"
        )));
    }
    let alpha = 1.0 - level;
    let p = successes / n;
    Ok(match method {
        ProportionMethod::Wilson => {
            let z = norm_isf(alpha / 2.0);
            let z2 = z * z;
            let denom = 1.0 + z2 / n;
            let center = (p + z2 / (2.0 * n)) / denom;
            let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
            ((center - half).max(0.0), (center + half).min(1.0))
        }
        ProportionMethod::ClopperPearson => {
            let lo = if successes <= 0.0 {
                0.0
            } else {
                beta_quantile(alpha / 2.0, successes, n - successes + 1.0)
            };
            let hi = if successes >= n {
                1.0
            } else {
                1.0 - beta_quantile(alpha / 2.0, n - successes, successes + 1.0)
            };
            (lo, hi)
        }
    })
}

fn binary_value(v: f64) -> Result<f64> {
    if v == 0.0 || v == 1.0 {
        Ok(v)
    } else {
        Err(StatsError::InvalidInput(format!(
            "a proportion needs 0/1 values, found {v}"
        )))
    }
}

/// Proportion of ones among the non-missing 0/1 values.
pub fn proportion<T: Observation>(
    x: &[T],
    method: ProportionMethod,
    level: f64,
) -> Result<ProportionEstimate> {
    let mut n = 0usize;
    let mut k = 0.0;
    for v in x.iter().filter_map(|o| o.value()) {
        k += binary_value(v)?;
        n += 1;
    }
    if n == 0 {
        return Err(NotComputable::TooFewObservations { n, needed: 1 }.into());
    }
    let nf = n as f64;
    let (ci_low, ci_high) = proportion_from_counts(k, nf, method, level)?;
    Ok(ProportionEstimate {
        p: k / nf,
        ci_low,
        ci_high,
        successes: k,
        n,
        n_eff: nf,
        method,
        level,
    })
}

/// Weighted proportion `Σw·x / Σw` of 0/1 values with the interval computed
/// on `(p̂·n_eff, n_eff)`.
pub fn weighted_proportion<T: Observation>(
    x: &[T],
    w: &[T],
    method: ProportionMethod,
    level: f64,
) -> Result<ProportionEstimate> {
    let pairs = weighted_pairs(x, w)?;
    let n = pairs.len();
    if n == 0 {
        return Err(NotComputable::TooFewObservations { n, needed: 1 }.into());
    }
    let mut sw = KahanSum::default();
    let mut sw2 = KahanSum::default();
    let mut swx = KahanSum::default();
    for &(x, w) in &pairs {
        let x = binary_value(x)?;
        sw.add(w);
        sw2.add(w * w);
        swx.add(w * x);
    }
    let sum_w = sw.total();
    let p = swx.total() / sum_w;
    let n_eff = sum_w * sum_w / sw2.total();
    let successes = (p * n_eff).min(n_eff);
    let (ci_low, ci_high) = proportion_from_counts(successes, n_eff, method, level)?;
    Ok(ProportionEstimate {
        p,
        ci_low,
        ci_high,
        successes,
        n,
        n_eff,
        method,
        level,
    })
}

/// How often an item was answered in its first positive category ("often")
/// and in any positive category, among the answers that are scored (a
/// "don't know" or a blank is not).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemShares {
    /// Share answering `first`.
    pub first: f64,
    /// Share answering any positive code.
    pub positive: f64,
    /// Scored answers (the base).
    pub n: usize,
}

/// [`ItemShares`] of survey codes: `scored(code)` says whether a code
/// counts in the base, `first` is the first positive code and `positive`
/// all positive codes. `None` when no answer is scored.
pub fn item_shares<T: Observation>(
    codes: &[T],
    scored: impl Fn(i64) -> bool,
    first: i64,
    positive: &[i64],
) -> Option<ItemShares> {
    let (mut k_first, mut k_pos, mut n) = (0usize, 0usize, 0usize);
    for code in codes.iter().filter_map(|c| c.value()) {
        let c = code as i64;
        if c as f64 != code || !scored(c) {
            continue;
        }
        n += 1;
        k_first += usize::from(c == first);
        k_pos += usize::from(positive.contains(&c));
    }
    (n > 0).then(|| ItemShares {
        first: k_first as f64 / n as f64,
        positive: k_pos as f64 / n as f64,
        n,
    })
}
