//! `encrypt`: the device's key bundle as the server holds it. Uploads
//! (`set`: registration id, identity, signed pre-key, one-time pre-keys)
//! are kept per device; `<count/>` answers how many pre-keys are held and
//! `<digest/>` describes the whole bundle with a SHA-1 over it, so a client
//! that checks its keys at login finds them there and uploads nothing.
//! `<key><user jid/>…</key>` fetches other devices' bundles (a person's
//! phone, the account's own phone or companions), each with one of its
//! one-time pre-keys, as a sender needs them to open a Signal session.

use tracing::{debug, warn};
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, Node};

use super::{Ctx, Outcome, send};
use crate::nodes::{attr, bytes, child, children, iq_error, iq_result};
use crate::state::{Device, Registration, World};

pub fn handle(ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    let Some(device) = ctx.device else {
        return send(iq_error(iq, 401, "not-authorized"));
    };
    if let Some(key) = child(iq, "key") {
        let mut world = ctx.world();
        let users = children(key, "user").filter_map(|u| attr(u, "jid")?.parse::<Jid>().ok());
        let users: Vec<Node> = users.collect::<Vec<_>>().into_iter().map(|jid| bundle(&mut world, jid)).collect();
        return send(iq_result(iq, vec![NodeBuilder::new("list").children(users).build()]));
    }
    let mut world = ctx.world();
    let Some(dev) = world.account.devices.get_mut(&device) else {
        return send(iq_error(iq, 404, "item-not-found"));
    };
    if child(iq, "list").is_some() || child(iq, "skey").is_some() {
        let Some(added) = upload(dev, iq) else {
            return send(iq_error(iq, 400, "bad-request"));
        };
        debug!(device, added, held = dev.pre_keys.len(), "pre-keys uploaded");
        world.save_devices();
        return send(iq_result(iq, Vec::new()));
    }
    if child(iq, "count").is_some() {
        let count = NodeBuilder::new("count").attr("value", dev.pre_keys.len().to_string()).build();
        return send(iq_result(iq, vec![count]));
    }
    if child(iq, "digest").is_some() {
        return send(iq_result(iq, vec![digest(dev)]));
    }
    let asked = iq.children().and_then(|c| c.first()).map(|c| c.tag.to_string()).unwrap_or_default();
    warn!(%asked, "encrypt request the simulator does not implement");
    send(iq_error(iq, 501, "feature-not-implemented"))
}

/// One device's bundle for a key fetch, named as asked; `<error code=404>`
/// in its place for a device the server does not know.
fn bundle(world: &mut World, jid: Jid) -> Node {
    let account = &mut world.account;
    let user = jid.user_base().to_owned();
    if user == account.phone || user == account.lid {
        if jid.device == 0 {
            let identity = account.identity.clone();
            return account.signal.bundle(&identity, jid);
        }
        if let Some(dev) = account.devices.get_mut(&jid.device) {
            return companion_bundle(jid, dev);
        }
    } else if let Some(person) = account.people.find(&user).filter(|_| jid.device == 0) {
        let lid = person.lid.clone();
        return account.recipients.of(&lid).bundle(jid);
    }
    debug!(%jid, "key fetch for a device the server does not know");
    NodeBuilder::new("user")
        .attr("jid", jid)
        .children([NodeBuilder::new("error").attr("code", "404").attr("text", "item-not-found").build()])
        .build()
}

/// A linked companion's bundle, from what it uploaded; one of its one-time
/// pre-keys is handed out (and no longer held).
fn companion_bundle(jid: Jid, dev: &mut Device) -> Node {
    let reg = &dev.registration;
    let mut kids = vec![
        leaf("registration", reg.registration_id.to_be_bytes().to_vec()),
        leaf("type", vec![5]),
        leaf("identity", reg.identity.to_vec()),
        signed_pre_key(reg),
    ];
    if let Some((id, key)) = dev.pre_keys.pop_first() {
        kids.push(
            NodeBuilder::new("key")
                .children([leaf("id", id.to_be_bytes()[1..].to_vec()), leaf("value", key.to_vec())])
                .build(),
        );
    }
    NodeBuilder::new("user").attr("jid", jid).attr("type", "result").children(kids).build()
}

/// Stores an upload's keys; `None` when a key is malformed.
fn upload(dev: &mut Device, iq: &Node) -> Option<usize> {
    let mut keys = Vec::new();
    for key in child(iq, "list").into_iter().flat_map(|l| children(l, "key")) {
        keys.push((uint(child(key, "id")?)?, key32(child(key, "value")?)?));
    }
    let reg = &mut dev.registration;
    if let Some(skey) = child(iq, "skey") {
        reg.signed_prekey_id = uint(child(skey, "id")?)?;
        reg.signed_prekey = key32(child(skey, "value")?)?;
        reg.signed_prekey_sig = bytes(child(skey, "signature")?)?.to_vec();
    }
    if let Some(identity) = child(iq, "identity") {
        reg.identity = key32(identity)?;
    }
    if let Some(registration) = child(iq, "registration") {
        reg.registration_id = uint(registration)?;
    }
    let added = keys.len();
    dev.pre_keys.extend(keys);
    Some(added)
}

fn digest(dev: &Device) -> Node {
    let reg = &dev.registration;
    let pre_keys: Vec<&[u8]> = dev.pre_keys.values().map(|k| k.as_slice()).collect();
    let hash = wacore::prekeys::compute_key_bundle_digest(
        &reg.identity,
        &reg.signed_prekey,
        &reg.signed_prekey_sig,
        &pre_keys,
    );
    let ids = dev.pre_keys.keys().map(|id| leaf("id", id.to_be_bytes()[1..].to_vec()));
    NodeBuilder::new("digest")
        .children([
            leaf("type", vec![5]),
            leaf("registration", reg.registration_id.to_be_bytes().to_vec()),
            leaf("identity", reg.identity.to_vec()),
            signed_pre_key(reg),
            NodeBuilder::new("list").children(ids).build(),
            leaf("hash", hash),
        ])
        .build()
}

fn leaf(tag: &'static str, content: Vec<u8>) -> Node {
    NodeBuilder::new(tag).bytes(content).build()
}

/// `<skey>`: the signed pre-key's id (three bytes), key and signature.
fn signed_pre_key(reg: &Registration) -> Node {
    NodeBuilder::new("skey")
        .children([
            leaf("id", reg.signed_prekey_id.to_be_bytes()[1..].to_vec()),
            leaf("value", reg.signed_prekey.to_vec()),
            leaf("signature", reg.signed_prekey_sig.clone()),
        ])
        .build()
}

/// A big-endian unsigned integer of up to four bytes (ids are three).
fn uint(node: &Node) -> Option<u32> {
    let b = bytes(node)?;
    (!b.is_empty() && b.len() <= 4).then(|| b.iter().fold(0u32, |n, &x| n << 8 | u32::from(x)))
}

fn key32(node: &Node) -> Option<[u8; 32]> {
    bytes(node)?.try_into().ok()
}
