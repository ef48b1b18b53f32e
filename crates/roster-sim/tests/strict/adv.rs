//! The device identity the phone hands over in `pair-success` (ADV), checked
//! as whatsmeow's `handlePair` does, and the companion's counter-signature
//! for `pair-device-sign`.

use anyhow::{Context, anyhow, ensure};
use buffa::Message;
use hmac::{KeyInit, Mac};
use wacore_libsignal::protocol::KeyPair;
use waproto::whatsapp as wa;

use super::verify_signature;

const ACCOUNT_SIGNATURE_PREFIX: &[u8] = &[6, 0];
const DEVICE_SIGNATURE_PREFIX: &[u8] = &[6, 1];

/// A device identity whose HMAC and account signature checked out.
pub struct Verified {
    signed: wa::ADVSignedDeviceIdentity,
    /// The key that signed it: the phone's account identity.
    pub account_key: [u8; 32],
    pub key_index: u32,
}

/// Checks `<device-identity>`: its HMAC under our ADV secret, then the
/// account's signature over `[6, 0] ‖ details ‖ our identity key`.
pub fn verify(container: &[u8], adv_secret: &[u8; 32], identity: &[u8]) -> anyhow::Result<Verified> {
    let container = wa::ADVSignedDeviceIdentityHMAC::decode_from_slice(container)
        .context("<device-identity> is not an ADVSignedDeviceIdentityHMAC")?;
    ensure!(
        container.account_type != Some(wa::ADVEncryptionType::HOSTED),
        "the account is marked hosted, which a phone's account is not"
    );
    let signed_raw = container.details.context("the HMAC container has no details")?;
    let hmac = container.hmac.context("the HMAC container has no HMAC")?;
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(adv_secret).expect("any key length");
    mac.update(&signed_raw);
    mac.verify_slice(&hmac).map_err(|_| anyhow!("the device identity's HMAC does not verify with our ADV secret"))?;

    let signed = wa::ADVSignedDeviceIdentity::decode_from_slice(&signed_raw)
        .context("the HMAC container's details are not an ADVSignedDeviceIdentity")?;
    let details = signed.details.as_deref().context("the signed device identity has no details")?;
    let account_key: [u8; 32] = signed
        .account_signature_key
        .as_deref()
        .and_then(|k| k.try_into().ok())
        .context("the signed device identity has no 32-byte account signature key")?;
    let signature =
        signed.account_signature.as_deref().context("the signed device identity has no account signature")?;
    verify_signature(&account_key, &[ACCOUNT_SIGNATURE_PREFIX, details, identity].concat(), signature)
        .context("the account signature over our identity key does not verify")?;

    let device =
        wa::ADVDeviceIdentity::decode_from_slice(details).context("the device identity's details do not decode")?;
    let key_index = device.key_index.context("the device identity has no key index")?;
    Ok(Verified { signed, account_key, key_index })
}

/// Our signature over `[6, 1] ‖ details ‖ our identity key ‖ account key`,
/// added to the signed identity we send back.
pub fn countersign(verified: Verified, identity: &KeyPair) -> Vec<u8> {
    let mut signed = verified.signed;
    let details = signed.details.as_deref().unwrap_or_default();
    let message =
        [DEVICE_SIGNATURE_PREFIX, details, identity.public_key.public_key_bytes(), &verified.account_key].concat();
    let signature = identity
        .private_key
        .calculate_signature(&message, &mut rand::make_rng::<rand::rngs::StdRng>())
        .expect("our identity key signs");
    signed.device_signature = Some(signature.to_vec());
    // As whatsmeow does: the server already knows the account's key.
    signed.account_signature_key = None;
    signed.encode_to_vec()
}
