"""Fixtures of our package's own test suite (``make test-python``).

- Embedded ledgers: ``memory_endpoint`` (a fresh ``memory://`` engine per test) and ``file_endpoint``
  (``file://`` on a temporary directory, forgotten by the process afterwards).
- ``server``: one ``qldb-local serve --memory --port 0`` per session (``target/debug/qldb-local``, built by
  ``cargo build -p qldb-server``; ``$QLDB_LOCAL_BIN`` overrides) with pre-created ledgers, its fault
  admin API (``server.fault(...)``), and ``start_server(*args)`` for servers with their own flags.

HTTP clients get dummy credentials and a region from the environment; the caller's AWS configuration
is hidden so nothing here can reach anything but the loopback server.
"""

import json
import os
import re
import signal
import subprocess
import threading
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LISTENING_RE = re.compile(r"^qldb-local listening on (http://(\S+):(\d+)) \(data: (.+)\)$")
SERVER_LEDGERS = ("py-main", "py-faults", "py-pool", "py-values", "py-interrupt", "py-session")

os.environ["AWS_ACCESS_KEY_ID"] = "AKIDPYTESTS000000000"
os.environ["AWS_SECRET_ACCESS_KEY"] = "pytests-dummy-secret"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
for _name in (
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_QLDB_SESSION",
    "AWS_ENDPOINT_URL_QLDB",
    "AWS_REGION",
):
    os.environ.pop(_name, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


def qldb_local_binary():
    override = os.environ.get("QLDB_LOCAL_BIN")
    if override:
        path = Path(override)
    else:
        target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
        if not target.is_absolute():
            target = REPO_ROOT / target
        path = target / "debug" / "qldb-local"
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"{path} not found: run `cargo build -p qldb-server` (make test-python does)", pytrace=False)
    return path


class Server:
    """A running qldb-local on a free loopback port."""

    def __init__(self, args, log_path):
        command = [str(qldb_local_binary()), "serve", "--memory", "--host", "127.0.0.1", "--port", "0", *args]
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        line = self._first_line()
        match = LISTENING_RE.match(line)
        if not match:
            self.kill()
            pytest.fail(f"unexpected first line from qldb-local: {line!r} (log {log_path})", pytrace=False)
        self.endpoint = match.group(1)
        threading.Thread(target=self._drain, daemon=True).start()

    def _first_line(self):
        box = {}
        reader = threading.Thread(target=lambda: box.setdefault("line", self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(30)
        if not box.get("line"):
            self.kill()
            pytest.fail("qldb-local printed no address; log:\n" + self.log_path.read_text(errors="replace"))
        return box["line"].decode("utf-8", "replace").rstrip("\r\n")

    def _drain(self):
        for _ in iter(self.process.stdout.readline, b""):
            pass

    def admin(self, method, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.endpoint + "/_qldb_local/faults",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")

    def fault(self, command, reaction, nth=1, times=1):
        """Adds a fault rule (the admin API's ``{"command", "nth", "times", "reaction"}``)."""
        return self.admin("POST", {"command": command, "nth": nth, "times": times, "reaction": reaction})

    def rules(self):
        return self.admin("GET")["rules"]

    def clear_faults(self):
        return self.admin("DELETE")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The session's qldb-local (in memory) with the ledgers of ``SERVER_LEDGERS``; faults cleared per test
    by ``faults``."""
    args = []
    for name in SERVER_LEDGERS:
        args += ["--create-ledger", name]
    s = Server(args, tmp_path_factory.mktemp("qldb-local") / "server.log")
    yield s
    assert s.stop() == 0


@pytest.fixture
def faults(server):
    """The session server with no fault rules before and after the test."""
    server.clear_faults()
    yield server
    server.clear_faults()


@pytest.fixture
def start_server(tmp_path):
    """``start_server(*args)``: a dedicated qldb-local with extra flags, stopped after the test."""
    started = []

    def start(*args):
        s = Server(list(args), tmp_path / f"server-{len(started)}.log")
        started.append(s)
        return s

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
