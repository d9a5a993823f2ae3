//! Binary values (`IonBinary`, `CommitDigest`, `Digest`) travel as base64 strings in JSON;
//! [`Blob`] holds the bytes and does the conversion in serde.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Standard base64, padded on output; padding optional on input (AWS SDKs always pad).
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Encodes bytes as standard, padded base64.
pub fn encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Decodes standard base64 (padding optional).
pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    B64.decode(text)
}

/// Bytes carried as a base64 string.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Blob(pub Vec<u8>);

impl Blob {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Blob {
        Blob(bytes.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blob({})", encode(&self.0))
    }
}

impl From<Vec<u8>> for Blob {
    fn from(v: Vec<u8>) -> Blob {
        Blob(v)
    }
}

impl From<&[u8]> for Blob {
    fn from(v: &[u8]) -> Blob {
        Blob(v.to_vec())
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Blob, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Blob;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a base64 string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Blob, E> {
                decode(v)
                    .map(Blob)
                    .map_err(|e| E::custom(format_args!("invalid base64 ({e})")))
            }
        }
        d.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_accepts_unpadded_input() {
        let b = Blob::new(vec![0xe0, 0x01, 0x00, 0xea, 0x21, 0x01]);
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"4AEA6iEB\"");
        let back: Blob = serde_json::from_str("\"4AEA6iEB\"").unwrap();
        assert_eq!(back, b);
        let unpadded: Blob = serde_json::from_str("\"AQ\"").unwrap();
        assert_eq!(unpadded.as_bytes(), &[1]);
        let padded: Blob = serde_json::from_str("\"AQ==\"").unwrap();
        assert_eq!(padded.as_bytes(), &[1]);
    }

    #[test]
    fn rejects_bad_base64() {
        let err = serde_json::from_str::<Blob>("\"not base64!\"").unwrap_err();
        assert!(err.to_string().contains("invalid base64"), "{err}");
        assert!(serde_json::from_str::<Blob>("12").is_err());
    }
}
