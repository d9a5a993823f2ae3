//! The wire format of QLDB's two APIs, shared by the `qldb-local` server, its tests and any
//! client: JSON shapes with AWS's exact member names, the shape constraints, error codes with
//! their HTTP statuses and the error body. No I/O happens here.
//!
//! - [`session`]: the session data plane (`QLDBSession.SendCommand`, AWS JSON 1.0): requests,
//!   results and the one-command-per-request rule (`spec/wire-protocol.md` §1–§2).
//! - [`control`]: the control-plane subset (REST-JSON): CreateLedger … GetBlock (§6).
//! - [`error`]: [`ErrorCode`], HTTP statuses (§3, §6.1) and the `{"__type", "Message"}` body.
//! - [`validate`]: the model's constraints (ledger names, tokens, transaction ids, statements,
//!   value holders).
//! - [`sigv4`]: AWS Signature Version 4 as QLDB uses it: signing (the driver, the load client)
//!   and verification (`qldb-local --auth`), one canonical-request implementation for both.
//! - [`Blob`]: bytes carried as base64 strings.

pub mod blob;
pub mod control;
pub mod error;
pub mod session;
pub mod sigv4;
pub mod validate;

pub use blob::Blob;
pub use error::{http_status, ErrorBody, ErrorCode, WireError};
pub use session::{
    AbortTransactionResult, Command, CommitTransactionRequest, CommitTransactionResult,
    EmptyRequest, EndSessionResult, ExecuteStatementRequest, ExecuteStatementResult,
    FetchPageRequest, FetchPageResult, IoUsage, Page, SendCommandRequest, SendCommandResponse,
    StartSessionRequest, StartSessionResult, StartTransactionResult, TimingInformation,
    ValueHolder,
};

/// `X-Amz-Target` of the session plane's only operation.
pub const SEND_COMMAND_TARGET: &str = "QLDBSession.SendCommand";
/// The target prefix of the session service.
pub const TARGET_PREFIX: &str = "QLDBSession";
/// Content type of the session plane (AWS JSON 1.0), requests and responses.
pub const AMZ_JSON_1_0: &str = "application/x-amz-json-1.0";
/// Content type of the control plane (REST-JSON).
pub const REST_JSON: &str = "application/json";
/// Header carrying the request id on every response.
pub const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";
/// Header carrying the error code on error responses.
pub const ERROR_TYPE_HEADER: &str = "X-Amzn-ErrorType";
/// SigV4 signing name of both planes (not `session.qldb`, not `qldb-session`).
pub const SIGNING_NAME: &str = "qldb";
