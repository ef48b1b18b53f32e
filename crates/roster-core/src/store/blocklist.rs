//! The server's blocklist as last fetched (`blocked`), by LID with the
//! number when known: usable offline, replaced whole at every fetch.
//!
//! Invariant: the saved list is the one the server sent last. A list is
//! saved only through an [`Exchange`], which is held from sending the
//! request until its answer is saved, one at a time per store; so lists
//! are saved in the order the server answered them, and a fetch begun
//! before a block (the one on reconnecting, say) can never be saved over
//! the block's answer.

use std::collections::HashMap;

use rusqlite::params;
use tokio::sync::MutexGuard;

use super::directory::phone_of_lid;
use super::{Store, StoreError};
use crate::snapshot::BlockedEntry;

/// `store.blocklist()`.
pub struct Blocklist<'a>(pub(super) &'a Store);

/// The right to ask the server for its blocklist (or to change it and read
/// the list it answers with) and to save the answer.
pub struct Exchange<'a> {
    store: &'a Store,
    _turn: MutexGuard<'a, ()>,
}

impl<'a> Blocklist<'a> {
    /// Waits for the exchange in progress, if any, to be saved. Hold the
    /// result from sending the request until its answer is saved.
    pub async fn exchange(&self) -> Exchange<'a> {
        Exchange { store: self.0, _turn: self.0.blocklist_exchange.lock().await }
    }

    /// [`exchange`](Self::exchange) for code outside an async runtime.
    pub fn exchange_blocking(&self) -> Exchange<'a> {
        Exchange { store: self.0, _turn: self.0.blocklist_exchange.blocking_lock() }
    }
}

impl Exchange<'_> {
    /// Replaces the stored blocklist with the server's answer, in one
    /// transaction. Returns the number of blocked people saved.
    pub fn replace(&self, entries: &[BlockedEntry]) -> Result<usize, StoreError> {
        let mut conn = self.store.conn();
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
        self.store.search().refresh(&conn, [], changed.chain(added));
        Ok(entries.len())
    }
}

impl Blocklist<'_> {
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
        let conn = self.0.conn();
        let count = conn.prepare_cached("SELECT count(*) FROM blocked")?.query_row([], |r| r.get::<_, i64>(0))?;
        Ok(count as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocklist_round_trip_and_identity_fill_in() {
        let (dir, store) = super::super::temp_store("store");
        store
            .blocklist()
            .exchange_blocking()
            .replace(&[
                BlockedEntry { lid: "111".into(), phone: None, blocked_at: Some(5) },
                BlockedEntry { lid: "222".into(), phone: Some("15550002222".into()), blocked_at: Some(9) },
            ])
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
    fn a_second_exchange_waits_for_the_first_to_be_saved() {
        let (dir, store) = super::super::temp_store("exchange-order");
        let store = std::sync::Arc::new(store);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let first = store.blocklist().exchange().await;
            let waiting = {
                let store = store.clone();
                tokio::spawn(async move {
                    let second = store.blocklist().exchange().await;
                    second.replace(&[BlockedEntry { lid: "2".into(), phone: None, blocked_at: None }]).unwrap()
                })
            };
            tokio::task::yield_now().await;
            assert!(!waiting.is_finished(), "the second exchange waits for the first");
            first.replace(&[BlockedEntry { lid: "1".into(), phone: None, blocked_at: None }]).unwrap();
            drop(first);
            assert_eq!(waiting.await.unwrap(), 1);
        });
        let saved: Vec<String> = store.blocklist().entries().unwrap().into_iter().map(|e| e.lid).collect();
        assert_eq!(saved, ["2"], "the later exchange's list is the one kept");
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
