//! The picture cache (`picture`): each contact's picture URL and a small
//! thumbnail, with when it was fetched, so the list is painted offline.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::snapshot::PictureState;

/// `store.pictures()`.
pub struct Pictures<'a>(pub(super) &'a Store);

impl Pictures<'_> {
    pub fn url(&self, phone: &str, picture_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .0
            .conn()
            .query_row(
                "SELECT url FROM picture WHERE phone = ?1 AND picture_id = ?2",
                params![phone, picture_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    pub fn save_url(&self, phone: &str, picture_id: &str, url: &str) -> Result<(), StoreError> {
        self.0.conn().execute(
            "INSERT INTO picture (phone, picture_id, url, fetched_at) VALUES (?1, ?2, ?3, unixepoch())
             ON CONFLICT(phone, picture_id) DO UPDATE SET url = excluded.url",
            params![phone, picture_id, url],
        )?;
        Ok(())
    }

    /// The cached thumbnail of this picture, if fetched less than `max_age` ago.
    pub fn thumbnail(
        &self,
        phone: &str,
        picture_id: &str,
        max_age: std::time::Duration,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .0
            .conn()
            .query_row(
                "SELECT thumb FROM picture WHERE phone = ?1 AND picture_id = ?2 AND fetched_at > unixepoch() - ?3",
                params![phone, picture_id, max_age.as_secs() as i64],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// The thumbnail cached for the contact's current picture: fetched less
    /// than `max_age` ago, or of any age with `None` (offline use).
    pub fn current_thumbnail(
        &self,
        phone: &str,
        max_age: Option<std::time::Duration>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .0
            .conn()
            .query_row(
                "SELECT p.thumb FROM picture p JOIN contact c ON c.phone = p.phone AND c.picture_id = p.picture_id
                 WHERE p.phone = ?1 AND c.picture_state = ?3 AND (?2 IS NULL OR p.fetched_at > unixepoch() - ?2)",
                params![phone, max_age.map(|a| a.as_secs() as i64), PictureState::Shown],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    pub fn save_thumbnail(&self, phone: &str, picture_id: &str, thumb: &[u8]) -> Result<(), StoreError> {
        self.0.conn().execute(
            "INSERT INTO picture (phone, picture_id, thumb, fetched_at) VALUES (?1, ?2, ?3, unixepoch())
             ON CONFLICT(phone, picture_id) DO UPDATE SET thumb = excluded.thumb, fetched_at = excluded.fetched_at",
            params![phone, picture_id, thumb],
        )?;
        Ok(())
    }

    /// The contact's picture changed; the cached one is stale.
    pub fn changed(&self, phone: &str) -> Result<(), StoreError> {
        let conn = self.0.conn();
        conn.execute(
            "UPDATE contact SET picture_state = ?2, updated_at = unixepoch() WHERE phone = ?1",
            params![phone, PictureState::Unknown],
        )?;
        conn.execute("DELETE FROM picture WHERE phone = ?1", [phone])?;
        Ok(())
    }
}
