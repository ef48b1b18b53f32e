//! A contact's about text (with the time it was set) and whether their
//! picture can be seen, in one usync query. whatsapp-rust's `get_user_info`
//! drops the about's timestamp, so Roster sends the query itself.

use serde::Serialize;
use thiserror::Error;
use whatsapp_rust::prelude::*;
use whatsapp_rust::request::{InfoQuery, IqError};
use whatsapp_rust::wacore::request::InfoQueryType;
use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::{NodeContent, NodeRef};

use crate::snapshot::{AboutState, PictureState};

#[derive(Debug, Error)]
pub enum ProfileError {
    #[error("not connected to WhatsApp")]
    NotConnected,
    #[error("WhatsApp did not answer in time")]
    Timeout,
    #[error("the profile query failed: {0}")]
    Failed(String),
}

impl From<IqError> for ProfileError {
    fn from(e: IqError) -> Self {
        match e {
            IqError::Timeout => ProfileError::Timeout,
            IqError::NotConnected | IqError::InternalChannelClosed | IqError::Disconnected(_) => {
                ProfileError::NotConnected
            }
            other => ProfileError::Failed(other.to_string()),
        }
    }
}

/// What the account may see of someone's profile.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Profile {
    /// `Shown`, or `Hidden` by the contact's privacy settings.
    pub about_state: AboutState,
    pub about: Option<String>,
    pub about_set_at: Option<u64>,
    /// `Shown`, `Hidden` (privacy) or `None` (no picture).
    pub picture_state: PictureState,
    pub picture_id: Option<String>,
}

pub(crate) async fn fetch(client: &Client, phone: &str) -> Result<Profile, ProfileError> {
    let user = NodeBuilder::new("user").attr("jid", Jid::pn(phone).to_string()).build();
    let query = NodeBuilder::new("query")
        .children([NodeBuilder::new("status").build(), NodeBuilder::new("picture").build()])
        .build();
    let usync = NodeBuilder::new("usync")
        .attr("sid", format!("roster-{}", std::process::id()))
        .attr("mode", "query")
        .attr("context", "interactive")
        .attr("index", "0")
        .attr("last", "true")
        .children([query, NodeBuilder::new("list").children([user]).build()])
        .build();
    let iq = InfoQuery {
        namespace: "usync",
        query_type: InfoQueryType::Get,
        to: Jid::new("", Server::Pn),
        target: None,
        id: None,
        content: Some(NodeContent::Nodes(vec![usync])),
        timeout: None,
    };
    let response = client.send_iq(iq).await?;
    let root = response.get();
    let user = root
        .get_optional_child("usync")
        .and_then(|u| u.get_optional_child("list"))
        .and_then(|l| l.get_optional_child("user"))
        .ok_or_else(|| ProfileError::Failed("the answer has no user".into()))?;
    Ok(parse_user(user))
}

fn attr(node: &NodeRef<'_>, key: &str) -> Option<String> {
    node.get_attr(key).map(|v| v.as_str().into_owned())
}

fn parse_user(user: &NodeRef<'_>) -> Profile {
    let status = user.get_optional_child("status");
    let hidden = status.is_none_or(|s| attr(s, "code").is_some() || s.get_optional_child("error").is_some());
    let (about_state, about, about_set_at) = match status {
        Some(s) if !hidden => {
            (AboutState::Shown, s.content_as_string().map(|c| c.to_string()), attr(s, "t").and_then(|t| t.parse().ok()))
        }
        _ => (AboutState::Hidden, None, None),
    };
    let picture = user.get_optional_child("picture");
    let error_code = picture.and_then(|p| p.get_optional_child("error")).and_then(|e| attr(e, "code"));
    let picture_id = picture.and_then(|p| attr(p, "id"));
    let picture_state = match (error_code.as_deref(), &picture_id) {
        (Some("401"), _) => PictureState::Hidden,
        (_, Some(_)) => PictureState::Shown,
        _ => PictureState::None,
    };
    Profile { about_state, about, about_set_at, picture_state, picture_id }
}
