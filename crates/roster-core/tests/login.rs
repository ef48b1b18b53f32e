//! QR login end to end: the real whatsapp-rust client, through roster-core,
//! against the protocol simulator over a real WebSocket, with the real SQLite
//! session store on disk.

mod common;

use std::path::Path;

use common::{DEADLINE, pair, start_session, temp_dir, wait};
use roster_core::ConnectionState;
use roster_sim::{SimConfig, Simulator};

/// A consistent copy of the session store (WAL included), as a backup tool would take.
fn copy_store(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let conn = rusqlite_open(&from.join("session.db"));
    conn.execute("VACUUM INTO ?1", [to.join("session.db").to_string_lossy().as_ref()]).unwrap();
}

fn rusqlite_open(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("open session store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairs_reconnects_from_store_logs_out_and_is_refused_after() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let dir = temp_dir("full");

    let session = pair(&dir, &sim).await;
    let world = sim.world();
    let account = session.snapshot().account.expect("account shown once connected");
    assert_eq!(account.phone, format!("+{}", world.account.phone));
    assert_eq!(account.push_name, world.account.push_name);
    assert_eq!(world.account.devices.len(), 1, "the phone lists one linked device");

    // Restart: a new session on the same data dir logs in from the SQLite store, with no QR.
    session.shutdown().await;
    let session = start_session(&dir, &sim).await;
    // The window shows the account at once, from Roster's saved data, while
    // the client is still being built.
    let first = session.snapshot();
    assert_eq!(first.account.as_ref().map(|a| a.phone.as_str()), Some(account.phone.as_str()), "{first:?}");
    // Both databases (device keys; contacts and checks) are the owner's alone.
    #[cfg(unix)]
    for entry in std::fs::read_dir(&dir).unwrap() {
        use std::os::unix::fs::PermissionsExt;
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("session.db") || name.starts_with("roster.db") {
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name} is {mode:o}");
        }
    }
    let mut updates = session.subscribe();
    let connected = tokio::time::timeout(DEADLINE, async {
        loop {
            let snapshot = updates.borrow_and_update().clone();
            assert!(snapshot.qr.is_none(), "a stored device must not be asked to scan again: {snapshot:?}");
            if snapshot.state == ConnectionState::Connected {
                return snapshot;
            }
            updates.changed().await.expect("session alive");
        }
    })
    .await
    .expect("reconnected from the stored device");
    assert_eq!(connected.account.unwrap().phone, account.phone);

    // An in-session reconnect also comes back without pairing. Until the
    // client reports the drop, the snapshot still shows the old connection,
    // so wait for the server to have seen the new login.
    let logins = sim.logins();
    session.reconnect().await.unwrap();
    wait(&session, "connected after reconnect", |s| s.state == ConnectionState::Connected && sim.logins() > logins)
        .await;

    // Keep a copy of the keys, then log out: the phone forgets the device and the window asks for a new scan.
    let backup = temp_dir("backup");
    copy_store(&dir, &backup);
    session.logout().await.unwrap();
    let after = wait(&session, "a fresh QR after logout", |s| s.qr.is_some()).await;
    assert_eq!(after.state, ConnectionState::WaitingForScan);
    assert!(after.account.is_none());
    assert!(sim.world().account.devices.is_empty(), "logout unlinks the device on the phone");
    session.shutdown().await;

    // The unlinked device's keys are refused by the server.
    let stale = start_session(&backup, &sim).await;
    let refused =
        wait(&stale, "the stale device to be refused", |s| matches!(s.state, ConnectionState::LoggedOut { .. })).await;
    let ConnectionState::LoggedOut { reason } = refused.state else { unreachable!() };
    assert!(reason.contains("unlinked"), "{reason}");
    stale.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_noise_key_at_login_is_refused() {
    let sim = Simulator::start(SimConfig { seed: 2, ..SimConfig::default() }).await.unwrap();
    let dir = temp_dir("noise");
    let session = pair(&dir, &sim).await;
    session.shutdown().await;

    // Swap the stored noise key for another valid key pair: same account, wrong key.
    let mut rng: rand::rngs::StdRng = rand::make_rng();
    let other = wacore_libsignal::protocol::KeyPair::generate(&mut rng);
    let mut blob = other.private_key.serialize().to_vec();
    blob.extend_from_slice(other.public_key.public_key_bytes());
    let conn = rusqlite_open(&dir.join("session.db"));
    let changed = conn.execute("UPDATE device SET noise_key = ?1", [blob]).unwrap();
    assert_eq!(changed, 1);
    drop(conn);

    let session = start_session(&dir, &sim).await;
    wait(&session, "refusal", |s| matches!(s.state, ConnectionState::LoggedOut { .. })).await;
    assert_eq!(sim.world().account.devices.len(), 1, "the real device stays linked");
    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removal_from_the_phone_logs_the_window_out() {
    let sim = Simulator::start(SimConfig { seed: 3, ..SimConfig::default() }).await.unwrap();
    let dir = temp_dir("removed");
    let session = pair(&dir, &sim).await;
    assert_eq!(sim.remove_devices(None).len(), 1);
    let out = wait(&session, "logged out", |s| matches!(s.state, ConnectionState::LoggedOut { .. })).await;
    let ConnectionState::LoggedOut { reason } = out.state else { unreachable!() };
    assert!(reason.contains("unlinked"), "{reason}");
    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qr_code_the_server_never_issued_is_refused_by_the_phone() {
    let sim = Simulator::start(SimConfig { seed: 4, ..SimConfig::default() }).await.unwrap();
    let dir = temp_dir("badqr");
    let session = start_session(&dir, &sim).await;
    let shown = wait(&session, "a QR code", |s| s.qr.is_some()).await;
    let code = shown.qr.unwrap().code;
    let forged = code.replacen("2@", "2@forged", 1);
    assert!(matches!(sim.scan_qr(&forged), Err(roster_sim::ScanError::UnknownRef(_))));
    assert!(matches!(sim.scan_qr("not a qr code"), Err(roster_sim::ScanError::Fields(1))));
    assert!(sim.world().account.devices.is_empty());
    assert_eq!(session.snapshot().state, ConnectionState::WaitingForScan);
    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_remembers_linked_devices_across_simulator_restarts() {
    let dir = temp_dir("persist");
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("sim-state.json");
    let config = SimConfig { seed: 5, state_path: Some(state.clone()), ..SimConfig::default() };

    let sim = Simulator::start(config.clone()).await.unwrap();
    let session = pair(&dir, &sim).await;
    session.shutdown().await;
    sim.shutdown().await;
    assert!(state.exists(), "the simulator saved its linked devices");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the saved state is the owner's alone");
    }

    // Same seed and state file: the stored device logs straight back in.
    let sim = Simulator::start(config).await.unwrap();
    assert_eq!(sim.world().account.devices.len(), 1);
    let session = start_session(&dir, &sim).await;
    let back = wait(&session, "connected after the simulator restart", |s| {
        s.state == ConnectionState::Connected || s.qr.is_some()
    })
    .await;
    assert_eq!(back.state, ConnectionState::Connected, "no new QR scan needed");
    session.shutdown().await;
    sim.shutdown().await;

    // Another seed's world refuses the file instead of mixing accounts.
    let other = Simulator::start(SimConfig { seed: 6, state_path: Some(state), ..SimConfig::default() }).await;
    let err = other.err().expect("state of another seed is refused").to_string();
    assert!(err.contains("another seed"), "{err}");
}

/// A session store whatsapp-rust cannot use (a SQLite file with a table of
/// the same name but another shape, as another program could leave): the
/// session still opens on Roster's saved data, says the client could not
/// start and why, and "Reconnect now" tries again and says so again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_cannot_start_is_reported_and_the_saved_data_stays() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let dir = temp_dir("unusable-store");
    std::fs::create_dir_all(&dir).unwrap();
    rusqlite_open(&dir.join("session.db")).execute_batch("CREATE TABLE identities (something_else TEXT);").unwrap();

    let session = start_session(&dir, &sim).await;
    let stopped = wait(&session, "the client to be reported as not started", |s| {
        matches!(s.state, ConnectionState::Stopped { .. })
    })
    .await;
    let ConnectionState::Stopped { reason } = &stopped.state else { unreachable!() };
    assert!(reason.contains("session.db"), "the reason names the store: {reason}");
    assert_eq!(sim.logins(), 0, "nothing reached the server");
    assert!(session.blocklist().entries().unwrap().is_empty(), "the saved data is still readable");

    let error = session.retry_now().await.expect_err("the store is still unusable");
    assert!(error.to_string().contains("session.db"), "{error}");
    assert!(matches!(session.snapshot().state, ConnectionState::Stopped { .. }), "{:?}", session.snapshot());
    session.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
