//! PDF output: typeset in-process, text extractable, fonts embedded,
//! byte-identical across renders, user text verbatim (never markup).
//! Needs poppler-utils (pdftotext, pdffonts), which .ci/run installs.

mod common;

use std::path::Path;
use std::process::Command as Std;

fn render(template: &Path, out: &Path, extra: &[&str]) -> (bool, String) {
    common::render(template, out, &[&["--no-cache"], extra].concat())
}

fn tool(name: &str, args: &[&str]) -> String {
    let o = Std::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is needed (poppler-utils): {e}"));
    assert!(
        o.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
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
    let text = tool("pdftotext", &[pdf.to_str().unwrap(), "-"]);
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
    let fonts = tool("pdffonts", &[pdf.to_str().unwrap()]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty());
    for row in rows {
        assert!(row.contains(" yes "), "font not embedded: {row}");
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
    let text = tool(
        "pdftotext",
        &[dir.path().join("out/odd.pdf").to_str().unwrap(), "-"],
    );
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
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
    let pdf = out.join("styled.pdf");
    assert!(tool("pdftotext", &[pdf.to_str().unwrap(), "-"]).contains("Northtown Borough Council"));
    assert!(tool("pdfinfo", &[pdf.to_str().unwrap()]).contains("(letter)"));
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
