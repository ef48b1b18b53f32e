//! Command line: `roster [--sandbox] [--server URL] [--data-dir DIR]`.
//!
//! Parsing is purely syntactic; [`crate::main`] decides what the values mean
//! for this build (server URL rules, sandbox availability, default paths).

use std::ffi::OsString;
use std::path::PathBuf;

pub const USAGE: &str = "\
usage: roster [--sandbox] [--server ws://127.0.0.1:PORT/ws/chat] [--data-dir DIR] [--export-dir DIR] [--verbose]

  --sandbox        run against the built-in simulated WhatsApp server and phone
                   (sandbox builds only; the phone scans the QR code by itself)
  --server URL     WhatsApp Web server to use (ws:// or wss://); a sandbox
                   build accepts loopback servers only
  --data-dir DIR   where the session and the logs live (default: the platform's
                   data directory, roster/ or roster-sandbox/ with --sandbox)
  --export-dir DIR write exports straight into DIR (default: ask with a Save dialog)
  --verbose        debug-level logs, with phone numbers in full (by default
                   logs mask all but the first and last two digits)
  -h, --help       print this help
  -V, --version    print the version";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub sandbox: bool,
    pub server: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub export_dir: Option<PathBuf>,
    pub verbose: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run(Args),
    Help,
    Version,
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut parsed = Args::default();
    let mut args = args.into_iter();
    while let Some(raw) = args.next() {
        let arg = raw.to_str().ok_or_else(|| format!("argument {raw:?} is not valid UTF-8\n\n{USAGE}"))?.to_owned();
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<OsString, String> {
            match inline.clone() {
                Some(v) => Ok(v.into()),
                None => args.next().ok_or_else(|| format!("{name} needs a value\n\n{USAGE}")),
            }
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--sandbox" if inline.is_none() => parsed.sandbox = true,
            "--verbose" if inline.is_none() => parsed.verbose = true,
            "--server" => {
                let v = value("--server")?;
                let v = v.into_string().map_err(|v| format!("--server: {v:?} is not valid UTF-8"))?;
                if parsed.server.replace(v).is_some() {
                    return Err(format!("--server given twice\n\n{USAGE}"));
                }
            }
            "--data-dir" => {
                let v = value("--data-dir")?;
                if v.is_empty() {
                    return Err(format!("--data-dir needs a directory\n\n{USAGE}"));
                }
                if parsed.data_dir.replace(PathBuf::from(v)).is_some() {
                    return Err(format!("--data-dir given twice\n\n{USAGE}"));
                }
            }
            "--export-dir" => {
                let v = value("--export-dir")?;
                if v.is_empty() {
                    return Err(format!("--export-dir needs a directory\n\n{USAGE}"));
                }
                if parsed.export_dir.replace(PathBuf::from(v)).is_some() {
                    return Err(format!("--export-dir given twice\n\n{USAGE}"));
                }
            }
            // WebKitWebDriver (GUI tests) may start the browser binary with
            // this flag; automation itself is switched on by tauri-driver's
            // TAURI_WEBVIEW_AUTOMATION environment variable.
            "--automation" if inline.is_none() => {}
            _ => return Err(format!("unknown argument '{arg}'\n\n{USAGE}")),
        }
    }
    Ok(Command::Run(parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn no_arguments() {
        assert_eq!(run(&[]), Ok(Command::Run(Args::default())));
    }

    #[test]
    fn all_arguments_both_spellings() {
        let expected = Command::Run(Args {
            sandbox: true,
            server: Some("ws://127.0.0.1:1/ws/chat".into()),
            data_dir: Some("/tmp/x".into()),
            export_dir: Some("/tmp/out".into()),
            verbose: true,
        });
        assert_eq!(
            run(&[
                "--sandbox",
                "--server",
                "ws://127.0.0.1:1/ws/chat",
                "--data-dir",
                "/tmp/x",
                "--export-dir",
                "/tmp/out",
                "--verbose"
            ]),
            Ok(expected)
        );
        let expected = Command::Run(Args {
            sandbox: false,
            server: Some("ws://127.0.0.1:1/ws/chat?a=b".into()),
            data_dir: Some("/tmp/x".into()),
            export_dir: None,
            verbose: false,
        });
        assert_eq!(run(&["--server=ws://127.0.0.1:1/ws/chat?a=b", "--data-dir=/tmp/x"]), Ok(expected));
        assert!(run(&["--export-dir", ""]).unwrap_err().contains("needs a directory"));
    }

    #[test]
    fn help_and_version() {
        assert_eq!(run(&["--help"]), Ok(Command::Help));
        assert_eq!(run(&["--sandbox", "-V"]), Ok(Command::Version));
    }

    #[test]
    fn ignores_webkit_automation_flag() {
        assert_eq!(
            run(&["--automation", "--data-dir", "d"]),
            Ok(Command::Run(Args { data_dir: Some("d".into()), ..Args::default() }))
        );
    }

    #[test]
    fn rejects_mistakes() {
        for bad in [
            &["--server"][..],
            &["--data-dir"],
            &["--data-dir="],
            &["--sandbox=yes"],
            &["--frobnicate"],
            &["extra"],
            &["--server", "a", "--server", "b"],
        ] {
            let err = run(bad).unwrap_err();
            assert!(err.contains("usage: roster"), "{bad:?}: {err}");
        }
    }
}
