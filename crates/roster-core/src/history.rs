//! The phone's history sync (`Event::HistorySync`): right after linking it
//! sends the chat list (each chat with its disappearing-message timer), the
//! LID↔PN pairs of the people it knows, and their push names, its own
//! included. Roster keeps these in roster.db.
//!
//! whatsapp-rust 0.7 itself learns the LID↔PN pairs
//! (`phoneNumberToLidMappings`, into its own store) and the account's push
//! name before it raises the event, so a later block by number needs no
//! usync; Roster's copy feeds the directory.

use thiserror::Error;
use whatsapp_rust::Jid;
use whatsapp_rust::types::events::LazyHistorySync;
use whatsapp_rust::wacore_binary::Server;
use whatsapp_rust::waproto::whatsapp as wa;

use crate::snapshot::ChatKind;
use crate::store::{Chat, PushName, Store, StoreError};

#[derive(Debug, Error)]
pub enum HistoryError {
    #[error("the phone's history sync could not be read (corrupt or truncated)")]
    Unreadable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one history-sync chunk holds that Roster keeps.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HistoryChunk {
    pub chats: Vec<Chat>,
    /// LID↔PN pairs, `(phone, lid)`.
    pub identities: Vec<(String, String)>,
    /// Other people's push names.
    pub push_names: Vec<PushName>,
    /// The account's own push name, when the chunk has it.
    pub own_push_name: Option<String>,
}

/// What the phone writes for "no push name": a value, not an empty field.
const NO_PUSH_NAME: &str = "-";

impl HistoryChunk {
    /// Reads a decoded chunk; `own_phone` is the account's number (digits),
    /// to tell its own push name from the others'.
    pub fn read(sync: &wa::HistorySync, own_phone: Option<&str>) -> HistoryChunk {
        let chats = sync.conversations.iter().filter_map(chat).collect();
        let identities = sync
            .phone_number_to_lid_mappings
            .iter()
            .filter_map(|m| {
                let pn = person(m.pn_jid.as_deref()?)?;
                let lid = person(m.lid_jid.as_deref()?)?;
                (is_pn(&pn) && lid.server == Server::Lid)
                    .then(|| (pn.user_base().to_owned(), lid.user_base().to_owned()))
            })
            .collect();
        let mut own_push_name = None;
        let mut push_names = Vec::new();
        for entry in &sync.pushnames {
            let (Some(id), Some(name)) = (entry.id.as_deref(), entry.pushname.as_deref()) else { continue };
            if name.is_empty() || name == NO_PUSH_NAME {
                continue;
            }
            let Some(jid) = person(id) else { continue };
            let (user, name) = (jid.user_base().to_owned(), name.to_owned());
            if is_pn(&jid) && Some(user.as_str()) == own_phone {
                own_push_name = Some(name);
            } else if is_pn(&jid) {
                push_names.push(PushName::ByPhone { phone: user, name });
            } else if jid.server == Server::Lid {
                push_names.push(PushName::ByLid { lid: user, name });
            }
        }
        HistoryChunk { chats, identities, push_names, own_push_name }
    }

    /// Saves the chunk, each table in its own transaction: pairs first (a
    /// push name given by LID needs them), then push names, chats, and the
    /// account's name.
    pub fn save(&self, store: &Store, own_phone: Option<&str>) -> Result<(), StoreError> {
        store.directory().remember_identities(&self.identities)?;
        store.directory().save_push_names(&self.push_names)?;
        store.chats().save(&self.chats)?;
        if let (Some(phone), Some(name)) = (own_phone, &self.own_push_name) {
            store.account().save_push_name(phone, name)?;
        }
        Ok(())
    }
}

/// Decodes the client's lazily decoded chunk and saves it (blocking: the
/// chunk can be megabytes, so run it off the async threads).
pub(crate) fn save(
    store: &Store,
    sync: &LazyHistorySync,
    own_phone: Option<&str>,
) -> Result<HistoryChunk, HistoryError> {
    let decoded = sync.get().ok_or(HistoryError::Unreadable)?;
    let chunk = HistoryChunk::read(decoded, own_phone);
    chunk.save(store, own_phone)?;
    Ok(chunk)
}

/// A conversation as Roster keeps it: 1:1 chats and groups (broadcast
/// lists, channels and the like are left out).
fn chat(c: &wa::Conversation) -> Option<Chat> {
    let jid: Jid = c.id.parse().ok()?;
    let kind = match jid.server {
        Server::Group => ChatKind::Group,
        _ if is_pn(&jid) || jid.server == Server::Lid => ChatKind::Direct,
        _ => return None,
    };
    Some(Chat {
        jid: c.id.clone(),
        kind,
        ephemeral_expiration: c.ephemeral_expiration.unwrap_or(0),
        ephemeral_set_at: c.ephemeral_setting_timestamp.and_then(|t| u64::try_from(t).ok()).filter(|t| *t > 0),
    })
}

/// A person's JID (PN or LID), parsed.
fn person(jid: &str) -> Option<Jid> {
    jid.parse().ok().filter(|j: &Jid| !j.user_base().is_empty())
}

/// A phone-number JID (`@s.whatsapp.net`, or the legacy `@c.us`).
fn is_pn(jid: &Jid) -> bool {
    jid.server == Server::Pn || jid.server == Server::Legacy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(id: &str, timer: Option<u32>, set_at: Option<i64>) -> wa::Conversation {
        wa::Conversation {
            id: id.into(),
            ephemeral_expiration: timer,
            ephemeral_setting_timestamp: set_at,
            ..Default::default()
        }
    }

    #[test]
    fn reads_chats_pairs_and_push_names() {
        let pushname = |id: &str, name: &str| wa::Pushname { id: Some(id.into()), pushname: Some(name.into()) };
        let mapping =
            |pn: &str, lid: &str| wa::PhoneNumberToLIDMapping { pn_jid: Some(pn.into()), lid_jid: Some(lid.into()) };
        let sync = wa::HistorySync {
            conversations: vec![
                conversation("15551234567@s.whatsapp.net", Some(86_400), Some(1_700_000_000)),
                conversation("200000000000001@lid", None, None),
                conversation("120363000000000001@g.us", Some(0), Some(0)),
                conversation("status@broadcast", Some(86_400), None),
                conversation("120363000000000002@newsletter", None, None),
            ],
            phone_number_to_lid_mappings: vec![
                mapping("15551234567@s.whatsapp.net", "200000000000002@lid"),
                mapping("447700900123:3@c.us", "200000000000003@lid"),
                mapping("200000000000004@lid", "200000000000005@lid"),
                wa::PhoneNumberToLIDMapping { pn_jid: Some("4915112345678@s.whatsapp.net".into()), lid_jid: None },
            ],
            pushnames: vec![
                pushname("15550000000@s.whatsapp.net", "Me (sandbox)"),
                pushname("15551234567@s.whatsapp.net", "Ana S"),
                pushname("200000000000003@lid", "Bruno C"),
                pushname("447700900999@s.whatsapp.net", "-"),
                wa::Pushname { id: Some("447700900998@s.whatsapp.net".into()), pushname: None },
            ],
            ..Default::default()
        };
        let chunk = HistoryChunk::read(&sync, Some("15550000000"));
        let chat = |jid: &str, kind, secs, at| Chat {
            jid: jid.into(),
            kind,
            ephemeral_expiration: secs,
            ephemeral_set_at: at,
        };
        assert_eq!(
            chunk.chats,
            [
                chat("15551234567@s.whatsapp.net", ChatKind::Direct, 86_400, Some(1_700_000_000)),
                chat("200000000000001@lid", ChatKind::Direct, 0, None),
                chat("120363000000000001@g.us", ChatKind::Group, 0, None),
            ]
        );
        assert_eq!(
            chunk.identities,
            [
                ("15551234567".to_owned(), "200000000000002".to_owned()),
                ("447700900123".to_owned(), "200000000000003".to_owned())
            ]
        );
        assert_eq!(
            chunk.push_names,
            [
                PushName::ByPhone { phone: "15551234567".into(), name: "Ana S".into() },
                PushName::ByLid { lid: "200000000000003".into(), name: "Bruno C".into() },
            ]
        );
        assert_eq!(chunk.own_push_name.as_deref(), Some("Me (sandbox)"));

        // Saved: a name given by LID reaches the contact the pairs named.
        let (dir, store) = crate::store::temp_store("history");
        chunk.save(&store, Some("15550000000")).unwrap();
        let contact = |phone: &str| store.directory().contact(phone).unwrap().unwrap();
        assert_eq!(contact("447700900123").push_name.as_deref(), Some("Bruno C"));
        assert_eq!(contact("447700900123").lid.as_deref(), Some("200000000000003"));
        assert_eq!(contact("15551234567").push_name.as_deref(), Some("Ana S"));
        assert_eq!(store.chats().count().unwrap(), 3);
        assert_eq!(store.account().push_name("15550000000").unwrap().as_deref(), Some("Me (sandbox)"));
        assert_eq!(store.directory().count().unwrap(), 0, "push names and pairs add no one to the address book");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
