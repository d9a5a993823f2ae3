//! QLDB's PartiQL dialect: the syntax tree and its parser.

pub mod ast;
mod lexer;
mod parser;

pub use parser::{parse, ParseError};
