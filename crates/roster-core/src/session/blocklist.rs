//! `session.blocklist()`: block or unblock anyone the operator names, the
//! server's blocklist and its count.

use tracing::{Instrument, info_span};

use super::audit::audited;
use super::{DEFAULT_COUNTRY, Session, Unknown};
use crate::blocklist::{self, BlockError, BlockOutcome};
use crate::numbers::parse_target;
use crate::snapshot::BlockedEntry;
use crate::store::StoreError;

/// `session.blocklist()`.
#[derive(Clone, Copy)]
pub struct Blocklist<'a>(pub(super) &'a Session);

impl Blocklist<'_> {
    /// Blocks or unblocks whoever `input` names (a number in any common
    /// format, a PN JID or a LID JID). The count in the result, and in the
    /// snapshot, is the server's after the change.
    pub async fn set_blocked(self, input: &str, block: bool) -> Result<BlockOutcome, BlockError> {
        let span = info_span!("session.set_blocked", block);
        let action = if block { "block" } else { "unblock" };
        let describe = |o: &BlockOutcome| {
            let who = o.phone.as_ref().map_or_else(|| format!("{}@lid", o.lid), |p| format!("+{p}"));
            format!("{who}; the account now blocks {}", o.count)
        };
        let work = async {
            let country = self.0.store.setting(DEFAULT_COUNTRY)?;
            let target = parse_target(input, country.as_deref())?;
            let unknown = |e: &BlockError| match e {
                BlockError::NotConnected => Some(Unknown::Dropped),
                BlockError::Timeout => Some(Unknown::Unanswered),
                _ => None,
            };
            let outcome = self
                .0
                .retried_once_reconnected(
                    || BlockError::NotConnected,
                    unknown,
                    |client| {
                        let (store, target) = (&self.0.store, &target);
                        async move { blocklist::set_blocked(&client, store, target, block).await }
                    },
                )
                .await?;
            blocklist::publish_count(&self.0.state, &self.0.store);
            Ok(outcome)
        };
        audited(&self.0.store, action, Some(input.trim()), describe, work).instrument(span).await
    }

    /// Fetches the server's blocklist again (also done on connect and on phone-side changes).
    pub async fn refresh(self) -> Result<usize, BlockError> {
        let client = self.0.connected_client().await.ok_or(BlockError::NotConnected)?;
        let count = blocklist::refresh(&client, &self.0.store).await?;
        blocklist::publish_count(&self.0.state, &self.0.store);
        Ok(count)
    }

    /// The blocklist as last fetched (usable offline).
    pub fn entries(&self) -> Result<Vec<BlockedEntry>, StoreError> {
        self.0.store.blocklist().entries()
    }
}
