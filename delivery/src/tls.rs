//! Which certificates a client trusts: [`Trust`].
//!
//! There are two choices and no third: the usual public roots (Mozilla's set,
//! compiled in), which Apple's and Google's hosts chain to, or the CA
//! certificates in one PEM file (a test gateway writes its own at start).
//! Verification is never turned off.

use std::path::PathBuf;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::outcome::ConfigError;

/// The certificates a client trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Trust {
    /// The usual public roots (Mozilla's, from `webpki-roots`): what APNs
    /// and FCM need. The default.
    #[default]
    PublicRoots,
    /// Only the CA certificates in this PEM file, such as the one a local
    /// test gateway writes (`pushseal gateway ... --ca-file`).
    CaFile(PathBuf),
}

impl Trust {
    /// The TLS client configuration for HTTP/2 (ALPN `h2`, TLS 1.2 or 1.3).
    pub(crate) fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, ConfigError> {
        let mut roots = rustls::RootCertStore::empty();
        match self {
            Self::PublicRoots => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Self::CaFile(path) => {
                let what = || format!("the CA file {}", path.display());
                let certs = CertificateDer::pem_file_iter(path)
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| ConfigError::Tls(format!("{} cannot be read as PEM certificates: {e}", what())))?;
                if certs.is_empty() {
                    return Err(ConfigError::Tls(format!("{} holds no certificate", what())));
                }
                for cert in certs {
                    roots.add(cert).map_err(|e| ConfigError::Tls(format!("{}: {e}", what())))?;
                }
            }
        }
        let provider = Arc::new(crate::tls::provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| ConfigError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Arc::new(config))
    }
}

/// rustls with its `ring` provider (README.md says why not `aws-lc-rs`).
/// rustls marks it deprecated because `ring` has no post-quantum key
/// exchange: what the connection protects is the provider or access token
/// and the metadata, the payload being sealed end to end already.
#[allow(deprecated)]
pub(crate) fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_that_is_missing_or_empty_is_a_configuration_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Trust::CaFile(dir.path().join("none.pem")).client_config().unwrap_err();
        assert!(missing.to_string().contains("none.pem"), "{missing}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let err = Trust::CaFile(empty).client_config().unwrap_err();
        assert!(err.to_string().contains("no certificate"), "{err}");
        assert!(Trust::PublicRoots.client_config().is_ok());
    }
}
