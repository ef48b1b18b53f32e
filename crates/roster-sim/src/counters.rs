//! What the server counts, in one place: tests read these to prove what
//! reached the server (a reconnect, a refused handshake, a cached picture).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// One count that only goes up.
#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The per-server counters, from the simulator's start.
#[derive(Default)]
pub struct Counters {
    /// Chat WebSockets accepted (each reconnect is one more).
    pub connections_opened: Counter,
    /// Chat WebSockets refused with 503 while an outage was armed (each is
    /// one client attempt).
    pub refused_connections: Counter,
    /// Connections whose Noise handshake did not complete (a client that
    /// refused the certificate chain closes right after the server hello).
    pub handshakes_failed: Counter,
    /// Logins accepted (`<success>` sent; each reconnect of a linked device
    /// is one more).
    pub logins: Counter,
    /// Picture downloads refused with 403 because their URL had expired.
    pub expired_picture_hits: Counter,
    /// Client IQs received, by namespace (`usync`, `w:profile:picture`...).
    iqs: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    pub fn count_iq(&self, xmlns: &str) {
        *self.lock_iqs().entry(xmlns.to_owned()).or_default() += 1;
    }

    pub fn iq_count(&self, xmlns: &str) -> u64 {
        self.lock_iqs().get(xmlns).copied().unwrap_or(0)
    }

    /// Every namespace's IQ count.
    pub fn iq_counts(&self) -> BTreeMap<String, u64> {
        self.lock_iqs().clone()
    }

    fn lock_iqs(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.iqs.lock().unwrap_or_else(|p| p.into_inner())
    }
}
