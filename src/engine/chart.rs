//! `{chart}`: draws a frame. Kinds: `bar` (grouped bars with interval
//! whiskers), `line` (a rate across ordered categories), `heatmap`
//! (correlates x area-theme, diverging colours, r and stars printed),
//! `forest` (effects with intervals and a zero line), `likert` (100%
//! stacked answers of items, don't know apart) and `scatter` (with an
//! optional fitted line). Every figure gets alt text (given or generated
//! from the data) and the data behind it.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::{BlockOutput, Context, Diagnostic, Engine, FigureOut, Warned, frames};
use crate::chart::{self, BarChart, ForestRow, HeatMap, LikertItem, Series};
use crate::document::Block;

/// The chart engine.
pub struct ChartBlock;

/// Chart kinds.
pub const KINDS: [&str; 6] = ["bar", "line", "heatmap", "forest", "likert", "scatter"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(default = "bar")]
    kind: String,
    data: Option<String>,
    x: Option<Names>,
    y: Option<String>,
    group: Option<String>,
    ci: Option<(String, String)>,
    #[serde(default)]
    percent: bool,
    #[serde(default)]
    title: String,
    xlabel: Option<String>,
    ylabel: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    /// heatmap: the row column and the column-key columns.
    rows: Option<String>,
    columns: Option<Names>,
    /// heatmap / forest: the value column (default `estimate`) and p column.
    value: Option<String>,
    p: Option<String>,
    /// forest: label columns.
    label: Option<Names>,
    /// likert: item variables of the codebook, optionally for one area.
    items: Option<Vec<String>>,
    area: Option<String>,
    /// scatter: draw the least-squares line.
    #[serde(default)]
    fit: bool,
    /// bar / line: order categories by the first series' value.
    sort: Option<String>,
    /// bar / line: fixed y axis range, in data units.
    limits: Option<(f64, f64)>,
    /// bar: a column of reference values drawn as a marker on each bar.
    marker: Option<String>,
    /// bar: legend name of the markers (default "Published").
    marker_label: Option<String>,
    /// bar / line: notes over categories.
    #[serde(default)]
    annotate: Vec<Annotation>,
    /// bar / line: one panel per value of this column.
    facet: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Annotation {
    x: String,
    text: String,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    fn list(&self) -> Vec<String> {
        match self {
            Names::One(x) => vec![x.clone()],
            Names::Many(v) => v.clone(),
        }
    }
}

fn bar() -> String {
    "bar".into()
}

fn need<'a, T>(
    v: &'a Option<T>,
    what: &str,
    kind: &str,
    block: &Block,
) -> Result<&'a T, Diagnostic> {
    v.as_ref().ok_or_else(|| {
        Diagnostic::error(format!("a `{kind}` chart needs `{what}`")).point(block.body_offset)
    })
}

impl Engine for ChartBlock {
    fn name(&self) -> &'static str {
        "chart"
    }

    fn label(&self) -> Option<super::LabelKind> {
        Some(super::LabelKind {
            prefix: "fig",
            word: "Figure",
        })
    }

    fn settings(&self, ctx: &Context) -> Vec<(String, String)> {
        vec![("chart style".into(), format!("{:?}", ctx.chart_style))]
    }

    fn reads(&self, _block: &Block, body: &str, _ctx: &Context) -> Vec<String> {
        let mut r = super::data_key(body);
        if r.is_empty() {
            r.push("respondents".into());
        }
        r
    }

    fn run(
        &self,
        block: &Block,
        body: &str,
        ctx: &Context,
    ) -> Result<Warned<BlockOutput>, Diagnostic> {
        self.draw(block, body, ctx).map_err(|e| {
            let suppressed = super::data_key(body).first().and_then(|d| ctx.frames.get(d)).is_some_and(|n| {
                n.frame.column(super::disclosure::COLUMN).is_ok()
            });
            if e.message.starts_with("nothing to draw") && suppressed {
                e.hint(format!(
                    "values resting on fewer than {} respondents are suppressed (front matter `disclosure.min_base`)",
                    ctx.min_base
                ))
            } else {
                e
            }
        })
    }
}

impl ChartBlock {
    fn draw(
        &self,
        block: &Block,
        body: &str,
        ctx: &Context,
    ) -> Result<Warned<BlockOutput>, Diagnostic> {
        let spec: Spec = super::parse_spec("chart", block, body)?;
        if !KINDS.contains(&spec.kind.as_str()) {
            let e = Diagnostic::error(format!("unknown chart kind `{}`", spec.kind))
                .with_span(super::spans::SpecSpans::of(block).best(Some("kind"), &spec.kind));
            return Err(e.suggest(&spec.kind, &KINDS, "kinds"));
        }
        if spec.kind == "likert" {
            return likert(&spec, block, ctx);
        }
        let data = need(&spec.data, "data", &spec.kind, block)?;
        let named = ctx.frame(data, block)?;
        let df = &named.frame;
        let columns: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        // every column the spec names, with the key naming it
        let mut wanted: Vec<(&str, String)> = Vec::new();
        let mut want = |key: &'static str, names: Vec<String>| {
            wanted.extend(names.into_iter().map(|n| (key, n)));
        };
        want("x", spec.x.iter().flat_map(Names::list).collect());
        want("y", spec.y.iter().cloned().collect());
        want("group", spec.group.iter().cloned().collect());
        want(
            "ci",
            spec.ci
                .iter()
                .flat_map(|(a, b)| [a.clone(), b.clone()])
                .collect(),
        );
        want("rows", spec.rows.iter().cloned().collect());
        want(
            "columns",
            spec.columns.iter().flat_map(Names::list).collect(),
        );
        want("value", spec.value.iter().cloned().collect());
        want("p", spec.p.iter().cloned().collect());
        want("label", spec.label.iter().flat_map(Names::list).collect());
        want("marker", spec.marker.iter().cloned().collect());
        want("facet", spec.facet.iter().cloned().collect());
        for (key, c) in &wanted {
            if !columns.contains(c) {
                let refs: Vec<&str> = columns.iter().map(String::as_str).collect();
                let e = Diagnostic::error(format!("frame `{data}` has no column `{c}`"))
                    .with_span(super::spans::SpecSpans::of(block).best(Some(key), c));
                return Err(e.suggest(c, &refs, "columns"));
            }
        }
        let themes: BTreeMap<&str, &str> = ctx
            .survey
            .codebook
            .themes
            .iter()
            .map(|t| (t.id.as_str(), t.label.as_str()))
            .collect();
        let rows = frames::rows(df);
        if rows.is_empty() {
            return Err(Diagnostic::error(format!(
                "nothing to draw: frame `{data}` has no rows"
            ))
            .point(block.body_offset)
            .hint("check the filter of the block that made it (an area or theme with no answers?)"));
        }
        for (what, names) in [
            ("x", &spec.x),
            ("columns", &spec.columns),
            ("label", &spec.label),
        ] {
            if names.as_ref().is_some_and(|n| n.list().is_empty()) {
                return Err(
                    Diagnostic::error(format!("`{what}` names no column")).with_span(
                        super::spans::SpecSpans::of(block)
                            .value(what)
                            .unwrap_or(block.body_offset..block.body_offset),
                    ),
                );
            }
        }
        let drawing = Drawing {
            spec: &spec,
            block,
            rows,
            themes,
            value_col: spec.value.clone().unwrap_or_else(|| "estimate".into()),
        };
        let (svg, alt) = match spec.kind.as_str() {
            "heatmap" => drawing.heatmap()?,
            "forest" => drawing.forest()?,
            "scatter" => drawing.scatter()?,
            _ => drawing.bars()?,
        };
        Ok(Warned::new(BlockOutput::Figure(FigureOut {
            label: block.option_str("label").map(str::to_string),
            number: None,
            caption: with_suppression_note(block.option_str("caption"), df, ctx.min_base),
            data: Some(data.clone()),
            alt: block.option_str("alt").map(str::to_string).unwrap_or(alt),
            svg: ctx.chart_style.apply(svg),
            csv: frames::to_csv(df),
        })))
    }
}

/// One chart being drawn: its spec, the rows of its frame and how values
/// print; one method per kind returns the SVG and its alt text.
struct Drawing<'a> {
    spec: &'a Spec,
    block: &'a Block,
    rows: Vec<Value>,
    themes: BTreeMap<&'a str, &'a str>,
    value_col: String,
}

impl Drawing<'_> {
    /// A value as the chart prints it: theme labels, readable measure names.
    fn text(&self, col: &str, v: Option<&Value>) -> String {
        match v {
            Some(Value::String(s)) if col == "theme" => self
                .themes
                .get(s.as_str())
                .map_or(s.clone(), |l| l.to_string()),
            Some(Value::String(s)) if super::labels::holds_measures(col) => {
                super::labels::measure(s)
            }
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => "(missing)".into(),
            Some(other) => other.to_string(),
        }
    }

    /// The printed values of some columns of a row, joined.
    fn key(&self, r: &Value, cols: &[String], sep: &str) -> String {
        cols.iter()
            .map(|c| self.text(c, r.get(c)))
            .collect::<Vec<_>>()
            .join(sep)
    }

    fn heatmap(&self) -> Result<(String, String), Diagnostic> {
        Ok({
            let row_col = need(&self.spec.rows, "rows", "heatmap", self.block)?.clone();
            let col_cols = need(&self.spec.columns, "columns", "heatmap", self.block)?.list();
            let mut row_keys: Vec<String> = Vec::new();
            let mut col_keys: Vec<String> = Vec::new();
            for r in &self.rows {
                let rk = self.text(&row_col, r.get(&row_col));
                let ck = self.key(r, &col_cols, "\n");
                if !row_keys.contains(&rk) {
                    row_keys.push(rk);
                }
                if !col_keys.contains(&ck) {
                    col_keys.push(ck);
                }
            }
            let mut cells = vec![vec![None; col_keys.len()]; row_keys.len()];
            for r in &self.rows {
                let ri = row_keys
                    .iter()
                    .position(|k| *k == self.text(&row_col, r.get(&row_col)))
                    .unwrap_or(0);
                let ci = col_keys
                    .iter()
                    .position(|k| *k == self.key(r, &col_cols, "\n"))
                    .unwrap_or(0);
                if let Some(v) = r.get(&self.value_col).and_then(Value::as_f64) {
                    let stars = self
                        .spec
                        .p
                        .as_ref()
                        .and_then(|p| r.get(p))
                        .and_then(Value::as_f64)
                        .map_or("", crate::stats::stars);
                    cells[ri][ci] = Some((
                        v,
                        format!(
                            "{}{stars}",
                            super::table::format_value(
                                r.get(&self.value_col).unwrap_or(&Value::Null),
                                Some("num"),
                                Some(2)
                            )
                        ),
                    ));
                }
            }
            // significance from the p-values themselves, not the printed stars
            let significant: Vec<f64> = self
                .rows
                .iter()
                .filter_map(|r| {
                    let v = r.get(&self.value_col).and_then(Value::as_f64)?;
                    let p = r.get(self.spec.p.as_ref()?).and_then(Value::as_f64)?;
                    (p < 0.05).then_some(v)
                })
                .collect();
            let positive = significant.iter().filter(|v| **v > 0.0).count();
            let negative = significant.iter().filter(|v| **v < 0.0).count();
            let total = cells.iter().flatten().flatten().count();
            let alt = format!(
                "Heat map of {} by {} for {} correlates and {} columns: {positive} significant positive and {negative} significant negative of {total} values; blank cells were not asked.",
                super::labels::measure(&self.value_col).to_lowercase(),
                col_cols.join(" and "),
                row_keys.len(),
                col_keys.len()
            );
            let h = HeatMap {
                rows: row_keys,
                columns: col_keys,
                cells,
            };
            (
                chart::heatmap(&h)
                    .map_err(|e| Diagnostic::error(e.0).point(self.block.body_offset))?,
                alt,
            )
        })
    }

    fn forest(&self) -> Result<(String, String), Diagnostic> {
        Ok({
            let label_cols = need(&self.spec.label, "label", "forest", self.block)?.list();
            let (lo, hi) = need(&self.spec.ci, "ci", "forest", self.block)?.clone();
            let out: Vec<ForestRow> = self
                .rows
                .iter()
                .filter_map(|r| {
                    Some(ForestRow {
                        label: self.key(r, &label_cols, " \u{b7} "),
                        estimate: r.get(&self.value_col)?.as_f64()?,
                        low: r.get(&lo)?.as_f64()?,
                        high: r.get(&hi)?.as_f64()?,
                        significant: self
                            .spec
                            .p
                            .as_ref()
                            .and_then(|p| r.get(p))
                            .and_then(Value::as_f64)
                            .is_some_and(|p| p < 0.05),
                    })
                })
                .collect();
            let sig = out.iter().filter(|r| r.significant).count();
            let alt = format!(
                "Forest plot of {} effects with 95% intervals around a zero line; {sig} of {} are significant at 5% (filled points).",
                out.len(),
                out.len()
            );
            let scale = if self.spec.percent { 100.0 } else { 1.0 };
            let xl = self.spec.xlabel.clone().unwrap_or_else(|| {
                if self.spec.percent {
                    "Effect (percentage points)".into()
                } else {
                    self.value_col.clone()
                }
            });
            (
                chart::forest(&out, &xl, scale)
                    .map_err(|e| Diagnostic::error(e.0).point(self.block.body_offset))?,
                alt,
            )
        })
    }

    fn scatter(&self) -> Result<(String, String), Diagnostic> {
        Ok({
            let xs = need(&self.spec.x, "x", "scatter", self.block)?.list();
            let y = need(&self.spec.y, "y", "scatter", self.block)?.clone();
            let pts: Vec<(f64, f64)> = self
                .rows
                .iter()
                .filter_map(|r| Some((r.get(&xs[0])?.as_f64()?, r.get(&y)?.as_f64()?)))
                .collect();
            let alt = format!(
                "Scatter plot of {} against {} for {} points{}.",
                y,
                xs[0],
                pts.len(),
                if self.spec.fit {
                    " with a least-squares line"
                } else {
                    ""
                }
            );
            let svg = chart::scatter(
                &pts,
                self.spec.xlabel.as_deref().unwrap_or(&xs[0]),
                self.spec.ylabel.as_deref().unwrap_or(&y),
                self.spec.fit,
            )
            .map_err(|e| Diagnostic::error(e.0).point(self.block.body_offset))?;
            (svg, alt)
        })
    }

    fn bars(&self) -> Result<(String, String), Diagnostic> {
        Ok({
            let xs = need(&self.spec.x, "x", &self.spec.kind, self.block)?.list();
            let y = need(&self.spec.y, "y", &self.spec.kind, self.block)?.clone();
            // one panel per facet value (a single panel without `facet`)
            let mut facets: Vec<String> = Vec::new();
            for r in &self.rows {
                let f = self
                    .spec
                    .facet
                    .as_ref()
                    .map_or(String::new(), |f| self.text(f, r.get(f)));
                if !facets.contains(&f) {
                    facets.push(f);
                }
            }
            let mut panels = Vec::new();
            let mut alts = Vec::new();
            for facet in &facets {
                let part: Vec<&Value> = self
                    .rows
                    .iter()
                    .filter(|r| {
                        self.spec
                            .facet
                            .as_ref()
                            .is_none_or(|f| self.text(f, r.get(f)) == *facet)
                    })
                    .collect();
                let chart = bar_chart(
                    self.spec,
                    &part,
                    &xs,
                    &y,
                    &|r: &Value, cols: &[String], sep: &str| self.key(r, cols, sep),
                    &|c: &str, v: Option<&Value>| self.text(c, v),
                    facet,
                )?;
                let svg = if self.spec.kind == "line" {
                    chart::line(
                        &chart.categories,
                        &chart.series,
                        &chart.y_label,
                        chart.percent,
                    )
                } else {
                    chart::bar(&chart)
                }
                .map_err(|e| {
                    Diagnostic::error(if facet.is_empty() {
                        e.0
                    } else {
                        format!("{} (panel {facet})", e.0)
                    })
                    .point(self.block.body_offset)
                })?;
                panels.push(svg);
                let d = describe(&chart, &y).replacen(
                    "Bar chart",
                    if self.spec.kind == "line" {
                        "Line chart"
                    } else {
                        "Bar chart"
                    },
                    1,
                );
                alts.push(if facet.is_empty() {
                    d
                } else {
                    format!("{facet}: {d}")
                });
            }
            let kind_name = if self.spec.kind == "line" {
                "Line chart"
            } else {
                "Bar chart"
            };
            let alt = if panels.len() == 1 {
                alts.join(" ")
            } else {
                format!(
                    "{kind_name} in {} panels, one per {}. {}",
                    panels.len(),
                    self.spec.facet.as_deref().unwrap_or(""),
                    alts.join(" ")
                )
            };
            let svg = if panels.len() == 1 {
                panels.remove(0)
            } else {
                chart::stack(&panels)
            };
            (svg, alt)
        })
    }
}

/// The bar (or line) chart of some rows: categories from `xs`, one series
/// per `group` value, intervals, markers, sorting, limits and annotations.
fn bar_chart(
    spec: &Spec,
    rows: &[&Value],
    xs: &[String],
    y: &str,
    key: &dyn Fn(&Value, &[String], &str) -> String,
    text: &dyn Fn(&str, Option<&Value>) -> String,
    facet: &str,
) -> Result<BarChart, Diagnostic> {
    let mut categories: Vec<String> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    for r in rows {
        let cat = key(r, xs, "\n");
        if !categories.contains(&cat) {
            categories.push(cat);
        }
        let g = spec
            .group
            .as_ref()
            .map_or(String::new(), |g| text(g, r.get(g)));
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    let blank = || vec![None; categories.len()];
    let mut series: Vec<Series> = groups
        .iter()
        .map(|g| Series {
            name: g.clone(),
            values: blank(),
            intervals: spec.ci.as_ref().map(|_| vec![None; categories.len()]),
        })
        .collect();
    let mut markers: Vec<Vec<Option<f64>>> = groups.iter().map(|_| blank()).collect();
    for r in rows {
        let ci = categories
            .iter()
            .position(|c| *c == key(r, xs, "\n"))
            .unwrap_or(0);
        let g = spec
            .group
            .as_ref()
            .map_or(String::new(), |g| text(g, r.get(g)));
        let si = groups.iter().position(|x| *x == g).unwrap_or(0);
        series[si].values[ci] = r.get(y).and_then(Value::as_f64);
        if let (Some((lo, hi)), Some(iv)) = (&spec.ci, series[si].intervals.as_mut()) {
            iv[ci] = r
                .get(lo)
                .and_then(Value::as_f64)
                .zip(r.get(hi).and_then(Value::as_f64));
        }
        if let Some(m) = &spec.marker {
            markers[si][ci] = r.get(m).and_then(Value::as_f64);
        }
    }
    if let Some(order) = &spec.sort {
        let descending = match order.as_str() {
            "descending" | "desc" => true,
            "ascending" | "asc" => false,
            other => {
                return Err(Diagnostic::error(format!("unknown sort `{other}`"))
                    .hint("use ascending or descending"));
            }
        };
        let mut idx: Vec<usize> = (0..categories.len()).collect();
        let v = |i: usize| series[0].values[i].unwrap_or(f64::NEG_INFINITY);
        idx.sort_by(|a, b| {
            if descending {
                v(*b).total_cmp(&v(*a))
            } else {
                v(*a).total_cmp(&v(*b))
            }
        });
        let reorder = |xs: &[Option<f64>]| idx.iter().map(|i| xs[*i]).collect::<Vec<_>>();
        categories = idx.iter().map(|i| categories[*i].clone()).collect();
        for s in &mut series {
            s.values = reorder(&s.values);
            if let Some(iv) = &s.intervals {
                s.intervals = Some(idx.iter().map(|i| iv[*i]).collect());
            }
        }
        for m in &mut markers {
            *m = reorder(m);
        }
    }
    let annotations = spec
        .annotate
        .iter()
        .filter_map(|a| {
            categories
                .iter()
                .position(|c| c.replace('\n', " ") == a.x)
                .map(|i| (i, a.text.clone()))
        })
        .collect();
    Ok(BarChart {
        title: if facet.is_empty() {
            spec.title.clone()
        } else {
            facet.to_string()
        },
        categories,
        series,
        y_label: spec.ylabel.clone().unwrap_or_else(|| {
            if spec.percent {
                "%".into()
            } else {
                y.to_string()
            }
        }),
        percent: spec.percent,
        size: (spec.width.unwrap_or(760), spec.height.unwrap_or(420)),
        limits: spec.limits,
        markers: spec.marker.as_ref().map(|_| markers),
        marker_label: spec
            .marker_label
            .clone()
            .unwrap_or_else(|| "Published".into()),
        annotations,
    })
}

/// Stacked Likert bars of codebook items from the respondent frame.
fn likert(spec: &Spec, block: &Block, ctx: &Context) -> Result<Warned<BlockOutput>, Diagnostic> {
    let items = need(&spec.items, "items", "likert", block)?;
    let cb = &ctx.survey.codebook;
    let resp = &ctx.survey.respondents;
    let area_col: Vec<Option<String>> = resp
        .column("area")
        .ok()
        .and_then(|c| {
            c.str()
                .ok()
                .map(|s| s.iter().map(|v| v.map(str::to_string)).collect())
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut categories: Option<(String, Vec<String>)> = None;
    // the data behind the chart: one row per item and answer
    let (mut item_col, mut answer_col, mut share_col) = (Vec::new(), Vec::new(), Vec::new());
    for name in items {
        let Some(var) = cb.variable(name) else {
            let names: Vec<&str> = cb.variables.iter().map(|v| v.name.as_str()).collect();
            let e = Diagnostic::error(format!("the codebook has no variable `{name}`"))
                .with_span(super::spans::SpecSpans::of(block).best(Some("items"), name));
            return Err(e.suggest(name, &names, ""));
        };
        let Some(set) = cb.values_of(var) else {
            continue;
        };
        let cats: Vec<i64> = set
            .labels
            .keys()
            .copied()
            .filter(|c| set.score(*c).is_some())
            .collect();
        let names: Vec<String> = cats.iter().map(|c| set.labels[c].clone()).collect();
        match &categories {
            None => categories = Some((var.values.clone().unwrap_or_default(), names.clone())),
            Some((vs, _)) if Some(vs) != var.values.as_ref() => {
                return Err(Diagnostic::error(format!(
                    "likert items must share one value set; `{name}` uses `{}`",
                    var.values.as_deref().unwrap_or("?")
                ))
                .point(block.body_offset));
            }
            _ => {}
        }
        let codes: Vec<Option<f64>> = resp
            .column(name)
            .ok()
            .and_then(|c| c.f64().ok().map(|f| f.iter().collect()))
            .unwrap_or_default();
        let mut counts = vec![0usize; cats.len()];
        let (mut dk, mut asked) = (0usize, 0usize);
        for (i, c) in codes.iter().enumerate() {
            if spec
                .area
                .as_ref()
                .is_some_and(|a| area_col.get(i).and_then(|x| x.as_ref()) != Some(a))
            {
                continue;
            }
            let Some(c) = c else { continue };
            asked += 1;
            let c = *c as i64;
            if set.dont_know.contains(&c) {
                dk += 1;
            } else if let Some(k) = cats.iter().position(|x| *x == c) {
                counts[k] += 1;
            }
        }
        let answered: usize = counts.iter().sum();
        if answered == 0 {
            continue;
        }
        let shares: Vec<f64> = counts.iter().map(|k| *k as f64 / answered as f64).collect();
        for (n, s) in names.iter().zip(&shares) {
            item_col.push(name.clone());
            answer_col.push(n.clone());
            share_col.push(*s);
        }
        item_col.push(name.clone());
        answer_col.push("Don't know".to_string());
        share_col.push(dk as f64 / asked as f64);
        out.push(LikertItem {
            label: var.label.clone(),
            shares,
            dont_know: dk as f64 / asked as f64,
        });
    }
    let (_, cats) = categories.unwrap_or_default();
    let behind = polars::prelude::DataFrame::new(
        item_col.len(),
        vec![
            polars::prelude::Column::new("item".into(), item_col),
            polars::prelude::Column::new("answer".into(), answer_col),
            polars::prelude::Column::new("share".into(), share_col),
        ],
    )
    .map_err(|e| Diagnostic::error(e.to_string()).point(block.body_offset))?;
    let csv = frames::to_csv(&behind);
    let svg =
        chart::likert(&out, &cats).map_err(|e| Diagnostic::error(e.0).point(block.body_offset))?;
    let alt = format!(
        "Stacked bars of the answers to {} items{}, each 100% of those answering, with the share answering don't know shown apart.",
        out.len(),
        spec.area
            .as_ref()
            .map_or(String::new(), |a| format!(" in {a}"))
    );
    Ok(Warned::new(BlockOutput::Figure(FigureOut {
        label: block.option_str("label").map(str::to_string),
        number: None,
        caption: block.option_str("caption").map(str::to_string),
        data: None,
        alt: block.option_str("alt").map(str::to_string).unwrap_or(alt),
        svg: ctx.chart_style.apply(svg),
        csv,
    })))
}

/// The caption, with a sentence saying that values were withheld when the
/// frame has suppressed rows (a missing bar must not read as zero).
fn with_suppression_note(
    caption: Option<&str>,
    df: &polars::prelude::DataFrame,
    min_base: u32,
) -> Option<String> {
    let withheld = df
        .column(super::disclosure::COLUMN)
        .ok()
        .and_then(|c| c.bool().ok().map(|b| b.sum().unwrap_or(0)))
        .unwrap_or(0);
    if withheld == 0 {
        return caption.map(str::to_string);
    }
    let note = format!(
        "{withheld} value{} not shown: fewer than {min_base} respondents.",
        if withheld == 1 { "" } else { "s" }
    );
    Some(match caption {
        Some(c) => {
            let c = c.trim_end();
            let stop = if c.ends_with(['.', '!', '?']) {
                ""
            } else {
                "."
            };
            format!("{c}{stop} {note}")
        }
        None => note,
    })
}

fn describe(chart: &BarChart, y: &str) -> String {
    let fmt = |v: f64| {
        if chart.percent {
            format!("{:.0}%", v * 100.0)
        } else {
            format!("{v:.2}")
        }
    };
    let mut bars: Vec<(f64, String)> = Vec::new();
    for s in &chart.series {
        for (c, v) in chart.categories.iter().zip(&s.values) {
            if let Some(v) = v {
                let who = if s.name.is_empty() {
                    c.replace('\n', " ")
                } else {
                    format!("{} ({})", c.replace('\n', " "), s.name)
                };
                bars.push((*v, who));
            }
        }
    }
    bars.sort_by(|a, b| b.0.total_cmp(&a.0));
    let series: Vec<&str> = chart
        .series
        .iter()
        .map(|s| s.name.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    let mut text = format!("Bar chart of {y} for {} categories", chart.categories.len());
    if !series.is_empty() {
        text.push_str(&format!(", comparing {}", series.join(" and ")));
    }
    if let (Some(first), Some(last)) = (bars.first(), bars.last()) {
        text.push_str(&format!(
            ". Highest: {} at {}; lowest: {} at {}.",
            first.1,
            fmt(first.0),
            last.1,
            fmt(last.0)
        ));
    }
    text
}
