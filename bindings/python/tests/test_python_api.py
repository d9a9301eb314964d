"""What a Python caller expects of the module beyond the generated code: an
error's str() is its one-line reason, and Message takes title and body by
position as well as by keyword."""

import pytest

import pushseal
from pushseal import DeviceKeyring, Message, Payload, PushSealError, ReplayStore, Sender


def test_str_of_an_error_is_its_one_line_reason():
    device = DeviceKeyring.generate()
    with pytest.raises(PushSealError.InvalidEncoding) as info:
        device.trust_sender("too short")
    error = info.value
    assert str(error) == error.reason
    assert str(error).startswith("invalid encoding: ")
    assert "reason=" not in str(error) and "\n" not in str(error)
    assert repr(error) == f"PushSealError.InvalidEncoding({error.reason!r})"
    # Every variant, made by hand too.
    made = PushSealError.Tampered(reason="authentication failed")
    assert str(made) == "authentication failed"
    assert isinstance(made, PushSealError) and isinstance(made, Exception)


def test_message_takes_title_and_body_by_position_or_keyword():
    by_position = Message("Lab results", "Ready.", data={"ref": "lab-7731"}, badge=2)
    by_keyword = Message(title="Lab results", body="Ready.", data={"ref": "lab-7731"}, badge=2)
    assert vars(by_position) == vars(by_keyword)
    assert (by_position.title, by_position.body, by_position.badge) == ("Lab results", "Ready.", 2)
    assert by_position.thread_id is None and by_position.ttl is None
    with pytest.raises(TypeError):
        Message("Lab results")
    with pytest.raises(TypeError):
        Message("Lab results", "Ready.", {"ref": "lab-7731"})  # the optional fields by keyword only


def test_a_positional_message_seals_and_opens():
    sender = Sender.generate()
    device = DeviceKeyring.generate()
    device.trust_sender(sender.public_key())
    sealed = sender.seal_envelope(device.public_key(), Message("Refill due", "Tap to review."))
    opened = device.open(Payload.ENVELOPE(sealed.envelope), ReplayStore.in_memory())
    assert (opened.title, opened.body) == ("Refill due", "Tap to review.")
    assert pushseal.Message is Message
