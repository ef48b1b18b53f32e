//! The HTTP side of the simulator, on the WebSocket's port: the chat socket,
//! profile pictures (as the CDN serves them), and the admin API through
//! which tests and demos act as the phone ([`phone`]), make the server
//! misbehave ([`faults`]) and read the world ([`report`]).
//!
//! Several accounts: every route that reads or changes an account's world
//! (`/admin/world`, `/admin/mock-phone/*` but `show-qr`, `/admin/contacts/*`,
//! `/admin/groups/*`) takes `?account=N` (from 1), and means account 1
//! without it, so a one-account simulator's routes read as they always
//! did; an account the simulator does not have is 404. `GET
//! /admin/accounts` lists them. Faults, limits and outages are the
//! server's, for every account; `/admin/connections/{fault}` hits every
//! connection, or one account's with `?account=N`.

mod faults;
mod phone;
mod report;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use report::{
    AccountReport, BlockedReport, ChatReport, CollectionVersions, GroupReport, MemberReport, PersonReport, WorldReport,
};

use crate::lobby::AccountNo;
use crate::nodes::unix_now;
use crate::phone::AutoScan;
use crate::pictures::{self, Size};
use crate::shared::Shared;

#[derive(Clone)]
pub struct AppState {
    pub shared: Arc<Shared>,
    pub auto_scan: Arc<AutoScan>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/ws/chat", get(chat))
        .route("/pp/{phone}/{id}/{size}", get(picture))
        .route("/admin/health", get(|| async { "ok" }))
        .route("/admin/world", get(world))
        .route("/admin/accounts", get(accounts))
        .route("/admin/mock-phone/scan-qr", post(phone::scan_qr))
        .route("/admin/mock-phone/show-qr", post(phone::show_qr))
        .route("/admin/mock-phone/remove-device", post(phone::remove_device))
        .route("/admin/mock-phone/enter-code", post(phone::enter_code))
        .route("/admin/mock-phone/expire-codes", post(phone::expire_codes))
        .route("/admin/pictures/expire-urls", post(phone::expire_picture_urls))
        .route("/admin/mock-phone/block", post(phone::block))
        .route("/admin/mock-phone/unblock", post(phone::unblock))
        .route("/admin/contacts/{who}/about", post(phone::set_about))
        .route("/admin/contacts/{who}/picture", post(phone::set_picture))
        .route("/admin/contacts/{who}/rename", post(phone::rename))
        .route("/admin/groups/{group}/add", post(phone::group_add))
        .route("/admin/groups/{group}/timer", post(phone::group_timer))
        .route("/admin/faults/iq", post(faults::arm_iq_fault))
        .route("/admin/faults", post(faults::arm_fault))
        .route("/admin/connections/{fault}", post(faults::connection_fault))
        .route("/admin/outage", post(faults::outage))
        .route("/admin/limits/usync", get(faults::usync_limit).post(faults::set_usync_limit))
        .route("/admin/checks", get(faults::check_log))
        .with_state(state)
}

async fn chat(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    if state.shared.faults.outage_now() {
        state.shared.counters.refused_connections.add();
        return (StatusCode::SERVICE_UNAVAILABLE, "the simulated server is down (outage armed)").into_response();
    }
    upgrade.max_message_size(32 << 20).on_upgrade(move |socket| crate::server::serve(state.shared, socket))
}

/// A profile picture, while its URL has not expired (403 after, like the CDN).
async fn picture(
    State(state): State<AppState>,
    Path((phone, id, size)): Path<(String, u64, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(size) = Size::parse(&size) else { return StatusCode::NOT_FOUND.into_response() };
    let expires: u64 = query.get("exp").and_then(|e| e.parse().ok()).unwrap_or(0);
    let epoch: u64 = query.get("e").and_then(|e| e.parse().ok()).unwrap_or(u64::MAX);
    if unix_now() > expires || epoch != state.shared.picture_url_epoch() {
        state.shared.counters.expired_picture_hits.add();
        return (StatusCode::FORBIDDEN, "URL signature expired").into_response();
    }
    // The CDN serves anyone's picture, whichever account's world holds it.
    let current = (1..=state.shared.accounts())
        .find_map(|n| state.shared.world_of(n).account.people.by_phone(&phone).and_then(|p| p.picture_id));
    if current != Some(id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    ([(header::CONTENT_TYPE, "image/jpeg")], pictures::render(&phone, id, size)).into_response()
}

/// An account's whole world as JSON, for tests to state their expectations from.
async fn world(State(state): State<AppState>, Account(n): Account) -> Response {
    axum::Json(WorldReport::of(&state.shared, n)).into_response()
}

/// Every account: its number (`account`), phone number, push name and
/// linked devices.
async fn accounts(State(state): State<AppState>) -> Response {
    let list: Vec<_> = (1..=state.shared.accounts())
        .map(|n| {
            let world = state.shared.world_of(n);
            serde_json::json!({
                "account": n,
                "phone": world.account.phone,
                "push_name": world.account.push_name,
                "devices": world.account.devices.keys().collect::<Vec<_>>(),
            })
        })
        .collect();
    axum::Json(list).into_response()
}

/// The account a route acts for: `?account=N`, account 1 without it; 404
/// for an account the simulator does not have, 400 for a malformed one.
pub struct Account(pub AccountNo);

/// The `?account=` of a request, if it has one.
fn account_param(parts: &Parts) -> Option<&str> {
    parts.uri.query()?.split('&').find_map(|pair| pair.strip_prefix("account="))
}

impl FromRequestParts<AppState> for Account {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Account, Response> {
        let Some(text) = account_param(parts) else { return Ok(Account(1)) };
        let n: AccountNo = text
            .parse()
            .map_err(|_| (StatusCode::BAD_REQUEST, format!("account '{text}' is not a number")).into_response())?;
        if !state.shared.has_account(n) {
            let message = format!("the simulator has {} accounts, not account {n}", state.shared.accounts());
            return Err((StatusCode::NOT_FOUND, message).into_response());
        }
        Ok(Account(n))
    }
}

/// `?account=N` when given (checked as [`Account`] is), else `None`.
pub struct MaybeAccount(pub Option<AccountNo>);

impl FromRequestParts<AppState> for MaybeAccount {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<MaybeAccount, Response> {
        if account_param(parts).is_none() {
            return Ok(MaybeAccount(None));
        }
        Account::from_request_parts(parts, state).await.map(|Account(n)| MaybeAccount(Some(n)))
    }
}

/// A request body as trimmed UTF-8 text (400 otherwise).
fn body_text(body: &Bytes) -> Result<String, Response> {
    String::from_utf8(body.to_vec())
        .map(|s| s.trim().to_owned())
        .map_err(|_| (StatusCode::BAD_REQUEST, "body is not UTF-8 text").into_response())
}
