//! `pushseal demo`: the whole story in one process, narrated.
//!
//! Nothing is written to disk and nothing is sent: the replay store is in
//! memory, and the "gateway" is what this process prints.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pushseal::{
    ApnsOptions, DeviceKeyring, FcmOptions, MemoryReplayStore, Message, Notification, Payload, Sender, SenderSecretKey,
    unix_now,
};
use pushseal::{SenderSigningKey, SenderVerifyingKey};

use crate::error::CliError;
use crate::output::Out;

/// Where the sender key id sits in an envelope: after the version byte and the recipient key id.
const SENDER_KEY_ID_AT: usize = 9;

/// Characters of an envelope shown before it is cut short.
const SHOWN_ENVELOPE_CHARS: usize = 24;

/// `pushseal demo`.
pub fn run(out: &mut Out) -> Result<(), CliError> {
    out.line("PushSeal demo: a lab-results notification from a clinic's server to a patient's phone.")?;
    out.line("Everything runs in this one process; nothing is sent and no file is written.")?;

    out.blank()?;
    out.line("1. The phone makes its device keys: version 1 (X25519) and version 2 (X-Wing: ML-KEM-768")?;
    out.line("   and X25519, post-quantum). The secret halves never leave the phone.")?;
    let mut device = DeviceKeyring::generate()?;
    let device_key = device.public_key();
    let registration = device.registration();
    out.line(&format!(
        "   device key ids      {} (version 1), {} (version 2)",
        device_key.key_id(),
        v2_key_id(&device)
    ))?;

    out.blank()?;
    out.line("2. The phone registers both public keys with the clinic's server, in one text, and pins")?;
    out.line("   the server's sender keys, which ship with the app.")?;
    let sender = Sender::new(SenderSecretKey::generate()?).with_signing_key(SenderSigningKey::generate()?);
    let verifying: SenderVerifyingKey =
        sender.verifying_key().ok_or_else(|| CliError::rejected("demo: no signing key"))?;
    device.trust_sender(sender.public_key())?;
    device.trust_sender_v2(verifying);
    let registration_text = registration.to_string();
    out.line(&format!(
        "   registered          {}... ({} characters)",
        registration_text.get(..SHOWN_REGISTRATION_CHARS).unwrap_or(&registration_text),
        registration_text.len()
    ))?;
    out.line(&format!(
        "   trusted sender ids  {} (version 1), {} (version 2, Ed25519)",
        sender.key_id(),
        verifying.key_id()
    ))?;

    out.blank()?;
    out.line("3. The server seals the notification to that registration, once for APNs, once for FCM.")?;
    let message = Message::new("Lab results ready", "Your blood test results from Tuesday are ready to view.")
        .with_data("ref", "lab-7731");
    let apns = sender.seal_for_apns(&registration, &message, &ApnsOptions::default())?;
    let fcm = sender.seal_for_fcm(&registration, &message, &FcmOptions::with_token("<device-fcm-token>"))?;
    out.line(&format!("   envelope version    {} ({})", apns.version(), version_text(apns.version())))?;
    out.line(&format!("   title               {}", message.title))?;
    out.line(&format!("   body                {}", message.body))?;
    out.line(&format!("   data                {}", data_text(&message)))?;
    let (apns_request, fcm_message) = (&apns.payload, &fcm.payload);

    out.blank()?;
    out.line("4. What the gateways (Apple's APNs, Google's FCM) and anyone on the way can see:")?;
    let headers: Vec<String> = apns_request.headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
    out.line(&format!("   APNs headers        {}", headers.join(", ")))?;
    out.line(&format!("   APNs body           {}", shorten(&apns_request.body, &encode(&apns.envelope))))?;
    out.line(&format!("   FCM message         {}", shorten(&fcm_message.json, &encode(&fcm.envelope))))?;
    let header = Payload::ApnsJson(&apns_request.body).summary()?;
    out.line(&format!(
        "   envelope header     version {}, to key {}, from key {}, {} padded bytes",
        header.version, header.recipient, header.sender, header.padded_len
    ))?;
    out.line("   No title, no body, no reference: key ids, a size bucket and ciphertext only.")?;

    out.blank()?;
    out.line("5. The phone opens them (Notification Service Extension, FirebaseMessagingService):")?;
    let replay = MemoryReplayStore::new();
    let from_apns = device.open(Payload::ApnsJson(&apns_request.body), &replay, unix_now())?;
    out.line(&format!("   from APNs           {}", shown(&from_apns)))?;
    let fcm_data = [("pushseal".to_owned(), encode(&fcm.envelope))].into_iter().collect();
    let from_fcm = device.open(Payload::FcmData(&fcm_data), &replay, unix_now())?;
    out.line(&format!("   from FCM            {}", shown(&from_fcm)))?;

    out.blank()?;
    out.line("6. And what it refuses:")?;
    let mut tampered = apns.envelope.clone();
    if let Some(byte) = tampered.last_mut() {
        *byte ^= 0x01;
    }
    let tampered_body = apns_request.body.replace(&encode(&apns.envelope), &encode(&tampered));
    refused(out, "a copy with one bit flipped", device.open(Payload::ApnsJson(&tampered_body), &replay, unix_now()))?;
    refused(
        out,
        "the APNs push delivered again",
        device.open(Payload::ApnsJson(&apns_request.body), &replay, unix_now()),
    )?;
    let forger = Sender::new(SenderSecretKey::generate()?).with_signing_key(SenderSigningKey::generate()?);
    let forged = forger.seal_envelope(&registration, &message)?;
    refused(
        out,
        "a forger's own sender key",
        device.open(Payload::Envelope(&encode(&forged.envelope)), &replay, unix_now()),
    )?;
    let mut impersonating = forged.envelope.clone();
    let trusted_id = verifying.key_id().to_bytes();
    if let Some(slot) = impersonating.get_mut(SENDER_KEY_ID_AT..SENDER_KEY_ID_AT + trusted_id.len()) {
        slot.copy_from_slice(&trusted_id);
    }
    refused(
        out,
        "a forger naming the clinic's key",
        device.open(Payload::Envelope(&encode(&impersonating)), &replay, unix_now()),
    )?;

    out.blank()?;
    out.line("7. An older app that registered its version 1 key alone still gets version 1:")?;
    let older = sender.seal_envelope(&device_key, &message)?;
    out.line(&format!("   envelope version    {} ({})", older.version(), version_text(older.version())))?;
    let from_older = device.open(Payload::Envelope(&older.payload), &replay, unix_now())?;
    out.line(&format!("   opened              {}", shown(&from_older)))?;

    out.blank()?;
    out.line("Try it with your own keys: pushseal keygen --secret-out device.key (see pushseal --help).")
}

/// Characters of a registration text shown before it is cut short.
const SHOWN_REGISTRATION_CHARS: usize = 40;

/// The device's version 2 key id, as text.
fn v2_key_id(device: &DeviceKeyring) -> String {
    device.public_key_v2().map_or_else(|| "none".to_owned(), |k| k.key_id().to_string())
}

/// What an envelope version means.
fn version_text(version: u8) -> &'static str {
    if version == 2 { "post-quantum: X-Wing, signed by the sender's Ed25519 key" } else { "X25519, HPKE mode auth" }
}

fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `json` with the envelope text `envelope` cut to its first characters.
fn shorten(json: &str, envelope: &str) -> String {
    let head = envelope.get(..SHOWN_ENVELOPE_CHARS).unwrap_or(envelope);
    json.replace(envelope, &format!("{head}... ({} characters)", envelope.len()))
}

/// A notification as the phone would show it.
fn shown(n: &Notification) -> String {
    format!("\"{}\": \"{}\"  [{}]", n.message.title, n.message.body, data_text(&n.message))
}

/// A message's data entries, `key=value` separated by commas.
fn data_text(message: &Message) -> String {
    message.data.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// Reports a refusal; an acceptance would be a failure of the demo.
fn refused(out: &mut Out, what: &str, result: pushseal::Result<Notification>) -> Result<(), CliError> {
    match result {
        Err(e) => out.line(&format!("   {what:<34}refused ({}): {e}", e.kind())),
        Ok(_) => Err(CliError::rejected(format!("demo: {what} was accepted, which must never happen"))),
    }
}
