//! [`FcmClient`]: HTTP/2 connections to FCM sharing one OAuth2 access token.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::token::{AccessToken, AccessTokens, TokenError};
use super::{Answer, FcmEndpoint, classify};
use crate::clock::{Clock, SystemClock};
use crate::connection::{Drain, MAX_REROUTES, NoAnswer, Origin, Pool, Reply};
use crate::credentials::ServiceAccount;
use crate::outcome::{ConfigError, Outcome};
use crate::retry::{self, Attempt, RetryPolicy};
use crate::tls::Trust;
use crate::{Deliver, Push};

/// A client for FCM HTTP v1: make one per service account and process, and
/// share it (it is cheap to clone) with every worker.
///
/// Every request carries the one access token of the service account. It is
/// fetched from the account's `token_uri` with an RS256 assertion when first
/// needed, kept until 5 minutes before it expires, then replaced by the
/// first request that needs it while the others wait for that one fetch.
/// Each message is one `POST /v1/projects/<project_id>/messages:send`,
/// addressed to the registration token or installation id (`fid`) the core
/// sealed into it. A request that FCM did not process (GOAWAY, a refused
/// stream) moves to a new connection; a request whose connection was lost
/// after it was sent is not sent again, since FCM may have delivered it.
///
/// ```no_run
/// # async fn run(sealed: pushseal::Sealed<pushseal::FcmMessage>) -> Result<(), pushseal_delivery::ConfigError> {
/// use pushseal_delivery::fcm::FcmClient;
/// use pushseal_delivery::{Deliver, Push, ServiceAccount};
///
/// let account = ServiceAccount::from_file("service-account.json")?;
/// let client = FcmClient::builder(account).build()?;
/// // `sealed` was sealed with FcmOptions::with_token("fcm-registration-token").
/// let outcome = client.deliver(&Push::new("fcm-registration-token", sealed)).await;
/// println!("{}: {outcome}", outcome.kind());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FcmClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FcmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmClient")
            .field("account", self.inner.tokens.account())
            .field("fcm", &self.inner.fcm.origin.authority)
            .field("connections", &self.inner.fcm.size())
            .finish_non_exhaustive()
    }
}

/// Settings of an [`FcmClient`]; the defaults suit production.
pub struct FcmClientBuilder {
    account: ServiceAccount,
    endpoint: FcmEndpoint,
    trust: Trust,
    connections: usize,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    ping_interval: Duration,
    ping_timeout: Duration,
}

impl FcmClientBuilder {
    /// Where to send (default [`FcmEndpoint::Google`]). The access token is
    /// always fetched from the service account's `token_uri`.
    pub fn endpoint(mut self, endpoint: FcmEndpoint) -> Self {
        self.endpoint = endpoint;
        self
    }

    /// The certificates to trust, for FCM and the token endpoint alike
    /// (default the public roots).
    pub fn trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    /// How many HTTP/2 connections to FCM to keep (default 2, at least 1).
    pub fn connections(mut self, n: usize) -> Self {
        self.connections = n.max(1);
        self
    }

    /// How to retry (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The clock token times are read from (default the system's).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long a connection is idle before a PING checks it (default 60 s),
    /// and how long the answer may take before the connection is replaced
    /// (default 10 s).
    pub fn keep_alive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.ping_interval = interval;
        self.ping_timeout = timeout;
        self
    }

    /// The client. It fetches its access token and connects when it first sends.
    pub fn build(self) -> Result<FcmClient, ConfigError> {
        let tls = tokio_rustls::TlsConnector::from(self.trust.client_config()?);
        let (host, port) = self.endpoint.host_port();
        let fcm = Pool::new(
            Origin::new("FCM endpoint", host, port, tls.clone())?,
            self.connections,
            self.ping_interval,
            self.ping_timeout,
        );
        let bad_uri = |reason: &str| ConfigError::Credential {
            what: format!("service account {}", self.account.client_email()),
            reason: format!("its token_uri {:?} {reason}", self.account.token_uri()),
        };
        let uri: http::Uri = self.account.token_uri().parse().map_err(|_| bad_uri("is not a URL"))?;
        if uri.scheme_str() != Some("https") {
            return Err(bad_uri("is not an https URL"));
        }
        let token_host = uri.host().ok_or_else(|| bad_uri("has no host"))?;
        let token_host = token_host.trim_start_matches('[').trim_end_matches(']');
        let token_origin = Origin::new("token_uri", token_host, uri.port_u16().unwrap_or(443), tls)?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let send_path = format!("/v1/projects/{}/messages:send", self.account.project_id());
        if self.account.project_id().is_empty()
            || !self.account.project_id().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ConfigError::Credential {
                what: format!("service account {}", self.account.client_email()),
                reason: format!("its project_id {:?} is not a Firebase project id", self.account.project_id()),
            });
        }
        let token_pool = Pool::new(token_origin, 1, self.ping_interval, self.ping_timeout);
        Ok(FcmClient {
            inner: Arc::new(Inner {
                tokens: AccessTokens::new(self.account, self.clock, token_pool, path),
                fcm,
                send_path,
                retry: self.retry,
                drain: Drain::default(),
            }),
        })
    }
}

struct Inner {
    tokens: AccessTokens,
    fcm: Pool,
    send_path: String,
    retry: RetryPolicy,
    drain: Drain,
}

impl FcmClient {
    /// A builder for a client that sends as `account`.
    pub fn builder(account: ServiceAccount) -> FcmClientBuilder {
        FcmClientBuilder {
            account,
            endpoint: FcmEndpoint::Google,
            trust: Trust::PublicRoots,
            connections: 2,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            ping_interval: Duration::from_secs(60),
            ping_timeout: Duration::from_secs(10),
        }
    }

    /// Stops taking messages (a later [`Deliver::deliver`] ends at once in
    /// [`Outcome::Failed`] with no attempt), waits until every message in
    /// flight has its outcome, then closes the connections.
    pub async fn shutdown(&self) {
        self.inner.drain.close().await;
        self.inner.fcm.close().await;
    }
}

/// The device a sealed message is addressed to: its `token` or its `fid`.
fn sealed_target(message: &pushseal::FcmMessage) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(&message.json).ok()?;
    let member = |name: &str| json.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    member("token").or_else(|| member("fid"))
}

impl Deliver for FcmClient {
    type Payload = pushseal::FcmMessage;

    async fn deliver(&self, push: &Push<pushseal::FcmMessage>) -> Outcome {
        let inner = &*self.inner;
        let _in_flight = match inner.drain.enter() {
            Ok(counted) => counted,
            Err(closing) => return closing,
        };
        match sealed_target(&push.sealed.payload) {
            None => {
                return Outcome::Rejected {
                    reason: "the message names no device: seal it with FcmOptions::with_token or with_fid, or give \
                             each batch device its token or fid"
                        .into(),
                };
            }
            Some(target) if target != push.device => {
                return Outcome::Rejected {
                    reason: "the message was sealed for another device than the push names".into(),
                };
            }
            Some(_) => {}
        }
        retry::run(&inner.retry, |attempt| inner.attempt(push, attempt)).await
    }
}

impl Inner {
    /// One attempt: the access token, then the request on a connection
    /// (moved when FCM did not process it, and sent once more with a new
    /// access token on 401).
    async fn attempt(&self, push: &Push<pushseal::FcmMessage>, number: u32) -> Attempt {
        let mut renewed = false;
        let mut reroutes = 0;
        loop {
            let token = match self.tokens.current().await {
                Ok(token) => token,
                Err(TokenError::Refused(error)) => return Attempt::Final(Outcome::Misconfigured(error)),
                Err(TokenError::Retry { reason, retry_after }) => return Attempt::Retry { reason, retry_after },
            };
            let reply = match self.send(push, &token).await {
                Ok(reply) => reply,
                Err(NoAnswer::Unprocessed(_)) if reroutes < MAX_REROUTES => {
                    reroutes += 1;
                    continue;
                }
                Err(no_answer) => return no_answer.into_attempt("FCM", number),
            };
            match classify(reply.status, &reply.body, reply.retry_after()) {
                Answer::Final(outcome) => return Attempt::Final(outcome),
                Answer::Retry { reason, retry_after } => return Attempt::Retry { reason, retry_after },
                Answer::Credentials(reason) => return Attempt::Final(Outcome::Misconfigured(self.refused(reason))),
                Answer::Unauthenticated(_) if !renewed => {
                    self.tokens.forget(&token);
                    renewed = true;
                }
                Answer::Unauthenticated(reason) => {
                    return Attempt::Final(Outcome::Misconfigured(
                        self.refused(format!("{reason}, again with a new access token")),
                    ));
                }
            }
        }
    }

    fn refused(&self, reason: String) -> ConfigError {
        ConfigError::ServiceAccountRefused { account: self.tokens.account().client_email().to_owned(), reason }
    }

    async fn send(&self, push: &Push<pushseal::FcmMessage>, token: &AccessToken) -> Result<Reply, NoAnswer> {
        let request = http::Request::builder()
            .method(http::Method::POST)
            .uri(format!("https://{}{}", self.fcm.origin.authority, self.send_path))
            .header(http::header::AUTHORIZATION, &*token.header)
            .header(http::header::CONTENT_TYPE, "application/json; charset=UTF-8")
            .body(())
            .map_err(|e| {
                NoAnswer::Config(ConfigError::Setting { what: "FCM request", reason: format!("cannot be made: {e}") })
            })?;
        self.fcm.exchange(request, Bytes::from(push.sealed.payload.request_body())).await
    }
}
