//! Charts: every kind draws parseable SVG whose text is text, golden SVG
//! per kind, and awkward data draws something sensible or fails clearly.
//! What backs the golden SVG: each is parsed as XML and its texts checked
//! for the categories, series and axis labels given (`parses_with_text`);
//! the snapshot guards the drawing itself (positions, colours), which was
//! looked at when accepted.

use coweave::chart::{self, BarChart, ForestRow, HeatMap, LikertItem, Series};

fn parses_with_text(svg: &str, expected: &[&str]) {
    let doc = roxmltree::Document::parse(svg).expect("SVG parses as XML");
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").to_string())
        .collect();
    for e in expected {
        assert!(
            texts.iter().any(|t| t.contains(e)),
            "no <text> with {e:?} in {texts:?}"
        );
    }
}

fn bars(categories: usize, values: impl Fn(usize) -> Option<f64>) -> BarChart {
    BarChart {
        title: String::new(),
        categories: (0..categories).map(|i| format!("Category {i}")).collect(),
        series: vec![Series {
            name: "Collective".into(),
            values: (0..categories).map(&values).collect(),
            intervals: Some(
                (0..categories)
                    .map(|i| values(i).map(|v| (v - 0.05, v + 0.05)))
                    .collect(),
            ),
        }],
        y_label: "Residents (%)".into(),
        percent: true,
        size: (760, 420),
        limits: None,
        markers: None,
        marker_label: String::new(),
        annotations: Vec::new(),
    }
}

#[test]
fn every_kind_is_parseable_svg_with_text() {
    let bar = chart::bar(
        &bars(3, |i| Some(0.2 + 0.1 * i as f64)),
        &chart::Style::default(),
    )
    .unwrap();
    parses_with_text(&bar, &["Category 0", "Collective", "Residents (%)"]);
    insta::assert_snapshot!("bar", bar);

    let heat = chart::heatmap(
        &HeatMap {
            rows: vec!["Self-efficacy".into(), "Age".into()],
            columns: vec!["Barnet\nSafety".into(), "Bristol\nEnvironment".into()],
            cells: vec![
                vec![Some((0.35, "0.35**".into())), None],
                vec![Some((-0.2, "-0.20*".into())), Some((0.01, "0.01".into()))],
            ],
        },
        &chart::Style::default(),
    )
    .unwrap();
    // column labels are drawn part by part; the colour key shows the range
    parses_with_text(
        &heat,
        &["Self-efficacy", "0.35**", "Barnet", "Safety", "+0.35"],
    );
    insta::assert_snapshot!("heatmap", heat);

    let forest = chart::forest(
        &[
            ForestRow {
                label: "Barnet · A".into(),
                estimate: 0.064,
                low: -0.01,
                high: 0.14,
                significant: false,
            },
            ForestRow {
                label: "Bristol · A".into(),
                estimate: 0.04,
                low: 0.01,
                high: 0.07,
                significant: true,
            },
        ],
        "Effect (percentage points)",
        100.0,
        &chart::Style::default(),
    )
    .unwrap();
    parses_with_text(&forest, &["Barnet · A", "Effect (percentage points)"]);
    insta::assert_snapshot!("forest", forest);

    let likert = chart::likert(
        &[LikertItem {
            label: "Satisfaction with information".into(),
            shares: vec![0.1, 0.2, 0.3, 0.3, 0.1],
            dont_know: 0.08,
        }],
        &[
            "Very dissatisfied",
            "Fairly dissatisfied",
            "Neither",
            "Fairly satisfied",
            "Very satisfied",
        ]
        .map(String::from),
        &chart::Style::default(),
    )
    .unwrap();
    parses_with_text(
        &likert,
        &[
            "Satisfaction with information",
            "Very satisfied",
            "Don't know",
            "8%",
        ],
    );
    insta::assert_snapshot!("likert", likert);

    let line = chart::line(
        &["1".into(), "2".into(), "3".into()],
        &[Series {
            name: "Collective".into(),
            values: vec![Some(0.3), Some(0.45), Some(0.6)],
            intervals: Some(vec![Some((0.25, 0.35)), None, Some((0.55, 0.65))]),
        }],
        "Join groups (%)",
        true,
        &chart::Style::default(),
    )
    .unwrap();
    parses_with_text(&line, &["Join groups (%)"]);
    insta::assert_snapshot!("line", line);

    let scatter = chart::scatter(
        &[(0.4, 0.1), (0.5, 0.3), (0.7, 0.9)],
        "Individual",
        "Collective",
        true,
        &chart::Style::default(),
    )
    .unwrap();
    parses_with_text(&scatter, &["Individual", "Collective"]);
    insta::assert_snapshot!("scatter", scatter);
}

#[test]
fn awkward_data_draws_or_fails_clearly() {
    // nothing to draw: a clear error, never a panic
    assert!(
        chart::bar(&bars(0, |_| None), &chart::Style::default())
            .unwrap_err()
            .0
            .contains("no rows")
    );
    assert!(
        chart::bar(&bars(4, |_| None), &chart::Style::default())
            .unwrap_err()
            .0
            .contains("every value is missing")
    );
    assert!(
        chart::heatmap(
            &HeatMap {
                rows: vec![],
                columns: vec![],
                cells: vec![]
            },
            &chart::Style::default()
        )
        .is_err()
    );
    assert!(chart::forest(&[], "x", 1.0, &chart::Style::default()).is_err());
    assert!(chart::likert(&[], &[], &chart::Style::default()).is_err());
    assert!(chart::scatter(&[(f64::NAN, 1.0)], "x", "y", true, &chart::Style::default()).is_err());
    assert!(
        chart::line(
            &["a".into()],
            &[Series {
                name: "s".into(),
                values: vec![None],
                intervals: None
            }],
            "y",
            false,
            &chart::Style::default()
        )
        .is_err()
    );
    // one category, negative values, an extreme outlier, fifty categories
    parses_with_text(
        &chart::bar(&bars(1, |_| Some(0.4)), &chart::Style::default()).unwrap(),
        &["Category 0"],
    );
    let mut neg = bars(3, |i| Some(i as f64 - 1.0));
    neg.percent = false;
    parses_with_text(
        &chart::bar(&neg, &chart::Style::default()).unwrap(),
        &["Category 2"],
    );
    let mut outlier = bars(5, |i| Some(if i == 2 { 1e6 } else { 1.0 }));
    outlier.percent = false;
    assert!(chart::bar(&outlier, &chart::Style::default()).is_ok());
    let mut many = bars(50, |i| Some(i as f64 / 100.0));
    many.categories = (0..50)
        .map(|i| format!("A very long category name that goes on and on, number {i}"))
        .collect();
    let svg = chart::bar(&many, &chart::Style::default()).unwrap();
    // many categories run down the y axis: labels level, wrapped, never cut,
    // so the number that tells them apart is there for each
    assert!(many.horizontal());
    parses_with_text(
        &svg,
        &[
            "A very long category name that goes on",
            "and on, number 0",
            "and on, number 49",
        ],
    );
    assert!(!svg.contains('\u{2026}'), "no label is cut");
    assert!(!svg.contains("rotate("), "no label is rotated");
    // the chart is as tall as its fifty rows, and says so
    let (w, h) = many.drawn_size();
    assert_eq!(w, many.size.0);
    assert!(h >= 50 * 26, "{h}");
    assert!(
        svg.contains(&format!("height=\"{h}\"")),
        "drawn at its size"
    );
    // a constant x has no fitted line but still draws
    assert!(
        chart::scatter(
            &[(1.0, 1.0), (1.0, 2.0)],
            "x",
            "y",
            true,
            &chart::Style::default()
        )
        .is_ok()
    );
}

#[test]
fn heat_map_column_labels_read_level_when_there_are_few() {
    let heat = |columns: usize| {
        chart::heatmap(
            &HeatMap {
                rows: vec!["Self-efficacy".into()],
                columns: (0..columns)
                    .map(|i| {
                        format!("Local environmental improvement\nCollective co-production {i}")
                    })
                    .collect(),
                cells: vec![(0..columns).map(|_| Some((0.2, "0.20".into()))).collect()],
            },
            &chart::Style::default(),
        )
        .unwrap()
    };
    // up to six columns: level labels, wrapped at word boundaries, whole
    let few = heat(4);
    assert!(!few.contains("rotate("), "no label is rotated");
    assert!(!few.contains('\u{2026}'), "no label is cut");
    parses_with_text(&few, &["environmental", "improvement", "production 3"]);
    // more than six: narrow cells under rotated labels, each part kept whole
    let many = heat(8);
    assert!(many.contains("rotate("));
    parses_with_text(
        &many,
        &[
            "Local environmental improvement",
            "Collective co-production 7",
        ],
    );
}

#[test]
fn gallery_renders_every_kind() {
    let out = tempfile::tempdir().unwrap();
    let o = assert_cmd::Command::cargo_bin("coweave")
        .unwrap()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args([
            "render",
            concat!(env!("CARGO_MANIFEST_DIR"), "/reports/gallery.md"),
            "--no-cache",
            "--to",
            "html",
            "--out",
            &out.path().display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.path().join("gallery.html")).unwrap();
    for (id, alt) in [
        ("fig-bars", "Bar chart"),
        ("fig-sorted", "Bar chart"),
        ("fig-heatmap", "Heat map"),
        ("fig-forest", "Forest plot"),
        ("fig-likert", "Stacked bars"),
        ("fig-gradient", "Line chart"),
        ("fig-scatter", "Scatter plot"),
    ] {
        let at = html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id} missing"));
        let figure = &html[at..at + html[at..].find("</figure>").unwrap()];
        assert!(
            figure.contains(&format!("aria-label=\"{alt}")),
            "{id}: alt text does not start with {alt:?}"
        );
        assert!(figure.contains("<svg"), "{id}: no SVG");
        assert!(
            figure.contains("Data behind this chart"),
            "{id}: no data table"
        );
    }
    // one panel per area, with the published figures as markers
    assert_eq!(html.matches("<svg x=\"0\"").count(), 5);
    assert!(html.contains(">Published</text>") || html.contains("Published\n</text>"));
}
