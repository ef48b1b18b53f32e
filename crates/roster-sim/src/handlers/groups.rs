//! `w:g2`: the groups the account is in (`<participating>`), one group's
//! metadata (`<query>` sent to the group's JID), adding and removing
//! participants (`<add>`, `<remove>`, answered participant by participant)
//! and the disappearing-message timer (`<ephemeral expiration>`,
//! `<not_ephemeral/>`). Changes go through `phone::groups`, which tells the
//! account's other devices.

use tracing::info;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, Node};

use super::{Ctx, Outcome, send};
use crate::groups::{Addressing, Group};
use crate::nodes::{attr, child, children, iq_error, iq_result};
use crate::phone::groups::{self as change, GroupChangeError};
use crate::state::{ConnId, World};

/// The disappearing-message timers a group accepts: 24 hours, 7 days, 90 days.
pub const GROUP_TIMERS: [u32; 3] = [86_400, 604_800, 7_776_000];

pub fn handle(ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    let mut world = ctx.world();
    if child(iq, "participating").is_some() {
        let groups = world.account.groups.iter().map(|g| group_node(&world, g));
        return send(iq_result(iq, vec![NodeBuilder::new("groups").children(groups).build()]));
    }
    let to = attr(iq, "to").unwrap_or_default();
    let gi = match change::find(&world, &to) {
        Ok(gi) => gi,
        Err(_) => return send(iq_error(iq, 404, "item-not-found")),
    };
    if child(iq, "query").is_some() {
        return send(iq_result(iq, vec![group_node(&world, &world.account.groups[gi])]));
    }
    if attr(iq, "type").as_deref() != Some("set") {
        return send(iq_error(iq, 400, "bad-request"));
    }
    let id = ctx.shared.next_id();
    // The server echoes a change to every device of the account, the one
    // that asked included (whatsmeow's `SetDisappearingTimer` notes it).
    let by: Option<ConnId> = None;
    for action in ["add", "remove"] {
        let Some(list) = child(iq, action) else { continue };
        let asked: Vec<String> = children(list, "participant").filter_map(|p| attr(p, "jid")).collect();
        if asked.is_empty() {
            return send(iq_error(iq, 400, "bad-request"));
        }
        let answers = if action == "add" {
            change::add(&mut world, gi, &asked, by, id)
        } else {
            let linked = attr(list, "linked_groups").as_deref() == Some("true");
            change::remove(&mut world, gi, &asked, linked, by, id)
        };
        return match answers {
            Ok(answers) => {
                let codes: Vec<u16> = answers.iter().map(|a| a.code).collect();
                info!(group = %to, action, ?codes, "participants changed by a companion");
                let list = NodeBuilder::new(action).children(answers.iter().map(|a| a.node())).build();
                send(iq_result(iq, vec![list]))
            }
            Err(e) => refused(iq, e),
        };
    }
    let timer = if let Some(e) = child(iq, "ephemeral") {
        // Only the timers the apps offer: whatsmeow notes that "in groups the
        // server will just reject" any other.
        match attr(e, "expiration").and_then(|s| s.parse::<u32>().ok()) {
            Some(s) if GROUP_TIMERS.contains(&s) => Some(s),
            _ => return send(iq_error(iq, 400, "bad-request")),
        }
    } else if child(iq, "not_ephemeral").is_some() {
        None
    } else {
        return send(iq_error(iq, 501, "feature-not-implemented"));
    };
    match change::set_timer(&mut world, gi, timer, by, id) {
        Ok(()) => {
            info!(group = %to, ?timer, "group timer changed by a companion");
            send(iq_result(iq, Vec::new()))
        }
        Err(e) => refused(iq, e),
    }
}

fn refused(iq: &Node, e: GroupChangeError) -> Vec<Outcome> {
    match e {
        GroupChangeError::UnknownGroup(_) => send(iq_error(iq, 404, "item-not-found")),
        GroupChangeError::NotAuthorized => send(iq_error(iq, 401, "not-authorized")),
    }
}

/// One group's metadata, as `<query>` and `<participating>` carry it.
pub fn group_node(world: &World, group: &Group) -> Node {
    let account = &world.account;
    let mut me = participant(group.addressing, &account.phone, &account.lid);
    if let Some(role) = group.account_role.attr() {
        me = me.attr("type", role);
    }
    let members = group.members.iter().filter_map(|&i| account.people.list.get(i).map(|p| (i, p))).map(|(i, p)| {
        let b = participant(group.addressing, &p.phone, &p.lid);
        if group.admins.contains(&i) { b.attr("type", "admin") } else { b }
    });
    let creator = if group.account_role == crate::groups::Role::Superadmin {
        Jid::pn(account.phone.as_str())
    } else {
        group
            .admins
            .iter()
            .next()
            .and_then(|&i| account.people.list.get(i))
            .map_or_else(|| Jid::pn(account.phone.as_str()), |p| p.pn_jid())
    };
    let mut flags = Vec::new();
    if group.locked {
        flags.push(NodeBuilder::new("locked").build());
    }
    if group.announcement {
        flags.push(NodeBuilder::new("announcement").build());
    }
    if group.ephemeral > 0 {
        flags.push(NodeBuilder::new("ephemeral").attr("expiration", group.ephemeral.to_string()).build());
    }
    if group.is_parent {
        flags.push(NodeBuilder::new("parent").build());
    }
    if let Some(parent) = &group.linked_parent {
        flags.push(NodeBuilder::new("linked_parent").attr("jid", Jid::group(parent.as_str())).build());
    }
    if group.default_sub_group {
        flags.push(NodeBuilder::new("default_sub_group").build());
    }
    NodeBuilder::new("group")
        .attr("id", group.id.as_str())
        .attr("subject", group.subject.as_str())
        .attr("s_t", group.created.to_string())
        .attr("creation", group.created.to_string())
        .attr("creator", creator)
        .attr("addressing_mode", group.addressing.as_str())
        .attr("size", group.size().to_string())
        .children(std::iter::once(me.build()).chain(members.map(NodeBuilder::build)).chain(flags))
        .build()
}

fn participant(addressing: Addressing, phone: &str, lid: &str) -> NodeBuilder {
    let (pn, lid) = (Jid::pn(phone), Jid::lid(lid));
    match addressing {
        Addressing::Lid => NodeBuilder::new("participant").attr("jid", lid).attr("phone_number", pn),
        Addressing::Pn => NodeBuilder::new("participant").attr("jid", pn).attr("lid", lid),
    }
}
