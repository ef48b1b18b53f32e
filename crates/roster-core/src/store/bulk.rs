//! Bulk actions (`bulk_action`, `bulk_item`): an action and each of its
//! targets are saved before anything is sent; each target is marked as the
//! server answers, so an interrupted action resumes where it stopped.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::bulk::{BulkError, MAX_TARGETS};
use crate::snapshot::{BulkKind, BulkOutcome};

/// `store.bulk()`.
pub(crate) struct BulkActions<'a>(pub(super) &'a Store);

impl BulkActions<'_> {
    /// Saves a block action over the registered lines of a check (`lines`,
    /// or all of them), before anything is sent.
    pub(crate) fn plan_block(&self, job: i64, lines: Option<&[i64]>) -> Result<i64, BulkError> {
        let mut conn = self.0.conn();
        let tx = conn.transaction()?;
        let targets: Vec<(String, Option<String>)> = match lines {
            None => {
                let mut stmt = tx.prepare(
                    "SELECT DISTINCT lid, phone FROM check_item
                     WHERE job_id = ?1 AND on_whatsapp = 1 AND lid IS NOT NULL ORDER BY line",
                )?;
                let rows = stmt.query_map([job], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            }
            Some(lines) => {
                let mut pick = tx.prepare(
                    "SELECT lid, phone FROM check_item
                     WHERE job_id = ?1 AND line = ?2 AND on_whatsapp = 1 AND lid IS NOT NULL",
                )?;
                let mut targets = Vec::new();
                let mut seen = std::collections::HashSet::new();
                for line in lines {
                    let found: Option<(String, Option<String>)> =
                        pick.query_row(params![job, line], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
                    if let Some(t) = found
                        && seen.insert(t.clone())
                    {
                        targets.push(t);
                    }
                }
                targets
            }
        };
        if targets.is_empty() {
            return Err(BulkError::Nothing("block"));
        }
        if targets.len() > MAX_TARGETS {
            return Err(BulkError::TooMany(targets.len()));
        }
        tx.execute(
            "INSERT INTO bulk_action (kind, job_id, created_at, state) VALUES ('block', ?1, unixepoch(), 'running')",
            [job],
        )?;
        let action = tx.last_insert_rowid();
        for (lid, phone) in &targets {
            tx.execute(
                "INSERT INTO bulk_item (action_id, lid, phone, state) VALUES (?1, ?2, ?3, 'pending')",
                params![action, lid, phone],
            )?;
        }
        tx.commit()?;
        Ok(action)
    }

    /// Saves a block or unblock of people picked in the list (`(LID,
    /// number)` pairs, already resolved), before anything is sent.
    pub(crate) fn plan_people(&self, kind: BulkKind, targets: &[(String, Option<String>)]) -> Result<i64, BulkError> {
        if targets.is_empty() {
            return Err(BulkError::Nothing(kind.as_str()));
        }
        if targets.len() > MAX_TARGETS {
            return Err(BulkError::TooMany(targets.len()));
        }
        let mut conn = self.0.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO bulk_action (kind, created_at, state) VALUES (?1, unixepoch(), 'running')",
            [kind.as_str()],
        )?;
        let action = tx.last_insert_rowid();
        let mut insert = tx
            .prepare("INSERT OR IGNORE INTO bulk_item (action_id, lid, phone, state) VALUES (?1, ?2, ?3, 'pending')")?;
        for (lid, phone) in targets {
            insert.execute(params![action, lid, phone])?;
        }
        drop(insert);
        tx.commit()?;
        Ok(action)
    }

    /// Saves the undo of a block action: unblock what it blocked.
    pub(crate) fn plan_undo(&self, action: i64) -> Result<i64, BulkError> {
        let mut conn = self.0.conn();
        let tx = conn.transaction()?;
        let kind: Option<BulkKind> =
            tx.query_row("SELECT kind FROM bulk_action WHERE id = ?1", [action], |r| r.get(0)).optional()?;
        match kind {
            None => return Err(BulkError::NoAction(action)),
            Some(BulkKind::Block) => {}
            Some(BulkKind::Unblock) => return Err(BulkError::NotUndoable(action)),
        }
        tx.execute(
            "INSERT INTO bulk_action (kind, undoes, created_at, state) VALUES ('unblock', ?1, unixepoch(), 'running')",
            [action],
        )?;
        let undo = tx.last_insert_rowid();
        let n = tx.execute(
            "INSERT INTO bulk_item (action_id, lid, phone, state)
             SELECT ?1, lid, phone, 'pending' FROM bulk_item WHERE action_id = ?2 AND state = 'done'",
            params![undo, action],
        )?;
        if n == 0 {
            return Err(BulkError::Nothing("unblock"));
        }
        tx.commit()?;
        Ok(undo)
    }

    pub(crate) fn next_target(&self, action: i64) -> Result<Option<(String, Option<String>)>, StoreError> {
        Ok(self
            .0
            .conn()
            .query_row(
                "SELECT lid, phone FROM bulk_item WHERE action_id = ?1 AND state = 'pending' ORDER BY rowid LIMIT 1",
                [action],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    pub(crate) fn finish_target(&self, action: i64, lid: &str, error: Option<&str>) -> Result<(), StoreError> {
        self.0.conn().execute(
            "UPDATE bulk_item SET state = ?3, error = ?4 WHERE action_id = ?1 AND lid = ?2",
            params![action, lid, if error.is_some() { "failed" } else { "done" }, error],
        )?;
        Ok(())
    }

    /// Actions left running by an interrupted run, oldest first.
    pub(crate) fn unfinished(&self) -> Result<Vec<i64>, StoreError> {
        let conn = self.0.conn();
        let mut stmt = conn.prepare("SELECT id FROM bulk_action WHERE state = 'running' ORDER BY id")?;
        let ids = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    pub(crate) fn outcome(&self, action: i64, count: usize) -> Result<BulkOutcome, StoreError> {
        let conn = self.0.conn();
        let kind: BulkKind = conn.query_row("SELECT kind FROM bulk_action WHERE id = ?1", [action], |r| r.get(0))?;
        let (done, failed): (i64, i64) = conn.query_row(
            "SELECT coalesce(sum(state = 'done'), 0), coalesce(sum(state = 'failed'), 0) FROM bulk_item WHERE action_id = ?1",
            [action],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut stmt = conn.prepare(
            "SELECT coalesce('+' || phone, lid || '@lid'), error FROM bulk_item
             WHERE action_id = ?1 AND state = 'failed' LIMIT 5",
        )?;
        let errors = stmt.query_map([action], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
        Ok(BulkOutcome { action, kind, done: done as usize, failed: failed as usize, errors, count })
    }

    /// What a saved action does to its targets.
    pub(crate) fn kind(&self, action: i64) -> Result<BulkKind, StoreError> {
        Ok(self.0.conn().query_row("SELECT kind FROM bulk_action WHERE id = ?1", [action], |r| r.get(0))?)
    }

    /// Every target has been tried.
    pub(crate) fn finish(&self, action: i64) -> Result<(), StoreError> {
        self.0.conn().execute("UPDATE bulk_action SET state = 'done' WHERE id = ?1", [action])?;
        Ok(())
    }
}
