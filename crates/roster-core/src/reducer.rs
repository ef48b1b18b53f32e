//! Applies the client's events, in arrival order, to the published
//! [`SessionSnapshot`] and to the app's store; each write is durable before
//! the snapshot shows it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, watch};
use tracing::{Instrument, info, info_span, warn};
use whatsapp_rust::prelude::*;
use whatsapp_rust::types::events::LazyHistorySync;
use whatsapp_rust::wacore::types::events::ConnectFailureReason;

use crate::blocklist;
use crate::clock::unix_now;
use crate::history;
use crate::redact::mask_numbers;
use crate::snapshot::{Account, ConnectionState, Qr, SessionSnapshot};
use crate::store::{SavedContact, Store};

pub(crate) struct Forward(pub(crate) mpsc::UnboundedSender<Arc<Event>>);

impl EventHandler for Forward {
    fn handle_event(&self, event: Arc<Event>) {
        let _ = self.0.send(event);
    }
}

/// Applies client events, in arrival order, to the published snapshot and the store.
pub(crate) struct Reducer {
    pub(crate) state: watch::Sender<SessionSnapshot>,
    pub(crate) client: Arc<Client>,
    pub(crate) store: Arc<Store>,
    /// Counts disconnections, so only the latest one's follower updates the attempt count.
    pub(crate) reconnect_followers: Arc<AtomicU64>,
}

/// Keeps a `Reconnecting` or `Unreachable` state's attempt count up to date
/// (the client's reconnects since `start`), twice a second, until the
/// state changes or a newer follower takes over.
fn follow_attempts(state: watch::Sender<SessionSnapshot>, client: Arc<Client>, generation: Arc<AtomicU64>, start: u64) {
    let mine = generation.fetch_add(1, Ordering::SeqCst) + 1;
    tokio::spawn(async move {
        // The first look comes after the state is applied.
        let every = std::time::Duration::from_millis(500);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tick.tick().await;
            let trying = matches!(
                state.borrow().state,
                ConnectionState::Reconnecting { .. } | ConnectionState::Unreachable { .. }
            );
            if !trying || generation.load(Ordering::SeqCst) != mine {
                return;
            }
            let attempts = client.stats().reconnects.saturating_sub(start);
            state.send_if_modified(|s| match &mut s.state {
                ConnectionState::Reconnecting { attempt, .. } | ConnectionState::Unreachable { attempt, .. }
                    if *attempt != attempts =>
                {
                    *attempt = attempts;
                    true
                }
                _ => false,
            });
        }
    });
}

impl Reducer {
    /// Refetches the blocklist in the background and publishes the count.
    fn refresh_blocklist(&self) {
        let (state, client, store) = (self.state.clone(), self.client.clone(), self.store.clone());
        tokio::spawn(
            async move {
                match blocklist::refresh(&client, &store).await {
                    Ok(_) => blocklist::publish_count(&state, &store),
                    Err(e) => warn!("cannot refresh the blocklist: {e}"),
                }
            }
            .instrument(info_span!("session.refresh_blocklist")),
        );
    }

    /// A group changed (a `w:gp2` push: another device, the phone, or this
    /// app's own change echoed): refetches it from the server and saves it.
    fn refresh_group(&self, jid: String) {
        let (state, client, store) = (self.state.clone(), self.client.clone(), self.store.clone());
        tokio::spawn(
            async move {
                match crate::groups::fetch_one(&client, &jid).await {
                    Ok(group) => {
                        if let Err(e) = store.groups().replace_one(&group) {
                            return warn!("cannot save a changed group: {e}");
                        }
                        state.send_modify(|s| s.groups_version += 1);
                    }
                    Err(e) => warn!("cannot refetch a changed group: {e}"),
                }
            }
            .instrument(info_span!("session.refresh_group")),
        );
    }

    /// While the session is reconnecting, keeps the attempt count in the
    /// snapshot up to date (read from the client's counters twice a second).
    fn follow_reconnect_attempts(&self) {
        let start = self.client.stats().reconnects;
        follow_attempts(self.state.clone(), self.client.clone(), self.reconnect_followers.clone(), start);
    }

    /// At start the client retries a connection that fails without a word
    /// (no event): once its first attempt has failed, the window is told
    /// why (the server is probed for a reason in words) and how many
    /// attempts were made, as after a dropped connection.
    pub(crate) fn follow_first_connect(&self, host: String, port: u16) {
        let (state, client, followers) = (self.state.clone(), self.client.clone(), self.reconnect_followers.clone());
        let since = unix_now();
        tokio::spawn(
            async move {
                let every = std::time::Duration::from_millis(500);
                loop {
                    tokio::time::sleep(every).await;
                    if state.borrow().state != ConnectionState::Connecting {
                        return;
                    }
                    if client.stats().reconnects > 0 {
                        break;
                    }
                }
                let reason = crate::endpoint::unreachable_reason(&host, port)
                    .await
                    .unwrap_or_else(|| format!("{host}:{port} answers, but the connection could not be set up"));
                warn!(%reason, "cannot connect");
                let attempt = client.stats().reconnects;
                let changed = state.send_if_modified(|s| {
                    let first = s.state == ConnectionState::Connecting;
                    if first {
                        s.state = ConnectionState::Unreachable { reason, since, attempt };
                    }
                    first
                });
                if changed {
                    follow_attempts(state, client, followers, 0);
                }
            }
            .instrument(info_span!("session.first_connect")),
        );
    }

    /// Saves a burst of address-book entries in one transaction.
    fn save_contacts(&self, contacts: &[SavedContact]) {
        match self.store.directory().save_address_book(contacts) {
            Ok(()) => {
                let count = self.store.directory().count().unwrap_or_default();
                info!(saved = contacts.len(), total = count, "address book updated");
                self.state.send_modify(|s| {
                    s.contact_count = count;
                    s.directory_version += 1;
                });
            }
            Err(e) => warn!("cannot save {} contacts: {e}", contacts.len()),
        }
    }

    /// Saves a history-sync chunk from the phone (off the async threads: a
    /// chunk can be megabytes), then publishes what changed.
    async fn save_history(&self, sync: &LazyHistorySync) {
        let span = info_span!("session.history_sync", sync_type = sync.sync_type(), chunk = sync.chunk_order());
        let (store, sync) = (self.store.clone(), sync.clone());
        let own_phone = self.client.pn().map(|pn| pn.user.to_string());
        let work = span.clone();
        let saved =
            tokio::task::spawn_blocking(move || work.in_scope(|| history::save(&store, &sync, own_phone.as_deref())));
        let _entered = span.enter();
        let chunk = match saved.await {
            Ok(Ok(chunk)) => chunk,
            Ok(Err(e)) => return warn!("cannot save the phone's history sync: {e}"),
            Err(e) => return warn!("saving the phone's history sync stopped: {e}"),
        };
        info!(
            chats = chunk.chats.len(),
            pairs = chunk.identities.len(),
            push_names = chunk.push_names.len(),
            own_push_name = chunk.own_push_name.is_some(),
            "history sync saved"
        );
        let chat_count = self.store.chats().count().unwrap_or_default();
        let directory_changed = !chunk.identities.is_empty() || !chunk.push_names.is_empty();
        let account = account_of(&self.client);
        self.state.send_if_modified(|s| {
            let before = s.clone();
            s.chat_count = chat_count;
            if directory_changed {
                s.directory_version += 1;
            }
            if account.is_some() {
                s.account = account;
            }
            *s != before
        });
    }

    pub(crate) async fn run(self, mut events: mpsc::UnboundedReceiver<Arc<Event>>) {
        /// Events taken in one go; contact updates among them share one transaction.
        const BURST: usize = 2_000;
        while let Some(first) = events.recv().await {
            let mut burst = vec![first];
            while burst.len() < BURST {
                match events.try_recv() {
                    Ok(event) => burst.push(event),
                    Err(_) => break,
                }
            }
            let mut contacts = Vec::new();
            for event in burst {
                match &*event {
                    Event::ContactUpdate(update) => contacts.push(saved_contact(update)),
                    Event::HistorySync(sync) => self.save_history(sync).await,
                    _ => self.apply(&event),
                }
            }
            if !contacts.is_empty() {
                self.save_contacts(&contacts);
            }
        }
    }

    fn apply(&self, event: &Event) {
        let (state, client) = (&self.state, &self.client);
        let update: Option<Box<dyn FnOnce(&mut SessionSnapshot)>> = match event {
            Event::PairingQrCode(qr) => {
                info!(valid_for = ?qr.timeout, "new pairing QR code");
                let svg = crate::qr::render_svg(&qr.code).unwrap_or_default();
                let code = qr.code.clone();
                Some(Box::new(move |s| {
                    s.state = ConnectionState::WaitingForScan;
                    s.qr = Some(Qr { code, svg });
                }))
            }
            Event::PairingQrCodesExhausted(_) => {
                info!("pairing QR codes ran out");
                Some(Box::new(|s| {
                    s.state = ConnectionState::QrExpired;
                    s.qr = None;
                }))
            }
            Event::PairSuccess(_) => {
                info!("paired; logging in");
                Some(Box::new(|s| {
                    s.state = ConnectionState::Connecting;
                    s.qr = None;
                    s.link_code = None;
                }))
            }
            Event::PairingCodeRefresh(_) => {
                warn!("the phone did not link with the code shown; it needs a new one");
                Some(Box::new(|s| {
                    if let Some(code) = &mut s.link_code {
                        code.written_off = true;
                    }
                }))
            }
            Event::PairError(e) => {
                warn!(error = ?e, "pairing failed");
                None
            }
            Event::RawNode(node) => {
                if blocklist::is_blocklist_push(node.get()) {
                    info!("the blocklist changed on another device");
                    self.refresh_blocklist();
                }
                None
            }
            Event::GroupUpdate(update) => {
                info!(action = update.action_index, "a group changed");
                self.refresh_group(update.group_jid.to_string());
                None
            }
            Event::UserAboutUpdate(about) => {
                let set_at = about.timestamp.timestamp().max(0) as u64;
                if let Err(e) = self.store.directory().save_about(&about.jid.user, &about.status, set_at) {
                    warn!("cannot save an about change: {e}");
                }
                Some(Box::new(|s| s.directory_version += 1))
            }
            Event::PictureUpdate(picture) => {
                if let Err(e) = self.store.pictures().changed(&picture.jid.user) {
                    warn!("cannot record a picture change: {e}");
                }
                Some(Box::new(|s| s.directory_version += 1))
            }
            Event::Connected(_) => {
                self.refresh_blocklist();
                let account = account_of(client);
                info!(phone = ?account.as_ref().map(|a| mask_numbers(&a.phone)), "connected");
                Some(Box::new(move |s| {
                    s.state = ConnectionState::Connected;
                    s.connection_epoch += 1;
                    s.qr = None;
                    s.link_code = None;
                    if account.is_some() {
                        s.account = account;
                    }
                }))
            }
            Event::SelfPushNameUpdated(update) => {
                if let Some(pn) = client.pn()
                    && let Err(e) = self.store.account().save_push_name(&pn.user, &update.new_name)
                {
                    warn!("cannot save the account's push name: {e}");
                }
                let account = account_of(client);
                Some(Box::new(move |s| {
                    if account.is_some() {
                        s.account = account;
                    }
                }))
            }
            Event::Disconnected(d) => {
                info!(reason = %d.reason, "disconnected; the client reconnects after a pause");
                let reason = disconnect_reason(&d.reason);
                self.follow_reconnect_attempts();
                Some(Box::new(move |s| {
                    if !matches!(s.state, ConnectionState::LoggedOut { .. } | ConnectionState::Replaced) {
                        s.state = ConnectionState::Reconnecting { reason, since: unix_now(), attempt: 0 };
                    }
                }))
            }
            Event::LoggedOut(l) => {
                let reason = logout_reason(&l.reason, l.on_connect);
                warn!(%reason, "logged out");
                Some(Box::new(move |s| {
                    s.state = ConnectionState::LoggedOut { reason };
                    s.qr = None;
                    s.link_code = None;
                }))
            }
            Event::StreamReplaced(_) => {
                warn!("another session of this device took over; not reconnecting");
                Some(Box::new(|s| s.state = ConnectionState::Replaced))
            }
            _ => None,
        };
        if let Some(update) = update {
            state.send_if_modified(|snapshot| {
                let before = snapshot.clone();
                update(snapshot);
                *snapshot != before
            });
        }
    }
}

fn saved_contact(update: &whatsapp_rust::wacore::types::events::ContactUpdate) -> SavedContact {
    let lid = update.action.lid_jid.as_deref().and_then(|j| j.split('@').next()).map(str::to_owned);
    let name = update.action.full_name.clone().or_else(|| update.action.first_name.clone());
    SavedContact { phone: update.jid.user.to_string(), lid, name }
}

fn disconnect_reason(reason: &whatsapp_rust::wacore::net::DisconnectReason) -> String {
    use whatsapp_rust::wacore::net::DisconnectReason as R;
    match reason {
        r if r.is_clean_shutdown() => "the server recycled the connection".into(),
        R::ServerClose { .. } => "the server closed the connection".into(),
        R::StreamEnded => "the connection ended without a goodbye".into(),
        R::ReadError(_) => "the network connection failed".into(),
        _ => "the connection dropped".into(),
    }
}

fn logout_reason(reason: &ConnectFailureReason, on_connect: bool) -> String {
    match reason {
        ConnectFailureReason::LoggedOut if on_connect => {
            "this device was unlinked from the account (the server refused its login)".into()
        }
        ConnectFailureReason::LoggedOut => "this device was unlinked from the account".into(),
        ConnectFailureReason::TempBanned => "the account is temporarily banned".into(),
        ConnectFailureReason::AccountLocked => "the account is locked".into(),
        ConnectFailureReason::ClientOutdated => "this client version is no longer accepted".into(),
        other => format!("the server ended the session ({other:?})"),
    }
}

pub(crate) fn account_of(client: &Client) -> Option<Account> {
    let pn = client.pn()?;
    Some(Account {
        phone: format!("+{}", pn.user),
        phone_shown: crate::numbers::shown(&pn.user),
        jid: Jid::new(pn.user.as_str(), Server::Pn).to_string(),
        push_name: client.push_name(),
    })
}
