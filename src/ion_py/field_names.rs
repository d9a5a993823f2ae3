//! Struct field names as `dict` keys: a process-wide cache of interned Python `str`s, held by
//! the context of one read ([`Cx`]), which both read paths carry through the value.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use parking_lot::{Mutex, MutexGuard};
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::classes::Classes;

/// Field names longer than this are not cached.
const MAX_CACHED_NAME: usize = 64;
/// The cache is emptied when it reaches this many names.
const MAX_CACHED_NAMES: usize = 4096;

/// FNV-1a, for the short strings of [`NameCache`].
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type NameCache = HashMap<Box<str>, Py<PyString>, BuildHasherDefault<Fnv>>;

/// Interned Python `str`s of the field names seen lately. The documents of a result repeat the
/// same few names: each is made (and its hash computed) once, and user code's string literals,
/// interned too, find them by identity.
static NAMES: Mutex<NameCache> = Mutex::new(HashMap::with_hasher(BuildHasherDefault::new()));

/// What one [`loads`](super::loads) works with.
pub(super) struct Cx<'py> {
    pub(super) py: Python<'py>,
    pub(super) c: &'static Classes,
    names: Option<MutexGuard<'static, NameCache>>,
}

impl<'py> Cx<'py> {
    pub(super) fn new(py: Python<'py>, c: &'static Classes) -> Self {
        Cx {
            py,
            c,
            // Taken by another conversion (one that Python code interrupted): go without.
            names: NAMES.try_lock(),
        }
    }

    /// A struct field's name as a `dict` key: `str`, or `None` for a symbol of unknown text.
    pub(super) fn field_name(&mut self, text: Option<&str>) -> Bound<'py, PyAny> {
        let py = self.py;
        let Some(text) = text else {
            return py.None().into_bound(py);
        };
        let Some(names) = self.names.as_mut() else {
            return PyString::new(py, text).into_any();
        };
        if let Some(name) = names.get(text) {
            return name.bind(py).clone().into_any();
        }
        let name = PyString::intern(py, text);
        if text.len() <= MAX_CACHED_NAME {
            if names.len() >= MAX_CACHED_NAMES {
                names.clear();
            }
            names.insert(text.into(), name.clone().unbind());
        }
        name.into_any()
    }
}
