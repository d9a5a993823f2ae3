//! `RawDriver`: qldb-driver's `SyncDriver` for Python. `execute_lambda(body)` runs the Rust retry
//! loop (pool permit, session, StartTransaction, body, commit with the digest check, retry
//! policy) and calls the Python `body` with a `RawTransaction` on the calling thread for each
//! attempt. Every wait releases the GIL and checks Python's signals every 50 ms.
//!
//! Errors: an exception raised by `body` goes back to the caller as the same object, not
//! retried, unless it is a driver error raised by a native call inside `body` (it carries its
//! `NativeError`), which the retry policy classifies as pyqldb does; when that error ends the
//! execution, the very exception object that left `body` is re-raised.

use crate::client::RawClient;
use crate::cursor::{stats_dicts, values_list};
use crate::errors::{driver_error, native_of, same_error, IntoPyResult};
use crate::executor::RawTransaction;
use crate::ion_py::ValueModel;
use crate::wait::{check_signals, wait};
use parking_lot::Mutex;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use qldb_driver::{
    AttemptRecord, BodyError, CustomBackoff, Driver, DriverConfig, DriverError, ExecuteError,
    ExecuteOptions, RetryContext, RetryDecision, RetryPolicy, RetryPolicy2x, RetryPolicy3x,
    RetryState, SyncDriver,
};
use std::sync::Arc;
use std::time::Duration;

/// The Python exception that last left a lambda as a driver error, with that error.
type LastBodyError = Arc<Mutex<Option<(DriverError, PyErr)>>>;

/// A pool of sessions on one ledger and the retry loop around Python lambdas.
#[pyclass(frozen, module = "pyqldb._native")]
pub struct RawDriver {
    driver: SyncDriver,
    model: ValueModel,
    /// The retry settings of executions that bring none.
    default_retry: RetrySpec,
}

/// The retry settings of one execution (pyqldb's `RetryConfig`, or 2.x's retry limit).
struct RetrySpec {
    limit: u32,
    base_ms: u64,
    custom_backoff: Option<Py<PyAny>>,
    model_2x: bool,
}

/// Per-execution state shared by the policy's hook and the result handling.
#[derive(Clone, Default)]
struct Shared {
    last_body_error: LastBodyError,
    hook_error: Arc<Mutex<Option<PyErr>>>,
}

/// A policy whose state fails the execution once the Python backoff hook has raised.
#[derive(Debug)]
struct PyPolicy {
    inner: Arc<dyn RetryPolicy>,
    hook_error: Arc<Mutex<Option<PyErr>>>,
}

struct PyPolicyState {
    inner: Box<dyn RetryState>,
    hook_error: Arc<Mutex<Option<PyErr>>>,
}

impl RetryPolicy for PyPolicy {
    fn new_state(&self) -> Box<dyn RetryState> {
        // A hook error is reported by the execution that saw it; a new one starts clean.
        self.hook_error.lock().take();
        Box::new(PyPolicyState {
            inner: self.inner.new_state(),
            hook_error: self.hook_error.clone(),
        })
    }
}

impl RetryState for PyPolicyState {
    fn decide(&mut self, ctx: &RetryContext<'_>) -> RetryDecision {
        let decision = self.inner.decide(ctx);
        if self.hook_error.lock().is_some() {
            RetryDecision::Fail
        } else {
            decision
        }
    }
}

/// The Python exception for a driver error: the one that left the lambda if it says the same,
/// else a new one.
fn exception_for(py: Python<'_>, shared: &LastBodyError, e: &DriverError) -> PyErr {
    if let Some((native, err)) = shared.lock().as_ref() {
        if same_error(native, e) {
            return err.clone_ref(py);
        }
    }
    driver_error(py, e)
}

impl RetrySpec {
    fn clone_ref(&self, py: Python<'_>) -> RetrySpec {
        RetrySpec {
            limit: self.limit,
            base_ms: self.base_ms,
            custom_backoff: self.custom_backoff.as_ref().map(|f| f.clone_ref(py)),
            model_2x: self.model_2x,
        }
    }

    fn policy(&self, py: Python<'_>, shared: &Shared) -> Arc<dyn RetryPolicy> {
        let inner: Arc<dyn RetryPolicy> = if self.model_2x {
            Arc::new(RetryPolicy2x::new(self.limit))
        } else {
            let hook = self.custom_backoff.as_ref().map(|f| {
                let f = f.clone_ref(py);
                let shared = shared.clone();
                let hook: CustomBackoff = Arc::new(move |attempt, error, txid| {
                    Python::attach(|py| {
                        let exc = exception_for(py, &shared.last_body_error, error);
                        let delay = f
                            .call1(py, (attempt, exc.value(py), txid))
                            .and_then(|v| v.extract::<f64>(py));
                        match delay {
                            Ok(ms) if ms.is_finite() && ms > 0.0 => ms.round() as i64,
                            Ok(_) => 0,
                            Err(e) => {
                                *shared.hook_error.lock() = Some(e);
                                0
                            }
                        }
                    })
                });
                hook
            });
            Arc::new(RetryPolicy3x::new(self.limit, self.base_ms, hook))
        };
        Arc::new(PyPolicy {
            inner,
            hook_error: shared.hook_error.clone(),
        })
    }
}

fn observer(callback: Py<PyAny>) -> qldb_driver::RetryObserver {
    Arc::new(move |record: &AttemptRecord| {
        Python::attach(|py| {
            let r = callback.call1(
                py,
                (
                    record.attempt,
                    record.error_code.as_deref(),
                    record.error_message.as_str(),
                    record.sleep().as_secs_f64(),
                    record.transaction_id.as_deref(),
                ),
            );
            if let Err(e) = r {
                e.write_unraisable(py, None);
            }
        })
    })
}

#[pymethods]
impl RawDriver {
    /// A driver on `ledger_name` over `client`'s endpoint. No request is sent.
    ///
    /// `retry_limit`/`retry_base`/`custom_backoff` are the default retry settings (pyqldb's
    /// `RetryConfig`); `retry_model="2x"` applies pyqldb 2.x's policy instead. `pool_timeout`
    /// is the permit wait in seconds (3.x: 0.001; 2.x: 30).
    #[new]
    #[pyo3(signature = (
        client, ledger_name, *, pool_limit=10, pool_timeout=0.001, read_ahead=0,
        retry_limit=4, retry_base=10, custom_backoff=None, retry_model="3x",
        value_model="ion", validate_sessions_on_reuse=false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        client: &RawClient,
        ledger_name: &str,
        pool_limit: usize,
        pool_timeout: f64,
        read_ahead: usize,
        retry_limit: u32,
        retry_base: u64,
        custom_backoff: Option<Py<PyAny>>,
        retry_model: &str,
        value_model: &str,
        validate_sessions_on_reuse: bool,
    ) -> PyResult<RawDriver> {
        let model = ValueModel::parse(value_model)?;
        let spec = RetrySpec {
            limit: retry_limit,
            base_ms: retry_base,
            custom_backoff,
            model_2x: parse_retry_model(retry_model)?,
        };
        let mut config = DriverConfig::new(ledger_name);
        config.pool_limit = pool_limit;
        config.pool_timeout = Duration::try_from_secs_f64(pool_timeout)
            .map_err(|_| PyValueError::new_err(format!("invalid pool_timeout {pool_timeout}")))?;
        config.read_ahead = read_ahead;
        config.retry = spec.policy(py, &Shared::default());
        config.validate_sessions_on_reuse = validate_sessions_on_reuse;
        let driver = Driver::new(client.transport.clone(), config).into_py_result(py)?;
        Ok(RawDriver {
            driver: SyncDriver::new(driver),
            model,
            default_retry: spec,
        })
    }

    /// Runs `body(RawTransaction)` in a transaction with retries and returns its result (see
    /// the module docs). Retry settings given here (`retry_limit` and the rest) replace the
    /// driver's for this call;
    /// `on_retry(attempt, code, message, sleep_seconds, transaction_id)` is called before each
    /// backoff sleep; `value_model` (`'ion'`/`'plain'`) overrides the driver's for this call.
    #[pyo3(signature = (
        body, *, retry_limit=None, retry_base=10, custom_backoff=None, retry_model="3x",
        on_retry=None, value_model=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn execute_lambda(
        &self,
        py: Python<'_>,
        body: Py<PyAny>,
        retry_limit: Option<u32>,
        retry_base: u64,
        custom_backoff: Option<Py<PyAny>>,
        retry_model: &str,
        on_retry: Option<Py<PyAny>>,
        value_model: Option<&str>,
    ) -> PyResult<Py<PyAny>> {
        let shared = Shared::default();
        let spec = match retry_limit {
            Some(limit) => RetrySpec {
                limit,
                base_ms: retry_base,
                custom_backoff,
                model_2x: parse_retry_model(retry_model)?,
            },
            None => self.default_retry.clone_ref(py),
        };
        let options = ExecuteOptions {
            retry: Some(spec.policy(py, &shared)),
            on_retry: on_retry.map(observer),
        };
        let model = match value_model {
            Some(name) => ValueModel::parse(name)?,
            None => self.model,
        };
        let read_ahead = self.driver.driver().read_ahead();
        let driver = &self.driver;
        let last = shared.last_body_error.clone();
        let execution = py.detach(|| {
            driver.execute_with(&options, Some(&check_signals), |txn| {
                Python::attach(|py| {
                    let raw = RawTransaction::new(txn.transaction().clone(), model, read_ahead);
                    let raw = Py::new(py, raw).map_err(BodyError::User)?;
                    body.call1(py, (raw,))
                        .map_err(|err| match native_of(py, &err) {
                            Some(native) => {
                                *last.lock() = Some((native.clone(), err));
                                BodyError::Driver(native)
                            }
                            None => BodyError::User(err),
                        })
                })
            })
        });
        match execution.result {
            Ok(value) => Ok(value),
            Err(ExecuteError::User(err)) => Err(err),
            Err(ExecuteError::Driver(e)) => {
                if let Some(hook_error) = shared.hook_error.lock().take() {
                    return Err(hook_error);
                }
                Err(exception_for(py, &shared.last_body_error, &e))
            }
        }
    }

    /// pyqldb's `list_tables()`: `(names, consumed_ios, timing_information)` under the driver's
    /// default retry settings.
    fn list_tables<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let driver = self.driver.clone();
        let result = py.detach(|| driver.list_tables()).into_py_result(py)?;
        let values = values_list(py, &result, self.model)?;
        let (ios, timing) = stats_dicts(py, &result.stats)?;
        PyTuple::new(
            py,
            [
                values.into_any(),
                ios.into_pyobject(py)?.into_any(),
                timing.into_pyobject(py)?.into_any(),
            ],
        )
    }

    /// Closes the driver: later executions raise `DriverClosedError`; idle sessions are ended,
    /// sessions in use are ended when released.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let driver = self.driver.clone();
        wait(py, async move { driver.driver().close().await })
    }

    #[getter]
    fn ledger_name(&self) -> &str {
        self.driver.driver().ledger_name()
    }

    #[getter]
    fn read_ahead(&self) -> usize {
        self.driver.driver().read_ahead()
    }

    #[getter]
    fn pool_limit(&self) -> usize {
        self.driver.driver().pool_limit()
    }

    /// The permit wait in seconds.
    #[getter]
    fn pool_timeout(&self) -> f64 {
        self.driver.driver().config().pool_timeout.as_secs_f64()
    }

    /// Permits not held by an execution now.
    #[getter]
    fn available_permits(&self) -> usize {
        self.driver.driver().available_permits()
    }

    /// Idle pooled sessions now.
    #[getter]
    fn idle_sessions(&self) -> usize {
        self.driver.driver().idle_sessions()
    }

    #[getter]
    fn is_closed(&self) -> bool {
        self.driver.driver().is_closed()
    }

    /// `'ion'` or `'plain'`.
    #[getter]
    fn value_model(&self) -> &'static str {
        self.model.name()
    }

    /// The endpoint, for logs.
    #[getter]
    fn endpoint(&self) -> String {
        self.driver.driver().transport().describe()
    }
}

fn parse_retry_model(name: &str) -> PyResult<bool> {
    match name {
        "3x" => Ok(false),
        "2x" => Ok(true),
        other => Err(PyValueError::new_err(format!(
            "retry_model must be '3x' or '2x', not {other:?}"
        ))),
    }
}
