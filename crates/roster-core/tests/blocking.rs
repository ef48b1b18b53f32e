//! Blocking from Roster and from the phone, against the simulator, with the
//! real client. Every expectation comes from the simulator's world (the
//! report `GET /admin/world` serves).

mod common;

use std::collections::BTreeSet;

use common::{not_blocked, pair, temp_dir, wait, world_blocked_lids};
use roster_core::{BlockError, Session, TargetError};
use roster_sim::{PersonReport, SimConfig, SimHandle, Simulator};

fn app_blocked_lids(session: &Session) -> BTreeSet<String> {
    session.blocklist().entries().unwrap().into_iter().map(|e| e.lid).collect()
}

/// People of the world who are not blocked, Brazilian numbers first.
fn unblocked_people(sim: &SimHandle) -> Vec<PersonReport> {
    let mut people: Vec<PersonReport> = not_blocked(&sim.world()).cloned().collect();
    people.sort_by_key(|p| !p.phone.starts_with("55"));
    people
}

fn assert_in_sync(sim: &SimHandle, session: &Session, count: usize, step: &str) {
    let expected = world_blocked_lids(sim);
    assert_eq!(count, expected.len(), "{step}: the count is the server's");
    assert_eq!(app_blocked_lids(session), expected, "{step}: the stored blocklist is the server's");
    assert_eq!(session.snapshot().blocked_count, Some(expected.len()), "{step}: the header count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_and_unblock_by_every_kind_of_input() {
    let sim = Simulator::start(SimConfig { seed: 11, ..SimConfig::default() }).await.unwrap();
    let session = pair(&temp_dir("block-formats"), &sim).await;
    let initial = world_blocked_lids(&sim).len();
    assert!(initial > 0, "the seeded world starts with some blocked users");
    wait(&session, "the initial blocked count", |s| s.blocked_count == Some(initial)).await;
    assert_eq!(app_blocked_lids(&session), world_blocked_lids(&sim));

    let people = unblocked_people(&sim);
    let br = |i: usize| people[i].phone.clone();
    // A Brazilian mobile: 55 + 2-digit area + 9 digits.
    let fmt = |p: &str, f: fn(&str, &str, &str, &str) -> String| f(&p[..2], &p[2..4], &p[4..9], &p[9..]);
    let inputs = vec![
        fmt(&br(0), |cc, area, a, b| format!("+{cc} ({area}) {a}-{b}")),
        br(1),
        fmt(&br(2), |cc, area, a, b| format!("+{cc} {area} {a} {b}")),
        fmt(&br(3), |cc, area, a, b| format!("00{cc} {area} {a}.{b}")),
        fmt(&br(4), |cc, area, a, b| format!("+{cc}-{area}-{a}-{b}")),
        format!("{}@s.whatsapp.net", br(5)),
        format!("{}@lid", people[6].lid),
    ];
    let mut blocked = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let outcome =
            session.blocklist().set_blocked(input, true).await.unwrap_or_else(|e| panic!("block {input}: {e}"));
        assert!(outcome.blocked);
        assert_eq!(outcome.lid, people[i].lid, "{input} resolved to the right person");
        assert!(world_blocked_lids(&sim).contains(&outcome.lid), "{input} is blocked on the server");
        assert_in_sync(&sim, &session, outcome.count, &format!("block {input}"));
        assert_eq!(outcome.count, initial + i + 1);
        blocked.push(outcome.lid);
    }
    // Blocking again is idempotent, and a block is one request: the
    // server's answer carries the list the count is read from.
    let requests = sim.iq_count("blocklist");
    let again = session.blocklist().set_blocked(&inputs[1], true).await.unwrap();
    assert_eq!(again.count, initial + inputs.len());
    assert_eq!(sim.iq_count("blocklist") - requests, 1, "{:?}", sim.world().iq_counts);

    for input in &inputs {
        let outcome =
            session.blocklist().set_blocked(input, false).await.unwrap_or_else(|e| panic!("unblock {input}: {e}"));
        assert!(!outcome.blocked);
        assert!(!world_blocked_lids(&sim).contains(&outcome.lid));
        assert_in_sync(&sim, &session, outcome.count, &format!("unblock {input}"));
    }
    assert_eq!(world_blocked_lids(&sim).len(), initial);
    session.shutdown().await;
    sim.shutdown().await;
}

/// People marked in the list, blocked and unblocked as one bulk action: the
/// server's list changes for exactly those WhatsApp knows, the others are
/// reported, duplicates count once, Undo restores the list, and the audit
/// log says what was done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_marked_in_the_list_are_blocked_and_unblocked_at_once() {
    let sim = Simulator::start(SimConfig { seed: 17, ..SimConfig::default() }).await.unwrap();
    let session = pair(&temp_dir("block-marked"), &sim).await;
    let before = world_blocked_lids(&sim);
    wait(&session, "the initial blocked count", |s| s.blocked_count == Some(before.len())).await;

    let people = unblocked_people(&sim);
    let stranger = sim.world().unregistered[0].clone();
    let marked = vec![
        format!("+{}", people[0].phone),
        format!("{}@lid", people[1].lid),
        format!("+{}", people[2].phone),
        format!("{}@s.whatsapp.net", people[0].phone),
        format!("+{stranger}"),
    ];
    let outcome = session.bulk().set_blocked_people(&marked, true).await.unwrap();
    assert_eq!((outcome.kind.as_str(), outcome.done, outcome.failed), ("block", 3, 1), "{outcome:?}");
    assert_eq!(outcome.errors, vec![(format!("+{stranger}"), "not on WhatsApp".to_owned())]);
    let mut expected = before.clone();
    expected.extend(people[..3].iter().map(|p| p.lid.clone()));
    assert_eq!(world_blocked_lids(&sim), expected, "the server blocked exactly the marked people it knows");
    assert_in_sync(&sim, &session, outcome.count, "after the bulk block");

    let undone = session.bulk().undo(outcome.action).await.unwrap();
    assert_eq!((undone.kind.as_str(), undone.done), ("unblock", 3));
    assert_eq!(world_blocked_lids(&sim), before, "Undo unblocked exactly those");
    assert_in_sync(&sim, &session, undone.count, "after Undo");

    // Unblocking two of those already blocked, marked by their LIDs.
    let unmark: Vec<String> = before.iter().take(2).map(|lid| format!("{lid}@lid")).collect();
    let unblocked = session.bulk().set_blocked_people(&unmark, false).await.unwrap();
    assert_eq!((unblocked.kind.as_str(), unblocked.done, unblocked.failed), ("unblock", 2, 0));
    let left: BTreeSet<String> = before.iter().skip(2).cloned().collect();
    assert_eq!(world_blocked_lids(&sim), left);
    assert!(matches!(session.bulk().undo(unblocked.action).await, Err(roster_core::BulkError::NotUndoable(_))));

    // Only strangers marked: refused, nothing sent.
    let err = session.bulk().set_blocked_people(&[format!("+{stranger}")], true).await.unwrap_err();
    assert!(err.to_string().contains("not on WhatsApp"), "{err}");
    assert_eq!(world_blocked_lids(&sim), left);

    let log = session.audit().page(0, 10).unwrap();
    let actions: Vec<(&str, Option<&str>)> =
        log.rows.iter().map(|e| (e.action.as_str(), e.target.as_deref())).take(4).collect();
    assert_eq!(
        actions,
        vec![
            ("bulk block", Some("1 person from the list")),
            ("bulk unblock", Some("2 people from the list")),
            ("undo bulk block", Some(format!("bulk action #{}", outcome.action).as_str())),
            ("bulk block", Some("5 people from the list")),
        ]
    );
    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_unregistered_numbers_and_junk_are_refused_and_change_nothing() {
    let sim = Simulator::start(SimConfig { seed: 12, ..SimConfig::default() }).await.unwrap();
    let session = pair(&temp_dir("block-refused"), &sim).await;
    let before = world_blocked_lids(&sim);
    wait(&session, "the initial blocked count", |s| s.blocked_count == Some(before.len())).await;

    let group = session.blocklist().set_blocked("120363123456789@g.us", true).await.unwrap_err();
    assert!(matches!(group, BlockError::Target(TargetError::Group(_))), "{group}");
    assert!(group.to_string().contains("group"));

    let unregistered = sim.world().unregistered[0].clone();
    let err = session.blocklist().set_blocked(&format!("+{unregistered}"), true).await.unwrap_err();
    assert!(matches!(err, BlockError::NotOnWhatsApp(_)), "{err}");
    assert_eq!(err.to_string(), format!("+{unregistered} is not on WhatsApp"));

    let junk = session.blocklist().set_blocked("call me maybe", true).await.unwrap_err();
    assert!(matches!(junk, BlockError::Target(TargetError::NotANumber(_))), "{junk}");

    assert_eq!(world_blocked_lids(&sim), before, "nothing changed on the server");
    assert_eq!(app_blocked_lids(&session), before, "nothing changed in the app");
    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_made_on_the_phone_update_the_count() {
    let sim = Simulator::start(SimConfig { seed: 13, ..SimConfig::default() }).await.unwrap();
    let session = pair(&temp_dir("block-phone"), &sim).await;
    let initial = world_blocked_lids(&sim).len();
    wait(&session, "the initial blocked count", |s| s.blocked_count == Some(initial)).await;

    let person = unblocked_people(&sim)[0].clone();
    let phone = person.phone.as_str();
    sim.phone_set_blocked(phone, true).unwrap();
    wait(&session, "the phone's block", |s| s.blocked_count == Some(initial + 1)).await;
    assert_eq!(app_blocked_lids(&session), world_blocked_lids(&sim));

    sim.phone_set_blocked(phone, false).unwrap();
    wait(&session, "the phone's unblock", |s| s.blocked_count == Some(initial)).await;
    assert_eq!(app_blocked_lids(&session), world_blocked_lids(&sim));
    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_needs_a_connection() {
    let sim = Simulator::start(SimConfig { seed: 14, ..SimConfig::default() }).await.unwrap();
    let dir = temp_dir("block-offline");
    let session = pair(&dir, &sim).await;
    let count = world_blocked_lids(&sim).len();
    wait(&session, "the initial blocked count", |s| s.blocked_count == Some(count)).await;
    session.shutdown().await;
    sim.shutdown().await;

    // The server is gone: the cached list and count stay usable, actions are refused.
    let session = common::start_session_at(&dir, "ws://127.0.0.1:9/ws/chat").await;
    assert_eq!(session.snapshot().blocked_count, Some(count), "cached count shown at once");
    assert_eq!(session.blocklist().entries().unwrap().len(), count);
    let err = session.blocklist().set_blocked("+5511999999999", true).await.unwrap_err();
    assert!(matches!(err, BlockError::NotConnected), "{err}");
    session.shutdown().await;
}
