//! Ion ⇄ Python values (`spec/pyqldb-api.md` §7).
//!
//! - **Results**, decoded from the Ion binary of each value: by default amazon.ion's `IonPy*`
//!   objects, built here directly from the cached classes of the installed amazon.ion (no
//!   `simpleion.loads`), with the `ion_type` and `ion_annotations` that `loads` gives them and
//!   `IonPyDict`'s multimap semantics (duplicate fields kept); or, with the **plain** model,
//!   ordinary Python values: `dict`, `list`, `str`, `int`, `float`, `Decimal`, `datetime`
//!   (timezone-aware when the offset is known, naive for an unknown offset), `bytes`, `bool`,
//!   `None` (annotations dropped, symbols as `str`, s-expressions as lists, the last of
//!   duplicate fields kept).
//!
//!   Results are binary Ion 1.0 (a version marker, a local symbol table, one value):
//!   `read_direct.rs` parses that form and builds the Python objects as it goes, without the
//!   general machinery of a full Ion reader. Anything else (Ion text, annotations, timestamps
//!   with a non-UTC offset, … and malformed data) is read by ion-rs's lazy reader
//!   (`read_lazy.rs`) and converted as it walks the value, so every result and every error is
//!   ion-rs's. Neither builds an `Element` tree. Field names come from a cache of interned `str`s
//!   (`field_names.rs`); the `IonPy*` objects are made by their base types' constructors
//!   (`int.__new__(IonPyInt, v)`, the `datetime` C API), each route checked at start-up against
//!   the classes' own (`classes.rs`).
//! - **Parameters**: a Python native or `IonPy*` value becomes one Ion value the way pyqldb's
//!   `loads(dumps(obj))` does (naive `datetime` → unknown offset with 6 fractional digits,
//!   `dict` → struct, `tuple` → list, …); anything else is pyqldb's `TypeError("Failed to convert
//!   parameter to Ion; unsupported data type: <type repr>")` (`to_ion.rs`).
//!
//! The files: `classes.rs` (the amazon.ion and standard-library objects, looked up once, and the
//! start-up probes of the fast construction routes); the two read paths, `read_direct.rs` and
//! `read_lazy.rs`; what both build Python values with: `field_names.rs`, `containers.rs`
//! (`IonPyList`, `IonPyDict`), `scalars.rs` and `timestamps.rs`; `to_ion.rs` (Python → Ion).
//! This file holds the entry points: [`loads`], [`to_param`], [`to_element`] and the Python
//! functions `ion_loads` and `ion_dumps`.

mod classes;
mod containers;
mod field_names;
mod read_direct;
mod read_lazy;
mod scalars;
mod timestamps;
mod to_ion;

use ion_rs::{AnyEncoding, Reader};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use classes::classes;
use field_names::Cx;
use read_lazy::read_one;
pub use to_ion::{to_element, to_param};

/// Containers nested deeper than this are rejected rather than recursed into.
const MAX_DEPTH: usize = 512;

/// How results are handed to Python.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueModel {
    /// amazon.ion `IonPy*` objects, as pyqldb returns them.
    IonPy,
    /// Plain Python values.
    Plain,
}

impl ValueModel {
    pub fn parse(name: &str) -> PyResult<ValueModel> {
        match name {
            "ion" | "ionpy" => Ok(ValueModel::IonPy),
            "plain" => Ok(ValueModel::Plain),
            other => Err(PyValueError::new_err(format!(
                "value_model must be 'ion' or 'plain', not {other:?}"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ValueModel::IonPy => "ion",
            ValueModel::Plain => "plain",
        }
    }
}

/// Decodes one value (a complete Ion binary or text stream holding exactly one value).
///
/// Results are binary Ion 1.0 streams of one value after a local symbol table, which
/// `read_direct.rs` converts as it parses them. Anything it does not handle (Ion text,
/// annotations, timestamps with a non-UTC offset, malformed data, …) is read by ion-rs's lazy
/// reader and converted as it walks the value (`read_lazy.rs`): no `Element` tree either way.
pub fn loads<'py>(py: Python<'py>, data: &[u8], model: ValueModel) -> PyResult<Bound<'py, PyAny>> {
    let c = classes(py)?;
    let mut cx = Cx::new(py, c);
    if let Some(value) = read_direct::loads(&mut cx, data, model) {
        return Ok(value);
    }
    read_one(&mut cx, Reader::new(AnyEncoding, data), model)
}

fn too_deep() -> PyErr {
    PyValueError::new_err(format!(
        "Ion containers are nested more than {MAX_DEPTH} levels deep"
    ))
}

/// Decodes one Ion value (binary or text) as pyqldb results are decoded; `value_model` is
/// `'ion'` (`IonPy*` objects) or `'plain'`.
#[pyfunction]
#[pyo3(name = "ion_loads", signature = (data, value_model="ion"))]
pub fn py_ion_loads<'py>(
    py: Python<'py>,
    data: &[u8],
    value_model: &str,
) -> PyResult<Bound<'py, PyAny>> {
    loads(py, data, ValueModel::parse(value_model)?)
}

/// Encodes a Python value as a parameter is sent: a binary Ion stream holding one value.
#[pyfunction]
#[pyo3(name = "ion_dumps")]
pub fn py_ion_dumps<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let param = to_param(value)?;
    Ok(PyBytes::new(value.py(), param.binary()))
}
