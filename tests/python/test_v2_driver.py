"""The pyqldb 2.x drivers (pyqldb-api.md §5, §8): ``QldbDriver`` serving both call styles (a positional int
``retry_limit`` selects 2.x; the 3.x signature and checks are unchanged), ``get_session()`` in both styles,
``PooledQldbDriver``'s pool (reuse checked with AbortTransaction, dead sessions dropped, a transaction left open
aborted, permits given back when StartSession fails, a waiting caller served when a session is returned,
``close()`` ending idle sessions and those returned later, threads), the module paths, and the botocore
``Config`` combination (in a subprocess with boto3/botocore from ``.venv/extras``)."""

import inspect
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest
from pyqldb import _native
from pyqldb.config.retry_config import RetryConfig
from pyqldb.driver.base_qldb_driver import BaseQldbDriver
from pyqldb.driver.pooled_qldb_driver import PooledQldbDriver
from pyqldb.driver.qldb_driver import QldbDriver
from pyqldb.errors import ClientError, DriverClosedError, SessionPoolEmptyError
from pyqldb.session.pooled_qldb_session import PooledQldbSession
from pyqldb.session.qldb_session import QldbSession
from support import unique

PACKAGE = Path(_native.__file__).resolve().parent
EXTRAS = Path(__file__).resolve().parents[2] / ".venv" / "extras"
RETRY_CONFIG_MESSAGE = "config must be of type pyqldb.config.retry_config.RetryConfig. Found: {}"


@pytest.fixture
def pooled(memory_endpoint):
    """``pooled(**kwargs)`` → a ``PooledQldbDriver`` on the test's embedded ledger whose client records the
    commands it sends (``driver._client.recorded_commands()``); closed after the test."""
    made = []

    def make(ledger="ledger", endpoint=memory_endpoint, **kwargs):
        d = PooledQldbDriver(ledger, endpoint_url=endpoint, **kwargs)
        d._client = _native.RawClient(endpoint, record_commands=True)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def run_python(code, extra_path):
    """Runs ``code`` in a fresh interpreter with ``extra_path`` first on sys.path; returns stdout."""
    prelude = f"import sys\nsys.path.insert(0, {str(extra_path)!r})\n"
    out = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def commands(driver):
    recorded = driver._client.recorded_commands()
    driver._client.clear_recorded_commands()
    return recorded


def test_module_paths_and_hierarchy():
    from pyqldb.communication.session_client import SessionClient
    from pyqldb.execution.executable import Executable
    from pyqldb.session.base_qldb_session import BaseQldbSession
    from pyqldb.transaction.transaction import Transaction

    for package in ("session", "transaction", "communication"):
        assert (PACKAGE / package / "__init__.py").read_text() == ""
    assert inspect.isabstract(BaseQldbDriver) and inspect.isabstract(BaseQldbSession)
    assert inspect.isabstract(Executable)
    assert issubclass(PooledQldbDriver, BaseQldbDriver) and issubclass(PooledQldbDriver, Executable)
    assert issubclass(QldbDriver, BaseQldbDriver)
    assert issubclass(QldbSession, BaseQldbSession) and issubclass(PooledQldbSession, BaseQldbSession)
    assert issubclass(BaseQldbSession, Executable)
    assert callable(Transaction.commit) and callable(SessionClient.fetch_page)


def test_qldb_driver_keeps_the_3x_signature():
    parameters = inspect.signature(QldbDriver).parameters
    assert list(parameters)[:2] == ["ledger_name", "retry_config"]
    assert list(parameters)[-1] == "max_concurrent_transactions"
    assert parameters["retry_config"].default is None
    assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in parameters.values())


@pytest.mark.parametrize(
    "args, kwargs, type_name",
    [((), {"retry_config": 3}, "int"), ((True,), {}, "bool"), (("3",), {}, "str"), ((3.0,), {}, "float")],
)
def test_only_a_positional_int_selects_2x(memory_endpoint, args, kwargs, type_name):
    with pytest.raises(TypeError) as error:
        QldbDriver("ledger", *args, endpoint_url=memory_endpoint, **kwargs)
    assert str(error.value) == RETRY_CONFIG_MESSAGE.format(type_name)


def test_2x_call_style(memory_endpoint):
    d = QldbDriver("ledger", 2, 3, endpoint_url=memory_endpoint)
    d._client = client = _native.RawClient(memory_endpoint, record_commands=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not deprecated in the 2.x call style
        assert (d.retry_limit, d.read_ahead) == (2, 3)
    assert d._retry_config.retry_limit == 2, "execute_lambda retries as RetryConfig(retry_limit)"
    session = d.get_session()
    assert type(session) is QldbSession and session._retry_limit == 2 and session._read_ahead == 3
    assert session.execute_statement("CREATE TABLE V2Style") is not None
    session.close()
    session.close()
    assert client.recorded_commands() == [
        "StartSession",
        "StartTransaction",
        "ExecuteStatement",
        "CommitTransaction",
        "EndSession",
    ]
    assert d.execute_lambda(
        lambda ex: [str(t) for t in ex.execute_statement("SELECT VALUE name FROM information_schema.user_tables")]
    )
    d.close()
    with pytest.raises(DriverClosedError):
        d.get_session()
    with pytest.raises(DriverClosedError):
        d.execute_lambda(lambda ex: None)


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        ((-1, 1), {"config": "x"}, ValueError, "Value for retry_limit cannot be negative."),
        ((0, 1), {"config": "x"}, ValueError, "Value for read_ahead must be 0 or 2 or greater."),
        (
            (0,),
            {"config": "x", "boto3_session": 1},
            TypeError,
            "config must be of type botocore.config.Config. Found: str",
        ),
        ((0,), {"boto3_session": 1}, TypeError, "boto3_session must be of type boto3.session.Session. Found: int"),
        ((4,), {"max_concurrent_transactions": 2}, TypeError, None),
        ((4, 0, None, None, None, None, None, None, None, None, None, 2), {}, TypeError, None),
    ],
)
def test_2x_call_style_checks(args, kwargs, error, message):
    with pytest.raises(error) as raised:
        QldbDriver("ledger", *args, **kwargs)
    if message is not None:
        assert str(raised.value) == message
    else:
        assert "max_concurrent_transactions" in str(raised.value)


def test_get_session_in_the_3x_call_style(drivers, memory_endpoint):
    d = drivers("ledger", endpoint_url=memory_endpoint, retry_config=RetryConfig(retry_limit=1))
    with d.get_session() as session:
        assert session._retry_limit == 1
        assert session.ledger_name == "ledger" and session.session_token and session.session_id is not None
    with drivers("ledger", endpoint_url=memory_endpoint).get_session() as session:
        assert session._retry_limit == 4
    with pytest.warns(DeprecationWarning):
        assert d.retry_limit == 1
    d.close()
    with pytest.raises(DriverClosedError):
        d.get_session()


def test_reused_session_is_checked_with_abort(pooled):
    d = pooled()
    first = d.get_session()
    token = first.session_token
    first.close()
    assert commands(d) == ["StartSession"]
    with d.get_session() as again:
        assert again.session_token == token
        assert isinstance(again, PooledQldbSession)
    assert commands(d) == ["AbortTransaction"], "one check per reuse, nothing sent on return"


def test_dead_idle_session_is_dropped(pooled):
    d = pooled()
    with d.get_session() as session:
        dead = session.session_token
        session._qldb_session._session.end_session()  # the server forgets it while it is idle
    commands(d)
    with d.get_session() as session:
        assert session.session_token != dead
    assert commands(d) == ["AbortTransaction", "StartSession"]
    assert d._pool.qsize() == 1


def test_transaction_left_open_is_aborted_on_reuse(pooled):
    d = pooled()
    table = unique()
    d.execute_statement(f"CREATE TABLE {table}")
    session = d.get_session()
    txn = session.start_transaction()
    txn.execute_statement(f"INSERT INTO {table} ?", {"left": "open"})
    session.close()  # returned with its transaction open
    rows = d.execute_statement(f"SELECT * FROM {table}")
    assert list(rows) == []


def test_start_session_failure_gives_the_permit_back(server):
    d = PooledQldbDriver("no-such-ledger", endpoint_url=server.endpoint, pool_limit=1, timeout=0)
    try:
        for _ in range(3):
            with pytest.raises(ClientError) as error:
                d.get_session()
            assert error.value.response["Error"]["Code"] == "BadRequestException"
        assert d._pool_permits_counter.value == 1
        with pytest.raises(ClientError):
            d.execute_statement("SELECT * FROM information_schema.user_tables")
        assert d._pool_permits_counter.value == 1
    finally:
        d.close()


def test_waiting_caller_gets_the_returned_session(pooled):
    d = pooled(pool_limit=1, timeout=10)
    held = d.get_session()
    token = held.session_token
    threading.Timer(0.2, held.close).start()
    started = time.monotonic()
    with d.get_session() as session:
        waited = time.monotonic() - started
        assert session.session_token == token
    assert 0.1 < waited < 5, waited


def test_close_ends_idle_sessions_and_those_returned_later(pooled, memory_endpoint):
    from pyqldb.communication.session_client import SessionClient

    d = pooled(pool_limit=2)
    idle, busy = d.get_session(), d.get_session()
    tokens = [idle.session_token, busy.session_token]
    idle.close()
    commands(d)
    d.close()
    assert commands(d) == ["EndSession"]
    with pytest.raises(DriverClosedError):
        d.get_session()
    assert busy.execute_lambda(lambda ex: "still usable until returned") == "still usable until returned"
    commands(d)
    busy.close()
    assert commands(d) == ["EndSession"], "not pooled again: ended"
    assert d._pool.qsize() == 0 and d._pool_permits_counter.value == 2
    for token in tokens:
        with pytest.raises(ClientError) as error:
            SessionClient("ledger", token, d._client, None).start_transaction()
        assert error.value.response["Error"]["Code"] == "InvalidSessionException"


def test_threads_share_the_pool(pooled):
    d = pooled(pool_limit=3, timeout=30)
    table = unique()
    d.execute_statement(f"CREATE TABLE {table}")
    lock = threading.Lock()
    state = {"inside": 0, "most": 0}
    errors = []

    def work(executor, n):
        with lock:
            state["inside"] += 1
            state["most"] = max(state["most"], state["inside"])
        try:
            time.sleep(0.02)
            list(executor.execute_statement(f"INSERT INTO {table} ?", {"n": n}))
        finally:
            with lock:
                state["inside"] -= 1

    def worker(n):
        try:
            d.execute_lambda(lambda ex: work(ex, n))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert state["most"] <= 3
    assert d._pool_permits_counter.value == 3 and d._pool_permits._value == 3
    assert d._pool.qsize() <= 3
    assert len(list(d.execute_statement(f"SELECT * FROM {table}"))) == 12


def test_pool_empty_message(pooled):
    d = pooled(pool_limit=1, timeout=0.05)
    with d.get_session():
        with pytest.raises(SessionPoolEmptyError) as error:
            d.execute_lambda(lambda ex: None)
    assert str(error.value) == (
        "Session pool is empty after waiting for 0.05 seconds. Please close existing sessions first before retrying."
    )


def test_default_config_without_botocore(pooled):
    from pyqldb.driver import _client, base_qldb_driver

    default = base_qldb_driver.DEFAULT_CONFIG
    assert isinstance(default, _client.DefaultConfig) and default is base_qldb_driver.DEFAULT_CONFIG
    assert (default.user_agent_extra, default.retries) == (base_qldb_driver.SERVICE_DESCRIPTION, {"max_attempts": 0})
    assert default.max_pool_connections == 10
    d = pooled()
    assert d._config.max_pool_connections == d._pool_limit == 10 and d._timeout == 30
    with pytest.raises(AttributeError):
        base_qldb_driver.NO_SUCH_NAME  # noqa: B018


def test_botocore_config_is_combined_not_modified():
    assert EXTRAS.is_dir(), "make test-python installs boto3/botocore into .venv/extras"
    out = run_python(
        """
from botocore.config import Config
from botocore.exceptions import ClientError
from pyqldb.driver import base_qldb_driver
from pyqldb.driver.pooled_qldb_driver import PooledQldbDriver
from pyqldb.driver.qldb_driver import QldbDriver

default = base_qldb_driver.DEFAULT_CONFIG
assert isinstance(default, Config) and default.retries == {"max_attempts": 0}
assert default.user_agent_extra == base_qldb_driver.SERVICE_DESCRIPTION
config = Config(max_pool_connections=3, user_agent_extra="mine")
d = PooledQldbDriver("l", endpoint_url="memory://v2-config", config=config)
assert d._config is not config and config.user_agent_extra == "mine" and config.retries is None
assert d._config.user_agent_extra == base_qldb_driver.SERVICE_DESCRIPTION and d._config.max_pool_connections == 3
assert d._pool_limit == 3
try:
    PooledQldbDriver("l", endpoint_url="memory://v2-config", config=config, pool_limit=4)
except ValueError as e:
    print(e)
try:
    d.execute_statement("SELECT * FROM NoSuchTable")
except ClientError as e:
    print(e.response["Error"]["Code"])
d.close()
q = QldbDriver("l", 1, config=config, endpoint_url="memory://v2-config")
assert q._config is not config and q._pool_limit == 3 and q.retry_limit == 1
with q.get_session() as s:
    assert s.ledger_name == "l"
q.close()
""",
        extra_path=EXTRAS,
    )
    assert out.splitlines() == [
        "The session pool limit given, 4, exceeds the limit set by the client, 3. Please lower the limit and retry.",
        "BadRequestException",
    ]
