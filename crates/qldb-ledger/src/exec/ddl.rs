//! DDL: CREATE/DROP/UNDROP TABLE and CREATE/DROP INDEX. Each returns one struct and one catalog
//! change, applied when the transaction commits.

use super::Ctx;
use crate::error::{LedgerError, LedgerResult};
use crate::partiql::ast::Statement;
use crate::state::{
    MAX_ACTIVE_TABLES, MAX_INDEXES_PER_TABLE, MAX_INDEX_FIELD_LEN, MAX_TOTAL_TABLES,
};
use crate::txn::CatalogOp;
use ion_rs::Element;
use std::sync::Arc;

fn table_id_row(id: &str) -> Element {
    Element::struct_builder()
        .with_field("tableId", Element::string(id))
        .build()
        .into()
}

/// QLDB's table naming rule: 1–128 characters, letters, digits and underscores, not starting
/// with a digit; the `_ql` prefix is reserved for system views.
fn check_table_name(name: &str) -> LedgerResult<()> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(LedgerError::bad_request(format!(
            "Invalid table name: {name}. Table names must be 1 to 128 letters, digits or \
             underscores and must not start with a digit"
        )));
    }
    if name.starts_with("_ql") {
        return Err(LedgerError::bad_request(format!(
            "Invalid table name: {name}. The prefix _ql is reserved"
        )));
    }
    Ok(())
}

pub(crate) fn execute(ctx: &Ctx<'_>, stmt: &Statement) -> LedgerResult<(Vec<Element>, CatalogOp)> {
    ctx.reads.borrow_mut().read_catalog(ctx.counter);
    let pending_creates = ctx
        .writes
        .catalog
        .iter()
        .filter(|op| matches!(op, CatalogOp::CreateTable { .. }))
        .count();
    match stmt {
        Statement::CreateTable { name, .. } => {
            check_table_name(name)?;
            if ctx.table(name).is_some() {
                return Err(LedgerError::bad_request(format!(
                    "Table with name: {name} already exists"
                )));
            }
            let total = ctx.state.tables.len() + pending_creates;
            if total >= MAX_TOTAL_TABLES {
                return Err(LedgerError::bad_request(format!(
                    "Exceeded tables limit: Ledger has {total} total tables, and cannot create another."
                )));
            }
            let active = ctx.state.active_table_count() + pending_creates;
            if active >= MAX_ACTIVE_TABLES {
                return Err(LedgerError::bad_request(format!(
                    "Exceeded active tables limit: Ledger has {active} active tables, and cannot create another."
                )));
            }
            let id: Arc<str> = Arc::from(qldb_ion::new_id());
            Ok((
                vec![table_id_row(&id)],
                CatalogOp::CreateTable {
                    table_id: id,
                    name: name.clone(),
                },
            ))
        }
        Statement::DropTable { name } => {
            let t = ctx.require_table(name)?;
            Ok((
                vec![table_id_row(&t.id)],
                CatalogOp::DropTable { table_id: t.id },
            ))
        }
        Statement::UndropTable { table_id } => {
            let Some((id, t)) = ctx.state.tables.get_key_value(table_id.as_str()) else {
                return Err(LedgerError::bad_request(format!(
                    "No such table id: {table_id}"
                )));
            };
            if ctx.table(&t.name).is_some_and(|a| a.id == *id) {
                return Err(LedgerError::bad_request(format!(
                    "Table {table_id} is already active"
                )));
            }
            if ctx.table(&t.name).is_some() {
                return Err(LedgerError::bad_request(format!(
                    "Cannot undrop table {table_id}: an active table named {} exists",
                    t.name
                )));
            }
            if ctx.state.active_table_count() + pending_creates >= MAX_ACTIVE_TABLES {
                return Err(LedgerError::bad_request(
                    "Exceeded active tables limit: cannot undrop another table.",
                ));
            }
            Ok((
                vec![table_id_row(id)],
                CatalogOp::UndropTable {
                    table_id: id.clone(),
                },
            ))
        }
        Statement::CreateIndex { table, field } => {
            let t = ctx.require_table(table)?;
            if field.is_empty() || field.chars().count() > MAX_INDEX_FIELD_LEN {
                return Err(LedgerError::bad_request(format!(
                    "Invalid index field name: an indexed field name must be 1 to {MAX_INDEX_FIELD_LEN} characters"
                )));
            }
            if t.indexed.iter().any(|f| f == field) {
                return Err(LedgerError::bad_request(format!(
                    "An index on field {field} already exists for table {table}"
                )));
            }
            if t.indexed.len() >= MAX_INDEXES_PER_TABLE {
                return Err(LedgerError::bad_request(format!(
                    "Exceeded indexes limit: table {table} already has {MAX_INDEXES_PER_TABLE} indexes"
                )));
            }
            let index_id: Arc<str> = Arc::from(qldb_ion::new_id());
            let row = Element::struct_builder()
                .with_field("tableId", Element::string(&*t.id))
                .with_field("indexId", Element::string(&*index_id))
                .build()
                .into();
            Ok((
                vec![row],
                CatalogOp::CreateIndex {
                    table_id: t.id,
                    index_id,
                    field: field.clone(),
                },
            ))
        }
        Statement::DropIndex { index_id, table } => {
            let t = ctx.require_table(table)?;
            let exists = t
                .committed
                .is_some_and(|c| c.indexes.iter().any(|i| &*i.id == index_id.as_str()))
                && !ctx.writes.catalog.iter().any(|op| {
                    matches!(op, CatalogOp::DropIndex { index_id: i, .. } if &**i == index_id.as_str())
                });
            if !exists {
                return Err(LedgerError::bad_request(format!(
                    "No such index: {index_id} on table {table}"
                )));
            }
            Ok((
                vec![table_id_row(&t.id)],
                CatalogOp::DropIndex {
                    table_id: t.id,
                    index_id: Arc::from(index_id.as_str()),
                },
            ))
        }
        Statement::Exec { procedure, .. } => Err(LedgerError::bad_request(format!(
            "EXEC {procedure} is not supported by this ledger"
        ))),
        Statement::Select(_)
        | Statement::Insert { .. }
        | Statement::Delete { .. }
        | Statement::Mutate(_) => unreachable!("DML is dispatched before DDL"),
    }
}
