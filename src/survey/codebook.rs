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
    /// Code in the area column.
    pub code: i64,
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
}

impl ValueSet {
    /// Whether a code is declared (labelled or a missing code).
    pub fn knows(&self, code: i64) -> bool {
        self.labels.contains_key(&code) || self.missing.contains(&code)
    }

    /// The analysis score of a code, `None` for don't know and missing codes.
    pub fn score(&self, code: i64) -> Option<f64> {
        if self.dont_know.contains(&code) || self.missing.contains(&code) {
            return None;
        }
        Some(self.scores.get(&code).copied().unwrap_or(code as f64))
    }

    /// The short name of a code, falling back to its label.
    pub fn name(&self, code: i64) -> Option<&str> {
        self.names
            .get(&code)
            .or_else(|| self.labels.get(&code))
            .map(String::as_str)
    }

    /// The label of an analysed value: a score's label where the set scores
    /// its codes, else the code's label.
    pub fn value_label(&self, value: f64) -> Option<&str> {
        if value.fract() != 0.0 {
            return None;
        }
        let key = value as i64;
        if self.scores.is_empty() {
            self.labels.get(&key)
        } else {
            self.score_labels.get(&key)
        }
        .map(String::as_str)
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
}

impl Codebook {
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
    survey: RawSurvey,
    #[serde(default)]
    options: RawOptions,
    areas: Vec<RawArea>,
    themes: Vec<RawTheme>,
    #[serde(default)]
    value_sets: BTreeMap<String, Spanned<RawValueSet>>,
    variables: Vec<Spanned<RawVariable>>,
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
    code: Spanned<i64>,
    name: Spanned<String>,
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
    labels: BTreeMap<Spanned<String>, String>,
    #[serde(default)]
    positive: Vec<Spanned<i64>>,
    #[serde(default)]
    dont_know: Vec<Spanned<i64>>,
    #[serde(default)]
    missing: Vec<Spanned<i64>>,
    #[serde(default)]
    scores: BTreeMap<Spanned<String>, f64>,
    #[serde(default)]
    names: BTreeMap<Spanned<String>, String>,
    #[serde(default)]
    score_labels: BTreeMap<Spanned<String>, String>,
    #[serde(default)]
    ordered: bool,
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
    control: Option<Spanned<i64>>,
}

struct Resolver<'a> {
    path: &'a Path,
    text: &'a str,
    problems: Vec<Diagnostic>,
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

    fn resolve(mut self, raw: RawCodebook) -> Result<Codebook, Diagnostics> {
        let survey = self.survey(raw.survey);
        let options = self.options(raw.options);
        let themes = self.themes(raw.themes);
        let theme_ids: Vec<String> = themes.iter().map(|t| t.id.clone()).collect();
        let areas = self.areas(raw.areas, &theme_ids);
        let value_sets = self.value_sets(raw.value_sets);
        let mut variables: Vec<Variable> = Vec::new();
        let mut seen: HashMap<String, (usize, Option<String>)> = HashMap::new();
        for sv in raw.variables {
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
        if self.problems.is_empty() {
            Ok(Codebook {
                path: self.path.to_path_buf(),
                survey,
                options,
                areas,
                themes,
                value_sets,
                variables,
                sub_labels,
            })
        } else {
            Err(Diagnostics(self.problems))
        }
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

    fn areas(&mut self, raw: Vec<RawArea>, theme_ids: &[String]) -> Vec<Area> {
        let mut areas: Vec<Area> = Vec::new();
        for a in raw {
            if areas.iter().any(|x| x.code == *a.code.get_ref()) {
                self.err(
                    a.code.span().start,
                    format!("area code {} is used twice", a.code.get_ref()),
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
                if !theme_ids.contains(t.get_ref()) {
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
                code: *a.code.get_ref(),
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
            let labels = self.codes(vs.labels, "value label");
            let scores = self.codes(vs.scores, "score");
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
            let set_of = |list: Vec<Spanned<i64>>, what: &str, this: &mut Self| {
                let mut out = BTreeSet::new();
                for c in list {
                    if what != "missing" && !labels.contains_key(c.get_ref()) {
                        this.err(
                            c.span().start,
                            format!(
                                "{what} code {} of value set `{name}` has no label",
                                c.get_ref()
                            ),
                        );
                    }
                    out.insert(c.into_inner());
                }
                out
            };
            let positive = set_of(vs.positive, "positive", self);
            let dont_know = set_of(vs.dont_know, "dont_know", self);
            let missing = set_of(vs.missing, "missing", self);
            if labels.is_empty() {
                self.err(start, format!("value set `{name}` has no labels"));
            }
            value_sets.insert(
                name,
                ValueSet {
                    labels,
                    positive,
                    dont_know,
                    missing,
                    scores,
                    names,
                    score_labels,
                    ordered: vs.ordered,
                },
            );
        }
        value_sets
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
            (Some(t), true) if !theme_ids.contains(t.get_ref()) => {
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
        if let Some(c) = &v.control {
            if role != Role::Arm {
                self.err(
                    c.span().start,
                    format!("`control` is only for the arm variable, not `{name}`"),
                );
            } else if let Some(set) = v.values.as_ref().and_then(|n| value_sets.get(n.get_ref()))
                && !set.labels.contains_key(c.get_ref())
            {
                self.err(
                    c.span().start,
                    format!(
                        "control code {} has no label in the arm value set",
                        c.get_ref()
                    ),
                );
            }
        } else if role == Role::Arm {
            self.err(
                v.role.span().start,
                format!("the arm variable `{name}` needs `control`, the code of the no-nudge arm"),
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
        Some(Variable {
            label: v.label.unwrap_or_else(|| name.clone()),
            name,
            role,
            theme: theme_name,
            sub: v.sub,
            question: v.question,
            values: v.values.map(Spanned::into_inner),
            areas: asked,
            control: v.control.map(Spanned::into_inner),
            line,
        })
    }

    /// Roles that must occur once, or at most once.
    fn check_roles(&mut self, variables: &[Variable]) {
        for (role, what) in [(Role::Id, "respondent id"), (Role::Area, "area")] {
            let n = variables.iter().filter(|v| v.role == role).count();
            if n != 1 {
                self.problems.push(
                    Diagnostic::error(format!(
                        "the codebook needs exactly one `{}` variable (the {what} column); it has {n}",
                        role.name()
                    ))
                    .at(self.path, None, None),
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
