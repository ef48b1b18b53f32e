//! The phone's Signal state: one session per companion device, opened from
//! the companion's registration bundle, used to encrypt the app-state key
//! share (a `pkmsg`) and the history sync that follows it.

use std::collections::HashMap;

use async_trait::async_trait;
use wacore_libsignal::protocol::{
    CiphertextMessageType, Direction, IdentityChange, IdentityKey, IdentityKeyPair, IdentityKeyStore, KeyPair,
    PreKeyBundle, ProtocolAddress, PublicKey, SessionRecord, SessionStore, SignalProtocolError, SignedPreKeyId,
    UsePQRatchet, message_encrypt, process_prekey_bundle,
};

use crate::state::Registration;

/// The phone's Signal state: one session per companion device.
#[derive(Default)]
pub struct PhoneSignal {
    sessions: SessionMap,
}

#[derive(Default)]
struct SessionMap(HashMap<String, SessionRecord>);

struct PhoneIdentity {
    pair: IdentityKeyPair,
    known: HashMap<String, IdentityKey>,
}

#[async_trait]
impl SessionStore for SessionMap {
    async fn load_session(&self, address: &ProtocolAddress) -> Result<Option<SessionRecord>, SignalProtocolError> {
        Ok(self.0.get(&address.to_string()).cloned())
    }
    async fn has_session(&self, address: &ProtocolAddress) -> Result<bool, SignalProtocolError> {
        Ok(self.0.contains_key(&address.to_string()))
    }
    async fn store_session(
        &mut self,
        address: &ProtocolAddress,
        record: SessionRecord,
    ) -> Result<(), SignalProtocolError> {
        self.0.insert(address.to_string(), record);
        Ok(())
    }
}

#[async_trait]
impl IdentityKeyStore for PhoneIdentity {
    async fn get_identity_key_pair(&self) -> Result<IdentityKeyPair, SignalProtocolError> {
        Ok(self.pair.clone())
    }
    async fn get_local_registration_id(&self) -> Result<u32, SignalProtocolError> {
        Ok(1)
    }
    async fn save_identity(
        &mut self,
        address: &ProtocolAddress,
        identity: &IdentityKey,
    ) -> Result<IdentityChange, SignalProtocolError> {
        let previous = self.known.insert(address.to_string(), *identity);
        Ok(match previous {
            Some(p) if p != *identity => IdentityChange::ReplacedExisting,
            _ => IdentityChange::NewOrUnchanged,
        })
    }
    async fn is_trusted_identity(
        &self,
        _: &ProtocolAddress,
        _: &IdentityKey,
        _: Direction,
    ) -> Result<bool, SignalProtocolError> {
        Ok(true)
    }
    async fn get_identity(&self, address: &ProtocolAddress) -> Result<Option<IdentityKey>, SignalProtocolError> {
        Ok(self.known.get(&address.to_string()).copied())
    }
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
        self.sessions.0.remove(&address(device).to_string());
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
        let mut identity_store = PhoneIdentity {
            pair: IdentityKeyPair::new(IdentityKey::new(identity.public_key), identity.private_key.clone()),
            known: HashMap::new(),
        };
        if !self.sessions.0.contains_key(&address.to_string()) {
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
}

/// The phone's session address for a companion device.
fn address(device: u16) -> ProtocolAddress {
    ProtocolAddress::new("companion", u32::from(device).into())
}
