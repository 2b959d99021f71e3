//! The bundled synthetic survey, embedded so every template renders out of
//! the box from any directory.

/// data/survey.csv.
pub const SURVEY_CSV: &[u8] = include_bytes!("../data/survey.csv");
/// data/codebook.toml.
pub const CODEBOOK: &str = include_str!("../data/codebook.toml");
/// data/published_tables.toml.
pub const PUBLISHED: &str = include_str!("../data/published_tables.toml");
