//! Admin routes that make the server misbehave: armed IQ faults,
//! connection faults, outages, and the number-check rate limit (with the
//! log of every check received).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{AppState, MaybeAccount};
use crate::faults::{Armed, ConnectionFault, IqFault, MAX_FAULT_MS, fault_length};
use crate::limits::UsyncLimit;

/// `{"xmlns": "blocklist", "code": 500, "text": "internal-server-error"}`:
/// the next IQ of that namespace answers the error.
pub async fn arm_iq_fault(State(state): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<IqFault>(&body) {
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
/// dropped before or after it is handled, answered late (`"delay", "ms"`),
/// or never answered (`"unanswered"`).
pub async fn arm_fault(State(state): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<Armed>(&body) {
        Ok(fault) => {
            state.shared.faults.arm_fault(fault);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!(
                "expected {{\"xmlns\", \"type\"?, \"action\": error (+ code, text?) | drop_before | drop_after | delay (+ ms) | unanswered}}: {e}"
            ),
        )
            .into_response(),
    }
}

/// Hits every live connection now: `drop`, `restart` (515), `logged-out`
/// (401), `replaced`, `stream-end`, `malformed`, `truncated`, `silence?ms=N`;
/// with `?account=N`, that account's connections only.
pub async fn connection_fault(
    State(state): State<AppState>,
    MaybeAccount(account): MaybeAccount,
    Path(fault): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let ms = query.get("ms").and_then(|m| m.parse().ok());
    match ConnectionFault::parse(&fault, ms) {
        Ok(fault) => {
            let hit = match account {
                Some(n) => state.shared.world_of(n).inject(fault),
                None => state.shared.inject(fault),
            };
            axum::Json(json!({ "connections": hit })).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

/// `?ms=N`: new connections are refused with 503 for N milliseconds.
pub async fn outage(State(state): State<AppState>, Query(query): Query<HashMap<String, String>>) -> Response {
    match fault_length(query.get("ms").and_then(|m| m.parse().ok())) {
        Some(length) => {
            state.shared.faults.start_outage(length);
            StatusCode::NO_CONTENT.into_response()
        }
        None => (StatusCode::BAD_REQUEST, format!("outage needs ?ms=N (1 to {MAX_FAULT_MS})")).into_response(),
    }
}

pub async fn usync_limit(State(state): State<AppState>) -> Response {
    axum::Json(state.shared.limits.get()).into_response()
}

/// `{"max_users": 600, "window": 60, "backoff_secs": 60}` sets the limit; `null` lifts it.
pub async fn set_usync_limit(State(state): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<Option<UsyncLimit>>(&body) {
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
pub async fn check_log(State(state): State<AppState>) -> Response {
    axum::Json(state.shared.limits.log()).into_response()
}
