//! Ion → Python through ion-rs's lazy reader: the general path, for whatever
//! [`super::read_direct`] does not take (Ion text, annotations, timestamps with a non-UTC offset,
//! malformed data, …), so that those results, and all read errors, are ion-rs's. The value is
//! converted as the reader walks it, without an `Element` tree.

use ion_rs::{
    Decoder, Element, IonInput, IonResult, IonType, LazyStruct, LazyValue, Reader, ValueRef,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use super::classes::Classes;
use super::containers::{ionpy_dict, ionpy_list_finish, ionpy_list_start, Store};
use super::field_names::Cx;
use super::scalars::{ionpy_scalar, plain_scalar, symbol_sid, symbol_text, Scalar};
use super::{too_deep, ValueModel, MAX_DEPTH};

/// The one value of a stream, with `Element::read_one`'s errors when there are none or more.
pub(super) fn read_one<'py, D: Decoder, I: IonInput>(
    cx: &mut Cx<'py>,
    reader: IonResult<Reader<D, I>>,
    model: ValueModel,
) -> PyResult<Bound<'py, PyAny>> {
    let mut reader = reader.map_err(read_error)?;
    let value = match reader.next().map_err(read_error)? {
        Some(v) => match model {
            ValueModel::IonPy => ionpy(cx, &v, 0)?,
            ValueModel::Plain => plain(cx, &v, 0)?,
        },
        None => return Err(read_error("expected 1 value, found 0")),
    };
    let rest = match reader.next() {
        Ok(None) => Ok(value),
        Ok(Some(second)) => Err(match Element::try_from(second) {
            Ok(e) => read_error(format!("found more than one value; second value: {e}")),
            Err(e) => read_error(format!("error after expected value: {e}")),
        }),
        Err(e) => Err(read_error(format!("error after expected value: {e}"))),
    };
    rest
}

fn read_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("Cannot read the Ion value: {e}"))
}

// The recursion of ion-rs's reader (`ionpy` → `ionpy_struct`/`ionpy_sequence` → `ionpy`) goes
// through small functions only, and the scalars are converted out of line: the frames on the
// path stay small enough for `MAX_DEPTH` levels on any thread's stack, in unoptimised builds
// too.

fn ionpy<'py, D: Decoder>(
    cx: &mut Cx<'py>,
    v: &LazyValue<'_, D>,
    depth: usize,
) -> PyResult<Bound<'py, PyAny>> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    let value = v.read().map_err(read_error)?;
    let annotations = annotations_tuple(cx.py, cx.c, v)?;
    match value {
        ValueRef::List(l) => ionpy_sequence(cx, l.iter(), IonType::List, annotations, depth),
        ValueRef::SExp(s) => ionpy_sequence(cx, s.iter(), IonType::SExp, annotations, depth),
        ValueRef::Struct(s) => ionpy_struct(cx, &s, annotations, depth),
        scalar => ionpy_ion_scalar(cx.py, cx.c, scalar, annotations),
    }
}

#[inline(never)]
fn ionpy_ion_scalar<'py, D: Decoder>(
    py: Python<'py>,
    c: &Classes,
    value: ValueRef<'_, D>,
    annotations: Option<Bound<'py, PyTuple>>,
) -> PyResult<Bound<'py, PyAny>> {
    match Scalar::from_ion(&value) {
        Some(scalar) => ionpy_scalar(py, c, scalar, annotations),
        None => unreachable!("containers are converted by ionpy"),
    }
}

/// `(SymbolToken(text, sid, None), …)` of a value's annotations; `None` without any.
fn annotations_tuple<'py, D: Decoder>(
    py: Python<'py>,
    c: &Classes,
    v: &LazyValue<'_, D>,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    if !v.has_annotations() {
        return Ok(None);
    }
    let token = c.symbol_token.bind(py);
    let mut items = Vec::new();
    for a in v.annotations() {
        let text = a.map_err(read_error)?.text();
        items.push(token.call1((symbol_text(py, text), symbol_sid(text), py.None()))?);
    }
    if items.is_empty() {
        return Ok(None);
    }
    Ok(Some(PyTuple::new(py, items)?))
}

/// An `IonPyDict` (multimap: repeated field names keep every value) of a struct's fields.
fn ionpy_struct<'py, D: Decoder>(
    cx: &mut Cx<'py>,
    s: &LazyStruct<'_, D>,
    annotations: Option<Bound<'py, PyTuple>>,
    depth: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let mut store = Store::new(cx.py);
    for field in s.iter() {
        let field = field.map_err(read_error)?;
        let name = field.name().map_err(read_error)?.text();
        let key = cx.field_name(name);
        let value = ionpy(cx, &field.value(), depth + 1)?;
        store.add(name, key, value)?;
    }
    ionpy_dict(cx.py, cx.c, store.dict, annotations)
}

/// An `IonPyList` (with `ion_type` LIST or SEXP) of a list's or s-expression's values.
fn ionpy_sequence<'py, 'top, D: Decoder + 'top>(
    cx: &mut Cx<'py>,
    children: impl Iterator<Item = IonResult<LazyValue<'top, D>>>,
    t: IonType,
    annotations: Option<Bound<'py, PyTuple>>,
    depth: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let (py, c) = (cx.py, cx.c);
    let v = match &c.fast.list {
        Some(new) => {
            let v = ionpy_list_start(py, c, new)?;
            let items = v.cast::<PyList>()?;
            for child in children {
                items.append(ionpy(cx, &child.map_err(read_error)?, depth + 1)?)?;
            }
            v
        }
        None => {
            let items = PyList::empty(py);
            for child in children {
                items.append(ionpy(cx, &child.map_err(read_error)?, depth + 1)?)?;
            }
            c.list.bind(py).call1((items,))?
        }
    };
    ionpy_list_finish(py, c, v, t, annotations)
}

fn plain<'py, D: Decoder>(
    cx: &mut Cx<'py>,
    v: &LazyValue<'_, D>,
    depth: usize,
) -> PyResult<Bound<'py, PyAny>> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    let value = v.read().map_err(read_error)?;
    // Dropped, but read: a bad annotation is an error in either model.
    if v.has_annotations() {
        for a in v.annotations() {
            a.map_err(read_error)?;
        }
    }
    match value {
        ValueRef::List(l) => plain_sequence(cx, l.iter(), depth),
        ValueRef::SExp(s) => plain_sequence(cx, s.iter(), depth),
        ValueRef::Struct(s) => plain_struct(cx, &s, depth),
        scalar => plain_ion_scalar(cx.py, cx.c, scalar),
    }
}

#[inline(never)]
fn plain_ion_scalar<'py, D: Decoder>(
    py: Python<'py>,
    c: &Classes,
    value: ValueRef<'_, D>,
) -> PyResult<Bound<'py, PyAny>> {
    match Scalar::from_ion(&value) {
        Some(scalar) => plain_scalar(py, c, scalar),
        None => unreachable!("containers are converted by plain"),
    }
}

/// A `dict` of a struct's fields (the last of repeated names wins).
fn plain_struct<'py, D: Decoder>(
    cx: &mut Cx<'py>,
    s: &LazyStruct<'_, D>,
    depth: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let d = PyDict::new(cx.py);
    for field in s.iter() {
        let field = field.map_err(read_error)?;
        let key = cx.field_name(field.name().map_err(read_error)?.text());
        d.set_item(key, plain(cx, &field.value(), depth + 1)?)?;
    }
    Ok(d.into_any())
}

fn plain_sequence<'py, 'top, D: Decoder + 'top>(
    cx: &mut Cx<'py>,
    children: impl Iterator<Item = IonResult<LazyValue<'top, D>>>,
    depth: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let items = PyList::empty(cx.py);
    for child in children {
        items.append(plain(cx, &child.map_err(read_error)?, depth + 1)?)?;
    }
    Ok(items.into_any())
}
