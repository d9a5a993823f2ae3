//! The amazon.ion and standard-library objects the conversions use ([`Classes`]), looked up
//! once per interpreter, and the fast routes for building `IonPy*` objects ([`Fast`]): their
//! base types' constructors (`tp_new` slots, `__new__`) and the `datetime` C API, each kept only
//! when a probe at start-up shows it builds the same object as the class's own constructor.

use std::ffi::{c_int, c_void};

use ion_rs::{Element, IonType, Timestamp, Value};
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};

use super::timestamps::{timestamp_ionpy_fast, timestamp_ionpy_slow, tzinfo, Ts};

/// The amazon.ion and standard-library objects the conversions use, looked up once.
pub(super) struct Classes {
    pub(super) null: Py<PyAny>,
    pub(super) boolean: Py<PyAny>,
    /// `IonPyBool.ion_type` is not `IonType.BOOL` (amazon.ion < 0.10 aliased it to `IonPyInt`).
    pub(super) bool_needs_type: bool,
    pub(super) int: Py<PyAny>,
    pub(super) float: Py<PyAny>,
    pub(super) decimal: Py<PyAny>,
    pub(super) timestamp: Py<PyAny>,
    pub(super) symbol: Py<PyAny>,
    pub(super) text: Py<PyAny>,
    pub(super) bytes: Py<PyAny>,
    pub(super) list: Py<PyAny>,
    pub(super) dict: Py<PyAny>,
    /// `IonPyDict._factory(_, store, annotations)` when the installed amazon.ion has it.
    pub(super) dict_factory: Option<Py<PyAny>>,
    pub(super) symbol_token: Py<PyAny>,
    /// `IonType` members by `ion_rs::IonType` order (see [`type_index`]).
    pub(super) ion_types: Vec<Py<PyAny>>,
    /// `TimestampPrecision.YEAR` … `SECOND`.
    pub(super) precisions: Vec<Py<PyAny>>,
    pub(super) std_decimal: Py<PyAny>,
    pub(super) decimal_zero: Py<PyAny>,
    /// `Decimal('0.0')`, `Decimal('0.00')` … by digit count (1 to 9; index 0 is `Decimal(0)`):
    /// the fractional seconds of timestamps whose fraction is all zeros, shared as the
    /// immutable values they are.
    pub(super) zero_fractions: Vec<Py<PyAny>>,
    pub(super) datetime: Py<PyAny>,
    /// `datetime(…)` through the `datetime` module's C API, when a probe showed it builds what
    /// the class does.
    pub(super) datetime_capi: Option<DateTimeFromParts>,
    pub(super) timezone: Py<PyAny>,
    pub(super) timedelta: Py<PyAny>,
    pub(super) utc: Py<PyAny>,
    pub(super) int_type: Py<PyAny>,
    /// Base-type constructors that build `IonPy*` instances without their Python-level
    /// `__new__`/`__init__`, each present only when a probe at start-up showed it builds the
    /// same object as the class's own constructor (see [`Fast`]).
    pub(super) fast: Fast,
}

/// How the `IonPy*` classes whose constructors only add `ion_annotations = ()` (amazon.ion
/// 0.13+) are built: their base type's `__new__` (`int.__new__(IonPyInt, v)` and the like),
/// then the attributes set directly.
#[derive(Default)]
pub(super) struct Fast {
    pub(super) int: Option<BaseNew>,
    pub(super) boolean: Option<BaseNew>,
    pub(super) float: Option<BaseNew>,
    pub(super) decimal: Option<BaseNew>,
    pub(super) text: Option<BaseNew>,
    pub(super) bytes: Option<BaseNew>,
    pub(super) list: Option<BaseNew>,
    /// `object.__new__`, for `IonPyDict` with a `_IonPyDict__store` as `_factory` sets it.
    pub(super) dict: Option<BaseNew>,
    /// `datetime.__new__`, for `IonPyTimestamp` with its precision slots set directly.
    pub(super) timestamp: Option<DateTimeNew>,
}

/// `base.__new__(cls, …)` for a subclass `cls` of `base`.
pub(super) enum BaseNew {
    /// The base type's `tp_new` slot, called directly: what `base.__new__` calls once it has
    /// checked its arguments (the probe of [`probe_fast`] checks the result).
    Slot(ffi::newfunc),
    /// `base.__new__` itself (when the interpreter does not give the slot of a static type).
    Call(Py<PyAny>),
}

impl BaseNew {
    /// The ways to call `base.__new__`, the direct one first.
    fn candidates(base: &Bound<'_, PyAny>) -> PyResult<Vec<BaseNew>> {
        let py = base.py();
        let mut out = Vec::with_capacity(2);
        if let Ok(t) = base.cast::<PyType>() {
            // SAFETY: `t` is a live type object; `PyType_GetSlot` only reads it (and fails with
            // an exception, cleared below, for static types before Python 3.10).
            let slot = unsafe { ffi::PyType_GetSlot(t.as_type_ptr(), ffi::Py_tp_new) };
            if slot.is_null() {
                drop(PyErr::take(py));
            } else {
                // SAFETY: the `Py_tp_new` slot holds a `newfunc`.
                out.push(BaseNew::Slot(unsafe {
                    std::mem::transmute::<*mut c_void, ffi::newfunc>(slot)
                }));
            }
        }
        out.push(BaseNew::Call(
            base.getattr(intern!(py, "__new__"))?.unbind(),
        ));
        Ok(out)
    }

    /// `base.__new__(cls, *args)`.
    pub(super) fn make<'py>(
        &self,
        cls: &Bound<'py, PyAny>,
        args: Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = cls.py();
        match self {
            BaseNew::Slot(new) => {
                // SAFETY: `new` is the `tp_new` of a base of `cls` (a type: the `IonPy*` class it
                // was probed with), called with a tuple of arguments and no keywords as
                // `base.__new__(cls, *args)` calls it; it returns a new reference or NULL with an
                // exception set.
                unsafe {
                    let obj = new(cls.as_ptr().cast(), args.as_ptr(), std::ptr::null_mut());
                    Bound::from_owned_ptr_or_err(py, obj)
                }
            }
            BaseNew::Call(new) => {
                let mut all = Vec::with_capacity(args.len() + 1);
                all.push(cls.clone());
                all.extend(args.iter());
                new.bind(py).call1(PyTuple::new(py, all)?)
            }
        }
    }
}

/// `DateTime_FromDateAndTime` of the `datetime` module's C API: `datetime.__new__(cls, y, mo,
/// d, h, mi, s, us, tz)` without building and parsing an argument tuple.
#[derive(Clone, Copy)]
pub(super) struct DateTimeFromParts(
    unsafe extern "C" fn(
        c_int,
        c_int,
        c_int,
        c_int,
        c_int,
        c_int,
        c_int,
        *mut ffi::PyObject,
        *mut ffi::PyTypeObject,
    ) -> *mut ffi::PyObject,
);

/// The start of `PyDateTime_CAPI` (`datetime.h`; fields are only ever appended to it). pyo3's
/// own binding of it is not available to abi3 builds.
#[repr(C)]
struct DateTimeCapiHead {
    date_type: *mut ffi::PyTypeObject,
    datetime_type: *mut ffi::PyTypeObject,
    time_type: *mut ffi::PyTypeObject,
    delta_type: *mut ffi::PyTypeObject,
    tzinfo_type: *mut ffi::PyTypeObject,
    timezone_utc: *mut ffi::PyObject,
    date_from_date: *mut c_void,
    datetime_from_date_and_time: Option<
        unsafe extern "C" fn(
            c_int,
            c_int,
            c_int,
            c_int,
            c_int,
            c_int,
            c_int,
            *mut ffi::PyObject,
            *mut ffi::PyTypeObject,
        ) -> *mut ffi::PyObject,
    >,
}

impl DateTimeFromParts {
    /// From the `datetime.datetime_CAPI` capsule, if it is there and describes `datetime`.
    fn import(datetime: &Bound<'_, PyAny>) -> Option<DateTimeFromParts> {
        // SAFETY: `PyCapsule_Import` imports `datetime` and returns the capsule's pointer (or
        // NULL with an exception, cleared here); the capsule holds a `PyDateTime_CAPI`, whose
        // first fields `DateTimeCapiHead` mirrors, valid for the life of the interpreter.
        unsafe {
            let capi = ffi::PyCapsule_Import(c"datetime.datetime_CAPI".as_ptr(), 0)
                as *const DateTimeCapiHead;
            if capi.is_null() {
                drop(PyErr::take(datetime.py()));
                return None;
            }
            if (*capi).datetime_type.cast::<ffi::PyObject>() != datetime.as_ptr() {
                return None;
            }
            (*capi).datetime_from_date_and_time.map(DateTimeFromParts)
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn make<'py>(
        self,
        cls: &Bound<'py, PyAny>,
        (y, mo, d, h, mi, s): (u32, u32, u32, u32, u32, u32),
        micros: u32,
        tz: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let int = |v: u32| c_int::try_from(v).unwrap_or(c_int::MAX);
        // SAFETY: `cls` is `datetime` or a subclass of it (checked by the probes), `tz` a live
        // object (`None` or a tzinfo, which the function checks); a new reference or NULL with
        // an exception comes back.
        unsafe {
            let obj = (self.0)(
                int(y),
                int(mo),
                int(d),
                int(h),
                int(mi),
                int(s),
                int(micros),
                tz.as_ptr(),
                cls.as_ptr().cast(),
            );
            Bound::from_owned_ptr_or_err(cls.py(), obj)
        }
    }
}

/// `datetime.__new__(IonPyTimestamp, …)`.
pub(super) enum DateTimeNew {
    Capi(DateTimeFromParts),
    Call(Py<PyAny>),
}

impl DateTimeNew {
    pub(super) fn make<'py>(
        &self,
        cls: &Bound<'py, PyAny>,
        fields: (u32, u32, u32, u32, u32, u32),
        micros: u32,
        tz: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match self {
            DateTimeNew::Capi(f) => f.make(cls, fields, micros, tz),
            DateTimeNew::Call(new) => {
                let (y, mo, d, h, mi, s) = fields;
                new.bind(cls.py())
                    .call1((cls, y, mo, d, h, mi, s, micros, tz))
            }
        }
    }
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

pub(super) fn type_index(t: IonType) -> usize {
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

pub(super) fn type_from_index(i: i64) -> Option<IonType> {
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

pub(super) fn classes(py: Python<'_>) -> PyResult<&'static Classes> {
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
        let mut zero_fractions = vec![decimal_zero.clone_ref(py)];
        for digits in 1..=9 {
            let text = format!("0.{:0>digits$}", "");
            zero_fractions.push(std_decimal.call1((text,))?.unbind());
        }
        let datetime = dt.getattr("datetime")?;
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
            zero_fractions,
            datetime: datetime.unbind(),
            datetime_capi: None,
            timezone: timezone.unbind(),
            timedelta: dt.getattr("timedelta")?.unbind(),
            utc,
            int_type: py.get_type::<PyInt>().into_any().unbind(),
            fast: Fast::default(),
        };
        c.datetime_capi = probe_datetime_capi(py, &c)?;
        c.fast = probe_fast(py, &c)?;
        Ok::<_, PyErr>(c)
    })
}

/// Timestamps covering each precision, fractions (zero, short, nanoseconds) and offsets (UTC,
/// unknown, east, west) for the probes.
const PROBE_TIMESTAMPS: [&str; 9] = [
    "2024-01-02T03:04:05.123Z",
    "2024-01-02T03:04:05.000-00:00",
    "2024-01-02T03:04:05.123456789+05:30",
    "2024-12-31T23:59:59.5-08:00",
    "2024-01-02T03:04:05Z",
    "2024-01-02T03:04Z",
    "2024-01-02",
    "2024-02T",
    "2024T",
];

fn probe_timestamps() -> Vec<Timestamp> {
    PROBE_TIMESTAMPS
        .iter()
        .filter_map(
            |text| match Element::read_one(text).map(|e| e.value().clone()) {
                Ok(Value::Timestamp(t)) => Some(t),
                _ => None,
            },
        )
        .collect()
}

/// The `datetime` C API, if it builds the plain-model `datetime`s as the class does.
fn probe_datetime_capi(py: Python<'_>, c: &Classes) -> PyResult<Option<DateTimeFromParts>> {
    let Some(capi) = DateTimeFromParts::import(c.datetime.bind(py)) else {
        return Ok(None);
    };
    let timestamps = probe_timestamps();
    if timestamps.len() != PROBE_TIMESTAMPS.len() {
        return Ok(None);
    }
    for t in &timestamps {
        let t = Ts::from_ion(t);
        let tz = tzinfo(py, c, t.offset)?;
        let (y, mo, d, h, mi, s) = t.fields;
        let slow = c
            .datetime
            .bind(py)
            .call1((y, mo, d, h, mi, s, t.micros, &tz))?;
        let Ok(fast) = capi.make(c.datetime.bind(py), t.fields, t.micros, &tz) else {
            return Ok(None);
        };
        let same = fast.get_type().is(slow.get_type())
            && fast.eq(&slow)?
            && fast.repr()?.to_string() == slow.repr()?.to_string();
        if !same {
            return Ok(None);
        }
    }
    Ok(Some(capi))
}

/// Builds a sample of each `IonPy*` type both ways and keeps the fast route where they match.
fn probe_fast(py: Python<'_>, c: &Classes) -> PyResult<Fast> {
    let builtins = py.import("builtins")?;
    let base = |name: &str| -> PyResult<Bound<'_, PyAny>> { builtins.getattr(name) };
    let empty = PyTuple::empty(py);
    let ann = intern!(py, "ion_annotations");
    // The first way of building `cls(sample)` as `base.__new__(cls, sample)` that gives the same
    // object.
    let check = |base: Bound<'_, PyAny>,
                 cls: &Py<PyAny>,
                 sample: Bound<'_, PyAny>|
     -> PyResult<Option<BaseNew>> {
        let cls = cls.bind(py);
        let Ok(slow) = cls.call1((&sample,)) else {
            return Ok(None);
        };
        for new in BaseNew::candidates(&base)? {
            let Ok(fast) = new.make(cls, PyTuple::new(py, [&sample])?) else {
                continue;
            };
            fast.setattr(ann, &empty)?;
            if same_object(&slow, &fast, false).unwrap_or(false) {
                return Ok(Some(new));
            }
        }
        Ok(None)
    };
    let mut f = Fast {
        int: check(base("int")?, &c.int, 12345i64.into_pyobject(py)?.into_any())?,
        boolean: check(
            base("int")?,
            &c.boolean,
            PyBool::new(py, true).to_owned().into_any(),
        )?,
        float: check(base("float")?, &c.float, PyFloat::new(py, 0.5).into_any())?,
        decimal: check(
            c.std_decimal.bind(py).clone(),
            &c.decimal,
            PyString::new(py, "1250E-2").into_any(),
        )?,
        text: check(base("str")?, &c.text, PyString::new(py, "text").into_any())?,
        bytes: check(base("bytes")?, &c.bytes, PyBytes::new(py, b"ab").into_any())?,
        ..Fast::default()
    };
    // IonPyList: `list.__new__(IonPyList)`, then filled.
    let items = PyList::new(py, [1, 2])?;
    if let Ok(slow) = c.list.bind(py).call1((&items,)) {
        for new in BaseNew::candidates(&base("list")?)? {
            let Ok(fast) = new.make(c.list.bind(py), PyTuple::empty(py)) else {
                continue;
            };
            fast.setattr(ann, &empty)?;
            for i in items.iter() {
                fast.cast::<PyList>()?.append(i)?;
            }
            if same_object(&slow, &fast, false).unwrap_or(false) {
                f.list = Some(new);
                break;
            }
        }
    }
    // IonPyDict: `object.__new__(IonPyDict)` with the store `_factory` sets.
    if let Some(factory) = &c.dict_factory {
        let store = || -> PyResult<Bound<'_, PyDict>> {
            let d = PyDict::new(py);
            d.set_item("a", PyList::new(py, [1, 2])?)?;
            Ok(d)
        };
        if let Ok(slow) = factory.bind(py).call1((py.None(), store()?, &empty)) {
            for new in BaseNew::candidates(&base("object")?)? {
                let Ok(fast) = new.make(c.dict.bind(py), PyTuple::empty(py)) else {
                    continue;
                };
                fast.setattr(intern!(py, "_IonPyDict__store"), store()?)?;
                fast.setattr(ann, &empty)?;
                let same = same_object(&slow, &fast, false).unwrap_or(false)
                    && slow
                        .call_method0(intern!(py, "items"))?
                        .eq(fast.call_method0(intern!(py, "items"))?)?;
                if same {
                    f.dict = Some(new);
                    break;
                }
            }
        }
    }
    // IonPyTimestamp: `datetime.__new__(IonPyTimestamp, …)` with the precision slots set.
    let timestamps = probe_timestamps();
    if timestamps.len() == PROBE_TIMESTAMPS.len() {
        let mut candidates = Vec::with_capacity(2);
        if let Some(capi) = c.datetime_capi {
            candidates.push(DateTimeNew::Capi(capi));
        }
        candidates.push(DateTimeNew::Call(
            c.datetime
                .bind(py)
                .getattr(intern!(py, "__new__"))?
                .unbind(),
        ));
        for new in candidates {
            let same = |t: &Timestamp| match (
                timestamp_ionpy_slow(py, c, t),
                timestamp_ionpy_fast(py, c, &new, &Ts::from_ion(t)),
            ) {
                (Ok(slow), Ok(fast)) => same_object(&slow, &fast, true).unwrap_or(false),
                _ => false,
            };
            if timestamps.iter().all(same) {
                f.timestamp = Some(new);
                break;
            }
        }
    }
    Ok(f)
}
