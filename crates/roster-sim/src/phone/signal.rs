//! The phone's Signal state: one session per companion device, opened from
//! the companion's registration bundle, used to encrypt the app-state key
//! share (a `pkmsg`) and the history sync that follows it; and the phone as
//! a recipient: its pre-keys (served by the key fetch) and the decryption
//! of what a companion sends the account's own devices.

use wacore_binary::{Jid, Node};
use wacore_libsignal::protocol::{
    CiphertextMessageType, IdentityKey, KeyPair, PreKeyBundle, ProtocolAddress, PublicKey, SignalProtocolError,
    SignedPreKeyId, UsePQRatchet, message_encrypt, process_prekey_bundle,
};

use crate::signal_keys::{self, Identity, PreKeys, SessionMap};
use crate::state::Registration;

/// The phone's registration id (device 0 of the account).
const REGISTRATION_ID: u32 = 1;

/// The phone's Signal state: one session per companion device, and its
/// pre-keys once someone fetched them.
#[derive(Default)]
pub struct PhoneSignal {
    sessions: SessionMap,
    receiving: Option<(Identity, PreKeys)>,
}

impl PhoneSignal {
    /// Encrypts `plaintext` to a companion as a `pkmsg` (a new session from
    /// its registration bundle, no one-time prekey).
    pub async fn encrypt_to(
        &mut self,
        identity: &KeyPair,
        device: u16,
        registration: &Registration,
        plaintext: &[u8],
        rng: &mut rand::rngs::StdRng,
    ) -> Result<Vec<u8>, SignalProtocolError> {
        self.sessions.forget(&address(device));
        let (message, _) = self.encrypt_next(identity, device, registration, plaintext, rng).await?;
        Ok(message)
    }

    /// Encrypts `plaintext` to a companion on the session already open with
    /// it (the one the key share opened), or on a new one from its
    /// registration bundle when there is none. Returns the message and its
    /// `enc` type: `pkmsg` while the companion has not answered on the
    /// session (it never does: it only receipts), `msg` after.
    pub async fn encrypt_next(
        &mut self,
        identity: &KeyPair,
        device: u16,
        registration: &Registration,
        plaintext: &[u8],
        rng: &mut rand::rngs::StdRng,
    ) -> Result<(Vec<u8>, &'static str), SignalProtocolError> {
        let address = address(device);
        let mut identity_store = Identity::new(identity, REGISTRATION_ID);
        if !self.sessions.contains(&address) {
            let djb = |bytes: &[u8]| PublicKey::from_djb_public_key_bytes(bytes);
            let bundle = PreKeyBundle::new(
                registration.registration_id,
                u32::from(device).into(),
                None,
                SignedPreKeyId::from(registration.signed_prekey_id),
                djb(&registration.signed_prekey)?,
                registration.signed_prekey_sig.clone(),
                IdentityKey::new(djb(&registration.identity)?),
            )?;
            process_prekey_bundle(&address, &mut self.sessions, &mut identity_store, &bundle, rng, UsePQRatchet::No)
                .await?;
        }
        let message = message_encrypt(plaintext, &address, &mut self.sessions, &mut identity_store).await?;
        let kind = match message.message_type() {
            CiphertextMessageType::PreKey => "pkmsg",
            _ => "msg",
        };
        Ok((message.serialize().to_vec(), kind))
    }

    /// The phone's key bundle as the server serves it to `jid`'s key fetch.
    pub fn bundle(&mut self, identity: &KeyPair, jid: Jid) -> Node {
        let (identity, keys) = self.receiving(identity);
        signal_keys::bundle_node(jid, identity, keys)
    }

    /// Decrypts what companion `device` sent the phone: on the session the
    /// key share opened (`msg`), or on a new one from the phone's bundle
    /// (`pkmsg`). The plaintext is unpadded.
    pub fn decrypt(
        &mut self,
        identity: &KeyPair,
        device: u16,
        kind: &str,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, String> {
        self.receiving(identity);
        let (identity, keys) = self.receiving.as_mut().expect("made above");
        signal_keys::decrypt(&mut self.sessions, identity, keys, &address(device), kind, ciphertext)
    }

    fn receiving(&mut self, identity: &KeyPair) -> (&mut Identity, &mut PreKeys) {
        let (identity, keys) = self.receiving.get_or_insert_with(|| {
            let identity = Identity::new(identity, REGISTRATION_ID);
            let keys = PreKeys::generate(&identity.pair, rand::make_rng());
            (identity, keys)
        });
        (identity, keys)
    }
}

/// The phone's session address for a companion device.
fn address(device: u16) -> ProtocolAddress {
    ProtocolAddress::new("companion", u32::from(device).into())
}
