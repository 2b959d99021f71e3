//! The evaluated document as typst markup (`--to typ`, and the input of the
//! PDF renderer). Every string from data or templates enters typst as a
//! string literal, so no user text can become markup.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Tag, TagEnd};

use super::PdfStyle;
use crate::engine::{Emphasis, Evaluated, FigureOut, Markdown, OutNode, Piece, TableOut};

/// A typst string literal.
pub fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            '\t' => out.push_str("\\t"),
            // a control character has no glyph (PDF/UA-1 refuses it) and is
            // not allowed in SVG's XML: it is left out
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text as markup: a string literal ended by `;` so what follows stays markup.
fn text(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("#{};", lit(s))
    }
}

/// A table cell's text with break opportunities (zero-width spaces) every
/// 16 characters inside runs longer than 24 without a space, so a SHA-256
/// or a long identifier wraps inside its column instead of running off the
/// page.
fn breakable(s: &str) -> String {
    s.split(' ')
        .map(|word| {
            let chars: Vec<char> = word.chars().collect();
            if chars.len() <= 24 {
                return word.to_string();
            }
            chars
                .chunks(16)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("\u{200b}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Prose to typst markup.
fn markdown(md: &Markdown, labels: &HashSet<String>) -> String {
    let pieces = &md.pieces;
    // footnote definitions first, so references can inline them
    let mut notes: HashMap<String, String> = HashMap::new();
    for (name, range) in crate::engine::markdown::footnote_definitions(pieces) {
        let body = Writer::new(&HashMap::new(), labels).convert(&pieces[range]);
        notes.insert(name, body.trim().to_string());
    }
    Writer::new(&notes, labels).convert(pieces)
}

/// Writes prose pieces as typst markup.
struct Writer<'a> {
    out: String,
    /// Open lists: ordered?
    lists: Vec<bool>,
    in_item: usize,
    /// Footnote bodies, inlined at their references.
    notes: &'a HashMap<String, String>,
    /// The table and figure labels the document has; an internal link to
    /// anything else is printed as plain text (typst would reject it).
    labels: &'a HashSet<String>,
}

impl<'a> Writer<'a> {
    fn new(notes: &'a HashMap<String, String>, labels: &'a HashSet<String>) -> Self {
        Writer {
            out: String::new(),
            lists: Vec::new(),
            in_item: 0,
            notes,
            labels,
        }
    }

    fn convert(mut self, pieces: &[Piece]) -> String {
        let mut skip_footnote = 0usize;
        // a code block's text is gathered and emitted as one raw literal
        let mut code: Option<(String, String)> = None;
        for piece in pieces {
            let e = match piece {
                Piece::Md(e) => e,
                Piece::Ref(_) if skip_footnote > 0 => continue,
                Piece::Ref(r) => {
                    let _ = write!(
                        self.out,
                        "#link(label({}))[{}];",
                        lit(&r.label),
                        text(&r.text())
                    );
                    continue;
                }
            };
            if let Some((lang, buf)) = code.as_mut() {
                match e {
                    Event::Text(t) => buf.push_str(t),
                    Event::End(TagEnd::CodeBlock) => {
                        let lang = if lang.is_empty() {
                            String::new()
                        } else {
                            format!(", lang: {}", lit(lang))
                        };
                        let _ = write!(self.out, "#raw(block: true{lang}, {})\n\n", lit(buf));
                        code = None;
                    }
                    _ => {}
                }
                continue;
            }
            if skip_footnote > 0 {
                match e {
                    Event::Start(Tag::FootnoteDefinition(_)) => skip_footnote += 1,
                    Event::End(TagEnd::FootnoteDefinition) => skip_footnote -= 1,
                    _ => {}
                }
                continue;
            }
            match e {
                Event::Start(Tag::FootnoteDefinition(_)) => skip_footnote = 1,
                Event::Start(Tag::CodeBlock(kind)) => {
                    let lang = match kind {
                        CodeBlockKind::Fenced(l) => l.to_string(),
                        CodeBlockKind::Indented => String::new(),
                    };
                    code = Some((lang, String::new()));
                }
                Event::Start(tag) => self.start(tag),
                Event::End(tag) => self.end(*tag),
                other => self.inline(other),
            }
        }
        self.out
    }

    fn start(&mut self, tag: &Tag) {
        let out = &mut self.out;
        match tag {
            Tag::Heading { level, .. } => {
                let n = match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 1,
                    HeadingLevel::H3 => 2,
                    _ => 3,
                };
                let _ = write!(out, "#heading(level: {n})[");
            }
            Tag::Emphasis => out.push_str("#emph["),
            Tag::Strong => out.push_str("#strong["),
            Tag::Strikethrough => out.push_str("#strike["),
            Tag::Link { dest_url, .. } => match dest_url.strip_prefix('#') {
                Some(label) if self.labels.contains(label) => {
                    let _ = write!(out, "#link(label({}))[", lit(label));
                }
                Some(_) => out.push_str("#["),
                None => {
                    let _ = write!(out, "#link({})[", lit(dest_url));
                }
            },
            Tag::List(start) => {
                if !out.ends_with('\n') && !out.is_empty() {
                    out.push('\n');
                }
                self.lists.push(start.is_some());
            }
            Tag::Item => {
                self.in_item += 1;
                let indent = "  ".repeat(self.lists.len().saturating_sub(1));
                let marker = if self.lists.last().copied().unwrap_or(false) {
                    "+"
                } else {
                    "-"
                };
                let _ = write!(out, "{indent}{marker} ");
            }
            Tag::BlockQuote(_) => out.push_str("#quote(block: true)["),
            Tag::Table(aligns) => {
                let _ = writeln!(
                    out,
                    "#align(center)[#table(columns: {}, stroke: 0.4pt + luma(200), inset: 4pt,",
                    aligns.len()
                );
            }
            Tag::TableHead => out.push_str("table.header("),
            Tag::TableCell => out.push('['),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        let out = &mut self.out;
        match tag {
            TagEnd::Paragraph => out.push_str(if self.in_item > 0 { " " } else { "\n\n" }),
            TagEnd::Heading(_) => out.push_str("]\n\n"),
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Link => {
                out.push_str("];")
            }
            TagEnd::List(_) => {
                self.lists.pop();
                if self.lists.is_empty() {
                    out.push('\n');
                }
            }
            TagEnd::Item => {
                self.in_item -= 1;
                if !out.ends_with('\n') {
                    out.push('\n');
                }
            }
            TagEnd::BlockQuote(_) => out.push_str("]\n\n"),
            TagEnd::Table => out.push_str(")]\n\n"),
            TagEnd::TableHead => out.push_str("),\n"),
            TagEnd::TableCell => out.push_str("],"),
            _ => {}
        }
    }

    fn inline(&mut self, e: &Event) {
        let out = &mut self.out;
        match e {
            Event::Text(t) => out.push_str(&text(t)),
            Event::Code(c) => {
                let _ = write!(out, "#raw({});", lit(c));
            }
            Event::Html(h) | Event::InlineHtml(h) => out.push_str(&text(h)),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push_str("#linebreak();"),
            Event::Rule => out.push_str("#line(length: 100%, stroke: 0.5pt + luma(180))\n\n"),
            Event::FootnoteReference(name) => {
                let body = self.notes.get(name.as_ref()).cloned().unwrap_or_default();
                let _ = write!(out, "#footnote[{body}];");
            }
            _ => {}
        }
    }
}

fn table(t: &TableOut) -> String {
    let cols = t.columns();
    let size = if cols > 8 {
        "7pt"
    } else if cols > 5 {
        "8pt"
    } else {
        "9pt"
    };
    let mut s = String::new();
    let caption = match (&t.number, &t.caption) {
        (Some(n), Some(c)) => format!("#strong[{}] {}", text(&format!("Table {n}:")), text(c)),
        (Some(n), None) => format!("#strong[{}]", text(&format!("Table {n}"))),
        (None, Some(c)) => text(c),
        (None, None) => String::new(),
    };
    let aligns: Vec<&str> = t
        .numeric_columns()
        .into_iter()
        .map(|n| if n { "right" } else { "left" })
        .collect();
    // the table spans the text width, each column's share as wide as its
    // content needs (so row labels do not wrap word by word and an interval
    // stays on one line)
    let widths: Vec<String> = column_widths(t, cols)
        .iter()
        .map(|w| format!("{w}fr"))
        .collect();
    // a table that fits on a page stays in its place in the text and is kept
    // whole (never a row or two left at a page foot; it moves to the next
    // page instead); a longer one breaks, its header repeated
    let short = t.rows.len() <= KEEP_WHOLE_ROWS;
    let caption = if short {
        s.push_str("#block(breakable: false, width: 100%)[\n");
        caption
    } else {
        // figures still waiting for room are placed before a long table
        // starts, so none lands between its pages; its caption is a block
        // kept with the table's first rows
        let _ = writeln!(
            s,
            "#place.flush()\n#block(sticky: true, width: 100%, below: 0.65em)[#align(center)[{caption}]]"
        );
        String::new()
    };
    let _ = write!(
        s,
        "#figure(kind: table, supplement: none, numbering: none, caption: {},\n [#text(size: {size})[#table(columns: ({},), align: ({}), stroke: none, inset: (x: 4pt, y: 3pt),\n table.hline(stroke: 0.8pt),\n",
        if caption.is_empty() {
            "none".to_string()
        } else {
            format!("[{caption}]")
        },
        widths.join(", "),
        aligns.join(", ")
    );
    s.push_str(" table.header(repeat: true,\n");
    for line in &t.header {
        for (h, span) in line {
            let _ = writeln!(s, "  table.cell(colspan: {span})[#strong[{}]],", text(h));
        }
    }
    s.push_str(" ),\n table.hline(stroke: 0.5pt),\n");
    for (row, spans) in t.rows.iter().zip(t.row_spans()) {
        for ((i, c), span) in row.iter().enumerate().zip(spans) {
            if span == 0 {
                continue;
            }
            let mut content = text(&breakable(&c.text));
            if c.emphasis == Emphasis::Bold || i < t.row_header_columns {
                content = format!("#strong[{content}]");
            }
            let fill = if c.emphasis == Emphasis::Shade {
                ", fill: rgb(\"#fde2cf\")"
            } else {
                ""
            };
            let rowspan = if span > 1 {
                format!(", rowspan: {span}")
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "  table.cell(align: {}{fill}{rowspan})[{content}],",
                aligns.get(i).copied().unwrap_or("left")
            );
        }
    }
    s.push_str(" table.hline(stroke: 0.8pt),\n)]");
    // the notes belong to the table and move with it
    if !t.notes.is_empty() {
        let _ = write!(
            s,
            "\n#align(left)[#text(size: 7.5pt, fill: luma(90))[{}]]",
            text(&t.notes.join(" "))
        );
    }
    s.push_str("])");
    if let Some(l) = &t.label {
        let _ = write!(s, " #label({})", lit(l));
    }
    if short {
        s.push_str("\n]");
    }
    s.push_str("\n\n");
    s
}

/// The contents list: the first two heading levels with their pages, when
/// there are at least two (as in the HTML page). Built
/// from a heading query rather than typst's `outline`, which (typst 0.15)
/// stops the first page's text at the first floating figure, leaving the
/// rest of the page empty.
const CONTENTS: &str = "#context {
  let entries = query(heading.where(level: 1).or(heading.where(level: 2)))
  if entries.len() > 1 {
    block(above: 1.4em, below: 0.7em, text(size: 14pt, weight: \"bold\")[Contents])
    for x in entries {
      block(above: 0.45em, below: 0.45em, link(x.location(), text(fill: luma(20))[#h(if x.level == 2 { 1.2em } else { 0em })#x.body #box(width: 1fr, repeat[.]) #counter(page).at(x.location()).first()]))
    }
  }
}

";

/// Tables with up to this many rows are kept whole; longer ones break
/// across pages.
const KEEP_WHOLE_ROWS: usize = 24;

/// Each column's share of the text width: the characters its content needs
/// (a number's digits, widened as digits are wide and numbers must not wrap;
/// a row label's text, capped at 26 characters, other text at 48, so one
/// long cell cannot take the table; a
/// header's longest bold word, as headers wrap between words), plus padding.
pub(super) fn column_widths(t: &TableOut, cols: usize) -> Vec<usize> {
    let mut need = vec![3usize; cols];
    for row in &t.rows {
        for (i, c) in row.iter().enumerate().take(cols) {
            let chars = c.text.chars().count();
            // numbers never wrap and digits are wide; text may wrap, so a
            // long label is capped and wraps onto a second line
            let width = if c.numeric {
                chars + chars.div_ceil(4) + 1
            } else if i < t.row_header_columns {
                // row labels are bold, and wrap rather than take the table
                chars.min(26) + 2
            } else {
                // prose (a note, a verdict) may take a larger share
                chars.min(48)
            };
            need[i] = need[i].max(width);
        }
    }
    for line in &t.header {
        let mut i = 0;
        for (h, span) in line {
            if *span == 1 && i < cols {
                // headers are bold: a little wider per character
                let word = h.split_whitespace().map(|w| w.chars().count() + 2).max();
                need[i] = need[i].max(word.unwrap_or(0));
            }
            i += span;
        }
    }
    need.iter().map(|n| n + 2).collect()
}

/// plotters writes generic `sans-serif`; the PDF names the bundled font.
fn svg_for_pdf(svg: &str) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    svg[start..]
        .replace("font-family=\"sans-serif\"", "font-family=\"DejaVu Sans\"")
        .replace(", sans-serif\"", ", DejaVu Sans\"")
}

/// A chart as a typst figure: it floats to the top or foot of a page,
/// except right under a heading (no prose between), where it stays so that
/// the heading stays with it.
fn figure(f: &FigureOut, under_heading: bool) -> String {
    let caption = match (&f.number, &f.caption) {
        (Some(n), Some(c)) => format!("#strong[{}] {}", text(&format!("Figure {n}:")), text(c)),
        (Some(n), None) => format!("#strong[{}]", text(&format!("Figure {n}"))),
        (None, Some(c)) => text(c),
        (None, None) => String::new(),
    };
    // tall charts (stacked panels) are scaled to fit the page height
    let attr = |name: &str| -> Option<f64> {
        let svg = svg_for_pdf(&f.svg);
        let head = &svg[..svg.find('>').unwrap_or(svg.len())];
        let i = head.find(&format!(" {name}=\""))? + name.len() + 3;
        head[i..].split('"').next()?.parse().ok()
    };
    let size = match (attr("width"), attr("height")) {
        (Some(w), Some(h)) if w > 0.0 && h / w * 17.0 > 21.0 => "height: 21cm".to_string(),
        _ => "width: 100%".to_string(),
    };
    let mut s = format!(
        "#figure(kind: image, supplement: none, numbering: none, placement: {}, caption: [{caption}],\n image(bytes({}), format: \"svg\", {size}, alt: {}))",
        if under_heading { "none" } else { "auto" },
        lit(&svg_for_pdf(&f.svg)),
        lit(&f.alt)
    );
    if let Some(l) = &f.label {
        let _ = write!(s, " #label({})", lit(l));
    }
    s.push_str("\n\n");
    s
}

/// Paper size for `format: { pdf: { paper: letter } }` (A4 by default).
fn paper(style: &PdfStyle) -> &'static str {
    if style.letter { "us-letter" } else { "a4" }
}

/// The typst source of the document.
pub fn source(doc: &Evaluated, style: &PdfStyle) -> String {
    source_with_ranges(doc, style).0
}

/// The typst source and, per output node, the byte range of its markup
/// (so a typesetting error can be traced to the template).
pub fn source_with_ranges(
    doc: &Evaluated,
    style: &PdfStyle,
) -> (String, Vec<std::ops::Range<usize>>) {
    let mut ranges = Vec::new();
    let mut s = String::new();
    let labels: HashSet<String> = doc
        .nodes
        .iter()
        .filter_map(|n| match n {
            OutNode::Table(t) => t.label.clone(),
            OutNode::Figure(f) => f.label.clone(),
            _ => None,
        })
        .collect();
    let lang = doc
        .lang
        .split(['-', '_'])
        .next()
        .unwrap_or("en")
        .to_ascii_lowercase();
    let author = doc.author.as_deref().unwrap_or("");
    let _ = writeln!(
        s,
        "#set document(title: {}, author: {})",
        lit(&doc.title),
        lit(author)
    );
    // the provenance sits in the last page's footer, above the page
    // number, so it can never be orphaned on a page of its own
    let p = &doc.provenance;
    let inputs: String = p
        .data_inputs()
        .iter()
        .map(|(what, file, sha)| format!(" · {} {file} (SHA-256 {sha})", what.to_lowercase()))
        .collect();
    let provenance = format!(
        "Made with coweave {} from {}{inputs} · disclosure: {} · rendered {}",
        p.coweave,
        p.template,
        doc.disclosure_note(),
        p.date
    );
    let _ = writeln!(
        s,
        "#set page(paper: {}, margin: (x: 2cm, top: 2.2cm, bottom: 2.6cm), footer: context {{ set align(center); if here().page() == counter(page).final().first() {{ line(length: 100%, stroke: 0.5pt + luma(180)); v(-0.4em); text(size: 7pt, fill: luma(100))[{}]; v(-0.3em) }}; text(size: 9pt)[#counter(page).display(\"1\")] }})",
        lit(paper(style)),
        text(&provenance)
    );
    let _ = writeln!(
        s,
        "#set text(font: \"DejaVu Sans\", size: 10.5pt, lang: {})",
        lit(&lang)
    );
    s.push_str("#set par(leading: 0.62em, spacing: 0.9em)\n");
    // headings are sticky: kept on the page of what follows them
    s.push_str("#show heading.where(level: 1): it => block(above: 1.4em, below: 0.7em, sticky: true, text(size: 14pt, weight: \"bold\", it.body))\n");
    s.push_str("#show heading.where(level: 2): it => block(above: 1.1em, below: 0.5em, sticky: true, text(size: 11.5pt, weight: \"bold\", it.body))\n");
    s.push_str("#show heading.where(level: 3): it => block(above: 1em, below: 0.45em, sticky: true, text(size: 10.5pt, weight: \"bold\", it.body))\n");
    s.push_str("#show figure.where(kind: table): set figure.caption(position: top)\n");
    // only a figure that stays in the flow (a long table) may break; a
    // floating one is placed whole
    s.push_str("#show figure.where(placement: none): set block(breakable: true)\n");
    let accent = style.accent.clone().unwrap_or_else(|| "#0072B2".into());
    let _ = writeln!(s, "#show link: set text(fill: rgb({}))\n", lit(&accent));
    if let Some((ext, _)) = &style.logo {
        // PDF/UA-1: every image is described, the logo too
        let alt = match &style.council {
            Some(c) => format!("{c} logo"),
            None => "Logo".into(),
        };
        let _ = writeln!(
            s,
            "#place(top + right, dy: -1.8cm, image({}, height: 1.4cm, alt: {}))",
            lit(&format!("/logo.{ext}")),
            lit(&alt)
        );
    }
    if let Some(council) = &style.council {
        let _ = writeln!(
            s,
            "#text(size: 10pt, weight: \"bold\", fill: rgb({}))[{}]\n",
            lit(&accent),
            text(council)
        );
    }
    let _ = writeln!(
        s,
        "#block(below: 1.2em)[#text(size: 19pt, weight: \"bold\")[{}]",
        text(&doc.title)
    );
    if let Some(sub) = &doc.subtitle {
        let _ = writeln!(
            s,
            "#v(0.2em)#text(size: 12pt, fill: luma(80))[{}]",
            text(sub)
        );
    }
    let _ = writeln!(
        s,
        "#v(0.3em)#text(size: 9pt, fill: luma(90))[{}]]",
        text(&doc.byline())
    );
    let _ = writeln!(
        s,
        "#line(length: 100%, stroke: 1.5pt + rgb({}))\n",
        lit(&accent)
    );
    if let Some(notice) = &doc.notice {
        let _ = writeln!(
            s,
            "#block(width: 100%, fill: rgb(\"#fff4d6\"), stroke: (left: 3pt + rgb(\"#b8860b\")), inset: 8pt, below: 1.2em)[#text(size: 9.5pt)[#strong[{}] {}]]\n",
            text(&notice.head),
            text(&notice.body)
        );
    }
    if doc.toc {
        s.push_str(CONTENTS);
    }
    for node in &doc.nodes {
        let start = s.len();
        match node {
            OutNode::Markdown(md) => s.push_str(&markdown(md, &labels)),
            OutNode::Code { engine, source } => {
                let _ = writeln!(
                    s,
                    "#raw(block: true, lang: {}, {})\n",
                    lit(engine),
                    lit(source)
                );
            }
            OutNode::Table(t) => s.push_str(&table(t)),
            OutNode::Figure(f) => {
                let under_heading = s
                    .trim_end()
                    .lines()
                    .next_back()
                    .is_some_and(|l| l.starts_with("#heading("));
                s.push_str(&figure(f, under_heading));
            }
            OutNode::Output { text } => {
                let _ = writeln!(s, "#raw(block: true, {})\n", lit(text.trim_end()));
            }
        }
        ranges.push(start..s.len());
    }
    (s, ranges)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Cell;

    fn cell(text: &str, numeric: bool) -> Cell {
        Cell {
            text: text.into(),
            numeric,
            emphasis: Emphasis::None,
            suppressed: false,
        }
    }

    #[test]
    fn long_tokens_in_cells_can_break() {
        let hash = "a".repeat(64);
        let b = breakable(&format!("sha {hash}"));
        assert_eq!(b.matches('\u{200b}').count(), 3, "{b}");
        assert_eq!(b.replace('\u{200b}', ""), format!("sha {hash}"));
        assert_eq!(breakable("Self-efficacy 0.24"), "Self-efficacy 0.24");
    }

    #[test]
    fn tables_span_the_text_width_shared_by_content() {
        let t = TableOut {
            label: Some("tbl-x".into()),
            number: Some("1".into()),
            caption: Some("C".into()),
            data: None,
            header: vec![vec![
                ("Correlate".into(), 1),
                ("r".into(), 1),
                ("n".into(), 1),
            ]],
            row_header_columns: 1,
            rows: vec![vec![
                cell("Satisfaction with service response", false),
                cell("0.20", true),
                cell("400", true),
            ]],
            notes: vec![],
            csv: String::new(),
        };
        let markup = table(&t);
        // shares by content: the row label's 34 characters capped at 26 (it
        // may wrap) and 2 for bold, "0.20" widened to 6 and "400" to 5
        // (numbers do not wrap), each plus 2 of padding; every column is a
        // share of the text width
        assert!(markup.contains("columns: (30fr, 8fr, 7fr,)"), "{markup}");
        assert!(
            markup.starts_with("#block(breakable: false"),
            "a short table is kept whole, in its place"
        );
        let long = TableOut {
            rows: vec![t.rows[0].clone(); KEEP_WHOLE_ROWS + 1],
            ..t.clone()
        };
        let long = table(&long);
        assert!(
            !long.contains("breakable: false"),
            "a long table breaks across pages"
        );
        assert!(
            long.starts_with("#place.flush()"),
            "waiting figures are placed before a long table starts"
        );
        assert!(
            markup.contains("table.header(repeat: true"),
            "the header repeats on a new page"
        );
    }
}
