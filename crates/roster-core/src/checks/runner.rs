//! The background worker that works through running jobs: paced batches,
//! the server's 429 backoff, bounded retries of other errors, and a clean
//! stop that saves the batch in flight.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tracing::{Instrument, debug, info, info_span, warn};
use wacore::iq::usync::{IsOnWhatsAppQueryType, IsOnWhatsAppSpec, IsOnWhatsAppUser};
use whatsapp_rust::Client;
use whatsapp_rust::lid_pn_cache::LearningSource;
use whatsapp_rust::request::IqError;

use super::pace::{self, Pace, Retries, batch_size};
use super::{PROGRESS_EVERY, RETRIES};
use crate::clock::unix_now;
use crate::snapshot::{AnswerSource, ConnectionState, JobState, LineKind, SessionSnapshot};
use crate::store::{Answer, Pending, Store};

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
    /// Time spent waiting for answers (and at the end, for the client to
    /// store the LID pairs they taught), and holding back for the pace, per
    /// job, in this run.
    pub(crate) timing: HashMap<i64, Timing>,
}

impl Runner {
    pub(crate) async fn run(mut self) {
        while !*self.stop.borrow() {
            let job = match self.store.checks().running_job() {
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
        let mut pace = Pace::default();
        let mut retries = Retries::default();
        let mut backoff_until: Option<u64> = None;
        let mut last_published: Option<Instant> = None;
        // The client storing the LID pairs each batch taught it, beside the
        // next batches: it is most of a registered batch's time. A job left
        // unfinished (paused, stopped) lets them finish on their own.
        let mut learning = Vec::new();
        while !*self.stop.borrow() {
            let Ok(Some((state, rate))) = self.store.checks().job(job) else { return };
            if state != JobState::Running {
                self.publish(Some(job), None);
                return;
            }
            let batch = match self.store.checks().next_pending(job, batch_size(rate)) {
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
                // Done means the client knows every pair too, so a check
                // asked again later is answered from its map.
                let waited = Instant::now();
                for task in learning.drain(..) {
                    let _ = task.await; // a failure is logged by the task
                }
                self.timing.entry(job).or_default().server += waited.elapsed();
                let _ = self.store.checks().set_state(job, JobState::Done);
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
            if let Some(at) = pace.next_at(rate) {
                let held = Instant::now();
                let woken = self.sleep_until(at).await;
                self.timing.entry(job).or_default().paced += held.elapsed();
                if woken {
                    continue; // paused, cancelled or the rate changed: look again
                }
            }
            let Some(client) = self.connected().await else { return };
            let sent = Instant::now();
            pace.sent(sent, batch.len());
            let outcome = check(&client, &batch).await;
            self.timing.entry(job).or_default().server += sent.elapsed();
            match outcome {
                Ok((answers, pairs)) => {
                    retries.succeeded();
                    if !pairs.is_empty() {
                        learning.push(tokio::spawn(learn(client, pairs).in_current_span()));
                    }
                    backoff_until = None;
                    if let Err(e) = self.store.checks().save_answers(job, &batch, &answers, AnswerSource::Server) {
                        warn!("cannot save answers: {e}");
                        return;
                    }
                    debug!(n = batch.len(), "batch checked");
                }
                Err(CheckFailure::RateLimited(backoff)) => {
                    let wait = pace::backoff(backoff);
                    warn!(?wait, "the server asked to slow down (429 rate-overlimit); waiting");
                    backoff_until = Some(unix_now() + wait.as_secs());
                    self.publish(Some(job), backoff_until);
                    self.sleep_until(sent + wait).await;
                }
                Err(CheckFailure::Disconnected) => {
                    info!("connection lost during a check; it resumes once connected");
                }
                Err(CheckFailure::Other(error)) => match retries.after_failure() {
                    Some(wait) => {
                        warn!(%error, ?wait, "a check failed; retrying");
                        self.sleep_until(Instant::now() + wait).await;
                    }
                    None => {
                        warn!(%error, "giving up on a batch after {RETRIES} retries");
                        let _ = self.store.checks().fail_batch(job, &batch, &error);
                    }
                },
            }
        }
    }

    /// Answers what the client's LID↔PN map already knows (a mapping exists
    /// only for registered users); returns the lines still to ask. Numbers
    /// Roster never saw with a LID are not looked up: the map could only
    /// miss, and each miss reads the client's store.
    async fn answer_from_lid_map(&self, job: i64, batch: Vec<Pending>) -> Option<Vec<Pending>> {
        let client = self.client.borrow().clone();
        let Some(client) = client else { return Some(batch) };
        let numbers: Vec<&str> =
            batch.iter().filter(|item| item.kind == LineKind::Number).map(|item| item.value.as_str()).collect();
        let seen = match self.store.checks().seen_with_lid(&numbers) {
            Ok(seen) => seen,
            Err(e) => {
                warn!("cannot read job {job}: {e}");
                return None;
            }
        };
        let mut known = Vec::new();
        let mut answers = HashMap::new();
        let mut rest = Vec::new();
        for item in batch {
            if item.kind == LineKind::Number && !seen.contains(&item.value) {
                rest.push(item);
                continue;
            }
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
            if let Err(e) = self.store.checks().save_answers(job, &known, &answers, AnswerSource::LidMap) {
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
        self.state.send_if_modified(|s| match self.store.checks().progress(job, backoff_until) {
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

/// A LID and the phone number it belongs to, as the server paired them.
type LidPair = (String, String);

/// Asks the server about one batch; answers keyed by E.164 digits or
/// `LID@lid`, and the LID↔PN pairs they teach, for [`learn`].
///
/// The same two usync queries as whatsapp-rust's `is_on_whatsapp` (numbers
/// and LIDs, side by side), but the pairs are stored apart from the
/// answers, beside the next batches: `is_on_whatsapp` stores each pair in a
/// write of its own before it answers, which made a batch of registered
/// numbers take hundreds of milliseconds.
async fn check(client: &Client, batch: &[Pending]) -> Result<(HashMap<String, Answer>, Vec<LidPair>), CheckFailure> {
    let (mut numbers, mut lids) = (Vec::new(), Vec::new());
    for item in batch {
        let jid = item.jid();
        let list = if jid.is_lid() { &mut lids } else { &mut numbers };
        // Numbers whose LID the client knows were answered from its map.
        list.push(IsOnWhatsAppUser { jid, known_lid: None });
    }
    let ask = |users: Vec<IsOnWhatsAppUser>, kind: IsOnWhatsAppQueryType| async move {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        client.execute(IsOnWhatsAppSpec::new(users, client.generate_message_id(), kind)).await
    };
    let (mut results, by_lid) = tokio::try_join!(
        ask(numbers, IsOnWhatsAppQueryType::Pn),
        ask(lids, IsOnWhatsAppQueryType::Lid)
    )
    .map_err(|e| match e {
        IqError::ServerError { code: 429, backoff, .. } => {
            CheckFailure::RateLimited(backoff.map(|s| Duration::from_secs(u64::from(s))))
        }
        IqError::NotConnected | IqError::Disconnected(_) | IqError::InternalChannelClosed => CheckFailure::Disconnected,
        other => CheckFailure::Other(other.to_string()),
    })?;
    results.extend(by_lid);
    let pairs: Vec<LidPair> = results
        .iter()
        .filter_map(|r| {
            let (pn, lid) = if r.jid.is_lid() { (r.pn_jid.as_ref()?, &r.jid) } else { (&r.jid, r.lid.as_ref()?) };
            (pn.is_pn() && lid.is_lid()).then(|| (lid.user.to_string(), pn.user.to_string()))
        })
        .collect();
    let mut answers = HashMap::new();
    for r in results {
        let (key, phone, lid) = if r.jid.is_lid() {
            (format!("{}@lid", r.jid.user), r.pn_jid.map(|p| p.user.to_string()), Some(r.jid.user.to_string()))
        } else {
            (r.jid.user.to_string(), Some(r.jid.user.to_string()), r.lid.map(|l| l.user.to_string()))
        };
        answers.insert(key, Answer { on_whatsapp: r.is_registered, phone, lid });
    }
    Ok((answers, pairs))
}

/// Has the client store the pairs a batch taught it, in one write, with
/// its device and session migrations (about a third of a millisecond a
/// pair, all inside whatsapp-rust).
async fn learn(client: Arc<Client>, pairs: Vec<LidPair>) {
    if let Err(e) = client.add_lid_pn_mappings(pairs, LearningSource::Usync).await {
        // As `is_on_whatsapp` does: the answers stand; the client learns
        // the pairs again from the next check or message.
        warn!("cannot store the LID pairs the check learned: {e}");
    }
}
