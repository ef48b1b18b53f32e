//! Blocking (and undoing it) many people at once: the registered lines of
//! a number check, or the people marked in the contact list.
//!
//! An action and each of its targets are saved before anything is sent;
//! each target is marked done as the server accepts it, so an interrupted
//! action resumes where it stopped (block and unblock are idempotent, so the
//! one target in flight at a crash is simply sent again). Targets are spaced
//! by [`PACE`]; the blocklist is refetched once at the end.

use std::time::Duration;

use thiserror::Error;
use tracing::{info, warn};
use whatsapp_rust::Client;

use crate::blocklist::{self, BlockError};
use crate::numbers::Target;
use crate::snapshot::{BulkKind, BulkOutcome};
use crate::store::{Store, StoreError};

/// Time between two blocks or unblocks of one action.
pub const PACE: Duration = Duration::from_millis(400);
/// The most targets one action may hold.
pub const MAX_TARGETS: usize = 10_000;

#[derive(Debug, Error)]
pub enum BulkError {
    #[error("nothing to {0}: no registered number is selected")]
    Nothing(&'static str),
    #[error("{0} people at once is too many; at most {MAX_TARGETS}")]
    TooMany(usize),
    #[error("there is no bulk action {0}")]
    NoAction(i64),
    #[error("action {0} was not a block, so it cannot be undone")]
    NotUndoable(i64),
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for BulkError {
    fn from(e: rusqlite::Error) -> Self {
        BulkError::Store(e.into())
    }
}

/// The (LID, number) of each person marked in the list, for a bulk action:
/// pairs already known locally, the rest asked of the server one by one.
/// Those WhatsApp does not know are returned apart, with why; nothing is
/// sent for them.
pub(crate) async fn resolve_people(
    client: &Client,
    store: &Store,
    people: &[Target],
) -> Result<(Vec<(String, Option<String>)>, Vec<(String, String)>), BulkError> {
    let mut targets = Vec::with_capacity(people.len());
    let mut refused = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for person in people {
        match blocklist::resolve(client, store, person).await {
            Ok(pair) => {
                if seen.insert(pair.0.clone()) {
                    targets.push(pair);
                }
            }
            Err(BlockError::NotOnWhatsApp(who)) => refused.push((who, "not on WhatsApp".to_owned())),
            Err(e) => return Err(e.into()),
        }
    }
    Ok((targets, refused))
}

/// Carries out a saved action, target by target, then refetches the list.
pub(crate) async fn run(client: &Client, store: &Store, action: i64) -> Result<BulkOutcome, BulkError> {
    let block = store.bulk().kind(action)? == BulkKind::Block;
    let mut first = true;
    while let Some((lid, _phone)) = store.bulk().next_target(action)? {
        if !first {
            tokio::time::sleep(PACE).await;
        }
        first = false;
        match blocklist::change(client, store, &Target::Lid(lid.clone()), block).await {
            Ok(_) => store.bulk().finish_target(action, &lid, None)?,
            // Not connected: stop here; the action resumes with the connection.
            Err(BlockError::NotConnected) => return Err(BlockError::NotConnected.into()),
            Err(e) => {
                warn!(error = %e, "one {} failed", if block { "block" } else { "unblock" });
                store.bulk().finish_target(action, &lid, Some(&e.to_string()))?;
            }
        }
    }
    store.bulk().finish(action)?;
    let count = blocklist::refresh(client, store).await?;
    let outcome = store.bulk().outcome(action, count)?;
    info!(action, kind = %outcome.kind, done = outcome.done, failed = outcome.failed, count, "bulk action done");
    Ok(outcome)
}
