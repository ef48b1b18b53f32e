//! The server's Noise certificate chain, checked as whatsmeow's
//! `verifyServerCert` does, but against the simulator's root key instead of
//! WhatsApp's: root → intermediate → leaf, each an XEdDSA signature, the
//! serials linking them, both validity windows, and the leaf's key equal to
//! the static key the server proved in the handshake.

use anyhow::{Context, ensure};
use buffa::Message;
use waproto::whatsapp::{self as wa, cert_chain::noise_certificate::Details};

use super::verify_signature;

pub fn verify_chain(chain: &[u8], root: &[u8; 32], server_static: &[u8; 32], now: u64) -> anyhow::Result<()> {
    let chain = wa::CertChain::decode_from_slice(chain).context("the certificate chain does not decode")?;
    let (inter_raw, inter_sig) = signed_details(chain.intermediate.into_option(), "intermediate")?;
    let (leaf_raw, leaf_sig) = signed_details(chain.leaf.into_option(), "leaf")?;

    verify_signature(root, &inter_raw, &inter_sig)
        .context("the intermediate certificate is not signed by the simulator's root key")?;
    let inter = Details::decode_from_slice(&inter_raw).context("the intermediate's details do not decode")?;
    ensure!(
        inter.issuer_serial.unwrap_or(0) == 0,
        "the intermediate's issuer serial is {:?}, not the root's (0)",
        inter.issuer_serial
    );
    let inter_key = inter.key.as_deref().unwrap_or_default();
    ensure!(inter_key.len() == 32, "the intermediate's key is {} bytes long, not 32", inter_key.len());
    valid_at(&inter, now).context("the intermediate certificate is not valid now")?;

    verify_signature(inter_key, &leaf_raw, &leaf_sig)
        .context("the leaf certificate is not signed by the intermediate's key")?;
    let leaf = Details::decode_from_slice(&leaf_raw).context("the leaf's details do not decode")?;
    ensure!(
        leaf.issuer_serial == inter.serial,
        "the leaf's issuer serial {:?} is not the intermediate's serial {:?}",
        leaf.issuer_serial,
        inter.serial
    );
    ensure!(
        leaf.key.as_deref() == Some(&server_static[..]),
        "the leaf certificate's key is not the server's static Noise key"
    );
    valid_at(&leaf, now).context("the leaf certificate is not valid now")?;
    Ok(())
}

/// A certificate's serialized details and signature, both required.
fn signed_details(cert: Option<wa::cert_chain::NoiseCertificate>, which: &str) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let cert = cert.with_context(|| format!("the chain has no {which} certificate"))?;
    let details = cert.details.with_context(|| format!("the {which} certificate has no details"))?;
    let signature = cert.signature.with_context(|| format!("the {which} certificate has no signature"))?;
    Ok((details, signature))
}

fn valid_at(details: &Details, now: u64) -> anyhow::Result<()> {
    let (not_before, not_after) = (details.not_before.unwrap_or(0), details.not_after.unwrap_or(0));
    ensure!(not_before <= now, "it is valid from {not_before} only (now {now})");
    ensure!(now <= not_after, "it expired at {not_after} (now {now})");
    Ok(())
}
