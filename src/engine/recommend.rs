//! `{recommend}`: recommendations as data. A rules file (TOML, next to the
//! template) holds rules whose condition is a SQL query over the results;
//! a rule fires when its query returns rows, and prints its recommendation
//! with the evidence line rendered from those rows. A recommendation is
//! never printed without its evidence.
//!
//! ```toml
//! [[rule]]
//! id = "build-efficacy"
//! title = "Build residents' belief that they can make a difference"
//! type = "co-delivery"          # co-commissioning | co-design | co-delivery | co-assessment
//! when = "SELECT theme, estimate, p, n FROM correlates WHERE ... "
//! text = "..."                  # minijinja over `rows` and `params`
//! evidence = "{% for r in rows %}...{% endfor %}"
//! source = "Bovaird et al. (2016), conclusions"
//! ```

use polars::prelude::*;
use serde::Deserialize;
use toml::Spanned;

use super::{BlockOutput, Context, Diagnostic, Engine, Warned, frames, prose, sql};
use crate::diag::line_col;
use crate::document::Block;

/// The recommendations engine.
pub struct Recommend;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    rules: String,
    #[serde(default)]
    heading: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rules {
    rule: Vec<Spanned<Rule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    id: String,
    title: String,
    #[serde(rename = "type")]
    kind: String,
    when: String,
    text: String,
    evidence: String,
    source: Option<String>,
}

const TYPES: [&str; 4] = [
    "co-commissioning",
    "co-design",
    "co-delivery",
    "co-assessment",
];

impl Engine for Recommend {
    fn name(&self) -> &'static str {
        "recommend"
    }

    fn reads(&self, _block: &Block, _body: &str, ctx: &Context) -> Vec<String> {
        // conditions may read any result
        ctx.frames.keys().cloned().collect()
    }

    fn files(&self, _block: &Block, body: &str, ctx: &Context) -> Vec<std::path::PathBuf> {
        crate::yaml::from_str::<Spec>(body)
            .map(|s| vec![ctx.base_dir.join(s.rules)])
            .unwrap_or_default()
    }

    fn run(
        &self,
        _block: &Block,
        body: &str,
        ctx: &Context,
    ) -> Result<Warned<BlockOutput>, Diagnostic> {
        let spec: Spec = crate::yaml::from_str(body).map_err(|e| {
            Diagnostic::error(format!(
                "recommend spec: {}",
                crate::document::yaml_message(&e.to_string())
            ))
        })?;
        let path = ctx.base_dir.join(&spec.rules);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Diagnostic::error(format!("cannot read rules file `{}`: {e}", spec.rules))
        })?;
        let at = |offset: usize| {
            let (line, col, _) = line_col(&text, offset);
            format!("{}:{line}:{col}", path.display())
        };
        let rules: Rules = toml::from_str(&text).map_err(|e| {
            let place = e.span().map_or(path.display().to_string(), |s| at(s.start));
            Diagnostic::error(format!("rules file {place}: {}", e.message().trim()))
        })?;
        let env = prose::environment(ctx.survey);
        let mut markdown = String::new();
        if let Some(h) = &spec.heading {
            markdown.push_str(&format!("{h}\n\n"));
        }
        let (mut ids, mut titles, mut kinds, mut texts, mut evidence, mut sources) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for spanned in &rules.rule {
            let place = at(spanned.span().start);
            let rule = spanned.get_ref();
            if !TYPES.contains(&rule.kind.as_str()) {
                return Err(Diagnostic::error(format!(
                    "rule `{}` ({place}): unknown type `{}`",
                    rule.id, rule.kind
                ))
                .hint(format!("types: {}", TYPES.join(", "))));
            }
            let when = sql::render(&rule.when, &ctx.params).map_err(|(m, _)| {
                Diagnostic::error(format!("rule `{}` ({place}): in `when`: {m}", rule.id))
            })?;
            let rows = sql::query(ctx, &when).map_err(|e| {
                let msg = e.to_string();
                Diagnostic::error(format!(
                    "rule `{}` ({place}): its condition failed: {}",
                    rule.id,
                    msg.lines().next().unwrap_or(&msg)
                ))
            })?;
            if rows.height() == 0 {
                continue;
            }
            let values = minijinja::Value::from(minijinja::value::Serde(serde_json::json!({
                "rows": frames::rows(&rows),
                "params": ctx.params,
            })));
            let render = |what: &str, t: &str| {
                prose::render(&env, t, &values).map_err(|(m, _)| {
                    Diagnostic::error(format!("rule `{}` ({place}): in `{what}`: {m}", rule.id))
                })
            };
            let body_text = one_line(&render("text", &rule.text)?);
            let ev = one_line(&render("evidence", &rule.evidence)?);
            if ev.trim().is_empty() {
                return Err(Diagnostic::error(format!(
                    "rule `{}` ({place}) fired but its evidence is empty",
                    rule.id
                ))
                .hint("a recommendation is never printed without the figures that triggered it"));
            }
            markdown.push_str(&format!(
                "{}. **{}** *({})*. {}\n\n   *Evidence:* {}\n\n",
                ids.len() + 1,
                rule.title.trim(),
                rule.kind,
                body_text.trim(),
                ev.trim()
            ));
            ids.push(rule.id.clone());
            titles.push(rule.title.clone());
            kinds.push(rule.kind.clone());
            texts.push(body_text.trim().to_string());
            evidence.push(ev.trim().to_string());
            sources.push(rule.source.clone());
        }
        if ids.is_empty() {
            markdown.push_str("No recommendation rule was triggered by these results.\n\n");
        }
        let frame = df![
            "id" => ids,
            "title" => titles,
            "type" => kinds,
            "text" => texts,
            "evidence" => evidence,
            "source" => sources,
        ]
        .map_err(|e| Diagnostic::error(e.to_string()))?;
        Ok(Warned::new(BlockOutput::Prose { markdown, frame }))
    }
}

/// Text from a multi-line TOML string as one paragraph.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
