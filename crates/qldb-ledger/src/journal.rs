//! Journal blocks: building the block a commit writes, its hashes (`spec/hashing.md` §5), the
//! record stored for it, reading records back on recovery, verifying a chain, and proofs.
//!
//! A stored record is an Ion binary struct `{block: <the block as GetBlock shows it>,
//! catalog: [<DDL changes>]}`; only `block` is hashed and shown to clients.

use crate::error::{LedgerError, LedgerResult};
use crate::revision::{BlockAddress, Revision, RevisionMetadata};
use crate::txn::{CatalogOp, StatementRecord};
use ion_rs::Element;
use qldb_ion::{dot, ion_hash, merkle_proof, merkle_root, Hash};
use std::sync::Arc;

/// A document change in a block, with the names `transactionInfo.documents` records.
pub struct BlockDoc {
    pub revision: Arc<Revision>,
    pub table_name: String,
    pub statements: Vec<usize>,
}

/// A block ready to be stored.
pub struct BuiltBlock {
    pub record: Vec<u8>,
    pub block_hash: Hash,
}

fn blob(h: &Hash) -> Element {
    Element::blob(h)
}

fn hash_of(e: Option<&Element>) -> Option<Hash> {
    e.and_then(Element::as_blob)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
}

/// Builds the block of a commit.
#[allow(clippy::too_many_arguments)]
pub fn build_block(
    address: &BlockAddress,
    transaction_id: &str,
    timestamp: &ion_rs::Timestamp,
    previous_block_hash: &Hash,
    statements: &[StatementRecord],
    docs: &[BlockDoc],
    catalog: &[CatalogOp],
) -> LedgerResult<BuiltBlock> {
    let stmts: Vec<Element> = statements
        .iter()
        .map(|s| {
            Element::from(
                Element::struct_builder()
                    .with_field("statement", Element::string(s.text.as_str()))
                    .with_field(
                        "startTime",
                        Element::timestamp(crate::clock::timestamp_from_millis(s.start_millis)),
                    )
                    .with_field("statementDigest", blob(&s.digest))
                    .build(),
            )
        })
        .collect();
    let mut info = Element::struct_builder().with_field("statements", ion_rs::List::from(stmts));
    if !docs.is_empty() {
        let mut documents = Element::struct_builder();
        for d in docs {
            let idx: Vec<Element> = d
                .statements
                .iter()
                .map(|i| Element::int(*i as i64))
                .collect();
            documents = documents.with_field(
                &*d.revision.metadata.id,
                Element::struct_builder()
                    .with_field("tableName", Element::string(d.table_name.as_str()))
                    .with_field("tableId", Element::string(&*d.revision.table_id))
                    .with_field("statements", ion_rs::List::from(idx))
                    .build(),
            );
        }
        info = info.with_field("documents", documents.build());
    }
    let info: Element = info.build().into();
    let rev_hashes: Vec<Hash> = docs.iter().map(|d| d.revision.hash).collect();
    let mut entries = vec![ion_hash(&info)];
    if let Some(root) = merkle_root(&rev_hashes) {
        entries.push(root);
    }
    let entries_hash = merkle_root(&entries).expect("at least one entry");
    let block_hash = dot(&entries_hash, previous_block_hash);

    let record = encode_record(
        address,
        transaction_id,
        timestamp,
        &block_hash,
        &entries_hash,
        previous_block_hash,
        &entries,
        &info,
        docs,
        catalog,
    )
    .map_err(|e| LedgerError::Internal(format!("Cannot encode block: {e}")))?;
    Ok(BuiltBlock { record, block_hash })
}

/// Streams the journal record `{block, catalog}` as Ion binary. Writing straight from the
/// revisions' documents avoids building (and deep-copying them into) a block `Element`; the
/// encoding was the largest cost of a commit.
#[allow(clippy::too_many_arguments)]
fn encode_record(
    address: &BlockAddress,
    transaction_id: &str,
    timestamp: &ion_rs::Timestamp,
    block_hash: &Hash,
    entries_hash: &Hash,
    previous_block_hash: &Hash,
    entries: &[Hash],
    info: &Element,
    docs: &[BlockDoc],
    catalog: &[CatalogOp],
) -> ion_rs::IonResult<Vec<u8>> {
    use ion_rs::{SequenceWriter, StructWriter, ValueWriter};
    let address_el = address.to_element();
    let mut w = ion_rs::Writer::new(ion_rs::v1_0::Binary, Vec::with_capacity(1024))?;
    let mut record = w.value_writer().struct_writer()?;
    let mut block = record.field_writer("block").struct_writer()?;
    block.write("blockAddress", &address_el)?;
    block.write("transactionId", transaction_id)?;
    block.write("blockTimestamp", timestamp)?;
    block.write("blockHash", block_hash)?;
    block.write("entriesHash", entries_hash)?;
    block.write("previousBlockHash", previous_block_hash)?;
    let mut list = block.field_writer("entriesHashList").list_writer()?;
    for e in entries {
        list.write(e)?;
    }
    list.close()?;
    block.write("transactionInfo", info)?;
    if !docs.is_empty() {
        let mut revs = block.field_writer("revisions").list_writer()?;
        for d in docs {
            let r = &d.revision;
            let mut rv = revs.value_writer().struct_writer()?;
            rv.write("blockAddress", &address_el)?;
            rv.write("hash", r.hash)?;
            if let Some(data) = &r.data {
                rv.write("data", data)?;
            }
            rv.write("metadata", r.metadata.to_element())?;
            rv.close()?;
        }
        revs.close()?;
    }
    block.close()?;
    let mut ops = record.field_writer("catalog").list_writer()?;
    for op in catalog {
        ops.write(catalog_op_to_element(op))?;
    }
    ops.close()?;
    record.close()?;
    w.close()
}

fn catalog_op_to_element(op: &CatalogOp) -> Element {
    let b = Element::struct_builder();
    let b = match op {
        CatalogOp::CreateTable { table_id, name } => b
            .with_field("op", Element::symbol("create_table"))
            .with_field("tableId", Element::string(&**table_id))
            .with_field("name", Element::string(name.as_str())),
        CatalogOp::DropTable { table_id } => b
            .with_field("op", Element::symbol("drop_table"))
            .with_field("tableId", Element::string(&**table_id)),
        CatalogOp::UndropTable { table_id } => b
            .with_field("op", Element::symbol("undrop_table"))
            .with_field("tableId", Element::string(&**table_id)),
        CatalogOp::CreateIndex {
            table_id,
            index_id,
            field,
        } => b
            .with_field("op", Element::symbol("create_index"))
            .with_field("tableId", Element::string(&**table_id))
            .with_field("indexId", Element::string(&**index_id))
            .with_field("field", Element::string(field.as_str())),
        CatalogOp::DropIndex { table_id, index_id } => b
            .with_field("op", Element::symbol("drop_index"))
            .with_field("tableId", Element::string(&**table_id))
            .with_field("indexId", Element::string(&**index_id)),
    };
    b.build().into()
}

fn corrupt(what: &str) -> LedgerError {
    LedgerError::Internal(format!("Corrupt journal record: {what}"))
}

fn text_field<'e>(s: &'e ion_rs::Struct, name: &str) -> LedgerResult<&'e str> {
    s.get(name)
        .and_then(Element::as_text)
        .ok_or_else(|| corrupt(name))
}

fn catalog_op_from_element(e: &Element) -> LedgerResult<CatalogOp> {
    let s = e.as_struct().ok_or_else(|| corrupt("catalog entry"))?;
    let id = |n: &str| -> LedgerResult<Arc<str>> { Ok(Arc::from(text_field(s, n)?)) };
    Ok(match text_field(s, "op")? {
        "create_table" => CatalogOp::CreateTable {
            table_id: id("tableId")?,
            name: text_field(s, "name")?.to_string(),
        },
        "drop_table" => CatalogOp::DropTable {
            table_id: id("tableId")?,
        },
        "undrop_table" => CatalogOp::UndropTable {
            table_id: id("tableId")?,
        },
        "create_index" => CatalogOp::CreateIndex {
            table_id: id("tableId")?,
            index_id: id("indexId")?,
            field: text_field(s, "field")?.to_string(),
        },
        "drop_index" => CatalogOp::DropIndex {
            table_id: id("tableId")?,
            index_id: id("indexId")?,
        },
        other => return Err(corrupt(&format!("unknown catalog op {other}"))),
    })
}

/// A record read back from the journal.
pub struct DecodedRecord {
    pub block: Element,
    pub catalog: Vec<CatalogOp>,
}

pub fn decode_record(bytes: &[u8]) -> LedgerResult<DecodedRecord> {
    let e = Element::read_one(bytes).map_err(|e| corrupt(&e.to_string()))?;
    let s = e.as_struct().ok_or_else(|| corrupt("record"))?;
    let block = s.get("block").cloned().ok_or_else(|| corrupt("block"))?;
    let mut catalog = Vec::new();
    if let Some(list) = s.get("catalog").and_then(Element::as_sequence) {
        for op in list {
            catalog.push(catalog_op_from_element(op)?);
        }
    }
    Ok(DecodedRecord { block, catalog })
}

/// Summary of a block needed to rebuild state.
pub struct BlockSummary {
    pub sequence_no: u64,
    pub block_hash: Hash,
    pub previous_block_hash: Hash,
    pub millis: i64,
    pub revisions: Vec<Revision>,
}

/// Reads the revisions and hashes of a stored block (hashes are taken as stored; use
/// [`verify_block`] to recompute them).
pub fn summarize_block(block: &Element) -> LedgerResult<BlockSummary> {
    let s = block.as_struct().ok_or_else(|| corrupt("block"))?;
    let addr = BlockAddress::from_element(
        s.get("blockAddress")
            .ok_or_else(|| corrupt("blockAddress"))?,
    )
    .map_err(|_| corrupt("blockAddress"))?;
    let block_hash = hash_of(s.get("blockHash")).ok_or_else(|| corrupt("blockHash"))?;
    let previous_block_hash =
        hash_of(s.get("previousBlockHash")).ok_or_else(|| corrupt("previousBlockHash"))?;
    let ts = s
        .get("blockTimestamp")
        .and_then(Element::as_timestamp)
        .ok_or_else(|| corrupt("blockTimestamp"))?;
    let millis = crate::clock::millis_from_timestamp(&ts);
    let docs = s
        .get("transactionInfo")
        .and_then(Element::as_struct)
        .and_then(|i| i.get("documents"))
        .and_then(Element::as_struct);
    let mut revisions = Vec::new();
    if let Some(list) = s.get("revisions").and_then(Element::as_sequence) {
        for r in list {
            let rev = revision_from_element(r, millis)?;
            let table_id = docs
                .and_then(|d| d.get(&*rev.metadata.id))
                .and_then(Element::as_struct)
                .and_then(|d| d.get("tableId"))
                .and_then(Element::as_text)
                .ok_or_else(|| corrupt("transactionInfo.documents tableId"))?;
            revisions.push(Revision {
                table_id: Arc::from(table_id),
                ..rev
            });
        }
    }
    Ok(BlockSummary {
        sequence_no: addr.sequence_no,
        block_hash,
        previous_block_hash,
        millis,
        revisions,
    })
}

fn revision_from_element(r: &Element, millis: i64) -> LedgerResult<Revision> {
    let s = r.as_struct().ok_or_else(|| corrupt("revision"))?;
    let address = BlockAddress::from_element(
        s.get("blockAddress")
            .ok_or_else(|| corrupt("revision blockAddress"))?,
    )
    .map_err(|_| corrupt("revision blockAddress"))?;
    let m = s
        .get("metadata")
        .and_then(Element::as_struct)
        .ok_or_else(|| corrupt("revision metadata"))?;
    let metadata = RevisionMetadata {
        id: Arc::from(text_field(m, "id")?),
        version: m
            .get("version")
            .and_then(Element::as_i64)
            .ok_or_else(|| corrupt("version"))? as u64,
        tx_time: m
            .get("txTime")
            .and_then(Element::as_timestamp)
            .ok_or_else(|| corrupt("txTime"))?,
        tx_id: Arc::from(text_field(m, "txId")?),
    };
    let data = s.get("data").cloned();
    let redacted_hash = hash_of(s.get("dataHash"));
    let hash = hash_of(s.get("hash")).ok_or_else(|| corrupt("revision hash"))?;
    Ok(Revision {
        table_id: Arc::from(""),
        address,
        hash,
        data_hash: data.as_ref().map(ion_hash).or(redacted_hash),
        redacted: redacted_hash.is_some() && data.is_none(),
        data,
        metadata,
        tx_millis: millis,
    })
}

/// Recomputes every hash of a block and checks it against the stored values and the previous
/// block's hash. Returns the block hash.
pub fn verify_block(block: &Element, previous: &Hash) -> Result<Hash, String> {
    let s = block.as_struct().ok_or("block is not a struct")?;
    let seq = s
        .get("blockAddress")
        .and_then(|a| a.as_struct())
        .and_then(|a| a.get("sequenceNo"))
        .and_then(Element::as_i64)
        .unwrap_or(-1);
    let fail = |what: &str| format!("block {seq}: {what}");
    let stored_prev =
        hash_of(s.get("previousBlockHash")).ok_or_else(|| fail("no previousBlockHash"))?;
    if &stored_prev != previous {
        return Err(fail(
            "previousBlockHash does not match the previous block's hash",
        ));
    }
    let info = s
        .get("transactionInfo")
        .ok_or_else(|| fail("no transactionInfo"))?;
    let mut rev_hashes = Vec::new();
    if let Some(list) = s.get("revisions").and_then(Element::as_sequence) {
        for r in list {
            let rs = r
                .as_struct()
                .ok_or_else(|| fail("revision is not a struct"))?;
            let stored = hash_of(rs.get("hash")).ok_or_else(|| fail("revision without hash"))?;
            let m = rs
                .get("metadata")
                .ok_or_else(|| fail("revision without metadata"))?;
            let data_hash = match (rs.get("data"), hash_of(rs.get("dataHash"))) {
                (Some(d), _) => Some(ion_hash(d)),
                (None, h) => h,
            };
            let meta_hash = ion_hash(m);
            let computed = match data_hash {
                Some(d) => dot(&d, &meta_hash),
                None => meta_hash,
            };
            if computed != stored {
                return Err(fail("a revision hash does not match its data and metadata"));
            }
            rev_hashes.push(stored);
        }
    }
    let mut entries = vec![ion_hash(info)];
    if let Some(root) = merkle_root(&rev_hashes) {
        entries.push(root);
    }
    let stored_entries: Vec<Hash> = s
        .get("entriesHashList")
        .and_then(Element::as_sequence)
        .map(|l| l.iter().filter_map(|e| hash_of(Some(e))).collect())
        .unwrap_or_default();
    if stored_entries != entries {
        return Err(fail("entriesHashList does not match the block's contents"));
    }
    let entries_hash = merkle_root(&entries).expect("non-empty");
    if hash_of(s.get("entriesHash")) != Some(entries_hash) {
        return Err(fail("entriesHash does not match entriesHashList"));
    }
    let block_hash = dot(&entries_hash, previous);
    if hash_of(s.get("blockHash")) != Some(block_hash) {
        return Err(fail("blockHash does not match"));
    }
    Ok(block_hash)
}

/// The proof hashes that lead from revision `doc_id`'s hash to the block hash.
pub fn revision_proof_in_block(
    block: &Element,
    doc_id: &str,
) -> LedgerResult<(Element, Vec<Hash>)> {
    let s = block.as_struct().ok_or_else(|| corrupt("block"))?;
    let revs = s
        .get("revisions")
        .and_then(Element::as_sequence)
        .ok_or_else(|| not_in_block(doc_id))?;
    let mut hashes = Vec::new();
    let mut found = None;
    for (i, r) in revs.iter().enumerate() {
        let rs = r.as_struct().ok_or_else(|| corrupt("revision"))?;
        hashes.push(hash_of(rs.get("hash")).ok_or_else(|| corrupt("revision hash"))?);
        let id = rs
            .get("metadata")
            .and_then(Element::as_struct)
            .and_then(|m| m.get("id"))
            .and_then(Element::as_text);
        if id == Some(doc_id) && found.is_none() {
            found = Some((i, r.clone()));
        }
    }
    let (index, revision) = found.ok_or_else(|| not_in_block(doc_id))?;
    let mut proof = merkle_proof(&hashes, index);
    let entries: Vec<Hash> = s
        .get("entriesHashList")
        .and_then(Element::as_sequence)
        .map(|l| l.iter().filter_map(|e| hash_of(Some(e))).collect())
        .unwrap_or_default();
    let root = merkle_root(&hashes).expect("non-empty");
    let pos = entries
        .iter()
        .position(|h| *h == root)
        .ok_or_else(|| corrupt("revisions root not in entriesHashList"))?;
    proof.extend(merkle_proof(&entries, pos));
    proof.push(hash_of(s.get("previousBlockHash")).ok_or_else(|| corrupt("previousBlockHash"))?);
    Ok((revision, proof))
}

fn not_in_block(doc_id: &str) -> LedgerError {
    LedgerError::invalid_parameter(
        format!("The block does not contain a revision of document {doc_id}"),
        Some("DocumentId"),
    )
}

/// Renders proof hashes as QLDB's `Proof.IonText`: an Ion list of blobs.
pub fn proof_ion_text(proof: &[Hash]) -> String {
    let list = Element::from(ion_rs::List::from(
        proof.iter().map(blob).collect::<Vec<_>>(),
    ));
    list.to_string()
}
