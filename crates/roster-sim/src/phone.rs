//! The simulated primary phone: it scans QR codes, signs the companion's
//! device identity (ADV), checks the companion's counter-signature, and
//! sends each new companion the app-state key over a Signal session.

use std::collections::HashMap;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use buffa::Message;
use hmac::{KeyInit, Mac};
use thiserror::Error;
use wacore_libsignal::protocol::{
    Direction, IdentityChange, IdentityKey, IdentityKeyPair, IdentityKeyStore, KeyPair, PreKeyBundle, ProtocolAddress,
    PublicKey, SessionRecord, SessionStore, SignalProtocolError, SignedPreKeyId, UsePQRatchet, message_encrypt,
    process_prekey_bundle,
};
use waproto::whatsapp::{self as wa, ADVEncryptionType};

use crate::state::{Account, Registration};

const ADV_PREFIX_ACCOUNT_SIGNATURE: &[u8] = &[6, 0];
const ADV_PREFIX_DEVICE_SIGNATURE: &[u8] = &[6, 1];
/// The prefix some clients put before the QR payload.
pub const QR_DEEP_LINK_PREFIX: &str = "https://wa.me/settings/linked_devices#";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ScanError {
    #[error("QR code has {0} comma-separated fields; expected ref,noise,identity,secret[,type]")]
    Fields(usize),
    #[error("QR field {0} is not base64 of 32 bytes")]
    Key(&'static str),
    #[error("no device is waiting for pairing ref '{0}' (expired, or already scanned)")]
    UnknownRef(String),
    #[error("the QR code's noise key does not belong to the connection that showed it")]
    NoiseMismatch,
    #[error("the QR code's identity key does not match the companion's registration")]
    IdentityMismatch,
}

/// What a QR code carries.
pub struct ScannedQr {
    pub pairing_ref: String,
    pub noise_key: [u8; 32],
    pub identity: [u8; 32],
    pub adv_secret: [u8; 32],
}

pub fn parse_qr(text: &str) -> Result<ScannedQr, ScanError> {
    let text = text.trim();
    let body = text.strip_prefix(QR_DEEP_LINK_PREFIX).unwrap_or(text);
    let parts: Vec<&str> = body.split(',').collect();
    if !(4..=5).contains(&parts.len()) {
        return Err(ScanError::Fields(parts.len()));
    }
    let key = |s: &str, name| -> Result<[u8; 32], ScanError> {
        STANDARD.decode(s).ok().and_then(|v| v.try_into().ok()).ok_or(ScanError::Key(name))
    };
    Ok(ScannedQr {
        pairing_ref: parts[0].to_owned(),
        noise_key: key(parts[1], "noise key")?,
        identity: key(parts[2], "identity key")?,
        adv_secret: key(parts[3], "adv secret")?,
    })
}

/// Builds the `ADVSignedDeviceIdentityHMAC` the phone returns in `pair-success`.
pub fn sign_device_identity(
    account: &Account,
    key_index: u32,
    companion_identity: &[u8; 32],
    adv_secret: &[u8; 32],
    now: u64,
    rng: &mut rand::rngs::StdRng,
) -> Vec<u8> {
    let details = wa::ADVDeviceIdentity {
        raw_id: Some(account.adv_raw_id),
        timestamp: Some(now),
        key_index: Some(key_index),
        account_type: Some(ADVEncryptionType::E2EE),
        device_type: Some(ADVEncryptionType::E2EE),
    }
    .encode_to_vec();
    let mut to_sign = ADV_PREFIX_ACCOUNT_SIGNATURE.to_vec();
    to_sign.extend_from_slice(&details);
    to_sign.extend_from_slice(companion_identity);
    let signature = account.identity.private_key.calculate_signature(&to_sign, rng).expect("sign");
    let signed = wa::ADVSignedDeviceIdentity {
        details: Some(details),
        account_signature_key: Some(account.identity.public_key.public_key_bytes().to_vec()),
        account_signature: Some(signature.to_vec()),
        device_signature: None,
    }
    .encode_to_vec();
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(adv_secret).expect("hmac key");
    mac.update(&signed);
    wa::ADVSignedDeviceIdentityHMAC {
        details: Some(signed),
        hmac: Some(mac.finalize().into_bytes().to_vec()),
        account_type: Some(ADVEncryptionType::E2EE),
    }
    .encode_to_vec()
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SignError {
    #[error("device identity does not decode")]
    Decode,
    #[error("device identity lacks its details or signature")]
    Incomplete,
    #[error("device signature does not verify")]
    BadSignature,
}

/// Checks the companion's `pair-device-sign`: its signature over the phone-signed details.
pub fn verify_device_signature(
    account: &Account,
    companion_identity: &[u8; 32],
    signed_identity: &[u8],
) -> Result<(), SignError> {
    let signed = wa::ADVSignedDeviceIdentity::decode_from_slice(signed_identity).map_err(|_| SignError::Decode)?;
    let details = signed.details.ok_or(SignError::Incomplete)?;
    let signature = signed.device_signature.ok_or(SignError::Incomplete)?;
    let mut message = ADV_PREFIX_DEVICE_SIGNATURE.to_vec();
    message.extend_from_slice(&details);
    message.extend_from_slice(companion_identity);
    message.extend_from_slice(account.identity.public_key.public_key_bytes());
    let key = PublicKey::from_djb_public_key_bytes(companion_identity).map_err(|_| SignError::BadSignature)?;
    if key.verify_signature(&message, &signature) { Ok(()) } else { Err(SignError::BadSignature) }
}

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
        let address = ProtocolAddress::new("companion", u32::from(device).into());
        let mut identity_store = PhoneIdentity {
            pair: IdentityKeyPair::new(IdentityKey::new(identity.public_key), identity.private_key.clone()),
            known: HashMap::new(),
        };
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
        self.sessions.0.remove(&address.to_string());
        process_prekey_bundle(&address, &mut self.sessions, &mut identity_store, &bundle, rng, UsePQRatchet::No)
            .await?;
        let message = message_encrypt(plaintext, &address, &mut self.sessions, &mut identity_store).await?;
        Ok(message.serialize().to_vec())
    }
}

/// The padded `Message` carrying the app-state key share.
pub fn key_share_plaintext(account: &Account, device_indexes: Vec<u32>, now_ms: i64) -> Vec<u8> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_qr_with_and_without_prefix() {
        let k = STANDARD.encode([7u8; 32]);
        let raw = format!("2@ref,{k},{k},{k},9");
        let a = parse_qr(&raw).unwrap();
        let b = parse_qr(&format!("{QR_DEEP_LINK_PREFIX}{raw}")).unwrap();
        assert_eq!(a.pairing_ref, "2@ref");
        assert_eq!(b.pairing_ref, "2@ref");
        assert_eq!(a.adv_secret, [7u8; 32]);
    }

    #[test]
    fn rejects_malformed_qr() {
        assert_eq!(parse_qr("hello").err(), Some(ScanError::Fields(1)));
        assert_eq!(parse_qr("a,b,c,d").err(), Some(ScanError::Key("noise key")));
    }
}
