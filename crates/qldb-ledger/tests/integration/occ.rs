//! Optimistic concurrency control (`spec/semantics.md` §4): what conflicts, what does not,
//! phantoms through index probes, `BY` id reads, read-only validation, and one journal block per
//! commit (`spec/semantics.md` §3).

use crate::support::*;
use ion_rs::Element;
use qldb_ledger::{Engine, LedgerError};

const L: &str = "ledger";

fn assert_occ<T: std::fmt::Debug>(r: Result<T, LedgerError>, what: &str) {
    match r {
        Err(e @ LedgerError::OccConflict(_)) => {
            assert_eq!(e.code(), "OccConflictException", "{what}");
            assert!(
                !e.message().is_empty(),
                "{what}: OCC errors carry a message"
            );
        }
        other => panic!("{what}: expected OccConflictException, got {other:?}"),
    }
}

/// Table `T` with `{id: i, v: 0}` for i in 0..n (no index).
fn table_with_docs(engine: &Engine, n: i64) {
    let c = Client::new(engine, L);
    c.run("CREATE TABLE T", &[]).unwrap();
    for i in 0..n {
        c.run("INSERT INTO T VALUE {'id': ?, 'v': 0}", &[Element::int(i)])
            .unwrap();
    }
}

/// Table `K` with an index on `k` and documents `{k: 'a', v: 0}`, `{k: 'b', v: 0}`.
fn indexed_table(engine: &Engine) {
    let c = Client::new(engine, L);
    c.run("CREATE TABLE K", &[]).unwrap();
    c.run("CREATE INDEX ON K (k)", &[]).unwrap();
    c.run(
        "INSERT INTO K << {'k': 'a', 'v': 0}, {'k': 'b', 'v': 0} >>",
        &[],
    )
    .unwrap();
}

#[test]
fn read_only_scan_conflicts_with_a_later_committed_update() {
    let engine = memory_engine(L);
    table_with_docs(&engine, 3);
    let a = Client::new(&engine, L);
    let b = Client::new(&engine, L);

    let mut ta = a.begin().unwrap();
    assert_eq!(ta.exec("SELECT * FROM T", &[]).unwrap().len(), 3);
    // B starts and commits inside A's lifetime, after A's scan.
    b.run("UPDATE T SET v = 1 WHERE id = 1", &[]).unwrap();
    let tip_before = tip_seq(&engine, L);
    assert_occ(ta.commit(), "read-only scan then concurrent update");
    assert_eq!(
        tip_seq(&engine, L),
        tip_before,
        "a failed commit writes no block"
    );

    // The OCC failure closed the transaction: the session takes a new one at once.
    let again = engine.commit_transaction(&a.token, "AAAAAAAAAAAAAAAAAAAAAA", &[0; 32]);
    assert!(
        matches!(&again, Err(LedgerError::BadRequest(m)) if m == "No open transaction"),
        "{again:?}"
    );
    let rows = a.run("SELECT VALUE v FROM T WHERE id = 1", &[]).unwrap();
    assert_eq!(rows, vec![ion("1")]);
}

/// `spec/semantics.md` §4.2: "fail … if any transaction that committed after this one *started*
/// wrote a document in a scanned table". B commits after A started but before A's scan.
#[test]
fn scan_conflicts_with_an_update_committed_after_start_but_before_the_scan() {
    let engine = memory_engine(L);
    table_with_docs(&engine, 3);
    let a = Client::new(&engine, L);
    let b = Client::new(&engine, L);

    let mut ta = a.begin().unwrap();
    b.run("UPDATE T SET v = 1 WHERE id = 1", &[]).unwrap();
    ta.exec("SELECT * FROM T", &[]).unwrap();
    ta.exec("UPDATE T SET v = 2 WHERE id = 0", &[]).unwrap();
    assert_occ(
        ta.commit(),
        "scan of a table written by a transaction that committed after this one started",
    );
}

#[test]
fn scan_then_update_conflicts_with_a_concurrent_update() {
    let engine = memory_engine(L);
    table_with_docs(&engine, 3);
    let a = Client::new(&engine, L);
    let b = Client::new(&engine, L);

    let mut ta = a.begin().unwrap();
    let mut tb = b.begin().unwrap();
    ta.exec("SELECT * FROM T", &[]).unwrap();
    ta.exec("UPDATE T SET v = 10 WHERE id = 0", &[]).unwrap();
    tb.exec("UPDATE T SET v = 20 WHERE id = 2", &[]).unwrap();
    tb.commit().unwrap();
    assert_occ(ta.commit(), "scan + write vs. concurrent write");
    // A's write was discarded.
    let rows = a.run("SELECT VALUE v FROM T WHERE id = 0", &[]).unwrap();
    assert_eq!(rows, vec![ion("0")]);
    // And a new transaction on the same session succeeds.
    a.run("UPDATE T SET v = 10 WHERE id = 0", &[]).unwrap();
    let mut vs = a.run("SELECT VALUE v FROM T", &[]).unwrap();
    vs.sort_by_key(|e| e.as_i64());
    assert_eq!(vs, vec![ion("0"), ion("10"), ion("20")]);
}

#[test]
fn scan_conflicts_with_a_concurrent_insert_and_delete() {
    let engine = memory_engine(L);
    table_with_docs(&engine, 2);
    let a = Client::new(&engine, L);
    let b = Client::new(&engine, L);

    // An insert is a phantom for a scan.
    let mut ta = a.begin().unwrap();
    assert_eq!(
        ta.exec("SELECT COUNT(*) FROM T", &[]).unwrap(),
        vec![ion("{_1: 2}")]
    );
    b.run("INSERT INTO T VALUE {'id': 2, 'v': 0}", &[]).unwrap();
    assert_occ(ta.commit(), "scan vs. concurrent insert");

    // So is a delete.
    let mut ta = a.begin().unwrap();
    ta.exec("SELECT * FROM T WHERE v > 5", &[]).unwrap();
    b.run("DELETE FROM T WHERE id = 2", &[]).unwrap();
    assert_occ(ta.commit(), "scan vs. concurrent delete");
}

#[test]
fn scans_of_other_tables_do_not_conflict() {
    let engine = memory_engine(L);
    table_with_docs(&engine, 2);
    let a = Client::new(&engine, L);
    let b = Client::new(&engine, L);
    a.run("CREATE TABLE U", &[]).unwrap();
    a.run("INSERT INTO U VALUE {'x': 1}", &[]).unwrap();

    let mut ta = a.begin().unwrap();
    ta.exec("SELECT * FROM U", &[]).unwrap();
    ta.exec("UPDATE U SET x = 2", &[]).unwrap();
    b.run("UPDATE T SET v = 5", &[]).unwrap();
    ta.commit().unwrap();
}

#[test]
fn disjoint_indexed_point_reads_and_writes_do_not_conflict() {
    let engine = memory_engine(L);
    indexed_table(&engine);
    let a = Client::new(&engine, L);
    let b = Client::new(&engine, L);

    let mut ta = a.begin().unwrap();
    let mut tb = b.begin().unwrap();
    let ra = ta
        .exec("SELECT VALUE v FROM K WHERE k = ?", &[ion("\"a\"")])
        .unwrap();
    let rb = tb
        .exec("SELECT VALUE v FROM K WHERE k = ?", &[ion("\"b\"")])
        .unwrap();
    assert_eq!((ra, rb), (vec![ion("0")], vec![ion("0")]));
    ta.exec("UPDATE K SET v = 1 WHERE k = ?", &[ion("\"a\"")])
        .unwrap();
    tb.exec("UPDATE K SET v = 2 WHERE k = ?", &[ion("\"b\"")])
        .unwrap();
    ta.commit().unwrap();
    tb.commit().unwrap();

    let mut rows = a.run("SELECT k, v FROM K", &[]).unwrap();
    rows.sort_by_key(|r| r.to_string());
    assert_eq!(rows, vec![ion("{k: \"a\", v: 1}"), ion("{k: \"b\", v: 2}")]);

    // The same key read by A and written by B does conflict.
    let mut ta = a.begin().unwrap();
    ta.exec("SELECT VALUE v FROM K WHERE k = 'a'", &[]).unwrap();
    b.run("UPDATE K SET v = 3 WHERE k = 'a'", &[]).unwrap();
    assert_occ(
        ta.commit(),
        "indexed read of a key another transaction wrote",
    );

    // IN (…) on the indexed field reads only the listed keys.
    let mut ta = a.begin().unwrap();
    ta.exec("SELECT * FROM K WHERE k IN ('a', 'zz')", &[])
        .unwrap();
    b.run("UPDATE K SET v = 4 WHERE k = 'b'", &[]).unwrap();
    ta.commit().unwrap();
    let mut ta = a.begin().unwrap();
    ta.exec("SELECT * FROM K WHERE k IN ('a', 'zz')", &[])
        .unwrap();
    b.run("INSERT INTO K VALUE {'k': 'zz'}", &[]).unwrap();
    assert_occ(ta.commit(), "IN probe vs. insert of a listed key");
}

#[test]
fn phantom_insert_after_indexed_miss_lets_exactly_one_commit() {
    let engine = memory_engine(L);
    indexed_table(&engine);
    let a = Client::new(&engine, L);
    let b = Client::new(&engine, L);

    let mut ta = a.begin().unwrap();
    let mut tb = b.begin().unwrap();
    for t in [&mut ta, &mut tb] {
        let found = t
            .exec("SELECT * FROM K WHERE k = ?", &[ion("\"x\"")])
            .unwrap();
        assert!(found.is_empty());
    }
    ta.exec("INSERT INTO K VALUE {'k': 'x', 'who': 'a'}", &[])
        .unwrap();
    tb.exec("INSERT INTO K VALUE {'k': 'x', 'who': 'b'}", &[])
        .unwrap();
    ta.commit().unwrap();
    assert_occ(tb.commit(), "second insert of a key both probed");
    let rows = a.run("SELECT VALUE who FROM K WHERE k = 'x'", &[]).unwrap();
    assert_eq!(
        rows,
        vec![ion("\"a\"")],
        "exactly one document with k = 'x'"
    );

    // A probe of one key is not disturbed by a concurrent insert of another key.
    let mut ta = a.begin().unwrap();
    assert!(ta
        .exec("SELECT * FROM K WHERE k = 'y'", &[])
        .unwrap()
        .is_empty());
    b.run("INSERT INTO K VALUE {'k': 'w'}", &[]).unwrap();
    ta.exec("INSERT INTO K VALUE {'k': 'y'}", &[]).unwrap();
    ta.commit().unwrap();

    // An update that moves a document into the probed key is a phantom too.
    let mut ta = a.begin().unwrap();
    assert!(ta
        .exec("SELECT * FROM K WHERE k = 'q'", &[])
        .unwrap()
        .is_empty());
    b.run("UPDATE K SET k = 'q' WHERE k = 'w'", &[]).unwrap();
    ta.exec("INSERT INTO K VALUE {'k': 'q'}", &[]).unwrap();
    assert_occ(ta.commit(), "update into the probed key");
}

#[test]
fn by_id_lookups_conflict_only_on_the_same_document() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE D", &[]).unwrap();
    let ids: Vec<String> = c
        .run("INSERT INTO D << {'n': 1}, {'n': 2} >>", &[])
        .unwrap()
        .iter()
        .map(|r| text_field(r, "documentId"))
        .collect();
    let id = |i: usize| Element::string(ids[i].as_str());
    let a = Client::new(&engine, L);
    let b = Client::new(&engine, L);

    let read = "SELECT d.n FROM D AS d BY did WHERE did = ?";
    let write = "UPDATE D AS d BY did SET d.n = d.n + 10 WHERE did = ?";
    let mut ta = a.begin().unwrap();
    let mut tb = b.begin().unwrap();
    assert_eq!(ta.exec(read, &[id(0)]).unwrap(), vec![ion("{n: 1}")]);
    assert_eq!(tb.exec(read, &[id(1)]).unwrap(), vec![ion("{n: 2}")]);
    ta.exec(write, &[id(0)]).unwrap();
    tb.exec(write, &[id(1)]).unwrap();
    tb.commit().unwrap();
    ta.commit().unwrap();

    let mut ta = a.begin().unwrap();
    let mut tb = b.begin().unwrap();
    assert_eq!(ta.exec(read, &[id(0)]).unwrap(), vec![ion("{n: 11}")]);
    tb.exec(write, &[id(0)]).unwrap();
    tb.commit().unwrap();
    ta.exec(write, &[id(0)]).unwrap();
    assert_occ(
        ta.commit(),
        "BY id read of a document another transaction wrote",
    );
    let mut ns = c.run("SELECT VALUE n FROM D", &[]).unwrap();
    ns.sort_by_key(|e| e.as_i64());
    assert_eq!(ns, vec![ion("12"), ion("21")]);
}

#[test]
fn three_concurrent_scan_then_update_transactions_conflict() {
    let engine = memory_engine(L);
    table_with_docs(&engine, 3);
    let clients: Vec<Client> = (0..3).map(|_| Client::new(&engine, L)).collect();
    let mut txs: Vec<Tx> = clients.iter().map(|c| c.begin().unwrap()).collect();
    for (i, t) in txs.iter_mut().enumerate() {
        assert_eq!(t.exec("SELECT * FROM T", &[]).unwrap().len(), 3);
        t.exec(
            "UPDATE T SET v = v + 1 WHERE id = ?",
            &[Element::int(i as i64)],
        )
        .unwrap();
    }
    let outcomes: Vec<bool> = txs
        .into_iter()
        .map(|t| match t.commit() {
            Ok(_) => true,
            Err(LedgerError::OccConflict(_)) => false,
            Err(e) => panic!("unexpected commit error {e:?}"),
        })
        .collect();
    assert!(outcomes[0], "the first committer wins");
    let conflicts = outcomes.iter().filter(|ok| !**ok).count();
    assert!(
        conflicts >= 1,
        "at least one OCC conflict, got {outcomes:?}"
    );
    // Only the committed increments are visible.
    let total = clients[0].run("SELECT VALUE SUM(v) FROM T", &[]).unwrap();
    assert_eq!(total, vec![Element::int((3 - conflicts) as i64)]);
}

#[test]
fn concurrent_create_table_of_the_same_name_lets_one_commit() {
    let engine = memory_engine(L);
    let a = Client::new(&engine, L);
    let b = Client::new(&engine, L);
    let mut ta = a.begin().unwrap();
    let mut tb = b.begin().unwrap();
    ta.exec("CREATE TABLE Dup", &[]).unwrap();
    tb.exec("CREATE TABLE Dup", &[]).unwrap();
    ta.commit().unwrap();
    assert_occ(tb.commit(), "second CREATE TABLE of the same name");
    let names = a
        .run(
            "SELECT VALUE name FROM information_schema.user_tables WHERE name = 'Dup'",
            &[],
        )
        .unwrap();
    assert_eq!(names, vec![ion("\"Dup\"")]);
}

#[test]
fn every_commit_adds_one_block_read_only_included() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    let (_, genesis) = engine.get_digest(L).unwrap();
    assert_eq!(
        genesis.sequence_no, 0,
        "a new ledger has its genesis block only"
    );

    let mut expected = genesis.sequence_no;
    let mut step = |what: &str, f: &dyn Fn()| {
        let (before_digest, before) = engine.get_digest(L).unwrap();
        f();
        expected += 1;
        let (after_digest, after) = engine.get_digest(L).unwrap();
        assert_eq!(before.sequence_no + 1, after.sequence_no, "{what}");
        assert_eq!(after.sequence_no, expected, "{what}");
        assert_eq!(after.strand_id, before.strand_id, "{what}: one strand");
        assert_ne!(before_digest, after_digest, "{what}: the digest moves");
    };
    step("DDL", &|| {
        c.run("CREATE TABLE T", &[]).unwrap();
    });
    step("insert", &|| {
        c.run("INSERT INTO T VALUE {'a': 1}", &[]).unwrap();
    });
    step("read-only select", &|| {
        c.run("SELECT * FROM T", &[]).unwrap();
    });
    step("select on an empty result", &|| {
        c.run("SELECT * FROM T WHERE a = 99", &[]).unwrap();
    });
    step("transaction without statements", &|| {
        c.begin().unwrap().commit().unwrap();
    });
    step("update that matches nothing", &|| {
        c.run("UPDATE T SET a = 2 WHERE a = 99", &[]).unwrap();
    });

    // Aborts, failed statements and rejected commits add nothing.
    let before = tip_seq(&engine, L);
    let mut t = c.begin().unwrap();
    t.exec("INSERT INTO T VALUE {'a': 3}", &[]).unwrap();
    engine.abort_transaction(&c.token).unwrap();
    let t = c.begin().unwrap();
    let bad = engine.commit_transaction(&c.token, &t.id, &[7; 32]);
    assert!(matches!(bad, Err(LedgerError::BadRequest(_))), "{bad:?}");
    engine.abort_transaction(&c.token).unwrap();
    assert_eq!(tip_seq(&engine, L), before);
    assert_eq!(
        engine.ledger(L).unwrap().verify().unwrap().blocks,
        before + 1,
        "blocks 0..=tip"
    );
}

#[test]
fn dml_conflicts_with_a_concurrent_drop_of_its_table() {
    let engine = memory_engine(L);
    table_with_docs(&engine, 1);
    let a = Client::new(&engine, L);
    let b = Client::new(&engine, L);
    let mut ta = a.begin().unwrap();
    ta.exec("INSERT INTO T VALUE {'id': 9}", &[]).unwrap();
    b.run("DROP TABLE T", &[]).unwrap();
    assert_occ(ta.commit(), "insert into a table dropped meanwhile");
    let hist = a
        .run(
            "SELECT VALUE tableId FROM information_schema.user_tables WHERE name = 'T'",
            &[],
        )
        .unwrap();
    let rows = a
        .run(
            &format!("SELECT * FROM history('{}')", hist[0].as_text().unwrap()),
            &[],
        )
        .unwrap();
    assert_eq!(
        rows.len(),
        1,
        "the dropped table got no revision from the failed insert"
    );
}
