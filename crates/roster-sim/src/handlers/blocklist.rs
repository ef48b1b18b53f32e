//! `blocklist`: the account's blocked users, by LID. Every reply carries the
//! whole list with its hash (`<list dhash>`), as the real server's does, and
//! each change is pushed to the account's other devices as `account_sync`.

use sha2::{Digest, Sha256};
use tracing::info;
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

use super::{Ctx, Outcome, send};
use crate::nodes::{attr, children, iq_error, iq_result, unix_now};
use crate::state::{BlocklistRequest, ConnId, Push, World};

pub fn handle(ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    if attr(iq, "type").as_deref() != Some("set") {
        return send(iq_result(iq, vec![list(&ctx.shared.world())]));
    }
    let mut world = ctx.shared.world();
    let mut changes = Vec::new();
    for item in children(iq, "item") {
        let (Some(jid), Some(action)) = (attr(item, "jid"), attr(item, "action")) else {
            return send(iq_error(iq, 400, "bad-request"));
        };
        let user = jid.split('@').next().unwrap_or_default().split(':').next().unwrap_or_default();
        let Some(lid) = world.account.people.find(user).map(|p| p.lid.clone()) else {
            return send(iq_error(iq, 404, "item-not-found"));
        };
        // Repeating a block or an unblock changes nothing (the first block time stays).
        let changed = match action.as_str() {
            "block" => match world.account.blocklist.entry(lid.clone()) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(unix_now());
                    true
                }
                std::collections::btree_map::Entry::Occupied(_) => false,
            },
            "unblock" => world.account.blocklist.remove(&lid).is_some(),
            _ => return send(iq_error(iq, 400, "bad-request")),
        };
        world.account.blocklist_requests.push(BlocklistRequest { lid: lid.clone(), action: action.clone(), changed });
        changes.push((lid, action));
    }
    info!(?changes, total = world.account.blocklist.len(), "blocklist changed by a companion");
    notify(&world, &changes, Some(ctx.conn));
    send(iq_result(iq, vec![list(&world)]))
}

/// The phone blocks or unblocks someone: tell every linked device.
pub fn phone_update(world: &mut World, lid: &str, block: bool) {
    if block {
        world.account.blocklist.insert(lid.to_owned(), unix_now());
    } else {
        world.account.blocklist.remove(lid);
    }
    let action = if block { "block" } else { "unblock" };
    info!(%lid, action, total = world.account.blocklist.len(), "blocklist changed on the phone");
    notify(world, &[(lid.to_owned(), action.to_owned())], None);
}

pub fn dhash(world: &World) -> String {
    let mut hasher = Sha256::new();
    for lid in world.account.blocklist.keys() {
        hasher.update(lid.as_bytes());
        hasher.update(b",");
    }
    let digest = hasher.finalize();
    format!("2:{}", digest[..8].iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn list(world: &World) -> Node {
    let items =
        world.account.blocklist.iter().map(|(lid, t)| {
            NodeBuilder::new("item").attr("jid", format!("{lid}@lid")).attr("t", t.to_string()).build()
        });
    NodeBuilder::new("list").attr("dhash", dhash(world)).children(items).build()
}

fn notify(world: &World, changes: &[(String, String)], except: Option<ConnId>) {
    let items = changes.iter().map(|(lid, action)| {
        NodeBuilder::new("item").attr("jid", format!("{lid}@lid")).attr("action", action.as_str()).build()
    });
    let node = NodeBuilder::new("notification")
        .attr("type", "account_sync")
        .attr("from", format!("{}@s.whatsapp.net", world.account.phone))
        .attr("id", format!("bl-{}", unix_now()))
        .attr("t", unix_now().to_string())
        .children([NodeBuilder::new("blocklist")
            .attr("dhash", dhash(world))
            .attr("action", "modify")
            .children(items)
            .build()])
        .build();
    for conn in world.logged_in.keys().filter(|c| Some(**c) != except) {
        world.push(*conn, Push::Node(node.clone()));
    }
}
