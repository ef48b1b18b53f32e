//! The audit log: every operator action (block, unblock, bulk block and its
//! undo, number checks, adding to contacts, sync, logout) with its time and
//! outcome, in roster.db (`store.audit()`).
//!
//! An entry is written as `started` before the action reaches the server
//! and given its outcome once it is known, so an action cut short by a
//! crash stays visible as `started` (no outcome recorded).

use crate::clock::iso_time;
use crate::csv::{LineEnd, Writer};
use crate::snapshot::AuditEntry;

/// The log as CSV, oldest first (times in UTC, ISO 8601).
pub fn to_csv(rows: &[AuditEntry]) -> String {
    let mut out = Writer::new(LineEnd::Lf);
    out.record(&["id", "time", "action", "target", "outcome", "detail"]);
    for e in rows.iter().rev() {
        out.record(&[
            e.id.to_string(),
            iso_time(e.at),
            e.action.clone(),
            e.target.clone().unwrap_or_default(),
            e.outcome.as_str().to_owned(),
            e.detail.clone().unwrap_or_default(),
        ]);
    }
    out.finish()
}
