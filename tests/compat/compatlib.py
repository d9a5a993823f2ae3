"""Helpers of the compatibility suite. Only the public pyqldb API, amazon.ion and (when importable)
botocore are used; nothing here knows which implementation of pyqldb is under test."""

import importlib.util
import re
import threading
import uuid

from amazon.ion.simpleion import dumps, loads

BOTOCORE = importlib.util.find_spec("botocore") is not None

ID_RE = re.compile(r"^[A-Za-z0-9]{22}$")

RESULT_CLOSED_PREFIX = ("A streamed result is only valid when the parent transaction is open. "
                        "Please start a new transaction and retry.\nSessionToken: ")


def run(driver, statement, *parameters):
    """One statement in its own transaction; the rows as a list."""
    return list(driver.execute_lambda(lambda executor: executor.execute_statement(statement, *parameters)))


def unique_table(prefix="T"):
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def create_table(driver, name=None):
    name = name or unique_table()
    rows = run(driver, f"CREATE TABLE {name}")
    assert len(rows) == 1 and ID_RE.match(str(rows[0]["tableId"])), rows
    return name


def count(driver, table, where="", *parameters):
    rows = run(driver, f"SELECT COUNT(*) FROM {table} {where}", *parameters)
    assert len(rows) == 1, rows
    return int(rows[0]["_1"])


# --------------------------------------------------------------------------------------------------
# Errors reaching users as botocore ClientError (or a compatible class)
# --------------------------------------------------------------------------------------------------

def assert_client_error(error, code=None, status=None, message=None):
    """``error`` carries botocore's ``response`` dict; checks code, HTTP status and message (a regex).

    Where botocore is importable, the error must also be a ``botocore.exceptions.ClientError``.
    Returns ``(code, message, status)``.
    """
    response = getattr(error, "response", None)
    assert isinstance(response, dict), f"expected a ClientError with .response, got {type(error).__name__}: {error!r}"
    if BOTOCORE:
        from botocore.exceptions import ClientError
        assert isinstance(error, ClientError), \
            f"{type(error).__module__}.{type(error).__name__} is not a botocore.exceptions.ClientError"
    got_code = response["Error"]["Code"]
    got_message = response["Error"].get("Message")
    got_status = response["ResponseMetadata"]["HTTPStatusCode"]
    if code is not None:
        assert got_code == code, response
    if status is not None:
        assert got_status == status, response
    if message is not None:
        assert got_message is not None and re.search(message, got_message), response
    return got_code, got_message, got_status


def is_client_error(error):
    return isinstance(getattr(error, "response", None), dict) and "Error" in error.response


# --------------------------------------------------------------------------------------------------
# Ion values
# --------------------------------------------------------------------------------------------------

def ion_text(value):
    """Canonical Ion text of an amazon.ion value (annotations, type and precision included)."""
    return dumps(value, binary=False, omit_version_marker=True)


def ion(text):
    """An amazon.ion value from Ion text."""
    return loads(text)


def assert_ion_type(value, ion_type):
    assert hasattr(value, "ion_type"), f"{type(value).__name__} {value!r} has no ion_type (not an IonPy* value)"
    assert value.ion_type == ion_type, (value.ion_type, ion_type, value)
    assert hasattr(value, "ion_annotations"), value


# --------------------------------------------------------------------------------------------------
# Forcing an OCC conflict deterministically
# --------------------------------------------------------------------------------------------------

class Conflicter:
    """Inside a transaction that scanned ``table``, commit a change to ``table`` from another driver.

    The scanning transaction then fails its commit with OccConflictException (semantics.md §4: a scan
    reads the whole table; a commit by a transaction that started later invalidates it).
    """

    def __init__(self, other_driver, table):
        self.other = other_driver
        self.table = table
        self.done = 0

    def __call__(self):
        self.other.execute_lambda(
            lambda ex: list(ex.execute_statement(f"INSERT INTO {self.table} ?", {"noise": self.done})))
        self.done += 1


def run_in_thread(fn, *args):
    """Start ``fn(*args)`` in a thread; returns (thread, box) where box gets 'result' or 'error'."""
    box = {}

    def target():
        try:
            box["result"] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            box["error"] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


