//! The window at home on the desktop, through the real window: the keys
//! (search, roving focus in the list, Home/End, type-ahead, Enter, Shift+B
//! through the block toggle's own flow, Ctrl+Tab, the ? overlay) and the
//! dark theme the system asks for, with its contrast computed.
//!
//!     xvfb-run -a cargo test --workspace --features roster/sandbox,roster-core/sandbox --test gui_keyboard
//!
//! Screenshots land in `target/gui-screenshots/keyboard-*.png` and `dark-*.png`.
#![cfg(feature = "sandbox")]

mod support;

use std::ffi::OsStr;
use std::time::Duration;

use roster_sim::PersonReport;
use serde_json::{Value, json};
use support::webdriver::Session;
use support::webdriver::key::{ARROW_DOWN, CONTROL, END, ENTER, ESCAPE, HOME, SHIFT, TAB};
use support::{Linked, blocked_lids, wait_until};

/// Start-up, pairing and the first sync each take well under this.
const STEP: Duration = Duration::from_secs(60);

/// What the keys change, in one round trip; `theme` computes the contrast
/// of text on the page's surfaces (WCAG 2 relative luminance).
const READ: &str = "
  const $ = (id) => document.getElementById(id);
  const text = (id) => ($(id) ? $(id).textContent.trim() : null);
  // Read with care: what is missing must fail an assertion, not the read.
  const a = document.activeElement;
  const rows = [...document.querySelectorAll('#contact-rows .row')];
  const rowOf = (r) => ({
    index: Number(r.dataset.index),
    phone: r.dataset.phone,
    name: r.querySelector('.row-name').textContent,
    blocked: r.dataset.blocked === 'true',
  });
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, b] = rgb(c).map((v) => v / 255).map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (fg, bg) => {
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const css = (el, prop) => getComputedStyle(el).getPropertyValue(prop);
  const page = css(document.documentElement, 'background-color');
  const surface = css($('contact-list'), 'background-color');
  const body = css(document.body, 'color');
  const muted = css($('list-count'), 'color');
  return {
    state: document.body.dataset.state,
    count: text('list-count'),
    focus: a === document.body ? 'body' : a.id || a.className,
    focusRow: a.classList.contains('row') ? Number(a.dataset.index) : null,
    selected: rows.filter((r) => r.getAttribute('aria-selected') === 'true').map(rowOf),
    stops: rows.filter((r) => r.getAttribute('tabindex') === '0').map(rowOf),
    others: rows.filter((r) => r.getAttribute('tabindex') !== '0').map((r) => r.getAttribute('tabindex')),
    toggleStops: rows.filter((r) => r.querySelector('.toggle').tabIndex >= 0).length,
    detail: $('detail-body').hidden ? null : text('detail-name'),
    tab: document.querySelector('[role=tab][aria-selected=true]').id,
    importShown: !$('import-view').hidden,
    help: $('keys-help')?.open ?? false,
    helpKeys: $('keys-list')?.children.length ?? 0,
    theme: {
      dark: matchMedia('(prefers-color-scheme: dark)').matches,
      page, surface, body, muted,
      pageLuminance: lum(page),
      bodyOnPage: contrast(body, page),
      bodyOnSurface: contrast(body, surface),
      mutedOnSurface: contrast(muted, surface),
    },
  };";

fn read(session: &Session) -> Result<Value, String> {
    session.execute(READ, json!([])).map_err(|e| e.to_string())
}

/// Polls the window until `done` accepts what it shows.
fn until(session: &Session, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    support::until_read(session, READ, STEP, what, done)
}

fn press(session: &Session, chords: &[&[&str]]) {
    session.keys(chords).unwrap_or_else(|e| panic!("press {chords:?}: {e}"));
}

/// The one selected row, when exactly one is drawn selected and it is the
/// list's only Tab stop and has focus.
fn focused_selection(s: &Value) -> Option<&Value> {
    let selected = s["selected"].as_array()?;
    let stops = s["stops"].as_array()?;
    let only = selected.len() == 1 && stops.len() == 1 && selected[0] == stops[0];
    (only && s["focusRow"] == selected[0]["index"]).then(|| &selected[0])
}

fn selected_index(s: &Value) -> Option<u64> {
    focused_selection(s)?["index"].as_u64()
}

/// Waits until the list shows the whole address book; returns its length.
fn listed(linked: &Linked) -> u64 {
    let world = linked.sim.world();
    let book: Vec<&PersonReport> = world.people.iter().filter(|p| p.saved_name.is_some()).collect();
    let outside = world.blocklist.iter().filter(|b| !book.iter().any(|p| p.lid == b.lid)).count();
    let total = book.len() + outside;
    until(&linked.session, "the address book in the list", |s| {
        s["state"] == "connected" && s["count"] == format!("{total} contacts")
    });
    total as u64
}

fn assert_readable(theme: &Value) {
    for pair in ["bodyOnPage", "bodyOnSurface", "mutedOnSurface"] {
        let ratio = theme[pair].as_f64().unwrap();
        assert!(ratio >= 4.5, "{pair} contrast {ratio:.2} is below 4.5:1 (WCAG AA): {theme}");
    }
}

#[test]
fn keyboard_drives_the_list_detail_block_and_tabs() {
    let linked = support::start_linked("keyboard", 13, 300, &[]);
    let (sim, session, shots) = (&linked.sim, &linked.session, &linked.shots);
    let total = listed(&linked);

    // `/` focuses search from anywhere outside a field.
    let seen = read(session).unwrap();
    assert_eq!(seen["focus"], "body", "nothing focused yet: {seen}");
    press(session, &[&["/"]]);
    until(session, "/ to focus search", |s| s["focus"] == "search");

    // The list is one Tab stop: search → All → Blocked → Export CSV → the
    // list's first row.
    press(session, &[&[TAB], &[TAB], &[TAB], &[TAB]]);
    let seen = until(session, "Tab to reach the list's first row", |s| selected_index(s) == Some(0));
    assert!(seen["others"].as_array().unwrap().iter().all(|t| t == "-1"), "every other row is -1: {seen}");
    assert_eq!(seen["toggleStops"], 0, "a row's toggle is no Tab stop of its own");
    press(session, &[&[TAB]]);
    let seen = until(session, "the next Tab to leave the list", |s| s["focusRow"].is_null());
    assert!(seen["focus"] != "search", "{seen}");
    press(session, &[&[SHIFT, TAB]]);
    until(session, "Shift+Tab back onto the selected row", |s| selected_index(s) == Some(0));

    // Arrow keys, End (a page not loaded yet) and Home move the selection and focus.
    press(session, &[&[ARROW_DOWN], &[ARROW_DOWN]]);
    until(session, "ArrowDown twice", |s| selected_index(s) == Some(2));
    press(session, &[&[END]]);
    until(session, "End to the last row", |s| selected_index(s) == Some(total - 1));
    press(session, &[&[HOME]]);
    until(session, "Home to the first row", |s| selected_index(s) == Some(0));

    // Type-ahead: the start of the last name in the book (past the first page).
    let world = sim.world();
    let last = world
        .people
        .iter()
        .filter_map(|p| p.saved_name.as_deref())
        .filter(|n| n.chars().take(3).all(|c| c.is_ascii_alphabetic()))
        .max_by_key(|n| n.to_lowercase())
        .expect("a name in the book");
    let prefix = last[..3].to_lowercase();
    let letters: Vec<String> = prefix.chars().map(String::from).collect();
    let chords: Vec<[&str; 1]> = letters.iter().map(|l| [l.as_str()]).collect();
    press(session, &chords.iter().map(|c| &c[..]).collect::<Vec<_>>());
    let seen = until(session, &format!("type-ahead to a name starting {prefix:?}"), |s| {
        focused_selection(s).is_some_and(|r| r["name"].as_str().unwrap().to_lowercase().starts_with(&prefix))
    });
    let chosen = focused_selection(&seen).unwrap().clone();
    assert!(chosen["index"].as_u64().unwrap() > 0, "moved off the first row: {chosen}");
    shots.take(session, "01-type-ahead");

    // Enter opens the selected contact's detail, with focus in it; Escape goes back.
    let name = chosen["name"].as_str().unwrap().to_owned();
    press(session, &[&[ENTER]]);
    until(session, "Enter to open the detail", |s| s["focus"] == "detail" && s["detail"] == name.as_str());
    press(session, &[&[ESCAPE]]);
    until(session, "Escape back to the row", |s| selected_index(s) == chosen["index"].as_u64());

    // Shift+B blocks through the toggle's own flow; the server's list says so. Again: unblocked.
    let phone = chosen["phone"].as_str().unwrap();
    let person = world.people.iter().find(|p| p.phone == phone).expect("the chosen row is in the world");
    let was_blocked = blocked_lids(sim).contains(&person.lid);
    for expected in [!was_blocked, was_blocked] {
        press(session, &[&["B"]]);
        if expected {
            // A block asks first, with Cancel focused: Tab to "Block", Enter.
            wait_until(STEP, "the confirmation", || {
                match session.execute("return document.getElementById('confirm-block').open", json!([])) {
                    Ok(open) if open == true => Ok(Some(())),
                    other => Err(format!("{other:?}")),
                }
            });
            press(session, &[&[TAB], &[ENTER]]);
        }
        wait_until(STEP, &format!("the server to have them blocked={expected}"), || {
            let now = blocked_lids(sim).contains(&person.lid);
            if now == expected { Ok(Some(())) } else { Err(format!("blocked={now}")) }
        });
        until(session, "the row to follow", |s| {
            focused_selection(s).is_some_and(|r| r["phone"] == phone && r["blocked"] == expected)
        });
        if expected {
            shots.take(session, "02-blocked-by-key");
        }
    }

    // Ctrl+Tab and Ctrl+Shift+Tab move between tabs.
    press(session, &[&[CONTROL, TAB]]);
    until(session, "Ctrl+Tab to the next tab", |s| s["tab"] == "tab-import" && s["importShown"] == true);
    press(session, &[&[CONTROL, TAB]]);
    until(session, "Ctrl+Tab on to the Groups tab", |s| s["tab"] == "tab-groups" && s["importShown"] == false);
    press(session, &[&[CONTROL, SHIFT, TAB]]);
    until(session, "Ctrl+Shift+Tab back to Check & resolve", |s| s["tab"] == "tab-import");
    press(session, &[&[CONTROL, SHIFT, TAB]]);
    until(session, "Ctrl+Shift+Tab back", |s| s["tab"] == "tab-contacts" && s["importShown"] == false);

    // ? shows the keys; Escape hides them.
    press(session, &[&["?"]]);
    let seen = until(session, "? to show the keys", |s| s["help"] == true);
    assert!(seen["helpKeys"].as_u64().unwrap() >= 8, "every key is listed: {seen}");
    shots.take(session, "03-keys-overlay");
    press(session, &[&[ESCAPE]]);
    until(session, "Escape to hide the keys", |s| s["help"] == false);

    // The light theme, readable.
    let seen = read(session).unwrap();
    assert_eq!(seen["theme"]["dark"], false, "this session prefers light: {seen}");
    assert!(seen["theme"]["pageLuminance"].as_f64().unwrap() > 0.5, "a light page: {}", seen["theme"]);
    assert_readable(&seen["theme"]);
    shots.take(session, "04-light");
    linked.finish();
}

#[test]
fn dark_theme_follows_the_system() {
    // GTK (and with it WebKitGTK's prefers-color-scheme) reads the theme's
    // dark variant from GTK_THEME, and the preference from settings.ini.
    let config = tempfile::Builder::new().prefix("gui-dark-config-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::create_dir_all(config.path().join("gtk-3.0")).unwrap();
    std::fs::write(config.path().join("gtk-3.0/settings.ini"), "[Settings]\ngtk-application-prefer-dark-theme=true\n")
        .unwrap();
    let env: [(&str, &OsStr); 2] =
        [("GTK_THEME", OsStr::new("Adwaita:dark")), ("XDG_CONFIG_HOME", config.path().as_os_str())];
    let linked = support::start_linked_with_env("dark", 14, 120, &[], &env);
    let session = &linked.session;
    listed(&linked);
    let seen = read(session).unwrap();
    let theme = &seen["theme"];
    assert_eq!(theme["dark"], true, "the webview prefers dark: {theme}");
    assert!(theme["pageLuminance"].as_f64().unwrap() < 0.05, "a dark page: {theme}");
    assert_readable(theme);
    linked.shots.take(session, "01-dark-list");
    press(session, &[&["/"]]);
    until(session, "/ to focus search", |s| s["focus"] == "search");
    press(session, &[&[TAB], &[TAB], &[TAB], &[TAB], &[ARROW_DOWN]]);
    until(session, "a contact selected", |s| selected_index(s) == Some(1) && !s["detail"].is_null());
    linked.shots.take(session, "02-dark-detail");
    press(session, &[&["?"]]);
    until(session, "? to show the keys", |s| s["help"] == true);
    linked.shots.take(session, "03-dark-keys");
    linked.finish();
}
