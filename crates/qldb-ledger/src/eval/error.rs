//! Errors raised while evaluating a statement; the engine reports them as BadRequestException.

/// An evaluation failure with the message the client will see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

impl EvalError {
    pub fn new(msg: impl Into<String>) -> Self {
        EvalError(msg.into())
    }
}

pub type EvalResult<T> = Result<T, EvalError>;
