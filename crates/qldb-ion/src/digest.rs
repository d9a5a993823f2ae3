//! SHA-256, QLDB's `dot` operation, statement hashes and the per-transaction commit digest
//! (hashing.md §2–§3).

use sha2::{Digest, Sha256};

use crate::ionhash::ion_hash_str;

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// Plain SHA-256 of `bytes`.
#[inline]
pub fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// `true` if `a` sorts strictly before `b` when both are read as signed bytes from index 31 down
/// to index 0.
#[inline]
fn sorts_before(a: &Hash, b: &Hash) -> bool {
    for i in (0..32).rev() {
        let (x, y) = (a[i] as i8, b[i] as i8);
        if x != y {
            return x < y;
        }
    }
    false
}

/// QLDB's `dot`: SHA-256 of the two hashes concatenated, the one that sorts first (signed bytes
/// compared from index 31 down to 0) in front. Commutative, not associative.
pub fn dot(a: &Hash, b: &Hash) -> Hash {
    let (first, second) = if sorts_before(b, a) { (b, a) } else { (a, b) };
    let mut hasher = Sha256::new();
    hasher.update(first);
    hasher.update(second);
    hasher.finalize().into()
}

/// The hash of one executed statement: `S = H(text)`, then `S = dot(S, p)` for each parameter
/// hash `p` in order.
pub fn statement_hash(text: &str, param_hashes: &[Hash]) -> Hash {
    param_hashes
        .iter()
        .fold(ion_hash_str(text), |s, p| dot(&s, p))
}

/// The commit digest of a transaction, accumulated statement by statement.
///
/// `D = H(transactionId)`; each statement then sets `D = dot(D, S)` with `S` its
/// [`statement_hash`]. Client and server compute it the same way; a commit whose digest differs is
/// rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitDigest {
    digest: Hash,
}

impl CommitDigest {
    /// Starts the digest of the transaction `transaction_id`: `D = H(txid as an Ion string)`.
    pub fn new(transaction_id: &str) -> Self {
        CommitDigest {
            digest: ion_hash_str(transaction_id),
        }
    }

    /// Folds in one executed statement: `D = dot(D, statement_hash(text, param_hashes))`.
    pub fn add_statement(&mut self, text: &str, param_hashes: &[Hash]) {
        self.add_statement_hash(&statement_hash(text, param_hashes));
    }

    /// Folds in a statement hash computed with [`statement_hash`]: `D = dot(D, S)`.
    pub fn add_statement_hash(&mut self, statement: &Hash) {
        self.digest = dot(&self.digest, statement);
    }

    /// The current digest.
    pub fn value(&self) -> Hash {
        self.digest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_is_symmetric_and_orders_by_signed_bytes_from_the_end() {
        let a = sha256(b"1");
        let b = sha256(b"2");
        assert_eq!(dot(&a, &b), dot(&b, &a));
        assert_eq!(dot(&a, &a), sha256(&[a, a].concat()));

        // Byte 31 decides first; 0x80 is negative as a signed byte, so it sorts before 0x01.
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        x[31] = 0x80;
        y[31] = 0x01;
        y[0] = 0xFF;
        assert_eq!(dot(&x, &y), sha256(&[x, y].concat()));
        assert_eq!(dot(&y, &x), sha256(&[x, y].concat()));

        // Equal tails: an earlier index decides.
        let mut p = [7u8; 32];
        let mut q = [7u8; 32];
        p[3] = 0x7F;
        q[3] = 0xFE; // -2
        assert_eq!(dot(&p, &q), sha256(&[q, p].concat()));
    }

    #[test]
    fn dot_symmetry_over_many_pairs() {
        for i in 0u32..500 {
            let a = sha256(&i.to_le_bytes());
            let b = sha256(&(i + 1000).to_le_bytes());
            assert_eq!(dot(&a, &b), dot(&b, &a));
        }
    }

    #[test]
    fn commit_digest_accumulates_statements() {
        let mut d = CommitDigest::new("txn");
        assert_eq!(d.value(), ion_hash_str("txn"));
        let p = ion_hash_str("param");
        d.add_statement("SELECT ?", &[p]);
        let s = dot(&ion_hash_str("SELECT ?"), &p);
        assert_eq!(d.value(), dot(&ion_hash_str("txn"), &s));
        assert_eq!(statement_hash("SELECT ?", &[p]), s);
        assert_eq!(statement_hash("x", &[]), ion_hash_str("x"));
    }
}
