"""The native module's surface: every export of ``pyqldb._native`` is declared in ``_native.pyi`` (names and
the methods of each class), and is either used by the Python façade or listed here as the low-level API kept
for the 2.x layer and tests; the package ships ``py.typed`` and pyqldb's module paths with empty subpackage
``__init__.py`` files."""

import ast
import importlib
from pathlib import Path

from pyqldb import _native

PACKAGE = Path(_native.__file__).resolve().parent
# Exported for session-level layers (pyqldb 2.x) and tests rather than named by the 3.x façade (RawCursor
# is returned by RawTransaction.execute_statement and wrapped by StreamCursor._from_native).
LOW_LEVEL = {
    "RawSessionClient",
    "RawIonParam",
    "RawCommitDigest",
    "RawCursor",
    "NativeError",
    "ion_dumps",
    "INTERRUPT_TICK_SECONDS",
}


def native_exports():
    return {name for name in dir(_native) if not name.startswith("_")}


def stub():
    return ast.parse((PACKAGE / "_native.pyi").read_text())


def test_stub_declares_every_export():
    tree = stub()
    declared = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            declared.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            declared.add(node.target.id)
    declared = {n for n in declared if not n.startswith("_")}
    assert declared == native_exports()


def test_stub_declares_every_method():
    classes = {node.name: node for node in stub().body if isinstance(node, ast.ClassDef)}
    for name, node in classes.items():
        cls = getattr(_native, name)
        stubbed = {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
        actual = {m for m in vars(cls) if not m.startswith("_") or m in ("__next__", "__iter__")}
        assert actual - stubbed == set(), (name, actual - stubbed)
        assert stubbed - actual - {"__init__"} == set(), (name, stubbed - actual)


def test_every_export_is_wrapped_or_low_level():
    sources = "\n".join(p.read_text() for p in PACKAGE.rglob("*.py"))
    unused = {name for name in native_exports() - LOW_LEVEL if f"_native.{name}" not in sources}
    assert unused == set()


def test_module_paths():
    for module in (
        "pyqldb.driver.qldb_driver",
        "pyqldb.config.retry_config",
        "pyqldb.execution.executor",
        "pyqldb.cursor.stream_cursor",
        "pyqldb.cursor.read_ahead_cursor",
        "pyqldb.cursor.buffered_cursor",
        "pyqldb.errors",
        "pyqldb.util.retry",
        "pyqldb.util.qldb_hash",
        "pyqldb.util.atomic_integer",
        "pyqldb.local",
    ):
        importlib.import_module(module)
    for package in ("config", "cursor", "driver", "execution", "util"):
        assert (PACKAGE / package / "__init__.py").read_text() == ""
    assert (PACKAGE / "py.typed").exists()
    assert (PACKAGE / "__init__.py").read_text().strip() == '__version__ = "3.2.4"'
