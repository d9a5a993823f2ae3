//! The file-backed journal: one append-only, checksummed file per ledger, made
//! durable with `fdatasync` and group commit.
//!
//! # On-disk format (version 1)
//!
//! All integers are little-endian.
//!
//! ```text
//! file   := header frame* zero*
//! header := magic "QLDBJRNL" (8 bytes) | version: u32 = 1 | reserved: u32 = 0        16 bytes
//! frame  := magic "QREC" (4 bytes) | len: u32 | index: u64 | batch: u64 | crc: u32    28 bytes
//!           payload (len bytes)
//! zero   := 0x00                                    preallocated space, see "Preallocation"
//! ```
//!
//! The *logical end* of the journal is the end of its last frame; the file may
//! extend beyond it with zero bytes. A frame starts with a non-zero magic, so a
//! zero tail never contained a frame: files written before preallocation existed
//! (no zero tail) and files with one are both version 1.
//!
//! - `len`: payload length, at most [`MAX_RECORD_LEN`] (64 MiB). A larger value is
//!   treated as damage, so a flipped length bit cannot make recovery allocate
//!   gigabytes.
//! - `index`: the record's 0-based index. It must equal the frame's position in
//!   the file, which catches duplicated or misplaced frames.
//! - `batch`: index of the first record of the group-commit write that carried
//!   this frame. Invariant: when this frame was written, every record *before*
//!   `batch` was already durable (the previous write had been `fdatasync`ed).
//!   Recovery uses it to tell a torn tail from real corruption (below).
//! - `crc`: CRC-32 (IEEE, as computed by `crc32fast`) of the payload followed by
//!   the 20 header bytes `len | index | batch`. Covering the header means a
//!   damaged length or index is caught like a damaged payload. (Payload first so
//!   the expensive part can be hashed before the append lock assigns the index.)
//! - The per-frame magic lets recovery find frame boundaries again after a
//!   damaged frame whose length can no longer be trusted.
//!
//! # Recovery
//!
//! [`FileJournal::open`] reads the file front to back. The first frame that is
//! incomplete, lacks the magic, exceeds the length limit, fails its checksum or
//! carries an unexpected index ends the valid prefix. What follows is either
//!
//! - only **zero bytes**: preallocated space (possibly with an interrupted write
//!   into it that left nothing behind). It is kept as it is, without a warning,
//!   and appends continue at the end of the valid prefix, not at the end of the
//!   file; or
//! - a **torn tail**: the last write was interrupted (crash, power loss) before
//!   its `fdatasync` completed. Those records were never acknowledged, so they are
//!   truncated away with a warning, together with any preallocated space
//!   behind them (the next write preallocates again); or
//! - **real corruption** of acknowledged data. The rest of the file is searched
//!   for any intact frame whose `batch` lies beyond the damaged record's index:
//!   such a frame was written only after the damaged record had been made
//!   durable, so the damage cannot be an interrupted write. `open` then fails with
//!   [`StorageError::Corrupt`] and drops nothing.
//!
//! Why `batch` rather than "any intact frame after the damage means corruption":
//! an interrupted write may reach the disk out of order (page write-back does not
//! follow file order), leaving intact frames of the same unacknowledged write
//! behind a torn one. Those frames are unacknowledged too and may be dropped.
//!
//! After recovery the file is `fdatasync`ed once, because after a *process* crash
//! the recovered tail may exist only in the page cache: it must be durable before
//! a new write's `batch` claims it is.
//!
//! # Group commit
//!
//! [`append`](JournalStore::append) encodes the frame and pushes it onto an
//! in-memory pending list under a short mutex; no syscall.
//! [`request_sync`](JournalStore::request_sync) never blocks either: it returns a
//! completed [`Durability`] when the record is already durable (or the store is
//! poisoned), and otherwise registers a waiter under the same mutex, records
//! that a round is wanted, and wakes the journal's **flusher thread** if it is
//! idle.
//!
//! The flusher (one thread per open journal) runs the group-commit rounds: it
//! takes the *whole* pending list (which stays readable as the in-flight batch),
//! writes it with one positional write at the logical end of the journal,
//! `fdatasync`s, publishes the new durable count and completes the waiters the
//! round covered, in index order. Records appended while a round runs go into
//! the next round, which starts as soon as this one ends if any of them is
//! waited for. So one `fdatasync` covers every record appended before its round
//! started, no lock that appends or reads need is held across the write or the
//! `fdatasync`, and a committer waiting for the disk costs no thread of its own:
//! an async caller just awaits its [`Durability`]. Records nobody asked to sync
//! stay pending (a round only runs when a waiter needs it), and dropping the
//! journal finishes the rounds that were asked for before the flusher stops.
//!
//! A blocking [`sync`](JournalStore::sync) that finds no round running runs
//! one itself on its own thread rather than handing it to the flusher and
//! being woken afterwards (two thread hand-offs, which cost a lone embedded
//! committer about 10 % per commit); otherwise it waits like an async caller.
//! One round runs at a time, whoever runs it.
//!
//! # Preallocation
//!
//! On ext4 (and most file systems) an `fdatasync` after a write that grows the
//! file must also commit the new size and block allocation to the file-system
//! journal; after an overwrite of allocated space it only flushes data, which is
//! markedly cheaper. So a round keeps the file ahead of the logical end: when
//! a round's write would pass the end of the file, it first extends the file to
//! a chunk boundary (chunks of 4 MiB, ending at least half a chunk beyond the
//! write) by writing real zero bytes, and `fdatasync`s them; then it writes the
//! batch over the zeros and `fdatasync`s as usual. (`set_len` would leave a
//! sparse hole, whose blocks would still be allocated at write time.) The
//! extension costs one large write and one `fdatasync` per chunk, amortised over
//! the thousands of commits that fit into it. Only a round extends, with no
//! lock held that appends or reads need.
//!
//! Crash safety: the zeros are durable before any frame is written over them, and
//! a crash during the extension leaves only zeros (or a shorter file) behind, both
//! of which recovery reads as preallocated space.
//!
//! # Failures
//!
//! A failed write or `fdatasync`, of a batch or of an extension, poisons the
//! store: after a failed `fsync` the kernel may have dropped the dirty pages, so
//! nothing written since the last good `fdatasync` can be trusted to be on disk.
//! Every waiter that is not durable fails at once: the blocking `sync` caller
//! that ran the failed round, or else the waiter with the lowest index (whose
//! record the round carried), gets the [`StorageError::Io`] error itself, the
//! others [`StorageError::Poisoned`]. All later appends,
//! and syncs of records that were not yet durable, fail with
//! [`StorageError::Poisoned`]; reads keep working. Reopening the file recovers
//! whatever did reach the disk. (A panic in the flusher poisons the store the
//! same way.)
//!
//! One process, one `FileJournal` per file: `open` takes an exclusive advisory
//! lock (`flock`) on the file and fails if another journal holds it.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::{Condvar, Mutex};

use super::{Durability, DurabilityNotifier, JournalStore, StorageError, MAX_RECORD_LEN};

#[cfg(test)]
mod tests;

const FILE_MAGIC: [u8; 8] = *b"QLDBJRNL";
const FORMAT_VERSION: u32 = 1;
const FILE_HEADER_LEN: usize = 16;

const FRAME_MAGIC: [u8; 4] = *b"QREC";
const FRAME_HEADER_LEN: usize = 28;
/// Bytes `len | index | batch` of a frame header: the part covered by the CRC.
const FRAME_CRC_FIELDS: Range<usize> = 4..24;

/// Preallocation granularity: the file is extended to a multiple of this many
/// bytes, at least half of it beyond the write that needs the space (see
/// "Preallocation" in the module docs). Smaller in unit tests, which create
/// many small journals.
#[cfg(not(test))]
const PREALLOC_CHUNK: u64 = 4 * 1024 * 1024;
#[cfg(test)]
const PREALLOC_CHUNK: u64 = 64 * 1024;

/// Largest buffer of zeros written at once when extending the file.
const ZERO_WRITE_MAX: u64 = 1024 * 1024;

/// The leader keeps its concatenation buffer between rounds to avoid
/// reallocating, but not beyond this size (one huge record should not pin
/// its memory forever).
const WRITE_BUF_KEEP: usize = 4 * 1024 * 1024;

fn file_header() -> [u8; FILE_HEADER_LEN] {
    let mut h = [0u8; FILE_HEADER_LEN];
    h[..8].copy_from_slice(&FILE_MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h
}

/// Starts a frame for `record`: magic, length and payload, with index, batch and
/// CRC left for [`seal_frame`]. Done outside the append lock (it copies the payload).
fn start_frame(record: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(FRAME_HEADER_LEN + record.len());
    frame.extend_from_slice(&FRAME_MAGIC);
    // The caller has checked `record.len() <= MAX_RECORD_LEN`, which fits a u32.
    frame.extend_from_slice(&(record.len() as u32).to_le_bytes());
    frame.resize(FRAME_HEADER_LEN, 0);
    frame.extend_from_slice(record);
    frame
}

/// Fills in index, batch and the CRC; `payload_crc` has already hashed the payload.
fn seal_frame(frame: &mut [u8], mut payload_crc: crc32fast::Hasher, index: u64, batch: u64) {
    frame[8..16].copy_from_slice(&index.to_le_bytes());
    frame[16..24].copy_from_slice(&batch.to_le_bytes());
    payload_crc.update(&frame[FRAME_CRC_FIELDS]);
    frame[24..28].copy_from_slice(&payload_crc.finalize().to_le_bytes());
}

#[cfg(test)]
fn encode_frame(record: &[u8], index: u64, batch: u64) -> Vec<u8> {
    let mut frame = start_frame(record);
    let mut crc = crc32fast::Hasher::new();
    crc.update(record);
    seal_frame(&mut frame, crc, index, batch);
    frame
}

fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().expect("4 bytes"))
}

fn le_u64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
}

/// An intact frame found in a byte buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Frame {
    index: u64,
    batch: u64,
    /// Payload position in the buffer that was decoded.
    payload: Range<usize>,
}

impl Frame {
    fn end(&self) -> usize {
        self.payload.end
    }
}

/// Why the bytes at some offset are not an intact frame.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FrameDefect {
    Incomplete {
        have: usize,
        need: usize,
    },
    BadMagic,
    TooLarge(u64),
    Checksum,
    /// The CRC matches but `batch > index`, which no writer produces.
    Inconsistent {
        index: u64,
        batch: u64,
    },
}

impl std::fmt::Display for FrameDefect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameDefect::Incomplete { have, need } => {
                write!(f, "incomplete frame: {have} of {need} bytes present")
            }
            FrameDefect::BadMagic => f.write_str("no frame magic"),
            FrameDefect::TooLarge(len) => {
                write!(
                    f,
                    "frame length {len} exceeds the {MAX_RECORD_LEN}-byte limit"
                )
            }
            FrameDefect::Checksum => f.write_str("checksum mismatch"),
            FrameDefect::Inconsistent { index, batch } => {
                write!(
                    f,
                    "frame header is inconsistent (index {index}, batch {batch})"
                )
            }
        }
    }
}

/// Decodes the frame starting at `data[pos..]`, verifying everything but its index.
fn decode_frame(data: &[u8], pos: usize) -> Result<Frame, FrameDefect> {
    let rest = &data[pos.min(data.len())..];
    if rest.len() < FRAME_HEADER_LEN {
        // Check the magic we do have, so garbage is not reported as a torn frame.
        let n = rest.len().min(FRAME_MAGIC.len());
        if rest[..n] != FRAME_MAGIC[..n] {
            return Err(FrameDefect::BadMagic);
        }
        return Err(FrameDefect::Incomplete {
            have: rest.len(),
            need: FRAME_HEADER_LEN,
        });
    }
    if rest[..4] != FRAME_MAGIC {
        return Err(FrameDefect::BadMagic);
    }
    let len = u64::from(le_u32(&rest[4..]));
    if len > MAX_RECORD_LEN as u64 {
        return Err(FrameDefect::TooLarge(len));
    }
    let len = len as usize;
    let need = FRAME_HEADER_LEN + len;
    if rest.len() < need {
        return Err(FrameDefect::Incomplete {
            have: rest.len(),
            need,
        });
    }
    let payload = &rest[FRAME_HEADER_LEN..need];
    let mut crc = crc32fast::Hasher::new();
    crc.update(payload);
    crc.update(&rest[FRAME_CRC_FIELDS]);
    if crc.finalize() != le_u32(&rest[24..]) {
        return Err(FrameDefect::Checksum);
    }
    let index = le_u64(&rest[8..]);
    let batch = le_u64(&rest[16..]);
    if batch > index {
        return Err(FrameDefect::Inconsistent { index, batch });
    }
    let start = pos + FRAME_HEADER_LEN;
    Ok(Frame {
        index,
        batch,
        payload: start..start + len,
    })
}

/// State of the file header.
#[derive(Debug, PartialEq, Eq)]
enum HeaderState {
    Valid,
    /// Empty, or a header write torn by a crash during creation: (re)write it.
    /// Safe because creation makes the header durable before any record is written.
    Uninitialized,
}

fn check_header(data: &[u8]) -> Result<HeaderState, String> {
    let expected = file_header();
    if data.len() <= FILE_HEADER_LEN {
        let n = data.len();
        if data == &expected[..n] {
            return Ok(if n == FILE_HEADER_LEN {
                HeaderState::Valid
            } else {
                HeaderState::Uninitialized
            });
        }
        if data.iter().all(|&b| b == 0) {
            return Ok(HeaderState::Uninitialized);
        }
        if n < FILE_HEADER_LEN {
            return Err(format!(
                "file of {n} bytes is neither a journal nor a partially created one"
            ));
        }
    }
    if data[..8] != FILE_MAGIC {
        return Err("not a QLDB journal file (bad magic)".to_string());
    }
    let version = le_u32(&data[8..]);
    if version != FORMAT_VERSION {
        return Err(format!(
            "unsupported journal format version {version} (this build reads version {FORMAT_VERSION})"
        ));
    }
    Ok(HeaderState::Valid)
}

/// Outcome of scanning a journal file's bytes.
#[derive(Debug)]
struct Scan {
    frames: Vec<Frame>,
    /// Length of the valid prefix (header plus intact frames): the logical end.
    valid_len: usize,
    /// Why the bytes after `valid_len` are a torn tail. `None` when there are
    /// no such bytes or they are all zero (preallocated space).
    tail_defect: Option<FrameDefect>,
}

/// Scans a whole journal file (header included; the header must be valid).
/// Errors are messages for [`StorageError::Corrupt`].
fn scan(data: &[u8]) -> Result<Scan, String> {
    let mut frames = Vec::new();
    let mut pos = FILE_HEADER_LEN;
    while pos < data.len() {
        let expected = frames.len() as u64;
        let defect = match decode_frame(data, pos) {
            Ok(frame) if frame.index == expected => {
                pos = frame.end();
                frames.push(frame);
                continue;
            }
            // A crash cannot produce this: frames are only ever written at the
            // end of the file, at the position matching their index.
            Ok(frame) => {
                return Err(format!(
                    "the intact frame at byte offset {pos} holds record {}, expected record \
                     {expected}",
                    frame.index
                ))
            }
            Err(defect) => defect,
        };
        if is_zero(&data[pos..]) {
            // Preallocated space, never written (or written by an interrupted
            // write of which nothing reached the disk).
            break;
        }
        if let Some((at, later)) = find_later_durable_frame(data, pos, expected) {
            return Err(format!(
                "record {expected} at byte offset {pos} is damaged ({defect}), but the intact \
                 record {} at byte offset {at} was written after record {expected} had been made \
                 durable (its write began at record {}); refusing to drop committed records",
                later.index, later.batch
            ));
        }
        return Ok(Scan {
            frames,
            valid_len: pos,
            tail_defect: Some(defect),
        });
    }
    Ok(Scan {
        frames,
        valid_len: pos,
        tail_defect: None,
    })
}

fn is_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0)
}

/// Searches `data[from..]` for an intact frame proving record `damaged` had
/// been durable: one whose write began after it (`batch > damaged`).
fn find_later_durable_frame(data: &[u8], from: usize, damaged: u64) -> Option<(usize, Frame)> {
    let mut pos = from;
    while pos + FRAME_HEADER_LEN <= data.len() {
        let skip = data[pos..]
            .windows(FRAME_MAGIC.len())
            .position(|w| w == FRAME_MAGIC)?;
        pos += skip;
        if let Ok(frame) = decode_frame(data, pos) {
            if frame.batch > damaged {
                return Some((pos, frame));
            }
        }
        pos += 1;
    }
    None
}

/// Makes a directory entry created in `path`'s parent durable.
fn sync_parent_dir(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

/// Where a test wants the next group-commit round to fail.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Write half of the batch, then fail.
    Write,
    /// Write the batch, then fail the `fdatasync`.
    Sync,
    /// Write the zeros of a file extension, then fail their `fdatasync`.
    Extend,
}

/// A group-commit write: records `first..first + frames.len()`.
#[derive(Debug)]
struct Batch {
    first: u64,
    frames: Vec<Vec<u8>>,
}

/// Everything appends and reads need; guarded by a mutex that is never held
/// across I/O on the write path.
#[derive(Debug)]
struct AppendState {
    /// File offset of every appended record's frame; `offsets.len()` is the record count.
    offsets: Vec<u64>,
    /// File offset just past the last appended frame.
    end: u64,
    /// Frames before this offset are in the file (written, maybe not yet
    /// durable): the logical end of the file.
    written_end: u64,
    /// The batch the current leader is writing; readable until it is in the file.
    /// Stays set after a failed write (the store is poisoned then).
    in_flight: Option<Arc<Batch>>,
    /// Encoded frames not yet taken by a round: the last `pending.len()` records.
    pending: Vec<Vec<u8>>,
    /// Committers waiting for their record to be durable: (record index, notifier).
    waiters: Vec<(u64, DurabilityNotifier)>,
    /// Records `0..sync_wanted` have been asked to become durable. A round is
    /// due when this reaches into the pending records.
    sync_wanted: u64,
    /// A round (write + fdatasync) is running, on the flusher or on a blocking
    /// caller of `sync`. At most one runs at a time.
    round_active: bool,
    /// Set by `Drop`: the flusher finishes the rounds asked for, then exits.
    shutdown: bool,
}

impl AppendState {
    /// Records `0..taken()` have been handed to a round (written or in flight).
    fn taken(&self) -> u64 {
        self.offsets.len() as u64 - self.pending.len() as u64
    }
}

/// State only the runner of a round uses, across its I/O.
#[derive(Debug)]
struct LeaderState {
    /// The buffer for concatenating a batch into one write.
    buf: Vec<u8>,
    /// File size: bytes from the logical end up to here are preallocated zeros
    /// that have been made durable.
    allocated: u64,
}

/// A journal stored in one append-only file with group commit; see the
/// [module docs](self) for the format and the scheme.
pub struct FileJournal {
    shared: Arc<Shared>,
    /// The flusher thread; joined on drop.
    flusher: Option<std::thread::JoinHandle<()>>,
}

/// What the journal's handle and its flusher thread share.
struct Shared {
    path: PathBuf,
    file: File,
    state: Mutex<AppendState>,
    /// The flusher waits on it (with `state`) for a round to be due or for shutdown.
    work: Condvar,
    /// Number of durable records (records `0..durable` are durable). Only grows;
    /// stored under `state`, read without it by the `request_sync` fast path.
    durable: AtomicU64,
    /// Completed group-commit rounds (one fdatasync each); for `Debug` output.
    rounds: AtomicU64,
    /// Reason the store refuses writes, once a write or fdatasync has failed.
    /// Set under `state`.
    poison: OnceLock<String>,
    /// Held by the runner of a round (`round_active` keeps it uncontended).
    leader: Mutex<LeaderState>,
    /// Preallocation granularity in bytes; see "Preallocation" in the module docs.
    prealloc_chunk: u64,
    /// Completed file extensions; for `Debug` output.
    extensions: AtomicU64,
    #[cfg(test)]
    fault: Mutex<Option<Fault>>,
    /// Held by a test to keep the flusher from starting a round.
    #[cfg(test)]
    gate: Mutex<()>,
}

impl std::fmt::Debug for FileJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.shared;
        f.debug_struct("FileJournal")
            .field("path", &s.path)
            .field("len", &self.len())
            .field("durable", &s.durable.load(Ordering::Acquire))
            .field("fsync_rounds", &s.rounds.load(Ordering::Relaxed))
            .field("extensions", &s.extensions.load(Ordering::Relaxed))
            .field("poisoned", &s.poison.get())
            .finish()
    }
}

impl Drop for FileJournal {
    fn drop(&mut self) {
        self.shared.state.lock().shutdown = true;
        self.shared.work.notify_one();
        if let Some(flusher) = self.flusher.take() {
            // It finishes the rounds that were asked for, then exits. A panic
            // there has already poisoned the store and failed the waiters.
            let _ = flusher.join();
        }
    }
}

impl FileJournal {
    /// Opens or creates the journal at `path`, recovering it: reads every whole, checksummed record; a torn or corrupt tail
    /// (partial write after a crash) is truncated away (log at warn with tracing how many bytes). Returns the store and the
    /// recovered records in order.
    ///
    /// Zero bytes after the last record are preallocated space and are kept.
    /// Damage that is followed by records written after the damaged one was
    /// durable is real corruption and fails with [`StorageError::Corrupt`]; see
    /// the [module docs](self).
    pub fn open(path: &Path) -> Result<(FileJournal, Vec<Vec<u8>>), StorageError> {
        Self::open_with_chunk(path, PREALLOC_CHUNK)
    }

    /// [`open`](Self::open) with a preallocation granularity of `prealloc_chunk` bytes.
    fn open_with_chunk(
        path: &Path,
        prealloc_chunk: u64,
    ) -> Result<(FileJournal, Vec<Vec<u8>>), StorageError> {
        assert!(prealloc_chunk > 0, "preallocation chunk must not be empty");
        let (file, created) = match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(file) => (file, true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let file = OpenOptions::new().read(true).write(true).open(path)?;
                (file, false)
            }
            Err(e) => return Err(e.into()),
        };
        // One writer per journal: a second process (or a second engine in this one) appending
        // to the same file would interleave frames. The advisory lock dies with the process.
        // A child forked by any thread of this process shares the lock of a descriptor the
        // process just closed until the child's `exec` closes it: retry briefly before
        // reporting the journal as in use.
        let mut locked = file.try_lock();
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
        while locked.is_err() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
            locked = file.try_lock();
        }
        if let Err(e) = locked {
            return Err(StorageError::Io(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!(
                    "{} is in use by another process or engine ({e}); \
                     only one may open a ledger's journal at a time",
                    path.display()
                ),
            )));
        }
        let corrupt = |msg: String| StorageError::Corrupt(format!("{}: {msg}", path.display()));

        let mut data = Vec::new();
        (&file).read_to_end(&mut data)?;
        if check_header(&data).map_err(corrupt)? == HeaderState::Uninitialized {
            if !created {
                tracing::warn!(
                    path = %path.display(),
                    bytes = data.len(),
                    "journal file has no complete header (creation was interrupted); initializing it"
                );
            }
            let header = file_header();
            file.set_len(0)?;
            file.write_all_at(&header, 0)?;
            file.sync_all()?;
            // The file's directory entry must be durable too, or a crash could
            // lose the whole journal after records were acknowledged.
            sync_parent_dir(path)?;
            data.clear();
            data.extend_from_slice(&header);
        }

        let scan = scan(&data).map_err(corrupt)?;
        let mut file_len = data.len() as u64;
        if let Some(defect) = &scan.tail_defect {
            tracing::warn!(
                path = %path.display(),
                truncated_bytes = data.len() - scan.valid_len,
                offset = scan.valid_len,
                records_kept = scan.frames.len(),
                defect = %defect,
                "journal ends in a torn tail (interrupted write); truncating it"
            );
            // Preallocated space behind the torn tail goes too; the next write
            // preallocates again.
            file.set_len(scan.valid_len as u64)?;
            file_len = scan.valid_len as u64;
        }
        // Also covers the truncation, and a tail that survived a process crash only
        // in the page cache (see "Recovery" in the module docs).
        file.sync_all()?;

        let records: Vec<Vec<u8>> = scan
            .frames
            .iter()
            .map(|f| data[f.payload.clone()].to_vec())
            .collect();
        let offsets: Vec<u64> = scan
            .frames
            .iter()
            .map(|f| (f.payload.start - FRAME_HEADER_LEN) as u64)
            .collect();
        let count = offsets.len() as u64;
        let end = scan.valid_len as u64;
        tracing::debug!(
            path = %path.display(),
            records = count,
            bytes = end,
            preallocated_bytes = file_len - end,
            created,
            "journal opened"
        );

        let shared = Arc::new(Shared {
            path: path.to_path_buf(),
            file,
            state: Mutex::new(AppendState {
                offsets,
                end,
                written_end: end,
                in_flight: None,
                pending: Vec::new(),
                waiters: Vec::new(),
                sync_wanted: 0,
                round_active: false,
                shutdown: false,
            }),
            work: Condvar::new(),
            durable: AtomicU64::new(count),
            rounds: AtomicU64::new(0),
            poison: OnceLock::new(),
            leader: Mutex::new(LeaderState {
                buf: Vec::new(),
                allocated: file_len,
            }),
            prealloc_chunk,
            extensions: AtomicU64::new(0),
            #[cfg(test)]
            fault: Mutex::new(None),
            #[cfg(test)]
            gate: Mutex::new(()),
        });
        let flusher = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("qldb-journal-flush".to_string())
                .spawn(move || shared.run_flusher())?
        };
        let journal = FileJournal {
            shared,
            flusher: Some(flusher),
        };
        Ok((journal, records))
    }

    /// The journal file's path.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Number of records known to be durable.
    pub fn durable_len(&self) -> u64 {
        self.shared.durable.load(Ordering::Acquire)
    }

    /// Makes the next group-commit round fail at `fault`.
    #[cfg(test)]
    pub(crate) fn inject_fault(&self, fault: Fault) {
        *self.shared.fault.lock() = Some(fault);
    }

    /// Keeps any round from starting while the guard lives, so that a test can
    /// gather waiters into one round (a blocking `sync` would deadlock then).
    #[cfg(test)]
    pub(crate) fn hold_rounds(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.shared.gate.lock()
    }

    /// Completed group-commit rounds and file extensions.
    #[cfg(test)]
    pub(crate) fn round_counts(&self) -> (u64, u64) {
        (
            self.shared.rounds.load(Ordering::Relaxed),
            self.shared.extensions.load(Ordering::Relaxed),
        )
    }
}

impl Shared {
    fn poisoned(&self) -> Option<StorageError> {
        self.poison
            .get()
            .map(|reason| StorageError::Poisoned(reason.clone()))
    }

    /// Call with `state` locked, so that `request_sync` sees the poison and the
    /// waiters consistently.
    fn set_poison(&self, reason: String) {
        if self.poison.set(reason.clone()).is_ok() {
            tracing::error!(
                path = %self.path.display(),
                reason = %reason,
                "journal write failed; refusing all further writes"
            );
        }
    }

    /// One group-commit round, run by the flusher: writes all pending
    /// frames at the logical end of the file (extending the file first if they
    /// do not fit into the preallocated space) and fdatasyncs. Returns the new
    /// durable record count, or `None` if nothing was pending.
    fn write_round(&self, leader: &mut LeaderState) -> io::Result<Option<u64>> {
        let (batch, offset) = {
            let mut st = self.state.lock();
            if st.pending.is_empty() {
                return Ok(None);
            }
            let first = st.offsets.len() as u64 - st.pending.len() as u64;
            let batch = Arc::new(Batch {
                first,
                frames: std::mem::take(&mut st.pending),
            });
            st.in_flight = Some(Arc::clone(&batch));
            (batch, st.written_end)
        };

        let written: usize = batch.frames.iter().map(Vec::len).sum();
        self.preallocate(leader, offset + written as u64)?;
        if let [frame] = batch.frames.as_slice() {
            self.write_at(frame, offset)?;
        } else {
            // One write per round instead of one per record.
            let buf = &mut leader.buf;
            buf.clear();
            for frame in &batch.frames {
                buf.extend_from_slice(frame);
            }
            let res = self.write_at(buf, offset);
            if buf.capacity() > WRITE_BUF_KEEP {
                *buf = Vec::new();
            }
            res?;
        }
        {
            let mut st = self.state.lock();
            st.written_end = offset + written as u64;
            st.in_flight = None;
        }
        #[cfg(test)]
        self.fault_point(Fault::Sync)?;
        self.file.sync_data()?;
        self.rounds.fetch_add(1, Ordering::Relaxed);
        Ok(Some(batch.first + batch.frames.len() as u64))
    }

    /// Makes sure the file is allocated up to `end`: if it is not, extends it
    /// with zeros to the next chunk boundary at least half a chunk beyond `end`
    /// and fdatasyncs them.
    fn preallocate(&self, leader: &mut LeaderState, end: u64) -> io::Result<()> {
        if end <= leader.allocated {
            return Ok(());
        }
        let chunk = self.prealloc_chunk;
        let target = (end + chunk / 2).div_ceil(chunk) * chunk;
        let zeros = vec![0u8; (target - leader.allocated).min(ZERO_WRITE_MAX) as usize];
        let mut at = leader.allocated;
        while at < target {
            let n = (target - at).min(zeros.len() as u64) as usize;
            self.file.write_all_at(&zeros[..n], at)?;
            at += n as u64;
        }
        #[cfg(test)]
        self.fault_point(Fault::Extend)?;
        self.file.sync_data()?;
        tracing::trace!(
            path = %self.path.display(),
            from = leader.allocated,
            to = target,
            "journal file extended"
        );
        leader.allocated = target;
        self.extensions.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn write_at(&self, bytes: &[u8], offset: u64) -> io::Result<()> {
        #[cfg(test)]
        if self.fault_point(Fault::Write).is_err() {
            // Like a real failure, leave part of the batch behind.
            self.file.write_all_at(&bytes[..bytes.len() / 2], offset)?;
            return Err(io::Error::other("injected write failure"));
        }
        self.file.write_all_at(bytes, offset)
    }

    #[cfg(test)]
    fn fault_point(&self, at: Fault) -> io::Result<()> {
        let mut fault = self.fault.lock();
        if *fault == Some(at) {
            *fault = None;
            return Err(io::Error::other(format!("injected {at:?} failure")));
        }
        Ok(())
    }

    /// The flusher thread: waits until a round is due and none is running,
    /// runs it, completes the waiters it covered; exits on shutdown once no
    /// round is due.
    fn run_flusher(&self) {
        loop {
            {
                let mut st = self.state.lock();
                loop {
                    // After a failure nothing more is written; request_sync
                    // answers every new waiter itself.
                    let due = st.sync_wanted > st.taken() && self.poison.get().is_none();
                    if due && !st.round_active {
                        st.round_active = true;
                        break;
                    }
                    if st.shutdown && !due {
                        return;
                    }
                    self.work.wait(&mut st);
                }
            }
            if self.run_round(Runner::Flusher).is_err() {
                tracing::error!(path = %self.path.display(), "a group-commit round panicked");
            }
        }
    }

    /// Runs one round (the caller has set `round_active`) and publishes its
    /// outcome; see [`finish_round`](Self::finish_round).
    /// `Err` holds the panic of the round's I/O (the store is poisoned then and
    /// the waiters have failed).
    fn run_round(&self, runner: Runner) -> std::thread::Result<Result<(), StorageError>> {
        #[cfg(test)]
        let gate = self.gate.lock();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.write_round(&mut self.leader.lock())
        }));
        #[cfg(test)]
        drop(gate);
        match outcome {
            Ok(outcome) => Ok(self.finish_round(Some(outcome), runner)),
            Err(panic) => {
                let _ = self.finish_round(None, runner);
                Err(panic)
            }
        }
    }

    /// Publishes a round's outcome (`None`: it panicked) and completes the
    /// waiters it decides: after success those it made durable, in index order;
    /// after a failure all of them. The I/O error itself goes to the caller of
    /// `sync` that ran the round, or else to the lowest waiter (whose record the
    /// round carried); everyone else finds the store poisoned. Returns the
    /// runner's own result.
    fn finish_round(
        &self,
        outcome: Option<io::Result<Option<u64>>>,
        runner: Runner,
    ) -> Result<(), StorageError> {
        let (mut done, failure) = {
            let mut st = self.state.lock();
            st.round_active = false;
            let decided = match outcome {
                Some(Ok(Some(durable))) => {
                    self.durable.store(durable, Ordering::Release);
                    let (done, waiting) = std::mem::take(&mut st.waiters)
                        .into_iter()
                        .partition(|(index, _)| *index < durable);
                    st.waiters = waiting;
                    (done, None)
                }
                Some(Ok(None)) => (Vec::new(), None),
                Some(Err(e)) => {
                    self.set_poison(format!(
                        "write or fdatasync of {} failed: {e}",
                        self.path.display()
                    ));
                    (std::mem::take(&mut st.waiters), Some(Some(e)))
                }
                None => {
                    // The state of the file is unknown.
                    self.set_poison("a group-commit round panicked".to_string());
                    (std::mem::take(&mut st.waiters), Some(None))
                }
            };
            if runner == Runner::Caller && st.sync_wanted > st.taken() {
                // Records were waited for meanwhile: the flusher runs the next round.
                self.work.notify_one();
            }
            decided
        };
        done.sort_unstable_by_key(|(index, _)| *index);
        let mut waiters = done.into_iter().map(|(_, notifier)| notifier);
        let Some(io_error) = failure else {
            waiters.for_each(|n| n.complete(Ok(())));
            return Ok(());
        };
        let mut io_error = io_error.map(StorageError::Io);
        if runner == Runner::Flusher {
            if let (Some(e), Some(first)) = (io_error.take(), waiters.next()) {
                first.complete(Err(e));
            }
        }
        for n in waiters {
            n.complete(Err(self.poisoned().expect("poisoned above")));
        }
        Err(io_error.unwrap_or_else(|| self.poisoned().expect("poisoned above")))
    }

    /// Registers a waiter for record `index` (pending or in a running round)
    /// and makes sure a round covering it will run.
    fn register_waiter(&self, st: &mut AppendState, index: u64) -> Durability {
        let (notifier, durability) = Durability::pending();
        st.waiters.push((index, notifier));
        if index >= st.sync_wanted {
            st.sync_wanted = index + 1;
            if index >= st.taken() {
                // Not in a running round: the next one is due. Free unless the
                // flusher is idle; then it wakes once we unlock.
                self.work.notify_one();
            }
        }
        durability
    }
}

/// Who runs a group-commit round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runner {
    /// The flusher thread, for async and blocking waiters.
    Flusher,
    /// A blocking caller of `sync` that found no round running.
    Caller,
}

impl JournalStore for FileJournal {
    fn append(&self, record: &[u8]) -> Result<u64, StorageError> {
        let this = &*self.shared;
        if let Some(e) = this.poisoned() {
            return Err(e);
        }
        if record.len() > MAX_RECORD_LEN {
            return Err(StorageError::RecordTooLarge {
                len: record.len(),
                max: MAX_RECORD_LEN,
            });
        }
        // Copy and hash the payload before taking the lock; under it only the
        // index, batch and 20 header bytes of CRC remain.
        let mut frame = start_frame(record);
        let mut crc = crc32fast::Hasher::new();
        crc.update(record);

        let mut st = this.state.lock();
        let index = st.offsets.len() as u64;
        // The next round takes the whole pending list as one write, so the
        // batch starts at the first pending record.
        let batch = index - st.pending.len() as u64;
        seal_frame(&mut frame, crc, index, batch);
        let offset = st.end;
        st.offsets.push(offset);
        st.end += frame.len() as u64;
        st.pending.push(frame);
        Ok(index)
    }

    fn request_sync(&self, index: u64) -> Durability {
        let this = &*self.shared;
        if index < this.durable.load(Ordering::Acquire) {
            return Durability::ready(Ok(()));
        }
        let mut st = this.state.lock();
        // Records that became durable before a failure are still durable:
        // acknowledging them is truthful, so this check comes first.
        if index < this.durable.load(Ordering::Acquire) {
            return Durability::ready(Ok(()));
        }
        let len = st.offsets.len() as u64;
        if index >= len {
            return Durability::ready(Err(StorageError::OutOfRange { index, len }));
        }
        if let Some(e) = this.poisoned() {
            return Durability::ready(Err(e));
        }
        this.register_waiter(&mut st, index)
    }

    /// Like `request_sync(index).wait()`, but when no round is running the
    /// caller runs one itself instead of handing it to the flusher and waiting
    /// to be woken: two thread hand-offs fewer for a lone blocking committer
    /// (the embedded driver), as in a classic leader/follower group commit.
    fn sync(&self, index: u64) -> Result<(), StorageError> {
        let this = &*self.shared;
        if index < this.durable.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut st = this.state.lock();
        if index < this.durable.load(Ordering::Acquire) {
            return Ok(());
        }
        let len = st.offsets.len() as u64;
        if index >= len {
            return Err(StorageError::OutOfRange { index, len });
        }
        if let Some(e) = this.poisoned() {
            return Err(e);
        }
        if st.round_active || index < st.taken() {
            // A round is running (maybe carrying this record): wait for it and
            // for the flusher's next one.
            let durability = this.register_waiter(&mut st, index);
            drop(st);
            return durability.wait();
        }
        st.round_active = true;
        drop(st);
        // The round takes every pending record, this one included.
        this.run_round(Runner::Caller)
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    fn failure(&self) -> Option<String> {
        self.shared.poison.get().cloned()
    }

    fn read(&self, index: u64) -> Result<Vec<u8>, StorageError> {
        let st = self.shared.state.lock();
        let len = st.offsets.len() as u64;
        if index >= len {
            return Err(StorageError::OutOfRange { index, len });
        }
        let i = index as usize;
        let start = st.offsets[i];
        let end = st.offsets.get(i + 1).copied().unwrap_or(st.end);
        if end <= st.written_end {
            // In the file: read it without holding the lock.
            drop(st);
            return self.read_from_file(index, start, end);
        }
        let pending_first = len - st.pending.len() as u64;
        let frame = if index >= pending_first {
            &st.pending[(index - pending_first) as usize]
        } else {
            match &st.in_flight {
                Some(batch) if index >= batch.first => {
                    &batch.frames[(index - batch.first) as usize]
                }
                _ => {
                    return Err(StorageError::Corrupt(format!(
                        "internal error: record {index} is neither written nor buffered"
                    )))
                }
            }
        };
        Ok(frame[FRAME_HEADER_LEN..].to_vec())
    }

    fn len(&self) -> u64 {
        self.shared.state.lock().offsets.len() as u64
    }
}

impl FileJournal {
    fn read_from_file(&self, index: u64, start: u64, end: u64) -> Result<Vec<u8>, StorageError> {
        let mut buf = vec![0u8; (end - start) as usize];
        self.shared.file.read_exact_at(&mut buf, start)?;
        match decode_frame(&buf, 0) {
            Ok(frame) if frame.index == index && frame.end() == buf.len() => {
                buf.copy_within(frame.payload.clone(), 0);
                buf.truncate(frame.payload.len());
                Ok(buf)
            }
            Ok(frame) => Err(StorageError::Corrupt(format!(
                "{}: frame at byte offset {start} holds record {}, expected record {index}",
                self.shared.path.display(),
                frame.index
            ))),
            Err(defect) => Err(StorageError::Corrupt(format!(
                "{}: record {index} at byte offset {start} is damaged: {defect}",
                self.shared.path.display()
            ))),
        }
    }
}
