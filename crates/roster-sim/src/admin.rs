//! The HTTP side of the simulator, on the WebSocket's port: the chat socket,
//! profile pictures, and the admin API through which tests and demos act as
//! the phone.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State, WebSocketUpgrade};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::AutoScan;
use crate::handlers::md;
use crate::nodes::unix_now;
use crate::phone::ScanError;
use crate::phone_actions::{self, ActionError};
use crate::pictures::{self, Size};
use crate::state::Shared;

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
        .route("/admin/mock-phone/scan-qr", post(scan_qr))
        .route("/admin/mock-phone/show-qr", post(show_qr))
        .route("/admin/mock-phone/remove-device", post(remove_device))
        .route("/admin/pictures/expire-urls", post(expire_picture_urls))
        .route("/admin/mock-phone/block", post(block))
        .route("/admin/mock-phone/unblock", post(unblock))
        .route("/admin/contacts/{who}/about", post(set_about))
        .route("/admin/contacts/{who}/picture", post(set_picture))
        .route("/admin/contacts/{who}/rename", post(rename))
        .route("/admin/faults/iq", post(arm_iq_fault))
        .route("/admin/faults", post(arm_fault))
        .route("/admin/connections/{fault}", post(connection_fault))
        .route("/admin/outage", post(outage))
        .route("/admin/limits/usync", get(usync_limit).post(set_usync_limit))
        .route("/admin/checks", get(check_log))
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
    if unix_now() > expires || epoch != state.shared.picture_url_epoch.load(Ordering::Relaxed) {
        state.shared.counters.expired_picture_hits.add();
        return (StatusCode::FORBIDDEN, "URL signature expired").into_response();
    }
    let current = state.shared.world().account.people.by_phone(&phone).and_then(|p| p.picture_id);
    if current != Some(id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    ([(header::CONTENT_TYPE, "image/jpeg")], pictures::render(&phone, id, size)).into_response()
}

/// The whole world as JSON, for tests to state their expectations from.
async fn world(State(state): State<AppState>) -> Response {
    axum::Json(crate::state::world_json(&state.shared)).into_response()
}

fn body_text(body: &Bytes) -> Result<String, Response> {
    String::from_utf8(body.to_vec())
        .map(|s| s.trim().to_owned())
        .map_err(|_| (StatusCode::BAD_REQUEST, "body is not UTF-8 text").into_response())
}

fn action_error(e: ActionError) -> Response {
    let status = match e {
        ActionError::Unknown(_) => StatusCode::NOT_FOUND,
        ActionError::EmptyName => StatusCode::BAD_REQUEST,
    };
    (status, e.to_string()).into_response()
}

async fn scan_qr(State(state): State<AppState>, body: Bytes) -> Response {
    let qr = match body_text(&body) {
        Ok(qr) => qr,
        Err(r) => return r,
    };
    match md::scan(&state.shared, &qr) {
        Ok(device) => axum::Json(json!({ "device": device })).into_response(),
        Err(e @ ScanError::UnknownRef(_)) => (StatusCode::NOT_FOUND, e.to_string()).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

/// What the window shows the phone's camera; scanned after `--auto-scan`.
async fn show_qr(State(state): State<AppState>, body: Bytes) -> Response {
    match body_text(&body) {
        Ok(qr) => {
            state.auto_scan.show(&state.shared, qr);
            StatusCode::ACCEPTED.into_response()
        }
        Err(r) => r,
    }
}

async fn remove_device(State(state): State<AppState>, body: Bytes) -> Response {
    let text = match body_text(&body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let device = if text.is_empty() {
        None
    } else {
        match text.parse::<u16>() {
            Ok(d) => Some(d),
            Err(_) => {
                return (StatusCode::BAD_REQUEST, "body must be empty (all devices) or a device id").into_response();
            }
        }
    };
    axum::Json(json!({ "removed": md::remove_devices(&state.shared, device) })).into_response()
}

/// Every picture URL handed out so far stops working (403), as after the CDN's expiry.
async fn expire_picture_urls(State(state): State<AppState>) -> Response {
    state.shared.picture_url_epoch.fetch_add(1, Ordering::Relaxed);
    StatusCode::NO_CONTENT.into_response()
}

async fn set_block(state: AppState, body: Bytes, block: bool) -> Response {
    let target = match body_text(&body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut world = state.shared.world();
    match phone_actions::set_blocked(&mut world, &target, block) {
        Ok(lid) => {
            axum::Json(json!({ "lid": lid, "blocked": block, "count": world.account.blocklist.len() })).into_response()
        }
        Err(e) => action_error(e),
    }
}

async fn block(State(state): State<AppState>, body: Bytes) -> Response {
    set_block(state, body, true).await
}

async fn unblock(State(state): State<AppState>, body: Bytes) -> Response {
    set_block(state, body, false).await
}

async fn set_about(State(state): State<AppState>, Path(who): Path<String>, body: Bytes) -> Response {
    let text = match body_text(&body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = state.shared.next_id();
    match phone_actions::set_about(&mut state.shared.world(), &who, &text, id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => action_error(e),
    }
}

/// Body `remove` deletes the picture; anything else sets a new one.
async fn set_picture(State(state): State<AppState>, Path(who): Path<String>, body: Bytes) -> Response {
    let remove = body_text(&body).is_ok_and(|t| t == "remove");
    let id = state.shared.next_id();
    match phone_actions::set_picture(&mut state.shared.world(), &who, remove, id) {
        Ok(picture_id) => axum::Json(json!({ "picture_id": picture_id })).into_response(),
        Err(e) => action_error(e),
    }
}

/// `{"xmlns": "blocklist", "code": 500, "text": "internal-server-error"}`:
/// the next IQ of that namespace answers the error.
async fn arm_iq_fault(State(state): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<crate::faults::IqFault>(&body) {
        Ok(fault) => {
            state.shared.faults.arm(fault);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            (StatusCode::BAD_REQUEST, format!("expected {{\"xmlns\", \"code\", \"text\"?}}: {e}")).into_response()
        }
    }
}

/// `{"xmlns": "blocklist", "type": "set", "action": "drop_after"}`: the next
/// matching IQ is answered with an error (`"action": "error", "code": 503`),
/// dropped before or after it is handled, or answered late (`"delay", "ms"`).
async fn arm_fault(State(state): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<crate::faults::Armed>(&body) {
        Ok(fault) => {
            state.shared.faults.arm_fault(fault);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!(
                "expected {{\"xmlns\", \"type\"?, \"action\": error (+ code, text?) | drop_before | drop_after | delay (+ ms)}}: {e}"
            ),
        )
            .into_response(),
    }
}

/// Hits every live connection now: `drop`, `restart` (515), `logged-out`
/// (401), `replaced`, `stream-end`, `malformed`, `truncated`, `silence?ms=N`.
async fn connection_fault(
    State(state): State<AppState>,
    Path(fault): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let ms = query.get("ms").and_then(|m| m.parse().ok());
    match crate::faults::ConnectionFault::parse(&fault, ms) {
        Ok(fault) => axum::Json(json!({ "connections": state.shared.world().inject(fault) })).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

/// `?ms=N`: new connections are refused with 503 for N milliseconds.
async fn outage(State(state): State<AppState>, Query(query): Query<HashMap<String, String>>) -> Response {
    use crate::faults::{MAX_FAULT_MS, fault_length};
    match fault_length(query.get("ms").and_then(|m| m.parse().ok())) {
        Some(length) => {
            state.shared.faults.start_outage(length);
            StatusCode::NO_CONTENT.into_response()
        }
        None => (StatusCode::BAD_REQUEST, format!("outage needs ?ms=N (1 to {MAX_FAULT_MS})")).into_response(),
    }
}

async fn usync_limit(State(state): State<AppState>) -> Response {
    axum::Json(state.shared.limits.get()).into_response()
}

/// `{"max_users": 600, "window": 60, "backoff_secs": 60}` sets the limit; `null` lifts it.
async fn set_usync_limit(State(state): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<Option<crate::limits::UsyncLimit>>(&body) {
        Ok(limit) => {
            state.shared.limits.set(limit);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            (StatusCode::BAD_REQUEST, format!("expected {{\"max_users\", \"window\", \"backoff_secs\"}} or null: {e}"))
                .into_response()
        }
    }
}

/// Every number check received: `[{"at_ms", "users", "refused"}]`.
async fn check_log(State(state): State<AppState>) -> Response {
    axum::Json(state.shared.limits.log()).into_response()
}

/// `?notify=false` loses the `server_sync` push (the devices see it at their next sync).
async fn rename(
    State(state): State<AppState>,
    Path(who): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let notify = query.get("notify").is_none_or(|v| v != "false");
    let name = match body_text(&body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = state.shared.next_id();
    match phone_actions::rename(&mut state.shared.world(), &who, &name, id, notify) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => action_error(e),
    }
}
