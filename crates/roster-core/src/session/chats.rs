//! `session.chats()`: a 1:1 chat's disappearing-message timer, as the
//! phone's history sync gave it or as the account last set it, and setting
//! it (sent to the chat as WhatsApp does, saved, audited).

use tracing::{Instrument, info_span};

use super::audit::audited;
use super::{DEFAULT_COUNTRY, Session};
use crate::chats::{self, ChatError, ChatTimer};
use crate::clock::unix_now;
use crate::groups::Timer;
use crate::numbers::{Target, parse_target};
use crate::store::StoreError;

/// `session.chats()`.
#[derive(Clone, Copy)]
pub struct Chats<'a>(pub(super) &'a Session);

impl Chats<'_> {
    /// Sets (seconds, up to `CHAT_TIMER_MAX`) or clears (0) the timer of the
    /// 1:1 chat with `person` (a number in any common format, a PN JID or a
    /// LID JID). Refused, with nothing sent, for a length WhatsApp does not
    /// take or when not connected. Saved before it is reported; audited.
    pub async fn set_timer(self, person: &str, seconds: u32) -> Result<ChatTimer, ChatError> {
        let span = info_span!("session.set_chat_timer", seconds);
        let describe = |t: &ChatTimer| match t.seconds {
            0 => "disappearing messages off".to_owned(),
            s => format!("disappearing messages after {s} s"),
        };
        let work = async {
            let country = self.0.store.setting(DEFAULT_COUNTRY)?;
            let jid = match parse_target(person, country.as_deref())? {
                Target::Phone(e164) => format!("{e164}@s.whatsapp.net"),
                Target::Lid(lid) => format!("{lid}@lid"),
            };
            let timer = Timer::for_chat(seconds).ok_or(ChatError::BadTimer(seconds))?;
            let client = self.0.connected_client().await.ok_or(ChatError::NotConnected)?;
            chats::send_timer(&client, &jid, timer).await?;
            // Durable before done.
            let set_at = unix_now();
            self.0.store.chats().set_timer(&jid, timer.seconds(), set_at)?;
            Ok(ChatTimer { chat: jid, seconds: timer.seconds(), set_at: Some(set_at) })
        };
        audited(&self.0.store, "set chat timer", Some(person.trim()), describe, work).instrument(span).await
    }

    /// The timer of the 1:1 chat with the person whose number is `phone`
    /// (E.164 digits) or whose LID is `lid`: the one set last of their
    /// chats; `None` when the phone has no chat with them.
    pub fn timer(self, phone: &str, lid: Option<&str>) -> Result<Option<ChatTimer>, StoreError> {
        let pn = format!("{phone}@s.whatsapp.net");
        let lid = lid.map(|l| format!("{l}@lid"));
        let mut jids = vec![pn.as_str()];
        jids.extend(lid.as_deref());
        Ok(self.0.store.chats().newest_of(&jids)?.map(|c| ChatTimer {
            chat: c.jid,
            seconds: c.ephemeral_expiration,
            set_at: c.ephemeral_set_at,
        }))
    }
}
