//! Acting on many people at once from the contact list, through the real
//! window: marking rows (Space, Ctrl+click, Shift+click, Ctrl+A), blocking
//! the marked after a confirmation, Undo, unblocking from the Blocked
//! filter, and "Show in folder" after an export, with the system's file
//! manager stood in for by a script on `PATH` that records what it is asked
//! to open. Expectations come from the simulator's `/admin/world`.
//!
//!     xvfb-run -a cargo test --workspace --features roster/sandbox,roster-core/sandbox --test gui_marks
//!
//! Screenshots land in `target/gui-screenshots/marks-*.png`.
#![cfg(feature = "sandbox")]

mod support;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::{Value, json};
use support::webdriver::Session;
use support::webdriver::key::{ARROW_DOWN, CONTROL, ESCAPE};
use support::{blocked_lids, wait_until};

/// Start-up, pairing and the first sync each take well under this.
const STEP: Duration = Duration::from_secs(60);

const READ: &str = "
  const $ = (id) => document.getElementById(id);
  const text = (id) => ($(id) ? $(id).textContent.trim() : null);
  const rows = [...document.querySelectorAll('#contact-rows .row')]
    .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index))
    .map((r) => ({
      index: Number(r.dataset.index),
      phone: r.dataset.phone,
      name: r.querySelector('.row-name').textContent,
      marked: r.querySelector('.row-mark').checked,
      blocked: r.dataset.blocked === 'true',
    }));
  const a = document.activeElement;
  return {
    state: document.body.dataset.state,
    count: text('list-count'),
    blocked: text('blocked-count'),
    rows,
    focusRow: a && a.classList.contains('row') ? Number(a.dataset.index) : null,
    bar: $('list-marks').hidden ? null : text('list-marks-count'),
    confirm: $('confirm-marked').open ? { title: text('confirm-marked-title'), body: text('confirm-marked-body') } : null,
    notice: $('list-notice').hidden ? null : text('list-notice-text'),
    undo: !$('list-undo').hidden,
    error: $('error').hidden ? '' : text('error-text'),
    exported: $('list-export-message').dataset.path || null,
    showInFolder: Boolean(document.querySelector('#list-export-message [data-action=show-in-folder]')),
    exportMessage: text('list-export-message'),
  };";

fn until(session: &Session, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    support::until_read(session, READ, STEP, what, done)
}

fn press(session: &Session, chords: &[&[&str]]) {
    session.keys(chords).unwrap_or_else(|e| panic!("press {chords:?}: {e}"));
}

/// Clicks the row drawn at `index` (its name), holding `modifier` if any.
fn click_row(session: &Session, index: u64, modifier: Option<&str>) {
    let script = "const row = document.querySelector(`#contact-rows .row[data-index=\"${arguments[0]}\"]`);
        if (!row) return false;
        const init = { bubbles: true, cancelable: true, ctrlKey: arguments[1] === 'ctrl', shiftKey: arguments[1] === 'shift' };
        row.querySelector('.row-name').dispatchEvent(new MouseEvent('click', init));
        row.focus();
        return true;";
    let clicked = session.execute(script, json!([index, modifier.unwrap_or("")])).unwrap();
    assert_eq!(clicked, true, "row {index} is drawn");
}

/// The marked rows drawn, by number (or, for someone known only by their
/// LID, by the LID the row shows).
fn marked_phones(s: &Value) -> BTreeSet<String> {
    let key = |r: &Value| match r["phone"].as_str().unwrap() {
        "" => r["name"].as_str().unwrap().to_owned(),
        phone => phone.to_owned(),
    };
    s["rows"].as_array().unwrap().iter().filter(|r| r["marked"] == true).map(key).collect()
}

#[test]
fn marked_rows_are_blocked_at_once_with_undo_and_exports_show_their_folder() {
    // The file manager: a script that writes down what it was asked to open.
    let tools = tempfile::Builder::new().prefix("gui-opener-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let opened = tools.path().join("opened.txt");
    let opener = tools.path().join("xdg-open");
    std::fs::write(&opener, format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", opened.display())).unwrap();
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut path = OsString::from(tools.path());
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let exports = tempfile::Builder::new().prefix("gui-exports-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let extra = ["--export-dir".to_owned(), exports.path().display().to_string()];
    let linked = support::start_linked_with_env("marks", 19, 200, &extra, &[("PATH", path.as_os_str())]);
    let (sim, session, shots) = (&linked.sim, &linked.session, &linked.shots);
    let world = sim.world();
    let before = blocked_lids(sim);
    until(session, "the list", |s| {
        s["state"] == "connected" && s["blocked"] == before.len().to_string() && s["rows"].as_array().unwrap().len() > 6
    });

    // Mark three unblocked people: Space on the first, Ctrl+click, Shift+click.
    let seen = until(session, "rows drawn", |s| s["rows"].as_array().unwrap().len() > 6);
    let free: Vec<u64> = seen["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["blocked"] == false && r["phone"] != "")
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    let first = free[0];
    let consecutive = free.windows(2).find(|w| w[1] == w[0] + 1 && w[0] > first).expect("two unblocked rows in a row");
    click_row(session, first, None);
    until(session, "the first row focused", |s| s["focusRow"] == first);
    press(session, &[&[" "]]);
    until(session, "Space to mark it", |s| s["bar"] == "1 person marked");
    click_row(session, consecutive[0], Some("ctrl"));
    until(session, "Ctrl+click to mark another", |s| s["bar"] == "2 people marked");
    click_row(session, consecutive[1], Some("shift"));
    // The bar counts at once; the rows' boxes are drawn on the next frame.
    let seen = until(session, "Shift+click to mark up to the next", |s| {
        s["bar"] == "3 people marked" && marked_phones(s).len() == 3
    });
    let marked = marked_phones(&seen);
    let want: BTreeSet<String> = [first, consecutive[0], consecutive[1]]
        .iter()
        .map(|&i| {
            seen["rows"].as_array().unwrap().iter().find(|r| r["index"] == i).unwrap()["phone"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(marked, want, "the rows marked are the ones clicked");
    let lids: BTreeSet<String> =
        world.people.iter().filter(|p| marked.contains(&p.phone)).map(|p| p.lid.clone()).collect();
    assert_eq!(lids.len(), 3);
    shots.take(session, "01-marked");

    // Block marked: it asks first, naming them, then blocks exactly them.
    session.click("#marks-block").unwrap();
    let seen = until(session, "the confirmation", |s| !s["confirm"].is_null());
    assert_eq!(seen["confirm"]["title"], "Block 3 people?");
    assert!(seen["confirm"]["body"].as_str().unwrap().contains("will not be able to call or message"), "{seen}");
    shots.take(session, "02-confirm");
    session.click("#confirm-marked-ok").unwrap();
    let seen = until(session, "the bulk block", |s| {
        s["notice"] == "Blocked 3 people." && s["undo"] == true && s["blocked"] == (before.len() + 3).to_string()
    });
    assert!(seen["bar"].is_null(), "the marks are cleared once done: {seen}");
    let mut expected = before.clone();
    expected.extend(lids.iter().cloned());
    assert_eq!(blocked_lids(sim), expected, "the server blocked exactly the marked people");
    assert_eq!(seen["error"], "");
    shots.take(session, "03-blocked");

    // Undo unblocks exactly them.
    session.click("#list-undo").unwrap();
    until(session, "the undo", |s| {
        s["notice"] == "Unblocked 3 people." && s["undo"] == false && s["blocked"] == before.len().to_string()
    });
    assert_eq!(blocked_lids(sim), before);

    // The Blocked filter: Ctrl+A marks everyone it shows, Escape clears,
    // and Unblock marked unblocks them all (no confirmation needed).
    session.click("#filter-blocked").unwrap();
    until(session, "the blocked filter", |s| s["count"] == format!("{} blocked", before.len()));
    let seen = until(session, "blocked rows drawn", |s| !s["rows"].as_array().unwrap().is_empty());
    click_row(session, seen["rows"][0]["index"].as_u64().unwrap(), None);
    press(session, &[&[CONTROL, "a"]]);
    until(session, "Ctrl+A to mark every blocked person", |s| s["bar"] == format!("{} people marked", before.len()));
    press(session, &[&[ESCAPE]]);
    until(session, "Escape to clear the marks", |s| s["bar"].is_null());
    press(session, &[&[" "], &[ARROW_DOWN], &[" "]]);
    let seen =
        until(session, "two marked with Space", |s| s["bar"] == "2 people marked" && marked_phones(s).len() == 2);
    let phones = marked_phones(&seen);
    let names: Vec<String> = seen["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["marked"] == true)
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    session.click("#marks-unblock").unwrap();
    until(session, "the bulk unblock", |s| {
        s["notice"] == "Unblocked 2 people." && s["undo"] == false && s["blocked"] == (before.len() - 2).to_string()
    });
    let left = blocked_lids(sim);
    assert_eq!(left.len(), before.len() - 2);
    assert!(left.is_subset(&before), "only unblocks happened");
    for key in &phones {
        let lid = match key.strip_suffix("@lid") {
            Some(lid) => lid,
            None => &world.people.iter().find(|p| &p.phone == key).unwrap().lid,
        };
        assert!(before.contains(lid) && !left.contains(lid), "{key} ({names:?}) was unblocked on the server");
    }
    shots.take(session, "04-unblocked");

    // An export says where it went, and "Show in folder" opens that folder.
    session.click("#list-export").unwrap();
    let seen = until(session, "the export", |s| !s["exported"].is_null() && s["showInFolder"] == true);
    let file = seen["exported"].as_str().unwrap().to_owned();
    assert!(file.starts_with(&exports.path().display().to_string()), "{file}");
    session.click("#list-export-message [data-action=show-in-folder]").unwrap();
    let asked =
        wait_until(STEP, "the file manager asked to open the folder", || match std::fs::read_to_string(&opened) {
            Ok(text) if !text.is_empty() => Ok(Some(text)),
            other => Err(format!("{other:?}")),
        });
    assert_eq!(asked.trim_end(), exports.path().display().to_string(), "the export's own folder");
    shots.take(session, "05-exported");
    linked.finish();
}
