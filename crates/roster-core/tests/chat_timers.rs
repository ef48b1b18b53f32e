//! A 1:1 chat's disappearing-message timer from Roster, against the
//! simulator, with the real client: the timers after pairing are the
//! phone's; setting one sends an `EPHEMERAL_SETTING` that the simulated
//! recipient really decrypts (a Signal session opened from the bundle the
//! server serves), and only then does the world's chat change. Every
//! expectation comes from the simulator's world (`SimHandle::world()`).

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{pair, temp_dir, wait_for_history};
use roster_core::groups::CHAT_TIMER_MAX;
use roster_core::{ChatError, Session};
use roster_sim::{ChatKind, Delivery, Reader, SimConfig, SimHandle, Simulator, WorldReport};

/// Polls the world until `done` holds (60 s at most).
async fn wait_world(sim: &SimHandle, what: &str, mut done: impl FnMut(&WorldReport) -> bool) -> WorldReport {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let world = sim.world();
        if done(&world) {
            return world;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}; deliveries: {:#?}", world.deliveries);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn world_timer(world: &WorldReport, jid: &str) -> Option<u32> {
    world.chats.iter().find(|c| c.jid == jid).map(|c| c.ephemeral_expiration)
}

/// The copies of message `id` the world recorded.
fn copies<'a>(world: &'a WorldReport, id: &str) -> Vec<&'a Delivery> {
    world.deliveries.iter().filter(|d| d.id == id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_timer_reaches_the_other_side_and_the_world_follows() {
    let sim = Simulator::start(SimConfig { seed: 47, ..SimConfig::default() }).await.unwrap();
    let dir = temp_dir("chat-timers");
    let session: std::sync::Arc<Session> = pair(&dir, &sim).await;
    wait_for_history(&session, &sim).await;

    // After pairing: every 1:1 chat's timer as the phone has it.
    let world = sim.world();
    let direct: BTreeMap<String, u32> = world
        .chats
        .iter()
        .filter(|c| c.kind == ChatKind::Direct)
        .map(|c| (c.jid.clone(), c.ephemeral_expiration))
        .collect();
    assert!(direct.values().any(|s| *s == 0) && direct.values().any(|s| *s > 0), "timers on and off");
    for (jid, seconds) in &direct {
        let phone = jid.trim_end_matches("@s.whatsapp.net");
        let lid = world.people.iter().find(|p| p.phone == phone).map(|p| p.lid.clone());
        let shown = session.chats().timer(phone, lid.as_deref()).unwrap().expect("the chat is known");
        assert_eq!(shown.seconds, *seconds, "{jid}");
    }
    assert!(world.deliveries.is_empty(), "nothing sent yet");

    // A person the phone has a chat with, whose timer is off.
    let (jid, _) = direct.iter().find(|(_, s)| **s == 0).unwrap();
    let phone = jid.trim_end_matches("@s.whatsapp.net").to_owned();
    let person = format!("+{phone}");

    for seconds in [604_800, 3_600, 0] {
        let set = session.chats().set_timer(&person, seconds).await.expect("the timer is sent");
        assert_eq!((set.chat.as_str(), set.seconds), (jid.as_str(), seconds));
        let world =
            wait_world(&sim, &format!("the {seconds} s timer in the world"), |w| world_timer(w, jid) == Some(seconds))
                .await;
        // The recipient decrypted exactly this setting from the companion.
        let read = world
            .deliveries
            .iter()
            .rev()
            .find(|d| d.reader == Reader::Person && d.chat.as_deref() == Some(jid))
            .expect("the recipient's copy is recorded");
        assert!(read.decrypted, "{read:?}");
        assert_eq!(read.protocol_message.as_deref(), Some("EPHEMERAL_SETTING"));
        assert_eq!(read.ephemeral_expiration, Some(seconds));
        assert_eq!(read.error, None);
        // The account's phone read its own copy of the same message.
        let world =
            wait_world(&sim, "the phone's copy", |w| copies(w, &read.id).iter().any(|d| d.reader == Reader::Phone))
                .await;
        for copy in copies(&world, &read.id) {
            assert!(copy.decrypted, "every copy is readable: {copy:?}");
            assert_eq!(copy.ephemeral_expiration, Some(seconds), "{copy:?}");
            assert_eq!(copy.chat.as_deref(), Some(jid.as_str()), "{copy:?}");
        }
        // Saved, and what the contact panel shows.
        let details = session.directory().details(&phone).await.expect("details");
        assert_eq!(details.chat_timer.map(|t| t.seconds), Some(seconds));
    }
    assert!(sim.world().deliveries.iter().all(|d| d.error.is_none()), "nothing undecryptable");

    // A length WhatsApp does not take is refused before anything is sent.
    let sent = sim.world().deliveries.len();
    let refused = session.chats().set_timer(&person, CHAT_TIMER_MAX + 1).await.unwrap_err();
    assert!(matches!(refused, ChatError::BadTimer(s) if s == CHAT_TIMER_MAX + 1), "{refused}");
    assert!(refused.to_string().contains(&CHAT_TIMER_MAX.to_string()), "the reason names the limit: {refused}");
    let world = sim.world();
    assert_eq!(world.deliveries.len(), sent, "nothing sent");
    assert_eq!(world_timer(&world, jid), Some(0));
    assert_eq!(session.chats().timer(&phone, None).unwrap().map(|t| t.seconds), Some(0));

    // Each attempt audited, the refusal as failed.
    let audit: Vec<(String, Option<String>)> = session
        .audit()
        .page(0, 100)
        .unwrap()
        .rows
        .into_iter()
        .filter(|e| e.action == "set chat timer")
        .map(|e| (e.outcome.to_string(), e.target))
        .collect();
    let target = Some(person.clone());
    let expected: Vec<(String, Option<String>)> =
        ["failed", "done", "done", "done"].iter().map(|o| (o.to_string(), target.clone())).collect();
    assert_eq!(audit, expected, "newest first");

    // Without a connection: refused in plain words, nothing sent.
    session.shutdown().await;
    let refused = session.chats().set_timer(&person, 86_400).await.unwrap_err();
    assert!(matches!(refused, ChatError::NotConnected), "{refused}");
    assert!(refused.to_string().contains("not connected"), "{refused}");
    assert_eq!(sim.world().deliveries.len(), sent, "nothing sent");
    let _ = std::fs::remove_dir_all(dir);
}

/// With two Roster devices linked, the other one's copy of a setting is
/// relayed to it by the server (not read there), and nothing is lost. The
/// device that sends is the one linked last: it learned the other from its
/// own device list at login (the simulator pushes no device-list change to
/// devices already connected).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_linked_device_gets_its_copy_relayed() {
    let sim = Simulator::start(SimConfig { seed: 53, ..SimConfig::default() }).await.unwrap();
    let (dir_a, dir_b) = (temp_dir("chat-timers-a"), temp_dir("chat-timers-b"));
    let first = pair(&dir_a, &sim).await;
    let second = pair(&dir_b, &sim).await;
    let devices = sim.world().account.devices;
    assert_eq!(devices.len(), 2, "two companions linked");
    wait_for_history(&second, &sim).await;

    let world = sim.world();
    let chat = world.chats.iter().find(|c| c.kind == ChatKind::Direct).unwrap().clone();
    let person = format!("+{}", chat.jid.trim_end_matches("@s.whatsapp.net"));
    let seconds = if chat.ephemeral_expiration == 604_800 { 86_400 } else { 604_800 };
    second.chats().set_timer(&person, seconds).await.expect("sent");
    let world = wait_world(&sim, "the timer and every copy", |w| {
        world_timer(w, &chat.jid) == Some(seconds)
            && w.deliveries.iter().any(|d| d.reader == Reader::Companion)
            && w.deliveries.iter().any(|d| d.reader == Reader::Phone)
    })
    .await;
    let id = &world.deliveries.iter().find(|d| d.reader == Reader::Person).unwrap().id;
    let relayed: Vec<&Delivery> = copies(&world, id).into_iter().filter(|d| d.reader == Reader::Companion).collect();
    assert_eq!(relayed.len(), 1, "{relayed:?}");
    let other = devices.iter().find(|d| **d != relayed[0].from_device).expect("the other companion");
    assert!(relayed[0].to.contains(&format!(":{other}@")), "to the other companion: {relayed:?}");
    assert!(world.deliveries.iter().all(|d| d.error.is_none()), "{:#?}", world.deliveries);

    first.shutdown().await;
    second.shutdown().await;
    let _ = std::fs::remove_dir_all(dir_a);
    let _ = std::fs::remove_dir_all(dir_b);
}
