//! The logs never hold the device's secret keys, even at the `--verbose`
//! level (debug, every crate): the session is paired and used while every
//! log line is captured, then the private keys are read from session.db and
//! looked for in every encoding a log line might use.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine;
use common::{pair, temp_dir, wait};
use roster_core::{DataDir, Scope};
use roster_sim::{SimConfig, Simulator};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Every way a log line might spell `key`: hex, base64 (standard and URL
/// alphabets, padded or not) and Rust's `Debug` of a byte slice.
fn spellings(key: &[u8]) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let debug = format!("{:?}", &key[..8]).trim_end_matches(']').to_owned();
    vec![
        hex.clone(),
        hex.to_uppercase(),
        STANDARD.encode(key),
        STANDARD_NO_PAD.encode(key),
        URL_SAFE.encode(key),
        URL_SAFE_NO_PAD.encode(key),
        debug,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_key_reaches_the_logs_even_when_verbose() {
    let captured = Captured::default();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
        .with_ansi(false)
        .with_writer(captured.clone())
        .init();

    let sim = Simulator::start(SimConfig { seed: 81, contacts: 60, ..SimConfig::default() }).await.unwrap();
    let dir = temp_dir("log-secrets");
    let session = pair(&dir, &sim).await;
    let someone = sim.world().people[0].phone.clone();
    session.blocklist().set_blocked(&someone, true).await.unwrap();
    session.blocklist().set_blocked(&someone, false).await.unwrap();
    session.app_state().sync(&[Scope::Contacts], true).await.unwrap();
    let job = session.checks().start(&format!("+{someone}"), None, 600, None).unwrap().job;
    wait(&session, "the check", |s| s.check.as_ref().is_some_and(|c| c.job == job && c.checked == 1)).await;
    session.reconnect().await.unwrap();
    wait(&session, "reconnected", |s| s.state == roster_core::ConnectionState::Connected).await;

    let db = rusqlite::Connection::open(DataDir::open(&dir).unwrap().session_db()).unwrap();
    let (noise, identity, prekey, adv): (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) = db
        .query_row("SELECT noise_key, identity_key, signed_pre_key, adv_secret_key FROM device", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap();
    // Key pairs are stored as private (32 bytes) then public; the ADV key is all secret.
    let secrets =
        [("noise", &noise[..32]), ("identity", &identity[..32]), ("signed prekey", &prekey[..32]), ("adv", &adv)];

    let log = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(log.lines().count() > 200, "the capture holds the debug logs ({} lines)", log.lines().count());
    assert!(log.contains("blocklist updated"), "and Roster's own lines");
    for (name, key) in secrets {
        assert!(key.iter().any(|&b| b != 0), "the {name} key was read");
        for spelled in spellings(key) {
            assert!(!log.contains(&spelled), "the {name} private key appears in the logs as {spelled}");
        }
    }
    session.shutdown().await;
}
