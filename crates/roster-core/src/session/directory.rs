//! `session.directory()`: the contact list (served from roster.db, so
//! usable offline), a contact's details and the list's pictures.

use thiserror::Error;
use tracing::{Instrument, info_span};
use whatsapp_rust::Client;

use super::Session;
use crate::clock::iso_time;
use crate::csv::{LineEnd, Writer};
use crate::pictures::{self, PictureError};
use crate::profile::{self, ProfileError};
use crate::snapshot::{Avatar, ContactDetails, ContactPage, ContactRow, ListFilter, PictureState};
use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum DetailsError {
    #[error("no contact with the number +{0} in the directory")]
    Unknown(String),
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Picture(#[from] PictureError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `session.directory()`.
#[derive(Clone, Copy)]
pub struct Directory<'a>(pub(super) &'a Session);

impl Directory<'_> {
    /// A page of the contact list (or of the blocklist), filtered by a
    /// search query; served from the local directory, so usable offline.
    pub fn page(
        &self,
        query: &str,
        filter: ListFilter,
        offset: usize,
        limit: usize,
    ) -> Result<ContactPage, StoreError> {
        // Every change bumps the version after its write: read before the
        // rows, it never claims a change the rows lack.
        let directory_version = self.0.snapshot().directory_version;
        Ok(ContactPage { directory_version, ..self.0.store.directory().page(query, filter, offset, limit)? })
    }

    /// The whole list (or the blocklist) as CSV for spreadsheets: name,
    /// numbers in E.164 with their `+` and as shown, LID, blocked or not,
    /// in the address book or not, about and when it was set (ISO 8601).
    pub fn export_csv(&self, filter: ListFilter) -> Result<String, StoreError> {
        let rows = self.0.store.directory().page("", filter, 0, i64::MAX as usize)?.rows;
        Ok(to_csv(&rows))
    }

    /// A contact as stored (no server round trip).
    pub fn contact(&self, phone: &str) -> Result<Option<ContactRow>, StoreError> {
        let phone: String = phone.chars().filter(char::is_ascii_digit).collect();
        self.0.store.directory().contact(&phone)
    }

    /// A contact's details: about (with its set time) and picture, fetched
    /// now when connected, else as cached.
    pub async fn details(self, phone: &str) -> Result<ContactDetails, DetailsError> {
        let span = info_span!("session.contact_details");
        async {
            let phone: String = phone.chars().filter(char::is_ascii_digit).collect();
            if let Some(client) = self.0.connected_client().await {
                let (_, picture) = self.refresh_profile(&client, &phone).await?;
                let contact =
                    self.0.store.directory().contact(&phone)?.ok_or_else(|| DetailsError::Unknown(phone.clone()))?;
                let chat_timer = self.0.chats().timer(&contact.phone, contact.lid.as_deref())?;
                return Ok(ContactDetails { contact, picture: picture.map(|t| pictures::data_url(&t)), chat_timer });
            }
            let contact =
                self.0.store.directory().contact(&phone)?.ok_or_else(|| DetailsError::Unknown(phone.clone()))?;
            let picture = self.0.store.pictures().current_thumbnail(&phone, None)?.map(|t| pictures::data_url(&t));
            let chat_timer = self.0.chats().timer(&contact.phone, contact.lid.as_deref())?;
            Ok(ContactDetails { contact, picture, chat_timer })
        }
        .instrument(span)
        .await
    }

    /// A contact's picture for the list. Served from the cache while it is
    /// younger than the configured age; otherwise asked of the server, at
    /// most [`PICTURE_FETCHES`] at a time. Offline, whatever is cached.
    pub async fn avatar(self, phone: &str) -> Result<Avatar, DetailsError> {
        let phone: String = phone.chars().filter(char::is_ascii_digit).collect();
        // The semaphore is never closed, so this always holds a slot.
        let _slot = self.0.picture_slots.acquire().await.ok();
        let span = info_span!("session.avatar");
        async {
            // Blocked users outside the address book have no row until asked.
            let known_state =
                self.0.store.directory().contact(&phone)?.map_or(PictureState::Unknown, |c| c.picture_state);
            if let Some(thumb) =
                self.0.store.pictures().current_thumbnail(&phone, Some(self.0.config.picture_max_age))?
            {
                return Ok(Avatar { picture: Some(pictures::data_url(&thumb)), picture_state: known_state });
            }
            let fresh_answer = matches!(known_state, PictureState::Hidden | PictureState::None)
                && self.0.store.directory().profile_age(&phone)?.is_some_and(|age| age < self.0.config.picture_max_age);
            let client = match self.0.connected_client().await {
                Some(client) if !fresh_answer => client,
                _ => {
                    let picture =
                        self.0.store.pictures().current_thumbnail(&phone, None)?.map(|t| pictures::data_url(&t));
                    return Ok(Avatar { picture, picture_state: known_state });
                }
            };
            let (fetched, picture) = self.refresh_profile(&client, &phone).await?;
            Ok(Avatar { picture: picture.map(|t| pictures::data_url(&t)), picture_state: fetched.picture_state })
        }
        .instrument(span)
        .await
    }

    /// Asks the server for a contact's about and picture, stores them, and
    /// returns the picture's thumbnail (cached while fresh) when it is shown.
    async fn refresh_profile(
        &self,
        client: &Client,
        phone: &str,
    ) -> Result<(profile::Profile, Option<Vec<u8>>), DetailsError> {
        let fetched = profile::fetch(client, phone).await?;
        self.0.store.directory().save_profile(phone, &fetched)?;
        let picture = match (&fetched.picture_id, fetched.picture_state) {
            (Some(id), PictureState::Shown) => {
                pictures::thumbnail(client, &self.0.store, phone, id, self.0.config.picture_max_age).await?
            }
            _ => None,
        };
        Ok((fetched, picture))
    }
}

fn to_csv(rows: &[ContactRow]) -> String {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
    let mut out = Writer::new(LineEnd::Crlf);
    out.record(&["name", "push_name", "e164", "number", "lid", "blocked", "in_address_book", "about", "about_set_at"]);
    for r in rows {
        out.record(&[
            r.name.clone().unwrap_or_default(),
            r.push_name.clone().unwrap_or_default(),
            if r.phone.is_empty() { String::new() } else { format!("+{}", r.phone) },
            r.phone_shown.clone(),
            r.lid.as_ref().map(|l| format!("{l}@lid")).unwrap_or_default(),
            yes_no(r.blocked),
            yes_no(r.in_address_book),
            r.about.clone().unwrap_or_default(),
            r.about_set_at.map(iso_time).unwrap_or_default(),
        ]);
    }
    out.finish()
}
