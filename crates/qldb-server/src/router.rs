//! Request dispatch: reads the body under the size limit, checks the SigV4 signature when the
//! server requires one, and sends the request to the session plane (any request with an
//! `X-Amz-Target` header), the admin API (`/_qldb_local/…`, loopback only) or the control plane
//! (REST paths). Every response carries `x-amzn-RequestId`; every error has the AWS shape
//! `{"__type", "Message"}` and an `X-Amzn-ErrorType` header.

use crate::server::AppState;
use crate::{admin, control, session, sigv4};
use bytes::Bytes;
use http::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{request::Parts, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use qldb_ledger::LedgerError;
use qldb_wire::{ErrorBody, ErrorCode, WireError};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

pub(crate) type Resp = Response<Full<Bytes>>;

/// Returned by the service to make hyper close the connection without answering (the `drop`
/// fault, or a client that went away mid-body).
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped")
    }
}

impl std::error::Error for DropConnection {}

/// Which API a request belongs to; decides the content type of errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plane {
    Session,
    Control,
    Admin,
}

impl Plane {
    fn content_type(self) -> &'static str {
        match self {
            Plane::Session => qldb_wire::AMZ_JSON_1_0,
            Plane::Control | Plane::Admin => qldb_wire::REST_JSON,
        }
    }
}

/// A response before it becomes an HTTP response.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// Overrides the generated request id (StartSession answers with the session id).
    pub request_id: Option<String>,
    pub error_type: Option<String>,
    /// Ask the client to close the connection (the body was not read to its end).
    pub close: bool,
}

impl Reply {
    pub fn json(plane: Plane, status: u16, value: &impl serde::Serialize) -> Reply {
        match serde_json::to_vec(value) {
            Ok(body) => Reply {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                content_type: plane.content_type(),
                body,
                request_id: None,
                error_type: None,
                close: false,
            },
            Err(e) => Reply::error(
                plane,
                ErrorBody::new(
                    ErrorCode::InternalFailure.as_str(),
                    format!("Cannot serialise the response: {e}"),
                ),
            ),
        }
    }

    pub fn empty(plane: Plane) -> Reply {
        Reply {
            status: StatusCode::OK,
            content_type: plane.content_type(),
            body: Vec::new(),
            request_id: None,
            error_type: None,
            close: false,
        }
    }

    pub fn error(plane: Plane, body: ErrorBody) -> Reply {
        let status =
            StatusCode::from_u16(body.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let error_type = body.error_type.clone();
        let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| {
            br#"{"__type":"InternalFailure","Message":"Cannot serialise the error"}"#.to_vec()
        });
        Reply {
            status,
            content_type: plane.content_type(),
            body: bytes,
            request_id: None,
            error_type: Some(error_type),
            close: false,
        }
    }

    pub fn wire_error(plane: Plane, e: WireError) -> Reply {
        Reply::error(plane, e.to_body())
    }

    /// Overrides the status (unknown paths answer 404 with `UnknownOperationException`).
    pub fn with_status(mut self, status: StatusCode) -> Reply {
        self.status = status;
        self
    }

    pub fn with_request_id(mut self, id: String) -> Reply {
        self.request_id = Some(id);
        self
    }

    fn into_response(self, request_id: &str) -> Resp {
        let len = self.body.len();
        let mut resp = Response::new(Full::new(Bytes::from(self.body)));
        *resp.status_mut() = self.status;
        let h = resp.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        h.insert(CONTENT_LENGTH, HeaderValue::from(len));
        let id = self.request_id.as_deref().unwrap_or(request_id);
        if let Ok(v) = HeaderValue::from_str(id) {
            h.insert(qldb_wire::REQUEST_ID_HEADER, v);
        }
        if let Some(t) = self
            .error_type
            .as_deref()
            .and_then(|t| HeaderValue::from_str(t).ok())
        {
            h.insert(qldb_wire::ERROR_TYPE_HEADER, t);
        }
        if self.close {
            h.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }
}

/// The error body of a ledger error, with the control plane's modelled members.
pub(crate) fn ledger_error_body(e: &LedgerError) -> ErrorBody {
    let mut body = ErrorBody::new(e.code(), e.message());
    match e {
        LedgerError::ResourceNotFound { name, .. }
        | LedgerError::ResourceAlreadyExists { name, .. }
        | LedgerError::ResourceInUse { name, .. }
        | LedgerError::ResourcePreconditionNotMet { name, .. } => {
            body.resource_type = Some(qldb_wire::control::RESOURCE_TYPE_LEDGER.into());
            body.resource_name = Some(name.clone());
        }
        LedgerError::InvalidParameter { parameter, .. } => {
            body.parameter_name = parameter.clone();
        }
        _ => {}
    }
    body
}

/// A 500 for a task that panicked or was cancelled: the request is answered, the server goes
/// on.
pub(crate) fn internal_failure(what: &str, e: impl std::fmt::Display) -> ErrorBody {
    tracing::error!(error = %e, "{what}");
    ErrorBody::new(
        ErrorCode::InternalFailure.as_str(),
        format!("Internal failure while {what}"),
    )
}

enum BodyError {
    TooLarge,
    /// The client went away or sent a broken body.
    Broken,
}

/// Most a too-large body is read (and discarded) so the client can see the 413.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(5);
/// Time a client has to send a request body once its headers arrived.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);

async fn read_body(mut body: Incoming, limit: usize) -> Result<Bytes, BodyError> {
    let mut buf = bytes::BytesMut::new();
    loop {
        match body.frame().await {
            None => return Ok(buf.freeze()),
            Some(Err(_)) => return Err(BodyError::Broken),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if buf.len() + data.len() > limit {
                        drain(body, buf.len() + data.len()).await;
                        return Err(BodyError::TooLarge);
                    }
                    buf.extend_from_slice(&data);
                }
            }
        }
    }
}

/// Reads and discards what remains of a body, within limits, so the client that is still
/// sending does not get a reset instead of the answer.
async fn drain(mut body: Incoming, mut seen: usize) {
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while seen < DRAIN_LIMIT {
            match body.frame().await {
                Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len()),
                _ => break,
            }
        }
    })
    .await;
}

fn authorize(state: &AppState, parts: &Parts, body: &[u8]) -> Result<(), ErrorBody> {
    let Some(credentials) = &state.credentials else {
        return Ok(());
    };
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
        .collect();
    let req = sigv4::RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body,
    };
    sigv4::verify(
        &req,
        credentials,
        qldb_wire::SIGNING_NAME,
        SystemTime::now(),
    )
    .map_err(|e| ErrorBody::new(e.code, e.message))
}

/// The service function: one request in, one response (or a dropped connection) out.
pub(crate) async fn handle(
    state: Arc<AppState>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Resp, DropConnection> {
    let started = Instant::now();
    let request_id = qldb_ion::new_id();
    let (parts, body) = req.into_parts();
    let result = route(&state, peer, &parts, body).await;
    let elapsed = started.elapsed();
    match result {
        Ok(reply) => {
            let status = reply.status.as_u16();
            let code = reply.error_type.clone().unwrap_or_default();
            if status >= 500 {
                tracing::warn!(%peer, method = %parts.method, path = parts.uri.path(), status, code, ?elapsed, "request failed");
            } else {
                tracing::debug!(%peer, method = %parts.method, path = parts.uri.path(), status, code, ?elapsed, "request");
            }
            Ok(reply.into_response(&request_id))
        }
        Err(DropConnection) => {
            tracing::debug!(%peer, method = %parts.method, path = parts.uri.path(), "connection dropped without an answer");
            Err(DropConnection)
        }
    }
}

async fn route(
    state: &Arc<AppState>,
    peer: SocketAddr,
    parts: &Parts,
    body: Incoming,
) -> Result<Reply, DropConnection> {
    let path = parts.uri.path();
    let plane = if path.starts_with(admin::PREFIX) {
        Plane::Admin
    } else if parts.headers.contains_key("x-amz-target") {
        Plane::Session
    } else {
        Plane::Control
    };
    let limit = state.max_body_bytes;
    let announced = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let too_large = || {
        let mut r = Reply::wire_error(
            plane,
            WireError::new(
                ErrorCode::RequestEntityTooLarge,
                format!("The request body exceeds the limit of {limit} bytes"),
            ),
        );
        r.close = true;
        r
    };
    let body = if announced.is_some_and(|n| n > limit as u64) {
        drain(body, 0).await;
        return Ok(too_large());
    } else {
        match tokio::time::timeout(BODY_READ_TIMEOUT, read_body(body, limit)).await {
            Ok(Ok(b)) => b,
            Ok(Err(BodyError::TooLarge)) => return Ok(too_large()),
            Ok(Err(BodyError::Broken)) | Err(_) => return Err(DropConnection),
        }
    };
    if plane == Plane::Admin {
        return Ok(admin::handle(state, peer, parts, &body));
    }
    if let Err(e) = authorize(state, parts, &body) {
        tracing::info!(%peer, code = %e.error_type, message = %e.message, "request refused");
        return Ok(Reply::error(plane, e));
    }
    match plane {
        Plane::Session => {
            let target = parts
                .headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if target != qldb_wire::SEND_COMMAND_TARGET {
                return Ok(Reply::wire_error(
                    plane,
                    WireError::new(
                        ErrorCode::UnknownOperation,
                        format!(
                            "Unknown operation {target:?}: this endpoint serves {}",
                            qldb_wire::SEND_COMMAND_TARGET
                        ),
                    ),
                ));
            }
            if parts.method != http::Method::POST {
                return Ok(Reply::wire_error(
                    plane,
                    WireError::new(
                        ErrorCode::UnknownOperation,
                        format!("SendCommand is POST /, not {} {}", parts.method, path),
                    ),
                ));
            }
            session::handle(state, body).await
        }
        _ => Ok(control::handle(state, parts, body).await),
    }
}
