//! The server's rate limit on number checks (usync `contact` queries), and
//! the log of every check it was asked, so tests can see what reached the
//! server, when, and what was refused.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// At most `max_users` numbers checked per `window`; beyond, the query is
/// answered `429 rate-overlimit` with `backoff` seconds, as WhatsApp does.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct UsyncLimit {
    pub max_users: usize,
    #[serde(with = "secs")]
    pub window: Duration,
    pub backoff_secs: u32,
}

impl UsyncLimit {
    /// `N/min`: N numbers per minute, 60 s backoff.
    pub fn per_minute(n: usize) -> UsyncLimit {
        UsyncLimit { max_users: n, window: Duration::from_secs(60), backoff_secs: 60 }
    }
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

/// One number-check query as the server received it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CheckCall {
    /// Milliseconds since the simulator started.
    pub at_ms: u64,
    /// What was asked: PN digits, or `…@lid`.
    pub users: Vec<String>,
    /// Answered `429 rate-overlimit` instead.
    pub refused: bool,
}

pub(crate) struct Limits {
    started: Instant,
    limit: Mutex<Option<UsyncLimit>>,
    /// (when, how many numbers) of the accepted checks inside the window.
    recent: Mutex<VecDeque<(Instant, usize)>>,
    log: Mutex<Vec<CheckCall>>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            started: Instant::now(),
            limit: Mutex::new(None),
            recent: Mutex::new(VecDeque::new()),
            log: Mutex::new(Vec::new()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Limits {
    pub fn set(&self, limit: Option<UsyncLimit>) {
        *lock(&self.limit) = limit;
        lock(&self.recent).clear();
    }

    pub fn get(&self) -> Option<UsyncLimit> {
        *lock(&self.limit)
    }

    /// Records a check of `users`; `Err(backoff)` when it is over the limit.
    pub fn admit(&self, users: Vec<String>) -> Result<(), u32> {
        let now = Instant::now();
        let verdict = match *lock(&self.limit) {
            None => Ok(()),
            Some(limit) => {
                let mut recent = lock(&self.recent);
                while recent.front().is_some_and(|(t, _)| now.duration_since(*t) >= limit.window) {
                    recent.pop_front();
                }
                let used: usize = recent.iter().map(|(_, n)| n).sum();
                if used + users.len() > limit.max_users {
                    Err(limit.backoff_secs)
                } else {
                    recent.push_back((now, users.len()));
                    Ok(())
                }
            }
        };
        let at_ms = now.duration_since(self.started).as_millis() as u64;
        lock(&self.log).push(CheckCall { at_ms, users, refused: verdict.is_err() });
        verdict
    }

    pub fn log(&self) -> Vec<CheckCall> {
        lock(&self.log).clone()
    }
}
