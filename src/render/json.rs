//! `--to json`: every named result (frames as lists of row objects), the
//! provenance and the warnings of the render, for dashboards and checking.

use crate::engine::{Banner, Evaluated};

/// Renders the results as pretty JSON (keys sorted, so bytes are stable).
pub fn render(doc: &Evaluated) -> String {
    let value = serde_json::json!({
        "title": doc.title,
        "date": doc.date,
        "notice": doc.notice.as_ref().map(Banner::text),
        "results": doc.results,
        "provenance": doc.provenance,
        "warnings": doc.warnings,
    });
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_default();
    s.push('\n');
    s
}
