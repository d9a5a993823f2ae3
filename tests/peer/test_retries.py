"""pyqldb's retry rules (pyqldb-api.md §2-§4) against the server's error answers, provoked through the
qldb-local fault-injection admin API (``POST/DELETE /_qldb_local/faults``): HTTP 500, HTTP 503 and
CapacityExceededException are retried with an abort in between; OccConflictException is retried on the
same session without an abort; InvalidSessionException on StartTransaction costs a new StartSession;
a dropped connection is retried; RateExceededException and an expiry are not retried; 503 on every try
surfaces after 5 attempts. The driver sees exactly the command sequences of pyqldb-api.md §3."""

import re

import pytest
from botocore.exceptions import ClientError
from peerlib import WireRecorder, create_table, error_code, error_message, http_status, make_driver, run
from pyqldb.config.retry_config import RetryConfig


@pytest.fixture(scope="module")
def retry_table(driver):
    create_table(driver, "Retry")
    return "Retry"


@pytest.fixture
def fault(qldb_server):
    """``fault(command, reaction, nth=1, times=1)`` adds a rule; every rule is cleared afterwards."""
    with qldb_server.fault_rules() as add:
        yield add


@pytest.fixture
def fresh_driver(ledger, retry_table):
    """A driver of its own, with zero backoff so retries cost no time."""
    qldb_driver = make_driver(ledger, retry_config=RetryConfig(retry_limit=4, custom_backoff=lambda *_: 0))
    # Warm the pool: one session, so sequences below start at StartTransaction.
    run(qldb_driver, "SELECT * FROM Retry")
    yield qldb_driver
    qldb_driver.close()


def insert_counting(qldb_driver, marker):
    calls = []

    def body(executor):
        calls.append(executor.transaction_id)
        return list(executor.execute_statement("INSERT INTO Retry ?", {"marker": marker}))

    return body, calls


@pytest.mark.parametrize(
    "reaction, status, code",
    [
        ("http500", 500, None),
        ("http503", 503, None),
        ("capacity", 503, "CapacityExceededException"),
    ],
)
def test_server_errors_are_retried_with_an_abort(fresh_driver, fault, reaction, status, code):
    recorder = WireRecorder(fresh_driver)
    fault("ExecuteStatement", reaction)
    body, calls = insert_counting(fresh_driver, reaction)
    fresh_driver.execute_lambda(body)
    assert len(calls) == 2
    failed = [c for c in recorder.calls if c["status"] != 200]
    assert [(c["command"], c["status"]) for c in failed] == [("ExecuteStatement", status)], recorder.describe()
    if code:
        assert failed[0]["code"] == code, recorder.describe()
    sequence = recorder.commands()
    assert sequence[:3] == ["StartTransaction", "ExecuteStatement", "AbortTransaction"], recorder.describe()
    assert sequence[-3:] == ["StartTransaction", "ExecuteStatement", "CommitTransaction"], recorder.describe()
    assert run(fresh_driver, "SELECT COUNT(*) FROM Retry WHERE marker = ?", reaction)[0]["_1"] == 1


def test_occ_is_retried_on_the_same_session_without_abort(fresh_driver, fault):
    recorder = WireRecorder(fresh_driver)
    fault("CommitTransaction", "occ")
    body, calls = insert_counting(fresh_driver, "occ")
    fresh_driver.execute_lambda(body)
    assert len(calls) == 2 and calls[0] != calls[1]
    assert recorder.commands() == [
        "StartTransaction",
        "ExecuteStatement",
        "CommitTransaction",
        "StartTransaction",
        "ExecuteStatement",
        "CommitTransaction",
    ], recorder.describe()
    assert recorder.calls[2]["code"] == "OccConflictException"
    assert run(fresh_driver, "SELECT COUNT(*) FROM Retry WHERE marker = 'occ'")[0]["_1"] == 1


def test_invalid_session_starts_a_new_session(fresh_driver, fault):
    recorder = WireRecorder(fresh_driver)
    fault("StartTransaction", "invalid-session")
    body, calls = insert_counting(fresh_driver, "ise")
    fresh_driver.execute_lambda(body)
    assert len(calls) == 1
    assert recorder.commands() == [
        "StartTransaction",
        "StartSession",
        "StartTransaction",
        "ExecuteStatement",
        "CommitTransaction",
    ], recorder.describe()
    assert recorder.calls[0]["code"] == "InvalidSessionException"


def test_dropped_connection_is_retried(fresh_driver, fault):
    recorder = WireRecorder(fresh_driver)
    fault("ExecuteStatement", "drop")
    body, calls = insert_counting(fresh_driver, "drop")
    fresh_driver.execute_lambda(body)
    assert len(calls) == 2
    assert recorder.commands()[-3:] == ["StartTransaction", "ExecuteStatement", "CommitTransaction"]
    assert run(fresh_driver, "SELECT COUNT(*) FROM Retry WHERE marker = 'drop'")[0]["_1"] == 1


@pytest.mark.parametrize(
    "reaction, code, message_re",
    [
        ("rate", "RateExceededException", r"^Rate exceeded$"),
        ("expired", "InvalidSessionException", r"^Transaction \S+ has expired$"),
    ],
)
def test_not_retried(fresh_driver, fault, reaction, code, message_re):
    fault("ExecuteStatement", reaction)
    body, calls = insert_counting(fresh_driver, reaction)
    with pytest.raises(ClientError) as error:
        fresh_driver.execute_lambda(body)
    assert len(calls) == 1
    assert error_code(error.value) == code, error.value.response
    assert re.search(message_re, error_message(error.value)), error_message(error.value)
    assert run(fresh_driver, "SELECT COUNT(*) FROM Retry WHERE marker = ?", reaction)[0]["_1"] == 0


def test_503_on_every_try_surfaces_after_five_attempts(fresh_driver, fault):
    recorder = WireRecorder(fresh_driver)
    fault("ExecuteStatement", "http503", nth=None, times=None)
    body, calls = insert_counting(fresh_driver, "always")
    with pytest.raises(ClientError) as error:
        fresh_driver.execute_lambda(body)
    assert http_status(error.value) == 503
    assert len(calls) == 5
    assert recorder.commands() == ["StartTransaction", "ExecuteStatement", "AbortTransaction"] * 5, recorder.describe()
