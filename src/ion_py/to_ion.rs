//! Python → Ion: statement parameters ([`to_param`]) and Ion values ([`to_element`]) of Python
//! natives and amazon.ion `IonPy*` values, as pyqldb's `loads(dumps(obj))` converts them, with
//! its `TypeError` for unsupported types.

use ion_rs::decimal::Coefficient;
use ion_rs::{Decimal, Element, Int, IonType, Symbol, Timestamp};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use qldb_driver::IonParam;

use super::classes::{classes, type_from_index, Classes};
use super::{too_deep, MAX_DEPTH};

/// Why a Python value did not convert.
enum ConvError {
    /// Not a type pyqldb can send (its `TypeError`).
    Unsupported,
    /// A supported type holding a value Ion cannot represent (e.g. `Decimal('NaN')`).
    Invalid(PyErr),
}

impl From<PyErr> for ConvError {
    fn from(e: PyErr) -> Self {
        ConvError::Invalid(e)
    }
}

fn unsupported_message(obj: &Bound<'_, PyAny>) -> String {
    let type_repr = obj
        .get_type()
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "<unknown type>".to_string());
    format!("Failed to convert parameter to Ion; unsupported data type: {type_repr}")
}

/// One statement parameter from a Python value (pyqldb's `Transaction._to_ion` + `dumps`).
pub fn to_param(obj: &Bound<'_, PyAny>) -> PyResult<IonParam> {
    let element = to_element(obj)?;
    IonParam::from_element(element).map_err(|e| PyValueError::new_err(e.message().to_string()))
}

/// The Ion value of a Python value, with pyqldb's `TypeError` for unsupported types.
pub fn to_element(obj: &Bound<'_, PyAny>) -> PyResult<Element> {
    let c = classes(obj.py())?;
    match convert(c, obj, 0) {
        Ok(e) => Ok(e),
        Err(ConvError::Unsupported) => Err(PyTypeError::new_err(unsupported_message(obj))),
        Err(ConvError::Invalid(e)) => Err(e),
    }
}

fn convert(c: &Classes, obj: &Bound<'_, PyAny>, depth: usize) -> Result<Element, ConvError> {
    if depth > MAX_DEPTH {
        return Err(ConvError::Invalid(too_deep()));
    }
    let py = obj.py();
    // Exact built-in types first: the common case, and no attribute lookups.
    if obj.is_none() {
        return Ok(Element::null(IonType::Null));
    }
    if obj.is_exact_instance_of::<PyBool>() {
        return Ok(Element::boolean(obj.is_truthy()?));
    }
    if obj.is_exact_instance_of::<PyInt>() {
        return Ok(Element::int(py_to_int(obj)?));
    }
    if obj.is_exact_instance_of::<PyFloat>() {
        return Ok(Element::float(obj.extract::<f64>()?));
    }
    if obj.is_exact_instance_of::<PyString>() {
        return Ok(Element::string(obj.extract::<String>()?));
    }
    if obj.is_exact_instance_of::<PyBytes>() {
        return Ok(Element::blob(
            obj.cast::<PyBytes>().map_err(PyErr::from)?.as_bytes(),
        ));
    }
    if obj.is_exact_instance_of::<PyList>() || obj.is_exact_instance_of::<PyTuple>() {
        return sequence(c, obj, IonType::List, depth);
    }
    if obj.is_exact_instance_of::<PyDict>() {
        return structure(c, obj, depth);
    }
    // IonPy* values (and anything else carrying an `ion_type`).
    if let Ok(t) = obj.getattr(intern!(py, "ion_type")) {
        if !t.is_none() {
            return ion_valued(c, obj, &t, depth);
        }
    }
    // Subclasses of the built-in types, in simpleion's order of precedence.
    if obj.is_instance_of::<PyBool>() {
        return Ok(Element::boolean(obj.is_truthy()?));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(Element::int(py_to_int(obj)?));
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Element::float(obj.extract::<f64>()?));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Element::string(obj.extract::<String>()?));
    }
    if obj.is_instance(c.std_decimal.bind(py))? {
        return Ok(Element::decimal(py_to_decimal(obj)?));
    }
    if obj.is_instance(c.datetime.bind(py))? {
        return Ok(Element::timestamp(py_to_timestamp(obj)?));
    }
    if obj.is_instance_of::<PyBytes>() {
        return Ok(Element::blob(
            obj.cast::<PyBytes>().map_err(PyErr::from)?.as_bytes(),
        ));
    }
    if obj.is_instance(c.symbol_token.bind(py))? {
        return Ok(Element::symbol(token_symbol(obj)?));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return sequence(c, obj, IonType::List, depth);
    }
    if obj.is_instance_of::<PyDict>() {
        return structure(c, obj, depth);
    }
    Err(ConvError::Unsupported)
}

/// A value that says its Ion type (`IonPy*`): converted by that type, annotations kept.
fn ion_valued(
    c: &Classes,
    obj: &Bound<'_, PyAny>,
    ion_type: &Bound<'_, PyAny>,
    depth: usize,
) -> Result<Element, ConvError> {
    let py = obj.py();
    let t = ion_type
        .extract::<i64>()
        .ok()
        .and_then(type_from_index)
        .ok_or(ConvError::Unsupported)?;
    let is_null = obj.is_instance(c.null.bind(py))?;
    let element = if is_null || t == IonType::Null {
        Element::null(t)
    } else {
        match t {
            IonType::Null => Element::null(IonType::Null),
            IonType::Bool => Element::boolean(obj.is_truthy()?),
            IonType::Int => Element::int(py_to_int(obj)?),
            IonType::Float => Element::float(obj.extract::<f64>()?),
            IonType::Decimal => Element::decimal(py_to_decimal(obj)?),
            IonType::Timestamp => Element::timestamp(py_to_timestamp(obj)?),
            IonType::Symbol => {
                if obj.is_instance_of::<PyString>() {
                    Element::symbol(Symbol::owned(obj.extract::<String>()?))
                } else {
                    Element::symbol(token_symbol(obj)?)
                }
            }
            IonType::String => Element::string(obj.extract::<String>()?),
            IonType::Clob => Element::clob(obj.extract::<Vec<u8>>()?),
            IonType::Blob => Element::blob(obj.extract::<Vec<u8>>()?),
            IonType::List | IonType::SExp => sequence(c, obj, t, depth)?,
            IonType::Struct => structure(c, obj, depth)?,
        }
    };
    let annotations = match obj.getattr(intern!(py, "ion_annotations")) {
        Ok(a) if !a.is_none() => a,
        _ => return Ok(element),
    };
    let mut symbols = Vec::new();
    for a in annotations.try_iter()? {
        let a = a?;
        if a.is_instance_of::<PyString>() {
            symbols.push(Symbol::owned(a.extract::<String>()?));
        } else {
            symbols.push(token_symbol(&a)?);
        }
    }
    if symbols.is_empty() {
        return Ok(element);
    }
    Ok(element.with_annotations(symbols))
}

fn token_symbol(obj: &Bound<'_, PyAny>) -> Result<Symbol, ConvError> {
    let text = obj.getattr(intern!(obj.py(), "text"))?;
    if text.is_none() {
        Ok(Symbol::unknown_text())
    } else {
        Ok(Symbol::owned(text.extract::<String>()?))
    }
}

fn sequence(
    c: &Classes,
    obj: &Bound<'_, PyAny>,
    t: IonType,
    depth: usize,
) -> Result<Element, ConvError> {
    let mut items = Vec::new();
    for item in obj.try_iter()? {
        items.push(convert(c, &item?, depth + 1)?);
    }
    let builder = Element::sequence_builder().push_all(items);
    Ok(match t {
        IonType::SExp => builder.build_sexp().into(),
        _ => builder.build_list().into(),
    })
}

fn structure(c: &Classes, obj: &Bound<'_, PyAny>, depth: usize) -> Result<Element, ConvError> {
    let py = obj.py();
    let mut builder = Element::struct_builder();
    let items = obj.call_method0(intern!(py, "items"))?;
    for pair in items.try_iter()? {
        let pair = pair?;
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair.extract()?;
        let name = if key.is_instance_of::<PyString>() {
            Symbol::owned(key.extract::<String>()?)
        } else if key.is_instance(c.symbol_token.bind(py))? {
            token_symbol(&key)?
        } else {
            return Err(ConvError::Unsupported);
        };
        builder = builder.with_field(name, convert(c, &value, depth + 1)?);
    }
    Ok(builder.build().into())
}

fn py_to_int(obj: &Bound<'_, PyAny>) -> PyResult<Int> {
    if let Ok(v) = obj.extract::<i64>() {
        return Ok(Int::from(v));
    }
    let py = obj.py();
    let bits: usize = obj.call_method0(intern!(py, "bit_length"))?.extract()?;
    let kwargs = PyDict::new(py);
    kwargs.set_item(intern!(py, "signed"), true)?;
    let bytes = obj.call_method(
        intern!(py, "to_bytes"),
        (bits / 8 + 1, intern!(py, "little")),
        Some(&kwargs),
    )?;
    Ok(Int::from_le_signed_bytes(
        bytes.cast::<PyBytes>().map_err(PyErr::from)?.as_bytes(),
    ))
}

fn py_to_decimal(obj: &Bound<'_, PyAny>) -> PyResult<Decimal> {
    let py = obj.py();
    let (sign, digits, exponent): (u8, Bound<'_, PyTuple>, Bound<'_, PyAny>) =
        obj.call_method0(intern!(py, "as_tuple"))?.extract()?;
    let exponent: i64 = exponent.extract().map_err(|_| {
        PyValueError::new_err(format!(
            "Cannot convert {} to Ion: Ion decimals have no NaN or infinity",
            obj.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    })?;
    let digits: String = digits
        .iter()
        .map(|d| d.extract::<u8>().map(|d| char::from(b'0' + d)))
        .collect::<PyResult<String>>()?;
    let negative = sign == 1;
    if digits.bytes().all(|b| b == b'0') {
        return Ok(if negative {
            Decimal::negative_zero_with_exponent(exponent)
        } else {
            Decimal::new(0i64, exponent)
        });
    }
    let coefficient: Coefficient = match digits.parse::<i128>() {
        Ok(v) => Coefficient::from(if negative { -v } else { v }),
        Err(_) => {
            let big = py
                .get_type::<PyInt>()
                .call1((format!("{}{digits}", if negative { "-" } else { "" }),))?;
            Coefficient::from(py_to_int(&big)?)
        }
    };
    Ok(Decimal::new(coefficient, exponent))
}

fn ion_value_error(e: ion_rs::IonError) -> PyErr {
    PyValueError::new_err(format!("Cannot convert the timestamp to Ion: {e}"))
}

/// A `datetime` (or amazon.ion `Timestamp`, with its precision) as an Ion timestamp: naive →
/// unknown offset; plain `datetime` → second precision with 6 fractional digits.
fn py_to_timestamp(obj: &Bound<'_, PyAny>) -> PyResult<Timestamp> {
    let py = obj.py();
    let field = |name: &Bound<'_, PyString>| -> PyResult<u32> { obj.getattr(name)?.extract() };
    let year = field(intern!(py, "year"))?;
    let month = field(intern!(py, "month"))?;
    let day = field(intern!(py, "day"))?;
    let hour = field(intern!(py, "hour"))?;
    let minute = field(intern!(py, "minute"))?;
    let second = field(intern!(py, "second"))?;
    let micro = field(intern!(py, "microsecond"))?;
    let precision = match obj.getattr(intern!(py, "precision")) {
        Ok(p) if !p.is_none() => p.extract::<i64>().unwrap_or(4),
        _ => 4,
    };
    let offset = {
        let delta = obj.call_method0(intern!(py, "utcoffset"))?;
        if delta.is_none() {
            None
        } else {
            let secs: f64 = delta
                .call_method0(intern!(py, "total_seconds"))?
                .extract()?;
            Some((secs / 60.0).round() as i32)
        }
    };
    let built = match precision {
        0 => Timestamp::with_year(year).build(),
        1 => Timestamp::with_year(year).with_month(month).build(),
        2 => Timestamp::with_ymd(year, month, day).build(),
        3 => {
            let b = Timestamp::with_ymd(year, month, day).with_hour_and_minute(hour, minute);
            match offset {
                Some(o) => b.with_offset(o).build(),
                None => b.build(),
            }
        }
        _ => {
            let fraction = fractional_seconds(obj, micro)?;
            let b = Timestamp::with_ymd(year, month, day).with_hms(hour, minute, second);
            match (fraction, offset) {
                (Some(f), Some(o)) => b.with_fractional_seconds(f).with_offset(o).build(),
                (Some(f), None) => b.with_fractional_seconds(f).build(),
                (None, Some(o)) => b.with_offset(o).build(),
                (None, None) => b.build(),
            }
        }
    };
    built.map_err(ion_value_error)
}

/// The fractional seconds to write: an amazon.ion `Timestamp`'s own, else the microseconds with
/// 6 digits (amazon.ion writes a plain `datetime` that way).
fn fractional_seconds(obj: &Bound<'_, PyAny>, micro: u32) -> PyResult<Option<Decimal>> {
    let py = obj.py();
    if let Ok(f) = obj.getattr(intern!(py, "fractional_seconds")) {
        if !f.is_none() {
            let d = py_to_decimal(&f)?;
            return Ok((d.exponent() < 0).then_some(d));
        }
    }
    let digits = match obj.getattr(intern!(py, "fractional_precision")) {
        Ok(p) if !p.is_none() => p.extract::<u32>()?.min(6),
        _ => 6,
    };
    if digits == 0 {
        return Ok(None);
    }
    let coefficient = micro / 10u32.pow(6 - digits);
    Ok(Some(Decimal::new(coefficient as i64, -(digits as i64))))
}
