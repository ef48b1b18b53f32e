//! `roster-sim`: a loopback WhatsApp Web server with a simulated phone.
//!
//! The real `whatsapp-rust` client connects to it over a real WebSocket, runs
//! the real Noise handshake and exchanges binary nodes, exactly as with
//! WhatsApp. Layout (after tokio's mini-redis):
//!
//! - bytes: `frame` (framing, transport cipher), `noise` (handshake), `cert`;
//! - one socket: `connection` (the [`Connection`](connection::Connection)
//!   type: nodes in and out) and `server` (its loop: opening, stanzas, pushes);
//! - answers: `handlers`, one module per IQ namespace, built with `nodes`;
//! - state: `state` (one account's world), `shared` (what connections share:
//!   a world per account), `lobby` (registering connections no account has
//!   claimed yet),
//!   `counters`, `people`, `groups`, `chats`, `appstate`, `pictures`, `faults`,
//!   `limits`;
//! - the primary phone: `phone` (pairing, devices, blocklist, key share,
//!   history sync, actions);
//! - the outside: `admin` (HTTP API and the typed [`WorldReport`]) and
//!   [`SimHandle`] (the same for Rust tests).
//!
//! Other crates use the items re-exported here, plus the public modules
//! [`faults`] and [`limits`] (what tests arm) and [`frame`] (fuzzed by
//! `tests/fuzz_frames.rs`).

mod admin;
mod appstate;
mod cert;
mod chats;
mod connection;
mod counters;
mod deliveries;
pub mod faults;
pub mod frame;
mod groups;
mod handle;
mod handlers;
pub mod limits;
mod lobby;
mod nodes;
mod noise;
mod people;
mod phone;
mod pictures;
mod recipients;
mod server;
mod shared;
mod signal_keys;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tracing::{info, warn};

pub use admin::{
    AccountReport, BlockedReport, ChatReport, CollectionVersions, GroupReport, MemberReport, PersonReport, WorldReport,
};
pub use chats::ChatKind;
pub use deliveries::{Delivery, GroupInvite, Reader};
pub use groups::{Addressing, Role};
pub use handle::{SimAccount, SimHandle};
pub use lobby::AccountNo;
pub use phone::groups::GroupChangeError;
pub use phone::pair_code::CodeError;
pub use phone::{ActionError, ScanError};
pub use state::BlocklistRequest;

use phone::AutoScan;
use shared::Shared;

#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Must be a loopback address; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Seeds the world: the account's number, name and keys.
    pub seed: u64,
    /// How many accounts (phones) the server holds, each with its own
    /// world: account 1's from `seed`, the others from seeds derived from
    /// it (distinct numbers).
    pub accounts: usize,
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
            accounts: 1,
            auto_scan: None,
            state_path: None,
            contacts: 300,
            picture_ttl: Duration::from_secs(3600),
            usync_limit: None,
        }
    }
}

pub struct Simulator;

impl Simulator {
    pub async fn start(config: SimConfig) -> anyhow::Result<SimHandle> {
        anyhow::ensure!(
            config.listen.ip().is_loopback(),
            "the simulator only listens on loopback addresses, not {}",
            config.listen.ip()
        );
        let shared =
            Shared::new(config.seed, config.accounts, config.contacts, config.picture_ttl, config.state_path.clone())?;
        shared.limits.set(config.usync_limit);
        let auto_scan = Arc::new(AutoScan::new(config.auto_scan));
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
        info!(%addr, seed = config.seed, accounts = config.accounts, "simulator listening");
        Ok(SimHandle { addr, shared, auto_scan, stop, task })
    }
}
