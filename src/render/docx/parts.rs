//! The package's fixed parts: styles, numbering, settings, footer, document
//! properties, content types and relationships. Style ids are Word's own
//! (`Heading1`, `Caption`, `FootnoteText`, ...), so Word's navigation pane,
//! table of contents and caption tools recognise them, and a reference
//! document's styles of the same ids take their place.

use std::fmt::Write as _;

use super::esc;

/// Namespaces of the WordprocessingML parts.
pub const NS: &str = concat!(
    " xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"",
    " xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"",
    " xmlns:wp=\"http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing\"",
    " xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\"",
    " xmlns:pic=\"http://schemas.openxmlformats.org/drawingml/2006/picture\""
);

/// The XML declaration every part starts with.
pub const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

const FONT: &str =
    "<w:rFonts w:ascii=\"Arial\" w:hAnsi=\"Arial\" w:eastAsia=\"Arial\" w:cs=\"Arial\"/>";
const MONO: &str = "<w:rFonts w:ascii=\"Consolas\" w:hAnsi=\"Consolas\" w:eastAsia=\"Consolas\" w:cs=\"Consolas\"/>";

/// A paragraph style: id, name, based on, next, pPr and rPr bodies.
fn para(id: &str, name: &str, based: &str, ppr: &str, rpr: &str) -> String {
    let based = if based.is_empty() {
        String::new()
    } else {
        format!("<w:basedOn w:val=\"{based}\"/>")
    };
    // after a heading, a title or a caption, Enter gives a body paragraph
    let next = if id.starts_with("Heading") || matches!(id, "Title" | "Subtitle" | "Caption") {
        "<w:next w:val=\"Normal\"/>"
    } else {
        ""
    };
    format!(
        "<w:style w:type=\"paragraph\" w:customStyle=\"{}\" w:styleId=\"{id}\"><w:name w:val=\"{name}\"/>{based}{next}<w:qFormat/><w:pPr>{ppr}</w:pPr><w:rPr>{rpr}</w:rPr></w:style>",
        u8::from(!BUILT_IN.contains(&id))
    )
}

fn character(id: &str, name: &str, rpr: &str) -> String {
    format!(
        "<w:style w:type=\"character\" w:customStyle=\"{}\" w:styleId=\"{id}\"><w:name w:val=\"{name}\"/><w:rPr>{rpr}</w:rPr></w:style>",
        u8::from(!BUILT_IN.contains(&id))
    )
}

/// Style ids Word has built in (the others are marked custom).
const BUILT_IN: [&str; 16] = [
    "Normal",
    "Title",
    "Subtitle",
    "Heading1",
    "Heading2",
    "Heading3",
    "Caption",
    "Quote",
    "ListParagraph",
    "FootnoteText",
    "FootnoteReference",
    "Hyperlink",
    "Footer",
    "TOCHeading",
    "TOC1",
    "TOC2",
];

/// Every style the body uses, as (id, XML): what a reference document
/// lacks is added from here.
pub fn styles(text_width: i64) -> Vec<(&'static str, String)> {
    // contents entries: page numbers at the right margin, dot leaders
    let tab = format!(
        "<w:tabs><w:tab w:val=\"right\" w:leader=\"dot\" w:pos=\"{}\"/></w:tabs>",
        text_width - 10
    );
    let heading = |n: u8, size: u32, before: u32| {
        format!(
            "<w:keepNext/><w:keepLines/><w:spacing w:before=\"{before}\" w:after=\"120\"/><w:outlineLvl w:val=\"{}\"/>",
            n - 1
        ) + &format!(
            "|<w:b/><w:bCs/><w:color w:val=\"1A1A1A\"/><w:sz w:val=\"{size}\"/><w:szCs w:val=\"{size}\"/>"
        )
    };
    let split = |s: String| -> (String, String) {
        let (p, r) = s.split_once('|').unwrap_or((&s, ""));
        (p.to_string(), r.to_string())
    };
    let (h1p, h1r) = split(heading(1, 28, 360));
    let (h2p, h2r) = split(heading(2, 23, 240));
    let (h3p, h3r) = split(heading(3, 21, 200));
    vec![
        ("Normal", "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/><w:qFormat/><w:pPr><w:spacing w:after=\"140\" w:line=\"264\" w:lineRule=\"auto\"/></w:pPr><w:rPr><w:sz w:val=\"21\"/><w:szCs w:val=\"21\"/></w:rPr></w:style>".to_string()),
        ("DefaultParagraphFont", "<w:style w:type=\"character\" w:default=\"1\" w:styleId=\"DefaultParagraphFont\"><w:name w:val=\"Default Paragraph Font\"/><w:uiPriority w:val=\"1\"/><w:semiHidden/></w:style>".to_string()),
        ("TableNormal", "<w:style w:type=\"table\" w:default=\"1\" w:styleId=\"TableNormal\"><w:name w:val=\"Normal Table\"/><w:semiHidden/><w:tblPr><w:tblInd w:w=\"0\" w:type=\"dxa\"/><w:tblCellMar><w:top w:w=\"0\" w:type=\"dxa\"/><w:left w:w=\"108\" w:type=\"dxa\"/><w:bottom w:w=\"0\" w:type=\"dxa\"/><w:right w:w=\"108\" w:type=\"dxa\"/></w:tblCellMar></w:tblPr></w:style>".to_string()),
        ("ReportTable", "<w:style w:type=\"table\" w:customStyle=\"1\" w:styleId=\"ReportTable\"><w:name w:val=\"Report Table\"/><w:basedOn w:val=\"TableNormal\"/><w:tblPr><w:tblCellMar><w:left w:w=\"57\" w:type=\"dxa\"/><w:right w:w=\"57\" w:type=\"dxa\"/></w:tblCellMar></w:tblPr></w:style>".to_string()),
        ("ProseTable", "<w:style w:type=\"table\" w:customStyle=\"1\" w:styleId=\"ProseTable\"><w:name w:val=\"Prose Table\"/><w:basedOn w:val=\"TableNormal\"/><w:tblPr><w:tblBorders><w:top w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"C8C8C8\"/><w:left w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"C8C8C8\"/><w:bottom w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"C8C8C8\"/><w:right w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"C8C8C8\"/><w:insideH w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"C8C8C8\"/><w:insideV w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"C8C8C8\"/></w:tblBorders></w:tblPr></w:style>".to_string()),
        ("NoList", "<w:style w:type=\"numbering\" w:default=\"1\" w:styleId=\"NoList\"><w:name w:val=\"No List\"/><w:semiHidden/></w:style>".to_string()),
        ("Title", para("Title", "Title", "Normal", "<w:keepNext/><w:spacing w:after=\"80\"/>", "<w:b/><w:bCs/><w:sz w:val=\"38\"/><w:szCs w:val=\"38\"/>")),
        ("Subtitle", para("Subtitle", "Subtitle", "Normal", "<w:keepNext/><w:spacing w:after=\"80\"/>", "<w:color w:val=\"505050\"/><w:sz w:val=\"24\"/><w:szCs w:val=\"24\"/>")),
        ("Byline", para("Byline", "Byline", "Normal", "<w:pBdr><w:bottom w:val=\"single\" w:sz=\"12\" w:space=\"6\" w:color=\"0072B2\"/></w:pBdr><w:spacing w:after=\"240\"/>", "<w:color w:val=\"5A5A5A\"/><w:sz w:val=\"18\"/><w:szCs w:val=\"18\"/>")),
        ("Notice", para("Notice", "Notice", "Normal", "<w:pBdr><w:left w:val=\"single\" w:sz=\"24\" w:space=\"6\" w:color=\"B8860B\"/></w:pBdr><w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"FFF4D6\"/><w:spacing w:after=\"240\"/><w:ind w:left=\"120\" w:right=\"120\"/>", "<w:sz w:val=\"19\"/><w:szCs w:val=\"19\"/>")),
        ("Heading1", para("Heading1", "heading 1", "Normal", &h1p, &h1r)),
        ("Heading2", para("Heading2", "heading 2", "Normal", &h2p, &h2r)),
        ("Heading3", para("Heading3", "heading 3", "Normal", &h3p, &h3r)),
        ("TOCHeading", para("TOCHeading", "TOC Heading", "Normal", "<w:keepNext/><w:spacing w:before=\"240\" w:after=\"120\"/>", "<w:b/><w:bCs/><w:sz w:val=\"28\"/><w:szCs w:val=\"28\"/>")),
        ("TOC1", para("TOC1", "toc 1", "Normal", &format!("{tab}<w:spacing w:after=\"60\"/>"), "")),
        ("TOC2", para("TOC2", "toc 2", "Normal", &format!("{tab}<w:spacing w:after=\"60\"/><w:ind w:left=\"240\"/>"), "")),
        ("Caption", para("Caption", "caption", "Normal", "<w:keepNext/><w:spacing w:before=\"120\" w:after=\"120\"/>", "<w:color w:val=\"1A1A1A\"/><w:sz w:val=\"19\"/><w:szCs w:val=\"19\"/>")),
        ("Figure", para("Figure", "Figure", "Normal", "<w:keepNext/><w:spacing w:before=\"120\" w:after=\"0\"/><w:jc w:val=\"center\"/>", "")),
        ("TableText", para("TableText", "Table Text", "Normal", "<w:spacing w:before=\"20\" w:after=\"20\" w:line=\"240\" w:lineRule=\"auto\"/>", "<w:sz w:val=\"18\"/><w:szCs w:val=\"18\"/>")),
        ("TableHeading", para("TableHeading", "Table Heading", "TableText", "", "<w:b/><w:bCs/>")),
        ("TableNote", para("TableNote", "Table Note", "Normal", "<w:spacing w:before=\"60\" w:after=\"200\"/>", "<w:color w:val=\"5A5A5A\"/><w:sz w:val=\"15\"/><w:szCs w:val=\"15\"/>")),
        ("SourceCode", para("SourceCode", "Source Code", "Normal", "<w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"F5F5F5\"/><w:spacing w:after=\"140\" w:line=\"240\" w:lineRule=\"auto\"/>", &format!("{MONO}<w:sz w:val=\"17\"/><w:szCs w:val=\"17\"/>"))),
        ("Quote", para("Quote", "Quote", "Normal", "<w:ind w:left=\"567\" w:right=\"567\"/>", "<w:i/><w:iCs/><w:color w:val=\"404040\"/>")),
        ("ListParagraph", para("ListParagraph", "List Paragraph", "Normal", "<w:spacing w:after=\"60\"/><w:ind w:left=\"720\"/>", "")),
        ("HorizontalRule", para("HorizontalRule", "Horizontal Rule", "Normal", "<w:pBdr><w:bottom w:val=\"single\" w:sz=\"4\" w:space=\"1\" w:color=\"B4B4B4\"/></w:pBdr>", "")),
        ("FootnoteText", para("FootnoteText", "footnote text", "Normal", "<w:spacing w:after=\"40\" w:line=\"240\" w:lineRule=\"auto\"/>", "<w:sz w:val=\"17\"/><w:szCs w:val=\"17\"/>")),
        ("Footer", para("Footer", "footer", "Normal", "<w:spacing w:after=\"0\"/><w:jc w:val=\"center\"/>", "<w:sz w:val=\"18\"/><w:szCs w:val=\"18\"/>")),
        ("Provenance", para("Provenance", "Provenance", "Normal", "<w:pBdr><w:top w:val=\"single\" w:sz=\"4\" w:space=\"6\" w:color=\"B4B4B4\"/></w:pBdr><w:spacing w:before=\"480\" w:after=\"0\" w:line=\"240\" w:lineRule=\"auto\"/>", "<w:color w:val=\"646464\"/><w:sz w:val=\"14\"/><w:szCs w:val=\"14\"/>")),
        ("FootnoteReference", character("FootnoteReference", "footnote reference", "<w:vertAlign w:val=\"superscript\"/>")),
        ("Hyperlink", character("Hyperlink", "Hyperlink", "<w:color w:val=\"0563C1\"/><w:u w:val=\"single\"/>")),
        ("VerbatimChar", character("VerbatimChar", "Verbatim Char", &format!("{MONO}<w:sz w:val=\"19\"/><w:szCs w:val=\"19\"/>"))),
    ]
}

/// `word/styles.xml` when there is no reference document.
pub fn default_styles(lang: &str, text_width: i64) -> String {
    let mut s = format!(
        "{DECL}<w:styles{NS}><w:docDefaults><w:rPrDefault><w:rPr>{FONT}<w:sz w:val=\"21\"/><w:szCs w:val=\"21\"/><w:lang w:val=\"{}\" w:eastAsia=\"{}\" w:bidi=\"ar-SA\"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after=\"140\"/></w:pPr></w:pPrDefault></w:docDefaults>",
        esc(lang),
        esc(lang)
    );
    for (_, xml) in styles(text_width) {
        s.push_str(&xml);
    }
    s.push_str("</w:styles>");
    s
}

/// `word/numbering.xml`: a bullet and a decimal list definition, and one
/// numbering instance per list of the document, `(ordered, level, start)`,
/// so each ordered list starts at its own number. A reference document's
/// own definitions come first (its styles may number headings or lists),
/// coweave's after them with higher ids.
pub fn numbering(lists: &[(bool, usize, u64)], theirs: Option<&super::Numbering>) -> String {
    let mut s = format!("{DECL}<w:numbering{NS}>");
    let (abstract_base, num_base) = match theirs {
        Some(t) => {
            s.push_str(&t.abstracts);
            (t.max_abstract + 1, t.max_num)
        }
        None => (0, 0),
    };
    for (id, ordered) in [(abstract_base, false), (abstract_base + 1, true)] {
        let _ = write!(
            s,
            "<w:abstractNum w:abstractNumId=\"{id}\"><w:multiLevelType w:val=\"hybridMultilevel\"/>"
        );
        for lvl in 0..9u32 {
            let (fmt, text) = if ordered {
                ("decimal", format!("%{}.", lvl + 1))
            } else {
                (
                    "bullet",
                    ["\u{2022}", "\u{25e6}", "\u{25aa}"][lvl as usize % 3].to_string(),
                )
            };
            let _ = write!(
                s,
                "<w:lvl w:ilvl=\"{lvl}\"><w:start w:val=\"1\"/><w:numFmt w:val=\"{fmt}\"/><w:lvlText w:val=\"{text}\"/><w:lvlJc w:val=\"left\"/><w:pPr><w:ind w:left=\"{}\" w:hanging=\"360\"/></w:pPr></w:lvl>",
                720 + 360 * lvl
            );
        }
        s.push_str("</w:abstractNum>");
    }
    if let Some(t) = theirs {
        s.push_str(&t.nums);
    }
    for (i, (ordered, level, start)) in lists.iter().enumerate() {
        let _ = write!(
            s,
            "<w:num w:numId=\"{}\"><w:abstractNumId w:val=\"{}\"/><w:lvlOverride w:ilvl=\"{level}\"><w:startOverride w:val=\"{start}\"/></w:lvlOverride></w:num>",
            num_base + i + 1,
            abstract_base + usize::from(*ordered)
        );
    }
    s.push_str("</w:numbering>");
    s
}

/// `word/theme/theme1.xml` when there is no reference document: Word's
/// theme colours (the Okabe-Ito accents of the charts) and Arial.
pub fn theme() -> String {
    let colours: String = [
        ("dk2", "1A1A1A"),
        ("lt2", "F5F5F5"),
        ("accent1", "0072B2"),
        ("accent2", "E69F00"),
        ("accent3", "009E73"),
        ("accent4", "D55E00"),
        ("accent5", "56B4E9"),
        ("accent6", "CC79A7"),
        ("hlink", "0563C1"),
        ("folHlink", "954F72"),
    ]
    .iter()
    .map(|(name, rgb)| format!("<a:{name}><a:srgbClr val=\"{rgb}\"/></a:{name}>"))
    .collect();
    let font = "<a:latin typeface=\"Arial\"/><a:ea typeface=\"\"/><a:cs typeface=\"\"/>";
    let fill = "<a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill>".repeat(3);
    let line =
        "<a:ln w=\"6350\"><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill></a:ln>".repeat(3);
    let effect = "<a:effectStyle><a:effectLst/></a:effectStyle>".repeat(3);
    format!(
        "{DECL}<a:theme xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" name=\"coweave\"><a:themeElements><a:clrScheme name=\"coweave\"><a:dk1><a:sysClr val=\"windowText\" lastClr=\"000000\"/></a:dk1><a:lt1><a:sysClr val=\"window\" lastClr=\"FFFFFF\"/></a:lt1>{colours}</a:clrScheme><a:fontScheme name=\"coweave\"><a:majorFont>{font}</a:majorFont><a:minorFont>{font}</a:minorFont></a:fontScheme><a:fmtScheme name=\"coweave\"><a:fillStyleLst>{fill}</a:fillStyleLst><a:lnStyleLst>{line}</a:lnStyleLst><a:effectStyleLst>{effect}</a:effectStyleLst><a:bgFillStyleLst>{fill}</a:bgFillStyleLst></a:fmtScheme></a:themeElements></a:theme>"
    )
}

/// `word/fontTable.xml`: the fonts the default styles name.
pub fn font_table() -> String {
    format!(
        "{DECL}<w:fonts{NS}><w:font w:name=\"Arial\"><w:panose1 w:val=\"020B0604020202020204\"/><w:charset w:val=\"00\"/><w:family w:val=\"swiss\"/><w:pitch w:val=\"variable\"/></w:font><w:font w:name=\"Consolas\"><w:panose1 w:val=\"020B0609020204030204\"/><w:charset w:val=\"00\"/><w:family w:val=\"modern\"/><w:pitch w:val=\"fixed\"/></w:font></w:fonts>"
    )
}

/// `word/settings.xml`: footnote separators, Word 2013+ layout, the
/// document's language.
pub fn settings(lang: &str) -> String {
    format!(
        "{DECL}<w:settings{NS}><w:zoom w:percent=\"100\"/><w:defaultTabStop w:val=\"720\"/><w:characterSpacingControl w:val=\"doNotCompress\"/><w:footnotePr><w:footnote w:id=\"-1\"/><w:footnote w:id=\"0\"/></w:footnotePr><w:compat><w:compatSetting w:name=\"compatibilityMode\" w:uri=\"http://schemas.microsoft.com/office/word\" w:val=\"15\"/></w:compat><w:themeFontLang w:val=\"{}\"/></w:settings>",
        esc(lang)
    )
}

/// `word/footnotes.xml`: the separators, then the notes (each the XML of
/// its paragraphs), numbered from 1.
pub fn footnotes(notes: &[String]) -> String {
    let mut s = format!(
        "{DECL}<w:footnotes{NS}><w:footnote w:type=\"separator\" w:id=\"-1\"><w:p><w:pPr><w:spacing w:after=\"0\" w:line=\"240\" w:lineRule=\"auto\"/></w:pPr><w:r><w:separator/></w:r></w:p></w:footnote><w:footnote w:type=\"continuationSeparator\" w:id=\"0\"><w:p><w:pPr><w:spacing w:after=\"0\" w:line=\"240\" w:lineRule=\"auto\"/></w:pPr><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>"
    );
    for (i, body) in notes.iter().enumerate() {
        let _ = write!(s, "<w:footnote w:id=\"{}\">{body}</w:footnote>", i + 1);
    }
    s.push_str("</w:footnotes>");
    s
}

/// `word/footer1.xml`: the page number, centred.
pub fn footer() -> String {
    format!(
        "{DECL}<w:ftr{NS}><w:p><w:pPr><w:pStyle w:val=\"Footer\"/></w:pPr><w:fldSimple w:instr=\" PAGE \\* MERGEFORMAT \"><w:r><w:t>1</w:t></w:r></w:fldSimple></w:p></w:ftr>"
    )
}

/// `docProps/core.xml`: title, author, language and the render date (so
/// the same inputs give the same bytes).
pub fn core(title: &str, author: &str, lang: &str, date: &str) -> String {
    format!(
        "{DECL}<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><dc:title>{}</dc:title><dc:creator>{}</dc:creator><dc:language>{}</dc:language><dcterms:created xsi:type=\"dcterms:W3CDTF\">{date}T00:00:00Z</dcterms:created><dcterms:modified xsi:type=\"dcterms:W3CDTF\">{date}T00:00:00Z</dcterms:modified></cp:coreProperties>",
        esc(title),
        esc(author),
        esc(lang)
    )
}

/// `docProps/app.xml`.
pub fn app(version: &str) -> String {
    format!(
        "{DECL}<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\"><Application>coweave {}</Application></Properties>",
        esc(version)
    )
}

/// `[Content_Types].xml`.
pub fn content_types() -> String {
    let part = |name: &str, kind: &str| {
        format!(
            "<Override PartName=\"/{name}\" ContentType=\"application/vnd.openxmlformats-{kind}\"/>"
        )
    };
    let mut s = format!(
        "{DECL}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Default Extension=\"png\" ContentType=\"image/png\"/><Default Extension=\"svg\" ContentType=\"image/svg+xml\"/>"
    );
    for (name, kind) in [
        (
            "word/document.xml",
            "officedocument.wordprocessingml.document.main+xml",
        ),
        (
            "word/styles.xml",
            "officedocument.wordprocessingml.styles+xml",
        ),
        (
            "word/settings.xml",
            "officedocument.wordprocessingml.settings+xml",
        ),
        (
            "word/numbering.xml",
            "officedocument.wordprocessingml.numbering+xml",
        ),
        (
            "word/footnotes.xml",
            "officedocument.wordprocessingml.footnotes+xml",
        ),
        (
            "word/footer1.xml",
            "officedocument.wordprocessingml.footer+xml",
        ),
        (
            "word/fontTable.xml",
            "officedocument.wordprocessingml.fontTable+xml",
        ),
        ("word/theme/theme1.xml", "officedocument.theme+xml"),
        ("docProps/core.xml", "package.core-properties+xml"),
        ("docProps/app.xml", "officedocument.extended-properties+xml"),
    ] {
        s.push_str(&part(name, kind));
    }
    s.push_str("</Types>");
    s
}

/// `_rels/.rels`.
pub fn package_rels() -> String {
    format!(
        "{DECL}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/><Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/><Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties\" Target=\"docProps/app.xml\"/></Relationships>"
    )
}

/// `word/_rels/document.xml.rels`: the fixed parts, then `extra` as
/// (id, type, target, external).
pub fn document_rels(extra: &[(String, &str, String, bool)]) -> String {
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/";
    let mut s = format!(
        "{DECL}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    );
    let fixed = [
        ("rIdStyles", "styles", "styles.xml"),
        ("rIdSettings", "settings", "settings.xml"),
        ("rIdNumbering", "numbering", "numbering.xml"),
        ("rIdFootnotes", "footnotes", "footnotes.xml"),
        ("rIdFooter", "footer", "footer1.xml"),
        ("rIdFontTable", "fontTable", "fontTable.xml"),
        ("rIdTheme", "theme", "theme/theme1.xml"),
    ];
    for (id, kind, target) in fixed {
        let _ = write!(
            s,
            "<Relationship Id=\"{id}\" Type=\"{rel}{kind}\" Target=\"{target}\"/>"
        );
    }
    s.push_str(&relationships(extra));
    s.push_str("</Relationships>");
    s
}

/// A relationships part holding `extra` only (the footnotes' links).
pub fn rels(extra: &[(String, &str, String, bool)]) -> String {
    format!(
        "{DECL}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{}</Relationships>",
        relationships(extra)
    )
}

/// `<Relationship>` elements for (id, type, target, external).
fn relationships(extra: &[(String, &str, String, bool)]) -> String {
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/";
    let mut s = String::new();
    for (id, kind, target, external) in extra {
        let _ = write!(
            s,
            "<Relationship Id=\"{id}\" Type=\"{rel}{kind}\" Target=\"{}\"{}/>",
            esc(target),
            if *external {
                " TargetMode=\"External\""
            } else {
                ""
            }
        );
    }
    s
}
