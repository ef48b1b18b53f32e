//! The server's blocklist as last fetched (`blocked`), by LID with the
//! number when known: usable offline, replaced whole at every fetch.

use rusqlite::params;

use super::directory::phone_of_lid;
use super::{Store, StoreError};
use crate::snapshot::BlockedEntry;

/// `store.blocklist()`.
pub struct Blocklist<'a>(pub(super) &'a Store);

impl Blocklist<'_> {
    /// Replaces the stored blocklist with the server's, in one transaction.
    pub fn replace(&self, entries: &[BlockedEntry]) -> Result<(), StoreError> {
        let mut conn = self.0.conn();
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
        store
            .blocklist()
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
}
