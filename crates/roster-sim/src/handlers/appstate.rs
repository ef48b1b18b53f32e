//! `w:sync:app:state`: serves the account's app-state patches.

use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

use super::{Ctx, Outcome, send};
use crate::nodes::{attr, child, children, iq_result};

pub fn handle(ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    let world = ctx.shared.world();
    let requested = child(iq, "sync").into_iter().flat_map(|s| children(s, "collection"));
    let mut answers = Vec::new();
    for collection in requested {
        let Some(name) = attr(collection, "name") else { continue };
        let have: u64 = attr(collection, "version").and_then(|v| v.parse().ok()).unwrap_or(0);
        let latest = world.account.collections.version(&name);
        let patches = world.account.collections.patches_after(&name, have);
        let mut node = NodeBuilder::new_dynamic("collection".into()).attr("name", name);
        if latest > 0 {
            node = node.attr("version", latest.to_string());
        }
        if !patches.is_empty() {
            let patches = patches.into_iter().map(|(_, p)| NodeBuilder::new("patch").bytes(p).build());
            node = node.children([NodeBuilder::new("patches").children(patches).build()]);
        }
        answers.push(node.build());
    }
    send(iq_result(iq, vec![NodeBuilder::new("sync").children(answers).build()]))
}
