//! `usync`: user queries (devices, contacts, LIDs). Users left out of the
//! answer mean "unchanged" to the client.

use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

use super::{Ctx, Outcome, send};
use crate::nodes::{attr, child, iq_result};

pub fn handle(_ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    let mut usync = NodeBuilder::new("usync");
    if let Some(query) = child(iq, "usync") {
        for key in ["sid", "mode", "context", "index", "last"] {
            if let Some(value) = attr(query, key) {
                usync = usync.attr(key, value);
            }
        }
    }
    let usync = usync.children([NodeBuilder::new("list").build()]).build();
    send(iq_result(iq, vec![usync]))
}
