//! Display names for the measure columns, so tables and charts say
//! "Self-efficacy" rather than `efficacy`.

use std::collections::BTreeMap;

use crate::survey::Codebook;

/// The names a codebook gives: theme labels and sub-item labels, for
/// values that tables, charts and prose print (one lookup for all three).
#[derive(Clone)]
pub struct Names {
    themes: BTreeMap<String, String>,
    subs: BTreeMap<String, String>,
    /// Labels of the `other` variables (the export's own questions), by
    /// name: `respondents` columns that are no measure.
    others: BTreeMap<String, String>,
}

impl Names {
    /// The names of a codebook.
    pub fn of(codebook: &Codebook) -> Self {
        Names {
            themes: codebook
                .themes
                .iter()
                .map(|t| (t.id.clone(), t.label.clone()))
                .collect(),
            subs: codebook.sub_labels.clone(),
            others: codebook
                .variables
                .iter()
                .filter(|v| v.role == crate::survey::Role::Other && v.label != v.name)
                .map(|v| (v.name.clone(), v.label.clone()))
                .collect(),
        }
    }

    /// The codebook label of an `other` variable, for a column of that name.
    pub fn variable(&self, name: &str) -> Option<&str> {
        self.others.get(name).map(String::as_str)
    }

    /// A theme's label (an unknown id passes through).
    pub fn theme(&self, id: &str) -> String {
        self.themes
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// A sub-item's label: the codebook's `[sub_labels]`, else the id with
    /// spaces for underscores.
    pub fn sub(&self, id: &str) -> String {
        self.subs
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.replace('_', " "))
    }

    /// The display name of a measure or role column (`efficacy__crime` ->
    /// "Self-efficacy: crime"), its sub-item labelled; other names pass
    /// through.
    pub fn measure(&self, name: &str) -> String {
        let (role, sub) = match name.split_once("__") {
            Some((r, s)) => (r, Some(s)),
            None => (name, None),
        };
        let base = match role {
            "individual" => "Individual co-production",
            "collective" => "Collective co-production",
            "time" => "Willing to give time",
            "time_current" => "Time currently given",
            "time_more" => "Willing to give more time",
            "conditions" => "Local conditions",
            "sat_response" => "Satisfaction with service response",
            "sat_information" => "Satisfaction with information",
            "sat_consultation" => "Satisfaction with consultation",
            "efficacy" => "Self-efficacy",
            "age" => "Age",
            "gender" => "Gender",
            "ethnicity" => "Ethnicity",
            _ => return name.to_string(),
        };
        match sub {
            Some(s) => format!("{base}: {}", self.sub(s)),
            None => base.to_string(),
        }
    }
}

/// Columns whose values are measure names.
pub fn holds_measures(column: &str) -> bool {
    matches!(
        column,
        "variable" | "x" | "y" | "role" | "measure" | "covariate"
    )
}
