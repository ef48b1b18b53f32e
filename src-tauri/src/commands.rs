//! The window's commands: thin calls into the session. Errors become the
//! operator-facing sentence the core wrote for them, logged once here.

use std::sync::Arc;

use roster_core::{Session, SessionError, SessionSnapshot};
use tauri::State;

/// What the commands reach through `tauri::State`.
pub struct AppState {
    pub session: Arc<Session>,
}

/// The current state; the window asks once at start, then follows the
/// `session://state` events.
#[tauri::command]
pub fn session_snapshot(state: State<'_, AppState>) -> SessionSnapshot {
    state.session.snapshot()
}

/// Unlinks this computer from the account; a fresh QR code follows.
#[tauri::command]
pub async fn logout(state: State<'_, AppState>) -> Result<(), String> {
    tracing::info!("operator asked to log out");
    state.session.logout().await.map_err(|e| report("log out", e))
}

/// Starts a new pairing attempt after the QR codes ran out.
#[tauri::command]
pub async fn refresh_qr(state: State<'_, AppState>) -> Result<(), String> {
    tracing::info!("operator asked for a new QR code");
    state.session.refresh_qr().await.map_err(|e| report("get a new code", e))
}

fn report(action: &str, error: SessionError) -> String {
    tracing::warn!(%error, "could not {action}");
    error.to_string()
}
