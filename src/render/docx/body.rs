//! `word/document.xml`'s body: the evaluated document as WordprocessingML.
//! Prose goes through its Markdown events; tables become Word tables with
//! a repeating header row; charts become images with alt text; captions
//! carry Word's SEQ fields and bookmarks, and cross-references link to
//! those bookmarks.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use pulldown_cmark::{Alignment, Event, HeadingLevel, Tag, TagEnd};

use super::image::ChartImage;
use super::{esc, run_text};
use crate::engine::{Emphasis, Evaluated, OutNode, Piece, TableOut};

/// Tables with up to this many rows are kept on one page.
const KEEP_WHOLE_ROWS: usize = 24;

/// EMUs (the unit of DrawingML) per twip.
const EMU_PER_TWIP: i64 = 635;

/// What the body refers to, for the other parts.
#[derive(Default)]
pub struct Body {
    /// The body's XML (without `<w:body>` and the section properties).
    pub xml: String,
    /// Footnotes, each its paragraphs' XML, numbered from 1.
    pub footnotes: Vec<String>,
    /// External links: relationship id and URL.
    pub links: Vec<(String, String)>,
    /// Charts: relationship ids (PNG, SVG) and the image.
    pub images: Vec<(String, Option<String>, ChartImage)>,
    /// Lists: (ordered, level, first number).
    pub lists: Vec<(bool, usize, u64)>,
    /// Headings of the first two levels: (level, text, bookmark).
    pub headings: Vec<(u8, String, String)>,
    /// Bookmark names of the table and figure labels.
    marks: BTreeMap<String, String>,
    /// Footnote ids by name: a note referred to twice is one note.
    note_ids: HashMap<String, usize>,
    /// Numbering ids below this belong to a reference document.
    pub num_offset: usize,
    /// Captions numbered so far, by kind (for the SEQ fields).
    seq: HashMap<String, usize>,
    next_bookmark: u32,
    next_drawing: u32,
}

impl Body {
    fn bookmark_id(&mut self) -> u32 {
        self.next_bookmark += 1;
        self.next_bookmark
    }
}

/// A Word bookmark name for a label: letters, digits and underscores,
/// starting with a letter, at most 40 characters; distinct labels get
/// distinct names.
fn bookmark_names<'a>(labels: impl Iterator<Item = &'a String>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut taken = HashSet::new();
    for label in labels {
        let mut name: String = label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            name.insert_str(0, "ref_");
        }
        name.truncate(36);
        let mut candidate = name.clone();
        let mut n = 1;
        while !taken.insert(candidate.clone()) {
            n += 1;
            candidate = format!("{name}_{n}");
        }
        out.insert(label.clone(), candidate);
    }
    out
}

/// Page geometry the body needs, twips.
pub struct Geometry {
    /// Text width (page width less the margins).
    pub text_width: i64,
    /// Text height (page height less the margins).
    pub text_height: i64,
}

/// Writes the body of `doc`. `chart` draws a chart (SVG) to an image for
/// the given width in inches; its error is returned with the node's index.
pub fn write(
    doc: &Evaluated,
    geometry: &Geometry,
    num_offset: usize,
    chart: &dyn Fn(&str, f64) -> Result<ChartImage, String>,
) -> Result<Body, (usize, String)> {
    let mut body = Body {
        num_offset,
        marks: bookmark_names(doc.nodes.iter().filter_map(|n| match n {
            OutNode::Table(t) => t.label.as_ref(),
            OutNode::Figure(f) => f.label.as_ref(),
            _ => None,
        })),
        ..Body::default()
    };
    // every footnote definition of the document, by name, so a reference
    // finds its note wherever it is defined
    let mut notes: HashMap<String, Vec<Piece>> = HashMap::new();
    for node in &doc.nodes {
        if let OutNode::Markdown(md) = node {
            collect_notes(&md.pieces, &mut notes);
        }
    }
    let mut xml = String::new();
    for (i, node) in doc.nodes.iter().enumerate() {
        match node {
            OutNode::Markdown(md) => {
                let mut w = Prose::new(&mut body, &notes);
                w.text_width = geometry.text_width;
                w.convert(&md.pieces);
                xml.push_str(&w.finish());
            }
            OutNode::Code { source, .. } => xml.push_str(&code(source)),
            OutNode::Output { text } => xml.push_str(&code(text.trim_end())),
            OutNode::Table(t) => xml.push_str(&table(&mut body, t, geometry)),
            OutNode::Figure(f) => {
                let width_in = geometry.text_width as f64 / 1440.0;
                let image = chart(&f.svg, width_in).map_err(|e| (i, e))?;
                xml.push_str(&figure(&mut body, f, image, geometry));
            }
        }
    }
    body.xml = xml;
    Ok(body)
}

fn collect_notes(pieces: &[Piece], notes: &mut HashMap<String, Vec<Piece>>) {
    for (name, range) in crate::engine::markdown::footnote_definitions(pieces) {
        notes.entry(name).or_insert_with(|| pieces[range].to_vec());
    }
}

/// A link target as a URI reference: characters a URI cannot hold
/// (spaces, non-ASCII, `|{}"<>\\^`) percent-encoded, `%` kept as written.
fn uri(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.trim().chars() {
        if c.is_ascii_graphic() && !"|{}\"<>\\^`".contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// A code block or a cell's output: one paragraph, lines broken.
fn code(text: &str) -> String {
    format!(
        "<w:p><w:pPr><w:pStyle w:val=\"SourceCode\"/></w:pPr>{}</w:p>",
        run_text("", text)
    )
}

/// A caption paragraph: "Table 3: text", the label a bookmark (the target
/// of cross-references) and the number a SEQ field, so Word's "Insert
/// caption" and "Update field" keep counting.
fn caption(
    body: &mut Body,
    kind: &str,
    number: Option<&str>,
    text: Option<&str>,
    label: Option<&str>,
    keep_next: bool,
) -> String {
    let mut s = format!(
        "<w:p><w:pPr><w:pStyle w:val=\"Caption\"/>{}</w:pPr>",
        if keep_next {
            "<w:keepNext/>"
        } else {
            "<w:keepNext w:val=\"0\"/>"
        }
    );
    let mark = label.and_then(|l| body.marks.get(l).cloned());
    let id = body.bookmark_id();
    if let Some(m) = &mark {
        let _ = write!(s, "<w:bookmarkStart w:id=\"{id}\" w:name=\"{m}\"/>");
    }
    let bold = "<w:rPr><w:b/><w:bCs/></w:rPr>";
    if let Some(n) = number {
        s.push_str(&run_text(bold, &format!("{kind} ")));
        // "A3": a fixed prefix, then the counted number
        let digits = n.len() - n.trim_start_matches(|c: char| !c.is_ascii_digit()).len();
        let (prefix, count) = n.split_at(digits);
        if !prefix.is_empty() {
            s.push_str(&run_text(bold, prefix));
        }
        // a SEQ field only where Word's count gives the same number (a
        // number skipped by the document would be renumbered on update)
        let next = body.seq.get(kind).copied().unwrap_or(0) + 1;
        if count.parse::<usize>().ok() == Some(next) {
            body.seq.insert(kind.to_string(), next);
            let _ = write!(
                s,
                "<w:fldSimple w:instr=\" SEQ {kind} \\* ARABIC \">{}</w:fldSimple>",
                run_text(bold, count)
            );
        } else {
            s.push_str(&run_text(bold, count));
        }
    }
    if mark.is_some() {
        let _ = write!(s, "<w:bookmarkEnd w:id=\"{id}\"/>");
    }
    if number.is_some() && text.is_some() {
        s.push_str(&run_text(bold, ":"));
    }
    if let Some(t) = text {
        let lead = if number.is_some() { " " } else { "" };
        s.push_str(&run_text("", &format!("{lead}{t}")));
    }
    s.push_str("</w:p>");
    s
}

/// A table: caption above (kept with the table), a header row that repeats
/// on every page, booktabs rules, the paper's emphasis (bold; shading for
/// significant negatives), row keys spanning their rows, notes under it. A
/// table of up to 24 rows is kept on one page.
fn table(body: &mut Body, t: &TableOut, geometry: &Geometry) -> String {
    let cols = t.columns();
    let mut shares = crate::render::typst_markup::column_widths(t, cols);
    // a header word never breaks: Arial's bold capitals and the cell
    // margins need a little more than the PDF's shares give
    for line in &t.header {
        let mut i = 0;
        for (h, span) in line {
            if *span == 1 && i < cols {
                let word = h.split_whitespace().map(|w| w.chars().count()).max();
                shares[i] = shares[i].max(word.unwrap_or(0) * 6 / 5 + 4);
            }
            i += span;
        }
    }
    let total: usize = shares.iter().sum::<usize>().max(1);
    let widths: Vec<i64> = shares
        .iter()
        .map(|s| geometry.text_width * *s as i64 / total as i64)
        .collect();
    let numeric = t.numeric_columns();
    // wide tables are set smaller, as in the PDF: 9pt, 8pt past five
    // columns, 7pt past eight
    let size = match cols {
        0..=5 => "",
        6..=8 => "<w:sz w:val=\"16\"/><w:szCs w:val=\"16\"/>",
        _ => "<w:sz w:val=\"14\"/><w:szCs w:val=\"14\"/>",
    };
    let plain_rpr = if size.is_empty() {
        String::new()
    } else {
        format!("<w:rPr>{size}</w:rPr>")
    };
    let bold_rpr = format!("<w:rPr><w:b/><w:bCs/>{size}</w:rPr>");
    let mut s = String::new();
    if t.number.is_some() || t.caption.is_some() {
        s.push_str(&caption(
            body,
            "Table",
            t.number.as_deref(),
            t.caption.as_deref(),
            t.label.as_deref(),
            true,
        ));
    }
    let short = t.rows.len() <= KEEP_WHOLE_ROWS;
    let title = match (&t.number, &t.caption) {
        (Some(n), Some(c)) => format!("Table {n}: {c}"),
        (Some(n), None) => format!("Table {n}"),
        (None, Some(c)) => c.clone(),
        (None, None) => String::new(),
    };
    let _ = write!(
        s,
        "<w:tbl><w:tblPr><w:tblStyle w:val=\"ReportTable\"/><w:tblW w:w=\"5000\" w:type=\"pct\"/><w:tblBorders><w:top w:val=\"single\" w:sz=\"8\" w:space=\"0\" w:color=\"000000\"/><w:bottom w:val=\"single\" w:sz=\"8\" w:space=\"0\" w:color=\"000000\"/></w:tblBorders><w:tblLayout w:type=\"fixed\"/><w:tblCellMar><w:left w:w=\"57\" w:type=\"dxa\"/><w:right w:w=\"57\" w:type=\"dxa\"/></w:tblCellMar><w:tblLook w:val=\"04A0\" w:firstRow=\"1\" w:lastRow=\"0\" w:firstColumn=\"1\" w:lastColumn=\"0\" w:noHBand=\"1\" w:noVBand=\"1\"/>{}</w:tblPr><w:tblGrid>",
        if title.is_empty() {
            String::new()
        } else {
            format!("<w:tblCaption w:val=\"{}\"/>", esc(&title))
        }
    );
    for w in &widths {
        let _ = write!(s, "<w:gridCol w:w=\"{w}\"/>");
    }
    s.push_str("</w:tblGrid>");
    let span_width = |start: usize, span: usize| -> i64 {
        widths[start.min(cols)..(start + span).min(cols)]
            .iter()
            .sum()
    };
    let heads = t.header.len();
    for (line_no, line) in t.header.iter().enumerate() {
        s.push_str("<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>");
        let last = line_no + 1 == heads;
        let mut col = 0;
        for (h, span) in line {
            let span = (*span).max(1);
            let jc = if span > 1 {
                "center"
            } else if numeric.get(col).copied().unwrap_or(false) {
                "right"
            } else {
                "left"
            };
            let _ = write!(
                s,
                "<w:tc><w:tcPr><w:tcW w:w=\"{}\" w:type=\"dxa\"/>{}{}</w:tcPr><w:p><w:pPr><w:pStyle w:val=\"TableHeading\"/><w:keepNext/><w:jc w:val=\"{jc}\"/></w:pPr>{}</w:p></w:tc>",
                span_width(col, span),
                if span > 1 {
                    format!("<w:gridSpan w:val=\"{span}\"/>")
                } else {
                    String::new()
                },
                if last {
                    "<w:tcBorders><w:bottom w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/></w:tcBorders>"
                } else if span > 1 {
                    "<w:tcBorders><w:bottom w:val=\"single\" w:sz=\"2\" w:space=\"0\" w:color=\"808080\"/></w:tcBorders>"
                } else {
                    ""
                },
                run_text(&plain_rpr, h)
            );
            col += span;
        }
        s.push_str("</w:tr>");
    }
    let rows = t.rows.len();
    for (r, (row, spans)) in t.rows.iter().zip(t.row_spans()).enumerate() {
        let keep = short && r + 1 < rows;
        s.push_str("<w:tr><w:trPr><w:cantSplit/></w:trPr>");
        for (i, (c, span)) in row.iter().zip(spans).enumerate().take(cols) {
            let merge = match span {
                0 => "<w:vMerge/>",
                1 => "",
                _ => "<w:vMerge w:val=\"restart\"/>",
            };
            let shade = if c.emphasis == Emphasis::Shade && span != 0 {
                "<w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"FDE2CF\"/>"
            } else {
                ""
            };
            let bold = c.emphasis == Emphasis::Bold || i < t.row_header_columns;
            let text = if span == 0 {
                String::new()
            } else {
                run_text(if bold { &bold_rpr } else { &plain_rpr }, &c.text)
            };
            let _ = write!(
                s,
                "<w:tc><w:tcPr><w:tcW w:w=\"{}\" w:type=\"dxa\"/>{merge}{shade}</w:tcPr><w:p><w:pPr><w:pStyle w:val=\"TableText\"/>{}<w:jc w:val=\"{}\"/></w:pPr>{text}</w:p></w:tc>",
                widths[i],
                if keep { "<w:keepNext/>" } else { "" },
                if numeric.get(i).copied().unwrap_or(false) {
                    "right"
                } else {
                    "left"
                }
            );
        }
        s.push_str("</w:tr>");
    }
    s.push_str("</w:tbl>");
    if t.notes.is_empty() {
        // an empty paragraph keeps two tables in a row apart
        s.push_str("<w:p><w:pPr><w:pStyle w:val=\"TableNote\"/></w:pPr></w:p>");
    } else {
        let _ = write!(
            s,
            "<w:p><w:pPr><w:pStyle w:val=\"TableNote\"/></w:pPr>{}</w:p>",
            run_text("", &t.notes.join(" "))
        );
    }
    s
}

/// A chart: the image (PNG, with the SVG for Word versions that show it)
/// as wide as the text, or as tall as fits a page, with its alt text; the
/// caption under it.
fn figure(
    body: &mut Body,
    f: &crate::engine::FigureOut,
    image: ChartImage,
    geometry: &Geometry,
) -> String {
    body.next_drawing += 1;
    let id = body.next_drawing;
    let png_rel = format!("rIdImage{id}");
    let svg_rel = image.svg.as_ref().map(|_| format!("rIdSvg{id}"));
    // tall charts (stacked panels) are scaled to fit the page height, as
    // in the PDF: at most 21/17 of the text width
    let mut cx = geometry.text_width * EMU_PER_TWIP;
    let mut cy = (cx as f64 / image.aspect).round() as i64;
    // and never taller than the page leaves room for, with its caption
    let max_h = (cx * 21 / 17).min(geometry.text_height * EMU_PER_TWIP * 4 / 5);
    if cy > max_h {
        cx = (cx as f64 * max_h as f64 / cy as f64).round() as i64;
        cy = max_h;
    }
    let name = match &f.number {
        Some(n) => format!("Figure {n}"),
        None => format!("Chart {id}"),
    };
    let svg_ext = match &svg_rel {
        Some(r) => format!(
            "<a:extLst><a:ext uri=\"{{96DAC541-7B7A-43D3-8B79-37D633B846F1}}\"><asvg:svgBlip xmlns:asvg=\"http://schemas.microsoft.com/office/drawing/2016/SVG/main\" r:embed=\"{r}\"/></a:ext></a:extLst>"
        ),
        None => String::new(),
    };
    let alt = esc(&f.alt);
    let mut s = format!(
        "<w:p><w:pPr><w:pStyle w:val=\"Figure\"/></w:pPr><w:r><w:drawing><wp:inline distT=\"0\" distB=\"0\" distL=\"0\" distR=\"0\"><wp:extent cx=\"{cx}\" cy=\"{cy}\"/><wp:effectExtent l=\"0\" t=\"0\" r=\"0\" b=\"0\"/><wp:docPr id=\"{id}\" name=\"{}\" descr=\"{alt}\"/><wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect=\"1\"/></wp:cNvGraphicFramePr><a:graphic><a:graphicData uri=\"http://schemas.openxmlformats.org/drawingml/2006/picture\"><pic:pic><pic:nvPicPr><pic:cNvPr id=\"{id}\" name=\"chart{id}.png\" descr=\"{alt}\"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:embed=\"{png_rel}\">{svg_ext}</a:blip><a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x=\"0\" y=\"0\"/><a:ext cx=\"{cx}\" cy=\"{cy}\"/></a:xfrm><a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>",
        esc(&name)
    );
    if f.number.is_some() || f.caption.is_some() {
        s.push_str(&caption(
            body,
            "Figure",
            f.number.as_deref(),
            f.caption.as_deref(),
            f.label.as_deref(),
            false,
        ));
    }
    body.images.push((png_rel, svg_rel, image));
    s
}

/// Where prose is being written.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Body,
    Footnote,
}

/// A heading being written.
struct Heading {
    level: u8,
    id: u32,
    mark: String,
    text: String,
}

/// One Markdown table of the prose being built.
struct MdTable {
    aligns: Vec<Alignment>,
    /// Rows: (is header, cells' XML).
    rows: Vec<(bool, Vec<String>)>,
    /// Per column, the room its text needs (characters; a long text
    /// counts as 30, a header by its longest bold word).
    need: Vec<usize>,
    /// Characters of the cell being written.
    chars: usize,
}

/// Writes prose pieces as paragraphs.
struct Prose<'a> {
    body: &'a mut Body,
    notes: &'a HashMap<String, Vec<Piece>>,
    out: String,
    /// The open paragraph's properties and runs.
    para: Option<(String, String)>,
    place: Place,
    bold: usize,
    italic: usize,
    strike: usize,
    /// Open links: whether a hyperlink element was opened.
    links: Vec<bool>,
    /// Open lists: numbering id and depth.
    lists: Vec<usize>,
    /// The next paragraph starts a list item (gets the number or bullet).
    item_start: bool,
    quote: usize,
    /// The heading being written: level, bookmark id and name, text.
    heading: Option<Heading>,
    code: Option<String>,
    tables: Vec<MdTable>,
    /// Bodies saved while a table cell is written.
    saved: Vec<String>,
    /// A run that starts the next paragraph (a footnote's own number).
    lead: Option<String>,
    skip_note: usize,
    /// The text width, twips.
    text_width: i64,
}

impl<'a> Prose<'a> {
    fn new(body: &'a mut Body, notes: &'a HashMap<String, Vec<Piece>>) -> Self {
        Prose {
            body,
            notes,
            out: String::new(),
            para: None,
            place: Place::Body,
            bold: 0,
            italic: 0,
            strike: 0,
            links: Vec::new(),
            lists: Vec::new(),
            item_start: false,
            quote: 0,
            heading: None,
            code: None,
            tables: Vec::new(),
            saved: Vec::new(),
            lead: None,
            skip_note: 0,
            text_width: 9638,
        }
    }

    fn finish(mut self) -> String {
        self.close();
        self.out
    }

    /// The paragraph properties for a paragraph opened here.
    fn style(&mut self) -> String {
        if let Some(h) = &self.heading {
            return format!("<w:pStyle w:val=\"Heading{}\"/>", h.level);
        }
        if !self.tables.is_empty() {
            let head = self
                .tables
                .last()
                .and_then(|t| t.rows.last())
                .is_some_and(|r| r.0);
            return format!(
                "<w:pStyle w:val=\"{}\"/>",
                if head { "TableHeading" } else { "TableText" }
            );
        }
        if self.place == Place::Footnote {
            return "<w:pStyle w:val=\"FootnoteText\"/>".into();
        }
        if let Some(&num) = self.lists.last() {
            let level = self.lists.len() - 1;
            if std::mem::take(&mut self.item_start) {
                return format!(
                    "<w:pStyle w:val=\"ListParagraph\"/><w:numPr><w:ilvl w:val=\"{level}\"/><w:numId w:val=\"{num}\"/></w:numPr>"
                );
            }
            return format!(
                "<w:pStyle w:val=\"ListParagraph\"/><w:ind w:left=\"{}\"/>",
                720 + 360 * level
            );
        }
        if self.quote > 0 {
            return "<w:pStyle w:val=\"Quote\"/>".into();
        }
        String::new()
    }

    fn open(&mut self) {
        if self.para.is_none() {
            let ppr = self.style();
            let runs = self.lead.take().unwrap_or_default();
            self.para = Some((ppr, runs));
        }
    }

    fn close(&mut self) {
        if let Some((ppr, runs)) = self.para.take() {
            let ppr = if ppr.is_empty() {
                String::new()
            } else {
                format!("<w:pPr>{ppr}</w:pPr>")
            };
            let _ = write!(self.out, "<w:p>{ppr}{runs}</w:p>");
        }
    }

    fn runs(&mut self) -> &mut String {
        self.open();
        &mut self.para.as_mut().expect("opened").1
    }

    fn rpr(&self, style: &str) -> String {
        let mut r = String::new();
        if !style.is_empty() {
            let _ = write!(r, "<w:rStyle w:val=\"{style}\"/>");
        }
        if self.bold > 0 {
            r.push_str("<w:b/><w:bCs/>");
        }
        if self.italic > 0 {
            r.push_str("<w:i/><w:iCs/>");
        }
        if self.strike > 0 {
            r.push_str("<w:strike/>");
        }
        if r.is_empty() {
            r
        } else {
            format!("<w:rPr>{r}</w:rPr>")
        }
    }

    fn text(&mut self, t: &str, style: &str) {
        if let Some(h) = &mut self.heading {
            h.text.push_str(t);
        }
        if let Some(table) = self.tables.last_mut() {
            let head = table.rows.last().is_some_and(|r| r.0);
            let n = if head {
                // bold, and a word never breaks
                t.split_whitespace()
                    .map(|w| w.chars().count() * 3 / 2 + 4)
                    .max()
                    .unwrap_or(0)
            } else {
                t.chars().count()
            };
            table.chars = if head {
                table.chars.max(n)
            } else {
                table.chars + n
            };
        }
        let link = if self.links.last().copied().unwrap_or(false) && style.is_empty() {
            "Hyperlink"
        } else {
            style
        };
        let rpr = self.rpr(link);
        let run = run_text(&rpr, t);
        self.runs().push_str(&run);
    }

    fn convert(&mut self, pieces: &[Piece]) {
        for piece in pieces {
            let e = match piece {
                Piece::Md(e) => e,
                Piece::Ref(_) if self.skip_note > 0 => continue,
                Piece::Ref(r) => {
                    let target = self.body.marks.get(&r.label).cloned();
                    let rpr = self.rpr("Hyperlink");
                    let run = run_text(&rpr, &r.text());
                    if let Some(h) = &mut self.heading {
                        h.text.push_str(&r.text());
                    }
                    let link = match target {
                        Some(m) => format!(
                            "<w:hyperlink w:anchor=\"{m}\" w:history=\"1\">{run}</w:hyperlink>"
                        ),
                        None => run,
                    };
                    self.runs().push_str(&link);
                    continue;
                }
            };
            if let Some(buf) = self.code.as_mut() {
                match e {
                    Event::Text(t) => buf.push_str(t),
                    Event::End(TagEnd::CodeBlock) => {
                        let text = self.code.take().unwrap_or_default();
                        self.out.push_str(&code(text.trim_end_matches('\n')));
                    }
                    _ => {}
                }
                continue;
            }
            if self.skip_note > 0 {
                match e {
                    Event::Start(Tag::FootnoteDefinition(_)) => self.skip_note += 1,
                    Event::End(TagEnd::FootnoteDefinition) => self.skip_note -= 1,
                    _ => {}
                }
                continue;
            }
            match e {
                Event::Start(tag) => self.start(tag),
                Event::End(tag) => self.end(*tag),
                Event::Text(t) => self.text(t, ""),
                Event::Code(c) => self.text(c, "VerbatimChar"),
                Event::Html(h) | Event::InlineHtml(h) => self.text(h, ""),
                Event::InlineMath(m) | Event::DisplayMath(m) => self.text(m, "VerbatimChar"),
                Event::SoftBreak => self.text(" ", ""),
                Event::HardBreak => self.runs().push_str("<w:r><w:br/></w:r>"),
                Event::Rule => {
                    self.close();
                    self.out
                        .push_str("<w:p><w:pPr><w:pStyle w:val=\"HorizontalRule\"/></w:pPr></w:p>");
                }
                Event::TaskListMarker(done) => {
                    self.text(if *done { "\u{2612} " } else { "\u{2610} " }, "")
                }
                Event::FootnoteReference(name) => self.note(name),
            }
        }
    }

    /// A footnote reference: the note (written once, at its first
    /// reference) goes to the footnotes part.
    fn note(&mut self, name: &str) {
        let Some(pieces) = self.notes.get(name) else {
            self.text(&format!("[^{name}]"), "");
            return;
        };
        if self.place == Place::Footnote {
            // Word has no note inside a note: its text goes in brackets
            // (and a note that refers to itself cannot recurse)
            let text: String = pieces
                .iter()
                .filter_map(|p| match p {
                    Piece::Md(Event::Text(t) | Event::Code(t)) => Some(t.to_string()),
                    Piece::Md(Event::SoftBreak) => Some(" ".into()),
                    Piece::Ref(r) => Some(r.text()),
                    _ => None,
                })
                .collect();
            self.text(&format!(" ({})", text.trim()), "");
            return;
        }
        if let Some(id) = self.body.note_ids.get(name).copied() {
            // Word numbers every note mark anew: a second reference to the
            // same note is a NOTEREF field, the first mark's number
            let field = format!(
                "<w:fldSimple w:instr=\" NOTEREF _RefNote{id} \\f \\h \"><w:r><w:rPr><w:rStyle w:val=\"FootnoteReference\"/></w:rPr><w:t>{id}</w:t></w:r></w:fldSimple>"
            );
            self.runs().push_str(&field);
            return;
        }
        let id = self.body.footnotes.len() + 1;
        self.body.note_ids.insert(name.to_string(), id);
        // the number is taken before the note is written
        self.body.footnotes.push(String::new());
        let mut w = Prose::new(self.body, self.notes);
        w.place = Place::Footnote;
        w.text_width = self.text_width;
        w.lead = Some("<w:r><w:rPr><w:rStyle w:val=\"FootnoteReference\"/></w:rPr><w:footnoteRef/></w:r><w:r><w:t xml:space=\"preserve\"> </w:t></w:r>".into());
        w.convert(pieces);
        if w.lead.is_some() {
            // an empty note still shows its number
            w.open();
        }
        let xml = w.finish();
        self.body.footnotes[id - 1] = xml;
        // the mark is bookmarked, for NOTEREF fields of later references
        let mark = self.body.bookmark_id();
        let run = format!(
            "<w:bookmarkStart w:id=\"{mark}\" w:name=\"_RefNote{id}\"/><w:r><w:rPr><w:rStyle w:val=\"FootnoteReference\"/></w:rPr><w:footnoteReference w:id=\"{id}\"/></w:r><w:bookmarkEnd w:id=\"{mark}\"/>"
        );
        self.runs().push_str(&run);
    }

    fn start(&mut self, tag: &Tag) {
        match tag {
            Tag::Paragraph => self.close(),
            Tag::Heading { level, .. } => {
                self.close();
                let n = match level {
                    HeadingLevel::H1 | HeadingLevel::H2 => 1,
                    HeadingLevel::H3 => 2,
                    _ => 3,
                };
                let id = self.body.bookmark_id();
                let mark = format!("_Toc_coweave_{id}");
                let start = format!("<w:bookmarkStart w:id=\"{id}\" w:name=\"{mark}\"/>");
                self.heading = Some(Heading {
                    level: n,
                    id,
                    mark,
                    text: String::new(),
                });
                self.runs().push_str(&start);
            }
            Tag::Emphasis => self.italic += 1,
            Tag::Strong => self.bold += 1,
            Tag::Strikethrough => self.strike += 1,
            Tag::Link { dest_url, .. } => {
                let open = match dest_url.strip_prefix('#') {
                    Some(label) => self
                        .body
                        .marks
                        .get(label)
                        .map(|m| format!("<w:hyperlink w:anchor=\"{m}\" w:history=\"1\">")),
                    None if dest_url.trim().is_empty() => None,
                    None => {
                        let id = format!("rIdLink{}", self.body.links.len() + 1);
                        self.body.links.push((id.clone(), uri(dest_url)));
                        Some(format!("<w:hyperlink r:id=\"{id}\" w:history=\"1\">"))
                    }
                };
                self.links.push(open.is_some());
                if let Some(open) = open {
                    self.runs().push_str(&open);
                }
            }
            Tag::List(start) => {
                self.close();
                self.body
                    .lists
                    .push((start.is_some(), self.lists.len(), start.unwrap_or(1)));
                self.lists
                    .push(self.body.num_offset + self.body.lists.len());
            }
            Tag::Item => {
                self.close();
                self.item_start = true;
            }
            Tag::BlockQuote(_) => {
                self.close();
                self.quote += 1;
            }
            Tag::CodeBlock(_) => {
                self.close();
                self.code = Some(String::new());
            }
            Tag::FootnoteDefinition(_) => {
                self.close();
                self.skip_note = 1;
            }
            Tag::Table(aligns) => {
                self.close();
                self.tables.push(MdTable {
                    aligns: aligns.clone(),
                    rows: Vec::new(),
                    need: Vec::new(),
                    chars: 0,
                });
            }
            Tag::TableHead => {
                if let Some(t) = self.tables.last_mut() {
                    t.rows.push((true, Vec::new()));
                }
            }
            Tag::TableRow => {
                if let Some(t) = self.tables.last_mut() {
                    t.rows.push((false, Vec::new()));
                }
            }
            Tag::TableCell => {
                self.close();
                let body = std::mem::take(&mut self.out);
                self.saved.push(body);
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.close(),
            TagEnd::Heading(_) => {
                if let Some(h) = &self.heading {
                    // the paragraph was opened with the heading's style
                    let end = format!("<w:bookmarkEnd w:id=\"{}\"/>", h.id);
                    self.runs().push_str(&end);
                    self.close();
                }
                if let Some(h) = self.heading.take()
                    && h.level <= 2
                    && self.place == Place::Body
                    && self.tables.is_empty()
                {
                    self.body.headings.push((h.level, h.text, h.mark));
                }
            }
            TagEnd::Emphasis => self.italic = self.italic.saturating_sub(1),
            TagEnd::Strong => self.bold = self.bold.saturating_sub(1),
            TagEnd::Strikethrough => self.strike = self.strike.saturating_sub(1),
            TagEnd::Link => {
                let opened = self.links.pop().unwrap_or(false);
                let close = if opened { "</w:hyperlink>" } else { "" };
                self.runs().push_str(close);
            }
            TagEnd::List(_) => {
                self.close();
                self.lists.pop();
            }
            TagEnd::Item => {
                self.close();
                self.item_start = false;
            }
            TagEnd::BlockQuote(_) => {
                self.close();
                self.quote = self.quote.saturating_sub(1);
            }
            TagEnd::TableCell => {
                self.close();
                let mut cell =
                    std::mem::replace(&mut self.out, self.saved.pop().unwrap_or_default());
                if cell.is_empty() {
                    cell = "<w:p><w:pPr><w:pStyle w:val=\"TableText\"/></w:pPr></w:p>".into();
                }
                if let Some(t) = self.tables.last_mut() {
                    let chars = std::mem::take(&mut t.chars);
                    if let Some(row) = t.rows.last_mut() {
                        let col = row.1.len();
                        row.1.push(cell);
                        if t.need.len() <= col {
                            t.need.resize(col + 1, 3);
                        }
                        t.need[col] = t.need[col].max(chars.min(30) + 2);
                    }
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.tables.pop() {
                    let xml = md_table(&t, self.text_width);
                    self.out.push_str(&xml);
                }
            }
            _ => {}
        }
    }
}

/// A Markdown table of the prose as a Word table: full width, each
/// column's share as its text needs, header row repeated.
fn md_table(t: &MdTable, text_width: i64) -> String {
    let cols = t.rows.iter().map(|r| r.1.len()).max().unwrap_or(1).max(1);
    let total: usize = (0..cols).map(|i| t.need.get(i).copied().unwrap_or(3)).sum();
    let widths: Vec<i64> = (0..cols)
        .map(|i| text_width * t.need.get(i).copied().unwrap_or(3) as i64 / total.max(1) as i64)
        .collect();
    let mut s = String::from(
        "<w:tbl><w:tblPr><w:tblStyle w:val=\"ProseTable\"/><w:tblW w:w=\"5000\" w:type=\"pct\"/><w:jc w:val=\"center\"/><w:tblLayout w:type=\"fixed\"/><w:tblCellMar><w:left w:w=\"57\" w:type=\"dxa\"/><w:right w:w=\"57\" w:type=\"dxa\"/></w:tblCellMar><w:tblLook w:val=\"04A0\" w:firstRow=\"1\" w:lastRow=\"0\" w:firstColumn=\"0\" w:lastColumn=\"0\" w:noHBand=\"1\" w:noVBand=\"1\"/></w:tblPr><w:tblGrid>",
    );
    for w in &widths {
        let _ = write!(s, "<w:gridCol w:w=\"{w}\"/>");
    }
    s.push_str("</w:tblGrid>");
    for (head, cells) in &t.rows {
        s.push_str(if *head {
            "<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>"
        } else {
            "<w:tr><w:trPr><w:cantSplit/></w:trPr>"
        });
        for (i, width) in widths.iter().enumerate() {
            let jc = match t.aligns.get(i) {
                Some(Alignment::Right) => "right",
                Some(Alignment::Center) => "center",
                _ => "left",
            };
            let cell = cells
                .get(i)
                .cloned()
                .unwrap_or_else(|| "<w:p/>".into())
                .replace(
                    "<w:pStyle w:val=\"TableText\"/>",
                    &format!("<w:pStyle w:val=\"TableText\"/><w:jc w:val=\"{jc}\"/>"),
                )
                .replace(
                    "<w:pStyle w:val=\"TableHeading\"/>",
                    &format!("<w:pStyle w:val=\"TableHeading\"/><w:jc w:val=\"{jc}\"/>"),
                );
            let _ = write!(
                s,
                "<w:tc><w:tcPr><w:tcW w:w=\"{width}\" w:type=\"dxa\"/></w:tcPr>{cell}</w:tc>"
            );
        }
        s.push_str("</w:tr>");
    }
    s.push_str("</w:tbl><w:p><w:pPr><w:pStyle w:val=\"TableNote\"/></w:pPr></w:p>");
    s
}

/// The title block: title, subtitle, byline, and the banner when the data
/// are not real.
pub fn title_block(doc: &Evaluated) -> String {
    let mut s = format!(
        "<w:p><w:pPr><w:pStyle w:val=\"Title\"/></w:pPr>{}</w:p>",
        run_text("", &doc.title)
    );
    if let Some(sub) = &doc.subtitle {
        let _ = write!(
            s,
            "<w:p><w:pPr><w:pStyle w:val=\"Subtitle\"/></w:pPr>{}</w:p>",
            run_text("", sub)
        );
    }
    let _ = write!(
        s,
        "<w:p><w:pPr><w:pStyle w:val=\"Byline\"/></w:pPr>{}</w:p>",
        run_text("", &doc.byline())
    );
    if let Some(notice) = &doc.notice {
        let _ = write!(
            s,
            "<w:p><w:pPr><w:pStyle w:val=\"Notice\"/></w:pPr>{}{}</w:p>",
            run_text("<w:rPr><w:b/><w:bCs/></w:rPr>", &notice.head),
            run_text("", &format!(" {}", notice.body))
        );
    }
    s
}

/// The table of contents: a Word TOC field over heading levels 1 and 2
/// (Word refreshes its page numbers), its entries written in already as
/// links, so the list is there before any refresh. Only with two headings
/// or more, as in the HTML page and the PDF.
pub fn contents(headings: &[(u8, String, String)]) -> String {
    if headings.len() < 2 {
        return String::new();
    }
    let mut s = String::from(
        "<w:p><w:pPr><w:pStyle w:val=\"TOCHeading\"/></w:pPr><w:r><w:t>Contents</w:t></w:r></w:p>",
    );
    let n = headings.len();
    for (i, (level, text, mark)) in headings.iter().enumerate() {
        let _ = write!(s, "<w:p><w:pPr><w:pStyle w:val=\"TOC{level}\"/></w:pPr>");
        if i == 0 {
            s.push_str("<w:r><w:fldChar w:fldCharType=\"begin\" w:dirty=\"true\"/></w:r><w:r><w:instrText xml:space=\"preserve\"> TOC \\o \"1-2\" \\h \\z \\u </w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>");
        }
        let _ = write!(
            s,
            "<w:hyperlink w:anchor=\"{mark}\" w:history=\"1\">{}</w:hyperlink>",
            run_text("", text)
        );
        if i + 1 == n {
            s.push_str("<w:r><w:fldChar w:fldCharType=\"end\"/></w:r>");
        }
        s.push_str("</w:p>");
    }
    s
}

/// The provenance at the end of the document, one line per item.
pub fn provenance(doc: &Evaluated) -> String {
    let mut s = String::from("<w:p><w:pPr><w:pStyle w:val=\"Provenance\"/></w:pPr>");
    for (i, (what, value)) in doc.provenance_rows().iter().enumerate() {
        if i > 0 {
            s.push_str("<w:r><w:br/></w:r>");
        }
        s.push_str(&run_text(
            "<w:rPr><w:b/><w:bCs/></w:rPr>",
            &format!("{what}: "),
        ));
        s.push_str(&run_text("", value));
    }
    s.push_str("</w:p>");
    s
}
