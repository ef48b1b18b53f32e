//! A 1:1 chat's disappearing-message timer: set by sending the chat an
//! `EPHEMERAL_SETTING` protocol message (as WhatsApp and whatsmeow's
//! `SetDisappearingTimer` do for a non-group chat), end-to-end encrypted to
//! the other side's devices and the account's own.

use thiserror::Error;
use whatsapp_rust::Client;
use whatsapp_rust::waproto::whatsapp as wa;
use whatsapp_rust::{IqError, SendError};

use crate::groups::{CHAT_TIMER_MAX, Timer};
use crate::numbers::TargetError;
pub use crate::snapshot::ChatTimer;
use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum ChatError {
    #[error("not connected to WhatsApp; the timer can be changed once the connection is back")]
    NotConnected,
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(
        "{0} seconds is longer than WhatsApp accepts for a disappearing-message timer (at most {CHAT_TIMER_MAX} seconds); nothing was sent"
    )]
    BadTimer(u32),
    #[error("WhatsApp did not answer in time; nothing was changed — try again")]
    Timeout,
    #[error("the setting could not be sent: {0}")]
    Failed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SendError> for ChatError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::NotLoggedIn => ChatError::NotConnected,
            SendError::Iq(IqError::Timeout) => ChatError::Timeout,
            SendError::Iq(IqError::NotConnected | IqError::InternalChannelClosed | IqError::Disconnected(_)) => {
                ChatError::NotConnected
            }
            other => ChatError::Failed(other.to_string()),
        }
    }
}

/// The `protocolMessage` that sets a chat's timer.
pub fn ephemeral_setting(timer: Timer) -> wa::Message {
    use wa::message::{ProtocolMessage, protocol_message};
    wa::Message {
        protocol_message: whatsapp_rust::buffa::MessageField::some(ProtocolMessage {
            r#type: Some(protocol_message::Type::EPHEMERAL_SETTING),
            ephemeral_expiration: Some(timer.seconds()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Sends the timer to the chat `jid`; done once the stanza is on its way
/// (whatsapp-rust does not wait for the server's ack of a 1:1 message).
pub(crate) async fn send_timer(client: &Client, jid: &str, timer: Timer) -> Result<(), ChatError> {
    let to: whatsapp_rust::Jid =
        jid.parse().map_err(|_| ChatError::Failed(format!("'{jid}' is not a chat address")))?;
    client.send_message(to, ephemeral_setting(timer)).await?;
    Ok(())
}
