//! Diagnostics as data: every problem found in a codebook, a data file or a
//! template is a [`Diagnostic`] with a place, collected rather than thrown one
//! at a time, and turned into text only at the edge (the CLI).

use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The input is usable but something looks wrong.
    Warning,
    /// The input cannot be used as it is.
    Error,
}

/// Where a problem is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column (characters), when known.
    pub column: Option<usize>,
}

/// One problem, with its place, a snippet of the offending line and hints:
/// the one diagnostic type of coweave (typst's `SourceDiagnostic` is the
/// model). Code that sees only part of a file (an engine sees its block)
/// gives a byte [`span`](Self::span) in that file; whoever knows the file
/// turns it into a line and column with [`locate`](Self::locate).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where, if the problem has a place.
    pub location: Option<Box<Location>>,
    /// The bytes of the file the problem is about (the rejected key or
    /// value), when known; `location` is its start.
    #[serde(skip)]
    pub span: Option<std::ops::Range<usize>>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The source line the location points at (without its newline).
    pub snippet: Option<String>,
    /// Suggestions that may help fix it.
    pub hints: Vec<String>,
}

impl Diagnostic {
    /// An error without a place yet.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            location: None,
            span: None,
            message: message.into(),
            snippet: None,
            hints: Vec::new(),
        }
    }

    /// A warning without a place yet.
    pub fn warning(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(message)
        }
    }

    /// Places the problem in a file, at an optional line and column.
    pub fn at(mut self, file: &Path, line: Option<usize>, column: Option<usize>) -> Self {
        self.location = Some(Box::new(Location {
            file: file.to_path_buf(),
            line,
            column,
        }));
        self
    }

    /// Places the problem at a byte offset of `source`, with the line as snippet.
    pub fn at_offset(self, file: &Path, source: &str, offset: usize) -> Self {
        let (line, column, text) = line_col(source, offset);
        let mut d = self.at(file, Some(line), Some(column));
        d.snippet = Some(text.to_string());
        d
    }

    /// Points at bytes of the file (not yet located, see [`Self::locate`]).
    pub fn with_span(mut self, span: std::ops::Range<usize>) -> Self {
        self.span = Some(span);
        self
    }

    /// Points at one byte offset of the file.
    pub fn point(self, offset: usize) -> Self {
        self.with_span(offset..offset)
    }

    /// Points at `span` unless a more exact place is already known.
    pub fn or_span(self, span: std::ops::Range<usize>) -> Self {
        if self.span.is_some() {
            self
        } else {
            self.with_span(span)
        }
    }

    /// Places the problem in `file`, whose text is `source`: at its span,
    /// or at `fallback` when it has none.
    pub fn locate(mut self, file: &Path, source: &str, fallback: usize) -> Self {
        let span = self.span.clone().unwrap_or(fallback..fallback);
        self = self.at_offset(file, source, span.start);
        self.span = Some(span);
        self
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// The usual hint for a name that is not known: "did you mean `x`?"
    /// for a close candidate, else the list of `what` there are.
    pub fn suggest(self, word: &str, candidates: &[&str], what: &str) -> Self {
        match closest(word, candidates) {
            Some(s) => self.hint(format!("did you mean `{s}`?")),
            None if candidates.is_empty() || what.is_empty() => self,
            None => self.hint(format!("{what}: {}", candidates.join(", "))),
        }
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// 1-based line and column (in characters) of a byte offset, and the line's text.
pub fn line_col(source: &str, offset: usize) -> (usize, usize, &str) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = source[offset..]
        .find('\n')
        .map_or(source.len(), |i| offset + i);
    let line = source[..start].matches('\n').count() + 1;
    let column = source[start..offset].chars().count() + 1;
    (line, column, source[start..end].trim_end_matches('\r'))
}

/// The candidate closest to `word` by edit distance (a swap of two
/// neighbouring letters counts as one edit), if close enough: at most one
/// edit per three letters, and at least one.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 1.max(c.chars().count() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

impl fmt::Display for Diagnostic {
    /// The CLI form: `error: message`, `--> file:line:col`, the snippet with a
    /// caret under the column, then the hints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{kind}: {}", self.message)?;
        if let Some(loc) = &self.location {
            write!(f, "  --> {}", loc.file.display())?;
            if let Some(line) = loc.line {
                write!(f, ":{line}")?;
                if let Some(col) = loc.column {
                    write!(f, ":{col}")?;
                }
            }
            writeln!(f)?;
            if let (Some(line), Some(text)) = (loc.line, &self.snippet) {
                let gutter = line.to_string().len();
                writeln!(f, "{:gutter$} |", "")?;
                writeln!(f, "{line} | {text}")?;
                if let Some(col) = loc.column {
                    let pad: String = text
                        .chars()
                        .take(col.saturating_sub(1))
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    // underline the span's characters on this line (at least one)
                    let rest = text.chars().count().saturating_sub(col.saturating_sub(1));
                    let width = self
                        .span
                        .as_ref()
                        .map_or(1, |s| self.span_chars(s, text, col))
                        .clamp(1, rest.max(1));
                    writeln!(f, "{:gutter$} | {pad}{}", "", "^".repeat(width))?;
                }
            }
        }
        for hint in &self.hints {
            writeln!(f, "  = hint: {hint}")?;
        }
        Ok(())
    }
}

impl Diagnostic {
    /// Characters of the span on the snippet's line: the span's bytes are
    /// found again in the line from the column on.
    fn span_chars(&self, span: &std::ops::Range<usize>, line: &str, col: usize) -> usize {
        let from: String = line.chars().skip(col.saturating_sub(1)).collect();
        let mut bytes = span.end.saturating_sub(span.start);
        let mut n = 0;
        for c in from.chars() {
            if bytes == 0 {
                break;
            }
            bytes = bytes.saturating_sub(c.len_utf8());
            n += 1;
        }
        n
    }
}

/// A result with the warnings met on the way to it: warnings travel beside
/// what was produced instead of being printed where they arise.
#[derive(Debug, Clone)]
pub struct Warned<T> {
    /// What was produced.
    pub output: T,
    /// Warnings, in the order they arose.
    pub warnings: Vec<Diagnostic>,
}

impl<T> Warned<T> {
    /// A result without warnings.
    pub fn new(output: T) -> Self {
        Warned {
            output,
            warnings: Vec::new(),
        }
    }

    /// Adds a warning.
    pub fn warn(mut self, warning: Diagnostic) -> Self {
        self.warnings.push(warning);
        self
    }
}

impl<T> From<T> for Warned<T> {
    fn from(output: T) -> Self {
        Warned::new(output)
    }
}

/// Several diagnostics that together make an operation fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Number of errors (not warnings).
    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// A duration for `-v` logs: "840 µs", "12.3 ms", "1.25 s".
pub fn took(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.001 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let src = "a = 1\nnäme = 2\n";
        let off = src.find('=').unwrap();
        assert_eq!(line_col(src, off), (1, 3, "a = 1"));
        let off = src.rfind('=').unwrap();
        assert_eq!(line_col(src, off), (2, 6, "näme = 2"));
    }

    #[test]
    fn a_span_is_underlined_on_its_line() {
        let src = "kind: bar\ny: estimat\n";
        let start = src.find("estimat").unwrap();
        let d = Diagnostic::error("no column")
            .with_span(start..start + 7)
            .locate(Path::new("r.md"), src, 0);
        let text = d.to_string();
        assert!(text.contains("--> r.md:2:4"), "{text}");
        assert!(text.contains("2 | y: estimat\n  |    ^^^^^^^\n"), "{text}");
        // without a span the fallback offset is the place, one caret wide
        let d = Diagnostic::error("x").locate(Path::new("r.md"), src, 3);
        assert!(d.to_string().contains("1 | kind: bar\n  |    ^\n"), "{d}");
    }

    #[test]
    fn display_puts_caret_under_column() {
        let d = Diagnostic::error("bad").at_offset(Path::new("f.toml"), "x = [1,\ny = ?\n", 12);
        let text = d.to_string();
        assert!(text.contains("--> f.toml:2:5"), "{text}");
        assert!(text.contains("2 | y = ?\n  |     ^"), "{text}");
    }
}
