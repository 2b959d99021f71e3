//! Splitting a template into front matter, prose and blocks.

use std::collections::BTreeMap;
use std::path::Path;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};

use super::{Block, BlockOption, COMMON_OPTIONS, Document, FrontMatter, Node, Prose, TEXT_OPTIONS};
use crate::diag::Diagnostic;

/// Parses a template whose blocks may name the `engines` given (the
/// engine registry's names). Always returns a document (possibly partial)
/// and every problem found.
pub fn parse(path: &Path, source: &str, engines: &[&str]) -> (Document, Vec<Diagnostic>) {
    let mut problems = Vec::new();
    let (front, front_offset, body_start) = front_matter(path, source, &mut problems);
    let mut nodes = Vec::new();
    let body = &source[body_start..];
    let mut cursor = 0usize;
    let mut index = 0usize;
    let parser = Parser::new_ext(body, Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES)
        .into_offset_iter();
    for (event, range) in parser {
        let Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) = event else {
            continue;
        };
        let info = info.trim();
        let Some(rest) = info.strip_prefix('{') else {
            continue;
        };
        let engine_end = rest
            .find(|c: char| c == '}' || c == ',' || c.is_whitespace())
            .unwrap_or(rest.len());
        let engine = rest[..engine_end].to_string();
        let start = body_start + range.start;
        if range.start > cursor {
            nodes.push(Node::Prose(Prose {
                text: body[cursor..range.start].to_string(),
                offset: body_start + cursor,
            }));
        }
        cursor = range.end;
        let block_text = &source[start..body_start + range.end];
        let engine_offset = start + block_text.find('{').map_or(0, |i| i + 1);
        if !engines.contains(&engine.as_str()) {
            problems.push(
                Diagnostic::error(format!("unknown block engine `{engine}`"))
                    .with_span(engine_offset..engine_offset + engine.len())
                    .locate(path, source, engine_offset)
                    .suggest(&engine, engines, "engines"),
            );
        }
        let block = block_parts(
            path,
            source,
            start,
            block_text,
            engine,
            engine_offset,
            index,
            &mut problems,
        );
        index += 1;
        nodes.push(Node::Block(block));
    }
    if cursor < body.len() {
        nodes.push(Node::Prose(Prose {
            text: body[cursor..].to_string(),
            offset: body_start + cursor,
        }));
    }
    (
        Document {
            path: path.to_path_buf(),
            source: source.to_string(),
            front,
            front_offset,
            nodes,
        },
        problems,
    )
}

fn front_matter(
    path: &Path,
    source: &str,
    problems: &mut Vec<Diagnostic>,
) -> (FrontMatter, usize, usize) {
    let first_line_end = source.find('\n').map_or(source.len(), |i| i + 1);
    if source[..first_line_end].trim_end() != "---" {
        return (FrontMatter::default(), 0, 0);
    }
    let yaml_start = first_line_end;
    let mut pos = yaml_start;
    while pos < source.len() {
        let end = source[pos..]
            .find('\n')
            .map_or(source.len(), |i| pos + i + 1);
        let line = source[pos..end].trim_end();
        if line == "---" || line == "..." {
            let yaml = &source[yaml_start..pos];
            let front = match crate::yaml::from_str::<FrontMatter>(yaml) {
                Ok(f) => f,
                Err(e) => {
                    let d = Diagnostic::error(format!(
                        "front matter: {}",
                        yaml_message(&e.to_string())
                    ));
                    let d = match e.location() {
                        Some(loc) => {
                            let offset =
                                offset_of(yaml, loc.line() as usize, loc.column() as usize);
                            d.at_offset(path, source, yaml_start + offset)
                        }
                        None => d.at(path, Some(2), None),
                    };
                    problems.push(d);
                    FrontMatter::default()
                }
            };
            return (front, yaml_start, end);
        }
        pos = end;
    }
    problems.push(
        Diagnostic::error("front matter is not closed")
            .at_offset(path, source, 0)
            .hint("end the YAML front matter with a line `---`"),
    );
    (FrontMatter::default(), yaml_start, source.len())
}

/// A YAML error's message without its "error: line L column C:" prefix and
/// the snippet it repeats below (coweave prints its own).
pub fn yaml_message(s: &str) -> String {
    let first = s.lines().next().unwrap_or(s);
    let rest = first.strip_prefix("error: ").unwrap_or(first);
    match rest.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
        Some((place, msg)) if place.contains("column") => msg.to_string(),
        _ => rest.to_string(),
    }
}

/// Byte offset of a 1-based line and (character) column in `text`.
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset
                + l.chars()
                    .take(column.saturating_sub(1))
                    .map(char::len_utf8)
                    .sum::<usize>();
        }
        offset += l.len();
    }
    text.len()
}

#[allow(clippy::too_many_arguments)]
fn block_parts(
    path: &Path,
    source: &str,
    start: usize,
    block_text: &str,
    engine: String,
    engine_offset: usize,
    index: usize,
    problems: &mut Vec<Diagnostic>,
) -> Block {
    // drop the opening fence line and the closing fence
    let after_fence = block_text.find('\n').map_or(block_text.len(), |i| i + 1);
    let inner = &block_text[after_fence..];
    let fence: String = block_text
        .chars()
        .take_while(|c| *c == '`' || *c == '~')
        .collect();
    let inner = match inner.trim_end().strip_suffix(fence.as_str()) {
        Some(s) => s,
        None => inner,
    };
    let mut options = BTreeMap::new();
    let mut pos = 0usize;
    for line in inner.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let Some(opt) = trimmed.strip_prefix("#|") else {
            break;
        };
        let key_offset = start
            + after_fence
            + pos
            + (line.len() - trimmed.len())
            + 2
            + (opt.len() - opt.trim_start().len());
        pos += line.len();
        let opt = opt.trim();
        if opt.is_empty() {
            continue;
        }
        let Some((key, value)) = opt.split_once(':') else {
            problems.push(
                Diagnostic::error(format!("block option `{opt}` has no value"))
                    .at_offset(path, source, key_offset)
                    .hint("write options as `#| key: value`"),
            );
            continue;
        };
        let key = key.trim().to_string();
        let value = match crate::yaml::from_str::<serde_json::Value>(value.trim()) {
            Ok(serde_json::Value::Null) if value.trim().is_empty() => {
                serde_json::Value::String(String::new())
            }
            // a caption or alt text is text even when it reads as YAML
            // ("Table 1 compared: respondents" is not a mapping)
            Ok(v) if TEXT_OPTIONS.contains(&key.trim()) && !v.is_string() => {
                serde_json::Value::String(value.trim().to_string())
            }
            Ok(v) => v,
            Err(_) => serde_json::Value::String(value.trim().to_string()),
        };
        let known = COMMON_OPTIONS.contains(&key.as_str());
        if !known {
            let mut d = Diagnostic::error(format!("unknown block option `{key}`"))
                .at_offset(path, source, key_offset);
            d = d.suggest(&key, &COMMON_OPTIONS, "options");
            problems.push(d);
        }
        if options
            .insert(
                key.clone(),
                BlockOption {
                    value,
                    offset: key_offset,
                },
            )
            .is_some()
        {
            problems.push(
                Diagnostic::error(format!("block option `{key}` is given twice"))
                    .at_offset(path, source, key_offset),
            );
        }
    }
    let body = inner[pos.min(inner.len())..].to_string();
    Block {
        index,
        engine,
        offset: start,
        engine_offset,
        options,
        body,
        body_offset: start + after_fence + pos,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caption_with_a_colon_is_text() {
        let src = "```{table}\n#| caption: Paper Table 1 compared: respondents\n#| alt: \"quoted: text\"\ndata: t1\n```\n";
        let (doc, problems) = parse(Path::new("t.md"), src, &["table"]);
        assert!(problems.is_empty(), "{problems:?}");
        let crate::document::Node::Block(b) = &doc.nodes[0] else {
            panic!("a block")
        };
        assert_eq!(
            b.option_str("caption"),
            Some("Paper Table 1 compared: respondents")
        );
        assert_eq!(b.option_str("alt"), Some("quoted: text"));
    }

    #[test]
    fn blocks_keep_the_byte_offsets_of_their_parts() {
        let src =
            "---\ntitle: T\n---\n\nSome text.\n\n```{table}\n#| label: tbl-x\ndata: levels\n```\n";
        let (doc, problems) = parse(Path::new("t.md"), src, &["table"]);
        assert!(problems.is_empty(), "{problems:?}");
        let block = doc
            .nodes
            .iter()
            .find_map(|n| match n {
                crate::document::Node::Block(b) => Some(b),
                _ => None,
            })
            .expect("one block");
        assert_eq!(block.engine, "table");
        assert_eq!(&src[block.engine_offset..block.engine_offset + 5], "table");
        assert_eq!(block.options["label"].value, "tbl-x");
        assert_eq!(&src[block.options["label"].offset..][..5], "label");
        assert_eq!(&src[block.body_offset..][..block.body.len()], block.body);
        assert_eq!(block.body, "data: levels\n");
    }

    #[test]
    fn an_unknown_engine_is_a_located_problem() {
        let src = "---\ntitle: T\n---\n\n```{tabel}\ndata: x\n```\n";
        let (_, problems) = parse(Path::new("t.md"), src, &["table", "chart"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let text = problems[0].to_string();
        assert!(text.contains("t.md:5:"), "{text}");
        assert!(text.contains("did you mean `table`?"), "{text}");
    }
}
