//! `qldb-local`: an HTTP server that speaks QLDB's session data plane (`QLDBSession.SendCommand`)
//! and control-plane subset over the [`qldb_ledger`] engine, so unmodified QLDB clients (boto3,
//! the original pyqldb, the JS/Java drivers) and this project's driver can run against a local
//! ledger.
//!
//! ```no_run
//! use qldb_server::{Server, ServerConfig};
//!
//! let mut config = ServerConfig::default(); // in memory, 127.0.0.1, a free port
//! config.create_ledgers.push("test".into());
//! let handle = Server::start(config).unwrap();
//! println!("serving on {}", handle.url());
//! handle.shutdown().unwrap();
//! ```
//!
//! Modules: [`server`] (binding, serving, graceful shutdown), `router` (body limit, SigV4,
//! dispatch), `session` and `control` (the two APIs), [`admin`] (loopback-only fault and health
//! API), [`faults`] (fault rules), [`sigv4`] (`qldb_wire::sigv4`, re-exported), [`config`].

pub mod admin;
pub mod config;
mod control;
pub mod faults;
mod router;
pub mod server;
pub mod session;
pub use qldb_wire::sigv4;

pub use config::{ServerConfig, ServerError, Storage, DEFAULT_MAX_BODY_BYTES};
pub use faults::{FaultRule, FaultSet, Reaction};
pub use server::{runtime, Server, ServerHandle};
pub use sigv4::Credentials;
