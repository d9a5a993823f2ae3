//! HTTP-level behaviour: body size limit (413), routing by target and path, keep-alive, and a
//! light fuzz of the router with random and mutated bodies that must never crash the server or
//! leave a request unanswered.

use crate::support::*;
use crate::{start_server, LEDGER};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;

#[test]
fn oversize_bodies_get_413() {
    let server = start_server(|c| c.max_body_bytes = 4096);
    let mut http = Http::new(server.addr());
    // At the limit: read and judged (here: not JSON).
    let r = http
        .request("POST", "/", &SESSION_HEADERS, &[b' '; 4096])
        .unwrap();
    assert_eq!(r.error().1, "BadRequestException");
    for (path, headers) in [("/", &SESSION_HEADERS[..]), ("/ledgers", &[][..])] {
        let r = Http::new(server.addr())
            .request("POST", path, headers, &vec![b'x'; 4097])
            .unwrap();
        let (status, code, message) = r.error();
        assert_eq!(
            (status, code.as_str()),
            (413, "RequestEntityTooLargeException")
        );
        assert!(message.contains("4096"), "{message}");
        assert!(crate::is_id(r.request_id()));
    }
    // A chunked body without Content-Length is cut at the limit too.
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let chunk = vec![b'y'; 3000];
    let mut req = b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: QLDBSession.SendCommand\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..2 {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(&chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    stream.write_all(&req).unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 413"), "{out}");
    assert!(out.contains("RequestEntityTooLargeException"));

    // The default limit is 2 MiB.
    let server = start_server(|_| {});
    let r = Http::new(server.addr())
        .request(
            "POST",
            "/",
            &SESSION_HEADERS,
            &vec![b' '; 2 * 1024 * 1024 + 1],
        )
        .unwrap();
    assert_eq!(r.status, 413);
}

#[test]
fn routing_by_target() {
    let server = start_server(|_| {});
    let mut http = Http::new(server.addr());
    let body = json!({"StartSession": {"LedgerName": LEDGER}}).to_string();
    // Unknown target.
    let r = http
        .request(
            "POST",
            "/",
            &[("X-Amz-Target", "QLDBSession.Nope")],
            body.as_bytes(),
        )
        .unwrap();
    let (status, code, _) = r.error();
    assert_eq!((status, code.as_str()), (400, "UnknownOperationException"));
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
    // Target on a GET.
    let r = http.request("GET", "/", &SESSION_HEADERS, b"").unwrap();
    assert_eq!(r.error().1, "UnknownOperationException");
    // Missing target: not a session request; POST / is no REST operation either.
    let r = http.request("POST", "/", &[], body.as_bytes()).unwrap();
    assert_eq!(r.error().0, 400);
    // The target header routes to the session plane whatever the content type.
    let r = http
        .request(
            "POST",
            "/",
            &[("X-Amz-Target", "QLDBSession.SendCommand")],
            body.as_bytes(),
        )
        .unwrap();
    assert_eq!(r.status, 200);
    // Keep-alive: many requests on one connection.
    for _ in 0..20 {
        assert_eq!(
            http.request("GET", "/ledgers", &[], b"").unwrap().status,
            200
        );
    }
}

/// xorshift64*: a tiny deterministic generator for the fuzz loop.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn router_survives_random_bodies() {
    let server = start_server(|c| c.max_body_bytes = 64 * 1024);
    let mut s = Session::start(server.addr(), LEDGER);
    let txn = s.begin().unwrap();
    let seeds = [
        json!({"StartSession": {"LedgerName": LEDGER}}).to_string(),
        json!({"SessionToken": s.token, "StartTransaction": {}}).to_string(),
        json!({"SessionToken": s.token, "ExecuteStatement": {"TransactionId": txn.id,
            "Statement": "SELECT * FROM information_schema.user_tables WHERE name = ?",
            "Parameters": [{"IonBinary": "4AEA6iEB"}, {"IonText": "{a:[1,2,{b:c}]}"}]}})
        .to_string(),
        json!({"SessionToken": s.token, "FetchPage": {"TransactionId": txn.id, "NextPageToken": "abcdef"}}).to_string(),
        json!({"SessionToken": s.token, "CommitTransaction": {"TransactionId": txn.id,
            "CommitDigest": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}})
        .to_string(),
        json!({"Name": "fuzz-ledger", "PermissionsMode": "ALLOW_ALL", "DeletionProtection": false}).to_string(),
        json!({"BlockAddress": {"IonText": "{strandId:\"x\",sequenceNo:0}"}, "DocumentId": "AAAAAAAAAAAAAAAAAAAAAA"}).to_string(),
    ];
    type Target<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let targets: [Target; 7] = [
        ("POST", "/", &SESSION_HEADERS),
        ("POST", "/ledgers", &[]),
        ("GET", "/ledgers/test", &[]),
        ("PATCH", "/ledgers/test", &[]),
        ("POST", "/ledgers/test/revision", &[]),
        ("POST", "/ledgers/test/block", &[]),
        ("POST", "/_qldb_local/faults", &[]),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut http = Http::new(server.addr());
    let interesting: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b":",
        b",",
        b"null",
        b"true",
        b"-1",
        b"1e999",
        b"\\u0000",
        b"\xff",
        b"4AEA6iEB",
        b"\"IonBinary\"",
        b"\"IonText\"",
        b"{{",
        b"'''",
        b"::",
    ];
    for i in 0..600 {
        let mut body: Vec<u8> = if i % 5 == 0 {
            (0..rng.below(200)).map(|_| rng.next() as u8).collect()
        } else {
            seeds[rng.below(seeds.len())].clone().into_bytes()
        };
        for _ in 0..1 + rng.below(6) {
            if body.is_empty() {
                break;
            }
            let at = rng.below(body.len());
            match rng.below(4) {
                0 => body[at] = rng.next() as u8,
                1 => {
                    body.remove(at);
                }
                2 => {
                    let piece = interesting[rng.below(interesting.len())];
                    body.splice(at..at, piece.iter().copied());
                }
                _ => body.truncate(at),
            }
        }
        let (method, path, headers) = targets[rng.below(targets.len())];
        let r = http
            .request(method, path, headers, &body)
            .unwrap_or_else(|e| panic!("request {i} to {method} {path} got no answer: {e}"));
        assert!(crate::is_id(r.request_id()));
        if r.status != 200 {
            let (status, _, _) = r.error();
            assert!(
                (400..500).contains(&status),
                "{method} {path} {:?} → {status} {}",
                String::from_utf8_lossy(&body),
                String::from_utf8_lossy(&r.body)
            );
        }
    }
    // Still serving.
    let _ = http
        .request("DELETE", "/_qldb_local/faults", &[], b"")
        .unwrap();
    let mut s2 = Session::start(server.addr(), LEDGER);
    s2.run("SELECT * FROM information_schema.user_tables", &[])
        .unwrap();
}
