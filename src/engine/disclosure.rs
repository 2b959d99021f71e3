//! Disclosure control, applied once, to the frame a block produces, before
//! anything is output: tables, charts, the data behind them, CSV downloads,
//! the JSON results and prose all read the suppressed frame, so none of
//! them can show what the table hides.
//!
//! A row is suppressed when its base (the block's `base` option, else a
//! numeric column `n`) is below the threshold, or when an earlier step
//! marked it (`suppressed` is true; the crosstab marks small cells and
//! their complements that way). In a suppressed row every statistic (every
//! numeric column but the base and the key columns, and the `stars` and
//! `letters` marks) becomes missing, and the frame gets a boolean column
//! `suppressed`.

use polars::prelude::*;

/// The name of the column that marks suppressed rows.
pub const COLUMN: &str = "suppressed";

/// Text columns that restate a statistic (significance marks).
const MARKS: [&str; 2] = ["stars", "letters"];

/// Suppresses the rows of `frame` resting on fewer than `min_base`
/// respondents; `min_base` 0 turns it off. `base` names the base column
/// (default `n`, when the frame has a numeric column of that name);
/// `keys` are never blanked.
pub fn apply(
    frame: DataFrame,
    base: Option<&str>,
    keys: &[String],
    min_base: u32,
) -> PolarsResult<DataFrame> {
    if min_base == 0 || frame.height() == 0 {
        return Ok(frame);
    }
    let base_name = match base {
        Some(b) => Some(b),
        None => frame
            .column("n")
            .ok()
            .filter(|c| c.dtype().is_primitive_numeric())
            .map(|_| "n"),
    };
    let mut mask: Vec<bool> = match frame.column(COLUMN) {
        Ok(c) => c
            .cast(&DataType::Boolean)?
            .bool()?
            .iter()
            .map(|v| v.unwrap_or(false))
            .collect(),
        Err(_) => vec![false; frame.height()],
    };
    if let Some(b) = base_name {
        let col = frame.column(b)?.cast(&DataType::Float64)?;
        for (m, n) in mask.iter_mut().zip(col.f64()?.iter()) {
            if n.is_some_and(|n| n < f64::from(min_base)) {
                *m = true;
            }
        }
    }
    if !mask.iter().any(|m| *m) {
        return Ok(frame);
    }
    let keep = BooleanChunked::from_iter_values("keep".into(), mask.iter().map(|m| !m));
    let mut columns = Vec::with_capacity(frame.width() + 1);
    for c in frame.columns() {
        let name = c.name().as_str();
        let blank = name != COLUMN
            && Some(name) != base_name
            && !keys.iter().any(|k| k == name)
            && (c.dtype().is_primitive_numeric() || MARKS.contains(&name));
        if blank {
            let nulls = Column::full_null(c.name().clone(), c.len(), c.dtype());
            columns.push(c.zip_with(&keep, &nulls)?);
        } else if name != COLUMN {
            columns.push(c.clone());
        }
    }
    columns.push(Column::new(COLUMN.into(), mask));
    DataFrame::new(frame.height(), columns)
}

/// Which cells of a table of counts to suppress: every count `c` with
/// `0 < c < min_base` (primary), then, so that a row or column total cannot
/// give a suppressed cell back by subtraction, the smallest other non-zero
/// count of every row and column that has exactly one suppressed cell
/// (complementary), repeated until no row or column has exactly one.
pub fn cells_to_suppress(counts: &[Vec<f64>], min_base: u32) -> Vec<Vec<bool>> {
    let rows = counts.len();
    let cols = counts.first().map_or(0, Vec::len);
    let mut out: Vec<Vec<bool>> = counts
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| min_base > 0 && *c > 0.0 && *c < f64::from(min_base))
                .collect()
        })
        .collect();
    if min_base == 0 {
        return out;
    }
    // each pass suppresses at least one more cell or stops
    for _ in 0..=rows * cols {
        let mut changed = false;
        let lines: Vec<Vec<(usize, usize)>> = (0..rows)
            .map(|r| (0..cols).map(|c| (r, c)).collect())
            .chain((0..cols).map(|c| (0..rows).map(|r| (r, c)).collect()))
            .collect();
        for line in lines {
            if line.iter().filter(|(r, c)| out[*r][*c]).count() != 1 {
                continue;
            }
            let partner = line
                .iter()
                .filter(|(r, c)| !out[*r][*c] && counts[*r][*c] > 0.0)
                .min_by(|a, b| counts[a.0][a.1].total_cmp(&counts[b.0][b.1]));
            if let Some((r, c)) = partner {
                out[*r][*c] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_rows_lose_every_statistic_but_keep_keys_and_base() {
        let df = df![
            "area" => ["A", "B"],
            "estimate" => [0.25, 0.4285714285714286],
            "stars" => [Some("**"), Some("*")],
            "n" => [400i64, 7],
        ]
        .unwrap();
        let out = apply(df, None, &[], 10).unwrap();
        assert_eq!(out.column("estimate").unwrap().null_count(), 1);
        assert!(out.column("estimate").unwrap().get(1).unwrap().is_null());
        assert!(out.column("stars").unwrap().get(1).unwrap().is_null());
        assert_eq!(
            out.column("n").unwrap().i64().unwrap().get(1),
            Some(7),
            "the base stays"
        );
        assert_eq!(
            out.column(COLUMN)
                .unwrap()
                .bool()
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            vec![Some(false), Some(true)]
        );
        assert_eq!(
            out.column("estimate").unwrap().get(0).unwrap(),
            AnyValue::Float64(0.25)
        );
    }

    #[test]
    fn nothing_to_suppress_leaves_the_frame_as_it_was() {
        let df = df!["estimate" => [0.5], "n" => [100i64]].unwrap();
        let out = apply(df.clone(), None, &[], 10).unwrap();
        assert!(out.equals_missing(&df));
        let off = df!["estimate" => [0.5], "n" => [3i64]].unwrap();
        assert!(
            apply(off.clone(), None, &[], 0)
                .unwrap()
                .equals_missing(&off)
        );
    }

    #[test]
    fn a_lone_suppressed_cell_gets_a_complement_in_its_row_and_column() {
        // row 0 has one small cell (3): the smallest other cell of row 0 (20)
        // and of column 0 (15) go too; then column 1 and row 1 have one each...
        let counts = vec![vec![3.0, 20.0, 40.0], vec![15.0, 30.0, 50.0]];
        let s = cells_to_suppress(&counts, 10);
        for r in 0..2 {
            let n = s[r].iter().filter(|x| **x).count();
            assert_ne!(n, 1, "row {r} has exactly one suppressed cell: {s:?}");
        }
        for c in 0..3 {
            let n = (0..2).filter(|r| s[*r][c]).count();
            assert_ne!(n, 1, "column {c} has exactly one suppressed cell: {s:?}");
        }
        assert!(s[0][0], "the primary cell is suppressed");
        // no small cell, nothing suppressed; zeros are not disclosive
        assert!(
            cells_to_suppress(&[vec![0.0, 20.0], vec![12.0, 30.0]], 10)
                .iter()
                .flatten()
                .all(|x| !x)
        );
    }
}
