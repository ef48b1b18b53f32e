//! Adding many people to a group or community (and undoing it), person by
//! person, paced like a bulk block.
//!
//! The job and each person are saved before anything is sent
//! (`store/group_adds.rs`). A person is marked `sent` before their IQ goes
//! out; if the answer is lost (the connection drops, no answer in time),
//! the group's own list decides afterwards: someone now in it who was not
//! when the job was planned was added by this job. So nobody is added twice
//! and nobody the job added reads as "already a member". An add, unlike a
//! block, is not sent again blindly.

use std::time::Duration;

use thiserror::Error;
use tracing::{info, warn};
use whatsapp_rust::waproto::whatsapp as wa;
use whatsapp_rust::{Client, Jid};

use crate::groups::{self, FetchedGroup, GroupError, ParticipantAnswer};
use crate::snapshot::{AddJobOutcome, AddOutcome};
use crate::store::{AddItem, Store, StoreError};

/// Time between two people of one job.
pub const PACE: Duration = Duration::from_millis(400);
/// The most people one job may hold.
pub const MAX_TARGETS: usize = 10_000;

#[derive(Debug, Error)]
pub enum GroupAddError {
    #[error("nothing to add: no selected line is a number on WhatsApp")]
    Nothing,
    #[error("{0} people at once is too many; at most {MAX_TARGETS}")]
    TooMany(usize),
    #[error("there is no add-participants job {0}")]
    NoAction(i64),
    #[error("job {0} is itself an undo, so it cannot be undone")]
    NotUndoable(i64),
    #[error("job {0} added nobody, so there is nothing to undo")]
    NothingToUndo(i64),
    #[error("WhatsApp handed out no invite for this person in job {0}")]
    NoInvite(i64),
    #[error("the invite WhatsApp held for them ran out on {0}; add them again for a new one")]
    InviteExpired(String),
    #[error(transparent)]
    Chat(#[from] crate::chats::ChatError),
    #[error(transparent)]
    Target(#[from] crate::numbers::TargetError),
    #[error(transparent)]
    Group(#[from] GroupError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for GroupAddError {
    fn from(e: rusqlite::Error) -> Self {
        GroupAddError::Store(e.into())
    }
}

impl GroupAddError {
    /// The connection dropped: the job resumes with the next one.
    pub fn is_not_connected(&self) -> bool {
        matches!(self, GroupAddError::Group(GroupError::NotConnected))
    }
}

/// The `groupInviteMessage` WhatsApp's own "Send invite" sends a person
/// whose privacy refused an add: the group, the code the server handed out
/// for them and until when it holds (a community's as its parent group).
pub(crate) fn invite_message(group: &FetchedGroup, code: &str, expiration: u64) -> wa::Message {
    use wa::message::GroupInviteMessage;
    use wa::message::group_invite_message::GroupType;
    wa::Message {
        group_invite_message: whatsapp_rust::buffa::MessageField::some(GroupInviteMessage {
            group_jid: Some(group.jid.clone()),
            invite_code: Some(code.to_owned()),
            invite_expiration: Some(i64::try_from(expiration).unwrap_or(i64::MAX)),
            group_name: Some(group.subject.clone()),
            caption: Some("Invitation to join my WhatsApp group".to_owned()),
            group_type: Some(if group.is_community { GroupType::PARENT } else { GroupType::DEFAULT }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Sends `person` (E.164 digits, else a LID) the invite for `group`.
pub(crate) async fn send_invite(
    client: &Client,
    group: &FetchedGroup,
    person: (Option<&str>, Option<&str>),
    code: &str,
    expiration: u64,
) -> Result<(), GroupAddError> {
    let to = match person {
        (Some(phone), _) => Jid::pn(phone),
        (None, Some(lid)) => Jid::lid(lid),
        (None, None) => return Err(GroupAddError::Nothing),
    };
    client.send_message(to, invite_message(group, code, expiration)).await.map_err(crate::chats::ChatError::from)?;
    info!("group invite sent");
    Ok(())
}

fn is_in(group: &FetchedGroup, item: &AddItem) -> bool {
    group.members.iter().any(|m| {
        (item.phone.is_some() && m.phone == item.phone) || (item.lid.is_some() && m.lid.is_some() && m.lid == item.lid)
    })
}

fn jid_of(item: &AddItem) -> Option<Jid> {
    item.phone.as_deref().map(Jid::pn).or_else(|| item.lid.as_deref().map(Jid::lid))
}

/// Carries out a saved job (or undo), person by person; refreshes the
/// group from the server at the end.
pub(crate) async fn run(client: &Client, store: &Store, action: i64) -> Result<AddJobOutcome, GroupAddError> {
    let (group, undo) = store.group_adds().target(action)?;
    let mut first = true;
    let mut retried: Option<i64> = None;
    while let Some(item) = store.group_adds().next(action)? {
        if !first {
            tokio::time::sleep(PACE).await;
        }
        first = false;
        if item.sent {
            // Sent before, answer unknown: the group's list says what happened.
            let now = groups::fetch_one(client, &group).await?;
            let member = is_in(&now, &item);
            let done = if undo {
                (!member).then_some(AddOutcome::Removed)
            } else {
                (member && !item.was_member).then_some(AddOutcome::Added)
            };
            if let Some(outcome) = done {
                info!(seq = item.seq, %outcome, "an answer lost with the connection, read from the group's list");
                store.group_adds().answer(action, item.seq, &ParticipantAnswer { outcome, code: 200, invite: None })?;
                continue;
            }
        }
        let Some(jid) = jid_of(&item) else {
            let failed = ParticipantAnswer { outcome: AddOutcome::Failed, code: 0, invite: None };
            store.group_adds().answer(action, item.seq, &failed)?;
            continue;
        };
        store.group_adds().mark_sent(action, item.seq)?;
        let answer = if undo {
            groups::remove_one(client, &group, jid).await
        } else {
            groups::add_one(client, &group, jid).await
        };
        match answer {
            Ok(a) => store.group_adds().answer(action, item.seq, &a)?,
            // Stop here; the job resumes with the connection (or is retried
            // once it is back), and the person in flight is checked then.
            Err(e @ (GroupError::NotConnected | GroupError::RateLimited { .. })) => return Err(e.into()),
            Err(GroupError::Timeout) if retried != Some(item.seq) => {
                warn!(seq = item.seq, "no answer in time; the group's list will tell");
                retried = Some(item.seq);
            }
            Err(e) => {
                warn!(error = %e, "one {} failed", if undo { "removal" } else { "add" });
                let code = match e {
                    GroupError::Refused { code, .. } => code,
                    _ => 0,
                };
                let failed = ParticipantAnswer { outcome: AddOutcome::Failed, code, invite: None };
                store.group_adds().answer(action, item.seq, &failed)?;
            }
        }
    }
    store.group_adds().finish(action)?;
    let now = groups::fetch_one(client, &group).await?;
    store.groups().replace_one(&now)?;
    let outcome = store.group_adds().outcome(action, now.size)?;
    info!(
        action,
        undo,
        added = outcome.count(AddOutcome::Added),
        removed = outcome.count(AddOutcome::Removed),
        members = now.size,
        "add-participants job done"
    );
    Ok(outcome)
}
