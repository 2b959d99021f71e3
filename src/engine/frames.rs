//! Frames as values: JSON rows for prose and outputs, nested views by key
//! columns, CSV for downloads, and Parquet for the cache.

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

/// The value a code cell handed on (`put("gap", x)`): the `value` of its
/// one-row frame, null when there is none.
pub fn single_value(df: &DataFrame) -> Value {
    match df.column("value") {
        Ok(c) if df.height() > 0 => cell(c, 0),
        _ => Value::Null,
    }
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

/// The frame as CSV text (for download links and the data behind charts):
/// the frame's columns in the frame's order, one record per row, written by
/// the `csv` crate (RFC 4180 quoting). Numbers are written as the shortest
/// text that reads back to the same double; missing values are empty.
pub fn to_csv(df: &DataFrame) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let cols = df.columns();
    // writing into memory cannot fail; a failure would be a bug in the csv crate
    let names = cols.iter().map(|c| c.name().as_str());
    w.write_record(names).expect("CSV into memory");
    let mut record: Vec<String> = Vec::with_capacity(cols.len());
    for r in 0..df.height() {
        record.clear();
        record.extend(cols.iter().map(|c| match cell(c, r) {
            Value::Null => String::new(),
            Value::String(s) => s,
            other => other.to_string(),
        }));
        w.write_record(&record).expect("CSV into memory");
    }
    String::from_utf8(w.into_inner().expect("CSV into memory")).expect("CSV of UTF-8 fields")
}

/// A frame as Parquet bytes (for the cache): every value, dtype and column
/// order round-trips exactly, doubles bit for bit.
pub fn to_parquet(df: &DataFrame) -> PolarsResult<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut df = df.clone();
    ParquetWriter::new(&mut bytes).finish(&mut df)?;
    Ok(bytes)
}

/// Reads a frame written by [`to_parquet`].
pub fn from_parquet(bytes: &[u8]) -> PolarsResult<DataFrame> {
    ParquetReader::new(std::io::Cursor::new(bytes)).finish()
}
