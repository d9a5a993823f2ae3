//! The session pool (pyqldb 3.x, `spec/pyqldb-api.md` §5): a semaphore of `pool_limit`
//! permits bounding concurrent executions, plus a FIFO of idle sessions, created lazily and
//! reused in order.
//!
//! A [`Lease`] owns one permit for a whole execution (all its attempts and backoff sleeps, as
//! pyqldb holds its permit until the retry loop releases the session) and at most one session.
//! It is an RAII guard: however the execution ends (return, error, panic, a dropped future),
//! its `Drop` returns a live session to the idle FIFO, drops a dead one without EndSession,
//! and releases the permit exactly once (the permit is an `OwnedSemaphorePermit`). A session
//! whose transaction was still open when the lease dropped is never pooled: reusing it would
//! fail with "Transaction already open". pyqldb's double release (§9.1) cannot happen.
//!
//! After [`Pool::close`], released sessions are ended (EndSession in the background) instead
//! of being pooled, so sessions in use at close time are not leaked. A session left with an
//! open transaction (the execution's future was dropped, or a sync wait was interrupted) is
//! ended the same way rather than pooled.

use crate::error::DriverError;
use crate::transport::Transport;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One QLDB session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) token: Arc<str>,
    pub(crate) id: String,
}

pub(crate) struct Pool {
    transport: Arc<dyn Transport>,
    ledger_name: String,
    limit: usize,
    permits: Arc<Semaphore>,
    /// Idle sessions, oldest first; `closed` lives under the same lock so a release racing
    /// with `close` either lands before the drain or sees the flag.
    idle: Mutex<Idle>,
    validate_on_reuse: bool,
}

struct Idle {
    sessions: VecDeque<Session>,
    closed: bool,
}

impl Pool {
    pub(crate) fn new(
        transport: Arc<dyn Transport>,
        ledger_name: String,
        limit: usize,
        validate_on_reuse: bool,
    ) -> Pool {
        Pool {
            transport,
            ledger_name,
            limit,
            permits: Arc::new(Semaphore::new(limit)),
            idle: Mutex::new(Idle {
                sessions: VecDeque::new(),
                closed: false,
            }),
            validate_on_reuse,
        }
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    pub(crate) fn available_permits(&self) -> usize {
        self.permits.available_permits()
    }

    pub(crate) fn idle_count(&self) -> usize {
        self.idle.lock().sessions.len()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.idle.lock().closed
    }

    /// Waits at most `timeout` for a permit (no wait for a zero timeout).
    pub(crate) async fn acquire(self: &Arc<Self>, timeout: Duration) -> Result<Lease, DriverError> {
        let permit = if timeout.is_zero() {
            self.permits.clone().try_acquire_owned().ok()
        } else {
            tokio::time::timeout(timeout, self.permits.clone().acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
        };
        match permit {
            Some(permit) => Ok(Lease {
                pool: self.clone(),
                _permit: permit,
                session: None,
                in_transaction: false,
            }),
            None => Err(DriverError::session_pool_empty(timeout)),
        }
    }

    /// Marks the pool closed and ends every idle session; errors are logged.
    pub(crate) async fn close(&self) {
        let sessions: Vec<Session> = {
            let mut idle = self.idle.lock();
            idle.closed = true;
            idle.sessions.drain(..).collect()
        };
        for s in sessions {
            end_session(&*self.transport, &s).await;
        }
    }

    fn take_idle(&self) -> Option<Session> {
        self.idle.lock().sessions.pop_front()
    }

    async fn start_session(&self) -> Result<Session, DriverError> {
        let started = self.transport.start_session(&self.ledger_name).await?;
        tracing::debug!(session_id = %started.session_id, ledger = %self.ledger_name, "session started");
        Ok(Session {
            token: Arc::from(started.session_token),
            id: started.session_id,
        })
    }
}

async fn end_session(transport: &dyn Transport, s: &Session) {
    if let Err(e) = transport.end_session(&s.token).await {
        tracing::warn!(session_id = %s.id, error = %e, "EndSession failed");
    }
}

/// A permit plus the session an execution uses. See the module docs.
pub(crate) struct Lease {
    pool: Arc<Pool>,
    _permit: OwnedSemaphorePermit,
    session: Option<Session>,
    in_transaction: bool,
}

impl Lease {
    pub(crate) fn transport(&self) -> &Arc<dyn Transport> {
        &self.pool.transport
    }

    /// The session for the next attempt: the one kept from the previous attempt, else an idle
    /// one (not when `fresh`, i.e. after the previous session died), else a new one.
    pub(crate) async fn session(&mut self, fresh: bool) -> Result<Session, DriverError> {
        if let Some(s) = &self.session {
            return Ok(s.clone());
        }
        if !fresh {
            while let Some(s) = self.pool.take_idle() {
                if self.pool.validate_on_reuse {
                    // pyqldb 2.x checks a pooled session with AbortTransaction.
                    if let Err(e) = self.pool.transport.abort_transaction(&s.token).await {
                        tracing::debug!(session_id = %s.id, error = %e, "pooled session failed its check; discarded");
                        continue;
                    }
                }
                self.session = Some(s.clone());
                return Ok(s);
            }
        }
        let s = self.pool.start_session().await?;
        self.session = Some(s.clone());
        Ok(s)
    }

    /// The session held now, if any.
    pub(crate) fn current(&self) -> Option<Session> {
        self.session.clone()
    }

    /// Marks the start and end of a transaction on the session.
    pub(crate) fn set_in_transaction(&mut self, v: bool) {
        self.in_transaction = v;
    }

    /// The session died (invalid session, failed abort): drop it without EndSession.
    pub(crate) fn discard_session(&mut self) {
        if let Some(s) = self.session.take() {
            tracing::debug!(session_id = %s.id, "session discarded");
        }
        self.in_transaction = false;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        if self.in_transaction {
            // A cancelled or interrupted execution: the session still has a transaction open.
            // It is not pooled; EndSession (which also ends the transaction) goes out in the
            // background so the server does not keep it until it expires.
            tracing::debug!(session_id = %session.id, "execution ended inside a transaction; session ended");
        } else {
            let mut idle = self.pool.idle.lock();
            if !idle.closed {
                idle.sessions.push_back(session);
                return;
            }
            // The driver was closed while this session was in use: end it now.
        }
        // In the background, on the current runtime or, when released by a plain thread, the
        // process-wide one.
        let transport = self.pool.transport.clone();
        let task = async move { end_session(&*transport, &session).await };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn(task)),
            Err(_) => drop(crate::sync::runtime().spawn(task)),
        }
        // The permit is released when `_permit` drops, right after this.
    }
}
