//! The driver: pyqldb 3.x's `QldbDriver.execute_lambda` contract (`spec/pyqldb-api.md` §2–§5)
//! over any [`Transport`], with pyqldb's defects (§9) left out.
//!
//! One execution = a retry loop of attempts. Each attempt: get a session (pool permit, then the
//! kept, an idle or a new session), StartTransaction, run the body, commit (with the digest
//! check). On failure (§3.4): a non-expiry `InvalidSessionException` kills the session and
//! sends no abort; an `OccConflictException` sends no abort (the server closed the
//! transaction); anything else, the body's own error included, sends AbortTransaction, and a
//! failing abort kills the session. The retry policy then decides; the body's own error is
//! never retried and reaches the caller unchanged.
//!
//! The loop's steps live in one internal `Runner`, shared by the async entry point
//! ([`Driver::execute`]) and the sync one ([`crate::sync::SyncDriver`]), which differ only in
//! how they wait and how they call the body.

use crate::cursor::BufferedResult;
use crate::error::{BodyError, DriverError, ExecuteError};
use crate::param::IonParam;
use crate::pool::{Lease, Pool};
use crate::retry::{
    AttemptRecord, Phase, RetryContext, RetryDecision, RetryPolicy, RetryPolicy3x, RetryState,
};
use crate::transaction::Transaction;
use crate::transport::Transport;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The statement of `list_tables()`.
pub const LIST_TABLES_STATEMENT: &str =
    "SELECT VALUE name FROM information_schema.user_tables WHERE status = 'ACTIVE'";

/// pyqldb 3.x's permit wait (`POOL_TIMEOUT_SECONDS = 0.001`).
pub const POOL_TIMEOUT_3X: Duration = Duration::from_millis(1);
/// pyqldb 2.x's permit wait (`DEFAULT_TIMEOUT_SECONDS = 30`).
pub const POOL_TIMEOUT_2X: Duration = Duration::from_secs(30);
/// pyqldb's default pool limit (botocore's `max_pool_connections`).
pub const DEFAULT_POOL_LIMIT: usize = 10;

/// Driver settings.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    pub ledger_name: String,
    /// Maximum concurrent executions (pool permits). Default 10.
    pub pool_limit: usize,
    /// How long an execution waits for a permit before `SessionPoolEmpty`. Default 1 ms
    /// (3.x); 2.x waits 30 s.
    pub pool_timeout: Duration,
    /// The retry policy of every execution that does not bring its own.
    pub retry: Arc<dyn RetryPolicy>,
    /// 0 = stream cursors; >= 2 = read-ahead cursors with `read_ahead - 1` pages queued.
    pub read_ahead: usize,
    /// pyqldb 2.x's check of a pooled session (AbortTransaction) before reuse. Default off.
    pub validate_sessions_on_reuse: bool,
}

impl DriverConfig {
    /// pyqldb 3.x's defaults for `ledger_name`.
    pub fn new(ledger_name: impl Into<String>) -> Self {
        DriverConfig {
            ledger_name: ledger_name.into(),
            pool_limit: DEFAULT_POOL_LIMIT,
            pool_timeout: POOL_TIMEOUT_3X,
            retry: Arc::new(RetryPolicy3x::default()),
            read_ahead: 0,
            validate_sessions_on_reuse: false,
        }
    }

    fn validate(&self) -> Result<(), DriverError> {
        if self.read_ahead == 1 {
            return Err(DriverError::invalid_argument(
                "Value for read_ahead must be 0 or 2 or greater.",
            ));
        }
        if self.pool_limit == 0 {
            return Err(DriverError::invalid_argument(
                "The session pool limit must be at least 1.",
            ));
        }
        if self.ledger_name.is_empty() {
            return Err(DriverError::invalid_argument("A ledger name is required."));
        }
        Ok(())
    }
}

/// Called with each retry decision, just before the backoff sleep (pyqldb 2.x's
/// `retry_indicator`).
pub type RetryObserver = Arc<dyn Fn(&AttemptRecord) + Send + Sync>;

/// Per-execution options.
#[derive(Clone, Default)]
pub struct ExecuteOptions {
    /// Replaces the driver's retry policy for this execution (pyqldb's per-call
    /// `retry_config`).
    pub retry: Option<Arc<dyn RetryPolicy>>,
    /// Called for every retried failure before its sleep.
    pub on_retry: Option<RetryObserver>,
}

impl std::fmt::Debug for ExecuteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecuteOptions")
            .field("retry", &self.retry)
            .field("on_retry", &self.on_retry.is_some())
            .finish()
    }
}

/// The outcome of an execution with its attempt log.
#[derive(Debug)]
pub struct Execution<T, E> {
    pub result: Result<T, ExecuteError<E>>,
    /// One record per failed attempt, in order, with the decision taken.
    pub attempts: Vec<AttemptRecord>,
}

pub(crate) struct DriverInner {
    pub(crate) config: DriverConfig,
    pub(crate) pool: Arc<Pool>,
    pub(crate) transport: Arc<dyn Transport>,
}

/// The driver. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct Driver {
    pub(crate) inner: Arc<DriverInner>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("ledger", &self.inner.config.ledger_name)
            .field("endpoint", &self.inner.transport.describe())
            .field("pool_limit", &self.inner.config.pool_limit)
            .finish()
    }
}

impl Driver {
    /// A driver over `transport`. No I/O: sessions start lazily.
    pub fn new(transport: Arc<dyn Transport>, config: DriverConfig) -> Result<Driver, DriverError> {
        config.validate()?;
        let pool = Arc::new(Pool::new(
            transport.clone(),
            config.ledger_name.clone(),
            config.pool_limit,
            config.validate_sessions_on_reuse,
        ));
        Ok(Driver {
            inner: Arc::new(DriverInner {
                config,
                pool,
                transport,
            }),
        })
    }

    /// A driver on the endpoint chosen by `options` (see [`crate::endpoint`]).
    pub async fn connect(
        options: &crate::endpoint::ConnectOptions,
        config: DriverConfig,
    ) -> Result<Driver, DriverError> {
        let transport = crate::endpoint::connect(options).await?;
        Driver::new(transport, config)
    }

    pub fn config(&self) -> &DriverConfig {
        &self.inner.config
    }

    pub fn ledger_name(&self) -> &str {
        &self.inner.config.ledger_name
    }

    pub fn read_ahead(&self) -> usize {
        self.inner.config.read_ahead
    }

    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.inner.transport
    }

    /// The pool limit (permits in total).
    pub fn pool_limit(&self) -> usize {
        self.inner.pool.limit()
    }

    /// Permits not held by an execution now.
    pub fn available_permits(&self) -> usize {
        self.inner.pool.available_permits()
    }

    /// Idle pooled sessions now.
    pub fn idle_sessions(&self) -> usize {
        self.inner.pool.idle_count()
    }

    pub fn is_closed(&self) -> bool {
        self.inner.pool.is_closed()
    }

    /// Closes the driver: later executions fail with `DriverClosed`; idle sessions are ended
    /// now (errors logged), sessions in use are ended when their execution releases them.
    pub async fn close(&self) {
        self.inner.pool.close().await;
    }

    /// Runs `body` in a transaction with retries; the driver's retry policy applies.
    ///
    /// `body` gets a [`Transaction`] handle per attempt and may run several times. Its
    /// `BodyError::User` error ends the execution at once (after AbortTransaction) and comes
    /// back as `ExecuteError::User`; driver errors go through the retry policy.
    pub async fn execute<T, E, F, Fut>(&self, body: F) -> Result<T, ExecuteError<E>>
    where
        F: FnMut(Transaction) -> Fut,
        Fut: Future<Output = Result<T, BodyError<E>>>,
    {
        self.execute_with(&ExecuteOptions::default(), body)
            .await
            .result
    }

    /// [`Driver::execute`] with options, returning the attempt log too.
    pub async fn execute_with<T, E, F, Fut>(
        &self,
        options: &ExecuteOptions,
        mut body: F,
    ) -> Execution<T, E>
    where
        F: FnMut(Transaction) -> Fut,
        Fut: Future<Output = Result<T, BodyError<E>>>,
    {
        let mut runner = Runner::new(&self.inner, options);
        let result = loop {
            let txn = match runner.begin().await {
                Ok(txn) => txn,
                Err(step) => match runner.step(step) {
                    Ok(None) => continue,
                    Ok(Some(sleep)) => {
                        tokio::time::sleep(sleep).await;
                        continue;
                    }
                    Err(e) => break Err(e),
                },
            };
            let outcome = body(txn.clone()).await;
            match runner.finish(txn, outcome).await {
                Ok(v) => break Ok(v),
                Err(step) => match runner.step(step) {
                    Ok(None) => continue,
                    Ok(Some(sleep)) => {
                        tokio::time::sleep(sleep).await;
                        continue;
                    }
                    Err(e) => break Err(e),
                },
            }
        };
        Execution {
            result,
            attempts: runner.into_records(),
        }
    }

    /// pyqldb's `list_tables()`: the names of the active tables, each an Ion string.
    pub async fn list_tables(&self) -> Result<BufferedResult, DriverError> {
        self.execute(|txn| async move {
            Ok::<_, BodyError<std::convert::Infallible>>(
                txn.execute_buffered(LIST_TABLES_STATEMENT, Vec::<IonParam>::new())
                    .await?,
            )
        })
        .await
        .map_err(|e| match e {
            ExecuteError::Driver(e) => e,
            ExecuteError::User(never) => match never {},
        })
    }

    /// [`Driver::list_tables`] decoded to Rust strings.
    pub async fn list_table_names(&self) -> Result<Vec<String>, DriverError> {
        decode_names(&self.list_tables().await?)
    }
}

/// Decodes a result of Ion strings (e.g. `list_tables()`).
pub fn decode_names(result: &BufferedResult) -> Result<Vec<String>, DriverError> {
    result
        .values
        .iter()
        .map(|v| {
            let e = ion_rs::Element::read_one(v.as_ref())
                .map_err(|e| DriverError::protocol(format!("Unreadable table name: {e}")))?;
            e.as_string()
                .map(str::to_string)
                .ok_or_else(|| DriverError::protocol(format!("A table name is not a string: {e}")))
        })
        .collect()
}

/// What happened to an attempt that did not produce the result.
pub(crate) enum Step<E> {
    /// The policy was asked: retry (after a sleep) or fail.
    Decided {
        decision: RetryDecision,
        error: DriverError,
    },
    /// Ends the execution without asking the policy (user error, pool empty, closed driver).
    Stop(ExecuteError<E>),
}

/// The steps of one execution; see the module docs.
pub(crate) struct Runner<'d> {
    driver: &'d DriverInner,
    state: Box<dyn RetryState>,
    on_retry: Option<RetryObserver>,
    lease: Option<Lease>,
    attempt: u32,
    fresh_session: bool,
    records: Vec<AttemptRecord>,
}

impl<'d> Runner<'d> {
    pub(crate) fn new(driver: &'d DriverInner, options: &ExecuteOptions) -> Self {
        let policy = options.retry.as_ref().unwrap_or(&driver.config.retry);
        Runner {
            driver,
            state: policy.new_state(),
            on_retry: options.on_retry.clone(),
            lease: None,
            attempt: 0,
            fresh_session: false,
            records: Vec::new(),
        }
    }

    pub(crate) fn into_records(self) -> Vec<AttemptRecord> {
        self.records
    }

    /// Starts an attempt: permit, session, StartTransaction.
    pub(crate) async fn begin<E>(&mut self) -> Result<Transaction, Step<E>> {
        self.attempt += 1;
        if self.driver.pool.is_closed() {
            return Err(Step::Stop(ExecuteError::Driver(
                DriverError::driver_closed(),
            )));
        }
        if self.lease.is_none() {
            match self
                .driver
                .pool
                .acquire(self.driver.config.pool_timeout)
                .await
            {
                Ok(lease) => self.lease = Some(lease),
                Err(e) => {
                    self.record(&e, None, Phase::StartSession, RetryDecision::Fail);
                    return Err(Step::Stop(ExecuteError::Driver(e)));
                }
            }
        }
        let lease = self.lease.as_mut().expect("acquired above");
        let fresh = std::mem::take(&mut self.fresh_session);
        let session = match lease.session(fresh).await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(attempt = self.attempt, error = %e, "StartSession failed");
                self.fresh_session = true;
                return Err(self.decide(e, None, Phase::StartSession));
            }
        };
        let transport = lease.transport().clone();
        lease.set_in_transaction(true);
        match transport.start_transaction(&session.token).await {
            Ok(id) => {
                tracing::debug!(attempt = self.attempt, transaction_id = %id, session_id = %session.id, "transaction started");
                Ok(Transaction::new(
                    id,
                    session.token.clone(),
                    transport,
                    self.driver.config.read_ahead,
                ))
            }
            Err(e) => {
                self.end_failed_transaction(&e).await;
                Err(self.decide(e, None, Phase::Transaction))
            }
        }
    }

    /// Ends an attempt with the body's outcome: commit on success, else abort as needed.
    pub(crate) async fn finish<T, E>(
        &mut self,
        txn: Transaction,
        outcome: Result<T, BodyError<E>>,
    ) -> Result<T, Step<E>> {
        let error = match outcome {
            Ok(value) => match txn.commit().await {
                Ok(_) => {
                    txn.shared.close();
                    if let Some(lease) = self.lease.as_mut() {
                        lease.set_in_transaction(false);
                    }
                    tracing::debug!(transaction_id = %txn.id(), attempt = self.attempt, "transaction committed");
                    return Ok(value);
                }
                Err(e) => e,
            },
            Err(BodyError::User(user)) => {
                txn.shared.close();
                self.abort().await;
                return Err(Step::Stop(ExecuteError::User(user)));
            }
            Err(BodyError::Driver(e)) => e,
        };
        txn.shared.close();
        self.end_failed_transaction(&error).await;
        Err(self.decide(error, Some(txn.id()), Phase::Transaction))
    }

    /// pyqldb 3.x §3.4: after a failed transaction command, kill the session (non-expiry ISE,
    /// no abort), leave it (OCC, no abort), or abort (anything else; a failing abort kills it).
    async fn end_failed_transaction(&mut self, error: &DriverError) {
        if error.is_invalid_session() && !error.is_transaction_expired() {
            if let Some(lease) = self.lease.as_mut() {
                lease.discard_session();
            }
            self.fresh_session = true;
        } else if error.is_occ() {
            if let Some(lease) = self.lease.as_mut() {
                lease.set_in_transaction(false);
            }
        } else {
            self.abort().await;
        }
    }

    /// AbortTransaction on the lease's session; any failure kills the session.
    async fn abort(&mut self) {
        let Some(lease) = self.lease.as_mut() else {
            return;
        };
        let Some(session) = lease.current() else {
            return;
        };
        let transport = lease.transport().clone();
        match transport.abort_transaction(&session.token).await {
            Ok(()) => lease.set_in_transaction(false),
            Err(e) => {
                tracing::debug!(session_id = %session.id, error = %e, "AbortTransaction failed; session discarded");
                lease.discard_session();
                self.fresh_session = true;
            }
        }
    }

    fn decide<E>(&mut self, error: DriverError, txid: Option<&str>, phase: Phase) -> Step<E> {
        let decision = self.state.decide(&RetryContext {
            error: &error,
            attempt: self.attempt,
            transaction_id: txid,
            phase,
        });
        self.record(&error, txid, phase, decision);
        Step::Decided { decision, error }
    }

    fn record(
        &mut self,
        error: &DriverError,
        txid: Option<&str>,
        phase: Phase,
        decision: RetryDecision,
    ) {
        let record = AttemptRecord {
            attempt: self.attempt,
            error_code: error.code().map(str::to_string),
            error_message: error.message().to_string(),
            transaction_id: txid.map(str::to_string),
            phase,
            decision,
        };
        match decision {
            RetryDecision::Fail => {
                tracing::debug!(attempt = record.attempt, code = ?record.error_code, error = %error, "attempt failed; not retried")
            }
            _ => {
                tracing::debug!(attempt = record.attempt, code = ?record.error_code, sleep_ms = record.sleep().as_millis() as u64, error = %error, "attempt failed; retrying")
            }
        }
        self.records.push(record);
    }

    /// Applies a step: `Ok(None)` = retry now, `Ok(Some(d))` = sleep `d` then retry,
    /// `Err` = the execution's error.
    pub(crate) fn step<E>(&mut self, step: Step<E>) -> Result<Option<Duration>, ExecuteError<E>> {
        match step {
            Step::Stop(e) => {
                // Drop the lease now so the permit is back before the caller sees the error.
                self.lease = None;
                Err(e)
            }
            Step::Decided { decision, error } => {
                if decision != RetryDecision::Fail {
                    if let (Some(observer), Some(record)) = (&self.on_retry, self.records.last()) {
                        observer(record);
                    }
                }
                match decision {
                    RetryDecision::Fail => {
                        self.lease = None;
                        Err(ExecuteError::Driver(error))
                    }
                    RetryDecision::RetryNow => Ok(None),
                    RetryDecision::RetryAfter(d) => Ok(Some(d)),
                }
            }
        }
    }
}
