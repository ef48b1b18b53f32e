//! Pasted or loaded lists of numbers: each line normalised before anything
//! reaches the network, so the operator sees what will be checked.
//!
//! A line is a phone number in any common format (read with the default
//! country when it has no country code), a PN JID (taken as its number) or
//! a LID JID (taken as is). Blank lines are skipped; the first line holding
//! a number wins, later ones are "duplicate of line N".

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::Serialize;
use thiserror::Error;

use crate::csv;
use crate::numbers::{E164, Target, parse_target, shown};

/// The most a pasted or loaded list may weigh.
pub const MAX_INPUT_BYTES: usize = 8 * 1024 * 1024;
/// The most lines a list may have.
pub const MAX_LINES: usize = 200_000;
/// A line longer than this cannot be a number or a JID.
const MAX_LINE_CHARS: usize = 64;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("the list is {size} bytes; at most {max} (8 MiB) can be checked at once — split it", max = MAX_INPUT_BYTES)]
    TooLarge { size: usize },
    #[error("the list has {lines} lines; at most {max} can be checked at once — split it", max = MAX_LINES)]
    TooManyLines { lines: usize },
    #[error("the list has no numbers in it")]
    Empty,
}

/// What a line turned out to be.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Parsed {
    /// A phone number, sent with the way the window shows it
    /// (`numbers::shown`): formatted only for the lines the window gets.
    #[serde(serialize_with = "number_and_shown")]
    Number {
        e164: E164,
    },
    /// A LID user.
    Lid {
        lid: String,
    },
    /// The same number or LID as an earlier line.
    Duplicate {
        of_line: usize,
    },
    Invalid {
        reason: String,
    },
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Line {
    /// 1-based, as an editor counts.
    pub line: usize,
    pub input: String,
    pub parsed: Parsed,
}

/// The whole list, normalised.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Preview {
    pub lines: Vec<Line>,
    pub numbers: usize,
    pub lids: usize,
    pub duplicates: usize,
    pub invalid: usize,
    /// Set when the list was read as CSV.
    pub csv: Option<CsvColumns>,
}

impl Preview {
    /// The lines that need an answer (numbers and LIDs, each once).
    pub fn to_check(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| matches!(l.parsed, Parsed::Number { .. } | Parsed::Lid { .. }))
    }
}

fn number_and_shown<S: serde::Serializer>(e164: &E164, serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut number = serializer.serialize_struct("Number", 2)?;
    number.serialize_field("e164", e164)?;
    number.serialize_field("shown", &shown(e164))?;
    number.end()
}

/// A CSV file's shape: which column holds the numbers.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CsvColumns {
    /// The header row's names, or "column N" when the file has none.
    pub headers: Vec<String>,
    /// The column read (0-based): the one given, else the one where most
    /// cells are numbers or JIDs.
    pub column: usize,
    pub has_header: bool,
}

/// A list no larger than [`MAX_INPUT_BYTES`].
pub fn check_size(text: &str) -> Result<(), ImportError> {
    if text.len() > MAX_INPUT_BYTES { Err(ImportError::TooLarge { size: text.len() }) } else { Ok(()) }
}

/// Normalises every line of `text`. A CSV (comma, semicolon or tab
/// separated) is read from one column: `column` when given, else detected.
pub fn normalise(text: &str, default_country: Option<&str>, column: Option<usize>) -> Result<Preview, ImportError> {
    // Files saved by spreadsheets and Windows editors start with a BOM.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_size(text)?;
    // As `str::lines` counts them: a last line needs no line break.
    let lines =
        memchr::memchr_iter(b'\n', text.as_bytes()).count() + usize::from(!text.is_empty() && !text.ends_with('\n'));
    if lines > MAX_LINES {
        return Err(ImportError::TooManyLines { lines });
    }
    let mut preview = Preview { lines: Vec::new(), numbers: 0, lids: 0, duplicates: 0, invalid: 0, csv: None };
    match csv::delimiter(text) {
        Some(delimiter) => {
            let rows: Vec<(usize, Vec<String>)> = csv::rows(text, delimiter).collect();
            let csv = csv_columns(&rows, default_country, column);
            let skip = usize::from(csv.has_header);
            let cells =
                rows.iter().skip(skip).map(|(line, cells)| (*line, cells.get(csv.column).map_or("", String::as_str)));
            add_lines(&mut preview, cells, default_country);
            preview.csv = Some(csv);
        }
        None => add_lines(&mut preview, text.lines().enumerate().map(|(i, l)| (i + 1, l)), default_country),
    }
    if preview.lines.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(preview)
}

fn csv_columns(rows: &[(usize, Vec<String>)], default_country: Option<&str>, column: Option<usize>) -> CsvColumns {
    let width = rows.iter().map(|(_, c)| c.len()).max().unwrap_or(1);
    let is_number = |cell: &str| parse_target(cell, default_country).is_ok();
    let has_header = rows.first().is_some_and(|(_, cells)| !cells.iter().any(|c| is_number(c)));
    let headers = match rows.first() {
        Some((_, cells)) if has_header => {
            (0..width).map(|i| cells.get(i).cloned().unwrap_or_else(|| format!("column {}", i + 1))).collect()
        }
        _ => (0..width).map(|i| format!("column {}", i + 1)).collect(),
    };
    let sample = rows.iter().skip(usize::from(has_header)).take(200);
    let column = column.filter(|c| *c < width).unwrap_or_else(|| {
        let mut score = vec![0usize; width];
        for (_, cells) in sample {
            for (i, cell) in cells.iter().enumerate() {
                score[i] += usize::from(is_number(cell));
            }
        }
        // The first column with the best score.
        (0..width).rev().max_by_key(|i| score[*i]).unwrap_or(0)
    });
    CsvColumns { headers, column, has_header }
}

/// Hashes a number's digits (as a `u64`) with one multiplication: the
/// default hasher was a tenth of reading a long list. The numbers are the
/// operator's own list, not an adversary's.
#[derive(Default)]
struct DigitsHasher(u64);

impl Hasher for DigitsHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

fn add_lines<'a>(preview: &mut Preview, lines: impl Iterator<Item = (usize, &'a str)>, default_country: Option<&str>) {
    let lines: Vec<(usize, &str)> = lines
        .map(|(line, raw)| (line, raw.trim().trim_matches(|c| c == '"' || c == '\'').trim()))
        .filter(|(_, input)| !input.is_empty())
        .collect();
    let mut read = read_all(&lines, default_country);
    // The first line of each number or LID (kept small: the lookups into a
    // table of 100,000 numbers are the cost). A number is keyed by its
    // digits' value and how many there are (a JID's may start with zeros).
    let mut first_phone: HashMap<u64, usize, BuildHasherDefault<DigitsHasher>> =
        HashMap::with_capacity_and_hasher(read.len(), Default::default());
    let mut first_lid: HashMap<String, usize> = HashMap::new();
    for line in &mut read {
        let first = match &line.parsed {
            Parsed::Number { e164 } => {
                let value: u64 = e164.parse().expect("E.164 has at most 15 digits");
                *first_phone.entry(value << 4 | e164.len() as u64).or_insert(line.line)
            }
            Parsed::Lid { lid } => *first_lid.entry(lid.clone()).or_insert(line.line),
            Parsed::Duplicate { .. } | Parsed::Invalid { .. } => line.line,
        };
        if first != line.line {
            line.parsed = Parsed::Duplicate { of_line: first };
        }
        match &line.parsed {
            Parsed::Number { .. } => preview.numbers += 1,
            Parsed::Lid { .. } => preview.lids += 1,
            Parsed::Duplicate { .. } => preview.duplicates += 1,
            Parsed::Invalid { .. } => preview.invalid += 1,
        }
    }
    debug_assert!(preview.lines.is_empty(), "a list is read once");
    preview.lines = read;
}

/// Each cleaned line read as a number or LID, or why not. A long list is
/// read on every core.
fn read_all(lines: &[(usize, &str)], default_country: Option<&str>) -> Vec<Line> {
    /// Below this, starting threads costs more than it saves.
    const PER_THREAD: usize = 2_000;
    let read = |&(line, input): &(usize, &str)| {
        let chars = input.chars().count();
        let target = if chars > MAX_LINE_CHARS {
            Err(format!("too long to be a number or a JID ({chars} characters)"))
        } else {
            parse_target(input, default_country).map_err(|e| e.to_string())
        };
        let parsed = match target {
            Ok(Target::Phone(e164)) => Parsed::Number { e164 },
            Ok(Target::Lid(lid)) => Parsed::Lid { lid },
            Err(reason) => Parsed::Invalid { reason },
        };
        Line { line, input: input.to_owned(), parsed }
    };
    // Filled in place (a placeholder allocates nothing), each core its part.
    let mut read_lines: Vec<Line> = (0..lines.len())
        .map(|_| Line { line: 0, input: String::new(), parsed: Parsed::Duplicate { of_line: 0 } })
        .collect();
    let read_part = |lines: &[(usize, &str)], into: &mut [Line]| {
        for (line, into) in lines.iter().zip(into) {
            *into = read(line);
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = cores.min(lines.len() / PER_THREAD).max(1);
    let part = lines.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let mut parts = lines.chunks(part).zip(read_lines.chunks_mut(part));
        // This thread reads the first part: its compiled plans outlive the call.
        let mine = parts.next();
        for (lines, into) in parts {
            scope.spawn(move || read_part(lines, into));
        }
        if let Some((lines, into)) = mine {
            read_part(lines, into);
        }
    });
    read_lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numbers::parse_phone;

    #[test]
    fn lines_are_normalised_deduplicated_and_explained() {
        let text = "+55 (11) 99999-9999\n\n5511999999999\n011 98888-7777\n  \"+1 555 010 0001\" \n\
                    120363@g.us\nabc\n123456789012345@lid\n5511999999999@s.whatsapp.net\n12";
        let p = normalise(text, Some("BR"), None).unwrap();
        let kinds: Vec<_> = p.lines.iter().map(|l| (l.line, l.parsed.clone())).collect();
        let number = |e164: &str| Parsed::Number { e164: parse_phone(&format!("+{e164}"), None).unwrap() };
        assert_eq!(kinds[0], (1, number("5511999999999")));
        assert_eq!(kinds[1], (3, Parsed::Duplicate { of_line: 1 }), "blank line 2 skipped, numbering kept");
        assert_eq!(kinds[2], (4, number("5511988887777")), "national, read as BR");
        assert_eq!(kinds[3], (5, number("15550100001")), "quotes from a spreadsheet");
        assert!(matches!(&kinds[4].1, Parsed::Invalid { reason } if reason.contains("group")));
        assert!(matches!(&kinds[5].1, Parsed::Invalid { reason } if reason.contains("not a phone number")));
        assert_eq!(kinds[6].1, Parsed::Lid { lid: "123456789012345".into() });
        assert_eq!(kinds[7].1, Parsed::Duplicate { of_line: 1 }, "a PN JID is its number");
        assert!(matches!(&kinds[8].1, Parsed::Invalid { reason } if reason.contains("too short")));
        assert_eq!((p.numbers, p.lids, p.duplicates, p.invalid), (3, 1, 2, 3));
        assert_eq!(p.to_check().count(), 4);
        // The window gets each number as its country writes it.
        let sent = serde_json::to_value(&p.lines[0].parsed).unwrap();
        assert_eq!(sent, serde_json::json!({"kind": "number", "e164": "5511999999999", "shown": "+55 11 99999-9999"}));
    }

    /// Found by `tests/fuzz_parsers.rs`: a JID's number may start with
    /// zeros, and is not the same number without them.
    #[test]
    fn leading_zeros_make_another_number() {
        let p = normalise("61914981@s.whatsapp.net\n0061914981@s.whatsapp.net", None, None).unwrap();
        assert_eq!((p.numbers, p.duplicates), (2, 0));
    }

    #[test]
    fn csv_columns_are_detected_or_chosen() {
        let csv = "name;phone;city\n\"Silva, Ana\";+55 11 99999-9999;São Paulo\nBruno;+1 555 010 0001;\"Austin\"\n";
        let p = normalise(csv, None, None).unwrap();
        let info = p.csv.clone().unwrap();
        assert_eq!(
            (info.headers.clone(), info.column, info.has_header),
            (vec!["name".into(), "phone".into(), "city".into()], 1, true)
        );
        assert_eq!(p.lines.iter().map(|l| l.line).collect::<Vec<_>>(), [2, 3], "file line numbers, header skipped");
        assert_eq!(p.numbers, 2);
        let by_name = normalise(csv, None, Some(0)).unwrap();
        assert_eq!(by_name.invalid, 2, "the operator chose the name column");
        let bare = normalise("+5511999999999,x\n+15550100001,y", None, None).unwrap();
        assert!(!bare.csv.unwrap().has_header);
        assert_eq!(bare.numbers, 2);
    }

    /// Found by `tests/fuzz_parsers.rs`: a BOM made the first line invalid
    /// (or the header), and a quoted cell's line break split its record.
    #[test]
    fn bom_and_line_breaks_in_quoted_cells() {
        let p = normalise("\u{feff}+5511999999999\n+15550100001\n", None, None).unwrap();
        assert_eq!((p.numbers, p.invalid), (2, 0));
        let csv = "\u{feff}name,phone\r\n\"Silva,\r\nAna\",+55 11 99999-9999\r\n\r\nBruno,\"+1 555\n010 0001\"\r\nCarla,+49 151 12345678";
        let p = normalise(csv, None, None).unwrap();
        let info = p.csv.clone().unwrap();
        assert_eq!((info.headers, info.column, info.has_header), (vec!["name".into(), "phone".into()], 1, true));
        let lines: Vec<_> = p.lines.iter().map(|l| (l.line, l.input.as_str())).collect();
        assert_eq!(lines, [(2, "+55 11 99999-9999"), (5, "+1 555\n010 0001"), (7, "+49 151 12345678")]);
        assert_eq!((p.numbers, p.invalid), (2, 1), "a line break is not part of a number");
    }

    #[test]
    fn limits_are_stated() {
        assert_eq!(normalise("\n \n", None, None), Err(ImportError::Empty));
        let big = "1".repeat(MAX_INPUT_BYTES + 1);
        assert!(normalise(&big, None, None).unwrap_err().to_string().contains("8 MiB"));
        let many = "+15550100001\n".repeat(MAX_LINES + 1);
        assert!(matches!(normalise(&many, None, None), Err(ImportError::TooManyLines { .. })));
        let long = normalise(&"9".repeat(100), None, None).unwrap();
        assert!(matches!(&long.lines[0].parsed, Parsed::Invalid { reason } if reason.contains("too long")));
    }
}
