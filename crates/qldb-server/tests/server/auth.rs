//! SigV4 over HTTP: with `--auth`, signed requests pass (session and control plane) and
//! unsigned, mis-signed, stale, wrongly scoped or unknown-key requests get 403 with the AWS
//! error shape; without `--auth` any signature, or none, is accepted. (The signing code is
//! checked against botocore-made signatures in the `sigv4` unit tests.)

use crate::support::*;
use crate::{start_server, LEDGER};
use qldb_server::sigv4::{sign, RequestParts, SigningKey};
use qldb_server::Credentials;
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

const KEY_ID: &str = "AKIDLOCALTEST";
const SECRET: &str = "local/test+secret";

struct Signed {
    headers: Vec<(String, String)>,
}

/// Signs `method path?query` with `extra` headers (plus `host`) and `body`.
fn signed(
    addr: SocketAddr,
    (method, path, query): (&str, &str, &str),
    extra: &[(&str, &str)],
    body: &[u8],
    key: SigningKey<'_>,
    now: SystemTime,
) -> Signed {
    let host = addr.to_string();
    let mut headers: Vec<(&str, &str)> = vec![("host", &host)];
    headers.extend_from_slice(extra);
    let parts = RequestParts {
        method,
        path,
        query,
        headers: &headers,
        body,
    };
    let (date, authorization) = sign(&parts, &key, now);
    let mut out: Vec<(String, String)> = extra
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    out.push(("Host".into(), host.clone()));
    out.push(("X-Amz-Date".into(), date));
    out.push(("Authorization".into(), authorization));
    Signed { headers: out }
}

fn key(secret: &str) -> SigningKey<'_> {
    SigningKey {
        key_id: KEY_ID,
        secret,
        region: "us-east-1",
        service: "qldb",
    }
}

fn post_session(http: &mut Http, s: &Signed, body: &[u8]) -> HttpResponse {
    let h: Vec<(&str, &str)> = s
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    http.request("POST", "/", &h, body).unwrap()
}

#[test]
fn signatures_are_required_and_checked() {
    let server = start_server(|c| {
        let mut creds = Credentials::new();
        creds.insert(KEY_ID, SECRET);
        c.credentials = Some(creds);
    });
    let addr = server.addr();
    let mut http = Http::new(addr);
    let body = json!({"StartSession": {"LedgerName": LEDGER}}).to_string();
    let body = body.as_bytes();
    let now = SystemTime::now();

    // A good signature.
    let good = signed(
        addr,
        ("POST", "/", ""),
        &SESSION_HEADERS,
        body,
        key(SECRET),
        now,
    );
    let r = post_session(&mut http, &good, body);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.json()["StartSession"]["SessionToken"].is_string());

    // Control plane with a query string.
    let g = signed(
        addr,
        ("GET", "/ledgers", "max_results=5"),
        &[],
        b"",
        key(SECRET),
        now,
    );
    let h: Vec<(&str, &str)> = g
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let r = http
        .request("GET", "/ledgers?max_results=5", &h, b"")
        .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // The same signature over a different query fails.
    let r = http
        .request("GET", "/ledgers?max_results=6", &h, b"")
        .unwrap();
    assert_eq!(r.error().1, "InvalidSignatureException");

    // No signature.
    let r = http.request("POST", "/", &SESSION_HEADERS, body).unwrap();
    let (status, code, message) = r.error();
    assert_eq!(
        (status, code.as_str()),
        (403, "InvalidSignatureException"),
        "{message}"
    );

    // Wrong secret, tampered body.
    let r = post_session(
        &mut http,
        &signed(
            addr,
            ("POST", "/", ""),
            &SESSION_HEADERS,
            body,
            key("wrong"),
            now,
        ),
        body,
    );
    assert_eq!(r.error().0, 403);
    assert_eq!(r.error().1, "InvalidSignatureException");
    assert!(r.error().2.contains("does not match"));
    let r = post_session(
        &mut http,
        &good,
        br#"{"StartSession": {"LedgerName": "other"}}"#,
    );
    assert_eq!(r.error().1, "InvalidSignatureException");

    // Unknown key id.
    let other = SigningKey {
        key_id: "AKIDSOMEONEELSE",
        ..key(SECRET)
    };
    let r = post_session(
        &mut http,
        &signed(addr, ("POST", "/", ""), &SESSION_HEADERS, body, other, now),
        body,
    );
    assert_eq!(
        r.error(),
        (
            403,
            "UnrecognizedClientException".into(),
            "The security token included in the request is invalid.".into()
        )
    );

    // Wrong signing name (the endpoint prefix is not the signing name).
    let wrong_service = SigningKey {
        service: "session.qldb",
        ..key(SECRET)
    };
    let r = post_session(
        &mut http,
        &signed(
            addr,
            ("POST", "/", ""),
            &SESSION_HEADERS,
            body,
            wrong_service,
            now,
        ),
        body,
    );
    assert_eq!(r.error().0, 403);
    assert!(r.error().2.contains("'qldb'"), "{}", r.error().2);

    // Any region is fine.
    let eu = SigningKey {
        region: "eu-central-1",
        ..key(SECRET)
    };
    let r = post_session(
        &mut http,
        &signed(addr, ("POST", "/", ""), &SESSION_HEADERS, body, eu, now),
        body,
    );
    assert_eq!(r.status, 200);

    // More than 15 minutes of skew.
    let stale = now - Duration::from_secs(20 * 60);
    let r = post_session(
        &mut http,
        &signed(
            addr,
            ("POST", "/", ""),
            &SESSION_HEADERS,
            body,
            key(SECRET),
            stale,
        ),
        body,
    );
    let (status, code, message) = r.error();
    assert_eq!((status, code.as_str()), (403, "InvalidSignatureException"));
    assert!(message.starts_with("Signature expired"), "{message}");

    // The admin API needs no signature (it answers loopback only).
    assert_eq!(
        http.request("GET", "/_qldb_local/faults", &[], b"")
            .unwrap()
            .status,
        200
    );
}

#[test]
fn without_auth_anything_goes() {
    let server = start_server(|_| {});
    let mut http = Http::new(server.addr());
    let body = json!({"StartSession": {"LedgerName": LEDGER}}).to_string();
    let mut headers = SESSION_HEADERS.to_vec();
    headers.push(("Authorization", "AWS4-HMAC-SHA256 Credential=dummy/20000101/xx/qldb/aws4_request, SignedHeaders=host, Signature=00"));
    headers.push(("X-Amz-Date", "20000101T000000Z"));
    assert_eq!(
        http.request("POST", "/", &headers, body.as_bytes())
            .unwrap()
            .status,
        200
    );
    assert_eq!(
        http.request("POST", "/", &SESSION_HEADERS, body.as_bytes())
            .unwrap()
            .status,
        200
    );
}
