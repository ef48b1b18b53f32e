//! The groups the account is in (`chat_group`: subject, the account's role,
//! the community structure, settings, timer) and their members
//! (`group_member`, with admin flags), replaced whole at every fetch and one
//! group at a time after a change.

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Store, StoreError};
use crate::groups::FetchedGroup;
use crate::numbers;
use crate::snapshot::{GroupMemberRow, GroupRole, GroupSummary};

/// One participant's identity, as the group lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Member {
    pub lid: Option<String>,
    pub phone: Option<String>,
    pub admin: bool,
}

/// `store.groups()`.
pub(crate) struct Groups<'a>(pub(super) &'a Store);

fn insert(tx: &Transaction<'_>, g: &FetchedGroup) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO chat_group (jid, subject, fetched_at, role, is_community, parent_jid, announcement_group,
                                 locked, admins_only_messages, timer, size)
         VALUES (?1, ?2, unixepoch(), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            g.jid,
            g.subject,
            g.role,
            g.is_community,
            g.parent,
            g.announcement_group,
            g.locked,
            g.admins_only_messages,
            g.timer,
            g.size as i64
        ],
    )?;
    let mut member = tx.prepare("INSERT INTO group_member (group_jid, lid, phone, admin) VALUES (?1, ?2, ?3, ?4)")?;
    for m in &g.members {
        member.execute(params![g.jid, m.lid, m.phone, m.admin])?;
    }
    Ok(())
}

impl Groups<'_> {
    /// Replaces the saved groups with the server's list, in one transaction.
    pub(crate) fn replace(&self, groups: &[FetchedGroup]) -> Result<(), StoreError> {
        let mut conn = self.0.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM group_member", [])?;
        tx.execute("DELETE FROM chat_group", [])?;
        for g in groups {
            insert(&tx, g)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Replaces one group with the server's answer.
    pub(crate) fn replace_one(&self, group: &FetchedGroup) -> Result<(), StoreError> {
        let mut conn = self.0.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM group_member WHERE group_jid = ?1", [&group.jid])?;
        tx.execute("DELETE FROM chat_group WHERE jid = ?1", [&group.jid])?;
        insert(&tx, group)?;
        tx.commit()?;
        Ok(())
    }

    /// A group's timer as the server accepted it.
    pub(crate) fn set_timer(&self, jid: &str, seconds: u32) -> Result<(), StoreError> {
        self.0.conn().execute("UPDATE chat_group SET timer = ?2 WHERE jid = ?1", params![jid, seconds])?;
        Ok(())
    }

    /// By subject; a community's linked groups listed with it.
    pub(crate) fn list(&self) -> Result<Vec<GroupSummary>, StoreError> {
        let conn = self.0.conn();
        let mut stmt = conn.prepare(
            "SELECT g.jid, g.subject,
                    coalesce(g.size, (SELECT count(*) FROM group_member m WHERE m.group_jid = g.jid)), g.fetched_at,
                    g.role, g.is_community, g.parent_jid, g.announcement_group, g.locked, g.admins_only_messages,
                    g.timer,
                    (SELECT group_concat(jid, ' ') FROM
                        (SELECT l.jid FROM chat_group l WHERE l.parent_jid = g.jid ORDER BY l.subject COLLATE NOCASE))
             FROM chat_group g ORDER BY g.subject COLLATE NOCASE",
        )?;
        let rows = stmt
            .query_map([], |r| {
                let linked: Option<String> = r.get(11)?;
                Ok(GroupSummary {
                    jid: r.get(0)?,
                    subject: r.get(1)?,
                    members: r.get::<_, i64>(2)?.max(0) as usize,
                    fetched_at: r.get::<_, i64>(3)?.max(0) as u64,
                    role: r.get(4)?,
                    is_community: r.get(5)?,
                    parent: r.get(6)?,
                    announcement_group: r.get(7)?,
                    locked: r.get(8)?,
                    admins_only_messages: r.get(9)?,
                    timer: r.get(10)?,
                    linked_groups: linked.map(|l| l.split(' ').map(str::to_owned).collect()).unwrap_or_default(),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// One saved group.
    pub(crate) fn get(&self, jid: &str) -> Result<Option<GroupSummary>, StoreError> {
        Ok(self.list()?.into_iter().find(|g| g.jid == jid))
    }

    /// The account's role in a saved group.
    pub(crate) fn role(&self, jid: &str) -> Result<Option<GroupRole>, StoreError> {
        Ok(self.0.conn().query_row("SELECT role FROM chat_group WHERE jid = ?1", [jid], |r| r.get(0)).optional()?)
    }

    /// A group's members with their names from the directory: admins first,
    /// then by name. `me`: the account's number and LID.
    pub(crate) fn members(
        &self,
        jid: &str,
        me: (Option<&str>, Option<&str>),
    ) -> Result<Vec<GroupMemberRow>, StoreError> {
        let conn = self.0.conn();
        let mut stmt = conn.prepare(
            "SELECT coalesce(m.phone, c.phone), m.lid, m.admin, coalesce(c.saved_name, c.push_name)
             FROM group_member m
             LEFT JOIN contact c ON (m.phone IS NOT NULL AND c.phone = m.phone)
                                 OR (m.phone IS NULL AND m.lid IS NOT NULL AND c.lid = m.lid)
             WHERE m.group_jid = ?1",
        )?;
        let mut rows = stmt
            .query_map([jid], |r| {
                let phone: Option<String> = r.get(0)?;
                let lid: Option<String> = r.get(1)?;
                Ok(GroupMemberRow {
                    is_me: (phone.is_some() && phone.as_deref() == me.0) || (lid.is_some() && lid.as_deref() == me.1),
                    phone_shown: phone.as_deref().map(numbers::shown),
                    phone,
                    lid,
                    admin: r.get(2)?,
                    name: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.sort_by(|a, b| {
            (!a.admin, a.name.is_none(), a.name.as_deref().map(str::to_lowercase), &a.phone).cmp(&(
                !b.admin,
                b.name.is_none(),
                b.name.as_deref().map(str::to_lowercase),
                &b.phone,
            ))
        });
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(jid: &str, parent: Option<&str>, members: usize) -> FetchedGroup {
        FetchedGroup {
            jid: jid.into(),
            subject: jid.into(),
            members: (0..members)
                .map(|i| Member { lid: Some(format!("9{i}")), phone: Some(format!("1555000000{i}")), admin: i == 0 })
                .collect(),
            role: GroupRole::Superadmin,
            is_community: parent.is_none() && jid.starts_with('c'),
            parent: parent.map(str::to_owned),
            announcement_group: false,
            locked: false,
            admins_only_messages: false,
            timer: 0,
            size: members,
        }
    }

    #[test]
    fn communities_list_their_linked_groups_and_timers_are_kept() {
        let (dir, store) = super::super::temp_store("groups-communities");
        store
            .groups()
            .replace(&[
                group("c1@g.us", None, 3),
                group("l2@g.us", Some("c1@g.us"), 2),
                group("a3@g.us", Some("c1@g.us"), 3),
            ])
            .unwrap();
        let list = store.groups().list().unwrap();
        let c = list.iter().find(|g| g.jid == "c1@g.us").unwrap();
        assert!(c.is_community);
        assert_eq!(c.linked_groups, ["a3@g.us", "l2@g.us"]);
        assert_eq!(list.iter().find(|g| g.jid == "l2@g.us").unwrap().parent.as_deref(), Some("c1@g.us"));
        store.groups().set_timer("l2@g.us", 604_800).unwrap();
        assert_eq!(store.groups().get("l2@g.us").unwrap().unwrap().timer, 604_800);
        store.groups().replace_one(&group("c1@g.us", None, 5)).unwrap();
        assert_eq!(store.groups().get("c1@g.us").unwrap().unwrap().members, 5);
        let members = store.groups().members("c1@g.us", (Some("15550000001"), None)).unwrap();
        assert_eq!(members.len(), 5);
        assert!(members[0].admin, "admins first");
        assert_eq!(members.iter().filter(|m| m.is_me).count(), 1);
        assert_eq!(store.groups().role("c1@g.us").unwrap(), Some(GroupRole::Superadmin));
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
