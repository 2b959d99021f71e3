//! The driver: runs a template's blocks in order and renders its prose.
//! `evaluate` is a short loop over small steps: set up the context, then
//! per block decide whether it runs, prepare its code, run it or take it
//! from the cache, and place its output; then render the prose and the
//! title. It names no engine: what differs between engines is asked of the
//! [`Engine`] trait.

use std::collections::{BTreeMap, HashSet};

use minijinja::Environment;
use polars::prelude::*;
use serde_json::Value;

use super::{
    BlockOutput, Context, Engine, Evaluated, Inputs, Labels, Markdown, Named, OutNode, Piece,
    about_frames, cache, engine_for, frames, locate_in_body, number_labels, prose,
    published_frames, quoted_words, suppress,
};
use crate::diag::{Diagnostic, Warned};
use crate::document::{Block, Document, Node, Prose};

/// A block ready to run: its code with parameters filled in and its cache key.
struct Prepared {
    block: Block,
    body: String,
    inputs: Vec<(String, String)>,
    key: String,
    ident: String,
}

struct Driver<'a> {
    doc: &'a Document,
    ctx: Context<'a>,
    env: Environment<'static>,
    cache: Option<&'a mut cache::Cache>,
    memo: Option<&'a cache::Memo>,
    labels: Labels,
    /// Labels declared on blocks that showed nothing (`eval` false, or a
    /// block that did not run): their kind ("Table", "Figure").
    unshown: BTreeMap<String, &'static str>,
    problems: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    log: Vec<String>,
    failed: HashSet<String>,
    nodes: Vec<OutNode>,
    origins: Vec<(usize, usize)>,
    results: BTreeMap<String, Value>,
    prose_slots: Vec<(usize, &'a Prose)>,
    files: std::collections::BTreeSet<std::path::PathBuf>,
}

/// Runs every block, then renders the prose; all independent problems are
/// reported together.
pub fn evaluate(doc: &Document, inputs: Inputs) -> Result<Evaluated, Vec<Diagnostic>> {
    let provenance = inputs.provenance.clone();
    let mut d = Driver::new(doc, inputs);
    for node in &doc.nodes {
        match node {
            Node::Prose(p) => d.hold_prose(p),
            Node::Block(b) => d.block(b),
        }
    }
    d.finish(provenance)
}

impl<'a> Driver<'a> {
    fn new(doc: &'a Document, inputs: Inputs<'a>) -> Self {
        let mut problems = Vec::new();
        let ctx = context(doc, &inputs, &mut problems);
        let labels = number_labels(doc, &mut problems);
        Driver {
            doc,
            env: prose::environment(inputs.survey),
            ctx,
            cache: inputs.cache,
            memo: inputs.memo,
            labels,
            unshown: BTreeMap::new(),
            problems,
            warnings: Vec::new(),
            log: Vec::new(),
            failed: HashSet::new(),
            nodes: Vec::new(),
            origins: Vec::new(),
            results: BTreeMap::new(),
            prose_slots: Vec::new(),
            files: std::collections::BTreeSet::new(),
        }
    }

    fn error_at(&mut self, message: String, offset: usize) {
        let d = Diagnostic::error(message).at_offset(&self.doc.path, &self.doc.source, offset);
        self.problems.push(d);
    }

    fn push_node(&mut self, node: OutNode, offset: usize) {
        let (l, c, _) = crate::diag::line_col(&self.doc.source, offset);
        self.origins.push((l, c));
        self.nodes.push(node);
    }

    fn fail(&mut self, block: &Block) {
        if let Some(name) = block.result_name() {
            self.failed.insert(name);
        }
        // code cells share a session: after one fails, the rest would only
        // report what it failed to define
        if let Some(engine) = engine_for(&block.engine) {
            self.failed.extend(engine.provides(block));
            if engine.runs_code() {
                self.failed.insert(format!("{{{}}}", block.engine));
            }
        }
    }

    /// Prose is rendered after every block ran; its place is kept.
    fn hold_prose(&mut self, p: &'a Prose) {
        self.prose_slots.push((self.nodes.len(), p));
        // until every block ran, the template text stands in
        let (text, _) = Markdown::parse(p.text.clone(), &Labels::new());
        self.push_node(OutNode::Markdown(text), p.offset);
    }

    fn block(&mut self, original: &Block) {
        let Some(engine) = engine_for(&original.engine) else {
            return;
        };
        if !self.should_run(original) {
            return;
        }
        if engine.runs_code() && !self.ctx.exec {
            self.error_at(
                format!(
                    "{}: runs {} code, and --no-exec refuses to run code from a template",
                    original.describe(),
                    original.engine
                ),
                original.engine_offset,
            );
            self.fail(original);
            return;
        }
        let Some(p) = self.prepare(engine, original) else {
            return;
        };
        if let Some(output) = self.output(engine, &p) {
            self.place(&p, output);
        }
    }

    /// `#| eval: false`, a false condition on earlier results, or a result
    /// of a failed block (whose error would only repeat) skips a block.
    fn should_run(&mut self, block: &Block) -> bool {
        if let Some(opt) = block.options.get("eval") {
            let run = match &opt.value {
                Value::Bool(b) => Ok(*b),
                Value::String(cond) => {
                    let values = prose::values(&self.ctx, self.doc);
                    let expr = cond.trim().trim_start_matches("{{").trim_end_matches("}}");
                    self.env
                        .compile_expression(expr)
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
                    self.log
                        .push(format!("{}: skipped (eval is false)", block.describe()));
                    return false;
                }
                Err(msg) => {
                    self.error_at(
                        format!("{}: in `eval`: {msg}", block.describe()),
                        opt.offset,
                    );
                    return false;
                }
            }
        }
        if self.failed.contains(&format!("{{{}}}", block.engine)) {
            self.log.push(format!(
                "{}: skipped (an earlier {{{}}} cell failed)",
                block.describe(),
                block.engine
            ));
            return false;
        }
        let mentions_failed = block
            .body
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| self.failed.contains(w));
        if mentions_failed {
            self.fail(block);
        }
        !mentions_failed
    }

    /// Parameters filled into captions, alt text and code; the cache key.
    fn prepare(&mut self, engine: &dyn Engine, original: &Block) -> Option<Prepared> {
        let mut block = original.clone();
        // a chart with empty alt text is a picture a screen reader cannot
        // describe (and a PDF that fails PDF/UA-1)
        if let Some(opt) = block.options.get("alt")
            && opt.value.as_str().is_some_and(|t| t.trim().is_empty())
        {
            let at = opt.offset;
            self.error_at(
                "`alt` is empty: describe the chart in words, or leave `alt` out for the description coweave writes from the data".into(),
                at,
            );
            return None;
        }
        for key in ["caption", "alt"] {
            if let Some(opt) = block.options.get_mut(key)
                && let Some(text) = opt.value.as_str()
                && text.contains("{{")
            {
                match prose::render_params(&self.env, text, &self.ctx.params) {
                    Ok(t) => opt.value = Value::String(t),
                    Err(msg) => {
                        let at = opt.offset;
                        self.error_at(format!("in `{key}`: {msg}"), at);
                    }
                }
            }
        }
        let body = match engine.body(&self.env, &block, &self.ctx) {
            Ok(b) => b,
            Err((msg, at)) => {
                self.error_at(
                    format!("{}: in the block's code: {msg}", block.describe()),
                    at,
                );
                self.fail(&block);
                return None;
            }
        };
        if block.option_bool("echo", false) {
            let node = OutNode::Code {
                engine: block.engine.clone(),
                source: body.clone(),
            };
            self.push_node(node, block.offset);
        }
        let mut inputs = self.input_keys(engine, &block, &body);
        inputs.extend(engine.state(&block, &body, &self.ctx));
        let key = cache::block_key(&block, &body, &inputs, self.ctx.min_base);
        // the cache index remembers each template's blocks apart
        let ident = format!(
            "{}#{}",
            self.doc.path.display(),
            block
                .result_name()
                .unwrap_or_else(|| format!("block{}", block.index + 1))
        );
        Some(Prepared {
            block,
            body,
            inputs,
            key,
            ident,
        })
    }

    /// What the block's output depends on besides its code: the keys of the
    /// frames it reads, settings, and the content of the files it reads.
    fn input_keys(
        &mut self,
        engine: &dyn Engine,
        block: &Block,
        body: &str,
    ) -> Vec<(String, String)> {
        let mut keys: Vec<(String, String)> = engine
            .reads(block, body, &self.ctx)
            .iter()
            .filter_map(|n| self.ctx.frames.get(n).map(|f| (n.clone(), f.key.clone())))
            .collect();
        keys.extend(engine.settings(&self.ctx));
        for file in engine.files(block, body, &self.ctx) {
            let content = std::fs::read(&file).map_or_else(
                |e| format!("unreadable: {e}"),
                |b| blake3::hash(&b).to_hex().to_string(),
            );
            keys.push((format!("file {}", file.display()), content));
            self.files.insert(file);
        }
        keys
    }

    /// The block's output from the cache, from another render of the batch,
    /// or from running it (then cached).
    fn output(&mut self, engine: &dyn Engine, p: &Prepared) -> Option<BlockOutput> {
        let use_cache = p.block.option_bool("cache", true);
        if use_cache && let Some(out) = self.cache.as_ref().and_then(|c| c.get(&p.key)) {
            self.log.push(format!("{}: cached", p.block.describe()));
            return Some(out);
        }
        let reason = match (&self.cache, use_cache) {
            (Some(c), true) => c.why(&p.ident, &p.body, &p.inputs),
            (Some(_), false) => "cache: false".to_string(),
            (None, _) => "cache off".to_string(),
        };
        let run = || {
            engine.run(&p.block, &p.body, &self.ctx).and_then(|w| {
                Ok(Warned {
                    output: suppress(w.output, &p.block, self.ctx.min_base)?,
                    warnings: w.warnings,
                })
            })
        };
        let started = std::time::Instant::now();
        // code cells share a session with the cells before them: never shared
        let (run, here) = match self.memo {
            Some(memo) if use_cache && !engine.runs_code() => match memo.get_or_run(&p.key, run) {
                // an error points into the template that met it: met here, anew
                (Err(_), false) => (run(), true),
                shared => shared,
            },
            _ => (run(), true),
        };
        self.log.push(if here {
            format!(
                "{}: ran ({reason}) in {}",
                p.block.describe(),
                crate::diag::took(started.elapsed())
            )
        } else {
            format!(
                "{}: shared (computed for another output of this run)",
                p.block.describe()
            )
        });
        match run {
            Ok(Warned { output, warnings }) => {
                // a result with warnings is not cached, so that its warnings
                // are reported on every render, cached or not
                self.store(p, &output, here && use_cache && warnings.is_empty());
                for w in warnings {
                    let w = w.locate(&self.doc.path, &self.doc.source, p.block.engine_offset);
                    self.warnings.push(Diagnostic {
                        message: format!("{}: {}", p.block.describe(), w.message),
                        ..w
                    });
                }
                Some(output)
            }
            Err(mut e) => {
                let fallback =
                    locate_in_body(&p.block, &e.message).unwrap_or(p.block.engine_offset);
                e.message = format!("{}: {}", p.block.describe(), e.message);
                let d = e.locate(&self.doc.path, &self.doc.source, fallback);
                self.problems.push(d);
                self.fail(&p.block);
                None
            }
        }
    }

    fn store(&mut self, p: &Prepared, out: &BlockOutput, use_cache: bool) {
        let Some(c) = self.cache.as_mut().filter(|_| use_cache) else {
            return;
        };
        if let Err(e) = c.put(&p.ident, &p.key, &p.body, &p.inputs, out) {
            let w = Diagnostic::warning(format!(
                "{}: its result could not be cached ({e}); it will run again next time",
                p.block.describe()
            ))
            .at_offset(&self.doc.path, &self.doc.source, p.block.offset);
            self.warnings.push(w);
        }
    }

    /// A published output with a row per respondent, unless the template
    /// allows it: `rows` rows, `has_id` when it carries the id column.
    fn respondent_level(&mut self, p: &Prepared, rows: usize, has_id: bool) -> bool {
        if self.doc.front.disclosure.rows == crate::document::Rows::RespondentLevel {
            return false;
        }
        let respondents = self
            .ctx
            .frames
            .get("respondents")
            .map_or(0, |n| n.frame.height());
        // without a survey (a template of its own data files) there are no
        // respondents to protect, and an `id` column means something else
        if respondents == 0 {
            return false;
        }
        // aggregates are far smaller than the survey: a result with half as
        // many rows as there are respondents stands for individuals
        let many = rows >= (respondents / 2).max(50);
        if !(many || has_id) {
            return false;
        }
        let why = if has_id {
            "it carries the respondent id".to_string()
        } else {
            format!("it has {rows} rows for {respondents} respondents")
        };
        let d = Diagnostic::error(format!(
            "{}: this output has a row per respondent ({why}); respondent-level rows are not published unless the template says so",
            p.block.describe()
        ))
        .at_offset(&self.doc.path, &self.doc.source, p.block.offset)
        .hint("aggregate it (GROUP BY), keep it out of the outputs with `#| include: false`, or, where the data may be published row by row, set `disclosure: { rows: respondent-level }` in the front matter");
        self.problems.push(d);
        true
    }

    /// Whether `frame` has a column of respondent ids: one named `id` (as
    /// in the survey frames) or as the codebook names it, whose values are
    /// all respondents' ids (a recommendation's `id` is not).
    fn carries_respondent_ids(&self, frame: &DataFrame) -> bool {
        let as_text = |df: &DataFrame, name: &str| {
            df.column(name)
                .and_then(|c| c.cast(&DataType::String))
                .ok()
                .filter(|c| c.null_count() < c.len())
        };
        // most results have no id column: then nothing is looked up
        let id_name = self.id_name();
        let columns: Vec<Column> = ["id", id_name.as_str()]
            .iter()
            .filter_map(|name| as_text(frame, name))
            .collect();
        if columns.is_empty() {
            return false;
        }
        let Some(known) = self
            .ctx
            .frames
            .get("respondents")
            .and_then(|n| as_text(&n.frame, "id"))
        else {
            return false;
        };
        let Ok(known) = known.str() else {
            return false;
        };
        let known: std::collections::HashSet<&str> = known.iter().flatten().collect();
        columns.iter().any(|c| {
            c.str()
                .is_ok_and(|values| values.iter().flatten().all(|v| known.contains(v)))
        })
    }

    /// The codebook's respondent id column.
    fn id_name(&self) -> String {
        self.ctx
            .survey
            .codebook
            .role_variable(crate::survey::Role::Id)
            .map_or_else(|| "id".to_string(), |v| v.name.clone())
    }

    /// A frame joins the context (and the JSON results); tables, figures and
    /// Markdown join the document, numbered by their labels.
    fn place(&mut self, p: &Prepared, output: BlockOutput) {
        let number = |label: &Option<String>, labels: &Labels| {
            label
                .as_ref()
                .and_then(|l| labels.get(l).map(|(_, n)| n.clone()))
        };
        let (frame, keys, shown) = match output {
            BlockOutput::Frame { frame, keys } => {
                (frame, keys, p.block.option_bool("include", true))
            }
            BlockOutput::Table(mut t) => {
                if self.respondent_level(p, t.rows.len(), false) {
                    return;
                }
                t.number = number(&t.label, &self.labels);
                return self.push_node(OutNode::Table(t), p.block.offset);
            }
            BlockOutput::Figure(mut f) => {
                // the data behind a chart is published with it
                let rows = f.csv.lines().count().saturating_sub(1);
                if self.respondent_level(p, rows, false) {
                    return;
                }
                f.number = number(&f.label, &self.labels);
                return self.push_node(OutNode::Figure(f), p.block.offset);
            }
            BlockOutput::Prose { markdown, frame } => {
                // references in generated prose are resolved; unknown ones stay text
                let (md, _) = Markdown::parse(markdown, &self.labels);
                self.push_node(OutNode::Markdown(md), p.block.offset);
                (frame, vec![], true)
            }
            BlockOutput::Cell(cell) => return self.place_cell(p, cell),
        };
        // a respondent-level result is an error; it stays usable by later
        // blocks (so that their own problems are still found) but is not
        // published
        let shown = shown && {
            let has_id = self.carries_respondent_ids(&frame);
            !self.respondent_level(p, frame.height(), has_id)
        };
        if let Some(name) = p.block.result_name() {
            // `include: false` keeps an intermediate frame out of the outputs
            if shown {
                self.results
                    .insert(name.clone(), Value::Array(frames::rows(&frame)));
            }
            let key = p.key.clone();
            self.ctx.frames.insert(
                name,
                Named {
                    frame,
                    keys,
                    key,
                    scalar: false,
                },
            );
        }
    }

    /// What a code cell showed joins the document; what it handed on joins
    /// the context under its names (values as values).
    fn place_cell(&mut self, p: &Prepared, cell: super::CellOut) {
        let shown = p.block.option_bool("include", true);
        for s in cell.shown {
            let node = match s {
                super::Shown::Text { text } => OutNode::Output { text },
                super::Shown::Table(t) => OutNode::Table(t),
                super::Shown::Figure(f) => OutNode::Figure(f),
            };
            if shown {
                self.push_node(node, p.block.offset);
            }
        }
        for h in cell.handed {
            let value = if h.scalar {
                frames::single_value(&h.frame)
            } else {
                Value::Array(frames::rows(&h.frame))
            };
            self.results.insert(h.name.clone(), value);
            let key = format!("{}:{}", p.key, h.name);
            self.ctx.frames.insert(
                h.name,
                Named {
                    frame: h.frame,
                    keys: vec![],
                    key,
                    scalar: h.scalar,
                },
            );
        }
    }

    /// Prose with values filled in and cross-references resolved.
    fn render_prose(&mut self, values: &minijinja::Value) {
        for (index, p) in std::mem::take(&mut self.prose_slots) {
            match prose::render(&self.env, &p.text, values) {
                Ok(rendered) => {
                    let (md, unknown) = Markdown::parse(rendered, &self.labels);
                    self.nodes[index] = OutNode::Markdown(md);
                    if let Some(bad) = unknown.first() {
                        self.unknown_reference(p, bad);
                    }
                }
                // a value of a block that failed is missing: its error says why
                Err((msg, _))
                    if quoted_words(&msg)
                        .iter()
                        .any(|w| self.failed.contains(w.as_str())) => {}
                Err((msg, offset)) => {
                    let mut d = Diagnostic::error(format!("in prose: {msg}")).at_offset(
                        &self.doc.path,
                        &self.doc.source,
                        p.offset + offset.unwrap_or(0),
                    );
                    d = match keys_at_miss(&msg, values) {
                        Some(hint) => d.hint(hint),
                        None => d.hint("values are the names of blocks (`#| name: ...`) and `params`; filters: pct, num, ci, pvalue, stars, signed, plural"),
                    };
                    self.problems.push(d);
                }
            }
        }
    }

    fn unknown_reference(&mut self, p: &Prose, bad: &str) {
        let at = p
            .text
            .find(&format!("@{bad}"))
            .map_or(p.offset, |i| p.offset + i);
        if let Some(word) = self.unshown.get(bad) {
            // a label the template has, on a block this render leaves out
            let d = Diagnostic::warning(format!(
                "`@{bad}` refers to a {} this render does not show (its block's `eval` is false here, or it did not run); the reference is printed as written",
                word.to_lowercase()
            ))
            .at_offset(&self.doc.path, &self.doc.source, at)
            .hint("put the sentence that refers to it under the same condition");
            self.warnings.push(d);
            return;
        }
        let known: Vec<&str> = self.labels.keys().map(String::as_str).collect();
        let d = Diagnostic::error(format!("unknown cross-reference `@{bad}`")).at_offset(
            &self.doc.path,
            &self.doc.source,
            at,
        );
        let d = match crate::document::closest(bad, &known) {
            Some(s) => d.hint(format!("did you mean `@{s}`?")),
            None => d.hint(
                "label a table block `#| label: tbl-...` or a chart block `#| label: fig-...`",
            ),
        };
        self.problems.push(d);
    }

    /// Title and subtitle may use values too.
    fn meta(&mut self, text: &str, what: &str, values: &minijinja::Value) -> String {
        match prose::render(&self.env, text, values) {
            Ok(t) => t,
            Err((msg, _)) => {
                let at = self.doc.front_offset;
                self.error_at(format!("in the {what}: {msg}"), at);
                text.to_string()
            }
        }
    }

    /// Numbers the tables and figures the document shows, in order: a
    /// block that showed nothing (its `eval` false for these parameters)
    /// takes no number, so the numbers a reader sees run 1, 2, 3 with no
    /// gap, in every format; references already resolved (in generated
    /// prose) follow.
    fn renumber(&mut self) {
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut shown = Labels::new();
        for node in &self.nodes {
            let label = match node {
                OutNode::Table(t) => &t.label,
                OutNode::Figure(f) => &f.label,
                _ => continue,
            };
            if let Some(l) = label
                && let Some((word, _)) = self.labels.get(l)
                && !shown.contains_key(l)
            {
                let n = counts.entry(word).or_insert(0);
                *n += 1;
                let number = format!("{}{n}", self.doc.front.number_prefix);
                shown.insert(l.clone(), (*word, number));
            }
        }
        let number = |label: &Option<String>| -> Option<String> {
            shown.get(label.as_ref()?).map(|(_, n)| n.clone())
        };
        for node in &mut self.nodes {
            match node {
                OutNode::Table(t) => t.number = number(&t.label),
                OutNode::Figure(f) => f.number = number(&f.label),
                OutNode::Markdown(md) => {
                    for piece in &mut md.pieces {
                        if let Piece::Ref(r) = piece
                            && let Some((_, n)) = shown.get(&r.label)
                        {
                            r.number = n.clone();
                        }
                    }
                }
                _ => {}
            }
        }
        self.unshown = self
            .labels
            .iter()
            .filter(|(l, _)| !shown.contains_key(*l))
            .map(|(l, (word, _))| (l.clone(), *word))
            .collect();
        self.labels = shown;
    }

    fn finish(mut self, provenance: super::Provenance) -> Result<Evaluated, Vec<Diagnostic>> {
        self.renumber();
        let values = prose::values(&self.ctx, self.doc);
        self.render_prose(&values);
        let doc = self.doc;
        let title = doc.front.title.clone().unwrap_or_else(|| {
            doc.path
                .file_stem()
                .map_or("Report".into(), |s| s.to_string_lossy().to_string())
        });
        let title = self.meta(&title, "title", &values);
        let subtitle = doc
            .front
            .subtitle
            .as_ref()
            .map(|s| self.meta(s, "subtitle", &values));
        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        let date = match doc.front.date.as_deref() {
            None | Some("today") => provenance.date.clone(),
            Some(d) => d.to_string(),
        };
        let frames = self
            .ctx
            .frames
            .iter()
            .filter(|(n, _)| !matches!(n.as_str(), "long" | "respondents"))
            .map(|(n, f)| (n.clone(), f.frame.clone()))
            .collect();
        Ok(Evaluated {
            title,
            subtitle,
            author: doc.front.author.clone(),
            date,
            lang: doc.front.lang.clone(),
            toc: doc.front.toc,
            notice: self.ctx.survey.codebook.survey.banner(),
            nodes: self.nodes,
            results: self.results,
            provenance,
            warnings: self.warnings,
            log: self.log,
            frames,
            origins: self.origins,
            inputs: self.files.into_iter().collect(),
        })
    }
}

/// The context blocks run against: the survey frames (keyed by the data and
/// codebook hash), the input descriptions, the published tables (keyed by
/// their file's hash), parameters and the chart house style.
fn context<'a>(doc: &Document, inputs: &Inputs<'a>, problems: &mut Vec<Diagnostic>) -> Context<'a> {
    let p = &inputs.provenance;
    let mut ctx = Context {
        survey: inputs.survey,
        frames: BTreeMap::new(),
        params: inputs.params.clone(),
        min_base: doc.front.disclosure.min_base,
        chart_style: crate::chart::Style::default(),
        exec: inputs.exec,
        rust: Default::default(),
        prose_frames: Default::default(),
        base_dir: doc
            .path
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default(),
    };
    let named = |frame: DataFrame, key: &str| Named {
        frame,
        keys: vec![],
        key: key.to_string(),
        scalar: false,
    };
    let data_key = format!("{}:{}", p.data_sha256, p.codebook_sha256);
    if inputs.survey.loaded {
        for (name, frame) in [
            ("long", &inputs.survey.long),
            ("respondents", &inputs.survey.respondents),
        ] {
            ctx.frames
                .insert(name.into(), named(frame.clone(), &data_key));
        }
    }
    for ((name, frame), source) in inputs.frames.iter().zip(&p.frames) {
        if ctx.frames.contains_key(name) {
            problems.push(
                Diagnostic::error(format!(
                    "data.frames: `{name}` is the name of the survey's frame"
                ))
                .at_offset(&doc.path, &doc.source, doc.front_offset)
                .hint("give the frame another name"),
            );
            continue;
        }
        ctx.frames.insert(
            name.clone(),
            named(frame.clone(), &format!("frame:{}", source.sha256)),
        );
    }
    let frame_error = |what: &str, e: PolarsError| {
        Diagnostic::error(format!("building the {what} frames: {e}")).at(&doc.path, None, None)
    };
    let about_key = blake3::hash(serde_json::to_string(p).unwrap_or_default().as_bytes()).to_hex();
    match about_frames(inputs.survey, p) {
        Ok(about) => about.into_iter().for_each(|(n, f)| {
            ctx.frames.insert(n, named(f, about_key.as_str()));
        }),
        Err(e) => problems.push(frame_error("input description", e)),
    }
    let published_key = format!("published:{}", p.published_sha256);
    match inputs.published.map(published_frames).transpose() {
        Ok(published) => published.into_iter().flatten().for_each(|(n, f)| {
            ctx.frames.insert(n, named(f, &published_key));
        }),
        Err(e) => problems.push(frame_error("published tables'", e)),
    }
    match crate::chart::Style::from_format(&doc.front.format) {
        Ok(style) => ctx.chart_style = style,
        Err(msg) => problems.push(Diagnostic::error(msg).at_offset(
            &doc.path,
            &doc.source,
            doc.front_offset,
        )),
    }
    ctx
}

/// For an undefined value reached through keys (`levels['bristol']['x']`),
/// the keys that the last value found does have, so a reader sees that
/// results are keyed `male`, not `Male`.
fn keys_at_miss(msg: &str, values: &minijinja::Value) -> Option<String> {
    let expr = quoted_words(msg)
        .into_iter()
        .find(|w| w.contains('[') || w.contains('.'))?;
    // `a.b['c']["d"]` -> a, b, c, d
    let mut parts = Vec::new();
    let mut word = String::new();
    let mut in_bracket = false;
    for ch in expr.chars() {
        match ch {
            '.' if !in_bracket => parts.push(std::mem::take(&mut word)),
            '[' if !in_bracket => {
                in_bracket = true;
                parts.push(std::mem::take(&mut word));
            }
            ']' if in_bracket => in_bracket = false,
            '\'' | '"' => {}
            c => word.push(c),
        }
    }
    parts.push(word);
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    let (name, rest) = parts.split_first()?;
    let mut path = name.clone();
    let mut current = values
        .get_item(&minijinja::Value::from(name.as_str()))
        .ok()?;
    if current.is_undefined() {
        return None;
    }
    for key in rest {
        let next = current
            .get_item(&minijinja::Value::from(key.as_str()))
            .ok()?;
        if next.is_undefined() {
            let keys: Vec<String> = current.try_iter().ok()?.map(|k| k.to_string()).collect();
            if keys.is_empty() {
                return None;
            }
            let shown = keys.iter().take(20).cloned().collect::<Vec<_>>().join(", ");
            let more = if keys.len() > 20 { ", ..." } else { "" };
            return Some(format!(
                "`{path}` has no key `{key}`; its keys: {shown}{more}"
            ));
        }
        path.push_str(&format!("['{key}']"));
        current = next;
    }
    None
}
