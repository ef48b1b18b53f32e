//! `w:g2`: the groups the account is in (`<participating>`) and one group's
//! metadata (`<query>` sent to the group's JID).

use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, Node};

use super::{Ctx, Outcome, send};
use crate::groups::{Addressing, Group};
use crate::nodes::{attr, child, iq_error, iq_result};
use crate::state::World;

pub fn handle(ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    let world = ctx.shared.world();
    if child(iq, "participating").is_some() {
        let groups = world.account.groups.iter().map(|g| group_node(&world, g));
        return send(iq_result(iq, vec![NodeBuilder::new("groups").children(groups).build()]));
    }
    if child(iq, "query").is_some() {
        let to = attr(iq, "to").unwrap_or_default();
        let id = to.strip_suffix("@g.us").unwrap_or_default();
        return match world.account.groups.iter().find(|g| g.id == id) {
            Some(g) => send(iq_result(iq, vec![group_node(&world, g)])),
            None => send(iq_error(iq, 404, "item-not-found")),
        };
    }
    send(iq_error(iq, 501, "feature-not-implemented"))
}

fn group_node(world: &World, group: &Group) -> Node {
    let account = &world.account;
    let me = participant(group.addressing, &account.phone, &account.lid).attr("type", "superadmin").build();
    let members = group
        .members
        .iter()
        .filter_map(|&i| account.people.list.get(i))
        .map(|p| participant(group.addressing, &p.phone, &p.lid).build());
    NodeBuilder::new("group")
        .attr("id", group.id.as_str())
        .attr("subject", group.subject.as_str())
        .attr("s_t", group.created.to_string())
        .attr("creation", group.created.to_string())
        .attr("creator", Jid::pn(account.phone.as_str()))
        .attr("addressing_mode", group.addressing.as_str())
        .attr("size", (group.members.len() + 1).to_string())
        .children(std::iter::once(me).chain(members))
        .build()
}

fn participant(addressing: Addressing, phone: &str, lid: &str) -> NodeBuilder {
    let (pn, lid) = (Jid::pn(phone), Jid::lid(lid));
    match addressing {
        Addressing::Lid => NodeBuilder::new("participant").attr("jid", lid).attr("phone_number", pn),
        Addressing::Pn => NodeBuilder::new("participant").attr("jid", pn).attr("lid", lid),
    }
}
