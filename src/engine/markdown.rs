//! Prose in the evaluated document: Markdown parsed once, here, into events,
//! with each `@tbl-x` / `@fig-x` cross-reference its own piece. Renderers
//! walk the pieces; none of them parses Markdown or rewrites text.

use std::collections::BTreeMap;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// The Markdown extensions every renderer supports.
pub const OPTIONS: Options = Options::ENABLE_TABLES
    .union(Options::ENABLE_FOOTNOTES)
    .union(Options::ENABLE_STRIKETHROUGH)
    .union(Options::ENABLE_HEADING_ATTRIBUTES);

/// A numbered table or figure a sentence points to.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossRef {
    /// The label (`tbl-x`), which is the target's anchor.
    pub label: String,
    /// "Table" or "Figure".
    pub kind: &'static str,
    /// Its number in the document, with the document's prefix (`3`, `A3`).
    pub number: String,
}

impl CrossRef {
    /// What the reader sees: "Table 2" (a no-break space between).
    pub fn text(&self) -> String {
        format!("{}\u{a0}{}", self.kind, self.number)
    }
}

/// A piece of prose.
#[derive(Debug, Clone)]
pub enum Piece {
    /// A Markdown event.
    Md(Event<'static>),
    /// A resolved cross-reference.
    Ref(CrossRef),
}

/// Prose of the evaluated document.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Markdown {
    /// The Markdown the pieces were parsed from (values filled in, `@tbl-`
    /// references as written).
    pub text: String,
    /// Events and references in order.
    #[serde(skip)]
    pub pieces: Vec<Piece>,
}

/// The footnote definitions among `pieces`: each name (first definition
/// wins) with the range of its body's pieces.
pub fn footnote_definitions(pieces: &[Piece]) -> Vec<(String, std::ops::Range<usize>)> {
    let mut out: Vec<(String, std::ops::Range<usize>)> = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        if let Piece::Md(Event::Start(Tag::FootnoteDefinition(name))) = &pieces[i] {
            let start = i + 1;
            let mut depth = 1;
            let mut j = start;
            while j < pieces.len() && depth > 0 {
                match &pieces[j] {
                    Piece::Md(Event::Start(Tag::FootnoteDefinition(_))) => depth += 1,
                    Piece::Md(Event::End(TagEnd::FootnoteDefinition)) => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            if !out.iter().any(|(n, _)| n == name.as_ref()) {
                out.push((name.to_string(), start..j.saturating_sub(1).max(start)));
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The labels of a document: label → (kind, number as shown).
pub type Labels = BTreeMap<String, (&'static str, String)>;

impl Markdown {
    /// Parses `text`, resolving references against `labels`. Returns the
    /// prose and the references to labels the document does not have, in
    /// order of appearance (they are left as text).
    pub fn parse(text: String, labels: &Labels) -> (Markdown, Vec<String>) {
        let mut pieces = Vec::new();
        let mut unknown = Vec::new();
        let mut run: Vec<Event<'static>> = Vec::new();
        // references are looked for in running text, not in code, links or images
        let mut opaque = 0usize;
        for e in Parser::new_ext(&text, OPTIONS) {
            match e {
                Event::Text(_) if opaque == 0 => run.push(e.into_static()),
                other => {
                    flush(&mut run, labels, &mut pieces, &mut unknown);
                    match &other {
                        Event::Start(Tag::CodeBlock(_) | Tag::Link { .. } | Tag::Image { .. }) => {
                            opaque += 1
                        }
                        Event::End(TagEnd::CodeBlock | TagEnd::Link | TagEnd::Image) => {
                            opaque = opaque.saturating_sub(1)
                        }
                        _ => {}
                    }
                    pieces.push(Piece::Md(other.into_static()));
                }
            }
        }
        flush(&mut run, labels, &mut pieces, &mut unknown);
        (Markdown { text, pieces }, unknown)
    }
}

/// Consecutive text events, with the references in them as pieces. A run
/// without references is kept event for event.
fn flush(
    run: &mut Vec<Event<'static>>,
    labels: &Labels,
    pieces: &mut Vec<Piece>,
    unknown: &mut Vec<String>,
) {
    if run.is_empty() {
        return;
    }
    let joined: String = run
        .iter()
        .map(|e| match e {
            Event::Text(t) => t.as_ref(),
            _ => "",
        })
        .collect();
    let split = split_references(&joined, labels, unknown);
    if split.iter().any(|p| matches!(p, Piece::Ref(_))) {
        pieces.extend(split);
        run.clear();
    } else {
        pieces.extend(run.drain(..).map(Piece::Md));
    }
}

/// `@tbl-x` / `@fig-x` (not preceded by a letter or digit, so e-mail
/// addresses stay) split out of a text; trailing `-` and `_` are not part of
/// the label.
fn split_references(text: &str, labels: &Labels, unknown: &mut Vec<String>) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('@') {
        let (before, after) = rest.split_at(i);
        plain.push_str(before);
        let prev_ok = plain.chars().last().is_none_or(|c| !c.is_alphanumeric());
        let label: &str = {
            let end = after[1..]
                .find(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
                .map_or(after.len(), |e| e + 1);
            after[1..end].trim_end_matches(['-', '_'])
        };
        let is_ref = prev_ok && (label.starts_with("tbl-") || label.starts_with("fig-"));
        match labels.get(label).filter(|_| is_ref) {
            Some((kind, number)) => {
                if !plain.is_empty() {
                    out.push(Piece::Md(Event::Text(std::mem::take(&mut plain).into())));
                }
                out.push(Piece::Ref(CrossRef {
                    label: label.to_string(),
                    kind,
                    number: number.clone(),
                }));
                rest = &after[1 + label.len()..];
            }
            None => {
                if is_ref {
                    unknown.push(label.to_string());
                }
                plain.push('@');
                rest = &after[1..];
            }
        }
    }
    plain.push_str(rest);
    if !plain.is_empty() {
        out.push(Piece::Md(Event::Text(plain.into())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Labels {
        [
            ("tbl-a".to_string(), ("Table", "2".to_string())),
            ("fig-b".to_string(), ("Figure", "A1".to_string())),
        ]
        .into()
    }

    fn refs(md: &Markdown) -> Vec<String> {
        md.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Ref(r) => Some(format!("{}={}", r.label, r.text())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn references_become_pieces_with_their_numbers() {
        let (md, unknown) = Markdown::parse(
            "See @tbl-a, and @fig-b. Mail x@tbl-a.org; @tbl-zz.".into(),
            &labels(),
        );
        assert_eq!(refs(&md), ["tbl-a=Table\u{a0}2", "fig-b=Figure\u{a0}A1"]);
        assert_eq!(unknown, ["tbl-zz"]);
    }

    #[test]
    fn code_and_link_text_are_left_alone() {
        let (md, unknown) = Markdown::parse(
            "`@tbl-a` [about @tbl-a](https://x.org)\n\n```\n@fig-b\n```\n\n*@tbl-a*\n".into(),
            &labels(),
        );
        assert_eq!(refs(&md), ["tbl-a=Table\u{a0}2"], "only the emphasised one");
        assert!(unknown.is_empty());
    }

    #[test]
    fn a_label_with_underscores_split_across_text_events_is_one_reference() {
        let labels: Labels = [("tbl-my_long_one".to_string(), ("Table", "4".to_string()))].into();
        let (md, unknown) = Markdown::parse("As @tbl-my_long_one_ shows.".into(), &labels);
        assert_eq!(refs(&md), ["tbl-my_long_one=Table\u{a0}4"]);
        assert!(unknown.is_empty());
        let text: String = md
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Md(Event::Text(t)) => t.to_string(),
                Piece::Ref(r) => format!("<{}>", r.label),
                _ => String::new(),
            })
            .collect();
        assert_eq!(text, "As <tbl-my_long_one>_ shows.");
    }

    #[test]
    fn text_without_references_keeps_its_events() {
        let (md, _) = Markdown::parse("a_b_c and **d**".into(), &labels());
        let direct: Vec<Event> = Parser::new_ext("a_b_c and **d**", OPTIONS).collect();
        assert_eq!(md.pieces.len(), direct.len());
    }
}
