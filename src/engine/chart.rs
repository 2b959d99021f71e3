//! `{chart}`: draws a frame. This kind is `bar` (grouped bars with
//! interval whiskers); the chart module grows the rest.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::{BlockError, BlockOutput, Context, Engine, FigureOut, frames};
use crate::chart::{self, BarChart, Series};
use crate::document::Block;

/// The chart engine.
pub struct ChartBlock;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(default = "bar")]
    kind: String,
    data: String,
    x: XSpec,
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
}

#[derive(Deserialize)]
#[serde(untagged)]
enum XSpec {
    One(String),
    Many(Vec<String>),
}

fn bar() -> String {
    "bar".into()
}

impl Engine for ChartBlock {
    fn reads(&self, _block: &Block, body: &str, _ctx: &Context) -> Vec<String> {
        super::data_key(body)
    }

    fn run(&self, block: &Block, body: &str, ctx: &Context) -> Result<BlockOutput, BlockError> {
        let spec: Spec = super::parse_spec("chart", block, body)?;
        if spec.kind != "bar" {
            return Err(
                BlockError::new(format!("unknown chart kind `{}`", spec.kind))
                    .hint("kinds: bar")
                    .at(block.body_offset),
            );
        }
        let named = ctx.frame(&spec.data, block)?;
        let df = &named.frame;
        let xs: Vec<String> = match &spec.x {
            XSpec::One(x) => vec![x.clone()],
            XSpec::Many(v) => v.clone(),
        };
        let columns: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        for c in xs
            .iter()
            .chain([&spec.y])
            .chain(spec.group.iter())
            .chain(spec.ci.iter().flat_map(|(a, b)| [a, b]))
        {
            if !columns.contains(c) {
                return Err(
                    BlockError::new(format!("frame `{}` has no column `{c}`", spec.data))
                        .hint(format!("columns: {}", columns.join(", ")))
                        .at(block
                            .body
                            .find(c.as_str())
                            .map_or(block.body_offset, |i| block.body_offset + i)),
                );
            }
        }
        let themes: BTreeMap<&str, &str> = ctx
            .survey
            .codebook
            .themes
            .iter()
            .map(|t| (t.id.as_str(), t.label.as_str()))
            .collect();
        let text = |col: &str, v: Option<&Value>| -> String {
            match v {
                Some(Value::String(s)) if col == "theme" => {
                    themes.get(s.as_str()).map_or(s.clone(), |l| l.to_string())
                }
                Some(Value::String(s)) if super::labels::holds_measures(col) => {
                    super::labels::measure(s)
                }
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => "(missing)".into(),
                Some(other) => other.to_string(),
            }
        };
        let rows = frames::rows(df);
        let mut categories: Vec<String> = Vec::new();
        let mut groups: Vec<String> = Vec::new();
        for r in &rows {
            let cat = xs
                .iter()
                .map(|x| text(x, r.get(x)))
                .collect::<Vec<_>>()
                .join("\n");
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
        let mut series: Vec<Series> = groups
            .iter()
            .map(|g| Series {
                name: g.clone(),
                values: vec![None; categories.len()],
                intervals: spec.ci.as_ref().map(|_| vec![None; categories.len()]),
            })
            .collect();
        for r in &rows {
            let cat = xs
                .iter()
                .map(|x| text(x, r.get(x)))
                .collect::<Vec<_>>()
                .join("\n");
            let ci = categories.iter().position(|c| *c == cat).unwrap_or(0);
            let g = spec
                .group
                .as_ref()
                .map_or(String::new(), |g| text(g, r.get(g)));
            let si = groups.iter().position(|x| *x == g).unwrap_or(0);
            series[si].values[ci] = r.get(&spec.y).and_then(Value::as_f64);
            if let (Some((lo, hi)), Some(iv)) = (&spec.ci, series[si].intervals.as_mut()) {
                iv[ci] = r
                    .get(lo)
                    .and_then(Value::as_f64)
                    .zip(r.get(hi).and_then(Value::as_f64));
            }
        }
        let chart = BarChart {
            title: spec.title.clone(),
            categories,
            series,
            y_label: spec.ylabel.clone().unwrap_or_else(|| {
                if spec.percent {
                    "%".into()
                } else {
                    spec.y.clone()
                }
            }),
            percent: spec.percent,
            size: (spec.width.unwrap_or(760), spec.height.unwrap_or(420)),
        };
        let svg = chart::bar(&chart).map_err(|e| BlockError::new(e.0).at(block.body_offset))?;
        let alt = block
            .option_str("alt")
            .map(str::to_string)
            .unwrap_or_else(|| describe(&chart, &spec.y));
        Ok(BlockOutput::Figure(FigureOut {
            label: block.option_str("label").map(str::to_string),
            number: None,
            caption: block.option_str("caption").map(str::to_string),
            alt,
            svg,
            csv: frames::to_csv(df),
        }))
    }
}

/// Alt text from the data: what is drawn, and the highest and lowest bars.
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
