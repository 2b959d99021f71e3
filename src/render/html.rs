//! `--to html`: one self-contained page (CSS and SVG inline, no request to
//! any other host), responsive, printable and accessible. Every string that
//! comes from data or templates is escaped; raw HTML in templates is shown
//! as text, never passed through.

use std::collections::HashMap;
use std::fmt::Write as _;

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Tag, TagEnd};

use crate::engine::{
    Cell, Emphasis, Evaluated, FigureOut, Markdown, OutNode, Piece, TableOut, frames,
};

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The footer's count of the render's warnings, each with its message.
fn warnings_note(warnings: &[crate::diag::Diagnostic]) -> String {
    if warnings.is_empty() {
        return "none".into();
    }
    let items: Vec<String> = warnings
        .iter()
        .map(|w| {
            let place = w.location.as_ref().map_or(String::new(), |l| match l.line {
                Some(line) => format!(" ({}:{line})", l.file.display()),
                None => format!(" ({})", l.file.display()),
            });
            format!("<li>{}{}</li>", escape(&w.message), escape(&place))
        })
        .collect();
    format!(
        "{} (also in the JSON output)<ul>{}</ul>",
        warnings.len(),
        items.concat()
    )
}

/// Percent-encodes text for a `data:` URI.
fn data_uri(mime: &str, text: &str) -> String {
    let mut out = format!("data:{mime};charset=utf-8,");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~,;:/()".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

struct Heading {
    level: u8,
    id: String,
    text: String,
}

/// Prose to HTML with heading ids (unique across the page), raw HTML escaped;
/// a cross-reference is a link to its table or figure.
fn markdown(
    md: &Markdown,
    ids: &mut HashMap<String, usize>,
    headings: &mut Vec<Heading>,
) -> String {
    let mut events: Vec<Event> = Vec::with_capacity(md.pieces.len());
    for piece in &md.pieces {
        match piece {
            Piece::Md(Event::Html(h) | Event::InlineHtml(h)) => events.push(Event::Text(h.clone())),
            Piece::Md(e) => events.push(e.clone()),
            Piece::Ref(r) => {
                let link = Tag::Link {
                    link_type: LinkType::Inline,
                    dest_url: format!("#{}", r.label).into(),
                    title: "".into(),
                    id: "".into(),
                };
                events.extend([
                    Event::Start(link),
                    Event::Text(r.text().into()),
                    Event::End(TagEnd::Link),
                ]);
            }
        }
    }
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading { level, id, .. }) = &events[i] {
            let level = *level;
            let explicit = id.clone();
            let mut title = String::new();
            let mut j = i + 1;
            while j < events.len() && !matches!(events[j], Event::End(TagEnd::Heading(_))) {
                if let Event::Text(t) | Event::Code(t) = &events[j] {
                    title.push_str(t);
                }
                j += 1;
            }
            let base = explicit.map(|s| s.to_string()).unwrap_or_else(|| {
                let s = frames::slug(&title).replace('_', "-");
                if s.is_empty() { "section".into() } else { s }
            });
            let n = ids.entry(base.clone()).or_insert(0);
            *n += 1;
            let unique = if *n == 1 { base } else { format!("{base}-{n}") };
            if let Event::Start(Tag::Heading { id, .. }) = &mut events[i] {
                *id = Some(CowStr::from(unique.clone()));
            }
            let lvl = match level {
                HeadingLevel::H1 => 1,
                HeadingLevel::H2 => 2,
                HeadingLevel::H3 => 3,
                _ => 4,
            };
            headings.push(Heading {
                level: lvl,
                id: unique,
                text: title,
            });
            i = j;
        }
        i += 1;
    }
    // a code block scrolls sideways on a narrow screen: the keyboard
    // reaches it and a screen reader hears what it is
    let events = events.into_iter().map(|e| match e {
        Event::Start(Tag::CodeBlock(kind)) => {
            let lang = match &kind {
                pulldown_cmark::CodeBlockKind::Fenced(l) => {
                    l.split_whitespace().next().unwrap_or("").to_string()
                }
                pulldown_cmark::CodeBlockKind::Indented => String::new(),
            };
            let (label, class) = if lang.is_empty() {
                ("Code".to_string(), String::new())
            } else {
                (
                    format!("{lang} code"),
                    format!(" class=\"language-{}\"", escape(&lang)),
                )
            };
            Event::Html(CowStr::from(format!(
                "<pre tabindex=\"0\" role=\"region\" aria-label=\"{}\"><code{class}>",
                escape(&label)
            )))
        }
        Event::End(TagEnd::CodeBlock) => Event::Html(CowStr::from("</code></pre>\n")),
        e => e,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// A body cell; `rows` over 1 spans that many rows (an outer row key).
fn cell_html(tag: &str, scope: Option<&str>, rows: usize, c: &Cell) -> String {
    let mut class = Vec::new();
    if c.numeric {
        class.push("num");
    }
    match c.emphasis {
        Emphasis::Bold => class.push("sig-pos"),
        Emphasis::Shade => class.push("sig-neg"),
        Emphasis::None => {}
    }
    if c.suppressed {
        class.push("suppressed");
    }
    let mut scope = scope.map_or(String::new(), |s| format!(" scope=\"{s}\""));
    if rows > 1 {
        scope = format!(" rowspan=\"{rows}\"{scope}");
    }
    let class = if class.is_empty() {
        String::new()
    } else {
        format!(" class=\"{}\"", class.join(" "))
    };
    let text = escape(&c.text);
    let text = if c.emphasis == Emphasis::Bold {
        format!("<strong>{text}</strong>")
    } else {
        text
    };
    // a header cell with no text names nothing: a screen reader would
    // announce it as a blank heading, so it is a plain cell
    if tag == "th" && text.trim().is_empty() {
        return format!("<td{class}></td>");
    }
    format!("<{tag}{scope}{class}>{text}</{tag}>")
}

/// A table as an HTML fragment (for notebook outputs).
pub(crate) fn table_fragment(t: &TableOut) -> String {
    table_html(t, 1)
}

fn table_html(t: &TableOut, index: usize) -> String {
    let id = t.label.clone().unwrap_or_else(|| format!("table-{index}"));
    let caption = match (&t.number, &t.caption) {
        (Some(n), Some(c)) => Some(format!(
            "<span class=\"num-label\">Table {n}:</span> {}",
            escape(c)
        )),
        (Some(n), None) => Some(format!("<span class=\"num-label\">Table {n}</span>")),
        (None, Some(c)) => Some(escape(c)),
        (None, None) => None,
    };
    // the table scrolls sideways on a narrow screen: a keyboard reaches
    // the scrolling region, and a screen reader hears what it holds
    let region = region_name("Table", &t.number, &t.caption);
    let mut h = format!(
        "<figure class=\"table\" id=\"{}\">\n<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"{}\"><table>\n",
        escape(&id),
        escape(&region)
    );
    if let Some(c) = caption {
        let _ = writeln!(h, "<caption>{c}</caption>");
    }
    h.push_str("<thead>\n");
    // a heading over a column of numbers stands right, as its numbers do
    let numeric =
        |j: usize| !t.rows.is_empty() && t.rows.iter().all(|r| r.get(j).is_some_and(|c| c.numeric));
    for line in &t.header {
        h.push_str("<tr>");
        let mut column = 0;
        for (text, span) in line {
            let span_attr = if *span > 1 {
                format!(" colspan=\"{span}\" scope=\"colgroup\"")
            } else if numeric(column) {
                " scope=\"col\" class=\"num\"".into()
            } else {
                " scope=\"col\"".into()
            };
            column += span;
            if text.trim().is_empty() {
                // the corner over the row headings: no heading to announce
                let span_attr = if *span > 1 {
                    format!(" colspan=\"{span}\"")
                } else {
                    String::new()
                };
                let _ = write!(h, "<td{span_attr}></td>");
                continue;
            }
            let _ = write!(h, "<th{span_attr}>{}</th>", escape(text));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</thead>\n<tbody>\n");
    let spans = t.row_spans();
    for (row, spans) in t.rows.iter().zip(&spans) {
        h.push_str("<tr>");
        for ((i, c), span) in row.iter().enumerate().zip(spans) {
            if *span == 0 {
                continue;
            }
            h.push_str(&match (*span, i < t.row_header_columns) {
                (1, true) => cell_html("th", Some("row"), 1, c),
                (1, false) => cell_html("td", None, 1, c),
                // an outer row key heading its run of rows
                (n, _) => cell_html("th", Some("rowgroup"), n, c),
            });
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table></div>\n");
    if !t.notes.is_empty() || !t.csv.is_empty() {
        h.push_str("<figcaption class=\"notes\">");
        for n in &t.notes {
            let _ = write!(h, "<span>{}</span> ", escape(n));
        }
        let _ = write!(
            h,
            "<a class=\"download\" download=\"{}.csv\" href=\"{}\">Download the data (CSV)</a>",
            escape(&id),
            escape(&data_uri("text/csv", &t.csv))
        );
        h.push_str("</figcaption>\n");
    }
    h.push_str("</figure>\n");
    h
}

fn csv_table(csv: &str) -> String {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv.as_bytes());
    let mut h = String::from("<table class=\"data\"><thead><tr>");
    if let Ok(headers) = rdr.headers() {
        for f in headers {
            let _ = write!(h, "<th scope=\"col\">{}</th>", escape(f));
        }
    }
    h.push_str("</tr></thead><tbody>");
    for rec in rdr.records().flatten() {
        h.push_str("<tr>");
        for f in &rec {
            let _ = write!(h, "<td>{}</td>", escape(f));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    h
}

/// The name a screen reader gives a table's or chart's scrolling region:
/// "Table 2", else its caption, else the kind.
fn region_name(kind: &str, number: &Option<String>, caption: &Option<String>) -> String {
    match (number, caption) {
        (Some(n), _) => format!("{kind} {n}"),
        (None, Some(c)) => c.clone(),
        (None, None) => kind.to_string(),
    }
}

fn figure_html(f: &FigureOut, index: usize) -> String {
    let id = f.label.clone().unwrap_or_else(|| format!("figure-{index}"));
    // the figure is named by its caption, as a table is by its own
    let named = if f.number.is_some() || f.caption.is_some() {
        format!(" aria-labelledby=\"{}-caption\"", escape(&id))
    } else {
        String::new()
    };
    let mut h = format!("<figure class=\"chart\" id=\"{}\"{named}>\n", escape(&id));
    // on a narrow screen the chart keeps a legible width and scrolls: the
    // scrolling region is focusable and named, the image inside has its alt
    let region = region_name("Figure", &f.number, &f.caption);
    let _ = writeln!(
        h,
        "<div class=\"svg\" tabindex=\"0\" role=\"region\" aria-label=\"{}\"><div role=\"img\" aria-label=\"{}\">{}</div></div>",
        escape(&region),
        escape(&f.alt),
        sanitize_svg(&f.svg)
    );
    let caption = match (&f.number, &f.caption) {
        (Some(n), Some(c)) => format!("<span class=\"num-label\">Figure {n}:</span> {}", escape(c)),
        (Some(n), None) => format!("<span class=\"num-label\">Figure {n}</span>"),
        (None, Some(c)) => escape(c),
        (None, None) => String::new(),
    };
    let _ = writeln!(
        h,
        "<figcaption id=\"{}-caption\">{caption}</figcaption>",
        escape(&id)
    );
    // an image a code cell drew has no data behind it that coweave knows
    if !f.csv.is_empty() {
        let _ = writeln!(
            h,
            "<details class=\"chart-data\"><summary>Data behind this chart</summary>{}<a class=\"download\" download=\"{}.csv\" href=\"{}\">Download (CSV)</a></details>",
            csv_table(&f.csv),
            escape(&id),
            escape(&data_uri("text/csv", &f.csv))
        );
    }
    h.push_str("</figure>\n");
    h
}

/// Drops anything in chart SVG that could run or fetch: the SVG comes from
/// our own chart code, but labels come from data.
pub(crate) fn sanitize_svg(svg: &str) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    let svg = &svg[start..];
    let lower = svg.to_ascii_lowercase();
    // plotters escapes every text it writes; this is defence in depth. An
    // event handler is an attribute: looked for inside tags only, so that a
    // label that says "onerror=" is text, not a reason to withhold a chart
    let tags: String = lower
        .split('<')
        .skip(1)
        .filter_map(|t| t.split('>').next())
        .map(|t| format!(" {t} "))
        .collect();
    let handler = tags.match_indices("on").any(|(i, _)| {
        let before = tags[..i].chars().next_back();
        let after: String = tags[i + 2..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        before.is_some_and(char::is_whitespace)
            && !after.is_empty()
            && tags[i + 2 + after.len()..].trim_start().starts_with('=')
    });
    if lower.contains("<script")
        || lower.contains("<foreignobject")
        || tags.contains("javascript:")
        || handler
    {
        return "<p>(chart withheld: unsafe content)</p>".into();
    }
    svg.replacen("<svg", "<svg aria-hidden=\"true\" focusable=\"false\"", 1)
}

/// The page's style. On a wide screen a table may grow past the text column
/// (centred, up to the window) so its columns need not wrap; a table wider
/// still scrolls sideways inside its frame, with a shadow at the edge that
/// has more ("scroll shadows": backgrounds that move with the content cover
/// the shadow at an end).
const CSS: &str = r#"
:root{--ink:#1d2433;--muted:#5b6475;--rule:#d9dde5;--accent:#0072B2;--shade:#fde2cf;--bg:#fff}
*{box-sizing:border-box}
html{font-size:17px}
body{margin:0;background:var(--bg);color:var(--ink);font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;line-height:1.55}
main{max-width:52rem;margin:0 auto;padding:2rem 1.25rem 4rem}
header.title{border-bottom:3px solid var(--accent);margin-bottom:1.5rem;padding-bottom:1rem}
header.title h1{font-size:2rem;line-height:1.2;margin:0 0 .3rem}
header.title .subtitle{font-size:1.2rem;color:var(--muted);margin:0 0 .5rem}
header.title .byline{color:var(--muted);margin:0}
.data-notice{background:#fff4d6;border-left:5px solid #b8860b;padding:.6rem .9rem;margin:0 0 1.5rem;border-radius:3px}
h2{font-size:1.45rem;margin-top:2.2rem;border-bottom:1px solid var(--rule);padding-bottom:.2rem}
h3{font-size:1.15rem;margin-top:1.6rem}
a{color:var(--accent)}
nav.toc{background:#f5f7fa;border:1px solid var(--rule);border-radius:6px;padding:.6rem 1.2rem;margin:1rem 0 2rem}
nav.toc h2{font-size:1rem;margin:.2rem 0;border:0}
nav.toc ol{margin:.2rem 0;padding-left:1.2rem}
nav.toc ol ol{list-style:lower-alpha;padding-left:1.4rem}
figure{margin:1.8rem 0}
figure.table .scroll{overflow-x:auto;background:linear-gradient(to right,#fff 30%,rgba(255,255,255,0)),linear-gradient(to right,rgba(255,255,255,0),#fff 70%) 100% 0,radial-gradient(farthest-side at 0 50%,rgba(0,0,0,.22),rgba(0,0,0,0)),radial-gradient(farthest-side at 100% 50%,rgba(0,0,0,.22),rgba(0,0,0,0)) 100% 0;background-repeat:no-repeat;background-size:40px 100%,40px 100%,14px 100%,14px 100%;background-attachment:local,local,scroll,scroll}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:.92rem}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3rem 0 .5rem}
th,td{padding:.3rem .55rem;border-bottom:1px solid var(--rule);text-align:left;vertical-align:top}
thead th{border-bottom:2px solid var(--ink);font-weight:600}
td.num,th.num{text-align:right}
td.sig-neg{background:var(--shade)}
td.suppressed{color:var(--muted)}
figcaption{color:var(--muted);font-size:.88rem;margin-top:.4rem}
figcaption.notes span{display:inline}
.num-label{font-weight:700;color:var(--ink)}
figure.chart .svg{overflow-x:auto}
td.num{white-space:nowrap}
figure.chart .svg svg{max-width:100%;height:auto;display:block}
@media (max-width:640px){figure.chart .svg svg{max-width:none;width:600px}figure.chart .svg{border-right:3px solid var(--rule)}}
[tabindex="0"]:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
details.chart-data{font-size:.85rem;margin-top:.4rem}
details.chart-data table{margin:.5rem 0}
a.download{display:inline-block;margin-left:.3rem}
pre{background:#f5f7fa;border:1px solid var(--rule);border-radius:6px;padding:.7rem 1rem;overflow-x:auto;font-size:.85rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
footer.provenance{margin-top:3rem;border-top:1px solid var(--rule);padding-top:.8rem;color:var(--muted);font-size:.8rem}
footer.provenance dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:0}
footer.provenance dd{margin:0;word-break:break-all}
@media (max-width:600px){html{font-size:15px}main{padding:1rem .8rem 3rem}}
@media screen and (min-width:1000px){figure.table{width:max-content;min-width:100%;max-width:min(calc(100vw - 4rem),72rem);margin-left:50%;transform:translateX(-50%)}}
@media print{html{font-size:11pt}main{max-width:none;padding:0}nav.toc,a.download,details.chart-data{display:none}figure{break-inside:avoid}h2,h3{break-after:avoid}a{color:inherit;text-decoration:none}td.sig-neg{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"#;

/// The page's Content-Security-Policy: no script at all, no remote load of
/// any kind (styles inline, images and fonts only as `data:`), no forms, no
/// `<base>`.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; form-action 'none'";

/// Renders the page.
pub fn render(doc: &Evaluated) -> String {
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut headings = Vec::new();
    let mut body = String::new();
    let (mut tables, mut figures) = (0, 0);
    for node in &doc.nodes {
        match node {
            OutNode::Markdown(md) => body.push_str(&markdown(md, &mut ids, &mut headings)),
            OutNode::Code { engine, source } => {
                let _ = writeln!(
                    body,
                    "<pre tabindex=\"0\" role=\"region\" aria-label=\"{} code\"><code class=\"language-{}\">{}</code></pre>",
                    escape(engine),
                    escape(engine),
                    escape(source)
                );
            }
            OutNode::Output { text } => {
                let _ = writeln!(
                    body,
                    "<pre class=\"output\" tabindex=\"0\" role=\"region\" aria-label=\"Output\"><samp>{}</samp></pre>",
                    escape(text)
                );
            }
            OutNode::Table(t) => {
                tables += 1;
                body.push_str(&table_html(t, tables));
            }
            OutNode::Figure(f) => {
                figures += 1;
                body.push_str(&figure_html(f, figures));
            }
        }
    }
    let mut page = String::new();
    let _ = writeln!(
        page,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">",
        escape(&doc.lang)
    );
    // nothing runs and nothing loads from elsewhere, whatever a label holds:
    // the page is inline styles, inline SVG and data: images and downloads
    let _ = writeln!(
        page,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
    );
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        page,
        "<meta name=\"generator\" content=\"coweave {}\">",
        escape(&doc.provenance.coweave)
    );
    let _ = writeln!(page, "<title>{}</title>", escape(&doc.title));
    let _ = writeln!(page, "<style>{CSS}</style>\n</head>\n<body>\n<main>");
    page.push_str("<header class=\"title\">\n");
    let _ = writeln!(page, "<h1>{}</h1>", escape(&doc.title));
    if let Some(s) = &doc.subtitle {
        let _ = writeln!(page, "<p class=\"subtitle\">{}</p>", escape(s));
    }
    let _ = writeln!(
        page,
        "<p class=\"byline\">{}</p>\n</header>",
        escape(&doc.byline())
    );
    if let Some(notice) = &doc.notice {
        let _ = writeln!(
            page,
            "<p class=\"data-notice\" role=\"note\"><strong>{}</strong> {}</p>",
            escape(&notice.head),
            escape(&notice.body)
        );
    }
    let toc: Vec<&Heading> = headings
        .iter()
        .filter(|h| h.level == 2 || h.level == 3)
        .collect();
    if doc.toc && toc.len() > 1 {
        page.push_str("<nav class=\"toc\" aria-label=\"Contents\"><h2>Contents</h2><ol>\n");
        // level-3 headings nest under the level-2 heading before them
        let mut open_sub = false;
        for (i, h) in toc.iter().enumerate() {
            if h.level == 3 && !open_sub && i > 0 {
                page.push_str("<ol>\n");
                open_sub = true;
            } else if h.level == 2 && open_sub {
                page.push_str("</ol></li>\n");
                open_sub = false;
            } else if i > 0 {
                page.push_str("</li>\n");
            }
            let _ = write!(
                page,
                "<li><a href=\"#{}\">{}</a>",
                escape(&h.id),
                escape(&h.text)
            );
        }
        page.push_str(if open_sub {
            "</li></ol></li>\n"
        } else {
            "</li>\n"
        });
        page.push_str("</ol></nav>\n");
    }
    page.push_str(&body);
    page.push_str("<footer class=\"provenance\"><dl>");
    for (what, value) in doc.provenance_rows() {
        let _ = write!(
            page,
            "<dt>{}</dt><dd>{}</dd>",
            escape(&what),
            escape(&value)
        );
    }
    let _ = write!(
        page,
        "<dt>Warnings</dt><dd>{}</dd></dl></footer>\n</main>\n</body>\n</html>\n",
        warnings_note(&doc.warnings)
    );
    page
}

#[cfg(test)]
mod tests {
    use super::sanitize_svg;

    /// A handler or a script in the chart's markup withholds the chart; the
    /// same words in its (escaped) text do not.
    #[test]
    fn handlers_are_found_in_tags_not_in_text() {
        let withheld = "<p>(chart withheld: unsafe content)</p>";
        for bad in [
            "<svg><rect onload=\"x()\"/></svg>",
            "<svg><rect\nONERROR = 'x'/></svg>",
            "<svg><script>x()</script></svg>",
            "<svg><a href=\"javascript:x()\"><text>a</text></a></svg>",
            "<svg><foreignObject/></svg>",
        ] {
            assert_eq!(sanitize_svg(bad), withheld, "{bad}");
        }
        let label =
            "<svg><text>a label that says onerror=&quot;x&quot; and javascript:</text></svg>";
        assert!(sanitize_svg(label).contains("onerror=&quot;x&quot;"));
        let plain = "<svg width=\"10\"><text font-family=\"sans\">Bonny = 3</text></svg>";
        assert!(sanitize_svg(plain).starts_with("<svg aria-hidden=\"true\""));
    }
}
