//! Bar charts with many categories, drawn horizontally: categories run down
//! the left, each label written level and wrapped (never rotated or cut, so
//! the part that tells categories apart stays), values along the bottom.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    BarChart, ChartError, Style, draw_err, draw_legend, house_mesh, legend_entries, value_tick,
    wrap, y_range,
};

/// Characters per line of a category label.
const LABEL_CHARS: usize = 40;
/// Pixels per line of label text.
const LINE_PX: u32 = 14;

/// The wrapped labels and the height of each category's row.
pub(super) struct Rows {
    lines: Vec<Vec<String>>,
    row_h: u32,
    label_w: u32,
}

impl Rows {
    pub(super) fn new(chart: &BarChart) -> Rows {
        let lines: Vec<Vec<String>> = chart
            .categories
            .iter()
            .map(|c| wrap(&c.replace('\n', " \u{b7} "), LABEL_CHARS))
            .collect();
        let most_lines = lines.iter().map(Vec::len).max().unwrap_or(1) as u32;
        let widest = lines.iter().flatten().map(|l| l.chars().count()).max();
        let bars = chart.series.len() as u32;
        Rows {
            row_h: (most_lines * LINE_PX + 8).max(bars * 12 + 10).max(24),
            label_w: widest.unwrap_or(4) as u32 * 7 + 18,
            lines,
        }
    }

    /// Top margin, plot rows and the x axis with its title.
    pub(super) fn height(&self, legend: bool) -> u32 {
        (if legend { 34 } else { 12 }) + self.row_h * self.lines.len() as u32 + 62
    }
}

/// Draws `chart` with its categories down the y axis.
pub(super) fn draw(chart: &BarChart, style: &Style) -> Result<String, ChartError> {
    let fam = style.family();
    let n = chart.categories.len();
    let (x0, x1) = y_range(chart)?;
    let rows = Rows::new(chart);
    let legend = legend_entries(chart, style);
    let size = (chart.size.0, rows.height(!legend.is_empty()));
    let scale = chart.scale();
    let pct = chart.percent;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .margin(12)
            .margin_right(24)
            .margin_top(if legend.is_empty() { 12 } else { 34 })
            .x_label_area_size(50)
            .y_label_area_size(rows.label_w);
        if !chart.title.is_empty() {
            builder.caption(&chart.title, (fam.as_str(), 18));
        }
        // category i occupies [n - i - 1, n - i]: the first is at the top
        let mut ctx = builder
            .build_cartesian_2d(x0..x1, 0f64..n as f64)
            .map_err(draw_err)?;
        let tick = |v: &f64| value_tick(*v, pct);
        let mut mesh = ctx.configure_mesh();
        mesh.disable_y_mesh()
            .y_labels(0)
            .x_labels(6)
            .x_desc(chart.y_label.as_str())
            .x_label_formatter(&tick);
        house_mesh(&mut mesh, &fam).draw().map_err(draw_err)?;
        let group = 0.74;
        let bar_h = group / chart.series.len() as f64;
        let top = |ci: usize, si: usize| (n - ci) as f64 - (1.0 - group) / 2.0 - si as f64 * bar_h;
        let base = 0f64.max(x0);
        for (si, s) in chart.series.iter().enumerate() {
            let colour = style.colour(si);
            let bars = s.values.iter().enumerate().filter_map(|(ci, v)| {
                let v = v.filter(|v| v.is_finite())? * scale;
                let t = top(ci, si);
                Some(Rectangle::new(
                    [(base, t), (v, t - bar_h * 0.9)],
                    colour.filled(),
                ))
            });
            ctx.draw_series(bars).map_err(draw_err)?;
            let mid = |ci: usize| top(ci, si) - bar_h * 0.45;
            if let Some(intervals) = &s.intervals {
                let whiskers = intervals
                    .iter()
                    .enumerate()
                    .filter_map(|(ci, iv)| iv.map(|(a, b)| (ci, a * scale, b * scale)))
                    .filter(|(_, a, b)| a.is_finite() && b.is_finite())
                    .flat_map(|(ci, a, b)| {
                        let (y, cap) = (mid(ci), bar_h * 0.2);
                        [
                            PathElement::new(vec![(a, y), (b, y)], BLACK.stroke_width(1)),
                            PathElement::new(
                                vec![(a, y - cap), (a, y + cap)],
                                BLACK.stroke_width(1),
                            ),
                            PathElement::new(
                                vec![(b, y - cap), (b, y + cap)],
                                BLACK.stroke_width(1),
                            ),
                        ]
                    });
                ctx.draw_series(whiskers).map_err(draw_err)?;
            }
            if let Some(markers) = chart.markers.as_ref().and_then(|m| m.get(si)) {
                let ticks = markers.iter().enumerate().filter_map(|(ci, m)| {
                    let v = m.filter(|v| v.is_finite())? * scale;
                    let t = top(ci, si);
                    Some(PathElement::new(
                        vec![(v, t + bar_h * 0.04), (v, t - bar_h * 0.94)],
                        BLACK.stroke_width(3),
                    ))
                });
                ctx.draw_series(ticks).map_err(draw_err)?;
            }
        }
        for (ci, text) in &chart.annotations {
            if *ci < n {
                let at = ctx.backend_coord(&(x1, (n - ci) as f64 - 0.5));
                super::draw_note(
                    &root,
                    (at.0 - 6, at.1),
                    text,
                    &fam,
                    HPos::Right,
                    VPos::Center,
                )?;
            }
        }
        draw_legend(&root, &legend, &fam)?;
        let label = TextStyle::from((fam.as_str(), 13).into_font())
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (ci, lines) in rows.lines.iter().enumerate() {
            let (px, py) = ctx.backend_coord(&(x0, (n - ci) as f64 - 0.5));
            let first = py - (lines.len() as i32 - 1) * LINE_PX as i32 / 2;
            for (li, line) in lines.iter().enumerate() {
                root.draw(&Text::new(
                    line.clone(),
                    (px - 8, first + li as i32 * LINE_PX as i32),
                    label.clone(),
                ))
                .map_err(draw_err)?;
            }
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}
