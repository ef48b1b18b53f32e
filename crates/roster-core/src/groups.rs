//! The groups the account is in, kept in roster.db with their members'
//! identities (LID and number), so that a number check can be limited to
//! one group's participants and resolved from the group's own list.

use thiserror::Error;
use whatsapp_rust::Client;

use crate::store::{Member, StoreError};

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
