//! The sender's credentials: Apple's `.p8` token-signing key ([`ApnsKey`])
//! and a Google service account ([`ServiceAccount`]).
//!
//! Both are secrets like the sealing keys: the private key zeroizes when it
//! is dropped (p256's and rsa's key types wipe themselves, and the file's text
//! is read into a buffer that does too), `Debug` shows only the public names
//! (key id, team, account), and no error carries key material.

use core::fmt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::pkcs8::DecodePrivateKey;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::outcome::ConfigError;

/// An APNs token-signing key: the team's `.p8` file (PKCS#8, P-256) with its
/// 10-character key id and the 10-character team id. Signs the ES256
/// provider tokens. **Secret**: zeroized on drop, redacted in `Debug`.
pub struct ApnsKey {
    key_id: String,
    team_id: String,
    signing: p256::ecdsa::SigningKey,
}

impl ApnsKey {
    /// The key in the `.p8` file at `path`, with its key id and team id.
    pub fn from_p8_file(path: impl AsRef<Path>, key_id: &str, team_id: &str) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let what = || format!("APNs key file {} (key id {key_id})", path.display());
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| ConfigError::Credential { what: what(), reason: e.to_string() })?,
        );
        Self::from_p8_pem(&text, key_id, team_id)
            .map_err(|e| ConfigError::Credential { what: what(), reason: reason_of(e) })
    }

    /// The key from the `.p8` file's text (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_p8_pem(pem: &str, key_id: &str, team_id: &str) -> Result<Self, ConfigError> {
        check_apple_id("key id", key_id)?;
        check_apple_id("team id", team_id)?;
        let signing = p256::ecdsa::SigningKey::from_pkcs8_pem(pem).map_err(|_| ConfigError::Credential {
            what: format!("APNs key {key_id}"),
            reason: "not a P-256 private key in PKCS#8 PEM (the .p8 file Apple lets you download once)".into(),
        })?;
        Ok(Self { key_id: key_id.to_owned(), team_id: team_id.to_owned(), signing })
    }

    /// The key id (the JWT's `kid`).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The team id (the JWT's `iss`).
    pub fn team_id(&self) -> &str {
        &self.team_id
    }

    /// An ES256 JWT (RFC 7515 compact form) for these claims, signed with
    /// this key: `{"alg":"ES256","kid":...}` and `{"iss":...,"iat":...}`.
    pub(crate) fn provider_token(&self, issued_at: u64) -> String {
        let header = serde_json::json!({ "alg": "ES256", "kid": self.key_id });
        let claims = serde_json::json!({ "iss": self.team_id, "iat": issued_at });
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        // ES256 (RFC 7518, section 3.4): ECDSA P-256 over SHA-256, r || s.
        let signature: p256::ecdsa::Signature = self.signing.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    /// The public half, which a gateway checks provider tokens against.
    pub fn verifying_key(&self) -> p256::ecdsa::VerifyingKey {
        *self.signing.verifying_key()
    }
}

/// Shows the key id and team, never the key.
impl fmt::Debug for ApnsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApnsKey")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// Apple's key ids and team ids are 10 characters, uppercase letters and digits.
fn check_apple_id(what: &'static str, id: &str) -> Result<(), ConfigError> {
    if id.len() == 10 && id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ConfigError::Setting {
            what,
            reason: format!(
                "{id:?} is not an Apple {what}: 10 characters, uppercase letters and digits (the developer account \
                 shows it)"
            ),
        })
    }
}

fn reason_of(e: ConfigError) -> String {
    match e {
        ConfigError::Credential { reason, .. } | ConfigError::Setting { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// A Google service account, from the JSON key file the Firebase console
/// gives: its email, its RSA private key, the token endpoint and the
/// project. Signs the RS256 assertions of the OAuth2 JWT-bearer grant.
/// **Secret**: zeroized on drop, redacted in `Debug`.
pub struct ServiceAccount {
    client_email: String,
    project_id: String,
    token_uri: String,
    private_key_id: Option<String>,
    signing: rsa::pkcs1v15::SigningKey<sha2::Sha256>,
}

/// The members of the key file this crate uses; the others are ignored.
#[derive(Deserialize)]
struct ServiceAccountFile {
    #[serde(rename = "type")]
    kind: String,
    client_email: String,
    project_id: String,
    token_uri: String,
    private_key: String,
    private_key_id: Option<String>,
}

impl ServiceAccount {
    /// The service account in the JSON key file at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| ConfigError::Credential {
            what: format!("service account file {}", path.display()),
            reason: e.to_string(),
        })?);
        Self::from_json(&text).map_err(|e| match e {
            ConfigError::Credential { what, reason } => {
                ConfigError::Credential { what: format!("{what} in {}", path.display()), reason }
            }
            other => other,
        })
    }

    /// The service account in a JSON key file's text.
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        // serde_json's errors quote no input, only positions and member names.
        let mut file: ServiceAccountFile = serde_json::from_str(json).map_err(|e| ConfigError::Credential {
            what: "service account".into(),
            reason: format!("not a service account key file: {e}"),
        })?;
        let pem = Zeroizing::new(std::mem::take(&mut file.private_key));
        let what = || format!("service account {}", file.client_email);
        if file.kind != "service_account" {
            return Err(ConfigError::Credential {
                what: what(),
                reason: format!("its \"type\" is {:?}, not \"service_account\"", file.kind),
            });
        }
        if !file.token_uri.starts_with("https://") {
            return Err(ConfigError::Credential { what: what(), reason: "its token_uri is not an https URL".into() });
        }
        let key = <rsa::PrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_pem(&pem).map_err(|_| {
            ConfigError::Credential { what: what(), reason: "its private_key is not an RSA key in PKCS#8 PEM".into() }
        })?;
        Ok(Self {
            client_email: file.client_email,
            project_id: file.project_id,
            token_uri: file.token_uri,
            private_key_id: file.private_key_id,
            signing: rsa::pkcs1v15::SigningKey::new(key),
        })
    }

    /// The account's email (the assertion's `iss`), which errors name.
    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    /// The Firebase project messages go to.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// Where the assertion is exchanged for an access token.
    pub fn token_uri(&self) -> &str {
        &self.token_uri
    }

    /// The public half of the account's key, which a token endpoint checks
    /// assertions against.
    pub fn public_key(&self) -> rsa::PublicKey {
        let key: &rsa::PrivateKey = self.signing.as_ref();
        key.to_public_key()
    }

    /// An RS256 JWT (RFC 7515 compact form) over `claims`, with the key's
    /// `kid` when the file names it.
    pub fn sign_assertion(&self, claims: &serde_json::Value) -> String {
        let header = match &self.private_key_id {
            Some(kid) => serde_json::json!({ "alg": "RS256", "typ": "JWT", "kid": kid }),
            None => serde_json::json!({ "alg": "RS256", "typ": "JWT" }),
        };
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        // RS256 (RFC 7518, section 3.3): RSASSA-PKCS1-v1_5 with SHA-256.
        let signature: rsa::pkcs1v15::Signature = self.signing.sign(signing_input.as_bytes());
        let bytes: Box<[u8]> = signature.into();
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(bytes))
    }
}

/// Shows the account, project and token endpoint, never the key.
impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("project_id", &self.project_id)
            .field("token_uri", &self.token_uri)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

/// A fixed P-256 key in PKCS#8 PEM, for this crate's unit tests.
#[cfg(test)]
pub(crate) fn test_p8() -> String {
    use p256::pkcs8::EncodePrivateKey;
    let key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("7..7 is a valid P-256 scalar");
    key.to_pkcs8_pem(Default::default()).expect("a valid key encodes").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apns_key_signs_a_token_its_public_half_verifies() {
        use p256::ecdsa::signature::Verifier;
        let key = ApnsKey::from_p8_pem(&test_p8(), "ABC123DEFG", "TEAM123456").unwrap();
        let token = key.provider_token(1_700_000_000);
        let (input, sig) = token.rsplit_once('.').unwrap();
        let sig = p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(sig).unwrap()).unwrap();
        key.verifying_key().verify(input.as_bytes(), &sig).unwrap();
        let (header, claims) = input.split_once('.').unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(header).unwrap(), br#"{"alg":"ES256","kid":"ABC123DEFG"}"#);
        assert_eq!(URL_SAFE_NO_PAD.decode(claims).unwrap(), br#"{"iat":1700000000,"iss":"TEAM123456"}"#);
    }

    #[test]
    fn apns_key_is_redacted_and_ids_are_checked() {
        let pem = test_p8();
        let key = ApnsKey::from_p8_pem(&pem, "ABC123DEFG", "TEAM123456").unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains("ABC123DEFG") && debug.contains("[redacted]"), "{debug}");
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(!debug.contains(&body[..20]));
        for (kid, team) in [("abc", "TEAM123456"), ("ABC123DEFG", "team123456"), ("ABC123DEFGH", "TEAM123456")] {
            let err = ApnsKey::from_p8_pem(&pem, kid, team).unwrap_err().to_string();
            assert!(err.contains("10 characters"), "{err}");
        }
        let err = ApnsKey::from_p8_pem("not a key", "ABC123DEFG", "TEAM123456").unwrap_err().to_string();
        assert!(err.contains("ABC123DEFG") && err.contains("PKCS#8"), "{err}");
    }

    #[test]
    fn service_account_loads_signs_rs256_and_never_shows_its_key() {
        use rsa::Generate;
        use rsa::pkcs8::EncodePrivateKey;
        use rsa::signature::Verifier;

        let key = rsa::PrivateKey::generate();
        let pem = key.to_pkcs8_pem(Default::default()).unwrap();
        let file = |kind: &str, token_uri: &str| {
            serde_json::json!({
                "type": kind,
                "project_id": "clinic-push",
                "private_key_id": "k1",
                "private_key": pem.as_str(),
                "client_email": "push@clinic-push.iam.gserviceaccount.com",
                "token_uri": token_uri,
            })
            .to_string()
        };
        let account =
            ServiceAccount::from_json(&file("service_account", "https://oauth2.googleapis.com/token")).unwrap();
        assert_eq!(account.project_id(), "clinic-push");
        let key_line = pem.lines().nth(1).unwrap();
        let debug = format!("{account:?}");
        assert!(debug.contains("push@clinic-push") && debug.contains("[redacted]") && !debug.contains(key_line));

        let jwt = account.sign_assertion(&serde_json::json!({ "iss": account.client_email() }));
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let header = URL_SAFE_NO_PAD.decode(input.split('.').next().unwrap()).unwrap();
        assert_eq!(header, br#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);
        let sig = rsa::pkcs1v15::Signature::try_from(&URL_SAFE_NO_PAD.decode(sig).unwrap()[..]).unwrap();
        rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.to_public_key()).verify(input.as_bytes(), &sig).unwrap();

        for (json, says) in [
            (file("authorized_user", "https://oauth2.googleapis.com/token"), "service_account"),
            (file("service_account", "http://oauth2.googleapis.com/token"), "https"),
            (file("service_account", "https://x").replace("\"project_id\"", "\"project\""), "project_id"),
        ] {
            let err = ServiceAccount::from_json(&json).unwrap_err().to_string();
            assert!(err.contains(says) && !err.contains(key_line), "{err}");
        }
    }
}
