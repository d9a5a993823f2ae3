//! The `IonPyList` and `IonPyDict` objects of Ion lists, s-expressions and structs, as both read
//! paths build them: a list started empty and filled, a struct's multimap store
//! (`{name: [values]}`) filled field by field and then wrapped.

use ion_rs::IonType;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use super::classes::{type_index, BaseNew, Classes};

/// The field names met so far in one struct, to tell a first occurrence (stored directly) from
/// a repeated one (added to the values already stored) without asking the `dict`.
struct SeenNames<'a> {
    names: [&'a str; 32],
    len: usize,
    unknown: bool,
    /// More names than `names` holds: every later one may be a repeat.
    overflow: bool,
}

impl<'a> SeenNames<'a> {
    fn new() -> Self {
        SeenNames {
            names: [""; 32],
            len: 0,
            unknown: false,
            overflow: false,
        }
    }

    /// Whether `name` is certainly met for the first time (and notes it).
    fn first(&mut self, name: Option<&'a str>) -> bool {
        let Some(name) = name else {
            return !std::mem::replace(&mut self.unknown, true);
        };
        if self.overflow || self.names[..self.len].contains(&name) {
            return false;
        }
        if self.len == self.names.len() {
            self.overflow = true;
            return false;
        }
        self.names[self.len] = name;
        self.len += 1;
        true
    }
}

/// An `IonPyDict`'s store (`{name: [values]}`) being filled.
pub(super) struct Store<'py, 'a> {
    pub(super) dict: Bound<'py, PyDict>,
    seen: SeenNames<'a>,
}

impl<'py, 'a> Store<'py, 'a> {
    pub(super) fn new(py: Python<'py>) -> Self {
        Store {
            dict: PyDict::new(py),
            seen: SeenNames::new(),
        }
    }

    pub(super) fn add(
        &mut self,
        name: Option<&'a str>,
        key: Bound<'py, PyAny>,
        value: Bound<'py, PyAny>,
    ) -> PyResult<()> {
        let py = self.dict.py();
        if !self.seen.first(name) {
            if let Some(values) = self.dict.get_item(&key)? {
                return values.cast::<PyList>()?.append(value);
            }
        }
        self.dict.set_item(key, PyList::new(py, [value])?)
    }
}

/// `list.__new__(IonPyList)` with `ion_annotations = ()`, as `IonPyList()` makes it; the items
/// are appended to it.
pub(super) fn ionpy_list_start<'py>(
    py: Python<'py>,
    c: &Classes,
    new: &BaseNew,
) -> PyResult<Bound<'py, PyAny>> {
    let v = new.make(c.list.bind(py), PyTuple::empty(py))?;
    v.setattr(intern!(py, "ion_annotations"), PyTuple::empty(py))?;
    Ok(v)
}

pub(super) fn ionpy_list_finish<'py>(
    py: Python<'py>,
    c: &Classes,
    v: Bound<'py, PyAny>,
    t: IonType,
    annotations: Option<Bound<'py, PyTuple>>,
) -> PyResult<Bound<'py, PyAny>> {
    v.setattr(intern!(py, "ion_type"), c.ion_types[type_index(t)].bind(py))?;
    if let Some(ann) = annotations {
        v.setattr(intern!(py, "ion_annotations"), ann)?;
    }
    Ok(v)
}

/// The `IonPyDict` of a filled store.
pub(super) fn ionpy_dict<'py>(
    py: Python<'py>,
    c: &Classes,
    store: Bound<'py, PyDict>,
    annotations: Option<Bound<'py, PyTuple>>,
) -> PyResult<Bound<'py, PyAny>> {
    let ann = annotations.unwrap_or_else(|| PyTuple::empty(py));
    if let Some(new) = &c.fast.dict {
        let d = new.make(c.dict.bind(py), PyTuple::empty(py))?;
        d.setattr(intern!(py, "_IonPyDict__store"), store)?;
        d.setattr(intern!(py, "ion_annotations"), ann)?;
        return Ok(d);
    }
    match &c.dict_factory {
        Some(factory) => factory.bind(py).call1((py.None(), store, ann)),
        None => {
            let d = c.dict.bind(py).call0()?;
            for (key, values) in store.iter() {
                for v in values.cast::<PyList>()?.iter() {
                    d.call_method1(intern!(py, "add_item"), (&key, v))?;
                }
            }
            d.setattr(intern!(py, "ion_annotations"), ann)?;
            Ok(d)
        }
    }
}
