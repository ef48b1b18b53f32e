//! [`Lobby`]: pairing connections that belong to no account yet. A
//! companion that registers is offered QR refs before anyone knows whose
//! phone will link it, as on the real server (one endpoint for everyone):
//! the connection is claimed by the account whose phone scans one of its
//! refs, or whose number its `companion_hello` names. From then on it is
//! that account's (pushes, faults, the pairing itself).

use std::collections::HashMap;

use tokio::sync::mpsc;

use crate::state::{ConnId, Push, Registration};

/// Accounts are numbered from 1, as `--accounts N` and the admin API count them.
pub type AccountNo = usize;

/// One registering connection.
struct Waiting {
    registration: Registration,
    pushes: mpsc::UnboundedSender<Push>,
    /// The account that claimed it, once one did.
    account: Option<AccountNo>,
}

#[derive(Default)]
pub struct Lobby {
    waiting: HashMap<ConnId, Waiting>,
    /// QR refs offered and not yet scanned → their connection.
    refs: HashMap<String, ConnId>,
}

/// Why a connection cannot be claimed by an account.
#[derive(Debug, PartialEq, Eq)]
pub enum ClaimError {
    /// The connection is gone, or never registered.
    Gone,
    /// Another account's phone already took it.
    Taken(AccountNo),
}

impl Lobby {
    /// A registering connection and the QR refs it was offered.
    pub fn enter(
        &mut self,
        conn: ConnId,
        registration: Registration,
        pushes: mpsc::UnboundedSender<Push>,
        refs: &[String],
    ) {
        self.waiting.insert(conn, Waiting { registration, pushes, account: None });
        for r in refs {
            self.refs.insert(r.clone(), conn);
        }
    }

    /// The connection a QR ref was offered on, and its registration.
    pub fn by_ref(&self, pairing_ref: &str) -> Option<(ConnId, Registration)> {
        let conn = *self.refs.get(pairing_ref)?;
        self.waiting.get(&conn).map(|w| (conn, w.registration.clone()))
    }

    /// `account` takes the connection (again, for the one that already
    /// has it): returns its registration and where to push to it.
    pub fn claim(
        &mut self,
        conn: ConnId,
        account: AccountNo,
    ) -> Result<(Registration, mpsc::UnboundedSender<Push>), ClaimError> {
        let waiting = self.waiting.get_mut(&conn).ok_or(ClaimError::Gone)?;
        match waiting.account {
            Some(other) if other != account => Err(ClaimError::Taken(other)),
            _ => {
                waiting.account = Some(account);
                Ok((waiting.registration.clone(), waiting.pushes.clone()))
            }
        }
    }

    /// The registration of a registering connection.
    pub fn registration(&self, conn: ConnId) -> Option<Registration> {
        self.waiting.get(&conn).map(|w| w.registration.clone())
    }

    /// The account that claimed `conn`, if one did.
    pub fn account_of(&self, conn: ConnId) -> Option<AccountNo> {
        self.waiting.get(&conn).and_then(|w| w.account)
    }

    /// The refs of `conn` can no longer be scanned (it was signed in).
    pub fn retire_refs(&mut self, conn: ConnId) {
        self.refs.retain(|_, c| *c != conn);
    }

    /// QR refs that a phone could still scan.
    pub fn refs_offered(&self) -> usize {
        self.refs.len()
    }

    /// Injects `fault` into the connections no account has claimed (the
    /// claimed ones are their account's); returns how many it hit.
    pub fn inject(&self, fault: crate::faults::ConnectionFault) -> usize {
        self.waiting
            .values()
            .filter(|w| w.account.is_none())
            .filter(|w| w.pushes.send(Push::Fault(fault)).is_ok())
            .count()
    }

    pub fn leave(&mut self, conn: ConnId) {
        self.waiting.remove(&conn);
        self.retire_refs(conn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration() -> Registration {
        Registration {
            noise_key: [1; 32],
            identity: [2; 32],
            registration_id: 7,
            signed_prekey_id: 1,
            signed_prekey: [3; 32],
            signed_prekey_sig: vec![4; 64],
            push_name: None,
        }
    }

    #[test]
    fn a_registering_connection_belongs_to_the_first_phone_that_claims_it() {
        let mut lobby = Lobby::default();
        let (tx, _rx) = mpsc::unbounded_channel();
        lobby.enter(9, registration(), tx, &["2@a".to_owned(), "2@b".to_owned()]);
        assert_eq!(lobby.refs_offered(), 2);
        assert_eq!(lobby.by_ref("2@b").map(|(conn, _)| conn), Some(9));
        assert_eq!(lobby.account_of(9), None, "nobody's yet");
        assert!(lobby.claim(9, 2).is_ok());
        assert!(lobby.claim(9, 2).is_ok(), "the same phone again");
        assert_eq!(lobby.claim(9, 1).err(), Some(ClaimError::Taken(2)));
        assert_eq!(lobby.account_of(9), Some(2));
        assert_eq!(lobby.inject(crate::faults::ConnectionFault::Drop), 0, "a claimed connection is its account's");
        lobby.retire_refs(9);
        assert!(lobby.by_ref("2@a").is_none());
        lobby.leave(9);
        assert_eq!(lobby.claim(9, 2).err(), Some(ClaimError::Gone));
    }
}
