//! `RawLedger`: the control-plane extras of an embedded ledger that pyqldb's API lacks
//! (GetDigest, GetRevision, GetBlock, a full journal check), for `pyqldb.local`. It uses the
//! same process-wide engine as drivers on the same `memory://` or `file:///` endpoint.
//!
//! Addresses and proofs are Ion text, as QLDB's control plane exchanges them.

use crate::errors::IntoPyResult;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use qldb_driver::transport::embedded::{
    forget_engine, ledger_error, shared_engine, EmbeddedLocation,
};
use qldb_driver::{DriverError, Engine, EngineConfig};
use qldb_ledger::BlockAddress;
use std::sync::Arc;

/// One ledger of an embedded engine.
#[pyclass(frozen, module = "pyqldb._native")]
pub struct RawLedger {
    engine: Arc<Engine>,
    name: String,
    endpoint: String,
}

fn location(url: &str) -> PyResult<EmbeddedLocation> {
    match EmbeddedLocation::parse(url) {
        Some(Ok(l)) => Ok(l),
        Some(Err(e)) => Err(PyValueError::new_err(e.message().to_string())),
        None => Err(PyValueError::new_err(format!(
            "Not an embedded endpoint (memory://NAME or file:///DIR): {url:?}"
        ))),
    }
}

fn address(text: &str, what: &str) -> Result<BlockAddress, DriverError> {
    let element = ion_rs::Element::read_one(text.as_bytes()).map_err(|e| {
        DriverError::service(
            "InvalidParameterException",
            format!("The {what} is not valid Ion: {e}"),
            Some(400),
            None,
        )
    })?;
    BlockAddress::from_element(&element).map_err(|e| ledger_error(&e))
}

#[pymethods]
impl RawLedger {
    /// The ledger `ledger_name` on the embedded endpoint `endpoint_url` (opened on first use).
    #[new]
    fn new(py: Python<'_>, endpoint_url: &str, ledger_name: &str) -> PyResult<RawLedger> {
        let loc = location(endpoint_url)?;
        let engine = py
            .detach(|| shared_engine(&loc, &EngineConfig::default()))
            .into_py_result(py)?;
        Ok(RawLedger {
            engine,
            name: ledger_name.to_string(),
            endpoint: loc.url(),
        })
    }

    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    #[getter]
    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether the ledger exists.
    fn exists(&self) -> bool {
        self.engine.ledger(&self.name).is_ok()
    }

    /// GetDigest: `(digest (32 bytes), tip address as Ion text)`.
    fn get_digest<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyBytes>, String)> {
        let engine = self.engine.clone();
        let (digest, tip) = py
            .detach(|| engine.get_digest(&self.name))
            .map_err(|e| ledger_error(&e))
            .into_py_result(py)?;
        Ok((PyBytes::new(py, &digest), tip.to_ion_text()))
    }

    /// GetRevision: `(revision Ion text, proof Ion text or None)`; the proof needs a tip.
    #[pyo3(signature = (block_address, document_id, digest_tip_address=None))]
    fn get_revision(
        &self,
        py: Python<'_>,
        block_address: &str,
        document_id: &str,
        digest_tip_address: Option<&str>,
    ) -> PyResult<(String, Option<String>)> {
        py.detach(|| {
            let addr = address(block_address, "BlockAddress")?;
            let tip = digest_tip_address
                .map(|t| address(t, "DigestTipAddress"))
                .transpose()?;
            self.engine
                .get_revision(&self.name, &addr, document_id, tip.as_ref())
                .map_err(|e| ledger_error(&e))
        })
        .into_py_result(py)
    }

    /// GetBlock: `(block Ion text, proof Ion text or None)`; the proof needs a tip.
    #[pyo3(signature = (block_address, digest_tip_address=None))]
    fn get_block(
        &self,
        py: Python<'_>,
        block_address: &str,
        digest_tip_address: Option<&str>,
    ) -> PyResult<(String, Option<String>)> {
        py.detach(|| {
            let addr = address(block_address, "BlockAddress")?;
            let tip = digest_tip_address
                .map(|t| address(t, "DigestTipAddress"))
                .transpose()?;
            self.engine
                .get_block(&self.name, &addr, tip.as_ref())
                .map_err(|e| ledger_error(&e))
        })
        .into_py_result(py)
    }

    /// Re-reads the whole journal and recomputes every hash: `(blocks, revisions, digest)`.
    fn verify<'py>(&self, py: Python<'py>) -> PyResult<(u64, u64, Bound<'py, PyBytes>)> {
        let engine = self.engine.clone();
        let report = py.detach(|| {
            let ledger = engine.ledger(&self.name).map_err(|e| ledger_error(&e))?;
            ledger.verify().map_err(|e| {
                DriverError::service(
                    "InternalFailure",
                    format!("Journal verification failed: {e}"),
                    Some(500),
                    None,
                )
            })
        });
        let report = report.into_py_result(py)?;
        Ok((
            report.blocks,
            report.revisions,
            PyBytes::new(py, &report.digest),
        ))
    }
}

/// Drops the process's reference to the embedded engine of `endpoint_url` (it closes once no
/// driver uses it; a `file://` directory can then be opened again). Returns whether there was
/// one.
#[pyfunction]
pub fn forget_embedded_engine(endpoint_url: &str) -> PyResult<bool> {
    Ok(forget_engine(&location(endpoint_url)?))
}
