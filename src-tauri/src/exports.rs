//! Where an export goes. By default the operator chooses, in the system's
//! Save dialog, opened and written by Rust (the webview gets no file-system
//! or dialog permission); with `--export-dir DIR` (scripts and tests) files
//! go straight into DIR under readable names, never over an existing file.
//! Either way, never inside Roster's private data directory. "Show in
//! folder" opens the system's file manager on a file exported in this run,
//! and on nothing else.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tauri::AppHandle;
use tauri_plugin_dialog::DialogExt;

use crate::error::FileError;

/// How exports are placed.
#[derive(Debug, Clone)]
pub enum Placement {
    /// The Save dialog, opened in `start` (the Downloads folder).
    Ask { start: PathBuf },
    /// Straight into this folder (`--export-dir`).
    Folder(PathBuf),
}

/// The file name an export is offered under: `roster-check-12-2026-11-29.csv`.
pub fn file_name(name: &str, n: usize) -> String {
    let date = &roster_core::clock::iso_time(roster_core::clock::unix_now())[..10];
    if n <= 1 { format!("{name}-{date}.csv") } else { format!("{name}-{date}-{n}.csv") }
}

/// Saves `csv` as the export `name`; the path written, or `None` when the
/// operator cancelled the dialog.
pub async fn save(
    app: &AppHandle,
    placement: &Placement,
    private: &Path,
    name: &str,
    csv: String,
) -> Result<Option<PathBuf>, FileError> {
    let path = match placement {
        Placement::Folder(dir) => return into_folder(dir, name, &csv).map(Some),
        Placement::Ask { start } => {
            let dialog = app
                .dialog()
                .file()
                .set_title("Save the export")
                .set_directory(start)
                .set_file_name(file_name(name, 1))
                .add_filter("CSV (spreadsheets)", &["csv"]);
            let chosen = tokio::task::spawn_blocking(move || dialog.blocking_save_file())
                .await
                .map_err(|e| FileError(format!("the Save dialog failed: {e}")))?;
            let Some(chosen) = chosen else { return Ok(None) };
            chosen.into_path().map_err(|e| FileError(format!("that is not a file on this computer: {e}")))?
        }
    };
    if path.starts_with(private) {
        return Err(FileError(format!(
            "{} is inside Roster's private data folder; choose another folder",
            path.display()
        )));
    }
    write_file(&path, &csv, false).map_err(|e| cannot_write(&path, e))?;
    Ok(Some(path))
}

/// The files exported in this run: the only ones "Show in folder" opens.
#[derive(Debug, Default)]
pub struct Exported(Mutex<Vec<PathBuf>>);

impl Exported {
    pub fn remember(&self, path: &Path) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(path.to_path_buf());
    }

    /// Opens the folder holding `path` in the system's file manager
    /// (`xdg-open` on Linux, the file selected on macOS and Windows).
    pub fn show_in_folder(&self, path: &str) -> Result<(), FileError> {
        let path = Path::new(path);
        if !self.0.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|p| p == path) {
            return Err(FileError("Roster only opens the folder of a file it exported since it started".into()));
        }
        let folder = path.parent().ok_or_else(|| FileError(format!("{} has no folder", path.display())))?;
        let mut command = if cfg!(target_os = "macos") {
            let mut c = std::process::Command::new("open");
            c.arg("-R").arg(path);
            c
        } else if cfg!(windows) {
            let mut c = std::process::Command::new("explorer");
            c.arg(format!("/select,{}", path.display()));
            c
        } else {
            let mut c = std::process::Command::new("xdg-open");
            c.arg(folder);
            c
        };
        let mut child = command.stdin(std::process::Stdio::null()).spawn().map_err(|e| {
            FileError(format!("cannot open {}: no file manager could be started ({e})", folder.display()))
        })?;
        tracing::info!(folder = %folder.display(), "showing an export in its folder");
        // Reaped in the background: the file manager may outlive the call.
        std::thread::spawn(move || child.wait());
        Ok(())
    }
}

/// `<name>-<date>.csv` in `dir`, then `-2`, `-3`… beside an earlier one.
fn into_folder(dir: &Path, name: &str, csv: &str) -> Result<PathBuf, FileError> {
    std::fs::create_dir_all(dir).map_err(|e| FileError(format!("cannot create {}: {e}", dir.display())))?;
    for n in 1..1000 {
        let path = dir.join(file_name(name, n));
        match write_file(&path, csv, true) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(cannot_write(&path, e)),
            Ok(()) => return Ok(path),
        }
    }
    Err(FileError(format!("{} holds too many exports named {name}", dir.display())))
}

/// Writes and syncs the file; `new_only` refuses an existing one (the
/// dialog itself asks before replacing a file).
fn write_file(path: &Path, csv: &str, new_only: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if new_only {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    let mut file = options.open(path)?;
    file.write_all(csv.as_bytes())?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "exported");
    Ok(())
}

fn cannot_write(path: &Path, e: std::io::Error) -> FileError {
    FileError(format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_gets_readable_names_and_keeps_earlier_files() {
        let dir = std::env::temp_dir().join(format!("roster-exports-{}", std::process::id()));
        let first = into_folder(&dir, "roster-check-3", "a").unwrap();
        let second = into_folder(&dir, "roster-check-3", "b").unwrap();
        assert_eq!(first.file_name().unwrap().to_str().unwrap(), file_name("roster-check-3", 1));
        assert_eq!(second.file_name().unwrap().to_str().unwrap(), file_name("roster-check-3", 2));
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "a", "the earlier file is kept");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
