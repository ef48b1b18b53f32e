//! Roster's core: the device session and the domain logic behind the window.
//!
//! Nothing here knows about Tauri; the app crate is a thin shell over this
//! API, and the integration tests drive it against the protocol simulator.
//! [`Session`] is the entry point; [`snapshot`] holds every type the window
//! renders (the API boundary); [`store`] is the home of all SQL.

pub mod accounts;
pub mod appsync;
pub mod audit;
pub mod blocklist;
pub mod bulk;
pub mod chats;
pub mod checks;
pub mod clock;
mod csv;
pub mod datadir;
pub mod endpoint;
pub mod group_adds;
pub mod groups;
pub mod history;
pub mod import;
pub mod link_code;
pub mod numbers;
pub mod pictures;
pub mod profile;
pub mod qr;
pub mod redact;
mod reducer;
pub mod session;
pub mod snapshot;
pub mod store;

pub use accounts::{AccountId, Accounts, AccountsError};
pub use appsync::{Scope, SyncError, SyncReport};
pub use blocklist::{BlockError, BlockOutcome};
pub use bulk::BulkError;
pub use chats::{ChatError, ChatTimer};
pub use checks::{CheckError, CheckFilter, CheckOrder, CheckSort, JobIntent};
pub use datadir::{DataDir, DataDirError, DirLock};
pub use endpoint::{EndpointError, ServerUrl, parse_server_url};
pub use group_adds::GroupAddError;
pub use groups::{GroupError, Timer};
pub use history::HistoryError;
pub use import::{ImportError, Preview};
pub use link_code::LinkCodeError;
pub use numbers::{Country, CountryError, Target, TargetError, parse_country, parse_target};
pub use session::{DetailsError, PICTURE_MAX_AGE, Session, SessionConfig, SessionError, SettingsError};
pub use snapshot::{
    AboutState, Account, AddItemRow, AddJobOutcome, AddOutcome, AnswerSource, AuditEntry, AuditOutcome, AuditPage,
    Avatar, BlockedEntry, BulkKind, BulkOutcome, ChatKind, CheckPage, CheckProgress, CheckRow, ConnectionState,
    ContactDetails, ContactPage, ContactRow, GroupMemberRow, GroupRole, GroupSummary, JobState, LineKind, LineState,
    LinkCode, ListFilter, PictureState, Qr, SessionSnapshot, Settings,
};
pub use store::StoreError;
