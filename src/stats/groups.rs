//! Differences between groups of respondents (men and women, age bands,
//! ethnic groups) in an outcome, tested as the groups' scale allows.
//!
//! A group code is a category, not a quantity: a nominal grouping (gender,
//! ethnic group) is compared by each group's share or mean with a
//! chi-square test (Cramér's V) for a yes/no outcome or a Kruskal-Wallis
//! test (epsilon squared) for a scored one; an ordered grouping (age bands)
//! by Spearman's rank correlation of the band with the outcome, whose sign
//! says whether the outcome rises or falls across the bands.

use super::correlation::{CorrelationMethod, average_ranks, correlation};
use super::crosstab::chi_square_independence;
use super::dist::chi2_sf;
use super::{NotComputable, Result, StatsError};

/// How the groups are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Unordered categories (gender, ethnic group).
    Nominal,
    /// Ordered categories (age bands), coded in their order.
    Ordinal,
}

/// The Kruskal-Wallis H test (scipy `stats.kruskal`).
#[derive(Debug, Clone, PartialEq)]
pub struct KruskalWallis {
    /// H, corrected for ties.
    pub statistic: f64,
    /// Degrees of freedom, groups − 1.
    pub df: f64,
    /// Upper-tail chi-square p-value.
    pub p: f64,
    /// Epsilon squared, `H / (N − 1)`: the share of rank variance between
    /// groups (Tomczak and Tomczak 2014), 0 to 1.
    pub epsilon_squared: f64,
    /// Observations.
    pub n: usize,
}

/// Kruskal-Wallis test of `groups` (each a list of observations; empty
/// groups are ignored). Needs two non-empty groups and some variation.
pub fn kruskal_wallis(groups: &[Vec<f64>]) -> Result<KruskalWallis> {
    let groups: Vec<&Vec<f64>> = groups.iter().filter(|g| !g.is_empty()).collect();
    if groups.iter().flat_map(|g| g.iter()).any(|v| !v.is_finite()) {
        return Err(StatsError::InvalidInput(
            "Kruskal-Wallis needs finite values".into(),
        ));
    }
    let pooled: Vec<f64> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    let n = pooled.len();
    if groups.len() < 2 {
        return Err(NotComputable::Degenerate(format!(
            "{} group(s) with data; a comparison needs two",
            groups.len()
        ))
        .into());
    }
    let ranks = average_ranks(&pooled);
    let nf = n as f64;
    let mut start = 0;
    let mut between = 0.0;
    for g in &groups {
        let sum: f64 = ranks[start..start + g.len()].iter().sum();
        between += sum * sum / g.len() as f64;
        start += g.len();
    }
    let h = 12.0 / (nf * (nf + 1.0)) * between - 3.0 * (nf + 1.0);
    // tie correction: 1 − Σ(t³ − t) / (N³ − N)
    let mut sorted = pooled.clone();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i + 1;
        while j < sorted.len() && sorted[j] == sorted[i] {
            j += 1;
        }
        let t = (j - i) as f64;
        ties += t * t * t - t;
        i = j;
    }
    let correction = 1.0 - ties / (nf * nf * nf - nf);
    if !(correction > 0.0) {
        return Err(NotComputable::Constant {
            variable: "the outcome".into(),
        }
        .into());
    }
    let statistic = h / correction;
    let df = (groups.len() - 1) as f64;
    Ok(KruskalWallis {
        statistic,
        df,
        p: chi2_sf(statistic, df),
        epsilon_squared: statistic / (nf - 1.0),
        n,
    })
}

/// One group's level of the outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupLevel {
    /// The group's code.
    pub code: f64,
    /// Its share (a yes/no outcome) or mean.
    pub estimate: f64,
    /// Respondents in the group with an answer.
    pub n: usize,
}

/// Which test compared the groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupTestKind {
    /// Pearson chi-square of group by outcome; effect Cramér's V.
    ChiSquare,
    /// Kruskal-Wallis H; effect epsilon squared.
    KruskalWallis,
    /// Spearman's rank correlation of the ordered group with the outcome;
    /// effect rho (its sign is the direction).
    Spearman,
}

impl GroupTestKind {
    /// The test's name, as printed.
    pub fn label(self) -> &'static str {
        match self {
            GroupTestKind::ChiSquare => "chi-square",
            GroupTestKind::KruskalWallis => "Kruskal-Wallis",
            GroupTestKind::Spearman => "Spearman",
        }
    }

    /// The name of its effect size.
    pub fn effect_label(self) -> &'static str {
        match self {
            GroupTestKind::ChiSquare => "Cramér's V",
            GroupTestKind::KruskalWallis => "epsilon squared",
            GroupTestKind::Spearman => "rho",
        }
    }
}

/// The test of a group comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupTest {
    /// Which test.
    pub kind: GroupTestKind,
    /// Its statistic (X², H, or rho).
    pub statistic: f64,
    /// Its p-value.
    pub p: f64,
    /// Its effect size (V, epsilon squared, or rho).
    pub effect: f64,
}

/// Groups compared on an outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupComparison {
    /// Each group with data, in code order.
    pub levels: Vec<GroupLevel>,
    /// The test, or why it could not be computed.
    pub test: std::result::Result<GroupTest, String>,
    /// Respondents with a group and an answer.
    pub n: usize,
}

/// Compares the groups given by `codes` on `y` (pairs with both present).
/// `binary` says that `y` is 0/1 (shares and a chi-square test for nominal
/// groups); otherwise means and a Kruskal-Wallis test. Ordinal groups are
/// tested by Spearman's rho either way.
pub fn compare_groups(
    codes: &[Option<f64>],
    y: &[Option<f64>],
    scale: Scale,
    binary: bool,
) -> Result<GroupComparison> {
    if codes.len() != y.len() {
        return Err(StatsError::InvalidInput(format!(
            "groups and outcome differ in length ({} and {})",
            codes.len(),
            y.len()
        )));
    }
    let pairs: Vec<(f64, f64)> = codes
        .iter()
        .zip(y)
        .filter_map(|(c, v)| Some(((*c)?, (*v)?)))
        .filter(|(c, v)| c.is_finite() && v.is_finite())
        .collect();
    let mut group_codes: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    group_codes.sort_by(f64::total_cmp);
    group_codes.dedup();
    let members: Vec<Vec<f64>> = group_codes
        .iter()
        .map(|g| pairs.iter().filter(|p| p.0 == *g).map(|p| p.1).collect())
        .collect();
    let levels: Vec<GroupLevel> = group_codes
        .iter()
        .zip(&members)
        .map(|(code, m)| GroupLevel {
            code: *code,
            estimate: m.iter().sum::<f64>() / m.len() as f64,
            n: m.len(),
        })
        .collect();
    let test = match (scale, binary) {
        (Scale::Ordinal, _) => {
            let (x, v): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
            correlation(&x, &v, CorrelationMethod::Spearman, 0.95).map(|c| GroupTest {
                kind: GroupTestKind::Spearman,
                statistic: c.r,
                p: c.p,
                effect: c.r,
            })
        }
        (Scale::Nominal, true) => {
            if pairs.iter().any(|p| p.1 != 0.0 && p.1 != 1.0) {
                return Err(StatsError::InvalidInput(
                    "a yes/no outcome must be 0 or 1".into(),
                ));
            }
            let table: Vec<Vec<f64>> = members
                .iter()
                .map(|m| {
                    let yes = m.iter().filter(|v| **v == 1.0).count() as f64;
                    vec![m.len() as f64 - yes, yes]
                })
                .collect();
            chi_square_independence(&table, false).map(|t| GroupTest {
                kind: GroupTestKind::ChiSquare,
                statistic: t.statistic,
                p: t.p,
                effect: t.cramers_v(),
            })
        }
        (Scale::Nominal, false) => kruskal_wallis(&members).map(|k| GroupTest {
            kind: GroupTestKind::KruskalWallis,
            statistic: k.statistic,
            p: k.p,
            effect: k.epsilon_squared,
        }),
    }
    .map_err(|e| e.to_string());
    Ok(GroupComparison {
        levels,
        test,
        n: pairs.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_group_is_not_a_comparison() {
        let e = kruskal_wallis(&[vec![1.0, 2.0], vec![]]).unwrap_err();
        assert!(e.to_string().contains("needs two"), "{e}");
    }

    #[test]
    fn all_tied_is_not_computable() {
        let e = kruskal_wallis(&[vec![1.0, 1.0], vec![1.0]]).unwrap_err();
        assert!(e.to_string().contains("constant"), "{e}");
    }

    #[test]
    fn a_non_binary_outcome_cannot_be_tabulated() {
        let codes = [Some(1.0), Some(2.0)];
        let y = [Some(0.5), Some(1.0)];
        assert!(compare_groups(&codes, &y, Scale::Nominal, true).is_err());
    }

    #[test]
    fn levels_are_the_groups_shares_in_code_order() {
        let codes = [Some(2.0), Some(1.0), Some(2.0), None, Some(1.0), Some(2.0)];
        let y = [Some(1.0), Some(0.0), Some(0.0), Some(1.0), Some(1.0), None];
        let c = compare_groups(&codes, &y, Scale::Nominal, true).unwrap();
        assert_eq!(c.n, 4);
        let got: Vec<(f64, f64, usize)> =
            c.levels.iter().map(|l| (l.code, l.estimate, l.n)).collect();
        assert_eq!(got, vec![(1.0, 0.5, 2), (2.0, 0.5, 2)]);
    }
}
