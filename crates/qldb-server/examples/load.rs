//! Load client for `qldb-local`: N concurrent sessions run single-statement transactions
//! (StartTransaction, ExecuteStatement, CommitTransaction) over loopback HTTP for a while and
//! the run prints throughput and latency percentiles.
//!
//! ```text
//! cargo run --release -p qldb-server --example load -- [--endpoint http://127.0.0.1:8000]
//!     [--ledger load] [--sessions 8] [--seconds 10] [--mode insert|select] [--docs 1000]
//!     [--doc small|ten-field] [--data DIR]
//! ```
//!
//! Without `--endpoint` the example starts a server in-process (in memory, or on `--data DIR`
//! to include fsync). `insert` adds one document per transaction; `select` reads one document
//! by an indexed field from `--docs` pre-loaded ones.

#[path = "../tests/server/support.rs"]
mod support;

use clap::{Parser, ValueEnum};
use ion_rs::Element;
use qldb_server::{Server, ServerConfig, Storage};
use serde_json::json;
use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::{Http, Session};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Mode {
    Insert,
    Select,
}

/// The document an insert run writes.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Doc {
    /// `{k, v, pad}`: a key, an int and 64 bytes of padding.
    Small,
    /// Ten top-level fields like `benches/worker.py`'s `ten_field_doc`: strings, ints, decimals,
    /// a timestamp, a bool, a nested struct, a list.
    TenField,
}

#[derive(Parser, Debug)]
#[command(about = "Load client for qldb-local")]
struct Args {
    /// Server to load, e.g. http://127.0.0.1:8000; without it a server runs in-process.
    #[arg(long)]
    endpoint: Option<String>,
    /// For the in-process server: keep ledgers in this directory (fsync on commit).
    #[arg(long)]
    data: Option<PathBuf>,
    #[arg(long, default_value = "load")]
    ledger: String,
    /// Concurrent sessions, one thread each.
    #[arg(long, default_value_t = 8)]
    sessions: usize,
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    #[arg(long, value_enum, default_value_t = Mode::Insert)]
    mode: Mode,
    /// Documents loaded before a select run.
    #[arg(long, default_value_t = 1000)]
    docs: usize,
    /// The document an insert run writes.
    #[arg(long, value_enum, default_value_t = Doc::Small)]
    doc: Doc,
}

/// The Ion text of insert number `i` of session `id`.
fn insert_doc(doc: Doc, id: usize, i: usize) -> String {
    match doc {
        Doc::Small => format!("{{k: \"w{id}-{i}\", v: {i}, pad: \"{}\"}}", "x".repeat(64)),
        Doc::TenField => {
            let t = (12 * 3600 + 30 * 60 + i) % 86_400;
            format!(
                "{{id: \"w{id}-{i}\", name: \"customer {i:06}\", email: \"user{i}@example.com\", \
                 qty: {}, balance: {i}.{:02}, rate: 0.0425, \
                 created: 2024-05-01T{:02}:{:02}:{:02}Z, active: {}, \
                 address: {{street: \"{} Main St\", city: \"Seattle\", zip: \"98101\"}}, \
                 tags: [\"alpha\", \"beta\", \"t{}\"]}}",
                i % 997,
                i % 100,
                t / 3600,
                (t / 60) % 60,
                t % 60,
                i.is_multiple_of(2),
                i % 500,
                i % 10
            )
        }
    }
}

const TABLE: &str = "LoadTest";

fn key(i: usize) -> String {
    format!("k{i:08}")
}

/// Creates the ledger (if missing), the table and its index, and loads `docs` documents.
fn prepare(addr: SocketAddr, args: &Args) {
    let mut http = Http::new(addr);
    let body =
        json!({"Name": args.ledger, "PermissionsMode": "ALLOW_ALL", "DeletionProtection": false});
    let r = http
        .request("POST", "/ledgers", &[], body.to_string().as_bytes())
        .expect("CreateLedger");
    assert!(r.status == 200 || r.status == 409, "CreateLedger: {r:?}");
    let r = http
        .request("GET", &format!("/ledgers/{}", args.ledger), &[], b"")
        .expect("DescribeLedger");
    assert_eq!(r.status, 200, "DescribeLedger: {r:?}");

    let mut s = Session::start(addr, &args.ledger);
    let tables = s
        .run(
            "SELECT VALUE name FROM information_schema.user_tables WHERE name = ?",
            &[Element::string(TABLE)],
        )
        .expect("list tables");
    if tables.is_empty() {
        s.run(&format!("CREATE TABLE {TABLE}"), &[])
            .expect("CREATE TABLE");
        s.run(&format!("CREATE INDEX ON {TABLE} (k)"), &[])
            .expect("CREATE INDEX");
    }
    if matches!(args.mode, Mode::Select) {
        let count = s
            .run(&format!("SELECT COUNT(*) FROM {TABLE}"), &[])
            .expect("count")[0]
            .as_struct()
            .and_then(|st| st.get("_1").and_then(Element::as_i64))
            .unwrap_or(0) as usize;
        for chunk_start in (count..args.docs).step_by(100) {
            let mut txn = s.begin().expect("begin");
            for i in chunk_start..(chunk_start + 100).min(args.docs) {
                let doc = support::ion(&format!(
                    "{{k: \"{}\", v: {i}, pad: \"{}\"}}",
                    key(i),
                    "x".repeat(64)
                ));
                s.execute(&mut txn, &format!("INSERT INTO {TABLE} ?"), &[doc])
                    .expect("insert");
            }
            s.commit(&txn).expect("commit");
        }
    }
}

#[derive(Default)]
struct WorkerResult {
    latencies_us: Vec<u64>,
    errors: BTreeMap<String, u64>,
}

fn worker(addr: SocketAddr, args: &Args, id: usize, deadline: Instant) -> WorkerResult {
    let mut out = WorkerResult::default();
    let mut s = Session::start(addr, &args.ledger);
    let insert = format!("INSERT INTO {TABLE} ?");
    let select = format!("SELECT * FROM {TABLE} WHERE k = ?");
    let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (id as u64).wrapping_mul(0xA24B_AED4_963E_E407);
    let mut i = 0usize;
    while Instant::now() < deadline {
        i += 1;
        let t0 = Instant::now();
        let result = (|| {
            let mut txn = s.begin()?;
            match args.mode {
                Mode::Insert => {
                    let doc = Element::read_one(insert_doc(args.doc, id, i).as_bytes())
                        .expect("valid Ion");
                    s.execute(&mut txn, &insert, &[doc])?;
                }
                Mode::Select => {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let k = key((rng % args.docs.max(1) as u64) as usize);
                    let (rows, _) = s.execute(&mut txn, &select, &[Element::string(k)])?;
                    assert_eq!(rows.len(), 1, "one document per key");
                }
            }
            s.commit(&txn)
        })();
        match result {
            Ok(_) => out.latencies_us.push(t0.elapsed().as_micros() as u64),
            Err((_, code, _)) => {
                let _ = s.abort();
                *out.errors.entry(code).or_default() += 1;
            }
        }
    }
    let _ = s.command("EndSession", json!({}));
    out
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx] as f64 / 1000.0
}

fn main() {
    let args = Args::parse();
    let (addr, server) = match &args.endpoint {
        Some(url) => {
            let hostport = url
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_string();
            let addr = hostport
                .to_socket_addrs()
                .expect("resolve the endpoint")
                .next()
                .expect("an address");
            (addr, None)
        }
        None => {
            let config = ServerConfig {
                storage: args.data.clone().map_or(Storage::Memory, Storage::Dir),
                ..ServerConfig::default()
            };
            let handle = Server::start(config).expect("start an in-process server");
            (handle.addr(), Some(handle))
        }
    };
    prepare(addr, &args);
    println!(
        "load: {} sessions, {:?} mode, {} s against http://{addr}{}",
        args.sessions,
        args.mode,
        args.seconds,
        if server.is_some() {
            " (in-process)"
        } else {
            ""
        }
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.seconds);
    let results: Vec<WorkerResult> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..args.sessions)
            .map(|id| {
                let args = &args;
                scope.spawn(move || worker(addr, args, id, deadline))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<u64> = results
        .iter()
        .flat_map(|r| r.latencies_us.iter().copied())
        .collect();
    latencies.sort_unstable();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for r in &results {
        for (k, v) in &r.errors {
            *errors.entry(k.clone()).or_default() += v;
        }
    }
    println!(
        "committed {} transactions in {elapsed:.2} s: {:.0} tx/s; latency ms p50 {:.2} p99 {:.2} max {:.2}; errors {:?}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        errors
    );
    if let Some(h) = server {
        h.shutdown().expect("server shutdown");
    }
}
