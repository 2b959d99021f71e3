//! `{sql}`: a polars SQL query over the context's frames; the result is a
//! new named frame.
//!
//! Template values enter a query as SQL literals, never as text: in a
//! `{sql}` block (and a rule's `when`), `{{ params.area }}` becomes
//! `'Bristol'` (quotes doubled inside), numbers stay numbers, booleans are
//! `TRUE`/`FALSE`, missing values `NULL`, and lists `('a', 'b')` for `IN`.
//! A trusted name is spliced as a quoted identifier with `| ident`.
//!
//! Files read with polars' table functions (`read_csv('extra.csv')`) are
//! found relative to the template, and their content is part of the
//! block's cache key.
//!
//! Row order is part of the output: a query without a top-level `ORDER BY`
//! that groups, joins, takes distinct rows or combines queries (whose row
//! order polars does not fix) is sorted by all its columns, left to right,
//! missing values last. Other queries keep the order of the frame they read.

use std::collections::BTreeMap;
use std::path::PathBuf;

use minijinja::value::ValueKind;
use minijinja::{Environment, Error, ErrorKind, Value};
use polars::prelude::*;
use polars::sql::SQLContext;

use super::{BlockOutput, Context, Diagnostic, Engine, Warned};
use crate::document::Block;

/// Where `word` stands as a whole identifier in `sql` (offset, length).
fn identifier_at(sql: &str, word: &str) -> Option<(usize, usize)> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(i) = sql[from..].find(word) {
        let at = from + i;
        let before = sql[..at].chars().next_back();
        let after = sql[at + word.len()..].chars().next();
        if !word.is_empty() && !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
            return Some((at, word.len()));
        }
        from = at + word.len().max(1);
    }
    None
}

/// The SQL engine.
pub struct Sql;

/// Runs a query over the context's frames it names, with a deterministic
/// row order (see the module docs).
pub fn query(ctx: &Context, sql_text: &str) -> PolarsResult<DataFrame> {
    let mut sql = SQLContext::new();
    for name in frames_named(ctx, sql_text) {
        if let Some(named) = ctx.frames.get(&name) {
            sql.register(&name, named.frame.clone().lazy());
        }
    }
    let df = sql
        .execute(&with_paths_from(sql_text, &ctx.base_dir))
        .and_then(|lf| lf.collect())?;
    if needs_sorting(sql_text) && df.width() > 0 && df.height() > 1 {
        let by: Vec<PlSmallStr> = df.get_column_names_owned();
        let options = SortMultipleOptions::default()
            .with_nulls_last(true)
            .with_maintain_order(true);
        return df.sort(by, options);
    }
    Ok(df)
}

/// Words of a query outside strings, quoted names and comments, each with
/// its depth of brackets; commas are words too (they separate the frames of
/// a `FROM` list).
fn words(text: &str) -> Vec<(String, usize)> {
    let mut words = Vec::new();
    let mut depth = 0usize;
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    let flush = |word: &mut String, words: &mut Vec<(String, usize)>, depth: usize| {
        if !word.is_empty() {
            words.push((std::mem::take(word), depth));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                flush(&mut word, &mut words, depth);
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                flush(&mut word, &mut words, depth);
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '(' => {
                flush(&mut word, &mut words, depth);
                depth += 1;
            }
            ')' => {
                flush(&mut word, &mut words, depth);
                depth = depth.saturating_sub(1);
            }
            ',' => {
                flush(&mut word, &mut words, depth);
                words.push((",".into(), depth));
            }
            c if c.is_alphanumeric() || c == '_' => word.push(c),
            _ => flush(&mut word, &mut words, depth),
        }
    }
    flush(&mut word, &mut words, depth);
    words
}

/// The names a query reads frames by: the word after `FROM` or `JOIN`, and
/// after a comma in a `FROM` list.
fn table_names(text: &str) -> Vec<String> {
    const CLAUSES: [&str; 12] = [
        "SELECT", "FROM", "JOIN", "WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "ON", "USING",
        "UNION", "WITH",
    ];
    let words = words(text);
    let mut clause: Vec<&str> = vec![""; 64];
    let mut out = Vec::new();
    let mut prev = String::new();
    for (w, depth) in &words {
        let up = w.to_ascii_uppercase();
        let here = clause.get(*depth).copied().unwrap_or("");
        if prev == "FROM" || prev == "JOIN" || (prev == "," && here == "FROM") {
            out.push(w.clone());
        }
        if let Some(k) = CLAUSES.iter().find(|k| **k == up)
            && let Some(slot) = clause.get_mut(*depth)
        {
            *slot = if *k == "JOIN" { "FROM" } else { k };
        }
        prev = up;
    }
    out
}

/// Whether a query's row order is left open by polars: it groups, joins,
/// takes distinct rows or combines queries (at any depth), and has no
/// `ORDER BY` of its own.
fn needs_sorting(text: &str) -> bool {
    let words: Vec<(String, usize)> = words(text)
        .into_iter()
        .map(|(w, d)| (w.to_ascii_uppercase(), d))
        .collect();
    let ordered = words
        .windows(2)
        .any(|w| w[0].1 == 0 && w[1].1 == 0 && w[0].0 == "ORDER" && w[1].0 == "BY");
    let open = words.iter().any(|(w, _)| {
        ["GROUP", "JOIN", "DISTINCT", "UNION", "INTERSECT", "EXCEPT"].contains(&w.as_str())
    });
    !ordered && open
}

/// Where a query applies a window function (`OVER`) in a `SELECT` that
/// also groups (`GROUP BY`): polars computes such a window within each group
/// rather than over the grouped rows (`sum(count(*)) OVER ()` is each
/// group's own count, not the total), so the result would be wrong without
/// an error. The byte offset of the `OVER`.
fn window_over_groups(text: &str) -> Option<usize> {
    // a query's scope: a bracket whose first word is SELECT or WITH (a
    // subquery) opens a new one, other brackets (function calls) belong to
    // the query around them, and so does each query a UNION, INTERSECT or
    // EXCEPT adds at the same depth. Each level: its scope, and whether its
    // first word is still to come.
    let mut stack: Vec<(usize, bool)> = vec![(0, false)];
    let mut next = 1;
    let mut groups = std::collections::HashSet::new();
    let mut windows = std::collections::HashSet::new();
    for (w, depth) in words(text) {
        while depth + 1 > stack.len() {
            let parent = stack.last().map_or(0, |l| l.0);
            stack.push((parent, true));
        }
        stack.truncate(depth + 1);
        let up = w.to_ascii_uppercase();
        let fresh = ["SELECT", "WITH"].contains(&up.as_str());
        let starts = ["UNION", "INTERSECT", "EXCEPT"].contains(&up.as_str());
        if let Some(level) = stack.last_mut() {
            if (level.1 && fresh) || starts {
                level.0 = next;
                next += 1;
            }
            level.1 = false;
        }
        let scope = stack.last().map_or(0, |l| l.0);
        match up.as_str() {
            "GROUP" => {
                groups.insert(scope);
            }
            "OVER" => {
                windows.insert(scope);
            }
            _ => {}
        }
    }
    if groups.is_disjoint(&windows) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    identifier_at(&lower, "over").map(|(at, _)| at)
}

/// The context frames a query reads (named after `FROM` or `JOIN`): the
/// only frames it can see, and the inputs of its cache key.
fn frames_named(ctx: &Context, text: &str) -> Vec<String> {
    let words: std::collections::HashSet<String> =
        table_names(text).iter().map(|w| w.to_lowercase()).collect();
    ctx.frames
        .keys()
        .filter(|n| words.contains(&n.to_lowercase()))
        .cloned()
        .collect()
}

/// Files a query reads with polars' table functions (`read_csv('x.csv')`,
/// ...): each path with the byte range of its text (inside the quotes).
fn file_literals(text: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    for f in ["read_csv", "read_parquet", "read_ipc", "read_json"] {
        for (i, _) in lower.match_indices(f) {
            let mut at = i + f.len();
            let skip = |at: &mut usize| {
                while text[*at..].starts_with(char::is_whitespace) {
                    *at += text[*at..].chars().next().map_or(1, char::len_utf8);
                }
            };
            skip(&mut at);
            if !text[at..].starts_with('(') {
                continue;
            }
            at += 1;
            skip(&mut at);
            let Some(q) = text[at..]
                .chars()
                .next()
                .filter(|q| *q == '\'' || *q == '"')
            else {
                continue;
            };
            if let Some(end) = text[at + 1..].find(q) {
                out.push((text[at + 1..at + 1 + end].to_string(), at + 1..at + 1 + end));
            }
        }
    }
    out.sort_by_key(|(_, r)| r.start);
    out
}

fn files_named(text: &str) -> Vec<String> {
    file_literals(text).into_iter().map(|(f, _)| f).collect()
}

/// The query with every relative file path made relative to `base` (the
/// template's folder), as the rest of a template's files are.
fn with_paths_from(text: &str, base: &std::path::Path) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (file, range) in file_literals(text) {
        out.push_str(&text[last..range.start]);
        let path = std::path::Path::new(&file);
        if path.is_relative() && !base.as_os_str().is_empty() {
            out.push_str(&base.join(path).display().to_string().replace('\'', "''"));
        } else {
            out.push_str(&file);
        }
        last = range.end;
    }
    out.push_str(&text[last..]);
    out
}

/// A template value as an SQL literal.
fn literal(v: &Value) -> Result<String, Error> {
    let bad = |what: &str| Error::new(ErrorKind::InvalidOperation, what.to_string());
    if v.is_safe() {
        return Ok(v.to_string());
    }
    Ok(match v.kind() {
        ValueKind::Undefined | ValueKind::None => "NULL".into(),
        ValueKind::Bool => if v.is_true() { "TRUE" } else { "FALSE" }.into(),
        ValueKind::Number => {
            if let Ok(i) = i64::try_from(v.clone()) {
                i.to_string()
            } else {
                let x = f64::try_from(v.clone()).map_err(|_| bad("not a number"))?;
                if !x.is_finite() {
                    return Err(bad("an infinite or NaN number cannot be an SQL value"));
                }
                format!("{x:?}")
            }
        }
        ValueKind::String => format!("'{}'", v.as_str().unwrap_or_default().replace('\'', "''")),
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<String> = v
                .try_iter()?
                .map(|x| literal(&x))
                .collect::<Result<_, _>>()?;
            if items.is_empty() {
                // `x IN (NULL)` is never true, as `IN` of an empty list would be
                "(NULL)".into()
            } else {
                format!("({})", items.join(", "))
            }
        }
        _ => return Err(bad("a map cannot be an SQL value; use one of its fields")),
    })
}

/// `{{ name | ident }}`: a trusted name as a quoted SQL identifier.
fn ident(name: String) -> Result<Value, Error> {
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("`{name}` is not a column or frame name (letters, digits and _ only)"),
        ));
    }
    Ok(Value::from_safe_string(format!("\"{name}\"")))
}

/// The environment that renders query text: values as SQL literals.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_formatter(|out, _state, value| {
        let text = literal(value)?;
        out.write_str(&text)
            .map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))
    });
    env.add_filter("ident", ident);
    env
}

/// Query text with `{{ … }}` filled in as SQL literals; on failure the
/// message and the byte offset in `text` of the failing part.
pub fn render(
    text: &str,
    params: &BTreeMap<String, serde_json::Value>,
) -> Result<String, (String, usize)> {
    if !text.contains("{{") && !text.contains("{%") {
        return Ok(text.to_string());
    }
    for q in ["'{{", "\"{{"] {
        if let Some(i) = text.find(q) {
            return Err((
                "a value in a query is written without quotes: `{{ params.x }}` becomes an SQL literal ('Bristol', 42)".into(),
                i,
            ));
        }
    }
    let v = Value::from(minijinja::value::Serde(
        serde_json::json!({ "params": params }),
    ));
    environment().render_str(text, v).map_err(|e| {
        let at = e.range().map_or(0, |r| r.start);
        let msg = e
            .detail()
            .map_or_else(|| e.kind().to_string(), str::to_string);
        (msg, at)
    })
}

impl Engine for Sql {
    fn name(&self) -> &'static str {
        "sql"
    }

    /// Values enter the query as SQL literals (see the module docs).
    fn body(
        &self,
        _env: &Environment,
        block: &Block,
        ctx: &Context,
    ) -> Result<String, (String, usize)> {
        render(&block.body, &ctx.params).map_err(|(m, at)| (m, block.body_offset + at))
    }

    fn run(
        &self,
        block: &Block,
        body: &str,
        ctx: &Context,
    ) -> Result<Warned<BlockOutput>, Diagnostic> {
        if body.trim().is_empty() {
            return Err(Diagnostic::error("the query is empty"));
        }
        // files the query reads stay inside the project
        for (file, _) in file_literals(body) {
            if let Err(why) = crate::fsio::inside_project(&ctx.base_dir, &file) {
                let at = block.body.find(&file).unwrap_or(0);
                return Err(Diagnostic::error(why)
                    .with_span(block.body_offset + at..block.body_offset + at + file.len())
                    .hint(crate::fsio::OUTSIDE_HINT));
            }
        }
        if let Some(at) = window_over_groups(body) {
            // the rendered body may differ from the written one (literals);
            // point at the written `OVER` where there is one
            let at = window_over_groups(&block.body).unwrap_or(at.min(block.body.len()));
            return Err(Diagnostic::error(
                "a window function (`OVER`) in a query that groups (`GROUP BY`): coweave's SQL engine (polars) computes it within each group, not over the grouped rows, so totals and shares would come out wrong",
            )
            .with_span(block.body_offset + at..block.body_offset + at + 4)
            .hint(
                "group in a subquery and apply the window to its result: `SELECT answer, n, 100.0 * n / sum(n) OVER () AS pct FROM (SELECT answer, count(*) AS n FROM respondents GROUP BY answer)`",
            ));
        }
        let frame = query(ctx, body).map_err(|e| {
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or(&msg);
            let mut err = Diagnostic::error(format!("SQL error: {first}"));
            // point at the name the error quotes (a whole identifier of the
            // query as written), else at the query
            let at = super::quoted_words(first)
                .iter()
                .find_map(|w| identifier_at(&block.body, w))
                .map_or(block.body_offset..block.body_offset, |(i, len)| {
                    block.body_offset + i..block.body_offset + i + len
                });
            err = err.with_span(at);
            if msg.contains("No such file") || msg.contains("os error") {
                // polars reads a file named in SQL from the working directory
                if let Some(file) = first.rsplit("): ").next()
                    && let Some(i) = block.body.find(file.trim())
                {
                    let at = block.body_offset + i;
                    err = err.with_span(at..at + file.trim().len());
                }
                let cwd = std::env::current_dir().unwrap_or_default();
                err = err.hint(format!(
                    "a file named in SQL is read from the folder coweave runs in, {}; name it in the front matter instead (`data: {{ frames: {{ name: file.csv }} }}`, relative to the template) and query it by name",
                    cwd.display()
                ));
            } else if msg.contains("not found") || msg.contains("unable to find") {
                let names: Vec<&str> = ctx.frames.keys().map(String::as_str).collect();
                err = err.hint(format!("frames you can query: {}", names.join(", ")));
            }
            err
        })?;
        let keys = block
            .options
            .get("keys")
            .and_then(|o| o.value.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Warned::new(BlockOutput::Frame { frame, keys }))
    }

    fn reads(&self, _block: &Block, body: &str, ctx: &Context) -> Vec<String> {
        frames_named(ctx, body)
    }

    fn files(&self, _block: &Block, body: &str, ctx: &Context) -> Vec<PathBuf> {
        files_named(body)
            .into_iter()
            .map(|f| ctx.base_dir.join(f))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: serde_json::Value) -> BTreeMap<String, serde_json::Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn values_become_literals() {
        let p = params(serde_json::json!({
            "who": "x' OR '1'='1", "n": 42, "x": 0.5, "yes": true, "areas": ["A", "B's"], "none": []
        }));
        let r = |t: &str| render(t, &p).unwrap();
        assert_eq!(r("a = {{ params.who }}"), "a = 'x'' OR ''1''=''1'");
        assert_eq!(
            r("{{ params.n }} {{ params.x }} {{ params.yes }}"),
            "42 0.5 TRUE"
        );
        assert_eq!(r("a IN {{ params.areas }}"), "a IN ('A', 'B''s')");
        assert_eq!(r("a IN {{ params.none }}"), "a IN (NULL)");
        assert_eq!(r("SELECT {{ 'estimate' | ident }}"), "SELECT \"estimate\"");
        assert!(render("{{ 'x; DROP' | ident }}", &p).is_err());
        let (msg, at) = render("WHERE a = '{{ params.who }}'", &p).unwrap_err();
        assert!(msg.contains("without quotes"), "{msg}");
        assert_eq!(at, 10);
    }

    #[test]
    fn windows_over_grouped_rows_are_caught_but_not_over_a_grouped_subquery() {
        let grouped = "SELECT a, count(*) AS n, sum(count(*)) OVER () AS total FROM t GROUP BY a";
        assert_eq!(window_over_groups(grouped), grouped.find("OVER"));
        assert_eq!(
            window_over_groups(
                "SELECT a, n, 100.0 * n / sum(n) OVER () FROM (SELECT a, count(*) AS n FROM t GROUP BY a)"
            ),
            None
        );
        assert_eq!(
            window_over_groups(
                "WITH g AS (SELECT a, count(*) AS n FROM t GROUP BY a), w AS (SELECT a, rank() over (ORDER BY n) AS r FROM g) SELECT * FROM w"
            ),
            None
        );
        assert_eq!(
            window_over_groups(
                "SELECT a, count(*) FROM t GROUP BY a UNION ALL SELECT b, row_number() OVER () FROM u"
            ),
            None
        );
        assert_eq!(
            window_over_groups("SELECT a FROM t WHERE b = 'GROUP BY OVER'"),
            None
        );
        // lower case and inside a CTE
        let cte =
            "with g as (select a, sum(count(*)) over () as s from t group by a) select * from g";
        assert_eq!(window_over_groups(cte), cte.find("over"));
    }

    #[test]
    fn only_open_row_orders_are_sorted() {
        assert!(needs_sorting("SELECT a, COUNT(*) FROM t GROUP BY a"));
        assert!(!needs_sorting(
            "SELECT a, COUNT(*) FROM t GROUP BY a ORDER BY a"
        ));
        assert!(needs_sorting(
            "SELECT * FROM (SELECT a FROM t ORDER BY a) s JOIN u ON s.a = u.a"
        ));
        assert!(!needs_sorting("SELECT a FROM t WHERE b = 'GROUP BY'"));
        assert!(!needs_sorting("SELECT a FROM t -- group by\nWHERE b > 1"));
    }

    #[test]
    fn frames_are_what_follows_from_and_join() {
        let q = "SELECT a.area, respondents FROM published_areas a JOIN levels l ON a.area = l.area \
                 WHERE l.theme IN (SELECT theme FROM gaps, other) AND x = 'FROM fake'";
        assert_eq!(
            table_names(q),
            ["published_areas", "levels", "gaps", "other"]
        );
        assert_eq!(
            table_names("select * from Levels -- from comment"),
            ["Levels"]
        );
    }

    #[test]
    fn files_in_table_functions_are_found() {
        let q = "SELECT * FROM read_csv('extra.csv') JOIN read_parquet( \"/abs/p.parquet\")";
        assert_eq!(
            files_named(q),
            vec!["extra.csv".to_string(), "/abs/p.parquet".to_string()]
        );
        assert_eq!(
            with_paths_from(q, std::path::Path::new("/reports")),
            "SELECT * FROM read_csv('/reports/extra.csv') JOIN read_parquet( \"/abs/p.parquet\")"
        );
    }
}
