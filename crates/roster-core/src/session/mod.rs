//! The device session: one running whatsapp-rust client, its events
//! reduced into a [`SessionSnapshot`], and the operator's actions on it.
//!
//! `Session` itself is the lifecycle (start, logout, new QR, reconnect,
//! shutdown) and the retry rule shared by every action; each concern is
//! reached through a named handle defined in the file of the same name:
//! `session.directory()`, `.blocklist()`, `.checks()`, `.bulk()`,
//! `.groups()`, `.app_state()`, `.settings()`, `.audit()`.
//!
//! Invariants: an action whose connection drops before the answer is sent
//! again once, on the next connection, only when repeating it changes
//! nothing (block, unblock, sync, bulk actions); every operator action is
//! written to the audit log before it reaches the server.

mod app_state;
mod audit;
mod blocklist;
mod bulk;
mod chats;
mod checks;
mod directory;
mod groups;
mod settings;

use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::sync::{Mutex, mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{Instrument, info, info_span, warn};
use whatsapp_rust::bot::BotHandle;
use whatsapp_rust::http::UreqHttpClient;
use whatsapp_rust::prelude::*;
use whatsapp_rust::transport::TokioWebSocketTransportFactory;
use whatsapp_rust::wacore::store::device::DevicePropsOverride;

pub use app_state::AppState;
pub use audit::Audit;
use audit::audited;
pub use blocklist::Blocklist;
pub use bulk::Bulk;
pub use chats::Chats;
pub use checks::Checks;
pub use directory::{DetailsError, Directory};
pub use groups::Groups;
pub use settings::{Preferences, SettingsError};

use crate::datadir::DataDir;
use crate::endpoint::ServerUrl;
use crate::link_code::LinkCodeError;
use crate::redact::mask_numbers;
use crate::reducer::{Forward, Reducer, account_of};
use crate::snapshot::{ConnectionState, LinkCode, SessionSnapshot};
use crate::store::{Store, StoreError};

/// The web client version announced to a non-WhatsApp server (the simulator).
/// Against WhatsApp itself the client fetches the current one.
const PINNED_VERSION: (u32, u32, u32) = (2, 3000, 1_023_868_176);

pub struct SessionConfig {
    pub data_dir: DataDir,
    /// `None` talks to WhatsApp itself.
    pub server: Option<ServerUrl>,
    /// The name the phone shows in its list of linked devices.
    pub device_name: String,
    /// How long a cached profile picture is trusted before it is fetched again.
    pub picture_max_age: Duration,
}

/// The default for [`SessionConfig::picture_max_age`]: a day, as the seed APIs advise.
pub const PICTURE_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// How long an idempotent action whose connection dropped waits for the
/// next connection before it is reported failed.
const RECONNECT_WAIT: Duration = Duration::from_secs(30);
/// How long quitting waits for a number-check batch in flight.
const RUNNER_GRACE: Duration = Duration::from_secs(10);
/// Pictures fetched at once for the list; more wait their turn.
const PICTURE_FETCHES: usize = 4;
/// The setting key of the default country.
const DEFAULT_COUNTRY: &str = "default_country";
/// The account the stored device belongs to, as JSON (shown at start).
const LINKED_ACCOUNT: &str = "linked_account";
/// The setting key of the confirmation before a block (`on`/`off`).
const CONFIRM_BLOCKS: &str = "confirm_blocks";

/// Why a server action's outcome is unknown, so that it is sent again
/// (see [`Session::retried_once_reconnected`]).
#[derive(Clone, Copy, Debug)]
enum Unknown {
    /// The connection dropped before the answer.
    Dropped,
    /// No answer came within the client's request timeout.
    Unanswered,
}

#[derive(Debug, Error)]
pub enum SessionError {
    #[error("cannot open the session store {path}: {detail}")]
    Store { path: String, detail: String },
    #[error("cannot start the WhatsApp client: {0}")]
    Client(String),
    #[error("cannot remove the unlinked session store {path}: {source}")]
    RemoveStore { path: String, source: std::io::Error },
    #[error("the session is not running")]
    NotRunning,
    #[error(transparent)]
    Database(#[from] StoreError),
}

struct Running {
    handle: BotHandle,
    events: JoinHandle<()>,
    _raw_nodes: RawNodeLease,
}

pub struct Session {
    config: SessionConfig,
    state: watch::Sender<SessionSnapshot>,
    /// The client; held by its launch until it is built.
    running: Arc<Mutex<Option<Running>>>,
    store: Arc<Store>,
    picture_slots: tokio::sync::Semaphore,
    /// The current connection's client, for the check runner.
    client: watch::Sender<Option<Arc<Client>>>,
    /// Wakes the check runner after an operator intent.
    check_wake: Arc<tokio::sync::Notify>,
    check_runner: std::sync::Mutex<Option<(JoinHandle<()>, watch::Sender<bool>)>>,
    /// One bulk action at a time.
    bulk_lock: Mutex<()>,
}

impl Session {
    /// The contact list, a contact's details and pictures.
    pub fn directory(&self) -> Directory<'_> {
        Directory(self)
    }

    /// Blocking and the server's blocklist.
    pub fn blocklist(&self) -> Blocklist<'_> {
        Blocklist(self)
    }

    /// Number checks and identifier resolution.
    pub fn checks(&self) -> Checks<'_> {
        Checks(self)
    }

    /// Bulk blocks from a check, and their undo.
    pub fn bulk(&self) -> Bulk<'_> {
        Bulk(self)
    }

    /// 1:1 chats' disappearing-message timers.
    pub fn chats(&self) -> Chats<'_> {
        Chats(self)
    }

    /// The groups the account is in.
    pub fn groups(&self) -> Groups<'_> {
        Groups(self)
    }

    /// Re-syncing app-state scopes.
    pub fn app_state(&self) -> AppState<'_> {
        AppState(self)
    }

    /// The operator's settings.
    pub fn settings(&self) -> Preferences<'_> {
        Preferences(self)
    }

    /// The log of operator actions.
    pub fn audit(&self) -> Audit<'_> {
        Audit(self)
    }

    /// Opens Roster's store and starts connecting in the background: with a
    /// stored device the client logs in, otherwise it asks the server for
    /// pairing QR codes. Returns once the saved data can be shown, with the
    /// account last linked (if its device is still stored) and before the
    /// client is built; a client that cannot start is the `Stopped` state.
    pub async fn start(config: SessionConfig) -> Result<Arc<Session>, SessionError> {
        let store = Arc::new(Store::open(&config.data_dir.app_db())?);
        config.data_dir.restrict_databases().map_err(|e| SessionError::Store {
            path: config.data_dir.app_db().display().to_string(),
            detail: e.to_string(),
        })?;
        let account = if config.data_dir.session_db().exists() {
            store.setting(LINKED_ACCOUNT)?.and_then(|json| serde_json::from_str(&json).ok())
        } else {
            None
        };
        let (state, _) = watch::channel(SessionSnapshot {
            state: ConnectionState::Connecting,
            qr: None,
            link_code: None,
            account,
            blocked_count: Some(store.blocklist().count()?),
            contact_count: store.directory().count()?,
            directory_version: 0,
            groups_version: 0,
            chat_count: store.chats().count()?,
            check: store.checks().latest_progress()?,
            connection_epoch: 0,
        });
        let session = Arc::new(Session {
            config,
            state,
            running: Arc::new(Mutex::new(None)),
            store,
            picture_slots: tokio::sync::Semaphore::new(PICTURE_FETCHES),
            client: watch::channel(None).0,
            check_wake: Arc::new(tokio::sync::Notify::new()),
            check_runner: std::sync::Mutex::new(None),
            bulk_lock: Mutex::new(()),
        });
        session.checks().start_runner();
        Bulk::resume_on_connect(&session);
        Groups::resume_on_connect(&session);
        session.remember_account();
        let mut running = session.running.clone().try_lock_owned().expect("a new session has no client yet");
        let launching = session.clone();
        tokio::spawn(async move {
            if let Ok(launched) = launching.launched().await {
                *running = Some(launched);
            }
        });
        Ok(session)
    }

    /// [`Session::launch`]; a client that cannot start is the `Stopped` state.
    async fn launched(&self) -> Result<Running, SessionError> {
        self.launch().await.inspect_err(|e| {
            warn!("the client could not start: {e}");
            self.publish(|s| s.state = ConnectionState::Stopped { reason: e.to_string() });
        })
    }

    /// Saves the linked account whenever it changes, so that the next start
    /// shows it (and the saved list) before the client is built.
    fn remember_account(&self) {
        let mut rx = self.subscribe();
        let store = self.store.clone();
        tokio::spawn(async move {
            let mut saved = rx.borrow_and_update().account.clone();
            while rx.changed().await.is_ok() {
                let account = rx.borrow_and_update().account.clone();
                if account == saved {
                    continue;
                }
                let json = account.as_ref().and_then(|a| serde_json::to_string(a).ok());
                match store.set_setting(LINKED_ACCOUNT, json.as_deref()) {
                    Ok(()) => saved = account,
                    Err(e) => warn!("cannot save the linked account: {e}"),
                }
            }
        });
    }

    pub fn snapshot(&self) -> SessionSnapshot {
        self.state.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<SessionSnapshot> {
        self.state.subscribe()
    }

    /// Waits until the snapshot satisfies `done`, for at most `deadline`.
    pub async fn wait_for(
        &self,
        deadline: Duration,
        mut done: impl FnMut(&SessionSnapshot) -> bool,
    ) -> Option<SessionSnapshot> {
        let mut rx = self.subscribe();
        let result = tokio::time::timeout(deadline, rx.wait_for(|s| done(s))).await;
        match result {
            Ok(Ok(snapshot)) => Some(snapshot.clone()),
            _ => None,
        }
    }

    /// Unlinks this device from the account, forgets its keys, and starts a
    /// new pairing so the window shows a fresh QR code.
    pub async fn logout(&self) -> Result<(), SessionError> {
        let span = info_span!("session.logout");
        let work = async {
            let mut running = self.running.lock().await;
            if let Some(current) = running.take() {
                let client = current.handle.client();
                client.logout().await;
                current.stop().await;
            }
            for file in self.config.data_dir.session_db_files() {
                match std::fs::remove_file(&file) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => {
                        return Err(SessionError::RemoveStore { path: file.display().to_string(), source });
                    }
                }
            }
            info!("device unlinked; starting a new pairing");
            self.publish(|s| {
                s.state = ConnectionState::Connecting;
                s.qr = None;
                s.link_code = None;
                s.account = None;
            });
            *running = Some(self.launched().await?);
            Ok(())
        };
        audited(&self.store, "log out", None, |()| "device unlinked; a new pairing started".into(), work)
            .instrument(span)
            .await
    }

    /// For removing the account from Roster: unlinks this device (the
    /// phone forgets it) and stops everything, without a new pairing. The
    /// caller then deletes the account's folder (`Accounts::remove`); the
    /// audit log goes with it, so nothing is written to it here.
    pub async fn remove_account(&self) -> Result<(), SessionError> {
        let span = info_span!("session.remove_account");
        async {
            if let Some(current) = self.running.lock().await.take() {
                current.handle.client().logout().await;
                current.stop().await;
            }
            self.shutdown().await;
            self.publish(|s| {
                s.state = ConnectionState::LoggedOut { reason: "the account was removed from Roster".into() };
                s.qr = None;
                s.link_code = None;
            });
            info!("device unlinked for the account's removal");
            Ok(())
        }
        .instrument(span)
        .await
    }

    /// "Link with phone number instead": asks WhatsApp for a code for the
    /// account's `number` (any format; the default country applies), shown
    /// in the snapshot beside the QR code, which stays valid meanwhile.
    /// Asking again replaces the code.
    pub async fn link_with_code(&self, number: &str) -> Result<LinkCode, LinkCodeError> {
        let span = info_span!("session.link_with_code");
        let work = async {
            let country = self.store.setting(DEFAULT_COUNTRY).map_err(|e| LinkCodeError::Failed(e.to_string()))?;
            let number = crate::numbers::parse_phone(number, country.as_deref())?;
            match self.snapshot().state {
                ConnectionState::Connected => return Err(LinkCodeError::AlreadyLinked),
                ConnectionState::WaitingForScan => {}
                _ => return Err(LinkCodeError::NotReady),
            }
            let client =
                self.running.lock().await.as_ref().map(|r| r.handle.client()).ok_or(LinkCodeError::NotReady)?;
            let code = crate::link_code::request(&client, &number).await?;
            info!(phone = %mask_numbers(number.as_str()), "a code for linking by phone number is shown");
            let shown = code.clone();
            self.publish(|s| s.link_code = Some(shown));
            Ok(code)
        };
        audited(
            &self.store,
            "link by phone number",
            Some(number.trim()),
            |c: &LinkCode| format!("code for {}", c.phone_shown),
            work,
        )
        .instrument(span)
        .await
    }

    /// Starts a new pairing attempt after the QR codes ran out, or a new
    /// connection after a logout from the phone or after another session
    /// took this one over.
    pub async fn refresh_qr(&self) -> Result<(), SessionError> {
        let span = info_span!("session.refresh_qr");
        async {
            let mut running = self.running.lock().await;
            self.relaunch(&mut running, |s| {
                s.state = ConnectionState::Connecting;
                s.qr = None;
            })
            .await
        }
        .instrument(span)
        .await
    }

    /// "Reconnect now": while the client waits out a pause between attempts
    /// (offline at start, or after a drop), starts a fresh attempt at once.
    /// The device and everything saved stay.
    pub async fn retry_now(&self) -> Result<(), SessionError> {
        let span = info_span!("session.retry_now");
        async {
            let mut running = self.running.lock().await;
            let waiting = matches!(
                self.snapshot().state,
                ConnectionState::Reconnecting { .. }
                    | ConnectionState::Unreachable { .. }
                    | ConnectionState::Stopped { .. }
            );
            if !waiting {
                return Ok(());
            }
            self.relaunch(&mut running, |s| s.state = ConnectionState::Connecting).await
        }
        .instrument(span)
        .await
    }

    /// Drops the connection and connects again at once (keeps the device).
    pub async fn reconnect(&self) -> Result<(), SessionError> {
        let running = self.running.lock().await;
        let current = running.as_ref().ok_or(SessionError::NotRunning)?;
        current.handle.client().reconnect_immediately().await;
        Ok(())
    }

    /// Disconnects and stops the client, flushing its state to disk. A
    /// number check in flight is finished (and saved) first.
    pub async fn shutdown(&self) {
        let runner = self.check_runner.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((task, stop)) = runner {
            let _ = stop.send(true);
            let abort = task.abort_handle();
            if tokio::time::timeout(RUNNER_GRACE, task).await.is_err() {
                warn!("the number check did not stop within {RUNNER_GRACE:?}; its last batch will be asked again");
                abort.abort();
            }
        }
        self.client.send_replace(None);
        if let Some(current) = self.running.lock().await.take() {
            current.stop().await;
        }
    }

    /// Runs `work` once for every new connection while the session lives.
    /// Connections are told apart by their epoch: a quick reconnect (a 515)
    /// may never show a state other than connected in between.
    fn on_each_connection<F, Fut>(session: &Arc<Session>, work: F)
    where
        F: Fn(Arc<Session>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let mut snapshots = session.subscribe();
        let session = Arc::downgrade(session);
        tokio::spawn(async move {
            let mut seen = 0;
            loop {
                let Ok(now) = snapshots
                    .wait_for(|s| s.state == ConnectionState::Connected && s.connection_epoch > seen)
                    .await
                    .map(|s| s.connection_epoch)
                else {
                    return;
                };
                seen = now;
                let Some(session) = session.upgrade() else { return };
                work(session).await;
            }
        });
    }

    async fn connected_client(&self) -> Option<Arc<Client>> {
        if self.snapshot().state != ConnectionState::Connected {
            return None;
        }
        self.running.lock().await.as_ref().map(|r| r.handle.client())
    }

    /// Runs a server action that is safe to repeat (block, unblock, sync).
    /// When its outcome is unknown — the connection dropped before the
    /// answer, or no answer came within the client's timeout — it waits for
    /// the next connection (at most [`RECONNECT_WAIT`]) and runs it once
    /// more; otherwise the error stands. A connection that left a request
    /// unanswered is replaced first: the client's keepalive misses a silent
    /// socket whose last receive and first send fall in the same millisecond.
    async fn retried_once_reconnected<T, E, Fut>(
        &self,
        not_connected: impl Fn() -> E,
        unknown: impl Fn(&E) -> Option<Unknown>,
        action: impl Fn(Arc<Client>) -> Fut,
    ) -> Result<T, E>
    where
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let epoch = self.snapshot().connection_epoch;
        let client = self.connected_client().await.ok_or_else(&not_connected)?;
        let result = action(client.clone()).await;
        let Some(why) = result.as_ref().err().and_then(&unknown) else { return result };
        match why {
            Unknown::Dropped => warn!(
                "the connection dropped before WhatsApp answered; the action is idempotent, so it is sent again once connected"
            ),
            Unknown::Unanswered => {
                warn!(
                    "WhatsApp did not answer in time; the connection is replaced and the idempotent action sent again"
                );
                if self.snapshot().connection_epoch == epoch {
                    client.reconnect_immediately().await;
                }
            }
        }
        let back = self
            .wait_for(RECONNECT_WAIT, |s| s.state == ConnectionState::Connected && s.connection_epoch > epoch)
            .await;
        if back.is_none() {
            warn!("the connection did not come back within {RECONNECT_WAIT:?}");
            return result;
        }
        let client = self.connected_client().await.ok_or_else(&not_connected)?;
        action(client).await
    }

    /// Stops the running client (if any), publishes `change`, and starts a
    /// new client on the same stored device.
    async fn relaunch(
        &self,
        running: &mut Option<Running>,
        change: impl FnOnce(&mut SessionSnapshot),
    ) -> Result<(), SessionError> {
        if let Some(current) = running.take() {
            current.stop().await;
        }
        self.publish(change);
        *running = Some(self.launched().await?);
        Ok(())
    }

    fn publish(&self, change: impl FnOnce(&mut SessionSnapshot)) {
        self.state.send_if_modified(|snapshot| {
            let before = snapshot.clone();
            change(snapshot);
            *snapshot != before
        });
    }

    async fn launch(&self) -> Result<Running, SessionError> {
        let span = info_span!("session.start", server = %self.server_label());
        async {
            let db_path = self.config.data_dir.session_db();
            let db_url = db_path.to_string_lossy().into_owned();
            let store_err = |detail: String| SessionError::Store { path: db_url.clone(), detail };
            let backend = SqliteStore::new(&db_url).await.map_err(|e| {
                let detail = e.to_string();
                store_err(format!(
                    "{}; if another program changed the file, move it away and link this device again",
                    detail.trim_end_matches('.')
                ))
            })?;
            self.config.data_dir.restrict_databases().map_err(|e| store_err(e.to_string()))?;

            let mut transport = TokioWebSocketTransportFactory::new();
            if let Some(server) = &self.config.server {
                transport = transport.with_url(server.as_str());
            }
            let (events_tx, events_rx) = mpsc::unbounded_channel();
            let mut builder = Bot::builder()
                .with_backend(backend)
                .with_transport_factory(transport)
                .with_http_client(UreqHttpClient::new())
                .with_device_props(DevicePropsOverride::new().with_os(&self.config.device_name))
                .with_event_handler(Forward(events_tx));
            if self.config.server.is_some() {
                builder = builder.with_version(PINNED_VERSION);
            }
            let bot = builder.build().await.map_err(|e| SessionError::Client(e.to_string()))?;
            let client = bot.client();
            if let Some(account) = account_of(&client) {
                info!(phone = %mask_numbers(&account.phone), "stored device found; logging in");
                self.publish(|s| s.account = Some(account));
            } else {
                info!("no stored device; waiting for a QR scan");
                self.publish(|s| s.account = None);
            }
            self.client.send_replace(Some(client.clone()));
            let raw_nodes = client.acquire_raw_node_forwarding();
            let reducer = Reducer {
                state: self.state.clone(),
                client,
                store: self.store.clone(),
                reconnect_followers: Default::default(),
            };
            let (host, port) = match &self.config.server {
                Some(server) => server.host_port(),
                None => (crate::endpoint::WHATSAPP_HOST_PORT.0.to_owned(), crate::endpoint::WHATSAPP_HOST_PORT.1),
            };
            reducer.follow_first_connect(host, port);
            let events = tokio::spawn(reducer.run(events_rx));
            let handle = bot.spawn();
            Ok(Running { handle, events, _raw_nodes: raw_nodes })
        }
        .instrument(span)
        .await
    }

    fn server_label(&self) -> String {
        match &self.config.server {
            Some(server) => server.to_string(),
            None => crate::endpoint::WHATSAPP_URL.to_owned(),
        }
    }
}

impl Running {
    async fn stop(self) {
        self.handle.shutdown().await;
        self.events.abort();
    }
}
