//! The account's blocklist, by LID: a companion's block and unblock
//! requests, the phone's own changes, the list's hash (`dhash`), and the
//! `account_sync` push that tells the other linked devices of each change.

use std::collections::btree_map::Entry;

use sha2::{Digest, Sha256};
use tracing::info;
use wacore_binary::Jid;
use wacore_binary::builder::NodeBuilder;

use crate::nodes::{notification, unix_now};
use crate::state::{BlocklistRequest, ConnId, World};

/// A companion asks to `block` or `unblock` someone; the request is logged.
/// Returns whether the list changed (a repeat changes nothing: the first
/// block time stays), or `None` for another action.
pub fn request(world: &mut World, lid: &str, action: &str) -> Option<bool> {
    let changed = match action {
        "block" => match world.account.blocklist.entry(lid.to_owned()) {
            Entry::Vacant(slot) => {
                slot.insert(unix_now());
                true
            }
            Entry::Occupied(_) => false,
        },
        "unblock" => world.account.blocklist.remove(lid).is_some(),
        _ => return None,
    };
    world.account.blocklist_requests.push(BlocklistRequest { lid: lid.to_owned(), action: action.to_owned(), changed });
    Some(changed)
}

/// The phone blocks or unblocks someone: every linked device is told.
pub fn set_on_phone(world: &mut World, lid: &str, block: bool, id: u64) {
    if block {
        world.account.blocklist.insert(lid.to_owned(), unix_now());
    } else {
        world.account.blocklist.remove(lid);
    }
    let action = if block { "block" } else { "unblock" };
    info!(%lid, action, total = world.account.blocklist.len(), "blocklist changed on the phone");
    announce(world, &[(lid.to_owned(), action.to_owned())], None, id);
}

/// The list's hash, as every blocklist reply and push carries it.
pub fn dhash(world: &World) -> String {
    let mut hasher = Sha256::new();
    for lid in world.account.blocklist.keys() {
        hasher.update(lid.as_bytes());
        hasher.update(b",");
    }
    let digest = hasher.finalize();
    format!("2:{}", digest[..8].iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Pushes `changes` (LID, action) to the logged-in devices but `except`.
pub fn announce(world: &World, changes: &[(String, String)], except: Option<ConnId>, id: u64) {
    let items = changes.iter().map(|(lid, action)| {
        NodeBuilder::new("item").attr("jid", Jid::lid(lid.as_str())).attr("action", action.as_str()).build()
    });
    let blocklist =
        NodeBuilder::new("blocklist").attr("dhash", dhash(world)).attr("action", "modify").children(items).build();
    let node = notification("account_sync", Jid::pn(world.account.phone.as_str()), id, vec![blocklist]);
    world.push_to_devices(&node, except);
}
