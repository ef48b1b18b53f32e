//! Everyone else's phone as a message recipient: a Signal identity,
//! registration id, signed pre-key and one-time pre-keys per person (device
//! 0, the only device people have here), deterministic from the seed and
//! the person's LID and made when first needed; the sessions companions
//! open with them; and the decryption of what they are sent.

use std::collections::HashMap;

use rand::{RngExt, SeedableRng, rngs::StdRng};
use wacore_binary::{Jid, Node};
use wacore_libsignal::protocol::{KeyPair, ProtocolAddress};

use crate::signal_keys::{self, Identity, PreKeys, SessionMap};

/// One person's phone.
pub struct Recipient {
    identity: Identity,
    keys: PreKeys,
    sessions: SessionMap,
}

pub struct Recipients {
    seed: u64,
    by_lid: HashMap<String, Recipient>,
}

impl Recipients {
    pub fn new(seed: u64) -> Recipients {
        Recipients { seed, by_lid: HashMap::new() }
    }

    /// The phone of the person with this LID (user part).
    pub fn of(&mut self, lid: &str) -> &mut Recipient {
        let seed = self.seed;
        self.by_lid.entry(lid.to_owned()).or_insert_with(|| {
            let mut rng = StdRng::seed_from_u64(seed ^ 0x5349_474e_414c ^ lid.parse::<u64>().unwrap_or(0));
            let pair = KeyPair::generate(&mut rng);
            let identity = Identity::new(&pair, rng.random_range(1..16_381));
            let keys = PreKeys::generate(&identity.pair, StdRng::seed_from_u64(rng.random()));
            Recipient { identity, keys, sessions: SessionMap::default() }
        })
    }
}

impl Recipient {
    /// The key bundle the server serves for this phone, named `jid` as asked.
    pub fn bundle(&mut self, jid: Jid) -> Node {
        signal_keys::bundle_node(jid, &self.identity, &mut self.keys)
    }

    /// Decrypts what companion `device` of the account sent this phone.
    pub fn decrypt(&mut self, device: u16, kind: &str, ciphertext: &[u8]) -> Result<Vec<u8>, String> {
        let from = ProtocolAddress::new("companion", u32::from(device).into());
        signal_keys::decrypt(&mut self.sessions, &mut self.identity, &mut self.keys, &from, kind, ciphertext)
    }
}
