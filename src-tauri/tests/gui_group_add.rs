//! Adding pasted numbers to a group from its panel in the Groups tab,
//! through the real window: a list with a line that is no number is
//! refused whole (nothing sent); a clean list is added, each person's
//! outcome as the simulator's world has it; the one whose privacy refused
//! is sent the invite; Undo removes exactly those added.
//!
//!     xvfb-run -a cargo test --workspace --features roster/sandbox,roster-core/sandbox --test gui_group_add
//!
//! Screenshots land in `target/gui-screenshots/group-add-*.png`.
#![cfg(feature = "sandbox")]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use roster_sim::{GroupReport, Role, SimHandle};
use serde_json::{Value, json};
use support::webdriver::Session;

const STEP: Duration = Duration::from_secs(60);

/// The open group's panel and its "Add people" part.
const READ: &str = "
  const $ = (id) => document.getElementById(id);
  const body = $('group-body');
  return {
    jid: body.hidden ? null : body.dataset.jid,
    count: Number($('group-members-count').dataset.count),
    listed: $('group-members').dataset.count === '' ? null : Number($('group-members').dataset.count),
    addShown: !$('group-add').hidden,
    message: $('group-add-message').textContent,
    tone: $('group-add-message').dataset.tone || null,
    undoHidden: $('group-add-undo').hidden,
    outcomes: [...document.querySelectorAll('#group-add-outcomes li')].map((li) => ({
      phone: li.dataset.phone || null,
      outcome: li.dataset.outcome,
      sent: Boolean(li.querySelector('.add-invite[data-sent]')),
      text: li.textContent,
    })),
    errors: window.__errors || [],
  };";

fn until(session: &Session, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    support::until_read(session, READ, STEP, what, done)
}

fn world_group(sim: &SimHandle, jid: &str) -> GroupReport {
    sim.world().groups.into_iter().find(|g| g.jid == jid).expect("the group is in the world")
}

fn member_phones(g: &GroupReport) -> BTreeSet<String> {
    g.members.iter().map(|m| m.phone.clone()).collect()
}

/// Runs `script` on the element `css` after scrolling it into view (WebDriver
/// does not scroll the panel's own scroll area).
fn on(session: &Session, css: &str, script: &str) {
    let script = format!(
        "const el = document.querySelector({}); el.scrollIntoView({{ block: 'center' }}); {script}",
        json!(css)
    );
    session.execute(&script, json!([])).unwrap_or_else(|e| panic!("{css}: {e}"));
}

#[test]
fn pasted_numbers_are_added_to_a_group_from_its_panel_and_undone() {
    let linked = support::start_linked("group-add", 21, 200, &[]);
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
    // A plain group the account owns, with room (adding to a community is
    // the Groups test's; "Family" is kept nearly full on purpose).
    let group = world.groups.iter().find(|g| g.subject == "Suppliers").expect("the Suppliers group").clone();
    assert_ne!(group.account_role, Role::Member);
    let before = member_phones(&group);
    let outside = |addable: bool| {
        world
            .people
            .iter()
            .find(|p| p.addable_to_groups == addable && !before.contains(&p.phone))
            .unwrap_or_else(|| panic!("someone outside the group, addable: {addable}"))
            .phone
            .clone()
    };
    let (addable, private, nobody) = (outside(true), outside(false), world.unregistered[0].clone());

    session.click("#tab-groups").unwrap();
    let script = format!(
        "const el = document.querySelector({}); el.scrollIntoView({{ block: 'center' }}); el.click();",
        json!(format!("#groups-list [data-jid='{}']", group.jid))
    );
    support::until_read(
        session,
        &format!(
            "return Boolean(document.querySelector({}))",
            json!(format!("#groups-list [data-jid='{}']", group.jid))
        ),
        STEP,
        "the group listed",
        |v| v == true,
    );
    session.execute(&script, json!([])).unwrap();
    until(session, "the group's panel with its members", |s| {
        s["jid"] == group.jid.as_str() && s["listed"] == group.size
    });
    on(session, "#group-add", "el.open = true;");
    let seen = until(session, "the Add people form", |s| s["addShown"] == true);
    assert_eq!(seen["undoHidden"], true, "{seen}");

    // A line that is no number: refused whole, nothing sent.
    on(session, "#group-add-numbers", "el.focus();");
    session.type_text("#group-add-numbers", &format!("+{addable}\nnot a number\n+{nobody}")).unwrap();
    on(session, "#group-add-ok", "el.click();");
    let seen = until(session, "the list refused", |s| s["tone"] == "error");
    let message = seen["message"].as_str().unwrap();
    assert!(message.contains("not a number"), "the refusal names the line: {message}");
    assert_eq!(member_phones(&world_group(sim, &group.jid)), before, "nothing was added");
    assert!(seen["outcomes"].as_array().unwrap().is_empty(), "{seen}");
    shots.take(session, "01-refused");

    // A clean list, numbers as people write them: each outcome as the world has it.
    session.clear("#group-add-numbers").unwrap();
    let typed = format!("+{addable}, +{private}; +{nobody}");
    session.type_text("#group-add-numbers", &typed).unwrap();
    on(session, "#group-add-ok", "el.click();");
    let seen = until(session, "the outcomes", |s| s["tone"] == "ok" && s["outcomes"].as_array().unwrap().len() == 3);
    let outcomes: Vec<(&str, &str)> = seen["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["phone"].as_str().unwrap_or(""), o["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [(addable.as_str(), "added"), (private.as_str(), "invite_needed"), (nobody.as_str(), "not_on_whatsapp")],
        "{seen}"
    );
    let after = world_group(sim, &group.jid);
    let mut expected = before.clone();
    expected.insert(addable.clone());
    assert_eq!(member_phones(&after), expected, "the world has exactly the one added");
    let message = seen["message"].as_str().unwrap();
    assert!(message.contains("1 added") && message.contains(&format!("now has {} members", after.size)), "{message}");
    assert!(seen["outcomes"][0]["text"].as_str().unwrap().starts_with('+'), "numbers as people write them: {seen}");
    assert_eq!(seen["undoHidden"], false);
    until(session, "the panel's new count", |s| s["count"] == after.size && s["listed"] == after.size);
    shots.take(session, "02-added");

    // The one whose privacy refused gets the invite WhatsApp held for them.
    on(session, &format!("#group-add-outcomes li[data-phone='{private}'] .send-invite"), "el.click();");
    until(session, "the invite sent", |s| s["outcomes"][1]["sent"] == true);
    let deliveries = sim.world().deliveries;
    let invite = deliveries
        .iter()
        .filter(|d| d.chat.as_deref() == Some(format!("{private}@s.whatsapp.net").as_str()))
        .find_map(|d| d.group_invite.clone())
        .unwrap_or_else(|| panic!("+{private}'s phone read the invite: {deliveries:?}"));
    assert_eq!(invite.group, group.jid);

    // Undo removes exactly the one added.
    on(session, "#group-add-undo", "el.click();");
    let seen = until(session, "the undo", |s| s["message"].as_str().unwrap().contains("1 removed"));
    assert_eq!(member_phones(&world_group(sim, &group.jid)), before, "the group is as it was");
    assert_eq!(seen["undoHidden"], true, "{seen}");
    until(session, "the panel's count back", |s| s["count"] == group.size && s["listed"] == group.size);
    shots.take(session, "03-undone");
    assert!(seen["errors"].as_array().unwrap().is_empty(), "script errors: {}", seen["errors"]);
    linked.finish();
}
