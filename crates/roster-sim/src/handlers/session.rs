//! What the server says first on a new connection: `pair-device` for a
//! registering companion, `<success>` (or `<failure>`) for a login, then
//! what the phone queued for a new companion (key share, history sync).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use tracing::{info, warn};
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, Node};
use waproto::whatsapp as wa;

use super::{Ctx, Outcome, send};
use crate::nodes::{server_jid, unix_now};
use crate::phone::{history_sync, key_share};
use crate::state::Registration;

/// How many QR refs the server hands out per pairing connection, as the real one does.
pub const REF_COUNT: usize = 6;

pub async fn open(ctx: &mut Ctx, payload: &wa::ClientPayload, client_static: &[u8; 32]) -> Vec<Outcome> {
    if let Some(data) = payload.device_pairing_data.as_option() {
        return match registration(data, client_static, payload.push_name.clone()) {
            Some(reg) => offer_refs(ctx, reg),
            None => {
                warn!("registration payload is incomplete");
                vec![Outcome::Close(Some(failure("400")))]
            }
        };
    }
    login(ctx, payload, client_static).await
}

fn registration(
    data: &wa::client_payload::DevicePairingRegistrationData,
    noise_key: &[u8; 32],
    push_name: Option<String>,
) -> Option<Registration> {
    let be_u32 = |b: &Option<Vec<u8>>| -> Option<u32> {
        let b = b.as_ref()?;
        (b.len() <= 4).then(|| b.iter().fold(0u32, |acc, x| (acc << 8) | u32::from(*x)))
    };
    Some(Registration {
        noise_key: *noise_key,
        identity: data.e_ident.clone()?.try_into().ok()?,
        registration_id: be_u32(&data.e_regid)?,
        signed_prekey_id: be_u32(&data.e_skey_id)?,
        signed_prekey: data.e_skey_val.clone()?.try_into().ok()?,
        signed_prekey_sig: data.e_skey_sig.clone()?,
        push_name,
    })
}

/// A registering companion belongs to no account yet: its refs wait in the
/// lobby for whichever phone scans one (or names its number by code).
fn offer_refs(ctx: &mut Ctx, registration: Registration) -> Vec<Outcome> {
    let mut rng: rand::rngs::StdRng = rand::make_rng();
    let pairing_refs: Vec<String> =
        (0..REF_COUNT).map(|_| format!("2@{}", URL_SAFE_NO_PAD.encode(rng.random::<[u8; 18]>()))).collect();
    ctx.shared.lobby().enter(ctx.conn, registration, ctx.pushes.clone(), &pairing_refs);
    let refs: Vec<Node> =
        pairing_refs.into_iter().map(|r| NodeBuilder::new("ref").bytes(r.into_bytes()).build()).collect();
    info!("companion registering; offered {REF_COUNT} QR refs");
    let iq = NodeBuilder::new("iq")
        .attr("from", server_jid())
        .attr("type", "set")
        .attr("id", format!("pd-{}", ctx.shared.next_id()))
        .attr("xmlns", "md")
        .children([NodeBuilder::new("pair-device").children(refs).build()])
        .build();
    send(iq)
}

async fn login(ctx: &mut Ctx, payload: &wa::ClientPayload, client_static: &[u8; 32]) -> Vec<Outcome> {
    let (Some(user), Some(device)) = (payload.username, payload.device) else {
        warn!("login payload without username/device");
        return vec![Outcome::Close(Some(failure("401")))];
    };
    let Ok(device) = u16::try_from(device) else {
        return vec![Outcome::Close(Some(failure("401")))];
    };
    // The device JID in the payload names the account: its world answers.
    let Some(account_no) = ctx.shared.account_with_phone(&user.to_string()) else {
        info!(device, "login refused: no account has this number");
        return vec![Outcome::Close(Some(failure("401")))];
    };
    let (lid, share) = {
        let mut world = ctx.shared.world_of(account_no);
        let account = &world.account;
        let known = account.devices.get(&device).is_some_and(|d| d.registration.noise_key == *client_static);
        if !known {
            info!(device, "login refused: unknown device or wrong noise key");
            return vec![Outcome::Close(Some(failure("401")))];
        }
        world.connections.insert(ctx.conn, ctx.pushes.clone());
        world.logged_in.insert(ctx.conn, device);
        ctx.shared.counters.logins.add();
        let account = &mut world.account;
        let lid = Jid::lid_device(account.lid.as_str(), device);
        let dev = account.devices.get_mut(&device).expect("checked above");
        let share = (!dev.keys_shared).then(|| dev.registration.clone());
        (lid, share)
    };
    ctx.account = Some(account_no);
    ctx.device = Some(device);
    info!(account = account_no, device, "logged in");
    let success = NodeBuilder::new("success")
        .attr("t", unix_now().to_string())
        .attr("lid", lid)
        .attr("props", "1")
        .attr("location", "sim")
        .build();
    let mut out = send(success);
    if let Some(registration) = share {
        match key_share::message(&ctx.shared, account_no, device, &registration).await {
            Ok(message) => out.push(Outcome::Send(message)),
            Err(e) => warn!("cannot build the app-state key share: {e}"),
        }
    }
    match history_sync::messages(&ctx.shared, account_no, device).await {
        Ok(messages) => out.extend(messages.into_iter().map(Outcome::Send)),
        Err(e) => warn!("cannot build the history sync: {e}"),
    }
    out
}

pub fn failure(reason: &str) -> Node {
    NodeBuilder::new("failure").attr("reason", reason).build()
}
