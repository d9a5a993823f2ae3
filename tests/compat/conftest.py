"""Fixtures of the compatibility suite: ONE set of tests against the public pyqldb API, run once per target.

Targets (``--target`` or ``$COMPAT_TARGET``):

``peer``
    The ORIGINAL pyqldb 3.2.4 (``.peer-venv``, built by ``scripts/peer-venv.sh``) over HTTP against
    ``qldb-local``. It is the reference: every assertion of the suite must hold for it.
``ours-http``
    Our drop-in package (``.venv``, ``make develop``) over HTTP against ``qldb-local``.
``ours-embedded``
    Our package over its embedded transport: ``endpoint_url="memory://<unique>"`` (or, with
    ``--embedded-store file``, ``"file:///<tmp dir>"``); no server, no network.

HTTP targets reach the server exactly as an unmodified program would: dummy credentials, a region and
``AWS_ENDPOINT_URL_QLDB_SESSION`` / ``AWS_ENDPOINT_URL_QLDB`` in the environment, set before any
client exists, and no ``endpoint_url`` argument. The server (``target/debug/qldb-local``, or
``$QLDB_LOCAL_BIN``; see ``tests/qldb_local.py``) is started once per run on a temporary data directory and
stopped with SIGTERM, which it must answer with exit status 0.

Tests that need something only some targets have declare it with ``@pytest.mark.requires(...)``
(see ``Capabilities``); on other targets they are *deselected* at collection (never skipped), and
the ``capabilities`` fixture tells a test what the target supports. ``test_v2_*.py`` (the 2.x API,
which pyqldb 3.2.4 does not have) must be left out of the peer run by the invocation
(``--ignore-glob='tests/compat/test_v2_*.py'``, as ``make test-compat`` does); collecting them for
the peer target is a usage error.

A fourth target, ``peer-v2``, is a maintenance aid outside ``make test-compat``: the ORIGINAL pyqldb
2.0.2 over HTTP, to check that ``test_v2_*.py`` (and only those) hold for the real 2.x driver. It needs a
virtualenv with ``pyqldb==2.0.2`` (amazon.ion 0.5, which on Python >= 3.10 needs the ``collections``
ABC aliases restored, e.g. by a ``sitecustomize.py``) plus boto3/botocore 1.40.60 and pytest.

The suite checks at start-up that the interpreter holds the package the target names (the original
3.2.4 for ``peer``; a package with ``pyqldb._native`` for ``ours-*``), so a run in the wrong
virtualenv fails instead of testing the wrong thing.
"""

import importlib
import importlib.util
import os
import re
import sys
import threading
import uuid
from pathlib import Path

import pytest
from qldb_local import QldbLocal, isolate_aws_environment, report_logs

TARGETS = ("peer", "ours-http", "ours-embedded", "peer-v2")
HTTP_TARGETS = ("peer", "ours-http", "peer-v2")

# Seconds a transaction may stay open on the server: generous for every transaction of the suite,
# short enough that a stuck test fails rather than hangs. Expiry itself is provoked by fault injection.
TRANSACTION_TIMEOUT_SECONDS = 20

# For HTTP clients, set before any client exists.
isolate_aws_environment("AKIDCOMPATSUITE00000", "compat-suite-dummy-secret-key")


def _importable(module):
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


class Capabilities:
    """What the target under test supports. ``@pytest.mark.requires(name, ...)`` uses the names.

    - ``http``: the driver talks HTTP to qldb-local (peer, ours-http).
    - ``faults``: the server's fault-injection admin API is available (HTTP targets).
    - ``control_plane``: boto3's ``qldb`` client can manage ledgers (HTTP targets with boto3).
    - ``botocore``: botocore is importable in this interpreter (``Config``, ``ClientError``).
    - ``boto3``: boto3 is importable in this interpreter (``boto3.session.Session``).
    - ``v2``: the 2.x classes (``PooledQldbDriver`` …) are expected (ours only).
    """

    NAMES = ("http", "faults", "control_plane", "botocore", "boto3", "v2")

    def __init__(self, target):
        self.target = target
        self.http = target in HTTP_TARGETS
        self.faults = self.http
        self.botocore = _importable("botocore")
        self.boto3 = _importable("boto3")
        self.control_plane = self.http and self.boto3
        self.v2 = target != "peer"
        self.embedded = not self.http

    def has(self, name):
        if name not in self.NAMES:
            raise ValueError(f"unknown capability {name!r}; known: {self.NAMES}")
        return bool(getattr(self, name))

    def __repr__(self):
        return "Capabilities(%s: %s)" % (self.target, ", ".join(n for n in self.NAMES if self.has(n)))


# --------------------------------------------------------------------------------------------------
# Options, markers, target check, collection
# --------------------------------------------------------------------------------------------------


def pytest_addoption(parser):
    group = parser.getgroup("compat", "pyqldb compatibility suite")
    group.addoption(
        "--target",
        choices=TARGETS,
        default=os.environ.get("COMPAT_TARGET"),
        help="which driver to test: peer (original pyqldb 3.2.4 over HTTP), ours-http, "
        "ours-embedded (default: $COMPAT_TARGET)",
    )
    group.addoption(
        "--embedded-store",
        choices=("memory", "file"),
        default=os.environ.get("COMPAT_EMBEDDED_STORE", "memory"),
        help="ours-embedded only: memory://NAME (default) or file:///DIR endpoints",
    )
    group.addoption(
        "--ledgers-from-server",
        action="store_true",
        default=False,
        help="HTTP targets: take module ledgers from `qldb-local --create-ledger` even when boto3 "
        "is importable (the path used when it is not)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "requires(*names): run only on targets with these capabilities "
        "(http, faults, control_plane, botocore, boto3, v2); deselected elsewhere",
    )
    config.addinivalue_line("markers", "v2: the pyqldb 2.x API (PooledQldbDriver, QldbSession, Transaction)")
    # pyqldb 3.2.4's read-ahead cursor calls Thread.setDaemon (pyqldb-api.md §9); not a test failure.
    config.addinivalue_line("filterwarnings", "ignore:setDaemon\\(\\) is deprecated:DeprecationWarning")
    if config.option.help:
        return
    target = config.getoption("--target")
    if not target:
        raise pytest.UsageError("tests/compat needs --target peer|ours-http|ours-embedded (or COMPAT_TARGET)")
    _check_package_under_test(target)
    config._compat_capabilities = Capabilities(target)
    if config.getoption("--ledgers-from-server"):
        config._compat_capabilities.control_plane = False


def _check_package_under_test(target):
    """The interpreter must hold the package the target names."""
    try:
        import pyqldb
    except ImportError as e:
        raise pytest.UsageError(f"--target {target}: `import pyqldb` fails in {sys.executable}: {e}") from e
    where = getattr(pyqldb, "__file__", "?")
    has_native = _importable("pyqldb._native")
    if target == "peer-v2":
        if has_native or pyqldb.__version__ != "2.0.2":
            raise pytest.UsageError(
                f"--target peer-v2 needs the ORIGINAL pyqldb 2.0.2; {sys.executable} has "
                f"pyqldb {pyqldb.__version__} at {where} (native module: {has_native})"
            )
    elif target == "peer":
        if has_native or pyqldb.__version__ != "3.2.4":
            raise pytest.UsageError(
                f"--target peer needs the ORIGINAL pyqldb 3.2.4 (.peer-venv); {sys.executable} has "
                f"pyqldb {pyqldb.__version__} at {where} (native module: {has_native})"
            )
    else:
        try:
            importlib.import_module("pyqldb._native")
        except ImportError as e:
            raise pytest.UsageError(
                f"--target {target} needs our package (pyqldb._native importable; .venv from `make develop`); "
                f"{sys.executable} has pyqldb at {where}: {e}"
            ) from e


def pytest_collection_modifyitems(session, config, items):
    caps = config._compat_capabilities
    selected, deselected = [], []
    for item in items:
        is_v2 = item.get_closest_marker("v2") is not None or Path(str(item.fspath)).name.startswith("test_v2_")
        if is_v2 and caps.target == "peer":
            raise pytest.UsageError(
                "the 2.x tests (tests/compat/test_v2_*.py) do not apply to the original pyqldb 3.2.4: exclude them "
                "from the peer run with --ignore-glob='tests/compat/test_v2_*.py' (make test-compat does)"
            )
        if caps.target == "peer-v2" and not is_v2:
            raise pytest.UsageError("--target peer-v2 (the original pyqldb 2.0.2) runs only tests/compat/test_v2_*.py")
        needs = []
        for marker in item.iter_markers("requires"):
            needs.extend(marker.args)
        if all(caps.has(n) for n in needs):
            selected.append(item)
        else:
            deselected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
    # For ledgers handed out by the server when boto3 is not available: one per module.
    config._compat_module_count = len({item.module.__name__ for item in items if hasattr(item, "module")})


def pytest_report_header(config):
    caps = getattr(config, "_compat_capabilities", None)
    if caps is None:
        return None
    import pyqldb

    return [
        f"compat target: {caps.target}; {caps!r}",
        f"pyqldb {pyqldb.__version__} from {os.path.dirname(pyqldb.__file__)}",
    ]


# --------------------------------------------------------------------------------------------------
# The qldb-local server (HTTP targets)
# --------------------------------------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter, exitstatus):
    """On failure, show where the server log is and its tail."""
    report_logs(terminalreporter, exitstatus)


@pytest.fixture(scope="session")
def capabilities(pytestconfig):
    """What the target supports (see ``Capabilities``)."""
    return pytestconfig._compat_capabilities


@pytest.fixture(scope="session")
def target(capabilities):
    return capabilities.target


@pytest.fixture(scope="session")
def qldb_server(capabilities, tmp_path_factory, pytestconfig):
    """The running qldb-local for HTTP targets; None for the embedded target."""
    if not capabilities.http:
        yield None
        return
    base = tmp_path_factory.mktemp("qldb-local")
    # Without boto3 there is no control-plane client: the server creates one ledger per module (and two
    # spare) at start, which the `ledger` fixture hands out.
    ledgers = (
        []
        if capabilities.control_plane
        else [f"compat-pool-{i}-{uuid.uuid4().hex[:8]}" for i in range(pytestconfig._compat_module_count + 2)]
    )
    pytestconfig._compat_unused_ledgers = list(ledgers)
    with QldbLocal(
        base / "server.log",
        data_dir=base / "data",
        transaction_timeout=TRANSACTION_TIMEOUT_SECONDS,
        ledgers=ledgers,
        export_endpoint=True,
    ) as server:
        yield server


@pytest.fixture(scope="session")
def embedded_endpoint(capabilities, pytestconfig, tmp_path_factory):
    """The endpoint_url of the embedded target (one engine for the whole run); None for HTTP targets."""
    if capabilities.http:
        return None
    if pytestconfig.getoption("--embedded-store") == "file":
        return "file://" + str(tmp_path_factory.mktemp("embedded-store"))
    return f"memory://compat-{uuid.uuid4().hex[:12]}"


def _ledger_name(module_name):
    prefix = re.sub(r"[^A-Za-z0-9]+", "-", module_name.split(".")[-1]).strip("-")[:18].strip("-") or "compat"
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def ledger(request, capabilities, qldb_server):
    """A fresh ledger per test module.

    HTTP: CreateLedger through boto3's ``qldb`` client when boto3 is importable (deleted afterwards),
    else one of the ledgers the server created at start-up (``--create-ledger``). Embedded: a new
    name; the embedded engine creates the ledger on first use.
    """
    if not capabilities.http:
        yield _ledger_name(request.module.__name__)
        return
    if not capabilities.control_plane:
        unused = request.config._compat_unused_ledgers
        assert unused, "more test modules than pre-created ledgers"
        yield unused.pop(0)
        return
    import boto3
    from botocore.config import Config

    client = boto3.client("qldb", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    name = _ledger_name(request.module.__name__)
    client.create_ledger(Name=name, PermissionsMode="ALLOW_ALL", DeletionProtection=False)
    for _ in range(100):
        if client.describe_ledger(Name=name)["State"] == "ACTIVE":
            break
        threading.Event().wait(0.1)
    else:
        pytest.fail(f"ledger {name} never became ACTIVE")
    yield name
    client.delete_ledger(Name=name)
    client.close()


def _endpoint_kwargs(capabilities, embedded_endpoint, kwargs):
    if capabilities.http:
        return kwargs
    kwargs = dict(kwargs)
    kwargs.setdefault("endpoint_url", embedded_endpoint)
    return kwargs


@pytest.fixture
def driver_factory(ledger, capabilities, qldb_server, embedded_endpoint):
    """``driver_factory(**kwargs)`` → ``QldbDriver(ledger, **kwargs)`` for the target; closed after the test.

    HTTP targets: no endpoint_url (the environment points at qldb-local). Embedded: endpoint_url of the
    run's embedded engine. Positional arguments follow the ledger name; ``ledger_name=`` overrides the
    module's ledger.
    """
    from pyqldb.driver.qldb_driver import QldbDriver

    made = []

    def make(*args, ledger_name=None, **kwargs):
        d = QldbDriver(ledger_name or ledger, *args, **_endpoint_kwargs(capabilities, embedded_endpoint, kwargs))
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


@pytest.fixture
def v2_driver_factory(ledger, capabilities, qldb_server, embedded_endpoint):
    """``v2_driver_factory(*args, **kwargs)`` → the 2.x ``PooledQldbDriver(ledger, *args, **kwargs)``."""
    from pyqldb.driver.pooled_qldb_driver import PooledQldbDriver

    made = []

    def make(*args, **kwargs):
        d = PooledQldbDriver(ledger, *args, **_endpoint_kwargs(capabilities, embedded_endpoint, kwargs))
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


@pytest.fixture(scope="module")
def driver(ledger, capabilities, qldb_server, embedded_endpoint):
    """A module-wide ``QldbDriver`` with default settings."""
    from pyqldb.driver.qldb_driver import QldbDriver

    d = QldbDriver(ledger, **_endpoint_kwargs(capabilities, embedded_endpoint, {}))
    yield d
    d.close()


@pytest.fixture
def fault(qldb_server):
    """``fault(command, reaction, nth=1, times=1)`` adds a server fault rule (HTTP targets only; tests
    using it carry ``@pytest.mark.requires("faults")``). ``fault.rules()`` lists rules with their hit
    counts. All rules are cleared before and after the test."""
    assert qldb_server is not None, "the fault fixture needs an HTTP target (mark the test requires('faults'))"
    with qldb_server.fault_rules() as add:
        yield add
