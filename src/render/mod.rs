//! Renderers: plain functions from an [`Evaluated`](crate::engine::Evaluated)
//! document to bytes, one per output format. They run nothing.

#[cfg(feature = "docx")]
pub mod docx;
pub mod html;
pub mod ipynb;
pub mod json;
#[cfg(feature = "pdf")]
pub mod pdf;
pub mod style;
pub mod typst_markup;

pub use style::PdfStyle;

/// The bundled fonts (DejaVu Sans), the only ones the PDF and the Word
/// document's chart images are drawn with.
#[cfg(any(feature = "pdf", feature = "docx"))]
pub(crate) static FONT_FILES: [&[u8]; 4] = [
    include_bytes!("../../fonts/DejaVuSans.ttf"),
    include_bytes!("../../fonts/DejaVuSans-Bold.ttf"),
    include_bytes!("../../fonts/DejaVuSans-Oblique.ttf"),
    include_bytes!("../../fonts/DejaVuSans-BoldOblique.ttf"),
];

use crate::diag::Diagnostics;
use crate::document::Document;
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
    /// The executed template as a Jupyter notebook.
    Ipynb,
    /// A Word document (Office Open XML), written natively.
    Docx,
}

impl Format {
    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Json => "json",
            Format::Pdf => "pdf",
            Format::Typ => "typ",
            Format::Ipynb => "ipynb",
            Format::Docx => "docx",
        }
    }

    /// Parses a format name.
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" => Some(Format::Html),
            "json" => Some(Format::Json),
            "pdf" => Some(Format::Pdf),
            "typ" => Some(Format::Typ),
            "ipynb" => Some(Format::Ipynb),
            "docx" | "word" => Some(Format::Docx),
            _ => None,
        }
    }
}

/// A renderer: one output format, made from the template's front matter
/// (its own `format.<name>` settings, checked before any block runs), then
/// turning executed documents into bytes. Adding a format is one more type
/// here and one more `Format`; no engine code changes.
pub trait Renderer {
    /// The format's name (`--to NAME`, `format.NAME` in the front matter).
    fn name(&self) -> &'static str;
    /// Renders the document; a failure is a diagnostic placed in the
    /// template where the renderer can trace it.
    fn render(&self, doc: &Evaluated) -> Result<Vec<u8>, Diagnostics>;
}

/// The self-contained HTML page.
pub struct Html;
/// Every named result, the provenance and the warnings, as JSON.
pub struct Json;
/// The PDF, typeset in-process with typst.
pub struct Pdf(pub PdfStyle);
/// The typst source of the PDF.
pub struct Typ(pub PdfStyle);
/// The executed template as a notebook.
pub struct Ipynb(pub ipynb::Cut);

impl Renderer for Ipynb {
    fn name(&self) -> &'static str {
        "ipynb"
    }
    fn render(&self, doc: &Evaluated) -> Result<Vec<u8>, Diagnostics> {
        Ok(ipynb::render(doc, &self.0).into_bytes())
    }
}

impl Renderer for Html {
    fn name(&self) -> &'static str {
        "html"
    }
    fn render(&self, doc: &Evaluated) -> Result<Vec<u8>, Diagnostics> {
        Ok(html::render(doc).into_bytes())
    }
}

impl Renderer for Json {
    fn name(&self) -> &'static str {
        "json"
    }
    fn render(&self, doc: &Evaluated) -> Result<Vec<u8>, Diagnostics> {
        Ok(json::render(doc).into_bytes())
    }
}

impl Renderer for Pdf {
    fn name(&self) -> &'static str {
        "pdf"
    }
    #[cfg(feature = "pdf")]
    fn render(&self, doc: &Evaluated) -> Result<Vec<u8>, Diagnostics> {
        pdf::render(doc, &self.0).map_err(|d| Diagnostics(vec![*d]))
    }
    #[cfg(not(feature = "pdf"))]
    fn render(&self, _doc: &Evaluated) -> Result<Vec<u8>, Diagnostics> {
        Err(Diagnostics(vec![
            crate::diag::Diagnostic::error(
                "this coweave was built without PDF output (the `pdf` feature)",
            )
            .hint("build it with default features: `cargo install coweave`"),
        ]))
    }
}

/// The Word document.
#[cfg(feature = "docx")]
pub struct Docx(pub docx::DocxStyle);

#[cfg(feature = "docx")]
impl Renderer for Docx {
    fn name(&self) -> &'static str {
        "docx"
    }
    fn render(&self, doc: &Evaluated) -> Result<Vec<u8>, Diagnostics> {
        docx::render(doc, &self.0).map_err(|d| Diagnostics(vec![*d]))
    }
}

impl Renderer for Typ {
    fn name(&self) -> &'static str {
        "typ"
    }
    fn render(&self, doc: &Evaluated) -> Result<Vec<u8>, Diagnostics> {
        Ok(typst_markup::source(doc, &self.0).into_bytes())
    }
}

impl Format {
    /// The format's renderer, configured from the template's front matter.
    pub fn renderer(self, doc: &Document) -> Result<Box<dyn Renderer>, Diagnostics> {
        Ok(match self {
            Format::Html => Box::new(Html),
            Format::Json => Box::new(Json),
            Format::Pdf => Box::new(Pdf(PdfStyle::from_front(doc).map_err(Diagnostics)?)),
            Format::Typ => Box::new(Typ(PdfStyle::from_front(doc).map_err(Diagnostics)?)),
            Format::Ipynb => Box::new(Ipynb(ipynb::Cut::of(doc))),
            #[cfg(feature = "docx")]
            Format::Docx => Box::new(Docx(docx::DocxStyle::from_front(doc).map_err(Diagnostics)?)),
            #[cfg(not(feature = "docx"))]
            Format::Docx => {
                return Err(Diagnostics(vec![
                    crate::diag::Diagnostic::error(
                        "this coweave was built without Word output (the `docx` feature)",
                    )
                    .hint("build it with default features: `cargo install coweave`"),
                ]));
            }
        })
    }
}
