//! `abt`: server-side A/B properties. The simulator has none.

use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

use super::{Outcome, send};
use crate::nodes::iq_result;

pub fn handle(iq: &Node) -> Vec<Outcome> {
    send(iq_result(iq, vec![NodeBuilder::new("props").attr("protocol", "1").build()]))
}
