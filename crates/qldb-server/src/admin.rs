//! The loopback-only admin API under `/_qldb_local/`: fault rules for driver retry tests and a
//! health check. Requests from other addresses get 403; no signature is required.
//!
//! - `POST /_qldb_local/faults` `{"command", "nth": N|null, "times": K, "reaction"}` adds a
//!   rule (counting starts now) and answers `{"id", "rule"}`.
//! - `GET /_qldb_local/faults` lists `{"rules": [{id, command, nth, times, reaction, seen, hits}]}`.
//! - `DELETE /_qldb_local/faults` removes every rule: `{"cleared": n}`.
//! - `GET /_qldb_local/health`: `{"status": "ok", "sessions": n}`.

use crate::faults::{FaultRule, FaultRuleSpec};
use crate::router::{Plane, Reply};
use crate::server::AppState;
use http::request::Parts;
use http::Method;
use qldb_wire::{ErrorCode, WireError};
use serde_json::json;
use std::net::SocketAddr;

/// Path prefix of the admin API.
pub const PREFIX: &str = "/_qldb_local/";

pub(crate) fn handle(state: &AppState, peer: SocketAddr, parts: &Parts, body: &[u8]) -> Reply {
    if !peer.ip().is_loopback() {
        return Reply::wire_error(
            Plane::Admin,
            WireError::new(
                ErrorCode::AccessDenied,
                "The qldb-local admin API only answers loopback clients",
            ),
        );
    }
    let path = parts.uri.path().trim_end_matches('/');
    match (&parts.method, path) {
        (&Method::GET, "/_qldb_local/faults") => {
            Reply::json(Plane::Admin, 200, &json!({"rules": state.faults.list()}))
        }
        (&Method::DELETE, "/_qldb_local/faults") => {
            let n = state.faults.clear();
            tracing::info!(cleared = n, "fault rules cleared");
            Reply::json(Plane::Admin, 200, &json!({"cleared": n}))
        }
        (&Method::POST, "/_qldb_local/faults") => {
            let rule = serde_json::from_slice::<FaultRuleSpec>(body)
                .map_err(|e| e.to_string())
                .and_then(FaultRule::try_from);
            match rule {
                Ok(rule) => {
                    let id = state.faults.add(rule);
                    let status = state.faults.list().into_iter().find(|s| s.id == id);
                    tracing::info!(id, rule = ?status, "fault rule added");
                    Reply::json(Plane::Admin, 200, &json!({"id": id, "rule": status}))
                }
                Err(e) => Reply::wire_error(
                    Plane::Admin,
                    WireError::bad_request(format!("Invalid fault rule: {e}")),
                ),
            }
        }
        (&Method::GET, "/_qldb_local/health") => Reply::json(
            Plane::Admin,
            200,
            &json!({"status": "ok", "sessions": state.engine.session_count()}),
        ),
        (_, "/_qldb_local/faults" | "/_qldb_local/health") => Reply::wire_error(
            Plane::Admin,
            WireError::new(
                ErrorCode::MethodNotAllowed,
                format!("{} is not allowed on {path}", parts.method),
            ),
        ),
        _ => Reply::wire_error(
            Plane::Admin,
            WireError::new(
                ErrorCode::UnknownOperation,
                format!("No admin resource at {path}"),
            ),
        )
        .with_status(http::StatusCode::NOT_FOUND),
    }
}
