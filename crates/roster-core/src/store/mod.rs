//! Roster's own SQLite database (`roster.db` in the data directory): the
//! home of every SQL statement the core runs. WAL mode with
//! `synchronous=NORMAL`: a write is in the database file's log when its call
//! returns, so nothing is shown as done before it would survive Roster
//! being killed or crashing. (An operating-system crash or power cut can
//! undo the last moments' transactions, each whole; the disk is flushed at
//! every checkpoint rather than every commit, which makes a commit cost
//! microseconds instead of a disk round trip.) [`schema`] holds every
//! table's shape.
//!
//! [`Store`] owns the connection; each table group is reached through a
//! named handle (`store.directory()`, `store.checks()`, …) defined in the
//! file of the same name, so `store.checks().create_job` lives in
//! `store/checks.rs`.

mod account;
mod audit;
mod blocklist;
mod bulk;
mod chats;
mod checks;
mod directory;
mod group_adds;
mod groups;
mod pictures;
mod schema;
mod search_index;

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use thiserror::Error;

pub use account::OwnAccount;
pub use audit::AuditLog;
pub use blocklist::{Blocklist, Exchange};
pub(crate) use bulk::BulkActions;
pub use chats::{Chat, Chats};
pub(crate) use checks::{Answer, CheckJobs, Pending};
pub use directory::{Directory, PushName, SavedContact};
pub(crate) use group_adds::{AddItem, GroupAdds, Planned};
pub(crate) use groups::{Groups, Member};
pub use pictures::Pictures;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the contact database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

pub struct Store {
    conn: Mutex<Connection>,
    /// Held through each blocklist request and the saving of its answer
    /// (see [`Exchange`]).
    blocklist_exchange: tokio::sync::Mutex<()>,
    /// The list's search index; locked after `conn`, never before.
    search: Mutex<search_index::SearchIndex>,
}

impl Store {
    /// Opens (or creates) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Room for every statement the store prepares with `prepare_cached`.
        conn.set_prepared_statement_cache_capacity(64);
        let version = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        let search = search_index::SearchIndex::build(&conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
            blocklist_exchange: tokio::sync::Mutex::new(()),
            search: Mutex::new(search),
        })
    }

    /// The contact directory: address book, LID↔PN pairs, profiles, search.
    pub fn directory(&self) -> Directory<'_> {
        Directory(self)
    }

    /// The server's blocklist as last fetched.
    pub fn blocklist(&self) -> Blocklist<'_> {
        Blocklist(self)
    }

    /// Picture URLs and cached thumbnails.
    pub fn pictures(&self) -> Pictures<'_> {
        Pictures(self)
    }

    /// Number-check jobs, their lines and answers.
    pub(crate) fn checks(&self) -> CheckJobs<'_> {
        CheckJobs(self)
    }

    /// Bulk blocks from a check, their targets and undo.
    pub(crate) fn bulk(&self) -> BulkActions<'_> {
        BulkActions(self)
    }

    /// The groups the account is in, with their members.
    pub(crate) fn groups(&self) -> Groups<'_> {
        Groups(self)
    }

    /// Jobs adding people to a group, their targets and undos.
    pub(crate) fn group_adds(&self) -> GroupAdds<'_> {
        GroupAdds(self)
    }

    /// The phone's chat list, with each chat's disappearing-message timer.
    pub fn chats(&self) -> Chats<'_> {
        Chats(self)
    }

    /// The linked account's own details (its push name).
    pub fn account(&self) -> OwnAccount<'_> {
        OwnAccount(self)
    }

    /// The log of operator actions.
    pub fn audit(&self) -> AuditLog<'_> {
        AuditLog(self)
    }

    /// A stored setting, if the operator ever set it.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let conn = self.conn();
        let mut read = conn.prepare_cached("SELECT value FROM setting WHERE key = ?1")?;
        Ok(read.query_row([key], |r| r.get(0)).optional()?)
    }

    /// Stores a setting (`None` removes it), durably before returning.
    pub fn set_setting(&self, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        let conn = self.conn();
        match value {
            Some(v) => conn.execute(
                "INSERT INTO setting (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, v],
            )?,
            None => conn.execute("DELETE FROM setting WHERE key = ?1", [key])?,
        };
        Ok(())
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The search index; take [`conn`](Self::conn) first.
    fn search(&self) -> std::sync::MutexGuard<'_, search_index::SearchIndex> {
        self.search.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
pub(crate) fn temp_store(name: &str) -> (std::path::PathBuf, Store) {
    let dir = std::env::temp_dir().join(format!("roster-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&dir.join("roster.db")).unwrap();
    (dir, store)
}
