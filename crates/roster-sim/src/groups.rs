//! The groups the account belongs to: a few, deterministic from the seed,
//! drawn from the people of the world. LID-addressed groups name each
//! participant by LID with their number beside it; PN-addressed groups the
//! other way round (as the real server does).

use serde::{Deserialize, Serialize};

use crate::people::People;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Addressing {
    Lid,
    Pn,
}

impl Addressing {
    pub fn as_str(self) -> &'static str {
        match self {
            Addressing::Lid => "lid",
            Addressing::Pn => "pn",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Group {
    /// The user part of the group JID (`…@g.us`).
    pub id: String,
    pub subject: String,
    pub addressing: Addressing,
    pub created: u64,
    /// Indexes into the world's people; the account itself is always a member too.
    #[serde(skip)]
    pub members: Vec<usize>,
}

impl Group {
    pub fn jid(&self) -> String {
        format!("{}@g.us", self.id)
    }
}

/// Subject, addressing and how many people each group has (fewer if the
/// world is small).
const GROUPS: &[(&str, Addressing, usize)] =
    &[("Family", Addressing::Lid, 8), ("Neighbourhood watch", Addressing::Lid, 60), ("Suppliers", Addressing::Pn, 25)];

pub fn generate(seed: u64, people: &People) -> Vec<Group> {
    let n = people.list.len();
    GROUPS
        .iter()
        .enumerate()
        .filter(|_| n > 0)
        .map(|(g, (subject, addressing, size))| {
            // Every `step`-th person from an offset: members overlap between
            // groups and include people outside the address book.
            let step = 2 * g + 1;
            let first = (seed as usize).wrapping_add(g * 7) % n;
            let mut members: Vec<usize> = (0..n).map(|k| (first + k * step) % n).take((*size).min(n)).collect();
            members.sort_unstable();
            members.dedup();
            Group {
                id: format!(
                    "120363{:012}",
                    (seed.wrapping_mul(31).wrapping_add(g as u64 * 1_000_003)) % 1_000_000_000_000
                ),
                subject: (*subject).to_owned(),
                addressing: *addressing,
                created: 1_690_000_000 + g as u64 * 86_400,
                members,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_deterministic_and_within_the_world() {
        let people = People::generate(4, 100, "15550000000");
        let a = generate(4, &people);
        let b = generate(4, &people);
        assert_eq!(a.len(), 3);
        assert_eq!(a[1].members, b[1].members);
        assert_eq!(a[1].members.len(), 60);
        assert!(a.iter().all(|g| g.members.iter().all(|&i| i < 100)));
        assert_ne!(a[0].id, a[1].id);
    }
}
