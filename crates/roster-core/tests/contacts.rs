//! The contact directory: filled from the phone's address book over app-state
//! sync, kept current when the phone renames someone, searchable.

mod common;

use std::collections::BTreeMap;

use common::{pair, temp_dir, wait};
use roster_core::store::ListFilter;
use roster_core::Session;
use roster_sim::{SimConfig, SimHandle, Simulator};

/// phone → saved name, as the simulated phone's address book has it.
fn address_book(sim: &SimHandle) -> BTreeMap<String, String> {
    sim.world_json()["people"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| Some((p["phone"].as_str()?.to_owned(), p["saved_name"].as_str()?.to_owned())))
        .collect()
}

fn directory(session: &Session) -> BTreeMap<String, String> {
    let page = session.contacts("", ListFilter::All, 0, 100_000).unwrap();
    page.rows.into_iter().filter(|r| r.in_address_book).map(|r| (r.phone, r.name.unwrap_or_default())).collect()
}

fn search(session: &Session, query: &str) -> Vec<String> {
    session.contacts(query, ListFilter::All, 0, 1_000).unwrap().rows.into_iter().map(|r| r.phone).collect()
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
    let lid = sim.world_json()["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["phone"] == phone.as_str())
        .unwrap()["lid"]
        .as_str()
        .unwrap()
        .to_owned();
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
