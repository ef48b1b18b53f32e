//! The strict client's connection: a real WebSocket carrying the
//! `WA\x06\x03` header, 3-byte length-prefixed frames, the Noise XX
//! handshake as the initiator, then AES-GCM sealed binary nodes.

use anyhow::{Context, anyhow, bail};
use buffa::{Message as _, MessageField};
use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use wacore_binary::Node;
use wacore_binary::consts::{NOISE_PATTERN_XX, WA_CONN_HEADER};
use wacore_binary::marshal::{marshal, unmarshal_ref};
use wacore_libsignal::protocol::KeyPair;
use wacore_noise::framing::{FrameDecoder, encode_frame};
use wacore_noise::{NoiseCipher, NoiseHandshake};
use waproto::whatsapp::{HandshakeMessage, handshake_message};

use super::{cert, unix_now, within};

pub struct StrictConn {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    frames: FrameDecoder,
    /// Set once the handshake completed.
    transport: Option<Transport>,
}

struct Transport {
    write: NoiseCipher,
    read: NoiseCipher,
    sent: u32,
    received: u32,
}

impl StrictConn {
    pub async fn connect(url: &str) -> anyhow::Result<StrictConn> {
        let (ws, _) = within("the WebSocket upgrade", tokio_tungstenite::connect_async(url))
            .await?
            .with_context(|| format!("cannot open a WebSocket to {url}"))?;
        Ok(StrictConn { ws, frames: FrameDecoder::new(), transport: None })
    }

    /// Noise XX as the initiator, `noise_key` being our static key and
    /// `payload` the serialized `ClientPayload` of the last message. The
    /// server's certificate chain must lead from `root` to its static key.
    pub async fn handshake(&mut self, noise_key: &KeyPair, payload: &[u8], root: &[u8; 32]) -> anyhow::Result<()> {
        let ephemeral = KeyPair::generate(&mut rand::make_rng::<rand::rngs::StdRng>());
        let mut noise = NoiseHandshake::new(NOISE_PATTERN_XX, &WA_CONN_HEADER)?;
        noise.authenticate(ephemeral.public_key.public_key_bytes());
        let hello = HandshakeMessage {
            client_hello: MessageField::some(handshake_message::ClientHello {
                ephemeral: Some(ephemeral.public_key.public_key_bytes().to_vec()),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.send_frame(&hello.encode_to_vec(), Some(&WA_CONN_HEADER)).await?;

        let reply = self.next_frame().await?.context("the server closed before its ServerHello")?;
        let hello = HandshakeMessage::decode_from_slice(&reply)
            .context("the server's first frame is not a HandshakeMessage")?
            .server_hello
            .into_option()
            .context("the server's first frame has no ServerHello")?;
        let (Some(server_ephemeral), Some(encrypted_static), Some(encrypted_chain)) =
            (hello.ephemeral, hello.r#static, hello.payload)
        else {
            bail!("the ServerHello lacks its ephemeral key, static key or certificate chain (XX needs all three)");
        };
        let server_ephemeral: [u8; 32] =
            server_ephemeral.try_into().map_err(|_| anyhow!("the server's ephemeral key is not 32 bytes long"))?;
        noise.authenticate(&server_ephemeral);
        noise.mix_shared_secret(ephemeral.private_key.serialize(), &server_ephemeral)?;
        let server_static: [u8; 32] = noise
            .decrypt(&encrypted_static)
            .context("the server's static key does not decrypt")?
            .try_into()
            .map_err(|_| anyhow!("the server's static key is not 32 bytes long"))?;
        noise.mix_shared_secret(ephemeral.private_key.serialize(), &server_static)?;
        let chain = noise.decrypt(&encrypted_chain).context("the certificate chain does not decrypt")?;
        cert::verify_chain(&chain, root, &server_static, unix_now())
            .context("the server's certificate chain does not vouch for it")?;

        let encrypted_static = noise.encrypt(noise_key.public_key.public_key_bytes())?;
        noise.mix_shared_secret(noise_key.private_key.serialize(), &server_ephemeral)?;
        let encrypted_payload = noise.encrypt(payload)?;
        let finish = HandshakeMessage {
            client_finish: MessageField::some(handshake_message::ClientFinish {
                r#static: Some(encrypted_static),
                payload: Some(encrypted_payload),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.send_frame(&finish.encode_to_vec(), None).await?;
        let (write, read) = noise.finish()?;
        self.transport = Some(Transport { write, read, sent: 0, received: 0 });
        Ok(())
    }

    /// The next node from the server; `None` once it closed the WebSocket.
    pub async fn read_node(&mut self) -> anyhow::Result<Option<Node>> {
        let Some(mut frame) = self.next_frame().await? else { return Ok(None) };
        let transport = self.transport.as_mut().context("no node can come before the handshake")?;
        transport
            .read
            .decrypt_in_place_with_counter(transport.received, &mut frame)
            .map_err(|e| anyhow!("frame {} from the server does not decrypt: {e}", transport.received))?;
        transport.received += 1;
        let body = wacore_binary::util::unpack(&frame).context("a frame's flag byte or compression is wrong")?;
        let node = unmarshal_ref(&body).context("a frame from the server is not a binary node")?;
        Ok(Some(node.to_owned()))
    }

    pub async fn send_node(&mut self, node: &Node) -> anyhow::Result<()> {
        let transport = self.transport.as_mut().context("no node can go before the handshake")?;
        let plain = marshal(node).with_context(|| format!("cannot encode <{}>", node.tag))?;
        let sealed = transport
            .write
            .encrypt_with_counter(transport.sent, &plain)
            .map_err(|e| anyhow!("cannot encrypt a frame: {e}"))?;
        transport.sent += 1;
        self.send_frame(&sealed, None).await
    }

    async fn send_frame(&mut self, payload: &[u8], header: Option<&[u8]>) -> anyhow::Result<()> {
        let bytes = encode_frame(payload, header)?;
        within("the WebSocket to take a frame", self.ws.send(Message::Binary(bytes.into())))
            .await?
            .context("cannot send a frame")
    }

    /// The next frame, however the server split or joined its messages;
    /// `None` once it closed the WebSocket.
    async fn next_frame(&mut self) -> anyhow::Result<Option<BytesMut>> {
        loop {
            if let Some(frame) = self.frames.decode_frame() {
                return Ok(Some(frame));
            }
            match within("a frame from the server", self.ws.next()).await? {
                Some(Ok(Message::Binary(data))) => self.frames.feed(&data),
                Some(Ok(Message::Close(_))) | None => return Ok(None),
                Some(Err(tungstenite::Error::ConnectionClosed)) => return Ok(None),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e).context("the WebSocket failed"),
            }
        }
    }
}
