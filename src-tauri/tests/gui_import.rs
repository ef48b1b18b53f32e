//! End to end through the real window: paste a list of numbers, preview it,
//! run a paced check against the simulator, watch the progress advance,
//! and export the answers as CSV (the file's content checked against
//! `/admin/world`).
//!
//!     xvfb-run -a cargo test -p roster --features sandbox --test gui_import
//!
//! Screenshots land in `target/gui-screenshots/import-*.png`.
#![cfg(feature = "sandbox")]

mod support;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use roster_sim::PersonReport;
use serde_json::{Value, json};
use support::webdriver::Session;
use support::{blocked_lids, wait_until};

const STEP: Duration = Duration::from_secs(60);

const READ: &str = "
  const $ = (id) => document.getElementById(id);
  return {
    state: document.body.dataset.state,
    summary: $('import-summary').textContent,
    counts: $('import-summary').dataset.counts || null,
    previewRows: document.querySelectorAll('#import-lines tr').length,
    startDisabled: $('import-start').disabled,
    job: $('job').hidden ? null : {
      state: $('job-state').dataset.state,
      checked: Number($('job-text').dataset.checked),
      max: Number($('job-progress').max),
      text: $('job-text').textContent,
      rows: document.querySelectorAll('#job-rows tr').length,
      message: $('job-message').textContent,
      path: $('job-message').dataset.path || null,
    },
  };";

fn read(session: &Session) -> Result<Value, String> {
    session.execute(READ, json!([])).map_err(|e| e.to_string())
}

fn until(session: &Session, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    support::until_read(session, READ, STEP, what, done)
}

#[test]
fn paste_preview_run_and_export() {
    let exports = tempfile::Builder::new().prefix("gui-exports-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let export_dir = exports.path().to_path_buf();
    let linked =
        support::start_linked("import", 12, 300, &["--export-dir".to_owned(), export_dir.display().to_string()]);
    let (sim, session, shots) = (&linked.sim, &linked.session, &linked.shots);

    // The list: people outside the address book (so the server is asked),
    // unregistered numbers, LIDs, duplicates and junk.
    let world = sim.world();
    let people = &world.people;
    let registered: HashMap<&str, &str> = people.iter().map(|p| (p.phone.as_str(), p.lid.as_str())).collect();
    let strangers: Vec<&PersonReport> = people.iter().filter(|p| p.saved_name.is_none()).take(20).collect();
    let unregistered: Vec<&str> = world.unregistered.iter().take(12).map(String::as_str).collect();
    let mut lines: Vec<String> = Vec::new();
    for (i, p) in strangers.iter().enumerate() {
        let phone = &p.phone;
        lines.push(if i % 2 == 0 {
            format!("+{phone}")
        } else {
            format!("+{} {}-{}", &phone[..2], &phone[2..6], &phone[6..])
        });
    }
    lines.extend(unregistered.iter().map(|n| format!("+{n}")));
    lines.push(format!("{}@lid", people.last().unwrap().lid));
    lines.extend(strangers.iter().take(4).map(|p| format!("{}@s.whatsapp.net", p.phone)));
    lines.extend(["hello", "12", "120363025246125888@g.us"].map(str::to_owned));
    session.click("#tab-import").unwrap();
    // Typed key by key; WebDriver's Enter key (U+E007) starts each new line.
    session.type_text("#import-text", &lines.join("\u{E007}")).unwrap();

    // Preview: every line read, nothing sent.
    let checks_before = sim.check_log().len();
    session.click("#import-preview").unwrap();
    let seen = until(session, "the preview", |s| !s["counts"].is_null());
    let counts: Value = serde_json::from_str(seen["counts"].as_str().unwrap()).unwrap();
    assert_eq!(counts, json!({ "numbers": 32, "lids": 1, "duplicates": 4, "invalid": 3 }), "{}", seen["summary"]);
    assert_eq!(seen["previewRows"], lines.len());
    assert_eq!(seen["startDisabled"], false);
    assert_eq!(sim.check_log().len(), checks_before, "a preview asks nobody");
    shots.take(session, "01-preview");

    // Run at 600 a minute (batches of 10 a second): the bar advances.
    session.clear("#import-rate").unwrap();
    session.type_text("#import-rate", "600").unwrap();
    session.click("#import-start").unwrap();
    let mut seen_values = BTreeSet::new();
    let mut shot = false;
    let done = wait_until(STEP, "the check to finish", || {
        let s = read(session)?;
        let job = &s["job"];
        if job.is_null() {
            return Err(s.to_string());
        }
        seen_values.insert(job["checked"].as_u64().unwrap());
        if !shot && job["checked"].as_u64().unwrap() > 0 && job["state"] == "running" {
            shots.take(session, "02-running");
            shot = true;
        }
        if job["state"] == "done" { Ok(Some(s)) } else { Err(s.to_string()) }
    });
    assert_eq!(done["job"]["checked"], 33);
    assert_eq!(done["job"]["max"], 33);
    let partial: Vec<_> = seen_values.iter().filter(|v| **v > 0 && **v < 33).collect();
    assert!(partial.len() >= 2, "the progress advanced in steps: {seen_values:?}");
    until(session, "the results table", |s| s["job"]["rows"] == lines.len());
    shots.take(session, "03-done");

    // Export: one row per line, each as the world says.
    session.click("#job-export").unwrap();
    let seen = until(session, "the export", |s| !s["job"]["path"].is_null());
    let path = seen["job"]["path"].as_str().unwrap();
    assert!(Path::new(path).starts_with(&export_dir), "{path}");
    let csv = std::fs::read_to_string(path).unwrap();
    let header = "\u{feff}line,input,e164,on_whatsapp,pn_jid,lid,name,status,source,checked_at,note";
    assert_eq!(csv.lines().next(), Some(header), "a BOM, then the header");
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.expect("a well-formed CSV record").iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), lines.len());
    for (row, typed) in rows.iter().zip(&lines) {
        assert_eq!(&row[1], typed, "input kept as typed");
        match row[7].as_str() {
            "done" => {
                let phone = row[2].strip_prefix('+').unwrap_or_else(|| panic!("E.164 with its +: {row:?}"));
                let checked_at = &row[9];
                assert!(checked_at.len() == 20 && checked_at.ends_with('Z'), "ISO 8601: {row:?}");
                let on = registered.contains_key(phone);
                assert_eq!(row[3], if on { "yes" } else { "no" }, "{row:?}");
                if on {
                    assert_eq!(row[5], format!("{}@lid", registered[phone]), "{row:?}");
                    assert_eq!(row[4], format!("{phone}@s.whatsapp.net"));
                }
            }
            "duplicate" => assert!(row[10].starts_with("duplicate of line "), "{row:?}"),
            "invalid" => assert!(!row[10].is_empty(), "the reason: {row:?}"),
            other => panic!("unexpected status {other}: {row:?}"),
        }
    }
    shots.take(session, "04-exported");

    // Block two selected registered lines (after a confirmation), then undo.
    let before = blocked_lids(sim);
    // Two registered lines whose person is not blocked yet (rows are in line order).
    let picked: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r[7] == "done" && r[3] == "yes" && !before.contains(r[5].trim_end_matches("@lid")))
        .map(|(i, _)| i + 1)
        .take(2)
        .collect();
    assert_eq!(picked.len(), 2);
    for line in &picked {
        session.click(&format!("#job-rows input[data-line='{line}']")).unwrap();
    }
    session.click("#job-block-selected").unwrap();
    session.click("#confirm-bulk-ok").unwrap();
    let seen = until(session, "the bulk block", |s| s["job"]["message"].as_str().unwrap().starts_with("Blocked 2."));
    shots.take(session, "05-bulk-blocked");
    let after = blocked_lids(sim);
    assert_eq!(after.len(), before.len() + 2, "{}", seen["job"]["message"]);
    for line in &picked {
        let phone = rows[line - 1][2].trim_start_matches('+');
        assert!(after.contains(registered[phone]), "line {line} (+{phone}) is blocked on the server");
    }
    session.click("#job-undo").unwrap();
    until(session, "the undo", |s| s["job"]["message"].as_str().unwrap().starts_with("Unblocked 2."));
    assert_eq!(blocked_lids(sim), before, "undo restored the server's blocklist");
    linked.finish();
}

/// SIGKILL in the middle of a check, then a restart: the job carries on by
/// itself and completes; nothing answered before the kill is asked again
/// (only the batch in flight at the instant of the kill may be, since its
/// answer never reached the disk).
#[test]
fn a_check_killed_mid_job_resumes_after_restart() {
    let mut linked = support::start_linked("import-kill", 13, 200, &[]);
    let sim = &linked.sim;
    let session = &linked.session;

    let numbers: Vec<String> = sim.world().unregistered.iter().take(60).map(|n| format!("+{n}")).collect();
    session.click("#tab-import").unwrap();
    session.type_text("#import-text", &numbers.join("\u{E007}")).unwrap();
    session.click("#import-preview").unwrap();
    until(session, "the preview", |s| s["startDisabled"] == false);
    session.clear("#import-rate").unwrap();
    session.type_text("#import-rate", "600").unwrap(); // 10 a second
    session.click("#import-start").unwrap();
    until(session, "a third of the list checked", |s| s["job"]["checked"].as_u64().is_some_and(|c| c >= 20));

    // Kill the app outright: no chance to finish the batch in flight.
    linked.driver.kill_app(Duration::from_secs(60));
    let asked_before_kill = sim.check_log().iter().filter(|c| !c.refused).map(|c| c.users.len()).sum::<usize>();
    assert!(asked_before_kill < 60, "killed mid-job ({asked_before_kill} asked)");

    // Restart: the job is shown, resumes by itself and completes.
    linked.restart_after_kill("import-kill");
    let (sim, session, shots) = (&linked.sim, &linked.session, &linked.shots);
    until(session, "the restarted app to connect", |s| s["state"] == "connected");
    session.click("#tab-import").unwrap();
    let done = until(session, "the resumed job to finish", |s| s["job"]["state"] == "done");
    assert_eq!(done["job"]["checked"], 60);
    until(session, "all results listed", |s| s["job"]["rows"] == 60);
    shots.take(session, "01-resumed-done");

    let mut asked: HashMap<String, usize> = HashMap::new();
    for call in sim.check_log().into_iter().filter(|c| !c.refused) {
        for user in call.users {
            *asked.entry(user).or_default() += 1;
        }
    }
    assert_eq!(asked.len(), 60, "every number was asked");
    let twice: Vec<_> = asked.iter().filter(|(_, n)| **n > 1).collect();
    eprintln!("asked again after the kill: {} (the batch in flight, if the kill caught one)", twice.len());
    assert!(twice.len() <= 10, "only the batch in flight may be asked again: {twice:?}");
    assert!(twice.iter().all(|(_, n)| **n == 2));
    linked.finish();
}

const ROWS: &str = "
  return [...document.querySelectorAll('#job-rows tr')].map((tr) => ({
    line: Number(tr.dataset.line),
    cells: [...tr.children].map((td) => td.textContent),
  }));";

/// The clipboard of the X display the window runs on.
fn clipboard() -> Result<String, String> {
    let out = std::process::Command::new("xclip")
        .args(["-selection", "clipboard", "-o"])
        .output()
        .map_err(|e| format!("xclip: {e}"))?;
    if out.status.success() { Ok(String::from_utf8_lossy(&out.stdout).into_owned()) } else { Err("empty".into()) }
}

/// A CSV file loaded through the file picker, resolved among one group's
/// members (no number check sent), sorted, copied, and added to contacts.
#[test]
fn a_csv_file_resolved_among_a_groups_members() {
    let linked = support::start_linked("import-group", 14, 200, &[]);
    let (sim, session, shots) = (&linked.sim, &linked.session, &linked.shots);
    let world = sim.world();
    let group = world.groups.iter().find(|g| g.subject == "Suppliers").unwrap();
    let members: Vec<(String, String)> = group.members.iter().map(|m| (m.phone.clone(), m.lid.clone())).collect();
    let member_phones: BTreeSet<&str> = members.iter().map(|(p, _)| p.as_str()).collect();
    let outsider = world.people.iter().map(|p| p.phone.as_str()).find(|p| !member_phones.contains(p)).unwrap();

    // name,phone,notes — numbers and a LID in the second column.
    let dir = tempfile::Builder::new().prefix("gui-csv-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let file = dir.path().join("suppliers.csv");
    let mut csv = String::from("name,phone,notes\n");
    for (i, (phone, _)) in members[..5].iter().enumerate() {
        csv.push_str(&format!("Supplier {i},+{phone},\"paid, on time\"\n"));
    }
    csv.push_str(&format!("By LID,{}@lid,\n", members[5].1));
    csv.push_str(&format!("Not in it,+{outsider},\n"));
    csv.push_str("Nobody,n/a,\n");
    std::fs::write(&file, csv).unwrap();

    session.click("#tab-import").unwrap();
    // The group list arrives once connected.
    let jid = group.jid.as_str();
    wait_until(STEP, "the group selector", || {
        let n = session.execute(
            &format!("return document.querySelectorAll(\"#import-group option[value='{jid}']\").length;"),
            json!([]),
        );
        match n {
            Ok(v) if v == 1 => Ok(Some(())),
            other => Err(format!("{other:?}")),
        }
    });
    // The file picker: WebDriver hands the file's path to the input.
    session.type_text("#import-file", &file.display().to_string()).unwrap();
    let seen = until(session, "the file's preview", |s| !s["counts"].is_null());
    let counts: Value = serde_json::from_str(seen["counts"].as_str().unwrap()).unwrap();
    assert_eq!(counts, json!({ "numbers": 6, "lids": 1, "duplicates": 0, "invalid": 1 }), "{}", seen["summary"]);
    let column = session.execute("return document.getElementById('import-column').value;", json!([])).unwrap();
    assert_eq!(column, "1", "the phone column was detected");
    shots.take(session, "01-file-preview");

    let asked_before = sim.check_log().len();
    session.click(&format!("#import-group option[value='{jid}']")).unwrap();
    session.click("#import-start").unwrap();
    let done = until(session, "the group job", |s| s["job"]["state"] == "done" && s["job"]["rows"] == 8);
    let text = done["job"]["text"].as_str().unwrap();
    assert!(text.starts_with("among the members of Suppliers"), "{text}");
    assert!(text.contains("6 of 6 checked") && text.contains("1 not members"), "{text}");
    assert_eq!(sim.check_log().len(), asked_before, "the group's list answered; no number check sent");
    let rows = session.execute(ROWS, json!([])).unwrap();
    let rows = rows.as_array().unwrap();
    // Columns: select, line, input, number, on WhatsApp, PN JID, LID, name, note.
    let lid_row = rows.iter().find(|r| r["line"] == 7).unwrap();
    assert_eq!(lid_row["cells"][5], format!("{}@s.whatsapp.net", members[5].0), "the LID resolved to its number");
    assert!(lid_row["cells"][8].as_str().unwrap().starts_with("from the group"));
    let outsider_row = rows.iter().find(|r| r["line"] == 8).unwrap();
    assert_eq!(outsider_row["cells"][8], "not a member of Suppliers");
    shots.take(session, "02-group-done");

    // Sort by number, descending (second click): the numbers come down.
    session.click("th[data-sort='number'] button").unwrap();
    session.click("th[data-sort='number'] button").unwrap();
    let sorted = wait_until(STEP, "the rows sorted by number, descending", || {
        let rows = session.execute(ROWS, json!([])).map_err(|e| e.to_string())?;
        let numbers: Vec<String> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["cells"][5].as_str().unwrap().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        let descending = numbers.len() == 6 && numbers.windows(2).all(|w| w[0] > w[1]);
        if descending { Ok(Some(rows)) } else { Err(format!("{numbers:?}")) }
    });
    let head = session.attribute("th[data-sort='number']", "aria-sort").unwrap();
    assert_eq!(head.as_deref(), Some("descending"));
    shots.take(session, "03-sorted");

    // Tick the first two members outside the address book, copy them, add them to contacts.
    let saved: BTreeSet<&str> =
        world.people.iter().filter(|p| p.saved_name.is_some()).map(|p| p.phone.as_str()).collect();
    let first_two: Vec<i64> = sorted
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            let phone = r["cells"][5].as_str().unwrap().trim_end_matches("@s.whatsapp.net");
            !phone.is_empty() && !saved.contains(phone)
        })
        .take(2)
        .map(|r| r["line"].as_i64().unwrap())
        .collect();
    for line in &first_two {
        session.click(&format!("#job-rows input[data-line='{line}']")).unwrap();
    }
    let phones: Vec<String> = first_two
        .iter()
        .map(|line| {
            let row = rows.iter().find(|r| r["line"] == *line).unwrap();
            row["cells"][5].as_str().unwrap().trim_end_matches("@s.whatsapp.net").to_owned()
        })
        .collect();
    session.click("#job-copy").unwrap();
    until(session, "the copy", |s| s["job"]["message"] == "Copied 2 numbers.");
    let mut expected: Vec<String> = phones.iter().map(|p| format!("+{p}")).collect();
    expected.sort();
    let copied = wait_until(STEP, "the clipboard", || match clipboard() {
        Ok(text) if !text.is_empty() => Ok(Some(text)),
        other => Err(format!("{other:?}")),
    });
    let mut copied: Vec<String> = copied.lines().map(str::to_owned).collect();
    copied.sort();
    assert_eq!(copied, expected, "one +number per line");

    session.click("#job-add-selected").unwrap();
    until(session, "the add", |s| s["job"]["message"].as_str().unwrap().starts_with("Added 2 new contacts"));
    session.click("#tab-contacts").unwrap();
    session.type_text("#search", &phones[0]).unwrap();
    wait_until(STEP, "the added contact in the list", || {
        let sub = session.execute(
            "return [...document.querySelectorAll('#contact-rows .row')].map((r) => r.textContent).join('|');",
            json!([]),
        );
        match sub {
            Ok(Value::String(s)) if s.contains("added from a number check") => Ok(Some(())),
            other => Err(format!("{other:?}")),
        }
    });
    shots.take(session, "04-added-contact");
    linked.finish();
}
