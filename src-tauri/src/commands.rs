//! The window's commands: thin calls into the current account's session
//! (and the accounts themselves: list, switch, add, remove). Each checks the
//! size and shape of what the webview sent ([`crate::args`]) before the
//! core sees it; a refusal reaches the window as a [`CommandError`] (a kind
//! and the core's sentence), logged once here with what was being done.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use roster_core::{
    AddItemRow, AddJobOutcome, AuditPage, Avatar, BlockOutcome, BulkOutcome, ChatTimer, CheckFilter, CheckOrder,
    CheckPage, CheckProgress, ContactDetails, ContactPage, GroupMemberRow, GroupSummary, JobIntent, LinkCode,
    ListFilter, Preview, Scope, Session, Settings, SyncReport,
};
use tauri::{AppHandle, State};

use crate::exports::{self, Placement};

use crate::accounts::{AccountList, AccountSnapshot, OpenAccounts};
use crate::args;
use crate::error::CommandError;

/// What the commands reach through `tauri::State`.
pub struct AppState {
    /// Every account's session; the commands act on the current one.
    pub accounts: Arc<OpenAccounts>,
    /// Where exports go: the Save dialog, or `--export-dir`.
    pub exports: Placement,
    /// Roster's private data folder, where no export may go.
    pub private_dir: PathBuf,
    /// The files exported in this run ("Show in folder" opens only these).
    pub exported: exports::Exported,
}

impl AppState {
    /// The current account's session.
    pub fn session(&self) -> Arc<Session> {
        self.accounts.current()
    }
}

type Answer<T> = Result<T, CommandError>;

/// Lines of a preview sent to the window (the counts cover all of them;
/// every line's answer is in the job's results once it runs).
const PREVIEW_LINES: usize = 1_000;

/// Runs a command's work; a refusal is logged once with `action`.
fn now<T>(action: &str, work: impl FnOnce() -> Answer<T>) -> Answer<T> {
    work().map_err(|e| e.logged(action))
}

/// [`now`] for work that waits on the server.
async fn awaited<T>(action: &str, work: impl Future<Output = Answer<T>>) -> Answer<T> {
    work.await.map_err(|e| e.logged(action))
}

/// The current state; the window asks once at start, then follows the
/// `session://state` events.
#[tauri::command]
pub fn session_snapshot(state: State<'_, AppState>) -> AccountSnapshot {
    state.accounts.current_snapshot()
}

/// The accounts (label, state, blocked count) and the current one; the
/// window then follows the `accounts://list` events.
#[tauri::command]
pub fn accounts(state: State<'_, AppState>) -> AccountList {
    state.accounts.list_now()
}

/// Shows account `id` (all accounts stay connected meanwhile).
#[tauri::command]
pub fn switch_account(state: State<'_, AppState>, id: u32) -> Answer<()> {
    now("switch accounts", || Ok(state.accounts.switch(id)?))
}

/// A new account, shown at once: its link screen (QR code and code).
#[tauri::command]
pub async fn add_account(state: State<'_, AppState>) -> Answer<u32> {
    tracing::info!("operator asked to add an account");
    awaited("add an account", async { Ok(state.accounts.add().await?) }).await
}

/// Logs account `id` out and deletes its data (the window confirmed it).
#[tauri::command]
pub async fn remove_account(state: State<'_, AppState>, id: u32) -> Answer<()> {
    tracing::info!(account = id, "operator asked to remove an account");
    awaited("remove the account", async { Ok(state.accounts.remove(id).await?) }).await
}

/// Unlinks this computer from the account; a fresh QR code follows.
#[tauri::command]
pub async fn logout(state: State<'_, AppState>) -> Answer<()> {
    tracing::info!("operator asked to log out");
    awaited("log out", async { Ok(state.session().logout().await?) }).await
}

/// Tries to connect at once instead of waiting out the pause between attempts.
#[tauri::command]
pub async fn reconnect_now(state: State<'_, AppState>) -> Answer<()> {
    tracing::info!("operator asked to reconnect now");
    awaited("reconnect", async { Ok(state.session().retry_now().await?) }).await
}

/// Starts a new pairing attempt after the QR codes ran out.
/// "Link with phone number instead": a code for the account's number,
/// typed on the phone; the QR code stays valid meanwhile.
#[tauri::command]
pub async fn link_with_code(state: State<'_, AppState>, number: String) -> Answer<LinkCode> {
    awaited("get a code for linking by phone number", async {
        args::target(&number)?;
        Ok(state.session().link_with_code(&number).await?)
    })
    .await
}

#[tauri::command]
pub async fn refresh_qr(state: State<'_, AppState>) -> Answer<()> {
    tracing::info!("operator asked for a new QR code");
    awaited("get a new code", async { Ok(state.session().refresh_qr().await?) }).await
}

/// A page of the contact list (or the blocklist), filtered by `query`.
#[tauri::command]
pub fn contacts(
    state: State<'_, AppState>,
    query: String,
    filter: ListFilter,
    offset: usize,
    limit: usize,
) -> Answer<ContactPage> {
    now("list the contacts", || {
        args::query(&query)?;
        args::page(offset, limit)?;
        Ok(state.session().directory().page(&query, filter, offset, limit)?)
    })
}

/// A contact's about and picture, fetched now when connected.
#[tauri::command]
pub async fn contact_details(state: State<'_, AppState>, phone: String) -> Answer<ContactDetails> {
    awaited("load the contact", async {
        let phone = args::phone(&phone)?;
        Ok(state.session().directory().details(phone).await?)
    })
    .await
}

/// A list row's picture (cached, or fetched with bounded concurrency).
#[tauri::command]
pub async fn avatar(state: State<'_, AppState>, phone: String) -> Answer<Avatar> {
    awaited("load a picture", async {
        let phone = args::phone(&phone)?;
        Ok(state.session().directory().avatar(phone).await?)
    })
    .await
}

/// Blocks or unblocks a number, PN JID or LID JID; the answer carries the
/// server's new count.
#[tauri::command]
pub async fn set_blocked(state: State<'_, AppState>, target: String, block: bool) -> Answer<BlockOutcome> {
    let action = if block { "block" } else { "unblock" };
    awaited(action, async {
        args::target(&target)?;
        tracing::info!(block, "operator asked to {action}");
        Ok(state.session().blocklist().set_blocked(&target, block).await?)
    })
    .await
}

#[tauri::command]
pub fn settings(state: State<'_, AppState>) -> Answer<Settings> {
    now("read the settings", || Ok(state.session().settings().get()?))
}

/// Sets the default country (a two-letter code; empty clears it).
#[tauri::command]
pub fn set_default_country(state: State<'_, AppState>, code: String) -> Answer<Settings> {
    now("set the default country", || {
        args::country(&code)?;
        Ok(state.session().settings().set_default_country(&code)?)
    })
}

/// Turns the confirmation before blocking from the list on or off.
#[tauri::command]
pub fn set_confirm_blocks(state: State<'_, AppState>, on: bool) -> Answer<Settings> {
    now("change the confirmation setting", || Ok(state.session().settings().set_confirm_blocks(on)?))
}

/// Re-syncs the chosen app-state scopes (the defaults when none).
#[tauri::command]
pub async fn sync_app_state(state: State<'_, AppState>, scopes: Vec<Scope>, full: bool) -> Answer<SyncReport> {
    awaited("sync", async {
        args::scopes(&scopes)?;
        tracing::info!(?scopes, full, "operator asked for an app-state sync");
        Ok(state.session().app_state().sync(&scopes, full).await?)
    })
    .await
}

/// Normalises a pasted or loaded list, without any network call.
#[tauri::command]
pub fn preview_numbers(state: State<'_, AppState>, text: String, column: Option<usize>) -> Answer<Preview> {
    now("read the list", || {
        args::list(&text, column)?;
        let mut preview = state.session().checks().preview(&text, column)?;
        preview.lines.truncate(PREVIEW_LINES);
        Ok(preview)
    })
}

/// Starts checking a list at `rate` numbers a minute.
#[tauri::command]
pub fn start_check(
    state: State<'_, AppState>,
    text: String,
    column: Option<usize>,
    rate: u32,
    group: Option<String>,
) -> Answer<CheckProgress> {
    now("start the check", || {
        args::list(&text, column)?;
        args::rate(rate)?;
        args::group(group.as_deref())?;
        tracing::info!(bytes = text.len(), rate, ?group, "operator started a number check");
        Ok(state.session().checks().start(&text, column, rate, group.as_deref())?)
    })
}

/// The groups the account is in (to limit a check to one).
#[tauri::command]
pub async fn groups(state: State<'_, AppState>) -> Answer<Vec<GroupSummary>> {
    awaited("list the groups", async { Ok(state.session().groups().list().await?) }).await
}

/// Adds the registered numbers of a check (the `lines` given, or all) to the directory.
#[tauri::command]
pub fn add_to_directory(state: State<'_, AppState>, job: i64, lines: Option<Vec<i64>>) -> Answer<usize> {
    now("add them", || {
        args::job(job)?;
        args::lines_to_add(lines.as_deref())?;
        tracing::info!(job, selected = lines.as_ref().map(Vec::len), "operator added checked numbers to the directory");
        Ok(state.session().checks().add_to_directory(job, lines.as_deref())?)
    })
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
) -> Answer<CheckPage> {
    now("read the results", || {
        args::job(job)?;
        args::page(offset, limit)?;
        Ok(state.session().checks().page(job, filter, order.unwrap_or_default(), offset, limit)?)
    })
}

/// Pauses, resumes or cancels a job.
#[tauri::command]
pub fn steer_check(state: State<'_, AppState>, job: i64, intent: JobIntent) -> Answer<CheckProgress> {
    now("change the check", || {
        args::job(job)?;
        tracing::info!(job, ?intent, "operator changed a number check");
        Ok(state.session().checks().steer(job, intent)?)
    })
}

#[tauri::command]
pub fn set_check_rate(state: State<'_, AppState>, job: i64, rate: u32) -> Answer<CheckProgress> {
    now("change the pace", || {
        args::job(job)?;
        args::rate(rate)?;
        Ok(state.session().checks().set_rate(job, rate)?)
    })
}

/// Saves a job's results as CSV where the operator chooses; the path, or
/// `None` when the Save dialog was cancelled.
#[tauri::command]
pub async fn export_check(app: AppHandle, state: State<'_, AppState>, job: i64) -> Answer<Option<String>> {
    args::job(job)?;
    let csv = now("export the results", || Ok(state.session().checks().export_csv(job)?))?;
    export(&app, &state, &format!("roster-check-{job}"), csv).await
}

/// Saves the contact list (or the blocklist) as CSV.
#[tauri::command]
pub async fn export_contacts(app: AppHandle, state: State<'_, AppState>, filter: ListFilter) -> Answer<Option<String>> {
    let csv = now("export the list", || Ok(state.session().directory().export_csv(filter)?))?;
    let name = match filter {
        ListFilter::All => "roster-contacts",
        ListFilter::Blocked => "roster-blocked",
    };
    export(&app, &state, name, csv).await
}

async fn export(app: &AppHandle, state: &AppState, name: &str, csv: String) -> Answer<Option<String>> {
    awaited(&format!("save {name}"), async {
        let saved = exports::save(app, &state.exports, &state.private_dir, name, csv).await?;
        if let Some(path) = &saved {
            state.exported.remember(path);
        }
        Ok(saved.map(|p| p.display().to_string()))
    })
    .await
}

/// The audit log of operator actions, newest first.
#[tauri::command]
pub fn audit_log(state: State<'_, AppState>, offset: usize, limit: usize) -> Answer<AuditPage> {
    now("read the activity log", || {
        args::page(offset, limit)?;
        Ok(state.session().audit().page(offset, limit)?)
    })
}

/// Saves the whole audit log as CSV where the operator chooses.
#[tauri::command]
pub async fn export_audit(app: AppHandle, state: State<'_, AppState>) -> Answer<Option<String>> {
    let csv = now("export the activity log", || Ok(state.session().audit().export_csv()?))?;
    export(&app, &state, "roster-activity", csv).await
}

/// Blocks the registered numbers of a check: the `lines` given, or all.
#[tauri::command]
pub async fn block_checked(state: State<'_, AppState>, job: i64, lines: Option<Vec<i64>>) -> Answer<BulkOutcome> {
    awaited("block them", async {
        args::job(job)?;
        args::lines_to_block(lines.as_deref())?;
        tracing::info!(job, selected = lines.as_ref().map(Vec::len), "operator asked for a bulk block");
        Ok(state.session().bulk().block_checked(job, lines.as_deref()).await?)
    })
    .await
}

/// Blocks or unblocks the people marked in the list (each named as the list
/// names them: `+number` or `LID@lid`), paced, as one bulk action.
#[tauri::command]
pub async fn set_blocked_many(state: State<'_, AppState>, people: Vec<String>, block: bool) -> Answer<BulkOutcome> {
    let action = if block { "block them" } else { "unblock them" };
    awaited(action, async {
        args::people(&people)?;
        tracing::info!(block, people = people.len(), "operator asked for a bulk change from the list");
        Ok(state.session().bulk().set_blocked_people(&people, block).await?)
    })
    .await
}

/// Opens the system's file manager on the folder of a file exported in this run.
#[tauri::command]
pub fn show_in_folder(state: State<'_, AppState>, path: String) -> Answer<()> {
    now("show the export in its folder", || Ok(state.exported.show_in_folder(&path)?))
}

/// One group's members, names from the directory, admins first.
#[tauri::command]
pub async fn group_members(state: State<'_, AppState>, group: String) -> Answer<Vec<GroupMemberRow>> {
    awaited("list the group's members", async {
        args::group_jid(&group)?;
        Ok(state.session().groups().members(&group).await?)
    })
    .await
}

/// Sets (86400, 604800, 7776000 seconds) or clears (0) a group's
/// disappearing-message timer.
#[tauri::command]
pub async fn set_group_timer(state: State<'_, AppState>, group: String, seconds: u32) -> Answer<GroupSummary> {
    awaited("set the group's timer", async {
        args::group_jid(&group)?;
        tracing::info!(seconds, "operator set a group timer");
        Ok(state.session().groups().set_timer(&group, seconds).await?)
    })
    .await
}

/// Sets (seconds) or clears (0) the disappearing-message timer of the 1:1
/// chat with a person (a number, PN JID or LID JID).
#[tauri::command]
pub async fn set_chat_timer(state: State<'_, AppState>, person: String, seconds: u32) -> Answer<ChatTimer> {
    awaited("set the chat's timer", async {
        args::target(&person)?;
        tracing::info!(seconds, "operator set a chat timer");
        Ok(state.session().chats().set_timer(&person, seconds).await?)
    })
    .await
}

/// Adds the people of a check (the `lines` given, or all answered ones) to
/// a group or community.
#[tauri::command]
pub async fn add_checked_to_group(
    state: State<'_, AppState>,
    group: String,
    job: i64,
    lines: Option<Vec<i64>>,
) -> Answer<AddJobOutcome> {
    awaited("add them to the group", async {
        args::group_jid(&group)?;
        args::job(job)?;
        args::lines_for_group(lines.as_deref())?;
        tracing::info!(job, selected = lines.as_ref().map(Vec::len), "operator asked to add people to a group");
        Ok(state.session().groups().add_from_check(&group, job, lines.as_deref()).await?)
    })
    .await
}

/// Adds people named by number or LID (one per entry) to a group or
/// community.
#[tauri::command]
pub async fn add_numbers_to_group(
    state: State<'_, AppState>,
    group: String,
    targets: Vec<String>,
) -> Answer<AddJobOutcome> {
    awaited("add them to the group", async {
        args::group_jid(&group)?;
        args::targets_for_group(&targets)?;
        tracing::info!(targets = targets.len(), "operator asked to add numbers to a group");
        Ok(state.session().groups().add_targets(&group, &targets).await?)
    })
    .await
}

/// An add-participants job's people and outcomes as saved (the results
/// table, also after a restart).
#[tauri::command]
pub fn group_add_job(state: State<'_, AppState>, action: i64) -> Answer<AddJobOutcome> {
    now("show the job", || {
        args::action(action)?;
        Ok(state.session().groups().job(action)?)
    })
}

/// Sends a person the invite WhatsApp held for them when their privacy
/// refused the add.
#[tauri::command]
pub async fn send_group_invite(state: State<'_, AppState>, action: i64, seq: i64) -> Answer<AddItemRow> {
    awaited("send the invite", async {
        args::action(action)?;
        Ok(state.session().groups().send_invite(action, seq).await?)
    })
    .await
}

/// Removes exactly those an add-participants job added.
#[tauri::command]
pub async fn undo_group_add(state: State<'_, AppState>, action: i64) -> Answer<AddJobOutcome> {
    awaited("undo", async {
        args::action(action)?;
        tracing::info!(action, "operator asked to undo adding people to a group");
        Ok(state.session().groups().undo_add(action).await?)
    })
    .await
}

/// Unblocks what a bulk block blocked.
#[tauri::command]
pub async fn undo_bulk(state: State<'_, AppState>, action: i64) -> Answer<BulkOutcome> {
    awaited("undo", async {
        args::action(action)?;
        tracing::info!(action, "operator asked to undo a bulk block");
        Ok(state.session().bulk().undo(action).await?)
    })
    .await
}
