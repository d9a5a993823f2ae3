"""The retry loop (pyqldb-api.md §2-§4) against real faults: qldb-local's ``--fault`` flag and its admin API
(OCC, HTTP 500/503, invalid session, dropped connection, expiry), counting lambda invocations and checking
``custom_backoff``'s arguments and the sleeps it asks for; the default equal-jitter backoff; what is never
retried (a user exception, the same object; ``abort()``; ``TypeError``); the command sequences the driver
sends (recorded by the native client's test hook); and OCC conflicts between two drivers on an embedded
ledger."""

import threading
import time

import pytest
from pyqldb import _native
from pyqldb.config.retry_config import RetryConfig
from pyqldb.errors import (
    ClientError,
    LambdaAbortedError,
    QldbTransportError,
    is_invalid_session_exception,
    is_occ_conflict_exception,
    is_retriable_exception,
    is_transaction_expired_exception,
)
from pyqldb.util.retry import MAX_BACKOFF, MAX_POW, Retry
from support import create_table, rows


class Backoff:
    """A custom_backoff recording (attempt, error, transaction_id) and asking for ``ms``."""

    def __init__(self, ms=0):
        self.ms = ms
        self.calls = []

    def __call__(self, attempt, error, transaction_id):
        self.calls.append((attempt, error, transaction_id))
        return self.ms

    @property
    def attempts(self):
        return [c[0] for c in self.calls]


def counting(table, marker):
    calls = []

    def work(executor):
        calls.append(executor.transaction_id)
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"marker": marker}))
        return len(calls)

    return work, calls


def count(d, table, marker):
    return len(rows(d, f"SELECT * FROM {table} WHERE marker = ?", marker))


def warm(d):
    assert d.execute_lambda(lambda ex: "warm") == "warm"


def test_fault_flag_occ_on_execute_statement(start_server, drivers):
    server = start_server("--create-ledger", "flag", "--fault", "ExecuteStatement:2:occ")
    backoff = Backoff()
    d = drivers("flag", endpoint_url=server.endpoint, retry_config=RetryConfig(custom_backoff=backoff))
    table = create_table(d)  # ExecuteStatement #1
    work, calls = counting(table, "occ")
    assert d.execute_lambda(work) == 2  # #2 fails with OCC, #3 succeeds
    assert backoff.attempts == [1]
    error = backoff.calls[0][1]
    assert isinstance(error, ClientError) and is_occ_conflict_exception(error) and is_retriable_exception(error)
    assert backoff.calls[0][2] == calls[0]
    assert count(d, table, "occ") == 1


@pytest.mark.parametrize(
    "command, reaction, status",
    [("CommitTransaction", "http500", 500), ("ExecuteStatement", "http503", 503), ("CommitTransaction", "occ", 400)],
)
def test_retried_once(faults, drivers, command, reaction, status):
    backoff = Backoff()
    d = drivers("py-faults", endpoint_url=faults.endpoint, retry_config=RetryConfig(custom_backoff=backoff))
    table = create_table(d)
    faults.fault(command, reaction)
    work, calls = counting(table, reaction)
    assert d.execute_lambda(work) == 2
    assert backoff.attempts == [1] and backoff.calls[0][2] == calls[0]
    assert backoff.calls[0][1].response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert count(d, table, reaction) == 1


def test_invalid_session_at_start_transaction_is_free(faults, drivers):
    backoff = Backoff()
    d = drivers(
        "py-faults", endpoint_url=faults.endpoint, retry_config=RetryConfig(retry_limit=0, custom_backoff=backoff)
    )
    table = create_table(d)
    faults.fault("StartTransaction", "invalid-session")
    work, calls = counting(table, "ise")
    assert d.execute_lambda(work) == 1
    assert backoff.calls == [] and [r["hits"] for r in faults.rules()] == [1]


def test_every_command_fails_with_503(faults, drivers):
    backoff = Backoff()
    d = drivers("py-faults", endpoint_url=faults.endpoint, retry_config=RetryConfig(custom_backoff=backoff))
    faults.fault("any", "http503", nth=None, times=None)
    calls = []
    with pytest.raises(ClientError) as error:
        d.execute_lambda(lambda ex: calls.append(1))
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert calls == [] and backoff.attempts == [2, 3, 4]
    assert [c[2] for c in backoff.calls] == [None, None, None]
    assert sum(r["hits"] for r in faults.rules()) == 5
    faults.clear_faults()
    assert d._native.available_permits == 10, "no permit leaked"


def test_http503_on_every_statement_exhausts_the_limit(faults, drivers):
    backoff = Backoff()
    d = drivers(
        "py-faults", endpoint_url=faults.endpoint, retry_config=RetryConfig(retry_limit=2, custom_backoff=backoff)
    )
    table = create_table(d)
    faults.fault("ExecuteStatement", "http503", nth=None, times=None)
    work, calls = counting(table, "exhausted")
    with pytest.raises(ClientError) as error:
        d.execute_lambda(work)
    assert len(calls) == 3 and backoff.attempts == [1, 2]
    assert is_retriable_exception(error.value)
    faults.clear_faults()
    assert count(d, table, "exhausted") == 0


def test_dropped_connection_is_a_retryable_transport_error(faults, drivers):
    backoff = Backoff()
    d = drivers("py-faults", endpoint_url=faults.endpoint, retry_config=RetryConfig(custom_backoff=backoff))
    table = create_table(d)
    faults.fault("ExecuteStatement", "drop")
    work, calls = counting(table, "drop")
    assert d.execute_lambda(work) == 2
    error = backoff.calls[0][1]
    assert isinstance(error, QldbTransportError) and is_retriable_exception(error)


def test_transaction_expiry_is_not_retried(faults, drivers):
    backoff = Backoff()
    d = drivers("py-faults", endpoint_url=faults.endpoint, retry_config=RetryConfig(custom_backoff=backoff))
    table = create_table(d)
    faults.fault("CommitTransaction", "expired")
    work, calls = counting(table, "expired")
    with pytest.raises(ClientError) as error:
        d.execute_lambda(work)
    assert is_invalid_session_exception(error.value) and is_transaction_expired_exception(error.value)
    assert not is_retriable_exception(error.value)
    assert len(calls) == 1 and backoff.calls == []
    assert d.execute_lambda(lambda ex: "recovered") == "recovered"


def test_backoff_sleeps_what_custom_backoff_asks(faults, drivers):
    backoff = Backoff(ms=120)
    d = drivers("py-faults", endpoint_url=faults.endpoint, retry_config=RetryConfig(custom_backoff=backoff))
    table = create_table(d)
    faults.fault("ExecuteStatement", "http500", nth=1, times=2)
    work, calls = counting(table, "slept")
    started = time.monotonic()
    assert d.execute_lambda(work) == 3
    elapsed = time.monotonic() - started
    assert backoff.attempts == [1, 2]
    assert 0.24 <= elapsed < 2.0, elapsed


def test_negative_custom_backoff_counts_as_zero(drivers, memory_endpoint):
    d = drivers(endpoint_url=memory_endpoint, retry_config=RetryConfig(custom_backoff=lambda *a: -1000))
    other = drivers(endpoint_url=memory_endpoint)
    table = create_table(d)
    attempts = []

    def conflicting(executor):
        attempts.append(1)
        list(executor.execute_statement(f"SELECT * FROM {table}"))
        if len(attempts) < 3:
            rows(other, f"INSERT INTO {table} ?", {"noise": len(attempts)})
        return len(attempts)

    started = time.monotonic()
    assert d.execute_lambda(conflicting) == 3
    assert time.monotonic() - started < 1.0


def test_default_backoff_bounds(drivers, memory_endpoint):
    d = drivers(endpoint_url=memory_endpoint, retry_config=RetryConfig(retry_limit=4))
    other = drivers(endpoint_url=memory_endpoint)
    table = create_table(d)
    attempts = []

    def always_conflicting(executor):
        attempts.append(1)
        list(executor.execute_statement(f"SELECT * FROM {table}"))
        rows(other, f"INSERT INTO {table} ?", {"noise": len(attempts)})

    started = time.monotonic()
    with pytest.raises(ClientError) as error:
        d.execute_lambda(always_conflicting)
    elapsed = time.monotonic() - started
    assert is_occ_conflict_exception(error.value) and len(attempts) == 5
    # Equal jitter with base 10: 10-20 + 20-40 + 40-80 + 80-160 ms.
    assert 0.150 <= elapsed < 1.5, elapsed


def test_retry_calculate_backoff():
    assert MAX_POW == 62 and MAX_BACKOFF == 5000
    config = RetryConfig()
    for attempt, low, high in [(1, 10, 20), (2, 20, 40), (4, 80, 160), (9, 2500, 5000), (100, 2500, 5000)]:
        for _ in range(20):
            assert low <= Retry.calculate_backoff(config, attempt, None, None) <= high
    assert Retry.calculate_backoff(RetryConfig(custom_backoff=lambda a, e, t: -5), 1, None, None) == 0
    assert Retry.calculate_backoff(RetryConfig(custom_backoff=lambda a, e, t: a * 7), 3, None, None) == 21


def test_fractional_base(drivers, memory_endpoint):
    d = drivers(endpoint_url=memory_endpoint, retry_config=RetryConfig(base=0.5))
    assert d.execute_lambda(lambda ex: "ok") == "ok"


def test_failing_custom_backoff_raises_its_error(faults, drivers):
    def broken(attempt, error, transaction_id):
        raise ZeroDivisionError("backoff bug")

    d = drivers("py-faults", endpoint_url=faults.endpoint, retry_config=RetryConfig(custom_backoff=broken))
    table = create_table(d)
    faults.fault("ExecuteStatement", "http500")
    work, calls = counting(table, "broken-backoff")
    with pytest.raises(ZeroDivisionError, match="backoff bug"):
        d.execute_lambda(work)
    assert len(calls) == 1
    assert d._native.available_permits == 10


class Mine(Exception):
    pass


def test_user_exception_is_the_same_object_and_not_retried(driver):
    table = create_table(driver)
    raised = Mine("mine")
    calls = []

    def work(executor):
        calls.append(1)
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"marker": "user"}))
        raise raised

    with pytest.raises(Mine) as error:
        driver.execute_lambda(work)
    assert error.value is raised and calls == [1]
    assert error.value.__traceback__ is not None
    frames = []
    tb = error.value.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert "work" in frames, frames
    assert count(driver, table, "user") == 0


def test_driver_error_from_the_lambda_is_reraised_as_the_same_object(driver):
    seen = []

    def work(executor):
        try:
            list(executor.execute_statement("SELECT * FROM NoSuchTable"))
        except ClientError as e:
            seen.append(e)
            raise

    with pytest.raises(ClientError) as error:
        driver.execute_lambda(work)
    assert error.value is seen[0] and len(seen) == 1


def test_abort(driver):
    table = create_table(driver)
    calls = []

    def work(executor):
        calls.append(1)
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"marker": "aborted"}))
        executor.abort()

    with pytest.raises(LambdaAbortedError, match="^Abort invoked; halting execution of lambda function.$"):
        driver.execute_lambda(work)
    assert calls == [1] and count(driver, table, "aborted") == 0


def test_command_sequences(memory_endpoint):
    client = _native.RawClient(memory_endpoint, record_commands=True)
    raw = _native.RawDriver(client, "seq", retry_limit=4)
    raw.execute_lambda(lambda txn: list(txn.execute_statement("CREATE TABLE S")))
    assert client.recorded_commands() == ["StartSession", "StartTransaction", "ExecuteStatement", "CommitTransaction"]

    client.clear_recorded_commands()
    with pytest.raises(LambdaAbortedError):
        raw.execute_lambda(lambda txn: txn.abort())
    assert client.recorded_commands() == ["StartTransaction", "AbortTransaction"]

    client.clear_recorded_commands()
    with pytest.raises(ClientError):
        raw.execute_lambda(lambda txn: txn.execute_statement("SELEKT"))
    assert client.recorded_commands() == ["StartTransaction", "ExecuteStatement", "AbortTransaction"]


def test_occ_at_commit_retries_on_the_same_session_without_abort(faults):
    client = _native.RawClient(faults.endpoint, record_commands=True)
    raw = _native.RawDriver(client, "py-faults")
    raw.execute_lambda(lambda txn: None)
    faults.fault("CommitTransaction", "occ")
    client.clear_recorded_commands()
    raw.execute_lambda(lambda txn: None, retry_limit=4, custom_backoff=lambda *a: 0)
    assert client.recorded_commands() == [
        "StartTransaction",
        "CommitTransaction",
        "StartTransaction",
        "CommitTransaction",
    ]


def test_concurrent_increments_conflict_and_both_land(drivers, memory_endpoint):
    d = drivers(endpoint_url=memory_endpoint, retry_config=RetryConfig(retry_limit=8, custom_backoff=lambda *a: 1))
    table = create_table(d)
    rows(d, f"INSERT INTO {table} ?", {"id": "counter", "n": 0})
    barrier = threading.Barrier(2)
    runs = []

    def increment(executor):
        runs.append(1)
        n = int(list(executor.execute_statement(f"SELECT VALUE n FROM {table} WHERE id = 'counter'"))[0])
        if len(runs) <= 2:
            barrier.wait(timeout=10)
        list(executor.execute_statement(f"UPDATE {table} SET n = ? WHERE id = 'counter'", n + 1))

    threads = [threading.Thread(target=d.execute_lambda, args=(increment,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert int(rows(d, f"SELECT VALUE n FROM {table}")[0]) == 2
    assert len(runs) >= 3, "one of the two conflicted and was retried"


def test_unknown_ledger_over_http_fails_after_five_start_sessions(server, drivers):
    backoff = Backoff()
    d = drivers("no-such-ledger", endpoint_url=server.endpoint, retry_config=RetryConfig(custom_backoff=backoff))
    with pytest.raises(ClientError) as error:
        d.execute_lambda(lambda ex: None)
    assert error.value.response["Error"]["Code"] == "BadRequestException"
    assert backoff.attempts == [2, 3, 4]


def test_on_retry_logging(faults, drivers, caplog):
    d = drivers("py-faults", endpoint_url=faults.endpoint, retry_config=RetryConfig(custom_backoff=lambda *a: 0))
    warm(d)
    faults.fault("StartTransaction", "http500")
    with caplog.at_level("INFO", logger="pyqldb.driver.qldb_driver"):
        assert d.execute_lambda(lambda ex: "ok") == "ok"
    assert "A recoverable error has occurred. Attempting retry #1" in caplog.text


def test_native_driver_level_retry_settings(faults):
    backoff = Backoff()
    raw = _native.RawDriver(_native.RawClient(faults.endpoint), "py-faults", retry_limit=2, custom_backoff=backoff)
    raw.execute_lambda(lambda txn: None)
    faults.fault("ExecuteStatement", "http500", nth=None, times=None)
    seen = []

    def body(txn):
        try:
            txn.execute_statement("SELECT * FROM information_schema.user_tables")
        except ClientError as e:
            seen.append(e)
            raise

    with pytest.raises(ClientError) as error:
        raw.execute_lambda(body)
    assert len(seen) == 3 and backoff.attempts == [1, 2]
    assert [c[1] for c in backoff.calls] == seen[:2], "the hook sees the exception objects the lambda raised"
    assert error.value is seen[-1]
