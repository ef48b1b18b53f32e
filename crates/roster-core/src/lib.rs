//! Roster's core: the device session and the domain logic behind the window.
//!
//! Nothing here knows about Tauri; the app crate is a thin shell over this API,
//! and the integration tests drive it against the protocol simulator.

pub mod appsync;
pub mod audit;
pub mod blocklist;
pub mod bulk;
pub mod checks;
pub mod datadir;
pub mod endpoint;
pub mod groups;
pub mod import;
pub mod numbers;
pub mod pictures;
pub mod profile;
pub mod qr;
pub mod redact;
mod reducer;
pub mod session;
pub mod store;

pub use appsync::{Scope, SyncError, SyncReport};
pub use audit::{AuditEntry, AuditPage};
pub use blocklist::{BlockError, BlockOutcome};
pub use bulk::{BulkError, BulkOutcome};
pub use checks::{CheckError, CheckFilter, CheckOrder, CheckPage, CheckProgress, CheckRow, CheckSort, JobState};
pub use datadir::{DataDir, DataDirError};
pub use endpoint::{EndpointError, ServerUrl, parse_server_url};
pub use groups::{GroupError, GroupSummary};
pub use import::{ImportError, Preview};
pub use numbers::{Country, CountryError, Target, TargetError, parse_country, parse_target};
pub use session::{
    Account, Avatar, ConnectionState, ContactDetails, DetailsError, PICTURE_MAX_AGE, Qr, Session, SessionConfig,
    SessionError, SessionSnapshot, Settings, SettingsError,
};
pub use store::{BlockedEntry, StoreError};
