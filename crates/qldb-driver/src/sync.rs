//! The synchronous facade, for callers that are plain threads (the Python binding: a lambda
//! holding the GIL). One async implementation, two entry points: [`SyncDriver`] runs the same
//! retry steps as [`Driver::execute_with`] but waits for each of them with [`wait`] and calls
//! the body **on the calling thread, outside any runtime**, so the body may block, call back
//! into Python, or use the blocking [`SyncTransaction`] / [`SyncCursor`] methods, which wait
//! the same way.
//!
//! **Runtime.** One process-wide multi-thread tokio runtime, created on first use
//! ([`runtime`]). After `fork()` the child has none of the parent's runtime threads; the
//! runtime remembers the fork generation that created it (a `pthread_atfork` child handler counts
//! forks) and a child builds a fresh one (the parent's is
//! leaked, never dropped: dropping it would try to join threads that do not exist). Drivers
//! and transports made before a fork should not be used after it in the child.
//!
//! **Waiting.** [`wait`] runs a future to completion from a non-runtime thread with
//! `Runtime::block_on`; called on a worker of a multi-thread runtime it uses `block_in_place`.
//! [`wait_interruptible`] also polls a check (e.g. Python's `check_signals`) every tick, so
//! Ctrl-C can end a long wait, as datafusion-python's `wait_for_future` does. The Python layer
//! releases the GIL around these waits and re-acquires it inside the body and the check.

use crate::cursor::{BufferedResult, Cursor, CursorStats};
use crate::driver::{Driver, DriverConfig, ExecuteOptions, Execution, Runner};
use crate::error::{BodyError, DriverError, ExecuteError};
use crate::param::IonParam;
use crate::transaction::Transaction;
use bytes::Bytes;
use parking_lot::Mutex;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::{Handle, Runtime, RuntimeFlavor};

/// Forks seen by this process image: bumped in the child by a `pthread_atfork` handler, so
/// [`runtime`] notices a fork with one atomic load instead of a `getpid` system call per wait.
static FORKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[cfg(unix)]
fn watch_forks() {
    extern "C" fn child() {
        FORKS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: registers a handler that only touches an atomic, which is async-signal-safe.
    ONCE.call_once(|| unsafe {
        libc::pthread_atfork(None, None, Some(child));
    });
}

#[cfg(not(unix))]
fn watch_forks() {}

/// The process-wide runtime, created lazily and re-created in a forked child.
pub fn runtime() -> Arc<Runtime> {
    static RUNTIME: Mutex<Option<(u64, Arc<Runtime>)>> = Mutex::new(None);
    let generation = FORKS.load(std::sync::atomic::Ordering::SeqCst);
    let mut slot = RUNTIME.lock();
    if let Some((owner, rt)) = slot.as_ref() {
        if *owner == generation {
            return rt.clone();
        }
    }
    if let Some(stale) = slot.take() {
        // Created by the parent before a fork: its threads do not exist here.
        std::mem::forget(stale);
        tracing::debug!("runtime re-created after fork");
    }
    watch_forks();
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("qldb-driver")
            .build()
            .expect("cannot start the tokio runtime"),
    );
    *slot = Some((generation, rt.clone()));
    rt
}

/// Runs `fut` to completion, blocking the calling thread.
///
/// From a plain thread it uses the process-wide runtime. From a worker of a multi-thread
/// runtime it uses that runtime inside `block_in_place`. From a current-thread runtime it
/// panics (blocking there would deadlock): use the async API there.
pub fn wait<F: Future>(fut: F) -> F::Output {
    match Handle::try_current() {
        Ok(handle) => match handle.runtime_flavor() {
            RuntimeFlavor::CurrentThread => {
                panic!("the qldb-driver sync API cannot be used inside a current-thread tokio runtime; use the async API")
            }
            _ => tokio::task::block_in_place(|| as_blocking_waiter(|| handle.block_on(fut))),
        },
        Err(_) => as_blocking_waiter(|| runtime().block_on(fut)),
    }
}

thread_local! {
    static BLOCKING_WAITER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with this thread marked as a blocking waiter (see [`is_blocking_waiter`]).
fn as_blocking_waiter<T>(f: impl FnOnce() -> T) -> T {
    let before = BLOCKING_WAITER.with(|w| w.replace(true));
    let out = f();
    BLOCKING_WAITER.with(|w| w.set(before));
    out
}

/// True on a thread that is blocked in [`wait`] polling a future itself (the caller of the sync
/// API, not a runtime worker): there, blocking work such as an embedded engine call may run
/// inline, saving two thread hand-offs per command.
pub fn is_blocking_waiter() -> bool {
    BLOCKING_WAITER.with(|w| w.get())
}

/// The tick of [`wait_interruptible`] (datafusion-python uses 50 ms too).
pub const INTERRUPT_TICK: Duration = Duration::from_millis(50);

/// [`wait`], but calls `check` every `tick` while waiting; its error abandons the future
/// (dropping it) and is returned.
///
/// From a plain thread the future is polled here, in the runtime's context, and the thread
/// parks between polls with a timeout: the ticks cost no timer registration and no wake-up of
/// a runtime thread (a request whose I/O runs on this thread hands control back every tick,
/// see the HTTP transport). On a runtime worker it uses [`wait`] with a timer.
pub fn wait_interruptible<F: Future, E>(
    fut: F,
    tick: Duration,
    check: &dyn Fn() -> Result<(), E>,
) -> Result<F::Output, E> {
    if Handle::try_current().is_ok() {
        return wait(async {
            tokio::pin!(fut);
            loop {
                tokio::select! {
                    v = &mut fut => return Ok(v),
                    _ = tokio::time::sleep(tick) => check()?,
                }
            }
        });
    }
    let rt = runtime();
    let _context = rt.enter();
    as_blocking_waiter(|| park_until_ready(fut, tick, check))
}

/// Wakes a thread parked in [`park_until_ready`].
struct ThreadWaker {
    thread: std::thread::Thread,
    notified: std::sync::atomic::AtomicBool,
}

impl std::task::Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.notified
            .store(true, std::sync::atomic::Ordering::Release);
        self.thread.unpark();
    }
}

fn park_until_ready<F: Future, E>(
    fut: F,
    tick: Duration,
    check: &dyn Fn() -> Result<(), E>,
) -> Result<F::Output, E> {
    use std::sync::atomic::Ordering;
    use std::task::{Context, Poll, Waker};
    use std::time::Instant;
    let state = Arc::new(ThreadWaker {
        thread: std::thread::current(),
        notified: std::sync::atomic::AtomicBool::new(false),
    });
    let waker = Waker::from(state.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    let mut next_check = Instant::now() + tick;
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return Ok(v);
        }
        loop {
            let now = Instant::now();
            if now >= next_check {
                check()?;
                next_check = now + tick;
            }
            if state.notified.swap(false, Ordering::AcqRel) {
                break;
            }
            std::thread::park_timeout(next_check - now);
        }
    }
}

fn wait_opt<F: Future, E>(
    fut: F,
    interrupt: Option<&dyn Fn() -> Result<(), E>>,
) -> Result<F::Output, E> {
    match interrupt {
        Some(check) => wait_interruptible(fut, INTERRUPT_TICK, check),
        None => Ok(wait(fut)),
    }
}

/// The blocking driver. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SyncDriver {
    driver: Driver,
}

impl SyncDriver {
    pub fn new(driver: Driver) -> SyncDriver {
        SyncDriver { driver }
    }

    /// Connects (see [`crate::endpoint`]) and builds a driver, blocking.
    pub fn connect(
        options: &crate::endpoint::ConnectOptions,
        config: DriverConfig,
    ) -> Result<SyncDriver, DriverError> {
        wait(Driver::connect(options, config)).map(SyncDriver::new)
    }

    /// The async driver underneath.
    pub fn driver(&self) -> &Driver {
        &self.driver
    }

    /// Runs `body` in a transaction with retries, on the calling thread (see the module docs).
    pub fn execute<T, E, F>(&self, body: F) -> Result<T, ExecuteError<E>>
    where
        F: FnMut(&SyncTransaction) -> Result<T, BodyError<E>>,
    {
        self.execute_with(&ExecuteOptions::default(), None, body)
            .result
    }

    /// [`SyncDriver::execute`] with options, an optional interrupt check (polled every 50 ms
    /// while the driver waits; its error ends the execution as `ExecuteError::User`, the
    /// session in flight is discarded) and the attempt log.
    pub fn execute_with<T, E, F>(
        &self,
        options: &ExecuteOptions,
        interrupt: Option<&dyn Fn() -> Result<(), E>>,
        mut body: F,
    ) -> Execution<T, E>
    where
        F: FnMut(&SyncTransaction) -> Result<T, BodyError<E>>,
    {
        let mut runner = Runner::new(&self.driver.inner, options);
        let result = loop {
            let step = match wait_opt(runner.begin::<E>(), interrupt) {
                Err(interrupted) => break Err(ExecuteError::User(interrupted)),
                Ok(Ok(txn)) => {
                    let handle = SyncTransaction { txn: txn.clone() };
                    let outcome = body(&handle);
                    match wait_opt(runner.finish(txn, outcome), interrupt) {
                        Err(interrupted) => break Err(ExecuteError::User(interrupted)),
                        Ok(Ok(v)) => break Ok(v),
                        Ok(Err(step)) => step,
                    }
                }
                Ok(Err(step)) => step,
            };
            match runner.step(step) {
                Ok(None) => {}
                Ok(Some(sleep)) => {
                    if let Err(interrupted) =
                        wait_opt(async move { tokio::time::sleep(sleep).await }, interrupt)
                    {
                        break Err(ExecuteError::User(interrupted));
                    }
                }
                Err(e) => break Err(e),
            }
        };
        Execution {
            result,
            attempts: runner.into_records(),
        }
    }

    /// pyqldb's `list_tables()` (Ion strings).
    pub fn list_tables(&self) -> Result<BufferedResult, DriverError> {
        wait(self.driver.list_tables())
    }

    /// Closes the driver (see [`Driver::close`]).
    pub fn close(&self) {
        wait(self.driver.close())
    }
}

/// The blocking view of a [`Transaction`]: what a synchronous body (pyqldb's `Executor`)
/// uses. Cheap to clone; `'static`, so it can be stored in a Python object.
#[derive(Clone, Debug)]
pub struct SyncTransaction {
    txn: Transaction,
}

impl SyncTransaction {
    /// The transaction id.
    pub fn id(&self) -> &str {
        self.txn.id()
    }

    /// The async handle.
    pub fn transaction(&self) -> &Transaction {
        &self.txn
    }

    pub fn is_closed(&self) -> bool {
        self.txn.is_closed()
    }

    /// Executes a statement, blocking.
    pub fn execute(
        &self,
        statement: &str,
        parameters: Vec<IonParam>,
    ) -> Result<SyncCursor, DriverError> {
        wait(self.txn.execute(statement, parameters)).map(|cursor| SyncCursor { cursor })
    }

    /// Executes a statement and reads its whole result, blocking.
    pub fn execute_buffered(
        &self,
        statement: &str,
        parameters: Vec<IonParam>,
    ) -> Result<BufferedResult, DriverError> {
        wait(self.txn.execute_buffered(statement, parameters))
    }

    /// pyqldb's `Executor.abort()`: the `LambdaAborted` error to return from the body.
    pub fn abort(&self) -> DriverError {
        self.txn.abort()
    }
}

/// The blocking view of a [`Cursor`]; also an `Iterator` of values.
#[derive(Debug)]
pub struct SyncCursor {
    cursor: Cursor,
}

impl SyncCursor {
    /// The next value (a complete Ion binary stream), `None` at the end.
    pub fn next_value(&mut self) -> Result<Option<Bytes>, DriverError> {
        wait(self.cursor.next())
    }

    /// Reads every remaining value.
    pub fn buffer_all(&mut self) -> Result<BufferedResult, DriverError> {
        wait(self.cursor.buffer_all())
    }

    pub fn close(&mut self) {
        self.cursor.close()
    }

    pub fn is_open(&self) -> bool {
        self.cursor.is_open()
    }

    pub fn stats(&self) -> CursorStats {
        self.cursor.stats()
    }

    pub fn is_read_ahead(&self) -> bool {
        self.cursor.is_read_ahead()
    }

    /// The async cursor.
    pub fn into_inner(self) -> Cursor {
        self.cursor
    }
}

impl Iterator for SyncCursor {
    type Item = Result<Bytes, DriverError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_value().transpose()
    }
}
