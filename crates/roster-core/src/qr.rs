//! Renders a pairing code as an SVG document the window can show as is.

use qrcode::{EcLevel, QrCode, render::svg};

/// Renders `data` as a QR code SVG, or `None` if it cannot fit in a QR code.
pub fn render_svg(data: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::L).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(264, 264)
            .quiet_zone(true)
            .dark_color(svg::Color("#111b21"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_a_pairing_string() {
        let svg = super::render_svg("2@abc,AAAA,BBBB,CCCC,9").unwrap();
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"));
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }
}
