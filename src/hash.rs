//! QLDB hashing for `pyqldb.util.qldb_hash` (and 2.x transactions): the Ion Hash of a Python
//! value and QLDB's `dot`, computed by qldb-ion, the same code the ledger uses.

use crate::ion_py;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// The Ion Hash (SHA-256) of a Python value converted as a statement parameter would be (a
/// `str` is an Ion string).
#[pyfunction]
pub fn ion_hash<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let element = ion_py::to_element(value)?;
    Ok(PyBytes::new(value.py(), &qldb_ion::ion_hash(&element)))
}

/// QLDB's `dot` of two 32-byte hashes: SHA-256 of both, the one that sorts first (signed bytes
/// compared from the last) in front.
#[pyfunction]
pub fn dot<'py>(py: Python<'py>, a: &[u8], b: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let a: &[u8; 32] = a
        .try_into()
        .map_err(|_| PyValueError::new_err("Invalid hash"))?;
    let b: &[u8; 32] = b
        .try_into()
        .map_err(|_| PyValueError::new_err("Invalid hash"))?;
    Ok(PyBytes::new(py, &qldb_ion::dot(a, b)))
}
