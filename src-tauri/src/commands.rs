//! The window's commands: thin calls into the session. Each checks the
//! size and shape of what the webview sent ([`crate::args`]) before the
//! core sees it; errors become the operator-facing sentence the core wrote
//! for them, logged once here.

use std::fmt::Display;
use std::sync::Arc;

use std::path::PathBuf;

use roster_core::store::{ContactPage, ListFilter};
use roster_core::{
    AuditPage, Avatar, BlockOutcome, BulkOutcome, CheckFilter, CheckOrder, CheckPage, CheckProgress, ContactDetails,
    GroupSummary, JobState, Preview, Scope, Session, SessionSnapshot, Settings, SyncReport,
};
use tauri::State;

use crate::args;

/// What the commands reach through `tauri::State`.
pub struct AppState {
    pub session: Arc<Session>,
    /// Where exported CSV files are written.
    pub export_dir: PathBuf,
}

/// Lines of a preview sent to the window (the counts cover all of them;
/// every line's answer is in the job's results once it runs).
const PREVIEW_LINES: usize = 1_000;

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

/// A page of the contact list (or the blocklist), filtered by `query`.
#[tauri::command]
pub fn contacts(
    state: State<'_, AppState>,
    query: String,
    filter: ListFilter,
    offset: usize,
    limit: usize,
) -> Result<ContactPage, String> {
    args::query(&query)?;
    args::page(offset, limit)?;
    state.session.contacts(&query, filter, offset, limit).map_err(|e| report("list the contacts", e))
}

/// A contact's about and picture, fetched now when connected.
#[tauri::command]
pub async fn contact_details(state: State<'_, AppState>, phone: String) -> Result<ContactDetails, String> {
    let phone = args::phone(&phone)?;
    state.session.contact_details(phone).await.map_err(|e| report("load the contact", e))
}

/// A list row's picture (cached, or fetched with bounded concurrency).
#[tauri::command]
pub async fn avatar(state: State<'_, AppState>, phone: String) -> Result<Avatar, String> {
    let phone = args::phone(&phone)?;
    state.session.avatar(phone).await.map_err(|e| report("load a picture", e))
}

/// Blocks or unblocks a number, PN JID or LID JID; the answer carries the
/// server's new count.
#[tauri::command]
pub async fn set_blocked(state: State<'_, AppState>, target: String, block: bool) -> Result<BlockOutcome, String> {
    args::target(&target)?;
    tracing::info!(block, "operator asked to {}", if block { "block" } else { "unblock" });
    state.session.set_blocked(&target, block).await.map_err(|e| report(if block { "block" } else { "unblock" }, e))
}

#[tauri::command]
pub fn settings(state: State<'_, AppState>) -> Result<Settings, String> {
    state.session.settings().map_err(|e| report("read the settings", e))
}

/// Sets the default country (a two-letter code; empty clears it).
#[tauri::command]
pub fn set_default_country(state: State<'_, AppState>, code: String) -> Result<Settings, String> {
    args::country(&code)?;
    state.session.set_default_country(&code).map_err(|e| report("set the default country", e))
}

/// Re-syncs the chosen app-state scopes (the defaults when none).
#[tauri::command]
pub async fn sync_app_state(state: State<'_, AppState>, scopes: Vec<Scope>, full: bool) -> Result<SyncReport, String> {
    args::scopes(&scopes)?;
    tracing::info!(?scopes, full, "operator asked for an app-state sync");
    state.session.sync_app_state(&scopes, full).await.map_err(|e| report("sync", e))
}

/// Normalises a pasted or loaded list, without any network call.
#[tauri::command]
pub fn preview_numbers(state: State<'_, AppState>, text: String, column: Option<usize>) -> Result<Preview, String> {
    args::list(&text, column)?;
    let mut preview = state.session.preview_numbers(&text, column).map_err(|e| report("read the list", e))?;
    preview.lines.truncate(PREVIEW_LINES);
    Ok(preview)
}

/// Starts checking a list at `rate` numbers a minute.
#[tauri::command]
pub fn start_check(
    state: State<'_, AppState>,
    text: String,
    column: Option<usize>,
    rate: u32,
    group: Option<String>,
) -> Result<CheckProgress, String> {
    args::list(&text, column)?;
    args::rate(rate)?;
    args::group(group.as_deref())?;
    tracing::info!(bytes = text.len(), rate, ?group, "operator started a number check");
    state.session.start_check(&text, column, rate, group.as_deref()).map_err(|e| report("start the check", e))
}

/// The groups the account is in (to limit a check to one).
#[tauri::command]
pub async fn groups(state: State<'_, AppState>) -> Result<Vec<GroupSummary>, String> {
    state.session.groups().await.map_err(|e| report("list the groups", e))
}

/// Adds the registered numbers of a check (the `lines` given, or all) to the directory.
#[tauri::command]
pub fn add_to_directory(state: State<'_, AppState>, job: i64, lines: Option<Vec<i64>>) -> Result<usize, String> {
    args::job(job)?;
    args::lines_to_add(lines.as_deref())?;
    tracing::info!(job, selected = lines.as_ref().map(Vec::len), "operator added checked numbers to the directory");
    state.session.add_to_directory(job, lines.as_deref()).map_err(|e| report("add them", e))
}

/// A page of a job's lines with their answers, filtered.
#[tauri::command]
pub fn check_rows(
    state: State<'_, AppState>,
    job: i64,
    filter: CheckFilter,
    order: Option<CheckOrder>,
    offset: usize,
    limit: usize,
) -> Result<CheckPage, String> {
    args::job(job)?;
    args::page(offset, limit)?;
    let order = order.unwrap_or_default();
    state.session.check_page(job, filter, order, offset, limit).map_err(|e| report("read the results", e))
}

/// Pauses (`paused`), resumes (`running`) or cancels (`cancelled`) a job.
#[tauri::command]
pub fn set_check_state(state: State<'_, AppState>, job: i64, to: JobState) -> Result<CheckProgress, String> {
    args::job(job)?;
    args::job_state(to)?;
    tracing::info!(job, ?to, "operator changed a number check");
    state.session.set_check_state(job, to).map_err(|e| report("change the check", e))
}

#[tauri::command]
pub fn set_check_rate(state: State<'_, AppState>, job: i64, rate: u32) -> Result<CheckProgress, String> {
    args::job(job)?;
    args::rate(rate)?;
    state.session.set_check_rate(job, rate).map_err(|e| report("change the pace", e))
}

/// Writes a job's results as CSV into the export directory; returns the path.
#[tauri::command]
pub fn export_check(state: State<'_, AppState>, job: i64) -> Result<String, String> {
    args::job(job)?;
    let csv = state.session.export_check_csv(job).map_err(|e| report("export the results", e))?;
    write_export(&state, &format!("roster-check-{job}"), &csv)
}

/// Writes `<name>-<unix time>.csv` into the export directory.
fn write_export(state: &AppState, name: &str, csv: &str) -> Result<String, String> {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let path = state.export_dir.join(format!("{name}-{stamp}.csv"));
    let write = std::fs::create_dir_all(&state.export_dir).and_then(|()| std::fs::write(&path, csv));
    write.map_err(|e| report("export", format!("cannot write {}: {e}", path.display())))?;
    tracing::info!(path = %path.display(), "exported");
    Ok(path.display().to_string())
}

/// The audit log of operator actions, newest first.
#[tauri::command]
pub fn audit_log(state: State<'_, AppState>, offset: usize, limit: usize) -> Result<AuditPage, String> {
    args::page(offset, limit)?;
    state.session.audit_log(offset, limit).map_err(|e| report("read the activity log", e))
}

/// Writes the whole audit log as CSV into the export directory; returns the path.
#[tauri::command]
pub fn export_audit(state: State<'_, AppState>) -> Result<String, String> {
    let csv = state.session.export_audit_csv().map_err(|e| report("export the activity log", e))?;
    write_export(&state, "roster-activity", &csv)
}

/// Blocks the registered numbers of a check: the `lines` given, or all.
#[tauri::command]
pub async fn block_checked(
    state: State<'_, AppState>,
    job: i64,
    lines: Option<Vec<i64>>,
) -> Result<BulkOutcome, String> {
    args::job(job)?;
    args::lines_to_block(lines.as_deref())?;
    tracing::info!(job, selected = lines.as_ref().map(Vec::len), "operator asked for a bulk block");
    state.session.block_checked(job, lines.as_deref()).await.map_err(|e| report("block them", e))
}

/// Unblocks what a bulk block blocked.
#[tauri::command]
pub async fn undo_bulk(state: State<'_, AppState>, action: i64) -> Result<BulkOutcome, String> {
    args::action(action)?;
    tracing::info!(action, "operator asked to undo a bulk block");
    state.session.undo_bulk(action).await.map_err(|e| report("undo", e))
}

fn report(action: &str, error: impl Display) -> String {
    tracing::warn!(%error, "could not {action}");
    error.to_string()
}
