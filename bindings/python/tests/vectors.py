"""The shared test vectors in test-vectors/ (schema: test-vectors/README.md)."""

import datetime

import pushseal

from vector_files import DIR, RFC9180_ENCRYPTIONS, RFC9180_EXPORTS, RFC9180_MODES, load, load_rfc9180, load_v2  # noqa: F401

# How many vectors the files hold (the same counts as sdk-core/tests/vectors.rs).
POSITIVE = 19
NEGATIVE = 130
SEQUENCES = 10
STEPS = 54
KEY_TEXTS = 28
ERROR_KINDS = 21


def error_kind(error):
    """The vectors' snake_case name of an error's kind, from the library's `ErrorKind`."""
    return error.kind().spec_name()


def at(unix_secs):
    """Unix seconds as the bindings' time type, a `datetime` in UTC."""
    return datetime.datetime.fromtimestamp(unix_secs, tz=datetime.timezone.utc)


def open_payload(keyring, payload, replay, unix_now):
    kind, value = payload["kind"], payload["value"]
    now = at(unix_now)
    if kind == "apns":
        return keyring.open(pushseal.Payload.APNS(value), replay, now)
    if kind == "fcm":
        return keyring.open(pushseal.Payload.FCM(value), replay, now)
    if kind == "envelope":
        return keyring.open(pushseal.Payload.ENVELOPE(value), replay, now)
    raise ValueError(f"unknown payload kind {kind}")


def notification(o):
    return pushseal.OpenedNotification(
        id=o["id"],
        sent_at=at(o["sent_at"]),
        expires_at=at(o["expires_at"]),
        title=o["title"],
        body=o["body"],
        data=o["data"],
        thread_id=o["thread_id"],
        category=o["category"],
        badge=o["badge"],
        sound=o["sound"],
    )


def message(o):
    return pushseal.Message(
        title=o["title"],
        body=o["body"],
        data=o["data"],
        thread_id=o["thread_id"],
        category=o["category"],
        badge=o["badge"],
        sound=o["sound"],
        ttl=datetime.timedelta(seconds=o["ttl_secs"]),
    )


def target(o):
    kind = o["kind"]
    if kind == "envelope":
        return pushseal.Target.ENVELOPE()
    opts = o["options"]
    if kind == "apns":
        push_type = pushseal.ApnsPushType.BACKGROUND if opts["push_type"] == "background" else pushseal.ApnsPushType.ALERT
        return pushseal.Target.APNS(
            pushseal.ApnsOptions(
                push_type=push_type,
                fallback_title=opts["fallback_title"],
                fallback_body=opts["fallback_body"],
                collapse_id=opts["collapse_id"],
                topic=opts["topic"],
            )
        )
    if kind == "fcm":
        return pushseal.Target.FCM(pushseal.FcmOptions(token=opts["token"], collapse_key=opts["collapse_key"]))
    raise ValueError(f"unknown target kind {kind}")
