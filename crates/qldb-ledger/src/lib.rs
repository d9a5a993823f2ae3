//! An embedded, QLDB-compatible ledger: PartiQL over exact Ion, serializable optimistic
//! concurrency control, and a hash-chained journal with digests and proofs.
//!
//! [`Engine`] is the entry point: it holds ledgers (in memory or in a data directory) and
//! offers QLDB's control-plane operations and the session plane's commands (StartSession …
//! CommitTransaction) as a Rust API mirroring the wire protocol.

pub mod clock;
pub mod engine;
pub mod error;
pub mod eval;
mod exec;
pub mod journal;
pub mod ledger;
pub mod partiql;
pub mod revision;
pub mod state;
pub mod storage;
pub mod txn;

pub use engine::{
    CommitResult, CreateLedgerRequest, Engine, EngineConfig, LedgerDescription, Page,
    PendingCommit, SessionStarted, StatementResult,
};
pub use error::{LedgerError, LedgerResult};
pub use ledger::{Committing, Ledger, VerifyReport};
pub use revision::BlockAddress;
