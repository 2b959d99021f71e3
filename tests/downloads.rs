//! What a reader can reach beyond the visible table: every CSV download and
//! every "Data behind this chart" table of every report in `reports/` (each
//! area where a template takes one), parsed back and compared with the
//! frame that produced it, cell by cell and in column order. No golden
//! file: the frame itself (kept by the engine in `Evaluated.frames`) is the
//! reference, and numbers must read back to the same double.

use crate::common::uri;

use std::path::{Path, PathBuf};

use coweave::engine::{Evaluated, OutNode};
use coweave::pipeline::{self, Request};
use polars::prelude::*;
use uri::{downloads, unescape};

fn request(template: &Path, params: Vec<(String, String)>) -> Request {
    Request {
        template: template.to_path_buf(),
        params,
        formats: vec![],
        out_dir: PathBuf::from("unused"),
        cache: false,
        data: Default::default(),
        exec: true,
    }
}

/// Every template in reports/ with each parameter set it is rendered with.
fn renders() -> Vec<(PathBuf, Vec<(String, String)>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    let mut templates: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    templates.sort();
    let mut out = Vec::new();
    for t in templates {
        match pipeline::each_values(&t, "area", &Default::default()) {
            Ok(areas) => {
                for a in areas {
                    out.push((t.clone(), vec![("area".to_string(), a)]));
                }
            }
            Err(_) => out.push((t, vec![])),
        }
    }
    assert!(out.len() >= 8, "{out:?}");
    out
}

/// The cell of a frame as the CSV must hold it: empty for missing.
fn expected(col: &Column, row: usize) -> Option<String> {
    match col.get(row).unwrap() {
        AnyValue::Null => None,
        AnyValue::String(s) => Some(s.to_string()),
        AnyValue::StringOwned(s) => Some(s.to_string()),
        AnyValue::Boolean(b) => Some(b.to_string()),
        v => Some(v.to_string()),
    }
}

/// The CSV parsed back equals the frame: header in the frame's column
/// order, one record per row, each field the frame's value (numbers
/// compared as doubles, bit for bit).
fn assert_csv_is_frame(csv: &str, df: &DataFrame, what: &str) {
    let mut rdr = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(header, names, "{what}: columns or their order differ");
    let records: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), df.height(), "{what}: row count");
    for (r, rec) in records.iter().enumerate() {
        for (c, col) in df.columns().iter().enumerate() {
            let field = &rec[c];
            let place = format!("{what}: row {}, column `{}`", r + 1, col.name());
            if col.dtype().is_float() {
                let want = col.get(r).unwrap().extract::<f64>();
                match want {
                    Some(x) if x.is_finite() => {
                        let got: f64 = field
                            .parse()
                            .unwrap_or_else(|_| panic!("{place}: {field:?} is not a number"));
                        assert_eq!(got.to_bits(), x.to_bits(), "{place}: {got} != {x}");
                    }
                    // missing, NaN and infinities are empty cells
                    _ => assert_eq!(field, "", "{place}"),
                }
            } else {
                assert_eq!(field, expected(col, r).unwrap_or_default(), "{place}");
            }
        }
    }
}

/// The cells of every "Data behind this chart" table, in page order.
fn chart_tables(html: &str) -> Vec<Vec<Vec<String>>> {
    html.split("<details class=\"chart-data\">")
        .skip(1)
        .map(|part| {
            let table = &part[..part.find("</table>").unwrap()];
            table
                .split("<tr>")
                .skip(1)
                .map(|row| {
                    row.split("</th>")
                        .flat_map(|x| x.split("</td>"))
                        .filter_map(|cell| {
                            let open = cell.rfind("<td").or_else(|| cell.rfind("<th"))?;
                            let text = &cell[open..];
                            Some(unescape(&text[text.find('>')? + 1..]))
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

fn check(doc: &Evaluated, name: &str) -> usize {
    let html = coweave::render::html::render(doc);
    let links = downloads(&html);
    let tables = chart_tables(&html);
    let mut csvs = Vec::new();
    let mut figures = Vec::new();
    for node in &doc.nodes {
        let (csv, data, what) = match node {
            OutNode::Table(t) => (&t.csv, &t.data, t.label.clone()),
            OutNode::Figure(f) => {
                figures.push(&f.csv);
                (&f.csv, &f.data, f.label.clone())
            }
            _ => continue,
        };
        let what = format!("{name} {}", what.unwrap_or_default());
        csvs.push(csv);
        match data {
            Some(frame) => {
                let df = doc
                    .frames
                    .get(frame)
                    .unwrap_or_else(|| panic!("{what}: no frame `{frame}`"));
                assert_csv_is_frame(csv, df, &what);
            }
            // a chart of codebook items (likert) computes its own table:
            // it must still parse, with the same width on every line
            None => {
                let mut rdr = csv::Reader::from_reader(csv.as_bytes());
                let width = rdr.headers().unwrap().len();
                for r in rdr.records() {
                    assert_eq!(r.unwrap().len(), width, "{what}");
                }
            }
        }
    }
    // the page links exactly these CSVs, in document order
    assert_eq!(links.len(), csvs.len(), "{name}: download links");
    for (link, csv) in links.iter().zip(&csvs) {
        assert_eq!(link, *csv, "{name}: a download differs from its table");
    }
    // and each chart's data table shows its CSV, cell for cell
    assert_eq!(tables.len(), figures.len(), "{name}: chart data tables");
    for (table, csv) in tables.iter().zip(&figures) {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(csv.as_bytes());
        let rows: Vec<Vec<String>> = rdr
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
        assert_eq!(
            table, &rows,
            "{name}: a chart's data table differs from its CSV"
        );
    }
    csvs.len()
}

#[test]
fn every_download_and_chart_table_is_the_frame_behind_it() {
    let mut checked = 0;
    for (template, params) in renders() {
        let name = format!("{} {params:?}", template.display());
        let ev = pipeline::evaluate(&request(&template, params))
            .unwrap_or_else(|d| panic!("{name}: {d}"));
        checked += check(&ev.evaluated, &name);
    }
    assert!(checked > 40, "only {checked} downloads checked");
}

#[test]
fn a_csv_field_with_commas_quotes_and_newlines_reads_back() {
    let df = df![
        "label" => ["plain", "a, b", "say \"hi\"", "two\nlines"],
        "x" => [0.1 + 0.2, -0.0, 1e-300, 12345.678901234567],
        "n" => [Some(1i64), None, Some(3), Some(-4)],
    ]
    .unwrap();
    assert_csv_is_frame(&coweave::engine::frames::to_csv(&df), &df, "odd fields");
}
