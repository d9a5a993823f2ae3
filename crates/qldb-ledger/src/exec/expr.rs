//! Expression evaluation: variables and paths over the bound documents, operators, function
//! calls and nested queries.

use super::{Ctx, Env};
use crate::eval::functions::{call_scalar, cast};
use crate::eval::ops;
use crate::eval::{EvalError, EvalResult, Value};
use crate::partiql::ast::{BinaryOp, Expr, PathStep, UnaryOp};
use ion_rs::{Element, IonType};

pub(crate) const AGGREGATES: [&str; 5] = ["count", "sum", "avg", "min", "max"];

pub(crate) fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name)
}

/// True when the expression contains an aggregate call outside nested queries.
pub(crate) fn contains_aggregate(e: &Expr) -> bool {
    let mut found = false;
    visit(e, &mut |x| {
        if let Expr::Call { name, .. } = x {
            if is_aggregate(name) {
                found = true;
            }
        }
    });
    found
}

/// Calls `f` on `e` and every sub-expression, not descending into subqueries.
pub(crate) fn visit<'e>(e: &'e Expr, f: &mut dyn FnMut(&'e Expr)) {
    f(e);
    match e {
        Expr::Lit(_) | Expr::Missing | Expr::Param(_) | Expr::Var { .. } | Expr::Subquery(_) => {}
        Expr::Path { root, steps } => {
            visit(root, f);
            for s in steps {
                if let PathStep::Index(i) = s {
                    visit(i, f);
                }
            }
        }
        Expr::Unary { operand, .. } => visit(operand, f),
        Expr::Binary { left, right, .. } => {
            visit(left, f);
            visit(right, f);
        }
        Expr::Like {
            value,
            pattern,
            escape,
            ..
        } => {
            visit(value, f);
            visit(pattern, f);
            if let Some(x) = escape {
                visit(x, f);
            }
        }
        Expr::Between {
            value, low, high, ..
        } => {
            visit(value, f);
            visit(low, f);
            visit(high, f);
        }
        Expr::In { value, list, .. } => {
            visit(value, f);
            visit(list, f);
        }
        Expr::Is { value, .. } => visit(value, f),
        Expr::Call { args, .. } => args.iter().for_each(|a| visit(a, f)),
        Expr::Cast { value, .. } => visit(value, f),
        Expr::Struct(fields) => fields.iter().for_each(|(k, v)| {
            visit(k, f);
            visit(v, f);
        }),
        Expr::List(items) | Expr::Bag(items) => items.iter().for_each(|i| visit(i, f)),
    }
}

/// Navigates one step into a value, keeping borrows where the parent was borrowed.
pub(crate) fn field<'v>(v: &Value<'v>, name: &str) -> Value<'v> {
    match v {
        Value::Ref(e) => match e.as_struct().and_then(|s| s.get(name)) {
            Some(c) => Value::Ref(c),
            None => Value::Missing,
        },
        Value::Owned(e) => match e.as_struct().and_then(|s| s.get(name)) {
            Some(c) => Value::Owned(c.clone()),
            None => Value::Missing,
        },
        _ => Value::Missing,
    }
}

fn index<'v>(v: &Value<'v>, i: i64) -> Value<'v> {
    if i < 0 {
        return Value::Missing;
    }
    let i = i as usize;
    match v {
        Value::Ref(e) => match e.as_sequence().and_then(|s| s.get(i)) {
            Some(c) => Value::Ref(c),
            None => Value::Missing,
        },
        Value::Owned(e) => match e.as_sequence().and_then(|s| s.get(i)) {
            Some(c) => Value::Owned(c.clone()),
            None => Value::Missing,
        },
        Value::Bag(items) => items.get(i).cloned().unwrap_or(Value::Missing),
        Value::Missing => Value::Missing,
    }
}

/// The members of a collection value (for unnesting and `[*]`): list and sexp elements, bag
/// members; a scalar or struct is a singleton; MISSING and null are empty.
pub(crate) fn members<'v>(v: Value<'v>) -> Vec<Value<'v>> {
    match v {
        Value::Missing => Vec::new(),
        Value::Bag(items) => items,
        Value::Ref(e) => match e.as_sequence() {
            Some(s) if !e.is_null() => s.iter().map(Value::Ref).collect(),
            _ if e.is_null() => Vec::new(),
            _ => vec![Value::Ref(e)],
        },
        Value::Owned(e) => {
            if e.is_null() {
                Vec::new()
            } else if e.as_sequence().is_some() {
                e.try_into_sequence()
                    .map(|s| s.into_iter().map(Value::Owned).collect())
                    .unwrap_or_default()
            } else {
                vec![Value::Owned(e)]
            }
        }
    }
}

impl<'a> Ctx<'a> {
    /// Looks a name up: bound variables first, then a field of a FROM source (innermost first).
    pub(crate) fn lookup(&self, name: &str, at_prefixed: bool, env: &Env<'a>) -> Value<'a> {
        if let Some(b) = env.iter().rev().find(|b| b.name == name) {
            return b.value.clone();
        }
        if !at_prefixed {
            for b in env.iter().rev().filter(|b| b.is_source) {
                let v = field(&b.value, name);
                if !v.is_missing() {
                    return v;
                }
            }
        }
        Value::Missing
    }

    pub(crate) fn eval(&self, e: &'a Expr, env: &Env<'a>) -> EvalResult<Value<'a>> {
        Ok(match e {
            Expr::Lit(el) => Value::Ref(el),
            Expr::Missing => Value::Missing,
            Expr::Param(i) => Value::Ref(
                self.params
                    .get(*i)
                    .ok_or_else(|| EvalError::new(format!("No value for parameter {}", i + 1)))?,
            ),
            Expr::Var { name, at_prefixed } => self.lookup(name, *at_prefixed, env),
            Expr::Path { root, steps } => {
                let mut v = self.eval(root, env)?;
                for s in steps {
                    v = match s {
                        PathStep::Field(name) => match v {
                            Value::Bag(items) => {
                                Value::Bag(items.iter().map(|m| field(m, name)).collect())
                            }
                            other => field(&other, name),
                        },
                        PathStep::Index(ix) => {
                            let key = self.eval(ix, env)?;
                            match key.element() {
                                Some(k) if k.ion_type() == IonType::Int && !k.is_null() => {
                                    index(&v, k.as_i64().unwrap_or(-1))
                                }
                                Some(k) if k.as_text().is_some() => {
                                    field(&v, k.as_text().unwrap_or_default())
                                }
                                _ => Value::Missing,
                            }
                        }
                        PathStep::Wildcard => Value::Bag(members(v)),
                    };
                }
                v
            }
            Expr::Unary { op, operand } => {
                let v = self.eval(operand, env)?;
                match op {
                    UnaryOp::Not => ops::not(&v),
                    UnaryOp::Neg => ops::negate(&v)?,
                    UnaryOp::Pos => v,
                }
            }
            Expr::Binary { op, left, right } => {
                // AND/OR short-circuit where the answer is already known.
                match op {
                    BinaryOp::And => {
                        let l = self.eval(left, env)?;
                        if ops::truth(&l) == Some(false) {
                            return Ok(Value::bool(false));
                        }
                        let r = self.eval(right, env)?;
                        return Ok(ops::and(&l, &r));
                    }
                    BinaryOp::Or => {
                        let l = self.eval(left, env)?;
                        if ops::truth(&l) == Some(true) {
                            return Ok(Value::bool(true));
                        }
                        let r = self.eval(right, env)?;
                        return Ok(ops::or(&l, &r));
                    }
                    _ => {}
                }
                let l = self.eval(left, env)?;
                let r = self.eval(right, env)?;
                match op {
                    BinaryOp::Add
                    | BinaryOp::Sub
                    | BinaryOp::Mul
                    | BinaryOp::Div
                    | BinaryOp::Mod => ops::arith(*op, &l, &r)?,
                    BinaryOp::Concat => ops::concat(&l, &r)?,
                    BinaryOp::Eq => ops::eq(&l, &r),
                    _ => ops::compare(*op, &l, &r)?,
                }
            }
            Expr::Like {
                value,
                pattern,
                escape,
                negated,
            } => {
                let v = self.eval(value, env)?;
                let p = self.eval(pattern, env)?;
                let esc = match escape {
                    Some(x) => Some(self.eval(x, env)?),
                    None => None,
                };
                let r = ops::like(&v, &p, esc.as_ref())?;
                negate_if(r, *negated)
            }
            Expr::Between {
                value,
                low,
                high,
                negated,
            } => {
                let v = self.eval(value, env)?;
                let lo = self.eval(low, env)?;
                let hi = self.eval(high, env)?;
                let a = ops::compare(BinaryOp::Ge, &v, &lo)?;
                let b = ops::compare(BinaryOp::Le, &v, &hi)?;
                negate_if(ops::and(&a, &b), *negated)
            }
            Expr::In {
                value,
                list,
                negated,
            } => {
                let v = self.eval(value, env)?;
                let l = self.eval(list, env)?;
                negate_if(in_list(&v, l), *negated)
            }
            Expr::Is {
                value,
                test,
                negated,
            } => {
                let v = self.eval(value, env)?;
                Value::bool(ops::is_test(&v, test) != *negated)
            }
            Expr::Call { name, args, star } => self.call(e, name, args, *star, env)?,
            Expr::Cast { value, type_name } => {
                let v = self.eval(value, env)?;
                cast(&v, type_name)?
            }
            Expr::Struct(fields) => {
                let mut b = Element::struct_builder();
                for (k, v) in fields {
                    let key = self.eval(k, env)?;
                    let key = match key.element().and_then(Element::as_text) {
                        Some(t) => t.to_string(),
                        None => {
                            return Err(EvalError::new(
                                "Struct field names must be strings or symbols",
                            ))
                        }
                    };
                    if let Some(val) = self.eval(v, env)?.into_element() {
                        b = b.with_field(key, val);
                    }
                }
                Value::Owned(b.build().into())
            }
            Expr::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    if let Some(v) = self.eval(i, env)?.into_element() {
                        out.push(v);
                    }
                }
                Value::Owned(ion_rs::List::from(out).into())
            }
            Expr::Bag(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(i, env)?);
                }
                Value::Bag(out)
            }
            Expr::Subquery(q) => Value::Bag(
                super::query::run(self, q, env)?
                    .into_iter()
                    .map(Value::Owned)
                    .collect(),
            ),
        })
    }

    fn call(
        &self,
        node: &'a Expr,
        name: &str,
        args: &'a [Expr],
        star: bool,
        env: &Env<'a>,
    ) -> EvalResult<Value<'a>> {
        if is_aggregate(name) {
            // In an aggregating query the projection is evaluated after every row has been
            // folded; the folded result of this very call node is looked up here.
            return self.aggregate_result(node).ok_or_else(|| {
                EvalError::new(format!(
                    "Aggregate function {} is only allowed in the SELECT list",
                    name.to_uppercase()
                ))
            });
        }
        if star {
            return Err(EvalError::new(format!(
                "{}(*) is not supported",
                name.to_uppercase()
            )));
        }
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.eval(a, env)?);
        }
        call_scalar(name, vals, &self.fn_ctx)
    }
}

fn negate_if(v: Value<'static>, negated: bool) -> Value<'static> {
    if negated {
        ops::not(&v)
    } else {
        v
    }
}

/// `v IN list`: true if any member equals `v`; null when no member matched but a comparison was
/// unknown (SQL three-valued logic).
fn in_list<'v>(v: &Value<'v>, list: Value<'v>) -> Value<'static> {
    if v.is_missing() {
        return Value::Missing;
    }
    let mut unknown = v.is_absent();
    for m in members(list) {
        match ops::truth(&ops::eq(v, &m)) {
            Some(true) => return Value::bool(true),
            Some(false) => {}
            None => unknown = true,
        }
    }
    if unknown {
        Value::null()
    } else {
        Value::bool(false)
    }
}
