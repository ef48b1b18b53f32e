//! End to end, through the real window: QR login against the simulator,
//! a restart on the same data directory that logs in without a QR, an
//! outage the window reports while it reconnects, and a session taken over
//! by another client.
//!
//! Needs a sandbox build, an X display, `tauri-driver` and WebKitWebDriver:
//!
//!     bash scripts/setup.sh
//!     xvfb-run -a cargo test -p roster --features sandbox --test gui_login
//!
//! Screenshots of every step land in `target/gui-screenshots/`.
#![cfg(feature = "sandbox")]

mod support;

use std::path::Path;
use std::time::Duration;

use roster_sim::faults::ConnectionFault;
use roster_sim::{SimConfig, Simulator};
use serde_json::json;
use support::webdriver::Session;
use support::{Shots, TauriDriver, app_args, read_logs, wait_until};

const APP: &str = env!("CARGO_BIN_EXE_roster");
/// First QR, pairing and login each take well under this on a slow machine.
const STEP: Duration = Duration::from_secs(60);

/// What the window shows, read in one round trip.
#[derive(Debug)]
struct Seen {
    state: String,
    qr: Option<String>,
    badge: String,
}

fn seen(session: &Session) -> Result<Seen, String> {
    let v = session
        .execute(
            "const qr = document.getElementById('qr');
             return {
               state: document.body.dataset.state || '',
               qr: qr && qr.hasAttribute('data-qr') ? qr.getAttribute('data-qr') : null,
               badge: (document.getElementById('status-text') || {}).textContent || '',
             };",
            json!([]),
        )
        .map_err(|e| e.to_string())?;
    Ok(Seen {
        state: v["state"].as_str().unwrap_or_default().to_owned(),
        qr: v["qr"].as_str().map(str::to_owned),
        badge: v["badge"].as_str().unwrap_or_default().to_owned(),
    })
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

#[test]
fn qr_login_then_restart_without_qr() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let sim = runtime
        .block_on(Simulator::start(SimConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            seed: 7,
            auto_scan: None,
            ..SimConfig::default()
        }))
        .expect("start the simulator");
    let world = sim.world();
    let ws_url = sim.ws_url();
    let scan_url = format!("{}/admin/mock-phone/scan-qr", sim.http_url());

    let data_dir =
        tempfile::Builder::new().prefix("gui-login-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp data dir");
    let shots = Shots::new("login");
    let driver = TauriDriver::start(Path::new(APP), data_dir.path(), shots.dir.join("tauri-driver.log"));
    let args = app_args(&ws_url, data_dir.path());

    // 1. First start: no device stored, so the window shows a QR code.
    let session = driver.launch(Path::new(APP), &args, "start the app under tauri-driver");
    let qr = wait_until(STEP, "a QR code in #qr[data-qr]", || {
        match session.attribute("#qr", "data-qr").map_err(|e| e.to_string())? {
            Some(qr) if !qr.is_empty() => Ok(Some(qr)),
            _ => Err(format!("{:?}", seen(&session)?)),
        }
    });
    let s = seen(&session).unwrap();
    assert_eq!(s.state, "waiting_for_scan", "{s:?}");
    assert_eq!(s.badge, "Waiting for scan");
    assert!(session.find("#qr img").unwrap().is_some(), "the QR image is shown");
    shots.take(&session, "01-login-qr");

    // 2. The phone scans the code shown in the window.
    let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
    let mut code = qr;
    let mut attempts = 0;
    loop {
        attempts += 1;
        match agent.post(&scan_url).send(code.as_str()) {
            Ok(_) => break,
            // The window may have rotated to the next code in between.
            Err(ureq::Error::StatusCode(404)) if attempts < 5 => {
                code = seen(&session).unwrap().qr.expect("a QR code is still shown");
            }
            Err(e) => panic!("the phone could not scan {code:?}: {e}"),
        }
    }

    // 3. The window shows the linked account.
    let expected_phone = digits(&world.account.phone);
    let phone = wait_until(STEP, "state connected with the account's number", || {
        let s = seen(&session)?;
        let phone = session.text("#account-phone").map_err(|e| e.to_string())?.unwrap_or_default();
        if s.state == "connected" && digits(&phone) == expected_phone {
            Ok(Some(phone))
        } else {
            Err(format!("{s:?}, #account-phone {phone:?}"))
        }
    });
    assert_eq!(phone, roster_core::numbers::shown(&expected_phone), "the number as its country writes it");
    assert_eq!(session.text("#account-name").unwrap().as_deref(), Some(world.account.push_name.as_str()));
    assert_eq!(seen(&session).unwrap().badge, "Connected");
    assert_eq!(seen(&session).unwrap().qr, None, "no QR once connected");
    assert!(session.find("#logout").unwrap().is_some());
    shots.take(&session, "02-connected");

    // 3b. The webview reaches nothing but the app's commands: no HTTP to any
    //     server (not even loopback), no remote image, no plugin command.
    //     The picture is a real JPEG the simulator serves to anyone asking;
    //     the SVG `data:` image is the control showing images do load.
    let pictured = sim.world().people.into_iter().find(|p| p.picture_id.is_some()).unwrap();
    let picture = format!(
        "{}/pp/{}/{}/preview?exp=99999999999&e=0",
        sim.http_url(),
        pictured.phone,
        pictured.picture_id.unwrap()
    );
    let probe = session
        .execute_async(
            "const [url, done] = arguments;
             const load = (src) => new Promise((resolve) => {
               const img = new Image();
               img.onload = () => resolve('loaded');
               img.onerror = () => resolve('blocked');
               img.src = src;
             });
             const fetched = fetch(url, { mode: 'no-cors' }).then(() => 'loaded', (e) => 'blocked: ' + e);
             const plugin = window.__TAURI__.core
               .invoke('plugin:fs|read_text_file', { path: '/etc/hostname' })
               .then(() => 'allowed', (e) => 'refused: ' + e);
             const local = load(\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' width='2' height='2'/>\");
             Promise.all([fetched, load(url), local, plugin])
               .then(([f, i, l, p]) => done({ fetch: f, image: i, local: l, plugin: p }));",
            json!([picture]),
        )
        .expect("run the probe in the webview");
    assert_eq!(probe["local"], "loaded", "the control image loads: {probe}");
    assert!(probe["fetch"].as_str().unwrap().starts_with("blocked"), "fetch to the simulator: {probe}");
    assert_eq!(probe["image"], "blocked", "a remote image: {probe}");
    assert!(probe["plugin"].as_str().unwrap().starts_with("refused"), "a file-system command: {probe}");

    // 3c. A second start on the same data directory opens nothing: it asks
    //     the running window to come to the front and exits; the first one
    //     goes on, still the one linked device.
    let mut second = std::process::Command::new(APP)
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start a second roster");
    let status = wait_until(STEP, "the second start to exit", || match second.try_wait() {
        Ok(Some(status)) => Ok(Some(status)),
        other => Err(format!("{other:?}")),
    });
    let output = second.wait_with_output().unwrap();
    let (out, err) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(status.code(), Some(0), "stdout: {out}; stderr: {err}");
    let holder = driver.app_pids();
    assert_eq!(holder.len(), 1, "one app process runs: {holder:?}");
    assert!(
        out.contains(&format!("already running on {} (process {})", data_dir.path().display(), holder[0])),
        "{out}"
    );
    assert!(out.contains("brought to the front"), "{out}");
    let log = wait_until(STEP, "the first one to log the request", || {
        let log = read_logs(&data_dir.path().join("logs"));
        if log.contains("window brought to the front") { Ok(Some(log)) } else { Err("not yet".into()) }
    });
    assert_eq!(log.matches("starting the session").count(), 1, "the second start opened no session:\n{log}");
    assert_eq!(seen(&session).unwrap().state, "connected", "the first window goes on");
    assert_eq!(sim.world().account.devices.len(), 1, "still one linked device");

    // 4. Quit the app (it stops the session cleanly), then end the session.
    assert_eq!(driver.quit_app(Duration::from_secs(20)), 1, "one app process was running");
    let _ = session.end(); // the app is gone already; the driver may say so
    assert_eq!(sim.world().account.devices.len(), 1, "one device paired");
    let log = read_logs(&data_dir.path().join("logs"));
    assert!(log.contains("connected"), "the log file records the login:\n{log}");
    assert!(log.contains("stopped"), "the app shut down cleanly:\n{log}");

    // 5. Start again on the same data directory: it logs in with the stored
    //    device, and never shows a QR code.
    let session = driver.launch(Path::new(APP), &args, "restart the app");
    let mut first = true;
    wait_until(STEP, "the restarted app to connect without a QR", || {
        let s = seen(&session)?;
        assert_eq!(s.qr, None, "the restarted app showed a QR code: {s:?}");
        assert!(
            !matches!(s.state.as_str(), "waiting_for_scan" | "qr_expired" | "logged_out"),
            "the restarted app is not logging in with its stored device: {s:?}"
        );
        if first {
            first = false;
            shots.take(&session, "03-restart-start");
        }
        Ok((s.state == "connected").then_some(()))
    });
    let phone = session.text("#account-phone").unwrap().unwrap_or_default();
    assert_eq!(digits(&phone), expected_phone);
    assert_eq!(sim.world().account.devices.len(), 1, "no second pairing");
    assert_eq!(sim.world().account.pending_refs, 0, "no pairing was offered");
    shots.take(&session, "04-restart-connected");

    // 6. The server goes away for a while: the window says the connection
    //    was lost, counts the attempts, and comes back by itself.
    sim.start_outage(Duration::from_secs(8));
    assert_eq!(sim.inject(ConnectionFault::Drop), 1);
    let mut shot = false;
    let (badge, note) = wait_until(STEP, "the window to count reconnect attempts", || {
        let s = seen(&session)?;
        let note = session.text("#offline-note").map_err(|e| e.to_string())?.unwrap_or_default();
        if s.state == "reconnecting" && !shot {
            shot = true;
            shots.take(&session, "05-reconnecting");
        }
        let attempts = session.attribute("#offline-note", "data-attempt").map_err(|e| e.to_string())?;
        let counted = attempts.as_deref().and_then(|a| a.parse::<u64>().ok()).is_some_and(|a| a >= 2);
        // The note and its attribute are read apart; both must show the count.
        if s.state == "reconnecting" && counted && note.contains("attempts so far") {
            Ok(Some((s.badge, note)))
        } else {
            Err(format!("{s:?}, attempts {attempts:?}, note {note:?}"))
        }
    });
    assert!(badge.starts_with("Reconnecting… (attempt "), "{badge:?}");
    assert!(note.contains("Connection lost at") && note.contains("the server closed the connection"), "{note:?}");
    shots.take(&session, "06-reconnecting-attempts");
    wait_until(STEP, "the window to connect again after the outage", || {
        let s = seen(&session)?;
        Ok((s.state == "connected" && s.badge == "Connected").then_some(()))
    });
    assert!(session.attribute("#offline-note", "hidden").unwrap().is_some(), "the offline note is gone");

    // 7. Another session takes over: the window stops and says so, until
    //    the operator connects here again.
    assert_eq!(sim.inject(ConnectionFault::Replaced), 1);
    wait_until(STEP, "the taken-over notice", || {
        let s = seen(&session)?;
        let shown = session.attribute("#replaced", "hidden").map_err(|e| e.to_string())?.is_none();
        Ok((s.state == "replaced" && shown && s.badge == "Taken over by another session").then_some(()))
    });
    shots.take(&session, "07-replaced");
    let opened = sim.connections_opened();
    session.click("#take-back").unwrap();
    wait_until(STEP, "connected again after taking the session back", || {
        let s = seen(&session)?;
        Ok((s.state == "connected").then_some(()))
    });
    assert_eq!(sim.connections_opened(), opened + 1, "one new connection, on the operator's request");
    assert_eq!(sim.world().account.devices.len(), 1, "still the same linked device");

    driver.quit_app(Duration::from_secs(20));
    let _ = session.end();
    drop(driver);
    runtime.block_on(sim.shutdown());
}

/// Started while the server cannot be reached: the window says so, with the
/// reason and the attempts, instead of "Connecting…" forever; once the
/// server is up, "Reconnect now" connects without waiting out the pause.
#[test]
fn offline_start_says_why_and_reconnects_on_request() {
    let port = support::free_port();
    let ws_url = format!("ws://127.0.0.1:{port}/ws/chat");
    let data_dir =
        tempfile::Builder::new().prefix("gui-offline-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp data dir");
    let shots = Shots::new("offline-start");
    let driver = TauriDriver::start(Path::new(APP), data_dir.path(), shots.dir.join("tauri-driver.log"));
    let session =
        driver.launch(Path::new(APP), &app_args(&ws_url, data_dir.path()), "start the app under tauri-driver");
    const READ: &str = "return {
        note: document.getElementById('login-note').textContent,
        button: !document.getElementById('reconnect-now').hidden,
      };";
    let note = wait_until(STEP, "the window to say it cannot connect, and why", || {
        let s = seen(&session)?;
        let v = session.execute(READ, json!([])).map_err(|e| e.to_string())?;
        let note = v["note"].as_str().unwrap_or_default().to_owned();
        let attempts: u64 =
            s.badge.trim_start_matches("Cannot connect (attempt ").trim_end_matches(')').parse().unwrap_or(0);
        if s.state == "unreachable" && attempts >= 2 && v["button"] == true {
            Ok(Some(note))
        } else {
            Err(format!("{s:?}, note {note:?}, button {}", v["button"]))
        }
    });
    assert!(note.starts_with(&format!("Nothing answers at 127.0.0.1:{port}.")), "the reason, in words: {note:?}");
    shots.take(&session, "01-cannot-connect");

    // The server comes up; the operator does not wait for the next attempt.
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let sim = runtime
        .block_on(Simulator::start(SimConfig { listen: ([127, 0, 0, 1], port).into(), ..SimConfig::default() }))
        .expect("start the simulator on the port the app tries");
    let started = std::time::Instant::now();
    session.click("#reconnect-now").unwrap();
    wait_until(STEP, "a QR code once reconnected", || {
        let s = seen(&session)?;
        if s.state == "waiting_for_scan" && s.qr.is_some() { Ok(Some(())) } else { Err(format!("{s:?}")) }
    });
    eprintln!("connected {:?} after \"Reconnect now\"", started.elapsed());
    assert!(session.attribute("#reconnect-now", "hidden").unwrap().is_some(), "the button goes once connected");
    shots.take(&session, "02-reconnected");
    drop(session);
    drop(driver);
    runtime.block_on(sim.shutdown());
}

/// Started on a data directory whose WhatsApp session store another
/// program left unusable: the window says WhatsApp could not be started and
/// which file is at fault, with "Reconnect now"; once the file is moved
/// away, "Reconnect now" starts the client and the QR code comes.
#[test]
fn a_client_that_cannot_start_says_which_file_and_retries_on_request() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let sim = runtime.block_on(Simulator::start(SimConfig::default())).expect("start the simulator");
    let data_dir =
        tempfile::Builder::new().prefix("gui-stopped-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp data dir");
    // A single-account data directory (the app moves it into account 1)
    // whose store has a table of the client's name but another shape.
    rusqlite::Connection::open(data_dir.path().join("session.db"))
        .and_then(|db| db.execute_batch("CREATE TABLE identities (something_else TEXT);"))
        .expect("write the unusable store");
    let store = data_dir.path().join("accounts").join("1").join("session.db");
    let shots = Shots::new("not-running");
    let driver = TauriDriver::start(Path::new(APP), data_dir.path(), shots.dir.join("tauri-driver.log"));
    let session = driver.launch(Path::new(APP), &app_args(&sim.ws_url(), data_dir.path()), "start the app");
    const READ: &str = "return {
        note: document.getElementById('login-note').textContent,
        waiting: document.getElementById('qr-waiting-text').textContent,
        button: !document.getElementById('reconnect-now').hidden,
      };";
    let (note, waiting) = wait_until(STEP, "the window to say WhatsApp could not be started", || {
        let s = seen(&session)?;
        let v = session.execute(READ, json!([])).map_err(|e| e.to_string())?;
        let (note, waiting) = (v["note"].as_str().unwrap_or_default(), v["waiting"].as_str().unwrap_or_default());
        if s.state == "stopped" && v["button"] == true {
            Ok(Some((note.to_owned(), waiting.to_owned())))
        } else {
            Err(format!("{s:?}, note {note:?}, button {}", v["button"]))
        }
    });
    assert_eq!(waiting, "WhatsApp could not be started.");
    assert!(note.contains(&store.display().to_string()), "the note names the unusable file: {note:?}");
    assert!(note.contains("move it away and link this device again"), "what to do about it: {note:?}");
    assert!(note.ends_with("\"Reconnect now\" tries again.") && !note.contains(".."), "{note:?}");
    assert!(session.attribute("#qr-spinner", "hidden").unwrap().is_some(), "no spinner: nothing is under way");
    assert_eq!(seen(&session).unwrap().badge, "Not running");
    assert_eq!(sim.logins(), 0, "nothing reached the server");
    shots.take(&session, "01-not-running");
    session.set_window_size(800, 600).unwrap();
    shots.take(&session, "02-not-running-800x600");

    // The operator moves the file away and asks again.
    std::fs::rename(&store, data_dir.path().join("session.db.unusable")).expect("move the unusable store away");
    session.click("#reconnect-now").unwrap();
    wait_until(STEP, "a QR code once the client starts", || {
        let s = seen(&session)?;
        if s.state == "waiting_for_scan" && s.qr.is_some() { Ok(Some(())) } else { Err(format!("{s:?}")) }
    });
    assert!(session.attribute("#reconnect-now", "hidden").unwrap().is_some(), "the button goes once started");
    shots.take(&session, "03-started");
    drop(session);
    drop(driver);
    runtime.block_on(sim.shutdown());
}

/// "Link with phone number instead": the window shows the code WhatsApp
/// issued for the number typed, with its expiry; a mistyped code on the
/// phone links nothing and the QR code stays; the right one links.
#[test]
fn linking_with_a_code_typed_on_the_phone() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let sim = runtime
        .block_on(Simulator::start(SimConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            seed: 23,
            auto_scan: None,
            ..SimConfig::default()
        }))
        .expect("start the simulator");
    let data_dir = tempfile::Builder::new()
        .prefix("gui-link-code-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp data dir");
    let shots = Shots::new("link-code");
    let driver = TauriDriver::start(Path::new(APP), data_dir.path(), shots.dir.join("tauri-driver.log"));
    let session =
        driver.launch(Path::new(APP), &app_args(&sim.ws_url(), data_dir.path()), "start the app under tauri-driver");
    wait_until(STEP, "a QR code", || {
        let s = seen(&session)?;
        if s.state == "waiting_for_scan" && s.qr.is_some() { Ok(Some(())) } else { Err(format!("{s:?}")) }
    });

    const READ: &str = "const $ = (id) => document.getElementById(id);
      return {
        shown: !$('link-code').hidden,
        code: $('link-code-value').textContent,
        phone: $('link-code-phone').textContent,
        expiry: $('link-code-expiry').textContent,
        message: $('link-number-message').textContent,
      };";
    let read = |what: &str, done: &dyn Fn(&serde_json::Value) -> bool| {
        wait_until(STEP, what, || {
            let v = session.execute(READ, json!([])).map_err(|e| e.to_string())?;
            if done(&v) { Ok(Some(v)) } else { Err(v.to_string()) }
        })
    };
    // A refusal first: not a number.
    session.click("#link-number-open").unwrap();
    session.type_text("#link-number-input", "call me").unwrap();
    session.click("#link-number-submit").unwrap();
    read("the refusal", &|v| v["message"].as_str().unwrap().contains("not a phone number"));

    let phone = sim.world().account.phone;
    session.clear("#link-number-input").unwrap();
    session.type_text("#link-number-input", &format!("+{phone}")).unwrap();
    session.click("#link-number-submit").unwrap();
    let v = read("the code", &|v| v["shown"] == true && v["code"].as_str().unwrap().len() == 9);
    let code = v["code"].as_str().unwrap().to_owned();
    assert_eq!(v["phone"], roster_core::numbers::shown(&phone));
    assert!(v["expiry"].as_str().unwrap().starts_with("Expires in 2:") || v["expiry"] == "Expires in 3:00.", "{v}");
    shots.take(&session, "01-code");

    // Mistyped on the phone: nothing links, the QR code still stands.
    let wrong = if code.starts_with('Z') { "YYYY-YYYY" } else { "ZZZZ-ZZZZ" };
    let refused = runtime.block_on(sim.enter_pair_code(wrong));
    assert_eq!(refused, Err(roster_sim::CodeError::WrongCode));
    let s = seen(&session).unwrap();
    assert!(s.state == "waiting_for_scan" && s.qr.is_some(), "{s:?}");
    assert!(sim.world().account.devices.is_empty());

    // Typed right: linked.
    runtime.block_on(sim.enter_pair_code(&code)).expect("the right code links");
    wait_until(STEP, "connected", || {
        let s = seen(&session)?;
        if s.state == "connected" { Ok(Some(())) } else { Err(format!("{s:?}")) }
    });
    assert_eq!(sim.world().account.devices.len(), 1);
    shots.take(&session, "02-linked");
    drop(session);
    drop(driver);
    runtime.block_on(sim.shutdown());
}
