//! PartiQL scalar functions (placeholder API so the crate compiles; helper-3 replaces this file).
use super::{EvalError, EvalResult, Value};

pub struct FnContext<'c> {
    pub transaction_id: &'c str,
    pub now: ion_rs::Timestamp,
}

pub fn call_scalar(name: &str, _args: Vec<Value>, _ctx: &FnContext) -> EvalResult<Value<'static>> {
    Err(EvalError::new(format!("Function not supported: {name}")))
}

pub fn cast(_v: &Value, type_name: &str) -> EvalResult<Value<'static>> {
    Err(EvalError::new(format!("CAST to {type_name} not available")))
}

pub fn is_scalar_function(_name: &str) -> bool {
    false
}
