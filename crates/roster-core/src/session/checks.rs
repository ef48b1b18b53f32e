//! `session.checks()`: number checks and identifier resolution: preview a
//! list, start a job, follow and steer it, read and export its lines, add
//! its registered numbers to the directory.

use tokio::sync::watch;
use tracing::info;

use super::audit::audited_sync;
use super::{DEFAULT_COUNTRY, Session};
use crate::checks::{self, CheckError, CheckFilter, CheckOrder, JobIntent};
use crate::groups::{self, GroupError};
use crate::import::{self, Preview};
use crate::snapshot::{CheckPage, CheckProgress, CheckRow};

/// `session.checks()`.
#[derive(Clone, Copy)]
pub struct Checks<'a>(pub(super) &'a Session);

impl Checks<'_> {
    /// Normalises a pasted or loaded list (no network): what each line is.
    /// A CSV is read from `column` (0-based), or the column detected.
    pub fn preview(&self, text: &str, column: Option<usize>) -> Result<Preview, CheckError> {
        let country = self.0.store.setting(DEFAULT_COUNTRY)?;
        Ok(import::normalise(text, country.as_deref(), column)?)
    }

    /// Starts checking a list: saved as a job at once (with what is already
    /// known answered), then worked through in the background at `rate`
    /// numbers a minute (`checks::NO_LIMIT`: as fast as answered), also
    /// across restarts.
    ///
    /// With `group` (a JID from [`groups`](Self::groups)), only that group's
    /// participants are resolved, from its member list; other lines are skipped.
    pub fn start(
        &self,
        text: &str,
        column: Option<usize>,
        rate: u32,
        group: Option<&str>,
    ) -> Result<CheckProgress, CheckError> {
        let rate = checks::checked_rate(rate)?;
        if let Some(jid) = group {
            groups::checked_group_jid(jid)?;
            if !self.0.store.groups().list()?.iter().any(|g| g.jid == jid) {
                return Err(GroupError::Unknown(jid.to_owned()).into());
            }
        }
        let preview = self.preview(text, column)?;
        let target = format!("{} lines{}", preview.lines.len(), group.map_or(String::new(), |g| format!(" among {g}")));
        let job = audited_sync(
            &self.0.store,
            "check numbers",
            Some(&target),
            |job| match rate {
                checks::NO_LIMIT => format!("job #{job} with no pace limit"),
                rate => format!("job #{job} at {rate} a minute"),
            },
            || self.0.store.checks().create_job(&preview, rate, group),
        )?;
        info!(
            job,
            lines = preview.lines.len(),
            to_check = preview.to_check().count(),
            rate,
            ?group,
            "number check started"
        );
        self.0.check_wake.notify_one();
        self.progress(job)
    }

    /// Adds the registered numbers of a check (the chosen lines, or all) to
    /// the contact directory; returns how many are new to it.
    pub fn add_to_directory(&self, job: i64, lines: Option<&[i64]>) -> Result<usize, CheckError> {
        let target =
            format!("check #{job}, {}", lines.map_or("all registered".into(), |l| format!("{} lines", l.len())));
        let added = audited_sync(
            &self.0.store,
            "add to contacts",
            Some(&target),
            |n| format!("{n} added"),
            || self.0.store.checks().add_to_directory(job, lines),
        )?;
        info!(job, added, "registered numbers added to the directory");
        self.0.publish(|s| s.directory_version += 1);
        Ok(added)
    }

    pub fn progress(&self, job: i64) -> Result<CheckProgress, CheckError> {
        // Read while holding the snapshot: the runner publishes the same way,
        // so an older read never overwrites a newer progress.
        let mut read = Ok(None);
        self.0.state.send_if_modified(|s| {
            read = self.0.store.checks().progress(job, None);
            let Ok(Some(progress)) = &mut read else { return false };
            if let Some(old) = s.check.as_ref().filter(|old| old.job == job) {
                // Run-time figures only the runner knows.
                progress.server_ms = old.server_ms;
                progress.paced_ms = old.paced_ms;
            }
            let changed = s.check.as_ref() != Some(progress);
            s.check = Some(progress.clone());
            changed
        });
        read?.ok_or(CheckError::NoJob(job))
    }

    /// Lines of a job with their answers, in input order.
    pub fn rows(&self, job: i64, offset: usize, limit: usize) -> Result<Vec<CheckRow>, CheckError> {
        Ok(self.0.store.checks().rows(job, offset, limit)?)
    }

    /// A page of a job's lines, filtered.
    pub fn page(
        &self,
        job: i64,
        filter: CheckFilter,
        order: CheckOrder,
        offset: usize,
        limit: usize,
    ) -> Result<CheckPage, CheckError> {
        Ok(self.0.store.checks().page(job, filter, order, offset, limit)?)
    }

    /// A job's lines and answers as CSV.
    pub fn export_csv(&self, job: i64) -> Result<String, CheckError> {
        self.0.store.checks().job(job)?.ok_or(CheckError::NoJob(job))?;
        Ok(checks::to_csv(&self.0.store.checks().rows(job, 0, usize::MAX >> 1)?))
    }

    /// Pauses, resumes or cancels a job.
    pub fn steer(&self, job: i64, intent: JobIntent) -> Result<CheckProgress, CheckError> {
        let action = match intent {
            JobIntent::Pause => "pause check",
            JobIntent::Resume => "resume check",
            JobIntent::Cancel => "cancel check",
        };
        audited_sync(
            &self.0.store,
            action,
            Some(&format!("check #{job}")),
            |()| String::new(),
            || checks::apply(&self.0.store, job, intent),
        )?;
        info!(job, ?intent, "number check: {action}");
        self.0.check_wake.notify_one();
        self.progress(job)
    }

    /// Changes a job's pace (numbers a minute; `checks::NO_LIMIT` lifts it).
    pub fn set_rate(&self, job: i64, rate: u32) -> Result<CheckProgress, CheckError> {
        checks::set_rate(&self.0.store, job, rate)?;
        self.0.check_wake.notify_one();
        self.progress(job)
    }

    pub(super) fn start_runner(&self) {
        let (stop, stopped) = watch::channel(false);
        let runner = checks::Runner {
            store: self.0.store.clone(),
            state: self.0.state.clone(),
            client: self.0.client.subscribe(),
            wake: self.0.check_wake.clone(),
            stop: stopped,
            timing: Default::default(),
        };
        let task = tokio::spawn(runner.run());
        *self.0.check_runner.lock().unwrap_or_else(|p| p.into_inner()) = Some((task, stop));
    }
}
