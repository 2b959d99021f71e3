//! Executing a parsed template: blocks run in document order against a
//! shared context of named frames; prose is rendered with their values;
//! cross-references are numbered. The result is an [`Evaluated`] document
//! that renderers turn into HTML, JSON (and later PDF) without running
//! anything. `engine` knows no output format.

pub mod cache;
pub mod chart;
pub mod disclosure;
mod driver;
pub mod frames;
pub mod labels;
pub mod markdown;
pub mod params;
pub mod prose;
pub mod recommend;
pub mod rust;
pub mod spans;
pub mod sql;
pub mod stats;
pub mod table;

use std::collections::BTreeMap;

use polars::prelude::*;
use serde_json::Value;

pub use crate::diag::{Diagnostic, Warned};
use crate::document::{Block, Document, Node};
use crate::survey::Survey;
pub use crate::survey::codebook::Banner;
use crate::survey::published::Published;

/// A named frame in the context, with the key columns prose uses to reach
/// into it and the cache key of what produced it.
#[derive(Debug, Clone)]
pub struct Named {
    /// The frame.
    pub frame: DataFrame,
    /// Key columns for nested access in prose (`levels.bristol.environment`).
    pub keys: Vec<String>,
    /// Cache key of the frame's content.
    pub key: String,
    /// A single value handed on by a `{rust}` cell: prose sees the value,
    /// not a one-row frame.
    pub scalar: bool,
}

/// What blocks run against.
pub struct Context<'a> {
    /// The survey.
    pub survey: &'a Survey,
    /// Named frames: `long`, `respondents`, `published_*`, and every named result so far.
    pub frames: BTreeMap<String, Named>,
    /// Resolved parameters.
    pub params: BTreeMap<String, Value>,
    /// Disclosure threshold.
    pub min_base: u32,
    /// Directory of the template (files named in blocks are relative to it).
    pub base_dir: std::path::PathBuf,
    /// House style of the charts (front matter `format.chart`).
    pub chart_style: crate::chart::Style,
    /// Whether blocks that run code (`{rust}`) may run (`--no-exec` says no).
    pub exec: bool,
    /// The session of the `{rust}` cells.
    pub rust: std::cell::RefCell<rust::Kernel>,
    /// Each frame as prose sees it, by name and content key: converted at
    /// most once per render, and only when prose looks at it.
    pub prose_frames: std::cell::RefCell<BTreeMap<String, minijinja::Value>>,
}

impl Context<'_> {
    /// The frame a block names, or an error pointing at the name with the
    /// closest existing one as hint.
    pub fn frame(&self, name: &str, block: &Block) -> Result<&Named, Diagnostic> {
        self.frames.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.frames.keys().map(String::as_str).collect();
            let at = spans::SpecSpans::of(block).best(Some("data"), name);
            let e = Diagnostic::error(format!("no frame named `{name}`")).with_span(at);
            match crate::document::closest(name, &names) {
                Some(s) => e.hint(format!(
                    "did you mean `{s}`? (frames are the `name` of earlier blocks)"
                )),
                None => e.hint(format!("frames: {}", names.join(", "))),
            }
        })
    }
}

/// Parses a block's YAML spec; errors name the engine and point at the code.
pub(crate) fn parse_spec<T: serde::de::DeserializeOwned>(
    what: &str,
    block: &Block,
    body: &str,
) -> Result<T, Diagnostic> {
    crate::yaml::from_str(body).map_err(|e| spec_error(what, block, &e))
}

/// A spec the YAML parser rejected, at the place the parser names (the
/// unknown key, the value of the wrong type), else at the block's code.
pub(crate) fn spec_error(what: &str, block: &Block, e: &serde_saphyr::Error) -> Diagnostic {
    let d = Diagnostic::error(format!(
        "{what} spec: {}",
        crate::document::yaml_message(&e.to_string())
    ));
    let at = e.location().map(|loc| {
        let line = crate::document::line_offset(&block.body, loc.line() as usize);
        let column: usize = block.body[line.min(block.body.len())..]
            .chars()
            .take((loc.column() as usize).saturating_sub(1))
            .map(char::len_utf8)
            .sum();
        block.body_offset + line + column
    });
    d.point(at.unwrap_or(block.body_offset))
}

/// The frame a spec's `data:` key names (what table and chart blocks read).
pub(crate) fn data_key(body: &str) -> Vec<String> {
    crate::yaml::from_str::<BTreeMap<String, Value>>(body)
        .ok()
        .and_then(|m| m.get("data").and_then(Value::as_str).map(str::to_string))
        .into_iter()
        .collect()
}

/// What a block produces.
#[derive(Debug, Clone)]
pub enum BlockOutput {
    /// A frame, registered under the block's name.
    Frame {
        /// The frame.
        frame: DataFrame,
        /// Its key columns.
        keys: Vec<String>,
    },
    /// A formatted table.
    Table(TableOut),
    /// A figure.
    Figure(FigureOut),
    /// Markdown content, with the frame behind it registered under the block's name.
    Prose {
        /// The Markdown.
        markdown: String,
        /// The frame behind it.
        frame: DataFrame,
    },
    /// What a code cell (`{rust}`) showed and handed on.
    Cell(CellOut),
}

/// What a code cell showed (in order) and handed to later blocks.
#[derive(Debug, Clone, Default)]
pub struct CellOut {
    /// Printed text, tables and images, in the order the cell made them.
    pub shown: Vec<Shown>,
    /// Frames and values handed on under names.
    pub handed: Vec<Handed>,
}

/// One thing a cell shows.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Shown {
    /// What it printed.
    Text {
        /// The text.
        text: String,
    },
    /// A frame shown as a table.
    Table(TableOut),
    /// An image.
    Figure(FigureOut),
}

/// A frame or value a cell handed on.
#[derive(Debug, Clone)]
pub struct Handed {
    /// Its name in the context.
    pub name: String,
    /// The frame (one row, one column `value` for a value).
    pub frame: DataFrame,
    /// A single value.
    pub scalar: bool,
}

/// How an engine's outputs are labelled and numbered (`#| label: tbl-x`
/// on a `{table}` block is "Table 2").
#[derive(Debug, Clone, Copy)]
pub struct LabelKind {
    /// The label prefix (`tbl`).
    pub prefix: &'static str,
    /// The word in captions and references (`Table`).
    pub word: &'static str,
}

/// One block engine: what the driver (`evaluate`) needs to know of it,
/// so that the driver names no engine. To add one, write a type that
/// implements this trait in its own file and list it in [`ENGINES`].
pub trait Engine: Sync {
    /// The name in the fence: ` ```{name} `.
    fn name(&self) -> &'static str;
    /// Whether its blocks run arbitrary code (refused under `--no-exec`).
    fn runs_code(&self) -> bool {
        false
    }
    /// For engines whose blocks share state like notebook cells: called for
    /// every block of the engine that runs or comes from the cache, in
    /// document order; returns what the block depends on from the blocks
    /// before it (part of its cache key).
    fn state(&self, _block: &Block, _body: &str, _ctx: &Context) -> Vec<(String, String)> {
        Vec::new()
    }
    /// Names a block hands to later blocks besides its own result name
    /// (a `{rust}` cell's `put("name", ...)`), so that after a failure
    /// nothing reports them missing again.
    fn provides(&self, _block: &Block) -> Vec<String> {
        Vec::new()
    }
    /// Runs the block; `body` is its code after parameter substitution. Its
    /// warnings (values it could not use, ...) travel beside the output.
    fn run(
        &self,
        block: &Block,
        body: &str,
        ctx: &Context,
    ) -> Result<Warned<BlockOutput>, Diagnostic>;
    /// Names of the context frames the block reads (for cache keys).
    fn reads(&self, block: &Block, body: &str, ctx: &Context) -> Vec<String>;
    /// Files the block reads besides frames (for cache keys): their content
    /// is part of the block's key.
    fn files(&self, _block: &Block, _body: &str, _ctx: &Context) -> Vec<std::path::PathBuf> {
        Vec::new()
    }
    /// Settings outside the block that change its output (for cache keys).
    fn settings(&self, _ctx: &Context) -> Vec<(String, String)> {
        Vec::new()
    }
    /// The labels its outputs take, if they are numbered.
    fn label(&self) -> Option<LabelKind> {
        None
    }
    /// The block's code with `{{ params.* }}` filled in; on failure the
    /// message and the absolute byte offset of the failing part.
    fn body(
        &self,
        env: &minijinja::Environment,
        block: &Block,
        ctx: &Context,
    ) -> Result<String, (String, usize)> {
        prose::render_params(env, &block.body, &ctx.params).map_err(|m| (m, block.body_offset))
    }
}

pub use driver::evaluate;
pub use markdown::{CrossRef, Labels, Markdown, Piece};

/// The engine registry: every block engine, the one list the parser, the
/// documentation test and the driver read.
pub static ENGINES: [&dyn Engine; 6] = [
    &sql::Sql,
    &stats::StatsBlock,
    &table::TableBlock,
    &chart::ChartBlock,
    &recommend::Recommend,
    &rust::RustBlock,
];

/// The names of the registered engines.
pub fn names() -> Vec<&'static str> {
    ENGINES.iter().map(|e| e.name()).collect()
}

/// The engine for a block's engine name.
pub fn engine_for(name: &str) -> Option<&'static dyn Engine> {
    ENGINES.iter().copied().find(|e| e.name() == name)
}

/// Parses a template against the registered engines.
pub fn parse(path: &std::path::Path, source: &str) -> (Document, Vec<Diagnostic>) {
    crate::document::parse(path, source, &names())
}

/// How a table cell is emphasised (the paper's convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Emphasis {
    /// Plain.
    None,
    /// Significant positive: bold.
    Bold,
    /// Significant negative: shaded.
    Shade,
}

/// A formatted cell.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cell {
    /// Display text.
    pub text: String,
    /// Right-aligned (numbers).
    pub numeric: bool,
    /// Emphasis.
    pub emphasis: Emphasis,
    /// Suppressed for disclosure.
    pub suppressed: bool,
}

/// A formatted table, ready for any renderer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TableOut {
    /// Cross-reference label (`tbl-...`).
    pub label: Option<String>,
    /// Number, when labelled.
    pub number: Option<String>,
    /// Caption.
    pub caption: Option<String>,
    /// The frame the table shows (its CSV is that frame, after disclosure control).
    pub data: Option<String>,
    /// Header rows (one, or two for pivoted column groups): (text, colspan).
    pub header: Vec<Vec<(String, usize)>>,
    /// How many leading columns are row headers.
    pub row_header_columns: usize,
    /// Body rows.
    pub rows: Vec<Vec<Cell>>,
    /// Notes printed under the table.
    pub notes: Vec<String>,
    /// The data behind the table as CSV.
    pub csv: String,
}

impl TableOut {
    /// How many columns the table has: its first row's cells, else its
    /// header's spans (at least one).
    pub fn columns(&self) -> usize {
        self.rows
            .first()
            .map_or_else(
                || {
                    self.header
                        .first()
                        .map_or(1, |h| h.iter().map(|(_, s)| s).sum())
                },
                Vec::len,
            )
            .max(1)
    }

    /// Whether each column holds numbers (right-aligned), by its first row.
    pub fn numeric_columns(&self) -> Vec<bool> {
        (0..self.columns())
            .map(|i| {
                self.rows
                    .first()
                    .and_then(|r| r.get(i))
                    .is_some_and(|c| c.numeric)
            })
            .collect()
    }

    /// How many rows each cell spans: an outer row key (every row header
    /// column but the last) is shown once for the run of rows that share it
    /// and the keys before it, so "Community safety" heads its areas rather
    /// than repeating on each; 0 marks a cell covered by the one above.
    pub fn row_spans(&self) -> Vec<Vec<usize>> {
        let outer = self.row_header_columns.saturating_sub(1);
        let same = |a: &[Cell], b: &[Cell], upto: usize| {
            (0..=upto).all(|c| a.get(c).map(|x| &x.text) == b.get(c).map(|x| &x.text))
        };
        let mut spans: Vec<Vec<usize>> = self.rows.iter().map(|r| vec![1; r.len()]).collect();
        for c in 0..outer {
            let mut r = 0;
            while r < self.rows.len() {
                let run = self.rows[r..]
                    .iter()
                    .take_while(|row| same(row, &self.rows[r], c))
                    .count();
                if let Some(s) = spans[r].get_mut(c) {
                    *s = run;
                }
                for covered in &mut spans[r + 1..r + run] {
                    if let Some(s) = covered.get_mut(c) {
                        *s = 0;
                    }
                }
                r += run;
            }
        }
        spans
    }
}

/// A figure, ready for any renderer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FigureOut {
    /// Cross-reference label (`fig-...`).
    pub label: Option<String>,
    /// Number, when labelled.
    pub number: Option<String>,
    /// Caption.
    pub caption: Option<String>,
    /// The frame the chart draws, when it draws one (its CSV is that frame).
    pub data: Option<String>,
    /// Alt text.
    pub alt: String,
    /// The chart as SVG.
    pub svg: String,
    /// The numbers behind the chart as CSV.
    pub csv: String,
}

/// A node of the evaluated document.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum OutNode {
    /// Prose: values filled in, parsed, cross-references resolved.
    Markdown(Markdown),
    /// A block's source, shown because of `echo: true`.
    Code {
        /// Engine name.
        engine: String,
        /// Source.
        source: String,
    },
    /// A table.
    Table(TableOut),
    /// A figure.
    Figure(FigureOut),
    /// Text a code cell printed.
    Output {
        /// The text.
        text: String,
    },
}

/// Where the numbers come from.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Provenance {
    /// coweave version.
    pub coweave: String,
    /// Template file.
    pub template: String,
    /// SHA-256 of the template.
    pub template_sha256: String,
    /// Published tables file.
    pub published: String,
    /// SHA-256 of the published tables.
    pub published_sha256: String,
    /// Data file.
    pub data: String,
    /// SHA-256 of the data file.
    pub data_sha256: String,
    /// Codebook file.
    pub codebook: String,
    /// SHA-256 of the codebook.
    pub codebook_sha256: String,
    /// The template's own data files (`data.frames`).
    pub frames: Vec<FrameSource>,
    /// Parameters.
    pub params: BTreeMap<String, Value>,
    /// Render date (YYYY-MM-DD, from SOURCE_DATE_EPOCH when set).
    pub date: String,
    /// The disclosure threshold the outputs were made with
    /// (`disclosure.min_base`; 0 is the template turning it off).
    pub min_base: u32,
}

impl Provenance {
    /// The data a report was computed from, for its footer: (what, file,
    /// SHA-256): the survey data and codebook when a survey was loaded,
    /// then every `data.frames` file.
    pub fn data_inputs(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        if self.data != "none" {
            out.push(("Data".into(), self.data.clone(), self.data_sha256.clone()));
            out.push((
                "Codebook".into(),
                self.codebook.clone(),
                self.codebook_sha256.clone(),
            ));
        }
        for f in &self.frames {
            out.push((
                format!("Frame {}", f.name),
                f.file.clone(),
                f.sha256.clone(),
            ));
        }
        out
    }
}

/// A data file a template reads as a frame (front matter `data.frames`).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FrameSource {
    /// Frame name.
    pub name: String,
    /// File.
    pub file: String,
    /// SHA-256 of the file.
    pub sha256: String,
}

/// An executed template.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Evaluated {
    /// Title.
    pub title: String,
    /// Subtitle.
    pub subtitle: Option<String>,
    /// Author.
    pub author: Option<String>,
    /// Date shown.
    pub date: String,
    /// Language.
    pub lang: String,
    /// Table of contents wanted.
    pub toc: bool,
    /// The banner under the title when the data are not real (synthetic or
    /// illustrative): every output carries it.
    pub notice: Option<Banner>,
    /// Content.
    pub nodes: Vec<OutNode>,
    /// Every named result, as JSON.
    pub results: BTreeMap<String, Value>,
    /// Provenance.
    pub provenance: Provenance,
    /// Non-fatal problems (of the data and of the template), with their places.
    pub warnings: Vec<Diagnostic>,
    /// Which blocks ran and why (for `-v`).
    #[serde(skip)]
    pub log: Vec<String>,
    /// Every frame of the context at the end (results, published tables,
    /// input descriptions; not the survey frames): what tables, charts and
    /// downloads were made from.
    #[serde(skip)]
    pub frames: BTreeMap<String, DataFrame>,
    /// Where each node comes from in the template: (line, column).
    #[serde(skip)]
    pub origins: Vec<(usize, usize)>,
    /// Files the blocks read besides the data (rules files, files named in
    /// SQL): with the template and the data, what a preview watches.
    #[serde(skip)]
    pub inputs: Vec<std::path::PathBuf>,
}

impl Evaluated {
    /// The line under the title: author and date, joined by a middle dot.
    pub fn byline(&self) -> String {
        self.author
            .iter()
            .cloned()
            .chain([self.date.clone()])
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" \u{b7} ")
    }

    /// The provenance as (what, value) rows, as every format's footer
    /// shows it: coweave's version, the template, the parameters, the data
    /// read (with SHA-256), what disclosure control did, the render date.
    pub fn provenance_rows(&self) -> Vec<(String, String)> {
        let p = &self.provenance;
        let params = if p.params.is_empty() {
            "none".to_string()
        } else {
            p.params
                .iter()
                .map(|(k, v)| format!("{k} = {}", v.as_str().map_or(v.to_string(), str::to_string)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut rows = vec![
            ("Made with".to_string(), format!("coweave {}", p.coweave)),
            ("Template".into(), p.template.clone()),
            ("Parameters".into(), params),
        ];
        for (what, file, sha) in p.data_inputs() {
            rows.push((what, format!("{file} (SHA-256 {sha})")));
        }
        rows.push(("Disclosure".into(), self.disclosure_note()));
        rows.push(("Rendered".into(), p.date.clone()));
        rows
    }

    /// What disclosure control did, for the footers: the rule, and how
    /// many values each table withheld.
    pub fn disclosure_note(&self) -> String {
        let min_base = self.provenance.min_base;
        if min_base == 0 {
            return "off: no value is withheld (the template sets disclosure.min_base: 0)".into();
        }
        let rule = format!("values resting on fewer than {min_base} respondents are withheld");
        let withheld: Vec<String> = self
            .nodes
            .iter()
            .filter_map(|n| match n {
                OutNode::Table(t) => Some((
                    &t.number,
                    t.rows.iter().flatten().filter(|c| c.suppressed).count(),
                )),
                _ => None,
            })
            .filter(|(_, n)| *n > 0)
            .map(|(num, n)| {
                let what = if n == 1 { "value" } else { "values" };
                match num {
                    Some(t) => format!("{n} {what} in Table {t}"),
                    None => format!("{n} {what} in an unnumbered table"),
                }
            })
            .collect();
        if withheld.is_empty() {
            format!("{rule} (none in this report)")
        } else {
            format!("{rule}: {}", withheld.join(", "))
        }
    }
}

/// Inputs of an evaluation besides the document.
pub struct Inputs<'a> {
    /// The survey.
    pub survey: &'a Survey,
    /// The template's own data (`data.frames`), by name.
    pub frames: Vec<(String, DataFrame)>,
    /// Published tables, registered as `published_*` frames.
    pub published: Option<&'a Published>,
    /// Provenance of the data (file names and hashes).
    pub provenance: Provenance,
    /// Resolved parameters.
    pub params: BTreeMap<String, Value>,
    /// Block cache, if used.
    pub cache: Option<&'a mut cache::Cache>,
    /// Results shared with the other renders of a batch, if any.
    pub memo: Option<&'a cache::Memo>,
    /// Whether code cells may run (`--no-exec` says no).
    pub exec: bool,
}

/// Disclosure control on a block's frame, before anything reads it
/// (`#| base: column` names the base; default `n`).
pub(crate) fn suppress(
    out: BlockOutput,
    block: &Block,
    min_base: u32,
) -> Result<BlockOutput, Diagnostic> {
    let base = block.option_str("base");
    let fail = |e: PolarsError| {
        let e = Diagnostic::error(format!("disclosure control: {e}"));
        match block.options.get("base") {
            Some(o) => e.point(o.offset),
            None => e,
        }
    };
    Ok(match out {
        BlockOutput::Frame { frame, keys } => BlockOutput::Frame {
            frame: disclosure::apply(frame, base, &keys, min_base).map_err(fail)?,
            keys,
        },
        BlockOutput::Prose { markdown, frame } => BlockOutput::Prose {
            markdown,
            frame: disclosure::apply(frame, base, &[], min_base).map_err(fail)?,
        },
        BlockOutput::Cell(mut cell) => {
            for h in &mut cell.handed {
                if !h.scalar {
                    let frame = std::mem::take(&mut h.frame);
                    h.frame = disclosure::apply(frame, base, &[], min_base).map_err(fail)?;
                }
            }
            BlockOutput::Cell(cell)
        }
        other => other,
    })
}

/// For an engine error without a span: the value of the block's spec that
/// the message quotes (by the YAML parser's spans, whole names only).
fn locate_in_body(block: &Block, message: &str) -> Option<usize> {
    let spans = spans::SpecSpans::of(block);
    quoted_words(message)
        .iter()
        .find_map(|word| spans.any_value(word))
        .map(|r| r.start)
}

/// Words a message quotes with backticks, double or single quotes, in that order.
pub(crate) fn quoted_words(message: &str) -> Vec<String> {
    let mut out = Vec::new();
    for q in ['`', '"', '\''] {
        let mut parts = message.split(q);
        parts.next();
        out.extend(
            parts
                .step_by(2)
                .filter(|w| !w.is_empty() && !w.contains(' '))
                .map(str::to_string),
        );
    }
    out
}

/// Numbers labels in document order, per kind (`tbl-`, `fig-`, as the
/// engines declare them): label -> (word, n).
fn number_labels(doc: &Document, problems: &mut Vec<Diagnostic>) -> Labels {
    let mut labels = BTreeMap::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for node in &doc.nodes {
        let Node::Block(b) = node else { continue };
        let Some(label) = b.option_str("label") else {
            continue;
        };
        let offset = b.options.get("label").map_or(b.offset, |o| o.offset);
        let prefix = label.split('-').next().unwrap_or("");
        let Some(wanted) = ENGINES
            .iter()
            .filter_map(|e| e.label())
            .find(|k| k.prefix == prefix)
        else {
            continue;
        };
        let here = engine_for(&b.engine).and_then(|e| e.label());
        if here.is_none_or(|k| k.prefix != prefix) {
            let places: Vec<String> = ENGINES
                .iter()
                .filter_map(|e| e.label().map(|k| (k.prefix, e.name())))
                .enumerate()
                .map(|(i, (p, e))| {
                    let verb = if i == 0 { " go" } else { "" };
                    format!("`{p}-` labels{verb} on {{{e}}} blocks")
                })
                .collect();
            problems.push(
                Diagnostic::error(format!("label `{label}` is on a {{{}}} block", b.engine))
                    .at_offset(&doc.path, &doc.source, offset)
                    .hint(places.join(", ")),
            );
            continue;
        }
        let n = counts.entry(wanted.prefix).or_insert(0);
        *n += 1;
        let kind = (wanted.word, format!("{}{n}", doc.front.number_prefix));
        if labels.insert(label.to_string(), kind).is_some() {
            problems.push(
                Diagnostic::error(format!("label `{label}` is used twice")).at_offset(
                    &doc.path,
                    &doc.source,
                    offset,
                ),
            );
        }
    }
    labels
}

/// Frames describing the inputs: `codebook` (one row per variable),
/// `software` (coweave and its core crates, versions from Cargo.lock) and
/// `inputs` (every input file with its SHA-256).
pub fn about_frames(survey: &Survey, p: &Provenance) -> PolarsResult<Vec<(String, DataFrame)>> {
    let cb = &survey.codebook;
    let vars = &cb.variables;
    let mut out = Vec::new();
    let df = df![
        "variable" => vars.iter().map(|v| v.name.clone()).collect::<Vec<_>>(),
        "role" => vars.iter().map(|v| v.role.name().to_string()).collect::<Vec<_>>(),
        "theme" => vars.iter().map(|v| v.theme.clone()).collect::<Vec<_>>(),
        "sub" => vars.iter().map(|v| v.sub.clone()).collect::<Vec<_>>(),
        "label" => vars.iter().map(|v| v.label.clone()).collect::<Vec<_>>(),
        "values" => vars.iter().map(|v| v.values.clone()).collect::<Vec<_>>(),
        "areas_asked" => vars.iter().map(|v| v.areas.len() as i64).collect::<Vec<_>>(),
    ]?;
    out.push(("codebook".into(), df));
    let crates = crate::bundled::crate_versions();
    let df = df![
        "name" => crates.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        "version" => crates.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
    ]?;
    out.push(("software".into(), df));
    let mut input: Vec<String> = Vec::new();
    let mut file: Vec<String> = Vec::new();
    let mut sha: Vec<String> = Vec::new();
    let mut add = |i: String, f: &str, s: &str| {
        input.push(i);
        file.push(f.to_string());
        sha.push(s.to_string());
    };
    add("template".into(), &p.template, &p.template_sha256);
    if survey.loaded {
        add("survey data".into(), &p.data, &p.data_sha256);
        add("codebook".into(), &p.codebook, &p.codebook_sha256);
    }
    for f in &p.frames {
        add(format!("frame {}", f.name), &f.file, &f.sha256);
    }
    add("published tables".into(), &p.published, &p.published_sha256);
    let df = df![
        "input" => input,
        "file" => file,
        "sha256" => sha,
    ]?;
    out.push(("inputs".into(), df));
    Ok(out)
}

/// The published tables as frames: `published_areas`, `published_levels`,
/// `published_correlates`, `published_nudges`.
pub fn published_frames(p: &Published) -> PolarsResult<Vec<(String, DataFrame)>> {
    let mut out = Vec::new();
    let areas = df![
        "area" => p.areas.iter().map(|a| a.area.clone()).collect::<Vec<_>>(),
        "respondents" => p.areas.iter().map(|a| a.respondents as i64).collect::<Vec<_>>(),
        "nudge_experiment" => p.areas.iter().map(|a| a.nudge_experiment).collect::<Vec<_>>(),
    ];
    out.push(("published_areas".into(), areas?));
    let levels = df![
        "area" => p.levels.iter().map(|l| l.area.clone()).collect::<Vec<_>>(),
        "theme" => p.levels.iter().map(|l| l.theme.clone()).collect::<Vec<_>>(),
        "individual_pct" => p.levels.iter().map(|l| l.individual_pct).collect::<Vec<_>>(),
        "collective_pct" => p.levels.iter().map(|l| l.collective_pct).collect::<Vec<_>>(),
        "time_pct" => p.levels.iter().map(|l| l.time_pct).collect::<Vec<_>>(),
        "note" => p.levels.iter().map(|l| l.note.clone()).collect::<Vec<_>>(),
    ];
    out.push(("published_levels".into(), levels?));
    let cells: Vec<(
        &crate::survey::published::CorrelateRow,
        &crate::survey::published::CorrelateCell,
    )> = p
        .correlates
        .iter()
        .flat_map(|r| r.cells.iter().map(move |c| (r, c)))
        .collect();
    let correlates = df![
        "table" => cells.iter().map(|(r, _)| i64::from(r.table)).collect::<Vec<_>>(),
        "variable" => cells.iter().map(|(r, _)| r.variable.clone()).collect::<Vec<_>>(),
        "area" => cells.iter().map(|(_, c)| c.area.clone()).collect::<Vec<_>>(),
        "theme" => cells.iter().map(|(_, c)| c.theme.clone()).collect::<Vec<_>>(),
        "sub" => cells.iter().map(|(_, c)| c.sub.clone()).collect::<Vec<_>>(),
        "r" => cells.iter().map(|(_, c)| c.r).collect::<Vec<_>>(),
        "stars" => cells.iter().map(|(_, c)| i64::from(c.stars)).collect::<Vec<_>>(),
        "note" => cells.iter().map(|(r, c)| c.note.clone().or_else(|| r.note.clone())).collect::<Vec<_>>(),
    ];
    out.push(("published_correlates".into(), correlates?));
    let rows: Vec<(
        &crate::survey::published::NudgeBlock,
        &crate::survey::published::NudgeRow,
    )> = p
        .nudges
        .iter()
        .flat_map(|b| b.rows.iter().map(move |r| (b, r)))
        .collect();
    let nudges = df![
        "area" => rows.iter().map(|(b, _)| b.area.clone()).collect::<Vec<_>>(),
        "theme" => rows.iter().map(|(b, _)| b.theme.clone()).collect::<Vec<_>>(),
        "sub" => rows.iter().map(|(b, _)| b.sub.clone()).collect::<Vec<_>>(),
        "arm" => rows.iter().map(|(_, r)| r.arm.clone()).collect::<Vec<_>>(),
        "individual" => rows.iter().map(|(_, r)| r.individual).collect::<Vec<_>>(),
        "individual_stars" => rows.iter().map(|(_, r)| i64::from(r.individual_stars)).collect::<Vec<_>>(),
        "collective" => rows.iter().map(|(_, r)| r.collective).collect::<Vec<_>>(),
        "collective_stars" => rows.iter().map(|(_, r)| i64::from(r.collective_stars)).collect::<Vec<_>>(),
    ];
    out.push(("published_nudges".into(), nudges?));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(keys: &[&str]) -> Vec<Cell> {
        keys.iter()
            .map(|k| Cell {
                text: (*k).into(),
                numeric: false,
                emphasis: Emphasis::None,
                suppressed: false,
            })
            .collect()
    }

    #[test]
    fn outer_row_keys_span_their_runs() {
        let t = TableOut {
            label: None,
            number: None,
            caption: None,
            data: None,
            header: vec![],
            row_header_columns: 3,
            rows: vec![
                row(&["Safety", "Collective", "A", "1"]),
                row(&["Safety", "Collective", "B", "2"]),
                row(&["Safety", "Individual", "A", "3"]),
                row(&["Environment", "Collective", "A", "4"]),
                // the same measure under another theme starts a new run
                row(&["Environment", "Individual", "A", "5"]),
                row(&["Safety", "Individual", "A", "6"]),
            ],
            notes: vec![],
            csv: String::new(),
        };
        assert_eq!(
            t.row_spans(),
            vec![
                vec![3, 2, 1, 1],
                vec![0, 0, 1, 1],
                vec![0, 1, 1, 1],
                vec![2, 1, 1, 1],
                vec![0, 1, 1, 1],
                vec![1, 1, 1, 1],
            ]
        );
        // one row header column: nothing spans
        let one = TableOut {
            row_header_columns: 1,
            ..t.clone()
        };
        assert!(one.row_spans().iter().flatten().all(|s| *s == 1));
    }
}
