//! The session data plane over HTTP: a full transaction with pages, digests and metrics; every
//! session error with its status and message; parameter decoding and shape constraints.

use crate::support::*;
use crate::{is_id, start_server, LEDGER};
use ion_rs::Element;
use qldb_ion::{ion_hash, CommitDigest};
use serde_json::{json, Value};
use std::time::Duration;

fn assert_timing(result: &Value) {
    let ms = result["TimingInformation"]["ProcessingTimeMilliseconds"]
        .as_i64()
        .unwrap_or_else(|| panic!("no TimingInformation: {result}"));
    assert!(ms >= 1, "{result}");
}

fn consumed(result: &Value) -> (i64, i64) {
    let io = &result["ConsumedIOs"];
    (
        io["ReadIOs"]
            .as_i64()
            .unwrap_or_else(|| panic!("no ConsumedIOs: {result}")),
        io["WriteIOs"].as_i64().expect("WriteIOs"),
    )
}

#[test]
fn full_transaction_with_many_pages() {
    let server = start_server(|c| c.engine.page_size = 10);
    let mut http = Http::new(server.addr());

    // StartSession: the request id is the session id.
    let r = send(&mut http, &json!({"StartSession": {"LedgerName": LEDGER}}));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
    let v = r.json();
    let token = v["StartSession"]["SessionToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_timing(&v["StartSession"]);
    assert!(is_id(r.request_id()), "{}", r.request_id());
    let mut s = Session {
        http,
        token,
        session_id: r.request_id().to_string(),
    };

    // DDL: FirstPage holds one {tableId}.
    let mut txn = s.begin().unwrap();
    assert!(is_id(&txn.id));
    let (rows, result) = s.execute(&mut txn, "CREATE TABLE Car", &[]).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].as_struct().unwrap().get("tableId").is_some());
    assert_timing(&result);
    s.execute(&mut txn, "CREATE INDEX ON Car (vin)", &[])
        .unwrap();
    s.commit(&txn).unwrap();

    // 45 inserts in one transaction, each with a base64 IonBinary parameter.
    let mut txn = s.begin().unwrap();
    for i in 0..45 {
        let doc = ion(&format!(
            "{{vin: \"V{i:03}\", n: {i}, price: 1.50, tags: [a::x, \"y\"], at: 2024-01-02T03:04:05.678Z}}"
        ));
        let (rows, result) = s.execute(&mut txn, "INSERT INTO Car ?", &[doc]).unwrap();
        assert_eq!(rows.len(), 1);
        assert!(rows[0].as_struct().unwrap().get("documentId").is_some());
        assert!(result["FirstPage"].is_object());
        assert!(consumed(&result).1 >= 1, "WriteIOs of an insert: {result}");
    }
    let commit = s.commit(&txn).unwrap();
    let c = &commit["CommitTransaction"];
    assert_timing(c);
    assert!(consumed(c).1 >= 1, "WriteIOs of the commit: {c}");

    // SELECT * over 45 documents: 5 pages of 10, fetched with FetchPage.
    let mut txn = s.begin().unwrap();
    let (rows, result) = s.execute(&mut txn, "SELECT * FROM Car", &[]).unwrap();
    assert_eq!(rows.len(), 45);
    assert_eq!(
        result["FirstPage"]["Values"].as_array().unwrap().len(),
        10,
        "page size"
    );
    assert!(result["FirstPage"]["NextPageToken"].is_string());
    assert_timing(&result);
    assert!(consumed(&result).0 >= 45, "ReadIOs of a scan: {result}");
    let mut vins: Vec<String> = rows
        .iter()
        .map(|r| {
            r.as_struct()
                .unwrap()
                .get("vin")
                .unwrap()
                .as_text()
                .unwrap()
                .to_string()
        })
        .collect();
    vins.sort();
    assert_eq!(vins.first().map(String::as_str), Some("V000"));
    assert_eq!(vins.last().map(String::as_str), Some("V044"));
    // Values come back exactly: decimal precision, annotations, timestamps.
    let one = rows
        .iter()
        .find(|r| r.as_struct().unwrap().get("n").unwrap().as_i64() == Some(7))
        .unwrap();
    assert_eq!(
        one,
        &ion(
            "{vin: \"V007\", n: 7, price: 1.50, tags: [a::x, \"y\"], at: 2024-01-02T03:04:05.678Z}"
        )
    );

    // SELECT by the indexed field with a parameter.
    let (rows, _) = s
        .execute(
            &mut txn,
            "SELECT VALUE n FROM Car WHERE vin = ?",
            &[Element::string("V044")],
        )
        .unwrap();
    assert_eq!(rows, vec![Element::int(44)]);
    s.commit(&txn).unwrap();

    // FetchPage results carry timing and IOs too.
    let mut txn = s.begin().unwrap();
    txn.digest.add_statement("SELECT * FROM Car", &[]);
    let r = s.command(
        "ExecuteStatement",
        json!({"TransactionId": txn.id, "Statement": "SELECT * FROM Car", "Parameters": []}),
    );
    let token = r.json()["ExecuteStatement"]["FirstPage"]["NextPageToken"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s.command(
        "FetchPage",
        json!({"TransactionId": txn.id, "NextPageToken": token}),
    );
    assert_eq!(r.status, 200);
    let f = &r.json()["FetchPage"];
    assert_timing(f);
    consumed(f);
    assert_eq!(page_values(&f["Page"]).len(), 10);
    s.commit(&txn).unwrap();

    // AbortTransaction with nothing open succeeds; EndSession ends the session.
    let r = s.abort();
    assert_eq!(r.status, 200);
    assert_timing(&r.json()["AbortTransaction"]);
    let r = s.command("EndSession", json!({}));
    assert_eq!(r.status, 200);
    assert_timing(&r.json()["EndSession"]);
    let f = s.begin().err().expect("ended session");
    assert_eq!(
        f,
        (
            400,
            "InvalidSessionException".into(),
            "No such session".into()
        )
    );
}

#[test]
fn every_response_has_a_request_id() {
    let server = start_server(|_| {});
    let mut s = Session::start(server.addr(), LEDGER);
    assert!(is_id(&s.session_id));
    let mut seen = std::collections::HashSet::new();
    for body in [
        json!({}),
        json!({"StartTransaction": {}}),
        json!({"AbortTransaction": {}}),
    ] {
        let mut req = body;
        req["SessionToken"] = json!(s.token);
        let r = send(&mut s.http, &req);
        assert!(is_id(r.request_id()), "{r:?}");
        assert!(seen.insert(r.request_id().to_string()));
        assert_ne!(r.request_id(), s.session_id);
    }
    let r = s.http.request("GET", "/nowhere", &[], b"").unwrap();
    assert!(is_id(r.request_id()));
}

#[test]
fn session_errors_have_their_type_status_and_message() {
    let server = start_server(|c| c.engine.max_sessions_per_ledger = 2);
    let addr = server.addr();

    let f = Session::try_start(addr, "nope").err().unwrap();
    assert_eq!((f.0, f.1.as_str()), (400, "BadRequestException"));
    assert!(f.2.contains("does not exist"), "{}", f.2);
    let f = Session::try_start(addr, "bad_name").err().unwrap();
    assert_eq!((f.0, f.1.as_str()), (400, "BadRequestException"));

    let mut s = Session::start(addr, LEDGER);
    s.run("CREATE TABLE T", &[]).unwrap();
    s.run("INSERT INTO T VALUE {'k': 1}", &[]).unwrap();

    // No open transaction.
    let r = s.command(
        "ExecuteStatement",
        json!({"TransactionId": "AAAAAAAAAAAAAAAAAAAAAA", "Statement": "SELECT * FROM T", "Parameters": []}),
    );
    assert_eq!(
        r.error(),
        (
            400,
            "BadRequestException".into(),
            "No open transaction".into()
        )
    );

    // Transaction already open.
    let mut txn = s.begin().unwrap();
    let f = s.begin().err().unwrap();
    assert_eq!(
        f,
        (
            400,
            "BadRequestException".into(),
            "Transaction already open".into()
        )
    );

    // A transaction id that is not the open one.
    let r = s.command(
        "ExecuteStatement",
        json!({"TransactionId": "AAAAAAAAAAAAAAAAAAAAAA", "Statement": "SELECT * FROM T", "Parameters": []}),
    );
    let (status, code, _) = r.error();
    assert_eq!((status, code.as_str()), (400, "BadRequestException"));

    // Parameter count mismatch, and an unknown table.
    let f = s
        .execute(
            &mut txn,
            "SELECT * FROM T WHERE k = ?",
            &[Element::int(1), Element::int(2)],
        )
        .err()
        .unwrap();
    assert_eq!(
        f,
        (
            400,
            "BadRequestException".into(),
            "Query expects 1 parameters, but statement has 2".into()
        )
    );
    let f = s
        .execute(&mut txn, "DELETE FROM Missing", &[])
        .err()
        .unwrap();
    assert_eq!((f.0, f.1.as_str()), (400, "BadRequestException"));

    // Digest mismatch.
    txn.digest = CommitDigest::new("somethingelse");
    let f = s.commit(&txn).err().unwrap();
    assert_eq!(
        f,
        (
            400,
            "BadRequestException".into(),
            "Digests don't match".into()
        )
    );
    assert_eq!(s.abort().status, 200);

    // OCC: both transactions read T, both write it; the second commit fails, the transaction
    // is closed server-side and the session stays usable.
    let mut other = Session::start(addr, LEDGER);
    let mut t1 = s.begin().unwrap();
    let mut t2 = other.begin().unwrap();
    s.execute(&mut t1, "UPDATE T SET k = 2", &[]).unwrap();
    other.execute(&mut t2, "UPDATE T SET k = 3", &[]).unwrap();
    s.commit(&t1).unwrap();
    let f = other.commit(&t2).err().unwrap();
    assert_eq!((f.0, f.1.as_str()), (400, "OccConflictException"));
    assert!(f.2.contains("OCC"), "{}", f.2);
    let t3 = other
        .begin()
        .expect("a new transaction after OCC, without abort");
    other.commit(&t3).unwrap();

    // Concurrent session limit: a third session cannot start a transaction.
    let mut third = Session::start(addr, LEDGER);
    let f = third.begin().err().unwrap();
    assert_eq!((f.0, f.1.as_str()), (400, "LimitExceededException"));

    // A well-formed token the server does not know.
    let mut ghost = Session::start(addr, LEDGER);
    ghost.token = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into();
    let f = ghost.begin().err().unwrap();
    assert_eq!(
        f,
        (
            400,
            "InvalidSessionException".into(),
            "No such session".into()
        )
    );
}

#[test]
fn transaction_and_session_expiry() {
    let server = start_server(|c| {
        c.engine.transaction_timeout = Duration::from_millis(300);
    });
    let mut s = Session::start(server.addr(), LEDGER);
    let mut txn = s.begin().unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let f = s
        .execute(
            &mut txn,
            "SELECT * FROM information_schema.user_tables",
            &[],
        )
        .err()
        .unwrap();
    assert_eq!(f.0, 400);
    assert_eq!(f.1, "InvalidSessionException");
    assert_eq!(f.2, format!("Transaction {} has expired", txn.id));

    let server = start_server(|c| {
        c.engine.session_lifetime = (Duration::from_millis(200), Duration::from_millis(200));
    });
    let mut s = Session::start(server.addr(), LEDGER);
    std::thread::sleep(Duration::from_millis(300));
    let f = s.begin().err().unwrap();
    assert_eq!(
        f,
        (
            400,
            "InvalidSessionException".into(),
            format!("Session {} has expired", s.session_id)
        )
    );
}

#[test]
fn parameters_as_ion_text_hash_like_binary() {
    let server = start_server(|_| {});
    let mut s = Session::start(server.addr(), LEDGER);
    s.run("CREATE TABLE P", &[]).unwrap();
    let mut txn = s.begin().unwrap();
    let value = ion("{a: 1.0, b: sym, c: ann::[1, 2e0]}");
    txn.digest
        .add_statement("INSERT INTO P ?", &[ion_hash(&value)]);
    let r = s.command(
        "ExecuteStatement",
        json!({"TransactionId": txn.id, "Statement": "INSERT INTO P ?",
               "Parameters": [{"IonText": "{a: 1.0, b: sym, c: ann::[1, 2e0]}"}]}),
    );
    assert_eq!(r.status, 200, "{:?}", r.json());
    s.commit(&txn).unwrap();
    assert_eq!(s.run("SELECT * FROM P", &[]).unwrap(), vec![value]);
}

#[test]
fn bad_parameters_are_bad_requests() {
    let server = start_server(|_| {});
    let mut s = Session::start(server.addr(), LEDGER);
    let deep_text = format!("{}1{}", "[".repeat(300), "]".repeat(300));
    let mut deep_binary = vec![0xE0, 0x01, 0x00, 0xEA];
    // 300 nested one-element lists around the int 1: each wrapper is B(len) with len < 14 only
    // for the innermost ones, so build from the inside out with VarUInt lengths.
    let mut inner = vec![0x21, 0x01];
    for _ in 0..300 {
        let mut w = if inner.len() < 14 {
            vec![0xB0 | inner.len() as u8]
        } else {
            let mut v = vec![0xBE];
            let n = inner.len();
            if n < 128 {
                v.push(0x80 | n as u8);
            } else {
                v.push((n >> 7) as u8);
                v.push(0x80 | (n & 0x7F) as u8);
            }
            v
        };
        w.extend_from_slice(&inner);
        inner = w;
    }
    deep_binary.extend_from_slice(&inner);
    let b64 = qldb_wire::blob::encode;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"IonBinary": "not base64!"}), "base64"),
        (json!({"IonBinary": b64(b"1")}), "E0 01 00 EA"),
        (
            json!({"IonBinary": b64(&[0xE0, 0x01, 0x00, 0xEA, 0x21, 0x01, 0x21, 0x02])}),
            "exactly one",
        ),
        (
            json!({"IonBinary": b64(&[0xE0, 0x01, 0x00, 0xEA])}),
            "exactly one",
        ),
        (
            json!({"IonBinary": b64(&[0xE0, 0x01, 0x00, 0xEA, 0xFF, 0x13])}),
            "exactly one",
        ),
        (json!({"IonText": "{a: "}), "exactly one"),
        (json!({"IonText": "1 2"}), "exactly one"),
        (json!({"IonText": ""}), "length"),
        (json!({"IonBinary": b64(&[0u8; 131_073])}), "131072"),
        (json!({"IonBinary": "4AEA6iEB", "IonText": "1"}), "not both"),
        (json!({}), "must carry"),
        (json!({"IonText": deep_text}), "nested"),
        (json!({"IonBinary": b64(&deep_binary)}), "nested"),
    ];
    for (holder, expected) in cases {
        let txn = s.begin().unwrap();
        let r = s.command(
            "ExecuteStatement",
            json!({"TransactionId": txn.id, "Statement": "SELECT ? FROM information_schema.user_tables", "Parameters": [holder]}),
        );
        let (status, code, message) = r.error();
        assert_eq!(
            (status, code.as_str()),
            (400, "BadRequestException"),
            "{holder}: {message}"
        );
        assert!(
            message.contains(expected),
            "{expected:?} not in {message:?}"
        );
        assert_eq!(s.abort().status, 200);
    }
    // 256 levels are fine.
    let ok = ion(&format!("{{d: {}1{}}}", "[".repeat(255), "]".repeat(255)));
    s.run("CREATE TABLE Deep", &[]).unwrap();
    s.run("INSERT INTO Deep ?", std::slice::from_ref(&ok))
        .unwrap();
    assert_eq!(s.run("SELECT * FROM Deep", &[]).unwrap(), vec![ok]);
}

#[test]
fn shape_constraints_and_malformed_requests() {
    let server = start_server(|_| {});
    let mut s = Session::start(server.addr(), LEDGER);
    let txn = s.begin().unwrap();
    let id = txn.id.clone();
    let long = "x".repeat(100_001);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"StartTransaction": {}}), "sessionToken"),
        (
            json!({"SessionToken": "!!!!", "StartTransaction": {}}),
            "sessionToken",
        ),
        (
            json!({"SessionToken": "abc", "StartTransaction": {}}),
            "sessionToken",
        ),
        (
            json!({"SessionToken": s.token, "ExecuteStatement": {"TransactionId": "short", "Statement": "SELECT 1", "Parameters": []}}),
            "transactionId",
        ),
        (
            json!({"SessionToken": s.token, "ExecuteStatement": {"TransactionId": id, "Statement": "", "Parameters": []}}),
            "statement",
        ),
        (
            json!({"SessionToken": s.token, "ExecuteStatement": {"TransactionId": id, "Statement": long, "Parameters": []}}),
            "statement",
        ),
        (
            json!({"SessionToken": s.token, "FetchPage": {"TransactionId": id, "NextPageToken": "a"}}),
            "nextPageToken",
        ),
        (
            json!({"SessionToken": s.token, "CommitTransaction": {"TransactionId": id, "CommitDigest": "AAAA"}}),
            "commitDigest",
        ),
        (
            json!({"SessionToken": s.token, "CommitTransaction": {"TransactionId": id, "CommitDigest": "%%%"}}),
            "base64",
        ),
        (json!({"SessionToken": s.token}), "exactly one command"),
        (
            json!({"SessionToken": s.token, "StartTransaction": {}, "EndSession": {}}),
            "exactly one command",
        ),
        (
            json!({"SessionToken": s.token, "ExecuteStatement": {"Statement": "SELECT 1"}}),
            "TransactionId",
        ),
        (
            json!({"SessionToken": 5, "StartTransaction": {}}),
            "Malformed",
        ),
        (json!([1, 2]), "Malformed"),
    ];
    for (body, expected) in cases {
        let r = send(&mut s.http, &body);
        let (status, code, message) = r.error();
        assert_eq!(
            (status, code.as_str()),
            (400, "BadRequestException"),
            "{body}: {message}"
        );
        assert!(
            message.contains(expected),
            "{expected:?} not in {message:?} ({body})"
        );
    }
    for raw in [
        &b""[..],
        b"{",
        b"null",
        b"\xff\xfe",
        b"{\"StartSession\": {\"LedgerName\": \"test\"}} trailing",
    ] {
        let r = send_raw(&mut s.http, raw);
        let (status, code, _) = r.error();
        assert_eq!(
            (status, code.as_str()),
            (400, "BadRequestException"),
            "{raw:?}"
        );
    }
    // The transaction is still usable after all of that.
    let mut txn = txn;
    s.execute(
        &mut txn,
        "SELECT * FROM information_schema.user_tables",
        &[],
    )
    .unwrap();
    s.commit(&txn).unwrap();
}

/// On a data directory, commits wait for the journal's flusher without blocking the server's
/// workers: many sessions committing at once are all acknowledged, each with its digest, and
/// all of them are there after a restart.
#[test]
fn concurrent_commits_on_a_data_directory_are_durable() {
    const SESSIONS: usize = 8;
    const PER_SESSION: i64 = 40;
    let dir = tempfile::tempdir().unwrap();
    let storage = qldb_server::Storage::Dir(dir.path().join("data"));
    let server = start_server(|c| c.storage = storage.clone());
    let addr = server.addr();
    {
        let mut s = Session::start(addr, LEDGER);
        s.run("CREATE TABLE Acked", &[]).unwrap();
    }
    std::thread::scope(|scope| {
        for t in 0..SESSIONS {
            scope.spawn(move || {
                let mut s = Session::start(addr, LEDGER);
                for i in 0..PER_SESSION {
                    let n = t as i64 * PER_SESSION + i;
                    let mut txn = s.begin().unwrap();
                    s.execute(
                        &mut txn,
                        "INSERT INTO Acked ?",
                        &[ion(&format!("{{n: {n}}}"))],
                    )
                    .unwrap();
                    let r = s.commit(&txn).unwrap();
                    assert_eq!(
                        r["CommitTransaction"]["TransactionId"].as_str(),
                        Some(txn.id.as_str())
                    );
                    assert_timing(&r["CommitTransaction"]);
                }
            });
        }
    });
    server.shutdown().unwrap();

    let server = start_server(|c| c.storage = storage);
    let mut s = Session::start(server.addr(), LEDGER);
    let mut ns: Vec<i64> = s
        .run("SELECT VALUE n FROM Acked", &[])
        .unwrap()
        .iter()
        .map(|e| e.as_i64().unwrap())
        .collect();
    ns.sort_unstable();
    assert_eq!(ns, (0..SESSIONS as i64 * PER_SESSION).collect::<Vec<_>>());
    server.engine().ledger(LEDGER).unwrap().verify().unwrap();
}
