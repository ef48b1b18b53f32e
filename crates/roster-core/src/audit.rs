//! The audit log: every operator action (block, unblock, bulk block and its
//! undo, number checks, adding to contacts, sync, logout) with its time and
//! outcome, in roster.db.
//!
//! An entry is written as `started` before the action reaches the server
//! and given its outcome once it is known, so an action cut short by a
//! crash stays visible as `started` (no outcome recorded).

use rusqlite::params;
use serde::Serialize;

use crate::checks::csv_cell;
use crate::store::{Store, StoreError};

pub(crate) const MIGRATION: &str = "
    CREATE TABLE audit (
        id      INTEGER PRIMARY KEY,
        at      INTEGER NOT NULL,
        action  TEXT NOT NULL,
        target  TEXT,
        outcome TEXT NOT NULL,   -- started | done | failed
        detail  TEXT
    );";

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix time the action started.
    pub at: u64,
    pub action: String,
    pub target: Option<String>,
    /// `started` (in progress, or cut short), `done` or `failed`.
    pub outcome: String,
    pub detail: Option<String>,
}

/// The newest entries first.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AuditPage {
    pub total: usize,
    pub rows: Vec<AuditEntry>,
}

impl Store {
    pub(crate) fn audit_begin(&self, action: &str, target: Option<&str>) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO audit (at, action, target, outcome) VALUES (unixepoch(), ?1, ?2, 'started')",
            params![action, target],
        )?;
        Ok(conn.last_insert_rowid())
    }

    pub(crate) fn audit_end(&self, id: i64, done: bool, detail: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE audit SET outcome = ?2, detail = ?3 WHERE id = ?1",
            params![id, if done { "done" } else { "failed" }, detail],
        )?;
        Ok(())
    }

    pub(crate) fn audit_page(&self, offset: usize, limit: usize) -> Result<AuditPage, StoreError> {
        let conn = self.conn();
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

/// The log as CSV, oldest first (times in UTC, ISO 8601).
pub fn to_csv(rows: &[AuditEntry]) -> String {
    let mut out = String::from("id,time,action,target,outcome,detail\n");
    for e in rows.iter().rev() {
        let cells = [
            e.id.to_string(),
            iso_time(e.at),
            e.action.clone(),
            e.target.clone().unwrap_or_default(),
            e.outcome.clone(),
            e.detail.clone().unwrap_or_default(),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// `2026-11-22T10:11:12Z`
fn iso_time(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_time(1_763_807_472), "2025-11-22T10:31:12Z");
        assert_eq!(iso_time(951_782_400), "2000-02-29T00:00:00Z");
    }
}
