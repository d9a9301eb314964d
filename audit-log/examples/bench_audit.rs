//! The sender's and the device's storage costs, for `bench/audit.sh`
//! (BENCHMARKS.md, "Storage: the audit log, streamed batches and the replay
//! store"). Each ratio's two sides run in alternating rounds of one process,
//! so that the machine's drift falls on both.
//!
//! ```text
//! bench_audit batch DIR DEVICES ROUNDS      one message to DEVICES devices, audit log off and on
//!                                           (the log in DIR); best devices/s of each, and the ratio
//! bench_audit concurrent DIR THREADS SEALS ROUNDS
//!                                           THREADS sealers, SEALS single seals each, sharing one
//!                                           log handle, audit log off and on; best seals/s, ratio
//! bench_audit stream DEVICES [DIR]          one streamed batch (with the log in DIR if given);
//!                                           ns per device, ms to the first result, peak RSS
//! bench_audit replay DIR OPENS              FileReplayStore::check_and_record OPENS times in DIR
//!                                           (the replay store's write and sync of each open); ns per call
//! bench_audit verify DIR RECORDS            writes a log of RECORDS sealed records in DIR, then times
//!                                           verifying it: the chain, the Merkle tree, and signing and
//!                                           checking its checkpoint (target: under 10 s for 1,000,000)
//! bench_audit batch-pg URL DEVICES ROUNDS   as batch, the log in the PostgreSQL database at URL
//!                                           (feature `postgres`)
//! bench_audit prove-pg URL RECORDS PROOFS   fills the database at URL up to RECORDS records, then
//!                                           PROOFS inclusion proofs of random records, each
//!                                           checked; median and worst ms per proof (feature `postgres`)
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use pushseal::{
    ApnsOptions, BatchDevice, DeviceKeyring, DevicePublicKey, FileReplayStore, Message, ReplayStore, Sender,
    SenderSecretKey,
};
use pushseal::{KeyId, MessageId, ReceiptDigest};
use pushseal_audit::checkpoint::LogSigningKey;
use pushseal_audit::{AuditEvent, AuditLog, AuditPlatform, FileStore, Hash256, LogTree, RecordStore, SealedEvent};

/// Distinct device keys the batches cycle through (making a key is an X25519
/// operation: a million of them would measure key generation).
const KEYS: usize = 64;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| args.get(i).and_then(|s| s.parse::<usize>().ok());
    let dir = |i: usize| args.get(i).map(PathBuf::from);
    let done = match (args.first().map(String::as_str), dir(1)) {
        (Some("batch"), Some(d)) => num(2).zip(num(3)).map(|(n, r)| batch(&d, n, r)),
        (Some("concurrent"), Some(d)) => match (num(2), num(3), num(4)) {
            (Some(t), Some(n), Some(r)) => {
                concurrent(&d, t, n, r);
                Some(())
            }
            _ => None,
        },
        (Some("stream"), _) => num(1).map(|n| stream(n, dir(2).as_deref())),
        (Some("replay"), Some(d)) => num(2).map(|n| replay(&d, n)),
        (Some("verify"), Some(d)) => num(2).map(|n| verify(&d, n)),
        #[cfg(feature = "postgres")]
        (Some("batch-pg"), _) => num(2).zip(num(3)).zip(args.get(1)).map(|((n, r), url)| postgres::batch(url, n, r)),
        #[cfg(feature = "postgres")]
        (Some("prove-pg"), _) => num(2).zip(num(3)).zip(args.get(1)).map(|((n, p), url)| postgres::prove(url, n, p)),
        _ => None,
    };
    match done {
        Some(()) => ExitCode::SUCCESS,
        None => {
            eprintln!("usage: see the doc comment of audit-log/examples/bench_audit.rs");
            ExitCode::from(2)
        }
    }
}

fn keys() -> Vec<DevicePublicKey> {
    (0..KEYS).map(|_| DeviceKeyring::generate().expect("randomness").public_key()).collect()
}

fn target() -> ApnsOptions {
    ApnsOptions::default()
}

fn fresh_log(dir: &Path, name: &str) -> AuditLog {
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    AuditLog::open(path).expect("the audit log opens")
}

fn batch(dir: &Path, devices: usize, rounds: usize) {
    let (sender, keys, msg) = (Sender::new(SenderSecretKey::generate().expect("randomness")), keys(), message());
    let input = || (0..devices).map(|i| BatchDevice::new(keys[i % KEYS]));
    let (mut off, mut on) = (Duration::MAX, Duration::MAX);
    for round in 0..rounds {
        let start = Instant::now();
        let mut n = 0;
        sender
            .seal_batch_chunked(input(), &msg, &target(), |c| {
                n += c.drain(..).filter(|r| r.sealed.is_ok()).count();
                Ok(())
            })
            .expect("the batch seals");
        assert_eq!(n, devices);
        off = off.min(start.elapsed());
        let log = fresh_log(dir, &format!("batch-{round}.jsonl"));
        let start = Instant::now();
        let mut n = 0;
        log.seal_batch_each(&sender, input(), &msg, &target(), |r| {
            n += usize::from(r.sealed.is_ok());
            Ok(())
        })
        .expect("the batch seals");
        assert_eq!(n, devices);
        on = on.min(start.elapsed());
        let _ = std::fs::remove_file(log.path().expect("a file"));
    }
    let rate = |d: Duration| devices as f64 / d.as_secs_f64();
    println!(
        "batch devices={devices} rounds={rounds} off={:.0}/s on={:.0}/s ratio={:.3}",
        rate(off),
        rate(on),
        rate(on) / rate(off)
    );
}

fn concurrent(dir: &Path, threads: usize, seals: usize, rounds: usize) {
    let (sender, keys, msg) = (Sender::new(SenderSecretKey::generate().expect("randomness")), keys(), message());
    let run = |log: Option<&AuditLog>| {
        let start = Instant::now();
        std::thread::scope(|scope| {
            for t in 0..threads {
                let (sender, key, msg) = (&sender, &keys[t % KEYS], &msg);
                scope.spawn(move || {
                    for _ in 0..seals {
                        match log {
                            Some(log) => log.seal(sender, key, msg, &target()).map(drop),
                            None => sender.seal(key, msg, &target()).map(drop),
                        }
                        .expect("the seal works");
                    }
                });
            }
        });
        start.elapsed()
    };
    let (mut off, mut on) = (Duration::MAX, Duration::MAX);
    for round in 0..rounds {
        off = off.min(run(None));
        let log = fresh_log(dir, &format!("concurrent-{round}.jsonl"));
        on = on.min(run(Some(&log)));
        let _ = std::fs::remove_file(log.path().expect("a file"));
    }
    let rate = |d: Duration| (threads * seals) as f64 / d.as_secs_f64();
    println!(
        "concurrent threads={threads} seals={} rounds={rounds} off={:.0}/s on={:.0}/s ratio={:.3}",
        threads * seals,
        rate(off),
        rate(on),
        rate(on) / rate(off)
    );
}

fn stream(devices: usize, dir: Option<&Path>) {
    let (sender, keys, msg) = (Sender::new(SenderSecretKey::generate().expect("randomness")), keys(), message());
    let input = (0..devices).map(|i| BatchDevice::new(keys[i % KEYS]));
    let start = Instant::now();
    let mut first = None;
    let mut n = 0usize;
    let mut take = |ok: bool| {
        first.get_or_insert_with(|| start.elapsed());
        n += usize::from(ok);
    };
    match dir {
        Some(dir) => {
            let log = fresh_log(dir, "stream.jsonl");
            log.seal_batch_each(&sender, input, &msg, &target(), |r| {
                take(r.sealed.is_ok());
                Ok(())
            })
            .expect("the batch seals");
            let _ = std::fs::remove_file(log.path().expect("a file"));
        }
        None => sender
            .seal_batch_chunked(input, &msg, &target(), |c| {
                c.drain(..).for_each(|r| take(r.sealed.is_ok()));
                Ok(())
            })
            .expect("the batch seals"),
    }
    let elapsed = start.elapsed();
    assert_eq!(n, devices);
    println!(
        "stream devices={devices} audit={} ns_per_device={:.0} first_ms={:.2} peak_rss_mb={:.1}",
        dir.is_some(),
        elapsed.as_nanos() as f64 / devices as f64,
        first.unwrap_or_default().as_secs_f64() * 1e3,
        peak_rss_kb() as f64 / 1024.0
    );
}

fn replay(dir: &Path, opens: usize) {
    let path = dir.join("replay.db");
    for suffix in ["", ".lock", ".tmp"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = FileReplayStore::open(&path).expect("the replay store opens");
    let now = pushseal::unix_now();
    let start = Instant::now();
    for i in 0..opens {
        let id = (i as u128 + 1).to_le_bytes();
        store.check_and_record(&id, now + 3600, now).expect("a new id is accepted");
    }
    let per = start.elapsed().as_nanos() as f64 / opens as f64;
    println!("replay dir={} opens={opens} ns_per_open={per:.0}", dir.display());
}

fn message() -> Message {
    Message::new("Lab results", "Your results from Tuesday are ready. Open the app to read them.")
}

/// The process's peak resident set (VmHWM), in KiB; 0 where /proc is missing.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmHWM:").and_then(|v| v.trim().trim_end_matches(" kB").parse().ok()))
        })
        .unwrap_or(0)
}

/// A log of `records` sealed records (written in chunks through the file
/// store, as group commit writes them), then verified as an auditor would:
/// the chain and the tree in one read, then the checkpoint signed and checked.
fn verify(dir: &Path, records: usize) {
    let path = dir.join("verify-million.jsonl");
    let _ = std::fs::remove_file(&path);
    let store = FileStore::open(&path).expect("the log opens");
    let event = |i: usize| {
        let n = i as u64;
        AuditEvent::Sealed(SealedEvent {
            time: 1_767_225_600 + n / 100,
            message_id: MessageId::from_bytes((u128::from(n) << 1 | 1).to_be_bytes()),
            sender: KeyId::from_bytes([0x5e; 8]),
            recipient: KeyId::from_bytes(n.to_be_bytes()),
            platform: AuditPlatform::Apns,
            envelope_sha256: Hash256::sha256(&n.to_be_bytes()),
            envelope_len: 321,
            payload_len: 503,
            ttl: 86_400,
            expires_at: 1_767_312_000 + n / 100,
            receipt_digest: ReceiptDigest::from_bytes(Hash256::sha256(&n.to_le_bytes()).to_bytes()),
            token_hmac: Some(Hash256::sha256(b"token")),
            actor: None,
        })
    };
    let start = Instant::now();
    for chunk in (0..records).collect::<Vec<_>>().chunks(10_000) {
        store.append(chunk.iter().map(|&i| event(i)).collect()).expect("the chunk is written");
    }
    let written = start.elapsed();
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let key = LogSigningKey::generate("bench.example/log").expect("randomness");

    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    let tree = LogTree::read(&path).expect("the log reads");
    let read = start.elapsed();
    assert!(tree.report().is_intact() && tree.size() == records as u64);
    let note = tree.checkpoint(&key).expect("the checkpoint is signed");
    let checked = key.verifier_key().open(note.as_bytes(), &[]).expect("the checkpoint verifies");
    assert_eq!(checked.checkpoint.size, records as u64);
    let (total, cpu) = (start.elapsed(), cpu_seconds() - cpu_start);
    let (chain_only, chain_cpu) = {
        let (start, cpu_start) = (Instant::now(), cpu_seconds());
        assert!(pushseal_audit::verify_log(&path, None).expect("the log reads").is_intact());
        (start.elapsed(), cpu_seconds() - cpu_start)
    };
    println!(
        "verify records={records} bytes={bytes} write={:.2}s chain_only={:.2}s (cpu {:.2}s) chain_and_tree={:.2}s \
         chain_tree_checkpoint={:.2}s (cpu {:.2}s) target<10s peak_rss={:.1}MB",
        written.as_secs_f64(),
        chain_only.as_secs_f64(),
        chain_cpu,
        read.as_secs_f64(),
        total.as_secs_f64(),
        cpu,
        peak_rss_kb() as f64 / 1024.0
    );
    let _ = std::fs::remove_file(&path);
}

/// The process's CPU time so far (user and system), in seconds, from
/// /proc/self/stat; 0 where it is missing. On a loaded machine it is what
/// the work costs, where the wall clock also counts the waits for a core.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and stime
    // are the 12th and 13th of them, in clock ticks (100 a second on Linux).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after.split_whitespace().skip(11).take(2).filter_map(|t| t.parse::<u64>().ok()).sum();
    ticks as f64 / 100.0
}

#[cfg(feature = "postgres")]
mod postgres {
    use std::time::{Duration, Instant};

    use pushseal::{BatchDevice, MessageId, Sender, SenderSecretKey};
    use pushseal_audit::checkpoint::LogSigningKey;
    use pushseal_audit::{AuditEvent, AuditLog, PgStore, RecordStore};

    use super::{KEYS, keys, message, target};

    /// One message to `devices` devices, with no log and with the log in
    /// the database at `url`, in alternating rounds.
    pub fn batch(url: &str, devices: usize, rounds: usize) {
        let (sender, keys, msg) = (Sender::new(SenderSecretKey::generate().expect("randomness")), keys(), message());
        let input = || (0..devices).map(|i| BatchDevice::new(keys[i % KEYS]));
        let log = AuditLog::with_store(PgStore::connect(url).expect("the database is there"));
        let (mut off, mut on) = (Duration::MAX, Duration::MAX);
        for _ in 0..rounds {
            let start = Instant::now();
            let mut n = 0;
            sender
                .seal_batch_chunked(input(), &msg, &target(), |c| {
                    n += c.drain(..).filter(|r| r.sealed.is_ok()).count();
                    Ok(())
                })
                .expect("the batch seals");
            assert_eq!(n, devices);
            off = off.min(start.elapsed());
            let start = Instant::now();
            let mut n = 0;
            log.seal_batch_each(&sender, input(), &msg, &target(), |r| {
                n += usize::from(r.sealed.is_ok());
                Ok(())
            })
            .expect("the batch seals");
            assert_eq!(n, devices);
            on = on.min(start.elapsed());
        }
        let rate = |d: Duration| devices as f64 / d.as_secs_f64();
        println!(
            "batch-pg devices={devices} rounds={rounds} off={:.0}/s on={:.0}/s ratio={:.3}",
            rate(off),
            rate(on),
            rate(on) / rate(off)
        );
    }

    /// Fills the log at `url` up to `records` records (copies of one sealed
    /// record, each with its own message id), then times `proofs` inclusion
    /// proofs of records spread over the log, checking each.
    pub fn prove(url: &str, records: usize, proofs: usize) {
        let store = PgStore::connect(url).expect("the database is there");
        let have = store.tree_size().expect("the log's size");
        let fill = Instant::now();
        if (have as usize) < records {
            let dir = std::env::temp_dir().join(format!("pushseal-bench-pg-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&dir);
            let scratch = AuditLog::open(dir.join("one.jsonl")).expect("a scratch log");
            let sender = Sender::new(SenderSecretKey::generate().expect("randomness"));
            let sealed = sender.seal(&keys()[0], &message(), &target()).expect("seals");
            let base = scratch.record_sealed(&target(), &sealed, None).expect("recorded").event;
            let _ = std::fs::remove_dir_all(&dir);
            let mut next = have as usize;
            while next < records {
                let group: Vec<AuditEvent> = (next..records.min(next + 10_000))
                    .map(|i| {
                        let mut event = base.clone();
                        if let AuditEvent::Sealed(s) = &mut event {
                            let mut id = [0u8; 16];
                            id[..8].copy_from_slice(&(i as u64).to_be_bytes());
                            s.message_id = MessageId::from_bytes(id);
                        }
                        event
                    })
                    .collect();
                next += group.len();
                store.append(group).expect("appended");
            }
        }
        let filled = fill.elapsed();
        let key = LogSigningKey::generate("bench.pushseal/audit").expect("a key");
        let note = store.checkpoint(&key).expect("a checkpoint");
        let checkpoint = key.verifier_key().open(note.as_bytes(), &[]).expect("it verifies").checkpoint;
        let mut times = Vec::with_capacity(proofs);
        for i in 0..proofs {
            // Records spread over the whole log, in no particular order.
            let record = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) % checkpoint.size;
            let start = Instant::now();
            let proof = store.prove_inclusion(record, &checkpoint).expect("a proof");
            times.push(start.elapsed());
            proof.verify(&checkpoint).expect("the proof verifies");
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "prove-pg records={} proofs={proofs} median={:.3}ms worst={:.3}ms fill={:.0}s",
            checkpoint.size,
            ms(times[proofs / 2]),
            ms(times[proofs - 1]),
            filled.as_secs_f64()
        );
    }
}
