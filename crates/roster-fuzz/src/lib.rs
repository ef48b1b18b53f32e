//! The harness Roster's fuzz and property tests share: a deterministic
//! stream of choices per target (`ROSTER_FUZZ_SEED`), how many inputs to
//! generate (`ROSTER_FUZZ_CASES`, default one million), calls under
//! `catch_unwind` that report the input and the seed to replay, counts of
//! what was accepted and refused, and one summary line per target.

use std::collections::BTreeMap;
use std::fmt::{Debug, Display};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};

const DEFAULT_SEED: u64 = 0x5EED_F022;

/// Inputs per target: `ROSTER_FUZZ_CASES`, default one million.
pub fn cases() -> u64 {
    match std::env::var("ROSTER_FUZZ_CASES") {
        Ok(v) => v.trim().replace('_', "").parse().expect("ROSTER_FUZZ_CASES is a number of cases"),
        Err(_) => 1_000_000,
    }
}

/// `ROSTER_FUZZ_SEED` (decimal or 0x-hex), else a fixed seed.
pub fn seed() -> u64 {
    match std::env::var("ROSTER_FUZZ_SEED") {
        Ok(v) => {
            let v = v.trim();
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed.expect("ROSTER_FUZZ_SEED is a number (decimal or 0x-hex)")
        }
        Err(_) => DEFAULT_SEED,
    }
}

pub struct Fuzz {
    pub target: &'static str,
    pub seed: u64,
    pub rng: Xoshiro256PlusPlus,
    pub case: u64,
    pub started: Instant,
    pub accepted: u64,
    pub rejected: BTreeMap<&'static str, u64>,
}

impl Fuzz {
    /// Each target draws its own stream from the seed.
    pub fn new(target: &'static str) -> Fuzz {
        let seed = seed();
        let stream =
            target.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        Fuzz {
            target,
            seed,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed ^ stream),
            case: 0,
            started: Instant::now(),
            accepted: 0,
            rejected: BTreeMap::new(),
        }
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n as u64) as usize
    }

    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub fn digit(&mut self) -> char {
        char::from(b'0' + self.below(10) as u8)
    }

    pub fn byte(&mut self) -> u8 {
        self.rng.next_u32() as u8
    }

    pub fn bytes(&mut self, out: &mut Vec<u8>, len: usize) {
        let start = out.len();
        out.resize(start + len, 0);
        self.rng.fill_bytes(&mut out[start..]);
    }

    /// Calls the code under test; a panic fails the test with the input.
    pub fn call<I: Debug + ?Sized, T>(&self, input: &I, f: impl FnOnce() -> T) -> T {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => v,
            Err(panic) => {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                panic!("{}: PANIC on input {input:?}: {why}\n  ({})", self.target, self.replay())
            }
        }
    }

    pub fn replay(&self) -> String {
        format!("case {} with ROSTER_FUZZ_SEED={}", self.case, self.seed)
    }

    /// A broken property fails the test with the input.
    #[track_caller]
    pub fn fail<I: Debug + ?Sized>(&self, input: &I, what: impl Display) -> ! {
        panic!("{}: {what}\n  input: {input:?}\n  ({})", self.target, self.replay())
    }

    pub fn reject(&mut self, variant: &'static str) {
        *self.rejected.entry(variant).or_default() += 1;
    }

    pub fn summary(&self, count: u64, unit: &str, extra: &str) {
        let secs = self.started.elapsed().as_secs_f64();
        let rejected: Vec<String> = self.rejected.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!(
            "fuzz {}: {count} {unit}, {} accepted, rejected [{}]{extra}; {secs:.1} s, {:.0} {unit}/s (ROSTER_FUZZ_SEED={})",
            self.target,
            self.accepted,
            rejected.join(", "),
            count as f64 / secs.max(1e-9),
            self.seed
        );
    }
}
