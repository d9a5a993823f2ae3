//! QLDB's hashing over Ion: everything a ledger and a driver need to agree on, byte for byte.
//!
//! - [`ion_hash`] / [`ion_hash_str`]: the Ion Hash (specification 1.0, SHA-256) of a value.
//! - [`dot`]: QLDB's commutative combination of two hashes.
//! - [`statement_hash`] and [`CommitDigest`]: the per-transaction commit digest that client and
//!   server both compute and compare at commit.
//! - [`merkle_root`], [`merkle_proof`], [`verify_proof`] and [`MerkleLog`]: the Merkle trees of
//!   journal blocks and ledger digests (odd last node carried up unchanged).
//! - [`new_id`] / [`base62_u128`]: 22-character base62 ids like QLDB's document, table and
//!   transaction ids.
//! - [`calendar`]: day numbers ↔ proleptic Gregorian dates.
//!
//! The rules are those of the project's `spec/hashing.md` (sections 1–7); the test vectors of
//! `spec/vectors/hashes.json` are checked by this crate's integration tests.

mod base62;
pub mod calendar;
mod digest;
mod ionhash;
mod merkle;

pub use ion_rs;

pub use base62::{base62_u128, new_id};
pub use digest::{dot, sha256, statement_hash, CommitDigest, Hash};
pub use ionhash::{ion_hash, ion_hash_str};
pub use merkle::{merkle_proof, merkle_root, verify_proof, MerkleLog};
