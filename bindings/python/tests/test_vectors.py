"""Every vector in test-vectors/, through the Python bindings (mirrors the Kotlin VectorsTest)."""

import pytest

import pushseal
from pushseal import DeviceKeyring, Payload, PushSealError, ReplayStore, Sender

import vectors


def test_positive_vectors_open_through_every_payload():
    checked = 0
    for v in vectors.load("positive.json"):
        name = v["name"]
        serialized = v["keyring"]["serialized"]
        keyring = DeviceKeyring.from_bytes(serialized.encode("utf-8"))
        assert keyring.to_bytes().decode("utf-8") == serialized, name
        assert keyring.public_key() == v["keyring"]["current"]["public_key_base64url"], name
        assert keyring.key_id() == v["keyring"]["current"]["key_id"], name

        now = vectors.at(v["now"])
        expected = vectors.notification(v["expected"])
        envelope = v["envelope_base64url"]
        apns = v["apns"]["body"]
        fcm = v["fcm"]["data"]
        assert keyring.open(Payload.APNS(apns), ReplayStore.in_memory(), now) == expected, name
        assert keyring.open(Payload.FCM(fcm), ReplayStore.in_memory(), now) == expected, name
        assert keyring.open(Payload.ENVELOPE(envelope), ReplayStore.in_memory(), now) == expected, name

        for payload in (Payload.APNS(apns), Payload.FCM(fcm), Payload.ENVELOPE(envelope)):
            opened = keyring.open_with_receipt(payload, ReplayStore.in_memory(), now)
            assert opened.notification == expected, name
            assert opened.receipt == v["receipt"]["receipt_base64url"], name
            assert pushseal.verify_receipt(v["receipt"]["digest"], opened.receipt), name

        info = pushseal.inspect(envelope)
        assert info.recipient_key_id == v["header"]["recipient_key_id"], name
        assert info.sender_key_id == v["header"]["sender_key_id"], name
        assert info.padded_len == v["padded_len"], name
        checked += 1
    assert checked == vectors.POSITIVE


def test_negative_vectors_fail_with_their_kind():
    checked = 0
    for v in vectors.load("negative.json"):
        name = v["name"]
        if v["operation"] == "open":
            keyring = DeviceKeyring.from_bytes(v["keyring"].encode("utf-8"))
            with pytest.raises(PushSealError) as info:
                vectors.open_payload(keyring, v["payload"], ReplayStore.in_memory(), v["now"])
        elif v["operation"] == "seal":
            sender = Sender.from_secret_text(v["sender"]["secret_key_text"])
            to = v["recipient"]["public_key_base64url"]
            message = vectors.message(v["message"])
            target = vectors.target(v["target"])
            if "expected_max_plaintext" in v:
                assert pushseal.max_plaintext_len(target) == v["expected_max_plaintext"], name
            with pytest.raises(PushSealError) as info:
                if target.is_envelope():
                    sender.seal_envelope(to, message)
                elif target.is_apns():
                    sender.seal_apns(to, message, target.options)
                else:
                    sender.seal_fcm(to, message, target.options)
        else:
            raise AssertionError(f"{name}: unknown operation")
        assert vectors.error_kind(info.value) == v["expected_error"], f"{name}: {info.value}"
        checked += 1
    assert checked == vectors.NEGATIVE


def test_replay_sequences_run_against_one_store():
    sequences = vectors.load("replay-sequences.json")
    steps = 0
    for v in sequences:
        keyring = DeviceKeyring.from_bytes(v["keyring"].encode("utf-8"))
        replay = ReplayStore.in_memory()
        for step in v["steps"]:
            what = f'{v["name"]}: {step["description"]}'
            if "expected" in step:
                opened = vectors.open_payload(keyring, step["payload"], replay, step["now"])
                assert opened == vectors.notification(step["expected"]), what
            else:
                with pytest.raises(PushSealError) as info:
                    vectors.open_payload(keyring, step["payload"], replay, step["now"])
                assert vectors.error_kind(info.value) == step["expected_error"], what
            steps += 1
    assert len(sequences) == vectors.SEQUENCES
    assert steps == vectors.STEPS



def test_key_texts_read_as_stated():
    # SPEC.md section 3.1: a public key text through trust_sender, a secret key text through Sender,
    # a receipt text (the same white space rule) through verify_receipt against its digest.
    checked = 0
    for v in vectors.load("key-texts.json"):
        name, text = v["name"], v["text"]
        if v["role"] == "public":
            keyring = DeviceKeyring.generate()

            def read():
                keyring.trust_sender(text)
                return keyring.trusted_senders()[0]

        elif v["role"] == "secret":

            def read():
                return Sender.from_secret_text(text).public_key()

        elif v["role"] == "receipt":

            def read():
                return pushseal.verify_receipt(v["receipt_digest"], text)

        else:
            raise AssertionError(f"{name}: unknown role {v['role']}")

        if "expected_public_key" in v:
            assert read() == v["expected_public_key"], name
        elif "expected_receipt" in v:
            # The text is that receipt: it matches the digest made from it.
            assert read() is True, name
        else:
            with pytest.raises(PushSealError) as info:
                read()
            assert vectors.error_kind(info.value) == v["expected_error"], f"{name}: {info.value}"
        checked += 1
    assert checked == vectors.KEY_TEXTS


def test_error_kinds_take_the_device_action_stated():
    # SPEC.md section 9: every core kind and its device action; the bindings add INTERNAL alone.
    kinds = vectors.load("error-kinds.json")
    by_name = {kind.spec_name(): kind for kind in pushseal.ErrorKind}
    for v in kinds:
        assert v["kind"] in by_name, f"{v['kind']}: no such ErrorKind in the bindings"
        assert by_name[v["kind"]].device_action().spec_name() == v["device_action"], v["kind"]
    assert set(by_name) - {v["kind"] for v in kinds} == {"internal"}
    assert {a.spec_name() for a in pushseal.DeviceAction} == {v["device_action"] for v in kinds}
    assert len(kinds) == vectors.ERROR_KINDS
