//! Fault injection over HTTP: every reaction with its status, code and message; faulted
//! requests never execute (a faulted commit commits nothing); `occ` closes the transaction and
//! `invalid-session` forgets the session; `delay` forwards late; `drop` closes the connection
//! without an answer; rule counting and the admin API; rules given at start-up.

use crate::support::*;
use crate::{start_server, LEDGER};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn add_rule(http: &mut Http, rule: Value) -> Value {
    let r = http
        .request(
            "POST",
            "/_qldb_local/faults",
            &[],
            rule.to_string().as_bytes(),
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

fn rules(http: &mut Http) -> Vec<Value> {
    let r = http
        .request("GET", "/_qldb_local/faults", &[], b"")
        .unwrap();
    assert_eq!(r.status, 200);
    r.json()["rules"].as_array().unwrap().clone()
}

fn count(s: &mut Session) -> i64 {
    let rows = s.run("SELECT COUNT(*) FROM T", &[]).unwrap();
    rows[0]
        .as_struct()
        .unwrap()
        .get("_1")
        .unwrap()
        .as_i64()
        .unwrap()
}

/// Opens a transaction that inserts one document, ready to commit.
fn pending_insert(s: &mut Session) -> Txn {
    let mut txn = s.begin().unwrap();
    s.execute(&mut txn, "INSERT INTO T ?", &[ion("{k: 1}")])
        .unwrap();
    txn
}

#[test]
fn each_reaction_answers_like_the_service() {
    let server = start_server(|_| {});
    let mut admin = Http::new(server.addr());
    let mut s = Session::start(server.addr(), LEDGER);
    s.run("CREATE TABLE T", &[]).unwrap();

    let cases: [(&str, u16, &str, &str); 6] = [
        (
            "http500",
            500,
            "InternalFailure",
            "Internal failure (injected by qldb-local)",
        ),
        (
            "http503",
            503,
            "ServiceUnavailable",
            "Service unavailable (injected by qldb-local)",
        ),
        (
            "capacity",
            503,
            "CapacityExceededException",
            "Capacity exceeded",
        ),
        ("rate", 400, "RateExceededException", "Rate exceeded"),
        (
            "occ",
            400,
            "OccConflictException",
            "Optimistic concurrency control (OCC) failure encountered (injected by qldb-local)",
        ),
        (
            "invalid-session",
            400,
            "InvalidSessionException",
            "No such session",
        ),
    ];
    for (reaction, status, code, message) in cases {
        let before = count(&mut s);
        let txn = pending_insert(&mut s);
        add_rule(
            &mut admin,
            json!({"command": "CommitTransaction", "nth": 1, "reaction": reaction}),
        );
        let f = s
            .commit(&txn)
            .err()
            .unwrap_or_else(|| panic!("{reaction} did not fault"));
        assert_eq!(f, (status, code.into(), message.into()), "{reaction}");
        match reaction {
            // The real OCC error closes the transaction: a new one starts without abort.
            "occ" => {
                let t = s.begin().expect("transaction closed by the OCC fault");
                s.commit(&t).unwrap();
            }
            // The session is gone, as after a real InvalidSessionException.
            "invalid-session" => {
                assert_eq!(s.begin().err().unwrap().2, "No such session");
                s = Session::start(server.addr(), LEDGER);
            }
            _ => {
                // Drivers abort after these; the transaction is still open until then.
                assert_eq!(s.abort().status, 200);
            }
        }
        assert_eq!(
            count(&mut s),
            before,
            "{reaction}: the faulted commit must not commit"
        );
    }

    // expired: the message drivers match and do not retry.
    let txn = pending_insert(&mut s);
    add_rule(
        &mut admin,
        json!({"command": "CommitTransaction", "nth": 1, "reaction": "expired"}),
    );
    let f = s.commit(&txn).err().unwrap();
    assert_eq!(
        f,
        (
            400,
            "InvalidSessionException".into(),
            format!("Transaction {} has expired", txn.id)
        )
    );

    // Every rule fired once and only once, and went on counting commits.
    let listed = rules(&mut admin);
    assert_eq!(listed.len(), 7);
    for r in listed {
        assert_eq!(r["hits"].as_u64(), Some(1), "{r}");
        assert!(r["seen"].as_u64() >= Some(1), "{r}");
    }
}

#[test]
fn delay_forwards_and_drop_closes() {
    let server = start_server(|_| {});
    let mut admin = Http::new(server.addr());
    let mut s = Session::start(server.addr(), LEDGER);
    s.run("CREATE TABLE T", &[]).unwrap();

    add_rule(
        &mut admin,
        json!({"command": "StartTransaction", "nth": 1, "reaction": "delay=300"}),
    );
    let t0 = Instant::now();
    let txn = s.begin().unwrap();
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t0.elapsed()
    );
    s.commit(&txn).unwrap();

    // drop: no answer at all; the commit never happened.
    let txn = pending_insert(&mut s);
    add_rule(
        &mut admin,
        json!({"command": "CommitTransaction", "nth": 1, "reaction": "drop"}),
    );
    let digest = qldb_wire::blob::encode(&txn.digest.value());
    let body = json!({"SessionToken": s.token, "CommitTransaction": {"TransactionId": txn.id, "CommitDigest": digest}});
    let mut fresh = Http::new(server.addr());
    let result = fresh.request("POST", "/", &SESSION_HEADERS, body.to_string().as_bytes());
    assert!(
        result.is_err(),
        "expected a closed connection, got {result:?}"
    );
    // The transaction is still open (the driver would abort and retry); the next commit works.
    s.commit(&txn).unwrap();
    assert_eq!(count(&mut s), 1);
}

#[test]
fn rules_count_matching_requests() {
    let server = start_server(|c| {
        c.faults.push("StartTransaction:2:http503".parse().unwrap());
    });
    let mut admin = Http::new(server.addr());
    let mut s = Session::start(server.addr(), LEDGER);
    // Start-up rule: the 2nd StartTransaction fails.
    let t = s.begin().unwrap();
    s.commit(&t).unwrap();
    assert_eq!(s.begin().err().unwrap().0, 503);
    let t = s.begin().unwrap();
    s.commit(&t).unwrap();
    let listed = rules(&mut admin);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["command"], "StartTransaction");
    assert_eq!(listed[0]["reaction"], "http503");
    assert_eq!(
        (listed[0]["seen"].as_u64(), listed[0]["hits"].as_u64()),
        (Some(3), Some(1))
    );

    // Admin rule counted from when it is added: the 2nd and 3rd ExecuteStatement fail.
    let added = add_rule(
        &mut admin,
        json!({"command": "ExecuteStatement", "nth": 2, "times": 2, "reaction": "rate"}),
    );
    assert!(added["id"].as_u64().is_some());
    let mut txn = s.begin().unwrap();
    let stmt = "SELECT * FROM information_schema.user_tables";
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        outcomes.push(s.execute(&mut txn, stmt, &[]).map(|_| ()).map_err(|f| f.1));
    }
    assert_eq!(
        outcomes,
        [
            Ok(()),
            Err("RateExceededException".into()),
            Err("RateExceededException".into()),
            Ok(())
        ]
    );
    let _ = s.abort();

    // any:* hits every command until cleared.
    add_rule(
        &mut admin,
        json!({"command": "any", "nth": null, "reaction": "capacity"}),
    );
    assert_eq!(s.begin().err().unwrap().1, "CapacityExceededException");
    assert_eq!(s.abort().status, 503);
    let r = admin
        .request("DELETE", "/_qldb_local/faults", &[], b"")
        .unwrap();
    assert_eq!(r.json()["cleared"], 3);
    assert!(rules(&mut admin).is_empty());
    let t = s.begin().unwrap();
    s.commit(&t).unwrap();

    // Bad rules are refused.
    for bad in [
        json!({"command": "Nope", "reaction": "occ"}),
        json!({"command": "any", "reaction": "explode"}),
        json!({"command": "any", "nth": 0, "reaction": "occ"}),
        json!({"command": "any", "reaction": "occ", "extra": 1}),
        json!("not an object"),
    ] {
        let r = admin
            .request(
                "POST",
                "/_qldb_local/faults",
                &[],
                bad.to_string().as_bytes(),
            )
            .unwrap();
        assert_eq!(r.error().0, 400, "{bad}");
    }
    let r = admin
        .request("PUT", "/_qldb_local/faults", &[], b"")
        .unwrap();
    assert_eq!(r.error().0, 405);
    let r = admin.request("GET", "/_qldb_local/nope", &[], b"").unwrap();
    assert_eq!(r.error().0, 404);
    let health = admin
        .request("GET", "/_qldb_local/health", &[], b"")
        .unwrap();
    assert_eq!(health.json()["status"], "ok");
}
