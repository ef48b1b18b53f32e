//! Prints search latency over a 50,000-contact directory and the time a
//! session takes to start with that directory cached (no server reachable).
//! Run: `cargo bench -p roster-core --bench directory`

use std::time::{Duration, Instant};

use roster_core::ListFilter;
use roster_core::store::{SavedContact, Store};
use roster_core::{DataDir, PICTURE_MAX_AGE, Session, SessionConfig, parse_server_url};

const CONTACTS: usize = 50_000;
const FIRST: &[&str] = &["Ana", "Bruno", "Carla", "Diego", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas"];
const LAST: &[&str] = &["Silva", "Okafor", "Rossi", "Nakamura", "García", "Kowalski", "Haddad", "Larsen"];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn main() {
    let dir = std::env::temp_dir().join(format!("roster-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data_dir = DataDir::open(&dir).unwrap();
    let store = Store::open(&data_dir.app_db()).unwrap();
    let entries: Vec<SavedContact> = (0..CONTACTS)
        .map(|i| SavedContact {
            phone: format!("55119{:08}", i * 7919 % 100_000_000),
            lid: Some(format!("{}", 200_000_000_000_000u64 + i as u64 * 104_729)),
            name: Some(format!("{} {} {i}", FIRST[i % FIRST.len()], LAST[i / FIRST.len() % LAST.len()])),
        })
        .collect();
    let started = Instant::now();
    store.directory().save_address_book(&entries).unwrap();
    println!("saving {CONTACTS} contacts (one transaction): {:?}", started.elapsed());

    let queries = ["ana", "an", "Kowalski 4", "+55 11 9000", "5511900", "200000000", "zzz-no-match", ""];
    println!("\nsearch over {CONTACTS} contacts, first page of 50, 200 runs each:");
    println!("{:<16} {:>8} {:>10} {:>10} {:>10}", "query", "matches", "p50", "p99", "max");
    for q in queries {
        let mut times = Vec::with_capacity(200);
        let mut total = 0;
        for _ in 0..200 {
            let t = Instant::now();
            let page = store.directory().page(q, ListFilter::All, 0, 50).unwrap();
            times.push(t.elapsed());
            total = page.total;
        }
        times.sort();
        println!(
            "{:<16} {:>8} {:>10.2?} {:>10.2?} {:>10.2?}",
            format!("{q:?}"),
            total,
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times[times.len() - 1]
        );
    }
    drop(store);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut starts = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let session = runtime.block_on(Session::start(SessionConfig {
            data_dir: DataDir::open(&dir).unwrap(),
            server: Some(parse_server_url("ws://127.0.0.1:9/ws/chat").unwrap()),
            device_name: "bench".into(),
            picture_max_age: PICTURE_MAX_AGE,
        }));
        let session = session.unwrap();
        let first_page = session.directory().page("", ListFilter::All, 0, 50).unwrap();
        starts.push(t.elapsed());
        assert_eq!(session.snapshot().contact_count, CONTACTS);
        assert_eq!(first_page.rows.len(), 50);
        runtime.block_on(session.shutdown());
    }
    starts.sort();
    println!(
        "\nstart-up with {CONTACTS} contacts cached, to the first page shown: median {:?}, max {:?}",
        starts[2], starts[4]
    );
    std::fs::remove_dir_all(dir).unwrap();
}
