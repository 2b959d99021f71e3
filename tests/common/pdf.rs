//! Reading PDFs in tests, in Rust (lopdf): the text a reader can copy,
//! the fonts and whether each is embedded, and the page sizes. Nothing
//! outside cargo is needed.

use std::collections::{BTreeMap, BTreeSet};

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object};

/// What a test checks in a PDF.
pub struct Pdf {
    /// The text of every page, in content order, whitespace runs folded to one space.
    pub text: String,
    /// Every font the pages use: (base font name, subtype, embedded).
    pub fonts: Vec<(String, String, bool)>,
    /// Each page's MediaBox width and height in points.
    pub pages: Vec<(f32, f32)>,
}

/// Parses `bytes`; panics with the reason when they are not a readable PDF.
pub fn read(bytes: &[u8]) -> Pdf {
    let doc = Document::load_mem(bytes).unwrap_or_else(|e| panic!("not a readable PDF: {e}"));
    let numbers: Vec<u32> = doc.get_pages().keys().copied().collect();
    assert!(!numbers.is_empty(), "the PDF has no pages");
    let mut text = String::new();
    for (n, id) in doc.get_pages() {
        let fonts = doc
            .get_page_fonts(id)
            .unwrap_or_else(|e| panic!("page {n}: fonts unreadable: {e}"));
        let resources = doc
            .get_page_resources(id)
            .unwrap_or_else(|e| panic!("page {n}: resources unreadable: {e}"));
        let mut xobjects = Vec::new();
        if let Some(r) = resources.0 {
            xobjects.push(r.clone());
        }
        for rid in resources.1 {
            if let Ok(d) = doc.get_dictionary(rid) {
                xobjects.push(d.clone());
            }
        }
        let content = doc.get_page_content(id);
        let fonts: BTreeMap<Vec<u8>, Dictionary> =
            fonts.into_iter().map(|(k, v)| (k, v.clone())).collect();
        show_text(&doc, &content, &fonts, &xobjects, 0, &mut text);
        text.push(' ');
    }
    let mut seen = BTreeSet::new();
    let mut fonts = Vec::new();
    let mut pages = Vec::new();
    for (n, id) in doc.get_pages() {
        for font in doc
            .get_page_fonts(id)
            .unwrap_or_else(|e| panic!("page {n}: fonts unreadable: {e}"))
            .values()
        {
            let name = name_of(font, b"BaseFont");
            let subtype = name_of(font, b"Subtype");
            if seen.insert((name.clone(), subtype.clone())) {
                let embedded = embedded(&doc, font, &subtype);
                fonts.push((name, subtype, embedded));
            }
        }
        pages.push(media_box(&doc, id).unwrap_or_else(|| panic!("page {n} has no MediaBox")));
    }
    Pdf { text, fonts, pages }
}

/// Appends the text a content stream shows, following form XObjects (a
/// chart's SVG becomes one) into their own content and fonts.
fn show_text(
    doc: &Document,
    content: &[u8],
    fonts: &BTreeMap<Vec<u8>, Dictionary>,
    resources: &[Dictionary],
    depth: usize,
    out: &mut String,
) {
    assert!(depth < 16, "form XObjects nested too deep");
    let ops = Content::decode(content).unwrap_or_else(|e| panic!("content stream: {e}"));
    let mut encoding = None;
    let mut line_y: Option<f32> = None;
    for op in &ops.operations {
        match op.operator.as_str() {
            "Tf" => {
                let name = op.operands.first().and_then(|o| o.as_name().ok());
                encoding = name
                    .and_then(|n| fonts.get(n))
                    .and_then(|f| f.get_font_encoding(doc).ok());
            }
            "Tj" | "TJ" | "'" | "\"" => {
                if let Some(enc) = &encoding {
                    collect(enc, &op.operands, out);
                }
            }
            // a move to another line separates words; glyphs placed one by
            // one along a line (a chart's labels) do not
            "Td" | "TD" if number(op.operands.get(1)).is_some_and(|dy| dy.abs() > 0.5) => {
                out.push(' ')
            }
            "T*" => out.push(' '),
            "Tm" => {
                let y = number(op.operands.get(5));
                if y.zip(line_y).is_some_and(|(a, b)| (a - b).abs() > 0.5) {
                    out.push(' ');
                }
                line_y = y;
            }
            "Do" => {
                let Some(name) = op.operands.first().and_then(|o| o.as_name().ok()) else {
                    continue;
                };
                let form = resources.iter().find_map(|r| {
                    let xo = deref(doc, r.get(b"XObject").ok()?);
                    let Object::Dictionary(xo) = xo else {
                        return None;
                    };
                    match deref(doc, xo.get(name).ok()?) {
                        Object::Stream(s) => Some(s.clone()),
                        _ => None,
                    }
                });
                let Some(form) = form else { continue };
                if name_of(&form.dict, b"Subtype") != "Form" {
                    continue;
                }
                let own = match form.dict.get(b"Resources").map(|o| deref(doc, o)) {
                    Ok(Object::Dictionary(d)) => Some(d.clone()),
                    _ => None,
                };
                let mut inner_fonts = fonts.clone();
                if let Some(Ok(Object::Dictionary(f))) =
                    own.as_ref().map(|r| r.get(b"Font").map(|o| deref(doc, o)))
                {
                    for (k, v) in f.iter() {
                        if let Object::Dictionary(d) = deref(doc, v) {
                            inner_fonts.insert(k.clone(), d.clone());
                        }
                    }
                }
                let mut inner_resources: Vec<Dictionary> = own.into_iter().collect();
                inner_resources.extend(resources.iter().cloned());
                let bytes = form
                    .decompressed_content()
                    .unwrap_or_else(|_| form.content.clone());
                show_text(doc, &bytes, &inner_fonts, &inner_resources, depth + 1, out);
            }
            _ => {}
        }
    }
}

fn number(o: Option<&Object>) -> Option<f32> {
    match o? {
        Object::Integer(i) => Some(*i as f32),
        Object::Real(r) => Some(*r),
        _ => None,
    }
}

fn collect(enc: &lopdf::Encoding, operands: &[Object], out: &mut String) {
    for o in operands {
        match o {
            Object::String(bytes, _) => {
                if let Ok(s) = Document::decode_text(enc, bytes) {
                    out.push_str(&s);
                }
            }
            Object::Array(items) => collect(enc, items, out),
            // a wide negative adjustment is a word space in a TJ array
            Object::Integer(i) if *i < -200 => out.push(' '),
            Object::Real(r) if *r < -200.0 => out.push(' '),
            _ => {}
        }
    }
}

fn name_of(d: &Dictionary, key: &[u8]) -> String {
    d.get(key)
        .and_then(Object::as_name)
        .map(|n| String::from_utf8_lossy(n).to_string())
        .unwrap_or_default()
}

fn deref<'a>(doc: &'a Document, o: &'a Object) -> &'a Object {
    match o {
        Object::Reference(id) => doc.get_object(*id).unwrap_or(o),
        _ => o,
    }
}

/// Whether a font's program is in the file: a Type3 font's glyphs always
/// are; other fonts need a FontFile, FontFile2 or FontFile3 stream in their
/// descriptor (a composite font's descriptor is its descendant's).
fn embedded(doc: &Document, font: &Dictionary, subtype: &str) -> bool {
    if subtype == "Type3" {
        return true;
    }
    let holder = if subtype == "Type0" {
        let Ok(Object::Array(kids)) = font.get(b"DescendantFonts").map(|o| deref(doc, o)) else {
            return false;
        };
        match kids.first().map(|k| deref(doc, k)) {
            Some(Object::Dictionary(d)) => d,
            _ => return false,
        }
    } else {
        font
    };
    let Ok(Object::Dictionary(descriptor)) = holder.get(b"FontDescriptor").map(|o| deref(doc, o))
    else {
        return false;
    };
    [&b"FontFile"[..], b"FontFile2", b"FontFile3"]
        .iter()
        .any(|k| {
            descriptor
                .get(k)
                .map(|o| matches!(deref(doc, o), Object::Stream(s) if !s.content.is_empty()))
                .unwrap_or(false)
        })
}

/// The page's MediaBox (inherited from the page tree when the page has none).
fn media_box(doc: &Document, mut id: lopdf::ObjectId) -> Option<(f32, f32)> {
    for _ in 0..32 {
        let dict = doc.get_dictionary(id).ok()?;
        if let Ok(Object::Array(b)) = dict.get(b"MediaBox").map(|o| deref(doc, o)) {
            let n: Vec<f32> = b
                .iter()
                .filter_map(|o| match deref(doc, o) {
                    Object::Integer(i) => Some(*i as f32),
                    Object::Real(r) => Some(*r),
                    _ => None,
                })
                .collect();
            return (n.len() == 4).then(|| (n[2] - n[0], n[3] - n[1]));
        }
        id = dict.get(b"Parent").ok()?.as_reference().ok()?;
    }
    None
}
