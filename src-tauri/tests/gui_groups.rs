//! Groups and communities through the real window: the Groups tab (search,
//! a community with its linked groups, members, counts and roles as the
//! simulator's world has them), a group timer set and cleared where the
//! account is an admin and refused where it may not, and a check's people
//! added to the community from the results table (each line's outcome as
//! the world says), then undone.
//!
//!     xvfb-run -a cargo test --workspace --features roster/sandbox,roster-core/sandbox --test gui_groups
//!
//! Screenshots land in `target/gui-screenshots/groups-*.png`.
#![cfg(feature = "sandbox")]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use roster_sim::{GroupReport, Role, SimHandle};
use serde_json::{Value, json};
use support::wait_until;
use support::webdriver::Session;

const STEP: Duration = Duration::from_secs(60);

/// The Groups tab as the window shows it.
const READ: &str = "
  const $ = (id) => document.getElementById(id);
  const body = $('group-body');
  return {
    rows: [...document.querySelectorAll('#groups-list .group-row')].map((r) => ({
      jid: r.dataset.jid,
      members: Number(r.dataset.members),
      role: r.dataset.role,
      timer: Number(r.dataset.timer),
      linked: r.dataset.linked === 'true',
      community: r.dataset.community === 'true',
      text: r.textContent,
    })),
    message: $('groups-message').textContent,
    errors: window.__errors || [],
    detail: body.hidden ? null : {
      jid: body.dataset.jid,
      count: Number($('group-members-count').dataset.count),
      role: $('group-role').textContent,
      timer: Number($('group-timer').dataset.timer),
      buttons: [...document.querySelectorAll('#group-timer button[data-seconds]')].map((b) => ({
        seconds: Number(b.dataset.seconds),
        pressed: b.getAttribute('aria-pressed') === 'true',
        disabled: b.disabled,
      })),
      note: $('group-timer-note').textContent,
      refused: $('group-timer-note').dataset.refused === 'true',
      message: $('group-timer-message').textContent,
      tone: $('group-timer-message').dataset.tone || null,
      listed: $('group-members').dataset.count === '' ? null : Number($('group-members').dataset.count),
      members: [...document.querySelectorAll('#group-members li')].map((li) => ({
        phone: li.dataset.phone || null,
        admin: li.dataset.admin === 'true',
        text: li.textContent,
      })),
    },
  };";

/// A check's results with each line's add-to-group outcome.
const RESULTS: &str = "
  const $ = (id) => document.getElementById(id);
  return {
    state: $('job').hidden ? null : $('job-state').dataset.state,
    rows: [...document.querySelectorAll('#job-rows tr')].map((tr) => {
      const outcome = tr.querySelector('.add-outcome');
      const invite = tr.querySelector('.add-invite');
      return {
        line: Number(tr.dataset.line),
        input: tr.children[2].textContent,
        outcome: outcome ? outcome.dataset.outcome : null,
        code: outcome && outcome.dataset.code ? Number(outcome.dataset.code) : null,
        text: outcome ? outcome.textContent : null,
        invite: invite ? {
          expires: Number(invite.dataset.expires),
          sent: invite.dataset.sent ? Number(invite.dataset.sent) : null,
          text: invite.textContent,
        } : null,
      };
    }),
    message: $('job-group-message').textContent,
    tone: $('job-group-message').dataset.tone || null,
    members: $('job-group-message').dataset.members ? Number($('job-group-message').dataset.members) : null,
    undoHidden: $('job-group-undo').hidden,
    dialog: $('add-to-group').open ? {
      options: [...$('add-to-group-target').options].map((o) => ({ jid: o.value, disabled: o.disabled })),
      ok: !$('add-to-group-ok').disabled,
      note: $('add-to-group-note').textContent,
    } : null,
  };";

fn until(session: &Session, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    support::until_read(session, READ, STEP, what, done)
}

fn until_results(session: &Session, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    support::until_read(session, RESULTS, STEP, what, done)
}

fn world_group(sim: &SimHandle, jid: &str) -> GroupReport {
    sim.world().groups.into_iter().find(|g| g.jid == jid).expect("the group is in the world")
}

fn member_phones(g: &GroupReport) -> BTreeSet<String> {
    g.members.iter().map(|m| m.phone.clone()).collect()
}

fn role_word(r: Role) -> &'static str {
    match r {
        Role::Member => "member",
        Role::Admin => "admin",
        Role::Superadmin => "superadmin",
    }
}

/// Shows `css` (inside a nested scroll area WebDriver does not scroll), then clicks it.
fn click(session: &Session, css: &str) {
    let script = format!(
        "const el = document.querySelector({}); el.scrollIntoView({{ block: 'center' }}); \
         const r = el.getBoundingClientRect(); \
         const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); \
         return el.contains(at) ? null : (at ? at.outerHTML.slice(0, 200) : 'nothing') + ' ' + JSON.stringify(r);",
        json!(css)
    );
    let covered = session.execute(&script, json!([])).unwrap_or_else(|e| panic!("scroll to {css}: {e}"));
    assert!(covered.is_null(), "{css} is covered by {covered}");
    session.click(css).unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Opens a group's panel from the list. WebKitWebDriver's click does not
/// reach these rows' handler (a real click does), so the row is clicked from
/// the page.
fn open_group(session: &Session, jid: &str) {
    let css = format!("#groups-list [data-jid='{jid}']");
    let script = format!(
        "const el = document.querySelector({}); el.scrollIntoView({{ block: 'center' }}); el.click();",
        json!(css)
    );
    session.execute(&script, json!([])).unwrap_or_else(|e| panic!("open {jid}: {e}"));
}

fn search(session: &Session, text: &str) {
    session.clear("#groups-search").unwrap();
    if !text.is_empty() {
        session.type_text("#groups-search", text).unwrap();
    }
}

/// Waits until the world's timer of `jid` is `seconds`.
fn until_world_timer(sim: &SimHandle, jid: &str, seconds: u32) {
    wait_until(STEP, &format!("the world's timer to be {seconds}"), || {
        let now = world_group(sim, jid).ephemeral_expiration;
        if now == seconds { Ok(Some(())) } else { Err(format!("{now}")) }
    });
}

#[test]
fn groups_tab_timers_and_adding_checked_people_to_a_community() {
    let linked = support::start_linked("groups", 21, 200, &[]);
    let (sim, session, shots) = (&linked.sim, &linked.session, &linked.shots);
    let world = sim.world();
    let community = world.groups.iter().find(|g| g.is_community).expect("a community").clone();
    assert_eq!(community.account_role, Role::Superadmin);

    // Script errors in the window, for the failure messages.
    session
        .execute(
            "window.__errors = []; \
             addEventListener('error', (e) => window.__errors.push(String(e.message))); \
             addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason)));",
            json!([]),
        )
        .unwrap();

    // The Groups tab: the community found by search, its linked groups under it.
    session.click("#tab-groups").unwrap();
    until(session, "the groups", |s| s["rows"].as_array().is_some_and(|r| r.len() == world.groups.len()));
    search(session, &community.subject);
    let linked_jids: BTreeSet<String> = world
        .groups
        .iter()
        .filter(|g| {
            g.linked_parent.as_deref() == Some(community.jid.as_str()) || community.linked_groups.contains(&g.jid)
        })
        .map(|g| g.jid.clone())
        .collect();
    assert!(!linked_jids.is_empty(), "the community has linked groups");
    let seen = until(session, "the community and its groups", |s| {
        s["rows"].as_array().is_some_and(|r| r.len() == 1 + linked_jids.len())
    });
    let rows = seen["rows"].as_array().unwrap();
    assert_eq!(rows[0]["jid"], community.jid.as_str(), "the community first: {seen}");
    assert_eq!(rows[0]["community"], true);
    let shown_linked: BTreeSet<String> =
        rows[1..].iter().filter(|r| r["linked"] == true).map(|r| r["jid"].as_str().unwrap().to_owned()).collect();
    assert_eq!(shown_linked, linked_jids, "its linked groups under it");
    for row in rows {
        let g = world_group(sim, row["jid"].as_str().unwrap());
        assert_eq!(row["members"], g.size, "{}: the server's count", g.subject);
        assert_eq!(row["role"], role_word(g.account_role), "{}", g.subject);
        assert_eq!(row["timer"], g.ephemeral_expiration, "{}", g.subject);
    }
    assert!(rows[0]["text"].as_str().unwrap().contains("Owner"), "the role in words: {}", rows[0]["text"]);

    // Its members: each once, admins badged, the account among them.
    open_group(session, &community.jid);
    let seen = until(session, "the community's members", |s| {
        s["detail"]["jid"] == community.jid.as_str() && s["detail"]["listed"] == community.size
    });
    let detail = &seen["detail"];
    assert_eq!(detail["count"], community.size);
    assert_eq!(detail["role"], "Owner");
    let members = detail["members"].as_array().unwrap();
    let listed: BTreeSet<String> = members.iter().filter_map(|m| m["phone"].as_str().map(str::to_owned)).collect();
    for m in &community.members {
        assert!(listed.contains(&m.phone), "+{} is listed", m.phone);
        let row = members.iter().find(|r| r["phone"] == m.phone.as_str()).unwrap();
        assert_eq!(row["admin"], m.admin, "+{}: admin as the server says", m.phone);
    }
    let admins = members.iter().filter(|m| m["admin"] == true).count();
    assert_eq!(admins, community.members.iter().filter(|m| m.admin).count() + 1, "the account is an admin too");
    assert!(members.iter().any(|m| m["text"].as_str().unwrap().contains("(you)")), "the account is marked");
    shots.take(session, "01-community");

    // A timer where the account is an admin: set, then off; the world follows.
    let own = world.groups.iter().find(|g| g.subject == "Suppliers").unwrap().clone();
    assert!(own.account_role != Role::Member);
    let first = if own.ephemeral_expiration == 604_800 { 86_400 } else { 604_800 };
    search(session, &own.subject);
    open_group(session, &own.jid);
    until(session, "the group's panel", |s| {
        s["detail"]["jid"] == own.jid.as_str() && s["detail"]["buttons"][0]["disabled"] == false
    });
    click(session, &format!("#group-timer button[data-seconds='{first}']"));
    until_world_timer(sim, &own.jid, first);
    let seen = until(session, "the new timer shown", |s| s["detail"]["timer"] == first && s["detail"]["tone"] == "ok");
    let pressed: Vec<&Value> =
        seen["detail"]["buttons"].as_array().unwrap().iter().filter(|b| b["pressed"] == true).collect();
    assert_eq!(pressed.len(), 1);
    assert_eq!(pressed[0]["seconds"], first);
    assert!(seen["rows"].as_array().unwrap().iter().any(|r| r["jid"] == own.jid.as_str() && r["timer"] == first));
    shots.take(session, "02-timer-set");
    click(session, "#group-timer button[data-seconds='0']");
    until_world_timer(sim, &own.jid, 0);
    until(session, "the timer off", |s| {
        s["detail"]["timer"] == 0 && s["detail"]["message"] == "Disappearing messages are off."
    });

    // A custom length: the app refuses it for a group, with the reason; nothing changes.
    session.type_text("#group-timer-seconds", "3600").unwrap();
    click(session, "#group-timer-set");
    let seen = until(session, "the refusal", |s| s["detail"]["tone"] == "error");
    let message = seen["detail"]["message"].as_str().unwrap();
    assert!(message.contains("not a timer a group takes"), "{message}");
    assert_eq!(world_group(sim, &own.jid).ephemeral_expiration, 0, "unchanged");
    shots.take(session, "03-custom-refused");

    // A locked group where the account is a member: the control says why.
    let locked = world.groups.iter().find(|g| g.locked && g.account_role == Role::Member).unwrap().clone();
    search(session, &locked.subject);
    open_group(session, &locked.jid);
    let seen = until(session, "the locked group's panel", |s| {
        s["detail"]["jid"] == locked.jid.as_str() && s["detail"]["listed"] == locked.size
    });
    let detail = &seen["detail"];
    assert_eq!(detail["role"], "Member");
    assert!(detail["buttons"].as_array().unwrap().iter().all(|b| b["disabled"] == true), "{detail}");
    assert_eq!(detail["refused"], true);
    assert!(detail["note"].as_str().unwrap().contains("Only admins may change the settings"), "{detail}");
    shots.take(session, "04-locked");

    // A check with a mix: two who may be added, one whose privacy asks for
    // an invite, a member already, one who left lately, one not on WhatsApp.
    let before = member_phones(&community);
    let outside: Vec<_> = world
        .people
        .iter()
        .filter(|p| !before.contains(&p.phone) && !community.recently_left.contains(&p.phone))
        .collect();
    let mut expected: Vec<(String, &str)> = Vec::new();
    expected.extend(outside.iter().filter(|p| p.addable_to_groups).take(2).map(|p| (p.phone.clone(), "added")));
    expected
        .extend(outside.iter().filter(|p| !p.addable_to_groups).take(1).map(|p| (p.phone.clone(), "invite_needed")));
    expected.push((community.members[0].phone.clone(), "already_member"));
    expected.extend(community.recently_left.iter().take(1).map(|p| (p.clone(), "recently_left")));
    expected.push((world.unregistered[0].clone(), "not_on_whatsapp"));
    assert_eq!(expected.len(), 6, "the world has the mix: {expected:?}");
    let lines: Vec<String> = expected.iter().map(|(p, _)| format!("+{p}")).collect();
    session.click("#tab-import").unwrap();
    session.type_text("#import-text", &lines.join("\u{E007}")).unwrap();
    session.click("#import-preview").unwrap();
    session.clear("#import-rate").unwrap();
    session.type_text("#import-rate", "600").unwrap();
    wait_until(STEP, "the start button", || {
        match session.execute("return document.getElementById('import-start').disabled", json!([])) {
            Ok(v) if v == false => Ok(Some(())),
            other => Err(format!("{other:?}")),
        }
    });
    session.click("#import-start").unwrap();
    until_results(session, "the check", |s| s["state"] == "done" && s["rows"].as_array().is_some_and(|r| r.len() == 6));

    // Every checked line, to the community.
    click(session, "#job-group-add");
    let seen = until_results(session, "the dialog's groups", |s| s["dialog"]["ok"] == true);
    let options = seen["dialog"]["options"].as_array().unwrap();
    assert!(options.iter().any(|o| o["jid"] == community.jid.as_str() && o["disabled"] == false), "{seen}");
    assert!(options.iter().any(|o| o["jid"] == locked.jid.as_str() && o["disabled"] == true), "not an admin there");
    session
        .execute(
            &format!("document.getElementById('add-to-group-target').value = {};", json!(community.jid)),
            json!([]),
        )
        .unwrap();
    session.click("#add-to-group-all").unwrap();
    shots.take(session, "05-add-dialog");
    session.click("#add-to-group-ok").unwrap();
    let seen = until_results(session, "each line's outcome", |s| {
        !s["members"].is_null() && s["rows"].as_array().unwrap().iter().all(|r| !r["outcome"].is_null())
    });
    shots.take(session, "06-added");
    let by_line: BTreeMap<u64, &Value> =
        seen["rows"].as_array().unwrap().iter().map(|r| (r["line"].as_u64().unwrap(), r)).collect();
    for (i, (phone, outcome)) in expected.iter().enumerate() {
        let row = by_line[&(i as u64 + 1)];
        assert_eq!(row["outcome"], *outcome, "line {} (+{phone}): {row}", i + 1);
        if *outcome == "invite_needed" {
            let expires = row["invite"]["expires"].as_u64().unwrap_or_else(|| panic!("the invite's expiry: {row}"));
            let now = roster_core::clock::unix_now();
            assert!(expires > now && expires <= now + 30 * 86400, "an invite valid for days, not forever: {row}");
            assert!(row["invite"]["text"].as_str().unwrap().contains("Send invite"), "{row}");
        }
    }
    // "Send invite" sends that person the invite the server handed out; their phone reads it.
    let (at, (invited, _)) =
        expected.iter().enumerate().find(|(_, (_, o))| *o == "invite_needed").expect("someone needs an invite");
    let line = at as u64 + 1;
    click(session, &format!("#job-rows tr[data-line='{line}'] .send-invite"));
    until_results(session, "the invite sent", |s| {
        s["rows"].as_array().unwrap().iter().any(|r| r["line"] == line && !r["invite"]["sent"].is_null())
    });
    let deliveries = sim.world().deliveries;
    let invite = deliveries
        .iter()
        .filter(|d| d.chat.as_deref() == Some(format!("{invited}@s.whatsapp.net").as_str()))
        .find_map(|d| d.group_invite.clone())
        .unwrap_or_else(|| panic!("+{invited}'s phone read the invite: {deliveries:?}"));
    assert_eq!(invite.group, community.jid, "the community's own group");
    let added: BTreeSet<String> = expected.iter().filter(|(_, o)| *o == "added").map(|(p, _)| p.clone()).collect();
    let after = world_group(sim, &community.jid);
    assert_eq!(member_phones(&after), before.union(&added).cloned().collect(), "the world has what the table says");
    assert_eq!(seen["members"], after.size, "the server's count: {}", seen["message"]);
    let message = seen["message"].as_str().unwrap();
    assert!(message.contains("2 added") && message.contains(&format!("now has {} members", after.size)), "{message}");
    assert_eq!(seen["undoHidden"], false);

    // The Groups tab shows the new count.
    session.click("#tab-groups").unwrap();
    search(session, &community.subject);
    until(session, "the community's new count", |s| {
        s["rows"].as_array().unwrap().iter().any(|r| r["jid"] == community.jid.as_str() && r["members"] == after.size)
    });

    // Undo removes exactly those added.
    session.click("#tab-import").unwrap();
    click(session, "#job-group-undo");
    // The message comes first; the table's rows are read again after it.
    let seen = until_results(session, "the undo", |s| {
        s["message"].as_str().unwrap().contains("2 removed")
            && s["rows"].as_array().unwrap().iter().filter(|r| r["outcome"] == "removed").count() == 2
    });
    assert_eq!(member_phones(&world_group(sim, &community.jid)), before, "the community is as it was");
    assert_eq!(seen["members"], community.size);
    assert_eq!(seen["undoHidden"], true);
    let removed: Vec<u64> = seen["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "removed")
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(removed, [1, 2], "the two added lines read as removed");
    shots.take(session, "07-undone");

    // The same views in the smallest window.
    session.set_window_size(800, 600).unwrap();
    support::until_read(session, "return innerWidth", STEP, "the window at 800x600", |w| {
        w.as_u64().is_some_and(|w| w <= 800)
    });
    shots.take(session, "08-results-800x600");
    session.click("#tab-groups").unwrap();
    search(session, "");
    open_group(session, &community.jid);
    until(session, "the community's panel", |s| s["detail"]["listed"] == community.size);
    shots.take(session, "09-groups-800x600");
    linked.finish();
}
