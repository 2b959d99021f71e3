//! `--to ipynb`: the executed template as a Jupyter notebook (nbformat 4),
//! so a briefing can be opened and continued in Jupyter. The front matter
//! is a raw cell, prose Markdown cells (values filled in, references as
//! "Table 2"), each block a code cell with its outputs: tables as HTML,
//! charts as SVG (with their alt text as the plain-text form), what a cell
//! printed as a stream, a block's frame as a table. Cells are those of
//! `coweave convert`, so the notebook converts back to the template.

use serde_json::{Map, Value, json};

use crate::engine::{Evaluated, OutNode, Piece};
use crate::notebook::cells::{Kind, Segment, edges, segments, template_cells};
use crate::notebook::{KEY, cell, lines, notebook, to_text};

/// The template's cells, cut when the renderer is made.
pub struct Cut {
    segments: Vec<Segment>,
    leading: usize,
    /// (line, column) of each segment's node, to find its outputs.
    places: Vec<(usize, usize)>,
    /// Result names of blocks, by block index.
    names: Vec<Option<String>>,
}

impl Cut {
    /// Cuts the template.
    pub fn of(doc: &crate::document::Document) -> Cut {
        let (segments, leading) = segments(doc);
        let places = segments
            .iter()
            .map(|s| {
                let (l, c, _) = crate::diag::line_col(&doc.source, s.offset);
                (l, c)
            })
            .collect();
        let names = doc
            .nodes
            .iter()
            .filter_map(|n| match n {
                crate::document::Node::Block(b) => Some(b.result_name()),
                crate::document::Node::Prose(_) => None,
            })
            .collect();
        Cut {
            segments,
            leading,
            places,
            names,
        }
    }
}

/// Renders the notebook.
pub fn render(doc: &Evaluated, cut: &Cut) -> String {
    let mut segments = cut.segments.clone();
    let extra = edges(&segments, cut.leading);
    if let Some(last) = segments.last_mut() {
        last.gap = 2;
    }
    let mut cells = template_cells(&segments);
    let mut count = 0;
    for (i, seg) in segments.iter().enumerate() {
        let here: Vec<&OutNode> = doc
            .nodes
            .iter()
            .zip(&doc.origins)
            .filter(|(_, o)| **o == cut.places[i])
            .map(|(n, _)| n)
            .collect();
        match &seg.kind {
            Kind::Prose => {
                if let Some(OutNode::Markdown(md)) = here.first() {
                    cells[i]["source"] = lines(prose_text(md).trim_matches('\n'));
                }
            }
            Kind::Block { index, .. } => {
                let mut outputs = Vec::new();
                let mut ran = false;
                for node in &here {
                    ran = true;
                    if let Some(o) = output(node) {
                        outputs.push(o);
                    }
                }
                let name = cut.names.get(*index).cloned().flatten();
                if let Some(frame) = name.as_ref().and_then(|n| doc.frames.get(n)) {
                    ran = true;
                    outputs.push(frame_output(frame));
                }
                if ran {
                    count += 1;
                    cells[i]["execution_count"] = json!(count);
                    for o in &mut outputs {
                        if o["output_type"] == "execute_result" {
                            o["execution_count"] = json!(count);
                        }
                    }
                }
                cells[i]["outputs"] = Value::Array(outputs);
            }
            Kind::Front => {}
        }
    }
    // the title and the data notice lead the notebook (generated: convert drops it)
    let mut head = format!("# {}\n", doc.title);
    if let Some(s) = &doc.subtitle {
        head.push_str(&format!("\n*{s}*\n"));
    }
    if let Some(b) = &doc.notice {
        head.push_str(&format!("\n> **{}** {}\n", b.head, b.body));
    }
    let mut meta = Map::new();
    meta.insert(KEY.into(), json!({ "generated": true }));
    let at = usize::from(matches!(
        segments.first().map(|s| &s.kind),
        Some(Kind::Front)
    ));
    cells.insert(at, cell("markdown", "coweave-title", head.trim_end(), meta));
    let mut extra = extra;
    extra.insert(
        "provenance".into(),
        serde_json::to_value(&doc.provenance).unwrap_or_default(),
    );
    to_text(&notebook(cells, extra))
}

/// Prose with cross-references as every renderer shows them ("Table 2",
/// `CrossRef::text`).
fn prose_text(md: &crate::engine::Markdown) -> String {
    let mut text = md.text.clone();
    for p in &md.pieces {
        if let Piece::Ref(r) = p {
            text = text.replace(&format!("@{}", r.label), &r.text());
        }
    }
    text
}

fn output(node: &OutNode) -> Option<Value> {
    Some(match node {
        OutNode::Output { text } => json!({
            "name": "stdout",
            "output_type": "stream",
            "text": lines(text),
        }),
        OutNode::Table(t) => json!({
            "data": {
                "text/html": lines(&super::html::table_fragment(t)),
                "text/plain": lines(&t.csv),
            },
            "metadata": {},
            "output_type": "display_data",
        }),
        OutNode::Figure(f) => json!({
            "data": {
                "image/svg+xml": lines(&f.svg),
                "text/plain": lines(&f.alt),
            },
            "metadata": {},
            "output_type": "display_data",
        }),
        OutNode::Markdown(md) => json!({
            "data": { "text/markdown": lines(&prose_text(md)) },
            "metadata": {},
            "output_type": "display_data",
        }),
        OutNode::Code { .. } => return None,
    })
}

/// A block's frame: an HTML table (escaped) of its first rows, and CSV.
fn frame_output(df: &polars::prelude::DataFrame) -> Value {
    json!({
        "data": {
            "text/html": lines(&crate::notebook::workbook::frame_html(df, 20)),
            "text/plain": lines(&crate::engine::frames::to_csv(df)),
        },
        "execution_count": Value::Null,
        "metadata": {},
        "output_type": "execute_result",
    })
}
