//! A template cut into cells and put back together (`coweave convert`);
//! the same cut gives `--to ipynb` its cells.

use serde_json::{Map, Value, json};

use super::{KEY, cell, notebook, ours, source};
use crate::diag::Diagnostic;
use crate::document::{Document, Node};

/// One piece of a template, as one cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// The YAML front matter, `---` lines included.
    Front,
    /// Prose.
    Prose,
    /// A block: its engine, fence lines and the code between them.
    Block {
        /// Engine name.
        engine: String,
        /// The opening fence line (` ```{sql} `).
        fence: String,
        /// Options and code.
        inner: String,
        /// The closing fence line.
        close: String,
        /// Index among the document's blocks.
        index: usize,
    },
}

/// A piece with its text (without the blank lines around it), where it
/// starts in the template, and how many newlines follow it.
#[derive(Debug, Clone)]
pub struct Segment {
    /// What it is.
    pub kind: Kind,
    /// Its text, without leading or trailing newlines.
    pub content: String,
    /// Byte offset of the node it comes from (the prose or the block).
    pub offset: usize,
    /// Newlines between its end and the next piece (or the end of the file).
    pub gap: usize,
}

/// The usual number of newlines between cells: one blank line.
const GAP: usize = 2;

/// The template's pieces in order, and the newlines before the first.
pub fn segments(doc: &Document) -> (Vec<Segment>, usize) {
    let source = &doc.source;
    let mut raw: Vec<(Option<Kind>, usize, usize)> = Vec::new();
    let first = doc.nodes.first().map_or(source.len(), node_offset);
    if source.starts_with("---") && first > 0 {
        raw.push((Some(Kind::Front), 0, first));
    }
    for (i, node) in doc.nodes.iter().enumerate() {
        let start = node_offset(node);
        let end = doc.nodes.get(i + 1).map_or(source.len(), node_offset);
        let kind = match node {
            Node::Prose(_) => Some(Kind::Prose),
            Node::Block(b) => Some(Kind::Block {
                engine: b.engine.clone(),
                fence: String::new(),
                inner: String::new(),
                close: String::new(),
                index: b.index,
            }),
        };
        raw.push((kind, start, end));
    }
    let mut out: Vec<Segment> = Vec::new();
    let mut leading = 0;
    for (kind, start, end) in raw {
        let text = &source[start..end];
        let body = text.trim_start_matches('\n');
        let lead = text.len() - body.len();
        let content = body.trim_end_matches('\n');
        let trail = body.len() - content.len();
        match out.last_mut() {
            Some(prev) => prev.gap += lead,
            None => leading += lead,
        }
        if content.is_empty() {
            match out.last_mut() {
                Some(prev) => prev.gap += trail,
                None => leading += trail,
            }
            continue;
        }
        let kind = match kind {
            Some(Kind::Block { engine, index, .. }) => split_block(content, engine, index),
            Some(k) => k,
            None => Kind::Prose,
        };
        out.push(Segment {
            kind,
            content: content.to_string(),
            offset: start,
            gap: trail,
        });
    }
    (out, leading)
}

fn node_offset(node: &Node) -> usize {
    match node {
        Node::Prose(p) => p.offset,
        Node::Block(b) => b.offset,
    }
}

fn split_block(content: &str, engine: String, index: usize) -> Kind {
    let (fence, rest) = content.split_once('\n').unwrap_or((content, ""));
    let (inner, close) = match rest.rsplit_once('\n') {
        Some((inner, close)) if is_fence(close) => (inner.to_string(), close.to_string()),
        _ if is_fence(rest) => (String::new(), rest.to_string()),
        _ => (rest.to_string(), String::new()),
    };
    Kind::Block {
        engine,
        fence: fence.to_string(),
        inner,
        close,
        index,
    }
}

fn is_fence(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("```") || t.starts_with("~~~")
}

/// `#|` options at the top of a Rust cell as `//|`, and back.
fn options_to_comments(inner: &str) -> String {
    swap_leading(inner, "#|", "//|")
}

fn comments_to_options(inner: &str) -> String {
    swap_leading(inner, "//|", "#|")
}

fn swap_leading(inner: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut leading = true;
    for line in inner.split_inclusive('\n') {
        let t = line.trim_start();
        if leading && t.starts_with(from) {
            let indent = line.len() - t.len();
            out.push_str(&line[..indent]);
            out.push_str(to);
            out.push_str(&t[from.len()..]);
        } else {
            leading = false;
            out.push_str(line);
        }
    }
    out
}

/// The cells of a template (without outputs), each with the metadata that
/// puts it back.
pub fn template_cells(segments: &[Segment]) -> Vec<Value> {
    segments
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut meta = Map::new();
            if s.gap != GAP {
                meta.insert("gap".into(), json!(s.gap));
            }
            let (kind, text) = match &s.kind {
                Kind::Front => {
                    meta.insert("front_matter".into(), json!(true));
                    ("raw", s.content.clone())
                }
                Kind::Prose => ("markdown", s.content.clone()),
                Kind::Block {
                    engine,
                    fence,
                    inner,
                    close,
                    ..
                } => {
                    meta.insert("engine".into(), json!(engine));
                    if *fence != format!("```{{{engine}}}") {
                        meta.insert("fence".into(), json!(fence));
                    }
                    if close != "```" {
                        meta.insert("close".into(), json!(close));
                    }
                    let code = if engine == "rust" {
                        options_to_comments(inner)
                    } else {
                        inner.clone()
                    };
                    ("code", code)
                }
            };
            let mut metadata = Map::new();
            if !meta.is_empty() {
                metadata.insert(KEY.into(), Value::Object(meta));
            }
            cell(kind, &format!("cell-{i}"), &text, metadata)
        })
        .collect()
}

/// Notebook-level metadata that puts the file's edges back.
pub fn edges(segments: &[Segment], leading: usize) -> Map<String, Value> {
    let mut extra = Map::new();
    if leading != 0 {
        extra.insert("leading_newlines".into(), json!(leading));
    }
    let last = segments.last().map_or(1, |s| s.gap);
    if last != 1 {
        extra.insert("final_newlines".into(), json!(last));
    }
    extra
}

/// A template as a notebook (no outputs).
pub fn template_to_notebook(doc: &Document) -> Value {
    let (segments, leading) = segments(doc);
    let mut segments = segments;
    // the last piece's gap is the file's final newlines, kept in `edges`
    let extra = edges(&segments, leading);
    if let Some(last) = segments.last_mut() {
        last.gap = GAP;
    }
    notebook(template_cells(&segments), extra)
}

/// A notebook as a template: raw front matter, Markdown prose, code cells
/// as blocks (of their recorded engine, else `{rust}`); outputs and cells
/// coweave generated (a rendered notebook's title) are left out.
pub fn notebook_to_template(path: &std::path::Path, nb: &Value) -> Result<String, Diagnostic> {
    let cells = nb
        .get("cells")
        .and_then(Value::as_array)
        .ok_or_else(|| Diagnostic::error("the notebook has no cells").at(path, None, None))?;
    let extra = nb
        .get("metadata")
        .and_then(|m| m.get(KEY))
        .and_then(Value::as_object);
    let number = |key: &str, default: usize| {
        extra
            .and_then(|e| e.get(key))
            .and_then(Value::as_u64)
            .map_or(default, |n| n as usize)
    };
    let mut out = "\n".repeat(number("leading_newlines", 0));
    let kept: Vec<&Value> = cells
        .iter()
        .filter(|c| {
            !ours(c)
                .and_then(|m| m.get("generated"))
                .is_some_and(|g| g == &Value::Bool(true))
        })
        .collect();
    for (i, c) in kept.iter().enumerate() {
        let meta = ours(c);
        let text = source(c);
        let kind = c.get("cell_type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "code" => {
                let engine = meta
                    .and_then(|m| m.get("engine"))
                    .and_then(Value::as_str)
                    .unwrap_or("rust");
                let fence = meta
                    .and_then(|m| m.get("fence"))
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("```{{{engine}}}"), str::to_string);
                let close = meta
                    .and_then(|m| m.get("close"))
                    .and_then(Value::as_str)
                    .unwrap_or("```");
                let inner = if engine == "rust" {
                    comments_to_options(&text)
                } else {
                    text
                };
                out.push_str(&fence);
                out.push('\n');
                if !inner.is_empty() {
                    out.push_str(&inner);
                    out.push('\n');
                }
                out.push_str(close);
            }
            _ => out.push_str(&text),
        }
        let gap = if i + 1 == kept.len() {
            number("final_newlines", 1)
        } else {
            meta.and_then(|m| m.get("gap"))
                .and_then(Value::as_u64)
                .map_or(GAP, |n| n as usize)
        };
        out.push_str(&"\n".repeat(gap));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(src: &str) -> String {
        let (doc, _) = crate::engine::parse(std::path::Path::new("t.md"), src);
        let nb = template_to_notebook(&doc);
        let text = super::super::to_text(&nb);
        let back: Value = serde_json::from_str(&text).unwrap();
        notebook_to_template(std::path::Path::new("t.ipynb"), &back).unwrap()
    }

    #[test]
    fn templates_come_back_byte_for_byte() {
        for src in [
            "---\ntitle: T\n---\n\n# One\n\nText.\n\n```{sql}\n#| name: x\nSELECT 1\n```\n\nMore.\n",
            "# No front matter\n```{rust}\n#| name: a\nlet a = 1;\n```\nright after\n\n\n\nthree blank lines\n\n",
            "---\ntitle: T\n---\n```{table}\ndata: x\n```\n```{chart}\n```",
            "\n\nleading blank lines\n\n````{sql}\nSELECT '```'\n````\n",
        ] {
            assert_eq!(round_trip(src), src);
        }
    }

    #[test]
    fn rust_options_become_comments_in_the_notebook() {
        let src = "```{rust}\n#| name: a\n#| cache: false\nlet a = 1; // #| not an option\n```\n";
        let (doc, _) = crate::engine::parse(std::path::Path::new("t.md"), src);
        let nb = template_to_notebook(&doc);
        let code = source(&nb["cells"][0]);
        assert_eq!(
            code,
            "//| name: a\n//| cache: false\nlet a = 1; // #| not an option"
        );
        assert_eq!(nb["cells"][0]["metadata"]["coweave"]["engine"], "rust");
    }

    #[test]
    fn a_plain_jupyter_code_cell_is_a_rust_block() {
        let nb = json!({"cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text"]},
            {"cell_type": "code", "metadata": {}, "source": "let x = 2;\nx", "outputs": [], "execution_count": 3}
        ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5});
        let t = notebook_to_template(std::path::Path::new("n.ipynb"), &nb).unwrap();
        assert_eq!(t, "# Title\ntext\n\n```{rust}\nlet x = 2;\nx\n```\n");
    }
}
