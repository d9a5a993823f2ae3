//! Micro-benchmarks of the Ion ⇄ Python conversions of `pyqldb._native` (`src/ion_py/`) on the
//! 10-field document of benchmark W3 (`benches/worker.py`'s `ten_field_doc`: strings, ints,
//! decimals, a timestamp, a bool, a nested struct, a list):
//!
//! - `ion_to_python/plain`, `ion_to_python/ionpy`: one page value (a complete Ion binary stream
//!   holding the document) → Python values, as cursors decode results;
//! - `python_to_ion/param`: the document as a Python `dict` → one statement parameter.
//!
//! The interpreter is embedded (plain `cargo bench` builds without the `extension-module`
//! feature, so libpython is linked); amazon.ion is imported from the development virtualenv,
//! `$PYQLDB_BENCH_SITE_PACKAGES` or else `.venv/lib/python3.*/site-packages` (`make develop`).
//!
//! `cargo bench --bench ion_python`. The machines this project runs on have no PMU (no
//! `perf stat -e instructions`), so instruction counts come from callgrind instead: with
//! `ION_PYTHON_COUNT=<iterations>` the binary skips criterion and runs each case that many times in
//! a function of its own, e.g.
//!
//! ```sh
//! ION_PYTHON_COUNT=1000 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     --toggle-collect='*count_ion_to_python_plain*' target/release/deps/ion_python-<hash>
//! ```
//!
//! and divide the reported `Collected` instructions by the iterations.

use std::ffi::CString;
use std::hint::black_box;
use std::path::PathBuf;

use _native::ion_py::{self, ValueModel};
use criterion::Criterion;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The document: `benches/worker.py`'s own `ten_field_doc` (that module imports only the standard
/// library at load time), so the micro-benchmark and the side-by-side harness measure one shape.
const DOCUMENT: &str = "from worker import ten_field_doc\ndoc = ten_field_doc(1234)\n";

/// Where amazon.ion is installed.
fn site_packages() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PYQLDB_BENCH_SITE_PACKAGES") {
        return Some(PathBuf::from(dir));
    }
    let lib = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/lib");
    std::fs::read_dir(lib)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.join("amazon").is_dir())
}

/// The inputs of the benchmarks: the document as Python values and as one Ion binary stream.
struct Inputs<'py> {
    doc: Bound<'py, PyAny>,
    binary: Vec<u8>,
}

fn inputs(py: Python<'_>) -> PyResult<Inputs<'_>> {
    let sys_path = py.import("sys")?.getattr("path")?;
    match site_packages() {
        // A `str` entry: `sys.path` ignores `pathlib.Path`s.
        Some(dir) => sys_path.call_method1("insert", (0, dir.to_string_lossy().into_owned()))?,
        None => {
            panic!("amazon.ion not found: run `make develop` or set PYQLDB_BENCH_SITE_PACKAGES")
        }
    };
    let benches = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches");
    sys_path.call_method1("insert", (0, benches.to_string_lossy().into_owned()))?;
    let globals = PyDict::new(py);
    let code = CString::new(DOCUMENT).expect("no NUL in the document code");
    py.run(&code, Some(&globals), None)?;
    let doc = globals
        .get_item("doc")?
        .expect("the document code defines `doc`");
    let binary = ion_py::to_param(&doc)?.binary().to_vec();
    // Both models decode it back (and amazon.ion is importable).
    for model in [ValueModel::Plain, ValueModel::IonPy] {
        let value = ion_py::loads(py, &binary, model)?;
        assert!(value.eq(&doc)?, "{model:?} round trip: {value} != {doc}");
    }
    Ok(Inputs { doc, binary })
}

fn benches(c: &mut Criterion, py: Python<'_>, inputs: &Inputs<'_>) {
    let mut group = c.benchmark_group("ion_to_python");
    for (name, model) in [("plain", ValueModel::Plain), ("ionpy", ValueModel::IonPy)] {
        group.bench_function(name, |b| {
            b.iter(|| ion_py::loads(py, black_box(&inputs.binary), model).expect("loads"))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("python_to_ion");
    group.bench_function("param", |b| {
        b.iter(|| ion_py::to_param(black_box(&inputs.doc)).expect("to_param"))
    });
    group.finish();
}

#[inline(never)]
fn count_ion_to_python_plain(py: Python<'_>, inputs: &Inputs<'_>, n: usize) {
    for _ in 0..n {
        black_box(ion_py::loads(py, black_box(&inputs.binary), ValueModel::Plain).expect("loads"));
    }
}

#[inline(never)]
fn count_ion_to_python_ionpy(py: Python<'_>, inputs: &Inputs<'_>, n: usize) {
    for _ in 0..n {
        black_box(ion_py::loads(py, black_box(&inputs.binary), ValueModel::IonPy).expect("loads"));
    }
}

#[inline(never)]
fn count_python_to_ion_param(inputs: &Inputs<'_>, n: usize) {
    for _ in 0..n {
        black_box(ion_py::to_param(black_box(&inputs.doc)).expect("to_param"));
    }
}

fn main() {
    Python::initialize();
    Python::attach(|py| {
        let inputs = inputs(py).expect("benchmark inputs");
        if let Some(n) = std::env::var("ION_PYTHON_COUNT")
            .ok()
            .and_then(|n| n.parse::<usize>().ok())
        {
            // (`inputs` has already looked up the amazon.ion classes: only the conversions count.)
            count_ion_to_python_plain(py, &inputs, n);
            count_ion_to_python_ionpy(py, &inputs, n);
            count_python_to_ion_param(&inputs, n);
            return;
        }
        let mut c = Criterion::default().configure_from_args();
        benches(&mut c, py, &inputs);
        c.final_summary();
    });
}
