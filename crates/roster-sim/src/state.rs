//! The simulated world of one account: the WhatsApp account (the phone's),
//! its linked devices, pairings under way, and its live connections to push
//! to. Deterministic from the account's seed. The simulator holds one per
//! account (`Shared::world_of`); registering connections wait in the
//! `Lobby` until a phone claims them.

use std::collections::{BTreeMap, HashMap};

use rand::{RngExt, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use wacore_binary::Node;
use wacore_libsignal::protocol::KeyPair;

use crate::appstate::Collections;
use crate::people::People;
use crate::phone::PhoneSignal;

pub type ConnId = u64;

/// What a connection task is told to do from outside its read loop.
#[derive(Debug)]
pub enum Push {
    Node(Node),
    /// Sends the node (if any), then closes the socket.
    Close(Option<Node>),
    /// A fault injected by a test (`POST /admin/connections/{fault}`).
    Fault(crate::faults::ConnectionFault),
}

/// The companion's registration data, from the pairing handshake.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Registration {
    pub noise_key: [u8; 32],
    pub identity: [u8; 32],
    pub registration_id: u32,
    pub signed_prekey_id: u32,
    pub signed_prekey: [u8; 32],
    pub signed_prekey_sig: Vec<u8>,
    pub push_name: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Device {
    pub id: u16,
    pub key_index: u32,
    pub registration: Registration,
    /// Set once the device acknowledged (receipted) the app-state key share;
    /// until then the share is delivered again at each login, as queued
    /// messages are.
    pub keys_shared: bool,
    /// Id of the key-share message last delivered and not yet receipted.
    #[serde(skip)]
    pub key_share_id: Option<String>,
    /// The one-time pre-keys the server holds for this device: id → public key.
    #[serde(default)]
    pub pre_keys: BTreeMap<u32, [u8; 32]>,
    /// Set once the device receipted every history-sync message the phone
    /// sent it after linking; until then they are delivered again at each
    /// login, as queued messages are.
    #[serde(default)]
    pub history_synced: bool,
    /// Ids of the history-sync messages last delivered and not yet receipted.
    #[serde(skip)]
    pub history_sync_ids: Vec<String>,
}

/// A pairing that was scanned, waiting for the companion's signature.
pub struct Scanned {
    pub device_id: u16,
    pub key_index: u32,
    pub registration: Registration,
}

pub struct Account {
    pub phone: String,
    pub lid: String,
    pub push_name: String,
    pub identity: KeyPair,
    pub adv_raw_id: u32,
    pub next_key_index: u32,
    pub devices: BTreeMap<u16, Device>,
    pub app_state_key_id: Vec<u8>,
    pub app_state_key: [u8; 32],
    pub collections: Collections,
    pub signal: PhoneSignal,
    /// Everyone else on the simulated WhatsApp, and the phone's address book.
    pub people: People,
    pub groups: Vec<crate::groups::Group>,
    /// The phone's chat list, newest first.
    pub chats: Vec<crate::chats::Chat>,
    /// Blocked users: LID user → time blocked.
    pub blocklist: BTreeMap<String, u64>,
    /// Every block/unblock a companion asked for, in order.
    pub blocklist_requests: Vec<BlocklistRequest>,
    /// Everyone else's phone as a message recipient (Signal keys, sessions).
    pub recipients: crate::recipients::Recipients,
    /// Every copy of every message companions sent, and what became of it.
    pub deliveries: Vec<crate::deliveries::Delivery>,
}

impl Account {
    /// Whether the phone knows this person's number and LID: saved in its
    /// address book, or in a 1:1 chat with it. Its history sync names these
    /// people (their pairs and push names), nobody else.
    pub fn knows(&self, person: &crate::people::Person) -> bool {
        person.saved_name.is_some() || self.chats.iter().any(|c| c.peer_phone.as_deref() == Some(&person.phone))
    }
}

/// One companion block or unblock, and whether it changed the list (a
/// repeat of what is already so does not).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct BlocklistRequest {
    pub lid: String,
    pub action: String,
    pub changed: bool,
}

pub struct World {
    pub account: Account,
    /// Where linked devices are kept across restarts, if anywhere.
    pub state_path: Option<std::path::PathBuf>,
    /// Connections that were scanned, by connection.
    pub scanned: HashMap<ConnId, Scanned>,
    /// Companions that asked to link by a code typed on the phone.
    pub pair_codes: crate::phone::pair_code::CodeRequests,
    pub connections: HashMap<ConnId, mpsc::UnboundedSender<Push>>,
    /// Which device each logged-in connection belongs to.
    pub logged_in: HashMap<ConnId, u16>,
    pub rng: StdRng,
}

#[derive(Serialize, Deserialize)]
struct SavedDevices {
    phone: String,
    next_key_index: u32,
    devices: Vec<Device>,
}

const FIRST_NAMES: &[&str] =
    &["Ana", "Bruno", "Carla", "Diego", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi", "Luca"];

impl World {
    pub fn new(seed: u64, contacts: usize, state_path: Option<std::path::PathBuf>) -> World {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5157_4f52_4c44);
        let phone = format!("1555{:07}", rng.random_range(0..10_000_000u32));
        let lid = format!("{}", 100_000_000_000_000u64 + rng.random_range(0..900_000_000_000_000u64));
        let push_name = format!("{} (sandbox)", FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())]);
        let identity = KeyPair::generate(&mut rng);
        let mut app_state_key = [0u8; 32];
        rng.fill(&mut app_state_key[..]);
        let app_state_key_id = vec![0, 0, 0, 1, rng.random::<u8>(), rng.random::<u8>()];
        let people = People::generate(seed, contacts, &phone);
        let mut groups = crate::groups::generate(seed, &people);
        let chats = crate::chats::generate(seed, &people, &groups);
        // A group's timer is its chat's, as the history sync tells it.
        for g in &mut groups {
            g.ephemeral = chats.iter().find(|c| c.jid == g.jid()).map_or(0, |c| c.timer());
        }
        let mut collections = Collections::default();
        collections.set_push_name(&app_state_key_id, &app_state_key, &push_name, &mut rng);
        collections.save_contacts(&app_state_key_id, &app_state_key, people.address_book(), &mut rng);
        // A few people start blocked, one of them outside the address book.
        let mut blocklist = BTreeMap::new();
        let first_unsaved = people.list.iter().position(|p| p.saved_name.is_none());
        for i in [1usize, 4].into_iter().chain(first_unsaved) {
            if let Some(p) = people.list.get(i) {
                blocklist.insert(p.lid.clone(), 1_700_000_000 + i as u64);
            }
        }
        World {
            account: Account {
                phone,
                lid,
                push_name,
                identity,
                adv_raw_id: rng.random_range(1..u32::MAX),
                next_key_index: 1,
                devices: BTreeMap::new(),
                app_state_key_id,
                app_state_key,
                collections,
                signal: PhoneSignal::default(),
                people,
                groups,
                chats,
                blocklist,
                blocklist_requests: Vec::new(),
                recipients: crate::recipients::Recipients::new(seed),
                deliveries: Vec::new(),
            },
            state_path,
            scanned: HashMap::new(),
            pair_codes: HashMap::new(),
            connections: HashMap::new(),
            logged_in: HashMap::new(),
            rng,
        }
    }

    /// Restores the linked devices saved by an earlier run with the same seed.
    pub fn load_devices(&mut self) -> anyhow::Result<()> {
        let Some(path) = &self.state_path else { return Ok(()) };
        let saved: SavedDevices = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| anyhow::anyhow!("simulator state {} is unreadable: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if saved.phone != self.account.phone {
            anyhow::bail!(
                "simulator state {} belongs to another seed (account +{}, not +{})",
                path.display(),
                saved.phone,
                self.account.phone
            );
        }
        self.account.next_key_index = saved.next_key_index;
        self.account.devices = saved.devices.into_iter().map(|d| (d.id, d)).collect();
        Ok(())
    }

    /// Saves the linked devices (atomically), when a state path is set.
    pub fn save_devices(&self) {
        let Some(path) = &self.state_path else { return };
        let saved = SavedDevices {
            phone: self.account.phone.clone(),
            next_key_index: self.account.next_key_index,
            devices: self.account.devices.values().cloned().collect(),
        };
        let tmp = path.with_extension("tmp");
        let result = serde_json::to_vec_pretty(&saved)
            .map_err(std::io::Error::other)
            .and_then(|bytes| write_private(&tmp, &bytes))
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = result {
            tracing::warn!("cannot save simulator state to {}: {e}", path.display());
        }
    }

    pub fn push(&self, conn: ConnId, push: Push) -> bool {
        self.connections.get(&conn).is_some_and(|tx| tx.send(push).is_ok())
    }

    /// Pushes `node` to every logged-in connection but `except`.
    pub fn push_to_devices(&self, node: &Node, except: Option<ConnId>) {
        for conn in self.logged_in.keys().filter(|c| Some(**c) != except) {
            self.push(*conn, Push::Node(node.clone()));
        }
    }

    /// Injects `fault` into every live connection; returns how many it hit.
    pub fn inject(&self, fault: crate::faults::ConnectionFault) -> usize {
        self.connections.values().filter(|tx| tx.send(Push::Fault(fault)).is_ok()).count()
    }

    /// Connections currently logged in as `device`.
    pub fn connections_of(&self, device: u16) -> Vec<ConnId> {
        self.logged_in.iter().filter(|(_, d)| **d == device).map(|(c, _)| *c).collect()
    }

    pub fn forget_connection(&mut self, conn: ConnId) {
        self.connections.remove(&conn);
        self.logged_in.remove(&conn);
        self.scanned.remove(&conn);
        self.pair_codes.remove(&conn);
    }
}

/// Writes a file only its owner can read (it names the linked devices' keys).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
