//! `md` (multi-device): pairing by QR and device removal.

use tracing::{info, warn};
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, Node};

use super::{Ctx, Outcome, send};
use crate::nodes::{SERVER, attr, bytes, child, iq_result, stream_error, unix_now};
use crate::phone::{self, ScanError};
use crate::state::{Device, Push, Scanned, Shared};

/// The phone scans a QR code: it signs the companion in and tells its connection.
/// Returns the new device's JID.
pub fn scan(shared: &Shared, qr: &str) -> Result<String, ScanError> {
    let scanned = phone::parse_qr(qr)?;
    let mut world = shared.world();
    let pending =
        world.pending.get(&scanned.pairing_ref).ok_or_else(|| ScanError::UnknownRef(scanned.pairing_ref.clone()))?;
    if pending.registration.noise_key != scanned.noise_key {
        return Err(ScanError::NoiseMismatch);
    }
    if pending.registration.identity != scanned.identity {
        return Err(ScanError::IdentityMismatch);
    }
    let conn = pending.conn;
    let registration = pending.registration.clone();
    world.pending.retain(|_, p| p.conn != conn);

    let key_index = world.account.next_key_index;
    world.account.next_key_index += 1;
    let device_id = key_index as u16;
    let mut rng: rand::rngs::StdRng = rand::make_rng();
    let container = phone::sign_device_identity(
        &world.account,
        key_index,
        &scanned.identity,
        &scanned.adv_secret,
        unix_now(),
        &mut rng,
    );
    let device_jid = Jid::pn_device(world.account.phone.as_str(), device_id).to_string();
    let device_lid = Jid::lid_device(world.account.lid.as_str(), device_id).to_string();
    let iq = NodeBuilder::new("iq")
        .attr("from", SERVER)
        .attr("type", "set")
        .attr("id", format!("ps-{}", shared.next_id()))
        .attr("xmlns", "md")
        .attr("t", unix_now().to_string())
        .children([NodeBuilder::new("pair-success")
            .children([
                NodeBuilder::new("device-identity").bytes(container).build(),
                NodeBuilder::new("device").attr("jid", device_jid.clone()).attr("lid", device_lid).build(),
                NodeBuilder::new("platform").attr("name", "android").build(),
            ])
            .build()])
        .build();
    world.scanned.insert(conn, Scanned { device_id, key_index, registration });
    if !world.push(conn, Push::Node(iq)) {
        world.scanned.remove(&conn);
        return Err(ScanError::UnknownRef(scanned.pairing_ref));
    }
    info!(device = device_id, "phone scanned the QR code");
    Ok(device_jid)
}

/// Client replies to server IQs. The one that matters is `pair-device-sign`.
pub fn on_client_reply(ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    if let Some(error) = child(iq, "error") {
        warn!(code = ?attr(error, "code"), text = ?attr(error, "text"), "client refused a server IQ");
        return Vec::new();
    }
    let Some(signed) = child(iq, "pair-device-sign").and_then(|s| child(s, "device-identity")).and_then(bytes) else {
        return Vec::new();
    };
    let mut world = ctx.shared.world();
    let Some(scanned) = world.scanned.remove(&ctx.conn) else {
        warn!("pair-device-sign from a connection that was not scanned");
        return Vec::new();
    };
    if let Err(e) = phone::verify_device_signature(&world.account, &scanned.registration.identity, signed) {
        warn!("pairing rejected: {e}");
        return vec![Outcome::Close(Some(stream_error("401", None)))];
    }
    world.account.devices.insert(
        scanned.device_id,
        Device {
            id: scanned.device_id,
            key_index: scanned.key_index,
            registration: scanned.registration,
            keys_shared: false,
            key_share_id: None,
        },
    );
    world.save_devices();
    info!(device = scanned.device_id, "companion linked; asking it to restart");
    vec![Outcome::Close(Some(stream_error("515", None)))]
}

pub fn handle(ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    if let Some(remove) = child(iq, "remove-companion-device") {
        let jid = attr(remove, "jid").and_then(|j| j.parse::<Jid>().ok());
        let device = jid.map(|j| j.device).filter(|d| *d != 0).or(ctx.device);
        if let Some(device) = device {
            let mut world = ctx.shared.world();
            world.account.devices.remove(&device);
            world.save_devices();
            info!(device, reason = ?attr(remove, "reason"), "companion unlinked itself");
        }
        return send(iq_result(iq, Vec::new()));
    }
    send(iq_result(iq, Vec::new()))
}

/// The phone unlinks companions (all when `device` is `None`); their
/// connections are told and closed. Returns the removed device ids.
pub fn remove_devices(shared: &Shared, device: Option<u16>) -> Vec<u16> {
    let mut world = shared.world();
    let removed: Vec<u16> =
        world.account.devices.keys().copied().filter(|d| device.is_none_or(|wanted| wanted == *d)).collect();
    for id in &removed {
        world.account.devices.remove(id);
        for conn in world.connections_of(*id) {
            world.push(conn, Push::Close(Some(stream_error("401", Some("device_removed")))));
        }
    }
    world.save_devices();
    info!(?removed, "phone removed linked devices");
    removed
}
