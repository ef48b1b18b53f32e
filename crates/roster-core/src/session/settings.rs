//! `session.settings()`: the operator's settings (the default country).

use thiserror::Error;
use tracing::info;

use super::{DEFAULT_COUNTRY, Session};
use crate::numbers::{CountryError, parse_country};
use crate::snapshot::Settings;
use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum SettingsError {
    #[error(transparent)]
    Country(#[from] CountryError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `session.settings()`.
#[derive(Clone, Copy)]
pub struct Preferences<'a>(pub(super) &'a Session);

impl Preferences<'_> {
    pub fn get(&self) -> Result<Settings, StoreError> {
        let default_country = self.0.store.setting(DEFAULT_COUNTRY)?.and_then(|c| parse_country(&c).ok());
        Ok(Settings { default_country })
    }

    /// Sets (or, with an empty code, clears) the default country.
    pub fn set_default_country(&self, code: &str) -> Result<Settings, SettingsError> {
        let country = if code.trim().is_empty() { None } else { Some(parse_country(code)?) };
        self.0.store.set_setting(DEFAULT_COUNTRY, country.as_ref().map(|c| c.code.as_str()))?;
        info!(country = ?country.as_ref().map(|c| &c.code), "default country set");
        Ok(Settings { default_country: country })
    }
}
