//! The Noise responder: XX for pairing and first logins, IK for reconnects
//! with a cached certificate chain, and XXfallback when IK cannot proceed.
//! Sans-io: each step takes and returns frame payloads.

use buffa::Message;
use thiserror::Error;
use wacore_binary::consts::{NOISE_PATTERN_IK, NOISE_PATTERN_XX, NOISE_PATTERN_XXFALLBACK, WA_CONN_HEADER};
use wacore_libsignal::protocol::KeyPair;
use wacore_noise::{NoiseCipher, NoiseHandshake};
use waproto::whatsapp::{self as wa, HandshakeMessage, handshake_message};

use crate::cert::ServerIdentity;

#[derive(Debug, Error)]
pub enum NoiseError {
    #[error("handshake message does not decode: {0}")]
    Decode(String),
    #[error("handshake message lacks {0}")]
    Missing(&'static str),
    #[error("handshake crypto failed: {0}")]
    Crypto(String),
}

impl From<wacore_noise::HandshakeError> for NoiseError {
    fn from(e: wacore_noise::HandshakeError) -> Self {
        NoiseError::Crypto(e.to_string())
    }
}

pub enum ClientHello {
    Xx { ephemeral: [u8; 32] },
    Ik { ephemeral: [u8; 32], encrypted_static: Vec<u8>, encrypted_payload: Vec<u8> },
}

pub fn parse_client_hello(frame: &[u8]) -> Result<ClientHello, NoiseError> {
    let msg = HandshakeMessage::decode_from_slice(frame).map_err(|e| NoiseError::Decode(e.to_string()))?;
    let hello = msg.client_hello.into_option().ok_or(NoiseError::Missing("clientHello"))?;
    let ephemeral: [u8; 32] =
        hello.ephemeral.and_then(|e| e.try_into().ok()).ok_or(NoiseError::Missing("a 32-byte ephemeral key"))?;
    Ok(match (hello.r#static, hello.payload) {
        (Some(encrypted_static), Some(encrypted_payload)) => {
            ClientHello::Ik { ephemeral, encrypted_static, encrypted_payload }
        }
        _ => ClientHello::Xx { ephemeral },
    })
}

/// A completed handshake: who the client is and the transport ciphers.
pub struct Established {
    pub client_static: [u8; 32],
    pub payload: wa::ClientPayload,
    /// Server → client.
    pub write: NoiseCipher,
    /// Client → server.
    pub read: NoiseCipher,
}

/// XX (or XXfallback) after the server hello, waiting for the client finish.
pub struct XxResponder {
    h: NoiseHandshake,
    ephemeral: KeyPair,
}

/// Answers an XX hello (or, with `fallback`, an IK hello we cannot accept).
pub fn xx_server_hello(
    server: &ServerIdentity,
    client_ephemeral: &[u8; 32],
    fallback: bool,
    rng: &mut rand::rngs::StdRng,
) -> Result<(XxResponder, Vec<u8>), NoiseError> {
    let pattern = if fallback { NOISE_PATTERN_XXFALLBACK } else { NOISE_PATTERN_XX };
    let mut h = NoiseHandshake::new(pattern, &WA_CONN_HEADER)?;
    h.authenticate(client_ephemeral);
    let ephemeral = KeyPair::generate(rng);
    h.authenticate(ephemeral.public_key.public_key_bytes());
    h.mix_shared_secret(ephemeral.private_key.serialize(), client_ephemeral)?;
    let encrypted_static = h.encrypt(server.static_key.public_key.public_key_bytes())?;
    h.mix_shared_secret(server.static_key.private_key.serialize(), client_ephemeral)?;
    let encrypted_cert = h.encrypt(&server.cert_chain)?;
    let hello = server_hello(ephemeral.public_key.public_key_bytes(), Some(encrypted_static), encrypted_cert);
    Ok((XxResponder { h, ephemeral }, hello))
}

impl XxResponder {
    pub fn finish(mut self, frame: &[u8]) -> Result<Established, NoiseError> {
        let msg = HandshakeMessage::decode_from_slice(frame).map_err(|e| NoiseError::Decode(e.to_string()))?;
        let fin = msg.client_finish.into_option().ok_or(NoiseError::Missing("clientFinish"))?;
        let static_ct = fin.r#static.ok_or(NoiseError::Missing("client static"))?;
        let payload_ct = fin.payload.ok_or(NoiseError::Missing("client payload"))?;
        let client_static: [u8; 32] =
            self.h.decrypt(&static_ct)?.try_into().map_err(|_| NoiseError::Missing("a 32-byte client static key"))?;
        self.h.mix_shared_secret(self.ephemeral.private_key.serialize(), &client_static)?;
        let payload = self.h.decrypt(&payload_ct)?;
        finish(self.h, client_static, &payload)
    }
}

/// Accepts an IK hello: the client already knows our static key.
pub fn ik_accept(
    server: &ServerIdentity,
    client_ephemeral: &[u8; 32],
    encrypted_static: &[u8],
    encrypted_payload: &[u8],
    rng: &mut rand::rngs::StdRng,
) -> Result<(Established, Vec<u8>), NoiseError> {
    let mut h = NoiseHandshake::new(NOISE_PATTERN_IK, &WA_CONN_HEADER)?;
    h.authenticate(server.static_key.public_key.public_key_bytes());
    h.authenticate(client_ephemeral);
    let s_priv = server.static_key.private_key.serialize();
    h.mix_shared_secret(s_priv, client_ephemeral)?;
    let client_static: [u8; 32] =
        h.decrypt(encrypted_static)?.try_into().map_err(|_| NoiseError::Missing("a 32-byte client static key"))?;
    h.mix_shared_secret(s_priv, &client_static)?;
    let payload = h.decrypt(encrypted_payload)?;
    let ephemeral = KeyPair::generate(rng);
    h.authenticate(ephemeral.public_key.public_key_bytes());
    h.mix_shared_secret(ephemeral.private_key.serialize(), client_ephemeral)?;
    h.mix_shared_secret(ephemeral.private_key.serialize(), &client_static)?;
    let encrypted_cert = h.encrypt(&server.cert_chain)?;
    let hello = server_hello(ephemeral.public_key.public_key_bytes(), None, encrypted_cert);
    Ok((finish(h, client_static, &payload)?, hello))
}

fn server_hello(ephemeral: &[u8], encrypted_static: Option<Vec<u8>>, encrypted_cert: Vec<u8>) -> Vec<u8> {
    HandshakeMessage {
        server_hello: buffa::MessageField::some(handshake_message::ServerHello {
            ephemeral: Some(ephemeral.to_vec()),
            r#static: encrypted_static,
            payload: Some(encrypted_cert),
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

fn finish(h: NoiseHandshake, client_static: [u8; 32], payload: &[u8]) -> Result<Established, NoiseError> {
    let payload = wa::ClientPayload::decode_from_slice(payload).map_err(|e| NoiseError::Decode(e.to_string()))?;
    // `finish` returns the initiator's (write, read); the responder swaps them.
    let (initiator_write, initiator_read) = h.finish()?;
    Ok(Established { client_static, payload, write: initiator_read, read: initiator_write })
}
