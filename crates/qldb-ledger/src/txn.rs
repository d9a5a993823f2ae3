//! An open transaction: its buffered writes, the reads OCC validates at commit, the running
//! commit digest, the statements it ran and the result pages still to be fetched.

use crate::state::{LedgerState, PhantomKey};
use indexmap::IndexMap;
use ion_rs::Element;
use qldb_ion::{CommitDigest, Hash};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

/// A change to the catalog made by a DDL statement, applied at commit.
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogOp {
    CreateTable {
        table_id: Arc<str>,
        name: String,
    },
    DropTable {
        table_id: Arc<str>,
    },
    UndropTable {
        table_id: Arc<str>,
    },
    CreateIndex {
        table_id: Arc<str>,
        index_id: Arc<str>,
        field: String,
    },
    DropIndex {
        table_id: Arc<str>,
        index_id: Arc<str>,
    },
}

/// A document written by the transaction.
#[derive(Debug, Clone)]
pub struct PendingDoc {
    /// The new document, or `None` when the transaction deleted it.
    pub data: Option<Element>,
    /// `H(data)`, when known without hashing again.
    pub data_hash: Option<Hash>,
    /// True when the transaction inserted it (it has no committed revision).
    pub is_new: bool,
    /// Indexes of the statements that touched it (for `transactionInfo.documents`).
    pub statements: Vec<usize>,
}

/// Everything the transaction has written, not yet visible to others.
#[derive(Debug, Clone, Default)]
pub struct TxnWrites {
    /// table id → document id → pending document, in write order.
    pub tables: IndexMap<Arc<str>, IndexMap<Arc<str>, PendingDoc>>,
    pub catalog: Vec<CatalogOp>,
}

impl TxnWrites {
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && self.catalog.is_empty()
    }

    pub fn table(&self, table_id: &str) -> Option<&IndexMap<Arc<str>, PendingDoc>> {
        self.tables.get(table_id)
    }

    /// Records a write of `doc_id` by statement `stmt`.
    pub fn write(
        &mut self,
        table_id: &Arc<str>,
        doc_id: &Arc<str>,
        data: Option<Element>,
        data_hash: Option<Hash>,
        is_new: bool,
        stmt: usize,
    ) {
        let docs = self.tables.entry(table_id.clone()).or_default();
        match docs.get_mut(doc_id) {
            Some(p) => {
                p.data = data;
                p.data_hash = data_hash;
                if p.statements.last() != Some(&stmt) {
                    p.statements.push(stmt);
                }
            }
            None => {
                docs.insert(
                    doc_id.clone(),
                    PendingDoc {
                        data,
                        data_hash,
                        is_new,
                        statements: vec![stmt],
                    },
                );
            }
        }
    }
}

/// What the transaction read, each item with the commit counter it is validated against.
/// At commit, a later stamp on any of them means another transaction changed what we saw.
#[derive(Debug, Clone, Default)]
pub struct ReadSet {
    /// Scanned tables (any document write conflicts).
    pub tables: HashMap<Arc<str>, u64>,
    /// Documents read by id or found through an index.
    pub docs: HashMap<(Arc<str>, Arc<str>), u64>,
    /// Index probes, hit or miss (inserts of matching documents conflict).
    pub phantoms: HashMap<PhantomKey, u64>,
    /// Tables whose definition the transaction relied on.
    pub schemas: HashMap<Arc<str>, u64>,
    /// Set when the transaction read the catalog (DDL, information_schema).
    pub catalog: Option<u64>,
}

impl ReadSet {
    pub fn read_table(&mut self, table: &Arc<str>, counter: u64) {
        self.tables.entry(table.clone()).or_insert(counter);
    }

    pub fn read_doc(&mut self, table: &Arc<str>, doc: &Arc<str>, counter: u64) {
        self.docs
            .entry((table.clone(), doc.clone()))
            .or_insert(counter);
    }

    pub fn read_phantom(&mut self, key: PhantomKey, counter: u64) {
        self.phantoms.entry(key).or_insert(counter);
    }

    pub fn read_schema(&mut self, table: &Arc<str>, counter: u64) {
        self.schemas.entry(table.clone()).or_insert(counter);
    }

    pub fn read_catalog(&mut self, counter: u64) {
        self.catalog.get_or_insert(counter);
    }

    /// True when a transaction that committed after our reads invalidated one of them.
    pub fn conflicts_with(&self, state: &LedgerState) -> bool {
        if let Some(seen) = self.catalog {
            if state.catalog_stamp > seen {
                return true;
            }
        }
        for (table, seen) in &self.schemas {
            match state.tables.get(table) {
                Some(t) if t.ddl_stamp <= *seen => {}
                Some(_) => return true,
                // Created by this transaction: nobody else can have changed it.
                None => {}
            }
        }
        for (table, seen) in &self.tables {
            if state
                .tables
                .get(table)
                .is_some_and(|t| t.data_stamp > *seen)
            {
                return true;
            }
        }
        for ((table, doc), seen) in &self.docs {
            let stamp = state
                .tables
                .get(table)
                .and_then(|t| t.docs.get(doc))
                .map_or(0, |d| d.write_stamp);
            if stamp > *seen {
                return true;
            }
        }
        for (key, seen) in &self.phantoms {
            if state.phantom_stamps.get(key).is_some_and(|s| s > seen) {
                return true;
            }
        }
        false
    }
}

/// One executed statement, as `transactionInfo.statements` records it.
#[derive(Debug, Clone)]
pub struct StatementRecord {
    pub text: String,
    pub start_millis: i64,
    pub digest: Hash,
}

/// An open transaction.
#[derive(Debug)]
pub struct Transaction {
    pub id: Arc<str>,
    pub started: Instant,
    /// Commit counter when the transaction started. Every read is validated against it: QLDB
    /// fails a transaction if anything it read changed after it *started*, even before the read.
    pub start_counter: u64,
    pub digest: CommitDigest,
    pub reads: ReadSet,
    pub writes: TxnWrites,
    pub statements: Vec<StatementRecord>,
    /// Results not yet fetched, by page token.
    pub pending_pages: HashMap<String, VecDeque<Element>>,
}

impl Transaction {
    pub fn new(id: Arc<str>, start_counter: u64) -> Transaction {
        Transaction {
            digest: CommitDigest::new(&id),
            id,
            started: Instant::now(),
            start_counter,
            reads: ReadSet::default(),
            writes: TxnWrites::default(),
            statements: Vec::new(),
            pending_pages: HashMap::new(),
        }
    }
}
