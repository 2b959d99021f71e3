//! Checking printed significance marks against the sample size, in the
//! spirit of statcheck (Nuijten et al. 2016): for a printed Pearson r and
//! its stars, the range of sample sizes that give that mark (allowing for
//! the rounding of the printed r), compared with the cell's own n; the same
//! for a printed regression coefficient against the standard error its
//! design allows. Each mark gets a tier: impossible, implausible or
//! consistent.

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

/// Half a unit in the last decimal printed: 0.0005 for 0.112, 0.005 for
/// 0.16, 0.05 for 2.9, counting at least `min_decimals` (a zero or a round
/// value does not show how many were printed). A printed value stands for
/// any value that rounds to it. Trailing zeros are lost once a value is
/// parsed, so 0.160 counts as 0.16: the band is then wider, which can only
/// make a mark look consistent.
pub fn half_unit(x: f64, min_decimals: i32) -> f64 {
    let x = x.abs();
    let d = (min_decimals..=9)
        .find(|d| {
            let scaled = x * 10f64.powi(*d);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(9);
    0.5 * 10f64.powi(-d)
}

/// What a printed mark claims about p: below `below` (when set) and at or
/// above `at_least` (when set).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarkMeaning {
    /// p is below this.
    pub below: Option<f64>,
    /// p is at or above this.
    pub at_least: Option<f64>,
}

/// A correlation table's mark: the notes define * (5%) and ** (1%), so **
/// is any p below 0.01; *** is read as the usual p < 0.001. `None` for a
/// count of stars no table prints.
pub fn correlation_mark(stars: i64) -> Option<MarkMeaning> {
    let m = |below, at_least| Some(MarkMeaning { below, at_least });
    match stars {
        0 => m(None, Some(0.05)),
        1 => m(Some(0.05), Some(0.01)),
        2 => m(Some(0.01), None),
        3 => m(Some(0.001), None),
        _ => None,
    }
}

/// A regression table's mark: *, ** and *** at 5%, 1% and 0.1%.
pub fn coefficient_mark(stars: i64) -> Option<MarkMeaning> {
    let m = |below, at_least| Some(MarkMeaning { below, at_least });
    match stars {
        0 => m(None, Some(0.05)),
        1 => m(Some(0.05), Some(0.01)),
        2 => m(Some(0.01), Some(0.001)),
        3 => m(Some(0.001), None),
        _ => None,
    }
}

/// A range of sample sizes; `max` `None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NRange {
    /// Smallest n.
    pub min: f64,
    /// Largest n (`None`: any larger n too).
    pub max: Option<f64>,
}

/// The sample sizes at which a printed Pearson r (any r within `h` of it,
/// see [`half_unit`]) gets the printed mark, by the two-sided t test of
/// r = 0; `None` when no n does. The largest |r| of the band sets the
/// smallest n that reaches the mark's level; the smallest |r| sets the
/// largest n that stays short of the next level.
pub fn n_range_for_r(r: f64, h: f64, mark: MarkMeaning) -> Option<NRange> {
    let (hi, lo) = ((r.abs() + h).min(1.0), (r.abs() - h).max(0.0));
    let min = match mark.below {
        Some(alpha) => n_for_significance(hi, alpha)?,
        None => 4.0,
    };
    let max = match mark.at_least {
        Some(alpha) if lo > 0.0 => n_for_significance(lo, alpha).map(|n| n - 1.0),
        _ => None,
    };
    (max.is_none_or(|m| m >= min)).then_some(NRange { min, max })
}

/// The sample sizes at which a printed regression coefficient (any value
/// within `h` of it) gets the printed mark by a two-sided z test, given the
/// standard error `se` the design has at `n` (the SE shrinks with the square
/// root of n); `None` when no n fits. The minimum is 0 when the mark sets
/// no lower bound on n (no stars).
pub fn n_range_for_coefficient(
    b: f64,
    h: f64,
    mark: MarkMeaning,
    se: f64,
    n: f64,
) -> Option<NRange> {
    let (hi, lo) = (b.abs() + h, (b.abs() - h).max(0.0));
    // n' = n (se / se')^2 and |b| / se' = z  =>  n' = n (se z / |b|)^2
    let at = |b: f64, alpha: f64| n * (se * super::dist::norm_isf(alpha / 2.0) / b).powi(2);
    let min = match mark.below {
        Some(alpha) => at(hi, alpha),
        None => 0.0,
    };
    let max = match mark.at_least {
        Some(alpha) if lo > 0.0 => Some(at(lo, alpha)),
        _ => None,
    };
    (max.is_none_or(|m| m >= min)).then_some(NRange { min, max })
}

/// How far a printed mark is from what the data allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// No sample size gives the mark, or only one larger than the whole area.
    Impossible,
    /// Possible, but only at a sample size far from the cell's.
    Implausible,
    /// The cell's sample size gives the mark.
    Consistent,
}

impl Tier {
    /// The name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Impossible => "impossible",
            Tier::Implausible => "implausible",
            Tier::Consistent => "consistent",
        }
    }
}

/// How far a cell's n may be from the n a mark needs and still count as
/// consistent: 10% (the cell's base is itself uncertain: "don't know"
/// answers, item non-response).
pub const N_TOLERANCE: f64 = 0.1;

/// The tier of a mark whose possible sample sizes are `range`, for a cell
/// of `n_cell` cases in an area of `n_area` (when known).
pub fn tier(range: Option<NRange>, n_cell: f64, n_area: Option<f64>) -> Tier {
    let Some(range) = range else {
        return Tier::Impossible;
    };
    if n_area.is_some_and(|a| range.min > a) {
        return Tier::Impossible;
    }
    let (lo, hi) = (n_cell * (1.0 - N_TOLERANCE), n_cell * (1.0 + N_TOLERANCE));
    if range.min <= hi && range.max.is_none_or(|m| m >= lo) {
        Tier::Consistent
    } else {
        Tier::Implausible
    }
}
