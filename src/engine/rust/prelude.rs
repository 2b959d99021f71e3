// The prelude of `{rust}` cells: evaluated once per render before the first
// cell, std only, so that it compiles in a second. It is also compiled into
// coweave's tests (`include!`), so it cannot drift from what the host writes
// and reads. The exchange folder and the parameters come before it.
//
// A cell reads a frame of an earlier block with `frame("levels")`, hands
// values and frames to later blocks and to the prose with `put("name", x)`,
// and shows a frame as a table with `show(&f)` or an SVG image with
// `show_svg(&svg, "alt text")`. What it prints appears under the block.

/// A column of a [`Frame`]: numbers, whole numbers, text or yes/no, each
/// value possibly missing.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Numbers.
    F64(Vec<Option<f64>>),
    /// Whole numbers.
    I64(Vec<Option<i64>>),
    /// Text.
    Str(Vec<Option<String>>),
    /// Yes/no.
    Bool(Vec<Option<bool>>),
}

impl Column {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Column::F64(v) => v.len(),
            Column::I64(v) => v.len(),
            Column::Str(v) => v.len(),
            Column::Bool(v) => v.len(),
        }
    }
    /// No values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn kind(&self) -> &'static str {
        match self {
            Column::F64(_) => "f64",
            Column::I64(_) => "i64",
            Column::Str(_) => "str",
            Column::Bool(_) => "bool",
        }
    }
    fn text(&self, i: usize) -> Option<String> {
        match self {
            Column::F64(v) => v[i].map(|x| format!("{x}")),
            Column::I64(v) => v[i].map(|x| x.to_string()),
            Column::Str(v) => v[i].clone(),
            Column::Bool(v) => v[i].map(|x| x.to_string()),
        }
    }
}

impl From<Vec<f64>> for Column {
    fn from(v: Vec<f64>) -> Column {
        Column::F64(v.into_iter().map(|x| if x.is_nan() { None } else { Some(x) }).collect())
    }
}
impl From<Vec<Option<f64>>> for Column {
    fn from(v: Vec<Option<f64>>) -> Column {
        Column::F64(v)
    }
}
impl From<Vec<i64>> for Column {
    fn from(v: Vec<i64>) -> Column {
        Column::I64(v.into_iter().map(Some).collect())
    }
}
impl From<Vec<Option<i64>>> for Column {
    fn from(v: Vec<Option<i64>>) -> Column {
        Column::I64(v)
    }
}
impl From<Vec<String>> for Column {
    fn from(v: Vec<String>) -> Column {
        Column::Str(v.into_iter().map(Some).collect())
    }
}
impl From<Vec<&str>> for Column {
    fn from(v: Vec<&str>) -> Column {
        Column::Str(v.into_iter().map(|s| Some(s.to_string())).collect())
    }
}
impl From<Vec<bool>> for Column {
    fn from(v: Vec<bool>) -> Column {
        Column::Bool(v.into_iter().map(Some).collect())
    }
}

/// A table of named columns of equal length, as `{rust}` cells see frames.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Frame {
    names: Vec<String>,
    columns: Vec<Column>,
}

impl Frame {
    /// An empty frame; add columns with [`Frame::with`].
    pub fn new() -> Frame {
        Frame::default()
    }
    /// Number of rows.
    pub fn height(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }
    /// Column names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.names.iter().map(String::as_str).collect()
    }
    /// The column `name`; panics naming the columns there are.
    pub fn column(&self, name: &str) -> &Column {
        match self.names.iter().position(|n| n == name) {
            Some(i) => &self.columns[i],
            None => panic!("no column `{name}`; columns: {}", self.names.join(", ")),
        }
    }
    /// A number column (whole numbers too); missing values are `None`.
    pub fn opt_f64(&self, name: &str) -> Vec<Option<f64>> {
        match self.column(name) {
            Column::F64(v) => v.clone(),
            Column::I64(v) => v.iter().map(|x| x.map(|x| x as f64)).collect(),
            Column::Bool(v) => v.iter().map(|x| x.map(|b| if b { 1.0 } else { 0.0 })).collect(),
            Column::Str(_) => panic!("column `{name}` is text, not numbers"),
        }
    }
    /// A number column; missing values are NaN.
    pub fn f64(&self, name: &str) -> Vec<f64> {
        self.opt_f64(name).into_iter().map(|x| x.unwrap_or(f64::NAN)).collect()
    }
    /// A whole-number column; panics on a missing value.
    pub fn i64(&self, name: &str) -> Vec<i64> {
        match self.column(name) {
            Column::I64(v) => v
                .iter()
                .enumerate()
                .map(|(i, x)| x.unwrap_or_else(|| panic!("column `{name}` is missing in row {}", i + 1)))
                .collect(),
            other => panic!("column `{name}` holds {}, not whole numbers", other.kind()),
        }
    }
    /// Any column as text; missing values are empty.
    pub fn str(&self, name: &str) -> Vec<String> {
        let c = self.column(name);
        (0..c.len()).map(|i| c.text(i).unwrap_or_default()).collect()
    }
    /// The frame with one more column (or a column replaced); panics when its
    /// length differs from the frame's.
    pub fn with(mut self, name: &str, column: impl Into<Column>) -> Frame {
        let column = column.into();
        if !self.columns.is_empty() && column.len() != self.height() {
            panic!("column `{name}` has {} values; the frame has {} rows", column.len(), self.height());
        }
        match self.names.iter().position(|n| n == name) {
            Some(i) => self.columns[i] = column,
            None => {
                self.names.push(name.to_string());
                self.columns.push(column);
            }
        }
        self
    }
    /// The rows whose index `keep` accepts.
    pub fn filter(&self, keep: impl Fn(usize) -> bool) -> Frame {
        let rows: Vec<usize> = (0..self.height()).filter(|&i| keep(i)).collect();
        let columns = self
            .columns
            .iter()
            .map(|c| match c {
                Column::F64(v) => Column::F64(rows.iter().map(|&i| v[i]).collect()),
                Column::I64(v) => Column::I64(rows.iter().map(|&i| v[i]).collect()),
                Column::Str(v) => Column::Str(rows.iter().map(|&i| v[i].clone()).collect()),
                Column::Bool(v) => Column::Bool(rows.iter().map(|&i| v[i]).collect()),
            })
            .collect();
        Frame { names: self.names.clone(), columns }
    }
    /// The frame in the exchange format (tab-separated, typed header).
    pub fn to_exchange(&self) -> String {
        let mut out = self.names.iter().map(|n| escape_field(n)).collect::<Vec<_>>().join("\t");
        out.push('\n');
        out.push_str(&self.columns.iter().map(Column::kind).collect::<Vec<_>>().join("\t"));
        out.push('\n');
        for i in 0..self.height() {
            let row: Vec<String> = self
                .columns
                .iter()
                .map(|c| c.text(i).map_or_else(|| "\\N".to_string(), |t| escape_field(&t)))
                .collect();
            out.push_str(&row.join("\t"));
            out.push('\n');
        }
        out
    }
    /// Reads the exchange format.
    pub fn from_exchange(text: &str) -> Result<Frame, String> {
        let mut lines = text.split('\n');
        let names: Vec<String> = match lines.next() {
            Some("") | None => return Ok(Frame::new()),
            Some(l) => l.split('\t').map(unescape_field).collect(),
        };
        let kinds: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
        if kinds.len() != names.len() {
            return Err("the header has a different number of names and types".into());
        }
        let mut columns: Vec<Column> = kinds
            .iter()
            .map(|k| match *k {
                "f64" => Ok(Column::F64(Vec::new())),
                "i64" => Ok(Column::I64(Vec::new())),
                "bool" => Ok(Column::Bool(Vec::new())),
                "str" => Ok(Column::Str(Vec::new())),
                other => Err(format!("unknown column type `{other}`")),
            })
            .collect::<Result<_, _>>()?;
        for (r, line) in lines.enumerate() {
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() != columns.len() {
                return Err(format!("row {} has {} fields, not {}", r + 1, fields.len(), columns.len()));
            }
            for (c, f) in columns.iter_mut().zip(fields) {
                let null = f == "\\N";
                let bad = || format!("row {}: `{f}` is not a {}", r + 1, "value of its column's type");
                match c {
                    Column::F64(v) => v.push(if null { None } else { Some(f.parse().map_err(|_| bad())?) }),
                    Column::I64(v) => v.push(if null { None } else { Some(f.parse().map_err(|_| bad())?) }),
                    Column::Bool(v) => v.push(if null { None } else { Some(f.parse().map_err(|_| bad())?) }),
                    Column::Str(v) => v.push(if null { None } else { Some(unescape_field(f)) }),
                }
            }
        }
        Ok(Frame { names, columns })
    }
    /// Shows the frame as text when it is a cell's last expression.
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/plain\n{self}\nEVCXR_END_CONTENT");
    }
}

impl std::fmt::Display for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const SHOWN: usize = 20;
        let rows = self.height().min(SHOWN);
        let cells: Vec<Vec<String>> = self
            .columns
            .iter()
            .zip(&self.names)
            .map(|(c, n)| {
                let mut col = vec![n.clone()];
                col.extend((0..rows).map(|i| c.text(i).unwrap_or_else(|| "NA".into())));
                col
            })
            .collect();
        let widths: Vec<usize> = cells.iter().map(|c| c.iter().map(|s| s.chars().count()).max().unwrap_or(0)).collect();
        for r in 0..=rows {
            let line: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{:>w$}", c[r], w = *w))
                .collect();
            writeln!(f, "{}", line.join("  ").trim_end())?;
        }
        write!(f, "({} rows x {} columns)", self.height(), self.names.len())
    }
}

/// A text field in the exchange format: backslash, tab, newline and
/// carriage return escaped.
pub fn escape_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// A text field read back from the exchange format.
pub fn unescape_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(c) => out.push(c),
            None => out.push('\\'),
        }
    }
    out
}

/// What [`put`] hands to later blocks: a frame, a number, text or yes/no.
pub trait Handed {
    /// (kind, content in the exchange format).
    fn handed(&self) -> (&'static str, String);
}
impl Handed for Frame {
    fn handed(&self) -> (&'static str, String) {
        ("frame", self.to_exchange())
    }
}
impl Handed for &Frame {
    fn handed(&self) -> (&'static str, String) {
        ("frame", self.to_exchange())
    }
}
/// A single value as a one-row frame with the column `value`.
fn handed_value(column: Column) -> (&'static str, String) {
    ("value", Frame::new().with("value", column).to_exchange())
}
impl Handed for f64 {
    fn handed(&self) -> (&'static str, String) {
        handed_value(Column::F64(vec![Some(*self).filter(|x| !x.is_nan())]))
    }
}
impl Handed for f32 {
    fn handed(&self) -> (&'static str, String) {
        (*self as f64).handed()
    }
}
impl Handed for i64 {
    fn handed(&self) -> (&'static str, String) {
        handed_value(Column::I64(vec![Some(*self)]))
    }
}
impl Handed for i32 {
    fn handed(&self) -> (&'static str, String) {
        (*self as i64).handed()
    }
}
impl Handed for u32 {
    fn handed(&self) -> (&'static str, String) {
        (*self as i64).handed()
    }
}
impl Handed for usize {
    fn handed(&self) -> (&'static str, String) {
        (*self as i64).handed()
    }
}
impl Handed for bool {
    fn handed(&self) -> (&'static str, String) {
        handed_value(Column::Bool(vec![Some(*self)]))
    }
}
impl Handed for &str {
    fn handed(&self) -> (&'static str, String) {
        handed_value(Column::Str(vec![Some(self.to_string())]))
    }
}
impl Handed for String {
    fn handed(&self) -> (&'static str, String) {
        self.as_str().handed()
    }
}
impl Handed for &String {
    fn handed(&self) -> (&'static str, String) {
        self.as_str().handed()
    }
}

fn exchange_write(kind: &str, name: &str, content: &str) {
    let out = std::path::Path::new(COWEAVE_EXCHANGE).join("out");
    let seq = std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0);
    let path = out.join(format!("{seq:04}-{kind}-{name}"));
    if let Err(e) = std::fs::write(&path, content) {
        panic!("could not hand `{name}` to coweave: {e}");
    }
}

/// Hands a frame or a value to later blocks and to the prose under `name`.
pub fn put<T: Handed>(name: &str, value: T) {
    let (kind, content) = value.handed();
    exchange_write(kind, name, &content);
}

/// Shows a frame as a table in the report.
pub fn show(frame: &Frame) {
    exchange_write("table", "", &frame.to_exchange());
}

/// Shows an SVG image in the report, with its alt text.
pub fn show_svg(svg: &str, alt: &str) {
    exchange_write("figure", "", &format!("{}\n{svg}", escape_field(alt)));
}

/// The frame an earlier block produced (named in the cell as a literal, so
/// that coweave knows to hand it over).
pub fn frame(name: &str) -> Frame {
    let path = std::path::Path::new(COWEAVE_EXCHANGE).join("in").join(format!("{name}.tsv"));
    match std::fs::read_to_string(&path) {
        Ok(text) => Frame::from_exchange(&text).unwrap_or_else(|e| panic!("frame `{name}`: {e}")),
        Err(_) => panic!("no frame `{name}` was handed to this cell; name it as a literal, `frame(\"{name}\")`, after the block that makes it"),
    }
}

/// A parameter of the render (`--param key=value`), as text.
pub fn param(name: &str) -> String {
    match COWEAVE_PARAMS.iter().find(|(k, _)| *k == name) {
        Some((_, v)) => v.to_string(),
        None => panic!("no parameter `{name}`; parameters: {}", COWEAVE_PARAMS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")),
    }
}
