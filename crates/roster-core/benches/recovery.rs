//! Prints how long Roster takes to get back to work after each kind of
//! fault the simulator can inject (the figures RELIABILITY.md quotes):
//! - a dropped socket, a 515 restart and a stream end: until the server
//!   logged the device in again;
//! - a block whose socket drops before / after the server applied it: until
//!   the block is confirmed (it is sent again once reconnected);
//! - a block sent into a silent server: until the keepalive replaced the
//!   socket and the block was confirmed.
//!
//! Each round runs in a new session of the paired device, so the client's
//! reconnect pause starts from the first (1 s) every time.
//!
//! Run: `cargo bench -p roster-core --features sandbox --bench recovery`

use std::time::{Duration, Instant};

use roster_core::{ConnectionState, DataDir, PICTURE_MAX_AGE, Session, SessionConfig, parse_server_url};
use roster_sim::faults::{Armed, ConnectionFault, IqAction};
use roster_sim::{SimConfig, SimHandle, Simulator};

const ROUNDS: usize = 5;

fn summary(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<48} n={:<2} min {:>8.0} ms  median {:>8.0} ms  max {:>8.0} ms",
        times.len(),
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
}

/// Injects `fault` and times until the server logged the device in again.
async fn until_logged_in_again(sim: &SimHandle, fault: ConnectionFault) -> Duration {
    let logins = sim.logins();
    let started = Instant::now();
    assert!(sim.inject(fault) >= 1);
    while sim.logins() == logins {
        assert!(started.elapsed() < Duration::from_secs(120), "no new login");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    started.elapsed()
}

async fn start(sim: &SimHandle, dir: &std::path::Path) -> std::sync::Arc<Session> {
    Session::start(SessionConfig {
        data_dir: DataDir::open(dir).unwrap(),
        server: Some(parse_server_url(&sim.ws_url()).unwrap()),
        device_name: "Roster bench".into(),
        picture_max_age: PICTURE_MAX_AGE,
    })
    .await
    .unwrap()
}

/// The paired device in a new session: a new client, so its reconnect
/// pauses start from the first again (they grow while drops follow each
/// other within a minute).
async fn fresh(sim: &SimHandle, dir: &std::path::Path) -> std::sync::Arc<Session> {
    let session = start(sim, dir).await;
    settle(&session).await;
    session
}

/// Waits until the session is connected and answers a real request.
async fn settle(session: &Session) {
    loop {
        session.wait_for(Duration::from_secs(60), |s| s.state == ConnectionState::Connected).await.expect("connected");
        if session.blocklist().refresh().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let sim = Simulator::start(SimConfig { seed: 98, contacts: 100, ..SimConfig::default() }).await.unwrap();
        let dir = std::env::temp_dir().join(format!("roster-bench-recovery-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let session = start(&sim, &dir).await;
        let qr = session.wait_for(Duration::from_secs(30), |s| s.qr.is_some()).await.unwrap().qr.unwrap();
        sim.scan_qr(&qr.code).unwrap();
        settle(&session).await;
        session.shutdown().await;
        let phones: Vec<String> = sim.world().people.into_iter().map(|p| p.phone).collect();

        for (name, fault) in [
            ("socket dropped -> logged in again", ConnectionFault::Drop),
            ("515 restart -> logged in again", ConnectionFault::Restart),
            ("stream end -> logged in again", ConnectionFault::StreamEnd),
        ] {
            let mut times = Vec::new();
            for _ in 0..ROUNDS {
                let session = fresh(&sim, &dir).await;
                times.push(until_logged_in_again(&sim, fault).await);
                settle(&session).await;
                session.shutdown().await;
            }
            summary(name, times);
        }

        for (name, action) in [
            ("block, socket dropped before the server -> done", IqAction::DropBefore),
            ("block, socket dropped after the server -> done", IqAction::DropAfter),
            ("block, no fault -> done", IqAction::Delay { ms: 0 }),
        ] {
            let mut times = Vec::new();
            for phone in phones.iter().skip(10).take(ROUNDS) {
                let session = fresh(&sim, &dir).await;
                sim.arm_fault(Armed::next("blocklist", action.clone()).of_type("set"));
                let started = Instant::now();
                session.blocklist().set_blocked(phone, true).await.expect("blocked");
                times.push(started.elapsed());
                session.blocklist().set_blocked(phone, false).await.expect("unblocked");
                session.shutdown().await;
            }
            summary(name, times);
        }

        let session = fresh(&sim, &dir).await;
        let started = Instant::now();
        assert!(sim.inject(ConnectionFault::Silence(Duration::from_secs(120))) >= 1);
        session.blocklist().set_blocked(&phones[30], true).await.expect("blocked after the silence");
        summary("block into a silent server -> done", vec![started.elapsed()]);

        session.shutdown().await;
        sim.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
    });
}
