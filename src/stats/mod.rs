//! Statistics core: pure functions over columns and frames.
//!
//! Everything here is a pure function (no I/O) and imports nothing else from
//! the crate. Distributions come from `statrs`, polished where needed so that
//! quantiles and tail probabilities agree with scipy / R to ~1e-12.
//!
//! | module | what |
//! | --- | --- |
//! | [`descriptive`] | means (t CI) and proportions (Wilson, Clopper-Pearson), weighted with Kish effective n |
//! | [`correlation`] | Pearson and Spearman with pairwise-complete deletion, matrices |
//! | [`ols`] | OLS / WLS by (streaming, blocked) Householder QR, HC0-HC3, dummies, contrasts |
//! | [`experiment`] | arm vs control differences (Newcombe, Welch, pooled), ITT, 2x2 interaction, power, MDE |
//! | [`multiple`] | Bonferroni, Holm, Benjamini-Hochberg adjusted p-values |
//! | [`crosstab`] | chi-square test of independence, SPSS-style column-proportion letters |
//! | [`statcheck`] | printed significance marks checked against n: the range of n (or arm size) that gives each mark, and a tier |
//! | [`groups`] | differences between groups: chi-square (Cramér's V), Kruskal-Wallis, Spearman for ordered groups |
//! | [`grouped`] | the above "by area and theme" over the long survey frame, as tidy polars frames |
//! | [`dist`] | distribution helpers (t, normal, chi-square, F, beta, noncentral t) |
//!
//! Undefined cases (too few observations, a constant column, an aliased
//! regressor) are reported as [`NotComputable`] values, never as a silent NaN
//! or a panic. See `docs/statistics.md` for the formula behind each function
//! and the reference tool it is tested against.

// `!(x > 0.0)` is used on purpose throughout: it is also true for NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::nonminimal_bool)]

pub mod correlation;
pub mod crosstab;
pub mod descriptive;
pub mod dist;
pub mod experiment;
pub mod grouped;
pub mod groups;
pub mod multiple;
pub mod ols;
mod qr;
mod roots;
pub mod statcheck;

pub use correlation::{
    Correlation, CorrelationMatrix, CorrelationMethod, correlation, correlation_matrix, pearson,
    spearman,
};
pub use crosstab::{
    ChiSquareTest, ColumnProportionTests, Crosstab, chi_square_independence, column_percentages,
    column_proportion_tests, crosstab,
};
pub use descriptive::{
    ItemShares, MeanEstimate, ProportionEstimate, ProportionMethod, item_shares, mean, proportion,
    proportion_from_counts, weighted_mean, weighted_proportion,
};
pub use experiment::{
    DiffMeans, DiffProportions, ExperimentResult, ExperimentSpec, MeanDiffMethod, OutcomeKind,
    analyse_experiment, diff_means, diff_proportions, mde_means, mde_proportions, power_two_means,
    power_two_proportions, required_n_two_means, required_n_two_proportions,
};
pub use grouped::{
    GroupedOptions, Key, correlate_by, experiment_by, group_rows, mean_by, p_adjust_frame,
    proportion_by, sub_items,
};
pub use groups::{
    GroupComparison, GroupLevel, GroupTest, GroupTestKind, KruskalWallis, Scale, compare_groups,
    kruskal_wallis,
};
pub use multiple::{PAdjustMethod, p_adjust};
pub use ols::{Contrast, CovType, OlsFit, OlsOptions, Term, ols, ols_terms};
pub use statcheck::{
    MarkMeaning, NRange, Tier, coefficient_mark, correlation_mark, half_unit, n_for_significance,
    n_range_for_coefficient, n_range_for_r, p_of_r, tier,
};

/// Why a statistic could not be computed for the data at hand.
///
/// These are properties of the data (too few cases, no variation, an aliased
/// regressor), not programming errors: grouped forms turn them into a `note`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotComputable {
    /// Fewer usable observations than the statistic needs.
    #[error("not computable: n = {n}, at least {needed} needed")]
    TooFewObservations {
        /// Usable (complete) observations.
        n: usize,
        /// Minimum required.
        needed: usize,
    },
    /// A variable takes a single value among the usable observations.
    #[error("not computable: {variable} is constant")]
    Constant {
        /// Which variable (a name or a role such as "x").
        variable: String,
    },
    /// The design matrix is rank-deficient; these columns are linear
    /// combinations of the columns before them.
    #[error("not computable: rank-deficient design, aliased column(s): {}", aliased.join(", "))]
    RankDeficient {
        /// Names of the aliased columns, in design order.
        aliased: Vec<String>,
    },
    /// No residual degrees of freedom are left (n equals the number of
    /// parameters), so no standard error exists.
    #[error("not computable: no residual degrees of freedom (n = {n}, parameters = {k})")]
    NoResidualDf {
        /// Observations used.
        n: usize,
        /// Parameters estimated.
        k: usize,
    },
    /// Another degenerate case, described in words.
    #[error("not computable: {0}")]
    Degenerate(String),
}

/// Errors of the statistics core.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// The data do not allow the statistic (see [`NotComputable`]).
    #[error(transparent)]
    NotComputable(#[from] NotComputable),
    /// The caller passed something invalid (lengths differ, a weight is
    /// negative, a level outside (0, 1), a proportion outside {0, 1}...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A frame lacked a column or had the wrong type.
    #[error("frame error: {0}")]
    Frame(String),
}

impl StatsError {
    /// The [`NotComputable`] reason, if this error is one.
    pub fn not_computable(&self) -> Option<&NotComputable> {
        match self {
            StatsError::NotComputable(nc) => Some(nc),
            _ => None,
        }
    }
}

impl From<polars::error::PolarsError> for StatsError {
    fn from(e: polars::error::PolarsError) -> Self {
        StatsError::Frame(e.to_string())
    }
}

/// Result type of the statistics core.
pub type Result<T> = std::result::Result<T, StatsError>;

/// Significance stars as the paper printed them: `**` for p < 0.01, `*` for
/// p < 0.05, empty otherwise (also for a NaN p).
pub fn stars(p: f64) -> &'static str {
    if p < 0.01 {
        "**"
    } else if p < 0.05 {
        "*"
    } else {
        ""
    }
}

/// An observation that may be missing: `f64` (NaN = missing) or
/// `Option<f64>` (`None` or NaN = missing).
pub trait Observation: Copy {
    /// The value, or `None` when missing.
    fn value(self) -> Option<f64>;
}

impl Observation for f64 {
    fn value(self) -> Option<f64> {
        if self.is_nan() { None } else { Some(self) }
    }
}

impl Observation for Option<f64> {
    fn value(self) -> Option<f64> {
        self.filter(|v| !v.is_nan())
    }
}

impl Observation for &f64 {
    fn value(self) -> Option<f64> {
        (*self).value()
    }
}

impl Observation for &Option<f64> {
    fn value(self) -> Option<f64> {
        (*self).value()
    }
}

pub(crate) fn check_level(level: f64) -> Result<()> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidInput(format!(
            "confidence level must be in (0, 1), got {level}"
        )))
    }
}

pub(crate) fn check_same_len(a: usize, b: usize, what: &str) -> Result<()> {
    if a == b {
        Ok(())
    } else {
        Err(StatsError::InvalidInput(format!(
            "{what}: lengths differ ({a} vs {b})"
        )))
    }
}

/// Neumaier (improved Kahan) compensated summation.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KahanSum {
    sum: f64,
    c: f64,
}

impl KahanSum {
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.c += (self.sum - t) + x;
        } else {
            self.c += (x - t) + self.sum;
        }
        self.sum = t;
    }
    pub(crate) fn total(&self) -> f64 {
        self.sum + self.c
    }
}
