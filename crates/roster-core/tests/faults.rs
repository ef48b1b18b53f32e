//! Faults injected by the simulator (dropped sockets, silence, late and
//! failed replies, stream errors, bad frames, an outage), with the real
//! client. After each, the operator's action happened exactly once or was
//! reported failed with nothing changed, and the saved data is intact.
//! Expectations come from the simulator's world (`GET /admin/world`).

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{address_book, not_blocked, pair, temp_dir, wait, world_blocked_lids};
use roster_core::{BlockError, ConnectionState, JobState, PictureState, Scope, Session, SessionSnapshot, SyncError};
use roster_sim::faults::{Armed, ConnectionFault, IqAction};
use roster_sim::{SimConfig, SimHandle, Simulator};

async fn start(seed: u64, name: &str) -> (SimHandle, Arc<Session>) {
    let sim = Simulator::start(SimConfig { seed, contacts: 120, ..SimConfig::default() }).await.unwrap();
    let session = pair(&temp_dir(name), &sim).await;
    let blocked = world_blocked_lids(&sim).len();
    let book = address_book(&sim).len();
    // The background fetches after connecting are done, so faults armed
    // from here on hit the test's own requests.
    wait(&session, "the blocklist and the address book", |s| {
        s.blocked_count == Some(blocked) && s.contact_count == book
    })
    .await;
    (sim, session)
}

/// People nobody has blocked yet: (phone, lid).
fn unblocked(sim: &SimHandle) -> Vec<(String, String)> {
    not_blocked(&sim.world()).map(|p| (p.phone.clone(), p.lid.clone())).collect()
}

/// The server's record of block/unblock requests for `lid`: (action, changed the list).
fn requests_for(sim: &SimHandle, lid: &str) -> Vec<(String, bool)> {
    sim.world().blocklist_requests.into_iter().filter(|r| r.lid == lid).map(|r| (r.action, r.changed)).collect()
}

fn assert_blocklist_is_the_servers(sim: &SimHandle, session: &Session, step: &str) {
    let expected = world_blocked_lids(sim);
    let stored: BTreeSet<String> = session.blocklist().entries().unwrap().into_iter().map(|e| e.lid).collect();
    assert_eq!(stored, expected, "{step}: the saved blocklist is the server's");
    assert_eq!(session.snapshot().blocked_count, Some(expected.len()), "{step}: the header count is the server's");
}

/// The audit log's (action, outcome) pairs, oldest first.
fn audit(session: &Session) -> Vec<(String, String)> {
    let mut rows: Vec<_> = session
        .audit()
        .page(0, 500)
        .unwrap()
        .rows
        .into_iter()
        .map(|e| (e.action, e.outcome.as_str().to_owned()))
        .collect();
    rows.reverse();
    rows
}

/// Records every connection state the session passes through.
fn record_states(session: &Arc<Session>) -> Arc<Mutex<Vec<ConnectionState>>> {
    let seen = Arc::new(Mutex::new(vec![session.snapshot().state]));
    let (mut rx, log) = (session.subscribe(), seen.clone());
    tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let state = rx.borrow_and_update().state.clone();
            let mut log = log.lock().unwrap();
            if log.last() != Some(&state) {
                log.push(state);
            }
        }
    });
    seen
}

async fn connected_again(session: &Session, what: &str) -> SessionSnapshot {
    match session.wait_for(Duration::from_secs(90), |s| s.state == ConnectionState::Connected).await {
        Some(s) => s,
        None => panic!("not connected again after {what}: {:?}", session.snapshot().state),
    }
}

/// Waits (with a deadline) until the simulator has seen `n` chat connections.
async fn connections_reach(sim: &SimHandle, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while sim.connections_opened() < n {
        assert!(Instant::now() < deadline, "the client did not reconnect: {} connections", sim.connections_opened());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_cut_off_by_a_dropped_socket_happens_exactly_once() {
    let (sim, session) = start(61, "faults-drop-block").await;
    let people = unblocked(&sim);
    let opened = sim.connections_opened();

    // 1. The socket drops before the server sees the block: sent again once connected.
    let (phone, lid) = &people[0];
    sim.arm_fault(Armed::next("blocklist", IqAction::DropBefore).of_type("set"));
    let outcome = session.blocklist().set_blocked(phone, true).await.expect("the block completes after the reconnect");
    assert!(outcome.blocked && &outcome.lid == lid);
    assert!(world_blocked_lids(&sim).contains(lid));
    assert_eq!(outcome.count, world_blocked_lids(&sim).len(), "the count is the server's");
    assert_eq!(requests_for(&sim, lid), [("block".to_owned(), true)], "the server saw the block once");
    assert!(sim.connections_opened() > opened, "the client reconnected");
    assert_blocklist_is_the_servers(&sim, &session, "after a drop before the block");

    // 2. The server applies the block, then the socket drops before the reply:
    //    the app cannot know it worked, sends it again, and the repeat changes nothing.
    let (phone, lid) = &people[1];
    sim.arm_fault(Armed::next("blocklist", IqAction::DropAfter).of_type("set"));
    let outcome = session.blocklist().set_blocked(phone, true).await.expect("the block completes after the reconnect");
    assert_eq!(outcome.count, world_blocked_lids(&sim).len());
    assert_eq!(
        requests_for(&sim, lid),
        [("block".to_owned(), true), ("block".to_owned(), false)],
        "sent twice, applied once: the repeat left the list as it was"
    );
    assert_blocklist_is_the_servers(&sim, &session, "after a drop after the block");

    // 3. The same for an unblock.
    sim.arm_fault(Armed::next("blocklist", IqAction::DropAfter).of_type("set"));
    let outcome =
        session.blocklist().set_blocked(phone, false).await.expect("the unblock completes after the reconnect");
    assert!(!outcome.blocked && !world_blocked_lids(&sim).contains(lid));
    assert_blocklist_is_the_servers(&sim, &session, "after a drop after the unblock");

    let actions = audit(&session);
    assert_eq!(
        actions,
        [("block", "done"), ("block", "done"), ("unblock", "done")].map(|(a, o)| (a.to_owned(), o.to_owned())),
        "one audit entry per operator action, each done"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_on_blocklist_and_picture_are_reported_and_change_nothing() {
    let (sim, session) = start(62, "faults-errors").await;
    let before = world_blocked_lids(&sim);
    let (phone, lid) = unblocked(&sim).remove(0);

    for code in [500u16, 503] {
        sim.arm_fault(Armed::next("blocklist", IqAction::Error { code, text: "server-error".into() }).of_type("set"));
        let error = session.blocklist().set_blocked(&phone, true).await.expect_err("a refused block is reported");
        assert!(matches!(error, BlockError::Refused { code: c, .. } if c == code), "{error:?}");
        let message = error.to_string();
        assert!(message.contains(&code.to_string()) && message.contains("refused"), "a clear message: {message}");
        assert_eq!(world_blocked_lids(&sim), before, "nothing was blocked after a {code}");
        assert!(requests_for(&sim, &lid).is_empty(), "the server changed nothing");
        assert_blocklist_is_the_servers(&sim, &session, &format!("after a {code}"));
    }
    assert_eq!(session.snapshot().state, ConnectionState::Connected, "a server error is not a disconnection");

    // A picture: the error is reported; asked again, it is shown.
    let world = sim.world();
    let visible = world
        .people
        .iter()
        .find(|p| p.picture_visible && p.picture_id.is_some() && p.saved_name.is_some())
        .expect("someone with a visible picture");
    let phone = visible.phone.as_str();
    sim.arm_fault(Armed::next(
        "w:profile:picture",
        IqAction::Error { code: 500, text: "internal-server-error".into() },
    ));
    let failed = session.directory().avatar(phone).await;
    assert!(failed.is_err(), "a picture refused with 500 is an error, not an empty picture: {failed:?}");
    let avatar = session.directory().avatar(phone).await.expect("asked again, the picture comes");
    assert_eq!(avatar.picture_state, PictureState::Shown);
    assert!(avatar.picture.is_some_and(|p| p.starts_with("data:image/jpeg;base64,")));

    let actions = audit(&session);
    assert_eq!(actions, [("block", "failed"), ("block", "failed")].map(|(a, o)| (a.to_owned(), o.to_owned())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_check_and_a_bulk_block_carry_on_after_dropped_sockets() {
    let (sim, session) = start(63, "faults-bulk").await;
    let world = sim.world();
    let people: Vec<(String, String)> = not_blocked(&world)
        .filter(|p| p.saved_name.is_none())
        .map(|p| (p.phone.clone(), p.lid.clone()))
        .take(12)
        .collect();
    let strangers: Vec<String> = world.unregistered.iter().take(12).cloned().collect();
    let lines: Vec<String> =
        people.iter().map(|(p, _)| format!("+{p}")).chain(strangers.iter().map(|p| format!("+{p}"))).collect();

    // One batch is dropped before the server sees it, the next after it answered.
    sim.arm_fault(Armed::next("usync", IqAction::DropBefore).after(1));
    sim.arm_fault(Armed::next("usync", IqAction::DropAfter).after(2));
    let opened = sim.connections_opened();
    // 120 a minute: batches of 2 a second, so the drops land mid-job.
    let job = session.checks().start(&lines.join("\n"), None, 120, None).unwrap().job;
    let done = match session
        .wait_for(Duration::from_secs(120), |s| {
            s.check.as_ref().is_some_and(|c| c.job == job && c.state == JobState::Done)
        })
        .await
    {
        Some(s) => s.check.unwrap(),
        None => panic!("the check did not finish: {:?}", session.snapshot().check),
    };
    assert_eq!(sim.armed_faults(), 0, "both drops happened during the job");
    assert!(sim.connections_opened() >= opened + 2, "the client reconnected after each drop");
    assert_eq!((done.lines, done.checked, done.failed), (24, 24, 0), "{done:?}");
    assert_eq!((done.on_whatsapp, done.not_on_whatsapp), (12, 12), "{done:?}");
    let rows = session.checks().rows(job, 0, 100).unwrap();
    assert_eq!(rows.len(), 24, "one result per line, none twice");
    for row in &rows {
        let digits = row.value.as_deref().unwrap().trim_start_matches('+');
        let expected = people.iter().find(|(p, _)| p == digits);
        assert_eq!(row.on_whatsapp, Some(expected.is_some()), "line {}: {row:?}", row.line);
        assert_eq!(row.lid.as_deref(), expected.map(|(_, l)| l.as_str()), "line {}", row.line);
    }

    // The bulk block: the third target's socket drops after the server applied it.
    sim.arm_fault(Armed::next("blocklist", IqAction::DropAfter).of_type("set").after(2));
    let outcome = session.bulk().block_checked(job, None).await.expect("the bulk block finishes after the reconnect");
    assert_eq!((outcome.done, outcome.failed), (12, 0), "{outcome:?}");
    assert_eq!(sim.armed_faults(), 0, "the drop happened during the action");
    for (_, lid) in &people {
        let applied = requests_for(&sim, lid).into_iter().filter(|(a, changed)| a == "block" && *changed).count();
        assert_eq!(applied, 1, "{lid} was blocked exactly once");
    }
    assert_blocklist_is_the_servers(&sim, &session, "after the bulk block");

    sim.arm_fault(Armed::next("blocklist", IqAction::DropBefore).of_type("set").after(5));
    let undone = session.bulk().undo(outcome.action).await.expect("the undo finishes after the reconnect");
    assert_eq!((undone.done, undone.failed), (12, 0), "{undone:?}");
    assert!(people.iter().all(|(_, lid)| !world_blocked_lids(&sim).contains(lid)), "all unblocked again");
    assert_blocklist_is_the_servers(&sim, &session, "after the undo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_sync_cut_off_is_resumed_and_the_directory_is_whole() {
    let (sim, session) = start(64, "faults-sync").await;
    let book = address_book(&sim).len();
    let opened = sim.connections_opened();
    sim.arm_fault(Armed::next("w:sync:app:state", IqAction::DropBefore).of_type("set"));
    let report =
        session.app_state().sync(&[Scope::Contacts], true).await.expect("the sync completes after the reconnect");
    assert!(sim.connections_opened() > opened, "the socket did drop");
    let collection = &report.collections[0];
    assert_eq!(collection.name, "critical_unblock_low");
    assert_eq!(collection.after, sim.world().collections.critical_unblock_low);
    assert_eq!(session.snapshot().contact_count, book, "every contact once, none lost, none doubled");
    let page = session.directory().page("", roster_core::ListFilter::All, 0, 500).unwrap();
    let phones: BTreeSet<_> = page.rows.iter().map(|r| r.phone.clone()).collect();
    assert_eq!(phones.len(), page.rows.len(), "no contact listed twice");
    assert_eq!(audit(&session), [("sync".to_owned(), "done".to_owned())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_is_detected_and_the_block_in_flight_happens_once() {
    let (sim, session) = start(65, "faults-silence").await;
    let states = record_states(&session);
    let (phone, lid) = unblocked(&sim).remove(0);
    let opened = sim.connections_opened();
    // Longer than the client's keepalive needs to declare the socket dead
    // (15–30 s idle, then 20 s for the pong) and shorter than its 75 s IQ timeout.
    assert_eq!(sim.inject(ConnectionFault::Silence(Duration::from_secs(120))), 1);
    let outcome =
        session.blocklist().set_blocked(&phone, true).await.expect("the block completes on the next connection");
    assert!(sim.connections_opened() > opened, "the client gave up on the silent socket and reconnected");
    assert_eq!(outcome.count, world_blocked_lids(&sim).len());
    assert_eq!(requests_for(&sim, &lid), [("block".to_owned(), true)], "the silent server never applied it");
    assert_blocklist_is_the_servers(&sim, &session, "after the silence");
    // The client's keepalive replaces a dead socket at once (no pause, no
    // `Disconnected` event), so the window never left "Connected".
    let seen = states.lock().unwrap().clone();
    assert!(seen.iter().all(|s| *s == ConnectionState::Connected), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_the_server_never_answers_is_sent_again_on_a_new_connection() {
    let (sim, session) = start(68, "faults-unanswered").await;
    let mut people = unblocked(&sim);
    let (phone, lid) = people.remove(0);
    let (busy, _) = people.remove(0);
    let opened = sim.connections_opened();
    sim.arm_fault(Armed::next("blocklist", IqAction::Unanswered).of_type("set"));
    // The phone keeps the connection busy meanwhile (a new picture every
    // 5 s), so the client's keepalive never finds it dead: only the
    // request's own 75 s timeout ends the wait.
    let block = session.blocklist().set_blocked(&phone, true);
    tokio::pin!(block);
    let mut traffic = tokio::time::interval(Duration::from_secs(5));
    let outcome = loop {
        tokio::select! {
            outcome = &mut block => break outcome,
            _ = traffic.tick() => { sim.contact_set_picture(&busy).unwrap(); }
        }
    };
    let outcome = outcome.expect("the block completes on a new connection");
    assert_eq!(sim.armed_faults(), 0, "the request was left unanswered");
    assert!(sim.connections_opened() > opened, "the connection that lost the request was replaced");
    assert_eq!(
        requests_for(&sim, &lid),
        [("block".to_owned(), true)],
        "the lost request changed nothing; the resend did"
    );
    assert_eq!(outcome.count, world_blocked_lids(&sim).len());
    assert_blocklist_is_the_servers(&sim, &session, "after the resend");
    assert_eq!(audit(&session), [("block".to_owned(), "done".to_owned())], "one entry for one block");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_replies_still_complete_once() {
    let (sim, session) = start(66, "faults-delay").await;
    let (phone, lid) = unblocked(&sim).remove(0);
    let opened = sim.connections_opened();
    sim.arm_fault(Armed::next("blocklist", IqAction::Delay { ms: 3_000 }).of_type("set"));
    let started = Instant::now();
    let outcome = session.blocklist().set_blocked(&phone, true).await.expect("a late answer is still an answer");
    assert!(started.elapsed() >= Duration::from_secs(3), "the reply really was late");
    assert_eq!(outcome.count, world_blocked_lids(&sim).len());
    assert_eq!(requests_for(&sim, &lid), [("block".to_owned(), true)]);
    assert_eq!(sim.connections_opened(), opened, "no reconnect for a slow reply");
    assert_eq!(session.snapshot().state, ConnectionState::Connected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_request_reconnects_at_once_and_bad_frames_are_skipped() {
    let (sim, session) = start(67, "faults-restart").await;
    let people = unblocked(&sim);

    // A malformed frame and a truncated one: skipped, the connection carries on.
    let opened = sim.connections_opened();
    assert_eq!(sim.inject(ConnectionFault::Malformed), 1);
    assert_eq!(sim.inject(ConnectionFault::Truncated), 1);
    session.blocklist().set_blocked(&people[0].0, true).await.expect("the connection still works after bad frames");
    assert_eq!(sim.connections_opened(), opened, "bad frames did not cost the connection");
    assert_blocklist_is_the_servers(&sim, &session, "after bad frames");

    // 515: the client reconnects with no pause.
    assert_eq!(sim.inject(ConnectionFault::Restart), 1);
    connections_reach(&sim, opened + 1).await;
    connected_again(&session, "a 515").await;
    session.blocklist().set_blocked(&people[1].0, true).await.expect("a block works after the restart");
    assert_blocklist_is_the_servers(&sim, &session, "after the restart");

    // A clean stream end: a routine recycle, also reconnected.
    assert_eq!(sim.inject(ConnectionFault::StreamEnd), 1);
    connections_reach(&sim, opened + 2).await;
    connected_again(&session, "a stream end").await;
    session.blocklist().set_blocked(&people[1].0, false).await.expect("an unblock works after the recycle");
    assert_blocklist_is_the_servers(&sim, &session, "after the recycle");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_retried_with_growing_pauses_that_the_window_counts() {
    let (sim, session) = start(68, "faults-outage").await;
    let states = record_states(&session);
    sim.start_outage(Duration::from_secs(6));
    assert_eq!(sim.inject(ConnectionFault::Drop), 1);
    let lost = wait(&session, "reconnecting", |s| matches!(s.state, ConnectionState::Reconnecting { .. })).await;
    let ConnectionState::Reconnecting { reason, since, .. } = lost.state else { unreachable!() };
    assert_eq!(reason, "the server closed the connection");
    assert!(since > 0);
    let back = connected_again(&session, "the outage").await;
    assert_eq!(back.blocked_count, Some(world_blocked_lids(&sim).len()));
    let refused = sim.refused_connections();
    // Pauses of about 1, 1, 2, 3 s: within 6 s the client tries 3 or 4 times, not dozens.
    assert!((2..=5).contains(&refused), "{refused} attempts refused during a 6 s outage");
    let seen = states.lock().unwrap().clone();
    let attempts: Vec<u64> = seen
        .iter()
        .filter_map(|s| match s {
            ConnectionState::Reconnecting { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert!(attempts.windows(2).all(|w| w[0] < w[1]), "the attempt count only grows: {attempts:?}");
    assert!(attempts.last().is_some_and(|&a| a >= 2), "the window counted the attempts: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaced_and_logged_out_stop_reconnecting_and_keep_the_saved_data() {
    let (sim, session) = start(69, "faults-stop").await;
    let states = record_states(&session);
    let contacts = session.snapshot().contact_count;
    let (phone, _) = unblocked(&sim).remove(0);
    let job = session.checks().start(&format!("+{phone}"), None, 600, None).unwrap().job;
    wait(&session, "the check", |s| s.check.as_ref().is_some_and(|c| c.job == job && c.state == JobState::Done)).await;

    // Another session takes over: the window says so and stops.
    let opened = sim.connections_opened();
    assert_eq!(sim.inject(ConnectionFault::Replaced), 1);
    wait(&session, "replaced", |s| s.state == ConnectionState::Replaced).await;
    assert_no_reconnect(&sim, opened).await;
    let error = session.blocklist().set_blocked(&phone, true).await.expect_err("no blocking while taken over");
    assert!(matches!(error, BlockError::NotConnected), "{error:?}");
    assert_saved_data_kept(&session, contacts, job);

    // The operator takes the session back: the device is still linked.
    session.refresh_qr().await.unwrap();
    connected_again(&session, "taking the session back").await;

    // 401: logged out, with the reason, and no reconnecting.
    let opened = sim.connections_opened();
    assert_eq!(sim.inject(ConnectionFault::LoggedOut), 1);
    let out = wait(&session, "logged out", |s| matches!(s.state, ConnectionState::LoggedOut { .. })).await;
    let ConnectionState::LoggedOut { reason } = out.state else { unreachable!() };
    assert!(reason.contains("unlinked"), "the reason is explained: {reason}");
    assert_no_reconnect(&sim, opened).await;
    assert_saved_data_kept(&session, contacts, job);
    let error = session.app_state().sync(&[], false).await.expect_err("no sync while logged out");
    assert!(matches!(error, SyncError::NotConnected), "{error:?}");

    let seen = states.lock().unwrap().clone();
    assert!(seen.contains(&ConnectionState::Replaced), "{seen:?}");
}

/// A negative can only be observed over a window: well past the client's
/// first reconnect pause (≈1 s), no new connection may appear.
async fn assert_no_reconnect(sim: &SimHandle, opened: u64) {
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        assert_eq!(sim.connections_opened(), opened, "the client must not reconnect");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_saved_data_kept(session: &Session, contacts: usize, job: i64) {
    assert_eq!(session.snapshot().contact_count, contacts, "the saved contacts remain");
    let page = session.directory().page("", roster_core::ListFilter::All, 0, 10).unwrap();
    assert!(!page.rows.is_empty(), "and are listed");
    let progress = session.checks().progress(job).expect("the check job remains");
    assert_eq!(progress.state, JobState::Done);
    assert_eq!(session.checks().rows(job, 0, 10).unwrap().len(), 1, "with its result");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_removing_the_device_logs_out_and_keeps_the_saved_data() {
    let (sim, session) = start(70, "faults-removed").await;
    let contacts = session.snapshot().contact_count;
    let (phone, _) = unblocked(&sim).remove(0);
    let job = session.checks().start(&format!("+{phone}"), None, 600, None).unwrap().job;
    wait(&session, "the check", |s| s.check.as_ref().is_some_and(|c| c.job == job && c.state == JobState::Done)).await;
    let opened = sim.connections_opened();
    assert_eq!(sim.remove_devices(None).len(), 1);
    wait(&session, "logged out", |s| matches!(s.state, ConnectionState::LoggedOut { .. })).await;
    assert_no_reconnect(&sim, opened).await;
    assert_saved_data_kept(&session, contacts, job);
    assert!(sim.world().account.devices.is_empty());
}
