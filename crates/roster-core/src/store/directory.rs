//! The contact directory (`contact`, searched through `search_index`): the
//! phone's address book, LID↔PN pairs and push names learned from the
//! server and the phone, profiles (about, picture state), and the list the
//! window pages through.

use rusqlite::{Connection, OptionalExtension, params};

use super::search_index::{self, Key};
use super::{Store, StoreError};
use crate::numbers;
use crate::profile::Profile;
use crate::snapshot::{AboutState, ContactPage, ContactRow, ListFilter, PictureState};

/// An address-book entry from the phone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedContact {
    pub phone: String,
    pub lid: Option<String>,
    pub name: Option<String>,
}

/// Someone's push name (the name they gave themselves), as the phone's
/// history sync names them: by number, or by LID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushName {
    ByPhone { phone: String, name: String },
    ByLid { lid: String, name: String },
}

/// `store.directory()`.
pub struct Directory<'a>(pub(super) &'a Store);

impl Directory<'_> {
    /// Records a LID↔phone pair learned from the server.
    pub fn remember_identity(&self, phone: &str, lid: &str) -> Result<(), StoreError> {
        self.remember_identities(&[(phone.to_owned(), lid.to_owned())])
    }

    /// Records LID↔phone pairs (`(phone, lid)`) in one transaction.
    pub fn remember_identities(&self, pairs: &[(String, String)]) -> Result<(), StoreError> {
        let mut conn = self.0.conn();
        let tx = conn.transaction()?;
        {
            let mut clear_lid = tx.prepare("UPDATE contact SET lid = NULL WHERE lid = ?1 AND phone <> ?2")?;
            let mut upsert = tx.prepare(
                "INSERT INTO contact (phone, lid, updated_at) VALUES (?1, ?2, unixepoch())
                 ON CONFLICT(phone) DO UPDATE SET lid = excluded.lid, updated_at = excluded.updated_at
                 WHERE contact.lid IS NOT excluded.lid",
            )?;
            let mut blocked = tx.prepare("UPDATE blocked SET phone = ?1 WHERE lid = ?2 AND phone IS NULL")?;
            for (phone, lid) in pairs {
                clear_lid.execute(params![lid, phone])?;
                upsert.execute(params![phone, lid])?;
                blocked.execute(params![phone, lid])?;
            }
        }
        tx.commit()?;
        self.0.search().refresh(&conn, pairs.iter().map(|(p, _)| p.as_str()), pairs.iter().map(|(_, l)| l.as_str()));
        Ok(())
    }

    /// Saves push names in one transaction. A name given by LID lands on
    /// the contact with that LID, if there is one; returns how many names
    /// found their contact.
    pub fn save_push_names(&self, names: &[PushName]) -> Result<usize, StoreError> {
        let mut conn = self.0.conn();
        let tx = conn.transaction()?;
        let mut saved = 0;
        {
            let mut by_phone = tx.prepare(
                "INSERT INTO contact (phone, push_name, updated_at) VALUES (?1, ?2, unixepoch())
                 ON CONFLICT(phone) DO UPDATE SET push_name = excluded.push_name, updated_at = excluded.updated_at
                 WHERE contact.push_name IS NOT excluded.push_name",
            )?;
            let mut by_lid =
                tx.prepare("UPDATE contact SET push_name = ?2, updated_at = unixepoch() WHERE lid = ?1")?;
            for n in names {
                match n {
                    PushName::ByPhone { phone, name } => {
                        by_phone.execute(params![phone, name])?;
                        saved += 1;
                    }
                    PushName::ByLid { lid, name } => saved += by_lid.execute(params![lid, name])?,
                }
            }
        }
        tx.commit()?;
        let phones = names.iter().filter_map(|n| match n {
            PushName::ByPhone { phone, .. } => Some(phone.as_str()),
            PushName::ByLid { .. } => None,
        });
        let lids = names.iter().filter_map(|n| match n {
            PushName::ByLid { lid, .. } => Some(lid.as_str()),
            PushName::ByPhone { .. } => None,
        });
        self.0.search().refresh(&conn, phones, lids);
        Ok(saved)
    }

    /// Saves address-book entries from the phone in one transaction.
    pub fn save_address_book(&self, entries: &[SavedContact]) -> Result<(), StoreError> {
        let mut conn = self.0.conn();
        let tx = conn.transaction()?;
        {
            let mut clear_lid = tx.prepare("UPDATE contact SET lid = NULL WHERE lid = ?1 AND phone <> ?2")?;
            let mut upsert = tx.prepare(
                "INSERT INTO contact (phone, lid, saved_name, in_address_book, updated_at)
                 VALUES (?1, ?2, ?3, 1, unixepoch())
                 ON CONFLICT(phone) DO UPDATE SET
                    lid = coalesce(excluded.lid, contact.lid),
                    saved_name = excluded.saved_name,
                    in_address_book = 1,
                    updated_at = excluded.updated_at",
            )?;
            for e in entries {
                if let Some(lid) = &e.lid {
                    clear_lid.execute(params![lid, e.phone])?;
                }
                upsert.execute(params![e.phone, e.lid, e.name])?;
            }
        }
        tx.commit()?;
        self.0.search().refresh(
            &conn,
            entries.iter().map(|e| e.phone.as_str()),
            entries.iter().filter_map(|e| e.lid.as_deref()),
        );
        Ok(())
    }

    /// Contacts in the phone's address book.
    pub fn count(&self) -> Result<usize, StoreError> {
        Ok(self
            .0
            .conn()
            .query_row("SELECT count(*) FROM contact WHERE in_address_book = 1", [], |r| r.get::<_, i64>(0))?
            as usize)
    }

    /// The contact list, or the blocklist, filtered by `query` (a name, part
    /// of a number typed in any format, or a LID; case and accents aside),
    /// sorted by name. Served by the in-memory search index; only the
    /// page's rows are read from the tables.
    pub fn page(
        &self,
        query: &str,
        filter: ListFilter,
        offset: usize,
        limit: usize,
    ) -> Result<ContactPage, StoreError> {
        let conn = self.0.conn();
        let mut index = self.0.search();
        index.ensure_fresh(&conn)?;
        let needle = search_needle(query).map(|n| search_index::fold(&n)).filter(|n| !n.is_empty());
        let (total, keys) = index.page(needle.as_deref(), filter, offset, limit);
        let mut by_phone = conn.prepare_cached(CONTACT_BY_PHONE)?;
        let mut blocked_only = conn.prepare_cached(
            "SELECT coalesce(phone, ''), lid, NULL, NULL, NULL, NULL, 'unknown', 'unknown', 0, 1, 0
             FROM blocked WHERE lid = ?1",
        )?;
        let mut rows = Vec::with_capacity(keys.len());
        for key in keys {
            let row = match key {
                Key::Contact(phone) => by_phone.query_row([phone], contact_row),
                Key::BlockedOnly(lid) => blocked_only.query_row([lid], contact_row),
            };
            rows.push(row?);
        }
        Ok(ContactPage { total, offset, rows, directory_version: 0 })
    }

    /// Stores what the server said of a contact's about and picture.
    pub fn save_profile(&self, phone: &str, p: &Profile) -> Result<(), StoreError> {
        self.0.conn().execute(
            "INSERT INTO contact (phone, about, about_set_at, about_state, picture_id, picture_state, updated_at, profile_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, unixepoch(), unixepoch())
             ON CONFLICT(phone) DO UPDATE SET about = excluded.about, about_set_at = excluded.about_set_at,
                about_state = excluded.about_state, picture_id = excluded.picture_id,
                picture_state = excluded.picture_state, updated_at = excluded.updated_at,
                profile_at = excluded.profile_at",
            params![phone, p.about, p.about_set_at.map(|t| t as i64), p.about_state, p.picture_id, p.picture_state],
        )?;
        Ok(())
    }

    /// An about text pushed by the server (the contact changed it).
    pub fn save_about(&self, phone: &str, about: &str, set_at: u64) -> Result<(), StoreError> {
        self.0.conn().execute(
            "UPDATE contact SET about = ?2, about_set_at = ?3, about_state = ?4, updated_at = unixepoch() WHERE phone = ?1",
            params![phone, about, set_at as i64, AboutState::Shown],
        )?;
        Ok(())
    }

    pub fn contact(&self, phone: &str) -> Result<Option<ContactRow>, StoreError> {
        let conn = self.0.conn();
        let row = conn.prepare_cached(CONTACT_BY_PHONE)?.query_row([phone], contact_row).optional()?;
        Ok(row)
    }

    /// How long ago the server last told us about this contact's profile.
    pub fn profile_age(&self, phone: &str) -> Result<Option<std::time::Duration>, StoreError> {
        let age: Option<i64> = self
            .0
            .conn()
            .query_row(
                "SELECT unixepoch() - profile_at FROM contact WHERE phone = ?1 AND profile_at IS NOT NULL",
                [phone],
                |r| r.get(0),
            )
            .optional()?;
        Ok(age.map(|a| std::time::Duration::from_secs(a.max(0) as u64)))
    }

    pub fn lid_of_phone(&self, phone: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .0
            .conn()
            .query_row("SELECT lid FROM contact WHERE phone = ?1", [phone], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    pub fn phone_of_lid(&self, lid: &str) -> Result<Option<String>, StoreError> {
        Ok(phone_of_lid(&self.0.conn(), lid)?)
    }
}

/// One contact as the list shows it (the columns [`contact_row`] maps).
const CONTACT_BY_PHONE: &str =
    "SELECT c.phone, c.lid, c.saved_name, c.push_name, c.about, c.about_set_at, c.about_state,
            c.picture_state, c.in_address_book, b.lid IS NOT NULL, c.added_at IS NOT NULL
     FROM contact c LEFT JOIN blocked b ON b.lid = c.lid WHERE c.phone = ?1";

/// Maps the eleven contact columns both list queries select, in their order.
fn contact_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ContactRow> {
    let phone: String = r.get(0)?;
    Ok(ContactRow {
        phone_shown: numbers::shown(&phone),
        phone,
        lid: r.get(1)?,
        name: r.get(2)?,
        push_name: r.get(3)?,
        about: r.get(4)?,
        about_set_at: r.get::<_, Option<i64>>(5)?.map(|t| t as u64),
        about_state: r.get::<_, AboutState>(6)?,
        picture_state: r.get::<_, PictureState>(7)?,
        in_address_book: r.get(8)?,
        blocked: r.get(9)?,
        added: r.get(10)?,
    })
}

/// What to look for: the digits of a number typed in any format (so
/// "+55 (11) 9999" finds 55119999…) or of a pasted JID (`…@lid`, `…:2@s.whatsapp.net`), else the text as typed.
fn search_needle(query: &str) -> Option<String> {
    let q = query.trim();
    if q.is_empty() {
        return None;
    }
    if let Some((user, _server)) = q.rsplit_once('@') {
        let user = user.split(':').next().unwrap_or_default();
        if !user.is_empty() && user.bytes().all(|b| b.is_ascii_digit()) {
            return Some(user.to_owned());
        }
    }
    let numberish = q.chars().all(|c| c.is_ascii_digit() || " +-.()".contains(c));
    if numberish {
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        return (!digits.is_empty()).then_some(digits);
    }
    Some(q.to_owned())
}

pub(super) fn phone_of_lid(conn: &Connection, lid: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT phone FROM contact WHERE lid = ?1", [lid], |r| r.get(0)).optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::BlockedEntry;

    #[test]
    fn search_by_name_number_and_lid() {
        let (dir, store) = super::super::temp_store("search");
        let saved = |phone: &str, lid: &str, name: &str| SavedContact {
            phone: phone.into(),
            lid: Some(lid.into()),
            name: Some(name.into()),
        };
        store
            .directory()
            .save_address_book(&[
                saved("5511987654321", "200000000000001", "Ana Silva"),
                saved("15551234567", "200000000000002", "Bruno Costa"),
                saved("447700900123", "200000000000003", "Anabel Berg"),
            ])
            .unwrap();
        let names = |q: &str| -> Vec<String> {
            store.directory().page(q, ListFilter::All, 0, 50).unwrap().rows.into_iter().filter_map(|r| r.name).collect()
        };
        assert_eq!(names(""), ["Ana Silva", "Anabel Berg", "Bruno Costa"]);
        assert_eq!(names("ana"), ["Ana Silva", "Anabel Berg"]);
        assert_eq!(names("an"), ["Ana Silva", "Anabel Berg"], "short queries work too");
        assert_eq!(names("+55 (11) 98765-4321"), ["Ana Silva"]);
        assert_eq!(names("555-123"), ["Bruno Costa"]);
        assert_eq!(names("000000000003"), ["Anabel Berg"]);
        assert_eq!(names("zzz"), Vec::<String>::new());
        assert_eq!(names("200000000000002@lid"), ["Bruno Costa"], "a pasted LID JID");
        assert_eq!(names("15551234567:3@s.whatsapp.net"), ["Bruno Costa"], "a pasted device JID");
        // A rename on the phone replaces the name in the index.
        store.directory().save_address_book(&[saved("15551234567", "200000000000002", "Bruno C. (work)")]).unwrap();
        assert_eq!(names("work"), ["Bruno C. (work)"]);
        assert!(names("costa").is_empty());
        // The blocked filter includes blocked users outside the address book.
        store
            .blocklist()
            .exchange_blocking()
            .replace(&[
                BlockedEntry { lid: "200000000000001".into(), phone: None, blocked_at: Some(1) },
                BlockedEntry { lid: "999".into(), phone: Some("4915112345678".into()), blocked_at: Some(2) },
            ])
            .unwrap();
        // Blocked people known only by their LID are found as the list shows them.
        let lids = |q: &str| -> Vec<Option<String>> {
            store.directory().page(q, ListFilter::All, 0, 50).unwrap().rows.into_iter().map(|r| r.lid).collect()
        };
        assert_eq!(lids("999@lid"), [Some("999".to_owned())]);
        assert_eq!(lids("999"), [Some("999".to_owned())]);
        assert_eq!(lids("4915112345678"), [Some("999".to_owned())]);
        let blocked = store.directory().page("", ListFilter::Blocked, 0, 50).unwrap();
        assert_eq!(blocked.total, 2);
        let phones: Vec<_> = blocked.rows.iter().map(|r| r.phone.as_str()).collect();
        assert!(phones.contains(&"4915112345678") && phones.contains(&"5511987654321"), "{phones:?}");
        assert!(blocked.rows.iter().all(|r| r.blocked));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn search_folds_accents_and_case() {
        let (dir, store) = super::super::temp_store("search-fold");
        let contact =
            |phone: &str, name: &str| SavedContact { phone: phone.into(), lid: None, name: Some(name.into()) };
        store
            .directory()
            .save_address_book(&[contact("5511911110000", "María García"), contact("4917612345678", "Jürgen Müller")])
            .unwrap();
        let names = |q: &str| -> Vec<String> {
            store.directory().page(q, ListFilter::All, 0, 50).unwrap().rows.into_iter().filter_map(|r| r.name).collect()
        };
        for q in ["garcia", "GARCÍA", "maría", "Maria G"] {
            assert_eq!(names(q), ["María García"], "{q}");
        }
        assert_eq!(names("muller"), ["Jürgen Müller"]);
        assert_eq!(names("JURGEN"), ["Jürgen Müller"]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
