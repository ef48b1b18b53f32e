//! The simulator's Noise certificate chain: root → intermediate → leaf.
//!
//! Real servers present a chain rooted in WhatsApp's key; the simulator signs
//! its own with a root key pair derived from the seed, so a client that lets
//! the root key be configured can verify it for real (XEdDSA).

use buffa::Message;
use wacore_libsignal::protocol::KeyPair;
use waproto::whatsapp::{self as wa, cert_chain::noise_certificate};

pub const INTERMEDIATE_SERIAL: u32 = 1;
pub const LEAF_SERIAL: u32 = 2;

/// The server's long-term Noise key and the chain that vouches for it.
pub struct ServerIdentity {
    pub root: KeyPair,
    pub static_key: KeyPair,
    pub cert_chain: Vec<u8>,
}

impl ServerIdentity {
    pub fn issue(rng: &mut rand::rngs::StdRng) -> ServerIdentity {
        let root = KeyPair::generate(rng);
        let intermediate = KeyPair::generate(rng);
        let static_key = KeyPair::generate(rng);
        // Valid from 2024 to 2100: long enough that clients cache it and use IK.
        let (not_before, not_after) = (1_700_000_000u64, 4_100_000_000u64);

        let inter_details = noise_certificate::Details {
            serial: Some(INTERMEDIATE_SERIAL),
            issuer_serial: Some(0),
            key: Some(intermediate.public_key.public_key_bytes().to_vec()),
            not_before: Some(not_before),
            not_after: Some(not_after),
        }
        .encode_to_vec();
        let leaf_details = noise_certificate::Details {
            serial: Some(LEAF_SERIAL),
            issuer_serial: Some(INTERMEDIATE_SERIAL),
            key: Some(static_key.public_key.public_key_bytes().to_vec()),
            not_before: Some(not_before),
            not_after: Some(not_after),
        }
        .encode_to_vec();
        let inter_sig = root.private_key.calculate_signature(&inter_details, rng).expect("sign");
        let leaf_sig = intermediate.private_key.calculate_signature(&leaf_details, rng).expect("sign");
        let cert_chain = wa::CertChain {
            leaf: buffa::MessageField::some(wa::cert_chain::NoiseCertificate {
                details: Some(leaf_details),
                signature: Some(leaf_sig.to_vec()),
            }),
            intermediate: buffa::MessageField::some(wa::cert_chain::NoiseCertificate {
                details: Some(inter_details),
                signature: Some(inter_sig.to_vec()),
            }),
        }
        .encode_to_vec();
        ServerIdentity { root, static_key, cert_chain }
    }

    pub fn root_public(&self) -> [u8; 32] {
        self.root.public_key.public_key_bytes().try_into().expect("32-byte key")
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use thiserror::Error;
    use wacore_libsignal::protocol::PublicKey;

    use super::*;

    #[derive(Debug, Error, PartialEq, Eq)]
    enum CertError {
        #[error("cert chain does not decode: {0}")]
        Decode(String),
        #[error("cert chain is missing {0}")]
        Missing(&'static str),
        #[error("{0} signature does not verify")]
        BadSignature(&'static str),
        #[error("leaf issuer serial does not match the intermediate")]
        IssuerMismatch,
        #[error("leaf key is not the server's static key")]
        WrongLeafKey,
    }

    /// Verifies a chain the way a client does, against a root key of the caller's choosing.
    fn verify_chain(chain: &[u8], root: &[u8; 32], server_static: &[u8]) -> Result<(), CertError> {
        let chain = wa::CertChain::decode_from_slice(chain).map_err(|e| CertError::Decode(e.to_string()))?;
        let inter = chain.intermediate.into_option().ok_or(CertError::Missing("intermediate"))?;
        let leaf = chain.leaf.into_option().ok_or(CertError::Missing("leaf"))?;
        let inter_bytes = inter.details.ok_or(CertError::Missing("intermediate details"))?;
        let leaf_bytes = leaf.details.ok_or(CertError::Missing("leaf details"))?;
        let decode =
            |b: &[u8]| noise_certificate::Details::decode_from_slice(b).map_err(|e| CertError::Decode(e.to_string()));
        let inter_details = decode(&inter_bytes)?;
        let leaf_details = decode(&leaf_bytes)?;
        let verify = |key: &[u8], msg: &[u8], sig: Option<Vec<u8>>, what| {
            let key = PublicKey::from_djb_public_key_bytes(key).map_err(|_| CertError::BadSignature(what))?;
            match sig {
                Some(sig) if key.verify_signature(msg, &sig) => Ok(()),
                _ => Err(CertError::BadSignature(what)),
            }
        };
        verify(root, &inter_bytes, inter.signature, "intermediate")?;
        if leaf_details.issuer_serial != inter_details.serial {
            return Err(CertError::IssuerMismatch);
        }
        let inter_key = inter_details.key.ok_or(CertError::Missing("intermediate key"))?;
        verify(&inter_key, &leaf_bytes, leaf.signature, "leaf")?;
        if leaf_details.key.as_deref() != Some(server_static) {
            return Err(CertError::WrongLeafKey);
        }
        Ok(())
    }

    #[test]
    fn chain_verifies_against_own_root_only() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let id = ServerIdentity::issue(&mut rng);
        let static_pub = id.static_key.public_key.public_key_bytes();
        verify_chain(&id.cert_chain, &id.root_public(), static_pub).unwrap();

        let other = ServerIdentity::issue(&mut rng);
        assert_eq!(
            verify_chain(&id.cert_chain, &other.root_public(), static_pub),
            Err(CertError::BadSignature("intermediate"))
        );
        assert_eq!(
            verify_chain(&id.cert_chain, &id.root_public(), other.static_key.public_key.public_key_bytes()),
            Err(CertError::WrongLeafKey)
        );
        // WhatsApp's real root does not vouch for the simulator.
        assert!(verify_chain(&id.cert_chain, &wacore_noise::WA_CERT_PUB_KEY, static_pub).is_err());
    }

    #[test]
    fn tampered_chain_is_refused() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(8);
        let id = ServerIdentity::issue(&mut rng);
        let mut chain = id.cert_chain.clone();
        let last = chain.len() - 1;
        chain[last] ^= 0x01;
        assert!(verify_chain(&chain, &id.root_public(), id.static_key.public_key.public_key_bytes()).is_err());
    }
}
