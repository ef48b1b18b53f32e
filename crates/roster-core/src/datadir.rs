//! The app's data directory: session store, logs, caches. Owner-only.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use thiserror::Error;

const SESSION_DB: &str = "session.db";
/// Roster's own database: contacts, blocklist, pictures, checks, settings.
const APP_DB: &str = "roster.db";
/// Held by the one process using the directory; holds its process id.
const LOCK_FILE: &str = "roster.lock";
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

#[derive(Debug, Error)]
pub enum DataDirError {
    #[error("data directory {path} exists but is not a directory")]
    NotADirectory { path: PathBuf },
    #[error("cannot create or open data directory {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}", in_use(path, *pid))]
    InUse { path: PathBuf, pid: Option<u32> },
    #[error(
        "the session store {path} is not a readable SQLite database ({detail}); it was left untouched — move it away to link this device again"
    )]
    CorruptSessionStore { path: PathBuf, detail: String },
}

/// An opened, checked data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
}

fn in_use(path: &Path, pid: Option<u32>) -> String {
    let by = pid.map_or_else(|| "another Roster process".to_owned(), |pid| format!("Roster process {pid}"));
    format!("{} is in use by {by}; close that Roster first, or pass another --data-dir", path.display())
}

/// The data directory's lock, held for as long as this process uses the
/// directory (released when dropped, or by the system if the process dies).
/// Two processes on one directory would both connect with the same device
/// identity and write the same stores.
#[derive(Debug)]
pub struct DirLock {
    _file: fs::File,
}

impl DataDir {
    /// Creates the directory if needed (mode 0700), and checks that an
    /// existing session store is a SQLite database. Never deletes anything.
    pub fn open(path: impl Into<PathBuf>) -> Result<DataDir, DataDirError> {
        let dir = DataDir::create(path.into())?;
        dir.check_session_store()?;
        Ok(dir)
    }

    /// [`DataDir::open`] for the one process that will use the directory:
    /// takes its lock before reading anything in it. If another process
    /// holds the lock, `InUse` names it and nothing else is touched.
    pub fn open_locked(path: impl Into<PathBuf>) -> Result<(DataDir, DirLock), DataDirError> {
        let dir = DataDir::create(path.into())?;
        let fresh = !dir.lock_file().exists();
        let lock = dir.lock()?;
        if let Err(e) = dir.check_session_store() {
            // Refused: the directory is left as it was found.
            drop(lock);
            if fresh {
                let _ = fs::remove_file(dir.lock_file());
            }
            return Err(e);
        }
        Ok((dir, lock))
    }

    fn create(path: PathBuf) -> Result<DataDir, DataDirError> {
        if path.exists() && !path.is_dir() {
            return Err(DataDirError::NotADirectory { path });
        }
        let io = |source| DataDirError::Io { path: path.clone(), source };
        fs::create_dir_all(&path).map_err(io)?;
        restrict_to_owner(&path, 0o700).map_err(io)?;
        Ok(DataDir { path })
    }

    /// The lock file (its content: the holder's process id).
    pub fn lock_file(&self) -> PathBuf {
        self.path.join(LOCK_FILE)
    }

    fn lock(&self) -> Result<DirLock, DataDirError> {
        use std::io::{Read, Seek, Write};
        let path = self.lock_file();
        let io = |source| DataDirError::Io { path: path.clone(), source };
        let mut file =
            fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        restrict_to_owner(&path, 0o600).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(DataDirError::InUse { path: self.path.clone(), pid: holder.trim().parse().ok() });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(DirLock { _file: file })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn log_dir(&self) -> PathBuf {
        self.path.join("logs")
    }

    /// The whatsapp-rust device store (keys, sessions).
    pub fn session_db(&self) -> PathBuf {
        self.path.join(SESSION_DB)
    }

    /// Roster's own database: contacts, blocklist.
    pub fn app_db(&self) -> PathBuf {
        self.path.join(APP_DB)
    }

    /// Files that make up both databases (with their WAL files): what an
    /// account's folder holds.
    pub(crate) fn database_files(&self) -> Vec<PathBuf> {
        self.db_files(SESSION_DB).into_iter().chain(self.db_files(APP_DB)).collect()
    }

    /// Files that make up the session store (the database and its WAL files).
    pub(crate) fn session_db_files(&self) -> Vec<PathBuf> {
        self.db_files(SESSION_DB)
    }

    fn db_files(&self, name: &str) -> Vec<PathBuf> {
        ["", "-wal", "-shm", "-journal"].iter().map(|suffix| self.path.join(format!("{name}{suffix}"))).collect()
    }

    fn check_session_store(&self) -> Result<(), DataDirError> {
        let db = self.session_db();
        if !db.exists() {
            return Ok(());
        }
        let corrupt = |detail: String| DataDirError::CorruptSessionStore { path: db.clone(), detail };
        let mut header = [0u8; 16];
        let mut file = fs::File::open(&db).map_err(|e| corrupt(e.to_string()))?;
        let read = file.read(&mut header).map_err(|e| corrupt(e.to_string()))?;
        if read == 0 {
            // An empty file is what SQLite itself creates before the first write.
            return Ok(());
        }
        if read < header.len() || &header != SQLITE_MAGIC {
            return Err(corrupt("it does not start with a SQLite header".into()));
        }
        let conn = rusqlite::Connection::open_with_flags(
            &db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| corrupt(e.to_string()))?;
        let verdict: String =
            conn.query_row("PRAGMA quick_check", [], |row| row.get(0)).map_err(|e| corrupt(e.to_string()))?;
        if verdict != "ok" {
            return Err(corrupt(verdict));
        }
        Ok(())
    }

    /// Makes both databases' files owner-only: the session store holds the
    /// device keys, roster.db the contacts and every check made.
    pub(crate) fn restrict_databases(&self) -> std::io::Result<()> {
        for file in self.database_files() {
            if file.exists() {
                restrict_to_owner(&file, 0o600)?;
            }
        }
        Ok(())
    }
}

#[cfg(unix)]
pub(crate) fn restrict_to_owner(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
pub(crate) fn restrict_to_owner(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("roster-datadir-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn creates_owner_only_directory() {
        let path = tmp("create");
        let dir = DataDir::open(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
        fs::remove_dir_all(path).unwrap();
    }

    #[test]
    fn one_process_at_a_time_holds_the_directory() {
        let path = tmp("lock");
        let (dir, lock) = DataDir::open_locked(&path).unwrap();
        assert_eq!(fs::read_to_string(dir.lock_file()).unwrap().trim(), std::process::id().to_string());
        // A second holder (another open file, as another process would have) is refused, told who holds it.
        let err = DataDir::open_locked(&path).unwrap_err();
        assert!(matches!(err, DataDirError::InUse { pid: Some(p), .. } if p == std::process::id()), "{err}");
        assert!(err.to_string().contains(&format!("Roster process {}", std::process::id())), "{err}");
        drop(lock);
        let (_dir, _lock) = DataDir::open_locked(&path).expect("free again once released");
        fs::remove_dir_all(path).unwrap();
    }

    #[test]
    fn refuses_a_file_and_keeps_it() {
        let path = tmp("file");
        fs::write(&path, b"hello").unwrap();
        let err = DataDir::open(&path).unwrap_err();
        assert!(matches!(err, DataDirError::NotADirectory { .. }), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"hello");
        fs::remove_file(path).unwrap();
    }

    #[test]
    fn refuses_corrupt_session_store_and_keeps_it() {
        let path = tmp("corrupt");
        fs::create_dir_all(&path).unwrap();
        let db = path.join(SESSION_DB);
        fs::write(&db, b"this is definitely not sqlite, just some junk bytes").unwrap();
        let err = DataDir::open(&path).unwrap_err();
        assert!(matches!(err, DataDirError::CorruptSessionStore { .. }), "{err}");
        assert!(err.to_string().contains("left untouched"));
        assert_eq!(fs::read(&db).unwrap(), b"this is definitely not sqlite, just some junk bytes");
        fs::remove_dir_all(path).unwrap();
    }
}
