//! Re-syncing chosen app-state scopes on demand.
//!
//! The phone keeps the account's settings, contacts and chat state in five
//! app-state collections. The operator picks scopes by what they mean; each
//! maps to the collections that hold it:
//!
//! | scope      | collections                               |
//! |------------|-------------------------------------------|
//! | `contacts` | `critical_unblock_low` (the address book) |
//! | `chats`    | `regular_low`, `regular_high` (archive, mute, star, read) |
//! | `settings` | `critical_block` (push name, locale), `regular` |
//! | `pins`     | `regular_low`                             |
//! | `critical` | `critical_block`, `critical_unblock_low`  |
//!
//! An incremental sync asks for the patches after the local version. A full
//! sync forgets the local state of those collections first (version and
//! mutation MACs), so they are rebuilt from the server's snapshot.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use tracing::info;
use whatsapp_rust::Client;
use whatsapp_rust::sync_task::MajorSyncTask;
use whatsapp_rust::wacore::appstate::hash::HashState;
use whatsapp_rust::wacore::appstate::patch_decode::WAPatchName;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Contacts,
    Chats,
    Settings,
    Pins,
    Critical,
}

/// What a sync with no scopes chosen covers (as the seed API does).
pub const DEFAULT_SCOPES: [Scope; 3] = [Scope::Contacts, Scope::Chats, Scope::Settings];

impl Scope {
    pub const ALL: [Scope; 5] = [Scope::Contacts, Scope::Chats, Scope::Settings, Scope::Pins, Scope::Critical];

    fn collections(self) -> &'static [WAPatchName] {
        use WAPatchName::*;
        match self {
            Scope::Contacts => &[CriticalUnblockLow],
            Scope::Chats => &[RegularLow, RegularHigh],
            Scope::Settings => &[CriticalBlock, Regular],
            Scope::Pins => &[RegularLow],
            Scope::Critical => &[CriticalBlock, CriticalUnblockLow],
        }
    }
}

/// How one collection moved during a sync.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CollectionReport {
    pub name: &'static str,
    /// The local version before (0 after a full sync's reset).
    pub before: u64,
    pub after: u64,
}

/// How many changes a scope brought (its collections' patches together).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ScopeChanges {
    pub scope: Scope,
    pub changes: u64,
}

/// What a sync did, for the window and the logs.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SyncReport {
    pub scopes: Vec<Scope>,
    pub full: bool,
    /// Per scope, in the operator's words; `collections` is the protocol's view.
    pub by_scope: Vec<ScopeChanges>,
    pub collections: Vec<CollectionReport>,
}

impl SyncReport {
    fn new(scopes: Vec<Scope>, full: bool, collections: Vec<CollectionReport>) -> SyncReport {
        let by_scope = scopes
            .iter()
            .map(|&scope| {
                let mine = scope.collections().iter().map(|c| c.as_str()).collect::<BTreeSet<_>>();
                let changes = collections
                    .iter()
                    .filter(|c| mine.contains(c.name))
                    .map(|c| c.after.saturating_sub(c.before))
                    .sum();
                ScopeChanges { scope, changes }
            })
            .collect();
        SyncReport { scopes, full, by_scope, collections }
    }

    /// Patches applied across all collections.
    pub fn patches(&self) -> u64 {
        self.collections.iter().map(|c| c.after.saturating_sub(c.before)).sum()
    }
}

#[derive(Debug, Error)]
pub enum SyncError {
    #[error("not connected: the sync needs the server")]
    NotConnected,
    #[error("the connection dropped during the sync; nothing is lost, run it again once connected")]
    Interrupted,
    #[error("cannot read or reset the local app state: {0}")]
    Store(String),
}

/// The collections behind `scopes` (the defaults when empty), each once.
pub fn collections(scopes: &[Scope]) -> Vec<WAPatchName> {
    let scopes = if scopes.is_empty() { &DEFAULT_SCOPES[..] } else { scopes };
    let names: BTreeSet<&'static str> = scopes.iter().flat_map(|s| s.collections()).map(|c| c.as_str()).collect();
    // Keep the client's own order (critical first), which the names sort into anyway.
    let order = [
        WAPatchName::CriticalBlock,
        WAPatchName::CriticalUnblockLow,
        WAPatchName::RegularLow,
        WAPatchName::RegularHigh,
        WAPatchName::Regular,
    ];
    order.into_iter().filter(|c| names.contains(c.as_str())).collect()
}

pub(crate) async fn sync(client: &Arc<Client>, scopes: &[Scope], full: bool) -> Result<SyncReport, SyncError> {
    let backend = client.persistence_manager().backend();
    let mut reports = Vec::new();
    for name in collections(scopes) {
        if !client.is_connected() {
            return Err(SyncError::Interrupted);
        }
        let mut before = backend.get_version(name.as_str()).await.map_err(store_err)?.version;
        if full {
            backend.clear_mutation_macs(name.as_str()).await.map_err(store_err)?;
            backend.set_version(name.as_str(), HashState::default()).await.map_err(store_err)?;
            before = 0;
        }
        // Boxed as a trait object: the client's sync future is so deeply
        // nested that every crate awaiting it would need a higher
        // recursion limit to lay it out.
        let task: Pin<Box<dyn Future<Output = ()> + Send + '_>> =
            Box::pin(client.process_sync_task(MajorSyncTask::AppStateSync { name, full_sync: full }));
        task.await;
        let after = backend.get_version(name.as_str()).await.map_err(store_err)?.version;
        info!(collection = name.as_str(), before, after, "app state synced");
        reports.push(CollectionReport { name: name.as_str(), before, after });
    }
    if !client.is_connected() {
        return Err(SyncError::Interrupted);
    }
    let scopes = if scopes.is_empty() { DEFAULT_SCOPES.to_vec() } else { scopes.to_vec() };
    Ok(SyncReport::new(scopes, full, reports))
}

fn store_err(e: impl std::fmt::Display) -> SyncError {
    SyncError::Store(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(scopes: &[Scope]) -> Vec<&'static str> {
        collections(scopes).iter().map(|c| c.as_str()).collect()
    }

    #[test]
    fn scopes_map_to_collections_once() {
        assert_eq!(names(&[]), ["critical_block", "critical_unblock_low", "regular_low", "regular_high", "regular"]);
        assert_eq!(names(&[Scope::Contacts]), ["critical_unblock_low"]);
        assert_eq!(names(&[Scope::Pins, Scope::Chats]), ["regular_low", "regular_high"]);
        assert_eq!(names(&[Scope::Critical, Scope::Contacts]), ["critical_block", "critical_unblock_low"]);
        assert_eq!(names(&Scope::ALL).len(), 5);
    }

    #[test]
    fn changes_are_counted_per_scope() {
        let moved = |name, before, after| CollectionReport { name, before, after };
        let report = SyncReport::new(
            vec![Scope::Contacts, Scope::Chats, Scope::Pins],
            false,
            vec![moved("critical_unblock_low", 3, 4), moved("regular_low", 0, 2), moved("regular_high", 5, 5)],
        );
        let changes: Vec<(Scope, u64)> = report.by_scope.iter().map(|s| (s.scope, s.changes)).collect();
        assert_eq!(changes, [(Scope::Contacts, 1), (Scope::Chats, 2), (Scope::Pins, 2)]);
        assert_eq!(report.patches(), 3);
    }
}
