//! One ledger: its committed state, its journal store, and the commit protocol.
//!
//! Commit: under the state's write lock, validate the transaction's reads (OCC), build the
//! block, append it to the journal buffer and apply it to the in-memory state; then, with the
//! lock released, ask the journal to make the block durable (group commit) and wait for that
//! before acknowledging. Later transactions may read the applied state before the fsync
//! finishes, but the journal is sequential, so they can only become durable after it: no
//! acknowledged commit depends on a lost one.
//!
//! [`Ledger::commit`] blocks for that (`JournalStore::sync`; the file journal runs the round on
//! the calling thread when none is running). [`Ledger::begin_commit`] does the in-memory part
//! without blocking and returns a [`Committing`] holding the journal's [`Durability`]
//! notification, which an async caller awaits: no thread waits for the disk.

use crate::clock::{now_millis, timestamp_from_millis};
use crate::error::{LedgerError, LedgerResult};
use crate::journal::{self, BlockDoc};
use crate::revision::{BlockAddress, Revision, RevisionMetadata};
use crate::state::{IndexDef, LedgerState, Table, MAX_BLOCK_BYTES};
use crate::storage::{Durability, JournalStore, StorageError};
use crate::txn::{CatalogOp, ReadSet, Transaction};
use parking_lot::{Mutex, RwLock};
use qldb_ion::Hash;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Settings of a ledger as the control plane shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerSettings {
    pub name: String,
    pub strand_id: Arc<str>,
    pub created_millis: i64,
    pub deletion_protection: bool,
    pub permissions_mode: String,
    pub kms_key: Option<String>,
}

/// The outcome of a successful commit.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub block_address: BlockAddress,
    pub write_ios: u64,
}

/// A commit whose block is in the journal's queue and applied to the in-memory state, but
/// not yet durable. It must not be acknowledged before [`wait`](Self::wait) or
/// [`durable`](Self::durable) returns `Ok`; a storage failure then stops the ledger, as with
/// [`Ledger::commit`].
#[must_use = "a commit is acknowledged only once it is durable"]
#[derive(Debug)]
pub struct Committing {
    ledger: Arc<Ledger>,
    info: CommitInfo,
    durability: Durability,
}

impl Committing {
    /// The block and its write count (not yet durable).
    pub fn info(&self) -> &CommitInfo {
        &self.info
    }

    /// Whether the outcome is known already: then awaiting [`durable`](Self::durable) does
    /// not wait (always so in memory).
    pub fn is_settled(&self) -> bool {
        self.durability.is_complete()
    }

    /// Blocks until the block is durable.
    pub fn wait(self) -> LedgerResult<CommitInfo> {
        let outcome = self.durability.wait();
        self.ledger.settle(outcome)?;
        Ok(self.info)
    }

    /// Waits, without blocking a thread, until the block is durable.
    pub async fn durable(self) -> LedgerResult<CommitInfo> {
        let outcome = self.durability.await;
        self.ledger.settle(outcome)?;
        Ok(self.info)
    }
}

/// A document change on its way into a block.
struct CommittedDoc {
    table_id: Arc<str>,
    doc_id: Arc<str>,
    data: Option<ion_rs::Element>,
    data_hash: Option<Hash>,
    statements: Vec<usize>,
}

/// What [`Ledger::verify`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub blocks: u64,
    pub revisions: u64,
    pub digest: Hash,
}

pub struct Ledger {
    settings: RwLock<LedgerSettings>,
    state: RwLock<LedgerState>,
    store: Box<dyn JournalStore>,
    /// Set when the journal failed to make a commit durable: the ledger refuses all work.
    failed: Mutex<Option<String>>,
    deleted: AtomicBool,
    /// Sessions currently open on this ledger.
    pub(crate) open_sessions: AtomicUsize,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("name", &self.settings.read().name)
            .finish()
    }
}

impl Ledger {
    /// A new ledger over an empty store; writes the genesis block.
    pub fn create(settings: LedgerSettings, store: Box<dyn JournalStore>) -> LedgerResult<Ledger> {
        let ledger = Ledger::empty(settings, store);
        ledger.commit_block("", &[], Vec::new(), &[])?;
        Ok(ledger)
    }

    fn empty(settings: LedgerSettings, store: Box<dyn JournalStore>) -> Ledger {
        Ledger {
            state: RwLock::new(LedgerState::new(settings.strand_id.clone())),
            settings: RwLock::new(settings),
            store,
            failed: Mutex::new(None),
            deleted: AtomicBool::new(false),
            open_sessions: AtomicUsize::new(0),
        }
    }

    /// Rebuilds a ledger from its journal records.
    pub fn recover(
        settings: LedgerSettings,
        store: Box<dyn JournalStore>,
        records: Vec<Vec<u8>>,
    ) -> LedgerResult<Ledger> {
        let ledger = Ledger::empty(settings, store);
        {
            let mut st = ledger.state.write();
            for (i, rec) in records.iter().enumerate() {
                let decoded = journal::decode_record(rec)?;
                let summary = journal::summarize_block(&decoded.block)?;
                if summary.sequence_no != i as u64 {
                    return Err(LedgerError::Internal(format!(
                        "Journal record {i} holds block {}",
                        summary.sequence_no
                    )));
                }
                if summary.previous_block_hash != st.last_block_hash() {
                    return Err(LedgerError::Internal(format!(
                        "Journal chain broken at block {i}"
                    )));
                }
                let revs = summary.revisions.into_iter().map(Arc::new).collect();
                apply_block(
                    &mut st,
                    summary.block_hash,
                    summary.millis,
                    revs,
                    &decoded.catalog,
                );
            }
            if st.counter() == 0 {
                drop(st);
                ledger.commit_block("", &[], Vec::new(), &[])?;
            }
        }
        Ok(ledger)
    }

    pub fn name(&self) -> String {
        self.settings.read().name.clone()
    }

    pub fn settings(&self) -> LedgerSettings {
        self.settings.read().clone()
    }

    pub fn set_deletion_protection(&self, on: bool) {
        self.settings.write().deletion_protection = on;
    }

    pub fn set_kms_key(&self, key: Option<String>) {
        self.settings.write().kms_key = key;
    }

    pub(crate) fn mark_deleted(&self) {
        self.deleted.store(true, Ordering::SeqCst);
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::SeqCst)
    }

    /// Fails when an earlier journal failure poisoned the ledger. The journal's own record of
    /// a failure counts too, so the ledger stops even when nobody was left waiting for the
    /// commit whose write failed.
    pub fn check_usable(&self) -> LedgerResult<()> {
        let why = match &*self.failed.lock() {
            Some(why) => why.clone(),
            None => match self.store.failure() {
                Some(reason) => StorageError::Poisoned(reason).to_string(),
                None => return Ok(()),
            },
        };
        Err(LedgerError::Internal(format!(
            "The ledger stopped after a storage failure: {why}"
        )))
    }

    /// Turns a commit's durability outcome into its result; a failure stops the ledger.
    fn settle(&self, outcome: Result<(), StorageError>) -> LedgerResult<()> {
        if let Err(e) = outcome {
            let why = e.to_string();
            tracing::error!(error = %why, "journal sync failed; the ledger stops accepting work");
            *self.failed.lock() = Some(why);
            return Err(e.into());
        }
        Ok(())
    }

    /// Read access to the committed state.
    pub fn read_state(&self) -> parking_lot::RwLockReadGuard<'_, LedgerState> {
        self.state.read()
    }

    /// Validates and commits a transaction, blocking until it is durable. On OCC failure
    /// nothing is written.
    pub fn commit(&self, txn: Transaction) -> LedgerResult<CommitInfo> {
        let (info, index) = self.commit_in_memory(txn)?;
        // `sync` rather than waiting on `request_sync`: a blocking store may then run the
        // group-commit round on this thread instead of handing it to another.
        self.sync_commit(index)?;
        Ok(info)
    }

    /// Validates a transaction and commits it in memory without blocking: the block is
    /// appended to the journal's queue and applied to the state, as in [`commit`](Self::commit).
    /// The returned [`Committing`] says when it is durable; only then may it be acknowledged.
    /// On OCC failure nothing is written.
    pub fn begin_commit(self: &Arc<Self>, txn: Transaction) -> LedgerResult<Committing> {
        let (info, index) = self.commit_in_memory(txn)?;
        Ok(Committing {
            ledger: Arc::clone(self),
            info,
            durability: self.store.request_sync(index),
        })
    }

    /// The in-memory part of [`commit`](Self::commit); returns the journal index of the block,
    /// for [`sync_commit`](Self::sync_commit).
    pub(crate) fn commit_in_memory(&self, mut txn: Transaction) -> LedgerResult<(CommitInfo, u64)> {
        self.check_usable()?;
        let mut docs_in = Vec::new();
        for (table_id, docs) in std::mem::take(&mut txn.writes.tables) {
            for (doc_id, p) in docs {
                if p.is_new && p.data.is_none() {
                    continue; // inserted and deleted by the same transaction
                }
                docs_in.push(CommittedDoc {
                    table_id: table_id.clone(),
                    doc_id,
                    data: p.data,
                    data_hash: p.data_hash,
                    statements: p.statements,
                });
            }
        }
        let write_ios = docs_in.len() as u64 + txn.writes.catalog.len() as u64;
        let (address, index) = self.commit_block_checked(
            &txn.id,
            &txn.statements,
            docs_in,
            &txn.writes.catalog,
            Some(&txn.reads),
        )?;
        let info = CommitInfo {
            block_address: address,
            write_ios,
        };
        Ok((info, index))
    }

    /// Blocks until the block at journal `index` is durable: the rest of [`commit`](Self::commit).
    pub(crate) fn sync_commit(&self, index: u64) -> LedgerResult<()> {
        self.settle(self.store.sync(index))
    }

    /// Commits a block with no read set (the genesis block) and waits until it is durable.
    fn commit_block(
        &self,
        txid: &str,
        stmts: &[crate::txn::StatementRecord],
        docs: Vec<CommittedDoc>,
        catalog: &[CatalogOp],
    ) -> LedgerResult<BlockAddress> {
        let (address, index) = self.commit_block_checked(txid, stmts, docs, catalog, None)?;
        self.sync_commit(index)?;
        Ok(address)
    }

    /// The in-memory part of a commit, under the state's write lock: OCC validation, the
    /// block, its append to the journal queue, applying it to the state. Returns the block's
    /// address and its journal index, whose durability the caller requests or waits for.
    fn commit_block_checked(
        &self,
        txid: &str,
        stmts: &[crate::txn::StatementRecord],
        docs: Vec<CommittedDoc>,
        catalog: &[CatalogOp],
        reads: Option<&ReadSet>,
    ) -> LedgerResult<(BlockAddress, u64)> {
        let (index, address) = {
            let mut st = self.state.write();
            if reads.is_some_and(|r| r.conflicts_with(&st)) {
                return Err(LedgerError::OccConflict(format!(
                    "Optimistic concurrency control (OCC) failure encountered while committing the transaction {txid}"
                )));
            }
            let seq = st.counter();
            let millis = now_millis().max(st.last_block_millis);
            let ts = timestamp_from_millis(millis);
            let address = BlockAddress {
                strand_id: st.strand_id.clone(),
                sequence_no: seq,
            };
            let txid: Arc<str> = Arc::from(txid);
            let mut block_docs = Vec::with_capacity(docs.len());
            for CommittedDoc {
                table_id,
                doc_id,
                data,
                data_hash,
                statements,
            } in docs
            {
                let (table_name, version) = match st.tables.get(&table_id) {
                    Some(t) => (
                        t.name.clone(),
                        t.docs
                            .get(&doc_id)
                            .and_then(|d| d.latest())
                            .map_or(0, |r| r.metadata.version + 1),
                    ),
                    None => (pending_table_name(catalog, &table_id), 0),
                };
                let metadata = RevisionMetadata {
                    id: doc_id,
                    version,
                    tx_time: ts.clone(),
                    tx_id: txid.clone(),
                };
                let revision =
                    Revision::new(table_id, address.clone(), data, data_hash, metadata, millis);
                block_docs.push(BlockDoc {
                    revision: Arc::new(revision),
                    table_name,
                    statements,
                });
            }
            let prev = st.last_block_hash();
            let built =
                journal::build_block(&address, &txid, &ts, &prev, stmts, &block_docs, catalog)?;
            if built.record.len() > MAX_BLOCK_BYTES {
                return Err(LedgerError::bad_request(format!(
                    "Transaction too large: its journal block would be {} bytes, the limit is \
                     {MAX_BLOCK_BYTES}; split it into smaller transactions",
                    built.record.len()
                )));
            }
            let index = self.store.append(&built.record)?;
            let revs = block_docs.into_iter().map(|d| d.revision).collect();
            apply_block(&mut st, built.block_hash, millis, revs, catalog);
            (index, address)
        };
        Ok((address, index))
    }

    /// The digest: Merkle root over every block hash, with the tip address.
    pub fn digest(&self) -> (Hash, BlockAddress) {
        let st = self.state.read();
        let n = st.blocks.len();
        (
            st.blocks
                .root(n)
                .expect("a ledger always has its genesis block"),
            BlockAddress {
                strand_id: st.strand_id.clone(),
                sequence_no: n - 1,
            },
        )
    }

    fn check_address(&self, addr: &BlockAddress, what: &str) -> LedgerResult<u64> {
        let st = self.state.read();
        if *addr.strand_id != *st.strand_id {
            return Err(LedgerError::invalid_parameter(
                format!("The {what} strandId does not belong to this ledger"),
                Some(what),
            ));
        }
        if addr.sequence_no >= st.blocks.len() {
            return Err(LedgerError::invalid_parameter(
                format!(
                    "The {what} sequenceNo {} does not exist; the ledger has {} blocks",
                    addr.sequence_no,
                    st.blocks.len()
                ),
                Some(what),
            ));
        }
        Ok(addr.sequence_no)
    }

    /// Proof of block `seq` against the digest at `tip`.
    fn block_proof(&self, seq: u64, tip: &BlockAddress) -> LedgerResult<Vec<Hash>> {
        let tip_seq = self.check_address(tip, "DigestTipAddress")?;
        if seq > tip_seq {
            return Err(LedgerError::invalid_parameter(
                "The requested block lies after the digest tip address",
                Some("BlockAddress"),
            ));
        }
        let st = self.state.read();
        Ok(st.blocks.proof(seq, tip_seq + 1).expect("in range"))
    }

    fn stored_block(&self, seq: u64) -> LedgerResult<ion_rs::Element> {
        let rec = self.store.read(seq)?;
        Ok(journal::decode_record(&rec)?.block)
    }

    /// GetBlock: the block as Ion text and, given a tip, its proof.
    pub fn get_block(
        &self,
        addr: &BlockAddress,
        tip: Option<&BlockAddress>,
    ) -> LedgerResult<(String, Option<String>)> {
        let seq = self.check_address(addr, "BlockAddress")?;
        let block = self.stored_block(seq)?;
        let proof = match tip {
            Some(t) => Some(journal::proof_ion_text(&self.block_proof(seq, t)?)),
            None => None,
        };
        Ok((block.to_string(), proof))
    }

    /// GetRevision: the revision of `doc_id` in the block at `addr` as Ion text and, given a
    /// tip, the proof from the revision hash to the digest.
    pub fn get_revision(
        &self,
        addr: &BlockAddress,
        doc_id: &str,
        tip: Option<&BlockAddress>,
    ) -> LedgerResult<(String, Option<String>)> {
        let seq = self.check_address(addr, "BlockAddress")?;
        let block = self.stored_block(seq)?;
        let (revision, mut proof) = journal::revision_proof_in_block(&block, doc_id)?;
        let proof = match tip {
            Some(t) => {
                proof.extend(self.block_proof(seq, t)?);
                Some(journal::proof_ion_text(&proof))
            }
            None => None,
        };
        Ok((revision.to_string(), proof))
    }

    /// Re-reads the whole journal and recomputes every hash: revision hashes from data and
    /// metadata, entries, block hashes, the chain, and the digest.
    pub fn verify(&self) -> Result<VerifyReport, String> {
        let n = self.store.len();
        let mut prev = [0u8; 32];
        let mut log = qldb_ion::MerkleLog::default();
        let mut revisions = 0u64;
        for i in 0..n {
            let rec = self.store.read(i).map_err(|e| e.to_string())?;
            let block = journal::decode_record(&rec)
                .map_err(|e| e.to_string())?
                .block;
            revisions += block
                .as_struct()
                .and_then(|s| s.get("revisions"))
                .and_then(ion_rs::Element::as_sequence)
                .map_or(0, |l| l.len() as u64);
            prev = journal::verify_block(&block, &prev)?;
            log.push(prev);
        }
        let digest = log.root(n).ok_or("the journal is empty")?;
        let (state_digest, _) = self.digest();
        if digest != state_digest {
            return Err("the digest of the journal differs from the ledger's digest".into());
        }
        Ok(VerifyReport {
            blocks: n,
            revisions,
            digest,
        })
    }
}

fn pending_table_name(catalog: &[CatalogOp], table_id: &Arc<str>) -> String {
    catalog
        .iter()
        .find_map(|op| match op {
            CatalogOp::CreateTable { table_id: t, name } if t == table_id => Some(name.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Applies a committed block to the state: catalog changes, revisions, OCC stamps, digest log.
fn apply_block(
    st: &mut LedgerState,
    block_hash: Hash,
    millis: i64,
    revisions: Vec<Arc<Revision>>,
    catalog: &[CatalogOp],
) {
    let stamp = st.counter() + 1;
    for op in catalog {
        st.catalog_stamp = stamp;
        match op {
            CatalogOp::CreateTable { table_id, name } => {
                let mut t = Table::new(table_id.clone(), name.clone());
                t.ddl_stamp = stamp;
                st.tables.insert(table_id.clone(), t);
                st.table_names.insert(name.clone(), table_id.clone());
            }
            CatalogOp::DropTable { table_id } => {
                if let Some(t) = st.tables.get_mut(table_id) {
                    t.active = false;
                    t.ddl_stamp = stamp;
                    st.table_names.remove(&t.name);
                }
            }
            CatalogOp::UndropTable { table_id } => {
                if let Some(t) = st.tables.get_mut(table_id) {
                    t.active = true;
                    t.ddl_stamp = stamp;
                    st.table_names.insert(t.name.clone(), table_id.clone());
                }
            }
            CatalogOp::CreateIndex {
                table_id,
                index_id,
                field,
            } => {
                if let Some(t) = st.tables.get_mut(table_id) {
                    t.add_index(IndexDef {
                        id: index_id.clone(),
                        field: field.clone(),
                    });
                    t.ddl_stamp = stamp;
                }
            }
            CatalogOp::DropIndex { table_id, index_id } => {
                if let Some(t) = st.tables.get_mut(table_id) {
                    t.remove_index(index_id);
                    t.ddl_stamp = stamp;
                }
            }
        }
    }
    for rev in revisions {
        let table_id = rev.table_id.clone();
        let doc_id = rev.metadata.id.clone();
        let Some(t) = st.tables.get_mut(&table_id) else {
            tracing::warn!(%table_id, "revision for an unknown table skipped");
            continue;
        };
        let changed = t.apply_revision(rev);
        t.data_stamp = stamp;
        if let Some(d) = t.docs.get_mut(&doc_id) {
            d.write_stamp = stamp;
        }
        for (field, key) in changed {
            st.phantom_stamps
                .insert((table_id.clone(), field, key), stamp);
        }
    }
    st.blocks.push(block_hash);
    st.last_block_millis = millis;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::file::Fault;
    use crate::storage::{FileJournal, MemoryJournal};

    fn settings() -> LedgerSettings {
        LedgerSettings {
            name: "t".into(),
            strand_id: Arc::from(qldb_ion::new_id()),
            created_millis: 0,
            deletion_protection: false,
            permissions_mode: "ALLOW_ALL".into(),
            kms_key: None,
        }
    }

    fn txn(ledger: &Ledger) -> Transaction {
        Transaction::new(Arc::from(qldb_ion::new_id()), ledger.read_state().counter())
    }

    #[test]
    fn a_memory_commit_is_settled_at_once() {
        let ledger = Arc::new(Ledger::create(settings(), Box::new(MemoryJournal::new())).unwrap());
        let c = ledger.begin_commit(txn(&ledger)).unwrap();
        assert!(c.is_settled());
        assert_eq!(c.wait().unwrap().block_address.sequence_no, 1);
    }

    #[test]
    fn a_failed_fsync_fails_every_waiting_commit_and_stops_the_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = FileJournal::open(&dir.path().join("j")).unwrap();
        let journal = Arc::new(journal);
        let ledger = Arc::new(Ledger::create(settings(), Box::new(Arc::clone(&journal))).unwrap());
        let waiting: Vec<Committing> = {
            let _held = journal.hold_rounds();
            journal.inject_fault(Fault::Sync);
            (0..8)
                .map(|_| {
                    let c = ledger.begin_commit(txn(&ledger)).unwrap();
                    assert!(!c.is_settled());
                    c
                })
                .collect()
        };
        // Committed in memory meanwhile, visible to readers, but none acknowledged.
        assert_eq!(ledger.read_state().counter(), 9);
        let errors: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = waiting
                .into_iter()
                .map(|c| s.spawn(move || c.wait().unwrap_err().to_string()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            errors[0].contains("journal I/O error: injected Sync failure"),
            "{errors:?}"
        );
        for e in &errors[1..] {
            assert!(
                e.contains("journal is unusable after an earlier I/O failure"),
                "{e}"
            );
        }
        let refused = ledger.check_usable().unwrap_err().to_string();
        assert!(
            refused.contains("stopped after a storage failure"),
            "{refused}"
        );
        assert!(ledger.begin_commit(txn(&ledger)).is_err());
    }

    #[test]
    fn the_ledger_stops_even_when_nobody_awaited_the_failed_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = FileJournal::open(&dir.path().join("j")).unwrap();
        let journal = Arc::new(journal);
        let ledger = Arc::new(Ledger::create(settings(), Box::new(Arc::clone(&journal))).unwrap());
        journal.inject_fault(Fault::Write);
        // A client that went away: its commit's notification is dropped unawaited.
        drop(ledger.begin_commit(txn(&ledger)).unwrap());
        let started = std::time::Instant::now();
        while ledger.check_usable().is_ok() {
            assert!(started.elapsed() < std::time::Duration::from_secs(30));
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let refused = ledger.check_usable().unwrap_err().to_string();
        assert!(refused.contains("injected write failure"), "{refused}");
    }
}
