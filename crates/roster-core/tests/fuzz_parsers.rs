//! Property and fuzz tests of every parser the core has for what an
//! operator types or loads: numbers (with and without a default country),
//! countries, JIDs (the core's own reading, the group JID check, and the
//! client's `Jid` parser) and pasted or loaded lists, plain and CSV.
//!
//! Each parser gets `ROSTER_FUZZ_CASES` inputs (default 1 000 000; for lists,
//! lines across the generated documents) from a deterministic generator
//! seeded by `ROSTER_FUZZ_SEED`: real-looking input with random mutations,
//! and pure noise. Every call runs under `catch_unwind`; a panic or a broken
//! property fails the test with the input (`{:?}`) and the seed. Each test
//! prints one summary line (`cargo test ... -- --nocapture` shows it).

use std::collections::HashMap;
use std::str::FromStr;

use rand::Rng;
use roster_core::groups::{GroupError, checked_group_jid};
use roster_core::import::{self, ImportError, MAX_INPUT_BYTES, MAX_LINES, Parsed, Preview};
use roster_core::numbers::{Target, TargetError, parse_country, parse_target, shown};
use roster_fuzz::{Fuzz, cases};
use whatsapp_rust::Jid;

// ---------------------------------------------------------------------------
// The harness (shared: `roster-fuzz`), with libphonenumber's cache widened.

/// libphonenumber compiles its patterns into a 100-entry LRU cache; inputs
/// from many countries would recompile them for nearly every call (about
/// 0.3 ms each in a debug build). A bigger cache changes no answer.
fn roomy_pattern_cache() {
    phonenumber::metadata::DATABASE.cache().lock().expect("the pattern cache").set_capacity(20_000);
}

/// The harness for one parser.
fn fuzz(target: &'static str) -> Fuzz {
    roomy_pattern_cache();
    Fuzz::new(target)
}

// ---------------------------------------------------------------------------
// Generators: real-looking input, mutated, and noise.

const SEPARATORS: &[char] = &[' ', '-', '.', '(', ')', '+', '/', '\u{a0}'];
/// What real input also holds: control and direction marks, other scripts'
/// digits, look-alike signs, quotes and the list delimiters.
const ODD: &[char] = &[
    '\0',
    '\u{200e}',
    '\u{200f}',
    '\u{202e}',
    '\u{feff}',
    '\u{200b}',
    '\u{0663}',
    '\u{06f3}',
    '\u{0969}',
    '\u{ff13}',
    '\u{1d7ce}',
    '\u{3000}',
    '\u{2212}',
    '\u{2013}',
    '\u{ff0b}',
    '\t',
    '\n',
    '\r',
    'é',
    'ß',
    'K',
    '😀',
    '@',
    ':',
    '_',
    '"',
    '\'',
    ',',
    ';',
    '#',
    '*',
    'x',
    'e',
    '{',
    '}',
    '%',
    '\\',
    '~',
];
const CALLING_CODES: &[&str] = &[
    "1", "7", "20", "27", "30", "31", "33", "34", "39", "44", "49", "52", "54", "55", "61", "62", "81", "86", "91",
    "234", "351", "353", "358", "380", "683", "852", "971", "998", "800", "882", "0", "999", "28", "42", "80", "3",
];
/// Default countries, known and not.
const COUNTRIES: &[&str] = &[
    "BR", "US", "DE", "GB", "IN", "FR", "IT", "NG", "AR", "MX", "JP", "ZA", "AU", "NU", "br", "us", " de ", "XX", "ZZ",
    "", "B", "USA", "🇧🇷", "001", "419", "Br",
];
/// National formats: country, trunk prefix, leading digits, national length.
const NATIONAL: &[(&str, &str, &str, usize)] = &[
    ("BR", "0", "119", 11),
    ("BR", "0", "21", 10),
    ("BR", "0", "8", 10),
    ("US", "1", "212", 10),
    ("US", "", "415", 10),
    ("DE", "0", "151", 11),
    ("DE", "0", "30", 10),
    ("GB", "0", "7", 10),
    ("IN", "0", "9", 10),
    ("FR", "0", "6", 9),
    ("IT", "", "3", 10),
    ("IT", "", "06", 10),
    ("NG", "0", "80", 10),
    ("AR", "0", "11", 10),
    ("MX", "", "55", 10),
    ("JP", "0", "90", 10),
    ("ZA", "0", "82", 9),
    ("AU", "0", "4", 9),
];
const SERVERS: &[&str] = &[
    "s.whatsapp.net",
    "s.whatsapp.net",
    "s.whatsapp.net",
    "lid",
    "lid",
    "lid",
    "c.us",
    "S.WhatsApp.NET",
    "LID",
    "g.us",
    "newsletter",
    "broadcast",
    "hosted",
    "hosted.lid",
    "bot",
    "call",
    "msgr",
    "interop",
    "example.com",
    "",
    "whatsapp.net",
    "s.whatsapp.net.",
    "lid ",
    "g.us:1",
];

/// Digits as people type them: grouped by spaces, dashes or dots, or with
/// separators anywhere.
fn typed_digits(fz: &mut Fuzz, out: &mut String, lead: &str, count: usize) {
    let style = fz.below(6);
    let sep = fz.pick(SEPARATORS);
    let group = 2 + fz.below(3);
    for i in 0..count.max(lead.len()) {
        if i > 0 {
            match style {
                1 if i % group == 0 => out.push(' '),
                2 | 3 if i % group == 0 => out.push(sep),
                4 if fz.one_in(4) => out.push(fz.pick(SEPARATORS)),
                _ => {}
            }
        }
        out.push(lead.as_bytes().get(i).map_or_else(|| fz.digit(), |b| char::from(*b)));
    }
}

fn separator(fz: &mut Fuzz, out: &mut String) {
    match fz.below(4) {
        0 => {}
        1 => out.push(' '),
        _ => out.push(fz.pick(SEPARATORS)),
    }
}

/// `+55 11 …`, `0055 …`, `(+55) …`.
fn international(fz: &mut Fuzz, out: &mut String) {
    let parens = match fz.below(7) {
        0..=2 => {
            out.push('+');
            false
        }
        3 => {
            out.push_str("00");
            false
        }
        4 => {
            out.push_str("(+");
            true
        }
        5 => {
            out.push_str("+ ");
            false
        }
        _ => {
            out.push_str(" +");
            false
        }
    };
    out.push_str(fz.pick(CALLING_CODES));
    if parens {
        out.push(')');
    }
    separator(fz, out);
    let count = 4 + fz.below(11);
    typed_digits(fz, out, "", count);
}

/// A national number, returning its country: `(11) 99999-9999`, `0151 …`.
fn national(fz: &mut Fuzz, out: &mut String) -> &'static str {
    let (country, trunk, lead, len) = fz.pick(NATIONAL);
    if fz.one_in(2) {
        out.push_str(trunk);
    }
    if fz.one_in(3) && lead.len() >= 2 {
        out.push('(');
        out.push_str(&lead[..2]);
        out.push_str(") ");
        let len = len.saturating_sub(2) + fz.below(3);
        typed_digits(fz, out, &lead[2..], len.saturating_sub(1));
    } else {
        let len = if fz.one_in(5) { len + fz.below(5) - 2 } else { len };
        typed_digits(fz, out, lead, len);
    }
    country
}

fn junk(fz: &mut Fuzz, out: &mut String, max: usize) {
    for _ in 0..fz.below(max + 1) {
        let c = match fz.below(5) {
            0 | 1 => fz.digit(),
            2 => fz.pick(SEPARATORS),
            3 => fz.pick(ODD),
            _ => char::from(b'a' + fz.below(26) as u8),
        };
        out.push(c);
    }
}

/// Random bytes read as UTF-8, replacement characters and all.
fn lossy(fz: &mut Fuzz, out: &mut String, max: usize) {
    let mut bytes = [0u8; 64];
    let len = fz.below(max.min(64) + 1);
    fz.rng.fill_bytes(&mut bytes[..len]);
    out.push_str(&String::from_utf8_lossy(&bytes[..len]));
}

fn long(fz: &mut Fuzz, out: &mut String) {
    let len = 65 + fz.below(4_000);
    match fz.below(3) {
        0 => out.extend(std::iter::repeat_n('9', len)),
        1 => {
            out.push('+');
            out.extend(std::iter::repeat_n("55 ", len / 3));
        }
        _ => {
            while out.len() < len {
                junk(fz, out, 40);
                out.push(' ');
            }
        }
    }
}

fn user_digits(fz: &mut Fuzz, out: &mut String, count: usize) {
    for i in 0..count {
        out.push(if i == 0 && !fz.one_in(10) { char::from(b'1' + fz.below(9) as u8) } else { fz.digit() });
    }
}

/// A JID or something like one: PN and LID users with agents and devices,
/// groups, channels, broadcasts, servers alone, two `@`s.
fn jid(fz: &mut Fuzz, out: &mut String) {
    match fz.below(14) {
        0..=5 => {
            let count = if fz.one_in(4) { fz.below(25) } else { 7 + fz.below(9) };
            user_digits(fz, out, count);
            if fz.one_in(5) {
                out.push('.');
                for _ in 0..fz.below(7) {
                    out.push(fz.digit());
                }
            }
            if fz.one_in(3) {
                out.push(':');
                match fz.below(5) {
                    0 => junk(fz, out, 3),
                    _ => {
                        for _ in 0..fz.below(6) {
                            out.push(fz.digit());
                        }
                    }
                }
            }
            out.push('@');
            out.push_str(fz.pick(SERVERS));
        }
        6 => match fz.below(3) {
            0 => {
                out.push_str("120363");
                user_digits(fz, out, 12);
                out.push_str("@g.us");
            }
            1 => {
                user_digits(fz, out, 13);
                out.push('-');
                user_digits(fz, out, 10);
                out.push_str("@g.us");
            }
            _ => {
                let (head, tail) = (fz.below(45), fz.below(4));
                user_digits(fz, out, head);
                if fz.one_in(2) {
                    out.push('-');
                }
                user_digits(fz, out, tail);
                out.push_str("@g.us");
            }
        },
        7 => out.push_str(fz.pick(&[
            "status@broadcast",
            "120363000000000001@newsletter",
            "1234567890@broadcast",
            "0@s.whatsapp.net",
            "@s.whatsapp.net",
            "@lid",
            "@",
            "@@",
            "s.whatsapp.net",
            "lid",
            "lid@",
            "5511999999999@",
            "server@s.whatsapp.net",
            "123456789012345@lid@lid",
            "5511999999999@s.whatsapp.net@g.us",
            "5511999999999:1:2@s.whatsapp.net",
            "5511999999999.0:12@s.whatsapp.net",
            "123456789012345.5@lid",
            "123456789012345:99999@lid",
            "5511999999999_1@s.whatsapp.net",
            "5511999999999@hosted",
        ])),
        8 => {
            user_digits(fz, out, 3);
            out.push('@');
            user_digits(fz, out, 3);
            out.push('@');
            out.push_str(fz.pick(SERVERS));
        }
        9 => {
            junk(fz, out, 12);
            out.push('@');
            junk(fz, out, 6);
        }
        10 => {
            for _ in 0..1 + fz.below(8) {
                out.push(char::from(b'a' + fz.below(26) as u8));
            }
            out.push('@');
            out.push_str(fz.pick(SERVERS));
        }
        11 => {
            international(fz, out);
            out.push('@');
            out.push_str(fz.pick(SERVERS));
        }
        12 => lossy(fz, out, 30),
        _ => {
            let count = 1 + fz.below(20);
            user_digits(fz, out, count);
            out.push('@');
            let server = fz.pick(SERVERS);
            for c in server.chars() {
                out.push(if fz.one_in(3) { c.to_ascii_uppercase() } else { c });
            }
        }
    }
    if fz.one_in(5) {
        mutate(fz, out);
    }
}

fn boundary(fz: &mut Fuzz, s: &str) -> usize {
    let mut i = fz.below(s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One to three small edits: a character inserted, dropped or swapped for
/// another script's digit, whitespace around, a mark in front, a NUL at the end.
fn mutate(fz: &mut Fuzz, out: &mut String) {
    for _ in 0..1 + fz.below(3) {
        match fz.below(10) {
            0 | 1 => {
                let at = boundary(fz, out);
                out.insert(at, fz.pick(ODD));
            }
            2 => {
                let at = boundary(fz, out);
                out.insert(at, fz.pick(SEPARATORS));
            }
            3 => {
                let at = boundary(fz, out);
                if at < out.len() {
                    out.remove(at);
                }
            }
            4 => {
                if let Some(at) = out.find(|c: char| c.is_ascii_digit()) {
                    let d = u32::from(out.as_bytes()[at] - b'0');
                    let base = fz.pick(&[0x0660u32, 0x06f0, 0x0966, 0xff10, 0x1d7ce]);
                    out.replace_range(at..at + 1, &char::from_u32(base + d).unwrap_or('?').to_string());
                }
            }
            5 => {
                let space = fz.pick(&[" ", "\t", "\u{3000}", "\u{a0}", "  \u{2003}"]);
                out.insert_str(0, space);
                out.push_str(space);
            }
            6 => out.insert(0, fz.pick(&['\u{feff}', '\u{200f}', '\u{200e}', '\u{202b}', '+', '0'])),
            7 => out.push('\0'),
            8 if out.len() < 200 => {
                let copy = out.clone();
                out.push_str(&copy);
            }
            _ => {
                let at = boundary(fz, out);
                out.truncate(at);
            }
        }
    }
}

/// Something an operator might type in the number box; with the country it
/// is written for, when it is a national number.
fn number(fz: &mut Fuzz, out: &mut String) -> Option<&'static str> {
    let country = match fz.below(20) {
        0..=6 => {
            international(fz, out);
            None
        }
        7..=11 => Some(national(fz, out)),
        12 => {
            let count = fz.below(21);
            typed_digits(fz, out, "", count);
            None
        }
        13 | 14 => {
            jid(fz, out);
            None
        }
        15 => {
            junk(fz, out, 24);
            None
        }
        16 => {
            lossy(fz, out, 40);
            None
        }
        17 => {
            out.push_str(fz.pick(&["", " ", "\t\n", "\u{3000}", "\u{feff}", "+", "()", "-", "00", "+0"]));
            None
        }
        18 if fz.one_in(5) => {
            long(fz, out);
            None
        }
        _ => {
            let count = 7 + fz.below(9);
            user_digits(fz, out, count);
            None
        }
    };
    if fz.one_in(4) {
        mutate(fz, out);
    }
    country
}

// ---------------------------------------------------------------------------
// Properties.

fn variant(e: &TargetError) -> &'static str {
    match e {
        TargetError::Empty => "Empty",
        TargetError::Group(_) => "Group",
        TargetError::Newsletter(_) => "Newsletter",
        TargetError::Broadcast(_) => "Broadcast",
        TargetError::UnknownServer { .. } => "UnknownServer",
        TargetError::NotANumber(_) => "NotANumber",
        TargetError::TooShort(_) => "TooShort",
        TargetError::TooLong(_) => "TooLong",
        TargetError::NeedsCountry(_) => "NeedsCountry",
        TargetError::Invalid(..) => "Invalid",
    }
}

/// A refusal an operator reads: plain words on one line. What they typed is
/// echoed as typed, so it is taken out before looking.
fn check_message(fz: &Fuzz, input: &str, message: &str, echoed: &[&str]) {
    let mut rest = message.to_owned();
    for e in echoed.iter().filter(|e| !e.is_empty()) {
        rest = rest.replace(e, "");
    }
    let debugish = ["Some(", "None", "\\u{", "Err(", "Ok("];
    if message.trim().is_empty() || rest.contains(['\n', '\r', '{', '}']) || debugish.iter().any(|d| rest.contains(d)) {
        fz.fail(input, format!("the refusal is not one clear line: {message:?}"));
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Invisible direction marks (which copied numbers carry) are not part of
/// what was typed: U+200E/F, U+202A–E, U+2066–9.
fn without_direction_marks(input: &str) -> String {
    input
        .chars()
        .filter(|c| !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

/// What the client's own parser reads as the user of a PN or LID JID.
fn client_user(fz: &Fuzz, user: &str, lid: bool) -> Option<String> {
    let text = format!("{user}@{}", if lid { "lid" } else { "s.whatsapp.net" });
    fz.call(&text, || Jid::from_str(&text)).ok().map(|j| j.user.to_string())
}

/// Everything `parse_target` promises about one answer.
fn check_target(fz: &mut Fuzz, input: &str, country: Option<&str>, result: &Result<Target, TargetError>) {
    let visible = without_direction_marks(input);
    let typed = visible.trim();
    let jid = typed.rsplit_once('@');
    match result {
        Ok(Target::Phone(digits)) => {
            fz.accepted += 1;
            if !(7..=15).contains(&digits.len()) || !is_digits(digits) {
                fz.fail(input, format!("the number {digits:?} is not 7 to 15 ASCII digits"));
            }
            if let Some((user, server)) = jid {
                // A PN JID is its user, as the client itself reads it.
                if !matches!(server.to_ascii_lowercase().as_str(), "s.whatsapp.net" | "c.us") {
                    fz.fail(input, format!("read as the number {digits} though its server is not a PN server"));
                }
                let client = client_user(fz, user, false);
                if client.as_deref() != Some(digits.as_str()) {
                    fz.fail(input, format!("read as the number {digits}, the client reads the user as {client:?}"));
                }
            } else {
                // A typed number is normalised once and for all.
                if digits.starts_with('0') {
                    fz.fail(input, format!("{digits} is not E.164 (no country code starts with 0)"));
                }
                let plus = format!("+{digits}");
                let again = fz.call(&plus, || parse_target(&plus, None));
                if again.as_ref() != Ok(&Target::Phone(digits.clone())) {
                    fz.fail(input, format!("read as {digits}, but {plus:?} reads as {again:?}"));
                }
                let again = fz.call(&plus, || parse_target(&plus, country));
                if again.as_ref() != Ok(&Target::Phone(digits.clone())) {
                    fz.fail(input, format!("read as {digits}, but {plus:?} with {country:?} reads as {again:?}"));
                }
            }
            let pn = format!("{digits}@s.whatsapp.net");
            let again = fz.call(&pn, || parse_target(&pn, None));
            if again.as_ref() != Ok(&Target::Phone(digits.clone())) {
                fz.fail(input, format!("read as {digits}, but its JID {pn:?} reads as {again:?}"));
            }
        }
        Ok(Target::Lid(lid)) => {
            fz.accepted += 1;
            let Some((user, _)) = jid.filter(|(_, s)| s.eq_ignore_ascii_case("lid")) else {
                fz.fail(input, format!("read as the LID {lid} without being a …@lid JID"))
            };
            if !is_digits(lid) {
                fz.fail(input, format!("the LID {lid:?} is not digits"));
            }
            let client = client_user(fz, user, true);
            if client.as_deref() != Some(lid.as_str()) {
                fz.fail(input, format!("read as the LID {lid}, the client reads the user as {client:?}"));
            }
            // A LID stays a LID.
            let again_text = format!("{lid}@lid");
            let again = fz.call(&again_text, || parse_target(&again_text, country));
            if again.as_ref() != Ok(&Target::Lid(lid.clone())) {
                fz.fail(input, format!("read as the LID {lid}, but {again_text:?} reads as {again:?}"));
            }
        }
        Err(e) => {
            fz.reject(variant(e));
            let server = jid.map(|(_, s)| s.to_ascii_lowercase()).unwrap_or_default();
            check_message(fz, input, &e.to_string(), &[typed, &server]);
            if matches!(e, TargetError::Empty) != typed.is_empty() {
                fz.fail(input, format!("{e:?} for {typed:?}"));
            }
            let jid_only = matches!(e, TargetError::Group(_) | TargetError::Newsletter(_) | TargetError::Broadcast(_));
            if (jid_only || matches!(e, TargetError::UnknownServer { .. })) && jid.is_none() {
                fz.fail(input, format!("{e:?} for something that is not a JID"));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Numbers, countries, JIDs.

fn fuzz_numbers(target: &'static str, with_country: bool) {
    let mut fz = fuzz(target);
    let total = cases();
    let mut input = String::new();
    for case in 0..total {
        fz.case = case;
        input.clear();
        let written_for = number(&mut fz, &mut input);
        let country = with_country.then(|| match written_for {
            Some(c) if !fz.one_in(4) => c,
            _ => fz.pick(COUNTRIES),
        });
        let result = fz.call(&input, || parse_target(&input, country));
        check_target(&mut fz, &input, country, &result);
    }
    fz.summary(total, "inputs", "");
}

#[test]
fn numbers_without_a_default_country() {
    fuzz_numbers("parse_target", false);
}

#[test]
fn numbers_with_a_default_country() {
    fuzz_numbers("parse_target+country", true);
}

/// The national trunk prefixes of a calling code (`0` for +44), as
/// libphonenumber's metadata has them.
fn trunk_prefixes(code: &str) -> Vec<String> {
    let Ok(code) = code.parse::<u16>() else { return Vec::new() };
    let regions = phonenumber::metadata::DATABASE.by_code(&code).unwrap_or_default();
    regions.iter().filter_map(|m| m.national_prefix().map(str::to_owned)).collect()
}

/// `+44 (0)7633 912074` reads as `+44 7633 912074`: a trunk prefix in
/// parentheses after the country code is never dialled from abroad. And an
/// accepted number is one its country could have: libphonenumber's
/// possible lengths for the calling code hold its national part.
#[test]
fn trunk_prefixes_and_possible_lengths() {
    let mut fz = fuzz("numbers::parse_target (trunk prefix, length)");
    let total = cases() / 10;
    let (mut input, mut with_trunk) = (String::new(), String::new());
    for case in 0..total {
        fz.case = case;
        input.clear();
        let code = fz.pick(CALLING_CODES);
        input.push('+');
        input.push_str(code);
        let split = input.len();
        separator(&mut fz, &mut input);
        let count = 4 + fz.below(11);
        typed_digits(&mut fz, &mut input, "", count);
        let plain = fz.call(&input, || parse_target(&input, None));
        match &plain {
            Ok(_) => fz.accepted += 1,
            Err(e) => fz.reject(variant(e)),
        }
        for trunk in trunk_prefixes(code) {
            with_trunk.clear();
            with_trunk.push_str(&input[..split]);
            with_trunk.push_str(fz.pick(&[" (", "(", " ( "]));
            with_trunk.push_str(&trunk);
            with_trunk.push_str(fz.pick(&[")", ") ", " ) "]));
            with_trunk.push_str(input[split..].trim_start());
            let read = fz.call(&with_trunk, || parse_target(&with_trunk, None));
            if read.is_ok() != plain.is_ok() || (plain.is_ok() && read != plain) {
                fz.fail(&with_trunk, format!("read as {read:?}, but without the trunk prefix {plain:?}"));
            }
        }
        if let Ok(Target::Phone(digits)) = &plain {
            let national = digits.len() - code.len();
            let Ok(number) = code.parse::<u16>() else { continue };
            let regions = phonenumber::metadata::DATABASE.by_code(&number).unwrap_or_default();
            let possible = regions.iter().any(|m| {
                let d = m.descriptors();
                [d.fixed_line(), d.mobile(), d.toll_free(), d.premium_rate(), d.shared_cost(), d.voip()]
                    .into_iter()
                    .flatten()
                    .chain([d.general()])
                    .chain(d.personal_number())
                    .chain(d.pager())
                    .chain(d.uan())
                    .chain(d.voicemail())
                    .any(|d| d.possible_length().contains(&(national as u16)))
            });
            if !regions.is_empty() && digits.starts_with(code) && !possible {
                fz.fail(&input, format!("accepted as {digits}, but no +{code} number has {national} digits"));
            }
        }
    }
    fz.summary(total, "inputs", "");
}

#[test]
fn countries() {
    let mut fz = fuzz("parse_country");
    let total = cases();
    let mut input = String::new();
    for case in 0..total {
        fz.case = case;
        input.clear();
        match fz.below(10) {
            0..=3 => {
                for _ in 0..2 {
                    let c = char::from(b'A' + fz.below(26) as u8);
                    input.push(if fz.one_in(3) { c.to_ascii_lowercase() } else { c });
                }
            }
            4 | 5 => input.push_str(fz.pick(COUNTRIES)),
            6 => {
                input.push_str(fz.pick(&[" ", "\t", "\u{a0}", "\u{3000}", ""]));
                input.push_str(fz.pick(&["BR", "us", "De", "gb"]));
                input.push_str(fz.pick(&[" ", "\n", "\u{200f}", "\0", ""]));
            }
            7 => input.push_str(fz.pick(&["ı", "İN", "\u{212a}R", "ẞR", "ＢＲ", "B\u{0301}R", "🇺🇸", "b r", "B-R"])),
            8 => junk(&mut fz, &mut input, 5),
            _ => lossy(&mut fz, &mut input, 6),
        }
        let result = fz.call(&input, || parse_country(&input));
        match &result {
            Ok(country) => {
                fz.accepted += 1;
                let code = &country.code;
                if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                    fz.fail(&input, format!("the code {code:?} is not two capital letters"));
                }
                if *code != input.trim().to_ascii_uppercase() {
                    fz.fail(&input, format!("read as {code}, not what was typed"));
                }
                if !(1..=999).contains(&country.calling_code) {
                    fz.fail(&input, format!("the calling code {} is not 1 to 999", country.calling_code));
                }
                let again = fz.call(code, || parse_country(code));
                let lower = code.to_ascii_lowercase();
                let again_lower = fz.call(&lower, || parse_country(&lower));
                if again.as_ref() != Ok(country) || again_lower.as_ref() != Ok(country) {
                    fz.fail(&input, format!("{country:?} reads back as {again:?} / {again_lower:?}"));
                }
            }
            Err(e) => {
                fz.reject("CountryError");
                if e.0 != input.trim() {
                    fz.fail(&input, format!("the refusal names {:?}, not what was typed", e.0));
                }
                check_message(&fz, &input, &e.to_string(), &[input.trim()]);
            }
        }
    }
    fz.summary(total, "inputs", "");
}

#[test]
fn jids() {
    let mut fz = fuzz("jids");
    let total = cases();
    let mut input = String::new();
    let (mut groups, mut client_ok, mut client_unstable) = (0u64, 0u64, 0u64);
    for case in 0..total {
        fz.case = case;
        input.clear();
        jid(&mut fz, &mut input);

        // The core's reading of a block target.
        let target = fz.call(&input, || parse_target(&input, None));
        check_target(&mut fz, &input, None, &target);

        // The group JID check behind "limit a check to a group".
        match fz.call(&input, || checked_group_jid(&input)) {
            Ok(jid) => {
                groups += 1;
                let user = jid.strip_suffix("@g.us").unwrap_or_else(|| fz.fail(&input, "accepted without @g.us"));
                let shape = !user.is_empty()
                    && user.len() <= 40
                    && user.bytes().all(|b| b.is_ascii_digit() || b == b'-')
                    && user.matches('-').count() <= 1;
                if jid != input || !shape {
                    fz.fail(&input, format!("accepted as the group {jid:?}"));
                }
                if !matches!(target, Err(TargetError::Group(_))) {
                    fz.fail(&input, format!("a group JID, but as a block target it reads as {target:?}"));
                }
            }
            Err(GroupError::BadJid(named)) => {
                if named != input {
                    fz.fail(&input, format!("the refusal names {named:?}"));
                }
                check_message(&fz, &input, &GroupError::BadJid(named.clone()).to_string(), &[&input]);
            }
            Err(other) => fz.fail(&input, format!("refused with {other:?}")),
        }

        // The client's parser: must not panic; what it reads should print back the same.
        if let Ok(jid) = fz.call(&input, || Jid::from_str(&input)) {
            client_ok += 1;
            let printed = jid.to_string();
            if fz.call(&printed, || Jid::from_str(&printed)).ok() != Some(jid) {
                client_unstable += 1;
            }
        }
    }
    let extra = format!(
        "; {groups} group JIDs; wacore Jid::from_str read {client_ok} ({client_unstable} of them print as a different JID)"
    );
    fz.summary(total, "JIDs", &extra);
}

// ---------------------------------------------------------------------------
// Lists: plain and CSV documents, with the generator's own record of what
// each line holds; then mutated and random documents.

/// What the generator wrote, to compare the preview with.
enum Truth {
    /// One entry per line (1-based) whose cleaned text is not empty.
    Plain(Vec<(usize, String)>),
    /// Records with the line they start on and their cells.
    Csv { records: Vec<(usize, Vec<String>)> },
    /// Mutated or random: only the general properties hold.
    Unknown,
}

struct Doc {
    text: String,
    truth: Truth,
    column: Option<usize>,
    country: Option<&'static str>,
}

/// As the import reads a cell or a line: trimmed, spreadsheet quotes off.
fn cleaned(raw: &str) -> &str {
    raw.trim().trim_matches(|c| c == '"' || c == '\'').trim()
}

/// A line's or a cell's content: a number or something else; never a line break.
/// Lists repeat themselves: an earlier item again, as is or as `+digits`,
/// or as a PN JID.
fn list_item(fz: &mut Fuzz, out: &mut String, forbid: &[char], earlier: &mut Vec<String>) {
    match fz.below(14) {
        0 => {}
        1 => out.push_str(fz.pick(&["  ", "\"\"", "''", "\"", " ' "])),
        2 => junk(fz, out, 12),
        3 | 4 if !earlier.is_empty() => {
            let again = &earlier[fz.below(earlier.len())];
            let digits = again.chars().filter(char::is_ascii_digit);
            match fz.below(3) {
                0 => out.push_str(again),
                1 => {
                    out.push('+');
                    out.extend(digits);
                }
                _ => {
                    out.extend(digits);
                    out.push_str("@s.whatsapp.net");
                }
            }
        }
        _ => {
            number(fz, out);
            earlier.push(out.clone());
        }
    }
    out.retain(|c| c != '\n' && c != '\r' && !forbid.contains(&c));
    if fz.one_in(6) {
        let quote = fz.pick(&['"', '\'']);
        if !forbid.contains(&quote) {
            out.insert(0, quote);
            out.push(quote);
        }
    }
}

fn line_end(crlf: bool, out: &mut String) {
    out.push_str(if crlf { "\r\n" } else { "\n" });
}

fn plain_doc(fz: &mut Fuzz, lines: usize) -> Doc {
    let crlf = fz.one_in(4);
    let mut text = String::new();
    if fz.one_in(6) {
        text.push('\u{feff}');
    }
    let mut truth = Vec::new();
    let mut item = String::new();
    let mut earlier = Vec::new();
    for line in 1..=lines {
        item.clear();
        match fz.below(10) {
            0 => {}
            1 => item.push_str(fz.pick(&[" ", "\t", "  \u{a0}"])),
            _ => list_item(fz, &mut item, &[',', ';', '\t'], &mut earlier),
        }
        if !cleaned(&item).is_empty() {
            truth.push((line, cleaned(&item).to_owned()));
        }
        if text.is_empty() && item.starts_with('\u{feff}') {
            text.push(' '); // else it is the file's BOM
        }
        text.push_str(&item);
        if line < lines || fz.one_in(2) {
            line_end(crlf, &mut text);
        }
    }
    let country = if fz.one_in(3) { None } else { Some(fz.pick(COUNTRIES)) };
    let column = if fz.one_in(4) { Some(fz.below(4)) } else { None };
    Doc { text, truth: Truth::Plain(truth), column, country }
}

const HEADERS: &[&str] = &["name", "phone", "Telefone", "número", "city", "notes", "E-mail", "Tel.", "\"Nome\"", ""];
const WORDS: &[&str] = &["Ana", "Silva, Ana", "São Paulo", "say \"hi\"", "two\nlines", "", " ", "x", "O'Brien", "a;b"];

/// A CSV file: a header or not, a numbers column among names and notes,
/// ragged rows, quoted cells with delimiters, quotes and line breaks.
fn csv_doc(fz: &mut Fuzz, rows: usize) -> Doc {
    let delimiter = fz.pick(&[',', ';', '\t']);
    let crlf = fz.one_in(3);
    let width = 2 + fz.below(4);
    let numbers_at = fz.below(width);
    let mut text = String::new();
    if fz.one_in(6) {
        text.push('\u{feff}');
    }
    let mut records = Vec::new();
    let mut earlier = Vec::new();
    let mut line = 1;
    let mut cell = String::new();
    let header = fz.one_in(2);
    for row in 0..rows {
        while fz.one_in(8) {
            text.push_str(fz.pick(&["", "  "]));
            line_end(crlf, &mut text);
            line += 1;
        }
        let cells_here = if row > 0 && fz.one_in(8) { 1 + fz.below(width + 1) } else { width };
        let mut cells = Vec::with_capacity(cells_here);
        let start = text.len();
        for i in 0..cells_here {
            cell.clear();
            if row == 0 && header {
                cell.push_str(fz.pick(HEADERS));
            } else if i == numbers_at {
                list_item(fz, &mut cell, &[], &mut earlier);
                if fz.one_in(10) {
                    cell.insert(boundary(fz, &cell.clone()), '\n');
                }
            } else {
                match fz.below(4) {
                    0 => junk(fz, &mut cell, 8),
                    _ => cell.push_str(fz.pick(WORDS)),
                }
                cell.retain(|c| c != '\r');
            }
            if i > 0 {
                text.push(delimiter);
            }
            // The delimiter is detected on the first record: no other may show there.
            let needs_quotes = cell.contains([delimiter, '"', '\n']) || (row == 0 && cell.contains([',', ';', '\t']));
            if needs_quotes || fz.one_in(5) {
                text.push('"');
                text.push_str(&cell.replace('"', "\"\""));
                text.push('"');
            } else {
                if fz.one_in(5) || (text.is_empty() && cell.starts_with('\u{feff}')) {
                    text.push(' ');
                }
                text.push_str(&cell);
            }
            cells.push(cell.trim().to_owned());
        }
        if text[start..].trim().is_empty() {
            // A blank line (tabs included) is no record: give it an empty quoted cell.
            text.push(delimiter);
            text.push_str("\"\"");
            cells.push(String::new());
        }
        records.push((line, cells));
        line += text[start..].matches('\n').count();
        if row + 1 < rows || fz.one_in(2) {
            line_end(crlf, &mut text);
            line += 1;
        }
    }
    let column = match fz.below(10) {
        0..=3 => None,
        4..=7 => Some(numbers_at),
        8 => Some(fz.below(8)),
        _ => Some(usize::MAX),
    };
    let country = if fz.one_in(3) { None } else { Some(fz.pick(COUNTRIES)) };
    Doc { text, truth: Truth::Csv { records }, column, country }
}

/// A generated document, its lines edited at random.
fn mutated_doc(fz: &mut Fuzz, lines: usize) -> Doc {
    let mut doc = if fz.one_in(2) { plain_doc(fz, lines) } else { csv_doc(fz, lines) };
    for _ in 0..1 + fz.below(4) {
        let at = boundary(fz, &doc.text);
        match fz.below(4) {
            0 => doc.text.insert(at, fz.pick(&['"', ',', ';', '\t', '\n', '\r', ' ', '\u{feff}', '\'', '5', '@'])),
            1 if at < doc.text.len() => {
                doc.text.remove(at);
            }
            2 => doc.text.insert_str(at, fz.pick(&["\"\"", "\r\n", "\n\n", "\",\"", "+55 11 99999-9999\n"])),
            _ => doc.text.truncate(at),
        }
    }
    doc.truth = Truth::Unknown;
    doc
}

fn random_doc(fz: &mut Fuzz, lines: usize) -> Doc {
    let mut text = String::new();
    for _ in 0..lines {
        match fz.below(3) {
            0 => junk(fz, &mut text, 30),
            1 => lossy(fz, &mut text, 40),
            _ => {
                number(fz, &mut text);
            }
        }
        text.push(fz.pick(&['\n', '\n', '\n', ',', ';', '\t', '"', '\r']));
    }
    let column = if fz.one_in(2) { None } else { Some(fz.below(5)) };
    Doc { text, truth: Truth::Unknown, column, country: Some(fz.pick(COUNTRIES)) }
}

/// The key the import deduplicates on.
fn key(target: &Target) -> String {
    match target {
        Target::Phone(d) => d.to_string(),
        Target::Lid(l) => format!("{l}@lid"),
    }
}

/// What every preview promises, whatever the list.
fn check_preview(fz: &Fuzz, doc: &Doc, preview: &Preview) {
    let text = doc.text.as_str();
    let fail = |what: String| -> ! { fz.fail(text, what) };
    let line_count = text.lines().count();
    if preview.lines.is_empty() {
        fail("an Ok preview with no lines".into());
    }
    let mut previous = 0;
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut by_line: HashMap<usize, &Parsed> = HashMap::new();
    let (mut numbers, mut lids, mut duplicates, mut invalid) = (0, 0, 0, 0);
    for entry in &preview.lines {
        if entry.line <= previous || entry.line > line_count {
            fail(format!("line {} after line {previous} (the text has {line_count} lines)", entry.line));
        }
        previous = entry.line;
        if entry.input.is_empty() || entry.input.trim() != entry.input {
            fail(format!("line {} keeps {:?}, not its cleaned text", entry.line, entry.input));
        }
        by_line.insert(entry.line, &entry.parsed);
        match &entry.parsed {
            Parsed::Number { e164 } => {
                numbers += 1;
                let shown = &shown(e164);
                if !(7..=15).contains(&e164.len()) || !is_digits(e164) {
                    fail(format!("line {} reads as the number {e164:?}", entry.line));
                }
                if !shown.starts_with('+') || !shown.chars().filter(char::is_ascii_digit).eq(e164.chars()) {
                    fail(format!("line {} shows {e164} as {shown:?}", entry.line));
                }
                if first.insert(e164.to_string(), entry.line).is_some() {
                    fail(format!("line {} repeats {e164} without being called a duplicate", entry.line));
                }
            }
            Parsed::Lid { lid } => {
                lids += 1;
                if !is_digits(lid) {
                    fail(format!("line {} reads as the LID {lid:?}", entry.line));
                }
                if first.insert(format!("{lid}@lid"), entry.line).is_some() {
                    fail(format!("line {} repeats the LID {lid} without being called a duplicate", entry.line));
                }
            }
            Parsed::Duplicate { of_line } => {
                duplicates += 1;
                let earlier = by_line.get(of_line);
                if *of_line >= entry.line || !matches!(earlier, Some(Parsed::Number { .. } | Parsed::Lid { .. })) {
                    fail(format!("line {} is a duplicate of line {of_line}, which reads {earlier:?}", entry.line));
                }
                let again = fz.call(&entry.input, || parse_target(&entry.input, doc.country));
                let same = match (earlier, &again) {
                    (Some(Parsed::Number { e164, .. }), Ok(Target::Phone(d))) => e164 == d,
                    (Some(Parsed::Lid { lid }), Ok(Target::Lid(l))) => lid == l,
                    _ => false,
                };
                if !same {
                    fail(format!(
                        "line {} ({again:?}) is called a duplicate of line {of_line} ({earlier:?})",
                        entry.line
                    ));
                }
            }
            Parsed::Invalid { reason } => {
                invalid += 1;
                let visible = without_direction_marks(&entry.input);
                let server = visible.rsplit_once('@').map(|(_, s)| s.to_ascii_lowercase()).unwrap_or_default();
                check_message(fz, text, reason, &[&entry.input, visible.trim(), &server]);
            }
        }
    }
    let counted = (preview.numbers, preview.lids, preview.duplicates, preview.invalid);
    if counted != (numbers, lids, duplicates, invalid) {
        fail(format!("counts {counted:?}, lines {:?}", (numbers, lids, duplicates, invalid)));
    }
    if let Some(csv) = &preview.csv
        && csv.column >= csv.headers.len()
    {
        fail(format!("column {} of {} headers", csv.column, csv.headers.len()));
    }
}

/// The preview against what the generator wrote: the same lines, each read
/// exactly as the number parser reads it.
fn check_truth(fz: &mut Fuzz, doc: &Doc, result: &Result<Preview, ImportError>) {
    let text = doc.text.as_str();
    let expected: Vec<(usize, String)> = match &doc.truth {
        Truth::Unknown => return,
        Truth::Plain(lines) => {
            if let Ok(Preview { csv: Some(csv), .. }) = result {
                fz.fail(text, format!("a plain list read as CSV: {csv:?}"));
            }
            lines.clone()
        }
        Truth::Csv { records } => {
            let preview = match result {
                Ok(preview) => preview,
                // Legitimate when some column (the chosen or detected one) has nothing in it.
                Err(ImportError::Empty)
                    if (0..6).any(|c| {
                        records
                            .iter()
                            .skip(1)
                            .all(|(_, cells)| cleaned(cells.get(c).map_or("", String::as_str)).is_empty())
                    }) =>
                {
                    return;
                }
                Err(e) => fz.fail(text, format!("a CSV read as {e:?}")),
            };
            let Some(csv) = &preview.csv else { fz.fail(text, "a CSV read as a plain list") };
            let width = records.iter().map(|(_, c)| c.len()).max().unwrap_or(1);
            let header = !records[0].1.iter().any(|c| parse_target(c, doc.country).is_ok());
            if csv.has_header != header || csv.headers.len() != width {
                fz.fail(text, format!("read as {csv:?}; written with {width} columns, header: {header}"));
            }
            if header {
                for (i, name) in csv.headers.iter().enumerate() {
                    let written = records[0].1.get(i).cloned().unwrap_or_else(|| format!("column {}", i + 1));
                    if *name != written {
                        fz.fail(text, format!("header {i} read as {name:?}, written as {written:?}"));
                    }
                }
            }
            match doc.column {
                Some(c) if c < width && csv.column != c => fz.fail(text, format!("column {c} asked, {csv:?} read")),
                _ => {}
            }
            records
                .iter()
                .skip(usize::from(header))
                .filter_map(|(line, cells)| {
                    let cell = cleaned(cells.get(csv.column).map_or("", String::as_str));
                    (!cell.is_empty()).then(|| (*line, cell.to_owned()))
                })
                .collect()
        }
    };
    let preview = match result {
        Ok(p) => p,
        Err(ImportError::Empty) if expected.is_empty() => return,
        Err(e) => fz.fail(text, format!("{e:?}; expected the lines {expected:?}")),
    };
    let read: Vec<(usize, &str)> = preview.lines.iter().map(|l| (l.line, l.input.as_str())).collect();
    let written: Vec<(usize, &str)> = expected.iter().map(|(l, s)| (*l, s.as_str())).collect();
    if read != written {
        fz.fail(text, format!("read the lines {read:?}\n  written: {written:?}"));
    }
    let mut first: HashMap<String, usize> = HashMap::new();
    for entry in &preview.lines {
        let want = if entry.input.chars().count() > 64 {
            None
        } else {
            Some(match fz.call(&entry.input, || parse_target(&entry.input, doc.country)) {
                Ok(target) => match first.get(&key(&target)) {
                    Some(&of_line) => Parsed::Duplicate { of_line },
                    None => {
                        first.insert(key(&target), entry.line);
                        match target {
                            Target::Phone(e164) => Parsed::Number { e164 },
                            Target::Lid(lid) => Parsed::Lid { lid },
                        }
                    }
                },
                Err(e) => Parsed::Invalid { reason: e.to_string() },
            })
        };
        let ok = match &want {
            None => matches!(&entry.parsed, Parsed::Invalid { reason } if reason.contains("too long")),
            Some(want) => *want == entry.parsed,
        };
        if !ok {
            fz.fail(text, format!("line {} {:?} reads as {:?}, not {want:?}", entry.line, entry.input, entry.parsed));
        }
    }
}

#[test]
fn lists_and_csv() {
    let mut fz = fuzz("import::normalise");
    let total = cases();
    let (mut lines, mut docs, mut csv_docs, mut empty) = (0u64, 0u64, 0u64, 0u64);
    while lines < total {
        fz.case = docs;
        docs += 1;
        let size = if fz.one_in(10) { 1 + fz.below(120) } else { 1 + fz.below(25) };
        let doc = match fz.below(10) {
            0..=3 => plain_doc(&mut fz, size),
            4..=7 => csv_doc(&mut fz, size),
            8 => mutated_doc(&mut fz, size),
            _ => random_doc(&mut fz, size),
        };
        lines += doc.text.lines().count().max(1) as u64;
        let result = fz.call(&doc.text, || import::normalise(&doc.text, doc.country, doc.column));
        match &result {
            Ok(preview) => {
                csv_docs += u64::from(preview.csv.is_some());
                fz.accepted += (preview.numbers + preview.lids) as u64;
                *fz.rejected.entry("duplicate").or_default() += preview.duplicates as u64;
                *fz.rejected.entry("invalid").or_default() += preview.invalid as u64;
                check_preview(&fz, &doc, preview);
            }
            Err(ImportError::Empty) => empty += 1,
            Err(e @ (ImportError::TooLarge { .. } | ImportError::TooManyLines { .. })) => {
                if doc.text.len() <= MAX_INPUT_BYTES && doc.text.lines().count() <= MAX_LINES {
                    fz.fail(&doc.text, format!("refused as {e:?}"));
                }
            }
        }
        if let Err(e) = &result {
            check_message(&fz, &doc.text, &e.to_string(), &[]);
        }
        check_truth(&mut fz, &doc, &result);
    }
    let extra = format!("; {docs} documents ({csv_docs} read as CSV, {empty} with no number)");
    fz.summary(lines, "lines", &extra);
}
