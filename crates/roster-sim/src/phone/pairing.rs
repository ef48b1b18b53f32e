//! Pairing, as the phone does it: it reads the QR code a companion shows,
//! signs the companion's device identity (ADV) and hands it over in
//! `pair-success`, then checks the companion's counter-signature before the
//! device is linked.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use buffa::Message;
use hmac::{KeyInit, Mac};
use thiserror::Error;
use tracing::info;
use wacore_binary::Jid;
use wacore_binary::builder::NodeBuilder;
use wacore_libsignal::protocol::PublicKey;
use waproto::whatsapp::{self as wa, ADVEncryptionType};

use super::devices;
use crate::lobby::{AccountNo, ClaimError};
use crate::nodes::{server_jid, unix_now};
use crate::shared::Shared;
use crate::state::{Account, ConnId, Push, Registration, Scanned, World};

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
    #[error("the companion showing this QR code is linking to account {0} already")]
    OtherAccount(AccountNo),
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

/// Account `account`'s phone scans a QR code: it claims the connection
/// that shows it, signs the companion in and tells it. Returns the new
/// device's JID.
pub fn scan(shared: &Shared, account: AccountNo, qr: &str) -> Result<String, ScanError> {
    let scanned = parse_qr(qr)?;
    let unknown = || ScanError::UnknownRef(scanned.pairing_ref.clone());
    let (conn, registration) = shared.lobby().by_ref(&scanned.pairing_ref).ok_or_else(unknown)?;
    if registration.noise_key != scanned.noise_key {
        return Err(ScanError::NoiseMismatch);
    }
    if registration.identity != scanned.identity {
        return Err(ScanError::IdentityMismatch);
    }
    let pushes = match shared.lobby().claim(conn, account) {
        Ok((_, pushes)) => pushes,
        Err(ClaimError::Gone) => return Err(unknown()),
        Err(ClaimError::Taken(other)) => return Err(ScanError::OtherAccount(other)),
    };
    let mut world = shared.world_of(account);
    world.connections.insert(conn, pushes);
    let device = sign_in(shared, &mut world, conn, registration, &scanned.adv_secret)
        .ok_or_else(|| ScanError::UnknownRef(scanned.pairing_ref.clone()))?;
    info!(device = %device, "phone scanned the QR code");
    Ok(device.to_string())
}

/// The phone signs the companion on `conn` in (after a QR scan or a typed
/// code): `pair-success` with its device identity, HMAC'd with the secret
/// both sides hold. Returns the device's JID, or `None` if the companion's
/// connection is gone.
pub(crate) fn sign_in(
    shared: &Shared,
    world: &mut World,
    conn: ConnId,
    registration: Registration,
    adv_secret: &[u8; 32],
) -> Option<Jid> {
    // Its other refs can no longer be scanned, by this phone or another.
    shared.lobby().retire_refs(conn);
    let key_index = world.account.next_key_index;
    world.account.next_key_index += 1;
    let device_id = key_index as u16;
    let mut rng: rand::rngs::StdRng = rand::make_rng();
    let container =
        sign_device_identity(&world.account, key_index, &registration.identity, adv_secret, unix_now(), &mut rng);
    let device_jid = Jid::pn_device(world.account.phone.as_str(), device_id);
    let device_lid = Jid::lid_device(world.account.lid.as_str(), device_id);
    let iq = NodeBuilder::new("iq")
        .attr("from", server_jid())
        .attr("type", "set")
        .attr("id", format!("ps-{}", shared.next_id()))
        .attr("xmlns", "md")
        .attr("t", unix_now().to_string())
        .children([NodeBuilder::new("pair-success")
            .children([
                NodeBuilder::new("device-identity").bytes(container).build(),
                NodeBuilder::new("device").attr("jid", device_jid.clone()).attr("lid", device_lid).build(),
                NodeBuilder::new("platform").attr("name", "android").build(),
            ])
            .build()])
        .build();
    world.scanned.insert(conn, Scanned { device_id, key_index, registration });
    if !world.push(conn, Push::Node(iq)) {
        world.scanned.remove(&conn);
        return None;
    }
    Some(device_jid)
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LinkError {
    #[error("pair-device-sign from a connection that was not scanned")]
    NotScanned,
    #[error("pairing rejected: {0}")]
    Signature(#[from] SignError),
}

/// The companion on `conn` returned its `pair-device-sign`: once its
/// signature checks out, its device is linked. Returns the device id.
pub fn link_signed(world: &mut World, conn: ConnId, signed_identity: &[u8]) -> Result<u16, LinkError> {
    let scanned = world.scanned.remove(&conn).ok_or(LinkError::NotScanned)?;
    verify_device_signature(&world.account, &scanned.registration.identity, signed_identity)?;
    Ok(devices::link(world, scanned))
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
