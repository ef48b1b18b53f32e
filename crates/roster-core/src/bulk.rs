//! Blocking (and undoing it) many people at once, from a number check.
//!
//! An action and each of its targets are saved before anything is sent;
//! each target is marked done as the server accepts it, so an interrupted
//! action resumes where it stopped (block and unblock are idempotent, so the
//! one target in flight at a crash is simply sent again). Targets are spaced
//! by [`PACE`]; the blocklist is refetched once at the end.

use std::time::Duration;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use thiserror::Error;
use tracing::{info, warn};
use whatsapp_rust::Client;

use crate::blocklist::{self, BlockError};
use crate::numbers::Target;
use crate::store::{Store, StoreError};

/// Time between two blocks or unblocks of one action.
pub const PACE: Duration = Duration::from_millis(400);
/// The most targets one action may hold.
pub const MAX_TARGETS: usize = 10_000;

pub(crate) const MIGRATION: &str = "
    CREATE TABLE bulk_action (
        id         INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,            -- block | unblock
        undoes     INTEGER REFERENCES bulk_action(id),
        job_id     INTEGER,
        created_at INTEGER NOT NULL,
        state      TEXT NOT NULL             -- running | done
    );
    CREATE TABLE bulk_item (
        action_id INTEGER NOT NULL REFERENCES bulk_action(id) ON DELETE CASCADE,
        lid       TEXT NOT NULL,
        phone     TEXT,
        state     TEXT NOT NULL,             -- pending | done | failed
        error     TEXT,
        PRIMARY KEY (action_id, lid)
    );";

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

/// What a bulk action did, as the server left it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct BulkOutcome {
    pub action: i64,
    /// `block` or `unblock`.
    pub kind: String,
    pub done: usize,
    pub failed: usize,
    /// The first few failures: (who, why).
    pub errors: Vec<(String, String)>,
    /// The account's blocked count afterwards (the server's).
    pub count: usize,
}

impl Store {
    /// Saves a block action over the registered lines of a check (`lines`,
    /// or all of them), before anything is sent.
    pub(crate) fn plan_block(&self, job: i64, lines: Option<&[i64]>) -> Result<i64, BulkError> {
        let mut conn = self.conn();
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

    /// Saves the undo of a block action: unblock what it blocked.
    pub(crate) fn plan_undo(&self, action: i64) -> Result<i64, BulkError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let kind: Option<String> =
            tx.query_row("SELECT kind FROM bulk_action WHERE id = ?1", [action], |r| r.get(0)).optional()?;
        match kind.as_deref() {
            None => return Err(BulkError::NoAction(action)),
            Some("block") => {}
            Some(_) => return Err(BulkError::NotUndoable(action)),
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

    fn next_bulk_item(&self, action: i64) -> Result<Option<(String, Option<String>)>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT lid, phone FROM bulk_item WHERE action_id = ?1 AND state = 'pending' ORDER BY rowid LIMIT 1",
                [action],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn finish_bulk_item(&self, action: i64, lid: &str, error: Option<&str>) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE bulk_item SET state = ?3, error = ?4 WHERE action_id = ?1 AND lid = ?2",
            params![action, lid, if error.is_some() { "failed" } else { "done" }, error],
        )?;
        Ok(())
    }

    /// Actions left running by an interrupted run, oldest first.
    pub(crate) fn unfinished_bulk_actions(&self) -> Result<Vec<i64>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id FROM bulk_action WHERE state = 'running' ORDER BY id")?;
        let ids = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    fn bulk_outcome(&self, action: i64, count: usize) -> Result<BulkOutcome, StoreError> {
        let conn = self.conn();
        let kind: String = conn.query_row("SELECT kind FROM bulk_action WHERE id = ?1", [action], |r| r.get(0))?;
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
}

/// Carries out a saved action, target by target, then refetches the list.
pub(crate) async fn run(client: &Client, store: &Store, action: i64) -> Result<BulkOutcome, BulkError> {
    let block = {
        let kind: String =
            store.conn().query_row("SELECT kind FROM bulk_action WHERE id = ?1", [action], |r| r.get(0))?;
        kind == "block"
    };
    let mut first = true;
    while let Some((lid, _phone)) = store.next_bulk_item(action)? {
        if !first {
            tokio::time::sleep(PACE).await;
        }
        first = false;
        match blocklist::change(client, store, &Target::Lid(lid.clone()), block).await {
            Ok(_) => store.finish_bulk_item(action, &lid, None)?,
            // Not connected: stop here; the action resumes with the connection.
            Err(BlockError::NotConnected) => return Err(BlockError::NotConnected.into()),
            Err(e) => {
                warn!(error = %e, "one {} failed", if block { "block" } else { "unblock" });
                store.finish_bulk_item(action, &lid, Some(&e.to_string()))?;
            }
        }
    }
    store.conn().execute("UPDATE bulk_action SET state = 'done' WHERE id = ?1", [action])?;
    let count = blocklist::refresh(client, store).await?;
    let outcome = store.bulk_outcome(action, count)?;
    info!(action, kind = %outcome.kind, done = outcome.done, failed = outcome.failed, count, "bulk action done");
    Ok(outcome)
}
