//! Small helpers to read and build binary nodes the way the server does.

use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, Node, NodeContent, Server};

/// The server's own address, `s.whatsapp.net`: a JID with no user part.
/// It goes on the wire as a JID token (JID_PAIR with an empty user), as
/// the real server sends it, never as a plain string.
pub fn server_jid() -> Jid {
    Jid::new("", Server::Pn)
}

pub fn attr(node: &Node, key: &str) -> Option<String> {
    node.attrs.get(key).map(|v| v.as_str().into_owned())
}

pub fn child<'a>(node: &'a Node, tag: &str) -> Option<&'a Node> {
    node.get_optional_child(tag)
}

pub fn children<'a>(node: &'a Node, tag: &'a str) -> impl Iterator<Item = &'a Node> {
    node.get_children_by_tag(tag)
}

/// A JID's user part without its device: `123:4@lid` → `123`. A bare
/// number comes back as it is.
pub fn jid_user(jid: &str) -> &str {
    jid.split('@').next().unwrap_or_default().split(':').next().unwrap_or_default()
}

pub fn bytes(node: &Node) -> Option<&[u8]> {
    match &node.content {
        Some(NodeContent::Bytes(b)) => Some(b),
        _ => None,
    }
}

pub fn text(node: &Node) -> Option<String> {
    match &node.content {
        Some(NodeContent::String(s)) => Some(s.to_string()),
        Some(NodeContent::Bytes(b)) => String::from_utf8(b.clone()).ok(),
        _ => None,
    }
}

/// `<iq type="result" from="s.whatsapp.net" id=…>children</iq>`
pub fn iq_result(iq: &Node, children: Vec<Node>) -> Node {
    let mut b = NodeBuilder::new("iq")
        .attr("type", "result")
        .attr("from", server_jid())
        .attr("id", attr(iq, "id").unwrap_or_default());
    if !children.is_empty() {
        b = b.children(children);
    }
    b.build()
}

/// `<iq type="error" …><error code text/></iq>`
pub fn iq_error(iq: &Node, code: u16, text: &str) -> Node {
    iq_error_backoff(iq, code, text, None)
}

/// An error reply that tells the client how many seconds to wait (`backoff`).
pub fn iq_error_backoff(iq: &Node, code: u16, text: &str, backoff: Option<u32>) -> Node {
    let mut error = NodeBuilder::new("error").attr("code", code.to_string()).attr("text", text);
    if let Some(secs) = backoff {
        error = error.attr("backoff", secs.to_string());
    }
    NodeBuilder::new("iq")
        .attr("type", "error")
        .attr("from", server_jid())
        .attr("id", attr(iq, "id").unwrap_or_default())
        .children([error.build()])
        .build()
}

/// `<tag><error code text/></tag>`: one part of a reply that failed.
pub fn error_child(tag: &'static str, code: u16, text: &str) -> Node {
    NodeBuilder::new(tag)
        .children([NodeBuilder::new("error").attr("code", code.to_string()).attr("text", text).build()])
        .build()
}

/// `<notification type from id t>children</notification>`. `id` comes
/// from the server's counter (`Shared::next_id`), so no two pushes share
/// one, even within a second.
pub fn notification(kind: &str, from: Jid, id: u64, children: Vec<Node>) -> Node {
    NodeBuilder::new("notification")
        .attr("type", kind.to_owned())
        .attr("from", from)
        .attr("id", format!("n-{id}"))
        .attr("t", unix_now().to_string())
        .children(children)
        .build()
}

pub fn stream_error(code: &str, conflict: Option<&str>) -> Node {
    let mut b = NodeBuilder::new("stream:error");
    if !code.is_empty() {
        b = b.attr("code", code);
    }
    if let Some(kind) = conflict {
        b = b.children([NodeBuilder::new("conflict").attr("type", kind).build()]);
    }
    b.build()
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
