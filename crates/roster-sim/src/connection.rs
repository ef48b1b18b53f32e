//! [`Connection`]: one client's WebSocket, seen as binary nodes. It owns
//! the socket, the frame reader and (after the Noise handshake) the
//! transport ciphers, so the rest of the server reads and writes [`Node`]s.

use axum::extract::ws::{Message, WebSocket};
use bytes::BytesMut;
use tracing::{debug, info, warn};
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;
use waproto::whatsapp as wa;

use crate::cert::ServerIdentity;
use crate::frame::{FrameReader, Transport, frame};
use crate::noise::{self, ClientHello};

/// Who the client said it is in the handshake.
pub struct Hello {
    pub payload: wa::ClientPayload,
    pub client_static: [u8; 32],
}

pub struct Connection {
    socket: WebSocket,
    frames: FrameReader,
    /// Set once the handshake completed.
    transport: Option<Transport>,
}

impl Connection {
    pub fn new(socket: WebSocket) -> Connection {
        Connection { socket, frames: FrameReader::default(), transport: None }
    }

    /// Runs the Noise responder: IK when the client knows our static key,
    /// XXfallback when that fails, XX otherwise.
    pub async fn handshake(&mut self, server: &ServerIdentity) -> anyhow::Result<Hello> {
        let mut rng: rand::rngs::StdRng = rand::make_rng();
        let hello = noise::parse_client_hello(&self.handshake_frame().await?)?;
        let (ephemeral, fallback) = match hello {
            ClientHello::Ik { ephemeral, encrypted_static, encrypted_payload } => {
                match noise::ik_accept(server, &ephemeral, &encrypted_static, &encrypted_payload, &mut rng) {
                    Ok((established, server_hello)) => {
                        self.write_frame(frame(&server_hello)?).await?;
                        debug!("IK handshake");
                        return Ok(self.established(established));
                    }
                    Err(e) => {
                        info!("IK refused ({e}); falling back to XX");
                        (ephemeral, true)
                    }
                }
            }
            ClientHello::Xx { ephemeral } => (ephemeral, false),
        };
        let (responder, server_hello) = noise::xx_server_hello(server, &ephemeral, fallback, &mut rng)?;
        self.write_frame(frame(&server_hello)?).await?;
        let established = responder.finish(&self.handshake_frame().await?)?;
        debug!(fallback, "XX handshake");
        Ok(self.established(established))
    }

    fn established(&mut self, established: noise::Established) -> Hello {
        self.transport = Some(Transport::new(established.write, established.read));
        Hello { payload: established.payload, client_static: established.client_static }
    }

    /// The next handshake message (plain frames, before the transport).
    async fn handshake_frame(&mut self) -> anyhow::Result<BytesMut> {
        loop {
            if let Some(f) = self.frames.next_frame() {
                return Ok(f);
            }
            if !self.receive().await? {
                anyhow::bail!("client closed during handshake");
            }
        }
    }

    /// The next node from the client; `None` once it closed the socket.
    /// Cancel-safe: what was received is kept for the next call.
    pub async fn read_node(&mut self) -> anyhow::Result<Option<Node>> {
        loop {
            if let Some(node) = self.buffered_node()? {
                return Ok(Some(node));
            }
            if !self.receive().await? {
                return Ok(None);
            }
        }
    }

    /// A node already received (with the one [`read_node`](Self::read_node)
    /// returned, in the same WebSocket message), without waiting for more.
    pub fn buffered_node(&mut self) -> anyhow::Result<Option<Node>> {
        let Some(sealed) = self.frames.next_frame() else { return Ok(None) };
        Ok(Some(self.transport()?.open(sealed)?))
    }

    /// Feeds the next binary message to the frame reader; false once closed.
    async fn receive(&mut self) -> anyhow::Result<bool> {
        loop {
            match self.socket.recv().await {
                Some(Ok(Message::Binary(data))) => {
                    self.frames.feed(&data)?;
                    return Ok(true);
                }
                Some(Ok(Message::Close(_))) | None => return Ok(false),
                Some(Ok(_)) => {}
                Some(Err(e)) => anyhow::bail!("websocket error: {e}"),
            }
        }
    }

    pub async fn write_node(&mut self, node: &Node) -> anyhow::Result<()> {
        if tracing::enabled!(tracing::Level::TRACE) {
            tracing::trace!(?node, "→ client");
        }
        let bytes = self.transport()?.seal(node).map_err(|e| {
            warn!("cannot encode {}: {e}", node.tag);
            e
        })?;
        self.write_frame(bytes).await
    }

    /// A frame encrypted correctly, so the stream stays in step, with no
    /// binary node inside (a fault).
    pub async fn write_malformed(&mut self) -> anyhow::Result<()> {
        let bytes = self.transport()?.seal_raw(b"\x00\xff not a binary node \xfe")?;
        self.write_frame(bytes).await
    }

    /// A frame cut short, so it does not decrypt (a fault).
    pub async fn write_truncated(&mut self) -> anyhow::Result<()> {
        let bytes = self.transport()?.seal_truncated(&NodeBuilder::new("ib").build())?;
        self.write_frame(bytes).await
    }

    /// Says goodbye with a WebSocket close, then reads what the client still
    /// sends until it answers the close (or a short while passes). Dropping
    /// a socket with unread data makes the kernel reset it, and the client
    /// may then lose the last frame it had not read yet, such as the
    /// `<stream:error code="401">` that tells it it was logged out.
    pub async fn close(mut self) {
        let _ = self.socket.send(Message::Close(None)).await;
        let drain = async {
            while let Some(Ok(message)) = self.socket.recv().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), drain).await;
    }

    async fn write_frame(&mut self, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.socket.send(Message::Binary(bytes.into())).await?;
        Ok(())
    }

    fn transport(&mut self) -> anyhow::Result<&mut Transport> {
        self.transport.as_mut().ok_or_else(|| anyhow::anyhow!("no node before the Noise handshake"))
    }
}
