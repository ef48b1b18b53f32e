//! `roster-sim`: a loopback WhatsApp Web server with a simulated phone.
//!
//! The real `whatsapp-rust` client connects to it over a real WebSocket, runs
//! the real Noise handshake and exchanges binary nodes, exactly as with
//! WhatsApp. Layout (after tokio's mini-redis): [`frame`] and [`noise`] carry
//! bytes, [`connection`] reads and writes nodes on one socket, [`server`] drives it, [`handlers`] answer stanzas,
//! [`state`] is the world, [`phone`] and [`appstate`] are what the primary
//! phone does, [`admin`] is the HTTP API that lets tests act as the phone.

pub mod admin;
pub mod appstate;
pub mod cert;
pub mod connection;
pub mod counters;
pub mod faults;
pub mod frame;
pub mod groups;
pub mod handlers;
pub mod limits;
pub mod nodes;
pub mod noise;
pub mod people;
pub mod phone;
pub mod phone_actions;
pub mod pictures;
pub mod server;
pub mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub use phone::ScanError;
use state::Shared;

#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Must be a loopback address; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Seeds the world: the account's number, name and keys.
    pub seed: u64,
    /// When set, the phone scans the QR code shown to it after this delay.
    pub auto_scan: Option<Duration>,
    /// When set, linked devices are kept in this JSON file across restarts.
    pub state_path: Option<std::path::PathBuf>,
    /// How many other people are on the simulated WhatsApp.
    pub contacts: usize,
    /// How long a profile picture URL stays valid.
    pub picture_ttl: Duration,
    /// The server's rate limit on number checks, if any.
    pub usync_limit: Option<limits::UsyncLimit>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 1,
            auto_scan: None,
            state_path: None,
            contacts: 300,
            picture_ttl: Duration::from_secs(3600),
            usync_limit: None,
        }
    }
}

pub struct Simulator;

pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    auto_scan: Arc<AutoScan>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Simulator {
    pub async fn start(config: SimConfig) -> anyhow::Result<SimHandle> {
        anyhow::ensure!(
            config.listen.ip().is_loopback(),
            "the simulator only listens on loopback addresses, not {}",
            config.listen.ip()
        );
        let shared = Shared::new(config.seed, config.contacts, config.picture_ttl, config.state_path.clone())?;
        shared.limits.set(config.usync_limit);
        let auto_scan = Arc::new(AutoScan { delay: config.auto_scan, latest: Arc::new(Mutex::new(None)) });
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        shared.set_base_url(format!("http://{addr}"));
        let app = admin::router(admin::AppState { shared: shared.clone(), auto_scan: auto_scan.clone() });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                warn!("simulator server stopped: {e}");
            }
        });
        info!(%addr, seed = config.seed, "simulator listening");
        Ok(SimHandle { addr, shared, auto_scan, stop, task })
    }
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws/chat", self.addr)
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The root key that signs the server's Noise certificate chain.
    pub fn root_public_key(&self) -> [u8; 32] {
        self.shared.server.root_public()
    }

    pub fn root_public_key_b64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.root_public_key())
    }

    /// The phone scans `qr` now.
    pub fn scan_qr(&self, qr: &str) -> Result<String, ScanError> {
        handlers::md::scan(&self.shared, qr)
    }

    /// Shows `qr` to the phone's camera (scanned after the auto-scan delay).
    pub fn show_qr(&self, qr: &str) {
        self.auto_scan.show(&self.shared, qr.to_owned());
    }

    /// The phone unlinks a companion (all of them with `None`).
    pub fn remove_devices(&self, device: Option<u16>) -> Vec<u16> {
        handlers::md::remove_devices(&self.shared, device)
    }

    pub fn world(&self) -> state::WorldView {
        self.shared.world().view()
    }

    /// The whole world, exactly as `GET /admin/world` serves it.
    pub fn world_json(&self) -> serde_json::Value {
        state::world_json(&self.shared)
    }

    /// Every picture URL handed out so far stops working (403).
    pub fn expire_picture_urls(&self) {
        self.shared.picture_url_epoch.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// A contact sets a new profile picture (linked devices are told); returns its id.
    pub fn contact_set_picture(&self, target: &str) -> Result<Option<u64>, phone_actions::ActionError> {
        let id = self.shared.next_id();
        phone_actions::set_picture(&mut self.shared.world(), target, false, id)
    }

    /// A contact changes their about text (pushed to linked devices when visible).
    pub fn contact_set_about(&self, target: &str, text: &str) -> Result<(), phone_actions::ActionError> {
        let id = self.shared.next_id();
        phone_actions::set_about(&mut self.shared.world(), target, text, id)
    }

    /// The phone saves `name` for someone in its address book; linked devices sync it.
    pub fn phone_rename(&self, target: &str, name: &str) -> Result<(), phone_actions::ActionError> {
        let id = self.shared.next_id();
        phone_actions::rename(&mut self.shared.world(), target, name, id, true)
    }

    /// The next IQ of `fault.xmlns` answers `fault.code` instead of being handled.
    pub fn fail_next_iq(&self, fault: faults::IqFault) {
        self.shared.faults.arm(fault);
    }

    /// Arms a fault for the next IQ it matches (error, drop, delay).
    pub fn arm_fault(&self, fault: faults::Armed) {
        self.shared.faults.arm_fault(fault);
    }

    /// Injects `fault` into every live connection now; returns how many it hit.
    pub fn inject(&self, fault: faults::ConnectionFault) -> usize {
        self.shared.world().inject(fault)
    }

    /// Refuses new connections (HTTP 503) for `length`.
    pub fn start_outage(&self, length: Duration) {
        self.shared.faults.start_outage(length);
    }

    /// Connection attempts refused by outages so far.
    pub fn refused_connections(&self) -> u64 {
        self.shared.counters.refused_connections.get()
    }

    /// Chat connections accepted so far (each reconnect is one more).
    pub fn connections_opened(&self) -> u64 {
        self.shared.counters.connections_opened.get()
    }

    /// Logins the server accepted (each reconnect of a linked device is one more).
    pub fn logins(&self) -> u64 {
        self.shared.counters.logins.get()
    }

    /// Connections whose Noise handshake did not complete (a client that
    /// refused the certificate chain closes right after the server hello).
    pub fn handshakes_failed(&self) -> u64 {
        self.shared.counters.handshakes_failed.get()
    }

    /// Rate-limits number checks (`None` lifts the limit).
    pub fn set_usync_limit(&self, limit: Option<limits::UsyncLimit>) {
        self.shared.limits.set(limit);
    }

    /// Every number check the server received, in order.
    pub fn check_log(&self) -> Vec<limits::CheckCall> {
        self.shared.limits.log()
    }

    /// Faults armed with [`fail_next_iq`](Self::fail_next_iq) and not yet used.
    pub fn armed_faults(&self) -> usize {
        self.shared.faults.armed()
    }

    /// How many IQs of namespace `xmlns` (`usync`, `w:profile:picture`...) clients sent.
    pub fn iq_count(&self, xmlns: &str) -> u64 {
        self.shared.counters.iq_count(xmlns)
    }

    /// A rename whose `server_sync` push never reaches the linked devices.
    pub fn phone_rename_unannounced(&self, target: &str, name: &str) -> Result<(), phone_actions::ActionError> {
        let id = self.shared.next_id();
        phone_actions::rename(&mut self.shared.world(), target, name, id, false)
    }

    /// The phone blocks (or unblocks) someone by number or JID; linked devices are told.
    pub fn phone_set_blocked(&self, target: &str, block: bool) -> Result<String, phone_actions::ActionError> {
        phone_actions::set_blocked(&mut self.shared.world(), target, block)
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// The phone's camera in demos: it scans the latest QR shown to it, once
/// per pairing, after the configured delay.
pub struct AutoScan {
    delay: Option<Duration>,
    latest: Arc<Mutex<Option<String>>>,
}

impl AutoScan {
    fn show(&self, shared: &Arc<Shared>, qr: String) {
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
                match handlers::md::scan(&shared, &qr) {
                    Ok(device) => info!(%device, "auto-scan paired a device"),
                    Err(e) => warn!("auto-scan failed: {e}"),
                }
            }
        });
    }
}
