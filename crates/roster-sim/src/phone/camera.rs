//! The phone's camera in demos: it scans the latest QR code shown to it,
//! once per pairing, after the configured delay (`--auto-scan`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::{info, warn};

use crate::shared::Shared;

pub struct AutoScan {
    delay: Option<Duration>,
    latest: Arc<Mutex<Option<String>>>,
}

impl AutoScan {
    /// A camera that scans after `delay`, or never with `None`.
    pub fn new(delay: Option<Duration>) -> AutoScan {
        AutoScan { delay, latest: Arc::new(Mutex::new(None)) }
    }

    /// Shows `qr` to the camera (the window's latest code replaces the one before).
    pub fn show(&self, shared: &Arc<Shared>, qr: String) {
        let Some(delay) = self.delay else { return };
        let first_sight = self.latest.lock().unwrap_or_else(|p| p.into_inner()).replace(qr).is_none();
        if !first_sight {
            return;
        }
        let (shared, slot) = (shared.clone(), self.latest.clone());
        tokio::spawn(async move {
            // The delay is the demo's pause before the "user" points the phone.
            tokio::time::sleep(delay).await;
            let qr = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(qr) = qr {
                match super::scan(&shared, &qr) {
                    Ok(device) => info!(%device, "auto-scan paired a device"),
                    Err(e) => warn!("auto-scan failed: {e}"),
                }
            }
        });
    }
}
