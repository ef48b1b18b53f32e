//! A million generated arguments per check (`ROSTER_FUZZ_CASES`, seeded by
//! `ROSTER_FUZZ_SEED`), and as many random JSON values for each type a
//! command deserialises: no panic, exactly the documented values accepted,
//! and every refusal a plain sentence.

use std::collections::BTreeMap;
use std::fmt::{Debug, Display};

use rand::Rng;
use roster_core::checks::{CheckFilter, CheckOrder, CheckSort, MAX_RATE, NO_LIMIT};
use roster_core::import::MAX_INPUT_BYTES;
use roster_core::{JobIntent, ListFilter};
use roster_fuzz::cases;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

use super::*;

/// The shared harness, counting what each check accepted.
struct Fuzz {
    harness: roster_fuzz::Fuzz,
    accepted: BTreeMap<&'static str, u64>,
}

impl std::ops::Deref for Fuzz {
    type Target = roster_fuzz::Fuzz;
    fn deref(&self) -> &roster_fuzz::Fuzz {
        &self.harness
    }
}

impl std::ops::DerefMut for Fuzz {
    fn deref_mut(&mut self) -> &mut roster_fuzz::Fuzz {
        &mut self.harness
    }
}

impl Fuzz {
    fn new(target: &'static str) -> Fuzz {
        Fuzz { harness: roster_fuzz::Fuzz::new(target), accepted: BTreeMap::new() }
    }

    /// Checks one answer against the expected one and counts it.
    #[track_caller]
    fn expect<I: Debug + ?Sized, T: Debug, E: Display + Debug>(
        &mut self,
        check: &'static str,
        input: &I,
        got: &Result<T, E>,
        accept: bool,
    ) {
        match got {
            Ok(_) if accept => *self.accepted.entry(check).or_default() += 1,
            Err(e) if !accept => {
                *self.rejected.entry(check).or_default() += 1;
                // Ours are plain sentences; serde's quote what they refused.
                let message = e.to_string();
                let ours = std::any::type_name::<E>().ends_with("ArgError");
                if message.trim().is_empty() || (ours && !is_clear(&message)) {
                    self.fail(input, format!("{check}: unclear refusal {message:?}"));
                }
            }
            _ => self.fail(
                input,
                format!("{check}: {got:?}, but it should be {}", if accept { "accepted" } else { "refused" }),
            ),
        }
    }

    fn summary(&self, count: u64, unit: &str) {
        let secs = self.started.elapsed().as_secs_f64();
        let per: Vec<String> = self
            .accepted
            .keys()
            .chain(self.rejected.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|k| {
                let (a, r) = (self.accepted.get(k).unwrap_or(&0), self.rejected.get(k).unwrap_or(&0));
                format!("{k} {a}/{r}")
            })
            .collect();
        println!(
            "fuzz {}: {count} {unit} each (accepted/rejected: {}); {secs:.1} s, {:.0} {unit}/s (ROSTER_FUZZ_SEED={})",
            self.target,
            per.join(", "),
            count as f64 / secs.max(1e-9),
            self.seed
        );
    }
}

// -- Generators ------------------------------------------------------

const ODD: &[char] = &[
    '\0', '\n', '\r', '\t', '\u{7f}', '\u{85}', '\u{200e}', '\u{200f}', '\u{202e}', '\u{feff}', '\u{3000}', '\u{a0}',
    'é', 'ß', '😀', '٣', '＋', '@', ':', '.', '-', '+', ' ', '"', '{', '}',
];

/// Text the window could send: numbers, JIDs, country codes, queries,
/// control characters, other scripts, and lengths around every limit.
fn text(fz: &mut Fuzz, big: &str, out: &mut String) -> Option<usize> {
    match fz.below(12) {
        0 => {}
        1 => {
            for _ in 0..fz.below(20) {
                out.push(char::from(b'0' + fz.below(10) as u8));
            }
        }
        2 => out.push_str(fz.pick(&[
            "+55 11 99999-9999",
            "5511999999999@s.whatsapp.net",
            "123456789012345@lid",
            "120363000000000001@g.us",
            "5511999999999-1600000000@g.us",
            "12-34@g.us",
            "@g.us",
            "BR",
            " us ",
            "XX",
            "b r",
            "ＢＲ",
            "\u{212a}R",
        ])),
        3 => {
            for _ in 0..fz.below(6) {
                out.push(char::from(fz.pick(b"aAbBzZ09 ")));
            }
        }
        4 | 5 => {
            for _ in 0..fz.below(30) {
                out.push(match fz.below(3) {
                    0 => fz.pick(ODD),
                    1 => char::from(b'0' + fz.below(10) as u8),
                    _ => char::from(b' ' + fz.below(95) as u8),
                });
            }
        }
        6 => {
            let mut bytes = [0u8; 48];
            let len = fz.below(49);
            fz.rng.fill_bytes(&mut bytes[..len]);
            out.push_str(&String::from_utf8_lossy(&bytes[..len]));
        }
        7 => {
            // Around a character limit, in one- to four-byte characters.
            let limit = fz.pick(&[MAX_QUERY, MAX_TARGET, MAX_COUNTRY, MAX_GROUP_JID, 15, 7]);
            let c = fz.pick(&['9', 'é', '😀', 'ж', '\u{3000}']);
            let n = (limit + fz.below(5)).saturating_sub(2);
            out.extend(std::iter::repeat_n(c, n));
        }
        8 => {
            let n = fz.below(30);
            out.push_str(&big[..n]);
            out.push_str("@g.us");
        }
        9 if fz.one_in(500) => {
            // Around the list limit: a slice of `big`, not a copy.
            return Some(MAX_INPUT_BYTES - 2 + fz.below(5));
        }
        _ => {
            let n = fz.below(2_000);
            out.push_str(&big[..n]);
        }
    }
    None
}

/// Numbers biased to the edges every check has.
fn number(fz: &mut Fuzz) -> u64 {
    let edges = [
        0,
        1,
        2,
        7,
        15,
        MAX_PAGE as u64,
        MAX_COLUMNS as u64,
        MAX_TARGETS as u64,
        MAX_LINES as u64,
        u64::from(MAX_RATE),
        MAX_OFFSET as u64,
        u64::from(u32::MAX),
        i64::MAX as u64,
        u64::MAX,
    ];
    match fz.below(4) {
        0 => fz.rng.next_u64(),
        1 => fz.below(1_000) as u64,
        _ => fz.pick(&edges).wrapping_add(fz.below(3) as u64).wrapping_sub(1),
    }
}

fn signed(fz: &mut Fuzz) -> i64 {
    let n = number(fz) as i64;
    if fz.one_in(3) { n.wrapping_neg() } else { n }
}

fn lines(fz: &mut Fuzz, out: &mut Vec<i64>) {
    let len = match fz.below(1_000) {
        0 => MAX_TARGETS - 1 + fz.below(3),
        _ => fz.below(6),
    };
    for _ in 0..len {
        let line = if fz.one_in(8) { signed(fz) } else { 1 + fz.below(MAX_LINES + 1) as i64 };
        out.push(line);
    }
}

/// One line of plain words: no braces or `Some(` of a debug print.
fn is_clear(message: &str) -> bool {
    !message.trim().is_empty()
        && !message.contains(['\n', '{', '}'])
        && !message.contains("Some(")
        && !message.contains("None")
}

// -- The checks ------------------------------------------------------

#[test]
fn every_check_accepts_exactly_what_it_documents() {
    let mut fz = Fuzz::new("args");
    let total = cases();
    let big: String = "0123456789".repeat(MAX_INPUT_BYTES / 10 + 10);
    let mut buf = String::new();
    let mut chosen: Vec<i64> = Vec::new();
    for case in 0..total {
        fz.case = case;
        buf.clear();
        let s: &str = match text(&mut fz, &big, &mut buf) {
            Some(n) => &big[..n],
            None => &buf,
        };
        let (n, m) = (number(&mut fz) as usize, number(&mut fz) as usize);
        let id = signed(&mut fz);
        let small = number(&mut fz) as u32;
        let mut cut = s.len().min(300);
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        let shown = &s[..cut];
        // Only short text is looked at character by character (8 MiB
        // would take this unoptimised test a while).
        let short = s.len() <= 4 * MAX_QUERY;

        // More than 4 × MAX_QUERY bytes is more than MAX_QUERY characters.
        let chars = if short { s.chars().count() } else { usize::MAX };
        let got = fz.call(shown, || query(s));
        fz.expect("query", shown, &got, chars <= MAX_QUERY);

        let got = fz.call(&(n, m), || page(n, m));
        fz.expect("page", &(n, m), &got, (1..=MAX_PAGE).contains(&m) && n <= MAX_OFFSET);

        let column = (!fz.one_in(3)).then_some(m);
        let got = fz.call(shown, || list(s, column));
        let fits = s.len() <= MAX_INPUT_BYTES && column.is_none_or(|c| c < MAX_COLUMNS);
        fz.expect("list", &(shown, column), &got, fits);
        if let Err(e) = &got
            && s.len() > MAX_INPUT_BYTES
        {
            // The core's own refusal.
            assert!(matches!(e, ArgError::List(ImportError::TooLarge { size }) if *size == s.len()), "{e:?}");
        }

        let got = fz.call(shown, || phone(s));
        let digits = (7..=15).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        fz.expect("phone", shown, &got, digits);
        if got.is_ok_and(|p| p != s) {
            fz.fail(shown, "phone: not handed back as given");
        }

        let got = fz.call(shown, || target(s));
        let control = short && s.chars().any(char::is_control);
        fz.expect("target", shown, &got, chars <= MAX_TARGET && !control);
        if got.is_err() && short {
            // The window's check never refuses what the core would block.
            let core = fz.call(shown, || roster_core::parse_target(s, Some("BR")));
            if let Ok(t) = core {
                fz.fail(shown, format!("target: refused, but the core reads it as {t:?}"));
            }
        }

        let got = fz.call(shown, || country(s));
        let t = s.trim();
        let two = t.is_empty() || (t.len() == 2 && t.bytes().all(|b| b.is_ascii_alphabetic()));
        fz.expect("country", shown, &got, chars <= MAX_COUNTRY && two);
        if got.is_err() && short && !t.is_empty() && fz.call(shown, || roster_core::parse_country(s)).is_ok() {
            fz.fail(shown, "country: refused, but the core knows it");
        }

        let got = fz.call(shown, || group(Some(s)));
        let jid = s.len() <= MAX_GROUP_JID && roster_core::groups::checked_group_jid(s).is_ok();
        fz.expect("group", shown, &got, jid);
        if group(None).is_err() {
            fz.fail("None", "group: no group refused");
        }

        let got = fz.call(&id, || job(id));
        fz.expect("job", &id, &got, id > 0);
        if let Err(e) = &got {
            assert!(matches!(e, ArgError::Check(CheckError::NoJob(n)) if *n == id), "{e:?}");
        }
        let got = fz.call(&id, || action(id));
        fz.expect("action", &id, &got, id > 0);
        if let Err(e) = &got {
            assert!(matches!(e, ArgError::Bulk(BulkError::NoAction(n)) if *n == id), "{e:?}");
        }

        let got = fz.call(&small, || rate(small));
        fz.expect("rate", &small, &got, small == NO_LIMIT || (1..=MAX_RATE).contains(&small));
        if let Err(e) = &got {
            assert!(matches!(e, ArgError::Check(CheckError::Rate(r)) if *r == small), "{e:?}");
        }

        let picked: Vec<Scope> = (0..fz.below(8)).map(|_| fz.pick(&Scope::ALL)).collect();
        let got = fz.call(&picked, || scopes(&picked));
        let unique = picked.iter().collect::<std::collections::BTreeSet<_>>().len() == picked.len();
        fz.expect("scopes", &picked, &got, picked.len() <= Scope::ALL.len() && unique);

        chosen.clear();
        lines(&mut fz, &mut chosen);
        let given = (!fz.one_in(4)).then_some(chosen.as_slice());
        let shown_lines = given.map(|l| &l[..l.len().min(8)]);
        let valid =
            given.is_none_or(|l| l.len() <= MAX_TARGETS && l.iter().all(|n| (1..=MAX_LINES as i64).contains(n)));
        let got = fz.call(&shown_lines, || lines_to_add(given));
        fz.expect("lines_to_add", &shown_lines, &got, valid);
        let got = fz.call(&shown_lines, || lines_to_block(given));
        fz.expect("lines_to_block", &shown_lines, &got, valid);
    }
    fz.summary(total, "inputs");
}

// -- Deserialising what the window sends -----------------------------

const NAMES: &[&str] = &[
    "contacts",
    "chats",
    "settings",
    "pins",
    "critical",
    "running",
    "paused",
    "cancelled",
    "done",
    "all",
    "blocked",
    "on_whatsapp",
    "not_on_whatsapp",
    "skipped",
    "failed",
    "line",
    "number",
    "name",
    "source",
    "by",
    "desc",
    "Running",
    "PAUSED",
    "all ",
    "",
    "onWhatsapp",
];

fn json(fz: &mut Fuzz, depth: usize) -> Value {
    match fz.below(if depth < 3 { 9 } else { 6 }) {
        0 => Value::Null,
        1 => Value::Bool(fz.one_in(2)),
        2 => {
            let n = number(fz);
            match fz.below(4) {
                0 => Value::from(n as i64),
                1 => Value::from(n),
                2 => Number::from_f64(fz.pick(&[0.5, -0.0, 1.0, 1e300, -1.5, f64::MIN_POSITIVE]))
                    .map_or(Value::Null, Value::Number),
                _ => Value::from(-(fz.below(1_000) as i64)),
            }
        }
        3 | 4 => Value::String(fz.pick(NAMES).to_owned()),
        5 => {
            let mut s = String::new();
            for _ in 0..fz.below(10) {
                s.push(fz.pick(ODD));
            }
            Value::String(s)
        }
        6 => Value::Array((0..fz.below(5)).map(|_| json(fz, depth + 1)).collect()),
        _ => {
            let mut map = Map::new();
            for _ in 0..fz.below(4) {
                let key = fz.pick(&["by", "desc", "running", "contacts", "x", ""]);
                map.insert(key.to_owned(), json(fz, depth + 1));
            }
            Value::Object(map)
        }
    }
}

/// A unit variant as serde_json reads one: `"name"`, or `{"name": null}`.
fn variant<'a>(value: &'a Value, names: &[&str]) -> Option<&'a str> {
    let name = match value {
        Value::String(s) => s.as_str(),
        Value::Object(map) if map.len() == 1 => match map.iter().next() {
            Some((k, Value::Null)) => k.as_str(),
            _ => return None,
        },
        _ => return None,
    };
    names.contains(&name).then_some(name)
}

const SORTS: &[&str] = &["line", "number", "on_whatsapp", "name", "source"];

fn valid_order(value: &Value) -> bool {
    let by = |v: Option<&Value>| v.is_none_or(|v| variant(v, SORTS).is_some());
    let desc = |v: Option<&Value>| v.is_none_or(Value::is_boolean);
    match value {
        Value::Object(map) => by(map.get("by")) && desc(map.get("desc")),
        Value::Array(items) => items.len() <= 2 && by(items.first()) && desc(items.get(1)),
        _ => false,
    }
}

fn unsigned(value: &Value, max: u64) -> bool {
    value.as_u64().is_some_and(|n| n <= max)
}

fn deserialise<T: DeserializeOwned + Debug>(fz: &mut Fuzz, name: &'static str, value: &Value, valid: bool) {
    let got = fz.call(value, || T::deserialize(value));
    fz.expect(name, value, &got, valid);
}

#[test]
fn json_arguments_deserialise_or_say_why() {
    let mut fz = Fuzz::new("args::json");
    let total = cases();
    for case in 0..total {
        fz.case = case;
        let v = json(&mut fz, 0);
        let v = &v;
        let scope = |v: &Value| variant(v, &["contacts", "chats", "settings", "pins", "critical"]).is_some();
        deserialise::<Scope>(&mut fz, "Scope", v, scope(v));
        let intents = ["pause", "resume", "cancel"];
        deserialise::<JobIntent>(&mut fz, "JobIntent", v, variant(v, &intents).is_some());
        deserialise::<ListFilter>(&mut fz, "ListFilter", v, variant(v, &["all", "blocked"]).is_some());
        let filters = ["all", "on_whatsapp", "not_on_whatsapp", "skipped", "failed"];
        deserialise::<CheckFilter>(&mut fz, "CheckFilter", v, variant(v, &filters).is_some());
        deserialise::<CheckSort>(&mut fz, "CheckSort", v, variant(v, SORTS).is_some());
        deserialise::<CheckOrder>(&mut fz, "CheckOrder", v, valid_order(v));
        deserialise::<Option<CheckOrder>>(&mut fz, "Option<CheckOrder>", v, v.is_null() || valid_order(v));
        let all_scopes = v.as_array().is_some_and(|a| a.iter().all(scope));
        deserialise::<Vec<Scope>>(&mut fz, "Vec<Scope>", v, all_scopes);
        let ids = v.as_array().is_some_and(|a| a.iter().all(|n| n.is_i64()));
        deserialise::<Option<Vec<i64>>>(&mut fz, "Option<Vec<i64>>", v, v.is_null() || ids);
        deserialise::<usize>(&mut fz, "usize", v, unsigned(v, usize::MAX as u64));
        deserialise::<Option<usize>>(&mut fz, "Option<usize>", v, v.is_null() || unsigned(v, usize::MAX as u64));
        deserialise::<u32>(&mut fz, "u32", v, unsigned(v, u64::from(u32::MAX)));
        deserialise::<i64>(&mut fz, "i64", v, v.is_i64());
        deserialise::<bool>(&mut fz, "bool", v, v.is_boolean());
        deserialise::<String>(&mut fz, "String", v, v.is_string());
        deserialise::<Option<String>>(&mut fz, "Option<String>", v, v.is_null() || v.is_string());

        // What deserialises goes on to the checks, which never panic.
        if let Ok(picked) = Vec::<Scope>::deserialize(v) {
            let got = fz.call(v, || scopes(&picked));
            if let Err(e) = got {
                assert!(is_clear(&e.to_string()));
            }
        }
        if let Ok(Some(chosen)) = Option::<Vec<i64>>::deserialize(v) {
            let _ = fz.call(v, || lines_to_block(Some(&chosen)));
        }
    }
    fz.summary(total, "values");
}
