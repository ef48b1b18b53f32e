//! Property and fuzz tests of the simulator's parsers of what a client
//! sends: the connection header and length-prefixed frames
//! ([`FrameReader`]), the AES-GCM transport ([`Transport::open`]) and the
//! binary nodes inside (`wacore_binary`'s `unpack` + `unmarshal_ref`).
//!
//! Each target gets `ROSTER_FUZZ_CASES` inputs (default 1 000 000) from a
//! deterministic generator seeded by `ROSTER_FUZZ_SEED`: valid streams,
//! frames and nodes, then the same flipped, cut short, extended, split at
//! random points, and pure noise. Every call runs under `catch_unwind`; a
//! panic or a broken property fails the test with the input and the seed.
//! Each test prints one summary line (`-- --nocapture` shows it).

use std::borrow::Cow;
use std::fmt::Debug;

use bytes::BytesMut;
use rand::Rng;
use roster_sim::frame::{FrameError, FrameReader, Transport, frame};
use wacore_binary::consts::WA_CONN_HEADER;
use wacore_binary::marshal::{marshal, marshal_ref, unmarshal_ref};
use wacore_binary::util::unpack;
use wacore_binary::{Attrs, Jid, Node, NodeContent, NodeValue, Server};
use wacore_noise::NoiseCipher;

use roster_fuzz::{Fuzz, cases};

fn frame_error(e: &FrameError) -> &'static str {
    match e {
        FrameError::BadHeader => "BadHeader",
        FrameError::TooLarge => "TooLarge",
        FrameError::Decrypt => "Decrypt",
        FrameError::Node(_) => "Node",
    }
}

/// An error message for the logs says something. (wacore-binary's quote
/// the bytes they choked on, line breaks and all.)
fn check_message(fz: &Fuzz, input: &[u8], message: &str) {
    if message.trim().is_empty() {
        fz.fail(input, format!("unclear error message {message:?}"));
    }
}

// ---------------------------------------------------------------------------
// Byte mutations.

/// Flips, overwrites, cuts, extends, inserts or duplicates bytes; sometimes
/// writes the tokens that start lists, binaries and JIDs where they do harm.
fn mutate(fz: &mut Fuzz, bytes: &mut Vec<u8>) {
    for _ in 0..1 + fz.below(3) {
        let at = fz.below(bytes.len() + 1);
        match fz.below(9) {
            0 if at < bytes.len() => bytes[at] ^= 1 << fz.below(8),
            1 if at < bytes.len() => bytes[at] = fz.byte(),
            2 => bytes.truncate(at),
            3 => {
                let n = fz.below(16);
                fz.bytes(bytes, n);
            }
            4 => {
                let b = fz.byte();
                bytes.insert(at, b);
            }
            5 if at < bytes.len() => {
                let end = (at + 1 + fz.below(8)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            6 if at < bytes.len() => {
                // LIST_EMPTY, DICTIONARY_0..3, AD_JID, LIST_8, LIST_16, JID_PAIR,
                // HEX_8, BINARY_8, BINARY_20, BINARY_32, NIBBLE_8, and friends.
                bytes[at] = fz.pick(&[0, 236, 237, 238, 239, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255]);
            }
            7 if at < bytes.len() => bytes[at] = fz.pick(&[0x00, 0xff, 0x7f, 0x80]),
            _ => {
                if let Some(first) = bytes.first_mut() {
                    // The flag byte: compressed or not.
                    *first = fz.pick(&[0, 2, 1, 3, 0xff]);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Target 1: the connection header and frames.

#[test]
fn frame_reader() {
    let mut fz = Fuzz::new("frame::FrameReader");
    let total = cases();
    let (mut frames_out, mut preintros) = (0u64, 0u64);
    let mut wire = Vec::new();
    let mut payloads: Vec<Vec<u8>> = Vec::new();
    for case in 0..total {
        fz.case = case;
        wire.clear();
        payloads.clear();
        let kind = fz.below(10);
        if kind == 0 {
            // Noise, or something else speaking first.
            let n = fz.below(80);
            fz.bytes(&mut wire, n);
            if fz.one_in(3) {
                let starts: [&[u8]; 5] = [b"GET / HTTP/1.1\r\n", b"ED", b"WA", b"WA\x06", b"ED\x00\x01"];
                wire.splice(0..0, fz.pick(&starts).iter().copied());
            }
        } else {
            if fz.one_in(4) {
                preintros += 1;
                let n = fz.below(24);
                wire.extend_from_slice(b"ED\x00\x01");
                wire.extend_from_slice(&[0, 0, n as u8]);
                fz.bytes(&mut wire, n);
            }
            wire.extend_from_slice(&WA_CONN_HEADER);
            for _ in 0..fz.below(5) {
                let len = match fz.below(40) {
                    0 => 256 + fz.below(70_000),
                    1 => 0,
                    _ => fz.below(64),
                };
                let mut payload = Vec::with_capacity(len);
                fz.bytes(&mut payload, len);
                let framed = fz.call(&payload, || frame(&payload)).unwrap_or_else(|e| fz.fail(&payload, e));
                wire.extend_from_slice(&framed);
                payloads.push(payload);
            }
        }
        let mutated = kind == 0 || fz.one_in(3);
        if kind != 0 && mutated {
            mutate(&mut fz, &mut wire);
        }

        // Fed in pieces, as WebSocket messages split it.
        let mut reader = FrameReader::default();
        let mut out: Vec<BytesMut> = Vec::new();
        let mut refused = None;
        let mut rest = wire.as_slice();
        loop {
            let cut = match rest.len() {
                0 => 0,
                n if fz.one_in(3) => n,
                n => 1 + fz.below(n),
            };
            let (chunk, after) = rest.split_at(cut);
            rest = after;
            let fed = fz.call(&wire, || reader.feed(chunk));
            match (fed, refused.is_some()) {
                (Ok(()), true) => fz.fail(&wire, "took more bytes after refusing the header"),
                (Ok(()), false) => {}
                (Err(e), _) => {
                    if !matches!(e, FrameError::BadHeader) {
                        fz.fail(&wire, format!("feed failed with {e:?}"));
                    }
                    check_message(&fz, &wire, &e.to_string());
                    refused = Some(e);
                }
            }
            while let Some(f) = fz.call(&wire, || reader.next_frame()) {
                if refused.is_some() {
                    fz.fail(&wire, "a frame out of a refused connection");
                }
                out.push(f);
            }
            if rest.is_empty() {
                break;
            }
        }
        frames_out += out.len() as u64;
        match &refused {
            Some(e) => fz.reject(frame_error(e)),
            None => fz.accepted += 1,
        }
        if !mutated {
            let got: Vec<&[u8]> = out.iter().map(|f| &f[..]).collect();
            let sent: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
            if refused.is_some() || got != sent {
                fz.fail(&wire, format!("{} frames sent, {} read back; refused: {refused:?}", sent.len(), got.len()));
            }
        }
    }
    // A frame too large for the 3-byte length is refused when sent.
    let huge = vec![0u8; 1 << 24];
    if !matches!(fz.call("16 MiB", || frame(&huge)), Err(FrameError::TooLarge)) {
        fz.fail("16 MiB", "a 16 MiB frame was not refused as too large");
    }
    fz.summary(total, "streams", &format!("; {frames_out} frames read, {preintros} with an ED pre-intro"));
}

// ---------------------------------------------------------------------------
// Nodes: valid ones from a generator, compared in the form the wire keeps.

const TAGS: &[&str] = &[
    "iq",
    "message",
    "receipt",
    "notification",
    "presence",
    "ib",
    "success",
    "failure",
    "stream:error",
    "usync",
    "user",
    "list",
    "item",
    "query",
    "picture",
    "status",
    "blocklist",
    "contact",
    "devices",
    "participant",
    "x",
    "custom-tag",
    "Ünïcode",
];
const KEYS: &[&str] =
    &["id", "type", "to", "from", "xmlns", "t", "jid", "action", "reason", "code", "participant", "lid", "x-custom"];
const VALUES: &[&str] = &[
    "get",
    "set",
    "result",
    "error",
    "block",
    "unblock",
    "w:g2",
    "usync",
    "",
    "0",
    "1700000000",
    "12-34.5",
    "ABCDEF0123",
    "abcdef",
    "5511999999999@s.whatsapp.net",
    "5511999999999:3@s.whatsapp.net",
    "123456789012345@lid",
    "123456789012345:12@lid",
    "120363000000000001@g.us",
    "status@broadcast",
    "s.whatsapp.net",
    "1@newsletter",
    "Olá, mundo",
    "emoji 😀",
];

/// Text for attribute values and string content. Free text never holds an
/// `@`: wacore-binary writes any short string with one as a JID, and one
/// whose server it does not know (`"a @ b"`) then fails to decode.
fn text(fz: &mut Fuzz) -> String {
    match fz.below(8) {
        0..=2 => fz.pick(VALUES).to_owned(),
        3 => (0..1 + fz.below(40)).map(|_| char::from(b'0' + fz.below(10) as u8)).collect(),
        4 => (0..1 + fz.below(40)).map(|_| char::from(fz.pick(b"0123456789ABCDEF"))).collect(),
        5 => (0..fz.below(60)).map(|_| char::from(b' ' + fz.below(95) as u8)).filter(|c| *c != '@').collect(),
        6 => (0..fz.below(12)).map(|_| fz.pick(&['é', 'ß', '😀', 'ж', '\0', '\u{202e}', 'a', ' ', ':', '.'])).collect(),
        _ => "x".repeat(128 + fz.below(300)),
    }
}

fn value(fz: &mut Fuzz) -> NodeValue {
    match fz.below(6) {
        0 => {
            let user: String = (0..7 + fz.below(9)).map(|_| char::from(b'0' + fz.below(10) as u8)).collect();
            let server = fz.pick(&[Server::Pn, Server::Lid, Server::Group, Server::Broadcast, Server::Newsletter]);
            let device =
                if matches!(server, Server::Pn | Server::Lid) && fz.one_in(2) { fz.below(100) as u16 } else { 0 };
            NodeValue::Jid(Jid { user: user.into(), server, agent: 0, device, integrator: 0 })
        }
        _ => NodeValue::String(text(fz).into()),
    }
}

fn node(fz: &mut Fuzz, depth: usize) -> Node {
    let tag: Cow<'static, str> = if fz.one_in(8) {
        Cow::Owned((0..1 + fz.below(12)).map(|_| char::from(b'a' + fz.below(26) as u8)).collect())
    } else {
        Cow::Borrowed(fz.pick(TAGS))
    };
    let mut attrs = Attrs::new();
    for _ in 0..fz.below(5) {
        let key = fz.pick(KEYS);
        if !attrs.contains_key(key) {
            attrs.insert(key, value(fz));
        }
    }
    let content = match fz.below(8) {
        0 | 1 => None,
        2 | 3 => {
            let len = match fz.below(50) {
                0 => 256 + fz.below(2_000),
                1 if fz.one_in(200) => (1 << 20) + fz.below(100),
                _ => fz.below(100),
            };
            let mut bytes = Vec::with_capacity(len);
            fz.bytes(&mut bytes, len);
            Some(NodeContent::Bytes(bytes))
        }
        4 => Some(NodeContent::String(text(fz).into())),
        _ if depth < 3 => Some(NodeContent::Nodes((0..fz.below(4)).map(|_| node(fz, depth + 1)).collect())),
        _ => None,
    };
    Node::new(tag, attrs, content)
}

/// A node as the wire keeps it: attribute values as text (a JID string
/// and a JID read the same), content as bytes whether sent as a string or
/// not, no children the same as no content.
#[derive(Debug, PartialEq)]
struct Canon {
    tag: String,
    attrs: Vec<(String, String)>,
    content: Option<CanonContent>,
}

#[derive(Debug, PartialEq)]
enum CanonContent {
    Bytes(Vec<u8>),
    Nodes(Vec<Canon>),
}

fn canon(node: &Node) -> Canon {
    Canon {
        tag: node.tag.to_string(),
        attrs: node.attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        content: match &node.content {
            None => None,
            Some(NodeContent::Nodes(children)) if children.is_empty() => None,
            Some(NodeContent::Nodes(children)) => Some(CanonContent::Nodes(children.iter().map(canon).collect())),
            Some(NodeContent::Bytes(b)) => Some(CanonContent::Bytes(b.clone())),
            Some(NodeContent::String(s)) => Some(CanonContent::Bytes(s.as_bytes().to_vec())),
        },
    }
}

/// A zlib stream of stored (uncompressed) blocks: what the compressed flag
/// promises, without a compressor.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut chunks = data.chunks(0xffff).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// A valid marshalled node, sometimes behind the compressed flag.
fn marshalled(fz: &mut Fuzz, node: &Node) -> Vec<u8> {
    let plain = fz.call(&canon(node), || marshal(node)).unwrap_or_else(|e| fz.fail(&canon(node), format!("{e}")));
    if fz.one_in(6) {
        let mut packed = vec![2];
        packed.extend(zlib_stored(&plain[1..]));
        packed
    } else {
        plain
    }
}

// ---------------------------------------------------------------------------
// Target 2: node decoding.

#[test]
fn node_decoding() {
    let mut fz = Fuzz::new("wacore_binary::unmarshal");
    let total = cases();
    let (mut round_trips, mut reencoded, mut at_lossy) = (0u64, 0u64, 0u64);
    for case in 0..total {
        fz.case = case;
        let original = node(&mut fz, 0);
        let mut bytes = marshalled(&mut fz, &original);
        let valid = fz.below(4) == 0;
        if !valid {
            if fz.one_in(20) {
                bytes.clear();
                let n = fz.below(64);
                fz.bytes(&mut bytes, n);
            } else {
                mutate(&mut fz, &mut bytes);
            }
        }
        let decoded = fz.call(&bytes, || {
            let body = unpack(&bytes)?;
            let node = unmarshal_ref(&body)?;
            // What decodes must encode again.
            let again = marshal_ref(&node)?;
            Ok::<_, wacore_binary::BinaryError>((node.to_owned(), again))
        });
        match decoded {
            Ok((node, again)) => {
                fz.accepted += 1;
                if valid {
                    round_trips += 1;
                    if canon(&node) != canon(&original) {
                        fz.fail(&bytes, format!("sent {:?}\n  read {:?}", canon(&original), canon(&node)));
                    }
                }
                // Re-encoded, it reads as the same node (but for wacore-binary
                // writing any string with an `@` as a JID; see `text`).
                let back = fz.call(&again, || unmarshal_ref(&again[1..]).map(|n| n.to_owned()));
                match back {
                    Ok(back) if canon(&back) == canon(&node) => reencoded += 1,
                    _ if has_at(&canon(&node)) => at_lossy += 1,
                    other => fz.fail(&bytes, format!("read {:?}, re-encoded reads {other:?}", canon(&node))),
                }
            }
            Err(e) => {
                if valid {
                    fz.fail(&bytes, format!("a valid node does not decode: {e}\n  node: {:?}", canon(&original)));
                }
                fz.reject(binary_error(&e));
                check_message(&fz, &bytes, &e.to_string());
            }
        }
    }
    let extra = format!(
        "; {round_trips} valid nodes round-tripped, {reencoded} decoded ones re-encoded \
         ({at_lossy} more hold a string with an @, which wacore-binary re-encodes as a JID)"
    );
    fz.summary(total, "nodes", &extra);
}

/// Whether a text in the node holds an `@`.
fn has_at(node: &Canon) -> bool {
    node.tag.contains('@')
        || node.attrs.iter().any(|(k, v)| k.contains('@') || v.contains('@'))
        || match &node.content {
            Some(CanonContent::Nodes(children)) => children.iter().any(has_at),
            Some(CanonContent::Bytes(bytes)) => bytes.contains(&b'@'),
            None => false,
        }
}

fn binary_error(e: &wacore_binary::BinaryError) -> &'static str {
    use wacore_binary::BinaryError::*;
    match e {
        Io(_) => "Io",
        InvalidToken(_) => "InvalidToken",
        InvalidNode => "InvalidNode",
        NonStringKey => "NonStringKey",
        AttrParse(_) => "AttrParse",
        MissingAttr(_) => "MissingAttr",
        InvalidUtf8(_) => "InvalidUtf8",
        Zlib(_) => "Zlib",
        Jid(_) => "Jid",
        UnexpectedEof => "UnexpectedEof",
        EmptyData => "EmptyData",
        LeftoverData(_) => "LeftoverData",
        AttrList(_) => "AttrList",
        MaxDepthExceeded => "MaxDepthExceeded",
        PlanMismatch => "PlanMismatch",
    }
}

// ---------------------------------------------------------------------------
// Target 3: the transport, both ways.

#[test]
fn transport_open() {
    let mut fz = Fuzz::new("frame::Transport::open");
    let total = cases();
    let key = |fz: &mut Fuzz| {
        let mut k = [0u8; 32];
        fz.rng.fill_bytes(&mut k);
        k
    };
    let (to_server, to_client, stranger) = (key(&mut fz), key(&mut fz), key(&mut fz));
    let cipher = |k: &[u8; 32]| NoiseCipher::new(k).expect("a 32-byte key");
    let mut server = Transport::new(cipher(&to_client), cipher(&to_server));
    let (client_write, client_read, wrong) = (cipher(&to_server), cipher(&to_client), cipher(&stranger));
    let (mut sent, mut received) = (0u32, 0u32);
    let mut seals = 0u64;
    for case in 0..total {
        fz.case = case;
        let original = node(&mut fz, 0);

        // Now and then the server speaks: the client reads what it sealed.
        if fz.one_in(8) {
            seals += 1;
            let framed = fz.call(&canon(&original), || server.seal(&original)).unwrap_or_else(|e| fz.fail("seal", e));
            let mut sealed = framed[3..].to_vec();
            if client_read.decrypt_in_place_with_counter(received, &mut sealed).is_err() {
                fz.fail(&framed, "the client cannot decrypt what the server sealed");
            }
            received += 1;
            let node = unpack(&sealed).and_then(|b| unmarshal_ref(&b).map(|n| n.to_owned()));
            if node.as_ref().map(canon).ok() != Some(canon(&original)) {
                fz.fail(&framed, format!("sealed {:?}, read {node:?}", canon(&original)));
            }
        }

        let mut plain = marshalled(&mut fz, &original);
        // 0: valid; 1: valid frame of a broken node; 2: broken ciphertext;
        // 3: another counter; 4: another key; 5: noise.
        let kind = match fz.below(16) {
            0..=5 => 0,
            6..=10 => 1,
            11 | 12 => 2,
            13 => 3,
            14 => 4,
            _ => 5,
        };
        if kind == 1 {
            mutate(&mut fz, &mut plain);
        }
        let counter = if kind == 3 { sent.wrapping_add(1 + fz.below(3) as u32) } else { sent };
        let writer = if kind == 4 { &wrong } else { &client_write };
        let mut sealed = writer.encrypt_with_counter(counter, &plain).expect("encrypts");
        if kind == 2 {
            let before = sealed.clone();
            mutate(&mut fz, &mut sealed);
            if sealed == before {
                sealed.push(0);
            }
        }
        if kind == 5 {
            sealed.clear();
            let max = if fz.one_in(4) { 17 } else { 200 };
            let n = fz.below(max);
            fz.bytes(&mut sealed, n);
        }
        let input = sealed.clone();
        let opened = fz.call(&input, || server.open(BytesMut::from(&sealed[..])));
        match (&opened, kind) {
            (Ok(node), 0) => {
                fz.accepted += 1;
                sent += 1;
                if canon(node) != canon(&original) {
                    fz.fail(&input, format!("sent {:?}\n  opened {:?}", canon(&original), canon(node)));
                }
            }
            (Ok(_), 1) => {
                // A mutation can leave a node that still decodes.
                fz.accepted += 1;
                sent += 1;
            }
            (Err(e @ FrameError::Node(message)), 1) => {
                fz.reject("Node");
                sent += 1;
                check_message(&fz, &input, message);
                check_message(&fz, &input, &e.to_string());
            }
            (Err(FrameError::Decrypt), 2..=5) => {
                fz.reject("Decrypt");
                check_message(&fz, &input, &FrameError::Decrypt.to_string());
            }
            (other, kind) => fz.fail(&input, format!("case kind {kind} opened as {other:?}")),
        }
    }
    fz.summary(total, "frames", &format!("; {seals} sealed by the server and read back"));
}
