//! `{rust}`: Rust cells, run through evcxr like notebook cells: in document
//! order, in one session per render, sharing variables and items. A cell
//! reads frames of earlier blocks (`frame("levels")`), hands frames and
//! values to later blocks and to the prose (`put("gap", x)`), shows a frame
//! as a table (`show(&f)`) or an SVG image (`show_svg(&svg, "alt")`); what
//! it prints appears under it. The std-only prelude that provides these is
//! `prelude.rs`, evaluated once per session and compiled into coweave too.
//!
//! Caching: a cell's key holds the code of every `{rust}` cell before it
//! (its state) as well as its own code and the frames it reads, so an
//! unchanged cell is not compiled again. When a later cell must run while
//! earlier ones came from the cache, the earlier ones are run again first
//! (their outputs are already known) to rebuild the session's state.

use polars::prelude::*;

use super::{BlockOutput, Context, Diagnostic, Engine, Warned};
#[cfg(feature = "rust")]
use super::{CellOut, FigureOut, Handed, Shown};
use crate::document::Block;

/// The host's copy of the prelude: the exchange format and the `Frame`
/// type, so that what coweave writes is what cells read.
#[allow(dead_code, clippy::all, missing_docs, unreachable_pub)]
pub mod exchange {
    const COWEAVE_EXCHANGE: &str = "";
    const COWEAVE_PARAMS: &[(&str, &str)] = &[];
    include!("prelude.rs");
}

/// The prelude's source.
pub const PRELUDE: &str = include_str!("prelude.rs");

/// The Rust engine.
pub struct RustBlock;

/// The cells of one render: those seen so far (run or cached, in order)
/// and the live session once one was needed.
#[derive(Default)]
pub struct Kernel {
    seen: Vec<Seen>,
    #[cfg(feature = "rust")]
    live: Option<Live>,
    /// Why the session could not start (reported once).
    #[cfg(feature = "rust")]
    broken: Option<String>,
}

// without the `rust` feature only the keys are used
#[cfg_attr(not(feature = "rust"), allow(dead_code))]
struct Seen {
    body: String,
    reads: Vec<String>,
    key: String,
}

#[cfg(feature = "rust")]
struct Live {
    session: crate::kernel::Session,
    exchange: tempfile::TempDir,
    /// How many of the seen cells ran in this session.
    done: usize,
}

/// Frame names a cell reads: the literals in `frame("name")`.
fn frame_literals(body: &str) -> Vec<String> {
    literals(body, "frame(\"")
}

/// The string literals that follow `call` (`put("`), in order, once each.
fn literals(body: &str, call: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find(call) {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + call.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(end) = rest.find('"') {
            let name = &rest[..end];
            if !name.is_empty() && !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        }
    }
    out
}

fn kernel<'c>(ctx: &'c Context) -> std::cell::RefMut<'c, Kernel> {
    ctx.rust.borrow_mut()
}

impl Engine for RustBlock {
    fn name(&self) -> &'static str {
        "rust"
    }

    fn runs_code(&self) -> bool {
        true
    }

    fn reads(&self, _block: &Block, body: &str, _ctx: &Context) -> Vec<String> {
        frame_literals(body)
    }

    fn provides(&self, block: &Block) -> Vec<String> {
        literals(&block.body, "put(\"")
    }

    /// Parameters reach a cell through `param("name")`, never as text
    /// spliced into Rust code.
    fn body(
        &self,
        _env: &minijinja::Environment,
        block: &Block,
        _ctx: &Context,
    ) -> Result<String, (String, usize)> {
        Ok(block.body.clone())
    }

    fn settings(&self, ctx: &Context) -> Vec<(String, String)> {
        vec![(
            "params".into(),
            serde_json::to_string(&ctx.params).unwrap_or_default(),
        )]
    }

    fn state(&self, _block: &Block, body: &str, ctx: &Context) -> Vec<(String, String)> {
        let mut k = kernel(ctx);
        let mut h = blake3::Hasher::new();
        for s in &k.seen {
            h.update(s.key.as_bytes());
        }
        let before = h.finalize().to_hex().to_string();
        let reads = frame_literals(body);
        let mut key = blake3::Hasher::new();
        key.update(before.as_bytes());
        key.update(body.as_bytes());
        for r in &reads {
            key.update(r.as_bytes());
            if let Some(f) = ctx.frames.get(r) {
                key.update(f.key.as_bytes());
            }
        }
        k.seen.push(Seen {
            body: body.to_string(),
            reads,
            key: key.finalize().to_hex().to_string(),
        });
        vec![("rust cells before".into(), before)]
    }

    fn run(
        &self,
        block: &Block,
        body: &str,
        ctx: &Context,
    ) -> Result<Warned<BlockOutput>, Diagnostic> {
        run_cell(block, body, ctx)
    }
}

#[cfg(not(feature = "rust"))]
fn run_cell(
    _block: &Block,
    _body: &str,
    _ctx: &Context,
) -> Result<Warned<BlockOutput>, Diagnostic> {
    Err(
        Diagnostic::error("this coweave was built without Rust cells (the `rust` feature)")
            .hint("build coweave with its default features to run {rust} blocks"),
    )
}

#[cfg(feature = "rust")]
fn run_cell(block: &Block, body: &str, ctx: &Context) -> Result<Warned<BlockOutput>, Diagnostic> {
    let mut k = kernel(ctx);
    if k.seen.last().is_none_or(|s| s.body != body) {
        // run without `state` (a caller outside the driver)
        k.seen.push(Seen {
            body: body.to_string(),
            reads: frame_literals(body),
            key: String::new(),
        });
    }
    let this = k.seen.len() - 1;
    if k.broken.is_some() {
        return Err(Diagnostic::error(
            "not run: the Rust session could not start (see the first {rust} block's error)",
        ));
    }
    if k.live.is_none() {
        match start(ctx) {
            Ok(live) => k.live = Some(live),
            Err(e) => {
                k.broken = Some(e.message.clone());
                return Err(e);
            }
        }
    }
    let Kernel { seen, live, .. } = &mut *k;
    let Some(live) = live.as_mut() else {
        return Err(Diagnostic::error("the Rust session is not running"));
    };
    // earlier cells that came from the cache rebuild the session's state
    while live.done < this {
        let earlier = &seen[live.done];
        hand_in(live, &earlier.reads, ctx)?;
        let (_, failure) = live.session.run(&earlier.body);
        if let Some(f) = failure {
            return Err(Diagnostic::error(format!(
                "an earlier {{rust}} cell, run again to rebuild the session, failed: {f}"
            )));
        }
        live.done += 1;
    }
    hand_in(live, &seen[this].reads, ctx)?;
    let (run, failure) = live.session.run(body);
    live.done = this + 1;
    if let Some(f) = failure {
        return Err(failure_diagnostic(block, body, &f, &run));
    }
    let out = hand_out(live, block, ctx, &run)?;
    Ok(Warned::new(BlockOutput::Cell(out)))
}

#[cfg(feature = "rust")]
fn start(ctx: &Context) -> Result<Live, Diagnostic> {
    let internal = |what: &str, e: &dyn std::fmt::Display| {
        Diagnostic::error(format!("{{rust}} cells: {what}: {e}"))
    };
    let exchange = tempfile::Builder::new()
        .prefix("coweave-cells")
        .tempdir()
        .map_err(|e| internal("could not make the exchange folder", &e))?;
    for sub in ["in", "out"] {
        std::fs::create_dir_all(exchange.path().join(sub))
            .map_err(|e| internal("could not make the exchange folder", &e))?;
    }
    let mut session = crate::kernel::Session::start().map_err(Diagnostic::error)?;
    let params: Vec<String> = ctx
        .params
        .iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("({k:?}, {text:?})")
        })
        .collect();
    let head = format!(
        "const COWEAVE_EXCHANGE: &str = {:?};\nconst COWEAVE_PARAMS: &[(&str, &str)] = &[{}];\n",
        exchange.path().to_string_lossy(),
        params.join(", ")
    );
    let (_, failure) = session.run(&format!("{head}{PRELUDE}"));
    if let Some(f) = failure {
        return Err(internal("the prelude did not compile", &f));
    }
    Ok(Live {
        session,
        exchange,
        done: 0,
    })
}

/// Writes the frames a cell reads into the exchange folder and empties its
/// output folder.
#[cfg(feature = "rust")]
fn hand_in(live: &Live, reads: &[String], ctx: &Context) -> Result<(), Diagnostic> {
    let dir = live.exchange.path();
    let io = |e: std::io::Error| Diagnostic::error(format!("{{rust}} cells: exchange folder: {e}"));
    let out = dir.join("out");
    std::fs::remove_dir_all(&out).map_err(io)?;
    std::fs::create_dir_all(&out).map_err(io)?;
    for name in reads {
        let Some(named) = ctx.frames.get(name) else {
            continue;
        };
        let text = to_exchange(&named.frame)
            .map_err(|e| Diagnostic::error(format!("frame `{name}` for a {{rust}} cell: {e}")))?
            .to_exchange();
        std::fs::write(dir.join("in").join(format!("{name}.tsv")), text).map_err(io)?;
    }
    Ok(())
}

/// What the cell printed, displayed, showed and handed on.
#[cfg(feature = "rust")]
fn hand_out(
    live: &Live,
    block: &Block,
    ctx: &Context,
    run: &crate::kernel::CellRun,
) -> Result<CellOut, Diagnostic> {
    let mut out = CellOut::default();
    let mut text = run.stdout.clone();
    if let Some(t) = run.content.get("text/plain") {
        text.push_str(t);
        if !t.ends_with('\n') {
            text.push('\n');
        }
    }
    if !text.is_empty() && block.option_bool("output", true) {
        out.shown.push(Shown::Text { text });
    }
    let dir = live.exchange.path().join("out");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| Diagnostic::error(format!("{{rust}} cells: exchange folder: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for path in files {
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default();
        let mut parts = file.splitn(3, '-');
        let (_, kind, name) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
        let content = std::fs::read_to_string(&path)
            .map_err(|e| Diagnostic::error(format!("{{rust}} cells: {file}: {e}")))?;
        let bad =
            |e: String| Diagnostic::error(format!("what the cell handed on is unreadable: {e}"));
        match kind {
            Some(kind @ ("frame" | "value")) => {
                if !valid_name(name) {
                    return Err(Diagnostic::error(format!(
                        "`put(\"{name}\", ...)`: a name is letters, digits and `_`, starting with a letter"
                    )));
                }
                let f = exchange::Frame::from_exchange(&content).map_err(bad)?;
                let frame = from_exchange(&f).map_err(|e| bad(e.to_string()))?;
                out.handed.push(Handed {
                    name: name.to_string(),
                    frame,
                    scalar: kind == "value",
                });
            }
            Some("table") => {
                let f = exchange::Frame::from_exchange(&content).map_err(bad)?;
                let frame = from_exchange(&f).map_err(|e| bad(e.to_string()))?;
                let shown = block
                    .result_name()
                    .unwrap_or_else(|| format!("block{}", block.index + 1));
                let table = super::table::table_of(&frame, &shown, block, ctx)?;
                out.shown.push(Shown::Table(table));
            }
            Some("figure") => {
                let (alt, svg) = content.split_once('\n').unwrap_or((&content, ""));
                let alt = exchange::unescape_field(alt);
                if alt.trim().is_empty() {
                    return Err(Diagnostic::error(
                        "`show_svg(svg, alt)`: the alt text is empty; say in words what the image shows",
                    ));
                }
                out.shown.push(Shown::Figure(FigureOut {
                    label: None,
                    number: None,
                    caption: block.option_str("caption").map(str::to_string),
                    data: None,
                    alt,
                    svg: svg.to_string(),
                    csv: String::new(),
                }));
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(feature = "rust")]
fn valid_name(name: &str) -> bool {
    name.chars().next().is_some_and(char::is_alphabetic)
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// A rustc error at the template line and column of the offending code; a
/// panic at the block.
#[cfg(feature = "rust")]
fn failure_diagnostic(
    block: &Block,
    body: &str,
    failure: &crate::kernel::Failure,
    run: &crate::kernel::CellRun,
) -> Diagnostic {
    use crate::kernel::Failure;
    match failure {
        Failure::Compile(errors) => {
            let first = &errors[0];
            let mut d = Diagnostic::error(format!("rustc: {}", first.headline()));
            if let Some((line, column)) = first.at {
                let start = crate::document::line_offset(body, line);
                let col: usize = body[start.min(body.len())..]
                    .chars()
                    .take(column.saturating_sub(1))
                    .map(char::len_utf8)
                    .sum();
                d = d.point(block.body_offset + start + col);
            }
            for n in &first.notes {
                d = d.hint(n.clone());
            }
            for more in &errors[1..] {
                let at = more
                    .at
                    .map(|(l, c)| format!(" (cell line {l}, column {c})"))
                    .unwrap_or_default();
                d = d.hint(format!("also {}{at}", more.headline()));
            }
            d
        }
        Failure::Panic(m) => {
            let mut d = Diagnostic::error(format!("the Rust cell panicked: {m}"));
            if !run.stdout.is_empty() {
                d = d.hint(format!("it printed: {}", run.stdout.trim_end()));
            }
            d
        }
        Failure::Other(m) => Diagnostic::error(format!("the Rust session failed: {m}")),
    }
}

/// A polars frame as the prelude's `Frame`: floats as `f64`, integers as
/// `i64`, booleans as `bool`, everything else as text.
pub fn to_exchange(df: &DataFrame) -> PolarsResult<exchange::Frame> {
    let mut f = exchange::Frame::new();
    for col in df.columns() {
        let name = col.name().as_str();
        let column: exchange::Column = match col.dtype() {
            DataType::Float32 | DataType::Float64 => {
                exchange::Column::F64(col.cast(&DataType::Float64)?.f64()?.iter().collect())
            }
            d if d.is_integer() => {
                exchange::Column::I64(col.cast(&DataType::Int64)?.i64()?.iter().collect())
            }
            DataType::Boolean => exchange::Column::Bool(col.bool()?.iter().collect()),
            _ => exchange::Column::Str(
                col.cast(&DataType::String)?
                    .str()?
                    .iter()
                    .map(|s| s.map(str::to_string))
                    .collect(),
            ),
        };
        f = f.with(name, column);
    }
    Ok(f)
}

/// The prelude's `Frame` as a polars frame.
pub fn from_exchange(f: &exchange::Frame) -> PolarsResult<DataFrame> {
    let columns: Vec<Column> = f
        .names()
        .iter()
        .map(|n| {
            let name = PlSmallStr::from(*n);
            match f.column(n) {
                exchange::Column::F64(v) => Column::new(name, v),
                exchange::Column::I64(v) => Column::new(name, v),
                exchange::Column::Bool(v) => Column::new(name, v),
                exchange::Column::Str(v) => Column::new(name, v),
            }
        })
        .collect();
    DataFrame::new_infer_height(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_literals_are_the_frames_a_cell_reads() {
        let body = "let a = frame(\"levels\");\nlet b = my_frame(\"x\");\nlet c = frame(\"levels\"); frame(\"gaps\")";
        assert_eq!(frame_literals(body), vec!["levels", "gaps"]);
    }

    #[test]
    fn frames_cross_the_exchange_and_come_back_equal() {
        let df = df![
            "area" => [Some("Bristol"), None, Some("tab\there\nnewline \\ back")],
            "n" => [Some(10i64), Some(3), None],
            "mean" => [Some(0.1f64 + 0.2), None, Some(-1e-300)],
            "sig" => [Some(true), Some(false), None],
        ]
        .unwrap();
        let text = to_exchange(&df).unwrap().to_exchange();
        let back = from_exchange(&exchange::Frame::from_exchange(&text).unwrap()).unwrap();
        assert!(back.equals_missing(&df), "{back}\n{df}");
        // bit for bit: 0.1 + 0.2 is not 0.3
        let m = back.column("mean").unwrap().f64().unwrap().get(0).unwrap();
        assert_eq!(m.to_bits(), (0.1f64 + 0.2).to_bits());
    }

    #[test]
    fn a_malformed_exchange_file_is_an_error_not_a_panic() {
        for bad in [
            "a\tb\nf64\n",
            "a\nf64\nnot-a-number\n",
            "a\nweird\n1\n",
            "a\tb\nf64\tf64\n1\n",
        ] {
            assert!(exchange::Frame::from_exchange(bad).is_err(), "{bad:?}");
        }
    }
}
