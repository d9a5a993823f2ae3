//! Statement execution against one transaction's view of the ledger: the committed state under
//! a read lock, overlaid with the transaction's own writes. Reads are recorded for OCC and
//! counted as ReadIOs; writes are computed in full and only then buffered in the transaction,
//! so a failing statement changes nothing.

mod ddl;
mod dml;
mod edit;
mod expr;
mod query;
mod sources;

use crate::error::{LedgerError, LedgerResult};
use crate::eval::functions::FnContext;
use crate::eval::Value;
use crate::partiql::ast::{ParsedStatement, Statement};
use crate::state::{LedgerState, Table, MAX_DOCUMENT_BYTES};
use crate::txn::{CatalogOp, PendingDoc, ReadSet, TxnWrites};
use indexmap::IndexMap;
use ion_rs::Element;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// The outcome of one statement.
#[derive(Debug, Default)]
pub struct StatementOutput {
    pub values: Vec<Element>,
    pub read_ios: u64,
    pub write_ios: u64,
}

/// A variable bound while evaluating: a FROM alias, an `AT` position or a `BY` id.
#[derive(Debug, Clone)]
pub(crate) struct Binding<'a> {
    pub name: &'a str,
    pub value: Value<'a>,
    /// True for FROM aliases: unqualified names resolve against their fields.
    pub is_source: bool,
    /// For DML: where the bound value lives inside the target document.
    pub origin: Option<Vec<edit::Step>>,
    /// The document id, for a table row.
    pub doc_id: Option<&'a Arc<str>>,
}

pub(crate) type Env<'a> = Vec<Binding<'a>>;

/// A table as the transaction sees it: committed (if it existed before) plus pending DDL.
#[derive(Debug, Clone)]
pub(crate) struct TableRef<'a> {
    pub id: Arc<str>,
    pub name: String,
    pub committed: Option<&'a Table>,
    pub pending: Option<&'a IndexMap<Arc<str>, PendingDoc>>,
    /// Indexed fields, pending DDL applied.
    pub indexed: Vec<String>,
}

/// Evaluation context of one statement.
pub(crate) struct Ctx<'a> {
    pub state: &'a LedgerState,
    pub writes: &'a TxnWrites,
    pub params: &'a [Element],
    /// Ion hashes of `params`, computed for the commit digest.
    pub param_hashes: &'a [qldb_ion::Hash],
    pub fn_ctx: FnContext<'a>,
    pub reads: RefCell<ReadSet>,
    pub read_ios: Cell<u64>,
    /// Commit counter reads are validated against (the transaction's start).
    pub counter: u64,
    /// Results of aggregate calls, by call node, while an aggregating query projects.
    pub aggs: RefCell<Vec<(*const crate::partiql::ast::Expr, Value<'static>)>>,
}

impl<'a> Ctx<'a> {
    pub fn aggregate_result(&self, node: &crate::partiql::ast::Expr) -> Option<Value<'a>> {
        let aggs = self.aggs.borrow();
        aggs.iter()
            .find(|(p, _)| std::ptr::eq(*p, node))
            .map(|(_, v)| v.clone())
    }

    pub fn count_read(&self, n: u64) {
        self.read_ios.set(self.read_ios.get() + n);
    }

    /// Resolves an active table by name, pending DDL of this transaction included.
    pub fn table(&self, name: &str) -> Option<TableRef<'a>> {
        let mut id: Option<Arc<str>> = self.state.table_names.get(name).cloned();
        for op in &self.writes.catalog {
            match op {
                CatalogOp::CreateTable { table_id, name: n } if n == name => {
                    id = Some(table_id.clone())
                }
                CatalogOp::UndropTable { table_id }
                    if self
                        .state
                        .tables
                        .get(table_id)
                        .is_some_and(|t| t.name == name) =>
                {
                    id = Some(table_id.clone());
                }
                CatalogOp::DropTable { table_id } if id.as_ref() == Some(table_id) => id = None,
                _ => {}
            }
        }
        id.map(|id| self.table_by_id(&id))
    }

    /// A table by id, active or not.
    pub fn table_by_id(&self, id: &Arc<str>) -> TableRef<'a> {
        let committed = self.state.tables.get(id);
        let mut name = committed.map(|t| t.name.clone()).unwrap_or_default();
        let mut indexed: Vec<String> = committed
            .map(|t| t.indexes.iter().map(|i| i.field.clone()).collect())
            .unwrap_or_default();
        for op in &self.writes.catalog {
            match op {
                CatalogOp::CreateTable { table_id, name: n } if table_id == id => name = n.clone(),
                CatalogOp::CreateIndex {
                    table_id, field, ..
                } if table_id == id => indexed.push(field.clone()),
                CatalogOp::DropIndex { table_id, index_id } if table_id == id => {
                    if let Some(def) =
                        committed.and_then(|t| t.indexes.iter().find(|i| i.id == *index_id))
                    {
                        if let Some(p) = indexed.iter().position(|f| *f == def.field) {
                            indexed.remove(p);
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(t) = committed {
            self.reads.borrow_mut().read_schema(&t.id, self.counter);
        }
        TableRef {
            id: id.clone(),
            name,
            committed,
            pending: self.writes.table(id),
            indexed,
        }
    }

    /// Like `table`, but an unknown table is a BadRequest naming it.
    pub fn require_table(&self, name: &str) -> LedgerResult<TableRef<'a>> {
        self.table(name).ok_or_else(|| unknown_table(name))
    }
}

pub(crate) fn unknown_table(name: &str) -> LedgerError {
    LedgerError::bad_request(format!("No such table: {name}"))
}

/// Encoded size check shared by every write.
pub(crate) fn check_document(doc: &Element) -> LedgerResult<()> {
    if doc.ion_type() != ion_rs::IonType::Struct || doc.is_null() {
        return Err(LedgerError::bad_request(format!(
            "A document must be an Ion struct, found {}",
            doc.ion_type()
        )));
    }
    // Encoding a document just to measure it is costly on every write; an upper bound of its
    // binary size settles all but the documents near the limit.
    if size_upper_bound(doc) <= MAX_DOCUMENT_BYTES {
        return Ok(());
    }
    let size = doc
        .encode_as(ion_rs::v1_0::Binary)
        .map_err(|e| LedgerError::bad_request(format!("Cannot encode document: {e}")))?
        .len();
    if size > MAX_DOCUMENT_BYTES {
        return Err(LedgerError::bad_request(format!(
            "Document size {size} bytes exceeds the maximum of {MAX_DOCUMENT_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Facts about the transaction a statement runs in.
pub struct StatementContext<'t> {
    pub transaction_id: &'t str,
    /// Commit counter at the transaction's start: reads are validated against it.
    pub start_counter: u64,
    pub now: ion_rs::Timestamp,
    /// Position of the statement in the transaction.
    pub stmt_index: usize,
}

/// An upper bound of a value's Ion binary encoding: per value at most 11 bytes of type and
/// length headers plus its payload; per field name or annotation its text (for the symbol
/// table) and up to 16 bytes of symbol ids and table overhead; 16 bytes for the version marker
/// and symbol-table header.
fn size_upper_bound(e: &Element) -> usize {
    16 + value_size_upper_bound(e)
}

fn value_size_upper_bound(e: &Element) -> usize {
    use ion_rs::Value as V;
    let annotations: usize = e
        .annotations()
        .iter()
        .map(|a| a.text().map_or(0, str::len) + 16)
        .sum();
    let payload = match e.value() {
        V::Null(_) | V::Bool(_) => 0,
        V::Int(i) => i.as_i128().map_or_else(|| e.to_string().len(), |_| 16),
        V::Float(_) => 8,
        V::Decimal(_) | V::Timestamp(_) => 32 + e.to_string().len(),
        V::Symbol(s) => s.text().map_or(0, str::len) + 16,
        V::String(s) => s.text().len(),
        V::Clob(b) | V::Blob(b) => b.as_ref().len(),
        V::List(seq) | V::SExp(seq) => seq.iter().map(value_size_upper_bound).sum(),
        V::Struct(st) => st
            .fields()
            .map(|(k, v)| k.text().map_or(0, str::len) + 16 + value_size_upper_bound(v))
            .sum(),
    };
    11 + annotations + payload
}

/// Executes one parsed statement.
pub fn execute(
    state: &LedgerState,
    writes: &mut TxnWrites,
    reads: &mut ReadSet,
    cx: StatementContext<'_>,
    parsed: &ParsedStatement,
    params: &[Element],
    param_hashes: &[qldb_ion::Hash],
) -> LedgerResult<StatementOutput> {
    let stmt_index = cx.stmt_index;
    if parsed.param_count != params.len() {
        return Err(LedgerError::bad_request(format!(
            "Query expects {} parameters, but statement has {}",
            parsed.param_count,
            params.len()
        )));
    }
    let ctx = Ctx {
        state,
        writes,
        params,
        param_hashes,
        fn_ctx: FnContext {
            transaction_id: cx.transaction_id,
            now: cx.now,
        },
        reads: RefCell::new(std::mem::take(reads)),
        read_ios: Cell::new(0),
        counter: cx.start_counter,
        aggs: RefCell::new(Vec::new()),
    };
    let result = match &parsed.statement {
        Statement::Select(q) => query::select(&ctx, q)
            .map(|values| (values, Vec::new(), None))
            .map_err(LedgerError::from),
        Statement::Insert {
            table,
            value,
            single,
        } => dml::insert(&ctx, table, value, *single).map(|(v, w)| (v, w, None)),
        Statement::Delete { target, where_ } => {
            dml::delete(&ctx, target, where_.as_ref()).map(|(v, w)| (v, w, None))
        }
        Statement::Mutate(m) => dml::mutate(&ctx, m).map(|(v, w)| (v, w, None)),
        other => ddl::execute(&ctx, other).map(|(v, op)| (v, Vec::new(), Some(op))),
    };
    let read_ios = ctx.read_ios.get();
    *reads = ctx.reads.into_inner();
    let (values, doc_writes, catalog_op) = result?;
    let write_ios = doc_writes.len() as u64 + u64::from(catalog_op.is_some());
    for w in doc_writes {
        writes.write(
            &w.table_id,
            &w.doc_id,
            w.data,
            w.data_hash,
            w.is_new,
            stmt_index,
        );
    }
    if let Some(op) = catalog_op {
        writes.catalog.push(op);
    }
    Ok(StatementOutput {
        values,
        read_ios,
        write_ios,
    })
}

/// A document write computed by a DML statement.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_bound_is_never_below_the_encoding() {
        for text in [
            "{}",
            "ann::{a: 1, b: \"xyz\", c: [1, 2.50, 3e0], d: {e: 2020-01-01T00:00:00.123456789Z}}",
            "{big: 123456789012345678901234567890123456789012345678901234567890, s: sym, b: {{aGVsbG8=}}}",
            "{n: null.int, t: true, l: (a b c), d: -0.000000000000000000000000000001}",
        ] {
            let e = Element::read_one(text).unwrap();
            let exact = e.encode_as(ion_rs::v1_0::Binary).unwrap().len();
            assert!(size_upper_bound(&e) >= exact, "{text}: {} < {exact}", size_upper_bound(&e));
        }
    }
}

#[derive(Debug)]
pub(crate) struct DocWrite {
    pub table_id: Arc<str>,
    pub doc_id: Arc<str>,
    pub data: Option<Element>,
    /// `H(data)` when already known (a document inserted verbatim from a parameter).
    pub data_hash: Option<qldb_ion::Hash>,
    pub is_new: bool,
}

/// `{documentId: "…"}`, the result row of DML.
pub(crate) fn document_id_row(id: &str) -> Element {
    Element::struct_builder()
        .with_field("documentId", Element::string(id))
        .build()
        .into()
}
