//! Error codes of both planes, their HTTP statuses and the JSON error body
//! (`spec/wire-protocol.md` §3 and §6.1).
//!
//! The session model declares no statuses: every session error is 400 except
//! `CapacityExceededException` (503). The control-plane statuses are the model's. The server's
//! own conditions (signature checks, body size, unknown operations, injected faults) use the
//! codes AWS front ends use for them.

use serde::{Deserialize, Serialize};

/// An AWS error code (`__type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    // Session plane.
    BadRequest,
    InvalidSession,
    OccConflict,
    RateExceeded,
    LimitExceeded,
    CapacityExceeded,
    // Control plane.
    InvalidParameter,
    ResourceAlreadyExists,
    ResourceInUse,
    ResourceNotFound,
    ResourcePreconditionNotMet,
    // Service front end.
    InternalFailure,
    ServiceUnavailable,
    InvalidSignature,
    UnrecognizedClient,
    RequestEntityTooLarge,
    UnknownOperation,
    MethodNotAllowed,
    AccessDenied,
}

impl ErrorCode {
    /// Every code, for tests and look-ups.
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::BadRequest,
        ErrorCode::InvalidSession,
        ErrorCode::OccConflict,
        ErrorCode::RateExceeded,
        ErrorCode::LimitExceeded,
        ErrorCode::CapacityExceeded,
        ErrorCode::InvalidParameter,
        ErrorCode::ResourceAlreadyExists,
        ErrorCode::ResourceInUse,
        ErrorCode::ResourceNotFound,
        ErrorCode::ResourcePreconditionNotMet,
        ErrorCode::InternalFailure,
        ErrorCode::ServiceUnavailable,
        ErrorCode::InvalidSignature,
        ErrorCode::UnrecognizedClient,
        ErrorCode::RequestEntityTooLarge,
        ErrorCode::UnknownOperation,
        ErrorCode::MethodNotAllowed,
        ErrorCode::AccessDenied,
    ];

    /// The code as it appears in `__type` and `X-Amzn-ErrorType`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "BadRequestException",
            ErrorCode::InvalidSession => "InvalidSessionException",
            ErrorCode::OccConflict => "OccConflictException",
            ErrorCode::RateExceeded => "RateExceededException",
            ErrorCode::LimitExceeded => "LimitExceededException",
            ErrorCode::CapacityExceeded => "CapacityExceededException",
            ErrorCode::InvalidParameter => "InvalidParameterException",
            ErrorCode::ResourceAlreadyExists => "ResourceAlreadyExistsException",
            ErrorCode::ResourceInUse => "ResourceInUseException",
            ErrorCode::ResourceNotFound => "ResourceNotFoundException",
            ErrorCode::ResourcePreconditionNotMet => "ResourcePreconditionNotMetException",
            ErrorCode::InternalFailure => "InternalFailure",
            ErrorCode::ServiceUnavailable => "ServiceUnavailable",
            ErrorCode::InvalidSignature => "InvalidSignatureException",
            ErrorCode::UnrecognizedClient => "UnrecognizedClientException",
            ErrorCode::RequestEntityTooLarge => "RequestEntityTooLargeException",
            ErrorCode::UnknownOperation => "UnknownOperationException",
            ErrorCode::MethodNotAllowed => "MethodNotAllowedException",
            ErrorCode::AccessDenied => "AccessDeniedException",
        }
    }

    /// Parses a code as SDKs read it: the text after an optional `namespace#`, and after that
    /// anything from the first `:` (the `X-Amzn-ErrorType` header may carry `Code:http://…`).
    pub fn parse(code: &str) -> Option<ErrorCode> {
        let code = code.rsplit('#').next().unwrap_or(code);
        let code = code.split(':').next().unwrap_or(code).trim();
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The HTTP status a server answers this error with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest
            | ErrorCode::InvalidSession
            | ErrorCode::OccConflict
            | ErrorCode::RateExceeded
            | ErrorCode::LimitExceeded
            | ErrorCode::InvalidParameter
            | ErrorCode::UnknownOperation => 400,
            ErrorCode::CapacityExceeded | ErrorCode::ServiceUnavailable => 503,
            ErrorCode::ResourceAlreadyExists | ErrorCode::ResourceInUse => 409,
            ErrorCode::ResourceNotFound => 404,
            ErrorCode::ResourcePreconditionNotMet => 412,
            ErrorCode::InternalFailure => 500,
            ErrorCode::InvalidSignature
            | ErrorCode::UnrecognizedClient
            | ErrorCode::AccessDenied => 403,
            ErrorCode::RequestEntityTooLarge => 413,
            ErrorCode::MethodNotAllowed => 405,
        }
    }

    /// Whether every QLDB driver retries this error (HTTP 500/503, OCC, invalid sessions other
    /// than transaction expiry, which callers tell apart by the message).
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorCode::OccConflict | ErrorCode::InvalidSession)
            || matches!(self.http_status(), 500 | 503)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The HTTP status for an error code string such as `qldb_ledger::LedgerError::code()`:
/// session errors 400 except `CapacityExceededException` 503; control-plane errors per the
/// model; `InternalFailure` 500. Unknown codes are client errors (400).
pub fn http_status(code: &str) -> u16 {
    ErrorCode::parse(code).map_or(400, ErrorCode::http_status)
}

/// The error body: `{"__type": code, "Message": text}` plus the modelled members of the
/// control-plane errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "__type")]
    pub error_type: String,
    #[serde(rename = "Message", alias = "message", default)]
    pub message: String,
    #[serde(
        rename = "ParameterName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub parameter_name: Option<String>,
    #[serde(
        rename = "ResourceType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_type: Option<String>,
    #[serde(
        rename = "ResourceName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_name: Option<String>,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error_type: code.into(),
            message: message.into(),
            parameter_name: None,
            resource_type: None,
            resource_name: None,
        }
    }

    /// The parsed code, if it is one of [`ErrorCode`].
    pub fn code(&self) -> Option<ErrorCode> {
        ErrorCode::parse(&self.error_type)
    }

    /// The HTTP status for this body's code.
    pub fn http_status(&self) -> u16 {
        http_status(&self.error_type)
    }
}

/// A request the wire layer rejects (malformed JSON, a violated constraint), or any error with
/// a code and message on its way to an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    pub code: ErrorCode,
    pub message: String,
    /// The offending member, for `InvalidParameterException`.
    pub parameter: Option<String>,
}

impl WireError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> WireError {
        WireError {
            code,
            message: message.into(),
            parameter: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> WireError {
        WireError::new(ErrorCode::BadRequest, message)
    }

    pub fn invalid_parameter(message: impl Into<String>, parameter: &str) -> WireError {
        WireError {
            code: ErrorCode::InvalidParameter,
            message: message.into(),
            parameter: Some(parameter.to_string()),
        }
    }

    /// Re-codes a validation error for the control plane (`InvalidParameterException`).
    pub fn for_control_plane(mut self) -> WireError {
        if self.code == ErrorCode::BadRequest {
            self.code = ErrorCode::InvalidParameter;
        }
        self
    }

    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    pub fn to_body(&self) -> ErrorBody {
        let mut body = ErrorBody::new(self.code.as_str(), self.message.clone());
        body.parameter_name = self.parameter.clone();
        body
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for WireError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_spec() {
        for code in [
            "BadRequestException",
            "InvalidSessionException",
            "OccConflictException",
            "RateExceededException",
            "LimitExceededException",
            "InvalidParameterException",
        ] {
            assert_eq!(http_status(code), 400, "{code}");
        }
        assert_eq!(http_status("CapacityExceededException"), 503);
        assert_eq!(http_status("ResourceAlreadyExistsException"), 409);
        assert_eq!(http_status("ResourceInUseException"), 409);
        assert_eq!(http_status("ResourceNotFoundException"), 404);
        assert_eq!(http_status("ResourcePreconditionNotMetException"), 412);
        assert_eq!(http_status("InternalFailure"), 500);
        assert_eq!(http_status("ServiceUnavailable"), 503);
        assert_eq!(http_status("InvalidSignatureException"), 403);
        assert_eq!(http_status("UnrecognizedClientException"), 403);
        assert_eq!(http_status("RequestEntityTooLargeException"), 413);
        assert_eq!(http_status("SomethingElse"), 400);
    }

    #[test]
    fn codes_parse_with_namespaces_and_round_trip() {
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(c));
        }
        assert_eq!(
            ErrorCode::parse("com.amazonaws.qldbsession#OccConflictException"),
            Some(ErrorCode::OccConflict)
        );
        assert_eq!(
            ErrorCode::parse("InvalidSessionException:http://internal.amazon.com/"),
            Some(ErrorCode::InvalidSession)
        );
        assert_eq!(ErrorCode::parse("Nope"), None);
    }

    #[test]
    fn body_serialises_with_aws_member_names() {
        let body = ErrorBody::new("BadRequestException", "No open transaction");
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"__type":"BadRequestException","Message":"No open transaction"}"#
        );
        let mut nf = ErrorBody::new("ResourceNotFoundException", "Ledger 'x' does not exist");
        nf.resource_type = Some("LEDGER".into());
        nf.resource_name = Some("x".into());
        let v: serde_json::Value = serde_json::to_value(&nf).unwrap();
        assert_eq!(v["ResourceType"], "LEDGER");
        assert_eq!(v["ResourceName"], "x");
        let lower: ErrorBody =
            serde_json::from_str(r#"{"__type":"a#OccConflictException","message":"m"}"#).unwrap();
        assert_eq!(lower.code(), Some(ErrorCode::OccConflict));
        assert_eq!(lower.message, "m");
    }

    #[test]
    fn retryable_codes() {
        assert!(ErrorCode::OccConflict.is_retryable());
        assert!(ErrorCode::CapacityExceeded.is_retryable());
        assert!(ErrorCode::InternalFailure.is_retryable());
        assert!(!ErrorCode::BadRequest.is_retryable());
        assert!(!ErrorCode::RateExceeded.is_retryable());
    }
}
