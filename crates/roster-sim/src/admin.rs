//! The HTTP side of the simulator, on the WebSocket's port: the chat socket,
//! and the admin API through which tests and demos act as the phone.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::handlers::md;
use crate::phone::ScanError;
use crate::state::Shared;
use crate::AutoScan;

#[derive(Clone)]
pub struct AppState {
    pub shared: Arc<Shared>,
    pub auto_scan: Arc<AutoScan>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/ws/chat", get(chat))
        .route("/admin/health", get(|| async { "ok" }))
        .route("/admin/world", get(world))
        .route("/admin/mock-phone/scan-qr", post(scan_qr))
        .route("/admin/mock-phone/show-qr", post(show_qr))
        .route("/admin/mock-phone/remove-device", post(remove_device))
        .with_state(state)
}

async fn chat(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .max_message_size(32 << 20)
        .on_upgrade(move |socket| crate::connection::serve(state.shared, socket))
}

async fn world(State(state): State<AppState>) -> Response {
    axum::Json(state.shared.world().view()).into_response()
}

fn body_text(body: &Bytes) -> Result<String, Response> {
    String::from_utf8(body.to_vec())
        .map(|s| s.trim().to_owned())
        .map_err(|_| (StatusCode::BAD_REQUEST, "body is not UTF-8 text").into_response())
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
            Err(_) => return (StatusCode::BAD_REQUEST, "body must be empty (all devices) or a device id").into_response(),
        }
    };
    axum::Json(json!({ "removed": md::remove_devices(&state.shared, device) })).into_response()
}
