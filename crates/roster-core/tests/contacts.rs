//! The contact directory: filled from the phone's address book over app-state
//! sync, kept current when the phone renames someone, searchable.

mod common;

use std::collections::BTreeMap;

use common::{address_book, pair, temp_dir, wait};
use roster_core::ListFilter;
use roster_core::Session;
use roster_sim::{SimConfig, SimHandle, Simulator};

fn directory(session: &Session) -> BTreeMap<String, String> {
    let page = session.directory().page("", ListFilter::All, 0, 100_000).unwrap();
    page.rows.into_iter().filter(|r| r.in_address_book).map(|r| (r.phone, r.name.unwrap_or_default())).collect()
}

fn search(session: &Session, query: &str) -> Vec<String> {
    session.directory().page(query, ListFilter::All, 0, 1_000).unwrap().rows.into_iter().map(|r| r.phone).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_is_the_phones_address_book_and_follows_renames() {
    let sim = Simulator::start(SimConfig { seed: 21, contacts: 1_200, ..SimConfig::default() }).await.unwrap();
    let dir = temp_dir("contacts");
    let session = pair(&dir, &sim).await;
    let expected = address_book(&sim);
    assert!(expected.len() > 700, "a sizeable address book ({})", expected.len());
    wait(&session, "the whole address book", |s| s.contact_count == expected.len()).await;
    assert_eq!(directory(&session), expected);

    // Search: partial name, a number typed with spaces and dashes, a LID.
    let (phone, name) = expected.iter().find(|(p, _)| p.starts_with("55")).unwrap();
    let partial = &name[..name.len().min(5)];
    let found = search(&session, partial);
    assert!(found.contains(phone), "'{partial}' finds {name}");
    assert!(found.iter().all(|p| expected[p].to_lowercase().contains(&partial.to_lowercase())));
    let typed = format!("+{} {} {}-{}", &phone[..2], &phone[2..4], &phone[4..9], &phone[9..]);
    assert_eq!(search(&session, &typed), vec![phone.clone()], "'{typed}'");
    let lid = sim.world().people.into_iter().find(|p| &p.phone == phone).unwrap().lid;
    assert_eq!(search(&session, &lid), vec![phone.clone()], "by LID");

    // Renamed on the phone → renamed in the app.
    let version = session.snapshot().directory_version;
    sim.phone_rename(phone, "Renamed On Phone").unwrap();
    wait(&session, "the rename", |s| s.directory_version > version).await;
    wait(&session, "the new name", |_| search(&session, "Renamed On Phone") == vec![phone.clone()]).await;
    assert_eq!(directory(&session), address_book(&sim));

    // The directory survives a restart and shows at once, before any connection.
    session.shutdown().await;
    sim.shutdown().await;
    let offline = common::start_session_at(&dir, "ws://127.0.0.1:9/ws/chat").await;
    assert_eq!(offline.snapshot().contact_count, expected.len());
    assert_eq!(search(&offline, "Renamed On Phone"), vec![phone.clone()]);
    offline.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_sync_brings_what_a_lost_push_missed_and_a_full_sync_rebuilds() {
    use roster_core::{Scope, SyncError};

    let sim = Simulator::start(SimConfig { seed: 22, contacts: 200, ..SimConfig::default() }).await.unwrap();
    let dir = temp_dir("appsync");
    let session = pair(&dir, &sim).await;
    let expected = address_book(&sim);
    wait(&session, "the address book", |s| s.contact_count == expected.len()).await;
    let version = |sim: &SimHandle| sim.world().collections.critical_unblock_low;

    // The phone renames someone, but the push never arrives.
    let phone = expected.keys().next().unwrap().clone();
    sim.phone_rename_unannounced(&phone, "Only After A Sync").unwrap();
    assert_eq!(
        session.directory().contact(&phone).unwrap().unwrap().name.as_deref(),
        expected.get(&phone).map(String::as_str)
    );

    // Syncing the contacts scope fetches exactly the one missed patch.
    let report = session.app_state().sync(&[Scope::Contacts], false).await.unwrap();
    assert_eq!(report.scopes, [Scope::Contacts]);
    assert!(!report.full);
    assert_eq!(report.collections.len(), 1, "{report:?}");
    let contacts = &report.collections[0];
    assert_eq!(contacts.name, "critical_unblock_low");
    assert_eq!(contacts.after, version(&sim), "the local version reached the server's");
    assert_eq!(contacts.after, contacts.before + 1, "one patch: the rename");
    wait(&session, "the rename", |_| search(&session, "Only After A Sync") == vec![phone.clone()]).await;

    // The default scopes (contacts, chats, settings), rebuilt from scratch.
    let report = session.app_state().sync(&[], true).await.unwrap();
    assert_eq!(report.scopes, [Scope::Contacts, Scope::Chats, Scope::Settings]);
    let names: Vec<_> = report.collections.iter().map(|c| c.name).collect();
    assert_eq!(names, ["critical_block", "critical_unblock_low", "regular_low", "regular_high", "regular"]);
    let contacts = report.collections.iter().find(|c| c.name == "critical_unblock_low").unwrap();
    assert_eq!((contacts.before, contacts.after), (0, version(&sim)), "rebuilt from version 0");
    assert_eq!(directory(&session), address_book(&sim), "the rebuilt directory is still the address book");
    assert_eq!(session.snapshot().state, roster_core::ConnectionState::Connected, "the full sync kept the session");

    // Offline: refused, and says why.
    session.shutdown().await;
    sim.shutdown().await;
    let offline = common::start_session_at(&dir, "ws://127.0.0.1:9/ws/chat").await;
    let err = offline.app_state().sync(&[Scope::Pins], false).await.unwrap_err();
    assert!(matches!(err, SyncError::NotConnected), "{err:?}");
    assert!(err.to_string().contains("not connected"), "{err}");
    offline.shutdown().await;
}
