//! Faults armed by tests and demos: the next IQs of a namespace answer an
//! error instead of being handled, as a failing real server does.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Deserialize;

/// One armed error reply.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct IqFault {
    /// The IQ namespace it hits (`blocklist`, `usync`, `w:profile:picture`...).
    pub xmlns: String,
    /// The error code in the reply (`500`, `503`, `429`...).
    pub code: u16,
    #[serde(default = "default_text")]
    pub text: String,
}

fn default_text() -> String {
    "internal-server-error".into()
}

#[derive(Default)]
pub struct Faults {
    iq: Mutex<VecDeque<IqFault>>,
}

impl Faults {
    /// Arms `fault` for the next IQ of its namespace (faults queue up).
    pub fn arm(&self, fault: IqFault) {
        self.iq.lock().unwrap_or_else(|p| p.into_inner()).push_back(fault);
    }

    /// Faults armed and not yet used.
    pub fn armed(&self) -> usize {
        self.iq.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Takes the first fault armed for `xmlns`, if any.
    pub fn take(&self, xmlns: &str) -> Option<IqFault> {
        let mut queue = self.iq.lock().unwrap_or_else(|p| p.into_inner());
        let at = queue.iter().position(|f| f.xmlns == xmlns)?;
        queue.remove(at)
    }
}
