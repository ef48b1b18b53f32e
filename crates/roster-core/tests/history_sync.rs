//! The phone's history sync after linking, against the simulator, with the
//! real client: roster.db ends up holding the phone's chat list with each
//! chat's disappearing-message timer, the account's push name, and the push
//! name and LID↔PN pair of everyone the phone knows, all as the simulator's
//! world says, and none of it cost a usync. Every expectation comes from the
//! world report.

mod common;

use std::collections::BTreeMap;

use common::{DEADLINE, address_book, pair, temp_dir, wait};
use roster_core::store::Store;
use roster_core::{ChatKind, DataDir};
use roster_sim::{SimConfig, Simulator, WorldReport};

/// A chat as compared: kind, timer (seconds, 0: off), when it was set.
type ChatState = (ChatKind, u32, Option<u64>);

fn stored_chats(store: &Store) -> BTreeMap<String, ChatState> {
    let chats = store.chats().list().expect("chats readable");
    chats.into_iter().map(|c| (c.jid, (c.kind, c.ephemeral_expiration, c.ephemeral_set_at))).collect()
}

fn world_chats(world: &WorldReport) -> BTreeMap<String, ChatState> {
    let kind = |k| match k {
        roster_sim::ChatKind::Direct => ChatKind::Direct,
        roster_sim::ChatKind::Group => ChatKind::Group,
    };
    world.chats.iter().map(|c| (c.jid.clone(), (kind(c.kind), c.ephemeral_expiration, c.ephemeral_set_at))).collect()
}

/// People the phone knows whose push name or LID roster.db does not hold (yet).
fn people_missing(store: &Store, world: &WorldReport) -> Vec<String> {
    world
        .people
        .iter()
        .filter(|p| p.known_to_phone)
        .filter(|p| {
            let row = store.directory().contact(&p.phone).expect("directory readable");
            row.is_none_or(|r| r.push_name.as_deref() != Some(p.push_name.as_str()) || r.lid.as_deref() != Some(&p.lid))
        })
        .map(|p| format!("+{} ({})", p.phone, p.push_name))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_sync_brings_chats_timers_push_names_and_pairs_without_a_usync() {
    let sim = Simulator::start(SimConfig { seed: 31, contacts: 300, ..SimConfig::default() }).await.unwrap();
    let world = sim.world();
    let expected = world_chats(&world);
    let timers: Vec<u32> = expected.values().map(|c| c.1).collect();
    for secs in [0, 86_400, 604_800, 7_776_000] {
        assert!(timers.contains(&secs), "the world has a chat with a {secs} s timer");
    }
    assert!(expected.values().any(|c| c.0 == ChatKind::Group) && expected.values().any(|c| c.0 == ChatKind::Direct));
    let chat_only = world.people.iter().filter(|p| p.known_to_phone && p.saved_name.is_none()).count();
    assert!(chat_only > 5, "people the phone knows from a chat only, whose pairs only the history sync gives");
    assert!(world.people.iter().any(|p| !p.known_to_phone), "and people it does not know");

    let dir = temp_dir("history-sync");
    let session = pair(&dir, &sim).await;
    let store = Store::open(&DataDir::open(&dir).expect("data dir").app_db()).expect("roster.db opens");

    // The chat list, each chat with its timer, exactly as the phone has it.
    wait(&session, "the phone's chat list", |s| s.chat_count == expected.len()).await;
    assert_eq!(stored_chats(&store), expected);

    // Everyone's push name and LID↔PN pair; the account's own push name.
    session.wait_for(DEADLINE, |_| people_missing(&store, &world).is_empty()).await;
    assert_eq!(people_missing(&store, &world), Vec::<String>::new(), "push names and LIDs in roster.db");
    let strangers = world.people.iter().filter(|p| !p.known_to_phone);
    let named: Vec<&str> = strangers
        .filter(|p| store.directory().contact(&p.phone).unwrap().is_some_and(|r| r.push_name.is_some()))
        .map(|p| p.phone.as_str())
        .collect();
    assert_eq!(named, Vec::<&str>::new(), "no push name for people the phone does not know");
    let own = store.account().push_name(&world.account.phone).unwrap();
    assert_eq!(own.as_deref(), Some(world.account.push_name.as_str()), "the account's push name in roster.db");
    let shown = session.snapshot().account.map(|a| a.push_name);
    assert_eq!(shown.as_deref(), Some(world.account.push_name.as_str()));

    // Push names add no one to the address book.
    let book = address_book(&sim).len();
    wait(&session, "the address book", |s| s.contact_count == book).await;

    // None of it cost a usync, and the client learned the pairs too: a
    // block by number of someone known from a chat only asks nothing.
    let blocked: Vec<String> = world.blocklist.iter().map(|b| b.lid.clone()).collect();
    let chat_only =
        world.people.iter().find(|p| p.known_to_phone && p.saved_name.is_none() && !blocked.contains(&p.lid)).unwrap();
    let outcome = session.blocklist().set_blocked(&format!("+{}", chat_only.phone), true).await.expect("blocked");
    assert_eq!(outcome.lid, chat_only.lid, "the number resolved to the right LID");
    assert_eq!(sim.check_log(), [], "no one's number or LID was looked up");
    // The only usync is the client's own device-list sync at login (about
    // the account itself, not a lookup), if it has run yet.
    let usyncs = sim.iq_count("usync");
    assert!(usyncs <= 1, "{usyncs} usync IQs: {:?}", sim.world().iq_counts);

    session.shutdown().await;
    sim.shutdown().await;
}
