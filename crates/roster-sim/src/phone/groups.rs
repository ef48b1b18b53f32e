//! Changes to the account's groups: asked by a companion (`w:g2` IQs) or
//! made on the phone (the admin API). Each change reaches the account's
//! linked devices as a `<notification type="w:gp2">` (the shape whatsmeow's
//! `parseGroupChange` and wacore's `stanza/groups.rs` read): `<add>` /
//! `<remove>` with the participants, `<ephemeral expiration>` /
//! `<not_ephemeral/>`.

use thiserror::Error;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, Node};

use crate::groups::{Addressing, Group};
use crate::nodes::{jid_user, notification, unix_now};
use crate::state::{ConnId, World};

#[derive(Debug, Error, PartialEq, Eq)]
pub enum GroupChangeError {
    #[error("the account is in no group '{0}'")]
    UnknownGroup(String),
    /// Only admins may do this here (the server's 401 `not-authorized`).
    #[error("only admins may change this group")]
    NotAuthorized,
}

/// How long an invite sent instead of an add stays valid: three days (the
/// `add_request` expiration real servers hand out is three days ahead).
pub const INVITE_VALID_SECS: u64 = 3 * 86_400;

/// One participant's answer to an add or a remove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipantAnswer {
    /// The JID as asked.
    pub jid: Jid,
    /// The number beside a LID, when the person is known.
    pub phone_number: Option<Jid>,
    /// 200 done; else the per-participant error code.
    pub code: u16,
    /// For 403 (privacy): the invite's code and expiry (Unix seconds).
    pub add_request: Option<(String, u64)>,
}

impl ParticipantAnswer {
    /// `<participant jid [phone_number] [error]>[<add_request code expiration/>]`:
    /// no `error` when it worked (whatsmeow reads a missing `error` as 0,
    /// Baileys as "200").
    pub fn node(&self) -> Node {
        let mut b = NodeBuilder::new("participant").attr("jid", self.jid.clone());
        if let Some(pn) = &self.phone_number {
            b = b.attr("phone_number", pn.clone());
        }
        if self.code != 200 {
            b = b.attr("error", self.code.to_string());
        }
        if let Some((code, expiration)) = &self.add_request {
            b = b.children([NodeBuilder::new("add_request")
                .attr("code", code.as_str())
                .attr("expiration", expiration.to_string())
                .build()]);
        }
        b.build()
    }
}

/// The group with this JID (or bare id) among the account's.
pub fn find(world: &World, group: &str) -> Result<usize, GroupChangeError> {
    let id = group.strip_suffix("@g.us").unwrap_or(group);
    world.account.groups.iter().position(|g| g.id == id).ok_or_else(|| GroupChangeError::UnknownGroup(group.into()))
}

/// Adds people (JIDs or numbers) to group `gi`; a community's parent group
/// takes them for the whole community (its announcement group follows).
pub fn add(
    world: &mut World,
    gi: usize,
    asked: &[String],
    by: Option<ConnId>,
    id: u64,
) -> Result<Vec<ParticipantAnswer>, GroupChangeError> {
    if !world.account.groups[gi].account_role.is_admin() {
        return Err(GroupChangeError::NotAuthorized);
    }
    let mut answers = Vec::with_capacity(asked.len());
    let mut added = Vec::new();
    for jid in asked {
        let person = world.account.people.index_of(jid_user(jid));
        let asked_jid = asked_jid(jid);
        let Some(p) = person else {
            answers.push(ParticipantAnswer { jid: asked_jid, phone_number: None, code: 404, add_request: None });
            continue;
        };
        let code = world.account.groups[gi].try_add(p, &world.account.people);
        let add_request =
            (code == 403).then(|| (invite_code(&world.account.groups[gi], p), unix_now() + INVITE_VALID_SECS));
        let phone_number = (asked_jid.server == "lid").then(|| world.account.people.list[p].pn_jid());
        answers.push(ParticipantAnswer { jid: asked_jid, phone_number, code, add_request });
        if code == 200 {
            added.push(p);
        }
    }
    if !added.is_empty() {
        let parent = world.account.groups[gi].is_parent.then(|| world.account.groups[gi].id.clone());
        if let Some(parent) = parent {
            for g in world
                .account
                .groups
                .iter_mut()
                .filter(|g| g.default_sub_group && g.linked_parent.as_ref() == Some(&parent))
            {
                for &p in &added {
                    if let Err(at) = g.members.binary_search(&p) {
                        g.members.insert(at, p);
                    }
                }
            }
        }
        announce_participants(world, gi, "add", &added, by, id);
    }
    Ok(answers)
}

/// Removes people from group `gi` (from a community: also from its
/// announcement group, and with `linked_groups` from every linked group).
pub fn remove(
    world: &mut World,
    gi: usize,
    asked: &[String],
    linked_groups: bool,
    by: Option<ConnId>,
    id: u64,
) -> Result<Vec<ParticipantAnswer>, GroupChangeError> {
    if !world.account.groups[gi].account_role.is_admin() {
        return Err(GroupChangeError::NotAuthorized);
    }
    let mut answers = Vec::with_capacity(asked.len());
    let mut removed = Vec::new();
    for jid in asked {
        let asked_jid = asked_jid(jid);
        let code = match world.account.people.index_of(jid_user(jid)) {
            Some(p) => {
                let code = world.account.groups[gi].remove(p);
                if code == 200 {
                    removed.push(p);
                }
                code
            }
            None => 404,
        };
        answers.push(ParticipantAnswer { jid: asked_jid, phone_number: None, code, add_request: None });
    }
    if !removed.is_empty() {
        let parent = world.account.groups[gi].is_parent.then(|| world.account.groups[gi].id.clone());
        if let Some(parent) = parent {
            for g in world
                .account
                .groups
                .iter_mut()
                .filter(|g| g.linked_parent.as_ref() == Some(&parent) && (linked_groups || g.default_sub_group))
            {
                for &p in &removed {
                    g.remove(p);
                }
            }
        }
        announce_participants(world, gi, "remove", &removed, by, id);
    }
    Ok(answers)
}

/// Sets (`Some`, seconds) or clears the group's disappearing-message timer;
/// refused when the group is locked and the account is not an admin.
pub fn set_timer(
    world: &mut World,
    gi: usize,
    seconds: Option<u32>,
    by: Option<ConnId>,
    id: u64,
) -> Result<(), GroupChangeError> {
    let group = &mut world.account.groups[gi];
    if !group.account_may_change_settings() {
        return Err(GroupChangeError::NotAuthorized);
    }
    group.ephemeral = seconds.unwrap_or(0);
    let jid = group.jid();
    if let Some(chat) = world.account.chats.iter_mut().find(|c| c.jid == jid) {
        chat.ephemeral_expiration = Some(seconds.unwrap_or(0));
        chat.ephemeral_set_at = Some(unix_now());
    }
    let change = match seconds {
        Some(s) => NodeBuilder::new("ephemeral").attr("expiration", s.to_string()).build(),
        None => NodeBuilder::new("not_ephemeral").build(),
    };
    push(world, gi, change, by, id);
    Ok(())
}

/// The JID a participant was asked by: a JID as is, a bare number as a PN.
fn asked_jid(jid: &str) -> Jid {
    jid.parse::<Jid>().ok().filter(|_| jid.contains('@')).unwrap_or_else(|| Jid::pn(jid_user(jid)))
}

/// The invite's code: 16 letters and digits, fixed for a group and person.
fn invite_code(group: &Group, person: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = group
        .id
        .bytes()
        .fold(person as u64 ^ 0x9e37_79b9_7f4a_7c15, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    (0..16)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALPHABET[(x % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

fn announce_participants(
    world: &World,
    gi: usize,
    action: &'static str,
    people: &[usize],
    by: Option<ConnId>,
    id: u64,
) {
    let group = &world.account.groups[gi];
    let participants = people.iter().map(|&p| {
        let person = &world.account.people.list[p];
        match group.addressing {
            Addressing::Lid => {
                NodeBuilder::new("participant").attr("jid", person.lid_jid()).attr("phone_number", person.pn_jid())
            }
            Addressing::Pn => {
                NodeBuilder::new("participant").attr("jid", person.pn_jid()).attr("lid", person.lid_jid())
            }
        }
        .build()
    });
    let change = NodeBuilder::new(action).children(participants).build();
    push(world, gi, change, by, id);
}

/// `<notification type="w:gp2" from=<group> participant=<the account> t id>`
/// to the account's linked devices (all but the one that asked).
fn push(world: &World, gi: usize, change: Node, by: Option<ConnId>, id: u64) {
    let group = &world.account.groups[gi];
    let account = &world.account;
    let actor = match group.addressing {
        Addressing::Lid => Jid::lid(account.lid.as_str()),
        Addressing::Pn => Jid::pn(account.phone.as_str()),
    };
    let gjid = Jid::group(group.id.as_str());
    let mut node = notification("w:gp2", gjid, id, vec![change]);
    node.attrs.insert("participant", actor);
    if group.addressing == Addressing::Lid {
        node.attrs.insert("participant_pn", Jid::pn(account.phone.as_str()));
    }
    world.push_to_devices(&node, by);
}
