//! Renderers: plain functions from an [`Evaluated`](crate::engine::Evaluated)
//! document to bytes, one per output format. They run nothing.

pub mod html;
pub mod json;

use crate::engine::Evaluated;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// Self-contained HTML page.
    Html,
    /// Every named result and the provenance, as JSON.
    Json,
}

impl Format {
    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Json => "json",
        }
    }

    /// Parses a format name.
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" => Some(Format::Html),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// A renderer of evaluated documents.
pub trait Renderer {
    /// Renders the document.
    fn render(&self, doc: &Evaluated) -> Vec<u8>;
}

impl Renderer for Format {
    fn render(&self, doc: &Evaluated) -> Vec<u8> {
        match self {
            Format::Html => html::render(doc).into_bytes(),
            Format::Json => json::render(doc).into_bytes(),
        }
    }
}
