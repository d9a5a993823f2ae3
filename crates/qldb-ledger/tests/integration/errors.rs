//! Error types and exact messages (`spec/wire-protocol.md` §3, `spec/semantics.md` §1–§3,
//! `spec/partiql.md` §7): session and transaction states, expiry, limits, failed statements that
//! must leave nothing behind, the control plane, and no panic on any statement text.

use crate::support::*;
use ion_rs::Element;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use qldb_ledger::{CreateLedgerRequest, Engine, EngineConfig, LedgerError};
use std::time::Duration;

const L: &str = "errors";

#[track_caller]
fn assert_bad_request<T: std::fmt::Debug>(r: Result<T, LedgerError>, message: Option<&str>) {
    match r {
        Err(e @ LedgerError::BadRequest(_)) => {
            assert_eq!(e.code(), "BadRequestException");
            if let Some(m) = message {
                assert_eq!(e.message(), m);
            }
        }
        other => panic!("expected BadRequestException {message:?}, got {other:?}"),
    }
}

#[track_caller]
fn assert_invalid_session<T: std::fmt::Debug>(r: Result<T, LedgerError>, message: &str) {
    match r {
        Err(e @ LedgerError::InvalidSession(_)) => {
            assert_eq!(e.code(), "InvalidSessionException");
            assert_eq!(e.message(), message);
        }
        other => panic!("expected InvalidSessionException {message:?}, got {other:?}"),
    }
}

fn code<T: std::fmt::Debug>(r: Result<T, LedgerError>) -> &'static str {
    r.unwrap_err().code()
}

fn engine_with_table() -> Engine {
    let engine = memory_engine(L);
    Client::new(&engine, L).run("CREATE TABLE T", &[]).unwrap();
    engine
}

#[test]
fn parameter_count_mismatch() {
    let engine = engine_with_table();
    let c = Client::new(&engine, L);
    let mut tx = c.begin().unwrap();
    assert_bad_request(
        tx.exec("SELECT * FROM T WHERE a = ?", &[ion("1"), ion("2")]),
        Some("Query expects 1 parameters, but statement has 2"),
    );
    assert_bad_request(
        tx.exec("SELECT * FROM T WHERE a = ? AND b = ?", &[]),
        Some("Query expects 2 parameters, but statement has 0"),
    );
    // A `?` inside a string, a quoted identifier or an Ion literal is not a parameter.
    assert_bad_request(
        tx.exec(
            "SELECT * FROM T WHERE a = '?' AND \"?\" = `\"?\"`",
            &[ion("1")],
        ),
        Some("Query expects 0 parameters, but statement has 1"),
    );
    // The failed statements were hashed by both sides: the commit still matches.
    tx.exec("SELECT * FROM T WHERE a = ?", &[ion("1")]).unwrap();
    tx.commit().unwrap();
}

#[test]
fn transaction_state_errors() {
    let engine = engine_with_table();
    let c = Client::new(&engine, L);
    let some_id = "AAAAAAAAAAAAAAAAAAAAAA";
    let msg = Some("No open transaction");
    assert_bad_request(
        engine.execute_statement(&c.token, some_id, "SELECT * FROM T", &[]),
        msg,
    );
    assert_bad_request(engine.fetch_page(&c.token, some_id, "tok"), msg);
    assert_bad_request(engine.commit_transaction(&c.token, some_id, &[0; 32]), msg);
    // Abort with nothing open succeeds.
    engine.abort_transaction(&c.token).unwrap();

    let tx = c.begin().unwrap();
    assert_bad_request(
        engine.start_transaction(&c.token),
        Some("Transaction already open"),
    );
    // A statement for another transaction id is rejected and the open one is unaffected.
    assert_bad_request(
        engine.execute_statement(&c.token, some_id, "SELECT * FROM T", &[]),
        None,
    );
    tx.commit().unwrap();
    // After commit the transaction is closed.
    let tx = c.begin().unwrap();
    let id = tx.id.clone();
    tx.commit().unwrap();
    assert_bad_request(
        engine.execute_statement(&c.token, &id, "SELECT * FROM T", &[]),
        msg,
    );
}

#[test]
fn digest_mismatch() {
    let engine = engine_with_table();
    let c = Client::new(&engine, L);
    let before = tip_seq(&engine, L);
    let mut tx = c.begin().unwrap();
    tx.exec("INSERT INTO T VALUE {'a': 1}", &[]).unwrap();
    let mut wrong = tx.digest.value();
    wrong[0] ^= 1;
    assert_bad_request(
        engine.commit_transaction(&c.token, &tx.id, &wrong),
        Some("Digests don't match"),
    );
    // A digest that skips a statement the server ran does not match either.
    let skipped = qldb_ion::CommitDigest::new(&tx.id).value();
    assert_bad_request(
        engine.commit_transaction(&c.token, &tx.id, &skipped),
        Some("Digests don't match"),
    );
    engine.abort_transaction(&c.token).unwrap();
    assert_eq!(tip_seq(&engine, L), before, "nothing committed");
    assert!(c.run("SELECT * FROM T", &[]).unwrap().is_empty());
}

#[test]
fn unknown_table_duplicate_table_unknown_ledger_unknown_session() {
    let engine = engine_with_table();
    let c = Client::new(&engine, L);
    for stmt in [
        "SELECT * FROM Nope",
        "DELETE FROM NonExistentTable",
        "INSERT INTO Nope VALUE {'a': 1}",
        "UPDATE Nope SET a = 1",
        "SELECT * FROM _ql_committed_Nope",
        "CREATE INDEX ON Nope (a)",
        "DROP TABLE Nope",
    ] {
        assert_bad_request(c.run(stmt, &[]), None);
    }
    assert_bad_request(c.run("CREATE TABLE T", &[]), None);
    // Table names are case sensitive.
    c.run("CREATE TABLE t", &[]).unwrap();

    assert_bad_request(engine.start_session("no-such-ledger"), None);
    assert_invalid_session(engine.start_transaction("bogus-token"), "No such session");
    assert_invalid_session(
        engine.execute_statement(
            "bogus-token",
            "AAAAAAAAAAAAAAAAAAAAAA",
            "SELECT 1 FROM T",
            &[],
        ),
        "No such session",
    );
    assert_invalid_session(engine.abort_transaction("bogus-token"), "No such session");
    // An ended session is gone.
    let token = engine.start_session(L).unwrap().session_token;
    engine.end_session(&token).unwrap();
    assert_invalid_session(engine.start_transaction(&token), "No such session");
}

#[test]
fn transaction_expiry_discards_the_session() {
    let config = EngineConfig {
        transaction_timeout: Duration::from_millis(200),
        ..EngineConfig::default()
    };
    let engine = engine_with(config, L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE T", &[]).unwrap();

    // One session per command that meets the expired transaction; one sleep for all.
    let clients: Vec<Client> = (0..3).map(|_| Client::new(&engine, L)).collect();
    let txs: Vec<Tx> = clients
        .iter()
        .map(|c| {
            let mut tx = c.begin().unwrap();
            tx.exec("INSERT INTO T VALUE {'a': 1}", &[]).unwrap();
            tx
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    for (i, tx) in txs.iter().enumerate() {
        let token = &tx.client.token;
        let expired = format!("Transaction {} has expired", tx.id);
        match i {
            0 => assert_invalid_session(
                engine.execute_statement(token, &tx.id, "SELECT * FROM T", &[]),
                &expired,
            ),
            1 => assert_invalid_session(
                engine.commit_transaction(token, &tx.id, &tx.digest.value()),
                &expired,
            ),
            _ => assert_invalid_session(engine.fetch_page(token, &tx.id, "tok"), &expired),
        }
        // QLDB discards the session.
        assert_invalid_session(engine.start_transaction(token), "No such session");
    }
    // Nothing the expired transactions did was committed.
    assert!(c.run("SELECT * FROM T", &[]).unwrap().is_empty());
}

#[test]
fn session_expiry() {
    let config = EngineConfig {
        session_lifetime: (Duration::from_millis(100), Duration::from_millis(100)),
        ..EngineConfig::default()
    };
    let engine = engine_with(config, L);
    let started = engine.start_session(L).unwrap();
    engine.start_transaction(&started.session_token).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    assert_invalid_session(
        engine.start_transaction(&started.session_token),
        &format!("Session {} has expired", started.session_id),
    );
    assert_invalid_session(
        engine.start_transaction(&started.session_token),
        "No such session",
    );
}

#[test]
fn oversized_document_is_rejected_and_nothing_written() {
    let engine = engine_with_table();
    let c = Client::new(&engine, L);
    let big = "x".repeat(130 * 1024);
    let mut tx = c.begin().unwrap();
    assert_bad_request(
        tx.exec(
            "INSERT INTO T VALUE {'pad': ?}",
            &[Element::string(big.as_str())],
        ),
        None,
    );
    assert_bad_request(
        tx.exec(
            "INSERT INTO T << {'a': 1}, {'pad': ?} >>",
            &[Element::string(big.as_str())],
        ),
        None,
    );
    assert_eq!(
        tx.exec("SELECT COUNT(*) FROM T", &[]).unwrap(),
        vec![ion("{_1: 0}")]
    );
    // Just below the limit is fine; growing it past the limit by UPDATE is not.
    let fits = "y".repeat(120 * 1024);
    tx.exec(
        "INSERT INTO T VALUE {'k': 1, 'pad': ?}",
        &[Element::string(fits.as_str())],
    )
    .unwrap();
    assert_bad_request(
        tx.exec("UPDATE T SET more = pad || pad WHERE k = 1", &[]),
        None,
    );
    tx.commit().unwrap();
    let rows = c
        .run("SELECT VALUE k FROM T WHERE more IS MISSING", &[])
        .unwrap();
    assert_eq!(rows, vec![ion("1")]);
    assert_eq!(
        c.run("SELECT COUNT(*) FROM T", &[]).unwrap(),
        vec![ion("{_1: 1}")]
    );
}

/// A transaction whose journal block would pass 32 MiB is refused at commit with a BadRequest
/// (not a storage failure a driver would retry), writes nothing, and leaves the session usable.
#[test]
fn oversized_transaction_is_a_bad_request_and_writes_nothing() {
    let engine = engine_with_table();
    let c = Client::new(&engine, L);
    let tip_before = tip_seq(&engine, L);
    let pad = Element::string("z".repeat(120 * 1024));
    let mut tx = c.begin().unwrap();
    // 300 documents of ~120 KiB: ~36 MiB of data in one block.
    for _ in 0..300 {
        tx.exec("INSERT INTO T VALUE {'pad': ?}", std::slice::from_ref(&pad))
            .unwrap();
    }
    match tx.commit() {
        Err(e @ LedgerError::BadRequest(_)) => {
            assert!(e.message().contains("Transaction too large"), "{e}")
        }
        other => panic!("expected BadRequest, got {other:?}"),
    }
    assert_eq!(tip_seq(&engine, L), tip_before, "no block was written");
    assert_eq!(
        c.run("SELECT COUNT(*) FROM T", &[]).unwrap(),
        vec![ion("{_1: 0}")]
    );
}

/// 128 KB of Ion binary is the largest document; one byte more is rejected.
#[test]
fn document_size_limit_is_exact() {
    let engine = engine_with_table();
    let c = Client::new(&engine, L);
    let doc = |n: usize| -> Element {
        Element::struct_builder()
            .with_field("pad", Element::string("x".repeat(n)))
            .build()
            .into()
    };
    let size = |e: &Element| e.encode_as(ion_rs::v1_0::Binary).unwrap().len();
    let limit = 128 * 1024;
    // Find the pad whose document encodes to exactly the limit.
    let mut n = limit - 64;
    while size(&doc(n)) < limit {
        n += 1;
    }
    assert_eq!(size(&doc(n)), limit, "a pad that hits the limit exactly");
    assert_eq!(size(&doc(n + 1)), limit + 1);
    let mut tx = c.begin().unwrap();
    tx.exec("INSERT INTO T ?", &[doc(n)]).unwrap();
    assert_bad_request(tx.exec("INSERT INTO T ?", &[doc(n + 1)]), None);
    assert_bad_request(tx.exec("UPDATE T SET pad = pad || 'y'", &[]), None);
    tx.commit().unwrap();
    assert_eq!(
        c.run("SELECT VALUE CHAR_LENGTH(pad) FROM T", &[]).unwrap(),
        vec![Element::int(n as i64)]
    );
}

#[test]
fn failed_statements_leave_nothing_behind_and_the_transaction_usable() {
    let engine = engine_with_table();
    let c = Client::new(&engine, L);
    c.run(
        "INSERT INTO T << {'n': 1, 'v': 5}, {'n': 2, 'v': 0}, {'n': 3, 'v': 2} >>",
        &[],
    )
    .unwrap();
    let before = c.run("SELECT * FROM T", &[]).unwrap();

    let mut tx = c.begin().unwrap();
    for stmt in [
        "SELEC * FROM T",
        "SELECT * FROM T WHERE",
        "INSERT INTO T VALUE {'a': }",
        "UPDATE T SET",
    ] {
        assert_bad_request(tx.exec(stmt, &[]), None);
    }
    // Fails on the second document: the first must not be changed either.
    assert_bad_request(
        tx.exec("UPDATE T SET v = 10 / v, touched = true", &[]),
        None,
    );
    assert_same_multiset(
        &tx.exec("SELECT * FROM T", &[]).unwrap(),
        &before,
        "after a failed UPDATE",
    );
    // A multi-document INSERT with one bad value inserts nothing.
    assert_bad_request(tx.exec("INSERT INTO T << {'n': 4}, 5 >>", &[]), None);
    assert_bad_request(
        tx.exec("INSERT INTO T ?", &[ion("[{n: 4}, \"not a struct\"]")]),
        None,
    );
    assert_same_multiset(
        &tx.exec("SELECT * FROM T", &[]).unwrap(),
        &before,
        "after a failed INSERT",
    );
    // The transaction still works and commits.
    tx.exec("UPDATE T SET v = v + 1 WHERE n = 2", &[]).unwrap();
    tx.commit().unwrap();
    assert_eq!(
        c.run("SELECT VALUE v FROM T WHERE n = 2", &[]).unwrap(),
        vec![ion("1")]
    );
    assert_eq!(
        c.run("SELECT COUNT(*) FROM T WHERE touched IS NOT MISSING", &[])
            .unwrap(),
        vec![ion("{_1: 0}")]
    );
}

#[test]
fn table_limits() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.txn(|t| {
        for i in 0..20 {
            t.exec(&format!("CREATE TABLE A{i}"), &[])?;
        }
        Ok(())
    })
    .unwrap();
    assert_bad_request(c.run("CREATE TABLE A20", &[]), None);
    // Dropped tables free an active slot but still count toward the total of 40.
    c.run("DROP TABLE A0", &[]).unwrap();
    c.run("CREATE TABLE B0", &[]).unwrap();
    assert_bad_request(c.run("CREATE TABLE B1", &[]), None);
    for i in 1..20 {
        c.run(&format!("DROP TABLE A{i}"), &[]).unwrap();
        c.run(&format!("CREATE TABLE B{i}"), &[]).unwrap();
    }
    // 40 tables exist now (20 inactive, 20 active).
    c.run("DROP TABLE B0", &[]).unwrap();
    assert_bad_request(
        c.run("CREATE TABLE C0", &[]),
        Some("Exceeded tables limit: Ledger has 40 total tables, and cannot create another."),
    );
    let n = c
        .run("SELECT COUNT(*) FROM information_schema.user_tables", &[])
        .unwrap();
    assert_eq!(n, vec![ion("{_1: 40}")]);
}

#[test]
fn order_by_group_by_and_limit_rejected() {
    let engine = engine_with_table();
    let c = Client::new(&engine, L);
    c.run("INSERT INTO T << {'a': 2}, {'a': 1} >>", &[])
        .unwrap();
    // QLDB never supported ORDER BY: it is refused wherever it appears, naming the feature.
    for stmt in [
        "SELECT VALUE a FROM T ORDER BY a",
        "SELECT * FROM T AS t WHERE t.a > 0 ORDER BY t.a DESC, t.b",
        "SELECT * FROM T WHERE a IN (SELECT VALUE a FROM T ORDER BY a)",
        "SELECT * FROM T ORDER BY a LIMIT 1",
        "UPDATE T SET b = 1 WHERE a = 1 ORDER BY a",
        "DELETE FROM T WHERE a = 1 ORDER BY a",
    ] {
        match c.run(stmt, &[]) {
            Err(e @ LedgerError::BadRequest(_)) => {
                assert_eq!(e.code(), "BadRequestException");
                assert!(e.message().contains("ORDER BY"), "{stmt}: {e:?}");
            }
            other => panic!("{stmt}: expected BadRequestException, got {other:?}"),
        }
    }
    // The rejected DML changed nothing.
    assert_same_multiset(
        &c.run("SELECT VALUE {'a': a, 'b': b} FROM T", &[]).unwrap(),
        &[ion("{a: 1}"), ion("{a: 2}")],
        "after rejected ORDER BY",
    );
    for stmt in [
        "SELECT a FROM T GROUP BY a",
        "SELECT * FROM T LIMIT 1",
        "SELECT * FROM T OFFSET 1",
        "SELECT DISTINCT a FROM T",
        "SELECT * FROM T AS x LEFT JOIN T AS y ON x.a = y.a",
        "SELECT * FROM T UNION SELECT * FROM T",
        "SELECT * FROM T HAVING a = 1",
    ] {
        assert_bad_request(c.run(stmt, &[]), None);
    }
}

#[test]
fn control_plane_errors() {
    let engine = Engine::memory(EngineConfig::default());
    engine
        .create_ledger(CreateLedgerRequest::new("prot"))
        .unwrap();

    // Deletion protection is on by default.
    let e = engine.delete_ledger("prot").unwrap_err();
    assert!(
        matches!(e, LedgerError::ResourcePreconditionNotMet { .. }),
        "{e:?}"
    );
    assert_eq!(e.code(), "ResourcePreconditionNotMetException");
    assert!(engine.describe_ledger("prot").is_ok(), "still there");
    engine.update_ledger("prot", Some(false), None).unwrap();
    engine.delete_ledger("prot").unwrap();

    assert_eq!(
        code(engine.describe_ledger("prot")),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(engine.delete_ledger("prot")),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(engine.update_ledger("prot", Some(true), None)),
        "ResourceNotFoundException"
    );
    assert_eq!(code(engine.get_digest("prot")), "ResourceNotFoundException");

    engine
        .create_ledger(CreateLedgerRequest::new("dup"))
        .unwrap();
    let e = engine
        .create_ledger(CreateLedgerRequest::new("dup"))
        .unwrap_err();
    assert!(
        matches!(e, LedgerError::ResourceAlreadyExists { .. }),
        "{e:?}"
    );
    assert_eq!(e.code(), "ResourceAlreadyExistsException");
    let long = "n".repeat(33);
    for bad in ["", "-x", "x-", "a--b", "123", "has space", long.as_str()] {
        let e = engine
            .create_ledger(CreateLedgerRequest::new(bad))
            .unwrap_err();
        assert_eq!(e.code(), "InvalidParameterException", "{bad:?}");
    }
    // Sessions on a deleted ledger are gone.
    engine.update_ledger("dup", Some(false), None).unwrap();
    let token = engine.start_session("dup").unwrap().session_token;
    engine.delete_ledger("dup").unwrap();
    assert_invalid_session(engine.start_transaction(&token), "No such session");
    assert_bad_request(engine.start_session("dup"), None);
}

/// Statement-like text: keywords, names, literals, operators and parameters in random order.
fn statement_text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        proptest::sample::select(vec![
            "SELECT",
            "VALUE",
            "FROM",
            "WHERE",
            "AND",
            "OR",
            "NOT",
            "INSERT",
            "INTO",
            "UPDATE",
            "SET",
            "REMOVE",
            "DELETE",
            "CREATE",
            "DROP",
            "UNDROP",
            "TABLE",
            "INDEX",
            "ON",
            "AS",
            "AT",
            "BY",
            "IN",
            "IS",
            "NULL",
            "MISSING",
            "LIKE",
            "BETWEEN",
            "EXISTS",
            "ORDER",
            "GROUP",
            "LIMIT",
            "JOIN",
            "INNER",
            "CROSS",
            "HAVING",
            "WITH",
            "EXEC",
            "history",
            "COUNT",
            "SUM",
            "AVG",
            "MIN",
            "MAX",
            "SIZE",
            "CAST",
            "DATE_ADD",
            "DATE_DIFF",
            "EXTRACT",
            "TO_STRING",
            "TO_TIMESTAMP",
            "UTCNOW",
            "TXID",
            "SUBSTRING",
            "TRIM",
            "UPPER",
            "LOWER",
            "COALESCE",
            "NULLIF",
            "CHAR_LENGTH",
            "T",
            "t",
            "a",
            "b",
            "x",
            "_ql_committed_T",
            "information_schema",
            "user_tables",
            "*",
            ",",
            ".",
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            "<<",
            ">>",
            "=",
            "<>",
            "<",
            ">",
            "<=",
            ">=",
            "+",
            "-",
            "/",
            "%",
            "||",
            "?",
            ":",
            "@",
            "'a'",
            "'x'",
            "''",
            "1",
            "0",
            "-1",
            "1.5",
            "1e3",
            "99999999999999999999999",
            "`1`",
            "`{a:1}`",
            "`2020T`",
            "`[1,(2)]`",
            "\"T\"",
            "'",
            "\"",
            "`",
            "true",
            "false",
            "year",
            "AS",
            "decimal",
            "string",
            "LEADING",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z_0-9'\"`{}()\\[\\]<>=!.,;:?@#$%^&*+|~ \\-]{1,6}",
    ];
    let prefix = proptest::sample::select(vec![
        "",
        "",
        "SELECT * FROM T WHERE ",
        "SELECT VALUE ",
        "SELECT a, ",
        "SELECT * FROM T AS p, p.l AS x WHERE ",
        "UPDATE T SET a = ",
        "UPDATE T AS p SET p.b = 1 WHERE ",
        "INSERT INTO T VALUE ",
        "DELETE FROM T WHERE ",
        "FROM T AS p WHERE p.a = 1 INSERT INTO p.l VALUE ",
        "SELECT * FROM history(T) AS h WHERE ",
    ]);
    (prefix, proptest::collection::vec(token, 1..24))
        .prop_map(|(p, t)| format!("{p}{}", t.join(" ")))
}

/// Well-formed-ish expressions over the fixture's fields, so evaluation (not only parsing) runs.
fn expression() -> impl Strategy<Value = String> {
    let leaf = proptest::sample::select(vec![
        "a",
        "b",
        "x",
        "l",
        "t",
        "p.a",
        "p.l[0]",
        "p.l[1].c",
        "p.*",
        "?",
        "1",
        "0",
        "-7",
        "2.5",
        "1e0",
        "'x'",
        "'%'",
        "''",
        "null",
        "missing",
        "true",
        "`2020-01-01T`",
        "`{c: 2}`",
        "`[1, 2]`",
        "`(1 2)`",
        "`{{aGk=}}`",
        "<<1, 2>>",
        "UTCNOW()",
        "TXID()",
        "99999999999999999999999999999",
    ])
    .prop_map(str::to_string);
    leaf.prop_recursive(4, 32, 3, |inner| {
        let bin = proptest::sample::select(vec![
            "+", "-", "*", "/", "%", "=", "<>", "<", ">", "<=", ">=", "AND", "OR", "||", "LIKE",
        ]);
        let func = proptest::sample::select(vec![
            "UPPER",
            "LOWER",
            "CHAR_LENGTH",
            "SIZE",
            "EXISTS",
            "COALESCE",
            "TRIM",
            "COUNT",
            "SUM",
            "MIN",
            "MAX",
            "AVG",
        ]);
        let date = proptest::sample::select(vec!["DATE_ADD", "DATE_DIFF"]);
        let ty = proptest::sample::select(vec![
            "int",
            "decimal",
            "string",
            "symbol",
            "list",
            "bool",
            "timestamp",
            "blob",
            "struct",
            "float",
        ]);
        prop_oneof![
            (inner.clone(), bin, inner.clone()).prop_map(|(l, o, r)| format!("({l} {o} {r})")),
            (func, inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
            (date, inner.clone(), inner.clone())
                .prop_map(|(f, a, b)| format!("{f}(day, {a}, {b})")),
            (inner.clone(), ty).prop_map(|(a, t)| format!("CAST({a} AS {t})")),
            inner.clone().prop_map(|a| format!("NOT {a}")),
            inner.clone().prop_map(|a| format!("{a} IS NULL")),
            inner.clone().prop_map(|a| format!("{a} IS MISSING")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{{'k': {a}, 'm': {b}}}")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("{a} IN ({b}, {c})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("{a} BETWEEN {b} AND {c}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("SUBSTRING({a}, {b})")),
            inner.prop_map(|a| format!("(SELECT VALUE {a} FROM T AS q)")),
        ]
    })
}

pub(crate) fn generated_statement() -> impl Strategy<Value = (String, usize)> {
    let e = expression;
    prop_oneof![
        (e(), e()).prop_map(|(a, w)| format!("SELECT {a} FROM T AS p WHERE {w}")),
        (e(), e())
            .prop_map(|(a, w)| format!("SELECT VALUE {a} FROM T AS p, p.l AS y AT i WHERE {w}")),
        (e(), e()).prop_map(|(a, w)| format!(
            "SELECT {a} AS r, COUNT(*) FROM T AS p BY pid WHERE pid = {w}"
        )),
        e().prop_map(|w| format!("SELECT p.a, p.b AS c FROM T AS p WHERE {w}")),
        (e(), e()).prop_map(|(a, w)| format!("UPDATE T AS p SET p.a = {a} WHERE {w}")),
        (e(), e()).prop_map(|(a, w)| format!("UPDATE T AS p INSERT INTO p.l VALUE {a} WHERE {w}")),
        e().prop_map(|w| format!("UPDATE T AS p REMOVE p.l[0] WHERE {w}")),
        e().prop_map(|a| format!("INSERT INTO T VALUE {a}")),
        e().prop_map(|w| format!("DELETE FROM T AS p WHERE {w}")),
        (e(), e()).prop_map(|(a, w)| format!("FROM T AS p, p.l AS y WHERE {w} SET y = {a}")),
        e().prop_map(|w| format!("SELECT * FROM history(T) AS p WHERE {w}")),
        e().prop_map(|w| format!("SELECT * FROM _ql_committed_T AS p WHERE {w}")),
        e().prop_map(|w| format!("SELECT * FROM information_schema.user_tables AS p WHERE {w}")),
    ]
    .prop_map(|s| {
        let n = s.matches('?').count();
        (s, n)
    })
}

#[test]
fn random_statement_text_never_panics() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE T", &[]).unwrap();
    c.run("CREATE INDEX ON T (a)", &[]).unwrap();
    c.run(
        "INSERT INTO T << {'a': 1, 'b': 'x', 'l': [1, {'c': 2}]}, {'a': 'x', 'b': 2.5, 't': `2020-01-01T`}, {'x': null} >>",
        &[],
    )
    .unwrap();
    let params = [
        ion("1"),
        ion("\"x\""),
        ion("{a: 1}"),
        ion("[1, 2]"),
        ion("null"),
    ];
    let ok = std::sync::atomic::AtomicUsize::new(0);
    let run = |text: &str, nparams: usize| {
        let tx = engine.start_transaction(&c.token).unwrap();
        let p: Vec<Element> = params.iter().take(nparams).cloned().collect();
        if engine.execute_statement(&c.token, &tx, text, &p).is_ok() {
            ok.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        engine.abort_transaction(&c.token).unwrap();
    };
    let mut runner = TestRunner::new(Config {
        cases: 768,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(statement_text(), 0..3usize), |(text, n)| {
            run(&text, n);
            Ok(())
        })
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 768,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&generated_statement(), |(text, n)| {
            run(&text, n);
            Ok(())
        })
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(any::<String>(), 0..2usize), |(text, n)| {
            run(&text, n);
            Ok(())
        })
        .unwrap();
    eprintln!("{} random statements succeeded", ok.into_inner());
    // The fixture is intact: every statement was aborted.
    assert_eq!(
        c.run("SELECT COUNT(*) FROM T", &[]).unwrap(),
        vec![ion("{_1: 3}")]
    );
}

#[test]
fn statement_length_index_and_session_limits() {
    let engine = engine_with_table();
    let c = Client::new(&engine, L);
    let mut tx = c.begin().unwrap();
    assert_bad_request(tx.exec("", &[]), None);
    let long = format!("SELECT * FROM T WHERE a = '{}'", "x".repeat(100_000));
    assert_bad_request(tx.exec(&long, &[]), None);
    let just_fits = format!("SELECT * FROM T WHERE a = '{}'", "x".repeat(100_000 - 28));
    assert_eq!(just_fits.chars().count(), 100_000);
    tx.exec(&just_fits, &[]).unwrap();
    tx.commit().unwrap();

    // Five indexes per table, on one top-level field each, names up to 128 characters.
    for f in ["a", "b", "c", "d", "e"] {
        c.run(&format!("CREATE INDEX ON T ({f})"), &[]).unwrap();
    }
    assert_bad_request(c.run("CREATE INDEX ON T (f)", &[]), None);
    c.run("CREATE TABLE U", &[]).unwrap();
    c.run("CREATE INDEX ON U (a)", &[]).unwrap();
    assert_bad_request(c.run("CREATE INDEX ON U (a)", &[]), None);
    assert_bad_request(
        c.run(&format!("CREATE INDEX ON U ({})", "n".repeat(129)), &[]),
        None,
    );
    c.run(&format!("CREATE INDEX ON U ({})", "n".repeat(128)), &[])
        .unwrap();
    assert_bad_request(c.run("CREATE INDEX ON U (a.b)", &[]), None);

    // Concurrent sessions per ledger.
    let config = EngineConfig {
        max_sessions_per_ledger: 2,
        ..EngineConfig::default()
    };
    let engine = engine_with(config, L);
    let s1 = engine.start_session(L).unwrap().session_token;
    let s2 = engine.start_session(L).unwrap().session_token;
    engine.start_transaction(&s1).unwrap();
    engine.start_transaction(&s2).unwrap();
    let s3 = engine.start_session(L).unwrap().session_token;
    let e = engine.start_transaction(&s3).unwrap_err();
    assert!(matches!(e, LedgerError::LimitExceeded(_)), "{e:?}");
    assert_eq!(e.code(), "LimitExceededException");
    engine.end_session(&s1).unwrap();
    engine.start_transaction(&s3).unwrap();
}
