//! End to end through the real window: the contact list, search, the
//! detail panel, block toggles (with a refusal rolled back), the live
//! blocked count when the phone blocks someone, the "block a number" box,
//! and a scope sync — against the simulator, with expectations taken from
//! its `/admin/world`.
//!
//!     xvfb-run -a cargo test -p roster --features sandbox --test gui_contacts
//!
//! Screenshots land in `target/gui-screenshots/contacts-*.png`.
#![cfg(feature = "sandbox")]

mod support;

use std::time::{Duration, Instant};

use roster_sim::faults::IqFault;
use roster_sim::{PersonReport, SimHandle};
use serde_json::{Value, json};
use support::webdriver::Session;
use support::{blocked_lids, wait_until};

/// Start-up, pairing and the first sync each take well under this.
const STEP: Duration = Duration::from_secs(60);

/// Everything the checks read, in one round trip.
const READ: &str = "
  const $ = (id) => document.getElementById(id);
  const text = (id) => ($(id) ? $(id).textContent.trim() : null);
  const list = $('contact-list');
  const top = list.getBoundingClientRect().top + list.clientTop;
  const inView = (r) => {
    const box = r.getBoundingClientRect();
    return box.bottom > top && box.top < top + list.clientHeight;
  };
  const rows = [...document.querySelectorAll('#contact-rows .row')].map((r) => ({
    inView: inView(r),
    phone: r.dataset.phone,
    blocked: r.dataset.blocked === 'true',
    name: r.querySelector('.row-name').textContent,
    sub: r.querySelector('.row-sub').textContent,
    toggle: r.querySelector('.toggle').textContent,
    picture: r.querySelector('.avatar').dataset.picture,
    img: Boolean(r.querySelector('.avatar img')),
  }));
  return {
    state: document.body.dataset.state,
    blocked: text('blocked-count'),
    count: text('list-count'),
    rows,
    error: $('error').hidden ? '' : text('error-text'),
    detail: $('detail-body').hidden ? null : {
      name: text('detail-name'),
      phone: text('detail-phone'),
      initial: $('detail-picture').textContent.trim(),
      about: text('detail-about'),
      aboutSet: $('detail-about-set').getAttribute('datetime'),
      picture: $('detail-picture').dataset.picture,
      img: Boolean(document.querySelector('#detail-picture img')),
      blocked: text('detail-blocked'),
      toggle: text('detail-toggle'),
    },
    blockMessage: text('block-message'),
    syncReport: text('sync-report'),
    syncScopes: text('sync-scopes-note'),
    activity: [...document.querySelectorAll('#activity-rows tr')].map((r) => `${r.dataset.action}:${r.dataset.outcome}`),
    activityExport: $('activity-message').dataset.path || null,
    confirm: $('confirm-block').open ? text('confirm-block-body') : null,
    listExport: $('list-export-message').dataset.path || null,
    notice: $('list-notice').hidden ? null : text('list-notice-text'),
    undo: !$('list-undo').hidden,
  };";

fn read(session: &Session) -> Result<Value, String> {
    session.execute(READ, json!([])).map_err(|e| e.to_string())
}

/// Polls the window until `done` accepts what it shows.
fn until(session: &Session, deadline: Duration, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    support::until_read(session, READ, deadline, what, done)
}

fn blocklist_len(sim: &SimHandle) -> usize {
    sim.world().blocklist.len()
}

fn is_blocked(sim: &SimHandle, lid: &str) -> bool {
    blocked_lids(sim).contains(lid)
}

fn row<'a>(seen: &'a Value, phone: &str) -> Option<&'a Value> {
    seen["rows"].as_array()?.iter().find(|r| r["phone"] == phone)
}

fn search(session: &Session, query: &str) {
    session.clear("#search").unwrap();
    session.type_text("#search", query).unwrap();
}

#[test]
fn contacts_search_detail_block_and_live_count() {
    // Link; then the whole address book arrives in the list.
    let exports = tempfile::Builder::new().prefix("gui-exports-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let linked =
        support::start_linked("contacts", 11, 400, &["--export-dir".to_owned(), exports.path().display().to_string()]);
    let (sim, session, shots) = (&linked.sim, &linked.session, &linked.shots);
    let people = sim.world().people;
    let book: Vec<&PersonReport> = people.iter().filter(|p| p.saved_name.is_some()).collect();
    let blocked_at_start = blocklist_len(sim);
    let blocked_outside_book = sim.world().blocklist.iter().filter(|b| !book.iter().any(|p| p.lid == b.lid)).count();
    let listed = book.len() + blocked_outside_book;
    let seen = until(session, STEP, "the address book in the list", |s| {
        s["state"] == "connected"
            && s["count"] == format!("{listed} contacts")
            && s["blocked"] == blocked_at_start.to_string()
    });
    assert!(seen["rows"].as_array().unwrap().len() < 60, "only the rows in view exist: {}", seen["rows"]);
    // Rows in view get their pictures, or the placeholder their privacy
    // calls for; the rows drawn beyond the view's edges wait until shown.
    let with_phone_in_view = |s: &Value| -> Vec<Value> {
        s["rows"].as_array().unwrap().iter().filter(|r| r["phone"] != "" && r["inView"] == true).cloned().collect()
    };
    let seen = until(session, STEP, "pictures for the rows in view", |s| {
        with_phone_in_view(s).iter().all(|r| r["picture"] != "unknown")
    });
    assert!(with_phone_in_view(&seen).len() >= 5, "{}", seen["rows"]);
    let beyond = seen["rows"].as_array().unwrap().iter().filter(|r| r["phone"] != "" && r["inView"] == false);
    assert!(beyond.clone().count() > 0 && beyond.clone().all(|r| r["img"] == false), "{}", seen["rows"]);
    for r in with_phone_in_view(&seen) {
        let p = people.iter().find(|p| r["phone"] == p.phone).expect("a listed person is in the world");
        let expected = match (p.picture_id.is_none(), p.picture_visible) {
            (true, _) => "none",
            (false, true) => "shown",
            (false, false) => "hidden",
        };
        assert_eq!(r["picture"], expected, "{r} vs {}", json!(p));
        assert_eq!(r["img"], expected == "shown", "{r}");
    }
    shots.take(session, "01-list");

    // Search by part of a name, then open the contact.
    let target = *book
        .iter()
        .find(|p| p.about_visible && p.picture_visible && p.picture_id.is_some() && !is_blocked(sim, &p.lid))
        .expect("someone open and unblocked in the address book");
    let phone = target.phone.as_str();
    let name = target.saved_name.as_deref().unwrap();
    let partial: String = name.chars().take(6).collect();
    search(session, &partial);
    let seen = until(session, STEP, "search results", |s| {
        row(s, phone).is_some()
            && s["rows"].as_array().unwrap().iter().all(|r| {
                r["name"].as_str().unwrap().to_lowercase().contains(&partial.to_lowercase())
                    || people
                        .iter()
                        .any(|p| r["phone"] == p.phone && p.push_name.to_lowercase().contains(&partial.to_lowercase()))
            })
    });
    assert!(seen["count"].as_str().unwrap().ends_with("found"), "{}", seen["count"]);
    session.click(&format!(".row[data-phone='{phone}'] .row-name")).unwrap();
    let seen = until(session, STEP, "the detail panel with the about", |s| {
        s["detail"]["name"] == name && s["detail"]["about"] == target.about && s["detail"]["img"] == true
    });
    let set_at = target.about_set_at;
    let shown_at = seen["detail"]["aboutSet"].as_str().expect("the about's set time");
    // As JavaScript's `toISOString` writes it.
    let expected = format!("{}.000Z", roster_core::clock::iso_time(set_at).trim_end_matches('Z'));
    assert_eq!(shown_at, expected, "the set time as the world says");
    assert_eq!(seen["detail"]["blocked"], "No");
    shots.take(session, "02-search-detail");

    // Block from the detail panel: it asks first, and Undo takes it back.
    session.click("#detail-toggle").unwrap();
    let seen = until(session, STEP, "the confirmation", |s| !s["confirm"].is_null());
    let asked = seen["confirm"].as_str().unwrap();
    assert!(asked.starts_with(&format!("{name} will not be able to call or message this account")), "{asked}");
    session.click("#confirm-block-ok").unwrap();
    until(session, STEP, "the block and its Undo", |s| {
        s["notice"] == format!("Blocked {name}.")
            && s["undo"] == true
            && s["blocked"] == (blocked_at_start + 1).to_string()
    });
    assert!(is_blocked(sim, &target.lid));
    session.click("#list-undo").unwrap();
    until(session, STEP, "the undo", |s| {
        s["notice"] == format!("Unblocked {name}.")
            && s["undo"] == false
            && s["blocked"] == blocked_at_start.to_string()
    });
    assert!(!is_blocked(sim, &target.lid), "Undo unblocked them on the server");

    // With the confirmation turned off in the settings, the toggle blocks at
    // once: the row, the panel and the header follow the server.
    session.click("#tab-settings").unwrap();
    session.click("#confirm-blocks").unwrap();
    wait_until(STEP, "the setting saved", || {
        let said = session.text("#confirm-blocks-message").map_err(|e| e.to_string())?.unwrap_or_default();
        if said == "Blocking from the list no longer asks." { Ok(Some(())) } else { Err(said) }
    });
    session.click("#tab-contacts").unwrap();
    session.click("#detail-toggle").unwrap();
    let seen = until(session, STEP, "the block to land", |s| {
        s["blocked"] == (blocked_at_start + 1).to_string()
            && row(s, phone).is_some_and(|r| r["blocked"] == true && r["toggle"] == "Unblock")
            && s["detail"]["blocked"] == "Yes"
    });
    assert!(is_blocked(sim, &target.lid), "the server's blocklist has them");
    assert_eq!(blocklist_len(sim), blocked_at_start + 1);
    assert_eq!(seen["error"], "");
    shots.take(session, "03-blocked");

    // A refusal rolls the toggle back and says why; nothing changed on the server.
    sim.fail_next_iq(IqFault { xmlns: "blocklist".into(), code: 500, text: "internal-server-error".into() });
    session.click(&format!(".row[data-phone='{phone}'] .toggle")).unwrap();
    let seen = until(session, STEP, "the refused unblock to roll back", |s| {
        s["error"].as_str().unwrap().contains(name)
            && row(s, phone).is_some_and(|r| r["blocked"] == true && r["toggle"] == "Unblock")
    });
    assert!(seen["error"].as_str().unwrap().contains("500"), "the server's answer is shown: {}", seen["error"]);
    assert!(is_blocked(sim, &target.lid), "still blocked on the server");
    assert_eq!(seen["blocked"], (blocked_at_start + 1).to_string());
    shots.take(session, "04-refused-rolled-back");
    session.click("#error-dismiss").unwrap();

    // The phone blocks someone else: the count and their row change by
    // themselves (pushed, nothing clicked). How fast is printed, not
    // asserted: a busy machine must not fail the test (typically ~0.1 s).
    let other = *book.iter().find(|p| p.phone != phone && !is_blocked(sim, &p.lid)).expect("another unblocked contact");
    let other_phone = other.phone.as_str();
    search(session, other_phone);
    until(session, STEP, "the other contact listed", |s| row(s, other_phone).is_some_and(|r| r["blocked"] == false));
    let started = Instant::now();
    sim.phone_set_blocked(other_phone, true).unwrap();
    until(session, STEP, "the phone-side block in the window", |s| {
        s["blocked"] == (blocked_at_start + 2).to_string() && row(s, other_phone).is_some_and(|r| r["blocked"] == true)
    });
    eprintln!("phone-side block shown after {:?}", started.elapsed());
    shots.take(session, "05-phone-blocked");
    let started = Instant::now();
    sim.phone_set_blocked(other_phone, false).unwrap();
    until(session, STEP, "the phone-side unblock in the window", |s| {
        s["blocked"] == (blocked_at_start + 1).to_string() && row(s, other_phone).is_some_and(|r| r["blocked"] == false)
    });
    eprintln!("phone-side unblock shown after {:?}", started.elapsed());

    // The Blocked filter lists the server's blocklist.
    session.clear("#search").unwrap();
    session.click("#filter-blocked").unwrap();
    let seen = until(session, STEP, "the blocked filter", |s| s["count"] == format!("{} blocked", blocklist_len(sim)));
    assert!(seen["rows"].as_array().unwrap().iter().all(|r| r["blocked"] == true), "{}", seen["rows"]);
    assert!(row(&seen, phone).is_some(), "the contact blocked above is listed");
    shots.take(session, "06-blocked-filter");

    // The blocklist as a spreadsheet file: one row per blocked person, with
    // the number in E.164 (+) when known and the LID.
    session.click("#list-export").unwrap();
    let exported = until(session, STEP, "the blocklist export", |s| !s["listExport"].is_null());
    let path = exported["listExport"].as_str().unwrap().to_owned();
    assert!(path.contains("roster-blocked-"), "a readable name: {path}");
    let csv = std::fs::read_to_string(&path).unwrap();
    assert!(csv.starts_with("\u{feff}name,push_name,e164,number,lid,blocked,"), "{csv}");
    let records: Vec<csv::StringRecord> =
        csv::Reader::from_reader(csv.as_bytes()).records().map(|r| r.expect("a well-formed record")).collect();
    assert_eq!(records.len(), blocklist_len(sim), "one row per blocked person");
    for r in &records {
        assert_eq!(&r[5], "yes", "{r:?}");
        assert!(r[2].is_empty() || r[2].starts_with('+'), "E.164 with its +: {r:?}");
        assert!(blocked_lids(sim).contains(r[4].trim_end_matches("@lid")), "{r:?}");
    }

    // Someone known only by their LID is found by the LID the row shows, and
    // described once, with the list's placeholder, in the row and the panel.
    let lid_only = seen["rows"].as_array().unwrap().iter().find(|r| r["phone"] == "").cloned();
    let lid_only = lid_only.expect("the sandbox blocks someone known only by their LID");
    let shown = lid_only["name"].as_str().unwrap().to_owned();
    assert!(shown.ends_with("@lid"), "named by their LID: {lid_only}");
    let digits: String = shown.chars().filter(char::is_ascii_digit).collect();
    session.click("#filter-all").unwrap();
    for query in [shown.as_str(), digits.as_str()] {
        search(session, query);
        until(session, STEP, &format!("{query} found"), |s| {
            s["count"] == "1 found" && s["rows"].as_array().unwrap().iter().any(|r| r["name"] == shown.as_str())
        });
    }
    let row_sub = |s: &Value| s["rows"].as_array().unwrap().iter().find(|r| r["name"] == shown.as_str()).cloned();
    let seen = read(session).unwrap();
    let listed = row_sub(&seen).unwrap();
    assert!(!listed["sub"].as_str().unwrap().contains(&digits), "the LID is not repeated: {listed}");
    assert!(listed["sub"].as_str().unwrap().contains("only known by their LID"), "{listed}");
    assert_eq!(listed["picture"], "none");
    // The row element that shows them (the list recycles row elements), clicked
    // again should the list still be settling from the search.
    const OPEN: &str = "const row = [...document.querySelectorAll('#contact-rows .row')]
          .find((r) => r.querySelector('.row-name').textContent === arguments[0]);
        if (row) row.querySelector('.row-name').click();";
    let seen = until(session, STEP, "the panel of someone known only by their LID", |s| {
        let open = s["detail"]["name"] == shown.as_str();
        if !open {
            let _ = session.execute(OPEN, json!([shown]));
        }
        open
    });
    assert_eq!(seen["detail"]["phone"], "Not known: only known by their LID");
    assert_eq!(seen["detail"]["picture"], "none", "the list's placeholder");
    assert_eq!(seen["detail"]["initial"], "", "no letter or digit for a picture");
    assert!(seen["detail"]["about"].as_str().unwrap().contains("only known by their LID"), "{}", seen["detail"]);
    shots.take(session, "06b-lid-only");
    session.clear("#search").unwrap();

    // The "block a number" box: specific refusals, then a block by a formatted number.
    for (typed, says) in [("120363025246125888@g.us", "group"), ("12", "too short"), ("call me", "not a phone number")]
    {
        session.clear("#block-input").unwrap();
        session.type_text("#block-input", typed).unwrap();
        session.click("#block-submit").unwrap();
        until(session, STEP, says, |s| s["blockMessage"].as_str().unwrap().contains(says));
    }
    let unregistered = sim.world().unregistered.first().expect("an unregistered number").clone();
    session.clear("#block-input").unwrap();
    session.type_text("#block-input", &format!("+{unregistered}")).unwrap();
    session.click("#block-submit").unwrap();
    until(session, STEP, "the unregistered refusal", |s| {
        s["blockMessage"].as_str().unwrap().contains("not on WhatsApp")
    });
    shots.take(session, "07-block-box-refusal");
    let count = blocklist_len(sim);
    assert_eq!(count, blocked_at_start + 1, "refusals changed nothing");
    let typed = format!("+{} {} {}-{}", &other_phone[..2], &other_phone[2..5], &other_phone[5..8], &other_phone[8..]);
    session.clear("#block-input").unwrap();
    session.type_text("#block-input", &typed).unwrap();
    session.click("#block-submit").unwrap();
    until(session, STEP, "the typed block", |s| {
        s["blockMessage"].as_str().unwrap().starts_with("Blocked") && s["blocked"] == (count + 1).to_string()
    });
    assert!(is_blocked(sim, &other.lid));
    // The phone unblocks them again: "This account now blocks N" no longer
    // holds, so the message goes.
    sim.phone_set_blocked(other_phone, false).unwrap();
    until(session, STEP, "the stale count to go", |s| s["blocked"] == count.to_string() && s["blockMessage"] == "");

    // A scope sync brings a rename whose push was lost.
    sim.phone_rename_unannounced(phone, "Renamed While Away").unwrap();
    session.click("#tab-settings").unwrap();
    let tick = |scope: &str| session.click(&format!("input[name='scope'][value='{scope}']")).unwrap();
    for scope in ["chats", "settings", "contacts"] {
        tick(scope);
    }
    // With nothing ticked the form says what a sync will cover.
    until(session, STEP, "the note on an empty choice", |s| {
        s["syncScopes"] == "Nothing ticked: contacts, chats and settings will be synced."
    });
    tick("contacts");
    until(session, STEP, "the note on the choice", |s| s["syncScopes"] == "Will sync contacts.");
    // Below the fold in the settings' own scroll area, which WebKitWebDriver
    // does not scroll by itself.
    session.execute("document.getElementById('sync-run').scrollIntoView({ block: 'center' })", json!([])).unwrap();
    session.click("#sync-run").unwrap();
    let seen = until(session, STEP, "the sync report", |s| {
        s["syncReport"].as_str().unwrap().starts_with("Brought up to date")
    });
    let report = seen["syncReport"].as_str().unwrap();
    assert_eq!(report, "Brought up to date: contacts: 1 change.", "in the operator's words, no protocol names");
    shots.take(session, "08-sync");

    // The activity log lists what was done here, newest first, with outcomes.
    let seen = until(session, STEP, "the activity log", |s| s["activity"][0] == "sync:done");
    let activity: Vec<&str> = seen["activity"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    // Newest first: the sync, the typed block, the four refusals of the
    // block box, the unblock the server refused, the block without asking,
    // the Undo and the first (confirmed) block.
    let expected = [
        "sync:done",
        "block:done",
        "block:failed",
        "block:failed",
        "block:failed",
        "block:failed",
        "unblock:failed",
        "block:done",
        "unblock:done",
        "block:done",
    ];
    assert_eq!(activity, expected);
    session.click("#activity-export").unwrap();
    let seen = until(session, STEP, "the activity export", |s| !s["activityExport"].is_null());
    let csv = std::fs::read_to_string(seen["activityExport"].as_str().unwrap()).unwrap();
    assert_eq!(csv.lines().next(), Some("\u{feff}id,time,action,target,outcome,detail"), "a BOM, then the header");
    let file = seen["activityExport"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let today = &roster_core::clock::iso_time(roster_core::clock::unix_now())[..10];
    assert!(file.starts_with(&format!("roster-activity-{today}")), "a readable name: {file}");
    assert_eq!(csv.lines().count(), activity.len() + 1, "one line per action");
    assert!(csv.lines().last().unwrap().contains(",sync,"), "oldest first, the sync last");
    shots.take(session, "09-activity");
    session.click("#tab-contacts").unwrap();
    search(session, "Renamed While");
    until(session, STEP, "the synced rename", |s| row(s, phone).is_some_and(|r| r["name"] == "Renamed While Away"));

    // The refusals and blocks were logged, but no number in full (no --verbose).
    let log = support::read_logs(&linked.data_dir.path().join("logs"));
    assert!(log.contains("could not block"), "the refusals are logged");
    for number in [unregistered.as_str(), other_phone, phone] {
        assert!(!log.contains(number), "+{number} appears unmasked in the log");
    }
    linked.finish();
}
