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

mod pace;
mod runner;

use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use crate::csv;
use crate::import::ImportError;
use crate::snapshot::{CheckRow, JobState, LineKind};
use crate::store::{Store, StoreError};

pub(crate) use runner::Runner;

/// An answer younger than this is reused instead of asking again.
pub const RECENT: Duration = Duration::from_secs(7 * 24 * 3600);
/// The pace a new job starts at: conservative, as accounts that check
/// thousands of numbers at once get restricted.
pub const DEFAULT_RATE: u32 = 120;
/// The fastest pace the operator may choose (numbers per minute).
pub const MAX_RATE: u32 = 60_000;
/// The pace that holds nothing back: each batch goes as soon as the one
/// before is answered (a `429` from the server still pauses the job).
pub const NO_LIMIT: u32 = 0;
/// The most numbers in one query at a chosen pace.
pub(crate) const MAX_BATCH: usize = 50;
/// The numbers in one query with [`NO_LIMIT`]. whatsmeow and Baileys send
/// whatever list they are handed as one usync query; 500 keeps a query and
/// its answer to tens of kilobytes, and one lost answer costs little.
pub(crate) const UNPACED_BATCH: usize = 500;
/// How often an error other than rate-limiting is retried before the batch
/// is marked failed.
pub(crate) const RETRIES: u32 = 3;
/// The shortest time between two progress updates of a running job.
pub(crate) const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// The wait after a 429 that names no backoff.
pub(crate) const DEFAULT_BACKOFF: Duration = Duration::from_secs(60);

#[derive(Debug, Error)]
pub enum CheckError {
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("the pace must be between 1 and {MAX_RATE} numbers a minute, or 0 for no limit, not {0}")]
    Rate(u32),
    #[error("there is no check job {0}")]
    NoJob(i64),
    #[error("job {id} is {state}; it cannot be {action}")]
    State { id: i64, state: JobState, action: &'static str },
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

/// What the operator asks of a job.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JobIntent {
    Pause,
    Resume,
    Cancel,
}

impl JobIntent {
    /// The state the intent leads to, and the one it must start from.
    fn transition(self, from: JobState) -> Option<JobState> {
        match (self, from) {
            (JobIntent::Pause, JobState::Running) => Some(JobState::Paused),
            (JobIntent::Resume, JobState::Paused) => Some(JobState::Running),
            (JobIntent::Cancel, JobState::Running | JobState::Paused) => Some(JobState::Cancelled),
            _ => None,
        }
    }

    /// As the audit log and refusals say it.
    pub fn verb(self) -> &'static str {
        match self {
            JobIntent::Pause => "paused",
            JobIntent::Resume => "resumed",
            JobIntent::Cancel => "cancelled",
        }
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

/// A job's lines as CSV (RFC 4180), in input order, for spreadsheets:
/// numbers in E.164 with their `+`, times in ISO 8601 (UTC).
pub fn to_csv(rows: &[CheckRow]) -> String {
    let mut out = csv::Writer::new(csv::LineEnd::Crlf);
    out.record(&[
        "line",
        "input",
        "e164",
        "on_whatsapp",
        "pn_jid",
        "lid",
        "name",
        "status",
        "source",
        "checked_at",
        "note",
    ]);
    for r in rows {
        let on = match r.on_whatsapp {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        };
        let status = match r.kind {
            LineKind::Invalid | LineKind::Duplicate => r.kind.as_str(),
            LineKind::Number | LineKind::Lid => r.state.as_str(),
        };
        let note = match r.kind {
            LineKind::Invalid => r.value.clone().unwrap_or_default(),
            LineKind::Duplicate => format!("duplicate of line {}", r.value.as_deref().unwrap_or("?")),
            LineKind::Number | LineKind::Lid => r.error.clone().unwrap_or_default(),
        };
        let e164 = match r.kind {
            LineKind::Number | LineKind::Lid => r.phone.as_ref().map(|p| format!("+{p}")).unwrap_or_default(),
            LineKind::Invalid | LineKind::Duplicate => String::new(),
        };
        let pn_jid = if r.on_whatsapp == Some(true) && !e164.is_empty() {
            format!("{}@s.whatsapp.net", &e164[1..])
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
            r.source.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            r.checked_at.map(crate::clock::iso_time).unwrap_or_default(),
            note,
        ];
        out.record(&cells);
    }
    out.finish()
}

/// Checks a rate the operator chose.
pub fn checked_rate(rate: u32) -> Result<u32, CheckError> {
    if rate == NO_LIMIT || (1..=MAX_RATE).contains(&rate) { Ok(rate) } else { Err(CheckError::Rate(rate)) }
}

/// Applies an operator intent to a job in the store; the runner follows.
pub(crate) fn apply(store: &Store, job: i64, intent: JobIntent) -> Result<(), CheckError> {
    let (state, _) = store.checks().job(job)?.ok_or(CheckError::NoJob(job))?;
    let to = intent.transition(state).ok_or(CheckError::State { id: job, state, action: intent.verb() })?;
    store.checks().set_state(job, to)?;
    Ok(())
}

/// Changes a job's pace.
pub(crate) fn set_rate(store: &Store, job: i64, rate: u32) -> Result<(), CheckError> {
    let rate = checked_rate(rate)?;
    store.checks().job(job)?.ok_or(CheckError::NoJob(job))?;
    store.checks().set_rate(job, rate)?;
    Ok(())
}
