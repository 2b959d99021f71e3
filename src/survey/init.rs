//! `coweave codebook init`: a draft codebook written from an export, so a
//! user starts from their own file instead of from a blank page. SPSS files
//! give variable labels, value labels, user-missing codes and measurement
//! levels; CSV and Parquet give only names and the values in the data. Roles
//! are guessed from names (id, area, weight, age, gender, ethnicity); every
//! other variable is `other`, with a comment listing the roles it could take.
//! The draft always passes `coweave check` against the file it came from.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use polars::prelude::*;

use super::load::{Format, cell_text, read_frame};
use crate::diag::{Diagnostic, Diagnostics};

/// Text columns with more different answers than this are free text and not read.
const MAX_TEXT_ANSWERS: usize = 20;
/// Unlabelled whole-number columns with at most this many different values
/// are drafted as coded answers; more, as numbers.
const MAX_CODES: usize = 12;

/// What a column holds.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// Numbers (codes or amounts).
    Number,
    /// Text.
    Text,
    /// Dates or times (SPSS date formats): not read.
    Date,
}

/// One column of the export, as the draft sees it.
#[derive(Debug, Clone)]
struct ColumnInfo {
    name: String,
    label: Option<String>,
    kind: Kind,
    /// SPSS measurement level, lower case (`nominal`, `ordinal`, `scale`).
    measure: Option<String>,
    /// SPSS value labels: code (as written in the draft) and label.
    labels: Vec<(String, String)>,
    /// SPSS user-missing codes (discrete).
    missing: Vec<String>,
    /// SPSS user-missing range.
    missing_range: Option<(f64, f64)>,
    /// Distinct non-blank values as text, with counts.
    values: BTreeMap<String, usize>,
    /// Numeric values (for numbers).
    numbers: Vec<f64>,
    /// Non-blank cells.
    filled: usize,
    rows: usize,
}

impl ColumnInfo {
    fn whole_numbers(&self) -> bool {
        self.kind == Kind::Number && self.numbers.iter().all(|x| x.fract() == 0.0)
    }

    fn unique(&self) -> bool {
        self.filled == self.rows && self.values.values().all(|&n| n == 1)
    }

    /// Codes in the data without a label.
    fn unlabelled(&self) -> Vec<&String> {
        self.values
            .keys()
            .filter(|v| {
                !self.labels.iter().any(|(k, _)| k == *v)
                    && !v.parse::<f64>().is_ok_and(|x| self.is_missing_number(x))
            })
            .collect()
    }

    /// A number with a few labelled codes (age in years with 999 =
    /// "Refused"): drafted as a number whose labelled codes are missing.
    fn mostly_unlabelled(&self) -> bool {
        self.unlabelled().len() > MAX_CODES
    }

    fn is_missing_number(&self, x: f64) -> bool {
        self.missing.iter().any(|m| m.parse::<f64>() == Ok(x))
            || self
                .missing_range
                .is_some_and(|(lo, hi)| x >= lo && x <= hi)
    }
}

/// Writes a draft codebook for the export at `path`.
pub fn draft(path: &Path) -> Result<String, Diagnostics> {
    let (columns, title) = columns(path)?;
    if columns.is_empty() {
        return Err(Diagnostic::error("the export has no columns")
            .at(path, None, None)
            .into());
    }
    Ok(write_draft(path, &columns, title))
}

fn columns(path: &Path) -> Result<(Vec<ColumnInfo>, Option<String>), Diagnostics> {
    let cannot = |e: String| Diagnostic::error(e).at(path, None, None);
    match Format::of(path) {
        Some(Format::Sav) => {
            let reader = polars_readstat_rs::spss::SpssReader::open(path)
                .map_err(|e| cannot(format!("cannot read SPSS file: {e}")))?;
            let df = reader
                .read()
                .value_labels_as_strings(false)
                .finish()
                .map_err(|e| cannot(format!("cannot read SPSS file: {e}")))?;
            let meta = reader.metadata();
            let mdf = &meta.metadata_df;
            let text_at = |col: &str, i: usize| -> Option<String> {
                mdf.column(col)
                    .ok()?
                    .str()
                    .ok()?
                    .get(i)
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
            };
            let list_at = |col: &str, i: usize| -> Vec<String> {
                let Some(Some(list)) = mdf
                    .column(col)
                    .ok()
                    .and_then(|c| c.list().ok().map(|l| l.get_as_series(i)))
                else {
                    return Vec::new();
                };
                list.str()
                    .map(|s| s.iter().map(|v| v.unwrap_or("").to_string()).collect())
                    .unwrap_or_default()
            };
            let mut out = Vec::new();
            for (i, var) in meta.variables.iter().enumerate() {
                let Ok(column) = df.column(&var.name) else {
                    continue;
                };
                let kind = if var.format_class.is_some() {
                    Kind::Date
                } else if var.var_type == polars_readstat_rs::spss::VarType::Str {
                    Kind::Text
                } else {
                    Kind::Number
                };
                let mut info = scan(&var.name, column, kind).map_err(|e| cannot(e.to_string()))?;
                info.label = text_at("label", i);
                info.measure = text_at("measure", i).map(|m| m.to_lowercase());
                let codes = list_at("value_label_codes", i);
                let labels = list_at("value_label_labels", i);
                for (code, label) in codes.iter().zip(&labels) {
                    let code = match code.parse::<f64>() {
                        Ok(x) if info.kind == Kind::Number => super::number_text(x),
                        _ => code.trim().to_string(),
                    };
                    info.labels.push((code, label.trim().to_string()));
                }
                if var.missing_range && var.missing_doubles.len() >= 2 {
                    let (a, b) = (var.missing_doubles[0], var.missing_doubles[1]);
                    info.missing_range = Some((a.min(b), a.max(b)));
                    info.missing.extend(
                        var.missing_doubles
                            .iter()
                            .skip(2)
                            .map(|x| super::number_text(*x)),
                    );
                } else {
                    info.missing
                        .extend(var.missing_doubles.iter().map(|x| super::number_text(*x)));
                }
                info.missing
                    .extend(var.missing_strings.iter().map(|s| s.trim().to_string()));
                out.push(info);
            }
            let title = reader
                .header()
                .data_label
                .clone()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            Ok((out, title))
        }
        Some(_) => {
            let bytes =
                std::fs::read(path).map_err(|e| cannot(format!("cannot read data file: {e}")))?;
            let df = read_frame(path, &bytes)?;
            let mut out = Vec::new();
            for column in df.columns() {
                let kind = match column.dtype() {
                    dt if dt.is_primitive_numeric() => Kind::Number,
                    DataType::Date | DataType::Datetime(..) | DataType::Time => Kind::Date,
                    _ => Kind::Text,
                };
                out.push(
                    scan(column.name().as_str(), column, kind)
                        .map_err(|e| cannot(e.to_string()))?,
                );
            }
            Ok((out, None))
        }
        None => Err(Diagnostic::error("unknown data file type")
            .at(path, None, None)
            .hint("use a .csv, .parquet or .sav file")
            .into()),
    }
}

fn scan(name: &str, column: &Column, kind: Kind) -> PolarsResult<ColumnInfo> {
    let rows = column.len();
    let mut values = BTreeMap::new();
    let mut numbers = Vec::new();
    let mut filled = 0;
    if kind == Kind::Number {
        let as_f64 = column.cast(&DataType::Float64)?;
        for x in as_f64.f64()?.iter().flatten() {
            if x.is_finite() {
                numbers.push(x);
            }
        }
    }
    if kind != Kind::Date {
        let text = cell_text(column)?;
        for v in text.str()?.iter().flatten() {
            let v = v.trim();
            if !v.is_empty() {
                filled += 1;
                *values.entry(v.to_string()).or_insert(0) += 1;
            }
        }
    }
    Ok(ColumnInfo {
        name: name.to_string(),
        label: None,
        kind,
        measure: None,
        labels: Vec::new(),
        missing: Vec::new(),
        missing_range: None,
        values,
        numbers,
        filled,
        rows,
    })
}

/// A number for a comment: whole numbers as they are, others to two places.
fn rounded(x: f64) -> String {
    if x.fract() == 0.0 {
        super::number_text(x)
    } else {
        format!("{x:.2}")
    }
}

/// A TOML string.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// A TOML key: bare when it can be.
fn key(s: &str) -> String {
    let bare = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { s.to_string() } else { quote(s) }
}

/// The role a name suggests, else the role its label suggests, if any.
fn guess_role(c: &ColumnInfo) -> Option<&'static str> {
    guess_role_from_name(c).or_else(|| {
        let label = c.label.as_deref()?.to_lowercase();
        let words: Vec<&str> = label
            .split(|ch: char| !ch.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let has = |w: &str| words.contains(&w);
        let coded = c.kind == Kind::Text || c.whole_numbers();
        if (has("ward") || has("district") || has("borough") || has("neighbourhood"))
            && coded
            && c.values.len() <= 200
        {
            Some("area")
        } else if (has("age") || label.contains("how old")) && coded {
            Some("age")
        } else if (has("gender") || has("sex")) && coded && c.values.len() <= MAX_TEXT_ANSWERS {
            Some("gender")
        } else if words.iter().any(|w| w.starts_with("ethnic"))
            && coded
            && c.values.len() <= MAX_TEXT_ANSWERS * 2
        {
            Some("ethnicity")
        } else {
            None
        }
    })
}

/// The role a column's name suggests, if any.
fn guess_role_from_name(c: &ColumnInfo) -> Option<&'static str> {
    let n = c.name.to_lowercase();
    let words: Vec<&str> = n.split(|ch: char| !ch.is_ascii_alphanumeric()).collect();
    let has = |w: &str| words.contains(&w);
    const IDS: [&str; 11] = [
        "id",
        "respondent_id",
        "respondentid",
        "resp_id",
        "serial",
        "caseid",
        "case_id",
        "record_id",
        "responseid",
        "response_id",
        "uuid",
    ];
    const AREAS: [&str; 11] = [
        "area",
        "ward",
        "district",
        "council",
        "borough",
        "region",
        "locality",
        "neighbourhood",
        "neighborhood",
        "authority",
        "area_name",
    ];
    if IDS.contains(&n.as_str()) && c.kind != Kind::Date && c.unique() {
        return Some("id");
    }
    if (AREAS.contains(&n.as_str()) || AREAS.iter().any(|a| has(a)))
        && c.kind != Kind::Date
        && (c.kind == Kind::Text || c.whole_numbers())
        && c.values.len() <= 200
    {
        return Some("area");
    }
    if (has("weight") || n == "wt" || n == "wgt" || n.starts_with("weight"))
        && c.kind == Kind::Number
        && c.numbers.iter().all(|&x| x >= 0.0)
    {
        return Some("weight");
    }
    if (has("age") || n == "age_years" || n == "ageband" || n == "agegroup") && c.kind != Kind::Date
    {
        return Some("age");
    }
    if (has("gender") || has("sex")) && c.kind != Kind::Date && c.values.len() <= MAX_TEXT_ANSWERS {
        return Some("gender");
    }
    if n.starts_with("ethnic") && c.kind != Kind::Date && c.values.len() <= MAX_TEXT_ANSWERS * 2 {
        return Some("ethnicity");
    }
    None
}

/// A drafted value set.
#[derive(Debug, Clone, PartialEq)]
struct Set {
    body: String,
}

/// Words in a label that mark an answer as "don't know" or missing.
fn answer_kind(label: &str) -> Option<&'static str> {
    let l = label
        .to_lowercase()
        .replace(['\u{2019}', '`'], "'")
        .trim()
        .to_string();
    const DONT_KNOW: [&str; 5] = [
        "don't know",
        "dont know",
        "do not know",
        "not sure",
        "can't say",
    ];
    const MISSING: [&str; 8] = [
        "refused",
        "prefer not to say",
        "rather not say",
        "not applicable",
        "n/a",
        "no answer",
        "missing",
        "not answered",
    ];
    if DONT_KNOW.iter().any(|w| l.starts_with(w)) || l == "dk" {
        Some("dont_know")
    } else if MISSING.iter().any(|w| l.starts_with(w)) {
        Some("missing")
    } else {
        None
    }
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// The value set a column needs, as TOML lines, and comments for the
/// variable; `None` when the column is not read.
fn value_set(c: &ColumnInfo, role: Option<&str>) -> (Option<Set>, Vec<String>) {
    let mut notes = Vec::new();
    let mut body = String::new();
    match c.kind {
        Kind::Date => {
            notes.push("a date or time: not read (coweave reads codes and numbers)".into());
            return (None, notes);
        }
        Kind::Number if !c.labels.is_empty() && !c.mostly_unlabelled() => {
            // labelled codes: every label, plus codes in the data that have none
            let mut codes: Vec<(f64, String, String)> = c
                .labels
                .iter()
                .filter_map(|(k, l)| k.parse::<f64>().ok().map(|x| (x, k.clone(), l.clone())))
                .collect();
            let mut unlabelled = Vec::new();
            for v in c.values.keys() {
                if let Ok(x) = v.parse::<f64>()
                    && !codes.iter().any(|(y, _, _)| *y == x)
                {
                    if c.is_missing_number(x) {
                        codes.push((x, v.clone(), format!("Missing ({v})")));
                    } else {
                        codes.push((x, v.clone(), v.clone()));
                        unlabelled.push(v.clone());
                    }
                }
            }
            for m in &c.missing {
                if let Ok(x) = m.parse::<f64>()
                    && !codes.iter().any(|(y, _, _)| *y == x)
                {
                    codes.push((x, m.clone(), format!("Missing ({m})")));
                }
            }
            codes.sort_by(|a, b| a.0.total_cmp(&b.0));
            let labels: Vec<String> = codes
                .iter()
                .map(|(_, k, l)| format!("{} = {}", key(k), quote(l)))
                .collect();
            let _ = writeln!(body, "labels = {{ {} }}", labels.join(", "));
            if !unlabelled.is_empty() {
                notes.push(format!(
                    "codes {} are in the data but have no label in the file",
                    unlabelled.join(", ")
                ));
            }
            let mut dont_know = Vec::new();
            let mut missing = Vec::new();
            // a "don't know" label counts as don't know even where SPSS
            // declares it missing (coweave reports don't-know rates)
            for (x, k, l) in &codes {
                match answer_kind(l) {
                    Some("dont_know") => dont_know.push(k.clone()),
                    Some(_) => missing.push(k.clone()),
                    None if c.is_missing_number(*x) => missing.push(k.clone()),
                    None => {}
                }
            }
            if !dont_know.is_empty() {
                let _ = writeln!(body, "dont_know = {}", list(&dont_know));
            }
            if !missing.is_empty() {
                let _ = writeln!(body, "missing = {}", list(&missing));
            }
            if c.measure.as_deref() == Some("ordinal") {
                let _ = writeln!(body, "ordered = true");
            }
        }
        Kind::Number
            if c.whole_numbers()
                && c.values.len() <= MAX_CODES
                && c.measure.as_deref() != Some("scale")
                && role != Some("age")
                && role != Some("weight") =>
        {
            let mut codes: Vec<(f64, &String)> = c
                .values
                .keys()
                .filter_map(|v| v.parse::<f64>().ok().map(|x| (x, v)))
                .collect();
            codes.sort_by(|a, b| a.0.total_cmp(&b.0));
            let labels: Vec<String> = codes
                .iter()
                .map(|(_, v)| format!("{} = {}", key(v), quote(v)))
                .collect();
            let _ = writeln!(body, "labels = {{ {} }}", labels.join(", "));
            notes.push(
                "the file gives no labels: write each code's answer text in its value set".into(),
            );
        }
        Kind::Number => {
            let _ = writeln!(body, "numeric = true");
            let substantive: Vec<f64> = c
                .numbers
                .iter()
                .copied()
                .filter(|&x| {
                    !c.is_missing_number(x)
                        && !c.labels.iter().any(|(k, _)| k.parse::<f64>() == Ok(x))
                })
                .collect();
            if let (Some(lo), Some(hi)) = (
                substantive.iter().copied().reduce(f64::min),
                substantive.iter().copied().reduce(f64::max),
            ) {
                let _ = writeln!(
                    body,
                    "# the data run from {} to {}: set `range = [low, high]` to the valid values",
                    rounded(lo),
                    rounded(hi)
                );
            }
            let mut missing = c.missing.clone();
            for (k, l) in &c.labels {
                if !missing.contains(k) {
                    missing.push(k.clone());
                }
                notes.push(format!("the file labels {k} \"{l}\": drafted as missing"));
            }
            if !missing.is_empty() {
                let _ = writeln!(body, "missing = {}", list(&missing));
            }
            if let Some((lo, hi)) = c.missing_range {
                notes.push(format!(
                    "the file declares {} to {} missing: list the codes the data use in `missing`",
                    super::number_text(lo),
                    super::number_text(hi)
                ));
                let used: Vec<String> = c
                    .numbers
                    .iter()
                    .filter(|&&x| x >= lo && x <= hi)
                    .map(|&x| super::number_text(x))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                if !used.is_empty() && missing.is_empty() {
                    let _ = writeln!(body, "missing = {}", list(&used));
                }
            }
            if role == Some("age") {
                let _ = writeln!(
                    body,
                    "# bands = {{ \"18-34\" = [18, 34], \"35-54\" = [35, 54], \"55 or over\" = [55, 120] }}"
                );
            }
        }
        Kind::Text => {
            let answers = fold_texts(&c.values);
            if answers.len() > MAX_TEXT_ANSWERS || (c.unique() && c.rows > 1) {
                notes.push(format!(
                    "free text ({} different answers): not read",
                    answers.len()
                ));
                return (None, notes);
            }
            if !c.labels.is_empty() {
                // SPSS string value labels: the codes are the texts in the data
                notes.push("the file labels these answers; the draft keeps the texts".into());
            }
            let mut texts = answers;
            for m in &c.missing {
                if !m.is_empty() && !texts.iter().any(|t| t.eq_ignore_ascii_case(m)) {
                    texts.push(m.clone());
                }
            }
            let quoted: Vec<String> = texts.iter().map(|t| quote(t)).collect();
            let _ = writeln!(
                body,
                "# in alphabetical order: put the answers in the scale's order (the first is code 1)"
            );
            let _ = writeln!(body, "text = {}", list(&quoted));
            let mut dont_know = Vec::new();
            let mut missing = Vec::new();
            for t in &texts {
                if c.missing.iter().any(|m| m.eq_ignore_ascii_case(t)) {
                    missing.push(quote(t));
                } else {
                    match answer_kind(t) {
                        Some("dont_know") => dont_know.push(quote(t)),
                        Some(_) => missing.push(quote(t)),
                        None => {}
                    }
                }
            }
            if !dont_know.is_empty() {
                let _ = writeln!(body, "dont_know = {}", list(&dont_know));
            }
            if !missing.is_empty() {
                let _ = writeln!(body, "missing = {}", list(&missing));
            }
        }
    }
    (Some(Set { body }), notes)
}

/// Distinct answers matched as coweave matches them (trimmed, any case),
/// each written as its most frequent spelling, in alphabetical order.
fn fold_texts(values: &BTreeMap<String, usize>) -> Vec<String> {
    let mut groups: BTreeMap<String, Vec<(&String, usize)>> = BTreeMap::new();
    for (v, n) in values {
        groups.entry(v.to_lowercase()).or_default().push((v, *n));
    }
    groups
        .into_values()
        .map(|spellings| {
            // most frequent; ties to the first in sort order (BTreeMap order)
            let best =
                spellings
                    .iter()
                    .fold(None::<(&String, usize)>, |best, &(v, n)| match best {
                        Some((_, m)) if m >= n => best,
                        _ => Some((v, n)),
                    });
            best.map(|(v, _)| v.clone()).unwrap_or_default()
        })
        .collect()
}

/// A value-set name from a variable name.
fn set_name(name: &str) -> String {
    let mut s: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "set_");
    }
    s
}

fn write_draft(path: &Path, columns: &[ColumnInfo], title: Option<String>) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default();
    let stem = path
        .file_stem()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_else(|| "survey".into());

    // roles: at most one id, area, weight, age, gender, ethnicity
    let mut roles: Vec<Option<&'static str>> = Vec::new();
    let mut taken = BTreeSet::new();
    for c in columns {
        let role = guess_role(c).filter(|r| taken.insert(*r));
        roles.push(role);
    }

    let mut sets: Vec<(String, Set)> = Vec::new();
    let mut vars = String::new();
    let mut area_lines = String::new();
    for (c, role) in columns.iter().zip(&roles) {
        let _ = writeln!(vars, "\n[[variables]]");
        let _ = writeln!(vars, "name = {}", quote(&c.name));
        match role {
            Some(r @ ("id" | "weight")) => {
                let _ = writeln!(vars, "role = {}", quote(r));
                if let Some(l) = &c.label {
                    let _ = writeln!(vars, "label = {}", quote(l));
                }
                continue;
            }
            Some("area") => {
                let _ = writeln!(vars, "role = \"area\"");
                if let Some(l) = &c.label {
                    let _ = writeln!(vars, "label = {}", quote(l));
                }
                let labelled: BTreeMap<&str, &str> = c
                    .labels
                    .iter()
                    .map(|(k, l)| (k.as_str(), l.as_str()))
                    .collect();
                if c.filled < c.rows {
                    let _ = writeln!(
                        vars,
                        "# {} row(s) have no {}: every respondent needs an area, so `coweave check` lists them; fill them in the export (for example \"Not known\") and add that area below",
                        c.rows - c.filled,
                        c.name
                    );
                }
                let folded = fold_texts(&c.values);
                let mut codes: Vec<&String> = if c.kind == Kind::Text {
                    folded.iter().collect()
                } else {
                    c.values.keys().collect()
                };
                if c.kind == Kind::Number {
                    codes.sort_by(|a, b| {
                        let x: f64 = a.parse().unwrap_or(f64::NAN);
                        let y: f64 = b.parse().unwrap_or(f64::NAN);
                        x.total_cmp(&y)
                    });
                }
                for code in codes {
                    let name = labelled.get(code.as_str()).copied().unwrap_or(code);
                    let _ = writeln!(area_lines, "\n[[areas]]");
                    if c.kind == Kind::Number {
                        let _ = writeln!(area_lines, "code = {code}");
                    } else {
                        let _ = writeln!(area_lines, "code = {}", quote(code));
                    }
                    let _ = writeln!(area_lines, "name = {}", quote(name));
                }
                continue;
            }
            _ => {}
        }
        let reserved = role.is_none() && ["id", "area", "weight"].contains(&c.name.as_str());
        let (set, notes) = if reserved {
            let note = format!(
                "coweave keeps the name `{0}` for the {1}: give this column role = \"{0}\" if it is one; otherwise rename the column in the export to read it",
                c.name,
                match c.name.as_str() {
                    "id" => "respondent id",
                    "area" => "area",
                    _ => "survey weight",
                }
            );
            (None, vec![note])
        } else {
            value_set(c, *role)
        };
        let role_name = match (role, &set) {
            (Some(r), Some(_)) => r,
            _ => "other",
        };
        let _ = writeln!(vars, "role = {}", quote(role_name));
        if role_name == "other" && set.is_some() {
            let _ = writeln!(
                vars,
                "# other roles: individual, collective, time, conditions, sat_response, sat_information, sat_consultation, efficacy (with a theme), arm"
            );
        }
        if let Some(l) = &c.label {
            let _ = writeln!(vars, "label = {}", quote(l));
        }
        for n in &notes {
            let _ = writeln!(vars, "# {n}");
        }
        if let Some(set) = set {
            let name = match sets.iter().find(|(_, s)| *s == set) {
                Some((n, _)) => n.clone(),
                None => {
                    let mut n = set_name(&c.name);
                    while sets.iter().any(|(m, _)| *m == n) {
                        n.push('_');
                    }
                    sets.push((n.clone(), set));
                    n
                }
            };
            let _ = writeln!(vars, "values = {}", quote(&name));
        }
    }
    if area_lines.is_empty() {
        let _ = writeln!(
            area_lines,
            "\n# No area column: every respondent belongs to this one area.\n[[areas]]\nname = {}",
            quote(&stem)
        );
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Draft codebook for {file}, written by `coweave codebook init`.\n\
         # Roles were guessed from column names (and SPSS variable labels) and value sets from the data{}.\n\
         # Read every line before you rely on it, then run `coweave check`.\n\
         # docs/codebook.md explains each key.",
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("sav"))
        {
            " and the file's labels"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "\n[survey]");
    let title = title.unwrap_or_else(|| format!("Survey from {file}"));
    let _ = writeln!(out, "title = {}", quote(&title));
    let _ = writeln!(
        out,
        "# \"real\", \"synthetic\" or \"illustrative\": reports say so when the data are not real"
    );
    let lower = title.to_lowercase();
    let kind = if ["synthetic", "simulated", "fictional", "made-up"]
        .iter()
        .any(|w| lower.contains(w))
    {
        "synthetic"
    } else {
        "real"
    };
    let _ = writeln!(out, "data = {}", quote(kind));
    out.push_str(&area_lines);
    if !sets.is_empty() {
        let _ = writeln!(out, "\n# ---- Value sets ----");
        for (name, set) in &sets {
            let _ = writeln!(out, "\n[value_sets.{}]", key(name));
            out.push_str(&set.body);
        }
    }
    let _ = writeln!(out, "\n# ---- Variables ----");
    out.push_str(&vars);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, label: Option<&str>, kind: Kind, values: &[&str]) -> ColumnInfo {
        let mut counts = BTreeMap::new();
        for v in values {
            *counts.entry(v.to_string()).or_insert(0) += 1;
        }
        ColumnInfo {
            name: name.into(),
            label: label.map(str::to_string),
            kind: kind.clone(),
            measure: None,
            labels: Vec::new(),
            missing: Vec::new(),
            missing_range: None,
            numbers: if kind == Kind::Number {
                values.iter().filter_map(|v| v.parse().ok()).collect()
            } else {
                Vec::new()
            },
            filled: values.len(),
            rows: values.len(),
            values: counts,
        }
    }

    #[test]
    fn answers_differing_only_in_case_are_one_answer_in_its_usual_spelling() {
        let c = column(
            "q",
            None,
            Kind::Text,
            &["Often", "often", "OFTEN", "Often", "Never", "never"],
        );
        assert_eq!(fold_texts(&c.values), ["Never", "Often"]);
    }

    #[test]
    fn labels_say_which_answers_are_dont_know_or_missing() {
        assert_eq!(answer_kind("Don\u{2019}t know"), Some("dont_know"));
        assert_eq!(answer_kind("Not sure"), Some("dont_know"));
        assert_eq!(answer_kind("Refused"), Some("missing"));
        assert_eq!(answer_kind("Prefer not to say"), Some("missing"));
        assert_eq!(answer_kind("No Opinion"), None);
        assert_eq!(answer_kind("Agree"), None);
    }

    #[test]
    fn roles_come_from_names_then_labels_and_only_where_the_data_fit() {
        let ids = column("serial", None, Kind::Number, &["1", "2", "3"]);
        assert_eq!(guess_role(&ids), Some("id"));
        // a repeated "id" is no id
        let dup = column("id", None, Kind::Number, &["1", "1", "3"]);
        assert_eq!(guess_role(&dup), None);
        let ward = column(
            "q2",
            Some("Which ward do you live in?"),
            Kind::Text,
            &["North"],
        );
        assert_eq!(guess_role(&ward), Some("area"));
        let age = column("q9", Some("How old are you?"), Kind::Number, &["34", "71"]);
        assert_eq!(guess_role(&age), Some("age"));
        // "average" holds no word "age"; a fractional amount is no area code
        let avg = column("q3", Some("Average spend"), Kind::Number, &["3.5"]);
        assert_eq!(guess_role(&avg), None);
        let body = column("weight", None, Kind::Number, &["-1", "70.5"]);
        assert_eq!(
            guess_role(&body),
            None,
            "negative values are no survey weight"
        );
    }

    #[test]
    fn set_names_are_toml_keys() {
        assert_eq!(set_name("Q1 Recycle"), "q1_recycle");
        assert_eq!(set_name("1st"), "set_1st");
        assert_eq!(key("a b"), "\"a b\"");
        assert_eq!(key("18-34"), "18-34");
    }
}
