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

/// A `{chart}` spec: one type per kind, each with only its own keys
/// (`kind` defaults to `bar`; an unknown key is an error that lists the
/// kind's keys).
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Spec {
    Bar(Bars),
    Line(Bars),
    Heatmap(Heat),
    Forest(Forest),
    Likert(Likert),
    Scatter(Scatter),
}

/// `bar` and `line`: a value per category, grouped, with intervals.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bars {
    data: String,
    x: Names,
    y: String,
    group: Option<String>,
    ci: Option<(String, String)>,
    #[serde(default)]
    percent: bool,
    #[serde(default)]
    title: String,
    ylabel: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    /// Order categories by the first series' value.
    sort: Option<String>,
    /// Fixed y axis range, in data units.
    limits: Option<(f64, f64)>,
    /// A column of reference values drawn as a marker on each bar.
    marker: Option<String>,
    /// Legend name of the markers (default "Published").
    marker_label: Option<String>,
    /// Notes over categories.
    #[serde(default)]
    annotate: Vec<Annotation>,
    /// One panel per value of this column.
    facet: Option<String>,
}

/// `heatmap`: the row column, the column-key columns, value and p.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Heat {
    data: String,
    rows: String,
    columns: Names,
    value: Option<String>,
    p: Option<String>,
}

/// `forest`: effects with intervals around zero.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Forest {
    data: String,
    label: Names,
    ci: (String, String),
    value: Option<String>,
    p: Option<String>,
    #[serde(default)]
    percent: bool,
    xlabel: Option<String>,
}

/// `likert`: item variables of the codebook, optionally for one area.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Likert {
    items: Vec<String>,
    area: Option<String>,
}

/// `scatter`: two columns, with an optional least-squares line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scatter {
    data: String,
    x: String,
    y: String,
    xlabel: Option<String>,
    ylabel: Option<String>,
    #[serde(default)]
    fit: bool,
}

/// The keys each kind takes (for the hint on an unknown key).
fn keys_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "bar" | "line" => &[
            "data",
            "x",
            "y",
            "group",
            "ci",
            "percent",
            "title",
            "ylabel",
            "width",
            "height",
            "sort",
            "limits",
            "marker",
            "marker_label",
            "annotate",
            "facet",
        ],
        "heatmap" => &["data", "rows", "columns", "value", "p"],
        "forest" => &["data", "label", "ci", "value", "p", "percent", "xlabel"],
        "likert" => &["items", "area"],
        _ => &["data", "x", "y", "xlabel", "ylabel", "fit"],
    }
}

impl Spec {
    /// The frame it draws (none for `likert`, which reads the codebook items).
    fn data(&self) -> Option<&str> {
        match self {
            Spec::Bar(s) | Spec::Line(s) => Some(&s.data),
            Spec::Heatmap(s) => Some(&s.data),
            Spec::Forest(s) => Some(&s.data),
            Spec::Scatter(s) => Some(&s.data),
            Spec::Likert(_) => None,
        }
    }

    /// Every column it names, with the key naming it.
    fn columns(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = Vec::new();
        let mut add = |k: &'static str, names: Vec<String>| {
            out.extend(names.into_iter().map(|c| (k, c)));
        };
        let opt = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
        let pair = |v: &Option<(String, String)>| {
            v.iter()
                .flat_map(|(a, b)| [a.clone(), b.clone()])
                .collect::<Vec<_>>()
        };
        match self {
            Spec::Bar(s) | Spec::Line(s) => {
                add("x", s.x.list());
                add("y", vec![s.y.clone()]);
                add("group", opt(&s.group));
                add("ci", pair(&s.ci));
                add("marker", opt(&s.marker));
                add("facet", opt(&s.facet));
            }
            Spec::Heatmap(s) => {
                add("rows", vec![s.rows.clone()]);
                add("columns", s.columns.list());
                add("value", opt(&s.value));
                add("p", opt(&s.p));
            }
            Spec::Forest(s) => {
                add("label", s.label.list());
                add("ci", vec![s.ci.0.clone(), s.ci.1.clone()]);
                add("value", opt(&s.value));
                add("p", opt(&s.p));
            }
            Spec::Scatter(s) => {
                add("x", vec![s.x.clone()]);
                add("y", vec![s.y.clone()]);
            }
            Spec::Likert(_) => {}
        }
        out
    }

    /// Keys that name columns, for the "names no column" check.
    fn lists(&self) -> Vec<(&'static str, &Names)> {
        match self {
            Spec::Bar(s) | Spec::Line(s) => vec![("x", &s.x)],
            Spec::Heatmap(s) => vec![("columns", &s.columns)],
            Spec::Forest(s) => vec![("label", &s.label)],
            _ => Vec::new(),
        }
    }
}

/// Parses a chart spec: `kind` first (default `bar`, an unknown kind is
/// named with the kinds there are), then the kind's own keys.
fn parse(block: &Block, body: &str) -> Result<Spec, Diagnostic> {
    // where keys are, found only when there is an error to place
    let spans = || super::spans::SpecSpans::of(block);
    let keys: BTreeMap<String, Value> =
        crate::yaml::from_str(body).map_err(|e| super::spec_error("chart", block, &e))?;
    let kind = match keys.get("kind") {
        None => "bar".to_string(),
        Some(Value::String(k)) => k.clone(),
        Some(other) => other.to_string(),
    };
    if !KINDS.contains(&kind.as_str()) {
        let e = Diagnostic::error(format!("unknown chart kind `{kind}`"))
            .with_span(spans().best(Some("kind"), &kind));
        return Err(e.suggest(&kind, &KINDS, "kinds"));
    }
    let allowed = keys_of(&kind);
    if let Some(bad) = keys
        .keys()
        .find(|k| *k != "kind" && !allowed.contains(&k.as_str()))
    {
        let e = Diagnostic::error(format!("a `{kind}` chart has no key `{bad}`")).with_span(
            spans()
                .key(bad)
                .unwrap_or(block.body_offset..block.body_offset),
        );
        return Err(e
            .suggest(bad, allowed, "")
            .hint(format!("a `{kind}` chart takes: {}", allowed.join(", "))));
    }
    let parsed = if keys.contains_key("kind") {
        crate::yaml::from_str::<Spec>(body)
    } else {
        crate::yaml::from_str::<Bars>(body).map(Spec::Bar)
    };
    parsed.map_err(|e| {
        let d = super::spec_error("chart", block, &e);
        // "missing field `y`": the key is not there, point at the kind
        if let Some(field) = d.message.split("missing field `").nth(1) {
            let field = field.split('`').next().unwrap_or(field);
            let d = Diagnostic::error(format!("a `{kind}` chart needs `{field}`"));
            let at = spans()
                .value("kind")
                .unwrap_or(block.body_offset..block.body_offset);
            d.with_span(at)
                .hint(format!("a `{kind}` chart takes: {}", allowed.join(", ")))
        } else {
            d
        }
    })
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
        let spec = parse(block, body)?;
        let Some(data) = spec.data().map(str::to_string) else {
            let Spec::Likert(l) = &spec else {
                unreachable!("only likert charts read no frame")
            };
            return likert(l, block, ctx);
        };
        let named = ctx.frame(&data, block)?;
        let df = &named.frame;
        let columns: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        for (key, c) in spec.columns() {
            if !columns.contains(&c) {
                let refs: Vec<&str> = columns.iter().map(String::as_str).collect();
                let e = Diagnostic::error(format!("frame `{data}` has no column `{c}`"))
                    .with_span(super::spans::SpecSpans::of(block).best(Some(key), &c));
                return Err(e.suggest(&c, &refs, "columns"));
            }
        }
        let names = super::labels::Names::of(&ctx.survey.codebook);
        let rows = frames::rows(df);
        if rows.is_empty() {
            return Err(Diagnostic::error(format!(
                "nothing to draw: frame `{data}` has no rows"
            ))
            .point(block.body_offset)
            .hint("check the filter of the block that made it (an area or theme with no answers?)"));
        }
        for (what, names) in spec.lists() {
            if names.list().is_empty() {
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
            block,
            style: &ctx.chart_style,
            rows,
            names,
        };
        let Drawn { svg, alt, warnings } = match &spec {
            Spec::Heatmap(s) => drawing.heatmap(s)?,
            Spec::Forest(s) => drawing.forest(s)?,
            Spec::Scatter(s) => drawing.scatter(s)?,
            Spec::Bar(s) => drawing.bars(s, false)?,
            Spec::Line(s) => drawing.bars(s, true)?,
            Spec::Likert(_) => unreachable!("drawn above"),
        };
        Ok(Warned {
            warnings,
            output: BlockOutput::Figure(FigureOut {
                label: block.option_str("label").map(str::to_string),
                number: None,
                caption: with_suppression_note(block.option_str("caption"), df, ctx.min_base),
                data: Some(data.clone()),
                alt: block.option_str("alt").map(str::to_string).unwrap_or(alt),
                svg,
                csv: frames::to_csv(df),
            }),
        })
    }
}

/// One chart being drawn: the rows of its frame and how values print; one
/// method per kind draws it from that kind's spec.
struct Drawing<'a> {
    block: &'a Block,
    /// The house style, passed into drawing.
    style: &'a chart::Style,
    rows: Vec<Value>,
    names: super::labels::Names,
}

/// A drawn chart: the SVG, its alt text, and warnings about rows it could
/// not draw.
struct Drawn {
    svg: String,
    alt: String,
    warnings: Vec<Diagnostic>,
}

impl Drawn {
    fn new(svg: String, alt: String) -> Self {
        Drawn {
            svg,
            alt,
            warnings: Vec::new(),
        }
    }
}

/// Whether a row was withheld by disclosure control (its caption says so).
fn withheld(r: &Value) -> bool {
    r.get(super::disclosure::COLUMN) == Some(&Value::Bool(true))
}

/// A warning for rows with values missing that a chart leaves out.
fn not_drawn(count: usize, what: &str) -> Option<Diagnostic> {
    (count > 0).then(|| {
        Diagnostic::warning(format!(
            "{count} row{} without {what} not drawn",
            if count == 1 { "" } else { "s" }
        ))
    })
}

impl Drawing<'_> {
    /// A value as the chart prints it: theme labels, readable measure names.
    fn text(&self, col: &str, v: Option<&Value>) -> String {
        match v {
            Some(Value::String(s)) if col == "theme" => self.names.theme(s),
            Some(Value::String(s)) if super::labels::holds_measures(col) => self.names.measure(s),
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

    fn heatmap(&self, spec: &Heat) -> Result<Drawn, Diagnostic> {
        let value_col = spec.value.as_deref().unwrap_or("estimate");
        Ok({
            let row_col = spec.rows.clone();
            let col_cols = spec.columns.list();
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
                if let Some(v) = r.get(value_col).and_then(Value::as_f64) {
                    let stars = spec
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
                                r.get(value_col).unwrap_or(&Value::Null),
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
                    let v = r.get(value_col).and_then(Value::as_f64)?;
                    let p = r.get(spec.p.as_ref()?).and_then(Value::as_f64)?;
                    (p < 0.05).then_some(v)
                })
                .collect();
            let positive = significant.iter().filter(|v| **v > 0.0).count();
            let negative = significant.iter().filter(|v| **v < 0.0).count();
            let total = cells.iter().flatten().flatten().count();
            let alt = format!(
                "Heat map of {} by {} for {} correlates and {} columns: {positive} significant positive and {negative} significant negative of {total} values; blank cells were not asked.",
                self.names.measure(value_col).to_lowercase(),
                col_cols
                    .iter()
                    .map(|c| super::table::default_label(c).to_lowercase())
                    .collect::<Vec<_>>()
                    .join(" and "),
                row_keys.len(),
                col_keys.len()
            );
            let h = HeatMap {
                rows: row_keys,
                columns: col_keys,
                cells,
            };
            Drawn::new(
                chart::heatmap(&h, self.style)
                    .map_err(|e| Diagnostic::error(e.0).point(self.block.body_offset))?,
                alt,
            )
        })
    }

    fn forest(&self, spec: &Forest) -> Result<Drawn, Diagnostic> {
        let value_col = spec.value.as_deref().unwrap_or("estimate");
        Ok({
            let label_cols = spec.label.list();
            let (lo, hi) = spec.ci.clone();
            let out: Vec<ForestRow> = self
                .rows
                .iter()
                .filter_map(|r| {
                    Some(ForestRow {
                        label: self.key(r, &label_cols, " \u{b7} "),
                        estimate: r.get(value_col)?.as_f64()?,
                        low: r.get(&lo)?.as_f64()?,
                        high: r.get(&hi)?.as_f64()?,
                        significant: spec
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
            let scale = if spec.percent { 100.0 } else { 1.0 };
            let xl = spec.xlabel.clone().unwrap_or_else(|| {
                if spec.percent {
                    "Effect (percentage points)".into()
                } else {
                    value_col.to_string()
                }
            });
            // rows withheld by disclosure control are counted in the caption
            let skipped = self
                .rows
                .iter()
                .filter(|r| !withheld(r))
                .count()
                .saturating_sub(out.len());
            Drawn {
                svg: chart::forest(&out, &xl, scale, self.style)
                    .map_err(|e| Diagnostic::error(e.0).point(self.block.body_offset))?,
                alt,
                warnings: not_drawn(skipped, "an estimate and interval")
                    .into_iter()
                    .collect(),
            }
        })
    }

    fn scatter(&self, spec: &Scatter) -> Result<Drawn, Diagnostic> {
        Ok({
            let xs = [spec.x.clone()];
            let y = spec.y.clone();
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
                if spec.fit {
                    " with a least-squares line"
                } else {
                    ""
                }
            );
            let svg = chart::scatter(
                &pts,
                spec.xlabel.as_deref().unwrap_or(&xs[0]),
                spec.ylabel.as_deref().unwrap_or(&y),
                spec.fit,
                self.style,
            )
            .map_err(|e| Diagnostic::error(e.0).point(self.block.body_offset))?;
            let kept = self.rows.iter().filter(|r| !withheld(r)).count();
            Drawn {
                svg,
                alt,
                warnings: not_drawn(kept.saturating_sub(pts.len()), "both values")
                    .into_iter()
                    .collect(),
            }
        })
    }

    fn bars(&self, spec: &Bars, line: bool) -> Result<Drawn, Diagnostic> {
        Ok({
            let xs = spec.x.list();
            let y = spec.y.clone();
            // one panel per facet value (a single panel without `facet`)
            let mut facets: Vec<String> = Vec::new();
            for r in &self.rows {
                let f = spec
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
                        spec.facet
                            .as_ref()
                            .is_none_or(|f| self.text(f, r.get(f)) == *facet)
                    })
                    .collect();
                let chart = bar_chart(
                    spec,
                    &part,
                    &xs,
                    &y,
                    &|r: &Value, cols: &[String], sep: &str| self.key(r, cols, sep),
                    &|c: &str, v: Option<&Value>| self.text(c, v),
                    facet,
                )?;
                let svg = if line {
                    chart::line(
                        &chart.categories,
                        &chart.series,
                        &chart.y_label,
                        chart.percent,
                        self.style,
                    )
                } else {
                    chart::bar(&chart, self.style)
                }
                .map_err(|e| {
                    Diagnostic::error(if facet.is_empty() {
                        e.0
                    } else {
                        format!("{} (panel {facet})", e.0)
                    })
                    .point(self.block.body_offset)
                })?;
                panels.push((
                    svg,
                    if line {
                        chart::LINE_SIZE
                    } else {
                        chart.drawn_size()
                    },
                ));
                let d = describe(&chart, &y, &xs).replacen(
                    "Bar chart",
                    if line { "Line chart" } else { "Bar chart" },
                    1,
                );
                alts.push(if facet.is_empty() {
                    d
                } else {
                    format!("{facet}: {d}")
                });
            }
            let kind_name = if line { "Line chart" } else { "Bar chart" };
            let alt = if panels.len() == 1 {
                alts.join(" ")
            } else {
                format!(
                    "{kind_name} in {} panels, one per {}. {}",
                    panels.len(),
                    spec.facet.as_deref().unwrap_or(""),
                    alts.join(" ")
                )
            };
            let svg = if panels.len() == 1 {
                panels.remove(0).0
            } else {
                chart::stack(&panels)
            };
            Drawn::new(svg, alt)
        })
    }
}

/// The bar (or line) chart of some rows: categories from `xs`, one series
/// per `group` value, intervals, markers, sorting, limits and annotations.
fn bar_chart(
    spec: &Bars,
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
fn likert(spec: &Likert, block: &Block, ctx: &Context) -> Result<Warned<BlockOutput>, Diagnostic> {
    let items = &spec.items;
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
    let svg = chart::likert(&out, &cats, &ctx.chart_style)
        .map_err(|e| Diagnostic::error(e.0).point(block.body_offset))?;
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
        svg,
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

/// Alt text of a bar or line chart: what is measured (the axis title, else
/// the column's heading), along what, and the extremes.
fn describe(chart: &BarChart, y: &str, xs: &[String]) -> String {
    let what = match chart.y_label.as_str() {
        "%" | "" => super::table::default_label(y),
        l => l.to_string(),
    };
    let along: Vec<String> = xs
        .iter()
        .map(|x| super::table::default_label(x).to_lowercase())
        .collect();
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
    let mut text = format!(
        "Bar chart of {} by {} ({} {})",
        what.to_lowercase(),
        along.join(" and "),
        chart.categories.len(),
        if chart.categories.len() == 1 {
            "category"
        } else {
            "categories"
        }
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields serde knows for a kind's spec type, read from its own
    /// "unknown field ..., expected one of ..." message.
    fn serde_fields<T: serde::de::DeserializeOwned>() -> Vec<String> {
        let Err(e) = crate::yaml::from_str::<T>("no_such_key: 1\n") else {
            panic!("an unknown key must be rejected");
        };
        let msg = e.to_string();
        let list = msg
            .split("expected one of ")
            .nth(1)
            .and_then(|l| l.lines().next())
            .unwrap_or_else(|| panic!("no field list in: {msg}"));
        list.split(',')
            .map(|f| f.trim().trim_matches('`').to_string())
            .collect()
    }

    #[test]
    fn the_keys_named_in_hints_are_the_fields_of_each_kind() {
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let listed = |k: &str| sorted(keys_of(k).iter().map(|s| s.to_string()).collect());
        assert_eq!(listed("bar"), sorted(serde_fields::<Bars>()));
        assert_eq!(listed("line"), sorted(serde_fields::<Bars>()));
        assert_eq!(listed("heatmap"), sorted(serde_fields::<Heat>()));
        assert_eq!(listed("forest"), sorted(serde_fields::<Forest>()));
        assert_eq!(listed("likert"), sorted(serde_fields::<Likert>()));
        assert_eq!(listed("scatter"), sorted(serde_fields::<Scatter>()));
    }
}
