//! One client connection: Noise handshake, then the node loop that feeds
//! handlers and relays pushes from the phone and the admin API.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use bytes::BytesMut;
use tokio::sync::mpsc;
use tracing::{Instrument, debug, info, info_span, warn};
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

use crate::faults::ConnectionFault;
use crate::frame::{FrameReader, Transport, frame};
use crate::handlers::{self, Ctx, Outcome};
use crate::nodes::stream_error;
use crate::noise::{self, ClientHello, Established};
use crate::state::{Push, Shared};

pub async fn serve(shared: Arc<Shared>, socket: WebSocket) {
    let conn = shared.next_id();
    shared.counters.connections_opened.add();
    let span = info_span!("conn", id = conn);
    async move {
        let mut socket = socket;
        match run(&shared, conn, &mut socket).await {
            Ok(()) => debug!("connection closed"),
            Err(e) => info!("connection ended: {e}"),
        }
        shared.world().forget_connection(conn);
        let _ = socket.send(Message::Close(None)).await;
    }
    .instrument(span)
    .await
}

async fn next_frame(socket: &mut WebSocket, reader: &mut FrameReader) -> anyhow::Result<BytesMut> {
    loop {
        if let Some(f) = reader.next_frame() {
            return Ok(f);
        }
        match socket.recv().await {
            Some(Ok(Message::Binary(data))) => reader.feed(&data)?,
            Some(Ok(Message::Close(_))) | None => anyhow::bail!("client closed during handshake"),
            Some(Ok(_)) => {}
            Some(Err(e)) => anyhow::bail!("websocket error: {e}"),
        }
    }
}

async fn handshake(shared: &Shared, socket: &mut WebSocket, reader: &mut FrameReader) -> anyhow::Result<Established> {
    let mut rng: rand::rngs::StdRng = rand::make_rng();
    let hello = noise::parse_client_hello(&next_frame(socket, reader).await?)?;
    let (ephemeral, fallback) = match hello {
        ClientHello::Ik { ephemeral, encrypted_static, encrypted_payload } => {
            match noise::ik_accept(&shared.server, &ephemeral, &encrypted_static, &encrypted_payload, &mut rng) {
                Ok((established, server_hello)) => {
                    socket.send(Message::Binary(frame(&server_hello)?.into())).await?;
                    debug!("IK handshake");
                    return Ok(established);
                }
                Err(e) => {
                    info!("IK refused ({e}); falling back to XX");
                    (ephemeral, true)
                }
            }
        }
        ClientHello::Xx { ephemeral } => (ephemeral, false),
    };
    let (responder, server_hello) = noise::xx_server_hello(&shared.server, &ephemeral, fallback, &mut rng)?;
    socket.send(Message::Binary(frame(&server_hello)?.into())).await?;
    let established = responder.finish(&next_frame(socket, reader).await?)?;
    debug!(fallback, "XX handshake");
    Ok(established)
}

async fn run(shared: &Arc<Shared>, conn: u64, socket: &mut WebSocket) -> anyhow::Result<()> {
    let mut reader = FrameReader::default();
    let established = handshake(shared, socket, &mut reader).await.inspect_err(|_| {
        // E.g. a client that refused the server's certificate chain.
        shared.counters.handshakes_failed.add();
    })?;
    let mut transport = Transport::new(established.write, established.read);
    let (push_tx, mut push_rx) = mpsc::unbounded_channel();
    shared.world().connections.insert(conn, push_tx);

    let mut ctx = Ctx { shared: shared.clone(), conn, device: None };
    let opening = handlers::session::open(&mut ctx, &established.payload, &established.client_static).await;
    if send_all(socket, &mut transport, opening).await? {
        return Ok(());
    }

    // While set, the server reads frames (to keep the cipher counters in
    // step) but answers and pushes nothing, as a stalled server does.
    let mut silent_until: Option<Instant> = None;
    loop {
        let silent = silent_until.is_some_and(|t| Instant::now() < t);
        tokio::select! {
            incoming = socket.recv() => {
                let data = match incoming {
                    Some(Ok(Message::Binary(data))) => data,
                    Some(Ok(Message::Close(_))) | None => return Ok(()),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => anyhow::bail!("websocket error: {e}"),
                };
                reader.feed(&data)?;
                while let Some(sealed) = reader.next_frame() {
                    let node = transport.open(sealed)?;
                    if silent {
                        debug!(tag = %node.tag, "silent: ignoring a stanza");
                        continue;
                    }
                    let outcomes = handlers::handle(&mut ctx, node).await;
                    if send_all(socket, &mut transport, outcomes).await? {
                        return Ok(());
                    }
                }
            }
            pushed = push_rx.recv() => {
                let outcome = match pushed {
                    None => return Ok(()),
                    Some(Push::Fault(fault)) => {
                        info!(?fault, "injecting a connection fault");
                        match inject(socket, &mut transport, fault).await? {
                            Injected::Close => return Ok(()),
                            Injected::Silence(length) => silent_until = Some(Instant::now() + length),
                            Injected::Sent => {}
                        }
                        continue;
                    }
                    Some(_) if silent => continue,
                    Some(Push::Node(node)) => Outcome::Send(node),
                    Some(Push::Close(node)) => Outcome::Close(node),
                };
                if send_all(socket, &mut transport, vec![outcome]).await? {
                    return Ok(());
                }
            }
        }
    }
}

enum Injected {
    Sent,
    Close,
    Silence(Duration),
}

/// Carries out one connection fault on this socket.
async fn inject(socket: &mut WebSocket, transport: &mut Transport, fault: ConnectionFault) -> anyhow::Result<Injected> {
    let last = match fault {
        ConnectionFault::Drop => return Ok(Injected::Close),
        ConnectionFault::Silence(length) => return Ok(Injected::Silence(length)),
        ConnectionFault::Malformed => {
            // Encrypted correctly, so the stream stays in step; not a node inside.
            let bytes = transport.seal_raw(b"\x00\xff not a binary node \xfe")?;
            socket.send(Message::Binary(bytes.into())).await?;
            return Ok(Injected::Sent);
        }
        ConnectionFault::Truncated => {
            let bytes = transport.seal_truncated(&NodeBuilder::new("ib").build())?;
            socket.send(Message::Binary(bytes.into())).await?;
            return Ok(Injected::Sent);
        }
        ConnectionFault::Restart => stream_error("515", None),
        ConnectionFault::LoggedOut => stream_error("401", None),
        ConnectionFault::Replaced => stream_error("", Some("replaced")),
        ConnectionFault::StreamEnd => NodeBuilder::new("xmlstreamend").build(),
    };
    send(socket, transport, &last).await?;
    Ok(Injected::Close)
}

/// Sends what the handlers produced; true when the connection must close.
async fn send_all(socket: &mut WebSocket, transport: &mut Transport, outcomes: Vec<Outcome>) -> anyhow::Result<bool> {
    for outcome in outcomes {
        match outcome {
            Outcome::Send(node) => send(socket, transport, &node).await?,
            Outcome::Close(last) => {
                if let Some(node) = last {
                    send(socket, transport, &node).await?;
                }
                return Ok(true);
            }
        }
    }
    Ok(false)
}

async fn send(socket: &mut WebSocket, transport: &mut Transport, node: &Node) -> anyhow::Result<()> {
    if tracing::enabled!(tracing::Level::TRACE) {
        tracing::trace!(?node, "→ client");
    }
    let bytes = transport.seal(node).map_err(|e| {
        warn!("cannot encode {}: {e}", node.tag);
        e
    })?;
    socket.send(Message::Binary(bytes.into())).await?;
    Ok(())
}
