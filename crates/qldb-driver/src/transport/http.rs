//! The HTTP transport: QLDB Session's `SendCommand` (AWS JSON 1.0, SigV4 with signing name
//! `qldb`) through `aws-sdk-qldbsession` 1.87, the last release of that crate.
//!
//! - **Configuration** comes from `aws-config`: region and credentials from the usual chain
//!   (environment, profile files, web identity, ECS, IMDS; SSO with the `sso` feature), unless
//!   given in [`HttpOptions`].
//! - **Endpoint**: [`HttpOptions::endpoint_url`], else `AWS_ENDPOINT_URL_QLDB_SESSION`, else
//!   `AWS_ENDPOINT_URL`, else the regional endpoint.
//! - **Local endpoints just work**: when the endpoint host is loopback (127.0.0.0/8, `::1`,
//!   `localhost`), only the environment and profile files are asked for credentials and region
//!   (no IMDS/ECS probing, which would stall for seconds off EC2); if they have none, dummy
//!   static credentials and `us-east-1` are used. The server accepts any well-formed SigV4.
//! - **SDK retries are off** (`RetryConfig::disabled()`): every retry is the driver's, as in
//!   pyqldb (`max_attempts: 0`).
//! - **One TLS stack**: rustls with ring, through `aws-smithy-http-client` (the SDK crates are
//!   built without their default features, which would add a second, legacy hyper-0.14 stack
//!   or aws-lc).
//! - **Errors**: service errors keep their code, message, HTTP status and request id;
//!   dispatch failures, timeouts and unreadable responses become transport errors.

use super::{CommitResult, IoUsage, Page, SessionStarted, StatementResult, Transport};
use crate::error::DriverError;
use crate::param::IonParam;
use async_trait::async_trait;
use aws_config::meta::region::ProvideRegion;
use aws_config::BehaviorVersion;
use aws_sdk_qldbsession::config::{Credentials, ProvideCredentials, Region, SharedHttpClient};
use aws_sdk_qldbsession::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_qldbsession::operation::send_command::{SendCommandError, SendCommandOutput};
use aws_sdk_qldbsession::operation::RequestId;
use aws_sdk_qldbsession::primitives::Blob;
use aws_sdk_qldbsession::types as qt;
use bytes::Bytes;
use std::time::Duration;

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
    /// TCP connect timeout (botocore: 60 s).
    pub connect_timeout: Duration,
    /// Read timeout (botocore: 60 s).
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
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split_once(']').map(|(h, _)| h.to_string());
    }
    Some(authority.split(':').next()?.to_string())
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

/// The transport over HTTP.
#[derive(Clone)]
pub struct HttpTransport {
    client: aws_sdk_qldbsession::Client,
    endpoint: String,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

fn http_client(options: &HttpOptions) -> Result<SharedHttpClient, DriverError> {
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
    /// Builds the client: resolves region, credentials and endpoint (see the module docs).
    pub async fn connect(options: &HttpOptions) -> Result<HttpTransport, DriverError> {
        let http = http_client(options)?;
        let endpoint = configured_endpoint(options.endpoint_url.as_deref());
        let loopback = endpoint
            .as_deref()
            .and_then(endpoint_host)
            .is_some_and(|h| is_loopback_host(&h));

        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http.clone())
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(options.connect_timeout)
                    .read_timeout(options.read_timeout)
                    .build(),
            );
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &endpoint {
            loader = loader.endpoint_url(url);
        }
        if let Some(name) = &options.app_name {
            let app = aws_sdk_qldbsession::config::AppName::new(name.clone()).map_err(|e| {
                DriverError::invalid_argument(format!("Invalid app name {name:?}: {e}"))
            })?;
            loader = loader.app_name(app);
        }

        let mut region = options.region.clone().map(Region::new);
        if loopback && region.is_none() {
            region = Some(local_region(options).await);
        }
        if let Some(r) = region {
            loader = loader.region(r);
        }

        if let Some(c) = &options.credentials {
            loader = loader.credentials_provider(Credentials::new(
                c.access_key_id.clone(),
                c.secret_access_key.clone(),
                c.session_token.clone(),
                None,
                "qldb-driver-static",
            ));
        } else if loopback {
            loader = loader.credentials_provider(local_credentials(options, http.clone()).await);
        }

        let sdk = loader.load().await;
        if sdk.region().is_none() {
            return Err(DriverError::invalid_argument(
                "No AWS region: pass a region or set AWS_REGION or AWS_DEFAULT_REGION",
            ));
        }
        let config = aws_sdk_qldbsession::config::Builder::from(&sdk)
            .retry_config(aws_sdk_qldbsession::config::retry::RetryConfig::disabled())
            .build();
        let described = match &endpoint {
            Some(url) => url.clone(),
            None => format!(
                "https://session.qldb.{}.amazonaws.com",
                sdk.region().map(|r| r.as_ref()).unwrap_or("?")
            ),
        };
        tracing::debug!(endpoint = %described, loopback, "QLDB Session HTTP client ready");
        Ok(HttpTransport {
            client: aws_sdk_qldbsession::Client::from_conf(config),
            endpoint: described,
        })
    }

    /// The SDK client.
    pub fn client(&self) -> &aws_sdk_qldbsession::Client {
        &self.client
    }

    fn command(
        &self,
    ) -> aws_sdk_qldbsession::operation::send_command::builders::SendCommandFluentBuilder {
        self.client.send_command()
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
async fn local_credentials(options: &HttpOptions, http: SharedHttpClient) -> Credentials {
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

/// Maps an SDK error: service errors keep code, message, status and request id; everything
/// that got no readable answer is a transport error.
fn map_error(
    e: SdkError<SendCommandError, aws_sdk_qldbsession::config::http::HttpResponse>,
) -> DriverError {
    let detail = aws_sdk_qldbsession::error::DisplayErrorContext(&e).to_string();
    match e {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let header_request_id = ctx
                .raw()
                .headers()
                .get("x-amzn-requestid")
                .map(str::to_string);
            let err = ctx.err();
            let request_id = err.request_id().map(str::to_string).or(header_request_id);
            let message = err.message().unwrap_or_default().to_string();
            match err.code() {
                Some(code) => DriverError::service(code, message, Some(status), request_id),
                None => {
                    let message = if message.is_empty() {
                        format!("HTTP {status}")
                    } else {
                        message
                    };
                    DriverError::service_without_code(message, Some(status), request_id)
                }
            }
        }
        SdkError::DispatchFailure(d) => {
            let what = if d.is_timeout() {
                "timed out"
            } else if d.is_io() {
                "connection failed"
            } else {
                "dispatch failed"
            };
            DriverError::transport(format!("QLDB Session request {what}: {detail}"), None)
        }
        SdkError::TimeoutError(_) => {
            DriverError::transport(format!("QLDB Session request timed out: {detail}"), None)
        }
        SdkError::ResponseError(_) => DriverError::transport(
            format!("QLDB Session response could not be read: {detail}"),
            None,
        ),
        SdkError::ConstructionFailure(_) => DriverError::invalid_argument(format!(
            "Cannot build the QLDB Session request: {detail}"
        )),
        _ => DriverError::transport(format!("QLDB Session request failed: {detail}"), None),
    }
}

fn timing(t: Option<&qt::TimingInformation>) -> Option<u64> {
    t.map(|t| t.processing_time_milliseconds().max(0) as u64)
}

fn ios(i: Option<&qt::IoUsage>) -> Option<IoUsage> {
    i.map(|i| IoUsage {
        read_ios: i.read_ios().max(0) as u64,
        write_ios: i.write_ios().max(0) as u64,
    })
}

fn page(p: Option<&qt::Page>) -> Result<Page, DriverError> {
    let p = p.ok_or_else(|| DriverError::protocol("The result has no page"))?;
    let values = p
        .values()
        .iter()
        .map(|v| match v.ion_binary() {
            Some(b) => Ok(Bytes::copy_from_slice(b.as_ref())),
            None => Err(DriverError::protocol(
                "A result value has no IonBinary member",
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page {
        values,
        next_page_token: p.next_page_token().map(str::to_string),
    })
}

fn missing(what: &str) -> DriverError {
    DriverError::protocol(format!("The response has no {what} result"))
}

fn build_error(e: aws_sdk_qldbsession::error::BuildError) -> DriverError {
    DriverError::invalid_argument(format!("Invalid request: {e}"))
}

async fn send(
    b: aws_sdk_qldbsession::operation::send_command::builders::SendCommandFluentBuilder,
) -> Result<SendCommandOutput, DriverError> {
    b.send().await.map_err(map_error)
}

#[async_trait]
impl Transport for HttpTransport {
    async fn start_session(&self, ledger_name: &str) -> Result<SessionStarted, DriverError> {
        let req = qt::StartSessionRequest::builder()
            .ledger_name(ledger_name)
            .build()
            .map_err(build_error)?;
        let out = send(self.command().start_session(req)).await?;
        let session_id = out.request_id().unwrap_or_default().to_string();
        let r = out.start_session().ok_or_else(|| missing("StartSession"))?;
        let token = r
            .session_token()
            .ok_or_else(|| DriverError::protocol("StartSession returned no SessionToken"))?;
        Ok(SessionStarted {
            session_token: token.to_string(),
            session_id,
        })
    }

    async fn start_transaction(&self, session_token: &str) -> Result<String, DriverError> {
        let out = send(
            self.command()
                .session_token(session_token)
                .start_transaction(qt::StartTransactionRequest::builder().build()),
        )
        .await?;
        out.start_transaction()
            .and_then(|r| r.transaction_id())
            .map(str::to_string)
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
        let holders = parameters
            .iter()
            .map(|p| {
                qt::ValueHolder::builder()
                    .ion_binary(Blob::new(p.binary().to_vec()))
                    .build()
            })
            .collect::<Vec<_>>();
        let req = qt::ExecuteStatementRequest::builder()
            .transaction_id(transaction_id)
            .statement(statement)
            .set_parameters(Some(holders))
            .build()
            .map_err(build_error)?;
        let out = send(
            self.command()
                .session_token(session_token)
                .execute_statement(req),
        )
        .await?;
        let r = out
            .execute_statement()
            .ok_or_else(|| missing("ExecuteStatement"))?;
        Ok(StatementResult {
            page: page(r.first_page())?,
            consumed_ios: ios(r.consumed_ios()),
            processing_ms: timing(r.timing_information()),
        })
    }

    async fn fetch_page(
        &self,
        session_token: &str,
        transaction_id: &str,
        next_page_token: &str,
    ) -> Result<StatementResult, DriverError> {
        let req = qt::FetchPageRequest::builder()
            .transaction_id(transaction_id)
            .next_page_token(next_page_token)
            .build()
            .map_err(build_error)?;
        let out = send(self.command().session_token(session_token).fetch_page(req)).await?;
        let r = out.fetch_page().ok_or_else(|| missing("FetchPage"))?;
        Ok(StatementResult {
            page: page(r.page())?,
            consumed_ios: ios(r.consumed_ios()),
            processing_ms: timing(r.timing_information()),
        })
    }

    async fn commit_transaction(
        &self,
        session_token: &str,
        transaction_id: &str,
        commit_digest: &[u8; 32],
    ) -> Result<CommitResult, DriverError> {
        let req = qt::CommitTransactionRequest::builder()
            .transaction_id(transaction_id)
            .commit_digest(Blob::new(commit_digest.to_vec()))
            .build()
            .map_err(build_error)?;
        let out = send(
            self.command()
                .session_token(session_token)
                .commit_transaction(req),
        )
        .await?;
        let r = out
            .commit_transaction()
            .ok_or_else(|| missing("CommitTransaction"))?;
        Ok(CommitResult {
            transaction_id: r.transaction_id().map(str::to_string),
            commit_digest: r
                .commit_digest()
                .map(|b| Bytes::copy_from_slice(b.as_ref())),
            consumed_ios: ios(r.consumed_ios()),
            processing_ms: timing(r.timing_information()),
        })
    }

    async fn abort_transaction(&self, session_token: &str) -> Result<(), DriverError> {
        send(
            self.command()
                .session_token(session_token)
                .abort_transaction(qt::AbortTransactionRequest::builder().build()),
        )
        .await
        .map(|_| ())
    }

    async fn end_session(&self, session_token: &str) -> Result<(), DriverError> {
        send(
            self.command()
                .session_token(session_token)
                .end_session(qt::EndSessionRequest::builder().build()),
        )
        .await
        .map(|_| ())
    }

    fn describe(&self) -> String {
        self.endpoint.clone()
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
}
