//! Reading back what the HTML page links: `data:` URIs as the page writes
//! them (percent-encoded, inside an HTML-escaped attribute).

/// HTML attribute text back to plain text.
pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Percent-decoding of a `data:` URI's payload.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The CSV of every download link on the page, in page order.
pub fn downloads(html: &str) -> Vec<String> {
    let marker = "href=\"data:text/csv;charset=utf-8,";
    html.match_indices(marker)
        .map(|(i, _)| {
            let rest = &html[i + marker.len()..];
            percent_decode(&unescape(&rest[..rest.find('"').unwrap()]))
        })
        .collect()
}
