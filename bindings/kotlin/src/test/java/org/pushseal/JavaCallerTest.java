package org.pushseal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Kotlin API called from Java, as a Java server or an Android app written
 * in Java calls it: this file compiles only if no public signature it uses has
 * a Kotlin unsigned type (UInt/ULong methods are name-mangled and cannot be
 * called from Java), and only with plain Java names: constructors are static
 * (`DeviceKeyring.generate()`, no `Companion.`), top-level functions live in
 * `PushSeal` (no `Pushseal_ffiKt.`), and trailing default arguments of
 * constructors and functions may be left out (bindings/kotlin/java-names.py).
 * Methods still take every argument (`null` for `now`): Kotlin allows no
 * `@JvmOverloads` on the interface methods UniFFI generates. It also checks
 * the platform time types and the error kind.
 */
class JavaCallerTest {
    private static Message message(Long badge, Duration ttl) {
        return new Message("Lab results", "Ready to view.", Map.of("ref", "lab-7731"), null, null, badge, null, ttl);
    }

    @Test
    void sealOpenAndReceiptFromJava() throws Exception {
        Sender sender = Sender.fromSecretText(Sender.generate().secretText(), 16L);
        DeviceKeyring device = DeviceKeyring.generate();
        device.trustSender(sender.publicKey());

        Instant before = Instant.now().minusSeconds(1);
        ApnsPush push = sender.sealApns(device.publicKey(), message(4_000_000_000L, Duration.ofMinutes(10)), null);
        ReplayStore replay = ReplayStore.inMemory();
        OpenedWithReceipt opened = device.openWithReceipt(new Payload.Apns(push.getBody()), replay, null);
        OpenedNotification n = opened.getNotification();

        assertEquals("Ready to view.", n.getBody());
        assertEquals(4_000_000_000L, n.getBadge(), "a badge above Integer.MAX_VALUE survives");
        assertEquals(push.getSealed().getExpiresAt(), n.getExpiresAt());
        assertEquals(Duration.ofMinutes(10), Duration.between(n.getSentAt(), n.getExpiresAt()));
        assertTrue(!n.getSentAt().isBefore(before.minusSeconds(60)), "sentAt is an Instant near now");
        assertTrue(PushSeal.verifyReceipt(push.getSealed().getReceiptDigest(), opened.getReceipt()));
        assertEquals(1L, sender.cachedDevices());

        PushSealException again =
            assertThrows(PushSealException.class, () -> device.open(new Payload.Apns(push.getBody()), replay, null));
        assertTrue(again instanceof PushSealException.Replayed);
        assertEquals(ErrorKind.REPLAYED, again.kind());
        assertEquals("replayed", again.kind().specName());
        assertEquals(DeviceAction.DROP, again.kind().deviceAction());
    }

    @Test
    void envelopeVersion2FromJava() throws Exception {
        Sender generated = Sender.generate();
        Sender sender = Sender.fromSecretText(generated.secretText(), 0L, generated.secretTextV2(), Pq.REQUIRE);
        DeviceKeyring device = DeviceKeyring.generate();
        device.trustSenderV2(sender.publicKeyV2());
        SealedEnvelope sealed = sender.sealEnvelope(device.registration(), message(null, null));
        assertEquals(2, sealed.getSealed().getVersion());
        assertEquals(device.keyIdV2(), sealed.getSealed().getRecipientKeyId());
        OpenedNotification n = device.open(new Payload.Envelope(sealed.getEnvelope()), ReplayStore.inMemory(), null);
        assertEquals("Ready to view.", n.getBody());
        device.acceptV1(false);
        assertTrue(!device.acceptsV1());
    }

    @Test
    void timesDurationsAndOptionsFromJava() throws Exception {
        Sender sender = Sender.generate();
        DeviceKeyring device = DeviceKeyring.generate();
        device.trustSender(sender.publicKey());
        String oldKeyId = device.keyId();
        device.rotate(Duration.ofDays(7), null);
        RetiredKey retired = device.retiredKeys().get(0);
        assertEquals(oldKeyId, retired.getKeyId());
        Instant in7Days = Instant.now().plus(Duration.ofDays(7));
        assertTrue(Duration.between(retired.getUsableUntil(), in7Days).abs().getSeconds() < 60);
        device.prune(in7Days.plus(Duration.ofDays(1)));
        assertTrue(device.retiredKeys().isEmpty());

        FcmPush fcm = sender.sealFcm(device.publicKey(), message(null, null), new FcmOptions("token", null, FcmPriority.NORMAL));
        assertTrue(fcm.getMessageJson().contains("\"priority\":\"normal\""), fcm.getMessageJson());
        Instant expiresAt = fcm.getSealed().getExpiresAt();
        PushSealException expired = assertThrows(PushSealException.class,
            () -> device.open(new Payload.Fcm(Map.of("pushseal", envelopeOf(fcm))), ReplayStore.inMemory(),
                expiresAt.plus(Duration.ofHours(1))));
        assertEquals(ErrorKind.EXPIRED, expired.kind());

        long max = PushSeal.maxPlaintextLen(new Target.Fcm(new FcmOptions(null, null, null)));
        assertTrue(max > 0 && max < 4096, "maxPlaintextLen is a long: " + max);
        EnvelopeInfo info = PushSeal.inspect(sender.sealEnvelope(device.publicKey(), message(null, null)).getEnvelope());
        assertEquals(1, info.getVersion());
        assertEquals(256L, info.getPaddedLen());

        PushSealException negative =
            assertThrows(PushSealException.class, () -> Sender.fromSecretText(sender.secretText(), -1L));
        assertEquals(ErrorKind.MALFORMED, negative.kind());
    }

    /** A KeyStorage written in Java. */
    private static final class JavaKeyStorage implements KeyStorage {
        byte[] stored;
        int deletes;

        @Override
        public byte[] load() {
            return stored == null ? null : stored.clone();
        }

        @Override
        public void save(byte[] bytes) {
            stored = bytes.clone();
            Arrays.fill(bytes, (byte) 0);
        }

        @Override
        public void delete() {
            deletes++;
            stored = null;
        }
    }

    @Test
    void keyringRecoveryAndDefaultsFromJava() throws Exception {
        JavaKeyStorage storage = new JavaKeyStorage();
        LoadedKeyring created = KeyringRecovery.loadOrRecreate(storage);
        assertEquals(KeyringOrigin.CREATED, created.getOrigin());
        assertTrue(created.getOrigin().needsRegistration());
        LoadedKeyring loaded = PushSeal.loadOrRecreateKeyring(storage);
        assertEquals(KeyringOrigin.LOADED, loaded.getOrigin());
        assertEquals(created.getKeyring().keyId(), DeviceKeyring.loadOrCreate(storage).keyId());

        storage.stored = "not a keyring".getBytes();
        assertEquals(KeyringOrigin.RECREATED, KeyringRecovery.loadOrRecreate(storage, Instant.now()).getOrigin());
        assertEquals(1, storage.deletes);

        // A constructor's trailing default left out (cacheDevices = 0).
        assertEquals(0L, Sender.fromSecretText(Sender.generate().secretText()).cachedDevices());
        assertEquals(new FallbackText(Fallback.TITLE, Fallback.BODY), PushSeal.fallbackText());
        assertEquals(DeviceAction.SHOW_FALLBACK, PushSealFailures.deviceActionOf(new Error("from JNA")));
    }

    /** The envelope text of an FCM message (`"pushseal":"<envelope>"` in its data map). */
    private static String envelopeOf(FcmPush push) {
        String json = push.getMessageJson();
        int start = json.indexOf("\"pushseal\":\"") + "\"pushseal\":\"".length();
        return json.substring(start, json.indexOf('"', start));
    }
}
