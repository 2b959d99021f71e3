//! The other chart kinds: correlation heat map, forest plot, stacked
//! Likert bars, dot-and-line chart with intervals, and scatter with a fitted
//! line. Same look as the bar chart: Okabe-Ito colours, text as text.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{ChartError, Series, Style, draw_err, shorten, wrap};

const VERMILLION: RGBColor = RGBColor(213, 94, 0);
const GREY: RGBColor = RGBColor(170, 170, 170);

fn font(family: &str, size: u32) -> TextStyle<'_> {
    TextStyle::from((family, size).into_font())
}

/// A correlation heat map: rows x columns of values in [-1, 1] with a text per cell.
#[derive(Debug, Clone)]
pub struct HeatMap {
    /// Row labels (correlates).
    pub rows: Vec<String>,
    /// Column labels (area x theme).
    pub columns: Vec<String>,
    /// Cell value and the text printed in it; `None` is blank (not asked).
    pub cells: Vec<Vec<Option<(f64, String)>>>,
}

/// Diverging colour centred on 0: blue for positive, vermillion for negative.
fn diverging(v: f64, max: f64, accent: RGBColor) -> RGBColor {
    let t = (v / max).clamp(-1.0, 1.0);
    let (c, t) = if t >= 0.0 {
        (accent, t)
    } else {
        (VERMILLION, -t)
    };
    let mix = |a: u8| (255.0 - (255.0 - f64::from(a)) * t * 0.85).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// The WCAG relative luminance of a colour.
fn luminance(c: RGBColor) -> f64 {
    let lin = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2)
}

/// The WCAG contrast ratio of two colours (1 to 21).
fn contrast(a: RGBColor, b: RGBColor) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// Black or white, whichever reads better on `fill`: a heat map's values
/// stay readable on its darkest cells.
fn ink_on(fill: RGBColor) -> RGBColor {
    if contrast(BLACK, fill) >= contrast(WHITE, fill) {
        BLACK
    } else {
        WHITE
    }
}

/// Draws a heat map as SVG.
pub fn heatmap(h: &HeatMap, style: &Style) -> Result<String, ChartError> {
    let fam = style.family();
    let accent = style.accent();
    if h.rows.is_empty() || h.columns.is_empty() {
        return Err(ChartError(
            "nothing to draw: the heat map has no rows or columns".into(),
        ));
    }
    let max = h
        .cells
        .iter()
        .flatten()
        .flatten()
        .map(|(v, _)| v.abs())
        .fold(0.0f64, f64::max)
        .max(0.1);
    let label_w = h
        .rows
        .iter()
        .map(|r| r.chars().count().min(34))
        .max()
        .unwrap_or(4) as u32
        * 7
        + 16;
    // up to six columns have wide cells under level, wrapped labels; more
    // have narrow cells under rotated labels, a label's parts (area, theme,
    // measure) side by side, each cut on its own, so the part that tells
    // columns apart is never lost
    let level = h.columns.len() <= 6;
    let cell_w = if level { 124u32 } else { 62 };
    let level_lines: Vec<Vec<String>> = h
        .columns
        .iter()
        .map(|c| c.split('\n').flat_map(|part| wrap(part, 16)).collect())
        .collect();
    let col_h = if level {
        level_lines.iter().map(Vec::len).max().unwrap_or(1) as u32 * 15 + 14
    } else {
        h.columns
            .iter()
            .flat_map(|c| c.split('\n'))
            .map(|part| part.chars().count().min(44))
            .max()
            .unwrap_or(4) as u32
            * 6
            + 16
    };
    let cell_h = 30u32;
    const LEGEND_H: u32 = 52;
    let grid_w = cell_w * h.columns.len() as u32;
    let (w, ht) = (
        (label_w + grid_w + 20).max(label_w + 430),
        col_h + cell_h * h.rows.len() as u32 + 20 + LEGEND_H,
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, ht)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        for (ci, c) in h.columns.iter().enumerate() {
            let centre = (label_w + cell_w * ci as u32 + cell_w / 2) as i32;
            if level {
                let lines = &level_lines[ci];
                let first = col_h as i32 - 8 - 15 * lines.len() as i32;
                for (li, line) in lines.iter().enumerate() {
                    root.draw(&Text::new(
                        line.clone(),
                        (centre, first + 15 * li as i32),
                        font(&fam, 13).pos(Pos::new(HPos::Center, VPos::Top)),
                    ))
                    .map_err(draw_err)?;
                }
                continue;
            }
            let parts: Vec<&str> = c.split('\n').collect();
            for (pi, part) in parts.iter().enumerate() {
                let x = centre - 6 * (parts.len() as i32 - 1) + 12 * pi as i32;
                let style = font(&fam, 11)
                    .transform(FontTransform::Rotate270)
                    .pos(Pos::new(HPos::Left, VPos::Center));
                root.draw(&Text::new(shorten(part, 44), (x, col_h as i32 - 6), style))
                    .map_err(draw_err)?;
            }
        }
        for (ri, r) in h.rows.iter().enumerate() {
            let y = (col_h + cell_h * ri as u32) as i32;
            // a long label breaks after its measure, so the sub-item shows whole
            let lines: Vec<String> = match r.split_once(": ") {
                Some((measure, sub)) if r.chars().count() > 34 => {
                    vec![shorten(&format!("{measure}:"), 34), shorten(sub, 34)]
                }
                _ => vec![shorten(r, 34)],
            };
            let size = if lines.len() > 1 { 12 } else { 13 };
            for (li, line) in lines.iter().enumerate() {
                let dy = (li as i32 * 2 - (lines.len() as i32 - 1)) * 6;
                root.draw(&Text::new(
                    line.clone(),
                    (label_w as i32 - 8, y + cell_h as i32 / 2 + dy),
                    font(&fam, size).pos(Pos::new(HPos::Right, VPos::Center)),
                ))
                .map_err(draw_err)?;
            }
            for ci in 0..h.columns.len() {
                let x = (label_w + cell_w * ci as u32) as i32;
                let cell = h
                    .cells
                    .get(ri)
                    .and_then(|row| row.get(ci))
                    .cloned()
                    .flatten();
                let (fill, text) = match &cell {
                    Some((v, t)) => (diverging(*v, max, accent), t.clone()),
                    None => (WHITE, String::new()),
                };
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell_w as i32 - 2, y + cell_h as i32 - 2)],
                    fill.filled(),
                ))
                .map_err(draw_err)?;
                if !text.is_empty() {
                    root.draw(&Text::new(
                        text,
                        (x + cell_w as i32 / 2 - 1, y + cell_h as i32 / 2 - 1),
                        font(&fam, 12)
                            .color(&ink_on(fill))
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    ))
                    .map_err(draw_err)?;
                }
            }
        }
        let top = (col_h + cell_h * h.rows.len() as u32 + 16) as i32;
        heat_legend(&root, (label_w as i32, top), max, accent, &fam)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// The colour key under a heat map: seven swatches from −max to +max with
/// their values, and what the colours mean.
fn heat_legend(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    (x0, y0): (i32, i32),
    max: f64,
    accent: RGBColor,
    fam: &str,
) -> Result<(), ChartError> {
    const SWATCH: i32 = 34;
    for i in 0..7 {
        let v = max * (f64::from(i) - 3.0) / 3.0;
        let x = x0 + i * SWATCH;
        root.draw(&Rectangle::new(
            [(x, y0), (x + SWATCH - 2, y0 + 14)],
            diverging(v, max, accent).filled(),
        ))
        .map_err(draw_err)?;
        if i % 3 == 0 {
            let label = if v == 0.0 {
                "0".to_string()
            } else {
                format!("{v:+.2}").replace('-', "\u{2212}")
            };
            root.draw(&Text::new(
                label,
                (x + SWATCH / 2 - 1, y0 + 17),
                font(fam, 11).pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(draw_err)?;
        }
    }
    root.draw(&Text::new(
        "Colour: negative (orange) to positive (blue); white: near zero or not asked",
        (x0, y0 + 32),
        font(fam, 11).pos(Pos::new(HPos::Left, VPos::Top)),
    ))
    .map_err(draw_err)?;
    Ok(())
}

/// One row of a forest plot.
#[derive(Debug, Clone)]
pub struct ForestRow {
    /// Label.
    pub label: String,
    /// Estimate.
    pub estimate: f64,
    /// Interval.
    pub low: f64,
    /// Interval.
    pub high: f64,
    /// Significant at the chosen level.
    pub significant: bool,
}

/// Draws a forest plot (estimates with intervals and a zero line) as SVG;
/// values are multiplied by `scale` (100 for percentage points).
pub fn forest(
    rows: &[ForestRow],
    x_label: &str,
    scale: f64,
    style: &Style,
) -> Result<String, ChartError> {
    let fam = style.family();
    let accent = style.accent();
    let rows: Vec<&ForestRow> = rows
        .iter()
        .filter(|r| r.estimate.is_finite() && r.low.is_finite() && r.high.is_finite())
        .collect();
    if rows.is_empty() {
        return Err(ChartError(
            "nothing to draw: no estimate with an interval".into(),
        ));
    }
    let lo = rows.iter().map(|r| r.low * scale).fold(0.0f64, f64::min);
    let hi = rows.iter().map(|r| r.high * scale).fold(0.0f64, f64::max);
    let pad = ((hi - lo) * 0.06).max(1e-9);
    let label_w = rows
        .iter()
        .map(|r| r.label.chars().count().min(40))
        .max()
        .unwrap_or(4) as u32
        * 7
        + 20;
    let height = 60 + 22 * rows.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let n = rows.len() as f64;
        let mut ctx = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(label_w)
            .build_cartesian_2d((lo - pad)..(hi + pad), 0f64..n)
            .map_err(draw_err)?;
        let labels: Vec<String> = rows
            .iter()
            .map(|r| super::shorten_keeping_last(&r.label, 40))
            .collect();
        ctx.configure_mesh()
            .disable_y_mesh()
            .y_labels(rows.len() * 2 + 1)
            .y_label_formatter(&|y| {
                let i = (n - y - 0.5).round();
                if (y - y.floor() - 0.5).abs() < 0.01 && i >= 0.0 && (i as usize) < labels.len() {
                    labels[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .x_desc(x_label)
            .label_style((fam.as_str(), 12))
            .axis_desc_style((fam.as_str(), 13))
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(220, 220, 220))
            .draw()
            .map_err(draw_err)?;
        ctx.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (0.0, n)],
            BLACK.stroke_width(1),
        )))
        .map_err(draw_err)?;
        for (i, r) in rows.iter().enumerate() {
            let y = n - i as f64 - 0.5;
            ctx.draw_series(std::iter::once(PathElement::new(
                vec![(r.low * scale, y), (r.high * scale, y)],
                accent.stroke_width(2),
            )))
            .map_err(draw_err)?;
            let style = if r.significant {
                accent.filled()
            } else {
                WHITE.filled()
            };
            ctx.draw_series(std::iter::once(Circle::new(
                (r.estimate * scale, y),
                5,
                style,
            )))
            .map_err(draw_err)?;
            ctx.draw_series(std::iter::once(Circle::new(
                (r.estimate * scale, y),
                5,
                accent.stroke_width(2),
            )))
            .map_err(draw_err)?;
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// One item of a stacked Likert chart: shares per answer category (summing
/// to 1 over the answers) and the don't-know share, shown apart.
#[derive(Debug, Clone)]
pub struct LikertItem {
    /// Item label.
    pub label: String,
    /// Share per category, in category order.
    pub shares: Vec<f64>,
    /// Share answering "don't know".
    pub dont_know: f64,
}

/// Draws 100% stacked bars of answer categories, don't know in grey apart.
pub fn likert(
    items: &[LikertItem],
    categories: &[String],
    style: &Style,
) -> Result<String, ChartError> {
    let fam = style.family();
    let accent = style.accent();
    if items.is_empty() || categories.is_empty() {
        return Err(ChartError("nothing to draw: no item with answers".into()));
    }
    let label_w = items
        .iter()
        .map(|r| r.label.chars().count().min(40))
        .max()
        .unwrap_or(4) as u32
        * 7
        + 20;
    let height = 110 + 30 * items.len() as u32;
    let (bar_x, bar_w, dk_x, dk_w) = (label_w as i32, 480i32, label_w as i32 + 500, 80i32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (label_w + 600, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let k = categories.len();
        let colour = |i: usize| -> RGBColor {
            // ordered categories from vermillion (lowest) through grey to blue (highest)
            let t = if k > 1 {
                i as f64 / (k - 1) as f64 * 2.0 - 1.0
            } else {
                0.0
            };
            if t.abs() < 1e-9 {
                RGBColor(215, 215, 215)
            } else {
                diverging(t, 1.0, accent)
            }
        };
        for (ii, item) in items.iter().enumerate() {
            let y = 40 + 30 * ii as i32;
            root.draw(&Text::new(
                shorten(&item.label, 40),
                (bar_x - 8, y + 11),
                font(&fam, 12).pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(draw_err)?;
            let mut x = bar_x as f64;
            for (ci, share) in item.shares.iter().enumerate() {
                let w = share * f64::from(bar_w);
                root.draw(&Rectangle::new(
                    [(x as i32, y), ((x + w) as i32, y + 22)],
                    colour(ci).filled(),
                ))
                .map_err(draw_err)?;
                if *share >= 0.07 {
                    root.draw(&Text::new(
                        format!("{:.0}%", share * 100.0),
                        ((x + w / 2.0) as i32, y + 11),
                        font(&fam, 10).pos(Pos::new(HPos::Center, VPos::Center)),
                    ))
                    .map_err(draw_err)?;
                }
                x += w;
            }
            let w = (item.dont_know.min(1.0) * f64::from(dk_w) * 2.0) as i32;
            root.draw(&Rectangle::new(
                [(dk_x, y), (dk_x + w.max(1), y + 22)],
                GREY.filled(),
            ))
            .map_err(draw_err)?;
            root.draw(&Text::new(
                format!("{:.0}%", item.dont_know * 100.0),
                (dk_x + w + 4, y + 11),
                font(&fam, 10).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(draw_err)?;
        }
        // legend
        let ly = 40 + 30 * items.len() as i32 + 8;
        let (mut lx, mut ly) = (bar_x, ly);
        for (ci, c) in categories.iter().enumerate() {
            let text = shorten(c, 22);
            let width = text.chars().count() as i32 * 6 + 26;
            if lx + width > dk_x + dk_w {
                lx = bar_x;
                ly += 18;
            }
            root.draw(&Rectangle::new(
                [(lx, ly), (lx + 12, ly + 12)],
                colour(ci).filled(),
            ))
            .map_err(draw_err)?;
            root.draw(&Text::new(
                text,
                (lx + 16, ly + 6),
                font(&fam, 11).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(draw_err)?;
            lx += width;
        }
        root.draw(&Text::new(
            "Don't know",
            (dk_x, 24),
            font(&fam, 11).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(draw_err)?;
        root.draw(&Text::new(
            "Answers (100%)",
            (bar_x, 24),
            font(&fam, 11).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// The size of a line chart.
pub const LINE_SIZE: (u32, u32) = (760, 420);

/// Draws a rate across ordered categories: one line per series with
/// points and interval whiskers.
pub fn line(
    categories: &[String],
    series: &[Series],
    y_label: &str,
    percent: bool,
    style: &Style,
) -> Result<String, ChartError> {
    let fam = style.family();
    let scale = if percent { 100.0 } else { 1.0 };
    let vals: Vec<f64> = series
        .iter()
        .flat_map(|s| {
            s.values.iter().flatten().copied().chain(
                s.intervals
                    .iter()
                    .flatten()
                    .flatten()
                    .flat_map(|(a, b)| [*a, *b]),
            )
        })
        .filter(|v| v.is_finite())
        .map(|v| v * scale)
        .collect();
    if categories.is_empty() || vals.is_empty() {
        return Err(ChartError("nothing to draw: every value is missing".into()));
    }
    let (lo, hi) = (
        vals.iter().copied().fold(f64::INFINITY, f64::min).min(0.0),
        vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let pad = ((hi - lo) * 0.08).max(1e-9);
    let n = categories.len();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, LINE_SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut ctx = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), lo..(hi + pad))
            .map_err(draw_err)?;
        let cats: Vec<String> = categories.iter().map(|c| shorten(c, 18)).collect();
        ctx.configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 0.01 && i >= 0.0 && (i as usize) < cats.len() {
                    cats[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .y_desc(y_label)
            .y_label_formatter(&|v| {
                if percent {
                    format!("{v:.0}%")
                } else {
                    format!("{v:.2}")
                }
            })
            .label_style((fam.as_str(), 12))
            .axis_desc_style((fam.as_str(), 13))
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(220, 220, 220))
            .draw()
            .map_err(draw_err)?;
        for (si, s) in series.iter().enumerate() {
            let c = style.colour(si);
            let pts: Vec<(f64, f64)> = s
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.filter(|v| v.is_finite()).map(|v| (i as f64, v * scale)))
                .collect();
            ctx.draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                .map_err(draw_err)?
                .label(s.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 14, y)], c.stroke_width(2))
                });
            ctx.draw_series(pts.iter().map(|p| Circle::new(*p, 4, c.filled())))
                .map_err(draw_err)?;
            if let Some(iv) = &s.intervals {
                for (i, v) in iv.iter().enumerate() {
                    if let Some((a, b)) = v.filter(|(a, b)| a.is_finite() && b.is_finite()) {
                        ctx.draw_series(std::iter::once(PathElement::new(
                            vec![(i as f64, a * scale), (i as f64, b * scale)],
                            c.stroke_width(1),
                        )))
                        .map_err(draw_err)?;
                    }
                }
            }
        }
        if series.len() > 1 {
            ctx.configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .label_font((fam.as_str(), 12))
                .draw()
                .map_err(draw_err)?;
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// Draws a scatter of (x, y) points with an optional least-squares line.
pub fn scatter(
    points: &[(f64, f64)],
    x_label: &str,
    y_label: &str,
    fit: bool,
    style: &Style,
) -> Result<String, ChartError> {
    let fam = style.family();
    let accent = style.accent();
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if pts.is_empty() {
        return Err(ChartError(
            "nothing to draw: no complete (x, y) pair".into(),
        ));
    }
    let (x0, x1) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (x, _)| {
            (a.min(*x), b.max(*x))
        });
    let (y0, y1) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, y)| {
            (a.min(*y), b.max(*y))
        });
    let pad = |a: f64, b: f64| {
        if b > a {
            (b - a) * 0.06
        } else {
            a.abs().max(1.0) * 0.1
        }
    };
    let (px, py) = (pad(x0, x1), pad(y0, y1));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut ctx = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d((x0 - px)..(x1 + px), (y0 - py)..(y1 + py))
            .map_err(draw_err)?;
        ctx.configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style((fam.as_str(), 12))
            .axis_desc_style((fam.as_str(), 13))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()
            .map_err(draw_err)?;
        // few points are drawn large and solid, many small and translucent
        let (radius, alpha) = if pts.len() < 200 { (4, 0.85) } else { (2, 0.3) };
        ctx.draw_series(
            pts.iter()
                .map(|p| Circle::new(*p, radius, accent.mix(alpha).filled())),
        )
        .map_err(draw_err)?;
        if fit && pts.len() >= 2 {
            let n = pts.len() as f64;
            let (mx, my) = (
                pts.iter().map(|p| p.0).sum::<f64>() / n,
                pts.iter().map(|p| p.1).sum::<f64>() / n,
            );
            let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
            if sxx > 0.0 {
                let b = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
                let a = my - b * mx;
                ctx.draw_series(std::iter::once(PathElement::new(
                    vec![(x0, a + b * x0), (x1, a + b * x1)],
                    VERMILLION.stroke_width(2),
                )))
                .map_err(draw_err)?;
            }
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ratio follows WCAG 2.1's definition: the published pairs (black
    /// on white 21:1; #777777 on white 4.48:1, the grey that just fails AA).
    #[test]
    fn contrast_matches_wcag() {
        assert!((contrast(BLACK, WHITE) - 21.0).abs() < 1e-9);
        let grey = RGBColor(0x77, 0x77, 0x77);
        assert!((contrast(grey, WHITE) - 4.48).abs() < 0.005);
        assert!((contrast(WHITE, grey) - contrast(grey, WHITE)).abs() < 1e-12);
    }

    /// Every heat-map cell's value reads at 4.5:1 or better, whatever the
    /// value and whichever accent a style picks.
    #[test]
    fn heat_map_values_keep_aa_contrast_on_every_cell() {
        let accents = [
            RGBColor(0, 114, 178),
            RGBColor(0x0b, 0x3d, 0x91),
            RGBColor(0xAA, 0x33, 0x77),
            RGBColor(0, 0, 0),
            RGBColor(240, 228, 66),
        ];
        for accent in accents {
            for i in -100..=100 {
                let fill = diverging(f64::from(i) / 100.0, 1.0, accent);
                let r = contrast(ink_on(fill), fill);
                assert!(r >= 4.5, "{r:.2}:1 on {fill:?} (accent {accent:?})");
            }
        }
    }
}
