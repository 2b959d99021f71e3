//! The command line: a thin shell over the library. Arguments are turned
//! into validated settings before any work; diagnostics become text here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod batch;
use batch::run_render;

use crate::diag::{Diagnostic, Diagnostics};
use crate::survey::published::Published;
use crate::survey::{Codebook, Survey, simulate};

/// coweave: literate reports on citizen co-production surveys.
#[derive(Debug, Parser)]
#[command(name = "coweave", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a survey export against its codebook and summarise it.
    Check(CheckArgs),
    /// Write the calibrated synthetic survey.
    Simulate(SimulateArgs),
    /// Render templates to HTML, PDF, JSON and notebooks.
    Render(RenderArgs),
    /// Serve a template's HTML on 127.0.0.1 and re-render it, reloading the
    /// page, whenever the template or its data change.
    Preview(PreviewArgs),
    /// Work with codebooks.
    #[command(subcommand)]
    Codebook(CodebookCommand),
    /// Run Rust notebooks.
    #[command(subcommand)]
    Notebook(NotebookCommand),
    /// Convert a template (.md) to a notebook (.ipynb) or back, by the
    /// files' extensions; converting back gives the same template.
    Convert(ConvertArgs),
}

/// `coweave notebook ...`.
#[derive(Debug, Subcommand)]
pub enum NotebookCommand {
    /// Execute a notebook's Rust cells in order (papermill-style: `--param`
    /// values replace those of the cell tagged `parameters`) and write it
    /// with their outputs.
    Run(NotebookRunArgs),
}

/// `coweave notebook run`.
#[derive(Debug, Args)]
pub struct NotebookRunArgs {
    /// The notebook.
    notebook: PathBuf,
    /// A parameter, `KEY=VALUE` (repeatable).
    #[arg(long = "param", short = 'p', value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Write the executed notebook here (default: in place).
    #[arg(long, short = 'o')]
    out: Option<PathBuf>,
}

/// `coweave convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// A template (.md) or a notebook (.ipynb).
    input: PathBuf,
    /// The notebook or template to write.
    output: PathBuf,
    /// Replace the output file if it exists.
    #[arg(long)]
    force: bool,
}

/// `coweave codebook ...`.
#[derive(Debug, Subcommand)]
pub enum CodebookCommand {
    /// Draft a codebook from an export (.sav, .csv or .parquet): roles
    /// guessed from column names, value sets from the file's labels and data.
    Init(InitArgs),
}

/// `coweave codebook init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The export to describe.
    export: PathBuf,
    /// Write the draft here instead of to standard output (never overwrites).
    #[arg(long, short = 'o')]
    out: Option<PathBuf>,
}

/// `--data`, `--codebook` and `--published`: files that replace the template's.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Survey data to use instead of the template's (default: the bundled survey).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Codebook to use instead of the template's.
    #[arg(long)]
    codebook: Option<PathBuf>,
    /// Published tables to use instead of the template's.
    #[arg(long)]
    published: Option<PathBuf>,
}

impl SourceArgs {
    /// As a data spec (front matter paths are replaced where given).
    fn spec(&self) -> crate::document::DataSpec {
        let shown = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        crate::document::DataSpec {
            survey: shown(&self.data),
            codebook: shown(&self.codebook),
            published: shown(&self.published),
            frames: Default::default(),
        }
    }
}

/// `coweave render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Templates to render (default: every `.md` file in `reports/`).
    templates: Vec<PathBuf>,
    /// A parameter, `KEY=VALUE` (repeatable).
    #[arg(long = "param", short = 'p', value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Output formats, comma-separated: html, json, pdf, typ, ipynb, docx.
    #[arg(long, default_value = "html,json")]
    to: String,
    /// Output directory.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    #[command(flatten)]
    sources: SourceArgs,
    /// Render once per value the parameter allows (e.g. `--each area`);
    /// repeated, once per combination (`--each area --each theme`).
    #[arg(long, value_name = "PARAM")]
    each: Vec<String>,
    /// Render once per row of a CSV file whose header names parameters (an
    /// empty cell leaves that parameter at its default).
    #[arg(long = "params", value_name = "FILE.csv")]
    params_file: Option<PathBuf>,
    /// How many outputs render at once (default: the number of cores).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Render only the I-th of N equal slices of the outputs (1-based), to
    /// split a large run across machines or job-array tasks.
    #[arg(long, value_name = "I/N", value_parser = batch::parse_shard)]
    shard: Option<(usize, usize)>,
    /// Run every block, ignoring the block cache (a block shared by several
    /// outputs of the run still runs once).
    #[arg(long)]
    no_cache: bool,
    /// Refuse to run code cells (`{rust}`): for templates you do not trust.
    #[arg(long)]
    no_exec: bool,
    /// Say which blocks ran and why.
    #[arg(short, long)]
    verbose: bool,
}

/// `coweave preview`.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The template.
    template: PathBuf,
    /// A parameter, `KEY=VALUE` (repeatable); the page can switch those with
    /// a list of values.
    #[arg(long = "param", short = 'p', value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8421)]
    port: u16,
    /// Open the page in the default browser.
    #[arg(long)]
    open: bool,
    /// Where the block cache lives (`DIR/.coweave-cache`, shared with
    /// `coweave render --out DIR`); the preview writes no report files.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    #[command(flatten)]
    sources: SourceArgs,
    /// Run every block on every change, ignoring the cache.
    #[arg(long)]
    no_cache: bool,
    /// Refuse to run code cells (`{rust}`): for templates you do not trust.
    #[arg(long)]
    no_exec: bool,
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

/// Where the survey data and its codebook are.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Survey export (.csv, .parquet or .sav).
    #[arg(long, default_value = "data/survey.csv")]
    pub data: PathBuf,
    /// Codebook describing the export.
    #[arg(long, default_value = "data/codebook.toml")]
    pub codebook: PathBuf,
}

/// `coweave check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Treat warnings (such as columns not in the codebook) as errors.
    #[arg(long)]
    strict: bool,
}

/// `coweave simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Seed of the random stream.
    #[arg(long, default_value_t = simulate::Options::default().seed)]
    seed: u64,
    /// Copies of each area's respondents (1 = the published counts).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    scale: u32,
    /// Output CSV file (`-` for standard output).
    #[arg(long, default_value = "data/survey.csv")]
    out: PathBuf,
    /// Codebook giving the layout.
    #[arg(long, default_value = "data/codebook.toml")]
    codebook: PathBuf,
    /// Published tables used as calibration targets.
    #[arg(long, default_value = "data/published_tables.toml")]
    published: PathBuf,
}

/// Runs the CLI; returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Check(args) => check(&args),
        Command::Simulate(args) => run_simulate(&args),
        Command::Render(args) => run_render(&args),
        Command::Preview(args) => preview(&args),
        Command::Codebook(CodebookCommand::Init(args)) => codebook_init(&args),
        Command::Notebook(NotebookCommand::Run(args)) => notebook_run(&args),
        Command::Convert(args) => convert(&args),
    };
    match result {
        Ok(code) => code,
        Err(diags) => {
            report(&diags);
            ExitCode::FAILURE
        }
    }
}

fn read_text(path: &Path) -> Result<String, Diagnostics> {
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostics(vec![
            Diagnostic::error(format!("cannot read the file: {e}")).at(path, None, None),
        ])
    })?;
    String::from_utf8(bytes).map_err(|e| {
        // the line and column of the first byte that is not UTF-8
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        let column = good.iter().rev().take_while(|b| **b != b'\n').count() + 1;
        Diagnostics(vec![
            Diagnostic::error("the file is not UTF-8 text")
                .at(path, Some(line), Some(column))
                .hint("save it as UTF-8 (Jupyter and text editors do by default)"),
        ])
    })
}

fn write_text(path: &Path, text: &str) -> Result<(), Diagnostics> {
    crate::fsio::write_atomic(path, |w| w.write_all(text.as_bytes())).map_err(|e| {
        Diagnostics(vec![
            Diagnostic::error(format!("cannot write the file: {e}")).at(path, None, None),
        ])
    })
}

#[cfg(feature = "rust")]
fn notebook_run(args: &NotebookRunArgs) -> Result<ExitCode, Diagnostics> {
    let path = &args.notebook;
    let nb = crate::notebook::parse(path, &read_text(path)?).map_err(|d| Diagnostics(vec![d]))?;
    // cells run in the notebook's folder, as in Jupyter (`:dep x = { path =
    // ".." }` is relative to it); the files named here are made absolute first
    let out =
        std::path::absolute(args.out.as_ref().unwrap_or(path)).unwrap_or_else(|_| path.clone());
    let shown = args.out.clone().unwrap_or_else(|| path.clone());
    if let Some(dir) = std::path::absolute(path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        && let Err(e) = std::env::set_current_dir(&dir)
    {
        return Err(Diagnostics(vec![
            Diagnostic::error(format!("cannot run in the notebook's folder: {e}"))
                .at(path, None, None),
        ]));
    }
    let started = std::time::Instant::now();
    let (nb, stopped) =
        crate::notebook::run::execute(path, nb, &args.params).map_err(|d| Diagnostics(vec![d]))?;
    write_text(&out, &crate::notebook::to_text(&nb))?;
    match stopped {
        Some(s) => Err(Diagnostics(vec![
            Diagnostic::error(format!("cell {} failed: {}", s.cell + 1, s.message))
                .at(path, None, None)
                .hint(format!(
                    "{} shows the error under that cell; the cells after it did not run",
                    shown.display()
                )),
        ])),
        None => {
            // time goes to the terminal only; the notebook holds no timings
            println!(
                "ran {} -> {} in {:.1} s",
                path.display(),
                shown.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(feature = "preview")]
fn preview(args: &PreviewArgs) -> Result<ExitCode, Diagnostics> {
    crate::preview::run(crate::preview::Settings {
        request: crate::pipeline::Request {
            template: args.template.clone(),
            params: args.params.clone(),
            formats: vec![crate::render::Format::Html],
            out_dir: args.out.clone(),
            cache: !args.no_cache,
            data: args.sources.spec(),
            exec: !args.no_exec,
        },
        port: args.port,
        open: args.open,
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "preview"))]
fn preview(args: &PreviewArgs) -> Result<ExitCode, Diagnostics> {
    Err(Diagnostics(vec![
        Diagnostic::error("this coweave was built without the preview (the `preview` feature)").at(
            &args.template,
            None,
            None,
        ),
    ]))
}

#[cfg(not(feature = "rust"))]
fn notebook_run(args: &NotebookRunArgs) -> Result<ExitCode, Diagnostics> {
    Err(Diagnostics(vec![
        Diagnostic::error("this coweave was built without Rust notebooks (the `rust` feature)").at(
            &args.notebook,
            None,
            None,
        ),
    ]))
}

fn convert(args: &ConvertArgs) -> Result<ExitCode, Diagnostics> {
    let ext = |p: &Path| {
        p.extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default()
    };
    let bad = |msg: String, p: &Path| Diagnostics(vec![Diagnostic::error(msg).at(p, None, None)]);
    if args.output.exists() && !args.force {
        return Err(bad(
            "the output file exists; add --force to replace it".into(),
            &args.output,
        ));
    }
    let text = read_text(&args.input)?;
    let converted = match (ext(&args.input).as_str(), ext(&args.output).as_str()) {
        ("md", "ipynb") => {
            let (doc, problems) = crate::engine::parse(&args.input, &text);
            if problems.iter().any(Diagnostic::is_error) {
                return Err(Diagnostics(problems));
            }
            crate::notebook::to_text(&crate::notebook::cells::template_to_notebook(&doc))
        }
        ("ipynb", "md") => {
            let nb =
                crate::notebook::parse(&args.input, &text).map_err(|d| Diagnostics(vec![d]))?;
            crate::notebook::cells::notebook_to_template(&args.input, &nb)
                .map_err(|d| Diagnostics(vec![d]))?
        }
        (a, b) => {
            return Err(bad(
                format!(
                    "cannot convert .{a} to .{b}: convert a template (.md) to a notebook (.ipynb) or back"
                ),
                &args.input,
            ));
        }
    };
    write_text(&args.output, &converted)?;
    println!(
        "converted {} -> {}",
        args.input.display(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn report(diags: &Diagnostics) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{diags}");
    let errors = diags.error_count();
    let warnings = diags.0.len() - errors;
    let _ = writeln!(
        err,
        "{errors} error{}, {warnings} warning{}",
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" }
    );
}

fn check(args: &CheckArgs) -> Result<ExitCode, Diagnostics> {
    let survey = Survey::load(&args.data.data, &args.data.codebook)?;
    if args.strict && !survey.warnings.is_empty() {
        let as_errors = survey
            .warnings
            .iter()
            .cloned()
            .map(|mut d| {
                d.severity = crate::diag::Severity::Error;
                d
            })
            .collect();
        return Err(Diagnostics(as_errors));
    }
    let mut out = std::io::stdout().lock();
    let s = &survey.summary;
    let total: usize = s.respondents.iter().map(|(_, n)| n).sum();
    let _ = writeln!(
        out,
        "{}: {total} respondent{} in {} area{}, {} variables, checked against {}",
        args.data.data.display(),
        if total == 1 { "" } else { "s" },
        s.respondents.len(),
        if s.respondents.len() == 1 { "" } else { "s" },
        survey.codebook.variables.len(),
        args.data.codebook.display()
    );
    let width = s
        .respondents
        .iter()
        .map(|(a, _)| a.len())
        .max()
        .unwrap_or(4);
    for ((area, n), (_, themes)) in s.respondents.iter().zip(&s.themes) {
        let labels: Vec<&str> = themes
            .iter()
            .map(|t| survey.codebook.theme_label(t))
            .collect();
        let _ = writeln!(out, "  {area:width$}  {n:>6}  {}", labels.join(", "));
    }
    let _ = writeln!(
        out,
        "Don't know and blank answers per item (among respondents asked):"
    );
    let vw = s.items.iter().map(|i| i.variable.len()).max().unwrap_or(8);
    for item in &s.items {
        let _ = writeln!(
            out,
            "  {:vw$}  asked {:>6}  don't know {:>5.1}%  blank {:>5.1}%",
            item.variable,
            item.asked,
            item.dont_know * 100.0,
            item.blank * 100.0
        );
    }
    if !survey.warnings.is_empty() {
        report(&Diagnostics(survey.warnings.clone()));
    }
    let _ = writeln!(out, "ok: no errors");
    Ok(ExitCode::SUCCESS)
}

fn codebook_init(args: &InitArgs) -> Result<ExitCode, Diagnostics> {
    let draft = crate::survey::init::draft(&args.export)?;
    match &args.out {
        None => {
            let _ = std::io::stdout().lock().write_all(draft.as_bytes());
        }
        Some(out) => {
            if out.exists() {
                return Err(Diagnostic::error("will not overwrite an existing file")
                    .at(out, None, None)
                    .hint("choose another name, or delete the file first")
                    .into());
            }
            crate::fsio::write_atomic(out, |w| w.write_all(draft.as_bytes())).map_err(|e| {
                Diagnostics::from(
                    Diagnostic::error(format!("cannot write: {e}")).at(out, None, None),
                )
            })?;
            eprintln!(
                "wrote a draft codebook for {} to {}; read it, then run `coweave check --data {} --codebook {}`",
                args.export.display(),
                out.display(),
                args.export.display(),
                out.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_simulate(args: &SimulateArgs) -> Result<ExitCode, Diagnostics> {
    let codebook = Codebook::load(&args.codebook)?;
    let published = Published::load(&args.published)?;
    let options = simulate::Options {
        seed: args.seed,
        scale: args.scale,
    };
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        let codebook_path = args.codebook.clone();
        move |e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::InvalidInput {
                return Diagnostics::from(Diagnostic::error(format!("cannot simulate: {e}")).at(
                    &codebook_path,
                    None,
                    None,
                ));
            }
            Diagnostics::from(Diagnostic::error(format!("cannot write: {e}")).at(&path, None, None))
        }
    };
    let rows = if args.out == Path::new("-") {
        simulate::simulate(&codebook, &published, &options, std::io::stdout().lock())
            .map_err(io_err(&args.out))?
    } else {
        crate::fsio::write_atomic(&args.out, |w| {
            simulate::simulate(&codebook, &published, &options, w)
        })
        .map_err(io_err(&args.out))?
    };
    eprintln!(
        "wrote {rows} synthetic respondents (seed {}, scale {}) to {}",
        args.seed,
        args.scale,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
