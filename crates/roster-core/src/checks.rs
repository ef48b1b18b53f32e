//! Checking lists of numbers on WhatsApp, safely: a job persisted in
//! SQLite, paced at a rate the operator sets, stopping when the server says
//! `429 rate-overlimit` and waiting the backoff it asks for, retrying other
//! errors a few times, and resuming after a restart where it stopped.
//!
//! Invariants:
//! - a line is answered in the same transaction that records the answer, so
//!   a crash loses nothing; only the one batch in flight at the moment of a
//!   crash is asked again (the server cannot tell us what it answered);
//! - invalid and duplicate lines never reach the server;
//! - numbers known locally (checked within [`RECENT`], or in the directory
//!   with their LID) are answered at once, with where the answer came from;
//! - batches are spaced so that no window of time sees more numbers than
//!   the rate allows (plus one batch).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tracing::{Instrument, debug, info, info_span, warn};
use whatsapp_rust::prelude::*;
use whatsapp_rust::request::IqError;
use whatsapp_rust::{Client, ContactError};

use crate::import::{ImportError, Parsed, Preview};
use crate::session::{ConnectionState, SessionSnapshot};
use crate::store::{Store, StoreError};

/// An answer younger than this is reused instead of asking again.
pub const RECENT: Duration = Duration::from_secs(7 * 24 * 3600);
/// The pace a new job starts at: conservative, as accounts that check
/// thousands of numbers at once get restricted.
pub const DEFAULT_RATE: u32 = 120;
/// The fastest pace the operator may choose (numbers per minute).
pub const MAX_RATE: u32 = 60_000;
/// The most numbers in one query.
const MAX_BATCH: usize = 50;
/// How often an error other than rate-limiting is retried before the batch
/// is marked failed.
const RETRIES: u32 = 3;
/// The shortest time between two progress updates of a running job.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// The wait after a 429 that names no backoff.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("Silva, Ana"), "\"Silva, Ana\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_cell("+55 11 99999-9999"), "+55 11 99999-9999", "numbers stay as typed");
        assert_eq!(csv_cell("-cmd"), "'-cmd");
    }
}

#[derive(Debug, Error)]
pub enum CheckError {
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("the rate must be between 1 and {MAX_RATE} numbers a minute, not {0}")]
    Rate(u32),
    #[error("there is no check job {0}")]
    NoJob(i64),
    #[error("job {id} is {state}; it cannot be {action}")]
    State { id: i64, state: String, action: &'static str },
    #[error(transparent)]
    Group(#[from] crate::groups::GroupError),
    #[error("none of the chosen lines is a registered number to add")]
    NothingToAdd,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for CheckError {
    fn from(e: rusqlite::Error) -> Self {
        CheckError::Store(e.into())
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Paused,
    Cancelled,
    Done,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Paused => "paused",
            JobState::Cancelled => "cancelled",
            JobState::Done => "done",
        }
    }

    fn parse(s: &str) -> JobState {
        match s {
            "running" => JobState::Running,
            "paused" => JobState::Paused,
            "cancelled" => JobState::Cancelled,
            _ => JobState::Done,
        }
    }
}

/// Where a job stands, as the progress bar shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CheckProgress {
    pub job: i64,
    pub state: JobState,
    /// Non-blank lines in the list.
    pub lines: usize,
    /// Lines that needed an answer (numbers and LIDs, each once).
    pub to_check: usize,
    /// Of those, answered so far (by the server or locally).
    pub checked: usize,
    pub on_whatsapp: usize,
    pub not_on_whatsapp: usize,
    /// Answered from what Roster already knew.
    pub known: usize,
    /// Gave up after retries.
    pub failed: usize,
    /// Numbers and LIDs left out because the job is limited to a group they are not in.
    pub outside_group: usize,
    /// The group the job is limited to (its subject), if any.
    pub group: Option<String>,
    pub invalid: usize,
    pub duplicates: usize,
    pub rate_per_min: u32,
    /// Unix time until which the server asked us to wait.
    pub backoff_until: Option<u64>,
    /// Seconds left at the current pace.
    pub eta_secs: Option<u64>,
    /// Milliseconds this run spent waiting for the server's answers.
    pub server_ms: u64,
    /// Milliseconds this run spent holding back to keep the pace.
    pub paced_ms: u64,
}

/// One line of a job with its answer.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CheckRow {
    pub line: i64,
    pub input: String,
    /// `number`, `lid`, `duplicate` or `invalid`.
    pub kind: String,
    /// E.164 digits or LID (number/lid), the reason (invalid), the first line (duplicate).
    pub value: Option<String>,
    /// `pending`, `done`, `failed` or `skipped`.
    pub state: String,
    pub on_whatsapp: Option<bool>,
    pub phone: Option<String>,
    pub lid: Option<String>,
    pub name: Option<String>,
    /// `server`, `recent check` or `directory`.
    pub source: Option<String>,
    pub checked_at: Option<u64>,
    pub error: Option<String>,
}

pub(crate) const MIGRATION: &str = "
    CREATE TABLE number_check (
        phone       TEXT PRIMARY KEY,
        on_whatsapp INTEGER NOT NULL,
        lid         TEXT,
        checked_at  INTEGER NOT NULL
    );
    CREATE TABLE check_job (
        id           INTEGER PRIMARY KEY,
        created_at   INTEGER NOT NULL,
        state        TEXT NOT NULL,
        rate_per_min INTEGER NOT NULL
    );
    CREATE TABLE check_item (
        job_id      INTEGER NOT NULL REFERENCES check_job(id) ON DELETE CASCADE,
        line        INTEGER NOT NULL,
        input       TEXT NOT NULL,
        kind        TEXT NOT NULL,
        value       TEXT,
        state       TEXT NOT NULL,
        on_whatsapp INTEGER,
        phone       TEXT,
        lid         TEXT,
        name        TEXT,
        source      TEXT,
        checked_at  INTEGER,
        error       TEXT,
        PRIMARY KEY (job_id, line)
    );
    CREATE INDEX check_item_state ON check_item(job_id, state, line);
    CREATE INDEX number_check_lid ON number_check(lid);";

/// A line as the runner sends it.
struct Pending {
    line: i64,
    kind: String,
    value: String,
}

impl Pending {
    fn jid(&self) -> Jid {
        if self.kind == "lid" { Jid::lid(self.value.as_str()) } else { Jid::pn(self.value.as_str()) }
    }

    /// How answers are keyed: E.164 digits, or `LID@lid`.
    fn key(&self) -> String {
        if self.kind == "lid" { format!("{}@lid", self.value) } else { self.value.clone() }
    }
}

/// What the server said about one number or LID.
struct Answer {
    on_whatsapp: bool,
    phone: Option<String>,
    lid: Option<String>,
}

impl Store {
    /// Creates a job from a normalised list in one transaction, answering at
    /// once what is already known.
    /// With `group`, only that group's participants are answered (from the
    /// group's saved member list, no server call); other lines are skipped.
    pub(crate) fn create_check_job(
        &self,
        preview: &Preview,
        rate: u32,
        group: Option<&str>,
    ) -> Result<i64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO check_job (created_at, state, rate_per_min, group_jid) VALUES (unixepoch(), 'running', ?1, ?2)",
            params![rate, group],
        )?;
        let job = tx.last_insert_rowid();
        {
            let mut insert = tx.prepare(
                "INSERT INTO check_item (job_id, line, input, kind, value, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for line in &preview.lines {
                let (kind, value, state) = match &line.parsed {
                    Parsed::Number { e164 } => ("number", e164.clone(), "pending"),
                    Parsed::Lid { lid } => ("lid", lid.clone(), "pending"),
                    Parsed::Duplicate { of_line } => ("duplicate", of_line.to_string(), "skipped"),
                    Parsed::Invalid { reason } => ("invalid", reason.clone(), "skipped"),
                };
                insert.execute(params![job, line.line as i64, line.input, kind, value, state])?;
            }
            if let Some(group) = group {
                scope_to_group(&tx, job, group)?;
            }
            // Known numbers: a recent check, else the directory's LID↔PN pair.
            tx.execute(
                "UPDATE check_item SET state = 'done', source = 'recent check',
                    on_whatsapp = (SELECT n.on_whatsapp FROM number_check n WHERE n.phone = check_item.value),
                    lid = (SELECT n.lid FROM number_check n WHERE n.phone = check_item.value),
                    phone = value,
                    checked_at = (SELECT n.checked_at FROM number_check n WHERE n.phone = check_item.value)
                 WHERE job_id = ?1 AND kind = 'number' AND state = 'pending'
                   AND value IN (SELECT phone FROM number_check WHERE checked_at > unixepoch() - ?2)",
                params![job, RECENT.as_secs() as i64],
            )?;
            tx.execute(
                "UPDATE check_item SET state = 'done', source = 'recent check', on_whatsapp = 1, lid = value,
                    phone = (SELECT n.phone FROM number_check n WHERE n.lid = check_item.value),
                    checked_at = (SELECT n.checked_at FROM number_check n WHERE n.lid = check_item.value)
                 WHERE job_id = ?1 AND kind = 'lid' AND state = 'pending'
                   AND value IN (SELECT lid FROM number_check WHERE on_whatsapp = 1 AND checked_at > unixepoch() - ?2)",
                params![job, RECENT.as_secs() as i64],
            )?;
            tx.execute(
                "UPDATE check_item SET state = 'done', source = 'directory', on_whatsapp = 1,
                    phone = (SELECT c.phone FROM contact c WHERE (check_item.kind = 'number' AND c.phone = check_item.value)
                                OR (check_item.kind = 'lid' AND c.lid = check_item.value)),
                    lid = (SELECT c.lid FROM contact c WHERE (check_item.kind = 'number' AND c.phone = check_item.value)
                                OR (check_item.kind = 'lid' AND c.lid = check_item.value)),
                    checked_at = (SELECT c.updated_at FROM contact c WHERE (check_item.kind = 'number' AND c.phone = check_item.value)
                                OR (check_item.kind = 'lid' AND c.lid = check_item.value))
                 WHERE job_id = ?1 AND state = 'pending' AND EXISTS (
                    SELECT 1 FROM contact c WHERE c.lid IS NOT NULL AND c.phone IS NOT NULL
                      AND ((check_item.kind = 'number' AND c.phone = check_item.value)
                        OR (check_item.kind = 'lid' AND c.lid = check_item.value)))",
                [job],
            )?;
            fill_names(&tx, job)?;
        }
        tx.commit()?;
        Ok(job)
    }

    fn next_pending(&self, job: i64, limit: usize) -> Result<Vec<Pending>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT line, kind, value FROM check_item WHERE job_id = ?1 AND state = 'pending' ORDER BY line LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![job, limit as i64], |r| {
                Ok(Pending { line: r.get(0)?, kind: r.get(1)?, value: r.get(2)? })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Records the server's answers for a batch, durably, in one transaction.
    /// `source` says where the answers come from (`server`, `LID map`).
    fn save_answers(
        &self,
        job: i64,
        batch: &[Pending],
        answers: &HashMap<String, Answer>,
        source: &str,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for item in batch {
            let answer = answers.get(&item.key());
            let on = answer.is_some_and(|a| a.on_whatsapp);
            let phone =
                answer.and_then(|a| a.phone.clone()).or_else(|| (item.kind == "number").then(|| item.value.clone()));
            let lid = answer.and_then(|a| a.lid.clone()).or_else(|| (item.kind == "lid").then(|| item.value.clone()));
            tx.execute(
                "UPDATE check_item SET state = 'done', source = ?6, on_whatsapp = ?3, phone = ?4, lid = ?5,
                    checked_at = unixepoch(), error = NULL,
                    name = CASE WHEN ?3 THEN (SELECT coalesce(c.saved_name, c.push_name) FROM contact c WHERE c.phone = ?4) END
                 WHERE job_id = ?1 AND line = ?2",
                params![job, item.line, on, phone, if on { lid } else { None }, source],
            )?;
            if let Some(phone) = &phone {
                tx.execute(
                    "INSERT INTO number_check (phone, on_whatsapp, lid, checked_at) VALUES (?1, ?2, ?3, unixepoch())
                     ON CONFLICT(phone) DO UPDATE SET on_whatsapp = excluded.on_whatsapp, lid = excluded.lid,
                        checked_at = excluded.checked_at",
                    params![phone, on, answer.and_then(|a| a.lid.clone())],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn fail_batch(&self, job: i64, batch: &[Pending], error: &str) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for item in batch {
            tx.execute(
                "UPDATE check_item SET state = 'failed', error = ?3 WHERE job_id = ?1 AND line = ?2",
                params![job, item.line, error],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn set_job_state(&self, job: i64, state: JobState) -> Result<(), StoreError> {
        self.conn().execute("UPDATE check_job SET state = ?2 WHERE id = ?1", params![job, state.as_str()])?;
        Ok(())
    }

    fn job(&self, job: i64) -> Result<Option<(JobState, u32)>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT state, rate_per_min FROM check_job WHERE id = ?1", [job], |r| {
                Ok((JobState::parse(&r.get::<_, String>(0)?), r.get(1)?))
            })
            .optional()?)
    }

    /// The job the runner should work on: the oldest one running.
    fn running_job(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT id FROM check_job WHERE state = 'running' ORDER BY id LIMIT 1", [], |r| r.get(0))
            .optional()?)
    }

    /// The newest job's progress (finished or not), shown from the start.
    pub(crate) fn latest_check_progress(&self) -> Result<Option<CheckProgress>, StoreError> {
        let latest: Option<i64> = self.conn().query_row("SELECT max(id) FROM check_job", [], |r| r.get(0))?;
        match latest {
            Some(job) => self.progress(job, None),
            None => Ok(None),
        }
    }

    pub(crate) fn check_progress(&self, job: i64) -> Result<Option<CheckProgress>, StoreError> {
        self.progress(job, None)
    }

    fn progress(&self, job: i64, backoff_until: Option<u64>) -> Result<Option<CheckProgress>, StoreError> {
        let Some((state, rate)) = self.job(job)? else { return Ok(None) };
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT count(*),
                    sum(kind IN ('number', 'lid') AND state <> 'skipped'),
                    sum(kind IN ('number', 'lid') AND state = 'done'),
                    sum(state = 'done' AND on_whatsapp = 1),
                    sum(state = 'done' AND on_whatsapp = 0),
                    sum(state = 'done' AND source <> 'server'),
                    sum(state = 'failed'),
                    sum(kind = 'invalid'),
                    sum(kind = 'duplicate'),
                    sum(state = 'pending'),
                    sum(kind IN ('number', 'lid') AND state = 'skipped'),
                    (SELECT coalesce(g.subject, j.group_jid) FROM check_job j LEFT JOIN chat_group g ON g.jid = j.group_jid
                     WHERE j.id = ?1)
             FROM check_item WHERE job_id = ?1",
        )?;
        let n = |v: Option<i64>| v.unwrap_or(0).max(0) as usize;
        let p = stmt.query_row([job], |r| {
            let pending = n(r.get(9)?);
            Ok(CheckProgress {
                job,
                state,
                lines: n(r.get(0)?),
                to_check: n(r.get(1)?),
                checked: n(r.get(2)?),
                on_whatsapp: n(r.get(3)?),
                not_on_whatsapp: n(r.get(4)?),
                known: n(r.get(5)?),
                failed: n(r.get(6)?),
                outside_group: n(r.get(10)?),
                group: r.get(11)?,
                invalid: n(r.get(7)?),
                duplicates: n(r.get(8)?),
                rate_per_min: rate,
                backoff_until,
                eta_secs: (state == JobState::Running && pending > 0)
                    .then(|| (pending as u64 * 60).div_ceil(u64::from(rate.max(1)))),
                server_ms: 0,
                paced_ms: 0,
            })
        })?;
        Ok(Some(p))
    }

    /// Adds the registered numbers among `lines` (all of the job's when
    /// `None`) to the contact directory, in one transaction; returns how
    /// many were not in it before.
    pub(crate) fn add_to_directory(&self, job: i64, lines: Option<&[i64]>) -> Result<usize, CheckError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let picked: Vec<(String, Option<String>)> = {
            let mut stmt = tx.prepare(
                "SELECT line, phone, lid FROM check_item
                 WHERE job_id = ?1 AND on_whatsapp = 1 AND phone IS NOT NULL ORDER BY line",
            )?;
            let rows = stmt.query_map([job], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?))
            })?;
            let chosen: Option<HashSet<i64>> = lines.map(|l| l.iter().copied().collect());
            let (mut picked, mut seen) = (Vec::new(), HashSet::new());
            for row in rows {
                let (line, phone, lid) = row?;
                if chosen.as_ref().is_none_or(|c| c.contains(&line)) && seen.insert(phone.clone()) {
                    picked.push((phone, lid));
                }
            }
            picked
        };
        if picked.is_empty() {
            return Err(CheckError::NothingToAdd);
        }
        let mut added = 0;
        {
            let mut clear_lid = tx.prepare("UPDATE contact SET lid = NULL WHERE lid = ?1 AND phone <> ?2")?;
            let mut shown =
                tx.prepare("SELECT 1 FROM contact WHERE phone = ?1 AND (in_address_book = 1 OR added_at IS NOT NULL)")?;
            let mut upsert = tx.prepare(
                "INSERT INTO contact (phone, lid, added_at, updated_at) VALUES (?1, ?2, unixepoch(), unixepoch())
                 ON CONFLICT(phone) DO UPDATE SET lid = coalesce(excluded.lid, contact.lid),
                    added_at = coalesce(contact.added_at, excluded.added_at)",
            )?;
            for (phone, lid) in &picked {
                if !shown.exists([phone])? {
                    added += 1;
                }
                if let Some(lid) = lid {
                    clear_lid.execute(params![lid, phone])?;
                }
                upsert.execute(params![phone, lid])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    pub(crate) fn check_rows(&self, job: i64, offset: usize, limit: usize) -> Result<Vec<CheckRow>, StoreError> {
        Ok(self.check_page(job, CheckFilter::All, CheckOrder::default(), offset, limit)?.rows)
    }

    pub(crate) fn check_page(
        &self,
        job: i64,
        filter: CheckFilter,
        order: CheckOrder,
        offset: usize,
        limit: usize,
    ) -> Result<CheckPage, StoreError> {
        let cond = filter.sql();
        let order_by = order.sql();
        let conn = self.conn();
        let total: i64 =
            conn.query_row(&format!("SELECT count(*) FROM check_item WHERE job_id = ?1 AND {cond}"), [job], |r| {
                r.get(0)
            })?;
        let mut stmt = conn.prepare(&format!(
            "SELECT line, input, kind, value, state, on_whatsapp, phone, lid, name, source, checked_at, error
             FROM check_item WHERE job_id = ?1 AND {cond} ORDER BY {order_by} LIMIT ?2 OFFSET ?3"
        ))?;
        let rows = stmt
            .query_map(params![job, limit as i64, offset as i64], |r| {
                Ok(CheckRow {
                    line: r.get(0)?,
                    input: r.get(1)?,
                    kind: r.get(2)?,
                    value: r.get(3)?,
                    state: r.get(4)?,
                    on_whatsapp: r.get(5)?,
                    phone: r.get(6)?,
                    lid: r.get(7)?,
                    name: r.get(8)?,
                    source: r.get(9)?,
                    checked_at: r.get::<_, Option<i64>>(10)?.map(|t| t.max(0) as u64),
                    error: r.get(11)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CheckPage { total: total as usize, rows })
    }
}

/// Which lines of a job to list.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckFilter {
    All,
    OnWhatsapp,
    NotOnWhatsapp,
    /// Invalid and duplicate lines.
    Skipped,
    Failed,
}

impl CheckFilter {
    fn sql(self) -> &'static str {
        match self {
            CheckFilter::All => "1",
            CheckFilter::OnWhatsapp => "on_whatsapp = 1",
            CheckFilter::NotOnWhatsapp => "on_whatsapp = 0",
            CheckFilter::Skipped => "state = 'skipped'",
            CheckFilter::Failed => "state = 'failed'",
        }
    }
}

/// The column a job's lines are sorted by.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckSort {
    /// Input order.
    #[default]
    Line,
    /// The E.164 number (or the LID when the number is unknown).
    Number,
    OnWhatsapp,
    Name,
    Source,
}

/// How a page of results is ordered; ties keep the input order.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct CheckOrder {
    #[serde(default)]
    pub by: CheckSort,
    #[serde(default)]
    pub desc: bool,
}

impl CheckOrder {
    fn sql(self) -> String {
        let column = match self.by {
            CheckSort::Line => return format!("line {}", if self.desc { "DESC" } else { "ASC" }),
            CheckSort::Number => "coalesce(phone, lid, value)",
            CheckSort::OnWhatsapp => "on_whatsapp",
            CheckSort::Name => "name COLLATE NOCASE",
            CheckSort::Source => "coalesce(source, error)",
        };
        // Lines with nothing in the column (invalid, pending) always go last.
        format!("{column} IS NULL, {column} {}, line", if self.desc { "DESC" } else { "ASC" })
    }
}

/// A page of a job's lines.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CheckPage {
    /// Lines matching the filter.
    pub total: usize,
    pub rows: Vec<CheckRow>,
}

/// A job's lines as CSV (RFC 4180), in input order, for spreadsheets.
pub fn to_csv(rows: &[CheckRow]) -> String {
    let mut out = String::from("line,input,e164,on_whatsapp,pn_jid,lid,name,status,source,checked_at,note\r\n");
    for r in rows {
        let on = match r.on_whatsapp {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        };
        let status = match (r.kind.as_str(), r.state.as_str()) {
            ("invalid", _) => "invalid",
            ("duplicate", _) => "duplicate",
            (_, state) => state,
        };
        let note = match r.kind.as_str() {
            "invalid" => r.value.clone().unwrap_or_default(),
            "duplicate" => format!("duplicate of line {}", r.value.as_deref().unwrap_or("?")),
            _ => r.error.clone().unwrap_or_default(),
        };
        let e164 = match r.kind.as_str() {
            "number" | "lid" => r.phone.clone().unwrap_or_default(),
            _ => String::new(),
        };
        let pn_jid = if r.on_whatsapp == Some(true) && !e164.is_empty() {
            format!("{e164}@s.whatsapp.net")
        } else {
            String::new()
        };
        let lid = r.lid.as_ref().map(|l| format!("{l}@lid")).unwrap_or_default();
        let cells = [
            r.line.to_string(),
            r.input.clone(),
            e164,
            on.to_owned(),
            pn_jid,
            lid,
            r.name.clone().unwrap_or_default(),
            status.to_owned(),
            r.source.clone().unwrap_or_default(),
            r.checked_at.map(|t| t.to_string()).unwrap_or_default(),
            note,
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Quotes a cell when needed, and defuses text a spreadsheet would run as a
/// formula (`=…`, `@…`, or `+`/`-` not followed by a digit).
pub(crate) fn csv_cell(cell: &str) -> String {
    let mut chars = cell.chars();
    let formula = match chars.next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !chars.next().is_some_and(|c| c.is_ascii_digit() || c == ' ' || c == '('),
        _ => false,
    };
    let cell = if formula { format!("'{cell}") } else { cell.to_owned() };
    if cell.contains([',', '"', '\n', '\r']) { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell }
}

/// Answers a job's lines from a group's member list: members are on
/// WhatsApp with the identity the group gives; everyone else is skipped.
fn scope_to_group(tx: &rusqlite::Transaction<'_>, job: i64, group: &str) -> rusqlite::Result<()> {
    const MEMBER: &str = "FROM group_member m WHERE m.group_jid = ?2
        AND ((check_item.kind = 'number' AND m.phone = check_item.value)
          OR (check_item.kind = 'lid' AND m.lid = check_item.value))";
    tx.execute(
        &format!(
            "UPDATE check_item SET state = 'done', source = 'group', on_whatsapp = 1,
                phone = (SELECT m.phone {MEMBER} LIMIT 1),
                lid = (SELECT m.lid {MEMBER} LIMIT 1),
                checked_at = (SELECT g.fetched_at FROM chat_group g WHERE g.jid = ?2)
             WHERE job_id = ?1 AND state = 'pending' AND EXISTS (SELECT 1 {MEMBER})"
        ),
        params![job, group],
    )?;
    let subject: Option<String> =
        tx.query_row("SELECT subject FROM chat_group WHERE jid = ?1", [group], |r| r.get(0)).optional()?;
    tx.execute(
        "UPDATE check_item SET state = 'skipped', error = ?2 WHERE job_id = ?1 AND state = 'pending'",
        params![job, format!("not a member of {}", subject.as_deref().unwrap_or(group))],
    )?;
    Ok(())
}

/// Names from the directory for the registered lines of a job.
fn fill_names(tx: &rusqlite::Transaction<'_>, job: i64) -> rusqlite::Result<usize> {
    tx.execute(
        "UPDATE check_item SET name = (SELECT coalesce(c.saved_name, c.push_name) FROM contact c WHERE c.phone = check_item.phone)
         WHERE job_id = ?1 AND state = 'done' AND on_whatsapp = 1 AND name IS NULL",
        [job],
    )
}

#[derive(Default)]
pub(crate) struct Timing {
    server: Duration,
    paced: Duration,
}

/// The background worker that works through running jobs.
pub(crate) struct Runner {
    pub(crate) store: Arc<Store>,
    pub(crate) state: watch::Sender<SessionSnapshot>,
    /// The client of the current connection.
    pub(crate) client: watch::Receiver<Option<Arc<Client>>>,
    pub(crate) wake: Arc<Notify>,
    /// Set when the session stops: the runner finishes the batch in flight
    /// (so its answers are saved, not asked again) and returns.
    pub(crate) stop: watch::Receiver<bool>,
    /// Time spent waiting for answers, and holding back for the pace, per
    /// job, in this run.
    pub(crate) timing: HashMap<i64, Timing>,
}

impl Runner {
    pub(crate) async fn run(mut self) {
        while !*self.stop.borrow() {
            let job = match self.store.running_job() {
                Ok(Some(job)) => job,
                Ok(None) => {
                    self.idle().await;
                    continue;
                }
                Err(e) => {
                    warn!("cannot read the check jobs: {e}");
                    self.idle().await;
                    continue;
                }
            };
            let span = info_span!("checks.job", job);
            self.work(job).instrument(span).await;
        }
    }

    /// Works on `job` until it is done, paused or cancelled.
    async fn work(&mut self, job: i64) {
        let mut last_sent: Option<(Instant, usize)> = None;
        let mut retries = 0u32;
        let mut backoff_until: Option<u64> = None;
        let mut last_published: Option<Instant> = None;
        while !*self.stop.borrow() {
            let Ok(Some((state, rate))) = self.store.job(job) else { return };
            if state != JobState::Running {
                self.publish(Some(job), None);
                return;
            }
            let batch_size = (rate as usize / 60).clamp(1, MAX_BATCH);
            let batch = match self.store.next_pending(job, batch_size) {
                Ok(batch) => batch,
                Err(e) => {
                    warn!("cannot read job {job}: {e}");
                    return;
                }
            };
            let was_empty = batch.is_empty();
            let Some(batch) = self.answer_from_lid_map(job, batch).await else { return };
            if batch.is_empty() && !was_empty {
                continue; // all answered locally; no pace to keep
            }
            if batch.is_empty() {
                let _ = self.store.set_job_state(job, JobState::Done);
                info!("check job done");
                self.publish(Some(job), None);
                return;
            }
            // Progress is counted over the whole job, so it is published at
            // most a few times a second however fast the batches go.
            if last_published.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY) {
                self.publish(Some(job), backoff_until);
                last_published = Some(Instant::now());
            }
            // Pace: the previous batch's share of the rate must have passed.
            if let Some((at, n)) = last_sent {
                let gap = Duration::from_secs_f64(n as f64 * 60.0 / f64::from(rate));
                let held = Instant::now();
                let woken = self.sleep_until(at + gap).await;
                self.timing.entry(job).or_default().paced += held.elapsed();
                if woken {
                    continue; // paused, cancelled or the rate changed: look again
                }
            }
            let Some(client) = self.connected().await else { return };
            let sent = Instant::now();
            last_sent = Some((sent, batch.len()));
            let outcome = check(&client, &batch).await;
            self.timing.entry(job).or_default().server += sent.elapsed();
            match outcome {
                Ok(answers) => {
                    retries = 0;
                    backoff_until = None;
                    if let Err(e) = self.store.save_answers(job, &batch, &answers, "server") {
                        warn!("cannot save answers: {e}");
                        return;
                    }
                    debug!(n = batch.len(), "batch checked");
                }
                Err(CheckFailure::RateLimited(backoff)) => {
                    let wait = backoff.unwrap_or(DEFAULT_BACKOFF);
                    warn!(?wait, "the server asked to slow down (429 rate-overlimit); waiting");
                    backoff_until = Some(unix_now() + wait.as_secs());
                    self.publish(Some(job), backoff_until);
                    self.sleep_until(sent + wait).await;
                }
                Err(CheckFailure::Disconnected) => {
                    info!("connection lost during a check; it resumes once connected");
                }
                Err(CheckFailure::Other(error)) => {
                    retries += 1;
                    if retries > RETRIES {
                        warn!(%error, "giving up on a batch after {RETRIES} retries");
                        let _ = self.store.fail_batch(job, &batch, &error);
                        retries = 0;
                    } else {
                        let wait = Duration::from_secs(1 << (retries - 1));
                        warn!(%error, ?wait, "a check failed; retrying");
                        self.sleep_until(Instant::now() + wait).await;
                    }
                }
            }
        }
    }

    /// Answers what the client's LID↔PN map already knows (a mapping exists
    /// only for registered users); returns the lines still to ask.
    async fn answer_from_lid_map(&self, job: i64, batch: Vec<Pending>) -> Option<Vec<Pending>> {
        let client = self.client.borrow().clone();
        let Some(client) = client else { return Some(batch) };
        let mut known = Vec::new();
        let mut answers = HashMap::new();
        let mut rest = Vec::new();
        for item in batch {
            match client.get_lid_pn_entry(&item.jid()).await {
                Ok(Some(entry)) => {
                    let answer = Answer {
                        on_whatsapp: true,
                        phone: Some(entry.phone_number.to_string()),
                        lid: Some(entry.lid.to_string()),
                    };
                    answers.insert(item.key(), answer);
                    known.push(item);
                }
                _ => rest.push(item),
            }
        }
        if !known.is_empty() {
            if let Err(e) = self.store.save_answers(job, &known, &answers, "LID map") {
                warn!("cannot save answers: {e}");
                return None;
            }
            debug!(n = known.len(), "answered from the client's LID map");
        }
        Some(rest)
    }

    /// Waits for an operator intent or the session's stop.
    async fn idle(&mut self) {
        tokio::select! {
            _ = self.wake.notified() => {}
            _ = self.stop.changed() => {}
        }
    }

    /// Sleeps until `when`; true if woken early (pause, cancel, new rate, stop).
    async fn sleep_until(&mut self, when: Instant) -> bool {
        tokio::select! {
            _ = tokio::time::sleep_until(when) => false,
            _ = self.wake.notified() => true,
            _ = self.stop.changed() => true,
        }
    }

    /// Waits for a connected client; `None` when the session stops.
    async fn connected(&mut self) -> Option<Arc<Client>> {
        let mut snapshots = self.state.subscribe();
        loop {
            if *self.stop.borrow() {
                return None;
            }
            let connected = snapshots.borrow_and_update().state == ConnectionState::Connected;
            if connected && let Some(client) = self.client.borrow_and_update().clone() {
                return Some(client);
            }
            tokio::select! {
                _ = snapshots.changed() => {}
                _ = self.client.changed() => {}
                _ = self.stop.changed() => {}
            }
        }
    }

    fn publish(&self, job: Option<i64>, backoff_until: Option<u64>) {
        let Some(job) = job else { return };
        // Read while holding the snapshot, so that a progress read earlier
        // elsewhere (an operator intent) cannot land after this newer one.
        self.state.send_if_modified(|s| match self.store.progress(job, backoff_until) {
            Ok(mut progress) => {
                if let (Some(p), Some(t)) = (progress.as_mut(), self.timing.get(&job)) {
                    p.server_ms = t.server.as_millis() as u64;
                    p.paced_ms = t.paced.as_millis() as u64;
                }
                let changed = s.check != progress;
                s.check = progress;
                changed
            }
            Err(e) => {
                warn!("cannot read job {job}'s progress: {e}");
                false
            }
        });
    }
}

enum CheckFailure {
    RateLimited(Option<Duration>),
    Disconnected,
    Other(String),
}

/// Asks the server about one batch; answers keyed by E.164 digits or `LID@lid`.
async fn check(client: &Client, batch: &[Pending]) -> Result<HashMap<String, Answer>, CheckFailure> {
    let jids: Vec<Jid> = batch.iter().map(Pending::jid).collect();
    let results = client.contacts().is_on_whatsapp(&jids).await.map_err(|e| match e {
        ContactError::Iq(IqError::ServerError { code: 429, backoff, .. }) => {
            CheckFailure::RateLimited(backoff.map(|s| Duration::from_secs(u64::from(s))))
        }
        ContactError::Iq(IqError::NotConnected | IqError::Disconnected(_) | IqError::InternalChannelClosed) => {
            CheckFailure::Disconnected
        }
        other => CheckFailure::Other(other.to_string()),
    })?;
    let mut answers = HashMap::new();
    for r in results {
        let (key, phone, lid) = if r.jid.is_lid() {
            (format!("{}@lid", r.jid.user), r.pn_jid.map(|p| p.user.to_string()), Some(r.jid.user.to_string()))
        } else {
            (r.jid.user.to_string(), Some(r.jid.user.to_string()), r.lid.map(|l| l.user.to_string()))
        };
        answers.insert(key, Answer { on_whatsapp: r.is_registered, phone, lid });
    }
    Ok(answers)
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Checks a rate the operator chose.
pub(crate) fn checked_rate(rate: u32) -> Result<u32, CheckError> {
    if (1..=MAX_RATE).contains(&rate) { Ok(rate) } else { Err(CheckError::Rate(rate)) }
}

/// Operator intents on a job, applied to the store; the runner follows.
pub(crate) fn set_state(store: &Store, job: i64, to: JobState) -> Result<(), CheckError> {
    let (state, _) = store.job(job)?.ok_or(CheckError::NoJob(job))?;
    let allowed = match to {
        JobState::Paused => state == JobState::Running,
        JobState::Running => state == JobState::Paused,
        JobState::Cancelled => matches!(state, JobState::Running | JobState::Paused),
        JobState::Done => false,
    };
    if !allowed {
        let action = match to {
            JobState::Paused => "paused",
            JobState::Running => "resumed",
            _ => "cancelled",
        };
        return Err(CheckError::State { id: job, state: state.as_str().into(), action });
    }
    store.set_job_state(job, to)?;
    Ok(())
}

pub(crate) fn set_rate(store: &Store, job: i64, rate: u32) -> Result<(), CheckError> {
    let rate = checked_rate(rate)?;
    store.job(job)?.ok_or(CheckError::NoJob(job))?;
    store.conn().execute("UPDATE check_job SET rate_per_min = ?2 WHERE id = ?1", params![job, rate])?;
    Ok(())
}
