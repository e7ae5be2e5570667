//! The stable-Rust twin of `fuzz/` (which needs nightly and minutes): every
//! decoder of outside data gets thousands of deterministic mutations of real
//! inputs (captured from a real server and device exchange) and must not
//! panic; some entry points also assert properties (see `decoders`).
//! `PUNCH_MUTATIONS` changes the count per target; `PUNCH_MUTATION_SEED` the seed.

use std::panic::{AssertUnwindSafe, catch_unwind};

use punch_tests::crash::Rng;
use punch_tests::decoders::{self, TARGETS};
use punch_tests::seeds::real_examples;

/// Values that break naive decoders, spliced in where a token was.
const TOKENS: &[&str] = &[
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1e-320",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "2147483647",
    "-2147483649",
    "NaN",
    "null",
    "true",
    "\"\"",
    "[]",
    "{}",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\u{202e}\u{1b}]0;x\u{7}\"",
    "\"AAAA\"",
    "\"====\"",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "-0",
    "0.0000001",
    "1.5",
    "999999999999999999999999999999",
];

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..rng.range(1, 4) {
        let len = v.len().max(1) as u64;
        let at = rng.range(0, len - 1) as usize;
        match rng.range(0, 9) {
            0 if !v.is_empty() => v[at] ^= 1 << rng.range(0, 7),
            1 if !v.is_empty() => {
                v[at] = *[
                    0u8, 0xff, b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b'-', b'9',
                ]
                .get(rng.range(0, 11) as usize)
                .unwrap_or(&0)
            }
            2 if !v.is_empty() => {
                let n = rng.range(1, 16).min(len - at as u64) as usize;
                v.drain(at..at + n);
            }
            3 => {
                let chunk: Vec<u8> = v[at..v.len().min(at + rng.range(1, 64) as usize)].to_vec();
                let to = rng.range(0, v.len() as u64) as usize;
                v.splice(to..to, chunk);
            }
            4 | 5 => {
                // Replace a JSON scalar (number or string) with a hostile token.
                let text = String::from_utf8_lossy(&v).into_owned();
                let starts: Vec<usize> = text
                    .char_indices()
                    .filter(|(_, c)| *c == ':' || *c == '[' || *c == ',')
                    .map(|(i, _)| i + 1)
                    .collect();
                if let Some(&start) =
                    starts.get(rng.range(0, starts.len().max(1) as u64 - 1) as usize)
                {
                    let end = text[start..]
                        .find([',', '}', ']'])
                        .map_or(text.len(), |e| start + e);
                    let token = TOKENS[rng.range(0, TOKENS.len() as u64 - 1) as usize];
                    v = format!("{}{}{}", &text[..start], token, &text[end..]).into_bytes();
                }
            }
            6 => v.truncate(at),
            7 if !other.is_empty() => {
                // Splice with another real input of the same target.
                let from = rng.range(0, other.len() as u64 - 1) as usize;
                v.truncate(at);
                v.extend_from_slice(&other[from..]);
            }
            8 => {
                let n = rng.range(1, 8) as usize;
                let byte = rng.range(0, 255) as u8;
                v.splice(at..at, std::iter::repeat_n(byte, n));
            }
            _ if !v.is_empty() => v[0] = rng.range(0, 255) as u8,
            _ => v.push(rng.range(0, 255) as u8),
        }
    }
    v
}

fn escaped(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

#[test]
fn every_decoder_survives_mutated_real_inputs() {
    let per_target: u64 = std::env::var("PUNCH_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let seed: u64 = std::env::var("PUNCH_MUTATION_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_0009);
    let examples = real_examples();
    let mut ran = Vec::new();
    for &target in TARGETS {
        let seeds: Vec<&[u8]> = examples
            .iter()
            .filter(|(t, _)| *t == target)
            .map(|(_, b)| b.as_slice())
            .collect();
        assert!(!seeds.is_empty(), "no real example for {target}");
        let started = std::time::Instant::now();
        // The real inputs themselves first.
        for s in &seeds {
            decoders::run(target, s);
        }
        let mut rng = Rng::new(seed ^ target.len() as u64);
        for i in 0..per_target {
            let base = seeds[(i % seeds.len() as u64) as usize];
            let other = seeds[rng.range(0, seeds.len() as u64 - 1) as usize];
            let input = mutate(&mut rng, base, other);
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| decoders::run(target, &input))) {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!(
                    "{target} panicked on mutation {i} (seed {seed}): {msg}\ninput: b\"{}\"",
                    escaped(&input)
                );
            }
        }
        ran.push((target, seeds.len(), started.elapsed()));
    }
    for (target, seeds, took) in ran {
        println!("{target:<16} {seeds:>3} real inputs + {per_target} mutations in {took:.2?}");
    }
}
