//! `{stats}`: a declarative analysis in YAML that calls the statistics core.
//!
//! ```yaml
//! levels:     { measures: [individual, collective], by: [area, theme], weight: auto }
//! correlate:  { x: [efficacy, age], y: [individual, collective], by: [area, theme], subs: true }
//! experiment: { y: [individual, collective], by: [area, theme], adjust: bh }
//! regress:    { y: collective, x: [efficacy, age], categorical: [arm], by: [area], robust: hc3 }
//! crosstab:   { row: age, col: gender, by: [area] }
//! compare:    { groups: [age, gender, ethnicity], y: [individual, collective], by: [area, theme] }
//! power:      { p0: 0.2, n: 120 }
//! ```
//! Every analysis may add `data:` (a frame name, default `long`) and
//! `filter:` (column: value pairs). The result is a tidy frame.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use super::{BlockOutput, Context, Diagnostic, Engine, Warned};
use crate::document::Block;
use crate::stats::{self, CovType, GroupedOptions, PAdjustMethod};

/// The stats engine.
pub struct StatsBlock;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum Spec {
    Levels(Levels),
    Correlate(Correlate),
    Experiment(Experiment),
    Regress(Regress),
    Crosstab(Crosstab),
    Compare(Compare),
    Power(Power),
    Statcheck(Statcheck),
    Items(Items),
}

/// The keys each analysis takes, for the hint when a spec has another.
/// (Serde cannot list them itself: `Common` is flattened into each.)
const FIELDS: [(&str, &[&str]); 9] = [
    ("levels", &["measures", "weight", "data", "filter", "by"]),
    (
        "correlate",
        &["x", "y", "method", "subs", "adjust", "data", "filter", "by"],
    ),
    (
        "experiment",
        &[
            "y", "arm", "control", "adjust", "robust", "data", "filter", "by",
        ],
    ),
    (
        "regress",
        &[
            "y",
            "x",
            "categorical",
            "weight",
            "robust",
            "data",
            "filter",
            "by",
        ],
    ),
    (
        "crosstab",
        &["row", "col", "weight", "data", "filter", "by"],
    ),
    ("compare", &["groups", "y", "data", "filter", "by"]),
    ("power", &["p0", "p1", "p2", "n", "alpha", "power"]),
    ("statcheck", &["data", "value", "n", "area_n", "se"]),
    ("items", &["role", "area"]),
];

/// A spec's parse error, pointing at the key it names and listing the keys
/// its analysis takes when the key is unknown.
fn spec_problem(block: &Block, e: &serde_saphyr::Error) -> Diagnostic {
    let mut d = super::spec_error("analysis", block, e);
    let kind: Option<String> = crate::yaml::from_str::<BTreeMap<String, Value>>(&block.body)
        .ok()
        .and_then(|m| m.into_keys().next());
    let fields = kind
        .as_deref()
        .and_then(|k| FIELDS.iter().find(|(name, _)| *name == k));
    match (unknown_key(&block.body), fields) {
        (Some((_, key)), Some((kind, fields))) => {
            // serde may report a missing key first (`measure:` for
            // `measures:`); the unknown key is the one to point at
            d.message = format!("analysis spec: `{kind}` has no key `{key}`");
            d = match nested_key(block, &key) {
                Some(at) => d.with_span(at),
                None => d,
            };
            match crate::document::closest(&key, fields) {
                Some(s) => d.hint(format!("did you mean `{s}`? `{kind}` takes: {}", fields.join(", "))),
                None => d.hint(format!("`{kind}` takes: {} (see docs/templates.md)", fields.join(", "))),
            }
        }
        _ if fields.is_none() => d.hint("one of: levels, correlate, experiment, regress, crosstab, compare, power, statcheck, items (see docs/templates.md)"),
        _ => d.hint("see docs/templates.md for the keys of each analysis"),
    }
}

/// The analysis and the first key of its spec that it does not take.
fn unknown_key(body: &str) -> Option<(String, String)> {
    let spec = crate::yaml::from_str::<BTreeMap<String, BTreeMap<String, Value>>>(body).ok()?;
    let (kind, keys) = spec.into_iter().next()?;
    let (_, fields) = FIELDS.iter().find(|(name, _)| *name == kind)?;
    let key = keys.into_keys().find(|k| !fields.contains(&k.as_str()))?;
    Some((kind, key))
}

/// Where a key of the analysis (`  robust: hc1`, one level in) is written.
fn nested_key(block: &Block, key: &str) -> Option<std::ops::Range<usize>> {
    let mut offset = 0;
    for line in block.body.split_inclusive('\n') {
        let t = line.trim_start();
        if line.len() > t.len()
            && t.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with(':'))
        {
            let at = block.body_offset + offset + (line.len() - t.len());
            return Some(at..at + key.len());
        }
        offset += line.len();
    }
    None
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Common {
    data: Option<String>,
    #[serde(default)]
    filter: BTreeMap<String, Value>,
    by: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Levels {
    measures: Vec<String>,
    #[serde(default)]
    weight: Weighting,
    #[serde(flatten)]
    common: Common,
}

/// Whether estimates are weighted: `true`, `false` (the default), or
/// `auto`: by the codebook's weight variable when it declares one (a
/// post-stratification weight), so one template serves weighted and
/// unweighted surveys. Bases (`n`) stay unweighted counts.
#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(untagged)]
enum Weighting {
    Flag(bool),
    Auto(AutoWord),
}

impl Default for Weighting {
    fn default() -> Self {
        Weighting::Flag(false)
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum AutoWord {
    Auto,
}

impl Weighting {
    fn applies(self, ctx: &Context) -> bool {
        match self {
            Weighting::Flag(on) => on,
            Weighting::Auto(_) => ctx
                .survey
                .codebook
                .role_variable(crate::survey::Role::Weight)
                .is_some(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Correlate {
    x: Vec<String>,
    y: Vec<String>,
    #[serde(default = "pearson")]
    method: String,
    #[serde(default = "yes")]
    subs: bool,
    adjust: Option<String>,
    #[serde(flatten)]
    common: Common,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Experiment {
    y: Vec<String>,
    #[serde(default = "arm")]
    arm: String,
    #[serde(default = "control")]
    control: String,
    adjust: Option<String>,
    #[serde(default = "hc2")]
    robust: String,
    #[serde(flatten)]
    common: Common,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Regress {
    y: String,
    #[serde(default)]
    x: Vec<String>,
    #[serde(default)]
    categorical: Vec<String>,
    #[serde(default)]
    weight: bool,
    #[serde(default = "hc1")]
    robust: String,
    #[serde(flatten)]
    common: Common,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Crosstab {
    row: String,
    col: String,
    #[serde(default)]
    weight: bool,
    #[serde(flatten)]
    common: Common,
}

/// Groups of respondents (by a coded column of the data) compared on each
/// outcome: the groups' shares or means, labelled from the codebook, and
/// the test the groups' scale allows (see [`stats::compare_groups`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Compare {
    groups: Vec<String>,
    y: Vec<String>,
    #[serde(flatten)]
    common: Common,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Power {
    p0: Option<f64>,
    p1: Option<f64>,
    p2: Option<f64>,
    n: Option<f64>,
    #[serde(default = "alpha")]
    alpha: f64,
    #[serde(default = "power80")]
    power: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Items {
    /// Codebook role of the items (default `individual`).
    #[serde(default = "individual")]
    role: String,
    /// Only this area (default: every area).
    area: Option<String>,
}

fn individual() -> String {
    "individual".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Statcheck {
    /// Frame of printed marks: the printed value, `stars`, and the cell's n.
    data: String,
    /// Column of the printed value: a Pearson r (default `r`) or, with
    /// `se`, a regression coefficient.
    #[serde(default = "r_column")]
    value: String,
    /// Column of the cell's sample size (default `n`).
    #[serde(default = "n_column")]
    n: String,
    /// Column of the area's respondents: a mark needing more is impossible.
    area_n: Option<String>,
    /// Column of the standard error the design gives at `n`: the values are
    /// regression coefficients, tested by z.
    se: Option<String>,
}

fn r_column() -> String {
    "r".into()
}
fn n_column() -> String {
    "n".into()
}

fn hc2() -> String {
    "hc2".into()
}

fn pearson() -> String {
    "pearson".into()
}
fn yes() -> bool {
    true
}
fn arm() -> String {
    "arm".into()
}
fn control() -> String {
    "none".into()
}
fn hc1() -> String {
    "hc1".into()
}
fn alpha() -> f64 {
    0.05
}
fn power80() -> f64 {
    0.8
}

fn err(e: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::error(e.to_string())
}

fn default_by(common: &Common, df: &DataFrame) -> Vec<String> {
    common.by.clone().unwrap_or_else(|| {
        ["area", "theme"]
            .iter()
            .filter(|c| df.column(c).is_ok())
            .map(|c| c.to_string())
            .collect()
    })
}

fn source(common: &Common, ctx: &Context, block: &Block) -> Result<DataFrame, Diagnostic> {
    let name = common.data.as_deref().unwrap_or("long");
    let named = ctx.frame(name, block)?;
    let mut df = named.frame.clone();
    for (col, value) in &common.filter {
        let c = df
            .column(col)
            .map_err(|_| missing_column(col, &df, block))?;
        let mask = match value {
            Value::String(s) => c
                .cast(&DataType::String)
                .map_err(err)?
                .str()
                .map_err(err)?
                .equal(s.as_str()),
            Value::Number(n) => c
                .cast(&DataType::Float64)
                .map_err(err)?
                .f64()
                .map_err(err)?
                .equal(n.as_f64().unwrap_or(f64::NAN)),
            Value::Bool(b) => c
                .cast(&DataType::String)
                .map_err(err)?
                .str()
                .map_err(err)?
                .equal(if *b { "true" } else { "false" }),
            other => {
                return Err(Diagnostic::error(format!(
                    "filter `{col}` needs a single value, not {other}"
                )));
            }
        };
        df = df.filter(&mask).map_err(err)?;
    }
    Ok(df)
}

fn missing_column(col: &str, df: &DataFrame, block: &Block) -> Diagnostic {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let e = Diagnostic::error(format!("no column `{col}` in the data"))
        .with_span(super::spans::SpecSpans::of(block).best(None, col));
    e.suggest(col, &refs, "columns")
}

fn check_columns(df: &DataFrame, cols: &[String], block: &Block) -> Result<(), Diagnostic> {
    for c in cols {
        if df.column(c).is_err() {
            return Err(missing_column(c, df, block));
        }
    }
    Ok(())
}

fn adjust_method(name: &Option<String>) -> Result<Option<PAdjustMethod>, Diagnostic> {
    match name.as_deref() {
        None | Some("none") => Ok(None),
        Some("bh" | "fdr") => Ok(Some(PAdjustMethod::BenjaminiHochberg)),
        Some("holm") => Ok(Some(PAdjustMethod::Holm)),
        Some("bonferroni") => Ok(Some(PAdjustMethod::Bonferroni)),
        Some(other) => Err(Diagnostic::error(format!("unknown adjustment `{other}`"))
            .hint("use bh, holm or bonferroni")),
    }
}

/// Stacks the parts of a result; no parts (no group was asked these
/// questions, or the survey ran no trial) gives an empty frame with the
/// grouped forms' columns, so templates can test `| length`.
fn stack(parts: Vec<DataFrame>, by: &[String], extra: &[&str]) -> Result<DataFrame, Diagnostic> {
    let mut iter = parts.into_iter();
    let Some(mut first) = iter.next() else {
        let text = |n: &str| Column::new(n.into(), Vec::<Option<String>>::new());
        let num = |n: &str| Column::new(n.into(), Vec::<Option<f64>>::new());
        let mut cols: Vec<Column> = by.iter().map(|b| text(b)).collect();
        cols.extend(["variable", "statistic"].iter().map(|n| text(n)));
        cols.extend(extra.iter().map(|n| text(n)));
        cols.extend(
            ["estimate", "ci_low", "ci_high", "p"]
                .iter()
                .map(|n| num(n)),
        );
        cols.push(Column::new("n".into(), Vec::<Option<i64>>::new()));
        cols.extend(["stars", "note"].iter().map(|n| text(n)));
        return DataFrame::new(0, cols).map_err(err);
    };
    for p in iter {
        first.vstack_mut(&p).map_err(err)?;
    }
    Ok(first)
}

/// Whether observed values are yes/no (only 0 and 1; missing ignored).
fn yes_no<'a>(values: impl IntoIterator<Item = &'a Option<f64>>) -> bool {
    values.into_iter().flatten().all(|v| *v == 0.0 || *v == 1.0)
}

/// `analyse(yes_no, rows)` on the rows of `df` split by whether `y` is
/// yes/no ([`yes_no`]) within each group of `by`, the results back in group
/// order (`None`: no result has rows). A measure can be yes/no in one area
/// and a share in another (Barnet asked two collective items about
/// community safety, so its collective measure is the share of them done):
/// each group gets the statistic its own values allow (a proportion with a
/// Wilson interval, or a mean).
fn per_kind(
    df: &DataFrame,
    y: &str,
    by: &[String],
    analyse: impl Fn(bool, &DataFrame) -> Result<DataFrame, Diagnostic>,
) -> Result<Option<DataFrame>, Diagnostic> {
    let values = f64_col(df, y)?;
    let (mut binary, mut other) = (Vec::new(), Vec::new());
    for idx in groups(df, by)?.into_values() {
        if yes_no(idx.iter().map(|i| &values[*i])) {
            binary.extend(idx);
        } else {
            other.extend(idx);
        }
    }
    let mut parts = Vec::new();
    for (kind, mut idx) in [(true, binary), (false, other)] {
        if idx.is_empty() {
            continue;
        }
        idx.sort_unstable();
        let take = IdxCa::from_vec("rows".into(), idx.iter().map(|i| *i as IdxSize).collect());
        let part = analyse(kind, &df.take(&take).map_err(err)?)?;
        if part.height() > 0 {
            parts.push(part);
        }
    }
    let many = parts.len() > 1;
    let mut iter = parts.into_iter();
    let Some(mut first) = iter.next() else {
        return Ok(None);
    };
    for p in iter {
        first.vstack_mut(&p).map_err(err)?;
    }
    if many && !by.is_empty() {
        first = first
            .lazy()
            .sort_by_exprs(
                by.iter().map(|b| col(b.as_str())).collect::<Vec<_>>(),
                SortMultipleOptions::default()
                    .with_maintain_order(true)
                    .with_nulls_last(false),
            )
            .collect()
            .map_err(err)?;
    }
    Ok(Some(first))
}

fn with_str_column(mut df: DataFrame, name: &str, value: &str) -> Result<DataFrame, Diagnostic> {
    let col = Column::new(name.into(), vec![value; df.height()]);
    df.with_column(col).map_err(err)?;
    Ok(df)
}

impl Engine for StatsBlock {
    fn name(&self) -> &'static str {
        "stats"
    }

    fn reads(&self, _block: &Block, body: &str, ctx: &Context) -> Vec<String> {
        let spec: Option<BTreeMap<String, Value>> = crate::yaml::from_str(body).ok();
        let data = spec
            .and_then(|m| m.into_values().next())
            .and_then(|v| v.get("data").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| "long".into());
        ctx.frames
            .contains_key(&data)
            .then_some(data)
            .into_iter()
            .collect()
    }

    fn run(
        &self,
        block: &Block,
        body: &str,
        ctx: &Context,
    ) -> Result<Warned<BlockOutput>, Diagnostic> {
        let spec: Spec = crate::yaml::from_str(body).map_err(|e| spec_problem(block, &e))?;
        let (frame, keys) = match spec {
            Spec::Levels(s) => levels(s, ctx, block)?,
            Spec::Correlate(s) => correlate(s, ctx, block)?,
            Spec::Experiment(s) => experiment(s, ctx, block)?,
            Spec::Regress(s) => regress(s, ctx, block)?,
            Spec::Crosstab(s) => crosstab(s, ctx, block)?,
            Spec::Compare(s) => compare(s, ctx, block)?,
            Spec::Power(s) => (power(s)?, vec![]),
            Spec::Statcheck(s) => statcheck(s, ctx, block)?,
            Spec::Items(s) => items(s, ctx)?,
        };
        Ok(Warned::new(BlockOutput::Frame { frame, keys }))
    }
}

type Tidy = (DataFrame, Vec<String>);

/// The columns of `wanted` present in the data. A measure name of the
/// codebook vocabulary (a role, or `role__sub`) that this survey did not ask
/// is left out, so one template serves surveys that asked different things;
/// any other missing name is an error (most likely a typo).
///
/// A role this survey did ask under a variable name the data holds (the
/// `respondents` frame names columns by variable: `sex`, where `long` says
/// `gender`) is an error that names the column to use, never an empty result.
fn present(
    df: &DataFrame,
    wanted: &[String],
    ctx: &Context,
    block: &Block,
) -> Result<Vec<String>, Diagnostic> {
    let mut out = Vec::new();
    for w in wanted {
        if df.column(w).is_ok() {
            out.push(w.clone());
            continue;
        }
        let role = w.split("__").next().unwrap_or(w);
        let Some((known, _)) = crate::survey::Role::ALL
            .iter()
            .find(|(r, n)| *n == role && (r.is_thematic() || r.is_scored()))
        else {
            return Err(missing_column(w, df, block));
        };
        // a demographic (one column per survey), not a theme's index of items
        if !known.is_thematic()
            && let Some(v) = ctx
                .survey
                .codebook
                .variables
                .iter()
                .find(|v| v.role == *known && df.column(&v.name).is_ok())
        {
            return Err(missing_column(w, df, block).hint(format!(
                "this frame names its columns by variable: the survey's `{w}` is the column `{}`; write `{}`",
                v.name, v.name
            )));
        }
    }
    Ok(out)
}

fn levels(s: Levels, ctx: &Context, block: &Block) -> Result<Tidy, Diagnostic> {
    let df = source(&s.common, ctx, block)?;
    let by = default_by(&s.common, &df);
    check_columns(&df, &by, block)?;
    let measures = present(&df, &s.measures, ctx, block)?;
    let by_ref: Vec<&str> = by.iter().map(String::as_str).collect();
    let opts = GroupedOptions {
        weight: s.weight.applies(ctx).then(|| "weight".to_string()),
        ..GroupedOptions::default()
    };
    let mut parts = Vec::new();
    for m in &measures {
        parts.extend(per_kind(&df, m, &by, |binary, rows| {
            if binary {
                stats::grouped::proportion_by(rows, m, &by_ref, &opts)
            } else {
                stats::grouped::mean_by(rows, m, &by_ref, &opts)
            }
            .map_err(err)
        })?);
    }
    let mut keys = by.clone();
    keys.push("variable".into());
    Ok((stack(parts, &by, &[])?, keys))
}

fn correlate(s: Correlate, ctx: &Context, block: &Block) -> Result<Tidy, Diagnostic> {
    let df = source(&s.common, ctx, block)?;
    let by = default_by(&s.common, &df);
    check_columns(&df, &by, block)?;
    let ys = present(&df, &s.y, ctx, block)?;
    let method = match s.method.as_str() {
        "pearson" => stats::CorrelationMethod::Pearson,
        "spearman" => stats::CorrelationMethod::Spearman,
        other => {
            return Err(
                Diagnostic::error(format!("unknown correlation method `{other}`"))
                    .hint("use pearson or spearman"),
            );
        }
    };
    let by_ref: Vec<&str> = by.iter().map(String::as_str).collect();
    let opts = GroupedOptions::default();
    let mut parts = Vec::new();
    for x in &s.x {
        let mut xs = Vec::new();
        if df.column(x).is_ok() {
            xs.push(x.clone());
        }
        if s.subs {
            xs.extend(stats::grouped::sub_items(&df, x));
        }
        if xs.is_empty() {
            // a role this survey did not ask is left out; anything else is a typo
            present(&df, std::slice::from_ref(x), ctx, block)?;
            continue;
        }
        for xcol in &xs {
            for y in &ys {
                let part = stats::grouped::correlate_by(&df, xcol, y, &by_ref, method, &opts)
                    .map_err(err)?;
                if part.height() == 0 {
                    continue;
                }
                let (role, sub) = match xcol.split_once("__") {
                    Some((r, sub)) => (r.to_string(), sub.to_string()),
                    None => (xcol.clone(), String::new()),
                };
                let part = with_str_column(part, "x", xcol)?;
                let part = with_str_column(part, "role", &role)?;
                let part = with_str_column(part, "sub", &sub)?;
                parts.push(with_str_column(part, "y", y)?);
            }
        }
    }
    let mut frame = stack(parts, &by, &["x", "role", "sub", "y"])?;
    if let Some(m) = adjust_method(&s.adjust)? {
        frame = stats::grouped::p_adjust_frame(&frame, "p", m, "p_adjusted").map_err(err)?;
    }
    let mut keys = by.clone();
    keys.extend(["y".to_string(), "x".to_string()]);
    Ok((frame, keys))
}

fn experiment(s: Experiment, ctx: &Context, block: &Block) -> Result<Tidy, Diagnostic> {
    let df = source(&s.common, ctx, block)?;
    let by = default_by(&s.common, &df);
    check_columns(&df, &by, block)?;
    let ys = present(&df, &s.y, ctx, block)?;
    check_columns(&df, std::slice::from_ref(&s.arm), block)?;
    let by_ref: Vec<&str> = by.iter().map(String::as_str).collect();
    let spec = stats::ExperimentSpec {
        control: s.control.clone(),
        cov: cov_type(&s.robust, block)?,
        ..stats::ExperimentSpec::default()
    };
    let mut parts = Vec::new();
    for y in &ys {
        parts.extend(per_kind(&df, y, &by, |binary, rows| {
            let kind = if binary {
                stats::OutcomeKind::Binary
            } else {
                stats::OutcomeKind::Continuous
            };
            stats::grouped::experiment_by(rows, y, &s.arm, &by_ref, kind, &spec).map_err(err)
        })?);
    }
    let mut frame = stack(parts, &by, &["arm"])?;
    if let Some(m) = adjust_method(&s.adjust)? {
        frame = adjust_primary(frame, m)?;
    }
    let mut keys = by.clone();
    keys.extend([
        "variable".to_string(),
        "statistic".to_string(),
        "arm".to_string(),
    ]);
    Ok((frame, keys))
}

/// Adjusts p-values within each family of tests: the arm-against-control
/// effects (the ITT rows) form one family, the factorial main effects
/// another (the two analyses of a 2x2 trial). The other rows (the same
/// effects as plain differences, the interaction) get no adjusted p, so no
/// hypothesis is counted twice.
fn adjust_primary(mut frame: DataFrame, method: PAdjustMethod) -> Result<DataFrame, Diagnostic> {
    let statistic = str_col(&frame, "statistic")?;
    let p = f64_col(&frame, "p")?;
    let mut column: Vec<Option<f64>> = vec![None; frame.height()];
    for family in ["itt", "main_effect"] {
        let members: Vec<usize> = (0..frame.height())
            .filter(|i| {
                statistic[*i].as_deref() == Some(family) && p[*i].is_some_and(f64::is_finite)
            })
            .collect();
        if members.is_empty() {
            continue;
        }
        let raw: Vec<f64> = members.iter().map(|i| p[*i].unwrap_or(f64::NAN)).collect();
        let adjusted = stats::p_adjust(&raw, method).map_err(err)?;
        for (i, a) in members.iter().zip(adjusted) {
            column[*i] = Some(a);
        }
    }
    frame
        .with_column(Column::new("p_adjusted".into(), column))
        .map_err(err)?;
    Ok(frame)
}

/// Row indices per group of the `by` columns, by the one grouping rule
/// ([`stats::group_rows`]: a missing key value is its own group).
fn groups(df: &DataFrame, by: &[String]) -> Result<BTreeMap<stats::Key, Vec<usize>>, Diagnostic> {
    let by: Vec<&str> = by.iter().map(String::as_str).collect();
    stats::group_rows(df, &by).map_err(err)
}

fn f64_col(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, Diagnostic> {
    let c = df
        .column(name)
        .map_err(err)?
        .cast(&DataType::Float64)
        .map_err(err)?;
    Ok(c.f64().map_err(err)?.iter().collect())
}

fn str_col(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>, Diagnostic> {
    let c = df
        .column(name)
        .map_err(err)?
        .cast(&DataType::String)
        .map_err(err)?;
    Ok(c.str()
        .map_err(err)?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// The covariance a spec's `robust:` names (`classical`, `hc0` to `hc3`).
fn cov_type(robust: &str, block: &Block) -> Result<CovType, Diagnostic> {
    Ok(match robust.to_ascii_lowercase().as_str() {
        "classical" | "none" | "nonrobust" => CovType::Classical,
        "hc0" => CovType::HC0,
        "hc1" => CovType::HC1,
        "hc2" => CovType::HC2,
        "hc3" => CovType::HC3,
        other => {
            let at = super::spans::SpecSpans::of(block).best(Some("robust"), robust);
            return Err(
                Diagnostic::error(format!("unknown robust standard errors `{other}`"))
                    .with_span(at)
                    .hint("use classical, hc0, hc1, hc2 or hc3"),
            );
        }
    })
}

fn regress(s: Regress, ctx: &Context, block: &Block) -> Result<Tidy, Diagnostic> {
    let df = source(&s.common, ctx, block)?;
    let by = s.common.by.clone().unwrap_or_default();
    check_columns(&df, &by, block)?;
    check_columns(&df, std::slice::from_ref(&s.y), block)?;
    check_columns(&df, &s.x, block)?;
    check_columns(&df, &s.categorical, block)?;
    let cov = cov_type(&s.robust, block)?;
    let y_all = f64_col(&df, &s.y)?;
    let x_all: Vec<Vec<Option<f64>>> =
        s.x.iter()
            .map(|x| f64_col(&df, x))
            .collect::<Result<_, _>>()?;
    let c_all: Vec<Vec<Option<String>>> = s
        .categorical
        .iter()
        .map(|c| str_col(&df, c))
        .collect::<Result<_, _>>()?;
    let w_all = if s.weight {
        Some(f64_col(&df, "weight")?)
    } else {
        None
    };
    let mut rows: Vec<(stats::Key, stats::OlsFit)> = Vec::new();
    let mut failures = Vec::new();
    for (key, idx) in groups(&df, &by)? {
        let pick = |v: &Vec<Option<f64>>| idx.iter().map(|i| v[*i]).collect::<Vec<_>>();
        let y = pick(&y_all);
        let xs: Vec<Vec<Option<f64>>> = x_all.iter().map(pick).collect();
        let cs: Vec<Vec<Option<&str>>> = c_all
            .iter()
            .map(|c| idx.iter().map(|i| c[*i].as_deref()).collect())
            .collect();
        let w = w_all.as_ref().map(pick);
        let mut terms: Vec<stats::Term> =
            s.x.iter()
                .zip(&xs)
                .map(|(name, values)| stats::Term::Numeric { name, values })
                .collect();
        for (name, values) in s.categorical.iter().zip(&cs) {
            terms.push(stats::Term::Categorical {
                name,
                values,
                reference: (name == "arm").then_some("none"),
            });
        }
        let opts = stats::OlsOptions {
            cov,
            ..stats::OlsOptions::default()
        };
        match stats::ols_terms(&y, &terms, w.as_deref(), &opts) {
            Ok(fit) => rows.push((key, fit)),
            Err(e) => failures.push(format!(
                "{}: {e}",
                if key.is_empty() {
                    "all".into()
                } else {
                    key.iter()
                        .map(|k| k.as_deref().unwrap_or("(missing)"))
                        .collect::<Vec<_>>()
                        .join(" / ")
                }
            )),
        }
    }
    if rows.is_empty() {
        let all = failures.join("; ");
        let mut d = Diagnostic::error(format!("regression not computable: {all}"));
        // what to do, in the terms of the failure
        if all.contains("aliased") {
            d = d.hint("a predictor that is the same for everyone (or a sum of others) cannot be estimated: drop it from `x`, or use data where it varies");
        }
        if all.contains("degrees of freedom") || all.contains("at least") {
            d = d.hint("a regression needs more respondents than it has parameters: widen the data or fit fewer predictors");
        }
        return Err(d);
    }
    let mut cols: Vec<Vec<Option<String>>> = vec![Vec::new(); by.len()];
    let (mut term, mut est, mut se, mut t, mut p, mut lo, mut hi, mut n, mut r2, mut stars) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    let mut model: [Vec<Option<f64>>; 5] = Default::default();
    let mut robust: Vec<String> = Vec::new();
    for (key, fit) in &rows {
        for j in 0..fit.names.len() {
            for (c, k) in cols.iter_mut().zip(key) {
                c.push(k.clone());
            }
            term.push(fit.names[j].clone());
            est.push(fit.coef[j]);
            se.push(fit.se[j]);
            t.push(fit.t[j]);
            p.push(fit.p[j]);
            lo.push(fit.ci_low[j]);
            hi.push(fit.ci_high[j]);
            n.push(fit.n as i64);
            r2.push(fit.r2);
            stars.push(stats::stars(fit.p[j]).to_string());
            for (c, v) in model.iter_mut().zip([
                Some(fit.adj_r2),
                fit.f_stat,
                fit.f_p,
                Some(fit.df_model),
                Some(fit.df_resid),
            ]) {
                c.push(v.filter(|x| x.is_finite()));
            }
            robust.push(robust_name(fit.cov_type).to_string());
        }
    }
    let mut columns: Vec<Column> = by
        .iter()
        .zip(cols)
        .map(|(b, v)| Column::new(b.as_str().into(), v))
        .collect();
    columns.extend([
        Column::new("term".into(), term),
        Column::new("estimate".into(), est),
        Column::new("se".into(), se),
        Column::new("t".into(), t),
        Column::new("p".into(), p),
        Column::new("ci_low".into(), lo),
        Column::new("ci_high".into(), hi),
        Column::new("n".into(), n),
        Column::new("r2".into(), r2),
        Column::new("stars".into(), stars),
    ]);
    for (name, values) in ["adj_r2", "f", "f_p", "df_model", "df_resid"]
        .iter()
        .zip(model)
    {
        columns.push(Column::new((*name).into(), values));
    }
    columns.push(Column::new("robust".into(), robust));
    let height = columns[0].len();
    let frame = DataFrame::new(height, columns).map_err(err)?;
    let mut keys = by.clone();
    keys.push("term".into());
    Ok((frame, keys))
}

/// How a spec names a covariance type (`robust:`).
fn robust_name(cov: CovType) -> &'static str {
    match cov {
        CovType::Classical => "classical",
        CovType::HC0 => "hc0",
        CovType::HC1 => "hc1",
        CovType::HC2 => "hc2",
        CovType::HC3 => "hc3",
    }
}

fn crosstab(s: Crosstab, ctx: &Context, block: &Block) -> Result<Tidy, Diagnostic> {
    let df = source(&s.common, ctx, block)?;
    let by = s.common.by.clone().unwrap_or_default();
    check_columns(&df, &by, block)?;
    check_columns(&df, &[s.row.clone(), s.col.clone()], block)?;
    // the `respondents` frame holds answer codes, `long` (and the frames
    // made from it) scores
    let codes = s.common.data.as_deref() == Some("respondents");
    let (r_all, r_order) = categories(&df, &s.row, ctx, codes)?;
    let (c_all, c_order) = categories(&df, &s.col, ctx, codes)?;
    let w_all: Option<Vec<f64>> = if s.weight {
        Some(
            f64_col(&df, "weight")?
                .into_iter()
                .map(|w| w.unwrap_or(0.0))
                .collect(),
        )
    } else {
        None
    };
    let mut out: Vec<Vec<Option<String>>> = vec![Vec::new(); by.len()];
    let (mut rl, mut cl, mut count, mut col_pct, mut letters, mut chi_p) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut cramer: Vec<Option<f64>> = Vec::new();
    let mut hidden: Vec<bool> = Vec::new();
    for (key, idx) in groups(&df, &by)? {
        let rows: Vec<Option<&str>> = idx.iter().map(|i| r_all[*i].as_deref()).collect();
        let cols: Vec<Option<&str>> = idx.iter().map(|i| c_all[*i].as_deref()).collect();
        let w: Option<Vec<f64>> = w_all.as_ref().map(|w| idx.iter().map(|i| w[*i]).collect());
        let mut table = stats::crosstab(&rows, &cols, w.as_deref()).map_err(err)?;
        in_code_order(&mut table, &r_order, &c_order);
        let chi = stats::chi_square_independence(&table.counts, false).ok();
        let tests = stats::column_proportion_tests(&table.counts, 0.05).ok();
        let pct = stats::column_percentages(&table.counts);
        // small cells and their complements (see engine::disclosure)
        let small = super::disclosure::cells_to_suppress(&table.counts, ctx.min_base);
        for (ri, r) in table.row_labels.iter().enumerate() {
            for (ci, c) in table.col_labels.iter().enumerate() {
                for (o, k) in out.iter_mut().zip(&key) {
                    o.push(k.clone());
                }
                rl.push(r.clone());
                cl.push(c.clone());
                count.push(table.counts[ri][ci]);
                col_pct.push(pct[ri][ci]);
                letters.push(
                    tests
                        .as_ref()
                        .map(|t| t.letters[ri][ci].clone())
                        .unwrap_or_default(),
                );
                chi_p.push(chi.as_ref().map(|c| c.p));
                cramer.push(chi.as_ref().map(stats::ChiSquareTest::cramers_v));
                hidden.push(small[ri][ci]);
            }
        }
    }
    let mut columns: Vec<Column> = by
        .iter()
        .zip(out)
        .map(|(b, v)| Column::new(b.as_str().into(), v))
        .collect();
    columns.extend([
        Column::new(s.row.as_str().into(), rl),
        Column::new(s.col.as_str().into(), cl),
        Column::new("count".into(), count),
        Column::new("column_pct".into(), col_pct),
        Column::new("letters".into(), letters),
        Column::new("chi2_p".into(), chi_p),
        Column::new("cramers_v".into(), cramer),
    ]);
    if hidden.iter().any(|h| *h) {
        columns.push(Column::new(super::disclosure::COLUMN.into(), hidden));
    }
    let height = columns[0].len();
    let frame = DataFrame::new(height, columns).map_err(err)?;
    let mut keys = by.clone();
    keys.extend([s.row.clone(), s.col.clone()]);
    Ok((frame, keys))
}

/// A crosstab variable's category per row, and the value each label stands
/// for (its place in the order).
type Categories = (Vec<Option<String>>, HashMap<String, f64>);

/// A crosstab variable's categories: text as it is; numbers as their
/// codebook labels (answer codes in `respondents`, scores elsewhere), else
/// as numbers without a needless ".0". The order map gives each label the
/// value it stands for, so categories follow the codes (Strongly disagree
/// .. Strongly agree, 2 before 10), not the alphabet.
fn categories(
    df: &DataFrame,
    name: &str,
    ctx: &Context,
    codes: bool,
) -> Result<Categories, Diagnostic> {
    let column = df.column(name).map_err(err)?;
    if !column.dtype().is_primitive_numeric() {
        return Ok((str_col(df, name)?, HashMap::new()));
    }
    let grouping = Grouping::of(name, ctx);
    let mut order = HashMap::new();
    let values: Vec<Option<String>> = f64_col(df, name)?
        .into_iter()
        .map(|v| {
            let v = v?;
            // a code meaning no answer is no category (as SPSS leaves
            // user-missing values out of a crosstab)
            if codes
                && grouping
                    .values
                    .is_some_and(|set| set.missing.contains(&(v as i64)) && v.fract() == 0.0)
            {
                return None;
            }
            let label = grouping
                .values
                .and_then(|set| {
                    if codes {
                        (v.fract() == 0.0).then(|| set.name(v as i64)).flatten()
                    } else {
                        set.value_label(v)
                    }
                })
                .map(str::to_string)
                .unwrap_or_else(|| crate::survey::number_text(v));
            let at = order.entry(label.clone()).or_insert(v);
            *at = f64::min(*at, v);
            Some(label)
        })
        .collect();
    Ok((values, order))
}

/// Puts a crosstab's rows and columns in the order of the values their
/// labels stand for (labels without one keep their sorted place after).
fn in_code_order(
    table: &mut stats::Crosstab,
    rows: &HashMap<String, f64>,
    cols: &HashMap<String, f64>,
) {
    let perm = |labels: &[String], order: &HashMap<String, f64>| -> Vec<usize> {
        let mut idx: Vec<usize> = (0..labels.len()).collect();
        idx.sort_by(|&a, &b| {
            let (x, y) = (order.get(&labels[a]), order.get(&labels[b]));
            match (x, y) {
                (Some(x), Some(y)) => x.total_cmp(y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => labels[a].cmp(&labels[b]),
            }
        });
        idx
    };
    let rp = perm(&table.row_labels, rows);
    let cp = perm(&table.col_labels, cols);
    table.row_labels = rp.iter().map(|&i| table.row_labels[i].clone()).collect();
    table.col_labels = cp.iter().map(|&i| table.col_labels[i].clone()).collect();
    table.counts = rp
        .iter()
        .map(|&r| cp.iter().map(|&c| table.counts[r][c]).collect())
        .collect();
}

/// How a grouping column's values read and whether they are ordered: from
/// the codebook variable of that name or role, else the values as text,
/// unordered.
struct Grouping<'a> {
    label: String,
    values: Option<&'a crate::survey::codebook::ValueSet>,
}

impl<'a> Grouping<'a> {
    fn of(name: &str, ctx: &'a Context) -> Self {
        let cb = &ctx.survey.codebook;
        let var = cb
            .variables
            .iter()
            .find(|v| v.name == name)
            .or_else(|| cb.variables.iter().find(|v| v.role.name() == name));
        Grouping {
            label: var.map_or_else(|| name.to_string(), |v| v.label.clone()),
            values: var.and_then(|v| cb.values_of(v)),
        }
    }

    fn scale(&self) -> stats::Scale {
        if self.values.is_some_and(|v| v.ordered) {
            stats::Scale::Ordinal
        } else {
            stats::Scale::Nominal
        }
    }

    fn category(&self, value: f64) -> String {
        self.values
            .and_then(|v| v.value_label(value))
            .map_or_else(|| format!("{value}"), str::to_string)
    }
}

/// One group comparison's rows: a row per group with its estimate and base,
/// the test repeated on each, and the groups with the highest and lowest
/// estimate among those with a publishable base.
#[derive(Default)]
struct CompareRows {
    key: Vec<Vec<Option<String>>>,
    grouping: Vec<String>,
    grouping_label: Vec<String>,
    category: Vec<String>,
    category_order: Vec<i64>,
    variable: Vec<String>,
    estimate: Vec<f64>,
    n: Vec<i64>,
    test: Vec<Option<String>>,
    statistic: Vec<Option<f64>>,
    effect_name: Vec<Option<String>>,
    effect: Vec<Option<f64>>,
    p: Vec<Option<f64>>,
    stars: Vec<String>,
    highest: Vec<Option<String>>,
    highest_estimate: Vec<Option<f64>>,
    lowest: Vec<Option<String>>,
    lowest_estimate: Vec<Option<f64>>,
    note: Vec<Option<String>>,
}

impl CompareRows {
    /// Empty, with a key column per grouping column.
    fn new(by: usize) -> Self {
        CompareRows {
            key: vec![Vec::new(); by],
            ..CompareRows::default()
        }
    }

    fn push(
        &mut self,
        key: &stats::Key,
        (name, grouping): (&str, &Grouping),
        y: &str,
        c: &stats::GroupComparison,
        min_base: u32,
    ) {
        let shown: Vec<&stats::GroupLevel> = c
            .levels
            .iter()
            .filter(|l| l.n as u64 >= u64::from(min_base))
            .collect();
        let pick = |best: Option<&&stats::GroupLevel>| {
            best.filter(|_| shown.len() >= 2)
                .map(|l| (grouping.category(l.code), l.estimate))
        };
        let highest = pick(
            shown
                .iter()
                .max_by(|a, b| a.estimate.total_cmp(&b.estimate)),
        );
        let lowest = pick(
            shown
                .iter()
                .min_by(|a, b| a.estimate.total_cmp(&b.estimate)),
        );
        let test = c.test.as_ref().ok();
        for (i, level) in c.levels.iter().enumerate() {
            for (col, k) in self.key.iter_mut().zip(key) {
                col.push(k.clone());
            }
            self.grouping.push(name.to_string());
            self.grouping_label.push(grouping.label.clone());
            self.category.push(grouping.category(level.code));
            self.category_order.push(i as i64 + 1);
            self.variable.push(y.to_string());
            self.estimate.push(level.estimate);
            self.n.push(level.n as i64);
            self.test.push(test.map(|t| t.kind.label().to_string()));
            self.statistic.push(test.map(|t| t.statistic));
            self.effect_name
                .push(test.map(|t| t.kind.effect_label().to_string()));
            self.effect.push(test.map(|t| t.effect));
            self.p.push(test.map(|t| t.p));
            self.stars
                .push(test.map_or("", |t| stats::stars(t.p)).to_string());
            self.highest.push(highest.as_ref().map(|h| h.0.clone()));
            self.highest_estimate.push(highest.as_ref().map(|h| h.1));
            self.lowest.push(lowest.as_ref().map(|l| l.0.clone()));
            self.lowest_estimate.push(lowest.as_ref().map(|l| l.1));
            self.note.push(c.test.as_ref().err().cloned());
        }
    }

    fn frame(self, by: &[String]) -> Result<DataFrame, Diagnostic> {
        let mut columns: Vec<Column> = by
            .iter()
            .zip(self.key)
            .map(|(b, v)| Column::new(b.as_str().into(), v))
            .collect();
        columns.extend([
            Column::new("grouping".into(), self.grouping),
            Column::new("grouping_label".into(), self.grouping_label),
            Column::new("category".into(), self.category),
            Column::new("category_order".into(), self.category_order),
            Column::new("variable".into(), self.variable),
            Column::new("estimate".into(), self.estimate),
            Column::new("n".into(), self.n),
            Column::new("test".into(), self.test),
            Column::new("statistic".into(), self.statistic),
            Column::new("effect_name".into(), self.effect_name),
            Column::new("effect".into(), self.effect),
            Column::new("p".into(), self.p),
            Column::new("stars".into(), self.stars),
            Column::new("highest".into(), self.highest),
            Column::new("highest_estimate".into(), self.highest_estimate),
            Column::new("lowest".into(), self.lowest),
            Column::new("lowest_estimate".into(), self.lowest_estimate),
            Column::new("note".into(), self.note),
        ]);
        let height = columns[by.len()].len();
        DataFrame::new(height, columns).map_err(err)
    }
}

fn compare(s: Compare, ctx: &Context, block: &Block) -> Result<Tidy, Diagnostic> {
    let df = source(&s.common, ctx, block)?;
    let by = default_by(&s.common, &df);
    check_columns(&df, &by, block)?;
    let ys = present(&df, &s.y, ctx, block)?;
    let groups_asked = present(&df, &s.groups, ctx, block)?;
    let mut rows = CompareRows::new(by.len());
    let split = groups(&df, &by)?;
    for g in &groups_asked {
        let grouping = Grouping::of(g, ctx);
        let codes = f64_col(&df, g)?;
        for y in &ys {
            let values = f64_col(&df, y)?;
            for (key, idx) in &split {
                let pick = |v: &Vec<Option<f64>>| idx.iter().map(|i| v[*i]).collect::<Vec<_>>();
                let (c, v) = (pick(&codes), pick(&values));
                if c.iter().all(Option::is_none) || v.iter().all(Option::is_none) {
                    continue; // not asked here
                }
                // yes/no here, or a share, decided per group as in [`per_kind`]
                let comparison =
                    stats::compare_groups(&c, &v, grouping.scale(), yes_no(&v)).map_err(err)?;
                rows.push(key, (g, &grouping), y, &comparison, ctx.min_base);
            }
        }
    }
    let frame = rows.frame(&by)?;
    let mut keys = by.clone();
    keys.extend(["grouping".into(), "variable".into(), "category".into()]);
    Ok((frame, keys))
}

/// Every item of a role, per area that asked it: the share answering the
/// first positive code ("often"), any positive code, and the base (don't
/// know and blank excluded), ranked by "often" within area.
fn items(s: Items, ctx: &Context) -> Result<Tidy, Diagnostic> {
    let cb = &ctx.survey.codebook;
    let resp = &ctx.survey.respondents;
    let role = cb
        .variables
        .iter()
        .find(|v| v.role.name() == s.role)
        .map(|v| v.role)
        .ok_or_else(|| Diagnostic::error(format!("the codebook has no `{}` items", s.role)))?;
    let areas = str_col(resp, "area")?;
    let (mut area, mut theme, mut variable, mut label, mut often, mut positive_share, mut n) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for a in &cb.areas {
        if s.area.as_ref().is_some_and(|x| x != &a.name) {
            continue;
        }
        for var in cb
            .variables
            .iter()
            .filter(|v| v.role == role && v.areas.contains(&a.name))
        {
            let Some(set) = cb.values_of(var) else {
                continue;
            };
            let Some(first) = set.positive.iter().next().copied() else {
                continue;
            };
            let codes: Vec<Option<f64>> = f64_col(resp, &var.name)?
                .into_iter()
                .zip(&areas)
                .map(|(c, ar)| c.filter(|_| ar.as_deref() == Some(a.name.as_str())))
                .collect();
            let positive: Vec<i64> = set.positive.iter().copied().collect();
            let Some(shares) =
                stats::item_shares(&codes, |c| set.score(c).is_some(), first, &positive)
            else {
                continue;
            };
            area.push(a.name.clone());
            theme.push(var.theme.clone());
            variable.push(var.name.clone());
            label.push(var.label.clone());
            often.push(shares.first);
            positive_share.push(shares.positive);
            n.push(shares.n as i64);
        }
    }
    let frame = df![
        "area" => area, "theme" => theme, "variable" => variable, "label" => label,
        "often" => often, "positive" => positive_share, "n" => n,
    ]
    .map_err(err)?;
    let frame = frame
        .lazy()
        .sort_by_exprs(
            [col("area"), col("often")],
            SortMultipleOptions::default()
                .with_order_descending_multi([false, true])
                .with_maintain_order(true),
        )
        .collect()
        .map_err(err)?;
    Ok((frame, vec![]))
}

/// A statcheck of printed significance marks: for each printed value and
/// its stars, the range of sample sizes that give that mark, against the
/// cell's n, and the tier (impossible, implausible, consistent).
fn statcheck(s: Statcheck, ctx: &Context, block: &Block) -> Result<Tidy, Diagnostic> {
    let df = ctx
        .frames
        .get(&s.data)
        .map(|n| n.frame.clone())
        .ok_or_else(|| Diagnostic::error(format!("no frame named `{}`", s.data)))?;
    let mut needed = vec![s.value.clone(), "stars".into(), s.n.clone()];
    needed.extend(s.area_n.iter().chain(&s.se).cloned());
    check_columns(&df, &needed, block)?;
    let value = f64_col(&df, &s.value)?;
    let stars = f64_col(&df, "stars")?;
    let n_cell = f64_col(&df, &s.n)?;
    let opt = |c: &Option<String>| c.as_ref().map(|c| f64_col(&df, c)).transpose();
    let (area_n, se) = (opt(&s.area_n)?, opt(&s.se)?);
    let (mut n_min, mut n_max, mut tier, mut verdict) = (vec![], vec![], vec![], vec![]);
    for i in 0..df.height() {
        let at = |c: &Option<Vec<Option<f64>>>| c.as_ref().and_then(|c| c[i]);
        let (Some(v), Some(st), Some(n)) = (value[i], stars[i], n_cell[i]) else {
            n_min.push(None);
            n_max.push(None);
            tier.push(None);
            verdict.push(Some(
                "not checkable: no printed value, mark or cell n".to_string(),
            ));
            continue;
        };
        let stars = st as i64;
        let (range, what) = match at(&se) {
            None => (
                stats::correlation_mark(stars)
                    .and_then(|m| stats::n_range_for_r(v, stats::half_unit(v, 2), m)),
                Checked::R(v),
            ),
            Some(se) => (
                stats::coefficient_mark(stars).and_then(|m| {
                    stats::n_range_for_coefficient(v, stats::half_unit(v, 1), m, se, n)
                }),
                Checked::Coefficient { b: v, se },
            ),
        };
        let t = stats::tier(range, n, at(&area_n));
        n_min.push(range.map(|r| r.min.ceil()));
        n_max.push(range.and_then(|r| r.max.map(f64::floor)));
        tier.push(Some(t.name().to_string()));
        verdict.push(Some(what.verdict(stars, range, t, n, at(&area_n))));
    }
    let mut out = df.clone();
    for c in [
        Column::new("n_min".into(), n_min),
        Column::new("n_max".into(), n_max),
        Column::new("n_cell".into(), n_cell),
        Column::new("tier".into(), tier),
        Column::new("verdict".into(), verdict),
    ] {
        out.with_column(c).map_err(err)?;
    }
    Ok((out, vec![]))
}

/// What a statcheck row checks, for its verdict.
enum Checked {
    /// A printed Pearson r.
    R(f64),
    /// A printed coefficient with the SE its design gives at the cell's n.
    Coefficient { b: f64, se: f64 },
}

impl Checked {
    /// The verdict in words: the sample sizes that fit the mark against the
    /// cell's (for a coefficient, as standard errors too).
    fn verdict(
        &self,
        stars: i64,
        range: Option<stats::NRange>,
        tier: stats::Tier,
        n: f64,
        area_n: Option<f64>,
    ) -> String {
        let mark = match stars {
            0 => "no mark".to_string(),
            s => format!("the mark {}", "*".repeat(s.max(0) as usize)),
        };
        let Some(range) = range else {
            return match self {
                Checked::R(r) => format!("no n gives |r| = {:.3} {mark}", r.abs()),
                Checked::Coefficient { b, .. } => format!("no sample gives {b:.1} {mark}"),
            };
        };
        let fits = match (range.min.ceil(), range.max.map(f64::floor)) {
            (lo, Some(hi)) if lo <= 4.0 => format!("n \u{2264} {}", group(hi)),
            (lo, None) => format!("n \u{2265} {}", group(lo)),
            (lo, Some(hi)) => format!("n from {} to {}", group(lo), group(hi)),
        };
        let only = if tier == stats::Tier::Consistent {
            "fits"
        } else {
            "fits only"
        };
        match self {
            Checked::R(_) => match (tier, area_n) {
                (stats::Tier::Impossible, Some(a)) => {
                    format!("{only} {fits}; the area had {}", group(a))
                }
                _ => format!("{only} {fits}; the cell has {}", group(n)),
            },
            Checked::Coefficient { se, .. } => {
                // the SE a sample of n' would give: se sqrt(n / n')
                let se_at = |m: f64| se * (n / m).sqrt();
                let ses = match (range.min > 0.0, range.max) {
                    (true, Some(hi)) => {
                        format!("SE {:.2} to {:.2}", se_at(hi), se_at(range.min))
                    }
                    (true, None) => format!("SE \u{2264} {:.2}", se_at(range.min)),
                    (false, Some(hi)) => format!("SE \u{2265} {:.2}", se_at(hi)),
                    (false, None) => "any SE".to_string(),
                };
                format!(
                    "{only} {ses} ({fits}); the design gives SE {se:.2} at n = {}",
                    group(n)
                )
            }
        }
    }
}

/// A whole number with thousands separators.
fn group(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 { format!("-{out}") } else { out }
}

fn power(s: Power) -> Result<DataFrame, Diagnostic> {
    let (what, value) = match (s.p0, s.p1, s.p2, s.n) {
        (Some(p0), None, None, Some(n)) => (
            "minimum detectable effect",
            stats::mde_proportions(p0, n, n, s.alpha, s.power).map_err(err)?,
        ),
        (None, Some(p1), Some(p2), Some(n)) => (
            "power",
            stats::power_two_proportions(p1, p2, n, n, s.alpha).map_err(err)?,
        ),
        (None, Some(p1), Some(p2), None) => (
            "required n per arm",
            stats::required_n_two_proportions(p1, p2, s.alpha, s.power, 1.0).map_err(err)?,
        ),
        _ => {
            return Err(Diagnostic::error(
                "power needs p0 and n (minimum detectable effect), p1, p2 and n (power), or p1 and p2 (required n)",
            ));
        }
    };
    df!["statistic" => [what], "estimate" => [value], "alpha" => [s.alpha], "power" => [s.power]]
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keys_listed_for_each_analysis_are_the_keys_it_takes() {
        for (kind, fields) in FIELDS {
            for field in fields {
                let yaml = format!("{kind}:\n  {field}: 1\n");
                if let Err(e) = crate::yaml::from_str::<Spec>(&yaml) {
                    assert!(
                        !e.to_string().contains("unknown field"),
                        "{kind} does not take `{field}`: {e}"
                    );
                }
            }
            let yaml = format!("{kind}:\n  not_a_key: 1\n");
            assert!(
                crate::yaml::from_str::<Spec>(&yaml).is_err(),
                "{kind}: unknown key rejected"
            );
            assert_eq!(
                unknown_key(&yaml),
                Some((kind.to_string(), "not_a_key".to_string())),
                "{kind}: the unknown key is found to point at"
            );
            let known = format!("{kind}:\n  {}: 1\n", fields[0]);
            assert_eq!(unknown_key(&known), None, "{kind}: {} is known", fields[0]);
        }
    }
}
