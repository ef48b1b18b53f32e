//! The accounts the window holds: every account's `Session`, each
//! connecting (and reconnecting) on its own in the background, and the
//! current one, which the commands act on. Each account's snapshots reach
//! the window tagged with its id; the list of accounts (label, state,
//! blocked count) is sent again whenever any of them changes.

use std::sync::{Arc, Mutex, MutexGuard};

use roster_core::{
    AccountId, Accounts, AccountsError, ConnectionState, ServerUrl, Session, SessionConfig, SessionError,
    SessionSnapshot,
};
use serde::Serialize;
use thiserror::Error;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::{Instrument, info, info_span, warn};

/// A snapshot as the window receives it: which account it is for
/// (`account_id`; the snapshot's own `account` is the WhatsApp account),
/// then the snapshot's own fields.
#[derive(Serialize, Clone)]
pub struct AccountSnapshot {
    pub account_id: AccountId,
    #[serde(flatten)]
    pub snapshot: SessionSnapshot,
}

/// One line of the switcher.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct AccountSummary {
    pub id: AccountId,
    /// The account's push name, else its number, else "New account".
    pub label: String,
    /// The number as the window shows it, once known.
    pub phone_shown: Option<String>,
    pub state: ConnectionState,
    pub blocked_count: Option<usize>,
}

/// The switcher's content.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct AccountList {
    pub current: AccountId,
    pub accounts: Vec<AccountSummary>,
}

#[derive(Debug, Error)]
pub enum AccountError {
    #[error("there is no account {0}")]
    Unknown(AccountId),
    #[error(transparent)]
    Folder(#[from] AccountsError),
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// Called with each account's session as it starts.
pub type OnStart = Box<dyn Fn(&Arc<Session>) + Send + Sync>;

/// What every account's session is started with.
#[derive(Clone)]
pub struct Connect {
    pub server: Option<ServerUrl>,
    pub device_name: String,
}

struct Open {
    id: AccountId,
    session: Arc<Session>,
    /// Tells the list task about this session's changes.
    watcher: JoinHandle<()>,
}

pub struct OpenAccounts {
    folders: Accounts,
    connect: Connect,
    open: Mutex<Vec<Open>>,
    current: Mutex<AccountId>,
    /// Every account's tagged snapshots, for the window.
    snapshots: tokio::sync::broadcast::Sender<AccountSnapshot>,
    /// The list, recomputed when any account changes.
    list: watch::Sender<Option<AccountList>>,
    changed: Arc<Notify>,
    /// Called with each session started (the sandbox shows its QR codes to the phone).
    on_start: OnStart,
}

impl OpenAccounts {
    /// Starts a session for every account in `folders` (creating account 1
    /// in a fresh data directory); the first is current.
    pub async fn start(
        folders: Accounts,
        connect: Connect,
        on_start: OnStart,
    ) -> Result<Arc<OpenAccounts>, AccountError> {
        let mut ids = folders.ids()?;
        if ids.is_empty() {
            ids.push(folders.create()?.0);
        }
        let accounts = Arc::new(OpenAccounts {
            folders,
            connect,
            open: Mutex::new(Vec::new()),
            current: Mutex::new(ids[0]),
            snapshots: tokio::sync::broadcast::channel(256).0,
            list: watch::channel(None).0,
            changed: Arc::new(Notify::new()),
            on_start,
        });
        for id in ids {
            accounts.open_account(id).await?;
        }
        accounts.publish_list();
        let weak = Arc::downgrade(&accounts);
        let changed = accounts.changed.clone();
        tokio::spawn(async move {
            loop {
                changed.notified().await;
                match weak.upgrade() {
                    Some(accounts) => accounts.publish_list(),
                    None => break,
                }
            }
        });
        Ok(accounts)
    }

    async fn open_account(&self, id: AccountId) -> Result<Arc<Session>, AccountError> {
        let span = info_span!("account.open", account = id);
        let session = Session::start(SessionConfig {
            data_dir: self.folders.dir(id)?,
            server: self.connect.server.clone(),
            device_name: self.connect.device_name.clone(),
            picture_max_age: roster_core::PICTURE_MAX_AGE,
        })
        .instrument(span)
        .await?;
        (self.on_start)(&session);
        let mut rx = session.subscribe();
        let (snapshots, changed) = (self.snapshots.clone(), self.changed.clone());
        let watcher = tokio::spawn(async move {
            loop {
                let snapshot = rx.borrow_and_update().clone();
                let _ = snapshots.send(AccountSnapshot { account_id: id, snapshot });
                changed.notify_one();
                if rx.changed().await.is_err() {
                    break;
                }
            }
        });
        self.lock_open().push(Open { id, session: session.clone(), watcher });
        info!(account = id, "account started");
        Ok(session)
    }

    fn lock_open(&self) -> MutexGuard<'_, Vec<Open>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_current(&self) -> MutexGuard<'_, AccountId> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The account the window shows.
    pub fn current_id(&self) -> AccountId {
        *self.lock_current()
    }

    /// The current account's session.
    pub fn current(&self) -> Arc<Session> {
        let id = self.current_id();
        let open = self.lock_open();
        open.iter().find(|o| o.id == id).or(open.first()).map(|o| o.session.clone()).expect("one account at least")
    }

    /// The current account's snapshot, tagged.
    pub fn current_snapshot(&self) -> AccountSnapshot {
        AccountSnapshot { account_id: self.current_id(), snapshot: self.current().snapshot() }
    }

    /// Every account's tagged snapshots from now on.
    pub fn snapshots(&self) -> tokio::sync::broadcast::Receiver<AccountSnapshot> {
        self.snapshots.subscribe()
    }

    /// The switcher's content, now and at every change.
    pub fn list(&self) -> watch::Receiver<Option<AccountList>> {
        self.list.subscribe()
    }

    /// The switcher's content now.
    pub fn list_now(&self) -> AccountList {
        self.summarise()
    }

    fn summarise(&self) -> AccountList {
        let accounts = self
            .lock_open()
            .iter()
            .map(|o| {
                let s = o.session.snapshot();
                let label = match &s.account {
                    Some(a) if !a.push_name.trim().is_empty() => a.push_name.clone(),
                    Some(a) => a.phone_shown.clone(),
                    None => "New account".to_owned(),
                };
                AccountSummary {
                    id: o.id,
                    label,
                    phone_shown: s.account.as_ref().map(|a| a.phone_shown.clone()),
                    state: s.state,
                    blocked_count: s.blocked_count,
                }
            })
            .collect();
        AccountList { current: self.current_id(), accounts }
    }

    fn publish_list(&self) {
        let list = self.summarise();
        self.list.send_if_modified(|old| {
            let changed = old.as_ref() != Some(&list);
            *old = Some(list);
            changed
        });
    }

    /// Makes account `id` the current one.
    pub fn switch(&self, id: AccountId) -> Result<(), AccountError> {
        if !self.lock_open().iter().any(|o| o.id == id) {
            return Err(AccountError::Unknown(id));
        }
        *self.lock_current() = id;
        info!(account = id, "switched account");
        self.publish_list();
        Ok(())
    }

    /// A new account: its folder, its session (which asks for a QR code),
    /// made current.
    pub async fn add(&self) -> Result<AccountId, AccountError> {
        let (id, _) = self.folders.create()?;
        self.open_account(id).await?;
        self.switch(id)?;
        Ok(id)
    }

    /// Logs account `id` out (the phone forgets this computer), stops it and
    /// deletes its folder. The others go on; when it was the current one,
    /// the first remaining is. The window always has an account: removing
    /// the last one starts a new one first.
    pub async fn remove(&self, id: AccountId) -> Result<(), AccountError> {
        let (known, alone) = {
            let open = self.lock_open();
            (open.iter().any(|o| o.id == id), open.len() == 1)
        };
        if !known {
            return Err(AccountError::Unknown(id));
        }
        if alone {
            self.add().await?;
        }
        let open = {
            let mut open = self.lock_open();
            let at = open.iter().position(|o| o.id == id).ok_or(AccountError::Unknown(id))?;
            open.remove(at)
        };
        open.watcher.abort();
        if self.current_id() == id {
            let first = self.lock_open().first().map(|o| o.id).expect("another account is open");
            self.switch(first)?;
        } else {
            self.publish_list();
        }
        async {
            open.session.remove_account().await?;
            self.folders.remove(id)?;
            Ok::<_, AccountError>(())
        }
        .instrument(info_span!("account.remove", account = id))
        .await
        .inspect_err(|e| warn!(account = id, "removing the account failed: {e}"))
    }

    /// Stops every account's session.
    pub async fn shutdown(&self) {
        let open: Vec<Open> = std::mem::take(&mut *self.lock_open());
        for o in open {
            o.watcher.abort();
            o.session.shutdown().await;
        }
    }
}

#[cfg(all(test, feature = "sandbox"))]
mod tests {
    use std::time::Duration;

    use roster_core::{DataDir, parse_server_url};
    use roster_sim::{SimConfig, Simulator};

    use super::*;

    const DEADLINE: Duration = Duration::from_secs(60);

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_list_follows_each_account_and_removing_the_last_starts_a_new_one() {
        let sim = Simulator::start(SimConfig { seed: 61, ..SimConfig::default() }).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let folders = Accounts::open(&DataDir::open(dir.path()).unwrap()).unwrap();
        let connect = Connect { server: Some(parse_server_url(&sim.ws_url()).unwrap()), device_name: "test".into() };
        let accounts = OpenAccounts::start(folders.clone(), connect, Box::new(|_: &Arc<Session>| {})).await.unwrap();
        assert_eq!(folders.ids().unwrap(), vec![1], "a fresh data directory gets account 1");

        let session = accounts.current();
        let shown = session.wait_for(DEADLINE, |s| s.qr.is_some()).await.expect("a QR code");
        let mut list = accounts.list();
        let waiting = list.wait_for(|l| l.as_ref().is_some_and(|l| l.accounts[0].state == shown.state)).await;
        assert_eq!(waiting.unwrap().clone().unwrap().accounts[0].label, "New account");
        sim.scan_qr(&shown.qr.unwrap().code).unwrap();
        let world = sim.world();
        let linked = tokio::time::timeout(
            DEADLINE,
            list.wait_for(|l| {
                l.as_ref().is_some_and(|l| {
                    l.accounts[0].state == ConnectionState::Connected
                        && l.accounts[0].blocked_count == Some(world.blocklist.len())
                })
            }),
        )
        .await
        .expect("the list follows the account")
        .unwrap()
        .clone()
        .unwrap();
        assert_eq!(linked.current, 1);
        assert_eq!(linked.accounts[0].label, world.account.push_name);
        assert_eq!(accounts.current_snapshot().account_id, 1);

        assert!(matches!(accounts.switch(9), Err(AccountError::Unknown(9))));
        assert!(matches!(accounts.remove(9).await, Err(AccountError::Unknown(9))));

        accounts.remove(1).await.unwrap();
        assert!(sim.world().account.devices.is_empty(), "the phone forgot the removed account");
        let now = accounts.list_now();
        assert_eq!((now.current, now.accounts.len(), now.accounts[0].id), (2, 1, 2), "a new account took its place");
        assert_eq!(folders.ids().unwrap(), vec![2], "the removed account's folder is gone");
        accounts.shutdown().await;
        sim.shutdown().await;
    }
}
