//! The installable package, as an operator gets it: the `.deb` that
//! `scripts/package.sh` builds is installed with apt, the installed
//! `roster --sandbox` is started in a real window under Xvfb (it hands over
//! to the sandbox build installed beside it) and shows a QR code, which the
//! sandbox's phone then scans; the package is removed again.
//!
//! Needs root, the package, an X display, tauri-driver and WebKitWebDriver;
//! `scripts/test.sh` builds the package and runs this with `--ignored`:
//!
//!     bash scripts/package.sh --profile dev
//!     xvfb-run -a cargo test --workspace --features roster/sandbox,roster-core/sandbox \
//!         --test installed_package -- --ignored
#![cfg(feature = "sandbox")]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use support::{Shots, TauriDriver, wait_until};

const INSTALLED: &str = "/usr/bin/roster";
const INSTALLED_SANDBOX: &str = "/usr/lib/roster/roster-sandbox";
const STEP: Duration = Duration::from_secs(60);

/// The newest package `scripts/package.sh` left.
fn package() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/package");
    let mut debs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no {} ({e}): run scripts/package.sh first", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    debs.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    debs.pop().unwrap_or_else(|| panic!("no .deb in {}: run scripts/package.sh first", dir.display()))
}

fn run(what: &str, command: &mut Command) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} failed: {text}");
    text
}

/// Removes the package when the test ends, failed or not.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let removed = Command::new("dpkg").args(["-r", "roster"]).status();
        if !removed.as_ref().is_ok_and(|s| s.success()) && !std::thread::panicking() {
            panic!("dpkg -r roster failed: {removed:?}");
        }
    }
}

#[test]
#[ignore = "needs root and the .deb from scripts/package.sh; scripts/test.sh runs it after packaging"]
fn the_deb_installs_runs_the_sandbox_and_uninstalls() {
    let deb = package();
    let info = run("dpkg-deb --info", Command::new("dpkg-deb").arg("--info").arg(&deb));
    assert!(info.contains("Package: roster"), "{info}");
    assert!(info.contains("libwebkit2gtk-4.1-0"), "the webview is a declared dependency: {info}");
    run("apt-get install", Command::new("apt-get").args(["install", "-y", "-qq", "--no-install-recommends"]).arg(&deb));
    let installed = Installed;
    let files = run("dpkg -L roster", Command::new("dpkg").args(["-L", "roster"]));
    for path in [INSTALLED, INSTALLED_SANDBOX, "/usr/share/applications/roster-sandbox.desktop"] {
        assert!(files.lines().any(|l| l == path), "{path} is installed: {files}");
    }
    let desktop = files.lines().find(|l| l.starts_with("/usr/share/applications/") && !l.contains("sandbox"));
    assert!(desktop.is_some(), "a desktop entry: {files}");
    // The installed default build verifies certificates; it says so.
    let version = run("roster --version", Command::new(INSTALLED).arg("--version"));
    assert!(!version.contains("sandbox"), "{version}");

    let data_dir = tempfile::Builder::new().prefix("installed-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let shots = Shots::new("installed");
    // After the hand-over the process runs the sandbox build: that is how its pid is found.
    let driver =
        TauriDriver::start(Path::new(INSTALLED_SANDBOX), data_dir.path(), shots.dir.join("tauri-driver-installed.log"));
    let args = vec!["--sandbox".to_owned(), "--data-dir".to_owned(), data_dir.path().display().to_string()];
    let session = driver.launch(Path::new(INSTALLED), &args, "start the installed app");
    let read = || {
        session
            .execute(
                "return { state: document.body.dataset.state || '', qr: document.getElementById('qr').dataset.qr || '', title: document.title };",
                json!([]),
            )
            .map_err(|e| e.to_string())
    };
    wait_until(STEP, "the installed app to show a QR code", || {
        let seen = read()?;
        if seen["qr"].as_str().is_some_and(|q| !q.is_empty()) { Ok(Some(())) } else { Err(seen.to_string()) }
    });
    shots.take(&session, "01-qr");
    // The sandbox's phone scans it by itself.
    wait_until(STEP, "the sandbox's phone to link it", || {
        let seen = read()?;
        if seen["state"] == "connected" { Ok(Some(())) } else { Err(seen.to_string()) }
    });
    shots.take(&session, "02-connected");
    driver.quit_app(Duration::from_secs(20));
    drop(session);
    drop(driver);

    drop(installed);
    assert!(!Path::new(INSTALLED).exists(), "removed");
    assert!(!Path::new(INSTALLED_SANDBOX).exists(), "removed");
}
