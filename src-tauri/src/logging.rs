//! Logs go to the terminal (stderr) and to a daily file in the data
//! directory's `logs/`. `RUST_LOG` sets the filter; the default is `info`
//! (`debug` with `--verbose`). Phone numbers are masked in both unless
//! `--verbose` is given (see `roster_core::redact`).

use std::io::{self, Write};
use std::path::Path;

use roster_core::redact::mask_numbers;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::{self, MakeWriter};
use tracing_subscriber::prelude::*;

/// Days of log files kept in `logs/`.
const KEEP_DAYS: usize = 14;

pub fn init(log_dir: &Path, verbose: bool) {
    let level = if verbose { "debug" } else { "info" };
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let mask = !verbose;
    let terminal = fmt::layer().with_writer(Masking { inner: io::stderr, mask }).with_filter(filter());

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
        Ok(appender) => {
            Some(fmt::layer().with_ansi(false).with_writer(Masking { inner: appender, mask }).with_filter(filter()))
        }
        Err(e) => {
            eprintln!("roster: cannot write logs to {}: {e}; logging to the terminal only", log_dir.display());
            None
        }
    };

    tracing_subscriber::registry().with(terminal).with(file).init();
}

/// A log writer that masks phone numbers in each line it is given.
struct Masking<M> {
    inner: M,
    mask: bool,
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Masking<M> {
    type Writer = MaskingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskingWriter { inner: self.inner.make_writer(), mask: self.mask }
    }
}

struct MaskingWriter<W> {
    inner: W,
    mask: bool,
}

impl<W: Write> Write for MaskingWriter<W> {
    /// The formatter hands over one whole event per call, so a number is
    /// never split between two calls.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.mask {
            return self.inner.write(buf);
        }
        let text = String::from_utf8_lossy(buf);
        self.inner.write_all(mask_numbers(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
