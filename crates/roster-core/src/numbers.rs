//! What the operator types to name someone: a phone number in any common
//! format, a PN JID or a LID JID. Groups, newsletters and junk are refused
//! with a specific reason.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{LazyLock, Mutex};

use thiserror::Error;

mod plan;

use plan::Reading;

/// A phone number in E.164: its 7 to 15 digits, without the `+` (written
/// so in `roster.db`, in JIDs and in the window's JSON). Only the parsers
/// here make one, so holding one means the number was read and checked.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct E164(String);

impl E164 {
    fn from_digits(digits: String) -> E164 {
        debug_assert!((7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()), "{digits}");
        E164(digits)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for E164 {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for E164 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Someone named by the operator, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A phone number.
    Phone(E164),
    /// A LID user (the digits before `@lid`).
    Lid(String),
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("enter a phone number, a phone JID (…@s.whatsapp.net) or a LID (…@lid)")]
    Empty,
    #[error("'{0}' is a group; only individual contacts can be blocked")]
    Group(String),
    #[error("'{0}' is a channel (newsletter); only individual contacts can be blocked")]
    Newsletter(String),
    #[error("'{0}' is a broadcast list or status; only individual contacts can be blocked")]
    Broadcast(String),
    /// The part after `@` is not a kind of address WhatsApp users have; it
    /// is not echoed on its own, since it may hold anything (line breaks).
    #[error("'{input}' is not a phone number or a contact's address: the part after @ is not one WhatsApp uses")]
    UnknownServer { input: String, server: String },
    #[error("'{0}' is not a phone number: it has characters other than digits, spaces, + - . ( )")]
    NotANumber(String),
    #[error("'{0}' is too short to be a phone number")]
    TooShort(String),
    #[error("'{0}' is too long to be a phone number (at most 15 digits)")]
    TooLong(String),
    #[error("'{0}' has no country code; type it with + and the country code, or set a default country")]
    NeedsCountry(String),
    #[error("'{0}' is not a valid phone number: {1}")]
    Invalid(String, String),
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("'{0}' is not a country: use its two-letter code, such as BR, US or DE")]
pub struct CountryError(pub String);

/// A default country for numbers typed without a country code.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Country {
    /// ISO 3166-1 alpha-2, upper case.
    pub code: String,
    /// The international calling code, without `+`.
    pub calling_code: u16,
}

/// Checks a two-letter country code against libphonenumber's metadata.
pub fn parse_country(input: &str) -> Result<Country, CountryError> {
    let code = input.trim().to_ascii_uppercase();
    let known = code.len() == 2 && code.parse::<phonenumber::country::Id>().is_ok();
    match phonenumber::metadata::DATABASE.by_id(code.as_str()) {
        Some(meta) if known => Ok(Country { calling_code: meta.country_code(), code }),
        _ => Err(CountryError(input.trim().to_owned())),
    }
}

/// Parses operator input. `default_country` (ISO code, e.g. "BR") applies
/// to numbers typed without a country code.
pub fn parse_target(input: &str, default_country: Option<&str>) -> Result<Target, TargetError> {
    // Numbers copied from WhatsApp and phone apps come wrapped in invisible
    // direction marks (U+202A ... U+202C); they are not part of the number.
    let visible: String;
    let input = if input.chars().any(|c| is_direction_mark(&c)) {
        visible = input.chars().filter(|c| !is_direction_mark(c)).collect();
        visible.trim()
    } else {
        input.trim()
    };
    if input.is_empty() {
        return Err(TargetError::Empty);
    }
    if let Some((user, server)) = input.rsplit_once('@') {
        let server = server.to_ascii_lowercase();
        let bare = jid_user(user, server == "lid");
        return match (server.as_str(), bare) {
            ("s.whatsapp.net" | "c.us", Some(bare)) => phone_digits(bare, input),
            ("lid", Some(bare)) => Ok(Target::Lid(bare.to_owned())),
            ("s.whatsapp.net" | "c.us" | "lid", None) => Err(TargetError::NotANumber(input.to_owned())),
            ("g.us", _) => Err(TargetError::Group(input.to_owned())),
            ("newsletter", _) => Err(TargetError::Newsletter(input.to_owned())),
            ("broadcast", _) => Err(TargetError::Broadcast(input.to_owned())),
            (other, _) => Err(TargetError::UnknownServer { input: input.to_owned(), server: other.to_owned() }),
        };
    }
    parse_phone(input, default_country).map(Target::Phone)
}

fn is_direction_mark(c: &char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The digits of a PN or LID JID's user, as the client reads them: at most
/// one device suffix, `:N` (or `.N`, a PN JID's legacy spelling; a LID's
/// user has no dot). Anything else is not a person's JID.
fn jid_user(user: &str, lid: bool) -> Option<&str> {
    let (bare, device) = match user.split_once(':') {
        Some((bare, device)) => (bare, Some(device)),
        None if !lid => user.split_once('.').map_or((user, None), |(bare, device)| (bare, Some(device))),
        None => (user, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let device_ok = device.is_none_or(|d| digits(d) && d.parse::<u16>().is_ok());
    (digits(bare) && device_ok).then_some(bare)
}

fn phone_digits(digits: &str, input: &str) -> Result<Target, TargetError> {
    match digits.len() {
        0..=6 => Err(TargetError::TooShort(input.to_owned())),
        7..=15 => Ok(Target::Phone(E164::from_digits(digits.to_owned()))),
        _ => Err(TargetError::TooLong(input.to_owned())),
    }
}

/// A typed phone number → E.164.
pub fn parse_phone(input: &str, default_country: Option<&str>) -> Result<E164, TargetError> {
    read_phone(input, default_country, Reader::Plan)
}

/// Who reads a number's digits: the compiled numbering plans where they
/// can, else libphonenumber; or (to compare them) libphonenumber alone.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    Plan,
    #[cfg_attr(not(test), allow(dead_code))]
    Libphonenumber,
}

fn read_phone(input: &str, default_country: Option<&str>, reader: Reader) -> Result<E164, TargetError> {
    let owned = || input.to_owned();
    if input.chars().any(|c| !matches!(c, '0'..='9' | ' ' | '+' | '-' | '.' | '(' | ')' | '/' | '\u{a0}')) {
        return Err(TargetError::NotANumber(owned()));
    }
    // "+55…", "(+55) …" and "0055…" all carry their country code.
    let plus = input.trim_start_matches(|c: char| c == '(' || c.is_whitespace()).starts_with('+');
    let international = plus || input.trim_start().starts_with("00");
    let without_trunk = if international { without_trunk_prefix(input) } else { None };
    let mut digits = String::with_capacity(input.len());
    digits.extend(without_trunk.as_deref().unwrap_or(input).chars().filter(char::is_ascii_digit));
    if !plus {
        digits.drain(..digits.len() - digits.trim_start_matches("00").len());
    }
    if digits.len() < 7 {
        return Err(TargetError::TooShort(owned()));
    }
    if digits.len() > 15 + if international { 0 } else { 2 } {
        return Err(TargetError::TooLong(owned()));
    }
    // A number with its country code reads the same whatever the default country.
    let country =
        default_country.filter(|_| !international).and_then(|c| match c.bytes().all(|b| b.is_ascii_uppercase()) {
            true => c.parse::<phonenumber::country::Id>().ok(),
            false => c.to_ascii_uppercase().parse().ok(),
        });
    if reader == Reader::Plan {
        let reading = match country {
            _ if international => plan::international(&digits),
            // Unless a + or leading zeros need libphonenumber's reading.
            Some(country)
                if !input.contains('+') && digits.len() == input.bytes().filter(u8::is_ascii_digit).count() =>
            {
                plan::national(&digits, country.as_ref())
            }
            _ => None,
        };
        match reading {
            Some(Reading::Valid(e164)) => return Ok(E164::from_digits(e164)),
            Some(Reading::NotInPlan { code }) => return not_in_plan(input, international, code, digits),
            None => {}
        }
    }
    let text = if international { format!("+{digits}") } else { input.to_owned() };
    match phonenumber::parse(country, &text) {
        Ok(number) if phonenumber::is_valid(&number) => {
            let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
            // Some national plans allow numbers that E.164 (7 to 15 digits on
            // WhatsApp) does not.
            match e164.trim_start_matches('+') {
                e164 if e164.len() < 7 => Err(TargetError::TooShort(owned())),
                e164 if e164.len() > 15 => Err(TargetError::TooLong(owned())),
                e164 => Ok(E164::from_digits(e164.to_owned())),
            }
        }
        Ok(number) => not_in_plan(input, international, number.code().value(), digits),
        // Typed without + and no default country: read it as international
        // digits, exactly as if typed with the + (so it starts with a real
        // country code, and reads the same when typed again with the +).
        Err(_) if !international && country.is_none() => {
            read_phone(&format!("+{digits}"), None, reader).map_err(|_| TargetError::NeedsCountry(owned()))
        }
        Err(e) => Err(TargetError::Invalid(owned(), e.to_string())),
    }
}

/// `input`, read as `digits` of calling code `code` that are not a number
/// in its country's plan as libphonenumber knows it. Typed with its country
/// code, it is taken as typed (new ranges, test numbers), since
/// libphonenumber's rewriting of such numbers (trunk prefixes dropped) does
/// not hold when the result is read again; unless no number of that
/// country can have its length.
fn not_in_plan(input: &str, international: bool, code: u16, digits: String) -> Result<E164, TargetError> {
    if international && digits.len() >= 8 {
        match impossible_length(code, &digits) {
            Some(reason) => Err(TargetError::Invalid(input.to_owned(), reason)),
            None => Ok(E164::from_digits(digits)),
        }
    } else {
        Err(TargetError::Invalid(input.to_owned(), "no such number in its country's numbering plan".into()))
    }
}

/// A number (E.164 digits) as its country writes it for the world:
/// `+55 11 95908-9198`, `+44 7786 668991`. The one formatter of numbers
/// for the window and the files it writes beside E.164. A number whose
/// country libphonenumber does not know is `+` and its digits.
///
/// Formatting costs a parse (tens of microseconds) and the list shows the
/// same numbers page after page, so the latest [`SHOWN_MEMO`] are kept.
pub fn shown(digits: &str) -> String {
    if digits.is_empty() {
        return String::new();
    }
    let memo = || SHOWN.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(known) = memo().get(digits) {
        return known.to_string();
    }
    let formatted = match phonenumber::parse(None, format!("+{digits}")) {
        Ok(number) => shown_as(&number, digits),
        Err(_) => format!("+{digits}"),
    };
    let mut memo = memo();
    if memo.len() >= SHOWN_MEMO {
        memo.clear();
    }
    memo.insert(digits.into(), formatted.as_str().into());
    formatted
}

/// How many formatted numbers [`shown`] keeps (about 5 MB at most).
const SHOWN_MEMO: usize = 50_000;
static SHOWN: LazyLock<Mutex<HashMap<Box<str>, Box<str>>>> = LazyLock::new(Default::default);

/// [`shown`] for digits libphonenumber has already read as `number`.
fn shown_as(number: &phonenumber::PhoneNumber, digits: &str) -> String {
    let formatted = number.format().mode(phonenumber::Mode::International).to_string();
    // The layout may change, never the digits.
    let same = formatted.chars().filter(char::is_ascii_digit).eq(digits.chars());
    if same { formatted } else { format!("+{digits}") }
}

/// `+44 (0)7633 912074`: a national trunk prefix in parentheses right
/// after the country code, which is not dialled from abroad. The input
/// without it (and without any more of them), when that is what it holds.
fn without_trunk_prefix(input: &str) -> Option<String> {
    let mut less = one_trunk_prefix_less(input)?;
    while let Some(fewer) = one_trunk_prefix_less(&less) {
        less = fewer;
    }
    Some(less)
}

fn one_trunk_prefix_less(input: &str) -> Option<String> {
    let open = input.find('(')?;
    let close = open + input[open..].find(')')?;
    let inner = input[open + 1..close].trim();
    let code: String = input[..open].chars().filter(char::is_ascii_digit).collect();
    let code = code.strip_prefix("00").unwrap_or(&code);
    if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit()) || code.is_empty() || code.len() > 3 {
        return None;
    }
    let regions = phonenumber::metadata::DATABASE.by_code(&code.parse::<u16>().ok()?)?;
    regions
        .iter()
        .any(|m| m.national_prefix() == Some(inner))
        .then(|| format!("{}{}", &input[..open], &input[close + 1..]))
}

/// Why `digits` (calling code `code` first) cannot be a number of that
/// country, going by length alone: the reason for the operator, or `None`
/// when some number there could be this long.
fn impossible_length(code: u16, digits: &str) -> Option<String> {
    let lengths = plan::national_lengths(code)?;
    let national = u16::try_from(digits.len().checked_sub(code.to_string().len())?).ok()?;
    let (min, max) = (*lengths.iter().min()?, *lengths.iter().max()?);
    if national < min {
        Some(format!("too short for a +{code} number ({national} digits after the country code, at least {min})"))
    } else if national > max {
        Some(format!("too long for a +{code} number ({national} digits after the country code, at most {max})"))
    } else if !lengths.contains(&national) {
        Some(format!("no +{code} number has {national} digits after the country code"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(digits: &str) -> Target {
        Target::Phone(E164::from_digits(digits.into()))
    }

    #[test]
    fn common_phone_formats() {
        let br = Some("BR");
        for typed in
            ["+55 (11) 99999-9999", "5511999999999", "+55 11 99999 9999", "0055 11 99999.9999", "(+55) 11 99999-9999"]
        {
            assert_eq!(parse_target(typed, br), Ok(phone("5511999999999")), "{typed}");
        }
        // National format with the trunk prefix, read with the default country.
        assert_eq!(parse_target("011 99999-9999", br), Ok(phone("5511999999999")));
        assert_eq!(parse_target("(11) 99999-9999", br), Ok(phone("5511999999999")));
    }

    #[test]
    fn numbers_are_shown_as_their_country_writes_them() {
        assert_eq!(shown("5511959089198"), "+55 11 95908-9198");
        assert_eq!(shown("447786668991"), "+44 7786 668991");
        assert_eq!(shown("4930123456"), "+49 30 123456");
        assert_eq!(shown("15551234567"), "+1 555-123-4567");
        assert_eq!(shown("999123456789"), "+999123456789", "no such country: as digits");
        assert_eq!(shown(""), "");
    }

    #[test]
    fn trunk_prefix_in_parentheses_is_dropped() {
        for typed in ["+44 (0)7633 912074", "+44(0)7633-912074", "0044 (0) 7633 912074", "+447633 912074"] {
            assert_eq!(parse_target(typed, None), Ok(phone("447633912074")), "{typed}");
        }
        assert_eq!(parse_target("+49 (0)30 1234567", Some("BR")), Ok(phone("49301234567")));
        // Found by `tests/fuzz_parsers.rs`: typed twice, dropped twice.
        assert_eq!(parse_target("+44 (0) (0)7633 912074", None), Ok(phone("447633912074")));
        // An area code in parentheses is not a trunk prefix.
        assert_eq!(parse_target("+55 (11) 99999-9999", None), Ok(phone("5511999999999")));
    }

    #[test]
    fn numbers_no_country_could_have_are_refused() {
        let refused = parse_target("+55 (11) 9999", None);
        assert!(
            matches!(&refused, Err(TargetError::Invalid(_, why)) if why.contains("too short for a +55 number")),
            "{refused:?}"
        );
        assert!(matches!(parse_target("+44 7633 912074 123", None), Err(TargetError::Invalid(..))));
    }

    #[test]
    fn countries() {
        assert_eq!(parse_country(" br "), Ok(Country { code: "BR".into(), calling_code: 55 }));
        assert_eq!(parse_country("us").map(|c| c.calling_code), Ok(1));
        for bad in ["", "B", "BRA", "XX", "12", "🇧🇷"] {
            assert!(parse_country(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn jids() {
        assert_eq!(parse_target("5511999999999@s.whatsapp.net", None), Ok(phone("5511999999999")));
        assert_eq!(parse_target("5511999999999:3@s.whatsapp.net", None), Ok(phone("5511999999999")));
        assert_eq!(parse_target("5511999999999@c.us", None), Ok(phone("5511999999999")));
        assert_eq!(parse_target("123456789012345@lid", None), Ok(Target::Lid("123456789012345".into())));
    }

    #[test]
    fn refusals_say_why() {
        assert!(matches!(parse_target("120363123456789@g.us", None), Err(TargetError::Group(_))));
        assert!(matches!(parse_target("123@newsletter", None), Err(TargetError::Newsletter(_))));
        assert!(matches!(parse_target("status@broadcast", None), Err(TargetError::Broadcast(_))));
        assert!(matches!(parse_target("abc@example.com", None), Err(TargetError::UnknownServer { .. })));
        assert!(matches!(parse_target("call me maybe", None), Err(TargetError::NotANumber(_))));
        assert!(matches!(parse_target("12345", None), Err(TargetError::TooShort(_))));
        assert!(matches!(parse_target("+1234567890123456789", None), Err(TargetError::TooLong(_))));
        assert!(matches!(parse_target("   ", None), Err(TargetError::Empty)));
        assert!(matches!(parse_target("abc@lid", None), Err(TargetError::NotANumber(_))));
        let msg = parse_target("120363123456789@g.us", None).unwrap_err().to_string();
        assert!(msg.contains("group"), "{msg}");
    }

    #[test]
    fn direction_marks_around_a_copied_number_are_ignored() {
        assert_eq!(parse_target("\u{202a}+55 11 99999-9999\u{202c}", None), Ok(phone("5511999999999")));
        assert_eq!(
            parse_target("\u{2068}5511999999999@s.whatsapp.net\u{2069}", None),
            parse_target("+5511999999999", None)
        );
        assert_eq!(parse_target("\u{202a}\u{202c}", None), Err(TargetError::Empty));
    }

    /// Found by `tests/fuzz_parsers.rs`: a JID is read as the client reads
    /// it, or not at all (`123….5@lid` was the LID `123…`, someone else).
    #[test]
    fn jid_users_are_read_as_the_client_reads_them() {
        assert_eq!(parse_target("5511999999999.5@s.whatsapp.net", None), Ok(phone("5511999999999")));
        assert_eq!(parse_target("123456789012345:7@LID", None), Ok(Target::Lid("123456789012345".into())));
        for junk in [
            "123456789012345.5@lid",
            "5511999999999:1:2@s.whatsapp.net",
            "5511999999999.0:12@s.whatsapp.net",
            "5511999999999:abc@s.whatsapp.net",
            "5511999999999:@s.whatsapp.net",
            "5511999999999:99999@s.whatsapp.net",
        ] {
            assert!(matches!(parse_target(junk, None), Err(TargetError::NotANumber(_))), "{junk}");
        }
    }

    /// The compiled plans read every number as libphonenumber does, or
    /// leave it to libphonenumber: every example number of every region,
    /// typed internationally and nationally, and random digits.
    #[test]
    fn the_plan_reads_as_phonenumber_does() {
        use phonenumber::metadata::DATABASE;
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut random = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut inputs: Vec<(String, Option<String>)> = Vec::new();
        let (mut examples, mut by_plan) = (0, 0);
        let regions: Vec<_> =
            (1..1000u16).filter_map(|c| DATABASE.by_code(&c)).flatten().filter(|m| m.id() != "001").collect();
        for code in 1..1000u16 {
            for meta in DATABASE.by_code(&code).into_iter().flatten() {
                let d = meta.descriptors();
                for example in [d.fixed_line(), d.mobile(), d.toll_free(), d.voip(), d.uan()].into_iter().flatten() {
                    let Some(example) = example.example() else { continue };
                    let digits = format!("{code}{example}");
                    examples += 1;
                    by_plan += usize::from(plan::international(&digits).is_some());
                    inputs.push((format!("+{digits}"), None));
                    // Dialled from abroad with that country's international prefix.
                    let abroad = regions[random(regions.len())];
                    let idd =
                        abroad.preferred_international_prefix().or(abroad.international_prefix().map(|r| r.as_str()));
                    if let Some(idd) = idd.filter(|p| p.bytes().all(|b| b.is_ascii_digit())) {
                        inputs.push((format!("{idd}{digits}"), Some(abroad.id().to_owned())));
                    }
                    inputs.push((
                        format!("+{code} ({}) {}", &example[..2.min(example.len())], &example[2.min(example.len())..]),
                        None,
                    ));
                    if meta.id() != "001" {
                        let id = Some(meta.id().to_owned());
                        let other = Some(regions[random(regions.len())].id().to_owned());
                        inputs.push((example.to_owned(), id.clone()));
                        inputs.push((format!("{}{example}", meta.national_prefix().unwrap_or("")), id.clone()));
                        inputs.push((format!("{code}{example}"), id));
                        inputs.push((example.to_owned(), other.clone()));
                        inputs.push((format!("{code}{example}"), other));
                    }
                }
            }
        }
        for _ in 0..30_000 {
            let region = regions[random(regions.len())];
            let mut typed = String::new();
            match random(3) {
                0 => typed.push('+'),
                // A national number that starts with the country's code, or
                // the country's code before a national number.
                1 => typed.push_str(&region.country_code().to_string()),
                _ => {}
            }
            for _ in 0..7 + random(10) {
                typed.push(char::from(b'0' + random(10) as u8));
                if random(6) == 0 {
                    typed.push([' ', '-', '.', '(', ')', '/'][random(6)]);
                }
            }
            let country = (random(4) != 0).then(|| region.id().to_owned());
            inputs.push((typed, country));
        }
        // National numbers that start with their country's code.
        for typed in ["4921 123456", "49211 1234567", "4930 1234567"] {
            inputs.push((typed.to_owned(), Some("DE".to_owned())));
        }
        for (typed, country) in &inputs {
            let country = country.as_deref();
            let plan = read_phone(typed, country, Reader::Plan);

            let libphonenumber = read_phone(typed, country, Reader::Libphonenumber);
            assert_eq!(plan, libphonenumber, "{typed:?} with default country {country:?}");
        }
        // Most valid numbers are read without libphonenumber.
        assert!(by_plan * 10 >= examples * 8, "{by_plan} of {examples} example numbers read by the plan");
    }

    /// Found by `tests/fuzz_parsers.rs`: a number is normalised once, and
    /// its digits typed again with a + read the same.
    #[test]
    fn normalised_numbers_read_back_the_same() {
        // Digits without + or default country need a real country code.
        for national in ["011 99999-9999", "2812345678"] {
            assert!(matches!(parse_target(national, None), Err(TargetError::NeedsCountry(_))), "{national}");
        }
        // A number libphonenumber does not know is kept as typed (it used to
        // lose the zeros after +62, and then again when read back).
        assert_eq!(parse_target("+6200062295", None), Ok(phone("6200062295")));
        // Valid in a national plan, but longer or shorter than E.164 allows.
        assert!(matches!(parse_target("43808444399668", Some("DE")), Err(TargetError::TooLong(_))));
        assert!(matches!(parse_target("(+49)0016 87", None), Err(TargetError::TooShort(_))));
        for (typed, country) in [
            ("+6200062295", None),
            ("62087460300682", None),
            (" +81 04387635", Some("BR")),
            (" +81 04387635", None),
            ("(11) 99999-9999", Some("BR")),
            ("+1 555 010 0001", Some("DE")),
        ] {
            let Ok(Target::Phone(digits)) = parse_target(typed, country) else { panic!("{typed}") };
            let again = parse_target(&format!("+{digits}"), None);
            assert_eq!(again, Ok(Target::Phone(digits.clone())), "{typed} → {digits}");
            assert_eq!(parse_target(&format!("+{digits}"), Some("JP")), again, "{typed}");
        }
    }
}
