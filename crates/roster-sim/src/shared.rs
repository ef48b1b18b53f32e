//! [`Shared`]: everything the server shares across connections and the
//! admin API — one world per account, each behind its own lock, the
//! pairing connections no account has claimed yet ([`Lobby`]), the
//! server's identity, the faults and limits tests arm, and what the server
//! counted. Like the real server, one endpoint serves every account.

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
use crate::lobby::{AccountNo, Lobby};
use crate::state::World;

pub struct Shared {
    /// Account `n`'s world is `worlds[n - 1]`.
    worlds: Vec<Mutex<World>>,
    /// Registering connections no phone has claimed yet.
    lobby: Mutex<Lobby>,
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
    /// `accounts` worlds (at least one): account 1's from `seed` itself (so
    /// a one-account simulator is what it always was), the others from
    /// seeds derived from it, each with its own number.
    pub fn new(
        seed: u64,
        accounts: usize,
        contacts: usize,
        picture_ttl: Duration,
        state_path: Option<PathBuf>,
    ) -> anyhow::Result<Arc<Shared>> {
        anyhow::ensure!(accounts >= 1, "the simulator needs at least one account");
        let mut key_rng = StdRng::seed_from_u64(seed ^ 0x4e4f_4953_45);
        let mut worlds: Vec<World> = Vec::with_capacity(accounts);
        for n in 1..=accounts {
            let path = state_path.as_deref().map(|p| account_state_path(p, n));
            let mut world = (0u64..)
                .map(|attempt| World::new(account_seed(seed, n, attempt), contacts, path.clone()))
                .find(|w| worlds.iter().all(|other| other.account.phone != w.account.phone))
                .expect("some seed gives a number not taken");
            world.load_devices()?;
            worlds.push(world);
        }
        Ok(Arc::new(Shared {
            worlds: worlds.into_iter().map(Mutex::new).collect(),
            lobby: Mutex::new(Lobby::default()),
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

    /// Account `n`'s world (`1..=accounts()`; callers check `n` first).
    pub fn world_of(&self, n: AccountNo) -> MutexGuard<'_, World> {
        self.worlds[n - 1].lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many accounts the simulator holds.
    pub fn accounts(&self) -> usize {
        self.worlds.len()
    }

    /// Whether `n` names one of the accounts.
    pub fn has_account(&self, n: AccountNo) -> bool {
        (1..=self.accounts()).contains(&n)
    }

    /// The account whose phone has this number (digits).
    pub fn account_with_phone(&self, phone: &str) -> Option<AccountNo> {
        (1..=self.accounts()).find(|n| self.world_of(*n).account.phone == phone)
    }

    pub fn lobby(&self) -> MutexGuard<'_, Lobby> {
        self.lobby.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Injects `fault` into every live connection, of every account and
    /// the unclaimed ones; returns how many it hit.
    pub fn inject(&self, fault: crate::faults::ConnectionFault) -> usize {
        let claimed: usize = (1..=self.accounts()).map(|n| self.world_of(n).inject(fault)).sum();
        claimed + self.lobby().inject(fault)
    }

    /// A connection ended: no world or lobby pushes to it any more.
    pub fn forget_connection(&self, conn: crate::state::ConnId) {
        self.lobby().leave(conn);
        for n in 1..=self.accounts() {
            self.world_of(n).forget_connection(conn);
        }
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

/// Account `n`'s seed: the simulator's own for account 1, then derived
/// ones (`attempt` moves on when a derived number is already taken).
fn account_seed(seed: u64, n: AccountNo, attempt: u64) -> u64 {
    if n == 1 && attempt == 0 {
        return seed;
    }
    let salt = (n as u64).wrapping_add(attempt << 32);
    seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Where account `n` keeps its linked devices: account 1 in the file given
/// (as before there were several), the others beside it (`sim-2.json`).
fn account_state_path(path: &std::path::Path, n: AccountNo) -> PathBuf {
    if n == 1 {
        return path.to_owned();
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_account_has_its_own_world_and_account_one_is_the_seeds() {
        let ttl = Duration::from_secs(60);
        let alone = Shared::new(5, 1, 20, ttl, None).unwrap();
        let three = Shared::new(5, 3, 20, ttl, None).unwrap();
        assert_eq!(three.accounts(), 3);
        assert_eq!(three.world_of(1).account.phone, alone.world_of(1).account.phone, "account 1 is the seed's");
        let phones: std::collections::BTreeSet<String> =
            (1..=3).map(|n| three.world_of(n).account.phone.clone()).collect();
        assert_eq!(phones.len(), 3, "distinct numbers: {phones:?}");
        for n in 1..=3 {
            let phone = three.world_of(n).account.phone.clone();
            assert_eq!(three.account_with_phone(&phone), Some(n));
        }
        assert!(three.has_account(3) && !three.has_account(0) && !three.has_account(4));
        assert!(Shared::new(5, 0, 20, ttl, None).is_err(), "at least one account");
    }

    #[test]
    fn other_accounts_keep_their_devices_beside_account_ones_file() {
        let path = std::path::Path::new("/data/sandbox-world.json");
        assert_eq!(account_state_path(path, 1), path);
        assert_eq!(account_state_path(path, 2), std::path::Path::new("/data/sandbox-world-2.json"));
        assert_eq!(account_state_path(std::path::Path::new("/data/sim"), 3), std::path::Path::new("/data/sim-3"));
    }
}
