//! Replay sequences: payloads opened in order against one replay store.

use std::collections::BTreeMap;

use pushseal::hpke::{Ephemeral, N_T};
use pushseal::{
    ApnsOptions, BareEnvelope, DeviceKeyring, ErrorKind, FcmOptions, MemoryReplayStore, Message, Notification, Sender,
};

use pushseal::notification::MAX_TTL_SECS;

use crate::fixture::{self, KeyringSpec, OPEN_DELAY, SENT_AT};
use crate::schema::{PayloadJson, SequenceJson, StepJson};
use crate::{Error, Result, ensure};

/// The description at the top of `replay-sequences.json`.
pub const DESCRIPTION: &str = "PushSeal replay protection: sequences of payloads opened in order by one keyring \
with ONE replay store per sequence (fresh at its start). Each step must return its expected notification or fail \
with its expected_error. Schema: test-vectors/README.md.";

/// One sealed message in its three payload forms.
struct Sealed3 {
    envelope: Vec<u8>,
    text: String,
    apns: String,
    fcm: BTreeMap<String, String>,
    notification: Notification,
}

/// Seals `message` to device-1 from sender-a with the message id of `id_name`
/// and the ephemeral key of `eph_name`.
fn seal(id_name: &str, eph_name: &str, message: &Message) -> Result<Sealed3> {
    seal_to("device-1", id_name, eph_name, message)
}

/// [`seal`], to the fixture device key `device`.
fn seal_to(device: &str, id_name: &str, eph_name: &str, message: &Message) -> Result<Sealed3> {
    let sender = Sender::new(fixture::sender("sender-a"));
    let device = fixture::device_public(device);
    let id = fixture::message_id(id_name);
    let ikm = fixture::ephemeral_ikm(eph_name);
    let eph = || Ephemeral::derive(&ikm);
    let sealed = sender.seal_with(&device, message, &BareEnvelope, id, SENT_AT, &eph()?)?;
    let (envelope, text) = (sealed.envelope, sealed.payload);
    let apns = sender.seal_with(&device, message, &ApnsOptions::default(), id, SENT_AT, &eph()?)?.payload.body;
    let fcm_message = sender.seal_with(&device, message, &FcmOptions::default(), id, SENT_AT, &eph()?)?.payload;
    let v: serde_json::Value = serde_json::from_str(&fcm_message.json)?;
    let fcm = serde_json::from_value(v["data"].clone())?;
    Ok(Sealed3 { envelope, text, apns, fcm, notification: fixture::stamped(message, id, SENT_AT) })
}

fn message() -> Message {
    Message::new("Appointment", "Tomorrow 10:00 with Dr. Rivera")
}

fn ok(description: &str, now: u64, payload: PayloadJson, n: &Notification) -> StepJson {
    StepJson {
        description: description.to_owned(),
        now,
        payload,
        expected: Some(fixture::notification_json(n)),
        expected_error: None,
    }
}

fn err(description: &str, now: u64, payload: PayloadJson, kind: ErrorKind) -> StepJson {
    StepJson { description: description.to_owned(), now, payload, expected: None, expected_error: Some(kind.name()) }
}

/// Every sequence.
pub fn vectors() -> Result<Vec<SequenceJson>> {
    let now = SENT_AT + OPEN_DELAY;
    let env = |s: &Sealed3| fixture::envelope_payload(s.text.clone());
    let replayed = ErrorKind::Replayed;
    let mut out = Vec::new();

    let a = seal("replay-same-envelope", "replay-same-envelope", &message())?;
    out.push((
        "same-envelope-twice",
        "The same envelope opened twice.",
        vec![
            ok("First delivery.", now, env(&a), &a.notification),
            err("The same bytes again.", now + 60, env(&a), replayed),
        ],
    ));

    let a = seal("replay-resealed", "replay-resealed", &message())?;
    let b = seal("replay-resealed", "replay-resealed second ephemeral", &message())?;
    ensure(a.envelope != b.envelope, || "resealed envelopes should differ".into())?;
    let changed = Message::new("Appointment moved", "Tomorrow 11:00 with Dr. Rivera");
    let c = seal("replay-resealed", "replay-resealed changed", &changed)?;
    out.push((
        "same-id-new-envelope",
        "A message id is accepted once, whatever envelope carries it: the same message \
        sealed again with another ephemeral key (other bytes), then another message under the same id.",
        vec![
            ok("First delivery.", now, env(&a), &a.notification),
            err("The same message sealed again: other envelope bytes, same message id.", now, env(&b), replayed),
            err("Another title and body under the same message id.", now, env(&c), replayed),
        ],
    ));

    let a = seal("replay-across-platforms", "replay-across-platforms", &message())?;
    out.push((
        "across-platforms",
        "One envelope delivered through APNs, then through FCM, then bare: only the first \
        opens.",
        vec![
            ok("The APNs payload.", now, fixture::apns_payload(a.apns.clone()), &a.notification),
            err("The FCM data map with the same envelope.", now, fixture::fcm_payload(&a.fcm), replayed),
            err("The bare envelope.", now, env(&a), replayed),
        ],
    ));

    let a = seal("replay-distinct-a", "replay-distinct-a", &message())?;
    let b = seal("replay-distinct-b", "replay-distinct-b", &Message::new("Billing", "Your statement is available."))?;
    out.push((
        "distinct-ids",
        "Two messages, each accepted once, in interleaved order.",
        vec![
            ok("Message A.", now, env(&a), &a.notification),
            ok("Message B.", now + 1, env(&b), &b.notification),
            err("Message A again.", now + 2, env(&a), replayed),
            err("Message B again.", now + 3, env(&b), replayed),
        ],
    ));

    let a = seal("replay-after-failure", "replay-after-failure", &message())?;
    let mut broken = a.envelope.clone();
    let tag_end = broken.len() - 1;
    broken[tag_end] ^= 0x80;
    ensure(broken.len() > N_T, || "envelope length".into())?;
    out.push((
        "failure-records-nothing",
        "A payload that fails records nothing: the envelope with a flipped tag bit \
        is rejected, then the intact envelope opens once.",
        vec![
            err(
                "The envelope with the top bit of its last tag byte flipped.",
                now,
                fixture::envelope_payload(fixture::base64url(&broken)),
                ErrorKind::Tampered,
            ),
            ok("The intact envelope.", now, env(&a), &a.notification),
            err("The intact envelope again.", now, env(&a), replayed),
        ],
    ));

    let a = seal("replay-late", "replay-late", &message())?;
    let late = a.notification.expires_at + pushseal::CLOCK_SKEW_SECS;
    out.push((
        "replay-at-the-last-second",
        "A replay at the last second the clock skew allows is still a replay; one \
        second later the time check, which comes before the replay check, answers expired.",
        vec![
            ok("First delivery.", now, env(&a), &a.notification),
            err("Again at expires_at + 300.", late, env(&a), replayed),
            err("Again at expires_at + 301.", late + 1, env(&a), ErrorKind::Expired),
        ],
    ));

    let a = seal("strict-apns-json", "strict-apns-json", &message())?;
    let (aps, pushseal) = a.apns.split_once(r#","pushseal":"#).ok_or_else(|| Error::new("APNs body"))?;
    let twice = format!(r#"{aps},"pushseal":"xx","pushseal":{pushseal}"#);
    let nested = format!("{}{}", "[".repeat(62), "]".repeat(62)); // 64 deep, with the payload and "app"
    let members = format!(
        r#"{aps},"app":{{"deep":{nested},"emoji":"\ud83d\ude00","n":[-0,1e308,1e-400,18446744073709551616,2.5E+3],"k":null,"K":true}},"push\u0073eal":{pushseal}"#
    );
    out.push((
        "strict-apns-json",
        "A receiver reads the whole APNs payload (SPEC.md section 7.4): a payload that gives \"pushseal\" twice is \
        not_pushseal and records nothing; the same envelope in a payload with members the device does not use, \
        all valid JSON (nesting 64 deep, a surrogate pair escape, large and tiny numbers, an escaped member name), \
        opens.",
        vec![
            err(
                "\"pushseal\" twice, the valid envelope last.",
                now,
                fixture::apns_payload(twice),
                ErrorKind::NotPushSeal,
            ),
            ok("The envelope among the app's own members.", now, fixture::apns_payload(members), &a.notification),
            err("The plain APNs payload after it.", now, fixture::apns_payload(a.apns.clone()), replayed),
        ],
    ));

    let a = seal("apns-number-edges", "apns-number-edges", &message())?;
    let (aps, pushseal) = a.apns.split_once(r#","pushseal":"#).ok_or_else(|| Error::new("APNs body"))?;
    let with = |number: &str| fixture::apns_payload(format!(r#"{aps},"n":{number},"pushseal":{pushseal}"#));
    let (dbl_max, halfway, below) = top_of_binary64()?;
    let mut steps = Vec::new();
    for (number, what) in [
        (
            halfway.clone(),
            "2^1024 - 2^970 written out in full (309 digits), the smallest magnitude that rounds to infinity",
        ),
        (format!("-{halfway}"), "-(2^1024 - 2^970) written out in full"),
        ("1.7976931348623159e308".to_owned(), "1.7976931348623159e308, above 2^1024 - 2^970"),
        ("-1.7976931348623159e308".to_owned(), "-1.7976931348623159e308"),
        (format!("1{}", "0".repeat(309)), "10^309, an integer of 310 digits"),
        (format!("-9{}", "9".repeat(309)), "-(10^310 - 1), a negative integer of 310 digits"),
    ] {
        steps.push(err(
            &format!("A member holding {what}: not_pushseal, and nothing is recorded."),
            now,
            with(&number),
            ErrorKind::NotPushSeal,
        ));
    }
    for (i, (number, what)) in [
        (dbl_max.clone(), "DBL_MAX = 2^1024 - 2^971 written out in full (309 digits)"),
        (format!("-{dbl_max}"), "-DBL_MAX written out in full"),
        (below.clone(), "2^1024 - 2^970 - 1 written out in full, the largest integer that rounds to DBL_MAX"),
        (format!("-{below}"), "-(2^1024 - 2^970 - 1) written out in full"),
        (
            "1.7976931348623158e308".to_owned(),
            "1.7976931348623158e308, the largest 17-digit decimal that rounds to DBL_MAX",
        ),
        ("-1.7976931348623158e308".to_owned(), "-1.7976931348623158e308"),
        ("1.797693134862315708e308".to_owned(), "1.797693134862315708e308, which rounds to DBL_MAX"),
    ]
    .into_iter()
    .enumerate()
    {
        steps.push(if i == 0 {
            ok(&format!("A member holding {what}: the envelope opens."), now, with(&number), &a.notification)
        } else {
            err(&format!("A member holding {what}: read, so the replay store answers."), now, with(&number), replayed)
        });
    }
    out.push((
        "apns-number-edges",
        "Numbers at the top of binary64's range in an APNs payload (SPEC.md section 7.4): a number is refused exactly \
        when its magnitude is at least 2^1024 - 2^970, which rounding to nearest (ties to even) takes to infinity. \
        Each refused payload is not_pushseal and records nothing; the first accepted one opens and the others, \
        the same envelope, are replayed, which shows they were read.",
        steps,
    ));

    let a = seal("replay-longest-ttl", "replay-longest-ttl", &message().with_ttl(MAX_TTL_SECS))?;
    out.push((
        "longest-ttl",
        "A message at the longest TTL, 2419200 seconds, opens once: the TTL bound (SPEC.md section 5) refuses \
        only a longer one.",
        vec![
            ok("First delivery.", now, env(&a), &a.notification),
            err("Again 27 days later.", now + 27 * 86_400, env(&a), replayed),
        ],
    ));

    let (keyring, keyring_json) = KeyringSpec::standard().build()?;
    let mut sequences = Vec::new();
    for (name, description, steps) in out {
        check(&keyring, name, &steps)?;
        sequences.push(SequenceJson {
            name: name.to_owned(),
            description: description.to_owned(),
            keyring: keyring_json.serialized.clone(),
            steps,
        });
    }
    sequences.push(retired_keys_at_the_cap()?);
    Ok(sequences)
}

/// The 18 retired keys of `retired-keys-at-the-cap`, in the order of the
/// stored `retired` array, with their deadlines in days after `SENT_AT`: five
/// share the earliest deadline (day 1), so the two of them first in the
/// array are dropped, and four share the next (day 2).
const AT_THE_CAP: [(&str, u64); 18] = [
    ("retired-01", 9),
    ("retired-02", 1),
    ("retired-03", 2),
    ("retired-04", 1),
    ("retired-05", 8),
    ("retired-06", 2),
    ("retired-07", 1),
    ("retired-08", 7),
    ("retired-09", 2),
    ("retired-10", 6),
    ("retired-11", 1),
    ("retired-12", 5),
    ("retired-13", 2),
    ("retired-14", 4),
    ("retired-15", 1),
    ("retired-16", 3),
    ("retired-17", 10),
    ("retired-18", 11),
];

/// A stored keyring with more retired keys than the cap (SPEC.md section 8.2).
fn retired_keys_at_the_cap() -> Result<SequenceJson> {
    let name = "retired-keys-at-the-cap";
    let spec = KeyringSpec {
        current: "device-1",
        retired: AT_THE_CAP.iter().map(|&(key, day)| (key, SENT_AT + day * 86_400)).collect(),
        trusted: vec![fixture::Trusted::Fixture("sender-a")],
    };
    let text = spec.serialized();
    let keyring = DeviceKeyring::from_bytes(text.as_bytes())?;
    // It writes back the 16 it keeps, in their stored order.
    let kept = KeyringSpec {
        retired: spec.retired.iter().copied().filter(|(key, _)| !["retired-02", "retired-04"].contains(key)).collect(),
        ..spec.clone()
    };
    ensure(keyring.to_bytes()?.as_slice() == kept.serialized().as_bytes(), || {
        format!("{name}: the keyring does not keep the 16 latest in their stored order")
    })?;
    let now = SENT_AT + OPEN_DELAY;
    let mut steps = Vec::new();
    for (key, day) in AT_THE_CAP {
        let sealed = seal_to(key, &format!("{name} {key}"), &format!("{name} {key}"), &message())?;
        let payload = fixture::envelope_payload(sealed.text.clone());
        steps.push(match key {
            "retired-02" | "retired-04" => err(
                &format!("Sealed to {key} (deadline day {day}, dropped at load): unknown_recipient_key."),
                now,
                payload,
                ErrorKind::UnknownRecipientKey,
            ),
            _ => ok(&format!("Sealed to {key} (deadline day {day}, kept): opens."), now, payload, &sealed.notification),
        });
    }
    check(&keyring, name, &steps)?;
    Ok(SequenceJson {
        name: name.to_owned(),
        description: "A stored keyring with 18 retired keys, two over the cap of 16 (SPEC.md section 8.2), whose \
            `retired` array is in no order of deadline: five keys share the earliest deadline (day 1 after sent_at) and \
            four the next (day 2). Loading keeps the 16 with the latest deadlines and, of the five that share the \
            earliest, drops the two first in the array (retired-02 and retired-04): an envelope sealed to either is \
            unknown_recipient_key, one sealed to any other retired key opens."
            .to_owned(),
        keyring: text,
        steps,
    })
}

/// `DBL_MAX` (`2^1024 - 2^971`), `2^1024 - 2^970` and `2^1024 - 2^970 - 1`,
/// written out in full: the exact decimal of `f64::MAX` plus that of `2^970`.
fn top_of_binary64() -> Result<(String, String, String)> {
    let dbl_max = format!("{:.0}", f64::MAX);
    let ulp_half = format!("{:.0}", 2f64.powi(970));
    let (a, b) = (dbl_max.as_bytes(), ulp_half.as_bytes());
    let (mut digits, mut carry) = (Vec::new(), 0);
    for i in 0..a.len() {
        let digit = |x: &[u8]| if i < x.len() { x[x.len() - 1 - i] - b'0' } else { 0 };
        let sum = digit(a) + digit(b) + carry;
        digits.push(b'0' + sum % 10);
        carry = sum / 10;
    }
    digits.reverse();
    let halfway = String::from_utf8(digits).map_err(|_| Error::new("digits"))?;
    // 2^1024 - 2^970 ends in ...97792, so one less ends in ...97791.
    let below = format!("{}1", halfway.strip_suffix('2').ok_or_else(|| Error::new("2^1024 - 2^970"))?);
    ensure(carry == 0 && halfway.len() == 309 && halfway.ends_with("97792"), || "2^1024 - 2^970".into())?;
    Ok((dbl_max, halfway, below))
}

/// Runs a sequence against the device with one replay store.
fn check(keyring: &DeviceKeyring, name: &str, steps: &[StepJson]) -> Result<()> {
    let store = MemoryReplayStore::new();
    for (i, step) in steps.iter().enumerate() {
        let got = fixture::open(keyring, &step.payload, &store, step.now)?;
        let fine = match (&got, &step.expected, step.expected_error) {
            (Ok(n), Some(expected), None) => {
                serde_json::to_value(fixture::notification_json(n))? == serde_json::to_value(expected)?
            }
            (Err(e), None, Some(kind)) => e.kind().name() == kind,
            _ => false,
        };
        ensure(fine, || {
            format!("sequence {name}, step {i}: the device gave {:?}", got.as_ref().map(|n| n.id).map_err(|e| e.kind()))
        })?;
    }
    Ok(())
}
