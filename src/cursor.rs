//! `RawCursor`: a statement's result as a Python iterator of values (pyqldb's `StreamCursor` /
//! `ReadAheadCursor` build on it), over `qldb_driver::Cursor`: pages fetched on demand or by a
//! read-ahead producer task, statistics summed as pages are consumed, unusable
//! (`ResultClosedError`) once its transaction has ended or it was closed.

use crate::errors::IntoPyResult;
use crate::ion_py::{self, ValueModel};
use crate::wait::wait_fast;
use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use pyo3::types::{PyDict, PyList};
use qldb_driver::{BufferedResult, Cursor, CursorStats};
use std::sync::{Mutex, MutexGuard};

/// A single-pass cursor over a statement's result.
#[pyclass(frozen, module = "pyqldb._native")]
pub struct RawCursor {
    cursor: Mutex<Cursor>,
    model: ValueModel,
    read_ahead: bool,
    transaction_id: String,
    session_token: String,
}

impl RawCursor {
    pub fn new(cursor: Cursor, model: ValueModel) -> RawCursor {
        RawCursor {
            read_ahead: cursor.is_read_ahead(),
            transaction_id: cursor.transaction_id().to_string(),
            session_token: cursor.session_token().to_string(),
            cursor: Mutex::new(cursor),
            model,
        }
    }

    /// Locks the cursor, releasing the GIL while another thread holds it.
    fn lock(&self, py: Python<'_>) -> MutexGuard<'_, Cursor> {
        self.cursor
            .lock_py_attached(py)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `(get_consumed_ios(), get_timing_information())` as Python values.
pub type StatsDicts<'py> = (Option<Bound<'py, PyDict>>, Option<Bound<'py, PyDict>>);

/// `{'ReadIOs': n}` / `{'ProcessingTimeMilliseconds': n}` dicts, `None` when nothing was
/// reported (a reported 0 is kept, unlike pyqldb).
pub fn stats_dicts<'py>(py: Python<'py>, stats: &CursorStats) -> PyResult<StatsDicts<'py>> {
    let ios = match stats.consumed_ios() {
        Some(io) => {
            let d = PyDict::new(py);
            d.set_item("ReadIOs", io.read_ios)?;
            Some(d)
        }
        None => None,
    };
    let timing = match stats.processing_ms() {
        Some(ms) => {
            let d = PyDict::new(py);
            d.set_item("ProcessingTimeMilliseconds", ms)?;
            Some(d)
        }
        None => None,
    };
    Ok((ios, timing))
}

/// The values of a buffered result as a Python list.
pub fn values_list<'py>(
    py: Python<'py>,
    result: &BufferedResult,
    model: ValueModel,
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for v in &result.values {
        list.append(ion_py::loads(py, v, model)?)?;
    }
    Ok(list)
}

#[pymethods]
impl RawCursor {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next value; `StopIteration` at the end, `ResultClosedError` once closed.
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let next = {
            let mut cursor = self.lock(py);
            wait_fast(py, cursor.next())?.into_py_result(py)?
        };
        match next {
            Some(bytes) => Ok(Some(ion_py::loads(py, &bytes, self.model)?)),
            None => Ok(None),
        }
    }

    /// Every remaining value as a list.
    fn read_all<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let result = {
            let mut cursor = self.lock(py);
            wait_fast(py, cursor.buffer_all())?.into_py_result(py)?
        };
        values_list(py, &result, self.model)
    }

    /// Closes the cursor: later reads raise `ResultClosedError`; a read-ahead producer stops.
    fn close(&self, py: Python<'_>) {
        self.lock(py).close();
    }

    /// Whether the cursor can still be read (not closed, transaction open).
    #[getter]
    fn is_open(&self, py: Python<'_>) -> bool {
        self.lock(py).is_open()
    }

    /// Whether a producer task reads pages ahead.
    #[getter]
    fn is_read_ahead(&self) -> bool {
        self.read_ahead
    }

    #[getter]
    fn transaction_id(&self) -> &str {
        &self.transaction_id
    }

    #[getter]
    fn session_token(&self) -> &str {
        &self.session_token
    }

    /// `'ion'` or `'plain'`.
    #[getter]
    fn value_model(&self) -> &'static str {
        self.model.name()
    }

    /// `(get_consumed_ios(), get_timing_information())` dicts of the pages consumed so far.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<StatsDicts<'py>> {
        let stats = self.lock(py).stats();
        stats_dicts(py, &stats)
    }

    /// `(read_ios, write_ios, processing_ms)` exact sums so far (`None` when not reported).
    fn raw_stats(&self, py: Python<'_>) -> (Option<u64>, Option<u64>, Option<u64>) {
        let stats = self.lock(py).stats();
        let io = stats.consumed_ios();
        (
            io.map(|i| i.read_ios),
            io.map(|i| i.write_ios),
            stats.processing_ms(),
        )
    }
}
