//! The session data plane: `QLDBSession.SendCommand` requests and responses
//! (`spec/wire-protocol.md` §2), with the model's PascalCase member names.
//!
//! A request holds an optional `SessionToken` and exactly one command member; a response holds
//! one member named after the command with its result. [`SendCommandRequest::into_command`]
//! enforces the one-command rule and yields a [`Command`].

use crate::blob::Blob;
use crate::error::WireError;
use serde::{Deserialize, Deserializer, Serialize};

/// Deserialises `null` as the default value (botocore never sends `null`, other clients may).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An Ion value on the wire: `IonBinary` (a base64 blob holding one Ion binary stream) or
/// `IonText`. Results always use `IonBinary`, one complete value per holder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValueHolder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ion_binary: Option<Blob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ion_text: Option<String>,
}

impl ValueHolder {
    /// A holder of Ion binary bytes (one complete stream, starting with `E0 01 00 EA`).
    pub fn binary(bytes: impl Into<Vec<u8>>) -> ValueHolder {
        ValueHolder {
            ion_binary: Some(Blob::new(bytes)),
            ion_text: None,
        }
    }

    /// A holder of Ion text.
    pub fn text(text: impl Into<String>) -> ValueHolder {
        ValueHolder {
            ion_binary: None,
            ion_text: Some(text.into()),
        }
    }
}

/// `TimingInformation`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimingInformation {
    #[serde(rename = "ProcessingTimeMilliseconds", default)]
    pub processing_time_milliseconds: i64,
}

impl TimingInformation {
    pub fn millis(ms: u64) -> TimingInformation {
        TimingInformation {
            processing_time_milliseconds: i64::try_from(ms).unwrap_or(i64::MAX),
        }
    }
}

/// `ConsumedIOs` (shape `IOUsage`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoUsage {
    #[serde(rename = "ReadIOs", default)]
    pub read_ios: i64,
    #[serde(rename = "WriteIOs", default)]
    pub write_ios: i64,
}

impl IoUsage {
    pub fn new(read_ios: u64, write_ios: u64) -> IoUsage {
        IoUsage {
            read_ios: i64::try_from(read_ios).unwrap_or(i64::MAX),
            write_ios: i64::try_from(write_ios).unwrap_or(i64::MAX),
        }
    }
}

/// A result page; no `NextPageToken` means the last page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Page {
    #[serde(default, deserialize_with = "null_as_default")]
    pub values: Vec<ValueHolder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

// ---- requests ----

/// `StartSession`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartSessionRequest {
    pub ledger_name: String,
}

/// The empty request of `StartTransaction`, `AbortTransaction` and `EndSession`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyRequest {}

/// `ExecuteStatement`'s request. `Parameters` is always serialised (`[]` when empty), as
/// botocore does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecuteStatementRequest {
    pub transaction_id: String,
    pub statement: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub parameters: Vec<ValueHolder>,
}

/// `FetchPage`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FetchPageRequest {
    pub transaction_id: String,
    pub next_page_token: String,
}

/// `CommitTransaction`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommitTransactionRequest {
    pub transaction_id: String,
    pub commit_digest: Blob,
}

/// A SendCommand request body. Use [`SendCommandRequest::new`] to build one and
/// [`SendCommandRequest::into_command`] to take one apart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendCommandRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_session: Option<StartSessionRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_transaction: Option<EmptyRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session: Option<EmptyRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_transaction: Option<CommitTransactionRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_transaction: Option<EmptyRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execute_statement: Option<ExecuteStatementRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch_page: Option<FetchPageRequest>,
}

/// One of the seven commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    StartSession(StartSessionRequest),
    StartTransaction,
    ExecuteStatement(ExecuteStatementRequest),
    FetchPage(FetchPageRequest),
    CommitTransaction(CommitTransactionRequest),
    AbortTransaction,
    EndSession,
}

impl Command {
    /// The names of the seven commands, as members and in fault rules.
    pub const NAMES: [&'static str; 7] = [
        "StartSession",
        "StartTransaction",
        "ExecuteStatement",
        "FetchPage",
        "CommitTransaction",
        "AbortTransaction",
        "EndSession",
    ];

    /// The command's member name.
    pub fn name(&self) -> &'static str {
        match self {
            Command::StartSession(_) => "StartSession",
            Command::StartTransaction => "StartTransaction",
            Command::ExecuteStatement(_) => "ExecuteStatement",
            Command::FetchPage(_) => "FetchPage",
            Command::CommitTransaction(_) => "CommitTransaction",
            Command::AbortTransaction => "AbortTransaction",
            Command::EndSession => "EndSession",
        }
    }

    /// The transaction id the command names, if any.
    pub fn transaction_id(&self) -> Option<&str> {
        match self {
            Command::ExecuteStatement(r) => Some(&r.transaction_id),
            Command::FetchPage(r) => Some(&r.transaction_id),
            Command::CommitTransaction(r) => Some(&r.transaction_id),
            _ => None,
        }
    }
}

impl SendCommandRequest {
    /// A request carrying `command`, with the session token (absent for StartSession).
    pub fn new(session_token: Option<String>, command: Command) -> SendCommandRequest {
        let mut r = SendCommandRequest {
            session_token,
            ..Default::default()
        };
        match command {
            Command::StartSession(c) => r.start_session = Some(c),
            Command::StartTransaction => r.start_transaction = Some(EmptyRequest {}),
            Command::ExecuteStatement(c) => r.execute_statement = Some(c),
            Command::FetchPage(c) => r.fetch_page = Some(c),
            Command::CommitTransaction(c) => r.commit_transaction = Some(c),
            Command::AbortTransaction => r.abort_transaction = Some(EmptyRequest {}),
            Command::EndSession => r.end_session = Some(EmptyRequest {}),
        }
        r
    }

    /// Parses a request body. Malformed JSON, a wrong member type or bad base64 is a
    /// `BadRequestException`.
    pub fn from_json(body: &[u8]) -> Result<SendCommandRequest, WireError> {
        serde_json::from_slice(body)
            .map_err(|e| WireError::bad_request(format!("Malformed SendCommand request: {e}")))
    }

    /// The session token and the one command of this request; zero or several commands are a
    /// `BadRequestException`.
    pub fn into_command(self) -> Result<(Option<String>, Command), WireError> {
        let mut commands = Vec::with_capacity(1);
        if let Some(c) = self.start_session {
            commands.push(Command::StartSession(c));
        }
        if self.start_transaction.is_some() {
            commands.push(Command::StartTransaction);
        }
        if self.end_session.is_some() {
            commands.push(Command::EndSession);
        }
        if let Some(c) = self.commit_transaction {
            commands.push(Command::CommitTransaction(c));
        }
        if self.abort_transaction.is_some() {
            commands.push(Command::AbortTransaction);
        }
        if let Some(c) = self.execute_statement {
            commands.push(Command::ExecuteStatement(c));
        }
        if let Some(c) = self.fetch_page {
            commands.push(Command::FetchPage(c));
        }
        match commands.len() {
            1 => Ok((self.session_token, commands.remove(0))),
            0 => Err(WireError::bad_request(
                "A SendCommand request must contain exactly one command; it has none",
            )),
            n => Err(WireError::bad_request(format!(
                "A SendCommand request must contain exactly one command; it has {n} ({})",
                commands
                    .iter()
                    .map(Command::name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

// ---- results ----

/// `StartSession`'s result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartSessionResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing_information: Option<TimingInformation>,
}

/// `StartTransaction`'s result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartTransactionResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing_information: Option<TimingInformation>,
}

/// `ExecuteStatement`'s result; `FirstPage` is always present on a server's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecuteStatementResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_page: Option<Page>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing_information: Option<TimingInformation>,
    #[serde(
        rename = "ConsumedIOs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub consumed_ios: Option<IoUsage>,
}

/// `FetchPage`'s result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FetchPageResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<Page>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing_information: Option<TimingInformation>,
    #[serde(
        rename = "ConsumedIOs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub consumed_ios: Option<IoUsage>,
}

/// `CommitTransaction`'s result: the transaction id and the client's digest, echoed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommitTransactionResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_digest: Option<Blob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing_information: Option<TimingInformation>,
    #[serde(
        rename = "ConsumedIOs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub consumed_ios: Option<IoUsage>,
}

/// `AbortTransaction`'s result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AbortTransactionResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing_information: Option<TimingInformation>,
}

/// `EndSession`'s result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndSessionResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing_information: Option<TimingInformation>,
}

/// A SendCommand response body: one member, named after the command.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendCommandResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_session: Option<StartSessionResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_transaction: Option<StartTransactionResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session: Option<EndSessionResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_transaction: Option<CommitTransactionResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_transaction: Option<AbortTransactionResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execute_statement: Option<ExecuteStatementResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch_page: Option<FetchPageResult>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parse(body: &str) -> (Option<String>, Command) {
        SendCommandRequest::from_json(body.as_bytes())
            .unwrap()
            .into_command()
            .unwrap()
    }

    /// Serialises `req` and checks it against `expected` (compact JSON) both as text and as a
    /// JSON value equal to the spec's body.
    fn check_serialises(req: &SendCommandRequest, expected_compact: &str, spec_body: &str) {
        let out = serde_json::to_string(req).unwrap();
        assert_eq!(out, expected_compact);
        let a: Value = serde_json::from_str(&out).unwrap();
        let b: Value = serde_json::from_str(spec_body).unwrap();
        assert_eq!(a, b);
    }

    // The bodies of spec/wire-protocol.md §2.2, exactly as pyqldb 3.2.4 (botocore) sends them.
    const START_SESSION: &str = r#"{"StartSession": {"LedgerName": "myledger"}}"#;
    const START_TRANSACTION: &str = r#"{"SessionToken": "<tok>", "StartTransaction": {}}"#;
    const EXECUTE: &str = r#"{"SessionToken": "<tok>", "ExecuteStatement": {"TransactionId": "AAAAAAAAAAAAAAAAAAAAAA", "Statement": "SELECT * FROM t WHERE a = ?", "Parameters": [{"IonBinary": "4AEA6iEB"}]}}"#;
    const FETCH: &str = r#"{"SessionToken": "<tok>", "FetchPage": {"TransactionId": "AAAAAAAAAAAAAAAAAAAAAA", "NextPageToken": "pagetoken1"}}"#;
    const COMMIT: &str = r#"{"SessionToken": "<tok>", "CommitTransaction": {"TransactionId": "AAAAAAAAAAAAAAAAAAAAAA", "CommitDigest": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}}"#;
    const ABORT: &str = r#"{"SessionToken": "<tok>", "AbortTransaction": {}}"#;
    const END: &str = r#"{"SessionToken": "<tok>", "EndSession": {}}"#;

    #[test]
    fn start_session_body() {
        let (tok, cmd) = parse(START_SESSION);
        assert_eq!(tok, None);
        assert_eq!(
            cmd,
            Command::StartSession(StartSessionRequest {
                ledger_name: "myledger".into()
            })
        );
        check_serialises(
            &SendCommandRequest::new(None, cmd),
            r#"{"StartSession":{"LedgerName":"myledger"}}"#,
            START_SESSION,
        );
    }

    #[test]
    fn empty_command_bodies() {
        for (body, expected, compact) in [
            (
                START_TRANSACTION,
                Command::StartTransaction,
                r#"{"SessionToken":"<tok>","StartTransaction":{}}"#,
            ),
            (
                ABORT,
                Command::AbortTransaction,
                r#"{"SessionToken":"<tok>","AbortTransaction":{}}"#,
            ),
            (
                END,
                Command::EndSession,
                r#"{"SessionToken":"<tok>","EndSession":{}}"#,
            ),
        ] {
            let (tok, cmd) = parse(body);
            assert_eq!(tok.as_deref(), Some("<tok>"));
            assert_eq!(cmd, expected);
            check_serialises(&SendCommandRequest::new(tok, cmd), compact, body);
        }
    }

    #[test]
    fn execute_statement_body() {
        let (tok, cmd) = parse(EXECUTE);
        let Command::ExecuteStatement(ref r) = cmd else {
            panic!("{cmd:?}")
        };
        assert_eq!(r.transaction_id, "AAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(r.statement, "SELECT * FROM t WHERE a = ?");
        assert_eq!(r.parameters.len(), 1);
        assert_eq!(
            r.parameters[0].ion_binary.as_ref().unwrap().as_bytes(),
            &[0xe0, 0x01, 0x00, 0xea, 0x21, 0x01]
        );
        check_serialises(
            &SendCommandRequest::new(tok, cmd),
            r#"{"SessionToken":"<tok>","ExecuteStatement":{"TransactionId":"AAAAAAAAAAAAAAAAAAAAAA","Statement":"SELECT * FROM t WHERE a = ?","Parameters":[{"IonBinary":"4AEA6iEB"}]}}"#,
            EXECUTE,
        );
    }

    #[test]
    fn execute_statement_parameters_always_serialised() {
        let req = SendCommandRequest::new(
            Some("tok1".into()),
            Command::ExecuteStatement(ExecuteStatementRequest {
                transaction_id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
                statement: "SELECT 1".into(),
                parameters: vec![],
            }),
        );
        let out = serde_json::to_value(&req).unwrap();
        assert_eq!(out["ExecuteStatement"]["Parameters"], json!([]));
        // Absent or null Parameters read as empty; IonText is accepted.
        for body in [
            r#"{"SessionToken":"tok1","ExecuteStatement":{"TransactionId":"A","Statement":"s"}}"#,
            r#"{"SessionToken":"tok1","ExecuteStatement":{"TransactionId":"A","Statement":"s","Parameters":null}}"#,
        ] {
            let (_, cmd) = parse(body);
            let Command::ExecuteStatement(r) = cmd else {
                panic!()
            };
            assert!(r.parameters.is_empty());
        }
        let (_, cmd) = parse(
            r#"{"SessionToken":"tok1","ExecuteStatement":{"TransactionId":"A","Statement":"s","Parameters":[{"IonText":"{a:1}"}]}}"#,
        );
        let Command::ExecuteStatement(r) = cmd else {
            panic!()
        };
        assert_eq!(r.parameters[0], ValueHolder::text("{a:1}"));
    }

    #[test]
    fn fetch_and_commit_bodies() {
        let (tok, cmd) = parse(FETCH);
        assert_eq!(
            cmd,
            Command::FetchPage(FetchPageRequest {
                transaction_id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
                next_page_token: "pagetoken1".into()
            })
        );
        check_serialises(
            &SendCommandRequest::new(tok, cmd),
            r#"{"SessionToken":"<tok>","FetchPage":{"TransactionId":"AAAAAAAAAAAAAAAAAAAAAA","NextPageToken":"pagetoken1"}}"#,
            FETCH,
        );
        let (tok, cmd) = parse(COMMIT);
        let Command::CommitTransaction(ref c) = cmd else {
            panic!()
        };
        assert_eq!(c.commit_digest.as_bytes(), (0u8..32).collect::<Vec<_>>());
        assert_eq!(cmd.transaction_id(), Some("AAAAAAAAAAAAAAAAAAAAAA"));
        check_serialises(
            &SendCommandRequest::new(tok, cmd),
            r#"{"SessionToken":"<tok>","CommitTransaction":{"TransactionId":"AAAAAAAAAAAAAAAAAAAAAA","CommitDigest":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}}"#,
            COMMIT,
        );
    }

    #[test]
    fn one_command_rule_and_malformed_bodies() {
        let none = SendCommandRequest::from_json(br#"{"SessionToken":"abcd"}"#)
            .unwrap()
            .into_command()
            .unwrap_err();
        assert!(none.message.contains("exactly one command"));
        let two = SendCommandRequest::from_json(
            br#"{"SessionToken":"abcd","StartTransaction":{},"EndSession":{}}"#,
        )
        .unwrap()
        .into_command()
        .unwrap_err();
        assert!(two.message.contains("it has 2"), "{}", two.message);
        // serde reads a struct from a JSON array too; it then holds no command.
        assert!(SendCommandRequest::from_json(b"[]")
            .and_then(SendCommandRequest::into_command)
            .is_err());
        for bad in [
            &b"not json"[..],
            b"\"str\"",
            b"{\"StartSession\":{}}",
            b"{\"StartSession\":{\"LedgerName\":5}}",
            b"{\"SessionToken\":\"t\",\"CommitTransaction\":{\"TransactionId\":\"A\",\"CommitDigest\":\"**\"}}",
        ] {
            let e = SendCommandRequest::from_json(bad).unwrap_err();
            assert_eq!(e.code, crate::ErrorCode::BadRequest);
        }
    }

    #[test]
    fn results_use_the_model_member_names() {
        let resp = SendCommandResponse {
            execute_statement: Some(ExecuteStatementResult {
                first_page: Some(Page {
                    values: vec![ValueHolder::binary(vec![
                        0xe0, 0x01, 0x00, 0xea, 0x21, 0x01,
                    ])],
                    next_page_token: Some("next1".into()),
                }),
                timing_information: Some(TimingInformation::millis(3)),
                consumed_ios: Some(IoUsage::new(7, 1)),
            }),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&resp).unwrap(),
            r#"{"ExecuteStatement":{"FirstPage":{"Values":[{"IonBinary":"4AEA6iEB"}],"NextPageToken":"next1"},"TimingInformation":{"ProcessingTimeMilliseconds":3},"ConsumedIOs":{"ReadIOs":7,"WriteIOs":1}}}"#
        );
        let back: SendCommandResponse =
            serde_json::from_str(&serde_json::to_string(&resp).unwrap()).unwrap();
        assert_eq!(back, resp);

        let commit = SendCommandResponse {
            commit_transaction: Some(CommitTransactionResult {
                transaction_id: Some("AAAAAAAAAAAAAAAAAAAAAA".into()),
                commit_digest: Some(Blob::new(vec![0u8; 32])),
                timing_information: Some(TimingInformation::millis(1)),
                consumed_ios: Some(IoUsage::new(0, 2)),
            }),
            ..Default::default()
        };
        let v = serde_json::to_value(&commit).unwrap();
        assert_eq!(
            v,
            json!({"CommitTransaction": {
                "TransactionId": "AAAAAAAAAAAAAAAAAAAAAA",
                "CommitDigest": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                "TimingInformation": {"ProcessingTimeMilliseconds": 1},
                "ConsumedIOs": {"ReadIOs": 0, "WriteIOs": 2}
            }})
        );
        let start = SendCommandResponse {
            start_session: Some(StartSessionResult {
                session_token: Some("tok1".into()),
                timing_information: Some(TimingInformation::millis(1)),
            }),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&start).unwrap(),
            r#"{"StartSession":{"SessionToken":"tok1","TimingInformation":{"ProcessingTimeMilliseconds":1}}}"#
        );
        // Clients read pages without NextPageToken and empty Values.
        let last: Page = serde_json::from_str(r#"{"Values":[]}"#).unwrap();
        assert_eq!(last, Page::default());
    }
}
