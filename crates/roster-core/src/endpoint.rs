//! Which WhatsApp Web server the session talks to, and what a build may accept.
//!
//! A default build talks to WhatsApp and verifies the server's certificate
//! chain. A `sandbox` build skips that check so it can talk to the local
//! simulator, and therefore refuses every server that is not on loopback.

use std::net::IpAddr;
use thiserror::Error;
use url::{Host, Url};

/// The production WhatsApp Web endpoint.
pub const WHATSAPP_URL: &str = "wss://web.whatsapp.com/ws/chat";
/// Its host and port, for a reachability probe.
pub const WHATSAPP_HOST_PORT: (&str, u16) = ("web.whatsapp.com", 443);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EndpointError {
    #[error("'{input}' is not a server URL: {reason}")]
    Malformed { input: String, reason: String },
    #[error("unsupported server scheme '{scheme}': use ws:// or wss://")]
    UnsupportedScheme { scheme: String },
    #[error(
        "this is a sandbox build, which does not verify server certificates, so it only connects to loopback servers (127.0.0.1, ::1, localhost); '{host}' is not one"
    )]
    NotLoopback { host: String },
}

/// A validated server URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl(Url);

impl ServerUrl {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Host and port, as a TCP connection reaches them.
    pub fn host_port(&self) -> (String, u16) {
        let host = self.0.host_str().unwrap_or_default().trim_matches(['[', ']']).to_owned();
        (host, self.0.port_or_known_default().unwrap_or(443))
    }

    pub fn is_loopback(&self) -> bool {
        match self.0.host() {
            Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            None => false,
        }
    }
}

impl std::fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Why `host:port` cannot be connected to, in words, or `None` when a TCP
/// connection opens (then what failed came later: TLS, Noise, the login).
pub async fn unreachable_reason(host: &str, port: u16) -> Option<String> {
    use std::io::ErrorKind;
    let connect = tokio::net::TcpStream::connect((host, port));
    match tokio::time::timeout(std::time::Duration::from_secs(5), connect).await {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(match e.kind() {
            ErrorKind::ConnectionRefused => format!("nothing answers at {host}:{port}"),
            ErrorKind::NetworkUnreachable | ErrorKind::HostUnreachable => "no network".to_owned(),
            _ if e.to_string().contains("lookup") || e.to_string().contains("resolve") => {
                format!("{host} cannot be found (no network, or no name server)")
            }
            _ => format!("cannot reach {host}:{port} ({e})"),
        }),
        Err(_) => Some(format!("{host}:{port} does not answer")),
    }
}

/// True in builds that skip the server certificate check (the `sandbox` feature).
pub const SANDBOX_BUILD: bool = cfg!(feature = "sandbox");

/// Parses and checks a server URL for this build.
pub fn parse_server_url(input: &str) -> Result<ServerUrl, EndpointError> {
    let trimmed = input.trim();
    let url = Url::parse(trimmed)
        .map_err(|e| EndpointError::Malformed { input: trimmed.to_owned(), reason: e.to_string() })?;
    if !matches!(url.scheme(), "ws" | "wss") {
        return Err(EndpointError::UnsupportedScheme { scheme: url.scheme().to_owned() });
    }
    if url.host().is_none() {
        return Err(EndpointError::Malformed { input: trimmed.to_owned(), reason: "it has no host".into() });
    }
    let server = ServerUrl(url);
    if SANDBOX_BUILD && !server.is_loopback() {
        return Err(EndpointError::NotLoopback { host: server.0.host_str().unwrap_or_default().to_owned() });
    }
    Ok(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_loopback_ws() {
        for url in ["ws://127.0.0.1:4000/ws/chat", "ws://localhost:1/ws/chat", "ws://[::1]:9/ws/chat"] {
            let s = parse_server_url(url).unwrap();
            assert!(s.is_loopback(), "{url}");
        }
    }

    #[test]
    fn refuses_other_schemes() {
        for (url, scheme) in [("http://127.0.0.1/ws", "http"), ("ftp://x/y", "ftp"), ("file:///tmp/x", "file")] {
            assert_eq!(parse_server_url(url), Err(EndpointError::UnsupportedScheme { scheme: scheme.into() }));
        }
    }

    #[test]
    fn refuses_garbage() {
        let err = parse_server_url("not a url").unwrap_err();
        assert!(matches!(err, EndpointError::Malformed { .. }));
        assert!(err.to_string().contains("not a url"));
    }

    #[test]
    fn non_loopback_depends_on_build() {
        let result = parse_server_url("wss://web.whatsapp.com/ws/chat");
        if SANDBOX_BUILD {
            assert_eq!(result, Err(EndpointError::NotLoopback { host: "web.whatsapp.com".into() }));
            assert!(parse_server_url("ws://10.0.0.1:80/ws").is_err());
        } else {
            assert!(result.is_ok());
        }
    }
}
