//! Every view at 800×600, 1280×800 and 1920×1080, through the real window:
//! nothing wider than the window, the tabs on one line, the contact list
//! usable beside (or above) the detail panel, the groups list beside (or
//! above) a group's panel, the activity log and a check's results readable
//! in full where the window is wide enough.
//!
//!     xvfb-run -a cargo test --workspace --features roster/sandbox,roster-core/sandbox --test gui_layout
//!
//! Screenshots of each view at each size land in `target/gui-screenshots/layout-*.png`.
#![cfg(feature = "sandbox")]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::webdriver::Session;

const STEP: Duration = Duration::from_secs(60);

/// How the visible view lays out, measured in the page.
const MEASURE: &str = "
  const $ = (id) => document.getElementById(id);
  const box = (el) => (el ? el.getBoundingClientRect() : null);
  const tabs = [...document.querySelectorAll('.tabs .tab')].map((t) => box(t).top);
  const table = (frame) => {
    const t = frame && frame.querySelector('table');
    return t && frame.offsetParent ? { frame: frame.clientWidth, table: t.scrollWidth } : null;
  };
  return {
    width: innerWidth,
    height: innerHeight,
    page: document.documentElement.scrollWidth,
    tabsOneLine: tabs.length > 0 && tabs.every((top) => Math.abs(top - tabs[0]) < 2),
    list: $('contact-list').offsetParent ? { w: box($('contact-list')).width, h: box($('contact-list')).height } : null,
    rows: document.querySelectorAll('#contact-rows .row').length,
    activity: table(document.querySelector('.activity .table-frame')),
    results: table($('job-rows') && $('job-rows').closest('.table-frame')),
    groups: $('groups-list').offsetParent ? {
      w: box($('groups-list')).width,
      h: box($('groups-list')).height,
      rows: document.querySelectorAll('#groups-list .group-row').length,
      detail: { w: box($('group-detail')).width, h: box($('group-detail')).height },
      members: document.querySelectorAll('#group-members li').length,
    } : null,
  };";

fn measure(session: &Session) -> Value {
    session.settle().unwrap();
    session.execute(MEASURE, json!([])).unwrap()
}

#[test]
fn every_view_fits_from_800x600_to_full_hd() {
    let linked = support::start_linked("layout", 15, 300, &[]);
    let (sim, session, shots) = (&linked.sim, &linked.session, &linked.shots);

    // A finished check, so its results table is there to measure.
    let world = sim.world();
    let lines: Vec<String> = world.people.iter().take(6).map(|p| format!("+{}", p.phone)).collect();
    session.click("#tab-import").unwrap();
    session.type_text("#import-text", &lines.join("\u{E007}")).unwrap();
    session.click("#import-preview").unwrap();
    session.clear("#import-rate").unwrap();
    session.type_text("#import-rate", "600").unwrap();
    session.click("#import-start").unwrap();
    support::until_read(session, "return document.querySelectorAll('#job-rows tr').length", STEP, "results", |n| {
        n.as_u64() == Some(lines.len() as u64)
    });

    for (width, height) in [(800, 600), (1280, 800), (1920, 1080)] {
        session.set_window_size(width, height).unwrap();
        let size = format!("{width}x{height}");
        let seen = support::until_read(session, "return innerWidth", STEP, &format!("the window at {size}"), |w| {
            w.as_u64().is_some_and(|w| w as u32 <= width && w as u32 >= width - 40)
        });
        assert!(seen.as_u64().is_some(), "{seen}");
        for tab in ["contacts", "import", "groups", "settings"] {
            session.click(&format!("#tab-{tab}")).unwrap();
            if tab == "groups" {
                // A group open in the panel, its members listed.
                support::until_read(
                    session,
                    "return document.querySelectorAll('#groups-list .group-row').length",
                    STEP,
                    "the groups",
                    |n| n.as_u64() == Some(world.groups.len() as u64),
                );
                session.execute("document.querySelector('#groups-list .group-row').click()", json!([])).unwrap();
                support::until_read(
                    session,
                    "return document.querySelectorAll('#group-members li').length",
                    STEP,
                    "members",
                    |n| n.as_u64().is_some_and(|n| n > 0),
                );
            }
            let m = measure(session);
            shots.take(session, &format!("{size}-{tab}"));
            let at = format!("{tab} at {size}: {m}");
            assert!(m["page"].as_f64() <= m["width"].as_f64(), "nothing wider than the window: {at}");
            assert_eq!(m["tabsOneLine"], true, "the tabs on one line: {at}");
            match tab {
                "contacts" => {
                    let list = &m["list"];
                    assert!(list["w"].as_f64().unwrap() >= 300.0, "the list is wide enough to read: {at}");
                    assert!(list["h"].as_f64().unwrap() >= 200.0, "and tall enough for rows: {at}");
                    assert!(m["rows"].as_u64().unwrap() >= 3, "{at}");
                }
                "groups" => {
                    let groups = &m["groups"];
                    assert!(groups["w"].as_f64().unwrap() >= 300.0, "the groups list is wide enough to read: {at}");
                    assert!(groups["h"].as_f64().unwrap() >= 120.0, "and tall enough for rows: {at}");
                    assert!(groups["rows"].as_u64().unwrap() >= 2, "{at}");
                    assert!(groups["detail"]["w"].as_f64().unwrap() >= 300.0, "the group's panel is readable: {at}");
                    assert!(groups["detail"]["h"].as_f64().unwrap() >= 150.0, "{at}");
                }
                "settings" => {
                    let activity = &m["activity"];
                    assert!(
                        activity["frame"].as_f64().unwrap() >= 0.6 * m["width"].as_f64().unwrap().min(1200.0),
                        "the activity log gets the width: {at}"
                    );
                }
                _ if width >= 1280 => {
                    let results = &m["results"];
                    assert!(
                        results["table"].as_f64() <= results["frame"].as_f64().map(|f| f + 1.0),
                        "a check's results fit, the note included: {at}"
                    );
                }
                _ => {}
            }
        }
    }
    linked.finish();
}
