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
//! strength = "p"                # optional: the column of `rows` holding the p-values its claim rests on
//! ```
//!
//! Fired rules are ranked by the strength of their evidence: rules whose
//! claim rests on significance tests (`strength` names their p column)
//! first, smallest p first; then rules resting on descriptive comparisons,
//! in file order.

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
    /// Rules that, when they fire, silence this one (so that contradicting
    /// recommendations never appear together).
    #[serde(default)]
    unless: Vec<String>,
    /// The column of the rule's rows with the p-values of the tests its
    /// claim rests on; the smallest ranks the recommendation.
    strength: Option<String>,
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
        let path = crate::fsio::inside_project(&ctx.base_dir, &spec.rules)
            .map_err(|why| Diagnostic::error(why).hint(crate::fsio::OUTSIDE_HINT))?;
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Diagnostic::error(format!("cannot read rules file `{}`: {e}", spec.rules))
        })?;
        let fired = fire(&path, &text, ctx)?;
        let mut markdown = String::new();
        if let Some(h) = &spec.heading {
            markdown.push_str(&format!("{h}\n\n"));
        }
        for (i, f) in fired.iter().enumerate() {
            markdown.push_str(&format!(
                "{}. **{}** *({})*. {}\n\n   *Evidence:* {}\n\n",
                i + 1,
                f.title.trim(),
                f.kind,
                f.text,
                f.evidence
            ));
        }
        if fired.is_empty() {
            markdown.push_str("No recommendation rule was triggered by these results.\n\n");
        }
        let frame = df![
            "id" => fired.iter().map(|f| f.id.clone()).collect::<Vec<_>>(),
            "title" => fired.iter().map(|f| f.title.clone()).collect::<Vec<_>>(),
            "type" => fired.iter().map(|f| f.kind.clone()).collect::<Vec<_>>(),
            "text" => fired.iter().map(|f| f.text.clone()).collect::<Vec<_>>(),
            "evidence" => fired.iter().map(|f| f.evidence.clone()).collect::<Vec<_>>(),
            "source" => fired.iter().map(|f| f.source.clone()).collect::<Vec<_>>(),
            "p" => fired.iter().map(|f| f.p).collect::<Vec<_>>(),
        ]
        .map_err(|e| Diagnostic::error(e.to_string()))?;
        Ok(Warned::new(BlockOutput::Prose { markdown, frame }))
    }
}

/// A recommendation whose rule fired, with its text and evidence rendered.
#[derive(Debug, Clone)]
pub struct Fired {
    /// Rule id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Kind of co-production.
    pub kind: String,
    /// The recommendation, one paragraph.
    pub text: String,
    /// The figures that triggered it, one line.
    pub evidence: String,
    /// Where the advice comes from.
    pub source: Option<String>,
    /// The smallest p-value of the tests its claim rests on (`None`: it
    /// rests on descriptive comparisons).
    pub p: Option<f64>,
}

/// The rules of a rules file (`text`, read from `path`) that fire on the
/// context's frames, without those silenced by a rule that fired
/// (`unless`), ranked by the strength of their evidence: tested claims by
/// their smallest p, then descriptive ones in file order.
pub fn fire(path: &std::path::Path, text: &str, ctx: &Context) -> Result<Vec<Fired>, Diagnostic> {
    let at = |offset: usize| {
        let (line, col, _) = line_col(text, offset);
        format!("{}:{line}:{col}", path.display())
    };
    let rules: Rules = toml::from_str(text).map_err(|e| {
        let place = e.span().map_or(path.display().to_string(), |s| at(s.start));
        Diagnostic::error(format!("rules file {place}: {}", e.message().trim()))
    })?;
    let ids: Vec<&str> = rules.rule.iter().map(|r| r.get_ref().id.as_str()).collect();
    let env = prose::environment(ctx.survey);
    let mut fired: Vec<(Fired, &[String])> = Vec::new();
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
        if let Some(bad) = rule.unless.iter().find(|u| !ids.contains(&u.as_str())) {
            let d = Diagnostic::error(format!(
                "rule `{}` ({place}): `unless` names no rule `{bad}`",
                rule.id
            ));
            return Err(d.suggest(bad, &ids, "rules"));
        }
        if let Some(f) = fire_one(rule, &place, &env, ctx)? {
            fired.push((f, &rule.unless));
        }
    }
    let fired_ids: Vec<String> = fired.iter().map(|(f, _)| f.id.clone()).collect();
    let mut kept: Vec<Fired> = fired
        .into_iter()
        .filter(|(_, unless)| !unless.iter().any(|u| fired_ids.contains(u)))
        .map(|(f, _)| f)
        .collect();
    // stable: equal strengths keep file order
    kept.sort_by(|a, b| match (a.p, b.p) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Ok(kept)
}

/// One rule: its condition, then its text and evidence when it returns rows.
fn fire_one(
    rule: &Rule,
    place: &str,
    env: &minijinja::Environment,
    ctx: &Context,
) -> Result<Option<Fired>, Diagnostic> {
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
        return Ok(None);
    }
    let p = match &rule.strength {
        None => None,
        Some(column) => {
            let values = rows
                .column(column)
                .and_then(|c| c.cast(&DataType::Float64))
                .map_err(|_| {
                    Diagnostic::error(format!(
                        "rule `{}` ({place}): `strength` names `{column}`, which its condition does not return",
                        rule.id
                    ))
                })?;
            values.f64().ok().and_then(|v| v.min())
        }
    };
    let values = minijinja::Value::from(minijinja::value::Serde(serde_json::json!({
        "rows": frames::rows(&rows),
        "params": ctx.params,
    })));
    let render = |what: &str, t: &str| {
        prose::render(env, t, &values).map_err(|(m, _)| {
            Diagnostic::error(format!("rule `{}` ({place}): in `{what}`: {m}", rule.id))
        })
    };
    let text = one_line(&render("text", &rule.text)?);
    let evidence = one_line(&render("evidence", &rule.evidence)?);
    if evidence.trim().is_empty() {
        return Err(Diagnostic::error(format!(
            "rule `{}` ({place}) fired but its evidence is empty",
            rule.id
        ))
        .hint("a recommendation is never printed without the figures that triggered it"));
    }
    Ok(Some(Fired {
        id: rule.id.clone(),
        title: rule.title.clone(),
        kind: rule.kind.clone(),
        text: text.trim().to_string(),
        evidence: evidence.trim().to_string(),
        source: rule.source.clone(),
        p,
    }))
}

/// Text from a multi-line TOML string as one paragraph.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
