//! Phone numbers out of log lines: what the operator types ends up in error
//! messages, and logs are shared when asking for help. Unless verbose
//! logging is on, every phone-like run of digits keeps only its first two
//! and last two digits.
//!
//! Masked: a `+` followed by 7+ digits (spaces, dots, dashes and
//! parentheses between them allowed, as people type numbers); a bare run of
//! 11+ digits (E.164 numbers and LIDs); a run of 7+ digits right before `@`
//! (a JID's user). Left alone: times, counts, ids (runs of at most 10 digits).

use std::borrow::Cow;

/// Masks the phone numbers and JID users in `text`.
pub fn mask_numbers(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `text` already in `out`
    let mut i = 0;
    while i < bytes.len() {
        let plus = bytes[i] == b'+';
        let starts = plus || bytes[i].is_ascii_digit();
        // Not in the middle of a word or of a longer run of digits.
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'+');
        if !(starts && boundary) {
            i += 1;
            continue;
        }
        // The span: digits (and, after a `+`, separators), ending on a digit.
        let mut j = i + usize::from(plus);
        let mut end = i;
        let mut digits = 0;
        while j < bytes.len() {
            let b = bytes[j];
            if b.is_ascii_digit() {
                digits += 1;
                end = j + 1;
            } else if !(plus && matches!(b, b' ' | b'-' | b'.' | b'(' | b')')) || digits == 0 && b != b'(' {
                break;
            }
            j += 1;
        }
        let before_at = bytes.get(end) == Some(&b'@');
        let glued = bytes.get(end).is_some_and(|b| b.is_ascii_alphabetic());
        let phone_like = !glued && ((plus && digits >= 7) || digits >= 11 || (before_at && digits >= 7));
        if phone_like {
            let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
            buf.push_str(&text[copied..i]);
            let mut seen = 0;
            for &b in &bytes[i..end] {
                if b.is_ascii_digit() {
                    seen += 1;
                    buf.push(if seen <= 2 || seen > digits - 2 { b as char } else { '*' });
                } else {
                    buf.push(b as char);
                }
            }
            copied = end;
        }
        i = end.max(i + 1);
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut buf) => {
            buf.push_str(&text[copied..]);
            Cow::Owned(buf)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mask_numbers;

    #[test]
    fn numbers_as_typed_are_masked() {
        assert_eq!(mask_numbers("could not block +55 (11) 99999-9999: x"), "could not block +55 (**) *****-**99: x");
        assert_eq!(mask_numbers("target=5511999999999"), "target=55*********99");
        assert_eq!(mask_numbers("5511999999999@s.whatsapp.net"), "55*********99@s.whatsapp.net");
        assert_eq!(mask_numbers("236011122233344@lid blocked"), "23***********44@lid blocked");
        assert_eq!(mask_numbers("\"+1 555 0100\" is too short"), "\"+1 5** **00\" is too short");
    }

    #[test]
    fn times_counts_and_ids_are_kept() {
        for kept in [
            "2026-11-22T10:11:12.123456Z job=12 count=300",
            "backoff_until=1763800000 server_ms=1234567",
            "sha256 abcdef0123456789012345 and v2",
            "+12 items",
            "x+5511999999999",
        ] {
            assert_eq!(mask_numbers(kept), kept);
        }
    }

    #[test]
    fn multibyte_text_survives() {
        assert_eq!(mask_numbers("número +5511999999999 é inválido"), "número +55*********99 é inválido");
    }
}
