//! `qldb-local`: the command-line face of the QLDB-compatible server.
//!
//! ```text
//! qldb-local serve [--data DIR | --memory] [--host 127.0.0.1] [--port 8000]
//!                  [--transaction-timeout SECONDS] [--session-lifetime SECONDS]
//!                  [--create-ledger NAME]... [--auth KEY_ID:SECRET]... [--auth-file PATH]
//!                  [--fault RULE]... [--max-body-bytes N]
//! ```
//!
//! The first line on stdout is `qldb-local listening on http://<host>:<port> (data: <dir or
//! memory>)`; logs go to stderr (filter with `QLDB_LOCAL_LOG`, default `info`). SIGINT or
//! SIGTERM stops accepting, lets requests in flight finish and exits 0.

use clap::{Args, Parser, Subcommand};
use qldb_server::{Credentials, FaultRule, Server, ServerConfig, Storage};
use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

// mimalloc cuts the allocator's share of a commit (many small Ion values) by about a third.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "qldb-local",
    version,
    about = "A local QLDB-compatible ledger server"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the QLDB session and control-plane APIs over HTTP.
    Serve(ServeArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Keep ledgers in this directory (created if missing; recovered at start-up).
    #[arg(long, value_name = "DIR", conflicts_with = "memory")]
    data: Option<PathBuf>,
    /// Keep ledgers in memory only (the default when --data is not given).
    #[arg(long)]
    memory: bool,
    /// Address to listen on. Anything but loopback exposes the ledger to the network.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free port (see the first line of output).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Seconds after StartTransaction at which a transaction expires (QLDB: 30).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    transaction_timeout: Option<Duration>,
    /// Session lifetime in seconds (QLDB: a random time between 13 and 17 minutes).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    session_lifetime: Option<Duration>,
    /// Create this ledger (deletion protection off) at start-up if it does not exist. Repeatable.
    #[arg(long = "create-ledger", value_name = "NAME")]
    create_ledger: Vec<String>,
    /// Require SigV4 signatures by this access key. Repeatable.
    #[arg(long = "auth", value_name = "KEY_ID:SECRET")]
    auth: Vec<String>,
    /// Require SigV4 signatures by the keys in this file (lines KEY_ID:SECRET, # comments).
    #[arg(long = "auth-file", value_name = "PATH")]
    auth_file: Option<PathBuf>,
    /// Inject a fault: COMMAND:N:REACTION (COMMAND: a SendCommand command or any; N: 1-based
    /// or *; REACTION: occ, invalid-session, expired, http500, http503, capacity, rate,
    /// delay=MS, drop). Repeatable.
    #[arg(long = "fault", value_name = "RULE")]
    fault: Vec<FaultRule>,
    /// Largest accepted request body; larger ones get 413.
    #[arg(long, value_name = "N", default_value_t = qldb_server::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("expected seconds, got {s:?}"))?;
    if !v.is_finite() || v <= 0.0 || v > 1e9 {
        return Err(format!("expected a positive number of seconds, got {s:?}"));
    }
    Ok(Duration::from_secs_f64(v))
}

fn config(args: ServeArgs) -> Result<ServerConfig, String> {
    let addr: SocketAddr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve --host {}: {e}", args.host))?
        .next()
        .ok_or_else(|| format!("--host {} resolves to no address", args.host))?;
    let mut config = ServerConfig {
        addr,
        storage: match args.data {
            Some(dir) => Storage::Dir(dir),
            None => Storage::Memory,
        },
        create_ledgers: args.create_ledger,
        faults: args.fault,
        max_body_bytes: args.max_body_bytes,
        ..ServerConfig::default()
    };
    for name in &config.create_ledgers {
        qldb_wire::validate::ledger_name(name, "--create-ledger").map_err(|e| e.message)?;
    }
    if let Some(t) = args.transaction_timeout {
        config.engine.transaction_timeout = t;
    }
    if let Some(t) = args.session_lifetime {
        config.engine.session_lifetime = (t, t);
    }
    let mut credentials = Credentials::new();
    for pair in &args.auth {
        credentials
            .add_pair(pair)
            .map_err(|e| format!("--auth: {e}"))?;
    }
    if let Some(path) = &args.auth_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read --auth-file {}: {e}", path.display()))?;
        credentials
            .add_file_contents(&text)
            .map_err(|e| format!("--auth-file {}: {e}", path.display()))?;
        if credentials.is_empty() {
            return Err(format!("--auth-file {} holds no keys", path.display()));
        }
    }
    if !credentials.is_empty() {
        config.credentials = Some(credentials);
    }
    Ok(config)
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QLDB_LOCAL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

/// Resolves when SIGINT or SIGTERM arrives.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGTERM; only Ctrl-C stops the server");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        _ = term.recv() => tracing::info!("SIGTERM received"),
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let config = config(args)?;
    let auth = config.credentials.as_ref().map_or(0, Credentials::len);
    let faults = config.faults.len();
    let runtime = qldb_server::runtime().map_err(|e| e.to_string())?;
    let server = Server::bind(config).map_err(|e| e.to_string())?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", server.banner()).map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    if auth > 0 {
        tracing::info!(keys = auth, "SigV4 authentication required");
    }
    if faults > 0 {
        tracing::info!(rules = faults, "fault injection active");
    }
    runtime
        .block_on(server.serve(shutdown_signal()))
        .map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Cmd::Serve(args) => serve(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qldb-local: {e}");
            ExitCode::FAILURE
        }
    }
}
