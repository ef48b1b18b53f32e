//! One chat connection's life: the Noise handshake, the server's opening
//! (`pair-device` or `<success>`), then client stanzas in and pushes (from
//! the phone, the admin API and injected faults) out, until either side
//! closes.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::WebSocket;
use tokio::sync::mpsc;
use tracing::{Instrument, debug, info, info_span};
use wacore_binary::builder::NodeBuilder;

use crate::connection::Connection;
use crate::faults::ConnectionFault;
use crate::handlers::{self, Ctx, Outcome};
use crate::nodes::stream_error;
use crate::shared::Shared;
use crate::state::{ConnId, Push};

/// Serves one upgraded chat WebSocket until it closes.
pub async fn serve(shared: Arc<Shared>, socket: WebSocket) {
    let id = shared.next_id();
    shared.counters.connections_opened.add();
    async move {
        let mut conn = Connection::new(socket);
        match run(&shared, id, &mut conn).await {
            Ok(()) => debug!("connection closed"),
            Err(e) => info!("connection ended: {e}"),
        }
        shared.forget_connection(id);
        conn.close().await;
    }
    .instrument(info_span!("conn", id))
    .await
}

/// Whether the connection goes on after something was sent.
#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Close,
}

async fn run(shared: &Arc<Shared>, id: ConnId, conn: &mut Connection) -> anyhow::Result<()> {
    let hello = conn.handshake(&shared.server).await.inspect_err(|_| {
        // E.g. a client that refused the server's certificate chain.
        shared.counters.handshakes_failed.add();
    })?;
    // The opening registers the sender with the connection's account (a
    // login) or the lobby (a registering companion).
    let (push_tx, mut pushes) = mpsc::unbounded_channel();
    let mut ctx = Ctx { shared: shared.clone(), conn: id, pushes: push_tx, account: None, device: None };
    let opening = handlers::session::open(&mut ctx, &hello.payload, &hello.client_static).await;
    if send_all(conn, opening).await? == Flow::Close {
        return Ok(());
    }

    // While set, the server reads frames (to keep the cipher counters in
    // step) but answers and pushes nothing, as a stalled server does.
    let mut silent_until: Option<Instant> = None;
    loop {
        let silent = silent_until.is_some_and(|t| Instant::now() < t);
        tokio::select! {
            node = conn.read_node() => {
                let Some(mut node) = node? else { return Ok(()) };
                // Frames that came in one message are handled before any push.
                loop {
                    if silent {
                        debug!(tag = %node.tag, "silent: ignoring a stanza");
                    } else if send_all(conn, handlers::handle(&mut ctx, node).await).await? == Flow::Close {
                        return Ok(());
                    }
                    match conn.buffered_node()? {
                        Some(next) => node = next,
                        None => break,
                    }
                }
            }
            pushed = pushes.recv() => {
                let outcome = match pushed {
                    None => return Ok(()),
                    Some(Push::Fault(fault)) => {
                        info!(?fault, "injecting a connection fault");
                        match inject(conn, fault).await? {
                            Injected::Close => return Ok(()),
                            Injected::Silence(until) => silent_until = Some(until),
                            Injected::Sent => {}
                        }
                        continue;
                    }
                    Some(_) if silent => continue,
                    Some(Push::Node(node)) => Outcome::Send(node),
                    Some(Push::Close(node)) => Outcome::Close(node),
                };
                if send_all(conn, vec![outcome]).await? == Flow::Close {
                    return Ok(());
                }
            }
        }
    }
}

enum Injected {
    Sent,
    Close,
    Silence(Instant),
}

/// Carries out one connection fault on this connection.
async fn inject(conn: &mut Connection, fault: ConnectionFault) -> anyhow::Result<Injected> {
    let last = match fault {
        ConnectionFault::Drop => return Ok(Injected::Close),
        ConnectionFault::Silence(length) => return Ok(Injected::Silence(Instant::now() + length)),
        ConnectionFault::Malformed => {
            conn.write_malformed().await?;
            return Ok(Injected::Sent);
        }
        ConnectionFault::Truncated => {
            conn.write_truncated().await?;
            return Ok(Injected::Sent);
        }
        ConnectionFault::Restart => stream_error("515", None),
        ConnectionFault::LoggedOut => stream_error("401", None),
        ConnectionFault::Replaced => stream_error("", Some("replaced")),
        ConnectionFault::StreamEnd => NodeBuilder::new("xmlstreamend").build(),
    };
    conn.write_node(&last).await?;
    Ok(Injected::Close)
}

/// Sends what the handlers produced, stopping at a close.
async fn send_all(conn: &mut Connection, outcomes: Vec<Outcome>) -> anyhow::Result<Flow> {
    for outcome in outcomes {
        match outcome {
            Outcome::Send(node) => conn.write_node(&node).await?,
            Outcome::Close(last) => {
                if let Some(node) = last {
                    conn.write_node(&node).await?;
                }
                return Ok(Flow::Close);
            }
        }
    }
    Ok(Flow::Continue)
}
