//! The groups the account is in (`chat_group`) and their members
//! (`group_member`), replaced whole at every fetch.

use rusqlite::params;

use super::{Store, StoreError};
use crate::snapshot::GroupSummary;

/// One participant's identity, as the group lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Member {
    pub lid: Option<String>,
    pub phone: Option<String>,
}

/// `store.groups()`.
pub(crate) struct Groups<'a>(pub(super) &'a Store);

impl Groups<'_> {
    /// Replaces the saved groups with the server's list, in one transaction.
    pub(crate) fn replace(&self, groups: &[(String, String, Vec<Member>)]) -> Result<(), StoreError> {
        let mut conn = self.0.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM group_member", [])?;
        tx.execute("DELETE FROM chat_group", [])?;
        {
            let mut group =
                tx.prepare("INSERT INTO chat_group (jid, subject, fetched_at) VALUES (?1, ?2, unixepoch())")?;
            let mut member = tx.prepare("INSERT INTO group_member (group_jid, lid, phone) VALUES (?1, ?2, ?3)")?;
            for (jid, subject, members) in groups {
                group.execute(params![jid, subject])?;
                for m in members {
                    member.execute(params![jid, m.lid, m.phone])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// By subject.
    pub(crate) fn list(&self) -> Result<Vec<GroupSummary>, StoreError> {
        let conn = self.0.conn();
        let mut stmt = conn.prepare(
            "SELECT g.jid, g.subject, (SELECT count(*) FROM group_member m WHERE m.group_jid = g.jid), g.fetched_at
             FROM chat_group g ORDER BY g.subject COLLATE NOCASE",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(GroupSummary {
                    jid: r.get(0)?,
                    subject: r.get(1)?,
                    members: r.get::<_, i64>(2)?.max(0) as usize,
                    fetched_at: r.get::<_, i64>(3)?.max(0) as u64,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}
