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
    // 2: search index over names, number and LID (substring match, case-insensitive).
    "CREATE VIRTUAL TABLE contact_search USING fts5(haystack, tokenize = 'trigram');
    CREATE TRIGGER contact_search_ai AFTER INSERT ON contact BEGIN
        INSERT INTO contact_search(rowid, haystack) VALUES (new.rowid,
            coalesce(new.saved_name, '') || ' ' || coalesce(new.push_name, '') || ' ' || new.phone || ' ' || coalesce(new.lid, ''));
    END;
    CREATE TRIGGER contact_search_ad AFTER DELETE ON contact BEGIN
        DELETE FROM contact_search WHERE rowid = old.rowid;
    END;
    CREATE TRIGGER contact_search_au AFTER UPDATE OF saved_name, push_name, phone, lid ON contact BEGIN
        DELETE FROM contact_search WHERE rowid = old.rowid;
        INSERT INTO contact_search(rowid, haystack) VALUES (new.rowid,
            coalesce(new.saved_name, '') || ' ' || coalesce(new.push_name, '') || ' ' || new.phone || ' ' || coalesce(new.lid, ''));
    END;
    CREATE INDEX contact_name ON contact(coalesce(saved_name, push_name, phone) COLLATE NOCASE);",
    // 3: picture cache.
    "CREATE TABLE picture (
        phone      TEXT NOT NULL,
        picture_id TEXT NOT NULL,
        url        TEXT,
        thumb      BLOB,
        fetched_at INTEGER NOT NULL,
        PRIMARY KEY (phone, picture_id)
    );",
    // 4: the operator's settings (default country...), and when the server
    //    last answered for a contact's profile (to trust "hidden"/"none" a while).
    "CREATE TABLE setting (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    ALTER TABLE contact ADD COLUMN profile_at INTEGER;",
    // 5: number checks: jobs, their lines, and answers reused for a while.
    crate::checks::MIGRATION,
    // 6: bulk blocks (and their undo) from a number check.
    crate::bulk::MIGRATION,
    // 7: groups and their members; a check limited to a group; contacts
    //    added to the directory from a check.
    crate::groups::MIGRATION,
    // 8: the audit log of operator actions.
    crate::audit::MIGRATION,
];

/// An address-book entry from the phone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedContact {
    pub phone: String,
    pub lid: Option<String>,
    pub name: Option<String>,
}

/// One row of the contact list, as the window shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ContactRow {
    pub phone: String,
    pub lid: Option<String>,
    /// Name in the phone's address book.
    pub name: Option<String>,
    pub push_name: Option<String>,
    pub about: Option<String>,
    pub about_set_at: Option<u64>,
    /// `unknown`, `shown` or `hidden` (by the contact's privacy settings).
    pub about_state: String,
    /// `unknown`, `shown`, `hidden` or `none`.
    pub picture_state: String,
    pub in_address_book: bool,
    pub blocked: bool,
    /// Added to the directory by the operator (from a number check).
    pub added: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListFilter {
    All,
    Blocked,
}

/// A page of the contact list.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ContactPage {
    pub total: usize,
    pub offset: usize,
    pub rows: Vec<ContactRow>,
}

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

    /// A stored setting, if the operator ever set it.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.conn().query_row("SELECT value FROM setting WHERE key = ?1", [key], |r| r.get(0)).optional()?)
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

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the stored blocklist with the server's, in one transaction.
    pub fn replace_blocklist(&self, entries: &[BlockedEntry]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM blocked", [])?;
        {
            let mut insert =
                tx.prepare("INSERT OR REPLACE INTO blocked (lid, phone, blocked_at) VALUES (?1, ?2, ?3)")?;
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
            Ok(BlockedEntry {
                lid: r.get(0)?,
                phone: r.get(1)?,
                blocked_at: r.get::<_, Option<i64>>(2)?.map(|t| t as u64),
            })
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

    /// Saves address-book entries from the phone in one transaction.
    pub fn save_address_book(&self, entries: &[SavedContact]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut clear_lid = tx.prepare("UPDATE contact SET lid = NULL WHERE lid = ?1 AND phone <> ?2")?;
            let mut upsert = tx.prepare(
                "INSERT INTO contact (phone, lid, saved_name, in_address_book, updated_at)
                 VALUES (?1, ?2, ?3, 1, unixepoch())
                 ON CONFLICT(phone) DO UPDATE SET
                    lid = coalesce(excluded.lid, contact.lid),
                    saved_name = excluded.saved_name,
                    in_address_book = 1,
                    updated_at = excluded.updated_at",
            )?;
            for e in entries {
                if let Some(lid) = &e.lid {
                    clear_lid.execute(params![lid, e.phone])?;
                }
                upsert.execute(params![e.phone, e.lid, e.name])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn contact_count(&self) -> Result<usize, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM contact WHERE in_address_book = 1", [], |r| r.get::<_, i64>(0))?
            as usize)
    }

    /// The contact list, or the blocklist, filtered by `query` (a name, part
    /// of a number typed in any format, or a LID), sorted by name.
    pub fn list_contacts(
        &self,
        query: &str,
        filter: ListFilter,
        offset: usize,
        limit: usize,
    ) -> Result<ContactPage, StoreError> {
        let conn = self.conn();
        let needle = search_needle(query);
        let mut wheres = vec![
            match filter {
                ListFilter::All => "(c.in_address_book = 1 OR c.added_at IS NOT NULL OR b.lid IS NOT NULL)",
                ListFilter::Blocked => "b.lid IS NOT NULL",
            }
            .to_owned(),
        ];
        let mut args: Vec<String> = Vec::new();
        match &needle {
            Some(n) if n.chars().count() >= 3 => {
                wheres.push("c.rowid IN (SELECT rowid FROM contact_search WHERE haystack MATCH ?)".into());
                args.push(format!("\"{}\"", n.replace('"', "\"\"")));
            }
            Some(n) => {
                wheres.push("(coalesce(c.saved_name,'') || ' ' || coalesce(c.push_name,'') || ' ' || coalesce(c.phone, b.phone, '') || ' ' || coalesce(c.lid, b.lid, '')) LIKE ? ESCAPE '\\'".into());
                args.push(format!("%{}%", n.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
            }
            None => {}
        }
        // Blocked users not in the directory appear by their LID/number alone.
        let from = "FROM blocked b FULL OUTER JOIN contact c ON c.lid = b.lid";
        let where_sql = wheres.join(" AND ");
        let total: i64 = conn.query_row(
            &format!("SELECT count(*) {from} WHERE {where_sql}"),
            rusqlite::params_from_iter(args.iter()),
            |r| r.get(0),
        )?;
        let sql = format!(
            "SELECT coalesce(c.phone, b.phone, ''), coalesce(c.lid, b.lid), c.saved_name, c.push_name, c.about,
                    c.about_set_at, coalesce(c.about_state, 'unknown'), coalesce(c.picture_state, 'unknown'),
                    coalesce(c.in_address_book, 0), b.lid IS NOT NULL, c.added_at IS NOT NULL
             {from} WHERE {where_sql}
             ORDER BY coalesce(c.saved_name, c.push_name, c.phone, b.phone, b.lid) COLLATE NOCASE
             LIMIT {limit} OFFSET {offset}"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows =
            stmt.query_map(rusqlite::params_from_iter(args.iter()), contact_row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(ContactPage { total: total as usize, offset, rows })
    }

    /// Stores what the server said of a contact's about and picture.
    pub fn save_profile(&self, phone: &str, p: &crate::profile::Profile) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO contact (phone, about, about_set_at, about_state, picture_id, picture_state, updated_at, profile_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, unixepoch(), unixepoch())
             ON CONFLICT(phone) DO UPDATE SET about = excluded.about, about_set_at = excluded.about_set_at,
                about_state = excluded.about_state, picture_id = excluded.picture_id,
                picture_state = excluded.picture_state, updated_at = excluded.updated_at,
                profile_at = excluded.profile_at",
            params![phone, p.about, p.about_set_at.map(|t| t as i64), p.about_state, p.picture_id, p.picture_state],
        )?;
        Ok(())
    }

    /// An about text pushed by the server (the contact changed it).
    pub fn save_about(&self, phone: &str, about: &str, set_at: u64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE contact SET about = ?2, about_set_at = ?3, about_state = 'shown', updated_at = unixepoch() WHERE phone = ?1",
            params![phone, about, set_at as i64],
        )?;
        Ok(())
    }

    /// The contact's picture changed; the cached one is stale.
    pub fn picture_changed(&self, phone: &str) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "UPDATE contact SET picture_state = 'unknown', updated_at = unixepoch() WHERE phone = ?1",
            [phone],
        )?;
        conn.execute("DELETE FROM picture WHERE phone = ?1", [phone])?;
        Ok(())
    }

    pub fn contact(&self, phone: &str) -> Result<Option<ContactRow>, StoreError> {
        let page = self.list_contacts_where("c.phone = ?", phone)?;
        Ok(page.into_iter().next())
    }

    fn list_contacts_where(&self, cond: &str, arg: &str) -> Result<Vec<ContactRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT c.phone, c.lid, c.saved_name, c.push_name, c.about, c.about_set_at, c.about_state,
                    c.picture_state, c.in_address_book, b.lid IS NOT NULL, c.added_at IS NOT NULL
             FROM contact c LEFT JOIN blocked b ON b.lid = c.lid WHERE {cond}"
        ))?;
        let rows = stmt.query_map([arg], contact_row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn picture_url(&self, phone: &str, picture_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT url FROM picture WHERE phone = ?1 AND picture_id = ?2",
                params![phone, picture_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    pub fn save_picture_url(&self, phone: &str, picture_id: &str, url: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO picture (phone, picture_id, url, fetched_at) VALUES (?1, ?2, ?3, unixepoch())
             ON CONFLICT(phone, picture_id) DO UPDATE SET url = excluded.url",
            params![phone, picture_id, url],
        )?;
        Ok(())
    }

    /// The cached thumbnail of this picture, if fetched less than `max_age` ago.
    pub fn thumbnail(
        &self,
        phone: &str,
        picture_id: &str,
        max_age: std::time::Duration,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT thumb FROM picture WHERE phone = ?1 AND picture_id = ?2 AND fetched_at > unixepoch() - ?3",
                params![phone, picture_id, max_age.as_secs() as i64],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// How long ago the server last told us about this contact's profile.
    pub fn profile_age(&self, phone: &str) -> Result<Option<std::time::Duration>, StoreError> {
        let age: Option<i64> = self
            .conn()
            .query_row(
                "SELECT unixepoch() - profile_at FROM contact WHERE phone = ?1 AND profile_at IS NOT NULL",
                [phone],
                |r| r.get(0),
            )
            .optional()?;
        Ok(age.map(|a| std::time::Duration::from_secs(a.max(0) as u64)))
    }

    /// The thumbnail cached for the contact's current picture: fetched less
    /// than `max_age` ago, or of any age with `None` (offline use).
    pub fn cached_thumbnail(
        &self,
        phone: &str,
        max_age: Option<std::time::Duration>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT p.thumb FROM picture p JOIN contact c ON c.phone = p.phone AND c.picture_id = p.picture_id
                 WHERE p.phone = ?1 AND c.picture_state = 'shown' AND (?2 IS NULL OR p.fetched_at > unixepoch() - ?2)",
                params![phone, max_age.map(|a| a.as_secs() as i64)],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    pub fn save_thumbnail(&self, phone: &str, picture_id: &str, thumb: &[u8]) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO picture (phone, picture_id, thumb, fetched_at) VALUES (?1, ?2, ?3, unixepoch())
             ON CONFLICT(phone, picture_id) DO UPDATE SET thumb = excluded.thumb, fetched_at = excluded.fetched_at",
            params![phone, picture_id, thumb],
        )?;
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

/// Maps the ten contact columns both list queries select, in their order.
fn contact_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ContactRow> {
    Ok(ContactRow {
        phone: r.get(0)?,
        lid: r.get(1)?,
        name: r.get(2)?,
        push_name: r.get(3)?,
        about: r.get(4)?,
        about_set_at: r.get::<_, Option<i64>>(5)?.map(|t| t as u64),
        about_state: r.get(6)?,
        picture_state: r.get(7)?,
        in_address_book: r.get(8)?,
        blocked: r.get(9)?,
        added: r.get(10)?,
    })
}

/// What to look for: digits alone when the query looks like a number
/// (so "+55 (11) 9999" finds 55119999…), else the text itself.
fn search_needle(query: &str) -> Option<String> {
    let q = query.trim();
    if q.is_empty() {
        return None;
    }
    let numberish = q.chars().all(|c| c.is_ascii_digit() || " +-.()".contains(c));
    if numberish {
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        return (!digits.is_empty()).then_some(digits);
    }
    Some(q.to_owned())
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

    #[test]
    fn search_by_name_number_and_lid() {
        let dir = std::env::temp_dir().join(format!("roster-search-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir.join("roster.db")).unwrap();
        let saved = |phone: &str, lid: &str, name: &str| SavedContact {
            phone: phone.into(),
            lid: Some(lid.into()),
            name: Some(name.into()),
        };
        store
            .save_address_book(&[
                saved("5511987654321", "200000000000001", "Ana Silva"),
                saved("15551234567", "200000000000002", "Bruno Costa"),
                saved("447700900123", "200000000000003", "Anabel Berg"),
            ])
            .unwrap();
        let names = |q: &str| -> Vec<String> {
            store.list_contacts(q, ListFilter::All, 0, 50).unwrap().rows.into_iter().filter_map(|r| r.name).collect()
        };
        assert_eq!(names(""), ["Ana Silva", "Anabel Berg", "Bruno Costa"]);
        assert_eq!(names("ana"), ["Ana Silva", "Anabel Berg"]);
        assert_eq!(names("an"), ["Ana Silva", "Anabel Berg"], "short queries work too");
        assert_eq!(names("+55 (11) 98765-4321"), ["Ana Silva"]);
        assert_eq!(names("555-123"), ["Bruno Costa"]);
        assert_eq!(names("000000000003"), ["Anabel Berg"]);
        assert_eq!(names("zzz"), Vec::<String>::new());
        // A rename on the phone replaces the name in the index.
        store.save_address_book(&[saved("15551234567", "200000000000002", "Bruno C. (work)")]).unwrap();
        assert_eq!(names("work"), ["Bruno C. (work)"]);
        assert!(names("costa").is_empty());
        // The blocked filter includes blocked users outside the address book.
        store
            .replace_blocklist(&[
                BlockedEntry { lid: "200000000000001".into(), phone: None, blocked_at: Some(1) },
                BlockedEntry { lid: "999".into(), phone: Some("4915112345678".into()), blocked_at: Some(2) },
            ])
            .unwrap();
        let blocked = store.list_contacts("", ListFilter::Blocked, 0, 50).unwrap();
        assert_eq!(blocked.total, 2);
        let phones: Vec<_> = blocked.rows.iter().map(|r| r.phone.as_str()).collect();
        assert!(phones.contains(&"4915112345678") && phones.contains(&"5511987654321"), "{phones:?}");
        assert!(blocked.rows.iter().all(|r| r.blocked));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
