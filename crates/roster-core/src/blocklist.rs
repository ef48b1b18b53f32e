//! Blocking and unblocking, and the blocklist count.
//!
//! whatsapp-rust's `block` needs the LID↔PN pair of the target; Roster looks
//! it up with a usync query when the client does not know it yet. The count
//! always comes from the server's list: the one the server answers a change
//! with (one round trip per block, as whatsmeow's `UpdateBlocklist` reads
//! it), fetched when an answer lacks it, and fetched when the phone
//! announces a change with an `account_sync` push, for which whatsapp-rust
//! 0.7 raises no event of its own.

use serde::Serialize;
use thiserror::Error;
use tokio::sync::watch;
use tracing::{debug, info, warn};
use wacore::iq::blocklist::{BlocklistEntry, GetBlocklistSpec, UpdateBlocklistSpec};
use wacore::iq::spec::IqSpec;
use whatsapp_rust::prelude::*;
use whatsapp_rust::request::{InfoQuery, IqError};
use whatsapp_rust::wacore_binary::NodeRef;
use whatsapp_rust::{BlockingError, ContactError};

use crate::numbers::{Target, TargetError};
use crate::snapshot::{BlockedEntry, SessionSnapshot};
use crate::store::{Exchange, Store, StoreError};

#[derive(Debug, Error)]
pub enum BlockError {
    #[error("not connected to WhatsApp; the action will be possible once the connection is back")]
    NotConnected,
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("{0} is not on WhatsApp")]
    NotOnWhatsApp(String),
    #[error("WhatsApp did not answer in time; the change may not have been made — try again")]
    Timeout,
    #[error("WhatsApp refused the change ({code}: {text})")]
    Refused { code: u16, text: String },
    #[error("the request to WhatsApp failed: {0}")]
    Failed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<IqError> for BlockError {
    fn from(e: IqError) -> Self {
        match e {
            IqError::Timeout => BlockError::Timeout,
            IqError::NotConnected | IqError::InternalChannelClosed | IqError::Disconnected(_) => {
                BlockError::NotConnected
            }
            IqError::ServerError { code, text, .. } => BlockError::Refused { code, text },
            other => BlockError::Failed(other.to_string()),
        }
    }
}

impl From<BlockingError> for BlockError {
    fn from(e: BlockingError) -> Self {
        match e {
            BlockingError::Iq(iq) => iq.into(),
            other => BlockError::Failed(other.to_string()),
        }
    }
}

/// The result of a block or unblock, as the server left it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct BlockOutcome {
    /// E.164 digits, when known.
    pub phone: Option<String>,
    /// The number as the window shows it (`numbers::shown`).
    pub phone_shown: Option<String>,
    pub lid: String,
    pub blocked: bool,
    /// How many users the account has blocked now.
    pub count: usize,
}

/// The LID and phone of a target, asking the server when the client does not know them.
pub(crate) async fn resolve(
    client: &Client,
    store: &Store,
    target: &Target,
) -> Result<(String, Option<String>), BlockError> {
    let jid = match target {
        Target::Phone(digits) => Jid::pn(digits.as_str()),
        Target::Lid(lid) => Jid::lid(lid.as_str()),
    };
    if let Some(entry) = client.get_lid_pn_entry(&jid).await.map_err(|e| BlockError::Failed(e.to_string()))? {
        return Ok((entry.lid.to_string(), Some(entry.phone_number.to_string())));
    }
    debug!("no LID↔PN mapping yet; asking the server");
    let results = client.contacts().is_on_whatsapp(std::slice::from_ref(&jid)).await.map_err(|e| match e {
        ContactError::Iq(iq) => BlockError::from(iq),
        other => BlockError::Failed(other.to_string()),
    })?;
    let shown = match target {
        Target::Phone(d) => format!("+{d}"),
        Target::Lid(l) => format!("{l}@lid"),
    };
    let found = results.into_iter().find(|r| r.is_registered).ok_or(BlockError::NotOnWhatsApp(shown.clone()))?;
    let (lid, phone) = match target {
        Target::Phone(d) => (found.lid.map(|l| l.user.to_string()), Some(d.to_string())),
        Target::Lid(l) => (Some(l.clone()), found.pn_jid.map(|p| p.user.to_string())),
    };
    let lid = lid.ok_or(BlockError::NotOnWhatsApp(shown))?;
    if let Some(phone) = &phone {
        store.directory().remember_identity(phone, &lid)?;
    }
    Ok((lid, phone))
}

pub(crate) async fn set_blocked(
    client: &Client,
    store: &Store,
    target: &Target,
    block: bool,
) -> Result<BlockOutcome, BlockError> {
    let (lid, phone) = resolve(client, store, target).await?;
    let exchange = store.blocklist().exchange().await;
    let count = match send(client, &lid, phone.as_deref(), block).await? {
        Some(list) => save(client, &exchange, list).await?,
        None => {
            drop(exchange);
            refresh(client, store).await?
        }
    };
    info!(block, count, "blocklist updated");
    Ok(BlockOutcome { phone_shown: phone.as_deref().map(crate::numbers::shown), phone, lid, blocked: block, count })
}

/// Blocks or unblocks without saving a list (bulk actions fetch it once at
/// the end); returns the LID and number. Both are idempotent on the server,
/// so a retry after an unknown outcome is safe.
pub(crate) async fn change(
    client: &Client,
    store: &Store,
    target: &Target,
    block: bool,
) -> Result<(String, Option<String>), BlockError> {
    let (lid, phone) = resolve(client, store, target).await?;
    send(client, &lid, phone.as_deref(), block).await?;
    Ok((lid, phone))
}

/// Sends one block or unblock; returns the blocklist the server answered
/// with, when its answer carried one.
async fn send(
    client: &Client,
    lid: &str,
    phone: Option<&str>,
    block: bool,
) -> Result<Option<Vec<BlocklistEntry>>, BlockError> {
    let lid_jid = Jid::lid(lid);
    let spec = match (block, phone) {
        (true, Some(phone)) => UpdateBlocklistSpec::block_with_pn(&lid_jid, &Jid::pn(phone)),
        (false, _) => UpdateBlocklistSpec::unblock(&lid_jid),
        // No number to send with the block: whatsapp-rust's own path says why.
        (true, None) => {
            client.blocking().block(&lid_jid).await?;
            return Ok(None);
        }
    };
    Ok(client.execute(ChangeAndList(spec)).await?)
}

/// Fetches the server's blocklist and stores it; returns the count saved.
pub(crate) async fn refresh(client: &Client, store: &Store) -> Result<usize, BlockError> {
    let exchange = store.blocklist().exchange().await;
    let list = client.blocking().get_blocklist().await?;
    save(client, &exchange, list).await
}

/// Stores a list the server sent in `exchange`, with each LID's number
/// where the client knows it.
async fn save(client: &Client, exchange: &Exchange<'_>, list: Vec<BlocklistEntry>) -> Result<usize, BlockError> {
    let mut entries = Vec::with_capacity(list.len());
    for item in list {
        let (lid, phone) = if item.jid.is_lid() {
            let phone = client.get_lid_pn_entry(&item.jid).await.ok().flatten().map(|e| e.phone_number.to_string());
            (item.jid.user.to_string(), phone)
        } else {
            let lid = client.get_lid_pn_entry(&item.jid).await.ok().flatten().map(|e| e.lid.to_string());
            (lid.unwrap_or_else(|| item.jid.user.to_string()), Some(item.jid.user.to_string()))
        };
        entries.push(BlockedEntry { lid, phone, blocked_at: item.timestamp });
    }
    Ok(exchange.replace(&entries)?)
}

/// A block or unblock that reads the blocklist the server answers with
/// (`None` when the answer carries no `<list>`; the caller then fetches it).
struct ChangeAndList(UpdateBlocklistSpec);

impl IqSpec for ChangeAndList {
    type Response = Option<Vec<BlocklistEntry>>;

    fn build_iq(&self) -> InfoQuery<'static> {
        self.0.build_iq()
    }

    fn parse_response(&self, response: &NodeRef<'_>) -> anyhow::Result<Self::Response> {
        if response.get_optional_child("list").is_none() {
            return Ok(None);
        }
        GetBlocklistSpec.parse_response(response).map(Some)
    }
}

/// Shows the saved blocklist's count in the header, and reloads the list
/// (rows show their blocked state). The count is read inside the snapshot's
/// write, so a publisher that comes late never puts back an older count.
pub(crate) fn publish_count(state: &watch::Sender<SessionSnapshot>, store: &Store) {
    state.send_modify(|s| {
        match store.blocklist().count() {
            Ok(count) => s.blocked_count = Some(count),
            Err(e) => warn!("cannot read the saved blocklist: {e}"),
        }
        s.directory_version += 1;
    });
}

/// Whether a raw stanza is the server's note that the blocklist changed elsewhere.
pub(crate) fn is_blocklist_push(node: &whatsapp_rust::wacore_binary::NodeRef<'_>) -> bool {
    node.tag.as_ref() == "notification"
        && node.get_attr("type").is_some_and(|t| t.as_str() == "account_sync")
        && node.get_optional_child("blocklist").is_some()
}
