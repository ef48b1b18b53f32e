//! Admin routes where tests and demos act as the phone (and its
//! contacts): scan or show a QR code, remove devices, block and unblock,
//! change someone's about or picture, rename someone in the address book.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Account, AppState, body_text};
use crate::lobby::AccountNo;
use crate::phone::pair_code::CodeError;
use crate::phone::{self, ActionError, ScanError, devices};

pub async fn scan_qr(State(state): State<AppState>, Account(n): Account, body: Bytes) -> Response {
    let qr = match body_text(&body) {
        Ok(qr) => qr,
        Err(r) => return r,
    };
    match phone::scan(&state.shared, n, &qr) {
        Ok(device) => axum::Json(json!({ "device": device })).into_response(),
        Err(e @ ScanError::UnknownRef(_)) => (StatusCode::NOT_FOUND, e.to_string()).into_response(),
        Err(e @ ScanError::OtherAccount(_)) => (StatusCode::CONFLICT, e.to_string()).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

/// What the window shows the phone's camera; scanned after `--auto-scan`.
pub async fn show_qr(State(state): State<AppState>, body: Bytes) -> Response {
    match body_text(&body) {
        Ok(qr) => {
            state.auto_scan.show(&state.shared, qr);
            StatusCode::ACCEPTED.into_response()
        }
        Err(r) => r,
    }
}

pub async fn remove_device(State(state): State<AppState>, Account(n): Account, body: Bytes) -> Response {
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
    axum::Json(json!({ "removed": devices::remove(&state.shared, n, device) })).into_response()
}

/// The operator types a pairing code on the phone (body: the code). Answers
/// once the companion's key bundle was opened (200, the device), or not:
/// 403 wrong code, 410 expired, 404 nobody asked, 400 not a code.
pub async fn enter_code(State(state): State<AppState>, Account(n): Account, body: Bytes) -> Response {
    let code = match body_text(&body) {
        Ok(code) => code,
        Err(r) => return r,
    };
    match crate::handle::enter_code(&state.shared, n, &code).await {
        Ok(device) => axum::Json(json!({ "device": device })).into_response(),
        Err(e) => {
            let status = match e {
                CodeError::NoRequest => StatusCode::NOT_FOUND,
                CodeError::Expired => StatusCode::GONE,
                CodeError::Malformed => StatusCode::BAD_REQUEST,
                CodeError::WrongCode => StatusCode::FORBIDDEN,
                CodeError::Gone | CodeError::Bundle(_) => StatusCode::CONFLICT,
            };
            (status, e.to_string()).into_response()
        }
    }
}

/// Every outstanding pairing code reads as expired (the phone refuses it).
pub async fn expire_codes(State(state): State<AppState>, Account(n): Account) -> Response {
    axum::Json(json!({ "expired": phone::pair_code::expire(&mut state.shared.world_of(n)) })).into_response()
}

/// Every picture URL handed out so far stops working (403), as after the CDN's expiry.
pub async fn expire_picture_urls(State(state): State<AppState>) -> Response {
    state.shared.expire_picture_urls();
    StatusCode::NO_CONTENT.into_response()
}

async fn set_block(state: AppState, n: AccountNo, body: Bytes, block: bool) -> Response {
    let target = match body_text(&body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = state.shared.next_id();
    let mut world = state.shared.world_of(n);
    match phone::set_blocked(&mut world, &target, block, id) {
        Ok(lid) => {
            axum::Json(json!({ "lid": lid, "blocked": block, "count": world.account.blocklist.len() })).into_response()
        }
        Err(e) => action_error(e),
    }
}

pub async fn block(State(state): State<AppState>, Account(n): Account, body: Bytes) -> Response {
    set_block(state, n, body, true).await
}

pub async fn unblock(State(state): State<AppState>, Account(n): Account, body: Bytes) -> Response {
    set_block(state, n, body, false).await
}

pub async fn set_about(
    State(state): State<AppState>,
    Account(n): Account,
    Path(who): Path<String>,
    body: Bytes,
) -> Response {
    let text = match body_text(&body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = state.shared.next_id();
    match phone::set_about(&mut state.shared.world_of(n), &who, &text, id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => action_error(e),
    }
}

/// Body `remove` deletes the picture; anything else sets a new one.
pub async fn set_picture(
    State(state): State<AppState>,
    Account(n): Account,
    Path(who): Path<String>,
    body: Bytes,
) -> Response {
    let remove = body_text(&body).is_ok_and(|t| t == "remove");
    let id = state.shared.next_id();
    match phone::set_picture(&mut state.shared.world_of(n), &who, remove, id) {
        Ok(picture_id) => axum::Json(json!({ "picture_id": picture_id })).into_response(),
        Err(e) => action_error(e),
    }
}

/// `?notify=false` loses the `server_sync` push (the devices see it at their next sync).
pub async fn rename(
    State(state): State<AppState>,
    Account(n): Account,
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
    match phone::rename(&mut state.shared.world_of(n), &who, &name, id, notify) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => action_error(e),
    }
}

fn action_error(e: ActionError) -> Response {
    let status = match e {
        ActionError::Unknown(_) => StatusCode::NOT_FOUND,
        ActionError::EmptyName => StatusCode::BAD_REQUEST,
    };
    (status, e.to_string()).into_response()
}

/// `POST /admin/groups/{group}/add`, body a number or JID: the phone (an
/// admin) adds someone; answers the server's per-participant code.
pub async fn group_add(
    State(state): State<AppState>,
    Account(n): Account,
    Path(group): Path<String>,
    body: Bytes,
) -> Response {
    let who = match body_text(&body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = state.shared.next_id();
    let mut world = state.shared.world_of(n);
    let answers = phone::groups::find(&world, &group)
        .and_then(|gi| phone::groups::add(&mut world, gi, &[who.trim().to_owned()], None, id));
    match answers {
        Ok(a) => axum::Json(json!({ "code": a.first().map_or(404, |a| a.code) })).into_response(),
        Err(e) => group_error(e),
    }
}

/// `POST /admin/groups/{group}/timer`, body seconds (86400, 604800,
/// 7776000) or `off`: the phone sets or clears a group's timer.
pub async fn group_timer(
    State(state): State<AppState>,
    Account(n): Account,
    Path(group): Path<String>,
    body: Bytes,
) -> Response {
    let seconds = match body_text(&body).map(|t| t.trim().to_owned()) {
        Ok(t) if t == "off" || t == "0" => None,
        Ok(t) => match t.parse::<u32>() {
            Ok(s) if crate::handlers::GROUP_TIMERS.contains(&s) => Some(s),
            _ => return (StatusCode::BAD_REQUEST, "a timer is off, 86400, 604800 or 7776000").into_response(),
        },
        Err(r) => return r,
    };
    let id = state.shared.next_id();
    let mut world = state.shared.world_of(n);
    match phone::groups::find(&world, &group).and_then(|gi| phone::groups::set_timer(&mut world, gi, seconds, None, id))
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => group_error(e),
    }
}

fn group_error(e: phone::groups::GroupChangeError) -> Response {
    let status = match e {
        phone::groups::GroupChangeError::UnknownGroup(_) => StatusCode::NOT_FOUND,
        phone::groups::GroupChangeError::NotAuthorized => StatusCode::FORBIDDEN,
    };
    (status, e.to_string()).into_response()
}
