//! Journal storage: where the ledger's committed transactions live durably.
//!
//! The ledger keeps its committed state in memory and rebuilds it on open by
//! replaying the journal, so the journal is the only thing that has to survive a
//! crash. Each committed transaction is one *record* (an Ion-encoded block; this
//! layer treats it as opaque bytes) identified by its 0-based index.
//!
//! Appending and making durable are deliberately separate steps:
//! [`JournalStore::append`] is called in commit order under the ledger's lock and
//! only buffers, while [`JournalStore::sync`] is called afterwards *without* that
//! lock by every committer that must wait for durability. That split is what lets
//! [`FileJournal`] cover many commits with a single `fdatasync` (group commit).
//!
//! Two implementations exist: [`MemoryJournal`] for tests and ephemeral ledgers,
//! and [`FileJournal`], a checksummed append-only file (see [`file`] for the
//! on-disk format and the recovery rules).

pub mod file;
pub mod memory;

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
    /// Not durable until `sync(index)` returns. Must be cheap (buffer in memory; no syscall needed).
    fn append(&self, record: &[u8]) -> Result<u64, StorageError>;

    /// Blocks until every record up to and including `index` is durable (written + fdatasync). Called WITHOUT the ledger lock,
    /// by many threads at once: one fsync must cover all records appended before it (group commit / leader-follower).
    fn sync(&self, index: u64) -> Result<(), StorageError>;

    /// Reads record `index` (also before it is synced).
    fn read(&self, index: u64) -> Result<Vec<u8>, StorageError>;

    /// Number of records appended so far.
    fn len(&self) -> u64;

    /// Whether no record has been appended yet.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
