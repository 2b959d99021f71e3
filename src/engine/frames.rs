//! Frames as values: JSON rows for prose and outputs, nested views by key
//! columns, and a small lossless-enough JSON form for the cache.

use polars::prelude::*;
use serde_json::{Map, Value};

/// A cell as JSON (numbers, strings, booleans, null).
pub fn cell(col: &Column, row: usize) -> Value {
    match col.get(row) {
        Ok(AnyValue::Null) | Err(_) => Value::Null,
        Ok(AnyValue::Boolean(b)) => Value::Bool(b),
        Ok(AnyValue::String(s)) => Value::String(s.to_string()),
        Ok(AnyValue::StringOwned(s)) => Value::String(s.to_string()),
        Ok(v) => match v.extract::<f64>() {
            Some(x) if x.is_finite() => {
                if v.is_integer() {
                    Value::from(x as i64)
                } else {
                    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
                }
            }
            Some(_) => Value::Null,
            None => Value::String(v.to_string()),
        },
    }
}

/// Rows as JSON objects.
pub fn rows(df: &DataFrame) -> Vec<Value> {
    let cols = df.columns();
    (0..df.height())
        .map(|r| {
            let mut m = Map::new();
            for c in cols {
                m.insert(c.name().to_string(), cell(c, r));
            }
            Value::Object(m)
        })
        .collect()
}

/// A key for nested access: lower case, non-alphanumerics as `_`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// Rows nested by the values of `keys`: `view.bristol.environment.collective`
/// is the row whose key columns are Bristol, environment, collective.
pub fn nested(df: &DataFrame, keys: &[String]) -> Value {
    let mut root = Map::new();
    for row in rows(df) {
        let mut node = &mut root;
        for (i, k) in keys.iter().enumerate() {
            let key = match row.get(k) {
                Some(Value::String(s)) => slug(s),
                Some(Value::Null) | None => "none".to_string(),
                Some(v) => slug(&v.to_string()),
            };
            if i + 1 == keys.len() {
                node.insert(key, row.clone());
                break;
            }
            let entry = node.entry(key).or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(next) = entry else { break };
            node = next;
        }
    }
    Value::Object(root)
}

/// The frame as CSV text (for download links and the data behind charts).
pub fn to_csv(df: &DataFrame) -> String {
    let mut out = String::new();
    let names: Vec<String> = df.get_column_names().iter().map(|n| csv_field(n)).collect();
    out.push_str(&names.join(","));
    out.push('\n');
    for row in rows(df) {
        let Value::Object(m) = row else { continue };
        let fields: Vec<String> = m
            .values()
            .map(|v| match v {
                Value::Null => String::new(),
                Value::String(s) => csv_field(s),
                other => other.to_string(),
            })
            .collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Serialises a frame for the cache: column names, kinds and values.
pub fn to_json(df: &DataFrame) -> Value {
    let cols: Vec<Value> = df
        .columns()
        .iter()
        .map(|c| {
            let kind = match c.dtype() {
                DataType::String => "str",
                DataType::Boolean => "bool",
                d if d.is_integer() => "int",
                _ => "float",
            };
            let values: Vec<Value> = (0..df.height()).map(|r| cell(c, r)).collect();
            serde_json::json!({ "name": c.name().as_str(), "kind": kind, "values": values })
        })
        .collect();
    serde_json::json!({ "height": df.height(), "columns": cols })
}

/// Reads a frame written by [`to_json`].
pub fn from_json(v: &Value) -> Option<DataFrame> {
    let height = v.get("height")?.as_u64()? as usize;
    let mut cols = Vec::new();
    for c in v.get("columns")?.as_array()? {
        let name = c.get("name")?.as_str()?;
        let values = c.get("values")?.as_array()?;
        let col = match c.get("kind")?.as_str()? {
            "str" => Column::new(
                name.into(),
                values
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Vec<_>>(),
            ),
            "bool" => Column::new(
                name.into(),
                values.iter().map(Value::as_bool).collect::<Vec<_>>(),
            ),
            "int" => Column::new(
                name.into(),
                values.iter().map(Value::as_i64).collect::<Vec<_>>(),
            ),
            _ => Column::new(
                name.into(),
                values.iter().map(Value::as_f64).collect::<Vec<_>>(),
            ),
        };
        cols.push(col);
    }
    DataFrame::new(height, cols).ok()
}
