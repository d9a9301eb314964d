//! The benchmarked operations outside criterion, for `bench/run.sh`: one
//! operation `N` times (instruction counts under `valgrind --tool=callgrind`),
//! all of them interleaved in short turns (ratios that the machine's drift
//! cannot skew), the batch throughput, and the bindings' native baseline.
//!
//! ```text
//! bench_ops OP SIZE N      OP: floor-seal floor-open floor-seal-ladder floor-open-ladder
//!                              seal seal-cached seal-apns open open-apns hpke-seal hpke-open
//!                              v2-floor-seal v2-floor-open v2-seal v2-open (envelope version 2)
//!                              v2-xwing-encap v2-xwing-decap v2-xwing-expand v2-ed25519-sign
//!                              v2-ed25519-verify (version 2's primitives alone)
//! bench_ops interleave SIZE ROUNDS [BATCH]  every OP in turn, BATCH runs each (default 20), ROUNDS
//!                                  times; prints each OP's best batch and p10, in ns per run
//! bench_ops batch DEVICES ROUNDS [v2]  seals one message to DEVICES devices with Sender::seal_batch
//!                                  ROUNDS times (version 2 to registrations with `v2`); prints
//!                                  the best devices per second
//! bench_ops fixture DIR            writes DIR/keyring.bin (a device keyring that trusts a sender:
//!                                  secret, for benchmarks only), DIR/envelope.txt (a 2 KB
//!                                  notification from that sender to it), for the bindings' benchmarks,
//!                                  and DIR/envelope-v2.txt (the same, version 2)
//! bench_ops cold-open DIR          loads DIR/keyring.bin and opens DIR/envelope-v2.txt once: the
//!                                  extension's case in a fresh process; prints the time from main's start
//! bench_ops open-timed DIR N ROUNDS  opens DIR/envelope.txt N times per round, each with a fresh
//!                                  in-memory replay store made beforehand, as the bindings'
//!                                  benchmarks do; prints the best round's nanoseconds per open
//! ```
//!
//! Everything an operation needs is prepared before the `N` runs, so that the
//! difference between two runs with different `N` is the cost of the runs alone.

#[path = "../benches/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use common::{Floor, FloorInput, FloorV2, HpkeCrate, V2_HEADER_LEN, floor_input_v2, message_for, random32};
use pushseal::envelope::HEADER_LEN;
use pushseal::{
    ApnsOptions, BareEnvelope, DeviceKeyring, DevicePublicKey, DeviceSecretKey, DeviceSecretKeyV2, MemoryReplayStore,
    Message, Payload, Pq, Registration, Sender, SenderSecretKey, SenderSigningKey, unix_now,
};

fn main() -> ExitCode {
    let started = Instant::now();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| args.get(i).and_then(|s| s.parse::<usize>().ok());
    match (args.first().map(String::as_str), num(1), num(2)) {
        (Some("fixture"), _, _) if args.len() == 2 => match fixture(&args[1]) {
            Ok(()) => return ExitCode::SUCCESS,
            Err(e) => eprintln!("bench_ops: {e}"),
        },
        (Some("open-timed"), _, _) if args.len() == 4 => match (num(2), num(3)) {
            (Some(n), Some(rounds)) => match open_timed(&args[1], n, rounds) {
                Ok(()) => return ExitCode::SUCCESS,
                Err(e) => eprintln!("bench_ops: {e}"),
            },
            _ => eprintln!("usage: bench_ops open-timed DIR N ROUNDS"),
        },
        (Some("interleave"), Some(size), Some(rounds)) if size == 256 || size == 2048 => {
            match interleave(size, rounds, num(3).unwrap_or(20)) {
                Ok(()) => return ExitCode::SUCCESS,
                Err(e) => eprintln!("bench_ops: {e}"),
            }
        }
        (Some("cold-open"), _, _) if args.len() == 2 => match cold_open(started, &args[1]) {
            Ok(()) => return ExitCode::SUCCESS,
            Err(e) => eprintln!("bench_ops: {e}"),
        },
        (Some("batch"), Some(devices), Some(rounds)) if args.len() == 3 || args[3] == "v2" => {
            batch(devices, rounds, args.len() == 4);
            return ExitCode::SUCCESS;
        }
        (Some(op), Some(size), Some(n)) if size == 256 || size == 2048 => match run(op, size, n) {
            Ok(()) => return ExitCode::SUCCESS,
            Err(e) => eprintln!("bench_ops: {e}"),
        },
        _ => eprintln!(
            "usage: bench_ops OP 256|2048 N | interleave 256|2048 ROUNDS [BATCH] | batch DEVICES ROUNDS [v2] \
             | fixture DIR | open-timed DIR N ROUNDS | cold-open DIR"
        ),
    }
    ExitCode::FAILURE
}

/// One benchmarked operation: runs it once.
type Op = Box<dyn FnMut() -> Result<(), String>>;

/// Every operation for `size`-byte notifications, by name, each with what it
/// needs prepared (keys, a sealed payload to open).
fn operations(size: usize) -> Result<Vec<(&'static str, Op)>, String> {
    let err = |e: pushseal::Error| e.to_string();
    let floor = std::rc::Rc::new(Floor::new(random32(), random32()));
    let header = [7u8; HEADER_LEN];
    let sender = std::rc::Rc::new(Sender::new(SenderSecretKey::from_bytes(floor.sk_s)));
    let cached = Sender::with_cache(SenderSecretKey::from_bytes(floor.sk_s), 16);
    let mut device = DeviceKeyring::generate().map_err(err)?;
    device.trust_sender(sender.public_key()).map_err(err)?;
    let device = std::rc::Rc::new(device);
    let to = device.public_key();
    let msg = std::rc::Rc::new(message_for(size));
    let apns = ApnsOptions::default();
    let now = unix_now();
    let input = std::rc::Rc::new(FloorInput::new(&floor, size));
    let envelope = sender.seal(&to, &msg, &BareEnvelope).map_err(err)?.payload;
    let apns_body = sender.seal(&to, &msg, &apns).map_err(err)?.payload.body;
    let hpke = std::rc::Rc::new(HpkeCrate::new());
    let mut hpke_ct = vec![0x42u8; size];
    let hpke_sealed = hpke.seal(&header, &mut hpke_ct);

    let mut ops: Vec<(&'static str, Op)> = Vec::new();
    for (name, ladder) in [("floor-seal", false), ("floor-seal-ladder", true)] {
        let (floor, mut buf) = (floor.clone(), vec![0u8; size]);
        let seal = if ladder { Floor::seal_ladder } else { Floor::seal };
        ops.push((
            name,
            Box::new(move || {
                black_box(seal(&floor, &header, &mut buf));
                Ok(())
            }),
        ));
    }
    for (name, ladder) in [("floor-open", false), ("floor-open-ladder", true)] {
        let (floor, input, mut buf) = (floor.clone(), input.clone(), vec![0u8; size]);
        let open = if ladder { Floor::open_ladder } else { Floor::open };
        ops.push((
            name,
            Box::new(move || {
                buf.copy_from_slice(&input.ct);
                open(&floor, &input.enc, &input.header, &mut buf, &input.tag).then_some(()).ok_or("floor open".into())
            }),
        ));
    }
    let (seal_sender, seal_msg) = (sender.clone(), msg.clone());
    ops.push(("seal", Box::new(move || seal_sender.seal(&to, &seal_msg, &BareEnvelope).map(drop).map_err(err))));
    let (apns_sender, apns_msg) = (sender.clone(), msg.clone());
    ops.push(("seal-apns", Box::new(move || apns_sender.seal(&to, &apns_msg, &apns).map(drop).map_err(err))));
    let cached_msg = msg.clone();
    cached.seal(&to, &msg, &BareEnvelope).map_err(err)?;
    ops.push(("seal-cached", Box::new(move || cached.seal(&to, &cached_msg, &BareEnvelope).map(drop).map_err(err))));
    for (name, text, apns) in [("open", envelope, false), ("open-apns", apns_body, true)] {
        let device = device.clone();
        ops.push((
            name,
            Box::new(move || {
                // A fresh store each time, as the criterion benchmark does.
                let store = MemoryReplayStore::new();
                let payload = if apns { Payload::ApnsJson(&text) } else { Payload::Envelope(&text) };
                device.open(payload, &store, now).map(drop).map_err(err)
            }),
        ));
    }
    let (peer, mut buf) = (hpke.clone(), vec![0u8; size]);
    ops.push((
        "hpke-seal",
        Box::new(move || {
            black_box(peer.seal(&header, &mut buf));
            Ok(())
        }),
    ));
    let mut buf = vec![0u8; size];
    ops.push((
        "hpke-open",
        Box::new(move || {
            buf.copy_from_slice(&hpke_ct);
            hpke.open(&hpke_sealed, &header, &mut buf).then_some(()).ok_or("hpke open".into())
        }),
    ));
    ops.extend(operations_v2(size)?);
    Ok(ops)
}

/// Envelope version 2's operations: its floor, its primitives alone (for the
/// breakdown), and PushSeal's seal and open of the same size.
fn operations_v2(size: usize) -> Result<Vec<(&'static str, Op)>, String> {
    let err = |e: pushseal::Error| e.to_string();
    let (signing_seed, device_seed) = (random32(), random32());
    let floor = std::rc::Rc::new(FloorV2::new(signing_seed, device_seed));
    let envelope = std::rc::Rc::new(floor_input_v2(&floor, size, signing_seed, device_seed));
    let sender = std::rc::Rc::new(
        Sender::new(SenderSecretKey::from_bytes(random32()))
            .with_signing_key(SenderSigningKey::from_seed(&signing_seed))
            .with_pq(Pq::Require),
    );
    let mut device =
        DeviceKeyring::from_keys(DeviceSecretKey::from_bytes(random32()), DeviceSecretKeyV2::from_seed(&device_seed));
    device.trust_sender_v2(sender.verifying_key().ok_or("no signing key")?);
    let registration = std::rc::Rc::new(device.registration());
    let msg = std::rc::Rc::new(message_for(size));
    let text = sender.seal(&*registration, &msg, &BareEnvelope).map_err(err)?.payload;
    let now = unix_now();

    let mut ops: Vec<(&'static str, Op)> = Vec::new();
    let (f, mut buf) = (floor.clone(), Vec::with_capacity(V2_HEADER_LEN + size + 16 + 64));
    ops.push((
        "v2-floor-seal",
        Box::new(move || {
            buf.clear();
            buf.resize(V2_HEADER_LEN + size, 0);
            f.seal(&mut buf);
            black_box(&buf);
            Ok(())
        }),
    ));
    let (f, env, mut buf) = (floor.clone(), envelope.clone(), vec![0u8; size]);
    ops.push(("v2-floor-open", Box::new(move || f.open(&env, &mut buf).then_some(()).ok_or("floor open v2".into()))));
    let (s, to, m) = (sender.clone(), registration.clone(), msg.clone());
    ops.push(("v2-seal", Box::new(move || s.seal(&*to, &m, &BareEnvelope).map(drop).map_err(err))));
    ops.push((
        "v2-open",
        Box::new(move || {
            // A fresh store each time, as version 1's open.
            let store = MemoryReplayStore::new();
            device.open(Payload::Envelope(&text), &store, now).map(drop).map_err(err)
        }),
    ));
    // The primitives alone, for where the time goes (information).
    let f = floor.clone();
    ops.push((
        "v2-xwing-encap",
        Box::new(move || {
            let mut eseed = [0u8; 64];
            getrandom::fill(&mut eseed).map_err(|e| e.to_string())?;
            black_box(f.ek.encapsulate_deterministic(&eseed.into()));
            Ok(())
        }),
    ));
    let (f, env) = (floor.clone(), envelope.clone());
    ops.push((
        "v2-xwing-decap",
        Box::new(move || {
            let enc = env[17..V2_HEADER_LEN].try_into().map_err(|_| "enc")?;
            black_box(x_wing::Decapsulate::decapsulate(&f.dk, &enc));
            Ok(())
        }),
    ));
    ops.push((
        "v2-xwing-expand",
        Box::new(move || {
            black_box(x_wing::DecapsulationKey::from(black_box(device_seed)));
            Ok(())
        }),
    ));
    let transcript_len = envelope.len() + 30 + 10 + 1216 + 32 - 64;
    let (f, transcript) = (floor.clone(), vec![0x5au8; transcript_len]);
    let signature = ed25519_dalek::Signer::sign(&floor.signing, &transcript);
    ops.push((
        "v2-ed25519-sign",
        Box::new({
            let (f, transcript) = (f.clone(), transcript.clone());
            move || {
                black_box(ed25519_dalek::Signer::sign(&f.signing, &transcript));
                Ok(())
            }
        }),
    ));
    ops.push((
        "v2-ed25519-verify",
        Box::new(move || f.verifying.verify_strict(&transcript, &signature).map_err(|e| e.to_string())),
    ));
    Ok(ops)
}

/// Runs `op` `n` times (after one run to warm caches and fill the sender's cache).
fn run(op: &str, size: usize, n: usize) -> Result<(), String> {
    let mut ops = operations(size)?;
    let (_, f) = ops.iter_mut().find(|(name, _)| *name == op).ok_or(format!("unknown operation {op:?}"))?;
    f()?;
    for _ in 0..n {
        f()?;
    }
    Ok(())
}

/// Every operation in turn, a batch of `batch` runs each, `rounds` times over:
/// each round takes a few tens of milliseconds, far less than the machine's
/// slow and fast phases, so all operations see the same phases. Prints each
/// operation's best batch and the 10th percentile of its batches, in
/// nanoseconds per run.
fn interleave(size: usize, rounds: usize, batch: usize) -> Result<(), String> {
    let mut ops = operations(size)?;
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); ops.len()];
    for round in 0..=rounds {
        for ((_, f), t) in ops.iter_mut().zip(&mut times) {
            let start = Instant::now();
            for _ in 0..batch {
                f()?;
            }
            // Round 0 warms up.
            if round > 0 {
                t.push(start.elapsed().as_secs_f64() * 1e9 / batch as f64);
            }
        }
    }
    for ((name, _), t) in ops.iter().zip(&mut times) {
        t.sort_by(f64::total_cmp);
        let p10 = t.get(t.len() / 10).copied().unwrap_or(f64::NAN);
        let min = t.first().copied().unwrap_or(f64::NAN);
        println!("{name} {size} min_ns={min:.0} p10_ns={p10:.0}");
    }
    Ok(())
}

/// Writes the bindings' benchmark inputs to `dir`, and `envelope-v2.txt`, a
/// version 2 envelope of the same message to the same keyring, for `cold-open`.
fn fixture(dir: &str) -> Result<(), String> {
    let dir = std::path::Path::new(dir);
    let sender =
        Sender::new(SenderSecretKey::from_bytes(random32())).with_signing_key(SenderSigningKey::from_seed(&random32()));
    let mut device = DeviceKeyring::generate().map_err(|e| e.to_string())?;
    device.trust_sender(sender.public_key()).map_err(|e| e.to_string())?;
    device.trust_sender_v2(sender.verifying_key().ok_or("no signing key")?);
    let text = sender.seal_envelope(&device.public_key(), &message_for(2048)).map_err(|e| e.to_string())?.payload;
    let text_v2 = sender.seal_envelope(&device.registration(), &message_for(2048)).map_err(|e| e.to_string())?.payload;
    let keyring = device.to_bytes().map_err(|e| e.to_string())?;
    std::fs::write(dir.join("keyring.bin"), keyring.as_slice()).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("envelope-v2.txt"), text_v2).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("envelope.txt"), text).map_err(|e| e.to_string())
}

/// The notification extension's case, in a fresh process: reads
/// DIR/keyring.bin and DIR/envelope-v2.txt, loads the keyring from its bytes
/// and opens the envelope once (with an in-memory replay store). Prints the
/// wall time from `main`'s start to the opened notification, and its parts.
fn cold_open(started: Instant, dir: &str) -> Result<(), String> {
    let dir = std::path::Path::new(dir);
    let keyring = std::fs::read(dir.join("keyring.bin")).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(dir.join("envelope-v2.txt")).map_err(|e| e.to_string())?;
    let read = started.elapsed();
    let device = DeviceKeyring::from_bytes(&keyring).map_err(|e| e.to_string())?;
    let loaded = started.elapsed();
    let store = MemoryReplayStore::new();
    let opened = device.open(Payload::Envelope(&text), &store, unix_now()).map_err(|e| e.to_string())?;
    let done = started.elapsed();
    black_box(opened);
    let us = |d: std::time::Duration| d.as_secs_f64() * 1e6;
    println!(
        "cold_open_us {:.0} read_us {:.0} load_us {:.0} open_us {:.0}",
        us(done),
        us(read),
        us(loaded - read),
        us(done - loaded)
    );
    Ok(())
}

/// The native side of the bindings' comparison: the same loop as theirs.
fn open_timed(dir: &str, n: usize, rounds: usize) -> Result<(), String> {
    let dir = std::path::Path::new(dir);
    let keyring = std::fs::read(dir.join("keyring.bin")).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(dir.join("envelope.txt")).map_err(|e| e.to_string())?;
    let device = DeviceKeyring::from_bytes(&keyring).map_err(|e| e.to_string())?;
    let mut best = f64::INFINITY;
    // One warm-up round, not counted.
    for round in 0..=rounds.max(1) {
        // A fresh replay store for each open, made before the timed loop.
        let stores: Vec<MemoryReplayStore> = (0..n).map(|_| MemoryReplayStore::new()).collect();
        let start = Instant::now();
        for store in &stores {
            let payload = Payload::Envelope(black_box(&text));
            black_box(device.open(payload, store, unix_now()).map_err(|e| e.to_string())?);
        }
        if round > 0 {
            best = best.min(start.elapsed().as_secs_f64() * 1e9 / n.max(1) as f64);
        }
    }
    println!("native_open_ns {best:.0}");
    Ok(())
}

/// Seals to `devices` devices `rounds` times and prints the best rate, with
/// the number of worker threads `seal_batch` used (the CPUs this process may
/// run on). With `v2`, the devices are registrations with both keys (parsed
/// before the clock starts, as a server reads them once) and the sender has a
/// signing key: every envelope is version 2.
fn batch(devices: usize, rounds: usize, v2: bool) {
    let mut sender = Sender::new(SenderSecretKey::from_bytes(random32()));
    let msg = Message::new("Clinic update", "The clinic opens at 9:00 tomorrow.");
    let sealed_all = |sealed: pushseal::Result<Vec<pushseal::Result<pushseal::Sealed<pushseal::ApnsRequest>>>>| {
        let sealed = sealed.unwrap_or_default();
        let ok = sealed.iter().filter(|r| r.as_ref().is_ok_and(|s| s.version() == if v2 { 2 } else { 1 })).count();
        assert_eq!(ok, devices, "every device sealed, in the expected version");
    };
    let (mut best, mut cpu) = (f64::INFINITY, 0.0);
    if v2 {
        sender = sender.with_signing_key(SenderSigningKey::from_seed(&random32())).with_pq(Pq::Require);
        let registrations: Vec<Registration> = (0..devices)
            .map(|_| {
                Registration::new(
                    DeviceSecretKey::from_bytes(random32()).public_key(),
                    DeviceSecretKeyV2::from_seed(&random32()).public_key().clone(),
                )
            })
            .collect();
        for _ in 0..rounds.max(1) {
            let (start, cpu_start) = (Instant::now(), process_cpu_seconds());
            let sealed = sender.seal_batch(registrations.iter().cloned(), &msg, &ApnsOptions::default());
            best = best.min(start.elapsed().as_secs_f64());
            cpu += process_cpu_seconds() - cpu_start;
            sealed_all(sealed);
        }
    } else {
        let keys: Vec<DevicePublicKey> =
            (0..devices).map(|_| DeviceSecretKey::from_bytes(random32()).public_key()).collect();
        for _ in 0..rounds.max(1) {
            let (start, cpu_start) = (Instant::now(), process_cpu_seconds());
            let sealed = sender.seal_batch(&keys, &msg, &ApnsOptions::default());
            best = best.min(start.elapsed().as_secs_f64());
            cpu += process_cpu_seconds() - cpu_start;
            sealed_all(sealed);
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // The CPU time of every round, all threads: what a device costs however
    // the machine's other work delays the process.
    let cpu_us = cpu * 1e6 / (devices * rounds.max(1)) as f64;
    println!(
        "devices={devices} threads={threads} best_seconds={best:.4} devices_per_second={:.0} us_per_device={:.2} \
         cpu_us_per_device={cpu_us:.2}",
        devices as f64 / best,
        best * 1e6 / devices as f64
    );
}

/// The CPU time this process has used so far, every thread's (finished ones
/// included), in seconds: `utime` and `stime` of /proc/self/stat, in Linux's
/// 100 ticks a second. NaN where there is no /proc.
fn process_cpu_seconds() -> f64 {
    let ticks = || -> Option<f64> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The fields after the command's name, which ends with the last ')': state is field 3.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        Some(fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?)
    };
    ticks().map_or(f64::NAN, |t| t / 100.0)
}
