//! Crosstabs: Pearson chi-square test of independence and SPSS Custom
//! Tables style column-proportion z-tests with significance letters.

use std::collections::BTreeMap;

use super::dist::{chi2_sf, norm_sf};
use super::{NotComputable, Result, StatsError, check_same_len};

/// A contingency table of (possibly weighted) counts: rows are the
/// categories of the outcome, columns the groups compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Crosstab {
    /// Row labels (sorted).
    pub row_labels: Vec<String>,
    /// Column labels (sorted).
    pub col_labels: Vec<String>,
    /// `counts[r][c]`.
    pub counts: Vec<Vec<f64>>,
}

/// Cross-tabulate two label vectors (rows with a missing label on either
/// side are dropped); `weights` sums weights instead of counting.
pub fn crosstab(
    rows: &[Option<&str>],
    cols: &[Option<&str>],
    weights: Option<&[f64]>,
) -> Result<Crosstab> {
    check_same_len(rows.len(), cols.len(), "crosstab")?;
    if let Some(w) = weights {
        check_same_len(rows.len(), w.len(), "crosstab weights")?;
    }
    let mut cells: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    let mut rl: BTreeMap<&str, ()> = BTreeMap::new();
    let mut cl: BTreeMap<&str, ()> = BTreeMap::new();
    for i in 0..rows.len() {
        if let (Some(r), Some(c)) = (rows[i], cols[i]) {
            let w = weights.map_or(1.0, |w| w[i]);
            if w.is_nan() {
                continue;
            }
            *cells.entry((r, c)).or_insert(0.0) += w;
            rl.insert(r, ());
            cl.insert(c, ());
        }
    }
    let row_labels: Vec<String> = rl.keys().map(|s| s.to_string()).collect();
    let col_labels: Vec<String> = cl.keys().map(|s| s.to_string()).collect();
    let counts = rl
        .keys()
        .map(|r| {
            cl.keys()
                .map(|c| cells.get(&(*r, *c)).copied().unwrap_or(0.0))
                .collect()
        })
        .collect();
    Ok(Crosstab {
        row_labels,
        col_labels,
        counts,
    })
}

/// Column percentages of a table, as shares: each count divided by its
/// column's total (NaN for a column whose total is 0), as SPSS prints
/// "column N %" and pandas `crosstab(normalize="columns")` computes.
pub fn column_percentages(table: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let width = table.first().map_or(0, Vec::len);
    let totals: Vec<f64> = (0..width)
        .map(|c| table.iter().map(|r| r.get(c).copied().unwrap_or(0.0)).sum())
        .collect();
    table
        .iter()
        .map(|row| {
            row.iter()
                .zip(&totals)
                .map(|(v, t)| if *t > 0.0 { v / t } else { f64::NAN })
                .collect()
        })
        .collect()
}

fn check_table(table: &[Vec<f64>]) -> Result<(usize, usize)> {
    let r = table.len();
    let c = table.first().map_or(0, |row| row.len());
    if table.iter().any(|row| row.len() != c) {
        return Err(StatsError::InvalidInput(
            "table rows differ in length".into(),
        ));
    }
    if table
        .iter()
        .flatten()
        .any(|v| !(*v >= 0.0) || !v.is_finite())
    {
        return Err(StatsError::InvalidInput(
            "table cells must be finite and >= 0".into(),
        ));
    }
    Ok((r, c))
}

/// Chi-square test of independence.
#[derive(Debug, Clone, PartialEq)]
pub struct ChiSquareTest {
    /// Pearson's X² (Yates-corrected for a 2x2 table when asked).
    pub statistic: f64,
    /// Degrees of freedom `(r - 1)(c - 1)`.
    pub df: f64,
    /// Upper-tail p-value.
    pub p: f64,
    /// Expected counts under independence, `row total * col total / N`.
    pub expected: Vec<Vec<f64>>,
    /// Cells with expected count below 5.
    pub cells_expected_below_5: usize,
    /// Smallest expected count.
    pub min_expected: f64,
    /// Whether Yates' continuity correction was applied.
    pub yates: bool,
    /// Total N.
    pub total: f64,
    /// SPSS-style warning when expected counts are small, e.g.
    /// "2 cells (33.3%) have expected count less than 5. The minimum expected count is 1.23."
    pub warning: Option<String>,
}

impl ChiSquareTest {
    /// Cramér's V, `sqrt(X² / (N (min(r, c) − 1)))`: the strength of the
    /// association, 0 (none) to 1. From this test's statistic, so compute it
    /// from a test without Yates' correction to match scipy
    /// `contingency.association(method="cramer")`.
    pub fn cramers_v(&self) -> f64 {
        let r = self.expected.len();
        let c = self.expected.first().map_or(0, Vec::len);
        let k = r.min(c) as f64 - 1.0;
        (self.statistic / (self.total * k)).sqrt()
    }
}

/// Pearson chi-square test of independence (scipy
/// `chi2_contingency(correction=False)`). With `yates_2x2` a 2x2 table gets
/// Yates' continuity correction (scipy's default `correction=True`, SPSS's
/// "Continuity Correction" row); larger tables never do.
pub fn chi_square_independence(table: &[Vec<f64>], yates_2x2: bool) -> Result<ChiSquareTest> {
    let (r, c) = check_table(table)?;
    if r < 2 || c < 2 {
        return Err(NotComputable::Degenerate(format!(
            "a {r}x{c} table has no degrees of freedom"
        ))
        .into());
    }
    let row_tot: Vec<f64> = table.iter().map(|row| row.iter().sum()).collect();
    let col_tot: Vec<f64> = (0..c)
        .map(|j| table.iter().map(|row| row[j]).sum())
        .collect();
    let total: f64 = row_tot.iter().sum();
    if let Some(i) = row_tot.iter().position(|&t| t == 0.0) {
        return Err(NotComputable::Degenerate(format!("row {i} of the table is empty")).into());
    }
    if let Some(j) = col_tot.iter().position(|&t| t == 0.0) {
        return Err(NotComputable::Degenerate(format!("column {j} of the table is empty")).into());
    }
    let expected: Vec<Vec<f64>> = row_tot
        .iter()
        .map(|rt| col_tot.iter().map(|ct| rt * ct / total).collect())
        .collect();
    let df = ((r - 1) * (c - 1)) as f64;
    let yates = yates_2x2 && r == 2 && c == 2;
    let mut stat = 0.0;
    for i in 0..r {
        for j in 0..c {
            let e = expected[i][j];
            let mut d = (table[i][j] - e).abs();
            if yates {
                d = (d - 0.5).max(0.0);
            }
            stat += d * d / e;
        }
    }
    let below = expected.iter().flatten().filter(|&&e| e < 5.0).count();
    let min_expected = expected
        .iter()
        .flatten()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let warning = (below > 0).then(|| {
        format!(
            "{below} cells ({:.1}%) have expected count less than 5. The minimum expected count is {:.2}.",
            100.0 * below as f64 / (r * c) as f64,
            min_expected
        )
    });
    Ok(ChiSquareTest {
        statistic: stat,
        df,
        p: chi2_sf(stat, df),
        expected,
        cells_expected_below_5: below,
        min_expected,
        yates,
        total,
        warning,
    })
}

/// Result of SPSS-style column-proportion tests.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnProportionTests {
    /// Letter of each column: "A", "B", ... ("AA" after "Z").
    pub column_letters: Vec<String>,
    /// Column proportions `counts[r][c] / column total`.
    pub proportions: Vec<Vec<f64>>,
    /// `letters[r][c]`: letters of the columns whose proportion in row `r`
    /// is significantly *smaller* than column `c`'s (SPSS prints the letter
    /// in the cell with the larger proportion).
    pub letters: Vec<Vec<String>>,
    /// Bonferroni-adjusted p-values `p_adj[r][(i, j)]` for `i < j`; `None`
    /// when a proportion is 0 or 1 (SPSS leaves such cells out).
    pub p_adjusted: Vec<BTreeMap<(usize, usize), Option<f64>>>,
    /// Family-wise significance level used.
    pub alpha: f64,
}

/// Spreadsheet-style column letters: A..Z, AA, AB, ...
pub fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Column-proportion z-tests as SPSS Custom Tables ("Compare column
/// proportions", Bonferroni adjustment): for each row and each pair of
/// columns, `z = (p_i - p_j) / sqrt(p̄(1 - p̄)(1/n_i + 1/n_j))` with the
/// pooled `p̄`; the two-sided p-value is multiplied by the number of pairs
/// `c(c - 1)/2` within the row (capped at 1) and compared with `alpha`.
/// Cells whose proportion is 0 or 1 are not compared.
pub fn column_proportion_tests(table: &[Vec<f64>], alpha: f64) -> Result<ColumnProportionTests> {
    let (r, c) = check_table(table)?;
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(StatsError::InvalidInput(format!(
            "alpha must be in (0, 1), got {alpha}"
        )));
    }
    let col_tot: Vec<f64> = (0..c)
        .map(|j| table.iter().map(|row| row[j]).sum())
        .collect();
    let proportions: Vec<Vec<f64>> = table
        .iter()
        .map(|row| {
            row.iter()
                .zip(&col_tot)
                .map(|(x, t)| if *t > 0.0 { x / t } else { f64::NAN })
                .collect()
        })
        .collect();
    let m = (c * c.saturating_sub(1) / 2).max(1) as f64;
    let mut letters = vec![vec![String::new(); c]; r];
    let mut p_adjusted = vec![BTreeMap::new(); r];
    for row in 0..r {
        for i in 0..c {
            for j in (i + 1)..c {
                let (pi, pj) = (proportions[row][i], proportions[row][j]);
                let usable = |p: f64| p > 0.0 && p < 1.0;
                if !usable(pi) || !usable(pj) {
                    p_adjusted[row].insert((i, j), None);
                    continue;
                }
                let (ni, nj) = (col_tot[i], col_tot[j]);
                let pooled = (table[row][i] + table[row][j]) / (ni + nj);
                let se = (pooled * (1.0 - pooled) * (1.0 / ni + 1.0 / nj)).sqrt();
                let z = (pi - pj) / se;
                let p = (2.0 * norm_sf(z.abs())).min(1.0);
                let padj = (p * m).min(1.0);
                p_adjusted[row].insert((i, j), Some(padj));
                if padj < alpha {
                    if pi > pj {
                        letters[row][i].push_str(&column_letter(j));
                    } else {
                        letters[row][j].push_str(&column_letter(i));
                    }
                }
            }
        }
    }
    Ok(ColumnProportionTests {
        column_letters: (0..c).map(column_letter).collect(),
        proportions,
        letters,
        p_adjusted,
        alpha,
    })
}
