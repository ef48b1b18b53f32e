//! What the window renders: the session snapshot, and the rows, pages and
//! outcomes it asks for. This is the core's API boundary towards the shell:
//! every type here serialises to the JSON the UI reads, and every state that
//! crosses it is an enum (written as the same snake_case word in JSON and in
//! `roster.db`), never a string compared by hand.

use serde::{Deserialize, Serialize};

use crate::numbers::Country;

/// An enum stored as a word in `roster.db` and sent as the same word to the
/// window: `as_str`, `FromStr`-like `parse`, SQLite and serde conversions.
macro_rules! word_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word,)+ }
            }

            pub fn parse(word: &str) -> Option<Self> {
                match word { $($word => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let word = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&word).ok_or_else(|| {
                    serde::de::Error::unknown_variant(&word, &[$($word),+])
                })
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                let word = value.as_str()?;
                $name::parse(word).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(format!("{word:?} is not a {}", stringify!($name)).into())
                })
            }
        }
    };
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConnectionState {
    Connecting,
    WaitingForScan,
    Connected,
    /// The connection dropped; the client tries again after growing pauses
    /// (1 s, 1 s, 2 s, 3 s, 5 s... up to 15 min, as WhatsApp Web does).
    Reconnecting {
        /// Why it dropped, in words.
        reason: String,
        /// When it dropped (Unix seconds).
        since: u64,
        /// Connection attempts made since.
        attempt: u64,
    },
    /// No connection could be made since the session started (the server
    /// cannot be reached, or refuses the connection); the client keeps
    /// trying after the same growing pauses.
    Unreachable {
        /// Why, in words.
        reason: String,
        /// When the first attempt was made (Unix seconds).
        since: u64,
        /// Connection attempts made since the first.
        attempt: u64,
    },
    QrExpired,
    LoggedOut {
        reason: String,
    },
    /// Another WhatsApp Web session of this device took over; the window
    /// does not reconnect until the operator asks (the device stays linked).
    Replaced,
    /// The client could not be started (its store could not be opened,
    /// say); "Reconnect now" tries again. Roster's own saved data stays usable.
    Stopped {
        reason: String,
    },
}

/// A code for linking by phone number, while one is shown.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LinkCode {
    /// "ABCD-EFGH", as typed on the phone.
    pub code: String,
    /// The number it was asked for, as its country writes it.
    pub phone_shown: String,
    /// Unix time after which the phone refuses it.
    pub expires_at: u64,
    /// The phone did not link with it (a mistyped code, say): a new one is needed.
    pub written_off: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Qr {
    /// The raw pairing string, as a phone's scanner reads it.
    pub code: String,
    /// The same string rendered as an SVG document.
    pub svg: String,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Account {
    /// E.164 with a leading `+`.
    pub phone: String,
    /// The number as the window shows it (`numbers::shown`).
    pub phone_shown: String,
    pub jid: String,
    pub push_name: String,
}

/// Everything the header, the login screen and the job bar show; published
/// on a `watch` channel at every change.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SessionSnapshot {
    pub state: ConnectionState,
    pub qr: Option<Qr>,
    /// The code for linking by phone number, once asked for (beside the QR).
    pub link_code: Option<LinkCode>,
    pub account: Option<Account>,
    /// How many users the account has blocked (cached until the server answers).
    pub blocked_count: Option<usize>,
    /// Contacts in the directory (the phone's address book).
    pub contact_count: usize,
    /// Bumped whenever the directory changes, so the list knows to reload.
    pub directory_version: u64,
    /// Chats the phone named in its history sync.
    pub chat_count: usize,
    /// Bumped whenever a saved group changes (another device or the phone
    /// changed it), so the Groups view knows to reload.
    pub groups_version: u64,
    /// The latest number-check job, while there is one.
    pub check: Option<CheckProgress>,
    /// Bumped at every `Connected`, so an action can wait for the *next* connection.
    #[serde(skip)]
    pub(crate) connection_epoch: u64,
}

word_enum! {
    /// What the account may see of a contact's about text.
    pub enum AboutState {
        /// Not asked yet (e.g. offline).
        Unknown = "unknown",
        Shown = "shown",
        /// Hidden by the contact's privacy settings.
        Hidden = "hidden",
    }
}

word_enum! {
    /// What the account may see of a contact's profile picture.
    pub enum PictureState {
        /// Not asked yet (e.g. offline).
        Unknown = "unknown",
        Shown = "shown",
        /// Hidden by the contact's privacy settings.
        Hidden = "hidden",
        /// The contact has no picture.
        None = "none",
    }
}

/// One row of the contact list, as the window shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ContactRow {
    /// E.164 digits; empty for someone known only by their LID.
    pub phone: String,
    /// The number as the window shows it (`numbers::shown`).
    pub phone_shown: String,
    pub lid: Option<String>,
    /// Name in the phone's address book.
    pub name: Option<String>,
    pub push_name: Option<String>,
    pub about: Option<String>,
    pub about_set_at: Option<u64>,
    pub about_state: AboutState,
    pub picture_state: PictureState,
    pub in_address_book: bool,
    pub blocked: bool,
    /// Added to the directory by the operator (from a number check).
    pub added: bool,
}

word_enum! {
    /// What kind of chat a chat of the phone's list is.
    pub enum ChatKind {
        /// A 1:1 chat with someone.
        Direct = "direct",
        Group = "group",
    }
}

/// Which people the contact list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListFilter {
    All,
    Blocked,
}

/// A page of the contact list.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ContactPage {
    pub total: usize,
    pub offset: usize,
    pub rows: Vec<ContactRow>,
    /// The snapshot's `directory_version` read before the rows were: the
    /// page holds every change up to it (the session sets it; 0 from the
    /// store). A window that has seen a newer version asks again.
    pub directory_version: u64,
}

/// A contact as the detail panel shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ContactDetails {
    pub contact: ContactRow,
    /// The picture thumbnail as a `data:` URL (the window loads no remote URL).
    pub picture: Option<String>,
    /// The disappearing-message timer of the 1:1 chat with them, from the
    /// phone's history sync or as the account last set it; `None`: the
    /// phone has no chat with them (so no timer: off).
    pub chat_timer: Option<ChatTimer>,
}

/// A 1:1 chat's disappearing-message timer.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ChatTimer {
    /// The chat: `<number>@s.whatsapp.net` (or `<lid>@lid`).
    pub chat: String,
    /// Seconds; 0: off.
    pub seconds: u32,
    /// When it was set (Unix seconds), if known.
    pub set_at: Option<u64>,
}

/// A row's picture as the list shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Avatar {
    /// The thumbnail as a `data:` URL, when there is one to show.
    pub picture: Option<String>,
    pub picture_state: PictureState,
}

/// Someone the account blocks, as the server's blocklist names them.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct BlockedEntry {
    pub lid: String,
    pub phone: Option<String>,
    pub blocked_at: Option<u64>,
}

/// The operator's settings.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Settings {
    /// Applied to numbers typed without a country code.
    pub default_country: Option<Country>,
    /// Whether the window asks before blocking someone from the list (on
    /// until the operator turns it off).
    pub confirm_blocks: bool,
}

word_enum! {
    /// Where a number-check job stands.
    pub enum JobState {
        Running = "running",
        Paused = "paused",
        Cancelled = "cancelled",
        Done = "done",
    }
}

/// Where a job stands, as the progress bar shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CheckProgress {
    pub job: i64,
    pub state: JobState,
    /// Non-blank lines in the list.
    pub lines: usize,
    /// Lines that needed an answer (numbers and LIDs, each once).
    pub to_check: usize,
    /// Of those, answered so far (by the server or locally).
    pub checked: usize,
    pub on_whatsapp: usize,
    pub not_on_whatsapp: usize,
    /// Answered from what Roster already knew.
    pub known: usize,
    /// Gave up after retries.
    pub failed: usize,
    /// Numbers and LIDs left out because the job is limited to a group they are not in.
    pub outside_group: usize,
    /// The group the job is limited to (its subject), if any.
    pub group: Option<String>,
    pub invalid: usize,
    pub duplicates: usize,
    /// The pace; `checks::NO_LIMIT` (0) holds nothing back.
    pub rate_per_min: u32,
    /// Unix time until which the server asked us to wait.
    pub backoff_until: Option<u64>,
    /// Seconds left at the current pace.
    pub eta_secs: Option<u64>,
    /// Milliseconds this run spent waiting for the server's answers.
    pub server_ms: u64,
    /// Milliseconds this run spent holding back to keep the pace.
    pub paced_ms: u64,
}

word_enum! {
    /// What a line of a checked list turned out to be.
    pub enum LineKind {
        /// A phone number (its value is the E.164 digits).
        Number = "number",
        /// A LID (its value is the LID user).
        Lid = "lid",
        /// The same person as an earlier line (its value is that line).
        Duplicate = "duplicate",
        /// Not a number or LID (its value is the reason).
        Invalid = "invalid",
    }
}

word_enum! {
    /// How far a line of a check has got.
    pub enum LineState {
        Pending = "pending",
        Done = "done",
        /// Gave up after retries.
        Failed = "failed",
        /// Never asked: invalid, duplicate, or outside the job's group.
        Skipped = "skipped",
    }
}

word_enum! {
    /// Where a line's answer came from.
    pub enum AnswerSource {
        Server = "server",
        /// A check of the same number within the last week.
        RecentCheck = "recent check",
        /// The address book, with its LID.
        Directory = "directory",
        /// The client's own LID↔PN map.
        LidMap = "LID map",
        /// The member list of the group the job is limited to.
        Group = "group",
    }
}

/// One line of a job with its answer.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CheckRow {
    pub line: i64,
    pub input: String,
    pub kind: LineKind,
    /// E.164 digits or LID (number/lid), the reason (invalid), the first line (duplicate).
    pub value: Option<String>,
    pub state: LineState,
    pub on_whatsapp: Option<bool>,
    pub phone: Option<String>,
    /// The number as the window shows it (`numbers::shown`).
    pub phone_shown: Option<String>,
    pub lid: Option<String>,
    pub name: Option<String>,
    pub source: Option<AnswerSource>,
    pub checked_at: Option<u64>,
    pub error: Option<String>,
}

/// A page of a job's lines.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CheckPage {
    /// Lines matching the filter.
    pub total: usize,
    pub rows: Vec<CheckRow>,
}

word_enum! {
    /// What a bulk action does to each of its targets.
    pub enum BulkKind {
        Block = "block",
        Unblock = "unblock",
    }
}

/// What a bulk action did, as the server left it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct BulkOutcome {
    pub action: i64,
    pub kind: BulkKind,
    pub done: usize,
    pub failed: usize,
    /// The first few failures: (who, why).
    pub errors: Vec<(String, String)>,
    /// The account's blocked count afterwards (the server's).
    pub count: usize,
}

/// A group as the selector and the Groups view list it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct GroupSummary {
    /// `…@g.us`
    pub jid: String,
    pub subject: String,
    /// Participants, the account included (the server's count).
    pub members: usize,
    /// Unix time of the list the server last gave.
    pub fetched_at: u64,
    /// The account's role in it.
    pub role: GroupRole,
    /// A community's parent group (adding to it adds to the community).
    pub is_community: bool,
    /// For a community: its linked groups' JIDs, by subject.
    pub linked_groups: Vec<String>,
    /// For a linked group: its community's JID.
    pub parent: Option<String>,
    /// The community's announcement group.
    pub announcement_group: bool,
    /// Only admins may change its settings.
    pub locked: bool,
    /// Only admins may send messages.
    pub admins_only_messages: bool,
    /// The disappearing-message timer in seconds; 0: off.
    pub timer: u32,
}

word_enum! {
    /// A participant's role in a group.
    pub enum GroupRole {
        Member = "member",
        Admin = "admin",
        /// The group's creator.
        Superadmin = "superadmin",
    }
}

impl GroupRole {
    pub fn is_admin(self) -> bool {
        self != GroupRole::Member
    }
}

/// One member of a group, as the group panel shows them.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct GroupMemberRow {
    /// The name from the directory (saved, else push name), if known.
    pub name: Option<String>,
    /// E.164 digits, when the group or the directory gives the number.
    pub phone: Option<String>,
    /// The number as the window shows it.
    pub phone_shown: Option<String>,
    pub lid: Option<String>,
    pub admin: bool,
    /// The account itself.
    pub is_me: bool,
}

word_enum! {
    /// What adding one person to a group did (or removing them, for an undo).
    pub enum AddOutcome {
        /// Not sent yet.
        Pending = "pending",
        Added = "added",
        AlreadyMember = "already_member",
        /// Their privacy settings only let contacts add them: WhatsApp gave
        /// an invite to send instead (`invite_code`).
        InviteNeeded = "invite_needed",
        NotOnWhatsapp = "not_on_whatsapp",
        /// They left the group lately; WhatsApp refuses to add them back yet.
        RecentlyLeft = "recently_left",
        GroupFull = "group_full",
        /// Removed again (an undo).
        Removed = "removed",
        /// WhatsApp refused with another code (`code`).
        Failed = "failed",
    }
}

/// One person of an add-participants job.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AddItemRow {
    /// Its place in the job (the order given).
    pub seq: i64,
    /// The check's line, when the job came from a check.
    pub line: Option<i64>,
    pub phone: Option<String>,
    /// The number as the window shows it (`numbers::shown`).
    pub phone_shown: Option<String>,
    pub lid: Option<String>,
    pub outcome: AddOutcome,
    /// The server's per-participant code (200 for added).
    pub code: Option<u16>,
    /// For `invite_needed`: the invite WhatsApp handed out, and until when
    /// (Unix seconds) it is valid.
    pub invite_code: Option<String>,
    pub invite_expiration: Option<u64>,
    /// When the account sent them that invite (Unix seconds).
    pub invite_sent_at: Option<u64>,
}

/// What an add-participants job (or its undo) did, as the server left it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AddJobOutcome {
    pub action: i64,
    /// `…@g.us`: for a community, its parent group.
    pub group: String,
    /// An undo (removes those the job added).
    pub undo: bool,
    /// Each person, in the order given.
    pub items: Vec<AddItemRow>,
    /// The group's participants afterwards (the server's count).
    pub members: usize,
}

impl AddJobOutcome {
    pub fn count(&self, outcome: AddOutcome) -> usize {
        self.items.iter().filter(|i| i.outcome == outcome).count()
    }
}

word_enum! {
    /// How an operator action in the audit log ended.
    pub enum AuditOutcome {
        /// In progress, or cut short by a crash.
        Started = "started",
        Done = "done",
        Failed = "failed",
    }
}

/// One operator action in the audit log.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix time the action started.
    pub at: u64,
    pub action: String,
    pub target: Option<String>,
    pub outcome: AuditOutcome,
    pub detail: Option<String>,
}

/// The newest entries first.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AuditPage {
    pub total: usize,
    pub rows: Vec<AuditEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_and_write_the_same_words() {
        assert_eq!(serde_json::to_string(&AnswerSource::RecentCheck).unwrap(), "\"recent check\"");
        assert_eq!(serde_json::from_str::<JobState>("\"paused\"").unwrap(), JobState::Paused);
        assert!(serde_json::from_str::<JobState>("\"later\"").is_err());
        for kind in [LineKind::Number, LineKind::Lid, LineKind::Duplicate, LineKind::Invalid] {
            assert_eq!(LineKind::parse(kind.as_str()), Some(kind));
        }
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let back: PictureState = conn.query_row("SELECT ?1", [PictureState::None], |r| r.get(0)).unwrap();
        assert_eq!(back, PictureState::None);
        let bad = conn.query_row("SELECT 'maybe'", [], |r| r.get::<_, PictureState>(0));
        assert!(bad.is_err(), "an unknown word in the database is an error, not a guess");
    }
}
