//! One Roster per data directory. The first process holds the directory's
//! lock (`DataDir::open_locked`) and listens on a Unix socket beside it
//! (`roster.sock`, owner only). A second start on the same directory finds
//! the lock taken, asks the running process over that socket to bring its
//! window to the front, and exits without opening anything else; when the
//! running one cannot be reached, it exits naming the process.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a second start sends, and what the running process answers.
const SHOW: &str = "show";
const SHOWN: &str = "shown";
/// How long a second start waits for the running process's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("roster.sock")
}

/// In the process holding the lock: answers later starts by calling `show`
/// (which brings the window to the front). The socket file is replaced:
/// holding the lock, any earlier one is stale.
#[cfg(unix)]
pub fn serve(data_dir: &Path, show: impl Fn() + Send + 'static) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::net::UnixListener;

    let path = socket_path(data_dir);
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    std::thread::Builder::new().name("roster-instance".into()).spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(ANSWER_TIMEOUT));
            let mut line = String::new();
            let mut reader = BufReader::new(&stream);
            if reader.read_line(&mut line).is_ok() && line.trim() == SHOW {
                tracing::info!("another start on this data directory: window brought to the front");
                show();
                let _ = (&stream).write_all(format!("{SHOWN}\n").as_bytes());
            }
        }
    })?;
    Ok(())
}

#[cfg(not(unix))]
pub fn serve(_data_dir: &Path, _show: impl Fn() + Send + 'static) -> std::io::Result<()> {
    Ok(())
}

/// In a second start: asks the running process to show its window; true
/// when it answered that it did.
#[cfg(unix)]
pub fn ask_to_show(data_dir: &Path) -> bool {
    use std::os::unix::net::UnixStream;

    let ask = || -> std::io::Result<bool> {
        let mut stream = UnixStream::connect(socket_path(data_dir))?;
        stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
        stream.set_write_timeout(Some(ANSWER_TIMEOUT))?;
        stream.write_all(format!("{SHOW}\n").as_bytes())?;
        let mut answer = String::new();
        BufReader::new(&stream).read_line(&mut answer)?;
        Ok(answer.trim() == SHOWN)
    };
    ask().unwrap_or(false)
}

#[cfg(not(unix))]
pub fn ask_to_show(_data_dir: &Path) -> bool {
    false
}
