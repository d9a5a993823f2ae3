//! `pyqldb._native`: the PyO3 bindings of pyqldb-rs (module init only).
//!
//! Raw classes, one file per concept, that the Python façade in `python/pyqldb` wraps:
//! [`client::RawClient`] (an endpoint), [`driver::RawDriver`] (pool + retry loop),
//! [`executor::RawTransaction`], [`cursor::RawCursor`], [`session_client::RawSessionClient`]
//! (the low-level session API), [`local::RawLedger`] (embedded control-plane extras);
//! [`ion_py`] converts values, [`errors`] maps errors, [`wait`] is the one GIL-releasing wait.

use pyo3::prelude::*;

pub mod client;
pub mod cursor;
pub mod driver;
pub mod errors;
pub mod executor;
pub mod hash;
pub mod ion_py;
pub mod local;
pub mod session_client;
pub mod wait;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    install_logging_bridge(m.py());
    m.add_class::<client::RawClient>()?;
    m.add_class::<driver::RawDriver>()?;
    m.add_class::<executor::RawTransaction>()?;
    m.add_class::<cursor::RawCursor>()?;
    m.add_class::<session_client::RawSessionClient>()?;
    m.add_class::<session_client::RawIonParam>()?;
    m.add_class::<session_client::RawCommitDigest>()?;
    m.add_class::<local::RawLedger>()?;
    m.add_class::<errors::NativeError>()?;
    m.add_function(wrap_pyfunction!(ion_py::py_ion_loads, m)?)?;
    m.add_function(wrap_pyfunction!(ion_py::py_ion_dumps, m)?)?;
    m.add_function(wrap_pyfunction!(hash::ion_hash, m)?)?;
    m.add_function(wrap_pyfunction!(hash::dot, m)?)?;
    m.add_function(wrap_pyfunction!(local::forget_embedded_engine, m)?)?;
    m.add(
        "INTERRUPT_TICK_SECONDS",
        qldb_driver::sync::INTERRUPT_TICK.as_secs_f64(),
    )?;
    Ok(())
}

/// Forwards the driver's Rust-side events at INFO and above (retries are logged by the Python
/// face as pyqldb does; here: failed EndSession calls, embedded engines and ledgers created) to
/// Python's `logging`, under `pyqldb.<rust module path>`, e.g. `pyqldb.qldb_driver.pool`.
/// Levels are checked on the Python side for every forwarded event, so `logging` configuration
/// changed after import is honoured; events below INFO are dropped in Rust at no cost.
fn install_logging_bridge(py: Python<'_>) {
    let installed = pyo3_log::Logger::new(py, pyo3_log::Caching::Loggers)
        .map(|l| l.set_prefix("pyqldb").filter(log::LevelFilter::Info))
        .map(pyo3_log::Logger::install);
    // A second import in the same process (sub-interpreters, reloads) keeps the first bridge.
    drop(installed);
}
