//! Multiple-testing adjustment of p-values over a family of tests, as R's
//! `p.adjust` and statsmodels `multipletests`.

use super::{Result, StatsError};

/// Adjustment method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PAdjustMethod {
    /// `min(1, m p)`.
    Bonferroni,
    /// Holm's step-down: `max_{j ≤ i} min(1, (m - j + 1) p_(j))`.
    Holm,
    /// Benjamini-Hochberg step-up (false discovery rate):
    /// `min_{j ≥ i} min(1, m p_(j) / j)`.
    BenjaminiHochberg,
}

impl PAdjustMethod {
    /// R's name for the method ("bonferroni", "holm", "BH").
    pub fn label(self) -> &'static str {
        match self {
            PAdjustMethod::Bonferroni => "bonferroni",
            PAdjustMethod::Holm => "holm",
            PAdjustMethod::BenjaminiHochberg => "BH",
        }
    }
}

/// Adjusted p-values, in the input order. Every p must lie in [0, 1]
/// (NaN is rejected: filter missing tests out of the family first).
pub fn p_adjust(p: &[f64], method: PAdjustMethod) -> Result<Vec<f64>> {
    if let Some(bad) = p.iter().find(|v| !(**v >= 0.0 && **v <= 1.0)) {
        return Err(StatsError::InvalidInput(format!(
            "p-values must lie in [0, 1], got {bad}"
        )));
    }
    let m = p.len();
    if m == 0 {
        return Ok(Vec::new());
    }
    let mf = m as f64;
    let mut order: Vec<usize> = (0..m).collect();
    let mut out = vec![0.0; m];
    match method {
        PAdjustMethod::Bonferroni => {
            for (o, &v) in out.iter_mut().zip(p) {
                *o = (v * mf).min(1.0);
            }
        }
        PAdjustMethod::Holm => {
            // ascending; stable so ties keep input order
            order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
            let mut running = 0.0f64;
            for (rank, &i) in order.iter().enumerate() {
                let v = ((mf - rank as f64) * p[i]).min(1.0);
                running = running.max(v);
                out[i] = running;
            }
        }
        PAdjustMethod::BenjaminiHochberg => {
            order.sort_by(|&a, &b| p[b].total_cmp(&p[a])); // descending
            let mut running = 1.0f64;
            for (pos, &i) in order.iter().enumerate() {
                let rank = (m - pos) as f64; // 1-based ascending rank
                let v = (mf / rank * p[i]).min(1.0);
                running = running.min(v);
                out[i] = running;
            }
        }
    }
    Ok(out)
}
