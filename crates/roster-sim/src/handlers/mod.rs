//! Stanza handlers: one module per IQ namespace, plus the session opening.

mod appstate;
mod blocklist;
mod encrypt;
mod groups;
pub use groups::GROUP_TIMERS;
mod keepalive;
mod md;
mod message;
mod passive;
mod picture;
mod privacy;
mod props;
mod receipt;
pub mod session;
#[cfg(test)]
mod shapes;
mod usync;

use std::sync::{Arc, MutexGuard};

use tokio::sync::mpsc;
use tracing::{debug, warn};
use wacore_binary::Node;

use crate::faults::IqAction;
use crate::lobby::AccountNo;
use crate::nodes::{attr, iq_error};
use crate::shared::Shared;
use crate::state::{ConnId, Push, World};

/// What one connection knows about itself.
pub struct Ctx {
    pub shared: Arc<Shared>,
    pub conn: ConnId,
    /// Where pushes to this connection go (registered with its account).
    pub pushes: mpsc::UnboundedSender<Push>,
    /// The account a login connection belongs to (a registering one's is
    /// the lobby's to tell, once a phone claimed it).
    pub account: Option<AccountNo>,
    /// The companion device id once logged in.
    pub device: Option<u16>,
}

impl Ctx {
    /// The account this connection belongs to, if any yet.
    pub fn account(&self) -> Option<AccountNo> {
        self.account.or_else(|| self.shared.lobby().account_of(self.conn))
    }

    /// The world of this connection's account. Only stanzas of a connection
    /// that belongs to an account reach the handlers that call this
    /// ([`needs_account`] guards the rest).
    pub fn world(&self) -> MutexGuard<'_, World> {
        let account = self.account().expect("routed only once the connection belongs to an account");
        self.shared.world_of(account)
    }
}

/// Namespaces that act on an account's world: a connection that belongs to
/// no account yet (registering, unclaimed) is refused them.
fn needs_account(xmlns: &str) -> bool {
    matches!(xmlns, "blocklist" | "encrypt" | "usync" | "w:profile:picture" | "w:g2" | "w:sync:app:state")
}

pub enum Outcome {
    Send(Node),
    /// Send the node (if any), then close the socket.
    Close(Option<Node>),
}

pub fn send(node: Node) -> Vec<Outcome> {
    vec![Outcome::Send(node)]
}

/// Routes one client stanza.
pub async fn handle(ctx: &mut Ctx, node: Node) -> Vec<Outcome> {
    match node.tag.as_ref() {
        "iq" => handle_iq(ctx, &node).await,
        "receipt" => receipt::handle(ctx, &node),
        "message" => message::handle(ctx, &node),
        // Session signals, presence and acks need no answer here.
        "ib" | "presence" | "ack" | "chatstate" => Vec::new(),
        other => {
            debug!(tag = other, "ignoring stanza");
            Vec::new()
        }
    }
}

async fn handle_iq(ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    let kind = attr(iq, "type").unwrap_or_default();
    let xmlns = attr(iq, "xmlns").unwrap_or_default();
    if kind == "result" || kind == "error" {
        // Replies to the server's own IQs (pair-device, pings) and the pairing signature.
        return md::on_client_reply(ctx, iq);
    }
    ctx.shared.counters.count_iq(&xmlns);
    match ctx.shared.faults.take(&xmlns, &kind) {
        None => route_iq(ctx, iq, &xmlns).await,
        Some(IqAction::Error { code, text }) => {
            debug!(%xmlns, code, "answering an armed fault");
            send(iq_error(iq, code, &text))
        }
        Some(IqAction::DropBefore) => {
            debug!(%xmlns, "dropping the socket before handling an IQ (armed fault)");
            vec![Outcome::Close(None)]
        }
        Some(IqAction::DropAfter) => {
            let _ = route_iq(ctx, iq, &xmlns).await;
            debug!(%xmlns, "dropping the socket after handling an IQ, reply unsent (armed fault)");
            vec![Outcome::Close(None)]
        }
        Some(IqAction::Unanswered) => {
            debug!(%xmlns, "leaving an IQ unanswered (armed fault)");
            Vec::new()
        }
        Some(IqAction::Delay { ms }) => {
            debug!(%xmlns, ms, "answering an IQ late (armed fault)");
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            route_iq(ctx, iq, &xmlns).await
        }
    }
}

async fn route_iq(ctx: &mut Ctx, iq: &Node, xmlns: &str) -> Vec<Outcome> {
    let kind = attr(iq, "type").unwrap_or_default();
    if needs_account(xmlns) && ctx.account().is_none() {
        warn!(%xmlns, "IQ on a connection that belongs to no account yet");
        return send(iq_error(iq, 401, "not-authorized"));
    }
    match xmlns {
        "md" => md::handle(ctx, iq),
        "passive" => passive::handle(iq),
        "abt" => props::handle(iq),
        "blocklist" => blocklist::handle(ctx, iq),
        "privacy" => privacy::handle(iq),
        "encrypt" => encrypt::handle(ctx, iq),
        "usync" => usync::handle(ctx, iq),
        "w:profile:picture" => picture::handle(ctx, iq),
        "w:g2" => groups::handle(ctx, iq),
        "w:sync:app:state" => appstate::handle(ctx, iq),
        "w:p" | "urn:xmpp:ping" => keepalive::handle(iq),
        _ => {
            // The real server never answers what it does not know with an
            // empty success, which would hide a client's mistake.
            warn!(%xmlns, %kind, "IQ for a namespace the simulator does not implement");
            send(iq_error(iq, 501, "feature-not-implemented"))
        }
    }
}
