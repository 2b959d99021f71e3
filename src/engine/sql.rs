//! `{sql}`: a polars SQL query over the context's frames; the result is a
//! new named frame.

use polars::prelude::*;
use polars::sql::SQLContext;

use super::{BlockError, BlockOutput, Context, Engine};
use crate::document::Block;

/// The SQL engine.
pub struct Sql;

/// Runs a query over the context's frames it names.
pub fn query(ctx: &Context, sql_text: &str) -> PolarsResult<DataFrame> {
    let mut sql = SQLContext::new();
    for name in frames_named(ctx, sql_text) {
        if let Some(named) = ctx.frames.get(&name) {
            sql.register(&name, named.frame.clone().lazy());
        }
    }
    sql.execute(sql_text).and_then(|lf| lf.collect())
}

/// The context frames a query's text names.
fn frames_named(ctx: &Context, text: &str) -> Vec<String> {
    let words: std::collections::HashSet<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map(str::to_lowercase)
        .collect();
    ctx.frames
        .keys()
        .filter(|n| words.contains(&n.to_lowercase()))
        .cloned()
        .collect()
}

impl Engine for Sql {
    fn run(&self, block: &Block, body: &str, ctx: &Context) -> Result<BlockOutput, BlockError> {
        if body.trim().is_empty() {
            return Err(BlockError::new("the query is empty"));
        }
        let frame = query(ctx, body).map_err(|e| {
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or(&msg);
            let mut err = BlockError::new(format!("SQL error: {first}"));
            // point at the name the error quotes, else at the query
            if super::quoted_words(first)
                .iter()
                .all(|w| !body.contains(w.as_str()))
            {
                err = err.at(block.body_offset);
            }
            if msg.contains("not found") || msg.contains("unable to find") {
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
        Ok(BlockOutput::Frame { frame, keys })
    }

    fn reads(&self, _block: &Block, body: &str, ctx: &Context) -> Vec<String> {
        frames_named(ctx, body)
    }
}
