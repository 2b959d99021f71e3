//! Grouped forms over the long survey frame ("this statistic by area and
//! theme"), returning tidy polars frames in the shape of the paper's
//! Tables 2-5.
//!
//! Every output has the grouping columns (as strings, sorted), then
//! `variable`, `statistic`, `estimate`, `ci_low`, `ci_high`, `p`, `n`
//! (unweighted base), `stars` and `note`; [`experiment_by`] adds `arm`.
//! A cell that cannot be computed has null numbers and its reason in
//! `note`. Groups in which an analysed column is entirely null were not
//! asked the question and are skipped.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::correlation::{CorrelationMethod, correlation};
use super::descriptive::{ProportionMethod, mean, proportion, weighted_mean, weighted_proportion};
use super::experiment::{ExperimentSpec, OutcomeKind, analyse_experiment};
use super::multiple::{PAdjustMethod, p_adjust};
use super::ols::Contrast;
use super::{NotComputable, Result, StatsError, stars};

/// Options shared by the grouped forms.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedOptions {
    /// Confidence level (0.95).
    pub level: f64,
    /// Weight column for weighted means / proportions (Kish intervals).
    pub weight: Option<String>,
    /// Interval for proportions (Wilson by default).
    pub proportion_method: ProportionMethod,
}

impl Default for GroupedOptions {
    fn default() -> Self {
        GroupedOptions {
            level: 0.95,
            weight: None,
            proportion_method: ProportionMethod::Wilson,
        }
    }
}

fn column<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Column> {
    df.column(name)
        .map_err(|_| StatsError::Frame(format!("no column named {name:?}")))
}

/// A column as `Option<f64>` values (numeric and boolean columns are cast).
fn f64_values(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    let c = column(df, name)?;
    let c = c
        .cast(&DataType::Float64)
        .map_err(|e| StatsError::Frame(format!("column {name:?} is not numeric: {e}")))?;
    Ok(c.f64()?.iter().collect())
}

/// A column as `Option<String>` values (any type is cast to string).
fn str_values(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let c = column(df, name)?;
    let c = c.cast(&DataType::String)?;
    Ok(c.str()?.iter().map(|s| s.map(|s| s.to_string())).collect())
}

/// A group's key: one value per grouping column, `None` where missing.
pub type Key = Vec<Option<String>>;

/// Row indices per group of the `by` columns (values compared as text),
/// groups in sorted order. The one rule for missing group keys: a row
/// whose key is missing in a column is not dropped, it forms its own group
/// (`None`, sorted first), as R's `group_by` and SPSS's split files do, so
/// no respondent silently leaves an analysis.
pub fn group_rows(df: &DataFrame, by: &[&str]) -> Result<BTreeMap<Key, Vec<usize>>> {
    // each key column as text once; each row's value as a small code into
    // that column's distinct values (no text copied per row)
    let texts: Vec<Column> = by
        .iter()
        .map(|b| Ok(column(df, b)?.cast(&DataType::String)?))
        .collect::<Result<_>>()?;
    let mut distinct: Vec<Vec<Option<&str>>> = vec![Vec::new(); by.len()];
    let mut codes: Vec<Vec<u32>> = Vec::with_capacity(by.len());
    for (k, c) in texts.iter().enumerate() {
        let mut seen: std::collections::HashMap<Option<&str>, u32> =
            std::collections::HashMap::new();
        let mut col = Vec::with_capacity(df.height());
        // survey frames hold keys in runs: a repeat needs no lookup
        let mut last: Option<(Option<&str>, u32)> = None;
        for v in c.str()?.iter() {
            let code = match last {
                Some((prev, code)) if prev == v => code,
                _ => {
                    let next = seen.len() as u32;
                    let code = *seen.entry(v).or_insert_with(|| {
                        distinct[k].push(v);
                        next
                    });
                    last = Some((v, code));
                    code
                }
            };
            col.push(code);
        }
        codes.push(col);
    }
    let mut groups: std::collections::HashMap<Vec<u32>, Vec<usize>> =
        std::collections::HashMap::new();
    let mut key = vec![0u32; by.len()];
    for i in 0..df.height() {
        for (k, c) in codes.iter().enumerate() {
            key[k] = c[i];
        }
        match groups.get_mut(&key) {
            Some(rows) => rows.push(i),
            None => {
                groups.insert(key.clone(), vec![i]);
            }
        }
    }
    Ok(groups
        .into_iter()
        .map(|(key, rows)| {
            let key: Key = key
                .iter()
                .enumerate()
                .map(|(k, &c)| distinct[k][c as usize].map(str::to_string))
                .collect();
            (key, rows)
        })
        .collect())
}

/// Accumulates output rows.
struct Rows {
    by: Vec<String>,
    keys: Vec<Key>,
    with_arm: bool,
    arm: Vec<Option<String>>,
    variable: Vec<String>,
    statistic: Vec<String>,
    estimate: Vec<Option<f64>>,
    ci_low: Vec<Option<f64>>,
    ci_high: Vec<Option<f64>>,
    p: Vec<Option<f64>>,
    n: Vec<u32>,
    stars: Vec<String>,
    note: Vec<Option<String>>,
}

struct Cell {
    estimate: f64,
    ci: Option<(f64, f64)>,
    p: Option<f64>,
}

impl Cell {
    /// A value alone (a count, a minimum detectable effect): no CI, no p.
    fn value(estimate: f64) -> Cell {
        Cell {
            estimate,
            ci: None,
            p: None,
        }
    }

    /// A tested contrast of a regression: estimate, CI and p.
    fn contrast(c: &Contrast) -> Cell {
        Cell {
            estimate: c.estimate,
            ci: Some((c.ci_low, c.ci_high)),
            p: Some(c.p),
        }
    }
}

impl Rows {
    fn new(by: &[&str], with_arm: bool) -> Rows {
        Rows {
            by: by.iter().map(|s| s.to_string()).collect(),
            keys: Vec::new(),
            with_arm,
            arm: Vec::new(),
            variable: Vec::new(),
            statistic: Vec::new(),
            estimate: Vec::new(),
            ci_low: Vec::new(),
            ci_high: Vec::new(),
            p: Vec::new(),
            n: Vec::new(),
            stars: Vec::new(),
            note: Vec::new(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        key: &Key,
        arm: Option<&str>,
        variable: &str,
        statistic: &str,
        n: usize,
        cell: std::result::Result<Cell, String>,
    ) {
        self.keys.push(key.clone());
        self.arm.push(arm.map(|s| s.to_string()));
        self.variable.push(variable.to_string());
        self.statistic.push(statistic.to_string());
        self.n.push(u32::try_from(n).unwrap_or(u32::MAX));
        match cell {
            Ok(c) => {
                self.estimate.push(Some(c.estimate));
                self.ci_low.push(c.ci.map(|v| v.0));
                self.ci_high.push(c.ci.map(|v| v.1));
                self.p.push(c.p);
                self.stars.push(c.p.map_or("", stars).to_string());
                self.note.push(None);
            }
            Err(why) => {
                self.estimate.push(None);
                self.ci_low.push(None);
                self.ci_high.push(None);
                self.p.push(None);
                self.stars.push(String::new());
                self.note.push(Some(why));
            }
        }
    }

    fn finish(self) -> Result<DataFrame> {
        let height = self.keys.len();
        let mut cols: Vec<Column> = Vec::new();
        for (j, name) in self.by.iter().enumerate() {
            let v: Vec<Option<String>> = self.keys.iter().map(|k| k[j].clone()).collect();
            cols.push(Column::new(name.as_str().into(), v));
        }
        if self.with_arm {
            cols.push(Column::new("arm".into(), self.arm));
        }
        cols.push(Column::new("variable".into(), self.variable));
        cols.push(Column::new("statistic".into(), self.statistic));
        cols.push(Column::new("estimate".into(), self.estimate));
        cols.push(Column::new("ci_low".into(), self.ci_low));
        cols.push(Column::new("ci_high".into(), self.ci_high));
        cols.push(Column::new("p".into(), self.p));
        cols.push(Column::new("n".into(), self.n));
        cols.push(Column::new("stars".into(), self.stars));
        cols.push(Column::new("note".into(), self.note));
        Ok(DataFrame::new(height, cols)?)
    }
}

fn pick<T: Clone>(v: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().map(|&i| v[i].clone()).collect()
}

fn all_null(v: &[Option<f64>]) -> bool {
    v.iter().all(|x| x.is_none_or(|x| x.is_nan()))
}

fn count_present(v: &[Option<f64>]) -> usize {
    v.iter().filter(|x| x.is_some_and(|x| !x.is_nan())).count()
}

/// Mean of `y` (t interval; weighted with Kish effective n when
/// `opts.weight` is set) for each group of `by`. Statistic: "mean"; the p
/// column is null.
pub fn mean_by(df: &DataFrame, y: &str, by: &[&str], opts: &GroupedOptions) -> Result<DataFrame> {
    let yv = f64_values(df, y)?;
    let wv = opts
        .weight
        .as_deref()
        .map(|w| f64_values(df, w))
        .transpose()?;
    let mut rows = Rows::new(by, false);
    for (key, idx) in group_rows(df, by)? {
        let ys = pick(&yv, &idx);
        if all_null(&ys) {
            continue;
        }
        let res = match &wv {
            Some(w) => weighted_mean(&ys, &pick(w, &idx), opts.level),
            None => mean(&ys, opts.level),
        };
        let (n, cell) = match res {
            Ok(m) => (
                m.n,
                Ok(Cell {
                    estimate: m.mean,
                    ci: Some((m.ci_low, m.ci_high)),
                    p: None,
                }),
            ),
            Err(e) => (count_present(&ys), Err(e.to_string())),
        };
        rows.push(&key, None, y, "mean", n, cell);
    }
    rows.finish()
}

/// Proportion of ones in the 0/1 column `y` (Wilson or Clopper-Pearson;
/// weighted with Kish effective n when `opts.weight` is set) for each group.
/// Statistic: "proportion"; the p column is null.
pub fn proportion_by(
    df: &DataFrame,
    y: &str,
    by: &[&str],
    opts: &GroupedOptions,
) -> Result<DataFrame> {
    let yv = f64_values(df, y)?;
    let wv = opts
        .weight
        .as_deref()
        .map(|w| f64_values(df, w))
        .transpose()?;
    let mut rows = Rows::new(by, false);
    for (key, idx) in group_rows(df, by)? {
        let ys = pick(&yv, &idx);
        if all_null(&ys) {
            continue;
        }
        let res = match &wv {
            Some(w) => weighted_proportion(&ys, &pick(w, &idx), opts.proportion_method, opts.level),
            None => proportion(&ys, opts.proportion_method, opts.level),
        };
        let (n, cell) = match res {
            Ok(m) => (
                m.n,
                Ok(Cell {
                    estimate: m.p,
                    ci: Some((m.ci_low, m.ci_high)),
                    p: None,
                }),
            ),
            Err(StatsError::InvalidInput(msg)) => {
                return Err(StatsError::InvalidInput(format!("{y}: {msg}")));
            }
            Err(e) => (count_present(&ys), Err(e.to_string())),
        };
        rows.push(&key, None, y, "proportion", n, cell);
    }
    rows.finish()
}

/// Correlation of `x` with `y` (pairwise-complete) for each group.
/// `variable` is "x ~ y"; statistic "pearson" or "spearman"; stars from p.
pub fn correlate_by(
    df: &DataFrame,
    x: &str,
    y: &str,
    by: &[&str],
    method: CorrelationMethod,
    opts: &GroupedOptions,
) -> Result<DataFrame> {
    let xv = f64_values(df, x)?;
    let yv = f64_values(df, y)?;
    let variable = format!("{x} ~ {y}");
    let mut rows = Rows::new(by, false);
    for (key, idx) in group_rows(df, by)? {
        let xs = pick(&xv, &idx);
        let ys = pick(&yv, &idx);
        if all_null(&xs) || all_null(&ys) {
            continue;
        }
        let (n, cell) = match correlation(&xs, &ys, method, opts.level) {
            Ok(c) => (
                c.n,
                Ok(Cell {
                    estimate: c.r,
                    ci: Some((c.ci_low, c.ci_high)),
                    p: Some(c.p),
                }),
            ),
            Err(e) => {
                // name the constant variable by its column
                let e = match e {
                    StatsError::NotComputable(NotComputable::Constant { variable }) => {
                        let variable = if variable == "x" { x } else { y };
                        StatsError::NotComputable(NotComputable::Constant {
                            variable: variable.to_string(),
                        })
                    }
                    other => other,
                };
                let n = xs
                    .iter()
                    .zip(&ys)
                    .filter(|(a, b)| {
                        a.is_some_and(|a| !a.is_nan()) && b.is_some_and(|b| !b.is_nan())
                    })
                    .count();
                (n, Err(e.to_string()))
            }
        };
        rows.push(&key, None, &variable, method.label(), n, cell);
    }
    rows.finish()
}

/// Arm effects on `y` for each group, from the arm column `arm_col`
/// (values such as "none", "A", "B", "AB"; null = not in the trial).
///
/// Rows per group: `arm_size` for every arm (estimate = n); for every
/// treatment arm `difference` (Newcombe for binary outcomes, Welch or pooled
/// t for continuous), `itt` (ITT regression coefficient with the spec's
/// robust SE, HC2 by default) and `mde` (minimum detectable effect at the
/// spec's power and alpha for the achieved sizes; no CI or p); and, for a
/// 2x2 design, `interaction` (`AB - A - B + control`, arm column null),
/// `main_effect` (each factor's average main effect, arm = the factor) and
/// `mde_main` (its minimum detectable effect).
pub fn experiment_by(
    df: &DataFrame,
    y: &str,
    arm_col: &str,
    by: &[&str],
    kind: OutcomeKind,
    spec: &ExperimentSpec,
) -> Result<DataFrame> {
    let yv = f64_values(df, y)?;
    let av = str_values(df, arm_col)?;
    let mut rows = Rows::new(by, true);
    for (key, idx) in group_rows(df, by)? {
        let ys = pick(&yv, &idx);
        let arms = pick(&av, &idx);
        let in_trial: Vec<Option<f64>> = ys
            .iter()
            .zip(&arms)
            .map(|(v, a)| if a.is_some() { *v } else { None })
            .collect();
        if all_null(&in_trial) {
            continue;
        }
        let arm_refs: Vec<Option<&str>> = arms.iter().map(|a| a.as_deref()).collect();
        let res = analyse_experiment(&ys, &arm_refs, kind, spec)?;
        for (a, n, _) in &res.arms {
            rows.push(&key, Some(a), y, "arm_size", *n, Ok(Cell::value(*n as f64)));
        }
        for eff in &res.effects {
            let n_pair = eff.n + eff.n_control;
            let diff = eff.difference.as_ref().map_err(|e| e.to_string()).map(|d| {
                let (est, lo, hi, p) = d.summary();
                Cell {
                    estimate: est,
                    ci: Some((lo, hi)),
                    p: Some(p),
                }
            });
            rows.push(&key, Some(&eff.arm), y, "difference", n_pair, diff);
            let itt_n = res.itt.as_ref().map_or(n_pair, |f| f.n);
            let itt = eff
                .itt
                .as_ref()
                .map_err(|e| e.to_string())
                .map(Cell::contrast);
            rows.push(&key, Some(&eff.arm), y, "itt", itt_n, itt);
            let mde = eff
                .mde
                .as_ref()
                .map_err(|e| e.to_string())
                .map(|m| Cell::value(*m));
            rows.push(&key, Some(&eff.arm), y, "mde", n_pair, mde);
        }
        if let Some(inter) = &res.interaction {
            let n = res.itt.as_ref().map_or(0, |f| f.n);
            let cell = inter
                .as_ref()
                .map_err(|e| e.to_string())
                .map(Cell::contrast);
            rows.push(&key, None, y, "interaction", n, cell);
        }
        for main in &res.main_effects {
            let n = res.itt.as_ref().map_or(0, |f| f.n);
            let cell = main
                .effect
                .as_ref()
                .map_err(|e| e.to_string())
                .map(Cell::contrast);
            rows.push(&key, Some(&main.factor), y, "main_effect", n, cell);
            let mde = main
                .mde
                .as_ref()
                .map_err(|e| e.to_string())
                .map(|m| Cell::value(*m));
            rows.push(&key, Some(&main.factor), y, "mde_main", n, mde);
        }
    }
    rows.finish()
}

/// Add a column `out` of adjusted p-values over the family of all non-null
/// values of column `p_col` (null stays null), e.g. all area x theme nudge
/// tests, so a report can count how many survive.
pub fn p_adjust_frame(
    df: &DataFrame,
    p_col: &str,
    method: PAdjustMethod,
    out: &str,
) -> Result<DataFrame> {
    let p = f64_values(df, p_col)?;
    let present: Vec<usize> = (0..p.len()).filter(|&i| p[i].is_some()).collect();
    let vals: Vec<f64> = present.iter().map(|&i| p[i].unwrap_or(f64::NAN)).collect();
    let adj = p_adjust(&vals, method)?;
    let mut col: Vec<Option<f64>> = vec![None; p.len()];
    for (&i, a) in present.iter().zip(adj) {
        col[i] = Some(a);
    }
    let mut df = df.clone();
    df.with_column(Column::new(out.into(), col))?;
    Ok(df)
}

/// Sub-item columns of a role, named `role__sub` (e.g. `efficacy__crime`),
/// in frame order.
pub fn sub_items(df: &DataFrame, role: &str) -> Vec<String> {
    let prefix = format!("{role}__");
    df.get_column_names()
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .map(|n| n.to_string())
        .collect()
}
