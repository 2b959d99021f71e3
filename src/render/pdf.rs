//! `--to pdf`: the typst markup of the document compiled in-process with the
//! typst crates. Fonts come only from the repository (`fonts/`, DejaVu Sans)
//! and typst-assets, never from the system; the date comes from the
//! document (SOURCE_DATE_EPOCH), so the same inputs give the same bytes.

use crate::diag::Diagnostic;
use std::sync::OnceLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Smart};
use typst::syntax::{FileId, Source};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

use super::typst_markup;
use crate::engine::Evaluated;

struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<Font> = super::FONT_FILES
            .iter()
            .copied()
            .chain(typst_assets::fonts())
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        Fonts {
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    })
}

fn library() -> &'static LazyHash<Library> {
    static LIBRARY: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| LazyHash::new(Library::default()))
}

/// The world a document is compiled in: its source and, optionally, the
/// logo image as the one file it may read.
struct DocWorld {
    main: Source,
    today: Option<Datetime>,
    logo: Option<(FileId, Bytes)>,
}

impl World for DocWorld {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        // charts are embedded as bytes; the logo is the only file
        match &self.logo {
            Some((logo, bytes)) if *logo == id => Ok(bytes.clone()),
            _ => Err(FileError::AccessDenied),
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        fonts().fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        self.today
    }
}

fn date_of(doc: &Evaluated) -> Option<Datetime> {
    let mut parts = doc
        .provenance
        .date
        .split('-')
        .map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    Datetime::from_ymd(y as i32, m as u8, d as u8)
}

/// Compiles the document to PDF bytes; a typesetting failure is a
/// diagnostic at the template content that produced it, when it can be traced.
pub fn render(doc: &Evaluated, style: &super::PdfStyle) -> Result<Vec<u8>, Box<Diagnostic>> {
    let template = std::path::Path::new(&doc.provenance.template);
    let (source, ranges) = typst_markup::source_with_ranges(doc, style);
    let logo = style.logo.as_ref().and_then(|(ext, bytes)| {
        let vpath = typst::syntax::VirtualPath::new(format!("/logo.{ext}")).ok()?;
        let id =
            typst::syntax::RootedPath::new(typst::syntax::VirtualRoot::Project, vpath).intern();
        Some((id, Bytes::new(bytes.clone())))
    });
    let world = DocWorld {
        main: Source::detached(source),
        today: date_of(doc),
        logo,
    };
    let warned = typst::compile::<PagedDocument>(&world);
    // an error traced to the template content that produced it
    let failed = |what: &str, errors: &[typst::diag::SourceDiagnostic]| {
        let first: Vec<String> = errors
            .iter()
            .take(3)
            .map(|e| {
                let mut m = e.message.to_string();
                for hint in e.hints.iter().take(1) {
                    m.push_str(&format!(" (hint: {})", hint.v));
                }
                m
            })
            .collect();
        let origin = errors
            .iter()
            .filter_map(|e| world.range(e.span))
            .find_map(|r| ranges.iter().position(|n| n.contains(&r.start)))
            .and_then(|i| doc.origins.get(i));
        let d = Diagnostic::error(format!("{what}: {}", first.join("; ")));
        Box::new(match origin {
            Some((line, col)) => d.at(template, Some(*line), Some(*col)),
            None => d.at(template, None, None),
        })
    };
    let document = warned
        .output
        .map_err(|errors| failed("PDF typesetting failed", &errors))?;
    let today = date_of(doc);
    // PDF/UA-1: typst checks as it exports that every figure has alt text,
    // every table its header cells, headings nest and the title is set
    let standards = typst_pdf::PdfStandards::new(&[typst_pdf::PdfStandard::Ua_1])
        .map_err(|e| Box::new(Diagnostic::error(format!("PDF/UA-1: {}", e.message()))))?;
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom(format!("coweave:{}", doc.provenance.template)),
        timestamp: today.map(typst_pdf::Timestamp::new_utc),
        standards,
        ..typst_pdf::PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options)
        .map_err(|errors| failed("PDF export (PDF/UA-1) failed", &errors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{FigureOut, Labels, Markdown, OutNode, Provenance};

    fn prose(text: &str) -> OutNode {
        OutNode::Markdown(Markdown::parse(text.into(), &Labels::new()).0)
    }

    fn doc_with(nodes: Vec<OutNode>, origins: Vec<(usize, usize)>) -> Evaluated {
        Evaluated {
            title: "T".into(),
            subtitle: None,
            author: None,
            date: "2026-11-24".into(),
            lang: "en-GB".into(),
            toc: false,
            notice: None,
            nodes,
            results: Default::default(),
            provenance: Provenance {
                coweave: "0".into(),
                template: "t.md".into(),
                date: "2026-11-24".into(),
                ..Provenance::default()
            },
            warnings: Vec::new(),
            log: Vec::new(),
            frames: Default::default(),
            origins,
            inputs: Vec::new(),
        }
    }

    #[test]
    fn a_typesetting_error_names_the_template_place() {
        let broken = FigureOut {
            label: None,
            number: None,
            caption: None,
            data: None,
            alt: "a".into(),
            svg: "<svg this is not svg".into(),
            csv: String::new(),
        };
        let doc = doc_with(
            vec![prose("Fine."), OutNode::Figure(broken)],
            vec![(3, 1), (7, 5)],
        );
        let err = render(&doc, &super::super::PdfStyle::default()).unwrap_err();
        let at = err.location.clone().expect("a place");
        assert_eq!(
            (at.file.to_str(), at.line, at.column),
            (Some("t.md"), Some(7), Some(5)),
            "{err}"
        );
    }

    /// PDF/UA-1 holds: a figure a reader cannot be told about stops the
    /// export, at the template block that made it.
    #[test]
    fn a_figure_without_alt_text_fails_the_export_at_its_block() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"40\" height=\"20\"><rect width=\"40\" height=\"20\"/></svg>";
        let figure = |alt: &str| FigureOut {
            label: None,
            number: None,
            caption: Some("Bars".into()),
            data: None,
            alt: alt.into(),
            svg: svg.into(),
            csv: String::new(),
        };
        let doc = |alt: &str| {
            doc_with(
                vec![prose("# A\n\nFine."), OutNode::Figure(figure(alt))],
                vec![(3, 1), (12, 1)],
            )
        };
        let style = super::super::PdfStyle::default();
        let pdf = render(&doc("Two bars of equal height."), &style).expect("with alt text");
        assert!(pdf.starts_with(b"%PDF-"));
        let err = render(&doc(""), &style).unwrap_err();
        assert!(err.message.contains("PDF/UA-1"), "{err}");
        assert!(err.message.to_lowercase().contains("alt"), "{err}");
        let at = err.location.clone().expect("a place");
        assert_eq!((at.line, at.column), (Some(12), Some(1)), "{err}");
    }

    #[test]
    fn links_to_missing_labels_and_headings_are_plain_text() {
        let doc = doc_with(
            vec![prose(
                "See [Table 9](#tbl-gone) and [the summary](#summary).",
            )],
            vec![(1, 1)],
        );
        let pdf = render(&doc, &super::super::PdfStyle::default())
            .expect("a dangling internal link does not break typesetting");
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn a_plain_document_typesets() {
        let doc = doc_with(
            vec![prose(
                "# Hello\n\nA *b* [c](https://x.org) `d`.\n\n- one\n- two\n",
            )],
            vec![(1, 1)],
        );
        let pdf = render(&doc, &super::super::PdfStyle::default()).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }
}
