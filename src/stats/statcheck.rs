//! Checking printed significance marks against the sample size, in the
//! spirit of statcheck (Nuijten et al. 2016): for a printed Pearson r and
//! its stars, the p the r has at the reported n, the smallest n at which the
//! r reaches each level, and whether the printed mark is one the data allow.

use super::dist::t_two_sided_p;

/// Two-sided p of a Pearson r observed on `n` cases (t test with n - 2
/// degrees of freedom). |r| = 1 gives 0; fewer than 4 cases give 1.
pub fn p_of_r(r: f64, n: f64) -> f64 {
    if r.abs() >= 1.0 {
        return 0.0;
    }
    if n < 4.0 {
        return 1.0;
    }
    let t = r * ((n - 2.0) / (1.0 - r * r)).sqrt();
    t_two_sided_p(t, n - 2.0)
}

/// The largest sample size [`n_for_significance`] searches.
pub const MAX_N: f64 = 1e7;

/// The smallest whole n (at least 4) at which |r| is significant at
/// `alpha` (p strictly below it); `None` when no n up to [`MAX_N`] is.
/// p falls as n grows, so this is a bisection on whole numbers.
pub fn n_for_significance(r: f64, alpha: f64) -> Option<f64> {
    let (mut lo, mut hi) = (4.0f64, MAX_N);
    if p_of_r(r, hi) >= alpha {
        return None;
    }
    if p_of_r(r, lo) < alpha {
        return Some(lo);
    }
    while hi - lo > 1.0 {
        let mid = ((lo + hi) / 2.0).floor();
        if p_of_r(r, mid) < alpha {
            hi = mid
        } else {
            lo = mid
        }
    }
    Some(hi)
}

/// The number of stars [`super::stars`] prints for `p`: 2 below 0.01, 1
/// below 0.05, else 0.
pub fn star_count(p: f64) -> u8 {
    super::stars(p).len() as u8
}

/// What a printed mark says about the data.
#[derive(Debug, Clone, PartialEq)]
pub enum MarkVerdict {
    /// The printed stars are those the r has at the reported n.
    Consistent,
    /// A level (three stars) the table notes do not define.
    UndefinedLevel,
    /// The mark needs at least `need` cases, more than the area had.
    NeedsLargerN {
        /// The smallest n giving the printed mark.
        need: f64,
    },
    /// No sample size gives |r| the printed mark.
    NeverSignificant,
    /// Any other mismatch: at the reported n the mark should be `expected`.
    ShouldBe {
        /// Stars expected at the reported n.
        expected: u8,
    },
    /// Printed without a mark, but significant at the reported n; it is
    /// significant from `from` cases (None: never).
    UnmarkedButSignificant {
        /// The smallest n at which it reaches 5 %.
        from: Option<f64>,
    },
}

/// A printed r and mark checked against the sample size.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkCheck {
    /// Two-sided p of r at the reported n.
    pub p: f64,
    /// Stars that p earns.
    pub expected: u8,
    /// Smallest n significant at 5 % (None: none up to [`MAX_N`]).
    pub n_for_5pct: Option<f64>,
    /// Smallest n significant at 1 %.
    pub n_for_1pct: Option<f64>,
    /// The verdict.
    pub verdict: MarkVerdict,
}

impl MarkCheck {
    /// Whether the printed mark is consistent with the data.
    pub fn consistent(&self) -> bool {
        self.verdict == MarkVerdict::Consistent
    }
}

/// Check a printed r with `printed` stars against a sample of `n`.
pub fn check_mark(r: f64, n: f64, printed: i64) -> MarkCheck {
    let p = p_of_r(r, n);
    let expected = star_count(p);
    let (n5, n1) = (n_for_significance(r, 0.05), n_for_significance(r, 0.01));
    let verdict = match printed {
        3 => MarkVerdict::UndefinedLevel,
        s if s == i64::from(expected) => MarkVerdict::Consistent,
        1 | 2 => match if printed == 2 { n1 } else { n5 } {
            Some(need) if need > n => MarkVerdict::NeedsLargerN { need },
            None => MarkVerdict::NeverSignificant,
            Some(_) => MarkVerdict::ShouldBe { expected },
        },
        _ => MarkVerdict::UnmarkedButSignificant { from: n5 },
    };
    MarkCheck {
        p,
        expected,
        n_for_5pct: n5,
        n_for_1pct: n1,
        verdict,
    }
}
