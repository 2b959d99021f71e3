//! Prose as a minijinja template over the results, with the filters reports
//! need (cross-references are resolved in [`super::markdown`]).

use std::collections::BTreeMap;

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, ErrorKind, Value};

use super::{Context, frames};
use crate::document::Document;
use crate::survey::Survey;

/// The environment with coweave's filters and functions.
pub fn environment(survey: &Survey) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.add_filter("pct", pct);
    env.add_filter("num", num);
    env.add_filter("ci", ci);
    env.add_filter("pvalue", pvalue);
    env.add_filter("stars", stars);
    env.add_filter("signed", signed);
    env.add_filter("plural", plural);
    env.add_filter("key", |s: String| frames::slug(&s));
    // one lookup of the codebook's names; `theme_label` both as a function
    // and as a filter
    let names = std::sync::Arc::new(super::labels::Names::of(&survey.codebook));
    let n = names.clone();
    let theme_label = move |id: String| n.theme(&id);
    env.add_function("theme_label", theme_label.clone());
    env.add_filter("theme_label", theme_label);
    let n = names.clone();
    env.add_filter("measure", move |name: String| n.measure(&name));
    env.add_filter("sub_label", move |id: String| names.sub(&id));
    env.add_filter("and_list", and_list);
    env
}

/// A list in English: "a", "a and b", "a, b and c".
fn and_list(v: Value) -> Result<String, Error> {
    let items: Vec<String> = v
        .try_iter()
        .map_err(|_| Error::new(ErrorKind::InvalidOperation, "and_list needs a list"))?
        .map(|x| x.to_string())
        .collect();
    Ok(match items.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    })
}

/// The estimate inside a value: the number itself, or its `estimate` field.
fn estimate(v: &Value, what: &str) -> Result<f64, Error> {
    let inner = if v.kind() == ValueKind::Map {
        v.get_attr("estimate")?
    } else {
        v.clone()
    };
    if inner.is_undefined() || inner.is_none() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{what}: the value is missing (not computable or not asked)"),
        ));
    }
    f64::try_from(inner).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("{what} needs a number or a result with an estimate"),
        )
    })
}

fn digits(kwargs: &Kwargs, positional: Option<i64>, default: i64) -> Result<usize, Error> {
    let d = match positional {
        Some(d) => d,
        None => kwargs.get::<Option<i64>>("digits")?.unwrap_or(default),
    };
    Ok(d.clamp(0, 10) as usize)
}

/// What prose prints for a value that disclosure control withheld.
pub fn withheld_phrase(min_base: u32) -> String {
    format!("{WITHHELD} {min_base} respondents")
}

const WITHHELD: &str = "fewer than";

/// The phrase, when `v` is a withheld value or a suppressed row.
fn withheld(v: &Value) -> Option<String> {
    if let Some(s) = v.as_str() {
        return s.starts_with(WITHHELD).then(|| s.to_string());
    }
    if v.kind() != ValueKind::Map {
        return None;
    }
    let marked = v
        .get_attr(super::disclosure::COLUMN)
        .is_ok_and(|m| m.is_true());
    if !marked {
        return None;
    }
    let phrase = ["estimate", "p"]
        .iter()
        .filter_map(|k| v.get_attr(k).ok())
        .find_map(|x| x.as_str().map(str::to_string));
    Some(phrase.unwrap_or_else(|| format!("{WITHHELD} the disclosure threshold")))
}

fn pct(v: Value, d: Option<i64>, kwargs: Kwargs) -> Result<String, Error> {
    if let Some(w) = withheld(&v) {
        return Ok(w);
    }
    let x = estimate(&v, "pct")?;
    let digits = digits(&kwargs, d, 0)?;
    kwargs.assert_all_used()?;
    Ok(format!("{:.digits$}%", x * 100.0))
}

fn num(v: Value, d: Option<i64>, kwargs: Kwargs) -> Result<String, Error> {
    if let Some(w) = withheld(&v) {
        return Ok(w);
    }
    let x = estimate(&v, "num")?;
    let digits = digits(&kwargs, d, 2)?;
    kwargs.assert_all_used()?;
    Ok(minus(format!("{x:.digits$}")))
}

fn minus(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) => format!("\u{2212}{rest}"),
        None => s,
    }
}

/// `{{ x | ci }}`: "41% to 47%" for proportions, "0.12 to 0.30" otherwise.
fn ci(v: Value, d: Option<i64>, kwargs: Kwargs) -> Result<String, Error> {
    if let Some(w) = withheld(&v) {
        return Ok(w);
    }
    let lo = f64::try_from(v.get_attr("ci_low")?).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            "ci needs a result with ci_low and ci_high",
        )
    })?;
    let hi = f64::try_from(v.get_attr("ci_high")?).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            "ci needs a result with ci_low and ci_high",
        )
    })?;
    let statistic = v
        .get_attr("statistic")
        .ok()
        .and_then(|s| s.as_str().map(str::to_string))
        .unwrap_or_default();
    let share = statistic == "mean" && (0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi);
    let as_pct = kwargs
        .get::<Option<bool>>("pct")?
        .unwrap_or(statistic == "proportion" || statistic.contains("proportions") || share);
    let digits = digits(&kwargs, d, if as_pct { 0 } else { 2 })?;
    kwargs.assert_all_used()?;
    Ok(if as_pct {
        format!(
            "{}% to {}%",
            minus(format!("{:.digits$}", lo * 100.0)),
            minus(format!("{:.digits$}", hi * 100.0))
        )
    } else {
        format!(
            "{} to {}",
            minus(format!("{lo:.digits$}")),
            minus(format!("{hi:.digits$}"))
        )
    })
}

fn p_of(v: &Value) -> Result<f64, Error> {
    let inner = if v.kind() == ValueKind::Map {
        v.get_attr("p")?
    } else {
        v.clone()
    };
    f64::try_from(inner).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            "needs a p-value or a result with p",
        )
    })
}

fn pvalue(v: Value) -> Result<String, Error> {
    if let Some(w) = withheld(&v) {
        return Ok(w);
    }
    let p = p_of(&v)?;
    Ok(if p < 0.001 {
        "p < 0.001".into()
    } else {
        format!("p = {p:.3}")
    })
}

fn stars(v: Value) -> Result<String, Error> {
    if withheld(&v).is_some() {
        return Ok(String::new());
    }
    Ok(crate::stats::stars(p_of(&v)?).to_string())
}

fn signed(v: Value, d: Option<i64>, kwargs: Kwargs) -> Result<String, Error> {
    if let Some(w) = withheld(&v) {
        return Ok(w);
    }
    let x = estimate(&v, "signed")?;
    let scale = if kwargs.get::<Option<bool>>("points")?.unwrap_or(false) {
        100.0
    } else {
        1.0
    };
    let digits = digits(&kwargs, d, 1)?;
    kwargs.assert_all_used()?;
    let y = x * scale;
    let s = format!("{:.digits$}", y.abs());
    let zero = s.chars().all(|c| c == '0' || c == '.');
    Ok(if zero {
        s
    } else if y > 0.0 {
        format!("+{s}")
    } else {
        format!("\u{2212}{s}")
    })
}

/// `{{ n | plural("area", "areas") }}` -> "1 area", "3 areas".
fn plural(v: Value, one: String, many: Option<String>) -> Result<String, Error> {
    let n = if v.kind() == ValueKind::Seq {
        v.len().unwrap_or(0) as f64
    } else {
        f64::try_from(v).map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                "plural needs a number or a list",
            )
        })?
    };
    let many = many.unwrap_or_else(|| format!("{one}s"));
    let word = if (n - 1.0).abs() < f64::EPSILON {
        one
    } else {
        many
    };
    Ok(if n.fract() == 0.0 {
        format!("{} {word}", n as i64)
    } else {
        format!("{n} {word}")
    })
}

/// The values prose sees: `params`, every named result (nested by its key
/// columns when it has them, else a list of rows), and `meta`.
pub fn values(ctx: &Context, doc: &Document) -> Value {
    let mut map: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut lazy: BTreeMap<String, Value> = BTreeMap::new();
    for (name, named) in &ctx.frames {
        if matches!(name.as_str(), "long" | "respondents") {
            continue;
        }
        if named.scalar {
            map.insert(name.clone(), frames::single_value(&named.frame));
            continue;
        }
        // a frame is converted when prose first looks at it, once a render:
        // a long intermediate frame nobody quotes costs nothing
        let cache_key = format!("{name}\u{0}{}", named.key);
        let v = ctx
            .prose_frames
            .borrow_mut()
            .entry(cache_key)
            .or_insert_with(|| {
                Value::from_object(LazyFrame {
                    frame: named.frame.clone(),
                    keys: named.keys.clone(),
                    withheld: named
                        .frame
                        .column(super::disclosure::COLUMN)
                        .is_ok()
                        .then(|| withheld_phrase(ctx.min_base)),
                    value: std::sync::OnceLock::new(),
                })
            })
            .clone();
        lazy.insert(name.clone(), v);
    }
    map.insert(
        "params".into(),
        serde_json::to_value(&ctx.params).unwrap_or_default(),
    );
    let info = &ctx.survey.codebook.survey;
    let areas: Vec<&str> = ctx
        .survey
        .codebook
        .areas
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    map.insert(
        "meta".into(),
        serde_json::json!({
            "title": doc.front.title,
            "areas": areas,
            "min_base": ctx.min_base,
            "survey": info.name,
            "survey_title": info.title,
            "data": info.data,
            "unit": info.unit,
            "units": info.units(),
            "audience": info.audience,
            "weight": ctx
                .survey
                .codebook
                .role_variable(crate::survey::Role::Weight)
                .map(|v| v.label.clone()),
        }),
    );
    let mut all: BTreeMap<String, Value> = map
        .into_iter()
        .map(|(k, v)| (k, Value::from(minijinja::value::Serde(&v))))
        .collect();
    all.extend(lazy);
    Value::from(all)
}

/// A result frame as prose sees it: rows (or nested by its key columns),
/// withheld values as the phrase; built on first use.
#[derive(Debug)]
struct LazyFrame {
    frame: polars::prelude::DataFrame,
    keys: Vec<String>,
    withheld: Option<String>,
    value: std::sync::OnceLock<Value>,
}

impl LazyFrame {
    fn value(&self) -> &Value {
        self.value.get_or_init(|| {
            let mut v = if self.keys.is_empty() {
                serde_json::Value::Array(frames::rows(&self.frame))
            } else {
                frames::nested(&self.frame, &self.keys)
            };
            if let Some(phrase) = &self.withheld {
                mark_withheld(&mut v, phrase);
            }
            Value::from(minijinja::value::Serde(&v))
        })
    }
}

impl minijinja::value::Object for LazyFrame {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        if self.keys.is_empty() {
            minijinja::value::ObjectRepr::Seq
        } else {
            minijinja::value::ObjectRepr::Map
        }
    }

    fn get_value(self: &std::sync::Arc<Self>, key: &Value) -> Option<Value> {
        self.value()
            .get_item(key)
            .ok()
            .filter(|v| !v.is_undefined())
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        match self.value().try_iter() {
            Ok(items) => minijinja::value::Enumerator::Values(items.collect()),
            Err(_) => minijinja::value::Enumerator::Empty,
        }
    }

    fn enumerator_len(self: &std::sync::Arc<Self>) -> Option<usize> {
        self.value().len()
    }

    fn render(self: &std::sync::Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result
    where
        Self: Sized + 'static,
    {
        std::fmt::Display::fmt(self.value(), f)
    }
}

/// In every suppressed row, the withheld values become the phrase, so that
/// prose prints "fewer than 10 respondents" where the table prints "–".
fn mark_withheld(v: &mut serde_json::Value, phrase: &str) {
    match v {
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| mark_withheld(i, phrase)),
        serde_json::Value::Object(m) => {
            if m.get(super::disclosure::COLUMN) == Some(&serde_json::Value::Bool(true)) {
                for x in m.values_mut() {
                    if x.is_null() {
                        *x = serde_json::Value::String(phrase.to_string());
                    }
                }
            } else {
                m.values_mut().for_each(|x| mark_withheld(x, phrase));
            }
        }
        _ => {}
    }
}

/// Renders one prose segment; on failure the message and the byte offset
/// of the failing part within the segment.
pub fn render(
    env: &Environment,
    text: &str,
    values: &Value,
) -> Result<String, (String, Option<usize>)> {
    env.render_str(text, values.clone()).map_err(|e| {
        let offset = e.range().map(|r| r.start).or_else(|| {
            e.line()
                .map(|l| super::super::document::line_offset(text, l))
        });
        let mut msg = e
            .detail()
            .map_or_else(|| e.kind().to_string(), |d| format!("{}: {d}", e.kind()));
        if let Some(src) = std::error::Error::source(&e) {
            msg.push_str(&format!(" ({src})"));
        }
        (msg, offset)
    })
}

/// A short text (caption, alt text) with `{{ params.* }}` filled in.
pub fn render_params(
    env: &Environment,
    text: &str,
    params: &BTreeMap<String, serde_json::Value>,
) -> Result<String, String> {
    let v = Value::from(minijinja::value::Serde(
        serde_json::json!({ "params": params }),
    ));
    env.render_str(text, v)
        .map_err(|e| e.detail().unwrap_or("template error").to_string())
}
