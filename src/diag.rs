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

/// One problem, with its place, a snippet of the offending line and hints.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where, if the problem has a place.
    pub location: Option<Location>,
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
        self.location = Some(Location {
            file: file.to_path_buf(),
            line,
            column,
        });
        self
    }

    /// Places the problem at a byte offset of `source`, with the line as snippet.
    pub fn at_offset(self, file: &Path, source: &str, offset: usize) -> Self {
        let (line, column, text) = line_col(source, offset);
        let mut d = self.at(file, Some(line), Some(column));
        d.snippet = Some(text.to_string());
        d
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
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
                    writeln!(f, "{:gutter$} | {pad}^", "")?;
                }
            }
        }
        for hint in &self.hints {
            writeln!(f, "  = hint: {hint}")?;
        }
        Ok(())
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
    fn display_puts_caret_under_column() {
        let d = Diagnostic::error("bad").at_offset(Path::new("f.toml"), "x = [1,\ny = ?\n", 12);
        let text = d.to_string();
        assert!(text.contains("--> f.toml:2:5"), "{text}");
        assert!(text.contains("2 | y = ?\n  |     ^"), "{text}");
    }
}
