//! The shape constraints of the QLDB models (`spec/wire-protocol.md` §2.1 and §6): what a
//! server rejects before a request reaches the ledger. Messages follow AWS's validation
//! wording ("1 validation error detected: Value … at '…' failed to satisfy constraint: …").

use crate::error::WireError;

/// Largest `IonBinary` of a value holder, in bytes.
pub const MAX_ION_BINARY_BYTES: usize = 131_072;
/// Largest `IonText` of a value holder, in characters.
pub const MAX_ION_TEXT_CHARS: usize = 1_048_576;
/// Longest statement, in characters.
pub const MAX_STATEMENT_CHARS: usize = 100_000;
/// Length of transaction and document ids.
pub const ID_LEN: usize = 22;

fn violation(value: &str, member: &str, constraint: &str) -> WireError {
    let shown: String = if value.chars().count() > 64 {
        let head: String = value.chars().take(61).collect();
        format!("{head}...")
    } else {
        value.to_string()
    };
    WireError::bad_request(format!(
        "1 validation error detected: Value '{shown}' at '{member}' failed to satisfy constraint: \
         {constraint}"
    ))
}

/// `LedgerName`: 1–32 of `[A-Za-z0-9-]`, no leading, trailing or doubled hyphen, not all digits.
pub fn ledger_name(name: &str, member: &str) -> Result<(), WireError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
        && !name.bytes().all(|c| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(violation(
            name,
            member,
            "Member must be 1 to 32 letters, digits and single inner hyphens, not only digits",
        ))
    }
}

/// `SessionToken` and `PageToken`: 4–1024 chars of `[A-Za-z0-9+/=-]`.
pub fn token(value: &str, member: &str) -> Result<(), WireError> {
    let n = value.len();
    if !(4..=1024).contains(&n) {
        return Err(violation(
            value,
            member,
            "Member must have length between 4 and 1024",
        ));
    }
    if !value
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'-'))
    {
        return Err(violation(
            value,
            member,
            "Member must satisfy regular expression pattern: ^[A-Za-z-0-9+/=]+$",
        ));
    }
    Ok(())
}

/// `TransactionId` (and document ids): exactly 22 of `[A-Za-z0-9-]`.
pub fn id22(value: &str, member: &str) -> Result<(), WireError> {
    if value.len() != ID_LEN {
        return Err(violation(
            value,
            member,
            "Member must have length equal to 22",
        ));
    }
    if !value
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-')
    {
        return Err(violation(
            value,
            member,
            "Member must satisfy regular expression pattern: ^[A-Za-z-0-9]+$",
        ));
    }
    Ok(())
}

/// `Statement`: 1–100,000 characters.
pub fn statement(value: &str) -> Result<(), WireError> {
    let n = value.chars().count();
    if n == 0 || n > MAX_STATEMENT_CHARS {
        return Err(violation(
            value,
            "statement",
            "Member must have length between 1 and 100000",
        ));
    }
    Ok(())
}

/// A `ValueHolder`'s sizes: `IonBinary` 1–131,072 bytes, `IonText` 1–1,048,576 chars, and exactly
/// one of the two present.
pub fn value_holder(
    ion_binary: Option<&[u8]>,
    ion_text: Option<&str>,
    member: &str,
) -> Result<(), WireError> {
    match (ion_binary, ion_text) {
        (Some(_), Some(_)) => Err(WireError::bad_request(format!(
            "{member}: a value holder carries IonBinary or IonText, not both"
        ))),
        (None, None) => Err(WireError::bad_request(format!(
            "{member}: a value holder must carry IonBinary or IonText"
        ))),
        (Some(b), None) if b.is_empty() || b.len() > MAX_ION_BINARY_BYTES => {
            Err(WireError::bad_request(format!(
                "1 validation error detected: Value at '{member}.ionBinary' failed to satisfy \
                 constraint: Member must have length between 1 and {MAX_ION_BINARY_BYTES} \
                 (it has {} bytes)",
                b.len()
            )))
        }
        (None, Some(t)) if t.is_empty() || t.chars().count() > MAX_ION_TEXT_CHARS => {
            Err(WireError::bad_request(format!(
                "1 validation error detected: Value at '{member}.ionText' failed to satisfy \
                 constraint: Member must have length between 1 and {MAX_ION_TEXT_CHARS}"
            )))
        }
        _ => Ok(()),
    }
}

/// `CommitDigest`: 32 bytes (SHA-256).
pub fn commit_digest(bytes: &[u8]) -> Result<(), WireError> {
    if bytes.len() != 32 {
        return Err(WireError::bad_request(format!(
            "1 validation error detected: Value at 'commitDigest' failed to satisfy constraint: \
             Member must be a 32-byte SHA-256 digest (it has {} bytes)",
            bytes.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_names() {
        for ok in ["myledger", "a", "a-b", "Ledger-1", "x1", &"a".repeat(32)] {
            assert!(ledger_name(ok, "ledgerName").is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a--b",
            "123",
            "a_b",
            "a b",
            "é",
            &"a".repeat(33),
        ] {
            assert!(ledger_name(bad, "ledgerName").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tokens_and_ids() {
        assert!(token("abcd", "sessionToken").is_ok());
        assert!(token("ab+/=-09XY", "sessionToken").is_ok());
        assert!(token("abc", "sessionToken").is_err());
        assert!(token(&"a".repeat(1025), "sessionToken").is_err());
        assert!(token("abc!", "sessionToken").is_err());
        assert!(id22("AAAAAAAAAAAAAAAAAAAAAA", "transactionId").is_ok());
        assert!(id22("AAAAAAAAAAAAAAAAAAAAA", "transactionId").is_err());
        assert!(id22("AAAAAAAAAAAAAAAAAAAAA+", "transactionId").is_err());
        let e = id22("short", "transactionId").unwrap_err();
        assert!(e.message.contains("at 'transactionId'"), "{}", e.message);
    }

    #[test]
    fn statements_and_holders() {
        assert!(statement("SELECT 1").is_ok());
        assert!(statement("").is_err());
        assert!(statement(&"x".repeat(MAX_STATEMENT_CHARS)).is_ok());
        assert!(statement(&"x".repeat(MAX_STATEMENT_CHARS + 1)).is_err());
        assert!(value_holder(Some(&[1]), None, "parameters.1").is_ok());
        assert!(value_holder(None, Some("1"), "parameters.1").is_ok());
        assert!(value_holder(None, None, "parameters.1").is_err());
        assert!(value_holder(Some(&[1]), Some("1"), "parameters.1").is_err());
        assert!(value_holder(Some(&[]), None, "parameters.1").is_err());
        let big = vec![0u8; MAX_ION_BINARY_BYTES + 1];
        assert!(value_holder(Some(&big), None, "parameters.1").is_err());
        assert!(value_holder(Some(&big[1..]), None, "parameters.1").is_ok());
        assert!(commit_digest(&[0; 32]).is_ok());
        assert!(commit_digest(&[0; 31]).is_err());
    }
}
