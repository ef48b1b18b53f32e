//! Jobs adding people to a group (`group_add`, `group_add_item`) and their
//! undos: the job and every person are saved before anything is sent; a
//! person is marked `sent` before their IQ goes out and `done` with the
//! server's answer, so an interrupted job resumes where it stopped and
//! knows which answer it may have missed.

use std::collections::HashSet;

use rusqlite::{OptionalExtension, params};

use super::{Member, Store, StoreError};
use crate::group_adds::{GroupAddError, MAX_TARGETS};
use crate::groups::ParticipantAnswer;
use crate::snapshot::{AddItemRow, AddJobOutcome, AddOutcome};

/// `store.group_adds()`.
pub(crate) struct GroupAdds<'a>(pub(super) &'a Store);

/// One person still to add (or remove).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AddItem {
    pub seq: i64,
    pub phone: Option<String>,
    pub lid: Option<String>,
    /// In the group when the job was planned (the server's list then).
    pub was_member: bool,
    /// Sent before an interruption: the answer may have been missed.
    pub sent: bool,
}

/// A person to add: number and/or LID, the check's line, and whether the
/// check found them on WhatsApp.
pub(crate) struct Planned {
    pub line: Option<i64>,
    pub phone: Option<String>,
    pub lid: Option<String>,
    pub on_whatsapp: bool,
}

impl GroupAdds<'_> {
    /// The people of a check's answered lines (`lines`, or all of them).
    pub(crate) fn people_of_check(&self, job: i64, lines: Option<&[i64]>) -> Result<Vec<Planned>, StoreError> {
        let conn = self.0.conn();
        let mut stmt = conn.prepare(
            "SELECT line, phone, lid, on_whatsapp FROM check_item
             WHERE job_id = ?1 AND on_whatsapp IS NOT NULL ORDER BY line",
        )?;
        let wanted: Option<HashSet<i64>> = lines.map(|l| l.iter().copied().collect());
        let rows = stmt
            .query_map([job], |r| {
                Ok(Planned {
                    line: Some(r.get(0)?),
                    phone: r.get(1)?,
                    lid: r.get(2)?,
                    on_whatsapp: r.get::<_, i64>(3)? == 1,
                })
            })?
            .filter(|p| p.as_ref().map_or(true, |p| wanted.as_ref().is_none_or(|w| w.contains(&p.line.unwrap_or(-1)))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Saves a job adding `people` to `group`, before anything is sent.
    /// Those not on WhatsApp are answered at once (never sent); a person
    /// given twice is added once. `members`: the group's list now.
    pub(crate) fn plan(
        &self,
        group: &str,
        job: Option<i64>,
        people: &[Planned],
        members: &[Member],
    ) -> Result<i64, GroupAddError> {
        let sendable = people.iter().filter(|p| p.on_whatsapp && (p.phone.is_some() || p.lid.is_some())).count();
        if sendable == 0 {
            return Err(GroupAddError::Nothing);
        }
        if people.len() > MAX_TARGETS {
            return Err(GroupAddError::TooMany(people.len()));
        }
        let is_member = |p: &Planned| {
            members.iter().any(|m| {
                (p.phone.is_some() && m.phone == p.phone) || (p.lid.is_some() && m.lid.is_some() && m.lid == p.lid)
            })
        };
        let mut conn = self.0.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO group_add (group_jid, job_id, created_at, state) VALUES (?1, ?2, unixepoch(), 'running')",
            params![group, job],
        )?;
        let action = tx.last_insert_rowid();
        {
            let mut item = tx.prepare(
                "INSERT INTO group_add_item (action_id, seq, line, phone, lid, was_member, state, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let mut seen = HashSet::new();
            for (seq, p) in people.iter().enumerate() {
                let key = p.phone.clone().or_else(|| p.lid.clone());
                if p.on_whatsapp && !seen.insert(key) {
                    continue;
                }
                let (state, outcome) =
                    if p.on_whatsapp { ("pending", AddOutcome::Pending) } else { ("done", AddOutcome::NotOnWhatsapp) };
                item.execute(params![action, seq as i64, p.line, p.phone, p.lid, is_member(p), state, outcome])?;
            }
        }
        tx.commit()?;
        Ok(action)
    }

    /// Saves the undo of a job: remove exactly those it added.
    pub(crate) fn plan_undo(&self, action: i64) -> Result<i64, GroupAddError> {
        let mut conn = self.0.conn();
        let tx = conn.transaction()?;
        let found: Option<(String, Option<i64>)> = tx
            .query_row("SELECT group_jid, undoes FROM group_add WHERE id = ?1", [action], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let group = match found {
            None => return Err(GroupAddError::NoAction(action)),
            Some((_, Some(_))) => return Err(GroupAddError::NotUndoable(action)),
            Some((group, None)) => group,
        };
        tx.execute(
            "INSERT INTO group_add (group_jid, undoes, created_at, state) VALUES (?1, ?2, unixepoch(), 'running')",
            params![group, action],
        )?;
        let undo = tx.last_insert_rowid();
        let n = tx.execute(
            "INSERT INTO group_add_item (action_id, seq, line, phone, lid, was_member, state, outcome)
             SELECT ?1, seq, line, phone, lid, 0, 'pending', 'pending' FROM group_add_item
             WHERE action_id = ?2 AND outcome = 'added'",
            params![undo, action],
        )?;
        if n == 0 {
            return Err(GroupAddError::NothingToUndo(action));
        }
        tx.commit()?;
        Ok(undo)
    }

    /// The group and whether the job is an undo.
    pub(crate) fn target(&self, action: i64) -> Result<(String, bool), StoreError> {
        Ok(self.0.conn().query_row(
            "SELECT group_jid, undoes IS NOT NULL FROM group_add WHERE id = ?1",
            [action],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    pub(crate) fn next(&self, action: i64) -> Result<Option<AddItem>, StoreError> {
        Ok(self
            .0
            .conn()
            .query_row(
                "SELECT seq, phone, lid, was_member, state = 'sent' FROM group_add_item
                 WHERE action_id = ?1 AND state IN ('pending', 'sent') ORDER BY seq LIMIT 1",
                [action],
                |r| {
                    Ok(AddItem {
                        seq: r.get(0)?,
                        phone: r.get(1)?,
                        lid: r.get(2)?,
                        was_member: r.get(3)?,
                        sent: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// About to send this person's IQ.
    pub(crate) fn mark_sent(&self, action: i64, seq: i64) -> Result<(), StoreError> {
        self.0.conn().execute(
            "UPDATE group_add_item SET state = 'sent' WHERE action_id = ?1 AND seq = ?2",
            params![action, seq],
        )?;
        Ok(())
    }

    /// The server's answer for this person.
    pub(crate) fn answer(&self, action: i64, seq: i64, answer: &ParticipantAnswer) -> Result<(), StoreError> {
        let (invite, expiration) = answer.invite.clone().map_or((None, None), |(c, e)| (Some(c), Some(e as i64)));
        self.0.conn().execute(
            "UPDATE group_add_item SET state = 'done', outcome = ?3, code = ?4, invite_code = ?5, invite_expiration = ?6
             WHERE action_id = ?1 AND seq = ?2",
            params![action, seq, answer.outcome, answer.code, invite, expiration],
        )?;
        Ok(())
    }

    /// Jobs left running by an interrupted run, oldest first.
    pub(crate) fn unfinished(&self) -> Result<Vec<i64>, StoreError> {
        let conn = self.0.conn();
        let mut stmt = conn.prepare("SELECT id FROM group_add WHERE state = 'running' ORDER BY id")?;
        let ids = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    /// Every person has an answer.
    pub(crate) fn finish(&self, action: i64) -> Result<(), StoreError> {
        self.0.conn().execute("UPDATE group_add SET state = 'done' WHERE id = ?1", [action])?;
        Ok(())
    }

    /// One person of a job, as [`outcome`](Self::outcome) lists them.
    pub(crate) fn item(&self, action: i64, seq: i64) -> Result<Option<AddItemRow>, StoreError> {
        Ok(self.outcome(action, 0)?.items.into_iter().find(|i| i.seq == seq))
    }

    /// Records that the person's invite was sent, at `at` (Unix seconds).
    pub(crate) fn invite_sent(&self, action: i64, seq: i64, at: u64) -> Result<(), StoreError> {
        self.0.conn().execute(
            "UPDATE group_add_item SET invite_sent_at = ?3 WHERE action_id = ?1 AND seq = ?2",
            params![action, seq, at as i64],
        )?;
        Ok(())
    }

    /// The job's people and outcomes; `members`: the group's count now.
    pub(crate) fn outcome(&self, action: i64, members: usize) -> Result<AddJobOutcome, StoreError> {
        let (group, undo) = self.target(action)?;
        let conn = self.0.conn();
        let mut stmt = conn.prepare(
            "SELECT line, phone, lid, outcome, code, invite_code, invite_expiration, seq, invite_sent_at
             FROM group_add_item WHERE action_id = ?1 ORDER BY seq",
        )?;
        let items = stmt
            .query_map([action], |r| {
                let phone: Option<String> = r.get(1)?;
                Ok(AddItemRow {
                    line: r.get(0)?,
                    phone_shown: phone.as_deref().map(crate::numbers::shown),
                    phone,
                    lid: r.get(2)?,
                    outcome: r.get(3)?,
                    code: r.get::<_, Option<i64>>(4)?.map(|c| c as u16),
                    invite_code: r.get(5)?,
                    invite_expiration: r.get::<_, Option<i64>>(6)?.map(|e| e.max(0) as u64),
                    seq: r.get(7)?,
                    invite_sent_at: r.get::<_, Option<i64>>(8)?.map(|t| t.max(0) as u64),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AddJobOutcome { action, group, undo, items, members })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(phone: &str, on: bool) -> Planned {
        Planned { line: None, phone: Some(phone.into()), lid: None, on_whatsapp: on }
    }

    #[test]
    fn a_job_is_saved_whole_and_resumes_at_the_person_in_flight() {
        let (dir, store) = super::super::temp_store("group-adds");
        let members = [Member { lid: None, phone: Some("15550000002".into()), admin: false }];
        let people = [
            person("15550000001", true),
            person("15550000002", true),
            person("15550000001", true),
            person("15550000009", false),
        ];
        let action = store.group_adds().plan("1@g.us", None, &people, &members).unwrap();
        let first = store.group_adds().next(action).unwrap().unwrap();
        assert_eq!((first.seq, first.sent, first.was_member), (0, false, false));
        store.group_adds().mark_sent(action, 0).unwrap();
        let again = store.group_adds().next(action).unwrap().unwrap();
        assert!(again.sent, "the one in flight comes back marked as sent");
        let added = ParticipantAnswer { outcome: AddOutcome::Added, code: 200, invite: None };
        store.group_adds().answer(action, 0, &added).unwrap();
        let second = store.group_adds().next(action).unwrap().unwrap();
        assert!(second.was_member);
        let already = ParticipantAnswer { outcome: AddOutcome::AlreadyMember, code: 409, invite: None };
        store.group_adds().answer(action, second.seq, &already).unwrap();
        assert_eq!(store.group_adds().next(action).unwrap(), None, "the repeat was saved once");
        let outcome = store.group_adds().outcome(action, 3).unwrap();
        let read: Vec<_> = outcome.items.iter().map(|i| i.outcome).collect();
        assert_eq!(read, [AddOutcome::Added, AddOutcome::AlreadyMember, AddOutcome::NotOnWhatsapp]);
        let undo = store.group_adds().plan_undo(action).unwrap();
        let only = store.group_adds().next(undo).unwrap().unwrap();
        assert_eq!(only.phone.as_deref(), Some("15550000001"));
        assert!(matches!(store.group_adds().plan_undo(undo), Err(GroupAddError::NotUndoable(_))));
        assert!(matches!(
            store.group_adds().plan("1@g.us", None, &[person("1555", false)], &members),
            Err(GroupAddError::Nothing)
        ));
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
