//! The world report: the whole simulated world as `GET /admin/world`
//! serves it and [`SimHandle::world`](crate::SimHandle::world) returns it,
//! typed, for tests to state their expectations from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::appstate::{CRITICAL_BLOCK, CRITICAL_UNBLOCK_LOW};
use crate::chats::{Chat, ChatKind};
use crate::deliveries::Delivery;
use crate::groups::{Addressing, Role};
use crate::lobby::AccountNo;
use crate::people::Person;
use crate::phone::blocklist::dhash;
use crate::shared::Shared;
use crate::state::{BlocklistRequest, World};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct WorldReport {
    /// The phone's own account and its linked devices.
    pub account: AccountReport,
    /// The groups the account is in.
    pub groups: Vec<GroupReport>,
    /// The phone's chat list (newest first), as its history sync hands it
    /// to a new companion.
    pub chats: Vec<ChatReport>,
    /// Everyone else on the simulated WhatsApp.
    pub people: Vec<PersonReport>,
    /// Valid-looking numbers that are not on WhatsApp.
    pub unregistered: Vec<String>,
    /// Who the account has blocked, in LID order.
    pub blocklist: Vec<BlockedReport>,
    /// The blocklist's hash, as blocklist replies carry it.
    pub blocklist_dhash: String,
    /// Every block or unblock a companion asked for, in order.
    pub blocklist_requests: Vec<BlocklistRequest>,
    /// Every copy of every message companions sent, in order: who read it,
    /// what it said, or why it could not be read.
    pub deliveries: Vec<Delivery>,
    /// Picture downloads refused (403) because their URL had expired.
    pub expired_picture_hits: u64,
    /// The app-state collections' versions.
    pub collections: CollectionVersions,
    /// Chat WebSockets accepted so far.
    pub connections_opened: u64,
    /// Chat connections open now.
    pub live_connections: usize,
    /// Connections whose Noise handshake did not complete.
    pub handshakes_failed: u64,
    /// Connections refused (503) by outages.
    pub refused_connections: u64,
    /// Client IQs received, by namespace.
    pub iq_counts: BTreeMap<String, u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AccountReport {
    /// Digits only, with the country code.
    pub phone: String,
    pub lid: String,
    pub push_name: String,
    /// The linked companion devices' ids.
    pub devices: Vec<u16>,
    /// QR refs offered to registering companions and not yet scanned (by
    /// any account's phone: a registering companion belongs to none yet).
    pub pending_refs: usize,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PersonReport {
    pub phone: String,
    pub lid: String,
    pub push_name: String,
    /// The name the phone's address book saves them under.
    pub saved_name: Option<String>,
    pub about: String,
    pub about_set_at: u64,
    /// Whether the account may see the about text.
    pub about_visible: bool,
    /// `None`: no profile picture.
    pub picture_id: Option<u64>,
    /// Whether the account may see the picture.
    pub picture_visible: bool,
    /// Whether the phone knows their number and LID (address book or a 1:1
    /// chat): its history sync gives a new companion their pair and push name.
    pub known_to_phone: bool,
    /// Their "who can add me to groups" setting lets the account add them
    /// (everyone, or their contacts and they saved the account's number).
    pub addable_to_groups: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BlockedReport {
    pub lid: String,
    /// `None` when the LID is nobody the world knows.
    pub phone: Option<String>,
    /// When they were blocked (Unix seconds).
    pub t: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct GroupReport {
    /// `…@g.us`.
    pub jid: String,
    pub subject: String,
    pub addressing_mode: Addressing,
    /// Members other than the account itself.
    pub members: Vec<MemberReport>,
    /// The account's own role.
    pub account_role: Role,
    /// Only admins may change settings (`<locked/>`).
    pub locked: bool,
    /// Only admins may write (`<announcement/>`).
    pub announcement: bool,
    /// The disappearing-message timer in seconds; 0: off.
    pub ephemeral_expiration: u32,
    /// A community's parent group.
    pub is_community: bool,
    /// For a community: its linked groups' JIDs.
    pub linked_groups: Vec<String>,
    /// For a linked group: its community's JID.
    pub linked_parent: Option<String>,
    /// The community's announcement group.
    pub default_sub_group: bool,
    /// Participants, the account included (the metadata's `size`).
    pub size: usize,
    /// Numbers of people who left lately (the server refuses to add them
    /// back yet: 408).
    pub recently_left: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ChatReport {
    /// `<number>@s.whatsapp.net` for a 1:1 chat, `…@g.us` for a group.
    pub jid: String,
    pub kind: ChatKind,
    /// The disappearing-message timer in seconds; 0: off.
    pub ephemeral_expiration: u32,
    /// When the timer was last set (Unix seconds), if the phone says.
    pub ephemeral_set_at: Option<u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct MemberReport {
    pub phone: String,
    pub lid: String,
    /// An admin of the group.
    pub admin: bool,
    /// Their "who can add me to groups" setting lets the account add them.
    pub addable: bool,
}

/// The version of each app-state collection (0: no patch yet).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CollectionVersions {
    pub critical_block: u64,
    pub critical_unblock_low: u64,
    pub regular_low: u64,
    pub regular_high: u64,
    pub regular: u64,
}

impl WorldReport {
    /// Account `n`'s world now (one lock of the world; the server's
    /// counters read beside it).
    pub fn of(shared: &Shared, n: AccountNo) -> WorldReport {
        let pending_refs = shared.lobby().refs_offered();
        let world = &*shared.world_of(n);
        let account = &world.account;
        let version = |name| account.collections.version(name);
        WorldReport {
            account: AccountReport::of(world, pending_refs),
            groups: account.groups.iter().map(|g| GroupReport::of(world, g)).collect(),
            chats: account.chats.iter().map(ChatReport::of).collect(),
            people: account.people.list.iter().map(|p| PersonReport::of(p, account.knows(p))).collect(),
            unregistered: account.people.unregistered.clone(),
            blocklist: account
                .blocklist
                .iter()
                .map(|(lid, t)| BlockedReport {
                    lid: lid.clone(),
                    phone: account.people.by_lid(lid).map(|p| p.phone.clone()),
                    t: *t,
                })
                .collect(),
            blocklist_dhash: dhash(world),
            blocklist_requests: account.blocklist_requests.clone(),
            deliveries: account.deliveries.clone(),
            expired_picture_hits: shared.counters.expired_picture_hits.get(),
            collections: CollectionVersions {
                critical_block: version(CRITICAL_BLOCK),
                critical_unblock_low: version(CRITICAL_UNBLOCK_LOW),
                regular_low: version("regular_low"),
                regular_high: version("regular_high"),
                regular: version("regular"),
            },
            connections_opened: shared.counters.connections_opened.get(),
            live_connections: world.connections.len(),
            handshakes_failed: shared.counters.handshakes_failed.get(),
            refused_connections: shared.counters.refused_connections.get(),
            iq_counts: shared.counters.iq_counts(),
        }
    }
}

impl AccountReport {
    /// `pending_refs`: the QR refs any phone could scan now.
    fn of(world: &World, pending_refs: usize) -> AccountReport {
        let account = &world.account;
        AccountReport {
            phone: account.phone.clone(),
            lid: account.lid.clone(),
            push_name: account.push_name.clone(),
            devices: account.devices.keys().copied().collect(),
            pending_refs,
        }
    }
}

impl PersonReport {
    fn of(p: &Person, known_to_phone: bool) -> PersonReport {
        PersonReport {
            phone: p.phone.clone(),
            lid: p.lid.clone(),
            push_name: p.push_name.clone(),
            saved_name: p.saved_name.clone(),
            about: p.about.clone(),
            about_set_at: p.about_set_at,
            about_visible: p.about_visible(),
            picture_id: p.picture_id,
            picture_visible: p.picture_visible(),
            known_to_phone,
            addable_to_groups: p.account_may_add_to_groups(),
        }
    }
}

impl ChatReport {
    fn of(chat: &Chat) -> ChatReport {
        ChatReport {
            jid: chat.jid.clone(),
            kind: chat.kind,
            ephemeral_expiration: chat.timer(),
            ephemeral_set_at: chat.ephemeral_set_at,
        }
    }
}

impl GroupReport {
    fn of(world: &World, group: &crate::groups::Group) -> GroupReport {
        let people = &world.account.people;
        GroupReport {
            jid: group.jid(),
            subject: group.subject.clone(),
            addressing_mode: group.addressing,
            members: group
                .members
                .iter()
                .filter_map(|&i| people.list.get(i).map(|p| (i, p)))
                .map(|(i, p)| MemberReport {
                    phone: p.phone.clone(),
                    lid: p.lid.clone(),
                    admin: group.admins.contains(&i),
                    addable: p.account_may_add_to_groups(),
                })
                .collect(),
            account_role: group.account_role,
            locked: group.locked,
            announcement: group.announcement,
            ephemeral_expiration: group.ephemeral,
            is_community: group.is_parent,
            linked_groups: world
                .account
                .groups
                .iter()
                .filter(|g| group.is_parent && g.linked_parent.as_ref() == Some(&group.id))
                .map(|g| g.jid())
                .collect(),
            linked_parent: group.linked_parent.as_ref().map(|id| format!("{id}@g.us")),
            default_sub_group: group.default_sub_group,
            size: group.size(),
            recently_left: group
                .recently_left
                .iter()
                .filter_map(|&i| people.list.get(i))
                .map(|p| p.phone.clone())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn report() -> WorldReport {
        let shared = Shared::new(3, 1, 30, Duration::from_secs(60), None).unwrap();
        shared.counters.count_iq("usync");
        {
            let mut world = shared.world_of(1);
            let lid = world.account.people.list[2].lid.clone();
            crate::phone::blocklist::request(&mut world, &lid, "block");
        }
        WorldReport::of(&shared, 1)
    }

    #[test]
    fn round_trips_through_json() {
        let report = report();
        let json = serde_json::to_value(&report).unwrap();
        let back: WorldReport = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, report);
        assert_eq!(serde_json::to_value(&back).unwrap(), json);
        assert_eq!(report.people.len(), 30);
        assert_eq!(report.iq_counts["usync"], 1);
        assert_eq!(report.blocklist_requests.len(), 1);
    }

    /// The JSON `GET /admin/world` has always served: its keys and types.
    #[test]
    fn serves_the_same_json_shape() {
        let json = serde_json::to_value(report()).unwrap();
        let keys = |v: &serde_json::Value| {
            let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys.join(",")
        };
        assert_eq!(
            keys(&json),
            "account,blocklist,blocklist_dhash,blocklist_requests,chats,collections,connections_opened,deliveries,\
             expired_picture_hits,groups,handshakes_failed,iq_counts,live_connections,people,\
             refused_connections,unregistered"
        );
        assert_eq!(keys(&json["account"]), "devices,lid,pending_refs,phone,push_name");
        assert_eq!(
            keys(&json["people"][0]),
            "about,about_set_at,about_visible,addable_to_groups,known_to_phone,lid,phone,picture_id,picture_visible,\
             push_name,saved_name"
        );
        assert_eq!(keys(&json["blocklist"][0]), "lid,phone,t");
        assert_eq!(keys(&json["blocklist_requests"][0]), "action,changed,lid");
        assert_eq!(
            keys(&json["groups"][0]),
            "account_role,addressing_mode,announcement,default_sub_group,ephemeral_expiration,is_community,jid,\
             linked_groups,linked_parent,locked,members,recently_left,size,subject"
        );
        assert_eq!(keys(&json["groups"][0]["members"][0]), "addable,admin,lid,phone");
        assert_eq!(keys(&json["chats"][0]), "ephemeral_expiration,ephemeral_set_at,jid,kind");
        assert!(json["chats"].as_array().unwrap().iter().any(|c| c["kind"] == "group"));
        assert_eq!(keys(&json["collections"]), "critical_block,critical_unblock_low,regular,regular_high,regular_low");
        assert!(json["groups"].as_array().unwrap().iter().any(|g| g["addressing_mode"] == "pn"));
        assert!(json["people"].as_array().unwrap().iter().any(|p| p["picture_id"].is_null()));
    }
}
