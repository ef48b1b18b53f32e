//! History sync after linking: right after the app-state key share, the
//! phone sends a new companion, over the same Signal session, peer
//! `protocolMessage`s of type HISTORY_SYNC_NOTIFICATION. First
//! INITIAL_BOOTSTRAP: the chat list (each `Conversation` with its
//! disappearing-message timer) and the LID↔PN pairs of the people it knows
//! (its address book and 1:1 chats, [`Account::knows`]); then PUSH_NAME:
//! their push names, the account's own included. Each
//! carries its `HistorySync` inline (zlib), so nothing is fetched from a
//! media server. Delivered again at each login until the companion receipts
//! them, as queued messages are. See FIDELITY.md.

use std::io::Write;

use buffa::Message;
use flate2::Compression;
use flate2::write::ZlibEncoder;
use thiserror::Error;
use tracing::{debug, info};
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, Node};
use wacore_libsignal::protocol::SignalProtocolError;
use waproto::whatsapp as wa;

use crate::lobby::AccountNo;
use crate::nodes::unix_now;
use crate::shared::Shared;
use crate::state::{Account, World};

#[derive(Debug, Error)]
pub enum HistorySyncError {
    #[error("cannot compress the history sync payload: {0}")]
    Compress(#[from] std::io::Error),
    #[error("cannot encrypt the history sync to the companion: {0}")]
    Signal(#[from] SignalProtocolError),
}

/// The history-sync messages `device` has not receipted yet, encrypted on
/// the phone's session with it (none once it has receipted them all).
#[tracing::instrument(name = "phone.history_sync", skip(shared))]
pub async fn messages(shared: &Shared, account_no: AccountNo, device: u16) -> Result<Vec<Node>, HistorySyncError> {
    let (registration, syncs, identity, mut signal, phone) = {
        let mut world = shared.world_of(account_no);
        let account = &mut world.account;
        let Some(dev) = account.devices.get(&device).filter(|d| !d.history_synced) else {
            return Ok(Vec::new());
        };
        let registration = dev.registration.clone();
        let syncs = [bootstrap(account), push_names(account)];
        (registration, syncs, account.identity.clone(), std::mem::take(&mut account.signal), account.phone.clone())
    };
    let mut rng: rand::rngs::StdRng = rand::make_rng();
    let mut encrypted = Vec::with_capacity(syncs.len());
    let mut failed = None;
    for sync in &syncs {
        let sealed = match plaintext(sync) {
            Ok(plaintext) => signal
                .encrypt_next(&identity, device, &registration, &plaintext, &mut rng)
                .await
                .map_err(HistorySyncError::from),
            Err(e) => Err(e),
        };
        match sealed {
            Ok(message) => encrypted.push(message),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    shared.world_of(account_no).account.signal = signal;
    if let Some(e) = failed {
        return Err(e);
    }
    let ids: Vec<String> = encrypted.iter().map(|_| format!("3EB0{:016X}", shared.next_id())).collect();
    if let Some(dev) = shared.world_of(account_no).account.devices.get_mut(&device) {
        dev.history_sync_ids = ids.clone();
    }
    info!(chats = syncs[0].conversations.len(), push_names = syncs[1].pushnames.len(), "history sync sent");
    Ok(ids.into_iter().zip(encrypted).map(|(id, (bytes, kind))| peer_message(&phone, id, kind, bytes)).collect())
}

/// A receipt from `device` for message `id`: when it is one of the history
/// sync's, it is delivered; once all are, they are not queued again.
/// Returns whether it was one.
pub fn receipted(world: &mut World, device: u16, id: &str) -> bool {
    let Some(dev) = world.account.devices.get_mut(&device) else { return false };
    let Some(at) = dev.history_sync_ids.iter().position(|i| i == id) else { return false };
    dev.history_sync_ids.remove(at);
    if dev.history_sync_ids.is_empty() {
        dev.history_synced = true;
        debug!(device, "history sync receipted");
        world.save_devices();
    }
    true
}

/// INITIAL_BOOTSTRAP: the chat list and the LID↔PN pairs of the people the
/// phone knows (address book, 1:1 chats), in one chunk.
fn bootstrap(account: &Account) -> wa::HistorySync {
    let conversations = account
        .chats
        .iter()
        .map(|chat| wa::Conversation {
            id: chat.jid.clone(),
            lid_jid: chat.lid_jid.clone(),
            ephemeral_expiration: chat.ephemeral_expiration,
            ephemeral_setting_timestamp: chat.ephemeral_set_at.map(|t| t as i64),
            conversation_timestamp: Some(chat.timestamp),
            ..Default::default()
        })
        .collect();
    let phone_number_to_lid_mappings = account
        .people
        .list
        .iter()
        .filter(|p| account.knows(p))
        .map(|p| wa::PhoneNumberToLIDMapping {
            pn_jid: Some(format!("{}@s.whatsapp.net", p.phone)),
            lid_jid: Some(format!("{}@lid", p.lid)),
        })
        .collect();
    wa::HistorySync {
        sync_type: wa::history_sync::HistorySyncType::INITIAL_BOOTSTRAP,
        conversations,
        chunk_order: Some(0),
        progress: Some(100),
        phone_number_to_lid_mappings,
        ..Default::default()
    }
}

/// PUSH_NAME: the account's own push name, then those of the people the
/// phone knows.
fn push_names(account: &Account) -> wa::HistorySync {
    let own = std::iter::once((account.phone.as_str(), account.push_name.as_str()));
    let people =
        account.people.list.iter().filter(|p| account.knows(p)).map(|p| (p.phone.as_str(), p.push_name.as_str()));
    let pushnames = own
        .chain(people)
        .map(|(phone, name)| wa::Pushname {
            id: Some(format!("{phone}@s.whatsapp.net")),
            pushname: Some(name.to_owned()),
        })
        .collect();
    wa::HistorySync {
        sync_type: wa::history_sync::HistorySyncType::PUSH_NAME,
        chunk_order: Some(0),
        progress: Some(100),
        pushnames,
        ..Default::default()
    }
}

/// The padded `Message` announcing `sync`, its blob inline and compressed.
fn plaintext(sync: &wa::HistorySync) -> Result<Vec<u8>, HistorySyncError> {
    use wa::message::{HistorySyncNotification, HistorySyncType, ProtocolMessage, protocol_message};
    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
    zlib.write_all(&sync.encode_to_vec())?;
    let payload = zlib.finish()?;
    let sync_type = match sync.sync_type {
        wa::history_sync::HistorySyncType::PUSH_NAME => HistorySyncType::PUSH_NAME,
        _ => HistorySyncType::INITIAL_BOOTSTRAP,
    };
    let notification = HistorySyncNotification {
        sync_type: Some(sync_type),
        chunk_order: sync.chunk_order,
        progress: sync.progress,
        initial_hist_bootstrap_inline_payload: Some(payload),
        ..Default::default()
    };
    let message = wa::Message {
        protocol_message: buffa::MessageField::some(ProtocolMessage {
            r#type: Some(protocol_message::Type::HISTORY_SYNC_NOTIFICATION),
            history_sync_notification: buffa::MessageField::some(notification),
            ..Default::default()
        }),
        ..Default::default()
    };
    Ok(wacore::messages::MessageUtils::pad_message_v2(message.encode_to_vec()))
}

/// A peer message from the phone (the own account, device 0).
fn peer_message(phone: &str, id: String, kind: &'static str, bytes: Vec<u8>) -> Node {
    let enc = NodeBuilder::new("enc").attr("v", "2").attr("type", kind).bytes(bytes).build();
    NodeBuilder::new("message")
        .attr("from", Jid::pn(phone))
        .attr("id", id)
        .attr("t", unix_now().to_string())
        .attr("type", "text")
        .attr("category", "peer")
        .children([enc])
        .build()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The notification as the client reads it: unpadded, decoded, its
    /// inline blob handed to wacore's own history-sync parser.
    fn read(
        plaintext: &[u8],
        own: &str,
    ) -> (wa::message::HistorySyncNotification, wacore::history_sync::HistorySyncResult) {
        let message = wacore::messages::decode_plaintext(plaintext, 2).expect("decodes");
        let protocol = message.protocol_message.as_option().expect("a protocol message");
        assert_eq!(protocol.r#type, Some(wa::message::protocol_message::Type::HISTORY_SYNC_NOTIFICATION));
        let notification = protocol.history_sync_notification.as_option().expect("a notification").clone();
        let inline = notification.initial_hist_bootstrap_inline_payload.clone().expect("inline");
        let result = wacore::history_sync::process_history_sync(inline, Some(own), true).expect("parses");
        (notification, result)
    }

    #[test]
    fn bootstrap_then_push_names_as_the_client_parses_them() {
        let shared = Shared::new(7, 1, 40, Duration::from_secs(60), None).unwrap();
        let world = shared.world_of(1);
        let account = &world.account;

        let (notification, result) = read(&plaintext(&bootstrap(account)).unwrap(), &account.phone);
        assert_eq!(notification.sync_type, Some(wa::message::HistorySyncType::INITIAL_BOOTSTRAP));
        assert_eq!(result.conversations_processed, account.chats.len());
        let known: Vec<_> = account.people.list.iter().filter(|p| account.knows(p)).collect();
        assert!(known.len() < account.people.list.len(), "the phone does not know everyone");
        assert!(known.iter().any(|p| p.saved_name.is_none()), "it knows its chats' people too");
        let pairs: Vec<_> = result.lid_mappings.iter().map(|m| (m.phone_number.as_str(), m.lid.as_str())).collect();
        assert_eq!(pairs, known.iter().map(|p| (p.phone.as_str(), p.lid.as_str())).collect::<Vec<_>>());
        let decoded =
            waproto::codec::history_sync_decode(&result.compressed_bytes.as_deref().map(decompress).unwrap()).unwrap();
        let timers: Vec<_> = decoded.conversations.iter().map(|c| (c.id.clone(), c.ephemeral_expiration)).collect();
        let expected: Vec<_> = account.chats.iter().map(|c| (c.jid.clone(), c.ephemeral_expiration)).collect();
        assert_eq!(timers, expected);

        let (notification, result) = read(&plaintext(&push_names(account)).unwrap(), &account.phone);
        assert_eq!(notification.sync_type, Some(wa::message::HistorySyncType::PUSH_NAME));
        assert_eq!(result.own_pushname.as_deref(), Some(account.push_name.as_str()), "the client learns its own name");
    }

    fn decompress(bytes: &[u8]) -> Vec<u8> {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(bytes).read_to_end(&mut out).unwrap();
        out
    }
}
