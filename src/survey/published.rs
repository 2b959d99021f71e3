//! The paper's published tables (data/published_tables.toml): calibration
//! targets for the synthetic survey and the "published" column of the
//! replication appendix.

use std::path::Path;

use serde::Deserialize;

use crate::diag::{Diagnostic, Diagnostics};

/// All published figures.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct Published {
    /// Table 1: the areas.
    #[serde(default)]
    pub areas: Vec<PublishedArea>,
    /// Table 2: levels.
    #[serde(default)]
    pub levels: Vec<Level>,
    /// Barnet's two time questions.
    #[serde(default)]
    pub barnet_time: Vec<CurrentTime>,
    /// Tables 3 and 4: correlates.
    #[serde(default)]
    pub correlates: Vec<CorrelateRow>,
    /// Table 5: nudge effects.
    #[serde(default)]
    pub nudges: Vec<NudgeBlock>,
    /// Claims of the text.
    #[serde(default)]
    pub claims: Vec<Claim>,
}

/// One study area of Table 1.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct PublishedArea {
    /// Area name.
    pub area: String,
    /// Respondents achieved.
    pub respondents: usize,
    /// Themes asked.
    #[serde(default)]
    pub themes: Vec<String>,
    /// Whether the area ran the nudge trial.
    #[serde(default)]
    pub nudge_experiment: bool,
}

/// One row of Table 2.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct Level {
    /// Area.
    pub area: String,
    /// Theme id.
    pub theme: String,
    /// Index of individual co-production (%).
    pub individual_pct: f64,
    /// Collective co-production (%).
    pub collective_pct: f64,
    /// Willing to give at least a few hours a month (%).
    pub time_pct: Option<f64>,
    /// "Often" part of the collective figure, where the text gives it.
    pub collective_often_pct: Option<f64>,
    /// What looks wrong in the manuscript.
    pub note: Option<String>,
}

/// Barnet's time questions (current and additional time).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct CurrentTime {
    /// Theme id.
    pub theme: String,
    /// Currently give at least a few hours a month (%).
    pub currently_few_hours_month_pct: f64,
    /// Willing to give at least a few hours a month more (%).
    pub willing_more_few_hours_month_pct: f64,
}

/// One variable's row of Table 3 or 4.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct CorrelateRow {
    /// 3 (individual) or 4 (collective).
    pub table: u8,
    /// Role name of the correlate.
    pub variable: String,
    /// The printed cells.
    pub cells: Vec<CorrelateCell>,
    /// What looks wrong in the manuscript.
    pub note: Option<String>,
}

/// One printed correlation.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct CorrelateCell {
    /// Area.
    pub area: String,
    /// Theme id.
    pub theme: String,
    /// Sub-item, if the cell is one of several.
    pub sub: Option<String>,
    /// Printed r.
    pub r: f64,
    /// Printed stars.
    pub stars: u8,
    /// What looks wrong in the manuscript.
    pub note: Option<String>,
}

/// Table 5 rows of one area, theme (and sub-item).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct NudgeBlock {
    /// Area.
    pub area: String,
    /// Theme id.
    pub theme: String,
    /// Sub-item (Barnet: crime, anti-social behaviour).
    pub sub: Option<String>,
    /// One row per arm.
    pub rows: Vec<NudgeRow>,
}

/// One arm's printed coefficients (percentage points).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct NudgeRow {
    /// Arm short name: A, B or AB.
    pub arm: String,
    /// Effect on the individual index (points).
    pub individual: f64,
    /// Printed stars.
    pub individual_stars: u8,
    /// Effect on collective participation (points).
    pub collective: f64,
    /// Printed stars.
    pub collective_stars: u8,
}

/// A claim of the text.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct Claim {
    /// Identifier.
    pub id: String,
    /// The claim.
    pub text: String,
}

impl Published {
    /// Reads the published tables.
    pub fn load(path: &Path) -> Result<Published, Diagnostics> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostic::error(format!("cannot read published tables: {e}")).at(path, None, None)
        })?;
        Published::parse(path, &text)
    }

    /// Parses published tables; `path` names them in messages.
    pub fn parse(path: &Path, text: &str) -> Result<Published, Diagnostics> {
        toml::from_str(text).map_err(|e| {
            let d = Diagnostic::error(format!(
                "malformed published tables: {}",
                e.message().trim()
            ));
            Diagnostics::from(match e.span() {
                Some(s) => d.at_offset(path, text, s.start),
                None => d.at(path, None, None),
            })
        })
    }

    /// The Table 2 row of an area and theme.
    pub fn level(&self, area: &str, theme: &str) -> Option<&Level> {
        self.levels
            .iter()
            .find(|l| l.area == area && l.theme == theme)
    }

    /// Published r of a correlate (table 3 or 4) for an area, theme and sub-item.
    pub fn correlation(
        &self,
        table: u8,
        variable: &str,
        area: &str,
        theme: &str,
        sub: Option<&str>,
    ) -> Option<&CorrelateCell> {
        self.correlates
            .iter()
            .filter(|row| row.table == table && row.variable == variable)
            .flat_map(|row| row.cells.iter())
            .find(|c| c.area == area && c.theme == theme && c.sub.as_deref() == sub)
    }
}
