//! Journal storage: where the ledger's committed transactions live durably.
//!
//! The ledger keeps its committed state in memory and rebuilds it on open by
//! replaying the journal, so the journal is the only thing that has to survive a
//! crash. Each committed transaction is one *record* (an Ion-encoded block; this
//! layer treats it as opaque bytes) identified by its 0-based index.
//!
//! Appending and making durable are deliberately separate steps:
//! [`JournalStore::append`] is called in commit order under the ledger's lock and
//! only buffers, while [`JournalStore::request_sync`] is called afterwards *without*
//! that lock by every committer that must wait for durability. It does not block:
//! it returns a [`Durability`], a notification the committer awaits (a future) or
//! waits for ([`Durability::wait`], what [`JournalStore::sync`] does). That split
//! is what lets [`FileJournal`] cover many commits with a single `fdatasync` (group
//! commit, run by its flusher thread), and lets an async server wait for the disk
//! without tying up a thread per commit.
//!
//! Two implementations exist: [`MemoryJournal`] for tests and ephemeral ledgers,
//! and [`FileJournal`], a checksummed append-only file (see [`file`] for the
//! on-disk format and the recovery rules).

pub mod file;
pub mod memory;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use tokio::sync::oneshot;

pub use file::FileJournal;
pub use memory::MemoryJournal;

/// Largest record a journal accepts. Appends above it are rejected up front, and a
/// frame on disk that claims to be larger is treated as damage: a corrupted
/// length field must not make recovery allocate gigabytes.
pub const MAX_RECORD_LEN: usize = 64 * 1024 * 1024;

/// Errors of the journal storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An operating-system I/O error.
    #[error("journal I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The stored journal is damaged in a way recovery must not paper over, or is
    /// not a journal at all.
    #[error("journal is corrupt: {0}")]
    Corrupt(String),
    /// An earlier write or fsync failed, so the store no longer knows what is on
    /// disk; it refuses further writes rather than acknowledge data that may be lost.
    #[error("journal is unusable after an earlier I/O failure: {0}")]
    Poisoned(String),
    /// The record is larger than [`MAX_RECORD_LEN`].
    #[error("journal record of {len} bytes exceeds the limit of {max} bytes")]
    RecordTooLarge { len: usize, max: usize },
    /// `read`/`sync` of a record that has not been appended.
    #[error("journal record {index} does not exist (the journal has {len} records)")]
    OutOfRange { index: u64, len: u64 },
}

/// Durable, append-only storage of the ledger's journal records.
pub trait JournalStore: Send + Sync + std::fmt::Debug {
    /// Appends one record; the ledger calls this in commit order under its own lock. Returns the record's 0-based index.
    /// Not durable until the [`Durability`] of `request_sync(index)` completes. Must be cheap (buffer in memory; no syscall needed).
    fn append(&self, record: &[u8]) -> Result<u64, StorageError>;

    /// Asks for every record up to and including `index` to be made durable (written + fdatasync) and returns at once with
    /// a notification that completes when they are, or with the error that prevented it. Called WITHOUT the ledger lock,
    /// by many committers at once: one fsync must cover all records appended before it (group commit). Notifications
    /// complete in index order: when record `i`'s completes, every record before `i` is durable too.
    fn request_sync(&self, index: u64) -> Durability;

    /// Blocks until every record up to and including `index` is durable: [`request_sync`](Self::request_sync), then
    /// [`Durability::wait`].
    fn sync(&self, index: u64) -> Result<(), StorageError> {
        self.request_sync(index).wait()
    }

    /// Reads record `index` (also before it is synced).
    fn read(&self, index: u64) -> Result<Vec<u8>, StorageError>;

    /// Number of records appended so far.
    fn len(&self) -> u64;

    /// Whether no record has been appended yet.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Why the store refuses writes, once a write or fdatasync has failed
    /// ([`StorageError::Poisoned`]'s reason); `None` while it is healthy.
    fn failure(&self) -> Option<String> {
        None
    }
}

/// A store shared with its creator (tests keep a handle to inject faults).
impl<T: JournalStore + ?Sized> JournalStore for Arc<T> {
    fn append(&self, record: &[u8]) -> Result<u64, StorageError> {
        (**self).append(record)
    }

    fn request_sync(&self, index: u64) -> Durability {
        (**self).request_sync(index)
    }

    fn sync(&self, index: u64) -> Result<(), StorageError> {
        (**self).sync(index)
    }

    fn read(&self, index: u64) -> Result<Vec<u8>, StorageError> {
        (**self).read(index)
    }

    fn len(&self) -> u64 {
        (**self).len()
    }

    fn failure(&self) -> Option<String> {
        (**self).failure()
    }
}

/// The outcome [`JournalStore::request_sync`] promises: completes with `Ok(())`
/// once the record is durable, or with the error that prevented it.
///
/// Await it (it is a [`Future`]; no particular runtime is needed, and waiting
/// ties up no thread), or block on it with [`wait`](Self::wait). A store that has
/// nothing to wait for returns one that is complete already
/// ([`Durability::ready`]), so awaiting it costs nothing; otherwise the store
/// keeps the [`DurabilityNotifier`] of [`Durability::pending`] and completes it.
#[must_use = "a commit is durable only once its Durability has completed"]
#[derive(Debug)]
pub struct Durability(DurabilityState);

#[derive(Debug)]
enum DurabilityState {
    /// The outcome, until it is taken by `poll`.
    Ready(Option<Result<(), StorageError>>),
    Pending(oneshot::Receiver<Result<(), StorageError>>),
}

/// Completes a pending [`Durability`]. Dropping it without completing makes the
/// [`Durability`] fail with [`StorageError::Poisoned`] (the store went away).
#[derive(Debug)]
pub struct DurabilityNotifier(oneshot::Sender<Result<(), StorageError>>);

impl DurabilityNotifier {
    /// Completes the [`Durability`] with `outcome`. Never blocks; a waiter that
    /// has gone away is ignored.
    pub fn complete(self, outcome: Result<(), StorageError>) {
        let _ = self.0.send(outcome);
    }
}

impl Durability {
    /// A notification that has already completed with `outcome`.
    pub fn ready(outcome: Result<(), StorageError>) -> Durability {
        Durability(DurabilityState::Ready(Some(outcome)))
    }

    /// A notification and the notifier that completes it.
    pub fn pending() -> (DurabilityNotifier, Durability) {
        let (tx, rx) = oneshot::channel();
        (
            DurabilityNotifier(tx),
            Durability(DurabilityState::Pending(rx)),
        )
    }

    /// Whether the outcome is known already (awaiting it would not wait).
    pub fn is_complete(&self) -> bool {
        match &self.0 {
            DurabilityState::Ready(_) => true,
            DurabilityState::Pending(rx) => !rx.is_empty() || rx.is_terminated(),
        }
    }

    /// Blocks the calling thread until the outcome is known. Usable on any
    /// thread, including one of an async runtime (which it then blocks, like any
    /// blocking call).
    pub fn wait(self) -> Result<(), StorageError> {
        if let DurabilityState::Ready(Some(outcome)) = self.0 {
            return outcome;
        }
        block_on(self)
    }
}

impl Future for Durability {
    type Output = Result<(), StorageError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            DurabilityState::Ready(outcome) => Poll::Ready(
                outcome
                    .take()
                    .expect("Durability polled after it completed"),
            ),
            DurabilityState::Pending(rx) => Pin::new(rx).poll(cx).map(|received| {
                received.unwrap_or_else(|_| {
                    Err(StorageError::Poisoned(
                        "the journal was closed before the record was durable".to_string(),
                    ))
                })
            }),
        }
    }
}

/// Runs `future` to completion on the calling thread, parking it while the
/// future is pending.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    // Outside tokio's cooperative budget: on a runtime thread whose task has used
    // up its budget, a budgeted poll would return Pending forever.
    let mut future = std::pin::pin!(tokio::task::unconstrained(future));
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}
