//! SELECT: access-path planning, the nested-loop FROM evaluation shared with DML, projection,
//! and aggregates.

use super::expr::{contains_aggregate, is_aggregate, visit};
use super::sources::{Access, SourceKind};
use super::{Binding, Ctx, Env};
use crate::eval::ops;
use crate::eval::{EvalError, EvalResult, Value};
use crate::partiql::ast::{BinaryOp, Expr, FromItem, PathStep, ProjItem, Projection, Query};
use ion_rs::Element;
use std::cmp::Ordering;

/// Runs a top-level SELECT.
pub(crate) fn select<'a>(ctx: &Ctx<'a>, q: &'a Query) -> EvalResult<Vec<Element>> {
    run(ctx, q, &Vec::new())
}

/// The alias a FROM item binds: its `AS` name, else the name of what it reads.
pub(crate) fn item_alias(item: &FromItem, position: usize) -> &str {
    if let Some(a) = &item.alias {
        return a;
    }
    match &item.source {
        Expr::Var { name, .. } => name,
        Expr::Path { steps, .. } => match steps.last() {
            Some(PathStep::Field(f)) => f,
            _ => POSITIONAL[position.min(POSITIONAL.len() - 1)],
        },
        _ => POSITIONAL[position.min(POSITIONAL.len() - 1)],
    }
}

const POSITIONAL: [&str; 8] = ["_1", "_2", "_3", "_4", "_5", "_6", "_7", "_8"];

/// Splits a condition into its AND-ed parts.
fn conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Binary {
            op: BinaryOp::And,
            left,
            right,
        } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        other => out.push(other),
    }
}

/// True when `e` only uses parameters, literals and the names in `bound`.
fn independent(e: &Expr, bound: &[&str]) -> bool {
    let mut ok = true;
    visit(e, &mut |x| match x {
        Expr::Var { name, .. } if !bound.contains(&name.as_str()) => ok = false,
        Expr::Subquery(_) => ok = false,
        Expr::Call { name, .. } if is_aggregate(name) => ok = false,
        _ => {}
    });
    ok
}

/// True when `field` can be looked up through an index: one that is committed (an index
/// created by this very transaction has no entries yet) and not being dropped.
fn lookup_index(t: &super::TableRef<'_>, field: &str) -> bool {
    t.indexed.iter().any(|x| x == field) && t.committed.is_some_and(|c| c.has_index(field))
}

/// Chooses how each table item is read: by document id, through an index, or by scan.
pub(crate) fn plan<'a>(
    ctx: &Ctx<'a>,
    items: &'a [FromItem],
    where_: Option<&'a Expr>,
    env: &Env<'a>,
) -> EvalResult<Vec<Access<'a>>> {
    let mut bound: Vec<&str> = env.iter().map(|b| b.name).collect();
    let mut plans = Vec::with_capacity(items.len());
    let single = items.len() == 1;
    for (i, item) in items.iter().enumerate() {
        let alias = item_alias(item, i);
        let mut access = Access::Scan;
        if let SourceKind::Table(t) = ctx.source_kind(&item.source, env)? {
            let mut conds = Vec::new();
            if let Some(w) = where_ {
                conjuncts(w, &mut conds);
            }
            if let Some(on) = &item.on {
                conjuncts(on, &mut conds);
            }
            // A field of this item: `alias.f`, or a bare `f` when this is the only source.
            let field_ref = |e: &'a Expr| -> Option<&'a str> {
                match e {
                    Expr::Path { root, steps } => match (&**root, steps.as_slice()) {
                        (Expr::Var { name, .. }, [PathStep::Field(f)]) if name == alias => {
                            Some(f.as_str())
                        }
                        _ => None,
                    },
                    Expr::Var {
                        name,
                        at_prefixed: false,
                    } if single
                        && name != alias
                        && Some(name) != item.by.as_ref()
                        && Some(name) != item.at.as_ref()
                        && !bound.contains(&name.as_str()) =>
                    {
                        Some(name.as_str())
                    }
                    _ => None,
                }
            };
            let is_by =
                |e: &Expr| matches!(e, Expr::Var { name, .. } if Some(name) == item.by.as_ref());
            let mut by_id = None;
            let mut eq = None;
            let mut inl = None;
            for c in conds {
                match c {
                    Expr::Binary {
                        op: BinaryOp::Eq,
                        left,
                        right,
                    } => {
                        for (a, b) in [(&**left, &**right), (&**right, &**left)] {
                            if !independent(b, &bound) {
                                continue;
                            }
                            if is_by(a) {
                                by_id.get_or_insert(b);
                            } else if let Some(f) = field_ref(a) {
                                if lookup_index(&t, f) {
                                    eq.get_or_insert((f.to_string(), b));
                                }
                            }
                        }
                    }
                    Expr::In {
                        value,
                        list,
                        negated: false,
                    } if independent(list, &bound) => {
                        if let Some(f) = field_ref(value) {
                            if lookup_index(&t, f) {
                                inl.get_or_insert((f.to_string(), &**list));
                            }
                        }
                    }
                    _ => {}
                }
            }
            access = if let Some(b) = by_id {
                Access::ById(b)
            } else if let Some((f, b)) = eq {
                Access::IndexEq(f, b)
            } else if let Some((f, l)) = inl {
                Access::IndexIn(f, l)
            } else {
                Access::Scan
            };
        }
        plans.push(access);
        bound.push(alias);
        bound.extend(item.at.as_deref());
        bound.extend(item.by.as_deref());
    }
    Ok(plans)
}

/// Nested-loop evaluation of FROM items: binds each row of item `i` and recurses; calls
/// `visit` with the environment once every item is bound and the ON conditions hold.
pub(crate) fn from_loop<'a>(
    ctx: &Ctx<'a>,
    items: &'a [FromItem],
    access: &[Access<'a>],
    i: usize,
    env: &mut Env<'a>,
    track_paths: bool,
    visit: &mut dyn FnMut(&mut Env<'a>) -> EvalResult<()>,
) -> EvalResult<()> {
    if i == items.len() {
        return visit(env);
    }
    let item = &items[i];
    let alias = item_alias(item, i);
    let rows = ctx.source_rows(item, &access[i], env, track_paths)?;
    for row in rows {
        let mark = env.len();
        env.push(Binding {
            name: alias,
            value: row.value,
            is_source: true,
            origin: if track_paths { row.path } else { None },
            doc_id: row.doc_id,
        });
        if let Some(at) = &item.at {
            env.push(Binding {
                name: at,
                value: row
                    .at
                    .map_or(Value::Missing, |p| Value::Owned(Element::int(p as i64))),
                is_source: false,
                origin: None,
                doc_id: None,
            });
        }
        if let Some(by) = &item.by {
            env.push(Binding {
                name: by,
                value: row
                    .doc_id
                    .map_or(Value::Missing, |id| Value::Owned(Element::string(&**id))),
                is_source: false,
                origin: None,
                doc_id: None,
            });
        }
        let joined = match &item.on {
            Some(on) => ops::truth(&ctx.eval(on, env)?) == Some(true),
            None => true,
        };
        if joined {
            from_loop(ctx, items, access, i + 1, env, track_paths, visit)?;
        }
        env.truncate(mark);
    }
    Ok(())
}

/// Accumulator of one aggregate call.
struct Agg<'a> {
    node: &'a Expr,
    name: &'a str,
    arg: Option<&'a Expr>,
    count: u64,
    sum: Option<Value<'static>>,
    best: Option<Value<'static>>,
}

impl<'a> Agg<'a> {
    fn add(&mut self, v: Value<'_>) -> EvalResult<()> {
        if v.is_absent() {
            return Ok(());
        }
        self.count += 1;
        match self.name {
            "sum" | "avg" => {
                self.sum = Some(match self.sum.take() {
                    None => v.into_owned(),
                    Some(s) => ops::arith(BinaryOp::Add, &s, &v)?,
                });
            }
            "min" | "max" => {
                let better = match &self.best {
                    None => true,
                    Some(b) => {
                        let o = ops::total_order(&v, b);
                        if self.name == "min" {
                            o == Ordering::Less
                        } else {
                            o == Ordering::Greater
                        }
                    }
                };
                if better {
                    self.best = Some(v.into_owned());
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(self) -> EvalResult<Value<'static>> {
        Ok(match self.name {
            "count" => Value::Owned(Element::int(self.count as i64)),
            "sum" => self.sum.unwrap_or_else(Value::null),
            "avg" => match self.sum {
                None => Value::null(),
                Some(s) => {
                    // Integer sums average as decimals, as PartiQL does.
                    let s = if s.ion_type() == Some(ion_rs::IonType::Int) {
                        crate::eval::functions::cast(&s, "decimal")?
                    } else {
                        s
                    };
                    let n = Value::Owned(Element::int(self.count as i64));
                    ops::arith(BinaryOp::Div, &s, &n)?
                }
            },
            _ => self.best.unwrap_or_else(Value::null),
        })
    }
}

/// Runs a query in an environment (outer variables for subqueries).
pub(crate) fn run<'a>(ctx: &Ctx<'a>, q: &'a Query, outer: &Env<'a>) -> EvalResult<Vec<Element>> {
    let access = plan(ctx, &q.from, q.where_.as_ref(), outer)?;
    let mut env: Env<'a> = outer.clone();
    let base = env.len();

    // Aggregate calls in the projection, if any, turn the query into one output row.
    let mut aggs: Vec<Agg<'a>> = Vec::new();
    let proj_exprs: Vec<&'a Expr> = match &q.projection {
        Projection::Star => Vec::new(),
        Projection::Value(e) => vec![e],
        Projection::Items(items) => items
            .iter()
            .map(|it| match it {
                ProjItem::Expr { expr, .. } => expr,
                ProjItem::AllFields(e) => e,
            })
            .collect(),
    };
    for e in &proj_exprs {
        if contains_aggregate(e) {
            visit(e, &mut |x| {
                if let Expr::Call { name, args, star } = x {
                    if is_aggregate(name) {
                        aggs.push(Agg {
                            node: x,
                            name,
                            arg: if *star { None } else { args.first() },
                            count: 0,
                            sum: None,
                            best: None,
                        });
                    }
                }
            });
        }
    }
    for a in &aggs {
        let arg_count = match a.node {
            Expr::Call { args, star, .. } => args.len() + usize::from(*star),
            _ => 0,
        };
        if arg_count != 1 {
            return Err(EvalError::new(format!(
                "{} takes exactly one argument",
                a.name.to_uppercase()
            )));
        }
        if a.arg.is_none() && a.name != "count" {
            return Err(EvalError::new(format!(
                "{}(*) is not supported",
                a.name.to_uppercase()
            )));
        }
    }
    let aggregating = !aggs.is_empty();

    let mut out: Vec<Element> = Vec::new();
    from_loop(ctx, &q.from, &access, 0, &mut env, false, &mut |env| {
        if let Some(w) = &q.where_ {
            if ops::truth(&ctx.eval(w, env)?) != Some(true) {
                return Ok(());
            }
        }
        if aggregating {
            for a in aggs.iter_mut() {
                match a.arg {
                    None => a.count += 1,
                    Some(arg) => {
                        let v = ctx.eval(arg, env)?;
                        a.add(v)?;
                    }
                }
            }
            return Ok(());
        }
        let Some(row) = project(ctx, &q.projection, env, base)? else {
            return Ok(());
        };
        out.push(row);
        Ok(())
    })?;

    if aggregating {
        let mut results = Vec::with_capacity(aggs.len());
        for a in aggs {
            let node = a.node as *const Expr;
            results.push((node, a.finish()?));
        }
        let saved = std::mem::replace(&mut *ctx.aggs.borrow_mut(), results);
        let row = project(ctx, &q.projection, outer, outer.len());
        *ctx.aggs.borrow_mut() = saved;
        return Ok(row?.into_iter().collect());
    }
    Ok(out)
}

/// The name of an unaliased projection: a variable's or last path field's name, else `_N`.
fn derived_name(e: &Expr, position: usize) -> String {
    match e {
        Expr::Var { name, .. } => name.clone(),
        Expr::Path { steps, .. } => match steps.last() {
            Some(PathStep::Field(f)) => f.clone(),
            Some(PathStep::Index(ix)) => match &**ix {
                Expr::Lit(l) if l.as_string().is_some() => l.as_string().unwrap_or_default().into(),
                _ => format!("_{}", position + 1),
            },
            _ => format!("_{}", position + 1),
        },
        _ => format!("_{}", position + 1),
    }
}

/// Builds one output value from the current row; `None` when the row yields nothing
/// (`SELECT VALUE` of MISSING).
fn project<'a>(
    ctx: &Ctx<'a>,
    proj: &'a Projection,
    env: &Env<'a>,
    base: usize,
) -> EvalResult<Option<Element>> {
    match proj {
        Projection::Star => {
            let sources: Vec<&Binding<'a>> = env[base..].iter().filter(|b| b.is_source).collect();
            if sources.len() == 1 {
                return Ok(sources[0].value.clone().into_element());
            }
            let mut b = Element::struct_builder();
            for s in sources {
                if let Some(st) = s.value.element().and_then(Element::as_struct) {
                    for (k, v) in st.fields() {
                        b = b.with_field(k.text().unwrap_or_default(), v.clone());
                    }
                }
            }
            Ok(Some(b.build().into()))
        }
        Projection::Value(e) => Ok(ctx.eval(e, env)?.into_element()),
        Projection::Items(items) => {
            let mut b = Element::struct_builder();
            for (pos, it) in items.iter().enumerate() {
                match it {
                    ProjItem::Expr { expr, alias } => {
                        let name = alias.clone().unwrap_or_else(|| derived_name(expr, pos));
                        if let Some(v) = ctx.eval(expr, env)?.into_element() {
                            b = b.with_field(name, v);
                        }
                    }
                    ProjItem::AllFields(e) => {
                        let v = ctx.eval(e, env)?;
                        if let Some(st) = v.element().and_then(Element::as_struct) {
                            for (k, fv) in st.fields() {
                                b = b.with_field(k.text().unwrap_or_default(), fv.clone());
                            }
                        }
                    }
                }
            }
            Ok(Some(b.build().into()))
        }
    }
}
