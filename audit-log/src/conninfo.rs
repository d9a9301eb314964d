//! What a PostgreSQL connection string says that the client crate does not
//! read itself, read as libpq reads it: TLS (`sslmode`, `sslrootcert`) and
//! where the password comes from (`PGPASSWORD`, `passfile`, `PGPASSFILE`,
//! `~/.pgpass`). [`ConnInfo::parse`] takes these settings out of the string
//! and hands the rest to [`postgres::Config`].
//!
//! TLS is rustls with its `ring` provider, the stack and provider that
//! `pushseal-delivery` already uses; the adapter to the client is
//! `tokio-postgres-rustls` (README.md says why).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use postgres::Config;
use postgres::config::{Host, SslMode};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_postgres_rustls::MakeRustlsConnect;

use pushseal::{Error, Result};

/// The longest password file read (a `.pgpass` is a few lines).
const MAX_PASSFILE_LEN: u64 = 64 * 1024;

/// How a connection is protected: libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsMode {
    /// `disable`: no TLS.
    Disable,
    /// `prefer` (the default, as in libpq): TLS if the server offers it,
    /// else in the clear; the certificate checked as for `require`.
    Prefer,
    /// `require`: TLS or no connection. Without `sslrootcert` the server's
    /// certificate is not checked (encrypted, not authenticated, as in
    /// libpq); with it, as for `verify-ca`.
    Require,
    /// `verify-ca`: TLS, the certificate chained to `sslrootcert`.
    VerifyCa,
    /// `verify-full`: TLS, the certificate chained to `sslrootcert` and
    /// naming the host connected to.
    VerifyFull,
}

impl TlsMode {
    fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => return None,
        })
    }
}

/// A connection string read: the client's settings (the password filled
/// in from its other sources) and the TLS connector.
pub(crate) struct ConnInfo {
    pub(crate) config: Config,
    pub(crate) tls: MakeRustlsConnect,
}

/// The settings taken out of the string before the client parses it.
#[derive(Default)]
struct Taken {
    sslmode: Option<String>,
    sslrootcert: Option<String>,
    passfile: Option<String>,
}

impl Taken {
    /// Keeps `value` if `key` is one of these settings; `false` if it is not.
    fn take(&mut self, key: &str, value: String) -> bool {
        let slot = match key {
            "sslmode" => &mut self.sslmode,
            "sslrootcert" => &mut self.sslrootcert,
            "passfile" => &mut self.passfile,
            _ => return false,
        };
        *slot = Some(value);
        true
    }
}

/// Where the password and the root certificates are looked for when the
/// string does not say: the process's environment, as libpq reads it.
pub(crate) struct Environment {
    pub(crate) pgpassword: Option<String>,
    pub(crate) pgpassfile: Option<PathBuf>,
    pub(crate) home: Option<PathBuf>,
}

impl Environment {
    pub(crate) fn of_process() -> Self {
        Self {
            pgpassword: std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()),
            pgpassfile: std::env::var_os("PGPASSFILE").filter(|p| !p.is_empty()).map(PathBuf::from),
            home: std::env::var_os("HOME").filter(|p| !p.is_empty()).map(PathBuf::from),
        }
    }
}

impl ConnInfo {
    /// Reads `url` (`postgres://…` or `key=value …`). `describe` names the
    /// database in messages (never with its password).
    pub(crate) fn parse(url: &str, env: &Environment, describe: impl Fn(&Config) -> String) -> Result<Self> {
        let (rest, taken) = split(url);
        let mut config: Config = rest.parse().map_err(|e: postgres::Error| {
            // The parser's reason names an option or one character, never a value.
            let why = std::error::Error::source(&e).map(|s| format!(" ({s})")).unwrap_or_default();
            Error::Storage(format!(
                "audit database: not a PostgreSQL connection string{why}; give postgres://USER@HOST:PORT/DATABASE \
                 (or host=… dbname=…), with sslmode, sslrootcert and passfile as libpq reads them"
            ))
        })?;
        let name = describe(&config);
        let mode = match taken.sslmode.as_deref() {
            None => TlsMode::Prefer,
            Some(value) => TlsMode::parse(value).ok_or_else(|| {
                Error::Storage(format!(
                    "audit database {name}: sslmode={value} is not one of disable, prefer, require, verify-ca, \
                     verify-full (verify-full, with sslrootcert=FILE, for a database across a network)"
                ))
            })?,
        };
        config.ssl_mode(match mode {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull => SslMode::Require,
        });
        let roots = match (&taken.sslrootcert, mode) {
            (_, TlsMode::Disable) => None,
            (Some(file), _) => Some(read_roots(Path::new(file), &name)?),
            // libpq's default place, read when verification is asked for.
            (None, TlsMode::VerifyCa | TlsMode::VerifyFull) => {
                let default = env.home.as_ref().map(|h| h.join(".postgresql/root.crt"));
                match default.filter(|p| p.is_file()) {
                    Some(file) => Some(read_roots(&file, &name)?),
                    None => {
                        return Err(Error::Storage(format!(
                            "audit database {name}: sslmode=verify-full and verify-ca check the server's \
                             certificate against a CA: give sslrootcert=FILE (the CA certificate, PEM, that signed \
                             the server's)"
                        )));
                    }
                }
            }
            (None, _) => None,
        };
        let tls = MakeRustlsConnect::new(client_config(mode, roots, &name)?);
        if config.get_password().is_none() {
            if let Some(password) = &env.pgpassword {
                config.password(password.as_bytes());
            } else {
                let file = taken
                    .passfile
                    .map(PathBuf::from)
                    .or_else(|| env.pgpassfile.clone())
                    .or_else(|| env.home.as_ref().map(|h| h.join(".pgpass")));
                if let Some(password) = file.map(|f| password_from_file(&f, &config, &name)).transpose()?.flatten() {
                    config.password(password.as_bytes());
                }
            }
        }
        Ok(Self { config, tls })
    }
}

/// Splits the settings this module reads out of a connection string; the
/// rest is handed to the client's parser as it was. A string this cannot
/// read is handed over whole (the client's parser then says what is wrong).
fn split(url: &str) -> (String, Taken) {
    let mut taken = Taken::default();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else { return (url.to_owned(), taken) };
        let mut kept = Vec::new();
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = percent_decode(key).zip(percent_decode(value));
            if !decoded.is_some_and(|(key, value)| taken.take(&key, value)) {
                kept.push(pair);
            }
        }
        let rest = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
        return (rest, taken);
    }
    match split_key_values(url, &mut taken) {
        Some(rest) => (rest, taken),
        None => (url.to_owned(), Taken::default()),
    }
}

/// `key=value` pairs separated by spaces, a value either bare or in single
/// quotes, `\` escaping the next character (libpq's rules). `None` if the
/// string does not follow them.
fn split_key_values(s: &str, taken: &mut Taken) -> Option<String> {
    let mut rest = String::new();
    let mut chars = s.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else { return Some(rest) };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        chars.next_if(|(_, c)| *c == '=')?;
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '\'').is_some() {
            loop {
                match chars.next()?.1 {
                    '\'' => break,
                    '\\' => value.push(chars.next()?.1),
                    c => value.push(c),
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
                value.push(if c == '\\' { chars.next()?.1 } else { c });
            }
        }
        let end = chars.peek().map_or(s.len(), |(i, _)| *i);
        if !taken.take(&key, value) {
            rest.push_str(&s[start..end]);
            rest.push(' ');
        }
    }
}

/// `%XX` decoded; `None` if malformed or not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next()?, bytes.next()?];
            out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

/// The CA certificates of a PEM file.
fn read_roots(file: &Path, name: &str) -> Result<rustls::RootCertStore> {
    let fail = |why: String| {
        Error::Storage(format!(
            "audit database {name}: sslrootcert {}: {why}; give the CA certificate (PEM) that signed the server's",
            file.display()
        ))
    };
    let certs = CertificateDer::pem_file_iter(file)
        .and_then(|it| it.collect::<core::result::Result<Vec<_>, _>>())
        .map_err(|e| fail(format!("cannot be read as PEM certificates ({e})")))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| fail(format!("not a usable CA certificate ({e})")))?;
    }
    if roots.is_empty() {
        return Err(fail("holds no certificate".into()));
    }
    Ok(roots)
}

/// rustls with its `ring` provider, as `pushseal-delivery` uses it.
#[allow(deprecated)] // rustls marks `ring` deprecated for its lack of post-quantum key exchange
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(mode: TlsMode, roots: Option<rustls::RootCertStore>, name: &str) -> Result<rustls::ClientConfig> {
    let setup = |e: rustls::Error| Error::Storage(format!("audit database {name}: TLS cannot be set up: {e}"));
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(setup)?;
    let chain = match (roots, mode) {
        (Some(roots), TlsMode::VerifyFull) => return Ok(builder.with_root_certificates(roots).with_no_client_auth()),
        (Some(roots), _) => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| Error::Storage(format!("audit database {name}: TLS cannot be set up: {e}")))?,
        ),
        (None, _) => None,
    };
    let verifier = Arc::new(Lenient { chain, provider });
    Ok(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth())
}

/// The checks libpq makes below `verify-full`: with roots (`verify-ca`, and
/// `prefer` or `require` given `sslrootcert`), the certificate must chain to
/// one of them, whatever name it has; without (`prefer`, `require`), it is
/// not checked: the connection is encrypted, not authenticated, as
/// operators choose by writing `require` (the README says to use
/// `verify-full` across a network). The handshake's signatures are always
/// checked.
#[derive(Debug)]
struct Lenient {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> core::result::Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else { return Ok(ServerCertVerified::assertion()) };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> core::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> core::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// The password for `config` in a libpq password file
/// (`hostname:port:database:username:password` lines, `*` matching
/// anything, `\` escaping `:` and `\`), if the file exists and has one.
/// A file others can read is refused when it holds the password (libpq
/// ignores it with a warning; a refusal says what to fix).
fn password_from_file(file: &Path, config: &Config, name: &str) -> Result<Option<String>> {
    use std::io::Read as _;
    let Some(user) = config.get_user() else { return Ok(None) };
    let Ok(opened) = std::fs::File::open(file) else { return Ok(None) };
    let mut text = zeroize::Zeroizing::new(String::new());
    if opened.take(MAX_PASSFILE_LEN).read_to_string(&mut text).is_err() {
        return Ok(None);
    }
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        // libpq matches a socket connection as "localhost".
        Some(Host::Unix(_)) | None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432).to_string();
    let db = config.get_dbname().unwrap_or(user);
    let wanted = [host.as_str(), port.as_str(), db, user];
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let fields = passfile_fields(line);
        let [h, p, d, u, password] = fields.as_slice() else { continue };
        if [h, p, d, u].iter().zip(wanted).all(|(field, want)| field.as_str() == "*" || field.as_str() == want) {
            check_private(file, name)?;
            return Ok(Some(password.clone()));
        }
    }
    Ok(None)
}

/// A password file line's fields, split at unescaped `:`.
fn passfile_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().expect("one field at least").extend(chars.next()),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("one field at least").push(c),
        }
    }
    fields
}

#[cfg(unix)]
fn check_private(file: &Path, name: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(file).map(|m| m.permissions().mode()).unwrap_or(0);
    if mode & 0o077 != 0 {
        return Err(Error::Storage(format!(
            "audit database {name}: the password file {} can be read by others (mode {:o}); make it private \
             (chmod 0600) before its password is used",
            file.display(),
            mode & 0o777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_file: &Path, _name: &str) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(url: &str) -> (String, Option<String>, Option<String>, Option<String>) {
        let (rest, t) = split(url);
        (rest, t.sslmode, t.sslrootcert, t.passfile)
    }

    #[test]
    fn tls_and_passfile_settings_are_taken_out_of_both_forms() {
        let (rest, mode, root, pass) = taken(
            "postgres://u:pw@db.internal:5432/log?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem",
        );
        assert_eq!(rest, "postgres://u:pw@db.internal:5432/log?application_name=x");
        assert_eq!((mode.as_deref(), root.as_deref(), pass), (Some("verify-full"), Some("/etc/ca.pem"), None));
        let (rest, mode, ..) = taken("postgresql://u@h/db?sslmode=require");
        assert_eq!((rest.as_str(), mode.as_deref()), ("postgresql://u@h/db", Some("require")));

        let (rest, mode, root, pass) =
            taken("host=h user=u sslmode = verify-ca sslrootcert='/my ca\\'s.pem' dbname=log passfile=/p\\ q");
        assert_eq!(rest, "host=h user=u dbname=log ");
        assert_eq!(
            (mode.as_deref(), root.as_deref(), pass.as_deref()),
            (Some("verify-ca"), Some("/my ca's.pem"), Some("/p q"))
        );
        // What does not follow the rules goes to the client's parser whole.
        assert_eq!(taken("host='unterminated sslmode=disable").0, "host='unterminated sslmode=disable");
        assert_eq!(taken("not a url").0, "not a url");
    }

    #[test]
    fn password_file_lines_match_as_libpq_matches_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "# comment\nother:5432:*:u:no\ndb.internal:5432:log:u:p\\:w\\\\1\n*:*:*:*:fallback\n")
            .unwrap();
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let config = |s: &str| s.parse::<Config>().unwrap();
        let found = |s: &str| password_from_file(&file, &config(s), "db").unwrap();
        assert_eq!(found("postgres://u@db.internal/log").as_deref(), Some("p:w\\1"));
        assert_eq!(found("postgres://u@db.internal:5433/log").as_deref(), Some("fallback"));
        assert_eq!(password_from_file(&dir.path().join("none"), &config("postgres://u@h/d"), "db").unwrap(), None);
        // Readable by others: refused, naming the file, not the password.
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
        let err = password_from_file(&file, &config("postgres://u@db.internal/log"), "db").unwrap_err().to_string();
        assert!(err.contains("chmod 0600") && !err.contains("p:w"), "{err}");
    }

    #[test]
    fn unknown_modes_and_verification_without_a_ca_are_refused_by_name() {
        let env = Environment { pgpassword: None, pgpassfile: None, home: None };
        let describe = |_: &Config| "u@h:5432/d".to_owned();
        let err = |url: &str| ConnInfo::parse(url, &env, describe).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err("postgres://u:hunter2@h/d?sslmode=allow").contains("sslmode=allow is not one of"));
        assert!(err("postgres://u:hunter2@h/d?sslmode=verify-full").contains("give sslrootcert=FILE"));
        assert!(err("postgres://u:hunter2@h/d?sslmode=require&sslrootcert=/nonexistent").contains("/nonexistent"));
        assert!(err("postgres://u:hunter2@h/d?sslcert=x").contains("unknown option `sslcert`"));
        for url in ["postgres://u:hunter2@h/d?sslmode=allow", "postgres://u:hunter2@h/d?sslcert=x"] {
            assert!(!err(url).contains("hunter2"));
        }
        let parsed = ConnInfo::parse("postgres://u@h/d", &env, describe).unwrap();
        assert_eq!(parsed.config.get_ssl_mode(), SslMode::Prefer);
        let env = Environment { pgpassword: Some("from-env".into()), ..env };
        let parsed = ConnInfo::parse("postgres://u@h/d?sslmode=disable", &env, describe).unwrap();
        assert_eq!(parsed.config.get_password(), Some(&b"from-env"[..]));
        assert_eq!(parsed.config.get_ssl_mode(), SslMode::Disable);
        let parsed = ConnInfo::parse("postgres://u:url@h/d", &env, describe).unwrap();
        assert_eq!(parsed.config.get_password(), Some(&b"url"[..]), "the string's password first");
    }
}
