//! Document revisions and block addresses: what the journal records for every committed change,
//! and their Ion shapes as the committed view, `history()` and GetRevision show them.

use crate::error::{LedgerError, LedgerResult};
use ion_rs::{Element, Timestamp};
use qldb_ion::{dot, ion_hash, Hash};
use std::sync::Arc;

/// Where a block sits in the journal: `{strandId, sequenceNo}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlockAddress {
    pub strand_id: Arc<str>,
    pub sequence_no: u64,
}

impl BlockAddress {
    pub fn to_element(&self) -> Element {
        Element::struct_builder()
            .with_field("strandId", Element::string(&*self.strand_id))
            .with_field("sequenceNo", Element::int(self.sequence_no as i64))
            .build()
            .into()
    }

    /// Ion text as the control plane exchanges it: `{strandId:"…",sequenceNo:14}`.
    pub fn to_ion_text(&self) -> String {
        format!(
            "{{strandId:\"{}\",sequenceNo:{}}}",
            self.strand_id, self.sequence_no
        )
    }

    /// Reads an address from an Ion struct (a parameter or parsed Ion text).
    pub fn from_element(e: &Element) -> LedgerResult<BlockAddress> {
        let bad = || {
            LedgerError::invalid_parameter(
                "The block address must be an Ion struct {strandId: string, sequenceNo: int}",
                Some("BlockAddress"),
            )
        };
        let s = e.as_struct().ok_or_else(bad)?;
        let strand = s
            .get("strandId")
            .and_then(Element::as_text)
            .ok_or_else(bad)?;
        let seq = s
            .get("sequenceNo")
            .and_then(Element::as_i64)
            .ok_or_else(bad)?;
        if seq < 0 {
            return Err(bad());
        }
        Ok(BlockAddress {
            strand_id: Arc::from(strand),
            sequence_no: seq as u64,
        })
    }

    pub fn from_ion_text(text: &str) -> LedgerResult<BlockAddress> {
        let e = Element::read_one(text.as_bytes()).map_err(|e| {
            LedgerError::invalid_parameter(
                format!("The block address is not valid Ion text: {e}"),
                Some("BlockAddress"),
            )
        })?;
        Self::from_element(&e)
    }
}

/// `metadata` of a revision.
#[derive(Debug, Clone, PartialEq)]
pub struct RevisionMetadata {
    pub id: Arc<str>,
    pub version: u64,
    pub tx_time: Timestamp,
    pub tx_id: Arc<str>,
}

impl RevisionMetadata {
    pub fn to_element(&self) -> Element {
        Element::struct_builder()
            .with_field("id", Element::string(&*self.id))
            .with_field("version", Element::int(self.version as i64))
            .with_field("txTime", Element::timestamp(self.tx_time.clone()))
            .with_field("txId", Element::string(&*self.tx_id))
            .build()
            .into()
    }
}

/// One revision of a document.
#[derive(Debug, Clone)]
pub struct Revision {
    pub table_id: Arc<str>,
    pub address: BlockAddress,
    /// `dot(H(data), H(metadata))`; for a delete revision (no data) `H(metadata)`.
    pub hash: Hash,
    /// The document; `None` for a delete revision or after redaction.
    pub data: Option<Element>,
    /// `H(data)`; kept so a redacted revision still verifies. `None` for a delete revision.
    pub data_hash: Option<Hash>,
    pub redacted: bool,
    pub metadata: RevisionMetadata,
    /// Commit time in epoch milliseconds, for `history()` windows.
    pub tx_millis: i64,
}

impl Revision {
    /// Builds a revision, computing its hashes.
    pub fn new(
        table_id: Arc<str>,
        address: BlockAddress,
        data: Option<Element>,
        known_data_hash: Option<Hash>,
        metadata: RevisionMetadata,
        tx_millis: i64,
    ) -> Revision {
        let data_hash = match (&data, known_data_hash) {
            (Some(_), Some(h)) => Some(h),
            (d, _) => d.as_ref().map(ion_hash),
        };
        let hash = revision_hash(data_hash.as_ref(), &metadata);
        Revision {
            table_id,
            address,
            hash,
            data,
            data_hash,
            redacted: false,
            metadata,
            tx_millis,
        }
    }

    pub fn is_delete(&self) -> bool {
        self.data_hash.is_none()
    }

    /// The full revision struct: `{blockAddress, hash, data | dataHash, metadata}`. A redacted
    /// revision shows `dataHash` instead of `data`; a delete revision has neither.
    pub fn to_element(&self) -> Element {
        let mut b = Element::struct_builder()
            .with_field("blockAddress", self.address.to_element())
            .with_field("hash", Element::blob(self.hash));
        if let Some(data) = &self.data {
            b = b.with_field("data", data.clone());
        } else if let (true, Some(h)) = (self.redacted, self.data_hash) {
            b = b.with_field("dataHash", Element::blob(h));
        }
        b.with_field("metadata", self.metadata.to_element())
            .build()
            .into()
    }
}

/// `revision.hash` from `H(data)` (absent for deletes) and the metadata.
pub fn revision_hash(data_hash: Option<&Hash>, metadata: &RevisionMetadata) -> Hash {
    let meta = ion_hash(&metadata.to_element());
    match data_hash {
        Some(d) => dot(d, &meta),
        None => meta,
    }
}
