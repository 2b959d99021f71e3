//! Survey data: the codebook, loading and validation of an export, the
//! co-production measures, and the calibrated synthetic survey.
//!
//! `survey` knows nothing of templates or outputs.

pub mod codebook;
pub mod init;
pub mod load;
pub mod measures;
pub mod published;
pub mod simulate;
pub mod validate;

use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;

pub use codebook::{Codebook, Role};
pub use validate::Summary;

use crate::diag::{Diagnostic, Diagnostics};

/// A survey export loaded through its codebook.
#[derive(Debug, Clone)]
pub struct Survey {
    /// The codebook it was read with.
    pub codebook: Codebook,
    /// The data file.
    pub data_path: PathBuf,
    /// One row per respondent: id, area, weight, and every variable's code.
    pub respondents: DataFrame,
    /// One row per respondent x theme with the co-production measures.
    pub long: DataFrame,
    /// Respondents per area, themes, don't-know rates.
    pub summary: Summary,
    /// Problems that did not stop the load.
    pub warnings: Vec<Diagnostic>,
    /// Whether there is a survey at all (a template may read only its own
    /// `data.frames`).
    pub loaded: bool,
    /// How long each step of loading took (read, check, frames), for `-v`.
    pub load_times: Vec<(&'static str, std::time::Duration)>,
}

impl Survey {
    /// No survey: an empty codebook and no respondents.
    pub fn none() -> Survey {
        Survey {
            codebook: Codebook::empty(),
            data_path: PathBuf::new(),
            respondents: DataFrame::empty(),
            long: DataFrame::empty(),
            summary: Summary {
                respondents: Vec::new(),
                themes: Vec::new(),
                items: Vec::new(),
            },
            warnings: Vec::new(),
            loaded: false,
            load_times: Vec::new(),
        }
    }

    /// Loads and checks `data` with the codebook at `codebook`; every problem
    /// of both files is reported at once.
    pub fn load(data: &Path, codebook: &Path) -> Result<Survey, Diagnostics> {
        let codebook = Codebook::load(codebook)?;
        Survey::load_with(data, codebook)
    }

    /// Loads and checks `data` with an already parsed codebook.
    pub fn load_with(data: &Path, codebook: Codebook) -> Result<Survey, Diagnostics> {
        Survey::read(data, codebook, |columns| load::read(data, columns))
    }

    /// Loads an export already read into memory: what is parsed is exactly
    /// the bytes the caller hashed (see [`load::read_bytes`]).
    pub fn load_bytes(
        data: &Path,
        bytes: &[u8],
        codebook: Codebook,
    ) -> Result<Survey, Diagnostics> {
        Survey::read(data, codebook, |columns| {
            load::read_bytes(data, bytes, columns)
        })
    }

    /// Loads CSV held in memory (the bundled survey); `label` names it in messages.
    pub fn from_csv_bytes(
        label: &Path,
        bytes: &[u8],
        codebook: Codebook,
    ) -> Result<Survey, Diagnostics> {
        Survey::read(label, codebook, |columns| {
            load::read_csv_from(label, bytes, columns)
        })
    }

    /// Reads the columns the codebook names with `read`, then checks them.
    fn read(
        data: &Path,
        codebook: Codebook,
        read: impl FnOnce(&load::Columns) -> Result<load::RawTable, Diagnostics>,
    ) -> Result<Survey, Diagnostics> {
        let started = std::time::Instant::now();
        let (id, numeric, text) = read_plan(&codebook);
        let table = read(&load::Columns {
            id: &id,
            numeric: &numeric,
            text: &text,
        })?;
        let read_time = started.elapsed();
        let mut survey = Survey::from_table(data, table, codebook)?;
        survey.load_times.insert(0, ("read", read_time));
        Ok(survey)
    }

    fn from_table(
        data: &Path,
        table: load::RawTable,
        codebook: Codebook,
    ) -> Result<Survey, Diagnostics> {
        let mut clock = std::time::Instant::now();
        let mut load_times = Vec::new();
        let mut lap = |what: &'static str| {
            load_times.push((what, clock.elapsed()));
            clock = std::time::Instant::now();
        };
        let (checked, problems) = validate::check(&codebook, &table);
        drop(table);
        lap("checked");
        let (errors, mut warnings): (Vec<_>, Vec<_>) =
            problems.into_iter().partition(|d| d.is_error());
        warnings.splice(0..0, codebook.warnings.iter().cloned());
        if !errors.is_empty() {
            let mut all = errors;
            all.extend(warnings);
            return Err(Diagnostics(all));
        }
        let frame_error = |e: polars::error::PolarsError| {
            Diagnostics::from(
                Diagnostic::error(format!("cannot build the survey frames: {e}"))
                    .at(data, None, None),
            )
        };
        let long = measures::long_frame(&codebook, &checked).map_err(frame_error)?;
        lap("long frame");
        let respondents = measures::respondent_frame(&codebook, &checked).map_err(frame_error)?;
        lap("respondent frame");
        let summary = validate::summarize(&codebook, &checked);
        lap("summary");
        Ok(Survey {
            codebook,
            data_path: data.to_path_buf(),
            respondents,
            long,
            summary,
            warnings,
            loaded: true,
            load_times,
        })
    }
}

/// The id column, the columns that must be numeric and those holding
/// answers as text (with their codes).
fn read_plan(
    codebook: &Codebook,
) -> (
    String,
    std::collections::HashSet<String>,
    std::collections::HashMap<String, load::TextCodes>,
) {
    let id = codebook
        .role_variable(Role::Id)
        .map(|v| v.name.clone())
        .unwrap_or_default();
    let numeric = codebook
        .variables
        .iter()
        // an `other` variable is read when it has a value set
        .filter(|v| v.role != Role::Id && (v.role != Role::Other || v.values.is_some()))
        .map(|v| v.name.clone())
        .collect();
    let mut text = std::collections::HashMap::new();
    for v in &codebook.variables {
        let codes = if v.role == Role::Area && codebook.areas.iter().any(|a| a.text.is_some()) {
            let pairs: Vec<(String, f64)> = codebook
                .areas
                .iter()
                .filter_map(|a| a.text.as_ref().map(|t| (t.clone(), a.code as f64)))
                .collect();
            Some(("the codebook's area codes".to_string(), pairs))
        } else {
            codebook
                .values_of(v)
                .filter(|set| !set.texts.is_empty())
                .map(|set| {
                    let pairs = set
                        .texts
                        .iter()
                        .enumerate()
                        .map(|(i, t)| (t.clone(), i as f64 + 1.0))
                        .collect();
                    (
                        format!(
                            "the answers of value set `{}`",
                            v.values.as_deref().unwrap_or("")
                        ),
                        pairs,
                    )
                })
        };
        if let Some((what, pairs)) = codes {
            text.insert(
                v.name.clone(),
                load::TextCodes {
                    what,
                    codes: pairs.iter().map(|(t, c)| (t.to_lowercase(), *c)).collect(),
                    answers: pairs.into_iter().map(|(t, _)| t).collect(),
                },
            );
        }
    }
    (id, numeric, text)
}

/// A number as an export writes it: whole numbers without a fraction (SPSS
/// stores every number as floating point, so an id or code is `4`, not
/// `4.0`), others as they are.
pub(crate) fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}
