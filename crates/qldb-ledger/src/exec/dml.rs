//! INSERT, UPDATE, DELETE and QLDB's FROM-DML. Each statement computes every changed document
//! first; the caller buffers them in the transaction only when the whole statement succeeded.

use super::edit::{self, Step};
use super::query::{from_loop, plan};
use super::{check_document, document_id_row, Ctx, DocWrite, Env};
use crate::error::{LedgerError, LedgerResult};
use crate::eval::{ops, EvalError, EvalResult, Value};
use crate::partiql::ast::{DmlOp, DmlTarget, Expr, FromItem, Mutation, PathStep};
use ion_rs::{Element, IonType};
use std::collections::HashMap;
use std::sync::Arc;

type DmlOutput = (Vec<Element>, Vec<DocWrite>);

/// `INSERT INTO t VALUE e` / `<< … >>` / `?`.
pub(crate) fn insert<'a>(
    ctx: &Ctx<'a>,
    table: &str,
    value: &'a Expr,
    single: bool,
) -> LedgerResult<DmlOutput> {
    let t = ctx.require_table(table)?;
    // `INSERT INTO t VALUE ?` / `INSERT INTO t ?` with a struct stores the parameter as is, so
    // the hash computed for the commit digest is also the document's hash.
    let known_hash = match value {
        Expr::Param(i) => ctx.param_hashes.get(*i).copied(),
        _ => None,
    };
    let v = ctx.eval(value, &Vec::new())?;
    let docs: Vec<Element> = match v {
        Value::Bag(items) if !single => items.into_iter().filter_map(Value::into_element).collect(),
        Value::Missing => {
            return Err(LedgerError::bad_request(
                "INSERT needs a value to insert, found MISSING",
            ))
        }
        other => {
            let e = other.into_element().expect("not missing");
            if !single && e.ion_type() == IonType::List && !e.is_null() {
                e.try_into_sequence()
                    .map(|s| s.into_iter().collect())
                    .unwrap_or_default()
            } else {
                vec![e]
            }
        }
    };
    let mut rows = Vec::with_capacity(docs.len());
    let mut writes = Vec::with_capacity(docs.len());
    let single_struct = docs.len() == 1 && docs[0].ion_type() == IonType::Struct;
    for doc in docs {
        check_document(&doc)?;
        let id: Arc<str> = Arc::from(qldb_ion::new_id());
        rows.push(document_id_row(&id));
        writes.push(DocWrite {
            table_id: t.id.clone(),
            doc_id: id,
            data: Some(doc),
            data_hash: if single_struct { known_hash } else { None },
            is_new: true,
        });
    }
    Ok((rows, writes))
}

fn target_item(target: &DmlTarget) -> FromItem {
    FromItem {
        source: Expr::Var {
            name: target.table.clone(),
            at_prefixed: false,
        },
        alias: target.alias.clone(),
        at: None,
        by: target.by.clone(),
        on: None,
    }
}

/// `DELETE FROM t [AS a] [BY id] [WHERE …]`.
pub(crate) fn delete(
    ctx: &Ctx<'_>,
    target: &DmlTarget,
    where_: Option<&Expr>,
) -> LedgerResult<DmlOutput> {
    let items = vec![target_item(target)];
    run(ctx, &target.table, &items, where_, &[], true)
}

/// `UPDATE …` and `FROM … SET|INSERT INTO|REMOVE`.
pub(crate) fn mutate(ctx: &Ctx<'_>, m: &Mutation) -> LedgerResult<DmlOutput> {
    let mut items = vec![target_item(&m.target)];
    items.extend(m.extra_sources.iter().cloned());
    run(
        ctx,
        &m.target.table,
        &items,
        m.where_.as_ref(),
        &m.ops,
        false,
    )
}

fn run<'q>(
    ctx: &Ctx<'q>,
    table: &str,
    items: &'q [FromItem],
    where_: Option<&'q Expr>,
    ops_list: &'q [DmlOp],
    delete: bool,
) -> LedgerResult<DmlOutput> {
    let t = ctx.require_table(table)?;
    let access = plan(ctx, items, where_, &Vec::new())?;
    let mut order: Vec<Arc<str>> = Vec::new();
    let mut working: HashMap<Arc<str>, Working> = HashMap::new();
    let mut env: Env<'q> = Vec::new();
    from_loop(ctx, items, &access, 0, &mut env, true, &mut |env| {
        if let Some(w) = where_ {
            if ops::truth(&ctx.eval(w, env)?) != Some(true) {
                return Ok(());
            }
        }
        let target = &env[0];
        let Some(doc_id) = target.doc_id else {
            return Ok(());
        };
        let w = working.entry(doc_id.clone()).or_insert_with(|| {
            order.push(doc_id.clone());
            Working {
                doc: target.value.clone().into_element(),
                removals: Vec::new(),
            }
        });
        if delete {
            w.doc = None;
        } else {
            for op in ops_list {
                let Some(d) = w.doc.take() else { break };
                w.doc = apply(ctx, op, d, env, &mut w.removals)?;
            }
        }
        Ok(())
    })?;
    let mut rows = Vec::with_capacity(order.len());
    let mut writes = Vec::with_capacity(order.len());
    for id in order {
        let Working { doc, mut removals } = working.remove(&id).expect("recorded above");
        // Removals are applied last, deepest and right-most first, so that removing one list
        // element does not shift the positions recorded for the others.
        removals.sort();
        removals.dedup();
        let data = doc.map(|d| removals.iter().rev().fold(d, |d, p| edit::remove(&d, p)));
        if let Some(d) = &data {
            check_document(d)?;
        }
        rows.push(document_id_row(&id));
        writes.push(DocWrite {
            table_id: t.id.clone(),
            doc_id: id,
            data,
            data_hash: None,
            is_new: false,
        });
    }
    Ok((rows, writes))
}

/// A document being changed by a DML statement: its new value (`None` once deleted) and the
/// paths to remove from it at the end.
struct Working {
    doc: Option<Element>,
    removals: Vec<Vec<Step>>,
}

/// Applies one operation to a document; `None` means the document is deleted. Removals of
/// parts of the document are queued in `removals`.
fn apply<'q>(
    ctx: &Ctx<'q>,
    op: &'q DmlOp,
    doc: Element,
    env: &Env<'q>,
    removals: &mut Vec<Vec<Step>>,
) -> EvalResult<Option<Element>> {
    match op {
        DmlOp::Set { path, value } => {
            let p = resolve_path(ctx, path, env)?;
            match ctx.eval(value, env)?.into_element() {
                None => {
                    removals.push(p);
                    Ok(Some(doc))
                }
                Some(v) if p.is_empty() => {
                    if v.ion_type() != IonType::Struct || v.is_null() {
                        return Err(EvalError::new("A document must be replaced by a struct"));
                    }
                    Ok(Some(v))
                }
                Some(v) => edit::set(&doc, &p, v).map(Some),
            }
        }
        DmlOp::Remove { path } => {
            let p = resolve_path(ctx, path, env)?;
            if p.is_empty() {
                Ok(None)
            } else {
                removals.push(p);
                Ok(Some(doc))
            }
        }
        DmlOp::InsertInto { path, value, at } => {
            let p = resolve_path(ctx, path, env)?;
            let v = ctx
                .eval(value, env)?
                .into_element()
                .ok_or_else(|| EvalError::new("INSERT INTO needs a value, found MISSING"))?;
            let key = match at {
                Some(k) => ctx.eval(k, env)?.into_element(),
                None => None,
            };
            edit::insert_into(&doc, &p, v, key.as_ref()).map(Some)
        }
    }
}

/// The document path a DML target expression denotes, relative to the target document.
fn resolve_path<'q>(ctx: &Ctx<'q>, e: &'q Expr, env: &Env<'q>) -> EvalResult<Vec<Step>> {
    let (root, steps): (&str, &[PathStep]) = match e {
        Expr::Var { name, .. } => (name, &[]),
        Expr::Path { root, steps } => match &**root {
            Expr::Var { name, .. } => (name, steps.as_slice()),
            _ => return Err(not_a_path()),
        },
        _ => return Err(not_a_path()),
    };
    let mut path = match env.iter().rev().find(|b| b.name == root) {
        Some(b) => b.origin.clone().ok_or_else(|| {
            EvalError::new(format!("'{root}' does not refer to part of the document"))
        })?,
        // An unqualified name is a field of the target document.
        None => vec![Step::Field(root.to_string())],
    };
    for s in steps {
        match s {
            PathStep::Field(f) => path.push(Step::Field(f.clone())),
            PathStep::Index(ix) => {
                let k = ctx.eval(ix, env)?;
                match k.element() {
                    Some(el) if el.ion_type() == IonType::Int => {
                        let i = el
                            .as_i64()
                            .and_then(|i| usize::try_from(i).ok())
                            .ok_or_else(|| EvalError::new("List positions must be non-negative"))?;
                        path.push(Step::Index(i));
                    }
                    Some(el) if el.as_text().is_some() => {
                        path.push(Step::Field(el.as_text().unwrap_or_default().to_string()))
                    }
                    _ => return Err(EvalError::new("A path index must be an int or a string")),
                }
            }
            PathStep::Wildcard => return Err(EvalError::new("[*] cannot be a DML target")),
        }
    }
    Ok(path)
}

fn not_a_path() -> EvalError {
    EvalError::new("The target of SET, REMOVE or INSERT INTO must be a path")
}
