//! `blocklist`: the account's blocked users, by LID. Every reply carries the
//! whole list with its hash (`<list dhash>`), as the real server's does;
//! the phone tells the account's other devices of each change.

use tracing::info;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, Node};

use super::{Ctx, Outcome, send};
use crate::nodes::{attr, children, iq_error, iq_result, jid_user};
use crate::phone::blocklist::{announce, dhash, request};
use crate::state::World;

pub fn handle(ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    if attr(iq, "type").as_deref() != Some("set") {
        return send(iq_result(iq, vec![list(&ctx.world())]));
    }
    let mut world = ctx.world();
    let mut changes = Vec::new();
    for item in children(iq, "item") {
        let (Some(jid), Some(action)) = (attr(item, "jid"), attr(item, "action")) else {
            return send(iq_error(iq, 400, "bad-request"));
        };
        let Some(lid) = world.account.people.find(jid_user(&jid)).map(|p| p.lid.clone()) else {
            return send(iq_error(iq, 404, "item-not-found"));
        };
        if request(&mut world, &lid, &action).is_none() {
            return send(iq_error(iq, 400, "bad-request"));
        }
        changes.push((lid, action));
    }
    info!(?changes, total = world.account.blocklist.len(), "blocklist changed by a companion");
    announce(&world, &changes, Some(ctx.conn), ctx.shared.next_id());
    send(iq_result(iq, vec![list(&world)]))
}

fn list(world: &World) -> Node {
    let items =
        world.account.blocklist.iter().map(|(lid, t)| {
            NodeBuilder::new("item").attr("jid", Jid::lid(lid.as_str())).attr("t", t.to_string()).build()
        });
    NodeBuilder::new("list").attr("dhash", dhash(world)).children(items).build()
}
