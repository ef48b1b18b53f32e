//! `w:profile:picture`: where a user's profile picture is, if it may be seen.

use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

use super::{Ctx, Outcome, send};
use crate::nodes::{attr, child, iq_error, iq_result, jid_user, unix_now};
use crate::pictures::{self, Size};

pub fn handle(ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    let request = child(iq, "picture");
    let size = request.and_then(|p| attr(p, "type")).and_then(|t| Size::parse(&t)).unwrap_or(Size::Preview);
    let known = request.and_then(|p| attr(p, "id"));
    let target = attr(iq, "target").unwrap_or_default();
    let world = ctx.world();
    // "Not set" and "not allowed" are whole-IQ errors, as the real server
    // sends them (whatsmeow maps them to ErrProfilePictureNotSet and
    // ErrProfilePictureUnauthorized; a nested `<picture><error/>` is usync's shape).
    let Some(person) = world.account.people.find(jid_user(&target)) else {
        return send(iq_error(iq, 404, "item-not-found"));
    };
    let answer = match person.picture_id {
        None => return send(iq_error(iq, 404, "item-not-found")),
        Some(_) if !person.picture_visible() => return send(iq_error(iq, 401, "not-authorized")),
        // The asker has this picture already: "not modified".
        Some(id) if known.as_deref() == Some(id.to_string().as_str()) => {
            NodeBuilder::new("picture").attr("id", id.to_string()).attr("status", "304").build()
        }
        Some(id) => {
            let path = pictures::path(&person.phone, id, size);
            let expires = unix_now() + ctx.shared.picture_ttl.as_secs();
            let epoch = ctx.shared.picture_url_epoch();
            NodeBuilder::new("picture")
                .attr("id", id.to_string())
                .attr("type", size.as_str())
                .attr("url", format!("{}{path}?exp={expires}&e={epoch}", ctx.shared.base_url()))
                .attr("direct_path", path)
                .build()
        }
    };
    send(iq_result(iq, vec![answer]))
}
