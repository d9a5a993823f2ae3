//! Merkle trees built with [`dot`](crate::dot), for journal blocks and ledger digests
//! (hashing.md §5–§7).
//!
//! Tree shape: the leaves are paired left to right and each pair combined with `dot`; an odd last
//! node is carried up unchanged; this repeats until one node remains. Because `dot` is
//! commutative, a proof is just the list of sibling hashes from the leaf up (levels where the node
//! is carried up contribute nothing), verified by folding it into the leaf with `dot`.
//!
//! For `n` leaves this tree equals folding, from the right, the roots of the perfect subtrees
//! ("peaks") given by the binary digits of `n`: at every level the complete pairs are perfect
//! subtrees, and the single partial node on the right edge is the fold of the smaller peaks.
//! [`MerkleLog`] relies on this to answer roots and proofs for any prefix of an append-only log.

use crate::digest::{dot, Hash};

/// One level up: neighbours combined left to right, an odd last node carried up unchanged.
fn next_level(level: &mut Vec<Hash>) {
    let n = level.len();
    for i in 0..n / 2 {
        level[i] = dot(&level[2 * i], &level[2 * i + 1]);
    }
    if n % 2 == 1 {
        level[n / 2] = level[n - 1];
    }
    level.truncate(n.div_ceil(2));
}

/// The Merkle root of `leaves` (neighbours combined left to right with `dot`, an odd last node
/// carried up unchanged); `None` for an empty list.
pub fn merkle_root(leaves: &[Hash]) -> Option<Hash> {
    match leaves {
        [] => None,
        [single] => Some(*single),
        _ => {
            let mut level = leaves.to_vec();
            while level.len() > 1 {
                next_level(&mut level);
            }
            Some(level[0])
        }
    }
}

/// The proof of `leaves[index]` in the tree of [`merkle_root`]: the sibling hashes from the leaf
/// up to the root, skipping levels where the node is carried up. Empty for a one-leaf tree, and
/// for an `index` out of range.
pub fn merkle_proof(leaves: &[Hash], index: usize) -> Vec<Hash> {
    let mut proof = Vec::new();
    if index >= leaves.len() {
        return proof;
    }
    let mut level = leaves.to_vec();
    let mut position = index;
    while level.len() > 1 {
        if let Some(sibling) = level.get(position ^ 1) {
            proof.push(*sibling);
        }
        next_level(&mut level);
        position /= 2;
    }
    proof
}

/// `true` if folding `proof` into `leaf` with `dot` (`candidate = dot(candidate, p)` for each `p`
/// in order) gives `root`.
pub fn verify_proof(leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    proof.iter().fold(*leaf, |candidate, p| dot(&candidate, p)) == *root
}

/// An append-only Merkle log over block hashes (the ledger digest is its root over blocks
/// `0..=tip`).
///
/// Keeps every level so that roots and proofs for any prefix are O(log n) apart from the
/// carried-up right edge. `levels[k][i]` is the root of the perfect subtree over leaves
/// `i·2^k .. (i+1)·2^k`; only complete subtrees are stored (about `2n` hashes in all).
#[derive(Default, Clone, Debug)]
pub struct MerkleLog {
    levels: Vec<Vec<Hash>>,
}

impl MerkleLog {
    /// Appends a leaf, completing the perfect subtrees it closes.
    pub fn push(&mut self, leaf: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut k = 0;
        while self.levels[k].len().is_multiple_of(2) {
            let level = &self.levels[k];
            let parent = dot(&level[level.len() - 2], &level[level.len() - 1]);
            if self.levels.len() == k + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[k + 1].push(parent);
            k += 1;
        }
    }

    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// `true` if the log has no leaf.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Leaf `i`, if there is one.
    pub fn leaf(&self, i: u64) -> Option<Hash> {
        let i = usize::try_from(i).ok()?;
        self.levels.first()?.get(i).copied()
    }

    /// The fold of the peaks of the first `n` leaves whose height is below `below`: for
    /// `below = 64` the root of the tree over `0..n`; for a level `k`, the partial node on the
    /// right edge of level `k` of that tree (the root over the leaves after the last complete
    /// `2^k` block). `None` when there is no such peak.
    fn fold_peaks(&self, n: u64, below: u32) -> Option<Hash> {
        let mut acc: Option<Hash> = None;
        for k in 0..below.min(64) {
            if n & (1 << k) != 0 {
                let peak = self.levels[k as usize][((n >> k) - 1) as usize];
                acc = Some(match acc {
                    None => peak,
                    Some(right) => dot(&peak, &right),
                });
            }
        }
        acc
    }

    /// The root of the tree over leaves `0..n` (same rule as [`merkle_root`]); `None` if `n == 0`
    /// or `n > len`.
    pub fn root(&self, n: u64) -> Option<Hash> {
        if n == 0 || n > self.len() {
            return None;
        }
        self.fold_peaks(n, 64)
    }

    /// The proof of leaf `index` in the tree over leaves `0..n` (same as [`merkle_proof`] over
    /// that prefix); `None` if `n == 0`, `n > len` or `index >= n`.
    pub fn proof(&self, index: u64, n: u64) -> Option<Vec<Hash>> {
        if n == 0 || n > self.len() || index >= n {
            return None;
        }
        let mut proof = Vec::new();
        let mut position = index;
        let mut k: u32 = 0;
        loop {
            // Nodes at level k: the complete 2^k blocks, plus one partial node if any remain.
            let complete = n >> k;
            let count = complete + u64::from(n & ((1u64 << k) - 1) != 0);
            if count <= 1 {
                break;
            }
            let sibling = position ^ 1;
            if sibling < count {
                let hash = if sibling < complete {
                    self.levels[k as usize][sibling as usize]
                } else {
                    self.fold_peaks(n, k)
                        .expect("a partial node exists when its index is below the count")
                };
                proof.push(hash);
            }
            position >>= 1;
            k += 1;
        }
        Some(proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::sha256;
    use proptest::prelude::*;

    fn leaves(n: usize, seed: u64) -> Vec<Hash> {
        (0..n as u64)
            .map(|i| sha256(&(seed.wrapping_mul(1_000_003) ^ i).to_le_bytes()))
            .collect()
    }

    fn flip(hash: &Hash, bit: usize) -> Hash {
        let mut h = *hash;
        h[bit / 8 % 32] ^= 1 << (bit % 8);
        h
    }

    #[test]
    fn small_trees_by_hand() {
        let l = leaves(5, 1);
        assert_eq!(merkle_root(&[]), None);
        assert_eq!(merkle_root(&l[..1]), Some(l[0]));
        assert_eq!(merkle_root(&l[..2]), Some(dot(&l[0], &l[1])));
        // Odd last carried up unchanged.
        assert_eq!(merkle_root(&l[..3]), Some(dot(&dot(&l[0], &l[1]), &l[2])));
        let ab = dot(&l[0], &l[1]);
        let cd = dot(&l[2], &l[3]);
        assert_eq!(merkle_root(&l[..4]), Some(dot(&ab, &cd)));
        assert_eq!(merkle_root(&l), Some(dot(&dot(&ab, &cd), &l[4])));
        // Leaf 4 of 5 is carried up twice: its proof has one hash.
        assert_eq!(merkle_proof(&l, 4), vec![dot(&ab, &cd)]);
        assert_eq!(merkle_proof(&l, 2), vec![l[3], ab, l[4]]);
        assert_eq!(merkle_proof(&l[..1], 0), Vec::<Hash>::new());
        assert_eq!(merkle_proof(&l, 5), Vec::<Hash>::new());
    }

    #[test]
    fn log_agrees_with_merkle_root_and_proof_for_every_prefix() {
        let l = leaves(200, 7);
        let mut log = MerkleLog::default();
        assert!(log.is_empty());
        assert_eq!(log.root(0), None);
        for (i, leaf) in l.iter().enumerate() {
            log.push(*leaf);
            assert_eq!(log.len(), i as u64 + 1);
        }
        assert_eq!(log.leaf(199), Some(l[199]));
        assert_eq!(log.leaf(200), None);
        assert_eq!(log.root(201), None);
        assert_eq!(log.proof(0, 201), None);
        assert_eq!(log.proof(5, 5), None);
        for n in 1..=200usize {
            let root = merkle_root(&l[..n]).unwrap();
            assert_eq!(log.root(n as u64), Some(root), "n = {n}");
            for index in 0..n {
                let proof = log.proof(index as u64, n as u64).unwrap();
                assert!(verify_proof(&l[index], &proof, &root), "n={n} i={index}");
                if n % 17 == 0 || n < 40 {
                    assert_eq!(proof, merkle_proof(&l[..n], index), "n={n} i={index}");
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn proofs_verify_and_bit_flips_break_them(
            n in 1usize..200,
            seed in any::<u64>(),
            index_seed in any::<usize>(),
            bit in 0usize..256,
        ) {
            let l = leaves(n, seed);
            let mut log = MerkleLog::default();
            for leaf in &l {
                log.push(*leaf);
            }
            let root = merkle_root(&l).unwrap();
            prop_assert_eq!(log.root(n as u64), Some(root));
            let index = index_seed % n;
            let proof = log.proof(index as u64, n as u64).unwrap();
            prop_assert_eq!(&proof, &merkle_proof(&l, index));
            prop_assert!(verify_proof(&l[index], &proof, &root));
            prop_assert!(!verify_proof(&flip(&l[index], bit), &proof, &root));
            prop_assert!(!verify_proof(&l[index], &proof, &flip(&root, bit)));
            if !proof.is_empty() {
                let mut bad = proof.clone();
                let j = bit % bad.len();
                bad[j] = flip(&bad[j], bit);
                prop_assert!(!verify_proof(&l[index], &bad, &root));
            }
            // A prefix of the log is a log of the prefix.
            let m = index + 1;
            prop_assert_eq!(log.root(m as u64), merkle_root(&l[..m]));
        }
    }
}
