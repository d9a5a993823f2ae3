"""Retry behaviour against injected server faults (HTTP targets only; qldb-local's admin API), checked
through the public API alone (pyqldb-api.md §2-§4): HTTP 503 on every ExecuteStatement → 5 attempts,
``custom_backoff`` called with attempts 1..4, the 503 ``ClientError`` and each attempt's transaction id,
then the ClientError with HTTPStatusCode 503; ``any:*:http503`` on a fresh driver → 5 StartSession
attempts (the first retry is free, backoff sees attempts 2..4 and no transaction id), then the 503;
HTTP 500, CapacityExceededException, an OCC at commit and a dropped connection are retried once and
succeed; InvalidSessionException on the first StartTransaction is retried at once even with
``retry_limit=0`` and without a backoff, a second one counts against the limit; a StartSession failure
is retried; RateExceededException and a transaction expiry (at a statement or at commit) are raised at
once, unretried, with the expiry predicates true; an unknown ledger fails after 5 StartSession calls."""

import re

import pytest
from compatlib import ID_RE, assert_client_error, count, create_table
from pyqldb.config.retry_config import RetryConfig
from pyqldb.errors import is_invalid_session_exception, is_retriable_exception, is_transaction_expired_exception

pytestmark = pytest.mark.requires("faults")


@pytest.fixture(scope="module")
def table(driver):
    return create_table(driver, "Faulty")


class Recorder:
    """A custom_backoff recording its arguments (0 ms delay)."""

    def __init__(self):
        self.calls = []

    def __call__(self, attempt, error, transaction_id):
        self.calls.append((attempt, error, transaction_id))
        return 0

    @property
    def attempts(self):
        return [c[0] for c in self.calls]


def warm_driver(driver_factory, retry_limit=4):
    backoff = Recorder()
    d = driver_factory(retry_config=RetryConfig(retry_limit=retry_limit, custom_backoff=backoff))
    assert d.execute_lambda(lambda ex: "warm") == "warm"  # one pooled session: next attempts start at StartTransaction
    return d, backoff


def inserting(table, marker, calls):
    def work(executor):
        calls.append(executor.transaction_id)
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"marker": marker}))
        return len(calls)

    return work


def hits(fault):
    return sum(rule["hits"] for rule in fault.rules())


def test_http503_on_every_statement(driver_factory, table, fault):
    d, backoff = warm_driver(driver_factory)
    fault("ExecuteStatement", "http503", nth=None, times=None)
    calls = []
    with pytest.raises(Exception) as error:
        d.execute_lambda(inserting(table, "503", calls))
    assert_client_error(error.value, status=503)
    assert is_retriable_exception(error.value) is True
    assert len(calls) == 5 and all(ID_RE.match(c) for c in calls), calls
    assert backoff.attempts == [1, 2, 3, 4]
    assert [c[2] for c in backoff.calls] == calls[:4]
    for _, e, _ in backoff.calls:
        assert_client_error(e, status=503)
    assert hits(fault) == 5
    fault.clear()
    assert count(d, table, "WHERE marker = '503'") == 0


def test_http503_on_every_command_of_a_fresh_driver(driver_factory, fault):
    backoff = Recorder()
    d = driver_factory(retry_config=RetryConfig(custom_backoff=backoff))
    fault("any", "http503", nth=None, times=None)
    calls = []
    with pytest.raises(Exception) as error:
        d.execute_lambda(lambda ex: calls.append(1))
    assert_client_error(error.value, status=503)
    assert calls == []
    # StartSession fails: the first failure counts as an invalid session (free retry), then 2..4 back off.
    assert backoff.attempts == [2, 3, 4]
    assert [c[2] for c in backoff.calls] == [None, None, None]
    assert hits(fault) == 5


@pytest.mark.parametrize("command, reaction, status, code", [
    ("ExecuteStatement", "http500", 500, None),
    ("ExecuteStatement", "http503", 503, None),
    ("ExecuteStatement", "capacity", 503, "CapacityExceededException"),
    ("CommitTransaction", "occ", 400, "OccConflictException"),
    ("StartTransaction", "http500", 500, None),
])
def test_retried_once_then_success(driver_factory, table, fault, command, reaction, status, code):
    d, backoff = warm_driver(driver_factory)
    fault(command, reaction)
    calls = []
    marker = f"{command}-{reaction}"
    assert d.execute_lambda(inserting(table, marker, calls)) == len(calls)
    assert hits(fault) == 1
    assert backoff.attempts == [1]
    assert_client_error(backoff.calls[0][1], code=code, status=status)
    expected_runs = 1 if command == "StartTransaction" else 2
    assert len(calls) == expected_runs, calls
    if command != "StartTransaction":
        assert backoff.calls[0][2] == calls[0], "the failed attempt's transaction id"
    assert count(d, table, "WHERE marker = ?", marker) == 1


def test_dropped_connection_is_retried(driver_factory, table, fault):
    d, backoff = warm_driver(driver_factory)
    fault("ExecuteStatement", "drop")
    calls = []
    assert d.execute_lambda(inserting(table, "drop", calls)) == 2
    assert len(calls) == 2
    assert backoff.attempts == [1]
    assert is_retriable_exception(backoff.calls[0][1]) is True
    assert count(d, table, "WHERE marker = 'drop'") == 1


def test_invalid_session_at_start_transaction_is_retried_for_free(driver_factory, table, fault):
    d, backoff = warm_driver(driver_factory, retry_limit=0)
    fault("StartTransaction", "invalid-session")
    calls = []
    assert d.execute_lambda(inserting(table, "ise-free", calls)) == 1
    assert len(calls) == 1
    assert backoff.calls == [], "the first InvalidSessionException is retried without a backoff"
    assert hits(fault) == 1
    assert count(d, table, "WHERE marker = 'ise-free'") == 1


def test_second_invalid_session_counts_against_the_limit(driver_factory, table, fault):
    # The free retry still counts as attempt 1: a second InvalidSessionException is attempt 2, which
    # retry_limit=1 does not allow ...
    d, backoff = warm_driver(driver_factory, retry_limit=1)
    fault("StartTransaction", "invalid-session", nth=1, times=2)
    with pytest.raises(Exception) as error:
        d.execute_lambda(inserting(table, "ise-twice", []))
    assert_client_error(error.value, code="InvalidSessionException", status=400, message="^No such session$")
    assert is_invalid_session_exception(error.value) is True
    assert is_retriable_exception(error.value) is True
    assert not is_transaction_expired_exception(error.value)
    assert backoff.calls == []
    assert hits(fault) == 2

    # ... and retry_limit=2 retries after a backoff for attempt 2.
    fault.clear()
    d, backoff = warm_driver(driver_factory, retry_limit=2)
    fault("StartTransaction", "invalid-session", nth=1, times=2)
    calls = []
    assert d.execute_lambda(inserting(table, "ise-twice", calls)) == 1
    assert backoff.attempts == [2], "attempt 1 was free; attempt 2 backs off"
    assert backoff.calls[0][2] is None, "no transaction id: StartTransaction failed"
    assert_client_error(backoff.calls[0][1], code="InvalidSessionException")
    assert hits(fault) == 2
    assert count(d, table, "WHERE marker = 'ise-twice'") == 1


def test_start_session_failure_is_retried(driver_factory, table, fault):
    backoff = Recorder()
    d = driver_factory(retry_config=RetryConfig(retry_limit=0, custom_backoff=backoff))
    fault("StartSession", "http500")
    calls = []
    assert d.execute_lambda(inserting(table, "start-session", calls)) == 1
    assert backoff.calls == []
    assert hits(fault) == 1


@pytest.mark.parametrize("command, reaction, code, message", [
    ("ExecuteStatement", "rate", "RateExceededException", r"^Rate exceeded$"),
    ("ExecuteStatement", "expired", "InvalidSessionException", r"^Transaction \S+ has expired$"),
    ("CommitTransaction", "expired", "InvalidSessionException", r"^Transaction \S+ has expired$"),
])
def test_not_retried(driver_factory, table, fault, command, reaction, code, message):
    d, backoff = warm_driver(driver_factory)
    fault(command, reaction)
    calls = []
    marker = f"not-retried-{command}-{reaction}"
    with pytest.raises(Exception) as error:
        d.execute_lambda(inserting(table, marker, calls))
    _, text, _ = assert_client_error(error.value, code=code, status=400, message=message)
    assert len(calls) == 1 and backoff.calls == []
    assert is_retriable_exception(error.value) is False
    if reaction == "expired":
        assert is_transaction_expired_exception(error.value)
        assert is_invalid_session_exception(error.value) is True
        assert re.search(r"^Transaction (\S+) has expired$", text).group(1) == calls[0]
    assert count(d, table, "WHERE marker = ?", marker) == 0
    # The driver recovers: the next call works.
    assert d.execute_lambda(lambda ex: "after") == "after"


def test_unknown_ledger(driver_factory):
    backoff = Recorder()
    d = driver_factory(ledger_name="no-such-ledger-compat", retry_config=RetryConfig(custom_backoff=backoff))
    calls = []
    with pytest.raises(Exception) as error:
        d.execute_lambda(lambda ex: calls.append(1))
    assert_client_error(error.value, code="BadRequestException", status=400)
    assert calls == []
    assert backoff.attempts == [2, 3, 4], "every StartSession failure is retried; the first one for free"


@pytest.fixture(scope="module")
def grid(driver):
    table = create_table(driver, "FaultGrid")
    driver.execute_lambda(lambda ex: list(ex.execute_statement(
        f"INSERT INTO {table} << " + ", ".join("?" for _ in range(25)) + " >>", *[{"n": i} for i in range(25)])))
    return table


@pytest.mark.parametrize("read_ahead", [0, 2, 4])
@pytest.mark.parametrize("reaction, retried", [("http503", True), ("rate", False)])
def test_fetch_page_errors_surface_through_the_cursor(driver_factory, grid, fault, read_ahead, reaction, retried):
    backoff = Recorder()
    d = driver_factory(read_ahead=read_ahead, retry_config=RetryConfig(custom_backoff=backoff))
    statement = f"SELECT a.n AS x, b.n AS y FROM {grid} AS a, {grid} AS b"  # 625 rows: several pages
    assert len(d.execute_lambda(lambda ex: list(ex.execute_statement(statement)))) == 625  # warm, and paged
    fault("FetchPage", reaction, nth=2)
    calls = []

    def work(executor):
        calls.append(executor.transaction_id)
        return sorted((int(r["x"]), int(r["y"])) for r in executor.execute_statement(statement))

    if retried:
        assert d.execute_lambda(work) == sorted((x, y) for x in range(25) for y in range(25))
        assert len(calls) == 2 and backoff.attempts == [1]
        assert_client_error(backoff.calls[0][1], status=503)
        assert backoff.calls[0][2] == calls[0]
    else:
        with pytest.raises(Exception) as error:
            d.execute_lambda(work)
        assert_client_error(error.value, code="RateExceededException", status=400)
        assert len(calls) == 1 and backoff.calls == []
    assert hits(fault) == 1
