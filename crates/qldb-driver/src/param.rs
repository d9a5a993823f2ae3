//! Statement parameters: each one a complete Ion binary stream holding one value (what the
//! wire's `ValueHolder.IonBinary` carries), together with its decoded value and its Ion Hash
//! for the commit digest. Both are computed once, when the parameter is made, so the digest,
//! the HTTP transport (which sends the bytes) and the embedded transport (which hands the
//! decoded value and hash to the engine) never decode or hash twice.

use crate::error::DriverError;
use bytes::Bytes;
use ion_rs::Element;
use qldb_ion::Hash;
use std::sync::Arc;

/// The Ion version marker every binary Ion stream starts with.
pub const ION_BVM: [u8; 4] = [0xE0, 0x01, 0x00, 0xEA];

struct Inner {
    binary: Bytes,
    element: Element,
    hash: Hash,
}

/// One statement parameter. Cheap to clone.
#[derive(Clone)]
pub struct IonParam(Arc<Inner>);

impl IonParam {
    /// A parameter from a complete Ion binary stream holding exactly one value (what
    /// `amazon.ion.simpleion.dumps(value)` produces). The bytes are sent unchanged; the value is
    /// decoded once to hash it. Anything but one valid value is an `InvalidParameter` error.
    pub fn from_ion_binary(binary: impl Into<Bytes>) -> Result<IonParam, DriverError> {
        let binary: Bytes = binary.into();
        if !binary.starts_with(&ION_BVM) {
            return Err(DriverError::invalid_parameter(
                "A parameter must be a binary Ion stream starting with the Ion version marker",
            ));
        }
        let element = Element::read_one(binary.as_ref()).map_err(|e| {
            DriverError::invalid_parameter(format!(
                "Failed to read parameter as a single Ion value: {e}"
            ))
        })?;
        let hash = qldb_ion::ion_hash(&element);
        Ok(IonParam(Arc::new(Inner {
            binary,
            element,
            hash,
        })))
    }

    /// A parameter from an Ion value; it is encoded as a binary Ion stream for the wire.
    pub fn from_element(element: Element) -> Result<IonParam, DriverError> {
        let binary = element
            .encode_as(ion_rs::v1_0::Binary)
            .map_err(|e| DriverError::invalid_parameter(format!("Cannot encode parameter: {e}")))?;
        let hash = qldb_ion::ion_hash(&element);
        Ok(IonParam(Arc::new(Inner {
            binary: Bytes::from(binary),
            element,
            hash,
        })))
    }

    /// A parameter whose bytes, value and hash the caller already has and vouches for (the
    /// bytes must encode `element`; the hash must be `ion_hash(element)`).
    pub fn from_parts(binary: impl Into<Bytes>, element: Element, hash: Hash) -> IonParam {
        IonParam(Arc::new(Inner {
            binary: binary.into(),
            element,
            hash,
        }))
    }

    /// The Ion binary stream sent as `IonBinary`.
    pub fn binary(&self) -> &Bytes {
        &self.0.binary
    }

    /// The decoded value.
    pub fn element(&self) -> &Element {
        &self.0.element
    }

    /// The value's Ion Hash (its contribution to the commit digest).
    pub fn hash(&self) -> &Hash {
        &self.0.hash
    }
}

impl std::fmt::Debug for IonParam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IonParam({})", self.0.element)
    }
}

impl TryFrom<Element> for IonParam {
    type Error = DriverError;
    fn try_from(e: Element) -> Result<Self, Self::Error> {
        IonParam::from_element(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_round_trip() {
        let p = IonParam::from_ion_binary(vec![0xE0, 0x01, 0x00, 0xEA, 0x21, 0x05]).unwrap();
        assert_eq!(p.element(), &Element::from(5i64));
        assert_eq!(p.hash(), &qldb_ion::ion_hash(&Element::from(5i64)));
        let q = IonParam::from_element(Element::from(5i64)).unwrap();
        assert_eq!(q.hash(), p.hash());
        assert!(q.binary().starts_with(&ION_BVM));
    }

    #[test]
    fn rejects_zero_or_two_values() {
        assert!(IonParam::from_ion_binary(vec![0xE0, 0x01, 0x00, 0xEA]).is_err());
        assert!(
            IonParam::from_ion_binary(vec![0xE0, 0x01, 0x00, 0xEA, 0x21, 0x05, 0x21, 0x06])
                .is_err()
        );
        assert!(IonParam::from_ion_binary(b"5".to_vec()).is_err());
    }
}
