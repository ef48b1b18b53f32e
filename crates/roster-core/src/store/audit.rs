//! The audit log (`audit`): one row per operator action, written as
//! `started` before the action and given its outcome after.

use rusqlite::params;

use super::{Store, StoreError};
use crate::snapshot::{AuditEntry, AuditOutcome, AuditPage};

/// `store.audit()`.
pub struct AuditLog<'a>(pub(super) &'a Store);

impl AuditLog<'_> {
    pub fn begin(&self, action: &str, target: Option<&str>) -> Result<i64, StoreError> {
        let conn = self.0.conn();
        conn.prepare_cached("INSERT INTO audit (at, action, target, outcome) VALUES (unixepoch(), ?1, ?2, ?3)")?
            .execute(params![action, target, AuditOutcome::Started])?;
        Ok(conn.last_insert_rowid())
    }

    pub fn end(&self, id: i64, done: bool, detail: &str) -> Result<(), StoreError> {
        let outcome = if done { AuditOutcome::Done } else { AuditOutcome::Failed };
        self.0
            .conn()
            .prepare_cached("UPDATE audit SET outcome = ?2, detail = ?3 WHERE id = ?1")?
            .execute(params![id, outcome, detail])?;
        Ok(())
    }

    /// Newest first.
    pub fn page(&self, offset: usize, limit: usize) -> Result<AuditPage, StoreError> {
        let conn = self.0.conn();
        let total: i64 = conn.query_row("SELECT count(*) FROM audit", [], |r| r.get(0))?;
        let mut stmt = conn
            .prepare("SELECT id, at, action, target, outcome, detail FROM audit ORDER BY id DESC LIMIT ?1 OFFSET ?2")?;
        let rows = stmt
            .query_map(params![limit as i64, offset as i64], |r| {
                Ok(AuditEntry {
                    id: r.get(0)?,
                    at: r.get::<_, i64>(1)?.max(0) as u64,
                    action: r.get(2)?,
                    target: r.get(3)?,
                    outcome: r.get(4)?,
                    detail: r.get(5)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AuditPage { total: total.max(0) as usize, rows })
    }
}
