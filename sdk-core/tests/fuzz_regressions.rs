//! The fuzz targets on the stable toolchain, on every `cargo test`: each
//! target's seeds, every saved input under `sdk-core/fuzz/regressions/<target>/`
//! (each one a crash or a slow input the fuzzer once found), and a fixed batch
//! of mutated seeds. The coverage-guided runs are `sdk-core/fuzz/run.sh`.
//!
//! With `PUSHSEAL_FUZZ_SEEDS=<folder>` set, the seeds are also written to
//! `<folder>/<target>/`, which is how `run.sh` seeds its corpora.

mod fuzzing;

use std::path::{Path, PathBuf};

use fuzzing::TARGETS;

fn sdk_core() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn vectors_dir() -> PathBuf {
    sdk_core().join("../test-vectors")
}

#[test]
fn every_seed_passes_its_target() {
    let export = std::env::var_os("PUSHSEAL_FUZZ_SEEDS").map(PathBuf::from);
    for (name, body) in TARGETS {
        let seeds = fuzzing::seeds(name, &vectors_dir());
        assert!(seeds.len() >= 3, "{name} has {} seeds", seeds.len());
        for seed in &seeds {
            body(seed);
        }
        if let Some(dir) = &export {
            let dir = dir.join(name);
            std::fs::create_dir_all(&dir).unwrap();
            for (i, seed) in seeds.iter().enumerate() {
                std::fs::write(dir.join(format!("seed-{i:04}")), seed).unwrap();
            }
        }
    }
}

#[test]
fn the_seeds_reach_the_end_of_every_check() {
    use pushseal::{MemoryReplayStore, Payload};
    // The open targets' seeds must get past the cryptography, or the fuzzer
    // would start at the first check only. Opening with the library directly:
    let opened = |name: &str| {
        let seeds = fuzzing::seeds(name, &vectors_dir());
        let keyring = fuzzing::fixture_keyring();
        seeds
            .iter()
            .filter(|s| {
                let text = String::from_utf8_lossy(s);
                let store = MemoryReplayStore::new();
                let payload = match name {
                    "open_apns" => Payload::ApnsJson(&text),
                    _ => Payload::Envelope(&text),
                };
                keyring.open(payload, &store, fuzzing::NOW).is_ok()
            })
            .count()
    };
    assert!(opened("open_envelope") >= 8);
    assert!(opened("open_apns") >= 8);
    // The version 2 seeds, with the keyring of both versions: those to the
    // current and the retired key, and the version 1 ones to the current key.
    let seeds = fuzzing::seeds("open_v2", &vectors_dir());
    let v2 = seeds
        .iter()
        .filter(|s| s.first() == Some(&2))
        .filter(|s| {
            let text = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, s);
            fuzzing::fixture_keyring_v2()
                .open(Payload::Envelope(&text), &MemoryReplayStore::new(), fuzzing::NOW)
                .is_ok()
        })
        .count();
    assert!(v2 >= 8, "{v2} version 2 seeds open");
}

#[test]
fn saved_regressions_pass_their_targets() {
    let root = sdk_core().join("fuzz/regressions");
    let mut count = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let (_, body) = TARGETS.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no fuzz target {name}"));
        for input in std::fs::read_dir(&dir).unwrap() {
            let input = input.unwrap().path();
            body(&std::fs::read(&input).unwrap());
            count += 1;
        }
    }
    println!("{count} saved fuzz inputs passed");
}

/// A small deterministic mutator (bit flips, byte changes, cuts, inserts and
/// splices), so that every `cargo test` runs a few thousand hostile inputs
/// through each target without the fuzzing toolchain.
struct Mutator(u64);

impl Mutator {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn mutate(&mut self, seed: &[u8], other: &[u8]) -> Vec<u8> {
        let mut out = seed.to_vec();
        for _ in 0..1 + self.below(4) {
            let at = self.below(out.len() + 1);
            let last = out.len().saturating_sub(1);
            match self.below(6) {
                0 if !out.is_empty() => out[at.min(last)] ^= 1 << self.below(8),
                1 if !out.is_empty() => out[at.min(last)] = self.next() as u8,
                2 => out.truncate(at),
                3 => out.insert(at, self.next() as u8),
                4 => {
                    let from = self.below(other.len() + 1);
                    let to = (from + self.below(64)).min(other.len());
                    out.splice(at..at, other[from..to].iter().copied());
                }
                _ => {
                    let interesting = [0u8, 1, 0x7f, 0x80, 0xff, b'"', b'{', b'=', b'\n', b'A'];
                    out.insert(at, interesting[self.below(interesting.len())]);
                }
            }
        }
        out
    }
}

#[test]
fn mutated_seeds_never_break_a_rule() {
    let mut m = Mutator(0x9e37_79b9_7f4a_7c15);
    for (name, body) in TARGETS {
        let seeds = fuzzing::seeds(name, &vectors_dir());
        let rounds = if name.starts_with("open") { 300 } else { 1500 };
        for _ in 0..rounds {
            let seed = &seeds[m.below(seeds.len())];
            let other = &seeds[m.below(seeds.len())];
            body(&m.mutate(seed, other));
        }
    }
}
