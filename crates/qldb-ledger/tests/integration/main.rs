//! Integration tests of the ledger engine, built as one binary.

mod support;

mod basics;
mod occ;
mod concurrency;
mod crash;
mod model;
mod ion_types;
mod views;
mod errors;
