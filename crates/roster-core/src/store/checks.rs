//! Number-check jobs (`check_job`), their lines (`check_item`) and the
//! answers reused for a while (`number_check`). A line is answered in the
//! same transaction that records the answer.

use std::collections::{HashMap, HashSet};

use rusqlite::{OptionalExtension, params};
use whatsapp_rust::prelude::Jid;

use super::{Store, StoreError};
use crate::checks::{CheckError, CheckFilter, CheckOrder, CheckSort, NO_LIMIT, RECENT};
use crate::import::{Parsed, Preview};
use crate::numbers;
use crate::snapshot::{AnswerSource, CheckPage, CheckProgress, CheckRow, JobState, LineKind, LineState};

/// `store.checks()`.
pub(crate) struct CheckJobs<'a>(pub(super) &'a Store);

/// A line waiting for an answer: a number (E.164 digits) or a LID.
pub(crate) struct Pending {
    pub line: i64,
    pub kind: LineKind,
    pub value: String,
}

impl Pending {
    pub fn jid(&self) -> Jid {
        if self.kind == LineKind::Lid { Jid::lid(self.value.as_str()) } else { Jid::pn(self.value.as_str()) }
    }

    /// How answers are keyed: E.164 digits, or `LID@lid`.
    pub fn key(&self) -> String {
        if self.kind == LineKind::Lid { format!("{}@lid", self.value) } else { self.value.clone() }
    }
}

/// What the server (or the client's LID map) said about one number or LID.
pub(crate) struct Answer {
    pub on_whatsapp: bool,
    pub phone: Option<String>,
    pub lid: Option<String>,
}

impl CheckJobs<'_> {
    /// Creates a job from a normalised list in one transaction, answering at
    /// once what is already known.
    /// With `group`, only that group's participants are answered (from the
    /// group's saved member list, no server call); other lines are skipped.
    pub(crate) fn create_job(&self, preview: &Preview, rate: u32, group: Option<&str>) -> Result<i64, StoreError> {
        let mut conn = self.0.conn();
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
                    Parsed::Number { e164, .. } => (LineKind::Number, e164.to_string(), LineState::Pending),
                    Parsed::Lid { lid } => (LineKind::Lid, lid.clone(), LineState::Pending),
                    Parsed::Duplicate { of_line } => (LineKind::Duplicate, of_line.to_string(), LineState::Skipped),
                    Parsed::Invalid { reason } => (LineKind::Invalid, reason.clone(), LineState::Skipped),
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

    pub(crate) fn next_pending(&self, job: i64, limit: usize) -> Result<Vec<Pending>, StoreError> {
        let conn = self.0.conn();
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

    /// Which of these numbers Roster has ever seen with a LID (an old check,
    /// the directory): the only ones worth looking up in the client's LID
    /// map, whose misses each cost a query of its own store.
    pub(crate) fn seen_with_lid(&self, phones: &[&str]) -> Result<HashSet<String>, StoreError> {
        if phones.is_empty() {
            return Ok(HashSet::new());
        }
        let marks = vec!["?"; phones.len()].join(",");
        let conn = self.0.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT phone FROM number_check WHERE lid IS NOT NULL AND phone IN ({marks})
             UNION SELECT phone FROM contact WHERE lid IS NOT NULL AND phone IN ({marks})"
        ))?;
        let twice = phones.iter().chain(phones.iter());
        let seen = stmt.query_map(rusqlite::params_from_iter(twice), |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(seen)
    }

    /// Records the server's answers for a batch, durably, in one transaction.
    pub(crate) fn save_answers(
        &self,
        job: i64,
        batch: &[Pending],
        answers: &HashMap<String, Answer>,
        source: AnswerSource,
    ) -> Result<(), StoreError> {
        let mut conn = self.0.conn();
        let tx = conn.transaction()?;
        // Prepared once per connection, not once a line: a batch is many lines.
        let mut answered = tx.prepare_cached(
            "UPDATE check_item SET state = 'done', source = ?6, on_whatsapp = ?3, phone = ?4, lid = ?5,
                checked_at = unixepoch(), error = NULL,
                name = CASE WHEN ?3 THEN (SELECT coalesce(c.saved_name, c.push_name) FROM contact c WHERE c.phone = ?4) END
             WHERE job_id = ?1 AND line = ?2",
        )?;
        let mut remembered = tx.prepare_cached(
            "INSERT INTO number_check (phone, on_whatsapp, lid, checked_at) VALUES (?1, ?2, ?3, unixepoch())
             ON CONFLICT(phone) DO UPDATE SET on_whatsapp = excluded.on_whatsapp, lid = excluded.lid,
                checked_at = excluded.checked_at",
        )?;
        for item in batch {
            let answer = answers.get(&item.key());
            let on = answer.is_some_and(|a| a.on_whatsapp);
            let phone = answer
                .and_then(|a| a.phone.clone())
                .or_else(|| (item.kind == LineKind::Number).then(|| item.value.clone()));
            let lid =
                answer.and_then(|a| a.lid.clone()).or_else(|| (item.kind == LineKind::Lid).then(|| item.value.clone()));
            answered.execute(params![job, item.line, on, phone, if on { lid } else { None }, source])?;
            if let Some(phone) = &phone {
                remembered.execute(params![phone, on, answer.and_then(|a| a.lid.clone())])?;
            }
        }
        drop((answered, remembered));
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn fail_batch(&self, job: i64, batch: &[Pending], error: &str) -> Result<(), StoreError> {
        let mut conn = self.0.conn();
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

    pub(crate) fn set_state(&self, job: i64, state: JobState) -> Result<(), StoreError> {
        self.0.conn().execute("UPDATE check_job SET state = ?2 WHERE id = ?1", params![job, state])?;
        Ok(())
    }

    pub(crate) fn set_rate(&self, job: i64, rate: u32) -> Result<(), StoreError> {
        self.0.conn().execute("UPDATE check_job SET rate_per_min = ?2 WHERE id = ?1", params![job, rate])?;
        Ok(())
    }

    /// A job's state and pace, if it exists.
    pub(crate) fn job(&self, job: i64) -> Result<Option<(JobState, u32)>, StoreError> {
        Ok(self
            .0
            .conn()
            .query_row("SELECT state, rate_per_min FROM check_job WHERE id = ?1", [job], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// The job the runner should work on: the oldest one running.
    pub(crate) fn running_job(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .0
            .conn()
            .query_row("SELECT id FROM check_job WHERE state = 'running' ORDER BY id LIMIT 1", [], |r| r.get(0))
            .optional()?)
    }

    /// The newest job's progress (finished or not), shown from the start.
    pub(crate) fn latest_progress(&self) -> Result<Option<CheckProgress>, StoreError> {
        let latest: Option<i64> = self.0.conn().query_row("SELECT max(id) FROM check_job", [], |r| r.get(0))?;
        match latest {
            Some(job) => self.progress(job, None),
            None => Ok(None),
        }
    }

    pub(crate) fn progress(&self, job: i64, backoff_until: Option<u64>) -> Result<Option<CheckProgress>, StoreError> {
        let Some((state, rate)) = self.job(job)? else { return Ok(None) };
        let conn = self.0.conn();
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
                eta_secs: (state == JobState::Running && pending > 0 && rate != NO_LIMIT)
                    .then(|| (pending as u64 * 60).div_ceil(u64::from(rate))),
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
        let mut conn = self.0.conn();
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
        self.0.search().refresh(
            &conn,
            picked.iter().map(|(p, _)| p.as_str()),
            picked.iter().filter_map(|(_, l)| l.as_deref()),
        );
        Ok(added)
    }

    pub(crate) fn rows(&self, job: i64, offset: usize, limit: usize) -> Result<Vec<CheckRow>, StoreError> {
        Ok(self.page(job, CheckFilter::All, CheckOrder::default(), offset, limit)?.rows)
    }

    pub(crate) fn page(
        &self,
        job: i64,
        filter: CheckFilter,
        order: CheckOrder,
        offset: usize,
        limit: usize,
    ) -> Result<CheckPage, StoreError> {
        let cond = filter_sql(filter);
        let order_by = order_sql(order);
        let conn = self.0.conn();
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
                let phone: Option<String> = r.get(6)?;
                Ok(CheckRow {
                    phone_shown: phone.as_deref().map(numbers::shown),
                    phone,
                    line: r.get(0)?,
                    input: r.get(1)?,
                    kind: r.get(2)?,
                    value: r.get(3)?,
                    state: r.get(4)?,
                    on_whatsapp: r.get(5)?,
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

/// The lines a filter keeps, as a condition on `check_item`.
fn filter_sql(filter: CheckFilter) -> &'static str {
    match filter {
        CheckFilter::All => "1",
        CheckFilter::OnWhatsapp => "on_whatsapp = 1",
        CheckFilter::NotOnWhatsapp => "on_whatsapp = 0",
        CheckFilter::Skipped => "state = 'skipped'",
        CheckFilter::Failed => "state = 'failed'",
    }
}

/// An `ORDER BY` clause for `check_item`; ties keep the input order.
fn order_sql(order: CheckOrder) -> String {
    let column = match order.by {
        CheckSort::Line => return format!("line {}", if order.desc { "DESC" } else { "ASC" }),
        CheckSort::Number => "coalesce(phone, lid, value)",
        CheckSort::OnWhatsapp => "on_whatsapp",
        CheckSort::Name => "name COLLATE NOCASE",
        CheckSort::Source => "coalesce(source, error)",
    };
    // Lines with nothing in the column (invalid, pending) always go last.
    format!("{column} IS NULL, {column} {}, line", if order.desc { "DESC" } else { "ASC" })
}
