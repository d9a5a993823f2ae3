//! The HTTP transport: QLDB Session's `SendCommand` (AWS JSON 1.0 over HTTP/1.1, SigV4 with
//! signing name `qldb`), written for the driver's access pattern instead of going through a
//! general SDK: a request is one JSON body (the shapes of [`qldb_wire`]), one signature (a
//! derived key cached per day, [`qldb_wire::sigv4`]) and one exchange on a kept-alive
//! connection ([`conn`]).
//!
//! - **Who does the I/O.** When the caller of the sync API waits for the request on its own
//!   thread (the Python binding), the exchange runs right there on blocking sockets: the reply
//!   wakes that thread directly, with no hand-off to a runtime thread and back. Other callers
//!   (async code, the read-ahead task) run it on tokio's blocking pool. Either way the socket
//!   operations block at most 50 ms at a time, so a waiting caller can still be interrupted.
//! - **Configuration** comes from `aws-config`: region and credentials from the usual chain
//!   (environment, profile files, web identity, ECS, IMDS; SSO with the `sso` feature), unless
//!   given in [`HttpOptions`]. Credentials are cached until 5 minutes before they expire.
//! - **Endpoint**: [`HttpOptions::endpoint_url`], else `AWS_ENDPOINT_URL_QLDB_SESSION`, else
//!   `AWS_ENDPOINT_URL`, else the profile's `endpoint_url`, else the regional endpoint.
//! - **Local endpoints just work**: when the endpoint host is loopback (127.0.0.0/8, `::1`,
//!   `localhost`), only the environment and profile files are asked for credentials and region
//!   (no IMDS/ECS probing, which would stall for seconds off EC2); if they have none, dummy
//!   static credentials and `us-east-1` are used. The server accepts any well-formed SigV4.
//! - **No retries here**: every retry is the driver's, as in pyqldb (`max_attempts: 0`).
//! - **TLS**: rustls with ring ([`tls`]); `verify=False` is honoured.
//! - **Errors**: service errors keep their code, message, HTTP status and request id; failures
//!   to connect, send or read a complete answer are transport errors.

mod conn;
mod tls;

use super::{CommitResult, IoUsage, Page, SessionStarted, StatementResult, Transport};
use crate::error::DriverError;
use crate::param::IonParam;
use async_trait::async_trait;
use aws_config::meta::region::ProvideRegion;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use bytes::Bytes;
use conn::{Conn, Connecting, Exchange, ExchangeError, Response, Target};
use parking_lot::Mutex;
use qldb_wire::session as ws;
use qldb_wire::sigv4::{self, DerivedKey, RequestParts};
use qldb_wire::{Blob, SendCommandRequest, SendCommandResponse, ValueHolder};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, SystemTime};

pub use crate::endpoint::{ENDPOINT_ENV, GLOBAL_ENDPOINT_ENV};

/// Explicit static credentials (pyqldb's `aws_access_key_id`, `aws_secret_access_key`,
/// `aws_session_token`).
#[derive(Clone)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Options of the HTTP transport.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The endpoint; `None` = the environment variables, then the regional endpoint.
    pub endpoint_url: Option<String>,
    /// The region; `None` = the region chain (`AWS_REGION`, `AWS_DEFAULT_REGION`, profile…).
    pub region: Option<String>,
    /// Static credentials; `None` = the credential chain.
    pub credentials: Option<StaticCredentials>,
    /// The AWS profile to read (`AWS_PROFILE` otherwise).
    pub profile: Option<String>,
    /// PEM certificates trusted in addition to (or, with `native_roots: false`, instead of) the
    /// platform's roots: pyqldb's `verify="/path/to/ca.pem"`.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Trust the platform's root certificates (default true).
    pub native_roots: bool,
    /// Check the server's certificate (default true); pyqldb's `verify=False` turns it off.
    pub verify_certificates: bool,
    /// TCP connect timeout (botocore: 60 s).
    pub connect_timeout: Duration,
    /// Read timeout: the longest wait for the next bytes of an answer (botocore: 60 s).
    pub read_timeout: Duration,
    /// Suffix of the User-Agent (`app/<name>`), e.g. the Python driver's marker.
    pub app_name: Option<String>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            endpoint_url: None,
            region: None,
            credentials: None,
            profile: None,
            extra_ca_pem: None,
            native_roots: true,
            verify_certificates: true,
            connect_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
            app_name: None,
        }
    }
}

/// The endpoint the HTTP transport would use with `explicit`: the explicit URL, else
/// `AWS_ENDPOINT_URL_QLDB_SESSION`, else `AWS_ENDPOINT_URL` (non-empty values only).
pub fn configured_endpoint(explicit: Option<&str>) -> Option<String> {
    explicit
        .map(str::to_string)
        .or_else(|| env_nonempty(ENDPOINT_ENV))
        .or_else(|| env_nonempty(GLOBAL_ENDPOINT_ENV))
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The host of an `http(s)://` URL (brackets of an IPv6 literal removed).
pub fn endpoint_host(url: &str) -> Option<String> {
    parse_url(url).ok().map(|u| u.host)
}

/// Whether `host` is a loopback name or address: `localhost` (and `*.localhost`),
/// 127.0.0.0/8, `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if h == "localhost" || h.ends_with(".localhost") {
        return true;
    }
    match h.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// An endpoint URL taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Url {
    https: bool,
    host: String,
    port: u16,
    /// The `Host` header: the host, bracketed when IPv6, with the port when not the default.
    authority: String,
    /// The request path (`/` when the URL has none).
    path: String,
}

fn parse_url(url: &str) -> Result<Url, String> {
    let (scheme, rest) = url
        .trim()
        .split_once("://")
        .ok_or_else(|| format!("{url:?} is not an http(s):// URL"))?;
    let https = match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" => false,
        other => return Err(format!("unsupported scheme {other:?} in {url:?}")),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let path = match rest[end..].split(['?', '#']).next() {
        Some(p) if !p.is_empty() => p.to_string(),
        _ => "/".to_string(),
    };
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("unclosed IPv6 address in {url:?}"))?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (hostport.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(format!("no host in {url:?}"));
    }
    let default_port = if https { 443 } else { 80 };
    let port = match port {
        None | Some("") => default_port,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("invalid port {p:?} in {url:?}"))?,
    };
    let bracketed = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    let authority = if port == default_port {
        bracketed
    } else {
        format!("{bracketed}:{port}")
    };
    Ok(Url {
        https,
        host,
        port,
        authority,
        path,
    })
}

/// Where credentials come from.
enum CredentialSource {
    Fixed(Credentials),
    Chain(SharedCredentialsProvider),
}

/// Credentials and the key derived from them for one day.
struct Signing {
    credentials: Credentials,
    key: DerivedKey,
}

/// A connection to use: idle and checked, or still being established.
enum Link {
    Ready(Conn),
    Connecting(Connecting),
}

/// Credentials are refreshed this long before they expire.
const CREDENTIAL_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// Idle connections kept for reuse.
const MAX_IDLE_CONNECTIONS: usize = 64;

struct Inner {
    url: Url,
    target: Target,
    region: String,
    user_agent: String,
    credentials: CredentialSource,
    signing: Mutex<Option<Arc<Signing>>>,
    idle: Mutex<Vec<Conn>>,
    connect_timeout: Duration,
    read_timeout: Duration,
    described: String,
}

/// The transport over HTTP. Cheap to clone.
#[derive(Clone)]
pub struct HttpTransport {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("endpoint", &self.inner.described)
            .field("region", &self.inner.region)
            .finish()
    }
}

fn http_client(
    options: &HttpOptions,
) -> Result<aws_smithy_runtime_api::client::http::SharedHttpClient, DriverError> {
    use aws_smithy_http_client::tls;
    let mut trust = tls::TrustStore::empty().with_native_roots(options.native_roots);
    if let Some(pem) = &options.extra_ca_pem {
        trust = trust.with_pem_certificate(pem.clone());
    }
    let context = tls::TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|e| DriverError::invalid_argument(format!("Invalid TLS settings: {e}")))?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(context)
        .build_https())
}

impl HttpTransport {
    /// Resolves region, credentials and endpoint (see the module docs). No request is sent.
    pub async fn connect(options: &HttpOptions) -> Result<HttpTransport, DriverError> {
        let endpoint = configured_endpoint(options.endpoint_url.as_deref());
        let invalid_url = |e: String| {
            DriverError::invalid_argument(format!("Invalid QLDB Session endpoint: {e}"))
        };
        let explicit = endpoint
            .as_deref()
            .map(parse_url)
            .transpose()
            .map_err(invalid_url)?;
        let loopback = explicit.as_ref().is_some_and(|u| is_loopback_host(&u.host));

        // The HTTP client of aws-config's own providers (IMDS, ECS, STS, SSO).
        let providers_http = http_client(options)?;
        let mut region = options.region.clone().map(Region::new);
        if loopback && region.is_none() {
            region = Some(local_region(options).await);
        }
        let (region, credentials, profile_endpoint) = if loopback {
            let credentials = match &options.credentials {
                Some(c) => static_credentials(c),
                None => local_credentials(options, providers_http).await,
            };
            (region, CredentialSource::Fixed(credentials), None)
        } else {
            let mut loader = aws_config::defaults(BehaviorVersion::latest())
                .http_client(providers_http)
                .retry_config(aws_config::retry::RetryConfig::standard())
                .timeout_config(
                    aws_config::timeout::TimeoutConfig::builder()
                        .connect_timeout(options.connect_timeout)
                        .read_timeout(options.read_timeout)
                        .build(),
                );
            if let Some(profile) = &options.profile {
                loader = loader.profile_name(profile);
            }
            if let Some(r) = region.clone() {
                loader = loader.region(r);
            }
            if let Some(c) = &options.credentials {
                loader = loader
                    .credentials_provider(SharedCredentialsProvider::new(static_credentials(c)));
            }
            let sdk = loader.load().await;
            let provider = sdk.credentials_provider().ok_or_else(|| {
                DriverError::invalid_argument("No AWS credentials provider is configured")
            })?;
            (
                sdk.region().cloned(),
                CredentialSource::Chain(provider),
                sdk.endpoint_url().map(str::to_string),
            )
        };
        let region = region
            .ok_or_else(|| {
                DriverError::invalid_argument(
                    "No AWS region: pass a region or set AWS_REGION or AWS_DEFAULT_REGION",
                )
            })?
            .to_string();
        let endpoint = endpoint
            .or(profile_endpoint)
            .unwrap_or_else(|| format!("https://session.qldb.{region}.amazonaws.com"));
        let url = match explicit {
            Some(url) => url,
            None => parse_url(&endpoint).map_err(invalid_url)?,
        };
        let tls = if url.https {
            Some(tls::client_config(options)?)
        } else {
            None
        };
        let mut user_agent = format!("pyqldb-rs/{}", env!("CARGO_PKG_VERSION"));
        if let Some(name) = &options.app_name {
            user_agent.push_str(" app/");
            user_agent.push_str(name);
        }
        tracing::debug!(endpoint = %endpoint, %region, loopback, "QLDB Session HTTP client ready");
        Ok(HttpTransport {
            inner: Arc::new(Inner {
                target: Target {
                    host: url.host.clone(),
                    port: url.port,
                    tls,
                },
                url,
                region,
                user_agent,
                credentials,
                signing: Mutex::new(None),
                idle: Mutex::new(Vec::new()),
                connect_timeout: options.connect_timeout,
                read_timeout: options.read_timeout,
                described: endpoint,
            }),
        })
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// Connections currently idle in the pool.
    pub fn idle_connections(&self) -> usize {
        self.inner.idle.lock().len()
    }

    /// Sends one command and decodes its answer.
    async fn send(&self, request: &SendCommandRequest) -> Result<Answer, DriverError> {
        let body = serde_json::to_vec(request).map_err(|e| {
            DriverError::invalid_argument(format!("Cannot encode the request: {e}"))
        })?;
        let amz_date = sigv4::amz_date(SystemTime::now());
        let signing = self.inner.signing(&amz_date[..8]).await?;
        let message = self.inner.message(&body, &signing, &amz_date);
        let response = if crate::sync::is_blocking_waiter() {
            self.inner.exchange_here(message).await?
        } else {
            let inner = self.inner.clone();
            tokio::task::spawn_blocking(move || inner.exchange_blocking(message))
                .await
                .map_err(|e| {
                    DriverError::transport(format!("QLDB Session request failed: {e}"), None)
                })??
        };
        decode(response)
    }
}

/// A decoded 200 answer and its request id.
struct Answer {
    body: SendCommandResponse,
    request_id: Option<String>,
}

fn static_credentials(c: &StaticCredentials) -> Credentials {
    Credentials::new(
        c.access_key_id.clone(),
        c.secret_access_key.clone(),
        c.session_token.clone(),
        None,
        "qldb-driver-static",
    )
}

impl Inner {
    /// Credentials and the derived key for `date` (`YYYYMMDD`), from the cache when they are
    /// still fresh.
    async fn signing(&self, date: &str) -> Result<Arc<Signing>, DriverError> {
        let now = SystemTime::now();
        let fresh = |s: &Signing| {
            s.key.date() == date
                && s.credentials
                    .expiry()
                    .is_none_or(|t| t > now + CREDENTIAL_REFRESH_MARGIN)
        };
        let cached = self.signing.lock().clone();
        if let Some(s) = cached {
            if fresh(&s) {
                return Ok(s);
            }
        }
        let credentials = match &self.credentials {
            CredentialSource::Fixed(c) => c.clone(),
            CredentialSource::Chain(provider) => {
                provider.provide_credentials().await.map_err(|e| {
                    DriverError::invalid_argument(format!(
                        "Unable to locate AWS credentials: {}",
                        aws_smithy_types::error::display::DisplayErrorContext(&e)
                    ))
                })?
            }
        };
        let key = DerivedKey::new(
            credentials.secret_access_key(),
            date,
            &self.region,
            qldb_wire::SIGNING_NAME,
        );
        let signing = Arc::new(Signing { credentials, key });
        *self.signing.lock() = Some(signing.clone());
        Ok(signing)
    }

    /// The request bytes: head (signed) and body.
    fn message(&self, body: &[u8], signing: &Signing, amz_date: &str) -> Vec<u8> {
        let mut headers: Vec<(&str, &str)> = vec![
            ("content-type", qldb_wire::AMZ_JSON_1_0),
            ("host", &self.url.authority),
            ("x-amz-date", amz_date),
            ("x-amz-target", qldb_wire::SEND_COMMAND_TARGET),
        ];
        if let Some(token) = signing.credentials.session_token() {
            headers.push(("x-amz-security-token", token));
        }
        let parts = RequestParts {
            method: "POST",
            path: &self.url.path,
            query: "",
            headers: &headers,
            body,
        };
        let authorization =
            signing
                .key
                .authorize(&parts, signing.credentials.access_key_id(), amz_date);
        let mut out = Vec::with_capacity(512 + body.len());
        out.extend_from_slice(b"POST ");
        out.extend_from_slice(self.url.path.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in &headers {
            header(&mut out, name, value);
        }
        header(&mut out, "authorization", &authorization);
        header(&mut out, "user-agent", &self.user_agent);
        header(&mut out, "content-length", &body.len().to_string());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out
    }

    /// An idle connection that is still usable, or a new one.
    fn checkout(&self) -> Result<Link, DriverError> {
        loop {
            let idle = self.idle.lock().pop();
            match idle {
                Some(conn) if conn.is_reusable() => return Ok(Link::Ready(conn)),
                Some(_) => continue,
                None => break,
            }
        }
        Connecting::start(&self.target, self.connect_timeout)
            .map(Link::Connecting)
            .map_err(|e| self.connect_failed(e))
    }

    fn connect_failed(&self, e: std::io::Error) -> DriverError {
        let what = if e.kind() == std::io::ErrorKind::TimedOut {
            "Connect timeout on endpoint URL"
        } else {
            "Could not connect to the endpoint URL"
        };
        DriverError::transport(
            format!("{what}: \"{}\": {e}", self.described),
            Some(Box::new(e)),
        )
    }

    fn checkin(&self, conn: Conn) {
        let mut idle = self.idle.lock();
        if idle.len() < MAX_IDLE_CONNECTIONS {
            idle.push(conn);
        }
    }

    fn failed(&self, e: ExchangeError) -> DriverError {
        let what = match e {
            ExchangeError::TimedOut(_) => "Read timeout on endpoint URL",
            ExchangeError::Malformed(_) => "Unreadable response from endpoint URL",
            _ => "Connection to the endpoint URL failed",
        };
        let message = format!("{what}: \"{}\": {e}", self.described);
        match e {
            ExchangeError::Io(io) => DriverError::transport(message, Some(Box::new(io))),
            _ => DriverError::transport(message, None),
        }
    }

    /// The exchange on the calling thread, handing control back every tick (see the module
    /// docs); dropping the future closes the connection.
    async fn exchange_here(&self, message: Vec<u8>) -> Result<Response, DriverError> {
        let conn = match self.checkout()? {
            Link::Ready(conn) => conn,
            Link::Connecting(mut connecting) => {
                std::future::poll_fn(|cx| match connecting.poll() {
                    Ok(Some(conn)) => Poll::Ready(Ok(conn)),
                    Ok(None) => {
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                    Err(e) => Poll::Ready(Err(e)),
                })
                .await
                .map_err(|e| self.connect_failed(e))?
            }
        };
        let mut exchange = Exchange::new(conn, message, self.read_timeout);
        let done = std::future::poll_fn(|cx| match exchange.drive() {
            Ok(true) => Poll::Ready(Ok(())),
            Ok(false) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(e)),
        })
        .await;
        done.map_err(|e| self.failed(e))?;
        Ok(self.complete(exchange))
    }

    /// The same exchange on a thread that may block until it is done (tokio's blocking pool):
    /// every poll of [`Inner::exchange_here`] blocks for at most one tick and wakes itself, so
    /// polling it in a loop is all the executor it needs.
    fn exchange_blocking(&self, message: Vec<u8>) -> Result<Response, DriverError> {
        let mut exchange = std::pin::pin!(self.exchange_here(message));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let Poll::Ready(result) = std::future::Future::poll(exchange.as_mut(), &mut cx) {
                return result;
            }
        }
    }

    fn complete(&self, exchange: Exchange) -> Response {
        let (response, conn) = exchange.finish();
        if let Some(conn) = conn {
            self.checkin(conn);
        }
        response
    }
}

fn header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// A 200 answer's body, or the service error of any other status (AWS JSON 1.0 error rules:
/// the code from `X-Amzn-ErrorType`, else the body's `__type` or `code`, without its namespace
/// (`…#`) and details (`:…`); the message from `message`, `Message` or `errorMessage`).
fn decode(response: Response) -> Result<Answer, DriverError> {
    if response.status == 200 {
        let body = serde_json::from_slice::<SendCommandResponse>(&response.body).map_err(|e| {
            DriverError::transport(
                format!("The QLDB Session response could not be read: {e}"),
                None,
            )
        })?;
        return Ok(Answer {
            body,
            request_id: response.request_id,
        });
    }
    let json = serde_json::from_slice::<serde_json::Value>(&response.body).ok();
    let field = |names: &[&str]| {
        json.as_ref().and_then(|j| {
            names
                .iter()
                .find_map(|n| j.get(*n).and_then(|v| v.as_str()).map(str::to_string))
        })
    };
    let code = response
        .error_type
        .clone()
        .or_else(|| field(&["__type", "code"]))
        .map(|c| {
            let c = c.split(':').next().unwrap_or("");
            c.rsplit('#').next().unwrap_or("").trim().to_string()
        })
        .filter(|c| !c.is_empty());
    let message = field(&["message", "Message", "errorMessage"]).unwrap_or_default();
    let status = Some(response.status);
    match code {
        Some(code) => Err(DriverError::service(
            code,
            message,
            status,
            response.request_id,
        )),
        None => {
            let message = if message.is_empty() {
                format!("HTTP {}", response.status)
            } else {
                message
            };
            Err(DriverError::service_without_code(
                message,
                status,
                response.request_id,
            ))
        }
    }
}

/// Region for a loopback endpoint: environment, then profile, then `us-east-1`.
async fn local_region(options: &HttpOptions) -> Region {
    if let Some(r) = aws_config::environment::EnvironmentVariableRegionProvider::new()
        .region()
        .await
    {
        return r;
    }
    let mut profile = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(p) = &options.profile {
        profile = profile.profile_name(p);
    }
    if let Some(r) = profile.build().region().await {
        return r;
    }
    Region::from_static("us-east-1")
}

/// Credentials for a loopback endpoint: environment, then profile, then dummy ones.
async fn local_credentials(
    options: &HttpOptions,
    http: aws_smithy_runtime_api::client::http::SharedHttpClient,
) -> Credentials {
    if let Ok(c) = aws_config::environment::EnvironmentVariableCredentialsProvider::new()
        .provide_credentials()
        .await
    {
        return c;
    }
    let config =
        aws_config::provider_config::ProviderConfig::without_region().with_http_client(http);
    let mut profile =
        aws_config::profile::ProfileFileCredentialsProvider::builder().configure(&config);
    if let Some(p) = &options.profile {
        profile = profile.profile_name(p);
    }
    if let Ok(c) = profile.build().provide_credentials().await {
        return c;
    }
    tracing::debug!("no AWS credentials found; using dummy credentials for a loopback endpoint");
    Credentials::new("qldblocal", "qldblocal", None, None, "qldb-driver-loopback")
}

fn timing(t: Option<ws::TimingInformation>) -> Option<u64> {
    t.map(|t| t.processing_time_milliseconds.max(0) as u64)
}

fn ios(i: Option<ws::IoUsage>) -> Option<IoUsage> {
    i.map(|i| IoUsage {
        read_ios: i.read_ios.max(0) as u64,
        write_ios: i.write_ios.max(0) as u64,
    })
}

fn page(p: Option<ws::Page>) -> Result<Page, DriverError> {
    let p = p.ok_or_else(|| DriverError::protocol("The result has no page"))?;
    let values = p
        .values
        .into_iter()
        .map(|v| match v.ion_binary {
            Some(b) => Ok(Bytes::from(b.into_bytes())),
            None => Err(DriverError::protocol(
                "A result value has no IonBinary member",
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page {
        values,
        next_page_token: p.next_page_token,
    })
}

fn missing(what: &str) -> DriverError {
    DriverError::protocol(format!("The response has no {what} result"))
}

fn with_token(session_token: &str) -> SendCommandRequest {
    SendCommandRequest {
        session_token: Some(session_token.to_string()),
        ..Default::default()
    }
}

#[async_trait]
impl Transport for HttpTransport {
    async fn start_session(&self, ledger_name: &str) -> Result<SessionStarted, DriverError> {
        let request = SendCommandRequest {
            start_session: Some(ws::StartSessionRequest {
                ledger_name: ledger_name.to_string(),
            }),
            ..Default::default()
        };
        let answer = self.send(&request).await?;
        let result = answer
            .body
            .start_session
            .ok_or_else(|| missing("StartSession"))?;
        let session_token = result
            .session_token
            .ok_or_else(|| DriverError::protocol("StartSession returned no SessionToken"))?;
        Ok(SessionStarted {
            session_token,
            session_id: answer.request_id.unwrap_or_default(),
        })
    }

    async fn start_transaction(&self, session_token: &str) -> Result<String, DriverError> {
        let request = SendCommandRequest {
            start_transaction: Some(ws::EmptyRequest {}),
            ..with_token(session_token)
        };
        self.send(&request)
            .await?
            .body
            .start_transaction
            .and_then(|r| r.transaction_id)
            .ok_or_else(|| DriverError::protocol("StartTransaction returned no TransactionId"))
    }

    async fn execute_statement(
        &self,
        session_token: &str,
        transaction_id: &str,
        statement: &str,
        parameters: &[IonParam],
    ) -> Result<StatementResult, DriverError> {
        // `Parameters` is always sent, `[]` when empty, as pyqldb does.
        let request = SendCommandRequest {
            execute_statement: Some(ws::ExecuteStatementRequest {
                transaction_id: transaction_id.to_string(),
                statement: statement.to_string(),
                parameters: parameters
                    .iter()
                    .map(|p| ValueHolder::binary(p.binary().to_vec()))
                    .collect(),
            }),
            ..with_token(session_token)
        };
        let r = self
            .send(&request)
            .await?
            .body
            .execute_statement
            .ok_or_else(|| missing("ExecuteStatement"))?;
        Ok(StatementResult {
            page: page(r.first_page)?,
            consumed_ios: ios(r.consumed_ios),
            processing_ms: timing(r.timing_information),
        })
    }

    async fn fetch_page(
        &self,
        session_token: &str,
        transaction_id: &str,
        next_page_token: &str,
    ) -> Result<StatementResult, DriverError> {
        let request = SendCommandRequest {
            fetch_page: Some(ws::FetchPageRequest {
                transaction_id: transaction_id.to_string(),
                next_page_token: next_page_token.to_string(),
            }),
            ..with_token(session_token)
        };
        let r = self
            .send(&request)
            .await?
            .body
            .fetch_page
            .ok_or_else(|| missing("FetchPage"))?;
        Ok(StatementResult {
            page: page(r.page)?,
            consumed_ios: ios(r.consumed_ios),
            processing_ms: timing(r.timing_information),
        })
    }

    async fn commit_transaction(
        &self,
        session_token: &str,
        transaction_id: &str,
        commit_digest: &[u8; 32],
    ) -> Result<CommitResult, DriverError> {
        let request = SendCommandRequest {
            commit_transaction: Some(ws::CommitTransactionRequest {
                transaction_id: transaction_id.to_string(),
                commit_digest: Blob::new(commit_digest.to_vec()),
            }),
            ..with_token(session_token)
        };
        let r = self
            .send(&request)
            .await?
            .body
            .commit_transaction
            .ok_or_else(|| missing("CommitTransaction"))?;
        Ok(CommitResult {
            transaction_id: r.transaction_id,
            commit_digest: r.commit_digest.map(|b| Bytes::from(b.into_bytes())),
            consumed_ios: ios(r.consumed_ios),
            processing_ms: timing(r.timing_information),
        })
    }

    async fn abort_transaction(&self, session_token: &str) -> Result<(), DriverError> {
        let request = SendCommandRequest {
            abort_transaction: Some(ws::EmptyRequest {}),
            ..with_token(session_token)
        };
        self.send(&request).await.map(|_| ())
    }

    async fn end_session(&self, session_token: &str) -> Result<(), DriverError> {
        let request = SendCommandRequest {
            end_session: Some(ws::EmptyRequest {}),
            ..with_token(session_token)
        };
        self.send(&request).await.map(|_| ())
    }

    fn describe(&self) -> String {
        self.inner.described.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            endpoint_host("http://127.0.0.1:8080/x").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(endpoint_host("http://[::1]:8080").as_deref(), Some("::1"));
        assert_eq!(
            endpoint_host("https://u:p@localhost").as_deref(),
            Some("localhost")
        );
        assert!(is_loopback_host("127.9.9.9"));
        assert!(is_loopback_host("::1"));
        assert!(is_loopback_host("LocalHost"));
        assert!(!is_loopback_host("10.0.0.1"));
        assert!(!is_loopback_host("session.qldb.us-east-1.amazonaws.com"));
    }

    #[test]
    fn urls() {
        let u = parse_url("https://session.qldb.us-east-1.amazonaws.com").unwrap();
        assert_eq!(
            (u.https, u.port, u.authority.as_str(), u.path.as_str()),
            (true, 443, "session.qldb.us-east-1.amazonaws.com", "/")
        );
        let u = parse_url("http://[::1]:8080/base?x=1").unwrap();
        assert_eq!(
            (
                u.host.as_str(),
                u.port,
                u.authority.as_str(),
                u.path.as_str()
            ),
            ("::1", 8080, "[::1]:8080", "/base")
        );
        let u = parse_url("HTTP://localhost:80").unwrap();
        assert_eq!((u.port, u.authority.as_str()), (80, "localhost"));
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("http://:80").is_err());
        assert!(parse_url("http://h:99999").is_err());
    }

    fn response(status: u16, error_type: Option<&str>, body: &str) -> Response {
        Response {
            status,
            request_id: Some("rid".into()),
            error_type: error_type.map(str::to_string),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn error_answers_keep_code_message_status_and_request_id() {
        let e = decode(response(
            400,
            None,
            r#"{"__type":"com.amazonaws.qldbsession#OccConflictException","Message":"occ"}"#,
        ))
        .err()
        .unwrap();
        assert_eq!(
            (e.code(), e.message(), e.http_status(), e.request_id()),
            (Some("OccConflictException"), "occ", Some(400), Some("rid"))
        );
        assert!(e.is_occ());
        let e = decode(response(
            400,
            Some("BadRequestException:http://internal/"),
            r#"{"message":"bad"}"#,
        ))
        .err()
        .unwrap();
        assert_eq!(
            (e.code(), e.message()),
            (Some("BadRequestException"), "bad")
        );
        let e = decode(response(502, None, "<html>bad gateway</html>"))
            .err()
            .unwrap();
        assert_eq!(
            (e.code(), e.message(), e.http_status()),
            (None, "HTTP 502", Some(502))
        );
        assert!(e.is_service());
        let e = decode(response(200, None, "{not json")).err().unwrap();
        assert!(e.is_transport());
    }
}
