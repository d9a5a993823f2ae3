//! The errors the ledger reports, one variant per QLDB error type, carrying the exact message
//! text clients see (drivers match on some of them, see `spec/wire-protocol.md` §3).

use crate::storage::StorageError;

/// A ledger error. `code()` is the AWS error type (`__type`) a server puts on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    // Session plane.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    InvalidSession(String),
    #[error("{0}")]
    OccConflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    CapacityExceeded(String),
    #[error("{0}")]
    RateExceeded(String),
    // Control plane.
    #[error("{message}")]
    ResourceNotFound { message: String, name: String },
    #[error("{message}")]
    ResourceAlreadyExists { message: String, name: String },
    #[error("{message}")]
    ResourceInUse { message: String, name: String },
    #[error("{message}")]
    ResourcePreconditionNotMet { message: String, name: String },
    #[error("{message}")]
    InvalidParameter {
        message: String,
        parameter: Option<String>,
    },
    /// The storage failed (disk full, I/O error). The ledger refuses further writes.
    #[error("{0}")]
    Internal(String),
}

impl LedgerError {
    /// The AWS error code (`__type`) of this error.
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::BadRequest(_) => "BadRequestException",
            LedgerError::InvalidSession(_) => "InvalidSessionException",
            LedgerError::OccConflict(_) => "OccConflictException",
            LedgerError::LimitExceeded(_) => "LimitExceededException",
            LedgerError::CapacityExceeded(_) => "CapacityExceededException",
            LedgerError::RateExceeded(_) => "RateExceededException",
            LedgerError::ResourceNotFound { .. } => "ResourceNotFoundException",
            LedgerError::ResourceAlreadyExists { .. } => "ResourceAlreadyExistsException",
            LedgerError::ResourceInUse { .. } => "ResourceInUseException",
            LedgerError::ResourcePreconditionNotMet { .. } => "ResourcePreconditionNotMetException",
            LedgerError::InvalidParameter { .. } => "InvalidParameterException",
            LedgerError::Internal(_) => "InternalFailure",
        }
    }

    /// The message text.
    pub fn message(&self) -> String {
        self.to_string()
    }

    pub fn bad_request(msg: impl Into<String>) -> Self {
        LedgerError::BadRequest(msg.into())
    }

    pub fn ledger_not_found(name: &str) -> Self {
        LedgerError::ResourceNotFound {
            message: format!("Ledger '{name}' does not exist"),
            name: name.to_string(),
        }
    }

    pub fn invalid_parameter(msg: impl Into<String>, parameter: Option<&str>) -> Self {
        LedgerError::InvalidParameter {
            message: msg.into(),
            parameter: parameter.map(str::to_string),
        }
    }
}

impl From<StorageError> for LedgerError {
    fn from(e: StorageError) -> Self {
        LedgerError::Internal(format!("Storage failure: {e}"))
    }
}

impl From<crate::eval::EvalError> for LedgerError {
    fn from(e: crate::eval::EvalError) -> Self {
        LedgerError::BadRequest(e.0)
    }
}

pub type LedgerResult<T> = Result<T, LedgerError>;
