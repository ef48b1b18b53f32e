//! One simulated device's Signal side as a message recipient: its identity,
//! registration id, signed pre-key and one-time pre-keys (what the server
//! hands out in a key fetch), its sessions, and decryption of what a
//! companion sends it (`pkmsg` and `msg`). Used for every person's phone
//! ([`crate::recipients`]) and for the account's own phone
//! ([`crate::phone::PhoneSignal`]).
//!
//! The stores are in memory, so libsignal's futures never wait: [`now`]
//! runs them to completion under the world's lock.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use rand::rngs::StdRng;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, Node};
use wacore_libsignal::protocol::{
    Direction, GenericSignedPreKey, IdentityChange, IdentityKey, IdentityKeyPair, IdentityKeyStore, KeyPair, PreKeyId,
    PreKeyRecord, PreKeySignalMessage, PreKeyStore, ProtocolAddress, SessionRecord, SessionStore, SignalMessage,
    SignalProtocolError, SignedPreKeyId, SignedPreKeyRecord, SignedPreKeyStore, Timestamp, UsePQRatchet,
    message_decrypt_prekey, message_decrypt_signal,
};

/// Runs a future over in-memory stores to its end. They never wait, so
/// one poll finishes it; anything else is a bug in the simulator.
pub fn now<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("in-memory Signal stores never wait"),
    }
}

/// Sessions by the remote address.
#[derive(Default)]
pub struct SessionMap(HashMap<String, SessionRecord>);

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

impl SessionMap {
    pub fn contains(&self, address: &ProtocolAddress) -> bool {
        self.0.contains_key(&address.to_string())
    }

    pub fn forget(&mut self, address: &ProtocolAddress) {
        self.0.remove(&address.to_string());
    }
}

/// A device's identity key pair and registration id, and the identities it
/// has seen (trusted on first use, as a phone does).
pub struct Identity {
    pub pair: IdentityKeyPair,
    pub registration_id: u32,
    known: HashMap<String, IdentityKey>,
}

impl Identity {
    pub fn new(pair: &KeyPair, registration_id: u32) -> Identity {
        Identity {
            pair: IdentityKeyPair::new(IdentityKey::new(pair.public_key), pair.private_key.clone()),
            registration_id,
            known: HashMap::new(),
        }
    }
}

#[async_trait]
impl IdentityKeyStore for Identity {
    async fn get_identity_key_pair(&self) -> Result<IdentityKeyPair, SignalProtocolError> {
        Ok(self.pair.clone())
    }
    async fn get_local_registration_id(&self) -> Result<u32, SignalProtocolError> {
        Ok(self.registration_id)
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

/// The pre-keys a device published: one signed pre-key and the one-time
/// pre-keys handed out and not yet used.
pub struct PreKeys {
    signed: Signed,
    one_time: OneTime,
}

struct Signed {
    id: u32,
    record: SignedPreKeyRecord,
}

struct OneTime {
    held: BTreeMap<u32, PreKeyRecord>,
    next_id: u32,
    rng: StdRng,
}

impl PreKeys {
    /// A signed pre-key (id 1), signed by `identity`; one-time pre-keys are
    /// made as key fetches ask for them, from `rng`.
    pub fn generate(identity: &IdentityKeyPair, mut rng: StdRng) -> PreKeys {
        let signed_pair = KeyPair::generate(&mut rng);
        let signature = identity
            .private_key()
            .calculate_signature(&signed_pair.public_key.serialize(), &mut rng)
            .expect("a fresh Curve25519 key signs");
        let record = SignedPreKeyRecord::new(1.into(), Timestamp::from_epoch_millis(0), &signed_pair, &signature);
        PreKeys { signed: Signed { id: 1, record }, one_time: OneTime { held: BTreeMap::new(), next_id: 1, rng } }
    }

    /// A new one-time pre-key, kept until a `pkmsg` uses it.
    fn hand_out(&mut self) -> (u32, [u8; 32]) {
        let keys = &mut self.one_time;
        let id = keys.next_id;
        keys.next_id = (keys.next_id % 0x00FF_FFFF) + 1;
        let pair = KeyPair::generate(&mut keys.rng);
        keys.held.insert(id, PreKeyRecord::new(id.into(), &pair));
        (id, pair.public_key.public_key_bytes().try_into().expect("32-byte key"))
    }
}

#[async_trait]
impl PreKeyStore for OneTime {
    async fn get_pre_key(&self, id: PreKeyId) -> Result<PreKeyRecord, SignalProtocolError> {
        self.held.get(&u32::from(id)).cloned().ok_or(SignalProtocolError::InvalidPreKeyId)
    }
    async fn save_pre_key(&mut self, id: PreKeyId, record: &PreKeyRecord) -> Result<(), SignalProtocolError> {
        self.held.insert(id.into(), record.clone());
        Ok(())
    }
    async fn remove_pre_key(&mut self, id: PreKeyId) -> Result<(), SignalProtocolError> {
        self.held.remove(&u32::from(id));
        Ok(())
    }
}

#[async_trait]
impl SignedPreKeyStore for Signed {
    async fn get_signed_pre_key(&self, id: SignedPreKeyId) -> Result<SignedPreKeyRecord, SignalProtocolError> {
        if u32::from(id) == self.id { Ok(self.record.clone()) } else { Err(SignalProtocolError::InvalidSignedPreKeyId) }
    }
    async fn save_signed_pre_key(
        &mut self,
        _: SignedPreKeyId,
        _: &SignedPreKeyRecord,
    ) -> Result<(), SignalProtocolError> {
        Ok(())
    }
}

/// The key bundle the server serves for a device (`<user jid type="result">`
/// with `registration`, `type`, `identity`, `skey` and one `key`), handing
/// out one of its one-time pre-keys.
pub fn bundle_node(jid: Jid, identity: &Identity, keys: &mut PreKeys) -> Node {
    let leaf = |tag: &'static str, content: Vec<u8>| NodeBuilder::new(tag).bytes(content).build();
    let three = |id: u32| id.to_be_bytes()[1..].to_vec();
    let (pre_key_id, pre_key) = keys.hand_out();
    let signed_public = keys.signed.record.public_key().expect("stored key").public_key_bytes().to_vec();
    let signature = keys.signed.record.signature().expect("stored signature").to_vec();
    NodeBuilder::new("user")
        .attr("jid", jid)
        .attr("type", "result")
        .children([
            leaf("registration", identity.registration_id.to_be_bytes().to_vec()),
            leaf("type", vec![5]),
            leaf("identity", identity.pair.public_key().public_key_bytes().to_vec()),
            NodeBuilder::new("skey")
                .children([
                    leaf("id", three(keys.signed.id)),
                    leaf("value", signed_public),
                    leaf("signature", signature),
                ])
                .build(),
            NodeBuilder::new("key").children([leaf("id", three(pre_key_id)), leaf("value", pre_key.to_vec())]).build(),
        ])
        .build()
}

/// Decrypts one `<enc>` (`pkmsg` or `msg`) from `from` and strips the WA v2
/// padding. The error says why it could not be read.
pub fn decrypt(
    sessions: &mut SessionMap,
    identity: &mut Identity,
    keys: &mut PreKeys,
    from: &ProtocolAddress,
    kind: &str,
    ciphertext: &[u8],
) -> Result<Vec<u8>, String> {
    let mut rng: StdRng = rand::make_rng();
    let plaintext = match kind {
        "pkmsg" => {
            let message = PreKeySignalMessage::try_from(ciphertext).map_err(|e| format!("not a pkmsg: {e}"))?;
            let result = now(message_decrypt_prekey(
                &message,
                from,
                sessions,
                identity,
                &mut keys.one_time,
                &keys.signed,
                &mut rng,
                UsePQRatchet::No,
            ));
            result.map(|r| r.plaintext)
        }
        "msg" => {
            let message = SignalMessage::try_from(ciphertext).map_err(|e| format!("not a msg: {e}"))?;
            now(message_decrypt_signal(&message, from, sessions, identity, &mut rng)).map(|r| r.plaintext)
        }
        other => return Err(format!("enc type {other:?} is not a 1:1 Signal message")),
    }
    .map_err(|e| format!("Signal decryption failed: {e}"))?;
    wacore::messages::MessageUtils::unpad_message_ref(&plaintext, 2)
        .map(<[u8]>::to_vec)
        .map_err(|e| format!("bad padding: {e}"))
}
