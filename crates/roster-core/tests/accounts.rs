//! Several accounts in one data directory, against one simulator holding
//! several phones: each account's folder, session and world stay its own;
//! a single-account data directory made by the one-account layout opens
//! as account 1 with nothing lost. Expectations come from each account's
//! world (`SimHandle::world_of`).

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{DEADLINE, blocked_lids, start_session, temp_dir, wait};
use roster_core::{Accounts, ConnectionState, DataDir, Session, SessionConfig, parse_server_url};
use roster_sim::faults::ConnectionFault;
use roster_sim::{SimConfig, SimHandle, Simulator, WorldReport};

/// Starts a session on an account folder.
async fn start_account(dir: DataDir, sim: &SimHandle) -> Arc<Session> {
    Session::start(SessionConfig {
        data_dir: dir,
        server: Some(parse_server_url(&sim.ws_url()).expect("loopback url")),
        device_name: "Roster test".into(),
        picture_max_age: roster_core::PICTURE_MAX_AGE,
    })
    .await
    .expect("session starts")
}

/// Waits until the session holds `world`'s address book and blocklist.
async fn wait_for_world(session: &Session, world: &WorldReport, what: &str) {
    let saved: Vec<_> = world.people.iter().filter(|p| p.saved_name.is_some()).collect();
    let blocked = world.blocklist.len();
    wait(session, what, |s| {
        s.blocked_count == Some(blocked)
            && saved.iter().all(|p| session.directory().contact(&p.phone).ok().flatten().is_some())
    })
    .await;
}

/// The LIDs the session's own blocklist holds.
fn session_blocked(session: &Session) -> BTreeSet<String> {
    session.blocklist().entries().expect("blocklist readable").into_iter().map(|e| e.lid).collect()
}

/// Waits (with a deadline) until `done` holds of the simulator.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_one_by_qr_one_by_code_keep_to_their_own_worlds() {
    let sim = Simulator::start(SimConfig { seed: 41, accounts: 2, ..SimConfig::default() }).await.unwrap();
    let (one, two) = (sim.world_of(1), sim.world_of(2));
    assert_ne!(one.account.phone, two.account.phone, "each phone has its own number");

    let top = temp_dir("accounts-two");
    let (data, _lock) = DataDir::open_locked(&top).unwrap();
    let accounts = Accounts::open(&data).unwrap();
    let (id_a, dir_a) = accounts.create().unwrap();
    let (id_b, dir_b) = accounts.create().unwrap();

    // Account A: its QR code scanned by phone 1.
    let a = start_account(dir_a.clone(), &sim).await;
    let qr = wait(&a, "A's QR code", |s| s.qr.is_some()).await.qr.unwrap();
    assert!(
        matches!(sim.account(2).scan_qr("not a qr"), Err(roster_sim::ScanError::Fields(_))),
        "junk is refused by any phone"
    );
    sim.account(1).scan_qr(&qr.code).expect("phone 1 links A");
    // Account B: a code for phone 2's number, typed on phone 2.
    let b = start_account(dir_b.clone(), &sim).await;
    wait(&b, "B's QR code", |s| s.qr.is_some()).await;
    let code = b.link_with_code(&two.account.phone).await.expect("a code for phone 2");
    sim.account(2).enter_pair_code(&code.code).await.expect("phone 2 links B");

    let sa = wait(&a, "A connected", |s| s.state == ConnectionState::Connected).await;
    let sb = wait(&b, "B connected", |s| s.state == ConnectionState::Connected).await;
    assert_eq!(sa.account.map(|x| x.phone), Some(format!("+{}", one.account.phone)));
    assert_eq!(sb.account.map(|x| x.phone), Some(format!("+{}", two.account.phone)));
    assert_eq!(sim.world_of(1).account.devices.len(), 1, "phone 1 linked A only");
    assert_eq!(sim.world_of(2).account.devices.len(), 1, "phone 2 linked B only");

    // Each sees its own world's contacts and blocklist, not the other's.
    wait_for_world(&a, &sim.world_of(1), "A holds world 1").await;
    wait_for_world(&b, &sim.world_of(2), "B holds world 2").await;
    assert_eq!(session_blocked(&a), blocked_lids(&sim.world_of(1)));
    assert_eq!(session_blocked(&b), blocked_lids(&sim.world_of(2)));
    let phones = |w: &WorldReport| w.people.iter().map(|p| p.phone.clone()).collect::<BTreeSet<_>>();
    let only_two: Vec<_> =
        two.people.iter().filter(|p| p.saved_name.is_some() && !phones(&one).contains(&p.phone)).collect();
    assert!(!only_two.is_empty(), "the worlds differ");
    for p in &only_two {
        assert!(a.directory().contact(&p.phone).unwrap().is_none(), "A never sees world 2's {}", p.phone);
    }

    // A block on A changes world 1 only.
    let before_two = blocked_lids(&sim.world_of(2));
    let target = one
        .people
        .iter()
        .find(|p| !blocked_lids(&one).contains(&p.lid) && p.saved_name.is_some())
        .expect("someone to block");
    a.blocklist().set_blocked(&target.phone, true).await.expect("A blocks");
    assert!(blocked_lids(&sim.world_of(1)).contains(&target.lid), "world 1 blocked them");
    assert_eq!(blocked_lids(&sim.world_of(2)), before_two, "world 2 unchanged");
    wait(&a, "A's count moves", |s| s.blocked_count == Some(one.blocklist.len() + 1)).await;
    assert_eq!(b.snapshot().blocked_count, Some(two.blocklist.len()), "B's count unchanged");
    assert_eq!(session_blocked(&b), before_two);

    // Both reconnect after their connections are dropped.
    let logins = sim.logins();
    assert_eq!(sim.inject(ConnectionFault::Drop), 2, "one connection per account");
    until("both accounts to log in again", || {
        sim.logins() >= logins + 2 && sim.world_of(1).live_connections == 1 && sim.world_of(2).live_connections == 1
    })
    .await;
    wait(&a, "A connected again", |s| s.state == ConnectionState::Connected).await;
    wait(&b, "B connected again", |s| s.state == ConnectionState::Connected).await;
    a.blocklist().set_blocked(&target.phone, false).await.expect("A unblocks on its new connection");
    assert!(!blocked_lids(&sim.world_of(1)).contains(&target.lid));
    assert_eq!(b.blocklist().refresh().await.expect("B reads its list"), before_two.len());

    // Removing B logs it out and deletes its folder; A is untouched.
    let a_files = std::fs::read_dir(dir_a.path()).unwrap().count();
    b.remove_account().await.expect("B logs out");
    accounts.remove(id_b).unwrap();
    assert!(sim.world_of(2).account.devices.is_empty(), "phone 2 forgot B");
    assert_eq!(sim.world_of(1).account.devices.len(), 1, "phone 1 still has A");
    assert_eq!(accounts.ids().unwrap(), vec![id_a]);
    assert!(!dir_b.path().exists());
    assert_eq!(std::fs::read_dir(dir_a.path()).unwrap().count(), a_files);
    assert_eq!(a.snapshot().state, ConnectionState::Connected);
    assert_eq!(a.blocklist().refresh().await.expect("A still works"), one.blocklist.len());

    a.shutdown().await;
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(top);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_account_data_directory_opens_as_account_one_with_nothing_lost() {
    let sim = Simulator::start(SimConfig { seed: 42, accounts: 2, ..SimConfig::default() }).await.unwrap();
    let top = temp_dir("accounts-migrate");

    // The fixture: a data directory as the one-account layout leaves it,
    // made by linking a session whose stores sit at its top.
    let legacy = start_session(&top, &sim).await;
    let qr = wait(&legacy, "a QR code", |s| s.qr.is_some()).await.qr.unwrap();
    sim.scan_qr(&qr.code).unwrap();
    wait(&legacy, "connected", |s| s.state == ConnectionState::Connected).await;
    wait_for_world(&legacy, &sim.world(), "the world synced").await;
    let before = legacy.snapshot();
    let blocked = session_blocked(&legacy);
    legacy.shutdown().await;
    drop(legacy);
    assert!(top.join("session.db").exists() && top.join("roster.db").exists(), "the one-account layout");

    // Opened with accounts: migrated into account 1.
    let (data, _lock) = DataDir::open_locked(&top).unwrap();
    let accounts = Accounts::open(&data).unwrap();
    assert_eq!(accounts.ids().unwrap(), vec![1]);
    assert!(!top.join("session.db").exists() && !top.join("roster.db").exists(), "moved, not copied");
    let logins = sim.logins();
    let session = start_account(accounts.dir(1).unwrap(), &sim).await;
    // Read from the moved roster.db before any network answer.
    let first = session.snapshot();
    assert_eq!(first.contact_count, before.contact_count);
    assert_eq!(session_blocked(&session), blocked);
    // The moved session store logs in: no new QR, no new device.
    let s = wait(&session, "logged in again", |s| s.state == ConnectionState::Connected || s.qr.is_some()).await;
    assert_eq!(s.state, ConnectionState::Connected, "no QR code needed: {s:?}");
    assert!(sim.logins() > logins);
    assert_eq!(sim.world().account.devices.len(), 1, "still the one device");
    assert_eq!(s.account.map(|a| a.phone), before.account.map(|a| a.phone));
    session.shutdown().await;
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(top);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_routes_take_the_account_and_mean_account_one_without_it() {
    let sim =
        Simulator::start(SimConfig { seed: 43, accounts: 2, contacts: 40, ..SimConfig::default() }).await.unwrap();
    let base = sim.http_url();
    let (one, two) = (sim.world_of(1), sim.world_of(2));
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).http_status_as_error(false).build().into();
        let get = |path: &str| {
            let mut answer = agent.get(&format!("{base}{path}")).call().unwrap();
            (answer.status().as_u16(), answer.body_mut().read_to_string().unwrap())
        };
        let phone_of = |body: &str| serde_json::from_str::<WorldReport>(body).unwrap().account.phone;
        assert_eq!(phone_of(&get("/admin/world").1), one.account.phone, "no parameter: account 1");
        assert_eq!(phone_of(&get("/admin/world?account=2").1), two.account.phone);
        assert_eq!(get("/admin/world?account=3").0, 404);
        assert_eq!(get("/admin/world?account=two").0, 400);
        let (status, list) = get("/admin/accounts");
        assert_eq!(status, 200);
        let list: serde_json::Value = serde_json::from_str(&list).unwrap();
        assert_eq!(list[1]["phone"], two.account.phone.as_str());

        // The phone of account 2 blocks someone: only world 2 changes.
        let target = two.people.iter().find(|p| !blocked_lids(&two).contains(&p.lid)).unwrap();
        let answer = agent.post(&format!("{base}/admin/mock-phone/block?account=2")).send(target.phone.as_str());
        assert_eq!(answer.unwrap().status().as_u16(), 200);
        (target.lid.clone(), one)
    })
    .await
    .map(|(lid, one)| {
        assert!(blocked_lids(&sim.world_of(2)).contains(&lid));
        assert_eq!(blocked_lids(&sim.world_of(1)), blocked_lids(&one), "world 1 unchanged");
    })
    .unwrap();
    sim.shutdown().await;
}
