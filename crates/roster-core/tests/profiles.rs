//! About texts and profile pictures, as the world's privacy settings allow,
//! against the simulator with the real client.

mod common;

use std::time::Duration;

use common::{pair, temp_dir, wait};
use roster_core::{AboutState, PictureState};
use roster_sim::{PersonReport, SimConfig, Simulator, WorldReport};

fn person(world: &WorldReport, pred: impl Fn(&PersonReport) -> bool) -> PersonReport {
    world.people.iter().find(|p| pred(p)).cloned().expect("such a person in the world")
}

fn decode_data_url(url: &str) -> image::DynamicImage {
    use base64::Engine;
    let b64 = url.strip_prefix("data:image/jpeg;base64,").expect("a JPEG data URL");
    image::load_from_memory(&base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abouts_and_pictures_follow_privacy() {
    let sim = Simulator::start(SimConfig { seed: 31, ..SimConfig::default() }).await.unwrap();
    let session = pair(&temp_dir("profiles"), &sim).await;
    let world = sim.world();

    let open = person(&world, |p| p.about_visible && p.picture_visible && p.picture_id.is_some());
    let phone = open.phone.as_str();
    let details = session.directory().details(phone).await.unwrap();
    assert_eq!(details.contact.about_state, AboutState::Shown);
    assert_eq!(details.contact.about.as_deref(), Some(open.about.as_str()));
    assert_eq!(details.contact.about_set_at, Some(open.about_set_at), "the about's set time");
    assert_eq!(details.contact.picture_state, PictureState::Shown);
    let thumb = decode_data_url(details.picture.as_deref().expect("a thumbnail"));
    assert_eq!((thumb.width(), thumb.height()), (96, 96));

    let private = person(&world, |p| !p.about_visible && !p.picture_visible && p.picture_id.is_some());
    let details = session.directory().details(&private.phone).await.unwrap();
    assert_eq!(details.contact.about_state, AboutState::Hidden);
    assert_eq!(details.contact.about, None);
    assert_eq!(details.contact.picture_state, PictureState::Hidden, "hidden by privacy, not missing");
    assert_eq!(details.picture, None);

    let bare = person(&world, |p| p.picture_id.is_none());
    let details = session.directory().details(&bare.phone).await.unwrap();
    assert_eq!(details.contact.picture_state, PictureState::None, "no picture at all");
    assert_eq!(details.picture, None);

    // The contact changes their about: the push updates the directory.
    let version = session.snapshot().directory_version;
    sim.contact_set_about(phone, "On holiday until Monday").unwrap();
    wait(&session, "the about push", |s| s.directory_version > version).await;
    let row = session.directory().contact(phone).unwrap().expect("stored");
    assert_eq!(row.about.as_deref(), Some("On holiday until Monday"));

    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_picture_url_is_asked_for_again() {
    let sim = Simulator::start(SimConfig { seed: 32, ..SimConfig::default() }).await.unwrap();
    let dir = temp_dir("expired");
    // Pictures are never trusted from the cache here, so the stored URL is reused.
    let session = common::start_session_with(&dir, &sim.ws_url(), Duration::ZERO).await;
    let qr = wait(&session, "a QR code", |s| s.qr.is_some()).await.qr.unwrap();
    sim.scan_qr(&qr.code).unwrap();
    wait(&session, "connected", |s| s.state == roster_core::ConnectionState::Connected).await;

    let open = person(&sim.world(), |p| p.picture_visible && p.picture_id.is_some());
    let phone = open.phone.as_str();
    assert!(session.directory().details(phone).await.unwrap().picture.is_some());
    assert_eq!(sim.world().expired_picture_hits, 0);

    sim.expire_picture_urls();
    let again = session.directory().details(phone).await.unwrap();
    assert!(again.picture.is_some(), "a fresh URL was fetched and the picture shown");
    assert_eq!(sim.world().expired_picture_hits, 1, "the stale URL was tried once and refused");
    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_avatars_are_fetched_once_then_served_from_the_cache() {
    let sim = Simulator::start(SimConfig { seed: 33, ..SimConfig::default() }).await.unwrap();
    let dir = temp_dir("avatars");
    let session = pair(&dir, &sim).await;
    let world = sim.world();
    let open = person(&world, |p| p.picture_visible && p.picture_id.is_some());
    let private = person(&world, |p| !p.picture_visible && p.picture_id.is_some());
    let bare = person(&world, |p| p.picture_id.is_none());
    let phones: Vec<&str> = [&open, &private, &bare].iter().map(|p| p.phone.as_str()).collect();

    // Asked for all at once, as a scrolled list does.
    let (a, b, c) = tokio::join!(
        session.directory().avatar(phones[0]),
        session.directory().avatar(phones[1]),
        session.directory().avatar(phones[2])
    );
    let avatars = [a.unwrap(), b.unwrap(), c.unwrap()];
    assert_eq!(avatars[0].picture_state, PictureState::Shown);
    assert_eq!(decode_data_url(avatars[0].picture.as_deref().unwrap()).width(), 96);
    assert_eq!((avatars[1].picture_state.as_str(), &avatars[1].picture), ("hidden", &None));
    assert_eq!((avatars[2].picture_state.as_str(), &avatars[2].picture), ("none", &None));

    // Scrolling back: all three answered from the cache, no server round trip.
    let (usync, pictures) = (sim.iq_count("usync"), sim.iq_count("w:profile:picture"));
    for (phone, first) in phones.iter().zip(&avatars) {
        assert_eq!(&session.directory().avatar(phone).await.unwrap(), first, "{phone} from the cache");
    }
    assert_eq!((sim.iq_count("usync"), sim.iq_count("w:profile:picture")), (usync, pictures));

    // The contact changes their picture: the next ask fetches the new one.
    let version = session.snapshot().directory_version;
    sim.contact_set_picture(phones[0]).unwrap();
    wait(&session, "the picture push", |s| s.directory_version > version).await;
    let changed = session.directory().avatar(phones[0]).await.unwrap();
    assert_eq!(changed.picture_state, PictureState::Shown);
    assert_ne!(changed.picture, avatars[0].picture, "the new picture, not the cached one");

    // Offline, the cache still answers.
    session.shutdown().await;
    sim.shutdown().await;
    let offline = common::start_session_at(&dir, "ws://127.0.0.1:9/ws/chat").await;
    assert_eq!(offline.directory().avatar(phones[0]).await.unwrap(), changed);
    assert_eq!(offline.directory().avatar(phones[1]).await.unwrap().picture_state, PictureState::Hidden);
    offline.shutdown().await;
}
