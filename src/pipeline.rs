//! One render, end to end: read and parse the template, load its data,
//! resolve parameters, execute, render every format, then write all files
//! atomically. Nothing is written unless everything succeeded, so a failed
//! render never touches the previous good output.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};

use crate::diag::{Diagnostic, Diagnostics};
use crate::document;
use crate::engine::cache::{Cache, Memo};
use crate::engine::{self, Inputs, Provenance};
use crate::render::{Format, Renderer};
use crate::survey::published::Published;
use crate::survey::{Codebook, Survey};

/// What to render.
#[derive(Debug, Clone)]
pub struct Request {
    /// The template.
    pub template: PathBuf,
    /// `--param KEY=VALUE` pairs.
    pub params: Vec<(String, String)>,
    /// Output formats.
    pub formats: Vec<Format>,
    /// Output directory.
    pub out_dir: PathBuf,
    /// Use the block cache (in `out_dir/.coweave-cache`).
    pub cache: bool,
    /// Data files that replace the front matter's (`--data`, `--codebook`,
    /// `--published`), relative to the working directory.
    pub data: document::DataSpec,
    /// Run code cells (`{rust}`); `--no-exec` turns this off for untrusted templates.
    pub exec: bool,
}

/// The front matter's data files with the command line's in their place;
/// command-line paths are made absolute so they do not resolve against the
/// template's directory.
fn effective_data(front: &document::DataSpec, over: &document::DataSpec) -> document::DataSpec {
    let abs = |p: &String| std::path::absolute(p).map_or(p.clone(), |a| a.display().to_string());
    document::DataSpec {
        survey: over
            .survey
            .as_ref()
            .map(abs)
            .or_else(|| front.survey.clone()),
        codebook: over
            .codebook
            .as_ref()
            .map(abs)
            .or_else(|| front.codebook.clone()),
        published: over
            .published
            .as_ref()
            .map(abs)
            .or_else(|| front.published.clone()),
        frames: front.frames.clone(),
    }
}

/// What a render wrote.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Which blocks ran and why.
    pub log: Vec<String>,
    /// Problems that did not stop the render.
    pub warnings: Vec<Diagnostic>,
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Output path: `DIR/<stem>.<ext>`, or `DIR/<stem>--<values>.<ext>` with parameters.
pub fn output_path(req: &Request, format: Format) -> PathBuf {
    let stem = req
        .template
        .file_stem()
        .map_or("report".into(), |s| s.to_string_lossy().to_string());
    let suffix: Vec<String> = req
        .params
        .iter()
        .map(|(_, v)| engine::frames::slug(v).replace('_', "-"))
        .collect();
    let name = if suffix.is_empty() {
        format!("{stem}.{}", format.extension())
    } else {
        format!("{stem}--{}.{}", suffix.join("-"), format.extension())
    };
    req.out_dir.join(name)
}

/// The template's codebook (front matter `data.codebook`, else the bundled
/// one), its display name and SHA-256.
fn load_codebook(
    data: &document::DataSpec,
    base: &Path,
) -> Result<(Codebook, String, String), Diagnostics> {
    if !data.needs_survey() {
        return Ok((Codebook::empty(), "none".into(), String::new()));
    }
    match &data.codebook {
        Some(p) => {
            let path = base.join(p);
            let bytes = std::fs::read(&path).map_err(|e| {
                Diagnostics::from(
                    Diagnostic::error(format!("cannot read codebook: {e}")).at(&path, None, None),
                )
            })?;
            let text = String::from_utf8_lossy(&bytes).to_string();
            Codebook::parse(&path, &text).map(|c| (c, path.display().to_string(), sha256(&bytes)))
        }
        None => Codebook::parse(
            Path::new("bundled:data/codebook.toml"),
            crate::bundled::CODEBOOK,
        )
        .map(|c| {
            (
                c,
                "bundled:data/codebook.toml".into(),
                sha256(crate::bundled::CODEBOOK.as_bytes()),
            )
        }),
    }
}

/// A template read and parsed, or its problems: what `--each` and
/// `--params` look into before anything renders.
pub fn parse_template(template: &Path) -> Result<document::Document, Diagnostics> {
    let source = std::fs::read_to_string(template).map_err(|e| {
        Diagnostic::error(format!("cannot read template: {e}")).at(template, None, None)
    })?;
    let (doc, problems) = engine::parse(template, &source);
    if problems.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(problems));
    }
    Ok(doc)
}

/// Every value a template's parameter allows, for `--each`: its `choices`,
/// else the codebook's areas or themes, or true and false.
pub fn each_values(
    template: &Path,
    param: &str,
    data: &document::DataSpec,
) -> Result<Vec<String>, Diagnostics> {
    each_values_of(&parse_template(template)?, param, data)
}

/// [`each_values`] of a parsed template.
pub fn each_values_of(
    doc: &document::Document,
    param: &str,
    data: &document::DataSpec,
) -> Result<Vec<String>, Diagnostics> {
    let template = &doc.path;
    let Some(spec) = doc.front.params.get(param) else {
        let declared: Vec<&str> = doc.front.params.keys().map(String::as_str).collect();
        return Err(Diagnostic::error(format!(
            "--each {param}: the template has no parameter `{param}`"
        ))
        .at(template, None, None)
        .hint(if declared.is_empty() {
            "it declares no parameters".to_string()
        } else {
            format!("parameters: {}", declared.join(", "))
        })
        .into());
    };
    match param_values(doc, spec, data) {
        Some(values) => values,
        None => Err(Diagnostic::error(format!(
            "--each {param}: a {:?} parameter has no list of values",
            spec.ty
        ))
        .at(template, None, None)
        .hint("give the parameter `choices` in the front matter")
        .into()),
    }
}

/// Every value a parameter allows: its `choices`, else the codebook's
/// areas or themes, or true and false; `None` for a parameter without a
/// list of values (a number, free text).
pub fn param_values(
    doc: &document::Document,
    spec: &document::ParamSpec,
    data: &document::DataSpec,
) -> Option<Result<Vec<String>, Diagnostics>> {
    if let Some(choices) = &spec.choices {
        return Some(Ok(choices
            .iter()
            .map(|c| c.as_str().map_or(c.to_string(), str::to_string))
            .collect()));
    }
    let base = doc.path.parent().unwrap_or(Path::new("."));
    let codebook = || load_codebook(&effective_data(&doc.front.data, data), base);
    match spec.ty {
        document::ParamType::Area => {
            Some(codebook().map(|c| c.0.areas.iter().map(|a| a.name.clone()).collect()))
        }
        document::ParamType::Theme => {
            Some(codebook().map(|c| c.0.themes.iter().map(|t| t.id.clone()).collect()))
        }
        document::ParamType::Boolean => Some(Ok(vec!["true".into(), "false".into()])),
        _ => None,
    }
}

/// A template executed against its data: what every renderer reads.
pub struct Evaluation {
    /// The parsed template.
    pub doc: document::Document,
    /// The executed document.
    pub evaluated: engine::Evaluated,
    cache: Option<Cache>,
    renderers: Vec<(Format, Box<dyn Renderer>)>,
    /// The template and the data files it read (not files its blocks read:
    /// those are in `evaluated.inputs`).
    pub inputs: Vec<PathBuf>,
}

/// Held by a batch render whose template has code cells, for its whole
/// evaluation: their sessions would share one build folder.
static CODE_RENDERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A survey as loaded and validated, with its SHA-256, or why it could not be.
type Loaded = Result<(Survey, String), Diagnostics>;

/// How many surveys stay loaded: enough for a batch over a few data files.
const SURVEYS_KEPT: usize = 4;

/// The surveys loaded last, by what they were loaded from (file, bytes,
/// codebook): a preview's re-renders and the renders of a batch read and
/// validate each survey once (a render that needs a survey another render
/// is loading waits for it). Loading is deterministic, so a reused survey
/// is the one a fresh load would give.
#[allow(clippy::type_complexity)]
static SURVEYS: std::sync::Mutex<Vec<(String, Arc<OnceLock<Loaded>>)>> =
    std::sync::Mutex::new(Vec::new());

/// `key`'s survey and its SHA-256 from [`SURVEYS`], else `load`'s,
/// remembered.
fn remembered(key: String, load: impl FnOnce() -> Loaded) -> Loaded {
    let cell = {
        let mut kept = SURVEYS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match kept.iter().position(|(k, _)| *k == key) {
            Some(i) => {
                // most recently used last
                let hit = kept.remove(i);
                let cell = hit.1.clone();
                kept.push(hit);
                cell
            }
            None => {
                if kept.len() == SURVEYS_KEPT {
                    kept.remove(0);
                }
                let cell = Arc::new(OnceLock::new());
                kept.push((key, cell.clone()));
                cell
            }
        }
    };
    cell.get_or_init(load).clone()
}

/// The survey (front matter `data.survey`, else the bundled one), its
/// display name and SHA-256.
fn load_survey(
    data: &document::DataSpec,
    base: &Path,
    codebook: &Codebook,
    codebook_sha: &str,
) -> Result<(Survey, String, String), Diagnostics> {
    if !data.needs_survey() {
        return Ok((Survey::none(), "none".into(), String::new()));
    }
    let Some(p) = &data.survey else {
        let name = "bundled:data/survey.csv";
        let bundled = crate::bundled::SURVEY_CSV;
        let (survey, sha) = remembered(format!("{name}\0{codebook_sha}"), || {
            Survey::from_csv_bytes(Path::new(name), bundled, codebook.clone())
                .map(|s| (s, sha256(bundled)))
        })?;
        return Ok((survey, name.to_string(), sha));
    };
    let path = base.join(p);
    let bytes = std::fs::read(&path).map_err(|e| {
        Diagnostics::from(
            Diagnostic::error(format!("cannot read data file: {e}")).at(&path, None, None),
        )
    })?;
    let sha = sha256(&bytes);
    let key = format!("{}\0{sha}\0{codebook_sha}", path.display());
    let (survey, sha) = remembered(key, || {
        Survey::load_bytes(&path, &bytes, codebook.clone()).map(|s| (s, sha))
    })?;
    Ok((survey, path.display().to_string(), sha))
}

/// The template's own data files (front matter `data.frames`), relative to
/// its directory: each frame with where it came from.
fn load_frames(
    doc: &document::Document,
    base: &Path,
) -> Result<Vec<(polars::prelude::DataFrame, engine::FrameSource)>, Diagnostics> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (name, file) in &doc.front.data.frames {
        let path = base.join(file);
        // the front matter line naming the frame, for messages
        let at = |d: Diagnostic| match doc.front_line_of(name) {
            Some(offset) => d.at_offset(&doc.path, &doc.source, offset),
            None => d.at_offset(&doc.path, &doc.source, doc.front_offset),
        };
        let valid = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        if !valid {
            problems.push(at(Diagnostic::error(format!(
                "frame name `{name}` must start with a letter and hold only letters, digits and _"
            ))
            .hint("SQL names it as a table")));
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                problems.push(at(Diagnostic::error(format!(
                    "data.frames.{name}: cannot read {}: {e}",
                    path.display()
                ))
                .hint(format!(
                    "paths in data.frames are relative to the template's folder, {}",
                    if base.as_os_str().is_empty() {
                        std::env::current_dir().unwrap_or_default()
                    } else {
                        std::path::absolute(base).unwrap_or(base.to_path_buf())
                    }
                    .display()
                ))));
                continue;
            }
        };
        match crate::survey::load::read_frame(&path, &bytes) {
            Ok(frame) => out.push((
                frame,
                engine::FrameSource {
                    name: name.clone(),
                    // as the front matter names it (relative to the
                    // template), so outputs do not depend on where it runs
                    file: file.clone(),
                    sha256: sha256(&bytes),
                },
            )),
            Err(d) => problems.push(d),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(Diagnostics(problems))
    }
}

/// The published tables (front matter `data.published`, else the bundled
/// ones) as parsed, their display name and SHA-256; an unreadable file is
/// an error, not an empty hash.
#[allow(clippy::type_complexity)]
fn load_published(
    data: &document::DataSpec,
    base: &Path,
) -> Result<(Result<Published, Diagnostics>, String, String), Diagnostics> {
    let Some(p) = &data.published else {
        let name = "bundled:data/published_tables.toml";
        let text = crate::bundled::PUBLISHED;
        return Ok((
            Published::parse(Path::new(name), text),
            name.to_string(),
            sha256(text.as_bytes()),
        ));
    };
    let path = base.join(p);
    let bytes = std::fs::read(&path).map_err(|e| {
        Diagnostics::from(
            Diagnostic::error(format!("cannot read published tables: {e}")).at(&path, None, None),
        )
    })?;
    Ok((
        Published::parse(&path, &String::from_utf8_lossy(&bytes)),
        path.display().to_string(),
        sha256(&bytes),
    ))
}

/// Reads, parses and executes one template (through the block cache when
/// the request asks for it); writes nothing but cache entries.
pub fn evaluate(req: &Request) -> Result<Evaluation, Diagnostics> {
    evaluate_shared(req, None)
}

/// [`evaluate`], sharing block results with the other renders of a batch
/// through `memo` (unless the request turns the cache off).
fn evaluate_shared(req: &Request, memo: Option<&Memo>) -> Result<Evaluation, Diagnostics> {
    let source = std::fs::read_to_string(&req.template).map_err(|e| {
        Diagnostic::error(format!("cannot read template: {e}")).at(&req.template, None, None)
    })?;
    let (doc, mut problems) = engine::parse(&req.template, &source);
    // each format reads and checks its own settings before any block runs
    let mut renderers = Vec::new();
    for f in &req.formats {
        match f.renderer(&doc) {
            Ok(r) => renderers.push((*f, r)),
            Err(d) => problems.extend(d.0),
        }
    }
    let base = req.template.parent().unwrap_or(Path::new("."));
    // the files the front matter names stay inside the project (those
    // given on the command line may be anywhere)
    let front = &doc.front.data;
    let named = [
        ("survey", &front.survey, &req.data.survey),
        ("codebook", &front.codebook, &req.data.codebook),
        ("published", &front.published, &req.data.published),
    ];
    let outside: Vec<Diagnostic> = named
        .iter()
        .filter(|(_, _, over)| over.is_none())
        .filter_map(|(key, file, _)| Some((doc.front_offset_of("data", key), (*file).as_ref()?)))
        .chain(
            front
                .frames
                .iter()
                .map(|(name, file)| (doc.front_offset_of("frames", name), file)),
        )
        .filter_map(|(at, file)| {
            let why = crate::fsio::inside_project(base, file).err()?;
            Some(
                Diagnostic::error(why)
                    .at_offset(&doc.path, &doc.source, at)
                    .hint(crate::fsio::OUTSIDE_HINT),
            )
        })
        .collect();
    if !outside.is_empty() {
        problems.extend(outside);
        return Err(Diagnostics(problems));
    }
    // data: the front matter's files (relative to the template), else the bundled survey
    let data = &effective_data(&doc.front.data, &req.data);
    let mut inputs = vec![req.template.clone()];
    for file in [&data.survey, &data.codebook, &data.published]
        .into_iter()
        .flatten()
        .chain(doc.front.data.frames.values())
    {
        inputs.push(base.join(file));
    }
    let codebook_res = load_codebook(data, base);
    let (codebook, codebook_name, codebook_sha) = match codebook_res {
        Ok(c) => c,
        Err(d) => {
            problems.extend(d.0);
            return Err(Diagnostics(problems));
        }
    };
    let survey_started = std::time::Instant::now();
    let survey_res = load_survey(data, base, &codebook, &codebook_sha);
    let survey_time = survey_started.elapsed();
    let (survey, data_name, data_sha) = match survey_res {
        Ok(s) => s,
        Err(d) => {
            problems.extend(d.0);
            return Err(Diagnostics(problems));
        }
    };
    let frames = match load_frames(&doc, base) {
        Ok(f) => f,
        Err(d) => {
            problems.extend(d.0);
            return Err(Diagnostics(problems));
        }
    };
    let (published, published_name, published_sha) = match load_published(data, base) {
        Ok(p) => p,
        Err(d) => {
            problems.extend(d.0);
            return Err(Diagnostics(problems));
        }
    };
    let published = match published {
        Ok(p) => Some(p),
        Err(d) => {
            problems.extend(d.0);
            None
        }
    };
    let params = match engine::params::resolve(&doc, &req.params, &survey.codebook) {
        Ok(p) => p,
        Err(d) => {
            // without its parameters the template cannot run meaningfully
            problems.extend(d);
            return Err(Diagnostics(problems));
        }
    };
    let provenance = Provenance {
        coweave: env!("CARGO_PKG_VERSION").to_string(),
        template: req.template.display().to_string(),
        template_sha256: sha256(source.as_bytes()),
        published: published_name,
        published_sha256: published_sha,
        data: data_name,
        data_sha256: data_sha,
        codebook: codebook_name,
        codebook_sha256: codebook_sha,
        frames: frames.iter().map(|(_, s)| s.clone()).collect(),
        params: params.clone(),
        date: crate::clock::today(),
        min_base: doc.front.disclosure.min_base,
    };
    // code cells build in the one per-process evcxr folder (kernel.rs), so
    // the renders of a batch that run code cells take turns
    let runs_code = doc.nodes.iter().any(|n| {
        matches!(n, document::Node::Block(b)
            if engine::engine_for(&b.engine).is_some_and(|e| e.runs_code()))
    });
    let _code_turn = (runs_code && memo.is_some()).then(|| {
        CODE_RENDERS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    });
    // a template with problems is still executed (without the cache), so
    // that every independent problem is reported in one run
    let broken = problems.iter().any(Diagnostic::is_error);
    let mut cache =
        (req.cache && !broken).then(|| Cache::open(&req.out_dir.join(".coweave-cache")));
    let evaluated = engine::evaluate(
        &doc,
        Inputs {
            survey: &survey,
            frames: frames.into_iter().map(|(f, s)| (s.name, f)).collect(),
            published: published.as_ref(),
            provenance,
            params,
            cache: cache.as_mut(),
            memo,
            exec: req.exec,
        },
    );
    let mut evaluated = match evaluated {
        Ok(e) if !broken => e,
        Ok(_) => return Err(Diagnostics(problems)),
        Err(more) => {
            problems.extend(more);
            return Err(Diagnostics(problems));
        }
    };
    if survey.loaded {
        // where the time went, for `-v` (a survey shared with another render
        // of the batch shows the steps of its one load)
        let steps: Vec<String> = survey
            .load_times
            .iter()
            .map(|(what, d)| format!("{what} {}", crate::diag::took(*d)))
            .collect();
        evaluated.log.insert(
            0,
            format!(
                "survey: {} ({})",
                crate::diag::took(survey_time),
                steps.join(", ")
            ),
        );
    }
    // the data's own warnings (columns not in the codebook, ...) come first
    let mut warnings = survey.warnings.clone();
    warnings.append(&mut evaluated.warnings);
    evaluated.warnings = warnings;
    Ok(Evaluation {
        doc,
        evaluated,
        cache,
        renderers,
        inputs,
    })
}

/// One template rendered into every requested format, in memory.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Each format's bytes and the file they belong in.
    pub outputs: Vec<(Format, PathBuf, Vec<u8>)>,
    /// Which blocks ran and why.
    pub log: Vec<String>,
    /// Problems that did not stop the render.
    pub warnings: Vec<Diagnostic>,
    /// Every file the render read (template, data, rules files, ...).
    pub inputs: Vec<PathBuf>,
    /// The parameters' values, defaults filled in.
    pub params: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Renders one template into every requested format without writing any
/// output (the block cache is saved); what [`render`] writes and what a
/// preview serves.
pub fn render_in_memory(req: &Request) -> Result<Rendered, Diagnostics> {
    render_shared(req, None)
}

fn render_shared(req: &Request, memo: Option<&Memo>) -> Result<Rendered, Diagnostics> {
    let Evaluation {
        doc,
        evaluated,
        cache,
        renderers,
        inputs,
    } = evaluate_shared(req, memo)?;
    let mut outputs = Vec::new();
    let mut log = evaluated.log.clone();
    for (f, renderer) in &renderers {
        let started = std::time::Instant::now();
        let bytes = renderer.render(&evaluated).map_err(|mut ds| {
            // a place in the template gets its line as snippet
            for d in &mut ds.0 {
                if let Some(line) = d.location.as_ref().and_then(|l| l.line) {
                    d.snippet = doc.source.lines().nth(line - 1).map(str::to_string);
                }
            }
            ds
        })?;
        log.push(format!(
            "{}: rendered in {}",
            renderer.name(),
            crate::diag::took(started.elapsed())
        ));
        outputs.push((*f, output_path(req, *f), bytes));
    }
    let mut warnings = evaluated.warnings.clone();
    let has_data = evaluated
        .nodes
        .iter()
        .any(|n| matches!(n, engine::OutNode::Table(_) | engine::OutNode::Figure(_)));
    let paged: Vec<&str> = [
        (Format::Pdf, "the PDF"),
        (Format::Docx, "the Word document"),
    ]
    .into_iter()
    .filter(|(f, _)| req.formats.contains(f))
    .map(|(_, name)| name)
    .collect();
    if !paged.is_empty() && has_data {
        warnings.push(
            Diagnostic::warning(format!(
                "{} {} out the HTML page's CSV download links and the data tables behind charts",
                paged.join(" and "),
                if paged.len() > 1 { "leave" } else { "leaves" }
            ))
            .at(&req.template, None, None)
            .hint("the HTML page and the JSON output (--to json) have every number"),
        );
    }
    if let Some(c) = &cache
        && let Err(e) = c.save()
    {
        warnings.push(
            Diagnostic::warning(format!(
                "the block cache could not be saved ({e}); blocks will run again next time"
            ))
            .at(&req.out_dir.join(".coweave-cache"), None, None),
        );
    }
    let mut inputs = inputs;
    inputs.extend(evaluated.inputs.iter().cloned());
    Ok(Rendered {
        outputs,
        params: evaluated.provenance.params.clone(),
        log,
        warnings,
        inputs,
    })
}

/// Renders one template into every requested format, then writes all files
/// atomically: all or nothing.
pub fn render(req: &Request) -> Result<Outcome, Diagnostics> {
    render_and_write(req, None)
}

fn render_and_write(req: &Request, memo: Option<&Memo>) -> Result<Outcome, Diagnostics> {
    let Rendered {
        outputs,
        log,
        warnings,
        ..
    } = render_shared(req, memo)?;
    let mut files = Vec::new();
    for (_, path, bytes) in outputs {
        crate::fsio::write_atomic(&path, |w| w.write_all(&bytes)).map_err(|e| {
            Diagnostics::from(
                Diagnostic::error(format!("cannot write output: {e}")).at(&path, None, None),
            )
        })?;
        files.push(path);
    }
    Ok(Outcome {
        warnings,
        files,
        log,
    })
}

/// Renders many requests (a parameter matrix), `jobs` at a time, each
/// written atomically as [`render`] writes one. The surveys and the block
/// results they share are computed once, whether or not they use the block
/// cache. `done` hears of each render as it ends, in whatever order they
/// end; the results come back in the order of `reqs`. A render that fails,
/// even by a bug of ours (a panic), fails alone: the rest still run.
///
/// The workers are plain threads taking the next request in turn, not a
/// work-stealing pool: a render waiting for a block another render is
/// computing must not pick up a third render on the same thread (the
/// parallel work inside polars would let a rayon worker do that, and a
/// render that waits on itself never ends).
pub fn render_batch(
    reqs: &[Request],
    jobs: usize,
    done: &(dyn Fn(usize, &Result<Outcome, Diagnostics>) + Sync),
) -> Vec<Result<Outcome, Diagnostics>> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let memo = Memo::default();
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<Outcome, Diagnostics>>>> =
        reqs.iter().map(|_| Mutex::new(None)).collect();
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(req) = reqs.get(i) else { break };
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                render_and_write(req, Some(&memo))
            }))
            .unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Err(
                    Diagnostic::error(format!("coweave failed while rendering: {what}"))
                        .at(&req.template, None, None)
                        .hint("this is a bug in coweave: please report it with the template")
                        .into(),
                )
            });
            done(i, &result);
            *results[i]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..jobs.clamp(1, reqs.len().max(1)) {
            scope.spawn(work);
        }
        work();
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .unwrap_or_else(|| Err(Diagnostic::error("a render did not finish").into()))
        })
        .collect()
}
