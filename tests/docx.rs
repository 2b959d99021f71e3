//! Word output (`--to docx`). The package is checked part by part as Word
//! reads it: zip structure, content types, well-formed XML, relationships,
//! styles, numbering, bookmarks and footnotes that every reference needs.
//! Its text is checked against the evaluated document it was written from
//! (headings, every table cell, captions, alt texts): the expected values
//! are the same `Evaluated` the HTML and PDF come from, read a different
//! way (Markdown events, `TableOut` cells), not a stored snapshot. Then
//! LibreOffice converts it to PDF, as an independent reader.

use crate::common::{install, pdf};

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use coweave::engine::{Evaluated, OutNode, Piece};
use coweave::pipeline::{self, Request};
use coweave::render::Format;
use pulldown_cmark::{Event, Tag, TagEnd};
use roxmltree::{Document, Node};

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const WP: &str = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing";
const A: &str = "http://schemas.openxmlformats.org/drawingml/2006/main";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn request(template: &Path, out: &Path) -> Request {
    Request {
        template: template.to_path_buf(),
        params: vec![],
        formats: vec![Format::Docx],
        out_dir: out.to_path_buf(),
        cache: false,
        data: Default::default(),
        exec: true,
    }
}

/// The evaluated document and its Word bytes, rendered in memory from it.
fn render(template: &Path) -> (Evaluated, Vec<u8>) {
    let out = tempfile::tempdir().unwrap();
    let req = request(template, out.path());
    let ev = pipeline::evaluate(&req).unwrap_or_else(|d| panic!("{}: {d}", template.display()));
    // the renderer the pipeline makes from the front matter, run once on
    // the evaluated document the checks compare with
    let bytes = Format::Docx
        .renderer(&ev.doc)
        .and_then(|r| r.render(&ev.evaluated))
        .unwrap_or_else(|d| panic!("{}: {d}", template.display()));
    (ev.evaluated, bytes)
}

/// Every part of a package, by name, in zip order.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip package");
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).unwrap();
            (f.name().unwrap().to_string(), buf)
        })
        .collect()
}

fn text_of(node: Node) -> String {
    let mut s = String::new();
    for d in node.descendants() {
        if d.has_tag_name((W, "t")) {
            s.push_str(d.text().unwrap_or(""));
        } else if d.has_tag_name((W, "br")) {
            s.push('\n');
        } else if d.has_tag_name((W, "tab")) {
            s.push('\t');
        }
    }
    s
}

/// A paragraph's style, by Word's built-in name where the style has one
/// ("heading 1" is `Heading1` whatever its id, as a Word in another
/// language writes it), else by id.
fn style_of(p: Node, names: &BTreeMap<String, String>) -> Option<String> {
    let id = p
        .children()
        .find(|n| n.has_tag_name((W, "pPr")))?
        .children()
        .find(|n| n.has_tag_name((W, "pStyle")))?
        .attribute((W, "val"))?;
    let name = names.get(id).map(|n| n.to_ascii_lowercase());
    Some(match name.as_deref() {
        Some("caption") => "Caption".to_string(),
        Some(n) if n.starts_with("heading ") => format!("Heading{}", &n[8..]),
        _ => id.to_string(),
    })
}

type Table = (String, Option<String>, Vec<Vec<(String, usize)>>, usize);

/// What the package checks found, for the test to compare.
struct Word {
    /// Body paragraphs with a heading style: (style, text).
    headings: Vec<(String, String)>,
    /// Tables of the body: (table style, tblCaption, rows of cell texts
    /// with spans, header rows).
    tables: Vec<Table>,
    /// Caption paragraphs' text, and the SEQ fields' kinds in order.
    captions: Vec<String>,
    seq: Vec<String>,
    /// Drawings: (descr, extent cx in EMU, png pixel width).
    drawings: Vec<(String, i64, u32)>,
    /// Footnotes' text by id.
    footnotes: BTreeMap<String, String>,
    /// The whole body text.
    text: String,
    /// External links: URL.
    links: Vec<String>,
    /// numbering: numId -> (abstractNumId, start override).
    nums: BTreeMap<String, (String, Option<String>)>,
    parts: BTreeMap<String, Vec<u8>>,
}

/// Checks the package as Word would read it and returns what it holds.
fn check_package(bytes: &[u8], what: &str) -> Word {
    let entries = unzip(bytes);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), names.len(), "{what}: a part twice: {names:?}");
    assert_eq!(
        names[0], "[Content_Types].xml",
        "{what}: content types first"
    );
    let parts: BTreeMap<String, Vec<u8>> = entries.into_iter().collect();
    // every XML part is well-formed
    let xml: BTreeMap<&str, String> = parts
        .iter()
        .filter(|(n, _)| n.ends_with(".xml") || n.ends_with(".rels"))
        .map(|(n, b)| {
            let s =
                String::from_utf8(b.clone()).unwrap_or_else(|_| panic!("{what}: {n} is not UTF-8"));
            if let Err(e) = Document::parse(&s) {
                panic!("{what}: {n} is not well-formed: {e}");
            }
            (n.as_str(), s)
        })
        .collect();
    // every part has a content type, every override names a part
    let types = Document::parse(&xml["[Content_Types].xml"]).unwrap();
    let defaults: BTreeSet<&str> = types
        .descendants()
        .filter(|n| n.tag_name().name() == "Default")
        .filter_map(|n| n.attribute("Extension"))
        .collect();
    let overrides: BTreeSet<String> = types
        .descendants()
        .filter(|n| n.tag_name().name() == "Override")
        .filter_map(|n| n.attribute("PartName"))
        .map(|p| p.trim_start_matches('/').to_string())
        .collect();
    for name in parts.keys().filter(|n| *n != "[Content_Types].xml") {
        let ext = name.rsplit('.').next().unwrap();
        assert!(
            overrides.contains(name) || defaults.contains(ext),
            "{what}: {name} has no content type"
        );
    }
    for o in &overrides {
        assert!(parts.contains_key(o), "{what}: override for missing {o}");
    }
    // relationships resolve
    let rels_of = |name: &str| -> BTreeMap<String, (String, String, bool)> {
        let doc = Document::parse(&xml[name]).unwrap();
        doc.descendants()
            .filter(|n| n.tag_name().name() == "Relationship")
            .map(|n| {
                (
                    n.attribute("Id").unwrap().to_string(),
                    (
                        n.attribute("Type")
                            .unwrap()
                            .rsplit('/')
                            .next()
                            .unwrap()
                            .to_string(),
                        n.attribute("Target").unwrap().to_string(),
                        n.attribute("TargetMode") == Some("External"),
                    ),
                )
            })
            .collect()
    };
    let package = rels_of("_rels/.rels");
    assert!(
        package
            .values()
            .any(|(t, target, _)| t == "officeDocument" && target == "word/document.xml")
    );
    let rels = rels_of("word/_rels/document.xml.rels");
    for (id, (_, target, external)) in &rels {
        if !external {
            assert!(
                parts.contains_key(&format!("word/{target}")),
                "{what}: relationship {id} points at missing word/{target}"
            );
        }
    }
    for kind in ["styles", "settings", "numbering", "footnotes", "footer"] {
        assert!(
            rels.values().any(|(t, _, _)| t == kind),
            "{what}: no {kind} part"
        );
    }
    let document = Document::parse(&xml["word/document.xml"]).unwrap();
    let body = document
        .descendants()
        .find(|n| n.has_tag_name((W, "body")))
        .unwrap();
    // every r:id and r:embed is a relationship
    for n in document.descendants() {
        for a in n.attributes() {
            if a.namespace() == Some(R) {
                assert!(
                    rels.contains_key(a.value()),
                    "{what}: {} refers to missing relationship {}",
                    n.tag_name().name(),
                    a.value()
                );
            }
        }
    }
    // every style used is defined
    let styles = Document::parse(&xml["word/styles.xml"]).unwrap();
    let defined: BTreeSet<&str> = styles
        .descendants()
        .filter(|n| n.has_tag_name((W, "style")))
        .filter_map(|n| n.attribute((W, "styleId")))
        .collect();
    let names: BTreeMap<String, String> = styles
        .descendants()
        .filter(|n| n.has_tag_name((W, "style")))
        .filter_map(|n| {
            let name = n
                .children()
                .find(|c| c.has_tag_name((W, "name")))?
                .attribute((W, "val"))?;
            Some((n.attribute((W, "styleId"))?.to_string(), name.to_string()))
        })
        .collect();
    for part in [
        "word/document.xml",
        "word/footnotes.xml",
        "word/footer1.xml",
    ] {
        let doc = Document::parse(&xml[part]).unwrap();
        for n in doc.descendants().filter(|n| {
            n.has_tag_name((W, "pStyle"))
                || n.has_tag_name((W, "rStyle"))
                || n.has_tag_name((W, "tblStyle"))
        }) {
            let id = n.attribute((W, "val")).unwrap();
            assert!(
                defined.contains(id),
                "{what}: style {id} used in {part}, not defined"
            );
        }
    }
    // bookmarks are unique and valid Word names; every internal link has one
    let marks: Vec<&str> = document
        .descendants()
        .filter(|n| n.has_tag_name((W, "bookmarkStart")))
        .map(|n| n.attribute((W, "name")).unwrap())
        .collect();
    let mark_set: BTreeSet<&str> = marks.iter().copied().collect();
    assert_eq!(mark_set.len(), marks.len(), "{what}: a bookmark twice");
    for m in &marks {
        assert!(m.len() <= 40, "{what}: bookmark {m} longer than 40");
        assert!(
            m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{what}: bookmark {m}"
        );
    }
    let starts: BTreeSet<&str> = document
        .descendants()
        .filter(|n| n.has_tag_name((W, "bookmarkStart")))
        .map(|n| n.attribute((W, "id")).unwrap())
        .collect();
    let ends: BTreeSet<&str> = document
        .descendants()
        .filter(|n| n.has_tag_name((W, "bookmarkEnd")))
        .map(|n| n.attribute((W, "id")).unwrap())
        .collect();
    assert_eq!(starts, ends, "{what}: bookmark starts and ends differ");
    for n in document
        .descendants()
        .filter(|n| n.has_tag_name((W, "hyperlink")))
    {
        if let Some(anchor) = n.attribute((W, "anchor")) {
            assert!(
                mark_set.contains(anchor),
                "{what}: link to missing bookmark {anchor}"
            );
        }
    }
    let links = document
        .descendants()
        .filter(|n| n.has_tag_name((W, "hyperlink")))
        .filter_map(|n| n.attribute((R, "id")))
        .map(|id| {
            let (kind, target, external) = &rels[id];
            assert!(kind == "hyperlink" && *external, "{what}: link {id}");
            target.clone()
        })
        .collect();
    // footnotes referenced exist, and every note is referenced; links in
    // notes resolve in the footnotes' own relationships
    let notes_doc = Document::parse(&xml["word/footnotes.xml"]).unwrap();
    let note_rels = if xml.contains_key("word/_rels/footnotes.xml.rels") {
        rels_of("word/_rels/footnotes.xml.rels")
    } else {
        BTreeMap::new()
    };
    for n in notes_doc.descendants() {
        for a in n.attributes() {
            if a.namespace() == Some(R) {
                assert!(
                    note_rels.contains_key(a.value()),
                    "{what}: a footnote refers to missing relationship {}",
                    a.value()
                );
            }
        }
    }
    let footnotes: BTreeMap<String, String> = notes_doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name((W, "footnote")) && n.attribute((W, "type")).is_none())
        .map(|n| (n.attribute((W, "id")).unwrap().to_string(), text_of(n)))
        .collect();
    let referenced: BTreeSet<String> = document
        .descendants()
        .filter(|n| n.has_tag_name((W, "footnoteReference")))
        .map(|n| n.attribute((W, "id")).unwrap().to_string())
        .collect();
    assert_eq!(
        referenced,
        footnotes.keys().cloned().collect::<BTreeSet<_>>(),
        "{what}: footnotes and their references differ"
    );
    // lists use defined numbering
    let numbering = Document::parse(&xml["word/numbering.xml"]).unwrap();
    let nums: BTreeMap<String, (String, Option<String>)> = numbering
        .descendants()
        .filter(|n| n.has_tag_name((W, "num")))
        .map(|n| {
            let abs = n
                .children()
                .find(|c| c.has_tag_name((W, "abstractNumId")))
                .and_then(|c| c.attribute((W, "val")))
                .unwrap()
                .to_string();
            let start = n
                .descendants()
                .find(|c| c.has_tag_name((W, "startOverride")))
                .and_then(|c| c.attribute((W, "val")))
                .map(str::to_string);
            (n.attribute((W, "numId")).unwrap().to_string(), (abs, start))
        })
        .collect();
    for n in document
        .descendants()
        .filter(|n| n.has_tag_name((W, "numId")))
    {
        let id = n.attribute((W, "val")).unwrap();
        assert!(
            nums.contains_key(id),
            "{what}: list numbering {id} not defined"
        );
    }
    // the footer numbers the pages
    assert!(
        xml["word/footer1.xml"].contains("PAGE"),
        "{what}: no page number in the footer"
    );
    // drawings: unique ids, alt text, a PNG at print resolution
    let mut ids = BTreeSet::new();
    let mut drawings = Vec::new();
    for inline in document
        .descendants()
        .filter(|n| n.has_tag_name((WP, "inline")))
    {
        let pr = inline
            .children()
            .find(|n| n.has_tag_name((WP, "docPr")))
            .unwrap();
        assert!(
            ids.insert(pr.attribute("id").unwrap().to_string()),
            "{what}: drawing id twice"
        );
        let cx: i64 = inline
            .children()
            .find(|n| n.has_tag_name((WP, "extent")))
            .unwrap()
            .attribute("cx")
            .unwrap()
            .parse()
            .unwrap();
        let blip = inline
            .descendants()
            .find(|n| n.has_tag_name((A, "blip")))
            .unwrap();
        let (_, target, _) = &rels[blip.attribute((R, "embed")).unwrap()];
        assert!(target.ends_with(".png"), "{what}: {target}");
        let png = resvg::tiny_skia::Pixmap::decode_png(&parts[&format!("word/{target}")])
            .unwrap_or_else(|e| panic!("{what}: {target} is not a PNG: {e}"));
        drawings.push((
            pr.attribute("descr").unwrap_or("").to_string(),
            cx,
            png.width(),
        ));
    }
    // body tables (not those nested in cells)
    let mut tables = Vec::new();
    for tbl in body.children().filter(|n| n.has_tag_name((W, "tbl"))) {
        let caption = tbl
            .descendants()
            .find(|n| n.has_tag_name((W, "tblCaption")))
            .and_then(|n| n.attribute((W, "val")))
            .map(str::to_string);
        let mut rows = Vec::new();
        let mut head = 0;
        for tr in tbl.children().filter(|n| n.has_tag_name((W, "tr"))) {
            if tr.descendants().any(|n| n.has_tag_name((W, "tblHeader"))) {
                assert_eq!(head, rows.len(), "{what}: header rows are not first");
                head += 1;
            }
            rows.push(
                tr.children()
                    .filter(|n| n.has_tag_name((W, "tc")))
                    .map(|tc| {
                        let span = tc
                            .descendants()
                            .find(|n| n.has_tag_name((W, "gridSpan")))
                            .and_then(|n| n.attribute((W, "val")))
                            .map_or(1, |v| v.parse().unwrap());
                        (text_of(tc), span)
                    })
                    .collect(),
            );
        }
        let style = tbl
            .descendants()
            .find(|n| n.has_tag_name((W, "tblStyle")))
            .and_then(|n| n.attribute((W, "val")))
            .unwrap_or("")
            .to_string();
        tables.push((style, caption, rows, head));
    }
    let paragraphs: Vec<Node> = body
        .children()
        .filter(|n| n.has_tag_name((W, "p")))
        .collect();
    let headings = paragraphs
        .iter()
        .filter_map(|p| {
            let s = style_of(*p, &names)?;
            s.starts_with("Heading").then(|| (s, text_of(*p)))
        })
        .collect();
    let captions = paragraphs
        .iter()
        .filter(|p| style_of(**p, &names).as_deref() == Some("Caption"))
        .map(|p| text_of(*p))
        .collect();
    let seq = document
        .descendants()
        .filter_map(|n| n.attribute((W, "instr")))
        .filter(|i| i.trim().starts_with("SEQ "))
        .map(|i| i.split_whitespace().nth(1).unwrap().to_string())
        .collect();
    Word {
        headings,
        tables,
        captions,
        seq,
        drawings,
        footnotes,
        text: text_of(body),
        links,
        nums,
        parts,
    }
}

/// The headings of the evaluated document's prose, with the Word style
/// the PDF's level maps to (`##` is the first level under the title).
fn headings(doc: &Evaluated) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for node in &doc.nodes {
        let OutNode::Markdown(md) = node else {
            continue;
        };
        let mut current: Option<(String, String)> = None;
        for piece in &md.pieces {
            match piece {
                Piece::Md(Event::Start(Tag::Heading { level, .. })) => {
                    let n = match *level as usize {
                        1 | 2 => 1,
                        3 => 2,
                        _ => 3,
                    };
                    current = Some((format!("Heading{n}"), String::new()));
                }
                Piece::Md(Event::End(TagEnd::Heading(_))) => out.extend(current.take()),
                Piece::Md(Event::Text(t) | Event::Code(t)) => {
                    if let Some((_, s)) = &mut current {
                        s.push_str(t);
                    }
                }
                Piece::Ref(r) => {
                    if let Some((_, s)) = &mut current {
                        s.push_str(&r.text());
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Compares the Word document with the evaluated document it was written
/// from; returns how many table cells were compared.
fn compare(doc: &Evaluated, word: &Word, what: &str) -> usize {
    assert_eq!(word.headings, headings(doc), "{what}: headings");
    assert!(word.text.contains(&doc.title), "{what}: title");
    if let Some(n) = &doc.notice {
        assert!(
            word.text.contains(&n.head),
            "{what}: the synthetic-data notice"
        );
    }
    // the provenance: the data's SHA-256 and the disclosure note
    assert!(
        word.text.contains(&doc.disclosure_note()),
        "{what}: disclosure note"
    );
    for (_, file, sha) in doc.provenance.data_inputs() {
        assert!(
            word.text.contains(&format!("{file} (SHA-256 {sha})")),
            "{what}: {file}"
        );
    }
    let tables: Vec<_> = doc
        .nodes
        .iter()
        .filter_map(|n| match n {
            OutNode::Table(t) => Some(t),
            _ => None,
        })
        .collect();
    let figures: Vec<_> = doc
        .nodes
        .iter()
        .filter_map(|n| match n {
            OutNode::Figure(f) => Some(f),
            _ => None,
        })
        .collect();
    // the report's tables (prose tables have a style of their own)
    let word_tables: Vec<_> = word
        .tables
        .iter()
        .filter(|t| t.0 == "ReportTable")
        .collect();
    assert_eq!(word_tables.len(), tables.len(), "{what}: table count");
    let mut cells = 0;
    let mut expected_captions = Vec::new();
    for (t, (_, caption, rows, head)) in tables.iter().zip(word_tables) {
        let title = match (&t.number, &t.caption) {
            (Some(n), Some(c)) => Some(format!("Table {n}: {c}")),
            (Some(n), None) => Some(format!("Table {n}")),
            (None, Some(c)) => Some(c.clone()),
            (None, None) => None,
        };
        expected_captions.extend(title.clone());
        assert_eq!(caption, &title, "{what}: table alt text");
        assert_eq!(*head, t.header.len(), "{what}: {title:?} header rows");
        let expected: Vec<Vec<(String, usize)>> = t
            .header
            .iter()
            .map(|line| line.iter().map(|(h, s)| (h.clone(), *s)).collect())
            .chain(t.rows.iter().zip(t.row_spans()).map(|(row, spans)| {
                row.iter()
                    .zip(spans)
                    .map(|(c, span)| {
                        // a cell under a spanning row key is merged: empty
                        (
                            if span == 0 {
                                String::new()
                            } else {
                                c.text.clone()
                            },
                            1,
                        )
                    })
                    .collect()
            }))
            .collect();
        assert_eq!(rows, &expected, "{what}: {title:?} cells");
        cells += expected.iter().map(Vec::len).sum::<usize>();
    }
    // numbers run 1, 2, 3 with no gap (a table left out takes none)
    let prefix = |n: &str| n.trim_end_matches(|c: char| c.is_ascii_digit()).to_string();
    for numbers in [
        tables
            .iter()
            .filter_map(|t| t.number.clone())
            .collect::<Vec<_>>(),
        figures.iter().filter_map(|f| f.number.clone()).collect(),
    ] {
        let expected: Vec<String> = (1..=numbers.len())
            .map(|i| {
                format!(
                    "{}{i}",
                    numbers.first().map(|n| prefix(n)).unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(numbers, expected, "{what}: numbering");
    }
    assert_eq!(word.drawings.len(), figures.len(), "{what}: chart count");
    for (f, (descr, cx, px)) in figures.iter().zip(&word.drawings) {
        assert_eq!(descr, &f.alt, "{what}: alt text");
        // print resolution: at least 300 pixels per inch of printed width
        let inches = *cx as f64 / 914_400.0;
        assert!(
            f64::from(*px) / inches >= 299.0,
            "{what}: {px} px over {inches:.2} in"
        );
        if let Some(n) = &f.number {
            expected_captions.push(match &f.caption {
                Some(c) => format!("Figure {n}: {c}"),
                None => format!("Figure {n}"),
            });
        }
    }
    let mut got = word.captions.clone();
    got.sort();
    expected_captions.sort();
    assert_eq!(got, expected_captions, "{what}: captions");
    let numbered = tables.iter().filter(|t| t.number.is_some()).count()
        + figures.iter().filter(|f| f.number.is_some()).count();
    assert_eq!(word.seq.len(), numbered, "{what}: SEQ fields");
    cells
}

#[test]
fn every_report_is_a_word_package_holding_its_tables_charts_and_headings() {
    let mut templates: Vec<PathBuf> = std::fs::read_dir(root().join("reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    templates.sort();
    assert!(templates.len() >= 5);
    let mut cells = 0;
    for template in &templates {
        let what = template.file_name().unwrap().to_string_lossy().to_string();
        let (doc, bytes) = render(template);
        let word = check_package(&bytes, &what);
        cells += compare(&doc, &word, &what);
    }
    assert!(cells > 500, "only {cells} cells compared");
}

/// The checks can fail: a package with a dangling relationship, a style
/// that is not defined, a table cell changed, or a missing alt text is
/// caught.
#[test]
fn the_package_checks_catch_broken_documents() {
    let template = root().join("reports/council-briefing.md");
    let (doc, bytes) = render(&template);
    let word = check_package(&bytes, "briefing");
    compare(&doc, &word, "briefing");
    let document = String::from_utf8(word.parts["word/document.xml"].clone()).unwrap();
    let first_cell = &doc
        .nodes
        .iter()
        .find_map(|n| match n {
            OutNode::Table(t) => Some(t.rows[0][1].text.clone()),
            _ => None,
        })
        .unwrap();
    let first_alt = &doc
        .nodes
        .iter()
        .find_map(|n| match n {
            OutNode::Figure(f) => Some(f.alt.clone()),
            _ => None,
        })
        .unwrap();
    let broken = [
        (
            "dangling relationship",
            document.replacen("r:embed=\"rIdImage1\"", "r:embed=\"rIdNone\"", 1),
        ),
        (
            "undefined style",
            document.replacen("w:val=\"Caption\"", "w:val=\"Kaption\"", 1),
        ),
        (
            "changed cell",
            document.replacen(
                &format!(">{first_cell}</w:t>"),
                &format!(">{first_cell}9</w:t>"),
                1,
            ),
        ),
        (
            "missing alt text",
            document.replacen(&format!("descr=\"{first_alt}\""), "descr=\"\"", 2),
        ),
    ];
    for (name, changed) in broken {
        assert_ne!(changed, document, "{name}: the change did not apply");
        let repacked = repack(&word.parts, "word/document.xml", changed.as_bytes());
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let w = check_package(&repacked, name);
            compare(&doc, &w, name);
        }));
        assert!(caught.is_err(), "{name} was not caught");
    }
}

/// The package with one part replaced, in the same order.
fn repack(parts: &BTreeMap<String, Vec<u8>>, name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut names: Vec<&String> = parts.keys().collect();
    names.sort_by_key(|n| *n != "[Content_Types].xml");
    for n in names {
        zip.start_file(n.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(if n == name { bytes } else { &parts[n] })
            .unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A template with everything prose can hold: footnotes, lists (one
/// starting at 3), an external link, a Markdown table, inline and block
/// code, a cross-reference, an appendix prefix on the numbers.
const PROSE: &str = r#"---
title: "Word <check> & fixture"
author: Tester
number_prefix: A
---

```{sql}
#| name: areas
SELECT area, COUNT(*) AS respondents FROM respondents GROUP BY area ORDER BY area
```

## Overview

As @tbl-areas shows, every area took part.[^why] See [the study](https://example.org/study?a=1&b=2).
Again[^why], and [a café](<https://example.org/a b/café>) and [nothing]().[^self]

[^why]: The panel was *recruited* by post; see [the form](https://example.org/form).

[^self]: A note that refers to itself[^self] and to another.[^why]

3. third
4. fourth
   - nested one
   - nested two

| Left | Right |
|:-----|------:|
| a    | 1     |

Some `inline code` and:

```
two lines
of code
```

```{table}
#| label: tbl-areas
#| caption: "Respondents by area"
data: areas
columns:
  - { name: area, label: Area }
  - { name: respondents, label: Respondents, format: int }
```
"#;

#[test]
fn prose_becomes_word_footnotes_lists_links_and_fields() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("prose.md");
    std::fs::write(&template, PROSE).unwrap();
    let (doc, bytes) = render(&template);
    let word = check_package(&bytes, "prose");
    compare(&doc, &word, "prose");
    // a note referred to twice is one note; a note inside a note is its
    // text in brackets (Word has no notes in notes), which also ends a
    // note that refers to itself
    assert_eq!(
        word.footnotes
            .values()
            .map(|t| t.trim())
            .collect::<Vec<_>>(),
        [
            "The panel was recruited by post; see the form.",
            "A note that refers to itself (A note that refers to itself and to another.) and to another. (The panel was recruited by post; see the form.)"
        ]
    );
    // Word numbers each note mark: the second reference to a note is a
    // NOTEREF field to the first mark's bookmark, showing its number
    let document_xml = String::from_utf8(word.parts["word/document.xml"].clone()).unwrap();
    assert_eq!(
        document_xml
            .matches("<w:footnoteReference w:id=\"1\"/>")
            .count(),
        1
    );
    assert!(document_xml.contains("w:name=\"_RefNote1\""));
    assert!(
        document_xml.contains(" NOTEREF _RefNote1 \\f \\h "),
        "{document_xml}"
    );
    // link targets are URIs: spaces and non-ASCII percent-encoded; an empty
    // link is text
    assert_eq!(
        word.links,
        [
            "https://example.org/study?a=1&b=2",
            "https://example.org/a%20b/caf%C3%A9"
        ]
    );
    // the link in the note resolves in the footnotes' relationships
    // (checked by check_package) and is there
    let notes = String::from_utf8(word.parts["word/footnotes.xml"].clone()).unwrap();
    assert!(notes.contains("<w:hyperlink r:id="), "{notes}");
    let note_rels = String::from_utf8(word.parts["word/_rels/footnotes.xml.rels"].clone()).unwrap();
    assert!(note_rels.contains("Target=\"https://example.org/form\""));
    // the ordered list starts at 3, decimal; the nested one is bulleted
    let decimal: Vec<_> = word.nums.values().filter(|(a, _)| a == "1").collect();
    assert_eq!(decimal, [&("1".to_string(), Some("3".to_string()))]);
    assert!(word.nums.values().any(|(a, _)| a == "0"));
    // the appendix prefix is fixed text, the number a SEQ field
    assert!(
        word.captions
            .contains(&"Table A1: Respondents by area".to_string())
    );
    assert_eq!(word.seq, ["Table"]);
    // the cross-reference is a link to the caption's bookmark
    let document = String::from_utf8(word.parts["word/document.xml"].clone()).unwrap();
    assert!(
        document.contains("<w:hyperlink w:anchor=\"tbl_areas\""),
        "{document}"
    );
    assert!(document.contains("w:name=\"tbl_areas\""));
    // the prose table and the code
    let (_, _, md_rows, md_head) = word.tables.iter().find(|t| t.0 == "ProseTable").unwrap();
    assert_eq!(*md_head, 1);
    assert_eq!(
        md_rows,
        &vec![
            vec![("Left".to_string(), 1), ("Right".to_string(), 1)],
            vec![("a".to_string(), 1), ("1".to_string(), 1)]
        ]
    );
    assert!(word.text.contains("two lines\nof code"));
    assert!(document.contains(
        "<w:rStyle w:val=\"VerbatimChar\"/></w:rPr><w:t xml:space=\"preserve\">inline code"
    ));
    // document properties: title escaped, author, the render date
    let core = String::from_utf8(word.parts["docProps/core.xml"].clone()).unwrap();
    assert!(
        core.contains("<dc:title>Word &lt;check&gt; &amp; fixture</dc:title>"),
        "{core}"
    );
    assert!(core.contains("<dc:creator>Tester</dc:creator>"));
}

/// A table whose `eval` is false for these parameters takes no number:
/// the next one is Table 2, in every format; a reference to the left-out
/// table is a warning, printed as written.
#[test]
fn a_table_left_out_takes_no_number() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("gap.md");
    std::fs::write(
        &template,
        "---\ntitle: Gap\n---\n\n```{sql}\n#| name: areas\nSELECT area, COUNT(*) AS n FROM respondents GROUP BY area ORDER BY area\n```\n\n```{table}\n#| label: tbl-one\n#| caption: One\ndata: areas\n```\n\n```{table}\n#| label: tbl-skipped\n#| caption: Skipped\n#| eval: false\ndata: areas\n```\n\n```{table}\n#| label: tbl-three\n#| caption: Three\ndata: areas\n```\n\nSee @tbl-three and @tbl-skipped.\n",
    )
    .unwrap();
    let (doc, bytes) = render(&template);
    let numbers: Vec<_> = doc
        .nodes
        .iter()
        .filter_map(|n| match n {
            OutNode::Table(t) => Some((t.label.clone().unwrap(), t.number.clone().unwrap())),
            _ => None,
        })
        .collect();
    assert_eq!(
        numbers,
        [
            ("tbl-one".to_string(), "1".to_string()),
            ("tbl-three".to_string(), "2".to_string())
        ]
    );
    let warned: Vec<String> = doc.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        warned
            .iter()
            .any(|w| w.contains("`@tbl-skipped` refers to a table this render does not show")),
        "{warned:?}"
    );
    let word = check_package(&bytes, "gap");
    compare(&doc, &word, "gap");
    assert!(
        word.text.contains("See Table\u{a0}2 and @tbl-skipped."),
        "{}",
        word.text
    );
}

/// The same inputs give the same bytes; zip entries and document
/// properties carry the SOURCE_DATE_EPOCH date, not the clock.
#[test]
fn bytes_depend_on_the_inputs_and_source_date_epoch_only() {
    let template = root().join("reports/first-look.md");
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let run = |out: &Path, epoch: &str| {
        let o = assert_cmd::Command::cargo_bin("coweave")
            .unwrap()
            .env("SOURCE_DATE_EPOCH", epoch)
            .args([
                "render",
                &template.display().to_string(),
                "--to",
                "docx",
                "--no-cache",
                "--out",
            ])
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out.join("first-look.docx")).unwrap()
    };
    let one = run(a.path(), "1700000000");
    let two = run(b.path(), "1700000000");
    assert!(one == two, "two renders differ");
    let later = run(c.path(), "1800000000");
    assert!(one != later, "the date does not reach the package");
    let mut zip = zip::ZipArchive::new(Cursor::new(&one)).unwrap();
    for i in 0..zip.len() {
        let f = zip.by_index(i).unwrap();
        let t = f.last_modified().unwrap();
        // 1700000000 is 2023-11-14
        assert_eq!(
            (t.year(), t.month(), t.day()),
            (2023, 11, 14),
            "{}",
            f.name().unwrap()
        );
    }
}

/// A reference document's styles, theme and page are used; the styles it
/// lacks come from coweave's defaults. The reference is built here with
/// styles Word would write (Heading1 in Georgia, US Letter, 1.25 in
/// margins).
#[test]
fn a_reference_documents_styles_and_page_are_used() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("house.docx");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&reference).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("[Content_Types].xml", opts).unwrap();
    zip.write_all(b"<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>").unwrap();
    zip.start_file("word/styles.xml", opts).unwrap();
    write!(
        zip,
        "<?xml version=\"1.0\"?><w:styles xmlns:w=\"{W}\"><w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/><w:rPr><w:rFonts w:ascii=\"Georgia\" w:hAnsi=\"Georgia\"/></w:rPr></w:style><w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/><w:basedOn w:val=\"Normal\"/><w:pPr><w:outlineLvl w:val=\"0\"/></w:pPr><w:rPr><w:color w:val=\"AA3377\"/><w:sz w:val=\"36\"/></w:rPr></w:style><w:style w:type=\"paragraph\" w:styleId=\"Beschriftung\"><w:name w:val=\"caption\"/><w:basedOn w:val=\"Normal\"/><w:pPr><w:numPr><w:numId w:val=\"2\"/></w:numPr></w:pPr><w:rPr><w:i/></w:rPr></w:style></w:styles>"
    )
    .unwrap();
    zip.start_file("word/numbering.xml", opts).unwrap();
    write!(
        zip,
        "<?xml version=\"1.0\"?><w:numbering xmlns:w=\"{W}\"><w:abstractNum w:abstractNumId=\"0\"><w:lvl w:ilvl=\"0\"><w:start w:val=\"1\"/><w:numFmt w:val=\"decimal\"/><w:lvlText w:val=\"%1.\"/></w:lvl></w:abstractNum><w:num w:numId=\"1\"><w:abstractNumId w:val=\"0\"/></w:num><w:num w:numId=\"2\"><w:abstractNumId w:val=\"0\"/></w:num></w:numbering>"
    )
    .unwrap();
    zip.start_file("word/theme/theme1.xml", opts).unwrap();
    zip.write_all(b"<?xml version=\"1.0\"?><a:theme xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" name=\"House\"/>").unwrap();
    zip.start_file("word/document.xml", opts).unwrap();
    write!(
        zip,
        "<?xml version=\"1.0\"?><w:document xmlns:w=\"{W}\"><w:body><w:p/><w:sectPr><w:pgSz w:w=\"12240\" w:h=\"15840\"/><w:pgMar w:top=\"1440\" w:right=\"1800\" w:bottom=\"1440\" w:left=\"1800\" w:header=\"720\" w:footer=\"720\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>"
    )
    .unwrap();
    zip.finish().unwrap();
    let first_look = std::fs::read_to_string(root().join("reports/first-look.md")).unwrap();
    let with_reference = first_look.replacen(
        "---\n",
        "---\nformat:\n  docx:\n    reference: house.docx\n",
        1,
    );
    assert_ne!(with_reference, first_look);
    let template = dir.path().join("first-look.md");
    std::fs::write(&template, with_reference).unwrap();
    let (doc, bytes) = render(&template);
    let word = check_package(&bytes, "with reference");
    compare(&doc, &word, "with reference");
    let styles = String::from_utf8(word.parts["word/styles.xml"].clone()).unwrap();
    let tree = Document::parse(&styles).unwrap();
    let style = |id: &str| {
        tree.descendants()
            .filter(|n| n.has_tag_name((W, "style")) && n.attribute((W, "styleId")) == Some(id))
            .count()
    };
    assert!(
        styles.contains("AA3377") && styles.contains("Georgia"),
        "{styles}"
    );
    assert_eq!(style("Heading1"), 1, "the reference's Heading1 only");
    // the reference's caption style (a German Word's id) is used for
    // captions, not a second one added
    assert_eq!(style("Caption"), 0, "a second caption style");
    assert_eq!(style("Beschriftung"), 1);
    let document_xml = String::from_utf8(word.parts["word/document.xml"].clone()).unwrap();
    assert!(document_xml.contains("<w:pStyle w:val=\"Beschriftung\"/>"));
    assert!(!document_xml.contains("<w:pStyle w:val=\"Caption\"/>"));
    // its numbering is kept (its caption style numbers with numId 2), and
    // coweave's lists come after it
    let numbering = String::from_utf8(word.parts["word/numbering.xml"].clone()).unwrap();
    assert!(numbering.contains("<w:num w:numId=\"2\"><w:abstractNumId w:val=\"0\"/></w:num>"));
    assert!(
        numbering.contains("w:abstractNumId=\"1\"><w:multiLevelType"),
        "{numbering}"
    );
    assert!(!word.nums.is_empty());
    assert_eq!(style("TableText"), 1);
    assert!(word.parts.contains_key("word/theme/theme1.xml"));
    let document = String::from_utf8(word.parts["word/document.xml"].clone()).unwrap();
    assert!(document.contains("<w:pgSz w:w=\"12240\" w:h=\"15840\"/>"));
    assert!(document.contains("w:left=\"1800\""));
    // charts as wide as the reference's text: 12240 - 2 x 1800 twips
    for (_, cx, _) in &word.drawings {
        assert!(*cx <= (12240 - 3600) * 635, "{cx}");
    }
    assert!(
        word.drawings
            .iter()
            .any(|(_, cx, _)| *cx == (12240 - 3600) * 635)
    );
}

/// LibreOffice, an independent reader, converts the Bristol briefing to a
/// PDF without errors, and the PDF holds its title, headings, a table's
/// numbers and its captions.
#[test]
fn libreoffice_converts_the_briefing() {
    let soffice = install::program(
        "COWEAVE_SOFFICE",
        &["soffice", "libreoffice"],
        "libreoffice-writer-nogui",
        "the Word test needs LibreOffice to convert a document",
        "LibreOffice's soffice",
    );
    let template = root().join("reports/council-briefing.md");
    let (doc, bytes) = render(&template);
    let dir = tempfile::tempdir().unwrap();
    let docx = dir.path().join("briefing.docx");
    std::fs::write(&docx, &bytes).unwrap();
    let profile = dir.path().join("profile");
    let o = Command::new(&soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(dir.path())
        .arg(&docx)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "soffice failed: {stderr}");
    let pdf_path = dir.path().join("briefing.pdf");
    assert!(pdf_path.exists(), "no PDF: {stderr}");
    let read = pdf::read(&std::fs::read(pdf_path).unwrap());
    // LibreOffice's PDF splits text into runs differently from typst's:
    // compared without whitespace
    let squash = |s: &str| -> String { s.chars().filter(|c| !c.is_whitespace()).collect() };
    let text = squash(&read.text);
    assert!(text.contains(&squash(&doc.title)), "{text}");
    for (_, h) in headings(&doc) {
        assert!(text.contains(&squash(&h)), "heading {h:?} not in the PDF");
    }
    assert!(
        text.contains("Table1:") && text.contains("Figure1:"),
        "{text}"
    );
    assert!(read.pages.len() > 2, "{} pages", read.pages.len());
}
