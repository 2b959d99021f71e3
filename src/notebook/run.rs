//! `coweave notebook run`: a Rust notebook's code cells executed in order
//! through one evcxr session, papermill-style: parameters are injected in a
//! cell after the one tagged `parameters`, outputs (text, HTML, SVG, PNG)
//! are written into the notebook, and a failing cell stops the run with its
//! error recorded as the cell's output.

use serde_json::{Map, Value, json};

use super::{cell, source, tags};
use crate::diag::Diagnostic;
use crate::kernel::{CellRun, Failure, Session};

/// Why a run stopped.
#[derive(Debug)]
pub struct Stopped {
    /// Index of the failing cell among all cells (0-based).
    pub cell: usize,
    /// What failed.
    pub message: String,
}

/// Parameters for the cell tagged `parameters`: each replaces the variable
/// of the same name, as a literal of the type that cell declares (`let
/// area: &str = "Bristol";`) or, without a type, of its value's kind.
pub fn injected_cell(
    path: &std::path::Path,
    nb: &Value,
    params: &[(String, String)],
) -> Result<Option<(usize, Value)>, Diagnostic> {
    if params.is_empty() {
        return Ok(None);
    }
    let cells = nb["cells"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let Some(at) = cells
        .iter()
        .position(|c| tags(c).iter().any(|t| t == "parameters"))
    else {
        return Err(Diagnostic::error(
            "--param given, but no cell of the notebook is tagged `parameters`",
        )
        .at(path, None, None)
        .hint("tag the cell that sets the defaults `parameters` (Jupyter: View > Cell Toolbar > Tags)"));
    };
    let declared = declarations(&source(&cells[at]));
    let mut code = String::from("// Injected parameters\n");
    for (name, value) in params {
        let Some((ty, default)) = declared
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, t, d)| (t, d))
        else {
            let names: Vec<&str> = declared.iter().map(|(n, _, _)| n.as_str()).collect();
            return Err(Diagnostic::error(format!(
                "--param {name}: the parameters cell (cell {}) sets no `{name}`",
                at + 1
            ))
            .at(path, None, None)
            .hint(format!("it sets: {}", names.join(", "))));
        };
        let literal = literal(ty.as_deref(), default, value).map_err(|why| {
            Diagnostic::error(format!("--param {name}={value}: {why}")).at(path, None, None)
        })?;
        match ty {
            Some(t) => code.push_str(&format!("let {name}: {t} = {literal};\n")),
            None => code.push_str(&format!("let {name} = {literal};\n")),
        }
    }
    let mut meta = Map::new();
    meta.insert("tags".into(), json!(["injected-parameters"]));
    let c = cell("code", "injected-parameters", code.trim_end(), meta);
    Ok(Some((at + 1, c)))
}

/// `let name(: type)? = value;` lines: (name, type, value text).
fn declarations(code: &str) -> Vec<(String, Option<String>, String)> {
    code.lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("let ")?;
            let rest = rest.strip_prefix("mut ").unwrap_or(rest);
            let (lhs, value) = rest.split_once('=')?;
            let value = value.trim().trim_end_matches(';').trim().to_string();
            let (name, ty) = match lhs.split_once(':') {
                Some((n, t)) => (n.trim(), Some(t.trim().to_string())),
                None => (lhs.trim(), None),
            };
            Some((name.to_string(), ty, value))
        })
        .collect()
}

/// A Rust literal for `value` as the declared type, or as the default's kind.
fn literal(ty: Option<&str>, default: &str, value: &str) -> Result<String, String> {
    let kind = match ty.map(str::trim) {
        Some("&str" | "&'static str") => "str",
        Some("String") => "string",
        Some("bool") => "bool",
        Some("f64" | "f32") => "float",
        Some(t) if t.starts_with('i') || t.starts_with('u') => "int",
        Some(t) => {
            return Err(format!(
                "parameters of type `{t}` cannot be set from the command line"
            ));
        }
        None if default.ends_with(".to_string()") || default.starts_with("String::from") => {
            "string"
        }
        None if default.starts_with('"') => "str",
        None if default == "true" || default == "false" => "bool",
        None if default.parse::<i64>().is_ok() => "int",
        None if default.parse::<f64>().is_ok() => "float",
        None => {
            return Err(format!(
                "the default `{default}` is not a literal coweave can replace; give the variable a type"
            ));
        }
    };
    Ok(match kind {
        "str" => format!("{value:?}"),
        "string" => format!("{value:?}.to_string()"),
        "bool" => match value {
            "true" | "false" => value.to_string(),
            _ => return Err("expected true or false".into()),
        },
        "int" => value
            .parse::<i128>()
            .map(|v| v.to_string())
            .map_err(|_| "expected a whole number".to_string())?,
        _ => value
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(|v| format!("{v:?}"))
            .ok_or_else(|| "expected a number".to_string())?,
    })
}

/// Runs every code cell of `nb` in order (with parameters injected), filling
/// in outputs and execution counts. Returns the executed notebook and, when
/// a cell failed, where and why (the cells after it are left unrun).
pub fn execute(
    path: &std::path::Path,
    mut nb: Value,
    params: &[(String, String)],
) -> Result<(Value, Option<Stopped>), Diagnostic> {
    let injected = injected_cell(path, &nb, params)?;
    if let Some(cells) = nb["cells"].as_array_mut() {
        // a notebook run before carries its old injected cell: replaced
        cells.retain(|c| !tags(c).iter().any(|t| t == "injected-parameters"));
        if let Some((at, c)) = injected {
            let at = at.min(cells.len());
            cells.insert(at, c);
        }
        for c in cells.iter_mut() {
            if c["cell_type"] == "code" {
                c["outputs"] = json!([]);
                c["execution_count"] = Value::Null;
            }
        }
    }
    let mut session = Session::start().map_err(|e| Diagnostic::error(e).at(path, None, None))?;
    let mut count = 0;
    let n = nb["cells"].as_array().map_or(0, Vec::len);
    for i in 0..n {
        let c = &nb["cells"][i];
        if c["cell_type"] != "code" {
            continue;
        }
        let code = source(c);
        if code.trim().is_empty() {
            continue;
        }
        count += 1;
        let (run, failure) = session.run(&code);
        let mut outputs = outputs(&run, count);
        let stopped = failure.map(|f| {
            outputs.push(error_output(&f));
            Stopped {
                cell: i,
                message: f.to_string(),
            }
        });
        nb["cells"][i]["outputs"] = Value::Array(outputs);
        nb["cells"][i]["execution_count"] = json!(count);
        if stopped.is_some() {
            return Ok((nb, stopped));
        }
    }
    Ok((nb, None))
}

/// A cell's outputs in nbformat: what it printed, then what it displayed.
fn outputs(run: &CellRun, count: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        if !text.is_empty() {
            out.push(json!({
                "name": name,
                "output_type": "stream",
                "text": super::lines(text),
            }));
        }
    }
    if !run.content.is_empty() {
        let mut data = Map::new();
        for (mime, content) in &run.content {
            let v = if mime.starts_with("text/") || mime == "image/svg+xml" {
                super::lines(content)
            } else {
                Value::String(content.clone())
            };
            data.insert(mime.clone(), v);
        }
        out.push(json!({
            "data": Value::Object(data),
            "execution_count": count,
            "metadata": {},
            "output_type": "execute_result",
        }));
    }
    out
}

/// The failure as Jupyter's error output.
fn error_output(f: &Failure) -> Value {
    let (ename, evalue, trace) = match f {
        Failure::Compile(errors) => {
            let mut trace = Vec::new();
            for e in errors {
                let at =
                    e.at.map(|(l, c)| format!(" (line {l}, column {c})"))
                        .unwrap_or_default();
                trace.push(format!("{}{at}", e.headline()));
                trace.extend(e.notes.iter().map(|n| format!("  {n}")));
            }
            ("CompilationError", f.to_string(), trace)
        }
        Failure::Panic(m) => ("Panic", m.clone(), vec![format!("panicked: {m}")]),
        Failure::Other(m) => ("Error", m.clone(), vec![m.clone()]),
    };
    json!({
        "ename": ename,
        "evalue": evalue,
        "output_type": "error",
        "traceback": trace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_take_the_declared_type() {
        let decl = declarations(
            "let area: &str = \"Bristol\";\nlet n = 10;\nlet scale = 1.5;\nlet name = \"x\".to_string();\nlet mut on = true;",
        );
        let lit = |name: &str, v: &str| {
            let (_, t, d) = decl.iter().find(|(n, _, _)| n == name).unwrap();
            literal(t.as_deref(), d, v)
        };
        assert_eq!(
            lit("area", "Tower \"Hamlets\"").unwrap(),
            "\"Tower \\\"Hamlets\\\"\""
        );
        assert_eq!(lit("n", "20").unwrap(), "20");
        assert!(lit("n", "2.5").is_err());
        assert_eq!(lit("scale", "3").unwrap(), "3.0");
        assert_eq!(lit("name", "y").unwrap(), "\"y\".to_string()");
        assert_eq!(lit("on", "false").unwrap(), "false");
        assert!(lit("on", "maybe").is_err());
    }
}
