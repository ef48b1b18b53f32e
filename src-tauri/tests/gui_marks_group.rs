//! The contact list's marked people added to a community through the real
//! window: the marks bar's "Add marked to a group…", the dialog offering
//! the groups where the account may add, the outcome in the list's notice
//! and the world's members, then Undo removing exactly those added.
//!
//!     xvfb-run -a cargo test --workspace --features roster/sandbox,roster-core/sandbox --test gui_marks_group
//!
//! Screenshots land in `target/gui-screenshots/marks-group-*.png`.
#![cfg(feature = "sandbox")]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use roster_sim::{Role, SimHandle};
use serde_json::{Value, json};
use support::webdriver::Session;
use support::{blocked_lids, wait_until};

const STEP: Duration = Duration::from_secs(60);

const READ: &str = "
  const $ = (id) => document.getElementById(id);
  const text = (id) => ($(id) ? $(id).textContent.trim() : null);
  return {
    state: document.body.dataset.state,
    rows: [...document.querySelectorAll('#contact-rows .row')].map((r) => ({
      index: Number(r.dataset.index),
      phone: r.dataset.phone,
    })),
    bar: $('list-marks').hidden ? null : text('list-marks-count'),
    dialog: $('marks-group').open ? {
      options: [...$('marks-group-target').options].map((o) => ({ jid: o.value, disabled: o.disabled })),
      ok: !$('marks-group-ok').disabled,
      note: text('marks-group-note'),
    } : null,
    notice: $('list-notice').hidden ? null : text('list-notice-text'),
    undo: !$('list-undo').hidden,
    error: $('error').hidden ? '' : text('error-text'),
  };";

fn until(session: &Session, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    support::until_read(session, READ, STEP, what, done)
}

/// Ctrl+clicks the row drawn at `index`, which marks it.
fn mark_row(session: &Session, index: u64) {
    let script = "const row = document.querySelector(`#contact-rows .row[data-index=\"${arguments[0]}\"]`);
        if (!row) return false;
        row.querySelector('.row-name').dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, ctrlKey: true }));
        return true;";
    assert_eq!(session.execute(script, json!([index])).unwrap(), true, "row {index} is drawn");
}

fn members(sim: &SimHandle, jid: &str) -> BTreeSet<String> {
    let group = sim.world().groups.into_iter().find(|g| g.jid == jid).expect("the group is in the world");
    group.members.into_iter().map(|m| m.phone).collect()
}

#[test]
fn marked_contacts_are_added_to_a_community_and_undone() {
    let linked = support::start_linked("marks-group", 21, 200, &[]);
    let (sim, session, shots) = (&linked.sim, &linked.session, &linked.shots);
    let world = sim.world();
    let community = world.groups.iter().find(|g| g.is_community && g.account_role != Role::Member).unwrap().clone();
    let blocked = blocked_lids(sim);
    let before = members(sim, &community.jid);

    // Two people drawn in the list whom the account may add and who are not members.
    let seen = until(session, "the list", |s| s["state"] == "connected" && s["rows"].as_array().unwrap().len() > 10);
    let addable = |phone: &str| {
        world.people.iter().any(|p| {
            p.phone == phone
                && p.addable_to_groups
                && !blocked.contains(&p.lid)
                && !before.contains(phone)
                && !community.recently_left.contains(&p.phone)
        })
    };
    let picked: Vec<(u64, String)> = seen["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| addable(r["phone"].as_str().unwrap()))
        .map(|r| (r["index"].as_u64().unwrap(), r["phone"].as_str().unwrap().to_owned()))
        .take(2)
        .collect();
    assert_eq!(picked.len(), 2, "two addable people in view: {seen}");
    for (index, _) in &picked {
        mark_row(session, *index);
    }
    until(session, "two marked", |s| s["bar"] == "2 people marked");

    // The dialog offers the groups; the community is chosen and they are added.
    session.click("#marks-add-group").unwrap();
    let seen = until(session, "the groups offered", |s| s["dialog"]["ok"] == true);
    let options = seen["dialog"]["options"].as_array().unwrap();
    assert!(options.iter().any(|o| o["jid"] == community.jid.as_str() && o["disabled"] == false), "{seen}");
    session
        .execute("document.getElementById('marks-group-target').value = arguments[0];", json!([community.jid]))
        .unwrap();
    session.click("#marks-group-ok").unwrap();
    let seen = until(session, "the outcome", |s| s["notice"].as_str().is_some_and(|n| n.contains("2 added")));
    assert!(seen["notice"].as_str().unwrap().starts_with(&format!("{}: 2 added.", community.subject)), "{seen}");
    assert_eq!(seen["undo"], true);
    assert_eq!(seen["bar"], Value::Null, "the marks are cleared");
    let phones: BTreeSet<String> = picked.iter().map(|(_, p)| p.clone()).collect();
    wait_until(STEP, "both in the world's community", || {
        let now = members(sim, &community.jid);
        if phones.is_subset(&now) { Ok(Some(())) } else { Err(format!("{now:?}")) }
    });
    shots.take(session, "01-added");

    // Undo removes exactly those added.
    session.click("#list-undo").unwrap();
    until(session, "the undo's outcome", |s| s["notice"].as_str().is_some_and(|n| n.contains("2 removed")));
    wait_until(STEP, "the community as before", || {
        let now = members(sim, &community.jid);
        if now == before { Ok(Some(())) } else { Err(format!("{now:?}")) }
    });
    assert_eq!(until(session, "no error", |_| true)["error"], "");
    shots.take(session, "02-undone");

    linked.finish();
}
