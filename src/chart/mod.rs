//! Charts as SVG strings, drawn with plotters. Charts return SVG values,
//! never pages. One look for all: the Okabe-Ito colour-blind safe palette,
//! text as text, no chart junk.

mod horizontal;
mod more;

pub use more::{ForestRow, HeatMap, LINE_SIZE, LikertItem, forest, heatmap, likert, line, scatter};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The Okabe-Ito palette (colour-blind safe), without black.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
];

/// A council's house style for charts: an accent colour that replaces the
/// first palette colour, and a font family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Style {
    /// Accent colour as `#RRGGBB`.
    pub accent: Option<String>,
    /// Font family for all chart text.
    pub font: Option<String>,
}

impl Style {
    /// Reads `format: { chart: { accent, font } }` from the front matter;
    /// an accent that is not `#RRGGBB` is an error message.
    pub fn from_format(
        format: &std::collections::BTreeMap<String, serde_json::Value>,
    ) -> Result<Style, String> {
        let chart = format.get("chart");
        let get = |k: &str| {
            chart
                .and_then(|c| c.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let accent = get("accent");
        if let Some(a) = &accent
            && !(a.len() == 7
                && a.starts_with('#')
                && a[1..].chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(format!(
                "format.chart.accent `{a}` is not a colour like \"#0072B2\""
            ));
        }
        let font = get("font");
        if let Some(f) = &font
            && f.chars().any(|c| matches!(c, '"' | '<' | '>' | '&'))
        {
            return Err(format!("format.chart.font `{f}` is not a font family name"));
        }
        Ok(Style { accent, font })
    }

    /// The colour of series `i`: the accent replaces the first palette
    /// colour (and every seventh after it).
    pub fn colour(&self, i: usize) -> RGBColor {
        match (&self.accent, i % PALETTE.len()) {
            (Some(a), 0) => hex(a).unwrap_or(PALETTE[0]),
            (_, k) => PALETTE[k],
        }
    }

    /// The accent: single-series marks and the positive end of diverging
    /// scales.
    pub fn accent(&self) -> RGBColor {
        self.colour(0)
    }

    /// The font family of all chart text, with a generic fallback.
    pub fn family(&self) -> String {
        match &self.font {
            Some(f) => format!("{f}, sans-serif"),
            None => "sans-serif".into(),
        }
    }
}

/// `#RRGGBB` as a colour.
fn hex(s: &str) -> Option<RGBColor> {
    let v = |i: usize| u8::from_str_radix(s.get(i..i + 2)?, 16).ok();
    (s.len() == 7 && s.starts_with('#')).then_some(())?;
    Some(RGBColor(v(1)?, v(3)?, v(5)?))
}

/// One series of a bar chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// One value per category (`None`: no bar).
    pub values: Vec<Option<f64>>,
    /// Interval per category, when the data has one.
    pub intervals: Option<Vec<Option<(f64, f64)>>>,
}

/// A grouped bar chart.
#[derive(Debug, Clone)]
pub struct BarChart {
    /// Title (may be empty: captions usually carry it).
    pub title: String,
    /// Category labels along the x axis.
    pub categories: Vec<String>,
    /// The series (bars side by side within a category).
    pub series: Vec<Series>,
    /// Y axis label.
    pub y_label: String,
    /// Values are proportions shown as percentages.
    pub percent: bool,
    /// Size in pixels.
    pub size: (u32, u32),
    /// Fixed y axis range in data units (before the percent scaling).
    pub limits: Option<(f64, f64)>,
    /// Reference values drawn as a marker on each bar (series x category),
    /// e.g. the published figure.
    pub markers: Option<Vec<Vec<Option<f64>>>>,
    /// Legend name of the markers.
    pub marker_label: String,
    /// Notes printed above categories: (category index, text).
    pub annotations: Vec<(usize, String)>,
}

/// Why a chart could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartError(pub String);

impl std::fmt::Display for ChartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A label cut to `max` characters with an ellipsis (tables keep the full text).
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        format!(
            "{}\u{2026}",
            s.chars().take(max.saturating_sub(1)).collect::<String>()
        )
    } else {
        s.to_string()
    }
}

/// A label of parts joined by " · " cut to `max` characters without
/// cutting its last part, which is what tells rows apart (a trial's arm
/// after its area and theme); the earlier parts are shortened instead.
pub fn shorten_keeping_last(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    match s.rsplit_once(" \u{b7} ") {
        Some((head, last)) if last.chars().count() + 3 + 6 <= max => {
            let room = max - last.chars().count() - 3;
            format!("{} \u{b7} {last}", shorten(head, room))
        }
        _ => shorten(s, max),
    }
}

fn draw_err<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError(format!("drawing failed: {e:?}"))
}

/// A label's lines (split at newlines) wrapped at word boundaries to at
/// most `width` characters, words longer than that shortened.
fn wrap(label: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for part in label.split('\n') {
        let mut line = String::new();
        for word in part.split_whitespace() {
            let word = shorten(word, width);
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                out.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        if !line.is_empty() {
            out.push(line);
        }
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

/// Stacks charts vertically into one SVG (small multiples, one per facet).
pub fn stack(panels: &[(String, (u32, u32))]) -> String {
    // the layout comes from the sizes the panels were drawn at
    let width = panels.iter().map(|(_, (w, _))| *w).max().unwrap_or(0);
    let mut y = 0;
    let mut inner = String::new();
    for (svg, (_, h)) in panels {
        let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        inner.push_str(&body.replacen("<svg", &format!("<svg x=\"0\" y=\"{y}\""), 1));
        y += h;
    }
    format!(
        "<svg width=\"{width}\" height=\"{y}\" viewBox=\"0 0 {width} {y}\" xmlns=\"http://www.w3.org/2000/svg\">{inner}</svg>"
    )
}

/// The plot area of a bar chart: categories along x, display units along y.
type Plot<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Draws a grouped bar chart as SVG: categories along the x axis, or down
/// the y axis when there are more than fit side by side (see
/// [`BarChart::horizontal`]).
pub fn bar(chart: &BarChart, style: &Style) -> Result<String, ChartError> {
    let fam = style.family();
    let n = chart.categories.len();
    if n == 0 || chart.series.is_empty() {
        return Err(ChartError("nothing to draw: the data has no rows".into()));
    }
    if chart.horizontal() {
        return horizontal::draw(chart, style);
    }
    let (y0, y1) = y_range(chart)?;
    let labels = CategoryLabels::new(chart);
    let legend = legend_entries(chart, style);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, chart.size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut builder = ChartBuilder::on(&root);
        // the legend sits in its own row above the plot, never over the bars
        builder
            .margin(12)
            .margin_top(if legend.is_empty() { 12 } else { 34 })
            .x_label_area_size(labels.area)
            .y_label_area_size(56);
        if !chart.title.is_empty() {
            builder.caption(&chart.title, (fam.as_str(), 18));
        }
        let mut ctx = builder
            .build_cartesian_2d(0f64..n as f64, y0..y1)
            .map_err(draw_err)?;
        let pct = chart.percent;
        let tick = |v: &f64| value_tick(*v, pct);
        let mut mesh = ctx.configure_mesh();
        mesh.disable_x_mesh()
            .x_labels(0)
            .y_labels(6)
            .y_desc(chart.y_label.as_str())
            .y_label_formatter(&tick);
        house_mesh(&mut mesh, &fam).draw().map_err(draw_err)?;
        for si in 0..chart.series.len() {
            draw_series(&mut ctx, chart, si, style, y0)?;
        }
        for (ci, text) in &chart.annotations {
            if *ci < n {
                let at = ctx.backend_coord(&(*ci as f64 + 0.5, y1 - (y1 - y0) * 0.03));
                draw_note(&root, at, text, &fam, HPos::Center, VPos::Top)?;
            }
        }
        draw_legend(&root, &legend, &fam)?;
        labels.draw(&root, &ctx, y0, &fam)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// An annotation: its text on a white label, so that it reads (at well over
/// 4.5:1) over whatever bar it lands on.
pub(crate) fn draw_note(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    (x, y): (i32, i32),
    text: &str,
    fam: &str,
    h: HPos,
    v: VPos,
) -> Result<(), ChartError> {
    let style = TextStyle::from((fam, 12).into_font());
    let (w, ht) = root.estimate_text_size(text, &style).map_err(draw_err)?;
    let (w, ht) = (w as i32, ht as i32);
    let left = match h {
        HPos::Left => x,
        HPos::Center => x - w / 2,
        HPos::Right => x - w,
    };
    let top = match v {
        VPos::Top => y,
        VPos::Center => y - ht / 2,
        VPos::Bottom => y - ht,
    };
    root.draw(&Rectangle::new(
        [(left - 4, top - 2), (left + w + 4, top + ht + 2)],
        WHITE.filled(),
    ))
    .map_err(draw_err)?;
    root.draw(&Rectangle::new(
        [(left - 4, top - 2), (left + w + 4, top + ht + 2)],
        RGBColor(120, 120, 120).stroke_width(1),
    ))
    .map_err(draw_err)?;
    root.draw(&Text::new(
        text.to_string(),
        (x, y),
        style.pos(Pos::new(h, v)),
    ))
    .map_err(draw_err)
}

/// A tick on the value axis: whole percentages, or two decimals.
fn value_tick(v: f64, percent: bool) -> String {
    if percent {
        format!("{v:.0}%")
    } else {
        format!("{v:.2}")
    }
}

/// The house look of a bar chart's grid lines and axis text.
fn house_mesh<'m, 'a, 'b, 'c>(
    mesh: &'m mut plotters::chart::MeshStyle<
        'a,
        'b,
        plotters::coord::types::RangedCoordf64,
        plotters::coord::types::RangedCoordf64,
        SVGBackend<'c>,
    >,
    fam: &'b str,
) -> &'m mut plotters::chart::MeshStyle<
    'a,
    'b,
    plotters::coord::types::RangedCoordf64,
    plotters::coord::types::RangedCoordf64,
    SVGBackend<'c>,
> {
    mesh.light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(210, 210, 210))
        .axis_desc_style((fam, 14))
        .label_style((fam, 13))
}

/// The y axis range in display units (percentages when the values are
/// proportions): a fixed range when given, else zero and the values and
/// intervals with a margin.
fn y_range(chart: &BarChart) -> Result<(f64, f64), ChartError> {
    let scale = chart.scale();
    let all: Vec<f64> = chart
        .series
        .iter()
        .flat_map(|s| {
            let ivals = s
                .intervals
                .iter()
                .flatten()
                .flatten()
                .flat_map(|(a, b)| [*a, *b]);
            s.values
                .iter()
                .flatten()
                .copied()
                .chain(ivals)
                .collect::<Vec<_>>()
        })
        .filter(|v| v.is_finite())
        .map(|v| v * scale)
        .collect();
    if all.is_empty() {
        return Err(ChartError("nothing to draw: every value is missing".into()));
    }
    let lo = all.iter().copied().fold(0.0f64, f64::min);
    let hi = all.iter().copied().fold(0.0f64, f64::max);
    let pad = ((hi - lo) * 0.08).max(if chart.percent { 1.0 } else { 1e-9 });
    Ok(match chart.limits {
        Some((a, b)) if b > a => (a * scale, b * scale),
        _ if chart.percent && lo >= 0.0 && hi <= 100.0 => (0.0, (hi + pad).clamp(10.0, 100.0)),
        _ => (if lo < 0.0 { lo - pad } else { 0.0 }, hi + pad),
    })
}

impl BarChart {
    /// More than six categories are drawn as horizontal bars, so every
    /// label reads level and whole.
    pub fn horizontal(&self) -> bool {
        self.categories.len() > 6
    }

    /// The size the chart is drawn at: its `size`, except that a horizontal
    /// chart is as tall as its rows need.
    pub fn drawn_size(&self) -> (u32, u32) {
        if self.horizontal() {
            let legend = !legend_entries(self, &Style::default()).is_empty();
            (self.size.0, horizontal::Rows::new(self).height(legend))
        } else {
            self.size
        }
    }

    /// Data units to display units.
    fn scale(&self) -> f64 {
        if self.percent { 100.0 } else { 1.0 }
    }
}

/// Legend entries (name, colour, is the marker): one per series and one
/// for the markers; none for a single unnamed series.
fn legend_entries(chart: &BarChart, style: &Style) -> Vec<(String, RGBColor, bool)> {
    if chart.series.len() == 1 && chart.series[0].name.is_empty() && chart.markers.is_none() {
        return Vec::new();
    }
    let mut l: Vec<(String, RGBColor, bool)> = chart
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), style.colour(i), false))
        .collect();
    if chart.markers.is_some() {
        l.push((chart.marker_label.clone(), BLACK, true));
    }
    l
}

/// One series: its bars, their intervals as whiskers and the reference
/// markers.
fn draw_series(
    ctx: &mut Plot,
    chart: &BarChart,
    si: usize,
    style: &Style,
    y0: f64,
) -> Result<(), ChartError> {
    let s = &chart.series[si];
    let scale = chart.scale();
    let colour = style.colour(si);
    let group_width = 0.78;
    let bar_w = group_width / chart.series.len() as f64;
    let left = |ci: usize| ci as f64 + (1.0 - group_width) / 2.0 + si as f64 * bar_w;
    let bars: Vec<Rectangle<(f64, f64)>> = s
        .values
        .iter()
        .enumerate()
        .filter_map(|(ci, v)| v.filter(|v| v.is_finite()).map(|v| (ci, v * scale)))
        .map(|(ci, v)| {
            Rectangle::new(
                [(left(ci), 0f64.max(y0)), (left(ci) + bar_w * 0.92, v)],
                colour.filled(),
            )
        })
        .collect();
    // the legend is drawn by draw_legend, in its own row above the plot
    ctx.draw_series(bars).map_err(draw_err)?;
    if let Some(intervals) = &s.intervals {
        let whiskers: Vec<PathElement<(f64, f64)>> = intervals
            .iter()
            .enumerate()
            .filter_map(|(ci, iv)| iv.map(|(a, b)| (ci, a * scale, b * scale)))
            .filter(|(_, a, b)| a.is_finite() && b.is_finite())
            .flat_map(|(ci, a, b)| {
                let x = left(ci) + bar_w * 0.46;
                let cap = bar_w * 0.18;
                [
                    PathElement::new(vec![(x, a), (x, b)], BLACK.stroke_width(1)),
                    PathElement::new(vec![(x - cap, a), (x + cap, a)], BLACK.stroke_width(1)),
                    PathElement::new(vec![(x - cap, b), (x + cap, b)], BLACK.stroke_width(1)),
                ]
            })
            .collect();
        ctx.draw_series(whiskers).map_err(draw_err)?;
    }
    if let Some(markers) = chart.markers.as_ref().and_then(|m| m.get(si)) {
        let ticks: Vec<PathElement<(f64, f64)>> = markers
            .iter()
            .enumerate()
            .filter_map(|(ci, m)| m.filter(|v| v.is_finite()).map(|v| (ci, v * scale)))
            .map(|(ci, v)| {
                PathElement::new(
                    vec![(left(ci) - bar_w * 0.04, v), (left(ci) + bar_w * 0.96, v)],
                    BLACK.stroke_width(3),
                )
            })
            .collect();
        ctx.draw_series(ticks).map_err(draw_err)?;
    }
    Ok(())
}

/// The legend, in its own row above the plot.
fn draw_legend(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    legend: &[(String, RGBColor, bool)],
    fam: &str,
) -> Result<(), ChartError> {
    let mut lx = 68;
    let ly = 10;
    for (name, colour, is_marker) in legend {
        if *is_marker {
            root.draw(&PathElement::new(
                vec![(lx, ly + 6), (lx + 12, ly + 6)],
                BLACK.stroke_width(3),
            ))
            .map_err(draw_err)?;
        } else {
            root.draw(&Rectangle::new(
                [(lx, ly), (lx + 12, ly + 12)],
                colour.filled(),
            ))
            .map_err(draw_err)?;
        }
        root.draw(&Text::new(
            name.clone(),
            (lx + 16, ly + 6),
            TextStyle::from((fam, 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(draw_err)?;
        lx += 16 + name.chars().count() as i32 * 7 + 18;
    }
    Ok(())
}

/// Category labels as text under each group, written horizontally and
/// wrapped to the width each one has.
struct CategoryLabels {
    /// Each category's lines.
    lines: Vec<Vec<String>>,
    /// Height of the label area under the axis.
    area: u32,
}

impl CategoryLabels {
    fn new(chart: &BarChart) -> Self {
        let n = chart.categories.len();
        let per_line = ((chart.size.0.saturating_sub(90)) as usize / n.max(1) / 7).max(6);
        let lines: Vec<Vec<String>> = chart.categories.iter().map(|c| wrap(c, per_line)).collect();
        let max_lines = lines.iter().map(Vec::len).max().unwrap_or(1) as u32;
        CategoryLabels {
            lines,
            area: 16 + 16 * max_lines,
        }
    }

    fn draw(
        &self,
        root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
        ctx: &Plot,
        y0: f64,
        fam: &str,
    ) -> Result<(), ChartError> {
        let style = TextStyle::from((fam, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        for (ci, lines) in self.lines.iter().enumerate() {
            let (px, py) = ctx.backend_coord(&(ci as f64 + 0.5, y0));
            for (li, line) in lines.iter().enumerate() {
                root.draw(&Text::new(
                    line.clone(),
                    (px, py + 8 + li as i32 * 16),
                    style.clone(),
                ))
                .map_err(draw_err)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn styled() -> Style {
        Style {
            accent: Some("#AA3377".into()),
            font: Some("Georgia".into()),
        }
    }

    #[test]
    fn labels_keep_the_part_that_tells_rows_apart() {
        let rows = ["A", "AB", "B"].map(|arm| {
            shorten_keeping_last(
                &format!("Bristol \u{b7} Local environmental improvement \u{b7} {arm}"),
                40,
            )
        });
        for (r, arm) in rows.iter().zip(["A", "AB", "B"]) {
            assert!(r.chars().count() <= 40, "{r}");
            assert!(r.ends_with(&format!(" \u{b7} {arm}")), "{r}");
        }
        assert_eq!(shorten_keeping_last("short \u{b7} A", 40), "short \u{b7} A");
        assert_eq!(
            shorten_keeping_last(&"x".repeat(50), 10).chars().count(),
            10
        );
    }

    #[test]
    fn the_accent_replaces_the_first_palette_colour_only() {
        let s = styled();
        assert_eq!(s.colour(0), RGBColor(0xAA, 0x33, 0x77));
        assert_eq!(s.colour(1), PALETTE[1]);
        assert_eq!(s.colour(7), s.accent());
        assert_eq!(Style::default().colour(0), PALETTE[0]);
        assert_eq!(s.family(), "Georgia, sans-serif");
        assert_eq!(Style::default().family(), "sans-serif");
    }

    #[test]
    fn the_style_is_drawn_in_not_edited_in() {
        let h = HeatMap {
            rows: vec!["a".into()],
            columns: vec!["x".into(), "y".into()],
            cells: vec![vec![
                Some((0.9, "0.90**".into())),
                Some((-0.2, "-0.20".into())),
            ]],
        };
        let svg = heatmap(&h, &styled()).unwrap();
        assert!(svg.contains("font-family=\"Georgia, sans-serif\""), "{svg}");
        assert!(!svg.contains("font-family=\"sans-serif\""));
        let plain = heatmap(&h, &Style::default()).unwrap();
        assert_ne!(svg, plain);
        assert!(!plain.contains("Georgia"));
    }

    #[test]
    fn facets_are_stacked_by_the_sizes_they_were_drawn_at() {
        let panel = |w: u32, h: u32| (format!("<svg width=\"{w}\" height=\"{h}\"></svg>"), (w, h));
        let out = stack(&[panel(760, 420), panel(600, 300)]);
        assert!(
            out.starts_with("<svg width=\"760\" height=\"720\""),
            "{out}"
        );
        assert!(out.contains("<svg x=\"0\" y=\"0\" width=\"760\""));
        assert!(out.contains("<svg x=\"0\" y=\"420\" width=\"600\""));
    }
}
