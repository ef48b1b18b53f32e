//! Roster's core: the device session and the domain logic behind the window.
//!
//! Nothing here knows about Tauri; the app crate is a thin shell over this API,
//! and the integration tests drive it against the protocol simulator.

pub mod datadir;
pub mod endpoint;
pub mod qr;
pub mod session;

pub use datadir::{DataDir, DataDirError};
pub use endpoint::{EndpointError, ServerUrl, parse_server_url};
pub use session::{
    Account, ConnectionState, Qr, Session, SessionConfig, SessionError, SessionSnapshot,
};
