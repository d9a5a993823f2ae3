"""Transactions and retries driven by real conflicts, on every target (pyqldb-api.md §2-§4, semantics.md
§4): ``executor.abort()`` → ``LambdaAbortedError``, nothing committed, not retried; a user exception
propagates as the same object after one run, nothing committed; two threads incrementing one counter
meet at a Barrier inside the lambda, one gets an OCC conflict and the driver retries it: both
increments land and the lambda ran more than twice; OCC conflicts forced from a second driver (a scan
invalidated by a later commit, also for read-only transactions) are retried up to ``retry_limit``,
``custom_backoff`` is called with (attempt 1..N, the OccConflictException, the failed attempt's
transaction id), a negative delay counts as 0, ``retry_limit=0`` means one attempt; the default
equal-jitter backoff sleeps between 150 and 300 ms over four retries; the error predicates of
``pyqldb.errors`` on the real OCC error."""

import threading
import time

import pytest
from compatlib import ID_RE, Conflicter, assert_client_error, count, create_table, run, run_in_thread
from pyqldb.config.retry_config import RetryConfig
from pyqldb.errors import (
    LambdaAbortedError,
    is_bad_request_exception,
    is_invalid_session_exception,
    is_occ_conflict_exception,
    is_retriable_exception,
    is_transaction_expired_exception,
)


@pytest.fixture(scope="module")
def table(driver):
    return create_table(driver, "Txn")


def test_abort(driver, table):
    calls = []

    def work(executor):
        calls.append(executor.transaction_id)
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"marker": "aborted"}))
        executor.abort()
        return "unreachable"

    with pytest.raises(LambdaAbortedError) as error:
        driver.execute_lambda(work)
    assert str(error.value) == "Abort invoked; halting execution of lambda function."
    assert len(calls) == 1, "an abort is not retried"
    assert count(driver, table, "WHERE marker = 'aborted'") == 0
    # The session is fine afterwards.
    assert driver.execute_lambda(lambda ex: "next") == "next"


class UserError(Exception):
    pass


def test_user_exception_propagates_unchanged(driver, table):
    raised = UserError("mine")
    calls = []

    def work(executor):
        calls.append(1)
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"marker": "user-error"}))
        raise raised

    with pytest.raises(UserError) as error:
        driver.execute_lambda(work)
    assert error.value is raised
    assert calls == [1]
    assert count(driver, table, "WHERE marker = 'user-error'") == 0


def test_occ_between_two_threads_is_retried(driver_factory):
    d = driver_factory()
    table = create_table(d, "Counter")
    run(d, f"INSERT INTO {table} ?", {"id": "c", "cnt": 0})
    barrier = threading.Barrier(2)
    lock = threading.Lock()
    invocations = []

    def increment(executor):
        with lock:
            invocations.append(threading.get_ident())
            first_time = invocations.count(threading.get_ident()) == 1
        rows = list(executor.execute_statement(f"SELECT VALUE cnt FROM {table} WHERE id = 'c'"))
        if first_time:
            barrier.wait(timeout=20)  # both transactions have read the counter before either commits
        list(executor.execute_statement(f"UPDATE {table} SET cnt = ? WHERE id = 'c'", int(rows[0]) + 1))
        return int(rows[0]) + 1

    threads = [run_in_thread(d.execute_lambda, increment) for _ in range(2)]
    for thread, _ in threads:
        thread.join(60)
        assert not thread.is_alive(), "a transaction hung"
    results = [box for _, box in threads]
    assert all("error" not in box for box in results), results
    assert sorted(box["result"] for box in results) == [1, 2]
    assert len(invocations) > 2, invocations
    assert [int(v) for v in run(d, f"SELECT VALUE cnt FROM {table} WHERE id = 'c'")] == [2]


def conflicting_lambda(table, conflict, attempts, conflict_on):
    """A lambda that scans ``table`` and, on the attempts listed in ``conflict_on``, commits a change to
    the table from another driver, so that its own commit fails with OccConflictException."""

    def work(executor):
        attempts.append(executor.transaction_id)
        rows = list(executor.execute_statement(f"SELECT * FROM {table}"))
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"attempt": len(attempts)}))
        if len(attempts) in conflict_on:
            conflict()
        return len(attempts), len(rows)

    return work


def test_forced_occ_retried_until_success(driver_factory):
    d = driver_factory()
    table = create_table(d)
    backoffs = []
    attempts = []
    work = conflicting_lambda(table, Conflicter(driver_factory(), table), attempts, conflict_on={1, 2})
    result = d.execute_lambda(work, RetryConfig(custom_backoff=lambda *args: backoffs.append(args) or 0))
    assert result[0] == 3, "the value of the successful (third) attempt is returned"
    assert len(attempts) == 3 and len(set(attempts)) == 3 and all(ID_RE.match(a) for a in attempts), attempts
    assert [b[0] for b in backoffs] == [1, 2]
    assert [b[2] for b in backoffs] == attempts[:2], "the failed attempt's transaction id"
    for _, error, _ in backoffs:
        assert_client_error(error, code="OccConflictException", status=400)
    # Only the third attempt's insert is committed (plus the two conflicting inserts).
    assert count(d, table, "WHERE attempt > 0") == 1
    assert [int(v) for v in run(d, f"SELECT VALUE attempt FROM {table} WHERE attempt > 0")] == [3]


@pytest.mark.parametrize("retry_limit", [0, 1, 3])
def test_forced_occ_exhausts_the_retry_limit(driver_factory, retry_limit):
    d = driver_factory()
    table = create_table(d)
    backoffs = []
    attempts = []
    work = conflicting_lambda(table, Conflicter(driver_factory(), table), attempts, conflict_on=range(1, 100))
    config = RetryConfig(retry_limit=retry_limit, custom_backoff=lambda *args: backoffs.append(args) or -5)
    with pytest.raises(Exception) as error:
        d.execute_lambda(work, config)
    assert_client_error(error.value, code="OccConflictException", status=400)
    assert is_occ_conflict_exception(error.value)
    assert len(attempts) == retry_limit + 1
    assert [b[0] for b in backoffs] == list(range(1, retry_limit + 1))
    assert [b[2] for b in backoffs] == attempts[:retry_limit]
    assert count(d, table, "WHERE attempt > 0") == 0


def test_read_only_transaction_is_validated(driver_factory):
    d = driver_factory()
    table = create_table(d)
    conflict = Conflicter(driver_factory(), table)
    attempts = []

    def read_only(executor):
        attempts.append(1)
        rows = list(executor.execute_statement(f"SELECT * FROM {table}"))
        conflict()
        return len(rows)

    with pytest.raises(Exception) as error:
        d.execute_lambda(read_only, RetryConfig(retry_limit=0))
    assert_client_error(error.value, code="OccConflictException")
    assert attempts == [1]


def test_default_backoff_timing(driver_factory):
    d = driver_factory()  # default RetryConfig: retry_limit 4, base 10, equal jitter
    table = create_table(d)
    attempts = []
    work = conflicting_lambda(table, Conflicter(driver_factory(), table), attempts, conflict_on={1, 2, 3, 4})
    # Warm up both drivers so that session start-up is not timed.
    d.execute_lambda(lambda ex: None)
    started = time.monotonic()
    result = d.execute_lambda(work)
    elapsed = time.monotonic() - started
    assert result[0] == 5 and len(attempts) == 5
    # Sleeps: attempt 1 → 10-20 ms, 2 → 20-40, 3 → 40-80, 4 → 80-160: 150-300 ms in all.
    assert elapsed >= 0.150, elapsed
    assert elapsed < 3.0, elapsed


def test_error_predicates_on_a_real_occ_conflict(driver_factory):
    d = driver_factory()
    table = create_table(d)
    attempts = []
    work = conflicting_lambda(table, Conflicter(driver_factory(), table), attempts, conflict_on={1})
    with pytest.raises(Exception) as error:
        d.execute_lambda(work, RetryConfig(retry_limit=0))
    e = error.value
    assert_client_error(e, code="OccConflictException", status=400)
    assert is_occ_conflict_exception(e) is True
    assert is_retriable_exception(e) is True
    assert is_bad_request_exception(e) is False
    assert is_invalid_session_exception(e) is False
    assert not is_transaction_expired_exception(e)


def test_lambda_may_run_statements_after_reading_its_own_writes(driver, table):
    def work(executor):
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"marker": "rw", "n": 1}))
        list(executor.execute_statement(f"UPDATE {table} SET n = n + 1 WHERE marker = 'rw'"))
        return [int(v) for v in executor.execute_statement(f"SELECT VALUE n FROM {table} WHERE marker = 'rw'")]

    assert driver.execute_lambda(work) == [2]
    assert [int(v) for v in run(driver, f"SELECT VALUE n FROM {table} WHERE marker = 'rw'")] == [2]
