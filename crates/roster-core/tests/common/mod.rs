//! Helpers shared by the integration tests: a session against the simulator.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use roster_core::{ConnectionState, DataDir, Session, SessionConfig, SessionSnapshot, parse_server_url};
use roster_sim::{PersonReport, SimHandle, WorldReport};

/// The LIDs the server's blocklist holds, as `GET /admin/world` shows them.
pub fn world_blocked_lids(sim: &SimHandle) -> BTreeSet<String> {
    blocked_lids(&sim.world())
}

/// The LIDs `world`'s blocklist holds.
pub fn blocked_lids(world: &WorldReport) -> BTreeSet<String> {
    world.blocklist.iter().map(|b| b.lid.clone()).collect()
}

/// The people of `world` nobody has blocked, in the world's order.
pub fn not_blocked(world: &WorldReport) -> impl Iterator<Item = &PersonReport> {
    let blocked = blocked_lids(world);
    world.people.iter().filter(move |p| !blocked.contains(&p.lid))
}

/// The phone's address book: phone → the name it is saved under.
pub fn address_book(sim: &SimHandle) -> BTreeMap<String, String> {
    sim.world().people.into_iter().filter_map(|p| Some((p.phone, p.saved_name?))).collect()
}

/// How long a test waits for a condition before it fails: generous, because
/// CI machines are busy; a passing wait returns as soon as the condition holds.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("roster-login-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub async fn start_session(dir: &Path, sim: &SimHandle) -> Arc<Session> {
    start_session_at(dir, &sim.ws_url()).await
}

pub async fn start_session_at(dir: &Path, url: &str) -> Arc<Session> {
    start_session_with(dir, url, roster_core::PICTURE_MAX_AGE).await
}

pub async fn start_session_with(dir: &Path, url: &str, picture_max_age: Duration) -> Arc<Session> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    Session::start(SessionConfig {
        data_dir: DataDir::open(dir).expect("data dir"),
        server: Some(parse_server_url(url).expect("loopback url")),
        device_name: "Roster test".into(),
        picture_max_age,
    })
    .await
    .expect("session starts")
}

pub async fn wait(session: &Session, what: &str, done: impl FnMut(&SessionSnapshot) -> bool) -> SessionSnapshot {
    match session.wait_for(DEADLINE, done).await {
        Some(s) => s,
        None => panic!("timed out waiting for {what}; last snapshot: {:?}", session.snapshot()),
    }
}

/// Waits until roster.db holds the phone's history sync: its chat list, and
/// the LID and push name of everyone the phone knows.
pub async fn wait_for_history(session: &Session, sim: &SimHandle) {
    let world = sim.world();
    let known: Vec<&PersonReport> = world.people.iter().filter(|p| p.known_to_phone).collect();
    let saved = |p: &PersonReport| {
        let row = session.directory().contact(&p.phone).expect("directory readable");
        row.is_some_and(|r| r.lid.as_deref() == Some(p.lid.as_str()) && r.push_name.is_some())
    };
    wait(session, "the phone's history sync", |s| s.chat_count == world.chats.len() && known.iter().all(|p| saved(p)))
        .await;
}

/// Pairs a new session by scanning its QR code with the simulated phone.
pub async fn pair(dir: &Path, sim: &SimHandle) -> Arc<Session> {
    let session = start_session(dir, sim).await;
    let shown = wait(&session, "a QR code", |s| s.qr.is_some()).await;
    assert_eq!(shown.state, ConnectionState::WaitingForScan);
    let qr = shown.qr.expect("qr");
    assert!(qr.svg.contains("<svg"), "the QR code is rendered as SVG");
    sim.scan_qr(&qr.code).expect("the phone accepts the QR code");
    wait(&session, "connected", |s| s.state == ConnectionState::Connected).await;
    session
}
