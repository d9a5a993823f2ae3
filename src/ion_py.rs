//! Ion ⇄ Python values (`spec/pyqldb-api.md` §7).
//!
//! - **Results**, decoded from the Ion binary of each value: by default amazon.ion's `IonPy*`
//!   objects, built here directly from the cached classes of the installed amazon.ion (no
//!   `simpleion.loads`), with the `ion_type` and `ion_annotations` that `loads` gives them and
//!   `IonPyDict`'s multimap semantics (duplicate fields kept); or, with the **plain** model,
//!   ordinary Python values: `dict`, `list`, `str`, `int`, `float`, `Decimal`, `datetime`
//!   (timezone-aware when the offset is known, naive for an unknown offset), `bytes`, `bool`,
//!   `None` (annotations dropped, symbols as `str`, s-expressions as lists, the last of
//!   duplicate fields kept).
//! - **Parameters**: a Python native or `IonPy*` value becomes one Ion value the way pyqldb's
//!   `loads(dumps(obj))` does (naive `datetime` → unknown offset with 6 fractional digits,
//!   `dict` → struct, `tuple` → list, …); anything else is pyqldb's `TypeError("Failed to convert
//!   parameter to Ion; unsupported data type: <type repr>")`.

use ion_rs::decimal::{Coefficient, Sign};
use ion_rs::{Decimal, Element, Int, IonType, Symbol, Timestamp, TimestampPrecision, Value};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use qldb_driver::IonParam;

/// Containers nested deeper than this are rejected rather than recursed into.
const MAX_DEPTH: usize = 512;

/// How results are handed to Python.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueModel {
    /// amazon.ion `IonPy*` objects, as pyqldb returns them.
    IonPy,
    /// Plain Python values.
    Plain,
}

impl ValueModel {
    pub fn parse(name: &str) -> PyResult<ValueModel> {
        match name {
            "ion" | "ionpy" => Ok(ValueModel::IonPy),
            "plain" => Ok(ValueModel::Plain),
            other => Err(PyValueError::new_err(format!(
                "value_model must be 'ion' or 'plain', not {other:?}"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ValueModel::IonPy => "ion",
            ValueModel::Plain => "plain",
        }
    }
}

/// The amazon.ion and standard-library objects the conversions use, looked up once.
struct Classes {
    null: Py<PyAny>,
    boolean: Py<PyAny>,
    /// `IonPyBool.ion_type` is not `IonType.BOOL` (amazon.ion < 0.10 aliased it to `IonPyInt`).
    bool_needs_type: bool,
    int: Py<PyAny>,
    float: Py<PyAny>,
    decimal: Py<PyAny>,
    timestamp: Py<PyAny>,
    symbol: Py<PyAny>,
    text: Py<PyAny>,
    bytes: Py<PyAny>,
    list: Py<PyAny>,
    dict: Py<PyAny>,
    /// `IonPyDict._factory(_, store, annotations)` when the installed amazon.ion has it.
    dict_factory: Option<Py<PyAny>>,
    symbol_token: Py<PyAny>,
    /// `IonType` members by `ion_rs::IonType` order (see [`type_index`]).
    ion_types: Vec<Py<PyAny>>,
    /// `TimestampPrecision.YEAR` … `SECOND`.
    precisions: Vec<Py<PyAny>>,
    std_decimal: Py<PyAny>,
    decimal_zero: Py<PyAny>,
    datetime: Py<PyAny>,
    timezone: Py<PyAny>,
    timedelta: Py<PyAny>,
    utc: Py<PyAny>,
    int_type: Py<PyAny>,
    /// Base-type constructors that build `IonPy*` instances without their Python-level
    /// `__new__`/`__init__`, each present only when a probe at start-up showed it builds the
    /// same object as the class's own constructor (see [`Fast`]).
    fast: Fast,
}

/// `base.__new__` callables for the `IonPy*` classes whose constructors only add
/// `ion_annotations = ()` (amazon.ion 0.13+): `int.__new__(IonPyInt, v)` and the like, then the
/// attributes set directly.
#[derive(Default)]
struct Fast {
    int: Option<Py<PyAny>>,
    boolean: Option<Py<PyAny>>,
    float: Option<Py<PyAny>>,
    decimal: Option<Py<PyAny>>,
    text: Option<Py<PyAny>>,
    bytes: Option<Py<PyAny>>,
    list: Option<Py<PyAny>>,
    /// `object.__new__`, for `IonPyDict` with a `_IonPyDict__store` as `_factory` sets it.
    dict: Option<Py<PyAny>>,
    /// `datetime.__new__`, for `IonPyTimestamp` with its precision slots set directly.
    timestamp: Option<Py<PyAny>>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

const ION_TYPE_NAMES: [&str; 13] = [
    "NULL",
    "BOOL",
    "INT",
    "FLOAT",
    "DECIMAL",
    "TIMESTAMP",
    "SYMBOL",
    "STRING",
    "CLOB",
    "BLOB",
    "LIST",
    "SEXP",
    "STRUCT",
];

fn type_index(t: IonType) -> usize {
    match t {
        IonType::Null => 0,
        IonType::Bool => 1,
        IonType::Int => 2,
        IonType::Float => 3,
        IonType::Decimal => 4,
        IonType::Timestamp => 5,
        IonType::Symbol => 6,
        IonType::String => 7,
        IonType::Clob => 8,
        IonType::Blob => 9,
        IonType::List => 10,
        IonType::SExp => 11,
        IonType::Struct => 12,
    }
}

fn type_from_index(i: i64) -> Option<IonType> {
    Some(match i {
        0 => IonType::Null,
        1 => IonType::Bool,
        2 => IonType::Int,
        3 => IonType::Float,
        4 => IonType::Decimal,
        5 => IonType::Timestamp,
        6 => IonType::Symbol,
        7 => IonType::String,
        8 => IonType::Clob,
        9 => IonType::Blob,
        10 => IonType::List,
        11 => IonType::SExp,
        12 => IonType::Struct,
        _ => return None,
    })
}

fn classes(py: Python<'_>) -> PyResult<&'static Classes> {
    CLASSES.get_or_try_init(py, || {
        let st = py.import("amazon.ion.simple_types")?;
        let core = py.import("amazon.ion.core")?;
        let symbols = py.import("amazon.ion.symbols")?;
        let dt = py.import("datetime")?;
        let dec = py.import("decimal")?;
        let ion_type = core.getattr("IonType")?;
        let ion_types = ION_TYPE_NAMES
            .iter()
            .map(|n| ion_type.getattr(*n).map(Bound::unbind))
            .collect::<PyResult<Vec<_>>>()?;
        let precision = core.getattr("TimestampPrecision")?;
        let precisions = ["YEAR", "MONTH", "DAY", "MINUTE", "SECOND"]
            .iter()
            .map(|n| precision.getattr(*n).map(Bound::unbind))
            .collect::<PyResult<Vec<_>>>()?;
        let boolean = st.getattr("IonPyBool")?;
        let bool_needs_type = match boolean.getattr("ion_type") {
            Ok(t) => !t.is(ion_types[1].bind(py)),
            Err(_) => true,
        };
        let dict = st.getattr("IonPyDict")?;
        let dict_factory = dict.getattr("_factory").ok().map(Bound::unbind);
        let std_decimal = dec.getattr("Decimal")?;
        let decimal_zero = std_decimal.call1((0,))?.unbind();
        let timezone = dt.getattr("timezone")?;
        let utc = timezone.getattr("utc")?.unbind();
        let mut c = Classes {
            null: st.getattr("IonPyNull")?.unbind(),
            boolean: boolean.unbind(),
            bool_needs_type,
            int: st.getattr("IonPyInt")?.unbind(),
            float: st.getattr("IonPyFloat")?.unbind(),
            decimal: st.getattr("IonPyDecimal")?.unbind(),
            timestamp: st.getattr("IonPyTimestamp")?.unbind(),
            symbol: st.getattr("IonPySymbol")?.unbind(),
            text: st.getattr("IonPyText")?.unbind(),
            bytes: st.getattr("IonPyBytes")?.unbind(),
            list: st.getattr("IonPyList")?.unbind(),
            dict: dict.unbind(),
            dict_factory,
            symbol_token: symbols.getattr("SymbolToken")?.unbind(),
            ion_types,
            precisions,
            std_decimal: std_decimal.unbind(),
            decimal_zero,
            datetime: dt.getattr("datetime")?.unbind(),
            timezone: timezone.unbind(),
            timedelta: dt.getattr("timedelta")?.unbind(),
            utc,
            int_type: py.get_type::<PyInt>().into_any().unbind(),
            fast: Fast::default(),
        };
        c.fast = probe_fast(py, &c)?;
        Ok::<_, PyErr>(c)
    })
}

/// Whether two objects are the same value built the same way: same type, equal, and the same
/// instance attributes in the same order (plus the timestamp slots when `slots`).
fn same_object(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>, slots: bool) -> PyResult<bool> {
    if !a.get_type().is(b.get_type()) || !a.eq(b)? {
        return Ok(false);
    }
    fn items<'py>(o: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let py = o.py();
        let d = o.getattr(intern!(py, "__dict__"))?;
        let pairs = d.call_method0(intern!(py, "items"))?;
        Ok(PyList::new(py, pairs.try_iter()?.collect::<PyResult<Vec<_>>>()?)?.into_any())
    }
    if !items(a)?.eq(items(b)?)? {
        return Ok(false);
    }
    if slots {
        for name in [
            "precision",
            "fractional_precision",
            "fractional_seconds",
            "microsecond",
            "tzinfo",
        ] {
            let (x, y) = (a.getattr(name)?, b.getattr(name)?);
            if !x.get_type().is(y.get_type())
                || !x.eq(&y)?
                || x.repr()?.to_string() != y.repr()?.to_string()
            {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Builds a sample of each `IonPy*` type both ways and keeps the fast route where they match.
fn probe_fast(py: Python<'_>, c: &Classes) -> PyResult<Fast> {
    let builtins = py.import("builtins")?;
    let base_new = |base: &str| -> PyResult<Bound<'_, PyAny>> {
        builtins.getattr(base)?.getattr(intern!(py, "__new__"))
    };
    let empty = PyTuple::empty(py);
    let ann = intern!(py, "ion_annotations");
    let check = |new: Bound<'_, PyAny>,
                 cls: &Py<PyAny>,
                 sample: Bound<'_, PyAny>|
     -> PyResult<Option<Py<PyAny>>> {
        let cls = cls.bind(py);
        let Ok(slow) = cls.call1((&sample,)) else {
            return Ok(None);
        };
        let Ok(fast) = new.call1((cls, &sample)) else {
            return Ok(None);
        };
        fast.setattr(ann, &empty)?;
        Ok(same_object(&slow, &fast, false)
            .unwrap_or(false)
            .then(|| new.unbind()))
    };
    let mut f = Fast {
        int: check(
            base_new("int")?,
            &c.int,
            12345i64.into_pyobject(py)?.into_any(),
        )?,
        boolean: check(
            base_new("int")?,
            &c.boolean,
            PyBool::new(py, true).to_owned().into_any(),
        )?,
        float: check(
            base_new("float")?,
            &c.float,
            PyFloat::new(py, 0.5).into_any(),
        )?,
        decimal: check(
            c.std_decimal.bind(py).getattr(intern!(py, "__new__"))?,
            &c.decimal,
            PyString::new(py, "1250E-2").into_any(),
        )?,
        text: check(
            base_new("str")?,
            &c.text,
            PyString::new(py, "text").into_any(),
        )?,
        bytes: check(
            base_new("bytes")?,
            &c.bytes,
            PyBytes::new(py, b"ab").into_any(),
        )?,
        ..Fast::default()
    };
    // IonPyList: `list.__new__(IonPyList)`, then filled.
    {
        let new = base_new("list")?;
        let items = PyList::new(py, [1, 2])?;
        if let (Ok(slow), Ok(fast)) = (
            c.list.bind(py).call1((&items,)),
            new.call1((c.list.bind(py),)),
        ) {
            fast.setattr(ann, &empty)?;
            for i in items.iter() {
                fast.cast::<PyList>()?.append(i)?;
            }
            if same_object(&slow, &fast, false).unwrap_or(false) {
                f.list = Some(new.unbind());
            }
        }
    }
    // IonPyDict: `object.__new__(IonPyDict)` with the store `_factory` sets.
    if let Some(factory) = &c.dict_factory {
        let new = base_new("object")?;
        let store = || -> PyResult<Bound<'_, PyDict>> {
            let d = PyDict::new(py);
            d.set_item("a", PyList::new(py, [1, 2])?)?;
            Ok(d)
        };
        if let (Ok(slow), Ok(fast)) = (
            factory.bind(py).call1((py.None(), store()?, &empty)),
            new.call1((c.dict.bind(py),)),
        ) {
            fast.setattr(intern!(py, "_IonPyDict__store"), store()?)?;
            fast.setattr(ann, &empty)?;
            let same = same_object(&slow, &fast, false).unwrap_or(false)
                && slow
                    .call_method0(intern!(py, "items"))?
                    .eq(fast.call_method0(intern!(py, "items"))?)?;
            if same {
                f.dict = Some(new.unbind());
            }
        }
    }
    // IonPyTimestamp: `datetime.__new__(IonPyTimestamp, …)` with the precision slots set.
    {
        f.timestamp = Some(
            c.datetime
                .bind(py)
                .getattr(intern!(py, "__new__"))?
                .unbind(),
        );
        let mut ok = true;
        for text in [
            "2024-01-02T03:04:05.123Z",
            "2024-01-02T03:04:05.000-00:00",
            "2024-01-02T03:04:05.123456789+05:30",
            "2024-01-02T03:04:05Z",
            "2024-01-02T03:04Z",
            "2024-01-02",
            "2024T",
        ] {
            let Ok(Value::Timestamp(t)) = Element::read_one(text).map(|e| e.value().clone()) else {
                ok = false;
                break;
            };
            let same = match (
                timestamp_ionpy_slow(py, c, &t),
                timestamp_ionpy_fast(py, c, &f, &t),
            ) {
                (Ok(slow), Ok(Some(fast))) => same_object(&slow, &fast, true).unwrap_or(false),
                _ => false,
            };
            if !same {
                ok = false;
                break;
            }
        }
        if !ok {
            f.timestamp = None;
        }
    }
    Ok(f)
}

// ---------------------------------------------------------------------------------------------
// Ion → Python
// ---------------------------------------------------------------------------------------------

/// Decodes one value (a complete Ion binary or text stream holding exactly one value).
pub fn loads<'py>(py: Python<'py>, data: &[u8], model: ValueModel) -> PyResult<Bound<'py, PyAny>> {
    let element = Element::read_one(data)
        .map_err(|e| PyValueError::new_err(format!("Cannot read the Ion value: {e}")))?;
    to_python(py, &element, model)
}

/// Converts a decoded Ion value.
pub fn to_python<'py>(
    py: Python<'py>,
    element: &Element,
    model: ValueModel,
) -> PyResult<Bound<'py, PyAny>> {
    let c = classes(py)?;
    match model {
        ValueModel::IonPy => ionpy(py, c, element, 0),
        ValueModel::Plain => plain(py, c, element, 0),
    }
}

fn too_deep() -> PyErr {
    PyValueError::new_err(format!(
        "Ion containers are nested more than {MAX_DEPTH} levels deep"
    ))
}

fn ionpy<'py>(
    py: Python<'py>,
    c: &Classes,
    e: &Element,
    depth: usize,
) -> PyResult<Bound<'py, PyAny>> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    let annotations = annotations_tuple(py, c, e)?;
    let ion_type = |t: IonType| c.ion_types[type_index(t)].bind(py);
    let set_type = intern!(py, "ion_type");
    let set_ann = intern!(py, "ion_annotations");
    let f = &c.fast;
    // `base.__new__(cls, arg)` with `ion_annotations = ()`, as the class's constructor makes it.
    let fresh =
        |new: &Py<PyAny>, cls: &Py<PyAny>, arg: Bound<'py, PyAny>| -> PyResult<Bound<'py, PyAny>> {
            let v = new.bind(py).call1((cls.bind(py), arg))?;
            v.setattr(set_ann, PyTuple::empty(py))?;
            Ok(v)
        };
    let obj = match e.value() {
        Value::Null(t) => {
            let ann = annotations.unwrap_or_else(|| PyTuple::empty(py));
            return c.null.bind(py).call1((ion_type(*t), py.None(), ann));
        }
        Value::Bool(b) => {
            let v = match &f.boolean {
                Some(new) => fresh(new, &c.boolean, PyBool::new(py, *b).to_owned().into_any())?,
                None => c.boolean.bind(py).call1((*b,))?,
            };
            if c.bool_needs_type {
                v.setattr(set_type, ion_type(IonType::Bool))?;
            }
            v
        }
        Value::Int(i) => match &f.int {
            Some(new) => fresh(new, &c.int, int_to_py(py, c, i)?)?,
            None => c.int.bind(py).call1((int_to_py(py, c, i)?,))?,
        },
        Value::Float(x) => match &f.float {
            Some(new) => fresh(new, &c.float, PyFloat::new(py, *x).into_any())?,
            None => c.float.bind(py).call1((*x,))?,
        },
        Value::Decimal(d) => match &f.decimal {
            Some(new) => fresh(
                new,
                &c.decimal,
                PyString::new(py, &decimal_text(d)).into_any(),
            )?,
            None => c.decimal.bind(py).call1((decimal_text(d),))?,
        },
        Value::Timestamp(t) => match timestamp_ionpy_fast(py, c, f, t)? {
            Some(v) => v,
            None => timestamp_ionpy_slow(py, c, t)?,
        },
        Value::Symbol(s) => {
            c.symbol
                .bind(py)
                .call1((symbol_text(py, s), symbol_sid(s), py.None()))?
        }
        Value::String(s) => match &f.text {
            Some(new) => fresh(new, &c.text, PyString::new(py, s.text()).into_any())?,
            None => c.text.bind(py).call1((s.text(),))?,
        },
        Value::Clob(b) | Value::Blob(b) => {
            let bytes = PyBytes::new(py, b.as_ref()).into_any();
            let v = match &f.bytes {
                Some(new) => fresh(new, &c.bytes, bytes)?,
                None => c.bytes.bind(py).call1((bytes,))?,
            };
            v.setattr(set_type, ion_type(e.ion_type()))?;
            v
        }
        Value::List(seq) | Value::SExp(seq) => {
            let v = match &f.list {
                Some(new) => {
                    let v = new.bind(py).call1((c.list.bind(py),))?;
                    v.setattr(set_ann, PyTuple::empty(py))?;
                    let items = v.cast::<PyList>()?;
                    for child in seq.iter() {
                        items.append(ionpy(py, c, child, depth + 1)?)?;
                    }
                    v
                }
                None => {
                    let items = PyList::empty(py);
                    for child in seq.iter() {
                        items.append(ionpy(py, c, child, depth + 1)?)?;
                    }
                    c.list.bind(py).call1((items,))?
                }
            };
            v.setattr(set_type, ion_type(e.ion_type()))?;
            v
        }
        Value::Struct(s) => {
            let store = PyDict::new(py);
            for (name, value) in s.fields() {
                let key = symbol_text(py, name);
                let value = ionpy(py, c, value, depth + 1)?;
                match store.get_item(&key)? {
                    Some(values) => values.cast::<PyList>()?.append(value)?,
                    None => store.set_item(key, PyList::new(py, [value])?)?,
                }
            }
            let ann = annotations.unwrap_or_else(|| PyTuple::empty(py));
            if let Some(new) = &f.dict {
                let d = new.bind(py).call1((c.dict.bind(py),))?;
                d.setattr(intern!(py, "_IonPyDict__store"), store)?;
                d.setattr(set_ann, ann)?;
                return Ok(d);
            }
            return match &c.dict_factory {
                Some(factory) => factory.bind(py).call1((py.None(), store, ann)),
                None => {
                    let d = c.dict.bind(py).call0()?;
                    for (key, values) in store.iter() {
                        for v in values.cast::<PyList>()?.iter() {
                            d.call_method1(intern!(py, "add_item"), (&key, v))?;
                        }
                    }
                    d.setattr(set_ann, ann)?;
                    Ok(d)
                }
            };
        }
    };
    if let Some(ann) = annotations {
        obj.setattr(set_ann, ann)?;
    }
    Ok(obj)
}

fn plain<'py>(
    py: Python<'py>,
    c: &Classes,
    e: &Element,
    depth: usize,
) -> PyResult<Bound<'py, PyAny>> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    Ok(match e.value() {
        Value::Null(_) => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => int_to_py(py, c, i)?,
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::Decimal(d) => c.std_decimal.bind(py).call1((decimal_text(d),))?,
        Value::Timestamp(t) => timestamp_plain(py, c, t)?,
        Value::Symbol(s) => symbol_text(py, s),
        Value::String(s) => PyString::new(py, s.text()).into_any(),
        Value::Clob(b) | Value::Blob(b) => PyBytes::new(py, b.as_ref()).into_any(),
        Value::List(seq) | Value::SExp(seq) => {
            let items = PyList::empty(py);
            for child in seq.iter() {
                items.append(plain(py, c, child, depth + 1)?)?;
            }
            items.into_any()
        }
        Value::Struct(s) => {
            let d = PyDict::new(py);
            for (name, value) in s.fields() {
                d.set_item(symbol_text(py, name), plain(py, c, value, depth + 1)?)?;
            }
            d.into_any()
        }
    })
}

fn symbol_text<'py>(py: Python<'py>, s: &Symbol) -> Bound<'py, PyAny> {
    match s.text() {
        Some(t) => PyString::new(py, t).into_any(),
        None => py.None().into_bound(py),
    }
}

/// amazon.ion gives a symbol of unknown text symbol id 0 (`$0`), and no id otherwise.
fn symbol_sid(s: &Symbol) -> Option<u8> {
    s.text().is_none().then_some(0)
}

fn annotations_tuple<'py>(
    py: Python<'py>,
    c: &Classes,
    e: &Element,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let ann = e.annotations();
    if ann.is_empty() {
        return Ok(None);
    }
    let token = c.symbol_token.bind(py);
    let items = ann
        .iter()
        .map(|s| token.call1((symbol_text(py, s), symbol_sid(s), py.None())))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(Some(PyTuple::new(py, items)?))
}

fn int_to_py<'py>(py: Python<'py>, c: &Classes, i: &Int) -> PyResult<Bound<'py, PyAny>> {
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

/// The fractional-second digits of a timestamp (`None` without any).
fn fraction_digits(t: &Timestamp) -> Option<String> {
    let scale = t.fractional_seconds_scale()? as usize;
    if scale <= 9 {
        let coefficient = t.nanoseconds() / 10u32.pow(9 - scale as u32);
        return Some(format!("{coefficient:0>scale$}"));
    }
    // Finer than nanoseconds: read the digits off the text form.
    let text = t.to_string();
    let after_dot = text.split_once('.')?.1;
    Some(after_dot.chars().take_while(char::is_ascii_digit).collect())
}

fn precision_index(t: &Timestamp) -> usize {
    match t.precision() {
        TimestampPrecision::Year => 0,
        TimestampPrecision::Month => 1,
        TimestampPrecision::Day => 2,
        TimestampPrecision::HourAndMinute => 3,
        TimestampPrecision::Second => 4,
    }
}

/// The date and time fields that apply at the timestamp's precision, defaults below it.
fn timestamp_fields(t: &Timestamp) -> (u32, u32, u32, u32, u32, u32) {
    let p = precision_index(t);
    (
        t.year(),
        if p >= 1 { t.month() } else { 1 },
        if p >= 2 { t.day() } else { 1 },
        if p >= 3 { t.hour() } else { 0 },
        if p >= 3 { t.minute() } else { 0 },
        if p >= 4 { t.second() } else { 0 },
    )
}

fn tzinfo<'py>(py: Python<'py>, c: &Classes, t: &Timestamp) -> PyResult<Bound<'py, PyAny>> {
    if precision_index(t) < 3 {
        return Ok(py.None().into_bound(py));
    }
    match t.offset() {
        None => Ok(py.None().into_bound(py)),
        Some(0) => Ok(c.utc.bind(py).clone()),
        Some(minutes) => {
            let kwargs = PyDict::new(py);
            kwargs.set_item(intern!(py, "minutes"), minutes)?;
            let delta = c.timedelta.bind(py).call((), Some(&kwargs))?;
            c.timezone.bind(py).call1((delta,))
        }
    }
}

/// `IonPyTimestamp(y, mo, d, h, mi, s, None, tz, precision=…, fractional_seconds=…)`.
fn timestamp_ionpy_slow<'py>(
    py: Python<'py>,
    c: &Classes,
    t: &Timestamp,
) -> PyResult<Bound<'py, PyAny>> {
    let (y, mo, d, h, mi, s) = timestamp_fields(t);
    let fraction = match fraction_digits(t) {
        Some(digits) => c.std_decimal.bind(py).call1((format!("0.{digits}"),))?,
        None => c.decimal_zero.bind(py).clone(),
    };
    let kwargs = PyDict::new(py);
    kwargs.set_item(
        intern!(py, "precision"),
        c.precisions[precision_index(t)].bind(py),
    )?;
    kwargs.set_item(intern!(py, "fractional_seconds"), fraction)?;
    c.timestamp.bind(py).call(
        (y, mo, d, h, mi, s, py.None(), tzinfo(py, c, t)?),
        Some(&kwargs),
    )
}

/// The same `IonPyTimestamp` as [`timestamp_ionpy_slow`], built as its `__new__` and `__init__`
/// leave it (microseconds = the first 6 fractional digits, `fractional_precision` = their count
/// up to 6) without running them; `None` when the fast route is off or the fraction is finer
/// than nanoseconds.
fn timestamp_ionpy_fast<'py>(
    py: Python<'py>,
    c: &Classes,
    f: &Fast,
    t: &Timestamp,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(new) = &f.timestamp else {
        return Ok(None);
    };
    let (y, mo, d, h, mi, s) = timestamp_fields(t);
    let (fraction, micros, digits) = match fraction_digits(t) {
        Some(digits) if digits.len() > 9 => return Ok(None),
        Some(digits) => {
            let n = digits.len();
            let mut first6: String = digits.chars().take(6).collect();
            while first6.len() < 6 {
                first6.push('0');
            }
            let micros: u32 = first6.parse().map_err(|_| {
                PyValueError::new_err(format!("bad fractional seconds digits {digits:?}"))
            })?;
            (
                c.std_decimal.bind(py).call1((format!("0.{digits}"),))?,
                micros,
                n.min(6),
            )
        }
        None => (c.decimal_zero.bind(py).clone(), 0, 0),
    };
    let v = new.bind(py).call1((
        c.timestamp.bind(py),
        y,
        mo,
        d,
        h,
        mi,
        s,
        micros,
        tzinfo(py, c, t)?,
    ))?;
    v.setattr(
        intern!(py, "precision"),
        c.precisions[precision_index(t)].bind(py),
    )?;
    v.setattr(intern!(py, "fractional_precision"), digits)?;
    v.setattr(intern!(py, "fractional_seconds"), fraction)?;
    v.setattr(intern!(py, "ion_annotations"), PyTuple::empty(py))?;
    Ok(Some(v))
}

fn timestamp_plain<'py>(
    py: Python<'py>,
    c: &Classes,
    t: &Timestamp,
) -> PyResult<Bound<'py, PyAny>> {
    let (y, mo, d, h, mi, s) = timestamp_fields(t);
    let micros = if precision_index(t) == 4 {
        t.microseconds()
    } else {
        0
    };
    c.datetime
        .bind(py)
        .call1((y, mo, d, h, mi, s, micros, tzinfo(py, c, t)?))
}

// ---------------------------------------------------------------------------------------------
// Python → Ion
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Python functions
// ---------------------------------------------------------------------------------------------

/// Decodes one Ion value (binary or text) as pyqldb results are decoded; `value_model` is
/// `'ion'` (`IonPy*` objects) or `'plain'`.
#[pyfunction]
#[pyo3(name = "ion_loads", signature = (data, value_model="ion"))]
pub fn py_ion_loads<'py>(
    py: Python<'py>,
    data: &[u8],
    value_model: &str,
) -> PyResult<Bound<'py, PyAny>> {
    loads(py, data, ValueModel::parse(value_model)?)
}

/// Encodes a Python value as a parameter is sent: a binary Ion stream holding one value.
#[pyfunction]
#[pyo3(name = "ion_dumps")]
pub fn py_ion_dumps<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let param = to_param(value)?;
    Ok(PyBytes::new(value.py(), param.binary()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_texts() {
        assert_eq!(decimal_text(&Decimal::new(110i64, -2)), "110E-2");
        assert_eq!(decimal_text(&Decimal::new(-5i64, 3)), "-5E3");
        assert_eq!(
            decimal_text(&Decimal::negative_zero_with_exponent(-2)),
            "-0E-2"
        );
    }

    #[test]
    fn fractions() {
        let t = Timestamp::with_ymd(2020, 1, 2)
            .with_hms(3, 4, 5)
            .with_fractional_seconds(Decimal::new(120i64, -3))
            .build()
            .unwrap();
        assert_eq!(fraction_digits(&t).as_deref(), Some("120"));
        let t = Timestamp::with_ymd(2020, 1, 2)
            .with_hms(3, 4, 5)
            .with_fractional_seconds(Decimal::new(1234567890123i64, -13))
            .build()
            .unwrap();
        assert_eq!(fraction_digits(&t).as_deref(), Some("1234567890123"));
        let t = Timestamp::with_ymd(2020, 1, 2)
            .with_hms(3, 4, 5)
            .build()
            .unwrap();
        assert_eq!(fraction_digits(&t), None);
    }
}
