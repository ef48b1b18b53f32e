//! Framing and transport encryption on the WebSocket: the connection header,
//! 3-byte length-prefixed frames, and AES-GCM sealed binary nodes.

use bytes::BytesMut;
use thiserror::Error;
use wacore_binary::consts::WA_CONN_HEADER;
use wacore_binary::{Node, marshal::marshal, marshal::unmarshal_ref};
use wacore_noise::NoiseCipher;
use wacore_noise::framing::{FrameDecoder, encode_frame};

#[derive(Debug, Error)]
pub enum FrameError {
    #[error("the connection did not start with the WhatsApp header")]
    BadHeader,
    #[error("frame too large to send")]
    TooLarge,
    #[error("frame does not decrypt")]
    Decrypt,
    #[error("frame is not a binary node: {0}")]
    Node(String),
}

/// Splits the client's byte stream into frames; the first bytes carry the
/// `WA\x06\x03` header (optionally behind an `ED` edge-routing preintro).
pub struct FrameReader {
    decoder: FrameDecoder,
    pending_header: Option<Vec<u8>>,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader { decoder: FrameDecoder::new(), pending_header: Some(Vec::new()) }
    }
}

impl FrameReader {
    pub fn feed(&mut self, data: &[u8]) -> Result<(), FrameError> {
        let Some(mut head) = self.pending_header.take() else {
            self.decoder.feed(data);
            return Ok(());
        };
        head.extend_from_slice(data);
        let start = if head.starts_with(b"ED") {
            if head.len() < 7 {
                self.pending_header = Some(head);
                return Ok(());
            }
            let len = ((head[4] as usize) << 16) | ((head[5] as usize) << 8) | head[6] as usize;
            7 + len
        } else {
            0
        };
        if head.len() < start + WA_CONN_HEADER.len() {
            self.pending_header = Some(head);
            return Ok(());
        }
        if head[start..start + 4] != WA_CONN_HEADER {
            // Refused for good: nothing after a wrong header is read as frames.
            head.truncate(start + 4);
            self.pending_header = Some(head);
            return Err(FrameError::BadHeader);
        }
        self.decoder.feed(&head[start + 4..]);
        Ok(())
    }

    pub fn next_frame(&mut self) -> Option<BytesMut> {
        self.decoder.decode_frame()
    }
}

pub fn frame(payload: &[u8]) -> Result<Vec<u8>, FrameError> {
    encode_frame(payload, None).map_err(|_| FrameError::TooLarge)
}

/// The post-handshake cipher pair, from the server's side.
pub struct Transport {
    write: NoiseCipher,
    read: NoiseCipher,
    write_counter: u32,
    read_counter: u32,
}

impl Transport {
    pub fn new(write: NoiseCipher, read: NoiseCipher) -> Self {
        Transport { write, read, write_counter: 0, read_counter: 0 }
    }

    /// Marshals, encrypts and frames a node.
    pub fn seal(&mut self, node: &Node) -> Result<Vec<u8>, FrameError> {
        let plain = marshal(node).map_err(|e| FrameError::Node(e.to_string()))?;
        self.seal_raw(&plain)
    }

    /// Encrypts and frames raw plaintext (used to inject malformed frames).
    pub fn seal_raw(&mut self, plain: &[u8]) -> Result<Vec<u8>, FrameError> {
        let sealed = self.write.encrypt_with_counter(self.write_counter, plain).map_err(|_| FrameError::Decrypt)?;
        self.write_counter = self.write_counter.wrapping_add(1);
        frame(&sealed)
    }

    /// Seals a node, then cuts the ciphertext short: the frame cannot be
    /// decrypted, but the counters stay in step.
    pub fn seal_truncated(&mut self, node: &Node) -> Result<Vec<u8>, FrameError> {
        let plain = marshal(node).map_err(|e| FrameError::Node(e.to_string()))?;
        let mut sealed =
            self.write.encrypt_with_counter(self.write_counter, &plain).map_err(|_| FrameError::Decrypt)?;
        self.write_counter = self.write_counter.wrapping_add(1);
        sealed.truncate(sealed.len() / 2);
        frame(&sealed)
    }

    /// Decrypts one frame and decodes the node in it.
    pub fn open(&mut self, mut sealed: BytesMut) -> Result<Node, FrameError> {
        self.read.decrypt_in_place_with_counter(self.read_counter, &mut sealed).map_err(|_| FrameError::Decrypt)?;
        self.read_counter = self.read_counter.wrapping_add(1);
        let body = wacore_binary::util::unpack(&sealed).map_err(|e| FrameError::Node(e.to_string()))?;
        let node = unmarshal_ref(&body).map_err(|e| FrameError::Node(e.to_string()))?;
        Ok(node.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_frames_split_across_messages() {
        let mut reader = FrameReader::default();
        let mut wire = WA_CONN_HEADER.to_vec();
        wire.extend(frame(b"hello").unwrap());
        wire.extend(frame(b"world!").unwrap());
        let (a, b) = wire.split_at(3);
        reader.feed(a).unwrap();
        assert!(reader.next_frame().is_none());
        reader.feed(b).unwrap();
        assert_eq!(&reader.next_frame().unwrap()[..], b"hello");
        assert_eq!(&reader.next_frame().unwrap()[..], b"world!");
        assert!(reader.next_frame().is_none());
    }

    #[test]
    fn wrong_header_is_refused() {
        let mut reader = FrameReader::default();
        assert!(matches!(reader.feed(b"GET / HTTP/1.1"), Err(FrameError::BadHeader)));
    }

    /// Found by `tests/fuzz_frames.rs`: after refusing the header, the next
    /// bytes fed went straight to the frame decoder.
    #[test]
    fn a_refused_stream_stays_refused() {
        let mut reader = FrameReader::default();
        assert!(matches!(reader.feed(b"WA\x06\x04"), Err(FrameError::BadHeader)));
        let mut wire = WA_CONN_HEADER.to_vec();
        wire.extend(frame(b"hello").unwrap());
        assert!(matches!(reader.feed(&wire), Err(FrameError::BadHeader)));
        assert!(reader.next_frame().is_none());
    }
}
