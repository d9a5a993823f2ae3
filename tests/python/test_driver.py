"""``pyqldb.driver.qldb_driver``: module attributes, the constructor's signature, checks (order, types and
messages), endpoints (embedded memory and file, the environment variable), the driver's members
(``execute_lambda``, ``list_tables``, ``close``, context manager, ``read_ahead``, deprecated ``retry_limit``,
``value_model``), and the extras of ``pyqldb.local`` used on a file ledger across processes."""

import inspect
import logging
import os
import signal
import subprocess
import sys
import time
import warnings

import pyqldb
import pytest
from amazon.ion.core import IonType
from pyqldb.config.retry_config import RetryConfig
from pyqldb.cursor.buffered_cursor import BufferedCursor
from pyqldb.driver import qldb_driver
from pyqldb.driver.qldb_driver import QldbDriver
from pyqldb.errors import DriverClosedError, IllegalStateError
from support import create_table, rows

READ_AHEAD = "Value for read_ahead must be 0 or 2 or greater."
CONFIG = "config must be of type botocore.config.Config. Found: {}"
RETRY = "config must be of type pyqldb.config.retry_config.RetryConfig. Found: {}"
SESSION = "boto3_session must be of type boto3.session.Session. Found: {}"
POOL = "The session pool limit given, {}, exceeds the limit set by the client, {}. Please lower the limit and retry."


def test_module_attributes():
    assert pyqldb.__version__ == "3.2.4"
    assert qldb_driver.POOL_TIMEOUT_SECONDS == 0.001
    assert qldb_driver.SERVICE_DESCRIPTION == "QLDB Driver for Python v3.2.4"
    assert qldb_driver.SERVICE_NAME == "qldb-session"
    assert qldb_driver.SERVICE_RETRY == {"max_attempts": 0}
    assert isinstance(qldb_driver.DEFAULT_RETRY_CONFIG, RetryConfig)
    assert (qldb_driver.DEFAULT_RETRY_CONFIG.retry_limit, qldb_driver.DEFAULT_RETRY_CONFIG.base) == (4, 10)
    assert isinstance(qldb_driver.logger, logging.Logger) and qldb_driver.logger.name == "pyqldb.driver.qldb_driver"
    for name in ("Queue", "BoundedSemaphore", "AtomicInteger"):
        assert hasattr(qldb_driver, name), name


def test_signature():
    parameters = inspect.signature(QldbDriver).parameters
    assert list(parameters) == [
        "ledger_name",
        "retry_config",
        "read_ahead",
        "executor",
        "region_name",
        "verify",
        "endpoint_url",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "config",
        "boto3_session",
        "max_concurrent_transactions",
    ]
    assert parameters["read_ahead"].default == 0 and parameters["max_concurrent_transactions"].default == 0


@pytest.mark.parametrize("read_ahead", [1, -1, -10])
def test_read_ahead_rejected(memory_endpoint, read_ahead):
    with pytest.raises(ValueError) as error:
        QldbDriver("l", read_ahead=read_ahead, endpoint_url=memory_endpoint)
    assert str(error.value) == READ_AHEAD


def test_checks_in_order(memory_endpoint):
    everything_wrong = dict(config="c", retry_config="r", boto3_session="s", max_concurrent_transactions=99)
    with pytest.raises(ValueError, match="^" + READ_AHEAD):
        QldbDriver("l", read_ahead=1, endpoint_url=memory_endpoint, **everything_wrong)
    with pytest.raises(TypeError) as error:
        QldbDriver("l", endpoint_url=memory_endpoint, **everything_wrong)
    assert str(error.value) == CONFIG.format("str")
    del everything_wrong["config"]
    with pytest.raises(TypeError) as error:
        QldbDriver("l", endpoint_url=memory_endpoint, **everything_wrong)
    assert str(error.value) == RETRY.format("str")
    everything_wrong["retry_config"] = RetryConfig()
    with pytest.raises(TypeError) as error:
        QldbDriver("l", endpoint_url=memory_endpoint, **everything_wrong)
    assert str(error.value) == SESSION.format("str")
    del everything_wrong["boto3_session"]
    with pytest.raises(ValueError) as error:
        QldbDriver("l", endpoint_url=memory_endpoint, **everything_wrong)
    assert str(error.value) == POOL.format(99, 10)


@pytest.mark.parametrize("bad, name", [(3, "int"), ({"retry_limit": 1}, "dict")])
def test_retry_config_type(memory_endpoint, bad, name):
    with pytest.raises(TypeError) as error:
        QldbDriver("l", retry_config=bad, endpoint_url=memory_endpoint)
    assert str(error.value) == RETRY.format(name)


def test_pool_limits(drivers, memory_endpoint):
    with pytest.raises(ValueError) as error:
        QldbDriver("l", endpoint_url=memory_endpoint, max_concurrent_transactions=11)
    assert str(error.value) == POOL.format(11, 10)
    with pytest.raises(ValueError):
        QldbDriver("l", endpoint_url=memory_endpoint, max_concurrent_transactions=-1)
    d = drivers(endpoint_url=memory_endpoint, max_concurrent_transactions=3)
    assert d._pool_limit == 3 and d._native.pool_limit == 3
    assert drivers(endpoint_url=memory_endpoint)._pool_limit == 10


@pytest.mark.parametrize("kwargs", [{"botocore_session": None}, {"pool_limit": 2}, {"value_model": "plain"}])
def test_unknown_keywords(memory_endpoint, kwargs):
    with pytest.raises(TypeError, match=list(kwargs)[0]):
        QldbDriver("l", endpoint_url=memory_endpoint, **kwargs)


def test_bad_endpoint():
    with pytest.raises(ValueError, match="Unsupported endpoint URL"):
        QldbDriver("l", endpoint_url="ftp://example")
    with pytest.raises(ValueError, match="absolute path"):
        QldbDriver("l", endpoint_url="file://relative/dir")


def test_endpoint_from_the_environment(monkeypatch, memory_endpoint):
    monkeypatch.setenv("AWS_ENDPOINT_URL_QLDB_SESSION", memory_endpoint)
    with QldbDriver("env-ledger") as d:
        assert d._native.endpoint == memory_endpoint
        create_table(d, "FromEnv")
    with QldbDriver("env-ledger", endpoint_url=memory_endpoint) as d:
        assert "FromEnv" in [str(t) for t in d.list_tables()]


def test_http_endpoint_from_the_environment(monkeypatch, server):
    monkeypatch.setenv("AWS_ENDPOINT_URL_QLDB_SESSION", server.endpoint)
    with QldbDriver("py-main") as d:
        assert d._native.endpoint == server.endpoint
        assert d.execute_lambda(lambda ex: ex.transaction_id)


def test_members(driver):
    assert driver.read_ahead == 0
    assert driver.value_model == "ion"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert driver.retry_limit == 4
    assert [str(w.message) for w in caught] == [
        "The retry_limit property in QldbDriver class is deprecated. Please call RetryConfig's retry_limit "
        "property instead."
    ]
    assert caught[0].category is DeprecationWarning and caught[0].filename == __file__
    table = create_table(driver, "Members")
    tables = driver.list_tables()
    assert isinstance(tables, BufferedCursor)
    names = list(tables)
    assert names == [table] and type(names[0]).__name__ == "IonPyText" and names[0].ion_type == IonType.STRING
    assert tables.get_consumed_ios() is not None


def test_execute_lambda_returns_the_value_unchanged(driver):
    marker = object()
    assert driver.execute_lambda(lambda ex: marker) is marker
    cursor_in_tuple = driver.execute_lambda(
        lambda ex: (ex.execute_statement("SELECT * FROM information_schema.user_tables"),)
    )
    assert not isinstance(cursor_in_tuple[0], BufferedCursor)


def test_context_manager_and_close(drivers, memory_endpoint):
    d = drivers(endpoint_url=memory_endpoint)
    with d as entered:
        assert entered is d
        assert d.execute_lambda(lambda ex: 1) == 1
    assert d._is_closed
    calls = []
    with pytest.raises(DriverClosedError) as error:
        d.execute_lambda(lambda ex: calls.append(1))
    assert isinstance(error.value, IllegalStateError) and calls == []
    with pytest.raises(DriverClosedError):
        d.list_tables()
    d.close()


def test_value_model(driver):
    create_table(driver, "Plain")
    rows(driver, "INSERT INTO Plain ?", {"a": 1})
    assert type(rows(driver, "SELECT * FROM Plain")[0]).__name__ == "IonPyDict"
    assert rows(driver, "SELECT * FROM Plain", value_model="plain") == [{"a": 1}]
    driver.value_model = "plain"
    assert type(rows(driver, "SELECT * FROM Plain")[0]) is dict
    assert rows(driver, "SELECT * FROM Plain", value_model="ion")[0].ion_type == IonType.STRUCT
    with pytest.raises(ValueError):
        driver.value_model = "json"


def test_internal_members(drivers, memory_endpoint):
    d = drivers(endpoint_url=memory_endpoint, read_ahead=2)
    assert (d._ledger_name, d._read_ahead, d._executor, d._pool_limit) == ("ledger", 2, None, 10)
    assert d._retry_config is qldb_driver.DEFAULT_RETRY_CONFIG
    assert d._config.max_pool_connections == 10 and d._config.user_agent_extra == qldb_driver.SERVICE_DESCRIPTION
    assert d._client.endpoint == memory_endpoint
    started = time.monotonic()
    QldbDriver._retry_sleep(RetryConfig(custom_backoff=lambda *a: 30), 1, None, None)
    assert time.monotonic() - started >= 0.03
    d._is_closed = True
    with pytest.raises(DriverClosedError):
        d.execute_lambda(lambda ex: None)


def test_pool_timeout_assignment(drivers, memory_endpoint):
    d = drivers(endpoint_url=memory_endpoint)
    assert d._timeout == 0.001 and d._native.pool_timeout == 0.001
    d._timeout = 2
    assert d._native.pool_timeout == 2
    assert d.execute_lambda(lambda ex: "still works") == "still works"


def test_file_ledger_persists_across_processes(file_endpoint):
    from pyqldb.local import forget

    d = QldbDriver("durable", endpoint_url=file_endpoint)
    create_table(d, "Kept")
    rows(d, "INSERT INTO Kept ?", {"n": 1})
    d.close()
    del d
    assert forget(file_endpoint)
    # Another process opens the same directory and sees the data.
    script = (
        "from pyqldb.driver.qldb_driver import QldbDriver\n"
        f"d = QldbDriver('durable', endpoint_url={file_endpoint!r})\n"
        "print(d.execute_lambda(lambda ex: [int(r['n']) for r in ex.execute_statement('SELECT * FROM Kept')]))\n"
        "d.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[1]"


def test_retry_config():
    config = RetryConfig()
    assert (config.retry_limit, config.base, config.custom_backoff) == (4, 10, None)
    backoff = lambda attempt, error, transaction_id: 0  # noqa: E731
    assert (RetryConfig(2, 5, backoff).retry_limit, RetryConfig(2, 5, backoff).custom_backoff) == (2, backoff)
    for kwargs, message in [
        ({"base": -1}, "Base cannot be negative"),
        ({"retry_limit": -1}, "retry_limit cannot be negative"),
        ({"retry_limit": -1, "base": -1}, "Base cannot be negative"),
    ]:
        with pytest.raises(ValueError) as error:
            RetryConfig(**kwargs)
        assert str(error.value) == message
    for name in ("retry_limit", "base", "custom_backoff"):
        with pytest.raises(AttributeError):
            setattr(config, name, 1)


def test_per_call_retry_config_replaces_the_drivers(drivers, memory_endpoint):
    d = drivers(endpoint_url=memory_endpoint, retry_config=RetryConfig(retry_limit=4, custom_backoff=lambda *a: 0))
    other = drivers(endpoint_url=memory_endpoint)
    table = create_table(d)
    attempts = []

    def always_conflicting(executor):
        attempts.append(1)
        list(executor.execute_statement(f"SELECT * FROM {table}"))
        rows(other, f"INSERT INTO {table} ?", {"noise": len(attempts)})

    for retry_config, expected in [(RetryConfig(retry_limit=1, custom_backoff=lambda *a: 0), 2), (None, 5)]:
        attempts.clear()
        with pytest.raises(Exception) as error:
            d.execute_lambda(always_conflicting, retry_config)
        assert error.value.response["Error"]["Code"] == "OccConflictException"
        assert len(attempts) == expected


def test_a_forked_child_gets_its_own_runtime(drivers, memory_endpoint, server):
    """The parent's native runtime threads do not exist in a forked child: a driver made there works
    (embedded and over HTTP), and the parent's drivers keep working. (POSIX: the suite runs on Linux.)"""
    parent = drivers(endpoint_url=memory_endpoint)
    assert parent.execute_lambda(lambda ex: "before") == "before"
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only
        code = 1
        try:
            signal.alarm(20)  # a child stuck on the parent's (absent) runtime threads dies instead of hanging
            with QldbDriver("child", endpoint_url="memory://forked-child") as d:
                ok = d.execute_lambda(lambda ex: "child") == "child"
            # read_ahead runs a producer task on the runtime's worker threads (pages after the first):
            # only a fresh runtime has them.
            table = "forked_%d" % os.getpid()
            with QldbDriver("py-main", endpoint_url=server.endpoint, read_ahead=2) as d:
                d.execute_lambda(lambda ex: ex.execute_statement("CREATE TABLE " + table))
                d.execute_lambda(
                    lambda ex: ex.execute_statement("INSERT INTO " + table + " ?", [{"i": i} for i in range(450)])
                )
                count = d.execute_lambda(lambda ex: sum(1 for _ in ex.execute_statement("SELECT * FROM " + table)))
                ok = ok and count == 450
            code = 0 if ok else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert parent.execute_lambda(lambda ex: "after") == "after"


def test_verify_false_turns_certificate_checks_off_with_a_warning(caplog):
    caplog.set_level(logging.WARNING)
    QldbDriver("ledger", endpoint_url="https://localhost:1", verify=False).close()
    assert "certificate verification is disabled" in caplog.text
    caplog.clear()
    QldbDriver("ledger", endpoint_url="https://localhost:1").close()
    assert "certificate verification is disabled" not in caplog.text
