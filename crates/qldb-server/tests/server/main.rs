//! Integration tests of `qldb-local` over real HTTP: in-process servers on port 0 driven by a
//! plain HTTP/1.1 client with hand-written JSON bodies, plus the built binary for start-up
//! output, signals and restarts.

mod auth;
mod control;
mod faults;
mod process;
mod session;
mod support;
mod transport;

use qldb_server::{Server, ServerConfig, ServerHandle};

/// The ledger every in-process test server starts with.
pub const LEDGER: &str = "test";

/// An in-memory server with ledger [`LEDGER`], adjusted by `f`.
pub fn start_server(f: impl FnOnce(&mut ServerConfig)) -> ServerHandle {
    let mut config = ServerConfig::default();
    config.create_ledgers.push(LEDGER.into());
    f(&mut config);
    Server::start(config).expect("server starts")
}

/// True for a 22-character base62 id.
pub fn is_id(s: &str) -> bool {
    s.len() == 22 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}
