//! What became of each copy of a message a companion sent: which device it
//! was for, whether that device could decrypt it, and what it said. The
//! simulator never accepts a message silently: an undecryptable copy is
//! recorded with the reason (and logged).

use serde::{Deserialize, Serialize};

/// Who read (or failed to read) one `<enc>`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Reader {
    /// The phone of the person the message was for.
    Person,
    /// The account's own phone (device 0): the sender's copy.
    Phone,
    /// Another companion of the account: the server relays the copy, it
    /// does not read it.
    Companion,
    /// Nobody the simulator knows (an unknown user or device).
    Unknown,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Delivery {
    /// The message's id.
    pub id: String,
    /// The companion device that sent it.
    pub from_device: u16,
    /// The device JID the copy was addressed to, as sent.
    pub to: String,
    pub reader: Reader,
    /// `pkmsg` or `msg`.
    pub enc_type: String,
    /// Decrypted and parsed as a `Message`.
    pub decrypted: bool,
    /// The chat it belongs to: the recipient's `<number>@s.whatsapp.net`, or
    /// the destination of the phone's copy (`deviceSentMessage`).
    pub chat: Option<String>,
    /// The `protocolMessage` type it carried, e.g. `EPHEMERAL_SETTING`.
    pub protocol_message: Option<String>,
    /// Its `ephemeralExpiration`, for an `EPHEMERAL_SETTING`.
    pub ephemeral_expiration: Option<u32>,
    /// The group invite it carried (`groupInviteMessage`): what the person
    /// would tap to join.
    pub group_invite: Option<GroupInvite>,
    /// Why it could not be read, when it could not.
    pub error: Option<String>,
}

/// A `groupInviteMessage` as the recipient's phone read it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct GroupInvite {
    /// The group's JID (`…@g.us`).
    pub group: String,
    pub code: String,
    /// Unix seconds.
    pub expiration: i64,
    pub group_name: Option<String>,
}
