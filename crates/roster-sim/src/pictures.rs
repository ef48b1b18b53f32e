//! Profile pictures: generated images, served over HTTP on the simulator's
//! port at URLs that expire, as the real CDN's do (403 after expiry).

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage};
use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    Preview,
    Full,
}

impl Size {
    pub fn parse(s: &str) -> Option<Size> {
        match s {
            "preview" => Some(Size::Preview),
            "image" => Some(Size::Full),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Size::Preview => "preview",
            Size::Full => "image",
        }
    }

    fn pixels(self) -> u32 {
        match self {
            Size::Preview => 96,
            Size::Full => 640,
        }
    }
}

/// The URL path of a picture, without the host.
pub fn path(phone: &str, picture_id: u64, size: Size) -> String {
    format!("/pp/{phone}/{picture_id}/{}", size.as_str())
}

/// A JPEG unique to (phone, picture id): a two-colour diagonal pattern.
pub fn render(phone: &str, picture_id: u64, size: Size) -> Vec<u8> {
    let digest = Sha256::new().chain_update(phone.as_bytes()).chain_update(picture_id.to_le_bytes()).finalize();
    let a = Rgb([digest[0] / 2 + 64, digest[1] / 2 + 64, digest[2] / 2 + 64]);
    let b = Rgb([digest[3] / 3, digest[4] / 3, digest[5] / 3]);
    let stripe = u32::from(digest[6] % 5) + 3;
    let n = size.pixels();
    let img = RgbImage::from_fn(n, n, |x, y| if ((x + y) * 16 / n).is_multiple_of(stripe) { b } else { a });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg).expect("encode jpeg");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_distinct_jpegs() {
        let a = render("15550001111", 7, Size::Preview);
        let b = render("15550001111", 8, Size::Preview);
        assert_eq!(&a[..2], &[0xFF, 0xD8], "JPEG magic");
        assert_ne!(a, b);
        let full = image::load_from_memory(&render("1", 1, Size::Full)).unwrap();
        assert_eq!(full.width(), 640);
    }
}
