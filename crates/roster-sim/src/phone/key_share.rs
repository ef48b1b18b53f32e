//! The app-state key share: the phone's peer message that gives a newly
//! linked companion the key to its app-state collections, encrypted over
//! the phone's Signal session. Delivered again at each login until the
//! companion receipts it, as queued messages are.

use buffa::Message;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, Node};
use waproto::whatsapp as wa;

use crate::lobby::AccountNo;
use crate::nodes::unix_now;
use crate::shared::Shared;
use crate::state::{Account, Registration, World};

/// The phone's peer message that gives a new companion the app-state key.
pub async fn message(
    shared: &Shared,
    account_no: AccountNo,
    device: u16,
    registration: &Registration,
) -> anyhow::Result<Node> {
    let (identity, plaintext, mut signal, mut rng, phone) = {
        let mut world = shared.world_of(account_no);
        let rng: rand::rngs::StdRng = rand::make_rng();
        let account = &mut world.account;
        let indexes = account.devices.values().map(|d| d.key_index).collect();
        let plaintext = plaintext(account, indexes, crate::appstate::now_ms());
        (account.identity.clone(), plaintext, std::mem::take(&mut account.signal), rng, account.phone.clone())
    };
    let encrypted = signal.encrypt_to(&identity, device, registration, &plaintext, &mut rng).await;
    shared.world_of(account_no).account.signal = signal;
    let id = format!("3EB0{:016X}", shared.next_id());
    if let Some(dev) = shared.world_of(account_no).account.devices.get_mut(&device) {
        dev.key_share_id = Some(id.clone());
    }
    let enc = NodeBuilder::new("enc").attr("v", "2").attr("type", "pkmsg").bytes(encrypted?).build();
    Ok(NodeBuilder::new("message")
        .attr("from", Jid::pn(phone.as_str()))
        .attr("id", id)
        .attr("t", unix_now().to_string())
        .attr("type", "text")
        .attr("category", "peer")
        .children([enc])
        .build())
}

/// A receipt from `device` for message `id`: when it is the key share, the
/// share is marked delivered (and not queued again). Returns whether it was.
pub fn receipted(world: &mut World, device: u16, id: &str) -> bool {
    let delivered = world.account.devices.get_mut(&device).is_some_and(|dev| {
        let matches = dev.key_share_id.as_deref() == Some(id);
        if matches {
            dev.keys_shared = true;
            dev.key_share_id = None;
        }
        matches
    });
    if delivered {
        world.save_devices();
    }
    delivered
}

/// The padded `Message` carrying the app-state key share.
fn plaintext(account: &Account, device_indexes: Vec<u32>, now_ms: i64) -> Vec<u8> {
    use wa::message::{
        AppStateSyncKey, AppStateSyncKeyData, AppStateSyncKeyFingerprint, AppStateSyncKeyId, AppStateSyncKeyShare,
        ProtocolMessage, protocol_message,
    };
    let key = AppStateSyncKey {
        key_id: buffa::MessageField::some(AppStateSyncKeyId { key_id: Some(account.app_state_key_id.clone()) }),
        key_data: buffa::MessageField::some(AppStateSyncKeyData {
            key_data: Some(account.app_state_key.to_vec()),
            fingerprint: buffa::MessageField::some(AppStateSyncKeyFingerprint {
                raw_id: Some(account.adv_raw_id),
                current_index: Some(account.next_key_index.saturating_sub(1)),
                device_indexes,
            }),
            timestamp: Some(now_ms),
        }),
    };
    let message = wa::Message {
        protocol_message: buffa::MessageField::some(ProtocolMessage {
            r#type: Some(protocol_message::Type::APP_STATE_SYNC_KEY_SHARE),
            app_state_sync_key_share: buffa::MessageField::some(AppStateSyncKeyShare { keys: vec![key] }),
            ..Default::default()
        }),
        ..Default::default()
    };
    wacore::messages::MessageUtils::pad_message_v2(message.encode_to_vec())
}
