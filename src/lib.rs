//! coweave: a literate report generator for citizen co-production surveys.
//!
//! The pipeline, one way:
//!
//! ```text
//! codebook + survey data --load/validate--> Survey (polars frames, long format per theme)
//! template.md --parse--> Document --execute--> Evaluated document --render--> html | pdf | json
//! ```
//!
//! - [`survey`]: the codebook, loading and validation of exports, the
//!   co-production measures, and the calibrated synthetic survey.
//! - [`stats`]: pure statistical functions (no I/O, imports nothing of ours).
//! - [`document`]: the template model and its parser (runs nothing).
//! - [`engine`]: executes blocks against the survey; prose, cross-references, cache.
//! - [`chart`]: charts as SVG.
//! - [`render`]: evaluated document to HTML and JSON.
//! - [`pipeline`]: one render end to end, with atomic writes; the CLI calls it.
//! - `preview`: the HTML renderer behind a loopback server with live reload.
#![warn(missing_docs)]

pub mod bundled;
pub mod chart;
#[cfg(feature = "cli")]
pub mod cli;
pub mod clock;
pub mod diag;
pub mod document;
pub mod engine;
pub mod fsio;
#[cfg(feature = "rust")]
pub mod kernel;
pub mod notebook;
pub mod pipeline;
#[cfg(feature = "preview")]
pub mod preview;
pub mod render;
pub mod stats;
pub mod survey;
pub mod yaml;

/// The polars coweave is built with, for notebooks (`coweave::polars::prelude::*`)
/// without a second `:dep` that would have to match its version and features.
pub use polars;
