//! A minimal strict client, built from wacore's lower layers only (no
//! `whatsapp-rust` `Client`): the connection (`conn`), the server's
//! certificate chain (`cert`) and the ADV device identity of pairing (`adv`),
//! each checked as whatsmeow checks it.

pub mod adv;
pub mod cert;
pub mod conn;

use std::time::Duration;

use anyhow::{Context, anyhow, ensure};
use wacore_libsignal::protocol::PublicKey;

/// How long any one step may take: generous, as CI's machine is busy.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// `fut`, or an error naming `what` once [`DEADLINE`] has passed.
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> anyhow::Result<T> {
    tokio::time::timeout(DEADLINE, fut).await.map_err(|_| anyhow!("timed out after {DEADLINE:?} waiting for {what}"))
}

/// Checks an XEdDSA signature by a Curve25519 key, as libsignal clients do.
pub fn verify_signature(key: &[u8], message: &[u8], signature: &[u8]) -> anyhow::Result<()> {
    ensure!(signature.len() == 64, "the signature is {} bytes long, not 64", signature.len());
    let key = PublicKey::from_djb_public_key_bytes(key).context("the signing key is not a 32-byte Curve25519 key")?;
    ensure!(key.verify_signature(message, signature), "the XEdDSA signature does not verify");
    Ok(())
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
