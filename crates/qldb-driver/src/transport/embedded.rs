//! The embedded transport: the session commands go straight to an in-process
//! [`qldb_ledger::Engine`], no HTTP. It is what `endpoint_url="memory://name"` and
//! `"file:///abs/dir"` select.
//!
//! **Blocking calls.** Engine calls are synchronous: statements can be CPU-heavy and a commit
//! on a `file://` engine waits for an fsync (group commit). Every call therefore runs on
//! tokio's blocking pool via [`tokio::task::spawn_blocking`], not `block_in_place`:
//! `block_in_place` panics on a current-thread runtime (the one `#[tokio::test]` and some
//! embedders use) and, on a multi-thread runtime, still takes the worker out of service for the
//! duration. `spawn_blocking` works on every runtime flavour and never stalls a worker; its cost
//! is one thread hand-off (microseconds) per command. When the sync API's caller polls the
//! future on its own thread ([`crate::sync::is_blocking_waiter`]), the call runs inline there
//! instead: that thread may block, and the two hand-offs were half of a small transaction's CPU.
//!
//! **Engine registry.** A process-wide registry maps endpoint URLs to shared engines: every
//! driver opened on `memory://name` in a process talks to the same in-memory engine, and a
//! `file:///dir` data directory is opened once per process (the journal files are locked for
//! exclusive use, so a second open would fail). Registry entries live until
//! [`forget_engine`] drops them (an in-memory ledger thus outlives its drivers, like a named
//! shared in-memory database). The [`EngineConfig`] given when an entry is first created
//! applies; later lookups of the same URL get the existing engine whatever config they pass.
//! Tests and embedders that need their own engine use [`EmbeddedTransport::new`].
//!
//! **Missing ledgers.** QLDB answers StartSession on an unknown ledger with
//! `BadRequestException` (which pyqldb 3.x retries like any StartSession failure, then raises).
//! An embedded endpoint has no control plane in the way, so by default
//! ([`EmbeddedOptions::create_ledger_if_missing`] = `true`) StartSession creates the ledger
//! first, with `ALLOW_ALL` permissions and deletion protection **off**. With `false` it answers
//! exactly as QLDB does.

use super::{CommitResult, IoUsage, Page, SessionStarted, StatementResult, Transport};
use crate::error::DriverError;
use crate::param::IonParam;
use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::Mutex;
use qldb_ledger::{CreateLedgerRequest, Engine, EngineConfig, LedgerError};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Options of the embedded transport.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// Create the ledger on the first StartSession naming it (deletion protection off).
    /// Default `true`; `false` answers `BadRequestException` as QLDB does.
    pub create_ledger_if_missing: bool,
    /// Engine settings, used when the registry creates the engine for a URL.
    pub engine_config: EngineConfig,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            create_ledger_if_missing: true,
            engine_config: EngineConfig::default(),
        }
    }
}

/// Where an embedded engine lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EmbeddedLocation {
    /// `memory://name`: an in-memory engine shared by name within the process.
    Memory(String),
    /// `file:///abs/dir`: a durable engine in a data directory.
    Dir(PathBuf),
}

impl EmbeddedLocation {
    /// Parses `memory://name` or `file:///abs/dir` (also `file://localhost/abs/dir`;
    /// `%XX` escapes are decoded). Other schemes give `None`.
    pub fn parse(url: &str) -> Option<Result<EmbeddedLocation, DriverError>> {
        if let Some(rest) = strip_scheme(url, "memory") {
            let name = rest.trim_end_matches('/');
            if name.is_empty() {
                return Some(Err(DriverError::invalid_argument(format!(
                    "An embedded memory endpoint needs a name: memory://NAME (got {url:?})"
                ))));
            }
            return Some(Ok(EmbeddedLocation::Memory(name.to_string())));
        }
        if let Some(rest) = strip_scheme(url, "file") {
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            if !path.starts_with('/') {
                return Some(Err(DriverError::invalid_argument(format!(
                    "A file endpoint needs an absolute path: file:///abs/dir (got {url:?})"
                ))));
            }
            return Some(match percent_decode(path) {
                Some(p) => Ok(EmbeddedLocation::Dir(PathBuf::from(p))),
                None => Err(DriverError::invalid_argument(format!(
                    "Invalid percent-encoding in {url:?}"
                ))),
            });
        }
        None
    }

    /// The URL form, for logs.
    pub fn url(&self) -> String {
        match self {
            EmbeddedLocation::Memory(n) => format!("memory://{n}"),
            EmbeddedLocation::Dir(p) => format!("file://{}", p.display()),
        }
    }
}

fn strip_scheme<'a>(url: &'a str, scheme: &str) -> Option<&'a str> {
    let (s, rest) = url.split_once("://")?;
    s.eq_ignore_ascii_case(scheme).then_some(rest)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

type Registry = Mutex<HashMap<EmbeddedLocation, Arc<Engine>>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// The process-wide engine for `location`, created (memory) or opened (directory) on first
/// use. Blocking: opening a directory recovers its journals.
pub fn shared_engine(
    location: &EmbeddedLocation,
    config: &EngineConfig,
) -> Result<Arc<Engine>, DriverError> {
    let key = match location {
        EmbeddedLocation::Memory(_) => location.clone(),
        EmbeddedLocation::Dir(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                DriverError::invalid_argument(format!(
                    "Cannot create the data directory {}: {e}",
                    dir.display()
                ))
            })?;
            let canonical = dir.canonicalize().map_err(|e| {
                DriverError::invalid_argument(format!("Cannot open {}: {e}", dir.display()))
            })?;
            EmbeddedLocation::Dir(canonical)
        }
    };
    // The registry lock is held while a directory opens, so two drivers racing on one URL
    // open it once.
    let mut reg = registry().lock();
    if let Some(engine) = reg.get(&key) {
        return Ok(engine.clone());
    }
    let engine = match &key {
        EmbeddedLocation::Memory(_) => Engine::memory(config.clone()),
        EmbeddedLocation::Dir(dir) => Engine::open_dir(dir, config.clone()).map_err(|e| {
            DriverError::invalid_argument(format!(
                "Cannot open ledger data in {}: {e}",
                dir.display()
            ))
        })?,
    };
    tracing::info!(endpoint = %key.url(), "embedded engine opened");
    let engine = Arc::new(engine);
    reg.insert(key, engine.clone());
    Ok(engine)
}

/// Drops the registry's reference to the engine of `location` (it closes once no driver uses
/// it). Returns whether there was one.
pub fn forget_engine(location: &EmbeddedLocation) -> bool {
    let key = match location {
        EmbeddedLocation::Dir(dir) => match dir.canonicalize() {
            Ok(c) => EmbeddedLocation::Dir(c),
            Err(_) => location.clone(),
        },
        other => other.clone(),
    };
    registry().lock().remove(&key).is_some()
}

/// The transport over an in-process engine.
#[derive(Clone)]
pub struct EmbeddedTransport {
    engine: Arc<Engine>,
    create_ledger_if_missing: bool,
    name: String,
}

impl std::fmt::Debug for EmbeddedTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedTransport")
            .field("endpoint", &self.name)
            .field("create_ledger_if_missing", &self.create_ledger_if_missing)
            .finish()
    }
}

impl EmbeddedTransport {
    /// A transport over the given engine (not registered anywhere).
    pub fn new(engine: Arc<Engine>, create_ledger_if_missing: bool) -> Self {
        let name = match engine.data_dir() {
            Some(d) => format!("file://{}", d.display()),
            None => "embedded engine".to_string(),
        };
        EmbeddedTransport {
            engine,
            create_ledger_if_missing,
            name,
        }
    }

    /// A transport over the registry's engine for an embedded URL (`memory://…`,
    /// `file:///…`). Blocking (a directory is opened on first use); see
    /// [`EmbeddedTransport::open_async`].
    pub fn open(url: &str, options: &EmbeddedOptions) -> Result<Self, DriverError> {
        let location = EmbeddedLocation::parse(url).unwrap_or_else(|| {
            Err(DriverError::invalid_argument(format!(
                "Not an embedded endpoint (memory://NAME or file:///DIR): {url:?}"
            )))
        })?;
        Self::open_location(&location, options)
    }

    /// A transport over the registry's engine for `location`. Blocking.
    pub fn open_location(
        location: &EmbeddedLocation,
        options: &EmbeddedOptions,
    ) -> Result<Self, DriverError> {
        let engine = shared_engine(location, &options.engine_config)?;
        Ok(EmbeddedTransport {
            engine,
            create_ledger_if_missing: options.create_ledger_if_missing,
            name: location.url(),
        })
    }

    /// [`EmbeddedTransport::open_location`] on the blocking pool.
    pub async fn open_async(
        location: &EmbeddedLocation,
        options: &EmbeddedOptions,
    ) -> Result<Self, DriverError> {
        let location = location.clone();
        let options = options.clone();
        tokio::task::spawn_blocking(move || Self::open_location(&location, &options))
            .await
            .map_err(join_error)?
    }

    /// The engine behind this transport.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    async fn call<T, F>(&self, f: F) -> Result<T, DriverError>
    where
        F: FnOnce(&Engine) -> Result<T, LedgerError> + Send + 'static,
        T: Send + 'static,
    {
        if crate::sync::is_blocking_waiter() {
            // The sync API's caller polls this future on its own thread, which may block:
            // run the engine call right here instead of handing it to the blocking pool.
            return std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&self.engine)))
                .map_err(|_| DriverError::protocol("The embedded engine panicked"))?
                .map_err(|e| ledger_error(&e));
        }
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || f(&engine))
            .await
            .map_err(join_error)?
            .map_err(|e| ledger_error(&e))
    }
}

fn join_error(e: tokio::task::JoinError) -> DriverError {
    if e.is_panic() {
        // An engine panic is a bug; surface it as a non-retryable failure instead of unwinding
        // through the driver.
        DriverError::protocol(format!("The embedded engine panicked: {e}"))
    } else {
        DriverError::transport("The embedded engine call was cancelled", None)
    }
}

/// A ledger error as the service would report it: its code and message, HTTP 400 (503 for
/// `CapacityExceededException`, 500 for internal failures).
pub fn ledger_error(e: &LedgerError) -> DriverError {
    let status = match e {
        LedgerError::CapacityExceeded(_) => 503,
        LedgerError::Internal(_) => 500,
        _ => 400,
    };
    DriverError::service(e.code(), e.message(), Some(status), None)
}

fn statement_result(r: qldb_ledger::StatementResult) -> StatementResult {
    StatementResult {
        page: convert_page(r.page),
        consumed_ios: Some(IoUsage {
            read_ios: r.read_ios,
            write_ios: r.write_ios,
        }),
        processing_ms: Some(r.processing_ms),
    }
}

fn convert_page(p: qldb_ledger::Page) -> Page {
    Page {
        values: p.values.into_iter().map(Bytes::from).collect(),
        next_page_token: p.next_page_token,
    }
}

#[async_trait]
impl Transport for EmbeddedTransport {
    async fn start_session(&self, ledger_name: &str) -> Result<SessionStarted, DriverError> {
        let name = ledger_name.to_string();
        let create = self.create_ledger_if_missing;
        self.call(move |engine| {
            if create && engine.ledger(&name).is_err() {
                let mut req = CreateLedgerRequest::new(name.clone());
                req.deletion_protection = false;
                match engine.create_ledger(req) {
                    Ok(_) => tracing::info!(ledger = %name, "embedded ledger created"),
                    Err(LedgerError::ResourceAlreadyExists { .. }) => {}
                    // Report a bad name the way StartSession reports a bad ledger.
                    Err(e) => return Err(LedgerError::BadRequest(e.message())),
                }
            }
            let s = engine.start_session(&name)?;
            Ok(SessionStarted {
                session_token: s.session_token,
                session_id: s.session_id,
            })
        })
        .await
    }

    async fn start_transaction(&self, session_token: &str) -> Result<String, DriverError> {
        let token = session_token.to_string();
        self.call(move |engine| engine.start_transaction(&token))
            .await
    }

    async fn execute_statement(
        &self,
        session_token: &str,
        transaction_id: &str,
        statement: &str,
        parameters: &[IonParam],
    ) -> Result<StatementResult, DriverError> {
        let token = session_token.to_string();
        let txid = transaction_id.to_string();
        let statement = statement.to_string();
        let params = parameters.to_vec();
        let start = Instant::now();
        self.call(move |engine| {
            let elements: Vec<_> = params.iter().map(|p| p.element().clone()).collect();
            let hashes: Vec<_> = params.iter().map(|p| *p.hash()).collect();
            engine
                .execute_hashed(&token, &txid, &statement, &elements, &hashes, start)
                .map(statement_result)
        })
        .await
    }

    async fn fetch_page(
        &self,
        session_token: &str,
        transaction_id: &str,
        next_page_token: &str,
    ) -> Result<StatementResult, DriverError> {
        let token = session_token.to_string();
        let txid = transaction_id.to_string();
        let page_token = next_page_token.to_string();
        self.call(move |engine| {
            engine
                .fetch_page(&token, &txid, &page_token)
                .map(statement_result)
        })
        .await
    }

    async fn commit_transaction(
        &self,
        session_token: &str,
        transaction_id: &str,
        commit_digest: &[u8; 32],
    ) -> Result<CommitResult, DriverError> {
        let token = session_token.to_string();
        let txid = transaction_id.to_string();
        let digest = *commit_digest;
        self.call(move |engine| {
            let r = engine.commit_transaction(&token, &txid, &digest)?;
            Ok(CommitResult {
                transaction_id: Some(r.transaction_id),
                commit_digest: Some(Bytes::from(r.commit_digest)),
                consumed_ios: Some(IoUsage {
                    read_ios: r.read_ios,
                    write_ios: r.write_ios,
                }),
                processing_ms: Some(r.processing_ms),
            })
        })
        .await
    }

    async fn abort_transaction(&self, session_token: &str) -> Result<(), DriverError> {
        let token = session_token.to_string();
        self.call(move |engine| engine.abort_transaction(&token).map(|_| ()))
            .await
    }

    async fn end_session(&self, session_token: &str) -> Result<(), DriverError> {
        let token = session_token.to_string();
        self.call(move |engine| engine.end_session(&token).map(|_| ()))
            .await
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_locations() {
        assert_eq!(
            EmbeddedLocation::parse("memory://abc").unwrap().unwrap(),
            EmbeddedLocation::Memory("abc".into())
        );
        assert_eq!(
            EmbeddedLocation::parse("file:///tmp/a%20b")
                .unwrap()
                .unwrap(),
            EmbeddedLocation::Dir("/tmp/a b".into())
        );
        assert_eq!(
            EmbeddedLocation::parse("file://localhost/x")
                .unwrap()
                .unwrap(),
            EmbeddedLocation::Dir("/x".into())
        );
        assert!(EmbeddedLocation::parse("file://relative/x")
            .unwrap()
            .is_err());
        assert!(EmbeddedLocation::parse("memory://").unwrap().is_err());
        assert!(EmbeddedLocation::parse("http://x").is_none());
    }
}
