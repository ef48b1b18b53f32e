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
    let shared = Shared::new(11, 30, Duration::from_secs(60), None).expect("world");
    let (tx, rx) = mpsc::unbounded_channel();
    {
        let mut world = shared.world();
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
        world.connections.insert(1, tx);
        world.logged_in.insert(1, DEVICE);
    }
    (Ctx { shared: Arc::clone(&shared), conn: 1, device: Some(DEVICE) }, rx)
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
        let world = ctx.shared.world();
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
        let world = ctx.shared.world();
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
    let someone = ctx.shared.world().account.people.list[0].phone.clone();
    for block in [true, false, true] {
        let id = ctx.shared.next_id();
        crate::phone::set_blocked(&mut ctx.shared.world(), &someone, block, id).expect("known person");
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
