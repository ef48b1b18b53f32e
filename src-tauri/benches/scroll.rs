//! Prints what a fast scroll through 50,000 contacts costs in the real
//! window: how many pictures the app asks the server for against how many
//! rows stayed in view for 100 ms (each picture asked for is one usync
//! query for the person's profile) (the goal: no more fetches than those),
//! and the frames the list drew meanwhile (the goal: none over 16 ms).
//!
//!     xvfb-run -a cargo bench -p roster --features sandbox --bench scroll
//!
//! The page is driven through tauri-driver as the GUI tests do. A recorder
//! injected into the page notes, on every animation frame, which rows are
//! in view and for how long, and the time between frames; WebKit has no
//! long-task entries for `PerformanceObserver`, so frames are timed with
//! `requestAnimationFrame`. The scroll is five flicks of two seconds
//! (about 30 rows a frame), each followed by a one-second rest.
//! Under Xvfb the webview draws in software: frame times are this
//! machine's, not a GPU desktop's.

#![cfg(feature = "sandbox")]

#[path = "../tests/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::wait_until;

const CONTACTS: usize = 50_000;
const DWELL_MS: f64 = 100.0;

/// Installs the recorder and starts the flicks; `window.__scroll.done` is set at the end.
const SCROLL: &str = r#"
  const dwell = arguments[0];
  const scroller = document.getElementById('contact-list');
  const rows = document.getElementById('contact-rows');
  const rec = { frames: [], since: new Map(), stayed: new Set(), done: false };
  window.__scroll = rec;
  const flicks = 5, flickMs = 2000, restMs = 1000, rowsPerFrame = 30, rowHeight = 56;
  const start = performance.now();
  let last = start;
  function visible() {
    // The list's inside: its border hides what is under it.
    const top = scroller.getBoundingClientRect().top + scroller.clientTop;
    const bottom = top + scroller.clientHeight;
    const seen = new Set();
    for (const el of rows.children) {
      const r = el.getBoundingClientRect();
      if (r.bottom > top && r.top < bottom && el.dataset.phone) seen.add(el.dataset.phone);
    }
    return seen;
  }
  function frame(now) {
    rec.frames.push(now - last);
    last = now;
    const seen = visible();
    for (const phone of seen) if (!rec.since.has(phone)) rec.since.set(phone, now);
    for (const [phone, t] of rec.since) {
      if (now - t >= dwell) rec.stayed.add(phone);
      if (!seen.has(phone)) rec.since.delete(phone);
    }
    const t = now - start;
    const phase = Math.floor(t / (flickMs + restMs));
    if (phase >= flicks) { rec.done = true; return; }
    if (t - phase * (flickMs + restMs) < flickMs) scroller.scrollTop += rowsPerFrame * rowHeight;
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
"#;

const RESULT: &str = r#"
  const rec = window.__scroll;
  if (!rec || !rec.done) return null;
  const frames = rec.frames.slice(1).sort((a, b) => a - b);
  const at = (q) => frames[Math.min(frames.length - 1, Math.floor(q * frames.length))];
  return {
    frames: frames.length,
    over16: frames.filter((f) => f > 16.7).length,
    p50: at(0.5), p95: at(0.95), max: frames[frames.length - 1],
    stayed: rec.stayed.size,
    longtask: (PerformanceObserver.supportedEntryTypes || []).includes('longtask'),
  };
"#;

/// Waits until every row in view shows what its picture is (or is not).
fn pictures_in_view(session: &support::webdriver::Session, what: &str) {
    const UNKNOWN: &str = "
      const list = document.getElementById('contact-list');
      const top = list.getBoundingClientRect().top + list.clientTop;
      const bottom = top + list.clientHeight;
      return [...document.querySelectorAll('#contact-rows .row')].filter((el) => {
        const r = el.getBoundingClientRect();
        return r.bottom > top && r.top < bottom && el.dataset.phone
          && el.querySelector('.avatar').dataset.picture === 'unknown';
      }).length;";
    wait_until(Duration::from_secs(60), what, || {
        let unknown = session.execute(UNKNOWN, json!([])).map_err(|e| e.to_string())?;
        if unknown == 0 { Ok(Some(())) } else { Err(format!("{unknown} rows in view without a picture state")) }
    });
}

fn main() {
    let started = Instant::now();
    let linked = support::start_linked("scroll-bench", 77, CONTACTS, &[]);
    let count = support::whole_address_book_listed(&linked.session, &linked.sim);
    println!(
        "{count} contacts listed, {:.1} s after start (linking and the first sync included)",
        started.elapsed().as_secs_f64()
    );
    // Let the first screen's pictures arrive, so the scroll alone is measured.
    let before_first = linked.sim.iq_count("usync");
    pictures_in_view(&linked.session, "the first screen's pictures");
    let first_screen = linked.sim.iq_count("usync") - before_first;

    let asked_before = linked.sim.iq_count("usync");
    linked.session.execute(SCROLL, json!([DWELL_MS])).expect("start the scroll");
    let result: Value = wait_until(Duration::from_secs(120), "the scroll to end", || {
        match linked.session.execute(RESULT, json!([])).map_err(|e| e.to_string())? {
            Value::Null => Err("scrolling".into()),
            v => Ok(Some(v)),
        }
    });
    // The last rest's rows may still be waiting for their pictures.
    let stayed = result["stayed"].as_u64().unwrap_or(0);
    pictures_in_view(&linked.session, "the last screen's pictures");
    let asked = linked.sim.iq_count("usync") - asked_before;
    linked.shots.take(&linked.session, "end");

    println!("first screen: {first_screen} pictures asked");
    println!(
        "fast scroll through {count} contacts: {stayed} rows stayed in view >= {DWELL_MS} ms; pictures asked of the server: {asked} (goal <= {stayed})"
    );
    println!(
        "frames while scrolling: {} drawn, {} over 16 ms (goal 0); p50 {:.1} ms, p95 {:.1} ms, longest {:.1} ms; long-task entries supported: {}",
        result["frames"],
        result["over16"],
        result["p50"].as_f64().unwrap_or(0.0),
        result["p95"].as_f64().unwrap_or(0.0),
        result["max"].as_f64().unwrap_or(0.0),
        result["longtask"]
    );
    linked.finish();
}
