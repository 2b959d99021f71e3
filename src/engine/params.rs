//! Resolving a template's declared parameters against `--param KEY=VALUE`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::diag::Diagnostic;
use crate::document::{Document, ParamType, closest};
use crate::survey::Codebook;

/// Resolves parameters: defaults, then the given values; every unknown,
/// missing or ill-typed parameter is an error.
pub fn resolve(
    doc: &Document,
    given: &[(String, String)],
    codebook: &Codebook,
) -> Result<BTreeMap<String, Value>, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut out = BTreeMap::new();
    let declared: Vec<&str> = doc.front.params.keys().map(String::as_str).collect();
    let at_front = |d: Diagnostic| d.at_offset(&doc.path, &doc.source, doc.front_offset);
    // the line declaring a parameter, when it can be found in the front matter
    let at_param = |key: &str, d: Diagnostic| {
        let front_end = doc.source[doc.front_offset..]
            .find("\n---")
            .map_or(doc.source.len(), |i| doc.front_offset + i);
        let front = &doc.source[doc.front_offset..front_end];
        match front.find(&format!("\n  {key}:")) {
            Some(i) => d.at_offset(&doc.path, &doc.source, doc.front_offset + i + 3),
            None => d.at_offset(&doc.path, &doc.source, doc.front_offset),
        }
    };
    for (key, raw) in given {
        let Some(spec) = doc.front.params.get(key) else {
            let mut d = Diagnostic::error(format!("unknown parameter `{key}`"));
            d = match closest(key, &declared) {
                Some(s) => d.hint(format!("did you mean `{s}`?")),
                None if declared.is_empty() => d.hint("this template declares no parameters"),
                None => d.hint(format!("parameters: {}", declared.join(", "))),
            };
            problems.push(at_front(d));
            continue;
        };
        match typed(spec.ty, raw, codebook) {
            Ok(v) => {
                out.insert(key.clone(), v);
            }
            Err(msg) => problems.push(at_param(
                key,
                Diagnostic::error(format!("parameter `{key}`: {msg}")),
            )),
        }
    }
    for (key, spec) in &doc.front.params {
        if !out.contains_key(key) {
            match &spec.default {
                Some(d) => {
                    let v = match d {
                        Value::String(s) => typed(spec.ty, s, codebook),
                        other => typed(spec.ty, &other.to_string(), codebook),
                    };
                    // a default area another codebook lacks: a survey of
                    // one area has only one answer
                    let v = match (v, spec.ty, codebook.areas.as_slice()) {
                        (Err(_), ParamType::Area, [only]) => Ok(Value::String(only.name.clone())),
                        (v, _, _) => v,
                    };
                    match v {
                        Ok(v) => {
                            out.insert(key.clone(), v);
                        }
                        Err(msg) => problems.push(at_param(
                            key,
                            Diagnostic::error(format!("default of parameter `{key}`: {msg}"))
                                .hint(format!(
                                    "render with --param {key}=VALUE, or --each {key} for one report per value"
                                )),
                        )),
                    }
                }
                None => problems.push(at_param(
                    key,
                    Diagnostic::error(format!(
                        "parameter `{key}` has no default and was not given"
                    ))
                    .hint(format!("render with --param {key}=VALUE")),
                )),
            }
        }
        if let (Some(choices), Some(v)) = (&spec.choices, out.get(key))
            && !choices.contains(v)
        {
            let list: Vec<String> = choices.iter().map(|c| c.to_string()).collect();
            problems.push(at_param(
                key,
                Diagnostic::error(format!(
                    "parameter `{key}` is {v}, not one of the allowed values"
                ))
                .hint(format!("allowed: {}", list.join(", "))),
            ));
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn typed(ty: ParamType, raw: &str, codebook: &Codebook) -> Result<Value, String> {
    let raw = raw.trim();
    match ty {
        ParamType::String => Ok(Value::String(raw.to_string())),
        ParamType::Integer => raw
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("`{raw}` is not a whole number")),
        ParamType::Number => raw
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("`{raw}` is not a number")),
        ParamType::Boolean => match raw {
            "true" | "yes" => Ok(Value::Bool(true)),
            "false" | "no" => Ok(Value::Bool(false)),
            _ => Err(format!("`{raw}` is not true or false")),
        },
        ParamType::Area => {
            let names: Vec<&str> = codebook.areas.iter().map(|a| a.name.as_str()).collect();
            match names.iter().find(|n| n.eq_ignore_ascii_case(raw)) {
                Some(n) => Ok(Value::String((*n).to_string())),
                None => Err(format!(
                    "`{raw}` is not an area of the codebook ({})",
                    names.join(", ")
                )),
            }
        }
        ParamType::Theme => {
            let ids: Vec<&str> = codebook.themes.iter().map(|t| t.id.as_str()).collect();
            match ids.iter().find(|n| n.eq_ignore_ascii_case(raw)) {
                Some(n) => Ok(Value::String((*n).to_string())),
                None => Err(format!(
                    "`{raw}` is not a theme of the codebook ({})",
                    ids.join(", ")
                )),
            }
        }
    }
}
