//! `md` (multi-device): the companion's answer to pairing
//! (`pair-device-sign`), linking by a code typed on the phone
//! (`link_code_companion_reg`, see `phone::pair_code`), and a companion
//! unlinking itself.

use tracing::{info, warn};
use wacore_binary::{Jid, Node};

use super::{Ctx, Outcome, send};
use crate::lobby::ClaimError;
use crate::nodes::{attr, bytes, child, iq_error, iq_result, stream_error};
use crate::phone::pair_code::HelloError;
use crate::phone::{self, LinkError, devices, pair_code};

/// Client replies to server IQs. The one that matters is `pair-device-sign`.
pub fn on_client_reply(ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    if let Some(error) = child(iq, "error") {
        warn!(code = ?attr(error, "code"), text = ?attr(error, "text"), "client refused a server IQ");
        return Vec::new();
    }
    let Some(signed) = child(iq, "pair-device-sign").and_then(|s| child(s, "device-identity")).and_then(bytes) else {
        return Vec::new();
    };
    let Some(account) = ctx.account() else {
        warn!("{}", LinkError::NotScanned);
        return Vec::new();
    };
    let linked = phone::link_signed(&mut ctx.shared.world_of(account), ctx.conn, signed);
    match linked {
        Ok(device) => {
            info!(device, "companion linked; asking it to restart");
            vec![Outcome::Close(Some(stream_error("515", None)))]
        }
        Err(e @ LinkError::NotScanned) => {
            warn!("{e}");
            Vec::new()
        }
        Err(e @ LinkError::Signature(_)) => {
            warn!("{e}");
            vec![Outcome::Close(Some(stream_error("401", None)))]
        }
    }
}

pub fn handle(ctx: &mut Ctx, iq: &Node) -> Vec<Outcome> {
    if let Some(reg) = child(iq, "link_code_companion_reg") {
        return link_code(ctx, iq, reg);
    }
    if let Some(remove) = child(iq, "remove-companion-device") {
        let jid = attr(remove, "jid").and_then(|j| j.parse::<Jid>().ok());
        let device = jid.map(|j| j.device).filter(|d| *d != 0).or(ctx.device);
        if let (Some(device), Some(account)) = (device, ctx.account()) {
            devices::unlink(&mut ctx.shared.world_of(account), device);
            info!(device, reason = ?attr(remove, "reason"), "companion unlinked itself");
        }
    }
    send(iq_result(iq, Vec::new()))
}

/// `companion_hello` (answered with a pairing ref) and `companion_finish`
/// (acknowledged; the phone opens the bundle and, if the typed code was
/// right, signs the device in).
fn link_code(ctx: &mut Ctx, iq: &Node, reg: &Node) -> Vec<Outcome> {
    match attr(reg, "stage").as_deref() {
        Some("companion_hello") => match hello(ctx, reg) {
            Ok(pairing_ref) => send(iq_result(iq, vec![pair_code::hello_answer(pairing_ref)])),
            Err(e) => {
                warn!("{e}");
                send(iq_error(iq, 400, "bad-request"))
            }
        },
        Some("companion_finish") => {
            let result = match ctx.account() {
                Some(account) => {
                    let shared = ctx.shared.clone();
                    let mut world = shared.world_of(account);
                    pair_code::companion_finish(&shared, &mut world, ctx.conn, reg)
                }
                None => Err(pair_code::CodeError::NoRequest),
            };
            match result {
                // The server acknowledges the bundle whether or not the phone can open it.
                Ok(()) | Err(pair_code::CodeError::WrongCode | pair_code::CodeError::Bundle(_)) => {
                    send(iq_result(iq, Vec::new()))
                }
                Err(e) => {
                    warn!("{e}");
                    send(iq_error(iq, 400, "bad-request"))
                }
            }
        }
        other => {
            warn!(stage = ?other, "unknown link_code_companion_reg stage");
            send(iq_error(iq, 400, "bad-request"))
        }
    }
}

/// `companion_hello`: the account whose number the companion names claims
/// the connection and keeps the request. A number no account has is
/// answered all the same (the server does not tell who is on WhatsApp);
/// no phone will ever type that code.
fn hello(ctx: &mut Ctx, reg: &Node) -> Result<Vec<u8>, HelloError> {
    let hello = pair_code::parse_hello(reg)?;
    let Some(account) = ctx.shared.account_with_phone(&hello.phone) else {
        let registration = ctx.shared.lobby().registration(ctx.conn).ok_or(HelloError::NotPairing)?;
        hello.check_noise(&registration)?;
        info!("a companion asked for a code for a number no simulated phone has");
        let mut rng: rand::rngs::StdRng = rand::make_rng();
        return Ok(pair_code::new_ref(&mut rng));
    };
    let (registration, pushes) = ctx.shared.lobby().claim(ctx.conn, account).map_err(|e| match e {
        ClaimError::Gone => HelloError::NotPairing,
        ClaimError::Taken(_) => HelloError::OtherAccount,
    })?;
    let mut world = ctx.shared.world_of(account);
    world.connections.insert(ctx.conn, pushes);
    pair_code::companion_hello(&mut world, ctx.conn, registration, hello)
}
