//! Integration tests of the driver against the real embedded engine (memory:// and file://)
//! and, over HTTP, against the `qldb-local` server binary.

mod backoff;
mod basic;
mod common;
mod cursors;
#[cfg(feature = "http")]
mod http;
mod pool;
mod retries;
