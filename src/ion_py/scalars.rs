//! Ion scalars as Python values, shared by both read paths: [`Scalar`] (what either reader
//! found), and its `IonPy*` object ([`ionpy_scalar`]) or plain Python value
//! ([`plain_scalar`]); the texts of decimals and symbols, big integers. Timestamps are in
//! [`super::timestamps`].

use ion_rs::decimal::Sign;
use ion_rs::{Decimal, Decoder, Int, IonType, ValueRef};
use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyString, PyTuple};

use super::classes::{type_index, BaseNew, Classes};
use super::timestamps::{
    timestamp_ionpy_fast, timestamp_ionpy_slow, timestamp_ionpy_slow_parts, timestamp_plain,
    Fraction, Ts,
};

/// One scalar value, from either reader.
pub(super) enum Scalar<'a> {
    Null(IonType),
    Bool(bool),
    Int(i64),
    BigInt(Int),
    Float(f64),
    Decimal(Dec),
    Timestamp(Ts),
    Symbol(Option<&'a str>),
    /// UTF-8 (checked as the `str` is made).
    String(&'a [u8]),
    Clob(&'a [u8]),
    Blob(&'a [u8]),
}

impl<'a> Scalar<'a> {
    /// A scalar of ion-rs (`None` for containers).
    pub(super) fn from_ion<D: Decoder>(value: &'a ValueRef<'_, D>) -> Option<Scalar<'a>> {
        Some(match value {
            ValueRef::Null(t) => Scalar::Null(*t),
            ValueRef::Bool(b) => Scalar::Bool(*b),
            ValueRef::Int(i) => match i.as_i64() {
                Some(v) => Scalar::Int(v),
                None => Scalar::BigInt(i.clone()),
            },
            ValueRef::Float(f) => Scalar::Float(*f),
            ValueRef::Decimal(d) => Scalar::Decimal(Dec::from_ion(d)),
            ValueRef::Timestamp(t) => Scalar::Timestamp(Ts::from_ion(t)),
            ValueRef::Symbol(s) => Scalar::Symbol(s.text()),
            ValueRef::String(s) => Scalar::String(s.text().as_bytes()),
            ValueRef::Clob(b) => Scalar::Clob(b.data()),
            ValueRef::Blob(b) => Scalar::Blob(b.data()),
            ValueRef::List(_) | ValueRef::SExp(_) | ValueRef::Struct(_) => return None,
        })
    }
}

/// A decimal: sign, coefficient and exponent, or ion-rs's beyond 128-bit coefficients.
pub(super) enum Dec {
    Small {
        negative: bool,
        magnitude: u128,
        exponent: i64,
    },
    Big(Decimal),
}

impl Dec {
    fn from_ion(d: &Decimal) -> Dec {
        let coefficient = d.coefficient();
        match coefficient.magnitude().as_u128() {
            Some(magnitude) => Dec::Small {
                negative: coefficient.sign() == Sign::Negative,
                magnitude,
                exponent: d.exponent(),
            },
            None => Dec::Big(d.clone()),
        }
    }

    /// `[-]COEFFICIENTEexponent` (see [`decimal_text`]) as a Python `str`.
    fn text<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        match self {
            Dec::Small {
                negative,
                magnitude,
                exponent,
            } => {
                let mut text = ShortText::new();
                if *negative {
                    text.push(b'-');
                }
                text.digits(*magnitude, 1);
                text.push(b'E');
                text.int(*exponent);
                text.py(py)
            }
            Dec::Big(d) => PyString::new(py, &decimal_text(d)),
        }
    }
}

/// The `IonPy*` object of a scalar.
pub(super) fn ionpy_scalar<'py>(
    py: Python<'py>,
    c: &Classes,
    value: Scalar<'_>,
    annotations: Option<Bound<'py, PyTuple>>,
) -> PyResult<Bound<'py, PyAny>> {
    let ion_type = |t: IonType| c.ion_types[type_index(t)].bind(py);
    let set_type = intern!(py, "ion_type");
    let f = &c.fast;
    let obj = match value {
        Scalar::Null(t) => {
            let ann = annotations.unwrap_or_else(|| PyTuple::empty(py));
            return c.null.bind(py).call1((ion_type(t), py.None(), ann));
        }
        Scalar::Bool(b) => {
            let v = match &f.boolean {
                Some(new) => fresh(
                    py,
                    new,
                    &c.boolean,
                    PyBool::new(py, b).to_owned().into_any(),
                )?,
                None => c.boolean.bind(py).call1((b,))?,
            };
            if c.bool_needs_type {
                v.setattr(set_type, ion_type(IonType::Bool))?;
            }
            v
        }
        Scalar::Int(i) => {
            let i = i.into_pyobject(py)?.into_any();
            match &f.int {
                Some(new) => fresh(py, new, &c.int, i)?,
                None => c.int.bind(py).call1((i,))?,
            }
        }
        Scalar::BigInt(i) => {
            let i = big_int_to_py(py, c, &i)?;
            match &f.int {
                Some(new) => fresh(py, new, &c.int, i)?,
                None => c.int.bind(py).call1((i,))?,
            }
        }
        Scalar::Float(x) => match &f.float {
            Some(new) => fresh(py, new, &c.float, PyFloat::new(py, x).into_any())?,
            None => c.float.bind(py).call1((x,))?,
        },
        Scalar::Decimal(d) => match &f.decimal {
            Some(new) => fresh(py, new, &c.decimal, d.text(py).into_any())?,
            None => c.decimal.bind(py).call1((d.text(py),))?,
        },
        Scalar::Timestamp(t) => match (&f.timestamp, &t.fraction) {
            (_, Fraction::Fine(source)) => timestamp_ionpy_slow(py, c, source)?,
            (Some(new), _) => timestamp_ionpy_fast(py, c, new, &t)?,
            (None, _) => timestamp_ionpy_slow_parts(py, c, &t)?,
        },
        Scalar::Symbol(text) => {
            c.symbol
                .bind(py)
                .call1((symbol_text(py, text), symbol_sid(text), py.None()))?
        }
        Scalar::String(s) => match &f.text {
            Some(new) => fresh(py, new, &c.text, utf8_str(py, s)?.into_any())?,
            None => c.text.bind(py).call1((utf8_str(py, s)?,))?,
        },
        Scalar::Clob(b) | Scalar::Blob(b) => {
            let t = if matches!(value, Scalar::Clob(_)) {
                IonType::Clob
            } else {
                IonType::Blob
            };
            let bytes = PyBytes::new(py, b).into_any();
            let v = match &f.bytes {
                Some(new) => fresh(py, new, &c.bytes, bytes)?,
                None => c.bytes.bind(py).call1((bytes,))?,
            };
            v.setattr(set_type, ion_type(t))?;
            v
        }
    };
    if let Some(ann) = annotations {
        obj.setattr(intern!(py, "ion_annotations"), ann)?;
    }
    Ok(obj)
}

/// `base.__new__(cls, arg)` with `ion_annotations = ()`, as the class's constructor makes it.
fn fresh<'py>(
    py: Python<'py>,
    new: &BaseNew,
    cls: &Py<PyAny>,
    arg: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let v = new.make(cls.bind(py), PyTuple::new(py, [arg])?)?;
    v.setattr(intern!(py, "ion_annotations"), PyTuple::empty(py))?;
    Ok(v)
}

/// The plain Python value of a scalar.
pub(super) fn plain_scalar<'py>(
    py: Python<'py>,
    c: &Classes,
    value: Scalar<'_>,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Scalar::Null(_) => py.None().into_bound(py),
        Scalar::Bool(b) => PyBool::new(py, b).to_owned().into_any(),
        Scalar::Int(i) => i.into_pyobject(py)?.into_any(),
        Scalar::BigInt(i) => big_int_to_py(py, c, &i)?,
        Scalar::Float(f) => PyFloat::new(py, f).into_any(),
        Scalar::Decimal(d) => c.std_decimal.bind(py).call1((d.text(py),))?,
        Scalar::Timestamp(t) => timestamp_plain(py, c, &t)?,
        Scalar::Symbol(text) => symbol_text(py, text),
        Scalar::String(s) => utf8_str(py, s)?.into_any(),
        Scalar::Clob(b) | Scalar::Blob(b) => PyBytes::new(py, b).into_any(),
    })
}

/// A `str` of UTF-8 bytes; `UnicodeDecodeError` if they are not.
fn utf8_str<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyString>> {
    let len = ffi::Py_ssize_t::try_from(bytes.len())
        .map_err(|_| PyValueError::new_err("string too long"))?;
    // SAFETY: the pointer and length describe `bytes`, which CPython decodes (and checks) into a
    // new `str`, or fails with an exception set.
    unsafe {
        let s = ffi::PyUnicode_FromStringAndSize(bytes.as_ptr().cast(), len);
        Bound::from_owned_ptr_or_err(py, s).map(|s| s.cast_into_unchecked())
    }
}

pub(super) fn symbol_text<'py>(py: Python<'py>, text: Option<&str>) -> Bound<'py, PyAny> {
    match text {
        Some(t) => PyString::new(py, t).into_any(),
        None => py.None().into_bound(py),
    }
}

/// amazon.ion gives a symbol of unknown text symbol id 0 (`$0`), and no id otherwise.
pub(super) fn symbol_sid(text: Option<&str>) -> Option<u8> {
    text.is_none().then_some(0)
}

/// An `int` beyond 64 bits.
fn big_int_to_py<'py>(py: Python<'py>, c: &Classes, i: &Int) -> PyResult<Bound<'py, PyAny>> {
    if let Some(v) = i.as_i64() {
        return Ok(v.into_pyobject(py)?.into_any());
    }
    let bytes = PyBytes::new(py, &i.to_le_signed_bytes());
    let kwargs = PyDict::new(py);
    kwargs.set_item(intern!(py, "signed"), true)?;
    c.int_type.bind(py).call_method(
        intern!(py, "from_bytes"),
        (bytes, intern!(py, "little")),
        Some(&kwargs),
    )
}

/// `[-]COEFFICIENTEexponent`, which Python's `Decimal()` reads exactly (negative zero included).
fn decimal_text(d: &Decimal) -> String {
    let coefficient = d.coefficient();
    let sign = if coefficient.sign() == Sign::Negative {
        "-"
    } else {
        ""
    };
    format!("{sign}{}E{}", coefficient.magnitude(), d.exponent())
}

/// A short ASCII text built on the stack (the number texts `Decimal()` is given).
pub(super) struct ShortText {
    buf: [u8; 96],
    len: usize,
}

impl ShortText {
    pub(super) fn new() -> Self {
        ShortText {
            buf: [0; 96],
            len: 0,
        }
    }

    pub(super) fn push(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// The decimal digits of `v`, at least `width` of them (zeros in front).
    pub(super) fn digits(&mut self, v: u128, width: usize) {
        let mut tmp = [0u8; 40];
        let mut n = 0;
        match u64::try_from(v) {
            Ok(mut v) => loop {
                tmp[n] = b'0' + (v % 10) as u8;
                v /= 10;
                n += 1;
                if v == 0 && n >= width {
                    break;
                }
            },
            Err(_) => {
                let mut v = v;
                loop {
                    tmp[n] = b'0' + (v % 10) as u8;
                    v /= 10;
                    n += 1;
                    if v == 0 && n >= width {
                        break;
                    }
                }
            }
        }
        for &d in tmp[..n].iter().rev() {
            self.push(d);
        }
    }

    fn int(&mut self, v: i64) {
        if v < 0 {
            self.push(b'-');
        }
        self.digits(u128::from(v.unsigned_abs()), 1);
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits, signs, `E` and `.` are pushed.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }

    pub(super) fn py<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        PyString::new(py, self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts() {
        let text = |f: &dyn Fn(&mut ShortText)| {
            let mut t = ShortText::new();
            f(&mut t);
            t.as_str().to_string()
        };
        assert_eq!(text(&|t| t.digits(0, 1)), "0");
        assert_eq!(text(&|t| t.digits(42, 1)), "42");
        assert_eq!(text(&|t| t.digits(7, 6)), "000007");
        assert_eq!(text(&|t| t.digits(1234567, 3)), "1234567");
        assert_eq!(text(&|t| t.digits(u128::MAX, 1)), u128::MAX.to_string());
        assert_eq!(text(&|t| t.int(i64::MIN)), i64::MIN.to_string());
        assert_eq!(text(&|t| t.int(-3)), "-3");
    }

    #[test]
    fn decimal_texts() {
        assert_eq!(decimal_text(&Decimal::new(110i64, -2)), "110E-2");
        assert_eq!(decimal_text(&Decimal::new(-5i64, 3)), "-5E3");
        assert_eq!(
            decimal_text(&Decimal::negative_zero_with_exponent(-2)),
            "-0E-2"
        );
    }
}
