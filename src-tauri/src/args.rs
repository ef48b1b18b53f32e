//! What the window may send: the size and shape of every command's
//! arguments, checked before the core sees them. (Enums such as `Scope` or
//! `JobIntent` are checked by deserialising them: Tauri refuses any other
//! value with serde's message before the command runs.) A refusal is an
//! [`ArgError`], whose message is the sentence the operator reads. Limits
//! that are the core's rules (list size, pace, ids) are the core's own
//! checks, called here before anything else runs.

use roster_core::bulk::MAX_TARGETS;
use roster_core::checks::checked_rate;
use roster_core::import::{MAX_LINES, check_size};
use roster_core::{BulkError, CheckError, ImportError, Scope};
use thiserror::Error;

#[cfg(test)]
mod fuzz;

/// The longest search query the list accepts.
pub const MAX_QUERY: usize = 200;
/// The most rows one page of the list may ask for.
pub const MAX_PAGE: usize = 500;
/// The furthest row a page may start at: far beyond any list Roster keeps,
/// and small enough to reach SQLite as an `i64`.
pub const MAX_OFFSET: usize = 1_000_000_000;
/// The longest "block a number" input (a LID JID is ~25 characters).
pub const MAX_TARGET: usize = 100;
/// The longest default-country input (a two-letter code, padded).
pub const MAX_COUNTRY: usize = 8;
/// The CSV columns one may choose among.
pub const MAX_COLUMNS: usize = 1_000;
/// The longest group JID (digits, a dash, digits, then `@g.us`).
pub const MAX_GROUP_JID: usize = 64;

#[derive(Debug, Error)]
pub enum ArgError {
    #[error("the search is too long (at most {MAX_QUERY} characters)")]
    QueryTooLong,
    #[error("a page holds 1 to {MAX_PAGE} rows, not {0}")]
    PageSize(usize),
    #[error("a page starts at row 0 to {MAX_OFFSET}, not {0}")]
    Offset(usize),
    #[error("a list has at most {MAX_COLUMNS} columns to choose from, not column {}", .0.saturating_add(1))]
    Column(usize),
    #[error("a contact is named by its number's digits (7 to 15)")]
    Phone,
    #[error("that is too long for a number or JID (at most {MAX_TARGET} characters)")]
    TargetTooLong,
    #[error("a number or JID has no line breaks or other control characters")]
    TargetControl,
    #[error("a country is its two-letter code, such as BR, US or DE")]
    Country,
    #[error("too many scopes")]
    TooManyScopes,
    #[error("a scope is chosen twice")]
    DuplicateScope,
    #[error("that is not a group JID (digits, then @g.us)")]
    GroupJid,
    #[error("at most {MAX_TARGETS} lines can be added at once")]
    TooManyToAdd,
    #[error("at most {MAX_TARGETS} people can be blocked at once")]
    TooManyToBlock,
    #[error("at most {MAX_TARGETS} people can be added to a group at once")]
    TooManyForGroup,
    #[error("lines are numbered 1 to {MAX_LINES}, not {0}")]
    Line(i64),
    #[error(transparent)]
    List(#[from] ImportError),
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error(transparent)]
    Bulk(#[from] BulkError),
}

/// A search query.
pub fn query(query: &str) -> Result<(), ArgError> {
    if query.len() > MAX_QUERY * 4 || query.chars().count() > MAX_QUERY {
        return Err(ArgError::QueryTooLong);
    }
    Ok(())
}

/// A page of a list: where it starts and how many rows.
pub fn page(offset: usize, limit: usize) -> Result<(), ArgError> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(ArgError::PageSize(limit));
    }
    if offset > MAX_OFFSET {
        return Err(ArgError::Offset(offset));
    }
    Ok(())
}

/// A pasted or loaded list, and the CSV column chosen (0-based), if any.
pub fn list(text: &str, column: Option<usize>) -> Result<(), ArgError> {
    check_size(text)?;
    match column {
        Some(c) if c >= MAX_COLUMNS => Err(ArgError::Column(c)),
        _ => Ok(()),
    }
}

/// A phone number as the list hands it back: E.164 digits.
pub fn phone(phone: &str) -> Result<&str, ArgError> {
    if (7..=15).contains(&phone.len()) && phone.bytes().all(|b| b.is_ascii_digit()) {
        Ok(phone)
    } else {
        Err(ArgError::Phone)
    }
}

/// What the operator typed to block or unblock (the core reads it).
pub fn target(target: &str) -> Result<(), ArgError> {
    if target.len() > MAX_TARGET * 4 || target.chars().count() > MAX_TARGET {
        return Err(ArgError::TargetTooLong);
    }
    if target.chars().any(char::is_control) {
        return Err(ArgError::TargetControl);
    }
    Ok(())
}

/// The people marked in the list for a bulk block or unblock.
pub fn people(people: &[String]) -> Result<(), ArgError> {
    if people.len() > MAX_TARGETS {
        return Err(ArgError::TooManyToBlock);
    }
    people.iter().try_for_each(|p| target(p))
}

/// A default country: two letters (the core knows which exist), or empty to clear it.
pub fn country(code: &str) -> Result<(), ArgError> {
    let trimmed = code.trim();
    let letters = trimmed.len() == 2 && trimmed.bytes().all(|b| b.is_ascii_alphabetic());
    if code.len() > MAX_COUNTRY * 4 || code.chars().count() > MAX_COUNTRY || !(trimmed.is_empty() || letters) {
        return Err(ArgError::Country);
    }
    Ok(())
}

/// App-state scopes to sync: none (the defaults), or each at most once.
pub fn scopes(scopes: &[Scope]) -> Result<(), ArgError> {
    if scopes.len() > Scope::ALL.len() {
        return Err(ArgError::TooManyScopes);
    }
    if scopes.iter().enumerate().any(|(i, s)| scopes[..i].contains(s)) {
        return Err(ArgError::DuplicateScope);
    }
    Ok(())
}

/// A check job's id.
pub fn job(job: i64) -> Result<(), ArgError> {
    if job > 0 { Ok(()) } else { Err(CheckError::NoJob(job).into()) }
}

/// A bulk action's id.
pub fn action(action: i64) -> Result<(), ArgError> {
    if action > 0 { Ok(()) } else { Err(BulkError::NoAction(action).into()) }
}

/// A pace in numbers a minute.
pub fn rate(rate: u32) -> Result<(), ArgError> {
    checked_rate(rate)?;
    Ok(())
}

/// The group a check is limited to, if any: a group JID's shape (the core
/// checks the account is in it).
pub fn group(group: Option<&str>) -> Result<(), ArgError> {
    match group {
        Some(jid) if jid.len() > MAX_GROUP_JID || roster_core::groups::checked_group_jid(jid).is_err() => {
            Err(ArgError::GroupJid)
        }
        _ => Ok(()),
    }
}

/// A group named by an intent (members, timer, adding people): a group
/// JID's shape (the core checks the account is in it).
pub fn group_jid(group: &str) -> Result<(), ArgError> {
    self::group(Some(group))
}

/// The lines of a check to add to a group: all (none given), or these.
pub fn lines_for_group(lines: Option<&[i64]>) -> Result<(), ArgError> {
    chosen_lines(lines, ArgError::TooManyForGroup)
}

/// People to add to a group by number or LID: at most [`MAX_TARGETS`],
/// each of a target's size (the core reads them).
pub fn targets_for_group(targets: &[String]) -> Result<(), ArgError> {
    if targets.len() > MAX_TARGETS {
        return Err(ArgError::TooManyForGroup);
    }
    targets.iter().try_for_each(|t| target(t))
}

/// The lines of a check to add to the directory: all (none given), or these.
pub fn lines_to_add(lines: Option<&[i64]>) -> Result<(), ArgError> {
    chosen_lines(lines, ArgError::TooManyToAdd)
}

/// The lines of a check to block: all (none given), or these.
pub fn lines_to_block(lines: Option<&[i64]>) -> Result<(), ArgError> {
    chosen_lines(lines, ArgError::TooManyToBlock)
}

fn chosen_lines(lines: Option<&[i64]>, too_many: ArgError) -> Result<(), ArgError> {
    let Some(lines) = lines else { return Ok(()) };
    if lines.len() > MAX_TARGETS {
        return Err(too_many);
    }
    match lines.iter().find(|l| !(1..=MAX_LINES as i64).contains(*l)) {
        Some(line) => Err(ArgError::Line(*line)),
        None => Ok(()),
    }
}
