//! The listening server: binds the socket, opens the engine, accepts HTTP/1.1 connections on
//! tokio and hands each request to the router; stops accepting on shutdown and waits for the
//! requests in flight.

use crate::config::{ServerConfig, ServerError, Storage};
use crate::faults::FaultSet;
use crate::router;
use crate::sigv4::Credentials;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use qldb_ledger::{CreateLedgerRequest, Engine};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Stack size of the runtime's threads: statement parsing and Ion decoding recurse over
/// nested input.
pub const THREAD_STACK_BYTES: usize = 16 * 1024 * 1024;

/// Time a client has to send a request's headers; it also closes keep-alive connections that
/// stay idle this long (a pooled client reconnects).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// State shared by every request.
pub(crate) struct AppState {
    pub engine: Arc<Engine>,
    pub faults: Arc<FaultSet>,
    pub credentials: Option<Credentials>,
    pub max_body_bytes: usize,
}

/// A bound, not yet serving, server.
pub struct Server {
    listener: std::net::TcpListener,
    addr: SocketAddr,
    storage: Storage,
    state: Arc<AppState>,
    shutdown_timeout: Duration,
}

fn err(what: &str, e: impl std::fmt::Display) -> ServerError {
    ServerError(format!("{what}: {e}"))
}

impl Server {
    /// Opens the engine (recovering a data directory), creates the requested ledgers and binds
    /// the listening socket. Port 0 picks a free port: see [`Server::local_addr`].
    pub fn bind(config: ServerConfig) -> Result<Server, ServerError> {
        let engine = match &config.storage {
            Storage::Memory => Engine::memory(config.engine.clone()),
            Storage::Dir(dir) => Engine::open_dir(dir, config.engine.clone())
                .map_err(|e| err(&format!("cannot open data directory {}", dir.display()), e))?,
        };
        for name in &config.create_ledgers {
            if engine.ledger(name).is_ok() {
                continue;
            }
            let mut req = CreateLedgerRequest::new(name.clone());
            req.deletion_protection = false;
            engine
                .create_ledger(req)
                .map_err(|e| err(&format!("cannot create ledger {name:?}"), e))?;
            // Settle CREATING → ACTIVE: the ledger is ready before the first request.
            let _ = engine.describe_ledger(name);
            tracing::info!(ledger = %name, "ledger created");
        }
        let listener = std::net::TcpListener::bind(config.addr)
            .map_err(|e| err(&format!("cannot listen on {}", config.addr), e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| err("cannot configure the listening socket", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| err("cannot read the listening address", e))?;
        let credentials = config.credentials.filter(|c| !c.is_empty());
        Ok(Server {
            listener,
            addr,
            storage: config.storage,
            state: Arc::new(AppState {
                engine: Arc::new(engine),
                faults: Arc::new(FaultSet::new(config.faults)),
                credentials,
                max_body_bytes: config.max_body_bytes,
            }),
            shutdown_timeout: config.shutdown_timeout,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The engine behind the server.
    pub fn engine(&self) -> Arc<Engine> {
        self.state.engine.clone()
    }

    /// The fault rules; tests may add rules directly instead of through the admin API.
    pub fn faults(&self) -> Arc<FaultSet> {
        self.state.faults.clone()
    }

    /// The start-up line: `qldb-local listening on http://<host>:<port> (data: <dir or memory>)`.
    pub fn banner(&self) -> String {
        format!(
            "qldb-local listening on http://{} (data: {})",
            self.addr, self.storage
        )
    }

    /// Serves until `shutdown` completes, then stops accepting, lets the requests in flight
    /// finish (up to the configured timeout) and returns. Must run inside a tokio runtime.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), ServerError> {
        let listener = tokio::net::TcpListener::from_std(self.listener)
            .map_err(|e| err("cannot register the listening socket", e))?;
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        tracing::info!(addr = %self.addr, data = %self.storage, "serving");
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(v) => v,
                        Err(e) => {
                            // Out of file descriptors and the like: back off instead of spinning.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let state = self.state.clone();
                    let service = service_fn(move |req| router::handle(state.clone(), peer, req));
                    let conn = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEADER_READ_TIMEOUT)
                        .serve_connection(TokioIo::new(stream), service);
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    });
                }
                () = &mut shutdown => break,
            }
        }
        drop(listener);
        tracing::info!("shutting down: no new connections; waiting for requests in flight");
        tokio::select! {
            () = graceful.shutdown() => tracing::info!("all connections closed"),
            () = tokio::time::sleep(self.shutdown_timeout) => {
                tracing::warn!(timeout = ?self.shutdown_timeout, "requests still in flight after the shutdown timeout");
            }
        }
        Ok(())
    }

    /// Serves on a runtime of its own in a background thread. The handle stops the server
    /// (gracefully) on [`ServerHandle::shutdown`] or when dropped.
    pub fn spawn(self) -> Result<ServerHandle, ServerError> {
        let addr = self.addr;
        let engine = self.engine();
        let faults = self.faults();
        let runtime = runtime()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("qldb-local-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(self.serve(async {
                    let _ = rx.await;
                }))
            })
            .map_err(|e| err("cannot start the server thread", e))?;
        Ok(ServerHandle {
            addr,
            engine,
            faults,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// [`Server::bind`] then [`Server::spawn`].
    pub fn start(config: ServerConfig) -> Result<ServerHandle, ServerError> {
        Server::bind(config)?.spawn()
    }
}

/// The tokio runtime `qldb-local` runs on: multi-threaded, with deep stacks.
pub fn runtime() -> Result<tokio::runtime::Runtime, ServerError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("qldb-local")
        .thread_stack_size(THREAD_STACK_BYTES)
        .build()
        .map_err(|e| err("cannot start the runtime", e))
}

/// A server running in the background (see [`Server::spawn`]).
pub struct ServerHandle {
    addr: SocketAddr,
    engine: Arc<Engine>,
    faults: Arc<FaultSet>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ServerError>>>,
}

impl ServerHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn faults(&self) -> &Arc<FaultSet> {
        &self.faults
    }

    /// Stops accepting, waits for requests in flight and joins the server thread.
    pub fn shutdown(mut self) -> Result<(), ServerError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), ServerError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| ServerError("the server thread panicked".into()))?,
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
