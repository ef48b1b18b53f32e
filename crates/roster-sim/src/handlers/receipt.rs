//! Client receipts. The server acks each; a receipt for the phone's key
//! share marks it delivered, so it is not queued again.

use tracing::debug;
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

use super::{Ctx, Outcome, send};
use crate::nodes::{SERVER, attr};

pub fn handle(ctx: &mut Ctx, receipt: &Node) -> Vec<Outcome> {
    let Some(id) = attr(receipt, "id") else { return Vec::new() };
    if let Some(device) = ctx.device {
        let mut world = ctx.shared.world();
        let delivered = world.account.devices.get_mut(&device).is_some_and(|dev| {
            let matches = dev.key_share_id.as_deref() == Some(id.as_str());
            if matches {
                dev.keys_shared = true;
                dev.key_share_id = None;
            }
            matches
        });
        if delivered {
            debug!(device, "app-state key share receipted");
            world.save_devices();
        }
    }
    let mut ack = NodeBuilder::new("ack").attr("id", id).attr("class", "receipt").attr("from", SERVER);
    if let Some(kind) = attr(receipt, "type") {
        ack = ack.attr("type", kind);
    }
    send(ack.build())
}
