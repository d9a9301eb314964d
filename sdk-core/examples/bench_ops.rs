//! Runs one benchmarked operation `N` times, for instruction counts under
//! `valgrind --tool=callgrind` and for the batch throughput; `bench/run.sh`
//! drives it. Timing is the criterion benchmarks' job (`benches/pushseal.rs`).
//!
//! ```text
//! bench_ops OP SIZE N      OP: floor-seal floor-open floor-seal-ladder floor-open-ladder
//!                              seal seal-cached seal-apns open open-apns hpke-seal hpke-open
//! bench_ops batch DEVICES ROUNDS   seals one message to DEVICES devices with Sender::seal_batch
//!                                  ROUNDS times; prints the best devices per second
//! bench_ops fixture DIR            writes DIR/keyring.bin (a device keyring that trusts a sender:
//!                                  secret, for benchmarks only) and DIR/envelope.txt (a 2 KB
//!                                  notification from that sender to it), for the bindings' benchmarks
//! bench_ops open-timed DIR N ROUNDS  opens DIR/envelope.txt N times per round, each with a fresh
//!                                  in-memory replay store, as the bindings' benchmarks do; prints
//!                                  the best round's nanoseconds per open
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
    ApnsOptions, DeviceKeyring, DevicePublicKey, MemoryReplayStore, Message, Payload, Sealed, Sender, SenderSecretKey,
    Target, unix_now,
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
        (Some("batch"), Some(devices), Some(rounds)) => {
            batch(devices, rounds);
            return ExitCode::SUCCESS;
        }
        (Some(op), Some(size), Some(n)) if size == 256 || size == 2048 => match run(op, size, n) {
            Ok(()) => return ExitCode::SUCCESS,
            Err(e) => eprintln!("bench_ops: {e}"),
        },
        _ => eprintln!("usage: bench_ops OP 256|2048 N | bench_ops batch DEVICES ROUNDS"),
    }
    ExitCode::FAILURE
}

fn run(op: &str, size: usize, n: usize) -> Result<(), String> {
    let floor = Floor::new(random32(), random32());
    let header = [7u8; HEADER_LEN];
    let sender = Sender::new(SenderSecretKey::from_bytes(floor.sk_s));
    let cached = Sender::with_cache(SenderSecretKey::from_bytes(floor.sk_s), 16);
    let mut device = DeviceKeyring::generate().map_err(|e| e.to_string())?;
    device.trust_sender(sender.public_key());
    let to = device.public_key();
    let msg = message_for(size);
    let apns = Target::Apns(ApnsOptions::default());
    let now = unix_now();
    let mut buf = vec![0u8; size];
    match op {
        "floor-seal" | "floor-seal-ladder" => {
            let seal = if op == "floor-seal" { Floor::seal } else { Floor::seal_ladder };
            for _ in 0..n {
                black_box(seal(&floor, &header, &mut buf));
            }
        }
        "floor-open" | "floor-open-ladder" => {
            let open = if op == "floor-open" { Floor::open } else { Floor::open_ladder };
            let input = FloorInput::new(&floor, size);
            for _ in 0..n {
                buf.copy_from_slice(&input.ct);
                assert!(open(&floor, &input.enc, &input.header, &mut buf, &input.tag));
            }
        }
        "seal" | "seal-apns" | "seal-cached" => {
            let target = if op == "seal-apns" { &apns } else { &Target::Envelope };
            let sender = if op == "seal-cached" { &cached } else { &sender };
            sender.seal(&to, &msg, target).map_err(|e| e.to_string())?;
            for _ in 0..n {
                black_box(sender.seal(&to, &msg, target).map_err(|e| e.to_string())?);
            }
        }
        "open" | "open-apns" => {
            let target = if op == "open-apns" { &apns } else { &Target::Envelope };
            let sealed = sender.seal(&to, &msg, target).map_err(|e| e.to_string())?.payload;
            let payload = match &sealed {
                Sealed::Envelope(text) => Payload::Envelope(text),
                Sealed::Apns(request) => Payload::ApnsJson(&request.body),
                Sealed::Fcm(_) => return Err("no FCM here".into()),
            };
            // A fresh store each time, as the criterion benchmark does.
            let stores: Vec<MemoryReplayStore> = (0..n).map(|_| MemoryReplayStore::new()).collect();
            for store in &stores {
                black_box(device.open(payload, store, now).map_err(|e| e.to_string())?);
            }
        }
        "hpke-seal" => {
            let peer = HpkeCrate::new();
            for _ in 0..n {
                black_box(peer.seal(&header, &mut buf));
            }
        }
        "hpke-open" => {
            let peer = HpkeCrate::new();
            let mut sealed = vec![0x42u8; size];
            let info = peer.seal(&header, &mut sealed);
            for _ in 0..n {
                buf.copy_from_slice(&sealed);
                assert!(peer.open(&info, &header, &mut buf));
            }
        }
        _ => return Err(format!("unknown operation {op:?}")),
    }
    Ok(())
}

/// Writes the bindings' benchmark inputs to `dir`.
fn fixture(dir: &str) -> Result<(), String> {
    let dir = std::path::Path::new(dir);
    let sender = Sender::new(SenderSecretKey::from_bytes(random32()));
    let mut device = DeviceKeyring::generate().map_err(|e| e.to_string())?;
    device.trust_sender(sender.public_key());
    let text = sender.seal_envelope(&device.public_key(), &message_for(2048)).map_err(|e| e.to_string())?;
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
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        for _ in 0..n {
            let store = MemoryReplayStore::new();
            black_box(device.open_envelope(black_box(&text), &store).map_err(|e| e.to_string())?);
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e9 / n.max(1) as f64);
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
        let sealed = sender.seal_batch(&keys, &msg, &Target::Apns(ApnsOptions::default()));
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
