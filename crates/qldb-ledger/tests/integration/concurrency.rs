//! Many sessions transferring money between accounts at once, retrying on OCC conflicts: the
//! committed result must equal a serial replay of exactly the transfers that were acknowledged
//! (no lost update, no double apply), read-only audits that commit see consistent totals, on the
//! memory engine and on the file engine.

use crate::support::*;
use ion_rs::Element;
use qldb_ledger::{CreateLedgerRequest, Engine, EngineConfig, LedgerError};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

const L: &str = "bank";
const ACCOUNTS: i64 = 10;
const THREADS: usize = 8;
const INITIAL: i64 = 1000;

/// A committed transfer as the thread that made it recorded it.
#[derive(Debug, Clone, Copy)]
struct Transfer {
    from: i64,
    to: i64,
    amount: i64,
}

fn setup(engine: &Engine) {
    let c = Client::new(engine, L);
    c.run("CREATE TABLE Accounts", &[]).unwrap();
    c.run("CREATE INDEX ON Accounts (acct)", &[]).unwrap();
    c.txn(|t| {
        for i in 0..ACCOUNTS {
            t.exec(
                "INSERT INTO Accounts VALUE {'acct': ?, 'balance': ?}",
                &[Element::int(i), Element::int(INITIAL)],
            )?;
        }
        Ok(())
    })
    .unwrap();
}

fn balance_of(rows: &[Element]) -> i64 {
    assert_eq!(rows.len(), 1, "one account per id: {rows:?}");
    rows[0].as_i64().expect("an int balance")
}

/// One transfer, retried on OCC conflicts with a new transaction on the same session. With
/// `client_side`, read-modify-write with the new balances computed by the client (the pattern
/// that loses updates without OCC); otherwise `SET balance = balance ± ?` in the engine.
/// Returns the number of attempts.
fn transfer(c: &Client<'_>, t: Transfer, client_side: bool) -> usize {
    let read = "SELECT VALUE balance FROM Accounts WHERE acct = ?";
    let write = "UPDATE Accounts SET balance = ? WHERE acct = ?";
    for attempt in 1.. {
        let mut tx = c.begin().expect("StartTransaction after a conflict");
        let (debit, credit) = if client_side {
            let from = balance_of(&tx.exec(read, &[Element::int(t.from)]).unwrap());
            let to = balance_of(&tx.exec(read, &[Element::int(t.to)]).unwrap());
            (
                tx.exec(
                    write,
                    &[Element::int(from - t.amount), Element::int(t.from)],
                ),
                tx.exec(write, &[Element::int(to + t.amount), Element::int(t.to)]),
            )
        } else {
            let amount = Element::int(t.amount);
            (
                tx.exec(
                    "UPDATE Accounts AS a SET a.balance = a.balance - ? WHERE a.acct = ?",
                    &[amount.clone(), Element::int(t.from)],
                ),
                tx.exec(
                    "UPDATE Accounts SET balance = balance + ? WHERE acct = ?",
                    &[amount, Element::int(t.to)],
                ),
            )
        };
        assert_eq!(debit.unwrap().len(), 1);
        assert_eq!(credit.unwrap().len(), 1);
        match tx.commit() {
            Ok(_) => return attempt,
            Err(LedgerError::OccConflict(_)) => continue,
            Err(e) => panic!("transfer failed: {e:?}"),
        }
    }
    unreachable!()
}

/// Read-only audits while the transfers run: two statements each read half of the accounts
/// (through `IN` on the index); every audit that commits must have seen the full total.
/// Returns (committed audits, conflicts).
fn audit_until(c: &Client<'_>, done: &AtomicBool) -> (usize, usize) {
    let half = |tx: &mut Tx<'_, '_>, accts: &str| -> i64 {
        let rows = tx
            .exec(
                &format!("SELECT VALUE balance FROM Accounts WHERE acct IN ({accts})"),
                &[],
            )
            .unwrap();
        assert_eq!(rows.len(), ACCOUNTS as usize / 2);
        rows.iter().map(|e| e.as_i64().unwrap()).sum()
    };
    let (mut ok, mut conflicts) = (0, 0);
    while !done.load(Ordering::Acquire) {
        let mut tx = c.begin().unwrap();
        let first = half(&mut tx, "0, 1, 2, 3, 4");
        std::thread::yield_now();
        let second = half(&mut tx, "5, 6, 7, 8, 9");
        match tx.commit() {
            Ok(_) => {
                assert_eq!(
                    first + second,
                    ACCOUNTS * INITIAL,
                    "a committed read-only transaction saw a torn state"
                );
                ok += 1;
            }
            Err(LedgerError::OccConflict(_)) => conflicts += 1,
            Err(e) => panic!("audit failed: {e:?}"),
        }
    }
    (ok, conflicts)
}

/// The transfers one thread committed, and its number of attempts.
type ThreadResult = (Vec<Transfer>, usize);

/// Runs `per_thread` transfers on each of THREADS sessions (half computing balances in the
/// client, half in the engine) next to an auditing session, and checks the outcome.
fn run_bank(engine: &Engine, per_thread: usize) {
    setup(engine);
    let done = AtomicBool::new(false);
    let (results, audits): (Vec<ThreadResult>, (usize, usize)) = std::thread::scope(|s| {
        let done = &done;
        let auditor = s.spawn(move || audit_until(&Client::new(engine, L), done));
        let handles: Vec<_> = (0..THREADS)
            .map(|th| {
                s.spawn(move || {
                    let c = Client::new(engine, L);
                    let mut rng = StdRng::seed_from_u64(0xBA4C + th as u64);
                    let mut done = Vec::with_capacity(per_thread);
                    let mut attempts = 0;
                    for _ in 0..per_thread {
                        let from = rng.gen_range(0..ACCOUNTS);
                        let to = (from + rng.gen_range(1..ACCOUNTS)) % ACCOUNTS;
                        let t = Transfer {
                            from,
                            to,
                            amount: rng.gen_range(1..=100),
                        };
                        attempts += transfer(&c, t, th % 2 == 0);
                        done.push(t);
                    }
                    (done, attempts)
                })
            })
            .collect();
        let results = handles.into_iter().map(|h| h.join().unwrap()).collect();
        done.store(true, Ordering::Release);
        (results, auditor.join().unwrap())
    });
    eprintln!("audits: {} committed, {} OCC conflicts", audits.0, audits.1);

    let committed: Vec<Transfer> = results.iter().flat_map(|(d, _)| d.clone()).collect();
    let attempts: usize = results.iter().map(|(_, a)| a).sum();
    let n = THREADS * per_thread;
    assert_eq!(committed.len(), n, "every transfer committed exactly once");
    assert!(attempts >= n);
    eprintln!(
        "{n} transfers took {attempts} attempts ({} OCC retries)",
        attempts - n
    );

    // Replay the acknowledged transfers serially.
    let mut expected: BTreeMap<i64, i64> = (0..ACCOUNTS).map(|i| (i, INITIAL)).collect();
    let mut touches: BTreeMap<i64, i64> = BTreeMap::new();
    for t in &committed {
        *expected.get_mut(&t.from).unwrap() -= t.amount;
        *expected.get_mut(&t.to).unwrap() += t.amount;
        *touches.entry(t.from).or_default() += 1;
        *touches.entry(t.to).or_default() += 1;
    }

    let c = Client::new(engine, L);
    let rows = c
        .run(
            "SELECT c.data.acct, c.data.balance, c.metadata.version FROM _ql_committed_Accounts AS c",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), ACCOUNTS as usize);
    let mut actual = BTreeMap::new();
    for r in &rows {
        let acct = field(r, "acct").as_i64().unwrap();
        let balance = field(r, "balance").as_i64().unwrap();
        let version = field(r, "version").as_i64().unwrap();
        actual.insert(acct, balance);
        // Every committed transfer wrote each of its two accounts once: no write lost or doubled.
        assert_eq!(
            version,
            touches.get(&acct).copied().unwrap_or(0),
            "revisions of account {acct}"
        );
    }
    assert_eq!(
        actual, expected,
        "balances equal a replay of the committed transfers"
    );
    let sum = c
        .run("SELECT VALUE SUM(balance) FROM Accounts", &[])
        .unwrap();
    assert_eq!(
        sum,
        vec![Element::int(ACCOUNTS * INITIAL)],
        "money is conserved"
    );
    let revisions = c
        .run("SELECT COUNT(*) FROM history(Accounts)", &[])
        .unwrap();
    assert_eq!(
        revisions,
        vec![ion(&format!("{{_1: {}}}", ACCOUNTS as usize + 2 * n))]
    );

    let report = engine.ledger(L).unwrap().verify().unwrap();
    // Genesis, 3 setup blocks, one per committed transfer and audit, and the 3 checking reads.
    assert_eq!(report.blocks, 1 + 3 + n as u64 + audits.0 as u64 + 3);
    assert_eq!(report.digest, engine.get_digest(L).unwrap().0);
}

#[test]
fn concurrent_transfers_memory_engine() {
    let engine = memory_engine(L);
    run_bank(&engine, 150);
}

#[test]
fn concurrent_transfers_file_engine() {
    let dir = tempfile::tempdir().unwrap();
    let digest = {
        let engine = Engine::open_dir(dir.path(), EngineConfig::default()).unwrap();
        engine.create_ledger(CreateLedgerRequest::new(L)).unwrap();
        run_bank(&engine, 60);
        engine.get_digest(L).unwrap()
    };
    // The journal on disk holds the same ledger.
    let engine = Engine::open_dir(dir.path(), EngineConfig::default()).unwrap();
    assert_eq!(engine.get_digest(L).unwrap(), digest);
    engine.ledger(L).unwrap().verify().unwrap();
    let c = Client::new(&engine, L);
    let sum = c
        .run("SELECT VALUE SUM(balance) FROM Accounts", &[])
        .unwrap();
    assert_eq!(sum, vec![Element::int(ACCOUNTS * INITIAL)]);
}
