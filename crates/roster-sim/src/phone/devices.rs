//! The account's linked devices, as the phone keeps them: linked after
//! pairing, unlinked by the companion itself or removed from the phone
//! (whose connections are then told and closed). Every change is saved.

use tracing::info;

use crate::nodes::stream_error;
use crate::shared::Shared;
use crate::state::{Device, Push, Scanned, World};

/// Links a scanned companion whose signature checked out; returns its id.
pub fn link(world: &mut World, scanned: Scanned) -> u16 {
    let id = scanned.device_id;
    world.account.devices.insert(
        id,
        Device {
            id,
            key_index: scanned.key_index,
            registration: scanned.registration,
            keys_shared: false,
            key_share_id: None,
        },
    );
    world.save_devices();
    id
}

/// A companion unlinks itself (`remove-companion-device`).
pub fn unlink(world: &mut World, device: u16) {
    world.account.devices.remove(&device);
    world.save_devices();
}

/// The phone unlinks companions (all when `device` is `None`); their
/// connections are told and closed. Returns the removed device ids.
pub fn remove(shared: &Shared, device: Option<u16>) -> Vec<u16> {
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
