//! Client receipts. The server acks each; a receipt for the phone's key
//! share or history sync marks it delivered, so it is not queued again.

use tracing::debug;
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

use super::{Ctx, Outcome, send};
use crate::nodes::{attr, server_jid};
use crate::phone::{history_sync, key_share};

pub fn handle(ctx: &mut Ctx, receipt: &Node) -> Vec<Outcome> {
    let Some(id) = attr(receipt, "id") else { return Vec::new() };
    if let Some(device) = ctx.device {
        let mut world = ctx.world();
        if key_share::receipted(&mut world, device, &id) {
            debug!(device, "app-state key share receipted");
        } else {
            history_sync::receipted(&mut world, device, &id);
        }
    }
    let mut ack = NodeBuilder::new("ack").attr("id", id).attr("class", "receipt").attr("from", server_jid());
    if let Some(kind) = attr(receipt, "type") {
        ack = ack.attr("type", kind);
    }
    send(ack.build())
}
