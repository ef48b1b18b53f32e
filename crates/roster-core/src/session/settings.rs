//! `session.settings()`: the operator's settings (the default country,
//! whether blocking from the list asks first).

use thiserror::Error;
use tracing::info;

use super::{CONFIRM_BLOCKS, DEFAULT_COUNTRY, Session};
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
        let store = &self.0.store;
        let default_country = store.setting(DEFAULT_COUNTRY)?.and_then(|c| parse_country(&c).ok());
        let confirm_blocks = store.setting(CONFIRM_BLOCKS)?.is_none_or(|v| v != "off");
        Ok(Settings { default_country, confirm_blocks })
    }

    /// Sets (or, with an empty code, clears) the default country.
    pub fn set_default_country(&self, code: &str) -> Result<Settings, SettingsError> {
        let country = if code.trim().is_empty() { None } else { Some(parse_country(code)?) };
        self.0.store.set_setting(DEFAULT_COUNTRY, country.as_ref().map(|c| c.code.as_str()))?;
        info!(country = ?country.as_ref().map(|c| &c.code), "default country set");
        Ok(self.get()?)
    }

    /// Whether to ask before blocking someone from the list.
    pub fn set_confirm_blocks(&self, on: bool) -> Result<Settings, SettingsError> {
        self.0.store.set_setting(CONFIRM_BLOCKS, Some(if on { "on" } else { "off" }))?;
        info!(on, "confirmation before blocking set");
        Ok(self.get()?)
    }
}
