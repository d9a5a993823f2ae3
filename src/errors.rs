//! The one place where driver errors become Python exceptions (and back).
//!
//! Every [`DriverError`] kind maps to the exception pyqldb raises for it, built from the classes
//! of `pyqldb.errors`: service errors → `QldbClientError` (a botocore `ClientError` when botocore
//! is installed, with the same `response` dict), transport failures → `QldbTransportError`,
//! `SessionPoolEmptyError`, `DriverClosedError`, `ResultClosedError`, `TransactionClosedError`,
//! `LambdaAbortedError`, digest and protocol failures → `IllegalStateError`, bad parameters →
//! `TypeError`, bad arguments → `ValueError`.
//!
//! Each exception made here carries the original error as `_qldb_native` (a [`NativeError`]),
//! so that when it propagates out of a transaction lambda the retry loop classifies it as the
//! driver error it is, rather than as the user's own exception.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use qldb_driver::{DriverError, ErrorKind};

/// A driver error as a Python object (attached to the exceptions made from it).
#[pyclass(frozen, module = "pyqldb._native", name = "NativeError")]
pub struct NativeError {
    pub(crate) error: DriverError,
}

/// The kind of a driver error as a short name.
fn kind_name(e: &DriverError) -> &'static str {
    match e.kind() {
        ErrorKind::Service => "service",
        ErrorKind::Transport => "transport",
        ErrorKind::SessionPoolEmpty { .. } => "session_pool_empty",
        ErrorKind::DriverClosed => "driver_closed",
        ErrorKind::ResultClosed { .. } => "result_closed",
        ErrorKind::TransactionClosed => "transaction_closed",
        ErrorKind::DigestMismatch => "digest_mismatch",
        ErrorKind::TransactionIdMismatch => "transaction_id_mismatch",
        ErrorKind::LambdaAborted => "lambda_aborted",
        ErrorKind::InvalidParameter => "invalid_parameter",
        ErrorKind::InvalidArgument => "invalid_argument",
        ErrorKind::Protocol => "protocol",
        _ => "other",
    }
}

#[pymethods]
impl NativeError {
    /// `service`, `transport`, `session_pool_empty`, `driver_closed`, `result_closed`,
    /// `transaction_closed`, `digest_mismatch`, `transaction_id_mismatch`, `lambda_aborted`,
    /// `invalid_parameter`, `invalid_argument` or `protocol`.
    #[getter]
    fn kind(&self) -> &'static str {
        kind_name(&self.error)
    }

    #[getter]
    fn code(&self) -> Option<&str> {
        self.error.code()
    }

    #[getter]
    fn message(&self) -> &str {
        self.error.message()
    }

    #[getter]
    fn http_status(&self) -> Option<u16> {
        self.error.http_status()
    }

    #[getter]
    fn request_id(&self) -> Option<&str> {
        self.error.request_id()
    }

    /// pyqldb 3.x's retry classification.
    #[getter]
    fn is_retryable(&self) -> bool {
        self.error.is_retryable_3x()
    }

    /// pyqldb 2.x's retry classification.
    #[getter]
    fn is_retryable_2x(&self) -> bool {
        self.error.is_retryable_2x()
    }

    #[getter]
    fn is_invalid_session(&self) -> bool {
        self.error.is_invalid_session()
    }

    #[getter]
    fn is_transaction_expired(&self) -> bool {
        self.error.is_transaction_expired()
    }

    #[getter]
    fn is_occ(&self) -> bool {
        self.error.is_occ()
    }

    fn __repr__(&self) -> String {
        format!("NativeError({}: {})", self.kind(), self.error)
    }
}

static ERRORS_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    ERRORS_MODULE
        .get_or_try_init(py, || py.import("pyqldb.errors").map(Bound::unbind))
        .map(|m| m.bind(py))
}

/// The Python exception for `e`, carrying `e` as `_qldb_native`.
pub fn driver_error(py: Python<'_>, e: &DriverError) -> PyErr {
    match build(py, e) {
        Ok(exc) => PyErr::from_value(exc),
        Err(failed) => failed,
    }
}

fn build<'py>(py: Python<'py>, e: &DriverError) -> PyResult<Bound<'py, PyAny>> {
    let m = errors_module(py)?;
    let class = |name: &str| m.getattr(name);
    let message = e.message();
    let exc = match e.kind() {
        ErrorKind::Service => class("QldbClientError")?.call_method1(
            intern!(py, "_from_native"),
            (e.code(), message, e.http_status(), e.request_id()),
        )?,
        ErrorKind::Transport => class("QldbTransportError")?.call1((e.to_string(),))?,
        ErrorKind::SessionPoolEmpty { timeout } => {
            class("SessionPoolEmptyError")?.call1((timeout.as_secs_f64(),))?
        }
        ErrorKind::DriverClosed => class("DriverClosedError")?.call0()?,
        ErrorKind::ResultClosed { session_token } => {
            class("ResultClosedError")?.call1((session_token.as_str(),))?
        }
        ErrorKind::TransactionClosed => class("TransactionClosedError")?.call0()?,
        ErrorKind::LambdaAborted => class("LambdaAbortedError")?.call0()?,
        ErrorKind::InvalidParameter => PyTypeError::new_err(message.to_string())
            .value(py)
            .clone()
            .into_any(),
        ErrorKind::InvalidArgument => PyValueError::new_err(message.to_string())
            .value(py)
            .clone()
            .into_any(),
        // Digest and transaction id mismatches, malformed answers.
        _ => class("IllegalStateError")?.call1((message,))?,
    };
    exc.setattr(
        intern!(py, "_qldb_native"),
        NativeError { error: e.clone() },
    )?;
    Ok(exc)
}

/// The driver error a Python exception was made from, if it was made by [`driver_error`].
pub fn native_of(py: Python<'_>, err: &PyErr) -> Option<DriverError> {
    let marker = err.value(py).getattr(intern!(py, "_qldb_native")).ok()?;
    let native = marker.cast::<NativeError>().ok()?;
    Some(native.get().error.clone())
}

/// Whether two driver errors say the same thing (so the Python object of one may stand for the
/// other).
pub fn same_error(a: &DriverError, b: &DriverError) -> bool {
    a.kind() == b.kind()
        && a.code() == b.code()
        && a.message() == b.message()
        && a.http_status() == b.http_status()
        && a.request_id() == b.request_id()
}

/// A driver error as a Python result.
pub trait IntoPyResult<T> {
    fn into_py_result(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, DriverError> {
    fn into_py_result(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| driver_error(py, &e))
    }
}
