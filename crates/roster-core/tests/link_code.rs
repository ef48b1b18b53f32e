//! Linking by phone number end to end: the real client asks for a code
//! (`companion_hello`), the simulated phone has the code typed on it
//! (`primary_hello`), the client sends its key bundle (`companion_finish`)
//! and the phone signs the device in only if the code typed was the one
//! shown. The QR code stays valid meanwhile. Expectations come from the
//! simulator's world.

mod common;

use common::{start_session, temp_dir, wait};
use roster_core::{ConnectionState, LinkCodeError};
use roster_sim::{CodeError, SimConfig, Simulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_right_code_links_a_wrong_or_expired_one_is_refused_by_the_phone() {
    let sim = Simulator::start(SimConfig { seed: 21, ..SimConfig::default() }).await.unwrap();
    let session = start_session(&temp_dir("link-code"), &sim).await;
    wait(&session, "a QR code", |s| s.qr.is_some()).await;
    let phone = sim.world().account.phone;

    // Typed as the operator might: a national-looking format with its +.
    let typed = format!("+{} {} {}", &phone[..2], &phone[2..4], &phone[4..]);
    let first = session.link_with_code(&typed).await.unwrap();
    assert_eq!(first.phone_shown, roster_core::numbers::shown(&phone));
    assert!(first.code.len() == 9 && first.code.as_bytes()[4] == b'-', "ABCD-EFGH: {}", first.code);
    assert_eq!(session.snapshot().link_code.as_ref(), Some(&first), "shown in the window's state");

    // A mistyped code: the phone cannot open the companion's bundle.
    let wrong = if first.code.starts_with('Z') { "YYYY-YYYY" } else { "ZZZZ-ZZZZ" };
    assert_eq!(sim.enter_pair_code(wrong).await, Err(CodeError::WrongCode));
    assert!(sim.world().account.devices.is_empty(), "nothing linked");
    let s = session.snapshot();
    assert_eq!(s.state, ConnectionState::WaitingForScan, "the QR code still stands");
    assert!(s.qr.is_some());
    // Junk never reaches the companion.
    assert_eq!(sim.enter_pair_code("12").await, Err(CodeError::Malformed));

    // The code expires on the phone: refused there.
    assert_eq!(sim.expire_pair_codes(), 1);
    assert_eq!(sim.enter_pair_code(&first.code).await, Err(CodeError::Expired));

    // A new code replaces it, and typing that one links the device.
    let second = session.link_with_code(&phone).await.unwrap();
    assert_ne!(second.code, first.code);
    let device = sim.enter_pair_code(&second.code).await.expect("the right code links");
    let s = wait(&session, "connected", |s| s.state == ConnectionState::Connected).await;
    assert_eq!(s.link_code, None, "the code is gone once linked");
    assert_eq!(s.account.as_ref().map(|a| a.phone.clone()), Some(format!("+{phone}")));
    let devices = sim.world().account.devices;
    assert_eq!(devices.len(), 1, "one device linked: {devices:?}");
    assert!(device.starts_with(&phone), "{device}");

    // Linked: no more codes.
    assert!(matches!(session.link_with_code(&phone).await, Err(LinkCodeError::AlreadyLinked)));
    session.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_qr_code_still_links_while_a_code_is_shown_and_bad_numbers_are_refused() {
    let sim = Simulator::start(SimConfig { seed: 22, ..SimConfig::default() }).await.unwrap();
    let session = start_session(&temp_dir("link-code-qr"), &sim).await;
    let shown = wait(&session, "a QR code", |s| s.qr.is_some()).await;
    assert!(matches!(session.link_with_code("12").await, Err(LinkCodeError::Number(_))));
    assert!(matches!(session.link_with_code("call me").await, Err(LinkCodeError::Number(_))));
    let phone = sim.world().account.phone;
    session.link_with_code(&phone).await.unwrap();
    // The phone scans the QR code instead.
    let qr = session.snapshot().qr.unwrap_or_else(|| shown.qr.unwrap());
    sim.scan_qr(&qr.code).expect("the phone accepts the QR code");
    let s = wait(&session, "connected", |s| s.state == ConnectionState::Connected).await;
    assert_eq!(s.link_code, None);
    assert_eq!(sim.world().account.devices.len(), 1);
    session.shutdown().await;
    sim.shutdown().await;
}
