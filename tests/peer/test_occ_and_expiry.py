"""Concurrency and transaction lifetime (semantics.md §3-§4, pyqldb-api.md §2-§4) with the unmodified driver:
a real OCC conflict between two concurrent transactions (both read before either writes, enforced by a
``threading.Barrier`` inside the lambda) is resolved by pyqldb's own retry on the same session without an
abort; with ``RetryConfig(retry_limit=0)`` the OccConflictException reaches the caller, also for a
transaction that only read; a lambda that outlives the server's ``--transaction-timeout`` fails with
InvalidSessionException "Transaction <id> has expired", is NOT retried, and its writes are discarded."""

import re
import threading
import time

import pytest
from botocore.exceptions import ClientError
from pyqldb.config.retry_config import RetryConfig
from pyqldb.errors import is_occ_conflict_exception, is_transaction_expired_exception

from peerlib import WireRecorder, create_table, error_code, error_message, make_driver, run


@pytest.fixture(scope="module")
def counters(driver):
    create_table(driver, "Counter")
    return "Counter"


def test_concurrent_conflict_is_retried_by_the_driver(driver, counters):
    run(driver, "INSERT INTO Counter ?", {"name": "race", "n": 0})
    recorder = WireRecorder(driver)
    barrier = threading.Barrier(2, timeout=20)
    lock = threading.Lock()
    invocations = []
    errors = []

    def increment(executor):
        me = threading.current_thread().name
        with lock:
            invocations.append(me)
            first_run = invocations.count(me) == 1
        n = list(executor.execute_statement("SELECT VALUE n FROM Counter WHERE name = 'race'"))[0]
        if first_run:
            barrier.wait()  # both transactions have read before either writes
        executor.execute_statement("UPDATE Counter SET n = ? WHERE name = 'race'", n + 1)
        return int(n)

    def worker():
        try:
            results.append(driver.execute_lambda(increment))
        except Exception as e:  # reported below
            errors.append(e)

    results = []
    threads = [threading.Thread(target=worker, name=f"incr-{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "execute_lambda hung"
    assert errors == [], errors

    assert run(driver, "SELECT VALUE n FROM Counter WHERE name = 'race'") == [2], "both increments applied"
    assert sorted(results) == [0, 1], results
    assert len(invocations) > 2, f"the lambda ran {len(invocations)} times; the conflict was not retried"

    occ = [c for c in recorder.calls if c["code"] == "OccConflictException"]
    assert occ, recorder.describe()
    assert all(c["command"] == "CommitTransaction" and c["status"] == 400 for c in occ), recorder.describe()
    assert "AbortTransaction" not in recorder.commands(), "no abort after an OCC conflict"
    assert recorder.commands().count("StartSession") <= 2, recorder.describe()


def test_occ_conflict_surfaces_without_retries(driver, counters):
    run(driver, "INSERT INTO Counter ?", {"name": "nested", "n": 0})
    no_retry = make_driver(driver._ledger_name, retry_config=RetryConfig(retry_limit=0))
    calls = []

    def read_then_conflict(executor):
        calls.append(1)
        # Read-only on this transaction: it scans the table ...
        list(executor.execute_statement("SELECT VALUE n FROM Counter WHERE name = 'nested'"))
        # ... while another transaction changes that table and commits first.
        no_retry.execute_lambda(lambda ex: ex.execute_statement("UPDATE Counter SET n = 5 WHERE name = 'nested'"))

    try:
        with pytest.raises(ClientError) as error:
            no_retry.execute_lambda(read_then_conflict)
    finally:
        no_retry.close()
    assert error_code(error.value) == "OccConflictException", error.value.response
    assert is_occ_conflict_exception(error.value)
    assert calls == [1]
    assert run(driver, "SELECT VALUE n FROM Counter WHERE name = 'nested'") == [5]


@pytest.mark.parametrize("expires_at", ["CommitTransaction", "ExecuteStatement"])
def test_expired_transaction_is_not_retried(driver, counters, qldb_server, expires_at):
    recorder = WireRecorder(driver)
    txn_ids = []
    marker = f"expired-{expires_at}"

    def slow(executor):
        txn_ids.append(executor.transaction_id)
        executor.execute_statement("INSERT INTO Counter ?", {"name": marker})
        time.sleep(qldb_server.transaction_timeout + 1.5)
        if expires_at == "ExecuteStatement":
            executor.execute_statement("SELECT * FROM Counter")

    started = time.monotonic()
    with pytest.raises(ClientError) as error:
        driver.execute_lambda(slow)
    elapsed = time.monotonic() - started

    assert len(txn_ids) == 1, f"the lambda ran {len(txn_ids)} times; an expired transaction must not be retried"
    assert error_code(error.value) == "InvalidSessionException", error.value.response
    message = error_message(error.value)
    assert re.search("Transaction .* has expired", message), message
    assert message == f"Transaction {txn_ids[0]} has expired", message
    assert is_transaction_expired_exception(error.value)
    assert elapsed < qldb_server.transaction_timeout + 10, elapsed

    # pyqldb-api.md §3: the expired command fails, the driver sends AbortTransaction (whatever its answer:
    # the server may have discarded the session) and raises; nothing is retried.
    failing = [c for c in recorder.calls if c["status"] != 200 and c["command"] != "AbortTransaction"]
    assert [c["command"] for c in failing] == [expires_at], recorder.describe()
    assert recorder.commands()[-2:] == [expires_at, "AbortTransaction"], recorder.describe()
    assert recorder.commands().count("StartTransaction") == 1, recorder.describe()
    # The write of the expired transaction never became visible; the driver keeps working.
    assert run(driver, "SELECT * FROM Counter WHERE name = ?", marker) == []


def test_transaction_within_the_timeout_commits(driver, counters, qldb_server):
    def almost(executor):
        executor.execute_statement("INSERT INTO Counter ?", {"name": "in-time"})
        time.sleep(max(0.0, qldb_server.transaction_timeout - 2.0))

    driver.execute_lambda(almost)
    assert len(run(driver, "SELECT * FROM Counter WHERE name = ?", "in-time")) == 1
