//! The accounts of a data directory. Each linked account has its own
//! folder, `<data>/accounts/<id>/`, holding its session store and its
//! `roster.db`: a [`DataDir`] of its own, without a lock (the data
//! directory's lock, at the top, covers every account). Opening migrates a
//! data directory of the single-account layout (both databases at the
//! top) into account 1 ([`migrate`]); removing an account deletes its
//! folder.

mod migrate;

use std::fs;
use std::path::{Path, PathBuf};

use thiserror::Error;
use tracing::{info, warn};

use crate::datadir::{DataDir, DataDirError};

/// An account's number in its data directory (its folder's name), from 1.
pub type AccountId = u32;

/// The folder under the data directory that holds the accounts.
const ACCOUNTS_DIR: &str = "accounts";
/// A removed account's folder is renamed to this prefix plus its id before
/// it is deleted, so a removal cut short never leaves half an account.
const REMOVED_PREFIX: &str = ".removed-";

#[derive(Debug, Error)]
pub enum AccountsError {
    #[error("cannot read or change {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error("there is no account {0} in this data directory")]
    Unknown(AccountId),
}

/// The accounts folder of an opened (and locked) data directory.
#[derive(Debug, Clone)]
pub struct Accounts {
    root: PathBuf,
}

impl Accounts {
    /// Opens `<data>/accounts` (creating it, `0700`), migrates a
    /// single-account data directory into account 1, and finishes removals
    /// an earlier run was cut short in. Call it with the data directory's
    /// lock held.
    #[tracing::instrument(name = "accounts.open", skip_all, fields(data_dir = %data_dir.path().display()))]
    pub fn open(data_dir: &DataDir) -> Result<Accounts, AccountsError> {
        let root = data_dir.path().join(ACCOUNTS_DIR);
        let accounts = Accounts { root };
        DataDir::open(&accounts.root)?;
        migrate::single_account(data_dir, &accounts)?;
        accounts.finish_removals()?;
        Ok(accounts)
    }

    /// The accounts, in order of their ids.
    pub fn ids(&self) -> Result<Vec<AccountId>, AccountsError> {
        let io = |source| AccountsError::Io { path: self.root.clone(), source };
        let mut ids: Vec<AccountId> = fs::read_dir(&self.root)
            .map_err(io)?
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().and_then(parse_id))
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// Account `id`'s folder, checked as a data directory is.
    pub fn dir(&self, id: AccountId) -> Result<DataDir, AccountsError> {
        let path = self.path_of(id);
        if !path.is_dir() {
            return Err(AccountsError::Unknown(id));
        }
        Ok(DataDir::open(path)?)
    }

    /// A new, empty account folder (the next id after the highest).
    pub fn create(&self) -> Result<(AccountId, DataDir), AccountsError> {
        let id = self.ids()?.last().map_or(1, |last| last + 1);
        let dir = DataDir::open(self.path_of(id))?;
        info!(account = id, "account folder created");
        Ok((id, dir))
    }

    /// Deletes account `id`'s folder, its session store and `roster.db`
    /// with it. The folder is first renamed out of the list, so an
    /// interrupted removal never leaves a half account (the next
    /// [`open`](Self::open) finishes it). The caller stops the account's
    /// session first.
    #[tracing::instrument(name = "accounts.remove", skip(self))]
    pub fn remove(&self, id: AccountId) -> Result<(), AccountsError> {
        let path = self.path_of(id);
        if !path.is_dir() {
            return Err(AccountsError::Unknown(id));
        }
        let removed = self.root.join(format!("{REMOVED_PREFIX}{id}"));
        fs::rename(&path, &removed).map_err(|source| AccountsError::Io { path: path.clone(), source })?;
        sync_dir(&self.root);
        fs::remove_dir_all(&removed).map_err(|source| AccountsError::Io { path: removed, source })?;
        info!(account = id, "account folder deleted");
        Ok(())
    }

    /// The folder that holds the accounts.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, id: AccountId) -> PathBuf {
        self.root.join(id.to_string())
    }

    /// Deletes what removals cut short left behind.
    fn finish_removals(&self) -> Result<(), AccountsError> {
        let io = |source| AccountsError::Io { path: self.root.clone(), source };
        for entry in fs::read_dir(&self.root).map_err(io)?.filter_map(Result::ok) {
            if entry.file_name().to_string_lossy().starts_with(REMOVED_PREFIX) {
                warn!(folder = %entry.path().display(), "finishing an account removal cut short");
                fs::remove_dir_all(entry.path()).map_err(|source| AccountsError::Io { path: entry.path(), source })?;
            }
        }
        Ok(())
    }
}

/// An account folder's name as its id (`1`, `2`…; nothing else).
fn parse_id(name: &str) -> Option<AccountId> {
    if name.starts_with('0') || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok().filter(|id| *id >= 1)
}

/// Makes renames in `dir` durable (best effort: not every platform can
/// open a directory to sync it).
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("roster-accounts-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn creates_lists_and_removes_account_folders() {
        let path = tmp("list");
        let data = DataDir::open(&path).unwrap();
        let accounts = Accounts::open(&data).unwrap();
        assert_eq!(accounts.ids().unwrap(), Vec::<AccountId>::new());
        let (one, dir_one) = accounts.create().unwrap();
        let (two, _) = accounts.create().unwrap();
        assert_eq!((one, two), (1, 2));
        fs::write(dir_one.app_db(), b"").unwrap();
        // Stray entries are not accounts.
        fs::create_dir(accounts.root().join("07")).unwrap();
        fs::write(accounts.root().join("3"), b"a file").unwrap();
        assert_eq!(accounts.ids().unwrap(), vec![1, 2]);
        accounts.remove(1).unwrap();
        assert_eq!(accounts.ids().unwrap(), vec![2]);
        assert!(!dir_one.path().exists());
        assert!(matches!(accounts.remove(1), Err(AccountsError::Unknown(1))));
        assert!(matches!(accounts.dir(1), Err(AccountsError::Unknown(1))));
        fs::remove_dir_all(path).unwrap();
    }

    #[test]
    fn a_removal_cut_short_is_finished_on_open() {
        let path = tmp("removal");
        let data = DataDir::open(&path).unwrap();
        let accounts = Accounts::open(&data).unwrap();
        let (id, dir) = accounts.create().unwrap();
        fs::write(dir.app_db(), b"").unwrap();
        // As if the process died between the rename and the deletion.
        fs::rename(dir.path(), accounts.root().join(format!("{REMOVED_PREFIX}{id}"))).unwrap();
        let accounts = Accounts::open(&data).unwrap();
        assert_eq!(accounts.ids().unwrap(), Vec::<AccountId>::new());
        assert_eq!(fs::read_dir(accounts.root()).unwrap().count(), 0);
        fs::remove_dir_all(path).unwrap();
    }
}
