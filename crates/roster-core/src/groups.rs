//! The groups and communities the account is in, kept in roster.db with
//! their members' identities (LID and number) and roles, so that a number
//! check can be limited to one group's participants and resolved from the
//! group's own list; group disappearing-message timers; adding and removing
//! one participant (the bulk job is `group_adds.rs`).

use thiserror::Error;
use whatsapp_rust::features::{GroupError as ClientGroupError, GroupMetadata, ParticipantType};
use whatsapp_rust::request::IqError;
use whatsapp_rust::{Client, Jid};

use crate::snapshot::{AddOutcome, GroupRole};
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
    #[error(
        "{0} seconds is not a timer a group takes: WhatsApp accepts off, 24 hours (86400), 7 days (604800) or 90 days (7776000) for groups"
    )]
    BadTimer(u32),
    #[error("only admins may change the settings of \"{0}\", and the account is not an admin there")]
    NotAdminLocked(String),
    #[error("only admins may add or remove participants in \"{0}\", and the account is not an admin there")]
    NotAdmin(String),
    #[error("WhatsApp did not answer in time; nothing is known to have changed — try again")]
    Timeout,
    #[error("WhatsApp refused the change ({code}: {text})")]
    Refused { code: u16, text: String },
    #[error("WhatsApp is limiting requests ({code}); try again later")]
    RateLimited { code: u16 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<IqError> for GroupError {
    fn from(e: IqError) -> Self {
        match e {
            IqError::Timeout => GroupError::Timeout,
            IqError::NotConnected | IqError::InternalChannelClosed | IqError::Disconnected(_) => {
                GroupError::NotConnected
            }
            IqError::ServerError { code: 429, .. } => GroupError::RateLimited { code: 429 },
            IqError::ServerError { code, text, .. } => GroupError::Refused { code, text },
            other => GroupError::Server(other.to_string()),
        }
    }
}

impl From<ClientGroupError> for GroupError {
    fn from(e: ClientGroupError) -> Self {
        match e {
            ClientGroupError::Iq(iq) => iq.into(),
            other => GroupError::Server(other.to_string()),
        }
    }
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

/// A disappearing-message timer: off, or seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    Off,
    Seconds(u32),
}

/// The timers WhatsApp offers: 24 hours, 7 days, 90 days. whatsmeow's
/// `SetDisappearingTimer` notes that in groups the server rejects any other
/// value, so a group's timer is one of these or off.
pub const PRESET_TIMERS: [u32; 3] = [86_400, 604_800, 7_776_000];

/// The longest timer a 1:1 chat takes, in seconds (about 68 years).
pub const CHAT_TIMER_MAX: u32 = i32::MAX as u32;

impl Timer {
    /// A group's timer from seconds (0: off); refuses what the server would.
    pub fn for_group(seconds: u32) -> Result<Timer, GroupError> {
        match seconds {
            0 => Ok(Timer::Off),
            s if PRESET_TIMERS.contains(&s) => Ok(Timer::Seconds(s)),
            s => Err(GroupError::BadTimer(s)),
        }
    }

    /// A 1:1 chat's timer from seconds (0: off). Unlike a group, a 1:1 chat
    /// takes any length up to [`CHAT_TIMER_MAX`] (the largest expiration
    /// clients accept: wacore's `GROUP_EPHEMERAL_EXPIRATION_MAX`, a signed
    /// 32-bit count in WA Web); `None` above it.
    pub fn for_chat(seconds: u32) -> Option<Timer> {
        match seconds {
            0 => Some(Timer::Off),
            s if s <= CHAT_TIMER_MAX => Some(Timer::Seconds(s)),
            _ => None,
        }
    }

    pub fn seconds(self) -> u32 {
        match self {
            Timer::Off => 0,
            Timer::Seconds(s) => s,
        }
    }
}

/// One group as the server lists it.
#[derive(Clone, Debug)]
pub(crate) struct FetchedGroup {
    pub jid: String,
    pub subject: String,
    pub members: Vec<Member>,
    pub role: GroupRole,
    pub is_community: bool,
    pub parent: Option<String>,
    pub announcement_group: bool,
    pub locked: bool,
    pub admins_only_messages: bool,
    pub timer: u32,
    pub size: usize,
}

fn member(p: &whatsapp_rust::features::GroupParticipant) -> Member {
    let (lid, phone) = if p.jid.is_lid() {
        (Some(p.jid.user.to_string()), p.phone_number.as_ref().map(|j| j.user.to_string()))
    } else {
        (p.lid.as_ref().map(|j| j.user.to_string()), Some(p.jid.user.to_string()))
    };
    Member { lid, phone, admin: p.is_admin() }
}

fn fetched(client: &Client, jid: &Jid, meta: &GroupMetadata) -> FetchedGroup {
    let (own_pn, own_lid) = (client.pn().map(|j| j.user.to_string()), client.lid().map(|j| j.user.to_string()));
    let members: Vec<Member> = meta.participants.iter().map(member).collect();
    let me = meta.participants.iter().find(|p| {
        let m = member(p);
        (m.phone.is_some() && m.phone == own_pn) || (m.lid.is_some() && m.lid == own_lid)
    });
    let role = match me.map(|p| &p.participant_type) {
        Some(ParticipantType::SuperAdmin) => GroupRole::Superadmin,
        Some(ParticipantType::Admin) => GroupRole::Admin,
        _ => GroupRole::Member,
    };
    FetchedGroup {
        jid: jid.to_string(),
        subject: meta.subject.to_string(),
        size: meta.size.map_or(members.len(), |s| s as usize),
        members,
        role,
        is_community: meta.is_parent_group,
        parent: meta.parent_group_jid.as_ref().map(|j| j.to_string()),
        announcement_group: meta.is_default_sub_group,
        locked: meta.is_locked,
        admins_only_messages: meta.is_announcement,
        timer: meta.ephemeral.and_then(|e| e.expiration).unwrap_or(0),
    }
}

/// Asks the server for every group the account is in, with their members.
pub(crate) async fn fetch_all(client: &Client) -> Result<Vec<FetchedGroup>, GroupError> {
    let groups = client.groups().get_participating().await?;
    Ok(groups.iter().map(|(jid, meta)| fetched(client, jid, meta)).collect())
}

/// Asks the server for one group's metadata.
pub(crate) async fn fetch_one(client: &Client, jid: &str) -> Result<FetchedGroup, GroupError> {
    let parsed = parse(jid)?;
    let meta = client.groups().get_metadata(&parsed).await.map_err(|e| match GroupError::from(e) {
        GroupError::Refused { code: 404, .. } => GroupError::Unknown(jid.into()),
        other => other,
    })?;
    Ok(fetched(client, &parsed, &meta))
}

fn parse(jid: &str) -> Result<Jid, GroupError> {
    checked_group_jid(jid)?.parse::<Jid>().map_err(|_| GroupError::BadJid(jid.into()))
}

/// Sets or clears a group's timer on the server.
pub(crate) async fn set_timer(client: &Client, jid: &str, timer: Timer) -> Result<(), GroupError> {
    Ok(client.groups().set_ephemeral(parse(jid)?, timer.seconds()).await?)
}

/// What the server said about one person added or removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParticipantAnswer {
    pub outcome: AddOutcome,
    pub code: u16,
    pub invite: Option<(String, u64)>,
}

/// The per-participant code of an add, as WhatsApp Web reads it (the table
/// whatsapp-web.js's `addParticipants` copies): 200 added, 403 privacy
/// (with an `add_request` invite), 404 not on WhatsApp, 408 left recently,
/// 409 already a member, 419 the group is full.
pub(crate) fn add_outcome(code: u16) -> AddOutcome {
    match code {
        200 => AddOutcome::Added,
        403 => AddOutcome::InviteNeeded,
        404 => AddOutcome::NotOnWhatsapp,
        408 => AddOutcome::RecentlyLeft,
        409 => AddOutcome::AlreadyMember,
        419 => AddOutcome::GroupFull,
        _ => AddOutcome::Failed,
    }
}

fn answer(
    list: Vec<whatsapp_rust::features::ParticipantChangeResponse>,
    read: impl Fn(u16) -> AddOutcome,
) -> Result<ParticipantAnswer, GroupError> {
    let one = list.into_iter().next().ok_or_else(|| GroupError::Server("no answer for the participant".into()))?;
    let code = match one.error.as_deref() {
        None => 200,
        Some(e) => e.parse::<u16>().unwrap_or(0),
    };
    Ok(ParticipantAnswer { outcome: read(code), code, invite: one.add_request.map(|r| (r.code, r.expiration)) })
}

/// Adds one person to a group; for a community, its parent group.
pub(crate) async fn add_one(client: &Client, group: &str, who: Jid) -> Result<ParticipantAnswer, GroupError> {
    let list = client.groups().add_participants(parse(group)?, &[who]).await?;
    answer(list, add_outcome)
}

/// Removes one person from a group.
pub(crate) async fn remove_one(client: &Client, group: &str, who: Jid) -> Result<ParticipantAnswer, GroupError> {
    let list = client.groups().remove_participants(parse(group)?, &[who]).await?;
    answer(list, |code| if code == 200 { AddOutcome::Removed } else { AddOutcome::Failed })
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

    #[test]
    fn group_timers_are_the_offered_ones_or_off() {
        assert_eq!(Timer::for_group(0).unwrap(), Timer::Off);
        for s in PRESET_TIMERS {
            assert_eq!(Timer::for_group(s).unwrap(), Timer::Seconds(s));
        }
        for bad in [1, 3_600, 86_401, 31_536_000, u32::MAX] {
            let e = Timer::for_group(bad).unwrap_err();
            assert!(matches!(e, GroupError::BadTimer(s) if s == bad));
            assert!(e.to_string().contains("86400"), "the reason names what is accepted: {e}");
        }
    }

    #[test]
    fn add_codes_read_as_outcomes() {
        let read: Vec<_> = [200, 403, 404, 408, 409, 419, 500].into_iter().map(add_outcome).collect();
        use AddOutcome::*;
        assert_eq!(read, [Added, InviteNeeded, NotOnWhatsapp, RecentlyLeft, AlreadyMember, GroupFull, Failed]);
    }
}
