//! The low-level session API, for layers that drive sessions themselves (pyqldb 2.x's
//! `SessionClient`, `QldbSession` and `Transaction`):
//!
//! - `RawSessionClient`: one QLDB session and its commands (started here, or rebuilt from the
//!   token of a session started earlier). Results are dicts shaped like
//!   botocore's `send_command` output (`{'FirstPage': {'Values': [{'IonBinary': b'…'}],
//!   'NextPageToken': …}, 'ConsumedIOs': {…}, 'TimingInformation': {…}}`); nothing is
//!   retried and nothing is checked: that is the caller's job.
//! - `RawIonParam`: a statement parameter converted once (Ion binary + Ion hash).
//! - `RawCommitDigest`: the commit digest of a transaction (`spec/hashing.md` §3).

use crate::client::RawClient;
use crate::errors::IntoPyResult;
use crate::ion_py;
use crate::wait::wait;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use qldb_driver::{IonParam, SessionStarted, StatementResult, Transport};
use qldb_ion::CommitDigest;
use std::sync::{Arc, Mutex};

/// A statement parameter: the Python value converted to Ion once, with its Ion Hash.
#[pyclass(frozen, module = "pyqldb._native")]
pub struct RawIonParam {
    pub(crate) param: IonParam,
}

#[pymethods]
impl RawIonParam {
    /// Converts `value` as `Executor.execute_statement` does (`TypeError` if unsupported).
    #[new]
    fn new(value: &Bound<'_, PyAny>) -> PyResult<RawIonParam> {
        Ok(RawIonParam {
            param: ion_py::to_param(value)?,
        })
    }

    /// The binary Ion stream sent as `IonBinary`.
    #[getter]
    fn binary<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.param.binary())
    }

    /// The Ion Hash of the value (32 bytes).
    #[getter]
    fn hash<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.param.hash())
    }

    fn __repr__(&self) -> String {
        format!("RawIonParam({})", self.param.element())
    }
}

/// Parameters given as `RawIonParam`s or as Python values.
fn params(values: &Bound<'_, PyAny>) -> PyResult<Vec<IonParam>> {
    let mut out = Vec::new();
    for v in values.try_iter()? {
        let v = v?;
        match v.cast::<RawIonParam>() {
            Ok(p) => out.push(p.get().param.clone()),
            Err(_) => out.push(ion_py::to_param(&v)?),
        }
    }
    Ok(out)
}

/// The commit digest of one transaction: `H(txid)`, then `dot` with each statement's hash.
#[pyclass(module = "pyqldb._native")]
pub struct RawCommitDigest {
    digest: Mutex<CommitDigest>,
}

#[pymethods]
impl RawCommitDigest {
    #[new]
    fn new(transaction_id: &str) -> RawCommitDigest {
        RawCommitDigest {
            digest: Mutex::new(CommitDigest::new(transaction_id)),
        }
    }

    /// Folds in one statement with its parameters (`RawIonParam`s or Python values).
    #[pyo3(signature = (statement, parameters=None))]
    fn add_statement(
        &self,
        statement: &str,
        parameters: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let hashes: Vec<_> = match parameters {
            Some(p) => params(p)?.iter().map(|p| *p.hash()).collect(),
            None => Vec::new(),
        };
        self.digest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add_statement(statement, &hashes);
        Ok(())
    }

    /// The digest so far (32 bytes).
    #[getter]
    fn digest<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let value = self
            .digest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .value();
        PyBytes::new(py, &value)
    }
}

/// One QLDB session over a client's transport.
#[pyclass(frozen, module = "pyqldb._native")]
pub struct RawSessionClient {
    transport: Arc<dyn Transport>,
    ledger_name: String,
    token: String,
    id: String,
}

impl RawSessionClient {
    pub fn new(
        transport: Arc<dyn Transport>,
        ledger_name: &str,
        started: SessionStarted,
    ) -> RawSessionClient {
        RawSessionClient {
            transport,
            ledger_name: ledger_name.to_string(),
            token: started.session_token,
            id: started.session_id,
        }
    }
}

fn statement_result<'py>(
    py: Python<'py>,
    r: &StatementResult,
    page_key: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let values = PyList::empty(py);
    for v in &r.page.values {
        let holder = PyDict::new(py);
        holder.set_item("IonBinary", PyBytes::new(py, v))?;
        values.append(holder)?;
    }
    let page = PyDict::new(py);
    page.set_item("Values", values)?;
    if let Some(t) = &r.page.next_page_token {
        page.set_item("NextPageToken", t)?;
    }
    let out = PyDict::new(py);
    out.set_item(page_key, page)?;
    add_stats(py, &out, r.consumed_ios, r.processing_ms)?;
    Ok(out)
}

fn add_stats(
    py: Python<'_>,
    out: &Bound<'_, PyDict>,
    ios: Option<qldb_driver::IoUsage>,
    ms: Option<u64>,
) -> PyResult<()> {
    if let Some(io) = ios {
        let d = PyDict::new(py);
        d.set_item("ReadIOs", io.read_ios)?;
        d.set_item("WriteIOs", io.write_ios)?;
        out.set_item("ConsumedIOs", d)?;
    }
    if let Some(ms) = ms {
        let d = PyDict::new(py);
        d.set_item("ProcessingTimeMilliseconds", ms)?;
        out.set_item("TimingInformation", d)?;
    }
    Ok(())
}

#[pymethods]
impl RawSessionClient {
    /// A session already started (its token from an earlier StartSession) on `client`'s
    /// endpoint: no request is sent. pyqldb 2.x's `SessionClient(ledger_name, token, client,
    /// session_id)`.
    #[new]
    fn py_new(
        client: &RawClient,
        ledger_name: &str,
        token: &str,
        session_id: &str,
    ) -> RawSessionClient {
        RawSessionClient::new(
            client.transport.clone(),
            ledger_name,
            SessionStarted {
                session_token: token.to_string(),
                session_id: session_id.to_string(),
            },
        )
    }

    /// StartSession on `ledger_name` over `client` (pyqldb's `SessionClient._start_session`).
    #[staticmethod]
    fn start_session(
        py: Python<'_>,
        client: &RawClient,
        ledger_name: &str,
    ) -> PyResult<RawSessionClient> {
        client.start_session(py, ledger_name)
    }

    #[getter]
    fn token(&self) -> &str {
        &self.token
    }

    /// The session id (StartSession's request id).
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }

    #[getter]
    fn ledger_name(&self) -> &str {
        &self.ledger_name
    }

    /// StartTransaction → `{'TransactionId': id}`.
    fn start_transaction<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let id = wait(py, self.transport.start_transaction(&self.token))?.into_py_result(py)?;
        let out = PyDict::new(py);
        out.set_item("TransactionId", id)?;
        Ok(out)
    }

    /// ExecuteStatement → `{'FirstPage': …, 'ConsumedIOs': …, 'TimingInformation': …}`.
    #[pyo3(signature = (transaction_id, statement, parameters=None))]
    fn execute_statement<'py>(
        &self,
        py: Python<'py>,
        transaction_id: &str,
        statement: &str,
        parameters: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let params = match parameters {
            Some(p) => params(p)?,
            None => Vec::new(),
        };
        let r = wait(
            py,
            self.transport
                .execute_statement(&self.token, transaction_id, statement, &params),
        )?
        .into_py_result(py)?;
        statement_result(py, &r, "FirstPage")
    }

    /// FetchPage → `{'Page': …, 'ConsumedIOs': …, 'TimingInformation': …}`.
    fn fetch_page<'py>(
        &self,
        py: Python<'py>,
        transaction_id: &str,
        next_page_token: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let r = wait(
            py,
            self.transport
                .fetch_page(&self.token, transaction_id, next_page_token),
        )?
        .into_py_result(py)?;
        statement_result(py, &r, "Page")
    }

    /// CommitTransaction with a 32-byte digest → `{'TransactionId', 'CommitDigest', …}` (the
    /// echoed digest is returned, not checked).
    fn commit_transaction<'py>(
        &self,
        py: Python<'py>,
        transaction_id: &str,
        commit_digest: &[u8],
    ) -> PyResult<Bound<'py, PyDict>> {
        let digest: [u8; 32] = commit_digest
            .try_into()
            .map_err(|_| PyValueError::new_err("commit_digest must be 32 bytes"))?;
        let r = wait(
            py,
            self.transport
                .commit_transaction(&self.token, transaction_id, &digest),
        )?
        .into_py_result(py)?;
        let out = PyDict::new(py);
        if let Some(id) = &r.transaction_id {
            out.set_item("TransactionId", id)?;
        }
        if let Some(d) = &r.commit_digest {
            out.set_item("CommitDigest", PyBytes::new(py, d))?;
        }
        add_stats(py, &out, r.consumed_ios, r.processing_ms)?;
        Ok(out)
    }

    /// AbortTransaction → `{}`.
    fn abort_transaction<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        wait(py, self.transport.abort_transaction(&self.token))?.into_py_result(py)?;
        Ok(PyDict::new(py))
    }

    /// EndSession → `{}`.
    fn end_session<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        wait(py, self.transport.end_session(&self.token))?.into_py_result(py)?;
        Ok(PyDict::new(py))
    }
}
