//! Harness for the GUI tests: `tauri-driver` as a child process, polling
//! with deadlines, screenshots, and making sure no app process outlives a test.
// Each test binary uses its own share of these helpers.
#![allow(dead_code)]

pub mod webdriver;

use std::collections::BTreeSet;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use webdriver::Client;

/// Where the GUI tests save their screenshots: `target/gui-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target directory")
        .to_path_buf();
    let dir = target.join("gui-screenshots");
    fs::create_dir_all(&dir).expect("create the screenshot directory");
    dir
}

/// Saves numbered screenshots as `target/gui-screenshots/<test>-<name>.png`.
pub struct Shots {
    pub dir: PathBuf,
    test: &'static str,
}

impl Shots {
    pub fn new(test: &'static str) -> Shots {
        Shots { dir: screenshot_dir(), test }
    }

    pub fn take(&self, session: &webdriver::Session, name: &str) {
        session.settle().unwrap_or_else(|e| panic!("wait for the page to paint before {name}: {e}"));
        let png = session.screenshot().unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        assert!(png.starts_with(b"\x89PNG"), "screenshot {name} is not a PNG");
        let path = self.dir.join(format!("{}-{name}.png", self.test));
        fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        eprintln!("screenshot: {}", path.display());
    }
}

/// Everything the app logged to its data directory.
pub fn read_logs(dir: &Path) -> String {
    let mut text = String::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        text += &fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
    }
    text
}

/// The app's command line against a simulator at `ws_url`.
pub fn app_args(ws_url: &str, data_dir: &Path) -> Vec<String> {
    vec!["--server".into(), ws_url.into(), "--data-dir".into(), data_dir.display().to_string()]
}

/// The app under test, started under `tauri-driver` against its own
/// simulator and linked by having the simulated phone scan its QR code.
pub struct Linked {
    pub runtime: tokio::runtime::Runtime,
    pub sim: roster_sim::SimHandle,
    pub data_dir: tempfile::TempDir,
    pub driver: TauriDriver,
    pub session: webdriver::Session,
    /// The app's command line, to start it again on the same data directory.
    pub args: Vec<String>,
    pub shots: Shots,
}

/// Starts a simulator (`seed`, `contacts` people), the app with `extra`
/// arguments, and links them; returns once the window says "connected".
pub fn start_linked(test: &'static str, seed: u64, contacts: usize, extra: &[String]) -> Linked {
    start_linked_with_env(test, seed, contacts, extra, &[])
}

/// [`start_linked`], with `env` set for the app (through `tauri-driver`),
/// e.g. to make GTK and the webview prefer a dark theme.
pub fn start_linked_with_env(
    test: &'static str,
    seed: u64,
    contacts: usize,
    extra: &[String],
    env: &[(&str, &std::ffi::OsStr)],
) -> Linked {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let sim = runtime
        .block_on(roster_sim::Simulator::start(roster_sim::SimConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            seed,
            contacts,
            auto_scan: None,
            ..roster_sim::SimConfig::default()
        }))
        .expect("start the simulator");
    let data_dir = tempfile::Builder::new()
        .prefix(&format!("gui-{test}-"))
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    let shots = Shots::new(test);
    let app = Path::new(env!("CARGO_BIN_EXE_roster"));
    let driver =
        TauriDriver::start_with_env(app, data_dir.path(), shots.dir.join(format!("tauri-driver-{test}.log")), env);
    let mut args = app_args(&sim.ws_url(), data_dir.path());
    args.extend_from_slice(extra);
    let session = driver.launch(app, &args, "start the app");
    let qr = wait_until(Duration::from_secs(60), "a QR code", || match session.attribute("#qr", "data-qr") {
        Ok(Some(qr)) if !qr.is_empty() => Ok(Some(qr)),
        other => Err(format!("{other:?}")),
    });
    sim.scan_qr(&qr).expect("the phone scans the window's code");
    wait_until(Duration::from_secs(60), "the window to say connected", || {
        let state = session.execute("return document.body.dataset.state;", serde_json::json!([]));
        match state {
            Ok(v) if v == "connected" => Ok(Some(())),
            other => Err(format!("{other:?}")),
        }
    });
    Linked { runtime, sim, data_dir, driver, session, args, shots }
}

impl Linked {
    /// Starts the app again on the same data directory after it died (the
    /// test killed it), under a new `tauri-driver`: the old WebKitWebDriver
    /// saw its browser vanish mid-session and is not trusted with another.
    pub fn restart_after_kill(&mut self, test: &str) {
        let _ = self.session.close(); // the app is gone; the driver may say so
        let app = Path::new(env!("CARGO_BIN_EXE_roster"));
        let log = self.shots.dir.join(format!("tauri-driver-{test}-restart.log"));
        // Assigning drops the old driver (and its WebKitWebDriver) before
        // the app is launched again.
        self.driver = TauriDriver::start(app, self.data_dir.path(), log);
        self.session = self.driver.launch(app, &self.args, "restart the app");
    }

    /// Quits the app cleanly and stops the simulator.
    pub fn finish(self) {
        let Linked { runtime, sim, data_dir, driver, session, .. } = self;
        driver.quit_app(Duration::from_secs(20));
        let _ = session.end();
        drop(driver);
        runtime.block_on(sim.shutdown());
        drop(data_dir);
    }
}

/// Waits (up to 10 minutes) until the list's count shows at least the
/// simulator's whole address book; returns the count shown.
pub fn whole_address_book_listed(session: &webdriver::Session, sim: &roster_sim::SimHandle) -> usize {
    let saved = sim.world().people.iter().filter(|p| p.saved_name.is_some()).count();
    wait_until(Duration::from_secs(600), "the whole address book in the list", || {
        let text = session.text("#list-count").map_err(|e| e.to_string())?.unwrap_or_default();
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        match digits.parse::<usize>() {
            Ok(n) if n >= saved => Ok(Some(n)),
            _ => Err(text),
        }
    })
}

/// The LIDs the simulator's blocklist holds, as `GET /admin/world` shows them.
pub fn blocked_lids(sim: &roster_sim::SimHandle) -> BTreeSet<String> {
    sim.world().blocklist.into_iter().map(|b| b.lid).collect()
}

/// Runs `script` (a read of the page that returns JSON) in the window until
/// `done` accepts what it returns; panics with the last read after `deadline`.
pub fn until_read(
    session: &webdriver::Session,
    script: &str,
    deadline: Duration,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    wait_until(deadline, what, || {
        let seen = session.execute(script, serde_json::json!([])).map_err(|e| e.to_string())?;
        if done(&seen) { Ok(Some(seen)) } else { Err(seen.to_string()) }
    })
}

/// Polls `probe` every 100 ms until it yields a value, or panics with
/// `what` and the last thing seen once `deadline` has passed.
pub fn wait_until<T>(deadline: Duration, what: &str, probe: impl FnMut() -> Result<Option<T>, String>) -> T {
    poll_until(deadline, probe)
        .unwrap_or_else(|last| panic!("timed out after {deadline:?} waiting for {what}; last seen: {last}"))
}

/// [`wait_until`] that hands back the last thing seen instead of panicking.
pub fn poll_until<T>(deadline: Duration, mut probe: impl FnMut() -> Result<Option<T>, String>) -> Result<T, String> {
    let start = Instant::now();
    let mut last = String::from("nothing yet");
    loop {
        match probe() {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(seen) => last = seen,
        }
        if start.elapsed() > deadline {
            return Err(last);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A free TCP port on loopback, never the same twice in one test binary.
/// It is taken below Linux's ephemeral range (32768–60999): between this
/// check and the program that binds it, an outgoing connection can take an
/// ephemeral port as its source port, but not this one.
pub fn free_port() -> u16 {
    const FIRST: u16 = 20_000;
    const SPAN: u16 = 12_000;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    // Each test binary starts at its own place, so that two running at once
    // rarely try the same ports.
    let start = (std::process::id() % u32::from(SPAN)) as u16;
    for _ in 0..SPAN {
        let port = FIRST + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {FIRST}..{}", FIRST + SPAN);
}

fn find_program(env_var: &str, name: &str, fallbacks: &[PathBuf]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env_var) {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name));
    on_path.chain(fallbacks.iter().cloned()).find(|p| p.is_file())
}

/// `tauri-driver` in front of WebKitWebDriver, killed (with whatever it
/// started) on drop.
pub struct TauriDriver {
    child: Child,
    pub client: Client,
    pub log: PathBuf,
    /// The app under test and the data dir that identifies its processes.
    app: PathBuf,
    data_dir: PathBuf,
}

impl TauriDriver {
    pub fn start(app: &Path, data_dir: &Path, log: PathBuf) -> TauriDriver {
        TauriDriver::start_with_env(app, data_dir, log, &[])
    }

    /// [`TauriDriver::start`], with `env` added to the driver's environment,
    /// which the app it launches inherits.
    pub fn start_with_env(app: &Path, data_dir: &Path, log: PathBuf, env: &[(&str, &std::ffi::OsStr)]) -> TauriDriver {
        assert!(
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
            "the GUI tests need a display: run them under `xvfb-run -a cargo test ...`"
        );
        let home_bin = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/tauri-driver"));
        let driver = find_program("TAURI_DRIVER", "tauri-driver", &home_bin.into_iter().collect::<Vec<_>>())
            .expect("tauri-driver not found (set TAURI_DRIVER or run scripts/setup.sh)");
        let native = find_program("WEBKIT_WEBDRIVER", "WebKitWebDriver", &[PathBuf::from("/usr/bin/WebKitWebDriver")])
            .expect("WebKitWebDriver not found (apt-get install webkit2gtk-driver, or run scripts/setup.sh)");

        // A native driver that cannot bind its port leaves tauri-driver
        // running but never ready; a fresh pair of ports is tried then.
        const ATTEMPTS: usize = 3;
        for attempt in 1..=ATTEMPTS {
            let (port, native_port) = (free_port(), free_port());
            let log_file = fs::File::create(&log).expect("create the tauri-driver log");
            let child = Command::new(&driver)
                .arg("--port")
                .arg(port.to_string())
                .arg("--native-port")
                .arg(native_port.to_string())
                .arg("--native-driver")
                .arg(&native)
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("clone log handle"))
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
            let mut started = TauriDriver {
                child,
                client: Client::new(format!("http://127.0.0.1:{port}")),
                log: log.clone(),
                app: app.to_path_buf(),
                data_dir: data_dir.to_path_buf(),
            };
            let ready = poll_until(Duration::from_secs(30), || {
                if let Ok(Some(status)) = started.child.try_wait() {
                    panic!("tauri-driver exited ({status}); the end of {}:\n{}", log.display(), started.log_tail(40));
                }
                Ok(started.client.ready().then_some(()))
            });
            if ready.is_ok() {
                return started;
            }
            eprintln!(
                "tauri-driver on ports {port}/{native_port} not ready after 30 s (attempt {attempt} of {ATTEMPTS}); the end of its log:\n{}",
                started.log_tail(20)
            );
        }
        panic!("tauri-driver never accepted sessions in {ATTEMPTS} attempts; see {}", log.display());
    }

    /// Starts a session on `app` (which launches it); panics saying `what`
    /// failed, with the end of the driver's log (the app writes there too),
    /// so that CI's output shows why without the file.
    pub fn launch(&self, app: &Path, args: &[String], what: &str) -> webdriver::Session {
        self.client
            .new_tauri_session(app, args)
            .unwrap_or_else(|e| panic!("{what}: {e}; the end of {}:\n{}", self.log.display(), self.log_tail(40)))
    }

    /// The last `lines` lines of the driver's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Pids of the app under test running on this test's data directory.
    pub fn app_pids(&self) -> Vec<i32> {
        app_pids(&self.app, &self.data_dir)
    }

    /// Asks the app to quit (SIGTERM, which it handles like closing its
    /// window) and waits until it has. Returns how many processes it asked.
    pub fn quit_app(&self, deadline: Duration) -> usize {
        let pids = self.app_pids();
        for pid in &pids {
            terminate(*pid);
        }
        self.wait_for_app_exit(deadline);
        pids.len()
    }

    /// Kills the app outright (SIGKILL: no chance to finish anything) and
    /// waits until it and the webview processes it started are gone, so that
    /// a restart finds nothing of the old one still holding the directory.
    pub fn kill_app(&self, deadline: Duration) {
        let pids = self.app_pids();
        assert_eq!(pids.len(), 1, "one app process");
        let helpers = children_of(pids[0]);
        eprintln!("killing app process {}; its child processes: {helpers:?}", pids[0]);
        // SAFETY: plain kill(2) on the app process this test started.
        unsafe { libc::kill(pids[0], libc::SIGKILL) };
        self.wait_for_app_exit(deadline);
        wait_until(deadline, "the killed app's webview processes to exit", || {
            let left: Vec<i32> = helpers.iter().copied().filter(|pid| alive(*pid)).collect();
            if left.is_empty() { Ok(Some(())) } else { Err(format!("still running: {left:?}")) }
        });
    }

    /// Waits until no app process is left on the data directory.
    pub fn wait_for_app_exit(&self, deadline: Duration) {
        wait_until(deadline, "the app to quit", || {
            let pids = self.app_pids();
            if pids.is_empty() { Ok(Some(())) } else { Err(format!("still running: {pids:?}")) }
        });
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        // SIGTERM lets tauri-driver stop WebKitWebDriver; SIGKILL would
        // orphan it (and possibly the app).
        terminate(self.child.id() as i32);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // WebKitWebDriver force-quits the app when a session ends, but an
        // interrupted test may leave one behind.
        for pid in self.app_pids() {
            terminate(pid);
        }
        let start = Instant::now();
        while !self.app_pids().is_empty() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
        for pid in self.app_pids() {
            // SAFETY: plain kill(2) on a pid we just saw running our binary.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Every process's id (Linux /proc).
fn pids() -> impl Iterator<Item = i32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
}

/// The processes whose parent is `parent` (WebKit's web and network
/// processes, for the app).
pub fn children_of(parent: i32) -> Vec<i32> {
    pids()
        .filter(|pid| {
            // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces.
            let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
            let after_comm = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            after_comm.split_whitespace().nth(1).and_then(|p| p.parse::<i32>().ok()) == Some(parent)
        })
        .collect()
}

/// True while `pid` runs (a zombie, already exited, counts as gone).
fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()) != Some("Z"),
        Err(_) => false,
    }
}

fn terminate(pid: i32) {
    // SAFETY: plain kill(2); the worst case is ESRCH for a process already gone.
    unsafe { libc::kill(pid, libc::SIGTERM) };
}

/// Processes whose command line is `app ... <data_dir> ...` (Linux /proc).
pub fn app_pids(app: &Path, data_dir: &Path) -> Vec<i32> {
    let app = app.as_os_str().as_encoded_bytes();
    let dir = data_dir.as_os_str().as_encoded_bytes();
    pids()
        .filter(|pid| {
            let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else { return false };
            let mut argv = cmdline.split(|b| *b == 0);
            argv.next() == Some(app) && argv.any(|arg| arg == dir)
        })
        .collect()
}
