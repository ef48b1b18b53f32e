//! Linking with a phone number instead of a QR code, as the server and the
//! phone run it:
//!
//! 1. `companion_hello` (an `md` IQ): the companion names the account's
//!    number and sends its ephemeral key wrapped under the 8-character code
//!    it shows (PBKDF2 of the code, AES-CTR); the server answers a pairing
//!    ref and keeps the request for that number.
//! 2. The operator types the code on the phone ([`enter`]): the phone unwraps
//!    the companion's key with what was typed, and answers `primary_hello`
//!    (a `link_code_companion_reg` notification) with its own ephemeral key,
//!    wrapped the same way, and its identity key.
//! 3. `companion_finish` (an `md` IQ): the companion's key bundle, sealed
//!    with a key from the two ephemeral keys. It opens only if the code typed
//!    was the one shown; then the phone derives the secret both now hold and
//!    signs the device in with `pair-success`, as after a QR scan.
//!
//! A wrong code cannot be told at step 2 (any 32 bytes unwrap to some key):
//! the phone finds out when the bundle does not open, and the companion is
//! never told (it writes the code off after a minute). A code older than
//! [`CODE_VALIDITY`] is refused by the phone outright.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use thiserror::Error;
use tokio::sync::oneshot;
use tracing::{info, warn};
use wacore::libsignal::protocol::{KeyPair, PublicKey};
use wacore::pair_code::PairCodeUtils;
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

use super::pairing;
use crate::lobby::AccountNo;
use crate::nodes::{attr, bytes, child, notification, server_jid};
use crate::shared::Shared;
use crate::state::{ConnId, Push, Registration, World};

/// How long a code may be typed after the companion asked for it.
pub const CODE_VALIDITY: Duration = Duration::from_secs(180);
/// How long the phone waits for the companion's key bundle once the code is typed.
pub const FINISH_TIMEOUT: Duration = Duration::from_secs(30);

/// The companions waiting for a code to be typed, by connection.
pub type CodeRequests = HashMap<ConnId, CodeRequest>;

/// One companion's `companion_hello`.
pub struct CodeRequest {
    /// The number it asked to link to (digits).
    pub phone: String,
    pairing_ref: Vec<u8>,
    /// salt (32) ‖ iv (16) ‖ the companion's ephemeral key under AES-CTR (32).
    wrapped_ephemeral: [u8; 80],
    registration: Registration,
    asked_at: Instant,
    /// Set by [`expire`]: the code reads as older than [`CODE_VALIDITY`].
    expired: bool,
    typed: Option<Typed>,
}

/// What the phone holds once a code was typed, until the bundle arrives.
struct Typed {
    /// The companion's ephemeral key as unwrapped with the typed code.
    companion_ephemeral: [u8; 32],
    primary_ephemeral: KeyPair,
    done: Option<oneshot::Sender<Result<String, CodeError>>>,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CodeError {
    #[error("no companion is waiting for a code for this phone's number")]
    NoRequest,
    #[error("that code has expired; ask the companion for a new one")]
    Expired,
    #[error("a code is 8 letters and digits (no 0, I, O or U), as the companion shows it")]
    Malformed,
    #[error("the code typed is not the one the companion shows; nothing was linked")]
    WrongCode,
    #[error("the companion went away before it finished linking")]
    Gone,
    #[error("the companion's key bundle is malformed: {0}")]
    Bundle(&'static str),
}

/// Why a `companion_hello` is refused (as a `400 bad-request`).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum HelloError {
    #[error("companion_hello lacks {0}")]
    Missing(&'static str),
    #[error("companion_hello's server auth key is not the connection's noise key")]
    NoiseMismatch,
    #[error("companion_hello from a connection that is not pairing")]
    NotPairing,
    #[error("companion_hello from a connection another account's phone already took")]
    OtherAccount,
}

/// What a `companion_hello` carries.
pub struct Hello {
    /// The number it asks to link to (digits).
    pub phone: String,
    wrapped: [u8; 80],
    noise: [u8; 32],
}

/// Reads a `companion_hello`.
pub fn parse_hello(reg: &Node) -> Result<Hello, HelloError> {
    let phone = attr(reg, "jid")
        .and_then(|j| j.split('@').next().map(str::to_owned))
        .filter(|p| !p.is_empty())
        .ok_or(HelloError::Missing("jid"))?;
    let wrapped: [u8; 80] = child(reg, "link_code_pairing_wrapped_companion_ephemeral_pub")
        .and_then(bytes)
        .and_then(|b| b.try_into().ok())
        .ok_or(HelloError::Missing("link_code_pairing_wrapped_companion_ephemeral_pub (80 bytes)"))?;
    let noise: [u8; 32] = child(reg, "companion_server_auth_key_pub")
        .and_then(bytes)
        .and_then(|b| b.try_into().ok())
        .ok_or(HelloError::Missing("companion_server_auth_key_pub"))?;
    Ok(Hello { phone, wrapped, noise })
}

impl Hello {
    /// Whether the hello's server auth key is the registering connection's noise key.
    pub fn check_noise(&self, registration: &Registration) -> Result<(), HelloError> {
        if registration.noise_key == self.noise { Ok(()) } else { Err(HelloError::NoiseMismatch) }
    }
}

/// A fresh pairing ref, printable, as clients that keep it as a string
/// (whatsmeow) expect.
pub fn new_ref(rng: &mut rand::rngs::StdRng) -> Vec<u8> {
    let mut random = [0u8; 18];
    rand::RngExt::fill(rng, &mut random);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random).into_bytes()
}

/// Step 1: the account whose number the companion named keeps its request;
/// returns the pairing ref to answer.
pub fn companion_hello(
    world: &mut World,
    conn: ConnId,
    registration: Registration,
    hello: Hello,
) -> Result<Vec<u8>, HelloError> {
    hello.check_noise(&registration)?;
    let pairing_ref = new_ref(&mut world.rng);
    info!(conn, "a companion asked for a pairing code");
    world.pair_codes.insert(
        conn,
        CodeRequest {
            phone: hello.phone,
            pairing_ref: pairing_ref.clone(),
            wrapped_ephemeral: hello.wrapped,
            registration,
            asked_at: Instant::now(),
            expired: false,
            typed: None,
        },
    );
    Ok(pairing_ref)
}

/// The server's answer to `companion_hello`: the pairing ref.
pub fn hello_answer(pairing_ref: Vec<u8>) -> Node {
    NodeBuilder::new("link_code_companion_reg")
        .children([NodeBuilder::new("link_code_pairing_ref").bytes(pairing_ref).build()])
        .build()
}

/// Step 2: the operator types `code` on the phone. Sends `primary_hello` to
/// the companion that asked for a code for this number most recently;
/// resolves once its key bundle was opened (the device's JID) or not.
pub fn enter(
    shared: &Shared,
    account: AccountNo,
    code: &str,
) -> Result<oneshot::Receiver<Result<String, CodeError>>, CodeError> {
    let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_uppercase();
    if !PairCodeUtils::validate_code(&code) {
        return Err(CodeError::Malformed);
    }
    let (conn, wrapped) = {
        let world = shared.world_of(account);
        let phone = &world.account.phone;
        let (conn, request) = world
            .pair_codes
            .iter()
            .filter(|(_, r)| &r.phone == phone)
            .max_by_key(|(_, r)| r.asked_at)
            .ok_or(CodeError::NoRequest)?;
        if request.expired || request.asked_at.elapsed() > CODE_VALIDITY {
            return Err(CodeError::Expired);
        }
        (*conn, request.wrapped_ephemeral)
    };
    // PBKDF2 twice: slow on purpose, so done outside the world's lock. The
    // wrapping is the same both ways (AES-CTR under a key from the code).
    let companion_ephemeral =
        PairCodeUtils::decrypt_primary_ephemeral_pub(&wrapped, &code).map_err(|_| CodeError::Bundle("wrapping"))?;
    let primary_ephemeral = wacore::crypto::generate_curve_key_pair();
    let primary_pub: [u8; 32] =
        primary_ephemeral.public_key.public_key_bytes().try_into().map_err(|_| CodeError::Bundle("key"))?;
    let wrapped_primary = PairCodeUtils::encrypt_ephemeral_pub(&primary_pub, &code);

    let mut world = shared.world_of(account);
    let identity = world.account.identity.public_key.public_key_bytes().to_vec();
    let request = world.pair_codes.get_mut(&conn).ok_or(CodeError::Gone)?;
    let (done, outcome) = oneshot::channel();
    request.typed = Some(Typed { companion_ephemeral, primary_ephemeral, done: Some(done) });
    let reg = NodeBuilder::new("link_code_companion_reg")
        .attr("stage", "primary_hello")
        .children([
            NodeBuilder::new("link_code_pairing_wrapped_primary_ephemeral_pub").bytes(wrapped_primary.to_vec()).build(),
            NodeBuilder::new("primary_identity_pub").bytes(identity).build(),
            NodeBuilder::new("link_code_pairing_ref").bytes(request.pairing_ref.clone()).build(),
        ])
        .build();
    let hello = notification("link_code_companion_reg", server_jid(), shared.next_id(), vec![reg]);
    if !world.push(conn, Push::Node(hello)) {
        world.pair_codes.remove(&conn);
        return Err(CodeError::Gone);
    }
    info!(conn, "code typed on the phone; primary_hello sent");
    Ok(outcome)
}

/// Step 3: the companion's key bundle. Signs the device in when it opens;
/// either way the phone's wait in [`enter`] ends with the outcome.
pub fn companion_finish(shared: &Shared, world: &mut World, conn: ConnId, reg: &Node) -> Result<(), CodeError> {
    let mut request = world.pair_codes.remove(&conn).ok_or(CodeError::NoRequest)?;
    let Some(mut typed) = request.typed.take() else {
        // Nobody typed a code yet: the server has nothing to pass on.
        world.pair_codes.insert(conn, request);
        return Err(CodeError::NoRequest);
    };
    let result = open_bundle(world, &request, &typed, reg);
    let outcome = match result {
        Ok(adv_secret) => match pairing::sign_in(shared, world, conn, request.registration.clone(), &adv_secret) {
            Some(device) => {
                info!(device = %device, "the typed code opened the companion's bundle; signed in");
                Ok(device.to_string())
            }
            None => Err(CodeError::Gone),
        },
        Err(e) => {
            warn!("{e}");
            // The companion may be asked again with another code typed.
            world.pair_codes.insert(conn, CodeRequest { typed: None, ..request });
            Err(e)
        }
    };
    if let Some(done) = typed.done.take() {
        let _ = done.send(outcome.clone());
    }
    outcome.map(|_| ())
}

/// Opens the bundle (salt ‖ iv ‖ AES-GCM of companion identity ‖ primary
/// identity ‖ 32 random bytes) and derives the ADV secret from it.
fn open_bundle(world: &World, request: &CodeRequest, typed: &Typed, reg: &Node) -> Result<[u8; 32], CodeError> {
    let pairing_ref = child(reg, "link_code_pairing_ref").and_then(bytes).ok_or(CodeError::Bundle("no ref"))?;
    if pairing_ref != request.pairing_ref.as_slice() {
        return Err(CodeError::Bundle("another pairing's ref"));
    }
    let wrapped =
        child(reg, "link_code_pairing_wrapped_key_bundle").and_then(bytes).ok_or(CodeError::Bundle("none"))?;
    let companion_identity = child(reg, "companion_identity_public").and_then(bytes);
    if wrapped.len() < 32 + 12 + 16 || companion_identity != Some(request.registration.identity.as_slice()) {
        return Err(CodeError::Bundle("size or identity"));
    }
    let companion_ephemeral =
        PublicKey::from_djb_public_key_bytes(&typed.companion_ephemeral).map_err(|_| CodeError::WrongCode)?;
    let ephemeral_shared = typed
        .primary_ephemeral
        .private_key
        .calculate_agreement(&companion_ephemeral)
        .map_err(|_| CodeError::WrongCode)?;
    let mut key = [0u8; 32];
    wacore::crypto::hkdf_sha256_into(
        &ephemeral_shared,
        Some(&wrapped[..32]),
        b"link_code_pairing_key_bundle_encryption_key",
        &mut key,
    )
    .map_err(|_| CodeError::Bundle("key derivation"))?;
    let iv: [u8; 12] = wrapped[32..44].try_into().expect("12 bytes");
    let mut bundle = Vec::new();
    wacore::libsignal::crypto::aes_256_gcm_decrypt(&key, &iv, b"", &wrapped[44..], &mut bundle)
        .map_err(|_| CodeError::WrongCode)?;
    let own_identity = world.account.identity.public_key.public_key_bytes();
    if bundle.len() != 96 || bundle[..32] != request.registration.identity || &bundle[32..64] != own_identity {
        return Err(CodeError::Bundle("contents"));
    }
    let companion = PublicKey::from_djb_public_key_bytes(&request.registration.identity)
        .map_err(|_| CodeError::Bundle("companion identity"))?;
    let identity_shared = world
        .account
        .identity
        .private_key
        .calculate_agreement(&companion)
        .map_err(|_| CodeError::Bundle("identity agreement"))?;
    let mut secret_input = Vec::with_capacity(96);
    secret_input.extend_from_slice(&ephemeral_shared);
    secret_input.extend_from_slice(&identity_shared);
    secret_input.extend_from_slice(&bundle[64..96]);
    let mut adv_secret = [0u8; 32];
    wacore::crypto::hkdf_sha256_into(&secret_input, None, b"adv_secret", &mut adv_secret)
        .map_err(|_| CodeError::Bundle("secret derivation"))?;
    Ok(adv_secret)
}

/// Makes every outstanding code read as expired (tests of the phone's refusal).
pub fn expire(world: &mut World) -> usize {
    world.pair_codes.values_mut().map(|r| r.expired = true).count()
}
