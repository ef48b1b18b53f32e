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

use crate::appsync::{self, Scope, SyncError, SyncReport};
use crate::audit::{self, AuditPage};
use crate::blocklist::{self, BlockError, BlockOutcome};
use crate::bulk::{self, BulkError, BulkOutcome};
use crate::checks::{self, CheckError, CheckFilter, CheckOrder, CheckPage, CheckProgress, CheckRow, JobState};
use crate::datadir::DataDir;
use crate::endpoint::ServerUrl;
use crate::groups::{self, GroupError, GroupSummary};
use crate::import::{self, Preview};
use crate::numbers::{Country, CountryError, parse_country, parse_target};
use crate::pictures::{self, PictureError};
use crate::profile::{self, ProfileError};
use crate::reducer::{Forward, Reducer, account_of};
use crate::store::{BlockedEntry, ContactPage, ContactRow, ListFilter, Store, StoreError};

/// The web client version announced to a non-WhatsApp server (the simulator).
/// Against WhatsApp itself the client fetches the current one.
const PINNED_VERSION: (u32, u32, u32) = (2, 3000, 1_023_868_176);

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConnectionState {
    Connecting,
    WaitingForScan,
    Connected,
    /// The connection dropped; the client tries again after growing pauses
    /// (1 s, 1 s, 2 s, 3 s, 5 s... up to 15 min, as WhatsApp Web does).
    Reconnecting {
        /// Why it dropped, in words.
        reason: String,
        /// When it dropped (Unix seconds).
        since: u64,
        /// Connection attempts made since.
        attempt: u64,
    },
    QrExpired,
    LoggedOut {
        reason: String,
    },
    /// Another WhatsApp Web session of this device took over; the window
    /// does not reconnect until the operator asks (the device stays linked).
    Replaced,
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
    /// The latest number-check job, while there is one.
    pub check: Option<CheckProgress>,
    /// Bumped at every `Connected`, so an action can wait for the *next* connection.
    #[serde(skip)]
    pub(crate) connection_epoch: u64,
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

/// How long an idempotent action whose connection dropped waits for the
/// next connection before it is reported failed.
const RECONNECT_WAIT: Duration = Duration::from_secs(30);
/// How long quitting waits for a number-check batch in flight.
const RUNNER_GRACE: Duration = Duration::from_secs(10);
/// Pictures fetched at once for the list; more wait their turn.
const PICTURE_FETCHES: usize = 4;
/// The setting key of the default country.
const DEFAULT_COUNTRY: &str = "default_country";

/// A row's picture as the list shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Avatar {
    /// The thumbnail as a `data:` URL, when there is one to show.
    pub picture: Option<String>,
    /// `unknown` (not asked yet, e.g. offline), `shown`, `hidden` or `none`.
    pub picture_state: String,
}

/// The operator's settings.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Settings {
    /// Applied to numbers typed without a country code.
    pub default_country: Option<Country>,
}

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
pub enum SettingsError {
    #[error(transparent)]
    Country(#[from] CountryError),
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
    picture_slots: tokio::sync::Semaphore,
    /// The current connection's client, for the check runner.
    client: watch::Sender<Option<Arc<Client>>>,
    /// Wakes the check runner after an operator intent.
    check_wake: Arc<tokio::sync::Notify>,
    check_runner: std::sync::Mutex<Option<(JoinHandle<()>, watch::Sender<bool>)>>,
    /// One bulk action at a time.
    bulk: Mutex<()>,
}

impl Session {
    /// Opens the session store and starts connecting: with a stored device
    /// it logs in, otherwise it asks the server for pairing QR codes.
    pub async fn start(config: SessionConfig) -> Result<Arc<Session>, SessionError> {
        let store = Arc::new(Store::open(&config.data_dir.app_db())?);
        config.data_dir.restrict_databases().map_err(|e| SessionError::Store {
            path: config.data_dir.app_db().display().to_string(),
            detail: e.to_string(),
        })?;
        let (state, _) = watch::channel(SessionSnapshot {
            state: ConnectionState::Connecting,
            qr: None,
            account: None,
            blocked_count: Some(store.blocked_count()?),
            contact_count: store.contact_count()?,
            directory_version: 0,
            check: store.latest_check_progress()?,
            connection_epoch: 0,
        });
        let session = Arc::new(Session {
            config,
            state,
            running: Mutex::new(None),
            store,
            picture_slots: tokio::sync::Semaphore::new(PICTURE_FETCHES),
            client: watch::channel(None).0,
            check_wake: Arc::new(tokio::sync::Notify::new()),
            check_runner: std::sync::Mutex::new(None),
            bulk: Mutex::new(()),
        });
        session.start_check_runner();
        session.resume_bulk_on_connect();
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
                s.account = None;
            });
            *running = Some(self.launch().await?);
            Ok(())
        };
        self.audited("log out", None, |()| "device unlinked; a new pairing started".into(), work).instrument(span).await
    }

    /// Starts a new pairing attempt after the QR codes ran out, or a new
    /// connection after a logout from the phone or after another session
    /// took this one over.
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
        let action = if block { "block" } else { "unblock" };
        let describe = |o: &BlockOutcome| {
            let who = o.phone.as_ref().map_or_else(|| format!("{}@lid", o.lid), |p| format!("+{p}"));
            format!("{who}; the account now blocks {}", o.count)
        };
        let work = async {
            let country = self.store.setting(DEFAULT_COUNTRY)?;
            let target = parse_target(input, country.as_deref())?;
            let lost = |e: &BlockError| matches!(e, BlockError::NotConnected);
            let outcome = self
                .retried_once_reconnected(
                    || BlockError::NotConnected,
                    lost,
                    |client| {
                        let (store, target) = (&self.store, &target);
                        async move { blocklist::set_blocked(&client, store, target, block).await }
                    },
                )
                .await?;
            self.publish(|s| {
                s.blocked_count = Some(outcome.count);
                s.directory_version += 1;
            });
            Ok(outcome)
        };
        self.audited(action, Some(input.trim()), describe, work).instrument(span).await
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
    pub fn contacts(
        &self,
        query: &str,
        filter: ListFilter,
        offset: usize,
        limit: usize,
    ) -> Result<ContactPage, StoreError> {
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
                let (_, picture) = self.refresh_profile(&client, &phone).await?;
                let contact = self.store.contact(&phone)?.ok_or_else(|| DetailsError::Unknown(phone.clone()))?;
                return Ok(ContactDetails { contact, picture: picture.map(|t| pictures::data_url(&t)) });
            }
            let contact = self.store.contact(&phone)?.ok_or_else(|| DetailsError::Unknown(phone.clone()))?;
            let picture = self.store.cached_thumbnail(&phone, None)?.map(|t| pictures::data_url(&t));
            Ok(ContactDetails { contact, picture })
        }
        .instrument(span)
        .await
    }

    /// A contact's picture for the list. Served from the cache while it is
    /// younger than the configured age; otherwise asked of the server, at
    /// most [`PICTURE_FETCHES`] at a time. Offline, whatever is cached.
    pub async fn avatar(&self, phone: &str) -> Result<Avatar, DetailsError> {
        let phone: String = phone.chars().filter(char::is_ascii_digit).collect();
        // The semaphore is never closed, so this always holds a slot.
        let _slot = self.picture_slots.acquire().await.ok();
        let span = info_span!("session.avatar");
        async {
            // Blocked users outside the address book have no row until asked.
            let known_state = self.store.contact(&phone)?.map_or_else(|| "unknown".to_owned(), |c| c.picture_state);
            if let Some(thumb) = self.store.cached_thumbnail(&phone, Some(self.config.picture_max_age))? {
                return Ok(Avatar { picture: Some(pictures::data_url(&thumb)), picture_state: known_state });
            }
            let fresh_answer = matches!(known_state.as_str(), "hidden" | "none")
                && self.store.profile_age(&phone)?.is_some_and(|age| age < self.config.picture_max_age);
            let client = match self.connected_client().await {
                Some(client) if !fresh_answer => client,
                _ => {
                    let picture = self.store.cached_thumbnail(&phone, None)?.map(|t| pictures::data_url(&t));
                    return Ok(Avatar { picture, picture_state: known_state });
                }
            };
            let (fetched, picture) = self.refresh_profile(&client, &phone).await?;
            Ok(Avatar { picture: picture.map(|t| pictures::data_url(&t)), picture_state: fetched.picture_state.into() })
        }
        .instrument(span)
        .await
    }

    /// Asks the server for a contact's about and picture, stores them, and
    /// returns the picture's thumbnail (cached while fresh) when it is shown.
    async fn refresh_profile(
        &self,
        client: &Client,
        phone: &str,
    ) -> Result<(profile::Profile, Option<Vec<u8>>), DetailsError> {
        let fetched = profile::fetch(client, phone).await?;
        self.store.save_profile(phone, &fetched)?;
        let picture = match (&fetched.picture_id, fetched.picture_state) {
            (Some(id), "shown") => {
                pictures::thumbnail(client, &self.store, phone, id, self.config.picture_max_age).await?
            }
            _ => None,
        };
        Ok((fetched, picture))
    }

    /// Re-syncs the app-state collections behind `scopes` (the default
    /// scopes when empty); `full` rebuilds them from the server's snapshot.
    pub async fn sync_app_state(&self, scopes: &[Scope], full: bool) -> Result<SyncReport, SyncError> {
        let span = info_span!("session.sync_app_state", ?scopes, full);
        let names: Vec<String> = scopes.iter().map(|s| format!("{s:?}").to_lowercase()).collect();
        let target = if names.is_empty() { "default scopes".to_owned() } else { names.join(", ") };
        let describe = |r: &SyncReport| format!("{}{} changes", if r.full { "full; " } else { "" }, r.patches());
        let work = async {
            let lost = |e: &SyncError| matches!(e, SyncError::Interrupted | SyncError::NotConnected);
            let report = self
                .retried_once_reconnected(
                    || SyncError::NotConnected,
                    lost,
                    |client| async move { appsync::sync(&client, scopes, full).await },
                )
                .await?;
            info!(patches = report.patches(), "app state sync done");
            Ok(report)
        };
        self.audited("sync", Some(&target), describe, work).instrument(span).await
    }

    pub fn settings(&self) -> Result<Settings, StoreError> {
        let default_country = self.store.setting(DEFAULT_COUNTRY)?.and_then(|c| parse_country(&c).ok());
        Ok(Settings { default_country })
    }

    /// Sets (or, with an empty code, clears) the default country.
    pub fn set_default_country(&self, code: &str) -> Result<Settings, SettingsError> {
        let country = if code.trim().is_empty() { None } else { Some(parse_country(code)?) };
        self.store.set_setting(DEFAULT_COUNTRY, country.as_ref().map(|c| c.code.as_str()))?;
        info!(country = ?country.as_ref().map(|c| &c.code), "default country set");
        Ok(Settings { default_country: country })
    }

    /// Normalises a pasted or loaded list (no network): what each line is.
    /// A CSV is read from `column` (0-based), or the column detected.
    pub fn preview_numbers(&self, text: &str, column: Option<usize>) -> Result<Preview, CheckError> {
        let country = self.store.setting(DEFAULT_COUNTRY)?;
        Ok(import::normalise(text, country.as_deref(), column)?)
    }

    /// Starts checking a list: saved as a job at once (with what is already
    /// known answered), then worked through in the background at `rate`
    /// numbers a minute, also across restarts.
    ///
    /// With `group` (a JID from [`groups`](Self::groups)), only that group's
    /// participants are resolved, from its member list; other lines are skipped.
    pub fn start_check(
        &self,
        text: &str,
        column: Option<usize>,
        rate: u32,
        group: Option<&str>,
    ) -> Result<CheckProgress, CheckError> {
        let rate = checks::checked_rate(rate)?;
        if let Some(jid) = group {
            groups::checked_group_jid(jid)?;
            if !self.store.groups()?.iter().any(|g| g.jid == jid) {
                return Err(GroupError::Unknown(jid.to_owned()).into());
            }
        }
        let preview = self.preview_numbers(text, column)?;
        let target = format!("{} lines{}", preview.lines.len(), group.map_or(String::new(), |g| format!(" among {g}")));
        let job = self.audited_sync(
            "check numbers",
            Some(&target),
            |job| format!("job #{job} at {rate} a minute"),
            || self.store.create_check_job(&preview, rate, group),
        )?;
        info!(
            job,
            lines = preview.lines.len(),
            to_check = preview.to_check().count(),
            rate,
            ?group,
            "number check started"
        );
        self.check_wake.notify_one();
        self.check_progress(job)
    }

    /// The groups the account is in: fresh from the server when connected
    /// (and saved), else the ones saved at the last connection.
    pub async fn groups(&self) -> Result<Vec<GroupSummary>, GroupError> {
        let span = info_span!("session.groups");
        async {
            let Some(client) = self.connected_client().await else {
                let saved = self.store.groups()?;
                return if saved.is_empty() { Err(GroupError::NotConnected) } else { Ok(saved) };
            };
            let fetched = groups::fetch_all(&client).await?;
            self.store.save_groups(&fetched)?;
            info!(groups = fetched.len(), "groups fetched");
            Ok(self.store.groups()?)
        }
        .instrument(span)
        .await
    }

    /// Adds the registered numbers of a check (the chosen lines, or all) to
    /// the contact directory; returns how many are new to it.
    pub fn add_to_directory(&self, job: i64, lines: Option<&[i64]>) -> Result<usize, CheckError> {
        let target =
            format!("check #{job}, {}", lines.map_or("all registered".into(), |l| format!("{} lines", l.len())));
        let added = self.audited_sync(
            "add to contacts",
            Some(&target),
            |n| format!("{n} added"),
            || self.store.add_to_directory(job, lines),
        )?;
        info!(job, added, "registered numbers added to the directory");
        self.publish(|s| s.directory_version += 1);
        Ok(added)
    }

    pub fn check_progress(&self, job: i64) -> Result<CheckProgress, CheckError> {
        // Read while holding the snapshot: the runner publishes the same way,
        // so an older read never overwrites a newer progress.
        let mut read = Ok(None);
        self.state.send_if_modified(|s| {
            read = self.store.check_progress(job);
            let Ok(Some(progress)) = &mut read else { return false };
            if let Some(old) = s.check.as_ref().filter(|old| old.job == job) {
                // Run-time figures only the runner knows.
                progress.server_ms = old.server_ms;
                progress.paced_ms = old.paced_ms;
            }
            let changed = s.check.as_ref() != Some(progress);
            s.check = Some(progress.clone());
            changed
        });
        read?.ok_or(CheckError::NoJob(job))
    }

    /// Lines of a job with their answers, in input order.
    pub fn check_rows(&self, job: i64, offset: usize, limit: usize) -> Result<Vec<CheckRow>, CheckError> {
        Ok(self.store.check_rows(job, offset, limit)?)
    }

    /// A page of a job's lines, filtered.
    pub fn check_page(
        &self,
        job: i64,
        filter: CheckFilter,
        order: CheckOrder,
        offset: usize,
        limit: usize,
    ) -> Result<CheckPage, CheckError> {
        Ok(self.store.check_page(job, filter, order, offset, limit)?)
    }

    /// A job's lines and answers as CSV.
    pub fn export_check_csv(&self, job: i64) -> Result<String, CheckError> {
        self.store.check_progress(job)?.ok_or(CheckError::NoJob(job))?;
        Ok(checks::to_csv(&self.store.check_rows(job, 0, usize::MAX >> 1)?))
    }

    /// Pauses, resumes or cancels a job (`Running` resumes).
    pub fn set_check_state(&self, job: i64, state: JobState) -> Result<CheckProgress, CheckError> {
        let verb = match state {
            JobState::Running => "resume check",
            JobState::Paused => "pause check",
            _ => "cancel check",
        };
        self.audited_sync(
            verb,
            Some(&format!("check #{job}")),
            |()| String::new(),
            || checks::set_state(&self.store, job, state),
        )?;
        info!(job, state = ?state, "number check: {verb}");
        self.check_wake.notify_one();
        self.check_progress(job)
    }

    /// Changes a job's pace (numbers a minute).
    pub fn set_check_rate(&self, job: i64, rate: u32) -> Result<CheckProgress, CheckError> {
        checks::set_rate(&self.store, job, rate)?;
        self.check_wake.notify_one();
        self.check_progress(job)
    }

    /// Blocks the registered numbers of a check (`lines`, or all of them),
    /// paced; the action is saved first and resumes if interrupted.
    pub async fn block_checked(&self, job: i64, lines: Option<&[i64]>) -> Result<BulkOutcome, BulkError> {
        let span = info_span!("session.block_checked", job);
        async {
            self.connected_client().await.ok_or(BlockError::NotConnected)?;
            let _one = self.bulk.lock().await;
            let action = self.store.plan_block(job, lines)?;
            let target =
                format!("check #{job}, {}", lines.map_or("all registered".into(), |l| format!("{} lines", l.len())));
            self.audited("bulk block", Some(&target), describe_bulk, self.run_bulk(action)).await
        }
        .instrument(span)
        .await
    }

    /// Unblocks what a bulk block blocked.
    pub async fn undo_bulk(&self, action: i64) -> Result<BulkOutcome, BulkError> {
        let span = info_span!("session.undo_bulk", action);
        async {
            self.connected_client().await.ok_or(BlockError::NotConnected)?;
            let _one = self.bulk.lock().await;
            let undo = self.store.plan_undo(action)?;
            let target = format!("bulk action #{action}");
            self.audited("undo bulk block", Some(&target), describe_bulk, self.run_bulk(undo)).await
        }
        .instrument(span)
        .await
    }

    /// Carries out a saved bulk action; if the connection drops on the way,
    /// it carries on from the first target not yet confirmed once the
    /// connection is back (the one in flight is sent again: idempotent).
    async fn run_bulk(&self, action: i64) -> Result<BulkOutcome, BulkError> {
        let lost = |e: &BulkError| matches!(e, BulkError::Block(BlockError::NotConnected));
        let outcome = self
            .retried_once_reconnected(
                || BlockError::NotConnected.into(),
                lost,
                |client| {
                    let store = &self.store;
                    async move { bulk::run(&client, store, action).await }
                },
            )
            .await?;
        self.publish(|s| {
            s.blocked_count = Some(outcome.count);
            s.directory_version += 1;
        });
        Ok(outcome)
    }

    /// Each time the session connects, finishes bulk actions an earlier run
    /// left half done.
    fn resume_bulk_on_connect(self: &Arc<Self>) {
        let session = Arc::downgrade(self);
        let mut snapshots = self.subscribe();
        tokio::spawn(async move {
            loop {
                if snapshots.wait_for(|s| s.state == ConnectionState::Connected).await.is_err() {
                    return;
                }
                let Some(session) = session.upgrade() else { return };
                if let Ok(actions) = session.store.unfinished_bulk_actions() {
                    let _one = session.bulk.lock().await;
                    for action in actions {
                        info!(action, "resuming an interrupted bulk action");
                        if let Err(e) = session.run_bulk(action).await {
                            warn!("cannot finish bulk action {action}: {e}");
                            break;
                        }
                    }
                }
                drop(session);
                if snapshots.wait_for(|s| s.state != ConnectionState::Connected).await.is_err() {
                    return;
                }
            }
        });
    }

    fn start_check_runner(&self) {
        let (stop, stopped) = watch::channel(false);
        let runner = checks::Runner {
            store: self.store.clone(),
            state: self.state.clone(),
            client: self.client.subscribe(),
            wake: self.check_wake.clone(),
            stop: stopped,
            timing: Default::default(),
        };
        let task = tokio::spawn(runner.run());
        *self.check_runner.lock().unwrap_or_else(|p| p.into_inner()) = Some((task, stop));
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

    /// Runs a server action that is safe to repeat (block, unblock, sync).
    /// When the connection drops before the answer — so whether it took
    /// effect is unknown — it waits for the next connection (at most
    /// [`RECONNECT_WAIT`]) and runs it once more; otherwise the error stands.
    async fn retried_once_reconnected<T, E, Fut>(
        &self,
        not_connected: impl Fn() -> E,
        lost: impl Fn(&E) -> bool,
        action: impl Fn(Arc<Client>) -> Fut,
    ) -> Result<T, E>
    where
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let epoch = self.snapshot().connection_epoch;
        let client = self.connected_client().await.ok_or_else(&not_connected)?;
        match action(client).await {
            Err(e) if lost(&e) => {
                warn!(
                    "the connection dropped before WhatsApp answered; the action is idempotent, so it is sent again once connected"
                );
                let back = self
                    .wait_for(RECONNECT_WAIT, |s| s.state == ConnectionState::Connected && s.connection_epoch > epoch)
                    .await;
                if back.is_none() {
                    warn!("the connection did not come back within {RECONNECT_WAIT:?}");
                    return Err(e);
                }
                let client = self.connected_client().await.ok_or_else(&not_connected)?;
                action(client).await
            }
            other => other,
        }
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

    /// Runs an operator action under an audit entry: written as `started`
    /// before the action, given its outcome after. A failure to write the
    /// log is itself logged and does not stop the action.
    async fn audited<T, E: std::fmt::Display>(
        &self,
        action: &str,
        target: Option<&str>,
        describe: impl FnOnce(&T) -> String,
        run: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let entry = self.audit_begin(action, target);
        let result = run.await;
        self.audit_end(entry, &result, describe);
        result
    }

    fn audited_sync<T, E: std::fmt::Display>(
        &self,
        action: &str,
        target: Option<&str>,
        describe: impl FnOnce(&T) -> String,
        run: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let entry = self.audit_begin(action, target);
        let result = run();
        self.audit_end(entry, &result, describe);
        result
    }

    fn audit_begin(&self, action: &str, target: Option<&str>) -> Option<i64> {
        self.store.audit_begin(action, target).inspect_err(|e| warn!("cannot write the audit log: {e}")).ok()
    }

    fn audit_end<T, E: std::fmt::Display>(
        &self,
        entry: Option<i64>,
        result: &Result<T, E>,
        describe: impl FnOnce(&T) -> String,
    ) {
        let Some(id) = entry else { return };
        let (done, detail) = match result {
            Ok(value) => (true, describe(value)),
            Err(e) => (false, e.to_string()),
        };
        if let Err(e) = self.store.audit_end(id, done, &detail) {
            warn!("cannot write the audit log: {e}");
        }
    }

    /// The audit log, newest first.
    pub fn audit_log(&self, offset: usize, limit: usize) -> Result<AuditPage, StoreError> {
        self.store.audit_page(offset, limit)
    }

    /// The whole audit log as CSV, oldest first.
    pub fn export_audit_csv(&self) -> Result<String, StoreError> {
        Ok(audit::to_csv(&self.store.audit_page(0, usize::MAX >> 1)?.rows))
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
                info!(phone = %mask_phone(&account.phone), "stored device found; logging in");
                self.publish(|s| s.account = Some(account));
            } else {
                info!("no stored device; waiting for a QR scan");
            }
            self.client.send_replace(Some(client.clone()));
            let raw_nodes = client.acquire_raw_node_forwarding();
            let reducer = Reducer {
                state: self.state.clone(),
                client,
                store: self.store.clone(),
                reconnect_followers: Default::default(),
            };
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

fn describe_bulk(o: &BulkOutcome) -> String {
    let verb = if o.kind == "block" { "blocked" } else { "unblocked" };
    format!("action #{}: {} {verb}, {} failed; the account now blocks {}", o.action, o.done, o.failed, o.count)
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
