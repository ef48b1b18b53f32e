//! The groups the account is in, kept in roster.db with their members'
//! identities (LID and number), so that a number check can be limited to
//! one group's participants and resolved from the group's own list.

use rusqlite::params;
use serde::Serialize;
use thiserror::Error;
use whatsapp_rust::Client;

use crate::store::{Store, StoreError};

pub(crate) const MIGRATION: &str = "
    CREATE TABLE chat_group (
        jid        TEXT PRIMARY KEY,
        subject    TEXT NOT NULL,
        fetched_at INTEGER NOT NULL
    );
    CREATE TABLE group_member (
        group_jid TEXT NOT NULL REFERENCES chat_group(jid) ON DELETE CASCADE,
        lid       TEXT,
        phone     TEXT
    );
    CREATE INDEX group_member_lid ON group_member(group_jid, lid);
    CREATE INDEX group_member_phone ON group_member(group_jid, phone);
    ALTER TABLE check_job ADD COLUMN group_jid TEXT;
    ALTER TABLE contact ADD COLUMN added_at INTEGER;";

/// A group as the selector lists it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct GroupSummary {
    /// `…@g.us`
    pub jid: String,
    pub subject: String,
    /// Participants, the account included.
    pub members: usize,
    /// Unix time of the list the server last gave.
    pub fetched_at: u64,
}

/// One participant's identity, as the group lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub lid: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Error)]
pub enum GroupError {
    #[error("not connected; the groups shown are the ones saved at the last connection")]
    NotConnected,
    #[error("\"{0}\" is not a group JID (it ends in @g.us)")]
    BadJid(String),
    #[error("the account is not in group {0} (or it no longer exists)")]
    Unknown(String),
    #[error("the server did not give the groups: {0}")]
    Server(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks the shape of a group JID: digits and at most one dash, then `@g.us`.
pub fn checked_group_jid(jid: &str) -> Result<&str, GroupError> {
    let user = jid.strip_suffix("@g.us").ok_or_else(|| GroupError::BadJid(jid.into()))?;
    let ok = !user.is_empty()
        && user.len() <= 40
        && user.chars().all(|c| c.is_ascii_digit() || c == '-')
        && user.matches('-').count() <= 1;
    if ok { Ok(jid) } else { Err(GroupError::BadJid(jid.into())) }
}

/// Asks the server for every group the account is in, with their members.
pub(crate) async fn fetch_all(client: &Client) -> Result<Vec<(String, String, Vec<Member>)>, GroupError> {
    let groups = client.groups().get_participating().await.map_err(|e| GroupError::Server(e.to_string()))?;
    Ok(groups
        .into_iter()
        .map(|(jid, meta)| {
            let members = meta
                .participants
                .iter()
                .map(|p| {
                    let (lid, phone) = if p.jid.is_lid() {
                        (Some(p.jid.user.to_string()), p.phone_number.as_ref().map(|j| j.user.to_string()))
                    } else {
                        (p.lid.as_ref().map(|j| j.user.to_string()), Some(p.jid.user.to_string()))
                    };
                    Member { lid, phone }
                })
                .collect();
            (jid.to_string(), meta.subject.to_string(), members)
        })
        .collect())
}

impl Store {
    /// Replaces the saved groups with the server's list, in one transaction.
    pub(crate) fn save_groups(&self, groups: &[(String, String, Vec<Member>)]) -> Result<(), StoreError> {
        let mut conn = self.conn();
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

    pub(crate) fn groups(&self) -> Result<Vec<GroupSummary>, StoreError> {
        let conn = self.conn();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_jids_are_checked() {
        assert!(checked_group_jid("120363000000000001@g.us").is_ok());
        assert!(checked_group_jid("5511999999999-1600000000@g.us").is_ok());
        for bad in ["", "@g.us", "123@s.whatsapp.net", "12a@g.us", "1-2-3@g.us", "120363000000000001"] {
            assert!(matches!(checked_group_jid(bad), Err(GroupError::BadJid(_))), "{bad}");
        }
    }
}
