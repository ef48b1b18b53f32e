//! Stanza shapes: what the server sends, as a client decodes it. Every
//! reply goes through the real codec (marshal, then `wacore-binary`'s
//! decoder) before it is looked at, so an attribute that should be a JID
//! token and went out as a string fails here. The expectations are the
//! real server's, as written down in `FIDELITY.md`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use wacore::iq::prekeys::{DigestKeyBundleSpec, PreKeyCountSpec};
use wacore::iq::spec::IqSpec;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::marshal::{marshal, unmarshal_ref};
use wacore_binary::{Jid, Node, NodeValue, Server};

use super::{Ctx, Outcome, handle};
use crate::nodes::{attr, child, children};
use crate::shared::Shared;
use crate::state::{Device, Push, Registration};

const DEVICE: u16 = 3;
const KEY_INDEX: u32 = 7;

/// A server with one linked companion (`DEVICE`), logged in on connection 1.
fn server() -> (Ctx, mpsc::UnboundedReceiver<Push>) {
    let shared = Shared::new(11, 1, 30, Duration::from_secs(60), None).expect("world");
    let (tx, rx) = mpsc::unbounded_channel();
    {
        let mut world = shared.world_of(1);
        let registration = Registration {
            noise_key: [1; 32],
            identity: [2; 32],
            registration_id: 4242,
            signed_prekey_id: 1,
            signed_prekey: [3; 32],
            signed_prekey_sig: vec![4; 64],
            push_name: None,
        };
        let device = Device {
            id: DEVICE,
            key_index: KEY_INDEX,
            registration,
            keys_shared: true,
            key_share_id: None,
            pre_keys: Default::default(),
            history_synced: true,
            history_sync_ids: Vec::new(),
        };
        world.account.devices.insert(DEVICE, device);
        world.account.next_key_index = KEY_INDEX + 1;
        world.connections.insert(1, tx.clone());
        world.logged_in.insert(1, DEVICE);
    }
    (Ctx { shared: Arc::clone(&shared), conn: 1, pushes: tx, account: Some(1), device: Some(DEVICE) }, rx)
}

/// The node as a client sees it after the wire: marshalled and decoded.
fn wire(node: &Node) -> Node {
    let bytes = marshal(node).expect("encodes");
    let body = wacore_binary::util::unpack(&bytes).expect("unpacks");
    unmarshal_ref(&body).expect("decodes").to_owned()
}

/// Sends one stanza; returns what the server answers, through the wire.
async fn ask(ctx: &mut Ctx, stanza: Node) -> Vec<Node> {
    handle(ctx, wire(&stanza))
        .await
        .into_iter()
        .map(|o| match o {
            Outcome::Send(n) | Outcome::Close(Some(n)) => wire(&n),
            Outcome::Close(None) => panic!("the server closed the socket"),
        })
        .collect()
}

async fn ask_one(ctx: &mut Ctx, stanza: Node) -> Node {
    let mut answers = ask(ctx, stanza).await;
    assert_eq!(answers.len(), 1, "one answer expected, got {answers:?}");
    answers.remove(0)
}

fn iq(xmlns: &'static str, kind: &'static str, children: Vec<Node>) -> Node {
    NodeBuilder::new("iq")
        .attr("id", "q1")
        .attr("xmlns", xmlns)
        .attr("type", kind)
        .attr("to", Jid::new("", Server::Pn))
        .children(children)
        .build()
}

/// The attribute decoded as a JID token, or a failure naming what it was.
fn jid_attr(node: &Node, key: &str) -> Jid {
    match node.attrs.get(key) {
        Some(NodeValue::Jid(jid)) => jid.clone(),
        other => panic!("<{}> {key} should be a JID token, was {other:?}", node.tag),
    }
}

fn assert_from_server(node: &Node) {
    let from = jid_attr(node, "from");
    assert!(from.user.is_empty() && from.server == Server::Pn, "from should be s.whatsapp.net, was {from}");
}

fn error_code(node: &Node) -> Option<String> {
    assert_eq!(attr(node, "type").as_deref(), Some("error"), "an <iq type=error> expected: {node:?}");
    child(node, "error").and_then(|e| attr(e, "code"))
}

fn leaf(tag: &'static str, bytes: Vec<u8>) -> Node {
    NodeBuilder::new(tag).bytes(bytes).build()
}

#[tokio::test]
async fn replies_come_from_the_typed_server_jid() {
    let (mut ctx, _rx) = server();
    let reply = ask_one(&mut ctx, iq("w:p", "get", vec![NodeBuilder::new("ping").build()])).await;
    assert_eq!(attr(&reply, "type").as_deref(), Some("result"));
    assert_eq!(attr(&reply, "id").as_deref(), Some("q1"));
    assert_from_server(&reply);
}

#[tokio::test]
async fn an_unknown_namespace_is_an_error_not_an_empty_success() {
    let (mut ctx, _rx) = server();
    let reply = ask_one(&mut ctx, iq("w:no-such-thing", "get", Vec::new())).await;
    assert_eq!(error_code(&reply).as_deref(), Some("501"));
    assert_from_server(&reply);
}

async fn pre_key_count(ctx: &mut Ctx) -> usize {
    let reply = ask_one(ctx, iq("encrypt", "get", vec![NodeBuilder::new("count").build()])).await;
    PreKeyCountSpec::new().parse_response(&reply.as_node_ref()).expect("a count whatsapp-rust reads").count
}

#[tokio::test]
async fn pre_key_count_and_digest_describe_what_was_uploaded() {
    let (mut ctx, _rx) = server();
    assert_eq!(pre_key_count(&mut ctx).await, 0, "nothing uploaded yet");

    let keys: Vec<(u32, [u8; 32])> = (1..=3u32).map(|i| (i, [i as u8 + 40; 32])).collect();
    let list = keys.iter().map(|(id, key)| {
        NodeBuilder::new("key")
            .children([leaf("id", id.to_be_bytes()[1..].to_vec()), leaf("value", key.to_vec())])
            .build()
    });
    let skey = NodeBuilder::new("skey")
        .children([leaf("id", vec![0, 0, 9]), leaf("value", vec![5; 32]), leaf("signature", vec![6; 64])])
        .build();
    let upload = iq(
        "encrypt",
        "set",
        vec![
            leaf("registration", 4242u32.to_be_bytes().to_vec()),
            leaf("type", vec![5]),
            leaf("identity", vec![2; 32]),
            NodeBuilder::new("list").children(list).build(),
            skey,
        ],
    );
    let reply = ask_one(&mut ctx, upload).await;
    assert_eq!(attr(&reply, "type").as_deref(), Some("result"), "{reply:?}");
    assert_eq!(pre_key_count(&mut ctx).await, 3);

    let reply = ask_one(&mut ctx, iq("encrypt", "get", vec![NodeBuilder::new("digest").build()])).await;
    let digest = DigestKeyBundleSpec::new().parse_response(&reply.as_node_ref()).expect("a digest whatsapp-rust reads");
    assert_eq!(digest.reg_id, 4242);
    assert_eq!(digest.identity, vec![2; 32]);
    assert_eq!((digest.skey_id, digest.skey_pubkey.clone()), (9, vec![5; 32]));
    assert_eq!(digest.prekey_ids, vec![1, 2, 3]);
    let pre_keys: Vec<&[u8]> = keys.iter().map(|(_, k)| k.as_slice()).collect();
    let expected = wacore::prekeys::compute_key_bundle_digest(&[2; 32], &[5; 32], &[6; 64], &pre_keys);
    assert_eq!(digest.hash, expected, "the hash covers identity, signed pre-key, signature and pre-keys");
}

#[tokio::test]
async fn usync_answers_for_the_accounts_own_number() {
    let (mut ctx, _rx) = server();
    let (phone, lid, identity) = {
        let world = ctx.world();
        (world.account.phone.clone(), world.account.lid.clone(), world.account.identity.public_key)
    };
    let query = NodeBuilder::new("query")
        .children(["contact", "lid", "status", "devices"].map(|p| NodeBuilder::new(p).build()))
        .build();
    let user = NodeBuilder::new("user")
        .children([NodeBuilder::new("contact").string_content(format!("+{phone}")).build()])
        .build();
    let usync = NodeBuilder::new("usync")
        .attr("sid", "s1")
        .attr("mode", "query")
        .attr("context", "interactive")
        .children([query, NodeBuilder::new("list").children([user]).build()])
        .build();
    let reply = ask_one(&mut ctx, iq("usync", "get", vec![usync])).await;
    let list = child(&reply, "usync").and_then(|u| child(u, "list")).expect("<usync><list>");
    let users: Vec<&Node> = children(list, "user").collect();
    assert_eq!(users.len(), 1, "the own number is answered: {list:?}");
    let me = users[0];
    assert_eq!(jid_attr(me, "jid"), Jid::pn(phone.as_str()));
    assert_eq!(child(me, "contact").and_then(|c| attr(c, "type")).as_deref(), Some("in"));
    assert_eq!(child(me, "lid").map(|l| jid_attr(l, "val")), Some(Jid::lid(lid.as_str())));

    let devices = child(me, "devices").expect("<devices>");
    let listed: Vec<(String, Option<String>)> = child(devices, "device-list")
        .into_iter()
        .flat_map(|l| children(l, "device"))
        .map(|d| (attr(d, "id").unwrap_or_default(), attr(d, "key-index")))
        .collect();
    assert_eq!(listed, vec![("0".into(), None), (DEVICE.to_string(), Some(KEY_INDEX.to_string()))]);
    let signed = child(devices, "key-index-list").and_then(crate::nodes::bytes).expect("signed key-index list");
    let decoded = wacore::adv::decode_key_index_list(signed).expect("an ADVSignedKeyIndexList");
    assert_eq!(decoded.valid_indexes, vec![KEY_INDEX]);
    let signed = waproto::codec::adv_signed_key_index_list_decode(signed).expect("decodes");
    let mut message = vec![6, 2];
    message.extend_from_slice(signed.details.as_deref().unwrap_or_default());
    let signature = signed.account_signature.unwrap_or_default();
    assert!(identity.verify_signature(&message, &signature), "the key-index list is signed by the phone's identity");
}

#[tokio::test]
async fn profile_picture_refusals_are_whole_iq_errors() {
    let (mut ctx, _rx) = server();
    let (hidden, none) = {
        let world = ctx.world();
        let people = &world.account.people.list;
        let hidden = people.iter().find(|p| p.picture_id.is_some() && !p.picture_visible()).expect("a hidden picture");
        let none = people.iter().find(|p| p.picture_id.is_none()).expect("someone without a picture");
        (hidden.pn_jid(), none.pn_jid())
    };
    for (target, code) in [(hidden, "401"), (none, "404"), (Jid::pn("19999999999"), "404")] {
        let q = NodeBuilder::new("iq")
            .attr("id", "q1")
            .attr("xmlns", "w:profile:picture")
            .attr("type", "get")
            .attr("to", Jid::new("", Server::Pn))
            .attr("target", target.clone())
            .children([NodeBuilder::new("picture").attr("type", "preview").build()])
            .build();
        let reply = ask_one(&mut ctx, q).await;
        assert_eq!(error_code(&reply).as_deref(), Some(code), "picture of {target}");
        assert!(child(&reply, "picture").is_none(), "no nested <picture> in a refusal");
    }
}

#[tokio::test]
async fn notifications_never_share_an_id() {
    let (ctx, mut rx) = server();
    let someone = ctx.world().account.people.list[0].phone.clone();
    for block in [true, false, true] {
        let id = ctx.shared.next_id();
        crate::phone::set_blocked(&mut ctx.world(), &someone, block, id).expect("known person");
    }
    let mut ids = Vec::new();
    while let Ok(Push::Node(node)) = rx.try_recv() {
        let node = wire(&node);
        assert_eq!(attr(&node, "type").as_deref(), Some("account_sync"));
        let item = child(&node, "blocklist").and_then(|b| child(b, "item")).expect("<blocklist><item>");
        assert_eq!(jid_attr(item, "jid").server, Server::Lid);
        ids.push(attr(&node, "id").expect("an id"));
    }
    assert_eq!(ids.len(), 3, "three pushes: {ids:?}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "ids within one second must differ");
}

#[tokio::test]
async fn props_carry_a_set_and_a_known_hash_gets_an_empty_delta() {
    let (mut ctx, _rx) = server();
    let reply =
        ask_one(&mut ctx, iq("abt", "get", vec![NodeBuilder::new("props").attr("protocol", "1").build()])).await;
    let props = child(&reply, "props").expect("<props>");
    for key in ["ab_key", "hash", "refresh", "refresh_id"] {
        assert!(attr(props, key).is_some(), "<props> lacks {key}");
    }
    assert!(children(props, "prop").count() > 0, "a full answer lists its properties");
    let hash = attr(props, "hash").unwrap();

    let again = NodeBuilder::new("props").attr("protocol", "1").attr("hash", hash.as_str()).build();
    let reply = ask_one(&mut ctx, iq("abt", "get", vec![again])).await;
    let props = child(&reply, "props").expect("<props>");
    assert_eq!(attr(props, "delta_update").as_deref(), Some("true"));
    assert_eq!(children(props, "prop").count(), 0);
}

/// An IQ to a group (`w:g2`, `to` the group's JID).
fn group_iq(group: &str, kind: &'static str, children: Vec<Node>) -> Node {
    NodeBuilder::new("iq")
        .attr("id", "g1")
        .attr("xmlns", "w:g2")
        .attr("type", kind)
        .attr("to", Jid::group(group))
        .children(children)
        .build()
}

fn participants(action: &'static str, jids: &[Jid]) -> Node {
    NodeBuilder::new(action)
        .children(jids.iter().map(|j| NodeBuilder::new("participant").attr("jid", j.clone()).build()))
        .build()
}

#[tokio::test]
async fn group_metadata_carries_roles_community_links_and_settings() {
    use wacore::iq::groups::{GroupInfoOutcome, GroupParticipatingIq, GroupQueryIq};
    let (mut ctx, _rx) = server();
    let (parent, announcement, locked) = {
        let world = ctx.world();
        let g = &world.account.groups;
        let parent = g.iter().find(|g| g.is_parent).unwrap().id.clone();
        let announcement = g.iter().find(|g| g.default_sub_group).unwrap().id.clone();
        let locked = g.iter().find(|g| g.locked).unwrap().id.clone();
        (parent, announcement, locked)
    };
    let reply = ask_one(&mut ctx, iq("w:g2", "get", vec![NodeBuilder::new("participating").build()])).await;
    let all = GroupParticipatingIq::new().parse_response(&reply.as_node_ref()).expect("whatsapp-rust reads it");
    assert_eq!(all.groups.len(), ctx.world().account.groups.len());
    let p = all.groups.iter().find(|g| g.id.user == parent).expect("the community is listed");
    assert!(p.is_parent_group && p.parent_group_jid.is_none());
    let a = all.groups.iter().find(|g| g.id.user == announcement).unwrap();
    assert!(a.is_default_sub_group && a.is_announcement);
    assert_eq!(a.parent_group_jid.as_ref().map(|j| j.user.to_string()), Some(parent.clone()));
    let l = all.groups.iter().find(|g| g.id.user == locked).unwrap();
    assert!(l.is_locked);
    let me = ctx.world().account.lid.clone();
    let mine = l.participants.iter().find(|x| x.jid.user == me).expect("the account is a participant");
    assert_eq!(mine.participant_type, wacore::iq::groups::ParticipantType::Member);
    assert!(l.participants.iter().any(|x| x.participant_type != wacore::iq::groups::ParticipantType::Member));

    let group = Jid::group(parent.as_str());
    let reply = ask_one(&mut ctx, group_iq(&parent, "get", vec![NodeBuilder::new("query").build()])).await;
    let GroupInfoOutcome::Full(one) = GroupQueryIq::new(&group).parse_response(&reply.as_node_ref()).unwrap() else {
        panic!("a full answer")
    };
    assert_eq!(one.size, Some(one.participants.len() as u32));
    let unknown =
        ask_one(&mut ctx, group_iq("120363999999999999", "get", vec![NodeBuilder::new("query").build()])).await;
    assert_eq!(error_code(&unknown).as_deref(), Some("404"));
}

#[tokio::test]
async fn adding_answers_each_participant_with_the_servers_code() {
    use wacore::iq::groups::AddParticipantsIq;
    let (mut ctx, mut rx) = server();
    let (parent, member, left, private, free, unregistered) = {
        let mut world = ctx.world();
        let c = world.account.groups.iter().find(|g| g.is_parent).unwrap();
        let outside: Vec<usize> =
            (0..world.account.people.list.len()).filter(|i| !c.has(*i) && !c.recently_left.contains(i)).collect();
        // Two outsiders: one lets only contacts add them (and has not saved
        // the account's number), one lets everyone.
        let (private, free) = (Some(outside[0]), Some(outside[1]));
        let p = &mut world.account.people.list[outside[0]];
        (p.groups_add, p.has_owner_saved) = (crate::people::Visibility::Contacts, false);
        world.account.people.list[outside[1]].groups_add = crate::people::Visibility::Everyone;
        let c = world.account.groups.iter().find(|g| g.is_parent).unwrap();
        let people = &world.account.people;
        (
            c.id.clone(),
            people.list[c.members[0]].lid_jid(),
            people.list[*c.recently_left.iter().next().unwrap()].pn_jid(),
            people.list[private.expect("someone private")].pn_jid(),
            people.list[free.unwrap()].lid_jid(),
            Jid::pn(people.unregistered[0].as_str()),
        )
    };
    let asked = [member.clone(), left.clone(), private.clone(), free.clone(), unregistered.clone()];
    let spec = AddParticipantsIq::new(&Jid::group(parent.as_str()), &asked);
    let reply = ask_one(&mut ctx, group_iq(&parent, "set", vec![participants("add", &asked)])).await;
    let answers = spec.parse_response(&reply.as_node_ref()).expect("whatsapp-rust reads it");
    let codes: Vec<Option<&str>> = answers.iter().map(|a| a.error.as_deref()).collect();
    assert_eq!(codes, [Some("409"), Some("408"), Some("403"), None, Some("404")]);
    assert_eq!(answers.iter().map(|a| a.jid.clone()).collect::<Vec<_>>(), asked, "each answered as asked");
    let invite = answers[2].add_request.as_ref().expect("an invite for the private one");
    assert_eq!(invite.code.len(), 16);
    assert!(invite.expiration > crate::nodes::unix_now() + 86_400);
    assert!(answers[3].phone_number.is_some(), "a LID is answered with its number");
    assert!(answers.iter().enumerate().all(|(i, a)| i == 2 || a.add_request.is_none()));
    {
        let world = ctx.world();
        let c = world.account.groups.iter().find(|g| g.is_parent).unwrap();
        let p = world.account.people.index_of(&free.user).unwrap();
        assert!(c.has(p), "added to the community");
        let a = world.account.groups.iter().find(|g| g.default_sub_group).unwrap();
        assert!(a.has(p), "and to its announcement group");
    }
    let Ok(Push::Node(echo)) = rx.try_recv() else { panic!("the asking device hears its own change too") };
    assert_eq!(attr(&wire(&echo), "type").as_deref(), Some("w:gp2"));

    // The phone adds someone: the linked device hears it as a w:gp2 <add>.
    let someone = {
        let world = ctx.world();
        let c = world.account.groups.iter().find(|g| g.is_parent).unwrap();
        let people = &world.account.people;
        let i = (0..people.list.len())
            .find(|&i| !c.has(i) && !c.recently_left.contains(&i) && people.list[i].account_may_add_to_groups())
            .unwrap();
        people.list[i].phone.clone()
    };
    let id = ctx.shared.next_id();
    let gi = crate::phone::groups::find(&ctx.world(), &parent).unwrap();
    crate::phone::groups::add(&mut ctx.world(), gi, &[someone], None, id).unwrap();
    let Ok(Push::Node(push)) = rx.try_recv() else { panic!("a push") };
    let push = wire(&push);
    assert_eq!(attr(&push, "type").as_deref(), Some("w:gp2"));
    assert_eq!(jid_attr(&push, "from").server, Server::Group);
    assert_eq!(jid_attr(&push, "participant").server, Server::Lid);
    let added = child(&push, "add").and_then(|a| child(a, "participant")).expect("<add><participant>");
    assert_eq!(jid_attr(added, "jid").server, Server::Lid);
    assert_eq!(jid_attr(added, "phone_number").server, Server::Pn);

    // Removing answers per participant too: 200 (no error), then 404.
    let spec = wacore::iq::groups::RemoveParticipantsIq::new(&Jid::group(parent.as_str()), std::slice::from_ref(&free));
    for expected in [None, Some("404")] {
        let reply =
            ask_one(&mut ctx, group_iq(&parent, "set", vec![participants("remove", std::slice::from_ref(&free))]))
                .await;
        let answers = spec.parse_response(&reply.as_node_ref()).unwrap();
        assert_eq!(answers[0].error.as_deref(), expected);
    }
}

#[tokio::test]
async fn a_full_group_refuses_with_419_and_a_plain_member_may_not_add() {
    let (mut ctx, _rx) = server();
    let (family, locked, outsiders) = {
        let world = ctx.world();
        let g = &world.account.groups;
        let family = g.iter().find(|g| g.subject == "Family").unwrap();
        let people = &world.account.people;
        let outsiders: Vec<Jid> = (0..people.list.len())
            .filter(|&i| !family.has(i) && people.list[i].account_may_add_to_groups())
            .take(3)
            .map(|i| people.list[i].pn_jid())
            .collect();
        (family.id.clone(), g.iter().find(|g| g.locked).unwrap().id.clone(), outsiders)
    };
    let reply = ask_one(&mut ctx, group_iq(&family, "set", vec![participants("add", &outsiders)])).await;
    let list = child(&reply, "add").expect("<add>");
    let codes: Vec<Option<String>> = children(list, "participant").map(|p| attr(p, "error")).collect();
    assert_eq!(
        codes,
        [None, Some("419".into()), Some("419".into())],
        "capacity: two more than seeded, the account included"
    );
    let reply = ask_one(&mut ctx, group_iq(&locked, "set", vec![participants("add", &outsiders[..1])])).await;
    assert_eq!(error_code(&reply).as_deref(), Some("401"));
}

#[tokio::test]
async fn group_timers_are_set_and_cleared_by_admins_only() {
    use wacore::iq::groups::SetGroupEphemeralIq;
    let (mut ctx, mut rx) = server();
    let (own, locked) = {
        let world = ctx.world();
        let g = &world.account.groups;
        (
            g.iter().find(|g| g.subject == "Suppliers").unwrap().id.clone(),
            g.iter().find(|g| g.locked).unwrap().id.clone(),
        )
    };
    for (seconds, expected) in [(Some(604_800u32), 604_800u32), (None, 0)] {
        let spec = match seconds.and_then(std::num::NonZeroU32::new) {
            Some(s) => SetGroupEphemeralIq::enable(&Jid::group(own.as_str()), s),
            None => SetGroupEphemeralIq::disable(&Jid::group(own.as_str())),
        };
        let content = match seconds {
            Some(s) => NodeBuilder::new("ephemeral").attr("expiration", s.to_string()).build(),
            None => NodeBuilder::new("not_ephemeral").build(),
        };
        let reply = ask_one(&mut ctx, group_iq(&own, "set", vec![content])).await;
        assert_eq!(attr(&reply, "type").as_deref(), Some("result"), "{reply:?}");
        spec.parse_response(&reply.as_node_ref()).expect("whatsapp-rust accepts it");
        let world = ctx.world();
        let g = world.account.groups.iter().find(|g| g.id == own).unwrap();
        assert_eq!(g.ephemeral, expected);
        let chat = world.account.chats.iter().find(|c| c.jid == g.jid()).unwrap();
        assert_eq!(chat.timer(), expected, "the chat's timer follows");
    }
    let refused = ask_one(
        &mut ctx,
        group_iq(&locked, "set", vec![NodeBuilder::new("ephemeral").attr("expiration", "86400").build()]),
    )
    .await;
    assert_eq!(error_code(&refused).as_deref(), Some("401"));
    let custom = ask_one(
        &mut ctx,
        group_iq(&own, "set", vec![NodeBuilder::new("ephemeral").attr("expiration", "3600").build()]),
    )
    .await;
    assert_eq!(error_code(&custom).as_deref(), Some("400"), "groups take the offered timers only");
    while rx.try_recv().is_ok() {}

    // The phone's change reaches the linked device.
    let gi = crate::phone::groups::find(&ctx.world(), &own).unwrap();
    let id = ctx.shared.next_id();
    crate::phone::groups::set_timer(&mut ctx.world(), gi, Some(86_400), None, id).unwrap();
    let Ok(Push::Node(push)) = rx.try_recv() else { panic!("a push") };
    let push = wire(&push);
    assert_eq!(attr(&push, "type").as_deref(), Some("w:gp2"));
    assert_eq!(child(&push, "ephemeral").and_then(|e| attr(e, "expiration")).as_deref(), Some("86400"));
    assert_eq!(jid_attr(&push, "participant").server, Server::Pn, "Suppliers is PN-addressed");
}

/// Through the wire, as the client's parsers read it (`NodeRef`).
fn wire_bytes(node: &Node) -> Vec<u8> {
    let bytes = marshal(node).expect("encodes");
    wacore_binary::util::unpack(&bytes).expect("unpacks").to_vec()
}

/// The padded `Message` that sets a chat's timer.
fn ephemeral_setting(seconds: u32) -> Vec<u8> {
    use buffa::Message as _;
    use waproto::whatsapp as wa;
    let message = wa::Message {
        protocol_message: buffa::MessageField::some(wa::message::ProtocolMessage {
            r#type: Some(wa::message::protocol_message::Type::EPHEMERAL_SETTING),
            ephemeral_expiration: Some(seconds),
            ..Default::default()
        }),
        ..Default::default()
    };
    wacore::messages::MessageUtils::pad_message_v2(message.encode_to_vec())
}

#[tokio::test]
async fn a_fetched_bundle_opens_a_session_the_recipient_reads_and_junk_is_recorded() {
    use wacore::prekeys::PreKeyUtils;
    use wacore_libsignal::protocol::{KeyPair, ProtocolAddress, UsePQRatchet, message_encrypt, process_prekey_bundle};

    let (mut ctx, _rx) = server();
    let (person, chat) = {
        let world = ctx.world();
        let chat = world.account.chats.iter().find(|c| c.peer_phone.is_some() && c.timer() != 3_600).unwrap().clone();
        (world.account.people.by_phone(chat.peer_phone.as_deref().unwrap()).unwrap().clone(), chat)
    };
    let device = person.pn_jid().with_device(0);
    let stranger = Jid::pn("15550009999").with_device(0);

    // The key fetch, parsed by the client's own parser: one bundle, one rejection.
    let fetch = NodeBuilder::new("key")
        .children([
            NodeBuilder::new("user").attr("jid", device.clone()).build(),
            NodeBuilder::new("user").attr("jid", stranger.clone()).build(),
        ])
        .build();
    let reply = ask_one(&mut ctx, iq("encrypt", "get", vec![fetch])).await;
    assert_from_server(&reply);
    let body = wire_bytes(&reply);
    let parsed = PreKeyUtils::parse_prekeys_response(&unmarshal_ref(&body).unwrap(), &Default::default()).unwrap();
    assert_eq!(parsed.rejected.len(), 1);
    assert_eq!((parsed.rejected[0].jid.user.as_str(), parsed.rejected[0].code), ("15550009999", 404));
    let bundle = parsed.bundles.values().next().expect("the person's bundle");
    assert!(bundle.pre_key_id().unwrap().is_some(), "with a one-time pre-key");

    // The companion opens a session from it and sends the setting.
    let mut rng: rand::rngs::StdRng = rand::make_rng();
    let mut sessions = crate::signal_keys::SessionMap::default();
    let mut identity = crate::signal_keys::Identity::new(&KeyPair::generate(&mut rng), 77);
    let address = ProtocolAddress::new(&person.lid, 0.into());
    process_prekey_bundle(&address, &mut sessions, &mut identity, bundle, &mut rng, UsePQRatchet::No).await.unwrap();
    let sealed = message_encrypt(&ephemeral_setting(3_600), &address, &mut sessions, &mut identity).await.unwrap();
    let message = |id: &str, enc: Vec<u8>| {
        let enc = NodeBuilder::new("enc").attr("v", "2").attr("type", "pkmsg").bytes(enc).build();
        let to = NodeBuilder::new("to").attr("jid", device.clone()).children([enc]).build();
        NodeBuilder::new("message")
            .attr("to", person.pn_jid())
            .attr("id", id.to_owned())
            .attr("type", "text")
            .children([NodeBuilder::new("participants").children([to]).build()])
            .build()
    };
    let ack = ask_one(&mut ctx, message("3EB0AA", sealed.serialize().to_vec())).await;
    assert_eq!(ack.tag, "ack");
    assert_eq!(attr(&ack, "class").as_deref(), Some("message"));
    assert_eq!(attr(&ack, "id").as_deref(), Some("3EB0AA"));
    assert_eq!(jid_attr(&ack, "from"), person.pn_jid(), "from the chat, as a JID token");
    assert!(attr(&ack, "t").is_some_and(|t| t.parse::<u64>().is_ok()), "a Unix time");
    {
        let world = ctx.world();
        let read = world.account.deliveries.last().unwrap();
        assert!(read.decrypted, "{read:?}");
        assert_eq!(read.reader, crate::deliveries::Reader::Person);
        assert_eq!(read.protocol_message.as_deref(), Some("EPHEMERAL_SETTING"));
        assert_eq!(read.ephemeral_expiration, Some(3_600));
        let now = world.account.chats.iter().find(|c| c.jid == chat.jid).unwrap();
        assert_eq!(now.timer(), 3_600, "the chat's timer follows once the recipient read it");
    }

    // Junk is acked (the server cannot tell) but recorded as unreadable; nothing changes.
    let ack = ask_one(&mut ctx, message("3EB0BB", vec![3, 1, 4, 1, 5])).await;
    assert_eq!(attr(&ack, "id").as_deref(), Some("3EB0BB"));
    let world = ctx.world();
    let junk = world.account.deliveries.last().unwrap();
    assert!(!junk.decrypted && junk.error.is_some(), "{junk:?}");
    assert_eq!(world.account.chats.iter().find(|c| c.jid == chat.jid).unwrap().timer(), 3_600);
}
