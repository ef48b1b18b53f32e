//! CSV as Roster reads it (lists of numbers pasted or loaded: the delimiter
//! detected, quoted cells that hold line breaks, each record with the line
//! it starts on) and writes it (exports a spreadsheet opens safely: RFC 4180
//! quoting by the `csv` crate, and cells a spreadsheet would run as a
//! formula defused).

use std::borrow::Cow;

/// A CSV when the first record splits into cells and is not a number itself.
pub(crate) fn delimiter(text: &str) -> Option<char> {
    let (_, first) = records(text).next()?;
    [',', ';', '\t'].into_iter().find(|d| first.contains(*d) && split(&first, *d).len() > 1)
}

/// A CSV's records, each with the line it starts on: a quoted cell may hold
/// line breaks, so a record runs on while a quote is open. Blank lines
/// between records are skipped.
pub(crate) fn records(text: &str) -> impl Iterator<Item = (usize, Cow<'_, str>)> {
    let mut lines = text.lines().enumerate();
    std::iter::from_fn(move || {
        let (i, first) = lines.find(|(_, l)| !l.trim().is_empty())?;
        let mut quotes = first.matches('"').count();
        if quotes % 2 == 0 {
            return Some((i + 1, Cow::Borrowed(first)));
        }
        let mut record = first.to_owned();
        while quotes % 2 == 1 {
            let Some((_, next)) = lines.next() else { break };
            record.push('\n');
            record.push_str(next);
            quotes += next.matches('"').count();
        }
        Some((i + 1, Cow::Owned(record)))
    })
}

/// One CSV record's cells (double quotes group, `""` escapes a quote).
pub(crate) fn split(line: &str, delimiter: char) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().expect("one cell").push('"');
            }
            '"' => quoted = !quoted,
            c if c == delimiter && !quoted => cells.push(String::new()),
            c => cells.last_mut().expect("one cell").push(c),
        }
    }
    cells.into_iter().map(|c| c.trim().to_owned()).collect()
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

    pub(crate) fn finish(self) -> String {
        let bytes = self.0.into_inner().expect("flushing CSV into memory cannot fail");
        String::from_utf8(bytes).expect("the cells were UTF-8")
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
        w.finish()
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
        assert_eq!(w.finish(), "a,b\r\nc,d\r\n");
    }

    #[test]
    fn records_keep_their_first_line() {
        let text = "name,phone\n\n\"Ana\nSilva\",+1 555\nBo,2\n";
        let records: Vec<(usize, String)> = records(text).map(|(n, r)| (n, r.into_owned())).collect();
        assert_eq!(records, [(1, "name,phone".into()), (3, "\"Ana\nSilva\",+1 555".into()), (5, "Bo,2".into())]);
        assert_eq!(delimiter(text), Some(','));
        assert_eq!(split("\"a \"\"b\"\" \" ; c", ';'), ["a \"b\"", "c"]);
    }
}
