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

/// A format's settings in the front matter, `format.<name>`: a map of the
/// format's keys, each problem placed at its key (else at the format's line).
pub(crate) struct Settings<'a> {
    doc: &'a Document,
    name: &'static str,
    map: &'a serde_json::Map<String, serde_json::Value>,
}

impl<'a> Settings<'a> {
    /// `format.<name>`: `None` when the template has none; an error when it
    /// is not a map; a setting not among `keys` is a problem in `problems`
    /// (with a "did you mean").
    pub(crate) fn read(
        doc: &'a Document,
        name: &'static str,
        keys: &[&str],
        problems: &mut Vec<Diagnostic>,
    ) -> Result<Option<Settings<'a>>, Vec<Diagnostic>> {
        let Some(value) = doc.front.format.get(name) else {
            return Ok(None);
        };
        let Some(map) = value.as_object() else {
            let at = doc.front_line_of(name).unwrap_or(doc.front_offset);
            let list = match keys.split_last() {
                Some((last, [])) => last.to_string(),
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => String::new(),
            };
            return Err(vec![
                Diagnostic::error(format!("format.{name} must be a map of {list}")).at_offset(
                    &doc.path,
                    &doc.source,
                    at,
                ),
            ]);
        };
        let settings = Settings { doc, name, map };
        for key in map.keys().filter(|k| !keys.contains(&k.as_str())) {
            let d = settings.at(key, format!("format.{name} has no setting `{key}`"));
            problems.push(d.suggest(key, keys, "settings"));
        }
        Ok(Some(settings))
    }

    /// The text of a setting.
    pub(crate) fn text(&self, key: &str) -> Option<String> {
        self.map
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    /// An error placed at the setting `key`.
    pub(crate) fn at(&self, key: &str, msg: String) -> Diagnostic {
        let at = self.doc.front_offset_of(self.name, key);
        Diagnostic::error(msg).at_offset(&self.doc.path, &self.doc.source, at)
    }
}

impl PdfStyle {
    /// Reads `format.pdf`; the logo is read relative to the template.
    pub fn from_front(doc: &Document) -> Result<PdfStyle, Vec<Diagnostic>> {
        let mut style = PdfStyle::default();
        let mut problems = Vec::new();
        let Some(settings) = Settings::read(doc, "pdf", &KEYS, &mut problems)? else {
            return Ok(style);
        };
        let text = |key: &str| settings.text(key);
        let at_key = |key: &str, msg: String| settings.at(key, msg);
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
