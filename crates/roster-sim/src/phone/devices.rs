//! The account's linked devices, as the phone keeps them: linked after
//! pairing, unlinked by the companion itself or removed from the phone
//! (whose connections are then told and closed). Every change is saved.

use buffa::Message;
use tracing::info;
use waproto::whatsapp as wa;

use crate::lobby::AccountNo;
use crate::nodes::{stream_error, unix_now};
use crate::shared::Shared;
use crate::state::{Account, Device, Push, Scanned, World};

/// Prefix of the phone's signature over its key-index list (ADV).
const ADV_PREFIX_KEY_INDEX_LIST: &[u8] = &[6, 2];

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
            pre_keys: Default::default(),
            history_synced: false,
            history_sync_ids: Vec::new(),
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
pub fn remove(shared: &Shared, account: AccountNo, device: Option<u16>) -> Vec<u16> {
    let mut world = shared.world_of(account);
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

/// The phone's signed list of the key indexes it still trusts
/// (`ADVSignedKeyIndexList`), as the server hands it out with the
/// account's device list: a client drops a companion whose index is gone.
pub fn signed_key_index_list(account: &Account) -> Vec<u8> {
    let details = wa::ADVKeyIndexList {
        raw_id: Some(account.adv_raw_id),
        timestamp: Some(unix_now()),
        current_index: Some(account.next_key_index.saturating_sub(1)),
        valid_indexes: account.devices.values().map(|d| d.key_index).collect(),
        ..Default::default()
    }
    .encode_to_vec();
    let mut to_sign = ADV_PREFIX_KEY_INDEX_LIST.to_vec();
    to_sign.extend_from_slice(&details);
    let mut rng: rand::rngs::StdRng = rand::make_rng();
    let signature = account.identity.private_key.calculate_signature(&to_sign, &mut rng).expect("sign");
    wa::ADVSignedKeyIndexList {
        details: Some(details),
        account_signature: Some(signature.to_vec()),
        ..Default::default()
    }
    .encode_to_vec()
}
