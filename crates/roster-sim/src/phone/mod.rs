//! The simulated primary phone: what it does, as opposed to what the
//! server answers. It pairs companions by QR ([`pairing`], [`camera`]) or
//! by a code typed on it ([`pair_code`]),
//! keeps the linked devices ([`devices`]) and the blocklist
//! ([`blocklist`]), shares the app-state key over its Signal session
//! ([`key_share`], [`signal`]) and then its chat list and push names
//! ([`history_sync`]), and acts on the admin API's behalf
//! ([`actions`]: blocks, abouts, pictures, renames), pushing to linked
//! devices what they must hear.

mod actions;
pub mod blocklist;
mod camera;
pub mod devices;
pub mod groups;
pub mod history_sync;
pub mod key_share;
pub mod pair_code;
mod pairing;
mod signal;

pub use actions::{ActionError, rename, set_about, set_blocked, set_picture};
pub use camera::AutoScan;
pub use pairing::{LinkError, ScanError, link_signed, scan};
pub use signal::PhoneSignal;
