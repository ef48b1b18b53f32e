//! `session.app_state()`: re-syncing chosen app-state scopes.

use tracing::{Instrument, info, info_span};

use super::audit::audited;
use super::{Session, Unknown};
use crate::appsync::{self, Scope, SyncError, SyncReport};

/// `session.app_state()`.
#[derive(Clone, Copy)]
pub struct AppState<'a>(pub(super) &'a Session);

impl AppState<'_> {
    /// Re-syncs the app-state collections behind `scopes` (the default
    /// scopes when empty); `full` rebuilds them from the server's snapshot.
    pub async fn sync(self, scopes: &[Scope], full: bool) -> Result<SyncReport, SyncError> {
        let span = info_span!("session.sync_app_state", ?scopes, full);
        let names: Vec<String> = scopes.iter().map(|s| format!("{s:?}").to_lowercase()).collect();
        let target = if names.is_empty() { "default scopes".to_owned() } else { names.join(", ") };
        let describe = |r: &SyncReport| format!("{}{} changes", if r.full { "full; " } else { "" }, r.patches());
        let work = async {
            let unknown = |e: &SyncError| {
                matches!(e, SyncError::Interrupted | SyncError::NotConnected).then_some(Unknown::Dropped)
            };
            let report = self
                .0
                .retried_once_reconnected(
                    || SyncError::NotConnected,
                    unknown,
                    |client| async move { appsync::sync(&client, scopes, full).await },
                )
                .await?;
            info!(patches = report.patches(), "app state sync done");
            Ok(report)
        };
        audited(&self.0.store, "sync", Some(&target), describe, work).instrument(span).await
    }
}
