//! `roster-sim --listen 127.0.0.1:PORT [--seed N] [--accounts N] [--auto-scan SECONDS]`

use std::time::Duration;

use roster_sim::{SimConfig, Simulator};

const USAGE: &str = "usage: roster-sim [--listen 127.0.0.1:PORT] [--seed N] [--accounts N] [--auto-scan SECONDS] [--state FILE] [--contacts N] [--usync-rate N/min]";

fn parse_args() -> Result<SimConfig, String> {
    let mut config = SimConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--listen" => {
                let v = value("--listen")?;
                config.listen = v.parse().map_err(|_| format!("--listen: '{v}' is not an IP:PORT address"))?;
            }
            "--seed" => {
                let v = value("--seed")?;
                config.seed = v.parse().map_err(|_| format!("--seed: '{v}' is not a whole number"))?;
            }
            "--accounts" => {
                let v = value("--accounts")?;
                config.accounts = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=64).contains(n))
                    .ok_or(format!("--accounts: '{v}' is not a whole number from 1 to 64"))?;
            }
            "--auto-scan" => {
                let v = value("--auto-scan")?;
                let secs: f64 = v.parse().map_err(|_| format!("--auto-scan: '{v}' is not a number of seconds"))?;
                if !(0.0..=3600.0).contains(&secs) {
                    return Err(format!("--auto-scan: {secs} is out of range (0 to 3600 seconds)"));
                }
                config.auto_scan = Some(Duration::from_secs_f64(secs));
            }
            "--contacts" => {
                let v = value("--contacts")?;
                config.contacts = v
                    .parse()
                    .ok()
                    .filter(|n| *n <= 200_000)
                    .ok_or(format!("--contacts: '{v}' is not a whole number up to 200000"))?;
            }
            "--usync-rate" => {
                let v = value("--usync-rate")?;
                let n = v
                    .strip_suffix("/min")
                    .unwrap_or(&v)
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(format!("--usync-rate: '{v}' is not a number of checks per minute, such as 600/min"))?;
                config.usync_limit = Some(roster_sim::limits::UsyncLimit::per_minute(n));
            }
            "--state" => config.state_path = Some(value("--state")?.into()),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument '{other}'\n{USAGE}")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match parse_args() {
        Ok(c) => c,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let sim = match Simulator::start(config).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("roster-sim: {e}");
            std::process::exit(1);
        }
    };
    println!("ws: {}", sim.ws_url());
    println!("admin: {}/admin", sim.http_url());
    for n in 1..=sim.accounts() {
        println!("account {n}: +{} (admin routes: ?account={n})", sim.account(n).phone());
    }
    println!("root public key: {}", sim.root_public_key_b64());
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
}
