//! The ledger engine: a set of ledgers (in memory or in a data directory) with the QLDB
//! control-plane operations, and the session plane's seven commands as a Rust API that mirrors
//! the wire (`spec/wire-protocol.md`). Both the embedded driver and the HTTP server call this.

use crate::clock::now_millis;
use crate::error::{LedgerError, LedgerResult};
use crate::exec;
use crate::ledger::{Committing, Ledger, LedgerSettings};
use crate::partiql;
use crate::revision::BlockAddress;
use crate::storage::{FileJournal, MemoryJournal};
use crate::txn::{StatementRecord, Transaction};
use ion_rs::Element;
use parking_lot::{Mutex, RwLock};
use qldb_ion::{ion_hash, statement_hash, Hash};
use rand::Rng;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Engine settings; the defaults are QLDB's.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Time from StartTransaction after which the transaction has expired (QLDB: 30 s).
    pub transaction_timeout: Duration,
    /// A session expires at a random time in this range after it started (QLDB: 13–17 min).
    pub session_lifetime: (Duration, Duration),
    /// Concurrent sessions per ledger before StartTransaction answers LimitExceeded.
    pub max_sessions_per_ledger: usize,
    /// Values per result page.
    pub page_size: usize,
    /// Encoded bytes per result page (a page holds at least one value).
    pub page_bytes: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            transaction_timeout: Duration::from_secs(30),
            session_lifetime: (Duration::from_secs(13 * 60), Duration::from_secs(17 * 60)),
            max_sessions_per_ledger: 1500,
            page_size: 200,
            page_bytes: 1024 * 1024,
        }
    }
}

/// CreateLedger's options.
#[derive(Debug, Clone)]
pub struct CreateLedgerRequest {
    pub name: String,
    pub permissions_mode: String,
    pub deletion_protection: bool,
    pub kms_key: Option<String>,
}

impl CreateLedgerRequest {
    /// A request with QLDB's defaults (deletion protection on) and `ALLOW_ALL` permissions.
    pub fn new(name: impl Into<String>) -> Self {
        CreateLedgerRequest {
            name: name.into(),
            permissions_mode: "ALLOW_ALL".into(),
            deletion_protection: true,
            kms_key: None,
        }
    }
}

/// A ledger as DescribeLedger shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerDescription {
    pub name: String,
    pub arn: String,
    pub state: String,
    pub created_millis: i64,
    pub permissions_mode: String,
    pub deletion_protection: bool,
    pub kms_key: Option<String>,
}

/// One page of results: each value a complete Ion binary stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub values: Vec<Vec<u8>>,
    pub next_page_token: Option<String>,
}

/// ExecuteStatement's and FetchPage's result.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementResult {
    pub page: Page,
    pub read_ios: u64,
    pub write_ios: u64,
    pub processing_ms: u64,
}

/// CommitTransaction's result.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitResult {
    pub transaction_id: String,
    pub commit_digest: Vec<u8>,
    pub read_ios: u64,
    pub write_ios: u64,
    pub processing_ms: u64,
}

/// A CommitTransaction whose in-memory part is done (see [`Engine::begin_commit_transaction`]):
/// the transaction is closed and its block applied, but it must not be acknowledged before it
/// is durable. [`wait`](Self::wait) blocks until then; [`durable`](Self::durable) awaits it.
#[must_use = "a commit is acknowledged only once it is durable"]
#[derive(Debug)]
pub struct PendingCommit {
    committing: Committing,
    transaction_id: String,
    commit_digest: Vec<u8>,
    start: Instant,
}

impl PendingCommit {
    /// The address of the transaction's block.
    pub fn block_address(&self) -> &BlockAddress {
        &self.committing.info().block_address
    }

    /// Whether the outcome is known already (always so for a ledger in memory): awaiting
    /// [`durable`](Self::durable) then does not wait.
    pub fn is_settled(&self) -> bool {
        self.committing.is_settled()
    }

    /// Blocks until the commit is durable; then it may be acknowledged.
    pub fn wait(self) -> LedgerResult<CommitResult> {
        let PendingCommit {
            committing,
            transaction_id,
            commit_digest,
            start,
        } = self;
        let info = committing.wait()?;
        Ok(CommitResult {
            transaction_id,
            commit_digest,
            read_ios: 0,
            write_ios: info.write_ios,
            processing_ms: elapsed_ms(start),
        })
    }

    /// Waits, without blocking a thread, until the commit is durable.
    pub async fn durable(self) -> LedgerResult<CommitResult> {
        let PendingCommit {
            committing,
            transaction_id,
            commit_digest,
            start,
        } = self;
        let info = committing.durable().await?;
        Ok(CommitResult {
            transaction_id,
            commit_digest,
            read_ios: 0,
            write_ios: info.write_ios,
            processing_ms: elapsed_ms(start),
        })
    }
}

/// StartSession's result.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionStarted {
    pub session_token: String,
    /// The session id used in messages (QLDB returns it as the request id).
    pub session_id: String,
}

struct Session {
    id: String,
    ledger: Arc<Ledger>,
    expires_at: Instant,
    txn: Option<Transaction>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.ledger.open_sessions.fetch_sub(1, Ordering::Relaxed);
    }
}

enum Backend {
    Memory,
    Dir(PathBuf),
}

/// The ledger engine.
pub struct Engine {
    config: EngineConfig,
    backend: Backend,
    ledgers: RwLock<HashMap<String, Arc<Ledger>>>,
    /// Ledgers whose first DescribeLedger has not happened yet show `CREATING` there.
    creating: Mutex<std::collections::HashSet<String>>,
    sessions: Mutex<HashMap<String, Arc<Mutex<Session>>>>,
    session_starts: AtomicU64,
}

fn elapsed_ms(start: Instant) -> u64 {
    (start.elapsed().as_millis() as u64).max(1)
}

/// QLDB's ledger name rule: 1–32 of `[A-Za-z0-9-]`, no leading, trailing or doubled hyphen,
/// not all digits.
pub fn validate_ledger_name(name: &str) -> LedgerResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
        && !name.chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(LedgerError::invalid_parameter(
            format!(
                "Invalid ledger name '{name}': use 1 to 32 letters, digits and single inner \
                 hyphens, not only digits"
            ),
            Some("Name"),
        ))
    }
}

const META_FILE: &str = "ledger.ion";
const JOURNAL_FILE: &str = "journal.qlj";

fn settings_to_ion(s: &LedgerSettings) -> String {
    let mut b = Element::struct_builder()
        .with_field("name", Element::string(s.name.as_str()))
        .with_field("strandId", Element::string(&*s.strand_id))
        .with_field("createdMillis", Element::int(s.created_millis))
        .with_field(
            "deletionProtection",
            Element::boolean(s.deletion_protection),
        )
        .with_field(
            "permissionsMode",
            Element::string(s.permissions_mode.as_str()),
        );
    if let Some(k) = &s.kms_key {
        b = b.with_field("kmsKey", Element::string(k.as_str()));
    }
    Element::from(b.build()).to_string()
}

fn settings_from_ion(text: &str) -> LedgerResult<LedgerSettings> {
    let bad = |what: &str| LedgerError::Internal(format!("Corrupt ledger metadata: {what}"));
    let e = Element::read_one(text.as_bytes()).map_err(|e| bad(&e.to_string()))?;
    let s = e.as_struct().ok_or_else(|| bad("not a struct"))?;
    let text = |n: &str| {
        s.get(n)
            .and_then(Element::as_text)
            .map(str::to_string)
            .ok_or_else(|| bad(n))
    };
    Ok(LedgerSettings {
        name: text("name")?,
        strand_id: Arc::from(text("strandId")?),
        created_millis: s
            .get("createdMillis")
            .and_then(Element::as_i64)
            .ok_or_else(|| bad("createdMillis"))?,
        deletion_protection: s
            .get("deletionProtection")
            .and_then(Element::as_bool)
            .ok_or_else(|| bad("deletionProtection"))?,
        permissions_mode: text("permissionsMode")?,
        kms_key: text("kmsKey").ok(),
    })
}

/// Writes a file atomically and durably: temp file, fsync, rename, fsync of the directory.
fn write_durably(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn io_err(what: &str, e: std::io::Error) -> LedgerError {
    LedgerError::Internal(format!("{what}: {e}"))
}

impl Engine {
    /// An engine whose ledgers live in memory only.
    pub fn memory(config: EngineConfig) -> Engine {
        Engine::new(config, Backend::Memory)
    }

    /// An engine whose ledgers live in `dir` (one sub-directory per ledger); existing ledgers
    /// are recovered from their journals.
    pub fn open_dir(dir: impl Into<PathBuf>, config: EngineConfig) -> LedgerResult<Engine> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| io_err("Cannot create the data directory", e))?;
        let engine = Engine::new(config, Backend::Dir(dir.clone()));
        let entries =
            std::fs::read_dir(&dir).map_err(|e| io_err("Cannot read the data directory", e))?;
        let mut ledgers = engine.ledgers.write();
        for entry in entries {
            let entry = entry.map_err(|e| io_err("Cannot read the data directory", e))?;
            let meta = entry.path().join(META_FILE);
            if !meta.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&meta)
                .map_err(|e| io_err("Cannot read ledger metadata", e))?;
            let settings = settings_from_ion(&text)?;
            let (store, records) = FileJournal::open(&entry.path().join(JOURNAL_FILE))?;
            let name = settings.name.clone();
            let ledger = Ledger::recover(settings, Box::new(store), records)?;
            tracing::info!(ledger = %name, blocks = ledger.read_state().counter(), "ledger recovered");
            ledgers.insert(name, Arc::new(ledger));
        }
        drop(ledgers);
        Ok(engine)
    }

    fn new(config: EngineConfig, backend: Backend) -> Engine {
        Engine {
            config,
            backend,
            ledgers: RwLock::new(HashMap::new()),
            creating: Mutex::new(Default::default()),
            sessions: Mutex::new(HashMap::new()),
            session_starts: AtomicU64::new(0),
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The data directory, for a durable engine.
    pub fn data_dir(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Dir(d) => Some(d),
            Backend::Memory => None,
        }
    }

    /// The ledger named `name`.
    pub fn ledger(&self, name: &str) -> LedgerResult<Arc<Ledger>> {
        self.ledgers
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| LedgerError::ledger_not_found(name))
    }

    // ---- control plane ----

    pub fn create_ledger(&self, req: CreateLedgerRequest) -> LedgerResult<LedgerDescription> {
        validate_ledger_name(&req.name)?;
        if req.permissions_mode != "ALLOW_ALL" && req.permissions_mode != "STANDARD" {
            return Err(LedgerError::invalid_parameter(
                format!(
                    "PermissionsMode must be ALLOW_ALL or STANDARD, not '{}'",
                    req.permissions_mode
                ),
                Some("PermissionsMode"),
            ));
        }
        let mut ledgers = self.ledgers.write();
        if ledgers.contains_key(&req.name) {
            return Err(LedgerError::ResourceAlreadyExists {
                message: format!("Ledger '{}' already exists", req.name),
                name: req.name.clone(),
            });
        }
        let settings = LedgerSettings {
            name: req.name.clone(),
            strand_id: Arc::from(qldb_ion::new_id()),
            created_millis: now_millis(),
            deletion_protection: req.deletion_protection,
            permissions_mode: req.permissions_mode.clone(),
            kms_key: req.kms_key.clone(),
        };
        let ledger = match &self.backend {
            Backend::Memory => Ledger::create(settings, Box::new(MemoryJournal::new()))?,
            Backend::Dir(root) => {
                let dir = root.join(&req.name);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| io_err("Cannot create the ledger directory", e))?;
                let (store, records) = FileJournal::open(&dir.join(JOURNAL_FILE))?;
                if !records.is_empty() {
                    return Err(LedgerError::Internal(format!(
                        "A journal for ledger '{}' already exists without its metadata",
                        req.name
                    )));
                }
                let ledger = Ledger::create(settings.clone(), Box::new(store))?;
                write_durably(&dir.join(META_FILE), &settings_to_ion(&settings))
                    .map_err(|e| io_err("Cannot write ledger metadata", e))?;
                ledger
            }
        };
        let ledger = Arc::new(ledger);
        ledgers.insert(req.name.clone(), ledger.clone());
        self.creating.lock().insert(req.name.clone());
        let mut d = self.describe(&ledger);
        d.state = "CREATING".into();
        Ok(d)
    }

    fn describe(&self, ledger: &Ledger) -> LedgerDescription {
        let s = ledger.settings();
        LedgerDescription {
            arn: format!("arn:aws:qldb:us-east-1:000000000000:ledger/{}", s.name),
            name: s.name,
            state: "ACTIVE".into(),
            created_millis: s.created_millis,
            permissions_mode: s.permissions_mode,
            deletion_protection: s.deletion_protection,
            kms_key: s.kms_key,
        }
    }

    pub fn describe_ledger(&self, name: &str) -> LedgerResult<LedgerDescription> {
        let ledger = self.ledger(name)?;
        self.creating.lock().remove(name);
        Ok(self.describe(&ledger))
    }

    /// All ledgers, sorted by name.
    pub fn list_ledgers(&self) -> Vec<LedgerDescription> {
        let ledgers: Vec<Arc<Ledger>> = self.ledgers.read().values().cloned().collect();
        let mut out: Vec<LedgerDescription> = ledgers.iter().map(|l| self.describe(l)).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    pub fn update_ledger(
        &self,
        name: &str,
        deletion_protection: Option<bool>,
        kms_key: Option<String>,
    ) -> LedgerResult<LedgerDescription> {
        let ledger = self.ledger(name)?;
        if let Some(on) = deletion_protection {
            ledger.set_deletion_protection(on);
        }
        if kms_key.is_some() {
            ledger.set_kms_key(kms_key);
        }
        if let Backend::Dir(root) = &self.backend {
            write_durably(
                &root.join(name).join(META_FILE),
                &settings_to_ion(&ledger.settings()),
            )
            .map_err(|e| io_err("Cannot write ledger metadata", e))?;
        }
        Ok(self.describe(&ledger))
    }

    pub fn delete_ledger(&self, name: &str) -> LedgerResult<()> {
        let mut ledgers = self.ledgers.write();
        let ledger = ledgers
            .get(name)
            .cloned()
            .ok_or_else(|| LedgerError::ledger_not_found(name))?;
        if ledger.settings().deletion_protection {
            return Err(LedgerError::ResourcePreconditionNotMet {
                message: format!(
                    "Deletion protection is enabled for ledger '{name}'. Disable it with \
                     UpdateLedger before deleting the ledger."
                ),
                name: name.to_string(),
            });
        }
        if let Backend::Dir(root) = &self.backend {
            let dir = root.join(name);
            let tomb = root.join(format!(".deleted-{name}-{}", qldb_ion::new_id()));
            std::fs::rename(&dir, &tomb).map_err(|e| io_err("Cannot delete the ledger", e))?;
            if let Err(e) = std::fs::remove_dir_all(&tomb) {
                tracing::warn!(path = %tomb.display(), error = %e, "could not remove a deleted ledger's files");
            }
        }
        ledger.mark_deleted();
        ledgers.remove(name);
        self.creating.lock().remove(name);
        Ok(())
    }

    pub fn get_digest(&self, name: &str) -> LedgerResult<(Hash, BlockAddress)> {
        Ok(self.ledger(name)?.digest())
    }

    pub fn get_block(
        &self,
        name: &str,
        address: &BlockAddress,
        tip: Option<&BlockAddress>,
    ) -> LedgerResult<(String, Option<String>)> {
        self.ledger(name)?.get_block(address, tip)
    }

    pub fn get_revision(
        &self,
        name: &str,
        address: &BlockAddress,
        document_id: &str,
        tip: Option<&BlockAddress>,
    ) -> LedgerResult<(String, Option<String>)> {
        self.ledger(name)?.get_revision(address, document_id, tip)
    }

    // ---- session plane ----

    pub fn start_session(&self, ledger_name: &str) -> LedgerResult<SessionStarted> {
        let ledger = self
            .ledgers
            .read()
            .get(ledger_name)
            .cloned()
            .ok_or_else(|| {
                LedgerError::bad_request(format!("Ledger '{ledger_name}' does not exist"))
            })?;
        if self.session_starts.fetch_add(1, Ordering::Relaxed) % 256 == 255 {
            self.sweep_expired_sessions();
        }
        let (lo, hi) = self.config.session_lifetime;
        let lifetime = if hi > lo {
            rand::thread_rng().gen_range(lo..=hi)
        } else {
            lo
        };
        let id = qldb_ion::new_id();
        let token = format!("{}{}", qldb_ion::new_id(), qldb_ion::new_id());
        ledger.open_sessions.fetch_add(1, Ordering::Relaxed);
        let session = Session {
            id: id.clone(),
            ledger,
            expires_at: Instant::now() + lifetime,
            txn: None,
        };
        self.sessions
            .lock()
            .insert(token.clone(), Arc::new(Mutex::new(session)));
        Ok(SessionStarted {
            session_token: token,
            session_id: id,
        })
    }

    fn sweep_expired_sessions(&self) {
        let now = Instant::now();
        let mut sessions = self.sessions.lock();
        sessions.retain(|_, s| match s.try_lock() {
            Some(s) => s.expires_at > now && !s.ledger.is_deleted(),
            None => true,
        });
    }

    fn session(&self, token: &str) -> LedgerResult<Arc<Mutex<Session>>> {
        let s = self
            .sessions
            .lock()
            .get(token)
            .cloned()
            .ok_or_else(|| LedgerError::InvalidSession("No such session".into()))?;
        let (expired, deleted, id) = {
            let g = s.lock();
            (
                g.expires_at <= Instant::now(),
                g.ledger.is_deleted(),
                g.id.clone(),
            )
        };
        if expired || deleted {
            self.sessions.lock().remove(token);
            return Err(if deleted {
                LedgerError::InvalidSession("No such session".into())
            } else {
                LedgerError::InvalidSession(format!("Session {id} has expired"))
            });
        }
        Ok(s)
    }

    /// Runs `f` on the session's open transaction after the checks every transaction command
    /// makes: one is open, the id matches, it has not expired (which discards the session).
    fn with_txn<T>(
        &self,
        token: &str,
        transaction_id: &str,
        f: impl FnOnce(&Arc<Ledger>, &mut Option<Transaction>) -> LedgerResult<T>,
    ) -> LedgerResult<T> {
        let session = self.session(token)?;
        let mut s = session.lock();
        let Some(txn) = &s.txn else {
            return Err(LedgerError::bad_request("No open transaction"));
        };
        if &*txn.id != transaction_id {
            return Err(LedgerError::bad_request(format!(
                "Transaction {transaction_id} is not the open transaction of this session"
            )));
        }
        if txn.started.elapsed() >= self.config.transaction_timeout {
            let id = txn.id.to_string();
            s.txn = None;
            drop(s);
            self.sessions.lock().remove(token);
            return Err(LedgerError::InvalidSession(format!(
                "Transaction {id} has expired"
            )));
        }
        s.ledger.check_usable()?;
        let ledger = s.ledger.clone();
        f(&ledger, &mut s.txn)
    }

    pub fn start_transaction(&self, token: &str) -> LedgerResult<String> {
        let session = self.session(token)?;
        let mut s = session.lock();
        if let Some(t) = &s.txn {
            if t.started.elapsed() < self.config.transaction_timeout {
                return Err(LedgerError::bad_request("Transaction already open"));
            }
        }
        if s.ledger.open_sessions.load(Ordering::Relaxed) > self.config.max_sessions_per_ledger {
            return Err(LedgerError::LimitExceeded(format!(
                "Exceeded the limit of {} concurrent active sessions on this ledger",
                self.config.max_sessions_per_ledger
            )));
        }
        s.ledger.check_usable()?;
        let id = qldb_ion::new_id();
        let start_counter = s.ledger.read_state().counter();
        s.txn = Some(Transaction::new(Arc::from(id.as_str()), start_counter));
        Ok(id)
    }

    /// ExecuteStatement. `parameters` are the decoded Ion values, each hashed as received.
    pub fn execute_statement(
        &self,
        token: &str,
        transaction_id: &str,
        statement: &str,
        parameters: &[Element],
    ) -> LedgerResult<StatementResult> {
        let start = Instant::now();
        let param_hashes: Vec<Hash> = parameters.iter().map(ion_hash).collect();
        self.execute_hashed(
            token,
            transaction_id,
            statement,
            parameters,
            &param_hashes,
            start,
        )
    }

    /// ExecuteStatement with the parameter hashes already computed by the caller (the
    /// embedded driver hashes parameters for its own digest and need not hash them twice).
    pub fn execute_hashed(
        &self,
        token: &str,
        transaction_id: &str,
        statement: &str,
        parameters: &[Element],
        param_hashes: &[Hash],
        start: Instant,
    ) -> LedgerResult<StatementResult> {
        let now_ms = now_millis();
        self.with_txn(token, transaction_id, |ledger, slot| {
            let txn = slot.as_mut().expect("checked by with_txn");
            // The digest covers every statement received, failed ones included: the client
            // hashed it before sending.
            let s_hash = statement_hash(statement, param_hashes);
            txn.digest.add_statement_hash(&s_hash);
            let stmt_index = txn.statements.len();
            txn.statements.push(StatementRecord {
                text: statement.to_string(),
                start_millis: now_ms,
                digest: s_hash,
            });
            let chars = statement.chars().count();
            if chars == 0 || chars > 100_000 {
                return Err(LedgerError::bad_request(format!(
                    "The statement must be 1 to 100000 characters long, it has {chars}"
                )));
            }
            let parsed =
                partiql::parse(statement).map_err(|e| LedgerError::bad_request(e.to_string()))?;
            let output = {
                let state = ledger.read_state();
                exec::execute(
                    &state,
                    &mut txn.writes,
                    &mut txn.reads,
                    exec::StatementContext {
                        transaction_id: &txn.id,
                        start_counter: txn.start_counter,
                        now: crate::clock::timestamp_from_millis(now_ms),
                        stmt_index,
                    },
                    &parsed,
                    parameters,
                    param_hashes,
                )?
            };
            let mut rest: VecDeque<Element> = output.values.into();
            let page = self.next_page(txn, &mut rest);
            Ok(StatementResult {
                page,
                read_ios: output.read_ios,
                write_ios: output.write_ios,
                processing_ms: elapsed_ms(start),
            })
        })
    }

    /// Cuts the next page off `rest`; the remainder is kept under a fresh page token.
    fn next_page(&self, txn: &mut Transaction, rest: &mut VecDeque<Element>) -> Page {
        let mut values = Vec::new();
        let mut bytes = 0usize;
        while let Some(v) = rest.front() {
            if values.len() >= self.config.page_size {
                break;
            }
            let encoded = v
                .encode_as(ion_rs::v1_0::Binary)
                .expect("encoding an in-memory Ion value cannot fail");
            if !values.is_empty() && bytes + encoded.len() > self.config.page_bytes {
                break;
            }
            bytes += encoded.len();
            values.push(encoded);
            rest.pop_front();
        }
        let next_page_token = if rest.is_empty() {
            None
        } else {
            let token = qldb_ion::new_id();
            txn.pending_pages
                .insert(token.clone(), std::mem::take(rest));
            Some(token)
        };
        Page {
            values,
            next_page_token,
        }
    }

    pub fn fetch_page(
        &self,
        token: &str,
        transaction_id: &str,
        page_token: &str,
    ) -> LedgerResult<StatementResult> {
        let start = Instant::now();
        self.with_txn(token, transaction_id, |_, slot| {
            let txn = slot.as_mut().expect("checked by with_txn");
            let mut rest = txn.pending_pages.remove(page_token).ok_or_else(|| {
                LedgerError::bad_request(format!("Invalid page token: {page_token}"))
            })?;
            let page = self.next_page(txn, &mut rest);
            Ok(StatementResult {
                page,
                read_ios: 0,
                write_ios: 0,
                processing_ms: elapsed_ms(start),
            })
        })
    }

    /// CommitTransaction: commits and returns once the commit is durable.
    pub fn commit_transaction(
        &self,
        token: &str,
        transaction_id: &str,
        commit_digest: &[u8],
    ) -> LedgerResult<CommitResult> {
        let start = Instant::now();
        let (transaction_id, (ledger, info, index)) =
            self.with_commit(token, transaction_id, commit_digest, |ledger, txn| {
                let (info, index) = ledger.commit_in_memory(txn)?;
                Ok((ledger.clone(), info, index))
            })?;
        // With the session released, as after begin_commit_transaction. A blocking wait lets
        // the file journal run the group-commit round on this thread when none is running.
        ledger.sync_commit(index)?;
        Ok(CommitResult {
            transaction_id,
            commit_digest: commit_digest.to_vec(),
            read_ios: 0,
            write_ios: info.write_ios,
            processing_ms: elapsed_ms(start),
        })
    }

    /// CommitTransaction's in-memory part, which never waits for the disk: the checks, OCC
    /// validation, the block appended to the journal's queue and applied to the state. The
    /// transaction is closed (as by OCC failure) and the session is free again when it
    /// returns. The commit may be acknowledged only once the returned [`PendingCommit`] says it
    /// is durable; an async server awaits [`PendingCommit::durable`] without tying up a thread.
    pub fn begin_commit_transaction(
        &self,
        token: &str,
        transaction_id: &str,
        commit_digest: &[u8],
    ) -> LedgerResult<PendingCommit> {
        let start = Instant::now();
        let (transaction_id, committing) =
            self.with_commit(token, transaction_id, commit_digest, |ledger, txn| {
                ledger.begin_commit(txn)
            })?;
        Ok(PendingCommit {
            committing,
            transaction_id,
            commit_digest: commit_digest.to_vec(),
            start,
        })
    }

    /// CommitTransaction's checks: the session's open transaction, its id, its expiry and the
    /// client's commit digest. Then closes the transaction (success and OCC failure both do)
    /// and hands it to `commit`. Returns the transaction id and `commit`'s result.
    fn with_commit<T>(
        &self,
        token: &str,
        transaction_id: &str,
        commit_digest: &[u8],
        commit: impl FnOnce(&Arc<Ledger>, Transaction) -> LedgerResult<T>,
    ) -> LedgerResult<(String, T)> {
        self.with_txn(token, transaction_id, |ledger, slot| {
            let txn = slot.as_ref().expect("checked by with_txn");
            if commit_digest != txn.digest.value() {
                return Err(LedgerError::bad_request("Digests don't match"));
            }
            let txn = slot.take().expect("checked by with_txn");
            let transaction_id = txn.id.to_string();
            Ok((transaction_id, commit(ledger, txn)?))
        })
    }

    pub fn abort_transaction(&self, token: &str) -> LedgerResult<u64> {
        let start = Instant::now();
        let session = self.session(token)?;
        session.lock().txn = None;
        Ok(elapsed_ms(start))
    }

    pub fn end_session(&self, token: &str) -> LedgerResult<u64> {
        let start = Instant::now();
        let session = self.session(token)?;
        session.lock().txn = None;
        self.sessions.lock().remove(token);
        Ok(elapsed_ms(start))
    }

    /// Number of open sessions (for tests and metrics).
    pub fn session_count(&self) -> usize {
        self.sessions.lock().len()
    }
}
