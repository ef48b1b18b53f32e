//! Two accounts in one window, against one simulator with two phones:
//! the second added from the header, each linked by its own phone; the
//! switcher lists both with their state and blocked count; Ctrl+1 and a
//! click switch between them, each showing its own world's account and
//! counts; removing one (after a confirmation naming it) unlinks it from
//! its phone and leaves the other connected. Expectations come from each
//! account's world.

mod support;

use std::path::Path;
use std::time::Duration;

use roster_sim::{SimConfig, Simulator};
use serde_json::Value;
use support::webdriver::Session;
use support::webdriver::key::CONTROL;
use support::{Shots, TauriDriver, app_args, until_read, wait_until};

const APP: &str = env!("CARGO_BIN_EXE_roster");
const STEP: Duration = Duration::from_secs(60);

/// What the header shows: the state, the account shown, the switcher.
const READ: &str = "
  const text = (id) => (document.getElementById(id) || {}).textContent?.trim() ?? null;
  const qr = document.getElementById('qr');
  return {
    state: document.body.dataset.state || '',
    qr: qr && qr.hasAttribute('data-qr') ? qr.getAttribute('data-qr') : null,
    phone: text('account-phone'),
    blocked: text('blocked-count'),
    summary: text('accounts-summary'),
    activity: text('activity-title'),
    accounts: [...document.querySelectorAll('#account-list .account-switch')].map((b) => ({
      id: Number(b.dataset.account),
      pressed: b.getAttribute('aria-pressed') === 'true',
      name: b.querySelector('.account-switch-name').textContent,
      detail: b.querySelector('.account-switch-detail').textContent,
    })),
  };";

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Waits for the window's QR code and has phone `n` scan it.
fn link_with_phone(session: &Session, sim: &roster_sim::SimHandle, n: usize) {
    let mut attempts = 0;
    loop {
        let seen = until_read(session, READ, STEP, "a QR code", |v| v["qr"].is_string());
        attempts += 1;
        match sim.account(n).scan_qr(seen["qr"].as_str().unwrap()) {
            Ok(_) => return,
            // The window may have rotated to the next code in between.
            Err(e) if attempts < 5 => eprintln!("scan retried: {e}"),
            Err(e) => panic!("phone {n} could not scan: {e}"),
        }
    }
}

/// Waits until the window shows a connected account with `phone`'s number.
fn shows(session: &Session, phone: &str, what: &str) -> Value {
    let phone = phone.to_owned();
    until_read(session, READ, STEP, what, move |v| {
        v["state"] == "connected" && digits(v["phone"].as_str().unwrap_or_default()) == phone
    })
}

#[test]
fn two_accounts_switch_with_the_header_and_ctrl_digits_and_one_is_removed() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let sim = runtime
        .block_on(Simulator::start(SimConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            seed: 51,
            accounts: 2,
            contacts: 80,
            auto_scan: None,
            ..SimConfig::default()
        }))
        .expect("start the simulator");
    let (one, two) = (sim.world_of(1), sim.world_of(2));
    let data_dir =
        tempfile::Builder::new().prefix("gui-accounts-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let shots = Shots::new("accounts");
    let driver = TauriDriver::start(Path::new(APP), data_dir.path(), shots.dir.join("tauri-driver.log"));
    let session = driver.launch(Path::new(APP), &app_args(&sim.ws_url(), data_dir.path()), "start the app");

    // The first account, linked by phone 1.
    link_with_phone(&session, &sim, 1);
    shows(&session, &one.account.phone, "account 1 connected");

    // "Add account": the new account's link screen, linked by phone 2.
    session.click("#accounts-summary").unwrap();
    session.click("#add-account").unwrap();
    let seen = until_read(&session, READ, STEP, "the new account's link screen", |v| {
        v["accounts"].as_array().is_some_and(|a| a.len() == 2) && v["accounts"][1]["pressed"] == true
    });
    assert_eq!(seen["accounts"][0]["pressed"], false);
    link_with_phone(&session, &sim, 2);
    shows(&session, &two.account.phone, "account 2 connected");
    shots.take(&session, "01-second-account");

    // The switcher: both, each with its state and its world's blocked count.
    let expected = |n: usize| format!("connected, {} blocked", sim.world_of(n).blocklist.len());
    let seen = until_read(&session, READ, STEP, "both accounts listed, connected", |v| {
        let a = &v["accounts"];
        a[0]["detail"] == expected(1).as_str() && a[1]["detail"] == expected(2).as_str()
    });
    assert_eq!(seen["accounts"][0]["name"], one.account.push_name.as_str());
    assert_eq!(seen["accounts"][1]["name"], two.account.push_name.as_str());
    assert_eq!(seen["blocked"], two.blocklist.len().to_string().as_str(), "the header counts account 2's");
    assert_eq!(seen["summary"], "2 accounts");
    assert_eq!(seen["activity"], format!("Activity of {}", two.account.push_name).as_str(), "the log says whose");

    // Ctrl+1: the first account, its own number and count.
    session.keys(&[&[CONTROL, "1"]]).unwrap();
    let seen = shows(&session, &one.account.phone, "Ctrl+1 shows account 1");
    assert_eq!(seen["accounts"][0]["pressed"], true);
    assert_eq!(seen["activity"], format!("Activity of {}", one.account.push_name).as_str());
    let blocked = until_read(&session, READ, STEP, "account 1's count", |v| {
        v["blocked"] == one.blocklist.len().to_string().as_str()
    });
    assert_eq!(blocked["accounts"][1]["detail"], expected(2).as_str(), "account 2 still connected meanwhile");
    shots.take(&session, "02-ctrl-1");

    // A click on the second in the list: back to account 2.
    session.click("#accounts-summary").unwrap();
    session.click("#account-list li:nth-child(2) .account-switch").unwrap();
    shows(&session, &two.account.phone, "a click shows account 2");

    // Remove account 2, after a confirmation naming it.
    session.click("#accounts-summary").unwrap();
    session.click("#remove-account").unwrap();
    let named = wait_until(STEP, "the confirmation", || {
        match session.text("#confirm-remove-account-name").map_err(|e| e.to_string())? {
            Some(name) if !name.is_empty() => Ok(Some(name)),
            other => Err(format!("{other:?}")),
        }
    });
    assert_eq!(named, two.account.push_name);
    shots.take(&session, "03-confirm-remove");
    session.click("#confirm-remove-account-ok").unwrap();
    let seen = shows(&session, &one.account.phone, "account 1 shown after the removal");
    let seen = if seen["accounts"].as_array().map(Vec::len) == Some(1) {
        seen
    } else {
        until_read(&session, READ, STEP, "one account left", |v| v["accounts"].as_array().map(Vec::len) == Some(1))
    };
    assert_eq!(seen["accounts"][0]["detail"], expected(1).as_str());
    wait_until(STEP, "phone 2 to forget the removed account", || {
        let devices = sim.world_of(2).account.devices;
        if devices.is_empty() { Ok(Some(())) } else { Err(format!("{devices:?}")) }
    });
    assert_eq!(sim.world_of(1).account.devices.len(), 1, "phone 1 still has account 1");
    let folders: Vec<String> = std::fs::read_dir(data_dir.path().join("accounts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(folders, ["1"], "account 2's folder is deleted");
    shots.take(&session, "04-removed");

    driver.quit_app(Duration::from_secs(20));
    let _ = session.end();
    drop(driver);
    runtime.block_on(sim.shutdown());
}
