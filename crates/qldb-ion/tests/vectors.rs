//! Checks every entry of the shared test vectors (`shared/spec/vectors/hashes.json`, read at run
//! time, never copied) against this crate: Ion Hash, `dot`, transaction commit digests and
//! revision hashes.

use std::path::PathBuf;

use qldb_ion::ion_rs::Element;
use qldb_ion::{dot, ion_hash, ion_hash_str, statement_hash, CommitDigest, Hash};
use serde_json::Value as Json;

fn vectors() -> Json {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/vectors/hashes.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the shared test vectors at {}: {e}",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("hashes.json is not valid JSON")
}

fn section<'a>(vectors: &'a Json, name: &str) -> &'a [Json] {
    let entries = vectors[name]
        .as_array()
        .unwrap_or_else(|| panic!("hashes.json has no `{name}` array"));
    assert!(
        !entries.is_empty(),
        "section `{name}` of hashes.json is empty"
    );
    entries
}

fn field<'a>(entry: &'a Json, name: &str) -> &'a str {
    entry[name]
        .as_str()
        .unwrap_or_else(|| panic!("entry lacks string field `{name}`: {entry}"))
}

fn hex(entry: &Json, name: &str) -> Hash {
    let text = field(entry, name);
    assert_eq!(text.len(), 64, "`{name}` is not 32 bytes of hex: {text}");
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
            .unwrap_or_else(|e| panic!("`{name}` is not hex ({e}): {text}"));
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 0x3F) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn parse(ion_text: &str) -> Element {
    Element::read_one(ion_text.as_bytes())
        .unwrap_or_else(|e| panic!("cannot parse Ion text {ion_text:?}: {e}"))
}

#[test]
fn base64_helper_matches_rfc_4648() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
}

#[test]
fn ion_hash_vectors() {
    let vectors = vectors();
    let entries = section(&vectors, "ion_hash");
    for entry in entries {
        let text = field(entry, "ion_text");
        let expected = hex(entry, "sha256_ion_hash");
        let element = parse(text);
        assert_eq!(ion_hash(&element), expected, "ion_hash of {text}");
        let reference: Hash = qldb_ion::ion_rs::ion_hash::sha256(&element)
            .expect("ion-rs Ion Hash")
            .into();
        assert_eq!(reference, expected, "ion-rs Ion Hash of {text}");
        if let Some(s) = element.as_string() {
            if element.annotations().is_empty() {
                assert_eq!(ion_hash_str(s), expected, "ion_hash_str of {text}");
            }
        }
    }
}

#[test]
fn dot_vectors() {
    let vectors = vectors();
    for entry in section(&vectors, "dot") {
        let (a, b) = (hex(entry, "a_hex"), hex(entry, "b_hex"));
        let expected = hex(entry, "dot_hex");
        assert_eq!(dot(&a, &b), expected, "{entry}");
        assert_eq!(dot(&b, &a), expected, "{entry}");
    }
}

#[test]
fn transaction_digest_vectors() {
    let vectors = vectors();
    for entry in section(&vectors, "transaction_digests") {
        let mut digest = CommitDigest::new(field(entry, "txn_id"));
        let statements = entry["statements"]
            .as_array()
            .unwrap_or_else(|| panic!("entry lacks `statements`: {entry}"));
        assert!(!statements.is_empty(), "no statements: {entry}");
        for statement in statements {
            let text = field(statement, "text");
            let params: Vec<Hash> = statement["params_ion_text"]
                .as_array()
                .unwrap_or_else(|| panic!("statement lacks `params_ion_text`: {statement}"))
                .iter()
                .map(|p| ion_hash(&parse(p.as_str().expect("params_ion_text holds strings"))))
                .collect();
            assert_eq!(
                statement_hash(text, &params),
                hex(statement, "statement_hash_hex"),
                "statement hash of {statement}"
            );
            digest.add_statement(text, &params);
            assert_eq!(
                digest.value(),
                hex(statement, "digest_after_hex"),
                "digest after {statement}"
            );
        }
        assert_eq!(digest.value(), hex(entry, "digest_hex"), "{entry}");
        assert_eq!(
            base64(&digest.value()),
            field(entry, "digest_base64"),
            "{entry}"
        );
    }
}

#[test]
fn revision_hash_vectors() {
    let vectors = vectors();
    for entry in section(&vectors, "revision_hashes") {
        let data = ion_hash(&parse(field(entry, "data_ion_text")));
        let metadata = ion_hash(&parse(field(entry, "metadata_ion_text")));
        assert_eq!(data, hex(entry, "data_hash_hex"), "{entry}");
        assert_eq!(metadata, hex(entry, "metadata_hash_hex"), "{entry}");
        let revision = dot(&data, &metadata);
        assert_eq!(revision, hex(entry, "revision_hash_hex"), "{entry}");
        assert_eq!(
            base64(&revision),
            field(entry, "revision_hash_base64"),
            "{entry}"
        );
    }
}
