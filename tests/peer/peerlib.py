"""Helpers shared by the peer tests: clients built from the environment only, ledger set-up, a wire
recorder on botocore's public event hooks, and the client-side hashing of hashing.md (Ion Hash via the
``ionhash`` package, ``dot`` of §2, proof folding of §7)."""

import hashlib
import re
import threading
import time
import uuid
from array import array

import ionhash  # noqa: F401  (adds .ion_hash() to the amazon.ion simple types)
from amazon.ion.simpleion import dumps, loads
from botocore.exceptions import ClientError


# --------------------------------------------------------------------------------------------------
# Clients and ledgers
# --------------------------------------------------------------------------------------------------

def make_qldb_client():
    """boto3's control-plane ``qldb`` client, configured only through the environment (SDK retries off)."""
    import boto3
    from botocore.config import Config
    return boto3.client("qldb", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def make_driver(ledger_name, **kwargs):
    """The original pyqldb driver; the endpoint comes from AWS_ENDPOINT_URL_QLDB_SESSION only."""
    from pyqldb.driver.qldb_driver import QldbDriver
    return QldbDriver(ledger_name, **kwargs)


def unique_ledger_name(prefix):
    """A valid ledger name (1-32 chars of [A-Za-z0-9-], no doubled, leading or trailing hyphen)."""
    prefix = re.sub(r"[^A-Za-z0-9]+", "-", prefix).strip("-")[:18].strip("-") or "peer"
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_until_active(client, name, timeout=10.0):
    """Poll DescribeLedger until ACTIVE; returns the number of DescribeLedger calls it took."""
    deadline = time.monotonic() + timeout
    polls = 0
    while True:
        polls += 1
        state = client.describe_ledger(Name=name)["State"]
        if state == "ACTIVE":
            return polls
        assert state == "CREATING", f"ledger {name} in state {state} while waiting for ACTIVE"
        assert time.monotonic() < deadline, f"ledger {name} not ACTIVE after {timeout} s"
        time.sleep(0.2)


def create_ledger(client, name):
    response = client.create_ledger(Name=name, PermissionsMode="ALLOW_ALL", DeletionProtection=False)
    assert response["Name"] == name, response
    wait_until_active(client, name)
    return name


def delete_ledger(client, name):
    client.update_ledger(Name=name, DeletionProtection=False)
    client.delete_ledger(Name=name)


# --------------------------------------------------------------------------------------------------
# Statements
# --------------------------------------------------------------------------------------------------

def run(qldb_driver, statement, *parameters):
    """Run one statement in its own transaction through execute_lambda; returns the rows as a list."""
    return list(qldb_driver.execute_lambda(lambda executor: executor.execute_statement(statement, *parameters)))


def create_table(qldb_driver, table):
    rows = run(qldb_driver, f"CREATE TABLE {table}")
    assert len(rows) == 1, rows
    assert len(rows[0]["tableId"]) == 22, rows
    return str(rows[0]["tableId"])


def error_code(error):
    assert isinstance(error, ClientError), f"expected a botocore ClientError, got {type(error).__name__}: {error}"
    return error.response["Error"]["Code"]


def error_message(error):
    assert isinstance(error, ClientError), f"expected a botocore ClientError, got {type(error).__name__}: {error}"
    return error.response["Error"].get("Message")


def http_status(error):
    return error.response["ResponseMetadata"]["HTTPStatusCode"]


# --------------------------------------------------------------------------------------------------
# Wire recorder
# --------------------------------------------------------------------------------------------------

class WireRecorder:
    """Records every SendCommand a driver's botocore client sends, with its HTTP status and error.

    Uses botocore's public event hooks on the driver's client; the driver itself is untouched.
    """

    COMMANDS = ("StartSession", "StartTransaction", "ExecuteStatement", "FetchPage", "CommitTransaction",
                "AbortTransaction", "EndSession")

    def __init__(self, qldb_driver):
        self.calls = []
        self._lock = threading.Lock()
        events = qldb_driver._client.meta.events
        events.register("before-parameter-build.qldb-session.SendCommand", self._before)
        events.register("after-call.qldb-session.SendCommand", self._after)

    def _before(self, params, context, **_):
        context["peer_command"] = [c for c in self.COMMANDS if c in params]
        context["peer_params"] = params

    def _after(self, http_response, parsed, context, **_):
        error = parsed.get("Error", {}) if isinstance(parsed, dict) else {}
        commands = context.get("peer_command") or ["?"]
        with self._lock:
            self.calls.append({
                "command": commands[0],
                "status": http_response.status_code,
                "code": error.get("Code"),
                "message": error.get("Message"),
                "params": context.get("peer_params"),
                "parsed": parsed,
            })

    def commands(self):
        with self._lock:
            return [c["command"] for c in self.calls]

    def describe(self):
        with self._lock:
            return [(c["command"], c["status"], c["code"], c["message"]) for c in self.calls]

    def clear(self):
        with self._lock:
            self.calls.clear()


# --------------------------------------------------------------------------------------------------
# Client-side hashing (hashing.md)
# --------------------------------------------------------------------------------------------------

def ion_hash(value):
    """Ion Hash (SHA-256) of an amazon.ion value, via the ionhash package. Python str → Ion string."""
    if not hasattr(value, "ion_annotations"):
        value = loads(dumps(value))
    return bytes(value.ion_hash("SHA256"))


def _signed_compare(a, b):
    """hashing.md §2: compare as signed bytes from index 31 down to 0."""
    sa, sb = array("b", a), array("b", b)
    for i in range(31, -1, -1):
        if sa[i] != sb[i]:
            return sa[i] - sb[i]
    return 0


def dot(a, b):
    """hashing.md §2: SHA-256 over the two 32-byte hashes, the smaller (signed, from the end) first."""
    a, b = bytes(a), bytes(b)
    assert len(a) == 32 and len(b) == 32, (len(a), len(b))
    first, second = (a, b) if _signed_compare(a, b) < 0 else (b, a)
    return hashlib.sha256(first + second).digest()


def revision_hash(data, metadata):
    """hashing.md §4: dot(H(data), H(metadata))."""
    return dot(ion_hash(data), ion_hash(metadata))


def fold_proof(leaf, proof_hashes):
    """hashing.md §7: candidate = leaf, then candidate = dot(candidate, p) for each proof hash in order."""
    candidate = bytes(leaf)
    for p in proof_hashes:
        candidate = dot(candidate, bytes(p))
    return candidate


def merkle_root(hashes):
    """hashing.md §5: combine neighbours left to right with dot; an odd last one is carried up unchanged."""
    level = [bytes(h) for h in hashes]
    if not level:
        return b""
    while len(level) > 1:
        nxt = [dot(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def flip_bit(data, bit=0):
    """A copy of ``data`` with one bit inverted."""
    buf = bytearray(data)
    buf[bit // 8] ^= 1 << (bit % 8)
    return bytes(buf)
