//! Charts as images for Word: a PNG at print resolution, drawn with resvg
//! from the chart's SVG using only the bundled fonts (so the same chart
//! gives the same bytes on every machine), and the SVG itself, which
//! Word 2016 and later shows instead of the PNG.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

/// Dots per inch of the PNG at the size the chart is printed.
pub const PRINT_DPI: f64 = 300.0;

/// A chart ready for the package.
pub struct ChartImage {
    /// The PNG.
    pub png: Vec<u8>,
    /// The chart's SVG (for Word's SVG extension), when it is safe to keep.
    pub svg: Option<String>,
    /// Width over height.
    pub aspect: f64,
}

fn fontdb() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        for data in super::super::FONT_FILES {
            db.load_font_data(data.to_vec());
        }
        // plotters writes the generic family; it means the bundled font
        db.set_sans_serif_family("DejaVu Sans");
        Arc::new(db)
    })
    .clone()
}

/// The PNG with its resolution (a `pHYs` chunk after the header): 300 dpi,
/// so Word's "reset size" gives the printed size, not a poster.
fn with_resolution(png: Vec<u8>) -> Vec<u8> {
    // signature (8 bytes), then the IHDR chunk (4 + 4 + 13 + 4)
    const AFTER_IHDR: usize = 33;
    if png.len() < AFTER_IHDR || &png[12..16] != b"IHDR" {
        return png;
    }
    let per_metre = (PRINT_DPI / 0.0254).round() as u32;
    let mut chunk = b"pHYs".to_vec();
    chunk.extend_from_slice(&per_metre.to_be_bytes());
    chunk.extend_from_slice(&per_metre.to_be_bytes());
    chunk.push(1); // the unit is the metre
    let mut out = Vec::with_capacity(png.len() + 21);
    out.extend_from_slice(&png[..AFTER_IHDR]);
    out.extend_from_slice(&9u32.to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    out.extend_from_slice(&png[AFTER_IHDR..]);
    out
}

/// CRC-32 (ISO-HDLC, as PNG chunks use).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The chart's SVG without anything before `<svg`.
fn svg_only(svg: &str) -> &str {
    &svg[svg.find("<svg").unwrap_or(0)..]
}

/// Draws `svg` to a PNG `width_inches` wide at [`PRINT_DPI`]. Fails with a
/// message when the SVG cannot be read.
pub fn chart(svg: &str, width_inches: f64) -> Result<ChartImage, String> {
    let svg = svg_only(svg);
    let options = usvg::Options {
        font_family: "DejaVu Sans".into(),
        fontdb: fontdb(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| e.to_string())?;
    let size = tree.size();
    let (w, h) = (f64::from(size.width()), f64::from(size.height()));
    if w <= 0.0 || h <= 0.0 {
        return Err("the chart has no size".into());
    }
    let px_w = (width_inches * PRINT_DPI).round().max(1.0);
    let scale = px_w / w;
    let px_h = (h * scale).round().max(1.0);
    let mut pixmap = tiny_skia::Pixmap::new(px_w as u32, px_h as u32)
        .ok_or_else(|| format!("a {px_w} x {px_h} pixel image is too large"))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale as f32, scale as f32),
        &mut pixmap.as_mut(),
    );
    let png = with_resolution(pixmap.encode_png().map_err(|e| e.to_string())?);
    // the SVG goes into the package only when the HTML page would show it
    // (nothing in it can run or fetch)
    let safe = crate::render::html::sanitize_svg(svg).starts_with("<svg");
    Ok(ChartImage {
        png,
        svg: safe.then(|| svg.to_string()),
        aspect: w / h,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PNG is as wide as asked at 300 dpi, keeps the chart's shape, and
    /// its text is drawn (with the bundled font: the pixels under a label
    /// are not all white).
    #[test]
    fn a_chart_becomes_a_print_resolution_png() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100"><text x="10" y="60" font-family="sans-serif" font-size="40">Ab</text></svg>"#;
        let img = chart(svg, 2.0).unwrap();
        assert!((img.aspect - 2.0).abs() < 1e-9);
        assert!(img.png.starts_with(b"\x89PNG\r\n\x1a\n"));
        // the resolution chunk: 11811 pixels per metre is 300 dpi
        assert_eq!(&img.png[37..41], b"pHYs");
        assert_eq!(&img.png[41..45], &11811u32.to_be_bytes());
        // the CRC-32 check value of "123456789"
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let pixmap = tiny_skia::Pixmap::decode_png(&img.png).unwrap();
        assert_eq!((pixmap.width(), pixmap.height()), (600, 300));
        let dark = pixmap
            .pixels()
            .iter()
            .filter(|p| p.red() < 128 && p.alpha() == 255)
            .count();
        assert!(dark > 500, "the label was not drawn ({dark} dark pixels)");
        assert!(img.svg.is_some());
        let unsafe_svg = svg.replace("<text", "<text onclick=\"x()\"");
        assert!(chart(&unsafe_svg, 1.0).unwrap().svg.is_none());
        assert!(chart("<svg", 1.0).is_err());
    }
}
