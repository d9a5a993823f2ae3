//! Crash safety of the file engine: a child process (`src/bin/qldb-crash-writer.rs`) commits one
//! insert per transaction and reports each acknowledged commit; the test SIGKILLs it at three
//! different moments and checks after each that the recovered ledger holds every acknowledged
//! document, nothing twice, a gap-free prefix of the numbering, and a journal that verifies.

use crate::support::*;
use qldb_ledger::{Engine, EngineConfig};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const LEDGER: &str = "crash";

/// Starts the writer at `first`, waits until it has acknowledged `kill_after` commits (at most
/// 20 s), SIGKILLs it, and returns every number it acknowledged. With `probe_lock`, checks
/// midway that a second engine cannot open the directory the writer is using.
fn run_child_and_kill(
    dir: &std::path::Path,
    first: i64,
    kill_after: usize,
    probe_lock: bool,
) -> Vec<i64> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qldb-crash-writer"))
        .arg(dir)
        .arg(first.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn qldb-crash-writer");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<i64>();
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        loop {
            line.clear();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                // A line cut short by the kill was not a complete acknowledgement.
                Ok(_) if !line.ends_with('\n') => break,
                Ok(_) => {
                    let n = line
                        .trim_end()
                        .strip_prefix("acked ")
                        .and_then(|n| n.parse().ok())
                        .unwrap_or_else(|| panic!("unexpected child output {line:?}"));
                    if tx.send(n).is_err() {
                        break;
                    }
                }
            }
        }
    });

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut acked = Vec::new();
    while acked.len() < kill_after {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(n) => {
                acked.push(n);
                if probe_lock && acked.len() == kill_after / 2 {
                    let second = Engine::open_dir(dir, EngineConfig::default());
                    assert!(
                        second.is_err(),
                        "a second engine must not open a journal another process is writing"
                    );
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().unwrap();
                panic!(
                    "the writer exited on its own ({status}) after {} acks",
                    acked.len()
                );
            }
        }
    }
    child.kill().expect("SIGKILL the writer");
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the writer was killed, not finished: {status}"
    );
    reader.join().unwrap();
    // Acknowledgements written before the kill but not yet read count too.
    acked.extend(rx.try_iter());
    assert!(
        !acked.is_empty(),
        "the writer acknowledged nothing within 20 s"
    );
    let expected: Vec<i64> = (first..first + acked.len() as i64).collect();
    assert_eq!(
        acked, expected,
        "the writer acknowledges consecutive numbers"
    );
    acked
}

/// Reopens the directory and checks the recovered ledger; returns the next number to write.
fn check_recovered(dir: &std::path::Path, last_acked: i64) -> i64 {
    let engine = Engine::open_dir(dir, EngineConfig::default()).expect("reopen after the kill");
    let report = engine
        .ledger(LEDGER)
        .expect("the ledger survives")
        .verify()
        .expect("the recovered journal verifies");
    assert_eq!(report.digest, engine.get_digest(LEDGER).unwrap().0);
    let c = Client::new(&engine, LEDGER);
    let mut ns: Vec<i64> = c
        .run("SELECT VALUE n FROM Crash", &[])
        .unwrap()
        .iter()
        .map(|e| e.as_i64().expect("int n"))
        .collect();
    ns.sort_unstable();
    let distinct = {
        let mut d = ns.clone();
        d.dedup();
        d.len()
    };
    assert_eq!(distinct, ns.len(), "no document was committed twice");
    let k = ns.len() as i64;
    assert_eq!(
        ns,
        (0..k).collect::<Vec<_>>(),
        "the documents form a prefix 0..{k}"
    );
    assert!(
        k > last_acked,
        "every acknowledged document survived: last acked {last_acked}, recovered 0..{k}"
    );
    // Every recovered document is intact.
    let rows = c
        .run("SELECT VALUE n FROM Crash WHERE pad LIKE 'x%'", &[])
        .unwrap();
    assert_eq!(rows.len() as i64, k);
    k
}

#[test]
fn sigkill_at_three_moments_loses_no_acknowledged_commit() {
    let dir = tempfile::tempdir().unwrap();
    let mut next = 0;
    for (run, kill_after) in [300, 120, 450].into_iter().enumerate() {
        let acked = run_child_and_kill(dir.path(), next, kill_after, run == 0);
        let last = *acked.last().unwrap();
        next = check_recovered(dir.path(), last);
        // An unacknowledged commit may have survived, at most the one in flight.
        assert!(
            next <= last + 2,
            "recovered up to {next}, last acked {last}"
        );
    }
}

/// Whatever random statements commit (odd values, annotations, UTCNOW(), big numbers, nested
/// edits), the journal must replay to the same state after a reopen.
#[test]
fn random_committed_statements_replay_identically_after_reopen() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;

    let dir = tempfile::tempdir().unwrap();
    let params = [
        ion("1"),
        ion("\"x\""),
        ion("a::{a: 1.10}"),
        ion("[1, 2]"),
        ion("null"),
    ];
    let snapshot = |engine: &Engine| {
        let digest = engine.get_digest(LEDGER).unwrap();
        let c = Client::new(engine, LEDGER);
        let mut tx = c.begin().unwrap();
        let rows = tx.exec("SELECT * FROM T", &[]).unwrap();
        let history = tx.exec("SELECT * FROM history(T)", &[]).unwrap();
        let tables = tx
            .exec("SELECT * FROM information_schema.user_tables", &[])
            .unwrap();
        engine.abort_transaction(&c.token).unwrap();
        (
            digest,
            ion_multiset(&rows),
            ion_multiset(&history),
            ion_multiset(&tables),
            rows.len(),
        )
    };
    let (before, committed) = {
        let engine = Engine::open_dir(dir.path(), EngineConfig::default()).unwrap();
        engine
            .create_ledger(qldb_ledger::CreateLedgerRequest::new(LEDGER))
            .unwrap();
        let c = Client::new(&engine, LEDGER);
        // Catalog history to replay too: a dropped, undropped table that lost an index.
        let u = c.run("CREATE TABLE U", &[]).unwrap();
        let u = text_field(&u[0], "tableId");
        c.run("CREATE INDEX ON U (z)", &[]).unwrap();
        c.run("CREATE INDEX ON U (y)", &[]).unwrap();
        c.run("INSERT INTO U VALUE {'z': 1, 'y': 2}", &[]).unwrap();
        c.run("DROP TABLE U", &[]).unwrap();
        c.run("CREATE TABLE W", &[]).unwrap();
        c.run("DROP TABLE W", &[]).unwrap();
        c.run(&format!("UNDROP TABLE \"{u}\""), &[]).unwrap();
        let z = c
            .run(
                "SELECT VALUE i.indexId FROM information_schema.user_tables AS t, t.indexes AS i WHERE t.name = 'U' AND i.expr = '[z]'",
                &[],
            )
            .unwrap();
        c.run(
            &format!(
                "DROP INDEX \"{}\" ON U WITH (purge = true)",
                z[0].as_text().unwrap()
            ),
            &[],
        )
        .unwrap();
        c.run("CREATE TABLE T", &[]).unwrap();
        c.run("CREATE INDEX ON T (a)", &[]).unwrap();
        c.run(
            "INSERT INTO T << {'a': 1, 'b': 'x', 'l': [1, {'c': 2}]}, {'a': 'x', 'b': 2.5, 'l': []}, {'x': null, 'l': [`(1 2)`]} >>",
            &[],
        )
        .unwrap();
        // Deterministic: a failure replays with the same statements.
        let mut runner = TestRunner::deterministic();
        let strategy = crate::errors::generated_statement();
        let mut committed = 0;
        for _ in 0..300 {
            let (text, n) = strategy.new_tree(&mut runner).unwrap().current();
            let mut tx = c.begin().unwrap();
            match tx.exec(&text, &params[..n.min(params.len())]) {
                Ok(_) if n <= params.len() => {
                    tx.commit()
                        .unwrap_or_else(|e| panic!("commit of {text}: {e:?}"));
                    committed += 1;
                }
                _ => {
                    engine.abort_transaction(&c.token).unwrap();
                }
            }
        }
        (snapshot(&engine), committed)
    };
    assert!(committed > 50, "{committed} random statements committed");
    let engine = Engine::open_dir(dir.path(), EngineConfig::default()).unwrap();
    engine.ledger(LEDGER).unwrap().verify().unwrap();
    let after = snapshot(&engine);
    assert_eq!(after.0, before.0, "digest");
    assert_eq!(after.4, before.4, "documents");
    assert!(
        after == before,
        "the reopened ledger shows the same documents, history and tables"
    );
}

/// Many sessions committing at once on the file engine: every commit is acknowledged only once
/// durable and acknowledgements come in block order; after a reopen every acknowledged
/// document is there and the journal verifies.
#[test]
fn concurrent_file_commits_are_all_durable_and_acknowledged_in_order() {
    use ion_rs::Element;
    const THREADS: usize = 8;
    const PER_THREAD: i64 = 60;
    const OPEN: usize = 48;
    let dir = tempfile::tempdir().unwrap();
    let total = {
        let engine = Engine::open_dir(dir.path(), EngineConfig::default()).unwrap();
        engine
            .create_ledger(qldb_ledger::CreateLedgerRequest::new(LEDGER))
            .unwrap();
        Client::new(&engine, LEDGER)
            .run("CREATE TABLE Crash", &[])
            .unwrap();
        let insert = "INSERT INTO Crash VALUE {'n': ?, 'pad': 'x'}";

        // Threads committing through the in-memory part, then waiting for durability.
        let mut seqs: Vec<u64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let engine = &engine;
                    s.spawn(move || {
                        let c = Client::new(engine, LEDGER);
                        (0..PER_THREAD)
                            .map(|i| {
                                let mut tx = c.begin().unwrap();
                                let n = t as i64 * PER_THREAD + i;
                                tx.exec(insert, &[Element::int(n)]).unwrap();
                                let pending = engine
                                    .begin_commit_transaction(&c.token, &tx.id, &tx.digest.value())
                                    .unwrap();
                                let seq = pending.block_address().sequence_no;
                                pending.wait().unwrap();
                                seq
                            })
                            .collect::<Vec<u64>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        seqs.sort_unstable();
        seqs.dedup();
        assert_eq!(seqs.len(), THREADS * PER_THREAD as usize, "one block each");

        // Many commits in flight at once, begun in block order: at any moment the settled
        // ones must be a prefix. Checked from the highest down, so a commit seen settled was
        // settled before every lower one was looked at.
        let clients: Vec<Client<'_>> = (0..OPEN).map(|_| Client::new(&engine, LEDGER)).collect();
        let mut pending: Vec<Option<qldb_ledger::PendingCommit>> = clients
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let mut tx = c.begin().unwrap();
                let n = (THREADS as i64) * PER_THREAD + k as i64;
                tx.exec(insert, &[Element::int(n)]).unwrap();
                Some(
                    engine
                        .begin_commit_transaction(&c.token, &tx.id, &tx.digest.value())
                        .unwrap(),
                )
            })
            .collect();
        assert!(pending
            .windows(2)
            .all(|w| w[0].as_ref().unwrap().block_address().sequence_no
                < w[1].as_ref().unwrap().block_address().sequence_no));
        let started = Instant::now();
        while pending.iter().any(Option::is_some) {
            let mut seen_settled = false;
            for (k, slot) in pending.iter_mut().enumerate().rev() {
                match slot.take() {
                    Some(p) if p.is_settled() => {
                        seen_settled = true;
                        p.wait().unwrap();
                    }
                    Some(p) => {
                        assert!(!seen_settled, "commit {k} settled after a later one");
                        *slot = Some(p);
                    }
                    None => {}
                }
            }
            assert!(started.elapsed() < Duration::from_secs(60));
            std::thread::yield_now();
        }
        THREADS * PER_THREAD as usize + OPEN
    };
    // Everything acknowledged is in the journal.
    let next = check_recovered(dir.path(), total as i64 - 1);
    assert_eq!(next, total as i64);
}
