//! `<message>` from a companion: a 1:1 message fanned out per device
//! (`<participants><to jid><enc v type/></to>…</participants>`, or a bare
//! `<enc>` for the recipient's phone alone). The server acks it at once
//! (`<ack class="message" id from=<to> t>`), then hands each copy to its
//! device: a person's phone or the account's own phone decrypts it (a
//! real Signal session, `wacore-libsignal`), another companion of the
//! account gets it pushed. A recipient's `EPHEMERAL_SETTING` sets that 1:1
//! chat's timer; a `groupInviteMessage` is recorded with its code. Every copy is recorded (`World::deliveries`); one that
//! cannot be read is recorded and logged as such, never taken silently.

use buffa::Message as _;
use tracing::{info, warn};
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, Node};
use waproto::whatsapp as wa;

use super::{Ctx, Outcome, send};
use crate::deliveries::{Delivery, GroupInvite, Reader};
use crate::nodes::{attr, bytes, child, children, unix_now};
use crate::state::{Push, World};

pub fn handle(ctx: &mut Ctx, message: &Node) -> Vec<Outcome> {
    let (Some(device), Some(id)) = (ctx.device, attr(message, "id")) else {
        warn!("a <message> before login, or without an id: ignored");
        return Vec::new();
    };
    let Some(to) = attr(message, "to").and_then(|t| t.parse::<Jid>().ok()) else {
        warn!(%id, "a <message> without a readable `to`: ignored");
        return Vec::new();
    };
    let copies: Vec<(Jid, &Node)> = match child(message, "participants") {
        Some(participants) => children(participants, "to")
            .filter_map(|t| Some((attr(t, "jid")?.parse::<Jid>().ok()?, child(t, "enc")?)))
            .collect(),
        None => children(message, "enc").map(|enc| (to.clone(), enc)).collect(),
    };
    let mut world = ctx.world();
    for (target, enc) in copies {
        let delivery = deliver(&mut world, device, &id, &to, message, &target, enc);
        match &delivery.error {
            Some(error) => warn!(%id, to = %delivery.to, %error, "a message copy the simulator cannot read"),
            None => info!(%id, to = %delivery.to, protocol = ?delivery.protocol_message, "message copy delivered"),
        }
        world.account.deliveries.push(delivery);
    }
    drop(world);
    let ack = NodeBuilder::new("ack")
        .attr("class", "message")
        .attr("id", id)
        .attr("from", to)
        .attr("t", unix_now().to_string())
        .build();
    send(ack)
}

/// Hands one `<enc>` to the device it is for.
fn deliver(world: &mut World, device: u16, id: &str, to: &Jid, message: &Node, target: &Jid, enc: &Node) -> Delivery {
    let kind = attr(enc, "type").unwrap_or_default();
    let mut delivery = Delivery {
        id: id.to_owned(),
        from_device: device,
        to: target.to_string(),
        reader: Reader::Unknown,
        enc_type: kind.clone(),
        decrypted: false,
        chat: None,
        protocol_message: None,
        ephemeral_expiration: None,
        group_invite: None,
        error: None,
    };
    let Some(ciphertext) = bytes(enc) else {
        delivery.error = Some("<enc> carries no bytes".into());
        return delivery;
    };
    let account = &mut world.account;
    let user = target.user_base().to_owned();
    let own = user == account.phone || user == account.lid;
    let plaintext = if own && target.device == 0 {
        delivery.reader = Reader::Phone;
        let identity = account.identity.clone();
        account.signal.decrypt(&identity, device, &kind, ciphertext)
    } else if own {
        relay(world, device, id, to, message, target, enc);
        delivery.reader = Reader::Companion;
        return delivery;
    } else if let Some(person) = account.people.find(&user).filter(|_| target.device == 0) {
        delivery.reader = Reader::Person;
        delivery.chat = Some(format!("{}@s.whatsapp.net", person.phone));
        let lid = person.lid.clone();
        account.recipients.of(&lid).decrypt(device, &kind, ciphertext)
    } else {
        Err(format!("no such device on the simulated WhatsApp: {target}"))
    };
    let parsed = plaintext.and_then(|p| wa::Message::decode_from_slice(&p).map_err(|e| format!("not a Message: {e}")));
    let message = match parsed {
        Ok(m) => m,
        Err(error) => {
            delivery.error = Some(error);
            return delivery;
        }
    };
    delivery.decrypted = true;
    let content = match message.device_sent_message.as_option() {
        Some(sent) if delivery.reader == Reader::Phone => {
            delivery.chat = sent.destination_jid.clone();
            sent.message.as_option().cloned().unwrap_or_default()
        }
        _ => message,
    };
    if let Some(invite) = content.group_invite_message.as_option() {
        delivery.group_invite = Some(GroupInvite {
            group: invite.group_jid.clone().unwrap_or_default(),
            code: invite.invite_code.clone().unwrap_or_default(),
            expiration: invite.invite_expiration.unwrap_or(0),
            group_name: invite.group_name.clone(),
        });
    }
    if let Some(protocol) = content.protocol_message.as_option() {
        delivery.protocol_message = protocol.r#type.map(|t| format!("{t:?}"));
        if protocol.r#type == Some(wa::message::protocol_message::Type::EPHEMERAL_SETTING) {
            let seconds = protocol.ephemeral_expiration.unwrap_or(0);
            delivery.ephemeral_expiration = Some(seconds);
            // The chat's timer changes when its other side has read the setting.
            if delivery.reader == Reader::Person
                && let Some(chat) = &delivery.chat
            {
                let phone = chat.split('@').next().unwrap_or_default().to_owned();
                crate::chats::set_direct_timer(world, &phone, seconds, unix_now());
            }
        }
    }
    delivery
}

/// Another companion of the account gets its copy pushed, as the server
/// relays it: from the sending device, `recipient` naming the chat.
fn relay(world: &World, device: u16, id: &str, to: &Jid, message: &Node, target: &Jid, enc: &Node) {
    let sender = target.with_device(device);
    let mut node = NodeBuilder::new("message")
        .attr("from", sender)
        .attr("recipient", to.clone())
        .attr("id", id.to_owned())
        .attr("t", unix_now().to_string());
    if let Some(kind) = attr(message, "type") {
        node = node.attr("type", kind);
    }
    let node = node.children([enc.clone()]).build();
    for conn in world.connections_of(target.device) {
        world.push(conn, Push::Node(node.clone()));
    }
}
