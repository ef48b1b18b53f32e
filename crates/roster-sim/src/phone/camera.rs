//! The phone's camera in demos: it scans the latest QR code shown to it,
//! once per pairing, after the configured delay (`--auto-scan`). With
//! several accounts, the camera is that of the first account with no
//! linked device (account 1 when all have one), so a demo links each
//! account in turn.

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
                let account =
                    (1..=shared.accounts()).find(|n| shared.world_of(*n).account.devices.is_empty()).unwrap_or(1);
                match super::scan(&shared, account, &qr) {
                    Ok(device) => info!(account, %device, "auto-scan paired a device"),
                    Err(e) => warn!("auto-scan failed: {e}"),
                }
            }
        });
    }
}
