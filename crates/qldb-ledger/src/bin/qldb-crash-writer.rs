//! The child process of the crash test (`tests/integration/crash.rs`); not a user tool.
//!
//! Usage: `qldb-crash-writer <data-dir> <first-n>`
//!
//! Opens `Engine::open_dir(<data-dir>)`, creates the ledger `crash` and the table `Crash` when
//! they are missing, then inserts documents `{n: i, pad: "…"}` for `i = first-n, first-n + 1, …`,
//! one per transaction, forever. After each successful commit it prints `acked <i>` to stdout
//! and flushes, so every line the test reads is a commit the engine acknowledged as durable. The
//! test kills the process with SIGKILL at some moment and checks the recovered journal.

use ion_rs::Element;
use qldb_ion::{ion_hash, CommitDigest};
use qldb_ledger::{CreateLedgerRequest, Engine, EngineConfig, LedgerError};
use std::io::Write;

const LEDGER: &str = "crash";

fn fail(what: &str, e: impl std::fmt::Debug) -> ! {
    eprintln!("qldb-crash-writer: {what}: {e:?}");
    std::process::exit(2);
}

/// Runs `statements` in one transaction and commits it.
fn run(
    engine: &Engine,
    token: &str,
    statements: &[(&str, Vec<Element>)],
) -> Result<(), LedgerError> {
    let id = engine.start_transaction(token)?;
    let mut digest = CommitDigest::new(&id);
    for (text, params) in statements {
        let hashes: Vec<_> = params.iter().map(ion_hash).collect();
        digest.add_statement(text, &hashes);
        if let Err(e) = engine.execute_statement(token, &id, text, params) {
            let _ = engine.abort_transaction(token);
            return Err(e);
        }
    }
    engine.commit_transaction(token, &id, &digest.value())?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: qldb-crash-writer <data-dir> <first-n>");
        std::process::exit(2);
    }
    let first: i64 = args[2].parse().unwrap_or_else(|e| fail("bad <first-n>", e));
    let engine =
        Engine::open_dir(&args[1], EngineConfig::default()).unwrap_or_else(|e| fail("open_dir", e));
    if engine.ledger(LEDGER).is_err() {
        let mut req = CreateLedgerRequest::new(LEDGER);
        req.deletion_protection = false;
        engine
            .create_ledger(req)
            .unwrap_or_else(|e| fail("create_ledger", e));
    }
    let token = engine
        .start_session(LEDGER)
        .unwrap_or_else(|e| fail("start_session", e))
        .session_token;
    match run(&engine, &token, &[("CREATE TABLE Crash", vec![])]) {
        Ok(()) => {}
        Err(LedgerError::BadRequest(m)) if m.contains("already exists") => {}
        Err(e) => fail("CREATE TABLE", e),
    }

    let stdout = std::io::stdout();
    for i in first.. {
        // Records of varying size, so that kills tear frames at different offsets.
        let pad = "x".repeat(64 + (i as usize * 37) % 900);
        let doc: Element = Element::struct_builder()
            .with_field("n", Element::int(i))
            .with_field("pad", Element::string(pad))
            .build()
            .into();
        run(&engine, &token, &[("INSERT INTO Crash ?", vec![doc])])
            .unwrap_or_else(|e| fail("insert", e));
        let mut out = stdout.lock();
        if writeln!(out, "acked {i}")
            .and_then(|()| out.flush())
            .is_err()
        {
            // The test stopped reading; nothing more to report.
            std::process::exit(0);
        }
    }
}
