//! The account's app-state collections, as the phone writes them: each change
//! becomes an encrypted, MAC'd patch at the next version, stored for every
//! linked device to fetch.

use std::collections::{BTreeMap, HashMap};

use buffa::Message;
use rand::RngExt;
use wacore_appstate::hash::{HashState, generate_patch_mac};
use wacore_appstate::{encode_record, expand_app_state_keys};
use waproto::whatsapp::{self as wa, sync_action_value, syncd_mutation::SyncdOperation};

pub const CRITICAL_BLOCK: &str = "critical_block";
pub const CRITICAL_UNBLOCK_LOW: &str = "critical_unblock_low";
/// Mutations per patch the phone writes.
pub const PATCH_SIZE: usize = 500;

/// One mutation the phone makes: a JSON index and its value.
pub struct Mutation {
    pub index: String,
    pub value: wa::SyncActionValue,
    pub schema_version: i32,
}

#[derive(Default)]
struct Collection {
    hash: HashState,
    /// Encoded `SyncdPatch`es; patch N (1-based) is at index N-1.
    patches: Vec<Vec<u8>>,
    /// index MAC → value MAC of the live records (the server's view of the LTHash inputs).
    value_macs: HashMap<Vec<u8>, Vec<u8>>,
}

#[derive(Default)]
pub struct Collections {
    map: BTreeMap<String, Collection>,
}

impl Collections {
    pub fn version(&self, name: &str) -> u64 {
        self.map.get(name).map_or(0, |c| c.patches.len() as u64)
    }

    /// Patches newer than `version`, with their versions.
    pub fn patches_after(&self, name: &str, version: u64) -> Vec<(u64, Vec<u8>)> {
        let Some(c) = self.map.get(name) else { return Vec::new() };
        c.patches.iter().enumerate().map(|(i, p)| (i as u64 + 1, p.clone())).filter(|(v, _)| *v > version).collect()
    }

    pub fn set_push_name(&mut self, key_id: &[u8], key: &[u8; 32], name: &str, rng: &mut rand::rngs::StdRng) {
        let value = wa::SyncActionValue {
            timestamp: Some(now_ms()),
            push_name_setting: buffa::MessageField::some(sync_action_value::PushNameSetting {
                name: Some(name.to_owned()),
            }),
            ..Default::default()
        };
        let mutation = Mutation { index: r#"["setting_pushName"]"#.into(), value, schema_version: 1 };
        self.apply(CRITICAL_BLOCK, key_id, key, vec![mutation], rng);
    }

    /// Saves (or renames) people in the phone's address book, as contact
    /// actions in `critical_unblock_low`, at most `PATCH_SIZE` per patch.
    pub fn save_contacts<'a>(
        &mut self,
        key_id: &[u8],
        key: &[u8; 32],
        people: impl IntoIterator<Item = &'a crate::people::Person>,
        rng: &mut rand::rngs::StdRng,
    ) {
        let mutations: Vec<Mutation> = people
            .into_iter()
            .filter_map(|p| {
                let full = p.saved_name.clone()?;
                let first = full.split_whitespace().next().map(str::to_owned);
                Some(Mutation {
                    index: format!(r#"["contact","{}"]"#, p.pn_jid()),
                    value: wa::SyncActionValue {
                        timestamp: Some(now_ms()),
                        contact_action: buffa::MessageField::some(sync_action_value::ContactAction {
                            full_name: Some(full),
                            first_name: first,
                            lid_jid: Some(p.lid_jid().to_string()),
                            save_on_primary_addressbook: Some(true),
                            pn_jid: Some(p.pn_jid().to_string()),
                            username: None,
                        }),
                        ..Default::default()
                    },
                    schema_version: 2,
                })
            })
            .collect();
        let mut mutations = mutations.into_iter().peekable();
        while mutations.peek().is_some() {
            let chunk: Vec<Mutation> = mutations.by_ref().take(PATCH_SIZE).collect();
            self.apply(CRITICAL_UNBLOCK_LOW, key_id, key, chunk, rng);
        }
    }

    /// Writes a patch of SET mutations at the collection's next version.
    pub fn apply(
        &mut self,
        name: &str,
        key_id: &[u8],
        key: &[u8; 32],
        mutations: Vec<Mutation>,
        rng: &mut rand::rngs::StdRng,
    ) -> u64 {
        let keys = expand_app_state_keys(key);
        let Collection { hash, patches, value_macs } = self.map.entry(name.to_owned()).or_default();
        let mut encoded = Vec::with_capacity(mutations.len());
        let mut macs = Vec::with_capacity(mutations.len());
        for m in mutations {
            let iv: [u8; 16] = rng.random();
            let (mutation, value_mac) =
                encode_record(SyncdOperation::SET, m.index.as_bytes(), &m.value, &keys, key_id, &iv, m.schema_version);
            let index_mac = mutation
                .record
                .as_option()
                .and_then(|r| r.index.as_option())
                .and_then(|i| i.blob.clone())
                .unwrap_or_default();
            macs.push((index_mac, value_mac.to_vec()));
            encoded.push(mutation);
        }
        let (_, result) = hash.update_hash(&encoded, |index_mac, _| Ok(value_macs.get(index_mac).cloned()));
        result.expect("server-side hash update");
        let version = patches.len() as u64 + 1;
        hash.version = version;
        let mut patch = wa::SyncdPatch {
            version: buffa::MessageField::some(wa::SyncdVersion { version: Some(version) }),
            mutations: encoded,
            snapshot_mac: Some(hash.generate_snapshot_mac(name, &keys.snapshot_mac)),
            key_id: buffa::MessageField::some(wa::KeyId { id: Some(key_id.to_vec()) }),
            ..Default::default()
        };
        patch.patch_mac = Some(generate_patch_mac(&patch, name, &keys.patch_mac, version));
        patches.push(patch.encode_to_vec());
        value_macs.extend(macs);
        version
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
