//! The sample sender: the server side of `ios-sample/` and `android-sample/`.
//!
//! It holds a sender key and a version 2 signing key, accepts device
//! registrations (registration text or version 1 public key, platform, push
//! token) into a small JSON store, seals a notification to each device
//! (version 2, post-quantum, to a device that registered a version 2 key,
//! version 1 to an older app) and delivers it through `pushseal-delivery`:
//! to the local test gateways (`pushseal gateway apns|fcm`) unless told to
//! send to Apple's and Google's servers. It prints one JSON line per device,
//! and forgets a device whose push token the gateway says is gone.
//!
//! ```text
//! cargo run -p pushseal-sender-sample -- init
//! cargo run -p pushseal-sender-sample -- serve --listen 127.0.0.1:8787
//! cargo run -p pushseal-sender-sample -- register registration.json
//! cargo run -p pushseal-sender-sample -- devices
//! cargo run -p pushseal-sender-sample -- send --to all < message.json
//! cargo run -p pushseal-sender-sample -- remove <device key id>
//! ```
//!
//! Secrets never live in code. The sender key is read from
//! `$PUSHSEAL_SENDER_SECRET_KEY` (its secret text) or from the file
//! `$PUSHSEAL_SENDER_KEY_FILE` (default `<state dir>/sender.key`, created by
//! `init` with mode 0600); the version 2 signing key from
//! `$PUSHSEAL_SENDER_SECRET_KEY_V2` or the file `$PUSHSEAL_SENDER_KEY_V2_FILE`
//! (default `<state dir>/sender-v2.key`, created by `init` the same way). The
//! gateway credentials are files: the team's `.p8` key (`$APNS_KEY_FILE`,
//! with `$APNS_KEY_ID`, `$APNS_TEAM_ID` and `$APNS_TOPIC`) and the service
//! account's JSON key (`$FCM_SERVICE_ACCOUNT_FILE`). `$APNS_GATEWAY` and
//! `$FCM_GATEWAY` say where to send: a test gateway's `https://HOST:PORT`
//! (default `https://127.0.0.1:8443` and `:8444`, trusted through the CA
//! file in `$APNS_GATEWAY_CA` and `$FCM_GATEWAY_CA`), or `apple` and
//! `google`. The state directory is `$PUSHSEAL_SAMPLE_DIR` (default
//! `./sample-sender`). See `sender-sample/README.md`.
//!
//! The message text is read from standard input and never printed or written
//! anywhere but into the sealed envelope.

use std::fs;
use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use pushseal::{
    ApnsOptions, BatchDevice, FcmOptions, Message, Registration, Sender, SenderSecretKey, SenderSigningKey, unix_now,
};
use pushseal_delivery::apns::{ApnsClient, ApnsEndpoint};
use pushseal_delivery::fcm::{FcmClient, FcmEndpoint};
use pushseal_delivery::{
    ApnsKey, ConfigError, DEFAULT_MAX_IN_FLIGHT, Outcome, Report, ServiceAccount, Trust, seal_and_deliver,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
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
usage: pushseal-sender-sample <command> [options]

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
  send --to KEY_ID|all [--to ...] [--ttl SECONDS]
                            seal the message on standard input ({\"title\",\"body\",\"data\"?,
                            \"thread_id\"?,\"category\"?,\"badge\"?,\"sound\"?}) for each device and
                            deliver it through APNs or FCM; print one JSON line per device;
                            remove the devices whose push token is gone

environment:
  PUSHSEAL_SAMPLE_DIR       state directory (default ./sample-sender)
  PUSHSEAL_SENDER_SECRET_KEY, PUSHSEAL_SENDER_KEY_FILE
                            the sender key (default <state dir>/sender.key)
  PUSHSEAL_SENDER_SECRET_KEY_V2, PUSHSEAL_SENDER_KEY_V2_FILE
                            the version 2 signing key (default <state dir>/sender-v2.key)
  APNS_KEY_FILE, APNS_KEY_ID, APNS_TEAM_ID
                            the team's .p8 token signing key, its key id, the team id
  APNS_TOPIC                the apns-topic (default: each registration's app_id)
  APNS_GATEWAY, APNS_GATEWAY_CA
                            a test gateway's https://HOST:PORT (default https://127.0.0.1:8443)
                            and its CA file (default <state dir>/apns-gateway-ca.pem), or
                            APNS_GATEWAY=apple for Apple's servers (each device's environment)
  FCM_SERVICE_ACCOUNT_FILE  the service account's JSON key file
  FCM_GATEWAY, FCM_GATEWAY_CA
                            a test gateway's https://HOST:PORT (default https://127.0.0.1:8444)
                            and its CA file (default <state dir>/fcm-gateway-ca.pem), or
                            FCM_GATEWAY=google for Google's servers";

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

type Done<T = ()> = Result<T, Failure>;

fn run(args: &[String]) -> Done {
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

fn no_options(rest: &[String]) -> Done {
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

    fn ensure_dir(&self) -> Done {
        fs::create_dir_all(&self.dir).map_err(|e| Failure::Failed(format!("{}: {e}", self.dir.display())))
    }
}

// ---------------------------------------------------------------------------
// The sender key

/// The sender, from `$PUSHSEAL_SENDER_SECRET_KEY` or the key file, with its
/// version 2 signing key from `$PUSHSEAL_SENDER_SECRET_KEY_V2` or its key file
/// when there is one (without, it seals version 1 only, as before version 2).
fn load_sender(config: &Config) -> Done<Sender> {
    let key = match std::env::var_os("PUSHSEAL_SENDER_SECRET_KEY") {
        Some(text) => {
            let text =
                Zeroizing::new(text.into_string().map_err(|_| "PUSHSEAL_SENDER_SECRET_KEY is not UTF-8".to_owned())?);
            SenderSecretKey::from_secret_text(&text)
                .map_err(|e| format!("PUSHSEAL_SENDER_SECRET_KEY is not a PushSeal secret key: {e}"))?
        }
        None => {
            let path = config.key_path();
            let text = Zeroizing::new(fs::read_to_string(&path).map_err(|e| {
                format!("the sender key {}: {e} (run `pushseal-sender-sample init` first)", path.display())
            })?);
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
fn load_signing_key(config: &Config) -> Done<Option<SenderSigningKey>> {
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
            "note: no version 2 sender key (run `pushseal-sender-sample init` to create it): \
             sealing version 1 only"
        );
    }
}

fn init(config: &Config) -> Done {
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
fn write_new_secret_file(path: &Path, bytes: &[u8]) -> Done {
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
    /// What is sealed to: the registration text, or the version 1 key
    /// alone (an app made before version 2).
    fn key_text(&self) -> &str {
        self.registration.as_deref().unwrap_or(&self.public_key)
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
    fn load(path: &Path) -> Done<Self> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Failure::Failed(format!("{}: not a registration store: {e}", path.display()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Failure::Failed(format!("{}: {e}", path.display()))),
        }
    }

    fn save(&self, path: &Path) -> Done {
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

fn register_command(config: &Config, rest: &[String]) -> Done {
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

fn read_stdin() -> Done<Vec<u8>> {
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

fn devices(config: &Config) -> Done {
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

fn remove(config: &Config, rest: &[String]) -> Done {
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

fn serve(config: &Config, rest: &[String]) -> Done {
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

fn value<'a>(it: &mut std::slice::Iter<'a, String>, name: &str) -> Done<&'a str> {
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
// Sealing and delivering

/// The default address of the local APNs test gateway
/// (`pushseal gateway apns --port 8443`).
const DEFAULT_APNS_GATEWAY: &str = "https://127.0.0.1:8443";
/// The default address of the local FCM test gateway
/// (`pushseal gateway fcm --port 8444`).
const DEFAULT_FCM_GATEWAY: &str = "https://127.0.0.1:8444";

/// Where one platform's notifications go.
enum Target {
    /// A local test gateway (`pushseal gateway`), trusted through the CA
    /// certificate it wrote: the default.
    Gateway { host: String, port: u16, ca_file: PathBuf },
    /// Apple's or Google's own servers, verified against the public roots.
    Service,
}

impl Target {
    /// The target named by `$<var>`: a test gateway's `https://HOST:PORT`
    /// (default `default_url`, its CA certificate in `$<var>_CA`, default
    /// `<state dir>/<ca_name>`), or `service` for the platform's servers.
    fn from_env(config: &Config, var: &str, service: &str, default_url: &str, ca_name: &str) -> Done<Self> {
        let url = env_text(var)?.unwrap_or_else(|| default_url.to_owned());
        if url == service {
            return Ok(Target::Service);
        }
        let (host, port) = gateway_host_port(var, &url)?;
        let ca_var = format!("{var}_CA");
        let ca_file = env_text(&ca_var)?.map_or_else(|| config.dir.join(ca_name), PathBuf::from);
        if !ca_file.exists() {
            return Err(Failure::Failed(format!(
                "{} does not exist: start the test gateway with `pushseal gateway ... --ca-file` there \
                 (sender-sample/README.md) or name its CA file in {ca_var}, or set {var}={service} to send \
                 to the platform's servers",
                ca_file.display()
            )));
        }
        Ok(Target::Gateway { host, port, ca_file })
    }

    fn trust(&self) -> Trust {
        match self {
            Target::Gateway { ca_file, .. } => Trust::CaFile(ca_file.clone()),
            Target::Service => Trust::PublicRoots,
        }
    }
}

/// The host and port of a test gateway's `https://HOST:PORT`, as `pushseal gateway` prints it.
fn gateway_host_port(var: &str, url: &str) -> Done<(String, u16)> {
    let bad = |why: &str| Failure::Failed(format!("{var} {url:?}: {why}"));
    let rest = url.strip_prefix("https://").ok_or_else(|| bad("a test gateway's address starts with https://"))?;
    let (host, port) = rest.trim_end_matches('/').rsplit_once(':').ok_or_else(|| bad("give https://HOST:PORT"))?;
    let port = port.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| bad("the port is not 1 to 65535"))?;
    if host.is_empty() || !is_name(host, b".-") {
        return Err(bad("the host is not a host name or IPv4 address"));
    }
    Ok((host.to_owned(), port))
}

/// `$name`, if set.
fn env_text(name: &str) -> Done<Option<String>> {
    match std::env::var(name) {
        Ok(text) => Ok(Some(text)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Failure::Failed(format!("{name} is not UTF-8"))),
    }
}

/// `$name`, which sending to iOS devices needs.
fn required_env(name: &str, what: &str) -> Done<String> {
    env_text(name)?
        .filter(|text| !text.is_empty())
        .ok_or_else(|| Failure::Failed(format!("set {name} ({what}) to send to iOS devices")))
}

/// APNs: the team's `.p8` token signing key and where to send.
struct ApnsSetup {
    key_file: PathBuf,
    key_id: String,
    team_id: String,
    /// `$APNS_TOPIC`: the `apns-topic` for every device, else each device's `app_id`.
    topic: Option<String>,
    target: Target,
}

impl ApnsSetup {
    fn from_env(config: &Config) -> Done<Self> {
        let topic = env_text("APNS_TOPIC")?.filter(|t| !t.is_empty());
        if topic.as_ref().is_some_and(|t| !is_name(t, b"._-")) {
            return Err(Failure::Failed("APNS_TOPIC is not a bundle id".into()));
        }
        Ok(Self {
            key_file: PathBuf::from(required_env("APNS_KEY_FILE", "the team's .p8 key file")?),
            key_id: required_env("APNS_KEY_ID", "the .p8 key's id")?,
            team_id: required_env("APNS_TEAM_ID", "the team id")?,
            topic,
            target: Target::from_env(config, "APNS_GATEWAY", "apple", DEFAULT_APNS_GATEWAY, "apns-gateway-ca.pem")?,
        })
    }

    /// Where `device`'s notifications go: the test gateway, or Apple's host
    /// for the environment its app was built for (a development token is
    /// not known to the production host, which would answer that it is gone).
    fn endpoint(&self, device: &Device) -> ApnsEndpoint {
        match (&self.target, device.apns_environment) {
            (Target::Gateway { host, port, .. }, _) => ApnsEndpoint::Host { host: host.clone(), port: *port },
            (Target::Service, Some(ApnsEnvironment::Development)) => ApnsEndpoint::Sandbox,
            (Target::Service, _) => ApnsEndpoint::Production,
        }
    }

    /// The `apns-topic` of `device`'s notifications.
    fn topic(&self, device: &Device) -> Done<String> {
        self.topic.clone().or_else(|| device.app_id.clone()).ok_or_else(|| {
            Failure::Failed(format!(
                "device {} registered no app_id: set APNS_TOPIC to the app's bundle id",
                device.key_id
            ))
        })
    }

    fn client(&self, endpoint: ApnsEndpoint) -> Done<ApnsClient> {
        let key = ApnsKey::from_p8_file(&self.key_file, &self.key_id, &self.team_id).map_err(config_failure)?;
        ApnsClient::builder(key).endpoint(endpoint).trust(self.target.trust()).build().map_err(config_failure)
    }
}

/// FCM: the service account's key file and where to send.
struct FcmSetup {
    account_file: PathBuf,
    target: Target,
}

impl FcmSetup {
    fn from_env(config: &Config) -> Done<Self> {
        let account_file = env_text("FCM_SERVICE_ACCOUNT_FILE")?.filter(|p| !p.is_empty()).ok_or_else(|| {
            Failure::Failed(
                "set FCM_SERVICE_ACCOUNT_FILE (the service account's JSON key file) to send to Android devices".into(),
            )
        })?;
        Ok(Self {
            account_file: PathBuf::from(account_file),
            target: Target::from_env(config, "FCM_GATEWAY", "google", DEFAULT_FCM_GATEWAY, "fcm-gateway-ca.pem")?,
        })
    }

    fn client(&self) -> Done<FcmClient> {
        let account = ServiceAccount::from_file(&self.account_file).map_err(config_failure)?;
        let endpoint = match &self.target {
            Target::Gateway { host, port, .. } => FcmEndpoint::Host { host: host.clone(), port: *port },
            Target::Service => FcmEndpoint::Google,
        };
        FcmClient::builder(account).endpoint(endpoint).trust(self.target.trust()).build().map_err(config_failure)
    }
}

/// A configuration error: it names the key id, team or service account, never a secret.
fn config_failure(e: ConfigError) -> Failure {
    Failure::Failed(e.to_string())
}

/// The iOS devices of one send, by where they go and their `apns-topic`.
struct ApnsGroup<'a> {
    endpoint: ApnsEndpoint,
    topic: String,
    devices: Vec<&'a Device>,
}

fn apns_groups<'a>(setup: &ApnsSetup, devices: &[&'a Device]) -> Done<Vec<ApnsGroup<'a>>> {
    let mut groups: Vec<ApnsGroup<'a>> = Vec::new();
    for &device in devices {
        let (endpoint, topic) = (setup.endpoint(device), setup.topic(device)?);
        match groups.iter_mut().find(|g| g.endpoint == endpoint && g.topic == topic) {
            Some(group) => group.devices.push(device),
            None => groups.push(ApnsGroup { endpoint, topic, devices: vec![device] }),
        }
    }
    Ok(groups)
}

/// What a send came to.
#[derive(Default)]
struct Tally {
    /// Devices whose message the gateway took.
    delivered: usize,
    /// Devices whose message was not delivered, for another reason than a gone token.
    undelivered: usize,
    /// The platform and push token of each device whose token is gone.
    gone: Vec<(Platform, String)>,
}

impl Tally {
    /// Prints the line of one device's report, and keeps its token if it is gone.
    fn report(&mut self, devices: &[&Device], report: &Report) {
        let device = devices.get(report.index);
        let to = device.map(|d| d.key_id.clone()).or_else(|| report.recipient.map(|id| id.to_string()));
        let mut line = json!({
            "to": to,
            "platform": device.map(|d| platform_name(d.platform)),
            "message_id": report.message_id.map(|id| id.to_string()),
        });
        let mut fields = match &report.result {
            Err(e) => json!({ "outcome": "not_sealed", "reason": e.to_string() }),
            Ok(outcome) => outcome.to_json(),
        };
        // A real sender must stop pushing to a token that is gone: the
        // device is removed from the store once the run ends.
        if let (Ok(Outcome::TokenGone { .. }), Value::Object(fields)) = (&report.result, &mut fields) {
            fields.insert("removed".into(), Value::Bool(true));
        }
        match &report.result {
            Ok(Outcome::Delivered { .. }) => self.delivered += 1,
            Ok(Outcome::TokenGone { .. }) => match device {
                Some(d) => self.gone.push((d.platform, d.push_token.clone())),
                None => self.undelivered += 1,
            },
            _ => self.undelivered += 1,
        }
        if let (Value::Object(line), Value::Object(fields)) = (&mut line, fields) {
            line.extend(fields);
        }
        println!("{line}");
    }

    /// Removes the devices whose token is gone from the store (unless they
    /// registered a new token meanwhile).
    fn remove_gone(&self, config: &Config) -> Done {
        if self.gone.is_empty() {
            return Ok(());
        }
        let path = config.store_path();
        let mut store = Store::load(&path)?;
        let before = store.devices.len();
        store
            .devices
            .retain(|d| !self.gone.iter().any(|(platform, token)| d.platform == *platform && &d.push_token == token));
        store.save(&path)?;
        eprintln!("removed {} device(s) whose push token is gone", before - store.devices.len());
        Ok(())
    }
}

/// The devices of a batch, each by its registration text (or version 1
/// key) and push token.
fn batch(devices: &[&Device]) -> Vec<BatchDevice> {
    devices.iter().map(|d| BatchDevice::parse(d.key_text()).with_token(&d.push_token)).collect()
}

fn send(config: &Config, rest: &[String]) -> Done {
    let mut to: Vec<String> = Vec::new();
    let mut ttl: Option<u64> = None;
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--to" => to.push(value(&mut it, "--to")?.to_owned()),
            "--ttl" => {
                ttl = Some(value(&mut it, "--ttl")?.parse().map_err(|_| Failure::Usage("--ttl takes seconds".into()))?);
            }
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
    let (ios, android): (Vec<&Device>, Vec<&Device>) = targets.iter().partition(|d| d.platform == Platform::Ios);

    let input = Zeroizing::new(read_stdin()?);
    let mut message: Message = serde_json::from_slice(&input)
        .map_err(|_| "standard input is not a message: {\"title\",\"body\",\"data\"?,\"thread_id\"?,\"category\"?,\"badge\"?,\"sound\"?}".to_owned())?;
    if let Some(ttl) = ttl {
        message = message.with_ttl(ttl);
    }

    // Everything is checked before anything is sent.
    let apns = if ios.is_empty() { None } else { Some(ApnsSetup::from_env(config)?) };
    let apns_groups = match &apns {
        Some(setup) => apns_groups(setup, &ios)?,
        None => Vec::new(),
    };
    let fcm = if android.is_empty() { None } else { Some(FcmSetup::from_env(config)?) };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let sender = Arc::new(sender);
    let mut tally = Tally::default();
    let sent = runtime.block_on(async {
        if let Some(setup) = &apns {
            for group in &apns_groups {
                let client = setup.client(group.endpoint.clone())?;
                let options = ApnsOptions { topic: Some(group.topic.clone()), ..ApnsOptions::default() };
                let done = seal_and_deliver(
                    &client,
                    Arc::clone(&sender),
                    message.clone(),
                    options,
                    batch(&group.devices),
                    DEFAULT_MAX_IN_FLIGHT,
                    |report| tally.report(&group.devices, &report),
                )
                .await;
                client.shutdown().await;
                done.map_err(config_failure)?;
            }
        }
        if let Some(setup) = &fcm {
            let client = setup.client()?;
            let done = seal_and_deliver(
                &client,
                Arc::clone(&sender),
                message.clone(),
                FcmOptions::default(),
                batch(&android),
                DEFAULT_MAX_IN_FLIGHT,
                |report| tally.report(&android, &report),
            )
            .await;
            client.shutdown().await;
            done.map_err(config_failure)?;
        }
        Ok::<(), Failure>(())
    });
    // Gone tokens are removed even when a configuration error stopped the run.
    tally.remove_gone(config)?;
    sent?;
    eprintln!(
        "{} delivered, {} token gone (removed), {} not delivered",
        tally.delivered,
        tally.gone.len(),
        tally.undelivered
    );
    Ok(())
}
