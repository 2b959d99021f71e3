//! The template model: front matter, prose and executable blocks, each with
//! its place in the source. Parsing runs nothing and never stops at the
//! first problem: it returns the document it could read and every
//! diagnostic.

mod front;
mod parse;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use crate::diag::closest;
pub use front::{DataSpec, FrontMatter, ParamSpec, ParamType, Rows};
pub use parse::{parse, yaml_message};

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Document {
    /// The template file.
    pub path: PathBuf,
    /// Its full text (diagnostics point into it).
    pub source: String,
    /// The YAML front matter.
    pub front: FrontMatter,
    /// Byte offset where the front matter's YAML starts.
    pub front_offset: usize,
    /// Prose and blocks in document order.
    pub nodes: Vec<Node>,
}

impl Document {
    /// The byte offset of the first front matter line whose key is `key`
    /// (`  wards: wards.csv` for `wards`), for messages about it.
    pub fn front_line_of(&self, key: &str) -> Option<usize> {
        let front = &self.source[self.front_offset.min(self.source.len())..];
        let end = front.find("\n---").unwrap_or(front.len());
        let mut offset = self.front_offset;
        for line in front[..end].split_inclusive('\n') {
            let t = line.trim_start();
            if t.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with(':'))
            {
                return Some(offset + (line.len() - t.len()));
            }
            offset += line.len();
        }
        None
    }

    /// The byte offset of `key` nested under `parent` in the front matter
    /// (`reference` in `format: { docx: { reference: … } }` as block YAML),
    /// else of `parent`, else of the front matter, for messages about a
    /// setting.
    pub fn front_offset_of(&self, parent: &str, key: &str) -> usize {
        let Some(start) = self.front_line_of(parent) else {
            return self.front_offset;
        };
        let line_start = self.source[..start].rfind('\n').map_or(0, |i| i + 1);
        let indent = start - line_start;
        let front = &self.source[start..];
        let end = front.find("\n---").unwrap_or(front.len());
        let mut offset = start;
        for (i, line) in front[..end].split_inclusive('\n').enumerate() {
            let t = line.trim_start();
            let own = line.len() - t.len();
            if i > 0 && !t.is_empty() && own <= indent {
                break;
            }
            if i > 0
                && t.strip_prefix(key)
                    .is_some_and(|r| r.trim_start().starts_with(':'))
            {
                return offset + own;
            }
            offset += line.len();
        }
        start
    }
}

/// A piece of the template body.
#[derive(Debug, Clone)]
pub enum Node {
    /// Markdown prose, itself a minijinja template.
    Prose(Prose),
    /// A fenced ```` ```{engine} ```` block.
    Block(Block),
}

/// Markdown prose between blocks.
#[derive(Debug, Clone)]
pub struct Prose {
    /// The text.
    pub text: String,
    /// Byte offset of its start in the template.
    pub offset: usize,
}

/// One `#| key: value` option of a block.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockOption {
    /// The value, parsed as YAML.
    pub value: serde_json::Value,
    /// Byte offset of the key in the template.
    pub offset: usize,
}

/// An executable block.
#[derive(Debug, Clone)]
pub struct Block {
    /// Position among the document's blocks (0-based).
    pub index: usize,
    /// Engine name (`sql`, `stats`, `table`, `chart`).
    pub engine: String,
    /// Byte offset of the opening fence.
    pub offset: usize,
    /// Byte offset of the engine name.
    pub engine_offset: usize,
    /// `#|` options by key.
    pub options: BTreeMap<String, BlockOption>,
    /// The code after the options.
    pub body: String,
    /// Byte offset of the body's start.
    pub body_offset: usize,
}

/// Options every block understands.
pub const COMMON_OPTIONS: [&str; 11] = [
    "label", "caption", "alt", "echo", "cache", "name", "keys", "eval", "include", "base", "output",
];

/// Options whose value is always text, whatever YAML would make of it.
pub const TEXT_OPTIONS: [&str; 2] = ["caption", "alt"];

impl Block {
    /// A string option.
    pub fn option_str(&self, key: &str) -> Option<&str> {
        self.options.get(key).and_then(|o| o.value.as_str())
    }

    /// A boolean option with a default.
    pub fn option_bool(&self, key: &str, default: bool) -> bool {
        self.options
            .get(key)
            .and_then(|o| o.value.as_bool())
            .unwrap_or(default)
    }

    /// The name its result is registered under (`name`, else `label`).
    pub fn result_name(&self) -> Option<String> {
        self.option_str("name")
            .or_else(|| self.option_str("label"))
            .map(|s| s.replace('-', "_"))
    }

    /// A short human name for messages: "block 3 ({sql}, `levels`)".
    pub fn describe(&self) -> String {
        match self.result_name() {
            Some(n) => format!("block {} ({{{}}} `{n}`)", self.index + 1, self.engine),
            None => format!("block {} ({{{}}})", self.index + 1, self.engine),
        }
    }
}

/// Byte offset of the start of a 1-based line of `text`.
pub fn line_offset(text: &str, line: usize) -> usize {
    text.split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum()
}
