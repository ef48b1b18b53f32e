//! `session.groups()`: the groups and communities the account is in, their
//! members, group disappearing-message timers, and adding people to a group
//! or community as a paced, resumable job (and undoing it).

use std::sync::Arc;

use tracing::{Instrument, info, info_span, warn};

use super::audit::audited;
use super::{DEFAULT_COUNTRY, Session, Unknown};
use crate::clock::unix_now;
use crate::group_adds::{self, GroupAddError};
use crate::groups::{self, GroupError, Timer, checked_group_jid};
use crate::numbers::{Target, parse_target};
use crate::snapshot::{AddItemRow, AddJobOutcome, AddOutcome, GroupMemberRow, GroupSummary};
use crate::store::{Planned, Store};

/// `session.groups()`.
#[derive(Clone, Copy)]
pub struct Groups<'a>(pub(super) &'a Session);

impl Groups<'_> {
    /// The groups the account is in: fresh from the server when connected
    /// (and saved), else the ones saved at the last connection. A community
    /// names its linked groups.
    pub async fn list(self) -> Result<Vec<GroupSummary>, GroupError> {
        let span = info_span!("session.groups");
        async {
            let Some(client) = self.0.connected_client().await else {
                let saved = self.0.store.groups().list()?;
                return if saved.is_empty() { Err(GroupError::NotConnected) } else { Ok(saved) };
            };
            let fetched = groups::fetch_all(&client).await?;
            self.0.store.groups().replace(&fetched)?;
            info!(groups = fetched.len(), "groups fetched");
            Ok(self.0.store.groups().list()?)
        }
        .instrument(span)
        .await
    }

    /// The groups as saved (the last list the server gave, and every change
    /// heard since), without asking the server.
    pub fn saved(self) -> Result<Vec<GroupSummary>, GroupError> {
        Ok(self.0.store.groups().list()?)
    }

    /// One group's members (names from the directory, admins first): fresh
    /// from the server when connected, else as saved.
    pub async fn members(self, group: &str) -> Result<Vec<GroupMemberRow>, GroupError> {
        let span = info_span!("session.group_members");
        async {
            checked_group_jid(group)?;
            let client = self.0.connected_client().await;
            if let Some(client) = &client {
                let fresh = groups::fetch_one(client, group).await?;
                self.0.store.groups().replace_one(&fresh)?;
            } else if self.0.store.groups().role(group)?.is_none() {
                return Err(GroupError::NotConnected);
            }
            let me = match &client {
                Some(c) => (c.pn().map(|j| j.user.to_string()), c.lid().map(|j| j.user.to_string())),
                None => (None, None),
            };
            let mut members = self.0.store.groups().members(group, (me.0.as_deref(), me.1.as_deref()))?;
            // The account itself is in no address book: its own name, from the phone.
            if let Some(phone) = &me.0
                && let Some(row) = members.iter_mut().find(|m| m.is_me && m.name.is_none())
            {
                row.name = self.0.store.account().push_name(phone)?;
            }
            Ok(members)
        }
        .instrument(span)
        .await
    }

    /// Sets (seconds: 86400, 604800 or 7776000) or clears (0) a group's
    /// disappearing-message timer. Refused, with the reason and nothing
    /// sent, when the timer is not one a group takes or when only admins may
    /// change the group's settings and the account is not one. Audited.
    pub async fn set_timer(self, group: &str, seconds: u32) -> Result<GroupSummary, GroupError> {
        let span = info_span!("session.set_group_timer", seconds);
        async {
            checked_group_jid(group)?;
            let timer = Timer::for_group(seconds)?;
            let client = self.0.connected_client().await.ok_or(GroupError::NotConnected)?;
            let current = groups::fetch_one(&client, group).await?;
            self.0.store.groups().replace_one(&current)?;
            if current.locked && !current.role.is_admin() {
                return Err(GroupError::NotAdminLocked(current.subject));
            }
            let target = format!("{} ({group})", current.subject);
            let describe = |g: &GroupSummary| match g.timer {
                0 => "disappearing messages off".to_owned(),
                s => format!("disappearing messages after {s} s"),
            };
            let subject = current.subject.clone();
            audited(&self.0.store, "set group timer", Some(&target), describe, async {
                match groups::set_timer(&client, group, timer).await {
                    Err(GroupError::Refused { code: 401 | 403, .. }) => {
                        return Err(GroupError::NotAdminLocked(subject));
                    }
                    other => other?,
                }
                // Durable before done: the server's answer, saved.
                self.0.store.groups().set_timer(group, timer.seconds())?;
                match groups::fetch_one(&client, group).await {
                    Ok(fresh) => self.0.store.groups().replace_one(&fresh)?,
                    Err(e) => warn!("the group could not be refetched after its timer changed: {e}"),
                }
                self.0.store.groups().get(group)?.ok_or_else(|| GroupError::Unknown(group.into()))
            })
            .await
        }
        .instrument(span)
        .await
    }

    /// Adds the people of a check's answered lines (`lines`, or all) to a
    /// group or community (a community's announcement group means the
    /// community: membership lives on the parent group). The job and each
    /// person are saved first; paced; resumed after a reconnect or restart.
    /// Lines the check found not on WhatsApp are answered so, never sent.
    pub async fn add_from_check(
        self,
        group: &str,
        job: i64,
        lines: Option<&[i64]>,
    ) -> Result<AddJobOutcome, GroupAddError> {
        let span = info_span!("session.add_participants", job);
        let what =
            format!("check #{job}, {}", lines.map_or("all answered lines".into(), |l| format!("{} lines", l.len())));
        self.add(group, Some(job), what, |store| Ok(store.group_adds().people_of_check(job, lines)?))
            .instrument(span)
            .await
    }

    /// Adds people named by number (any format, with the default country)
    /// or LID to a group or community; the server answers for each (404:
    /// not on WhatsApp). Refused whole, before anything is saved or sent,
    /// if any line is not an individual's number or LID.
    pub async fn add_targets(self, group: &str, targets: &[String]) -> Result<AddJobOutcome, GroupAddError> {
        let span = info_span!("session.add_participants", targets = targets.len());
        let country = self.0.store.setting(DEFAULT_COUNTRY).map_err(GroupError::from)?;
        let mut people = Vec::with_capacity(targets.len());
        for input in targets {
            let (phone, lid) = match parse_target(input, country.as_deref())? {
                Target::Phone(digits) => (Some(digits.to_string()), None),
                Target::Lid(lid) => (None, Some(lid)),
            };
            people.push(Planned { line: None, phone, lid, on_whatsapp: true });
        }
        let what = format!("{} numbers given", targets.len());
        self.add(group, None, what, move |_| Ok(people)).instrument(span).await
    }

    /// Plans an add-participants job for `group` (its parent group when it
    /// is a community's announcement group) and carries it out, audited.
    async fn add(
        self,
        group: &str,
        job: Option<i64>,
        what: String,
        people: impl FnOnce(&Store) -> Result<Vec<Planned>, GroupAddError>,
    ) -> Result<AddJobOutcome, GroupAddError> {
        checked_group_jid(group)?;
        let client = self.0.connected_client().await.ok_or(GroupError::NotConnected)?;
        let _one = self.0.bulk_lock.lock().await;
        let mut current = groups::fetch_one(&client, group).await?;
        if current.announcement_group
            && let Some(parent) = current.parent.clone()
        {
            current = groups::fetch_one(&client, &parent).await?;
        }
        self.0.store.groups().replace_one(&current)?;
        if !current.role.is_admin() {
            return Err(GroupError::NotAdmin(current.subject).into());
        }
        let people = people(&self.0.store)?;
        let action = self.0.store.group_adds().plan(&current.jid, job, &people, &current.members)?;
        let target = format!("{} ({}), {what}", current.subject, current.jid);
        audited(&self.0.store, "add participants", Some(&target), describe, self.run(action)).await
    }

    /// Removes exactly those an add-participants job added.
    pub async fn undo_add(self, action: i64) -> Result<AddJobOutcome, GroupAddError> {
        let span = info_span!("session.undo_add_participants", action);
        async {
            self.0.connected_client().await.ok_or(GroupError::NotConnected)?;
            let _one = self.0.bulk_lock.lock().await;
            let undo = self.0.store.group_adds().plan_undo(action)?;
            let target = format!("add-participants job #{action}");
            audited(&self.0.store, "undo add participants", Some(&target), describe, self.run(undo)).await
        }
        .instrument(span)
        .await
    }

    /// Sends the person at `seq` of job `action` the invite WhatsApp held
    /// for them when their privacy refused the add (a `groupInviteMessage`,
    /// as the phone's "Send invite" does). Refused, nothing sent, when the
    /// job handed out no invite for them or it has run out. Saved and
    /// audited; sending again is allowed (the same invite).
    pub async fn send_invite(self, action: i64, seq: i64) -> Result<AddItemRow, GroupAddError> {
        let span = info_span!("session.send_group_invite", action, seq);
        async {
            let item = self.0.store.group_adds().item(action, seq)?.ok_or(GroupAddError::NoInvite(action))?;
            let (Some(code), Some(expiration)) = (item.invite_code.as_deref(), item.invite_expiration) else {
                return Err(GroupAddError::NoInvite(action));
            };
            if expiration <= unix_now() {
                return Err(GroupAddError::InviteExpired(crate::clock::iso_time(expiration)));
            }
            let (group_jid, _) = self.0.store.group_adds().target(action)?;
            let client = self.0.connected_client().await.ok_or(GroupError::NotConnected)?;
            let group = groups::fetch_one(&client, &group_jid).await?;
            let who = item
                .phone
                .as_ref()
                .map_or_else(|| format!("{}@lid", item.lid.as_deref().unwrap_or("")), |p| format!("+{p}"));
            let target = format!("{who} to {} ({group_jid})", group.subject);
            let work = async {
                group_adds::send_invite(
                    &client,
                    &group,
                    (item.phone.as_deref(), item.lid.as_deref()),
                    code,
                    expiration,
                )
                .await?;
                // Durable before done.
                self.0.store.group_adds().invite_sent(action, seq, unix_now())?;
                Ok(self.0.store.group_adds().item(action, seq)?.ok_or(GroupAddError::NoAction(action))?)
            };
            let describe = |_: &AddItemRow| "invite sent".to_owned();
            audited(&self.0.store, "send group invite", Some(&target), describe, work).await
        }
        .instrument(span)
        .await
    }

    /// A job's people and outcomes as saved (the window's results table).
    pub fn job(self, action: i64) -> Result<AddJobOutcome, GroupAddError> {
        let (group, _) = self.0.store.group_adds().target(action).map_err(|_| GroupAddError::NoAction(action))?;
        let members = self.0.store.groups().get(&group)?.map_or(0, |g| g.members);
        Ok(self.0.store.group_adds().outcome(action, members)?)
    }

    /// Carries out a saved job; if the connection drops on the way, it
    /// carries on once the connection is back (the person in flight is
    /// checked against the group's list, never simply sent again).
    async fn run(self, action: i64) -> Result<AddJobOutcome, GroupAddError> {
        self.0
            .retried_once_reconnected(
                || GroupError::NotConnected.into(),
                |e: &GroupAddError| e.is_not_connected().then_some(Unknown::Dropped),
                |client| {
                    let store = &self.0.store;
                    async move { group_adds::run(&client, store, action).await }
                },
            )
            .await
    }

    /// Each time the session connects, finishes add-participants jobs an
    /// earlier run left half done.
    pub(super) fn resume_on_connect(session: &Arc<Session>) {
        Session::on_each_connection(session, |session| async move {
            if let Ok(actions) = session.store.group_adds().unfinished() {
                let _one = session.bulk_lock.lock().await;
                for action in actions {
                    info!(action, "resuming an interrupted add-participants job");
                    if let Err(e) = session.groups().run(action).await {
                        warn!("cannot finish add-participants job {action}: {e}");
                        break;
                    }
                }
            }
        });
    }
}

/// How the audit log tells a job's outcome.
fn describe(o: &AddJobOutcome) -> String {
    if o.undo {
        return format!(
            "job #{}: {} removed, {} failed; the group now has {}",
            o.action,
            o.count(AddOutcome::Removed),
            o.count(AddOutcome::Failed),
            o.members
        );
    }
    format!(
        "job #{}: {} added, {} already members, {} need an invite, {} not on WhatsApp, {} other; the group now has {}",
        o.action,
        o.count(AddOutcome::Added),
        o.count(AddOutcome::AlreadyMember),
        o.count(AddOutcome::InviteNeeded),
        o.count(AddOutcome::NotOnWhatsapp),
        o.items.len()
            - o.count(AddOutcome::Added)
            - o.count(AddOutcome::AlreadyMember)
            - o.count(AddOutcome::InviteNeeded)
            - o.count(AddOutcome::NotOnWhatsapp),
        o.members
    )
}
