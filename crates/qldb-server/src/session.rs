//! The session data plane: `POST /` with `X-Amz-Target: QLDBSession.SendCommand`. Decodes the
//! command, applies fault rules, checks the model's constraints, decodes parameters into Ion
//! and runs the command on the engine, inline on the runtime's worker: every command is a short
//! in-memory operation. A commit is acknowledged only once durable; it awaits the journal's
//! durability notification (the file journal's flusher thread completes it after its
//! `fdatasync`) without blocking the worker, and in memory there is nothing to wait for.
//!
//! Results follow the response rules drivers depend on (`spec/wire-protocol.md` §2.4): one
//! complete Ion binary value per `ValueHolder`, `FirstPage` on every ExecuteStatement result,
//! `TimingInformation` on every result, `ConsumedIOs` on ExecuteStatement, FetchPage and
//! CommitTransaction, and the client's `CommitDigest` echoed. StartSession answers with the
//! session id as its request id, which pyqldb takes as the session id.

use crate::faults::Reaction;
use crate::router::{internal_failure, ledger_error_body, DropConnection, Plane, Reply};
use crate::server::AppState;
use bytes::Bytes;
use ion_rs::Element;
use qldb_ledger::{CommitResult, Engine, LedgerError, PendingCommit, StatementResult};
use qldb_wire::session::{
    AbortTransactionResult, CommitTransactionResult, EndSessionResult, ExecuteStatementResult,
    FetchPageResult, StartSessionResult, StartTransactionResult,
};
use qldb_wire::{
    validate, Blob, Command, ErrorBody, ErrorCode, IoUsage, Page, SendCommandRequest,
    SendCommandResponse, TimingInformation, ValueHolder, WireError,
};
use std::sync::Arc;
use std::time::Instant;

/// The Ion 1.0 binary version marker every `IonBinary` starts with.
pub const ION_BVM: [u8; 4] = [0xE0, 0x01, 0x00, 0xEA];
/// Deepest container nesting accepted in a parameter.
pub const MAX_PARAMETER_DEPTH: usize = 256;

pub(crate) async fn handle(state: &Arc<AppState>, body: Bytes) -> Result<Reply, DropConnection> {
    let started = Instant::now();
    let parsed = SendCommandRequest::from_json(&body).and_then(SendCommandRequest::into_command);
    let (token, command) = match parsed {
        Ok(v) => v,
        Err(e) => return Ok(Reply::wire_error(Plane::Session, e)),
    };
    if let Some(reaction) = state.faults.check(command.name()) {
        tracing::info!(command = command.name(), %reaction, "injecting a fault");
        match reaction {
            Reaction::Delay(d) => tokio::time::sleep(d).await,
            Reaction::Drop => return Err(DropConnection),
            r => return Ok(fault_reply(state, r, token, &command).await),
        }
    }
    // Every command, a commit's in-memory part included, runs on the worker thread: thread
    // hand-offs per transaction dominated the server's CPU profile (context switches). A
    // panic becomes an error answer rather than a dropped connection.
    let executed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        execute(&state.engine, token, command, started)
    }))
    .map_err(|_| "the command panicked".to_string());
    let outcome = match executed {
        // Acknowledged only once durable; the wait blocks no thread.
        Ok(Ok(Executed::Commit(pending))) => Ok(pending
            .durable()
            .await
            .map(|c| (commit_response(c), None))
            .map_err(from_ledger)),
        Ok(Ok(Executed::Done(resp, request_id))) => Ok(Ok((resp, request_id))),
        Ok(Err(body)) => Ok(Err(body)),
        Err(e) => Err(e),
    };
    Ok(match outcome {
        Ok(Ok((resp, request_id))) => {
            let reply = Reply::json(Plane::Session, 200, &resp);
            match request_id {
                Some(id) => reply.with_request_id(id),
                None => reply,
            }
        }
        Ok(Err(body)) => Reply::error(Plane::Session, body),
        Err(e) => Reply::error(Plane::Session, internal_failure("executing a command", e)),
    })
}

/// The answer to a faulted request. `occ` closes the open transaction and `invalid-session` /
/// `expired` forget the session, as the real errors do; nothing else reaches the engine.
async fn fault_reply(
    state: &Arc<AppState>,
    reaction: Reaction,
    token: Option<String>,
    command: &Command,
) -> Reply {
    let engine = state.engine.clone();
    let side_effect = |f: fn(&Engine, &str)| {
        let token = token.clone();
        async move {
            if let Some(t) = token {
                let _ = tokio::task::spawn_blocking(move || f(&engine, &t)).await;
            }
        }
    };
    let body = match reaction {
        Reaction::Occ => {
            side_effect(|e, t| {
                let _ = e.abort_transaction(t);
            })
            .await;
            ErrorBody::new(
                ErrorCode::OccConflict.as_str(),
                "Optimistic concurrency control (OCC) failure encountered (injected by qldb-local)",
            )
        }
        Reaction::InvalidSession | Reaction::Expired => {
            side_effect(|e, t| {
                let _ = e.end_session(t);
            })
            .await;
            let message = if reaction == Reaction::Expired {
                let txn = command
                    .transaction_id()
                    .map_or_else(qldb_ion::new_id, str::to_string);
                format!("Transaction {txn} has expired")
            } else {
                "No such session".to_string()
            };
            ErrorBody::new(ErrorCode::InvalidSession.as_str(), message)
        }
        Reaction::Http500 => ErrorBody::new(
            ErrorCode::InternalFailure.as_str(),
            "Internal failure (injected by qldb-local)",
        ),
        Reaction::Http503 => ErrorBody::new(
            ErrorCode::ServiceUnavailable.as_str(),
            "Service unavailable (injected by qldb-local)",
        ),
        Reaction::Capacity => {
            ErrorBody::new(ErrorCode::CapacityExceeded.as_str(), "Capacity exceeded")
        }
        Reaction::Rate => ErrorBody::new(ErrorCode::RateExceeded.as_str(), "Rate exceeded"),
        Reaction::Delay(_) | Reaction::Drop => ErrorBody::new(
            ErrorCode::InternalFailure.as_str(),
            "unexpected fault reaction",
        ),
    };
    Reply::error(Plane::Session, body)
}

fn elapsed_ms(started: Instant) -> u64 {
    (started.elapsed().as_millis() as u64).max(1)
}

fn from_ledger(e: LedgerError) -> ErrorBody {
    if let LedgerError::Internal(msg) = &e {
        tracing::error!(error = %msg, "the ledger failed");
    }
    ledger_error_body(&e)
}

fn page(p: qldb_ledger::Page) -> Page {
    Page {
        values: p.values.into_iter().map(ValueHolder::binary).collect(),
        next_page_token: p.next_page_token,
    }
}

fn statement_parts(r: StatementResult) -> (Page, Option<TimingInformation>, Option<IoUsage>) {
    (
        page(r.page),
        Some(TimingInformation::millis(r.processing_ms.max(1))),
        Some(IoUsage::new(r.read_ios, r.write_ios)),
    )
}

/// What [`execute`] did.
// A short-lived return value: boxing the response would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
enum Executed {
    /// The response and, for StartSession, the request id to answer with (the session id).
    Done(SendCommandResponse, Option<String>),
    /// A commit, done in memory, to be answered once durable.
    Commit(PendingCommit),
}

fn commit_response(c: CommitResult) -> SendCommandResponse {
    SendCommandResponse {
        commit_transaction: Some(CommitTransactionResult {
            transaction_id: Some(c.transaction_id),
            commit_digest: Some(Blob::new(c.commit_digest)),
            timing_information: Some(TimingInformation::millis(c.processing_ms.max(1))),
            consumed_ios: Some(IoUsage::new(c.read_ios, c.write_ios)),
        }),
        ..Default::default()
    }
}

/// Runs one command on the engine without waiting for the disk.
fn execute(
    engine: &Engine,
    token: Option<String>,
    command: Command,
    started: Instant,
) -> Result<Executed, ErrorBody> {
    let timing = || Some(TimingInformation::millis(elapsed_ms(started)));
    if let Command::StartSession(r) = &command {
        validate::ledger_name(&r.ledger_name, "ledgerName").map_err(|e| e.to_body())?;
        let s = engine.start_session(&r.ledger_name).map_err(from_ledger)?;
        let resp = SendCommandResponse {
            start_session: Some(StartSessionResult {
                session_token: Some(s.session_token),
                timing_information: timing(),
            }),
            ..Default::default()
        };
        return Ok(Executed::Done(resp, Some(s.session_id)));
    }
    let token = token.ok_or_else(|| {
        WireError::bad_request(format!(
            "1 validation error detected: Value null at 'sessionToken' failed to satisfy \
             constraint: Member must not be null ({} needs the session's token)",
            command.name()
        ))
        .to_body()
    })?;
    validate::token(&token, "sessionToken").map_err(|e| e.to_body())?;
    let resp = match command {
        Command::StartSession(_) => unreachable!("handled above"),
        Command::StartTransaction => {
            let id = engine.start_transaction(&token).map_err(from_ledger)?;
            SendCommandResponse {
                start_transaction: Some(StartTransactionResult {
                    transaction_id: Some(id),
                    timing_information: timing(),
                }),
                ..Default::default()
            }
        }
        Command::ExecuteStatement(r) => {
            validate::id22(&r.transaction_id, "transactionId").map_err(|e| e.to_body())?;
            validate::statement(&r.statement).map_err(|e| e.to_body())?;
            let params = decode_parameters(&r.parameters).map_err(|e| e.to_body())?;
            let result = engine
                .execute_statement(&token, &r.transaction_id, &r.statement, &params)
                .map_err(from_ledger)?;
            let (first_page, timing_information, consumed_ios) = statement_parts(result);
            SendCommandResponse {
                execute_statement: Some(ExecuteStatementResult {
                    first_page: Some(first_page),
                    timing_information,
                    consumed_ios,
                }),
                ..Default::default()
            }
        }
        Command::FetchPage(r) => {
            validate::id22(&r.transaction_id, "transactionId").map_err(|e| e.to_body())?;
            validate::token(&r.next_page_token, "nextPageToken").map_err(|e| e.to_body())?;
            let result = engine
                .fetch_page(&token, &r.transaction_id, &r.next_page_token)
                .map_err(from_ledger)?;
            let (page, timing_information, consumed_ios) = statement_parts(result);
            SendCommandResponse {
                fetch_page: Some(FetchPageResult {
                    page: Some(page),
                    timing_information,
                    consumed_ios,
                }),
                ..Default::default()
            }
        }
        Command::CommitTransaction(r) => {
            validate::id22(&r.transaction_id, "transactionId").map_err(|e| e.to_body())?;
            validate::commit_digest(r.commit_digest.as_bytes()).map_err(|e| e.to_body())?;
            let pending = engine
                .begin_commit_transaction(&token, &r.transaction_id, r.commit_digest.as_bytes())
                .map_err(from_ledger)?;
            return Ok(Executed::Commit(pending));
        }
        Command::AbortTransaction => {
            engine.abort_transaction(&token).map_err(from_ledger)?;
            SendCommandResponse {
                abort_transaction: Some(AbortTransactionResult {
                    timing_information: timing(),
                }),
                ..Default::default()
            }
        }
        Command::EndSession => {
            engine.end_session(&token).map_err(from_ledger)?;
            SendCommandResponse {
                end_session: Some(EndSessionResult {
                    timing_information: timing(),
                }),
                ..Default::default()
            }
        }
    };
    Ok(Executed::Done(resp, None))
}

/// Decodes the parameters, each hashed later exactly as received.
pub fn decode_parameters(params: &[ValueHolder]) -> Result<Vec<Element>, WireError> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| decode_value(p, i + 1))
        .collect()
}

/// Decodes one value holder: `IonBinary` must be an Ion 1.0 binary stream, `IonText` Ion text;
/// either must hold exactly one value, nested at most [`MAX_PARAMETER_DEPTH`] deep.
pub fn decode_value(p: &ValueHolder, n: usize) -> Result<Element, WireError> {
    let member = format!("parameters.{n}.member");
    let binary = p.ion_binary.as_ref().map(Blob::as_bytes);
    validate::value_holder(binary, p.ion_text.as_deref(), &member)?;
    let (bytes, kind) = match (binary, p.ion_text.as_deref()) {
        (Some(b), _) => {
            if !b.starts_with(&ION_BVM) {
                return Err(WireError::bad_request(format!(
                    "Parameter {n}: IonBinary must be an Ion 1.0 binary stream starting with \
                     E0 01 00 EA"
                )));
            }
            (b, "IonBinary")
        }
        (None, Some(t)) => (t.as_bytes(), "IonText"),
        (None, None) => unreachable!("validated"),
    };
    check_depth(bytes, kind == "IonBinary").map_err(|why| {
        WireError::bad_request(format!("Parameter {n}: {kind} is not acceptable: {why}"))
    })?;
    // The Ion reader can panic on some malformed binary input (arithmetic overflow in
    // ion-rs 1.2's annotation wrapper check); such input is a bad request, not a crash.
    match std::panic::catch_unwind(|| Element::read_one(bytes)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(WireError::bad_request(format!(
            "Parameter {n}: {kind} does not hold exactly one valid Ion value: {e}"
        ))),
        Err(_) => {
            tracing::warn!(
                parameter = n,
                "the Ion reader panicked on a malformed parameter"
            );
            Err(WireError::bad_request(format!(
                "Parameter {n}: {kind} does not hold exactly one valid Ion value: malformed data"
            )))
        }
    }
}

/// Rejects containers nested deeper than [`MAX_PARAMETER_DEPTH`] before the (recursive) Ion
/// reader sees them.
fn check_depth(bytes: &[u8], binary: bool) -> Result<(), String> {
    let depth = if binary {
        binary_depth(bytes, MAX_PARAMETER_DEPTH + 1)
    } else {
        text_depth(bytes)
    };
    if depth > MAX_PARAMETER_DEPTH {
        Err(format!(
            "containers nested more than {MAX_PARAMETER_DEPTH} deep"
        ))
    } else {
        Ok(())
    }
}

/// Upper bound of the nesting depth of Ion text: brackets outside strings, symbols, comments
/// and long strings are counted (over-counting only makes the check stricter).
fn text_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => {
                let q = bytes[i];
                let long = q == b'\'' && bytes[i..].starts_with(b"'''");
                if long {
                    i += 3;
                    while i < bytes.len() && !bytes[i..].starts_with(b"'''") {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != q {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !bytes[i..].starts_with(b"*/") {
                    i += 1;
                }
                i += 1;
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    max
}

/// Nesting depth of an Ion 1.0 binary stream, found by walking type descriptors with an
/// explicit stack (stops early once `limit` is reached). Malformed input yields the depth seen
/// so far; the Ion reader then reports the error.
fn binary_depth(bytes: &[u8], limit: usize) -> usize {
    struct Frame {
        pos: usize,
        end: usize,
        is_struct: bool,
    }
    let mut stack = vec![Frame {
        pos: 0,
        end: bytes.len(),
        is_struct: false,
    }];
    let mut max = 0;
    while let Some(top) = stack.last_mut() {
        if top.pos >= top.end {
            stack.pop();
            continue;
        }
        let (end, mut i) = (top.end, top.pos);
        let top_level = stack.len() == 1;
        let top = stack.last_mut().expect("not empty");
        if top_level && bytes[i..].starts_with(&ION_BVM) {
            top.pos = i + 4;
            continue;
        }
        if top.is_struct && read_varuint(bytes, &mut i).is_none() {
            return max;
        }
        let Some(mut td) = bytes.get(i).copied() else {
            return max;
        };
        i += 1;
        if td >> 4 == 0xE {
            // Annotation wrapper: its length, the annotation list, then the wrapped value.
            let l = td & 0x0F;
            if l == 0 || l == 0xF || (l == 0xE && read_varuint(bytes, &mut i).is_none()) {
                return max;
            }
            let Some(alen) = read_varuint(bytes, &mut i) else {
                return max;
            };
            i = i.saturating_add(alen);
            let Some(inner) = bytes.get(i).copied() else {
                return max;
            };
            td = inner;
            i += 1;
        }
        let (t, l) = (td >> 4, td & 0x0F);
        let len = match (t, l) {
            (0x1, _) | (_, 0xF) => 0,
            (0xD, 0x1) | (_, 0xE) => match read_varuint(bytes, &mut i) {
                Some(v) => v,
                None => return max,
            },
            _ => l as usize,
        };
        let value_end = i.saturating_add(len).min(end);
        top.pos = value_end;
        if (0xB..=0xD).contains(&t) && l != 0xF {
            stack.push(Frame {
                pos: i,
                end: value_end,
                is_struct: t == 0xD,
            });
            max = max.max(stack.len() - 1);
            if max >= limit {
                return max;
            }
        }
    }
    max
}

/// Reads an Ion VarUInt (7 bits per byte, high bit ends).
fn read_varuint(bytes: &[u8], i: &mut usize) -> Option<usize> {
    let mut v: usize = 0;
    for _ in 0..9 {
        let b = *bytes.get(*i)?;
        *i += 1;
        v = v.checked_shl(7)? | (b & 0x7F) as usize;
        if b & 0x80 != 0 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(text: &str) -> Vec<u8> {
        Element::read_one(text.as_bytes())
            .unwrap()
            .encode_as(ion_rs::v1_0::Binary)
            .unwrap()
    }

    #[test]
    fn depth_of_binary_and_text() {
        for (text, depth) in [
            ("1", 0),
            ("[]", 1),
            ("[1, [2, (3 4)]]", 3),
            ("{a: [[1]], b: {c: 2}}", 3),
            ("x::[y::[z::{a: w::1}]]", 3),
            // Field names need a local symbol table: a struct holding a list, depth 2.
            ("{a: \"]]]]\", b: '[[[', c: '''{{{''', d: {{ \"[[\" }}}", 2),
            (
                "{a: 1.5, b: 2024-01-02T03:04:05Z, c: {{AAEC}}, d: null.list}",
                2,
            ),
        ] {
            assert_eq!(binary_depth(&binary(text), 1000), depth, "binary {text}");
            let counted = text_depth(text.as_bytes());
            // Text counts blob/clob braces too, never less than the real depth.
            assert!(counted + 1 >= depth, "text {text}: {counted} < {depth}");
        }
        let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
        assert_eq!(binary_depth(&binary(&deep), 1000), 300);
        assert_eq!(binary_depth(&binary(&deep), 50), 50, "stops at the limit");
        assert_eq!(text_depth(deep.as_bytes()), 300);
        assert_eq!(text_depth(b"/* [[[[ */ // {{{{\n [1]"), 1);
    }

    #[test]
    fn garbage_is_a_bad_request_never_a_crash() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let seeds = [
            binary("{a: [1, 2.5, \"s\", x::y, {{AAEC}}, 2024-01-02T03:04:05Z], b: {c: null.int}}"),
            binary("[(a b c), [[[]]], {}]"),
        ];
        for i in 0..20_000 {
            let mut bytes = if i % 3 == 0 {
                let mut v = ION_BVM.to_vec();
                v.extend((0..(next() % 64)).map(|_| next() as u8));
                v
            } else {
                seeds[i % 2].clone()
            };
            for _ in 0..1 + next() % 4 {
                let at = 4 + (next() as usize) % (bytes.len() - 3).max(1);
                if at < bytes.len() {
                    bytes[at] = next() as u8;
                }
            }
            let text: String = bytes.iter().map(|&b| (b % 96 + 32) as char).collect();
            for holder in [ValueHolder::binary(bytes), ValueHolder::text(text)] {
                if let Err(e) = decode_value(&holder, 1) {
                    assert_eq!(e.code, ErrorCode::BadRequest);
                }
            }
        }
    }

    #[test]
    fn decodes_exactly_one_value() {
        let v = decode_value(&ValueHolder::binary(binary("a::{b: 1.50}")), 1).unwrap();
        assert_eq!(v, Element::read_one("a::{b: 1.50}").unwrap());
        let v = decode_value(&ValueHolder::text("a::{b: 1.50}"), 1).unwrap();
        assert_eq!(v, Element::read_one("a::{b: 1.50}").unwrap());
        let two = [binary("1"), binary("2")[4..].to_vec()].concat();
        assert!(decode_value(&ValueHolder::binary(two), 1).is_err());
        assert!(decode_value(&ValueHolder::binary(b"1".to_vec()), 1).is_err());
        assert!(decode_value(&ValueHolder::text("1 2"), 1).is_err());
    }
}
