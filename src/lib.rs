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
#![warn(missing_docs)]

pub mod cli;
pub mod diag;
pub mod fsio;
pub mod stats;
pub mod survey;
