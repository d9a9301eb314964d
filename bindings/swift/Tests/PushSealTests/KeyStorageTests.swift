import Foundation
import PushSeal
import XCTest

/// A KeyStorage written in Swift, as an app writes one over the Keychain.
/// `KeyStorage` is `Sendable`: the state is guarded by a lock.
final class MapKeyStorage: KeyStorage, @unchecked Sendable {
    private let lock = NSLock()
    private var _stored: Data?
    private var _loads = 0
    private var _saves = 0
    private var _deletes = 0

    init(stored: Data? = nil) {
        _stored = stored
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    var stored: Data? { locked { _stored } }
    var loads: Int { locked { _loads } }
    var saves: Int { locked { _saves } }
    var deletes: Int { locked { _deletes } }

    func load() throws -> Data? {
        locked {
            _loads += 1
            return _stored
        }
    }

    func save(bytes: Data) throws {
        locked {
            _saves += 1
            _stored = bytes
        }
    }

    func delete() throws {
        locked {
            _deletes += 1
            _stored = nil
        }
    }
}

final class FailingKeyStorage: KeyStorage {
    func load() throws -> Data? { throw PushSealError.Storage(reason: "the storage is locked") }
    func save(bytes: Data) throws { throw PushSealError.Storage(reason: "read-only") }
    func delete() throws { throw PushSealError.Storage(reason: "read-only") }
}

struct NotAPushSealError: Error {}

final class BuggyKeyStorage: KeyStorage {
    func load() throws -> Data? { throw NotAPushSealError() }
    func save(bytes: Data) throws {}
    func delete() throws {}
}

/// Mirrors the Kotlin KeyStorageTest.
final class KeyStorageTests: XCTestCase {
    func testKeyringLoadedThroughSwiftStorageOpensAVectorNotification() throws {
        let v = try XCTUnwrap(try Vectors.load("positive.json").first { Vectors.string($0, "name") == "data-map-and-options" })
        let serialized = Vectors.string(Vectors.object(v, "keyring"), "serialized")
        let storage = MapKeyStorage(stored: Data(serialized.utf8))

        let keyring = try DeviceKeyring.loadOrCreate(storage: storage)
        XCTAssertEqual(storage.loads, 1)
        XCTAssertEqual(storage.saves, 1, "a stored version 1 keyring gains a version 2 key and is saved back (SPEC.md 12.8)")
        let data = Vectors.stringMap(Vectors.object(v, "fcm")["data"])
        let opened = try keyring.open(payload: .fcm(data: data), replay: .inMemory(), now: Vectors.date(v["now"]))
        XCTAssertEqual(opened, Vectors.notification(Vectors.object(v, "expected")))
    }

    func testLoadOrCreateCreatesOnceAndReloads() throws {
        let storage = MapKeyStorage()
        let first = try DeviceKeyring.loadOrCreate(storage: storage)
        XCTAssertEqual(storage.saves, 1)
        XCTAssertEqual(storage.stored, try first.toBytes())

        let sender = try Sender.generate()
        try first.trustSender(publicKey: sender.publicKey())
        try first.save(storage: storage)
        XCTAssertEqual(storage.saves, 2)

        let second = try DeviceKeyring.loadOrCreate(storage: storage)
        XCTAssertEqual(storage.saves, 2)
        XCTAssertEqual(second.publicKey(), first.publicKey())
        XCTAssertEqual(second.trustedSenders(), [sender.publicKey()])
        let envelope = try sender.sealEnvelope(
            to: second.publicKey(), message: Message(title: "Refill due", body: "Tap to review."))
        XCTAssertEqual(try second.open(payload: .envelope(envelope: envelope.envelope), replay: .inMemory()).title, "Refill due")
    }

    func testStorageErrorsReachTheCaller() throws {
        XCTAssertThrowsError(try DeviceKeyring.loadOrCreate(storage: FailingKeyStorage())) {
            XCTAssertEqual($0 as? PushSealError, .Storage(reason: "the storage is locked"))
        }
        XCTAssertThrowsError(try DeviceKeyring.generate().save(storage: FailingKeyStorage())) {
            XCTAssertEqual(Vectors.kindName($0), "storage")
        }
        // Anything else a storage throws arrives as Internal.
        XCTAssertThrowsError(try DeviceKeyring.loadOrCreate(storage: BuggyKeyStorage())) {
            XCTAssertEqual(Vectors.kindName($0), "internal")
        }
        XCTAssertThrowsError(try DeviceKeyring.loadOrCreate(storage: MapKeyStorage(stored: Data("not a keyring".utf8)))) {
            XCTAssertEqual(Vectors.kindName($0), "invalid_keyring")
        }
    }

    func testInMemoryStorageFromTheLibrary() throws {
        let storage = inMemoryKeyStorage()
        XCTAssertNil(try storage.load())
        let keyring = try DeviceKeyring.loadOrCreate(storage: storage)
        XCTAssertNotNil(try storage.load())
        XCTAssertEqual(try DeviceKeyring.loadOrCreate(storage: storage).keyId(), keyring.keyId())
    }

    /// Mirrors the Kotlin LibraryTest's recovery tests.
    func testLoadOrRecreateReplacesOnlyAKeyringThatCannotBeRead() throws {
        let storage = MapKeyStorage()
        let first = try KeyringRecovery.loadOrRecreate(storage: storage)
        XCTAssertEqual(first.origin, .created)
        XCTAssertTrue(first.origin.needsRegistration())
        let again = try KeyringRecovery.loadOrRecreate(storage: storage)
        XCTAssertEqual(again.origin, .loaded)
        XCTAssertFalse(again.origin.needsRegistration())
        XCTAssertEqual(again.keyring.keyId(), first.keyring.keyId())

        let damaged = MapKeyStorage(stored: Data("not a keyring".utf8))
        let recreated = try KeyringRecovery.loadOrRecreate(storage: damaged)
        XCTAssertEqual(recreated.origin, .recreated)
        XCTAssertEqual(damaged.deletes, 1)
        XCTAssertEqual(damaged.stored, try recreated.keyring.toBytes())

        // Unreachable now: thrown as it was, nothing deleted.
        XCTAssertThrowsError(try KeyringRecovery.loadOrRecreate(storage: FailingKeyStorage())) {
            XCTAssertEqual(($0 as? PushSealError)?.kind, .storage)
        }
    }
}
