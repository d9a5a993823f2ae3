//! PartiQL operators over exact Ion values: `=` and the other comparisons, arithmetic, `||`,
//! unary minus, `LIKE`, `IS` tests, three-valued `AND`/`OR`/`NOT`, a total order for sorting
//! (`MIN`/`MAX`), and a hash key consistent with `=` for index lookups.
//!
//! # Semantics chosen here
//!
//! **Propagation.** Every operator returns MISSING when an operand is MISSING, otherwise null
//! when an operand is an Ion null of any type (`null`, `null.int`, …). The logical operators are
//! the exception: they use three-valued logic and treat MISSING, null and non-booleans alike as
//! *unknown* (`false AND x` is false, `true OR x` is true, anything else unknown is `null`).
//!
//! **Equality (`=`, [`values_equal`]).** Annotations are ignored. Numbers compare by value across
//! int, decimal and float (`1 = 1.0 = 1e0`, `-0e0 = 0`); a float takes part as its shortest
//! round-trip decimal (the digits Ion text prints for it), so `0.2e0 = 0.2` — this keeps the
//! relation an equivalence (each number maps to one exact decimal) instead of comparing binary
//! expansions no user ever typed. `nan = nan` is true so that every stored value equals itself.
//! A string and a symbol with the same text are equal. Timestamps are equal when they denote the
//! same instant (precision and offset ignored; an unknown offset counts as UTC). Blobs equal
//! blobs and clobs equal clobs byte for byte (a blob never equals a clob). Lists and sexps compare
//! element-wise (a list never equals a sexp); structs compare as multisets of (name, value)
//! fields; bags as multisets. Inside containers nulls of any type equal each other, so a stored
//! `[null]` still finds itself. Everything else of different types is unequal. With these rules
//! `WHERE col = ?` finds a round-tripped value of every Ion type (typed nulls excepted: `null =
//! null` is null, per PartiQL — use `IS NULL`).
//!
//! **Ordering comparisons (`< <= > >=`).** Defined between numbers (numerically, as above; any
//! comparison with `nan` is false), between texts (string or symbol, by Unicode code point),
//! between timestamps (by instant), between booleans (`false < true`) and between lobs of the
//! same type (bytewise). Any other pairing — e.g. `'a' < 1`, or a struct — is *incomparable* and
//! yields MISSING, as PartiQL's permissive mode does, so one odd document does not fail a scan.
//!
//! **Arithmetic.** int ∘ int → int of unbounded size (no overflow), `/` truncates toward zero and
//! `%` takes the dividend's sign; int ∘ decimal and decimal ∘ decimal → exact decimal (`1.10 + 1 =
//! 2.10`), except that `/` on decimals rounds to 34 significant digits (half-even, IEEE decimal128
//! as PartiQL does) and drops trailing zeros down to the preferred exponent; any float operand →
//! float. Dividing (or `%`) by zero of any numeric type is the error "Division by zero".
//! Non-numeric operands yield MISSING (permissive mode), as do `||` and unary minus on the wrong
//! types.
//!
//! **LIKE.** `%` matches any run of characters and `_` exactly one, over Unicode scalar values,
//! case-sensitively; the optional escape character (exactly one character) makes the next pattern
//! character literal. A non-text value yields MISSING; a non-text pattern or escape, a bad escape
//! or a pattern ending in the escape character is an error.

use std::cmp::Ordering;

use ion_rs::{Decimal, Element, Int, IonType, Timestamp, TimestampPrecision, Value as IonValue};
use num_bigint::{BigInt, BigUint, Sign as BigSign};

use crate::eval::{EvalError, EvalResult, Value};
use crate::partiql::ast::{BinaryOp, IsTest};

// ---------------------------------------------------------------------------------------------
// Equality
// ---------------------------------------------------------------------------------------------

/// PartiQL `=`: MISSING if either side is MISSING, null if either side is an Ion null, else the
/// boolean [`values_equal`] (bags compare as multisets).
pub fn eq(l: &Value, r: &Value) -> Value<'static> {
    match unknown_of(l, r) {
        Some(u) => u,
        None => Value::bool(value_eq(l, r)),
    }
}

/// The equality used by `=` on two Ion values (see the module docs). Nulls of any type are equal
/// to each other here, which is what containers need; `=` itself never reaches this with a
/// top-level null because it yields null first.
pub fn values_equal(l: &Element, r: &Element) -> bool {
    use IonValue as V;
    match (l.value(), r.value()) {
        (V::Null(_), V::Null(_)) => true,
        (V::Null(_), _) | (_, V::Null(_)) => false,
        (V::Bool(a), V::Bool(b)) => a == b,
        (V::Int(a), V::Int(b)) => a == b,
        (V::Timestamp(a), V::Timestamp(b)) => ts_instant(a) == ts_instant(b),
        (V::Blob(a), V::Blob(b)) | (V::Clob(a), V::Clob(b)) => a.as_ref() == b.as_ref(),
        (V::List(a), V::List(b)) | (V::SExp(a), V::SExp(b)) => {
            a.len() == b.len()
                && a.elements()
                    .zip(b.elements())
                    .all(|(x, y)| values_equal(x, y))
        }
        (V::Struct(a), V::Struct(b)) => struct_equal(a, b),
        _ => {
            if let (Some(a), Some(b)) = (Num::of(l), Num::of(r)) {
                return num_cmp(&a, &b) == Some(Ordering::Equal) || (a.is_nan() && b.is_nan());
            }
            match (text_key(l), text_key(r)) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            }
        }
    }
}

/// Structs are multisets of fields: same size, and every field of one pairs off with an equal
/// field of the other. The common case (same field order) is checked pairwise first; otherwise
/// the fields are matched through their hash keys, which are exact for [`values_equal`].
fn struct_equal(a: &ion_rs::Struct, b: &ion_rs::Struct) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let in_order = a
        .fields()
        .zip(b.fields())
        .all(|((na, va), (nb, vb))| na.text() == nb.text() && values_equal(va, vb));
    if in_order {
        return true;
    }
    let mut ka = field_keys(a);
    let mut kb = field_keys(b);
    ka.sort_unstable();
    kb.sort_unstable();
    ka == kb
}

/// Equality of evaluator values: bags as multisets, MISSING equal to MISSING (only reachable
/// inside bags), Ion values by [`values_equal`].
fn value_eq(l: &Value, r: &Value) -> bool {
    match (l, r) {
        (Value::Missing, Value::Missing) => true,
        (Value::Bag(a), Value::Bag(b)) => multiset_eq(a, b),
        _ => match (l.element(), r.element()) {
            (Some(a), Some(b)) => values_equal(a, b),
            _ => false,
        },
    }
}

fn multiset_eq(a: &[Value], b: &[Value]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    'outer: for x in a {
        for (i, y) in b.iter().enumerate() {
            if !used[i] && value_eq(x, y) {
                used[i] = true;
                continue 'outer;
            }
        }
        return false;
    }
    true
}

/// MISSING if either operand is MISSING, else null if either is an Ion null, else `None`
/// (both operands are known).
fn unknown_of(l: &Value, r: &Value) -> Option<Value<'static>> {
    if l.is_missing() || r.is_missing() {
        Some(Value::Missing)
    } else if l.is_absent() || r.is_absent() {
        Some(Value::null())
    } else {
        None
    }
}

fn unknown_of1(v: &Value) -> Option<Value<'static>> {
    if v.is_missing() {
        Some(Value::Missing)
    } else if v.is_absent() {
        Some(Value::null())
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------

/// `= <> < <= > >=`. MISSING/null propagate; incomparable operands (different kinds, or
/// containers for the ordering operators) give MISSING. Any other operator is an error.
pub fn compare(op: BinaryOp, l: &Value, r: &Value) -> EvalResult<Value<'static>> {
    let want: fn(Ordering) -> bool = match op {
        BinaryOp::Eq => return Ok(eq(l, r)),
        BinaryOp::Ne => {
            return Ok(match unknown_of(l, r) {
                Some(u) => u,
                None => Value::bool(!value_eq(l, r)),
            })
        }
        BinaryOp::Lt => |o| o == Ordering::Less,
        BinaryOp::Le => |o| o != Ordering::Greater,
        BinaryOp::Gt => |o| o == Ordering::Greater,
        BinaryOp::Ge => |o| o != Ordering::Less,
        other => {
            return Err(EvalError::new(format!(
                "Operator {other:?} is not a comparison"
            )))
        }
    };
    if let Some(u) = unknown_of(l, r) {
        return Ok(u);
    }
    let (Some(a), Some(b)) = (l.element(), r.element()) else {
        return Ok(Value::Missing);
    };
    Ok(match scalar_cmp(a, b) {
        ScalarCmp::Ordered(o) => Value::bool(want(o)),
        ScalarCmp::Unordered => Value::bool(false),
        ScalarCmp::Incomparable => Value::Missing,
    })
}

enum ScalarCmp {
    Ordered(Ordering),
    /// Both are numbers but one is `nan`: every ordering comparison is false.
    Unordered,
    Incomparable,
}

fn scalar_cmp(a: &Element, b: &Element) -> ScalarCmp {
    use IonValue as V;
    if let (Some(x), Some(y)) = (Num::of(a), Num::of(b)) {
        return match num_cmp(&x, &y) {
            Some(o) => ScalarCmp::Ordered(o),
            None => ScalarCmp::Unordered,
        };
    }
    if let (Some(x), Some(y)) = (text_key(a), text_key(b)) {
        return ScalarCmp::Ordered(x.cmp(&y));
    }
    match (a.value(), b.value()) {
        (V::Bool(x), V::Bool(y)) => ScalarCmp::Ordered(x.cmp(y)),
        (V::Timestamp(x), V::Timestamp(y)) => ScalarCmp::Ordered(ts_instant(x).cmp(&ts_instant(y))),
        (V::Blob(x), V::Blob(y)) | (V::Clob(x), V::Clob(y)) => {
            ScalarCmp::Ordered(x.as_ref().cmp(y.as_ref()))
        }
        _ => ScalarCmp::Incomparable,
    }
}

/// `a BETWEEN lo AND hi` as `a >= lo AND a <= hi` (with three-valued `AND`).
pub fn between(v: &Value, lo: &Value, hi: &Value) -> EvalResult<Value<'static>> {
    let ge = compare(BinaryOp::Ge, v, lo)?;
    let le = compare(BinaryOp::Le, v, hi)?;
    Ok(and(&ge, &le))
}

/// `v IN collection` (a list, sexp or bag of candidates): true if some candidate is `=` to `v`;
/// otherwise null if some comparison was unknown; otherwise false. MISSING if `v` is MISSING,
/// null if `v` or the collection is null. A non-collection right side is treated as a
/// one-element collection.
pub fn in_collection(v: &Value, collection: &Value) -> Value<'static> {
    if v.is_missing() || collection.is_missing() {
        return Value::Missing;
    }
    if collection.is_absent() {
        return Value::null();
    }
    let mut unknown = false;
    let mut check = |c: &Value| -> bool {
        match truth(&eq(v, c)) {
            Some(true) => true,
            Some(false) => false,
            None => {
                unknown = true;
                false
            }
        }
    };
    let found = match collection {
        Value::Bag(items) => items.iter().any(&mut check),
        _ => match collection.element().map(|e| e.value()) {
            Some(IonValue::List(s)) | Some(IonValue::SExp(s)) => {
                s.elements().any(|e| check(&Value::Ref(e)))
            }
            _ => check(collection),
        },
    };
    if found {
        Value::bool(true)
    } else if unknown {
        Value::null()
    } else {
        Value::bool(false)
    }
}

// ---------------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------------

/// Largest exponent gap bridged when aligning two decimals (e.g. `1d100000 + 1`); beyond it the
/// exact result would have an absurd number of digits, so it is an error instead.
const MAX_ALIGN: i64 = 10_000;

/// `+ - * / %` (see the module docs). `||`, `AND`/`OR` and comparisons are dispatched to their
/// own functions so callers can route any binary operator here.
pub fn arith(op: BinaryOp, l: &Value, r: &Value) -> EvalResult<Value<'static>> {
    match op {
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {}
        BinaryOp::Concat => return concat(l, r),
        BinaryOp::And => return Ok(and(l, r)),
        BinaryOp::Or => return Ok(or(l, r)),
        _ => return compare(op, l, r),
    }
    if let Some(u) = unknown_of(l, r) {
        return Ok(u);
    }
    let (Some(a), Some(b)) = (l.element().and_then(Num::of), r.element().and_then(Num::of)) else {
        return Ok(Value::Missing);
    };
    let out = match (a, b) {
        (Num::Int(x), Num::Int(y)) => Element::int(big_to_int(&int_op(op, x, y)?)),
        (Num::Float(x), y) => Element::float(float_op(op, x, y.to_f64())?),
        (x, Num::Float(y)) => Element::float(float_op(op, x.to_f64(), y)?),
        (x, y) => {
            let (xc, xe) = x.into_exact().expect("int/decimal are exact");
            let (yc, ye) = y.into_exact().expect("int/decimal are exact");
            let (c, e) = dec_op(op, (xc, xe), (yc, ye))?;
            Element::decimal(make_decimal(&c, e))
        }
    };
    Ok(Value::Owned(out))
}

/// Any binary operator (arithmetic, comparison, `||`, `AND`, `OR`).
pub fn binary(op: BinaryOp, l: &Value, r: &Value) -> EvalResult<Value<'static>> {
    arith(op, l, r)
}

fn out_of_range() -> EvalError {
    EvalError::new("Decimal operation out of range")
}

fn division_by_zero() -> EvalError {
    EvalError::new("Division by zero")
}

fn int_op(op: BinaryOp, x: BigInt, y: BigInt) -> EvalResult<BigInt> {
    Ok(match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        // BigInt's `/` and `%` truncate toward zero, as PartiQL (and SQL) integer division does.
        BinaryOp::Div | BinaryOp::Mod if y.sign() == BigSign::NoSign => {
            return Err(division_by_zero())
        }
        BinaryOp::Div => x / y,
        BinaryOp::Mod => x % y,
        _ => unreachable!("not arithmetic"),
    })
}

fn float_op(op: BinaryOp, x: f64, y: f64) -> EvalResult<f64> {
    Ok(match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div | BinaryOp::Mod if y == 0.0 => return Err(division_by_zero()),
        BinaryOp::Div => x / y,
        BinaryOp::Mod => x % y,
        _ => unreachable!("not arithmetic"),
    })
}

fn dec_op(op: BinaryOp, x: (BigInt, i64), y: (BigInt, i64)) -> EvalResult<(BigInt, i64)> {
    match op {
        BinaryOp::Add | BinaryOp::Sub => {
            let (xc, yc, e) = align(x, y)?;
            Ok((
                if op == BinaryOp::Add {
                    xc + yc
                } else {
                    xc - yc
                },
                e,
            ))
        }
        BinaryOp::Mul => Ok((x.0 * y.0, x.1.checked_add(y.1).ok_or_else(out_of_range)?)),
        BinaryOp::Div => dec_div(x, y),
        BinaryOp::Mod => {
            if y.0.sign() == BigSign::NoSign {
                return Err(division_by_zero());
            }
            let (xc, yc, e) = align(x, y)?;
            Ok((xc % yc, e))
        }
        _ => unreachable!("not arithmetic"),
    }
}

/// Brings two exact decimals to their smaller exponent.
fn align(x: (BigInt, i64), y: (BigInt, i64)) -> EvalResult<(BigInt, BigInt, i64)> {
    let e = x.1.min(y.1);
    // i128: exponents at opposite ends of the i64 range must not overflow the gap.
    let (dx, dy) = (x.1 as i128 - e as i128, y.1 as i128 - e as i128);
    if dx.max(dy) > MAX_ALIGN as i128 {
        return Err(out_of_range());
    }
    Ok((x.0 * pow10(dx as u32), y.0 * pow10(dy as u32), e))
}

/// Significant digits kept by decimal division (IEEE 754 decimal128, PartiQL's choice).
const DIV_DIGITS: u32 = 34;

/// Decimal division rounded half-even to [`DIV_DIGITS`] significant digits, then stripped of
/// trailing zeros down to the preferred exponent `e1 - e2` (Java `BigDecimal.divide` with
/// `MathContext.DECIMAL128`, which PartiQL uses): `6.0 / 2 = 3.0`, `1 / 3 = 0.333…3`.
fn dec_div(x: (BigInt, i64), y: (BigInt, i64)) -> EvalResult<(BigInt, i64)> {
    let (c1, e1) = x;
    let (c2, e2) = y;
    if c2.sign() == BigSign::NoSign {
        return Err(division_by_zero());
    }
    let preferred = e1.checked_sub(e2).ok_or_else(out_of_range)?;
    if c1.sign() == BigSign::NoSign {
        return Ok((BigInt::ZERO, preferred));
    }
    let negative = (c1.sign() == BigSign::Minus) != (c2.sign() == BigSign::Minus);
    let n1 = BigInt::from_biguint(BigSign::Plus, c1.magnitude().clone());
    let n2 = BigInt::from_biguint(BigSign::Plus, c2.magnitude().clone());
    // Scale so the integer quotient has 35 or 36 digits: at least one digit to round from.
    let k = DIV_DIGITS as i64 + digits(&n2) as i64 - digits(&n1) as i64 + 1;
    let (num, den) = if k >= 0 {
        (n1 * pow10(k as u32), n2)
    } else {
        (n1, n2 * pow10((-k) as u32))
    };
    let q = &num / &den;
    let sticky = (&num % &den).sign() != BigSign::NoSign;
    let extra = digits(&q) as i64 - DIV_DIGITS as i64;
    let mut exp = preferred.checked_sub(k).ok_or_else(out_of_range)?;
    let mut coeff = q;
    if extra > 0 {
        let d = pow10(extra as u32);
        let rem = &coeff % &d;
        coeff /= &d;
        exp += extra;
        let twice = rem * 2u32;
        let round_up = match twice.cmp(&d) {
            Ordering::Greater => true,
            Ordering::Equal => sticky || is_odd(&coeff),
            Ordering::Less => false,
        };
        if round_up {
            coeff += 1u32;
            if digits(&coeff) > DIV_DIGITS as u64 {
                coeff /= 10u32;
                exp += 1;
            }
        }
    }
    let (mut coeff, mut exp) = (coeff, exp);
    let ten = BigInt::from(10u32);
    while exp < preferred && (&coeff % &ten).sign() == BigSign::NoSign {
        coeff /= &ten;
        exp += 1;
    }
    if negative {
        coeff = -coeff;
    }
    Ok((coeff, exp))
}

fn is_odd(n: &BigInt) -> bool {
    n.bit(0)
}

/// `||` on two texts (string or symbol) → string. Other operand types give MISSING.
pub fn concat(l: &Value, r: &Value) -> EvalResult<Value<'static>> {
    if let Some(u) = unknown_of(l, r) {
        return Ok(u);
    }
    match (l.element().and_then(text_of), r.element().and_then(text_of)) {
        (Some(a), Some(b)) => {
            let mut s = String::with_capacity(a.len() + b.len());
            s.push_str(a);
            s.push_str(b);
            Ok(Value::Owned(Element::string(s)))
        }
        _ => Ok(Value::Missing),
    }
}

/// Unary minus on a number (the type is kept; a decimal keeps its exponent and `-0.0` is kept
/// distinct from `0.0`). Non-numbers give MISSING.
pub fn negate(v: &Value) -> EvalResult<Value<'static>> {
    if let Some(u) = unknown_of1(v) {
        return Ok(u);
    }
    let Some(e) = v.element() else {
        return Ok(Value::Missing);
    };
    Ok(match e.value() {
        IonValue::Int(i) => Value::Owned(Element::int(i.clone().neg())),
        IonValue::Float(f) => Value::Owned(Element::float(-f)),
        IonValue::Decimal(d) => {
            let (c, x) = decimal_parts(d);
            let out = if c.sign() == BigSign::NoSign && !d.coefficient().is_negative() {
                Decimal::negative_zero_with_exponent(x)
            } else {
                make_decimal(&-c, x)
            };
            Value::Owned(Element::decimal(out))
        }
        _ => Value::Missing,
    })
}

// ---------------------------------------------------------------------------------------------
// LIKE
// ---------------------------------------------------------------------------------------------

/// `value LIKE pattern [ESCAPE escape]` (see the module docs).
pub fn like(value: &Value, pattern: &Value, escape: Option<&Value>) -> EvalResult<Value<'static>> {
    let esc_missing = escape.is_some_and(|e| e.is_missing());
    let esc_null = escape.is_some_and(|e| e.is_absent());
    if value.is_missing() || pattern.is_missing() || esc_missing {
        return Ok(Value::Missing);
    }
    if value.is_absent() || pattern.is_absent() || esc_null {
        return Ok(Value::null());
    }
    let Some(pat) = pattern.element().and_then(text_of) else {
        return Err(EvalError::new("LIKE pattern must be a string"));
    };
    let esc = match escape {
        None => None,
        Some(e) => {
            let Some(t) = e.element().and_then(text_of) else {
                return Err(EvalError::new("LIKE escape must be a string"));
            };
            let mut chars = t.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Some(c),
                _ => return Err(EvalError::new("LIKE escape must be exactly one character")),
            }
        }
    };
    let tokens = like_tokens(pat, esc)?;
    let Some(text) = value.element().and_then(text_of) else {
        return Ok(Value::Missing);
    };
    let chars: Vec<char> = text.chars().collect();
    Ok(Value::bool(like_match(&chars, &tokens)))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum LikeTok {
    Lit(char),
    One,
    Many,
}

fn like_tokens(pat: &str, esc: Option<char>) -> EvalResult<Vec<LikeTok>> {
    let mut out = Vec::new();
    let mut it = pat.chars();
    while let Some(c) = it.next() {
        if Some(c) == esc {
            match it.next() {
                Some(n) => out.push(LikeTok::Lit(n)),
                None => {
                    return Err(EvalError::new(
                        "LIKE pattern must not end with the escape character",
                    ))
                }
            }
        } else if c == '%' {
            // Consecutive `%` are one `%`; keeping a single token keeps matching linear-ish.
            if out.last() != Some(&LikeTok::Many) {
                out.push(LikeTok::Many);
            }
        } else if c == '_' {
            out.push(LikeTok::One);
        } else {
            out.push(LikeTok::Lit(c));
        }
    }
    Ok(out)
}

/// Wildcard matching with backtracking to the last `%` only: O(len(text) · len(pattern)) worst
/// case, no recursion.
fn like_match(text: &[char], pat: &[LikeTok]) -> bool {
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pat.get(p) {
            Some(LikeTok::One) => {
                t += 1;
                p += 1;
            }
            Some(LikeTok::Lit(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(LikeTok::Many) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|x| *x == LikeTok::Many)
}

// ---------------------------------------------------------------------------------------------
// IS tests and logic
// ---------------------------------------------------------------------------------------------

/// `v IS NULL` (true for MISSING and every typed null), `v IS MISSING`, and `v IS <type>`.
/// Type names: int/integer/smallint/bigint, float/real/double/double precision,
/// decimal/numeric, string/varchar/char, symbol, bool/boolean, timestamp, blob, clob, list,
/// sexp, struct/tuple, bag, null, missing. A typed null (`null.int`) is of type `null` only:
/// `null.int IS INT` is false. An unknown type name is false.
pub fn is_test(v: &Value, test: &IsTest) -> bool {
    match test {
        IsTest::Null => v.is_absent(),
        IsTest::Missing => v.is_missing(),
        IsTest::Type(name) => {
            let name = name.trim().to_ascii_lowercase();
            match name.as_str() {
                "null" => return v.is_absent(),
                "missing" => return v.is_missing(),
                "bag" => return matches!(v, Value::Bag(_)),
                _ => {}
            }
            let Some(e) = v.element() else {
                return false;
            };
            if e.is_null() {
                return false;
            }
            let want = match name.as_str() {
                "int" | "integer" | "smallint" | "bigint" | "int2" | "int4" | "int8" => {
                    IonType::Int
                }
                "float" | "real" | "double" | "double precision" => IonType::Float,
                "decimal" | "numeric" | "dec" => IonType::Decimal,
                "string" | "varchar" | "char" | "character" | "character varying" => {
                    IonType::String
                }
                "symbol" => IonType::Symbol,
                "bool" | "boolean" => IonType::Bool,
                "timestamp" => IonType::Timestamp,
                "blob" => IonType::Blob,
                "clob" => IonType::Clob,
                "list" => IonType::List,
                "sexp" => IonType::SExp,
                "struct" | "tuple" => IonType::Struct,
                _ => return false,
            };
            e.ion_type() == want
        }
    }
}

/// `Some(b)` for a (non-null) Ion bool, `None` for anything else.
pub fn truth(v: &Value) -> Option<bool> {
    match v.element().map(|e| e.value()) {
        Some(IonValue::Bool(b)) => Some(*b),
        _ => None,
    }
}

fn from_tri(t: Option<bool>) -> Value<'static> {
    match t {
        Some(b) => Value::bool(b),
        None => Value::null(),
    }
}

/// Three-valued `AND`: false if either side is false, true if both are true, else null.
pub fn and(l: &Value, r: &Value) -> Value<'static> {
    from_tri(match (truth(l), truth(r)) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    })
}

/// Three-valued `OR`: true if either side is true, false if both are false, else null.
pub fn or(l: &Value, r: &Value) -> Value<'static> {
    from_tri(match (truth(l), truth(r)) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    })
}

/// Three-valued `NOT`: the negation of a bool, else null.
pub fn not(v: &Value) -> Value<'static> {
    from_tri(truth(v).map(|b| !b))
}

// ---------------------------------------------------------------------------------------------
// Total order
// ---------------------------------------------------------------------------------------------

/// A total order over all values, for `MIN`/`MAX` (the order PartiQL defines for ORDER BY):
/// MISSING and nulls first (all equal), then bools (false < true), numbers (numerically across
/// int/decimal/float, `nan` first, then `-inf` … `+inf`), timestamps (by instant), text (string
/// and symbol together, by code point), lobs (bytewise), lists, sexps (both lexicographically by
/// element), structs (fields sorted by name then value, compared lexicographically), bags
/// (elements sorted, compared lexicographically). Values that are `=` compare `Equal`.
pub fn total_order(l: &Value, r: &Value) -> Ordering {
    let (rl, rr) = (rank(l), rank(r));
    if rl != rr {
        return rl.cmp(&rr);
    }
    match (l, r) {
        (Value::Bag(a), Value::Bag(b)) => {
            let mut a: Vec<&Value> = a.iter().collect();
            let mut b: Vec<&Value> = b.iter().collect();
            a.sort_by(|x, y| total_order(x, y));
            b.sort_by(|x, y| total_order(x, y));
            lexicographic(a.into_iter(), b.into_iter(), |x, y| total_order(x, y))
        }
        _ => match (l.element(), r.element()) {
            (Some(a), Some(b)) => element_order(a, b),
            _ => Ordering::Equal,
        },
    }
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Missing => 0,
        Value::Bag(_) => 9,
        _ => v.element().map(element_rank).unwrap_or(0),
    }
}

fn element_rank(e: &Element) -> u8 {
    if e.is_null() {
        return 0;
    }
    match e.ion_type() {
        IonType::Null => 0,
        IonType::Bool => 1,
        IonType::Int | IonType::Float | IonType::Decimal => 2,
        IonType::Timestamp => 3,
        IonType::String | IonType::Symbol => 4,
        IonType::Blob | IonType::Clob => 5,
        IonType::List => 6,
        IonType::SExp => 7,
        IonType::Struct => 8,
    }
}

fn element_order(a: &Element, b: &Element) -> Ordering {
    use IonValue as V;
    let (ra, rb) = (element_rank(a), element_rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    if ra == 0 {
        return Ordering::Equal;
    }
    match (a.value(), b.value()) {
        (V::Bool(x), V::Bool(y)) => x.cmp(y),
        (V::Timestamp(x), V::Timestamp(y)) => ts_instant(x).cmp(&ts_instant(y)),
        (V::Blob(x) | V::Clob(x), V::Blob(y) | V::Clob(y)) => x.as_ref().cmp(y.as_ref()),
        (V::List(x), V::List(y)) | (V::SExp(x), V::SExp(y)) => {
            lexicographic(x.elements(), y.elements(), element_order)
        }
        (V::Struct(x), V::Struct(y)) => lexicographic(
            sorted_fields(x).into_iter(),
            sorted_fields(y).into_iter(),
            field_order,
        ),
        _ => {
            if let (Some(x), Some(y)) = (Num::of(a), Num::of(b)) {
                return match (x.is_nan(), y.is_nan()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => num_cmp(&x, &y).unwrap_or(Ordering::Equal),
                };
            }
            // Text: a symbol without known text sorts first.
            text_key(a).cmp(&text_key(b))
        }
    }
}

type Field<'e> = (Option<&'e str>, &'e Element);

fn field_order(p: Field, q: Field) -> Ordering {
    p.0.cmp(&q.0).then_with(|| element_order(p.1, q.1))
}

/// A struct's fields sorted by name, then value: the canonical form structs are ordered by.
fn sorted_fields(s: &ion_rs::Struct) -> Vec<Field<'_>> {
    let mut f: Vec<Field> = s.fields().map(|(n, v)| (n.text(), v)).collect();
    f.sort_by(|p, q| field_order(*p, *q));
    f
}

fn lexicographic<T>(
    mut a: impl Iterator<Item = T>,
    mut b: impl Iterator<Item = T>,
    cmp: impl Fn(T, T) -> Ordering,
) -> Ordering {
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match cmp(x, y) {
                Ordering::Equal => {}
                o => return o,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hash key
// ---------------------------------------------------------------------------------------------

/// A byte key for hash lookups, exact for [`values_equal`]: two values get the same key if and
/// only if they are equal under it (annotations ignored; numbers by normalised exact value; string
/// and symbol by text; timestamps by instant; structs order-insensitively; all nulls alike).
pub fn eq_key(v: &Element) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    key_into(v, &mut out);
    out
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u64).to_be_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_len(out, b.len());
    out.extend_from_slice(b);
}

// Every encoding is self-delimiting (a tag, then fixed-width or length-prefixed parts), so the
// concatenation inside containers cannot be ambiguous.
fn key_into(e: &Element, out: &mut Vec<u8>) {
    use IonValue as V;
    if e.is_null() {
        out.push(0);
        return;
    }
    if let Some(n) = Num::of(e) {
        out.push(2);
        put_bytes(out, num_key(&n).as_bytes());
        return;
    }
    match e.value() {
        V::Null(_) => out.push(0),
        V::Bool(b) => {
            out.push(1);
            out.push(*b as u8);
        }
        V::Timestamp(t) => {
            out.push(5);
            let (s, a) = ts_instant(t);
            out.extend_from_slice(&s.to_be_bytes());
            out.extend_from_slice(&a.to_be_bytes());
        }
        V::String(s) => {
            out.push(3);
            put_bytes(out, s.text().as_bytes());
        }
        V::Symbol(s) => match s.text() {
            Some(t) => {
                out.push(3);
                put_bytes(out, t.as_bytes());
            }
            None => out.push(4),
        },
        V::Blob(b) => {
            out.push(6);
            put_bytes(out, b.as_ref());
        }
        V::Clob(b) => {
            out.push(7);
            put_bytes(out, b.as_ref());
        }
        V::List(s) | V::SExp(s) => {
            out.push(if e.ion_type() == IonType::List { 8 } else { 9 });
            put_len(out, s.len());
            for x in s.elements() {
                key_into(x, out);
            }
        }
        V::Struct(s) => {
            out.push(10);
            let mut keys = field_keys(s);
            keys.sort_unstable();
            put_len(out, keys.len());
            for k in keys {
                out.extend_from_slice(&k);
            }
        }
        // Numbers were handled above.
        V::Int(_) | V::Float(_) | V::Decimal(_) => unreachable!(),
    }
}

fn field_keys(s: &ion_rs::Struct) -> Vec<Vec<u8>> {
    s.fields()
        .map(|(name, value)| {
            let mut k = Vec::new();
            match name.text() {
                Some(t) => {
                    k.push(1);
                    put_bytes(&mut k, t.as_bytes());
                }
                None => k.push(0),
            }
            key_into(value, &mut k);
            k
        })
        .collect()
}

/// Canonical text of a number's value: `nan`, `+inf`, `-inf`, `0`, or `[-]digits` `e` exponent
/// with the digits stripped of trailing zeros.
fn num_key(n: &Num) -> String {
    if let Num::Float(f) = n {
        if f.is_nan() {
            return "nan".into();
        }
        if f.is_infinite() {
            return if *f > 0.0 { "+inf" } else { "-inf" }.into();
        }
    }
    let (c, e) = n.clone().into_exact().expect("finite numbers are exact");
    let (c, e) = normalize(c, e);
    if c.sign() == BigSign::NoSign {
        "0".into()
    } else {
        format!("{c}e{e}")
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers (shared with functions.rs)
// ---------------------------------------------------------------------------------------------

/// A numeric Ion value lifted to arbitrary precision.
#[derive(Debug, Clone)]
pub(crate) enum Num {
    Int(BigInt),
    /// coefficient × 10^exponent (the sign of a negative zero is dropped).
    Dec(BigInt, i64),
    Float(f64),
}

impl Num {
    /// The number held by a non-null int, decimal or float element.
    pub(crate) fn of(e: &Element) -> Option<Num> {
        match e.value() {
            IonValue::Int(i) => Some(Num::Int(int_to_big(i))),
            IonValue::Decimal(d) => {
                let (c, x) = decimal_parts(d);
                Some(Num::Dec(c, x))
            }
            IonValue::Float(f) => Some(Num::Float(*f)),
            _ => None,
        }
    }

    fn is_nan(&self) -> bool {
        matches!(self, Num::Float(f) if f.is_nan())
    }

    /// The exact decimal value; a float contributes its shortest round-trip decimal. `None` for
    /// `nan` and infinities.
    pub(crate) fn into_exact(self) -> Option<(BigInt, i64)> {
        match self {
            Num::Int(i) => Some((i, 0)),
            Num::Dec(c, e) => Some((c, e)),
            Num::Float(f) => float_to_decimal(f),
        }
    }

    /// The nearest f64 (correctly rounded via the decimal text).
    pub(crate) fn to_f64(&self) -> f64 {
        match self {
            Num::Int(i) => i.to_string().parse().unwrap_or(f64::NAN),
            Num::Dec(c, e) => format!("{c}e{e}").parse().unwrap_or(f64::NAN),
            Num::Float(f) => *f,
        }
    }
}

/// Numeric comparison; `None` when either side is `nan`.
fn num_cmp(a: &Num, b: &Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(y),
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(y)),
        (Num::Float(x), _) if x.is_nan() => None,
        (_, Num::Float(y)) if y.is_nan() => None,
        (Num::Float(x), _) if x.is_infinite() => Some(if *x > 0.0 {
            Ordering::Greater
        } else {
            Ordering::Less
        }),
        (_, Num::Float(y)) if y.is_infinite() => Some(if *y > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        }),
        _ => {
            let x = a.clone().into_exact()?;
            let y = b.clone().into_exact()?;
            Some(exact_cmp(&x, &y))
        }
    }
}

/// Compares c1×10^e1 with c2×10^e2 without materialising huge powers of ten: the orders of
/// magnitude decide unless they coincide, in which case the exponent gap is bounded by the digit
/// counts and aligning is cheap.
pub(crate) fn exact_cmp(x: &(BigInt, i64), y: &(BigInt, i64)) -> Ordering {
    let (sx, sy) = (x.0.sign(), y.0.sign());
    let sign_rank = |s: BigSign| match s {
        BigSign::Minus => 0,
        BigSign::NoSign => 1,
        BigSign::Plus => 2,
    };
    if sx != sy {
        return sign_rank(sx).cmp(&sign_rank(sy));
    }
    if sx == BigSign::NoSign {
        return Ordering::Equal;
    }
    let mag_x = digits(&x.0) as i128 + x.1 as i128;
    let mag_y = digits(&y.0) as i128 + y.1 as i128;
    let mag = if mag_x != mag_y {
        mag_x.cmp(&mag_y)
    } else {
        let e = x.1.min(y.1);
        let ax = x.0.magnitude() * pow10u((x.1 - e) as u32);
        let ay = y.0.magnitude() * pow10u((y.1 - e) as u32);
        ax.cmp(&ay)
    };
    if sx == BigSign::Minus {
        mag.reverse()
    } else {
        mag
    }
}

/// Strips trailing zeros from the coefficient (zero becomes 0×10^0).
pub(crate) fn normalize(mut c: BigInt, mut e: i64) -> (BigInt, i64) {
    if c.sign() == BigSign::NoSign {
        return (c, 0);
    }
    let ten = BigInt::from(10u32);
    // Strip in big steps first so a coefficient like 10^5000 does not take 5000 divisions.
    let chunk = pow10(16);
    while (&c % &chunk).sign() == BigSign::NoSign {
        c /= &chunk;
        e = e.saturating_add(16);
    }
    while (&c % &ten).sign() == BigSign::NoSign {
        c /= &ten;
        e = e.saturating_add(1);
    }
    (c, e)
}

/// Decimal digits in |n| (1 for zero).
pub(crate) fn digits(n: &BigInt) -> u64 {
    if let Ok(v) = u128::try_from(n.magnitude()) {
        return if v == 0 { 1 } else { v.ilog10() as u64 + 1 };
    }
    n.magnitude().to_string().len() as u64
}

pub(crate) fn pow10(k: u32) -> BigInt {
    BigInt::from(10u32).pow(k)
}

fn pow10u(k: u32) -> BigUint {
    BigUint::from(10u32).pow(k)
}

/// The shortest decimal that round-trips to `f` (the digits of Ion's `{:e}` text), `None` for
/// `nan` and infinities. `-0e0` becomes plain zero.
pub(crate) fn float_to_decimal(f: f64) -> Option<(BigInt, i64)> {
    if !f.is_finite() {
        return None;
    }
    let s = format!("{f:e}");
    let (mant, exp) = s.split_once('e')?;
    let exp: i64 = exp.parse().ok()?;
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    let digits = format!("{int_part}{frac_part}");
    let c: BigInt = digits.parse().ok()?;
    Some((c, exp - frac_part.len() as i64))
}

pub(crate) fn int_to_big(i: &Int) -> BigInt {
    match i.as_i128() {
        Some(v) => BigInt::from(v),
        None => BigInt::from_signed_bytes_le(&i.to_le_signed_bytes()),
    }
}

pub(crate) fn big_to_int(b: &BigInt) -> Int {
    match i128::try_from(b) {
        Ok(v) => Int::from(v),
        Err(_) => Int::from_le_signed_bytes(&b.to_signed_bytes_le()),
    }
}

/// (coefficient, exponent) of a decimal; a negative zero loses its sign (callers that care check
/// `Decimal::coefficient().is_negative()`).
pub(crate) fn decimal_parts(d: &Decimal) -> (BigInt, i64) {
    let coeff = d.coefficient();
    let mag = BigUint::from_bytes_le(&coeff.magnitude().to_le_bytes());
    let sign = if coeff.is_negative() {
        BigSign::Minus
    } else {
        BigSign::Plus
    };
    (BigInt::from_biguint(sign, mag), d.exponent())
}

pub(crate) fn make_decimal(c: &BigInt, e: i64) -> Decimal {
    Decimal::new(big_to_int(c), e)
}

// ---------------------------------------------------------------------------------------------
// Text and timestamps (shared with functions.rs)
// ---------------------------------------------------------------------------------------------

/// The text of a non-null string or symbol (a symbol without known text has none).
pub(crate) fn text_of(e: &Element) -> Option<&str> {
    match e.value() {
        IonValue::String(s) => Some(s.text()),
        IonValue::Symbol(s) => s.text(),
        _ => None,
    }
}

/// Text identity for equality and ordering: `Some(Some(text))` for strings and symbols with
/// text, `Some(None)` for a symbol with unknown text (`$0`), `None` for non-text.
fn text_key(e: &Element) -> Option<Option<&str>> {
    match e.value() {
        IonValue::String(s) => Some(Some(s.text())),
        IonValue::Symbol(s) => Some(s.text()),
        _ => None,
    }
}

/// A timestamp's instant: seconds since 1970-01-01T00:00Z and attoseconds within the second.
/// An unknown offset (`-00:00`) counts as UTC, as Ion's data model says.
pub(crate) fn ts_instant(t: &Timestamp) -> (i64, u64) {
    let f = TsFields::of(t);
    let local = f.local_seconds();
    let utc = local - 60 * f.offset.unwrap_or(0) as i64;
    (utc, f.attoseconds())
}

/// The fields of an Ion timestamp, with the fractional seconds kept exactly.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TsFields {
    pub precision: TimestampPrecision,
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// Fractional seconds = `frac` × 10^-`frac_digits` (`frac_digits` = 0: none written).
    pub frac: u64,
    pub frac_digits: u32,
    /// Minutes east of UTC; `None` for an unknown offset.
    pub offset: Option<i32>,
}

impl TsFields {
    pub(crate) fn of(t: &Timestamp) -> TsFields {
        let precision = t.precision();
        let (frac, frac_digits) = match t.fractional_seconds_scale() {
            Some(n) if n > 0 => (exact_fraction(t, n as u32), n as u32),
            _ => (0, 0),
        };
        let coarse = |p: TimestampPrecision, v: u32, default: u32| {
            if precision >= p {
                v
            } else {
                default
            }
        };
        TsFields {
            precision,
            year: t.year() as i64,
            month: coarse(TimestampPrecision::Month, t.month(), 1),
            day: coarse(TimestampPrecision::Day, t.day(), 1),
            hour: coarse(TimestampPrecision::HourAndMinute, t.hour(), 0),
            minute: coarse(TimestampPrecision::HourAndMinute, t.minute(), 0),
            second: coarse(TimestampPrecision::Second, t.second(), 0),
            frac,
            frac_digits,
            offset: if precision >= TimestampPrecision::HourAndMinute {
                t.offset()
            } else {
                None
            },
        }
    }

    /// Seconds since the epoch of the local (offset-less) date and time.
    pub(crate) fn local_seconds(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + self.hour as i64 * 3600
            + self.minute as i64 * 60
            + self.second as i64
    }

    pub(crate) fn attoseconds(&self) -> u64 {
        if self.frac_digits == 0 {
            0
        } else {
            self.frac * 10u64.pow(18 - self.frac_digits.min(18))
        }
    }

    /// Builds the Ion timestamp; errors if a field is out of range (e.g. year 10000).
    pub(crate) fn build(&self) -> EvalResult<Timestamp> {
        let bad = |e: ion_rs::IonError| EvalError::new(format!("Invalid timestamp: {e}"));
        if !(1..=9999).contains(&self.year) {
            return Err(EvalError::new(format!(
                "Timestamp year {} out of range (1-9999)",
                self.year
            )));
        }
        let y = self.year as u32;
        let ts = match self.precision {
            TimestampPrecision::Year => Timestamp::with_year(y).build(),
            TimestampPrecision::Month => Timestamp::with_year(y).with_month(self.month).build(),
            TimestampPrecision::Day => Timestamp::with_ymd(y, self.month, self.day).build(),
            TimestampPrecision::HourAndMinute => {
                let b = Timestamp::with_ymd(y, self.month, self.day)
                    .with_hour_and_minute(self.hour, self.minute);
                match self.offset {
                    Some(o) => b.with_offset(o).build(),
                    None => b.build(),
                }
            }
            TimestampPrecision::Second => {
                let b = Timestamp::with_ymd(y, self.month, self.day).with_hms(
                    self.hour,
                    self.minute,
                    self.second,
                );
                if self.frac_digits > 0 {
                    let b = b.with_fractional_seconds(Decimal::new(
                        self.frac,
                        -(self.frac_digits as i64),
                    ));
                    match self.offset {
                        Some(o) => b.with_offset(o).build(),
                        None => b.build(),
                    }
                } else {
                    match self.offset {
                        Some(o) => b.with_offset(o).build(),
                        None => b.build(),
                    }
                }
            }
        };
        ts.map_err(bad)
    }
}

/// The fractional-seconds coefficient (`digits` digits). ion-rs exposes it only rounded to
/// nanoseconds, which is exact up to 9 digits; finer fractions (Ion allows more) are read back
/// from the timestamp's Ion text.
fn exact_fraction(t: &Timestamp, digits: u32) -> u64 {
    if digits <= 9 {
        // Exact: the stored attoseconds are a multiple of 10^(18 - digits).
        return t.nanoseconds() as u64 / 10u64.pow(9 - digits);
    }
    let text = t.to_string();
    let Some(dot) = text.find('.') else {
        return 0;
    };
    let digits: String = text[dot + 1..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().unwrap_or(0)
}

pub(crate) use crate::clock::{civil_from_days, days_from_civil};

pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ion(text: &str) -> Element {
        Element::read_one(text).unwrap_or_else(|e| panic!("bad Ion {text:?}: {e}"))
    }

    fn v(text: &str) -> Value<'static> {
        Value::Owned(ion(text))
    }

    fn b(x: bool) -> Value<'static> {
        Value::bool(x)
    }

    /// Renders a result for assertions: `MISSING`, `<<…>>`, or Ion text.
    fn show(x: &Value) -> String {
        match x {
            Value::Missing => "MISSING".into(),
            Value::Bag(items) => format!(
                "<<{}>>",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
            _ => x.element().unwrap().to_string(),
        }
    }

    fn same(x: &Value, text: &str) {
        match text {
            "MISSING" => assert!(x.is_missing(), "expected MISSING, got {}", show(x)),
            _ => {
                let want = ion(text);
                let got = x.element().unwrap_or_else(|| panic!("got {}", show(x)));
                // Exact Ion equality (type, precision, annotations), not PartiQL `=`.
                assert!(
                    ion_rs::IonData::eq(got, &want),
                    "expected {text}, got {}",
                    show(x)
                );
            }
        }
    }

    fn arith_ok(op: BinaryOp, l: &str, r: &str) -> Value<'static> {
        arith(op, &v(l), &v(r)).unwrap()
    }

    // ----- equality -------------------------------------------------------------------------

    const ROUND_TRIP: &[&str] = &[
        "{{ aGVsbG8= }}",
        "{{ \"a clob\" }}",
        "true",
        "0.1",
        "0.2e0",
        "42",
        "[1, \"two\", 3.0, null]",
        "(cons 1 2)",
        "\"a string\"",
        "{a: 1, b: [1, 2], c: {d: null.int}}",
        "sym",
        "2016-12-20T05:23:43.000000-00:00",
        "123456789012345678901234567890123456789012345678901234567890",
        "nan",
        "+inf",
    ];

    #[test]
    fn round_trip_values_equal_themselves() {
        for text in ROUND_TRIP {
            for t in [text.to_string(), format!("annotation::{text}")] {
                let (x, y) = (v(&t), v(&t));
                same(&eq(&x, &y), "true");
                assert!(values_equal(&ion(&t), &ion(&t)), "{t}");
                assert_eq!(eq_key(&ion(&t)), eq_key(&ion(text)), "{t}");
                assert_eq!(total_order(&x, &y), Ordering::Equal, "{t}");
            }
        }
    }

    #[test]
    fn annotations_are_ignored() {
        same(&eq(&v("a::1"), &v("b::1")), "true");
        same(&eq(&v("a::[x::1]"), &v("[1]")), "true");
    }

    #[test]
    fn typed_nulls_compare_as_null() {
        for t in [
            "null",
            "null.null",
            "null.bool",
            "null.int",
            "null.float",
            "null.decimal",
            "null.timestamp",
            "null.string",
            "null.symbol",
            "null.blob",
            "null.clob",
            "null.struct",
            "null.list",
            "null.sexp",
        ] {
            for t in [t.to_string(), format!("annotation::{t}")] {
                same(&eq(&v(&t), &v(&t)), "null");
                same(&eq(&v(&t), &v("1")), "null");
                assert!(is_test(&v(&t), &IsTest::Null), "{t}");
                assert!(!is_test(&v(&t), &IsTest::Missing), "{t}");
            }
        }
    }

    #[test]
    fn numbers_compare_across_types() {
        for (a, b2) in [
            ("1", "1.0"),
            ("1", "1e0"),
            ("1.0", "1e0"),
            ("1.00", "1."),
            ("0", "-0.0"),
            ("0", "-0e0"),
            ("0.2e0", "0.2"),
            ("100", "1d2"),
            ("-5", "-5.000"),
            (
                "123456789012345678901234567890",
                "1.2345678901234567890123456789d29",
            ),
        ] {
            same(&eq(&v(a), &v(b2)), "true");
            assert_eq!(eq_key(&ion(a)), eq_key(&ion(b2)), "{a} {b2}");
        }
        for (a, b2) in [
            ("1", "1.1"),
            ("1", "2e0"),
            ("0.1", "0.1000001e0"),
            ("1", "\"1\""),
        ] {
            same(&eq(&v(a), &v(b2)), "false");
        }
        // A decimal that is not the float's shortest text is a different number.
        same(&eq(&v("0.2e0"), &v("0.20000000000000001")), "false");
        same(&eq(&v("nan"), &v("1")), "false");
    }

    #[test]
    fn text_timestamps_lobs_and_containers() {
        same(&eq(&v("abc"), &v("\"abc\"")), "true");
        same(&eq(&v("'a b'"), &v("\"a b\"")), "true");
        same(&eq(&v("\"a\""), &v("\"A\"")), "false");
        same(
            &eq(&v("2016-12-20T05:23:43Z"), &v("2016-12-20T00:23:43-05:00")),
            "true",
        );
        same(&eq(&v("2022T"), &v("2022-01-01T00:00:00.000Z")), "true");
        same(&eq(&v("2022T"), &v("2022-01-01T00:00:00.001Z")), "false");
        same(&eq(&v("{{ aGVsbG8= }}"), &v("{{ \"hello\" }}")), "false");
        same(&eq(&v("{{ aGVsbG8= }}"), &v("{{aGVsbG8=}}")), "true");
        same(&eq(&v("[1, 2]"), &v("(1 2)")), "false");
        same(&eq(&v("[1, 2]"), &v("[1.0, 2e0]")), "true");
        same(&eq(&v("[1, 2]"), &v("[2, 1]")), "false");
        same(&eq(&v("{a: 1, b: 2}"), &v("{b: 2.0, a: 1}")), "true");
        same(&eq(&v("{a: 1, a: 2}"), &v("{a: 2, a: 1}")), "true");
        same(&eq(&v("{a: 1, a: 1}"), &v("{a: 1, a: 2}")), "false");
        same(&eq(&v("{a: 1}"), &v("{a: 1, b: 2}")), "false");
        same(&eq(&v("[null]"), &v("[null.int]")), "true");
        same(&eq(&v("true"), &v("1")), "false");
        let bag = |xs: &[&str]| Value::Bag(xs.iter().map(|x| v(x)).collect());
        same(
            &eq(&bag(&["1", "2", "2"]), &bag(&["2", "1", "2.0"])),
            "true",
        );
        same(&eq(&bag(&["1", "2", "2"]), &bag(&["2", "1", "1"])), "false");
        same(&eq(&bag(&["1"]), &v("[1]")), "false");
    }

    #[test]
    fn missing_and_null_propagate() {
        for op in [
            BinaryOp::Eq,
            BinaryOp::Ne,
            BinaryOp::Lt,
            BinaryOp::Le,
            BinaryOp::Gt,
            BinaryOp::Ge,
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Mul,
            BinaryOp::Div,
            BinaryOp::Mod,
            BinaryOp::Concat,
        ] {
            let m = Value::Missing;
            same(&arith(op, &m, &v("1")).unwrap(), "MISSING");
            same(&arith(op, &v("null"), &m).unwrap(), "MISSING");
            same(&arith(op, &v("null.int"), &v("1")).unwrap(), "null");
            same(&arith(op, &v("\"a\""), &v("null")).unwrap(), "null");
        }
        same(&negate(&Value::Missing).unwrap(), "MISSING");
        same(&negate(&v("null.float")).unwrap(), "null");
    }

    // ----- ordering comparisons -------------------------------------------------------------

    #[test]
    fn ordering_comparisons() {
        let c = |op, l: &str, r: &str| compare(op, &v(l), &v(r)).unwrap();
        same(&c(BinaryOp::Lt, "1", "1.5"), "true");
        same(&c(BinaryOp::Lt, "1.5", "2e0"), "true");
        same(&c(BinaryOp::Ge, "2", "2.000"), "true");
        same(&c(BinaryOp::Gt, "-inf", "-1d1000"), "false");
        same(&c(BinaryOp::Lt, "-inf", "-1d1000"), "true");
        same(&c(BinaryOp::Lt, "1d1000", "+inf"), "true");
        same(&c(BinaryOp::Lt, "nan", "1"), "false");
        same(&c(BinaryOp::Ge, "nan", "1"), "false");
        same(&c(BinaryOp::Lt, "\"abc\"", "abd"), "true");
        same(&c(BinaryOp::Lt, "\"Z\"", "\"a\""), "true");
        same(&c(BinaryOp::Lt, "\"é\"", "\"z\""), "false");
        same(
            &c(BinaryOp::Lt, "2020-01-01T00:00Z", "2020-01-01T00:30+01:00"),
            "false",
        );
        same(
            &c(BinaryOp::Gt, "2020-01-01T00:00Z", "2020-01-01T00:30+01:00"),
            "true",
        );
        same(&c(BinaryOp::Lt, "false", "true"), "true");
        same(&c(BinaryOp::Le, "{{YQ==}}", "{{Yg==}}"), "true");
        // Incomparable → MISSING.
        same(&c(BinaryOp::Lt, "\"a\"", "1"), "MISSING");
        same(&c(BinaryOp::Lt, "[1]", "[2]"), "MISSING");
        same(&c(BinaryOp::Lt, "{{YQ==}}", "{{\"a\"}}"), "MISSING");
        same(&c(BinaryOp::Ne, "1", "2"), "true");
        same(&c(BinaryOp::Ne, "1", "1.0"), "false");
        same(&c(BinaryOp::Ne, "\"a\"", "1"), "true");
        assert!(compare(BinaryOp::Add, &v("1"), &v("1")).is_err());
    }

    #[test]
    fn between_and_in() {
        same(&between(&v("2"), &v("1"), &v("3.0")).unwrap(), "true");
        same(&between(&v("4"), &v("1"), &v("3")).unwrap(), "false");
        same(&between(&v("2"), &v("null"), &v("3")).unwrap(), "null");
        same(&between(&v("4"), &v("null"), &v("3")).unwrap(), "false");
        same(&in_collection(&v("2"), &v("[1, 2.0]")), "true");
        same(&in_collection(&v("3"), &v("[1, 2]")), "false");
        same(&in_collection(&v("3"), &v("[1, null]")), "null");
        same(&in_collection(&v("1"), &v("[1, null]")), "true");
        same(&in_collection(&Value::Missing, &v("[1]")), "MISSING");
        same(
            &in_collection(&v("b"), &Value::Bag(vec![v("a"), v("\"b\"")])),
            "true",
        );
    }

    // ----- arithmetic -----------------------------------------------------------------------

    #[test]
    fn integer_arithmetic_is_unbounded() {
        same(
            &arith_ok(BinaryOp::Add, "9223372036854775807", "1"),
            "9223372036854775808",
        );
        same(
            &arith_ok(
                BinaryOp::Mul,
                "170141183460469231731687303715884105727",
                "170141183460469231731687303715884105727",
            ),
            "28948022309329048855892746252171976962977213799489202546401021394546514198529",
        );
        same(
            &arith_ok(
                BinaryOp::Sub,
                "-170141183460469231731687303715884105728",
                "1",
            ),
            "-170141183460469231731687303715884105729",
        );
        same(&arith_ok(BinaryOp::Div, "7", "2"), "3");
        same(&arith_ok(BinaryOp::Div, "-7", "2"), "-3");
        same(&arith_ok(BinaryOp::Mod, "-7", "2"), "-1");
        same(&arith_ok(BinaryOp::Mod, "7", "-2"), "1");
    }

    #[test]
    fn decimal_arithmetic_is_exact() {
        same(&arith_ok(BinaryOp::Add, "1.10", "1"), "2.10");
        same(&arith_ok(BinaryOp::Add, "0.1", "0.2"), "0.3");
        same(&arith_ok(BinaryOp::Sub, "1.0", "0.25"), "0.75");
        same(&arith_ok(BinaryOp::Mul, "1.5", "2"), "3.0");
        same(&arith_ok(BinaryOp::Mul, "1.5", "1.5"), "2.25");
        same(&arith_ok(BinaryOp::Div, "6.0", "2"), "3.0");
        same(&arith_ok(BinaryOp::Div, "1", "4.0"), "0.25");
        same(
            &arith_ok(BinaryOp::Div, "1.0", "3"),
            "0.3333333333333333333333333333333333",
        );
        same(
            &arith_ok(BinaryOp::Div, "2.0", "3"),
            "0.6666666666666666666666666666666667",
        );
        same(&arith_ok(BinaryOp::Div, "-1.0", "8"), "-0.125");
        same(&arith_ok(BinaryOp::Mod, "7.5", "2"), "1.5");
        same(&arith_ok(BinaryOp::Mod, "-7.5", "2"), "-1.5");
        same(
            &arith_ok(
                BinaryOp::Add,
                "12345678901234567890.123456789",
                "0.000000001",
            ),
            "12345678901234567890.123456790",
        );
        assert!(arith(BinaryOp::Add, &v("1d100000"), &v("1")).is_err());
        let (big, small) = (v("1d9223372036854775807"), v("1d-9223372036854775807"));
        assert!(arith(BinaryOp::Add, &big, &small).is_err());
        assert!(arith(BinaryOp::Mul, &big, &big).is_err());
        assert!(arith(BinaryOp::Div, &big, &small).is_err());
        same(&compare(BinaryOp::Gt, &big, &small).unwrap(), "true");
        assert_ne!(eq_key(&ion("1d9223372036854775807")), eq_key(&ion("1")));
    }

    #[test]
    fn float_arithmetic() {
        same(&arith_ok(BinaryOp::Add, "1", "0.5e0"), "1.5e0");
        same(&arith_ok(BinaryOp::Mul, "1.5", "2e0"), "3e0");
        same(&arith_ok(BinaryOp::Div, "1e0", "4"), "0.25e0");
        same(&arith_ok(BinaryOp::Mod, "7e0", "2"), "1e0");
    }

    #[test]
    fn division_by_zero_is_an_error() {
        for (l, r) in [
            ("1", "0"),
            ("1.0", "0"),
            ("1", "0.000"),
            ("1e0", "0"),
            ("1", "0e0"),
            ("1", "-0e0"),
        ] {
            for op in [BinaryOp::Div, BinaryOp::Mod] {
                let err = arith(op, &v(l), &v(r)).unwrap_err();
                assert_eq!(err.0, "Division by zero");
            }
        }
    }

    #[test]
    fn non_numeric_arithmetic_is_missing() {
        same(&arith_ok(BinaryOp::Add, "\"1\"", "1"), "MISSING");
        same(&arith_ok(BinaryOp::Mul, "[1]", "1"), "MISSING");
        same(&negate(&v("\"a\"")).unwrap(), "MISSING");
    }

    #[test]
    fn negation_keeps_types() {
        same(&negate(&v("5")).unwrap(), "-5");
        same(&negate(&v("1.50")).unwrap(), "-1.50");
        same(&negate(&v("-2.5e0")).unwrap(), "2.5e0");
        same(&negate(&v("0.0")).unwrap(), "-0.0");
        same(&negate(&v("-0.0")).unwrap(), "0.0");
        same(
            &negate(&v("-170141183460469231731687303715884105728")).unwrap(),
            "170141183460469231731687303715884105728",
        );
    }

    #[test]
    fn concat_text() {
        same(&concat(&v("\"ab\""), &v("cd")).unwrap(), "\"abcd\"");
        same(&concat(&v("\"ab\""), &v("1")).unwrap(), "MISSING");
        same(&concat(&v("\"ab\""), &v("null.string")).unwrap(), "null");
    }

    // ----- LIKE -----------------------------------------------------------------------------

    fn like_ok(s: &str, p: &str, e: Option<&str>) -> Value<'static> {
        let esc = e.map(|e| Value::Owned(Element::string(e)));
        like(
            &Value::Owned(Element::string(s)),
            &Value::Owned(Element::string(p)),
            esc.as_ref(),
        )
        .unwrap()
    }

    #[test]
    fn like_patterns() {
        for (s, p, want) in [
            ("abc", "abc", true),
            ("abc", "a%", true),
            ("abc", "%c", true),
            ("abc", "%b%", true),
            ("abc", "a_c", true),
            ("abc", "a__", true),
            ("abc", "a_", false),
            ("abc", "____", false),
            ("", "%", true),
            ("", "_", false),
            ("abc", "ABC", false),
            ("aXbXc", "a%b%c", true),
            ("aXbXd", "a%b%c", false),
            ("mississippi", "%iss%ppi", true),
            ("mississippi", "m%%%i", true),
            ("日本語テキスト", "日本%", true),
            ("日本語", "日_語", true),
            ("naïve", "na_ve", true),
            ("😀x", "_x", true),
        ] {
            same(&like_ok(s, p, None), if want { "true" } else { "false" });
        }
    }

    #[test]
    fn like_escapes() {
        same(&like_ok("100%", "100\\%", Some("\\")), "true");
        same(&like_ok("1000", "100\\%", Some("\\")), "false");
        same(&like_ok("a_b", "a!_b", Some("!")), "true");
        same(&like_ok("axb", "a!_b", Some("!")), "false");
        same(&like_ok("a!b", "a!!b", Some("!")), "true");
        same(&like_ok("50% off", "%!%%", Some("!")), "true");
        same(&like_ok("a§b", "a§§b", Some("§")), "true");
        let s = |x: &str| Value::Owned(Element::string(x));
        assert!(like(&s("a"), &s("a!"), Some(&s("!"))).is_err());
        assert!(like(&s("a"), &s("a"), Some(&s("!!"))).is_err());
        assert!(like(&s("a"), &s("a"), Some(&s(""))).is_err());
        assert!(like(&s("a"), &v("1"), None).is_err());
    }

    #[test]
    fn like_propagation() {
        let s = |x: &str| Value::Owned(Element::string(x));
        same(&like(&Value::Missing, &s("a"), None).unwrap(), "MISSING");
        same(&like(&v("null"), &s("a"), None).unwrap(), "null");
        same(&like(&s("a"), &v("null.string"), None).unwrap(), "null");
        same(
            &like(&s("a"), &s("a"), Some(&Value::Missing)).unwrap(),
            "MISSING",
        );
        same(&like(&v("1"), &s("1"), None).unwrap(), "MISSING");
        same(&like(&v("abc"), &s("a%"), None).unwrap(), "true");
    }

    // ----- IS and logic ---------------------------------------------------------------------

    #[test]
    fn is_tests() {
        let t = |x: &Value, name: &str| is_test(x, &IsTest::Type(name.into()));
        assert!(is_test(&Value::Missing, &IsTest::Null));
        assert!(is_test(&Value::Missing, &IsTest::Missing));
        assert!(!is_test(&v("null"), &IsTest::Missing));
        assert!(!is_test(&v("0"), &IsTest::Null));
        for (text, names) in [
            ("1", &["int", "integer"][..]),
            ("1e0", &["float", "real", "double precision"][..]),
            ("1.0", &["decimal", "numeric"][..]),
            ("\"s\"", &["string", "varchar"][..]),
            ("s", &["symbol"][..]),
            ("true", &["bool", "boolean"][..]),
            ("2020T", &["timestamp"][..]),
            ("{{YQ==}}", &["blob"][..]),
            ("{{\"a\"}}", &["clob"][..]),
            ("[1]", &["list"][..]),
            ("(a)", &["sexp"][..]),
            ("{a:1}", &["struct", "tuple"][..]),
        ] {
            for n in names {
                assert!(t(&v(text), n), "{text} IS {n}");
            }
            assert!(!t(&v(text), "bag"), "{text}");
            assert!(!t(&v(text), "null"), "{text}");
            assert!(!t(&v(text), "missing"), "{text}");
        }
        assert!(!t(&v("1"), "string"));
        assert!(!t(&v("s"), "string"));
        assert!(t(&Value::Bag(vec![]), "bag"));
        assert!(!t(&Value::Bag(vec![]), "list"));
        assert!(t(&v("null.int"), "null"));
        assert!(!t(&v("null.int"), "int"));
        assert!(t(&Value::Missing, "missing"));
        assert!(t(&Value::Missing, "null"));
        assert!(!t(&v("1"), "no_such_type"));
    }

    #[test]
    fn three_valued_logic() {
        let t = b(true);
        let f = b(false);
        let n = Value::null();
        let m = Value::Missing;
        let cases: [(&Value, &Value, &str, &str); 16] = [
            (&t, &t, "true", "true"),
            (&t, &f, "false", "true"),
            (&t, &n, "null", "true"),
            (&t, &m, "null", "true"),
            (&f, &t, "false", "true"),
            (&f, &f, "false", "false"),
            (&f, &n, "false", "null"),
            (&f, &m, "false", "null"),
            (&n, &t, "null", "true"),
            (&n, &f, "false", "null"),
            (&n, &n, "null", "null"),
            (&n, &m, "null", "null"),
            (&m, &t, "null", "true"),
            (&m, &f, "false", "null"),
            (&m, &n, "null", "null"),
            (&m, &m, "null", "null"),
        ];
        for (l, r, want_and, want_or) in cases {
            same(&and(l, r), want_and);
            same(&or(l, r), want_or);
        }
        same(&not(&t), "false");
        same(&not(&f), "true");
        same(&not(&n), "null");
        same(&not(&m), "null");
        same(&not(&v("1")), "null");
        assert_eq!(truth(&t), Some(true));
        assert_eq!(truth(&v("null.bool")), None);
        assert_eq!(truth(&v("1")), None);
        assert_eq!(truth(&m), None);
        same(&arith(BinaryOp::And, &f, &n).unwrap(), "false");
        same(&arith(BinaryOp::Or, &t, &m).unwrap(), "true");
    }

    // ----- total order ----------------------------------------------------------------------

    #[test]
    fn total_order_follows_partiql() {
        let ordered = [
            Value::Missing,
            v("null"),
            v("false"),
            v("true"),
            v("nan"),
            v("-inf"),
            v("-5"),
            v("1"),
            v("1.5"),
            v("2e0"),
            v("+inf"),
            v("2000T"),
            v("2020-01-01T00:00Z"),
            v("\"a\""),
            v("b"),
            v("{{YQ==}}"),
            v("[]"),
            v("[1]"),
            v("[1, 2]"),
            v("[2]"),
            v("()"),
            v("(1)"),
            v("{}"),
            v("{a: 1}"),
            v("{a: 2}"),
            v("{b: 0}"),
            Value::Bag(vec![]),
            Value::Bag(vec![v("1")]),
        ];
        for (i, x) in ordered.iter().enumerate() {
            for (j, y) in ordered.iter().enumerate() {
                let want = if i < 2 && j < 2 {
                    Ordering::Equal
                } else {
                    i.cmp(&j)
                };
                assert_eq!(total_order(x, y), want, "{} vs {}", show(x), show(y));
            }
        }
        assert_eq!(total_order(&v("1"), &v("1.000")), Ordering::Equal);
        assert_eq!(
            total_order(&v("{a:1,b:2}"), &v("{b:2,a:1}")),
            Ordering::Equal
        );
        assert_eq!(
            total_order(
                &Value::Bag(vec![v("2"), v("1")]),
                &Value::Bag(vec![v("1"), v("2")])
            ),
            Ordering::Equal
        );
    }

    // ----- helpers --------------------------------------------------------------------------

    #[test]
    fn calendar_round_trip() {
        for z in [-800_000i64, -1, 0, 1, 11_016, 59, 60, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn timestamp_fields_round_trip() {
        for t in [
            "2010T",
            "2010-02T",
            "2010-02-03T",
            "2010-02-03T04:05Z",
            "2010-02-03T04:05-00:00",
            "2010-02-03T04:05:06+01:30",
            "2016-12-20T05:23:43.000000-00:00",
            "2016-12-20T05:23:43.123456789012345678-08:00",
        ] {
            let ts = ion(t).as_timestamp().unwrap();
            let back = TsFields::of(&ts).build().unwrap();
            assert!(ion_rs::IonData::eq(&ts, &back), "{t} → {back}");
        }
        let fine = ion("2016-12-20T05:23:43.123456789012345678Z")
            .as_timestamp()
            .unwrap();
        assert_eq!(ts_instant(&fine).1, 123_456_789_012_345_678);
    }

    fn num_text() -> impl Strategy<Value = String> {
        let int = any::<i64>().prop_map(|i| i.to_string());
        let big = "-?[1-9][0-9]{20,40}".prop_map(|s| s);
        let dec = (any::<i32>(), -12i64..12).prop_map(|(c, e)| format!("{c}d{e}"));
        let dec_zeros = (-999i32..999, 0usize..4).prop_map(|(c, z)| {
            // Same value written with extra trailing zeros.
            format!("{c}.{}", "0".repeat(z.max(1)))
        });
        let float = any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}"));
        let small_float = (-1000i32..1000, 0u32..4)
            .prop_map(|(c, k)| format!("{}e0", c as f64 / 10f64.powi(k as i32)));
        prop_oneof![int, big, dec, dec_zeros, float, small_float]
    }

    proptest! {
        #[test]
        fn eq_key_is_exact_for_numbers(a in num_text(), b2 in num_text()) {
            let (x, y) = (ion(&a), ion(&b2));
            prop_assert_eq!(values_equal(&x, &y), eq_key(&x) == eq_key(&y), "{} {}", a, b2);
            prop_assert_eq!(
                values_equal(&x, &y),
                total_order(&Value::Ref(&x), &Value::Ref(&y)) == Ordering::Equal
            );
        }

        #[test]
        fn eq_key_agrees_across_numeric_types(i in any::<i64>(), e in 0i64..5) {
            let as_int = ion(&i.to_string());
            let as_dec = ion(&format!("{i}.{}", "0".repeat(e as usize + 1)));
            prop_assert!(values_equal(&as_int, &as_dec));
            prop_assert_eq!(eq_key(&as_int), eq_key(&as_dec));
            if i.unsigned_abs() < (1u64 << 53) {
                let as_float = Element::float(i as f64);
                prop_assert!(values_equal(&as_int, &as_float));
                prop_assert_eq!(eq_key(&as_int), eq_key(&as_float));
            }
        }

        #[test]
        fn eq_key_is_exact_for_text(a in "[a-c]{0,3}", b2 in "[a-c]{0,3}", sa: bool, sb: bool) {
            let mk = |t: &str, sym: bool| if sym { Element::symbol(t) } else { Element::string(t) };
            let (x, y) = (mk(&a, sa), mk(&b2, sb));
            prop_assert_eq!(values_equal(&x, &y), a == b2);
            prop_assert_eq!(values_equal(&x, &y), eq_key(&x) == eq_key(&y));
        }

        #[test]
        fn eq_key_is_exact_for_structs(
            fields in proptest::collection::vec(("[ab]", 0i32..3), 0..4),
            perm in any::<u64>(),
            as_dec: bool,
        ) {
            let build = |fs: &[(String, i32)]| {
                let mut b = Element::struct_builder();
                for (k, n) in fs {
                    let val = if as_dec {
                        Element::decimal(Decimal::new(*n as i64 * 10, -1))
                    } else {
                        Element::int(*n)
                    };
                    b = b.with_field(k.as_str(), val);
                }
                b.build().into()
            };
            let x: Element = build(&fields);
            let mut shuffled = fields.clone();
            if !shuffled.is_empty() {
                let k = (perm as usize) % shuffled.len();
                shuffled.rotate_left(k);
            }
            let y: Element = build(&shuffled);
            let z = Element::read_one(
                format!("{{{}}}", fields.iter().map(|(k, n)| format!("{k}:{n}")).collect::<Vec<_>>().join(",")),
            ).unwrap();
            prop_assert!(values_equal(&x, &y));
            prop_assert_eq!(eq_key(&x), eq_key(&y));
            prop_assert!(values_equal(&x, &z));
            prop_assert_eq!(eq_key(&x), eq_key(&z));
        }

        #[test]
        fn decimal_add_sub_round_trip(a in any::<i64>(), ea in -6i64..6, c in any::<i64>(), ec in -6i64..6) {
            let x = Value::Owned(Element::decimal(Decimal::new(a, ea)));
            let y = Value::Owned(Element::decimal(Decimal::new(c, ec)));
            let sum = arith(BinaryOp::Add, &x, &y).unwrap();
            let back = arith(BinaryOp::Sub, &sum, &y).unwrap();
            prop_assert_eq!(truth(&eq(&back, &x)), Some(true));
        }
    }
}
