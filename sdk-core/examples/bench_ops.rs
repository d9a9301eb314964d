//! The benchmarked operations outside criterion, for `bench/run.sh`: one
//! operation `N` times (instruction counts under `valgrind --tool=callgrind`),
//! all of them interleaved in short turns (ratios that the machine's drift
//! cannot skew), the batch throughput, and the bindings' native baseline.
//!
//! ```text
//! bench_ops OP SIZE N      OP: floor-seal floor-open floor-seal-ladder floor-open-ladder
//!                              seal seal-cached seal-apns open open-apns hpke-seal hpke-open
//! bench_ops interleave SIZE ROUNDS [BATCH]  every OP in turn, BATCH runs each (default 20), ROUNDS
//!                                  times; prints each OP's best batch and p10, in ns per run
//! bench_ops batch DEVICES ROUNDS   seals one message to DEVICES devices with Sender::seal_batch
//!                                  ROUNDS times; prints the best devices per second
//! bench_ops fixture DIR            writes DIR/keyring.bin (a device keyring that trusts a sender:
//!                                  secret, for benchmarks only) and DIR/envelope.txt (a 2 KB
//!                                  notification from that sender to it), for the bindings' benchmarks
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

use common::{Floor, FloorInput, HpkeCrate, message_for, random32};
use pushseal::envelope::HEADER_LEN;
use pushseal::{
    ApnsOptions, BareEnvelope, DeviceKeyring, DevicePublicKey, MemoryReplayStore, Message, Payload, Sender,
    SenderSecretKey, unix_now,
};

fn main() -> ExitCode {
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
        (Some("batch"), Some(devices), Some(rounds)) => {
            batch(devices, rounds);
            return ExitCode::SUCCESS;
        }
        (Some(op), Some(size), Some(n)) if size == 256 || size == 2048 => match run(op, size, n) {
            Ok(()) => return ExitCode::SUCCESS,
            Err(e) => eprintln!("bench_ops: {e}"),
        },
        _ => eprintln!("usage: bench_ops OP 256|2048 N | interleave 256|2048 ROUNDS [BATCH] | batch DEVICES ROUNDS"),
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

/// Writes the bindings' benchmark inputs to `dir`.
fn fixture(dir: &str) -> Result<(), String> {
    let dir = std::path::Path::new(dir);
    let sender = Sender::new(SenderSecretKey::from_bytes(random32()));
    let mut device = DeviceKeyring::generate().map_err(|e| e.to_string())?;
    device.trust_sender(sender.public_key()).map_err(|e| e.to_string())?;
    let text = sender.seal_envelope(&device.public_key(), &message_for(2048)).map_err(|e| e.to_string())?.payload;
    let keyring = device.to_bytes().map_err(|e| e.to_string())?;
    std::fs::write(dir.join("keyring.bin"), keyring.as_slice()).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("envelope.txt"), text).map_err(|e| e.to_string())
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
/// the number of worker threads `seal_batch` used (the CPUs this process may run on).
fn batch(devices: usize, rounds: usize) {
    let sender = Sender::new(SenderSecretKey::from_bytes(random32()));
    let keys: Vec<DevicePublicKey> =
        (0..devices).map(|_| pushseal::DeviceSecretKey::from_bytes(random32()).public_key()).collect();
    let msg = Message::new("Clinic update", "The clinic opens at 9:00 tomorrow.");
    let mut best = f64::INFINITY;
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        let sealed = sender.seal_batch(&keys, &msg, &ApnsOptions::default());
        let elapsed = start.elapsed().as_secs_f64();
        let ok = sealed.map(|v| v.iter().filter(|r| r.is_ok()).count()).unwrap_or(0);
        assert_eq!(ok, devices, "every device sealed");
        best = best.min(elapsed);
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "devices={devices} threads={threads} best_seconds={best:.4} devices_per_second={:.0}",
        devices as f64 / best
    );
}
