//! The seam between the driver and a QLDB Session endpoint: the [`Transport`] trait with the
//! seven session commands, their results, and the implementations: [`EmbeddedTransport`] (the
//! in-process ledger engine) and, with the `http` feature, [`HttpTransport`] (QLDB's
//! `SendCommand` over HTTP/1.1 with SigV4). [`crate::endpoint`] picks one from an
//! endpoint URL.
//!
//! Transports are stateless about sessions: the driver passes the session token to every call.
//! They never retry; every retry decision is the driver's.

use crate::error::DriverError;
use crate::param::IonParam;
use async_trait::async_trait;
use bytes::Bytes;

pub mod embedded;
#[cfg(feature = "http")]
pub mod http;

pub use embedded::{EmbeddedOptions, EmbeddedTransport};
#[cfg(feature = "http")]
pub use http::{HttpOptions, HttpTransport};

/// StartSession's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStarted {
    /// The opaque token sent with every later command.
    pub session_token: String,
    /// The session id pyqldb reports (`x-amzn-RequestId` of the StartSession response); may be
    /// empty when the endpoint sent none.
    pub session_id: String,
}

/// `ConsumedIOs` (`IOUsage`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoUsage {
    pub read_ios: u64,
    pub write_ios: u64,
}

/// One page of results: each value a complete Ion binary stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub values: Vec<Bytes>,
    /// `None` on the last page.
    pub next_page_token: Option<String>,
}

/// ExecuteStatement's and FetchPage's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementResult {
    pub page: Page,
    /// `None` when the endpoint sent no `ConsumedIOs`.
    pub consumed_ios: Option<IoUsage>,
    /// `TimingInformation.ProcessingTimeMilliseconds`, when sent.
    pub processing_ms: Option<u64>,
}

/// CommitTransaction's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitResult {
    /// The echoed transaction id, when sent.
    pub transaction_id: Option<String>,
    /// The echoed commit digest, when sent (the driver requires it to equal the one sent).
    pub commit_digest: Option<Bytes>,
    pub consumed_ios: Option<IoUsage>,
    pub processing_ms: Option<u64>,
}

/// The QLDB Session commands. Object safe: the driver holds an `Arc<dyn Transport>`.
#[async_trait]
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// StartSession on `ledger_name`.
    async fn start_session(&self, ledger_name: &str) -> Result<SessionStarted, DriverError>;

    /// StartTransaction; returns the transaction id.
    async fn start_transaction(&self, session_token: &str) -> Result<String, DriverError>;

    /// ExecuteStatement. Each parameter is sent as its `IonBinary` bytes; implementations that
    /// can use the decoded value and its hash (the embedded engine) take them from the
    /// [`IonParam`] instead of decoding again.
    async fn execute_statement(
        &self,
        session_token: &str,
        transaction_id: &str,
        statement: &str,
        parameters: &[IonParam],
    ) -> Result<StatementResult, DriverError>;

    /// FetchPage.
    async fn fetch_page(
        &self,
        session_token: &str,
        transaction_id: &str,
        next_page_token: &str,
    ) -> Result<StatementResult, DriverError>;

    /// CommitTransaction with the 32-byte commit digest.
    async fn commit_transaction(
        &self,
        session_token: &str,
        transaction_id: &str,
        commit_digest: &[u8; 32],
    ) -> Result<CommitResult, DriverError>;

    /// AbortTransaction.
    async fn abort_transaction(&self, session_token: &str) -> Result<(), DriverError>;

    /// EndSession.
    async fn end_session(&self, session_token: &str) -> Result<(), DriverError>;

    /// A short description for logs, e.g. `memory://demo` or `http://127.0.0.1:8080`.
    fn describe(&self) -> String;
}
