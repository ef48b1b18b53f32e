//! The server's blocklist as last fetched (`blocked`), by LID with the
//! number when known: usable offline, replaced whole at every fetch.
//!
//! Invariant: the saved list is the one from the newest fetch *begun*.
//! Fetches overlap (the one on connect, the one after a block); a fetch
//! that began earlier but answered later would put back a list the server
//! no longer has, so its answer is not saved.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use rusqlite::params;

use super::directory::phone_of_lid;
use super::{Store, StoreError};
use crate::snapshot::BlockedEntry;

/// `store.blocklist()`.
pub struct Blocklist<'a>(pub(super) &'a Store);

/// Taken just before asking the server for its blocklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FetchTicket(u64);

impl Blocklist<'_> {
    /// Call before asking the server for its list; hand the ticket to
    /// [`replace`](Self::replace) with the answer.
    pub fn begin_fetch(&self) -> FetchTicket {
        FetchTicket(self.0.blocklist_fetches.fetch_add(1, Ordering::SeqCst) + 1)
    }

    /// Replaces the stored blocklist with the server's answer to `fetch`, in
    /// one transaction, unless a fetch begun later has already been saved.
    /// Returns the number of blocked people saved afterwards.
    pub fn replace(&self, fetch: FetchTicket, entries: &[BlockedEntry]) -> Result<usize, StoreError> {
        let mut conn = self.0.conn();
        let mut saved = self.0.blocklist_saved.lock().unwrap_or_else(|p| p.into_inner());
        if fetch.0 < *saved {
            drop(saved);
            drop(conn);
            return self.count();
        }
        let tx = conn.transaction()?;
        // The rows whose LID or number changes: only their list entries move.
        let old: HashMap<String, Option<String>> = {
            let mut stmt = tx.prepare("SELECT lid, phone FROM blocked")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?
        };
        let mut new: HashMap<&str, Option<String>> = HashMap::with_capacity(entries.len());
        tx.execute("DELETE FROM blocked", [])?;
        {
            let mut insert =
                tx.prepare("INSERT OR REPLACE INTO blocked (lid, phone, blocked_at) VALUES (?1, ?2, ?3)")?;
            for e in entries {
                let phone = e.phone.clone().or_else(|| phone_of_lid(&tx, &e.lid).ok().flatten());
                insert.execute(params![e.lid, phone, e.blocked_at.map(|t| t as i64)])?;
                new.insert(e.lid.as_str(), phone);
            }
        }
        tx.commit()?;
        let changed =
            old.iter().filter(|(lid, phone)| new.get(lid.as_str()) != Some(*phone)).map(|(lid, _)| lid.as_str());
        let added = new.iter().filter(|(lid, _)| !old.contains_key(**lid)).map(|(lid, _)| *lid);
        self.0.search().refresh(&conn, [], changed.chain(added));
        *saved = fetch.0;
        Ok(entries.len())
    }

    /// Whether the saved list has this LID.
    pub fn has(&self, lid: &str) -> Result<bool, StoreError> {
        let conn = self.0.conn();
        Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM blocked WHERE lid = ?1)", [lid], |r| r.get(0))?)
    }

    /// Newest first.
    pub fn entries(&self) -> Result<Vec<BlockedEntry>, StoreError> {
        let conn = self.0.conn();
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

    pub fn count(&self) -> Result<usize, StoreError> {
        Ok(self.0.conn().query_row("SELECT count(*) FROM blocked", [], |r| r.get::<_, i64>(0))? as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocklist_round_trip_and_identity_fill_in() {
        let (dir, store) = super::super::temp_store("store");
        let fetch = store.blocklist().begin_fetch();
        store
            .blocklist()
            .replace(
                fetch,
                &[
                    BlockedEntry { lid: "111".into(), phone: None, blocked_at: Some(5) },
                    BlockedEntry { lid: "222".into(), phone: Some("15550002222".into()), blocked_at: Some(9) },
                ],
            )
            .unwrap();
        assert_eq!(store.blocklist().count().unwrap(), 2);
        store.directory().remember_identity("15550001111", "111").unwrap();
        let list = store.blocklist().entries().unwrap();
        assert_eq!(list[1].phone.as_deref(), Some("15550001111"));
        drop(store);
        // Durable: a reopened store has the same list.
        let store = Store::open(&dir.join("roster.db")).unwrap();
        assert_eq!(store.blocklist().count().unwrap(), 2);
        assert_eq!(store.directory().lid_of_phone("15550001111").unwrap().as_deref(), Some("111"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_older_fetch_answering_late_is_not_saved() {
        let (dir, store) = super::super::temp_store("late-fetch");
        let blocked = |lids: &[&str]| -> Vec<BlockedEntry> {
            lids.iter().map(|l| BlockedEntry { lid: (*l).into(), phone: None, blocked_at: None }).collect()
        };
        let on_connect = store.blocklist().begin_fetch();
        let after_unblock = store.blocklist().begin_fetch();
        assert_eq!(store.blocklist().replace(after_unblock, &blocked(&["1"])).unwrap(), 1);
        // The fetch begun first answers last, with the list before the unblock.
        assert_eq!(store.blocklist().replace(on_connect, &blocked(&["1", "2"])).unwrap(), 1, "the newer list stays");
        let saved: Vec<String> = store.blocklist().entries().unwrap().into_iter().map(|e| e.lid).collect();
        assert_eq!(saved, ["1"]);
        // A fetch begun later is saved.
        let next = store.blocklist().begin_fetch();
        assert_eq!(store.blocklist().replace(next, &blocked(&["1", "3"])).unwrap(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
