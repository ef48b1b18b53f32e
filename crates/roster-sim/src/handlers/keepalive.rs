//! `w:p`: keepalive pings.

use wacore_binary::Node;

use super::{Outcome, send};
use crate::nodes::iq_result;

pub fn handle(iq: &Node) -> Vec<Outcome> {
    send(iq_result(iq, Vec::new()))
}
