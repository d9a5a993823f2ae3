"""Waits release the GIL and Ctrl-C works: a lambda blocked in a long native wait (a statement the server delays
by seconds) is interrupted by SIGINT from a timer thread (``KeyboardInterrupt``, promptly), other Python
threads run while the main thread waits, and the driver is usable afterwards with its permit back."""

import signal
import threading
import time

import pytest
from pyqldb.config.retry_config import RetryConfig


@pytest.fixture(autouse=True)
def sigint_raises_keyboard_interrupt():
    """Python's own SIGINT handler, even when this process inherited SIGINT as ignored (a background job)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_sigint_interrupts_a_blocked_statement(faults, drivers):
    assert threading.current_thread() is threading.main_thread()
    d = drivers("py-interrupt", endpoint_url=faults.endpoint, retry_config=RetryConfig(custom_backoff=lambda *a: 0))
    d.execute_lambda(lambda ex: "warm")
    faults.fault("ExecuteStatement", "delay=8000")
    timer = threading.Timer(0.3, signal.raise_signal, args=(signal.SIGINT,))
    calls = []

    def work(executor):
        calls.append(1)
        return list(executor.execute_statement("SELECT * FROM information_schema.user_tables"))

    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        d.execute_lambda(work)
    elapsed = time.monotonic() - started
    timer.join()
    assert calls == [1], "an interrupt is not retried"
    assert 0.25 <= elapsed < 3.0, elapsed
    faults.clear_faults()
    assert d.execute_lambda(lambda ex: "after") == "after"
    assert d._native.available_permits == 10


def test_sigint_interrupts_a_backoff_sleep(faults, drivers):
    d = drivers(
        "py-interrupt", endpoint_url=faults.endpoint, retry_config=RetryConfig(custom_backoff=lambda *a: 10_000)
    )
    d.execute_lambda(lambda ex: "warm")
    faults.fault("StartTransaction", "http500")
    timer = threading.Timer(0.3, signal.raise_signal, args=(signal.SIGINT,))
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        d.execute_lambda(lambda ex: "never")
    timer.join()
    assert time.monotonic() - started < 3.0
    faults.clear_faults()
    assert d.execute_lambda(lambda ex: "after") == "after"


def test_other_threads_run_while_a_call_waits(faults, drivers):
    d = drivers("py-interrupt", endpoint_url=faults.endpoint)
    d.execute_lambda(lambda ex: "warm")
    faults.fault("ExecuteStatement", "delay=600")
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.01)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        d.execute_lambda(lambda ex: list(ex.execute_statement("SELECT * FROM information_schema.user_tables")))
    finally:
        stop.set()
        t.join()
    assert len(ticks) >= 20, "the GIL was held during the wait"
