//! The transaction a body runs in (pyqldb's `Executor` over its `Transaction`): it executes
//! statements, keeps the commit digest, and is committed or aborted by the driver when the body
//! returns.
//!
//! The digest is updated **before** each statement is sent (`spec/hashing.md` §3): the
//! statement hash over the text and each parameter's Ion Hash, folded into the running digest
//! that started as the hash of the transaction id. Statements of one transaction are sent one
//! at a time, in the order their hashes entered the digest (a lock is held from hashing to the
//! answer). At commit the echoed digest must equal the one sent byte for byte and the echoed
//! transaction id must be this one; otherwise the commit fails with `DigestMismatch` /
//! `TransactionIdMismatch` (pyqldb's `IllegalStateError`) and the driver aborts.
//!
//! [`Transaction`] is a cheap handle (clone it freely, e.g. into a Python `Executor`); once the
//! attempt ends it is closed: statements fail with `TransactionClosed` and its cursors with
//! `ResultClosed`.

use crate::cursor::Cursor;
use crate::error::DriverError;
use crate::param::IonParam;
use crate::transport::{CommitResult, Transport};
use parking_lot::Mutex;
use qldb_ion::{CommitDigest, Hash};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::task::AbortHandle;

/// State shared by a transaction's handles and cursors.
pub(crate) struct TxnShared {
    pub(crate) id: Arc<str>,
    pub(crate) session_token: Arc<str>,
    pub(crate) transport: Arc<dyn Transport>,
    read_ahead: usize,
    /// The running digest; held while a statement is hashed and sent, so send order is hash
    /// order.
    digest: tokio::sync::Mutex<CommitDigest>,
    closed: AtomicBool,
    producers: Mutex<Vec<AbortHandle>>,
}

impl TxnShared {
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn register_producer(&self, handle: AbortHandle) {
        let mut p = self.producers.lock();
        p.retain(|h| !h.is_finished());
        p.push(handle);
    }

    /// Ends the transaction for its handles and cursors; stops read-ahead producers.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for p in self.producers.lock().drain(..) {
            p.abort();
        }
    }
}

/// An open transaction. Cheap to clone; every clone refers to the same transaction.
#[derive(Clone)]
pub struct Transaction {
    pub(crate) shared: Arc<TxnShared>,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("id", &self.shared.id)
            .field("closed", &self.shared.is_closed())
            .finish()
    }
}

impl Transaction {
    pub(crate) fn new(
        id: String,
        session_token: Arc<str>,
        transport: Arc<dyn Transport>,
        read_ahead: usize,
    ) -> Transaction {
        let digest = CommitDigest::new(&id);
        Transaction {
            shared: Arc::new(TxnShared {
                id: Arc::from(id),
                session_token,
                transport,
                read_ahead,
                digest: tokio::sync::Mutex::new(digest),
                closed: AtomicBool::new(false),
                producers: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The transaction id (pyqldb's `Executor.transaction_id`).
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// The session token.
    pub fn session_token(&self) -> &str {
        &self.shared.session_token
    }

    /// Whether the transaction has ended (committed, aborted, or its attempt failed).
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// Executes a statement (pyqldb's `Executor.execute_statement`); the result is a stream
    /// cursor, or a read-ahead cursor when the driver's `read_ahead >= 2`.
    pub async fn execute(
        &self,
        statement: &str,
        parameters: Vec<IonParam>,
    ) -> Result<Cursor, DriverError> {
        let s = &self.shared;
        if s.is_closed() {
            return Err(DriverError::transaction_closed());
        }
        let hashes: Vec<Hash> = parameters.iter().map(|p| *p.hash()).collect();
        let mut digest = s.digest.lock().await;
        if s.is_closed() {
            return Err(DriverError::transaction_closed());
        }
        digest.add_statement(statement, &hashes);
        tracing::trace!(transaction_id = %s.id, statement, "ExecuteStatement");
        let result = s
            .transport
            .execute_statement(&s.session_token, &s.id, statement, &parameters)
            .await;
        drop(digest);
        Ok(Cursor::new(s.clone(), result?, s.read_ahead))
    }

    /// Executes a statement and reads its whole result.
    pub async fn execute_buffered(
        &self,
        statement: &str,
        parameters: Vec<IonParam>,
    ) -> Result<crate::cursor::BufferedResult, DriverError> {
        self.execute(statement, parameters)
            .await?
            .buffer_all()
            .await
    }

    /// pyqldb's `Executor.abort()`: returns the `LambdaAborted` error for the body to return;
    /// the driver then sends AbortTransaction and hands that error to the caller, unretried.
    /// Statements after it fail with `TransactionClosed`.
    pub fn abort(&self) -> DriverError {
        self.shared.close();
        DriverError::lambda_aborted()
    }

    /// The current commit digest.
    pub async fn digest(&self) -> Hash {
        self.shared.digest.lock().await.value()
    }

    /// CommitTransaction with the digest check. Closes the transaction first, so no statement
    /// can slip in between.
    pub(crate) async fn commit(&self) -> Result<CommitResult, DriverError> {
        let s = &self.shared;
        let digest = s.digest.lock().await;
        if s.is_closed() {
            // `abort()` was called and its error swallowed by the body.
            return Err(DriverError::lambda_aborted());
        }
        s.close();
        let sent = digest.value();
        drop(digest);
        let r = s
            .transport
            .commit_transaction(&s.session_token, &s.id, &sent)
            .await?;
        if r.commit_digest.as_deref() != Some(&sent[..]) {
            return Err(DriverError::digest_mismatch(&s.id));
        }
        if let Some(echoed) = &r.transaction_id {
            if echoed.as_str() != &*s.id {
                return Err(DriverError::transaction_id_mismatch(&s.id, echoed));
            }
        }
        Ok(r)
    }
}
