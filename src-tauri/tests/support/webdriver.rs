//! A minimal W3C WebDriver client: the handful of endpoints the GUI tests
//! use, as JSON over HTTP (ureq), talking to `tauri-driver`.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

/// An error answered by the remote end, or a transport failure.
#[derive(Debug)]
pub struct WdError {
    /// The W3C error code ("no such element", …), or "transport".
    pub error: String,
    pub message: String,
}

impl fmt::Display for WdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "webdriver: {}: {}", self.error, self.message)
    }
}

impl std::error::Error for WdError {}

pub type WdResult<T> = Result<T, WdError>;

fn transport(e: impl fmt::Display) -> WdError {
    WdError { error: "transport".into(), message: e.to_string() }
}

#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    /// `base` is the remote end, e.g. `http://127.0.0.1:4444`.
    pub fn new(base: impl Into<String>) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Creating a session launches the app; allow for a cold start.
            .timeout_global(Some(Duration::from_secs(120)))
            // Loopback only: never go through a proxy from the environment.
            .proxy(None)
            .build()
            .into();
        Client { base: base.into(), agent }
    }

    /// Sends one command; returns the response's `value`.
    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> WdResult<Value> {
        let url = format!("{}{}", self.base, path);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            ("POST", body) => {
                let body = body.cloned().unwrap_or_else(|| json!({})).to_string();
                self.agent.post(&url).header("content-type", "application/json; charset=utf-8").send(body)
            }
            _ => unreachable!("unsupported method {method}"),
        };
        let mut response = response.map_err(transport)?;
        let status = response.status();
        let text = response.body_mut().with_config().limit(256 << 20).read_to_string().map_err(transport)?;
        let parsed: Value = serde_json::from_str(&text).map_err(|e| WdError {
            error: "invalid response".into(),
            message: format!("HTTP {status} from {method} {path}: {e}: {text:.300}"),
        })?;
        let value = parsed.get("value").cloned().unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(WdError {
                error: value["error"].as_str().unwrap_or("unknown error").to_owned(),
                message: value["message"].as_str().unwrap_or(&text).to_owned(),
            });
        }
        Ok(value)
    }

    /// True once the remote end answers `/status` and is ready.
    pub fn ready(&self) -> bool {
        matches!(self.send("GET", "/status", None), Ok(v) if v["ready"].as_bool() != Some(false))
    }

    /// Starts a session on a Tauri app: `tauri-driver` turns `tauri:options`
    /// into the native driver's options (WebKitWebDriver's
    /// `webkitgtk:browserOptions` on Linux) and the app is launched.
    pub fn new_tauri_session(&self, application: &Path, args: &[String]) -> WdResult<Session> {
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "tauri:options": { "application": application, "args": args }
                }
            }
        });
        let value = self.send("POST", "/session", Some(&capabilities))?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| WdError { error: "invalid response".into(), message: format!("no sessionId in {value}") })?
            .to_owned();
        Ok(Session { client: self.clone(), id, ended: false })
    }
}

/// A WebDriver element reference.
#[derive(Clone, Debug)]
pub struct Element(String);

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// W3C WebDriver codes of the keys that are not characters, for [`Session::keys`].
pub mod key {
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const SHIFT: &str = "\u{E008}";
    pub const CONTROL: &str = "\u{E009}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const END: &str = "\u{E010}";
    pub const HOME: &str = "\u{E011}";
    pub const ARROW_UP: &str = "\u{E013}";
    pub const ARROW_DOWN: &str = "\u{E015}";
}

/// A running session; deleting it (or dropping it) quits the app.
pub struct Session {
    client: Client,
    id: String,
    ended: bool,
}

impl Session {
    fn cmd(&self, method: &str, path: &str, body: Option<&Value>) -> WdResult<Value> {
        self.client.send(method, &format!("/session/{}{}", self.id, path), body)
    }

    /// The first element matching `css`, if any.
    pub fn find(&self, css: &str) -> WdResult<Option<Element>> {
        match self.cmd("POST", "/element", Some(&json!({ "using": "css selector", "value": css }))) {
            Ok(v) => Ok(v[ELEMENT_KEY].as_str().map(|id| Element(id.to_owned()))),
            Err(e) if e.error == "no such element" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// An attribute of the first element matching `css` (`None` if there is
    /// no such element or attribute).
    pub fn attribute(&self, css: &str, name: &str) -> WdResult<Option<String>> {
        let Some(Element(id)) = self.find(css)? else { return Ok(None) };
        match self.cmd("GET", &format!("/element/{id}/attribute/{name}"), None) {
            Ok(v) => Ok(v.as_str().map(str::to_owned)),
            Err(e) if e.error == "stale element reference" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The rendered (visible) text of the first element matching `css`.
    pub fn text(&self, css: &str) -> WdResult<Option<String>> {
        let Some(Element(id)) = self.find(css)? else { return Ok(None) };
        match self.cmd("GET", &format!("/element/{id}/text"), None) {
            Ok(v) => Ok(v.as_str().map(str::to_owned)),
            Err(e) if e.error == "stale element reference" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Clicks the first element matching `css` as a user would (the driver
    /// scrolls it into view and refuses if something covers it).
    pub fn click(&self, css: &str) -> WdResult<()> {
        let Element(id) = self.require(css)?;
        self.cmd("POST", &format!("/element/{id}/click"), Some(&json!({}))).map(drop)
    }

    /// Types `text` into the first element matching `css`, key by key.
    pub fn type_text(&self, css: &str, text: &str) -> WdResult<()> {
        let Element(id) = self.require(css)?;
        self.cmd("POST", &format!("/element/{id}/value"), Some(&json!({ "text": text }))).map(drop)
    }

    /// Empties the input matching `css`.
    pub fn clear(&self, css: &str) -> WdResult<()> {
        let Element(id) = self.require(css)?;
        self.cmd("POST", &format!("/element/{id}/clear"), Some(&json!({}))).map(drop)
    }

    fn require(&self, css: &str) -> WdResult<Element> {
        self.find(css)?.ok_or_else(|| WdError { error: "no such element".into(), message: css.to_owned() })
    }

    /// Presses keys as a user would, to whatever has focus: each chord's
    /// keys go down in order and up in reverse (`&[CONTROL, TAB]` is
    /// Ctrl+Tab); chords follow one another. Keys are characters or the
    /// W3C codes below.
    pub fn keys(&self, chords: &[&[&str]]) -> WdResult<()> {
        let mut actions = Vec::new();
        for chord in chords {
            actions.extend(chord.iter().map(|k| json!({ "type": "keyDown", "value": k })));
            actions.extend(chord.iter().rev().map(|k| json!({ "type": "keyUp", "value": k })));
        }
        let body = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] });
        self.cmd("POST", "/actions", Some(&body))?;
        self.cmd("DELETE", "/actions", None).map(drop)
    }

    /// Resizes the window (outer size, in CSS pixels).
    pub fn set_window_size(&self, width: u32, height: u32) -> WdResult<()> {
        self.cmd("POST", "/window/rect", Some(&json!({ "width": width, "height": height }))).map(drop)
    }

    /// Runs `script` (a function body) in the page and returns its result.
    pub fn execute(&self, script: &str, args: Value) -> WdResult<Value> {
        self.cmd("POST", "/execute/sync", Some(&json!({ "script": script, "args": args })))
    }

    /// Runs `script` (a function body whose last argument is a callback)
    /// and returns what it passes to the callback.
    pub fn execute_async(&self, script: &str, args: Value) -> WdResult<Value> {
        self.cmd("POST", "/execute/async", Some(&json!({ "script": script, "args": args })))
    }

    /// Returns once the page has painted its current DOM (two animation
    /// frames), so a screenshot shows what the last check saw.
    pub fn settle(&self) -> WdResult<()> {
        self.execute_async(
            "const done = arguments[arguments.length - 1];
             requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            json!([]),
        )
        .map(drop)
    }

    /// A PNG screenshot of the window's page.
    pub fn screenshot(&self) -> WdResult<Vec<u8>> {
        let value = self.cmd("GET", "/screenshot", None)?;
        let b64 = value.as_str().ok_or_else(|| WdError {
            error: "invalid response".into(),
            message: "screenshot is not a string".into(),
        })?;
        base64::engine::general_purpose::STANDARD.decode(b64).map_err(transport)
    }

    /// Ends the session; the driver stops the app if it is still running.
    pub fn end(mut self) -> WdResult<()> {
        self.close()
    }

    /// Ends the session in place (for replacing it with a new one).
    pub fn close(&mut self) -> WdResult<()> {
        self.ended = true;
        self.cmd("DELETE", "", None).map(drop)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.cmd("DELETE", "", None);
        }
    }
}
