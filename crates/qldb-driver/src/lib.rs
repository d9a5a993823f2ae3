//! The async core of a drop-in `pyqldb`: everything between the Python lambda and the ledger.
//!
//! - [`transport`]: the [`Transport`] trait (QLDB Session's seven commands) with an embedded
//!   transport over [`qldb_ledger::Engine`] and, with the default `http` feature, an HTTP
//!   transport (SendCommand over HTTP/1.1, SigV4); [`endpoint`] picks one from an endpoint URL
//!   (`memory://`, `file:///`, `http(s)://`, or `AWS_ENDPOINT_URL_QLDB_SESSION`).
//! - [`Driver`]: pyqldb 3.x's `execute_lambda` contract: a session pool (permits + idle FIFO),
//!   transactions with the commit digest, the retry loop driven by a [`RetryPolicy`]
//!   ([`RetryPolicy3x`] and [`RetryPolicy2x`] reproduce pyqldb), attempts recorded.
//! - [`Cursor`]: stream and read-ahead cursors with statistics.
//! - [`sync`]: the blocking facade ([`SyncDriver`]) whose body runs on the calling thread,
//!   for the Python binding; one process-wide runtime, re-created after fork.
//!
//! Errors are one opaque [`DriverError`] with accessors (`code()`, `is_occ()`,
//! `is_retryable_3x()`…); a body's own error travels separately ([`BodyError::User`] →
//! [`ExecuteError::User`]) and is never retried.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use qldb_driver::{BodyError, ConnectOptions, Driver, DriverConfig, IonParam};
//! let driver = Driver::connect(&ConnectOptions::endpoint("memory://demo"), DriverConfig::new("ledger")).await?;
//! let n = driver
//!     .execute(|txn| async move {
//!         txn.execute("CREATE TABLE t", vec![]).await?;
//!         let p = IonParam::from_element(ion_rs::Element::from(1i64))?;
//!         txn.execute("INSERT INTO t VALUE {'a': ?}", vec![p]).await?;
//!         let rows = txn.execute_buffered("SELECT * FROM t", vec![]).await?;
//!         Ok::<_, BodyError<std::convert::Infallible>>(rows.values.len())
//!     })
//!     .await?;
//! assert_eq!(n, 1);
//! # Ok(()) }
//! ```

pub mod cursor;
pub mod driver;
pub mod endpoint;
pub mod error;
pub mod param;
mod pool;
pub mod retry;
pub mod sync;
pub mod transaction;
pub mod transport;

pub use cursor::{BufferedResult, Cursor, CursorStats};
pub use driver::{
    decode_names, Driver, DriverConfig, ExecuteOptions, Execution, RetryObserver,
    DEFAULT_POOL_LIMIT, LIST_TABLES_STATEMENT, POOL_TIMEOUT_2X, POOL_TIMEOUT_3X,
};
pub use endpoint::{ConnectOptions, Endpoint};
pub use error::{BodyError, DriverError, ErrorKind, ExecuteError};
pub use param::IonParam;
pub use retry::{
    AttemptRecord, CustomBackoff, NoRetry, Phase, RetryContext, RetryDecision, RetryPolicy,
    RetryPolicy2x, RetryPolicy3x, RetryState,
};
pub use sync::{SyncCursor, SyncDriver, SyncTransaction};
pub use transaction::Transaction;
pub use transport::{
    CommitResult, EmbeddedOptions, EmbeddedTransport, IoUsage, Page, SessionStarted,
    StatementResult, Transport,
};
#[cfg(feature = "http")]
pub use transport::{HttpOptions, HttpTransport};

pub use async_trait::async_trait;
pub use qldb_ledger::{Engine, EngineConfig};
