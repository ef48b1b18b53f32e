//! `session.audit()`: the log of operator actions, and the wrappers that
//! write an entry around each action (`started` before, outcome after).

use tracing::warn;

use super::Session;
use crate::audit;
use crate::snapshot::AuditPage;
use crate::store::{Store, StoreError};

/// `session.audit()`.
#[derive(Clone, Copy)]
pub struct Audit<'a>(pub(super) &'a Session);

impl Audit<'_> {
    /// The audit log, newest first.
    pub fn page(&self, offset: usize, limit: usize) -> Result<AuditPage, StoreError> {
        self.0.store.audit().page(offset, limit)
    }

    /// The whole audit log as CSV, oldest first.
    pub fn export_csv(&self) -> Result<String, StoreError> {
        Ok(audit::to_csv(&self.0.store.audit().page(0, usize::MAX >> 1)?.rows))
    }
}

/// Runs an operator action under an audit entry: written as `started`
/// before the action, given its outcome after. A failure to write the log
/// is itself logged and does not stop the action.
pub(super) async fn audited<T, E: std::fmt::Display>(
    store: &Store,
    action: &str,
    target: Option<&str>,
    describe: impl FnOnce(&T) -> String,
    run: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let entry = begin(store, action, target);
    let result = run.await;
    end(store, entry, &result, describe);
    result
}

/// [`audited`] for an action that does not wait.
pub(super) fn audited_sync<T, E: std::fmt::Display>(
    store: &Store,
    action: &str,
    target: Option<&str>,
    describe: impl FnOnce(&T) -> String,
    run: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    let entry = begin(store, action, target);
    let result = run();
    end(store, entry, &result, describe);
    result
}

fn begin(store: &Store, action: &str, target: Option<&str>) -> Option<i64> {
    store.audit().begin(action, target).inspect_err(|e| warn!("cannot write the audit log: {e}")).ok()
}

fn end<T, E: std::fmt::Display>(
    store: &Store,
    entry: Option<i64>,
    result: &Result<T, E>,
    describe: impl FnOnce(&T) -> String,
) {
    let Some(id) = entry else { return };
    let (done, detail) = match result {
        Ok(value) => (true, describe(value)),
        Err(e) => (false, e.to_string()),
    };
    if let Err(e) = store.audit().end(id, done, &detail) {
        warn!("cannot write the audit log: {e}");
    }
}
