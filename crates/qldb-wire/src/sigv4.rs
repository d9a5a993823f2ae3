//! AWS Signature Version 4 for QLDB: verifying the `Authorization` header of incoming requests
//! (`qldb-local --auth`), and signing requests (the driver's HTTP transport, the load client,
//! tests). Both sides build the same canonical request (method, normalised and double-encoded
//! URI path, canonical query, signed headers, payload hash) the way botocore does.
//!
//! Only header-signed requests (`AWS4-HMAC-SHA256` with `X-Amz-Date`) are accepted; the
//! signing name must be `qldb`, any region is accepted, and the request time must lie within 15
//! minutes of the server's clock.

use hmac::{Hmac, Mac};
use qldb_ion::calendar::{civil_from_days, days_from_civil};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name in the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Largest accepted difference between the request time and the server clock.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// Access keys the server accepts: key id → secret.
#[derive(Clone, Default)]
pub struct Credentials {
    keys: HashMap<String, String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<&String> = self.keys.keys().collect();
        ids.sort();
        f.debug_struct("Credentials")
            .field("key_ids", &ids)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    pub fn new() -> Credentials {
        Credentials::default()
    }

    pub fn insert(&mut self, key_id: impl Into<String>, secret: impl Into<String>) {
        self.keys.insert(key_id.into(), secret.into());
    }

    /// Parses `KEY_ID:SECRET` (the secret may itself contain `:`).
    pub fn add_pair(&mut self, pair: &str) -> Result<(), String> {
        match pair.trim().split_once(':') {
            Some((id, secret)) if !id.trim().is_empty() && !secret.is_empty() => {
                self.insert(id.trim(), secret);
                Ok(())
            }
            _ => Err(format!("expected KEY_ID:SECRET, got {:?}", redact(pair))),
        }
    }

    /// Reads a file of `KEY_ID:SECRET` lines; blank lines and `#` comments are skipped.
    pub fn add_file_contents(&mut self, text: &str) -> Result<(), String> {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            self.add_pair(line)
                .map_err(|e| format!("line {}: {e}", n + 1))?;
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    fn secret(&self, key_id: &str) -> Option<&str> {
        self.keys.get(key_id).map(String::as_str)
    }
}

fn redact(pair: &str) -> String {
    match pair.split_once(':') {
        Some((id, _)) => format!("{id}:…"),
        None => pair.chars().take(8).collect(),
    }
}

/// Why a request was refused; `code` is `InvalidSignatureException` or
/// `UnrecognizedClientException` (both HTTP 403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    pub code: &'static str,
    pub message: String,
}

impl AuthError {
    fn invalid(message: impl Into<String>) -> AuthError {
        AuthError {
            code: "InvalidSignatureException",
            message: message.into(),
        }
    }
}

/// The parts of a request that SigV4 covers.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// The path as sent on the wire (still percent-encoded).
    pub path: &'a str,
    /// The raw query string without `?`, or empty.
    pub query: &'a str,
    /// Header names and values; names in any case, a name may repeat.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

impl RequestParts<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

// ---- canonical request ----

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Percent-encodes every byte but the unreserved ones (and `/` when `keep_slash`).
fn uri_encode(input: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(input.len());
    for &b in input {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; malformed escapes stay as they are.
pub fn percent_decode(input: &str) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// RFC 3986 dot-segment removal plus collapsing of empty segments, as botocore does.
fn normalize_path(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let first = if path.starts_with('/') { "/" } else { "" };
    let last = if path.ends_with('/') && !out.is_empty() {
        "/"
    } else {
        ""
    };
    format!("{first}{}{last}", out.join("/"))
}

/// The canonical URI: the normalised path, percent-encoded once more (non-S3 services encode
/// the already-encoded path again).
fn canonical_uri(path: &str) -> String {
    uri_encode(normalize_path(path).as_bytes(), true)
}

/// The canonical query: each name and value decoded then strictly encoded, sorted by name then
/// value.
fn canonical_query(query: &str) -> String {
    if query.is_empty() {
        return String::new();
    }
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k), false),
                uri_encode(&percent_decode(v), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// Builds the canonical request over `signed_headers` (lower-case names, sorted), written into
/// one buffer: a request is signed (client) or checked (server) on every call, so the usual case
/// (path `/`, no query, header values already trimmed) allocates nothing else.
fn canonical_request(
    req: &RequestParts<'_>,
    signed_headers: &[String],
    payload_hash: &str,
) -> Result<String, AuthError> {
    let mut out =
        String::with_capacity(256 + req.headers.iter().map(|(_, v)| v.len() + 32).sum::<usize>());
    for c in req.method.chars() {
        out.push(c.to_ascii_uppercase());
    }
    out.push('\n');
    if req.path == "/" {
        out.push('/');
    } else {
        out.push_str(&canonical_uri(req.path));
    }
    out.push('\n');
    if !req.query.is_empty() {
        out.push_str(&canonical_query(req.query));
    }
    out.push('\n');
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        let mut values = req
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v);
        let Some(first) = values.next() else {
            return Err(AuthError::invalid(format!(
                "The signed header '{name}' is missing from the request."
            )));
        };
        push_canonical_header_value(&mut out, first);
        for v in values {
            out.push(',');
            push_canonical_header_value(&mut out, v);
        }
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(payload_hash);
    Ok(out)
}

/// Appends a header value trimmed, with inner runs of whitespace collapsed to one space.
fn push_canonical_header_value(out: &mut String, v: &str) {
    let mut words = v.split_whitespace();
    if let Some(first) = words.next() {
        out.push_str(first);
        for w in words {
            out.push(' ');
            out.push_str(w);
        }
    }
}

fn string_to_sign(amz_date: &str, scope: &str, canonical: &str) -> String {
    let mut hash = [0u8; 64];
    hex::encode_to_slice(Sha256::digest(canonical.as_bytes()), &mut hash).expect("64 hex digits");
    let mut out = String::with_capacity(ALGORITHM.len() + amz_date.len() + scope.len() + 67);
    out.push_str(ALGORITHM);
    out.push('\n');
    out.push_str(amz_date);
    out.push('\n');
    out.push_str(scope);
    out.push('\n');
    out.push_str(std::str::from_utf8(&hash).expect("hex is ASCII"));
    out
}

// ---- time ----

/// `YYYYMMDDTHHMMSSZ` for a time.
pub fn amz_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// Parses `YYYYMMDDTHHMMSSZ` into seconds since the epoch.
fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + se)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---- verification ----

struct ParsedAuthorization<'a> {
    key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<String>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<ParsedAuthorization<'_>, AuthError> {
    let rest = value.trim().strip_prefix(ALGORITHM).ok_or_else(|| {
        AuthError::invalid(format!(
            "Unsupported authorization type: only {ALGORITHM} is accepted"
        ))
    })?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let missing = |what: &str| {
        AuthError::invalid(format!(
            "Authorization header requires '{what}' parameter. Authorization={}",
            value.chars().take(200).collect::<String>()
        ))
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed = signed.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    let parts: Vec<&str> = credential.split('/').collect();
    if parts.len() != 5 || parts[4] != "aws4_request" || parts[0].is_empty() {
        return Err(AuthError::invalid(format!(
            "Credential should be scoped to a valid region, service and terminated by \
             'aws4_request'. Credential={credential}"
        )));
    }
    let signed_headers: Vec<String> = signed
        .split(';')
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    Ok(ParsedAuthorization {
        key_id: parts[0],
        date: parts[1],
        region: parts[2],
        service: parts[3],
        signed_headers,
        signature,
    })
}

/// Checks a request's SigV4 `Authorization` header against `credentials` at time `now`.
pub fn verify(
    req: &RequestParts<'_>,
    credentials: &Credentials,
    service: &str,
    now: SystemTime,
) -> Result<(), AuthError> {
    let auth = req.header("authorization").ok_or_else(|| {
        AuthError::invalid(
            "Missing Authentication Token: the request must carry a SigV4 Authorization header",
        )
    })?;
    let a = parse_authorization(auth)?;
    if a.service != service {
        return Err(AuthError::invalid(format!(
            "Credential should be scoped to correct service: '{service}'. "
        )));
    }
    let amz = req.header("x-amz-date").ok_or_else(|| {
        AuthError::invalid("Authorization header requires existence of the 'X-Amz-Date' header.")
    })?;
    let t = parse_amz_date(amz.trim()).ok_or_else(|| {
        AuthError::invalid(format!(
            "X-Amz-Date '{amz}' is not an ISO-8601 basic date-time"
        ))
    })?;
    let amz = amz.trim();
    if a.date != &amz[..8] {
        return Err(AuthError::invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
             HTTP: '{}' != '{}', from '{amz}'.",
            a.date,
            &amz[..8]
        )));
    }
    let now_s = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let skew = MAX_SKEW.as_secs() as i64;
    let at = |s: i64| amz_date(UNIX_EPOCH + Duration::from_secs(s.max(0) as u64));
    if t < now_s - skew {
        return Err(AuthError::invalid(format!(
            "Signature expired: {amz} is now earlier than {} ({} - 15 min.)",
            at(now_s - skew),
            at(now_s)
        )));
    }
    if t > now_s + skew {
        return Err(AuthError::invalid(format!(
            "Signature not yet current: {amz} is still later than {} ({} + 15 min.)",
            at(now_s + skew),
            at(now_s)
        )));
    }
    if !a.signed_headers.iter().any(|h| h == "host") {
        return Err(AuthError::invalid(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let secret = credentials.secret(a.key_id).ok_or_else(|| AuthError {
        code: "UnrecognizedClientException",
        message: "The security token included in the request is invalid.".into(),
    })?;
    let body_hash = hex_sha256(req.body);
    let payload_hash = match req.header("x-amz-content-sha256").map(str::trim) {
        Some("UNSIGNED-PAYLOAD") => "UNSIGNED-PAYLOAD".to_string(),
        Some(h) if h.eq_ignore_ascii_case(&body_hash) => h.to_string(),
        Some(_) => {
            return Err(AuthError::invalid(
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ))
        }
        None => body_hash,
    };
    let mut sorted = a.signed_headers.clone();
    sorted.sort();
    sorted.dedup();
    let canonical = canonical_request(req, &sorted, &payload_hash)?;
    let scope = format!("{}/{}/{}/aws4_request", a.date, a.region, a.service);
    let sts = string_to_sign(amz, &scope, &canonical);
    let expected = hex::encode(hmac(
        &signing_key(secret, a.date, a.region, a.service),
        sts.as_bytes(),
    ));
    if !constant_time_eq(
        expected.as_bytes(),
        a.signature.to_ascii_lowercase().as_bytes(),
    ) {
        return Err(AuthError::invalid(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details.",
        ));
    }
    Ok(())
}

// ---- signing ----

/// A signing identity.
#[derive(Debug, Clone)]
pub struct SigningKey<'a> {
    pub key_id: &'a str,
    pub secret: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

/// Signs a request at time `now`: returns the `X-Amz-Date` and `Authorization` header values.
/// Every header in `req.headers` is signed (include `host`).
pub fn sign(req: &RequestParts<'_>, key: &SigningKey<'_>, now: SystemTime) -> (String, String) {
    let amz = amz_date(now);
    let derived = DerivedKey::new(key.secret, &amz[..8], key.region, key.service);
    let authorization = derived.authorize(req, key.key_id, &amz);
    (amz, authorization)
}

/// The signing key of one secret, day, region and service (four chained HMACs), reusable for
/// every request signed that day: a client keeps one and derives a new one when the date or the
/// credentials change.
#[derive(Clone)]
pub struct DerivedKey {
    date: String,
    region: String,
    service: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DerivedKey")
            .field("date", &self.date)
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl DerivedKey {
    /// Derives the key for `date` (`YYYYMMDD`).
    pub fn new(secret: &str, date: &str, region: &str, service: &str) -> DerivedKey {
        DerivedKey {
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            key: signing_key(secret, date, region, service),
        }
    }

    /// The `YYYYMMDD` date this key signs for.
    pub fn date(&self) -> &str {
        &self.date
    }

    /// The `Authorization` value for `req` at `amz_date` (`YYYYMMDDTHHMMSSZ`, on this key's
    /// date). Every header of `req` is signed; `req.headers` must hold `x-amz-date: amz_date`
    /// unless it is absent, in which case it is added to the signature.
    pub fn authorize(&self, req: &RequestParts<'_>, key_id: &str, amz_date: &str) -> String {
        debug_assert_eq!(&amz_date[..8], self.date);
        let mut headers: Vec<(&str, &str)> = req.headers.to_vec();
        if req.header("x-amz-date").is_none() {
            headers.push(("x-amz-date", amz_date));
        }
        let mut names: Vec<String> = headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        names.sort();
        names.dedup();
        let parts = RequestParts {
            headers: &headers,
            ..*req
        };
        let canonical = canonical_request(&parts, &names, &hex_sha256(req.body))
            .expect("every signed header is present");
        let scope = format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        );
        let sts = string_to_sign(amz_date, &scope, &canonical);
        let signature = hex::encode(hmac(&self.key, sts.as_bytes()));
        format!(
            "{ALGORITHM} Credential={key_id}/{scope}, SignedHeaders={}, Signature={signature}",
            names.join(";")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_ID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn creds() -> Credentials {
        let mut c = Credentials::new();
        c.insert(KEY_ID, SECRET);
        c
    }

    fn at(amz: &str) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(parse_amz_date(amz).unwrap() as u64)
    }

    /// A request as botocore 1.43 signed it (`SigV4Auth(creds, service, region)` with the clock
    /// fixed); the signatures below were produced by botocore, not by this module.
    struct Vector {
        method: &'static str,
        path: &'static str,
        query: &'static str,
        headers: &'static [(&'static str, &'static str)],
        body: &'static [u8],
        service: &'static str,
        now: &'static str,
    }

    const BOTOCORE_VECTORS: [Vector; 4] = [
        Vector {
            method: "POST",
            path: "/",
            query: "",
            headers: &[
                ("Host", "127.0.0.1:8000"),
                ("X-Amz-Target", "QLDBSession.SendCommand"),
                ("Content-Type", "application/x-amz-json-1.0"),
                ("X-Amz-Date", "20240517T123456Z"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240517/us-east-1/qldb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=de54692169640ca3afc88e36eea49bf7a91a7dcc587a8ec45a6f377a26e977cf"),
            ],
            body: br#"{"StartSession": {"LedgerName": "myledger"}}"#,
            service: "qldb",
            now: "20240517T123456Z",
        },
        Vector {
            method: "GET",
            path: "/ledgers",
            query: "max_results=5&next_token=abc%3D%3D",
            headers: &[
                ("Host", "localhost:8000"),
                ("X-Amz-Date", "20240517T123456Z"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240517/eu-west-1/qldb/aws4_request, SignedHeaders=host;x-amz-date, Signature=fe0497ff91b18684ad19550dd04f118a2d3ef555abe3e7a3bfc8c6da96fd9bec"),
            ],
            body: b"",
            service: "qldb",
            now: "20240517T123456Z",
        },
        Vector {
            method: "POST",
            path: "/ledgers/my-ledger/digest",
            query: "",
            headers: &[
                ("Host", "127.0.0.1:8000"),
                ("Content-Type", "application/json"),
                ("X-Amz-Date", "20240517T123456Z"),
                ("X-Amz-Security-Token", "SESSIONTOKEN/abc+"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240517/us-east-1/qldb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=7b63cfda7755358fc1557a3d4baccf768884faaafd3a2ceac6860918f68e9073"),
            ],
            body: b"",
            service: "qldb",
            now: "20240517T123456Z",
        },
        // AWS's own test suite, `get-vanilla` (service "service", 2015-08-30).
        Vector {
            method: "GET",
            path: "/",
            query: "",
            headers: &[
                ("Host", "example.amazonaws.com"),
                ("X-Amz-Date", "20150830T123600Z"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
            ],
            body: b"",
            service: "service",
            now: "20150830T123600Z",
        },
    ];

    fn parts(v: &Vector) -> RequestParts<'_> {
        RequestParts {
            method: v.method,
            path: v.path,
            query: v.query,
            headers: v.headers,
            body: v.body,
        }
    }

    #[test]
    fn accepts_signatures_made_by_botocore() {
        for v in &BOTOCORE_VECTORS {
            verify(&parts(v), &creds(), v.service, at(v.now))
                .unwrap_or_else(|e| panic!("{} {}: {e:?}", v.method, v.path));
        }
    }

    #[test]
    fn signs_like_botocore() {
        for v in &BOTOCORE_VECTORS {
            let unsigned: Vec<(&str, &str)> = v
                .headers
                .iter()
                .filter(|(n, _)| !matches!(*n, "Authorization" | "X-Amz-Date"))
                .copied()
                .collect();
            let p = RequestParts {
                headers: &unsigned,
                ..parts(v)
            };
            let region = if v.query.is_empty() {
                "us-east-1"
            } else {
                "eu-west-1"
            };
            let key = SigningKey {
                key_id: KEY_ID,
                secret: SECRET,
                region,
                service: v.service,
            };
            let (amz, auth) = sign(&p, &key, at(v.now));
            assert_eq!(amz, v.now);
            let expected = v
                .headers
                .iter()
                .find(|(n, _)| *n == "Authorization")
                .unwrap()
                .1;
            assert_eq!(auth, expected);
        }
    }

    #[test]
    fn rejects_tampering_wrong_keys_service_and_skew() {
        let v = &BOTOCORE_VECTORS[0];
        let now = at(v.now);
        // Body changed.
        let mut p = parts(v);
        p.body = br#"{"StartSession": {"LedgerName": "other"}}"#;
        let e = verify(&p, &creds(), "qldb", now).unwrap_err();
        assert_eq!(e.code, "InvalidSignatureException");
        assert!(e.message.contains("does not match"), "{}", e.message);
        // Wrong secret.
        let mut other = Credentials::new();
        other.insert(KEY_ID, "not-the-secret");
        assert_eq!(
            verify(&parts(v), &other, "qldb", now).unwrap_err().code,
            "InvalidSignatureException"
        );
        // Unknown key id.
        let mut unknown = Credentials::new();
        unknown.insert("AKIDOTHER", SECRET);
        assert_eq!(
            verify(&parts(v), &unknown, "qldb", now).unwrap_err().code,
            "UnrecognizedClientException"
        );
        // Wrong signing name.
        let e = verify(&parts(v), &creds(), "session.qldb", now).unwrap_err();
        assert!(e.message.contains("correct service"), "{}", e.message);
        // Clock skew: 14 minutes is fine, 16 is not, either way.
        let min = Duration::from_secs(60);
        assert!(verify(&parts(v), &creds(), "qldb", now + 14 * min).is_ok());
        assert!(verify(&parts(v), &creds(), "qldb", now - 14 * min).is_ok());
        let e = verify(&parts(v), &creds(), "qldb", now + 16 * min).unwrap_err();
        assert!(e.message.starts_with("Signature expired"), "{}", e.message);
        let e = verify(&parts(v), &creds(), "qldb", now - 16 * min).unwrap_err();
        assert!(
            e.message.starts_with("Signature not yet current"),
            "{}",
            e.message
        );
        // No Authorization header at all.
        let p = RequestParts {
            headers: &v.headers[..4],
            ..parts(v)
        };
        assert_eq!(
            verify(&p, &creds(), "qldb", now).unwrap_err().code,
            "InvalidSignatureException"
        );
        // Garbage headers never panic.
        for auth in [
            "",
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 Credential=a/b",
            "Bearer x",
            "AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;, Signature=",
        ] {
            let h = [
                ("Host", "h"),
                ("X-Amz-Date", "20240517T123456Z"),
                ("Authorization", auth),
            ];
            let p = RequestParts {
                headers: &h,
                ..parts(v)
            };
            assert!(verify(&p, &creds(), "qldb", now).is_err(), "{auth}");
        }
    }

    #[test]
    fn canonical_pieces() {
        assert_eq!(normalize_path("/a//b/./c/../d/"), "/a/b/d/");
        assert_eq!(normalize_path(""), "/");
        assert_eq!(canonical_uri("/ledgers/a%20b"), "/ledgers/a%2520b");
        assert_eq!(canonical_query("b=2&a=1&a=0&c"), "a=0&a=1&b=2&c=");
        assert_eq!(canonical_query("t=a%3d%3D+"), "t=a%3D%3D%2B");
        let mut v = String::new();
        push_canonical_header_value(&mut v, "  a   b  c ");
        assert_eq!(v, "a b c");
        assert_eq!(percent_decode("%41%4"), b"A%4");
        assert_eq!(percent_decode("%zz%"), b"%zz%");
        assert_eq!(amz_date(at("20240229T235959Z")), "20240229T235959Z");
        assert_eq!(parse_amz_date("20240517T123456"), None);
        assert_eq!(parse_amz_date("2024051xT123456Z"), None);
        assert_eq!(parse_amz_date("20241317T123456Z"), None);
        assert_eq!(parse_amz_date("20240517T12345\u{e9}"), None);
    }

    #[test]
    fn credential_files() {
        let mut c = Credentials::new();
        c.add_file_contents("# keys\n\nAKID1:secret1\n  AKID2:se:cret2  \n")
            .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.secret("AKID2"), Some("se:cret2"));
        assert!(c.add_pair("nocolon").is_err());
        assert!(c.add_pair(":secret").is_err());
        assert!(!format!("{c:?}").contains("secret1"));
    }
}
