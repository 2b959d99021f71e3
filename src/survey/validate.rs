//! Checking an export against its codebook: every problem in one pass, each
//! with its place (column, value, rows).

use std::collections::{BTreeMap, HashMap};

use super::codebook::{Codebook, Role, Variable};
use super::load::RawTable;
use crate::diag::Diagnostic;

/// An export checked against its codebook, with cells as codes.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Respondent ids, per row.
    pub ids: Vec<String>,
    /// Index into `codebook.areas` per row (`None` when the area is unknown).
    pub area: Vec<Option<usize>>,
    /// Weight per row (1 where the codebook has no weight).
    pub weight: Vec<f64>,
    /// Codes per codebook variable, in codebook order (NaN = blank or invalid).
    pub codes: Vec<Vec<f64>>,
}

/// What `coweave check` prints for a clean file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// Respondents per area, in codebook order.
    pub respondents: Vec<(String, usize)>,
    /// Themes per area.
    pub themes: Vec<(String, Vec<String>)>,
    /// Per item: (variable, respondents asked, don't-know rate, blank rate).
    pub items: Vec<ItemSummary>,
}

/// Don't-know and blank rates of one item among the respondents asked it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ItemSummary {
    /// Column name.
    pub variable: String,
    /// Respondents in the areas asked.
    pub asked: usize,
    /// Share answering "don't know".
    pub dont_know: f64,
    /// Share leaving it blank.
    pub blank: f64,
}

/// Collects rows of one kind of problem: first few places and a count.
struct Rows {
    count: usize,
    first: Vec<usize>,
    /// The value found in each of `first`, where the message shows it.
    values: Vec<String>,
}

impl Rows {
    fn new() -> Self {
        Rows {
            count: 0,
            first: Vec::new(),
            values: Vec::new(),
        }
    }
    fn add(&mut self, row: usize) {
        self.count += 1;
        if self.first.len() < 5 {
            self.first.push(row);
        }
    }
    fn add_value(&mut self, row: usize, value: f64) {
        if self.first.len() < 5 {
            self.values.push(super::number_text(value));
        }
        self.add(row);
    }
    fn describe(&self, t: &RawTable) -> String {
        let places: Vec<String> = self
            .first
            .iter()
            .enumerate()
            .map(|(i, r)| match self.values.get(i) {
                Some(v) => format!("{} {v}", t.place(*r)),
                None => t.place(*r),
            })
            .collect();
        let more = if self.count > self.first.len() {
            format!(" and {} more", self.count - self.first.len())
        } else {
            String::new()
        };
        format!("{}{more}", places.join(", "))
    }
    fn line(&self, t: &RawTable) -> Option<usize> {
        t.lines.as_ref().map(|l| l[self.first[0]] as usize)
    }
}

fn label_list(pairs: impl Iterator<Item = (i64, String)>) -> String {
    let items: Vec<String> = pairs.map(|(c, l)| format!("{c} = {l}")).collect();
    items.join(", ")
}

/// Checks `table` against `codebook`; returns the coded table and every problem.
pub fn check(codebook: &Codebook, table: &RawTable) -> (Checked, Vec<Diagnostic>) {
    let mut c = Checker {
        codebook,
        table,
        rows: table.rows(),
        problems: table.problems.clone(),
    };
    c.has_rows();
    let col_of = c.columns();
    let ids = c.ids();
    let area = c.area(&col_of);
    let weight = c.weight(&col_of);
    let codes = codebook
        .variables
        .iter()
        .zip(&col_of)
        .map(|(var, col)| c.coded(var, *col, &area))
        .collect();
    (
        Checked {
            ids,
            area,
            weight,
            codes,
        },
        c.problems,
    )
}

/// One check of a data table against a codebook, step by step, collecting
/// every problem.
struct Checker<'a> {
    codebook: &'a Codebook,
    table: &'a RawTable,
    rows: usize,
    problems: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn has_rows(&mut self) {
        let (table, path, rows) = (self.table, &self.table.path, self.rows);
        if rows == 0 {
            self.problems.push(
                Diagnostic::error("the data has a header but no respondents").at(
                    path,
                    table.lines.as_ref().map(|_| 2),
                    None,
                ),
            );
        }
    }

    /// Codebook variables missing from the data, duplicated and unknown
    /// columns; the data column of each codebook variable.
    fn columns(&mut self) -> Vec<Option<usize>> {
        let (codebook, table, path) = (self.codebook, self.table, &self.table.path);
        let mut col_of: Vec<Option<usize>> = Vec::new();
        for v in &codebook.variables {
            let col = table.column(&v.name);
            if col.is_none() {
                self.problems.push(
                    Diagnostic::error(if v.label == v.name {
                        format!("column `{}` is in the codebook but not in the data", v.name)
                    } else {
                        format!(
                            "column `{}` ({}) is in the codebook but not in the data",
                            v.name, v.label
                        )
                    })
                    .at(path, table.lines.as_ref().map(|_| 1), None)
                    .hint(format!(
                        "the codebook defines it at {}:{}",
                        codebook.path.display(),
                        v.line
                    )),
                );
            }
            col_of.push(col);
        }
        let mut seen_names: HashMap<&str, usize> = HashMap::new();
        for (i, name) in table.names.iter().enumerate() {
            if let Some(first) = seen_names.insert(name, i) {
                self.problems.push(
                    Diagnostic::error(format!(
                        "column `{name}` appears twice (columns {} and {})",
                        first + 1,
                        i + 1
                    ))
                    .at(path, table.lines.as_ref().map(|_| 1), None),
                );
            }
            if codebook.variable(name).is_none() {
                self.problems.push(
                    Diagnostic::warning(format!(
                        "column `{name}` is not in the codebook and is ignored"
                    ))
                    .at(path, table.lines.as_ref().map(|_| 1), None)
                    .hint("add it to the codebook with role = \"other\" and a value set (`values`) to keep it"),
                );
            }
        }
        col_of
    }

    /// Blank and duplicated respondent ids.
    fn ids(&mut self) -> Vec<String> {
        let (table, path, rows) = (self.table, &self.table.path, self.rows);
        if self.codebook.role_variable(Role::Id).is_none() {
            // no id column: a respondent is known by their row
            return (1..=rows).map(|r| r.to_string()).collect();
        }
        let mut ids = table.ids.clone();
        ids.resize(rows, String::new());
        if table.id_column.is_some() {
            let mut blank = Rows::new();
            let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
            for (row, id) in table.ids.iter().enumerate() {
                if id.is_empty() {
                    blank.add(row);
                } else {
                    by_id.entry(id.as_str()).or_default().push(row);
                }
            }
            if blank.count > 0 {
                self.problems.push(
                    Diagnostic::error(format!(
                        "{} respondent{} no id: {}",
                        blank.count,
                        if blank.count == 1 { " has" } else { "s have" },
                        blank.describe(table)
                    ))
                    .at(path, blank.line(table), None),
                );
            }
            let mut dups: Vec<(&str, Vec<usize>)> =
                by_id.into_iter().filter(|(_, r)| r.len() > 1).collect();
            dups.sort_by_key(|(_, r)| r[0]);
            for (id, rows_of) in dups.iter().take(20) {
                let places: Vec<String> = rows_of.iter().take(5).map(|r| table.place(*r)).collect();
                self.problems.push(
                    Diagnostic::error(format!(
                        "respondent id `{id}` is used {} times: {}",
                        rows_of.len(),
                        places.join(", ")
                    ))
                    .at(
                        path,
                        table.lines.as_ref().map(|l| l[rows_of[1]] as usize),
                        None,
                    ),
                );
            }
            if dups.len() > 20 {
                self.problems.push(
                    Diagnostic::error(format!(
                        "{} more duplicated ids not listed",
                        dups.len() - 20
                    ))
                    .at(path, None, None),
                );
            }
        }
        ids
    }

    /// The area of each row (index into the codebook's areas).
    fn area(&mut self, col_of: &[Option<usize>]) -> Vec<Option<usize>> {
        let (codebook, table, path, rows) =
            (self.codebook, self.table, &self.table.path, self.rows);
        let mut area = vec![None; rows];
        let area_var = codebook.variables.iter().position(|v| v.role == Role::Area);
        if area_var.is_none() && codebook.areas.len() == 1 {
            // a survey of one area: everyone is in it
            return vec![Some(0); rows];
        }
        if let Some(col) = area_var.and_then(|i| col_of[i]) {
            let mut unknown: BTreeMap<String, Rows> = BTreeMap::new();
            let mut blank = Rows::new();
            for (row, slot) in area.iter_mut().enumerate() {
                let v = table.cells[col][row];
                if v.is_nan() {
                    if !table.unreadable.contains(&(col, row)) {
                        blank.add(row);
                    }
                } else if let Some(i) = (v.fract() == 0.0)
                    .then(|| codebook.areas.iter().position(|a| a.code == v as i64))
                    .flatten()
                {
                    *slot = Some(i);
                } else {
                    unknown
                        .entry(super::number_text(v))
                        .or_insert_with(Rows::new)
                        .add(row);
                }
            }
            let name = &table.names[col];
            if blank.count > 0 {
                self.problems.push(
                    Diagnostic::error(format!(
                        "column `{name}`: {} respondent(s) have no area: {}",
                        blank.count,
                        blank.describe(table)
                    ))
                    .at(path, blank.line(table), None),
                );
            }
            for (code, r) in unknown {
                self.problems.push(
                    Diagnostic::error(format!(
                        "column `{name}`: area code {code} is not in the codebook ({} respondent{}): {}",
                        r.count,
                        if r.count == 1 { "" } else { "s" },
                        r.describe(table)
                    ))
                    .at(path, r.line(table), None)
                    .hint(format!(
                        "areas are {}",
                        codebook
                            .areas
                            .iter()
                            .map(|a| match &a.text {
                                Some(t) => format!("{t:?} = {}", a.name),
                                None => format!("{} = {}", a.code, a.name),
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            }
        }
        area
    }

    /// The weight of each row (1 without a weight variable).
    fn weight(&mut self, col_of: &[Option<usize>]) -> Vec<f64> {
        let (codebook, table, path, rows) =
            (self.codebook, self.table, &self.table.path, self.rows);
        let mut weight = vec![1.0; rows];
        if let Some(wi) = codebook
            .variables
            .iter()
            .position(|v| v.role == Role::Weight)
            && let Some(col) = col_of[wi]
        {
            let mut bad = Rows::new();
            let mut blank = Rows::new();
            for (row, w) in weight.iter_mut().enumerate() {
                let v = table.cells[col][row];
                if v.is_nan() {
                    blank.add(row);
                } else if v <= 0.0 {
                    bad.add(row);
                } else {
                    *w = v;
                }
            }
            let name = &table.names[col];
            if bad.count > 0 {
                self.problems.push(
                    Diagnostic::error(format!(
                        "column `{name}`: {} weight(s) are zero or negative: {}",
                        bad.count,
                        bad.describe(table)
                    ))
                    .at(path, bad.line(table), None)
                    .hint("survey weights must be greater than 0"),
                );
            }
            if blank.count > 0 {
                self.problems.push(
                    Diagnostic::error(format!(
                        "column `{name}`: {} weight(s) are missing: {}",
                        blank.count,
                        blank.describe(table)
                    ))
                    .at(path, blank.line(table), None),
                );
            }
        }
        weight
    }

    /// A variable's codes: unknown codes and answers where it was not
    /// asked are problems, and become missing.
    fn coded(&mut self, var: &Variable, col: Option<usize>, area: &[Option<usize>]) -> Vec<f64> {
        let (codebook, table, path, rows) =
            (self.codebook, self.table, &self.table.path, self.rows);
        let Some(col) = col else {
            return vec![f64::NAN; rows];
        };
        let mut values = table.cells[col].clone();
        values.resize(rows, f64::NAN);
        if matches!(var.role, Role::Id | Role::Area | Role::Weight) {
            return values;
        }
        let set = codebook.values_of(var);
        let asked: Vec<bool> = codebook
            .areas
            .iter()
            .map(|a| var.areas.contains(&a.name))
            .collect();
        let mut unknown: BTreeMap<String, Rows> = BTreeMap::new();
        let mut not_asked: BTreeMap<usize, Rows> = BTreeMap::new();
        let mut out_of_range = Rows::new();
        let mut no_band = Rows::new();
        for (row, cell) in values.iter_mut().enumerate() {
            if cell.is_nan() {
                continue;
            }
            if let Some(set) = set
                && let Some(num) = &set.numeric
            {
                let missing = cell.fract() == 0.0 && set.missing.contains(&(*cell as i64));
                if !missing {
                    if num.range.is_some_and(|(lo, hi)| *cell < lo || *cell > hi) {
                        out_of_range.add_value(row, *cell);
                        *cell = f64::NAN;
                        continue;
                    }
                    if !num.bands.is_empty() {
                        match num
                            .bands
                            .iter()
                            .position(|b| b.low <= *cell && *cell <= b.high)
                        {
                            Some(i) => *cell = i as f64 + 1.0,
                            None => {
                                no_band.add_value(row, *cell);
                                *cell = f64::NAN;
                                continue;
                            }
                        }
                    }
                }
            } else if let Some(set) = set
                && (cell.fract() != 0.0 || !set.knows(*cell as i64))
            {
                unknown
                    .entry(super::number_text(*cell))
                    .or_insert_with(Rows::new)
                    .add(row);
                *cell = f64::NAN;
                continue;
            }
            if let Some(a) = area[row]
                && !asked[a]
            {
                let missing_code = set.is_some_and(|s| s.missing.contains(&(*cell as i64)));
                if !missing_code {
                    not_asked.entry(a).or_insert_with(Rows::new).add(row);
                }
                *cell = f64::NAN;
            }
        }
        for (code, r) in unknown {
            let mut d = Diagnostic::error(format!(
                "column `{}`: code {code} is not in the codebook ({} cell{}): {}",
                var.name,
                r.count,
                if r.count == 1 { "" } else { "s" },
                r.describe(table)
            ))
            .at(path, r.line(table), None);
            if let Some(set) = set {
                d = d.hint(format!(
                    "codes of `{}` are {}",
                    var.values.as_deref().unwrap_or(""),
                    label_list(set.labels.iter().map(|(c, l)| (*c, l.clone())))
                ));
            }
            self.problems.push(d);
        }
        if let Some(num) = set.and_then(|s| s.numeric.as_ref()) {
            let set_name = var.values.as_deref().unwrap_or("");
            if out_of_range.count > 0 {
                let (lo, hi) = num.range.unwrap_or_default();
                self.problems.push(
                    Diagnostic::error(format!(
                        "column `{}`: {} value{} outside the range {lo} to {hi}: {}",
                        var.name,
                        out_of_range.count,
                        if out_of_range.count == 1 { " is" } else { "s are" },
                        out_of_range.describe(table)
                    ))
                    .at(path, out_of_range.line(table), None)
                    .hint(format!("`range` of value set `{set_name}`; codes for no answer (refused: 999) go in its `missing`")),
                );
            }
            if no_band.count > 0 {
                let bands: Vec<String> = num
                    .bands
                    .iter()
                    .map(|b| format!("{:?} = {} to {}", b.label, b.low, b.high))
                    .collect();
                self.problems.push(
                    Diagnostic::error(format!(
                        "column `{}`: {} value{} in no band: {}",
                        var.name,
                        no_band.count,
                        if no_band.count == 1 { " is" } else { "s are" },
                        no_band.describe(table)
                    ))
                    .at(path, no_band.line(table), None)
                    .hint(format!(
                        "bands of value set `{set_name}`: {}",
                        bands.join(", ")
                    )),
                );
            }
        }
        for (a, r) in not_asked {
            self.problems.push(
                Diagnostic::error(format!(
                    "column `{}` is answered by {} respondent(s) in {}, which the codebook says was not asked it: {}",
                    var.name,
                    r.count,
                    codebook.areas[a].name,
                    r.describe(table)
                ))
                .at(path, r.line(table), None)
                .hint(format!("asked in: {}", var.areas.join(", "))),
            );
        }
        values
    }
}

/// The summary of a checked table.
pub fn summarize(codebook: &Codebook, checked: &Checked) -> Summary {
    let mut per_area = vec![0usize; codebook.areas.len()];
    for a in checked.area.iter().flatten() {
        per_area[*a] += 1;
    }
    let respondents = codebook
        .areas
        .iter()
        .zip(&per_area)
        .map(|(a, n)| (a.name.clone(), *n))
        .collect();
    let themes = codebook
        .areas
        .iter()
        .map(|a| (a.name.clone(), a.themes.clone()))
        .collect();
    let mut items = Vec::new();
    for (vi, var) in codebook.variables.iter().enumerate() {
        let Some(set) = codebook.values_of(var) else {
            continue;
        };
        let mut asked = 0usize;
        let mut dk = 0usize;
        let mut blank = 0usize;
        for (row, a) in checked.area.iter().enumerate() {
            let Some(a) = a else { continue };
            if !var.areas.contains(&codebook.areas[*a].name) {
                continue;
            }
            asked += 1;
            let v = checked.codes[vi][row];
            if v.is_nan() {
                blank += 1;
            } else if set.dont_know.contains(&(v as i64)) {
                dk += 1;
            }
        }
        if asked > 0 {
            items.push(ItemSummary {
                variable: var.name.clone(),
                asked,
                dont_know: dk as f64 / asked as f64,
                blank: blank as f64 / asked as f64,
            });
        }
    }
    Summary {
        respondents,
        themes,
        items,
    }
}
