// A warm loop of opens through the Swift bindings, the best of several rounds,
// in nanoseconds per open: the same loop as bench/bindings_open.py and
// bench/OpenBench.java. FIXTURE_DIR holds keyring.bin and envelope.txt from
// `bench_ops fixture`; each open gets a fresh in-memory replay store, made
// before the timed loop.
import Foundation
import PushSeal

let arguments = CommandLine.arguments
guard arguments.count == 4, let n = Int(arguments[2]), let rounds = Int(arguments[3]), n > 0 else {
    FileHandle.standardError.write(Data("usage: OpenBench FIXTURE_DIR N ROUNDS\n".utf8))
    exit(2)
}
let fixture = URL(fileURLWithPath: arguments[1], isDirectory: true)
let keyring = try DeviceKeyring.fromBytes(bytes: Data(contentsOf: fixture.appendingPathComponent("keyring.bin")))
let envelope = Payload.envelope(
    envelope: try String(contentsOf: fixture.appendingPathComponent("envelope.txt"), encoding: .utf8))

var best = Double.infinity
// One warm-up round, not counted.
for round in 0...max(rounds, 1) {
    let stores = (0..<n).map { _ in ReplayStore.inMemory() }
    let start = DispatchTime.now().uptimeNanoseconds
    for store in stores {
        _ = try keyring.open(payload: envelope, replay: store)
    }
    let elapsed = DispatchTime.now().uptimeNanoseconds - start
    if round > 0 {
        best = min(best, Double(elapsed) / Double(n))
    }
}
print("swift_open_ns \(Int(best.rounded()))")
