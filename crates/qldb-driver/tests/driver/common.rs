//! Shared helpers: drivers over the real embedded engine, a transport wrapper that records
//! the commands and can inject faults or corrupt answers (around the REAL embedded transport),
//! and Ion helpers.

use async_trait::async_trait;
use bytes::Bytes;
use ion_rs::Element;
use parking_lot::Mutex;
use qldb_driver::{
    CommitResult, DriverError, EmbeddedTransport, IonParam, SessionStarted, StatementResult,
    Transport,
};
use qldb_ledger::{Engine, EngineConfig};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// A unique name for a test's in-memory endpoint.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn int(v: i64) -> IonParam {
    IonParam::from_element(Element::from(v)).unwrap()
}

pub fn text(v: &str) -> IonParam {
    IonParam::from_element(Element::from(v)).unwrap()
}

pub fn decode(v: &Bytes) -> Element {
    Element::read_one(v.as_ref()).unwrap()
}

/// The int field `name` of a struct value.
pub fn field_i64(v: &Bytes, name: &str) -> i64 {
    let e = decode(v);
    e.as_struct()
        .unwrap_or_else(|| panic!("not a struct: {e}"))
        .get(name)
        .unwrap_or_else(|| panic!("no field {name} in {e}"))
        .as_i64()
        .unwrap()
}

pub fn engine(config: EngineConfig) -> Arc<Engine> {
    Arc::new(Engine::memory(config))
}

type Hook = Box<dyn Fn(&str, u64) -> Option<DriverError> + Send + Sync>;

/// Wraps the real embedded transport: logs each command, can fail the `n`th call of a command
/// (emulating what the server does with the session state for that error), and can corrupt
/// the echoed commit digest.
pub struct Wrapped {
    pub inner: EmbeddedTransport,
    log: Mutex<Vec<String>>,
    counts: Mutex<HashMap<String, u64>>,
    hook: Mutex<Option<Hook>>,
    pub corrupt_digest: AtomicBool,
    pub fetch_delay_ms: AtomicU64,
}

impl std::fmt::Debug for Wrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Wrapped")
    }
}

impl Wrapped {
    pub fn new(engine: Arc<Engine>) -> Arc<Wrapped> {
        Arc::new(Wrapped {
            inner: EmbeddedTransport::new(engine, true),
            log: Mutex::new(Vec::new()),
            counts: Mutex::new(HashMap::new()),
            hook: Mutex::new(None),
            corrupt_digest: AtomicBool::new(false),
            fetch_delay_ms: AtomicU64::new(0),
        })
    }

    /// Fails calls for which `hook(command, nth)` returns an error (nth counts from 1 per
    /// command).
    pub fn set_hook(
        &self,
        hook: impl Fn(&str, u64) -> Option<DriverError> + Send + Sync + 'static,
    ) {
        *self.hook.lock() = Some(Box::new(hook));
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().clone()
    }

    pub fn clear_log(&self) {
        self.log.lock().clear();
    }

    pub fn count(&self, command: &str) -> u64 {
        self.log.lock().iter().filter(|c| *c == command).count() as u64
    }

    fn enter(&self, command: &str) -> Option<DriverError> {
        self.log.lock().push(command.to_string());
        let nth = {
            let mut counts = self.counts.lock();
            let c = counts.entry(command.to_string()).or_default();
            *c += 1;
            *c
        };
        self.hook.lock().as_ref().and_then(|h| h(command, nth))
    }

    /// What the server does to the session for an injected error.
    async fn emulate(&self, token: &str, e: &DriverError) {
        if e.is_invalid_session() {
            let _ = self.inner.end_session(token).await;
        } else if e.is_occ() {
            let _ = self.inner.abort_transaction(token).await;
        }
    }
}

#[async_trait]
impl Transport for Wrapped {
    async fn start_session(&self, ledger_name: &str) -> Result<SessionStarted, DriverError> {
        if let Some(e) = self.enter("StartSession") {
            return Err(e);
        }
        self.inner.start_session(ledger_name).await
    }

    async fn start_transaction(&self, session_token: &str) -> Result<String, DriverError> {
        if let Some(e) = self.enter("StartTransaction") {
            self.emulate(session_token, &e).await;
            return Err(e);
        }
        self.inner.start_transaction(session_token).await
    }

    async fn execute_statement(
        &self,
        session_token: &str,
        transaction_id: &str,
        statement: &str,
        parameters: &[IonParam],
    ) -> Result<StatementResult, DriverError> {
        if let Some(e) = self.enter("ExecuteStatement") {
            self.emulate(session_token, &e).await;
            return Err(e);
        }
        self.inner
            .execute_statement(session_token, transaction_id, statement, parameters)
            .await
    }

    async fn fetch_page(
        &self,
        session_token: &str,
        transaction_id: &str,
        next_page_token: &str,
    ) -> Result<StatementResult, DriverError> {
        if let Some(e) = self.enter("FetchPage") {
            return Err(e);
        }
        let delay = self.fetch_delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
        self.inner
            .fetch_page(session_token, transaction_id, next_page_token)
            .await
    }

    async fn commit_transaction(
        &self,
        session_token: &str,
        transaction_id: &str,
        commit_digest: &[u8; 32],
    ) -> Result<CommitResult, DriverError> {
        if let Some(e) = self.enter("CommitTransaction") {
            self.emulate(session_token, &e).await;
            return Err(e);
        }
        let mut r = self
            .inner
            .commit_transaction(session_token, transaction_id, commit_digest)
            .await?;
        if self.corrupt_digest.load(Ordering::Relaxed) {
            let mut d = r.commit_digest.take().unwrap().to_vec();
            d[0] ^= 0xFF;
            r.commit_digest = Some(Bytes::from(d));
        }
        Ok(r)
    }

    async fn abort_transaction(&self, session_token: &str) -> Result<(), DriverError> {
        if let Some(e) = self.enter("AbortTransaction") {
            return Err(e);
        }
        self.inner.abort_transaction(session_token).await
    }

    async fn end_session(&self, session_token: &str) -> Result<(), DriverError> {
        if let Some(e) = self.enter("EndSession") {
            return Err(e);
        }
        self.inner.end_session(session_token).await
    }

    fn describe(&self) -> String {
        format!("wrapped {}", self.inner.describe())
    }
}
