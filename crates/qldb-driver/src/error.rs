//! Errors of the driver: one opaque [`DriverError`] that the retry policy and the Python layer
//! *ask questions of* (`code()`, `is_occ()`, `is_retryable_3x()`, …) instead of matching
//! variants, in the style of tokio-postgres' `Error`; plus [`BodyError`] and [`ExecuteError`],
//! which keep a transaction body's own error (a Python exception later) apart from driver errors
//! so that it reaches the caller unchanged and is never retried.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What kind of failure a [`DriverError`] is. `#[non_exhaustive]`: match with a fallback arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The service (or the embedded ledger) answered with an error: see `code()`,
    /// `message()` and `http_status()`. In Python this is a botocore `ClientError`.
    Service,
    /// The request did not get an answer: connection refused, reset or dropped, a timeout, or a
    /// response that could not be read. pyqldb 3.x retries these (botocore's
    /// `RETRYABLE_HTTP_ERRORS`).
    Transport,
    /// No pool permit within the pool timeout (`SessionPoolEmptyError(timeout)`).
    SessionPoolEmpty { timeout: Duration },
    /// The driver was closed (`DriverClosedError`).
    DriverClosed,
    /// A cursor was read after its transaction ended or after it was closed
    /// (`ResultClosedError(session_token)`).
    ResultClosed { session_token: String },
    /// A statement was sent on a transaction that has ended (`TransactionClosedError`).
    TransactionClosed,
    /// The commit digest echoed by the service differs from the one sent
    /// (`IllegalStateError`; AbortTransaction is sent, no retry).
    DigestMismatch,
    /// The transaction id echoed by CommitTransaction differs from the open one
    /// (`IllegalStateError`, like [`ErrorKind::DigestMismatch`]).
    TransactionIdMismatch,
    /// `Transaction::abort()` was called in the body (`LambdaAbortedError`).
    LambdaAborted,
    /// A statement parameter is not a single valid Ion value.
    InvalidParameter,
    /// A bad argument or configuration (read-ahead of 1, unknown endpoint scheme, no region…).
    InvalidArgument,
    /// The service's answer lacks a member the protocol requires.
    Protocol,
}

struct Inner {
    kind: ErrorKind,
    code: Option<String>,
    message: String,
    http_status: Option<u16>,
    request_id: Option<String>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// An error of the driver or of the service it talks to. Cheap to clone.
#[derive(Clone)]
pub struct DriverError(Arc<Inner>);

/// pyqldb's message for `DriverClosedError`.
pub const DRIVER_CLOSED_MESSAGE: &str =
    "Cannot invoke methods on a closed driver. Please create a new driver and retry.";
/// pyqldb's message for `TransactionClosedError`.
pub const TRANSACTION_CLOSED_MESSAGE: &str =
    "Cannot invoke methods on a closed transaction. Please start a new transaction and retry.";
/// pyqldb's message for `LambdaAbortedError`.
pub const LAMBDA_ABORTED_MESSAGE: &str = "Abort invoked; halting execution of lambda function.";

impl DriverError {
    fn build(
        kind: ErrorKind,
        code: Option<String>,
        message: String,
        http_status: Option<u16>,
        request_id: Option<String>,
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        DriverError(Arc::new(Inner {
            kind,
            code,
            message,
            http_status,
            request_id,
            source,
        }))
    }

    /// A service error: an AWS error code, its message, the HTTP status and the request id.
    pub fn service(
        code: impl Into<String>,
        message: impl Into<String>,
        http_status: Option<u16>,
        request_id: Option<String>,
    ) -> Self {
        Self::build(
            ErrorKind::Service,
            Some(code.into()),
            message.into(),
            http_status,
            request_id,
            None,
        )
    }

    /// A service error whose code is unknown (e.g. an HTTP 500 with an unreadable body).
    pub fn service_without_code(
        message: impl Into<String>,
        http_status: Option<u16>,
        request_id: Option<String>,
    ) -> Self {
        Self::build(
            ErrorKind::Service,
            None,
            message.into(),
            http_status,
            request_id,
            None,
        )
    }

    /// A transport error (no answer was received).
    pub fn transport(
        message: impl Into<String>,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::build(
            ErrorKind::Transport,
            None,
            message.into(),
            None,
            None,
            source.map(Arc::from),
        )
    }

    pub(crate) fn of_kind(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self::build(kind, None, message.into(), None, None, None)
    }

    /// `SessionPoolEmptyError(timeout)` with pyqldb's message.
    pub fn session_pool_empty(timeout: Duration) -> Self {
        let secs = timeout.as_secs_f64();
        Self::of_kind(
            ErrorKind::SessionPoolEmpty { timeout },
            format!(
                "Session pool is empty after waiting for {secs} seconds. Please close existing \
                 sessions first before retrying."
            ),
        )
    }

    /// `DriverClosedError`.
    pub fn driver_closed() -> Self {
        Self::of_kind(ErrorKind::DriverClosed, DRIVER_CLOSED_MESSAGE)
    }

    /// `ResultClosedError(session_token)` with pyqldb's message.
    pub fn result_closed(session_token: &str) -> Self {
        Self::of_kind(
            ErrorKind::ResultClosed {
                session_token: session_token.to_string(),
            },
            format!(
                "A streamed result is only valid when the parent transaction is open. Please \
                 start a new transaction and retry.\nSessionToken: {session_token}"
            ),
        )
    }

    /// `TransactionClosedError`.
    pub fn transaction_closed() -> Self {
        Self::of_kind(ErrorKind::TransactionClosed, TRANSACTION_CLOSED_MESSAGE)
    }

    /// The commit digest mismatch (`IllegalStateError`) with pyqldb's message.
    pub fn digest_mismatch(transaction_id: &str) -> Self {
        Self::of_kind(
            ErrorKind::DigestMismatch,
            format!(
                "Transaction's commit digest did not match returned value from QLDB. Please \
                 retry with a new transaction. Transaction ID: {transaction_id}"
            ),
        )
    }

    /// The echoed transaction id differs from the open transaction's (`IllegalStateError`).
    pub fn transaction_id_mismatch(sent: &str, echoed: &str) -> Self {
        Self::of_kind(
            ErrorKind::TransactionIdMismatch,
            format!(
                "CommitTransaction returned transaction id {echoed} for transaction {sent}. \
                 Please retry with a new transaction. Transaction ID: {sent}"
            ),
        )
    }

    /// `LambdaAbortedError`.
    pub fn lambda_aborted() -> Self {
        Self::of_kind(ErrorKind::LambdaAborted, LAMBDA_ABORTED_MESSAGE)
    }

    /// A parameter that is not one valid Ion value.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::of_kind(ErrorKind::InvalidParameter, message)
    }

    /// A bad argument or configuration.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::of_kind(ErrorKind::InvalidArgument, message)
    }

    /// A malformed answer from the service.
    pub fn protocol(message: impl Into<String>) -> Self {
        Self::of_kind(ErrorKind::Protocol, message)
    }

    /// The kind of failure.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The AWS error code, e.g. `"OccConflictException"`, for service errors.
    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }

    /// The message text (the service's `Message` for service errors).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The HTTP status of a service error (the embedded ledger reports the status the server
    /// would send: 400, 503 for `CapacityExceededException`, 500 for internal failures).
    pub fn http_status(&self) -> Option<u16> {
        self.0.http_status
    }

    /// The request id (`x-amzn-RequestId`) of a service error, when the service sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// No answer was received: connection refused, reset or dropped, or a timeout.
    pub fn is_transport(&self) -> bool {
        self.0.kind == ErrorKind::Transport
    }

    /// A service error (botocore `ClientError` in Python).
    pub fn is_service(&self) -> bool {
        self.0.kind == ErrorKind::Service
    }

    /// `OccConflictException`.
    pub fn is_occ(&self) -> bool {
        self.code() == Some("OccConflictException")
    }

    /// `InvalidSessionException` (expired transactions included).
    pub fn is_invalid_session(&self) -> bool {
        self.code() == Some("InvalidSessionException")
    }

    /// `BadRequestException`.
    pub fn is_bad_request(&self) -> bool {
        self.code() == Some("BadRequestException")
    }

    /// An `InvalidSessionException` whose message matches `Transaction .* has expired`
    /// (pyqldb's `re.search`): the transaction's 30 s ran out. Not retried by 3.x.
    pub fn is_transaction_expired(&self) -> bool {
        self.is_invalid_session() && matches_transaction_expired(self.message())
    }

    /// pyqldb 3.x's `is_retriable_exception` plus its `RETRYABLE_HTTP_ERRORS`: HTTP 500 or 503,
    /// `NoHttpResponseException`, `SocketTimeoutException`, `OccConflictException`, an
    /// `InvalidSessionException` that is not a transaction expiry, and transport errors.
    pub fn is_retryable_3x(&self) -> bool {
        if self.is_transport() {
            return true;
        }
        self.is_retryable_common() || (self.is_invalid_session() && !self.is_transaction_expired())
    }

    /// pyqldb 2.x's classification: HTTP 500 or 503, `NoHttpResponseException`,
    /// `SocketTimeoutException`, `OccConflictException` and every `InvalidSessionException`
    /// (expiry included). Transport errors are not retried by 2.x.
    pub fn is_retryable_2x(&self) -> bool {
        self.is_retryable_common() || self.is_invalid_session()
    }

    fn is_retryable_common(&self) -> bool {
        if !self.is_service() {
            return false;
        }
        matches!(self.http_status(), Some(500) | Some(503))
            || matches!(
                self.code(),
                Some("NoHttpResponseException")
                    | Some("SocketTimeoutException")
                    | Some("OccConflictException")
            )
    }

    /// The commit digest or transaction id echoed by the service did not match: pyqldb's
    /// `IllegalStateError`.
    pub fn is_illegal_state(&self) -> bool {
        matches!(
            self.0.kind,
            ErrorKind::DigestMismatch
                | ErrorKind::TransactionIdMismatch
                | ErrorKind::DriverClosed
                | ErrorKind::ResultClosed { .. }
                | ErrorKind::TransactionClosed
        )
    }
}

/// `re.search("Transaction .* has expired", message)`: "Transaction", one space, any
/// characters (none included), one space, "has expired". `.` does not match a newline.
pub fn matches_transaction_expired(message: &str) -> bool {
    const HEAD: &str = "Transaction ";
    const TAIL: &str = " has expired";
    message.split('\n').any(|line| {
        line.match_indices(HEAD)
            .any(|(i, _)| line[i + HEAD.len()..].contains(TAIL))
    })
}

impl fmt::Debug for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("DriverError");
        d.field("kind", &self.0.kind);
        if let Some(c) = &self.0.code {
            d.field("code", c);
        }
        d.field("message", &self.0.message);
        if let Some(s) = self.0.http_status {
            d.field("http_status", &s);
        }
        if let Some(r) = &self.0.request_id {
            d.field("request_id", r);
        }
        if let Some(s) = &self.0.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.code {
            Some(code) => write!(f, "{code}: {}", self.0.message),
            None => f.write_str(&self.0.message),
        }
    }
}

impl std::error::Error for DriverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// What a transaction body may fail with: its own error `E` (passed through untouched, never
/// retried; AbortTransaction is sent) or a driver error (classified by the retry policy).
/// `?` on a driver call inside the body converts through `From<DriverError>`.
#[derive(Debug)]
pub enum BodyError<E> {
    User(E),
    Driver(DriverError),
}

impl<E> From<DriverError> for BodyError<E> {
    fn from(e: DriverError) -> Self {
        BodyError::Driver(e)
    }
}

/// The error of `Driver::execute`: the body's own error unchanged, or the driver error that
/// ended the execution (not retryable, or the retry limit reached).
#[derive(Debug)]
pub enum ExecuteError<E> {
    User(E),
    Driver(DriverError),
}

impl<E> ExecuteError<E> {
    /// The driver error, if this is one.
    pub fn driver(&self) -> Option<&DriverError> {
        match self {
            ExecuteError::Driver(e) => Some(e),
            ExecuteError::User(_) => None,
        }
    }

    /// The body's error, if this is one.
    pub fn into_user(self) -> Option<E> {
        match self {
            ExecuteError::User(e) => Some(e),
            ExecuteError::Driver(_) => None,
        }
    }
}

impl<E> From<DriverError> for ExecuteError<E> {
    fn from(e: DriverError) -> Self {
        ExecuteError::Driver(e)
    }
}

impl<E: fmt::Display> fmt::Display for ExecuteError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecuteError::User(e) => e.fmt(f),
            ExecuteError::Driver(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for ExecuteError<E> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_regex() {
        assert!(matches_transaction_expired("Transaction ABC has expired"));
        assert!(matches_transaction_expired(
            "x Transaction a b c has expired y"
        ));
        // `.*` matches the empty string: "Transaction  has expired" (two spaces).
        assert!(matches_transaction_expired("Transaction  has expired"));
        assert!(!matches_transaction_expired("Transaction has expired"));
        assert!(!matches_transaction_expired("Session ABC has expired"));
        assert!(!matches_transaction_expired("Transaction ABC\nhas expired"));
        assert!(!matches_transaction_expired("transaction ABC has expired"));
    }
}
