//! The phone's chat list (`chat`), from its history sync: each chat with its
//! disappearing-message timer. Chats are added or updated, never removed
//! here: a history-sync chunk names only some of them.

use rusqlite::params;

use super::{Store, StoreError};
use crate::snapshot::ChatKind;

/// One chat of the phone's list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chat {
    /// As the phone names it: `<number>@s.whatsapp.net`, `<lid>@lid` or `<id>@g.us`.
    pub jid: String,
    pub kind: ChatKind,
    /// The disappearing-message timer in seconds; 0: off.
    pub ephemeral_expiration: u32,
    /// When the timer was set (Unix seconds), if the phone said.
    pub ephemeral_set_at: Option<u64>,
}

/// `store.chats()`.
pub struct Chats<'a>(pub(super) &'a Store);

impl Chats<'_> {
    /// Adds or updates chats, in one transaction.
    pub fn save(&self, chats: &[Chat]) -> Result<(), StoreError> {
        let mut conn = self.0.conn();
        let tx = conn.transaction()?;
        {
            let mut upsert = tx.prepare(
                "INSERT INTO chat (jid, kind, ephemeral_expiration, ephemeral_set_at, synced_at)
                 VALUES (?1, ?2, ?3, ?4, unixepoch())
                 ON CONFLICT(jid) DO UPDATE SET kind = excluded.kind,
                    ephemeral_expiration = excluded.ephemeral_expiration,
                    ephemeral_set_at = excluded.ephemeral_set_at, synced_at = excluded.synced_at",
            )?;
            for c in chats {
                upsert.execute(params![c.jid, c.kind, c.ephemeral_expiration, c.ephemeral_set_at.map(|t| t as i64)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every chat, by JID.
    pub fn list(&self) -> Result<Vec<Chat>, StoreError> {
        let conn = self.0.conn();
        let mut stmt =
            conn.prepare("SELECT jid, kind, ephemeral_expiration, ephemeral_set_at FROM chat ORDER BY jid")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Chat {
                    jid: r.get(0)?,
                    kind: r.get(1)?,
                    ephemeral_expiration: r.get(2)?,
                    ephemeral_set_at: r.get::<_, Option<i64>>(3)?.map(|t| t.max(0) as u64),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Records a 1:1 chat's timer the account set (the chat is added if the
    /// phone's list did not have it).
    pub fn set_timer(&self, jid: &str, seconds: u32, set_at: u64) -> Result<(), StoreError> {
        self.0.conn().execute(
            "INSERT INTO chat (jid, kind, ephemeral_expiration, ephemeral_set_at, synced_at)
             VALUES (?1, ?2, ?3, ?4, unixepoch())
             ON CONFLICT(jid) DO UPDATE SET ephemeral_expiration = excluded.ephemeral_expiration,
                ephemeral_set_at = excluded.ephemeral_set_at",
            params![jid, ChatKind::Direct, seconds, set_at as i64],
        )?;
        Ok(())
    }

    /// The chat among `jids` (one person's PN and LID chats) whose timer was
    /// set last; `None` when the phone has no chat with them.
    pub fn newest_of(&self, jids: &[&str]) -> Result<Option<Chat>, StoreError> {
        let chats = self.list()?;
        Ok(chats.into_iter().filter(|c| jids.contains(&c.jid.as_str())).max_by_key(|c| c.ephemeral_set_at.unwrap_or(0)))
    }

    pub fn count(&self) -> Result<usize, StoreError> {
        Ok(self.0.conn().query_row("SELECT count(*) FROM chat", [], |r| r.get::<_, i64>(0))? as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chats_are_upserted_with_their_timers() {
        let (dir, store) = super::super::temp_store("chats");
        let chat = |jid: &str, kind, secs, at| Chat {
            jid: jid.into(),
            kind,
            ephemeral_expiration: secs,
            ephemeral_set_at: at,
        };
        store
            .chats()
            .save(&[
                chat("15551234567@s.whatsapp.net", ChatKind::Direct, 86_400, Some(1_700_000_000)),
                chat("120363000000000001@g.us", ChatKind::Group, 0, None),
            ])
            .unwrap();
        // A later chunk changes one timer and adds a chat; the other stays.
        store
            .chats()
            .save(&[
                chat("120363000000000001@g.us", ChatKind::Group, 7_776_000, Some(1_700_000_100)),
                chat("200000000000001@lid", ChatKind::Direct, 604_800, Some(1_700_000_200)),
            ])
            .unwrap();
        assert_eq!(store.chats().count().unwrap(), 3);
        assert_eq!(
            store.chats().list().unwrap(),
            [
                chat("120363000000000001@g.us", ChatKind::Group, 7_776_000, Some(1_700_000_100)),
                chat("15551234567@s.whatsapp.net", ChatKind::Direct, 86_400, Some(1_700_000_000)),
                chat("200000000000001@lid", ChatKind::Direct, 604_800, Some(1_700_000_200)),
            ]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
