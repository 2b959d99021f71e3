//! `--to docx`: a Word document (Office Open XML), written natively from
//! the evaluated document, as the HTML page and the PDF are.
//!
//! - `body`: the document's content as WordprocessingML (headings in
//!   Word's heading styles, tables with a repeating header row, charts as
//!   images with alt text, captions with SEQ fields and bookmarks,
//!   cross-references as links to them, footnotes, the provenance);
//! - `parts`: styles, numbering, settings, footer (page numbers),
//!   properties, content types and relationships;
//! - `image`: charts rasterised at print resolution.
//!
//! `format.docx.reference` names a council's reference document, whose
//! styles (and theme, and page size and margins) the output uses, as with
//! pandoc and Quarto; styles it lacks come from coweave's defaults. The
//! package's bytes depend only on the inputs: zip entries carry the render
//! date (from `SOURCE_DATE_EPOCH`), in a fixed order.

mod body;
mod image;
mod parts;

use std::io::{Cursor, Read, Write};
use std::path::Path;

use crate::diag::Diagnostic;
use crate::document::Document;
use crate::engine::Evaluated;
use crate::render::style::Settings;

/// XML text or attribute value: escaped, and without the characters XML
/// cannot carry (control characters other than tab and line breaks).
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Runs for `text` with run properties `rpr`: line breaks become Word line
/// breaks and tabs Word tabs.
pub(crate) fn run_text(rpr: &str, text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let mut s = format!("<w:r>{rpr}");
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            s.push_str("<w:br/>");
        }
        for (j, part) in line.trim_end_matches('\r').split('\t').enumerate() {
            if j > 0 {
                s.push_str("<w:tab/>");
            }
            if !part.is_empty() {
                s.push_str("<w:t xml:space=\"preserve\">");
                s.push_str(&esc(part));
                s.push_str("</w:t>");
            }
        }
    }
    s.push_str("</w:r>");
    s
}

/// Page size and margins, twips.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    width: i64,
    height: i64,
    top: i64,
    right: i64,
    bottom: i64,
    left: i64,
    header: i64,
    footer: i64,
}

impl Page {
    fn a4() -> Page {
        // the PDF's margins: 2 cm at the sides, 2.2 cm top, 2.6 cm bottom
        Page {
            width: 11906,
            height: 16838,
            top: 1247,
            right: 1134,
            bottom: 1474,
            left: 1134,
            header: 709,
            footer: 709,
        }
    }

    fn letter() -> Page {
        Page {
            width: 12240,
            height: 15840,
            ..Page::a4()
        }
    }

    fn section(&self) -> String {
        format!(
            "<w:sectPr><w:footerReference w:type=\"default\" r:id=\"rIdFooter\"/><w:pgSz w:w=\"{}\" w:h=\"{}\"{}/><w:pgMar w:top=\"{}\" w:right=\"{}\" w:bottom=\"{}\" w:left=\"{}\" w:header=\"{}\" w:footer=\"{}\" w:gutter=\"0\"/></w:sectPr>",
            self.width,
            self.height,
            if self.width > self.height {
                " w:orient=\"landscape\""
            } else {
                ""
            },
            self.top,
            self.right,
            self.bottom,
            self.left,
            self.header,
            self.footer
        )
    }
}

/// A reference document's parts coweave takes.
#[derive(Debug, Clone)]
pub struct Reference {
    /// `word/styles.xml`.
    styles: String,
    /// The styles it defines: (id, name).
    ids: Vec<(String, String)>,
    /// Its list definitions (`w:abstractNum`) and instances (`w:num`),
    /// as written, with the highest ids of each.
    numbering: Option<Numbering>,
    /// `word/theme/theme1.xml`, when there is one.
    theme: Option<Vec<u8>>,
    /// Its page size and margins, when it has them.
    page: Option<Page>,
}

/// A reference document's numbering part, kept for its styles' lists.
#[derive(Debug, Clone, Default)]
pub struct Numbering {
    /// The `w:abstractNum` elements.
    pub abstracts: String,
    /// The `w:num` elements.
    pub nums: String,
    /// The highest `w:abstractNumId`.
    pub max_abstract: usize,
    /// The highest `w:numId`.
    pub max_num: usize,
}

/// The list definitions of a `word/numbering.xml`.
fn numbering_of(xml: &str) -> Option<Numbering> {
    let tree = roxmltree::Document::parse(xml).ok()?;
    let mut n = Numbering::default();
    for node in tree.root_element().children() {
        let id = |a: &str| -> usize {
            node.attribute((W, a))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        if node.has_tag_name((W, "abstractNum")) {
            n.abstracts.push_str(&xml[node.range()]);
            n.max_abstract = n.max_abstract.max(id("abstractNumId"));
        } else if node.has_tag_name((W, "num")) {
            n.nums.push_str(&xml[node.range()]);
            n.max_num = n.max_num.max(id("numId"));
        }
    }
    Some(n)
}

/// `format.docx` in the front matter.
#[derive(Debug, Clone, Default)]
pub struct DocxStyle {
    /// `paper`: `a4` or `letter`; unset, the reference document's page or A4.
    paper: Option<Page>,
    /// `reference`: the document whose styles the output uses.
    reference: Option<Reference>,
}

const KEYS: [&str; 2] = ["reference", "paper"];

impl DocxStyle {
    /// Reads `format.docx`; the reference document is read (relative to
    /// the template) and checked now, before any block runs.
    pub fn from_front(doc: &Document) -> Result<DocxStyle, Vec<Diagnostic>> {
        let mut style = DocxStyle::default();
        let mut problems = Vec::new();
        let Some(settings) = Settings::read(doc, "docx", &KEYS, &mut problems)? else {
            return Ok(style);
        };
        let text = |key: &str| settings.text(key);
        let at_key = |key: &str, msg: String| settings.at(key, msg);
        match text("paper").as_deref() {
            None => {}
            Some("a4") => style.paper = Some(Page::a4()),
            Some("letter" | "us-letter") => style.paper = Some(Page::letter()),
            Some(other) => problems.push(
                at_key(
                    "paper",
                    format!("format.docx.paper `{other}` is not a paper size"),
                )
                .hint("use a4 (the default) or letter"),
            ),
        }
        if let Some(r) = text("reference") {
            let base = doc.path.parent().unwrap_or(Path::new("."));
            let path = crate::fsio::inside_project(base, &r);
            match path.and_then(|p| read_reference(&p)) {
                Ok(reference) => style.reference = Some(reference),
                Err(why) => problems.push(
                    at_key("reference", format!("format.docx.reference `{r}`: {why}")).hint(
                        "name a Word document (.docx or .dotx) saved from Word or LibreOffice, relative to the template",
                    ),
                ),
            }
        }
        if problems.is_empty() {
            Ok(style)
        } else {
            Err(problems)
        }
    }
}

/// Reads a reference document: its styles (which must parse), theme and
/// page.
fn read_reference(path: &Path) -> Result<Reference, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|_| {
        "it is not a Word document (a .docx file is a zip package; this is not one)".to_string()
    })?;
    let mut part = |name: &str| -> Option<Vec<u8>> {
        let mut f = zip.by_name(name).ok()?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).ok()?;
        Some(buf)
    };
    let styles = part("word/styles.xml")
        .ok_or_else(|| "it has no styles (word/styles.xml): is it a Word document?".to_string())?;
    let styles =
        String::from_utf8(styles).map_err(|_| "its word/styles.xml is not UTF-8".to_string())?;
    let ids = {
        let tree = roxmltree::Document::parse(&styles)
            .map_err(|e| format!("its word/styles.xml is not well-formed XML: {e}"))?;
        let root = tree.root_element();
        if root.tag_name().name() != "styles" || root.tag_name().namespace() != Some(W) {
            return Err("its word/styles.xml is not a WordprocessingML styles part".into());
        }
        root.children()
            .filter(|n| n.has_tag_name((W, "style")))
            .filter_map(|n| {
                let id = n.attribute((W, "styleId"))?.to_string();
                let name = n
                    .children()
                    .find(|c| c.has_tag_name((W, "name")))
                    .and_then(|c| c.attribute((W, "val")))
                    .unwrap_or("")
                    .to_string();
                Some((id, name))
            })
            .collect()
    };
    let theme = part("word/theme/theme1.xml");
    let numbering =
        part("word/numbering.xml").and_then(|x| numbering_of(&String::from_utf8_lossy(&x)));
    let page = part("word/document.xml").and_then(|d| page_of(&String::from_utf8_lossy(&d)));
    Ok(Reference {
        styles,
        ids,
        numbering,
        theme,
        page,
    })
}

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

/// The page size and margins of a document's last section.
fn page_of(document: &str) -> Option<Page> {
    let tree = roxmltree::Document::parse(document).ok()?;
    let sect = tree
        .descendants()
        .rfind(|n| n.has_tag_name((W, "sectPr")))?;
    let child = |name: &str| sect.children().find(|n| n.has_tag_name((W, name)));
    let num = |n: roxmltree::Node, a: &str| -> Option<i64> { n.attribute((W, a))?.parse().ok() };
    let size = child("pgSz")?;
    let mar = child("pgMar")?;
    let page = Page {
        width: num(size, "w")?,
        height: num(size, "h")?,
        top: num(mar, "top")?.abs(),
        right: num(mar, "right")?,
        bottom: num(mar, "bottom")?.abs(),
        left: num(mar, "left")?,
        header: num(mar, "header").unwrap_or(709),
        footer: num(mar, "footer").unwrap_or(709),
    };
    (page.width > page.left + page.right + 1440 && page.height > 2880).then_some(page)
}

/// The reference's styles with coweave's added where it lacks them, and
/// coweave's style ids that the reference has under another id (a Word in
/// another language names `Heading1` differently), matched by name.
fn merged_styles(reference: &Reference, text_width: i64) -> (String, Vec<(String, String)>) {
    let mut extra = String::new();
    let mut renamed = Vec::new();
    for (id, xml) in parts::styles(text_width) {
        if reference.ids.iter().any(|(i, _)| i == id) {
            continue;
        }
        let name = xml
            .split("<w:name w:val=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("");
        match reference
            .ids
            .iter()
            .find(|(_, n)| !name.is_empty() && n.eq_ignore_ascii_case(name))
        {
            Some((theirs, _)) => renamed.push((id.to_string(), theirs.clone())),
            None => extra.push_str(&xml),
        }
    }
    let styles = match reference.styles.rfind("</w:styles>") {
        Some(end) => format!(
            "{}{extra}{}",
            &reference.styles[..end],
            &reference.styles[end..]
        ),
        None => reference.styles.clone(),
    };
    (styles, renamed)
}

/// `xml` with the style ids of `renamed` replaced where paragraphs and runs
/// name them.
fn rename_styles(xml: String, renamed: &[(String, String)]) -> String {
    renamed.iter().fold(xml, |xml, (ours, theirs)| {
        let theirs = esc(theirs);
        xml.replace(
            &format!("<w:pStyle w:val=\"{ours}\"/>"),
            &format!("<w:pStyle w:val=\"{theirs}\"/>"),
        )
        .replace(
            &format!("<w:rStyle w:val=\"{ours}\"/>"),
            &format!("<w:rStyle w:val=\"{theirs}\"/>"),
        )
    })
}

/// The Word document of `doc`.
pub fn render(doc: &Evaluated, style: &DocxStyle) -> Result<Vec<u8>, Box<Diagnostic>> {
    let page = style
        .paper
        .clone()
        .or_else(|| style.reference.as_ref().and_then(|r| r.page.clone()))
        .unwrap_or_else(Page::a4);
    let geometry = body::Geometry {
        text_width: page.width - page.left - page.right,
        text_height: page.height - page.top - page.bottom,
    };
    let template = Path::new(&doc.provenance.template);
    let their_numbering = style.reference.as_ref().and_then(|r| r.numbering.clone());
    let num_offset = their_numbering.as_ref().map_or(0, |n| n.max_num);
    let content = body::write(doc, &geometry, num_offset, &image::chart).map_err(|(i, why)| {
        let d = Diagnostic::error(format!(
            "the chart could not be drawn for the Word document: {why}"
        ));
        Box::new(match doc.origins.get(i) {
            Some((line, col)) => d.at(template, Some(*line), Some(*col)),
            None => d.at(template, None, None),
        })
    })?;
    let lang = if doc.lang.is_empty() {
        "en-GB"
    } else {
        &doc.lang
    };
    let mut xml = format!("{}<w:document{}><w:body>", parts::DECL, parts::NS);
    xml.push_str(&body::title_block(doc));
    if doc.toc {
        xml.push_str(&body::contents(&content.headings));
    }
    xml.push_str(&content.xml);
    xml.push_str(&body::provenance(doc));
    xml.push_str(&page.section());
    xml.push_str("</w:body></w:document>");

    // the reference's theme, else coweave's
    let theme = style
        .reference
        .as_ref()
        .and_then(|r| r.theme.clone())
        .unwrap_or_else(|| parts::theme().into_bytes());
    let (styles, renamed) = match &style.reference {
        Some(r) => merged_styles(r, geometry.text_width),
        None => (parts::default_styles(lang, geometry.text_width), Vec::new()),
    };
    let xml = rename_styles(xml, &renamed);
    let footnotes = rename_styles(parts::footnotes(&content.footnotes), &renamed);
    let mut rels: Vec<(String, &str, String, bool)> = Vec::new();
    let mut media: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, (png_rel, svg_rel, image)) in content.images.iter().enumerate() {
        let n = i + 1;
        rels.push((
            png_rel.clone(),
            "image",
            format!("media/chart{n}.png"),
            false,
        ));
        media.push((format!("word/media/chart{n}.png"), image.png.clone()));
        if let (Some(rel), Some(svg)) = (svg_rel, &image.svg) {
            rels.push((rel.clone(), "image", format!("media/chart{n}.svg"), false));
            media.push((format!("word/media/chart{n}.svg"), svg.clone().into_bytes()));
        }
    }
    let mut note_rels = Vec::new();
    for (id, url) in &content.links {
        rels.push((id.clone(), "hyperlink", url.clone(), true));
        // a link may be in a footnote: the footnotes part has them too
        note_rels.push((id.clone(), "hyperlink", url.clone(), true));
    }
    let author = doc.author.as_deref().unwrap_or("");
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "[Content_Types].xml".into(),
            parts::content_types().into_bytes(),
        ),
        ("_rels/.rels".into(), parts::package_rels().into_bytes()),
        (
            "docProps/core.xml".into(),
            parts::core(&doc.title, author, lang, &doc.provenance.date).into_bytes(),
        ),
        (
            "docProps/app.xml".into(),
            parts::app(&doc.provenance.coweave).into_bytes(),
        ),
        ("word/document.xml".into(), xml.into_bytes()),
        (
            "word/_rels/document.xml.rels".into(),
            parts::document_rels(&rels).into_bytes(),
        ),
        ("word/styles.xml".into(), styles.into_bytes()),
        (
            "word/settings.xml".into(),
            parts::settings(lang).into_bytes(),
        ),
        (
            "word/numbering.xml".into(),
            parts::numbering(&content.lists, their_numbering.as_ref()).into_bytes(),
        ),
        ("word/footnotes.xml".into(), footnotes.into_bytes()),
        (
            "word/_rels/footnotes.xml.rels".into(),
            parts::rels(&note_rels).into_bytes(),
        ),
        (
            "word/fontTable.xml".into(),
            parts::font_table().into_bytes(),
        ),
        ("word/footer1.xml".into(), parts::footer().into_bytes()),
    ];
    files.push(("word/theme/theme1.xml".into(), theme));
    files.extend(media);
    package(&files, &doc.provenance.date).map_err(|e| {
        Box::new(Diagnostic::error(format!(
            "the Word document could not be packed: {e}"
        )))
    })
}

/// Zips the parts in the order given, every entry stamped with `date`
/// (`YYYY-MM-DD`, the render date) so the bytes depend on the inputs only.
fn package(files: &[(String, Vec<u8>)], date: &str) -> zip::result::ZipResult<Vec<u8>> {
    let mut parts = date.split('-').map(|p| p.parse::<u16>().unwrap_or(1));
    let (y, m, d) = (
        parts.next().unwrap_or(1980),
        parts.next().unwrap_or(1),
        parts.next().unwrap_or(1),
    );
    let stamp = zip::DateTime::from_date_and_time(y.clamp(1980, 2107), m as u8, d as u8, 0, 0, 0)
        .unwrap_or_default();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(stamp)
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        // images are compressed already
        let options = if name.ends_with(".png") {
            options.compression_method(zip::CompressionMethod::Stored)
        } else {
            options
        };
        zip.start_file(name.as_str(), options)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_control_characters_dropped() {
        assert_eq!(esc("a<b>&\"c'\u{7}"), "a&lt;b&gt;&amp;&quot;c&apos;");
        let r = run_text("", "one\ntwo\tthree");
        assert_eq!(
            r,
            "<w:r><w:t xml:space=\"preserve\">one</w:t><w:br/><w:t xml:space=\"preserve\">two</w:t><w:tab/><w:t xml:space=\"preserve\">three</w:t></w:r>"
        );
        assert_eq!(run_text("", ""), "");
    }

    #[test]
    fn a_reference_documents_page_is_read() {
        let doc = format!(
            "<w:document xmlns:w=\"{W}\"><w:body><w:sectPr><w:pgSz w:w=\"12240\" w:h=\"15840\"/><w:pgMar w:top=\"1440\" w:right=\"1800\" w:bottom=\"1440\" w:left=\"1800\" w:header=\"720\" w:footer=\"720\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>"
        );
        let p = page_of(&doc).unwrap();
        assert_eq!((p.width, p.left, p.right, p.top), (12240, 1800, 1800, 1440));
        assert!(page_of("<x/>").is_none());
    }
}
