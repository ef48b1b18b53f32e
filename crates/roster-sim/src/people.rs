//! The people of the simulated world: registered accounts (number, LID,
//! push name, about, picture, privacy), the phone's address book, and
//! numbers that are not on WhatsApp. Deterministic from the seed.

use std::collections::HashMap;

use rand::{RngExt, SeedableRng, rngs::StdRng};
use serde::Serialize;
use wacore_binary::Jid;

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Everyone,
    Contacts,
    Nobody,
}

#[derive(Clone, Debug, Serialize)]
pub struct Person {
    /// Digits only, with the country code.
    pub phone: String,
    pub lid: String,
    pub push_name: String,
    pub about: String,
    pub about_set_at: u64,
    /// `None`: no profile picture.
    pub picture_id: Option<u64>,
    pub about_visibility: Visibility,
    pub picture_visibility: Visibility,
    /// Whether this person saved the account's number (what "contacts only" checks).
    pub has_owner_saved: bool,
    /// Their "who can add me to groups" setting: everyone, or only their
    /// contacts (then only if they saved the account's number).
    pub groups_add: Visibility,
    /// The name under which the phone's address book saves this person.
    pub saved_name: Option<String>,
}

impl Person {
    pub fn pn_jid(&self) -> Jid {
        Jid::pn(self.phone.as_str())
    }

    pub fn lid_jid(&self) -> Jid {
        Jid::lid(self.lid.as_str())
    }

    fn visible(&self, v: Visibility) -> bool {
        match v {
            Visibility::Everyone => true,
            Visibility::Contacts => self.has_owner_saved,
            Visibility::Nobody => false,
        }
    }

    /// What the account may see of this person's about text.
    pub fn about_visible(&self) -> bool {
        self.visible(self.about_visibility)
    }

    pub fn picture_visible(&self) -> bool {
        self.visible(self.picture_visibility)
    }

    /// Whether their privacy settings let the account add them to a group
    /// (otherwise the server answers 403 with an invite, `add_request`).
    pub fn account_may_add_to_groups(&self) -> bool {
        self.visible(self.groups_add)
    }
}

pub struct People {
    pub list: Vec<Person>,
    by_phone: HashMap<String, usize>,
    by_lid: HashMap<String, usize>,
    /// Valid-looking numbers that are not on WhatsApp.
    pub unregistered: Vec<String>,
}

const FIRST: &[&str] = &[
    "Ana", "Bruno", "Carla", "Diego", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi", "Luca", "Maya",
    "Nils", "Olga", "Pedro", "Quinn", "Rosa", "Sami", "Tariq", "Uma", "Vera", "Wen", "Yara", "Zoe",
];
const LAST: &[&str] = &[
    "Silva", "Okafor", "Müller", "Rossi", "Nakamura", "García", "Kowalski", "Haddad", "Larsen", "Moreau", "Singh",
    "Costa", "Novak", "Petrov", "Ahmed", "Berg",
];
const ABOUTS: &[&str] = &[
    "Hey there! I am using WhatsApp.",
    "Available",
    "Busy",
    "At work",
    "In a meeting",
    "Battery about to die",
    "Only urgent calls",
    "Sleeping",
];

/// Country prefixes and the digits that follow, for plausible numbers.
fn plausible_number(rng: &mut StdRng, i: usize) -> String {
    match i % 4 {
        0 => format!("55119{:08}", rng.random_range(0..100_000_000u32)), // Brazil, São Paulo mobile
        1 => format!("1555{:07}", rng.random_range(0..10_000_000u32)),   // North America, 555
        2 => format!("447{:09}", rng.random_range(0..1_000_000_000u32)), // UK mobile
        _ => format!("4915{:09}", rng.random_range(0..1_000_000_000u32)), // Germany mobile
    }
}

impl People {
    pub fn generate(seed: u64, count: usize, owner_phone: &str) -> People {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5045_4f50_4c45);
        let mut list = Vec::with_capacity(count);
        let mut by_phone = HashMap::with_capacity(count);
        let mut by_lid = HashMap::with_capacity(count);
        let mut i = 0;
        while list.len() < count {
            let phone = plausible_number(&mut rng, i);
            i += 1;
            if phone == owner_phone || by_phone.contains_key(&phone) {
                continue;
            }
            let lid = format!("{}", 200_000_000_000_000u64 + rng.random_range(0..700_000_000_000_000u64));
            if by_lid.contains_key(&lid) {
                continue;
            }
            let first = FIRST[rng.random_range(0..FIRST.len())];
            let last = LAST[rng.random_range(0..LAST.len())];
            let visibility = |rng: &mut StdRng| match rng.random_range(0..10) {
                0 => Visibility::Nobody,
                1 => Visibility::Contacts,
                _ => Visibility::Everyone,
            };
            let person = Person {
                push_name: format!("{first} {}", &last[..1]),
                about: ABOUTS[rng.random_range(0..ABOUTS.len())].to_owned(),
                about_set_at: 1_700_000_000 + rng.random_range(0..60_000_000u64),
                picture_id: (rng.random_range(0..10) != 0)
                    .then(|| 1_000_000_000 + rng.random_range(0..1_000_000_000u64)),
                about_visibility: visibility(&mut rng),
                picture_visibility: visibility(&mut rng),
                has_owner_saved: rng.random_range(0..2) == 0,
                // From the LID, not the generator, so that everything else
                // about the world stays as earlier versions made it.
                groups_add: if lid.parse::<u64>().unwrap_or(0) % 4 == 0 {
                    Visibility::Contacts
                } else {
                    Visibility::Everyone
                },
                saved_name: (rng.random_range(0..10) < 7).then(|| format!("{first} {last}")),
                phone: phone.clone(),
                lid: lid.clone(),
            };
            by_phone.insert(phone, list.len());
            by_lid.insert(lid, list.len());
            list.push(person);
        }
        let mut unregistered = Vec::new();
        while unregistered.len() < count.clamp(10, 1000) {
            let phone = plausible_number(&mut rng, i);
            i += 1;
            if phone != owner_phone && !by_phone.contains_key(&phone) && !unregistered.contains(&phone) {
                unregistered.push(phone);
            }
        }
        People { list, by_phone, by_lid, unregistered }
    }

    pub fn by_phone(&self, phone: &str) -> Option<&Person> {
        self.by_phone.get(phone).map(|i| &self.list[*i])
    }

    pub fn by_lid(&self, lid: &str) -> Option<&Person> {
        self.by_lid.get(lid).map(|i| &self.list[*i])
    }

    pub fn by_phone_mut(&mut self, phone: &str) -> Option<&mut Person> {
        self.by_phone.get(phone).map(|i| &mut self.list[*i])
    }

    /// Finds a person by a JID's user part (PN or LID) or a bare number.
    /// Where a number or LID user is in [`People::list`].
    pub fn index_of(&self, user: &str) -> Option<usize> {
        self.by_phone.get(user).or_else(|| self.by_lid.get(user)).copied()
    }

    pub fn find(&self, user: &str) -> Option<&Person> {
        self.by_phone(user).or_else(|| self.by_lid(user))
    }

    pub fn address_book(&self) -> impl Iterator<Item = &Person> {
        self.list.iter().filter(|p| p.saved_name.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_distinct() {
        let a = People::generate(9, 500, "15550000000");
        let b = People::generate(9, 500, "15550000000");
        assert_eq!(a.list.len(), 500);
        assert_eq!(a.list[17].phone, b.list[17].phone);
        assert_eq!(a.list[17].lid, b.list[17].lid);
        assert!(a.unregistered.iter().all(|n| a.by_phone(n).is_none()));
        assert!(a.address_book().count() > 250);
        assert!(a.list.iter().any(|p| p.picture_id.is_none()));
        assert!(a.list.iter().any(|p| !p.about_visible()));
    }
}
