"""The 3.x session pool (pyqldb-api.md §5): with ``max_concurrent_transactions=1`` a second concurrent
``execute_lambda`` fails at once with ``SessionPoolEmptyError`` (1 ms permit wait, exact message, lambda
never run, not retried), also when nested inside the first; the default limit is 10 concurrent
transactions and the 11th is refused; ``Config(max_pool_connections=12)`` with
``max_concurrent_transactions=12`` allows 12; permits come back after failures of every kind; one driver
shared by many threads commits every transaction."""

import threading
import time

import pytest
from compatlib import count, create_table, run, run_in_thread
from pyqldb.config.retry_config import RetryConfig
from pyqldb.errors import LambdaAbortedError, SessionPoolEmptyError

POOL_EMPTY_MESSAGE = ("Session pool is empty after waiting for 0.001 seconds. Please close existing sessions "
                      "first before retrying.")


def hold_transactions(d, n, extra_parties=1):
    """Start ``n`` threads each holding a transaction open in ``d``; returns (release, threads)."""
    barrier = threading.Barrier(n + extra_parties)
    release = threading.Event()

    def hold(executor):
        list(executor.execute_statement("SELECT * FROM information_schema.user_tables"))
        barrier.wait(timeout=30)
        assert release.wait(timeout=30)
        return "held"

    threads = [run_in_thread(d.execute_lambda, hold) for _ in range(n)]
    barrier.wait(timeout=30)
    return release, threads


def finish(release, threads):
    release.set()
    for thread, box in threads:
        thread.join(30)
        assert not thread.is_alive()
        assert box == {"result": "held"}, box


def assert_pool_empty(d):
    calls = []
    started = time.monotonic()
    with pytest.raises(SessionPoolEmptyError) as error:
        d.execute_lambda(lambda ex: calls.append(1))
    elapsed = time.monotonic() - started
    assert str(error.value) == POOL_EMPTY_MESSAGE
    assert calls == [], "the lambda must not run without a session"
    assert elapsed < 1.0, f"SessionPoolEmptyError took {elapsed:.3f} s (the wait is 1 ms)"


def test_pool_of_one(driver_factory):
    d = driver_factory(max_concurrent_transactions=1)
    release, threads = hold_transactions(d, 1)
    try:
        assert_pool_empty(d)
        assert_pool_empty(d)
    finally:
        finish(release, threads)
    assert d.execute_lambda(lambda ex: "free again") == "free again"


def test_nested_execute_lambda_with_a_pool_of_one(driver_factory):
    d = driver_factory(max_concurrent_transactions=1)
    outer = []

    def work(executor):
        outer.append(1)
        return d.execute_lambda(lambda ex: "inner")

    with pytest.raises(SessionPoolEmptyError):
        d.execute_lambda(work)
    assert outer == [1], "SessionPoolEmptyError from inside the lambda is not retried"
    assert d.execute_lambda(lambda ex: "after") == "after"


def test_default_limit_is_ten(driver_factory):
    d = driver_factory()
    release, threads = hold_transactions(d, 10)
    try:
        assert_pool_empty(d)
    finally:
        finish(release, threads)
    assert d.execute_lambda(lambda ex: "ok") == "ok"


def test_lower_limit(driver_factory):
    d = driver_factory(max_concurrent_transactions=3)
    release, threads = hold_transactions(d, 3)
    try:
        assert_pool_empty(d)
    finally:
        finish(release, threads)


@pytest.mark.requires("botocore")
def test_higher_limit_with_config(driver_factory):
    from botocore.config import Config
    d = driver_factory(config=Config(max_pool_connections=12), max_concurrent_transactions=12)
    release, threads = hold_transactions(d, 12)
    try:
        assert_pool_empty(d)
    finally:
        finish(release, threads)


def test_permits_come_back_after_failures(driver_factory):
    d = driver_factory(max_concurrent_transactions=1, retry_config=RetryConfig(retry_limit=0))

    def user_error(executor):
        raise ValueError("user")

    def bad_statement(executor):
        return list(executor.execute_statement("SELECT * FROM NoSuchTable_Pool"))

    for _ in range(3):
        with pytest.raises(ValueError):
            d.execute_lambda(user_error)
        with pytest.raises(LambdaAbortedError):
            d.execute_lambda(lambda ex: ex.abort())
        with pytest.raises(Exception) as error:
            d.execute_lambda(bad_statement)
        assert getattr(error.value, "response", {}).get("Error", {}).get("Code") == "BadRequestException", \
            repr(error.value)
        with pytest.raises(TypeError):
            d.execute_lambda(lambda ex: ex.execute_statement("SELECT ?", object()))
    assert d.execute_lambda(lambda ex: "still usable") == "still usable"


def test_shared_driver_across_threads(driver_factory):
    d = driver_factory()
    table = create_table(d, "Shared")
    per_thread = 5

    def worker(n):
        for i in range(per_thread):
            d.execute_lambda(lambda ex, i=i: list(ex.execute_statement(f"INSERT INTO {table} ?", {"t": n, "i": i})))
        return n

    threads = [run_in_thread(worker, n) for n in range(8)]
    for thread, box in threads:
        thread.join(60)
        assert not thread.is_alive()
        assert "error" not in box, box
    assert count(d, table) == 8 * per_thread
    assert sorted(int(r["t"]) for r in run(d, f"SELECT t FROM {table} WHERE i = 0")) == list(range(8))
