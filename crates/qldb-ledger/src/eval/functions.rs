//! The scalar functions of QLDB's PartiQL dialect (`COALESCE`, `EXISTS`, `NULLIF`, `DATE_ADD`,
//! `DATE_DIFF`, `EXTRACT`, `TO_STRING`, `TO_TIMESTAMP`, `UTCNOW`, `TXID`, `CHAR_LENGTH`,
//! `CHARACTER_LENGTH`, `LOWER`, `UPPER`, `SUBSTRING`, `TRIM`, `SIZE`) and `CAST`, over exact Ion
//! values. Aggregates (`AVG COUNT MAX MIN SUM`) are not here: the query evaluator owns them.
//!
//! # Conventions
//!
//! - A null or MISSING argument makes the result null (QLDB: "null and missing inputs propagate
//!   to null"), except where a function's meaning says otherwise: `COALESCE` skips them,
//!   `NULLIF(a, b)` returns `a` unless `a = b` is true, and `CAST` keeps MISSING as MISSING.
//!   Date-part and `TRIM` specification arguments are checked before propagation, because they
//!   are literals and a bad one is a mistake in the statement.
//! - A wrong argument count or an argument of the wrong type is an [`EvalError`] naming the
//!   function. Results never carry annotations.
//! - Timestamps keep their precision and offset: `DATE_ADD` only raises the precision as far as
//!   the added unit needs (``DATE_ADD(month, 1, `2010T`)`` → `2010-02T`), and a timestamp that
//!   gains a time of day this way gets offset `Z` (as QLDB's own examples show). Month and year
//!   arithmetic clamps the day to the end of the month (Jan 31 + 1 month = Feb 28/29).
//! - `DATE_DIFF(part, t1, t2)` is `t2 - t1` in whole units, truncated toward zero: day and
//!   smaller units from the instants; months and years count calendar months in `t1`'s offset,
//!   less one if the day-and-time of `t2` has not yet reached that of `t1`
//!   (`DATE_DIFF(month, 2010-12-31T, 2011-01-01T)` = 0).
//! - `EXTRACT` returns an int for every part; `second` is the whole seconds, and
//!   `timezone_hour`/`timezone_minute` are 0 for an unknown offset and carry the offset's sign.
//!
//! # Timestamp format patterns (`TO_STRING`, `TO_TIMESTAMP`)
//!
//! The QLDB pattern symbols: `yy` (two-digit year; when parsing ≥ 70 → 19xx, < 70 → 20xx), `y`
//! (year, unpadded), `yyyy` (zero-padded four digits), `M`, `MM`, `MMM` (`Jan`), `MMMM`
//! (`January`), `d`, `dd`, `a` (`AM`/`PM`), `h`, `hh` (12-hour clock), `H`, `HH`, `m`, `mm`, `s`,
//! `ss`, `S`…`SSSSSSSSS` (fraction of a second, that many digits, truncated), `X` (`Z` or `+07`,
//! or `+0730` when the minutes are non-zero), `XX`/`XXXX` (`Z` or `+0700`), `XXX`/`XXXXX` (`Z` or
//! `+07:00`), and `x`, `xx`, `xxx` (the same without `Z`). Text in single quotes is literal (`''` is
//! a quote); any other non-letter is literal; any other letter is an error. An unknown offset
//! formats as UTC. When parsing, single-letter numeric symbols accept one or two digits (`y`: one
//! to four), padded symbols need exactly their width, month names and `AM`/`PM` are
//! case-insensitive, the result's precision is the finest field present (year is required), and a
//! time of day without an offset symbol gets an unknown offset.
//!
//! # CAST
//!
//! Targets: `null`, `missing`, `int`/`integer` (and `smallint`, `bigint`), `float`/`real`/
//! `double precision`, `decimal`/`numeric` (a `(p,s)` suffix is ignored), `string`/`varchar`/
//! `char`, `symbol`, `bool`/`boolean`, `timestamp`, `blob`, `clob`, `list`, `sexp`, `bag`,
//! `struct`/`tuple`. `CAST(MISSING AS null)` is null, other casts of MISSING are MISSING; casts of
//! null are null except `AS missing`; a known value cannot become null or MISSING (error).
//! Numbers convert exactly where they can: int → decimal with exponent 0, decimal/float → int
//! truncates toward zero, float → decimal takes the float's shortest round-trip digits. Text →
//! number parses Ion number text (`'12'`, `'1.50'`, `'1e3'`, an optional leading `+`); text → bool
//! is true only for `'true'` (any case); text → timestamp parses Ion timestamp text. Number →
//! text: ints in decimal, decimals as plain digits (`1.50`, `0.005`; a positive exponent keeps
//! Ion's `1d3` form), floats in their shortest form (`0.2`, `1.0`, `1e300`, `nan`, `+inf`);
//! timestamps as Ion text. Lists, sexps and bags convert among themselves; blob and clob into
//! each other. Anything else is an error.

use ion_rs::{Decimal, Element, IonType, Timestamp, TimestampPrecision, Value as IonValue};
use num_bigint::{BigInt, Sign as BigSign};

use crate::eval::ops::{
    self, big_to_int, civil_from_days, days_in_month, decimal_parts, make_decimal, pow10, text_of,
    ts_instant, Num, TsFields,
};
use crate::eval::{EvalError, EvalResult, Value};

/// What a function call may need from the running transaction.
pub struct FnContext<'c> {
    /// The id `TXID()` returns.
    pub transaction_id: &'c str,
    /// The transaction's clock reading that `UTCNOW()` returns (UTC, millisecond precision).
    pub now: Timestamp,
}

const SCALAR_FUNCTIONS: &[&str] = &[
    "coalesce",
    "exists",
    "nullif",
    "date_add",
    "date_diff",
    "extract",
    "to_string",
    "to_timestamp",
    "utcnow",
    "txid",
    "char_length",
    "character_length",
    "lower",
    "upper",
    "substring",
    "trim",
    "size",
];

/// True for the (lower-case) names [`call_scalar`] implements; false for aggregates.
pub fn is_scalar_function(name: &str) -> bool {
    SCALAR_FUNCTIONS.contains(&name)
}

/// Calls the scalar function `name` (lower-case) on evaluated arguments.
pub fn call_scalar(name: &str, args: Vec<Value>, ctx: &FnContext) -> EvalResult<Value<'static>> {
    match name {
        "coalesce" => coalesce(args),
        "exists" => exists(&args),
        "nullif" => nullif(args),
        "date_add" => date_add(&args),
        "date_diff" => date_diff(&args),
        "extract" => extract(&args),
        "to_string" => to_string(&args),
        "to_timestamp" => to_timestamp(&args),
        "utcnow" => {
            arity(name, &args, 0, 0)?;
            Ok(owned(Element::timestamp(ctx.now.clone())))
        }
        "txid" => {
            arity(name, &args, 0, 0)?;
            Ok(owned(Element::string(ctx.transaction_id)))
        }
        "char_length" | "character_length" => char_length(name, &args),
        "lower" | "upper" => change_case(name, &args),
        "substring" => substring(&args),
        "trim" => trim(&args),
        "size" => size(&args),
        _ => Err(EvalError::new(format!("Function not supported: {name}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// Argument helpers
// ---------------------------------------------------------------------------------------------

fn owned(e: Element) -> Value<'static> {
    Value::Owned(e)
}

fn arity(name: &str, args: &[Value], min: usize, max: usize) -> EvalResult<()> {
    if (min..=max).contains(&args.len()) {
        return Ok(());
    }
    let expected = if min == max {
        format!("{min} argument{}", if min == 1 { "" } else { "s" })
    } else if max == usize::MAX {
        format!("at least {min} argument{}", if min == 1 { "" } else { "s" })
    } else {
        format!("{min} to {max} arguments")
    };
    Err(EvalError::new(format!(
        "Function {} expects {expected}, got {}",
        name.to_uppercase(),
        args.len()
    )))
}

/// A value's type for error messages.
fn type_name(v: &Value) -> String {
    match v {
        Value::Missing => "missing".into(),
        Value::Bag(_) => "bag".into(),
        _ => match v.element() {
            Some(e) if e.is_null() => "null".into(),
            Some(e) => e.ion_type().to_string(),
            None => "missing".into(),
        },
    }
}

fn wrong_type(name: &str, what: &str, v: &Value) -> EvalError {
    EvalError::new(format!(
        "Function {} expects {what}, got {}",
        name.to_uppercase(),
        type_name(v)
    ))
}

fn any_unknown(args: &[Value]) -> bool {
    args.iter().any(Value::is_absent)
}

fn text_arg<'v>(name: &str, what: &str, v: &'v Value) -> EvalResult<&'v str> {
    v.element()
        .and_then(text_of)
        .ok_or_else(|| wrong_type(name, what, v))
}

fn timestamp_arg(name: &str, v: &Value) -> EvalResult<Timestamp> {
    match v.element().map(|e| e.value()) {
        Some(IonValue::Timestamp(t)) => Ok(t.clone()),
        _ => Err(wrong_type(name, "a timestamp", v)),
    }
}

fn int_arg(name: &str, what: &str, v: &Value) -> EvalResult<BigInt> {
    match v.element().map(|e| e.value()) {
        Some(IonValue::Int(i)) => Ok(ops::int_to_big(i)),
        _ => Err(wrong_type(name, what, v)),
    }
}

fn i64_arg(name: &str, what: &str, v: &Value) -> EvalResult<i64> {
    i64::try_from(&int_arg(name, what, v)?)
        .map_err(|_| EvalError::new(format!("{}: {what} is out of range", name.to_uppercase())))
}

fn int_value(n: i64) -> Value<'static> {
    owned(Element::int(n))
}

// ---------------------------------------------------------------------------------------------
// Conditional functions
// ---------------------------------------------------------------------------------------------

/// The first argument that is neither null nor MISSING, else null.
fn coalesce(args: Vec<Value>) -> EvalResult<Value<'static>> {
    arity("coalesce", &args, 1, usize::MAX)?;
    Ok(args
        .into_iter()
        .find(|a| !a.is_absent())
        .map(Value::into_owned)
        .unwrap_or_else(Value::null))
}

/// True for a non-empty collection (bag, list, sexp or struct).
fn exists(args: &[Value]) -> EvalResult<Value<'static>> {
    arity("exists", args, 1, 1)?;
    let v = &args[0];
    if v.is_absent() {
        return Ok(Value::null());
    }
    let non_empty = match v {
        Value::Bag(items) => !items.is_empty(),
        _ => match v.element().map(|e| e.value()) {
            Some(IonValue::List(s)) | Some(IonValue::SExp(s)) => !s.is_empty(),
            Some(IonValue::Struct(s)) => !s.is_empty(),
            _ => return Err(wrong_type("exists", "a collection", v)),
        },
    };
    Ok(Value::bool(non_empty))
}

/// null if `a = b` is true, else `a` (a MISSING `a` becomes null).
fn nullif(args: Vec<Value>) -> EvalResult<Value<'static>> {
    arity("nullif", &args, 2, 2)?;
    let (a, b) = (&args[0], &args[1]);
    if a.is_missing() || ops::truth(&ops::eq(a, b)) == Some(true) {
        return Ok(Value::null());
    }
    Ok(args.into_iter().next().expect("two arguments").into_owned())
}

// ---------------------------------------------------------------------------------------------
// Date and time functions
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    TimezoneHour,
    TimezoneMinute,
}

fn part_arg(name: &str, v: &Value) -> EvalResult<Part> {
    let text = v
        .element()
        .and_then(text_of)
        .ok_or_else(|| wrong_type(name, "a date part (year, month, day, …)", v))?;
    Ok(match text.to_ascii_lowercase().as_str() {
        "year" => Part::Year,
        "month" => Part::Month,
        "day" => Part::Day,
        "hour" => Part::Hour,
        "minute" => Part::Minute,
        "second" => Part::Second,
        "timezone_hour" => Part::TimezoneHour,
        "timezone_minute" => Part::TimezoneMinute,
        _ => {
            return Err(EvalError::new(format!(
                "Function {}: invalid date part '{text}'",
                name.to_uppercase()
            )))
        }
    })
}

fn out_of_range(name: &str) -> EvalError {
    EvalError::new(format!(
        "Function {}: timestamp out of range",
        name.to_uppercase()
    ))
}

/// `DATE_ADD(part, n, ts)`.
fn date_add(args: &[Value]) -> EvalResult<Value<'static>> {
    const NAME: &str = "date_add";
    arity(NAME, args, 3, 3)?;
    let part = part_arg(NAME, &args[0])?;
    if matches!(part, Part::TimezoneHour | Part::TimezoneMinute) {
        return Err(EvalError::new(
            "Function DATE_ADD: date part must be year, month, day, hour, minute or second",
        ));
    }
    if any_unknown(&args[1..]) {
        return Ok(Value::null());
    }
    let n = i64_arg(NAME, "an int interval", &args[1])?;
    let ts = timestamp_arg(NAME, &args[2])?;
    let mut f = TsFields::of(&ts);
    let raise = |f: &mut TsFields, p: TimestampPrecision| {
        if f.precision < p {
            if p >= TimestampPrecision::HourAndMinute
                && f.precision < TimestampPrecision::HourAndMinute
            {
                // Gaining a time of day: QLDB gives it offset Z
                // (`2017T` + 1 hour = `2017-01-01T01:00Z`).
                f.offset = Some(0);
            }
            f.precision = p;
        }
    };
    match part {
        Part::Year | Part::Month => {
            let months = if part == Part::Year {
                n.checked_mul(12).ok_or_else(|| out_of_range(NAME))?
            } else {
                n
            };
            raise(
                &mut f,
                if part == Part::Year {
                    TimestampPrecision::Year
                } else {
                    TimestampPrecision::Month
                },
            );
            let total = (f.year * 12 + f.month as i64 - 1)
                .checked_add(months)
                .ok_or_else(|| out_of_range(NAME))?;
            f.year = total.div_euclid(12);
            f.month = total.rem_euclid(12) as u32 + 1;
            if !(1..=9999).contains(&f.year) {
                return Err(out_of_range(NAME));
            }
            f.day = f.day.min(days_in_month(f.year, f.month));
        }
        Part::Day | Part::Hour | Part::Minute | Part::Second => {
            let (unit, precision) = match part {
                Part::Day => (86_400i64, TimestampPrecision::Day),
                Part::Hour => (3600, TimestampPrecision::HourAndMinute),
                Part::Minute => (60, TimestampPrecision::HourAndMinute),
                _ => (1, TimestampPrecision::Second),
            };
            raise(&mut f, precision);
            let local = n
                .checked_mul(unit)
                .and_then(|d| f.local_seconds().checked_add(d))
                .ok_or_else(|| out_of_range(NAME))?;
            set_local_seconds(&mut f, local);
            if !(1..=9999).contains(&f.year) {
                return Err(out_of_range(NAME));
            }
        }
        Part::TimezoneHour | Part::TimezoneMinute => unreachable!("rejected above"),
    }
    Ok(owned(Element::timestamp(f.build()?)))
}

/// Replaces the date and time of day (to the second) with the given local epoch seconds.
fn set_local_seconds(f: &mut TsFields, local: i64) {
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    f.year = y;
    f.month = m;
    f.day = d;
    f.hour = (secs / 3600) as u32;
    f.minute = (secs / 60 % 60) as u32;
    f.second = (secs % 60) as u32;
}

/// `DATE_DIFF(part, t1, t2)`: `t2 - t1` in whole `part`s, truncated toward zero.
fn date_diff(args: &[Value]) -> EvalResult<Value<'static>> {
    const NAME: &str = "date_diff";
    arity(NAME, args, 3, 3)?;
    let part = part_arg(NAME, &args[0])?;
    if any_unknown(&args[1..]) {
        return Ok(Value::null());
    }
    let t1 = timestamp_arg(NAME, &args[1])?;
    let t2 = timestamp_arg(NAME, &args[2])?;
    let (s1, a1) = ts_instant(&t1);
    let (s2, a2) = ts_instant(&t2);
    let unit =
        match part {
            Part::Day => 86_400i128,
            Part::Hour => 3600,
            Part::Minute => 60,
            Part::Second => 1,
            Part::Year | Part::Month => {
                // Calendar months, both sides read in t1's offset.
                let offset = TsFields::of(&t1).offset.unwrap_or(0) as i64 * 60;
                let split = |s: i64| {
                    let local = s + offset;
                    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
                    (y * 12 + m as i64, (d, local.rem_euclid(86_400)))
                };
                let (m1, rest1) = split(s1);
                let (m2, rest2) = split(s2);
                let (rest1, rest2) = ((rest1, a1), (rest2, a2));
                let mut months = m2 - m1;
                if months > 0 && rest2 < rest1 {
                    months -= 1;
                } else if months < 0 && rest2 > rest1 {
                    months += 1;
                }
                return Ok(int_value(if part == Part::Year {
                    months / 12
                } else {
                    months
                }));
            }
            Part::TimezoneHour | Part::TimezoneMinute => return Err(EvalError::new(
                "Function DATE_DIFF: date part must be year, month, day, hour, minute or second",
            )),
        };
    const ATTO: i128 = 1_000_000_000_000_000_000;
    let diff = (s2 as i128 - s1 as i128) * ATTO + (a2 as i128 - a1 as i128);
    let whole = diff / (unit * ATTO);
    Ok(int_value(whole as i64))
}

/// `EXTRACT(part FROM ts)` as `extract(part, ts)`: an int.
fn extract(args: &[Value]) -> EvalResult<Value<'static>> {
    const NAME: &str = "extract";
    arity(NAME, args, 2, 2)?;
    let part = part_arg(NAME, &args[0])?;
    if args[1].is_absent() {
        return Ok(Value::null());
    }
    let f = TsFields::of(&timestamp_arg(NAME, &args[1])?);
    let offset = f.offset.unwrap_or(0) as i64;
    Ok(int_value(match part {
        Part::Year => f.year,
        Part::Month => f.month as i64,
        Part::Day => f.day as i64,
        Part::Hour => f.hour as i64,
        Part::Minute => f.minute as i64,
        Part::Second => f.second as i64,
        Part::TimezoneHour => offset / 60,
        Part::TimezoneMinute => offset % 60,
    }))
}

/// `TO_STRING(ts, pattern)`.
fn to_string(args: &[Value]) -> EvalResult<Value<'static>> {
    const NAME: &str = "to_string";
    arity(NAME, args, 2, 2)?;
    if any_unknown(args) {
        return Ok(Value::null());
    }
    let ts = timestamp_arg(NAME, &args[0])?;
    let pattern = text_arg(NAME, "a format string", &args[1])?;
    let items = parse_pattern(pattern)?;
    Ok(owned(Element::string(format_timestamp(&ts, &items))))
}

/// `TO_TIMESTAMP(text [, pattern])`.
fn to_timestamp(args: &[Value]) -> EvalResult<Value<'static>> {
    const NAME: &str = "to_timestamp";
    arity(NAME, args, 1, 2)?;
    if any_unknown(args) {
        return Ok(Value::null());
    }
    let text = text_arg(NAME, "a string", &args[0])?;
    let ts = match args.get(1) {
        None => parse_ion_timestamp(text)?,
        Some(p) => {
            let pattern = text_arg(NAME, "a format string", p)?;
            parse_with_pattern(text, &parse_pattern(pattern)?, pattern)?
        }
    };
    Ok(owned(Element::timestamp(ts)))
}

/// Parses Ion timestamp text (`2007T`, `2007-02-23T12:14:33.079-08:00`, …).
fn parse_ion_timestamp(text: &str) -> EvalResult<Timestamp> {
    let bad = || EvalError::new(format!("Invalid Ion timestamp: '{text}'"));
    let e = Element::read_one(text.trim()).map_err(|_| bad())?;
    match e.value() {
        IonValue::Timestamp(t) if e.annotations().is_empty() => Ok(t.clone()),
        _ => Err(bad()),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum FmtItem {
    Lit(String),
    /// A pattern letter and how many times it is repeated.
    Sym(char, usize),
}

fn parse_pattern(pattern: &str) -> EvalResult<Vec<FmtItem>> {
    let bad = |why: String| EvalError::new(format!("Invalid timestamp format '{pattern}': {why}"));
    let chars: Vec<char> = pattern.chars().collect();
    let mut items = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                lit.push('\'');
                i += 2;
                continue;
            }
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(bad("unterminated quoted text".into())),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        lit.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&ch) => {
                        lit.push(ch);
                        i += 1;
                    }
                }
            }
        } else if c.is_ascii_alphabetic() {
            let mut n = 1;
            while chars.get(i + n) == Some(&c) {
                n += 1;
            }
            let max = match c {
                'y' => 9,
                'M' => 4,
                'd' | 'h' | 'H' | 'm' | 's' => 2,
                'a' => 1,
                'S' => 9,
                'X' | 'x' => 5,
                _ => return Err(bad(format!("unknown pattern symbol '{c}'"))),
            };
            if n > max {
                return Err(bad(format!("too many '{c}'")));
            }
            if !lit.is_empty() {
                items.push(FmtItem::Lit(std::mem::take(&mut lit)));
            }
            items.push(FmtItem::Sym(c, n));
            i += n;
        } else {
            lit.push(c);
            i += 1;
        }
    }
    if !lit.is_empty() {
        items.push(FmtItem::Lit(lit));
    }
    Ok(items)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn format_offset(minutes: i32, n: usize, z_for_zero: bool) -> String {
    if minutes == 0 && z_for_zero {
        return "Z".into();
    }
    let sign = if minutes < 0 { '-' } else { '+' };
    let (h, m) = (minutes.abs() / 60, minutes.abs() % 60);
    match n {
        1 if m == 0 => format!("{sign}{h:02}"),
        1 | 2 | 4 => format!("{sign}{h:02}{m:02}"),
        _ => format!("{sign}{h:02}:{m:02}"),
    }
}

fn format_timestamp(ts: &Timestamp, items: &[FmtItem]) -> String {
    let f = TsFields::of(ts);
    let mut out = String::new();
    for item in items {
        match item {
            FmtItem::Lit(s) => out.push_str(s),
            FmtItem::Sym(c, n) => {
                let n = *n;
                let num = |v: i64, width: usize| format!("{v:0width$}");
                let s = match c {
                    'y' if n == 2 => num(f.year.rem_euclid(100), 2),
                    'y' => num(f.year, n),
                    'M' if n == 3 => MONTHS[f.month as usize - 1][..3].to_string(),
                    'M' if n == 4 => MONTHS[f.month as usize - 1].to_string(),
                    'M' => num(f.month as i64, n),
                    'd' => num(f.day as i64, n),
                    'a' => (if f.hour < 12 { "AM" } else { "PM" }).to_string(),
                    'h' => num(((f.hour + 11) % 12 + 1) as i64, n),
                    'H' => num(f.hour as i64, n),
                    'm' => num(f.minute as i64, n),
                    's' => num(f.second as i64, n),
                    'S' => format!("{:018}", f.attoseconds())[..n].to_string(),
                    'X' => format_offset(f.offset.unwrap_or(0), n, true),
                    'x' => format_offset(f.offset.unwrap_or(0), n, false),
                    _ => unreachable!("rejected by parse_pattern"),
                };
                out.push_str(&s);
            }
        }
    }
    out
}

/// Fields read by [`parse_with_pattern`].
#[derive(Default)]
struct Parsed {
    year: Option<i64>,
    month: Option<u32>,
    day: Option<u32>,
    hour24: Option<u32>,
    hour12: Option<u32>,
    pm: Option<bool>,
    minute: Option<u32>,
    second: Option<u32>,
    frac: Option<(u64, u32)>,
    offset: Option<i32>,
}

fn parse_with_pattern(text: &str, items: &[FmtItem], pattern: &str) -> EvalResult<Timestamp> {
    let bad = || {
        EvalError::new(format!(
            "Timestamp '{text}' does not match the format '{pattern}'"
        ))
    };
    let mut rest = text;
    let mut p = Parsed::default();

    // Takes between `min` and `max` ASCII digits.
    fn digits<'t>(rest: &mut &'t str, min: usize, max: usize) -> Option<&'t str> {
        let n = rest
            .bytes()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if n < min {
            return None;
        }
        let (d, r) = rest.split_at(n);
        *rest = r;
        Some(d)
    }
    fn number(rest: &mut &str, n: usize) -> Option<u32> {
        let (min, max) = if n == 1 { (1, 2) } else { (n, n) };
        digits(rest, min, max)?.parse().ok()
    }
    fn take_ci(rest: &mut &str, word: &str) -> bool {
        match rest.get(..word.len()) {
            Some(head) if head.eq_ignore_ascii_case(word) => {
                *rest = &rest[word.len()..];
                true
            }
            _ => false,
        }
    }

    for item in items {
        match item {
            FmtItem::Lit(s) => {
                rest = rest.strip_prefix(s.as_str()).ok_or_else(bad)?;
            }
            FmtItem::Sym(c, n) => {
                let n = *n;
                match c {
                    'y' => {
                        let y: i64 = match n {
                            1 => digits(&mut rest, 1, 4),
                            _ => digits(&mut rest, n, n),
                        }
                        .and_then(|d| d.parse().ok())
                        .ok_or_else(bad)?;
                        p.year = Some(if n == 2 {
                            if y >= 70 {
                                1900 + y
                            } else {
                                2000 + y
                            }
                        } else {
                            y
                        });
                    }
                    'M' if n >= 3 => {
                        let found = MONTHS.iter().position(|name| {
                            let word = if n == 3 { &name[..3] } else { name };
                            take_ci(&mut rest, word)
                        });
                        p.month = Some(found.ok_or_else(bad)? as u32 + 1);
                    }
                    'M' => p.month = Some(number(&mut rest, n).ok_or_else(bad)?),
                    'd' => p.day = Some(number(&mut rest, n).ok_or_else(bad)?),
                    'H' => p.hour24 = Some(number(&mut rest, n).ok_or_else(bad)?),
                    'h' => p.hour12 = Some(number(&mut rest, n).ok_or_else(bad)?),
                    'm' => p.minute = Some(number(&mut rest, n).ok_or_else(bad)?),
                    's' => p.second = Some(number(&mut rest, n).ok_or_else(bad)?),
                    'a' => {
                        p.pm = Some(if take_ci(&mut rest, "AM") {
                            false
                        } else if take_ci(&mut rest, "PM") {
                            true
                        } else {
                            return Err(bad());
                        });
                    }
                    'S' => {
                        let d = digits(&mut rest, n, n).ok_or_else(bad)?;
                        p.frac = Some((d.parse().map_err(|_| bad())?, n as u32));
                    }
                    'X' | 'x' => {
                        if take_ci(&mut rest, "Z") {
                            p.offset = Some(0);
                        } else {
                            let sign = match rest.chars().next() {
                                Some('+') => 1,
                                Some('-') => -1,
                                _ => return Err(bad()),
                            };
                            rest = &rest[1..];
                            let h: i32 = digits(&mut rest, 2, 2)
                                .and_then(|d| d.parse().ok())
                                .ok_or_else(bad)?;
                            if let Some(r) = rest.strip_prefix(':') {
                                rest = r;
                            }
                            let m: i32 = digits(&mut rest, 0, 2)
                                .and_then(|d| {
                                    if d.is_empty() {
                                        Some(0)
                                    } else {
                                        d.parse().ok()
                                    }
                                })
                                .ok_or_else(bad)?;
                            if h > 23 || m > 59 {
                                return Err(bad());
                            }
                            p.offset = Some(sign * (h * 60 + m));
                        }
                    }
                    _ => unreachable!("rejected by parse_pattern"),
                }
            }
        }
    }
    if !rest.is_empty() {
        return Err(bad());
    }

    let year = p
        .year
        .ok_or_else(|| EvalError::new(format!("Timestamp format '{pattern}' has no year")))?;
    let hour = match (p.hour24, p.hour12, p.pm) {
        (Some(h), _, _) => Some(h),
        (None, Some(h), pm) => {
            if !(1..=12).contains(&h) {
                return Err(bad());
            }
            Some(h % 12 + if pm == Some(true) { 12 } else { 0 })
        }
        (None, None, _) => None,
    };
    let precision = if p.frac.is_some() || p.second.is_some() {
        TimestampPrecision::Second
    } else if p.minute.is_some() || hour.is_some() {
        TimestampPrecision::HourAndMinute
    } else if p.day.is_some() {
        TimestampPrecision::Day
    } else if p.month.is_some() {
        TimestampPrecision::Month
    } else {
        TimestampPrecision::Year
    };
    let (frac, frac_digits) = p.frac.unwrap_or((0, 0));
    let f = TsFields {
        precision,
        year,
        month: p.month.unwrap_or(1),
        day: p.day.unwrap_or(1),
        hour: hour.unwrap_or(0),
        minute: p.minute.unwrap_or(0),
        second: p.second.unwrap_or(0),
        frac,
        frac_digits,
        offset: if precision >= TimestampPrecision::HourAndMinute {
            p.offset
        } else {
            None
        },
    };
    if !(1..=12).contains(&f.month)
        || !(1..=days_in_month(f.year, f.month)).contains(&f.day)
        || f.hour > 23
        || f.minute > 59
        || f.second > 59
    {
        return Err(bad());
    }
    f.build()
}

// ---------------------------------------------------------------------------------------------
// String functions
// ---------------------------------------------------------------------------------------------

fn char_length(name: &str, args: &[Value]) -> EvalResult<Value<'static>> {
    arity(name, args, 1, 1)?;
    if args[0].is_absent() {
        return Ok(Value::null());
    }
    let s = text_arg(name, "a string", &args[0])?;
    Ok(int_value(s.chars().count() as i64))
}

fn change_case(name: &str, args: &[Value]) -> EvalResult<Value<'static>> {
    arity(name, args, 1, 1)?;
    if args[0].is_absent() {
        return Ok(Value::null());
    }
    let s = text_arg(name, "a string", &args[0])?;
    let out = if name == "lower" {
        s.to_lowercase()
    } else {
        s.to_uppercase()
    };
    Ok(owned(Element::string(out)))
}

/// SQL `SUBSTRING(s, start [, len])`: characters from 1-based `start` (which may be ≤ 0) for
/// `len` characters, clipped to the string; a negative `len` is an error.
fn substring(args: &[Value]) -> EvalResult<Value<'static>> {
    const NAME: &str = "substring";
    arity(NAME, args, 2, 3)?;
    if any_unknown(args) {
        return Ok(Value::null());
    }
    let s = text_arg(NAME, "a string", &args[0])?;
    let clamp = |b: BigInt| -> i128 {
        i128::try_from(&b).unwrap_or(if b.sign() == BigSign::Minus {
            i128::MIN / 4
        } else {
            i128::MAX / 4
        })
    };
    let start = clamp(int_arg(NAME, "an int start position", &args[1])?);
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len() as i128;
    let end = match args.get(2) {
        None => n + 1,
        Some(l) => {
            let len = clamp(int_arg(NAME, "an int length", l)?);
            if len < 0 {
                return Err(EvalError::new(
                    "Function SUBSTRING: length must not be negative",
                ));
            }
            start + len
        }
    };
    let from = start.max(1);
    let to = end.min(n + 1);
    let out: String = if to <= from {
        String::new()
    } else {
        chars[(from - 1) as usize..(to - 1) as usize]
            .iter()
            .collect()
    };
    Ok(owned(Element::string(out)))
}

/// `TRIM([BOTH|LEADING|TRAILING] [chars] FROM s)` as `trim(where, chars|MISSING, s)`; plain
/// `trim(s)` is accepted too. Without `chars`, spaces are trimmed.
fn trim(args: &[Value]) -> EvalResult<Value<'static>> {
    const NAME: &str = "trim";
    let (spec, chars, s) = match args.len() {
        1 => (None, &Value::Missing, &args[0]),
        3 => (Some(&args[0]), &args[1], &args[2]),
        _ => {
            return Err(EvalError::new(format!(
                "Function TRIM expects 1 or 3 arguments, got {}",
                args.len()
            )))
        }
    };
    let (leading, trailing) = match spec {
        None => (true, true),
        Some(v) => match text_arg(NAME, "BOTH, LEADING or TRAILING", v)?
            .to_ascii_lowercase()
            .as_str()
        {
            "both" => (true, true),
            "leading" => (true, false),
            "trailing" => (false, true),
            other => {
                return Err(EvalError::new(format!(
                    "Function TRIM: expected BOTH, LEADING or TRAILING, got '{other}'"
                )))
            }
        },
    };
    if s.is_absent() || (!chars.is_missing() && chars.is_absent()) {
        return Ok(Value::null());
    }
    let set: Vec<char> = if chars.is_missing() {
        vec![' ']
    } else {
        text_arg(NAME, "a string of characters to trim", chars)?
            .chars()
            .collect()
    };
    let s = text_arg(NAME, "a string", s)?;
    let hit = |c: char| set.contains(&c);
    let mut out = s;
    if leading {
        out = out.trim_start_matches(hit);
    }
    if trailing {
        out = out.trim_end_matches(hit);
    }
    Ok(owned(Element::string(out)))
}

/// `SIZE(x)`: the number of members of a list, sexp, struct or bag.
fn size(args: &[Value]) -> EvalResult<Value<'static>> {
    arity("size", args, 1, 1)?;
    let v = &args[0];
    if v.is_absent() {
        return Ok(Value::null());
    }
    let n = match v {
        Value::Bag(items) => items.len(),
        _ => match v.element().map(|e| e.value()) {
            Some(IonValue::List(s)) | Some(IonValue::SExp(s)) => s.len(),
            Some(IonValue::Struct(s)) => s.len(),
            _ => {
                return Err(wrong_type(
                    "size",
                    "a container (list, sexp, struct or bag)",
                    v,
                ))
            }
        },
    };
    Ok(int_value(n as i64))
}

// ---------------------------------------------------------------------------------------------
// CAST
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Null,
    Missing,
    Int,
    Float,
    Decimal,
    String,
    Symbol,
    Bool,
    Timestamp,
    Blob,
    Clob,
    List,
    SExp,
    Bag,
    Struct,
}

fn cast_target(type_name: &str) -> EvalResult<Target> {
    let base = type_name.split('(').next().unwrap_or("");
    let base = base
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    Ok(match base.as_str() {
        "null" => Target::Null,
        "missing" => Target::Missing,
        "int" | "integer" | "smallint" | "bigint" | "int2" | "int4" | "int8" | "integer4"
        | "integer8" => Target::Int,
        "float" | "real" | "double" | "double precision" => Target::Float,
        "decimal" | "numeric" | "dec" => Target::Decimal,
        "string" | "varchar" | "char" | "character" | "character varying" | "text" => {
            Target::String
        }
        "symbol" => Target::Symbol,
        "bool" | "boolean" => Target::Bool,
        "timestamp" => Target::Timestamp,
        "blob" => Target::Blob,
        "clob" => Target::Clob,
        "list" => Target::List,
        "sexp" => Target::SExp,
        "bag" => Target::Bag,
        "struct" | "tuple" => Target::Struct,
        _ => {
            return Err(EvalError::new(format!(
                "Unsupported CAST target type: {type_name}"
            )))
        }
    })
}

/// `CAST(v AS type_name)` (see the module docs for the conversion table).
pub fn cast(v: &Value, type_name: &str) -> EvalResult<Value<'static>> {
    let target = cast_target(type_name)?;
    if v.is_missing() {
        return Ok(if target == Target::Null {
            Value::null()
        } else {
            Value::Missing
        });
    }
    if v.is_absent() {
        return Ok(if target == Target::Missing {
            Value::Missing
        } else {
            Value::null()
        });
    }
    let fail = || {
        EvalError::new(format!(
            "Cannot cast {} to {}",
            type_name_with_value(v),
            type_name.trim()
        ))
    };
    if let Value::Bag(items) = v {
        let elements = || -> Vec<Element> {
            items
                .iter()
                .filter_map(|x| x.clone().into_element())
                .collect()
        };
        return Ok(match target {
            Target::Bag => v.clone().into_owned(),
            Target::List => owned(Element::from(ion_rs::List::from(elements()))),
            Target::SExp => owned(Element::from(ion_rs::SExp::from(elements()))),
            _ => return Err(fail()),
        });
    }
    let e = v.element().expect("neither MISSING nor a bag");
    use IonValue as V;
    let out: Element = match (target, e.value()) {
        (Target::Null | Target::Missing, _) => return Err(fail()),

        (Target::Int, V::Int(i)) => Element::int(i.clone()),
        (Target::Int, V::Bool(b)) => Element::int(*b as i64),
        (Target::Int, V::Decimal(_) | V::Float(_)) => Element::int(big_to_int(
            &truncate_to_int(&Num::of(e).expect("number")).ok_or_else(fail)?,
        )),
        (Target::Int, V::String(_) | V::Symbol(_)) => {
            let n = parse_number_text(text_of(e).ok_or_else(fail)?).ok_or_else(fail)?;
            Element::int(big_to_int(&truncate_to_int(&n.num()).ok_or_else(fail)?))
        }

        (Target::Float, V::Float(f)) => Element::float(*f),
        (Target::Float, V::Int(_) | V::Decimal(_)) => {
            Element::float(Num::of(e).expect("number").to_f64())
        }
        (Target::Float, V::Bool(b)) => Element::float(if *b { 1.0 } else { 0.0 }),
        (Target::Float, V::String(_) | V::Symbol(_)) => {
            let n = parse_number_text(text_of(e).ok_or_else(fail)?).ok_or_else(fail)?;
            Element::float(n.num().to_f64())
        }

        (Target::Decimal, V::Decimal(d)) => Element::decimal(d.clone()),
        (Target::Decimal, V::Int(i)) => Element::decimal(Decimal::from(i.clone())),
        (Target::Decimal, V::Bool(b)) => Element::decimal(Decimal::new(*b as i64, 0)),
        (Target::Decimal, V::Float(f)) => Element::decimal(float_to_dec(*f).ok_or_else(fail)?),
        (Target::Decimal, V::String(_) | V::Symbol(_)) => {
            let n = parse_number_text(text_of(e).ok_or_else(fail)?).ok_or_else(fail)?;
            Element::decimal(match n {
                ParsedNumber::Decimal(d) => d,
                ParsedNumber::Other(Num::Float(f)) => float_to_dec(f).ok_or_else(fail)?,
                ParsedNumber::Other(n) => to_decimal(n).ok_or_else(fail)?,
            })
        }

        (Target::String | Target::Symbol, _) => {
            let text = match e.value() {
                V::String(s) => s.text().to_string(),
                V::Symbol(s) => s.text().ok_or_else(fail)?.to_string(),
                V::Int(i) => i.to_string(),
                V::Decimal(d) => decimal_text(d),
                V::Float(f) => float_text(*f),
                V::Bool(b) => b.to_string(),
                V::Timestamp(t) => t.to_string(),
                _ => return Err(fail()),
            };
            if target == Target::String {
                Element::string(text)
            } else {
                Element::symbol(text)
            }
        }

        (Target::Bool, V::Bool(b)) => Element::boolean(*b),
        (Target::Bool, V::Int(_) | V::Decimal(_) | V::Float(_)) => {
            let zero = match Num::of(e).expect("number") {
                Num::Float(f) => f == 0.0,
                Num::Int(i) | Num::Dec(i, _) => i.sign() == BigSign::NoSign,
            };
            Element::boolean(!zero)
        }
        (Target::Bool, V::String(_) | V::Symbol(_)) => {
            Element::boolean(text_of(e).is_some_and(|t| t.trim().eq_ignore_ascii_case("true")))
        }

        (Target::Timestamp, V::Timestamp(t)) => Element::timestamp(t.clone()),
        (Target::Timestamp, V::String(_) | V::Symbol(_)) => {
            Element::timestamp(parse_ion_timestamp(text_of(e).ok_or_else(fail)?)?)
        }

        (Target::Blob, V::Blob(b) | V::Clob(b)) => Element::blob(b.as_ref()),
        (Target::Clob, V::Blob(b) | V::Clob(b)) => Element::clob(b.as_ref()),

        (Target::List | Target::SExp | Target::Bag, V::List(s) | V::SExp(s)) => {
            let items: Vec<Element> = s.elements().cloned().collect();
            match target {
                Target::List => Element::from(ion_rs::List::from(items)),
                Target::SExp => Element::from(ion_rs::SExp::from(items)),
                _ => return Ok(Value::Bag(items.into_iter().map(Value::Owned).collect())),
            }
        }

        (Target::Struct, V::Struct(s)) => Element::from(s.clone()),

        _ => return Err(fail()),
    };
    Ok(owned(out))
}

fn type_name_with_value(v: &Value) -> String {
    match v.element() {
        Some(e)
            if !matches!(
                e.ion_type(),
                IonType::List | IonType::SExp | IonType::Struct
            ) =>
        {
            let mut text = e.to_string();
            if text.chars().count() > 40 {
                text = text.chars().take(40).collect::<String>() + "…";
            }
            format!("{} {text}", type_name(v))
        }
        _ => type_name(v),
    }
}

/// Largest decimal exponent expanded into an int's digits (`CAST(1d10000 AS INT)` is fine, a
/// million-digit int is not).
const MAX_INT_EXPONENT: i64 = 10_000;

/// The integer part (toward zero) of a number; `None` for nan, infinities, or an absurd exponent.
fn truncate_to_int(n: &Num) -> Option<BigInt> {
    let (c, e) = n.clone().into_exact()?;
    if e >= 0 {
        if e > MAX_INT_EXPONENT {
            return None;
        }
        Some(c * pow10(e as u32))
    } else if -e > ops::digits(&c) as i64 {
        Some(BigInt::ZERO)
    } else {
        Some(c / pow10((-e) as u32))
    }
}

fn to_decimal(n: Num) -> Option<Decimal> {
    let (c, e) = n.into_exact()?;
    Some(make_decimal(&c, e))
}

/// A number parsed from text; a decimal is kept as written (a negative zero keeps its sign).
enum ParsedNumber {
    Decimal(Decimal),
    Other(Num),
}

impl ParsedNumber {
    fn num(self) -> Num {
        match self {
            ParsedNumber::Decimal(d) => {
                let (c, e) = decimal_parts(&d);
                Num::Dec(c, e)
            }
            ParsedNumber::Other(n) => n,
        }
    }
}

/// A float as a decimal of its shortest round-trip digits (`-0e0` → `-0.`).
fn float_to_dec(f: f64) -> Option<Decimal> {
    if f == 0.0 && f.is_sign_negative() {
        return Some(Decimal::negative_zero());
    }
    to_decimal(Num::Float(f))
}

/// Parses Ion number text (int, decimal or float, with an optional leading `+`).
fn parse_number_text(text: &str) -> Option<ParsedNumber> {
    let t = text.trim();
    let t = match t.strip_prefix('+') {
        Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => r,
        _ => t,
    };
    if t.is_empty() {
        return None;
    }
    let e = Element::read_one(t).ok()?;
    if !e.annotations().is_empty() || e.is_null() {
        return None;
    }
    match e.value() {
        IonValue::Decimal(d) => Some(ParsedNumber::Decimal(d.clone())),
        _ => Num::of(&e).map(ParsedNumber::Other),
    }
}

/// Plain decimal text: `1.50`, `0.005`, `-0`, `12`; a positive exponent keeps Ion's `1d3` form
/// so the value's precision survives a round trip through `CAST(... AS DECIMAL)`.
fn decimal_text(d: &Decimal) -> String {
    let (c, e) = decimal_parts(d);
    let sign = if d.coefficient().is_negative() {
        "-"
    } else {
        ""
    };
    let digits = c.magnitude().to_string();
    if e == 0 {
        format!("{sign}{digits}")
    } else if e > 0 {
        format!("{sign}{digits}d{e}")
    } else {
        let scale = (-e) as usize;
        let padded = if digits.len() <= scale {
            format!("{}{digits}", "0".repeat(scale - digits.len() + 1))
        } else {
            digits
        };
        let (int_part, frac_part) = padded.split_at(padded.len() - scale);
        format!("{sign}{int_part}.{frac_part}")
    }
}

/// Shortest round-trip text of a float (`0.2`, `1.0`, `1e300`), with Ion's `nan`/`+inf`/`-inf`.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "+inf" } else { "-inf" }.into()
    } else {
        format!("{f:?}")
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn ion(text: &str) -> Element {
        Element::read_one(text).unwrap_or_else(|e| panic!("bad Ion {text:?}: {e}"))
    }

    fn v(text: &str) -> Value<'static> {
        Value::Owned(ion(text))
    }

    fn s(text: &str) -> Value<'static> {
        Value::Owned(Element::string(text))
    }

    fn sym(text: &str) -> Value<'static> {
        Value::Owned(Element::symbol(text))
    }

    fn ctx() -> FnContext<'static> {
        FnContext {
            transaction_id: "8ABCdefGHIjklMNOpqrST1",
            now: ion("2024-05-06T07:08:09.123Z").as_timestamp().unwrap(),
        }
    }

    fn call(name: &str, args: Vec<Value>) -> EvalResult<Value<'static>> {
        call_scalar(name, args, &ctx())
    }

    fn ok(name: &str, args: Vec<Value>) -> Value<'static> {
        call(name, args).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn err(name: &str, args: Vec<Value>) -> String {
        match call(name, args) {
            Ok(x) => panic!("{name}: expected an error, got {x:?}"),
            Err(e) => e.0,
        }
    }

    /// Asserts exact Ion identity (type, precision, offset), or MISSING, or a bag.
    fn same(x: &Value, text: &str) {
        match (x, text) {
            (Value::Missing, "MISSING") => {}
            (Value::Bag(items), _) if text.starts_with("<<") => {
                let inner = &text[2..text.len() - 2];
                let want = Element::read_all(inner.replace(',', " ")).unwrap();
                assert_eq!(items.len(), want.len(), "{text}");
                for (a, b) in items.iter().zip(want.elements()) {
                    assert!(ion_rs::IonData::eq(a.element().unwrap(), b), "{text}");
                }
            }
            _ => {
                let got = x
                    .element()
                    .unwrap_or_else(|| panic!("expected {text}, got {x:?}"));
                let want = ion(text);
                assert!(
                    ion_rs::IonData::eq(got, &want),
                    "expected {text}, got {got}"
                );
            }
        }
    }

    // ----- registry -------------------------------------------------------------------------

    #[test]
    fn registry() {
        for f in SCALAR_FUNCTIONS {
            assert!(is_scalar_function(f));
        }
        for f in ["avg", "count", "max", "min", "sum", "abs", "concat"] {
            assert!(!is_scalar_function(f));
        }
        assert_eq!(err("abs", vec![v("1")]), "Function not supported: abs");
        assert_eq!(err("sum", vec![v("1")]), "Function not supported: sum");
        assert_eq!(
            err("upper", vec![]),
            "Function UPPER expects 1 argument, got 0"
        );
        assert_eq!(
            err("substring", vec![s("a")]),
            "Function SUBSTRING expects 2 to 3 arguments, got 1"
        );
        assert!(err("coalesce", vec![]).contains("at least 1 argument"));
        assert!(err("utcnow", vec![v("1")]).contains("0 arguments"));
    }

    // ----- conditional ----------------------------------------------------------------------

    #[test]
    fn coalesce_exists_nullif() {
        same(
            &ok("coalesce", vec![Value::Missing, v("null"), v("2"), v("3")]),
            "2",
        );
        same(&ok("coalesce", vec![v("null.int"), Value::Missing]), "null");
        same(&ok("coalesce", vec![v("a::1")]), "a::1");

        same(&ok("exists", vec![Value::Bag(vec![v("1")])]), "true");
        same(&ok("exists", vec![Value::Bag(vec![])]), "false");
        same(&ok("exists", vec![v("[1]")]), "true");
        same(&ok("exists", vec![v("()")]), "false");
        same(&ok("exists", vec![v("{}")]), "false");
        same(&ok("exists", vec![v("null")]), "null");
        assert!(err("exists", vec![v("1")]).contains("collection"));

        same(&ok("nullif", vec![v("1"), v("1.0")]), "null");
        same(&ok("nullif", vec![v("1"), v("2")]), "1");
        same(&ok("nullif", vec![v("1"), v("null")]), "1");
        same(&ok("nullif", vec![v("null.int"), v("1")]), "null.int");
        same(&ok("nullif", vec![Value::Missing, v("1")]), "null");
        same(&ok("nullif", vec![s("a"), sym("a")]), "null");
    }

    // ----- date_add -------------------------------------------------------------------------

    fn add(part: &str, n: i64, ts: &str) -> Value<'static> {
        ok("date_add", vec![sym(part), v(&n.to_string()), v(ts)])
    }

    #[test]
    fn date_add_documented_examples() {
        same(&add("year", 5, "2010-01-01T"), "2015-01-01T");
        same(&add("month", 1, "2010T"), "2010-02T");
        same(&add("month", 13, "2010T"), "2011-02T");
        same(&add("day", -1, "2017-01-10T"), "2017-01-09T");
        same(&add("hour", 1, "2017T"), "2017-01-01T01:00Z");
        same(&add("hour", 1, "2017-01-02T03:04Z"), "2017-01-02T04:04Z");
        same(
            &add("minute", 1, "2017-01-02T03:04:05.006Z"),
            "2017-01-02T03:05:05.006Z",
        );
        same(
            &add("second", 1, "2017-01-02T03:04:05.006Z"),
            "2017-01-02T03:04:06.006Z",
        );
    }

    #[test]
    fn date_add_precision_offsets_and_calendar() {
        same(&add("year", 1, "2010T"), "2011T");
        same(&add("day", 1, "2010T"), "2010-01-02T");
        same(&add("day", 1, "2010-03T"), "2010-03-02T");
        same(&add("second", 1, "2010T"), "2010-01-01T00:00:01Z");
        same(
            &add("second", 30, "2010-01-01T00:00Z"),
            "2010-01-01T00:00:30Z",
        );
        // Offsets and precision are kept; arithmetic is on local time.
        same(
            &add("hour", 5, "2016-12-20T22:23:43.000000-08:00"),
            "2016-12-21T03:23:43.000000-08:00",
        );
        same(
            &add("minute", -1, "2016-12-20T05:23:43.123456789012-00:00"),
            "2016-12-20T05:22:43.123456789012-00:00",
        );
        same(
            &add("hour", 1, "2016-12-20T05:23-00:00"),
            "2016-12-20T06:23-00:00",
        );
        // Month ends clamp; leap years.
        same(&add("month", 1, "2011-01-31T"), "2011-02-28T");
        same(&add("month", 1, "2012-01-31T"), "2012-02-29T");
        same(&add("year", 1, "2012-02-29T"), "2013-02-28T");
        same(&add("year", 4, "2012-02-29T"), "2016-02-29T");
        same(&add("month", -1, "2010-01T"), "2009-12T");
        same(&add("month", -25, "2010-03-31T12:00Z"), "2008-02-29T12:00Z");
        same(&add("day", 366, "2012-01-01T"), "2013-01-01T");
        same(
            &add("second", -1, "2000-01-01T00:00:00Z"),
            "1999-12-31T23:59:59Z",
        );
        same(&add("day", 0, "annot::2000-01-01T"), "2000-01-01T");
        // Propagation and errors.
        same(
            &ok("date_add", vec![sym("day"), v("null"), v("2000T")]),
            "null",
        );
        same(
            &ok("date_add", vec![sym("day"), v("1"), Value::Missing]),
            "null",
        );
        assert!(
            err("date_add", vec![sym("week"), v("1"), v("2000T")]).contains("invalid date part")
        );
        assert!(err("date_add", vec![sym("day"), v("1.5"), v("2000T")]).contains("int"));
        assert!(err("date_add", vec![sym("day"), v("1"), s("2000T")]).contains("timestamp"));
        assert!(err("date_add", vec![sym("year"), v("8000"), v("2000T")]).contains("out of range"));
        assert!(err(
            "date_add",
            vec![sym("second"), v("9223372036854775807"), v("2000T")]
        )
        .contains("out of range"));
        assert!(
            err("date_add", vec![sym("timezone_hour"), v("1"), v("2000T")]).contains("date part")
        );
        // The part may also be a string, any case.
        same(
            &ok("date_add", vec![s("MONTH"), v("2"), v("2010T")]),
            "2010-03T",
        );
    }

    // ----- date_diff ------------------------------------------------------------------------

    fn diff(part: &str, a: &str, b: &str) -> Value<'static> {
        ok("date_diff", vec![sym(part), v(a), v(b)])
    }

    #[test]
    fn date_diff_documented_examples() {
        same(&diff("year", "2010-01-01T", "2011-01-01T"), "1");
        same(&diff("year", "2010-12T", "2011-01T"), "0");
        same(&diff("month", "2010T", "2010-05T"), "4");
        same(&diff("month", "2010T", "2011T"), "12");
        same(&diff("month", "2011T", "2010T"), "-12");
        same(&diff("month", "2010-12-31T", "2011-01-01T"), "0");
        same(&diff("day", "2010-01-01T23:00Z", "2010-01-02T01:00Z"), "0");
    }

    #[test]
    fn date_diff_units() {
        same(&diff("day", "2010-01-01T", "2010-03-01T"), "59");
        same(&diff("day", "2010-03-01T", "2010-01-01T"), "-59");
        same(
            &diff("hour", "2010-01-01T00:00Z", "2010-01-01T05:30+01:00"),
            "4",
        );
        same(
            &diff("minute", "2010-01-01T00:00Z", "2010-01-01T00:00:59.999Z"),
            "0",
        );
        same(
            &diff(
                "second",
                "2010-01-01T00:00:00.5Z",
                "2010-01-01T00:00:02.25Z",
            ),
            "1",
        );
        same(
            &diff(
                "second",
                "2010-01-01T00:00:02.25Z",
                "2010-01-01T00:00:00.5Z",
            ),
            "-1",
        );
        same(&diff("month", "2010-01-31T", "2010-02-28T"), "0");
        same(&diff("month", "2010-01-15T", "2010-02-15T"), "1");
        same(&diff("month", "2010-02-15T", "2010-01-15T"), "-1");
        same(&diff("month", "2010-02-15T", "2010-01-16T"), "0");
        same(&diff("year", "2000-02-29T", "2004-02-28T"), "3");
        same(&diff("year", "2000-02-29T", "2004-02-29T"), "4");
        same(&diff("year", "2011T", "2000T"), "-11");
        same(
            &ok(
                "date_diff",
                vec![sym("day"), v("null.timestamp"), v("2000T")],
            ),
            "null",
        );
        assert!(err("date_diff", vec![sym("day"), v("1"), v("2000T")]).contains("timestamp"));
    }

    // ----- extract --------------------------------------------------------------------------

    #[test]
    fn extract_parts() {
        let x = |part: &str, ts: &str| ok("extract", vec![sym(part), v(ts)]);
        same(&x("year", "2010-01-01T"), "2010");
        same(&x("month", "2010T"), "1");
        same(&x("month", "2010-10T"), "10");
        same(&x("day", "2010-10-09T"), "9");
        same(&x("hour", "2017-01-02T03:04:05+07:08"), "3");
        same(&x("minute", "2017-01-02T03:04:05+07:08"), "4");
        same(&x("second", "2017-01-02T03:04:05.999+07:08"), "5");
        same(&x("timezone_hour", "2017-01-02T03:04:05+07:08"), "7");
        same(&x("timezone_minute", "2017-01-02T03:04:05+07:08"), "8");
        same(&x("timezone_hour", "2017-01-02T03:04:05-05:30"), "-5");
        same(&x("timezone_minute", "2017-01-02T03:04:05-05:30"), "-30");
        same(&x("timezone_hour", "2017-01-02T03:04:05-00:00"), "0");
        same(&x("hour", "2017-01-02T"), "0");
        same(&ok("extract", vec![sym("year"), Value::Missing]), "null");
        assert!(err("extract", vec![sym("year"), s("2010")]).contains("timestamp"));
        assert!(err("extract", vec![sym("fortnight"), v("2010T")]).contains("date part"));
    }

    // ----- to_string / to_timestamp ---------------------------------------------------------

    fn fmt(ts: &str, pattern: &str) -> String {
        let r = ok("to_string", vec![v(ts), s(pattern)]);
        r.element().unwrap().as_string().unwrap().to_string()
    }

    #[test]
    fn to_string_documented_examples() {
        let t = "1969-07-20T20:18Z";
        assert_eq!(fmt(t, "MMMM d, y"), "July 20, 1969");
        assert_eq!(fmt(t, "MMM d, yyyy"), "Jul 20, 1969");
        assert_eq!(fmt(t, "M-d-yy"), "7-20-69");
        assert_eq!(fmt(t, "MM-d-y"), "07-20-1969");
        assert_eq!(fmt(t, "MMMM d, y h:m a"), "July 20, 1969 8:18 PM");
        assert_eq!(fmt(t, "y-MM-dd'T'H:m:ssX"), "1969-07-20T20:18:00Z");
        let t8 = "1969-07-20T20:18+08:00";
        assert_eq!(fmt(t8, "y-MM-dd'T'H:m:ssXXXX"), "1969-07-20T20:18:00+0800");
        assert_eq!(
            fmt(t8, "y-MM-dd'T'H:m:ssXXXXX"),
            "1969-07-20T20:18:00+08:00"
        );
    }

    #[test]
    fn to_string_symbols() {
        let t = "2007-02-03T04:05:06.789012-08:30";
        assert_eq!(fmt(t, "yyyy/MM/dd HH:mm:ss.SSS"), "2007/02/03 04:05:06.789");
        assert_eq!(fmt(t, "S|SS|SSSSSS|SSSSSSSSS"), "7|78|789012|789012000");
        assert_eq!(fmt(t, "h hh a"), "4 04 AM");
        assert_eq!(fmt("2007-02-03T00:05Z", "h a"), "12 AM");
        assert_eq!(fmt("2007-02-03T12:05Z", "hh a"), "12 PM");
        assert_eq!(
            fmt(t, "X|XX|XXX|x|xx|xxx"),
            "-0830|-0830|-08:30|-0830|-0830|-08:30"
        );
        assert_eq!(fmt("2007-02-03T04:05-05:00", "X x"), "-05 -05");
        assert_eq!(
            fmt("2007-02-03T04:05Z", "X XX XXX x xx xxx"),
            "Z Z Z +00 +0000 +00:00"
        );
        assert_eq!(fmt("2007-02-03T04:05-00:00", "XXX"), "Z");
        assert_eq!(fmt(t, "'at' H 'o''clock', d/M ''"), "at 4 o'clock, 3/2 '");
        assert_eq!(fmt("0099T", "y yy yyyy"), "99 99 0099");
        assert_eq!(fmt("2010T", "yyyy-MM-dd HH:mm:ss"), "2010-01-01 00:00:00");
        assert_eq!(fmt(t, "日付 yyyy"), "日付 2007");
        assert!(err("to_string", vec![v(t), s("yyyy-qq")]).contains("unknown pattern symbol 'q'"));
        assert!(err("to_string", vec![v(t), s("'open")]).contains("unterminated"));
        assert!(err("to_string", vec![v(t), s("MMMMM")]).contains("too many"));
        assert!(err("to_string", vec![s("2007T"), s("y")]).contains("timestamp"));
        same(&ok("to_string", vec![v("null"), s("y")]), "null");
        same(&ok("to_string", vec![v(t), Value::Missing]), "null");
    }

    fn parse(text: &str, pattern: Option<&str>) -> Value<'static> {
        let mut args = vec![s(text)];
        if let Some(p) = pattern {
            args.push(s(p));
        }
        ok("to_timestamp", args)
    }

    #[test]
    fn to_timestamp_documented_examples() {
        same(&parse("2007T", None), "2007T");
        same(
            &parse("2007-02-23T12:14:33.079-08:00", None),
            "2007-02-23T12:14:33.079-08:00",
        );
        same(&parse("2016", Some("y")), "2016T");
        same(&parse("2016", Some("yyyy")), "2016T");
        same(&parse("02-2016", Some("MM-yyyy")), "2016-02T");
        same(&parse("Feb 2016", Some("MMM yyyy")), "2016-02T");
        same(&parse("February 2016", Some("MMMM yyyy")), "2016-02T");
    }

    #[test]
    fn to_timestamp_patterns() {
        same(
            &parse("2016-12-20T05:23:43.000000-00:00", None),
            "2016-12-20T05:23:43.000000-00:00",
        );
        same(&parse("2007-02-23", None), "2007-02-23T");
        same(&parse("7-4-70", Some("M-d-yy")), "1970-07-04T");
        same(&parse("7-4-69", Some("M-d-yy")), "2069-07-04T");
        same(
            &parse("12/31/1999 11:59 pm", Some("MM/dd/yyyy hh:mm a")),
            "1999-12-31T23:59-00:00",
        );
        same(
            &parse("12/31/1999 12:01 AM", Some("MM/dd/yyyy h:mm a")),
            "1999-12-31T00:01-00:00",
        );
        same(
            &parse("1969-07-20T20:18:00Z", Some("y-MM-dd'T'H:m:ssX")),
            "1969-07-20T20:18:00Z",
        );
        same(
            &parse(
                "1969-07-20 20:18:05.123+08:00",
                Some("yyyy-MM-dd HH:mm:ss.SSSXXX"),
            ),
            "1969-07-20T20:18:05.123+08:00",
        );
        same(
            &parse("1969-07-20 20:18 -0530", Some("yyyy-MM-dd HH:mm xx")),
            "1969-07-20T20:18-05:30",
        );
        same(
            &parse("1969-07-20 20", Some("yyyy-MM-dd H")),
            "1969-07-20T20:00-00:00",
        );
        same(&parse("january 5 2020", Some("MMMM d y")), "2020-01-05T");
        same(&parse("2020 5", Some("y d")), "2020-01-05T");
        for (text, pattern) in [
            ("2016", Some("MM-yyyy")),
            ("16", Some("yyyy")),
            ("2016x", Some("yyyy")),
            ("2016-02-30", Some("yyyy-MM-dd")),
            ("2016-13", Some("yyyy-MM")),
            ("2016-1", Some("yyyy-MM")),
            ("13 pm 2016", Some("h a y")),
            ("25:00 2016", Some("H:mm y")),
            ("Febr 2016", Some("MMM yyyy")),
            ("12", Some("MM")),
            ("not a timestamp", None),
            ("2016-02-30T", None),
            ("2016T 2017T", None),
            ("a::2016T", None),
            ("null.timestamp", None),
        ] {
            let mut args = vec![s(text)];
            if let Some(p) = pattern {
                args.push(s(p));
            }
            assert!(call("to_timestamp", args).is_err(), "{text} / {pattern:?}");
        }
        same(&ok("to_timestamp", vec![v("null.string")]), "null");
        assert!(err("to_timestamp", vec![v("2016")]).contains("string"));
    }

    #[test]
    fn to_string_to_timestamp_round_trip() {
        let pattern = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX";
        for t in [
            "2016-12-20T05:23:43.000001+05:45",
            "1999-01-01T00:00:00.000000Z",
        ] {
            let text = fmt(t, pattern);
            same(&parse(&text, Some(pattern)), t);
        }
    }

    #[test]
    fn utcnow_and_txid() {
        same(&ok("utcnow", vec![]), "2024-05-06T07:08:09.123Z");
        same(&ok("txid", vec![]), "\"8ABCdefGHIjklMNOpqrST1\"");
    }

    // ----- strings --------------------------------------------------------------------------

    #[test]
    fn string_functions() {
        same(&ok("char_length", vec![s("héllo😀")]), "6");
        same(&ok("character_length", vec![sym("abc")]), "3");
        same(&ok("char_length", vec![s("")]), "0");
        same(&ok("char_length", vec![Value::Missing]), "null");
        assert!(err("char_length", vec![v("1")]).contains("string"));

        same(&ok("lower", vec![s("ÀbC")]), "\"àbc\"");
        same(&ok("upper", vec![sym("straße")]), "\"STRASSE\"");
        same(&ok("upper", vec![v("null.symbol")]), "null");
        assert!(err("lower", vec![v("[1]")]).contains("got list"));
    }

    #[test]
    fn substring_semantics() {
        let sub = |args: Vec<Value<'static>>| ok("substring", args);
        same(&sub(vec![s("123456789"), v("0")]), "\"123456789\"");
        same(&sub(vec![s("123456789"), v("1")]), "\"123456789\"");
        same(&sub(vec![s("123456789"), v("2")]), "\"23456789\"");
        same(&sub(vec![s("123456789"), v("-4")]), "\"123456789\"");
        same(&sub(vec![s("123456789"), v("20")]), "\"\"");
        same(
            &sub(vec![s("123456789"), v("0"), v("999")]),
            "\"123456789\"",
        );
        same(&sub(vec![s("123456789"), v("0"), v("2")]), "\"1\"");
        same(&sub(vec![s("123456789"), v("1"), v("2")]), "\"12\"");
        same(&sub(vec![s("123456789"), v("-4"), v("2")]), "\"\"");
        same(&sub(vec![s("123456789"), v("-4"), v("7")]), "\"12\"");
        same(&sub(vec![s("123456789"), v("3"), v("0")]), "\"\"");
        same(&sub(vec![s("日本語テキスト"), v("3"), v("2")]), "\"語テ\"");
        same(
            &sub(vec![s("abc"), v("99999999999999999999999"), v("1")]),
            "\"\"",
        );
        same(
            &sub(vec![
                s("abc"),
                v("-99999999999999999999999"),
                v("99999999999999999999999"),
            ]),
            "\"\"",
        );
        same(
            &sub(vec![
                s("abc"),
                v("-9"),
                v("99999999999999999999999999999999999999999"),
            ]),
            "\"abc\"",
        );
        same(&sub(vec![s("abc"), v("null")]), "null");
        same(&sub(vec![Value::Missing, v("1"), v("1")]), "null");
        assert!(err("substring", vec![s("abc"), v("1"), v("-1")]).contains("negative"));
        assert!(err("substring", vec![s("abc"), v("1.0")]).contains("int"));
    }

    #[test]
    fn trim_semantics() {
        let t =
            |spec: &str, chars: Value<'static>, x: &str| ok("trim", vec![sym(spec), chars, s(x)]);
        same(&t("both", Value::Missing, "  a b  "), "\"a b\"");
        same(&t("leading", Value::Missing, "  a b  "), "\"a b  \"");
        same(&t("trailing", Value::Missing, "  a b  "), "\"  a b\"");
        same(&t("both", Value::Missing, "\ta\t"), "\"\ta\t\"");
        same(&t("both", s("xy"), "xyxaxyy"), "\"a\"");
        same(&t("leading", s("xy"), "xyxaxyy"), "\"axyy\"");
        same(&t("trailing", s("✂"), "✂a✂✂"), "\"✂a\"");
        same(&t("both", s(""), " a "), "\" a \"");
        same(&ok("trim", vec![s("  x  ")]), "\"x\"");
        same(&t("both", v("null"), "a"), "null");
        same(
            &ok("trim", vec![sym("both"), Value::Missing, Value::Missing]),
            "null",
        );
        assert!(err("trim", vec![sym("middle"), Value::Missing, s("a")]).contains("BOTH"));
        assert!(err("trim", vec![sym("both"), Value::Missing, v("1")]).contains("string"));
        assert!(err("trim", vec![s("a"), s("b")]).contains("1 or 3"));
    }

    #[test]
    fn size_semantics() {
        same(&ok("size", vec![v("[1, 2, 3]")]), "3");
        same(&ok("size", vec![v("(1 2)")]), "2");
        same(&ok("size", vec![v("{a: 1, b: 2, a: 3}")]), "3");
        same(&ok("size", vec![v("[]")]), "0");
        same(
            &ok("size", vec![Value::Bag(vec![v("1"), Value::Missing])]),
            "2",
        );
        same(&ok("size", vec![v("null.list")]), "null");
        same(&ok("size", vec![Value::Missing]), "null");
        for x in ["1", "\"abc\"", "2000T", "{{YQ==}}", "true"] {
            let e = err("size", vec![v(x)]);
            assert!(e.contains("container"), "{x}: {e}");
        }
    }

    // ----- cast -----------------------------------------------------------------------------

    fn c(x: Value<'static>, t: &str) -> Value<'static> {
        cast(&x, t).unwrap_or_else(|e| panic!("CAST({x:?} AS {t}): {e}"))
    }

    fn cast_err(x: Value<'static>, t: &str) -> String {
        match cast(&x, t) {
            Ok(r) => panic!("CAST({x:?} AS {t}) should fail, got {r:?}"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn cast_unknowns() {
        same(&c(v("null"), "null"), "null");
        same(&c(Value::Missing, "null"), "null");
        same(&c(Value::Missing, "missing"), "MISSING");
        same(&c(v("null"), "missing"), "MISSING");
        same(&c(v("null"), "boolean"), "null");
        same(&c(v("null.int"), "string"), "null");
        same(&c(Value::Missing, "boolean"), "MISSING");
        for t in ["null", "missing"] {
            cast_err(v("true"), t);
            cast_err(v("1"), t);
        }
        assert_eq!(
            cast_err(v("1"), "widget"),
            "Unsupported CAST target type: widget"
        );
    }

    #[test]
    fn cast_documented_examples() {
        same(&c(v("true"), "boolean"), "true");
        same(&c(v("0"), "boolean"), "false");
        same(&c(v("1"), "boolean"), "true");
        same(&c(v("1e0"), "boolean"), "true");
        same(&c(v("1d0"), "boolean"), "true");
        same(&c(s("a"), "boolean"), "false");
        same(&c(s("true"), "boolean"), "true");
        same(&c(sym("true"), "boolean"), "true");
        same(&c(sym("false"), "boolean"), "false");
        same(&c(v("true"), "integer"), "1");
        same(&c(v("false"), "integer"), "0");
        same(&c(v("1"), "integer"), "1");
        same(&c(v("1d0"), "integer"), "1");
        same(&c(v("1d3"), "integer"), "1000");
        same(&c(v("1.00"), "integer"), "1");
        same(&c(v("1.45"), "integer"), "1");
        same(&c(v("1.75"), "integer"), "1");
        same(&c(s("12"), "integer"), "12");
        cast_err(s("aa"), "integer");
        same(&c(sym("22"), "integer"), "22");
    }

    #[test]
    fn cast_numbers() {
        same(&c(v("-1.75"), "int"), "-1");
        same(&c(v("-0.5"), "int"), "0");
        same(&c(v("2.9e0"), "int"), "2");
        same(&c(v("-2.9e0"), "int"), "-2");
        same(&c(v("1e20"), "int"), "100000000000000000000");
        same(
            &c(v("123456789012345678901234567890.9"), "int"),
            "123456789012345678901234567890",
        );
        same(&c(v("1d-50"), "int"), "0");
        same(&c(s(" +7 "), "int"), "7");
        same(&c(s("1.9"), "int"), "1");
        same(&c(s("1_000"), "int"), "1000");
        cast_err(v("nan"), "int");
        cast_err(v("+inf"), "int");
        cast_err(v("1d100000"), "int");
        cast_err(v("2000T"), "int");
        cast_err(s(""), "int");
        cast_err(s("12abc"), "int");
        cast_err(s("a::1"), "int");

        same(&c(v("1"), "decimal"), "1.");
        same(&c(v("1.50"), "decimal"), "1.50");
        same(&c(v("0.2e0"), "decimal"), "0.2");
        same(&c(v("1e0"), "decimal"), "1.");
        same(&c(v("1.5e300"), "decimal"), "15d299");
        same(&c(v("true"), "decimal"), "1.");
        same(&c(s("1.50"), "decimal(5,2)"), "1.50");
        same(&c(s("12"), "numeric"), "12.");
        same(
            &c(v("170141183460469231731687303715884105728"), "decimal"),
            "170141183460469231731687303715884105728.",
        );
        cast_err(v("nan"), "decimal");

        same(&c(v("1"), "float"), "1e0");
        same(&c(v("0.1"), "float"), "0.1e0");
        same(&c(v("false"), "float"), "0e0");
        same(&c(s("2.5"), "double precision"), "2.5e0");
        same(&c(s("nan"), "real"), "nan");
        same(&c(v("-0e0"), "float"), "-0e0");
        same(&c(v("-0e0"), "decimal"), "-0.");
        same(&c(s("-0.00"), "decimal"), "-0.00");
        cast_err(v("[1]"), "float");
    }

    #[test]
    fn cast_text() {
        let text = |x: &str| {
            let r = c(v(x), "string");
            r.element().unwrap().as_string().unwrap().to_string()
        };
        assert_eq!(text("12"), "12");
        assert_eq!(text("-12"), "-12");
        assert_eq!(text("1.50"), "1.50");
        assert_eq!(text("1."), "1");
        assert_eq!(text("-0.0"), "-0.0");
        assert_eq!(text("0.005"), "0.005");
        assert_eq!(text("-12.345"), "-12.345");
        assert_eq!(text("1d3"), "1d3");
        assert_eq!(text("0.2e0"), "0.2");
        assert_eq!(text("1e0"), "1.0");
        assert_eq!(text("1e300"), "1e300");
        assert_eq!(text("nan"), "nan");
        assert_eq!(text("-inf"), "-inf");
        assert_eq!(text("true"), "true");
        assert_eq!(text("sym"), "sym");
        assert_eq!(
            text("2016-12-20T05:23:43.000000-00:00"),
            "2016-12-20T05:23:43.000000-00:00"
        );
        same(&c(s("abc"), "symbol"), "abc");
        same(&c(v("a::abc"), "string"), "\"abc\"");
        same(&c(v("12"), "varchar"), "\"12\"");
        cast_err(v("{{YQ==}}"), "string");
        cast_err(v("[1]"), "string");
        cast_err(v("{a: 1}"), "symbol");
        // Decimal text round-trips exactly through CAST.
        for d in [
            "1.50",
            "0.005",
            "-12.345",
            "1d3",
            "1.",
            "-0.0",
            "123456789012345678901234567890.5",
        ] {
            let back = c(c(v(d), "string"), "decimal");
            same(&back, d);
        }
    }

    #[test]
    fn cast_other_types() {
        same(&c(s("2007-02-23T12:14Z"), "timestamp"), "2007-02-23T12:14Z");
        same(&c(v("a::2007T"), "timestamp"), "2007T");
        cast_err(s("yesterday"), "timestamp");
        cast_err(v("1"), "timestamp");

        same(&c(v("{{ aGVsbG8= }}"), "clob"), "{{ \"hello\" }}");
        same(&c(v("{{ \"hello\" }}"), "blob"), "{{ aGVsbG8= }}");
        cast_err(s("hello"), "blob");

        same(&c(v("(1 2)"), "list"), "[1, 2]");
        same(&c(v("[1, 2]"), "sexp"), "(1 2)");
        same(&c(v("a::[1, 2]"), "list"), "[1, 2]");
        same(&c(v("[1, 2]"), "bag"), "<<1, 2>>");
        same(
            &c(Value::Bag(vec![v("1"), Value::Missing, v("2")]), "list"),
            "[1, 2]",
        );
        same(&c(Value::Bag(vec![v("1")]), "sexp"), "(1)");
        same(&c(Value::Bag(vec![v("1")]), "bag"), "<<1>>");
        cast_err(Value::Bag(vec![]), "struct");
        cast_err(v("{a: 1}"), "list");
        same(&c(v("x::{a: 1}"), "struct"), "{a: 1}");
        same(&c(v("{a: 1}"), "tuple"), "{a: 1}");
        cast_err(v("[1]"), "struct");
        same(&c(v("true"), "bool"), "true");
        cast_err(v("2000T"), "bool");
        cast_err(v("[1]"), "bool");
    }
}
