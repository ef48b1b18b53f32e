//! The runner's timing rules, apart from any I/O so they can be tested on a
//! simulated clock: how big a batch is, when the next one may go, how long a
//! `429` makes it wait, and how failed batches are retried.

use std::time::Duration;

use tokio::time::Instant;

use super::{DEFAULT_BACKOFF, MAX_BATCH, NO_LIMIT, RETRIES, UNPACED_BATCH};

/// Numbers per query at `rate` a minute: about one query a second, at most
/// [`MAX_BATCH`]; [`UNPACED_BATCH`] with no limit.
pub(super) fn batch_size(rate: u32) -> usize {
    if rate == NO_LIMIT { UNPACED_BATCH } else { (rate as usize / 60).clamp(1, MAX_BATCH) }
}

/// Spaces batches so that no window of time sees more numbers than the rate
/// allows (plus one batch): a batch of `n` numbers owns `n / rate` of a minute.
#[derive(Default)]
pub(super) struct Pace {
    last: Option<(Instant, usize)>,
}

impl Pace {
    /// When the next batch may be sent at `rate` a minute (`None`: now).
    pub(super) fn next_at(&self, rate: u32) -> Option<Instant> {
        if rate == NO_LIMIT {
            return None;
        }
        let (at, n) = self.last?;
        Some(at + Duration::from_secs_f64(n as f64 * 60.0 / f64::from(rate)))
    }

    pub(super) fn sent(&mut self, at: Instant, n: usize) {
        self.last = Some((at, n));
    }
}

/// How long a `429 rate-overlimit` makes the job wait: the server's backoff,
/// or [`DEFAULT_BACKOFF`] when it names none.
pub(super) fn backoff(asked: Option<Duration>) -> Duration {
    asked.unwrap_or(DEFAULT_BACKOFF)
}

/// Retries of one batch after errors other than rate limiting: 1, 2, 4 s,
/// then the batch is given up (and the count starts again for the next).
#[derive(Default)]
pub(super) struct Retries {
    failed: u32,
}

impl Retries {
    /// After a failure: how long to wait before trying again, or `None` to
    /// give the batch up.
    pub(super) fn after_failure(&mut self) -> Option<Duration> {
        self.failed += 1;
        if self.failed > RETRIES {
            self.failed = 0;
            None
        } else {
            Some(Duration::from_secs(1 << (self.failed - 1)))
        }
    }

    pub(super) fn succeeded(&mut self) {
        self.failed = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_about_a_second_of_the_rate() {
        assert_eq!(batch_size(1), 1);
        assert_eq!(batch_size(120), 2);
        assert_eq!(batch_size(600), 10);
        assert_eq!(batch_size(60_000), MAX_BATCH);
        assert_eq!(batch_size(NO_LIMIT), UNPACED_BATCH);
    }

    /// Sends as the runner does, on a simulated clock (each batch goes as
    /// soon as it may): 60 numbers at 120 a minute take 29 s (the first
    /// batch goes at once), and no 10 s window holds more than the rate's
    /// share plus one batch.
    #[test]
    fn batches_keep_the_rate_in_every_window() {
        let (rate, total) = (120, 60);
        let start = Instant::now();
        let mut pace = Pace::default();
        let mut sends = Vec::new();
        let mut left = total;
        while left > 0 {
            let at = pace.next_at(rate).unwrap_or(start);
            let n = batch_size(rate).min(left);
            pace.sent(at, n);
            sends.push((at - start, n));
            left -= n;
        }
        assert_eq!(sends.last().unwrap().0, Duration::from_secs(29));
        let window = Duration::from_secs(10);
        for (i, (from, _)) in sends.iter().enumerate() {
            let in_window: usize = sends[i..].iter().take_while(|(t, _)| *t < *from + window).map(|(_, n)| n).sum();
            assert!(in_window <= 20 + batch_size(rate), "{in_window} numbers within 10 s of {from:?}");
        }
    }

    #[test]
    fn a_new_rate_applies_to_the_next_gap() {
        let mut pace = Pace::default();
        assert_eq!(pace.next_at(60), None, "the first batch goes at once");
        let now = Instant::now();
        pace.sent(now, 10);
        assert_eq!(pace.next_at(60), Some(now + Duration::from_secs(10)));
        assert_eq!(pace.next_at(600), Some(now + Duration::from_secs(1)));
        assert_eq!(pace.next_at(NO_LIMIT), None, "no limit holds nothing back");
    }

    #[test]
    fn a_429_waits_what_the_server_asks() {
        assert_eq!(backoff(Some(Duration::from_secs(7))), Duration::from_secs(7));
        assert_eq!(backoff(None), DEFAULT_BACKOFF);
    }

    #[test]
    fn failures_are_retried_three_times_then_given_up() {
        let mut retries = Retries::default();
        let mut waits = Vec::new();
        while let Some(wait) = retries.after_failure() {
            waits.push(wait.as_secs());
        }
        assert_eq!(waits, [1, 2, 4]);
        // The next batch starts with a clean count, and a success resets it.
        assert_eq!(retries.after_failure(), Some(Duration::from_secs(1)));
        retries.succeeded();
        assert_eq!(retries.after_failure(), Some(Duration::from_secs(1)));
    }
}
