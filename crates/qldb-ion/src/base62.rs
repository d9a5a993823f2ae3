//! 22-character base62 ids, like the system-assigned document, table and transaction ids of
//! QLDB (a 128-bit UUID rendered in base62).

/// Digits in value order: `0-9`, then `A-Z`, then `a-z`.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Length of every id: `62^22 > 2^128`, so any `u128` fits.
const ID_LEN: usize = 22;

/// `v` in base62, most significant digit first, left-padded with `'0'` to exactly 22 characters.
pub fn base62_u128(mut v: u128) -> String {
    let mut digits = [b'0'; ID_LEN];
    for slot in digits.iter_mut().rev() {
        *slot = ALPHABET[(v % 62) as usize];
        v /= 62;
    }
    debug_assert_eq!(v, 0);
    digits.iter().map(|&d| d as char).collect()
}

/// A fresh id: 128 random bits in base62 (22 characters, alphabet `0-9A-Za-z`).
pub fn new_id() -> String {
    base62_u128(rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn fixed_values() {
        assert_eq!(base62_u128(0), "0000000000000000000000");
        assert_eq!(base62_u128(61), "000000000000000000000z");
        assert_eq!(base62_u128(62), "0000000000000000000010");
        assert_eq!(base62_u128(u128::MAX), "7n42DGM5Tflk9n8mt7Fhc7");
    }

    #[test]
    fn order_is_preserved() {
        // Same length and an ASCII-ordered alphabet: string order is numeric order.
        let values = [0u128, 1, 61, 62, 12345, 1 << 64, u128::MAX / 3, u128::MAX];
        for pair in values.windows(2) {
            assert!(base62_u128(pair[0]) < base62_u128(pair[1]));
        }
    }

    #[test]
    fn new_ids_have_the_right_shape_and_are_unique() {
        let ids: Vec<String> = (0..10_000).map(|_| new_id()).collect();
        for id in &ids {
            assert_eq!(id.len(), 22, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
        }
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        // The random bits reach the leading digits too (odds of failure ~ 10^-15000).
        assert!(ids.iter().any(|id| !id.starts_with('0')));
    }
}
