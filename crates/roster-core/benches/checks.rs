//! Prints how fast lists of numbers are read and checked:
//! - normalising and de-duplicating 100,000 pasted lines (no network);
//! - checking 10,000 numbers against the simulator at the fastest pace the
//!   app allows (no pace limit), in numbers a second, and how that time splits between
//!   waiting for answers (whatsapp-rust + the simulator) and Roster itself
//!   (SQLite commits, scheduling, progress);
//! - a block from the window against one blocklist round trip.
//!
//! Run: `cargo bench -p roster-core --features sandbox --bench checks`

use std::time::{Duration, Instant};

use roster_core::checks::NO_LIMIT;
use roster_core::import::normalise;
use roster_core::{ConnectionState, DataDir, JobState, PICTURE_MAX_AGE, Session, SessionConfig, parse_server_url};
use roster_sim::{SimConfig, Simulator};

fn pasted_lines(n: usize) -> String {
    (0..n)
        .map(|i| match i % 10 {
            0 => format!("+55 (11) 9{:04}-{:04}", i % 10_000, i / 10 % 10_000),
            1 => format!("5511{:09}", 900_000_000 + i),
            2 => format!("+1 555 {:03} {:04}", i % 1000, i / 1000 % 10_000),
            3 => format!("44{:010}", 7_000_000_000u64 + i as u64),
            4 => format!("{}@s.whatsapp.net", 4_915_000_000_000u64 + i as u64),
            5 => format!("{}@lid", 200_000_000_000_000u64 + i as u64),
            6 => "not a number".to_owned(),
            7 => format!("+55 11 9{:08}", i - 6), // repeats line 1's number five lines on
            8 => format!("(+49) 1512.{:07}", i),
            _ => format!("0055 11 9{:08}", i),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn main() {
    // 1. Normalising 100,000 lines.
    let text = pasted_lines(100_000);
    let mut times = Vec::new();
    let mut preview = None;
    for _ in 0..7 {
        drop(preview.take()); // freeing the last one is not part of reading the next
        let t = Instant::now();
        preview = Some(normalise(&text, Some("BR"), None).unwrap());
        times.push(t.elapsed());
    }
    times.sort();
    let p = preview.unwrap();
    println!(
        "normalise + de-duplicate 100,000 lines ({:.1} MB): median of 7 {:?} (goal <= 50ms; {:.0} lines/s); {} numbers, {} LIDs, {} duplicates, {} invalid",
        text.len() as f64 / 1e6,
        times[3],
        100_000.0 / times[3].as_secs_f64(),
        p.numbers,
        p.lids,
        p.duplicates,
        p.invalid
    );

    // 2. Checking 10,000 numbers against the simulator.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let sim = Simulator::start(SimConfig { seed: 99, contacts: 4_000, ..SimConfig::default() }).await.unwrap();
        let dir = std::env::temp_dir().join(format!("roster-bench-checks-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let session = Session::start(SessionConfig {
            data_dir: DataDir::open(&dir).unwrap(),
            server: Some(parse_server_url(&sim.ws_url()).unwrap()),
            device_name: "Roster bench".into(),
            picture_max_age: PICTURE_MAX_AGE,
        })
        .await
        .unwrap();
        let qr = session.wait_for(Duration::from_secs(30), |s| s.qr.is_some()).await.unwrap().qr.unwrap();
        sim.scan_qr(&qr.code).unwrap();
        session.wait_for(Duration::from_secs(30), |s| s.state == ConnectionState::Connected).await.unwrap();

        // People outside the address book and numbers nobody has: all asked of the server.
        let mut numbers: Vec<String> =
            sim.world().people.iter().filter(|p| p.saved_name.is_none()).map(|p| format!("+{}", p.phone)).collect();
        let registered = numbers.len();
        numbers.extend((0..10_000 - registered).map(|i| format!("+55 11 8{:08}", i * 37)));
        let started = Instant::now();
        let job = session.checks().start(&numbers.join("\n"), None, NO_LIMIT, None).unwrap().job;
        let done = session
            .wait_for(Duration::from_secs(600), |s| {
                s.check.as_ref().is_some_and(|c| c.job == job && c.state == JobState::Done)
            })
            .await
            .expect("the check finishes")
            .check
            .unwrap();
        let total = started.elapsed();
        let server = Duration::from_millis(done.server_ms);
        let paced = Duration::from_millis(done.paced_ms);
        let working = total.saturating_sub(paced);
        let own = working.saturating_sub(server);
        println!(
            "check 10,000 numbers ({registered} registered) with no pace limit: {total:?} ({:.0} numbers/s; goal >= 20,000)",
            10_000.0 / total.as_secs_f64()
        );
        println!(
            "  without the pacing ({paced:?} held back): {working:?}, {:.0} numbers/s; of that, waiting for answers \
             (whatsapp-rust + simulator) {server:?} ({:.0}%), Roster itself (SQLite, scheduling, progress) {own:?} ({:.0}%; goal < 10%)",
            10_000.0 / working.as_secs_f64(),
            100.0 * server.as_secs_f64() / working.as_secs_f64(),
            100.0 * own.as_secs_f64() / working.as_secs_f64()
        );
        assert_eq!((done.checked, done.on_whatsapp), (10_000, registered));

        // 3. A block from the window against one round trip on the same connection.
        let world = sim.world();
        let unblocked = world.people.iter().find(|p| world.blocklist.iter().all(|b| b.lid != p.lid));
        let person = format!("+{}", unblocked.expect("someone not blocked").phone);
        let (mut blocks, mut fetches) = (Vec::new(), Vec::new());
        for i in 0..100 {
            let t = Instant::now();
            session.blocklist().set_blocked(&person, i % 2 == 0).await.unwrap();
            blocks.push(t.elapsed());
            let t = Instant::now();
            session.blocklist().refresh().await.unwrap();
            fetches.push(t.elapsed());
        }
        blocks.sort();
        fetches.sort();
        println!(
            "block or unblock: p50 {:?}, p95 {:?}; one blocklist round trip (fetch + save): p50 {:?}; ratio {:.2} (goal <= 1.1)",
            blocks[50],
            blocks[95],
            fetches[50],
            blocks[50].as_secs_f64() / fetches[50].as_secs_f64()
        );
        session.shutdown().await;
        sim.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
    });
}
