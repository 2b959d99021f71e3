//! The nudge trial: arm-versus-control differences, the intention-to-treat
//! regression, the 2x2 interaction contrast, arm sizes, power, required
//! sample sizes and minimum detectable effects.

use std::collections::BTreeMap;

use super::descriptive::{ProportionMethod, proportion_from_counts};
use super::dist::{nct_cdf, nct_sf, norm_cdf, norm_isf, t_crit, t_isf, t_two_sided_p};
use super::ols::{Contrast, CovType, OlsFit, OlsOptions, Term, ols_terms};
use super::roots::{brent, brent_expanding};
use super::{NotComputable, Observation, Result, StatsError, check_level};

/// Difference in proportions `p_treat - p_control`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffProportions {
    /// Treatment-arm proportion.
    pub p_treat: f64,
    /// Control-arm proportion.
    pub p_control: f64,
    /// `p_treat - p_control`.
    pub diff: f64,
    /// Newcombe hybrid score lower limit (method 10).
    pub ci_low: f64,
    /// Newcombe hybrid score upper limit.
    pub ci_high: f64,
    /// Pooled two-proportion z statistic (0 when both proportions are 0 or
    /// both 1, where the test is void).
    pub z: f64,
    /// Two-sided p-value of the z test (1 in the void case).
    pub p: f64,
    /// Treatment base n.
    pub n_treat: f64,
    /// Control base n.
    pub n_control: f64,
    /// Confidence level.
    pub level: f64,
}

/// Difference in proportions with Newcombe's hybrid score interval (Newcombe
/// 1998, method 10; statsmodels `confint_proportions_2indep(method=
/// "newcomb")`) and the pooled z test (statsmodels `proportions_ztest`,
/// R `prop.test(correct=FALSE)`).
pub fn diff_proportions(
    x_treat: f64,
    n_treat: f64,
    x_control: f64,
    n_control: f64,
    level: f64,
) -> Result<DiffProportions> {
    check_level(level)?;
    let (l1, u1) = proportion_from_counts(x_treat, n_treat, ProportionMethod::Wilson, level)?;
    let (l0, u0) = proportion_from_counts(x_control, n_control, ProportionMethod::Wilson, level)?;
    let p1 = x_treat / n_treat;
    let p0 = x_control / n_control;
    let diff = p1 - p0;
    let lo = diff - ((p1 - l1).powi(2) + (u0 - p0).powi(2)).sqrt();
    let hi = diff + ((u1 - p1).powi(2) + (p0 - l0).powi(2)).sqrt();
    let pooled = (x_treat + x_control) / (n_treat + n_control);
    let var = pooled * (1.0 - pooled) * (1.0 / n_treat + 1.0 / n_control);
    let (z, p) = if var > 0.0 {
        let z = diff / var.sqrt();
        (z, (2.0 * super::dist::norm_sf(z.abs())).min(1.0))
    } else {
        (0.0, 1.0)
    };
    Ok(DiffProportions {
        p_treat: p1,
        p_control: p0,
        diff,
        ci_low: lo,
        ci_high: hi,
        z,
        p,
        n_treat,
        n_control,
        level,
    })
}

/// Variance assumption for a difference in means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MeanDiffMethod {
    /// Unequal variances, Welch-Satterthwaite df.
    Welch,
    /// Pooled variance, `n1 + n2 - 2` df (Student).
    Pooled,
}

/// Difference in means `mean_treat - mean_control`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffMeans {
    /// Treatment mean.
    pub mean_treat: f64,
    /// Control mean.
    pub mean_control: f64,
    /// Difference.
    pub diff: f64,
    /// Standard error of the difference.
    pub se: f64,
    /// Degrees of freedom.
    pub df: f64,
    /// t statistic.
    pub t: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Lower confidence limit.
    pub ci_low: f64,
    /// Upper confidence limit.
    pub ci_high: f64,
    /// Treatment n.
    pub n_treat: usize,
    /// Control n.
    pub n_control: usize,
    /// Pooled standard deviation `sqrt(((n1-1)s1² + (n0-1)s0²)/(n1+n0-2))`.
    pub sd_pooled: f64,
    /// Welch or pooled.
    pub method: MeanDiffMethod,
    /// Confidence level.
    pub level: f64,
}

fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m0 = v.iter().sum::<f64>() / n;
    let c = v.iter().map(|x| x - m0).sum::<f64>() / n;
    let m = m0 + c;
    let ss: f64 = v.iter().map(|x| (x - m) * (x - m)).sum();
    (m, ss / (n - 1.0))
}

/// Difference in means with a Welch or pooled t interval (scipy
/// `ttest_ind(equal_var=...)`, statsmodels `CompareMeans.tconfint_diff`).
pub fn diff_means<T: Observation>(
    treat: &[T],
    control: &[T],
    method: MeanDiffMethod,
    level: f64,
) -> Result<DiffMeans> {
    check_level(level)?;
    let a: Vec<f64> = treat.iter().filter_map(|o| o.value()).collect();
    let b: Vec<f64> = control.iter().filter_map(|o| o.value()).collect();
    for v in [&a, &b] {
        if v.len() < 2 {
            return Err(NotComputable::TooFewObservations {
                n: v.len(),
                needed: 2,
            }
            .into());
        }
    }
    let (n1, n0) = (a.len() as f64, b.len() as f64);
    let (m1, v1) = mean_var(&a);
    let (m0, v0) = mean_var(&b);
    let sp2 = ((n1 - 1.0) * v1 + (n0 - 1.0) * v0) / (n1 + n0 - 2.0);
    let (se, df) = match method {
        MeanDiffMethod::Welch => {
            let (q1, q0) = (v1 / n1, v0 / n0);
            let se2 = q1 + q0;
            let df = se2 * se2 / (q1 * q1 / (n1 - 1.0) + q0 * q0 / (n0 - 1.0));
            (se2.sqrt(), df)
        }
        MeanDiffMethod::Pooled => ((sp2 * (1.0 / n1 + 1.0 / n0)).sqrt(), n1 + n0 - 2.0),
    };
    if !(se > 0.0) {
        return Err(NotComputable::Constant {
            variable: "outcome (both arms)".into(),
        }
        .into());
    }
    let diff = m1 - m0;
    let t = diff / se;
    let crit = t_crit(1.0 - level, df);
    Ok(DiffMeans {
        mean_treat: m1,
        mean_control: m0,
        diff,
        se,
        df,
        t,
        p: t_two_sided_p(t, df),
        ci_low: diff - crit * se,
        ci_high: diff + crit * se,
        n_treat: a.len(),
        n_control: b.len(),
        sd_pooled: sp2.sqrt(),
        method,
        level,
    })
}

fn check_prob(name: &str, v: f64, open: bool) -> Result<()> {
    let ok = if open {
        v > 0.0 && v < 1.0
    } else {
        (0.0..=1.0).contains(&v)
    };
    if ok {
        Ok(())
    } else {
        Err(StatsError::InvalidInput(format!(
            "{name} out of range: {v}"
        )))
    }
}

/// Power of the two-sided pooled z test of `p1 = p2` with arm sizes `n1`,
/// `n2`: `Φ((|Δ| - z σ₀)/σ₁) + Φ((-|Δ| - z σ₀)/σ₁)` with
/// `σ₀² = p̄(1-p̄)(1/n1 + 1/n2)`, `p̄ = (n1 p1 + n2 p2)/(n1 + n2)`,
/// `σ₁² = p1(1-p1)/n1 + p2(1-p2)/n2`, `z = Φ⁻¹(1 - α/2)` (R
/// `power.prop.test(strict = TRUE)` for equal n).
pub fn power_two_proportions(p1: f64, p2: f64, n1: f64, n2: f64, alpha: f64) -> Result<f64> {
    check_prob("p1", p1, false)?;
    check_prob("p2", p2, false)?;
    check_prob("alpha", alpha, true)?;
    if !(n1 > 0.0 && n2 > 0.0) {
        return Err(StatsError::InvalidInput(
            "arm sizes must be positive".into(),
        ));
    }
    let d = (p1 - p2).abs();
    let pbar = (n1 * p1 + n2 * p2) / (n1 + n2);
    let s0 = (pbar * (1.0 - pbar) * (1.0 / n1 + 1.0 / n2)).sqrt();
    let s1 = (p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2).sqrt();
    if !(s1 > 0.0) {
        return Err(NotComputable::Degenerate(
            "both proportions are 0 or 1: no sampling variance".into(),
        )
        .into());
    }
    let z = norm_isf(alpha / 2.0);
    Ok(norm_cdf((d - z * s0) / s1) + norm_cdf((-d - z * s0) / s1))
}

/// Treatment-arm size `n1` (continuous; round up) giving `power` to detect
/// `p1` vs `p2` with `n2 = ratio · n1`.
pub fn required_n_two_proportions(
    p1: f64,
    p2: f64,
    alpha: f64,
    power: f64,
    ratio: f64,
) -> Result<f64> {
    check_prob("power", power, true)?;
    if !(ratio > 0.0) {
        return Err(StatsError::InvalidInput("ratio must be positive".into()));
    }
    if p1 == p2 {
        return Err(NotComputable::Degenerate("no effect to detect (p1 = p2)".into()).into());
    }
    power_two_proportions(p1, p2, 10.0, 10.0 * ratio, alpha)?;
    brent_expanding(
        |n| power_two_proportions(p1, p2, n, ratio * n, alpha).unwrap_or(f64::NAN) - power,
        1e-6,
        100.0,
    )
    .ok_or_else(|| NotComputable::Degenerate("required n not found".into()).into())
}

/// Minimum detectable increase over a control proportion `p0`: the `Δ > 0`
/// with `power_two_proportions(p0 + Δ, p0, n1, n0, alpha) = power`.
pub fn mde_proportions(p0: f64, n1: f64, n0: f64, alpha: f64, power: f64) -> Result<f64> {
    check_prob("p0", p0, false)?;
    check_prob("power", power, true)?;
    let f = |d: f64| power_two_proportions(p0 + d, p0, n1, n0, alpha).unwrap_or(f64::NAN) - power;
    let top = 1.0 - p0;
    if !(top > 0.0) || f(top) < 0.0 {
        return Err(NotComputable::Degenerate(format!(
            "no increase over p0 = {p0} reaches power {power} with n = {n1}, {n0}"
        ))
        .into());
    }
    brent(f, 1e-12, top).ok_or_else(|| NotComputable::Degenerate("MDE not found".into()).into())
}

/// Power of the two-sided two-sample t test (pooled variance) for a
/// standardized effect `d` (Cohen's d) with arm sizes `n1`, `n2`, from the
/// noncentral t with `n1 + n2 - 2` df and noncentrality
/// `d sqrt(n1 n2 / (n1 + n2))`, both rejection regions (statsmodels
/// `TTestIndPower().power`).
pub fn power_two_means(d: f64, n1: f64, n2: f64, alpha: f64) -> Result<f64> {
    check_prob("alpha", alpha, true)?;
    let df = n1 + n2 - 2.0;
    if !(df > 0.0) || !(n1 > 0.0 && n2 > 0.0) {
        return Err(StatsError::InvalidInput(format!(
            "need n1 + n2 > 2, got {n1} + {n2}"
        )));
    }
    let nc = d * (n1 * n2 / (n1 + n2)).sqrt();
    Ok(t_test_power(nc, df, t_isf(alpha / 2.0, df)))
}

/// Power of a two-sided t test with critical value `crit` (`t_isf(alpha /
/// 2, df)`) when the test statistic has noncentrality `nc`.
fn t_test_power(nc: f64, df: f64, crit: f64) -> f64 {
    nct_sf(crit, df, nc) + nct_cdf(-crit, df, nc)
}

/// Treatment-arm size `n1` (continuous; round up) giving `power` for
/// effect `d` with `n2 = ratio · n1` (statsmodels
/// `TTestIndPower().solve_power(nobs1=None)`).
pub fn required_n_two_means(d: f64, alpha: f64, power: f64, ratio: f64) -> Result<f64> {
    check_prob("power", power, true)?;
    if !(ratio > 0.0) || d == 0.0 || !d.is_finite() {
        return Err(StatsError::InvalidInput(
            "need ratio > 0 and a finite non-zero effect".into(),
        ));
    }
    // at least one degree of freedom: n1 (1 + ratio) - 2 >= 1
    let lo = 3.0 / (1.0 + ratio);
    brent_expanding(
        |n| power_two_means(d, n, ratio * n, alpha).unwrap_or(f64::NAN) - power,
        lo,
        10.0,
    )
    .ok_or_else(|| NotComputable::Degenerate("required n not found".into()).into())
}

/// Minimum detectable standardized effect (Cohen's d) for arm sizes `n1`,
/// `n2`: the `d > 0` with `power_two_means(d, n1, n2, alpha) = power`.
/// Multiply by the outcome SD for raw units.
pub fn mde_means(n1: f64, n2: f64, alpha: f64, power: f64) -> Result<f64> {
    check_prob("power", power, true)?;
    power_two_means(0.0, n1, n2, alpha)?;
    brent_expanding(
        |d| power_two_means(d, n1, n2, alpha).unwrap_or(f64::NAN) - power,
        1e-12,
        1.0,
    )
    .ok_or_else(|| NotComputable::Degenerate("MDE not found".into()).into())
}

/// Kind of outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutcomeKind {
    /// 0/1: differences in proportions (Newcombe).
    Binary,
    /// Numeric: differences in means.
    Continuous,
    /// Binary when every non-missing value is 0 or 1, else continuous.
    Auto,
}

/// How to analyse a trial.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentSpec {
    /// Control arm label ("none": no nudge).
    pub control: String,
    /// Labels `(A, B, AB)` of a 2x2 factorial; the interaction contrast is
    /// `AB - A - B + control`. `None` for a plain multi-arm trial.
    pub factorial: Option<(String, String, String)>,
    /// Covariance of the ITT regression (HC2 by default).
    pub cov: CovType,
    /// Mean-difference variance assumption (Welch by default).
    pub mean_method: MeanDiffMethod,
    /// Confidence level (0.95).
    pub level: f64,
    /// Two-sided significance level for power and MDE (0.05).
    pub alpha: f64,
    /// Target power for the MDE (0.8).
    pub power: f64,
}

impl Default for ExperimentSpec {
    fn default() -> Self {
        ExperimentSpec {
            control: "none".into(),
            factorial: Some(("A".into(), "B".into(), "AB".into())),
            cov: CovType::HC2,
            mean_method: MeanDiffMethod::Welch,
            level: 0.95,
            alpha: 0.05,
            power: 0.8,
        }
    }
}

/// A difference of an arm against control.
#[derive(Debug, Clone, PartialEq)]
pub enum ArmDifference {
    /// Binary outcome.
    Proportions(DiffProportions),
    /// Continuous outcome.
    Means(DiffMeans),
}

impl ArmDifference {
    /// `(estimate, ci_low, ci_high, p)`.
    pub fn summary(&self) -> (f64, f64, f64, f64) {
        match self {
            ArmDifference::Proportions(d) => (d.diff, d.ci_low, d.ci_high, d.p),
            ArmDifference::Means(d) => (d.diff, d.ci_low, d.ci_high, d.p),
        }
    }
}

/// One treatment arm against control.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmEffect {
    /// Arm label.
    pub arm: String,
    /// Arm size (non-missing outcome).
    pub n: usize,
    /// Control size.
    pub n_control: usize,
    /// Difference against control, or why not.
    pub difference: std::result::Result<ArmDifference, NotComputable>,
    /// ITT regression coefficient of this arm's dummy, or why not.
    pub itt: std::result::Result<Contrast, NotComputable>,
    /// Minimum detectable effect at the spec's power and alpha for the
    /// achieved sizes: in proportion points (binary) or outcome units
    /// (continuous, Cohen's d times the pooled SD).
    pub mde: std::result::Result<f64, NotComputable>,
}

/// Full analysis of a trial.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentResult {
    /// Binary or continuous (resolved from `Auto`).
    pub kind: OutcomeKind,
    /// Control label.
    pub control: String,
    /// `(arm, n, mean)` for every arm present, sorted by label.
    pub arms: Vec<(String, usize, f64)>,
    /// Each treatment arm against control.
    pub effects: Vec<ArmEffect>,
    /// ITT regression `y ~ C(arm, Treatment(control))`.
    pub itt: std::result::Result<OlsFit, NotComputable>,
    /// The 2x2 interaction contrast `AB - A - B + control`, when the spec is
    /// factorial and all four arms are present.
    pub interaction: Option<std::result::Result<Contrast, NotComputable>>,
    /// The average main effects of the two factors of a 2x2 (empty unless
    /// the spec is factorial and all four arms are present).
    pub main_effects: Vec<MainEffect>,
}

/// The average main effect of one factor of a 2x2 factorial: its effect
/// averaged over the levels of the other, `(A - control + AB - B) / 2` for
/// A, from the ITT regression (so with the same robust covariance).
#[derive(Debug, Clone, PartialEq)]
pub struct MainEffect {
    /// The factor's label (`A` or `B`).
    pub factor: String,
    /// The contrast.
    pub effect: std::result::Result<Contrast, NotComputable>,
    /// The smallest effect of this contrast detected with the spec's power
    /// at its significance level (noncentral t with the contrast's standard
    /// error and residual df).
    pub mde: std::result::Result<f64, NotComputable>,
}

/// The smallest effect a t test of an estimate with standard error `se` and
/// `df` degrees of freedom detects with `power` at two-sided level `alpha`.
pub fn mde_contrast(se: f64, df: f64, alpha: f64, power: f64) -> Result<f64> {
    check_prob("alpha", alpha, true)?;
    check_prob("power", power, true)?;
    if !(se > 0.0 && df > 0.0) {
        return Err(StatsError::InvalidInput(format!(
            "need se > 0 and df > 0, got {se} and {df}"
        )));
    }
    let crit = t_isf(alpha / 2.0, df);
    brent_expanding(|d| t_test_power(d / se, df, crit) - power, 1e-12, se)
        .ok_or_else(|| NotComputable::Degenerate("MDE not found".into()).into())
}

fn nc(e: StatsError) -> NotComputable {
    match e {
        StatsError::NotComputable(n) => n,
        other => NotComputable::Degenerate(other.to_string()),
    }
}

/// The average main effects of a 2x2 factorial from the ITT regression
/// (empty unless the spec is factorial and all four arms and the control
/// are present).
fn main_effects(
    spec: &ExperimentSpec,
    by_arm: &BTreeMap<&str, Vec<f64>>,
    itt: &std::result::Result<OlsFit, NotComputable>,
) -> Vec<MainEffect> {
    let (Some((fa, fb, fab)), Ok(fit)) = (&spec.factorial, itt) else {
        return Vec::new();
    };
    let present = |l: &str| by_arm.contains_key(l);
    if !(present(fa) && present(fb) && present(fab) && present(&spec.control)) {
        return Vec::new();
    }
    let coef = |l: &str| format!("arm[T.{l}]");
    [(fa, fb), (fb, fa)]
        .into_iter()
        .map(|(this, other)| {
            let effect = fit
                .contrast_named(&[
                    (coef(this).as_str(), 0.5),
                    (coef(fab).as_str(), 0.5),
                    (coef(other).as_str(), -0.5),
                ])
                .map_err(nc);
            let mde = match &effect {
                Ok(c) => mde_contrast(c.se, c.df, spec.alpha, spec.power).map_err(nc),
                Err(e) => Err(e.clone()),
            };
            MainEffect {
                factor: this.clone(),
                effect,
                mde,
            }
        })
        .collect()
}

/// Analyse a trial: arm sizes, each arm against control (difference with
/// CI, ITT coefficient with the spec's robust SE, MDE), and the 2x2
/// interaction contrast from the ITT regression. Rows with a missing
/// outcome or arm are dropped.
pub fn analyse_experiment(
    y: &[Option<f64>],
    arm: &[Option<&str>],
    kind: OutcomeKind,
    spec: &ExperimentSpec,
) -> Result<ExperimentResult> {
    check_level(spec.level)?;
    super::check_same_len(y.len(), arm.len(), "outcome and arm")?;
    let mut by_arm: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (v, a) in y.iter().zip(arm) {
        if let (Some(v), Some(a)) = (v.value(), a) {
            by_arm.entry(*a).or_default().push(v);
        }
    }
    let binary = by_arm.values().flatten().all(|&v| v == 0.0 || v == 1.0);
    let kind = match kind {
        OutcomeKind::Auto => {
            if binary {
                OutcomeKind::Binary
            } else {
                OutcomeKind::Continuous
            }
        }
        OutcomeKind::Binary if !binary => {
            return Err(StatsError::InvalidInput(
                "binary outcome has values other than 0/1".into(),
            ));
        }
        k => k,
    };
    let arms: Vec<(String, usize, f64)> = by_arm
        .iter()
        .map(|(a, v)| {
            (
                a.to_string(),
                v.len(),
                v.iter().sum::<f64>() / v.len() as f64,
            )
        })
        .collect();
    let control = by_arm.get(spec.control.as_str());
    let yk: Vec<Option<f64>> = y.to_vec();
    let itt = if control.is_some() {
        ols_terms(
            &yk,
            &[Term::Categorical {
                name: "arm",
                values: arm,
                reference: Some(spec.control.as_str()),
            }],
            None,
            &OlsOptions {
                cov: spec.cov,
                level: spec.level,
                ..Default::default()
            },
        )
        .map_err(nc)
    } else {
        Err(NotComputable::Degenerate(format!(
            "control arm {:?} has no observations",
            spec.control
        )))
    };
    let mut effects = Vec::new();
    for (a, v) in by_arm.iter().filter(|(a, _)| **a != spec.control) {
        let n = v.len();
        let n_control = control.map_or(0, |c| c.len());
        let (difference, mde) = match control {
            None => {
                let why = NotComputable::Degenerate(format!(
                    "control arm {:?} has no observations",
                    spec.control
                ));
                (Err(why.clone()), Err(why))
            }
            Some(c) => match kind {
                OutcomeKind::Binary => {
                    let x1: f64 = v.iter().sum();
                    let x0: f64 = c.iter().sum();
                    let d = diff_proportions(x1, n as f64, x0, c.len() as f64, spec.level)
                        .map(ArmDifference::Proportions)
                        .map_err(nc);
                    let m = mde_proportions(
                        x0 / c.len() as f64,
                        n as f64,
                        c.len() as f64,
                        spec.alpha,
                        spec.power,
                    )
                    .map_err(nc);
                    (d, m)
                }
                _ => {
                    let d = diff_means(v, c, spec.mean_method, spec.level);
                    let m = match &d {
                        Ok(dm) => mde_means(n as f64, c.len() as f64, spec.alpha, spec.power)
                            .map(|e| e * dm.sd_pooled)
                            .map_err(nc),
                        Err(e) => Err(nc(e.clone())),
                    };
                    (d.map(ArmDifference::Means).map_err(nc), m)
                }
            },
        };
        let coef = format!("arm[T.{a}]");
        let itt_c = match &itt {
            Ok(fit) => fit.contrast_named(&[(coef.as_str(), 1.0)]).map_err(nc),
            Err(e) => Err(e.clone()),
        };
        effects.push(ArmEffect {
            arm: a.to_string(),
            n,
            n_control,
            difference,
            itt: itt_c,
            mde,
        });
    }
    let interaction = spec.factorial.as_ref().and_then(|(fa, fb, fab)| {
        let present = |l: &str| by_arm.contains_key(l);
        if !(present(fa) && present(fb) && present(fab) && control.is_some()) {
            return None;
        }
        Some(match &itt {
            Ok(fit) => fit
                .contrast_named(&[
                    (format!("arm[T.{fab}]").as_str(), 1.0),
                    (format!("arm[T.{fa}]").as_str(), -1.0),
                    (format!("arm[T.{fb}]").as_str(), -1.0),
                ])
                .map_err(nc),
            Err(e) => Err(e.clone()),
        })
    });
    let main_effects = main_effects(spec, &by_arm, &itt);
    Ok(ExperimentResult {
        kind,
        control: spec.control.clone(),
        arms,
        effects,
        itt,
        interaction,
        main_effects,
    })
}
