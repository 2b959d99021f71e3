//! The codebook: what a survey export contains and what each column means.
//!
//! Parsed from TOML (format: `docs/codebook.md`). Every problem in a codebook
//! is reported with its line and column, all of them in one pass.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Diagnostic, Diagnostics};

/// What a variable is for in the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Respondent identifier (exactly one).
    Id,
    /// Area code (exactly one); codes are the `[[areas]]`.
    Area,
    /// Survey weight (at most one).
    Weight,
    /// Nudge trial arm (at most one).
    Arm,
    /// Age (ordered bands).
    Age,
    /// Gender.
    Gender,
    /// Ethnic group.
    Ethnicity,
    /// An individual co-production activity item of a theme.
    Individual,
    /// The collective item of a theme (joins groups with others).
    Collective,
    /// Time willing to give to a theme.
    Time,
    /// Time currently given to a theme.
    TimeCurrent,
    /// Additional time willing to give to a theme.
    TimeMore,
    /// Perceived local conditions on a theme.
    Conditions,
    /// Satisfaction with the public service response.
    SatResponse,
    /// Satisfaction with information.
    SatInformation,
    /// Satisfaction with consultation.
    SatConsultation,
    /// "How much difference can citizens make" (political self-efficacy).
    Efficacy,
    /// Carried along, not analysed.
    Other,
}

impl Role {
    /// All roles with their codebook names, in the order measures are laid out.
    pub const ALL: [(Role, &'static str); 18] = [
        (Role::Id, "id"),
        (Role::Area, "area"),
        (Role::Weight, "weight"),
        (Role::Arm, "arm"),
        (Role::Age, "age"),
        (Role::Gender, "gender"),
        (Role::Ethnicity, "ethnicity"),
        (Role::Individual, "individual"),
        (Role::Collective, "collective"),
        (Role::Time, "time"),
        (Role::TimeCurrent, "time_current"),
        (Role::TimeMore, "time_more"),
        (Role::Conditions, "conditions"),
        (Role::SatResponse, "sat_response"),
        (Role::SatInformation, "sat_information"),
        (Role::SatConsultation, "sat_consultation"),
        (Role::Efficacy, "efficacy"),
        (Role::Other, "other"),
    ];

    /// The role's name as written in the codebook and in measure columns.
    pub fn name(self) -> &'static str {
        Role::ALL
            .iter()
            .find(|(r, _)| *r == self)
            .map_or("other", |(_, n)| n)
    }

    fn parse(s: &str) -> Option<Role> {
        Role::ALL.iter().find(|(_, n)| *n == s).map(|(r, _)| *r)
    }

    /// Roles that belong to a theme.
    pub fn is_thematic(self) -> bool {
        matches!(
            self,
            Role::Individual
                | Role::Collective
                | Role::Time
                | Role::TimeCurrent
                | Role::TimeMore
                | Role::Conditions
                | Role::SatResponse
                | Role::SatInformation
                | Role::SatConsultation
                | Role::Efficacy
        )
    }

    /// Roles measured as "share of items answered positively" (0 to 1).
    pub fn is_binary_measure(self) -> bool {
        matches!(
            self,
            Role::Individual | Role::Collective | Role::Time | Role::TimeCurrent | Role::TimeMore
        )
    }

    /// Roles measured as a score (attitudes and demographics).
    pub fn is_scored(self) -> bool {
        matches!(
            self,
            Role::Conditions
                | Role::SatResponse
                | Role::SatInformation
                | Role::SatConsultation
                | Role::Efficacy
                | Role::Age
                | Role::Gender
                | Role::Ethnicity
        )
    }

    fn needs_values(self) -> bool {
        !matches!(self, Role::Id | Role::Area | Role::Weight | Role::Other)
    }
}

/// How the individual index treats don't-know and blank answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Denominator {
    /// Share of the items the respondent answered (default).
    Answered,
    /// Share of all items asked; a don't-know or blank counts as "no".
    All,
}

/// Codebook-wide options.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Options {
    /// Denominator rule of the individual index.
    pub individual_denominator: Denominator,
    /// Disclosure threshold: smallest base a published cell may rest on.
    pub min_base: u32,
}

/// A study area (a council's citizens' panel).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Area {
    /// Code in the area column (for text codes: the area's position, from 1).
    pub code: i64,
    /// The text in the area column, where areas are coded by text
    /// (`code = "North"`).
    pub text: Option<String>,
    /// Display name.
    pub name: String,
    /// Theme ids the area asked about.
    pub themes: Vec<String>,
    /// Whether the area ran the nudge trial.
    pub nudge: bool,
}

/// A theme (a public service domain).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Theme {
    /// Identifier used in data and results, e.g. `community_safety`.
    pub id: String,
    /// Display label.
    pub label: String,
}

/// Answer codes of a question and what they mean.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ValueSet {
    /// Value labels by code.
    pub labels: BTreeMap<i64, String>,
    /// Codes that count as a positive answer ("often", "sometimes").
    pub positive: BTreeSet<i64>,
    /// "Don't know" codes (missing, but counted apart).
    pub dont_know: BTreeSet<i64>,
    /// Other missing codes (refused, prefer not to say, not asked).
    pub missing: BTreeSet<i64>,
    /// Score used in analysis per code (default: the code itself).
    pub scores: BTreeMap<i64, f64>,
    /// Short names per code (used for arms: none, A, B, AB).
    pub names: BTreeMap<i64, String>,
    /// Labels of the scores, where codes are scored into fewer groups
    /// (ethnic group scored 0 "White British", 1 "Ethnic minority").
    pub score_labels: BTreeMap<i64, String>,
    /// Whether the codes are in a meaningful order (age bands): ordered
    /// groups are compared by a rank statistic, unordered ones by a
    /// chi-square test.
    pub ordered: bool,
    /// The answers as the export writes them, for a text-coded set
    /// (`text = [...]`): code 1 is the first.
    pub texts: Vec<String>,
    /// Whether the analysis score runs opposite to the codes.
    pub reverse: bool,
    /// For a numeric set (`numeric = true`): its valid range and bands.
    pub numeric: Option<Numeric>,
}

/// A numeric value set: numbers analysed as numbers, or as bands.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Numeric {
    /// Smallest and largest valid value.
    pub range: Option<(f64, f64)>,
    /// Bands (inclusive bounds, by lower bound); band `i` is analysed as
    /// code `i + 1`, labelled in `labels`.
    pub bands: Vec<Band>,
}

/// One band of a numeric value set.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Band {
    /// Label ("35-54").
    pub label: String,
    /// Lower bound (inclusive).
    pub low: f64,
    /// Upper bound (inclusive).
    pub high: f64,
}

impl ValueSet {
    /// Whether a code is declared (labelled or a missing code).
    pub fn knows(&self, code: i64) -> bool {
        self.labels.contains_key(&code) || self.missing.contains(&code)
    }

    /// Whether the set holds numbers analysed as numbers (no bands).
    pub fn is_number(&self) -> bool {
        self.numeric.as_ref().is_some_and(|n| n.bands.is_empty())
    }

    /// The code of a text answer (trimmed, any case), for a text-coded set.
    pub fn text_code(&self, text: &str) -> Option<i64> {
        let t = text.trim();
        self.texts
            .iter()
            .position(|x| x.to_lowercase() == t.to_lowercase())
            .map(|i| i as i64 + 1)
    }

    /// How a code is written in messages: `3` or `"Agree"`.
    pub fn show_code(&self, code: i64) -> String {
        match usize::try_from(code - 1)
            .ok()
            .and_then(|i| self.texts.get(i))
        {
            Some(t) => format!("{t:?}"),
            None => code.to_string(),
        }
    }

    /// The score of a code before any `reverse`.
    fn raw_score(&self, code: i64) -> f64 {
        self.scores.get(&code).copied().unwrap_or(code as f64)
    }

    /// Smallest plus largest score of the answers (neither don't know nor
    /// missing): a reversed score is this minus the raw score.
    fn reverse_sum(&self) -> Option<f64> {
        let scores: Vec<f64> = self
            .labels
            .keys()
            .filter(|c| !self.dont_know.contains(c) && !self.missing.contains(c))
            .map(|c| self.raw_score(*c))
            .collect();
        let lo = scores.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo.is_finite() && hi.is_finite()).then_some(lo + hi)
    }

    /// The analysis score of a code, `None` for don't know and missing codes.
    pub fn score(&self, code: i64) -> Option<f64> {
        if self.dont_know.contains(&code) || self.missing.contains(&code) {
            return None;
        }
        let s = self.raw_score(code);
        if self.reverse {
            return self.reverse_sum().map(|sum| sum - s);
        }
        Some(s)
    }

    /// The analysis score of a value as stored in the checked data: a
    /// number of a numeric set is itself; a code goes through [`score`].
    ///
    /// [`score`]: ValueSet::score
    pub fn score_value(&self, value: f64) -> Option<f64> {
        if value.is_nan() {
            return None;
        }
        if self.is_number() {
            let missing = value.fract() == 0.0 && self.missing.contains(&(value as i64));
            return (!missing).then_some(value);
        }
        self.score(value as i64)
    }

    /// The short name of a code, falling back to its label.
    pub fn name(&self, code: i64) -> Option<&str> {
        self.names
            .get(&code)
            .or_else(|| self.labels.get(&code))
            .map(String::as_str)
    }

    /// The label of an analysed value: a score's label where the set scores
    /// its codes, else the label of the code with that score.
    pub fn value_label(&self, value: f64) -> Option<&str> {
        if value.fract() != 0.0 {
            return None;
        }
        if !self.score_labels.is_empty() {
            return self.score_labels.get(&(value as i64)).map(String::as_str);
        }
        self.labels
            .iter()
            .find(|(c, _)| self.score(**c) == Some(value))
            .map(|(_, l)| l.as_str())
    }

    /// The ages (or other quantities) an analysed value stands for: from
    /// and to, inclusive, `None` where open or unknown. A number stands for
    /// itself; a band of a numeric set for its bounds; a labelled band
    /// ("25-34", "65 or over") runs from the number its label starts with
    /// to just before the next band's.
    pub fn value_range(&self, value: f64) -> (Option<f64>, Option<f64>) {
        if value.is_nan() {
            return (None, None);
        }
        if self.is_number() {
            return (Some(value), Some(value));
        }
        if let Some(num) = &self.numeric {
            return match usize::try_from(value as i64 - 1)
                .ok()
                .and_then(|i| num.bands.get(i))
            {
                Some(b) => (Some(b.low), Some(b.high)),
                None => (None, None),
            };
        }
        let ordered = self.by_score();
        let Some(i) = ordered.iter().position(|(s, _)| *s == value) else {
            return (None, None);
        };
        let from = leading_number(ordered[i].1);
        let to = ordered
            .get(i + 1)
            .and_then(|(_, l)| leading_number(l))
            .map(|next| next - 1.0);
        (from, to)
    }

    /// The labels of the answers in score order, lowest first (codes that
    /// are neither don't know nor missing).
    pub fn by_score(&self) -> Vec<(f64, &str)> {
        let mut out: Vec<(f64, &str)> = self
            .labels
            .iter()
            .filter_map(|(c, l)| self.score(*c).map(|s| (s, l.as_str())))
            .collect();
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }
}

/// The number a label starts with: 25 in "25-34", 65 in "65 or over".
fn leading_number(label: &str) -> Option<f64> {
    let digits: String = label
        .trim()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Which way a label points: `Some(true)` for a positive answer ("very
/// satisfied", "a big difference"), `Some(false)` for a negative one.
fn polarity(label: &str) -> Option<bool> {
    let l = label.to_lowercase();
    const NEGATIVE: [&str; 14] = [
        "dissatisf",
        "disagree",
        "poor",
        "bad",
        "no difference",
        "not at all",
        "never",
        "none",
        "unlikely",
        "worse",
        "unsafe",
        "not ",
        "unhappy",
        "terrible",
    ];
    const POSITIVE: [&str; 13] = [
        "satisf",
        "agree",
        "good",
        "excellent",
        "big difference",
        "great",
        "a lot",
        "always",
        "often",
        "likely",
        "better",
        "safe",
        "happy",
    ];
    if NEGATIVE.iter().any(|w| l.contains(w)) {
        Some(false)
    } else if POSITIVE.iter().any(|w| l.contains(w)) {
        Some(true)
    } else {
        None
    }
}

/// One column of the export.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Variable {
    /// Column name.
    pub name: String,
    /// What it is for.
    pub role: Role,
    /// Theme id, for thematic roles.
    pub theme: Option<String>,
    /// Sub-item within the theme (e.g. `crime`), if the theme asked several.
    pub sub: Option<String>,
    /// Variable label.
    pub label: String,
    /// Question wording.
    pub question: Option<String>,
    /// Name of its value set.
    pub values: Option<String>,
    /// Areas that were asked this variable.
    pub areas: Vec<String>,
    /// Control code, for the arm variable.
    pub control: Option<i64>,
    /// Line of its definition in the codebook.
    pub line: usize,
}

/// Whether a survey's answers come from real respondents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataKind {
    /// Real respondents (the default).
    Real,
    /// Simulated respondents calibrated to published figures.
    Synthetic,
    /// Simulated respondents with made-up targets: not to be quoted.
    Illustrative,
}

/// What a survey is, for the words around the numbers (`[survey]`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SurveyInfo {
    /// Title.
    pub title: String,
    /// How prose names it ("the citizens' panel survey"; default "the survey").
    pub name: String,
    /// Real, synthetic or illustrative data.
    pub data: DataKind,
    /// A sentence the data banner adds (e.g. where the targets come from).
    pub notice: Option<String>,
    /// What one area is ("council area", "country"; default "area").
    pub unit: String,
    /// Who its reports are for ("councillors and service leads"; default
    /// "decision makers").
    pub audience: String,
}

impl SurveyInfo {
    /// The plural of `unit` ("council areas", "countries").
    pub fn units(&self) -> String {
        let u = self.unit.as_str();
        match u.strip_suffix('y') {
            Some(stem) if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) => format!("{stem}ies"),
            _ if u.ends_with('s') || u.ends_with("ch") || u.ends_with("sh") => format!("{u}es"),
            _ => format!("{u}s"),
        }
    }

    /// The banner every output of non-real data carries; `None` for real data.
    pub fn banner(&self) -> Option<Banner> {
        let (head, body) = match self.data {
            DataKind::Real => return None,
            DataKind::Synthetic => (
                "Synthetic data.",
                "Every figure in this report is computed from simulated respondents, calibrated to published results; none is a finding of a real survey.",
            ),
            DataKind::Illustrative => (
                "Illustrative synthetic data.",
                "Every figure in this report is computed from simulated respondents with illustrative targets; these are not published figures and must not be quoted.",
            ),
        };
        let body = match &self.notice {
            Some(n) => format!("{body} {}", n.trim()),
            None => body.to_string(),
        };
        Some(Banner {
            head: head.to_string(),
            body,
        })
    }
}

/// The data banner: a bold head ("Synthetic data.") and what it means.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Banner {
    /// The kind of data, as a short sentence.
    pub head: String,
    /// What that means for the figures, and the codebook's `notice`.
    pub body: String,
}

impl Banner {
    /// Head and body as one text.
    pub fn text(&self) -> String {
        format!("{} {}", self.head, self.body)
    }
}

/// A parsed and checked codebook.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Codebook {
    /// Where it was read from.
    pub path: PathBuf,
    /// What the survey is: title, how prose names it, whether its data are
    /// real, and who reads its reports.
    pub survey: SurveyInfo,
    /// Options.
    pub options: Options,
    /// Areas in codebook order.
    pub areas: Vec<Area>,
    /// Themes in codebook order.
    pub themes: Vec<Theme>,
    /// Value sets by name.
    pub value_sets: BTreeMap<String, ValueSet>,
    /// Variables in codebook order.
    pub variables: Vec<Variable>,
    /// Labels of the sub-items (`anti_social_behaviour` → "anti-social
    /// behaviour"), for prose, tables and charts.
    pub sub_labels: BTreeMap<String, String>,
    /// Problems that do not stop the codebook from being used (a scale
    /// whose labels run against its scores).
    pub warnings: Vec<Diagnostic>,
}

impl Codebook {
    /// The codebook of no survey (a template that reads only its own
    /// `data.frames`): no areas, themes or variables.
    pub fn empty() -> Codebook {
        Codebook {
            path: PathBuf::new(),
            survey: SurveyInfo {
                title: String::new(),
                name: "the data".into(),
                data: DataKind::Real,
                notice: None,
                unit: "area".into(),
                audience: "decision makers".into(),
            },
            options: Options {
                individual_denominator: Denominator::Answered,
                min_base: 10,
            },
            areas: Vec::new(),
            themes: Vec::new(),
            value_sets: BTreeMap::new(),
            variables: Vec::new(),
            sub_labels: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    /// Reads and checks a codebook file.
    pub fn load(path: &Path) -> Result<Codebook, Diagnostics> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostic::error(format!("cannot read codebook: {e}")).at(path, None, None)
        })?;
        Codebook::parse(path, &text)
    }

    /// Parses and checks codebook text; `path` is used in messages only.
    pub fn parse(path: &Path, text: &str) -> Result<Codebook, Diagnostics> {
        let raw: RawCodebook = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim().to_string();
            let d = Diagnostic::error(format!("malformed codebook: {msg}"));
            match e.span() {
                Some(span) => d.at_offset(path, text, span.start),
                None => d.at(path, None, None),
            }
        })?;
        Resolver {
            path,
            text,
            problems: Vec::new(),
            notes: Vec::new(),
        }
        .resolve(raw)
    }

    /// The single variable with a role, e.g. the id column.
    pub fn role_variable(&self, role: Role) -> Option<&Variable> {
        self.variables.iter().find(|v| v.role == role)
    }

    /// Looks up a variable by column name.
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name == name)
    }

    /// Looks up an area by code.
    pub fn area_by_code(&self, code: i64) -> Option<&Area> {
        self.areas.iter().find(|a| a.code == code)
    }

    /// Looks up an area by name.
    pub fn area(&self, name: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.name == name)
    }

    /// The value set of a variable.
    pub fn values_of(&self, var: &Variable) -> Option<&ValueSet> {
        var.values.as_ref().and_then(|n| self.value_sets.get(n))
    }

    /// Theme label for an id (the id itself if unknown).
    pub fn theme_label<'a>(&'a self, id: &'a str) -> &'a str {
        self.themes
            .iter()
            .find(|t| t.id == id)
            .map_or(id, |t| t.label.as_str())
    }
}

// ---- raw serde form -------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCodebook {
    survey: Option<RawSurvey>,
    #[serde(default)]
    options: RawOptions,
    areas: Option<Vec<RawArea>>,
    themes: Option<Vec<RawTheme>>,
    #[serde(default)]
    value_sets: BTreeMap<String, Spanned<RawValueSet>>,
    variables: Option<Vec<Spanned<RawVariable>>>,
    #[serde(default)]
    sub_labels: BTreeMap<Spanned<String>, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSurvey {
    title: String,
    name: Option<String>,
    data: Option<Spanned<String>>,
    notice: Option<String>,
    unit: Option<String>,
    audience: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawOptions {
    individual_denominator: Option<Spanned<String>>,
    min_base: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArea {
    code: Option<Spanned<Code>>,
    name: Spanned<String>,
    #[serde(default)]
    themes: Vec<Spanned<String>>,
    #[serde(default)]
    nudge: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    id: Spanned<String>,
    label: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValueSet {
    #[serde(default)]
    labels: BTreeMap<Spanned<String>, String>,
    text: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    positive: Vec<Spanned<Code>>,
    #[serde(default)]
    dont_know: Vec<Spanned<Code>>,
    #[serde(default)]
    missing: Vec<Spanned<Code>>,
    #[serde(default)]
    scores: BTreeMap<Spanned<String>, f64>,
    #[serde(default)]
    names: BTreeMap<Spanned<String>, String>,
    #[serde(default)]
    score_labels: BTreeMap<Spanned<String>, String>,
    #[serde(default)]
    ordered: bool,
    #[serde(default)]
    reverse: bool,
    #[serde(default)]
    numeric: bool,
    range: Option<Spanned<[f64; 2]>>,
    #[serde(default)]
    bands: BTreeMap<Spanned<String>, Spanned<[f64; 2]>>,
}

/// A code as written in the codebook: a number, or an answer's text.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
enum Code {
    Number(i64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariable {
    name: Spanned<String>,
    role: Spanned<String>,
    theme: Option<Spanned<String>>,
    sub: Option<String>,
    label: Option<String>,
    question: Option<String>,
    values: Option<Spanned<String>>,
    areas: Option<Vec<Spanned<String>>>,
    control: Option<Spanned<Code>>,
}

struct Resolver<'a> {
    path: &'a Path,
    text: &'a str,
    problems: Vec<Diagnostic>,
    /// Problems that do not stop the load (`coweave check --strict` makes
    /// them errors).
    notes: Vec<Diagnostic>,
}

impl Resolver<'_> {
    fn err(&mut self, offset: usize, message: String) -> &mut Diagnostic {
        self.problems
            .push(Diagnostic::error(message).at_offset(self.path, self.text, offset));
        self.problems.last_mut().expect("just pushed")
    }

    fn codes<V>(&mut self, map: BTreeMap<Spanned<String>, V>, what: &str) -> BTreeMap<i64, V> {
        let mut out = BTreeMap::new();
        for (k, v) in map {
            match k.get_ref().trim().parse::<i64>() {
                Ok(code) => {
                    out.insert(code, v);
                }
                Err(_) => {
                    self.err(
                        k.span().start,
                        format!(
                            "{what} key `{}` is not a whole-number answer code",
                            k.get_ref()
                        ),
                    );
                }
            }
        }
        out
    }

    /// A top-level section the codebook lacks.
    fn missing_section(&mut self, section: &str, what: &str) {
        self.problems.push(
            Diagnostic::error(format!("the codebook has no {section} section"))
                .at(self.path, None, None)
                .hint(format!("{what} (docs/codebook.md has a complete example)")),
        );
    }

    fn resolve(mut self, raw: RawCodebook) -> Result<Codebook, Diagnostics> {
        let survey = match raw.survey {
            Some(s) => Some(self.survey(s)),
            None => {
                self.missing_section(
                    "`[survey]`",
                    "add `[survey]` with at least `title = \"...\"`",
                );
                None
            }
        };
        let options = self.options(raw.options);
        if raw.themes.is_none() {
            // a survey without themes (not about co-production) needs none;
            // one whose areas or variables name themes does
            let mut named: BTreeSet<&str> = BTreeSet::new();
            for a in raw.areas.iter().flatten() {
                named.extend(a.themes.iter().map(|t| t.get_ref().as_str()));
            }
            for v in raw.variables.iter().flatten() {
                named.extend(v.get_ref().theme.as_ref().map(|t| t.get_ref().as_str()));
            }
            if !named.is_empty() {
                let list: Vec<&str> = named.into_iter().collect();
                self.missing_section(
                    "`[[themes]]`",
                    &format!(
                        "areas and variables name themes ({}): add one `[[themes]]` table per theme, each with `id` and `label`",
                        list.join(", ")
                    ),
                );
            }
        }
        if raw.areas.is_none() {
            self.missing_section(
                "`[[areas]]`",
                "add one `[[areas]]` table per area with `name` and `themes` (and `code`, its code in the area column); a survey of one area has one",
            );
        }
        if raw.variables.is_none() {
            self.missing_section(
                "`[[variables]]`",
                "add one `[[variables]]` table per column of the export, each with `name` and `role`",
            );
        }
        let themes = self.themes(raw.themes.unwrap_or_default());
        let theme_ids: Vec<String> = themes.iter().map(|t| t.id.clone()).collect();
        let raw_areas = raw.areas.unwrap_or_default();
        let raw_variables = raw.variables.unwrap_or_default();
        let has_area_variable = raw_variables
            .iter()
            .any(|v| v.get_ref().role.get_ref() == "area");
        let areas = self.areas(raw_areas, &theme_ids, has_area_variable);
        let value_sets = self.value_sets(raw.value_sets);
        let mut variables: Vec<Variable> = Vec::new();
        let mut seen: HashMap<String, (usize, Option<String>)> = HashMap::new();
        for sv in raw_variables {
            let known = Known {
                theme_ids: &theme_ids,
                value_sets: &value_sets,
                areas: &areas,
            };
            if let Some(v) = self.variable(sv, &mut seen, &known) {
                variables.push(v);
            }
        }
        self.check_roles(&variables);
        let mut sub_labels = BTreeMap::new();
        for (id, label) in raw.sub_labels {
            if !variables
                .iter()
                .any(|v| v.sub.as_ref() == Some(id.get_ref()))
            {
                let known: Vec<&str> = variables.iter().filter_map(|v| v.sub.as_deref()).collect();
                let d = self.err(
                    id.span().start,
                    format!("sub_labels: no variable has sub-item `{}`", id.get_ref()),
                );
                *d = d.clone().suggest(id.get_ref(), &known, "sub-items");
            }
            sub_labels.insert(id.into_inner(), label);
        }
        let mut warnings = std::mem::take(&mut self.notes);
        warnings.extend(self.directions(&variables, &value_sets));
        match survey {
            Some(survey) if self.problems.is_empty() => Ok(Codebook {
                path: self.path.to_path_buf(),
                survey,
                options,
                areas,
                themes,
                value_sets,
                variables,
                sub_labels,
                warnings,
            }),
            _ => Err(Diagnostics(self.problems)),
        }
    }

    /// A warning for each attitude scale whose labels run against its
    /// scores: in coweave a higher score is the more positive answer.
    fn directions(
        &self,
        variables: &[Variable],
        value_sets: &BTreeMap<String, ValueSet>,
    ) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let mut done = BTreeSet::new();
        for v in variables {
            let attitude =
                v.role.is_scored() && !matches!(v.role, Role::Age | Role::Gender | Role::Ethnicity);
            let Some(name) = v.values.as_ref().filter(|_| attitude) else {
                continue;
            };
            let Some(set) = value_sets.get(name) else {
                continue;
            };
            if !done.insert(name.clone()) {
                continue;
            }
            let ordered = set.by_score();
            let (Some((lo_score, lo)), Some((hi_score, hi))) = (ordered.first(), ordered.last())
            else {
                continue;
            };
            if polarity(lo) == Some(true) && polarity(hi) == Some(false) {
                let fix = if set.reverse {
                    "remove `reverse = true`"
                } else {
                    "add `reverse = true`"
                };
                let users: Vec<&str> = variables
                    .iter()
                    .filter(|x| x.values.as_ref() == Some(name))
                    .map(|x| x.name.as_str())
                    .collect();
                let mut d = Diagnostic::warning(format!(
                    "value set `{name}` scores {lo:?} lowest ({lo_score}) and {hi:?} highest ({hi_score}): a higher score would mean a less positive answer for {}",
                    users.join(", ")
                ))
                .hint(format!(
                    "coweave scores the more positive answer higher; {fix} in [value_sets.{name}] so that correlations keep their sign"
                ));
                d = match set_line(self.text, name) {
                    Some(offset) => d.at_offset(self.path, self.text, offset),
                    None => d.at(self.path, None, None),
                };
                out.push(d);
            }
        }
        out
    }

    fn survey(&mut self, raw: RawSurvey) -> SurveyInfo {
        let data = match raw.data {
            None => DataKind::Real,
            Some(s) => match s.get_ref().as_str() {
                "real" => DataKind::Real,
                "synthetic" => DataKind::Synthetic,
                "illustrative" => DataKind::Illustrative,
                other => {
                    self.err(s.span().start, format!("unknown survey data `{other}`"))
                        .hints
                        .push("use \"real\", \"synthetic\" or \"illustrative\"".into());
                    DataKind::Real
                }
            },
        };
        SurveyInfo {
            title: raw.title,
            name: raw.name.unwrap_or_else(|| "the survey".into()),
            data,
            notice: raw.notice,
            unit: raw.unit.unwrap_or_else(|| "area".into()),
            audience: raw.audience.unwrap_or_else(|| "decision makers".into()),
        }
    }

    fn options(&mut self, raw: RawOptions) -> Options {
        let individual_denominator = match raw.individual_denominator {
            None => Denominator::Answered,
            Some(s) => match s.get_ref().as_str() {
                "answered" => Denominator::Answered,
                "all" => Denominator::All,
                other => {
                    self.err(
                        s.span().start,
                        format!("unknown individual_denominator `{other}`"),
                    )
                    .hints
                    .push("use \"answered\" or \"all\"".into());
                    Denominator::Answered
                }
            },
        };
        Options {
            individual_denominator,
            min_base: raw.min_base.unwrap_or(10),
        }
    }

    fn themes(&mut self, raw: Vec<RawTheme>) -> Vec<Theme> {
        let mut themes = Vec::new();
        for t in raw {
            if themes.iter().any(|x: &Theme| x.id == *t.id.get_ref()) {
                self.err(
                    t.id.span().start,
                    format!("theme `{}` is defined twice", t.id.get_ref()),
                );
                continue;
            }
            themes.push(Theme {
                id: t.id.into_inner(),
                label: t.label,
            });
        }
        themes
    }

    fn areas(
        &mut self,
        raw: Vec<RawArea>,
        theme_ids: &[String],
        has_area_variable: bool,
    ) -> Vec<Area> {
        let mut areas: Vec<Area> = Vec::new();
        let text_coded = raw
            .iter()
            .find_map(|a| a.code.as_ref())
            .is_some_and(|c| matches!(c.get_ref(), Code::Text(_)));
        if !has_area_variable && raw.len() > 1 {
            self.problems.push(
                Diagnostic::error(format!(
                    "the codebook has {} `[[areas]]` but no `area` variable to tell respondents' areas apart",
                    raw.len()
                ))
                .at(self.path, None, None)
                .hint("add the area column as a variable with role = \"area\", or keep one `[[areas]]` entry for a survey of one area"),
            );
        }
        for (i, a) in raw.into_iter().enumerate() {
            let (code, text) = match a.code.as_ref().map(|c| (c.get_ref(), c.span().start)) {
                Some((Code::Number(n), at)) => {
                    if text_coded {
                        self.err(at, format!("area `{}` has the number {n} as code but other areas have text codes", a.name.get_ref()))
                            .hints
                            .push("give every area the same kind of code: all numbers or all texts".into());
                    }
                    (*n, None)
                }
                Some((Code::Text(t), at)) => {
                    if !text_coded {
                        self.err(at, format!("area `{}` has the text {t:?} as code but other areas have number codes", a.name.get_ref()))
                            .hints
                            .push("give every area the same kind of code: all numbers or all texts".into());
                    }
                    (i as i64 + 1, Some(t.trim().to_string()))
                }
                None => {
                    if has_area_variable {
                        self.err(
                            a.name.span().start,
                            format!(
                                "area `{}` needs a `code`: the number or text the area column holds for it",
                                a.name.get_ref()
                            ),
                        );
                    }
                    (i as i64 + 1, None)
                }
            };
            if let Some(prev) = areas
                .iter()
                .find(|x| a.code.is_some() && x.code == code && x.text == text)
            {
                let at = a
                    .code
                    .as_ref()
                    .map_or(a.name.span().start, |c| c.span().start);
                let shown = text.as_ref().map_or(code.to_string(), |t| format!("{t:?}"));
                self.err(
                    at,
                    format!(
                        "area code {shown} is used twice (`{}` and `{}`)",
                        prev.name,
                        a.name.get_ref()
                    ),
                );
            } else if let Some(t) = &text
                && let Some(prev) = areas.iter().find(|x| {
                    x.text
                        .as_ref()
                        .is_some_and(|xt| xt.to_lowercase() == t.to_lowercase())
                })
            {
                let at = a
                    .code
                    .as_ref()
                    .map_or(a.name.span().start, |c| c.span().start);
                self.err(
                    at,
                    format!("area code {t:?} is used twice (`{}` and `{}`); text codes are matched in any case", prev.name, a.name.get_ref()),
                );
            }
            if areas.iter().any(|x| x.name == *a.name.get_ref()) {
                self.err(
                    a.name.span().start,
                    format!("area `{}` is defined twice", a.name.get_ref()),
                );
            }
            let mut area_themes = Vec::new();
            for t in a.themes {
                // without a [[themes]] section that one problem is reported
                if !theme_ids.is_empty() && !theme_ids.contains(t.get_ref()) {
                    self.err(
                        t.span().start,
                        format!(
                            "area `{}` names unknown theme `{}`",
                            a.name.get_ref(),
                            t.get_ref()
                        ),
                    )
                    .hints
                    .push(format!("themes defined: {}", theme_ids.join(", ")));
                }
                area_themes.push(t.into_inner());
            }
            areas.push(Area {
                code,
                text,
                name: a.name.into_inner(),
                themes: area_themes,
                nudge: a.nudge,
            });
        }
        areas
    }

    fn value_sets(
        &mut self,
        raw: BTreeMap<String, Spanned<RawValueSet>>,
    ) -> BTreeMap<String, ValueSet> {
        let mut value_sets = BTreeMap::new();
        for (name, vs) in raw {
            let start = vs.span().start;
            let vs = vs.into_inner();
            if let Some(set) = self.value_set(&name, start, vs) {
                value_sets.insert(name, set);
            }
        }
        value_sets
    }

    /// One value set: coded by numbers (`labels`), by text (`text`), or
    /// numeric (`numeric = true`).
    fn value_set(&mut self, name: &str, start: usize, vs: RawValueSet) -> Option<ValueSet> {
        let kinds = [
            (!vs.labels.is_empty(), "labels"),
            (vs.text.is_some(), "text"),
            (vs.numeric, "numeric = true"),
        ];
        let given: Vec<&str> = kinds.iter().filter(|k| k.0).map(|k| k.1).collect();
        if given.len() > 1 {
            self.err(
                start,
                format!(
                    "value set `{name}` has both {}: give one",
                    given.join(" and ")
                ),
            )
            .hints
            .push("`labels` for number codes, `text` for answers written as text, `numeric = true` for numbers such as ages".into());
            return None;
        }
        if given.is_empty() {
            self.err(start, format!("value set `{name}` has no labels"))
                .hints
                .push("give `labels = { 1 = \"...\" }` for number codes, `text = [\"...\"]` for answers written as text, or `numeric = true` for numbers such as ages".into());
            return None;
        }
        let texts: Vec<String> = match &vs.text {
            Some(list) => {
                let mut out: Vec<String> = Vec::new();
                for t in list {
                    let v = t.get_ref().trim().to_string();
                    if v.is_empty() {
                        self.err(t.span().start, format!("value set `{name}`: an empty text is not an answer (a blank cell is missing already)"));
                    } else if out.iter().any(|x| x.to_lowercase() == v.to_lowercase()) {
                        self.err(t.span().start, format!("value set `{name}` lists {v:?} twice (texts are matched in any case)"));
                    }
                    out.push(v);
                }
                out
            }
            None => Vec::new(),
        };
        let mut labels: BTreeMap<i64, String> = if vs.text.is_some() {
            texts
                .iter()
                .enumerate()
                .map(|(i, t)| (i as i64 + 1, t.clone()))
                .collect()
        } else {
            self.codes(vs.labels, "value label")
        };
        // a code as the set writes it: a number, or one of its texts
        let code_of = |c: &Spanned<Code>, this: &mut Self, what: &str| -> Option<i64> {
            match (c.get_ref(), vs.text.is_some()) {
                (Code::Number(n), false) => Some(*n),
                (Code::Text(t), true) => match texts
                    .iter()
                    .position(|x| x.to_lowercase() == t.trim().to_lowercase())
                {
                    Some(i) => Some(i as i64 + 1),
                    None if what == "missing" => None,
                    None => {
                        let d = this.err(
                            c.span().start,
                            format!(
                                "{what} answer {t:?} is not in the `text` of value set `{name}`"
                            ),
                        );
                        let known: Vec<&str> = texts.iter().map(String::as_str).collect();
                        *d = d.clone().suggest(t, &known, "answers");
                        None
                    }
                },
                (Code::Text(t), false) => {
                    this.err(
                        c.span().start,
                        format!("value set `{name}` is coded by numbers; {what} {t:?} is text"),
                    )
                    .hints
                    .push(
                        "list its codes as numbers, or write the answers as `text = [...]`".into(),
                    );
                    None
                }
                (Code::Number(n), true) => {
                    this.err(
                        c.span().start,
                        format!("value set `{name}` is coded by text; {what} {n} is a number"),
                    )
                    .hints
                    .push(format!(
                        "name the answer as written in `text`, e.g. {:?}",
                        texts.first().map_or("", String::as_str)
                    ));
                    None
                }
            }
        };
        let mut set_of = |list: &[Spanned<Code>], what: &str, this: &mut Self| {
            let mut out = BTreeSet::new();
            for c in list {
                if what == "missing"
                    && vs.text.is_some()
                    && let Code::Text(t) = c.get_ref()
                    && !texts
                        .iter()
                        .any(|x| x.to_lowercase() == t.trim().to_lowercase())
                {
                    // a missing answer need not be listed in `text`: it gets the next code
                    let code = labels.keys().max().copied().unwrap_or(0) + 1;
                    labels.insert(code, t.trim().to_string());
                    out.insert(code);
                    continue;
                }
                let Some(code) = code_of(c, this, what) else {
                    continue;
                };
                if what != "missing" && !labels.contains_key(&code) && !vs.numeric {
                    this.err(
                        c.span().start,
                        format!("{what} code {code} of value set `{name}` has no label"),
                    );
                }
                out.insert(code);
            }
            out
        };
        let positive = set_of(&vs.positive, "positive", self);
        let dont_know = set_of(&vs.dont_know, "dont_know", self);
        let missing = set_of(&vs.missing, "missing", self);
        let mut texts = texts;
        for (code, label) in &labels {
            if vs.text.is_some() && *code as usize > texts.len() {
                texts.push(label.clone());
            }
        }
        let scores = if vs.text.is_some() {
            let mut out = BTreeMap::new();
            for (k, v) in vs.scores {
                match texts
                    .iter()
                    .position(|x| x.to_lowercase() == k.get_ref().trim().to_lowercase())
                {
                    Some(i) => {
                        out.insert(i as i64 + 1, v);
                    }
                    None => {
                        self.err(
                            k.span().start,
                            format!(
                                "score key {:?} is not in the `text` of value set `{name}`",
                                k.get_ref()
                            ),
                        );
                    }
                }
            }
            out
        } else {
            self.codes(vs.scores, "score")
        };
        let names = self.codes(vs.names, "name");
        let score_labels = self.codes(vs.score_labels, "score label");
        if !score_labels.is_empty() {
            for score in scores.values() {
                if score.fract() != 0.0 || !score_labels.contains_key(&(*score as i64)) {
                    self.err(
                        start,
                        format!("score {score} of value set `{name}` has no score label"),
                    );
                }
            }
        }
        let numeric = if vs.numeric {
            if !vs.positive.is_empty() || !vs.dont_know.is_empty() {
                self.err(
                    start,
                    format!("numeric value set `{name}` takes no `positive` or `dont_know` codes"),
                )
                .hints
                .push("list codes that mean no answer (refused: 999) as `missing`".into());
            }
            Some(self.numeric(name, vs.range, vs.bands, &mut labels))
        } else {
            for (what, given) in [
                ("range", vs.range.is_some()),
                ("bands", !vs.bands.is_empty()),
            ] {
                if given {
                    self.err(
                        start,
                        format!("`{what}` is for numeric value sets; `{name}` has codes"),
                    )
                    .hints
                    .push("add `numeric = true` for numbers such as ages or counts".into());
                }
            }
            None
        };
        let banded = numeric.as_ref().is_some_and(|n| !n.bands.is_empty());
        Some(ValueSet {
            labels,
            positive,
            dont_know,
            missing,
            scores,
            names,
            score_labels,
            ordered: vs.ordered || banded,
            texts: if vs.text.is_some() { texts } else { Vec::new() },
            reverse: vs.reverse,
            numeric,
        })
    }

    /// The range and bands of a numeric set; band `i` is labelled as code `i + 1`.
    fn numeric(
        &mut self,
        name: &str,
        range: Option<Spanned<[f64; 2]>>,
        bands: BTreeMap<Spanned<String>, Spanned<[f64; 2]>>,
        labels: &mut BTreeMap<i64, String>,
    ) -> Numeric {
        let range = range.map(|r| {
            let [lo, hi] = *r.get_ref();
            if lo > hi {
                self.err(
                    r.span().start,
                    format!("range of value set `{name}` runs from {lo} down to {hi}"),
                );
            }
            (lo, hi)
        });
        let mut list: Vec<(Band, usize)> = bands
            .into_iter()
            .map(|(label, b)| {
                let [low, high] = *b.get_ref();
                (
                    Band {
                        label: label.into_inner(),
                        low,
                        high,
                    },
                    b.span().start,
                )
            })
            .collect();
        list.sort_by(|a, b| a.0.low.total_cmp(&b.0.low));
        for i in 0..list.len() {
            let (band, at) = (&list[i].0, list[i].1);
            if band.low > band.high {
                let msg = format!(
                    "band {:?} of value set `{name}` runs from {} down to {}",
                    band.label, band.low, band.high
                );
                self.err(at, msg);
            }
            if let Some((prev, _)) = i.checked_sub(1).map(|j| &list[j])
                && prev.high >= band.low
            {
                let msg = format!(
                    "bands {:?} and {:?} of value set `{name}` overlap",
                    prev.label, band.label
                );
                self.err(at, msg);
            }
        }
        for (i, (band, _)) in list.iter().enumerate() {
            labels.insert(i as i64 + 1, band.label.clone());
        }
        Numeric {
            range,
            bands: list.into_iter().map(|(b, _)| b).collect(),
        }
    }

    /// One variable, checked against what the codebook defines; `None` when
    /// it cannot be used (the problem is recorded).
    fn variable(
        &mut self,
        sv: Spanned<RawVariable>,
        seen: &mut HashMap<String, (usize, Option<String>)>,
        known: &Known,
    ) -> Option<Variable> {
        let (theme_ids, value_sets, areas) = (known.theme_ids, known.value_sets, known.areas);
        let start = sv.span().start;
        let v = sv.into_inner();
        let line = crate::diag::line_col(self.text, start).0;
        let name = v.name.get_ref().clone();
        let theme_name = v.theme.as_ref().map(|t| t.get_ref().clone());
        if let Some((prev_line, prev_theme)) = seen.get(&name) {
            let msg = match (&theme_name, prev_theme) {
                (Some(t), Some(p)) if t != p => format!(
                    "variable `{name}` is in two themes: `{p}` (line {prev_line}) and `{t}`"
                ),
                _ => format!("variable `{name}` is defined twice (first at line {prev_line})"),
            };
            self.err(v.name.span().start, msg);
            return None;
        }
        seen.insert(name.clone(), (line, theme_name.clone()));
        let Some(role) = Role::parse(v.role.get_ref()) else {
            let all: Vec<&str> = Role::ALL.iter().map(|(_, n)| *n).collect();
            self.err(
                v.role.span().start,
                format!("unknown role `{}` for variable `{name}`", v.role.get_ref()),
            )
            .hints
            .push(format!("roles: {}", all.join(", ")));
            return None;
        };
        // theme
        match (&v.theme, role.is_thematic()) {
            (None, true) => {
                self.err(
                    v.role.span().start,
                    format!("variable `{name}` has role `{}` but no theme", role.name()),
                );
            }
            (Some(t), false) => {
                self.err(
                    t.span().start,
                    format!(
                        "variable `{name}` has role `{}`, which takes no theme",
                        role.name()
                    ),
                );
            }
            (Some(t), true) if !theme_ids.is_empty() && !theme_ids.contains(t.get_ref()) => {
                self.err(
                    t.span().start,
                    format!("variable `{name}` names unknown theme `{}`", t.get_ref()),
                )
                .hints
                .push(format!("themes defined: {}", theme_ids.join(", ")));
            }
            _ => {}
        }
        // value set
        match (&v.values, role.needs_values()) {
            (None, true) => {
                self.err(
                    v.name.span().start,
                    format!(
                        "variable `{name}` (role `{}`) needs `values`, the name of its value set",
                        role.name()
                    ),
                );
            }
            (Some(vs), _) => match value_sets.get(vs.get_ref()) {
                None => {
                    let known: Vec<&str> = value_sets.keys().map(String::as_str).collect();
                    self.err(
                        vs.span().start,
                        format!(
                            "variable `{name}` uses unknown value set `{}`",
                            vs.get_ref()
                        ),
                    )
                    .hints
                    .push(format!("value sets defined: {}", known.join(", ")));
                }
                Some(set) if role.is_binary_measure() && set.positive.is_empty() => {
                    self.err(vs.span().start, format!("variable `{name}` (role `{}`) needs a value set with `positive` codes; `{}` has none", role.name(), vs.get_ref()));
                }
                Some(_) => {}
            },
            _ => {}
        }
        let mut control = None;
        if let Some(c) = &v.control {
            let set = v.values.as_ref().and_then(|n| value_sets.get(n.get_ref()));
            let code = match (c.get_ref(), set) {
                (Code::Number(n), _) => Some(*n),
                (Code::Text(t), Some(set)) => set.text_code(t),
                (Code::Text(_), None) => None,
            };
            if role != Role::Arm {
                self.err(
                    c.span().start,
                    format!("`control` is only for the arm variable, not `{name}`"),
                );
            } else if let Some(set) = set
                && code.is_none_or(|code| !set.labels.contains_key(&code))
            {
                let shown = match c.get_ref() {
                    Code::Number(n) => n.to_string(),
                    Code::Text(t) => format!("{t:?}"),
                };
                self.err(
                    c.span().start,
                    format!("control code {shown} has no label in the arm value set"),
                );
            }
            control = code;
        } else if role == Role::Arm {
            self.err(
                v.role.span().start,
                format!("the arm variable `{name}` needs `control`, the code of the no-nudge arm"),
            );
        }
        if let Some(vs) = &v.values
            && let Some(set) = value_sets.get(vs.get_ref())
            && set.numeric.is_some()
            && matches!(role, Role::Arm | Role::Gender | Role::Ethnicity)
        {
            self.err(
                vs.span().start,
                format!(
                    "variable `{name}` (role `{}`) needs coded answers; `{}` is numeric",
                    role.name(),
                    vs.get_ref()
                ),
            );
        }
        // areas asked
        let asked: Vec<String> = match &v.areas {
            Some(list) => {
                let mut out = Vec::new();
                for a in list {
                    match areas.iter().find(|x| x.name == *a.get_ref()) {
                        None => {
                            self.err(
                                a.span().start,
                                format!("variable `{name}` names unknown area `{}`", a.get_ref()),
                            );
                        }
                        Some(area) => {
                            if let Some(t) = &theme_name
                                && !area.themes.contains(t)
                            {
                                self.err(a.span().start, format!("variable `{name}` of theme `{t}` is asked in `{}`, which does not cover that theme", area.name));
                            }
                            out.push(area.name.clone());
                        }
                    }
                }
                out
            }
            None => areas
                .iter()
                .filter(|a| theme_name.as_ref().is_none_or(|t| a.themes.contains(t)))
                .map(|a| a.name.clone())
                .collect(),
        };
        // the respondent frame names its first columns id, area and weight
        let reserved = [
            (Role::Id, "id", "the respondent id"),
            (Role::Area, "area", "the area's name"),
            (Role::Weight, "weight", "the survey weight"),
        ];
        // an `other` variable without values is not read, so its name is
        // free; a warning still asks whether it is the column it is named like
        let read = role != Role::Other || v.values.is_some();
        if let Some((want, _, what)) = reserved
            .iter()
            .find(|(r, n, _)| !read && *n == name && *r != role)
        {
            self.notes.push(
                Diagnostic::warning(format!(
                    "variable `{name}` has role `other` and no value set, so it is not read; coweave looks for {what} in the variable with role `{}`",
                    want.name()
                ))
                .at_offset(self.path, self.text, v.name.span().start)
                .hint(format!("if `{name}` is {what}, give it role = \"{}\"", want.name())),
            );
        }
        if let Some((want, _, what)) = reserved
            .iter()
            .find(|(r, n, _)| read && *n == name && *r != role)
        {
            self.err(
                v.name.span().start,
                format!(
                    "variable `{name}` has role `{}`, but the survey frames keep the column name `{name}` for {what}",
                    role.name()
                ),
            )
            .hints
            .push(format!(
                "if `{name}` is {what}, give it role = \"{}\"; if not, rename the column in the export (a variable with role \"other\" and no `values` is not read, whatever its name)",
                want.name()
            ));
        }
        Some(Variable {
            label: v.label.unwrap_or_else(|| name.clone()),
            name,
            role,
            theme: theme_name,
            sub: v.sub,
            question: v.question,
            values: v.values.map(Spanned::into_inner),
            areas: asked,
            control,
            line,
        })
    }

    /// Roles that must occur once, or at most once.
    fn check_roles(&mut self, variables: &[Variable]) {
        for (role, what) in [(Role::Id, "respondent id"), (Role::Area, "area")] {
            let found: Vec<&Variable> = variables.iter().filter(|v| v.role == role).collect();
            if found.len() > 1 {
                self.problems.push(
                    Diagnostic::error(format!(
                        "the codebook has {} `{}` variables (the {what} column); at most one is allowed",
                        found.len(),
                        role.name()
                    ))
                    .at(self.path, Some(found[1].line), None),
                );
            }
        }
        for role in [
            Role::Weight,
            Role::Arm,
            Role::Age,
            Role::Gender,
            Role::Ethnicity,
        ] {
            let found: Vec<&Variable> = variables.iter().filter(|v| v.role == role).collect();
            if found.len() > 1 {
                self.problems.push(
                    Diagnostic::error(format!(
                        "the codebook has {} `{}` variables; at most one is allowed",
                        found.len(),
                        role.name()
                    ))
                    .at(self.path, Some(found[1].line), None),
                );
            }
        }
    }
}

/// Where `[value_sets.NAME]` starts in the codebook text.
fn set_line(text: &str, name: &str) -> Option<usize> {
    let header = format!("[value_sets.{name}]");
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim() == header {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// What a variable may name: the codebook's themes, value sets and areas.
struct Known<'a> {
    theme_ids: &'a [String],
    value_sets: &'a BTreeMap<String, ValueSet>,
    areas: &'a [Area],
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[survey]
title = "T"

[[areas]]
code = 1
name = "Northtown"
themes = ["safety"]

[[themes]]
id = "safety"
label = "Safety"

[value_sets.often]
labels = { "1" = "Often", "2" = "Never" }
positive = [1]

[[variables]]
name = "id"
role = "id"

[[variables]]
name = "area"
role = "area"
"#;

    fn problems(extra: &str) -> Vec<String> {
        let text = format!("{BASE}{extra}");
        match Codebook::parse(Path::new("c.toml"), &text) {
            Ok(_) => Vec::new(),
            Err(d) => d.0.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn a_minimal_codebook_resolves() {
        assert_eq!(problems(""), Vec::<String>::new());
        let text = format!(
            "{BASE}\n[[variables]]\nname = \"q1\"\nrole = \"collective\"\ntheme = \"safety\"\nvalues = \"often\"\n"
        );
        let cb = Codebook::parse(Path::new("c.toml"), &text).unwrap();
        let q1 = cb.variable("q1").unwrap();
        // asked where its theme is covered, when `areas` is not given
        assert_eq!(q1.areas, vec!["Northtown".to_string()]);
        assert_eq!(cb.values_of(q1).unwrap().positive.len(), 1);
    }

    #[test]
    fn each_step_reports_at_the_place_and_all_problems_come_together() {
        let p = problems(
            "\n[[variables]]\nname = \"q1\"\nrole = \"colective\"\ntheme = \"safety\"\n\n[[variables]]\nname = \"q2\"\nrole = \"collective\"\ntheme = \"health\"\nvalues = \"often\"\n\n[[variables]]\nname = \"q3\"\nrole = \"collective\"\ntheme = \"safety\"\nvalues = \"oftn\"\n",
        );
        assert_eq!(p.len(), 3, "{p:#?}");
        assert!(p[0].contains("unknown role `colective`") && p[0].contains("c.toml:"));
        assert!(p[1].contains("unknown theme `health`") && p[1].contains("themes defined: safety"));
        assert!(p[2].contains("unknown value set `oftn`"));
    }
}
