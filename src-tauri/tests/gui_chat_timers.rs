//! A 1:1 chat's disappearing-message timer through the real window: the
//! contact panel shows the phone's timer for the chat, and setting 7 days,
//! a custom 3600 s and Off there reaches the simulated recipient (who
//! decrypts each setting) and the world's chat; a length WhatsApp does not
//! take is refused in words, with nothing sent.
//!
//!     xvfb-run -a cargo test --workspace --features roster/sandbox,roster-core/sandbox --test gui_chat_timers
//!
//! Screenshots land in `target/gui-screenshots/chat-timers-*.png`.
#![cfg(feature = "sandbox")]

mod support;

use std::time::Duration;

use roster_sim::{ChatKind, Reader, SimHandle};
use serde_json::{Value, json};
use support::wait_until;
use support::webdriver::Session;

const STEP: Duration = Duration::from_secs(60);

/// The list's count and the contact panel's timer control.
const READ: &str = "
  const $ = (id) => document.getElementById(id);
  const body = $('detail-body');
  return {
    count: $('list-count').textContent.trim(),
    rows: [...document.querySelectorAll('#contact-rows .row')].map((r) => r.dataset.phone),
    errors: window.__errors || [],
    detail: body.hidden ? null : {
      name: $('detail-name').textContent,
      timer: $('detail-timer').dataset.timer,
      buttons: [...document.querySelectorAll('#detail-timer button[data-seconds]')].map((b) => ({
        seconds: Number(b.dataset.seconds),
        pressed: b.getAttribute('aria-pressed') === 'true',
        disabled: b.disabled,
      })),
      note: $('detail-timer-note').textContent,
      message: $('detail-timer-message').textContent,
      tone: $('detail-timer-message').dataset.tone || null,
    },
  };";

fn until(session: &Session, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    support::until_read(session, READ, STEP, what, done)
}

/// Shows `css` (inside a nested scroll area WebDriver does not scroll), then clicks it.
fn click(session: &Session, css: &str) {
    let script = format!("document.querySelector({}).scrollIntoView({{ block: 'center' }});", json!(css));
    session.execute(&script, json!([])).unwrap_or_else(|e| panic!("scroll to {css}: {e}"));
    session.click(css).unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Waits until the world's chat `jid` has `seconds`, and the recipient
/// decrypted an `EPHEMERAL_SETTING` of `seconds` for it.
fn until_world(sim: &SimHandle, jid: &str, seconds: u32) {
    wait_until(STEP, &format!("the world's chat timer to be {seconds}"), || {
        let world = sim.world();
        let timer = world.chats.iter().find(|c| c.jid == jid).map(|c| c.ephemeral_expiration);
        let read = world.deliveries.iter().rev().find(|d| d.reader == Reader::Person && d.chat.as_deref() == Some(jid));
        let decrypted = read.is_some_and(|d| {
            d.decrypted
                && d.protocol_message.as_deref() == Some("EPHEMERAL_SETTING")
                && d.ephemeral_expiration == Some(seconds)
        });
        if timer == Some(seconds) && decrypted { Ok(Some(())) } else { Err(format!("{timer:?}, {read:?}")) }
    });
}

#[test]
fn a_contacts_chat_timer_is_set_from_its_panel() {
    let linked = support::start_linked("chat-timers", 23, 200, &[]);
    let (sim, session, shots) = (&linked.sim, &linked.session, &linked.shots);
    session
        .execute(
            "window.__errors = []; \
             addEventListener('error', (e) => window.__errors.push(String(e.message))); \
             addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason)));",
            json!([]),
        )
        .unwrap();
    let world = sim.world();
    let blocked: Vec<&str> = world.blocklist.iter().map(|b| b.lid.as_str()).collect();
    // Someone in the address book, unblocked, with a 1:1 chat whose timer is 24 hours.
    let (person, chat) = world
        .chats
        .iter()
        .filter(|c| c.kind == ChatKind::Direct && c.ephemeral_expiration == 86_400)
        .find_map(|c| {
            let p = world.people.iter().find(|p| c.jid == format!("{}@s.whatsapp.net", p.phone))?;
            (p.saved_name.is_some() && !blocked.contains(&p.lid.as_str())).then_some((p, c))
        })
        .expect("a saved contact with a 24-hour chat timer");
    let name = person.saved_name.clone().unwrap();

    until(session, "the address book in the list", |s| s["count"].as_str().is_some_and(|c| c.ends_with("contacts")));
    session.clear("#search").unwrap();
    session.type_text("#search", &name).unwrap();
    // The search has run ("… found"), so the rows drawn are its results, not the list's first page.
    until(session, "the contact found", |s| {
        s["count"].as_str().is_some_and(|c| c.ends_with("found"))
            && s["rows"].as_array().is_some_and(|r| r.iter().any(|p| p == &person.phone))
    });
    click(session, &format!(".row[data-phone='{}'] .row-name", person.phone));
    let seen = until(session, "the panel with the phone's timer", |s| {
        s["detail"]["timer"] == "86400" && s["detail"]["buttons"][0]["disabled"] == false
    });
    let pressed: Vec<&Value> =
        seen["detail"]["buttons"].as_array().unwrap().iter().filter(|b| b["pressed"] == true).collect();
    assert_eq!(pressed.len(), 1, "{seen}");
    assert_eq!(pressed[0]["seconds"], 86_400);
    assert!(seen["detail"]["note"].as_str().unwrap().contains("24 hours"), "{seen}");

    // 7 days from the buttons.
    click(session, "#detail-timer button[data-seconds='604800']");
    until_world(sim, &chat.jid, 604_800);
    until(session, "7 days shown", |s| s["detail"]["timer"] == "604800" && s["detail"]["tone"] == "ok");
    shots.take(session, "01-seven-days");

    // A custom length.
    session.type_text("#detail-timer-seconds", "3600").unwrap();
    click(session, "#detail-timer-set");
    until_world(sim, &chat.jid, 3_600);
    let seen = until(session, "3600 s shown", |s| s["detail"]["timer"] == "3600");
    assert!(seen["detail"]["buttons"].as_array().unwrap().iter().all(|b| b["pressed"] == false), "{seen}");
    assert!(seen["detail"]["note"].as_str().unwrap().contains("3600 s"), "{seen}");
    shots.take(session, "02-custom");

    // Off.
    click(session, "#detail-timer button[data-seconds='0']");
    until_world(sim, &chat.jid, 0);
    until(session, "off shown", |s| {
        s["detail"]["timer"] == "0" && s["detail"]["message"] == "Disappearing messages: Off."
    });

    // Longer than WhatsApp takes: refused in words, nothing sent.
    let sent = sim.world().deliveries.len();
    session.type_text("#detail-timer-seconds", "2147483648").unwrap();
    click(session, "#detail-timer-set");
    let seen = until(session, "the refusal", |s| s["detail"]["tone"] == "error");
    let message = seen["detail"]["message"].as_str().unwrap();
    assert!(message.contains("longer than WhatsApp accepts"), "{message}");
    assert_eq!(sim.world().deliveries.len(), sent, "nothing sent");
    assert_eq!(seen["detail"]["timer"], "0", "unchanged");
    assert_eq!(seen["errors"], json!([]), "no script errors");
    shots.take(session, "03-refused");

    linked.finish();
}
