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
    out.line("1. The phone makes its device key. The secret half never leaves the phone.")?;
    let mut device = DeviceKeyring::generate()?;
    let device_key = device.public_key();
    out.line(&format!("   device key id       {}", device_key.key_id()))?;

    out.blank()?;
    out.line("2. The phone registers its public key with the clinic's server, and trusts the")?;
    out.line("   server's sender key, which ships with the app.")?;
    let sender = Sender::new(SenderSecretKey::generate()?);
    device.trust_sender(sender.public_key())?;
    out.line(&format!("   registered          {device_key}"))?;
    out.line(&format!("   trusted sender id   {}", sender.key_id()))?;

    out.blank()?;
    out.line("3. The server seals the notification to that public key, once for APNs, once for FCM.")?;
    let message = Message::new("Lab results ready", "Your blood test results from Tuesday are ready to view.")
        .with_data("ref", "lab-7731");
    let apns = sender.seal_for_apns(&device_key, &message, &ApnsOptions::default())?;
    let fcm = sender.seal_for_fcm(&device_key, &message, &FcmOptions::with_token("<device-fcm-token>"))?;
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
    let (header, padded) = Payload::ApnsJson(&apns_request.body).inspect()?;
    out.line(&format!(
        "   envelope header     version {}, to key {}, from key {}, {padded} padded bytes",
        header.version, header.recipient, header.sender
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
    let forger = Sender::new(SenderSecretKey::generate()?);
    let forged = forger.seal_envelope(&device_key, &message)?;
    refused(
        out,
        "a forger's own sender key",
        device.open(Payload::Envelope(&encode(&forged.envelope)), &replay, unix_now()),
    )?;
    let mut impersonating = forged.envelope.clone();
    let trusted_id = sender.key_id().to_bytes();
    if let Some(slot) = impersonating.get_mut(SENDER_KEY_ID_AT..SENDER_KEY_ID_AT + trusted_id.len()) {
        slot.copy_from_slice(&trusted_id);
    }
    refused(
        out,
        "a forger naming the clinic's key",
        device.open(Payload::Envelope(&encode(&impersonating)), &replay, unix_now()),
    )?;

    out.blank()?;
    out.line("Try it with your own keys: pushseal keygen --secret-out device.key (see pushseal --help).")
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
