//! The phone's chat list: 1:1 chats with some of the people of the world and
//! chats for the account's groups, each with its disappearing-message timer.
//! Deterministic from the seed. The phone hands the list to a new companion
//! in its history sync (`phone::history_sync`).

use serde::{Deserialize, Serialize};

use crate::groups::Group;
use crate::people::People;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    /// A 1:1 chat with someone.
    Direct,
    Group,
}

#[derive(Clone, Debug)]
pub struct Chat {
    /// The chat's JID as the phone names it: `<number>@s.whatsapp.net` for a
    /// 1:1 chat, `<id>@g.us` for a group.
    pub jid: String,
    /// The other side's LID JID, for a 1:1 chat.
    pub lid_jid: Option<String>,
    /// The other side's number, for a 1:1 chat.
    pub peer_phone: Option<String>,
    pub kind: ChatKind,
    /// The disappearing-message timer in seconds. `None`: the phone leaves
    /// the field out (off); `Some(0)`: switched off explicitly.
    pub ephemeral_expiration: Option<u32>,
    /// When the timer was last set (Unix seconds).
    pub ephemeral_set_at: Option<u64>,
    /// The chat's last activity (Unix seconds); the list is newest first.
    pub timestamp: u64,
}

impl Chat {
    /// The timer in seconds, 0 when off.
    pub fn timer(&self) -> u32 {
        self.ephemeral_expiration.unwrap_or(0)
    }
}

/// Sets the timer of the 1:1 chat with `phone` (0: off), as both sides see
/// it once the other side has read the setting; a chat the phone did not
/// have yet starts, newest.
pub fn set_direct_timer(world: &mut crate::state::World, phone: &str, seconds: u32, now: u64) {
    let account = &mut world.account;
    let jid = format!("{phone}@s.whatsapp.net");
    let index = match account.chats.iter().position(|c| c.jid == jid) {
        Some(i) => i,
        None => {
            let Some(person) = account.people.by_phone(phone) else { return };
            let chat = Chat {
                jid,
                lid_jid: Some(format!("{}@lid", person.lid)),
                peer_phone: Some(person.phone.clone()),
                kind: ChatKind::Direct,
                ephemeral_expiration: None,
                ephemeral_set_at: None,
                timestamp: now,
            };
            account.chats.insert(0, chat);
            0
        }
    };
    let chat = &mut account.chats[index];
    chat.ephemeral_expiration = Some(seconds);
    chat.ephemeral_set_at = Some(now);
}

/// Timers the phone offers (24 hours, 7 days, 90 days), off, and left out,
/// assigned to the chats in turn.
const TIMERS: &[Option<u32>] = &[Some(86_400), None, Some(604_800), Some(0), Some(7_776_000), None];

/// At most this many 1:1 chats.
const DIRECT_CHATS: usize = 40;

pub fn generate(seed: u64, people: &People, groups: &[Group]) -> Vec<Chat> {
    // Every fifth person from an offset: in and out of the address book alike.
    let offset = (seed % 5) as usize;
    let direct = people
        .list
        .iter()
        .skip(offset)
        .step_by(5)
        .take(DIRECT_CHATS)
        .map(|p| (format!("{}@s.whatsapp.net", p.phone), Some(p), ChatKind::Direct));
    // A community's parent group has no chat of its own; its groups do.
    let group = groups.iter().filter(|g| !g.is_parent).map(|g| (g.jid(), None, ChatKind::Group));
    let mut chats: Vec<Chat> = direct
        .chain(group)
        .enumerate()
        .map(|(i, (jid, peer, kind))| {
            let ephemeral_expiration = TIMERS[(i + seed as usize) % TIMERS.len()];
            let i = i as u64;
            Chat {
                jid,
                lid_jid: peer.map(|p| format!("{}@lid", p.lid)),
                peer_phone: peer.map(|p| p.phone.clone()),
                kind,
                ephemeral_expiration,
                ephemeral_set_at: ephemeral_expiration.map(|_| 1_700_000_000 + i * 3_600),
                timestamp: 1_760_000_000 - (i * 7_919) % 2_000_000,
            }
        })
        .collect();
    chats.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then_with(|| a.jid.cmp(&b.jid)));
    chats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chats_are_deterministic_and_mix_timers() {
        let people = People::generate(5, 300, "15550000000");
        let groups = crate::groups::generate(5, &people);
        let a = generate(5, &people, &groups);
        let b = generate(5, &people, &groups);
        assert_eq!(a.iter().map(|c| &c.jid).collect::<Vec<_>>(), b.iter().map(|c| &c.jid).collect::<Vec<_>>());
        assert_eq!(a.iter().filter(|c| c.kind == ChatKind::Direct).count(), DIRECT_CHATS);
        assert_eq!(
            a.iter().filter(|c| c.kind == ChatKind::Group).count(),
            groups.iter().filter(|g| !g.is_parent).count()
        );
        for timer in [None, Some(0), Some(86_400), Some(604_800), Some(7_776_000)] {
            assert!(a.iter().any(|c| c.ephemeral_expiration == timer), "{timer:?}");
        }
        let mut jids: Vec<_> = a.iter().map(|c| &c.jid).collect();
        jids.sort();
        jids.dedup();
        assert_eq!(jids.len(), a.len(), "one chat per JID");
        assert!(
            a.iter()
                .filter(|c| c.kind == ChatKind::Direct)
                .all(|c| people.find(c.jid.split('@').next().unwrap()).is_some())
        );
    }
}
