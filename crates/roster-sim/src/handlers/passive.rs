//! `passive`: the client becomes active; the server then ends the (empty) offline queue.

use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

use super::Outcome;
use crate::nodes::iq_result;

pub fn handle(iq: &Node) -> Vec<Outcome> {
    let offline = NodeBuilder::new("ib").children([NodeBuilder::new("offline").attr("count", "0").build()]).build();
    vec![Outcome::Send(iq_result(iq, Vec::new())), Outcome::Send(offline)]
}
