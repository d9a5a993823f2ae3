//! Integration tests of the ledger engine, built as one binary.

mod support;

mod basics;
mod concurrency;
mod crash;
mod errors;
mod ion_types;
mod model;
mod occ;
mod proofs;
mod views;
