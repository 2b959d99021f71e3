//! Notebooks: nbformat 4 files read and written as JSON values (so that
//! metadata coweave does not know survives a round trip through Jupyter),
//! templates cut into cells (`coweave convert`, `--to ipynb`), and Rust
//! notebooks executed through evcxr (`coweave notebook run`, in `run.rs`).
//!
//! A template becomes cells jupytext-style: the front matter a raw cell,
//! prose Markdown cells, each block a code cell whose engine is recorded in
//! the cell's metadata (`coweave.engine`). Rust cells carry their `#|`
//! options as `//|` comments (Quarto's spelling for languages that comment
//! with `//`), so that they stay valid Rust in Jupyter. What is not the
//! usual layout (a blank line between cells, fences of three backticks) is
//! kept in metadata, so that converting back gives the same template byte
//! for byte.

pub mod cells;
#[cfg(feature = "rust")]
pub mod run;
pub mod workbook;

use serde_json::{Map, Value, json};

use crate::diag::Diagnostic;

/// The metadata key coweave writes under.
pub const KEY: &str = "coweave";

/// A notebook read from `path`: JSON in nbformat 4 with a list of cells;
/// anything else is an error naming the line and column or what is missing.
pub fn parse(path: &std::path::Path, text: &str) -> Result<Value, Diagnostic> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        // serde's message ends with the place, which the location gives
        let msg = e.to_string();
        let what = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        Diagnostic::error(format!(
            "not a notebook: the file is not valid JSON ({what})"
        ))
        .at(path, Some(e.line()), Some(e.column().max(1)))
        .hint("a notebook (.ipynb) is JSON in nbformat 4, as Jupyter writes it")
    })?;
    let major = v.get("nbformat").and_then(Value::as_u64);
    if major != Some(4) {
        let found = major.map_or("no `nbformat` field".to_string(), |m| {
            format!("nbformat {m}")
        });
        return Err(Diagnostic::error(format!(
            "not a notebook coweave reads: {found}, not nbformat 4"
        ))
        .at(path, None, None)
        .hint("open and save it in a current Jupyter, which writes nbformat 4"));
    }
    let Some(cells) = v.get("cells").and_then(Value::as_array) else {
        return Err(
            Diagnostic::error("not a notebook: it has no list of `cells`").at(path, None, None),
        );
    };
    // every cell is markdown, code or raw, with text as its source: a cell
    // coweave cannot read is an error, never silently dropped or emptied
    for (i, cell) in cells.iter().enumerate() {
        let kind = cell.get("cell_type").and_then(Value::as_str);
        let problem = match (kind, cell.get("source")) {
            (None, _) => Some("has no `cell_type`".to_string()),
            (Some(k), _) if !matches!(k, "markdown" | "code" | "raw") => Some(format!(
                "has `cell_type` `{k}`; a notebook cell is markdown, code or raw"
            )),
            (_, Some(Value::String(_))) => None,
            (_, Some(Value::Array(lines))) if lines.iter().all(Value::is_string) => None,
            (_, None) => Some("has no `source`".to_string()),
            (_, Some(_)) => {
                Some("has a `source` that is neither text nor a list of lines".to_string())
            }
        };
        if let Some(problem) = problem {
            return Err(
                Diagnostic::error(format!("not a notebook: cell {} {problem}", i + 1))
                    .at(path, kind.and_then(|_| cell_line(text, i)), None)
                    .hint("a notebook (.ipynb) is JSON in nbformat 4, as Jupyter writes it"),
            );
        }
    }
    Ok(v)
}

/// The line of the `i`-th cell (0-based) in the notebook's text, found as
/// the line of its `"cell_type"` key (only cells have one).
fn cell_line(text: &str, i: usize) -> Option<usize> {
    let at = text.match_indices("\"cell_type\"").nth(i)?.0;
    Some(text[..at].matches('\n').count() + 1)
}

/// A cell's source, which nbformat allows as a string or a list of lines.
pub fn source(cell: &Value) -> String {
    match cell.get("source") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// Text as nbformat's list of lines, each with its newline but the last.
pub fn lines(text: &str) -> Value {
    Value::Array(
        text.split_inclusive('\n')
            .map(|l| Value::String(l.to_string()))
            .collect(),
    )
}

/// The cell's `metadata.coweave` object, if any.
pub fn ours(cell: &Value) -> Option<&Map<String, Value>> {
    cell.get("metadata")
        .and_then(|m| m.get(KEY))
        .and_then(Value::as_object)
}

/// The cell's tags.
pub fn tags(cell: &Value) -> Vec<String> {
    cell.get("metadata")
        .and_then(|m| m.get("tags"))
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A new cell of `kind` (`markdown`, `code`, `raw`) with a stable id.
pub fn cell(kind: &str, id: &str, text: &str, metadata: Map<String, Value>) -> Value {
    let mut c = json!({
        "cell_type": kind,
        "id": id,
        "metadata": Value::Object(metadata),
        "source": lines(text),
    });
    if kind == "code" {
        c["execution_count"] = Value::Null;
        c["outputs"] = json!([]);
    }
    c
}

/// A notebook around `cells`, for the evcxr Rust kernel.
pub fn notebook(cells: Vec<Value>, extra: Map<String, Value>) -> Value {
    let mut metadata = Map::new();
    metadata.insert(
        "kernelspec".into(),
        json!({ "display_name": "Rust", "language": "rust", "name": "rust" }),
    );
    metadata.insert(
        "language_info".into(),
        json!({
            "codemirror_mode": "rust",
            "file_extension": ".rs",
            "mimetype": "text/rust",
            "name": "Rust",
            "pygment_lexer": "rust",
            "version": ""
        }),
    );
    if !extra.is_empty() {
        metadata.insert(KEY.into(), Value::Object(extra));
    }
    json!({
        "cells": cells,
        "metadata": Value::Object(metadata),
        "nbformat": 4,
        "nbformat_minor": 5,
    })
}

/// The notebook as Jupyter writes it: keys sorted, one-space indents, a
/// final newline (so that a notebook saved by Jupyter diffs cleanly).
pub fn to_text(nb: &Value) -> String {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    let sorted = sort_keys(nb);
    if serde::Serialize::serialize(&sorted, &mut ser).is_err() {
        return String::new();
    }
    let mut s = String::from_utf8(out).unwrap_or_default();
    s.push('\n');
    s
}

fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: std::collections::BTreeMap<&String, Value> =
                m.iter().map(|(k, v)| (k, sort_keys(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}
