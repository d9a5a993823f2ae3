//! What a `qldb-local` server is started with: where ledgers live, the address, engine limits,
//! ledgers to create, accepted access keys, fault rules and the request body limit.

use crate::faults::FaultRule;
use crate::sigv4::Credentials;
use qldb_ledger::EngineConfig;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Default request body limit: 2 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Where the ledgers live.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Storage {
    /// In memory; everything is gone when the server stops.
    #[default]
    Memory,
    /// In a data directory (one sub-directory per ledger), recovered at start-up.
    Dir(PathBuf),
}

impl std::fmt::Display for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Storage::Memory => f.write_str("memory"),
            Storage::Dir(d) => write!(f, "{}", d.display()),
        }
    }
}

/// A server's configuration. [`ServerConfig::default`] is an in-memory server on
/// `127.0.0.1:0` (a free port) with QLDB's engine limits, no authentication and no faults.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    pub storage: Storage,
    pub engine: EngineConfig,
    /// Ledgers created (deletion protection off) at start-up if missing.
    pub create_ledgers: Vec<String>,
    /// When set, every request but the admin API needs a valid SigV4 signature by one of
    /// these keys.
    pub credentials: Option<Credentials>,
    pub faults: Vec<FaultRule>,
    pub max_body_bytes: usize,
    /// How long a graceful shutdown waits for in-flight requests.
    pub shutdown_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            storage: Storage::Memory,
            engine: EngineConfig::default(),
            create_ledgers: Vec::new(),
            credentials: None,
            faults: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// A server that could not start.
#[derive(Debug)]
pub struct ServerError(pub String);

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServerError {}
