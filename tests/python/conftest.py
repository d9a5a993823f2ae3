"""Fixtures of our package's own test suite (``make test-python``).

- Embedded ledgers: ``memory_endpoint`` (a fresh ``memory://`` engine per test) and ``file_endpoint``
  (``file://`` on a temporary directory, forgotten by the process afterwards).
- ``server``: one ``qldb-local serve --memory --port 0`` per session (``target/debug/qldb-local``, built by
  ``cargo build -p qldb-server``; ``$QLDB_LOCAL_BIN`` overrides; see ``tests/qldb_local.py``) with
  pre-created ledgers, its fault admin API (``server.fault(...)``), and ``start_server(*args)`` for servers
  with their own flags.

HTTP clients get dummy credentials and a region from the environment; the caller's AWS configuration
is hidden so nothing here can reach anything but the loopback server.
"""

import uuid

import pytest
from qldb_local import QldbLocal, isolate_aws_environment

SERVER_LEDGERS = ("py-main", "py-faults", "py-pool", "py-values", "py-interrupt", "py-session")

isolate_aws_environment("AKIDPYTESTS000000000", "pytests-dummy-secret")


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The session's qldb-local (in memory) with the ledgers of ``SERVER_LEDGERS``; faults cleared per test
    by ``faults``."""
    with QldbLocal(tmp_path_factory.mktemp("qldb-local") / "server.log", ledgers=SERVER_LEDGERS) as s:
        yield s


@pytest.fixture
def faults(server):
    """The session server with no fault rules before and after the test."""
    with server.fault_rules():
        yield server


@pytest.fixture
def start_server(tmp_path):
    """``start_server(*args)``: a dedicated qldb-local (in memory) with extra flags, killed after the test."""
    started = []

    def start(*args):
        s = QldbLocal(tmp_path / f"server-{len(started)}.log", args=args)
        started.append(s)
        return s.start()

    yield start
    for s in started:
        s.kill()


@pytest.fixture
def memory_endpoint():
    return f"memory://pytest-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def file_endpoint(tmp_path):
    from pyqldb.local import forget

    endpoint = "file://" + str(tmp_path / "ledgers")
    yield endpoint
    forget(endpoint)


@pytest.fixture
def drivers():
    """``drivers(ledger, **kwargs)`` → a ``QldbDriver`` closed after the test."""
    from pyqldb.driver.qldb_driver import QldbDriver

    made = []

    def make(ledger="ledger", **kwargs):
        d = QldbDriver(ledger, **kwargs)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


@pytest.fixture
def driver(drivers, memory_endpoint):
    """A driver on a fresh embedded in-memory ledger."""
    return drivers("ledger", endpoint_url=memory_endpoint)
