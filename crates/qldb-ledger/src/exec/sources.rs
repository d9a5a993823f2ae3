//! FROM sources: the rows each FROM item yields, by table scan, index lookup, document id,
//! committed view, `history()`, `information_schema.user_tables`, or a nested collection.
//! Every document visited is one ReadIO and is recorded in the transaction's read set.

use super::edit::Step;
use super::expr::members;
use super::{unknown_table, Ctx, Env, TableRef};
use crate::clock::{millis_from_timestamp, now_millis};
use crate::eval::ops::eq_key;
use crate::eval::{EvalError, EvalResult, Value};
use crate::partiql::ast::{Expr, FromItem, PathStep};
use crate::state::field_of;
use ion_rs::{Element, IonType};
use std::sync::Arc;

/// How a table item is read, chosen by the planner from the WHERE and ON conditions.
#[derive(Debug, Clone)]
pub(crate) enum Access<'a> {
    /// Every document.
    Scan,
    /// `by_alias = expr`: one document by id.
    ById(&'a Expr),
    /// `field = expr` on an indexed field.
    IndexEq(String, &'a Expr),
    /// `field IN list` on an indexed field.
    IndexIn(String, &'a Expr),
}

/// One row a FROM item yields.
#[derive(Debug, Clone)]
pub(crate) struct SourceRow<'a> {
    pub value: Value<'a>,
    /// Position in the list (`AT`).
    pub at: Option<usize>,
    /// Document id (`BY`), for table rows.
    pub doc_id: Option<&'a Arc<str>>,
    /// Path of the value inside its document, for DML on nested collections.
    pub path: Option<Vec<Step>>,
}

impl<'a> SourceRow<'a> {
    /// A full revision struct (committed view, history) of document `id`.
    fn revision(rev: &crate::revision::Revision, id: &'a Arc<str>) -> SourceRow<'a> {
        SourceRow {
            value: Value::Owned(rev.to_element()),
            at: None,
            doc_id: Some(id),
            path: None,
        }
    }
}

/// What a FROM expression names.
pub(crate) enum SourceKind<'a> {
    Table(TableRef<'a>),
    Committed(TableRef<'a>),
    History(&'a [Expr]),
    UserTables,
    Expr,
}

impl<'a> Ctx<'a> {
    /// Classifies a FROM source. A bare name that is not a bound variable is a table.
    pub(crate) fn source_kind(
        &self,
        source: &'a Expr,
        env: &Env<'a>,
    ) -> EvalResult<SourceKind<'a>> {
        match source {
            Expr::Var {
                name,
                at_prefixed: false,
            } if !env.iter().any(|b| b.name == name) => {
                if let Some(t) = self.table(name) {
                    return Ok(SourceKind::Table(t));
                }
                if let Some(base) = name.strip_prefix("_ql_committed_") {
                    if let Some(t) = self.table(base) {
                        return Ok(SourceKind::Committed(t));
                    }
                }
                Err(unknown_table(name).into_eval())
            }
            Expr::Path { root, steps }
                if matches!(&**root, Expr::Var { name, at_prefixed: false } if name == "information_schema")
                    && matches!(steps.as_slice(), [PathStep::Field(f)] if f == "user_tables") =>
            {
                Ok(SourceKind::UserTables)
            }
            Expr::Call { name, args, .. } if name == "history" => Ok(SourceKind::History(args)),
            _ => Ok(SourceKind::Expr),
        }
    }

    /// The rows of one FROM item in the current environment.
    pub(crate) fn source_rows(
        &self,
        item: &'a FromItem,
        access: &Access<'a>,
        env: &Env<'a>,
        track_paths: bool,
    ) -> EvalResult<Vec<SourceRow<'a>>> {
        match self.source_kind(&item.source, env)? {
            SourceKind::Table(t) => self.table_rows(&t, access, env),
            SourceKind::Committed(t) => self.committed_rows(&t),
            SourceKind::History(args) => self.history_rows(args, env),
            SourceKind::UserTables => Ok(self.user_tables_rows()),
            SourceKind::Expr => {
                let base_path = if track_paths {
                    self.origin_path(&item.source, env)
                } else {
                    None
                };
                let v = self.eval(&item.source, env)?;
                let is_seq = v
                    .element()
                    .is_some_and(|e| !e.is_null() && e.as_sequence().is_some())
                    || matches!(v, Value::Bag(_));
                let rows = members(v);
                Ok(rows
                    .into_iter()
                    .enumerate()
                    .map(|(i, value)| SourceRow {
                        value,
                        at: Some(i),
                        doc_id: None,
                        path: base_path.as_ref().map(|p| {
                            let mut p = p.clone();
                            if is_seq {
                                p.push(Step::Index(i));
                            }
                            p
                        }),
                    })
                    .collect())
            }
        }
    }

    /// The document path an expression denotes, when it is a path of field names rooted at a
    /// variable bound to (part of) a document.
    pub(crate) fn origin_path(&self, e: &'a Expr, env: &Env<'a>) -> Option<Vec<Step>> {
        let (root, steps): (&str, &[PathStep]) = match e {
            Expr::Var { name, .. } => (name, &[]),
            Expr::Path { root, steps } => match &**root {
                Expr::Var { name, .. } => (name, steps),
                _ => return None,
            },
            _ => return None,
        };
        let b = env.iter().rev().find(|b| b.name == root)?;
        let mut path = b.origin.clone()?;
        for s in steps {
            match s {
                PathStep::Field(f) => path.push(Step::Field(f.clone())),
                PathStep::Index(ix) => {
                    let k = self.eval(ix, env).ok()?;
                    let k = k.element()?;
                    if let Some(i) = k.as_i64() {
                        path.push(Step::Index(usize::try_from(i).ok()?));
                    } else {
                        path.push(Step::Field(k.as_text()?.to_string()));
                    }
                }
                PathStep::Wildcard => return None,
            }
        }
        Some(path)
    }

    /// The live document `id` as this transaction sees it.
    pub(crate) fn doc(&self, t: &TableRef<'a>, id: &str) -> Option<(&'a Arc<str>, &'a Element)> {
        if let Some((k, p)) = t.pending.and_then(|p| p.get_key_value(id)) {
            return p.data.as_ref().map(|d| (k, d));
        }
        let (k, entry) = t.committed?.docs.get_key_value(id)?;
        entry.live_data().map(|d| (k, d))
    }

    fn table_rows(
        &self,
        t: &TableRef<'a>,
        access: &Access<'a>,
        env: &Env<'a>,
    ) -> EvalResult<Vec<SourceRow<'a>>> {
        let row = |id: &'a Arc<str>, d: &'a Element| SourceRow {
            value: Value::Ref(d),
            at: None,
            doc_id: Some(id),
            path: Some(Vec::new()),
        };
        let mut rows = Vec::new();
        match access {
            Access::Scan => {
                self.reads.borrow_mut().read_table(&t.id, self.counter);
                if let Some(table) = t.committed {
                    for (id, entry) in &table.docs {
                        if let Some(p) = t.pending.and_then(|p| p.get(id)) {
                            if let Some(d) = &p.data {
                                rows.push(row(id, d));
                            }
                        } else if let Some(d) = entry.live_data() {
                            rows.push(row(id, d));
                        }
                    }
                }
                if let Some(pending) = t.pending {
                    for (id, p) in pending {
                        if let (true, Some(d)) = (p.is_new, &p.data) {
                            rows.push(row(id, d));
                        }
                    }
                }
            }
            Access::ById(e) => {
                let v = self.eval(e, env)?;
                if let Some(id) = v.element().and_then(Element::as_text) {
                    if let Some(committed) = t.committed {
                        if let Some((k, _)) = committed.docs.get_key_value(id) {
                            self.reads.borrow_mut().read_doc(&t.id, k, self.counter);
                        }
                    }
                    if let Some((k, d)) = self.doc(t, id) {
                        rows.push(row(k, d));
                    }
                }
            }
            Access::IndexEq(field, e) | Access::IndexIn(field, e) => {
                let v = self.eval(e, env)?;
                let keys: Vec<Vec<u8>> = if matches!(access, Access::IndexIn(..)) {
                    members(v)
                        .iter()
                        .filter_map(|m| m.element().filter(|e| !e.is_null()).map(eq_key))
                        .collect()
                } else {
                    v.element()
                        .filter(|e| !e.is_null())
                        .map(eq_key)
                        .into_iter()
                        .collect()
                };
                let mut seen = std::collections::HashSet::new();
                for key in keys {
                    self.reads
                        .borrow_mut()
                        .read_phantom((t.id.clone(), field.clone(), key.clone()), self.counter);
                    if let Some(table) = t.committed {
                        for id in table.index_lookup(field, &key) {
                            if t.pending.is_some_and(|p| p.contains_key(id)) {
                                continue; // the pending version is checked below
                            }
                            if seen.insert(id.clone()) {
                                self.reads.borrow_mut().read_doc(&t.id, id, self.counter);
                                if let Some((k, d)) = self.doc(t, id) {
                                    rows.push(row(k, d));
                                }
                            }
                        }
                    }
                    if let Some(pending) = t.pending {
                        for (id, p) in pending {
                            let Some(d) = &p.data else { continue };
                            let hit = field_of(d, field).is_some_and(|fv| eq_key(fv) == key);
                            if hit && seen.insert(id.clone()) {
                                rows.push(row(id, d));
                            }
                        }
                    }
                }
            }
        }
        self.count_read(rows.len() as u64);
        Ok(rows)
    }

    /// `_ql_committed_T`: full revision structs of the committed live documents.
    fn committed_rows(&self, t: &TableRef<'a>) -> EvalResult<Vec<SourceRow<'a>>> {
        self.reads.borrow_mut().read_table(&t.id, self.counter);
        let mut rows = Vec::new();
        if let Some(table) = t.committed {
            for (id, entry) in &table.docs {
                if let (true, Some(rev)) = (entry.is_live(), entry.latest()) {
                    rows.push(SourceRow::revision(rev, id));
                }
            }
        }
        self.count_read(rows.len() as u64);
        Ok(rows)
    }

    /// `history(T | 'tableId' [, start [, end]])`: every revision active within the window.
    fn history_rows(&self, args: &'a [Expr], env: &Env<'a>) -> EvalResult<Vec<SourceRow<'a>>> {
        if args.is_empty() || args.len() > 3 {
            return Err(EvalError::new(
                "history() takes a table and optional start and end timestamps",
            ));
        }
        let table = match &args[0] {
            Expr::Var { name, .. } => self
                .table(name)
                .ok_or_else(|| unknown_table(name).into_eval())?,
            other => {
                let v = self.eval(other, env)?;
                let id = v
                    .element()
                    .and_then(Element::as_text)
                    .ok_or_else(|| EvalError::new("history() expects a table name or table id"))?
                    .to_string();
                match self.state.tables.get_key_value(id.as_str()) {
                    Some((k, _)) => self.table_by_id(k),
                    None => return Err(unknown_table(&id).into_eval()),
                }
            }
        };
        let bound = |i: usize| -> EvalResult<Option<i64>> {
            match args.get(i) {
                None => Ok(None),
                Some(e) => {
                    let v = self.eval(e, env)?;
                    match v.element() {
                        Some(el) if el.ion_type() == IonType::Timestamp && !el.is_null() => {
                            Ok(Some(millis_from_timestamp(
                                &el.as_timestamp().expect("timestamp"),
                            )))
                        }
                        _ => Err(EvalError::new("history() bounds must be Ion timestamps")),
                    }
                }
            }
        };
        let start = bound(1)?;
        let end = bound(2)?;
        let now = now_millis();
        if end.is_some_and(|e| e > now + 1000) {
            return Err(EvalError::new(
                "The end time of history() must not be in the future",
            ));
        }
        self.reads.borrow_mut().read_table(&table.id, self.counter);
        let mut rows = Vec::new();
        if let Some(t) = table.committed {
            for (id, entry) in &t.docs {
                for (i, rev) in entry.revisions.iter().enumerate() {
                    // A revision is active from its commit until the next revision's commit.
                    let active_from = rev.tx_millis;
                    let active_to = entry.revisions.get(i + 1).map_or(i64::MAX, |n| n.tx_millis);
                    let in_window =
                        start.is_none_or(|s| active_to > s) && end.is_none_or(|e| active_from <= e);
                    if in_window {
                        rows.push(SourceRow::revision(rev, id));
                    }
                }
            }
        }
        self.count_read(rows.len() as u64);
        Ok(rows)
    }

    /// `information_schema.user_tables`.
    fn user_tables_rows(&self) -> Vec<SourceRow<'a>> {
        self.reads.borrow_mut().read_catalog(self.counter);
        let mut ids: Vec<Arc<str>> = self.state.tables.keys().cloned().collect();
        for op in &self.writes.catalog {
            if let crate::txn::CatalogOp::CreateTable { table_id, .. } = op {
                ids.push(table_id.clone());
            }
        }
        let mut rows = Vec::new();
        for id in ids {
            let t = self.table_by_id(&id);
            let active = self.table(&t.name).is_some_and(|a| a.id == id);
            let mut indexes = Vec::new();
            let defs: Vec<(Arc<str>, String)> = t
                .committed
                .map(|c| {
                    c.indexes
                        .iter()
                        .map(|i| (i.id.clone(), i.field.clone()))
                        .collect()
                })
                .unwrap_or_default();
            let mut all = defs;
            for op in &self.writes.catalog {
                match op {
                    crate::txn::CatalogOp::CreateIndex {
                        table_id,
                        index_id,
                        field,
                    } if *table_id == id => all.push((index_id.clone(), field.clone())),
                    crate::txn::CatalogOp::DropIndex { table_id, index_id } if *table_id == id => {
                        all.retain(|(i, _)| i != index_id)
                    }
                    _ => {}
                }
            }
            for (index_id, field) in all {
                indexes.push(Element::from(
                    Element::struct_builder()
                        .with_field("indexId", Element::string(&*index_id))
                        .with_field("expr", Element::string(format!("[{field}]")))
                        .with_field("status", Element::string("ONLINE"))
                        .build(),
                ));
            }
            let row: Element = Element::struct_builder()
                .with_field("name", Element::string(t.name.as_str()))
                .with_field("tableId", Element::string(&*id))
                .with_field("indexes", Element::from(ion_rs::List::from(indexes)))
                .with_field(
                    "status",
                    Element::string(if active { "ACTIVE" } else { "INACTIVE" }),
                )
                .build()
                .into();
            rows.push(SourceRow {
                value: Value::Owned(row),
                at: None,
                doc_id: None,
                path: None,
            });
        }
        self.count_read(rows.len() as u64);
        rows
    }
}

trait IntoEval {
    fn into_eval(self) -> EvalError;
}

impl IntoEval for crate::error::LedgerError {
    fn into_eval(self) -> EvalError {
        EvalError::new(self.message())
    }
}
