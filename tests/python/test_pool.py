"""The session pool under threads (pyqldb-api.md §5): ``max_concurrent_transactions`` bounds concurrent
transactions, the next one fails at once with ``SessionPoolEmptyError`` (1 ms wait, exact message, lambda not
run), 16 threads against a pool of 4 leak no permit, and many threads share one driver (embedded and HTTP),
every transaction committed."""

import threading
import time

import pytest
from pyqldb.errors import SessionPoolEmptyError
from support import create_table, rows

EMPTY = "Session pool is empty after waiting for 0.001 seconds. Please close existing sessions first before retrying."


def test_pool_limit_with_16_threads(drivers, memory_endpoint):
    d = drivers(endpoint_url=memory_endpoint, max_concurrent_transactions=4)
    d.execute_lambda(lambda ex: None)
    inside = threading.Barrier(5)
    release = threading.Event()
    outcomes = []
    lock = threading.Lock()

    def hold(executor):
        list(executor.execute_statement("SELECT * FROM information_schema.user_tables"))
        inside.wait(timeout=30)
        assert release.wait(timeout=30)
        return "held"

    def worker():
        try:
            result = d.execute_lambda(hold)
        except SessionPoolEmptyError as e:
            result = e
        with lock:
            outcomes.append(result)

    holders = [threading.Thread(target=worker) for _ in range(4)]
    for t in holders:
        t.start()
    inside.wait(timeout=30)
    assert d._native.available_permits == 0

    refused = []

    def over_the_limit():
        calls = []
        started = time.monotonic()
        try:
            d.execute_lambda(lambda ex: calls.append(1))
        except SessionPoolEmptyError as e:
            refused.append((str(e), calls, time.monotonic() - started))

    others = [threading.Thread(target=over_the_limit) for _ in range(12)]
    for t in others:
        t.start()
    for t in others:
        t.join(30)
    release.set()
    for t in holders:
        t.join(30)
    assert outcomes == ["held"] * 4
    assert len(refused) == 12
    for message, calls, elapsed in refused:
        assert message == EMPTY and calls == [] and elapsed < 1.0
    assert d._native.available_permits == 4, "every permit came back"
    assert d._native.idle_sessions == 4
    assert d.execute_lambda(lambda ex: "free") == "free"


def test_nested_execute_lambda_in_a_pool_of_one(drivers, memory_endpoint):
    d = drivers(endpoint_url=memory_endpoint, max_concurrent_transactions=1)
    runs = []

    def outer(executor):
        runs.append(1)
        return d.execute_lambda(lambda ex: "inner")

    with pytest.raises(SessionPoolEmptyError):
        d.execute_lambda(outer)
    assert runs == [1] and d._native.available_permits == 1


@pytest.mark.parametrize("kind", ["embedded", "http"])
def test_threads_share_one_driver(request, drivers, memory_endpoint, kind):
    if kind == "http":
        d = drivers("py-pool", endpoint_url=request.getfixturevalue("server").endpoint)
    else:
        d = drivers(endpoint_url=memory_endpoint)
    table = create_table(d)
    errors = []
    per_thread = 6

    def worker(n):
        try:
            for i in range(per_thread):
                while True:
                    try:
                        d.execute_lambda(
                            lambda ex, i=i: list(ex.execute_statement(f"INSERT INTO {table} ?", {"t": n, "i": i}))
                        )
                        break
                    except SessionPoolEmptyError:
                        time.sleep(0.005)  # more threads than permits: wait our turn
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert len(rows(d, f"SELECT * FROM {table}")) == 16 * per_thread
    assert d._native.available_permits == 10
