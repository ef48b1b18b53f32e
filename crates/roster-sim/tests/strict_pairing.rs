//! A strict client pairs with the simulator. It is built from wacore's lower
//! layers only (Noise, binary nodes, protos, libsignal; no `whatsapp-rust`
//! `Client`, which forgives a lot) and checks what whatsmeow checks: the
//! server's certificate chain, a `from` that is the server's JID (not a
//! string), six refs, the ADV HMAC and account signature, and the 515
//! restart once the pairing is signed.

mod strict;

use anyhow::{Context, anyhow, bail, ensure};
use buffa::Message;
use roster_sim::{SimConfig, Simulator};
use strict::conn::StrictConn;
use strict::{adv, within};
use wacore::companion_reg::CompanionWebClientType;
use wacore::pair::{DeviceState, PairUtils};
use wacore::store::Device;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, Node, NodeContent, NodeValue, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_client_pairs_and_is_told_to_restart() -> anyhow::Result<()> {
    let sim = Simulator::start(SimConfig { contacts: 10, ..SimConfig::default() }).await?;
    let device = Device::new();

    // 1 and 2: the header, Noise XX with a verified chain, the registration payload.
    let mut conn = StrictConn::connect(&sim.ws_url()).await?;
    let payload = device.get_client_payload();
    ensure!(payload.device_pairing_data.is_set(), "a fresh device's payload carries registration data");
    conn.handshake(&device.noise_key, &payload.encode_to_vec(), &sim.root_public_key())
        .await
        .context("step 1, the Noise handshake")?;

    // 3: pair-device, six refs, acknowledged.
    let iq = next_node(&mut conn, "<pair-device>").await?;
    let pair_device = server_iq(&iq, "pair-device").context("step 3, <pair-device>")?;
    let refs = pair_device
        .get_children_by_tag("ref")
        .map(|r| match &r.content {
            Some(NodeContent::Bytes(b)) => String::from_utf8(b.clone()).context("a <ref> is not UTF-8"),
            other => bail!("a <ref> carries {other:?}, not bytes"),
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .context("step 3, <pair-device>")?;
    ensure!(refs.len() == 6, "step 3: <pair-device> has {} refs; the real server sends 6", refs.len());
    conn.send_node(&ack(&iq)).await?;

    // 4: the phone scans our QR code; pair-success, checked and countersigned; 515.
    let state = DeviceState {
        identity_key: device.identity_key.clone(),
        noise_key: device.noise_key.clone(),
        adv_secret_key: device.adv_secret_key,
    };
    let qr = PairUtils::make_qr_data(&state, &refs[0], CompanionWebClientType::default());
    let scanned = sim.scan_qr(&qr).map_err(|e| anyhow!("step 4: the phone refused our QR code: {e}"))?;

    let iq = next_node(&mut conn, "<pair-success>").await?;
    let success = server_iq(&iq, "pair-success").context("step 4, <pair-success>")?;
    let linked = success
        .get_optional_child("device")
        .and_then(|d| typed_jid(d, "jid"))
        .context("step 4: <pair-success> has no <device> whose `jid` is a typed JID")?;
    ensure!(linked.to_string() == scanned, "step 4: <device jid> is {linked}, but the phone linked {scanned}");
    let container = match success.get_optional_child("device-identity").and_then(|d| d.content.as_ref()) {
        Some(NodeContent::Bytes(b)) => b,
        other => bail!("step 4: <device-identity> carries {other:?}, not bytes"),
    };
    let identity = device.identity_key.public_key.public_key_bytes();
    let verified = adv::verify(container, &device.adv_secret_key, identity).context("step 4, <device-identity>")?;
    ensure!(
        verified.account_key == sim.account_identity_key(),
        "step 4: the device identity is signed by a key that is not the phone's account identity"
    );
    let key_index = verified.key_index;
    let signed = adv::countersign(verified, &device.identity_key);
    conn.send_node(&pair_device_sign(&iq, key_index, signed)).await?;

    let end = next_node(&mut conn, "the 515 restart").await?;
    ensure!(
        end.tag == "stream:error" && attr(&end, "code").as_deref() == Some("515"),
        "step 4: after pair-device-sign the server sent {end:?}, not <stream:error code=\"515\"/>"
    );
    ensure!(
        within("the server to close", conn.read_node()).await??.is_none(),
        "step 4: the server kept the stream open after the 515"
    );
    ensure!(
        sim.world().account.devices.contains(&linked.device),
        "step 4: device {} is not among the account's linked devices",
        linked.device
    );
    sim.shutdown().await;
    Ok(())
}

async fn next_node(conn: &mut StrictConn, what: &str) -> anyhow::Result<Node> {
    within(what, conn.read_node()).await??.with_context(|| format!("the server closed the stream before {what}"))
}

/// Checks `<iq type="set" xmlns="md" from=SERVER>` with `tag` as its only
/// child (whatsmeow ignores any other), and returns that child.
fn server_iq<'a>(iq: &'a Node, tag: &str) -> anyhow::Result<&'a Node> {
    ensure!(iq.tag == "iq", "expected an <iq>, got {iq:?}");
    ensure!(attr(iq, "type").as_deref() == Some("set"), "the iq's type is {:?}, not \"set\"", attr(iq, "type"));
    ensure!(attr(iq, "xmlns").as_deref() == Some("md"), "the iq's xmlns is {:?}, not \"md\"", attr(iq, "xmlns"));
    ensure!(attr(iq, "id").is_some_and(|id| !id.is_empty()), "the iq has no id");
    match iq.attrs.get("from") {
        Some(NodeValue::Jid(jid)) if *jid == server_jid() => {}
        Some(NodeValue::Jid(jid)) => bail!("`from` is the JID {jid}, not the server's"),
        Some(NodeValue::String(s)) => bail!(
            "`from` is the plain string {s:?}; the real server sends a JID (JID_PAIR, empty user, \
             s.whatsapp.net), and whatsmeow ignores an iq whose `from` is not its server JID"
        ),
        None => bail!("the iq has no `from`"),
    }
    match iq.children() {
        Some([only]) if only.tag == tag => Ok(only),
        other => bail!("the iq should hold exactly one <{tag}>, but holds {other:?}"),
    }
}

/// `s.whatsapp.net` as a JID: empty user, no device.
fn server_jid() -> Jid {
    Jid::new("", Server::Pn)
}

fn typed_jid(node: &Node, key: &str) -> Option<Jid> {
    match node.attrs.get(key)? {
        NodeValue::Jid(jid) => Some(jid.clone()),
        NodeValue::String(_) => None,
    }
}

fn attr(node: &Node, key: &str) -> Option<String> {
    node.attrs.get(key).map(|v| v.as_str().into_owned())
}

/// `<iq to=SERVER id type="result"/>`, as whatsmeow acknowledges `pair-device`.
fn ack(iq: &Node) -> Node {
    NodeBuilder::new("iq")
        .attr("to", server_jid())
        .attr("id", attr(iq, "id").unwrap_or_default())
        .attr("type", "result")
        .build()
}

fn pair_device_sign(iq: &Node, key_index: u32, signed: Vec<u8>) -> Node {
    let identity = NodeBuilder::new("device-identity").attr("key-index", key_index.to_string()).bytes(signed).build();
    NodeBuilder::new("iq")
        .attr("to", server_jid())
        .attr("id", attr(iq, "id").unwrap_or_default())
        .attr("type", "result")
        .children([NodeBuilder::new("pair-device-sign").children([identity]).build()])
        .build()
}
