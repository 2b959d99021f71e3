//! The library cell by cell, for notebooks: a [`Workbook`] holds a survey
//! and the frames made so far, and runs the same engines as a template's
//! blocks (`sql`, `stats`, `table`, `chart`), one call per block, so a
//! notebook's numbers are a report's numbers. Results show themselves in
//! the evcxr Jupyter kernel ([`Display`]: HTML tables, inline SVG).
//!
//! ```no_run
//! // in a notebook: :dep coweave = { path = "..", default-features = false }
//! use coweave::notebook::workbook::*;
//! let mut wb = Workbook::bundled().unwrap();
//! let levels = wb.sql("levels", "SELECT area, theme, avg(individual) AS individual FROM long GROUP BY 1, 2 ORDER BY 1, 2").unwrap();
//! let chart = wb.chart("kind: bar\ndata: levels\nx: area\ny: individual\ngroup: theme").unwrap();
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use polars::prelude::DataFrame;
use serde_json::Value;

use crate::diag::Diagnostics;
use crate::document::{Block, BlockOption};
use crate::engine::{
    BlockOutput, Context, Diagnostic, FigureOut, Named, Shown, TableOut, engine_for,
};
use crate::render::html::escape;
use crate::survey::Survey;
use crate::survey::codebook::Codebook;
use crate::survey::published::Published;

/// A survey and the frames made from it so far.
pub struct Workbook {
    /// The survey.
    pub survey: Survey,
    frames: BTreeMap<String, Named>,
    /// Parameters blocks see as `{{ params.* }}`.
    pub params: BTreeMap<String, Value>,
    /// Disclosure threshold (rows resting on fewer respondents are withheld).
    pub min_base: u32,
    blocks: usize,
}

/// What a block made: a frame, a table or a figure; each shows itself in a
/// notebook.
#[derive(Debug, Clone)]
pub enum Output {
    /// A frame (registered under its name).
    Frame(DataFrame),
    /// A formatted table.
    Table(TableOut),
    /// A chart.
    Figure(FigureOut),
    /// Prose (recommendations).
    Markdown(String),
}

/// A failed block: its diagnostics, with places in the block's code.
#[derive(Debug)]
pub struct Failed {
    /// The code that failed.
    pub code: String,
    /// What is wrong.
    pub diagnostics: Vec<Diagnostic>,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let located: Vec<Diagnostic> = self
            .diagnostics
            .iter()
            .cloned()
            .map(|d| {
                let at = d.span.as_ref().map_or(0, |s| s.start);
                d.locate(Path::new("cell"), &self.code, at)
            })
            .collect();
        write!(f, "{}", Diagnostics(located))
    }
}

impl std::error::Error for Failed {}

impl Workbook {
    /// The bundled synthetic survey (the same data reports render from by
    /// default), with the published tables as `published_*` frames.
    pub fn bundled() -> Result<Workbook, Diagnostics> {
        let codebook = Codebook::parse(
            Path::new("bundled:data/codebook.toml"),
            crate::bundled::CODEBOOK,
        )?;
        let survey = Survey::from_csv_bytes(
            Path::new("bundled:data/survey.csv"),
            crate::bundled::SURVEY_CSV,
            codebook,
        )?;
        let published = Published::parse(
            Path::new("bundled:data/published_tables.toml"),
            crate::bundled::PUBLISHED,
        )?;
        Workbook::with(survey, Some(&published))
    }

    /// An export and its codebook.
    pub fn load(data: &Path, codebook: &Path) -> Result<Workbook, Diagnostics> {
        Workbook::with(Survey::load(data, codebook)?, None)
    }

    fn with(survey: Survey, published: Option<&Published>) -> Result<Workbook, Diagnostics> {
        let mut frames = BTreeMap::new();
        let named = |frame: DataFrame, key: &str| Named {
            frame,
            keys: vec![],
            key: key.to_string(),
            scalar: false,
        };
        frames.insert("long".into(), named(survey.long.clone(), "survey"));
        frames.insert(
            "respondents".into(),
            named(survey.respondents.clone(), "survey"),
        );
        if let Some(p) = published {
            let tables = crate::engine::published_frames(p).map_err(|e| {
                Diagnostics(vec![Diagnostic::error(format!("published tables: {e}"))])
            })?;
            for (n, f) in tables {
                frames.insert(n, named(f, "published"));
            }
        }
        Ok(Workbook {
            survey,
            frames,
            params: BTreeMap::new(),
            min_base: 10,
            blocks: 0,
        })
    }

    /// The frame called `name` (a copy made in the calling cell: see [`rehome`]).
    pub fn frame(&self, name: &str) -> Option<DataFrame> {
        self.frames.get(name).map(|n| rehome(&n.frame))
    }

    /// The names of the frames.
    pub fn frames(&self) -> Vec<&str> {
        self.frames.keys().map(String::as_str).collect()
    }

    /// Runs a `{sql}` block; its frame is kept under `name`.
    pub fn sql(&mut self, name: &str, code: &str) -> Result<DataFrame, Failed> {
        let out = self.run("sql", Some(name), code)?;
        frame_of(out)
    }

    /// Runs a `{stats}` block; its frame is kept under `name`.
    pub fn stats(&mut self, name: &str, spec: &str) -> Result<DataFrame, Failed> {
        let out = self.run("stats", Some(name), spec)?;
        frame_of(out)
    }

    /// Runs a `{table}` block.
    pub fn table(&mut self, spec: &str) -> Result<Output, Failed> {
        self.run("table", None, spec)
    }

    /// Runs a `{chart}` block.
    pub fn chart(&mut self, spec: &str) -> Result<Output, Failed> {
        self.run("chart", None, spec)
    }

    /// Runs a block of any engine but code cells (`sql`, `stats`, `table`,
    /// `chart`, `recommend`), as a template would, disclosure control
    /// included; a frame it makes is kept under `name`.
    pub fn run(&mut self, engine: &str, name: Option<&str>, code: &str) -> Result<Output, Failed> {
        let fail = |d: Diagnostic| Failed {
            code: code.to_string(),
            diagnostics: vec![d],
        };
        let Some(e) = engine_for(engine).filter(|e| !e.runs_code()) else {
            return Err(fail(Diagnostic::error(format!(
                "no engine `{engine}` for a workbook (sql, stats, table, chart, recommend)"
            ))));
        };
        let mut options = BTreeMap::new();
        if let Some(n) = name {
            options.insert(
                "name".to_string(),
                BlockOption {
                    value: Value::String(n.to_string()),
                    offset: 0,
                },
            );
        }
        self.blocks += 1;
        let block = Block {
            index: self.blocks - 1,
            engine: engine.to_string(),
            offset: 0,
            engine_offset: 0,
            options,
            body: code.to_string(),
            body_offset: 0,
        };
        let frames = self
            .frames
            .iter()
            .map(|(k, n)| {
                let mut n = n.clone();
                n.frame = rehome(&n.frame);
                (k.clone(), n)
            })
            .collect();
        let ctx = Context {
            survey: &self.survey,
            frames,
            params: self.params.clone(),
            min_base: self.min_base,
            base_dir: std::env::current_dir().unwrap_or_default(),
            chart_style: crate::chart::Style::default(),
            exec: false,
            rust: Default::default(),
            prose_frames: Default::default(),
        };
        let env = crate::engine::prose::environment(&self.survey);
        let body = e
            .body(&env, &block, &ctx)
            .map_err(|(m, at)| fail(Diagnostic::error(m).point(at)))?;
        let out = e
            .run(&block, &body, &ctx)
            .and_then(|w| crate::engine::suppress(w.output, &block, self.min_base))
            .map_err(fail)?;
        Ok(match out {
            BlockOutput::Frame { frame, keys } => {
                if let Some(n) = name {
                    let key = format!("workbook:{}", self.blocks);
                    self.frames.insert(
                        n.to_string(),
                        Named {
                            frame: frame.clone(),
                            keys,
                            key,
                            scalar: false,
                        },
                    );
                }
                Output::Frame(frame)
            }
            BlockOutput::Table(t) => Output::Table(t),
            BlockOutput::Figure(f) => Output::Figure(f),
            BlockOutput::Prose { markdown, frame } => {
                if let Some(n) = name {
                    let key = format!("workbook:{}", self.blocks);
                    self.frames.insert(
                        n.to_string(),
                        Named {
                            frame,
                            keys: vec![],
                            key,
                            scalar: false,
                        },
                    );
                }
                Output::Markdown(markdown)
            }
            BlockOutput::Cell(c) => match c.shown.into_iter().next() {
                Some(Shown::Table(t)) => Output::Table(t),
                Some(Shown::Figure(f)) => Output::Figure(f),
                Some(Shown::Text { text }) => Output::Markdown(text),
                None => Output::Markdown(String::new()),
            },
        })
    }
}

/// A frame rebuilt from its columns, so that its schema is hashed by the
/// code of the cell that uses it. In evcxr each cell is its own shared
/// library with its own copy of polars, and polars' hash maps read a
/// process-wide seed that each copy draws for itself: a frame made in one
/// cell and looked up by column name in another would not find its
/// columns.
pub fn rehome(df: &DataFrame) -> DataFrame {
    DataFrame::new(df.height(), df.columns().to_vec()).unwrap_or_else(|_| df.clone())
}

fn frame_of(out: Output) -> Result<DataFrame, Failed> {
    match out {
        Output::Frame(f) => Ok(f),
        _ => Err(Failed {
            code: String::new(),
            diagnostics: vec![Diagnostic::error("the block made no frame")],
        }),
    }
}

/// Rich display in the evcxr Jupyter kernel: a value that is a cell's last
/// expression shows as HTML or SVG (`use coweave::notebook::workbook::Display`).
pub trait Display {
    /// What the kernel shows: (MIME type, content) pairs.
    fn contents(&self) -> Vec<(&'static str, String)>;
    /// Prints the contents in evcxr's protocol (called by the kernel).
    fn evcxr_display(&self) {
        let mut s = String::new();
        for (mime, content) in self.contents() {
            let _ = write!(
                s,
                "EVCXR_BEGIN_CONTENT {mime}\n{content}\nEVCXR_END_CONTENT\n"
            );
        }
        print!("{s}");
    }
}

impl Display for DataFrame {
    fn contents(&self) -> Vec<(&'static str, String)> {
        vec![
            ("text/html", frame_html(self, 20)),
            ("text/plain", crate::engine::frames::to_csv(self)),
        ]
    }
}

impl Display for TableOut {
    fn contents(&self) -> Vec<(&'static str, String)> {
        vec![
            ("text/html", crate::render::html::table_fragment(self)),
            ("text/plain", self.csv.clone()),
        ]
    }
}

impl Display for FigureOut {
    fn contents(&self) -> Vec<(&'static str, String)> {
        vec![
            ("image/svg+xml", self.svg.clone()),
            ("text/plain", self.alt.clone()),
        ]
    }
}

impl Display for Output {
    fn contents(&self) -> Vec<(&'static str, String)> {
        match self {
            Output::Frame(f) => f.contents(),
            Output::Table(t) => t.contents(),
            Output::Figure(f) => f.contents(),
            Output::Markdown(m) => vec![("text/markdown", m.clone()), ("text/plain", m.clone())],
        }
    }
}

impl Display for Survey {
    fn contents(&self) -> Vec<(&'static str, String)> {
        let s = &self.summary;
        let total: usize = s.respondents.iter().map(|(_, n)| n).sum();
        let mut h = format!(
            "<p><strong>{}</strong>: {total} respondents in {} areas, {} variables",
            escape(&self.codebook.survey.name),
            s.respondents.len(),
            self.codebook.variables.len()
        );
        if let Some(b) = self.codebook.survey.banner() {
            let _ = write!(h, "<br><em>{}</em> {}", escape(&b.head), escape(&b.body));
        }
        h.push_str("</p>\n<table><thead><tr><th>Area</th><th>Respondents</th></tr></thead><tbody>");
        let mut plain = format!("{total} respondents\n");
        for (area, n) in &s.respondents {
            let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", escape(area));
            let _ = writeln!(plain, "{area}: {n}");
        }
        h.push_str("</tbody></table>");
        vec![("text/html", h), ("text/plain", plain)]
    }
}

impl Display for Workbook {
    fn contents(&self) -> Vec<(&'static str, String)> {
        let mut c = self.survey.contents();
        c.retain(|(m, _)| *m != "text/plain");
        c.push((
            "text/plain",
            format!("frames: {}", self.frames().join(", ")),
        ));
        c
    }
}

impl Display for crate::stats::ols::OlsFit {
    fn contents(&self) -> Vec<(&'static str, String)> {
        let pct = (self.level * 100.0).round();
        let mut h = format!(
            "<table>\n<thead><tr><th>Term</th><th>Estimate</th><th>SE ({})</th><th>t</th><th>p</th><th>{pct}% CI</th></tr></thead>\n<tbody>\n",
            escape(self.cov_type.label())
        );
        let mut plain = String::new();
        for i in 0..self.names.len() {
            let p = p_text(self.p[i]);
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.2}</td><td>{p}</td><td>{:.4} to {:.4}</td></tr>",
                escape(&self.names[i]),
                self.coef[i],
                self.se[i],
                self.t[i],
                self.ci_low[i],
                self.ci_high[i]
            );
            let _ = writeln!(
                plain,
                "{:>12}  {:+.4}  (SE {:.4}, p {p})",
                self.names[i], self.coef[i], self.se[i]
            );
        }
        let _ = write!(
            h,
            "</tbody>\n</table>\n<p>n = {}, R² = {:.3}, adjusted R² = {:.3}</p>",
            self.n, self.r2, self.adj_r2
        );
        let _ = write!(plain, "n = {}, R2 = {:.3}", self.n, self.r2);
        vec![("text/html", h), ("text/plain", plain)]
    }
}

impl Display for crate::stats::correlation::Correlation {
    fn contents(&self) -> Vec<(&'static str, String)> {
        let text = format!(
            "{} r = {:.3} (n = {}, p {}), {:.0}% CI {:.3} to {:.3}",
            self.method.label(),
            self.r,
            self.n,
            p_text(self.p),
            self.level * 100.0,
            self.ci_low,
            self.ci_high
        );
        vec![
            ("text/html", format!("<p>{}</p>", escape(&text))),
            ("text/plain", text),
        ]
    }
}

/// A p value as a reader expects it: `< 0.001` below that, else three decimals.
fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("= {p:.3}")
    }
}

/// A frame as an escaped HTML table of its first `rows` rows.
pub fn frame_html(df: &DataFrame, rows: usize) -> String {
    let all = crate::engine::frames::rows(df);
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let mut h = String::from("<table>\n<thead><tr>");
    for n in &names {
        let _ = write!(h, "<th>{}</th>", escape(n));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for r in all.iter().take(rows) {
        h.push_str("<tr>");
        for n in &names {
            let v = match r.get(n) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(Value::Number(x)) => match x.as_f64() {
                    Some(f) if x.is_f64() => format!("{f:.4}"),
                    _ => x.to_string(),
                },
                Some(v) => v.to_string(),
            };
            let _ = write!(h, "<td>{}</td>", escape(&v));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>");
    if all.len() > rows {
        let _ = write!(h, "\n<p>{rows} of {} rows</p>", all.len());
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workbook_gives_the_numbers_a_template_gives() {
        let mut wb = Workbook::bundled().unwrap();
        let df = wb
            .sql(
                "levels",
                "SELECT area, count(*) AS n FROM respondents GROUP BY area ORDER BY area",
            )
            .unwrap();
        // independent: the survey summary counts respondents per area
        let counts: Vec<(String, usize)> = wb.survey.summary.respondents.clone();
        let n: Vec<i64> = df
            .column("n")
            .unwrap()
            .cast(&polars::prelude::DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        let mut want: Vec<i64> = counts.iter().map(|(_, n)| *n as i64).collect();
        let mut got = n.clone();
        want.sort();
        got.sort();
        assert_eq!(got, want);
        assert!(wb.frame("levels").is_some(), "kept for later blocks");
        let chart = wb.chart("kind: bar\ndata: levels\nx: area\ny: n").unwrap();
        let Output::Figure(f) = &chart else {
            panic!("a chart block makes a figure")
        };
        assert!(f.svg.contains("<svg"));
        assert_eq!(chart.contents()[0].0, "image/svg+xml");
        let html = &df.contents()[0].1;
        assert!(html.starts_with("<table>"));
    }

    #[test]
    fn results_of_stats_blocks_can_be_queried() {
        let mut wb = Workbook::bundled().unwrap();
        wb.stats(
            "levels",
            "levels:\n  measures: [individual, collective]\n  by: [area, theme]",
        )
        .unwrap();
        let df = wb
            .sql("individual", "SELECT area, theme, estimate FROM levels WHERE variable = 'individual' ORDER BY area, theme")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(df.height(), 10);
    }

    #[test]
    fn statistics_results_show_themselves() {
        use crate::stats::ols::{OlsOptions, ols};
        // by hand: Sxy = 18, Sxx = 10, Syy = 34.3, so slope 1.8 and
        // r = 18 / sqrt(343) = 0.9719
        let x = [0.0, 1.0, 2.0, 3.0, 4.0];
        let y = [1.0, 3.5, 4.0, 7.5, 8.0];
        let fit = ols(&[&x], &["x"], &y, None, &OlsOptions::default()).unwrap();
        let c = fit.contents();
        assert_eq!(c[0].0, "text/html");
        assert!(c[0].1.contains("<td>x</td><td>1.8000</td>"), "{}", c[0].1);
        assert!(c[1].1.contains("Intercept"));
        let r = crate::stats::correlation::pearson(&x, &y, 0.95).unwrap();
        assert!(
            r.contents()[1].1.starts_with("pearson r = 0.972"),
            "{}",
            r.contents()[1].1
        );
    }

    #[test]
    fn a_failing_block_says_where_in_its_code() {
        let mut wb = Workbook::bundled().unwrap();
        let err = wb.sql("x", "SELECT nope FROM long").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("nope"), "{text}");
    }
}
