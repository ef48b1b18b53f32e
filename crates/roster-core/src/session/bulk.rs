//! `session.bulk()`: blocking the registered lines of a check, or blocking
//! or unblocking the people marked in the list, paced, and undoing a block;
//! an interrupted action resumes on the next connection.

use std::sync::Arc;

use tracing::{Instrument, info, info_span, warn};

use super::audit::audited;
use super::{DEFAULT_COUNTRY, Session, Unknown};
use crate::blocklist::{self, BlockError};
use crate::bulk::{self, BulkError};
use crate::numbers::parse_target;
use crate::snapshot::{BulkKind, BulkOutcome};

/// `session.bulk()`.
#[derive(Clone, Copy)]
pub struct Bulk<'a>(pub(super) &'a Session);

impl Bulk<'_> {
    /// Blocks the registered numbers of a check (`lines`, or all of them),
    /// paced; the action is saved first and resumes if interrupted.
    pub async fn block_checked(self, job: i64, lines: Option<&[i64]>) -> Result<BulkOutcome, BulkError> {
        let span = info_span!("session.block_checked", job);
        async {
            self.0.connected_client().await.ok_or(BlockError::NotConnected)?;
            let _one = self.0.bulk_lock.lock().await;
            let action = self.0.store.bulk().plan_block(job, lines)?;
            let target =
                format!("check #{job}, {}", lines.map_or("all registered".into(), |l| format!("{} lines", l.len())));
            audited(&self.0.store, "bulk block", Some(&target), describe, self.run(action)).await
        }
        .instrument(span)
        .await
    }

    /// Blocks or unblocks the people marked in the list (`people`: what the
    /// list names them by, a number or a LID JID), paced; the action is saved
    /// first and resumes if interrupted. Those WhatsApp does not know count
    /// as failed, and nothing is sent for them.
    pub async fn set_blocked_people(self, people: &[String], block: bool) -> Result<BulkOutcome, BulkError> {
        let span = info_span!("session.set_blocked_people", block, people = people.len());
        async {
            if people.len() > bulk::MAX_TARGETS {
                return Err(BulkError::TooMany(people.len()));
            }
            let country = self.0.store.setting(DEFAULT_COUNTRY)?;
            let targets = people
                .iter()
                .map(|p| parse_target(p, country.as_deref()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(BlockError::from)?;
            let client = self.0.connected_client().await.ok_or(BlockError::NotConnected)?;
            let _one = self.0.bulk_lock.lock().await;
            let kind = if block { BulkKind::Block } else { BulkKind::Unblock };
            let what = match people.len() {
                1 => "1 person from the list".to_owned(),
                n => format!("{n} people from the list"),
            };
            let work = async {
                let (resolved, refused) = bulk::resolve_people(&client, &self.0.store, &targets).await?;
                if resolved.is_empty()
                    && let Some((who, why)) = refused.first()
                {
                    return Err(BlockError::NotOnWhatsApp(format!("{who} ({why})")).into());
                }
                let action = self.0.store.bulk().plan_people(kind, &resolved)?;
                let mut outcome = self.run(action).await?;
                outcome.failed += refused.len();
                outcome.errors.splice(0..0, refused);
                outcome.errors.truncate(5);
                Ok(outcome)
            };
            audited(&self.0.store, &format!("bulk {kind}"), Some(&what), describe, work).await
        }
        .instrument(span)
        .await
    }

    /// Unblocks what a bulk block blocked.
    pub async fn undo(self, action: i64) -> Result<BulkOutcome, BulkError> {
        let span = info_span!("session.undo_bulk", action);
        async {
            self.0.connected_client().await.ok_or(BlockError::NotConnected)?;
            let _one = self.0.bulk_lock.lock().await;
            let undo = self.0.store.bulk().plan_undo(action)?;
            let target = format!("bulk action #{action}");
            audited(&self.0.store, "undo bulk block", Some(&target), describe, self.run(undo)).await
        }
        .instrument(span)
        .await
    }

    /// Carries out a saved bulk action; if the connection drops on the way,
    /// it carries on from the first target not yet confirmed once the
    /// connection is back (the one in flight is sent again: idempotent).
    async fn run(self, action: i64) -> Result<BulkOutcome, BulkError> {
        let unknown =
            |e: &BulkError| matches!(e, BulkError::Block(BlockError::NotConnected)).then_some(Unknown::Dropped);
        let outcome = self
            .0
            .retried_once_reconnected(
                || BlockError::NotConnected.into(),
                unknown,
                |client| {
                    let store = &self.0.store;
                    async move { bulk::run(&client, store, action).await }
                },
            )
            .await?;
        blocklist::publish_count(&self.0.state, &self.0.store);
        Ok(outcome)
    }

    /// Each time the session connects, finishes bulk actions an earlier run
    /// left half done.
    pub(super) fn resume_on_connect(session: &Arc<Session>) {
        Session::on_each_connection(session, |session| async move {
            if let Ok(actions) = session.store.bulk().unfinished() {
                let _one = session.bulk_lock.lock().await;
                for action in actions {
                    info!(action, "resuming an interrupted bulk action");
                    if let Err(e) = session.bulk().run(action).await {
                        warn!("cannot finish bulk action {action}: {e}");
                        break;
                    }
                }
            }
        });
    }
}

/// How the audit log tells a bulk action's outcome.
fn describe(o: &BulkOutcome) -> String {
    let verb = match o.kind {
        BulkKind::Block => "blocked",
        BulkKind::Unblock => "unblocked",
    };
    format!("action #{}: {} {verb}, {} failed; the account now blocks {}", o.action, o.done, o.failed, o.count)
}
