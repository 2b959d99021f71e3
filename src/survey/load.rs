//! Reading a survey export (CSV, Parquet, SPSS .sav) into raw numeric columns.
//!
//! Every cell becomes a number or a blank; cells that are neither are
//! reported with their row (and line, for CSV) and read as blank, so that
//! validation can report every problem of a file in one run.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::diag::{Diagnostic, Diagnostics};

/// The file formats a survey export can come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// SPSS system file (value labels and user-missing codes kept as codes).
    Sav,
}

impl Format {
    /// The format of a path, from its extension.
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" | "txt" => Some(Format::Csv),
            "parquet" | "pq" => Some(Format::Parquet),
            "sav" | "zsav" => Some(Format::Sav),
            _ => None,
        }
    }
}

/// A survey export as read: column names, numeric cells (NaN = blank), the
/// text of the id column, and where each row is in the file.
#[derive(Debug, Clone)]
pub struct RawTable {
    /// The file.
    pub path: PathBuf,
    /// Column names in file order.
    pub names: Vec<String>,
    /// Numeric cells per column (NaN for blank or unreadable cells).
    pub cells: Vec<Vec<f64>>,
    /// Text of the id column, per row.
    pub ids: Vec<String>,
    /// Index of the id column in `names`, if present.
    pub id_column: Option<usize>,
    /// 1-based file line of each row (CSV only).
    pub lines: Option<Vec<u64>>,
    /// Problems met while reading (unreadable cells, ragged rows).
    pub problems: Vec<Diagnostic>,
    /// Cells (column, row) that were not blank but could not be read:
    /// already reported, so not to be reported again as blank.
    pub unreadable: HashSet<(usize, usize)>,
}

impl RawTable {
    /// Number of data rows.
    pub fn rows(&self) -> usize {
        self.ids.len().max(self.cells.first().map_or(0, Vec::len))
    }

    /// "row 12 (line 13)" for messages.
    pub fn place(&self, row: usize) -> String {
        match &self.lines {
            Some(lines) => match lines.get(row) {
                Some(line) => format!("row {} (line {line})", row + 1),
                None => format!("row {}", row + 1),
            },
            None => format!("row {}", row + 1),
        }
    }

    /// Index of a column by name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// Collects unreadable cells per column: the first few places and a count.
#[derive(Default)]
struct BadCells {
    by_column: BTreeMap<usize, (usize, Vec<(usize, String)>)>,
    /// Columns of text answers: the answers they may hold.
    text: BTreeMap<usize, TextCodes>,
    /// Every unreadable cell: (column, row).
    cells: HashSet<(usize, usize)>,
}

impl BadCells {
    const SHOWN: usize = 5;

    fn add_text(&mut self, col: usize, row: usize, text: &str, codes: &TextCodes) {
        self.text.entry(col).or_insert_with(|| codes.clone());
        self.add(col, row, text);
    }

    fn add(&mut self, col: usize, row: usize, text: &str) {
        self.cells.insert((col, row));
        let entry = self.by_column.entry(col).or_default();
        entry.0 += 1;
        if entry.1.len() < Self::SHOWN {
            entry.1.push((row, text.to_string()));
        }
    }

    fn into_diagnostics(self, table: &RawTable) -> Vec<Diagnostic> {
        self.by_column
            .clone()
            .into_iter()
            .map(|(col, (count, examples))| {
                let list: Vec<String> = examples
                    .iter()
                    .map(|(row, text)| format!("{} {:?}", table.place(*row), text))
                    .collect();
                let more = if count > examples.len() {
                    format!(" and {} more", count - examples.len())
                } else {
                    String::new()
                };
                let first = examples[0].0;
                let line = table
                    .lines
                    .as_ref()
                    .and_then(|l| l.get(first))
                    .map(|l| *l as usize);
                let s = if count == 1 { "" } else { "s" };
                match self.text.get(&col) {
                    Some(t) => Diagnostic::error(format!(
                        "column `{}`: {count} cell{s} {} not one of {}: {}{more}",
                        table.names[col],
                        if count == 1 { "is" } else { "are" },
                        t.what,
                        list.join(", ")
                    ))
                    .at(&table.path, line, None)
                    .hint(format!(
                        "they are {} (in any case){}",
                        t.answers
                            .iter()
                            .map(|a| format!("{a:?}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        if t.what.contains("answers") {
                            "; leave a cell empty for a missing answer"
                        } else {
                            ""
                        }
                    )),
                    None => Diagnostic::error(format!(
                        "column `{}` has {count} non-numeric cell{s}: {}{more}",
                        table.names[col],
                        list.join(", ")
                    ))
                    .at(&table.path, line, None)
                    .hint("answer codes must be numbers (or declare the answers as `text` in the value set); leave a cell empty for a missing answer"),
                }
            })
            .collect()
    }
}

fn parse_cell(text: &str) -> Result<f64, ()> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(f64::NAN);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(()),
    }
}

/// The answers of a text-coded column and their codes.
#[derive(Debug, Clone)]
pub struct TextCodes {
    /// What the answers are ("answers of value set `agree`", "area codes
    /// of the codebook"), for messages.
    pub what: String,
    /// Answer (lower case, trimmed) → code.
    pub codes: std::collections::HashMap<String, f64>,
    /// The answers as the codebook writes them, for the hint.
    pub answers: Vec<String>,
}

impl TextCodes {
    fn code(&self, text: &str) -> Result<f64, ()> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(f64::NAN);
        }
        self.codes.get(&t.to_lowercase()).copied().ok_or(())
    }
}

/// Which columns are read how: the id as text, the `numeric` ones as
/// numbers (anything else there is reported), the `text` ones through
/// their answers, all others are skipped.
pub struct Columns<'a> {
    /// The respondent id column.
    pub id: &'a str,
    /// Columns whose cells must be numbers.
    pub numeric: &'a HashSet<String>,
    /// Columns whose cells are answers written as text.
    pub text: &'a std::collections::HashMap<String, TextCodes>,
}

/// How one cell of a column is read.
enum Reading<'a> {
    Id,
    Skip,
    Number,
    Text(&'a TextCodes),
}

impl<'a> Columns<'a> {
    fn reading(&self, name: &str) -> Reading<'a> {
        if name == self.id {
            Reading::Id
        } else if let Some(t) = self.text.get(name) {
            Reading::Text(t)
        } else if self.numeric.contains(name) {
            Reading::Number
        } else {
            Reading::Skip
        }
    }
}

/// Reads an export.
/// Reads an export whose bytes are already in memory (so that what is
/// parsed is exactly what was hashed): CSV and Parquet from the bytes; an
/// SPSS file through its reader, which opens the path.
pub fn read_bytes(path: &Path, bytes: &[u8], columns: &Columns) -> Result<RawTable, Diagnostics> {
    match Format::of(path) {
        Some(Format::Csv) => read_csv_from(path, bytes, columns),
        Some(Format::Parquet) => {
            let df = ParquetReader::new(std::io::Cursor::new(bytes))
                .finish()
                .map_err(|e| {
                    Diagnostic::error(format!("cannot read Parquet file: {e}")).at(path, None, None)
                })?;
            from_frame(path, df, columns)
        }
        _ => read(path, columns),
    }
}

/// Reads an export by its extension (CSV, Parquet, SPSS .sav).
pub fn read(path: &Path, columns: &Columns) -> Result<RawTable, Diagnostics> {
    match Format::of(path) {
        Some(Format::Csv) => read_csv(path, columns),
        Some(Format::Parquet) => {
            let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
            let df = ParquetReader::new(file).finish().map_err(|e| {
                Diagnostic::error(format!("cannot read Parquet file: {e}")).at(path, None, None)
            })?;
            from_frame(path, df, columns)
        }
        Some(Format::Sav) => {
            let opts = polars_readstat_rs::InformativeNullOpts {
                columns: polars_readstat_rs::InformativeNullColumns::All,
                mode: polars_readstat_rs::InformativeNullMode::MergedString,
                use_value_labels: false,
            };
            let df = polars_readstat_rs::spss::SpssReader::open(path)
                .and_then(|r| {
                    r.read()
                        .value_labels_as_strings(false)
                        .informative_nulls(Some(opts))
                        .finish()
                })
                .map_err(|e| {
                    Diagnostic::error(format!("cannot read SPSS file: {e}")).at(path, None, None)
                })?;
            from_frame(path, df, columns)
        }
        None => Err(Diagnostic::error("unknown data file type")
            .at(path, None, None)
            .hint("use a .csv, .parquet or .sav file")
            .into()),
    }
}

fn io_error(path: &Path, e: std::io::Error) -> Diagnostic {
    Diagnostic::error(format!("cannot read data file: {e}")).at(path, None, None)
}

fn read_csv(path: &Path, columns: &Columns) -> Result<RawTable, Diagnostics> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    read_csv_from(path, file, columns)
}

/// Reads CSV from any reader; `path` names it in messages.
pub fn read_csv_from(
    path: &Path,
    mut input: impl std::io::Read,
    columns: &Columns,
) -> Result<RawTable, Diagnostics> {
    // a header is a line of column names: one longer than this is not a
    // CSV export (a binary file, a dump with no line breaks), and reading
    // it whole could take all the memory there is
    const HEADER_LIMIT: u64 = 1 << 20;
    let mut head = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(&mut input, HEADER_LIMIT),
        &mut head,
    )
    .map_err(|e| io_error(path, e))?;
    if head.len() as u64 == HEADER_LIMIT && !head.contains(&b'\n') {
        return Err(Diagnostic::error(
            "the first line is longer than 1 MiB: this is not a CSV export with a header row",
        )
        .at(path, Some(1), None)
        .hint("a survey export starts with one line of column names, then one line per respondent; check that this is the right file and that it is text, not a spreadsheet or archive")
        .into());
    }
    let input = std::io::Read::chain(std::io::Cursor::new(head), input);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(input);
    let headers = reader
        .byte_headers()
        .map_err(|e| {
            Diagnostic::error(format!("cannot read the header row: {e}")).at(path, Some(1), None)
        })?
        .clone();
    let names: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let s = String::from_utf8_lossy(h);
            let s = if i == 0 {
                s.trim_start_matches('\u{feff}')
            } else {
                &s
            };
            s.trim().to_string()
        })
        .collect();
    // one column whose name holds the delimiters of another convention:
    // Excel in many European locales writes `;`, some tools tabs
    if let [only] = names.as_slice()
        && let Some((sep, what)) = [(';', "semicolons"), ('\t', "tabs"), ('|', "bars")]
            .into_iter()
            .find(|(c, _)| only.contains(*c))
    {
        let shown: String = only.chars().take(60).collect();
        return Err(Diagnostic::error(format!(
            "the header is one column, `{}{}`: the file is separated by {what} ({sep:?}), not commas",
            shown.replace('\t', "\\t"),
            if only.chars().count() > 60 { "…" } else { "" }
        ))
        .at(path, Some(1), None)
        .hint("export it as comma-separated CSV (in Excel: Save As \"CSV UTF-8 (Comma delimited)\")")
        .into());
    }
    if names.iter().all(String::is_empty) {
        return Err(Diagnostic::error("the data file is empty: no header row")
            .at(path, Some(1), None)
            .hint("the first line must name the columns, as the codebook does")
            .into());
    }
    let id_column = names.iter().position(|n| n == columns.id);
    let reading: Vec<Reading> = names.iter().map(|n| columns.reading(n)).collect();
    let mut table = RawTable {
        path: path.to_path_buf(),
        cells: vec![Vec::new(); names.len()],
        names,
        ids: Vec::new(),
        id_column,
        lines: Some(Vec::new()),
        problems: Vec::new(),
        unreadable: HashSet::new(),
    };
    let mut bad = BadCells::default();
    let mut ragged = 0usize;
    // cells that are not UTF-8: (line, column) of the first, and how many
    let mut not_utf8: Option<(u64, usize, u8)> = None;
    let mut not_utf8_count = 0usize;
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let lines = table.lines.as_mut().expect("csv has lines");
                let row = lines.len();
                let line = record.position().map_or(0, |p| p.line());
                lines.push(line);
                for (col, cell) in record.iter().enumerate() {
                    // checked once: a valid cell is borrowed as it is
                    let text = match std::str::from_utf8(cell) {
                        Ok(t) => std::borrow::Cow::Borrowed(t),
                        Err(e) => {
                            not_utf8_count += 1;
                            if not_utf8.is_none() {
                                not_utf8 = Some((line, col, cell[e.valid_up_to()]));
                            }
                            String::from_utf8_lossy(cell)
                        }
                    };
                    let value = match reading.get(col).unwrap_or(&Reading::Skip) {
                        // the first column of the id's name is the id (a
                        // second one is reported as a duplicate column)
                        Reading::Id if Some(col) == id_column => {
                            table.ids.push(text.trim().to_string());
                            Ok(f64::NAN)
                        }
                        Reading::Id => Ok(f64::NAN),
                        Reading::Skip => Ok(f64::NAN),
                        Reading::Number => {
                            parse_cell(&text).inspect_err(|()| bad.add(col, row, &text))
                        }
                        Reading::Text(t) => t
                            .code(&text)
                            .inspect_err(|()| bad.add_text(col, row, &text, t)),
                    };
                    table.cells[col].push(value.unwrap_or(f64::NAN));
                }
                if id_column.is_none() {
                    table.ids.push(String::new());
                }
            }
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize);
                ragged += 1;
                if ragged <= 10 {
                    let msg = match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => format!(
                            "row has {len} fields but the header has {expected_len}; the row is skipped"
                        ),
                        other => format!("malformed CSV: {other:?}"),
                    };
                    table
                        .problems
                        .push(Diagnostic::error(msg).at(path, line, None));
                }
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::UnequalLengths { .. } | csv::ErrorKind::Utf8 { .. }
                ) {
                    break;
                }
            }
        }
    }
    if let Some((line, col, byte)) = not_utf8 {
        let more = match not_utf8_count {
            1 => String::new(),
            n => format!(" ({} more cells like it)", n - 1),
        };
        table.problems.push(
            Diagnostic::error(format!(
                "the file is not UTF-8 text: column `{}` has byte 0x{byte:02X}{more}; it looks like Latin-1 or Windows-1252",
                table.names.get(col).map_or("?", String::as_str)
            ))
            .at(path, usize::try_from(line).ok(), None)
            .hint("save it as UTF-8 (in Excel: Save As \"CSV UTF-8\"), or convert it: iconv -f WINDOWS-1252 -t UTF-8 data.csv > data-utf8.csv"),
        );
    }
    if ragged > 10 {
        table.problems.push(
            Diagnostic::error(format!("{} more malformed rows not listed", ragged - 10))
                .at(path, None, None),
        );
    }
    table.unreadable = bad.cells.clone();
    let mut bad_diags = bad.into_diagnostics(&table);
    table.problems.append(&mut bad_diags);
    Ok(table)
}

/// A column's cells as text: whole numbers stored as floating point (SPSS
/// stores every number so) are written without a fraction, so an id read
/// from a .sav file is `4`, not `4.0`.
pub(crate) fn cell_text(column: &Column) -> PolarsResult<Column> {
    if matches!(column.dtype(), DataType::Float32 | DataType::Float64) {
        let values = column.cast(&DataType::Float64)?;
        let text: Vec<Option<String>> = values
            .f64()?
            .iter()
            .map(|v| v.map(super::number_text))
            .collect();
        return Ok(Column::new(column.name().clone(), text));
    }
    column.cast(&DataType::String)
}

fn from_frame(path: &Path, df: DataFrame, columns: &Columns) -> Result<RawTable, Diagnostics> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let id_column = names.iter().position(|n| n == columns.id);
    let rows = df.height();
    let mut table = RawTable {
        path: path.to_path_buf(),
        names,
        cells: Vec::new(),
        ids: vec![String::new(); rows],
        id_column,
        lines: None,
        problems: Vec::new(),
        unreadable: HashSet::new(),
    };
    let mut bad = BadCells::default();
    for (col, column) in df.columns().iter().enumerate() {
        let reading = columns.reading(&table.names[col]);
        if matches!(reading, Reading::Skip) {
            table.cells.push(vec![f64::NAN; rows]);
            continue;
        }
        let cannot = |e: PolarsError| {
            Diagnostic::error(format!("cannot read column `{}`: {e}", table.names[col]))
                .at(path, None, None)
        };
        let as_text = cell_text(column).map_err(cannot)?;
        let text = as_text.str().map_err(cannot)?;
        if matches!(reading, Reading::Id) {
            for (row, v) in text.iter().enumerate() {
                table.ids[row] = v.unwrap_or("").trim().to_string();
            }
            table.cells.push(vec![f64::NAN; rows]);
            continue;
        }
        let mut values = Vec::with_capacity(rows);
        for (row, v) in text.iter().enumerate() {
            let Some(v) = v else {
                values.push(f64::NAN);
                continue;
            };
            let value = match &reading {
                Reading::Text(t) => t.code(v).inspect_err(|()| bad.add_text(col, row, v, t)),
                _ => parse_cell(v).inspect_err(|()| bad.add(col, row, v)),
            };
            values.push(value.unwrap_or(f64::NAN));
        }
        table.cells.push(values);
    }
    table.unreadable = bad.cells.clone();
    let mut bad_diags = bad.into_diagnostics(&table);
    table.problems.append(&mut bad_diags);
    Ok(table)
}

/// Reads a data file as a frame as it is (a template's `data.frames`): CSV
/// with column types inferred from the whole file, Parquet, or SPSS with
/// codes as numbers. `bytes` are the file's content (what was hashed).
pub fn read_frame(path: &Path, bytes: &[u8]) -> Result<DataFrame, Diagnostic> {
    let fail = |what: &str, e: PolarsError| {
        Diagnostic::error(format!("cannot read {what}: {e}")).at(path, None, None)
    };
    match Format::of(path) {
        Some(Format::Csv) => CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(None)
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
            .map_err(|e| fail("CSV file", e)),
        Some(Format::Parquet) => ParquetReader::new(std::io::Cursor::new(bytes))
            .finish()
            .map_err(|e| fail("Parquet file", e)),
        Some(Format::Sav) => polars_readstat_rs::spss::SpssReader::open(path)
            .and_then(|r| r.read().value_labels_as_strings(false).finish())
            .map_err(|e| {
                Diagnostic::error(format!("cannot read SPSS file: {e}")).at(path, None, None)
            }),
        None => Err(Diagnostic::error("unknown data file type")
            .at(path, None, None)
            .hint("use a .csv, .parquet or .sav file")),
    }
}
