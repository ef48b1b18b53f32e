//! Faults armed by tests and demos, as a failing real server or network
//! produces them.
//!
//! Two kinds:
//! - [`Armed`] faults wait for the next IQ of a namespace (optionally of one
//!   `type`) and then answer an error, drop the socket before or after
//!   handling it, or answer late;
//! - [`ConnectionFault`]s hit every live connection at once: a dropped
//!   socket, a stream error (515 restart, 401 logged out, `conflict
//!   replaced`), a clean `<xmlstreamend/>`, a malformed or truncated frame,
//!   or silence. An [`outage`](Faults::start_outage) refuses new connections
//!   for a while.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use thiserror::Error;

/// One armed error reply (the shape of `POST /admin/faults/iq`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct IqFault {
    /// The IQ namespace it hits (`blocklist`, `usync`, `w:profile:picture`...).
    pub xmlns: String,
    /// The error code in the reply (`500`, `503`, `429`...).
    pub code: u16,
    #[serde(default = "default_text")]
    pub text: String,
}

fn default_text() -> String {
    "internal-server-error".into()
}

/// What happens to the IQ an armed fault catches.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum IqAction {
    /// Answer `<error code text/>` instead of handling it.
    Error {
        code: u16,
        #[serde(default = "default_text")]
        text: String,
    },
    /// Close the socket without handling it (the server never saw it).
    DropBefore,
    /// Handle it (its effect is applied), then close the socket before the
    /// reply is sent: the client cannot know it took effect.
    DropAfter,
    /// Handle it normally, `ms` milliseconds late.
    Delay { ms: u64 },
    /// Never answer it, nor handle it (a request lost inside the server);
    /// the connection otherwise carries on.
    Unanswered,
}

/// A fault waiting for the next IQ it matches (`POST /admin/faults`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Armed {
    pub xmlns: String,
    /// Only IQs of this `type` (`get`, `set`); any when absent.
    #[serde(default, rename = "type")]
    pub iq_type: Option<String>,
    /// Matching IQs let through before this one fires.
    #[serde(default)]
    pub skip: u32,
    #[serde(flatten)]
    pub action: IqAction,
}

impl Armed {
    /// A fault on the next IQ of `xmlns` (any type, none skipped).
    pub fn next(xmlns: &str, action: IqAction) -> Armed {
        Armed { xmlns: xmlns.to_owned(), iq_type: None, skip: 0, action }
    }

    /// Only IQs of this `type` (`get`, `set`).
    pub fn of_type(mut self, iq_type: &str) -> Armed {
        self.iq_type = Some(iq_type.to_owned());
        self
    }

    /// Lets `n` matching IQs through first.
    pub fn after(mut self, n: u32) -> Armed {
        self.skip = n;
        self
    }
}

impl From<IqFault> for Armed {
    fn from(f: IqFault) -> Self {
        Armed::next(&f.xmlns, IqAction::Error { code: f.code, text: f.text })
    }
}

/// A fault that hits every live connection now (`POST /admin/connections/{fault}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionFault {
    /// The socket closes with no stanza, as when the network drops.
    Drop,
    /// `<stream:error code="515"/>`: restart now (the client reconnects at once).
    Restart,
    /// `<stream:error code="401"/>`: this device is logged out.
    LoggedOut,
    /// `<stream:error><conflict type="replaced"/></stream:error>`: another client took the session.
    Replaced,
    /// `<xmlstreamend/>`: a routine server recycle.
    StreamEnd,
    /// A well-encrypted frame whose content is not a binary node.
    Malformed,
    /// A frame cut short, so it does not decrypt.
    Truncated,
    /// The server reads and answers nothing (pings included) for this long.
    Silence(Duration),
}

/// The longest silence or outage a test may ask for.
pub const MAX_FAULT_MS: u64 = 600_000;

/// How long a silence or outage lasts: 1 to [`MAX_FAULT_MS`] milliseconds.
pub fn fault_length(ms: Option<u64>) -> Option<Duration> {
    ms.filter(|ms| (1..=MAX_FAULT_MS).contains(ms)).map(Duration::from_millis)
}

#[derive(Debug, Error)]
pub enum FaultError {
    #[error(
        "unknown connection fault {0:?}; one of drop, restart, logged-out, replaced, stream-end, malformed, truncated, silence"
    )]
    Unknown(String),
    #[error("silence needs ?ms=N (1 to {MAX_FAULT_MS})")]
    SilenceLength,
}

impl ConnectionFault {
    /// Reads the URL form: `drop`, `restart`, ..., `silence` with `ms`.
    pub fn parse(name: &str, ms: Option<u64>) -> Result<Self, FaultError> {
        Ok(match name {
            "drop" => ConnectionFault::Drop,
            "restart" => ConnectionFault::Restart,
            "logged-out" => ConnectionFault::LoggedOut,
            "replaced" => ConnectionFault::Replaced,
            "stream-end" => ConnectionFault::StreamEnd,
            "malformed" => ConnectionFault::Malformed,
            "truncated" => ConnectionFault::Truncated,
            "silence" => ConnectionFault::Silence(fault_length(ms).ok_or(FaultError::SilenceLength)?),
            other => return Err(FaultError::Unknown(other.to_owned())),
        })
    }
}

/// The faults armed now (shared by every connection).
#[derive(Default)]
pub(crate) struct Faults {
    iq: Mutex<VecDeque<Armed>>,
    outage_until: Mutex<Option<Instant>>,
}

impl Faults {
    /// Arms an error reply for the next IQ of its namespace (faults queue up).
    pub fn arm(&self, fault: IqFault) {
        self.arm_fault(fault.into());
    }

    pub fn arm_fault(&self, fault: Armed) {
        self.iq.lock().unwrap_or_else(|p| p.into_inner()).push_back(fault);
    }

    /// Faults armed and not yet used.
    pub fn armed(&self) -> usize {
        self.iq.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Takes the first fault armed for an IQ of `xmlns` and `iq_type`, if any.
    pub fn take(&self, xmlns: &str, iq_type: &str) -> Option<IqAction> {
        let mut queue = self.iq.lock().unwrap_or_else(|p| p.into_inner());
        let at = queue.iter().position(|f| f.xmlns == xmlns && f.iq_type.as_deref().is_none_or(|t| t == iq_type))?;
        if queue[at].skip > 0 {
            queue[at].skip -= 1;
            return None;
        }
        queue.remove(at).map(|f| f.action)
    }

    /// New connections are refused (HTTP 503) for `length`.
    pub fn start_outage(&self, length: Duration) {
        *self.outage_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + length);
    }

    /// Whether an outage refuses new connections now.
    pub fn outage_now(&self) -> bool {
        let until = *self.outage_until.lock().unwrap_or_else(|p| p.into_inner());
        until.is_some_and(|t| Instant::now() < t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armed_faults_read_from_json_and_match_type() {
        let f: Armed = serde_json::from_str(r#"{"xmlns":"blocklist","type":"set","action":"drop_after"}"#).unwrap();
        assert_eq!(f.action, IqAction::DropAfter);
        let lost: Armed = serde_json::from_str(r#"{"xmlns":"blocklist","action":"unanswered"}"#).unwrap();
        assert_eq!(lost.action, IqAction::Unanswered);
        let faults = Faults::default();
        faults.arm_fault(f);
        faults.arm_fault(serde_json::from_str(r#"{"xmlns":"usync","action":"delay","ms":20}"#).unwrap());
        faults.arm_fault(Armed::next("blocklist", IqAction::DropBefore).of_type("set").after(1));
        assert_eq!(faults.take("blocklist", "get"), None, "a get does not take a fault armed for sets");
        assert_eq!(faults.take("blocklist", "set"), Some(IqAction::DropAfter));
        assert_eq!(faults.take("blocklist", "set"), None, "the second set fault lets one through");
        assert_eq!(faults.take("blocklist", "set"), Some(IqAction::DropBefore));
        assert_eq!(faults.take("usync", "get"), Some(IqAction::Delay { ms: 20 }));
        assert_eq!(faults.armed(), 0);
    }

    #[test]
    fn connection_faults_parse_with_clear_errors() {
        assert_eq!(ConnectionFault::parse("replaced", None).unwrap(), ConnectionFault::Replaced);
        assert_eq!(
            ConnectionFault::parse("silence", Some(1500)).unwrap(),
            ConnectionFault::Silence(Duration::from_millis(1500))
        );
        assert!(matches!(ConnectionFault::parse("silence", None), Err(FaultError::SilenceLength)));
        let e = ConnectionFault::parse("explode", None).unwrap_err();
        assert!(e.to_string().contains("\"explode\""), "{e}");
    }
}
