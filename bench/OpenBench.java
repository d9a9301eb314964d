// Times one open through the Kotlin bindings on the JVM, as bench/bindings.sh
// asks: a warm loop, the best of several rounds, in nanoseconds per open.
//
//   java OpenBench FIXTURE_DIR N ROUNDS     prints "kotlin_open_ns <ns>"
//
// The Kotlin API is called from Java (companion objects by name). bench/bindings.sh
// puts the generated package's name in place of @PACKAGE@ and compiles this file.
import @PACKAGE@.DeviceKeyring;
import @PACKAGE@.ReplayStore;

import java.nio.file.Files;
import java.nio.file.Path;

public final class OpenBench {
    public static void main(String[] args) throws Exception {
        Path fixture = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        byte[] keyringBytes = Files.readAllBytes(fixture.resolve("keyring.bin"));
        Payload envelope = new Payload.Envelope(Files.readString(fixture.resolve("envelope.txt")));
        double best = Double.MAX_VALUE;
        try (DeviceKeyring keyring = DeviceKeyring.Companion.fromBytes(keyringBytes)) {
            // JIT warm-up: one extra round, not counted.
            for (int round = 0; round <= rounds; round++) {
                // A fresh replay store for each open, made before the timed loop.
                ReplayStore[] stores = new ReplayStore[n];
                for (int i = 0; i < n; i++) {
                    stores[i] = ReplayStore.Companion.inMemory();
                }
                long start = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    keyring.open(envelope, stores[i], null);
                }
                long elapsed = System.nanoTime() - start;
                for (ReplayStore store : stores) {
                    store.close();
                }
                if (round > 0) {
                    best = Math.min(best, elapsed / (double) n);
                }
            }
        }
        System.out.printf("kotlin_open_ns %.0f%n", best);
    }
}
