//! Statement evaluation: values, operators, functions, queries and DML.

pub mod error;
pub mod functions;
pub mod ops;
pub mod value;

pub use error::{EvalError, EvalResult};
pub use value::Value;
