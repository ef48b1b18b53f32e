//! Migrating a data directory of the single-account layout (`session.db`
//! and `roster.db`, with their WAL files, at the top) into account 1, in
//! place.
//!
//! The files are renamed (within one filesystem, each rename is atomic)
//! into `accounts/.migrating-1/`, which is renamed to `accounts/1` once
//! they are all in. An interruption leaves each file either at the top or
//! in `.migrating-1`, never half written, and nothing opens them meanwhile
//! (the data directory's lock is held); the next open moves the rest and
//! finishes. Nothing is copied or deleted.

use std::fs;
use std::path::{Path, PathBuf};

use tracing::{info, warn};

use super::{Accounts, AccountsError, sync_dir};
use crate::datadir::{DataDir, restrict_to_owner};

/// Where account 1's files gather before the folder takes its name.
const STAGING: &str = ".migrating-1";

pub(super) fn single_account(data_dir: &DataDir, accounts: &Accounts) -> Result<(), AccountsError> {
    let staging = accounts.root().join(STAGING);
    let legacy: Vec<PathBuf> = data_dir.database_files().into_iter().filter(|f| f.exists()).collect();
    let resuming = staging.is_dir();
    if legacy.is_empty() && !resuming {
        return Ok(());
    }
    if !resuming && !accounts.ids()?.is_empty() {
        // Not today's layout: something (an older Roster?) wrote databases
        // beside the account folders. Never mix them into an account.
        warn!(
            files = ?legacy,
            "database files at the top of the data directory beside account folders; left where they are"
        );
        return Ok(());
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| AccountsError::Io { path, source }
    };
    if !resuming {
        fs::create_dir(&staging).map_err(io(&staging))?;
        restrict_to_owner(&staging, 0o700).map_err(io(&staging))?;
    }
    info!(files = legacy.len(), resuming, "moving the single-account data directory into account 1");
    for file in &legacy {
        let name = file.file_name().expect("a database file has a name");
        let target = staging.join(name);
        if target.exists() {
            // Moved before, and a file of that name appeared at the top
            // since: keep both, the moved one is the account's.
            warn!(file = %file.display(), "already moved into account 1; the copy at the top is left there");
            continue;
        }
        fs::rename(file, &target).map_err(io(file))?;
    }
    sync_dir(&staging);
    sync_dir(data_dir.path());
    let account = accounts.root().join("1");
    fs::rename(&staging, &account).map_err(io(&account))?;
    sync_dir(accounts.root());
    info!(account = %account.display(), "single-account data directory migrated");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("roster-migrate-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    /// Writes the single-account layout's files (contents stand for the databases).
    fn legacy_layout(path: &Path) -> DataDir {
        let data = DataDir::open(path).unwrap();
        for (file, body) in [("session.db", "s"), ("session.db-wal", "sw"), ("roster.db", "r"), ("roster.db-wal", "rw")]
        {
            fs::write(path.join(file), body).unwrap();
        }
        data
    }

    fn contents(dir: &Path) -> Vec<(String, String)> {
        let mut files: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| (e.file_name().to_string_lossy().into_owned(), fs::read_to_string(e.path()).unwrap()))
            .collect();
        files.sort();
        files
    }

    #[test]
    fn moves_both_databases_with_their_wal_files_into_account_one() {
        let path = tmp("move");
        let data = legacy_layout(&path);
        fs::write(path.join("sandbox-world.json"), "sim").unwrap();
        let accounts = Accounts::open(&data).unwrap();
        assert_eq!(accounts.ids().unwrap(), vec![1]);
        let moved = contents(&accounts.root().join("1"));
        let expected = [("roster.db", "r"), ("roster.db-wal", "rw"), ("session.db", "s"), ("session.db-wal", "sw")];
        assert_eq!(moved, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
        assert!(!path.join("session.db").exists() && !path.join("roster.db").exists());
        assert!(path.join("sandbox-world.json").exists(), "the simulator's file is not an account's");
        // Opening again changes nothing.
        let again = Accounts::open(&data).unwrap();
        assert_eq!(again.ids().unwrap(), vec![1]);
        assert_eq!(contents(&again.root().join("1")).len(), 4);
        fs::remove_dir_all(path).unwrap();
    }

    #[test]
    fn an_interrupted_migration_resumes_and_loses_nothing() {
        let path = tmp("resume");
        let data = legacy_layout(&path);
        // As if the process died after moving two of the four files.
        let staging = path.join("accounts").join(STAGING);
        fs::create_dir_all(&staging).unwrap();
        fs::rename(path.join("session.db"), staging.join("session.db")).unwrap();
        fs::rename(path.join("roster.db-wal"), staging.join("roster.db-wal")).unwrap();
        let accounts = Accounts::open(&data).unwrap();
        assert_eq!(accounts.ids().unwrap(), vec![1], "the staging folder is not an account until complete");
        assert_eq!(contents(&accounts.root().join("1")).len(), 4);
        assert!(!staging.exists());
        fs::remove_dir_all(path).unwrap();
    }

    #[test]
    fn a_fresh_data_directory_has_no_account() {
        let path = tmp("fresh");
        let data = DataDir::open(&path).unwrap();
        let accounts = Accounts::open(&data).unwrap();
        assert!(accounts.ids().unwrap().is_empty());
        fs::remove_dir_all(path).unwrap();
    }
}
