//! Groups and communities from Roster, against the simulator, with the real
//! client: the list and members, group timers, adding people from a check
//! (with a dropped connection mid-job) and undoing it. Every expectation
//! comes from the simulator's world (`GET /admin/world`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use common::{pair, temp_dir, wait};
use roster_core::{AddOutcome, GroupError, GroupRole, JobState, Session};
use roster_sim::faults::{Armed, ConnectionFault, IqAction};
use roster_sim::{GroupReport, Role, SimConfig, SimHandle, Simulator};

async fn start(seed: u64, name: &str) -> (SimHandle, Arc<Session>) {
    let sim = Simulator::start(SimConfig { seed, ..SimConfig::default() }).await.unwrap();
    let session = pair(&temp_dir(name), &sim).await;
    (sim, session)
}

fn role(r: Role) -> GroupRole {
    match r {
        Role::Member => GroupRole::Member,
        Role::Admin => GroupRole::Admin,
        Role::Superadmin => GroupRole::Superadmin,
    }
}

fn world_group(sim: &SimHandle, jid: &str) -> GroupReport {
    sim.world().groups.into_iter().find(|g| g.jid == jid).expect("the group is in the world")
}

fn member_phones(g: &GroupReport) -> BTreeSet<String> {
    g.members.iter().map(|m| m.phone.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_and_communities_are_listed_as_the_world_has_them() {
    let (sim, session) = start(81, "groups-list").await;
    let world = sim.world();
    let listed = session.groups().list().await.expect("the groups are listed");
    assert_eq!(listed.len(), world.groups.len(), "every group once");
    assert!(world.groups.iter().any(|g| g.is_community), "the world has a community");
    for g in &world.groups {
        let mine = listed.iter().find(|s| s.jid == g.jid).unwrap_or_else(|| panic!("{} listed", g.subject));
        assert_eq!(mine.subject, g.subject);
        assert_eq!(mine.members, g.size, "{}: the server's count", g.subject);
        assert_eq!(mine.members, g.members.len() + 1, "{}: the account included", g.subject);
        assert_eq!(mine.role, role(g.account_role), "{}", g.subject);
        assert_eq!(mine.is_community, g.is_community, "{}", g.subject);
        assert_eq!(mine.parent, g.linked_parent, "{}", g.subject);
        assert_eq!(mine.announcement_group, g.default_sub_group, "{}", g.subject);
        assert_eq!(mine.locked, g.locked, "{}", g.subject);
        assert_eq!(mine.admins_only_messages, g.announcement, "{}", g.subject);
        assert_eq!(mine.timer, g.ephemeral_expiration, "{}", g.subject);
        let linked: BTreeSet<_> = mine.linked_groups.iter().collect();
        assert_eq!(linked, g.linked_groups.iter().collect(), "{}: linked groups", g.subject);
    }
    assert!(listed.iter().any(|g| g.timer > 0), "some group has a timer");

    // One group's members: each once, admins flagged as the server has them.
    let community = world.groups.iter().find(|g| g.is_community).unwrap();
    let members = session.groups().members(&community.jid).await.expect("members listed");
    assert_eq!(members.len(), community.size);
    assert_eq!(members.iter().filter(|m| m.is_me).count(), 1, "the account is among them once");
    for m in &community.members {
        let row = members.iter().find(|r| r.phone.as_deref() == Some(m.phone.as_str())).expect("each member listed");
        assert_eq!(row.admin, m.admin, "{}", m.phone);
        assert_eq!(row.lid.as_deref(), Some(m.lid.as_str()));
    }
    assert!(members[0].admin, "admins first");
    // Names come from the directory: everyone the phone's history named.
    common::wait_for_history(&session, &sim).await;
    let members = session.groups().members(&community.jid).await.unwrap();
    let known = world.people.iter().filter(|p| p.known_to_phone).map(|p| &p.phone).collect::<BTreeSet<_>>();
    let named: Vec<_> = members.iter().filter(|r| r.phone.as_ref().is_some_and(|p| known.contains(p))).collect();
    assert!(!named.is_empty(), "some members are known to the phone");
    for row in named {
        assert!(row.name.is_some(), "a member the directory knows is named: {row:?}");
    }
    // The account itself, by the name its phone gave it.
    let me = members.iter().find(|m| m.is_me).unwrap();
    assert_eq!(me.name.as_deref(), Some(world.account.push_name.as_str()), "{me:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_timer_is_set_and_cleared_and_refused_where_only_admins_may() {
    let (sim, session) = start(82, "groups-timer").await;
    let world = sim.world();
    session.groups().list().await.unwrap();
    let own = world.groups.iter().find(|g| g.subject == "Suppliers").unwrap().jid.clone();
    for seconds in [604_800, 86_400, 0] {
        let after = session.groups().set_timer(&own, seconds).await.expect("the timer is set");
        assert_eq!(after.timer, seconds);
        let world = sim.world();
        assert_eq!(world_group(&sim, &own).ephemeral_expiration, seconds, "the server's timer");
        let chat = world.chats.iter().find(|c| c.jid == own).expect("the group's chat");
        assert_eq!(chat.ephemeral_expiration, seconds, "the chat's timer follows");
        let listed = session.groups().list().await.unwrap();
        assert_eq!(listed.iter().find(|g| g.jid == own).unwrap().timer, seconds, "saved and refetched alike");
    }

    // A custom number of seconds is refused before anything is sent (sent,
    // the server's refusal would read as `Refused`).
    let e = session.groups().set_timer(&own, 3_600).await.unwrap_err();
    assert!(matches!(e, GroupError::BadTimer(3_600)), "{e}");

    // Where only admins may change settings and the account is a member.
    let locked = world.groups.iter().find(|g| g.locked && g.account_role == Role::Member).expect("a locked group");
    let e = session.groups().set_timer(&locked.jid, 86_400).await.unwrap_err();
    assert!(matches!(e, GroupError::NotAdminLocked(ref s) if *s == locked.subject), "{e}");
    assert!(e.to_string().contains("only admins"), "the reason is said: {e}");
    assert_eq!(world_group(&sim, &locked.jid).ephemeral_expiration, locked.ephemeral_expiration, "unchanged");

    let audit: Vec<(String, String)> =
        session.audit().page(0, 100).unwrap().rows.into_iter().map(|e| (e.action, e.outcome.to_string())).collect();
    let timers = audit.iter().filter(|(a, _)| a == "set group timer").count();
    assert_eq!(timers, 3, "each change audited: {audit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_from_a_check_are_added_to_a_community_once_each_and_undone() {
    let (sim, session) = start(83, "groups-add").await;
    let world = sim.world();
    let community = world.groups.iter().find(|g| g.is_community).unwrap().clone();
    let announcement = world.groups.iter().find(|g| g.default_sub_group).unwrap().jid.clone();
    let before = member_phones(&community);
    let outside: Vec<_> = world
        .people
        .iter()
        .filter(|p| !before.contains(&p.phone) && !community.recently_left.contains(&p.phone))
        .collect();
    // The mix: 18 who may be added, 4 whose privacy only lets contacts add
    // them, 4 already members, 2 who left lately, 2 not on WhatsApp.
    let addable: Vec<String> =
        outside.iter().filter(|p| p.addable_to_groups).take(18).map(|p| p.phone.clone()).collect();
    let private: Vec<String> =
        outside.iter().filter(|p| !p.addable_to_groups).take(4).map(|p| p.phone.clone()).collect();
    let members: Vec<String> = community.members.iter().take(4).map(|m| m.phone.clone()).collect();
    let left: Vec<String> = community.recently_left.iter().take(2).cloned().collect();
    let strangers: Vec<String> = world.unregistered.iter().take(2).cloned().collect();
    assert_eq!((addable.len(), private.len(), members.len(), left.len()), (18, 4, 4, 2), "the world has the mix");
    let mut expected: BTreeMap<String, AddOutcome> = BTreeMap::new();
    for (list, outcome) in [
        (&addable, AddOutcome::Added),
        (&private, AddOutcome::InviteNeeded),
        (&members, AddOutcome::AlreadyMember),
        (&left, AddOutcome::RecentlyLeft),
        (&strangers, AddOutcome::NotOnWhatsapp),
    ] {
        expected.extend(list.iter().map(|p| (p.clone(), outcome)));
    }
    // Interleaved, so the dropped connection lands among every kind.
    let mut lines: Vec<String> = expected.keys().map(|p| format!("+{p}")).collect();
    lines.sort_by_key(|l| l.chars().rev().collect::<String>());
    assert_eq!(lines.len(), 30);

    let job = session.checks().start(&lines.join("\n"), None, 600, None).unwrap().job;
    wait(&session, "the check", |s| s.check.as_ref().is_some_and(|c| c.job == job && c.state == JobState::Done)).await;
    let rows = session.checks().rows(job, 0, 100).unwrap();

    // The socket drops after the server added someone (the fifth person
    // who may be added), before the answer reaches the client: sent again
    // blindly, they would read "already a member" and escape the undo.
    let sent: Vec<&String> =
        lines.iter().filter(|l| expected[l.trim_start_matches('+')] != AddOutcome::NotOnWhatsapp).collect();
    let fifth =
        sent.iter().enumerate().filter(|(_, l)| expected[l.trim_start_matches('+')] == AddOutcome::Added).nth(4);
    let before_drop = fifth.expect("enough people to add").0 as u32;
    sim.arm_fault(Armed::next("w:g2", IqAction::DropAfter).of_type("set").after(before_drop));
    let opened = sim.connections_opened();
    let outcome =
        tokio::time::timeout(Duration::from_secs(120), session.groups().add_from_check(&community.jid, job, None))
            .await
            .expect("the job finishes")
            .expect("the job finishes after the reconnect");
    assert_eq!(sim.armed_faults(), 0, "the drop happened during the job");
    assert!(sim.connections_opened() > opened, "the client reconnected");

    // Every line's outcome is what the world says of that person.
    assert_eq!(outcome.items.len(), 30, "one outcome per line: {outcome:?}");
    for item in &outcome.items {
        let row = rows.iter().find(|r| Some(r.line) == item.line).expect("the line");
        let phone = row.value.as_deref().unwrap().trim_start_matches('+');
        assert_eq!(item.outcome, expected[phone], "line {} (+{phone}): {item:?}", row.line);
        match item.outcome {
            AddOutcome::Added => assert_eq!(item.code, Some(200)),
            AddOutcome::InviteNeeded => {
                assert_eq!(item.code, Some(403));
                assert!(item.invite_code.as_ref().is_some_and(|c| !c.is_empty()), "the invite is kept: {item:?}");
                assert!(item.invite_expiration.is_some());
            }
            AddOutcome::AlreadyMember => assert_eq!(item.code, Some(409)),
            AddOutcome::RecentlyLeft => assert_eq!(item.code, Some(408)),
            AddOutcome::NotOnWhatsapp => assert_eq!(item.code, None, "never sent"),
            other => panic!("unexpected {other}"),
        }
    }
    let after = world_group(&sim, &community.jid);
    let added: BTreeSet<String> = addable.iter().cloned().collect();
    let expected_members: BTreeSet<String> = before.union(&added).cloned().collect();
    assert_eq!(member_phones(&after), expected_members, "the world's membership is what the results say");
    assert_eq!(outcome.members, after.size, "the count is the server's");
    assert_eq!(member_phones(&world_group(&sim, &announcement)), expected_members, "the announcement group follows");
    let saved = session.groups().list().await.unwrap();
    assert_eq!(saved.iter().find(|g| g.jid == community.jid).unwrap().members, after.size);

    // Undo removes exactly those it added.
    let undone = session.groups().undo_add(outcome.action).await.expect("the undo finishes");
    assert!(undone.undo);
    assert_eq!(undone.items.len(), 18);
    assert!(undone.items.iter().all(|i| i.outcome == AddOutcome::Removed), "{undone:?}");
    let back = world_group(&sim, &community.jid);
    assert_eq!(member_phones(&back), before, "the community is as it was");
    assert_eq!(undone.members, back.size);
    assert!(session.groups().undo_add(undone.action).await.is_err(), "an undo is not undone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phones_changes_to_a_group_reach_the_saved_groups() {
    let (sim, session) = start(87, "groups-phone").await;
    session.groups().list().await.unwrap();
    let world = sim.world();
    let group = world.groups.iter().find(|g| g.subject == "Family").unwrap().clone();
    let timer = if group.ephemeral_expiration == 7_776_000 { 86_400 } else { 7_776_000 };
    let version = session.snapshot().groups_version;
    sim.phone_set_group_timer(&group.jid, Some(timer)).unwrap();
    wait(&session, "the group's change to be saved", |s| s.groups_version > version).await;
    let saved = session.groups().saved().unwrap();
    assert_eq!(saved.iter().find(|g| g.jid == group.jid).unwrap().timer, timer, "the server's new timer, saved");

    let newcomer = world
        .people
        .iter()
        .find(|p| p.addable_to_groups && !member_phones(&group).contains(&p.phone))
        .unwrap()
        .phone
        .clone();
    assert_eq!(sim.phone_add_to_group(&group.jid, &newcomer).unwrap(), 200);
    let size = world_group(&sim, &group.jid).size;
    let mut last = 0;
    until("the new member count to be saved", || {
        last = session.groups().saved().unwrap().iter().find(|g| g.jid == group.jid).unwrap().members;
        last == size
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_needs_admin_rights_and_a_connection() {
    let (sim, session) = start(84, "groups-refused").await;
    let world = sim.world();
    let locked = world.groups.iter().find(|g| g.account_role == Role::Member).unwrap();
    let someone = world.people.iter().find(|p| !member_phones(locked).contains(&p.phone)).unwrap();
    let job = session.checks().start(&format!("+{}", someone.phone), None, 600, None).unwrap().job;
    wait(&session, "the check", |s| s.check.as_ref().is_some_and(|c| c.job == job && c.state == JobState::Done)).await;
    let e = session.groups().add_from_check(&locked.jid, job, None).await.unwrap_err();
    assert!(e.to_string().contains("only admins"), "{e}");
    assert_eq!(member_phones(&world_group(&sim, &locked.jid)), member_phones(locked), "nothing changed");
}

/// Polls `done` until it holds, for at most the tests' deadline.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_add_job_cut_off_by_a_restart_finishes_on_the_next_start() {
    let sim = Simulator::start(SimConfig { seed: 85, ..SimConfig::default() }).await.unwrap();
    let dir = temp_dir("groups-restart");
    let session = pair(&dir, &sim).await;
    let world = sim.world();
    let community = world.groups.iter().find(|g| g.is_community).unwrap().clone();
    let before = member_phones(&community);
    let addable: Vec<String> = world
        .people
        .iter()
        .filter(|p| p.addable_to_groups && !before.contains(&p.phone) && !community.recently_left.contains(&p.phone))
        .take(8)
        .map(|p| p.phone.clone())
        .collect();
    let lines: Vec<String> = addable.iter().map(|p| format!("+{p}")).collect();
    let job = session.checks().start(&lines.join("\n"), None, 600, None).unwrap().job;
    wait(&session, "the check", |s| s.check.as_ref().is_some_and(|c| c.job == job && c.state == JobState::Done)).await;

    // The third add is answered late; the app stops while it is in flight.
    sim.arm_fault(Armed::next("w:g2", IqAction::Delay { ms: 3_000 }).of_type("set").after(2));
    let running = tokio::spawn({
        let (session, jid) = (Arc::clone(&session), community.jid.clone());
        async move { session.groups().add_from_check(&jid, job, None).await }
    });
    let added = |sim: &SimHandle| member_phones(&world_group(sim, &community.jid)).difference(&before).count();
    until("two people added", || added(&sim) >= 2).await;
    session.shutdown().await;
    running.abort();
    drop(session);

    let session = common::start_session(&dir, &sim).await;
    wait(&session, "connected again", |s| s.state == roster_core::ConnectionState::Connected).await;
    let mut last = None;
    until("the job to finish after the restart", || {
        last = session.groups().job(1).ok();
        last.as_ref().is_some_and(|o| o.items.iter().all(|i| i.outcome != AddOutcome::Pending))
    })
    .await;
    let outcome = last.unwrap();
    assert_eq!(outcome.items.len(), 8);
    assert!(outcome.items.iter().all(|i| i.outcome == AddOutcome::Added), "each added once, none misread: {outcome:?}");
    let expected: BTreeSet<String> = before.iter().cloned().chain(addable.iter().cloned()).collect();
    until("the world to hold them all", || member_phones(&world_group(&sim, &community.jid)) == expected).await;
    assert_eq!(sim.armed_faults(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_given_as_a_list_are_answered_by_the_server_one_by_one() {
    let (sim, session) = start(86, "groups-numbers").await;
    let world = sim.world();
    let group = world.groups.iter().find(|g| g.subject == "Neighbourhood watch").unwrap().clone();
    let before = member_phones(&group);
    let newcomer = world
        .people
        .iter()
        .find(|p| p.addable_to_groups && !before.contains(&p.phone))
        .expect("someone to add")
        .phone
        .clone();
    let member = group.members[0].phone.clone();
    let stranger = world.unregistered[0].clone();
    let given = [format!("+{newcomer}"), format!("+{member}"), format!("+{stranger}")];
    let outcome = session.groups().add_targets(&group.jid, &given).await.expect("the job finishes");
    let read: Vec<_> = outcome.items.iter().map(|i| (i.outcome, i.code)).collect();
    assert_eq!(
        read,
        [
            (AddOutcome::Added, Some(200)),
            (AddOutcome::AlreadyMember, Some(409)),
            (AddOutcome::NotOnWhatsapp, Some(404))
        ],
        "the server's answer for each: {outcome:?}"
    );
    let after = world_group(&sim, &group.jid);
    assert_eq!(member_phones(&after), before.iter().cloned().chain([newcomer]).collect());
    assert_eq!(outcome.members, after.size);

    // A list with a group JID in it is refused whole, before anything is
    // saved or sent.
    let e = session.groups().add_targets(&group.jid, &[format!("+{member}"), group.jid.clone()]).await.unwrap_err();
    assert!(matches!(e, roster_core::GroupAddError::Target(_)), "{e}");
    assert_eq!(member_phones(&world_group(&sim, &group.jid)), member_phones(&after));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_job_stops_with_the_reason_and_finishes_on_the_next_connection() {
    let (sim, session) = start(88, "groups-429").await;
    let world = sim.world();
    let group = world.groups.iter().find(|g| g.subject == "Suppliers").unwrap().clone();
    let before = member_phones(&group);
    let addable: Vec<String> = world
        .people
        .iter()
        .filter(|p| p.addable_to_groups && !before.contains(&p.phone))
        .take(5)
        .map(|p| p.phone.clone())
        .collect();
    let given: Vec<String> = addable.iter().map(|p| format!("+{p}")).collect();

    // The third add is refused: too many requests.
    sim.arm_fault(
        Armed::next("w:g2", IqAction::Error { code: 429, text: "rate-overlimit".into() }).of_type("set").after(2),
    );
    let e = session.groups().add_targets(&group.jid, &given).await.unwrap_err();
    assert!(matches!(e, roster_core::GroupAddError::Group(GroupError::RateLimited { code: 429 })), "{e}");
    assert!(e.to_string().contains("limiting"), "the reason is said: {e}");
    let saved = session.groups().job(1).unwrap();
    let pending = saved.items.iter().filter(|i| i.outcome == AddOutcome::Pending).count();
    assert_eq!(pending, 3, "the refused one and those after it wait, saved: {saved:?}");
    assert_eq!(member_phones(&world_group(&sim, &group.jid)).difference(&before).count(), 2);

    // The next connection finishes the job; nobody is added twice or misread.
    let opened = sim.connections_opened();
    assert_eq!(sim.inject(ConnectionFault::Restart), 1);
    until("a new connection", || sim.connections_opened() > opened).await;
    let mut last = None;
    until("the job to finish on the next connection", || {
        last = session.groups().job(1).ok();
        last.as_ref().is_some_and(|o| o.items.iter().all(|i| i.outcome != AddOutcome::Pending))
    })
    .await;
    let outcome = last.unwrap();
    assert!(outcome.items.iter().all(|i| i.outcome == AddOutcome::Added), "{outcome:?}");
    let expected: BTreeSet<String> = before.iter().cloned().chain(addable.iter().cloned()).collect();
    assert_eq!(member_phones(&world_group(&sim, &group.jid)), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invite_whatsapp_holds_for_a_private_person_is_sent_to_them() {
    let dir = temp_dir("groups-invite");
    let sim = Simulator::start(SimConfig { seed: 89, ..SimConfig::default() }).await.unwrap();
    let session = pair(&dir, &sim).await;
    let world = sim.world();
    let group = world.groups.iter().find(|g| g.subject == "Suppliers").unwrap().clone();
    let before = member_phones(&group);
    let private = world
        .people
        .iter()
        .find(|p| !p.addable_to_groups && !before.contains(&p.phone))
        .expect("someone whose privacy refuses adds")
        .clone();
    let newcomer = world.people.iter().find(|p| p.addable_to_groups && !before.contains(&p.phone)).unwrap().clone();
    let given = [format!("+{}", newcomer.phone), format!("+{}", private.phone)];
    let outcome = session.groups().add_targets(&group.jid, &given).await.expect("the job finishes");
    let (added, invited) = (&outcome.items[0], &outcome.items[1]);
    assert_eq!((added.outcome, invited.outcome), (AddOutcome::Added, AddOutcome::InviteNeeded), "{outcome:?}");
    let code = invited.invite_code.clone().expect("the server handed out an invite");
    assert_eq!(invited.invite_sent_at, None);

    // Nobody to invite where the add went through.
    let e = session.groups().send_invite(outcome.action, added.seq).await.unwrap_err();
    assert!(matches!(e, roster_core::GroupAddError::NoInvite(_)), "{e}");

    let sent = session.groups().send_invite(outcome.action, invited.seq).await.expect("the invite is sent");
    assert!(sent.invite_sent_at.is_some(), "saved as sent: {sent:?}");
    assert_eq!(session.groups().job(outcome.action).unwrap().items[1].invite_sent_at, sent.invite_sent_at);
    // The person's phone read a group invite with the server's code.
    let deliveries = sim.world().deliveries;
    let read = deliveries
        .iter()
        .find(|d| d.reader == roster_sim::Reader::Person && d.group_invite.is_some())
        .unwrap_or_else(|| panic!("the person got the invite: {deliveries:?}"));
    assert!(read.decrypted, "{read:?}");
    assert_eq!(read.chat.as_deref(), Some(format!("{}@s.whatsapp.net", private.phone).as_str()));
    let invite = read.group_invite.as_ref().unwrap();
    assert_eq!((invite.group.as_str(), invite.code.as_str()), (group.jid.as_str(), code.as_str()));
    assert_eq!(invite.expiration, invited.invite_expiration.unwrap() as i64);
    assert_eq!(invite.group_name.as_deref(), Some(group.subject.as_str()));
    assert_eq!(member_phones(&world_group(&sim, &group.jid)), before.iter().cloned().chain([newcomer.phone]).collect());
    let audit = session.audit().page(0, 10).unwrap();
    assert!(audit.rows.iter().any(|r| r.action == "send group invite"), "audited: {audit:?}");

    // An invite WhatsApp no longer holds is not sent.
    session.shutdown().await;
    let db = rusqlite::Connection::open(dir.join("roster.db")).unwrap();
    db.execute("UPDATE group_add_item SET invite_expiration = 1000", []).unwrap();
    drop(db);
    let session = common::start_session(&dir, &sim).await;
    wait(&session, "connected", |s| s.state == roster_core::ConnectionState::Connected).await;
    let copies = sim.world().deliveries.len();
    let e = session.groups().send_invite(outcome.action, invited.seq).await.unwrap_err();
    assert!(matches!(e, roster_core::GroupAddError::InviteExpired(_)), "{e}");
    assert!(e.to_string().contains("1970-01-01"), "{e}");
    assert_eq!(sim.world().deliveries.len(), copies, "nothing sent");
    session.shutdown().await;
    sim.shutdown().await;
}
