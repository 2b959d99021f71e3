//! Executing a parsed template: blocks run in document order against a
//! shared context of named frames; prose is rendered with their values;
//! cross-references are numbered. The result is an [`Evaluated`] document
//! that renderers turn into HTML, JSON (and later PDF) without running
//! anything. `engine` knows no output format.

pub mod cache;
pub mod chart;
pub mod disclosure;
pub mod frames;
pub mod labels;
pub mod params;
pub mod prose;
pub mod recommend;
pub mod sql;
pub mod stats;
pub mod table;

use std::collections::BTreeMap;

use polars::prelude::*;
use serde_json::Value;

use crate::diag::Diagnostic;
use crate::document::{Block, Document, Node};
use crate::survey::Survey;
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
}

impl Context<'_> {
    /// The frame a block names, or an error pointing at the name with the
    /// closest existing one as hint.
    pub fn frame(&self, name: &str, block: &Block) -> Result<&Named, BlockError> {
        self.frames.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.frames.keys().map(String::as_str).collect();
            let at = block
                .body
                .find(name)
                .map_or(block.body_offset, |i| block.body_offset + i);
            let e = BlockError::new(format!("no frame named `{name}`")).at(at);
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
) -> Result<T, BlockError> {
    crate::yaml::from_str(body).map_err(|e| {
        BlockError::new(format!(
            "{what} spec: {}",
            crate::document::yaml_message(&e.to_string())
        ))
        .at(block.body_offset)
    })
}

/// The frame a spec's `data:` key names (what table and chart blocks read).
pub(crate) fn data_key(body: &str) -> Vec<String> {
    crate::yaml::from_str::<BTreeMap<String, Value>>(body)
        .ok()
        .and_then(|m| m.get("data").and_then(Value::as_str).map(str::to_string))
        .into_iter()
        .collect()
}

/// A block's failure: message, the place in the template, hints.
#[derive(Debug, Clone)]
pub struct BlockError {
    /// What went wrong.
    pub message: String,
    /// Absolute byte offset in the template, when the engine knows better than the block start.
    pub offset: Option<usize>,
    /// Suggestions.
    pub hints: Vec<String>,
}

impl BlockError {
    /// An error at the block.
    pub fn new(message: impl Into<String>) -> Self {
        BlockError {
            message: message.into(),
            offset: None,
            hints: Vec::new(),
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hints.push(h.into());
        self
    }

    /// Points at an absolute offset.
    pub fn at(mut self, offset: usize) -> Self {
        self.offset = Some(offset);
        self
    }
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
}

/// One block engine.
pub trait Engine {
    /// Runs the block; `body` is its code after parameter substitution.
    fn run(&self, block: &Block, body: &str, ctx: &Context) -> Result<BlockOutput, BlockError>;
    /// Names of the context frames the block reads (for cache keys).
    fn reads(&self, block: &Block, body: &str, ctx: &Context) -> Vec<String>;
    /// Files the block reads besides frames (for cache keys): their content
    /// is part of the block's key.
    fn files(&self, _block: &Block, _body: &str, _ctx: &Context) -> Vec<std::path::PathBuf> {
        Vec::new()
    }
}

/// The engine for a block's engine name.
pub fn engine_for(name: &str) -> Option<&'static dyn Engine> {
    match name {
        "sql" => Some(&sql::Sql),
        "stats" => Some(&stats::StatsBlock),
        "table" => Some(&table::TableBlock),
        "chart" => Some(&chart::ChartBlock),
        "recommend" => Some(&recommend::Recommend),
        _ => None,
    }
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
    pub number: Option<usize>,
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

/// A figure, ready for any renderer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FigureOut {
    /// Cross-reference label (`fig-...`).
    pub label: Option<String>,
    /// Number, when labelled.
    pub number: Option<usize>,
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
    /// Markdown, values filled in and cross-references resolved.
    Markdown {
        /// The Markdown text.
        text: String,
    },
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
    /// Parameters.
    pub params: BTreeMap<String, Value>,
    /// Render date (YYYY-MM-DD, from SOURCE_DATE_EPOCH when set).
    pub date: String,
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
    /// Paper size for the PDF (`format: { pdf: { paper: letter } }`; A4 by default).
    #[serde(skip)]
    pub pdf_paper: Option<String>,
    /// Council name printed above the title in the PDF (`format.pdf.council`).
    #[serde(skip)]
    pub pdf_council: Option<String>,
    /// Accent colour of the PDF (`format.pdf.accent`, `#RRGGBB`).
    #[serde(skip)]
    pub pdf_accent: Option<String>,
    /// Logo image of the PDF title block: file extension and bytes (`format.pdf.logo`).
    #[serde(skip)]
    pub pdf_logo: Option<(String, Vec<u8>)>,
}

/// Inputs of an evaluation besides the document.
pub struct Inputs<'a> {
    /// The survey.
    pub survey: &'a Survey,
    /// Published tables, registered as `published_*` frames.
    pub published: Option<&'a Published>,
    /// Provenance of the data (file names and hashes).
    pub provenance: Provenance,
    /// Resolved parameters.
    pub params: BTreeMap<String, Value>,
    /// Block cache, if used.
    pub cache: Option<&'a mut cache::Cache>,
}

/// Runs every block, then renders the prose; all independent problems are
/// reported together.
pub fn evaluate(doc: &Document, inputs: Inputs) -> Result<Evaluated, Vec<Diagnostic>> {
    let Inputs {
        survey,
        published,
        provenance,
        params,
        mut cache,
    } = inputs;
    let data_key = format!("{}:{}", provenance.data_sha256, provenance.codebook_sha256);
    let mut ctx = Context {
        survey,
        frames: BTreeMap::new(),
        params: params.clone(),
        min_base: doc.front.disclosure.min_base,
        chart_style: crate::chart::Style::default(),
        base_dir: doc
            .path
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default(),
    };
    for (name, frame, keys) in [
        ("long", &survey.long, vec![]),
        ("respondents", &survey.respondents, vec![]),
    ] {
        ctx.frames.insert(
            name.into(),
            Named {
                frame: frame.clone(),
                keys,
                key: data_key.clone(),
            },
        );
    }
    let about_key = blake3::hash(
        serde_json::to_string(&provenance)
            .unwrap_or_default()
            .as_bytes(),
    )
    .to_hex()
    .to_string();
    let mut problems = Vec::new();
    let frame_error = |what: &str, e: PolarsError| {
        Diagnostic::error(format!("building the {what} frames: {e}")).at(&doc.path, None, None)
    };
    let about = about_frames(survey, &provenance).unwrap_or_else(|e| {
        problems.push(frame_error("input description", e));
        Vec::new()
    });
    for (name, frame) in about {
        ctx.frames.insert(
            name,
            Named {
                frame,
                keys: vec![],
                key: about_key.clone(),
            },
        );
    }
    if let Some(p) = published {
        let published = published_frames(p).unwrap_or_else(|e| {
            problems.push(frame_error("published tables'", e));
            Vec::new()
        });
        for (name, frame) in published {
            ctx.frames.insert(
                name,
                Named {
                    frame,
                    keys: vec![],
                    key: format!("published:{}", provenance.published_sha256),
                },
            );
        }
    }
    let mut warnings: Vec<Diagnostic> = Vec::new();
    let mut log = Vec::new();
    match crate::chart::Style::from_format(&doc.front.format) {
        Ok(style) => ctx.chart_style = style,
        Err(msg) => problems.push(Diagnostic::error(msg).at_offset(
            &doc.path,
            &doc.source,
            doc.front_offset,
        )),
    }
    let mut failed: std::collections::HashSet<String> = std::collections::HashSet::new();
    // where each output node comes from in the template (line, column)
    let mut origins: Vec<(usize, usize)> = Vec::new();
    let place = |offset: usize| {
        let (l, c, _) = crate::diag::line_col(&doc.source, offset);
        (l, c)
    };
    // where the template's prose sits among the output nodes
    let mut prose_slots: Vec<(usize, &crate::document::Prose)> = Vec::new();
    let labels = number_labels(doc, &mut problems);
    let mut nodes = Vec::new();
    let mut results = BTreeMap::new();
    let env = prose::environment(survey);
    for node in &doc.nodes {
        match node {
            Node::Prose(p) => {
                prose_slots.push((nodes.len(), p));
                origins.push(place(p.offset));
                nodes.push(OutNode::Markdown {
                    text: p.text.clone(),
                });
            }
            Node::Block(original) => {
                let Some(engine) = engine_for(&original.engine) else {
                    continue;
                };
                // `#| eval: false`, or a condition on earlier results, skips the block
                if let Some(opt) = original.options.get("eval") {
                    let run = match &opt.value {
                        Value::Bool(b) => Ok(*b),
                        Value::String(cond) => {
                            let values = prose::values(&ctx, doc);
                            let expr = cond.trim().trim_start_matches("{{").trim_end_matches("}}");
                            env.compile_expression(expr)
                                .and_then(|e| e.eval(values))
                                .map(|v| v.is_true())
                                .map_err(|e| {
                                    e.detail()
                                        .map_or_else(|| e.kind().to_string(), str::to_string)
                                })
                        }
                        other => Err(format!(
                            "`eval` must be true, false or a condition, not {other}"
                        )),
                    };
                    match run {
                        Ok(true) => {}
                        Ok(false) => {
                            log.push(format!("{}: skipped (eval is false)", original.describe()));
                            continue;
                        }
                        Err(msg) => {
                            problems.push(
                                Diagnostic::error(format!(
                                    "{}: in `eval`: {msg}",
                                    original.describe()
                                ))
                                .at_offset(
                                    &doc.path,
                                    &doc.source,
                                    opt.offset,
                                ),
                            );
                            continue;
                        }
                    }
                }
                // a block that uses the result of a failed block is skipped:
                // its error would only repeat the first one
                let mentions_failed = original
                    .body
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|w| failed.contains(w));
                if mentions_failed {
                    if let Some(name) = original.result_name() {
                        failed.insert(name);
                    }
                    continue;
                }
                // captions and alt text may use parameters too
                let mut block = original.clone();
                for key in ["caption", "alt"] {
                    if let Some(opt) = block.options.get_mut(key)
                        && let Some(text) = opt.value.as_str()
                        && text.contains("{{")
                    {
                        match prose::render_params(&env, text, &ctx.params) {
                            Ok(t) => opt.value = Value::String(t),
                            Err(msg) => problems.push(
                                Diagnostic::error(format!("in `{key}`: {msg}")).at_offset(
                                    &doc.path,
                                    &doc.source,
                                    opt.offset,
                                ),
                            ),
                        }
                    }
                }
                let block = &block;
                // block code may use parameters: {{ params.area }}
                let body = match prose::render_block_body(&env, block, &ctx) {
                    Ok(b) => b,
                    Err((msg, at)) => {
                        problems.push(
                            Diagnostic::error(format!(
                                "{}: in the block's code: {msg}",
                                block.describe()
                            ))
                            .at_offset(&doc.path, &doc.source, at),
                        );
                        if let Some(name) = block.result_name() {
                            failed.insert(name);
                        }
                        continue;
                    }
                };
                if block.option_bool("echo", false) {
                    origins.push(place(block.offset));
                    nodes.push(OutNode::Code {
                        engine: block.engine.clone(),
                        source: body.clone(),
                    });
                }
                let reads = engine.reads(block, &body, &ctx);
                let input_keys: Vec<(String, String)> = reads
                    .iter()
                    .filter_map(|n| ctx.frames.get(n).map(|f| (n.clone(), f.key.clone())))
                    .collect();
                let mut input_keys = input_keys;
                if block.engine == "chart" {
                    input_keys.push(("chart style".into(), format!("{:?}", ctx.chart_style)));
                }
                for file in engine.files(block, &body, &ctx) {
                    let content = std::fs::read(&file).map_or_else(
                        |e| format!("unreadable: {e}"),
                        |b| blake3::hash(&b).to_hex().to_string(),
                    );
                    input_keys.push((format!("file {}", file.display()), content));
                }
                let key = cache::block_key(block, &body, &input_keys, ctx.min_base);
                let ident = block
                    .result_name()
                    .unwrap_or_else(|| format!("block{}", block.index + 1));
                let use_cache = block.option_bool("cache", true);
                let cached = match (&mut cache, use_cache) {
                    (Some(c), true) => c.get(&ident, &key),
                    _ => None,
                };
                let output = match cached {
                    Some(out) => {
                        log.push(format!("{}: cached", block.describe()));
                        out
                    }
                    None => {
                        let reason = match (&cache, use_cache) {
                            (Some(c), true) => c.why(&ident, &body, &input_keys),
                            (Some(_), false) => "cache: false".to_string(),
                            (None, _) => "cache off".to_string(),
                        };
                        log.push(format!("{}: ran ({reason})", block.describe()));
                        match engine
                            .run(block, &body, &ctx)
                            .and_then(|out| suppress(out, block, ctx.min_base))
                        {
                            Ok(out) => {
                                if let (Some(c), true) = (&mut cache, use_cache)
                                    && let Err(e) = c.put(&ident, &key, &body, &input_keys, &out)
                                {
                                    warnings.push(
                                        Diagnostic::warning(format!(
                                            "{}: its result could not be cached ({e}); it will run again next time",
                                            block.describe()
                                        ))
                                        .at_offset(&doc.path, &doc.source, block.offset),
                                    );
                                }
                                out
                            }
                            Err(e) => {
                                let mut d = Diagnostic::error(format!(
                                    "{}: {}",
                                    block.describe(),
                                    e.message
                                ))
                                .at_offset(
                                    &doc.path,
                                    &doc.source,
                                    e.offset
                                        .or_else(|| locate_in_body(block, &e.message))
                                        .unwrap_or(block.engine_offset),
                                );
                                d.hints = e.hints;
                                problems.push(d);
                                if let Some(name) = block.result_name() {
                                    failed.insert(name);
                                }
                                continue;
                            }
                        }
                    }
                };
                match output {
                    BlockOutput::Frame { frame, keys } => {
                        if let Some(name) = block.result_name() {
                            // `include: false` keeps an intermediate frame out of the outputs
                            if block.option_bool("include", true) {
                                results.insert(name.clone(), Value::Array(frames::rows(&frame)));
                            }
                            ctx.frames.insert(
                                name,
                                Named {
                                    frame,
                                    keys,
                                    key: key.clone(),
                                },
                            );
                        }
                    }
                    BlockOutput::Table(mut t) => {
                        t.number = t
                            .label
                            .as_ref()
                            .and_then(|l| labels.get(l).map(|(_, n)| *n));
                        origins.push(place(block.offset));
                        nodes.push(OutNode::Table(t));
                    }
                    BlockOutput::Figure(mut f) => {
                        f.number = f
                            .label
                            .as_ref()
                            .and_then(|l| labels.get(l).map(|(_, n)| *n));
                        origins.push(place(block.offset));
                        nodes.push(OutNode::Figure(f));
                    }
                    BlockOutput::Prose { markdown, frame } => {
                        if let Some(name) = block.result_name() {
                            results.insert(name.clone(), Value::Array(frames::rows(&frame)));
                            ctx.frames.insert(
                                name,
                                Named {
                                    frame,
                                    keys: vec![],
                                    key: key.clone(),
                                },
                            );
                        }
                        origins.push(place(block.offset));
                        nodes.push(OutNode::Markdown { text: markdown });
                    }
                }
            }
        }
    }
    // prose: values filled in, cross-references resolved
    let values = prose::values(&ctx, doc);
    for (index, p) in prose_slots {
        let OutNode::Markdown { text } = &mut nodes[index] else {
            continue;
        };
        match prose::render(&env, &p.text, &values) {
            Ok(rendered) => match prose::cross_references(&rendered, &labels) {
                Ok(t) => *text = t,
                Err(bad) => {
                    let at = p
                        .text
                        .find(&format!("@{bad}"))
                        .map_or(p.offset, |i| p.offset + i);
                    let known: Vec<&str> = labels.keys().map(String::as_str).collect();
                    let mut d = Diagnostic::error(format!("unknown cross-reference `@{bad}`"))
                        .at_offset(&doc.path, &doc.source, at);
                    d = match crate::document::closest(&bad, &known) {
                        Some(s) => d.hint(format!("did you mean `@{s}`?")),
                        None => d.hint("label a table block `#| label: tbl-...` or a chart block `#| label: fig-...`"),
                    };
                    problems.push(d);
                }
            },
            // a value of a block that failed is missing: its error says why
            Err((msg, _))
                if quoted_words(&msg)
                    .iter()
                    .any(|w| failed.contains(w.as_str())) => {}
            Err((msg, offset)) => {
                problems.push(
                    Diagnostic::error(format!("in prose: {msg}"))
                        .at_offset(&doc.path, &doc.source, p.offset + offset.unwrap_or(0))
                        .hint("values are the names of blocks (`#| name: ...`) and `params`; filters: pct, num, ci, pvalue, stars, signed, plural"),
                );
            }
        }
    }
    let title = doc.front.title.clone().unwrap_or_else(|| {
        doc.path
            .file_stem()
            .map_or("Report".into(), |s| s.to_string_lossy().to_string())
    });
    let render_meta =
        |s: &str, what: &str, problems: &mut Vec<Diagnostic>| match prose::render(&env, s, &values)
        {
            Ok(t) => t,
            Err((msg, _)) => {
                problems.push(
                    Diagnostic::error(format!("in the {what}: {msg}")).at_offset(
                        &doc.path,
                        &doc.source,
                        doc.front_offset,
                    ),
                );
                s.to_string()
            }
        };
    let title = render_meta(&title, "title", &mut problems);
    let subtitle = doc
        .front
        .subtitle
        .as_ref()
        .map(|s| render_meta(s, "subtitle", &mut problems));
    if !problems.is_empty() {
        return Err(problems);
    }
    let date = match doc.front.date.as_deref() {
        None | Some("today") => provenance.date.clone(),
        Some(d) => d.to_string(),
    };
    Ok(Evaluated {
        title,
        subtitle,
        author: doc.front.author.clone(),
        date,
        lang: doc.front.lang.clone(),
        toc: doc.front.toc,
        nodes,
        results,
        provenance,
        warnings,
        log,
        frames: ctx
            .frames
            .iter()
            .filter(|(n, _)| !matches!(n.as_str(), "long" | "respondents"))
            .map(|(n, f)| (n.clone(), f.frame.clone()))
            .collect(),
        origins,
        pdf_council: pdf_option(doc, "council"),
        pdf_accent: pdf_option(doc, "accent"),
        pdf_logo: None,
        pdf_paper: doc
            .front
            .format
            .get("pdf")
            .and_then(|p| p.get("paper"))
            .and_then(|v| v.as_str())
            .map(str::to_string),
    })
}

/// Disclosure control on a block's frame, before anything reads it
/// (`#| base: column` names the base; default `n`).
fn suppress(out: BlockOutput, block: &Block, min_base: u32) -> Result<BlockOutput, BlockError> {
    let base = block.option_str("base");
    let fail = |e: PolarsError| {
        let e = BlockError::new(format!("disclosure control: {e}"));
        match block.options.get("base") {
            Some(o) => e.at(o.offset),
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
        other => other,
    })
}

fn pdf_option(doc: &Document, key: &str) -> Option<String> {
    doc.front
        .format
        .get("pdf")
        .and_then(|p| p.get(key))
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

/// Where in a block's code the first `quoted` word of a message is.
fn locate_in_body(block: &Block, message: &str) -> Option<usize> {
    quoted_words(message).iter().find_map(|word| {
        block
            .body
            .find(word.as_str())
            .map(|i| block.body_offset + i)
    })
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

/// Numbers `tbl-` and `fig-` labels in document order: label -> (kind, n).
fn number_labels(
    doc: &Document,
    problems: &mut Vec<Diagnostic>,
) -> BTreeMap<String, (&'static str, usize)> {
    let mut labels = BTreeMap::new();
    let (mut tables, mut figures) = (0, 0);
    for node in &doc.nodes {
        let Node::Block(b) = node else { continue };
        let Some(label) = b.option_str("label") else {
            continue;
        };
        let offset = b.options.get("label").map_or(b.offset, |o| o.offset);
        let kind = match (label.split('-').next(), b.engine.as_str()) {
            (Some("tbl"), "table") => {
                tables += 1;
                ("Table", tables)
            }
            (Some("fig"), "chart") => {
                figures += 1;
                ("Figure", figures)
            }
            (Some("tbl" | "fig"), engine) => {
                problems.push(
                    Diagnostic::error(format!("label `{label}` is on a {{{engine}}} block"))
                        .at_offset(&doc.path, &doc.source, offset)
                        .hint(
                            "`tbl-` labels go on {table} blocks, `fig-` labels on {chart} blocks",
                        ),
                );
                continue;
            }
            _ => continue,
        };
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
    let df = df![
        "input" => ["template", "survey data", "codebook", "published tables"],
        "file" => [p.template.clone(), p.data.clone(), p.codebook.clone(), p.published.clone()],
        "sha256" => [p.template_sha256.clone(), p.data_sha256.clone(), p.codebook_sha256.clone(), p.published_sha256.clone()],
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
