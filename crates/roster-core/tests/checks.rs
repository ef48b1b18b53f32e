//! Checking pasted lists of numbers against the simulator with the real
//! client: answers as `/admin/world` says, junk never sent, the server's
//! rate limit honoured, and a job that survives a restart.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{pair, temp_dir, wait};
use roster_core::{CheckError, CheckProgress, JobState, Session};
use roster_sim::limits::UsyncLimit;
use roster_sim::{SimConfig, SimHandle, Simulator};

/// Everyone on the simulated WhatsApp: phone → (lid, in the address book).
fn registered(sim: &SimHandle) -> HashMap<String, (String, bool)> {
    sim.world_json()["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let phone = p["phone"].as_str().unwrap().to_owned();
            (phone, (p["lid"].as_str().unwrap().to_owned(), !p["saved_name"].is_null()))
        })
        .collect()
}

fn unregistered(sim: &SimHandle) -> Vec<String> {
    sim.world_json()["unregistered"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// A number as people type it: with spaces, dots, dashes or parentheses.
fn formatted(phone: &str, style: usize) -> String {
    let (cc, rest) = phone.split_at(2);
    match style % 6 {
        0 => format!("+{phone}"),
        1 => phone.to_owned(),
        2 => format!("+{cc} {} {}", &rest[..3], &rest[3..]),
        3 => format!("+{cc}-{}-{}", &rest[..4], &rest[4..]),
        4 => format!("(+{cc}) {}.{}", &rest[..3], &rest[3..]),
        _ => format!("{phone}@s.whatsapp.net"),
    }
}

async fn finished(session: &Session, job: i64) -> CheckProgress {
    let done = |s: &roster_core::SessionSnapshot| {
        s.check.as_ref().is_some_and(|c| c.job == job && matches!(c.state, JobState::Done))
    };
    match session.wait_for(Duration::from_secs(120), done).await {
        Some(s) => s.check.unwrap(),
        None => panic!("job {job} did not finish: {:?}", session.snapshot().check),
    }
}

/// Every user the server was asked about (accepted queries), in order.
fn asked(sim: &SimHandle) -> Vec<String> {
    sim.check_log().into_iter().filter(|c| !c.refused).flat_map(|c| c.users).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_list_is_answered_as_the_world_says_and_junk_never_reaches_the_server() {
    let sim = Simulator::start(SimConfig { seed: 41, contacts: 1_500, ..SimConfig::default() }).await.unwrap();
    let session = pair(&temp_dir("checks-list"), &sim).await;
    let people = registered(&sim);
    let book = people.values().filter(|(_, saved)| *saved).count();
    wait(&session, "the address book", |s| s.contact_count == book).await;

    let mut phones: Vec<&String> = people.keys().collect();
    phones.sort();
    let mut lines: Vec<String> = Vec::new();
    for (i, phone) in phones.iter().take(1_000).enumerate() {
        lines.push(formatted(phone, i));
    }
    for phone in phones.iter().skip(1_000).take(100) {
        lines.push(format!("{}@lid", people[*phone].0));
    }
    for (i, phone) in unregistered(&sim).iter().take(400).enumerate() {
        lines.push(formatted(phone, i + 1));
    }
    for (i, phone) in phones.iter().take(250).enumerate() {
        lines.push(formatted(phone, i + 3)); // the same numbers again, typed differently
    }
    let junk =
        ["hello", "12", "120363025246125888@g.us", "123@newsletter", "abc@lid", "+1234567890123456789", "call 555"];
    for i in 0..250 {
        lines.push(format!("{}{}", junk[i % junk.len()], if i % 2 == 0 { "" } else { " " }));
    }
    assert_eq!(lines.len(), 2_000);
    let text = lines.join("\n");

    let preview = session.preview_numbers(&text, None).unwrap();
    assert_eq!((preview.numbers, preview.lids, preview.duplicates, preview.invalid), (1_400, 100, 250, 250));
    assert!(sim.check_log().is_empty(), "a preview asks nobody");

    let started = session.start_check(&text, None, roster_core::checks::MAX_RATE).unwrap();
    assert!(started.known > 0, "address-book numbers are answered at once: {started:?}");
    let job = started.job;
    let progress = finished(&session, job).await;
    assert_eq!((progress.lines, progress.to_check, progress.checked, progress.failed), (2_000, 1_500, 1_500, 0));
    assert_eq!((progress.invalid, progress.duplicates), (250, 250));

    // Every line as the world says.
    let rows = session.check_rows(job, 0, 5_000).unwrap();
    assert_eq!(rows.len(), 2_000);
    let phone_of_lid: HashMap<&str, &str> = people.iter().map(|(p, (l, _))| (l.as_str(), p.as_str())).collect();
    let mut expected_asked = BTreeSet::new();
    for row in &rows {
        match row.kind.as_str() {
            "number" => {
                let phone = row.value.as_deref().unwrap();
                let on = people.contains_key(phone);
                assert_eq!(row.on_whatsapp, Some(on), "{row:?}");
                assert_eq!(row.phone.as_deref(), Some(phone));
                if on {
                    assert_eq!(row.lid.as_deref(), Some(people[phone].0.as_str()), "{row:?}");
                }
                if people.get(phone).is_some_and(|(_, saved)| *saved) {
                    assert_eq!(row.source.as_deref(), Some("directory"), "{row:?}");
                    assert!(row.name.is_some(), "a contact's name is shown: {row:?}");
                } else {
                    assert_eq!(row.source.as_deref(), Some("server"), "{row:?}");
                    expected_asked.insert(phone.to_owned());
                }
            }
            "lid" => {
                let lid = row.value.as_deref().unwrap();
                assert_eq!(row.on_whatsapp, Some(true), "{row:?}");
                assert_eq!(row.phone.as_deref(), Some(phone_of_lid[lid]), "the LID's number: {row:?}");
                if row.source.as_deref() == Some("server") {
                    expected_asked.insert(format!("{lid}@lid"));
                }
            }
            "duplicate" | "invalid" => {
                assert_eq!(row.state, "skipped");
                assert_eq!(row.on_whatsapp, None);
            }
            other => panic!("unexpected kind {other}"),
        }
    }
    let asked = asked(&sim);
    let unique: BTreeSet<String> = asked.iter().cloned().collect();
    assert_eq!(unique.len(), asked.len(), "no number was asked twice");
    assert_eq!(unique, expected_asked, "exactly the unknown numbers and LIDs reached the server");

    // A second paste of the same list is answered from the recent checks.
    let again = session.start_check(&text, None, 120).unwrap();
    assert_eq!(again.checked, again.to_check, "all answered locally: {again:?}");
    assert_eq!(finished(&session, again.job).await.known, 1_500);
    assert_eq!(self::asked(&sim).len(), asked.len(), "nothing new was asked");

    // Bad input is refused with its reason.
    assert!(matches!(session.start_check("\n\n", None, 120), Err(CheckError::Import(_))));
    let err = session.start_check(&text, None, 0).unwrap_err();
    assert!(err.to_string().contains("between 1 and"), "{err}");

    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_rate_limit_is_honoured_and_the_pace_never_exceeded() {
    let limit = UsyncLimit { max_users: 100, window: Duration::from_secs(2), backoff_secs: 1 };
    let sim = Simulator::start(SimConfig { seed: 42, contacts: 400, usync_limit: Some(limit), ..SimConfig::default() })
        .await
        .unwrap();
    let session = pair(&temp_dir("checks-rate"), &sim).await;
    // Numbers Roster cannot know: unregistered ones and people outside the address book.
    let people = registered(&sim);
    let mut numbers: Vec<String> = unregistered(&sim).into_iter().take(200).collect();
    numbers.extend(people.iter().filter(|(_, (_, saved))| !saved).map(|(p, _)| p.clone()).take(100));
    assert_eq!(numbers.len(), 300);

    let saw_backoff = Arc::new(AtomicBool::new(false));
    let mut snapshots = session.subscribe();
    let flag = saw_backoff.clone();
    let watcher = tokio::spawn(async move {
        while snapshots.changed().await.is_ok() {
            if snapshots.borrow().check.as_ref().is_some_and(|c| c.backoff_until.is_some()) {
                flag.store(true, Ordering::Relaxed);
            }
        }
    });

    let rate = 6_000; // numbers a minute: batches of 50, one every 0.5 s
    let job = session
        .start_check(&numbers.iter().map(|n| format!("+{n}")).collect::<Vec<_>>().join("\n"), None, rate)
        .unwrap()
        .job;
    let progress = finished(&session, job).await;
    assert_eq!((progress.checked, progress.failed), (300, 0));
    watcher.abort();

    let log = sim.check_log();
    assert!(log.iter().any(|c| c.refused), "the limit was reached: {log:?}");
    assert!(saw_backoff.load(Ordering::Relaxed), "the window showed the server's backoff");
    for pair in log.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        let gap = after.at_ms - before.at_ms;
        let pace = before.users.len() as u64 * 60_000 / rate as u64;
        assert!(gap + 25 >= pace, "{gap} ms after a batch of {} is faster than {rate}/min", before.users.len());
        if before.refused {
            assert!(gap + 25 >= 1_000, "only {gap} ms after a 429 asking for 1 s");
        }
    }
    let answered: Vec<String> = asked(&sim);
    let unique: BTreeSet<&String> = answered.iter().collect();
    assert_eq!((answered.len(), unique.len()), (300, 300), "each number answered once");
    let rows = session.check_rows(job, 0, 1_000).unwrap();
    for row in rows {
        let phone = row.value.unwrap();
        assert_eq!(row.on_whatsapp, Some(people.contains_key(&phone)), "{phone}");
    }
    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_resumes_after_a_restart_and_obeys_pause_and_cancel() {
    let sim = Simulator::start(SimConfig { seed: 43, contacts: 300, ..SimConfig::default() }).await.unwrap();
    let dir = temp_dir("checks-resume");
    let session = pair(&dir, &sim).await;
    let numbers: Vec<String> = unregistered(&sim).into_iter().take(100).map(|n| format!("+{n}")).collect();
    let rate = 1_200; // batches of 20, one a second
    let job = session.start_check(&numbers.join("\n"), None, rate).unwrap().job;
    wait(&session, "a first batch", |s| s.check.as_ref().is_some_and(|c| c.checked >= 20)).await;

    // Quit mid-job: the batch in flight is finished and saved first.
    session.shutdown().await;
    let before = asked(&sim).len();
    assert!(before < 100, "stopped mid-job ({before} asked)");
    let session = common::start_session(&dir, &sim).await;
    let first = session.snapshot().check.expect("the job is shown at start");
    assert_eq!(first.job, job);
    assert_eq!(first.checked, before, "what was answered before the restart is kept");

    // Pause, then resume; cancelling a finished job is refused with a reason.
    let paused = session.set_check_state(job, JobState::Paused).unwrap();
    assert_eq!(paused.state, JobState::Paused);
    let err = session.set_check_state(job, JobState::Paused).unwrap_err();
    assert!(err.to_string().contains("cannot be paused"), "{err}");
    session.set_check_state(job, JobState::Running).unwrap();
    let done = finished(&session, job).await;
    assert_eq!((done.checked, done.not_on_whatsapp), (100, 100));
    let answered = asked(&sim);
    let unique: BTreeSet<&String> = answered.iter().collect();
    assert_eq!((answered.len(), unique.len()), (100, 100), "none asked twice, none lost");
    let err = session.set_check_state(job, JobState::Cancelled).unwrap_err();
    assert!(err.to_string().contains("is done"), "{err}");

    // A cancelled job stops where it is.
    let job2 = session.start_check(&unregistered(&sim)[100..160].join("\n"), None, 600).unwrap().job;
    let cancelled = session.set_check_state(job2, JobState::Cancelled).unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    let asked_then = asked(&sim).len();
    assert!(session.check_rows(job2, 0, 100).unwrap().iter().any(|r| r.state == "pending"), "left as it was");
    assert!(asked(&sim).len() <= asked_then + 10, "at most the batch in flight finished");

    session.shutdown().await;
    sim.shutdown().await;
}

fn blocklist(sim: &SimHandle) -> BTreeSet<String> {
    sim.world_json()["blocklist"].as_array().unwrap().iter().map(|b| b["lid"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_block_of_a_selection_and_its_undo_match_the_server() {
    let sim = Simulator::start(SimConfig { seed: 44, contacts: 200, ..SimConfig::default() }).await.unwrap();
    let session = pair(&temp_dir("checks-bulk"), &sim).await;
    let before = blocklist(&sim);
    let people = registered(&sim);
    let mut strangers: Vec<(&String, &String)> =
        people.iter().filter(|(_, (lid, saved))| !saved && !before.contains(lid)).map(|(p, (l, _))| (p, l)).collect();
    strangers.sort();
    let mut lines: Vec<String> = strangers.iter().take(6).map(|(p, _)| format!("+{p}")).collect();
    lines.extend(unregistered(&sim).into_iter().take(3).map(|n| format!("+{n}")));
    let job = session.start_check(&lines.join("\n"), None, roster_core::checks::MAX_RATE).unwrap().job;
    finished(&session, job).await;

    // A selection: lines 1, 2, 4 (registered) and 7 (not on WhatsApp: skipped).
    let outcome = session.block_checked(job, Some(&[1, 2, 4, 7])).await.unwrap();
    assert_eq!((outcome.kind.as_str(), outcome.done, outcome.failed), ("block", 3, 0));
    let mut expected = before.clone();
    for i in [0, 1, 3] {
        expected.insert(strangers[i].1.clone());
    }
    assert_eq!(blocklist(&sim), expected, "the server blocked exactly the selection");
    assert_eq!(outcome.count, expected.len(), "the count is the server's");
    assert_eq!(session.snapshot().blocked_count, Some(expected.len()));

    // Undo unblocks what was just blocked, nothing else.
    let undone = session.undo_bulk(outcome.action).await.unwrap();
    assert_eq!((undone.kind.as_str(), undone.done), ("unblock", 3));
    assert_eq!(blocklist(&sim), before);
    assert_eq!(undone.count, before.len());
    assert!(matches!(session.undo_bulk(undone.action).await, Err(roster_core::BulkError::NotUndoable(_))));

    // Nothing registered selected: refused, nothing sent.
    let err = session.block_checked(job, Some(&[7, 8])).await.unwrap_err();
    assert!(err.to_string().contains("no registered number"), "{err}");
    assert_eq!(blocklist(&sim), before);
    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_a_few_times_then_the_check_goes_on() {
    use roster_sim::faults::IqFault;

    let sim = Simulator::start(SimConfig { seed: 45, contacts: 100, ..SimConfig::default() }).await.unwrap();
    let session = pair(&temp_dir("checks-errors"), &sim).await;
    let book = registered(&sim).values().filter(|(_, saved)| *saved).count();
    wait(&session, "the address book", |s| s.contact_count == book).await;
    let numbers: Vec<String> = unregistered(&sim).into_iter().take(30).map(|n| format!("+{n}")).collect();
    // The next two number checks fail with 500 and 503; the third attempt answers.
    for code in [500, 503] {
        sim.fail_next_iq(IqFault { xmlns: "usync".into(), code, text: "internal-server-error".into() });
    }
    let job = session.start_check(&numbers.join("\n"), None, roster_core::checks::MAX_RATE).unwrap().job;
    let done = finished(&session, job).await;
    assert_eq!((done.checked, done.failed, done.not_on_whatsapp), (30, 0, 30), "{done:?}");
    let answered = asked(&sim);
    assert_eq!(answered.iter().collect::<BTreeSet<_>>().len(), 30, "every number answered");
    assert_eq!(sim.armed_faults(), 0, "both errors were answered to the check");
    session.shutdown().await;
    sim.shutdown().await;
}
