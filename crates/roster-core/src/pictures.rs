//! Profile picture thumbnails: fetched by Rust (the webview never loads a
//! remote URL), resized, cached in roster.db, handed to the window as data.
//! A picture URL that expired (403, as the CDN answers) is asked for again.

use std::io::Cursor;
use std::time::Duration;

use base64::Engine;
use thiserror::Error;
use tracing::{debug, info};
use whatsapp_rust::ContactError;
use whatsapp_rust::prelude::*;

use crate::profile::ProfileError;
use crate::store::{Store, StoreError};

/// Thumbnail edge, in pixels.
pub const THUMB_SIZE: u32 = 96;
/// Largest picture accepted from the CDN.
const MAX_DOWNLOAD: u64 = 8 << 20;

#[derive(Debug, Error)]
pub enum PictureError {
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error("the picture could not be downloaded: {0}")]
    Download(String),
    #[error("the picture is not an image: {0}")]
    Decode(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ContactError> for PictureError {
    fn from(e: ContactError) -> Self {
        match e {
            ContactError::Iq(iq) => PictureError::Profile(iq.into()),
            other => PictureError::Profile(ProfileError::Failed(other.to_string())),
        }
    }
}

enum Download {
    Ok(Vec<u8>),
    Expired,
}

fn download(url: &str) -> Result<Download, PictureError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(20)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent.get(url).call().map_err(|e| PictureError::Download(e.to_string()))?;
    match response.status().as_u16() {
        200 => {
            let body = response
                .body_mut()
                .with_config()
                .limit(MAX_DOWNLOAD)
                .read_to_vec()
                .map_err(|e| PictureError::Download(e.to_string()))?;
            Ok(Download::Ok(body))
        }
        403 | 410 => Ok(Download::Expired),
        other => Err(PictureError::Download(format!("the server answered {other}"))),
    }
}

/// Shrinks a picture to a square JPEG thumbnail.
pub fn make_thumbnail(bytes: &[u8]) -> Result<Vec<u8>, PictureError> {
    let img = image::load_from_memory(bytes).map_err(|e| PictureError::Decode(e.to_string()))?;
    let thumb = img.resize_to_fill(THUMB_SIZE, THUMB_SIZE, image::imageops::FilterType::Triangle);
    let mut out = Cursor::new(Vec::new());
    thumb.to_rgb8().write_to(&mut out, image::ImageFormat::Jpeg).map_err(|e| PictureError::Decode(e.to_string()))?;
    Ok(out.into_inner())
}

pub fn data_url(jpeg: &[u8]) -> String {
    format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(jpeg))
}

/// The thumbnail of `phone`'s current picture (`picture_id`), from the cache
/// or fetched now. `None` when there is no picture to see.
pub(crate) async fn thumbnail(
    client: &Client,
    store: &Store,
    phone: &str,
    picture_id: &str,
    max_age: Duration,
) -> Result<Option<Vec<u8>>, PictureError> {
    if let Some(cached) = store.pictures().thumbnail(phone, picture_id, max_age)? {
        return Ok(Some(cached));
    }
    let jid = Jid::pn(phone);
    // A URL kept from earlier may have expired; one fresh URL is asked for then.
    let mut url = store.pictures().url(phone, picture_id)?;
    for attempt in 0..2 {
        let current = match url.take() {
            Some(u) => u,
            None => match client.contacts().get_profile_picture(&jid, true).await? {
                Some(p) => {
                    store.pictures().save_url(phone, &p.id, &p.url)?;
                    p.url
                }
                None => return Ok(None),
            },
        };
        let fetched = tokio::task::spawn_blocking(move || download(&current))
            .await
            .map_err(|e| PictureError::Download(e.to_string()))??;
        match fetched {
            Download::Ok(bytes) => {
                let thumb = make_thumbnail(&bytes)?;
                store.pictures().save_thumbnail(phone, picture_id, &thumb)?;
                debug!(bytes = bytes.len(), "picture cached");
                return Ok(Some(thumb));
            }
            Download::Expired if attempt == 0 => info!("picture URL expired; asking for a new one"),
            Download::Expired => break,
        }
    }
    Err(PictureError::Download("the picture URL expired twice in a row".into()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn thumbnails_are_small_jpegs() {
        let img = image::RgbImage::from_pixel(640, 480, image::Rgb([10, 200, 30]));
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png).unwrap();
        let thumb = super::make_thumbnail(&png.into_inner()).unwrap();
        let back = image::load_from_memory(&thumb).unwrap();
        assert_eq!((back.width(), back.height()), (super::THUMB_SIZE, super::THUMB_SIZE));
        assert!(super::data_url(&thumb).starts_with("data:image/jpeg;base64,"));
        assert!(super::make_thumbnail(b"not an image").is_err());
    }
}
