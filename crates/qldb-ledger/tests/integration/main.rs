//! Integration tests of the ledger engine, built as one binary.

mod support;

mod basics;
