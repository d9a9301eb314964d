//! The APNs test gateway speaks HTTP/2 over TLS with a CA it made and
//! wrote to a file, and checks requests before any device-token scenario:
//! checked here with a bare h2 client, independent of this crate's client.

use std::sync::Arc;

use bytes::Bytes;
use p256::pkcs8::EncodePrivateKey;
use pushseal_delivery::ApnsKey;
use pushseal_delivery::apns::ApnsEndpoint;
use pushseal_delivery::gateway::apns::{ApnsGateway, ApnsGatewayOptions};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

async fn bare_request(gateway: &ApnsGateway, path: &str, authorization: Option<&str>) -> (u16, String) {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(gateway.ca_file()).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let ApnsEndpoint::Host { host, port } = gateway.endpoint() else { panic!("a loopback endpoint") };
    assert_eq!(host, "127.0.0.1");
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from(host.clone()).unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (send, conn) = h2::client::handshake(tls).await.unwrap();
    tokio::spawn(conn);
    let mut send = send.ready().await.unwrap();
    let mut request = http::Request::post(format!("https://{host}:{port}{path}"))
        .header("apns-topic", "com.example.clinic")
        .header("apns-push-type", "alert");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let (response, mut body) = send.send_request(request.body(()).unwrap(), false).unwrap();
    body.send_data(Bytes::from_static(b"{\"aps\":{}}"), true).unwrap();
    let response = response.await.unwrap();
    let status = response.status().as_u16();
    let mut stream = response.into_body();
    let mut text = Vec::new();
    while let Some(chunk) = stream.data().await {
        text.extend_from_slice(&chunk.unwrap());
    }
    (status, String::from_utf8(text).unwrap())
}

#[tokio::test]
async fn the_gateway_answers_over_tls_with_its_own_ca_and_checks_the_token_first() {
    let dir = tempfile::tempdir().unwrap();
    let signing = p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
    let pem = signing.to_pkcs8_pem(Default::default()).unwrap();
    let key = ApnsKey::from_p8_pem(&pem, "ABC123DEFG", "TEAM123456").unwrap();
    let options = ApnsGatewayOptions::new("TEAM123456", "ABC123DEFG", key.verifying_key(), "com.example.clinic");
    let gateway = ApnsGateway::start(options, &dir.path().join("ca.pem")).await.unwrap();
    assert!(std::fs::read_to_string(gateway.ca_file()).unwrap().starts_with("-----BEGIN CERTIFICATE-----"));

    let token = format!("/3/device/{}", "ab".repeat(32));
    assert_eq!(bare_request(&gateway, &token, None).await, (403, r#"{"reason":"MissingProviderToken"}"#.into()));
    let forged = bare_request(&gateway, &token, Some("bearer e30.e30.AAAA")).await;
    assert_eq!(forged, (403, r#"{"reason":"InvalidProviderToken"}"#.into()));
    assert_eq!(bare_request(&gateway, "/3/other", None).await, (404, r#"{"reason":"BadPath"}"#.into()));
    let stats = gateway.stats();
    assert_eq!((stats.requests, stats.connections), (3, 3));
    assert!(stats.delivered.is_empty());
    gateway.stop().await;
}

/// An ES256 provider token for `kid`/`iss` issued at `iat`, signed with the key of `seed`.
fn provider_token(seed: u8, iat: u64) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use p256::ecdsa::signature::Signer;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","kid":"ABC123DEFG"}"#);
    let claims = URL_SAFE_NO_PAD.encode(format!(r#"{{"iss":"TEAM123456","iat":{iat}}}"#));
    let input = format!("{header}.{claims}");
    let signature: p256::ecdsa::Signature =
        p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap().sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

#[tokio::test]
async fn a_token_is_verified_once_but_its_age_on_every_request_and_any_other_token_is_verified_anew() {
    let dir = tempfile::tempdir().unwrap();
    let clock = pushseal_delivery::ManualClock::new(1_800_000_000);
    let key = p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
    let mut options = ApnsGatewayOptions::new("TEAM123456", "ABC123DEFG", *key.verifying_key(), "com.example.clinic");
    options.clock = Arc::new(clock.clone());
    let gateway = ApnsGateway::start(options, &dir.path().join("ca.pem")).await.unwrap();
    let path = format!("/3/device/{}", "ab".repeat(32));
    let good = format!("bearer {}", provider_token(7, 1_800_000_000));
    // The same header and claims signed by another key: refused, before and after the good one.
    let forged = format!("bearer {}", provider_token(8, 1_800_000_000));
    let invalid = (403, r#"{"reason":"InvalidProviderToken"}"#.to_owned());
    assert_eq!(bare_request(&gateway, &path, Some(&forged)).await, invalid);
    assert_eq!(bare_request(&gateway, &path, Some(&good)).await.0, 200);
    assert_eq!(bare_request(&gateway, &path, Some(&good)).await.0, 200);
    assert_eq!(bare_request(&gateway, &path, Some(&forged)).await, invalid);
    // A token verified before is still too old an hour later.
    clock.advance(3601);
    let expired = bare_request(&gateway, &path, Some(&good)).await;
    assert_eq!(expired, (403, r#"{"reason":"ExpiredProviderToken"}"#.to_owned()));
    assert_eq!(gateway.stats().delivered.len(), 2);
    gateway.stop().await;
}
