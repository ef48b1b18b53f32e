//! `encrypt`: prekey uploads, rotations and digest checks. Accepted as is;
//! the phone opens its sessions from the registration bundle instead.

use wacore_binary::Node;

use super::{Outcome, send};
use crate::nodes::iq_result;

pub fn handle(iq: &Node) -> Vec<Outcome> {
    // A bare result to a digest query is skipped by the client; a 404 would force a re-upload.
    send(iq_result(iq, Vec::new()))
}
