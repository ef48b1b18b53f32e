//! [`SimHandle`]: a running simulator, as tests and the sandbox drive it —
//! its addresses, faults, limits and counters — and [`SimAccount`]: one
//! account's phone actions and world report (`handle.account(n)`; the
//! handle's own phone methods are account 1's).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::admin::WorldReport;
use crate::faults::{Armed, ConnectionFault, IqFault};
use crate::limits::{CheckCall, UsyncLimit};
use crate::lobby::AccountNo;
use crate::phone::groups::GroupChangeError;
use crate::phone::pair_code::CodeError;
use crate::phone::{self, ActionError, AutoScan, ScanError};
use crate::shared::Shared;

pub struct SimHandle {
    pub(crate) addr: SocketAddr,
    pub(crate) shared: Arc<Shared>,
    pub(crate) auto_scan: Arc<AutoScan>,
    pub(crate) stop: oneshot::Sender<()>,
    pub(crate) task: JoinHandle<()>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws/chat", self.addr)
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The root key that signs the server's Noise certificate chain.
    pub fn root_public_key(&self) -> [u8; 32] {
        self.shared.server.root_public()
    }

    pub fn root_public_key_b64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.root_public_key())
    }

    /// How many accounts (phones) the simulator holds.
    pub fn accounts(&self) -> usize {
        self.shared.accounts()
    }

    /// Account `n` (from 1): its phone and its world. The methods of
    /// `SimHandle` that act as the phone are account 1's.
    ///
    /// # Panics
    /// When the simulator has no account `n` (a test's mistake).
    pub fn account(&self, n: AccountNo) -> SimAccount<'_> {
        assert!(self.shared.has_account(n), "the simulator has {} accounts, not account {n}", self.shared.accounts());
        SimAccount { shared: &self.shared, n }
    }

    /// Account `n`'s world, typed, as `GET /admin/world?account=n` serves it.
    pub fn world_of(&self, n: AccountNo) -> WorldReport {
        self.account(n).world()
    }

    /// The phone's account identity key: it signs companions' device
    /// identities (ADV) in `pair-success`.
    pub fn account_identity_key(&self) -> [u8; 32] {
        self.account(1).account_identity_key()
    }

    /// The phone scans `qr` now.
    pub fn scan_qr(&self, qr: &str) -> Result<String, ScanError> {
        self.account(1).scan_qr(qr)
    }

    /// The operator types a pairing code on the phone; resolves once the
    /// companion's key bundle was opened (the device's JID) or not.
    pub async fn enter_pair_code(&self, code: &str) -> Result<String, CodeError> {
        self.account(1).enter_pair_code(code).await
    }

    /// Every outstanding pairing code reads as expired; returns how many.
    pub fn expire_pair_codes(&self) -> usize {
        self.account(1).expire_pair_codes()
    }

    /// Shows `qr` to the phone's camera (scanned after the auto-scan delay;
    /// with several accounts, by the first account with no linked device).
    pub fn show_qr(&self, qr: &str) {
        self.auto_scan.show(&self.shared, qr.to_owned());
    }

    /// The phone unlinks a companion (all of them with `None`).
    pub fn remove_devices(&self, device: Option<u16>) -> Vec<u16> {
        self.account(1).remove_devices(device)
    }

    /// The whole world, typed, as `GET /admin/world` serves it.
    pub fn world(&self) -> WorldReport {
        self.account(1).world()
    }

    /// A contact sets a new profile picture (linked devices are told); returns its id.
    pub fn contact_set_picture(&self, target: &str) -> Result<Option<u64>, ActionError> {
        self.account(1).contact_set_picture(target)
    }

    /// A contact changes their about text (pushed to linked devices when visible).
    pub fn contact_set_about(&self, target: &str, text: &str) -> Result<(), ActionError> {
        self.account(1).contact_set_about(target, text)
    }

    /// The phone saves `name` for someone in its address book; linked devices sync it.
    pub fn phone_rename(&self, target: &str, name: &str) -> Result<(), ActionError> {
        self.account(1).phone_rename(target, name)
    }

    /// A rename whose `server_sync` push never reaches the linked devices.
    pub fn phone_rename_unannounced(&self, target: &str, name: &str) -> Result<(), ActionError> {
        self.account(1).phone_rename_unannounced(target, name)
    }

    /// The phone blocks (or unblocks) someone by number or JID; linked devices are told.
    pub fn phone_set_blocked(&self, target: &str, block: bool) -> Result<String, ActionError> {
        self.account(1).phone_set_blocked(target, block)
    }

    /// The phone (an admin) adds someone, by number or JID, to a group or
    /// community; returns the server's code for them (200 added, 409, …).
    /// Linked devices are told.
    pub fn phone_add_to_group(&self, group: &str, target: &str) -> Result<u16, GroupChangeError> {
        self.account(1).phone_add_to_group(group, target)
    }

    /// The phone sets (`Some`, seconds) or clears a group's timer; linked
    /// devices are told.
    pub fn phone_set_group_timer(&self, group: &str, seconds: Option<u32>) -> Result<(), GroupChangeError> {
        self.account(1).phone_set_group_timer(group, seconds)
    }

    /// Every picture URL handed out so far stops working (403).
    pub fn expire_picture_urls(&self) {
        self.shared.expire_picture_urls();
    }

    /// The next IQ of `fault.xmlns` answers `fault.code` instead of being handled.
    pub fn fail_next_iq(&self, fault: IqFault) {
        self.shared.faults.arm(fault);
    }

    /// Arms a fault for the next IQ it matches (error, drop, delay).
    pub fn arm_fault(&self, fault: Armed) {
        self.shared.faults.arm_fault(fault);
    }

    /// Injects `fault` into every live connection now, of every account;
    /// returns how many it hit.
    pub fn inject(&self, fault: ConnectionFault) -> usize {
        self.shared.inject(fault)
    }

    /// Refuses new connections (HTTP 503) for `length`.
    pub fn start_outage(&self, length: Duration) {
        self.shared.faults.start_outage(length);
    }

    /// Connection attempts refused by outages so far.
    pub fn refused_connections(&self) -> u64 {
        self.shared.counters.refused_connections.get()
    }

    /// Chat connections accepted so far (each reconnect is one more).
    pub fn connections_opened(&self) -> u64 {
        self.shared.counters.connections_opened.get()
    }

    /// Logins the server accepted (each reconnect of a linked device is one more).
    pub fn logins(&self) -> u64 {
        self.shared.counters.logins.get()
    }

    /// Connections whose Noise handshake did not complete (a client that
    /// refused the certificate chain closes right after the server hello).
    pub fn handshakes_failed(&self) -> u64 {
        self.shared.counters.handshakes_failed.get()
    }

    /// Rate-limits number checks (`None` lifts the limit).
    pub fn set_usync_limit(&self, limit: Option<UsyncLimit>) {
        self.shared.limits.set(limit);
    }

    /// Every number check the server received, in order.
    pub fn check_log(&self) -> Vec<CheckCall> {
        self.shared.limits.log()
    }

    /// Faults armed with [`fail_next_iq`](Self::fail_next_iq) and not yet used.
    pub fn armed_faults(&self) -> usize {
        self.shared.faults.armed()
    }

    /// How many IQs of namespace `xmlns` (`usync`, `w:profile:picture`...) clients sent.
    pub fn iq_count(&self, xmlns: &str) -> u64 {
        self.shared.counters.iq_count(xmlns)
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// One account of a running simulator: its phone's actions and its world.
pub struct SimAccount<'a> {
    shared: &'a Arc<Shared>,
    n: AccountNo,
}

impl SimAccount<'_> {
    /// This account's number among the simulator's (from 1).
    pub fn number(&self) -> AccountNo {
        self.n
    }

    /// The phone's number (digits).
    pub fn phone(&self) -> String {
        self.shared.world_of(self.n).account.phone.clone()
    }

    /// Injects `fault` into this account's live connections only; returns
    /// how many it hit.
    pub fn inject(&self, fault: ConnectionFault) -> usize {
        self.shared.world_of(self.n).inject(fault)
    }

    /// The phone's account identity key: it signs companions' device
    /// identities (ADV) in `pair-success`.
    pub fn account_identity_key(&self) -> [u8; 32] {
        self.shared.world_of(self.n).account.identity.public_key.public_key_bytes().try_into().expect("32-byte key")
    }

    /// The phone scans `qr` now.
    pub fn scan_qr(&self, qr: &str) -> Result<String, ScanError> {
        phone::scan(self.shared, self.n, qr)
    }

    /// The operator types a pairing code on the phone; resolves once the
    /// companion's key bundle was opened (the device's JID) or not.
    pub async fn enter_pair_code(&self, code: &str) -> Result<String, CodeError> {
        enter_code(self.shared, self.n, code).await
    }

    /// Every outstanding pairing code reads as expired; returns how many.
    pub fn expire_pair_codes(&self) -> usize {
        phone::pair_code::expire(&mut self.shared.world_of(self.n))
    }

    /// The phone unlinks a companion (all of them with `None`).
    pub fn remove_devices(&self, device: Option<u16>) -> Vec<u16> {
        phone::devices::remove(self.shared, self.n, device)
    }

    /// The whole world, typed, as `GET /admin/world` serves it.
    pub fn world(&self) -> WorldReport {
        WorldReport::of(self.shared, self.n)
    }

    /// A contact sets a new profile picture (linked devices are told); returns its id.
    pub fn contact_set_picture(&self, target: &str) -> Result<Option<u64>, ActionError> {
        let id = self.shared.next_id();
        phone::set_picture(&mut self.shared.world_of(self.n), target, false, id)
    }

    /// A contact changes their about text (pushed to linked devices when visible).
    pub fn contact_set_about(&self, target: &str, text: &str) -> Result<(), ActionError> {
        let id = self.shared.next_id();
        phone::set_about(&mut self.shared.world_of(self.n), target, text, id)
    }

    /// The phone saves `name` for someone in its address book; linked devices sync it.
    pub fn phone_rename(&self, target: &str, name: &str) -> Result<(), ActionError> {
        let id = self.shared.next_id();
        phone::rename(&mut self.shared.world_of(self.n), target, name, id, true)
    }

    /// A rename whose `server_sync` push never reaches the linked devices.
    pub fn phone_rename_unannounced(&self, target: &str, name: &str) -> Result<(), ActionError> {
        let id = self.shared.next_id();
        phone::rename(&mut self.shared.world_of(self.n), target, name, id, false)
    }

    /// The phone blocks (or unblocks) someone by number or JID; linked devices are told.
    pub fn phone_set_blocked(&self, target: &str, block: bool) -> Result<String, ActionError> {
        let id = self.shared.next_id();
        phone::set_blocked(&mut self.shared.world_of(self.n), target, block, id)
    }

    /// The phone (an admin) adds someone, by number or JID, to a group or
    /// community; returns the server's code for them (200 added, 409, …).
    /// Linked devices are told.
    pub fn phone_add_to_group(&self, group: &str, target: &str) -> Result<u16, GroupChangeError> {
        let id = self.shared.next_id();
        let mut world = self.shared.world_of(self.n);
        let gi = phone::groups::find(&world, group)?;
        let answers = phone::groups::add(&mut world, gi, &[target.to_owned()], None, id)?;
        Ok(answers.first().map_or(404, |a| a.code))
    }

    /// The phone sets (`Some`, seconds) or clears a group's timer; linked
    /// devices are told.
    pub fn phone_set_group_timer(&self, group: &str, seconds: Option<u32>) -> Result<(), GroupChangeError> {
        let id = self.shared.next_id();
        let mut world = self.shared.world_of(self.n);
        let gi = phone::groups::find(&world, group)?;
        phone::groups::set_timer(&mut world, gi, seconds, None, id)
    }
}

/// [`SimAccount::enter_pair_code`], shared with the admin route.
pub(crate) async fn enter_code(shared: &Shared, account: AccountNo, code: &str) -> Result<String, CodeError> {
    let outcome = phone::pair_code::enter(shared, account, code)?;
    match tokio::time::timeout(phone::pair_code::FINISH_TIMEOUT, outcome).await {
        Ok(Ok(result)) => result,
        // The companion went away, or never sent its bundle.
        Ok(Err(_)) | Err(_) => Err(CodeError::Gone),
    }
}
