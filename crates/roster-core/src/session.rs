//! The linked-device session: pairing by QR, connection state, logout.
//!
//! `Session` owns one running `whatsapp-rust` client at a time and reduces its
//! events, in order, into a [`SessionSnapshot`] that the window renders.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;
use tokio::sync::{Mutex, mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{Instrument, info, info_span, warn};
use whatsapp_rust::bot::BotHandle;
use whatsapp_rust::http::UreqHttpClient;
use whatsapp_rust::prelude::*;
use whatsapp_rust::transport::TokioWebSocketTransportFactory;
use whatsapp_rust::wacore::store::device::DevicePropsOverride;
use whatsapp_rust::wacore::types::events::ConnectFailureReason;

use crate::blocklist::{self, BlockError, BlockOutcome};
use crate::datadir::DataDir;
use crate::endpoint::ServerUrl;
use crate::numbers::parse_target;
use crate::pictures::{self, PictureError};
use crate::profile::{self, ProfileError};
use crate::store::{BlockedEntry, ContactPage, ContactRow, ListFilter, SavedContact, Store, StoreError};

/// The web client version announced to a non-WhatsApp server (the simulator).
/// Against WhatsApp itself the client fetches the current one.
const PINNED_VERSION: (u32, u32, u32) = (2, 3000, 1_023_868_176);

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConnectionState {
    Connecting,
    WaitingForScan,
    Connected,
    Reconnecting,
    QrExpired,
    LoggedOut { reason: String },
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Qr {
    /// The raw pairing string, as a phone's scanner reads it.
    pub code: String,
    /// The same string rendered as an SVG document.
    pub svg: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Account {
    /// E.164 with a leading `+`.
    pub phone: String,
    pub jid: String,
    pub push_name: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SessionSnapshot {
    pub state: ConnectionState,
    pub qr: Option<Qr>,
    pub account: Option<Account>,
    /// How many users the account has blocked (cached until the server answers).
    pub blocked_count: Option<usize>,
    /// Contacts in the directory (the phone's address book).
    pub contact_count: usize,
    /// Bumped whenever the directory changes, so the list knows to reload.
    pub directory_version: u64,
}

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

/// A contact as the detail panel shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ContactDetails {
    pub contact: ContactRow,
    /// The picture thumbnail as a `data:` URL (the window loads no remote URL).
    pub picture: Option<String>,
}

#[derive(Debug, Error)]
pub enum DetailsError {
    #[error("no contact with the number +{0} in the directory")]
    Unknown(String),
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Picture(#[from] PictureError),
    #[error(transparent)]
    Store(#[from] StoreError),
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
    running: Mutex<Option<Running>>,
    store: Arc<Store>,
}

impl Session {
    /// Opens the session store and starts connecting: with a stored device
    /// it logs in, otherwise it asks the server for pairing QR codes.
    pub async fn start(config: SessionConfig) -> Result<Arc<Session>, SessionError> {
        let store = Arc::new(Store::open(&config.data_dir.app_db())?);
        let (state, _) = watch::channel(SessionSnapshot {
            state: ConnectionState::Connecting,
            qr: None,
            account: None,
            blocked_count: Some(store.blocked_count()?),
            contact_count: store.contact_count()?,
            directory_version: 0,
        });
        let session = Arc::new(Session { config, state, running: Mutex::new(None), store });
        let running = session.launch().await?;
        *session.running.lock().await = Some(running);
        Ok(session)
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
        async {
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
                        return Err(SessionError::RemoveStore {
                            path: file.display().to_string(),
                            source,
                        });
                    }
                }
            }
            info!("device unlinked; starting a new pairing");
            self.publish(|s| {
                s.state = ConnectionState::Connecting;
                s.qr = None;
                s.account = None;
            });
            *running = Some(self.launch().await?);
            Ok(())
        }
        .instrument(span)
        .await
    }

    /// Starts a new pairing attempt after the QR codes ran out, or a new
    /// connection after a logout from the phone.
    pub async fn refresh_qr(&self) -> Result<(), SessionError> {
        let span = info_span!("session.refresh_qr");
        async {
            let mut running = self.running.lock().await;
            if let Some(current) = running.take() {
                current.stop().await;
            }
            self.publish(|s| {
                s.state = ConnectionState::Connecting;
                s.qr = None;
            });
            *running = Some(self.launch().await?);
            Ok(())
        }
        .instrument(span)
        .await
    }

    /// Blocks or unblocks whoever `input` names (a number in any common
    /// format, a PN JID or a LID JID). The count in the result, and in the
    /// snapshot, is the server's after the change.
    pub async fn set_blocked(&self, input: &str, block: bool) -> Result<BlockOutcome, BlockError> {
        let span = info_span!("session.set_blocked", block);
        async {
            let target = parse_target(input, None)?;
            let client = self.connected_client().await.ok_or(BlockError::NotConnected)?;
            let outcome = blocklist::set_blocked(&client, &self.store, &target, block).await?;
            self.publish(|s| {
                s.blocked_count = Some(outcome.count);
                s.directory_version += 1;
            });
            Ok(outcome)
        }
        .instrument(span)
        .await
    }

    /// Fetches the server's blocklist again (also done on connect and on phone-side changes).
    pub async fn refresh_blocklist(&self) -> Result<usize, BlockError> {
        let client = self.connected_client().await.ok_or(BlockError::NotConnected)?;
        let count = blocklist::refresh(&client, &self.store).await?;
        self.publish(|s| s.blocked_count = Some(count));
        Ok(count)
    }

    /// A page of the contact list (or of the blocklist), filtered by a
    /// search query; served from the local directory, so usable offline.
    pub fn contacts(&self, query: &str, filter: ListFilter, offset: usize, limit: usize) -> Result<ContactPage, StoreError> {
        self.store.list_contacts(query, filter, offset, limit)
    }

    /// A contact as stored (no server round trip).
    pub fn contact(&self, phone: &str) -> Result<Option<ContactRow>, StoreError> {
        let phone: String = phone.chars().filter(char::is_ascii_digit).collect();
        self.store.contact(&phone)
    }

    /// A contact's details: about (with its set time) and picture, fetched
    /// now when connected, else as cached.
    pub async fn contact_details(&self, phone: &str) -> Result<ContactDetails, DetailsError> {
        let span = info_span!("session.contact_details");
        async {
            let phone: String = phone.chars().filter(char::is_ascii_digit).collect();
            if let Some(client) = self.connected_client().await {
                let fetched = profile::fetch(&client, &phone).await?;
                self.store.save_profile(&phone, &fetched)?;
                let picture = match (&fetched.picture_id, fetched.picture_state) {
                    (Some(id), "shown") => {
                        pictures::thumbnail(&client, &self.store, &phone, id, self.config.picture_max_age).await?
                    }
                    _ => None,
                };
                let contact = self.store.contact(&phone)?.ok_or_else(|| DetailsError::Unknown(phone.clone()))?;
                return Ok(ContactDetails { contact, picture: picture.map(|t| pictures::data_url(&t)) });
            }
            let contact = self.store.contact(&phone)?.ok_or_else(|| DetailsError::Unknown(phone.clone()))?;
            let picture = self.store.cached_thumbnail(&phone)?.map(|t| pictures::data_url(&t));
            Ok(ContactDetails { contact, picture })
        }
        .instrument(span)
        .await
    }

    /// The blocklist as last fetched (usable offline).
    pub fn blocklist(&self) -> Result<Vec<BlockedEntry>, StoreError> {
        self.store.blocklist()
    }

    async fn connected_client(&self) -> Option<Arc<Client>> {
        if self.snapshot().state != ConnectionState::Connected {
            return None;
        }
        self.running.lock().await.as_ref().map(|r| r.handle.client())
    }

    /// Drops the connection and connects again at once (keeps the device).
    pub async fn reconnect(&self) -> Result<(), SessionError> {
        let running = self.running.lock().await;
        let current = running.as_ref().ok_or(SessionError::NotRunning)?;
        current.handle.client().reconnect_immediately().await;
        Ok(())
    }

    /// Disconnects and stops the client, flushing its state to disk.
    pub async fn shutdown(&self) {
        if let Some(current) = self.running.lock().await.take() {
            current.stop().await;
        }
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
            let backend = SqliteStore::new(&db_url).await.map_err(|e| store_err(e.to_string()))?;
            self.config
                .data_dir
                .restrict_session_store()
                .map_err(|e| store_err(e.to_string()))?;

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
                info!(phone = %mask_phone(&account.phone), "stored device found; logging in");
                self.publish(|s| s.account = Some(account));
            } else {
                info!("no stored device; waiting for a QR scan");
            }
            let raw_nodes = client.acquire_raw_node_forwarding();
            let reducer = Reducer { state: self.state.clone(), client, store: self.store.clone() };
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

struct Forward(mpsc::UnboundedSender<Arc<Event>>);

impl EventHandler for Forward {
    fn handle_event(&self, event: Arc<Event>) {
        let _ = self.0.send(event);
    }
}

/// Applies client events, in arrival order, to the published snapshot and the store.
struct Reducer {
    state: watch::Sender<SessionSnapshot>,
    client: Arc<Client>,
    store: Arc<Store>,
}

impl Reducer {
    /// Refetches the blocklist in the background and publishes the count.
    fn refresh_blocklist(&self) {
        let (state, client, store) = (self.state.clone(), self.client.clone(), self.store.clone());
        tokio::spawn(
            async move {
                match blocklist::refresh(&client, &store).await {
                    Ok(count) => {
                        state.send_modify(|s| {
                            s.blocked_count = Some(count);
                            s.directory_version += 1;
                        });
                    }
                    Err(e) => warn!("cannot refresh the blocklist: {e}"),
                }
            }
            .instrument(info_span!("session.refresh_blocklist")),
        );
    }

    /// Saves a burst of address-book entries in one transaction.
    fn save_contacts(&self, contacts: &[SavedContact]) {
        match self.store.save_address_book(contacts) {
            Ok(()) => {
                let count = self.store.contact_count().unwrap_or_default();
                info!(saved = contacts.len(), total = count, "address book updated");
                self.state.send_modify(|s| {
                    s.contact_count = count;
                    s.directory_version += 1;
                });
            }
            Err(e) => warn!("cannot save {} contacts: {e}", contacts.len()),
        }
    }

    async fn run(self, mut events: mpsc::UnboundedReceiver<Arc<Event>>) {
        /// Events taken in one go; contact updates among them share one transaction.
        const BURST: usize = 2_000;
        while let Some(first) = events.recv().await {
            let mut burst = vec![first];
            while burst.len() < BURST {
                match events.try_recv() {
                    Ok(event) => burst.push(event),
                    Err(_) => break,
                }
            }
            let mut contacts = Vec::new();
            for event in burst {
                match &*event {
                    Event::ContactUpdate(update) => contacts.push(saved_contact(update)),
                    _ => self.apply(&event),
                }
            }
            if !contacts.is_empty() {
                self.save_contacts(&contacts);
            }
        }
    }

    fn apply(&self, event: &Event) {
    let (state, client) = (&self.state, &self.client);
    {
        let update: Option<Box<dyn FnOnce(&mut SessionSnapshot)>> = match event {
            Event::PairingQrCode(qr) => {
                info!(valid_for = ?qr.timeout, "new pairing QR code");
                let svg = crate::qr::render_svg(&qr.code).unwrap_or_default();
                let code = qr.code.clone();
                Some(Box::new(move |s| {
                    s.state = ConnectionState::WaitingForScan;
                    s.qr = Some(Qr { code, svg });
                }))
            }
            Event::PairingQrCodesExhausted(_) => {
                info!("pairing QR codes ran out");
                Some(Box::new(|s| {
                    s.state = ConnectionState::QrExpired;
                    s.qr = None;
                }))
            }
            Event::PairSuccess(_) => {
                info!("paired; logging in");
                Some(Box::new(|s| {
                    s.state = ConnectionState::Connecting;
                    s.qr = None;
                }))
            }
            Event::PairError(e) => {
                warn!(error = ?e, "pairing failed");
                None
            }
            Event::RawNode(node) => {
                if blocklist::is_blocklist_push(node.get()) {
                    info!("the blocklist changed on another device");
                    self.refresh_blocklist();
                }
                None
            }
            Event::UserAboutUpdate(about) => {
                let set_at = about.timestamp.timestamp().max(0) as u64;
                if let Err(e) = self.store.save_about(&about.jid.user, &about.status, set_at) {
                    warn!("cannot save an about change: {e}");
                }
                Some(Box::new(|s| s.directory_version += 1))
            }
            Event::PictureUpdate(picture) => {
                if let Err(e) = self.store.picture_changed(&picture.jid.user) {
                    warn!("cannot record a picture change: {e}");
                }
                Some(Box::new(|s| s.directory_version += 1))
            }
            Event::Connected(_) => {
                self.refresh_blocklist();
                let account = account_of(&client);
                info!(phone = ?account.as_ref().map(|a| mask_phone(&a.phone)), "connected");
                Some(Box::new(move |s| {
                    s.state = ConnectionState::Connected;
                    s.qr = None;
                    if account.is_some() {
                        s.account = account;
                    }
                }))
            }
            Event::SelfPushNameUpdated(_) => {
                let account = account_of(&client);
                Some(Box::new(move |s| {
                    if account.is_some() {
                        s.account = account;
                    }
                }))
            }
            Event::Disconnected(d) => {
                info!(reason = ?d.reason, "disconnected; the client reconnects");
                Some(Box::new(|s| {
                    if !matches!(s.state, ConnectionState::LoggedOut { .. }) {
                        s.state = ConnectionState::Reconnecting;
                    }
                }))
            }
            Event::LoggedOut(l) => {
                let reason = logout_reason(&l.reason, l.on_connect);
                warn!(%reason, "logged out");
                Some(Box::new(move |s| {
                    s.state = ConnectionState::LoggedOut { reason };
                    s.qr = None;
                }))
            }
            Event::StreamReplaced(_) => {
                warn!("another session replaced this one");
                Some(Box::new(|s| {
                    s.state = ConnectionState::LoggedOut {
                        reason: "another WhatsApp Web session for this device took over; this window stopped reconnecting".into(),
                    };
                }))
            }
            _ => None,
        };
        if let Some(update) = update {
            state.send_if_modified(|snapshot| {
                let before = snapshot.clone();
                update(snapshot);
                *snapshot != before
            });
        }
    }
    }
}

fn saved_contact(update: &whatsapp_rust::wacore::types::events::ContactUpdate) -> SavedContact {
    let lid = update.action.lid_jid.as_deref().and_then(|j| j.split('@').next()).map(str::to_owned);
    let name = update.action.full_name.clone().or_else(|| update.action.first_name.clone());
    SavedContact { phone: update.jid.user.to_string(), lid, name }
}

fn logout_reason(reason: &ConnectFailureReason, on_connect: bool) -> String {
    match reason {
        ConnectFailureReason::LoggedOut if on_connect => {
            "this device was unlinked from the account (the server refused its login)".into()
        }
        ConnectFailureReason::LoggedOut => "this device was unlinked from the account".into(),
        ConnectFailureReason::TempBanned => "the account is temporarily banned".into(),
        ConnectFailureReason::AccountLocked => "the account is locked".into(),
        ConnectFailureReason::ClientOutdated => "this client version is no longer accepted".into(),
        other => format!("the server ended the session ({other:?})"),
    }
}

fn account_of(client: &Client) -> Option<Account> {
    let pn = client.pn()?;
    Some(Account {
        phone: format!("+{}", pn.user),
        jid: Jid::new(pn.user.as_str(), Server::Pn).to_string(),
        push_name: client.push_name(),
    })
}

/// Masks all but the country prefix and the last two digits, for logs.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() <= 4 {
        return "*".repeat(digits.len());
    }
    let keep_head = 2;
    let keep_tail = 2;
    let mut out = String::from("+");
    for (i, c) in digits.iter().enumerate() {
        if i < keep_head || i >= digits.len() - keep_tail {
            out.push(*c);
        } else {
            out.push('*');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_phone_numbers() {
        assert_eq!(super::mask_phone("+15550001234"), "+15*******34");
        assert_eq!(super::mask_phone("123"), "***");
    }
}
