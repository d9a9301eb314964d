//! The sample sender: the server side of `ios-sample/` and `android-sample/`.
//!
//! It holds a sender key and a version 2 signing key, accepts device
//! registrations (registration text or version 1 public key, platform, push
//! token) into a small JSON store, and seals notifications into the exact
//! HTTP/2 requests that APNs and FCM HTTP v1 take: version 2 (post-quantum) to
//! a device that registered a version 2 key, version 1 to an older app. With `--send` and the
//! gateway credentials configured it sends them with `curl --http2`;
//! otherwise it writes each request to a file and prints a ready `curl`
//! command whose credentials come from environment variables.
//!
//! ```text
//! cargo run -p pushseal --example sample_sender -- init
//! cargo run -p pushseal --example sample_sender -- serve --listen 127.0.0.1:8787
//! cargo run -p pushseal --example sample_sender -- register registration.json
//! cargo run -p pushseal --example sample_sender -- devices
//! cargo run -p pushseal --example sample_sender -- send --to all < message.json
//! cargo run -p pushseal --example sample_sender -- remove <device key id>
//! ```
//!
//! Secrets never live in code. The sender key is read from
//! `$PUSHSEAL_SENDER_SECRET_KEY` (its secret text) or from the file
//! `$PUSHSEAL_SENDER_KEY_FILE` (default `<state dir>/sender.key`, created by
//! `init` with mode 0600); the version 2 signing key from
//! `$PUSHSEAL_SENDER_SECRET_KEY_V2` or the file `$PUSHSEAL_SENDER_KEY_V2_FILE`
//! (default `<state dir>/sender-v2.key`, created by `init` the same way). The gateway credentials are read from
//! `$APNS_AUTH_TOKEN` / `$APNS_AUTH_TOKEN_FILE` (an APNs provider token, the
//! ES256 JWT made from the team's `.p8` key) and `$FCM_ACCESS_TOKEN` /
//! `$FCM_ACCESS_TOKEN_FILE` (an OAuth 2.0 access token of a service account
//! with the `firebase.messaging` scope), with `$FCM_PROJECT_ID`. The state
//! directory is `$PUSHSEAL_SAMPLE_DIR` (default `./sample-sender`). See
//! `sdk-core/examples/README.md`.
//!
//! The message text is read from standard input and never printed or written
//! anywhere but into the sealed envelope.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use pushseal::{
    ApnsOptions, ApnsRequest, DevicePublicKey, FcmOptions, Message, Registration, Sealed, Sender, SenderSecretKey,
    SenderSigningKey, unix_now,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Exit status for a usage error.
const USAGE_EXIT: u8 = 2;
/// The largest registration or message accepted, in bytes.
const MAX_INPUT: usize = 64 * 1024;
/// The largest HTTP request head the registration server reads, in bytes.
const MAX_HEAD: usize = 8 * 1024;
/// The longest push token accepted, in characters.
const MAX_TOKEN: usize = 4096;

const USAGE: &str = "\
usage: sample_sender <command> [options]

commands:
  init                      create the sender keys (version 1 and 2, mode 0600) if missing;
                            print their public keys
  register [FILE]           add a device registration (JSON, from FILE or standard input):
                            {\"platform\",\"registration\" (or a version 1 \"public_key\"),
                            \"key_id\",\"push_token\",\"app_id\"?,\"apns_environment\"?}
  serve [--listen ADDR] [--max-requests N]
                            accept registrations: POST /registrations (JSON), GET /sender
                            (default 127.0.0.1:8787)
  devices                   list the registered devices
  remove KEY_ID             forget a device (a lost phone): nothing more is sealed to its key
  send --to KEY_ID|all [--to ...] [--ttl SECONDS] [--send]
                            seal the message on standard input ({\"title\",\"body\",\"data\"?,
                            \"thread_id\"?,\"category\"?,\"badge\"?,\"sound\"?}) for each device and
                            write its APNs or FCM request; --send also sends it when the
                            gateway credentials are configured

environment:
  PUSHSEAL_SAMPLE_DIR       state directory (default ./sample-sender)
  PUSHSEAL_SENDER_SECRET_KEY, PUSHSEAL_SENDER_KEY_FILE
                            the sender key (default <state dir>/sender.key)
  PUSHSEAL_SENDER_SECRET_KEY_V2, PUSHSEAL_SENDER_KEY_V2_FILE
                            the version 2 signing key (default <state dir>/sender-v2.key)
  APNS_AUTH_TOKEN, APNS_AUTH_TOKEN_FILE, APNS_TOPIC, APNS_HOST
  FCM_ACCESS_TOKEN, FCM_ACCESS_TOKEN_FILE, FCM_PROJECT_ID";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(why)) => {
            eprintln!("error: {why}\n\n{USAGE}");
            ExitCode::from(USAGE_EXIT)
        }
        Err(Failure::Failed(why)) => {
            eprintln!("error: {why}");
            ExitCode::FAILURE
        }
    }
}

/// Why a command stopped.
enum Failure {
    /// The command line is wrong.
    Usage(String),
    /// The command could not do its work.
    Failed(String),
}

impl From<String> for Failure {
    fn from(why: String) -> Self {
        Failure::Failed(why)
    }
}

impl From<pushseal::Error> for Failure {
    fn from(e: pushseal::Error) -> Self {
        Failure::Failed(e.to_string())
    }
}

type Outcome<T = ()> = Result<T, Failure>;

fn run(args: &[String]) -> Outcome {
    let config = Config::from_env();
    let (command, rest) = args.split_first().ok_or_else(|| Failure::Usage("no command".into()))?;
    match command.as_str() {
        "init" => no_options(rest).and_then(|()| init(&config)),
        "register" => register_command(&config, rest),
        "serve" => serve(&config, rest),
        "devices" => no_options(rest).and_then(|()| devices(&config)),
        "remove" => remove(&config, rest),
        "send" => send(&config, rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(Failure::Usage(format!("unknown command {other:?}"))),
    }
}

fn no_options(rest: &[String]) -> Outcome {
    match rest.first() {
        Some(extra) => Err(Failure::Usage(format!("unexpected argument {extra:?}"))),
        None => Ok(()),
    }
}

/// Where the state lives; everything comes from the environment.
struct Config {
    dir: PathBuf,
}

impl Config {
    fn from_env() -> Self {
        let dir = std::env::var_os("PUSHSEAL_SAMPLE_DIR").map_or_else(|| PathBuf::from("sample-sender"), PathBuf::from);
        Self { dir }
    }

    fn key_path(&self) -> PathBuf {
        std::env::var_os("PUSHSEAL_SENDER_KEY_FILE").map_or_else(|| self.dir.join("sender.key"), PathBuf::from)
    }

    fn key_v2_path(&self) -> PathBuf {
        std::env::var_os("PUSHSEAL_SENDER_KEY_V2_FILE").map_or_else(|| self.dir.join("sender-v2.key"), PathBuf::from)
    }

    fn store_path(&self) -> PathBuf {
        self.dir.join("registrations.json")
    }

    fn out_dir(&self) -> PathBuf {
        self.dir.join("out")
    }

    fn ensure_dir(&self) -> Outcome {
        fs::create_dir_all(&self.dir).map_err(|e| Failure::Failed(format!("{}: {e}", self.dir.display())))
    }
}

// ---------------------------------------------------------------------------
// The sender key

/// The sender, from `$PUSHSEAL_SENDER_SECRET_KEY` or the key file, with its
/// version 2 signing key from `$PUSHSEAL_SENDER_SECRET_KEY_V2` or its key file
/// when there is one (without, it seals version 1 only, as before version 2).
fn load_sender(config: &Config) -> Outcome<Sender> {
    let key = match std::env::var_os("PUSHSEAL_SENDER_SECRET_KEY") {
        Some(text) => {
            let text =
                Zeroizing::new(text.into_string().map_err(|_| "PUSHSEAL_SENDER_SECRET_KEY is not UTF-8".to_owned())?);
            SenderSecretKey::from_secret_text(&text)
                .map_err(|e| format!("PUSHSEAL_SENDER_SECRET_KEY is not a PushSeal secret key: {e}"))?
        }
        None => {
            let path = config.key_path();
            let text = Zeroizing::new(
                fs::read_to_string(&path)
                    .map_err(|e| format!("the sender key {}: {e} (run `sample_sender init` first)", path.display()))?,
            );
            SenderSecretKey::from_secret_text(&text)
                .map_err(|e| format!("the sender key {} is not a PushSeal secret key: {e}", path.display()))?
        }
    };
    let sender = Sender::new(key);
    Ok(match load_signing_key(config)? {
        Some(signing) => sender.with_signing_key(signing),
        None => sender,
    })
}

/// The version 2 signing key, if one is configured or its file exists.
fn load_signing_key(config: &Config) -> Outcome<Option<SenderSigningKey>> {
    if let Some(text) = std::env::var_os("PUSHSEAL_SENDER_SECRET_KEY_V2") {
        let text =
            Zeroizing::new(text.into_string().map_err(|_| "PUSHSEAL_SENDER_SECRET_KEY_V2 is not UTF-8".to_owned())?);
        let key = SenderSigningKey::from_secret_text(&text)
            .map_err(|e| format!("PUSHSEAL_SENDER_SECRET_KEY_V2 is not a PushSeal version 2 sender key: {e}"))?;
        return Ok(Some(key));
    }
    let path = config.key_v2_path();
    let text = match fs::read_to_string(&path) {
        Ok(text) => Zeroizing::new(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Failure::Failed(format!("the sender v2 key {}: {e}", path.display()))),
    };
    let key = SenderSigningKey::from_secret_text(&text)
        .map_err(|e| format!("the sender v2 key {} is not a PushSeal version 2 sender key: {e}", path.display()))?;
    Ok(Some(key))
}

/// Says once, on standard error, that a sender without a signing key seals version 1 only.
fn note_without_signing_key(sender: &Sender) {
    if sender.verifying_key().is_none() {
        eprintln!(
            "note: no version 2 sender key (run `sample_sender init` to create it): \
             sealing version 1 only"
        );
    }
}

fn init(config: &Config) -> Outcome {
    let path = config.key_path();
    let mut created = false;
    if std::env::var_os("PUSHSEAL_SENDER_SECRET_KEY").is_some() || path.exists() {
        println!("sender key: already configured");
    } else {
        config.ensure_dir()?;
        let key = SenderSecretKey::generate()?;
        write_new_secret_file(&path, format!("{}\n", key.to_secret_text().as_str()).as_bytes())?;
        println!("sender key: {} (created, mode 0600)", path.display());
        created = true;
    }
    // A sender made before version 2 gains its signing key here.
    let path_v2 = config.key_v2_path();
    if std::env::var_os("PUSHSEAL_SENDER_SECRET_KEY_V2").is_some() || path_v2.exists() {
        println!("sender v2 key: already configured");
    } else {
        config.ensure_dir()?;
        let key = SenderSigningKey::generate()?;
        write_new_secret_file(&path_v2, format!("{}\n", key.to_secret_text().as_str()).as_bytes())?;
        println!("sender v2 key: {} (created, mode 0600)", path_v2.display());
        created = true;
    }
    let sender = load_sender(config)?;
    print_sender(&sender);
    if created {
        println!("Pin these public keys in the apps: PUSHSEAL_SENDER_PUBLIC_KEY and PUSHSEAL_SENDER_PUBLIC_KEY_V2");
        println!("in ios-sample/Config/Sample.xcconfig, pushsealSenderPublicKey and pushsealSenderPublicKeyV2");
        println!("in android-sample/gradle.properties.");
    }
    Ok(())
}

fn print_sender(sender: &Sender) {
    println!("sender public key: {}", sender.public_key());
    println!("sender key id: {}", sender.key_id());
    if let Some(v2) = sender.verifying_key() {
        println!("sender public key v2: {v2}");
        println!("sender key id v2: {}", v2.key_id());
    }
}

/// The sender's public keys as JSON members, for `GET /sender` and the
/// answer to a registration: what an app pins.
fn sender_json(sender: &Sender, json: &mut serde_json::Map<String, serde_json::Value>) {
    json.insert("sender_public_key".into(), sender.public_key().to_string().into());
    json.insert("sender_key_id".into(), sender.key_id().to_string().into());
    if let Some(v2) = sender.verifying_key() {
        json.insert("sender_public_key_v2".into(), v2.to_string().into());
        json.insert("sender_key_id_v2".into(), v2.key_id().to_string().into());
    }
}

/// Creates `path` with `bytes`, readable by its owner only; never overwrites.
fn write_new_secret_file(path: &Path, bytes: &[u8]) -> Outcome {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Failure::Failed(format!("{}: {e}", path.display())))
}

// ---------------------------------------------------------------------------
// Registrations

/// What a device sends: the body of `POST /registrations`. A device sends its
/// `registration` text (both public keys); an app made before version 2
/// sends its version 1 `public_key` instead, and is sealed version 1.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistrationRequest {
    platform: String,
    #[serde(default)]
    registration: Option<String>,
    #[serde(default)]
    public_key: Option<String>,
    /// The version 1 key's id.
    key_id: String,
    push_token: String,
    #[serde(default)]
    app_id: Option<String>,
    #[serde(default)]
    apns_environment: Option<String>,
}

/// A registered device, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Device {
    platform: Platform,
    /// The version 1 public key.
    public_key: String,
    /// The registration text, when the device registered a version 2 key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    registration: Option<String>,
    /// The version 1 key's id: the device's name here.
    key_id: String,
    push_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    apns_environment: Option<ApnsEnvironment>,
    registered_at: u64,
}

impl Device {
    /// What is sealed to: the registration, or the version 1 key alone.
    fn to(&self) -> pushseal::Result<Registration> {
        match &self.registration {
            Some(text) => text.parse(),
            None => self.public_key.parse::<DevicePublicKey>().map(Registration::v1_only),
        }
    }

    /// The versions the device opens, for listings.
    fn versions(&self) -> &'static str {
        if self.registration.is_some() { "v1+v2" } else { "v1 only" }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Platform {
    Ios,
    Android,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ApnsEnvironment {
    Development,
    Production,
}

impl ApnsEnvironment {
    fn host(self) -> &'static str {
        match self {
            ApnsEnvironment::Development => "api.sandbox.push.apple.com",
            ApnsEnvironment::Production => "api.push.apple.com",
        }
    }
}

/// Checks a registration and turns it into a device record.
fn validate(req: RegistrationRequest, now: u64) -> Result<Device, String> {
    let platform = match req.platform.as_str() {
        "ios" => Platform::Ios,
        "android" => Platform::Android,
        _ => return Err("platform is \"ios\" or \"android\"".into()),
    };
    let (registration, field) = match (&req.registration, &req.public_key) {
        (Some(text), None) => (text.parse::<Registration>().map_err(|e| format!("registration: {e}"))?, "registration"),
        (None, Some(text)) => {
            (Registration::v1_only(text.parse().map_err(|e| format!("public_key: {e}"))?), "public_key")
        }
        (Some(_), Some(_)) => return Err("give registration or public_key, not both".into()),
        (None, None) => return Err("registration (the device's registration text) is missing".into()),
    };
    let given = req.registration.as_deref().or(req.public_key.as_deref()).unwrap_or_default();
    if registration.to_string() != given {
        return Err(format!("{field}: not in its canonical form"));
    }
    if registration.v1().key_id().to_string() != req.key_id {
        return Err(format!("key_id does not match {field} (it is the version 1 key's id)"));
    }
    let token = &req.push_token;
    let token_ok = match platform {
        Platform::Ios => {
            token.len() >= 16 && token.len() <= 400 && token.len().is_multiple_of(2) && is_lower_hex(token)
        }
        Platform::Android => {
            !token.is_empty() && token.len() <= MAX_TOKEN && token.bytes().all(|b| b.is_ascii_graphic())
        }
    };
    if !token_ok {
        return Err(match platform {
            Platform::Ios => "push_token: an APNs device token is lowercase hex".into(),
            Platform::Android => "push_token: an FCM registration token is printable ASCII without spaces".into(),
        });
    }
    if let Some(app) = &req.app_id
        && !is_name(app, b"._-")
    {
        return Err("app_id: a bundle id or package name".into());
    }
    let apns_environment = match (platform, req.apns_environment.as_deref()) {
        (Platform::Ios, None | Some("production")) => Some(ApnsEnvironment::Production),
        (Platform::Ios, Some("development")) => Some(ApnsEnvironment::Development),
        (Platform::Ios, Some(_)) => return Err("apns_environment is \"development\" or \"production\"".into()),
        (Platform::Android, None) => None,
        (Platform::Android, Some(_)) => return Err("apns_environment is for iOS devices only".into()),
    };
    Ok(Device {
        platform,
        public_key: registration.v1().to_base64(),
        registration: registration.v2().is_some().then(|| registration.to_string()),
        key_id: req.key_id,
        push_token: req.push_token,
        app_id: req.app_id,
        apns_environment,
        registered_at: now,
    })
}

/// Whether `s` is 1 to 155 ASCII letters, digits and `extra` characters:
/// a bundle id, package name, project id or host name.
fn is_name(s: &str, extra: &[u8]) -> bool {
    !s.is_empty() && s.len() <= 155 && s.bytes().all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The embedded store: one JSON file, rewritten atomically.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Store {
    devices: Vec<Device>,
}

impl Store {
    fn load(path: &Path) -> Outcome<Self> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Failure::Failed(format!("{}: not a registration store: {e}", path.display()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Failure::Failed(format!("{}: {e}", path.display()))),
        }
    }

    fn save(&self, path: &Path) -> Outcome {
        let json = serde_json::to_vec_pretty(self).map_err(|e| format!("encoding the store: {e}"))?;
        let tmp = path.with_extension("json.tmp");
        fs::write(&tmp, json)
            .and_then(|()| fs::rename(&tmp, path))
            .map_err(|e| Failure::Failed(format!("{}: {e}", path.display())))
    }

    /// Adds `device`, replacing any record with the same key (a new push
    /// token) or the same push token (a rotated key). Returns whether it replaced one.
    fn upsert(&mut self, device: Device) -> bool {
        let before = self.devices.len();
        self.devices.retain(|d| d.key_id != device.key_id && d.push_token != device.push_token);
        let replaced = self.devices.len() != before;
        self.devices.push(device);
        replaced
    }
}

/// Validates and stores one registration; returns the device's key id.
fn register(config: &Config, json: &[u8]) -> Result<(Device, bool), String> {
    let req: RegistrationRequest = serde_json::from_slice(json).map_err(|e| format!("not a registration: {e}"))?;
    let device = validate(req, unix_now())?;
    let path = config.store_path();
    let mut store = Store::load(&path).map_err(failure_text)?;
    let replaced = store.upsert(device.clone());
    store.save(&path).map_err(failure_text)?;
    Ok((device, replaced))
}

fn failure_text(f: Failure) -> String {
    match f {
        Failure::Usage(s) | Failure::Failed(s) => s,
    }
}

fn register_command(config: &Config, rest: &[String]) -> Outcome {
    let json = match rest {
        [] => read_stdin()?,
        [path] if path == "-" => read_stdin()?,
        [path] => fs::read(path).map_err(|e| format!("{path}: {e}"))?,
        _ => return Err(Failure::Usage("register takes at most one file".into())),
    };
    config.ensure_dir()?;
    let (device, replaced) = register(config, &json)?;
    println!(
        "{} device {} ({})",
        if replaced { "updated" } else { "registered" },
        device.key_id,
        platform_name(device.platform)
    );
    Ok(())
}

fn read_stdin() -> Outcome<Vec<u8>> {
    let mut buf = Vec::new();
    io::stdin().take(MAX_INPUT as u64 + 1).read_to_end(&mut buf).map_err(|e| format!("standard input: {e}"))?;
    if buf.len() > MAX_INPUT {
        return Err(Failure::Failed(format!("standard input is longer than {MAX_INPUT} bytes")));
    }
    Ok(buf)
}

fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Ios => "ios",
        Platform::Android => "android",
    }
}

/// The first characters of a push token, for logs.
fn short(token: &str) -> String {
    let head: String = token.chars().take(8).collect();
    format!("{head}...")
}

fn devices(config: &Config) -> Outcome {
    let store = Store::load(&config.store_path())?;
    if store.devices.is_empty() {
        println!("no devices registered");
    }
    for d in &store.devices {
        println!(
            "{}  {:<7}  {:<7}  token {}  registered at {}",
            d.key_id,
            platform_name(d.platform),
            d.versions(),
            short(&d.push_token),
            d.registered_at
        );
    }
    Ok(())
}

fn remove(config: &Config, rest: &[String]) -> Outcome {
    let [key_id] = rest else {
        return Err(Failure::Usage("remove takes one key id".into()));
    };
    let path = config.store_path();
    let mut store = Store::load(&path)?;
    let before = store.devices.len();
    store.devices.retain(|d| &d.key_id != key_id);
    if store.devices.len() == before {
        return Err(Failure::Failed(format!("no registered device has key id {key_id}")));
    }
    store.save(&path)?;
    println!("removed device {key_id}");
    Ok(())
}

// ---------------------------------------------------------------------------
// The registration server

fn serve(config: &Config, rest: &[String]) -> Outcome {
    let mut listen = "127.0.0.1:8787".to_owned();
    let mut max_requests: Option<u64> = None;
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--listen" => listen = value(&mut it, "--listen")?.to_owned(),
            "--max-requests" => {
                max_requests = Some(
                    value(&mut it, "--max-requests")?
                        .parse()
                        .map_err(|_| Failure::Usage("--max-requests takes a number".into()))?,
                );
            }
            other => return Err(Failure::Usage(format!("unexpected argument {other:?}"))),
        }
    }
    config.ensure_dir()?;
    let sender = load_sender(config)?;
    note_without_signing_key(&sender);
    let listener = TcpListener::bind(&listen).map_err(|e| format!("listening on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| format!("listening on {listen}: {e}"))?;
    eprintln!("listening on http://{addr} (POST /registrations, GET /sender)");
    for (served, stream) in (1u64..).zip(listener.incoming()) {
        match stream {
            Ok(stream) => {
                if let Err(e) = handle(config, &sender, stream) {
                    eprintln!("connection: {e}");
                }
            }
            Err(e) => eprintln!("accept: {e}"),
        }
        if max_requests.is_some_and(|max| served >= max) {
            break;
        }
    }
    Ok(())
}

fn value<'a>(it: &mut std::slice::Iter<'a, String>, name: &str) -> Outcome<&'a str> {
    it.next().map(String::as_str).ok_or_else(|| Failure::Usage(format!("{name} needs a value")))
}

/// One HTTP/1.1 exchange, then the connection closes.
fn handle(config: &Config, sender: &Sender, stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let (status, body, log) = match read_request(&mut reader) {
        Ok(req) => route(config, sender, &req),
        Err(RequestError::TooLarge) => (413, error_json("request too large"), "request too large".to_owned()),
        Err(RequestError::Bad(why)) => (400, error_json(why), why.to_owned()),
        Err(RequestError::Io(e)) => return Err(e),
    };
    eprintln!("{status} {log}");
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        _ => "Internal Server Error",
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

enum RequestError {
    TooLarge,
    Bad(&'static str),
    Io(io::Error),
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Result<Request, RequestError> {
    let mut head_len = 0usize;
    let mut line = String::new();
    let mut read_line = |line: &mut String| -> Result<(), RequestError> {
        line.clear();
        let n = reader
            .by_ref()
            .take((MAX_HEAD - head_len.min(MAX_HEAD)) as u64 + 1)
            .read_line(line)
            .map_err(RequestError::Io)?;
        head_len += n;
        if head_len > MAX_HEAD {
            return Err(RequestError::TooLarge);
        }
        if n == 0 {
            return Err(RequestError::Bad("connection closed before the request ended"));
        }
        Ok(())
    };
    read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path, version) = match (parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(p), Some(v)) => (m.to_owned(), p.to_owned(), v),
        _ => return Err(RequestError::Bad("malformed request line")),
    };
    if !version.starts_with("HTTP/1.") {
        return Err(RequestError::Bad("HTTP/1.x expected"));
    }
    let mut content_length = 0usize;
    loop {
        read_line(&mut line)?;
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().map_err(|_| RequestError::Bad("bad content-length"))?;
        }
    }
    if content_length > MAX_INPUT {
        return Err(RequestError::TooLarge);
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body).map_err(RequestError::Io)?;
    Ok(Request { method, path, body })
}

fn route(config: &Config, sender: &Sender, req: &Request) -> (u16, String, String) {
    let line = format!("{} {}", req.method, req.path);
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/registrations") => match register(config, &req.body) {
            Ok((device, replaced)) => {
                let mut body = serde_json::Map::new();
                body.insert("registered".into(), device.key_id.clone().into());
                // The envelope version this sender seals to the device.
                let version = if device.registration.is_some() && sender.verifying_key().is_some() { 2 } else { 1 };
                body.insert("version".into(), version.into());
                sender_json(sender, &mut body);
                let what = if replaced { "updated" } else { "registered" };
                let log = format!(
                    "{line}: {what} {} ({}, {}, token {})",
                    device.key_id,
                    platform_name(device.platform),
                    device.versions(),
                    short(&device.push_token)
                );
                (200, serde_json::Value::Object(body).to_string(), log)
            }
            Err(why) => {
                let log = format!("{line}: {why}");
                (400, error_json(&why), log)
            }
        },
        ("GET", "/sender") => {
            let mut body = serde_json::Map::new();
            sender_json(sender, &mut body);
            (200, serde_json::Value::Object(body).to_string(), line)
        }
        (_, "/registrations" | "/sender") => (405, error_json("method not allowed"), line),
        _ => (404, error_json("not found"), line),
    }
}

fn error_json(why: &str) -> String {
    serde_json::json!({ "error": why }).to_string()
}

// ---------------------------------------------------------------------------
// Sealing and sending

/// One HTTP/2 request to a push gateway.
struct GatewayRequest {
    /// `:authority`.
    host: String,
    /// `:path`.
    path: String,
    /// Headers after the pseudo-headers, authorization excluded.
    headers: Vec<(String, String)>,
    /// The JSON body.
    body: String,
    /// The authorization scheme and the environment variable holding its credential.
    auth: (&'static str, &'static str),
}

impl GatewayRequest {
    /// The request as HTTP/2 header fields and body, the credential left as
    /// its environment variable.
    fn to_http2_text(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, ":method: POST");
        let _ = writeln!(text, ":scheme: https");
        let _ = writeln!(text, ":authority: {}", self.host);
        let _ = writeln!(text, ":path: {}", self.path);
        let _ = writeln!(text, "authorization: {} ${{{}}}", self.auth.0, self.auth.1);
        for (name, value) in &self.headers {
            let _ = writeln!(text, "{name}: {value}");
        }
        let _ = writeln!(text, "content-length: {}", self.body.len());
        let _ = writeln!(text);
        text.push_str(&self.body);
        text.push('\n');
        text
    }

    /// A `curl` command line that sends the request, reading the credential
    /// from the environment when the shell runs it.
    fn curl_command(&self, body_file: &Path) -> String {
        // Double quotes, so that a `${FCM_PROJECT_ID}` placeholder in the path
        // expands; the host and the path hold only checked characters.
        let mut cmd = format!("curl --http2 -sS -X POST \"https://{}{}\"", self.host, self.path);
        let _ = write!(cmd, " \\\n    -H \"authorization: {} ${}\"", self.auth.0, self.auth.1);
        for (name, value) in &self.headers {
            let _ = write!(cmd, " \\\n    -H {}", shell_quote(&format!("{name}: {value}")));
        }
        let _ = write!(cmd, " \\\n    --data-binary @{}", shell_quote(&body_file.display().to_string()));
        cmd
    }

    /// A curl configuration (read from standard input, so the credential is
    /// in no command line and no file) that sends the request.
    fn curl_config(&self, credential: &str, body_file: &Path, response_file: &Path) -> Zeroizing<String> {
        let mut cfg = Zeroizing::new(String::new());
        let _ = writeln!(cfg, "url = {}", curl_quote(&format!("https://{}{}", self.host, self.path)));
        let _ = writeln!(cfg, "http2\nsilent\nshow-error\nrequest = \"POST\"");
        let _ = writeln!(cfg, "header = {}", curl_quote(&format!("authorization: {} {credential}", self.auth.0)));
        for (name, value) in &self.headers {
            let _ = writeln!(cfg, "header = {}", curl_quote(&format!("{name}: {value}")));
        }
        let _ = writeln!(cfg, "data-binary = {}", curl_quote(&format!("@{}", body_file.display())));
        let _ = writeln!(cfg, "output = {}", curl_quote(&response_file.display().to_string()));
        let _ = writeln!(cfg, "write-out = \"%{{http_code}}\"");
        cfg
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn curl_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A credential from `$NAME`, or from the file named by `$NAME_FILE`.
fn credential(name: &str) -> Outcome<Option<Zeroizing<String>>> {
    if let Some(v) = std::env::var_os(name) {
        let v = Zeroizing::new(v.into_string().map_err(|_| format!("{name} is not UTF-8"))?);
        return Ok(Some(Zeroizing::new(v.trim().to_owned())));
    }
    let file_var = format!("{name}_FILE");
    match std::env::var_os(&file_var) {
        Some(path) => {
            let text = Zeroizing::new(fs::read_to_string(&path).map_err(|e| format!("{file_var}: {e}"))?);
            Ok(Some(Zeroizing::new(text.trim().to_owned())))
        }
        None => Ok(None),
    }
}

fn send(config: &Config, rest: &[String]) -> Outcome {
    let mut to: Vec<String> = Vec::new();
    let mut ttl: Option<u64> = None;
    let mut really_send = false;
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--to" => to.push(value(&mut it, "--to")?.to_owned()),
            "--ttl" => {
                ttl = Some(value(&mut it, "--ttl")?.parse().map_err(|_| Failure::Usage("--ttl takes seconds".into()))?);
            }
            "--send" => really_send = true,
            other => return Err(Failure::Usage(format!("unexpected argument {other:?}"))),
        }
    }
    if to.is_empty() {
        return Err(Failure::Usage("send needs --to KEY_ID or --to all".into()));
    }
    let sender = load_sender(config)?;
    note_without_signing_key(&sender);
    let store = Store::load(&config.store_path())?;
    let targets: Vec<&Device> = if to.iter().any(|t| t == "all") {
        store.devices.iter().collect()
    } else {
        let mut picked = Vec::new();
        for id in &to {
            let device = store
                .devices
                .iter()
                .find(|d| &d.key_id == id)
                .ok_or_else(|| format!("no registered device has key id {id}"))?;
            picked.push(device);
        }
        picked
    };
    if targets.is_empty() {
        return Err(Failure::Failed("no devices registered".into()));
    }

    let input = Zeroizing::new(read_stdin()?);
    let mut message: Message = serde_json::from_slice(&input)
        .map_err(|_| "standard input is not a message: {\"title\",\"body\",\"data\"?,\"thread_id\"?,\"category\"?,\"badge\"?,\"sound\"?}".to_owned())?;
    if let Some(ttl) = ttl {
        message = message.with_ttl(ttl);
    }

    let out_dir = config.out_dir();
    fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let mut failures = 0usize;
    for device in targets {
        match seal_for(&sender, device, &message) {
            Ok((sealed, suffix)) => {
                if let Err(e) = deliver(config, device, &sealed, suffix, really_send) {
                    eprintln!("error: device {}: {}", device.key_id, failure_text(e));
                    failures += 1;
                }
            }
            Err(e) => {
                eprintln!("error: device {}: {}", device.key_id, failure_text(e));
                failures += 1;
            }
        }
    }
    if failures > 0 {
        return Err(Failure::Failed(format!("{failures} device(s) failed")));
    }
    Ok(())
}

/// Seals `message` for one device: the sealed notification, as the request
/// to its gateway, and the suffix of its files' names.
fn seal_for(sender: &Sender, device: &Device, message: &Message) -> Outcome<(Sealed<GatewayRequest>, &'static str)> {
    let to = device.to()?;
    match device.platform {
        Platform::Ios => {
            let topic = std::env::var("APNS_TOPIC").ok().or_else(|| device.app_id.clone());
            if topic.as_ref().is_some_and(|t| !is_name(t, b"._-")) {
                return Err(Failure::Failed("APNS_TOPIC is not a bundle id".into()));
            }
            let options = ApnsOptions { topic: topic.clone(), ..ApnsOptions::default() };
            let sealed = sender.seal_for_apns(&to, message, &options)?;
            let host = std::env::var("APNS_HOST")
                .unwrap_or_else(|_| device.apns_environment.unwrap_or(ApnsEnvironment::Production).host().to_owned());
            if !is_name(&host, b".-:") {
                return Err(Failure::Failed("APNS_HOST is not a host name".into()));
            }
            if topic.is_none() {
                eprintln!("note: device {}: no apns-topic (set APNS_TOPIC to the app's bundle id)", device.key_id);
            }
            let path = format!("/3/device/{}", device.push_token);
            Ok((
                sealed.map_payload(|ApnsRequest { mut headers, body }| {
                    headers.push(("content-type".into(), "application/json".into()));
                    GatewayRequest { host, path, headers, body, auth: ("bearer", "APNS_AUTH_TOKEN") }
                }),
                "apns",
            ))
        }
        Platform::Android => {
            let sealed = sender.seal_for_fcm(&to, message, &FcmOptions::with_token(device.push_token.clone()))?;
            let project = match std::env::var("FCM_PROJECT_ID") {
                Ok(id) if is_name(&id, b"-") => id,
                Ok(_) => return Err(Failure::Failed("FCM_PROJECT_ID is not a project id".into())),
                Err(_) => "${FCM_PROJECT_ID}".to_owned(),
            };
            Ok((
                sealed.map_payload(|fcm| GatewayRequest {
                    host: "fcm.googleapis.com".into(),
                    path: format!("/v1/projects/{project}/messages:send"),
                    headers: vec![("content-type".into(), "application/json; charset=UTF-8".into())],
                    body: fcm.request_body(),
                    auth: ("Bearer", "FCM_ACCESS_TOKEN"),
                }),
                "fcm",
            ))
        }
    }
}

/// Writes the request's files, prints how to send it, and sends it if asked and configured.
fn deliver(
    config: &Config,
    device: &Device,
    sealed: &Sealed<GatewayRequest>,
    suffix: &str,
    really_send: bool,
) -> Outcome {
    let request = &sealed.payload;
    let out_dir = config.out_dir();
    let body_file = out_dir.join(format!("{}-{suffix}.json", device.key_id));
    let http_file = out_dir.join(format!("{}-{suffix}.http", device.key_id));
    fs::write(&body_file, &request.body).map_err(|e| format!("{}: {e}", body_file.display()))?;
    fs::write(&http_file, request.to_http2_text()).map_err(|e| format!("{}: {e}", http_file.display()))?;
    println!(
        "device {} ({}): message {}, expires at {}, envelope version {}, {} bytes",
        device.key_id,
        platform_name(device.platform),
        sealed.message_id,
        sealed.expires_at,
        sealed.version(),
        sealed.envelope.len()
    );
    println!("  body:    {} ({} bytes)", body_file.display(), request.body.len());
    println!("  request: {}", http_file.display());
    println!("  send:    {}", request.curl_command(&body_file));

    if !really_send {
        return Ok(());
    }
    let credential = credential(request.auth.1)?;
    let Some(credential) = credential else {
        println!("  not sent: set {0} or {0}_FILE", request.auth.1);
        return Ok(());
    };
    if device.platform == Platform::Android && std::env::var_os("FCM_PROJECT_ID").is_none() {
        println!("  not sent: set FCM_PROJECT_ID");
        return Ok(());
    }
    let response_file = out_dir.join(format!("{}-{suffix}.response.json", device.key_id));
    let status = curl(&request.curl_config(&credential, &body_file, &response_file))?;
    match (status.as_str(), device.platform) {
        ("200", _) => println!("  sent: HTTP 200"),
        ("410", Platform::Ios) | ("404", Platform::Android) => println!(
            "  not delivered: HTTP {status}, the token is no longer valid; remove the device \
             (response in {})",
            response_file.display()
        ),
        _ => println!("  not delivered: HTTP {status} (response in {})", response_file.display()),
    }
    Ok(())
}

/// Runs curl with its configuration on standard input; returns the HTTP status.
fn curl(config: &str) -> Outcome<String> {
    let mut child = Command::new("curl")
        .args(["--config", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running curl: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(config.as_bytes()).map_err(|e| format!("writing to curl: {e}"))?;
    }
    let output = child.wait_with_output().map_err(|e| format!("running curl: {e}"))?;
    let status = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(Failure::Failed(format!("curl failed: {}", err.trim())));
    }
    Ok(status)
}
