//! The groups the account belongs to: a few, deterministic from the seed,
//! drawn from the people of the world. LID-addressed groups name each
//! participant by LID with their number beside it; PN-addressed groups the
//! other way round (as the real server does).
//!
//! A community is a parent group (`<parent/>` in its metadata) with linked
//! subgroups (`<linked_parent jid/>`), one of them its default announcement
//! group (`<default_sub_group/>`). Its membership lives on the parent group;
//! the announcement group follows it. The world holds one community the
//! account administers and one group where the account is a plain member
//! and only admins may change settings (`<locked/>`, `<announcement/>`).
//!
//! The rules of adding someone (the per-participant codes of
//! `FIDELITY.md`) are here: [`Group::try_add`].

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::people::People;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Addressing {
    Lid,
    Pn,
}

impl Addressing {
    pub fn as_str(self) -> &'static str {
        match self {
            Addressing::Lid => "lid",
            Addressing::Pn => "pn",
        }
    }
}

/// A participant's role, as `<participant type>` says it (absent: member).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Admin,
    Superadmin,
}

impl Role {
    /// The `type` attribute, `None` for a plain member.
    pub fn attr(self) -> Option<&'static str> {
        match self {
            Role::Member => None,
            Role::Admin => Some("admin"),
            Role::Superadmin => Some("superadmin"),
        }
    }

    pub fn is_admin(self) -> bool {
        self != Role::Member
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Group {
    /// The user part of the group JID (`…@g.us`).
    pub id: String,
    pub subject: String,
    pub addressing: Addressing,
    pub created: u64,
    /// Indexes into the world's people, sorted; the account itself is
    /// always a member too.
    #[serde(skip)]
    pub members: Vec<usize>,
    /// Members (indexes into the people) who are admins.
    #[serde(skip)]
    pub admins: BTreeSet<usize>,
    /// Who left by themselves lately: the server refuses to add them back
    /// for a while (408).
    #[serde(skip)]
    pub recently_left: BTreeSet<usize>,
    /// The account's own role.
    pub account_role: Role,
    /// Only admins may change the group's settings.
    pub locked: bool,
    /// Only admins may send messages.
    pub announcement: bool,
    /// The disappearing-message timer in seconds; 0: off.
    pub ephemeral: u32,
    /// A community's parent group.
    pub is_parent: bool,
    /// The community this group is linked to (its id).
    pub linked_parent: Option<String>,
    /// The community's announcement group.
    pub default_sub_group: bool,
    /// The most participants (the account included) the group may hold.
    pub capacity: usize,
}

impl Group {
    pub fn jid(&self) -> String {
        format!("{}@g.us", self.id)
    }

    /// Participants, the account included.
    pub fn size(&self) -> usize {
        self.members.len() + 1
    }

    /// Whether the account may change the group's settings (the timer).
    pub fn account_may_change_settings(&self) -> bool {
        !self.locked || self.account_role.is_admin()
    }

    /// Whether `person` is a member.
    pub fn has(&self, person: usize) -> bool {
        self.members.binary_search(&person).is_ok()
    }

    /// Adds `person` if the server would; returns the per-participant code:
    /// 200 added, 409 already a member, 408 left recently, 419 the group is
    /// full, 403 their privacy settings only let contacts add them (the
    /// caller attaches the `add_request` invite).
    pub fn try_add(&mut self, person: usize, people: &People) -> u16 {
        if self.has(person) {
            return 409;
        }
        if self.recently_left.contains(&person) {
            return 408;
        }
        if self.size() >= self.capacity {
            return 419;
        }
        if !people.list[person].account_may_add_to_groups() {
            return 403;
        }
        let at = self.members.binary_search(&person).unwrap_err();
        self.members.insert(at, person);
        200
    }

    /// Removes `person`; 200, or 404 when they are not a member.
    pub fn remove(&mut self, person: usize) -> u16 {
        match self.members.binary_search(&person) {
            Ok(at) => {
                self.members.remove(at);
                self.admins.remove(&person);
                200
            }
            Err(_) => 404,
        }
    }
}

/// One seeded group: subject, addressing, size, and what kind it is.
struct Seed {
    subject: &'static str,
    addressing: Addressing,
    size: usize,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The account created it (superadmin), anyone may change settings.
    Own,
    /// The account is a plain member; only admins change settings or write.
    MemberOnly,
    /// A community's parent group, administered by the account.
    Community,
    /// The community's announcement group (the parent's members).
    Announcement,
    /// Another group of the community (about half its members).
    Linked,
}

/// The first three are the groups of earlier versions, unchanged.
const GROUPS: &[Seed] = &[
    Seed { subject: "Family", addressing: Addressing::Lid, size: 8, kind: Kind::Own },
    Seed { subject: "Neighbourhood watch", addressing: Addressing::Lid, size: 60, kind: Kind::Own },
    Seed { subject: "Suppliers", addressing: Addressing::Pn, size: 25, kind: Kind::Own },
    Seed { subject: "Building residents", addressing: Addressing::Lid, size: 20, kind: Kind::MemberOnly },
    Seed { subject: "Makers", addressing: Addressing::Lid, size: 12, kind: Kind::Community },
    Seed { subject: "Makers announcements", addressing: Addressing::Lid, size: 12, kind: Kind::Announcement },
    Seed { subject: "Makers workshop", addressing: Addressing::Lid, size: 12, kind: Kind::Linked },
];

/// How many people a group may hold: WhatsApp's 1024, except "Family",
/// kept nearly full so that a full group can be met.
const CAPACITY: usize = 1024;

pub fn generate(seed: u64, people: &People) -> Vec<Group> {
    let n = people.list.len();
    if n == 0 {
        return Vec::new();
    }
    let mut groups: Vec<Group> = Vec::with_capacity(GROUPS.len());
    let mut community: Option<usize> = None;
    for (g, s) in GROUPS.iter().enumerate() {
        // Every `step`-th person from an offset: members overlap between
        // groups and include people outside the address book.
        let step = 2 * g + 1;
        let first = (seed as usize).wrapping_add(g * 7) % n;
        let mut members: Vec<usize> = (0..n).map(|k| (first + k * step) % n).take(s.size.min(n)).collect();
        let parent = community.map(|c| &groups[c]);
        match (s.kind, parent) {
            (Kind::Announcement, Some(p)) => members = p.members.clone(),
            (Kind::Linked, Some(p)) => members = p.members.iter().copied().step_by(2).collect(),
            _ => {}
        }
        members.sort_unstable();
        members.dedup();
        let mut admins = BTreeSet::new();
        let mut recently_left = BTreeSet::new();
        let account_role = if s.kind == Kind::MemberOnly { Role::Member } else { Role::Superadmin };
        match s.kind {
            Kind::MemberOnly => admins.extend(members.iter().take(2)),
            Kind::Community | Kind::Announcement => admins.extend(members.iter().take(1)),
            _ => {}
        }
        if s.kind == Kind::Community {
            // Two people outside the community who left it lately.
            recently_left.extend((0..n).map(|k| (first + n / 2 + k) % n).filter(|i| !members.contains(i)).take(2));
        }
        let capacity = if s.subject == "Family" { members.len() + 2 } else { CAPACITY };
        let linked_parent = match s.kind {
            Kind::Announcement | Kind::Linked => parent.map(|p| p.id.clone()),
            _ => None,
        };
        groups.push(Group {
            id: format!("120363{:012}", (seed.wrapping_mul(31).wrapping_add(g as u64 * 1_000_003)) % 1_000_000_000_000),
            subject: s.subject.to_owned(),
            addressing: s.addressing,
            created: 1_690_000_000 + g as u64 * 86_400,
            members,
            admins,
            recently_left,
            account_role,
            locked: s.kind == Kind::MemberOnly,
            announcement: matches!(s.kind, Kind::MemberOnly | Kind::Announcement),
            ephemeral: 0,
            is_parent: s.kind == Kind::Community,
            linked_parent,
            default_sub_group: s.kind == Kind::Announcement,
            capacity,
        });
        if s.kind == Kind::Community {
            community = Some(g);
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_deterministic_and_within_the_world() {
        let people = People::generate(4, 100, "15550000000");
        let a = generate(4, &people);
        let b = generate(4, &people);
        assert_eq!(a.len(), 7);
        assert_eq!(a[1].members, b[1].members);
        assert_eq!(a[1].members.len(), 60);
        assert!(a.iter().all(|g| g.members.iter().all(|&i| i < 100)));
        assert_ne!(a[0].id, a[1].id);
    }

    #[test]
    fn the_world_has_a_community_and_a_group_the_account_cannot_change() {
        let people = People::generate(4, 100, "15550000000");
        let groups = generate(4, &people);
        let parent = groups.iter().find(|g| g.is_parent).expect("a community");
        assert!(parent.account_role.is_admin());
        let linked: Vec<_> = groups.iter().filter(|g| g.linked_parent.as_deref() == Some(&parent.id)).collect();
        assert_eq!(linked.len(), 2);
        let announcement = linked.iter().find(|g| g.default_sub_group).expect("an announcement group");
        assert_eq!(announcement.members, parent.members);
        assert!(!parent.recently_left.is_empty() && parent.recently_left.iter().all(|i| !parent.has(*i)));
        let locked = groups.iter().find(|g| !g.account_may_change_settings()).expect("a locked group");
        assert_eq!(locked.account_role, Role::Member);
    }

    #[test]
    fn adding_follows_the_servers_rules() {
        let people = People::generate(4, 100, "15550000000");
        let mut groups = generate(4, &people);
        let family = &mut groups[0];
        let member = family.members[0];
        assert_eq!(family.try_add(member, &people), 409);
        let addable: Vec<usize> =
            (0..100).filter(|i| !family.has(*i) && people.list[*i].account_may_add_to_groups()).take(3).collect();
        assert_eq!(family.try_add(addable[0], &people), 200);
        assert_eq!(family.try_add(addable[1], &people), 419, "full: capacity is the seeded size + 2");
        assert_eq!(family.remove(addable[0]), 200);
        assert_eq!(family.remove(addable[0]), 404);
        let private = (0..100).find(|i| !people.list[*i].account_may_add_to_groups()).expect("someone private");
        let community = groups.iter_mut().find(|g| g.is_parent).unwrap();
        if !community.has(private) && !community.recently_left.contains(&private) {
            assert_eq!(community.try_add(private, &people), 403);
        }
        let left = *community.recently_left.iter().next().unwrap();
        assert_eq!(community.try_add(left, &people), 408);
    }
}
