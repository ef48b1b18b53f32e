//! `privacy`: the account's privacy settings (defaults: everyone).

use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

use super::{Outcome, send};
use crate::nodes::iq_result;

const DEFAULTS: &[(&str, &str)] = &[
    ("last", "all"),
    ("online", "all"),
    ("profile", "all"),
    ("status", "all"),
    ("readreceipts", "all"),
    ("groupadd", "all"),
];

pub fn handle(iq: &Node) -> Vec<Outcome> {
    let categories = DEFAULTS
        .iter()
        .map(|(name, value)| NodeBuilder::new("category").attr("name", *name).attr("value", *value).build());
    send(iq_result(iq, vec![NodeBuilder::new("privacy").children(categories).build()]))
}
