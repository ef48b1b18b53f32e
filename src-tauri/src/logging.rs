//! Logs go to the terminal (stderr) and to a daily file in the data
//! directory's `logs/`. `RUST_LOG` sets the filter; the default is `info`.

use std::path::Path;

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt;
use tracing_subscriber::prelude::*;

/// Days of log files kept in `logs/`.
const KEEP_DAYS: usize = 14;

pub fn init(log_dir: &Path) {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let terminal = fmt::layer().with_writer(std::io::stderr).with_filter(filter());

    // The appender prunes old files as it starts; give it a directory to read.
    let _ = std::fs::create_dir_all(log_dir);
    // A plain (blocking) file writer: nothing is lost when the app exits, and
    // at the default level the app writes a few lines a minute.
    let file = match RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("roster")
        .filename_suffix("log")
        .max_log_files(KEEP_DAYS)
        .build(log_dir)
    {
        Ok(appender) => Some(fmt::layer().with_ansi(false).with_writer(appender).with_filter(filter())),
        Err(e) => {
            eprintln!("roster: cannot write logs to {}: {e}; logging to the terminal only", log_dir.display());
            None
        }
    };

    tracing_subscriber::registry().with(terminal).with(file).init();
}
