//! `blocklist`: the account's blocked contacts. Every reply carries the
//! whole list with its hash, as the real server's `<list dhash>` does.

use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

use super::{Ctx, Outcome, send};
use crate::nodes::iq_result;

pub fn handle(_ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    let list = NodeBuilder::new("list").attr("dhash", "2:0").build();
    send(iq_result(iq, vec![list]))
}
