//! YAML front matter: title block, typed parameters, data, disclosure.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The front matter of a template.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    /// Title (itself a minijinja template: `"Co-production in {{ params.area }}"`).
    pub title: Option<String>,
    /// Subtitle.
    pub subtitle: Option<String>,
    /// Author(s).
    pub author: Option<String>,
    /// Date shown; `today` (the default) is the render date, from
    /// `SOURCE_DATE_EPOCH` when set.
    pub date: Option<String>,
    /// Language of the document (HTML `lang`).
    #[serde(default = "default_lang")]
    pub lang: String,
    /// Typed parameters.
    #[serde(default)]
    pub params: BTreeMap<String, ParamSpec>,
    /// Where the survey data is (default: the bundled synthetic survey).
    #[serde(default)]
    pub data: DataSpec,
    /// Disclosure control.
    #[serde(default)]
    pub disclosure: Disclosure,
    /// Table of contents.
    #[serde(default = "yes")]
    pub toc: bool,
    /// Put before every table and figure number: `A` numbers an appendix's
    /// tables A1, A2, … so they are never confused with a paper's.
    #[serde(default)]
    pub number_prefix: String,
    /// Output format options, by format (passed to renderers).
    #[serde(default)]
    pub format: BTreeMap<String, serde_json::Value>,
}

fn default_lang() -> String {
    "en-GB".into()
}

fn yes() -> bool {
    true
}

/// Data files, relative to the template's directory.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    /// Survey export.
    pub survey: Option<String>,
    /// Its codebook.
    pub codebook: Option<String>,
    /// Published tables (registered as frames `published_*`).
    pub published: Option<String>,
    /// Other data by frame name (`wards: wards.csv`): CSV, Parquet or SPSS
    /// files, each a frame for `{sql}` and `{stats}` blocks.
    #[serde(default)]
    pub frames: BTreeMap<String, String>,
}

impl DataSpec {
    /// Whether a survey is loaded: unless the template names only `frames`
    /// (no `survey`, no `codebook`), the survey (by default the bundled one)
    /// is.
    pub fn needs_survey(&self) -> bool {
        self.survey.is_some() || self.codebook.is_some() || self.frames.is_empty()
    }
}

/// Disclosure control.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    /// Cells based on fewer respondents are suppressed (0 turns it off).
    #[serde(default = "ten")]
    pub min_base: u32,
    /// Whether outputs may hold one row per respondent (never by default).
    #[serde(default)]
    pub rows: Rows,
}

/// What a row of a published output may stand for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub enum Rows {
    /// Groups of respondents only: a result with a row per respondent is
    /// an error.
    #[default]
    #[serde(rename = "aggregate")]
    Aggregate,
    /// The template publishes respondent-level rows on purpose.
    #[serde(rename = "respondent-level")]
    RespondentLevel,
}

impl Default for Disclosure {
    fn default() -> Self {
        Disclosure {
            min_base: 10,
            rows: Rows::Aggregate,
        }
    }
}

fn ten() -> u32 {
    10
}

/// A declared parameter.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// Its type.
    #[serde(rename = "type", default)]
    pub ty: ParamType,
    /// Default value (a parameter without one must be given).
    pub default: Option<serde_json::Value>,
    /// Allowed values.
    pub choices: Option<Vec<serde_json::Value>>,
    /// What it means.
    pub label: Option<String>,
}

/// Parameter types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// Any text.
    #[default]
    String,
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// true or false.
    Boolean,
    /// One of the codebook's areas.
    Area,
    /// One of the codebook's themes.
    Theme,
}
