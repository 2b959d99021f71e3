//! The co-production measures, per respondent and theme (docs/measures.md).
//!
//! One row per respondent x theme of the respondent's area. Binary roles
//! (individual, collective, time) become the share of the role's items
//! answered positively (0 to 1); attitude roles become the mean score of the
//! answered items. Don't know and blank answers are missing. A role with
//! sub-items (e.g. `crime`) gets one column per sub-item, `role__sub`, beside
//! the column over all its items.

use polars::prelude::*;

use super::codebook::{Codebook, Denominator, Role, ValueSet};
use super::validate::Checked;

/// A measure column of the long frame: a role, over all its items or one sub-item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureColumn {
    /// The role measured.
    pub role: Role,
    /// The sub-item, if the column covers one.
    pub sub: Option<String>,
}

impl MeasureColumn {
    /// Column name in the long frame: `role` or `role__sub`.
    pub fn name(&self) -> String {
        match &self.sub {
            Some(s) => format!("{}__{s}", self.role.name()),
            None => self.role.name().to_string(),
        }
    }
}

/// The measure columns a codebook gives, in a stable order.
pub fn measure_columns(codebook: &Codebook) -> Vec<MeasureColumn> {
    let mut out = Vec::new();
    for (role, _) in Role::ALL {
        if !role.is_thematic() {
            continue;
        }
        let vars: Vec<_> = codebook
            .variables
            .iter()
            .filter(|v| v.role == role)
            .collect();
        if vars.is_empty() {
            continue;
        }
        out.push(MeasureColumn { role, sub: None });
        for v in vars {
            if let Some(sub) = &v.sub {
                let col = MeasureColumn {
                    role,
                    sub: Some(sub.clone()),
                };
                if !out.contains(&col) {
                    out.push(col);
                }
            }
        }
    }
    out
}

/// Builds the long frame: `id`, `area`, `theme`, `weight`, `arm`, `age`,
/// `age_from` and `age_to` (the years the age or age band covers),
/// `gender`, `ethnicity`, then one Float64 column per measure.
pub fn long_frame(codebook: &Codebook, checked: &Checked) -> PolarsResult<DataFrame> {
    let columns = measure_columns(codebook);
    let demo_roles = [Role::Age, Role::Gender, Role::Ethnicity];
    let demo_idx: Vec<Option<usize>> = demo_roles
        .iter()
        .map(|r| codebook.variables.iter().position(|v| v.role == *r))
        .collect();
    let arm_idx = codebook.variables.iter().position(|v| v.role == Role::Arm);

    // text cells borrow from the checked table and the codebook: no text
    // is copied per row before polars stores it
    let mut id: Vec<&str> = Vec::new();
    let mut area: Vec<&str> = Vec::new();
    let mut theme: Vec<&str> = Vec::new();
    let mut weight = Vec::new();
    let mut arm: Vec<Option<&str>> = Vec::new();
    let mut demo: Vec<Vec<Option<f64>>> = vec![Vec::new(); demo_roles.len()];
    // the years each respondent's age (band) covers
    let mut age_from: Vec<Option<f64>> = Vec::new();
    let mut age_to: Vec<Option<f64>> = Vec::new();
    let age_set = demo_idx[0].and_then(|vi| codebook.values_of(&codebook.variables[vi]));
    // the years of each age (band) code, worked out once per code
    let mut age_ranges: std::collections::HashMap<u64, (Option<f64>, Option<f64>)> =
        std::collections::HashMap::new();
    let sets: Vec<Option<&ValueSet>> = codebook
        .variables
        .iter()
        .map(|v| codebook.values_of(v))
        .collect();
    let mut values: Vec<Vec<Option<f64>>> = vec![Vec::new(); columns.len()];

    for t in &codebook.themes {
        // per area: the variable indices of each measure column asked there
        let plans: Vec<Vec<Vec<usize>>> = codebook
            .areas
            .iter()
            .map(|a| {
                columns
                    .iter()
                    .map(|c| {
                        codebook
                            .variables
                            .iter()
                            .enumerate()
                            .filter(|(_, v)| {
                                v.role == c.role
                                    && v.theme.as_deref() == Some(t.id.as_str())
                                    && (c.sub.is_none() || v.sub == c.sub)
                                    && v.areas.contains(&a.name)
                            })
                            .map(|(i, _)| i)
                            .collect()
                    })
                    .collect()
            })
            .collect();
        for (row, a) in checked.area.iter().enumerate() {
            let Some(a) = *a else { continue };
            let area_def = &codebook.areas[a];
            if !area_def.themes.contains(&t.id) {
                continue;
            }
            id.push(checked.ids[row].as_str());
            area.push(area_def.name.as_str());
            theme.push(t.id.as_str());
            weight.push(checked.weight[row]);
            arm.push(arm_idx.and_then(|vi| {
                let var = &codebook.variables[vi];
                let code = checked.codes[vi][row];
                if code.is_nan() || !var.areas.contains(&area_def.name) {
                    return None;
                }
                codebook.values_of(var)?.name(code as i64)
            }));
            for (k, vi) in demo_idx.iter().enumerate() {
                demo[k].push(vi.and_then(|vi| score(&sets, vi, checked.codes[vi][row])));
            }
            let (from, to) = match (age_set, demo[0].last().copied().flatten()) {
                (Some(set), Some(age)) => *age_ranges
                    .entry(age.to_bits())
                    .or_insert_with(|| set.value_range(age)),
                _ => (None, None),
            };
            age_from.push(from);
            age_to.push(to);
            for (k, col) in columns.iter().enumerate() {
                let vars = &plans[a][k];
                values[k].push(if vars.is_empty() {
                    None
                } else if col.role.is_binary_measure() {
                    share_positive(codebook, &sets, vars, checked, row, col.role)
                } else {
                    mean_score(&sets, vars, checked, row)
                });
            }
        }
    }
    let height = id.len();
    let mut cols = vec![
        Column::new("id".into(), id),
        Column::new("area".into(), area),
        Column::new("theme".into(), theme),
        Column::new("weight".into(), weight),
        Column::new("arm".into(), arm),
    ];
    for (k, r) in demo_roles.iter().enumerate() {
        cols.push(Column::new(r.name().into(), std::mem::take(&mut demo[k])));
        if *r == Role::Age {
            cols.push(Column::new(
                "age_from".into(),
                std::mem::take(&mut age_from),
            ));
            cols.push(Column::new("age_to".into(), std::mem::take(&mut age_to)));
        }
    }
    for (k, c) in columns.iter().enumerate() {
        cols.push(Column::new(c.name().into(), std::mem::take(&mut values[k])));
    }
    DataFrame::new(height, cols)
}

/// Each variable's value set, looked up once rather than per row.
type Sets<'a> = [Option<&'a ValueSet>];

fn score(sets: &Sets, vi: usize, code: f64) -> Option<f64> {
    if code.is_nan() {
        return None;
    }
    sets[vi]?.score_value(code)
}

fn share_positive(
    codebook: &Codebook,
    sets: &Sets,
    vars: &[usize],
    checked: &Checked,
    row: usize,
    role: Role,
) -> Option<f64> {
    let mut positive = 0usize;
    let mut answered = 0usize;
    for &vi in vars {
        let code = checked.codes[vi][row];
        let set = sets[vi]?;
        if code.is_nan() {
            continue;
        }
        let code = code as i64;
        if set.dont_know.contains(&code) || set.missing.contains(&code) {
            continue;
        }
        answered += 1;
        if set.positive.contains(&code) {
            positive += 1;
        }
    }
    if answered == 0 {
        return None;
    }
    let denominator = if role == Role::Individual
        && codebook.options.individual_denominator == Denominator::All
    {
        vars.len()
    } else {
        answered
    };
    Some(positive as f64 / denominator as f64)
}

fn mean_score(sets: &Sets, vars: &[usize], checked: &Checked, row: usize) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0usize);
    for s in vars
        .iter()
        .filter_map(|&vi| score(sets, vi, checked.codes[vi][row]))
    {
        sum += s;
        n += 1;
    }
    (n > 0).then(|| sum / n as f64)
}

/// Codes below this have their names in a table (above, a map lookup).
const SMALL_CODES: i64 = 1024;

/// The respondent-level frame: `id`, `area`, `weight`, `arm`, then every
/// other codebook variable as its raw code (Float64, null when blank),
/// followed, for coded answers, by `<name>_label`: the code's label or
/// answer text.
pub fn respondent_frame(codebook: &Codebook, checked: &Checked) -> PolarsResult<DataFrame> {
    let keep: Vec<usize> = (0..checked.ids.len())
        .filter(|r| checked.area[*r].is_some())
        .collect();
    let mut cols = vec![
        Column::new(
            "id".into(),
            keep.iter()
                .map(|r| checked.ids[*r].as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "area".into(),
            keep.iter()
                .map(|r| checked.area[*r].map(|a| codebook.areas[a].name.as_str()))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "weight".into(),
            keep.iter().map(|r| checked.weight[*r]).collect::<Vec<_>>(),
        ),
    ];
    for (vi, var) in codebook.variables.iter().enumerate() {
        if matches!(var.role, Role::Id | Role::Area | Role::Weight)
            || (var.role == Role::Other && var.values.is_none())
        {
            continue;
        }
        let codes = &checked.codes[vi];
        let present = |r: &usize| {
            let v = codes[*r];
            (!v.is_nan()).then_some(v)
        };
        // built straight from the codes: one allocation per column
        let vals =
            Float64Chunked::from_iter_options(var.name.as_str().into(), keep.iter().map(present));
        cols.push(vals.into_column());
        // the answer's label beside its code (`occupation_label`), so SQL
        // can group and show answers as words; not for plain numbers
        let label_name = format!("{}_label", var.name);
        let labelled = codebook
            .values_of(var)
            .filter(|set| !set.is_number())
            .filter(|_| codebook.variable(&label_name).is_none());
        if let Some(set) = labelled {
            // small codes' names looked up once, not per respondent
            let small: Vec<Option<&str>> = (0..SMALL_CODES).map(|c| set.name(c)).collect();
            let labels = StringChunked::from_iter_options(
                label_name.as_str().into(),
                keep.iter().map(|r| {
                    present(r).filter(|x| x.fract() == 0.0).and_then(|x| {
                        let code = x as i64;
                        match usize::try_from(code) {
                            Ok(i) if i < small.len() => small[i],
                            _ => set.name(code),
                        }
                    })
                }),
            );
            cols.push(labels.into_column());
        }
    }
    DataFrame::new(keep.len(), cols)
}
