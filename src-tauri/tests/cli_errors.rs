//! Bad input on the command line: each case is refused with a clear message
//! on stderr and exit code 2, before any window opens, and nothing on disk
//! is created, changed or deleted.

use std::path::PathBuf;
use std::process::{Command, Output};

fn roster(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("run roster")
}

fn temp_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("roster-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    path
}

fn assert_refused(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit code; stderr: {stderr}");
    assert!(stderr.contains(needle), "stderr should say {needle:?}, got: {stderr}");
}

#[test]
fn an_unknown_server_scheme_is_refused() {
    let dir = temp_path("scheme");
    let out = roster(&["--server", "http://127.0.0.1:9/ws/chat", "--data-dir", dir.to_str().unwrap()]);
    assert_refused(&out, "unsupported server scheme 'http'");
    assert!(!dir.exists(), "no data directory is created for a refused server");
}

#[test]
fn a_malformed_server_is_refused() {
    let dir = temp_path("malformed");
    let out = roster(&["--server", "not a url", "--data-dir", dir.to_str().unwrap()]);
    assert_refused(&out, "is not a server URL");
    assert!(!dir.exists());
}

#[cfg(feature = "sandbox")]
#[test]
fn a_sandbox_build_refuses_a_non_loopback_server() {
    let dir = temp_path("remote");
    let out = roster(&["--server", "wss://web.whatsapp.com/ws/chat", "--data-dir", dir.to_str().unwrap()]);
    assert_refused(&out, "only connects to loopback servers");
    assert!(!dir.exists());
}

#[test]
fn a_corrupt_session_store_is_reported_and_kept() {
    let dir = temp_path("corrupt");
    std::fs::create_dir_all(&dir).unwrap();
    let store = dir.join("session.db");
    let junk = b"definitely not a SQLite database, but someone's keys might be in here".to_vec();
    std::fs::write(&store, &junk).unwrap();
    let out = roster(&["--server", "ws://127.0.0.1:9/ws/chat", "--data-dir", dir.to_str().unwrap()]);
    assert_refused(&out, "not a readable SQLite database");
    assert_eq!(std::fs::read(&store).unwrap(), junk, "the store is left exactly as it was");
    let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries.len(), 1, "nothing else was written: {entries:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_data_dir_that_is_a_file_is_refused_and_kept() {
    let path = temp_path("file");
    std::fs::write(&path, b"notes").unwrap();
    let out = roster(&["--server", "ws://127.0.0.1:9/ws/chat", "--data-dir", path.to_str().unwrap()]);
    assert_refused(&out, "is not a directory");
    assert_eq!(std::fs::read(&path).unwrap(), b"notes");
    std::fs::remove_file(path).unwrap();
}

/// A data directory another Roster holds (here: this test, which took its
/// lock) is refused with the holder's process id; the second start creates
/// no database, log or socket in it. The running one not answering, the
/// exit code is 3.
#[test]
fn a_data_directory_in_use_is_refused_naming_the_process() {
    let dir = temp_path("in-use");
    let (_data_dir, lock) = roster_core::DataDir::open_locked(&dir).unwrap();
    let mut args = vec!["--data-dir", dir.to_str().unwrap()];
    if cfg!(feature = "sandbox") {
        args.push("--sandbox");
    }
    let out = roster(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "exit code; stderr: {stderr}");
    assert!(stderr.contains(&format!("in use by Roster process {}", std::process::id())), "{stderr}");
    let mut left: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["roster.lock"], "nothing else was created");
    drop(lock);
    std::fs::remove_dir_all(&dir).unwrap();
}
