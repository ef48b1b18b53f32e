//! The audit log: every operator action, with its time and outcome, as
//! recorded in roster.db against what the simulator's world shows.

mod common;

use common::{not_blocked, pair, temp_dir, wait};
use roster_core::{ConnectionState, JobIntent, Scope};
use roster_sim::{SimConfig, Simulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operator_action_is_logged_with_its_outcome() {
    let sim = Simulator::start(SimConfig { seed: 61, contacts: 60, ..SimConfig::default() }).await.unwrap();
    let session = pair(&temp_dir("audit"), &sim).await;
    let world = sim.world();
    let person = not_blocked(&world).next().unwrap();
    let phone = &person.phone;
    let count = world.blocklist.len();

    let typed = format!("+{phone}");
    session.blocklist().set_blocked(&typed, true).await.unwrap();
    session.blocklist().set_blocked("12", true).await.unwrap_err();
    session.blocklist().set_blocked(&typed, false).await.unwrap();
    session.app_state().sync(&[Scope::Contacts], false).await.unwrap();
    let job = session.checks().start("+5511999990000\n+5511999990001", None, 1, None).unwrap().job;
    session.checks().steer(job, JobIntent::Cancel).unwrap();
    session.checks().steer(job, JobIntent::Resume).unwrap_err();
    session.logout().await.unwrap();
    wait(&session, "a new pairing", |s| s.state == ConnectionState::WaitingForScan).await;

    let log = session.audit().page(0, 100).unwrap();
    let seen: Vec<(&str, Option<&str>, &str)> =
        log.rows.iter().rev().map(|e| (e.action.as_str(), e.target.as_deref(), e.outcome.as_str())).collect();
    let check_target = "2 lines".to_owned();
    let job_target = format!("check #{job}");
    assert_eq!(
        seen,
        vec![
            ("block", Some(typed.as_str()), "done"),
            ("block", Some("12"), "failed"),
            ("unblock", Some(typed.as_str()), "done"),
            ("sync", Some("contacts"), "done"),
            ("check numbers", Some(check_target.as_str()), "done"),
            ("cancel check", Some(job_target.as_str()), "done"),
            ("resume check", Some(job_target.as_str()), "failed"),
            ("log out", None, "done"),
        ]
    );
    assert_eq!(log.total, 8);
    let detail = |i: usize| log.rows[log.rows.len() - 1 - i].detail.clone().unwrap_or_default();
    assert_eq!(detail(0), format!("+{phone}; the account now blocks {}", count + 1), "the server's count");
    assert!(detail(1).contains("too short"), "{}", detail(1));
    assert_eq!(detail(2), format!("+{phone}; the account now blocks {count}"));
    assert!(detail(6).contains("cancelled"), "{}", detail(6));
    assert!(log.rows.windows(2).all(|w| w[0].at >= w[1].at), "newest first");

    // The export: a header and one line per action, oldest first.
    let csv = session.audit().export_csv().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "\u{feff}id,time,action,target,outcome,detail", "a BOM, then the header");
    assert_eq!(lines.len(), 9);
    assert!(lines[1].contains(",block,+") && lines[1].contains(",done,"), "{}", lines[1]);
    assert!(lines[8].contains(",log out,,done,"), "{}", lines[8]);
    session.shutdown().await;
    sim.shutdown().await;
}
