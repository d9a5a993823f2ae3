"""``qldb-local`` for the three pytest suites (tests/peer, tests/compat, tests/python): find it, start it,
talk to its admin API, stop it.

Standard library only: the suites run in different virtualenvs (``.peer-venv`` holds the original pyqldb,
``.venv`` ours), so nothing is installed; pytest's ``pythonpath`` option (pyproject.toml) puts ``tests/``
on ``sys.path`` and the conftests ``import qldb_local``.

- ``locate_binary()``: ``target/debug/qldb-local`` from ``cargo build -p qldb-server`` (the suites build
  nothing; the ``make test-*`` targets do). ``$QLDB_LOCAL_BIN`` overrides, ``$CARGO_TARGET_DIR`` is respected.
- ``QldbLocal``: one server on 127.0.0.1 and a free port, in memory or on a data directory, checked through
  its first stdout line; the fault-injection admin API; SIGTERM (which must exit 0), kill, restart on the
  same port. Servers left running when the interpreter exits are killed.
- ``isolate_aws_environment()``: dummy credentials and a region for unmodified clients, the caller's own
  AWS configuration hidden.
- ``report_logs()``: the tail of every server's log in pytest's terminal summary when a run fails.

Failures raise ``QldbLocalError``; frames of this file are hidden from pytest's tracebacks.
"""

import atexit
import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 30
SHUTDOWN_TIMEOUT_SECONDS = 20
# qldb-local's first stdout line (crates/qldb-server/src/server.rs); `--port 0` makes it the only way to
# learn the port.
LISTENING_RE = re.compile(r"^qldb-local listening on (http://(\S+):(\d+)) \(data: (.+)\)$")

# Every server made in this process: killed at exit if still running, logs shown by report_logs().
SERVERS = []


class QldbLocalError(Exception):
    """qldb-local is missing, did not start or stop as expected, or its admin API answered unexpectedly."""


def isolate_aws_environment(access_key_id, secret_access_key):
    """Dummy credentials and a region for every client made afterwards (call before any exists).

    The caller's AWS configuration (profiles, credentials, endpoints, instance metadata, proxies) must not
    redirect or re-sign anything: the suites talk to the loopback server or to nothing. Each suite passes its
    own key id, so server logs show whose requests they are.
    """
    os.environ["AWS_ACCESS_KEY_ID"] = access_key_id
    os.environ["AWS_SECRET_ACCESS_KEY"] = secret_access_key
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    for name in (
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_QLDB_SESSION",
        "AWS_ENDPOINT_URL_QLDB",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_REGION",
    ):
        os.environ.pop(name, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    loopback = "127.0.0.1,localhost"
    if os.environ.get("NO_PROXY"):
        loopback += "," + os.environ["NO_PROXY"]
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = loopback


def locate_binary():
    """Path of ``qldb-local`` (dev profile): ``$QLDB_LOCAL_BIN``, else ``debug/qldb-local`` in the target dir."""
    __tracebackhide__ = True
    override = os.environ.get("QLDB_LOCAL_BIN")
    if override:
        path = Path(override)
    else:
        target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
        if not target_dir.is_absolute():
            target_dir = REPO_ROOT / target_dir
        path = target_dir / "debug" / "qldb-local"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise QldbLocalError(
            f"qldb-local binary not found at {path}: run `cargo build -p qldb-server` (the `make test-*` "
            "targets do) or set QLDB_LOCAL_BIN"
        )
    return path


class QldbLocal:
    """One ``qldb-local serve`` process on 127.0.0.1; ``start()`` it, then use ``endpoint``. As a context
    manager: started on entry, ``stop()``-ped on exit (killed if the block raised).

    ``data_dir``: ``--data DIR``, created if missing (else ``--memory``). ``transaction_timeout``:
    ``--transaction-timeout`` seconds (else the server's default). ``ledgers``: created at start-up
    (``--create-ledger``), for clients without a control plane. ``args``: further flags. ``export_endpoint``:
    point AWS_ENDPOINT_URL_QLDB_SESSION and AWS_ENDPOINT_URL_QLDB at the server on every start, which is how
    unmodified clients find it. stdout after the first line and stderr go to ``log_path``.
    """

    def __init__(
        self, log_path, *, data_dir=None, transaction_timeout=None, ledgers=(), args=(), export_endpoint=False
    ):
        __tracebackhide__ = True
        self.binary = locate_binary()
        self.log_path = Path(log_path)
        self.data_dir = data_dir
        if data_dir is not None:
            Path(data_dir).mkdir(parents=True, exist_ok=True)
        self.transaction_timeout = transaction_timeout
        self.ledgers = tuple(ledgers)
        self.export_endpoint = export_endpoint
        self.flags = ["--data", str(data_dir)] if data_dir is not None else ["--memory"]
        if transaction_timeout is not None:
            self.flags += ["--transaction-timeout", str(transaction_timeout)]
        for name in self.ledgers:
            self.flags += ["--create-ledger", name]
        self.flags += list(args)
        self.process = None
        self.first_line = self.endpoint = self.host = self.port = None
        self.exit_codes = []  # exit status of every stopped instance
        self._drain = None
        SERVERS.append(self)

    def __enter__(self):
        __tracebackhide__ = True
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        __tracebackhide__ = True
        if exc_type is None:
            self.stop()
        else:
            self.kill()

    def start(self, port=0):
        """Start (port 0: a free one) and wait for the listening line; returns self."""
        __tracebackhide__ = True
        command = [str(self.binary), "serve", "--host", HOST, "--port", str(port), *self.flags]
        with open(self.log_path, "ab") as log:
            log.write(f"=== {' '.join(command)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        line = self._first_line()
        match = LISTENING_RE.match(line)
        problem = None
        if not match:
            problem = "is not `qldb-local listening on http://<host>:<port> (data: <dir or memory>)`"
        elif match.group(2) != HOST or int(match.group(3)) <= 0:
            problem = f"does not name {HOST} and a port"
        elif self.data_dir is not None and match.group(4) != str(self.data_dir):
            problem = f"does not name the data directory {self.data_dir}"
        if problem:
            self.kill()
            raise QldbLocalError(f"qldb-local's first stdout line {problem}: {line!r} (log {self.log_path})")
        self.first_line = line
        self.endpoint, self.host, self.port = match.group(1), match.group(2), int(match.group(3))
        # Keep draining stdout, or the server blocks once the pipe is full.
        self._drain = threading.Thread(target=self._drain_stdout, args=(self.process,), daemon=True)
        self._drain.start()
        if self.export_endpoint:
            os.environ["AWS_ENDPOINT_URL_QLDB_SESSION"] = self.endpoint
            os.environ["AWS_ENDPOINT_URL_QLDB"] = self.endpoint
        return self

    def _first_line(self):
        __tracebackhide__ = True
        # readline() has no timeout: read on a thread so a silent server fails the run instead of hanging it.
        box = {}
        reader = threading.Thread(target=lambda: box.setdefault("line", self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(STARTUP_TIMEOUT_SECONDS)
        if reader.is_alive():
            self.kill()
            raise QldbLocalError(
                f"qldb-local printed no line within {STARTUP_TIMEOUT_SECONDS} s; log:\n{self._log_tail()}"
            )
        if not box["line"]:
            code = self.process.wait(5)
            raise QldbLocalError(
                f"qldb-local exited with status {code} before printing its address; log:\n{self._log_tail()}"
            )
        return box["line"].decode("utf-8", "replace").rstrip("\r\n")

    def _log_tail(self):
        return self.log_path.read_text(errors="replace")[-4000:]

    def _drain_stdout(self, process):
        with open(self.log_path, "ab") as log:
            for raw in iter(process.stdout.readline, b""):
                log.write(b"[stdout] " + raw)
                log.flush()

    def stop(self):
        """SIGTERM and wait for the graceful exit, which must have status 0; returns it."""
        __tracebackhide__ = True
        if self.process is None:
            raise QldbLocalError("qldb-local is not running")
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(SHUTDOWN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            code = None
        finally:
            if self._drain is not None:
                self._drain.join(5)
            self.process = None
        self.exit_codes.append(code)
        if code != 0:
            what = (
                f"exited with status {code}" if code is not None else f"was killed after {SHUTDOWN_TIMEOUT_SECONDS} s"
            )
            raise QldbLocalError(f"qldb-local {what} on SIGTERM, expected a graceful exit 0 (log {self.log_path})")
        return code

    def restart(self):
        """``stop()``, then start again with the same flags (data directory) on the same port if it is free."""
        __tracebackhide__ = True
        self.stop()
        try:
            return self.start(port=self.port)
        except QldbLocalError:
            # The old port may be momentarily unavailable; a new one serves as well, as long as clients are
            # made after the restart (export_endpoint updates the variables they read).
            return self.start(port=0)

    def kill(self):
        """SIGKILL if running (no graceful shutdown, no exit status check)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    # The fault-injection admin API: loopback only, unsigned, JSON.
    def admin(self, method, body=None):
        """``method`` on ``/_qldb_local/faults`` with ``body`` as JSON; returns the decoded answer."""
        __tracebackhide__ = True
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.endpoint}/_qldb_local/faults",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 200:
                raise QldbLocalError(f"{method} /_qldb_local/faults answered HTTP {response.status}")
            return json.loads(response.read() or b"{}")

    def fault(self, command, reaction, nth=1, times=1):
        """Adds a rule: the ``nth`` ``command`` (and ``times - 1`` more) gets ``reaction``."""
        return self.admin("POST", {"command": command, "nth": nth, "times": times, "reaction": reaction})

    def rules(self):
        """The fault rules with their hit counts."""
        return self.admin("GET")["rules"]

    def clear_faults(self):
        return self.admin("DELETE")

    @contextlib.contextmanager
    def fault_rules(self):
        """``with server.fault_rules() as fault:`` no rules on entry or exit; ``fault(command, reaction, nth=1,
        times=1)`` adds one, ``fault.rules()`` lists them, ``fault.clear()`` removes them."""

        def fault(command, reaction, nth=1, times=1):
            return self.fault(command, reaction, nth=nth, times=times)

        fault.rules = self.rules
        fault.clear = self.clear_faults
        self.clear_faults()
        try:
            yield fault
        finally:
            self.clear_faults()


@atexit.register
def kill_leftovers():
    """A failed or interrupted run must not leave servers behind."""
    for server in SERVERS:
        server.kill()


def report_logs(terminalreporter, exitstatus, lines=40):
    """For ``pytest_terminal_summary``: on failure, where each server's log is and its last ``lines`` lines."""
    if exitstatus == 0:
        return
    for server in SERVERS:
        if server.log_path.exists():
            text = server.log_path.read_text(errors="replace").splitlines()
            terminalreporter.section(f"qldb-local log (last {lines} of {len(text)} lines, {server.log_path})")
            for line in text[-lines:]:
                terminalreporter.line(line)
