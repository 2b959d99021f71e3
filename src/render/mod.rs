//! Renderers: plain functions from an [`Evaluated`](crate::engine::Evaluated)
//! document to bytes, one per output format. They run nothing.

pub mod html;
pub mod json;
pub mod pdf;
pub mod typst_markup;

use crate::engine::Evaluated;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// Self-contained HTML page.
    Html,
    /// Every named result and the provenance, as JSON.
    Json,
    /// PDF, typeset in-process with typst.
    Pdf,
    /// The typst source of the PDF, for restyling.
    Typ,
}

impl Format {
    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Json => "json",
            Format::Pdf => "pdf",
            Format::Typ => "typ",
        }
    }

    /// Parses a format name.
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" => Some(Format::Html),
            "json" => Some(Format::Json),
            "pdf" => Some(Format::Pdf),
            "typ" => Some(Format::Typ),
            _ => None,
        }
    }
}

/// A renderer of evaluated documents.
pub trait Renderer {
    /// Renders the document; a failure is a diagnostic placed in the
    /// template where the renderer can trace it.
    fn render(&self, doc: &Evaluated) -> Result<Vec<u8>, crate::diag::Diagnostics>;
}

impl Renderer for Format {
    fn render(&self, doc: &Evaluated) -> Result<Vec<u8>, crate::diag::Diagnostics> {
        match self {
            Format::Html => Ok(html::render(doc).into_bytes()),
            Format::Json => Ok(json::render(doc).into_bytes()),
            Format::Pdf => pdf::render(doc).map_err(|d| crate::diag::Diagnostics(vec![*d])),
            Format::Typ => Ok(typst_markup::source(doc).into_bytes()),
        }
    }
}
