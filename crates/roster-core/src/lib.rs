//! Roster's core: the device session and the domain logic behind the window.
//!
//! Nothing here knows about Tauri; the app crate is a thin shell over this API,
//! and the integration tests drive it against the protocol simulator.

pub mod blocklist;
pub mod datadir;
pub mod endpoint;
pub mod numbers;
pub mod pictures;
pub mod profile;
pub mod qr;
pub mod session;
pub mod store;

pub use blocklist::{BlockError, BlockOutcome};
pub use datadir::{DataDir, DataDirError};
pub use numbers::{Target, TargetError, parse_target};
pub use store::{BlockedEntry, StoreError};
pub use endpoint::{EndpointError, ServerUrl, parse_server_url};
pub use session::{
    Account, ConnectionState, ContactDetails, DetailsError, PICTURE_MAX_AGE, Qr, Session, SessionConfig,
    SessionError, SessionSnapshot,
};
