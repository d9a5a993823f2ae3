//! Criterion benchmarks of the ledger engine through its session API, as a driver uses it:
//! single-document INSERT transactions (memory and file, 1 and 8 concurrent writers), indexed
//! point SELECT transactions, and a 10,000-document scan.
//!
//! `cargo bench -p qldb-ledger` (or `make bench`); results go to BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ion_rs::Element;
use qldb_ion::{ion_hash, CommitDigest, Hash};
use qldb_ledger::{CreateLedgerRequest, Engine, EngineConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

// The binaries that embed the engine (qldb-local, the Python extension) use mimalloc; measure
// the engine with the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One transaction of one statement, with the digest a driver computes.
fn one_statement(engine: &Engine, token: &str, stmt: &str, params: &[Element]) -> usize {
    let hashes: Vec<Hash> = params.iter().map(ion_hash).collect();
    one_statement_hashed(engine, token, stmt, params, &hashes)
}

/// Like `one_statement` with the parameter hashes precomputed, so that the measurement is the
/// engine's work, not the client's.
fn one_statement_hashed(
    engine: &Engine,
    token: &str,
    stmt: &str,
    params: &[Element],
    hashes: &[Hash],
) -> usize {
    let txid = engine.start_transaction(token).unwrap();
    let mut digest = CommitDigest::new(&txid);
    digest.add_statement(stmt, hashes);
    let mut r = engine
        .execute_statement(token, &txid, stmt, params)
        .unwrap();
    let mut n = r.page.values.len();
    while let Some(t) = r.page.next_page_token.clone() {
        r = engine.fetch_page(token, &txid, &t).unwrap();
        n += r.page.values.len();
    }
    engine
        .commit_transaction(token, &txid, &digest.value())
        .unwrap();
    n
}

struct Setup {
    engine: Arc<Engine>,
    _dir: Option<tempfile::TempDir>,
}

fn setup(file: bool) -> Setup {
    let (engine, dir) = if file {
        let dir = tempfile::tempdir().unwrap();
        (
            Engine::open_dir(dir.path(), EngineConfig::default()).unwrap(),
            Some(dir),
        )
    } else {
        (Engine::memory(EngineConfig::default()), None)
    };
    engine
        .create_ledger(CreateLedgerRequest::new("bench"))
        .unwrap();
    let token = engine.start_session("bench").unwrap().session_token;
    one_statement(&engine, &token, "CREATE TABLE T", &[]);
    one_statement(&engine, &token, "CREATE INDEX ON T (k)", &[]);
    Setup {
        engine: Arc::new(engine),
        _dir: dir,
    }
}

fn doc(i: u64) -> Element {
    Element::read_one(format!(
        "{{k: \"key-{i}\", n: {i}, name: \"customer {i}\", amount: 12.50, at: 2024-01-02T03:04:05.678Z, \
          tags: [\"a\", \"b\"], address: {{city: \"Oslo\", zip: \"0150\"}}, active: true, score: 0.5e0, note: \"x\"}}"
    ))
    .unwrap()
}

/// Documents to insert, with their hashes, built once outside the measurements.
fn doc_pool() -> Vec<([Element; 1], [Hash; 1])> {
    (0..256)
        .map(|i| {
            let d = doc(i);
            let h = ion_hash(&d);
            ([d], [h])
        })
        .collect()
}

/// Runs `per_thread` single-insert transactions on each of `threads` sessions; returns elapsed.
fn insert_batch(
    engine: &Arc<Engine>,
    pool: &[([Element; 1], [Hash; 1])],
    threads: usize,
    per_thread: u64,
) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let engine = engine.clone();
            s.spawn(move || {
                let token = engine.start_session("bench").unwrap().session_token;
                for i in 0..per_thread {
                    let (d, h) = &pool[(i as usize * 8 + t) % pool.len()];
                    one_statement_hashed(&engine, &token, "INSERT INTO T ?", d, h);
                }
            });
        }
    });
    start.elapsed()
}

fn inserts(c: &mut Criterion) {
    let mut g = c.benchmark_group("insert_txn");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(5));
    for file in [false, true] {
        for threads in [1usize, 8] {
            let s = setup(file);
            let pool = doc_pool();
            let name = format!(
                "{}_{}writers",
                if file { "file" } else { "memory" },
                threads
            );
            g.throughput(Throughput::Elements(threads as u64));
            g.bench_function(&name, |b| {
                // One iteration is one round of `threads` concurrent transactions.
                b.iter_custom(|iters| insert_batch(&s.engine, &pool, threads, iters.max(1)))
            });
        }
    }
    g.finish();
}

fn point_selects(c: &mut Criterion) {
    let mut g = c.benchmark_group("indexed_select_txn");
    for file in [false, true] {
        let s = setup(file);
        let token = s.engine.start_session("bench").unwrap().session_token;
        let txid = s.engine.start_transaction(&token).unwrap();
        let mut digest = CommitDigest::new(&txid);
        for i in 0..1000u64 {
            let p = [doc(i)];
            digest.add_statement("INSERT INTO T ?", &[ion_hash(&p[0])]);
            s.engine
                .execute_statement(&token, &txid, "INSERT INTO T ?", &p)
                .unwrap();
        }
        s.engine
            .commit_transaction(&token, &txid, &digest.value())
            .unwrap();
        let mut i = 0u64;
        g.throughput(Throughput::Elements(1));
        g.bench_function(if file { "file" } else { "memory" }, |b| {
            b.iter(|| {
                i = (i + 7) % 1000;
                let key = Element::string(format!("key-{i}"));
                let n = one_statement(&s.engine, &token, "SELECT * FROM T WHERE k = ?", &[key]);
                assert_eq!(n, 1);
            })
        });
    }
    g.finish();
}

fn scan(c: &mut Criterion) {
    let mut g = c.benchmark_group("scan_10k");
    g.sample_size(10);
    let s = setup(false);
    let token = s.engine.start_session("bench").unwrap().session_token;
    for chunk in 0..10u64 {
        let txid = s.engine.start_transaction(&token).unwrap();
        let mut digest = CommitDigest::new(&txid);
        for i in 0..1000u64 {
            let p = [doc(chunk * 1000 + i)];
            digest.add_statement("INSERT INTO T ?", &[ion_hash(&p[0])]);
            s.engine
                .execute_statement(&token, &txid, "INSERT INTO T ?", &p)
                .unwrap();
        }
        s.engine
            .commit_transaction(&token, &txid, &digest.value())
            .unwrap();
    }
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("select_star_all_pages", |b| {
        b.iter(|| {
            assert_eq!(
                one_statement(&s.engine, &token, "SELECT * FROM T", &[]),
                10_000
            )
        })
    });
    g.bench_function("filtered_count", |b| {
        b.iter(|| {
            one_statement(
                &s.engine,
                &token,
                "SELECT COUNT(*) FROM T WHERE n >= 5000 AND address.city = 'Oslo'",
                &[],
            )
        })
    });
    g.finish();
}

criterion_group!(benches, inserts, point_selects, scan);
criterion_main!(benches);
