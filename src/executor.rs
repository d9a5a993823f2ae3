//! `RawTransaction`: the open transaction a lambda runs in (pyqldb's `Executor` wraps it):
//! `execute_statement` converts the parameters to Ion, folds them into the commit digest and
//! sends the statement (GIL released while it waits); `abort` raises `LambdaAbortedError`.

use crate::cursor::RawCursor;
use crate::errors::{driver_error, IntoPyResult};
use crate::ion_py::{self, ValueModel};
use crate::wait::wait;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use qldb_driver::Transaction;

/// One attempt's transaction. Closed (statements raise `TransactionClosedError`, cursors
/// `ResultClosedError`) once the attempt ends.
#[pyclass(frozen, module = "pyqldb._native")]
pub struct RawTransaction {
    txn: Transaction,
    model: ValueModel,
    read_ahead: usize,
}

impl RawTransaction {
    pub fn new(txn: Transaction, model: ValueModel, read_ahead: usize) -> RawTransaction {
        RawTransaction {
            txn,
            model,
            read_ahead,
        }
    }
}

#[pymethods]
impl RawTransaction {
    /// The transaction id.
    #[getter]
    fn transaction_id(&self) -> &str {
        self.txn.id()
    }

    #[getter]
    fn session_token(&self) -> &str {
        self.txn.session_token()
    }

    #[getter]
    fn is_closed(&self) -> bool {
        self.txn.is_closed()
    }

    /// The driver's read-ahead (0, or the number of pages buffered + 1).
    #[getter]
    fn read_ahead(&self) -> usize {
        self.read_ahead
    }

    /// Executes `statement` with `parameters` (Python natives or `IonPy*` values).
    #[pyo3(signature = (statement, *parameters))]
    fn execute_statement(
        &self,
        py: Python<'_>,
        statement: &str,
        parameters: &Bound<'_, PyTuple>,
    ) -> PyResult<RawCursor> {
        let params = parameters
            .iter()
            .map(|p| ion_py::to_param(&p))
            .collect::<PyResult<Vec<_>>>()?;
        let cursor = wait(py, self.txn.execute(statement, params))?.into_py_result(py)?;
        Ok(RawCursor::new(cursor, self.model))
    }

    /// Ends the transaction from inside the lambda: always raises `LambdaAbortedError`; the
    /// driver then sends AbortTransaction and re-raises it to the caller.
    fn abort(&self, py: Python<'_>) -> PyResult<()> {
        Err(driver_error(py, &self.txn.abort()))
    }

    /// The commit digest so far (32 bytes).
    fn digest(&self, py: Python<'_>) -> PyResult<Vec<u8>> {
        Ok(wait(py, self.txn.digest())?.to_vec())
    }
}
