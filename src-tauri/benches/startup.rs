//! Prints Roster's start-up with 50,000 contacts cached against a bare
//! Tauri 2 window that loads a static page (`fixtures/bare_window.rs`, run
//! by this same binary), both timed the same way in one run (issue 16's
//! goal: at most 1.3× the bare window's time; resident memory at most 1.5×
//! the bare window's + 60 MB):
//!
//!     xvfb-run -a cargo bench -p roster --features sandbox --bench startup
//!
//! Each start is a new WebDriver session through tauri-driver, as the GUI
//! tests start the app: the time runs from asking for the session (which
//! launches the process) to the first frame the page marks as painted with
//! its content (`roster:list-painted`, the first rows of the list;
//! `painted` in the bare page), read as wall-clock time from the page's
//! `performance.timeOrigin`. Resident memory is the process's and its
//! WebKit processes' at that moment. Starts alternate between the two, on
//! this machine as it is (Xvfb draws in software).

#![cfg(feature = "sandbox")]

#[path = "fixtures/bare_window.rs"]
mod bare_window;
#[path = "../tests/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use support::{TauriDriver, wait_until};

const CONTACTS: usize = 50_000;
const RUNS: usize = 5;

/// The mark's wall-clock time (ms since the epoch), what it carried, when
/// the page began loading, and the page's steps: its own marks
/// (`roster:…`; the bare page has none), its parsing's end, its load event
/// and WebKit's first paints, as ms since it began loading.
const PAINTED: &str = "
  const m = performance.getEntriesByName(arguments[0])[0];
  if (!m) return null;
  const steps = performance.getEntriesByType('mark')
    .filter((e) => e.name.startsWith('roster:') && e.name !== arguments[0])
    .map((e) => [e.name.slice(7), e.startTime]);
  const nav = performance.getEntriesByType('navigation')[0];
  for (const p of performance.getEntriesByType('paint')) steps.push([p.name, p.startTime]);
  if (nav) steps.unshift(['html parsed', nav.domInteractive], ['load event', nav.loadEventStart]);
  return { at: performance.timeOrigin + m.startTime, detail: m.detail ?? null, page: performance.timeOrigin, steps };";

struct Start {
    ms: f64,
    /// Of `ms`, until the page began loading (the process, its runtime,
    /// GTK, the webview's processes).
    before_page_ms: f64,
    resident_mb: f64,
    /// Roster's connection state when the list was painted.
    state: Option<String>,
    /// The page's steps on the way, ms after it began loading.
    steps: Vec<(String, f64)>,
}

fn epoch_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64() * 1000.0
}

/// Starts `app` in a new session, waits for `mark`, notes the time and
/// memory, and quits it.
fn start(driver: &TauriDriver, app: &Path, args: &[String], mark: &str) -> Start {
    let asked = epoch_ms();
    let session = driver
        .client
        .new_tauri_session(app, args)
        .unwrap_or_else(|e| panic!("start {}: {e}; see {}", app.display(), driver.log.display()));
    let painted = wait_until(Duration::from_secs(120), mark, || match session.execute(PAINTED, json!([mark])) {
        Ok(Value::Null) => Err("not painted yet".into()),
        Ok(v) => Ok(Some(v)),
        Err(e) => Err(e.to_string()),
    });
    let resident_mb = driver.app_pids().iter().map(|pid| tree_resident_kb(*pid)).sum::<u64>() as f64 / 1024.0;
    driver.quit_app(Duration::from_secs(60));
    let _ = session.end();
    Start {
        ms: painted["at"].as_f64().expect("a time") - asked,
        before_page_ms: painted["page"].as_f64().expect("a time") - asked,
        resident_mb,
        state: painted["detail"].as_str().map(str::to_owned),
        steps: first_of_each(painted["steps"].as_array().into_iter().flatten()),
    }
}

/// Each step's first time, in order, with how often it came (a list page
/// asked again before the paint is asked twice).
fn first_of_each<'a>(steps: impl Iterator<Item = &'a Value>) -> Vec<(String, f64)> {
    let mut seen: Vec<(String, f64, usize)> = Vec::new();
    for step in steps {
        let (Some(name), Some(ms)) = (step[0].as_str(), step[1].as_f64()) else { continue };
        match seen.iter_mut().find(|(n, _, _)| n == name) {
            Some((_, _, times)) => *times += 1,
            None => seen.push((name.to_owned(), ms, 1)),
        }
    }
    seen.into_iter()
        .map(|(name, ms, times)| (if times > 1 { format!("{name} (×{times})") } else { name }, ms))
        .collect()
}

/// The resident memory of `pid` and every process under it, in KiB.
fn tree_resident_kb(pid: i32) -> u64 {
    let rss = fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmRSS:").map(|v| v.trim().trim_end_matches(" kB").to_owned()))
        })
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    rss + support::children_of(pid).into_iter().map(tree_resident_kb).sum::<u64>()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Each step's median, for the runs that reached it, in the order seen.
fn step_medians(starts: &[Start]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in starts.iter().flat_map(|s| &s.steps) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    let steps: Vec<String> = names
        .iter()
        .map(|name| {
            let at = starts.iter().flat_map(|s| &s.steps).filter(|(n, _)| n == name).map(|(_, ms)| *ms).collect();
            format!("{name} {:.0}", median(at))
        })
        .collect();
    steps.join(", ")
}

fn main() {
    if std::env::args().any(|a| a == "--bare-window") {
        return bare_window::run();
    }
    let support::Linked { runtime, sim, data_dir, driver, session, args, shots } =
        support::start_linked("startup-bench", 61, CONTACTS, &[]);
    let listed = support::whole_address_book_listed(&session, &sim);
    driver.quit_app(Duration::from_secs(60));
    let _ = session.end();
    let app = Path::new(env!("CARGO_BIN_EXE_roster"));
    // This binary is the bare window; it is found by its data directory
    // argument, as Roster is.
    let bare = std::env::current_exe().expect("the bench's own path");
    let bare_dir = data_dir.path().join("bare");
    let bare_args = vec!["--bare-window".to_owned(), "--data-dir".to_owned(), bare_dir.display().to_string()];
    let bare_driver = TauriDriver::start(&bare, &bare_dir, shots.dir.join("tauri-driver-bare.log"));

    let (mut roster, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        roster.push(start(&driver, app, &args, "roster:list-painted"));
        plain.push(start(&bare_driver, &bare, &bare_args, "painted"));
    }
    let states: Vec<&str> = roster.iter().map(|s| s.state.as_deref().unwrap_or("unknown")).collect();
    let (r_ms, b_ms) = (median(roster.iter().map(|s| s.ms).collect()), median(plain.iter().map(|s| s.ms).collect()));
    let (r_mb, b_mb) =
        (median(roster.iter().map(|s| s.resident_mb).collect()), median(plain.iter().map(|s| s.resident_mb).collect()));
    let (r_native, b_native) = (
        median(roster.iter().map(|s| s.before_page_ms).collect()),
        median(plain.iter().map(|s| s.before_page_ms).collect()),
    );
    println!("start to first paint, median of {RUNS} ({listed} contacts cached):");
    println!(
        "  Roster, list painted:      {r_ms:.0} ms ({r_native:.0} ms before the page began loading; connection state then: {})",
        states.join(", ")
    );
    println!("  in Roster's page, ms after it began loading (median): {}", step_medians(&roster));
    println!("  bare Tauri window, page:   {b_ms:.0} ms ({b_native:.0} ms before the page began loading)");
    println!("  in the bare page, ms after it began loading (median): {}", step_medians(&plain));
    println!("  ratio {:.2} (goal <= 1.3)", r_ms / b_ms);
    println!(
        "resident memory at that paint: Roster {r_mb:.1} MB, bare window {b_mb:.1} MB (goal <= 1.5 x {b_mb:.1} + 60 = {:.1} MB)",
        1.5 * b_mb + 60.0
    );
    drop(bare_driver);
    drop(driver);
    runtime.block_on(sim.shutdown());
    drop(data_dir);
}
