//! Roster's window: a thin Tauri shell over one `roster_core::Session` per
//! account.
//!
//! `main` checks the command line and the data directory before anything
//! else (a bad argument or a damaged data directory exits with code 2 and
//! touches nothing; a directory another Roster uses brings that one's window
//! to the front, or exits with code 3 naming it: `instance.rs`), then opens
//! the accounts (migrating a single-account directory) and starts every
//! account's session (`accounts.rs`) — and, with `--sandbox`, first the
//! simulated server and its phones — and opens the window. Every change of
//! any account's snapshot is forwarded to the webview as a `session://state`
//! event tagged with the account's id, and the accounts' list as
//! `accounts://list`.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod accounts;
mod args;
mod cli;
mod commands;
mod error;
mod exports;
mod instance;
mod logging;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use roster_core::{Accounts, DataDir, DataDirError, DirLock, ServerUrl, Session, parse_server_url};
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};
use tokio::sync::{broadcast, watch};
use tracing::{error, info, warn};

use crate::accounts::{AccountList, AccountSnapshot, OpenAccounts};
use crate::commands::AppState;

/// The event that carries each new [`SessionSnapshot`] to the window.
const STATE_EVENT: &str = "session://state";
/// The accounts' list (the header's switcher), sent at every change.
const ACCOUNTS_EVENT: &str = "accounts://list";
/// The name the phone shows in its list of linked devices.
const DEVICE_NAME: &str = "Roster";
/// How long quitting waits for the client to disconnect and flush.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Exit code for a bad command line or an unusable data directory.
const EXIT_USAGE: u8 = 2;
/// Exit code when another Roster uses the data directory and could not be asked to show itself.
const EXIT_IN_USE: u8 = 3;

/// What a run was asked to do, after checking it against this build.
struct Plan {
    sandbox: bool,
    server: Option<ServerUrl>,
    data_dir: DataDir,
    /// Where exports go.
    exports: exports::Placement,
    /// Debug-level logs with phone numbers unmasked.
    verbose: bool,
}

fn main() -> ExitCode {
    let args = match cli::parse(std::env::args_os().skip(1)) {
        Ok(cli::Command::Run(args)) => args,
        Ok(cli::Command::Help) => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(cli::Command::Version) => {
            println!("roster {}{}", env!("CARGO_PKG_VERSION"), if SANDBOX_BUILD { " (sandbox build)" } else { "" });
            return ExitCode::SUCCESS;
        }
        Err(message) => return usage_error(&message),
    };
    if args.sandbox && !SANDBOX_BUILD {
        return run_installed_sandbox();
    }
    // The lock is held until the process ends: no other Roster uses the
    // data directory meanwhile.
    let (plan, _lock) = match plan(args) {
        Ok(planned) => planned,
        Err(Refusal::Usage(message)) => return usage_error(&message),
        Err(Refusal::InUse { dir, pid, message }) => return already_running(&dir, pid, &message),
    };

    logging::init(&plan.data_dir.log_dir(), plan.verbose);
    match run(plan) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("roster: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// Another Roster holds the data directory: it is asked to show its window.
fn already_running(dir: &std::path::Path, pid: Option<u32>, message: &str) -> ExitCode {
    if instance::ask_to_show(dir) {
        let process = pid.map_or_else(String::new, |pid| format!(" (process {pid})"));
        println!(
            "roster: Roster is already running on {}{process}; its window was brought to the front.",
            dir.display()
        );
        ExitCode::SUCCESS
    } else {
        eprintln!("roster: {message}. It did not answer; if it is stuck, end that process.");
        ExitCode::from(EXIT_IN_USE)
    }
}

/// Why a run does not start.
enum Refusal {
    /// A bad command line or an unusable data directory.
    Usage(String),
    /// Another Roster process holds the data directory.
    InUse { dir: PathBuf, pid: Option<u32>, message: String },
}

impl From<String> for Refusal {
    fn from(message: String) -> Self {
        Refusal::Usage(message)
    }
}

impl From<&str> for Refusal {
    fn from(message: &str) -> Self {
        Refusal::Usage(message.to_owned())
    }
}

const SANDBOX_BUILD: bool = cfg!(feature = "sandbox");

/// Where an installed Roster keeps its sandbox build, beside `bin/roster`.
const INSTALLED_SANDBOX: &str = "../lib/roster/roster-sandbox";

/// `roster --sandbox` in a default build: an installed Roster hands over to
/// the sandbox build installed beside it (`lib/roster/roster-sandbox`, the
/// only binary that trusts a simulator), with the same arguments. A default
/// build has no simulator and never skips certificate checks itself.
fn run_installed_sandbox() -> ExitCode {
    let sandbox = std::env::current_exe()
        .and_then(|exe| exe.canonicalize())
        .ok()
        .and_then(|exe| exe.parent().map(|bin| bin.join(INSTALLED_SANDBOX)))
        .filter(|path| path.is_file());
    let Some(sandbox) = sandbox else {
        return usage_error(
            "--sandbox is only available in a sandbox build \
             (cargo build -p roster --features sandbox, or the installed package's roster-sandbox); \
             this build talks to WhatsApp only",
        );
    };
    let mut command = std::process::Command::new(&sandbox);
    command.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let error = command.exec();
        usage_error(&format!("cannot start the sandbox build {}: {error}", sandbox.display()))
    }
    #[cfg(not(unix))]
    match command.status() {
        Ok(status) => ExitCode::from(u8::try_from(status.code().unwrap_or(1)).unwrap_or(1)),
        Err(error) => usage_error(&format!("cannot start the sandbox build {}: {error}", sandbox.display())),
    }
}

/// Checks the arguments against this build and opens the data directory,
/// taking its lock. Nothing on disk changes unless every check passed.
fn plan(args: cli::Args) -> Result<(Plan, DirLock), Refusal> {
    if args.sandbox && args.server.is_some() {
        return Err("--sandbox runs its own simulated server; it cannot be combined with --server".into());
    }
    let server = match args.server.as_deref() {
        Some(s) => Some(parse_server_url(s).map_err(|e| format!("--server: {e}"))?),
        None => None,
    };
    if SANDBOX_BUILD && !args.sandbox && server.is_none() {
        return Err("this is a sandbox build: it does not verify server certificates, so it never \
                    connects to WhatsApp itself. Run it with --sandbox, or with --server \
                    ws://127.0.0.1:PORT/ws/chat to use a simulator started separately"
            .into());
    }
    let dir = match args.data_dir {
        Some(dir) => dir,
        None => default_data_dir(args.sandbox)?,
    };
    let (data_dir, lock) = DataDir::open_locked(&dir).map_err(|e| match e {
        DataDirError::InUse { pid, .. } => Refusal::InUse { pid, message: e.to_string(), dir: dir.clone() },
        other => Refusal::Usage(other.to_string()),
    })?;
    // Exports are the operator's files: the Save dialog opens in Downloads,
    // never in the private data directory.
    let exports = match args.export_dir {
        Some(dir) => exports::Placement::Folder(dir),
        None => exports::Placement::Ask {
            start: dirs::download_dir().or_else(dirs::home_dir).unwrap_or_else(|| ".".into()),
        },
    };
    Ok((Plan { sandbox: args.sandbox, server, data_dir, exports, verbose: args.verbose }, lock))
}

/// `~/.local/share/roster` (or the platform's equivalent); the sandbox keeps
/// its own, so trying it never touches the real session.
fn default_data_dir(sandbox: bool) -> Result<PathBuf, String> {
    let base = dirs::data_dir()
        .ok_or("cannot tell where this user's application data goes (is HOME set?); pass --data-dir DIR")?;
    Ok(base.join(if sandbox { "roster-sandbox" } else { "roster" }))
}

/// Every account's session and, in the sandbox, the simulator they talk to.
struct Backend {
    accounts: Arc<OpenAccounts>,
    #[cfg(feature = "sandbox")]
    sim: Option<sandbox::Sim>,
}

impl Backend {
    async fn start(plan: Plan) -> anyhow::Result<Backend> {
        #[cfg(feature = "sandbox")]
        let (sim, server) = if plan.sandbox {
            let sim = sandbox::Sim::start(plan.data_dir.path()).await?;
            let server = parse_server_url(&sim.ws_url()).context("the simulator's own URL was refused")?;
            (Some(sim), Some(server))
        } else {
            (None, plan.server)
        };
        #[cfg(not(feature = "sandbox"))]
        let server = {
            debug_assert!(!plan.sandbox, "main hands --sandbox to the sandbox build");
            plan.server
        };

        // Each account has its own folder; a single-account data directory
        // becomes account 1 here. Every account connects; the first is shown.
        let folders = Accounts::open(&plan.data_dir).context("cannot open the accounts")?;
        info!(
            data_dir = %plan.data_dir.path().display(),
            server = server.as_ref().map_or("WhatsApp", |s| s.as_str()),
            "starting the session of each account"
        );
        #[cfg(feature = "sandbox")]
        let on_start: accounts::OnStart = match &sim {
            Some(sim) => {
                let camera = sim.camera();
                Box::new(move |session: &Arc<Session>| camera.watch(session.subscribe()))
            }
            None => Box::new(|_: &Arc<Session>| {}),
        };
        #[cfg(not(feature = "sandbox"))]
        let on_start: accounts::OnStart = Box::new(|_: &Arc<Session>| {});
        let connect = accounts::Connect { server, device_name: DEVICE_NAME.to_owned() };
        let accounts =
            OpenAccounts::start(folders, connect, on_start).await.context("cannot start the accounts' sessions")?;
        Ok(Backend {
            accounts,
            #[cfg(feature = "sandbox")]
            sim,
        })
    }

    async fn shutdown(self) {
        if tokio::time::timeout(SHUTDOWN_GRACE, self.accounts.shutdown()).await.is_err() {
            warn!("the sessions did not stop within {SHUTDOWN_GRACE:?}; quitting anyway");
        }
        #[cfg(feature = "sandbox")]
        if let Some(sim) = self.sim {
            sim.shutdown().await;
        }
        info!("stopped");
    }
}

fn run(plan: Plan) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("roster-rt")
        .build()
        .context("cannot start the async runtime")?;
    tauri::async_runtime::set(runtime.handle().clone());

    let sandbox = plan.sandbox;
    let exports = plan.exports.clone();
    let private_dir = plan.data_dir.path().to_path_buf();
    let webview_dir = plan.data_dir.path().join("webview");
    let data_path = plan.data_dir.path().to_path_buf();
    // The sessions open (stores, the sandbox's simulator) on the runtime
    // while GTK and the webview start here; both are joined before the
    // window's page runs, so every command finds them ready.
    let starting = runtime.spawn(Backend::start(plan));

    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(tauri::generate_handler![
            commands::session_snapshot,
            commands::logout,
            commands::refresh_qr,
            commands::reconnect_now,
            commands::set_confirm_blocks,
            commands::export_contacts,
            commands::contacts,
            commands::contact_details,
            commands::avatar,
            commands::set_blocked,
            commands::settings,
            commands::set_default_country,
            commands::sync_app_state,
            commands::preview_numbers,
            commands::start_check,
            commands::check_rows,
            commands::steer_check,
            commands::set_check_rate,
            commands::export_check,
            commands::block_checked,
            commands::undo_bulk,
            commands::groups,
            commands::group_members,
            commands::set_group_timer,
            commands::set_chat_timer,
            commands::add_checked_to_group,
            commands::add_numbers_to_group,
            commands::group_add_job,
            commands::undo_group_add,
            commands::send_group_invite,
            commands::add_to_directory,
            commands::audit_log,
            commands::export_audit,
            commands::set_blocked_many,
            commands::show_in_folder,
            commands::link_with_code,
            commands::accounts,
            commands::switch_account,
            commands::add_account,
            commands::remove_account,
        ])
        .setup(move |app| {
            // The webview keeps its storage in the data directory too, so a
            // sandbox or a test run leaves the real profile alone.
            WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
                .title(if sandbox { "Roster (sandbox)" } else { "Roster" })
                .inner_size(1180.0, 780.0)
                .min_inner_size(640.0, 560.0)
                .center()
                .data_directory(webview_dir)
                .build()?;
            let handle = app.handle().clone();
            let front = move || {
                if let Some(window) = handle.get_webview_window("main") {
                    let _ = window.unminimize();
                    let _ = window.show();
                    let _ = window.set_focus();
                }
            };
            if let Err(e) = instance::serve(&data_path, front) {
                warn!("later starts on this data directory cannot reach this one: {e}");
            }
            tauri::async_runtime::spawn(quit_on_signal(app.handle().clone()));
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("cannot open the window")?;

    let backend = runtime.block_on(starting).context("the start of the sessions panicked")??;
    let accounts = backend.accounts.clone();
    app.manage(AppState { accounts: accounts.clone(), exports, private_dir, exported: Default::default() });
    tauri::async_runtime::spawn(forward_snapshots(app.handle().clone(), accounts.snapshots()));
    tauri::async_runtime::spawn(forward_accounts(app.handle().clone(), accounts.list()));

    let code = app.run_return(|_, _| {});
    info!(code, "quitting; stopping the session");
    runtime.block_on(backend.shutdown());
    Ok(code)
}

/// Sends every account's snapshots, each tagged with its account, to the
/// window (which renders the current account's and asks for the current
/// one at start).
async fn forward_snapshots(app: AppHandle, mut snapshots: broadcast::Receiver<AccountSnapshot>) {
    loop {
        match snapshots.recv().await {
            Ok(snapshot) => {
                if let Err(e) = app.emit(STATE_EVENT, &snapshot) {
                    warn!("cannot send the session state to the window: {e}");
                }
            }
            // Only older snapshots were lost; the next one is newer.
            Err(broadcast::error::RecvError::Lagged(skipped)) => warn!(skipped, "snapshots skipped"),
            Err(broadcast::error::RecvError::Closed) => break,
        }
    }
}

/// Sends the accounts' list, then every change, to the window.
async fn forward_accounts(app: AppHandle, mut list: watch::Receiver<Option<AccountList>>) {
    loop {
        let now = list.borrow_and_update().clone();
        if let Some(now) = now
            && let Err(e) = app.emit(ACCOUNTS_EVENT, &now)
        {
            warn!("cannot send the accounts' list to the window: {e}");
        }
        if list.changed().await.is_err() {
            break;
        }
    }
}

/// Ctrl+C or SIGTERM close the window, so the session stops cleanly.
async fn quit_on_signal(app: AppHandle) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
            warn!("cannot listen for termination signals");
            return;
        };
        tokio::select! {
            _ = int.recv() => info!("interrupted; quitting"),
            _ = term.recv() => info!("terminated; quitting"),
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        info!("interrupted; quitting");
    }
    app.exit(0);
}

#[cfg(feature = "sandbox")]
mod sandbox {
    //! `--sandbox`: the simulated WhatsApp server and phone, in process.

    use std::net::SocketAddr;
    use std::path::Path;
    use std::time::Duration;

    use roster_core::{ConnectionState, SessionSnapshot};
    use roster_sim::{SimConfig, SimHandle, Simulator};
    use tokio::sync::watch;
    use tokio::task::JoinHandle;
    use tracing::info;

    /// How long the simulated phone takes to "point its camera" at a new code.
    const AUTO_SCAN_AFTER: Duration = Duration::from_secs(3);
    /// The simulated world (account number, name, keys) is derived from it.
    const SEED: u64 = 1;
    /// The simulator's own state, next to the session store (account 1's;
    /// the others' beside it, `sandbox-world-2.json`).
    const STATE_FILE: &str = "sandbox-world.json";
    /// The simulated phones: two accounts, so adding a second one can be tried.
    const ACCOUNTS: usize = 2;

    pub struct Sim {
        handle: std::sync::Arc<SimHandle>,
        camera: Camera,
    }

    /// The simulated phones' camera, watching every account's window state.
    #[derive(Clone)]
    pub struct Camera {
        handle: std::sync::Arc<SimHandle>,
        tasks: std::sync::Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
    }

    impl Sim {
        /// Starts the simulator; it keeps the devices linked to its account
        /// in `data_dir`, so a restarted sandbox still knows this computer.
        pub async fn start(data_dir: &Path) -> anyhow::Result<Sim> {
            // The simulator's configuration grows with it; take its defaults.
            #[allow(clippy::needless_update)]
            let handle = Simulator::start(SimConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                seed: SEED,
                accounts: ACCOUNTS,
                auto_scan: Some(AUTO_SCAN_AFTER),
                state_path: Some(data_dir.join(STATE_FILE)),
                ..SimConfig::default()
            })
            .await?;
            info!(ws = %handle.ws_url(), admin = %format!("{}/admin", handle.http_url()), "sandbox simulator started");
            let handle = std::sync::Arc::new(handle);
            let camera = Camera { handle: handle.clone(), tasks: Default::default() };
            Ok(Sim { handle, camera })
        }

        pub fn ws_url(&self) -> String {
            self.handle.ws_url()
        }

        /// The camera, for each account's session as it starts.
        pub fn camera(&self) -> Camera {
            self.camera.clone()
        }

        pub async fn shutdown(self) {
            let tasks = std::mem::take(&mut *self.camera.tasks.lock().unwrap_or_else(|p| p.into_inner()));
            for task in tasks {
                task.abort();
                let _ = task.await;
            }
            drop(self.camera);
            if let Ok(handle) = std::sync::Arc::try_unwrap(self.handle) {
                handle.shutdown().await;
            }
        }
    }

    impl Camera {
        /// Shows each new QR code an account's window displays to the
        /// simulated phones' camera; a phone without a linked device scans
        /// it after [`AUTO_SCAN_AFTER`].
        pub fn watch(&self, mut snapshots: watch::Receiver<SessionSnapshot>) {
            let sim = self.handle.clone();
            let task = tokio::spawn(async move {
                let mut shown: Option<String> = None;
                loop {
                    let code = {
                        let s = snapshots.borrow_and_update();
                        match (&s.state, &s.qr) {
                            (ConnectionState::WaitingForScan, Some(qr)) => Some(qr.code.clone()),
                            _ => None,
                        }
                    };
                    if let Some(code) = code
                        && shown.as_ref() != Some(&code)
                    {
                        sim.show_qr(&code);
                        shown = Some(code);
                    }
                    if snapshots.changed().await.is_err() {
                        break;
                    }
                }
            });
            self.tasks.lock().unwrap_or_else(|p| p.into_inner()).push(task);
        }
    }
}
