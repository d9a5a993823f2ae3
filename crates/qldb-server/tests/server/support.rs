//! Test support: a small blocking HTTP/1.1 client over `std::net::TcpStream` (keep-alive, raw
//! bytes in and out, so tests can send anything), SendCommand helpers that build the JSON
//! bodies by hand, and a driver-like transaction helper that keeps the commit digest.
//! The load example (`examples/load.rs`) includes this file too.

#![allow(dead_code)]

use ion_rs::Element;
use qldb_ion::{ion_hash, CommitDigest, Hash};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A response as received.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn request_id(&self) -> &str {
        self.header("x-amzn-RequestId")
            .unwrap_or_else(|| panic!("no x-amzn-RequestId header: {self:?}"))
    }

    /// `(status, __type, Message)` of an error response, checking the error shape.
    pub fn error(&self) -> (u16, String, String) {
        let v = self.json();
        let code = v["__type"]
            .as_str()
            .unwrap_or_else(|| panic!("no __type: {v}"));
        let message = v["Message"]
            .as_str()
            .unwrap_or_else(|| panic!("no Message: {v}"));
        assert_eq!(
            self.header("X-Amzn-ErrorType"),
            Some(code),
            "X-Amzn-ErrorType header"
        );
        (self.status, code.to_string(), message.to_string())
    }
}

/// A keep-alive HTTP/1.1 connection (reconnects after the server closed it).
pub struct Http {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
}

impl Http {
    pub fn new(addr: SocketAddr) -> Http {
        Http { addr, conn: None }
    }

    fn connection(&mut self) -> std::io::Result<&mut BufReader<TcpStream>> {
        if self.conn.is_none() {
            let s = TcpStream::connect(self.addr)?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(Duration::from_secs(60)))?;
            self.conn = Some(BufReader::new(s));
        }
        Ok(self.conn.as_mut().expect("just set"))
    }

    /// Sends one request. `Host` and `Content-Length` are added unless given.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<HttpResponse> {
        let result = self.exchange(method, path, headers, body);
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<HttpResponse> {
        let addr = self.addr;
        let conn = self.connection()?;
        let mut head = format!("{method} {path} HTTP/1.1\r\n");
        let has = |n: &str| headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n));
        if !has("host") {
            head.push_str(&format!("Host: {addr}\r\n"));
        }
        if !has("content-length") {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let stream = conn.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        stream.flush()?;
        let resp = read_response(conn)?;
        if resp
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
        {
            self.conn = None;
        }
        Ok(resp)
    }
}

fn read_response(conn: &mut BufReader<TcpStream>) -> std::io::Result<HttpResponse> {
    let eof = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed");
    let mut line = String::new();
    if conn.read_line(&mut line)? == 0 {
        return Err(eof());
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if conn.read_line(&mut h)? == 0 {
            return Err(eof());
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    conn.read_exact(&mut body)?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// Headers of a SendCommand request.
pub const SESSION_HEADERS: [(&str, &str); 2] = [
    ("X-Amz-Target", "QLDBSession.SendCommand"),
    ("Content-Type", "application/x-amz-json-1.0"),
];

/// POSTs a SendCommand body.
pub fn send(http: &mut Http, body: &Value) -> HttpResponse {
    send_raw(http, body.to_string().as_bytes())
}

pub fn send_raw(http: &mut Http, body: &[u8]) -> HttpResponse {
    http.request("POST", "/", &SESSION_HEADERS, body)
        .expect("SendCommand request")
}

/// Base64 of the Ion binary encoding of the Ion text `text`.
pub fn ion_binary_b64(value: &Element) -> String {
    qldb_wire::blob::encode(&value.encode_as(ion_rs::v1_0::Binary).expect("encode Ion"))
}

pub fn ion(text: &str) -> Element {
    Element::read_one(text.as_bytes()).unwrap_or_else(|e| panic!("bad Ion {text}: {e}"))
}

/// Decodes a page's values, checking each holder has one complete Ion binary value.
pub fn page_values(page: &Value) -> Vec<Element> {
    page["Values"]
        .as_array()
        .unwrap_or_else(|| panic!("page without Values: {page}"))
        .iter()
        .map(|h| {
            let b64 = h["IonBinary"]
                .as_str()
                .unwrap_or_else(|| panic!("holder without IonBinary: {h}"));
            let bytes = qldb_wire::blob::decode(b64).expect("base64");
            assert!(
                bytes.starts_with(&[0xE0, 0x01, 0x00, 0xEA]),
                "holder does not start with the Ion BVM"
            );
            Element::read_one(&bytes).expect("one Ion value per holder")
        })
        .collect()
}

/// A statement's failure: `(status, __type, Message)`.
pub type Failure = (u16, String, String);

/// A session over HTTP, used as a driver uses it.
pub struct Session {
    pub http: Http,
    pub token: String,
    pub session_id: String,
}

/// An open transaction with its running commit digest.
pub struct Txn {
    pub id: String,
    pub digest: CommitDigest,
}

impl Session {
    pub fn start(addr: SocketAddr, ledger: &str) -> Session {
        Session::try_start(addr, ledger).unwrap_or_else(|f| panic!("StartSession: {f:?}"))
    }

    pub fn try_start(addr: SocketAddr, ledger: &str) -> Result<Session, Failure> {
        let mut http = Http::new(addr);
        let r = send(&mut http, &json!({"StartSession": {"LedgerName": ledger}}));
        if r.status != 200 {
            return Err(r.error());
        }
        let v = r.json();
        Ok(Session {
            token: v["StartSession"]["SessionToken"]
                .as_str()
                .expect("SessionToken")
                .to_string(),
            session_id: r.request_id().to_string(),
            http,
        })
    }

    /// Sends `{"SessionToken": token, name: body}`.
    pub fn command(&mut self, name: &str, body: Value) -> HttpResponse {
        let mut req = json!({"SessionToken": self.token});
        req[name] = body;
        send(&mut self.http, &req)
    }

    fn ok(r: HttpResponse) -> Result<Value, Failure> {
        if r.status == 200 {
            Ok(r.json())
        } else {
            Err(r.error())
        }
    }

    pub fn begin(&mut self) -> Result<Txn, Failure> {
        let v = Self::ok(self.command("StartTransaction", json!({})))?;
        let id = v["StartTransaction"]["TransactionId"]
            .as_str()
            .expect("TransactionId")
            .to_string();
        Ok(Txn {
            digest: CommitDigest::new(&id),
            id,
        })
    }

    /// ExecuteStatement plus every FetchPage; returns the rows and the ExecuteStatement result.
    pub fn execute(
        &mut self,
        txn: &mut Txn,
        statement: &str,
        params: &[Element],
    ) -> Result<(Vec<Element>, Value), Failure> {
        let hashes: Vec<Hash> = params.iter().map(ion_hash).collect();
        txn.digest.add_statement(statement, &hashes);
        let holders: Vec<Value> = params
            .iter()
            .map(|p| json!({"IonBinary": ion_binary_b64(p)}))
            .collect();
        let first = Self::ok(self.command(
            "ExecuteStatement",
            json!({"TransactionId": txn.id, "Statement": statement, "Parameters": holders}),
        ))?;
        let result = first["ExecuteStatement"].clone();
        let mut rows = page_values(&result["FirstPage"]);
        let mut next = result["FirstPage"]["NextPageToken"]
            .as_str()
            .map(str::to_string);
        while let Some(token) = next {
            let v = Self::ok(self.command(
                "FetchPage",
                json!({"TransactionId": txn.id, "NextPageToken": token}),
            ))?;
            let page = &v["FetchPage"]["Page"];
            rows.extend(page_values(page));
            next = page["NextPageToken"].as_str().map(str::to_string);
        }
        Ok((rows, result))
    }

    pub fn commit(&mut self, txn: &Txn) -> Result<Value, Failure> {
        let digest = qldb_wire::blob::encode(&txn.digest.value());
        let v = Self::ok(self.command(
            "CommitTransaction",
            json!({"TransactionId": txn.id, "CommitDigest": digest}),
        ))?;
        let c = &v["CommitTransaction"];
        assert_eq!(
            c["CommitDigest"].as_str(),
            Some(digest.as_str()),
            "digest echoed"
        );
        assert_eq!(c["TransactionId"].as_str(), Some(txn.id.as_str()));
        Ok(v)
    }

    pub fn abort(&mut self) -> HttpResponse {
        self.command("AbortTransaction", json!({}))
    }

    /// One statement in its own transaction.
    pub fn run(&mut self, statement: &str, params: &[Element]) -> Result<Vec<Element>, Failure> {
        let mut txn = self.begin()?;
        match self.execute(&mut txn, statement, params) {
            Ok((rows, _)) => {
                self.commit(&txn)?;
                Ok(rows)
            }
            Err(f) => {
                let _ = self.abort();
                Err(f)
            }
        }
    }
}
