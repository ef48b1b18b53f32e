//! `w:sync:app:state`: serves the account's app-state patches.

use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

use super::{Ctx, Outcome, send};
use crate::nodes::{attr, child, children, iq_result};

/// Patches per collection per reply; the client asks again for the rest.
const MAX_PATCHES_PER_REPLY: usize = 16;

pub fn handle(ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    let world = ctx.world();
    let requested = child(iq, "sync").into_iter().flat_map(|s| children(s, "collection"));
    let mut answers = Vec::new();
    for collection in requested {
        let Some(name) = attr(collection, "name") else { continue };
        let have: u64 = attr(collection, "version").and_then(|v| v.parse().ok()).unwrap_or(0);
        let latest = world.account.collections.version(&name);
        let mut patches = world.account.collections.patches_after(&name, have);
        let more = patches.len() > MAX_PATCHES_PER_REPLY;
        patches.truncate(MAX_PATCHES_PER_REPLY);
        let reply_version = patches.last().map_or(latest, |(v, _)| *v);
        let mut node = NodeBuilder::new_dynamic("collection".into()).attr("name", name);
        if reply_version > 0 {
            node = node.attr("version", reply_version.to_string());
        }
        if more {
            node = node.attr("has_more_patches", "true");
        }
        if !patches.is_empty() {
            let patches = patches.into_iter().map(|(_, p)| NodeBuilder::new("patch").bytes(p).build());
            node = node.children([NodeBuilder::new("patches").children(patches).build()]);
        }
        answers.push(node.build());
    }
    send(iq_result(iq, vec![NodeBuilder::new("sync").children(answers).build()]))
}
