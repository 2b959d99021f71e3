//! PDF output: typeset in-process, text extractable, fonts embedded,
//! byte-identical across renders, user text verbatim (never markup).
//! PDFs are read in Rust (lopdf, `common/pdf.rs`): nothing to install.

use crate::common::{self, pdf};

use std::path::Path;

fn render(template: &Path, out: &Path, extra: &[&str]) -> (bool, String) {
    common::render(template, out, &[&["--no-cache"], extra].concat())
}

/// A4 and US Letter in PostScript points.
const A4: (f32, f32) = (595.28, 841.89);
const LETTER: (f32, f32) = (612.0, 792.0);

fn size_is(got: (f32, f32), want: (f32, f32)) -> bool {
    (got.0 - want.0).abs() < 0.5 && (got.1 - want.1).abs() < 0.5
}

#[test]
fn pdf_has_text_embedded_fonts_and_stable_bytes() {
    let first_look = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/first-look.md");
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (ok, err) = render(&first_look, a.path(), &["--to", "pdf,typ"]);
    assert!(ok, "{err}");
    assert!(render(&first_look, b.path(), &["--to", "pdf"]).0);
    let pdf = a.path().join("first-look.pdf");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert!(
        bytes == std::fs::read(b.path().join("first-look.pdf")).unwrap(),
        "two renders differ"
    );
    let read = pdf::read(&bytes);
    let text = &read.text;
    for needle in [
        "Co-production in Bristol",
        "Levels of co-production",
        "Table 1:",
        "Figure 1:",
        "Collective co-production",
        "Self-efficacy",
    ] {
        assert!(text.contains(needle), "{needle:?} not in the PDF text");
    }
    // chart text is text in the PDF too (the SVG's labels are typeset)
    assert!(text.contains("Residents (%)"), "chart axis label missing");
    assert!(!read.fonts.is_empty(), "no fonts found");
    for (name, subtype, embedded) in &read.fonts {
        assert!(embedded, "font not embedded: {name} ({subtype})");
    }
    // the body font is the bundled DejaVu Sans (subset names carry a tag prefix)
    assert!(
        read.fonts.iter().any(|(n, _, _)| n.contains("DejaVuSans")),
        "{:?}",
        read.fonts
    );
    // the check can fail: the same PDF with its font programs taken out
    let mut stripped = lopdf::Document::load_mem(&bytes).unwrap();
    for object in stripped.objects.values_mut() {
        if let lopdf::Object::Dictionary(d) = object {
            for key in [&b"FontFile"[..], b"FontFile2", b"FontFile3"] {
                d.remove(key);
            }
        }
    }
    let mut out = Vec::new();
    stripped.save_to(&mut out).unwrap();
    let fonts = pdf::read(&out).fonts;
    assert!(
        !fonts.is_empty() && fonts.iter().all(|(_, _, embedded)| !embedded),
        "{fonts:?}"
    );
    assert!(read.pages.len() > 1, "first-look is longer than a page");
    for size in &read.pages {
        assert!(size_is(*size, A4), "A4 by default, got {size:?}");
    }
    assert!(
        std::fs::read_to_string(a.path().join("first-look.typ"))
            .unwrap()
            .contains("#set document(")
    );
}

#[test]
fn typst_special_characters_stay_text() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("odd.md");
    let odd = r#"Costs #1 $5 [draft] back\slash *not bold* _x_ @someone <b>tag</b> = + - "quoted""#;
    std::fs::write(
        &template,
        format!("---\ntitle: \"Odd # $ [ ] characters\"\n---\n\n## A heading with #hash\n\n{}\n\nCode `let x = \"a\";` inline.\n", odd.replace('*', "\\*").replace('_', "\\_")),
    )
    .unwrap();
    let (ok, err) = render(&template, &dir.path().join("out"), &["--to", "pdf"]);
    assert!(ok, "{err}");
    let flat = pdf::read(&std::fs::read(dir.path().join("out/odd.pdf")).unwrap()).text;
    for needle in [
        "Odd # $ [ ] characters",
        "A heading with #hash",
        "Costs #1 $5 [draft] back\\slash",
        "*not bold* _x_ @someone <b>tag</b>",
        "let x = \"a\";",
    ] {
        assert!(flat.contains(needle), "{needle:?} not verbatim in: {flat}");
    }
}

#[test]
fn house_style_title_block_and_letter_paper() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("logo.svg"),
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60"><rect width="120" height="60" fill="#AA3377"/></svg>"##,
    )
    .unwrap();
    let template = dir.path().join("styled.md");
    let front =
        |pdf: &str| format!("---\ntitle: Styled\nformat:\n  pdf: {pdf}\n---\n\nSome text.\n");
    std::fs::write(&template, front(r##"{ council: "Northtown Borough Council", accent: "#AA3377", logo: logo.svg, paper: letter }"##)).unwrap();
    let out = dir.path().join("out");
    let (ok, err) = render(&template, &out, &["--to", "pdf"]);
    assert!(ok, "{err}");
    let read = pdf::read(&std::fs::read(out.join("styled.pdf")).unwrap());
    assert!(
        read.text.contains("Northtown Borough Council"),
        "{}",
        read.text
    );
    assert!(
        read.pages.iter().all(|s| size_is(*s, LETTER)),
        "letter paper, got {:?}",
        read.pages
    );
    std::fs::write(&template, front("{ accent: teal }")).unwrap();
    let (ok, err) = render(&template, &out, &["--to", "pdf"]);
    assert!(
        !ok && err.contains("format.pdf.accent `teal` is not a colour"),
        "{err}"
    );
    std::fs::write(&template, front("{ logo: missing.png }")).unwrap();
    let (ok, err) = render(&template, &out, &["--to", "pdf"]);
    assert!(
        !ok && err.contains("format.pdf.logo `missing.png`"),
        "{err}"
    );
}

#[test]
fn what_the_pdf_leaves_out_is_a_warning() {
    let first_look = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/first-look.md");
    let out = tempfile::tempdir().unwrap();
    let (ok, err) = render(&first_look, out.path(), &["--to", "pdf"]);
    assert!(ok, "{err}");
    assert!(
        err.contains("warning: the PDF leaves out the HTML page's CSV download links"),
        "{err}"
    );
    let (ok, err) = render(&first_look, out.path(), &["--to", "html"]);
    assert!(ok && !err.contains("warning:"), "{err}");
}

/// The reader the tests above rely on can say no: a PDF whose font is only
/// named (Helvetica, not embedded) on a Letter page is reported as such.
#[test]
fn the_pdf_reader_sees_a_font_that_is_not_embedded() {
    use lopdf::{Object, Stream, dictionary};
    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let content = b"BT /F1 12 Tf 72 700 Td (Plain words) Tj ET".to_vec();
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    let read = pdf::read(&bytes);
    assert_eq!(
        read.fonts,
        vec![("Helvetica".into(), "Type1".into(), false)]
    );
    assert!(read.text.contains("Plain words"), "{}", read.text);
    assert!(size_is(read.pages[0], LETTER) && !size_is(read.pages[0], A4));
}
