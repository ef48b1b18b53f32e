//! Roster's own SQLite database (`roster.db` in the data directory): the
//! contact directory and the blocklist, durable before anything is shown as
//! done. WAL mode; schema migrations by `user_version`.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the contact database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

const MIGRATIONS: &[&str] = &[
    // 1: contacts and blocklist.
    "CREATE TABLE contact (
        phone        TEXT PRIMARY KEY,          -- E.164 digits
        lid          TEXT UNIQUE,               -- LID user, when known
        saved_name   TEXT,                      -- name in the phone's address book
        push_name    TEXT,
        about        TEXT,
        about_set_at INTEGER,
        about_state  TEXT NOT NULL DEFAULT 'unknown',   -- unknown | shown | hidden
        picture_id   TEXT,
        picture_state TEXT NOT NULL DEFAULT 'unknown',  -- unknown | shown | hidden | none
        in_address_book INTEGER NOT NULL DEFAULT 0,
        updated_at   INTEGER NOT NULL
    );
    CREATE TABLE blocked (
        lid        TEXT PRIMARY KEY,
        phone      TEXT,
        blocked_at INTEGER
    );",
];

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct BlockedEntry {
    pub lid: String,
    pub phone: Option<String>,
    pub blocked_at: Option<u64>,
}

pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(Store { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the stored blocklist with the server's, in one transaction.
    pub fn replace_blocklist(&self, entries: &[BlockedEntry]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM blocked", [])?;
        {
            let mut insert = tx.prepare("INSERT OR REPLACE INTO blocked (lid, phone, blocked_at) VALUES (?1, ?2, ?3)")?;
            for e in entries {
                let phone = e.phone.clone().or_else(|| phone_of_lid(&tx, &e.lid).ok().flatten());
                insert.execute(params![e.lid, phone, e.blocked_at.map(|t| t as i64)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn blocklist(&self) -> Result<Vec<BlockedEntry>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT lid, phone, blocked_at FROM blocked ORDER BY blocked_at DESC, lid")?;
        let rows = stmt.query_map([], |r| {
            Ok(BlockedEntry { lid: r.get(0)?, phone: r.get(1)?, blocked_at: r.get::<_, Option<i64>>(2)?.map(|t| t as u64) })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn blocked_count(&self) -> Result<usize, StoreError> {
        Ok(self.conn().query_row("SELECT count(*) FROM blocked", [], |r| r.get::<_, i64>(0))? as usize)
    }

    /// Records a LID↔phone pair learned from the server.
    pub fn remember_identity(&self, phone: &str, lid: &str) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute("UPDATE contact SET lid = NULL WHERE lid = ?1 AND phone <> ?2", params![lid, phone])?;
        conn.execute(
            "INSERT INTO contact (phone, lid, updated_at) VALUES (?1, ?2, unixepoch())
             ON CONFLICT(phone) DO UPDATE SET lid = excluded.lid, updated_at = excluded.updated_at",
            params![phone, lid],
        )?;
        conn.execute("UPDATE blocked SET phone = ?1 WHERE lid = ?2 AND phone IS NULL", params![phone, lid])?;
        Ok(())
    }

    pub fn lid_of_phone(&self, phone: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT lid FROM contact WHERE phone = ?1", [phone], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    pub fn phone_of_lid(&self, lid: &str) -> Result<Option<String>, StoreError> {
        Ok(phone_of_lid(&self.conn(), lid)?)
    }
}

fn phone_of_lid(conn: &Connection, lid: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT phone FROM contact WHERE lid = ?1", [lid], |r| r.get(0)).optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocklist_round_trip_and_identity_fill_in() {
        let dir = std::env::temp_dir().join(format!("roster-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir.join("roster.db")).unwrap();
        store
            .replace_blocklist(&[
                BlockedEntry { lid: "111".into(), phone: None, blocked_at: Some(5) },
                BlockedEntry { lid: "222".into(), phone: Some("15550002222".into()), blocked_at: Some(9) },
            ])
            .unwrap();
        assert_eq!(store.blocked_count().unwrap(), 2);
        store.remember_identity("15550001111", "111").unwrap();
        let list = store.blocklist().unwrap();
        assert_eq!(list[1].phone.as_deref(), Some("15550001111"));
        drop(store);
        // Durable: a reopened store has the same list.
        let store = Store::open(&dir.join("roster.db")).unwrap();
        assert_eq!(store.blocked_count().unwrap(), 2);
        assert_eq!(store.lid_of_phone("15550001111").unwrap().as_deref(), Some("111"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
