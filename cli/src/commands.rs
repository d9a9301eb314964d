//! The subcommands that work on keys and payloads: keygen, public-key, seal,
//! open and inspect.

use std::fs::OpenOptions;
use std::io::{self, Write as _};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pushseal::{
    ApnsOptions, ApnsRequest, BareEnvelope, BatchDevice, BatchResult, DeviceKeyring, DevicePublicKey, DeviceSecretKey,
    FcmMessage, FcmOptions, FcmPriority, FileReplayStore, KeyId, MemoryReplayStore, Message, ReplayStore, Sealed,
    Sender, unix_now,
};
use pushseal::{DeviceSecretKeyV2, Pq, Registration, SenderSigningKey};
use pushseal_audit::AuditTarget;
use serde_json::Value;

use crate::audit::with_receipt;
use crate::error::CliError;
use crate::input::{PayloadInput, parse_message, read_stdin};
use crate::key_file::{
    KeyFile, SecondKey, TrustedSender, key_file_json, key_file_text, parse_registration, parse_trusted_sender,
    read_key_file, sender_from_file,
};
use crate::mistakes;
use crate::output::Out;
use crate::{FcmPriorityArg, KeygenArgs, OpenArgs, Platform, PqArg, SealArgs};

/// A JSON string.
fn quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// `pushseal keygen`: a version 1 key and, unless `--v1-only`, a version 2
/// key: a device's X-Wing key, or with `--sender` an Ed25519 signing key.
pub fn keygen(out: &mut Out, args: &KeygenArgs) -> Result<(), CliError> {
    let key = DeviceSecretKey::generate()?;
    let v2 = match (args.v1_only, args.sender) {
        (true, _) => None,
        (false, false) => Some(SecondKey::Device(Box::new(DeviceSecretKeyV2::generate()?))),
        (false, true) => Some(SecondKey::Sender(Box::new(SenderSigningKey::generate()?))),
    };
    write_new_key_file(&args.secret_out, key_file_text(&key, v2.as_ref()).as_bytes())?;
    out.line(&key_file_json(&key.public_key(), v2.as_ref()))
}

/// Creates `path` (mode 0600 on Unix; never an existing file) holding `text`
/// and a newline. On a failed write the partial file is removed.
pub(crate) fn write_new_key_file(path: &Path, text: &[u8]) -> Result<(), CliError> {
    let shown = path.display();
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            CliError::rejected(format!("{shown} already exists; keygen never overwrites a file"))
        } else {
            CliError::rejected(format!("cannot create {shown}: {e}"))
        }
    })?;
    let written = file.write_all(text).and_then(|()| file.write_all(b"\n")).and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(CliError::rejected(format!("cannot write {shown}: {e}")));
    }
    Ok(())
}

/// `pushseal public-key`.
pub fn public_key(out: &mut Out, path: &Path) -> Result<(), CliError> {
    // A sender's key file has the same form, and its public key the same text.
    let file: KeyFile<DeviceSecretKey> = read_key_file(path)?;
    out.line(&key_file_json(&file.v1.public_key(), file.v2.as_ref()))
}

/// Checks that the options of `pushseal seal` suit its platform.
fn check_seal_args(args: &SealArgs) -> Result<(), CliError> {
    let usage = |message: String| CliError::usage("seal", message);
    let apns_only = [
        ("--fallback-title", args.fallback_title.is_some()),
        ("--fallback-body", args.fallback_body.is_some()),
        ("--background", args.background),
        ("--topic", args.topic.is_some()),
        ("--headers", args.headers),
    ];
    let fcm_only = [
        ("--token", !args.token.is_empty()),
        ("--request-body", args.request_body),
        ("--priority", args.priority.is_some()),
    ];
    let misplaced = |options: &[(&str, bool)], wanted: &str| {
        options.iter().find(|(_, given)| *given).map(|(name, _)| format!("{name} needs --platform {wanted}"))
    };
    if args.platform != Platform::Apns
        && let Some(message) = misplaced(&apns_only, "apns")
    {
        return Err(usage(message));
    }
    if args.platform != Platform::Fcm
        && let Some(message) = misplaced(&fcm_only, "fcm")
    {
        return Err(usage(message));
    }
    if args.platform == Platform::Envelope && args.collapse_id.is_some() {
        return Err(usage("--collapse-id needs --platform apns or fcm, not envelope".to_owned()));
    }
    if !args.token.is_empty() && args.token.len() != args.to.len() {
        return Err(usage(format!(
            "give one --token per --to, in the same order ({} --token for {} --to)",
            args.token.len(),
            args.to.len()
        )));
    }
    Ok(())
}

/// What shapes a platform payload beyond the notification, from the options
/// of `pushseal seal` or `pushseal send`.
pub(crate) struct PayloadOptions<'a> {
    pub background: bool,
    pub fallback_title: Option<&'a String>,
    pub fallback_body: Option<&'a String>,
    pub collapse_id: Option<&'a String>,
    pub topic: Option<&'a String>,
    pub priority: Option<FcmPriorityArg>,
}

impl PayloadOptions<'_> {
    /// The APNs options.
    pub fn apns(&self) -> ApnsOptions {
        let mut options = if self.background { ApnsOptions::background() } else { ApnsOptions::default() };
        if let Some(title) = self.fallback_title {
            options.fallback_title.clone_from(title);
        }
        options.fallback_body = self.fallback_body.cloned();
        options.collapse_id = self.collapse_id.cloned();
        options.topic = self.topic.cloned();
        options
    }

    /// The FCM options: without a token, which each device's message gets
    /// from its own.
    pub fn fcm(&self) -> FcmOptions {
        FcmOptions {
            token: None,
            fid: None,
            collapse_key: self.collapse_id.cloned(),
            priority: match self.priority {
                Some(FcmPriorityArg::Normal) => FcmPriority::Normal,
                Some(FcmPriorityArg::High) | None => FcmPriority::High,
            },
        }
    }
}

/// The payload options of `pushseal seal`.
fn payload_options(args: &SealArgs) -> PayloadOptions<'_> {
    PayloadOptions {
        background: args.background,
        fallback_title: args.fallback_title.as_ref(),
        fallback_body: args.fallback_body.as_ref(),
        collapse_id: args.collapse_id.as_ref(),
        topic: args.topic.as_ref(),
        priority: args.priority,
    }
}

/// What `pushseal seal --platform apns` prints for one device: the body, or
/// with `--headers` `{"headers": {...}, "body": {...}}`.
fn render_apns(request: &ApnsRequest, headers: bool) -> String {
    if !headers {
        return request.body.clone();
    }
    let headers: serde_json::Map<String, Value> =
        request.headers.iter().map(|(name, value)| (name.clone(), Value::String(value.clone()))).collect();
    format!("{{\"headers\":{},\"body\":{}}}", Value::Object(headers), request.body)
}

/// What `pushseal seal --platform fcm` prints for one device: the message
/// object, or with `--request-body` `{"message": {...}}`.
fn render_fcm(message: &FcmMessage, request_body: bool) -> String {
    if request_body { message.request_body() } else { message.json.clone() }
}

/// One line of the several-device output, around `payload` (JSON).
fn render_line<P>(sealed: &Sealed<P>, payload: &str) -> String {
    format!(
        "{{\"to\":\"{}\",\"version\":{},\"message_id\":\"{}\",\"expires_at\":{},\"payload\":{payload}}}",
        sealed.recipient,
        sealed.version(),
        sealed.message_id,
        sealed.expires_at
    )
}

/// `pushseal seal`.
pub fn seal(out: &mut Out, args: &SealArgs) -> Result<(), CliError> {
    check_seal_args(args)?;
    match args.platform {
        // An envelope is a JSON string only in a line of several; alone it is printed bare.
        Platform::Envelope => {
            seal_for(out, args, &BareEnvelope, |text, in_line| if in_line { quoted(text) } else { text.clone() })
        }
        Platform::Apns => {
            seal_for(out, args, &payload_options(args).apns(), |request, _| render_apns(request, args.headers))
        }
        Platform::Fcm => {
            seal_for(out, args, &payload_options(args).fcm(), |message, _| render_fcm(message, args.request_body))
        }
    }
}

/// `pushseal seal` for `target`; `render` gives what is printed of a payload
/// (JSON in a line of several when its second argument is true).
fn seal_for<T: AuditTarget>(
    out: &mut Out,
    args: &SealArgs,
    target: &T,
    render: impl Fn(&T::Payload, bool) -> String,
) -> Result<(), CliError> {
    let log = args.audit.log()?;
    let keys = args
        .to
        .iter()
        .enumerate()
        .map(|(i, text)| parse_registration(text, i, args.to.len()))
        .collect::<Result<Vec<Registration>, _>>()?;
    let sender = sender_for(&args.from, args.pq, &keys)?;
    refuse_own_key(&keys.iter().map(|r| *r.v1()).collect::<Vec<_>>(), sender.key_id(), args)?;
    let message = read_message(args.ttl)?;

    // One batch, so every device gets the same message id; each device's
    // push token goes into its own message (and its record). Each result is
    // printed as it comes, with an audit log only once its record is durable.
    let single = keys.len() == 1 && !args.json_lines;
    let tokens = args.token.iter().map(Some).chain(std::iter::repeat(None));
    let devices: Vec<BatchDevice> = keys
        .into_iter()
        .zip(tokens)
        .map(|(key, token)| match token {
            Some(token) => BatchDevice::registered(key).with_token(token.as_str()),
            None => BatchDevice::registered(key),
        })
        .collect();
    let mut failed = false;
    let each = |result: BatchResult<T::Payload>| match result.sealed {
        Ok(sealed) => {
            let line = if single {
                render(&sealed.payload, false)
            } else {
                render_line(&sealed, &render(&sealed.payload, true))
            };
            out.line(&line)
        }
        // One device: its error is the command's.
        Err(e) if single => Err(e.into()),
        Err(e) => {
            // Every key parsed above, so each result names its device's key id.
            let device = result
                .recipient
                .map_or_else(|| format!("--to #{}", result.index + 1), |id| format!("device key id {id}"));
            let _ = writeln!(io::stderr(), "error: {device}: {e}");
            failed = true;
            Ok(())
        }
    };
    pushseal_audit::seal_batch_each(log.as_ref(), &sender, devices, &message, target, each)?;
    if failed { Err(CliError::Reported) } else { Ok(()) }
}

/// The sender of `--from` (with its signing key if the file has one: it
/// then seals version 2 to the devices that registered a version 2 key) and
/// the notification on standard input, with the lifetime of `--ttl` if
/// given: what `send` reads.
pub(crate) fn sender_and_message(from: &Path, ttl: Option<u64>) -> Result<(Sender, Message), CliError> {
    Ok((sender_for(from, PqArg::Prefer, &[])?, read_message(ttl)?))
}

/// The notification on standard input, with the lifetime of `--ttl` if given.
fn read_message(ttl: Option<u64>) -> Result<Message, CliError> {
    let mut message = parse_message(&read_stdin("the notification as JSON")?)?;
    if let Some(ttl) = ttl {
        message.ttl_secs = ttl;
    }
    Ok(message)
}

/// The sender of `--from`, with its signing key and the `--pq` policy.
/// Refuses, before anything is sealed, what `--pq require` cannot do: a
/// device of `devices` without a version 2 key, or a sender key file without
/// a signing key.
fn sender_for(from: &Path, pq: PqArg, devices: &[Registration]) -> Result<Sender, CliError> {
    let pq = match pq {
        PqArg::Prefer => Pq::Prefer,
        PqArg::Require => Pq::Require,
        PqArg::Off => Pq::Off,
    };
    if pq == Pq::Require
        && let Some(index) = devices.iter().position(|d| d.v2().is_none())
    {
        let name = if devices.len() > 1 { format!("--to #{}", index + 1) } else { "--to".to_owned() };
        return Err(CliError::rejected(format!(
            "{name} is a version 1 public key and --pq require seals version 2 only: give the device's \
             registration text (keygen's \"registration\"), or seal with --pq prefer"
        )));
    }
    let needs_v2 = pq != Pq::Off && devices.iter().any(|d| d.v2().is_some());
    let (key, signing) = sender_from_file(from, needs_v2)?;
    let sender = Sender::new(key).with_pq(pq);
    match signing {
        Some(signing) => Ok(sender.with_signing_key(signing)),
        None if pq == Pq::Require => Err(CliError::rejected(format!(
            "{} has no signing key and --pq require seals version 2 only: make a sender key with pushseal keygen \
             --sender --secret-out PATH, or seal with --pq prefer",
            from.display()
        ))),
        None => Ok(sender),
    }
}

/// Refuses a `--to` that is the sender's own public key (key id `own`): the
/// notification would open nowhere but on the sender's server.
fn refuse_own_key(devices: &[DevicePublicKey], own: KeyId, args: &SealArgs) -> Result<(), CliError> {
    let Some(index) = devices.iter().position(|d| d.key_id() == own) else { return Ok(()) };
    let name = if devices.len() > 1 { format!("--to #{}", index + 1) } else { "--to".to_owned() };
    Err(CliError::rejected(format!(
        "{name} is the public key of the sender key in {} (key id {own}): seal to a device's public key (what \
         its app registered), not to the sender's own",
        args.from.display()
    )))
}

/// The error of opening `input` with the key in `key_file` (key id `own`),
/// explained when the payload is sealed to another key.
fn open_error(e: pushseal::Error, input: &PayloadInput, own: KeyId, key_file: &Path) -> CliError {
    if let pushseal::Error::UnknownRecipientKey(recipient) = e
        && let Ok((header, _)) = input.payload().inspect()
    {
        return CliError::rejected(mistakes::not_this_device(recipient, header.sender, own, key_file));
    }
    e.into()
}

/// `pushseal open`.
pub fn open(out: &mut Out, args: &OpenArgs) -> Result<(), CliError> {
    let senders = args
        .sender
        .iter()
        .enumerate()
        .map(|(i, text)| parse_trusted_sender(text, i, args.sender.len()))
        .collect::<Result<Vec<TrustedSender>, _>>()?;
    let file: KeyFile<DeviceSecretKey> = read_key_file(&args.secret)?;
    let mut keyring = DeviceKeyring::from_secret_key(file.v1);
    // A sender's key file opens version 1 only, as before it had a version 2 key.
    if let Some(SecondKey::Device(v2)) = file.v2 {
        keyring = keyring.with_v2_key(*v2);
    }
    keyring.accept_v1(!args.v2_only);
    for sender in senders {
        match sender {
            TrustedSender::V1(key) => keyring.trust_sender(key)?,
            TrustedSender::V2(key) => keyring.trust_sender_v2(key),
        }
    }
    let replay: Box<dyn ReplayStore> = match &args.replay_db {
        Some(path) => Box::new(FileReplayStore::open(path)?),
        None => Box::new(MemoryReplayStore::new()),
    };
    let input = PayloadInput::from_stdin(args.platform)?;
    let now = args.now.unwrap_or_else(unix_now);
    let explain = |e| open_error(e, &input, keyring.key_id(), &args.secret);
    if args.receipt {
        let (notification, receipt) = keyring.open_with_receipt(input.payload(), &replay, now).map_err(explain)?;
        return out.line(&with_receipt(&notification, &receipt)?);
    }
    let notification = keyring.open(input.payload(), &replay, now).map_err(explain)?;
    let json = serde_json::to_string(&notification)
        .map_err(|_| CliError::rejected("the notification cannot be printed as JSON"))?;
    out.line(&json)
}

/// `pushseal inspect`.
pub fn inspect(out: &mut Out, platform: Platform) -> Result<(), CliError> {
    let input = PayloadInput::from_stdin(platform)?;
    let summary = input.payload().summary()?;
    if summary.version != 1 {
        // Version 2 (SPEC.md section 12): its 1,120-byte enc is left out.
        return out.line(&format!(
            "{{\"version\":{},\"recipient_key_id\":{},\"sender_key_id\":{},\"envelope_bytes\":{},\
             \"padded_plaintext_bytes\":{}}}",
            summary.version,
            quoted(&summary.recipient.to_string()),
            quoted(&summary.sender.to_string()),
            summary.envelope_len,
            summary.padded_len
        ));
    }
    let (header, padded) = input.payload().inspect()?;
    let envelope_bytes = input.envelope_len();
    out.line(&format!(
        "{{\"version\":{},\"recipient_key_id\":{},\"sender_key_id\":{},\"enc\":{},\"envelope_bytes\":{},\
         \"padded_plaintext_bytes\":{}}}",
        header.version,
        quoted(&header.recipient.to_string()),
        quoted(&header.sender.to_string()),
        quoted(&URL_SAFE_NO_PAD.encode(header.enc)),
        envelope_bytes,
        padded
    ))
}
