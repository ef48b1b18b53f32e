//! Checking pasted lists of numbers against the simulator with the real
//! client: answers as `/admin/world` says, junk never sent, the server's
//! rate limit honoured, and a job that survives a restart.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{address_book, pair, temp_dir, wait, wait_for_history, world_blocked_lids};
use roster_core::{AnswerSource, CheckError, CheckProgress, JobIntent, JobState, LineState, Session};
use roster_sim::limits::UsyncLimit;
use roster_sim::{SimConfig, SimHandle, Simulator};

/// Everyone on the simulated WhatsApp: phone → (lid, known to Roster
/// without asking: the phone's history sync names them — its address book
/// and 1:1 chats).
fn registered(sim: &SimHandle) -> HashMap<String, (String, bool)> {
    sim.world().people.into_iter().map(|p| (p.phone, (p.lid, p.known_to_phone))).collect()
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
    let book = address_book(&sim).len();
    wait(&session, "the address book", |s| s.contact_count == book).await;
    wait_for_history(&session, &sim).await;

    let mut phones: Vec<&String> = people.keys().collect();
    phones.sort();
    let mut lines: Vec<String> = Vec::new();
    for (i, phone) in phones.iter().take(1_000).enumerate() {
        lines.push(formatted(phone, i));
    }
    for phone in phones.iter().skip(1_000).take(100) {
        lines.push(format!("{}@lid", people[*phone].0));
    }
    for (i, phone) in sim.world().unregistered.iter().take(400).enumerate() {
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

    let preview = session.checks().preview(&text, None).unwrap();
    assert_eq!((preview.numbers, preview.lids, preview.duplicates, preview.invalid), (1_400, 100, 250, 250));
    assert!(sim.check_log().is_empty(), "a preview asks nobody");

    let started = session.checks().start(&text, None, roster_core::checks::MAX_RATE, None).unwrap();
    assert!(started.known > 0, "numbers the phone knows are answered at once: {started:?}");
    let job = started.job;
    let progress = finished(&session, job).await;
    assert_eq!((progress.lines, progress.to_check, progress.checked, progress.failed), (2_000, 1_500, 1_500, 0));
    assert_eq!((progress.invalid, progress.duplicates), (250, 250));

    // Every line as the world says.
    let rows = session.checks().rows(job, 0, 5_000).unwrap();
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
                if people.get(phone).is_some_and(|(_, known)| *known) {
                    assert_eq!(row.source, Some(AnswerSource::Directory), "{row:?}");
                    assert!(row.name.is_some(), "a contact's name is shown: {row:?}");
                } else {
                    assert_eq!(row.source, Some(AnswerSource::Server), "{row:?}");
                    expected_asked.insert(phone.to_owned());
                }
            }
            "lid" => {
                let lid = row.value.as_deref().unwrap();
                assert_eq!(row.on_whatsapp, Some(true), "{row:?}");
                assert_eq!(row.phone.as_deref(), Some(phone_of_lid[lid]), "the LID's number: {row:?}");
                if row.source == Some(AnswerSource::Server) {
                    expected_asked.insert(format!("{lid}@lid"));
                }
            }
            "duplicate" | "invalid" => {
                assert_eq!(row.state, LineState::Skipped);
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
    let again = session.checks().start(&text, None, 120, None).unwrap();
    assert_eq!(again.checked, again.to_check, "all answered locally: {again:?}");
    assert_eq!(finished(&session, again.job).await.known, 1_500);
    assert_eq!(self::asked(&sim).len(), asked.len(), "nothing new was asked");

    // Bad input is refused with its reason.
    assert!(matches!(session.checks().start("\n\n", None, 120, None), Err(CheckError::Import(_))));
    let err = session.checks().start(&text, None, 60_001, None).unwrap_err();
    assert!(err.to_string().contains("between 1 and 60000 numbers a minute, or 0 for no limit"), "{err}");

    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_rate_limit_is_honoured_and_the_pace_never_exceeded() {
    let limit = UsyncLimit { max_users: 100, window: Duration::from_secs(2), backoff_secs: 1 };
    let sim = Simulator::start(SimConfig { seed: 42, contacts: 450, usync_limit: Some(limit), ..SimConfig::default() })
        .await
        .unwrap();
    let session = pair(&temp_dir("checks-rate"), &sim).await;
    // Numbers Roster cannot know: unregistered ones and people the phone does not know.
    let people = registered(&sim);
    let mut numbers: Vec<String> = sim.world().unregistered.into_iter().take(200).collect();
    numbers.extend(people.iter().filter(|(_, (_, known))| !known).map(|(p, _)| p.clone()).take(100));
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
        .checks()
        .start(&numbers.iter().map(|n| format!("+{n}")).collect::<Vec<_>>().join("\n"), None, rate, None)
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
    let rows = session.checks().rows(job, 0, 1_000).unwrap();
    for row in rows {
        let phone = row.value.unwrap();
        assert_eq!(row.on_whatsapp, Some(people.contains_key(&phone)), "{phone}");
    }
    session.shutdown().await;
    sim.shutdown().await;
}

/// With the pace limit lifted (pace 0), batches are as large as Roster
/// sends and follow each other as the answers come; the server's 429 still
/// makes the job wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_pace_limit_large_batches_go_back_to_back_and_a_429_still_waits() {
    let limit = UsyncLimit { max_users: 1_000, window: Duration::from_secs(2), backoff_secs: 1 };
    let sim =
        Simulator::start(SimConfig { seed: 43, contacts: 1_000, usync_limit: Some(limit), ..SimConfig::default() })
            .await
            .unwrap();
    let session = pair(&temp_dir("checks-no-limit"), &sim).await;
    let people = registered(&sim);
    let mut numbers: Vec<String> = sim.world().unregistered;
    numbers.extend(people.iter().filter(|(_, (_, known))| !known).map(|(p, _)| p.clone()).take(300));
    let lines = numbers.iter().map(|n| format!("+{n}")).collect::<Vec<_>>().join("\n");
    let job = session.checks().start(&lines, None, roster_core::checks::NO_LIMIT, None).unwrap().job;
    let progress = finished(&session, job).await;
    assert_eq!((progress.checked, progress.failed), (numbers.len(), 0));
    assert_eq!(progress.eta_secs, None, "no pace, no estimate from it");

    let log = sim.check_log();
    assert_eq!(log[0].users.len(), 500, "the first batch is a full one: {:?}", log[0].users.len());
    assert!(log.iter().all(|c| c.users.len() <= 500));
    assert!(log.iter().any(|c| c.refused), "the server's limit was reached");
    for pair in log.windows(2) {
        if pair[0].refused {
            let gap = pair[1].at_ms - pair[0].at_ms;
            assert!(gap + 25 >= 1_000, "only {gap} ms after a 429 asking for 1 s");
        }
    }
    let answered = asked(&sim);
    let unique: BTreeSet<&String> = answered.iter().collect();
    assert_eq!((answered.len(), unique.len()), (numbers.len(), numbers.len()), "each number answered once");
    for row in session.checks().rows(job, 0, 2_000).unwrap() {
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
    let numbers: Vec<String> = sim.world().unregistered.into_iter().take(100).map(|n| format!("+{n}")).collect();
    let rate = 1_200; // batches of 20, one a second
    let job = session.checks().start(&numbers.join("\n"), None, rate, None).unwrap().job;
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
    let paused = session.checks().steer(job, JobIntent::Pause).unwrap();
    assert_eq!(paused.state, JobState::Paused);
    let err = session.checks().steer(job, JobIntent::Pause).unwrap_err();
    assert!(err.to_string().contains("cannot be paused"), "{err}");
    session.checks().steer(job, JobIntent::Resume).unwrap();
    let done = finished(&session, job).await;
    assert_eq!((done.checked, done.not_on_whatsapp), (100, 100));
    let answered = asked(&sim);
    let unique: BTreeSet<&String> = answered.iter().collect();
    assert_eq!((answered.len(), unique.len()), (100, 100), "none asked twice, none lost");
    let err = session.checks().steer(job, JobIntent::Cancel).unwrap_err();
    assert!(err.to_string().contains("is done"), "{err}");

    // A cancelled job stops where it is.
    let job2 = session.checks().start(&sim.world().unregistered[100..160].join("\n"), None, 600, None).unwrap().job;
    let cancelled = session.checks().steer(job2, JobIntent::Cancel).unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    let asked_then = asked(&sim).len();
    assert!(
        session.checks().rows(job2, 0, 100).unwrap().iter().any(|r| r.state == LineState::Pending),
        "left as it was"
    );
    assert!(asked(&sim).len() <= asked_then + 10, "at most the batch in flight finished");

    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_block_of_a_selection_and_its_undo_match_the_server() {
    let sim = Simulator::start(SimConfig { seed: 44, contacts: 200, ..SimConfig::default() }).await.unwrap();
    let session = pair(&temp_dir("checks-bulk"), &sim).await;
    let before = world_blocked_lids(&sim);
    let people = registered(&sim);
    let mut strangers: Vec<(&String, &String)> =
        people.iter().filter(|(_, (lid, known))| !known && !before.contains(lid)).map(|(p, (l, _))| (p, l)).collect();
    strangers.sort();
    let mut lines: Vec<String> = strangers.iter().take(6).map(|(p, _)| format!("+{p}")).collect();
    lines.extend(sim.world().unregistered.into_iter().take(3).map(|n| format!("+{n}")));
    let job = session.checks().start(&lines.join("\n"), None, roster_core::checks::MAX_RATE, None).unwrap().job;
    finished(&session, job).await;

    // A selection: lines 1, 2, 4 (registered) and 7 (not on WhatsApp: skipped).
    let outcome = session.bulk().block_checked(job, Some(&[1, 2, 4, 7])).await.unwrap();
    assert_eq!((outcome.kind.as_str(), outcome.done, outcome.failed), ("block", 3, 0));
    let mut expected = before.clone();
    for i in [0, 1, 3] {
        expected.insert(strangers[i].1.clone());
    }
    assert_eq!(world_blocked_lids(&sim), expected, "the server blocked exactly the selection");
    assert_eq!(outcome.count, expected.len(), "the count is the server's");
    assert_eq!(session.snapshot().blocked_count, Some(expected.len()));

    // Undo unblocks what was just blocked, nothing else.
    let undone = session.bulk().undo(outcome.action).await.unwrap();
    assert_eq!((undone.kind.as_str(), undone.done), ("unblock", 3));
    assert_eq!(world_blocked_lids(&sim), before);
    assert_eq!(undone.count, before.len());
    assert!(matches!(session.bulk().undo(undone.action).await, Err(roster_core::BulkError::NotUndoable(_))));

    // Nothing registered selected: refused, nothing sent.
    let err = session.bulk().block_checked(job, Some(&[7, 8])).await.unwrap_err();
    assert!(err.to_string().contains("no registered number"), "{err}");
    assert_eq!(world_blocked_lids(&sim), before);
    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_a_few_times_then_the_check_goes_on() {
    use roster_sim::faults::IqFault;

    let sim = Simulator::start(SimConfig { seed: 45, contacts: 100, ..SimConfig::default() }).await.unwrap();
    let session = pair(&temp_dir("checks-errors"), &sim).await;
    let book = address_book(&sim).len();
    wait(&session, "the address book", |s| s.contact_count == book).await;
    let numbers: Vec<String> = sim.world().unregistered.into_iter().take(30).map(|n| format!("+{n}")).collect();
    // The next two number checks fail with 500 and 503; the third attempt answers.
    for code in [500, 503] {
        sim.fail_next_iq(IqFault { xmlns: "usync".into(), code, text: "internal-server-error".into() });
    }
    let job = session.checks().start(&numbers.join("\n"), None, roster_core::checks::MAX_RATE, None).unwrap().job;
    let done = finished(&session, job).await;
    assert_eq!((done.checked, done.failed, done.not_on_whatsapp), (30, 0, 30), "{done:?}");
    let answered = asked(&sim);
    assert_eq!(answered.iter().collect::<BTreeSet<_>>().len(), 30, "every number answered");
    assert_eq!(sim.armed_faults(), 0, "both errors were answered to the check");
    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifiers_resolve_among_a_groups_members_without_asking_the_server() {
    use roster_core::{CheckFilter, CheckOrder, CheckSort};

    let sim = Simulator::start(SimConfig { seed: 46, contacts: 200, ..SimConfig::default() }).await.unwrap();
    let session = pair(&temp_dir("checks-groups"), &sim).await;
    let world_groups = sim.world().groups;
    let groups = session.groups().list().await.unwrap();
    assert_eq!(groups.len(), world_groups.len());
    for g in &world_groups {
        let mine = groups.iter().find(|s| s.jid == g.jid).expect("every group listed");
        assert_eq!(mine.subject, g.subject);
        assert_eq!(mine.members, g.members.len() + 1, "members and the account");
    }
    let group = world_groups.iter().find(|g| g.subject == "Neighbourhood watch").unwrap();
    let members: Vec<(String, String)> = group.members.iter().map(|m| (m.phone.clone(), m.lid.clone())).collect();
    let member_phones: BTreeSet<&String> = members.iter().map(|(p, _)| p).collect();
    let outsiders: Vec<String> = registered(&sim).into_keys().filter(|p| !member_phones.contains(p)).take(4).collect();

    // Ten members by number, five by LID, four registered outsiders, two
    // numbers not on WhatsApp, one line of junk and one duplicate.
    let mut lines: Vec<String> = members[..10].iter().enumerate().map(|(i, (p, _))| formatted(p, i)).collect();
    lines.extend(members[10..15].iter().map(|(_, l)| format!("{l}@lid")));
    lines.extend(outsiders.iter().map(|p| format!("+{p}")));
    lines.extend(sim.world().unregistered.into_iter().take(2).map(|n| format!("+{n}")));
    lines.push("call me".into());
    lines.push(format!("+{}", members[0].0));
    let usync_before = sim.iq_count("usync");
    let jid = group.jid.as_str();
    let job = session.checks().start(&lines.join("\n"), None, 120, Some(jid)).unwrap().job;
    let done = finished(&session, job).await;
    assert_eq!(done.group.as_deref(), Some("Neighbourhood watch"));
    assert_eq!((done.to_check, done.checked, done.on_whatsapp, done.outside_group), (15, 15, 15, 6), "{done:?}");
    assert_eq!((done.invalid, done.duplicates), (1, 1));
    assert_eq!(sim.iq_count("usync"), usync_before, "the group's own list answered; nothing was asked");

    let rows = session.checks().rows(job, 0, 100).unwrap();
    for (i, (phone, lid)) in members[..15].iter().enumerate() {
        let row = &rows[i];
        assert_eq!((row.phone.as_ref(), row.lid.as_ref()), (Some(phone), Some(lid)), "line {}", row.line);
        assert_eq!(row.source, Some(AnswerSource::Group));
    }
    for row in &rows[15..21] {
        assert_eq!(row.state, LineState::Skipped, "{row:?}");
        assert_eq!(row.error.as_deref(), Some("not a member of Neighbourhood watch"));
    }

    // Sorted by name, the named lines come first in order; by number, descending.
    let by_name = session
        .checks()
        .page(job, CheckFilter::OnWhatsapp, CheckOrder { by: CheckSort::Name, desc: false }, 0, 100)
        .unwrap();
    let names: Vec<String> = by_name.rows.iter().filter_map(|r| r.name.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted);
    assert!(by_name.rows.iter().skip(names.len()).all(|r| r.name.is_none()), "unnamed lines last");
    let by_number = session
        .checks()
        .page(job, CheckFilter::OnWhatsapp, CheckOrder { by: CheckSort::Number, desc: true }, 0, 100)
        .unwrap();
    let numbers: Vec<&String> = by_number.rows.iter().map(|r| r.phone.as_ref().unwrap()).collect();
    assert!(numbers.windows(2).all(|w| w[0] >= w[1]), "{numbers:?}");

    // A group the account is not in is refused before anything starts.
    let err = session.checks().start("+5511999990000", None, 120, Some("120363999999999999@g.us")).unwrap_err();
    assert!(err.to_string().contains("not in group"), "{err}");
    let err = session.checks().start("+5511999990000", None, 120, Some("family")).unwrap_err();
    assert!(err.to_string().contains("not a group JID"), "{err}");
    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_numbers_join_the_directory_and_known_lids_are_not_asked_again() {
    let sim = Simulator::start(SimConfig { seed: 47, contacts: 150, ..SimConfig::default() }).await.unwrap();
    let dir = temp_dir("checks-directory");
    let session = pair(&dir, &sim).await;
    let book = address_book(&sim).len();
    wait(&session, "the address book", |s| s.contact_count == book).await;
    let mut strangers: Vec<(String, String)> =
        registered(&sim).into_iter().filter(|(_, (_, known))| !known).map(|(p, (l, _))| (p, l)).collect();
    strangers.sort();
    strangers.truncate(10);
    let mut lines: Vec<String> = strangers.iter().map(|(p, _)| format!("+{p}")).collect();
    lines.push(format!("+{}", sim.world().unregistered[0]));
    let job = session.checks().start(&lines.join("\n"), None, roster_core::checks::MAX_RATE, None).unwrap().job;
    finished(&session, job).await;

    // Lines 1 and 3 added; the directory shows them, marked as added.
    let visible = |session: &Session| session.directory().page("", roster_core::ListFilter::All, 0, 500).unwrap();
    let before = visible(&session).total;
    assert_eq!(session.checks().add_to_directory(job, Some(&[1, 3, 11])).unwrap(), 2, "line 11 is not on WhatsApp");
    let after = visible(&session);
    assert_eq!(after.total, before + 2);
    for (phone, lid) in [&strangers[0], &strangers[2]] {
        let row = after.rows.iter().find(|r| &r.phone == phone).expect("listed");
        assert!(row.added && !row.in_address_book);
        assert_eq!(row.lid.as_ref(), Some(lid));
    }
    assert_eq!(session.checks().add_to_directory(job, Some(&[1, 2, 3, 4, 5])).unwrap(), 3, "1 and 3 are already there");
    assert!(matches!(session.checks().add_to_directory(job, Some(&[11])), Err(CheckError::NothingToAdd)));
    session.shutdown().await;

    // A week later the answers are too old to reuse, but the client's
    // LID↔PN map still knows who these LIDs are (the five not added to the
    // directory): resolved without the server.
    let db = rusqlite::Connection::open(dir.join("roster.db")).unwrap();
    db.execute("UPDATE number_check SET checked_at = checked_at - 8 * 86400", []).unwrap();
    drop(db);
    let session = common::start_session(&dir, &sim).await;
    wait(&session, "connected", |s| s.state == roster_core::ConnectionState::Connected).await;
    let asked_before = asked(&sim).len();
    let strangers = &strangers[5..];
    let lids: Vec<String> = strangers.iter().map(|(_, l)| format!("{l}@lid")).collect();
    let job = session.checks().start(&lids.join("\n"), None, 120, None).unwrap().job;
    let done = finished(&session, job).await;
    assert_eq!((done.checked, done.on_whatsapp, done.known), (5, 5, 5), "{done:?}");
    let rows = session.checks().rows(job, 0, 10).unwrap();
    for (row, (phone, lid)) in rows.iter().zip(strangers) {
        assert_eq!((row.phone.as_ref(), row.lid.as_ref()), (Some(phone), Some(lid)));
        assert_eq!(row.source, Some(AnswerSource::LidMap), "{row:?}");
    }
    assert_eq!(asked(&sim).len(), asked_before, "no LID reached the server");
    session.shutdown().await;
    sim.shutdown().await;
}
