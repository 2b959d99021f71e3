//! Template parsing: front matter, prose and blocks with their places.

use std::fmt::Write as _;
use std::path::Path;

use coweave::diag::line_col;
use coweave::document::Node;
use coweave::engine::parse;

fn outline(path: &str) -> String {
    let source = std::fs::read_to_string(path).unwrap();
    let (doc, problems) = parse(Path::new(path), &source);
    assert!(problems.is_empty(), "{problems:?}");
    let mut s = String::new();
    let _ = writeln!(s, "title: {:?}", doc.front.title);
    let _ = writeln!(
        s,
        "params: {:?}",
        doc.front.params.keys().collect::<Vec<_>>()
    );
    for node in &doc.nodes {
        match node {
            Node::Prose(p) => {
                let (line, col, _) = line_col(&source, p.offset);
                let first = p.text.trim().lines().next().unwrap_or("");
                let _ = writeln!(s, "prose @{line}:{col} {first:?}");
            }
            Node::Block(b) => {
                let (line, col, _) = line_col(&source, b.engine_offset);
                let opts: Vec<String> = b
                    .options
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.value))
                    .collect();
                let (body_line, _, _) = line_col(&source, b.body_offset);
                let _ = writeln!(
                    s,
                    "block {} {{{}}} @{line}:{col} [{}] body@{body_line} ({} lines)",
                    b.index,
                    b.engine,
                    opts.join(", "),
                    b.body.lines().count()
                );
            }
        }
    }
    s
}

#[test]
fn first_report_outline() {
    insta::assert_snapshot!(outline("reports/first-look.md"));
}

#[test]
fn parsing_collects_every_problem_and_keeps_going() {
    let src = "---\ntitle: x\n---\n\n```{sqll}\n#| nmae: a\n#| echo\nSELECT 1\n```\n\n```{sql}\n#| name: ok\nSELECT 2\n```\n";
    let (doc, problems) = parse(Path::new("t.md"), src);
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "unknown block engine `sqll`",
            "unknown block option `nmae`",
            "block option `echo` has no value"
        ]
    );
    let blocks = doc
        .nodes
        .iter()
        .filter(|n| matches!(n, Node::Block(_)))
        .count();
    assert_eq!(blocks, 2, "the document after the problems is still read");
    let place = |i: usize| problems[i].location.as_ref().map(|l| (l.line, l.column));
    assert_eq!(place(0), Some((Some(5), Some(5))));
    assert_eq!(place(1), Some((Some(6), Some(4))));
}

#[test]
fn code_fences_without_braces_are_prose() {
    let src = "Some code:\n\n```sql\nSELECT 1\n```\n";
    let (doc, problems) = parse(Path::new("t.md"), src);
    assert!(problems.is_empty());
    assert!(doc.nodes.iter().all(|n| matches!(n, Node::Prose(_))));
}

/// The engine registry is the one list of engines: every registered engine
/// has its section in docs/templates.md, and the docs describe no other.
#[test]
fn the_docs_describe_exactly_the_registered_engines() {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/templates.md")).unwrap();
    let documented: Vec<&str> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("### `{"))
        .filter_map(|l| l.split('}').next())
        .collect();
    let mut registered = coweave::engine::names();
    registered.sort();
    let mut documented_sorted = documented.clone();
    documented_sorted.sort();
    assert_eq!(documented_sorted, registered);
    // and the parser knows them: each parses, an unknown one is an error naming them all
    for name in &registered {
        let (_, problems) = parse(Path::new("t.md"), &format!("```{{{name}}}\n```\n"));
        assert!(problems.is_empty(), "{name}: {problems:?}");
    }
    let (_, problems) = parse(Path::new("t.md"), "```{quote}\n```\n");
    assert!(problems[0].message.contains("unknown block engine `quote`"));
    assert_eq!(
        problems[0].hints[0],
        format!("engines: {}", coweave::engine::names().join(", "))
    );
}
