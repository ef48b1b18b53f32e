//! A default (non-sandbox) build verifies the server's Noise certificate
//! chain against WhatsApp's root, so it refuses the simulator, whose chain
//! is signed by its own root: no QR code, no pairing, no login.
//!
//! Only meaningful without the `sandbox` feature, so the workspace run
//! (which enables it) compiles this to nothing; `scripts/test.sh` runs it
//! on its own: `cargo test -p roster-core --test cert_refusal`.
#![cfg(not(feature = "sandbox"))]

mod common;

use std::time::{Duration, Instant};

use common::{start_session, temp_dir};
use roster_core::ConnectionState;
use roster_sim::{SimConfig, Simulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_default_build_refuses_a_server_whose_certificate_chain_is_not_whatsapps() {
    assert!(!roster_core::endpoint::SANDBOX_BUILD, "this test needs a build without the sandbox feature");
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let session = start_session(&temp_dir("cert-refusal"), &sim).await;

    // The client gives up right after the server's hello, then tries again
    // after its pause: wait for two such attempts.
    let deadline = Instant::now() + Duration::from_secs(60);
    while sim.handshakes_failed() < 2 {
        let snapshot = session.snapshot();
        assert!(snapshot.qr.is_none(), "a QR code was offered by an unverified server: {snapshot:?}");
        assert!(Instant::now() < deadline, "the client did not abandon the handshake: {snapshot:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The window is told it cannot connect, and that the server was reached.
    let snapshot = session
        .wait_for(Duration::from_secs(60), |s| matches!(s.state, ConnectionState::Unreachable { .. }))
        .await
        .expect("the failed attempts are reported");
    let ConnectionState::Unreachable { reason, attempt, .. } = &snapshot.state else { unreachable!() };
    assert!(reason.ends_with("answers, but the connection could not be set up"), "{reason}");
    assert!(*attempt >= 1, "{snapshot:?}");
    assert!(snapshot.qr.is_none() && snapshot.account.is_none(), "never past the handshake");
    let account = sim.world().account;
    assert_eq!((account.pending_refs, account.devices.len()), (0, 0), "no pairing was ever offered or made");
    session.shutdown().await;
}
