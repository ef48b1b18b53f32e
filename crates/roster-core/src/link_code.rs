//! Linking by phone number instead of a QR code: the operator types the
//! account's number, Roster shows the 8-character code WhatsApp issues for
//! it, and the operator types that code on the phone (Linked devices → Link
//! with phone number instead). The QR code stays valid meanwhile; whichever
//! the phone completes first links the device.

use thiserror::Error;
use wacore::pair_code::{PairCodeRejection, PairCodeUtils};
use whatsapp_rust::Client;
use whatsapp_rust::pair_code::{PairCodeOptions, PairError};

use crate::clock::unix_now;
use crate::numbers::{E164, TargetError, shown};
use crate::snapshot::LinkCode;

#[derive(Debug, Error)]
pub enum LinkCodeError {
    #[error("this computer is already linked; log out first to link it again")]
    AlreadyLinked,
    #[error("not connected to WhatsApp yet; a code can be asked for once the QR code shows")]
    NotReady,
    #[error(transparent)]
    Number(#[from] TargetError),
    #[error(
        "WhatsApp is refusing codes for this number for now (too many asked); wait a few minutes, or scan the QR code"
    )]
    Throttled,
    #[error("linking by phone number is not available for this account; scan the QR code instead")]
    NotAvailable,
    #[error("WhatsApp did not give a code: {0}")]
    Failed(String),
}

/// Asks WhatsApp for a code for `number` (replacing one already shown).
pub(crate) async fn request(client: &std::sync::Arc<Client>, number: &E164) -> Result<LinkCode, LinkCodeError> {
    // A code still on screen is withdrawn first: WhatsApp allows one at a time.
    client.cancel_pair_code().await;
    let options = PairCodeOptions { phone_number: number.to_string(), ..PairCodeOptions::default() };
    let code = client.pair_with_code(options).await.map_err(|e: PairError| match e.rejection() {
        Some(r) if r.is_throttled() => LinkCodeError::Throttled,
        Some(PairCodeRejection::FeatureNotAvailable) => LinkCodeError::NotAvailable,
        _ => LinkCodeError::Failed(e.to_string()),
    })?;
    Ok(LinkCode {
        code: readable(&code),
        phone_shown: shown(number.as_str()),
        expires_at: unix_now() + PairCodeUtils::code_validity().as_secs(),
        written_off: false,
    })
}

/// "ABCDEFGH" as the phone's own screen groups it: "ABCD-EFGH".
fn readable(code: &str) -> String {
    if code.len() == 8 { format!("{}-{}", &code[..4], &code[4..]) } else { code.to_owned() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_read_in_two_groups() {
        assert_eq!(super::readable("ABCD2345"), "ABCD-2345");
    }
}
