//! The numbering plans of libphonenumber's metadata (the `phonenumber`
//! crate's), read without its shared regex cache.
//!
//! `phonenumber` compiles its patterns into one cache of 100 behind one
//! lock, looked up by the pattern's text at every use; a list with numbers
//! of a few countries needs more than 100 and keeps recompiling them (about
//! 8 µs a line). Here each calling code's patterns are compiled once, on
//! first use, and a number is read as `phonenumber::parse` then
//! `phonenumber::is_valid` read it, for the plain case only: digits that
//! no national prefix, trunk code or international prefix rewrites. Any
//! other case answers `None`, and the caller asks `phonenumber`, so a
//! number reads the same either way (`tests::the_plan_reads_as_phonenumber_does`
//! compares both on every example number of every region, and on random
//! digits).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{LazyLock, OnceLock};

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::{Regex, RegexBuilder};

/// The longest national number read here (`phonenumber` parses up to 17
/// digits; E.164 leaves at most 14 after the country code).
const MAX_NATIONAL: u16 = 16;

/// What `phonenumber::parse` then `phonenumber::is_valid` make of a
/// number they read without rewriting it.
pub(super) enum Reading {
    /// A valid number: its E.164 digits.
    Valid(String),
    /// Read, as a number of this calling code, but not one in its plan.
    NotInPlan { code: u16 },
}

/// `+{digits}` as `phonenumber` reads it; `None` when it rewrites the
/// digits or refuses them (ask it).
pub(super) fn international(digits: &str) -> Option<Reading> {
    if digits.starts_with('0') || !(7..=15).contains(&digits.len()) {
        return None;
    }
    // The shortest calling code the digits start with, as `phonenumber` finds it.
    let (len, code) = (1..=3).find_map(|len| {
        let code: u16 = digits[..len].parse().ok()?;
        CODES.get(usize::from(code))?.as_ref().map(|_| (len, code))
    })?;
    let (code, national) = (calling_code(code)?, &digits[len..]);
    // The region whose national prefix `phonenumber` would strip: found
    // without the national number's leading zeros.
    let unpadded = national.trim_start_matches('0');
    let region = code.source_for(unpadded);
    if region.is_some_and(|r| r.rewrites(national)) {
        return None;
    }
    let region = if unpadded.len() == national.len() { region } else { code.source_for(national) };
    code.read(national, region, || digits.to_owned())
}

/// `digits` typed without a country code in `region` (ISO code, upper
/// case) as `phonenumber` reads them; `None` when it rewrites them or
/// refuses them (ask it).
pub(super) fn national(digits: &str, region: &str) -> Option<Reading> {
    let code = calling_code(DATABASE.by_id(region)?.country_code())?;
    let home = code.regions.iter().find(|r| r.id == region)?;
    if home.idd.as_ref().is_some_and(|idd| idd.is_match(digits)) {
        return None;
    }
    // "5511…" typed in Brazil: the country code, unless the digits are a
    // whole national number already (as `phonenumber` decides it).
    let national = match digits.strip_prefix(code.text.as_str()) {
        Some(rest) if !home.general.is_match(digits) || !home.possible_length(digits.len()) => rest,
        _ => digits,
    };
    if home.rewrites(national) {
        return None;
    }
    match code.read(national, code.source_for(national), || format!("{}{national}", code.text))? {
        Reading::Valid(e164) if !(7..=15).contains(&e164.len()) => None,
        reading => Some(reading),
    }
}

/// Every length a national number of calling code `code` can have, sorted.
pub(super) fn national_lengths(code: u16) -> Option<&'static [u16]> {
    shared(code).map(|c| c.lengths.as_slice())
}

/// One calling code's regions, their patterns compiled.
#[derive(Clone)]
struct CallingCode {
    code: u16,
    text: String,
    /// Every length a national number of this code can have, whatever its
    /// kind (the general description's are often left empty), sorted.
    lengths: Vec<u16>,
    /// In `phonenumber`'s order: the first whose leading digits match, or
    /// (without leading digits) where the number is valid, is the number's.
    regions: Vec<Region>,
}

#[derive(Clone)]
struct Region {
    id: String,
    leading_digits: Option<Regex>,
    general: Pattern,
    /// The kinds of number (fixed line, mobile, toll free, …) that a
    /// national number of each length (the index) can be: an index into
    /// `kinds`, whose patterns each match any of such a set of kinds.
    kinds_of_length: Vec<Option<usize>>,
    kinds: Vec<Regex>,
    national_prefix: Option<String>,
    prefix_for_parsing: Option<(Regex, bool)>,
    idd: Option<Regex>,
}

#[derive(Clone)]
struct Pattern {
    regex: Regex,
    lengths: Vec<u16>,
    local_lengths: Vec<u16>,
}

impl CallingCode {
    fn compile(code: u16) -> Option<CallingCode> {
        let ids = DATABASE.region(&code)?;
        let metadata: Vec<&Metadata> = match ids.as_slice() {
            ["001"] => DATABASE.by_code(&code)?.into_iter().take(1).collect(),
            ids => ids.iter().map(|id| DATABASE.by_id(*id)).collect::<Option<_>>()?,
        };
        let mut lengths: Vec<u16> = metadata
            .iter()
            .flat_map(|m| {
                let d = m.descriptors();
                [
                    Some(d.general()),
                    d.fixed_line(),
                    d.mobile(),
                    d.toll_free(),
                    d.premium_rate(),
                    d.shared_cost(),
                    d.personal_number(),
                    d.voip(),
                    d.pager(),
                    d.uan(),
                    d.voicemail(),
                ]
            })
            .flatten()
            .flat_map(|d| d.possible_length().iter().copied())
            .collect();
        lengths.sort_unstable();
        lengths.dedup();
        let regions = metadata.into_iter().map(Region::compile).collect::<Option<_>>()?;
        Some(CallingCode { code, text: code.to_string(), lengths, regions })
    }

    /// `phonenumber::validator::source_for`.
    fn source_for(&self, national: &str) -> Option<&Region> {
        if let [only] = self.regions.as_slice() {
            return Some(only);
        }
        self.regions.iter().find(|r| match &r.leading_digits {
            Some(leading) => leading.is_match(national),
            None => r.has_kind(national),
        })
    }

    /// A number `phonenumber` parsed as `national` of this code, found in
    /// `region` (`source_for(national)`): valid (its E.164 digits made by
    /// `e164`) or not; `None` when it would not parse (a national number
    /// it cannot hold).
    fn read(&self, national: &str, region: Option<&Region>, e164: impl FnOnce() -> String) -> Option<Reading> {
        if !(2..=usize::from(MAX_NATIONAL)).contains(&national.len()) || national.bytes().all(|b| b == b'0') {
            return None;
        }
        Some(match region {
            Some(region) if region.has_kind(national) => Reading::Valid(e164()),
            _ => Reading::NotInPlan { code: self.code },
        })
    }
}

impl Region {
    fn compile(meta: &Metadata) -> Option<Region> {
        let d = meta.descriptors();
        let kinds: Vec<&Descriptor> = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ]
        .into_iter()
        .flatten()
        .collect();
        // Each kind counts only at its own lengths, when it has any: one
        // pattern per set of kinds a length allows.
        let (mut sets, mut kinds_of_length) = (Vec::<Vec<usize>>::new(), Vec::new());
        for len in 0..=MAX_NATIONAL {
            let set: Vec<usize> = (0..kinds.len())
                .filter(|&k| kinds[k].possible_length().is_empty() || kinds[k].possible_length().contains(&len))
                .collect();
            kinds_of_length.push((!set.is_empty()).then(|| {
                sets.iter().position(|known| *known == set).unwrap_or_else(|| {
                    sets.push(set);
                    sets.len() - 1
                })
            }));
        }
        let prefix_for_parsing = match meta.national_prefix_for_parsing() {
            Some(regex) => Some((anchored(regex.as_str()).ok()?, meta.national_prefix_transform_rule().is_some())),
            None => None,
        };
        Some(Region {
            id: meta.id().to_owned(),
            leading_digits: meta.leading_digits().map(|r| anchored(r.as_str())).transpose().ok()?,
            general: Pattern {
                regex: anchored(d.general().national_number().as_str()).ok()?,
                lengths: d.general().possible_length().to_vec(),
                local_lengths: d.general().possible_local_length().to_vec(),
            },
            kinds_of_length,
            kinds: sets
                .iter()
                .map(|set| {
                    let any: Vec<String> =
                        set.iter().map(|&k| format!("(?:{}\n)", kinds[k].national_number().as_str())).collect();
                    anchored(&any.join("|"))
                })
                .collect::<Result<_, _>>()
                .ok()?,
            national_prefix: meta.national_prefix().map(str::to_owned),
            prefix_for_parsing,
            idd: meta.international_prefix().map(|r| anchored(r.as_str())).transpose().ok()?,
        })
    }

    /// `phonenumber::validator::number_type(…) != Unknown`: the general
    /// pattern and some kind's match (each with its own lengths, when it
    /// has any).
    fn has_kind(&self, national: &str) -> bool {
        self.general.is_match(national)
            && self
                .kinds_of_length
                .get(national.len())
                .copied()
                .flatten()
                .is_some_and(|k| self.kinds[k].is_match(national))
    }

    /// `phonenumber::validator::length(…, Unknown).is_possible()`.
    fn possible_length(&self, len: usize) -> bool {
        let len = len as u16;
        !self.general.lengths.is_empty()
            && (self.general.local_lengths.contains(&len) || self.general.lengths.contains(&len))
    }

    /// Whether `phonenumber` could strip a national prefix or carrier code
    /// from `national`, or rewrite it (`helper::national_number`, then the
    /// national prefix once more).
    fn rewrites(&self, national: &str) -> bool {
        let prefix = self.national_prefix.as_deref().is_some_and(|p| national.starts_with(p));
        let for_parsing = self.prefix_for_parsing.as_ref().is_some_and(|(regex, transform)| {
            // An empty match rewrites only through the transform rule, when
            // its last group took part (with no groups, the whole match).
            regex.find(national).is_some_and(|m| {
                m.end() > 0 || (*transform && regex.captures(national).is_some_and(|c| c.get(c.len() - 1).is_some()))
            })
        });
        prefix || for_parsing
    }
}

impl Pattern {
    /// `phonenumber::metadata::Descriptor::is_match`.
    fn is_match(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16))) && self.regex.is_match(national)
    }
}

/// A metadata pattern as `phonenumber` uses it: found at the start of the
/// text (`find` with a match at 0), its whitespace ignored. The closing
/// bracket is on a line of its own, after any comment.
///
/// Compiled without Unicode (`\d` is `[0-9]`, three times quicker to
/// compile): the digits read here are ASCII, `read_phone` refuses others.
fn starting(pattern: &str) -> String {
    format!("^(?:{pattern}\n)")
}

fn anchored(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&starting(pattern)).ignore_whitespace(true).unicode(false).build()
}

/// Every calling code `phonenumber` knows (by its value), compiled on
/// first use.
static CODES: LazyLock<Vec<Option<OnceLock<Option<CallingCode>>>>> =
    LazyLock::new(|| (0..1000).map(|c| DATABASE.region(&c).map(|_| OnceLock::new())).collect());

fn shared(code: u16) -> Option<&'static CallingCode> {
    CODES.get(usize::from(code))?.as_ref()?.get_or_init(|| CallingCode::compile(code)).as_ref()
}

/// This thread's copy of a calling code's plan: its regexes' caches are
/// then its own. (A shared regex lends its cache to other threads through
/// a lock, which cost more than the matches when a list is read on every
/// core.)
fn calling_code(code: u16) -> Option<Rc<CallingCode>> {
    thread_local! {
        static OWN: RefCell<Vec<Option<Rc<CallingCode>>>> = RefCell::new(vec![None; 1000]);
    }
    OWN.with(|own| {
        let slot = usize::from(code);
        if let Some(copy) = own.borrow().get(slot)?.as_ref() {
            return Some(Rc::clone(copy));
        }
        let copy = Rc::new(shared(code)?.clone());
        own.borrow_mut()[slot] = Some(Rc::clone(&copy));
        Some(copy)
    })
}
