//! `abt`: the server's A/B properties. The real server answers with the
//! set's key and hash, when to ask again, and one `<prop config_code
//! config_value>` per property; a client that sends back the hash it has
//! gets a delta (`delta_update="true"`) with nothing in it.
//! The simulator's set holds a few properties at the values clients
//! assume when a property is missing, so behaviour does not depend on it.

use sha2::{Digest, Sha256};
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

use super::{Outcome, send};
use crate::nodes::{attr, child, iq_result};

/// (config code, value): profile pictures carry the privacy token (9666),
/// privacy tokens are not limited to LID chats (15491).
const PROPS: &[(u32, &str)] = &[(9_666, "1"), (15_491, "0")];
const AB_KEY: &str = "roster-sim";
/// Seconds until the client should ask again, as the real server's day.
const REFRESH_SECS: u32 = 86_400;

pub fn handle(iq: &Node) -> Vec<Outcome> {
    let hash = hash();
    let known = child(iq, "props").and_then(|p| attr(p, "hash"));
    let mut props = NodeBuilder::new("props")
        .attr("protocol", "1")
        .attr("ab_key", AB_KEY)
        .attr("hash", hash.as_str())
        .attr("refresh", REFRESH_SECS.to_string())
        .attr("refresh_id", "1");
    if known.as_deref() == Some(hash.as_str()) {
        props = props.attr("delta_update", "true");
    } else {
        props = props.children(PROPS.iter().map(|(code, value)| {
            NodeBuilder::new("prop").attr("config_code", code.to_string()).attr("config_value", *value).build()
        }));
    }
    send(iq_result(iq, vec![props.build()]))
}

fn hash() -> String {
    let mut hasher = Sha256::new();
    for (code, value) in PROPS {
        hasher.update(format!("{code}={value};"));
    }
    hasher.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
}
