//! CSV as Roster reads it (lists of numbers pasted or loaded: the delimiter
//! detected, quoted cells that hold line breaks, each record with the line
//! it starts on) and writes it (exports a spreadsheet opens safely: RFC 4180
//! quoting by the `csv` crate, and cells a spreadsheet would run as a
//! formula defused).

use std::borrow::Cow;

const BOM: &str = "\u{feff}";

/// A CSV when the first record has a comma, semicolon or tab (in that
/// order of preference) outside quotes. Which one it is decides how the
/// `csv` crate reads quotes, so this one scan is done by hand: quotes
/// toggle, and a quoted cell may run over several lines.
pub(crate) fn delimiter(text: &str) -> Option<char> {
    let mut outside = String::new();
    let mut quoted = false;
    for line in text.lines().skip_while(|l| l.trim().is_empty()) {
        for (i, part) in line.split('"').enumerate() {
            if i > 0 {
                quoted = !quoted;
            }
            if !quoted {
                outside.push_str(part);
            }
        }
        if !quoted {
            break;
        }
    }
    [',', ';', '\t'].into_iter().find(|d| outside.contains(*d))
}

/// A CSV's records, read by the `csv` crate: each with the line it starts
/// on and its cells trimmed. A quoted cell may hold the delimiter, `""` for
/// a quote, and line breaks (read as `\n`); rows may differ in length.
/// Blank lines (spaces and tabs included) are no record.
pub(crate) fn rows(text: &str, delimiter: char) -> impl Iterator<Item = (usize, Vec<String>)> + '_ {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(u8::try_from(delimiter).expect("an ASCII delimiter"))
        .terminator(csv::Terminator::Any(b'\n'))
        // The file's own BOM is gone by now; the reader drops one at the
        // start, so it gets one of its own and a second BOM stays content.
        // (One buffer: a BOM read alone would look like the end of input.)
        .from_reader(std::io::Cursor::new(format!("{BOM}{text}").into_bytes()));
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    let offset = |reader: &csv::Reader<_>| usize::try_from(reader.position().byte()).ok()?.checked_sub(BOM.len());
    std::iter::from_fn(move || {
        loop {
            let start = offset(&reader).unwrap_or(0);
            if !reader.read_record(&mut record).ok()? {
                return None;
            }
            let end = offset(&reader)?;
            let raw = text.get(start..end)?;
            let blank = &raw[..raw.len() - raw.trim_start().len()];
            let first_line = line + blank.matches('\n').count();
            line += raw.matches('\n').count();
            if raw.trim().is_empty() {
                continue;
            }
            let cells = record.iter().map(|c| c.replace("\r\n", "\n").trim().to_owned()).collect();
            return Some((first_line, cells));
        }
    })
}

/// How an export ends its lines.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LineEnd {
    /// `\r\n`, as RFC 4180 says.
    Crlf,
    /// `\n`.
    Lf,
}

/// An export being written in memory.
pub(crate) struct Writer(csv::Writer<Vec<u8>>);

impl Writer {
    pub(crate) fn new(end: LineEnd) -> Writer {
        let terminator = match end {
            LineEnd::Crlf => csv::Terminator::CRLF,
            LineEnd::Lf => csv::Terminator::Any(b'\n'),
        };
        Writer(csv::WriterBuilder::new().terminator(terminator).from_writer(Vec::new()))
    }

    /// One record; each cell is defused first.
    pub(crate) fn record<S: AsRef<str>>(&mut self, cells: &[S]) {
        let cells = cells.iter().map(|c| defused(c.as_ref()).into_owned());
        self.0.write_record(cells).expect("writing CSV into memory cannot fail");
    }

    /// The file's text, starting with a byte-order mark: without it
    /// spreadsheet programs read UTF-8 as their local code page ("MÃ¼ller").
    pub(crate) fn finish(self) -> String {
        let bytes = self.0.into_inner().expect("flushing CSV into memory cannot fail");
        BOM.to_owned() + &String::from_utf8(bytes).expect("the cells were UTF-8")
    }
}

/// Text a spreadsheet would run as a formula (`=…`, `@…`, a tab or carriage
/// return first, or `+`/`-` not followed by a digit, space or parenthesis)
/// gets a leading `'`; numbers like `+55 11 99999-9999` stay as typed.
fn defused(cell: &str) -> Cow<'_, str> {
    let mut chars = cell.chars();
    let formula = match chars.next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !chars.next().is_some_and(|c| c.is_ascii_digit() || c == ' ' || c == '('),
        _ => false,
    };
    if formula { Cow::Owned(format!("'{cell}")) } else { Cow::Borrowed(cell) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cells: &[&str]) -> String {
        let mut w = Writer::new(LineEnd::Lf);
        w.record(cells);
        w.finish().strip_prefix(BOM).expect("a BOM first").to_owned()
    }

    #[test]
    fn cells_are_quoted_and_defused() {
        assert_eq!(line(&["plain"]), "plain\n");
        assert_eq!(line(&["Silva, Ana"]), "\"Silva, Ana\"\n");
        assert_eq!(line(&["say \"hi\""]), "\"say \"\"hi\"\"\"\n");
        assert_eq!(line(&["=HYPERLINK(1)"]), "'=HYPERLINK(1)\n");
        assert_eq!(line(&["+55 11 99999-9999"]), "+55 11 99999-9999\n", "numbers stay as typed");
        assert_eq!(line(&["-cmd"]), "'-cmd\n");
        assert_eq!(line(&["two\nlines", "", "x"]), "\"two\nlines\",,x\n");
        assert_eq!(line(&["a\rb"]), "\"a\rb\"\n");
        let mut w = Writer::new(LineEnd::Crlf);
        w.record(&["a", "b"]);
        w.record(&["c", "d"]);
        assert_eq!(w.finish(), "\u{feff}a,b\r\nc,d\r\n");
    }

    fn cells(text: &str, delimiter: char) -> Vec<(usize, Vec<String>)> {
        rows(text, delimiter).collect()
    }

    fn row(line: usize, cells: &[&str]) -> (usize, Vec<String>) {
        (line, cells.iter().map(|c| c.to_string()).collect())
    }

    #[test]
    fn rows_keep_their_first_line() {
        let text = "name,phone\n\n\"Ana\nSilva\",+1 555\n  \t\nBo,2\n";
        assert_eq!(
            cells(text, ','),
            [row(1, &["name", "phone"]), row(3, &["Ana\nSilva", "+1 555"]), row(6, &["Bo", "2"])]
        );
        assert_eq!(delimiter(text), Some(','));
        assert_eq!(cells("\"a \"\"b\"\" \" ; c", ';'), [row(1, &["a \"b\"", "c"])]);
        let crlf = "a;\"x\r\ny\"\r\n\r\nb;c\r\n";
        assert_eq!(cells(crlf, ';'), [row(1, &["a", "x\ny"]), row(4, &["b", "c"])]);
        assert_eq!(cells("1;2\nragged\n", ';'), [row(1, &["1", "2"]), row(2, &["ragged"])]);
        assert_eq!(cells("\u{feff}a;b\n", ';'), [row(1, &["\u{feff}a", "b"])], "a second BOM is content");
        assert_eq!(delimiter("+1 555 0100\n"), None);
        assert_eq!(delimiter("\"a,b\"\n"), None, "a delimiter inside quotes splits nothing");
    }
}
