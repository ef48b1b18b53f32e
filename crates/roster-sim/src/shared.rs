//! [`Shared`]: everything the server shares across connections and the
//! admin API — the world behind one lock, the server's identity, the
//! faults and limits tests arm, and what the server counted.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::cert::ServerIdentity;
use crate::counters::Counters;
use crate::faults::Faults;
use crate::limits::Limits;
use crate::state::World;

pub struct Shared {
    world: Mutex<World>,
    pub server: ServerIdentity,
    next_id: AtomicU64,
    /// How long a profile picture URL stays valid.
    pub picture_ttl: Duration,
    /// Bumped to make every picture URL handed out so far expire at once.
    picture_url_epoch: AtomicU64,
    /// The number-check rate limit and log.
    pub(crate) limits: Limits,
    /// Faults armed by tests (`POST /admin/faults`, outages).
    pub(crate) faults: Faults,
    /// What the server counted (connections, logins, IQs...).
    pub counters: Counters,
    base_url: OnceLock<String>,
}

impl Shared {
    pub fn new(
        seed: u64,
        contacts: usize,
        picture_ttl: Duration,
        state_path: Option<PathBuf>,
    ) -> anyhow::Result<Arc<Shared>> {
        let mut key_rng = StdRng::seed_from_u64(seed ^ 0x4e4f_4953_45);
        let mut world = World::new(seed, contacts, state_path);
        world.load_devices()?;
        Ok(Arc::new(Shared {
            world: Mutex::new(world),
            server: ServerIdentity::issue(&mut key_rng),
            next_id: AtomicU64::new(1),
            picture_ttl,
            picture_url_epoch: AtomicU64::new(0),
            limits: Default::default(),
            faults: Default::default(),
            counters: Default::default(),
            base_url: OnceLock::new(),
        }))
    }

    /// `http://HOST:PORT` of the simulator, for the URLs it hands out.
    pub fn base_url(&self) -> &str {
        self.base_url.get().map_or("http://127.0.0.1", String::as_str)
    }

    pub fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A fresh stanza or connection id.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The picture URLs of this epoch are valid (until their `exp`).
    pub fn picture_url_epoch(&self) -> u64 {
        self.picture_url_epoch.load(Ordering::Relaxed)
    }

    /// Every picture URL handed out so far stops working (403).
    pub fn expire_picture_urls(&self) {
        self.picture_url_epoch.fetch_add(1, Ordering::Relaxed);
    }
}
