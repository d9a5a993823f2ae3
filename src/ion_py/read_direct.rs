//! Binary Ion 1.0 results converted as they are parsed: a version marker, local symbol tables,
//! one value. This is the form every result takes, and reading it here, without ion-rs's lazy
//! reader in between, is the fast path of [`super::loads`].
//!
//! Whatever is not plainly valid and common (annotations, a non-UTC offset, more than 9
//! fractional digits, NOP padding, shared symbol tables, integers or decimals beyond 128 bits,
//! errors of any kind) gives `None`, and ion-rs reads the value instead
//! ([`super::read_lazy`]): the results, and the errors, are ion-rs's. With the `IonPy*` model it
//! is used only when the start-up probes found the fast routes for lists, dicts and timestamps.
//!
//! Why a second reader: converting a 10-field document through ion-rs (even its lazy reader,
//! which resolves every symbol and materialises a `Symbol` per field) cost 6.2 µs as plain
//! values and 10.3 µs as `IonPy*` values (release build, criterion `ion_to_python`); this path
//! takes 1.3–1.6 µs and 3.7–4.4 µs (61.5k → 20.9k and 102k → 51k instructions per document,
//! callgrind), which is what brings a 10,000-document scan within the benchmark's aims. Its
//! equivalence to ion-rs is tested on every result shape (`tests/python/test_values.py`:
//! random values through both encoders, symbol tables, depth, malformed input).

use ion_rs::{Int, IonType};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use super::containers::{ionpy_dict, ionpy_list_finish, ionpy_list_start, Store};
use super::field_names::Cx;
use super::scalars::{ionpy_scalar, plain_scalar, Dec, Scalar};
use super::timestamps::{Fraction, Ts};
use super::{ValueModel, MAX_DEPTH};

/// The version marker that opens a binary Ion 1.0 stream.
const IVM: [u8; 4] = [0xE0, 0x01, 0x00, 0xEA];

/// The system symbols of Ion 1.0 (`$1` to `$9`).
const SYSTEM_SYMBOLS: [&str; 9] = [
    "$ion",
    "$ion_1_0",
    "$ion_symbol_table",
    "name",
    "version",
    "imports",
    "symbols",
    "max_id",
    "$ion_shared_symbol_table",
];
const SID_ION_SYMBOL_TABLE: usize = 3;
const SID_IMPORTS: usize = 6;
const SID_SYMBOLS: usize = 7;

/// Not converted here: read with ion-rs instead.
#[derive(Debug)]
struct Skip;

type Result<T> = std::result::Result<T, Skip>;

impl From<PyErr> for Skip {
    fn from(_: PyErr) -> Self {
        Skip
    }
}

pub(super) fn loads<'py>(
    cx: &mut Cx<'py>,
    data: &[u8],
    model: ValueModel,
) -> Option<Bound<'py, PyAny>> {
    if !data.starts_with(&IVM) {
        return None;
    }
    let f = &cx.c.fast;
    if model == ValueModel::IonPy && (f.list.is_none() || f.dict.is_none() || f.timestamp.is_none())
    {
        return None;
    }
    let mut r = Bin { data, pos: 0 };
    let mut symbols: Vec<&str> = Vec::new();
    let mut value = None;
    while r.pos < data.len() {
        if data[r.pos..].starts_with(&IVM) {
            r.pos += IVM.len();
            symbols.clear();
            continue;
        }
        if data[r.pos] >> 4 == 0xE {
            // Only a local symbol table (`$ion_symbol_table::{…}`), before the value.
            if value.is_some() {
                return None;
            }
            local_symbols(&mut r, &mut symbols).ok()?;
            continue;
        }
        if value.is_some() {
            return None;
        }
        let mut p = Parser {
            cx: &mut *cx,
            data,
            symbols: &symbols,
            model,
        };
        value = Some(p.value(&mut r, data.len(), 0).ok()?);
    }
    value
}

/// A position in the input.
struct Bin<'a> {
    data: &'a [u8],
    pos: usize,
}

/// One value's type descriptor: its type code, and its body as `start..end` (`None` for a
/// typed null).
struct Header {
    code: u8,
    low: u8,
    body: Option<(usize, usize)>,
}

impl<'a> Bin<'a> {
    fn byte(&mut self, end: usize) -> Result<u8> {
        if self.pos >= end {
            return Err(Skip);
        }
        let b = self.data[self.pos];
        self.pos += 1;
        Ok(b)
    }

    fn var_uint(&mut self, end: usize) -> Result<usize> {
        let mut v: usize = 0;
        for _ in 0..8 {
            let b = self.byte(end)?;
            v = (v << 7) | usize::from(b & 0x7F);
            if b & 0x80 != 0 {
                return Ok(v);
            }
        }
        Err(Skip)
    }

    /// A VarInt: its value, and whether it is negative zero.
    fn var_int(&mut self, end: usize) -> Result<(i64, bool)> {
        let first = self.byte(end)?;
        let negative = first & 0x40 != 0;
        let mut v = i64::from(first & 0x3F);
        let mut last = first & 0x80 != 0;
        let mut n = 1;
        while !last {
            if n == 8 {
                return Err(Skip);
            }
            let b = self.byte(end)?;
            v = (v << 7) | i64::from(b & 0x7F);
            last = b & 0x80 != 0;
            n += 1;
        }
        Ok(if negative { (-v, v == 0) } else { (v, false) })
    }

    /// The type descriptor (and length) of the value at the position, which ends by `end`.
    fn header(&mut self, end: usize) -> Result<Header> {
        let td = self.byte(end)?;
        let (code, low) = (td >> 4, td & 0x0F);
        if low == 0x0F {
            return Ok(Header {
                code,
                low,
                body: None,
            });
        }
        let len = match (code, low) {
            // Booleans keep their value in the low nibble.
            (0x1, _) => 0,
            // Sorted structs (a VarUInt length follows) and the reserved type are not
            // handled here (nor are NOP padding and annotation wrappers, refused by the
            // callers).
            (0xD, 0x1) | (0xF, _) => return Err(Skip),
            (_, 0x0E) => self.var_uint(end)?,
            _ => usize::from(low),
        };
        let start = self.pos;
        let stop = start.checked_add(len).filter(|e| *e <= end).ok_or(Skip)?;
        self.pos = stop;
        Ok(Header {
            code,
            low,
            body: Some((start, stop)),
        })
    }
}

/// A big-endian unsigned integer of up to 16 bytes.
fn uint(bytes: &[u8]) -> Result<u128> {
    if bytes.len() > 16 {
        return Err(Skip);
    }
    Ok(bytes.iter().fold(0u128, |v, b| (v << 8) | u128::from(*b)))
}

/// A sign-and-magnitude integer (`Int` field): negative?, magnitude.
fn int(bytes: &[u8]) -> Result<(bool, u128)> {
    match bytes.split_first() {
        None => Ok((false, 0)),
        Some((first, rest)) => {
            if rest.len() > 15 {
                return Err(Skip);
            }
            let magnitude = rest
                .iter()
                .fold(u128::from(first & 0x7F), |v, b| (v << 8) | u128::from(*b));
            Ok((first & 0x80 != 0, magnitude))
        }
    }
}

/// Checked UTF-8 (quickly for ASCII, the usual field names).
fn utf8(bytes: &[u8]) -> Result<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).map_err(|_| Skip)
}

/// A local symbol table struct (after its annotation wrapper): its symbols replace the
/// local ones, or are appended to them with `imports: $ion_symbol_table`.
fn local_symbols<'a>(r: &mut Bin<'a>, symbols: &mut Vec<&'a str>) -> Result<()> {
    let end = r.data.len();
    let wrapper = r.header(end)?;
    let (start, stop) = wrapper.body.ok_or(Skip)?;
    let mut w = Bin {
        data: r.data,
        pos: start,
    };
    let ann_len = w.var_uint(stop)?;
    let ann_end = w
        .pos
        .checked_add(ann_len)
        .filter(|e| *e <= stop)
        .ok_or(Skip)?;
    if w.var_uint(ann_end)? != SID_ION_SYMBOL_TABLE || w.pos != ann_end {
        return Err(Skip);
    }
    let table = w.header(stop)?;
    let (Some((mut pos, table_end)), 0xD) = (table.body, table.code) else {
        return Err(Skip);
    };
    if w.pos != stop {
        return Err(Skip);
    }
    let mut append = false;
    let mut list = None;
    let (mut seen_imports, mut seen_symbols) = (false, false);
    while pos < table_end {
        let mut f = Bin { data: r.data, pos };
        let sid = f.var_uint(table_end)?;
        let value = f.header(table_end)?;
        pos = f.pos;
        match sid {
            SID_IMPORTS => {
                if std::mem::replace(&mut seen_imports, true) {
                    return Err(Skip);
                }
                // Only `imports: $ion_symbol_table` (append).
                let (0x7, Some((s, e))) = (value.code, value.body) else {
                    return Err(Skip);
                };
                if uint(&r.data[s..e])? != SID_ION_SYMBOL_TABLE as u128 {
                    return Err(Skip);
                }
                append = true;
            }
            SID_SYMBOLS => {
                if std::mem::replace(&mut seen_symbols, true) {
                    return Err(Skip);
                }
                let (0xB, Some(body)) = (value.code, value.body) else {
                    return Err(Skip);
                };
                list = Some(body);
            }
            // ion-rs matches the names by text: a local symbol could spell them.
            0..=9 => {}
            _ => match symbols.get(sid - 10) {
                Some(&("imports" | "symbols")) | None => return Err(Skip),
                // Other fields (`max_id`, open content) are ignored, as ion-rs does.
                Some(_) => {}
            },
        }
    }
    if !append {
        symbols.clear();
    }
    if let Some((mut pos, list_end)) = list {
        while pos < list_end {
            let mut s = Bin { data: r.data, pos };
            let text = s.header(list_end)?;
            pos = s.pos;
            let (0x8, Some((a, b))) = (text.code, text.body) else {
                return Err(Skip);
            };
            symbols.push(utf8(&r.data[a..b])?);
        }
    }
    Ok(())
}

struct Parser<'c, 'py, 's, 'a> {
    cx: &'c mut Cx<'py>,
    data: &'a [u8],
    symbols: &'s [&'a str],
    model: ValueModel,
}

impl<'py, 'a> Parser<'_, 'py, '_, 'a> {
    /// The text of a symbol ID (`None` for `$0`).
    fn symbol(&self, sid: u128) -> Result<Option<&'a str>> {
        let sid = usize::try_from(sid).map_err(|_| Skip)?;
        match sid {
            0 => Ok(None),
            1..=9 => Ok(Some(SYSTEM_SYMBOLS[sid - 1])),
            _ => self.symbols.get(sid - 10).map(|s| Some(*s)).ok_or(Skip),
        }
    }

    fn value(&mut self, r: &mut Bin<'a>, end: usize, depth: usize) -> Result<Bound<'py, PyAny>> {
        if depth > MAX_DEPTH {
            return Err(Skip);
        }
        let h = r.header(end)?;
        let data = r.data;
        let Some((start, stop)) = h.body else {
            let t = match h.code {
                0x0 => IonType::Null,
                0x1 => IonType::Bool,
                0x2 | 0x3 => IonType::Int,
                0x4 => IonType::Float,
                0x5 => IonType::Decimal,
                0x6 => IonType::Timestamp,
                0x7 => IonType::Symbol,
                0x8 => IonType::String,
                0x9 => IonType::Clob,
                0xA => IonType::Blob,
                0xB => IonType::List,
                0xC => IonType::SExp,
                0xD => IonType::Struct,
                _ => return Err(Skip),
            };
            return self.scalar(Scalar::Null(t));
        };
        match h.code {
            0xB => self.sequence(data, start, stop, IonType::List, depth),
            0xC => self.sequence(data, start, stop, IonType::SExp, depth),
            0xD => self.structure(data, start, stop, depth),
            _ => {
                let scalar = self.parse_scalar(&h, start, stop)?;
                self.scalar(scalar)
            }
        }
    }

    /// A scalar's body (out of line: the recursion through containers keeps small frames).
    #[inline(never)]
    fn parse_scalar(&self, h: &Header, start: usize, stop: usize) -> Result<Scalar<'a>> {
        let data = self.data;
        let body = &data[start..stop];
        Ok(match h.code {
            0x1 => match h.low {
                0 => Scalar::Bool(false),
                1 => Scalar::Bool(true),
                _ => return Err(Skip),
            },
            0x2 => {
                let m = uint(body)?;
                match i64::try_from(m) {
                    Ok(v) => Scalar::Int(v),
                    Err(_) => Scalar::BigInt(Int::from(i128::try_from(m).map_err(|_| Skip)?)),
                }
            }
            0x3 => {
                let m = uint(body)?;
                if m == 0 {
                    return Err(Skip);
                }
                match i128::try_from(m) {
                    Ok(v) if v <= 1 << 63 => Scalar::Int((-v) as i64),
                    Ok(v) => Scalar::BigInt(Int::from(-v)),
                    Err(_) => return Err(Skip),
                }
            }
            0x4 => match body.len() {
                0 => Scalar::Float(0.0),
                4 => Scalar::Float(f64::from(f32::from_be_bytes(
                    body.try_into().map_err(|_| Skip)?,
                ))),
                8 => Scalar::Float(f64::from_be_bytes(body.try_into().map_err(|_| Skip)?)),
                _ => return Err(Skip),
            },
            0x5 => {
                if body.is_empty() {
                    Scalar::Decimal(Dec::Small {
                        negative: false,
                        magnitude: 0,
                        exponent: 0,
                    })
                } else {
                    let mut d = Bin { data, pos: start };
                    let (exponent, negative_zero) = d.var_int(stop)?;
                    if negative_zero {
                        return Err(Skip);
                    }
                    let (negative, magnitude) = int(&data[d.pos..stop])?;
                    Scalar::Decimal(Dec::Small {
                        negative,
                        magnitude,
                        exponent,
                    })
                }
            }
            0x6 => Scalar::Timestamp(timestamp(data, start, stop)?),
            0x7 => Scalar::Symbol(self.symbol(uint(body)?)?),
            0x8 => Scalar::String(body),
            0x9 => Scalar::Clob(body),
            0xA => Scalar::Blob(body),
            _ => return Err(Skip),
        })
    }

    #[inline(never)]
    fn scalar(&mut self, scalar: Scalar<'_>) -> Result<Bound<'py, PyAny>> {
        let (py, c) = (self.cx.py, self.cx.c);
        Ok(match self.model {
            ValueModel::IonPy => ionpy_scalar(py, c, scalar, None)?,
            ValueModel::Plain => plain_scalar(py, c, scalar)?,
        })
    }

    fn sequence(
        &mut self,
        data: &'a [u8],
        start: usize,
        stop: usize,
        t: IonType,
        depth: usize,
    ) -> Result<Bound<'py, PyAny>> {
        let (py, c) = (self.cx.py, self.cx.c);
        let mut r = Bin { data, pos: start };
        match self.model {
            ValueModel::IonPy => {
                let new = c.fast.list.as_ref().ok_or(Skip)?;
                let v = ionpy_list_start(py, c, new)?;
                {
                    let items = v.cast::<PyList>().map_err(|_| Skip)?;
                    while r.pos < stop {
                        items.append(self.value(&mut r, stop, depth + 1)?)?;
                    }
                }
                Ok(ionpy_list_finish(py, c, v, t, None)?)
            }
            ValueModel::Plain => {
                let items = PyList::empty(py);
                while r.pos < stop {
                    items.append(self.value(&mut r, stop, depth + 1)?)?;
                }
                Ok(items.into_any())
            }
        }
    }

    fn structure(
        &mut self,
        data: &'a [u8],
        start: usize,
        stop: usize,
        depth: usize,
    ) -> Result<Bound<'py, PyAny>> {
        let (py, c) = (self.cx.py, self.cx.c);
        let mut r = Bin { data, pos: start };
        match self.model {
            ValueModel::IonPy => {
                let mut store = Store::new(py);
                while r.pos < stop {
                    let name = self.symbol(r.var_uint(stop)? as u128)?;
                    let key = self.cx.field_name(name);
                    let value = self.value(&mut r, stop, depth + 1)?;
                    store.add(name, key, value)?;
                }
                Ok(ionpy_dict(py, c, store.dict, None)?)
            }
            ValueModel::Plain => {
                let d = PyDict::new(py);
                while r.pos < stop {
                    let name = self.symbol(r.var_uint(stop)? as u128)?;
                    let key = self.cx.field_name(name);
                    d.set_item(key, self.value(&mut r, stop, depth + 1)?)?;
                }
                Ok(d.into_any())
            }
        }
    }
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A timestamp's body: offset, year, then month, day, hour and minute, second, fraction as
/// far as the precision goes. Only UTC (`+00:00`) and unknown (`-00:00`) offsets: the
/// fields are then the local date and time.
fn timestamp(data: &[u8], start: usize, stop: usize) -> Result<Ts> {
    let mut r = Bin { data, pos: start };
    let (offset, unknown) = r.var_int(stop)?;
    let offset = if unknown {
        None
    } else if offset == 0 {
        Some(0)
    } else {
        return Err(Skip);
    };
    let field =
        |r: &mut Bin<'_>| -> Result<u32> { u32::try_from(r.var_uint(stop)?).map_err(|_| Skip) };
    let year = field(&mut r)?;
    let (mut month, mut day, mut hour, mut minute, mut second) = (1, 1, 0, 0, 0);
    let mut precision = 0;
    let mut fraction = Fraction::None;
    let mut micros = 0;
    if r.pos < stop {
        month = field(&mut r)?;
        precision = 1;
    }
    if r.pos < stop {
        day = field(&mut r)?;
        precision = 2;
    }
    if r.pos < stop {
        hour = field(&mut r)?;
        minute = field(&mut r)?;
        precision = 3;
    }
    if r.pos < stop {
        second = field(&mut r)?;
        precision = 4;
    }
    if r.pos < stop {
        let (exponent, negative_zero) = r.var_int(stop)?;
        let (negative, coefficient) = int(&data[r.pos..stop])?;
        if negative || negative_zero || !(-9..=-1).contains(&exponent) {
            return Err(Skip);
        }
        let scale = exponent.unsigned_abs() as usize;
        let coefficient = u32::try_from(coefficient).map_err(|_| Skip)?;
        if u64::from(coefficient) >= 10u64.pow(scale as u32) {
            return Err(Skip);
        }
        micros = if scale <= 6 {
            coefficient * 10u32.pow(6 - scale as u32)
        } else {
            coefficient / 10u32.pow(scale as u32 - 6)
        };
        fraction = Fraction::Digits { coefficient, scale };
    }
    let valid = (1..=9999).contains(&year)
        && (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && hour < 24
        && minute < 60
        && second < 60;
    // Below minute precision the offset is unknown (it has no meaning).
    if !valid || (precision < 3 && offset.is_some()) {
        return Err(Skip);
    }
    Ok(Ts {
        precision,
        fields: (year, month, day, hour, minute, second),
        offset: if precision >= 3 { offset } else { None },
        micros,
        fraction,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ion_rs::{Element, Value};

    /// The timestamp of `text` as ion-rs reads it and as [`timestamp`] parses ion-rs's
    /// binary encoding of it (`None` if skipped).
    fn both(text: &str) -> (Ts, Option<Ts>) {
        let element = Element::read_one(text).unwrap();
        let Value::Timestamp(t) = element.value() else {
            panic!("{text} is no timestamp")
        };
        let binary = element.encode_as(ion_rs::v1_0::Binary).unwrap();
        assert!(binary.starts_with(&IVM));
        let mut r = Bin {
            data: &binary,
            pos: IVM.len(),
        };
        let h = r.header(binary.len()).unwrap();
        let (start, stop) = h.body.unwrap();
        (Ts::from_ion(t), timestamp(&binary, start, stop).ok())
    }

    fn same(a: &Ts, b: &Ts) -> bool {
        let fraction = |t: &Ts| match t.fraction {
            Fraction::None => None,
            Fraction::Digits { coefficient, scale } => Some((coefficient, scale)),
            Fraction::Fine(_) => Some((u32::MAX, 0)),
        };
        (a.precision, a.fields, a.offset, a.micros, fraction(a))
            == (b.precision, b.fields, b.offset, b.micros, fraction(b))
    }

    #[test]
    fn timestamps_parse_as_ion_rs_reads_them() {
        for text in [
            "2024T",
            "2024-02T",
            "2024-02-29",
            "2024-02-29T23:59Z",
            "2024-02-29T23:59-00:00",
            "2024-05-01T12:30:01Z",
            "2024-05-01T12:30:01.000000Z",
            "2024-05-01T12:30:01.5-00:00",
            "2024-05-01T12:30:01.123456789Z",
            "2024-05-01T12:30:01.000001+00:00",
            "0001-01-01T00:00:00.0Z",
            "9999-12-31T23:59:59.999999999Z",
        ] {
            let (expected, parsed) = both(text);
            let parsed = parsed.unwrap_or_else(|| panic!("{text} skipped"));
            assert!(same(&expected, &parsed), "{text}");
        }
        // Left to ion-rs: local offsets, more than nanoseconds.
        for text in [
            "2024-05-01T12:30:01+01:00",
            "2024-05-01T23:30-08:00",
            "2024-05-01T12:30:01.1234567890Z",
        ] {
            assert!(both(text).1.is_none(), "{text}");
        }
    }

    #[test]
    fn numbers() {
        let mut r = Bin {
            data: &[0x0B, 0xAE, 0xC0, 0x81, 0x7F, 0x7F, 0xFF],
            pos: 0,
        };
        assert_eq!(r.var_uint(7).ok(), Some(11 << 7 | 0x2E));
        assert_eq!(r.var_int(7).ok(), Some((0, true)));
        assert_eq!(r.var_int(7).ok(), Some((1, false)));
        assert_eq!(
            r.var_int(7).ok(),
            Some((-(0x3F << 14 | 0x7F << 7 | 0x7F), false))
        );
        assert!(r.var_uint(7).is_err());
        assert_eq!(int(&[]).ok(), Some((false, 0)));
        assert_eq!(int(&[0x80]).ok(), Some((true, 0)));
        assert_eq!(int(&[0x81, 0x00]).ok(), Some((true, 256)));
        assert_eq!(uint(&[0x01, 0x00, 0x01]).ok(), Some(65537));
        assert!(uint(&[1; 17]).is_err());
    }
}
