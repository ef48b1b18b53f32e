//! `usync`: user queries — contact (is on WhatsApp), lid, status (about),
//! picture, devices — for other people and for the account's own number.

use std::collections::HashSet;

use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, Node};

use super::{Ctx, Outcome, send};
use crate::nodes::{attr, child, children, error_child, iq_error_backoff, iq_result, text, unix_now};
use crate::people::Person;
use crate::phone::devices::signed_key_index_list;
use crate::state::World;

pub fn handle(ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    let Some(query) = child(iq, "usync") else {
        return send(iq_result(iq, Vec::new()));
    };
    let protocols: HashSet<String> = child(query, "query")
        .and_then(|q| q.children())
        .map(|c| c.iter().map(|n| n.tag.to_string()).collect())
        .unwrap_or_default();
    // Existence checks: `contact` for numbers, `lid` + `business` for LIDs
    // (profile and device queries ask for neither).
    if protocols.contains("contact") || protocols.contains("business") {
        let asked: Vec<String> = child(query, "list")
            .into_iter()
            .flat_map(|l| children(l, "user"))
            .filter_map(|u| match asked(u)? {
                Asked::Pn(n) => Some(n),
                Asked::Lid(l) => Some(format!("{l}@lid")),
            })
            .collect();
        if let Err(backoff) = ctx.shared.limits.admit(asked) {
            return send(iq_error_backoff(iq, 429, "rate-overlimit", Some(backoff)));
        }
    }
    let world = ctx.world();
    let users: Vec<Node> = child(query, "list")
        .into_iter()
        .flat_map(|l| children(l, "user"))
        .filter_map(|user| answer(&world, &protocols, user))
        .collect();
    let mut usync = NodeBuilder::new("usync");
    for key in ["sid", "mode", "context", "index", "last"] {
        if let Some(value) = attr(query, key) {
            usync = usync.attr(key, value);
        }
    }
    let usync = usync.children([NodeBuilder::new("list").children(users).build()]).build();
    send(iq_result(iq, vec![usync]))
}

/// Who a `<user>` asks about: by `jid` (PN or LID), or by `<contact>+E164</contact>`.
enum Asked {
    Pn(String),
    Lid(String),
}

fn asked(user: &Node) -> Option<Asked> {
    if let Some(jid) = attr(user, "jid") {
        let (user_part, server) = jid.split_once('@')?;
        let bare = user_part.split(':').next()?.to_owned();
        return match server {
            "lid" => Some(Asked::Lid(bare)),
            "s.whatsapp.net" => Some(Asked::Pn(bare)),
            _ => None,
        };
    }
    let number: String = text(child(user, "contact")?)?.chars().filter(char::is_ascii_digit).collect();
    (!number.is_empty()).then_some(Asked::Pn(number))
}

fn answer(world: &World, protocols: &HashSet<String>, user: &Node) -> Option<Node> {
    let asked = asked(user)?;
    let account = &world.account;
    let own = match &asked {
        Asked::Pn(n) => *n == account.phone,
        Asked::Lid(l) => *l == account.lid,
    };
    if own {
        return Some(own_answer(world, protocols, &asked));
    }
    let person = match &asked {
        Asked::Pn(n) => account.people.by_phone(n),
        Asked::Lid(l) => account.people.by_lid(l),
    };
    let Some(person) = person else {
        // Not on WhatsApp: only a contact query gets an answer, "out".
        let Asked::Pn(number) = asked else { return None };
        if !protocols.contains("contact") {
            return None;
        }
        return Some(
            NodeBuilder::new("user")
                .attr("jid", Jid::pn(number.as_str()))
                .children([NodeBuilder::new("contact").attr("type", "out").build()])
                .build(),
        );
    };
    let mut kids = identity(&asked, protocols, person.lid_jid());
    if protocols.contains("status") {
        kids.push(status(person));
    }
    if protocols.contains("picture") {
        kids.push(picture(person));
    }
    if protocols.contains("devices") {
        let device = NodeBuilder::new("device").attr("id", "0").build();
        let list = NodeBuilder::new("device-list").children([device]).build();
        kids.push(NodeBuilder::new("devices").children([list]).build());
    }
    Some(user_node(&asked, person.pn_jid(), person.lid_jid()).children(kids).build())
}

/// The `<user>` element, named as it was asked: by PN (`jid`), or by LID
/// (`jid` plus `pn_jid`).
fn user_node(asked: &Asked, pn: Jid, lid: Jid) -> NodeBuilder {
    match asked {
        Asked::Pn(_) => NodeBuilder::new("user").attr("jid", pn),
        Asked::Lid(_) => NodeBuilder::new("user").attr("jid", lid).attr("pn_jid", pn),
    }
}

/// `<lid>` (for a PN question that asks for it) and `<contact type="in">`
/// (for existence checks: `contact` for numbers, `lid` + `business` for
/// LIDs; profile and device queries ask for neither).
fn identity(asked: &Asked, protocols: &HashSet<String>, lid: Jid) -> Vec<Node> {
    let mut kids = Vec::new();
    if matches!(asked, Asked::Pn(_)) && protocols.contains("lid") {
        kids.push(NodeBuilder::new("lid").attr("val", lid).build());
    }
    if protocols.contains("contact") || protocols.contains("business") {
        kids.push(NodeBuilder::new("contact").attr("type", "in").build());
    }
    kids
}

/// The account's own number is answered like anyone's: it is on WhatsApp,
/// has its LID, and its device list names the phone and every linked
/// companion with its key index, signed by the phone.
fn own_answer(world: &World, protocols: &HashSet<String>, asked: &Asked) -> Node {
    let account = &world.account;
    let (pn, lid) = (Jid::pn(account.phone.as_str()), Jid::lid(account.lid.as_str()));
    let mut kids = identity(asked, protocols, lid.clone());
    if protocols.contains("status") {
        kids.push(NodeBuilder::new("status").attr("t", "0").build());
    }
    if protocols.contains("picture") {
        kids.push(error_child("picture", 404, "item-not-found"));
    }
    if protocols.contains("devices") {
        let phone = NodeBuilder::new("device").attr("id", "0").build();
        let companions = account.devices.values().map(|d| {
            NodeBuilder::new("device").attr("id", d.id.to_string()).attr("key-index", d.key_index.to_string()).build()
        });
        let list = NodeBuilder::new("device-list").children(std::iter::once(phone).chain(companions)).build();
        let key_index = NodeBuilder::new("key-index-list")
            .attr("ts", unix_now().to_string())
            .bytes(signed_key_index_list(account))
            .build();
        kids.push(NodeBuilder::new("devices").children([list, key_index]).build());
    }
    user_node(asked, pn, lid).children(kids).build()
}

fn status(person: &Person) -> Node {
    if person.about_visible() {
        NodeBuilder::new("status")
            .attr("t", person.about_set_at.to_string())
            .string_content(person.about.as_str())
            .build()
    } else {
        NodeBuilder::new("status").attr("code", "401").build()
    }
}

fn picture(person: &Person) -> Node {
    match person.picture_id {
        Some(id) if person.picture_visible() => NodeBuilder::new("picture").attr("id", id.to_string()).build(),
        Some(_) => error_child("picture", 401, "not-authorized"),
        None => error_child("picture", 404, "item-not-found"),
    }
}
