"""Fixtures of the peer suite: the ORIGINAL pyqldb 3.2.4 and boto3's ``qldb`` client against ``qldb-local``.

The suite builds nothing. ``make test-peer`` builds the server (``cargo build -p qldb-server``) and the
virtualenv (``scripts/peer-venv.sh``) first; this file only locates ``target/debug/qldb-local``
(``$QLDB_LOCAL_BIN`` overrides, ``$CARGO_TARGET_DIR`` is respected), starts it once per test session on a
temporary data directory with a short transaction timeout, and points the unmodified clients at it
through the standard ``AWS_ENDPOINT_URL_QLDB_SESSION`` / ``AWS_ENDPOINT_URL_QLDB`` variables (no
``endpoint_url`` argument anywhere). At the end the server gets SIGTERM and must exit with status 0.
"""

import atexit
import os
import re
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from peerlib import WireRecorder, create_ledger, delete_ledger, make_driver, make_qldb_client, \
    unique_ledger_name

REPO_ROOT = Path(__file__).resolve().parents[2]

# Seconds a transaction may stay open on the peer server. Short, so the expiry test is quick; long
# enough for every other transaction of the suite (the slowest is the 6-way join, well under 1 s).
TRANSACTION_TIMEOUT_SECONDS = 3

STARTUP_TIMEOUT_SECONDS = 30
SHUTDOWN_TIMEOUT_SECONDS = 20

LISTENING_RE = re.compile(r"^qldb-local listening on (http://(\S+):(\d+)) \(data: (.+)\)$")

# Credentials and region for the unmodified clients, set before any client exists. Isolate the
# clients from the caller's own AWS configuration, which could redirect or sign differently.
os.environ["AWS_ACCESS_KEY_ID"] = "AKIDPEERSUITE0000000"
os.environ["AWS_SECRET_ACCESS_KEY"] = "peer-suite-dummy-secret-key"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
for _name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL",
              "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_REGION"):
    os.environ.pop(_name, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
_no_proxy = "127.0.0.1,localhost"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = (
    _no_proxy + ("," + os.environ["NO_PROXY"] if os.environ.get("NO_PROXY") else ""))


def locate_binary():
    """Path of the qldb-local binary built by ``cargo build -p qldb-server`` (dev profile)."""
    override = os.environ.get("QLDB_LOCAL_BIN")
    if override:
        path = Path(override)
    else:
        target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
        if not target_dir.is_absolute():
            target_dir = REPO_ROOT / target_dir
        path = target_dir / "debug" / "qldb-local"
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"qldb-local binary not found at {path}. Build it first with `cargo build -p qldb-server` "
            "(or run `make test-peer`, which does), or point QLDB_LOCAL_BIN at it.",
            pytrace=False)
    return path


class QldbLocalServer:
    """One qldb-local process on a data directory; restartable on the same directory and port."""

    def __init__(self, binary, data_dir, log_path, transaction_timeout):
        self.binary = binary
        self.data_dir = data_dir
        self.log_path = log_path
        self.transaction_timeout = transaction_timeout
        self.process = None
        self.endpoint = None
        self.host = None
        self.port = None
        self.first_line = None
        self.exit_codes = []  # exit status of every stopped instance
        self._stdout_thread = None

    def start(self, port=0):
        args = [str(self.binary), "serve", "--data", str(self.data_dir), "--host", "127.0.0.1",
                "--port", str(port), "--transaction-timeout", str(self.transaction_timeout)]
        log = open(self.log_path, "ab")
        log.write(f"\n=== {' '.join(args)}\n".encode())
        log.flush()
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        line = self._read_first_line()
        match = LISTENING_RE.match(line)
        if not match:
            self._kill()
            raise AssertionError(
                f"qldb-local's first stdout line is not `qldb-local listening on http://<host>:<port> "
                f"(data: <dir>)`: {line!r} (stderr in {self.log_path})")
        self.first_line = line
        self.endpoint, self.host, self.port = match.group(1), match.group(2), int(match.group(3))
        assert self.host == "127.0.0.1", line
        assert self.port > 0, line
        assert match.group(4) == str(self.data_dir), line
        # Keep draining stdout so the server never blocks on a full pipe.
        self._stdout_thread = threading.Thread(target=self._drain_stdout, args=(self.process,), daemon=True)
        self._stdout_thread.start()
        os.environ["AWS_ENDPOINT_URL_QLDB_SESSION"] = self.endpoint
        os.environ["AWS_ENDPOINT_URL_QLDB"] = self.endpoint
        return self

    def _read_first_line(self):
        result = {}

        def read():
            result["line"] = self.process.stdout.readline()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(STARTUP_TIMEOUT_SECONDS)
        if reader.is_alive():
            self._kill()
            raise AssertionError(
                f"qldb-local printed no line within {STARTUP_TIMEOUT_SECONDS} s (stderr in {self.log_path})")
        raw = result["line"]
        if not raw:
            code = self.process.wait(5)
            raise AssertionError(
                f"qldb-local exited with status {code} before printing its address; stderr:\n"
                + self.log_path.read_text(errors="replace")[-4000:])
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    def _drain_stdout(self, process):
        with open(self.log_path, "ab") as log:
            for raw in iter(process.stdout.readline, b""):
                log.write(b"[stdout] " + raw)
                log.flush()

    def stop(self):
        """SIGTERM, then wait for the graceful exit; returns the exit status."""
        assert self.process is not None, "server not running"
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(SHUTDOWN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._kill()
            raise AssertionError(f"qldb-local did not exit within {SHUTDOWN_TIMEOUT_SECONDS} s of SIGTERM")
        finally:
            if self._stdout_thread is not None:
                self._stdout_thread.join(5)
            self.process = None
        self.exit_codes.append(code)
        return code

    def restart(self):
        """Stop gracefully (asserting exit 0) and start again on the same data directory and port."""
        code = self.stop()
        assert code == 0, f"qldb-local exited with status {code} on SIGTERM, expected 0"
        old_port = self.port
        try:
            self.start(port=old_port)
        except AssertionError:
            # The old port may be momentarily unavailable; a new one works too since every client
            # fixture reads the endpoint variables when it is created.
            self.start(port=0)
        return self

    def _kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


_SERVERS = []


def pytest_configure(config):
    # pyqldb 3.2.4's read-ahead cursor calls Thread.setDaemon (pyqldb-api.md §9); not ours to fix.
    config.addinivalue_line("filterwarnings", "ignore:setDaemon\\(\\) is deprecated:DeprecationWarning")


@atexit.register
def _kill_leftover_servers():
    for server in _SERVERS:
        server._kill()


def pytest_terminal_summary(terminalreporter, exitstatus):
    """On failure, show where the server log is and its tail."""
    if exitstatus == 0:
        return
    for server in _SERVERS:
        if server.log_path.exists():
            lines = server.log_path.read_text(errors="replace").splitlines()
            terminalreporter.section(f"qldb-local log (last 40 of {len(lines)} lines, {server.log_path})")
            for line in lines[-40:]:
                terminalreporter.line(line)


@pytest.fixture(scope="session")
def qldb_server(tmp_path_factory):
    """The running qldb-local (``--data`` on a temporary directory, short transaction timeout)."""
    binary = locate_binary()
    base = tmp_path_factory.mktemp("qldb-local")
    data_dir = base / "data"
    data_dir.mkdir()
    server = QldbLocalServer(binary, data_dir, base / "server.log", TRANSACTION_TIMEOUT_SECONDS)
    _SERVERS.append(server)
    server.start()
    yield server
    code = server.stop()
    assert code == 0, f"qldb-local exited with status {code} on SIGTERM, expected 0 (log: {server.log_path})"


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
