//! Cursors over a statement's result pages, pyqldb's `StreamCursor`, `ReadAheadCursor` and
//! `BufferedCursor` (`spec/pyqldb-api.md` §6):
//!
//! - **Stream**: the first page comes with ExecuteStatement; the next is fetched (FetchPage)
//!   only when the current one is used up; empty pages are skipped.
//! - **Read-ahead** (`read_ahead >= 2`): a producer task fetches pages ahead into a bounded
//!   channel of `read_ahead - 1` pages (pyqldb's `Queue(maxsize=read_ahead - 1)`), like
//!   scylla's pager. Dropping or closing the cursor, or the end of its transaction, aborts the
//!   producer. Any producer failure, transport errors included, is delivered to the consumer;
//!   a producer that vanishes without saying it finished is reported as an error too: the
//!   consumer never hangs (unlike pyqldb, §9.2).
//! - **Statistics** accumulate as pages are *consumed*: exact sums ([`CursorStats`]) and
//!   pyqldb's view (`None` when zero, §6.3 and §9.3).
//! - A cursor is unusable once its transaction has ended or it was closed: reading it fails
//!   with `ResultClosed`, even if values were still buffered.
//! - [`Cursor::buffer_all`] drains the rest into a [`BufferedResult`], which is what the
//!   driver's caller keeps when a body returns an unconsumed cursor.

use crate::error::DriverError;
use crate::transaction::TxnShared;
use crate::transport::{IoUsage, StatementResult, Transport};
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

/// Statistics of a result, summed over the pages consumed so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CursorStats {
    read_ios: u64,
    write_ios: u64,
    processing_ms: u64,
    ios_reported: bool,
    timing_reported: bool,
}

impl CursorStats {
    pub(crate) fn add(&mut self, r: &StatementResult) {
        if let Some(io) = r.consumed_ios {
            self.ios_reported = true;
            self.read_ios += io.read_ios;
            self.write_ios += io.write_ios;
        }
        if let Some(ms) = r.processing_ms {
            self.timing_reported = true;
            self.processing_ms += ms;
        }
    }

    /// Exact `ConsumedIOs` sums; `None` only when no page reported any.
    pub fn consumed_ios(&self) -> Option<IoUsage> {
        self.ios_reported.then_some(IoUsage {
            read_ios: self.read_ios,
            write_ios: self.write_ios,
        })
    }

    /// Exact processing time in milliseconds; `None` only when no page reported any.
    pub fn processing_ms(&self) -> Option<u64> {
        self.timing_reported.then_some(self.processing_ms)
    }

    /// pyqldb's `get_consumed_ios()`: `{'ReadIOs': n}` as `Some(n)`, `None` when the sum is 0.
    pub fn pyqldb_read_ios(&self) -> Option<u64> {
        (self.read_ios > 0).then_some(self.read_ios)
    }

    /// pyqldb's `get_timing_information()`: `{'ProcessingTimeMilliseconds': n}` as `Some(n)`,
    /// `None` when the sum is 0.
    pub fn pyqldb_processing_ms(&self) -> Option<u64> {
        (self.processing_ms > 0).then_some(self.processing_ms)
    }
}

/// A fully read result (pyqldb's `BufferedCursor` contents).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BufferedResult {
    /// Each value a complete Ion binary stream.
    pub values: Vec<Bytes>,
    pub stats: CursorStats,
}

/// What the read-ahead producer sends.
enum Fetched {
    Page(StatementResult),
    Failed(DriverError),
    End,
}

enum Source {
    /// No more pages.
    Done,
    /// Fetch the page of this token on demand.
    Stream { next_token: String },
    /// Pages come from the producer.
    ReadAhead {
        rx: mpsc::Receiver<Fetched>,
        producer: AbortHandle,
    },
    /// A fetch failed; the error is repeated.
    Failed(DriverError),
}

/// A single-pass cursor over a statement's result.
pub struct Cursor {
    txn: Arc<TxnShared>,
    current: VecDeque<Bytes>,
    source: Source,
    stats: CursorStats,
    closed: bool,
}

impl std::fmt::Debug for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor")
            .field("transaction_id", &self.txn.id)
            .field("buffered", &self.current.len())
            .field("stats", &self.stats)
            .field("closed", &self.closed)
            .finish()
    }
}

impl Cursor {
    /// A cursor over ExecuteStatement's result; with `read_ahead >= 2` a producer task starts
    /// fetching the following pages at once (on the current tokio runtime).
    pub(crate) fn new(txn: Arc<TxnShared>, first: StatementResult, read_ahead: usize) -> Cursor {
        let mut stats = CursorStats::default();
        stats.add(&first);
        let current: VecDeque<Bytes> = first.page.values.into();
        let source = match first.page.next_page_token {
            None => Source::Done,
            Some(token) if read_ahead >= 2 => {
                let (tx, rx) = mpsc::channel(read_ahead - 1);
                let task = tokio::spawn(produce(
                    txn.transport.clone(),
                    txn.session_token.clone(),
                    txn.id.clone(),
                    token,
                    tx,
                ));
                let producer = task.abort_handle();
                txn.register_producer(producer.clone());
                Source::ReadAhead { rx, producer }
            }
            Some(token) => Source::Stream { next_token: token },
        };
        Cursor {
            txn,
            current,
            source,
            stats,
            closed: false,
        }
    }

    fn check_open(&self) -> Result<(), DriverError> {
        if self.closed || self.txn.is_closed() {
            Err(DriverError::result_closed(&self.txn.session_token))
        } else {
            Ok(())
        }
    }

    /// The next value (a complete Ion binary stream), `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Bytes>, DriverError> {
        loop {
            self.check_open()?;
            if let Some(v) = self.current.pop_front() {
                return Ok(Some(v));
            }
            let fetched = match &mut self.source {
                Source::Done => return Ok(None),
                Source::Failed(e) => return Err(e.clone()),
                Source::Stream { next_token } => {
                    let r = self
                        .txn
                        .transport
                        .fetch_page(&self.txn.session_token, &self.txn.id, next_token)
                        .await;
                    match r {
                        Ok(r) => Fetched::Page(r),
                        Err(e) => Fetched::Failed(e),
                    }
                }
                Source::ReadAhead { rx, .. } => match rx.recv().await {
                    Some(f) => f,
                    None => Fetched::Failed(DriverError::protocol(
                        "The read-ahead producer stopped without finishing the result",
                    )),
                },
            };
            // The transaction may have ended while we waited.
            self.check_open()?;
            match fetched {
                Fetched::Page(r) => {
                    self.stats.add(&r);
                    if let Source::Stream { .. } = self.source {
                        self.source = match &r.page.next_page_token {
                            Some(t) => Source::Stream {
                                next_token: t.clone(),
                            },
                            None => Source::Done,
                        };
                    }
                    self.current = r.page.values.into();
                }
                Fetched::End => self.source = Source::Done,
                Fetched::Failed(e) => {
                    self.stop_producer();
                    self.source = Source::Failed(e.clone());
                    return Err(e);
                }
            }
        }
    }

    /// Reads every remaining value.
    pub async fn buffer_all(&mut self) -> Result<BufferedResult, DriverError> {
        let mut values = Vec::new();
        while let Some(v) = self.next().await? {
            values.push(v);
        }
        Ok(BufferedResult {
            values,
            stats: self.stats,
        })
    }

    /// Closes the cursor: later reads fail with `ResultClosed`; a read-ahead producer stops.
    pub fn close(&mut self) {
        self.closed = true;
        self.current.clear();
        self.stop_producer();
    }

    /// Whether the cursor can still be read (not closed, transaction open).
    pub fn is_open(&self) -> bool {
        self.check_open().is_ok()
    }

    /// Statistics of the pages consumed so far.
    pub fn stats(&self) -> CursorStats {
        self.stats
    }

    /// Whether this cursor reads ahead with a producer task.
    pub fn is_read_ahead(&self) -> bool {
        matches!(self.source, Source::ReadAhead { .. })
    }

    /// The transaction id of the statement.
    pub fn transaction_id(&self) -> &str {
        &self.txn.id
    }

    /// The session token (pyqldb puts it into `ResultClosedError`).
    pub fn session_token(&self) -> &str {
        &self.txn.session_token
    }

    fn stop_producer(&mut self) {
        if let Source::ReadAhead { producer, .. } = &self.source {
            producer.abort();
        }
    }
}

impl Drop for Cursor {
    fn drop(&mut self) {
        self.stop_producer();
    }
}

/// The read-ahead producer: FetchPage in a loop, each page into the channel; stops when the
/// consumer is gone, after the last page (sending `End`), or on the first error (sending it).
async fn produce(
    transport: Arc<dyn Transport>,
    session_token: Arc<str>,
    transaction_id: Arc<str>,
    first_token: String,
    tx: mpsc::Sender<Fetched>,
) {
    let mut token = first_token;
    loop {
        match transport
            .fetch_page(&session_token, &transaction_id, &token)
            .await
        {
            Ok(r) => {
                let next = r.page.next_page_token.clone();
                if tx.send(Fetched::Page(r)).await.is_err() {
                    return;
                }
                match next {
                    Some(t) => token = t,
                    None => {
                        let _ = tx.send(Fetched::End).await;
                        return;
                    }
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "read-ahead fetch failed");
                let _ = tx.send(Fetched::Failed(e)).await;
                return;
            }
        }
    }
}
