//! The one wait helper: runs a driver future to completion with the GIL released, checking
//! Python's signal handlers every 50 ms so Ctrl-C (`KeyboardInterrupt`) ends a blocked call.
//!
//! The future runs on qldb-driver's process-wide runtime (`qldb_driver::sync::wait`); an
//! interrupted wait drops the future, which cancels the request in flight.

use pyo3::prelude::*;
use qldb_driver::sync::{runtime, wait_interruptible, INTERRUPT_TICK};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Python's signal check, taking the GIL for the call (the interrupt check of every wait).
pub fn check_signals() -> PyResult<()> {
    Python::attach(|py| py.check_signals())
}

/// Waits for `fut` with the GIL released; a raised signal handler's exception ends the wait.
pub fn wait<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    py.detach(|| wait_interruptible(fut, INTERRUPT_TICK, &check_signals))
}

/// [`wait`], but first polls `fut` once on the calling thread, keeping the GIL: a cursor's
/// next value is usually already buffered, and then no thread switch is paid.
pub fn wait_fast<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let mut fut = pin!(fut);
    {
        let rt = runtime();
        let _entered = rt.enter();
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return Ok(v);
        }
    }
    wait(py, fut)
}
