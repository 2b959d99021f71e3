//! Display names for the measure columns, so tables and charts say
//! "Self-efficacy" rather than `efficacy`.

/// The display name of a measure or role column (`efficacy__crime` ->
/// "Self-efficacy: crime"); other names pass through.
pub fn measure(name: &str) -> String {
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
        Some(s) => format!("{base}: {}", s.replace('_', " ")),
        None => base.to_string(),
    }
}

/// Columns whose values are measure names.
pub fn holds_measures(column: &str) -> bool {
    matches!(
        column,
        "variable" | "x" | "y" | "role" | "measure" | "covariate"
    )
}
