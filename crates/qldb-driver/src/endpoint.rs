//! Picks a transport from an endpoint URL, so that pyqldb's `endpoint_url=` (and
//! `AWS_ENDPOINT_URL_QLDB_SESSION`, so unchanged programs can be redirected) select:
//!
//! | endpoint | transport |
//! |---|---|
//! | none (and no variable set) | HTTP to the regional QLDB endpoint (region and credentials from the AWS chain) |
//! | `http://…`, `https://…` | HTTP to that endpoint |
//! | `memory://NAME` | embedded, an in-memory engine shared by `NAME` within the process |
//! | `file:///ABS/DIR` | embedded, a durable engine in that directory (opened once per process) |
//!
//! The explicit URL wins over `AWS_ENDPOINT_URL_QLDB_SESSION`, which wins over
//! `AWS_ENDPOINT_URL`. Any other scheme is an `InvalidArgument` error.

use crate::error::DriverError;
use crate::transport::embedded::{EmbeddedLocation, EmbeddedOptions, EmbeddedTransport};
#[cfg(feature = "http")]
use crate::transport::http::{HttpOptions, HttpTransport};
use crate::transport::Transport;
use std::sync::Arc;

/// Where [`connect`] goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The in-process engine.
    Embedded(EmbeddedLocation),
    /// HTTP; `None` = the regional endpoint.
    Http(Option<String>),
}

/// The environment variable naming the QLDB Session endpoint.
pub const ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_QLDB_SESSION";
/// The environment variable naming every AWS endpoint.
pub const GLOBAL_ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL";

/// The endpoint for an explicit URL or, without one, the environment.
pub fn resolve(explicit: Option<&str>) -> Result<Endpoint, DriverError> {
    let url = explicit
        .map(str::to_string)
        .or_else(|| env_nonempty(ENDPOINT_ENV))
        .or_else(|| env_nonempty(GLOBAL_ENDPOINT_ENV));
    let Some(url) = url else {
        return Ok(Endpoint::Http(None));
    };
    let url = url.trim().to_string();
    if let Some(location) = EmbeddedLocation::parse(&url) {
        return location.map(Endpoint::Embedded);
    }
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("http") | Some("https") => Ok(Endpoint::Http(Some(url))),
        _ => Err(DriverError::invalid_argument(format!(
            "Unsupported endpoint URL {url:?}: use http(s)://HOST[:PORT], memory://NAME or file:///ABS/DIR"
        ))),
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// How to reach the ledger.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// pyqldb's `endpoint_url`; `None` = the environment, then the regional endpoint.
    pub endpoint_url: Option<String>,
    /// Options of embedded endpoints.
    pub embedded: EmbeddedOptions,
    /// Options of HTTP endpoints (its `endpoint_url` is ignored: the one above applies).
    #[cfg(feature = "http")]
    pub http: HttpOptions,
}

impl ConnectOptions {
    /// Options for `endpoint_url`, defaults otherwise.
    pub fn endpoint(url: impl Into<String>) -> Self {
        ConnectOptions {
            endpoint_url: Some(url.into()),
            ..Default::default()
        }
    }
}

/// Builds the transport for `options` (see the module docs).
pub async fn connect(options: &ConnectOptions) -> Result<Arc<dyn Transport>, DriverError> {
    match resolve(options.endpoint_url.as_deref())? {
        Endpoint::Embedded(location) => {
            let t = EmbeddedTransport::open_async(&location, &options.embedded).await?;
            Ok(Arc::new(t))
        }
        #[cfg(feature = "http")]
        Endpoint::Http(url) => {
            let mut http = options.http.clone();
            http.endpoint_url = url;
            Ok(Arc::new(HttpTransport::connect(&http).await?))
        }
        #[cfg(not(feature = "http"))]
        Endpoint::Http(url) => Err(DriverError::invalid_argument(format!(
            "This build has no HTTP transport (feature `http`); endpoint {}",
            url.as_deref().unwrap_or("(regional)")
        ))),
    }
}
