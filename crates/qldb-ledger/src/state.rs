//! The committed state of one ledger, kept in memory: tables, indexes, every revision of every
//! document, the OCC stamps commits are validated against, and the Merkle log of block hashes.
//!
//! The journal is the source of truth; this state is rebuilt from it on open.

use crate::eval::ops::eq_key;
use crate::revision::Revision;
use indexmap::IndexMap;
use ion_rs::Element;
use qldb_ion::{Hash, MerkleLog};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Limits from `spec/semantics.md` §1.
pub const MAX_ACTIVE_TABLES: usize = 20;
pub const MAX_TOTAL_TABLES: usize = 40;
pub const MAX_INDEXES_PER_TABLE: usize = 5;
pub const MAX_INDEX_FIELD_LEN: usize = 128;
pub const MAX_DOCUMENT_BYTES: usize = 128 * 1024;
/// Largest journal block a transaction may write. QLDB limits a transaction to 4 MB of changes
/// but also to 40 documents; this engine enforces neither, so bulk loads in tests keep working,
/// and instead refuses blocks past 32 MiB (well inside the journal's 64 MiB record limit) with a
/// BadRequest rather than a storage failure that drivers would retry.
pub const MAX_BLOCK_BYTES: usize = 32 * 1024 * 1024;

/// A user index: equality on one top-level field.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    pub id: Arc<str>,
    pub field: String,
}

/// One document: all its revisions, newest last.
#[derive(Debug, Clone, Default)]
pub struct DocEntry {
    pub revisions: Vec<Arc<Revision>>,
    /// Commit counter of the last commit that wrote this document (OCC stamp).
    pub write_stamp: u64,
}

impl DocEntry {
    /// The current document, `None` once deleted.
    pub fn live_data(&self) -> Option<&Element> {
        self.revisions
            .last()
            .and_then(|r| if r.is_delete() { None } else { r.data.as_ref() })
    }

    pub fn latest(&self) -> Option<&Arc<Revision>> {
        self.revisions.last()
    }

    pub fn is_live(&self) -> bool {
        self.revisions.last().is_some_and(|r| !r.is_delete())
    }
}

/// A table with its documents and indexes.
#[derive(Debug, Clone)]
pub struct Table {
    pub id: Arc<str>,
    pub name: String,
    pub active: bool,
    pub indexes: Vec<IndexDef>,
    /// Every document ever inserted, in insertion order (deleted ones keep their history).
    pub docs: IndexMap<Arc<str>, DocEntry>,
    /// field → equality key → ids of live documents whose field has that value.
    pub index_data: HashMap<String, HashMap<Vec<u8>, HashSet<Arc<str>>>>,
    pub live_count: usize,
    /// Commit counter of the last commit that wrote any document (scans conflict with it).
    pub data_stamp: u64,
    /// Commit counter of the last change to the table's definition (drop, undrop, indexes).
    pub ddl_stamp: u64,
}

impl Table {
    pub fn new(id: Arc<str>, name: String) -> Table {
        Table {
            id,
            name,
            active: true,
            indexes: Vec::new(),
            docs: IndexMap::new(),
            index_data: HashMap::new(),
            live_count: 0,
            data_stamp: 0,
            ddl_stamp: 0,
        }
    }

    pub fn has_index(&self, field: &str) -> bool {
        self.indexes.iter().any(|i| i.field == field)
    }

    /// Ids of live documents whose indexed `field` has equality key `key`.
    pub fn index_lookup(&self, field: &str, key: &[u8]) -> impl Iterator<Item = &Arc<str>> {
        self.index_data
            .get(field)
            .and_then(|m| m.get(key))
            .into_iter()
            .flatten()
    }

    /// Adds an index and fills it from the live documents.
    pub fn add_index(&mut self, def: IndexDef) {
        let mut map: HashMap<Vec<u8>, HashSet<Arc<str>>> = HashMap::new();
        for (id, doc) in &self.docs {
            if let Some(v) = doc.live_data().and_then(|d| field_of(d, &def.field)) {
                map.entry(eq_key(v)).or_default().insert(id.clone());
            }
        }
        self.index_data.insert(def.field.clone(), map);
        self.indexes.push(def);
    }

    pub fn remove_index(&mut self, index_id: &str) -> Option<IndexDef> {
        let pos = self.indexes.iter().position(|i| &*i.id == index_id)?;
        let def = self.indexes.remove(pos);
        if !self.has_index(&def.field) {
            self.index_data.remove(&def.field);
        }
        Some(def)
    }

    /// The index keys a document contributes: (field, key) for each indexed field present.
    pub fn index_keys(&self, data: &Element) -> Vec<(String, Vec<u8>)> {
        let mut keys = Vec::new();
        for field in self.index_data.keys() {
            if let Some(v) = field_of(data, field) {
                keys.push((field.clone(), eq_key(v)));
            }
        }
        keys
    }

    /// Applies a committed revision: history, live count and index maintenance.
    /// Returns the index keys removed and added (for phantom stamps).
    pub fn apply_revision(&mut self, rev: Arc<Revision>) -> Vec<(String, Vec<u8>)> {
        let doc_id = rev.metadata.id.clone();
        let entry = self.docs.entry(doc_id.clone()).or_default();
        let old_keys_src = entry.live_data().cloned();
        let was_live = entry.is_live();
        entry.revisions.push(rev.clone());
        let now_live = entry.is_live();
        match (was_live, now_live) {
            (false, true) => self.live_count += 1,
            (true, false) => self.live_count -= 1,
            _ => {}
        }
        let mut changed = Vec::new();
        if let Some(old) = old_keys_src {
            for (field, key) in self.index_keys(&old) {
                if let Some(set) = self
                    .index_data
                    .get_mut(&field)
                    .and_then(|m| m.get_mut(&key))
                {
                    set.remove(&doc_id);
                }
                changed.push((field, key));
            }
        }
        if let Some(new) = rev.data.as_ref().filter(|_| now_live) {
            for (field, key) in self.index_keys(new) {
                self.index_data
                    .entry(field.clone())
                    .or_default()
                    .entry(key.clone())
                    .or_default()
                    .insert(doc_id.clone());
                changed.push((field, key));
            }
        }
        changed
    }
}

/// The value of top-level field `field` of a document, if it is a struct that has it.
pub fn field_of<'e>(doc: &'e Element, field: &str) -> Option<&'e Element> {
    doc.as_struct().and_then(|s| s.get(field))
}

/// Key of a phantom stamp: (table id, indexed field, equality key).
pub type PhantomKey = (Arc<str>, String, Vec<u8>);

/// The committed state of a ledger.
#[derive(Debug, Clone)]
pub struct LedgerState {
    pub strand_id: Arc<str>,
    /// All tables by id, active and dropped, in creation order.
    pub tables: IndexMap<Arc<str>, Table>,
    /// Active table name → id.
    pub table_names: HashMap<String, Arc<str>>,
    /// Commit counter of the last DDL commit.
    pub catalog_stamp: u64,
    /// Commit counter of the last commit that added or removed each index key.
    pub phantom_stamps: HashMap<PhantomKey, u64>,
    /// Block hashes of every block, in sequence order; its root is the ledger digest.
    pub blocks: MerkleLog,
    /// `blockTimestamp` of the last block (epoch ms); commit times never go backwards.
    pub last_block_millis: i64,
}

impl LedgerState {
    pub fn new(strand_id: Arc<str>) -> LedgerState {
        LedgerState {
            strand_id,
            tables: IndexMap::new(),
            table_names: HashMap::new(),
            catalog_stamp: 0,
            phantom_stamps: HashMap::new(),
            blocks: MerkleLog::default(),
            last_block_millis: 0,
        }
    }

    /// The commit counter: number of committed blocks. OCC stamps are values of this counter
    /// just after the commit that set them, so "changed since I read at counter c" is
    /// `stamp > c`.
    pub fn counter(&self) -> u64 {
        self.blocks.len()
    }

    pub fn last_block_hash(&self) -> Hash {
        let n = self.blocks.len();
        if n == 0 {
            [0u8; 32]
        } else {
            self.blocks.leaf(n - 1).expect("leaf in range")
        }
    }

    pub fn active_table(&self, name: &str) -> Option<&Table> {
        self.table_names
            .get(name)
            .and_then(|id| self.tables.get(id))
    }

    pub fn table_by_id(&self, id: &str) -> Option<&Table> {
        self.tables.get(id)
    }

    pub fn active_table_count(&self) -> usize {
        self.table_names.len()
    }
}
