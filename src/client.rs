//! `RawClient`: a connection to a QLDB Session endpoint (pyqldb's boto3 `qldb-session` client),
//! i.e. a qldb-driver transport chosen from an endpoint URL: `memory://name` and
//! `file:///dir` (the embedded engine), `http(s)://…` (QLDB Session over HTTP, SigV4), or the
//! regional endpoint; `AWS_ENDPOINT_URL_QLDB_SESSION` applies when no URL is given.
//!
//! Drivers (`RawDriver`) and low-level sessions (`RawSessionClient`) are made over a client.
//! Two test hooks wrap the real transport: `record_commands` keeps the names of the commands
//! sent, and `corrupt_commit_digest=N` flips a bit of the digest echoed by the next N commits
//! (so the driver's digest check can be exercised against a real engine).

use crate::errors::IntoPyResult;
use crate::session_client::RawSessionClient;
use crate::wait::wait;
use bytes::Bytes;
use parking_lot::Mutex;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use qldb_driver::endpoint::{connect, ConnectOptions};
use qldb_driver::transport::http::StaticCredentials;
use qldb_driver::{
    async_trait, CommitResult, DriverError, IonParam, SessionStarted, StatementResult, Transport,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A connection to a QLDB Session endpoint. Cheap to share between threads and drivers.
#[pyclass(frozen, module = "pyqldb._native")]
pub struct RawClient {
    pub(crate) transport: Arc<dyn Transport>,
    hooks: Option<Arc<Hooks>>,
}

#[pymethods]
impl RawClient {
    /// Connects (no request is sent: sessions start lazily).
    ///
    /// `verify`: `False` turns certificate checks off (as botocore does); a path is a PEM CA
    /// bundle trusted instead of the platform roots.
    #[new]
    #[pyo3(signature = (
        endpoint_url=None, *, region_name=None, aws_access_key_id=None,
        aws_secret_access_key=None, aws_session_token=None, profile_name=None, verify=None,
        user_agent_extra=None, connect_timeout=None, read_timeout=None,
        create_ledger_if_missing=true, record_commands=false, corrupt_commit_digest=0
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        endpoint_url: Option<String>,
        region_name: Option<String>,
        aws_access_key_id: Option<String>,
        aws_secret_access_key: Option<String>,
        aws_session_token: Option<String>,
        profile_name: Option<String>,
        verify: Option<&Bound<'_, PyAny>>,
        user_agent_extra: Option<String>,
        connect_timeout: Option<f64>,
        read_timeout: Option<f64>,
        create_ledger_if_missing: bool,
        record_commands: bool,
        corrupt_commit_digest: u64,
    ) -> PyResult<RawClient> {
        let mut options = ConnectOptions {
            endpoint_url,
            ..Default::default()
        };
        options.embedded.create_ledger_if_missing = create_ledger_if_missing;
        let http = &mut options.http;
        http.region = region_name;
        http.profile = profile_name;
        http.credentials = match (aws_access_key_id, aws_secret_access_key) {
            (Some(access_key_id), Some(secret_access_key)) => Some(StaticCredentials {
                access_key_id,
                secret_access_key,
                session_token: aws_session_token,
            }),
            (None, None) => None,
            _ => {
                return Err(PyValueError::new_err(
                    "aws_access_key_id and aws_secret_access_key must be given together",
                ))
            }
        };
        if let Some(v) = verify {
            if v.is_instance_of::<pyo3::types::PyBool>() {
                http.verify_certificates = v.is_truthy()?;
            } else if let Ok(path) = v.extract::<std::path::PathBuf>() {
                let pem = std::fs::read(&path).map_err(|e| {
                    PyValueError::new_err(format!("Cannot read the CA bundle {path:?}: {e}"))
                })?;
                http.extra_ca_pem = Some(pem);
                http.native_roots = false;
            }
        }
        http.app_name = user_agent_extra.map(|s| app_name(&s));
        if let Some(t) = connect_timeout {
            http.connect_timeout = seconds(t)?;
        }
        if let Some(t) = read_timeout {
            http.read_timeout = seconds(t)?;
        }
        let transport = wait(py, connect(&options))?.into_py_result(py)?;
        let (transport, hooks) = if record_commands || corrupt_commit_digest > 0 {
            let hooks = Arc::new(Hooks {
                record: record_commands,
                commands: Mutex::new(Vec::new()),
                corrupt: AtomicU64::new(corrupt_commit_digest),
            });
            let wrapped: Arc<dyn Transport> = Arc::new(HookedTransport {
                inner: transport,
                hooks: hooks.clone(),
            });
            (wrapped, Some(hooks))
        } else {
            (transport, None)
        };
        Ok(RawClient { transport, hooks })
    }

    /// The endpoint, for logs: `memory://name`, `file:///dir`, `http://host:port`, …
    #[getter]
    fn endpoint(&self) -> String {
        self.transport.describe()
    }

    /// StartSession on `ledger_name` (a 2.x `SessionClient`'s building block).
    pub fn start_session(&self, py: Python<'_>, ledger_name: &str) -> PyResult<RawSessionClient> {
        let started = wait(py, self.transport.start_session(ledger_name))?.into_py_result(py)?;
        Ok(RawSessionClient::new(
            self.transport.clone(),
            ledger_name,
            started,
        ))
    }

    /// Test hook: the commands sent so far (with `record_commands=True`), oldest first.
    fn recorded_commands(&self) -> Vec<String> {
        match &self.hooks {
            Some(h) => h.commands.lock().clone(),
            None => Vec::new(),
        }
    }

    /// Test hook: forgets the recorded commands.
    fn clear_recorded_commands(&self) {
        if let Some(h) = &self.hooks {
            h.commands.lock().clear();
        }
    }

    /// Test hook: corrupt the digest echoed by the next `n` commits.
    fn corrupt_next_commit_digests(&self, n: u64) -> PyResult<()> {
        match &self.hooks {
            Some(h) => {
                h.corrupt.store(n, Ordering::SeqCst);
                Ok(())
            }
            None => Err(PyValueError::new_err(
                "this client was made without test hooks (record_commands or corrupt_commit_digest)",
            )),
        }
    }
}

fn seconds(t: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(t)
        .map_err(|_| PyValueError::new_err(format!("invalid timeout {t} (seconds)")))
}

/// The User-Agent `app/…` token allows `[A-Za-z0-9!#$%&'*+.^_`|~-]`; others become `-`.
fn app_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "!#$%&'*+.^_`|~-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

struct Hooks {
    record: bool,
    commands: Mutex<Vec<String>>,
    corrupt: AtomicU64,
}

impl Hooks {
    fn note(&self, command: &str) {
        if self.record {
            self.commands.lock().push(command.to_string());
        }
    }
}

/// The real transport with the test hooks around it.
struct HookedTransport {
    inner: Arc<dyn Transport>,
    hooks: Arc<Hooks>,
}

impl std::fmt::Debug for HookedTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookedTransport")
            .field("inner", &self.inner)
            .finish()
    }
}

#[async_trait]
impl Transport for HookedTransport {
    async fn start_session(&self, ledger_name: &str) -> Result<SessionStarted, DriverError> {
        self.hooks.note("StartSession");
        self.inner.start_session(ledger_name).await
    }

    async fn start_transaction(&self, session_token: &str) -> Result<String, DriverError> {
        self.hooks.note("StartTransaction");
        self.inner.start_transaction(session_token).await
    }

    async fn execute_statement(
        &self,
        session_token: &str,
        transaction_id: &str,
        statement: &str,
        parameters: &[IonParam],
    ) -> Result<StatementResult, DriverError> {
        self.hooks.note("ExecuteStatement");
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
        self.hooks.note("FetchPage");
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
        self.hooks.note("CommitTransaction");
        let mut result = self
            .inner
            .commit_transaction(session_token, transaction_id, commit_digest)
            .await?;
        let corrupt = self
            .hooks
            .corrupt
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if corrupt {
            if let Some(d) = &result.commit_digest {
                let mut flipped = d.to_vec();
                if let Some(b) = flipped.first_mut() {
                    *b ^= 0x01;
                }
                result.commit_digest = Some(Bytes::from(flipped));
            }
        }
        Ok(result)
    }

    async fn abort_transaction(&self, session_token: &str) -> Result<(), DriverError> {
        self.hooks.note("AbortTransaction");
        self.inner.abort_transaction(session_token).await
    }

    async fn end_session(&self, session_token: &str) -> Result<(), DriverError> {
        self.hooks.note("EndSession");
        self.inner.end_session(session_token).await
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}
