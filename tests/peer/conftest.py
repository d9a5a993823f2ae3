"""Fixtures of the peer suite: the ORIGINAL pyqldb 3.2.4 and boto3's ``qldb`` client against ``qldb-local``.

The suite builds nothing. ``make test-peer`` builds the server (``cargo build -p qldb-server``) and the
virtualenv (``scripts/peer-venv.sh``) first; this file only starts ``target/debug/qldb-local``
(``$QLDB_LOCAL_BIN`` overrides, ``$CARGO_TARGET_DIR`` is respected; see ``tests/qldb_local.py``) once per
test session on a temporary data directory with a short transaction timeout, and points the unmodified
clients at it through the standard ``AWS_ENDPOINT_URL_QLDB_SESSION`` / ``AWS_ENDPOINT_URL_QLDB`` variables
(no ``endpoint_url`` argument anywhere). ``restart_server`` restarts it on the same directory and port. At
the end the server gets SIGTERM and must exit with status 0.
"""

import pytest
from peerlib import WireRecorder, create_ledger, delete_ledger, make_driver, make_qldb_client, unique_ledger_name
from qldb_local import QldbLocal, isolate_aws_environment, report_logs

# Seconds a transaction may stay open on the peer server. Short, so the expiry test is quick; long
# enough for every other transaction of the suite (the slowest is the 6-way join, well under 1 s).
TRANSACTION_TIMEOUT_SECONDS = 3

# Set before any client exists.
isolate_aws_environment("AKIDPEERSUITE0000000", "peer-suite-dummy-secret-key")


def pytest_configure(config):
    # pyqldb 3.2.4's read-ahead cursor calls Thread.setDaemon (pyqldb-api.md §9); not ours to fix.
    config.addinivalue_line("filterwarnings", "ignore:setDaemon\\(\\) is deprecated:DeprecationWarning")


def pytest_terminal_summary(terminalreporter, exitstatus):
    """On failure, show where the server log is and its tail."""
    report_logs(terminalreporter, exitstatus)


@pytest.fixture(scope="session")
def qldb_server(tmp_path_factory):
    """The running qldb-local (``--data`` on a temporary directory, short transaction timeout)."""
    base = tmp_path_factory.mktemp("qldb-local")
    with QldbLocal(
        base / "server.log",
        data_dir=base / "data",
        transaction_timeout=TRANSACTION_TIMEOUT_SECONDS,
        export_endpoint=True,
    ) as server:
        yield server


@pytest.fixture(scope="session")
def restart_server(qldb_server):
    """Callable restarting the server on the same data directory; clients made before must be recreated."""
    return qldb_server.restart


@pytest.fixture(scope="module")
def qldb_client(qldb_server):
    client = make_qldb_client()
    assert client.meta.endpoint_url == qldb_server.endpoint, client.meta.endpoint_url
    yield client
    client.close()


@pytest.fixture(scope="module")
def ledger(request, qldb_client):
    """A fresh ledger per test module (CreateLedger, ALLOW_ALL, no deletion protection), deleted afterwards."""
    name = create_ledger(qldb_client, unique_ledger_name(request.module.__name__.split(".")[-1]))
    yield name
    # A test may have restarted the server: talk to whatever endpoint is current.
    client = make_qldb_client()
    try:
        delete_ledger(client, name)
    finally:
        client.close()


@pytest.fixture(scope="module")
def driver(ledger, qldb_server):
    qldb_driver = make_driver(ledger)
    assert qldb_driver._client.meta.endpoint_url == qldb_server.endpoint, qldb_driver._client.meta.endpoint_url
    yield qldb_driver
    qldb_driver.close()


@pytest.fixture
def wire_recorder():
    """Factory: ``wire_recorder(driver)`` starts recording that driver's SendCommand calls."""
    return WireRecorder
