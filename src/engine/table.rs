//! `{table}`: formats a frame: column labels, number formats, intervals,
//! significance stars, the paper's emphasis (bold for significant positive,
//! shading for significant negative), base notes, pivoting to the wide
//! shape of Tables 3-4, and suppression of cells resting on fewer
//! respondents than the disclosure threshold.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use super::{BlockOutput, Cell, Context, Diagnostic, Emphasis, Engine, TableOut, Warned, frames};
use crate::document::Block;

/// The table engine.
pub struct TableBlock;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    data: String,
    #[serde(default)]
    columns: Vec<ColumnSpec>,
    pivot: Option<Pivot>,
    emphasis: Option<EmphasisSpec>,
    base: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ColumnSpec {
    Name(String),
    Full(ColumnFull),
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct ColumnFull {
    name: Option<String>,
    label: Option<String>,
    format: Option<String>,
    digits: Option<usize>,
    stars: Option<String>,
    ci: Option<(String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pivot {
    rows: Vec<String>,
    columns: Vec<String>,
    value: String,
    #[serde(default)]
    format: Option<String>,
    digits: Option<usize>,
    stars: Option<String>,
    base: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmphasisSpec {
    value: String,
    p: String,
    #[serde(default = "five")]
    alpha: f64,
}

fn five() -> f64 {
    0.05
}

/// A value formatted by `format` (pct, num, int, p, text).
pub fn format_value(v: &Value, format: Option<&str>, digits: Option<usize>) -> String {
    let Some(x) = v.as_f64() else {
        return match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
    };
    let s = match format.unwrap_or("auto") {
        "pct" => format!("{:.*}", digits.unwrap_or(0), x * 100.0),
        "int" => format!("{:.0}", x),
        "p" => {
            if x < 0.001 {
                "<0.001".into()
            } else {
                format!("{x:.3}")
            }
        }
        "num" => format!("{:.*}", digits.unwrap_or(2), x),
        _ => {
            if v.is_i64() || v.is_u64() {
                format!("{x:.0}")
            } else {
                format!("{:.*}", digits.unwrap_or(3), x)
            }
        }
    };
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().any(|c| c.is_ascii_digit() && c != '0') => {
            format!("\u{2212}{rest}")
        }
        Some(rest) => rest.to_string(),
        None => s,
    }
}

fn stars_for(p: &Value) -> &'static str {
    p.as_f64().map_or("", crate::stats::stars)
}

fn emphasis_for(row: &Value, spec: Option<&EmphasisSpec>) -> Emphasis {
    let Some(e) = spec else { return Emphasis::None };
    match (
        row.get(&e.value).and_then(Value::as_f64),
        row.get(&e.p).and_then(Value::as_f64),
    ) {
        (Some(v), Some(p)) if p < e.alpha && v > 0.0 => Emphasis::Bold,
        (Some(v), Some(p)) if p < e.alpha && v < 0.0 => Emphasis::Shade,
        _ => Emphasis::None,
    }
}

impl Engine for TableBlock {
    fn name(&self) -> &'static str {
        "table"
    }

    fn label(&self) -> Option<super::LabelKind> {
        Some(super::LabelKind {
            prefix: "tbl",
            word: "Table",
        })
    }

    fn reads(&self, _block: &Block, body: &str, _ctx: &Context) -> Vec<String> {
        super::data_key(body)
    }

    fn run(
        &self,
        block: &Block,
        body: &str,
        ctx: &Context,
    ) -> Result<Warned<BlockOutput>, Diagnostic> {
        let spec: Spec = super::parse_spec("table", block, body)?;
        let df = &ctx.frame(&spec.data, block)?.frame;
        let mut layout = Layout::new(&spec, block, df, ctx);
        let (header, row_header_columns, rows) = match &spec.pivot {
            Some(p) => layout.pivot(p)?,
            None => layout.listed()?,
        };
        Ok(Warned::new(BlockOutput::Table(TableOut {
            label: block.option_str("label").map(str::to_string),
            number: None,
            caption: block.option_str("caption").map(str::to_string),
            data: Some(spec.data.clone()),
            header,
            row_header_columns,
            rows,
            notes: layout.notes(),
            csv: frames::to_csv(df),
        })))
    }
}

/// A frame laid out as a table with the default formats and labels (what a
/// `{table}` block without `columns` shows): for frames a code cell shows.
pub fn table_of(
    df: &DataFrame,
    name: &str,
    block: &Block,
    ctx: &Context,
) -> Result<TableOut, Diagnostic> {
    let spec = Spec {
        data: name.to_string(),
        columns: Vec::new(),
        pivot: None,
        emphasis: None,
        base: None,
        labels: BTreeMap::new(),
    };
    let mut layout = Layout::new(&spec, block, df, ctx);
    let (header, row_header_columns, rows) = layout.listed()?;
    Ok(TableOut {
        label: None,
        number: None,
        caption: block.option_str("caption").map(str::to_string),
        data: None,
        header,
        row_header_columns,
        rows,
        notes: layout.notes(),
        csv: frames::to_csv(df),
    })
}

/// Header lines of (text, columns spanned).
type Header = Vec<Vec<(String, usize)>>;

/// A table being laid out from a frame: the spec, the frame's rows and
/// columns, and what the notes under the table must say.
struct Layout<'a> {
    spec: &'a Spec,
    block: &'a Block,
    df: &'a DataFrame,
    names: Vec<String>,
    rows: Vec<Value>,
    labels: super::labels::Names,
    min_base: u32,
    suppressed_any: bool,
    base_range: Option<(f64, f64)>,
}

impl<'a> Layout<'a> {
    fn new(spec: &'a Spec, block: &'a Block, df: &'a DataFrame, ctx: &'a Context) -> Self {
        Layout {
            spec,
            block,
            df,
            names: df
                .get_column_names()
                .iter()
                .map(|c| c.to_string())
                .collect(),
            rows: frames::rows(df),
            labels: super::labels::Names::of(&ctx.survey.codebook),
            min_base: ctx.min_base,
            suppressed_any: false,
            base_range: None,
        }
    }

    /// The column exists, else an error at the name in the spec.
    fn check(&self, c: &str) -> Result<(), Diagnostic> {
        if self.names.iter().any(|n| n == c) {
            return Ok(());
        }
        let refs: Vec<&str> = self.names.iter().map(String::as_str).collect();
        let e = Diagnostic::error(format!("frame `{}` has no column `{c}`", self.spec.data))
            .with_span(super::spans::SpecSpans::of(self.block).best(None, c));
        Err(e.suggest(c, &refs, "columns"))
    }

    /// A value as a key cell shows it: theme labels, readable measure names.
    fn display(&self, col: &str, v: &Value) -> String {
        match (col, v) {
            ("theme", Value::String(s)) => self.labels.theme(s),
            ("sub", Value::String(s)) => self.labels.sub(s),
            (c, Value::String(s)) if super::labels::holds_measures(c) => self.labels.measure(s),
            _ => format_value(v, None, None),
        }
    }

    fn label_of(&self, c: &str) -> String {
        self.spec
            .labels
            .get(c)
            .cloned()
            .or_else(|| self.labels.variable(c).map(str::to_string))
            .unwrap_or_else(|| default_label(c))
    }

    /// How a column listed without a spec prints, for the columns a
    /// crosstab makes: whole counts as integers, column shares as
    /// percentages, p values (`p`, `p_adjusted`, `chi2_p`, `f_p`) as
    /// p values (`<0.001`, never `0.000`).
    fn default_format(&self, c: &str) -> Option<String> {
        match c {
            "count"
                if self.rows.iter().all(|r| {
                    r.get(c)
                        .and_then(Value::as_f64)
                        .is_none_or(|x| x.fract() == 0.0)
                }) =>
            {
                Some("int".into())
            }
            "column_pct" => Some("pct".into()),
            "p" | "p_adjusted" | "chi2_p" | "f_p" => Some("p".into()),
            _ => None,
        }
    }

    /// Notes the base of a cell; whether the cell is withheld.
    fn withheld(&mut self, row: &Value, base: Option<&String>) -> bool {
        let n = base.and_then(|b| row.get(b)).and_then(Value::as_f64);
        if let Some(n) = n {
            self.base_range = Some(match self.base_range {
                None => (n, n),
                Some((lo, hi)) => (lo.min(n), hi.max(n)),
            });
        }
        n.is_some_and(|n| n < f64::from(self.min_base)) || marked(row)
    }

    /// The wide shape of Tables 3-4: row keys down, column keys across.
    fn pivot(&mut self, p: &Pivot) -> Result<(Header, usize, Vec<Vec<Cell>>), Diagnostic> {
        for c in p.rows.iter().chain(&p.columns).chain([&p.value]) {
            self.check(c)?;
        }
        if let Some(s) = &p.stars {
            self.check(s)?;
        }
        let base_col = p.base.as_ref().or(self.spec.base.as_ref());
        if let Some(b) = base_col {
            self.check(b)?;
        }
        let key = |row: &Value, cols: &[String]| -> Vec<String> {
            cols.iter()
                .map(|c| self.display(c, row.get(c).unwrap_or(&Value::Null)))
                .collect()
        };
        let mut row_keys: Vec<Vec<String>> = Vec::new();
        let mut col_keys: Vec<Vec<String>> = Vec::new();
        let mut cells: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        for (i, r) in self.rows.iter().enumerate() {
            let (rk, ck) = (key(r, &p.rows), key(r, &p.columns));
            let ri = row_keys.iter().position(|k| *k == rk).unwrap_or_else(|| {
                row_keys.push(rk);
                row_keys.len() - 1
            });
            let ci = col_keys.iter().position(|k| *k == ck).unwrap_or_else(|| {
                col_keys.push(ck);
                col_keys.len() - 1
            });
            cells.insert((ri, ci), i);
        }
        let header = self.pivot_header(p, &col_keys);
        let mut body = Vec::new();
        for (ri, rk) in row_keys.iter().enumerate() {
            let mut line: Vec<Cell> = rk.iter().map(|t| text_cell(t)).collect();
            for ci in 0..col_keys.len() {
                let Some(&i) = cells.get(&(ri, ci)) else {
                    line.push(text_cell(""));
                    continue;
                };
                let r = self.rows[i].clone();
                if self.withheld(&r, base_col) {
                    self.suppressed_any = true;
                    line.push(suppressed_cell());
                    continue;
                }
                let v = r.get(&p.value).unwrap_or(&Value::Null);
                let mut text = if v.is_null() {
                    "n/c".to_string()
                } else {
                    format_value(v, p.format.as_deref(), p.digits)
                };
                if let Some(s) = &p.stars {
                    text.push_str(stars_for(r.get(s).unwrap_or(&Value::Null)));
                }
                line.push(Cell {
                    text,
                    numeric: true,
                    emphasis: emphasis_for(&r, self.spec.emphasis.as_ref()),
                    suppressed: false,
                });
            }
            body.push(line);
        }
        Ok((header, p.rows.len(), body))
    }

    /// One header line per column level; equal parents merged.
    fn pivot_header(&self, p: &Pivot, col_keys: &[Vec<String>]) -> Header {
        let mut header = Vec::new();
        for level in 0..p.columns.len() {
            let mut line: Vec<(String, usize)> = p
                .rows
                .iter()
                .map(|c| {
                    (
                        if level == 0 {
                            self.label_of(c)
                        } else {
                            String::new()
                        },
                        1,
                    )
                })
                .collect();
            let mut ci = 0;
            while ci < col_keys.len() {
                let mut span = 1;
                // merge equal parents when this is not the last level
                while level + 1 < p.columns.len()
                    && ci + span < col_keys.len()
                    && col_keys[ci + span][..=level] == col_keys[ci][..=level]
                {
                    span += 1;
                }
                line.push((col_keys[ci][level].clone(), span));
                ci += span;
            }
            header.push(line);
        }
        header
    }

    /// The columns shown: as listed, or every column of the frame.
    fn columns(&self) -> Vec<ColumnFull> {
        let named = |n: &String| ColumnFull {
            name: Some(n.clone()),
            format: self.default_format(n),
            ..ColumnFull::default()
        };
        if self.spec.columns.is_empty() {
            return self
                .names
                .iter()
                .filter(|n| n.as_str() != super::disclosure::COLUMN)
                .map(named)
                .collect();
        }
        self.spec
            .columns
            .iter()
            .map(|c| match c {
                ColumnSpec::Name(n) => named(n),
                ColumnSpec::Full(f) => f.clone(),
            })
            .collect()
    }

    /// One row per frame row; the leading text columns are row headers.
    fn listed(&mut self) -> Result<(Header, usize, Vec<Vec<Cell>>), Diagnostic> {
        let cols = self.columns();
        for c in &cols {
            for name in c
                .name
                .iter()
                .chain(c.stars.iter())
                .chain(c.ci.iter().flat_map(|(a, b)| [a, b]))
            {
                self.check(name)?;
            }
            if c.name.is_none() && c.ci.is_none() {
                return Err(Diagnostic::error("a table column needs `name` or `ci`")
                    .point(self.block.body_offset));
            }
        }
        if let Some(b) = &self.spec.base {
            self.check(b)?;
        }
        let key_cols = cols
            .iter()
            .take_while(|c| {
                c.format.is_none()
                    && c.ci.is_none()
                    && c.name.as_deref().is_some_and(|n| {
                        self.df
                            .column(n)
                            .is_ok_and(|col| col.dtype() == &DataType::String)
                    })
            })
            .count();
        let header = vec![
            cols.iter()
                .map(|c| {
                    let label = c.label.clone().unwrap_or_else(|| {
                        c.name
                            .as_deref()
                            .map_or("95% CI".into(), |n| self.label_of(n))
                    });
                    (label, 1)
                })
                .collect(),
        ];
        let mut body = Vec::new();
        for i in 0..self.rows.len() {
            let r = self.rows[i].clone();
            let suppress = self.withheld(&r, self.spec.base.as_ref());
            let mut line = Vec::new();
            for (i, c) in cols.iter().enumerate() {
                if suppress && i >= key_cols && c.name.as_deref() != self.spec.base.as_deref() {
                    self.suppressed_any = true;
                    line.push(suppressed_cell());
                    continue;
                }
                line.push(self.cell(&r, c));
            }
            body.push(line);
        }
        Ok((header, key_cols, body))
    }

    /// A listed column's cell of a row: an interval, or a value with stars.
    fn cell(&self, r: &Value, c: &ColumnFull) -> Cell {
        let (text, numeric) = if let Some((lo, hi)) = &c.ci {
            let l = r.get(lo).unwrap_or(&Value::Null);
            let h = r.get(hi).unwrap_or(&Value::Null);
            if l.is_null() || h.is_null() {
                (String::new(), true)
            } else {
                let f = |v| format_value(v, c.format.as_deref(), c.digits);
                (format!("{} to {}", f(l), f(h)), true)
            }
        } else {
            let name = c.name.as_deref().unwrap_or_default();
            let v = r.get(name).unwrap_or(&Value::Null);
            let mut t = if c.format.is_some() {
                format_value(v, c.format.as_deref(), c.digits)
            } else {
                self.display(name, v)
            };
            if let Some(s) = &c.stars {
                t.push_str(stars_for(r.get(s).unwrap_or(&Value::Null)));
            }
            (t, v.is_number())
        };
        let emphasis = match &self.spec.emphasis {
            Some(e) if c.name.as_deref() == Some(e.value.as_str()) => {
                emphasis_for(r, self.spec.emphasis.as_ref())
            }
            _ => Emphasis::None,
        };
        Cell {
            text,
            numeric,
            emphasis,
            suppressed: false,
        }
    }

    /// The notes under the table: stars, emphasis, bases, suppression.
    fn notes(&self) -> Vec<String> {
        let spec = self.spec;
        let mut notes = Vec::new();
        if spec.pivot.as_ref().and_then(|p| p.stars.as_ref()).is_some()
            || spec
                .columns
                .iter()
                .any(|c| matches!(c, ColumnSpec::Full(f) if f.stars.is_some()))
        {
            notes.push("** significant at the 1% level, * at the 5% level.".to_string());
        }
        if spec.emphasis.is_some() {
            notes.push(
                "Bold: significant positive; shaded: significant negative (5% level).".to_string(),
            );
        }
        if let Some((lo, hi)) = self.base_range {
            notes.push(if lo == hi {
                format!("Base: n = {lo:.0}.")
            } else {
                format!("Base: n = {lo:.0} to {hi:.0} respondents per cell.")
            });
        }
        if self.suppressed_any {
            notes.push(format!(
                "\u{2013} Suppressed: fewer than {} respondents.",
                self.min_base
            ));
        }
        notes
    }
}

/// Whether disclosure control blanked the row (engine::disclosure).
fn marked(row: &Value) -> bool {
    row.get(super::disclosure::COLUMN) == Some(&Value::Bool(true))
}

fn text_cell(t: &str) -> Cell {
    Cell {
        text: t.to_string(),
        numeric: false,
        emphasis: Emphasis::None,
        suppressed: false,
    }
}

fn suppressed_cell() -> Cell {
    Cell {
        text: "\u{2013}".into(),
        numeric: true,
        emphasis: Emphasis::None,
        suppressed: true,
    }
}

/// "ci_low" -> "Ci low"; known names get their usual headings.
pub fn default_label(c: &str) -> String {
    match c {
        "n" => "n".into(),
        "p" => "p".into(),
        "estimate" => "Estimate".into(),
        "ci_low" => "95% CI low".into(),
        "ci_high" => "95% CI high".into(),
        "se" => "SE".into(),
        "r2" => "R²".into(),
        "adj_r2" => "Adjusted R²".into(),
        "f" => "F".into(),
        "f_p" => "p (F)".into(),
        "df_model" => "df (model)".into(),
        "df_resid" => "df (residual)".into(),
        "column_pct" => "Column %".into(),
        "chi2_p" => "p (χ²)".into(),
        "cramers_v" => "Cramér's V".into(),
        "x" | "variable" | "measure" | "role" => "Measure".into(),
        "y" => "Outcome".into(),
        _ => {
            let s = c.replace("__", ": ").replace('_', " ");
            let mut ch = s.chars();
            ch.next().map_or(String::new(), |f| {
                f.to_uppercase().collect::<String>() + ch.as_str()
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_a_reader_expects() {
        let f = |v: Value, fmt: Option<&str>, d: Option<usize>| format_value(&v, fmt, d);
        assert_eq!(f(serde_json::json!(0.4567), Some("pct"), None), "46");
        assert_eq!(f(serde_json::json!(0.4567), Some("pct"), Some(1)), "45.7");
        // a true minus sign, and no "-0" for a value that rounds to zero
        assert_eq!(
            f(serde_json::json!(-0.25), Some("num"), None),
            "\u{2212}0.25"
        );
        assert_eq!(f(serde_json::json!(-0.0004), Some("num"), None), "0.00");
        assert_eq!(f(serde_json::json!(0.0004), Some("p"), None), "<0.001");
        assert_eq!(f(serde_json::json!(0.0123), Some("p"), None), "0.012");
        assert_eq!(f(serde_json::json!(12), None, None), "12");
        assert_eq!(f(Value::Null, Some("num"), None), "");
        assert_eq!(
            f(serde_json::json!("Bristol"), Some("num"), None),
            "Bristol"
        );
    }

    #[test]
    fn stars_and_emphasis_follow_the_p_value() {
        assert_eq!(stars_for(&serde_json::json!(0.009)), "**");
        assert_eq!(stars_for(&serde_json::json!(0.049)), "*");
        assert_eq!(stars_for(&serde_json::json!(0.05)), "");
        assert_eq!(stars_for(&Value::Null), "");
        let e = EmphasisSpec {
            value: "r".into(),
            p: "p".into(),
            alpha: 0.05,
        };
        let row = |r: f64, p: f64| serde_json::json!({ "r": r, "p": p });
        assert_eq!(emphasis_for(&row(0.2, 0.01), Some(&e)), Emphasis::Bold);
        assert_eq!(emphasis_for(&row(-0.2, 0.01), Some(&e)), Emphasis::Shade);
        assert_eq!(emphasis_for(&row(0.2, 0.2), Some(&e)), Emphasis::None);
        assert_eq!(emphasis_for(&row(0.2, 0.01), None), Emphasis::None);
    }
}
