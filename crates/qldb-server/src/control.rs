//! The control plane (REST-JSON, `spec/wire-protocol.md` §6): ledger lifecycle (create,
//! describe, update, delete, list) and the verification APIs (GetDigest, GetRevision,
//! GetBlock). Engine calls run in blocking tasks (creation and updates fsync metadata).

use crate::router::{internal_failure, ledger_error_body, Plane, Reply};
use crate::server::AppState;
use crate::sigv4::percent_decode;
use bytes::Bytes;
use http::request::Parts;
use http::{Method, StatusCode};
use qldb_ledger::{BlockAddress, Engine, LedgerDescription, LedgerError};
use qldb_wire::control::{
    epoch_seconds, CreateLedgerRequest, CreateLedgerResponse, DescribeLedgerResponse,
    EncryptionDescription, GetBlockRequest, GetBlockResponse, GetDigestResponse,
    GetRevisionRequest, GetRevisionResponse, LedgerSummary, ListLedgersResponse,
    UpdateLedgerRequest, UpdateLedgerResponse, AWS_OWNED_KMS_KEY,
};
use qldb_wire::{blob, validate, Blob, ErrorBody, ErrorCode, ValueHolder, WireError};
use std::sync::Arc;

const MAX_TAGS: usize = 200;
const MAX_KMS_KEY_CHARS: usize = 1600;

type Outcome = Result<Reply, ErrorBody>;

pub(crate) async fn handle(state: &Arc<AppState>, parts: &Parts, body: Bytes) -> Reply {
    let path = parts.uri.path();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = parts.method.clone();
    let name = |i: usize| -> Result<String, ErrorBody> {
        String::from_utf8(percent_decode(segments[i])).map_err(|_| {
            WireError::invalid_parameter("The ledger name is not valid UTF-8", "Name").to_body()
        })
    };
    let query = parts.uri.query().unwrap_or("").to_string();
    let engine = state.engine.clone();
    let run = |f: Box<dyn FnOnce(&Engine) -> Outcome + Send>| async move {
        match tokio::task::spawn_blocking(move || f(&engine)).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(body)) => Reply::error(Plane::Control, body),
            Err(e) => Reply::error(
                Plane::Control,
                internal_failure("serving the control plane", e),
            ),
        }
    };
    let routed: Result<Reply, ErrorBody> = match (&method, segments.as_slice()) {
        (&Method::POST, ["ledgers"]) => match parse::<CreateLedgerRequest>(&body) {
            Ok(req) => Ok(run(Box::new(move |e| create(e, req))).await),
            Err(b) => Err(b),
        },
        (&Method::GET, ["ledgers"]) => Ok(run(Box::new(move |e| list(e, &query))).await),
        (&Method::GET, ["ledgers", _]) => match name(1) {
            Ok(n) => Ok(run(Box::new(move |e| describe(e, &n))).await),
            Err(b) => Err(b),
        },
        (&Method::PATCH, ["ledgers", _]) => match (name(1), parse::<UpdateLedgerRequest>(&body)) {
            (Ok(n), Ok(req)) => Ok(run(Box::new(move |e| update(e, &n, req))).await),
            (Err(b), _) | (_, Err(b)) => Err(b),
        },
        (&Method::DELETE, ["ledgers", _]) => match name(1) {
            Ok(n) => Ok(run(Box::new(move |e| delete(e, &n))).await),
            Err(b) => Err(b),
        },
        (&Method::POST, ["ledgers", _, "digest"]) => match name(1) {
            Ok(n) => Ok(run(Box::new(move |e| digest(e, &n))).await),
            Err(b) => Err(b),
        },
        (&Method::POST, ["ledgers", _, "revision"]) => {
            match (name(1), parse::<GetRevisionRequest>(&body)) {
                (Ok(n), Ok(req)) => Ok(run(Box::new(move |e| revision(e, &n, req))).await),
                (Err(b), _) | (_, Err(b)) => Err(b),
            }
        }
        (&Method::POST, ["ledgers", _, "block"]) => {
            match (name(1), parse::<GetBlockRequest>(&body)) {
                (Ok(n), Ok(req)) => Ok(run(Box::new(move |e| block(e, &n, req))).await),
                (Err(b), _) | (_, Err(b)) => Err(b),
            }
        }
        (_, ["ledgers"] | ["ledgers", _] | ["ledgers", _, "digest" | "revision" | "block"]) => {
            Err(WireError::new(
                ErrorCode::MethodNotAllowed,
                format!("{method} is not allowed on {path}"),
            )
            .to_body())
        }
        (_, [""]) => Err(WireError::new(
            ErrorCode::UnknownOperation,
            format!(
                "Missing X-Amz-Target header: session commands are POST / with \
                 X-Amz-Target: {}",
                qldb_wire::SEND_COMMAND_TARGET
            ),
        )
        .to_body()),
        _ => {
            return Reply::wire_error(
                Plane::Control,
                WireError::new(
                    ErrorCode::UnknownOperation,
                    format!("No operation at {method} {path}"),
                ),
            )
            .with_status(StatusCode::NOT_FOUND)
        }
    };
    routed.unwrap_or_else(|b| Reply::error(Plane::Control, b))
}

/// Parses a JSON body; an empty body reads as `{}`.
fn parse<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ErrorBody> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        WireError::new(
            ErrorCode::InvalidParameter,
            format!("Malformed request body: {e}"),
        )
        .to_body()
    })
}

fn ledger_err(e: LedgerError) -> ErrorBody {
    if let LedgerError::Internal(msg) = &e {
        tracing::error!(error = %msg, "the ledger failed");
    }
    ledger_error_body(&e)
}

fn invalid(message: impl Into<String>, parameter: &str) -> ErrorBody {
    WireError::invalid_parameter(message, parameter).to_body()
}

fn kms_arn(d: &LedgerDescription) -> String {
    d.kms_key
        .clone()
        .unwrap_or_else(|| AWS_OWNED_KMS_KEY.into())
}

fn encryption(d: &LedgerDescription) -> EncryptionDescription {
    EncryptionDescription {
        kms_key_arn: kms_arn(d),
        encryption_status: "ENABLED".into(),
        inaccessible_kms_key_date_time: None,
    }
}

fn check_kms_key(key: &Option<String>) -> Result<(), ErrorBody> {
    match key {
        Some(k) if k.chars().count() > MAX_KMS_KEY_CHARS => Err(invalid(
            format!("KmsKey must have at most {MAX_KMS_KEY_CHARS} characters"),
            "KmsKey",
        )),
        _ => Ok(()),
    }
}

fn create(engine: &Engine, req: CreateLedgerRequest) -> Outcome {
    let name = req
        .name
        .ok_or_else(|| invalid("Name is required", "Name"))?;
    validate::ledger_name(&name, "name").map_err(|e| e.for_control_plane().to_body())?;
    let permissions_mode = req
        .permissions_mode
        .ok_or_else(|| invalid("PermissionsMode is required", "PermissionsMode"))?;
    if req.tags.as_ref().is_some_and(|t| t.len() > MAX_TAGS) {
        return Err(invalid(
            format!("A ledger takes at most {MAX_TAGS} tags"),
            "Tags",
        ));
    }
    check_kms_key(&req.kms_key)?;
    let kms_key = req.kms_key.filter(|k| k != AWS_OWNED_KMS_KEY);
    let d = engine
        .create_ledger(qldb_ledger::CreateLedgerRequest {
            name,
            permissions_mode,
            deletion_protection: req.deletion_protection.unwrap_or(true),
            kms_key,
        })
        .map_err(ledger_err)?;
    tracing::info!(ledger = %d.name, "ledger created");
    Ok(Reply::json(
        Plane::Control,
        200,
        &CreateLedgerResponse {
            kms_key_arn: Some(kms_arn(&d)),
            name: d.name,
            arn: d.arn,
            state: d.state,
            creation_date_time: epoch_seconds(d.created_millis),
            permissions_mode: d.permissions_mode,
            deletion_protection: d.deletion_protection,
        },
    ))
}

fn describe(engine: &Engine, name: &str) -> Outcome {
    let d = engine.describe_ledger(name).map_err(ledger_err)?;
    Ok(Reply::json(
        Plane::Control,
        200,
        &DescribeLedgerResponse {
            encryption_description: Some(encryption(&d)),
            name: d.name,
            arn: d.arn,
            state: d.state,
            creation_date_time: epoch_seconds(d.created_millis),
            permissions_mode: d.permissions_mode,
            deletion_protection: d.deletion_protection,
        },
    ))
}

fn update(engine: &Engine, name: &str, req: UpdateLedgerRequest) -> Outcome {
    check_kms_key(&req.kms_key)?;
    let d = engine
        .update_ledger(name, req.deletion_protection, req.kms_key)
        .map_err(ledger_err)?;
    Ok(Reply::json(
        Plane::Control,
        200,
        &UpdateLedgerResponse {
            encryption_description: Some(encryption(&d)),
            name: d.name,
            arn: d.arn,
            state: d.state,
            creation_date_time: epoch_seconds(d.created_millis),
            deletion_protection: d.deletion_protection,
        },
    ))
}

fn delete(engine: &Engine, name: &str) -> Outcome {
    engine.delete_ledger(name).map_err(ledger_err)?;
    tracing::info!(ledger = %name, "ledger deleted");
    Ok(Reply::empty(Plane::Control))
}

fn list(engine: &Engine, query: &str) -> Outcome {
    let mut max_results = 100usize;
    let mut after: Option<String> = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = String::from_utf8_lossy(&percent_decode(v)).into_owned();
        match k {
            "max_results" => {
                max_results = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| invalid("MaxResults must be from 1 to 100", "MaxResults"))?;
            }
            "next_token" => {
                let bad = || invalid("NextToken is not a token this server issued", "NextToken");
                if !(4..=1024).contains(&v.len()) {
                    return Err(bad());
                }
                let bytes = blob::decode(&v).map_err(|_| bad())?;
                let name = String::from_utf8(bytes).map_err(|_| bad())?;
                after = Some(name.strip_prefix("after:").ok_or_else(bad)?.to_string());
            }
            _ => {}
        }
    }
    let all = engine.list_ledgers();
    let mut rest = all
        .into_iter()
        .filter(|d| after.as_ref().is_none_or(|a| d.name.as_str() > a.as_str()))
        .peekable();
    let mut ledgers = Vec::new();
    while ledgers.len() < max_results {
        match rest.next() {
            Some(d) => ledgers.push(LedgerSummary {
                name: d.name,
                state: d.state,
                creation_date_time: epoch_seconds(d.created_millis),
            }),
            None => break,
        }
    }
    let next_token = match (rest.peek(), ledgers.last()) {
        (Some(_), Some(last)) => Some(blob::encode(format!("after:{}", last.name).as_bytes())),
        _ => None,
    };
    Ok(Reply::json(
        Plane::Control,
        200,
        &ListLedgersResponse {
            ledgers,
            next_token,
        },
    ))
}

fn digest(engine: &Engine, name: &str) -> Outcome {
    let (hash, tip) = engine.get_digest(name).map_err(ledger_err)?;
    Ok(Reply::json(
        Plane::Control,
        200,
        &GetDigestResponse {
            digest: Blob::new(hash.to_vec()),
            digest_tip_address: ValueHolder::text(tip.to_ion_text()),
        },
    ))
}

/// A block address from `{"IonText": …}` (or `{"IonBinary": …}`).
fn address(
    holder: Option<&ValueHolder>,
    parameter: &str,
) -> Result<Option<BlockAddress>, ErrorBody> {
    let Some(h) = holder else {
        return Ok(None);
    };
    let element = match (&h.ion_text, &h.ion_binary) {
        (Some(t), _) => ion_rs::Element::read_one(t.as_bytes()),
        (None, Some(b)) => ion_rs::Element::read_one(b.as_bytes()),
        (None, None) => return Err(invalid(format!("{parameter} needs IonText"), parameter)),
    }
    .map_err(|e| invalid(format!("{parameter} is not valid Ion: {e}"), parameter))?;
    BlockAddress::from_element(&element).map(Some).map_err(|e| {
        let mut body = ledger_error_body(&e);
        body.parameter_name = Some(parameter.to_string());
        body
    })
}

fn revision(engine: &Engine, name: &str, req: GetRevisionRequest) -> Outcome {
    let block_address = address(req.block_address.as_ref(), "BlockAddress")?
        .ok_or_else(|| invalid("BlockAddress is required", "BlockAddress"))?;
    let document_id = req
        .document_id
        .ok_or_else(|| invalid("DocumentId is required", "DocumentId"))?;
    validate::id22(&document_id, "documentId").map_err(|e| e.for_control_plane().to_body())?;
    let tip = address(req.digest_tip_address.as_ref(), "DigestTipAddress")?;
    let (revision, proof) = engine
        .get_revision(name, &block_address, &document_id, tip.as_ref())
        .map_err(ledger_err)?;
    Ok(Reply::json(
        Plane::Control,
        200,
        &GetRevisionResponse {
            proof: proof.map(ValueHolder::text),
            revision: ValueHolder::text(revision),
        },
    ))
}

fn block(engine: &Engine, name: &str, req: GetBlockRequest) -> Outcome {
    let block_address = address(req.block_address.as_ref(), "BlockAddress")?
        .ok_or_else(|| invalid("BlockAddress is required", "BlockAddress"))?;
    let tip = address(req.digest_tip_address.as_ref(), "DigestTipAddress")?;
    let (block, proof) = engine
        .get_block(name, &block_address, tip.as_ref())
        .map_err(ledger_err)?;
    Ok(Reply::json(
        Plane::Control,
        200,
        &GetBlockResponse {
            block: ValueHolder::text(block),
            proof: proof.map(ValueHolder::text),
        },
    ))
}
