//! The linked account's own details (`account`): its push name, as the
//! phone's history sync or its app-state settings give it.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// `store.account()`.
pub struct OwnAccount<'a>(pub(super) &'a Store);

impl OwnAccount<'_> {
    /// Stores the push name of the account with number `phone`.
    pub fn save_push_name(&self, phone: &str, name: &str) -> Result<(), StoreError> {
        self.0.conn().execute(
            "INSERT INTO account (phone, push_name, updated_at) VALUES (?1, ?2, unixepoch())
             ON CONFLICT(phone) DO UPDATE SET push_name = excluded.push_name, updated_at = excluded.updated_at",
            params![phone, name],
        )?;
        Ok(())
    }

    /// The push name last stored for the account with number `phone`.
    pub fn push_name(&self, phone: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .0
            .conn()
            .query_row("SELECT push_name FROM account WHERE phone = ?1", [phone], |r| r.get(0))
            .optional()?)
    }
}
