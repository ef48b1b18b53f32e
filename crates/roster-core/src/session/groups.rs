//! `session.groups()`: the groups the account is in.

use tracing::{Instrument, info, info_span};

use super::Session;
use crate::groups::{self, GroupError};
use crate::snapshot::GroupSummary;

/// `session.groups()`.
#[derive(Clone, Copy)]
pub struct Groups<'a>(pub(super) &'a Session);

impl Groups<'_> {
    /// The groups the account is in: fresh from the server when connected
    /// (and saved), else the ones saved at the last connection.
    pub async fn list(self) -> Result<Vec<GroupSummary>, GroupError> {
        let span = info_span!("session.groups");
        async {
            let Some(client) = self.0.connected_client().await else {
                let saved = self.0.store.groups().list()?;
                return if saved.is_empty() { Err(GroupError::NotConnected) } else { Ok(saved) };
            };
            let fetched = groups::fetch_all(&client).await?;
            self.0.store.groups().replace(&fetched)?;
            info!(groups = fetched.len(), "groups fetched");
            Ok(self.0.store.groups().list()?)
        }
        .instrument(span)
        .await
    }
}
