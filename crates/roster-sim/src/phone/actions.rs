//! Things done on the phone (through the admin API) that linked devices
//! must hear about: blocks, about and picture changes, address-book renames.

use thiserror::Error;
use wacore_binary::builder::NodeBuilder;

use super::blocklist;
use crate::appstate::CRITICAL_UNBLOCK_LOW;
use crate::nodes::{jid_user, notification, server_jid, unix_now};
use crate::people::Person;
use crate::state::World;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ActionError {
    #[error("nobody on the simulated WhatsApp has the number or JID '{0}'")]
    Unknown(String),
    #[error("the name must not be empty")]
    EmptyName,
}

/// A number (any punctuation), PN JID or LID JID → the person's LID user.
fn resolve<'a>(world: &'a World, target: &str) -> Result<&'a Person, ActionError> {
    let digits: String = jid_user(target).chars().filter(char::is_ascii_digit).collect();
    world.account.people.find(&digits).ok_or_else(|| ActionError::Unknown(target.to_owned()))
}

pub fn set_blocked(world: &mut World, target: &str, block: bool, id: u64) -> Result<String, ActionError> {
    let lid = resolve(world, target)?.lid.clone();
    blocklist::set_on_phone(world, &lid, block, id);
    Ok(lid)
}

pub fn set_about(world: &mut World, target: &str, text: &str, id: u64) -> Result<(), ActionError> {
    let phone = resolve(world, target)?.phone.clone();
    let person = world.account.people.by_phone_mut(&phone).expect("resolved");
    person.about = text.to_owned();
    person.about_set_at = unix_now();
    let visible = person.about_visible();
    let from = person.pn_jid();
    if visible {
        let set = NodeBuilder::new("set").string_content(text).build();
        world.push_to_devices(&notification("status", from, id, vec![set]), None);
    }
    Ok(())
}

/// A new picture (`Some`) or none at all; returns the new picture id.
pub fn set_picture(world: &mut World, target: &str, remove: bool, id: u64) -> Result<Option<u64>, ActionError> {
    let phone = resolve(world, target)?.phone.clone();
    let person = world.account.people.by_phone_mut(&phone).expect("resolved");
    let new_id = (!remove).then(|| person.picture_id.unwrap_or(1_000_000_000) + 1);
    person.picture_id = new_id;
    let jid = person.pn_jid();
    let child = match new_id {
        Some(pic) => NodeBuilder::new("set").attr("jid", jid.clone()).attr("id", pic.to_string()).build(),
        None => NodeBuilder::new("delete").attr("jid", jid.clone()).build(),
    };
    world.push_to_devices(&notification("picture", jid, id, vec![child]), None);
    Ok(new_id)
}

/// Renames (or saves) a person in the phone's address book: a new app-state
/// patch, announced with `server_sync`.
///
/// With `notify` false the `server_sync` push is lost on the way, as
/// happens to a device that was offline: linked devices only see the
/// rename at their next sync.
pub fn rename(world: &mut World, target: &str, name: &str, id: u64, notify: bool) -> Result<(), ActionError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ActionError::EmptyName);
    }
    let phone = resolve(world, target)?.phone.clone();
    world.account.people.by_phone_mut(&phone).expect("resolved").saved_name = Some(name.to_owned());
    let World { account, rng, .. } = world;
    let person = account.people.by_phone(&phone).expect("resolved");
    account.collections.save_contacts(&account.app_state_key_id, &account.app_state_key, [person], rng);
    if !notify {
        return Ok(());
    }
    let version = account.collections.version(CRITICAL_UNBLOCK_LOW);
    let collection =
        NodeBuilder::new("collection").attr("name", CRITICAL_UNBLOCK_LOW).attr("version", version.to_string()).build();
    world.push_to_devices(&notification("server_sync", server_jid(), id, vec![collection]), None);
    Ok(())
}
