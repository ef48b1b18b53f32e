//! What a command answers when it cannot do what the window asked: a kind
//! the window can branch on, and the sentence the operator reads. Every
//! core error is mapped to its kind here, once; the sentence is the core's.

use roster_core::pictures::PictureError;
use roster_core::profile::ProfileError;
use roster_core::{
    AccountsError, BlockError, BulkError, ChatError, CheckError, CountryError, DetailsError, GroupAddError, GroupError,
    ImportError, LinkCodeError, SessionError, SettingsError, StoreError, SyncError, TargetError,
};
use serde::Serialize;

use crate::accounts::AccountError;
use crate::args::ArgError;

/// Serialised as `{ "kind": "not_connected", "message": "…" }`.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// What was typed or sent cannot be used (a number, a list, an argument).
    InvalidInput,
    /// The action needs a connection to WhatsApp.
    NotConnected,
    /// WhatsApp answered with an error, or did not answer in time.
    Server,
    /// What the action names does not exist (a job, an action, a contact, a group).
    NotFound,
    /// Not possible in the current state (a finished job, nothing selected).
    NotAllowed,
    /// Roster's own files or database failed.
    Storage,
}

impl CommandError {
    /// Logs the refusal once, with what the operator was doing.
    pub fn logged(self, action: &str) -> CommandError {
        tracing::warn!(kind = ?self.kind, error = %self.message, "could not {action}");
        self
    }
}

/// A core error as the window receives it.
pub trait Kind: std::fmt::Display {
    fn kind(&self) -> ErrorKind;
}

impl<E: Kind> From<E> for CommandError {
    fn from(e: E) -> CommandError {
        CommandError { kind: e.kind(), message: e.to_string() }
    }
}

impl Kind for ArgError {
    fn kind(&self) -> ErrorKind {
        match self {
            ArgError::List(e) => e.kind(),
            ArgError::Check(e) => e.kind(),
            ArgError::Bulk(e) => e.kind(),
            _ => ErrorKind::InvalidInput,
        }
    }
}

impl Kind for AccountError {
    fn kind(&self) -> ErrorKind {
        match self {
            AccountError::Unknown(_) | AccountError::Folder(AccountsError::Unknown(_)) => ErrorKind::NotFound,
            AccountError::Folder(_) => ErrorKind::Storage,
            AccountError::Session(e) => e.kind(),
        }
    }
}

impl Kind for StoreError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Storage
    }
}

impl Kind for LinkCodeError {
    fn kind(&self) -> ErrorKind {
        match self {
            LinkCodeError::AlreadyLinked | LinkCodeError::NotAvailable => ErrorKind::NotAllowed,
            LinkCodeError::NotReady => ErrorKind::NotConnected,
            LinkCodeError::Number(_) => ErrorKind::InvalidInput,
            LinkCodeError::Throttled | LinkCodeError::Failed(_) => ErrorKind::Server,
        }
    }
}

impl Kind for SessionError {
    fn kind(&self) -> ErrorKind {
        match self {
            SessionError::NotRunning => ErrorKind::NotConnected,
            SessionError::Client(_) => ErrorKind::Server,
            SessionError::Store { .. } | SessionError::RemoveStore { .. } | SessionError::Database(_) => {
                ErrorKind::Storage
            }
        }
    }
}

impl Kind for TargetError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidInput
    }
}

impl Kind for CountryError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidInput
    }
}

impl Kind for ImportError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidInput
    }
}

impl Kind for BlockError {
    fn kind(&self) -> ErrorKind {
        match self {
            BlockError::NotConnected => ErrorKind::NotConnected,
            BlockError::Target(e) => e.kind(),
            BlockError::NotOnWhatsApp(_) => ErrorKind::NotFound,
            BlockError::Timeout | BlockError::Refused { .. } | BlockError::Failed(_) => ErrorKind::Server,
            BlockError::Store(e) => e.kind(),
        }
    }
}

impl Kind for ProfileError {
    fn kind(&self) -> ErrorKind {
        match self {
            ProfileError::NotConnected => ErrorKind::NotConnected,
            ProfileError::Timeout | ProfileError::Failed(_) => ErrorKind::Server,
        }
    }
}

impl Kind for PictureError {
    fn kind(&self) -> ErrorKind {
        match self {
            PictureError::Profile(e) => e.kind(),
            PictureError::Download(_) | PictureError::Decode(_) => ErrorKind::Server,
            PictureError::Store(e) => e.kind(),
        }
    }
}

impl Kind for DetailsError {
    fn kind(&self) -> ErrorKind {
        match self {
            DetailsError::Unknown(_) => ErrorKind::NotFound,
            DetailsError::Profile(e) => e.kind(),
            DetailsError::Picture(e) => e.kind(),
            DetailsError::Store(e) => e.kind(),
        }
    }
}

impl Kind for SettingsError {
    fn kind(&self) -> ErrorKind {
        match self {
            SettingsError::Country(e) => e.kind(),
            SettingsError::Store(e) => e.kind(),
        }
    }
}

impl Kind for SyncError {
    fn kind(&self) -> ErrorKind {
        match self {
            SyncError::NotConnected | SyncError::Interrupted => ErrorKind::NotConnected,
            SyncError::Store(_) => ErrorKind::Storage,
        }
    }
}

impl Kind for GroupError {
    fn kind(&self) -> ErrorKind {
        match self {
            GroupError::NotConnected => ErrorKind::NotConnected,
            GroupError::BadJid(_) | GroupError::BadTimer(_) => ErrorKind::InvalidInput,
            GroupError::Unknown(_) => ErrorKind::NotFound,
            GroupError::NotAdmin(_) | GroupError::NotAdminLocked(_) => ErrorKind::NotAllowed,
            GroupError::Server(_)
            | GroupError::Timeout
            | GroupError::Refused { .. }
            | GroupError::RateLimited { .. } => ErrorKind::Server,
            GroupError::Store(e) => e.kind(),
        }
    }
}

impl Kind for ChatError {
    fn kind(&self) -> ErrorKind {
        match self {
            ChatError::NotConnected => ErrorKind::NotConnected,
            ChatError::Target(e) => e.kind(),
            ChatError::BadTimer(_) => ErrorKind::InvalidInput,
            ChatError::Timeout | ChatError::Failed(_) => ErrorKind::Server,
            ChatError::Store(e) => e.kind(),
        }
    }
}

impl Kind for GroupAddError {
    fn kind(&self) -> ErrorKind {
        match self {
            GroupAddError::Nothing | GroupAddError::NotUndoable(_) | GroupAddError::NothingToUndo(_) => {
                ErrorKind::NotAllowed
            }
            GroupAddError::TooMany(_) => ErrorKind::InvalidInput,
            GroupAddError::NoAction(_) | GroupAddError::NoInvite(_) => ErrorKind::NotFound,
            GroupAddError::InviteExpired(_) => ErrorKind::NotAllowed,
            GroupAddError::Chat(e) => e.kind(),
            GroupAddError::Target(e) => e.kind(),
            GroupAddError::Group(e) => e.kind(),
            GroupAddError::Store(e) => e.kind(),
        }
    }
}

impl Kind for CheckError {
    fn kind(&self) -> ErrorKind {
        match self {
            CheckError::Import(e) => e.kind(),
            CheckError::Rate(_) => ErrorKind::InvalidInput,
            CheckError::NoJob(_) => ErrorKind::NotFound,
            CheckError::State { .. } | CheckError::NothingToAdd => ErrorKind::NotAllowed,
            CheckError::Group(e) => e.kind(),
            CheckError::Store(e) => e.kind(),
        }
    }
}

impl Kind for BulkError {
    fn kind(&self) -> ErrorKind {
        match self {
            BulkError::Nothing(_) | BulkError::NotUndoable(_) => ErrorKind::NotAllowed,
            BulkError::TooMany(_) => ErrorKind::InvalidInput,
            BulkError::NoAction(_) => ErrorKind::NotFound,
            BulkError::Block(e) => e.kind(),
            BulkError::Store(e) => e.kind(),
        }
    }
}

/// A file the shell itself could not write (an export).
#[derive(Debug)]
pub struct FileError(pub String);

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Kind for FileError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Storage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_gets_a_kind_and_the_cores_sentence() {
        let e: CommandError = CheckError::NoJob(7).into();
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json, serde_json::json!({ "kind": "not_found", "message": "there is no check job 7" }));
        let e: CommandError = BulkError::Block(BlockError::NotConnected).into();
        assert_eq!(e.kind, ErrorKind::NotConnected);
        let e: CommandError = ChatError::BadTimer(u32::MAX).into();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.contains("longer than WhatsApp accepts"), "{}", e.message);
        let e: CommandError = ChatError::NotConnected.into();
        assert_eq!(e.kind, ErrorKind::NotConnected);
        let e: CommandError = ArgError::QueryTooLong.into();
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::InvalidInput, "the search is too long (at most 200 characters)")
        );
    }
}
