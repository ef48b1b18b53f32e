//! Prints start-up time and resident memory of Roster's core with five
//! linked accounts of 10,000 contacts each, against one account of the
//! same size, and the ratio.
//!
//! The simulator (five phones, 10,000 people each) runs in this process;
//! the five accounts are linked once into one data directory. Each
//! measurement then runs in a child process of its own (this binary again,
//! `--child`), so its memory is only Roster's: it opens the accounts'
//! folders, starts their sessions, and stops the clock once every one is
//! connected with its whole contact list read; then it reads its resident
//! set (`VmRSS`) and peak (`VmHWM`) from `/proc/self/status`.
//!
//! Run: `cargo bench -p roster-core --features sandbox --bench accounts`
//! (or, unoptimised, through `cargo test … --bench accounts`).

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use roster_core::{
    Accounts, ConnectionState, DataDir, PICTURE_MAX_AGE, Session, SessionConfig, SessionSnapshot, parse_server_url,
};
use roster_sim::{SimConfig, Simulator};

const ACCOUNTS: usize = 5;
const CONTACTS: usize = 10_000;
const ROUNDS: usize = 3;
const DEADLINE: Duration = Duration::from_secs(600);

async fn start(dir: DataDir, url: &str) -> Arc<Session> {
    Session::start(SessionConfig {
        data_dir: dir,
        server: Some(parse_server_url(url).unwrap()),
        device_name: "Roster bench".into(),
        picture_max_age: PICTURE_MAX_AGE,
    })
    .await
    .unwrap()
}

async fn wait(session: &Session, what: &str, done: impl FnMut(&SessionSnapshot) -> bool) -> SessionSnapshot {
    session.wait_for(DEADLINE, done).await.unwrap_or_else(|| panic!("timed out waiting for {what}"))
}

/// Kilobytes of a `/proc/self/status` line (`VmRSS`, `VmHWM`).
fn status_kb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.trim_start_matches(':').trim().strip_suffix("kB")?.trim().parse().ok())
        .unwrap_or(0)
}

/// In the child: starts `count` accounts' sessions, times them until all
/// are connected with `expected` contacts each, prints the figures.
async fn child(dir: &str, url: &str, count: usize, expected: &[usize]) {
    let started = Instant::now();
    let data = DataDir::open(dir).unwrap();
    let accounts = Accounts::open(&data).unwrap();
    let ids = accounts.ids().unwrap();
    let mut sessions = Vec::new();
    for id in ids.into_iter().take(count) {
        sessions.push(start(accounts.dir(id).unwrap(), url).await);
    }
    for (session, want) in sessions.iter().zip(expected) {
        wait(session, "connected with every contact", |s| {
            s.state == ConnectionState::Connected && s.contact_count == *want
        })
        .await;
    }
    let elapsed = started.elapsed();
    println!("RESULT {count} {} {} {}", elapsed.as_millis(), status_kb("VmRSS"), status_kb("VmHWM"));
    for session in sessions {
        session.shutdown().await;
    }
}

/// Runs the child for `count` accounts; returns (ms, rss kB, peak kB).
fn measure(dir: &str, url: &str, count: usize, expected: &[usize]) -> (u64, u64, u64) {
    let exe = std::env::current_exe().unwrap();
    let mut args = vec!["--child".to_owned(), dir.to_owned(), url.to_owned(), count.to_string()];
    args.extend(expected.iter().map(usize::to_string));
    let out = Command::new(exe).args(&args).output().expect("run the child");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("RESULT"))
        .unwrap_or_else(|| panic!("the child printed no result: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    let n: Vec<u64> = line.split_whitespace().skip(2).map(|v| v.parse().unwrap()).collect();
    (n[0], n[1], n[2])
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        let (dir, url, count) = (&args[at + 1], &args[at + 2], args[at + 3].parse().unwrap());
        let expected: Vec<usize> = args[at + 4..].iter().map(|v| v.parse().unwrap()).collect();
        runtime.block_on(child(dir, url, count, &expected));
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    runtime.block_on(async {
        let sim =
            Simulator::start(SimConfig { seed: 77, accounts: ACCOUNTS, contacts: CONTACTS, ..SimConfig::default() })
                .await
                .unwrap();
        let top = std::env::temp_dir().join(format!("roster-bench-accounts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&top);
        let data = DataDir::open(&top).unwrap();
        let accounts = Accounts::open(&data).unwrap();

        // Link the five accounts once, each by its own phone.
        let linking = Instant::now();
        let mut expected = Vec::new();
        for n in 1..=ACCOUNTS {
            let (_, dir) = accounts.create().unwrap();
            let session = start(dir, &sim.ws_url()).await;
            let qr = wait(&session, "a QR code", |s| s.qr.is_some()).await.qr.unwrap();
            sim.account(n).scan_qr(&qr.code).unwrap();
            let saved = sim.world_of(n).people.iter().filter(|p| p.saved_name.is_some()).count();
            let s = wait(&session, "the address book", |s| {
                s.state == ConnectionState::Connected && s.contact_count >= saved
            })
            .await;
            expected.push(s.contact_count);
            session.shutdown().await;
        }
        println!(
            "linked {ACCOUNTS} accounts of {CONTACTS} people each ({:?} contacts saved) in {:.1} s",
            expected,
            linking.elapsed().as_secs_f64()
        );

        let dir = top.display().to_string();
        let url = sim.ws_url();
        let run = |count: usize| {
            let rounds: Vec<_> = (0..ROUNDS).map(|_| measure(&dir, &url, count, &expected[..count])).collect();
            (
                median(rounds.iter().map(|r| r.0).collect()),
                median(rounds.iter().map(|r| r.1).collect()),
                median(rounds.iter().map(|r| r.2).collect()),
            )
        };
        let one = tokio::task::block_in_place(|| run(1));
        let five = tokio::task::block_in_place(|| run(ACCOUNTS));
        let mb = |kb: u64| kb as f64 / 1024.0;
        println!("accounts  start-up (median of {ROUNDS})  resident   peak");
        println!("{:>8}  {:>10} ms  {:>10.1} MB  {:>7.1} MB", 1, one.0, mb(one.1), mb(one.2));
        println!("{:>8}  {:>10} ms  {:>10.1} MB  {:>7.1} MB", ACCOUNTS, five.0, mb(five.1), mb(five.2));
        println!(
            "ratio {ACCOUNTS}:1   start-up {:.2}x  resident {:.2}x  peak {:.2}x",
            five.0 as f64 / one.0 as f64,
            five.1 as f64 / one.1 as f64,
            five.2 as f64 / one.2 as f64
        );
        sim.shutdown().await;
        let _ = std::fs::remove_dir_all(&top);
    });
}
