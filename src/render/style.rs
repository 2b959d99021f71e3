//! `format.pdf` in the front matter: the PDF's house style (council name,
//! accent colour, logo, paper), read and checked when the renderer is made,
//! before any block runs, so that a bad value costs no computation and is
//! reported against the front matter.

use std::path::Path;

use crate::diag::Diagnostic;
use crate::document::Document;

/// The PDF (and typst source) house style.
#[derive(Debug, Clone, Default)]
pub struct PdfStyle {
    /// Council name printed above the title.
    pub council: Option<String>,
    /// Accent colour, `#RRGGBB`.
    pub accent: Option<String>,
    /// Logo of the title block: file extension and bytes.
    pub logo: Option<(String, Vec<u8>)>,
    /// US Letter instead of A4.
    pub letter: bool,
}

const KEYS: [&str; 4] = ["council", "accent", "logo", "paper"];

impl PdfStyle {
    /// Reads `format.pdf`; the logo is read relative to the template.
    pub fn from_front(doc: &Document) -> Result<PdfStyle, Vec<Diagnostic>> {
        let at_front = |msg: String| {
            let at = doc.front_line_of("pdf").unwrap_or(doc.front_offset);
            Diagnostic::error(msg).at_offset(&doc.path, &doc.source, at)
        };
        let at_key = |key: &str, msg: String| {
            Diagnostic::error(msg).at_offset(
                &doc.path,
                &doc.source,
                doc.front_offset_of("pdf", key),
            )
        };
        let mut style = PdfStyle::default();
        let Some(pdf) = doc.front.format.get("pdf") else {
            return Ok(style);
        };
        let Some(map) = pdf.as_object() else {
            return Err(vec![at_front(
                "format.pdf must be a map of council, accent, logo and paper".into(),
            )]);
        };
        let mut problems = Vec::new();
        for key in map.keys().filter(|k| !KEYS.contains(&k.as_str())) {
            let d = at_key(key, format!("format.pdf has no setting `{key}`"));
            problems.push(d.suggest(key, &KEYS, "settings"));
        }
        let text = |key: &str| map.get(key).and_then(|v| v.as_str()).map(str::to_string);
        style.council = text("council");
        if let Some(a) = text("accent") {
            if a.len() == 7 && a.starts_with('#') && a[1..].chars().all(|c| c.is_ascii_hexdigit()) {
                style.accent = Some(a);
            } else {
                problems.push(at_key(
                    "accent",
                    format!("format.pdf.accent `{a}` is not a colour like \"#0072B2\""),
                ));
            }
        }
        match text("paper").as_deref() {
            None | Some("a4") => {}
            Some("letter" | "us-letter") => style.letter = true,
            Some(other) => problems.push(
                at_key(
                    "paper",
                    format!("format.pdf.paper `{other}` is not a paper size"),
                )
                .hint("use a4 (the default) or letter"),
            ),
        }
        if let Some(logo) = text("logo") {
            let base = doc.path.parent().unwrap_or(Path::new("."));
            match read_logo(base, &logo) {
                Ok(l) => style.logo = Some(l),
                Err(msg) => problems.push(at_key("logo", msg)),
            }
        }
        if problems.is_empty() {
            Ok(style)
        } else {
            Err(problems)
        }
    }
}

fn read_logo(base: &Path, logo: &str) -> Result<(String, Vec<u8>), String> {
    let path =
        crate::fsio::inside_project(base, logo).map_err(|why| format!("format.pdf.logo: {why}"))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "svg") {
        return Err(format!(
            "format.pdf.logo `{logo}` must be a .png, .jpg or .svg file"
        ));
    }
    let bytes = std::fs::read(&path).map_err(|e| {
        format!(
            "format.pdf.logo `{logo}`: cannot read {}: {e}",
            path.display()
        )
    })?;
    Ok((ext, bytes))
}
