//! Pearson and Spearman correlations with pairwise-complete deletion.
//!
//! A pair of observations is used when both values are present (not `None`,
//! not NaN): "don't know" and blanks drop out per pair, as in the paper.
//! Pearson: t test on `n - 2` df (scipy `pearsonr`), Fisher-z interval
//! `tanh(atanh r ± z/sqrt(n - 3))` (scipy `pearsonr(...).confidence_interval()`).
//! Spearman: Pearson on average ranks (ties share their mean rank), p from the
//! same t approximation (scipy `spearmanr`), Fisher-z interval with the
//! Bonett-Wright standard error `sqrt((1 + r²/2) / (n - 3))`.
//!
//! Moments are accumulated block by block and merged with Chan's pairwise
//! update, so a correlation matrix over ten million rows is one pass.

use super::dist::{norm_isf, t_two_sided_p};
use super::qr::dot;
use super::qr::par_chunks;
use super::{NotComputable, Observation, Result, StatsError, check_level, check_same_len, stars};

/// Correlation coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorrelationMethod {
    /// Pearson product-moment correlation.
    Pearson,
    /// Spearman rank correlation (average ranks for ties).
    Spearman,
}

impl CorrelationMethod {
    /// Short label: "pearson" / "spearman".
    pub fn label(self) -> &'static str {
        match self {
            CorrelationMethod::Pearson => "pearson",
            CorrelationMethod::Spearman => "spearman",
        }
    }
}

/// A correlation with its test and interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    /// Pearson or Spearman.
    pub method: CorrelationMethod,
    /// Coefficient, in [-1, 1].
    pub r: f64,
    /// Complete pairs used.
    pub n: usize,
    /// Degrees of freedom of the t test, `n - 2`.
    pub df: f64,
    /// t statistic `r sqrt(df / (1 - r²))` (infinite when |r| = 1).
    pub t: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Lower confidence limit (Fisher z).
    pub ci_low: f64,
    /// Upper confidence limit (Fisher z).
    pub ci_high: f64,
    /// Confidence level.
    pub level: f64,
}

impl Correlation {
    /// Significance stars (`*` 5%, `**` 1%).
    pub fn stars(&self) -> &'static str {
        stars(self.p)
    }
}

/// Co-moments of a pair, mergeable (Chan, Golub & LeVeque).
#[derive(Debug, Clone, Copy)]
struct Moments {
    n: f64,
    mx: f64,
    my: f64,
    m2x: f64,
    m2y: f64,
    cxy: f64,
    minx: f64,
    maxx: f64,
    miny: f64,
    maxy: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments {
            n: 0.0,
            mx: 0.0,
            my: 0.0,
            m2x: 0.0,
            m2y: 0.0,
            cxy: 0.0,
            minx: f64::INFINITY,
            maxx: f64::NEG_INFINITY,
            miny: f64::INFINITY,
            maxy: f64::NEG_INFINITY,
        }
    }
}

impl Moments {
    fn merge(&mut self, o: &Moments) {
        if o.n == 0.0 {
            return;
        }
        if self.n == 0.0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let dx = o.mx - self.mx;
        let dy = o.my - self.my;
        let f = self.n * o.n / n;
        self.mx += dx * o.n / n;
        self.my += dy * o.n / n;
        self.m2x += o.m2x + dx * dx * f;
        self.m2y += o.m2y + dy * dy * f;
        self.cxy += o.cxy + dx * dy * f;
        self.n = n;
        self.minx = self.minx.min(o.minx);
        self.maxx = self.maxx.max(o.maxx);
        self.miny = self.miny.min(o.miny);
        self.maxy = self.maxy.max(o.maxy);
    }

    /// Two-pass moments of complete pairs.
    fn from_pairs(xs: &[f64], ys: &[f64]) -> Moments {
        let n = xs.len();
        if n == 0 {
            return Moments::default();
        }
        let nf = n as f64;
        let mx = xs.iter().sum::<f64>() / nf;
        let my = ys.iter().sum::<f64>() / nf;
        let mut m = Moments {
            n: nf,
            mx,
            my,
            ..Default::default()
        };
        for (&x, &y) in xs.iter().zip(ys) {
            let dx = x - mx;
            let dy = y - my;
            m.m2x += dx * dx;
            m.m2y += dy * dy;
            m.cxy += dx * dy;
            m.minx = m.minx.min(x);
            m.maxx = m.maxx.max(x);
            m.miny = m.miny.min(y);
            m.maxy = m.maxy.max(y);
        }
        // correct the means for rounding in the first pass
        let cx: f64 = xs.iter().map(|x| x - mx).sum::<f64>() / nf;
        let cy: f64 = ys.iter().map(|y| y - my).sum::<f64>() / nf;
        m.mx += cx;
        m.my += cy;
        m.m2x -= nf * cx * cx;
        m.m2y -= nf * cy * cy;
        m.cxy -= nf * cx * cy;
        m
    }
}

fn finish(
    m: &Moments,
    method: CorrelationMethod,
    level: f64,
    names: (&str, &str),
) -> std::result::Result<Correlation, NotComputable> {
    let n = m.n as usize;
    if n < 3 {
        return Err(NotComputable::TooFewObservations { n, needed: 3 });
    }
    if m.minx == m.maxx {
        return Err(NotComputable::Constant {
            variable: names.0.to_string(),
        });
    }
    if m.miny == m.maxy {
        return Err(NotComputable::Constant {
            variable: names.1.to_string(),
        });
    }
    let r = (m.cxy / (m.m2x.sqrt() * m.m2y.sqrt())).clamp(-1.0, 1.0);
    Ok(from_r(r, n, method, level))
}

fn from_r(r: f64, n: usize, method: CorrelationMethod, level: f64) -> Correlation {
    let df = n as f64 - 2.0;
    let (t, p) = if r.abs() >= 1.0 {
        (r.signum() * f64::INFINITY, 0.0)
    } else {
        let t = r * (df / ((1.0 - r) * (1.0 + r))).sqrt();
        (t, t_two_sided_p(t, df))
    };
    let (ci_low, ci_high) = if r.abs() >= 1.0 {
        (r, r)
    } else if n <= 3 {
        (-1.0, 1.0)
    } else {
        let z = r.atanh();
        let se = match method {
            CorrelationMethod::Pearson => 1.0 / (n as f64 - 3.0).sqrt(),
            CorrelationMethod::Spearman => ((1.0 + r * r / 2.0) / (n as f64 - 3.0)).sqrt(),
        };
        let crit = norm_isf((1.0 - level) / 2.0);
        ((z - crit * se).tanh(), (z + crit * se).tanh())
    };
    Correlation {
        method,
        r,
        n,
        df,
        t,
        p,
        ci_low,
        ci_high,
        level,
    }
}

/// Average ranks (1-based) with ties sharing their mean rank.
pub fn average_ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i + 1;
        while j < idx.len() && v[idx[j]] == v[idx[i]] {
            j += 1;
        }
        // positions i..j (0-based) share rank mean of (i+1..=j)
        let r = (i + 1 + j) as f64 / 2.0;
        for &k in &idx[i..j] {
            ranks[k] = r;
        }
        i = j;
    }
    ranks
}

fn complete_pairs<T: Observation>(x: &[T], y: &[T]) -> (Vec<f64>, Vec<f64>) {
    x.iter()
        .zip(y)
        .filter_map(|(a, b)| Some((a.value()?, b.value()?)))
        .unzip()
}

/// Correlation of `x` and `y` over complete pairs.
pub fn correlation<T: Observation>(
    x: &[T],
    y: &[T],
    method: CorrelationMethod,
    level: f64,
) -> Result<Correlation> {
    check_level(level)?;
    check_same_len(x.len(), y.len(), "correlation")?;
    let (mut xs, mut ys) = complete_pairs(x, y);
    if method == CorrelationMethod::Spearman {
        xs = average_ranks(&xs);
        ys = average_ranks(&ys);
    }
    let m = Moments::from_pairs(&xs, &ys);
    finish(&m, method, level, ("x", "y")).map_err(StatsError::from)
}

/// Pearson correlation over complete pairs.
pub fn pearson<T: Observation>(x: &[T], y: &[T], level: f64) -> Result<Correlation> {
    correlation(x, y, CorrelationMethod::Pearson, level)
}

/// Spearman correlation over complete pairs.
pub fn spearman<T: Observation>(x: &[T], y: &[T], level: f64) -> Result<Correlation> {
    correlation(x, y, CorrelationMethod::Spearman, level)
}

/// A symmetric matrix of pairwise-complete correlations.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationMatrix {
    /// Column names.
    pub names: Vec<String>,
    /// `cells[i][j]`: the correlation of columns i and j, or why not.
    /// The diagonal holds r = 1 for non-constant columns.
    pub cells: Vec<Vec<std::result::Result<Correlation, NotComputable>>>,
}

impl CorrelationMatrix {
    /// The coefficient matrix with `None` for not-computable cells.
    pub fn r(&self) -> Vec<Vec<Option<f64>>> {
        self.cells
            .iter()
            .map(|row| row.iter().map(|c| c.as_ref().ok().map(|c| c.r)).collect())
            .collect()
    }
}

const MBLOCK: usize = 512;

/// Pairwise-complete correlation matrix of `columns` (NaN = missing).
/// Pearson is a single blocked pass (parallel over fixed chunks); Spearman
/// ranks each pair's complete cases.
pub fn correlation_matrix(
    columns: &[&[f64]],
    names: &[&str],
    method: CorrelationMethod,
    level: f64,
) -> Result<CorrelationMatrix> {
    check_level(level)?;
    check_same_len(columns.len(), names.len(), "columns and names")?;
    let k = columns.len();
    let n = columns.first().map_or(0, |c| c.len());
    for c in columns {
        check_same_len(c.len(), n, "correlation matrix columns")?;
    }
    let pairs: Vec<(usize, usize)> = (0..k).flat_map(|i| (i..k).map(move |j| (i, j))).collect();
    let moments: Vec<Moments> = match method {
        CorrelationMethod::Pearson => {
            let parts = par_chunks(n, |start, end| block_moments(columns, &pairs, start, end));
            let mut acc = vec![Moments::default(); pairs.len()];
            for part in parts {
                for (a, b) in acc.iter_mut().zip(&part) {
                    a.merge(b);
                }
            }
            acc
        }
        CorrelationMethod::Spearman => pairs
            .iter()
            .map(|&(i, j)| {
                let (xs, ys) = complete_pairs(columns[i], columns[j]);
                Moments::from_pairs(&average_ranks(&xs), &average_ranks(&ys))
            })
            .collect(),
    };
    let mut cells: Vec<Vec<std::result::Result<Correlation, NotComputable>>> = (0..k)
        .map(|_| {
            (0..k)
                .map(|_| Err(NotComputable::Degenerate(String::new())))
                .collect()
        })
        .collect();
    for (&(i, j), m) in pairs.iter().zip(&moments) {
        let c = if i == j {
            let nn = m.n as usize;
            if nn < 3 {
                Err(NotComputable::TooFewObservations { n: nn, needed: 3 })
            } else if m.minx == m.maxx {
                Err(NotComputable::Constant {
                    variable: names[i].to_string(),
                })
            } else {
                Ok(from_r(1.0, nn, method, level))
            }
        } else {
            finish(m, method, level, (names[i], names[j]))
        };
        cells[j][i] = c.clone();
        cells[i][j] = c;
    }
    Ok(CorrelationMatrix {
        names: names.iter().map(|s| s.to_string()).collect(),
        cells,
    })
}

fn block_moments(
    columns: &[&[f64]],
    pairs: &[(usize, usize)],
    start: usize,
    end: usize,
) -> Vec<Moments> {
    let k = columns.len();
    let mut acc = vec![Moments::default(); pairs.len()];
    let mut dev = vec![0.0; k * MBLOCK];
    let mut mean = vec![0.0; k];
    let mut minmax = vec![(0.0, 0.0); k];
    let mut clean = vec![false; k];
    let mut xs = Vec::with_capacity(MBLOCK);
    let mut ys = Vec::with_capacity(MBLOCK);
    let mut s = start;
    while s < end {
        let e = (s + MBLOCK).min(end);
        let b = e - s;
        for c in 0..k {
            let col = &columns[c][s..e];
            clean[c] = !col.iter().any(|v| v.is_nan());
            if clean[c] {
                let m0 = col.iter().sum::<f64>() / b as f64;
                let d = &mut dev[c * MBLOCK..c * MBLOCK + b];
                let mut corr = 0.0;
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                for (di, &v) in d.iter_mut().zip(col) {
                    *di = v - m0;
                    corr += *di;
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                let corr = corr / b as f64;
                for di in d.iter_mut() {
                    *di -= corr;
                }
                mean[c] = m0 + corr;
                minmax[c] = (lo, hi);
            }
        }
        for (pi, &(i, j)) in pairs.iter().enumerate() {
            let m = if clean[i] && clean[j] {
                let di = &dev[i * MBLOCK..i * MBLOCK + b];
                let dj = &dev[j * MBLOCK..j * MBLOCK + b];
                Moments {
                    n: b as f64,
                    mx: mean[i],
                    my: mean[j],
                    m2x: dot(di, di),
                    m2y: dot(dj, dj),
                    cxy: dot(di, dj),
                    minx: minmax[i].0,
                    maxx: minmax[i].1,
                    miny: minmax[j].0,
                    maxy: minmax[j].1,
                }
            } else {
                xs.clear();
                ys.clear();
                for (&x, &y) in columns[i][s..e].iter().zip(&columns[j][s..e]) {
                    if !x.is_nan() && !y.is_nan() {
                        xs.push(x);
                        ys.push(y);
                    }
                }
                Moments::from_pairs(&xs, &ys)
            };
            acc[pi].merge(&m);
        }
        s = e;
    }
    acc
}
