//! Prints, at 10,000, 50,000 and 100,000 contacts (10,000 of them blocked
//! at 100,000), how long the directory takes to store an address book and
//! to answer every kind of search, each figure beside its goal (issue 16);
//! then the time a session takes to start with 50,000 contacts cached (no
//! server reachable).
//! Run: `cargo bench -p roster-core --bench directory`

use std::time::{Duration, Instant};

use roster_core::store::{SavedContact, Store};
use roster_core::{BlockedEntry, ListFilter};
use roster_core::{DataDir, PICTURE_MAX_AGE, Session, SessionConfig, parse_server_url};

const SIZES: &[usize] = &[10_000, 50_000, 100_000];
/// The size the goals are set for.
const GOAL_SIZE: usize = 50_000;
const SEARCH_GOAL: Duration = Duration::from_millis(5);
const SAVE_GOAL: Duration = Duration::from_millis(500);
const RUNS: usize = 200;
const FIRST: &[&str] = &["Ana", "Bruno", "Carla", "Diego", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas"];
const LAST: &[&str] = &["Silva", "Okafor", "Rossi", "Nakamura", "García", "Kowalski", "Haddad", "Larsen"];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn lid(i: usize) -> String {
    format!("{}", 200_000_000_000_000u64 + i as u64 * 104_729)
}

fn address_book(n: usize) -> Vec<SavedContact> {
    (0..n)
        .map(|i| SavedContact {
            phone: format!("55119{:08}", i * 7919 % 100_000_000),
            lid: Some(lid(i)),
            name: Some(format!("{} {} {i}", FIRST[i % FIRST.len()], LAST[i / FIRST.len() % LAST.len()])),
        })
        .collect()
}

/// `figure (goal ≤ …) ok|MISSED`, or the bare figure where no goal is set.
fn against(figure: Duration, goal: Option<Duration>) -> String {
    match goal {
        Some(g) => format!("{figure:>9.2?} (goal ≤ {g:?}) {}", if figure <= g { "ok" } else { "MISSED" }),
        None => format!("{figure:>9.2?}"),
    }
}

fn main() {
    let mut dirs = Vec::new();
    for &n in SIZES {
        let goal = |g: Duration| (n == GOAL_SIZE).then_some(g);
        let dir = std::env::temp_dir().join(format!("roster-bench-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let data_dir = DataDir::open(&dir).unwrap();
        let store = Store::open(&data_dir.app_db()).unwrap();
        let entries = address_book(n);
        println!("\n== {n} contacts ==");
        let started = Instant::now();
        store.directory().save_address_book(&entries).unwrap();
        println!("store the address book (one transaction):  {}", against(started.elapsed(), goal(SAVE_GOAL)));
        let started = Instant::now();
        store.directory().save_address_book(&entries).unwrap();
        println!("store it again (every contact known):       {}", against(started.elapsed(), goal(SAVE_GOAL)));
        // A 500-contact patch from the phone: renames.
        let patch: Vec<SavedContact> = entries
            .iter()
            .step_by(n / 500)
            .map(|e| SavedContact { name: Some(format!("Renamed {}", e.phone)), ..e.clone() })
            .collect();
        let started = Instant::now();
        store.directory().save_address_book(&patch).unwrap();
        println!("apply a {}-contact patch:                  {}", patch.len(), against(started.elapsed(), None));
        if n == 100_000 {
            // 10,000 blocked: half of them in the directory (by LID), half
            // known only by LID and number.
            let blocked: Vec<BlockedEntry> = (0..10_000)
                .map(|i| match i % 2 {
                    0 => BlockedEntry { lid: lid(i * 7), phone: None, blocked_at: Some(i as u64) },
                    _ => BlockedEntry {
                        lid: format!("{}", 300_000_000_000_000u64 + i as u64),
                        phone: Some(format!("4915{:09}", i)),
                        blocked_at: Some(i as u64),
                    },
                })
                .collect();
            let started = Instant::now();
            store.blocklist().exchange_blocking().replace(&blocked).unwrap();
            println!("store a blocklist of 10,000:                {}", against(started.elapsed(), None));
            let mut one_more = blocked.clone();
            one_more.push(BlockedEntry { lid: lid(1), phone: None, blocked_at: Some(99_999) });
            let started = Instant::now();
            store.blocklist().exchange_blocking().replace(&one_more).unwrap();
            println!("store it again with one more blocked:       {}", against(started.elapsed(), None));
        }
        drop(store);
        let started = Instant::now();
        let store = Store::open(&data_dir.app_db()).unwrap();
        println!("open the store (search index built):        {}", against(started.elapsed(), None));

        let queries = [
            ("", ListFilter::All),
            ("a", ListFilter::All),
            ("an", ListFilter::All),
            ("ana", ListFilter::All),
            ("+55 11 9", ListFilter::All),
            ("5511900", ListFilter::All),
            ("200000000", ListFilter::All),
            ("200000000104729", ListFilter::All),
            ("200000000104729@lid", ListFilter::All),
            ("garcia", ListFilter::All),
            ("Kowalski 4", ListFilter::All),
            ("zzz-no-match", ListFilter::All),
            ("", ListFilter::Blocked),
            ("4915", ListFilter::Blocked),
        ];
        println!("search, first page of 50 with the match count, {RUNS} runs each:");
        println!("{:<24} {:>8} {:>10} {:>10}  p95", "query", "matches", "p50", "max");
        for (q, filter) in queries {
            let mut times = Vec::with_capacity(RUNS);
            let mut total = 0;
            for _ in 0..RUNS {
                let t = Instant::now();
                let page = store.directory().page(q, filter, 0, 50).unwrap();
                times.push(t.elapsed());
                total = page.total;
            }
            times.sort();
            let label = match filter {
                ListFilter::All => format!("{q:?}"),
                ListFilter::Blocked => format!("{q:?} (blocked)"),
            };
            println!(
                "{label:<24} {total:>8} {:>10.2?} {:>10.2?}  {}",
                percentile(&times, 0.5),
                times[times.len() - 1],
                against(percentile(&times, 0.95), Some(SEARCH_GOAL))
            );
        }
        // The list scrolled to its end.
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let t = Instant::now();
            store.directory().page("", ListFilter::All, n.saturating_sub(100), 100).unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "{:<24} {:>8} {:>10.2?} {:>10.2?}  {}",
            "\"\" (last page of 100)",
            n,
            percentile(&times, 0.5),
            times[times.len() - 1],
            against(percentile(&times, 0.95), Some(SEARCH_GOAL))
        );
        drop(store);
        dirs.push((n, dir));
    }

    let (_, dir) = dirs.iter().find(|(n, _)| *n == GOAL_SIZE).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut starts = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let session = runtime.block_on(Session::start(SessionConfig {
            data_dir: DataDir::open(dir).unwrap(),
            server: Some(parse_server_url("ws://127.0.0.1:9/ws/chat").unwrap()),
            device_name: "bench".into(),
            picture_max_age: PICTURE_MAX_AGE,
        }));
        let session = session.unwrap();
        let first_page = session.directory().page("", ListFilter::All, 0, 50).unwrap();
        starts.push(t.elapsed());
        assert_eq!(session.snapshot().contact_count, GOAL_SIZE);
        assert_eq!(first_page.rows.len(), 50);
        runtime.block_on(session.shutdown());
    }
    starts.sort();
    println!(
        "\nstart-up with {GOAL_SIZE} contacts cached, to the first page shown: median {:?}, max {:?}",
        starts[2], starts[4]
    );
    for (_, dir) in dirs {
        std::fs::remove_dir_all(dir).unwrap();
    }
}
